/*
 * authorize.h - the one authorisation question: may this key append an
 * entry of this kind on this target, here (at the head a transaction
 * sees)? And, before a writer asks it, the proof that the indexes it is
 * answered from hold the state the signed head commits to.
 *
 * Every writer asks ldg_may_append(): the write operations (ops.h, for
 * every entry they append and for the writes that turn out to have
 * nothing to do), the appends of entries signed elsewhere (`ledger
 * serve`, `ledger mirror`), the server's drafts for a browser, and the
 * applier before it runs helmfile. `ledger verify` asks it of every entry
 * of the log, against its replay. So the rules (docs/format.md section
 * 8) are written once, here; a policy that decides more (approvals, soak
 * time, freeze windows: SPEC.md section 9) is one more rule here, fed by
 * the fields of struct ldg_write_req, and no caller changes.
 *
 * A refusal says which rule in err (err.h: why, and the facts it names:
 * key, role, seq, target, the lock's reason) beside a factual message;
 * front ends word advice from the facts.
 *
 * Caveats: answers are as of the transaction r; a writer must ask in the
 * write transaction it appends in. Not thread-safe beyond r's own rules.
 */
#ifndef LDG_AUTHORIZE_H
#define LDG_AUTHORIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "authz.h"
#include "entry.h"
#include "err.h"
#include "store.h"

/* The question. Everything is borrowed for the call. */
struct ldg_write_req {
	const uint8_t *signer; /* the key id (LDG_KEYID_BYTES) that signs */
	enum ldg_kind kind;
	const char *target; /* as the entry's: "" for init and key entries,
			      * CLUSTER alone for a cluster's apply result */
	bool forced;	    /* the entry carries metadata forced */
	/* the entry itself when it exists; the rules that read its content
	 * (init's key, key-add's new key, key-revoke's name) need it. NULL
	 * asks about kind and target alone: "could this key write here?"
	 * (the applier before it runs, a write with nothing to do) */
	const struct ldg_entry *entry;
	/* the entry's signed time (ns since the epoch; 0: not yet known).
	 * No rule of docs/format.md section 8 reads it, on purpose:
	 * position decides, never clock time. It is here for the policies
	 * that will (soak time, freeze windows). */
	uint64_t time_ns;
	/* judging an entry already in the log (verify's replay): the rules
	 * of the format only, not those a writer adds (the last admin
	 * stays, docs/format.md section 14) */
	bool history;
	/* where the entries the rules read are (a soak's applied entry, a
	 * window's reason): NULL for the transaction asked, verify's replay
	 * passes the real store (its scratch has indexes only) */
	struct ldg_read *log;
	/* the writer's clock (ns), for an entry signed elsewhere: its time
	 * may be at most LDG_SKEW_NS from it. 0: no such check (the
	 * writer's own entries, copies of old ones, verify) */
	uint64_t now_ns;
};

/* The question about entry e (signer, kind, target, forced, time: its
 * own fields). */
void ldg_write_req_of(const struct ldg_entry *e, struct ldg_write_req *out);

/* 0: q->signer may append it at the head r sees. Else, with why and its
 * facts in err:
 *   -EACCES  init not signed by its own key (LDG_WHY_INIT_SIGNER),
 *            unknown signer (LDG_WHY_UNKNOWN_KEY), revoked
 *            (LDG_WHY_REVOKED), role (LDG_WHY_ROLE), scope
 *            (LDG_WHY_SCOPE)
 *   -EBUSY   set/unset on a locked target, not forced (LDG_WHY_LOCKED,
 *            seq and reason of the lock)
 *   -EEXIST  key-add of a name or key id taken (LDG_WHY_KEY_TAKEN),
 *            key-revoke of a revoked key (LDG_WHY_KEY_REVOKED)
 *   -ENOENT  key-revoke of an unknown name (LDG_WHY_NO_SUCH_KEY)
 *   -EPERM   key-revoke of the last admin with scope '*'
 *            (LDG_WHY_LAST_ADMIN; not when q->history)
 *   -EINVAL  an init or key-add without a valid vkey (no why)
 *   other    the indexes cannot be read (no why)
 * The rules are checked in the order of docs/format.md section 8: a lock
 * is news only to a key that may write the target. */
__attribute__((warn_unused_result)) int
ldg_may_append(struct ldg_read *r, const struct ldg_write_req *q,
	       struct ldg_err *err);

/* The state the indexes r sees hold (keys, keyids, the !lock rows of
 * state): not checked against anything. -EUCLEAN when keys and keyids
 * disagree. */
int ldg_authz_load(struct ldg_read *r, struct ldg_authz *out,
		   struct ldg_err *err);

/* The state the indexes r sees hold as of entries 1..at (at <= the head
 * r sees): the keys added by at (a revocation after at undone), the
 * locks in force after at (the versions of "!lock"), the governance row
 * at or before at. Not checked against anything: `ledger verify
 * --since` checks it against entry at's commitment. */
int ldg_authz_load_at(struct ldg_read *r, uint64_t at, struct ldg_authz *out,
		      struct ldg_err *err);

/* The writer's check, in its write transaction, before it writes: *out is
 * the state the indexes hold once they are proven to be the head's: a
 * version 2 head must verify with its signer's key in the index and
 * commit to that state; for a version 1 head the state is replayed from
 * every entry (O(N), once per ledger in practice) and must be the
 * index's. -EUCLEAN when they differ ("...; run ledger verify, then
 * ledger reindex"), with nothing written. */
int ldg_authz_check_head(struct ldg_read *w, struct ldg_authz *out,
			 struct ldg_err *err);

#endif
