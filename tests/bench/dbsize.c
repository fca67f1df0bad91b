/*
 * dbsize - where a ledger's bytes go, per named LMDB database.
 *
 *   dbsize DIR
 *
 * Prints a markdown table: for each named database its records, its
 * pages (branch, leaf, overflow; as `mdb_stat -a` counts them), those
 * pages in bytes per ledger entry (records of "entries"), the payload
 * (keys and values) per entry, and how full its leaf pages are: the bytes
 * LMDB's leaf nodes need (8-byte node header + key + value, padded to
 * even, + a 2-byte slot) over the leaf pages' room (page size - 16-byte
 * header). A B-tree filled by appends at its right edge is near 100%;
 * one filled by inserts in the middle settles near 50-70%.
 * Then the totals: every page of the databases, the pages the environment
 * uses (including the free list and the two meta pages), and data.mdb's
 * size, each per entry. Reads only (a read transaction); safe while the
 * ledger is in use.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DBS 64
#define NODE_HDR 8
#define PAGE_HDR 16

struct dbinfo {
	char name[128];
	MDB_stat st;
	size_t records;
	size_t payload;	   /* key + value bytes */
	size_t leaf_bytes; /* bytes the leaf nodes take in their pages */
};

static int die(const char *what, int rc)
{
	fprintf(stderr, "dbsize: %s: %s\n", what, mdb_strerror(rc));
	return 2;
}

static size_t even(size_t n)
{
	return (n + 1) & ~(size_t)1;
}

static int scan(MDB_txn *txn, MDB_dbi dbi, size_t psize, struct dbinfo *d)
{
	/* values this big go to overflow pages; the node keeps a page
	 * number (LMDB's me_nodemax) */
	size_t nodemax = (((psize - PAGE_HDR) / 2) & ~(size_t)1) - 2;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &c);

	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t node = NODE_HDR + k.mv_size + v.mv_size;
		if (node > nodemax)
			node = NODE_HDR + k.mv_size + sizeof(size_t);
		d->records++;
		d->payload += k.mv_size + v.mv_size;
		d->leaf_bytes += even(node) + 2;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int main(int argc, char **argv)
{
	struct dbinfo dbs[MAX_DBS];
	size_t ndb = 0, entries = 0, free_pages = 0, db_pages = 0;
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_envinfo ei;
	MDB_stat est;
	MDB_dbi main_dbi;
	MDB_val k, v;
	char path[4096];
	struct stat fst;
	size_t psize;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: dbsize DIR\n");
		return 2;
	}
	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_maxdbs(env, MAX_DBS)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)1 << 40)) ||
	    (rc = mdb_env_open(env, argv[1], MDB_RDONLY, 0644)))
		return die(argv[1], rc);
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)))
		return die("open", rc);
	mdb_env_stat(env, &est);
	mdb_env_info(env, &ei);
	psize = est.ms_psize;

	/* the names of the named databases are the main database's keys */
	if ((rc = mdb_cursor_open(txn, main_dbi, &c)))
		return die("main", rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	     rc == 0 && ndb < MAX_DBS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t n = k.mv_size < 127 ? k.mv_size : 127;
		memset(&dbs[ndb], 0, sizeof(dbs[ndb]));
		memcpy(dbs[ndb].name, k.mv_data, n);
		ndb++;
	}
	mdb_cursor_close(c);
	for (size_t i = 0; i < ndb; i++) {
		MDB_dbi dbi;
		if ((rc = mdb_dbi_open(txn, dbs[i].name, 0, &dbi)) ||
		    (rc = mdb_stat(txn, dbi, &dbs[i].st)) ||
		    (rc = scan(txn, dbi, psize, &dbs[i])))
			return die(dbs[i].name, rc);
		if (!strcmp(dbs[i].name, "entries"))
			entries = dbs[i].records;
	}
	/* the free list (dbi 0): each record is a list of page numbers,
	 * its first word the count */
	if ((rc = mdb_cursor_open(txn, 0, &c)))
		return die("freelist", rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		free_pages += *(size_t *)v.mv_data;
	mdb_cursor_close(c);
	if (!entries) {
		fprintf(stderr, "dbsize: no \"entries\" records\n");
		return 2;
	}

	printf("| database | records | branch | leaf | overflow | MiB "
	       "| B/entry | payload B/entry | leaf fill |\n"
	       "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
	       "| ---: |\n");
	for (size_t i = 0; i < ndb; i++) {
		const MDB_stat *s = &dbs[i].st;
		size_t pages = s->ms_branch_pages + s->ms_leaf_pages +
			       s->ms_overflow_pages;
		db_pages += pages;
		printf("| %s | %zu | %zu | %zu | %zu | %.1f | %.1f | %.1f "
		       "| %.0f%% |\n",
		       dbs[i].name, dbs[i].records, s->ms_branch_pages,
		       s->ms_leaf_pages, s->ms_overflow_pages,
		       (double)(pages * psize) / 1048576.0,
		       (double)(pages * psize) / (double)entries,
		       (double)dbs[i].payload / (double)entries,
		       s->ms_leaf_pages ? 100.0 * (double)dbs[i].leaf_bytes /
						  (double)(s->ms_leaf_pages *
							   (psize - PAGE_HDR))
					: 0.0);
	}
	/* the main database holds the names: its pages count too */
	db_pages +=
		est.ms_branch_pages + est.ms_leaf_pages + est.ms_overflow_pages;
	snprintf(path, sizeof(path), "%s/data.mdb", argv[1]);
	if (stat(path, &fst))
		fst.st_size = 0;
	printf("\n");
	printf("entries %zu\n", entries);
	printf("page_size %zu\n", psize);
	printf("db_pages %zu (%.1f B/entry)\n", db_pages,
	       (double)(db_pages * psize) / (double)entries);
	printf("env_pages_used %zu (%.1f B/entry; %zu on the free list)\n",
	       (size_t)ei.me_last_pgno + 1,
	       (double)((ei.me_last_pgno + 1) * psize) / (double)entries,
	       free_pages);
	printf("data_mdb_bytes %lld (%.1f B/entry)\n", (long long)fst.st_size,
	       (double)fst.st_size / (double)entries);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}
