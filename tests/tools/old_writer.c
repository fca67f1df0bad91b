/*
 * old_writer.c - appends a `set` entry the way an older version of ledger
 * could have: through ldg_append() with a hand-built draft, so only the
 * format's rules (docs/format.md section 4) and authorisation apply, not
 * what today's writers refuse on top (section 14: display controls in
 * values and reasons). For tests of what readers do with such ledgers.
 *
 *   old_writer DIR KEYFILE TARGET KEY=VALUE REASON [MKEY=MVALUE]
 *
 * Prints "SEQ" of the new entry. Exit 0 on success, 2 on any error.
 */
#include <stdio.h>
#include <string.h>

#include "ops.h"

static int split(char *kv, char **k, char **v)
{
	char *eq = strchr(kv, '=');

	if (!eq)
		return -1;
	*eq = '\0';
	*k = kv;
	*v = eq + 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	struct ldg_entry *e;
	char *key, *val, *mkey, *mval;
	int rc = 2;

	if ((argc != 6 && argc != 7) || split(argv[4], &key, &val) ||
	    (argc == 7 && split(argv[6], &mkey, &mval))) {
		fprintf(stderr, "usage: old_writer DIR KEYFILE TARGET "
				"KEY=VALUE REASON [MKEY=MVALUE]\n");
		return 2;
	}
	if (ldg_crypto_init())
		return 2;
	e = ldg_entry_new(LDG_KIND_SET, argv[3], argv[5]);
	if (!e || ldg_entry_add_change(e, key, val) ||
	    (argc == 7 && ldg_entry_add_meta(e, mkey, mval))) {
		fprintf(stderr, "old_writer: cannot build the entry\n");
		goto out;
	}
	if (ldg_signer_load(argv[2], &k, &err) ||
	    ldg_store_open(argv[1], 0, &s, &err) ||
	    ldg_append(s, k, e, &res, &err)) {
		fprintf(stderr, "old_writer: %s\n", err.msg);
		goto out;
	}
	printf("%llu\n", (unsigned long long)res.v[0].seq);
	rc = 0;
out:
	ldg_result_free(&res);
	ldg_entry_free(e);
	ldg_store_close(s);
	ldg_signer_free(k);
	return rc;
}
