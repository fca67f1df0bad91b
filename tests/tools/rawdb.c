/*
 * rawdb.c - raw LMDB access to a ledger for tests (rawdb.h).
 */
#include "rawdb.h"

/* Room for what a test adds; the file grows only by what is written. */
#define RAWDB_MAPSIZE ((size_t)1 << 30)

static void be64(uint8_t b[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

int rawdb_open(const char *dir, const char *db, bool rdonly, struct rawdb *r)
{
	/* a test's edits need no fsync: the ledger under test is a
	 * throwaway copy that the next command reads through the same page
	 * cache (tamper_matrix.sh makes two edits per byte it flips) */
	unsigned flags = rdonly ? MDB_RDONLY : MDB_NOSYNC;
	int rc = mdb_env_create(&r->env);

	if (rc)
		return rc;
	rc = mdb_env_set_maxdbs(r->env, 16);
	if (!rc)
		rc = mdb_env_set_mapsize(r->env, RAWDB_MAPSIZE);
	if (!rc)
		rc = mdb_env_open(r->env, dir, flags, 0644);
	if (rc)
		goto out_close;
	rc = mdb_txn_begin(r->env, NULL, flags, &r->txn);
	if (rc)
		goto out_close;
	rc = mdb_dbi_open(r->txn, db, 0, &r->dbi);
	if (rc)
		goto out_abort;
	return 0;
out_abort:
	mdb_txn_abort(r->txn);
out_close:
	mdb_env_close(r->env);
	return rc;
}

int rawdb_close(struct rawdb *r, bool commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(r->txn);
	else
		mdb_txn_abort(r->txn);
	mdb_env_close(r->env);
	return rc;
}

int rawdb_get_entry(struct rawdb *r, uint64_t seq, MDB_val *v)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };

	be64(kb, seq);
	return mdb_get(r->txn, r->dbi, &k, v);
}

int rawdb_put_entry(struct rawdb *r, uint64_t seq, const void *bytes,
		    size_t len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { len, (void *)bytes };

	be64(kb, seq);
	return mdb_put(r->txn, r->dbi, &k, &v, 0);
}

int rawdb_del_entry(struct rawdb *r, uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };

	be64(kb, seq);
	return mdb_del(r->txn, r->dbi, &k, NULL);
}

int rawdb_store(const char *dir, const char *db, const void *key, size_t klen,
		const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	struct rawdb r;
	int rc = rawdb_open(dir, db, false, &r);

	if (rc)
		return rc;
	rc = mdb_put(r.txn, r.dbi, &k, &v, 0);
	if (rc) {
		rawdb_close(&r, false);
		return rc;
	}
	return rawdb_close(&r, true);
}

int rawdb_store_entry(const char *dir, uint64_t seq, const void *bytes,
		      size_t len)
{
	uint8_t kb[8];

	be64(kb, seq);
	return rawdb_store(dir, "entries", kb, sizeof(kb), bytes, len);
}
