/*
 * govops.c - the write operations of promotion policies (ops.h): the
 * entries of policy, freeze, unfreeze, approve and withdraw, built here
 * and appended through ldg_append(), which asks ldg_may_append() like
 * every other write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "names.h"
#include "ops.h"
#include "util.h"
#include "window.h"

static struct ldg_entry *entry_on(enum ldg_kind kind, const char *target,
				  const char *reason, struct ldg_err *err)
{
	struct ldg_entry *e;

	if (ldg_check_new_reason(reason, err))
		return NULL;
	e = ldg_entry_new(kind, target, reason);
	if (!e)
		ldg_err_set(err, -ENOMEM, "out of memory");
	else
		e->version = LDG_FORMAT_V2; /* these kinds are version 2 */
	return e;
}

static int add_num(struct ldg_entry *e, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return ldg_entry_add_change(e, key, num);
}

/* Checks the built entry by the format's rules, as it will be at any
 * seq after init (its seq is the writer's to fill); frees it on error. */
static int finish(struct ldg_entry *e, int rc, struct ldg_entry **out,
		  struct ldg_err *err)
{
	if (rc == -ENOMEM) {
		ldg_err_set(err, rc, "out of memory");
	} else if (!rc) {
		e->seq = 2;
		rc = ldg_entry_check(e, err);
		e->seq = 0;
	}
	if (rc) {
		ldg_entry_free(e);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	*out = e;
	return 0;
}

int ldg_entry_policy(const char *scope, const struct ldg_policy *p,
		     const char *reason, struct ldg_entry **out,
		     struct ldg_err *err)
{
	struct ldg_entry *e;
	int rc = 0;

	if (ldg_check_scope(scope, err))
		return -EINVAL;
	if (p && !p->approvals && !p->gate_rollbacks && !p->soak)
		return ldg_err_set(err, -EINVAL,
				   "an empty policy: give approvals, a soak "
				   "or gated rollbacks (or clear it)");
	if (p && p->gate_rollbacks && !p->approvals)
		return ldg_err_set(err, -EINVAL,
				   "gated rollbacks need approvals");
	if (p && p->approvals > LDG_APPROVALS_MAX)
		return ldg_err_set(err, -EINVAL, "at most %d approvals",
				   LDG_APPROVALS_MAX);
	if (p && p->soak &&
	    (p->soak < LDG_DURATION_MIN || p->soak > LDG_DURATION_MAX))
		return ldg_err_set(err, -EINVAL,
				   "a soak lasts 1 minute to 366 days");
	if (p && p->soak && ldg_check_cluster(p->soak_from, err))
		return -EINVAL;
	e = entry_on(LDG_KIND_POLICY, scope, reason, err);
	if (!e)
		return -EINVAL;
	if (p && p->approvals)
		rc = add_num(e, "approvals", p->approvals);
	if (!rc && p && p->gate_rollbacks)
		rc = ldg_entry_add_change(e, "rollbacks", "gated");
	if (!rc && p && p->soak) {
		rc = add_num(e, "soak", p->soak);
		if (!rc)
			rc = ldg_entry_add_change(e, "soak-from", p->soak_from);
	}
	return finish(e, rc, out, err);
}

int ldg_entry_freeze(const struct ldg_window *w, const char *reason,
		     struct ldg_entry **out, struct ldg_err *err)
{
	char from[LDG_UTC_LEN], until[LDG_UTC_LEN];
	struct ldg_entry *e;
	int rc;

	if (ldg_check_scope(w->scope, err))
		return -EINVAL;
	e = entry_on(LDG_KIND_FREEZE, w->scope, reason, err);
	if (!e)
		return -EINVAL;
	if (w->cron[0]) {
		rc = ldg_entry_add_change(e, "cron", w->cron);
		if (!rc)
			rc = add_num(e, "duration", w->duration);
		if (!rc)
			rc = ldg_entry_add_change(e, "tz", w->tz);
	} else {
		ldg_utc_format(w->from, from, sizeof(from));
		ldg_utc_format(w->until, until, sizeof(until));
		rc = ldg_entry_add_change(e, "from", from);
		if (!rc)
			rc = ldg_entry_add_change(e, "until", until);
	}
	return finish(e, rc, out, err);
}

int ldg_entry_unfreeze(const char *scope, uint64_t window, const char *reason,
		       struct ldg_entry **out, struct ldg_err *err)
{
	struct ldg_entry *e;

