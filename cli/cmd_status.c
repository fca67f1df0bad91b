#include <stdlib.h>

#include "cli.h"
#include "render.h"

static const char help[] =
	"usage: ledger status [CLUSTER[/RELEASE]] [--json]\n\n"
	"What each release should run and where it stands: its values, who\n"
	"set them, when and why, its lock, and the applier's last outcome\n"
	"(\"applied at seq N\", \"..., behind\" when the ledger changed since,\n"
	"\"FAILED at seq N\", or \"never applied\").\n\n"
	"  --json   {\"head\", \"releases\": [...]} as GET /api/v1/releases\n";

int cmd_status(int argc, char **argv, struct cli_ctx *c)
{
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	const char *scope = NULL;
	bool json = false;
	char *out;
	size_t len;
	int rc;

	rc = cli_json_only(c, argc, argv, help, &json);
	if (rc >= 0)
		return rc;
	rc = cli_scope_arg(c, argc, argv, &scope);
	if (rc)
		return rc;
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	if (rnd_releases(r, scope, (int64_t)(ldg_now_ns() / 1000000000u), json,
			 &out, &len, &err))
		rc = cli_fail(c, &err);
	else
		rc = cli_emit(out, len);
	cli_close_read(s, r);
	return rc;
}
