/*
 * cpat - a checkpoint of an earlier size, for `ledger verify --since`
 * benchmarks: `cpat DIR KEYFILE SIZE` prints the checkpoint of the first
 * SIZE entries of the ledger in DIR (their root from the stored tree),
 * signed by KEYFILE, as `ledger checkpoint` would have printed it when
 * the ledger had SIZE entries.
 */
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "store.h"

int main(int argc, char **argv)
{
	uint8_t root[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	struct ldg_read *r = NULL;
	unsigned long long size;
	char *text = NULL;
	int rc;

	if (argc != 4 || !(size = strtoull(argv[3], NULL, 10))) {
		fprintf(stderr, "usage: cpat DIR KEYFILE SIZE\n");
		return 2;
	}
	if (ldg_crypto_init() || ldg_signer_load(argv[2], &k, &err) ||
	    ldg_store_open(argv[1], 0, &s, &err) ||
	    ldg_read_begin(s, &r, &err)) {
		fprintf(stderr, "cpat: %s\n", err.msg);
		return 2;
	}
	rc = ldg_merkle_root_at(r, size, root);
	if (!rc)
		rc = ldg_checkpoint_make(ldg_store_origin(s), size, root, k,
					 &text, &err);
	ldg_read_end(r);
	ldg_store_close(s);
	ldg_signer_free(k);
	if (rc) {
		fprintf(stderr, "cpat: no checkpoint of %llu entries: %s\n",
			size, err.msg[0] ? err.msg : "no such tree");
		return 2;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}
