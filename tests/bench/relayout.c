/*
 * relayout - what other index layouts would cost on disk, measured on a
 * real ledger instead of estimated. For docs/performance.md; changes
 * nothing in the ledger.
 *
 *   relayout LEDGER_DIR OUT_DIR
 *
 * Replays LEDGER_DIR's entries in seq order, one write transaction per
 * 10,000 entries (as mkledger builds ledgers), into scratch LMDB
 * environments under OUT_DIR holding each index in several layouts side
 * by side, each written entry by entry as the store would write it, and
 * prints a markdown table: pages and bytes per entry of each layout.
 *
 *
 *   entries              the entries, as stored (MDB_APPEND)
 *   merkle_now           level8 || index8 -> hash32, every level (today)
 *   merkle_append        index8 of the leaf that completes the node ||
 *                        level1 -> hash32: keys grow in the order nodes
 *                        are made, so every put is an MDB_APPEND
 *   merkle_append_nol0   the same without level 0 (the leaf hashes,
 *                        which are SHA-256(0x00 || entry) of one entry)
 *   history_now          SCOPE 0x00 seq8 -> "" (today)
 *   history_dupfixed     SCOPE -> seq8, MDB_DUPSORT|MDB_DUPFIXED, put
 *                        with MDB_APPENDDUP
 *   versions_now         TARGET 0x00 KEY 0x00 seq8 -> flag || value (today)
 *   versions_dupfixed    TARGET 0x00 KEY -> seq8 (top bit: unset),
 *                        MDB_DUPSORT|MDB_DUPFIXED with MDB_APPENDDUP; the
 *                        value is read from entry seq when needed
 *
 * The *_now copies, rebuilt here the same way, show that the method
 * reproduces the real ledger's page fill. mdb_stat does not count the
 * pages of MDB_DUPSORT sub-databases, so each *_dupfixed layout gets an
 * environment of its own and is sized by that environment's pages in
 * use (minus its free list and the two meta pages).
 */
#include <errno.h>
#include <stdbool.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entry.h"

#define BATCH 10000
#define KEYBUF 1024

enum {
	O_ENTRIES,
	O_MERKLE_NOW,
	O_MERKLE_APPEND,
	O_MERKLE_NOL0,
	O_HISTORY_NOW,
	O_HISTORY_DUPFIXED,
	O_VERSIONS_NOW,
	O_VERSIONS_DUPFIXED,
	O_COUNT
};

static const char *const names[O_COUNT] = {
	"entries",	 "merkle_now",
	"merkle_append", "merkle_append_nol0",
	"history_now",	 "history_dupfixed",
	"versions_now",	 "versions_dupfixed",
};

static bool own_env(int i)
{
	return i == O_HISTORY_DUPFIXED || i == O_VERSIONS_DUPFIXED;
}

static MDB_env *env[O_COUNT];
static MDB_txn *txns[O_COUNT];
static MDB_dbi dbi[O_COUNT];

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put(int db, const void *k, size_t kl, const void *v, size_t vl,
		unsigned flags)
{
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	int rc = mdb_put(txns[db], dbi[db], &key, &val, flags);

	if (rc) {
		fprintf(stderr, "relayout: put into %s: %s\n", names[db],
			mdb_strerror(rc));
		exit(2);
	}
}

/* The Merkle stack: subtree hashes not yet merged. */
static uint8_t stack[64][32];
static int depth;

static void merkle_put(unsigned level, uint64_t index, uint64_t leaf,
		       const uint8_t hash[32])
{
	uint8_t k[17];

	put_be64(k, level);
	put_be64(k + 8, index);
	put(O_MERKLE_NOW, k, 16, hash, 32, 0);
	put_be64(k, leaf);
	k[8] = (uint8_t)level;
	put(O_MERKLE_APPEND, k, 9, hash, 32, MDB_APPEND);
	if (level)
		put(O_MERKLE_NOL0, k, 9, hash, 32, MDB_APPEND);
}

