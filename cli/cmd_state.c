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

static const char *lock_reason(struct ldg_read *r, uint64_t seq,
			       struct ldg_entry **hold)
{
	if (ldg_entry_read(r, seq, hold, NULL))
		return "?";
	return (*hold)->reason;
}

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
	char prefix[LDG_TARGET_MAX + 2] = "";
	char **targets = NULL;
	size_t n = 0;
	uint64_t at = 0, head;
	json_t *all = NULL;
	bool json = false;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = getopt_long(argc, argv, ":hL:", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'a') {
			rc = cli_parse_seq(c, "--at", optarg, &at);
			if (rc)
				return rc;
		} else if (opt == 'j') {
			json = true;
		} else {
			rc = cli_common_opt(c, opt, argv);
			if (rc >= 0)
				return rc;
		}
	}
	if (argc - optind > 1)
		return cli_usage(c, "expected at most one CLUSTER[/RELEASE]");
	if (argc - optind == 1) {
		rc = cli_check_scope_arg(c, argv[optind]);
		if (rc)
			return rc;
		snprintf(prefix, sizeof(prefix), "%s%s", argv[optind],
			 strchr(argv[optind], '/') ? "" : "/");
	}
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = cli_check_at(c, r, at);
	if (rc)
		goto out_close;
	ldg_head(r, &head, NULL);
	if (ldg_targets_list(r, prefix[0] ? prefix : NULL, at, &targets, &n)) {
		ldg_err_set(&err, -EIO, "cannot list targets");
		rc = cli_fail(c, &err);
		goto out_close;
	}
	all = json_object();
	rc = CLI_OK;
	for (size_t i = 0; i < n && rc == CLI_OK; i++) {
		struct ldg_values v;
		struct ldg_entry *hold = NULL;
		json_t *vals, *lock = json_null();

		if (strchr(prefix, '/') && prefix[strlen(prefix) - 1] != '/' &&
		    strcmp(targets[i], prefix))
			continue; /* a longer release name */
		if (ldg_state_get(r, targets[i], at, &v)) {
			ldg_err_set(&err, -EIO, "cannot read state of %s",
				    targets[i]);
			rc = cli_fail(c, &err);
			break;
		}
		if (v.n == 0 && !v.lock_seq) {
			ldg_values_free(&v);
			continue;
		}
		vals = json_object();
		for (size_t k = 0; k < v.n; k++) {
			if (json)
				json_object_set_new(vals, v.v[k].key,
						    json_string(v.v[k].value));
			else
				printf("%s %s=%s\n", targets[i], v.v[k].key,
				       v.v[k].value);
		}
		if (v.lock_seq) {
			const char *why = lock_reason(r, v.lock_seq, &hold);
			if (json)
				lock = json_pack("{s:I, s:s}", "seq",
						 (json_int_t)v.lock_seq,
						 "reason", why);
			else
				printf("%s [locked since seq %llu: %s]\n",
				       targets[i],
				       (unsigned long long)v.lock_seq, why);
			ldg_entry_free(hold);
		}
		json_object_set_new(all, targets[i],
				    json_pack("{s:o, s:o}", "values", vals,
					      "locked", lock));
		ldg_values_free(&v);
	}
	if (rc == CLI_OK && json) {
		char *out;
		size_t len;
		if (ldg_json_out(json_pack("{s:I, s:O}", "at",
					   (json_int_t)(at ? at : head),
					   "targets", all),
				 &out, &len))
			rc = CLI_BAD;
		else
			rc = cli_emit(out, len);
	} else if (rc == CLI_OK && fflush(stdout)) {
		rc = CLI_BAD;
	}
	json_decref(all);
	ldg_strv_free(targets, n);
out_close:
	cli_close_read(s, r);
	return rc;
}
