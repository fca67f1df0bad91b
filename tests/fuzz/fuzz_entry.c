/* libFuzzer: the strict entry decoder and the signature check. Whatever
 * decodes must re-encode to the same bytes. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[LDG_PK_BYTES] = { 1 };
	struct ldg_entry *e;
	uint8_t *again;
	size_t len;

	if (ldg_entry_decode(data, size, &e, NULL) == 0) {
		if (ldg_entry_encode(e, true, &again, &len) ||
		    len != size || memcmp(again, data, size))
			abort(); /* accepted bytes that are not canonical */
		free(again);
		ldg_entry_free(e);
	}
	(void)!ldg_entry_verify_sig(data, size, "example.com/fuzz", pk);
	return 0;
}
