/*
 * rawdb.h - a ledger's LMDB databases opened with the raw LMDB API, never
 * libledger: what a test writes through it is exactly what an attacker
 * with write access to data.mdb could write (docs/threat-model.md).
 * Shared by tests/tools/ldg_tamper and the unit tests (through forge.h).
 *
 * Functions return 0 or an LMDB error code (mdb_strerror() names it):
 * the callers are a tool that prints it and tests that assert on it.
 *
 * Caveats: one environment per process at a time (lmdb.h): a process
 * that has the ledger open with ldg_store_open() closes it first. Entry
 * keys are 8-byte big-endian seqs, as in the `entries` database
 * (docs/format.md).
 */
#ifndef LDG_RAWDB_H
#define LDG_RAWDB_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rawdb {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
};

/* Opens the environment in dir and a transaction (read-only if rdonly)
 * on database db (e.g. "entries", "state"). On error nothing is left
 * open. */
int rawdb_open(const char *dir, const char *db, bool rdonly, struct rawdb *r);
/* Commits (commit) or aborts the transaction, closes the environment. */
int rawdb_close(struct rawdb *r, bool commit);

/* Entry seq's stored bytes in *v: borrowed, valid until the next write
 * or rawdb_close(). MDB_NOTFOUND when there is none. */
int rawdb_get_entry(struct rawdb *r, uint64_t seq, MDB_val *v);
/* Stores bytes as entry seq (added or replaced), indexes untouched. */
int rawdb_put_entry(struct rawdb *r, uint64_t seq, const void *bytes,
		    size_t len);

/* Deletes entry seq; MDB_NOTFOUND when there is none. */
int rawdb_del_entry(struct rawdb *r, uint64_t seq);

/* One record of database db stored (added or replaced) in its own
 * transaction: open, put, commit. */
int rawdb_store(const char *dir, const char *db, const void *key, size_t klen,
		const void *val, size_t vlen);
/* rawdb_store() of bytes as entry seq. */
int rawdb_store_entry(const char *dir, uint64_t seq, const void *bytes,
		      size_t len);

#endif
