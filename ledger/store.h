/*
 * store.h - the ledger on disk: one LMDB environment, read access.
 *
 * Named databases (docs/format.md, "Storage"):
 *   entries   seq (8-byte big-endian) -> exact signed entry bytes
 *   meta      "origin" -> the ledger's origin
 *   state     TARGET 0x00 KEY -> seq8 || 0x01 || value (a string),
 *             seq8 || 0x02 || JSON (a typed value's canonical text), or
 *             seq8 || 0x00 (the newest version of each key: the current
 *             values)
 *   targets   TARGET -> seq8 of the target's first entry
 *   versions  TARGET 0x00 KEY 0x00 seq8 -> 0x01 || value, 0x02 || JSON,
 *             or 0x00 (unset)
 *   history   TARGET|CLUSTER 0x00 seq8 -> ""           (per-target log)
 *   merkle    leaf8 || level1 -> hash32 of the complete subtree of that
 *             level (>= 1) that leaf (0-based, big-endian) completes
 *   keys      NAME -> pk32 || added8 || revoked8 || role 0x00 scopes
 *   keyids    KEYID4 -> NAME
 * The lock of a target is kept as the reserved key "!lock" in state and
 * versions (no user key can start with '!'), so "state at N" covers locks.
 * Everything but entries is derived data, rebuilt by ldg_reindex() and
 * checked against a replay by ldg_verify().
 *
 * Caveats: a struct ldg_store may be shared by threads; each thread uses
 * its own struct ldg_read. Memory returned as "borrowed" is LMDB's and is
 * valid only until ldg_read_end(). Open read-only stores (LDG_OPEN_RDONLY)
 * after fork(), never before.
 */
#ifndef LDG_STORE_H
#define LDG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"

#define LDG_OPEN_CREATE 1u /* create the directory and databases */
#define LDG_OPEN_RDONLY                                                        \
	2u /* read-only, for long-lived multi-threaded readers */
#define LDG_OPEN_ANY_INDEX                                                     \
	4u /* open even indexes of another version (verify) */

#define LDG_LOCK_KEY "!lock"
#define LDG_APPLY_KEY "!apply" /* state row: the target's newest apply */
#define LDG_DRIFT_KEY "!drift" /* state row: the target's newest drift */
#define LDG_ROLE_MAX 16
#define LDG_SCOPES_MAX 1024

struct ldg_store;
struct ldg_read;

/* Resolves the ledger directory: dir if given, else $LEDGER_DIR, else
 * $XDG_DATA_HOME/ledger, else ~/.local/share/ledger. out has PATH_MAX. */
int ldg_store_dir_default(const char *dir, char *out, size_t outlen);

int ldg_store_open(const char *dir, unsigned flags, struct ldg_store **out,
		   struct ldg_err *err);
void ldg_store_close(struct ldg_store *s);

/* Removes a ledger's files (data.mdb, lock.mdb) and its directory, as far
 * as made_* say this caller made them, after its store is closed: a
 * failed init's leftovers, or a private scratch ledger. Nothing is
 * removed while another process has the environment open. dir's parents
 * that ldg_mkdir_p() made stay. */
void ldg_store_unmake(const char *dir, bool made_dir, bool made_lock,
		      bool made_data);
/* True when the indexes were built by another version of ledger: the
 * next write (or ldg_reindex()) rebuilds them; readers should not trust
 * them until then. */
bool ldg_store_stale(const struct ldg_store *s);

/* Publishes a commit whose writer was killed after writing it to
 * data.mdb but before telling the lock file (see store.c), so that this
 * and every process sharing the lock file sees it. Every open but a
 * CREATE one does it; long-lived readers (the mount, the server) call it
 * before they look at the head. *published (may be NULL): there was such
 * a commit (or a live writer's, which completes first) and it is now
 * seen. -EACCES no write access to the ledger (it shows at the next
 * write), -ETIMEDOUT the write mutex stayed taken for 5 s (a stopped
 * writer); the same commit is then not tried again.
 *
 * -ENOENT the helper program ledger-settle (which a read-only store
 * needs) was not found.
 *
 * Caveats: it takes LMDB's write mutex, so it waits for a writer in the
 * middle of a commit; for a read-only store it runs ledger-settle with
 * posix_spawn() (no fork: safe in threaded processes; store.c says why),
 * which is looked for as ldg_helper_path() says. Call it with no
 * transaction of this store open in any thread when the store is not
 * read-only. */
int ldg_store_settle(struct ldg_store *s, bool *published);

/* The ledger's origin ("" before init). Borrowed, lives with the store. */
const char *ldg_store_origin(const struct ldg_store *s);

int ldg_read_begin(struct ldg_store *s, struct ldg_read **out,
		   struct ldg_err *err);
void ldg_read_end(struct ldg_read *r);

/* Head seq (0 for an empty store) and its entry hash. */
int ldg_head(struct ldg_read *r, uint64_t *seq, uint8_t hash[LDG_HASH_BYTES]);
/* Stored bytes of entry seq; borrowed. -ENOENT when absent. */
int ldg_entry_raw(struct ldg_read *r, uint64_t seq, const uint8_t **buf,
		  size_t *len);
/* Decoded entry seq; caller frees with ldg_entry_free(). -EBADMSG
 * when r is ldg_verify_since()'s and the trusted tree does not hold
 * these bytes (store_impl.h, struct ldg_read's proven). */
