/* libFuzzer: the signed-note key parser (verifier keys). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ldg_vkey k;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ldg_vkey_parse(text, &k, NULL) == 0) {
		char again[LDG_VKEY_TEXT_MAX];
		ldg_vkey_format(&k, again);
		if (strncmp(again, text, strlen(again)))
			abort(); /* parsed, but formats differently */
	}
	free(text);
	return 0;
}
