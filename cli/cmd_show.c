#include "cli.h"
#include "render.h"

static const char help[] =
	"usage: ledger show SEQ [--json]\n\n"
	"Print one entry: seq, hash, prev, time, signer, kind, target,\n"
	"reason, changes, metadata and signature.\n\n"
	"  --json   the same as a JSON object\n";

int cmd_show(int argc, char **argv, struct cli_ctx *c)
{
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	bool json = false;
	uint64_t seq;
	char *out;
	size_t len;
	int rc;

	rc = cli_json_only(c, argc, argv, help, &json);
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one SEQ");
	rc = cli_parse_seq(c, "SEQ", argv[optind], &seq);
	if (rc)
		return rc;
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = cli_check_at(c, r, seq);
	if (rc == 0) {
		if (rnd_show(r, seq, json, &out, &len, &err))
			rc = cli_fail(c, &err);
		else
			rc = cli_emit(out, len);
	}
	cli_close_read(s, r);
	return rc;
}
