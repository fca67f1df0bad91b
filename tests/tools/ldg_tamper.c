/*
 * ldg_tamper.c - edits a ledger behind the library's back, for tests.
 *
 * Uses the raw LMDB API only (never libledger; rawdb.h), so what it
 * writes is exactly what an attacker with write access to data.mdb could
 * write.
 * The scenario tests use it to prove that `ledger verify` notices.
 *
 *   ldg_tamper DIR count                 number of entries
 *   ldg_tamper DIR seqs                  the stored seqs, one a line
 *   ldg_tamper DIR get SEQ               entry bytes as hex
 *   ldg_tamper DIR put SEQ HEX           store raw bytes as entry SEQ (HEX
 *                                        "-": read from stdin, for entries
 *                                        longer than an argument may be)
 *   ldg_tamper DIR del SEQ               delete entry SEQ
 *   ldg_tamper DIR swap A B              exchange the bytes of two entries
 *   ldg_tamper DIR find SEQ HEX          offset of the first HEX in entry SEQ
 *   ldg_tamper DIR flip SEQ OFFSET       xor 0x01 into one byte of entry SEQ
 *                                        (OFFSET < 0 counts from the end)
 *   ldg_tamper DIR flipdb DB             xor 0x01 into the last byte of the
 *                                        first value of DB (an empty value
 *                                        becomes the byte 0xff)
 *   ldg_tamper DIR deldb DB              delete the first record of DB
 *   ldg_tamper DIR countdb DB            number of records in DB
 *   ldg_tamper DIR getdb DB KEYHEX       the value of one record, as hex
 *   ldg_tamper DIR putdb DB KEYHEX HEX   store one record (added or replaced)
 *   ldg_tamper DIR delkey DB KEYHEX      delete one record
 *
 * putdb lets a test bypass the library's checks the way an attacker with
 * write access would: e.g. mark a revoked key trusted again in a copy of
 * the ledger, so that `ledger set` there signs an entry the real ledger
 * must refuse.
 *
 * SEQ keys are 8-byte big-endian, as in the `entries` database. Exit 0 on
 * success, 1 when the record is missing, 2 on usage or LMDB errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rawdb.h"

static const char usage[] =
	"usage: ldg_tamper DIR count|seqs\n"
	"       ldg_tamper DIR get|del SEQ\n"
	"       ldg_tamper DIR put SEQ HEX\n"
	"       ldg_tamper DIR find SEQ HEX\n"
	"       ldg_tamper DIR flip SEQ OFFSET\n"
	"       ldg_tamper DIR swap SEQ_A SEQ_B\n"
	"       ldg_tamper DIR flipdb|deldb|countdb DBNAME\n"
	"       ldg_tamper DIR getdb|delkey DBNAME KEYHEX\n"
	"       ldg_tamper DIR putdb DBNAME KEYHEX HEX\n";

static int die(const char *what, int rc)
{
	fprintf(stderr, "ldg_tamper: %s: %s\n", what, mdb_strerror(rc));
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || !*s || *end || *s == '-' ? -1 : 0;
}

static uint64_t get_be64(const uint8_t b[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* All of stdin, NUL-terminated and without a final newline (malloc'd;
 * NULL on failure). */
static char *read_stdin(void)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *grown;

	while (buf) {
		n += fread(buf + n, 1, cap - n - 1, stdin);
		if (n < cap - 1)
			break;
		cap *= 2;
		grown = realloc(buf, cap);
		if (!grown)
			free(buf);
		buf = grown;
	}
	if (!buf || ferror(stdin)) {
		free(buf);
		return NULL;
	}
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return buf;
}

static int unhex(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *b;

	if (n % 2)
		return -1;
	b = malloc(n / 2 + 1);
	if (!b)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)v;
	}
	*out = b;
	*len = n / 2;
	return 0;
}

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

/* Opens DIR and a transaction on database db. */
static int env_open(const char *dir, const char *db, bool rdonly,
		    struct rawdb *e)
{
	int rc = rawdb_open(dir, db, rdonly, e);
	char what[4200];

	if (!rc)
		return 0;
	snprintf(what, sizeof(what), "%s, database %s", dir, db);
	return die(what, rc);
}

static int env_done(struct rawdb *e, bool commit)
{
	int rc = rawdb_close(e, commit);

	return rc ? die("commit", rc) : 0;
}

static int entry_get(struct rawdb *e, uint64_t seq, MDB_val *v)
{
	int rc = rawdb_get_entry(e, seq, v);

	if (rc == MDB_NOTFOUND) {
		fprintf(stderr, "ldg_tamper: no entry %" PRIu64 "\n", seq);
		return 1;
	}
	return rc ? die("mdb_get", rc) : 0;
}

/* Stores a private copy of bytes as entry seq. */
static int entry_put(struct rawdb *e, uint64_t seq, const void *buf, size_t len)
{
	int rc = rawdb_put_entry(e, seq, buf, len);

	return rc ? die("mdb_put", rc) : 0;
}

