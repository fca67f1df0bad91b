#include <stdio.h>

#include "cli.h"
#include "ops.h"

static const char help[] =
	"usage: ledger reindex\n\n"
	"Rebuild every index (state, history, versions, Merkle hashes,\n"
	"keyring) from the entries, in one transaction. The entries are only\n"
	"read. Use it when `ledger verify` reports an index that does not\n"
	"match a replay.\n";

int cmd_reindex(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	uint64_t n = 0;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	rc = cli_open(c, &s);
	if (rc)
		return rc;
	if (ldg_reindex(s, &n, &err))
		rc = cli_fail(c, &err);
	else
		printf("reindexed %llu entries\n", (unsigned long long)n);
	ldg_store_close(s);
	return rc;
}
