/*
 * ops.h - the write operations: each is one LMDB write transaction that
 * reads the head, builds the entries, checks who may write them, signs,
 * stores entry and indexes, and commits (synced) before returning.
 *
 * Concurrent writers in many processes serialise on LMDB's writer lock;
 * seqs never skip or repeat. A full map is grown and the transaction
 * retried; callers never see MDB_MAP_FULL.
 *
 * Every operation validates all input before writing and leaves the
 * ledger untouched on any error. "Nothing to do" (a value equal to the
 * current one, nothing to restore, already locked) is success with
 * res->n == 0.
 *
 * Every entry appended, and every write that finds nothing to do, asks
 * ldg_may_append() (authorize.h) in the write transaction: who may write
 * what is decided there and only there; a refusal carries its rule and
 * facts in err (err.h).
 *
 * Errors: -EINVAL bad input, -EACCES unauthorised signer, -EBUSY target
 * locked, -ENOENT missing ledger/target/seq, -EEXIST already there,
 * -ENOSPC disk full, -EIO storage failure, -EUCLEAN the keys/locks
 * indexes are not what the signed head says (ldg_authz_check_head():
 * every write checks them first); the reason is in err.
 *
 * Every entry written is version 2, with the commitment of the keyring
 * and locks after it (docs/format.md, 8.1).
 *
 * Caveats: growing the map is only allowed while no other transaction of
 * this process is open, so call the operations from one thread, with no
 * struct ldg_read of the same store open. res is the caller's; the
 * signer k is borrowed for the call.
 */
#ifndef LDG_OPS_H
#define LDG_OPS_H

#include <stdbool.h>

#include "authorize.h"
#include "authz.h"
#include "checkpoint.h"
#include "entry.h"
#include "gov.h"
#include "keys.h"
#include "store.h"

struct ldg_appended {
	uint64_t seq;
	uint8_t hash[LDG_HASH_BYTES];
	enum ldg_kind kind;
	char target[LDG_TARGET_MAX + 1];
};

/* What an operation appended; free with ldg_result_free(). */
struct ldg_result {
	struct ldg_appended *v;
	size_t n;
};

void ldg_result_free(struct ldg_result *res);

/* Creates the ledger in dir with its first entry: origin and k as admin. */
int ldg_init(const char *dir, const char *origin, const struct ldg_signer *k,
	     struct ldg_result *res, struct ldg_err *err);

/* How a set or unset is written (flags; a bool true is LDG_WRITE_FORCE):
 * FORCE passes a lock and is recorded as metadata forced=true; EMERGENCY
 * is recorded as metadata emergency=true: a change during a freeze that
 * takes effect with at least one approval (docs/format.md 8b). */
#define LDG_WRITE_FORCE 1u
#define LDG_WRITE_EMERGENCY 2u

/* kv values must be non-NULL. Keys already at their value are skipped.
 * Under a policy with approvals the entry is a proposal: it takes effect
 * when approved (ldg_proposal_get() says so after the write). */
int ldg_set(struct ldg_store *s, const struct ldg_signer *k, const char *target,
	    const struct ldg_kv *kv, size_t n, const char *reason,
	    const struct ldg_kv *meta, size_t n_meta, unsigned flags,
	    struct ldg_result *res, struct ldg_err *err);

/* keys: the keys to remove; keys not set are skipped. */
int ldg_unset(struct ldg_store *s, const struct ldg_signer *k,
	      const char *target, const char *const *keys, size_t n,
	      const char *reason, const struct ldg_kv *meta, size_t n_meta,
	      unsigned flags, struct ldg_result *res, struct ldg_err *err);

/* what: a target, or a cluster (every target of it that differs).
 * Restores state at seq `to`; locks each rolled-back target unless
 * no_lock (a target already locked stays as it is). */
int ldg_rollback(struct ldg_store *s, const struct ldg_signer *k,
		 const char *what, uint64_t to, const char *reason,
		 const struct ldg_kv *meta, size_t n_meta, bool no_lock,
		 struct ldg_result *res, struct ldg_err *err);

/* The targets a rollback of what (a target, or a cluster: each of its
 * targets) to seq to covers at the head r sees, sorted; caller frees with
 * ldg_strv_free(). -ENOENT when to is past the head or there is no such
 * target or cluster. */
