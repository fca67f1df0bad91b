#include <stdlib.h>

#include "cli.h"
#include "render.h"

static const char help[] =
	"usage: ledger log [CLUSTER[/RELEASE]] [-n N] [--json]\n\n"
	"List entries, newest first: SEQ UPDATED STATUS TARGET CHANGES AUTHOR\n"
	"DESCRIPTION. With a cluster or target, only its entries.\n\n"
	"  -n N     at most N entries\n"
	"  --json   an array of entries as `ledger show --json` prints them\n";

int cmd_log(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	const char *scope = NULL;
	uint64_t max = 0;
	bool json = false;
	char *out;
	size_t len;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:n:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'n') {
			rc = cli_parse_seq(c, "-n", optarg, &max);
			if (rc)
				return rc;
		} else if (opt == 'j') {
			json = true;
		}
	}
	if (rc >= 0)
		return rc;
	rc = cli_scope_arg(c, argc, argv, &scope);
	if (rc)
		return rc;
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	if (rnd_log(r, scope, (size_t)max, json, &out, &len, &err))
		rc = cli_fail(c, &err);
	else
		rc = cli_emit(out, len);
	cli_close_read(s, r);
	return rc;
}
