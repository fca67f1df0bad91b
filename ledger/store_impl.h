/*
 * store_impl.h - private to ledger/: the store's insides, shared by
 * store.c (reads, indexes), ops.c (appends) and verify.c (replay).
 * Nothing outside ledger/ includes this.
 *
 * Caveats: a write transaction (ldg_write_begin()) is used by the thread
 * that began it, and LMDB runs one at a time. ldg_store_grow(), and a map
 * resize adopted when a transaction begins, need every other transaction
 * of this process closed.
 */
#ifndef LDG_STORE_IMPL_H
#define LDG_STORE_IMPL_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>

#include "authz.h"
#include "store.h"

enum ldg_db {
	DB_ENTRIES,
	DB_META,
	DB_STATE,
	DB_TARGETS,
	DB_VERSIONS,
	DB_HISTORY,
	DB_MERKLE,
	DB_KEYS,
	DB_KEYIDS,
	DB_GOV,	  /* seq8 -> governance after it (gov.h) */
	DB_PROPS, /* proposal seq8 -> its fate and changes */
	DB_COUNT
};
#define DB_FIRST_INDEX DB_STATE /* DB_STATE..DB_PROPS are derived */
#define DB_FIRST_ADDED DB_GOV	/* added since: absent from older ledgers */

extern const char *const ldg_db_names[DB_COUNT];

/* Bumped whenever a derived database changes layout: a ledger whose
 * indexes were built under another version is reindexed by the next
 * writer, and refused by read-only openers until then. A database added
 * empty for every ledger written before it (gov, props: no governance
 * there) needs no bump: an opener that may write adds it, one that may
 * not reads it as empty (struct ldg_store's absent). */
#define LDG_INDEX_VERSION "4"

struct ldg_store {
	bool stale; /* indexes from another LDG_INDEX_VERSION */
	/* databases added to the layout after the ledger was written
	 * (1u << DB_*) and not in it yet: read as empty. The first write
	 * that commits adds them; a reader adopts them at its next
	 * ldg_read_begin() (atomic: readers run on many threads) */
	unsigned absent;
	pthread_mutex_t adopt_mu; /* one mdb_dbi_open() at a time */
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	unsigned flags;
	unsigned envflags;  /* as opened: store_reopen() opens the same */
	char dir[PATH_MAX]; /* absolute when realpath() could make it so */
	char origin[LDG_ORIGIN_MAX + 1];
	/* the newest txnid ldg_store_settle() could not publish: not tried
	 * again until data.mdb moves on (no helper run every poll) */
	size_t settle_failed;
	/* the keyring and locks after this process's last write commit,
	 * and its txnid (0: none): see checked_authz() in ops.c */
	struct ldg_authz az;
	size_t az_txnid;
};

/* A transaction, read or write: ldg_read for readers, also used by the
 * writers inside ledger/. */
struct ldg_read {
	struct ldg_store *s;
	MDB_txn *txn;
	unsigned absent; /* s->absent as this transaction began */
	/* ldg_verify_since() sets these on its read of the ledger: an
	 * entry 1..proven is decoded by ldg_entry_read() only once an
	 * inclusion proof from the stored nodes leads its bytes to
	 * proven_root (the trusted checkpoint's), else -EBADMSG and the
	 * smallest such seq in unproven. 0: every entry is read as is. */
	uint64_t proven, unproven;
	uint8_t proven_root[LDG_HASH_BYTES];
};

/* True when db is one this store reads as empty: added to the layout
 * after the ledger was written, and not there yet (read-only opener). */
bool ldg_db_absent(const struct ldg_read *r, enum ldg_db db);
/* In write transaction w: adds its absent databases (empty), so that
 * the write may index into them; once w commits, ldg_store_adopt(w)
 * makes them the store's (an aborted w leaves them absent). */
int ldg_store_add_absent(struct ldg_read *w);
void ldg_store_adopt(struct ldg_read *w);

/* Maps an MDB_* or errno code to a negative errno once, here. MDB_MAP_FULL
 * becomes -EFBIG (the caller grows the map and retries). */
