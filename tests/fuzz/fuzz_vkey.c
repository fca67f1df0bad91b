/* libFuzzer: the signed-note key parser (verifier keys). Promise: what
 * parses is the one text form of its key (lower-case key id, 44 base64
 * characters), followed by nothing or a single \n. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
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
		size_t n;
		ldg_vkey_format(&k, again);
		n = strlen(again);
		/* a key has one text form: what parsed is exactly the
		 * formatted key, with at most a single \n (format.md 7) */
		if (strncmp(again, text, n) ||
		    (text[n] && strcmp(text + n, "\n")))
			abort();
	}
	free(text);
	return 0;
}
