/* libFuzzer: the checkpoint (signed note) parser and verifier. */
#include <sodium.h>
#include <string.h>

#include "checkpoint.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ldg_checkpoint cp;
	struct ldg_vkey k = { .name = "fuzz" };

	if (ldg_checkpoint_parse((const char *)data, size, &cp, NULL) == 0) {
		if (cp.n_sigs) {
			memcpy(k.name, cp.sigs[0].name, sizeof(k.name));
			memcpy(k.keyid, cp.sigs[0].keyid, sizeof(k.keyid));
		}
		(void)!ldg_checkpoint_verify(&cp, &k);
	}
	return 0;
}
