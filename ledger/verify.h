/*
 * verify.h - the one full pass over the log.
 *
 * For every entry, in order: strict decoding, seq contiguity, the prev
 * link, the signature (checked on worker threads), the signer's authority
 * at that point of the log (ldg_may_append() against a replay), what a
 * rollback restores (ldg_rollback_check() against the replay), and the
 * Merkle tree. The replay builds every index afresh in a scratch LMDB
 * environment under $TMPDIR, which is then compared with the ledger's own
 * indexes. Checkpoints are proven as prefixes of the log.
 *
 * And the incremental pass from a trusted tree of N entries
 * (ldg_verify_since(), `ledger verify --since`, and what mirrors run
 * after a copy, ldg_verify_copy()): the same checks of every entry after
 * N, on a scratch seeded with the indexes' state at N once entry N's
 * commitment and the checkpoint's root prove it.
 *
 * Returns 0 when everything holds, -EBADMSG when something does not (the
 * report says the first bad seq and what is wrong), or another negative
 * errno when the check itself could not run (reason in err).
 *
 * Caveats: each pass opens its own read transaction on s and runs its
 * own signature threads, joined before it returns. opts, and the
 * checkpoints it points to, are borrowed for the call.
 */
#ifndef LDG_VERIFY_H
#define LDG_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoint.h"
#include "store.h"

struct ldg_verify_opts {
	unsigned threads; /* signature workers; 0 = one per core */
	/* called on the calling thread now and then; may be NULL */
	void (*progress)(uint64_t done, uint64_t total, void *arg);
	void *progress_arg;
	const struct ldg_checkpoint *checkpoints;
	size_t n_checkpoints;
};

struct ldg_verify_report {
	uint64_t entries; /* entries checked */
	uint64_t head;
	uint8_t head_hash[LDG_HASH_BYTES];
	uint8_t root[LDG_HASH_BYTES]; /* Merkle root at head */
	char origin[LDG_ORIGIN_MAX + 1];
	/* what the replay decided under promotion policies (docs/format.md
	 * 8b): changes recorded as proposals, approvals that enacted one,
	 * and emergency changes (the first LDG_VERIFY_EMERGENCY_MAX seqs) */
	uint64_t proposals;
	uint64_t enacted;
	uint64_t emergencies;
#define LDG_VERIFY_EMERGENCY_MAX 16
	uint64_t emergency_seq[LDG_VERIFY_EMERGENCY_MAX];
	uint64_t since;	    /* ldg_verify_since(): the size it started from */
	bool bad_since;	    /* the problem is that tree's (not this ledger's) */
	uint64_t bad_seq;   /* first bad entry, 0 if none or an index */
	int bad_checkpoint; /* index of the failing checkpoint, or -1 */
	char problem[2 * LDG_ERR_MSG_MAX];
};

__attribute__((warn_unused_result)) int
ldg_verify(struct ldg_store *s, const struct ldg_verify_opts *opts,
	   struct ldg_verify_report *rep, struct ldg_err *err);

/* The incremental check (docs/format.md section 10.1, "Verifying from a
 * checkpoint"), from a tree of size entries with root root that the
 * caller trusts (a checkpoint it verified before, or a copy's head it
 * checked): the stored tree of the first size entries must make root,
 * entry size (a version 2 entry) must be in it (an inclusion proof from
 * the stored nodes) and commit to the keyring, locks and governance the
 * indexes hold as of size; then every entry after size is checked as
 * ldg_verify() checks it, against those, and the stored tree and the
 * authorisation indexes at the head against the replay. Entries before
 * size and the other indexes' rows are not checked again; one that a
 * rule after size reads is read only with an inclusion proof against
 * root (-EBADMSG, naming it, when the tree does not hold it). opts's
 * checkpoints are checked too (one of size or below by a consistency
 * proof from the stored nodes). rep->entries counts the entries after
 * size. -EBADMSG when something does not hold (the report says what),
 * -ENOTSUP when entry size is version 1 (no commitment) or the indexes
 * are another version's (ldg_store_stale()): only ldg_verify() can
 * check this ledger then; other errors as ldg_verify(). */
__attribute__((warn_unused_result)) int
ldg_verify_since(struct ldg_store *s, uint64_t size,
		 const uint8_t root[LDG_HASH_BYTES],
		 const struct ldg_verify_opts *opts,
		 struct ldg_verify_report *rep, struct ldg_err *err);

/* What a mirror checks once it has copied entries after from into s
 * (`ledger mirror`, its --tiles form): ldg_verify_since() from the
 * copy's head before the copy (from, and root: the stored root at from,
 * which the caller read before it copied, a head the previous run
 * checked), or ldg_verify() of the whole copy when from is 0 (a first
 * copy) or entry from is version 1. Returns as they do. */
__attribute__((warn_unused_result)) int
ldg_verify_copy(struct ldg_store *s, uint64_t from,
		const uint8_t root[LDG_HASH_BYTES],
		const struct ldg_verify_opts *opts,
		struct ldg_verify_report *rep, struct ldg_err *err);

/* What one entry proves on its own, from its stored bytes, at the point
 * of the log r sees (the web page's entry check; ldg_verify() is the
 * whole check). Problems are constant strings, NULL when all is well. */
struct ldg_entry_proof {
	uint8_t hash[LDG_HASH_BYTES]; /* of the stored bytes, computed now */
	/* the Ed25519 signature with the signer's keyring key: "the stored
	 * bytes are not a valid entry", "the signer is not in the keyring",
	 * "the signature does not verify" */
	const char *sig_problem;
	/* the key's standing at that seq: "... added after this entry",
	 * "... revoked before this entry" */
	const char *key_problem;
	bool have_key; /* key is the signer's keyring row */
	struct ldg_keyinfo key;
	bool prev_ok; /* prev = hash of seq - 1 (zeros for 1) */
	int next_ok;  /* seq + 1's prev = hash: 1, 0; -1 at the head */
};

/* Fills *out for entry seq. -ENOENT when there is no such entry, -EIO
 * when its bytes cannot be read; a rewritten entry is not an error (the
 * proof says what fails). */
__attribute__((warn_unused_result)) int
ldg_entry_prove(struct ldg_read *r, uint64_t seq, struct ldg_entry_proof *out,
		struct ldg_err *err);

/* Whether cp is a checkpoint of this ledger as it stands, for a host that
 * keeps it to hand out (`ledger serve`): its origin, a size 1..head, a
 * signature by a key of the keyring (there by that size, not revoked),
 * and the Merkle root of the first size entries (from the stored tree:
 * ldg_verify() is the full check). -EINVAL wrong origin or size, -EACCES
 * not signed by a trusted key or a signature line by a key of the
 * keyring that does not verify (as Go's note.Open, that rejects the
 * note), -EBADMSG another root; reason in err. */
__attribute__((warn_unused_result)) int
ldg_checkpoint_check(struct ldg_read *r, const struct ldg_checkpoint *cp,
		     struct ldg_err *err);

#endif