	if (ldg_check_scope(scope, err))
		return -EINVAL;
	e = entry_on(LDG_KIND_UNFREEZE, scope, reason, err);
	if (!e)
		return -EINVAL;
	return finish(e, add_num(e, "window", window), out, err);
}

int ldg_entry_vote(enum ldg_kind kind, const char *target, uint64_t proposal,
		   const char *reason, struct ldg_entry **out,
		   struct ldg_err *err)
{
	struct ldg_entry *e;

	if (ldg_check_target(target, err))
		return -EINVAL;
	e = entry_on(kind, target, reason, err);
	if (!e)
		return -EINVAL;
	return finish(e, add_num(e, "proposal", proposal), out, err);
}

/* Appends e (consumed). */
static int append_one(struct ldg_store *s, const struct ldg_signer *k,
		      struct ldg_entry *e, struct ldg_result *res,
		      struct ldg_err *err)
{
	int rc = ldg_append(s, k, e, res, err);

	ldg_entry_free(e);
	return rc;
}

/* True when scope's policy in g is already what p asks (p NULL: the
 * scope has none). */
static bool policy_is(const struct ldg_gov *g, const char *scope,
		      const struct ldg_policy *p)
{
	const struct ldg_policy *cur = NULL;

	for (size_t i = 0; i < g->n_pol && !cur; i++)
		if (!strcmp(g->pol[i].scope, scope))
			cur = &g->pol[i];
	if (!p || !cur)
		return !p && !cur;
	return cur->approvals == p->approvals &&
	       cur->gate_rollbacks == p->gate_rollbacks &&
	       cur->soak == p->soak &&
	       (!p->soak || !strcmp(cur->soak_from, p->soak_from));
}

int ldg_policy_set(struct ldg_store *s, const struct ldg_signer *k,
		   const char *scope, const struct ldg_policy *p,
		   const char *reason, struct ldg_result *res,
		   struct ldg_err *err)
{
	struct ldg_write_req q;
	struct ldg_entry *e;
	struct ldg_read *r;
	struct ldg_gov g;
	bool same;
	int rc = ldg_entry_policy(scope, p, reason, &e, err);

	if (rc)
		return rc;
	/* already so: nothing to write, as for a set, but only for a key
	 * that could have written it */
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		goto out_entry;
	rc = ldg_gov_load(r, 0, &g, err);
	same = !rc && policy_is(&g, scope, p);
	if (!rc)
		ldg_gov_free(&g);
	if (same) {
		ldg_write_req_of(e, &q);
		q.signer = ldg_signer_vkey(k)->keyid;
		rc = ldg_may_append(r, &q, err);
	}
	ldg_read_end(r);
	if (rc || same) {
		ldg_result_free(res);
		goto out_entry;
	}
	return append_one(s, k, e, res, err);
out_entry:
	ldg_entry_free(e);
	return rc;
}

int ldg_freeze(struct ldg_store *s, const struct ldg_signer *k,
	       const struct ldg_window *w, const char *reason,
	       struct ldg_result *res, struct ldg_err *err)
{
	char until[LDG_UTC_LEN];
	struct ldg_entry *e;
	int rc;

	if (w->cron[0]) {
		rc = ldg_tz_check(w->tz, err);
		if (rc)
			return rc;
	} else if (w->until <= (int64_t)(ldg_now_ns() / 1000000000u)) {
		ldg_utc_format(w->until, until, sizeof(until));
		return ldg_err_set(err, -EINVAL,
				   "the window ends at %s, which is past",
				   until);
	}
	rc = ldg_entry_freeze(w, reason, &e, err);
	return rc ? rc : append_one(s, k, e, res, err);
}

int ldg_draft_unfreeze(struct ldg_read *r, const char *scope, uint64_t window,
		       const char *reason, struct ldg_entry ***out, size_t *n,
		       struct ldg_err *err)
{
	struct ldg_entry **drafts = NULL;
	struct ldg_gov g;
	int rc;

