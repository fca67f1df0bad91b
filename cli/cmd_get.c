#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "render.h"

static const char help[] =
	"usage: ledger get TARGET [KEY] [--at SEQ] [--json]\n\n"
	"Print a target's values: with KEY, the value alone (a typed value as\n"
	"its JSON text); without, one KEY=VALUE line per key, KEY:=JSON for a\n"
	"typed value. --at SEQ answers for the state after entries 1..SEQ.\n"
	"Exit 1 when the key (or the target) has no value.\n\n"
	"  --at SEQ   as of this seq (default: the head)\n"
	"  --json     {\"target\", \"at\", \"values\": {KEY: VALUE}}, each VALUE\n"
	"             a JSON string or, typed, a JSON value of its type\n";

int cmd_get(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_values vals = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	const char *target, *key = NULL;
	uint64_t at = 0, head;
	bool json = false;
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
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage(c, "expected TARGET [KEY]");
	target = argv[optind];
	if (argc - optind == 2)
		key = argv[optind + 1];
	if (ldg_check_target(target, &err) || (key && ldg_check_key(key, &err)))
		return cli_fail(c, &err);
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = cli_check_at(c, r, at);
	if (rc)
		goto out_close;
	ldg_head(r, &head, NULL);
	if (ldg_state_get(r, target, at, &vals)) {
		ldg_err_set(&err, -EIO, "cannot read state of %s", target);
		rc = cli_fail(c, &err);
		goto out_close;
	}
	if (key && !ldg_values_find(&vals, key)) {
		cli_error("get: %s has no key %s%s", target, key,
			  at ? " at that seq" : "");
		rc = CLI_NO;
		goto out_vals;
	}
	if (!key && vals.n == 0) {
		cli_error("get: %s has no values%s", target,
			  at ? " at that seq" : "");
		rc = CLI_NO;
		goto out_vals;
	}
	if (json) {
		char *out;
		size_t len;
		rc = rnd_json_out(rnd_get_json(target, at ? at : head, &vals,
					       key),
				  &out, &len);
		rc = rc ? CLI_BAD : cli_emit(out, len);
		goto out_vals;
	}
	for (size_t i = 0; i < vals.n; i++) {
		if (key && !strcmp(key, vals.v[i].key))
			printf("%s\n", vals.v[i].value);
		else if (!key)
			printf("%s%s%s\n", vals.v[i].key,
			       rnd_assign(vals.v[i].type), vals.v[i].value);
	}
	rc = CLI_OK; /* main() reports a stdout that could not be written */
out_vals:
	ldg_values_free(&vals);
out_close:
	cli_close_read(s, r);
	return rc;
}