static int cmd_entries(const char *dir, int argc, char **argv)
{
	const char *cmd = argv[0];
	bool rdonly = !strcmp(cmd, "count") || !strcmp(cmd, "seqs") ||
		      !strcmp(cmd, "get") || !strcmp(cmd, "find");
	uint64_t seq = 0, seq2 = 0;
	uint8_t *bytes = NULL, *copy = NULL;
	size_t len = 0;
	struct rawdb e = { 0 };
	MDB_val v;
	int rc;

	if (argc >= 2 && parse_u64(argv[1], &seq))
		goto bad_usage;
	rc = env_open(dir, "entries", rdonly, &e);
	if (rc)
		return rc;

	if (!strcmp(cmd, "count") || !strcmp(cmd, "seqs")) {
		MDB_cursor *c;
		MDB_val k;
		uint64_t n = 0;
		if (argc != 1)
			goto bad_usage_env;
		rc = mdb_cursor_open(e.txn, e.dbi, &c);
		if (rc)
			return die("cursor", rc);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			n++;
			if (cmd[0] == 's')
				printf("%" PRIu64 "\n",
				       k.mv_size == 8 ? get_be64(k.mv_data)
						      : 0);
		}
		mdb_cursor_close(c);
		if (cmd[0] == 'c')
			printf("%" PRIu64 "\n", n);
		return env_done(&e, false);
	}
	if (!strcmp(cmd, "get")) {
		if (argc != 2)
			goto bad_usage_env;
		rc = entry_get(&e, seq, &v);
		if (!rc)
			print_hex(v.mv_data, v.mv_size);
		env_done(&e, false);
		return rc;
	}
	if (!strcmp(cmd, "find")) {
		size_t i;
		if (argc != 3 || unhex(argv[2], &bytes, &len) || !len)
			goto bad_usage_env;
		rc = entry_get(&e, seq, &v);
		for (i = 0; !rc && i + len <= v.mv_size; i++)
			if (!memcmp((uint8_t *)v.mv_data + i, bytes, len))
				break;
		if (!rc && i + len > v.mv_size) {
			fprintf(stderr,
				"ldg_tamper: not in entry %" PRIu64 "\n", seq);
			rc = 1;
		} else if (!rc) {
			printf("%zu\n", i);
		}
		free(bytes);
		env_done(&e, false);
		return rc;
	}
	if (!strcmp(cmd, "put")) {
		char *hex = argc == 3 && !strcmp(argv[2], "-") ? read_stdin()
							       : NULL;
		if (argc != 3 || unhex(hex ? hex : argv[2], &bytes, &len)) {
			free(hex);
			goto bad_usage_env;
		}
		free(hex);
		rc = entry_put(&e, seq, bytes, len);
		free(bytes);
		if (rc) {
			env_done(&e, false);
			return rc;
		}
		return env_done(&e, true);
	}
	if (!strcmp(cmd, "del")) {
		if (argc != 2)
			goto bad_usage_env;
		rc = rawdb_del_entry(&e, seq);
		if (rc) {
			env_done(&e, false);
			return rc == MDB_NOTFOUND ? 1 : die("mdb_del", rc);
		}
		return env_done(&e, true);
	}
	if (!strcmp(cmd, "flip")) {
		long long off;
		char *end;
		if (argc != 3)
			goto bad_usage_env;
		off = strtoll(argv[2], &end, 10);
		if (!*argv[2] || *end)
			goto bad_usage_env;
		rc = entry_get(&e, seq, &v);
		if (rc) {
			env_done(&e, false);
			return rc;
		}
		if (off < 0)
			off += (long long)v.mv_size;
		if (off < 0 || (size_t)off >= v.mv_size) {
			fprintf(stderr,
				"ldg_tamper: offset %s outside entry "
				"%" PRIu64 " (%zu bytes)\n",
				argv[2], seq, v.mv_size);
			env_done(&e, false);
			return 2;
		}
		copy = malloc(v.mv_size);
		if (!copy)
			return 2;
		memcpy(copy, v.mv_data, v.mv_size);
		copy[off] ^= 0x01;
		rc = entry_put(&e, seq, copy, v.mv_size);
		free(copy);
		if (rc) {
			env_done(&e, false);
			return rc;
		}
		return env_done(&e, true);
	}
	if (!strcmp(cmd, "swap")) {
		uint8_t *a;
		MDB_val v2;
		size_t alen;
		if (argc != 3 || parse_u64(argv[2], &seq2))
			goto bad_usage_env;
		rc = entry_get(&e, seq, &v);
		if (!rc)
			rc = entry_get(&e, seq2, &v2);
		if (rc) {
			env_done(&e, false);
			return rc;
		}
		/* LMDB memory is invalid after a put: copy both first */
		alen = v.mv_size;
		a = malloc(alen);
		copy = malloc(v2.mv_size);
		if (!a || !copy)
			return 2;
		memcpy(a, v.mv_data, alen);
		memcpy(copy, v2.mv_data, v2.mv_size);
		len = v2.mv_size;
		rc = entry_put(&e, seq, copy, len);
		if (!rc)
			rc = entry_put(&e, seq2, a, alen);
		free(a);
		free(copy);
		if (rc) {
			env_done(&e, false);
			return rc;
		}
		return env_done(&e, true);
	}
