#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "render.h"

static const char help[] =
	"usage: ledger state [CLUSTER[/RELEASE]] [--at SEQ] [--json]\n\n"
	"Print the values of every target (or of one cluster or target), one\n"
	"\"TARGET KEY=VALUE\" line each, and a \"TARGET [locked since seq N:\n"
	"REASON]\" line for each locked target.\n\n"
	"  --at SEQ   the state after entries 1..SEQ (default: the head)\n"
	"  --json     {\"at\": SEQ, \"targets\": {TARGET: {\"values\": {...},\n"
	"             \"locked\": {\"seq\", \"reason\"} or null}}}\n";

int cmd_state(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	const char *scope = NULL;
	uint64_t at = 0;
	bool json = false;
	char *out;
	size_t len;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'a') {
			rc = cli_parse_seq(c, "--at", optarg, &at);
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
	rc = cli_check_at(c, r, at);
	if (!rc) {
		if (rnd_state(r, scope, at, json, &out, &len, &err))
			rc = cli_fail(c, &err);
		else
			rc = cli_emit(out, len);
	}
	cli_close_read(s, r);
	return rc;
}
