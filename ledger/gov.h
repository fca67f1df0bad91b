/*
 * gov.h - the governance state of promotion policies (docs/format.md
 * section 8b): the policies by scope, the freeze windows in force, and
 * the proposals waiting for approvals; how each entry changes it; and
 * the questions the rules ask of it (the policy of a target, the windows
 * active at a time, how many approvals a proposal has).
 *
 * It is part of the authorisation state that version 2 entries commit to
 * (authz.h): STATE = [KEYS, LOCKS] while it is empty, [KEYS, LOCKS,
 * POLICIES, WINDOWS, PENDING] otherwise. The store keeps it after every
 * entry that changed it (the `gov` database) and the changes of each
 * proposal (`props`): ldg_gov_load() and ldg_proposal_get().
 *
 * This module is plain data plus those two readers: who may write what
 * is decided in authorize.c, from the answers here.
 *
 * Ownership: a struct ldg_gov owns its arrays (ldg_gov_free()), a struct
 * ldg_proposal its approvers and changes (ldg_proposal_free()). Plain
 * data: not shared between threads.
 */
#ifndef LDG_GOV_H
#define LDG_GOV_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"
#include "names.h"
#include "store.h"

/* Writers refuse an entry signed elsewhere whose time is further than
 * this from their clock (docs/format.md 8b, rule 5). */
#define LDG_SKEW_NS (300ull * 1000000000ull)

struct ldg_policy {
	char scope[LDG_SCOPE_MAX + 1];
	uint64_t seq;	    /* the policy entry */
	unsigned approvals; /* 0: none needed */
	bool gate_rollbacks;
	uint64_t soak; /* seconds; 0: no soak */
	char soak_from[LDG_CLUSTER_MAX + 1];
};

struct ldg_window {
	uint64_t seq; /* the freeze entry: the window's id */
	char scope[LDG_SCOPE_MAX + 1];
	int64_t from, until; /* absolute, unix seconds; 0 0 for cron */
	char cron[LDG_CRON_MAX + 1];
	uint64_t duration; /* seconds, cron windows */
	char tz[LDG_TZ_MAX + 1];
};

#define LDG_PEND_EMERGENCY 1u
#define LDG_PEND_FORCED 2u

struct ldg_pending {
	uint64_t seq; /* the proposal: a set, unset or rollback */
	char target[LDG_TARGET_MAX + 1];
	uint8_t author[LDG_KEYID_BYTES];
	unsigned need;
	unsigned flags;			       /* LDG_PEND_* */
	uint8_t (*approvers)[LDG_KEYID_BYTES]; /* in the order they came */
	size_t n_approvers;
};

struct ldg_gov {
	struct ldg_policy *pol; /* sorted by scope */
	size_t n_pol;
	struct ldg_window *win; /* sorted by seq */
	size_t n_win;
	struct ldg_pending *pend; /* sorted by seq */
	size_t n_pend;
};

void ldg_gov_init(struct ldg_gov *g);
void ldg_gov_free(struct ldg_gov *g);
bool ldg_gov_empty(const struct ldg_gov *g);
int ldg_gov_copy(struct ldg_gov *dst, const struct ldg_gov *src);

/* The policy of target: the most specific scope that matches it (no glob
 * character beats a glob; then more bytes that are not '*'; then the
 * bytewise smaller scope). NULL when none matches. */
const struct ldg_policy *ldg_gov_policy_for(const struct ldg_gov *g,
					    const char *target);

/* Whether w is active at t (unix seconds); when it is, *end is when it
 * ends (the end of the latest window containing t). -ENOENT with the
 * reason when w's time zone is not in this machine's tz database,
 * -EINVAL when its cron does not parse. */
int ldg_gov_window_active(const struct ldg_window *w, int64_t t, bool *active,
			  int64_t *end, struct ldg_err *err);

/* True when e (a set, unset or rollback) is subject to freeze and soak
 * under g: set and unset always, a rollback under rollbacks=gated. */
bool ldg_gov_gated(const struct ldg_gov *g, const struct ldg_entry *e);
/* The approvals e needs to take effect: the policy's for a gated kind;
 * at least 1 with metadata emergency on a target a policy covers or a
 * window covering it is active at e's time; else 0. */
unsigned ldg_gov_need(const struct ldg_gov *g, const struct ldg_entry *e);

struct ldg_pending *ldg_gov_pending(const struct ldg_gov *g, uint64_t seq);

