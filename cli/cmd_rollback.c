#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "ops.h"
#include "remote.h"

static const char help[] =
	"usage: ledger rollback TARGET|CLUSTER --to SEQ -m REASON [--no-lock]\n\n"
	"Restore every key of a target (or of each target of a cluster that\n"
	"differs) to its value in the state at SEQ; keys that did not exist\n"
	"then are unset. One transaction appends a rollback entry per target\n"
	"(metadata rollback-to=SEQ) and, unless --no-lock, locks it so that\n"
	"an automated pipeline cannot undo the rollback until `ledger unlock`.\n"
	"Prints \"SEQ HASH\" per entry; nothing to restore writes nothing.\n\n"
	"  --to SEQ              the seq whose state to restore (required)\n"
	"  -m, --message REASON  why (required)\n"
	"  --no-lock             do not lock the target(s)\n"
	"  --meta K=V            metadata\n"
	"  --key FILE            signing key\n\n"
	"With --remote URL the same entries are built here, signed with your\n"
	"key, and appended by the server in one transaction too (a batch).\n";

/* A rollback through `ledger serve`, built from a checked copy of the
 * served ledger (struct cli_copy), never from the server's word for the
 * state at --to: a server cannot get this key to sign a value that no
 * key of the ledger signed. */
struct remote_rollback {
	struct cli_copy *copy;
	char **targets;
	size_t n;
	uint64_t to;
	const struct cli_write_opts *w;
};

/* Target i's rollback and its lock (unless --no-lock or it is locked
 * already), the entries of a local rollback, from the copy brought to
 * the head they will be sealed on; the server's now is not used. */
static int plan_rollback(size_t i, uint64_t head,
			 const uint8_t hash[LDG_HASH_BYTES],
			 const struct ldg_values *server_now, void *arg,
			 struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	struct remote_rollback *a = arg;
	struct ldg_values then, now;
	struct ldg_read *r;
	int rc;

	(void)server_now;
	*n = 0;
	rc = i ? 0 : cli_copy_sync(a->copy, head, hash, err);
	if (!rc)
		rc = ldg_read_begin(cli_copy_store(a->copy), &r, err);
	if (rc)
		return rc;
	rc = ldg_state_get(r, a->targets[i], a->to, &then);
	if (!rc) {
		rc = ldg_state_get(r, a->targets[i], 0, &now);
		if (rc)
			ldg_values_free(&then);
	}
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc, "cannot read %s in the copy",
				   a->targets[i]);
	rc = ldg_draft_rollback(a->targets[i], &then, &now, a->to,
				a->w->reason, a->w->meta, a->w->n_meta, &out[0],
				err);
	if (!rc && out[0]) {
		*n = 1;
		if (!a->w->no_lock && !now.lock_seq)
			rc = ldg_draft_lock(&now, a->targets[i], a->w->reason,
					    true, &out[1], err);
		if (!rc && out[1])
			*n = 2;
	}
	ldg_values_free(&now);
	ldg_values_free(&then);
	return rc;
}

/* The rollback through `ledger serve`, as one batch: every target's
 * rollback and lock built on one head and appended in one transaction,
 * as locally (409: all rebuilt on the new head, the copy brought up to
 * it). */
static int remote_rollback(struct cli_ctx *c, struct cli_write_opts *w,
			   const char *what, uint64_t to,
			   struct ldg_result *res)
{
	struct remote_rollback a = { .to = to, .w = w };
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	if (to < 1)
		return cli_usage(c, "--to needs a seq >= 1");
	if (strchr(what, '/') ? ldg_check_target(what, &err)
			      : ldg_check_cluster(what, &err))
		return cli_fail(c, &err);
	rc = cli_copy_open(c, &a.copy, &err);
	if (!rc)
		rc = cli_copy_sync(a.copy, 0, NULL, &err);
	if (!rc)
		rc = ldg_read_begin(cli_copy_store(a.copy), &r, &err);
	if (!rc) {
		rc = ldg_rollback_targets(r, what, to, &a.targets, &a.n, &err);
		ldg_read_end(r);
	}
	if (rc)
		rc = cli_fail(c, &err);
	else
		rc = cli_remote_write_many(c, w, (const char *const *)a.targets,
					   a.n, plan_rollback, &a, res);
	ldg_strv_free(a.targets, a.n);
	cli_copy_close(a.copy);
	return rc;
}

int cmd_rollback(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ "to", required_argument, NULL, 't' },
		{ "no-lock", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	const char *to_arg = NULL;
	uint64_t to;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
		if (opt == 't') {
			to_arg = optarg;
		} else if (opt == 'n') {
			w.no_lock = true;
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one TARGET or CLUSTER");
	if (!to_arg)
		return cli_usage(c, "missing --to SEQ");
	rc = cli_parse_seq(c, "--to", to_arg, &to);
	if (rc)
		return rc;
	if (c->remote) {
		rc = remote_rollback(c, &w, argv[optind], to, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			return rc;
		if (ldg_rollback(s, k, argv[optind], to, w.reason, w.meta,
				 w.n_meta, w.no_lock, &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	if (res.n == 0)
		fprintf(stderr, "%s is already as it was at seq %llu; nothing "
			"written\n", argv[optind], (unsigned long long)to);
	for (size_t i = 0; i < res.n; i++)
		fprintf(stderr, "%s %s\n",
			res.v[i].kind == LDG_KIND_LOCK ? "locked"
						       : "rolled back",
			res.v[i].target);
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}