	*out = NULL;
	*n = 0;
	if (ldg_check_scope(scope, err) || ldg_check_new_reason(reason, err))
		return -EINVAL;
	ldg_gov_init(&g);
	rc = window ? 0 : ldg_gov_load(r, 0, &g, err);
	if (!rc) {
		drafts = calloc(g.n_win + 1, sizeof(*drafts));
		if (!drafts)
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
	}
	if (!rc && window)
		rc = ldg_entry_unfreeze(scope, window, reason, &drafts[(*n)++],
					err);
	for (size_t i = 0; !rc && i < g.n_win; i++)
		if (!strcmp(g.win[i].scope, scope))
			rc = ldg_entry_unfreeze(scope, g.win[i].seq, reason,
						&drafts[(*n)++], err);
	if (!rc && *n == 0)
		rc = ldg_err_refuse(err, -ENOENT, LDG_WHY_NO_WINDOW, 0, NULL,
				    "no freeze window is in force on %s",
				    scope);
	ldg_gov_free(&g);
	if (rc) {
		for (size_t i = 0; drafts && i < *n; i++)
			ldg_entry_free(drafts[i]);
		free(drafts);
		*n = 0;
		return rc;
	}
	*out = drafts;
	return 0;
}

int ldg_unfreeze(struct ldg_store *s, const struct ldg_signer *k,
		 const char *scope, uint64_t window, const char *reason,
		 struct ldg_result *res, struct ldg_err *err)
{
	struct ldg_entry **drafts = NULL;
	struct ldg_read *r;
	size_t n = 0;
	int rc;

	/* every window of the scope, as the head is now: one batch; a
	 * window lifted meanwhile makes the batch refused, not half done */
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		return rc;
	rc = ldg_draft_unfreeze(r, scope, window, reason, &drafts, &n, err);
	ldg_read_end(r);
	if (!rc)
		rc = ldg_append_batch(s, k, drafts, n, res, err);
	for (size_t i = 0; i < n; i++)
		ldg_entry_free(drafts[i]);
	free(drafts);
	return rc;
}

int ldg_draft_vote(struct ldg_read *r, enum ldg_kind kind, uint64_t proposal,
		   const char *reason, struct ldg_entry **out,
		   struct ldg_err *err)
{
	struct ldg_proposal p;
	int rc;

	if (ldg_check_new_reason(reason, err))
		return -EINVAL;
	rc = ldg_proposal_get(r, proposal, &p);
	if (rc == -ENOENT)
		return ldg_err_refuse(err, -EPERM, LDG_WHY_NOT_PENDING, 0, NULL,
				      "seq %llu is not a proposal",
				      (unsigned long long)proposal);
	if (rc)
		return ldg_err_set(err, rc, "cannot read proposal %llu",
				   (unsigned long long)proposal);
	/* not pending any more: the rules say so, with what ended it */
	rc = ldg_entry_vote(kind, p.target, proposal, reason, out, err);
	ldg_proposal_free(&p);
	return rc;
}

/* approve or withdraw: on the proposal's target. */
static int vote(struct ldg_store *s, const struct ldg_signer *k,
		enum ldg_kind kind, uint64_t proposal, const char *reason,
		struct ldg_result *res, struct ldg_err *err)
{
	struct ldg_entry *e;
	struct ldg_read *r;
	int rc;

	rc = ldg_read_begin(s, &r, err);
	if (rc)
		return rc;
	rc = ldg_draft_vote(r, kind, proposal, reason, &e, err);
	ldg_read_end(r);
	return rc ? rc : append_one(s, k, e, res, err);
}

int ldg_approve(struct ldg_store *s, const struct ldg_signer *k,
		uint64_t proposal, const char *reason, struct ldg_result *res,
		struct ldg_err *err)
{
	return vote(s, k, LDG_KIND_APPROVE, proposal, reason, res, err);
}

int ldg_withdraw(struct ldg_store *s, const struct ldg_signer *k,
		 uint64_t proposal, const char *reason, struct ldg_result *res,
		 struct ldg_err *err)
{
	return vote(s, k, LDG_KIND_WITHDRAW, proposal, reason, res, err);
}