/* True when the key with this id has approved p. */
bool ldg_gov_approved_by(const struct ldg_pending *p, const uint8_t *id);

/* Is the key with this id trusted (not revoked) now? */
typedef bool (*ldg_trusted_fn)(void *ctx, const uint8_t id[LDG_KEYID_BYTES]);

/* The approvals p has that count: its approvers still trusted, plus
 * extra (the key approving now; NULL for none) when it is not among
 * them. */
unsigned ldg_gov_count(const struct ldg_pending *p, ldg_trusted_fn trusted,
		       void *ctx, const uint8_t *extra);

enum ldg_gov_outcome {
	LDG_GOV_NONE,	   /* a kind policies do not touch */
	LDG_GOV_EFFECTIVE, /* a change that took effect at its own seq */
	LDG_GOV_PROPOSED,  /* a change now pending */
	LDG_GOV_APPROVED,  /* an approval counted; the proposal waits on */
	LDG_GOV_ENACTED,   /* the approval that made the proposal effective */
	LDG_GOV_WITHDRAWN,
	LDG_GOV_RULES, /* policy, freeze, unfreeze */
};

struct ldg_gov_effect {
	enum ldg_gov_outcome what;
	uint64_t proposal; /* approve, withdraw */
	uint64_t *stale;   /* proposals this entry made stale */
	size_t n_stale;
	bool changed; /* g changed */
};

/* Applies an accepted entry e to g. -ENOENT an approve or withdraw of a
 * proposal not pending on e's target, an unfreeze of a window not in
 * force on e's scope (an authorised entry never is); -ENOMEM. */
int ldg_gov_apply(struct ldg_gov *g, const struct ldg_entry *e,
		  ldg_trusted_fn trusted, void *ctx, struct ldg_gov_effect *fx);
void ldg_gov_effect_free(struct ldg_gov_effect *fx);

/* The three arrays POLICIES, WINDOWS, PENDING (docs/format.md 8b), with
 * no array header of their own: authz.c and the gov database frame them. */
void ldg_gov_pack(const struct ldg_gov *g, msgpack_packer *pk);
/* Strict decode of the three arrays: -EBADMSG unless canonical. */
int ldg_gov_unpack(const msgpack_object *pol, const msgpack_object *win,
		   const msgpack_object *pend, struct ldg_gov *out);

/* ---- the store's copy ---- */

/* ldg_trusted_fn over the keyring index of ctx, a struct ldg_read. */
bool ldg_key_trusted(void *ctx, const uint8_t id[LDG_KEYID_BYTES]);

/* The governance state after entries 1..at (0: the head): one seek in
 * the gov database. */
int ldg_gov_load(struct ldg_read *r, uint64_t at, struct ldg_gov *out,
		 struct ldg_err *err);

enum ldg_prop_status {
	LDG_PROP_PENDING,
	LDG_PROP_EFFECTIVE,
	LDG_PROP_WITHDRAWN,
	LDG_PROP_STALE,
};

/* A proposal as the store knows it: its pending record while pending
 * (need, approvers), its fate after. */
struct ldg_proposal {
	uint64_t seq;
	enum ldg_kind kind;
	char target[LDG_TARGET_MAX + 1];
	uint8_t author[LDG_KEYID_BYTES];
	enum ldg_prop_status status;
	uint64_t at; /* the seq that ended it (0 while pending) */
	unsigned need;
	unsigned flags;
	uint8_t (*approvers)[LDG_KEYID_BYTES]; /* while pending */
	size_t n_approvers;
	struct ldg_kv *changes;
	size_t n_changes;
};

const char *ldg_prop_status_name(enum ldg_prop_status s);
/* Only the fate of proposal seq: one lookup, no governance state read.
 * -ENOENT when seq is not a proposal. */
int ldg_prop_fate(struct ldg_read *r, uint64_t seq, enum ldg_prop_status *st,
		  uint64_t *at);
/* -ENOENT when seq is not a proposal. */
int ldg_proposal_get(struct ldg_read *r, uint64_t seq,
		     struct ldg_proposal *out);
void ldg_proposal_free(struct ldg_proposal *p);
/* The pending proposals on targets scope matches (NULL: all), oldest
 * first. Caller frees each with ldg_proposal_free() and *out with free(). */
int ldg_pending_list(struct ldg_read *r, const char *scope,
		     struct ldg_proposal **out, size_t *n);

#endif