int ldg_rollback_targets(struct ldg_read *r, const char *what, uint64_t to,
			 char ***out, size_t *n, struct ldg_err *err);

int ldg_lock(struct ldg_store *s, const struct ldg_signer *k,
	     const char *target, const char *reason, bool lock,
	     struct ldg_result *res, struct ldg_err *err);

/* scopes: space-separated globs. */
int ldg_key_add(struct ldg_store *s, const struct ldg_signer *k,
		const struct ldg_vkey *vkey, const char *role,
		const char *scopes, const char *reason, struct ldg_result *res,
		struct ldg_err *err);
/* Refuses to revoke the last trusted admin with scope '*'. */
int ldg_key_revoke(struct ldg_store *s, const struct ldg_signer *k,
		   const char *name, const char *reason, struct ldg_result *res,
		   struct ldg_err *err);

/* Appends a caller-built entry (kind, target, changes, reason, meta set;
 * seq, prev, time, signer and signature are filled in). Used by the
 * applier for applied/apply-failed and drift. */
int ldg_append(struct ldg_store *s, const struct ldg_signer *k,
	       struct ldg_entry *draft, struct ldg_result *res,
	       struct ldg_err *err);

/* Appends n caller-built drafts in one transaction (one fsync): for bulk
 * loading, e.g. benchmarks. Each is checked and authorised as ldg_append
 * does; on any error nothing is written. */
int ldg_append_batch(struct ldg_store *s, const struct ldg_signer *k,
		     struct ldg_entry **drafts, size_t n,
		     struct ldg_result *res, struct ldg_err *err);

/* ---- promotion policies (docs/format.md 8b; govops.c) ----
 *
 * Policies and freeze windows are written by an admin whose scopes hold
 * '*' or the scope itself. The entries are built by ldg_entry_policy()
 * and friends (for a remote writer too) and appended like any other.
 */

/* The policy entry for scope: p's approvals, gate_rollbacks, soak and
 * soak_from (p NULL: the scope's policy is cleared). -EINVAL with the
 * reason for bad input. *out is the caller's. */
int ldg_entry_policy(const char *scope, const struct ldg_policy *p,
		     const char *reason, struct ldg_entry **out,
		     struct ldg_err *err);
/* The freeze entry of w (its scope; from/until, or cron, duration, tz;
 * seq ignored); reason is the window's. */
int ldg_entry_freeze(const struct ldg_window *w, const char *reason,
		     struct ldg_entry **out, struct ldg_err *err);
int ldg_entry_unfreeze(const char *scope, uint64_t window, const char *reason,
		       struct ldg_entry **out, struct ldg_err *err);
/* approve (kind LDG_KIND_APPROVE) or withdraw the proposal seq on
 * target. */
int ldg_entry_vote(enum ldg_kind kind, const char *target, uint64_t proposal,
		   const char *reason, struct ldg_entry **out,
		   struct ldg_err *err);

int ldg_policy_set(struct ldg_store *s, const struct ldg_signer *k,
		   const char *scope, const struct ldg_policy *p,
		   const char *reason, struct ldg_result *res,
		   struct ldg_err *err);
/* A writer's checks beyond the format's: the time zone exists here, an
 * absolute window has not ended yet. */
int ldg_freeze(struct ldg_store *s, const struct ldg_signer *k,
	       const struct ldg_window *w, const char *reason,
	       struct ldg_result *res, struct ldg_err *err);
/* The unfreeze entries of window (0: every window in force on exactly
 * scope at r's head, one entry each), for ldg_unfreeze() and a remote
 * writer planning on a copy: *out (caller frees each with
 * ldg_entry_free() and the array with free()), *n of them. -ENOENT
 * (LDG_WHY_NO_WINDOW) when there is none. */
int ldg_draft_unfreeze(struct ldg_read *r, const char *scope, uint64_t window,
		       const char *reason, struct ldg_entry ***out, size_t *n,
		       struct ldg_err *err);
/* window 0: every window in force on exactly scope (one entry each);
 * -ENOENT when there is none. */