static void merkle_push(uint64_t leaf, const uint8_t hash[32])
{
	uint64_t n = leaf, index = leaf;
	unsigned level = 0;

	memcpy(stack[depth++], hash, 32);
	merkle_put(0, index, leaf, hash);
	while (n & 1) {
		crypto_hash_sha256_state st;
		uint8_t tag = 0x01;
		depth--;
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, &tag, 1);
		crypto_hash_sha256_update(&st, stack[depth - 1], 32);
		crypto_hash_sha256_update(&st, stack[depth], 32);
		crypto_hash_sha256_final(&st, stack[depth - 1]);
		n >>= 1;
		index >>= 1;
		level++;
		merkle_put(level, index, leaf, stack[depth - 1]);
	}
}

static void history_put(const char *scope, uint64_t seq)
{
	uint8_t k[KEYBUF], s8[8];
	size_t l = strlen(scope);

	memcpy(k, scope, l);
	k[l] = 0;
	put_be64(k + l + 1, seq);
	put(O_HISTORY_NOW, k, l + 9, "", 0, 0);
	put_be64(s8, seq);
	put(O_HISTORY_DUPFIXED, scope, l, s8, 8, MDB_APPENDDUP);
}

static void version_put(const char *target, const char *key, const char *value,
			uint64_t seq)
{
	static uint8_t v[1 + 8192];
	uint8_t k[KEYBUF], s8[8];
	size_t tl = strlen(target), kl = strlen(key);
	size_t vl = value ? strlen(value) : 0;

	memcpy(k, target, tl);
	k[tl] = 0;
	memcpy(k + tl + 1, key, kl);
	k[tl + 1 + kl] = 0;
	put_be64(k + tl + kl + 2, seq);
	v[0] = value ? 1 : 0;
	memcpy(v + 1, value ? value : "", vl);
	put(O_VERSIONS_NOW, k, tl + kl + 10, v, 1 + vl, 0);
	put_be64(s8, seq | (value ? 0 : 1ULL << 63));
	put(O_VERSIONS_DUPFIXED, k, tl + kl + 1, s8, 8, MDB_APPENDDUP);
}

static void index_entry(const struct ldg_entry *e)
{
	const char *slash = strchr(e->target, '/');

	switch (e->kind) {
	case LDG_KIND_SET:
	case LDG_KIND_UNSET:
	case LDG_KIND_ROLLBACK:
		for (size_t i = 0; i < e->n_changes; i++)
			version_put(e->target, e->changes[i].key,
				    e->changes[i].value, e->seq);
		break;
	case LDG_KIND_LOCK:
	case LDG_KIND_UNLOCK:
		version_put(e->target, "!lock",
			    e->kind == LDG_KIND_LOCK ? "" : NULL, e->seq);
		break;
	default:
		break;
	}
	if (!e->target[0])
		return;
	if (slash) {
		char cluster[128];
		size_t cl = (size_t)(slash - e->target);
		if (cl >= sizeof(cluster))
			cl = sizeof(cluster) - 1;
		memcpy(cluster, e->target, cl);
		cluster[cl] = 0;
		history_put(cluster, e->seq);
	}
	history_put(e->target, e->seq);
}

static int die(const char *what, int rc)
{
	fprintf(stderr, "relayout: %s: %s\n", what, mdb_strerror(rc));
	return 2;
}

/* Begins (or, with commit, first commits) the write transaction of
 * every output environment. */
static int out_txns(bool commit)
{
	int rc;

	for (int i = 0; i < O_COUNT; i++) {
		if (i && !own_env(i))
			txns[i] = txns[0];
		else if ((commit && (rc = mdb_txn_commit(txns[i]))) ||
			 (rc = mdb_txn_begin(env[i], NULL, 0, &txns[i])))
			return die(names[i], rc);
	}
	return 0;
}

static int open_out(const char *dir, MDB_env **e)
{
	int rc;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 2;
	}
	if ((rc = mdb_env_create(e)) || (rc = mdb_env_set_maxdbs(*e, 32)) ||
	    (rc = mdb_env_set_mapsize(*e, (size_t)1 << 38)) ||
	    (rc = mdb_env_open(*e, dir, MDB_NOSYNC | MDB_NOMETASYNC, 0644)))
		return die(dir, rc);
	return 0;
}

/* Pages of db i: its own pages, or for an environment of its own every
 * page in use but the free list and the two meta pages. */
