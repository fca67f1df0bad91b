/*
 * policy.h - the rules of promotion policies (docs/format.md 8b): who
 * may write policies and freeze windows, and whether a change, an
 * approval or a withdrawal may be written here, under the governance
 * state the store holds (gov.h). ldg_may_append() (authorize.h) asks
 * ldg_policy_check() after the rules of section 8, so every writer and
 * verify's replay decide alike; the applier asks ldg_frozen() and
 * ldg_soak_check() again of what it deploys.
 *
 * Each refusal carries its rule in err->why (LDG_WHY_FROZEN, ..._SKEW)
 * and its facts (seq, target, the window's reason).
 *
 * Caveats: answers are as of the transaction r; log is where entries are
 * read from (the same transaction, or verify's real store).
 */
#ifndef LDG_POLICY_H
#define LDG_POLICY_H

#include "authorize.h"
#include "gov.h"

/* The rules of 8b for q, asked by ldg_may_append() once the signer ki
 * passed the rules of section 8: -EACCES (role, scope, self-approval,
 * second approval, not the author), -EBUSY (frozen, not soaked, locked
 * at the approval that enacts), -EPERM (proposal not pending), -ENOENT
 * (no such window). */
int ldg_policy_check(struct ldg_read *r, const struct ldg_write_req *q,
		     const struct ldg_keyinfo *ki, struct ldg_err *err);

/* Rule 5 (writers only): -EINVAL LDG_WHY_SKEW when q is an entry signed
 * elsewhere (q->now_ns set, not history) whose signed time is further
 * than LDG_SKEW_NS from q->now_ns. Asked by ldg_may_append() of every
 * kind, once the signer is known and trusted. */
int ldg_skew_check(const struct ldg_write_req *q, struct ldg_err *err);

/* -EBUSY with the window, its end and its reason (read from log) when a
 * window of g covering target is active at time_ns; -ENOENT/-EINVAL when
 * a window cannot be evaluated here (an unknown time zone). */
int ldg_frozen(struct ldg_read *log, const struct ldg_gov *g,
	       const char *target, uint64_t time_ns, struct ldg_err *err);

/* Whether the change ch[0..n) on target, taking effect with entry e (its
 * time, its metadata soak-applied), meets the soak of policy p (NULL: no
 * policy): the source release holds every set pair (at r's head), e's
 * soak-applied names an applied entry of it (read from log) holding them
 * all, no older than their newest change, and at least p->soak seconds
 * before e's time. -EBUSY LDG_WHY_NOT_SOAKED with what is missing. */
int ldg_soak_check(struct ldg_read *r, struct ldg_read *log,
		   const struct ldg_policy *p, const char *target,
		   const struct ldg_kv *ch, size_t n, const struct ldg_entry *e,
		   struct ldg_err *err);

/* ldg_soak_check() with the source's state after entries 1..at (0:
 * r's head): judging an entry of the past, at is the seq before it. */
int ldg_soak_check_at(struct ldg_read *r, struct ldg_read *log,
		      const struct ldg_policy *p, const char *target,
		      const struct ldg_kv *ch, size_t n,
		      const struct ldg_entry *e, uint64_t at,
		      struct ldg_err *err);

/* Judges again whether entry seq (read from log; NULL: r) could make
 * values of target effective, as r's state index says it did
 * (ldg_state_changes()): under the governance before it (the gov index
 * of r at seq - 1), a set, unset or rollback needing no approval, outside
 * every freeze window and soaked; or an approve of a proposal pending on
 * target whose approvals, counted again from the approve entries of
 * target's history (distinct keys, not the author's, trusted at seq,
 * deployer or admin in scope), reach its need, then freeze and soak as
 * for the change itself unless it is an emergency. What the applier asks
 * before it deploys values, and verify of an index that a replay does not
 * give. 0, or -EPERM with a message naming seq: LDG_WHY_UNAPPROVED,
 * LDG_WHY_FROZEN or LDG_WHY_NOT_SOAKED; another negative errno when the
 * question cannot be answered. */
int ldg_effect_check(struct ldg_read *r, struct ldg_read *log,
		     const char *target, uint64_t seq, struct ldg_err *err);

/* For a writer: the seq of the oldest applied entry of target's soak
 * source that holds every set pair of ch and is no older than their
 * newest change there (*applied = 0: none, or no soak to meet). It walks
 * the source's history back to that change. */
int ldg_soak_evidence(struct ldg_read *r, const struct ldg_policy *p,
		      const char *target, const struct ldg_kv *ch, size_t n,
		      uint64_t *applied);

#endif