int ldg_unfreeze(struct ldg_store *s, const struct ldg_signer *k,
		 const char *scope, uint64_t window, const char *reason,
		 struct ldg_result *res, struct ldg_err *err);
/* The approve (kind LDG_KIND_APPROVE) or withdraw entry of proposal, on
 * its target at r's head: for ldg_approve(), ldg_withdraw() and a remote
 * writer planning on a copy. -EPERM (LDG_WHY_NOT_PENDING) when proposal
 * is none; whether it is still pending is the rules' to say. */
int ldg_draft_vote(struct ldg_read *r, enum ldg_kind kind, uint64_t proposal,
		   const char *reason, struct ldg_entry **out,
		   struct ldg_err *err);
/* The target is the proposal's. -EPERM (LDG_WHY_NOT_PENDING) when seq is
 * not a proposal. */
int ldg_approve(struct ldg_store *s, const struct ldg_signer *k,
		uint64_t proposal, const char *reason, struct ldg_result *res,
		struct ldg_err *err);
int ldg_withdraw(struct ldg_store *s, const struct ldg_signer *k,
		 uint64_t proposal, const char *reason, struct ldg_result *res,
		 struct ldg_err *err);

/* ---- remote writers ----
 *
 * A client without the store builds its entry from the state it fetched
 * (the values and lock of the target at the head it will build on), seals
 * it for that head with its own key, and sends the bytes; the store's
 * host appends them with ldg_append_signed(), which checks them exactly
 * as a local append checks its own.
 */

/* The set/unset/lock/unlock entry that ldg_set(), ldg_unset() and
 * ldg_lock() would write on a target whose state is now; input checked as
 * they check it. *out is NULL when there is nothing to do, else the
 * caller's (ldg_entry_free()). Authorisation and the lock are the
 * server's to check. */
int ldg_draft_set(const struct ldg_values *now, const char *target,
		  const struct ldg_kv *kv, size_t n, const char *reason,
		  const struct ldg_kv *meta, size_t n_meta, unsigned flags,
		  struct ldg_entry **out, struct ldg_err *err);
int ldg_draft_unset(const struct ldg_values *now, const char *target,
		    const char *const *keys, size_t n, const char *reason,
		    const struct ldg_kv *meta, size_t n_meta, unsigned flags,
		    struct ldg_entry **out, struct ldg_err *err);
int ldg_draft_lock(const struct ldg_values *now, const char *target,
		   const char *reason, bool lock, struct ldg_entry **out,
		   struct ldg_err *err);

/* The rollback entry that ldg_rollback() would write for one target whose
 * state was then (at seq to) and is now: every key restored to its value
 * in then, keys then lacked unset, metadata rollback-to=to and meta.
 * *out NULL: nothing to restore. The lock that ldg_rollback() adds is
 * not part of it (ldg_draft_lock(), a separate entry). */
int ldg_draft_rollback(const char *target, const struct ldg_values *then,
		       const struct ldg_values *now, uint64_t to,
		       const char *reason, const struct ldg_kv *meta,
		       size_t n_meta, struct ldg_entry **out,
		       struct ldg_err *err);

/* The evidence a change carries when it takes effect under a soak
 * (docs/format.md 8b), as every local write adds it: when e (its
 * signer set) is a set that takes effect at once, or the approval that
 * makes a proposal take effect, under a policy with a soak, metadata
 * soak-applied = the applied entry of the soak's source that it ran
 * since (ldg_soak_evidence()), found at r's head, whose governance
 * state is g. Nothing is added when none applies or none is found (the
 * rules then refuse, naming what is missing), nor to an entry that
 * has it. For a remote writer that plans on a copy of the ledger. */
int ldg_draft_evidence(struct ldg_read *r, const struct ldg_gov *g,
		       struct ldg_entry *e, struct ldg_err *err);

/* Makes draft the entry after head (seq head + 1, prev = the head's hash,
 * time now, signer k), checks it and signs it for origin; *out is the
 * stored bytes (malloc'd; caller frees). az: the keyring and locks after
 * head: the entry is version 2 with the commitment of az after it (and
 * az is that), or NULL for a version 1 entry (a server older than
 * version 2 does not say its state). */
