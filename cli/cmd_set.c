#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "remote.h"

static const char help[] =
	"usage: ledger set TARGET KEY=VALUE|KEY:=JSON... -m REASON "
	"[--meta K=V]...\n"
	"                  [--force] [--emergency]\n\n"
	"Record new values for a target (CLUSTER/RELEASE), e.g.\n"
	"  ledger set staging/api image.tag=3f2a9c1 -m \"PR #42\"\n"
	"KEY=VALUE is a string (like helm --set-string); KEY:=JSON a typed\n"
	"value (like helm --set-json): true, false, null, an integer, a\n"
	"number, or an array of those and strings, e.g. enabled:=false\n"
	"replicas:=3 'hosts:=[\"a\",\"b\"]'. Objects are refused: use dotted\n"
	"keys (a.b:=1). A string that looks typed (false, 3, null) is stored\n"
	"as a string with a hint on stderr.\n"
	"Prints \"SEQ HASH\" of the new entry once it is durably committed.\n"
	"Values equal to the current ones are not recorded; if nothing\n"
	"changes, nothing is written (exit 0).\n"
	"Under a policy with approvals (ledger policy show TARGET) the entry\n"
	"is a proposal: a second line says it is pending and what it waits\n"
	"for, and it takes effect when approved (ledger approve SEQ).\n\n"
	"  -m, --message REASON  why (required)\n"
	"  --meta K=V            metadata, e.g. pr=42, git.sha=..., ci.run=...\n"
	"  --force               pass a lock (recorded as forced=true)\n"
	"  --emergency           pass a freeze or a soak: recorded as\n"
	"                        emergency=true, and needs an approval by\n"
	"                        another key (ledger approve) to take effect\n"
	"  --key FILE            signing key (default: $LEDGER_KEY, or the\n"
	"                        only key in $XDG_CONFIG_HOME/ledger/keys)\n"
	"  --ledger DIR          the ledger (default: $LEDGER_DIR)\n\n"
	"Exit: 0 written (or proposed) or nothing to do; 1 not authorised,\n"
	"target locked, frozen or not soaked; 2 bad input or environment.\n";

struct remote_set {
	const char *target;
	const struct ldg_kv *kv;
	size_t n;
	const struct cli_write_opts *w;
};

static int draft(const struct ldg_values *now, void *arg,
		 struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_set *a = arg;

	return ldg_draft_set(now, a->target, a->kv, a->n, a->w->reason,
			     a->w->meta, a->w->n_meta, a->w->flags, out, err);
}

/* The same entry planned on a checked copy, with the evidence of the
 * soak its target's policy asks for (cli_remote_write()). */
static int plan(struct ldg_read *r, const uint8_t signer[LDG_KEYID_BYTES],
		void *arg, struct ldg_entry **out, size_t *n,
		struct ldg_err *err)
{
	struct remote_set *a = arg;
	struct ldg_values now;
	struct ldg_gov g;
	int rc;

	*n = 0;
	rc = ldg_state_get(r, a->target, 0, &now);
	if (rc)
		return ldg_err_set(err, rc, "cannot read %s in the copy",
				   a->target);
	rc = draft(&now, arg, &out[0], err);
	ldg_values_free(&now);
	if (rc || !out[0])
		return rc;
	*n = 1;
	memcpy(out[0]->signer, signer, LDG_KEYID_BYTES);
	rc = ldg_gov_load(r, 0, &g, err);
	if (!rc)
		rc = ldg_draft_evidence(r, &g, out[0], err);
	ldg_gov_free(&g);
	return rc;
}

int cmd_set(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ "force", no_argument, NULL, 'f' },
		{ "emergency", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	struct ldg_kv *kv = NULL;
	const char *target;
	size_t n;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
		if (opt == 'f')
			w.flags |= LDG_WRITE_FORCE;
		else if (opt == 'e')
			w.flags |= LDG_WRITE_EMERGENCY;
	}
	if (rc >= 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage(c, "expected TARGET KEY=VALUE|KEY:=JSON...");
	target = argv[optind++];
	n = (size_t)(argc - optind);
	kv = calloc(n, sizeof(*kv));
	if (!kv)
		return cli_usage(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (cli_parse_change(argv[optind + (int)i], &kv[i], &err)) {
			rc = cli_fail(c, &err);
			goto out_free;
		}
	}
	if (c->remote) {
		struct remote_set a = { target, kv, n, &w };
		rc = cli_remote_write(c, &w, target, draft, plan, &a, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			goto out_free;
		if (ldg_set(s, k, target, kv, n, w.reason, w.meta, w.n_meta,
			    w.flags, &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	if (res.n == 0)
		fprintf(stderr,
			"%s already has these values; nothing "
			"written\n",
			target);
	cli_print_result(&res);
	if (s)
		cli_print_pending(s, &res);
	else
		cli_remote_pending(c, &res);
	cli_print_hints(kv, n);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	cli_changes_free(kv, n);
	return rc;
}
