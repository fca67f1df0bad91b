/*
 * policy.c - the rules of promotion policies (docs/format.md 8b), asked
 * by ldg_may_append() after the rules of section 8: who may write
 * policies and windows, freeze, soak, approvals and withdrawals; and,
 * asked of every kind, the skew of an entry signed elsewhere. Also the
 * writer's search for a soak's evidence.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "store_impl.h"
#include "util.h"
#include "window.h"

static void facts(struct ldg_err *err, const char *target, const char *reason)
{
	if (!err)
		return;
	snprintf(err->target, sizeof(err->target), "%s", target);
	snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : "");
}

/* ---- who writes policies and windows ---- */

static int check_rules_writer(const struct ldg_write_req *q,
			      const struct ldg_keyinfo *ki, struct ldg_err *err)
{
	if (strcmp(ki->role, "admin")) {
		ldg_err_refuse(err, -EACCES, LDG_WHY_ROLE, 0, ki->vkey.name,
			       "key \"%s\" has role %s: only an admin may "
			       "write %s entries",
			       ki->vkey.name, ki->role, ldg_kind_name(q->kind));
		facts(err, q->target, NULL);
		return -EACCES;
	}
	if (!ldg_scopes_have_star(ki->scopes) &&
	    !ldg_scopes_have(ki->scopes, q->target)) {
		ldg_err_refuse(err, -EACCES, LDG_WHY_SCOPE, 0, ki->vkey.name,
			       "key \"%s\" may not set rules for %s (its "
			       "scope: %s; it needs '*' or exactly %s)",
			       ki->vkey.name, q->target, ki->scopes, q->target);
		facts(err, q->target, NULL);
		return -EACCES;
	}
	return 0;
}

static int check_unfreeze(const struct ldg_gov *g, const struct ldg_entry *e,
			  struct ldg_err *err)
{
	const struct ldg_kv *kv =
		ldg_kv_find(e->changes, e->n_changes, "window");
	uint64_t seq = 0;

	(void)ldg_parse_dec(kv->value, 0, INT64_MAX, &seq);
	for (size_t i = 0; i < g->n_win; i++)
		if (g->win[i].seq == seq && !strcmp(g->win[i].scope, e->target))
			return 0;
	ldg_err_refuse(err, -ENOENT, LDG_WHY_NO_WINDOW, seq, NULL,
		       "no freeze window %llu is in force on %s",
		       (unsigned long long)seq, e->target);
	facts(err, e->target, NULL);
	return -ENOENT;
}

/* ---- freeze ---- */

int ldg_frozen(struct ldg_read *log, const struct ldg_gov *g,
	       const char *target, uint64_t time_ns, struct ldg_err *err)
{
	int64_t t = (int64_t)(time_ns / 1000000000u), end;
	struct ldg_entry *fe = NULL;
	char until[32];
	bool active;
	int rc;

	for (size_t i = 0; i < g->n_win; i++) {
		const struct ldg_window *w = &g->win[i];
		if (!ldg_scope_match(w->scope, target))
			continue;
		rc = ldg_gov_window_active(w, t, &active, &end, err);
		if (rc)
			return rc;
		if (!active)
			continue;
		ldg_utc_format(end, until, sizeof(until));
		ldg_entry_read(log, w->seq, &fe, NULL);
		ldg_err_refuse(err, -EBUSY, LDG_WHY_FROZEN, w->seq, NULL,
			       "%s is frozen until %s by window %llu (%s): "
			       "%.200s",
			       target, until, (unsigned long long)w->seq,
			       w->scope, fe ? fe->reason : "?");
		facts(err, target, fe ? fe->reason : "");
		ldg_entry_free(fe);
		return -EBUSY;
	}
	return 0;
}

/* ---- soak ---- */

/* The source of target's soak under p: SOAKFROM/RELEASE (out holds
 * LDG_TARGET_MAX + 1). */
static int soak_source(const struct ldg_policy *p, const char *target,
		       char *out)
{
	char cluster[LDG_CLUSTER_MAX + 1];
	const char *release;

	if (ldg_target_split(target, cluster, &release))
		return -EINVAL;
	snprintf(out, LDG_TARGET_MAX + 1, "%s/%s", p->soak_from, release);
	return 0;
}

