#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "render.h"

static const char help[] =
	"usage: ledger diff SEQ_A SEQ_B [CLUSTER[/RELEASE]] [--json]\n\n"
	"Compare the state after SEQ_A with the state after SEQ_B, one line\n"
	"per changed key: \"TARGET KEY: OLD -> NEW\" ((unset) for a missing\n"
	"value). Locks are listed as the key [lock].\n\n"
	"  --json   an array of {\"target\", \"key\", \"from\", \"to\"}\n";

int cmd_diff(int argc, char **argv, struct cli_ctx *c)
{
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	const char *scope = NULL;
	uint64_t sa, sb;
	bool json = false;
	char *out;
	size_t len;
	int rc;

	rc = cli_json_only(c, argc, argv, help, &json);
	if (rc >= 0)
		return rc;
	if (argc - optind < 2 || argc - optind > 3)
		return cli_usage(c, "expected SEQ_A SEQ_B [CLUSTER[/RELEASE]]");
	rc = cli_parse_seq(c, "SEQ_A", argv[optind], &sa);
	if (!rc)
		rc = cli_parse_seq(c, "SEQ_B", argv[optind + 1], &sb);
	if (rc)
		return rc;
	if (argc - optind == 3) {
		scope = argv[optind + 2];
		rc = cli_check_scope_arg(c, scope);
		if (rc)
			return rc;
	}
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = cli_check_at(c, r, sa > sb ? sa : sb);
	if (!rc) {
		if (rnd_diff(r, sa, sb, scope, json, &out, &len, &err))
			rc = cli_fail(c, &err);
		else
			rc = cli_emit(out, len);
	}
	cli_close_read(s, r);
	return rc;
}
