#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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
	"With --remote URL each target's rollback and its lock are appends\n"
	"of their own, not one transaction (a cluster: target by target, in\n"
	"name order): if one cannot be recorded, what was appended stands,\n"
	"is printed, and the command exits non-zero saying what is left.\n";

struct remote_rollback {
	const char *target;
	const struct ldg_values *then;
	uint64_t to;
	const struct cli_write_opts *w;
	bool was_locked; /* the target's lock at the head last drafted on */
};

static int draft(const struct ldg_values *now, void *arg,
		 struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_rollback *a = arg;

	a->was_locked = now->lock_seq != 0;
	return ldg_draft_rollback(a->target, a->then, now, a->to,
				  a->w->reason, a->w->meta, a->w->n_meta, out,
				  err);
}

struct remote_lock {
	const char *target;
	const char *reason;
};

static int draft_lock(const struct ldg_values *now, void *arg,
		      struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_lock *a = arg;

	return ldg_draft_lock(now, a->target, a->reason, true, out, err);
}

/* Appends res's entries to all. */
static int result_join(struct ldg_result *all, struct ldg_result *res)
{
	struct ldg_appended *grown;

	if (!res->n)
		return 0;
	grown = realloc(all->v, (all->n + res->n) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	all->v = grown;
	memcpy(&all->v[all->n], res->v, res->n * sizeof(*res->v));
	all->n += res->n;
	ldg_result_free(res);
	return 0;
}

/* The rollback through `ledger serve`, then (unless --no-lock, or the
 * target was locked) its lock: two appends, each retried on 409 as the
 * other remote writes are. A lock that cannot be recorded leaves the
 * rollback in place: exit 2, saying so. */
static int remote_rollback(struct cli_ctx *c, struct cli_write_opts *w,
			   const char *target, uint64_t to, bool listed,
			   struct ldg_result *res)
{
	struct remote_rollback a = { target, NULL, to, w, false };
	struct remote_lock l = { target, w->reason };
	struct ldg_result lres = { 0 };
	struct ldg_values then;
	struct ldg_err err = { 0 };
	bool exists = false;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	if (to < 1)
		return cli_usage(c, "--to needs a seq >= 1");
	rc = cli_remote_state(c, target, 0, &then, &exists, &err);
	ldg_values_free(&then);
	/* a cluster's targets come from its state at the head or at to:
	 * one whose keys are all unset now is still one to restore */
	if (!rc && !exists && !listed)
		rc = ldg_err_set(&err, -ENOENT, "target %s has no entries",
				 target);
	if (!rc)
		rc = cli_remote_state(c, target, to, &then, NULL, &err);
	if (rc)
		return cli_fail(c, &err);
	a.then = &then;
	rc = cli_remote_write(c, w, target, draft, &a, res);
	ldg_values_free(&then);
	if (rc || res->n == 0 || w->no_lock || a.was_locked)
		return rc;
	rc = cli_remote_write(c, w, target, draft_lock, &l, &lres);
	if (rc) {
		cli_print_result(res);
		cli_error("%s: rolled back at seq %llu, but the lock was not "
			  "recorded; lock it with `ledger lock`", target,
			  (unsigned long long)res->v[0].seq);
		ldg_result_free(&lres);
		return CLI_BAD;
	}
	if (result_join(res, &lres)) {
		ldg_result_free(&lres);
		ldg_err_set(&err, -ENOMEM, "out of memory");
		return cli_fail(c, &err);
	}
	return CLI_OK;
}

/* A cluster through `ledger serve`: each target that had values or a
 * lock at the head or at SEQ, in turn, as remote_rollback() does one. */
static int remote_rollback_cluster(struct cli_ctx *c,
				   struct cli_write_opts *w,
				   const char *cluster, uint64_t to,
				   struct ldg_result *res)
{
	struct ldg_err err = { 0 };
	char **targets = NULL;
	size_t n = 0;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	rc = cli_remote_targets(c, cluster, to, &targets, &n, &err);
	if (rc)
		return cli_fail(c, &err);
	if (n == 0) {
		ldg_err_set(&err, -ENOENT, "cluster %s has no targets",
			    cluster);
		return cli_fail(c, &err);
	}
	for (size_t i = 0; i < n; i++) {
		struct ldg_result one = { 0 };
		rc = remote_rollback(c, w, targets[i], to, true, &one);
		if (!rc && result_join(res, &one)) {
			ldg_err_set(&err, -ENOMEM, "out of memory");
			rc = cli_fail(c, &err);
		}
		ldg_result_free(&one);
		if (rc) {
			cli_print_result(res);
			if (i + 1 < n)
				cli_error("%s: stopped at %s; %zu target(s) "
					  "after it not rolled back", cluster,
					  targets[i], n - i - 1);
			break;
		}
	}
	ldg_strv_free(targets, n);
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
		rc = strchr(argv[optind], '/')
			     ? remote_rollback(c, &w, argv[optind], to, false,
					       &res)
			     : remote_rollback_cluster(c, &w, argv[optind], to,
						       &res);
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