int ldg_entry_read(struct ldg_read *r, uint64_t seq, struct ldg_entry **out,
		   struct ldg_err *err);
int ldg_entry_hash_at(struct ldg_read *r, uint64_t seq,
		      uint8_t hash[LDG_HASH_BYTES]);
/* RFC 6962 root of the first size entries, from stored subtree hashes. */
int ldg_merkle_root_at(struct ldg_read *r, uint64_t size,
		       uint8_t root[LDG_HASH_BYTES]);
/* An ldg_node_fn (tlog.h) over r, a struct ldg_read *: the hash of the
 * perfect subtree of height at index, 0 = the entry hash of entry
 * index + 1; -ENOENT when the head has not completed it. */
int ldg_store_node(void *r, unsigned height, uint64_t index,
		   uint8_t out[LDG_HASH_BYTES]);
/* The cheap check of the stored tree that `checkpoint --no-verify` makes
 * before signing ldg_merkle_root_at(size): every stored node on the
 * right edge of each perfect subtree the root is made of is the hash of
 * its two children, down to the leaves hashed from the entry bytes. 0,
 * or -EBADMSG with *bad the seq of the last entry under the first node
 * that does not match; other errors when nodes cannot be read. It proves
 * the stored root is the tree of the stored entries along that edge
 * only: the full check is ldg_verify(). */
int ldg_merkle_check_tail(struct ldg_read *r, uint64_t size, uint64_t *bad);

/* A target's values at a point of the log. */
struct ldg_value {
	char *key;
	char *value;	     /* a string, or a typed value's canonical text */
	uint64_t seq;	     /* entry that last changed it */
	enum ldg_vtype type; /* entry.h: LDG_V_STR or LDG_V_JSON */
};

struct ldg_values {
	struct ldg_value *v; /* sorted by key */
	size_t n;
	uint64_t lock_seq; /* seq of the lock entry in force, or 0 */
	/* the last entry that changed any value (set or unset), and the
	 * last that changed values or the lock: the mtimes of a target's
	 * values.yaml and of its directory */
	uint64_t values_mtime_seq;
	uint64_t mtime_seq;
};

/* State of target after entries 1..at (at = 0: the head): at the head one
 * range scan of the state index, before it one seek in the versions
 * index per key the target ever had, O(K log N). */
int ldg_state_get(struct ldg_read *r, const char *target, uint64_t at,
		  struct ldg_values *out);
void ldg_values_free(struct ldg_values *v);
const struct ldg_value *ldg_values_find(const struct ldg_values *v,
					const char *key);

/* The seqs, oldest first and each once, that the state index says made
 * target's current values what they are (a value's newest set or unset)
 * after seq after (0: all): what the applier re-judges before deploying
 * them (ldg_effect_check(), policy.h). Caller frees *seqs. */
int ldg_state_changes(struct ldg_read *r, const char *target, uint64_t after,
		      uint64_t **seqs, size_t *n);

/* Targets that ever had an entry, sorted; prefix selects "CLUSTER/" or a
 * whole target, NULL for all. Only targets created at or before at
 * (0 = head) are listed. Caller frees with ldg_strv_free(). */
int ldg_targets_list(struct ldg_read *r, const char *prefix, uint64_t at,
		     char ***out, size_t *n);
void ldg_strv_free(char **v, size_t n);

/* Up to max seqs (0 = all) of scope's history, newest first, starting
 * below before (0 = from the head). scope: a target, a cluster, or NULL
 * for the whole log. Caller frees *seqs. */
int ldg_history(struct ldg_read *r, const char *scope, uint64_t before,
		size_t max, uint64_t **seqs, size_t *n);

/* The newest applied or apply-failed entry of target at the head: *seq,
 * or 0 when there is none. One lookup (the state index keeps it). */
int ldg_last_apply(struct ldg_read *r, const char *target, uint64_t *seq);

/* The newest drift entry of target (a release, or a cluster for its auto
 * releases) at the head: *seq, or 0 when it was never checked. One
 * lookup, as ldg_last_apply(). */
int ldg_last_drift(struct ldg_read *r, const char *target, uint64_t *seq);

struct ldg_keyinfo {
	struct ldg_vkey vkey;
	char role[LDG_ROLE_MAX];
	char scopes[LDG_SCOPES_MAX];
	uint64_t added_seq;
	uint64_t revoked_seq; /* 0 while trusted */
};

/* The keyring, sorted by name; caller frees *out. */
int ldg_keyring_list(struct ldg_read *r, struct ldg_keyinfo **out, size_t *n);
int ldg_keyring_by_name(struct ldg_read *r, const char *name,
			struct ldg_keyinfo *out);
int ldg_keyring_by_id(struct ldg_read *r, const uint8_t keyid[LDG_KEYID_BYTES],
		      struct ldg_keyinfo *out);

/* The rule of a rollback entry e (docs/format.md section 8a): appended
 * after entries 1..e->seq - 1, its changes make its target's values
 * exactly those at its rollback-to (keys absent then are unset). r may
 * see more entries than that (the applier's check). 0 for other kinds;
 * -EPERM naming the first key that differs; -EINVAL no rollback-to
 * before e->seq. Asked by every append and by ldg_verify()'s replay. */
__attribute__((warn_unused_result)) int
ldg_rollback_check(struct ldg_read *r, const struct ldg_entry *e,
		   struct ldg_err *err);

#endif
