/* libFuzzer: the strict entry decoder and the signature check, and the
 * batch splitter on the same bytes. Whatever decodes must re-encode to
 * the same bytes; whatever splits must be items inside the input that,
 * with their headers, cover it. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[LDG_PK_BYTES] = { 1 };
	struct ldg_entry *e;
	uint8_t *again;
	size_t len;

	if (ldg_entry_decode(data, size, &e, NULL) == 0) {
		if (ldg_entry_encode(e, true, &again, &len) || len != size ||
		    memcmp(again, data, size))
			abort(); /* accepted bytes that are not canonical */
		free(again);
		ldg_entry_free(e);
	}
	(void)!ldg_entry_verify_sig(data, size, "example.com/fuzz", pk);
	{
		const uint8_t *items[8];
		size_t lens[8], n = 99, sum = 0;

		if (ldg_batch_split(data, size, 8, items, lens, &n, NULL) ==
		    0) {
			for (size_t i = 0; i < n; i++) {
				if (items[i] < data ||
				    items[i] + lens[i] > data + size ||
				    lens[i] > LDG_ENTRY_MAX)
					abort(); /* an item outside the input */
				sum += lens[i];
			}
			if (n > 8 || sum >= size)
				abort(); /* more than max, or no room for headers */
		} else if (n != 0) {
			abort();
		}
	}
	return 0;
}
