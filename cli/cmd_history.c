#include <errno.h>

#include "cli.h"
#include "names.h"
#include "render.h"

static const char help[] =
	"usage: ledger history TARGET|CLUSTER [-n N] [--before SEQ] [--json]\n\n"
	"A target's revisions, oldest first, with the columns `helm history`\n"
	"users know: REVISION (the seq), UPDATED, STATUS (set, unset,\n"
	"rollback, lock, unlock, deployed, failed; a revision an apply\n"
	"deployed reads e.g. \"set, deployed\"; a forced one \"set (forced)\"),\n"
	"CHANGES, AUTHOR (the signing key) and DESCRIPTION (the reason).\n"
	"For a CLUSTER: every entry of its releases, and its own (the auto\n"
	"releases' applies), with a TARGET column. Exit 1 when there is no\n"
	"history.\n\n"
	"  -n N           only the newest N entries (still oldest first)\n"
	"  --before SEQ   only entries older than SEQ: with -n, the page\n"
	"                 before one that starts at SEQ (empty past the\n"
	"                 first entry, exit 0)\n"
	"  --json         an array of entries as `ledger show --json` prints\n"
	"                 them\n";

int cmd_history(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "before", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	uint64_t max = 0, before = 0;
	bool json = false;
	char *out;
	size_t len;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:n:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'j') {
			json = true;
		} else if (opt == 'n') {
			rc = cli_parse_seq(c, "-n", optarg, &max);
			if (rc)
				return rc;
		} else if (opt == 'b') {
			rc = cli_parse_seq(c, "--before", optarg, &before);
			if (rc)
				return rc;
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one TARGET or CLUSTER");
	rc = cli_check_scope_arg(c, argv[optind]);
	if (rc)
		return rc;
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = rnd_history_page(r, argv[optind], before, (size_t)max, json, &out,
			      &len, &err);
	if (rc == -ENOENT) {
		cli_fail(c, &err);
		rc = CLI_NO; /* no history: the answer is no */
	} else if (rc) {
		rc = cli_fail(c, &err);
	} else {
		rc = cli_emit(out, len);
	}
	cli_close_read(s, r);
	return rc;
}