int ldg_mdb_err(int rc);

/* Opens a store on dir with extra MDB flags (verify's scratch replay uses
 * MDB_NOSYNC) and a starting map size. */
int ldg_store_open_ex(const char *dir, unsigned flags, unsigned mdb_flags,
		      size_t mapsize, struct ldg_store **out,
		      struct ldg_err *err);

/* ldg_store_settle() for a read-only store runs the helper program
 * ledger-settle DIR (settle_main.c; found by ldg_helper_path(), or at
 * $LEDGER_SETTLE), which calls ldg_store_settle_dir(): its own
 * environment on dir, LMDB's write mutex taken and dropped. 0, or
 * -errno (-EACCES, -EROFS, -EPERM: no write access). The helper exits
 * with LDG_SETTLE_*, and SIGALRM ends it after LDG_SETTLE_SECONDS: a
 * live writer holds the mutex for one commit, one that is stopped
 * (SIGSTOP) must not hang readers. */
#define LDG_SETTLE_SECONDS 5
#define LDG_SETTLE_DONE 0
#define LDG_SETTLE_NO_WRITE 1
#define LDG_SETTLE_FAILED 2
int ldg_store_settle_dir(const char *dir);

/* Begins a write transaction (handles a map resized by another process). */
int ldg_write_begin(struct ldg_store *s, struct ldg_read *w,
		    struct ldg_err *err);
/* Doubles the map; no transaction of this process may be open. */
int ldg_store_grow(struct ldg_store *s, struct ldg_err *err);
/* Grows the map (doubling it) until bytes more than what the ledger
 * uses fit in it, so that one big write does not fill it and start
 * again (run_write() grows and redoes a transaction that does: a copy
 * of 100,000 entries in one would do most of its work twice). No
 * transaction of this process may be open. */
int ldg_store_reserve(struct ldg_store *s, size_t bytes, struct ldg_err *err);

/* The seq of the lock entry in force on target (its state row "!lock"),
 * or 0 when it is not locked. */
int ldg_lock_seq(struct ldg_read *r, const char *target, uint64_t *seq);

/* The values an entry makes effective (promotion policies decide which,
 * govstore.c): its own changes, none (a proposal), or a proposal's
 * (the approval that enacts it). */
struct ldg_index_values {
	bool effective;
	const struct ldg_kv *changes;
	size_t n;
};

/* Updates every derived database but gov and props for entry e
 * (already decoded and accepted) whose leaf hash is hash, with the values
 * vals says take effect. The entry bytes themselves are put by the
 * caller. Use ldg_index_entry() (govstore.c), which decides vals. */
int ldg_index_apply(struct ldg_read *w, const struct ldg_entry *e,
		    const uint8_t hash[LDG_HASH_BYTES],
		    const struct ldg_index_values *vals);
/* Updates every derived database for entry e: the governance (gov,
 * props) and then ldg_index_apply() with the values that take effect. */
int ldg_index_entry(struct ldg_read *w, const struct ldg_entry *e,
		    const uint8_t hash[LDG_HASH_BYTES]);

/* `ledger verify --since`'s scratch (verify.c): makes the empty indexes
 * of w those of a ledger whose entries 1..at are r's, as far as the
 * rules of entries after at read them: the authorisation state a (keys,
 * keyids, the locks' "!lock" rows, the governance row at at and a props
 * row per pending proposal, its changes read from the entry in r), the
 * targets created by at with their values after at (state and versions
 * rows, read from r's versions index), and the complete subtrees of
 * r's Merkle tree of size at (its "frontier", levels >= 1), which the
 * nodes of entries after at are made from. Nothing is checked here: the
 * caller proves a against entry at's commitment and the frontier
 * against a checkpoint's root. */
int ldg_index_seed(struct ldg_read *w, struct ldg_read *r, uint64_t at,
		   const struct ldg_authz *a);
/* The governance part of ldg_index_seed() (govstore.c). */
int ldg_gov_seed(struct ldg_read *w, struct ldg_read *r, uint64_t at,
		 const struct ldg_gov *g);

#endif
