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

static void one(json_t *arr, const char *target, const char *key,
		const char *from, const char *to)
{
	if (arr) {
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s?, s:s?}",
						     "target", target, "key",
						     key, "from", from, "to",
						     to));
		return;
	}
	printf("%s %s: %s -> %s\n", target, key, from ? from : "(unset)",
	       to ? to : "(unset)");
}

static void diff_target(json_t *arr, const char *t, const struct ldg_values *a,
			const struct ldg_values *b)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct ldg_value *o = ldg_values_find(b, a->v[i].key);
		if (!o || strcmp(o->value, a->v[i].value))
			one(arr, t, a->v[i].key, a->v[i].value,
			    o ? o->value : NULL);
	}
	for (size_t i = 0; i < b->n; i++)
		if (!ldg_values_find(a, b->v[i].key))
			one(arr, t, b->v[i].key, NULL, b->v[i].value);
	if (!a->lock_seq != !b->lock_seq)
		one(arr, t, "[lock]", a->lock_seq ? "locked" : NULL,
		    b->lock_seq ? "locked" : NULL);
}

int cmd_diff(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	char prefix[LDG_TARGET_MAX + 2] = "";
	char **targets = NULL;
	size_t n = 0;
	uint64_t sa, sb;
	json_t *arr = NULL;
	bool json = false;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = getopt_long(argc, argv, ":hL:", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'j') {
			json = true;
		} else {
			rc = cli_common_opt(c, opt, argv);
			if (rc >= 0)
				return rc;
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		return cli_usage(c, "expected SEQ_A SEQ_B [CLUSTER[/RELEASE]]");
	rc = cli_parse_seq(c, "SEQ_A", argv[optind], &sa);
	if (!rc)
		rc = cli_parse_seq(c, "SEQ_B", argv[optind + 1], &sb);
	if (rc)
		return rc;
	if (argc - optind == 3) {
		const char *scope = argv[optind + 2];
		rc = cli_check_scope_arg(c, scope);
		if (rc)
			return rc;
		snprintf(prefix, sizeof(prefix), "%s%s", scope,
			 strchr(scope, '/') ? "" : "/");
	}
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = cli_check_at(c, r, sa > sb ? sa : sb);
	if (rc)
		goto out_close;
	if (ldg_targets_list(r, prefix[0] ? prefix : NULL, sa > sb ? sa : sb,
			     &targets, &n)) {
		ldg_err_set(&err, -EIO, "cannot list targets");
		rc = cli_fail(c, &err);
		goto out_close;
	}
	arr = json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		struct ldg_values a, b;
		if (strchr(prefix, '/') && prefix[strlen(prefix) - 1] != '/' &&
		    strcmp(targets[i], prefix))
			continue;
		if (ldg_state_get(r, targets[i], sa, &a))
			continue;
		if (ldg_state_get(r, targets[i], sb, &b) == 0) {
			diff_target(arr, targets[i], &a, &b);
			ldg_values_free(&b);
		}
		ldg_values_free(&a);
	}
	ldg_strv_free(targets, n);
	if (json) {
		char *out;
		size_t len;
		rc = ldg_json_out(arr, &out, &len) ? CLI_BAD
						   : cli_emit(out, len);
	} else {
		rc = fflush(stdout) ? CLI_BAD : CLI_OK;
	}
out_close:
	cli_close_read(s, r);
	return rc;
}