static size_t pages_of(int i, size_t *psize)
{
	MDB_envinfo ei;
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	size_t free_pages = 0;

	mdb_env_stat(env[i], &st);
	*psize = st.ms_psize;
	if (!own_env(i)) {
		mdb_stat(txns[i], dbi[i], &st);
		return st.ms_branch_pages + st.ms_leaf_pages +
		       st.ms_overflow_pages;
	}
	mdb_env_info(env[i], &ei);
	if (mdb_cursor_open(txns[i], 0, &c) == 0) {
		int rc;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			free_pages += *(size_t *)v.mv_data;
		mdb_cursor_close(c);
	}
	return (size_t)ei.me_last_pgno + 1 - free_pages - 2;
}

int main(int argc, char **argv)
{
	MDB_env *src;
	MDB_txn *rtxn;
	MDB_dbi ent;
	MDB_cursor *c;
	MDB_val k, v;
	char path[4096];
	uint64_t n = 0;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: relayout LEDGER_DIR OUT_DIR\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 2;
	if (mkdir(argv[2], 0755) && errno != EEXIST) {
		perror(argv[2]);
		return 2;
	}
	if ((rc = mdb_env_create(&src)) || (rc = mdb_env_set_maxdbs(src, 32)) ||
	    (rc = mdb_env_set_mapsize(src, (size_t)1 << 40)) ||
	    (rc = mdb_env_open(src, argv[1], MDB_RDONLY, 0644)))
		return die(argv[1], rc);
	for (int i = 0; i < O_COUNT; i++) {
		if (i && !own_env(i)) {
			env[i] = env[0];
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", argv[2],
			 i ? names[i] : "main");
		if (open_out(path, &env[i]))
			return 2;
	}
	if ((rc = mdb_txn_begin(src, NULL, MDB_RDONLY, &rtxn)) ||
	    (rc = mdb_dbi_open(rtxn, "entries", 0, &ent)) ||
	    (rc = mdb_cursor_open(rtxn, ent, &c)))
		return die("entries", rc);
	if (out_txns(false))
		return 2;
	for (int i = 0; i < O_COUNT; i++) {
		unsigned fl = MDB_CREATE;
		if (own_env(i))
			fl |= MDB_DUPSORT | MDB_DUPFIXED;
		if ((rc = mdb_dbi_open(txns[i], names[i], fl, &dbi[i])))
			return die(names[i], rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ldg_entry *e;
		uint8_t hash[32];
		if (ldg_entry_decode(v.mv_data, v.mv_size, &e, NULL)) {
			fprintf(stderr,
				"relayout: entry %llu does not "
				"decode\n",
				(unsigned long long)n + 1);
			return 2;
		}
		put(O_ENTRIES, k.mv_data, k.mv_size, v.mv_data, v.mv_size,
		    MDB_APPEND);
		ldg_entry_hash(v.mv_data, v.mv_size, hash);
		merkle_push(n, hash);
		index_entry(e);
		ldg_entry_free(e);
		if (++n % BATCH == 0 && out_txns(true))
			return 2;
	}
	if (rc != MDB_NOTFOUND)
		return die("read", rc);
	/* commit, then size everything in read transactions: LMDB lets
	 * no write transaction read the free list */
	for (int i = 0; i < O_COUNT; i++)
		if ((!i || own_env(i)) && (rc = mdb_txn_commit(txns[i])))
			return die(names[i], rc);
	for (int i = 0; i < O_COUNT; i++) {
		if (i && !own_env(i))
			txns[i] = txns[0];
		else if ((rc = mdb_txn_begin(env[i], NULL, MDB_RDONLY,
					     &txns[i])))
			return die(names[i], rc);
	}

	printf("| layout | records | pages | MiB | B/entry |\n"
	       "| --- | ---: | ---: | ---: | ---: |\n");
	for (int i = 0; i < O_COUNT; i++) {
		size_t psize, pages = pages_of(i, &psize);
		MDB_stat st;
		mdb_stat(txns[i], dbi[i], &st);
		printf("| %s | %zu | %zu | %.1f | %.1f |\n", names[i],
		       st.ms_entries, pages,
		       (double)(pages * psize) / 1048576.0,
		       (double)(pages * psize) / (double)n);
	}
	for (int i = 0; i < O_COUNT; i++)
		if (!i || own_env(i)) {
			mdb_txn_abort(txns[i]);
			mdb_env_close(env[i]);
		}
	mdb_txn_abort(rtxn);
	mdb_env_close(src);
	printf("\n%llu entries\n", (unsigned long long)n);
	return 0;
}