static bool holds_pairs(const struct ldg_entry *a, const struct ldg_kv *ch,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ldg_kv *kv;
		if (!ch[i].value)
			continue;
		kv = ldg_kv_find(a->changes, a->n_changes, ch[i].key);
		if (!kv ||
		    !ldg_value_eq(kv->type, kv->value, ch[i].type, ch[i].value))
			return false;
	}
	return true;
}

/* The first set pair of ch that from does not hold: NULL when it holds
 * them all. *since: the newest seq at which one of them changed. */
static const struct ldg_kv *not_held(const struct ldg_values *from,
				     const struct ldg_kv *ch, size_t n,
				     uint64_t *since)
{
	*since = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ldg_value *v;
		if (!ch[i].value)
			continue;
		v = ldg_values_find(from, ch[i].key);
		if (!v ||
		    !ldg_value_eq(v->type, v->value, ch[i].type, ch[i].value))
			return &ch[i];
		if (v->seq > *since)
			*since = v->seq;
	}
	return NULL;
}

static const struct ldg_kv *first_set(const struct ldg_kv *ch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ch[i].value)
			return &ch[i];
	return NULL;
}

static int not_soaked(struct ldg_err *err, const char *from, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
static int not_soaked(struct ldg_err *err, const char *from, const char *fmt,
		      ...)
{
	char msg[LDG_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ldg_err_refuse(err, -EBUSY, LDG_WHY_NOT_SOAKED, 0, NULL, "%s", msg);
	facts(err, from, NULL);
	return -EBUSY;
}

int ldg_soak_check(struct ldg_read *r, struct ldg_read *log,
		   const struct ldg_policy *p, const char *target,
		   const struct ldg_kv *ch, size_t n, const struct ldg_entry *e,
		   struct ldg_err *err)
{
	return ldg_soak_check_at(r, log, p, target, ch, n, e, 0, err);
}

int ldg_soak_check_at(struct ldg_read *r, struct ldg_read *log,
		      const struct ldg_policy *p, const char *target,
		      const struct ldg_kv *ch, size_t n,
		      const struct ldg_entry *e, uint64_t at,
		      struct ldg_err *err)
{
	char from[LDG_TARGET_MAX + 1];
	const struct ldg_kv *first = first_set(ch, n), *bad, *ev;
	struct ldg_values fv = { 0 };
	struct ldg_entry *a = NULL;
	uint64_t since, seq = 0, ran, want;
	int rc;

	if (!p || !p->soak || !first)
		return 0; /* nothing to soak: no soak, or only unsets */
	if (soak_source(p, target, from))
		return ldg_err_set(err, -EINVAL, "%s is not a target", target);
	rc = ldg_state_get(r, from, at, &fv);
	if (rc && rc != -ENOENT)
		return ldg_err_set(err, rc, "cannot read the state of %s",
				   from);
	bad = not_held(&fv, ch, n, &since);
	ldg_values_free(&fv);
	if (bad)
		return not_soaked(err, from,
				  "%s does not hold %s=%.200s (soak %llu min "
				  "from %s)",
				  from, bad->key, bad->value,
				  (unsigned long long)p->soak / 60,
				  p->soak_from);
	ev = ldg_kv_find(e->meta, e->n_meta, "soak-applied");
	if (!ev || ldg_parse_dec(ev->value, 1, e->seq - 1, &seq))
		return not_soaked(err, from,
				  "%s has not run %s=%.200s since it was "
				  "set: the change names no applied entry "
				  "of it (soak-applied)",
				  from, first->key, first->value);
	rc = ldg_entry_read(log, seq, &a, NULL);
	if (rc || a->kind != LDG_KIND_APPLIED || strcmp(a->target, from) ||
	    seq < since || !holds_pairs(a, ch, n)) {
		ldg_entry_free(a);
		return not_soaked(err, from,
				  "soak-applied %llu is not an applied entry "
				  "of %s with these values since they were "
				  "set",
				  (unsigned long long)seq, from);
	}
	want = p->soak * 1000000000u;
	ran = e->time_ns > a->time_ns ? e->time_ns - a->time_ns : 0;
	ldg_entry_free(a);
	if (ran < want)
		return not_soaked(err, from,
				  "%s has run %s=%.200s for %llu min of %llu",
				  from, first->key, first->value,
				  (unsigned long long)(ran / 60000000000u),
				  (unsigned long long)p->soak / 60);
	return 0;
}

int ldg_soak_evidence(struct ldg_read *r, const struct ldg_policy *p,
		      const char *target, const struct ldg_kv *ch, size_t n,
		      uint64_t *applied)
{
	char from[LDG_TARGET_MAX + 1];
	struct ldg_values fv = { 0 };
	uint64_t since, before = 0, *seqs = NULL;
	size_t cnt;
	bool done = false;
	int rc;

	*applied = 0;
	if (!p || !p->soak || !first_set(ch, n) || soak_source(p, target, from))
		return 0;
	rc = ldg_state_get(r, from, 0, &fv);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (not_held(&fv, ch, n, &since)) {
		ldg_values_free(&fv);
		return 0;
	}
	ldg_values_free(&fv);
	/* newest first, down to the newest change of those keys: the
	 * oldest applied entry holding every pair is the longest soak */
	while (!done) {
		rc = ldg_history(r, from, before, 64, &seqs, &cnt);
		if (rc)
			return rc;
		done = cnt == 0;
		for (size_t i = 0; i < cnt && !done; i++) {
			struct ldg_entry *a = NULL;
			if (seqs[i] < since) {
				done = true;
				break;
			}
			if (ldg_entry_read(r, seqs[i], &a, NULL) == 0 &&
			    a->kind == LDG_KIND_APPLIED &&
			    !strcmp(a->target, from) && holds_pairs(a, ch, n))
				*applied = seqs[i];
			ldg_entry_free(a);
			before = seqs[i];
		}
		free(seqs);
		seqs = NULL;
	}
	return 0;
}

/* ---- approvals ---- */

static int not_pending(struct ldg_read *r, uint64_t seq, const char *target,
		       struct ldg_err *err)
{
	struct ldg_proposal p;
	int rc = ldg_proposal_get(r, seq, &p);

	if (rc == -ENOENT)
		ldg_err_refuse(err, -EPERM, LDG_WHY_NOT_PENDING, 0, NULL,
			       "seq %llu is not a proposal",
			       (unsigned long long)seq);
	else if (rc)
		return ldg_err_set(err, rc, "cannot read proposal %llu",
				   (unsigned long long)seq);
	else if (p.status == LDG_PROP_PENDING)
		ldg_err_refuse(err, -EPERM, LDG_WHY_NOT_PENDING, 0, NULL,
			       "proposal %llu is on %s, not %s",
			       (unsigned long long)seq, p.target, target);
	else if (p.status == LDG_PROP_STALE)
		ldg_err_refuse(err, -EPERM, LDG_WHY_NOT_PENDING, p.at, NULL,
			       "proposal %llu is stale: seq %llu changed %s "
			       "after it",
			       (unsigned long long)seq,
			       (unsigned long long)p.at, target);
	else
		ldg_err_refuse(err, -EPERM, LDG_WHY_NOT_PENDING, p.at, NULL,
			       "proposal %llu %s at seq %llu",
			       (unsigned long long)seq,
			       p.status == LDG_PROP_EFFECTIVE ? "took effect"
							      : "was withdrawn",
			       (unsigned long long)p.at);
	if (!rc)
		ldg_proposal_free(&p);
	facts(err, target, NULL);
	return -EPERM;
}

static int check_locked(struct ldg_read *r, struct ldg_read *log,
			const char *target, struct ldg_err *err)
{
	struct ldg_entry *le = NULL;
	uint64_t at = 0;
	int rc = ldg_lock_seq(r, target, &at);

	if (rc)
		return ldg_err_set(err, rc, "cannot read the lock of %s",
				   target);
	if (!at)
		return 0;
	ldg_entry_read(log, at, &le, NULL);
	ldg_err_refuse(err, -EBUSY, LDG_WHY_LOCKED, at, NULL,
		       "%s: target is locked since seq %llu (reason: "
		       "\"%.200s\")",
		       target, (unsigned long long)at, le ? le->reason : "?");
	facts(err, target, le ? le->reason : "");
	ldg_entry_free(le);
	return -EBUSY;
}

static int check_approve(struct ldg_read *r, struct ldg_read *log,
			 const struct ldg_gov *g, const struct ldg_entry *e,
			 const struct ldg_keyinfo *ki, uint64_t seq,
			 struct ldg_err *err)
{
	const struct ldg_pending *p = ldg_gov_pending(g, seq);
	struct ldg_proposal prop;
	int rc = 0;

	if (!p || strcmp(p->target, e->target))
		return not_pending(r, seq, e->target, err);
	if (!memcmp(p->author, e->signer, LDG_KEYID_BYTES)) {
		ldg_err_refuse(err, -EACCES, LDG_WHY_SELF_APPROVAL, seq,
			       ki->vkey.name,
			       "key \"%s\" wrote proposal %llu and may not "
			       "approve it",
			       ki->vkey.name, (unsigned long long)seq);
		facts(err, e->target, NULL);
		return -EACCES;
	}
	if (!ldg_key_trusted(r, p->author)) {
		ldg_err_refuse(err, -EPERM, LDG_WHY_NOT_PENDING, seq, NULL,
			       "proposal %llu was written by a key revoked "
			       "since: it cannot take effect; withdraw it",
			       (unsigned long long)seq);
		facts(err, e->target, NULL);
		return -EPERM;
	}
	if (ldg_gov_approved_by(p, e->signer)) {
		ldg_err_refuse(err, -EACCES, LDG_WHY_ALREADY_APPROVED, seq,
			       ki->vkey.name,
			       "key \"%s\" has already approved proposal %llu",
			       ki->vkey.name, (unsigned long long)seq);
		facts(err, e->target, NULL);
		return -EACCES;
	}
	if (ldg_gov_count(p, ldg_key_trusted, r, e->signer) < p->need)
		return 0; /* counted; the proposal waits on */
	/* this approval enacts it, at its own time */
	if (!(p->flags & LDG_PEND_EMERGENCY))
		rc = ldg_frozen(log, g, e->target, e->time_ns, err);
	if (rc)
		return rc;
	rc = ldg_proposal_get(r, seq, &prop);
	if (rc)
		return ldg_err_set(err, rc, "cannot read proposal %llu",
				   (unsigned long long)seq);
	if (!(p->flags & LDG_PEND_EMERGENCY))
		rc = ldg_soak_check(r, log, ldg_gov_policy_for(g, e->target),
				    e->target, prop.changes, prop.n_changes, e,
				    err);
	/* a lock stops a set or unset (as it would have stopped the
	 * proposal itself), never a rollback: rollbacks pass locks, and
	 * one that locks its target is followed by its own lock */
	if (!rc && prop.kind != LDG_KIND_ROLLBACK &&
	    !(p->flags & LDG_PEND_FORCED))
		rc = check_locked(r, log, e->target, err);
	ldg_proposal_free(&prop);
	return rc;
}

static int check_withdraw(struct ldg_read *r, const struct ldg_gov *g,
			  const struct ldg_entry *e,
			  const struct ldg_keyinfo *ki, uint64_t seq,
			  struct ldg_err *err)
{
	const struct ldg_pending *p = ldg_gov_pending(g, seq);

	if (!p || strcmp(p->target, e->target))
		return not_pending(r, seq, e->target, err);
	if (!memcmp(p->author, e->signer, LDG_KEYID_BYTES) ||
	    !strcmp(ki->role, "admin"))
		return 0; /* an admin's scope was checked by rule 6 */
	ldg_err_refuse(err, -EACCES, LDG_WHY_NOT_AUTHOR, seq, ki->vkey.name,
		       "key \"%s\" did not write proposal %llu: only its "
		       "author or an admin may withdraw it",
		       ki->vkey.name, (unsigned long long)seq);
	facts(err, e->target, NULL);
	return -EACCES;
}

/* ---- the question ---- */

int ldg_skew_check(const struct ldg_write_req *q, struct ldg_err *err)
{
	uint64_t d;

	if (!q->now_ns || !q->time_ns || q->history)
		return 0;
	d = q->time_ns > q->now_ns ? q->time_ns - q->now_ns
				   : q->now_ns - q->time_ns;
	if (d <= LDG_SKEW_NS)
		return 0;
	return ldg_err_refuse(err, -EINVAL, LDG_WHY_SKEW, 0, NULL,
			      "the entry's signed time is %llu s %s this "
			      "writer's clock (at most %llu s are allowed): "
			      "sign it again, and check the signer's clock",
			      (unsigned long long)(d / 1000000000u),
			      q->time_ns > q->now_ns ? "ahead of" : "behind",
			      (unsigned long long)(LDG_SKEW_NS / 1000000000u));
}

int ldg_policy_check(struct ldg_read *r, const struct ldg_write_req *q,
		     const struct ldg_keyinfo *ki, struct ldg_err *err)
{
	struct ldg_read *log = q->log ? q->log : r;
	const struct ldg_entry *e = q->entry;
	struct ldg_gov g;
	uint64_t seq = 0;
	int rc;

	if (ldg_kind_on_scope(q->kind)) {
		rc = check_rules_writer(q, ki, err);
		if (rc || !e || q->kind != LDG_KIND_UNFREEZE)
			return rc;
	} else if (!e || (!ldg_kind_changes_values(q->kind) &&
			  !ldg_kind_on_proposal(q->kind))) {
		return 0;
	}
	rc = ldg_gov_load(r, 0, &g, err);
	if (rc)
		return rc;
	if (q->kind == LDG_KIND_UNFREEZE) {
		rc = check_unfreeze(&g, e, err);
	} else if (ldg_kind_on_proposal(q->kind)) {
		(void)ldg_parse_dec(e->changes[0].value, 0, INT64_MAX, &seq);
		rc = q->kind == LDG_KIND_APPROVE
			     ? check_approve(r, log, &g, e, ki, seq, err)
			     : check_withdraw(r, &g, e, ki, seq, err);
	} else if (ldg_gov_gated(&g, e)) {
		/* set, unset, a gated rollback */
		if (!ldg_kv_find(e->meta, e->n_meta, "emergency"))
			rc = ldg_frozen(log, &g, e->target, e->time_ns, err);
		if (!rc && !ldg_gov_need(&g, e))
			rc = ldg_soak_check(r, log,
					    ldg_gov_policy_for(&g, e->target),
					    e->target, e->changes, e->n_changes,
					    e, err);
	}
	ldg_gov_free(&g);
	return rc;
}

/* ---- what took effect, judged again (the applier, verify) ---- */

static int unapproved(struct ldg_err *err, uint64_t seq, const char *target,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int unapproved(struct ldg_err *err, uint64_t seq, const char *target,
		      const char *fmt, ...)
{
	char msg[LDG_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ldg_err_refuse(err, -EPERM, LDG_WHY_UNAPPROVED, seq, NULL, "%s", msg);
	facts(err, target, NULL);
	return -EPERM;
}

/* A rule that refused (its words in err) broken by seq. */
static int violated(struct ldg_err *err, int rc, uint64_t seq, const char *how)
{
	if (rc != -EBUSY)
		return rc; /* not a "no": the question could not be asked */
	if (err) {
		ldg_err_prefix(err, "seq %llu took effect %s",
			       (unsigned long long)seq, how);
		err->code = -EPERM;
	}
	return -EPERM;
}

static const char *plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

/* Freeze and soak of a gated change on target taking effect with entry
 * e (its time, its soak-applied), under g, the governance before it. */
static int recheck_timing(struct ldg_read *r, struct ldg_read *log,
			  const struct ldg_gov *g, const char *target,
			  const struct ldg_kv *ch, size_t n,
			  const struct ldg_entry *e, struct ldg_err *err)
{
	int rc = ldg_frozen(log, g, target, e->time_ns, err);

	if (rc)
		return violated(err, rc, e->seq, "inside a freeze window");
	rc = ldg_soak_check_at(r, log, ldg_gov_policy_for(g, target), target,
			       ch, n, e, e->seq - 1, err);
	return rc ? violated(err, rc, e->seq, "without its soak") : 0;
}

static int recheck_change(struct ldg_read *r, struct ldg_read *log,
			  const struct ldg_gov *g, const struct ldg_entry *e,
			  struct ldg_err *err)
{
	const struct ldg_policy *p = ldg_gov_policy_for(g, e->target);
	unsigned need = ldg_gov_need(g, e);

	if (need && p && ldg_gov_gated(g, e) && p->approvals)
		return unapproved(err, e->seq, e->target,
				  "seq %llu took effect without its %u "
				  "approval%s: under policy %s (seq %llu) a "
				  "%s of %s is only a proposal",
				  (unsigned long long)e->seq, need,
				  plural(need), p->scope,
				  (unsigned long long)p->seq,
				  ldg_kind_name(e->kind), e->target);
	if (need)
		return unapproved(err, e->seq, e->target,
				  "seq %llu took effect without its %u "
				  "approval%s: an emergency %s of %s is only "
				  "a proposal",
				  (unsigned long long)e->seq, need,
				  plural(need), ldg_kind_name(e->kind),
				  e->target);
	if (!ldg_gov_gated(g, e))
		return 0;
	return recheck_timing(r, log, g, e->target, e->changes, e->n_changes, e,
			      err);
}

struct tally {
	unsigned n;
	uint8_t id[LDG_APPROVALS_MAX][LDG_KEYID_BYTES];
	char names[200];
	char note[200]; /* the first approval that did not count, and why */
};

static void tally_note(struct tally *t, uint64_t seq, const char *fmt,
		       const char *name)
{
	int len;

	if (t->note[0])
		return;
	len = snprintf(t->note, sizeof(t->note),
		       "seq %llu: ", (unsigned long long)seq);
	snprintf(t->note + len, sizeof(t->note) - (size_t)len, fmt, name);
}

/* Counts approval a (an approve of a proposal by author on target)
 * toward what the approval at seq at needs. */
static void tally_one(struct ldg_read *r, struct tally *t,
		      const struct ldg_entry *a, const uint8_t *author,
		      const char *target, uint64_t at)
{
	struct ldg_keyinfo ki;
	char idhex[2 * LDG_KEYID_BYTES + 1];
	size_t len;

	if (ldg_keyring_by_id(r, a->signer, &ki)) {
		ldg_hex(a->signer, LDG_KEYID_BYTES, idhex);
		tally_note(t, a->seq, "key %s is not in the keyring", idhex);
		return;
	}
	if (!memcmp(a->signer, author, LDG_KEYID_BYTES)) {
		tally_note(t, a->seq, "key \"%s\" wrote the proposal",
			   ki.vkey.name);
		return;
	}
	for (unsigned i = 0; i < t->n; i++)
		if (!memcmp(t->id[i], a->signer, LDG_KEYID_BYTES)) {
			tally_note(t, a->seq,
				   "key \"%s\" had approved it already",
				   ki.vkey.name);
			return;
		}
	if (ki.added_seq >= a->seq || (ki.revoked_seq && ki.revoked_seq < at)) {
		tally_note(t, a->seq, "key \"%s\" was not trusted then",
			   ki.vkey.name);
		return;
	}
	if ((strcmp(ki.role, "deployer") && strcmp(ki.role, "admin")) ||
	    !ldg_scopes_match(ki.scopes, target)) {
		tally_note(t, a->seq, "key \"%s\" may not approve there",
			   ki.vkey.name);
		return;
	}
	if (t->n == LDG_APPROVALS_MAX)
		return; /* more than any policy needs */
	memcpy(t->id[t->n++], a->signer, LDG_KEYID_BYTES);
	len = strlen(t->names);
	snprintf(t->names + len, sizeof(t->names) - len, "%s%s",
		 len ? ", " : "", ki.vkey.name);
}

/* The approvals of proposal p counted again from the approve entries of
 * its target's history, from the proposal up to seq at. */
static int tally_approvals(struct ldg_read *r, struct ldg_read *log,
			   const struct ldg_pending *p, uint64_t at,
			   struct tally *t)
{
	uint64_t before = at + 1, *seqs = NULL, want;
	size_t cnt;
	bool done = false;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	while (!done && !rc) {
		rc = ldg_history(r, p->target, before, 64, &seqs, &cnt);
		done = rc || cnt == 0;
		for (size_t i = 0; i < cnt && !done && !rc; i++) {
			struct ldg_entry *a = NULL;
			const struct ldg_kv *kv;
			if (seqs[i] <= p->seq) {
				done = true;
				break;
			}
			before = seqs[i];
			rc = ldg_entry_read(log, seqs[i], &a, NULL);
			if (rc)
				break;
			kv = ldg_kv_find(a->changes, a->n_changes, "proposal");
			if (a->kind == LDG_KIND_APPROVE && kv &&
			    !ldg_parse_dec(kv->value, 1, INT64_MAX, &want) &&
			    want == p->seq && !strcmp(a->target, p->target))
				tally_one(r, t, a, p->author, p->target, at);
			ldg_entry_free(a);
		}
		free(seqs);
		seqs = NULL;
	}
	return rc;
}

static int recheck_approve(struct ldg_read *r, struct ldg_read *log,
			   const struct ldg_gov *g, const struct ldg_entry *e,
			   struct ldg_err *err)
{
	const struct ldg_kv *kv =
		ldg_kv_find(e->changes, e->n_changes, "proposal");
	const struct ldg_pending *p;
	struct ldg_entry *pe = NULL;
	struct ldg_keyinfo author;
	struct tally t;
	uint64_t seq = 0;
	int rc;

	if (kv)
		(void)ldg_parse_dec(kv->value, 1, INT64_MAX, &seq);
	p = ldg_gov_pending(g, seq);
	if (!p || strcmp(p->target, e->target))
		return unapproved(err, e->seq, e->target,
				  "seq %llu took effect as the approval of "
				  "seq %llu, which was not a proposal pending "
				  "on %s",
				  (unsigned long long)e->seq,
				  (unsigned long long)seq, e->target);
	if (ldg_keyring_by_id(r, p->author, &author) ||
	    (author.revoked_seq && author.revoked_seq < e->seq))
		return unapproved(err, e->seq, e->target,
				  "seq %llu took effect as the approval of "
				  "seq %llu, whose author's key was revoked "
				  "before it",
				  (unsigned long long)e->seq,
				  (unsigned long long)seq);
	rc = tally_approvals(r, log, p, e->seq, &t);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the approvals of %llu",
				   (unsigned long long)seq);
	if (t.n < p->need)
		return unapproved(err, e->seq, e->target,
				  "seq %llu took effect without its %u "
				  "approval%s: proposal %llu on %s has %u "
				  "valid%s%s%s%s%s",
				  (unsigned long long)e->seq, p->need,
				  plural(p->need), (unsigned long long)seq,
				  e->target, t.n, t.n ? " (" : "", t.names,
				  t.n ? ")" : "",
				  t.note[0] ? "; not counted: " : "", t.note);
	if (p->flags & LDG_PEND_EMERGENCY)
		return 0;
	rc = ldg_entry_read(log, seq, &pe, NULL);
	if (rc)
		return ldg_err_set(err, rc, "cannot read proposal %llu",
				   (unsigned long long)seq);
	rc = recheck_timing(r, log, g, e->target, pe->changes, pe->n_changes, e,
			    err);
	ldg_entry_free(pe);
	return rc;
}

int ldg_effect_check(struct ldg_read *r, struct ldg_read *log,
		     const char *target, uint64_t seq, struct ldg_err *err)
{
	struct ldg_entry *e = NULL;
	struct ldg_gov g;
	int rc;

	if (!log)
		log = r;
	if (seq == 0 || ldg_entry_read(log, seq, &e, NULL))
		return unapproved(err, seq, target,
				  "the values of %s name seq %llu, which is "
				  "not in the log",
				  target, (unsigned long long)seq);
	if (strcmp(e->target, target) || (!ldg_kind_changes_values(e->kind) &&
					  e->kind != LDG_KIND_APPROVE)) {
		rc = unapproved(err, seq, target,
				"the values of %s name seq %llu, a %s of %s, "
				"which changes none of them",
				target, (unsigned long long)seq,
				ldg_kind_name(e->kind),
				e->target[0] ? e->target : "the keyring");
		goto out_entry;
	}
	rc = ldg_gov_load(r, seq - 1, &g, err);
	if (rc)
		goto out_entry;
	rc = e->kind == LDG_KIND_APPROVE ? recheck_approve(r, log, &g, e, err)
					 : recheck_change(r, log, &g, e, err);
	ldg_gov_free(&g);
out_entry:
	ldg_entry_free(e);
	return rc;
}