bad_usage_env:
	env_done(&e, false);
bad_usage:
	fputs(usage, stderr);
	return 2;
}

static int cmd_db(const char *dir, const char *cmd, const char *db)
{
	struct rawdb e = { 0 };
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t *copy;
	int rc = env_open(dir, db, !strcmp(cmd, "countdb"), &e);

	if (rc)
		return rc;
	rc = mdb_cursor_open(e.txn, e.dbi, &c);
	if (rc)
		return die("cursor", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (!strcmp(cmd, "countdb")) {
		uint64_t n = 0;
		for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			n++;
		mdb_cursor_close(c);
		printf("%" PRIu64 "\n", n);
		return env_done(&e, false);
	}
	if (rc) {
		mdb_cursor_close(c);
		env_done(&e, false);
		fprintf(stderr, "ldg_tamper: %s is empty\n", db);
		return 1;
	}
	if (!strcmp(cmd, "deldb")) {
		rc = mdb_cursor_del(c, 0);
	} else {
		size_t n = v.mv_size ? v.mv_size : 1;
		copy = malloc(n);
		if (!copy)
			return 2;
		if (v.mv_size) {
			memcpy(copy, v.mv_data, n);
			copy[n - 1] ^= 0x01;
		} else {
			copy[0] = 0xff;
		}
		v.mv_data = copy;
		v.mv_size = n;
		rc = mdb_cursor_put(c, &k, &v, MDB_CURRENT);
		free(copy);
	}
	mdb_cursor_close(c);
	if (rc) {
		env_done(&e, false);
		return die(cmd, rc);
	}
	return env_done(&e, true);
}

/* getdb, putdb, delkey: one record of any database, by its key. */
static int cmd_rec(const char *dir, const char *cmd, const char *db,
		   const char *keyhex, const char *valhex)
{
	bool rdonly = !strcmp(cmd, "getdb");
	uint8_t *kb = NULL, *vb = NULL;
	size_t klen, vlen = 0;
	struct rawdb e = { 0 };
	MDB_val k, v;
	int rc;

	if (unhex(keyhex, &kb, &klen) || !klen ||
	    (valhex && unhex(valhex, &vb, &vlen))) {
		free(kb);
		fputs(usage, stderr);
		return 2;
	}
	rc = env_open(dir, db, rdonly, &e);
	if (rc)
		goto out_free;
	k.mv_size = klen;
	k.mv_data = kb;
	if (!strcmp(cmd, "getdb")) {
		rc = mdb_get(e.txn, e.dbi, &k, &v);
		if (!rc)
			print_hex(v.mv_data, v.mv_size);
	} else if (!strcmp(cmd, "delkey")) {
		rc = mdb_del(e.txn, e.dbi, &k, NULL);
	} else {
		v.mv_size = vlen;
		v.mv_data = vb;
		rc = mdb_put(e.txn, e.dbi, &k, &v, 0);
	}
	if (rc) {
		env_done(&e, false);
		if (rc == MDB_NOTFOUND) {
			fprintf(stderr, "ldg_tamper: no such record in %s\n",
				db);
			rc = 1;
		} else {
			rc = die(cmd, rc);
		}
		goto out_free;
	}
	rc = env_done(&e, !rdonly);
out_free:
	free(kb);
	free(vb);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[2], "flipdb") || !strcmp(argv[2], "deldb") ||
	    !strcmp(argv[2], "countdb")) {
		if (argc != 4) {
			fputs(usage, stderr);
			return 2;
		}
		return cmd_db(argv[1], argv[2], argv[3]);
	}
	if (!strcmp(argv[2], "getdb") || !strcmp(argv[2], "delkey") ||
	    !strcmp(argv[2], "putdb")) {
		bool put = !strcmp(argv[2], "putdb");
		if (argc != (put ? 6 : 5)) {
			fputs(usage, stderr);
			return 2;
		}
		return cmd_rec(argv[1], argv[2], argv[3], argv[4],
			       put ? argv[5] : NULL);
	}
	if (!strcmp(argv[2], "count") || !strcmp(argv[2], "seqs") ||
	    !strcmp(argv[2], "get") || !strcmp(argv[2], "put") ||
	    !strcmp(argv[2], "del") || !strcmp(argv[2], "flip") ||
	    !strcmp(argv[2], "swap") || !strcmp(argv[2], "find"))
		return cmd_entries(argv[1], argc - 2, argv + 2);
	fputs(usage, stderr);
	return 2;
}