int ldg_entry_seal(struct ldg_entry *draft, uint64_t head,
		   const uint8_t prev[LDG_HASH_BYTES], const char *origin,
		   struct ldg_authz *az, const struct ldg_signer *k,
		   uint8_t **out, size_t *len, struct ldg_err *err);

/* ldg_entry_seal() for a signer whose secret key is elsewhere (a
 * browser): fills seq, prev, time and signer = keyid, checks the entry,
 * and returns its stored bytes with an all-zero signature (*bytes) and
 * the exact message the signer must sign (*msg). Both malloc'd; the
 * caller frees. The signed entry is *bytes with its last LDG_SIG_BYTES
 * replaced by the signature (docs/format.md section 5). az as for
 * ldg_entry_seal(). */
int ldg_entry_prepare(struct ldg_entry *draft, uint64_t head,
		      const uint8_t prev[LDG_HASH_BYTES], const char *origin,
		      struct ldg_authz *az,
		      const uint8_t keyid[LDG_KEYID_BYTES], uint8_t **bytes,
		      size_t *blen, uint8_t **msg, size_t *mlen,
		      struct ldg_err *err);

/* Appends an entry signed elsewhere, given its exact stored bytes, in one
 * write transaction: strict decode, seq == head + 1 and prev == the
 * head's hash, a signature by its signer's keyring key for this origin,
 * ldg_may_append() (the last-admin rule of key-revoke included), then the
 * entry and its indexes. Errors: -EBADMSG malformed, non-canonical or badly
 * signed, larger than LDG_BUNDLE_ENTRY_MAX (tlog.h: a new entry must fit
 * an entry bundle), a version 2 entry whose authz is not the keyring and locks
 * after it, a version 1 entry after a version 2 one; -ESTALE the head moved (rebuild on the new head and retry);
 * -EINVAL an init entry; and those of ldg_may_append() (-EACCES, -EBUSY
 * with the lock's seq and reason, -EEXIST, -ENOENT, -EPERM last admin), or a
 * rollback that does not restore the state at its rollback-to
 * (ldg_rollback_check(), which every append asks). Nothing is written on
 * any error. */
int ldg_append_signed(struct ldg_store *s, const uint8_t *buf, size_t len,
		      struct ldg_result *res, struct ldg_err *err);

/* ldg_append_signed() for n entries signed elsewhere, each built on the
 * one before it, in one transaction: all are appended or none. Errors
 * as ldg_append_signed(); with n > 1 prefixed "entry N: ". */
int ldg_append_signed_batch(struct ldg_store *s, const uint8_t *const *bufs,
			    const size_t *lens, size_t n,
			    struct ldg_result *res, struct ldg_err *err);

/* Appends n entries copied from another copy of this ledger (a mirror,
 * `ledger mirror`), in one transaction: each checked exactly as
 * ldg_append_signed() checks one, except that into an empty store the
 * first may be the init entry (signed by the key it records, for the
 * origin it records; the store takes that origin), and an entry may be
 * as large as the decoder takes (LDG_ENTRY_MAX: a ledger written before
 * the cap of new entries). Errors as
 * ldg_append_signed(), prefixed with the seq ("entry N: ..."); nothing
 * is written on any error. */
int ldg_append_copied(struct ldg_store *s, const uint8_t *const *bufs,
		      const size_t *lens, size_t n, struct ldg_result *res,
		      struct ldg_err *err);

/* ldg_append_copied() of the entries a checkpoint was published with (a
 * copy from a tiles host): in the same transaction, after the n entries
 * (n may be 0), ldg_checkpoint_check() (verify.h) of cp on the ledger
 * they make: its origin, a size up to the new head, a signature by a key
 * of the keyring there by its size and not revoked, its Merkle root. So
 * the entries are taken only with the checkpoint. Errors as both;
 * nothing is written on any error. */
int ldg_append_copied_checkpoint(struct ldg_store *s,
				 const uint8_t *const *bufs, const size_t *lens,
				 size_t n, const struct ldg_checkpoint *cp,
				 struct ldg_result *res, struct ldg_err *err);

/* Rebuilds every index from the entries in one transaction. */
int ldg_reindex(struct ldg_store *s, uint64_t *count, struct ldg_err *err);

#endif
