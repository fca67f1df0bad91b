/*
 * Unit tests for ledger/store.c, ledger/ops.c and ledger/verify.c, on a
 * real LMDB ledger in a fresh temporary directory per test.
 *
 * Where a test needs to go around the library (to tamper with stored
 * bytes, or to check the on-disk layout an auditor relies on), it opens
 * the environment with plain LMDB calls, as mdb_dump would.
 */
#include <errno.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "ops.h"
#include "store.h"
#include "testlib.h"
#include "util.h"
#include "verify.h"

#define ORIGIN "example.com/deploy/test"

struct fx {
	char *tmp;
	char dir[4096];
	struct ldg_signer *admin, *deployer, *applier, *outsider;
	struct ldg_store *s;
};

static int group_setup(void **state)
{
	(void)state;
	return ldg_crypto_init() ? -1 : 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	f->tmp = tl_mkdtemp();
	snprintf(f->dir, sizeof(f->dir), "%s/ledger", f->tmp);
	if (ldg_signer_generate("admin", &f->admin, NULL) ||
	    ldg_signer_generate("deployer", &f->deployer, NULL) ||
	    ldg_signer_generate("applier", &f->applier, NULL) ||
	    ldg_signer_generate("outsider", &f->outsider, NULL))
		return -1;
	if (ldg_init(f->dir, ORIGIN, f->admin, &res, &err)) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	ldg_result_free(&res);
	if (ldg_store_open(f->dir, 0, &f->s, &err)) {
		fprintf(stderr, "open: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ldg_store_close(f->s);
	ldg_signer_free(f->admin);
	ldg_signer_free(f->deployer);
	ldg_signer_free(f->applier);
	ldg_signer_free(f->outsider);
	tl_rmrf(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static uint64_t head_of(struct fx *f, uint8_t hash[LDG_HASH_BYTES])
{
	struct ldg_read *r;
	uint64_t seq;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, hash), 0);
	ldg_read_end(r);
	return seq;
}

/* Sets target key=value; returns the rc, and the new seq (0 when nothing
 * was written) in *seq. */
static int set_kv(struct fx *f, const struct ldg_signer *k,
		  const char *target, const char *key, const char *value,
		  bool force, uint64_t *seq, struct ldg_err *err)
{
	struct ldg_kv kv = { (char *)key, (char *)value };
	struct ldg_result res = { 0 };
	int rc = ldg_set(f->s, k, target, &kv, 1, "change", NULL, 0, force,
			 &res, err);

	if (seq)
		*seq = res.n ? res.v[res.n - 1].seq : 0;
	ldg_result_free(&res);
	return rc;
}

static uint64_t must_set(struct fx *f, const char *target, const char *key,
			 const char *value)
{
	struct ldg_err err = { 0 };
	uint64_t seq = 0;
	int rc = set_kv(f, f->admin, target, key, value, false, &seq, &err);

	if (rc)
		fail_msg("set %s %s=%s: %s", target, key, value, err.msg);
	assert_int_not_equal(seq, 0);
	return seq;
}

static int unset_k(struct fx *f, const struct ldg_signer *k,
		   const char *target, const char *key, bool force,
		   uint64_t *seq)
{
	struct ldg_result res = { 0 };
	const char *keys[1] = { key };
	int rc = ldg_unset(f->s, k, target, keys, 1, "remove", NULL, 0, force,
			   &res, NULL);

	if (seq)
		*seq = res.n ? res.v[res.n - 1].seq : 0;
	ldg_result_free(&res);
	return rc;
}

static int lock_t(struct fx *f, const struct ldg_signer *k,
		  const char *target, bool lock, uint64_t *seq)
{
	struct ldg_result res = { 0 };
	int rc = ldg_lock(f->s, k, target, "hold it", lock, &res, NULL);

	if (seq)
		*seq = res.n ? res.v[res.n - 1].seq : 0;
	ldg_result_free(&res);
	return rc;
}

static void add_key(struct fx *f, const struct ldg_signer *k,
		    const char *role, const char *scopes)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	int rc = ldg_key_add(f->s, f->admin, ldg_signer_vkey(k), role, scopes,
			     "add key", &res, &err);

	if (rc)
		fail_msg("key add: %s", err.msg);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].kind, LDG_KIND_KEY_ADD);
	ldg_result_free(&res);
}

/* The value of key in target at seq at (0 = head), or NULL; caller
 * frees. */
static char *value_at(struct fx *f, const char *target, const char *key,
		      uint64_t at)
{
	struct ldg_read *r;
	struct ldg_values v;
	const struct ldg_value *got;
	char *out = NULL;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, at, &v), 0);
	got = ldg_values_find(&v, key);
	if (got)
		out = strdup(got->value);
	ldg_values_free(&v);
	ldg_read_end(r);
	return out;
}

static void assert_value_at(struct fx *f, const char *target,
			    const char *key, uint64_t at, const char *want)
{
	char *got = value_at(f, target, key, at);

	if (want == NULL && got != NULL)
		fail_msg("%s %s at %llu: want unset, got \"%s\"", target, key,
			 (unsigned long long)at, got);
	if (want != NULL && (got == NULL || strcmp(got, want)))
		fail_msg("%s %s at %llu: want \"%s\", got %s%s%s", target, key,
			 (unsigned long long)at, want, got ? "\"" : "",
			 got ? got : "unset", got ? "\"" : "");
	free(got);
}

static uint64_t lock_seq_at(struct fx *f, const char *target, uint64_t at)
{
	struct ldg_read *r;
	struct ldg_values v;
	uint64_t seq;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, at, &v), 0);
	seq = v.lock_seq;
	ldg_values_free(&v);
	ldg_read_end(r);
	return seq;
}

static struct ldg_entry *entry_at(struct fx *f, uint64_t seq)
{
	struct ldg_read *r;
	struct ldg_entry *e = NULL;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	if (ldg_entry_read(r, seq, &e, &err))
		fail_msg("entry %llu: %s", (unsigned long long)seq, err.msg);
	ldg_read_end(r);
	return e;
}

static int verify(struct fx *f, const struct ldg_checkpoint *cps, size_t n,
		  struct ldg_verify_report *rep)
{
	struct ldg_verify_opts o = { .threads = 2,
				     .checkpoints = cps,
				     .n_checkpoints = n };
	struct ldg_err err = { 0 };
	int rc = ldg_verify(f->s, &o, rep, &err);

	if (rc && rc != -EBADMSG)
		fail_msg("verify could not run: %s", err.msg);
	return rc;
}

static void assert_verify_ok(struct fx *f)
{
	struct ldg_verify_report rep;
	uint8_t hash[LDG_HASH_BYTES];
	uint64_t head = head_of(f, hash);

	if (verify(f, NULL, 0, &rep))
		fail_msg("verify: seq %llu: %s",
			 (unsigned long long)rep.bad_seq, rep.problem);
	assert_int_equal(rep.entries, head);
	assert_int_equal(rep.head, head);
	assert_memory_equal(rep.head_hash, hash, LDG_HASH_BYTES);
	assert_string_equal(rep.origin, ORIGIN);
}

/* Opens the ledger's LMDB environment directly (as mdb_dump would). */
static MDB_env *raw_open(struct fx *f, MDB_txn **txn, unsigned flags)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64u << 20), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, flags, txn), 0);
	return env;
}

/* Stores bytes as entry seq with raw LMDB, indexes untouched (as an
 * attacker with write access would); the store must be closed. */
static void put_stored_entry(struct fx *f, uint64_t seq, uint8_t *bytes,
			     size_t len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { len, bytes };
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env = raw_open(f, &txn, 0);

	assert_int_equal(mdb_dbi_open(txn, "entries", 0, &dbi), 0);
	ldg_put_be64(kb, seq);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Flips one bit of the stored bytes of entry seq, back_off bytes from
 * their end, with raw LMDB (as an attacker with write access would); the
 * store must be closed. */
static void flip_stored_byte(struct fx *f, uint64_t seq, size_t back_off)
{
	uint8_t kb[8], *copy;
	MDB_val k = { 8, kb }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env = raw_open(f, &txn, 0);

	assert_int_equal(mdb_dbi_open(txn, "entries", 0, &dbi), 0);
	ldg_put_be64(kb, seq);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - back_off] ^= 0x01;
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(copy);
}

/* ---- init and open ---- */

static void test_init_records_origin_and_admin_key(void **state)
{
	struct fx *f = *state;
	struct ldg_keyinfo ki;
	struct ldg_keyinfo *ring;
	struct ldg_read *r;
	struct ldg_entry *e;
	size_t n;
	uint8_t zero[LDG_HASH_BYTES] = { 0 };

	assert_int_equal(head_of(f, NULL), 1);
	assert_string_equal(ldg_store_origin(f->s), ORIGIN);
	e = entry_at(f, 1);
	assert_int_equal(e->kind, LDG_KIND_INIT);
	assert_int_equal(e->seq, 1);
	assert_memory_equal(e->prev, zero, LDG_HASH_BYTES);
	assert_string_equal(e->changes[0].key, "origin");
	assert_string_equal(e->changes[0].value, ORIGIN);
	assert_memory_equal(e->signer, ldg_signer_vkey(f->admin)->keyid, 4);
	ldg_entry_free(e);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_keyring_list(r, &ring, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ring[0].vkey.name, "admin");
	assert_string_equal(ring[0].role, "admin");
	assert_string_equal(ring[0].scopes, "*");
	assert_int_equal(ring[0].added_seq, 1);
	assert_int_equal(ring[0].revoked_seq, 0);
	free(ring);
	assert_int_equal(ldg_keyring_by_id(r, ldg_signer_vkey(f->admin)->keyid,
					   &ki),
			 0);
	assert_string_equal(ki.vkey.name, "admin");
	assert_memory_equal(ki.vkey.pk, ldg_signer_vkey(f->admin)->pk, 32);
	assert_int_equal(ldg_keyring_by_name(r, "nobody", &ki), -ENOENT);
	ldg_read_end(r);
}

static void test_init_twice_is_refused(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_init(f->dir, "example.com/other", f->outsider,
				  &res, &err),
			 -EEXIST);
	assert_int_equal(res.n, 0);
	assert_int_equal(head_of(f, NULL), 1);
	assert_string_equal(ldg_store_origin(f->s), ORIGIN);
}

static void test_init_refuses_bad_origin(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/other", f->tmp);
	assert_int_equal(ldg_init(dir, "", f->admin, &res, NULL), -EINVAL);
	assert_int_equal(ldg_init(dir, "bad\norigin", f->admin, &res, NULL),
			 -EINVAL);
}

static void test_open_missing_ledger_is_enoent(void **state)
{
	struct fx *f = *state;
	struct ldg_store *s = NULL;
	struct ldg_err err = { 0 };
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/missing", f->tmp);
	assert_int_equal(ldg_store_open(dir, 0, &s, &err), -ENOENT);
	assert_null(s);
	assert_true(strlen(err.msg) > 0);
}

static void test_readonly_store_refuses_writes(void **state)
{
	struct fx *f = *state;
	struct ldg_store *ro = NULL;
	struct ldg_kv kv = { "image.tag", "1" };
	struct ldg_result res = { 0 };

	ldg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(ldg_store_open(f->dir, LDG_OPEN_RDONLY, &ro, NULL), 0);
	assert_string_equal(ldg_store_origin(ro), ORIGIN);
	assert_int_equal(ldg_set(ro, f->admin, "staging/api", &kv, 1, "r",
				 NULL, 0, false, &res, NULL),
			 -EROFS);
	ldg_store_close(ro);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(head_of(f, NULL), 1);
}

/* ---- set and unset ---- */

static void test_set_appends_a_signed_chained_entry(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv[2] = { { "replicas", "3" }, { "image.tag", "1.2.3" } };
	struct ldg_kv meta[1] = { { "ci.run", "77" } };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	struct ldg_entry *e;
	const uint8_t *raw;
	size_t len;
	uint8_t h1[32], h2[32];
	uint64_t before = ldg_now_ns();

	head_of(f, h1);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", kv, 2,
				 "bump api", meta, 1, false, &res, &err),
			 0);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].seq, 2);
	assert_int_equal(res.v[0].kind, LDG_KIND_SET);
	assert_string_equal(res.v[0].target, "staging/api");
	assert_int_equal(head_of(f, h2), 2);
	assert_memory_equal(res.v[0].hash, h2, 32);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_entry_raw(r, 2, &raw, &len), 0);
	{
		uint8_t h[32];
		ldg_entry_hash(raw, len, h);
		assert_memory_equal(h, h2, 32);
	}
	assert_int_equal(ldg_entry_verify_sig(raw, len, ORIGIN,
					      ldg_signer_vkey(f->admin)->pk),
			 0);
	ldg_read_end(r);

	e = entry_at(f, 2);
	assert_int_equal(e->kind, LDG_KIND_SET);
	assert_memory_equal(e->prev, h1, 32);
	assert_string_equal(e->reason, "bump api");
	assert_int_equal(e->n_changes, 2);
	assert_string_equal(e->changes[0].key, "image.tag");
	assert_string_equal(e->changes[1].key, "replicas");
	assert_int_equal(e->n_meta, 1);
	assert_string_equal(e->meta[0].key, "ci.run");
	assert_true(e->time_ns >= before - 1000000000ull);
	assert_true(e->time_ns <= ldg_now_ns());
	ldg_entry_free(e);
	ldg_result_free(&res);

	assert_value_at(f, "staging/api", "image.tag", 0, "1.2.3");
	assert_value_at(f, "staging/api", "replicas", 0, "3");
	assert_value_at(f, "staging/web", "image.tag", 0, NULL);
}

static void test_set_to_the_current_value_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv[2] = { { "image.tag", "1" }, { "replicas", "2" } };
	struct ldg_result res = { 0 };
	struct ldg_entry *e;
	uint64_t seq;

	must_set(f, "staging/api", "image.tag", "1");
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "1",
				false, &seq, NULL),
			 0);
	assert_int_equal(seq, 0);
	assert_int_equal(head_of(f, NULL), 2);
	/* only the key that changes is recorded */
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", kv, 2, "r",
				 NULL, 0, false, &res, NULL),
			 0);
	assert_int_equal(res.n, 1);
	e = entry_at(f, res.v[0].seq);
	assert_int_equal(e->n_changes, 1);
	assert_string_equal(e->changes[0].key, "replicas");
	ldg_entry_free(e);
	ldg_result_free(&res);
}

static void test_set_validates_before_writing(void **state)
{
	struct fx *f = *state;
	struct ldg_kv good = { "image.tag", "1" };
	struct ldg_kv dup[2] = { { "a", "1" }, { "a", "2" } };
	struct ldg_kv bad_key = { "image..tag", "1" };
	struct ldg_kv bad_val = { "image.tag", "a\nb" };
	struct ldg_kv no_val = { "image.tag", NULL };
	struct ldg_kv forced = { "forced", "true" };
	struct ldg_kv rb = { "rollback-to", "1" };
	struct ldg_result res = { 0 };

	assert_int_equal(ldg_set(f->s, f->admin, "staging", &good, 1, "r",
				 NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &good, 1, "",
				 NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &good, 0, "r",
				 NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", dup, 2, "r",
				 NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &bad_key, 1,
				 "r", NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &bad_val, 1,
				 "r", NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &no_val, 1,
				 "r", NULL, 0, false, &res, NULL),
			 -EINVAL);
	/* forced and rollback-to are the library's to write */
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &good, 1, "r",
				 &forced, 1, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &good, 1, "r",
				 &rb, 1, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(head_of(f, NULL), 1);
}

static void test_unset_removes_keys_and_skips_absent_ones(void **state)
{
	struct fx *f = *state;
	struct ldg_entry *e;
	uint64_t seq;

	must_set(f, "staging/api", "image.tag", "1");
	must_set(f, "staging/api", "replicas", "2");
	assert_int_equal(unset_k(f, f->admin, "staging/api", "replicas", false,
				 &seq),
			 0);
	assert_int_equal(seq, 4);
	e = entry_at(f, 4);
	assert_int_equal(e->kind, LDG_KIND_UNSET);
	assert_int_equal(e->n_changes, 1);
	assert_string_equal(e->changes[0].key, "replicas");
	assert_null(e->changes[0].value);
	ldg_entry_free(e);
	assert_value_at(f, "staging/api", "replicas", 0, NULL);
	assert_value_at(f, "staging/api", "image.tag", 0, "1");
	/* already unset: nothing to write */
	assert_int_equal(unset_k(f, f->admin, "staging/api", "replicas", false,
				 &seq),
			 0);
	assert_int_equal(seq, 0);
	assert_int_equal(head_of(f, NULL), 4);
}

/* ---- state at N ---- */

static void test_state_at_n_returns_values_as_they_were(void **state)
{
	struct fx *f = *state;
	uint64_t s2, s3, s4, s5;

	s2 = must_set(f, "staging/api", "image.tag", "1.0");
	s3 = must_set(f, "staging/api", "image.tag", "1.1");
	s4 = must_set(f, "prod/api", "image.tag", "0.9");
	assert_int_equal(unset_k(f, f->admin, "staging/api", "image.tag",
				 false, &s5),
			 0);
	assert_value_at(f, "staging/api", "image.tag", 1, NULL);
	assert_value_at(f, "staging/api", "image.tag", s2, "1.0");
	assert_value_at(f, "staging/api", "image.tag", s3, "1.1");
	assert_value_at(f, "staging/api", "image.tag", s4, "1.1");
	assert_value_at(f, "staging/api", "image.tag", s5, NULL);
	assert_value_at(f, "staging/api", "image.tag", 0, NULL);
	assert_value_at(f, "prod/api", "image.tag", s3, NULL);
	assert_value_at(f, "prod/api", "image.tag", s4, "0.9");
	assert_value_at(f, "prod/api", "image.tag", 100, "0.9");
}

/*
 * A key first set after `at` must not hide the keys that follow it. The
 * first record of the versions database is such a key here: "aaa" of the
 * smallest target, set after "zzz".
 */
static void test_state_at_n_sees_keys_after_a_younger_key(void **state)
{
	struct fx *f = *state;
	uint64_t s2, s3;

	s2 = must_set(f, "a/a", "zzz", "old");
	s3 = must_set(f, "a/a", "aaa", "new");
	must_set(f, "a/a", "mmm", "later");
	assert_value_at(f, "a/a", "zzz", s2, "old");
	assert_value_at(f, "a/a", "aaa", s2, NULL);
	assert_value_at(f, "a/a", "zzz", s3, "old");
	assert_value_at(f, "a/a", "aaa", s3, "new");
	assert_value_at(f, "a/a", "mmm", s3, NULL);
}

/* A model of the state after every seq, compared with ldg_state_get()
 * for every target at every seq. */
#define M_TARGETS 4
#define M_KEYS 4
#define M_STEPS 60

struct model {
	char value[M_TARGETS][M_KEYS][16]; /* "" = unset */
	uint64_t vseq[M_TARGETS][M_KEYS];
	uint64_t lock[M_TARGETS];
};

static void test_state_at_every_seq_matches_a_model(void **state)
{
	static const char *const targets[M_TARGETS] = { "a/a", "a/b", "b/a",
							"a/b-c" };
	static const char *const keys[M_KEYS] = { "aaa", "image.tag", "m",
						  "zzz" };
	struct fx *f = *state;
	struct model *hist = calloc(M_STEPS + 2, sizeof(*hist));
	struct model cur = { 0 };
	uint32_t rnd = 12345;
	uint64_t head = 1;

	for (int step = 0; step < M_STEPS; step++) {
		uint64_t seq = 0;
		int t, k, op;

		rnd = rnd * 1103515245u + 12345u;
		t = (int)((rnd >> 8) % M_TARGETS);
		k = (int)((rnd >> 12) % M_KEYS);
		op = (int)((rnd >> 16) % 10);
		if (op < 6) {
			char v[16];
			snprintf(v, sizeof(v), "v%d", step);
			assert_int_equal(set_kv(f, f->admin, targets[t],
						keys[k], v, true, &seq, NULL),
					 0);
			if (seq) {
				snprintf(cur.value[t][k], 16, "%s", v);
				cur.vseq[t][k] = seq;
			}
		} else if (op < 9) {
			assert_int_equal(unset_k(f, f->admin, targets[t],
						 keys[k], true, &seq),
					 0);
			assert_int_equal(seq != 0, cur.value[t][k][0] != 0);
			if (seq) {
				cur.value[t][k][0] = '\0';
				cur.vseq[t][k] = seq;
			}
		} else {
			bool lock = cur.lock[t] == 0;
			assert_int_equal(lock_t(f, f->admin, targets[t], lock,
						&seq),
					 0);
			assert_int_not_equal(seq, 0);
			cur.lock[t] = lock ? seq : 0;
		}
		if (seq) {
			assert_int_equal(seq, head + 1);
			head = seq;
			hist[head] = cur;
		}
	}
	assert_int_equal(head_of(f, NULL), head);
	assert_true(head > 30);

	for (uint64_t at = 1; at <= head; at++) {
		struct ldg_read *r;
		assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
		for (int t = 0; t < M_TARGETS; t++) {
			struct ldg_values v;
			size_t want_n = 0;
			assert_int_equal(ldg_state_get(r, targets[t], at, &v),
					 0);
			for (int k = 0; k < M_KEYS; k++) {
				const struct ldg_value *got =
					ldg_values_find(&v, keys[k]);
				const char *want = hist[at].value[t][k];
				if (!want[0]) {
					if (got)
						fail_msg("%s %s at %llu: want "
							 "unset, got %s",
							 targets[t], keys[k],
							 (unsigned long long)at,
							 got->value);
					continue;
				}
				want_n++;
				if (!got)
					fail_msg("%s %s at %llu: want %s, got "
						 "unset",
						 targets[t], keys[k],
						 (unsigned long long)at, want);
				assert_string_equal(got->value, want);
				assert_int_equal(got->seq,
						 hist[at].vseq[t][k]);
			}
			assert_int_equal(v.n, want_n);
			/* sorted by key */
			for (size_t i = 1; i < v.n; i++)
				assert_true(strcmp(v.v[i - 1].key,
						   v.v[i].key) < 0);
			assert_int_equal(v.lock_seq, hist[at].lock[t]);
			ldg_values_free(&v);
		}
		ldg_read_end(r);
	}
	free(hist);
	assert_verify_ok(f);
}

/* ---- history and targets ---- */

static void test_history_is_newest_first_per_scope(void **state)
{
	struct fx *f = *state;
	struct ldg_read *r;
	uint64_t *seqs;
	size_t n;

	must_set(f, "staging/api", "image.tag", "1");  /* 2 */
	must_set(f, "staging/api2", "image.tag", "1"); /* 3 */
	must_set(f, "prod/api", "image.tag", "1");     /* 4 */
	must_set(f, "staging/web", "image.tag", "1");  /* 5 */
	must_set(f, "staging/api", "image.tag", "2");  /* 6 */
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, NULL), 0);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_history(r, "staging/api", 0, 0, &seqs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], 7);
	assert_int_equal(seqs[1], 6);
	assert_int_equal(seqs[2], 2);
	free(seqs);
	/* a whole cluster */
	assert_int_equal(ldg_history(r, "staging", 0, 0, &seqs, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(seqs[0], 7);
	assert_int_equal(seqs[1], 6);
	assert_int_equal(seqs[2], 5);
	assert_int_equal(seqs[3], 3);
	assert_int_equal(seqs[4], 2);
	free(seqs);
	/* paging: at most 2, then below 6 */
	assert_int_equal(ldg_history(r, "staging", 0, 2, &seqs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[1], 6);
	free(seqs);
	assert_int_equal(ldg_history(r, "staging", 6, 0, &seqs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], 5);
	free(seqs);
	/* the whole log */
	assert_int_equal(ldg_history(r, NULL, 0, 0, &seqs, &n), 0);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], 7 - i);
	free(seqs);
	assert_int_equal(ldg_history(r, NULL, 3, 0, &seqs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 2);
	free(seqs);
	/* nothing for an unknown target */
	assert_int_equal(ldg_history(r, "dev/api", 0, 0, &seqs, &n), 0);
	assert_int_equal(n, 0);
	free(seqs);
	ldg_read_end(r);
}

static void test_targets_list_is_sorted_and_filtered(void **state)
{
	struct fx *f = *state;
	struct ldg_read *r;
	char **v;
	size_t n;

	must_set(f, "staging/web", "image.tag", "1"); /* 2 */
	must_set(f, "prod/api", "image.tag", "1");    /* 3 */
	must_set(f, "staging/api", "image.tag", "1"); /* 4 */
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_targets_list(r, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "prod/api");
	assert_string_equal(v[1], "staging/api");
	assert_string_equal(v[2], "staging/web");
	ldg_strv_free(v, n);
	assert_int_equal(ldg_targets_list(r, "staging/", 0, &v, &n), 0);
	assert_int_equal(n, 2);
	ldg_strv_free(v, n);
	/* only targets that existed at seq 3 */
	assert_int_equal(ldg_targets_list(r, NULL, 3, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "prod/api");
	assert_string_equal(v[1], "staging/web");
	ldg_strv_free(v, n);
	ldg_read_end(r);
}

/* ---- rollback ---- */

static void test_rollback_restores_state_and_locks(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	const struct ldg_kv *m;
	uint64_t s2;

	s2 = must_set(f, "staging/api", "image.tag", "1.0");
	must_set(f, "staging/api", "image.tag", "2.0");
	must_set(f, "staging/api", "feature.x", "on");

	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", s2,
				      "2.0 is broken", NULL, 0, false, &res,
				      &err),
			 0);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.v[0].seq, 5);
	assert_int_equal(res.v[0].kind, LDG_KIND_ROLLBACK);
	assert_int_equal(res.v[1].seq, 6);
	assert_int_equal(res.v[1].kind, LDG_KIND_LOCK);
	ldg_result_free(&res);

	e = entry_at(f, 5);
	assert_string_equal(e->target, "staging/api");
	assert_string_equal(e->reason, "2.0 is broken");
	assert_int_equal(e->n_changes, 2);
	assert_string_equal(e->changes[0].key, "feature.x");
	assert_null(e->changes[0].value); /* did not exist then: unset */
	assert_string_equal(e->changes[1].key, "image.tag");
	assert_non_null(e->changes[1].value);
	assert_string_equal(e->changes[1].value, "1.0");
	m = ldg_kv_find(e->meta, e->n_meta, "rollback-to");
	assert_non_null(m);
	assert_string_equal(m->value, "2");
	ldg_entry_free(e);

	assert_value_at(f, "staging/api", "image.tag", 0, "1.0");
	assert_value_at(f, "staging/api", "feature.x", 0, NULL);
	assert_int_equal(lock_seq_at(f, "staging/api", 0), 6);

	/* nothing left to restore: nothing written */
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", s2,
				      "again", NULL, 0, false, &res, NULL),
			 0);
	assert_int_equal(res.n, 0);
	assert_int_equal(head_of(f, NULL), 6);
	assert_verify_ok(f);
}

static void test_rollback_no_lock_and_bad_targets(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };

	must_set(f, "staging/api", "image.tag", "1.0"); /* 2 */
	must_set(f, "staging/api", "image.tag", "2.0"); /* 3 */
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 2, "r",
				      NULL, 0, true, &res, NULL),
			 0);
	assert_int_equal(res.n, 1);
	ldg_result_free(&res);
	assert_int_equal(lock_seq_at(f, "staging/api", 0), 0);
	assert_value_at(f, "staging/api", "image.tag", 0, "1.0");

	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 99, "r",
				      NULL, 0, false, &res, NULL),
			 -ENOENT);
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/web", 2, "r",
				      NULL, 0, false, &res, NULL),
			 -ENOENT);
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 0, "r",
				      NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 2, "",
				      NULL, 0, false, &res, NULL),
			 -EINVAL);
	assert_int_equal(head_of(f, NULL), 4);
}

static void test_rollback_of_a_cluster_covers_each_target(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };

	must_set(f, "staging/api", "image.tag", "1"); /* 2 */
	must_set(f, "staging/web", "image.tag", "1"); /* 3 */
	must_set(f, "prod/api", "image.tag", "1");    /* 4 */
	must_set(f, "staging/api", "image.tag", "2"); /* 5 */
	must_set(f, "staging/web", "image.tag", "2"); /* 6 */
	must_set(f, "prod/api", "image.tag", "2");    /* 7 */
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging", 4, "r", NULL,
				      0, true, &res, NULL),
			 0);
	assert_int_equal(res.n, 2);
	assert_string_equal(res.v[0].target, "staging/api");
	assert_string_equal(res.v[1].target, "staging/web");
	ldg_result_free(&res);
	assert_value_at(f, "staging/api", "image.tag", 0, "1");
	assert_value_at(f, "staging/web", "image.tag", 0, "1");
	assert_value_at(f, "prod/api", "image.tag", 0, "2");
}

/* ---- locks ---- */

static void test_locked_target_refuses_set_unless_forced(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	const struct ldg_kv *m;
	uint64_t seq, lseq;

	must_set(f, "staging/api", "image.tag", "1");
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, &lseq), 0);
	assert_int_equal(lseq, 3);
	e = entry_at(f, 3);
	assert_int_equal(e->kind, LDG_KIND_LOCK);
	assert_int_equal(e->n_changes, 0);
	ldg_entry_free(e);

	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "2",
				false, &seq, &err),
			 -EBUSY);
	assert_non_null(strstr(err.msg, "locked since seq 3"));
	assert_non_null(strstr(err.msg, "hold it"));
	assert_int_equal(unset_k(f, f->admin, "staging/api", "image.tag",
				 false, NULL),
			 -EBUSY);
	assert_int_equal(head_of(f, NULL), 3);
	/* other targets are not affected */
	must_set(f, "staging/web", "image.tag", "1"); /* 4 */

	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "2",
				true, &seq, &err),
			 0);
	assert_int_equal(seq, 5);
	e = entry_at(f, 5);
	m = ldg_kv_find(e->meta, e->n_meta, "forced");
	assert_non_null(m);
	assert_string_equal(m->value, "true");
	ldg_entry_free(e);
	assert_value_at(f, "staging/api", "image.tag", 0, "2");
	/* still locked after a forced set */
	assert_int_equal(lock_seq_at(f, "staging/api", 0), 3);
	assert_verify_ok(f);
}

static void test_lock_twice_writes_nothing_and_unlock_frees(void **state)
{
	struct fx *f = *state;
	struct ldg_entry *e;
	uint64_t seq;

	assert_int_equal(lock_t(f, f->admin, "staging/api", true, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(lock_t(f, f->admin, "staging/api", false, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(lock_t(f, f->admin, "staging/api", false, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(lock_seq_at(f, "staging/api", 2), 2);
	assert_int_equal(lock_seq_at(f, "staging/api", 3), 0);
	/* unlocked: a plain set, not recorded as forced */
	seq = must_set(f, "staging/api", "image.tag", "1");
	e = entry_at(f, seq);
	assert_null(ldg_kv_find(e->meta, e->n_meta, "forced"));
	ldg_entry_free(e);
	/* force on an unlocked target is not recorded either */
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "2",
				true, &seq, NULL),
			 0);
	e = entry_at(f, seq);
	assert_null(ldg_kv_find(e->meta, e->n_meta, "forced"));
	ldg_entry_free(e);
}

/* ---- who may write ---- */

static void test_unknown_signer_is_refused_and_nothing_written(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t before[32], after[32];
	uint64_t seq = 99;

	head_of(f, before);
	assert_int_equal(set_kv(f, f->outsider, "staging/api", "image.tag",
				"1", false, &seq, &err),
			 -EACCES);
	assert_int_equal(err.code, -EACCES);
	assert_non_null(strstr(err.msg, "not in the keyring"));
	assert_int_equal(seq, 0);
	assert_int_equal(lock_t(f, f->outsider, "staging/api", true, NULL),
			 -EACCES);
	assert_int_equal(head_of(f, after), 1);
	assert_memory_equal(before, after, 32);
	assert_value_at(f, "staging/api", "image.tag", 0, NULL);
}

static void test_deployer_scope_limits_targets(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t seq;

	add_key(f, f->deployer, "deployer", "staging/*"); /* 2 */
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag",
				"1", false, &seq, &err),
			 0);
	assert_int_equal(seq, 3);
	assert_int_equal(set_kv(f, f->deployer, "prod/api", "image.tag", "1",
				false, &seq, &err),
			 -EACCES);
	assert_non_null(strstr(err.msg, "staging/*"));
	assert_int_equal(head_of(f, NULL), 3);
	assert_value_at(f, "prod/api", "image.tag", 0, NULL);
	/* its rollback and lock are scoped the same way */
	assert_int_equal(lock_t(f, f->deployer, "prod/api", true, NULL),
			 -EACCES);
	assert_int_equal(lock_t(f, f->deployer, "staging/api", true, &seq), 0);
	assert_int_equal(seq, 4);
	assert_verify_ok(f);
}

static void test_deployer_with_release_glob_scope(void **state)
{
	struct fx *f = *state;

	add_key(f, f->deployer, "deployer", "*/api staging/web");
	assert_int_equal(set_kv(f, f->deployer, "prod/api", "image.tag", "1",
				false, NULL, NULL),
			 0);
	assert_int_equal(set_kv(f, f->deployer, "staging/web", "image.tag",
				"1", false, NULL, NULL),
			 0);
	assert_int_equal(set_kv(f, f->deployer, "prod/web", "image.tag", "1",
				false, NULL, NULL),
			 -EACCES);
	assert_int_equal(head_of(f, NULL), 4);
}

static void test_only_admins_with_star_scope_manage_keys(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->applier, "admin", "staging/*");
	/* a deployer cannot add keys, nor can a scoped admin */
	assert_int_equal(ldg_key_add(f->s, f->deployer,
				     ldg_signer_vkey(f->outsider), "admin", "*",
				     "let me in", &res, &err),
			 -EACCES);
	assert_int_equal(ldg_key_add(f->s, f->applier,
				     ldg_signer_vkey(f->outsider), "deployer",
				     "staging/*", "let me in", &res, &err),
			 -EACCES);
	assert_int_equal(ldg_key_revoke(f->s, f->deployer, "applier", "coup",
					&res, &err),
			 -EACCES);
	assert_int_equal(head_of(f, NULL), 3);
}

/* A scope is a glob over targets; "?" or "[*]" happen to match the string
 * "*" as globs, but they are not the scope '*' that key management
 * needs. */
static void test_glob_that_matches_a_star_is_not_scope_star(void **state)
{
	static const char *const scopes[] = { "?", "[*]", "[!a]" };
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k[3];

	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "odd%d", i);
		assert_int_equal(ldg_signer_generate(name, &k[i], NULL), 0);
		add_key(f, k[i], "admin", scopes[i]);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ldg_key_add(f->s, k[i],
					     ldg_signer_vkey(f->outsider),
					     "admin", "*", "escalate", &res,
					     &err),
				 -EACCES);
		ldg_signer_free(k[i]);
	}
	assert_int_equal(head_of(f, NULL), 4);
}

static void test_revoked_key_is_refused(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_keyinfo ki;
	struct ldg_read *r;

	add_key(f, f->deployer, "deployer", "*"); /* 2 */
	must_set(f, "staging/api", "image.tag", "1");
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag",
				"2", false, NULL, NULL),
			 0); /* 4 */
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "left",
					&res, &err),
			 0); /* 5 */
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].kind, LDG_KIND_KEY_REVOKE);
	ldg_result_free(&res);
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag",
				"3", false, NULL, &err),
			 -EACCES);
	assert_non_null(strstr(err.msg, "revoked"));
	assert_int_equal(head_of(f, NULL), 5);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_keyring_by_name(r, "deployer", &ki), 0);
	assert_int_equal(ki.added_seq, 2);
	assert_int_equal(ki.revoked_seq, 5);
	ldg_read_end(r);

	/* revoked twice, unknown, and names are never reused */
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "again",
					&res, NULL),
			 -EEXIST);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "nobody", "who",
					&res, NULL),
			 -ENOENT);
	assert_int_equal(ldg_key_add(f->s, f->admin,
				     ldg_signer_vkey(f->deployer), "deployer",
				     "*", "back", &res, NULL),
			 -EEXIST);
	assert_int_equal(head_of(f, NULL), 5);
	/* entries it signed before the revocation stay valid */
	assert_verify_ok(f);
}

static void test_last_star_admin_cannot_be_revoked(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_key_revoke(f->s, f->admin, "admin", "oops", &res,
					&err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "last admin"));
	/* with a second admin it can be */
	add_key(f, f->deployer, "admin", "*");
	assert_int_equal(ldg_key_revoke(f->s, f->deployer, "admin", "rotate",
					&res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "1",
				false, NULL, NULL),
			 -EACCES);
	assert_verify_ok(f);
}

/* The last-admin rule counts the admins that can manage keys, by the
 * same rule as authorisation. */
static void test_last_admin_rule_counts_only_star_scope_admins(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	/* an admin with scope '?' cannot manage keys, so revoking the only
	 * '*' admin would lock everyone out of key management */
	add_key(f, f->deployer, "admin", "?");
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "admin", "oops", &res,
					&err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "last admin"));
	/* an admin whose scope list holds '*' among others can */
	add_key(f, f->applier, "admin", "staging/* *");
	assert_int_equal(ldg_key_revoke(f->s, f->applier, "admin", "rotate",
					&res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(head_of(f, NULL), 4);
	assert_verify_ok(f);
}

static void test_key_add_validates_role_and_scopes(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	const struct ldg_vkey *vk = ldg_signer_vkey(f->deployer);

	assert_int_equal(ldg_key_add(f->s, f->admin, vk, "root", "*", "r",
				     &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_key_add(f->s, f->admin, vk, "deployer", "", "r",
				     &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_key_add(f->s, f->admin, vk, "deployer",
				     "Staging/*", "r", &res, NULL),
			 -EINVAL);
	assert_int_equal(ldg_key_add(f->s, f->admin, vk, "deployer", "*", "",
				     &res, NULL),
			 -EINVAL);
	/* the admin's own key again */
	assert_int_equal(ldg_key_add(f->s, f->admin, ldg_signer_vkey(f->admin),
				     "deployer", "*", "r", &res, NULL),
			 -EEXIST);
	assert_int_equal(head_of(f, NULL), 1);
}

static void test_applier_records_apply_results_only(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *d;

	add_key(f, f->applier, "applier", "staging/*"); /* 2 */
	must_set(f, "staging/api", "image.tag", "1");	 /* 3 */
	assert_int_equal(set_kv(f, f->applier, "staging/api", "image.tag",
				"2", false, NULL, &err),
			 -EACCES);

	d = ldg_entry_new(LDG_KIND_APPLIED, "staging/api", "applied");
	assert_int_equal(ldg_entry_add_change(d, "image.tag", "1"), 0);
	assert_int_equal(ldg_entry_add_meta(d, "desired-seq", "3"), 0);
	assert_int_equal(ldg_append(f->s, f->applier, d, &res, &err), 0);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].seq, 4);
	ldg_result_free(&res);
	ldg_entry_free(d);

	/* a whole cluster: the scope must cover all of it */
	d = ldg_entry_new(LDG_KIND_APPLY_FAILED, "staging", "auto batch");
	assert_int_equal(ldg_append(f->s, f->applier, d, &res, &err), 0);
	ldg_result_free(&res);
	ldg_entry_free(d);
	d = ldg_entry_new(LDG_KIND_APPLIED, "prod", "auto batch");
	assert_int_equal(ldg_append(f->s, f->applier, d, &res, &err),
			 -EACCES);
	ldg_entry_free(d);
	/* a deployer may not record apply results */
	add_key(f, f->deployer, "deployer", "*");
	d = ldg_entry_new(LDG_KIND_APPLIED, "staging/api", "fake");
	assert_int_equal(ldg_append(f->s, f->deployer, d, &res, &err),
			 -EACCES);
	ldg_entry_free(d);
	assert_int_equal(head_of(f, NULL), 6);
	/* apply results do not change values */
	assert_value_at(f, "staging/api", "image.tag", 0, "1");
	assert_verify_ok(f);
}

/* ---- verify and reindex ---- */

static void build_busy_ledger(struct fx *f)
{
	struct ldg_result res = { 0 };

	add_key(f, f->deployer, "deployer", "staging/*");
	must_set(f, "staging/api", "image.tag", "1.0");
	must_set(f, "staging/web", "image.tag", "1.0");
	must_set(f, "prod/api", "image.tag", "1.0");
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag",
				"1.1", false, NULL, NULL),
			 0);
	assert_int_equal(unset_k(f, f->admin, "staging/web", "image.tag",
				 false, NULL),
			 0);
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 3, "r",
				      NULL, 0, false, &res, NULL),
			 0);
	ldg_result_free(&res);
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "1.2",
				true, NULL, NULL),
			 0);
	assert_int_equal(lock_t(f, f->admin, "staging/api", false, NULL), 0);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "bye",
					&res, NULL),
			 0);
	ldg_result_free(&res);
}

static void test_verify_accepts_a_good_ledger(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_read *r;
	uint8_t root[32];

	build_busy_ledger(f);
	assert_int_equal(verify(f, NULL, 0, &rep), 0);
	assert_int_equal(rep.bad_seq, 0);
	assert_int_equal(rep.bad_checkpoint, -1);
	assert_int_equal(rep.entries, head_of(f, NULL));
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_merkle_root_at(r, rep.head, root), 0);
	ldg_read_end(r);
	assert_memory_equal(rep.root, root, 32);
	assert_verify_ok(f);
}

static void test_reindex_keeps_verify_at_zero(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t count = 0, head;
	char *before;

	build_busy_ledger(f);
	head = head_of(f, NULL);
	before = value_at(f, "staging/api", "image.tag", 0);
	assert_int_equal(ldg_reindex(f->s, &count, &err), 0);
	assert_int_equal(count, head);
	assert_int_equal(head_of(f, NULL), head);
	assert_verify_ok(f);
	assert_value_at(f, "staging/api", "image.tag", 0, before);
	assert_value_at(f, "staging/api", "image.tag", 3, "1.0");
	assert_string_equal(ldg_store_origin(f->s), ORIGIN);
	free(before);
	/* and writing goes on as before */
	must_set(f, "prod/api", "image.tag", "after-reindex");
	assert_verify_ok(f);
}

static void test_verify_checks_checkpoints(void **state)
{
	struct fx *f = *state;
	struct ldg_checkpoint *cp = calloc(2, sizeof(*cp));
	struct ldg_verify_report rep;
	struct ldg_read *r;
	uint8_t root[32];
	char *text;

	must_set(f, "staging/api", "image.tag", "1");
	must_set(f, "staging/api", "image.tag", "2");
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_merkle_root_at(r, 2, root), 0);
	ldg_read_end(r);
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 2, root, f->admin, &text,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[0],
					      NULL),
			 0);
	free(text);
	must_set(f, "staging/api", "image.tag", "3");
	assert_int_equal(verify(f, cp, 1, &rep), 0);

	/* a different root for size 2, signed by the ledger's own admin:
	 * the ledger does not contain that tree head (a fork) */
	root[0] ^= 1;
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 2, root, f->admin, &text,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[1],
					      NULL),
			 0);
	free(text);
	assert_int_equal(verify(f, cp, 2, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 1);
	/* a checkpoint beyond the head: entries were removed */
	root[0] ^= 1;
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 10, root, f->admin, &text,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[1],
					      NULL),
			 0);
	free(text);
	assert_int_equal(verify(f, cp, 2, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 1);
	/* signed by a key the ledger does not know */
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 2, root, f->outsider,
					     &text, NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[1],
					      NULL),
			 0);
	free(text);
	assert_int_equal(verify(f, cp, 2, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 1);
	free(cp);
}

static void test_verify_detects_a_flipped_stored_byte(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;

	must_set(f, "staging/api", "image.tag", "1");
	must_set(f, "staging/api", "image.tag", "2");
	must_set(f, "staging/api", "image.tag", "3");
	ldg_store_close(f->s);
	f->s = NULL;

	flip_stored_byte(f, 3, 70); /* inside the metadata/reason area */

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 3);
	assert_true(strlen(rep.problem) > 0);
}

static void test_entry_prove_names_what_a_rewritten_entry_breaks(
	void **state)
{
	struct fx *f = *state;
	struct ldg_entry_proof pr;
	struct ldg_read *r;

	must_set(f, "staging/api", "image.tag", "1"); /* seq 2 */
	must_set(f, "staging/api", "image.tag", "2"); /* seq 3 */
	must_set(f, "staging/api", "image.tag", "3"); /* seq 4 */
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_entry_prove(r, 3, &pr, NULL), 0);
	assert_null(pr.sig_problem);
	assert_null(pr.key_problem);
	assert_true(pr.have_key);
	assert_string_equal(pr.key.vkey.name, "admin");
	assert_true(pr.prev_ok);
	assert_int_equal(pr.next_ok, 1);
	assert_int_equal(ldg_entry_prove(r, 4, &pr, NULL), 0);
	assert_int_equal(pr.next_ok, -1); /* the head */
	assert_int_equal(ldg_entry_prove(r, 1, &pr, NULL), 0);
	assert_true(pr.prev_ok); /* zeros before the first */
	assert_null(pr.sig_problem);
	assert_int_equal(ldg_entry_prove(r, 5, &pr, NULL), -ENOENT);
	ldg_read_end(r);
	ldg_store_close(f->s);
	f->s = NULL;

	flip_stored_byte(f, 3, 70); /* inside the metadata/reason area */

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_entry_prove(r, 3, &pr, NULL), 0);
	assert_non_null(pr.sig_problem);
	assert_string_equal(pr.sig_problem, "the signature does not verify");
	assert_true(pr.prev_ok); /* its own prev still names entry 2 */
	assert_int_equal(pr.next_ok, 0); /* entry 4 names the old bytes */
	assert_int_equal(ldg_entry_prove(r, 4, &pr, NULL), 0);
	assert_false(pr.prev_ok);
	assert_null(pr.sig_problem);
	/* entry 3's prev still names entry 2: that link holds */
	assert_int_equal(ldg_entry_prove(r, 2, &pr, NULL), 0);
	assert_int_equal(pr.next_ok, 1);
	ldg_read_end(r);
}

static void test_verify_detects_a_stale_index_and_reindex_fixes_it(
	void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 21, "staging/api\0image.tag" };
	MDB_val v = { 10, "\0\0\0\0\0\0\0\x02\x01X" }; /* seq 2, set, X */
	uint64_t count;

	must_set(f, "staging/api", "image.tag", "1");
	ldg_store_close(f->s);
	f->s = NULL;

	/* rewrite the current value behind the library's back */
	env = raw_open(f, &txn, 0);
	assert_int_equal(mdb_dbi_open(txn, "state", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_value_at(f, "staging/api", "image.tag", 0, "X");
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_non_null(strstr(rep.problem, "state"));
	assert_int_equal(ldg_reindex(f->s, &count, NULL), 0);
	assert_int_equal(count, 2);
	assert_value_at(f, "staging/api", "image.tag", 0, "1");
	assert_verify_ok(f);
}

static void test_verify_flags_an_entry_that_bypassed_authorisation(
	void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_entry *e;
	uint8_t prev[32], *bytes;
	size_t len;

	must_set(f, "staging/api", "image.tag", "1");
	head_of(f, prev);
	ldg_store_close(f->s);
	f->s = NULL;

	/* a well-formed, well-chained entry signed by a stranger */
	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "sneaky");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "evil"), 0);
	e->seq = 3;
	memcpy(e->prev, prev, 32);
	e->time_ns = ldg_now_ns();
	assert_int_equal(ldg_entry_sign(e, ORIGIN, f->outsider, &bytes, &len,
					NULL),
			 0);
	put_stored_entry(f, 3, bytes, len);
	free(bytes);
	ldg_entry_free(e);

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 3);
	assert_non_null(strstr(rep.problem, "not authorised"));
}

static void test_verify_detects_a_broken_chain(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_entry *e;
	uint8_t *bytes;
	size_t len;

	must_set(f, "staging/api", "image.tag", "1");
	ldg_store_close(f->s);
	f->s = NULL;

	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "unchained");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "2"), 0);
	e->seq = 3;
	memset(e->prev, 0x11, 32); /* not the hash of entry 2 */
	e->time_ns = ldg_now_ns();
	assert_int_equal(ldg_entry_sign(e, ORIGIN, f->admin, &bytes, &len,
					NULL),
			 0);
	put_stored_entry(f, 3, bytes, len);
	free(bytes);
	ldg_entry_free(e);

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 3);
	assert_non_null(strstr(rep.problem, "prev"));
}

/* ---- storage layout ---- */

static void test_entries_db_is_keyed_by_big_endian_seq(void **state)
{
	struct fx *f = *state;
	struct ldg_read *r;
	uint8_t *stored[3];
	size_t lens[3];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t want = 1;
	int rc;

	must_set(f, "staging/api", "image.tag", "1");
	must_set(f, "staging/api", "image.tag", "2");
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		const uint8_t *raw;
		assert_int_equal(ldg_entry_raw(r, seq, &raw, &lens[seq - 1]),
				 0);
		stored[seq - 1] = malloc(lens[seq - 1]);
		memcpy(stored[seq - 1], raw, lens[seq - 1]);
	}
	ldg_read_end(r);
	/* one environment per process at a time (lmdb.h, Caveats) */
	ldg_store_close(f->s);
	f->s = NULL;

	env = raw_open(f, &txn, MDB_RDONLY);
	assert_int_equal(mdb_dbi_open(txn, "entries", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t be[8];
		assert_true(want <= 3);
		ldg_put_be64(be, want);
		assert_int_equal(k.mv_size, 8);
		assert_memory_equal(k.mv_data, be, 8);
		assert_int_equal(v.mv_size, lens[want - 1]);
		assert_memory_equal(v.mv_data, stored[want - 1], v.mv_size);
		want++;
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	assert_int_equal(want, 4);
	mdb_cursor_close(c);
	/* the documented index databases exist */
	{
		static const char *const dbs[] = { "meta",     "state",
						   "targets",  "versions",
						   "history",  "merkle",
						   "keys",     "keyids" };
		for (size_t i = 0; i < 8; i++)
			assert_int_equal(mdb_dbi_open(txn, dbs[i], 0, &dbi), 0);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	for (int i = 0; i < 3; i++)
		free(stored[i]);
}

/* ---- map growth ---- */

/* The map starts small (8 MiB); writes past it grow the map and redo the
 * transaction instead of failing with MDB_MAP_FULL. */
static void test_full_map_grows_instead_of_failing(void **state)
{
	enum { ROUNDS = 12, KEYS = 100 };
	struct fx *f = *state;
	struct ldg_kv *kv = calloc(KEYS, sizeof(*kv));
	char *value = malloc(LDG_VALUE_MAX + 1);
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	for (int i = 0; i < KEYS; i++) {
		kv[i].key = malloc(16);
		snprintf(kv[i].key, 16, "k%03d", i);
		kv[i].value = value;
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* ~400 KiB per entry, about three times that with indexes */
		memset(value, 'a' + round, LDG_VALUE_MAX);
		value[LDG_VALUE_MAX] = '\0';
		if (ldg_set(f->s, f->admin, "staging/api", kv, KEYS, "big",
			    NULL, 0, false, &res, &err))
			fail_msg("round %d: %s", round, err.msg);
		assert_int_equal(res.n, 1);
		assert_int_equal(res.v[0].seq, (uint64_t)round + 2);
		ldg_result_free(&res);
	}
	assert_int_equal(head_of(f, NULL), ROUNDS + 1);
	{
		/* the test did go past the initial map */
		char path[4200];
		struct stat st;
		snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size > (8 << 20));
	}
	{
		char *got = value_at(f, "staging/api", "k099", 0);
		assert_non_null(got);
		assert_int_equal(got[0], 'a' + ROUNDS - 1);
		free(got);
		got = value_at(f, "staging/api", "k000", 2);
		assert_int_equal(got[0], 'a');
		free(got);
	}
	assert_verify_ok(f);
	for (int i = 0; i < KEYS; i++)
		free(kv[i].key);
	free(kv);
	free(value);
}

/* ---- concurrency ---- */

static void test_concurrent_writers_never_skip_or_repeat(void **state)
{
	enum { WRITERS = 4, EACH = 8 };
	struct fx *f = *state;
	pid_t pids[WRITERS];

	/* open LMDB after fork(), never before (store.h, Caveats) */
	ldg_store_close(f->s);
	f->s = NULL;
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct ldg_store *s;
			int bad = 0;
			if (ldg_store_open(f->dir, 0, &s, NULL))
				_exit(2);
			for (int i = 0; i < EACH; i++) {
				char target[32], v[16];
				struct ldg_kv kv = { "image.tag", v };
				struct ldg_result res = { 0 };
				snprintf(target, sizeof(target), "c%d/api", w);
				snprintf(v, sizeof(v), "%d", i);
				bad |= ldg_set(s, f->admin, target, &kv, 1,
					       "race", NULL, 0, false, &res,
					       NULL) != 0 ||
				       res.n != 1;
				ldg_result_free(&res);
			}
			ldg_store_close(s);
			_exit(bad);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(head_of(f, NULL), 1 + WRITERS * EACH);
	for (int w = 0; w < WRITERS; w++) {
		char target[32], v[16];
		snprintf(target, sizeof(target), "c%d/api", w);
		snprintf(v, sizeof(v), "%d", EACH - 1);
		assert_value_at(f, target, "image.tag", 0, v);
	}
	assert_verify_ok(f);
}

/* ---- entries signed elsewhere (remote writers) ---- */

/* The state of target at the head, as a remote client fetches it. */
static void state_now(struct fx *f, const char *target, struct ldg_values *v)
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, 0, v), 0);
	ldg_read_end(r);
}

/* A set of target key=value by k, sealed for the current head. */
/* The keyring and locks at f's head, as a remote writer gets them. */
static void store_authz(struct fx *f, struct ldg_authz *az)
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_authz_load(r, az, NULL), 0);
	ldg_read_end(r);
}

static void remote_set_bytes(struct fx *f, const struct ldg_signer *k,
			     const char *target, const char *key,
			     const char *value, bool force, uint8_t **buf,
			     size_t *len)
{
	struct ldg_kv kv = { (char *)key, (char *)value };
	uint8_t prev[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_values now;
	struct ldg_entry *e = NULL;
	struct ldg_authz az;
	uint64_t head = head_of(f, prev);

	state_now(f, target, &now);
	store_authz(f, &az);
	assert_int_equal(ldg_draft_set(&now, target, &kv, 1, "remote", NULL,
				       0, force, &e, &err), 0);
	assert_non_null(e);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, k, buf,
					len, &err), 0);
	ldg_authz_free(&az);
	ldg_entry_free(e);
	ldg_values_free(&now);
}

static int append_signed(struct fx *f, const uint8_t *buf, size_t len,
			 uint64_t *seq, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc = ldg_append_signed(f->s, buf, len, &res, err);

	if (seq)
		*seq = res.n ? res.v[0].seq : 0;
	ldg_result_free(&res);
	return rc;
}

static void test_append_signed_stores_the_exact_bytes(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	const uint8_t *raw;
	struct ldg_read *r;
	uint8_t *buf, hash[LDG_HASH_BYTES], want[LDG_HASH_BYTES];
	size_t len, rlen;
	uint64_t seq = 0;

	add_key(f, f->deployer, "deployer", "staging/*");
	remote_set_bytes(f, f->deployer, "staging/api", "image.tag", "v2",
			 false, &buf, &len);
	if (append_signed(f, buf, len, &seq, &err))
		fail_msg("append: %s", err.msg);
	assert_int_equal(seq, 3);
	assert_int_equal(head_of(f, hash), 3);
	ldg_entry_hash(buf, len, want);
	assert_memory_equal(hash, want, LDG_HASH_BYTES);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_entry_raw(r, 3, &raw, &rlen), 0);
	assert_int_equal(rlen, len);
	assert_memory_equal(raw, buf, len);
	ldg_read_end(r);
	assert_value_at(f, "staging/api", "image.tag", 0, "v2");
	assert_verify_ok(f);
	free(buf);
}

static void test_append_signed_refuses_a_moved_head_with_estale(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t *buf;
	size_t len;

	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	must_set(f, "staging/api", "b", "2"); /* someone else was quicker */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -ESTALE);
	assert_int_equal(head_of(f, NULL), 2);
	/* the same bytes once more: still stale, never a fork */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -ESTALE);
	free(buf);
	/* rebuilt on the new head, it goes in */
	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), 0);
	assert_int_equal(head_of(f, NULL), 3);
	assert_verify_ok(f);
	free(buf);
}

static void test_append_signed_refuses_unknown_and_out_of_scope(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t *buf;
	size_t len;

	remote_set_bytes(f, f->outsider, "staging/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EACCES);
	free(buf);
	add_key(f, f->deployer, "deployer", "staging/*");
	remote_set_bytes(f, f->deployer, "prod/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EACCES);
	free(buf);
	assert_int_equal(head_of(f, NULL), 2);
}

static void test_append_signed_refuses_bad_bytes_and_signatures(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t *buf, *longer;
	size_t len;

	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	buf[len - 1] ^= 1; /* signature */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBADMSG);
	buf[len - 1] ^= 1;
	longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0; /* trailing byte */
	assert_int_equal(append_signed(f, longer, len + 1, NULL, &err),
			 -EBADMSG);
	assert_int_equal(append_signed(f, buf, len / 2, NULL, &err),
			 -EBADMSG);
	assert_int_equal(append_signed(f, (const uint8_t *)"", 0, NULL, &err),
			 -EBADMSG);
	assert_int_equal(head_of(f, NULL), 1);
	/* untouched, it is accepted */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), 0);
	free(longer);
	free(buf);
}

/* An entry signed elsewhere carries the commitment of the keyring and
 * locks after it: a stale one, or none (version 1) after version 2
 * entries, is refused and nothing is written. */
static void test_append_signed_checks_the_commitment(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv = { "image.tag", "v9" };
	struct ldg_values none = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_entry lock = { .kind = LDG_KIND_LOCK, .seq = 99,
				  .target = "prod/other" };
	uint8_t prev[LDG_HASH_BYTES], *buf;
	struct ldg_authz az;
	uint64_t head = head_of(f, prev);
	size_t len;

	/* no commitment: a version 1 entry after the version 2 ones */
	assert_int_equal(ldg_draft_set(&none, "staging/api", &kv, 1, "v1",
				       NULL, 0, false, &e, NULL), 0);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, NULL, f->admin,
					&buf, &len, &err), 0);
	assert_int_equal(buf[0], 0x9b);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "version 1 entry after version 2"));
	assert_int_equal(head_of(f, NULL), head);
	free(buf);
	/* the commitment of another state: a lock that is not there */
	store_authz(f, &az);
	assert_int_equal(ldg_authz_apply(&az, &lock), 0);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, f->admin,
					&buf, &len, &err), 0);
	assert_int_equal(buf[0], 0x9c);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "authz field"));
	assert_int_equal(head_of(f, NULL), head);
	free(buf);
	ldg_authz_free(&az);
	/* the right one */
	store_authz(f, &az);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, f->admin,
					&buf, &len, &err), 0);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), 0);
	assert_int_equal(head_of(f, NULL), head + 1);
	free(buf);
	ldg_authz_free(&az);
	ldg_entry_free(e);
}

static void test_append_signed_respects_the_lock(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_values now;
	struct ldg_entry *e = NULL;
	uint8_t *buf;
	size_t len;
	uint64_t seq;

	assert_int_equal(lock_t(f, f->admin, "staging/api", true, NULL), 0);
	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "hold it"));
	free(buf);
	/* forced: recorded as such, and accepted */
	remote_set_bytes(f, f->admin, "staging/api", "a", "1", true, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, &seq, &err), 0);
	free(buf);
	e = entry_at(f, seq);
	assert_non_null(ldg_kv_find(e->meta, e->n_meta, "forced"));
	ldg_entry_free(e);
	/* a lock draft on a locked target is nothing to do; unlock is */
	state_now(f, "staging/api", &now);
	assert_int_equal(ldg_draft_lock(&now, "staging/api", "x", true, &e,
					&err), 0);
	assert_null(e);
	assert_int_equal(ldg_draft_lock(&now, "staging/api", "x", false, &e,
					&err), 0);
	assert_non_null(e);
	assert_int_equal(e->kind, LDG_KIND_UNLOCK);
	ldg_entry_free(e);
	ldg_values_free(&now);
}

static void test_draft_set_skips_equal_values_and_checks_input(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv = { "a", "1" }, bad = { "bad key", "1" };
	struct ldg_err err = { 0 };
	struct ldg_values now;
	struct ldg_entry *e = NULL;
	const char *keys[1] = { "nope" };

	must_set(f, "staging/api", "a", "1");
	state_now(f, "staging/api", &now);
	assert_int_equal(ldg_draft_set(&now, "staging/api", &kv, 1, "r",
				       NULL, 0, false, &e, &err), 0);
	assert_null(e);
	assert_int_equal(ldg_draft_unset(&now, "staging/api", keys, 1, "r",
					 NULL, 0, false, &e, &err), 0);
	assert_null(e);
	assert_int_equal(ldg_draft_set(&now, "staging/api", &bad, 1, "r",
				       NULL, 0, false, &e, &err), -EINVAL);
	assert_int_equal(ldg_draft_set(&now, "staging/api", &kv, 1, "",
				       NULL, 0, false, &e, &err), -EINVAL);
	assert_null(e);
	ldg_values_free(&now);
}

/* A set of target by k sealed on (head, prev), as a remote writer builds
 * the second entry of a batch on the first. */
static void set_bytes_on(struct fx *f, const struct ldg_signer *k,
			 const char *target, const char *value, uint64_t head,
			 const uint8_t prev[LDG_HASH_BYTES], uint8_t **buf,
			 size_t *len)
{
	struct ldg_authz az;

	struct ldg_kv kv = { "image.tag", (char *)value };
	struct ldg_values none = { 0 };
	struct ldg_entry *e = NULL;

	/* a set leaves the keyring and locks as they are: the head's
	 * state is also the state after the first entry of a batch */
	store_authz(f, &az);
	assert_int_equal(ldg_draft_set(&none, target, &kv, 1, "batch", NULL,
				       0, false, &e, NULL), 0);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, k, buf,
					len, NULL), 0);
	ldg_authz_free(&az);
	ldg_entry_free(e);
}

static void test_append_signed_batch_is_all_or_nothing(void **state)
{
	struct fx *f = *state;
	uint8_t prev[LDG_HASH_BYTES], *b[2];
	size_t len[2];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t head;
	char want[32];

	add_key(f, f->deployer, "deployer", "staging/*");
	head = head_of(f, prev);
	/* the second is out of the deployer's scope: neither is written */
	set_bytes_on(f, f->deployer, "staging/api", "b1", head, prev, &b[0],
		     &len[0]);
	ldg_entry_hash(b[0], len[0], prev);
	set_bytes_on(f, f->deployer, "prod/api", "b1", head + 1, prev, &b[1],
		     &len[1]);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b,
						 len, 2, &res, &err), -EACCES);
	snprintf(want, sizeof(want), "entry %llu: ",
		 (unsigned long long)head + 2);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(head_of(f, NULL), head);
	free(b[1]);
	/* in scope: both, in one transaction, seqs head+1 and head+2 */
	set_bytes_on(f, f->deployer, "staging/web", "b1", head + 1, prev, &b[1],
		     &len[1]);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b,
						 len, 2, &res, &err), 0);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.v[0].seq, head + 1);
	assert_int_equal(res.v[1].seq, head + 2);
	ldg_result_free(&res);
	assert_int_equal(head_of(f, NULL), head + 2);
	assert_verify_ok(f);
	/* a second entry not built on the first: not "the head moved" (a
	 * retry would not mend it) but a bad batch; and no entries at all */
	free(b[0]);
	free(b[1]);
	head = head_of(f, prev);
	set_bytes_on(f, f->deployer, "staging/api", "b2", head, prev, &b[0],
		     &len[0]);
	set_bytes_on(f, f->deployer, "staging/web", "b2", head + 1, prev, &b[1],
		     &len[1]);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b,
						 len, 2, &res, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not built on the entry before it"));
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b,
						 len, 0, &res, &err), -EINVAL);
	assert_int_equal(head_of(f, NULL), head);
	free(b[0]);
	free(b[1]);
}

/* ---- copies (ledger mirror) ---- */

/* The stored bytes of entries 1..n of f, malloc'd copies. */
static void raw_entries(struct fx *f, uint64_t n, uint8_t **bufs,
			size_t *lens)
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *raw;
		assert_int_equal(ldg_entry_raw(r, i + 1, &raw, &lens[i]), 0);
		bufs[i] = malloc(lens[i]);
		assert_non_null(bufs[i]);
		memcpy(bufs[i], raw, lens[i]);
	}
	ldg_read_end(r);
}

/* The busy ledger's entries (bufs, lens; its head hash) and an empty
 * store to copy them into (*c); returns how many. */
static uint64_t copy_fixture(struct fx *f, uint8_t **bufs, size_t *lens,
			     uint8_t hash[LDG_HASH_BYTES],
			     struct ldg_store **c)
{
	char dir[4200];
	uint64_t n;

	build_busy_ledger(f);
	n = head_of(f, hash);
	assert_true(n <= 16);
	raw_entries(f, n, bufs, lens);
	snprintf(dir, sizeof(dir), "%s/copy", f->tmp);
	assert_int_equal(ldg_store_open(dir, LDG_OPEN_CREATE, c, NULL), 0);
	return n;
}

static void test_append_copied_makes_an_identical_ledger(void **state)
{
	struct fx *f = *state;
	uint8_t *bufs[16], hash[LDG_HASH_BYTES], copy_hash[LDG_HASH_BYTES];
	size_t lens[16];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_store *c;
	struct ldg_read *r;
	uint64_t n = copy_fixture(f, bufs, lens, hash, &c), seq;

	/* the first page: init and two more; then the rest */
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, 3, &res, &err), 0);
	assert_int_equal(res.n, 3);
	ldg_result_free(&res);
	assert_string_equal(ldg_store_origin(c), ORIGIN);
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs + 3,
					   lens + 3, n - 3, &res, &err), 0);
	ldg_result_free(&res);
	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, copy_hash), 0);
	ldg_read_end(r);
	assert_int_equal(seq, n);
	assert_memory_equal(copy_hash, hash, LDG_HASH_BYTES);
	/* the copy verifies, indexes and all */
	{
		struct ldg_verify_opts vo = { .threads = 1 };
		struct ldg_verify_report rep;
		assert_int_equal(ldg_verify(c, &vo, &rep, &err), 0);
		assert_int_equal(rep.entries, n);
	}
	/* an init into a ledger that has one is refused */
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, 1, &res, &err), -EINVAL);
	{
		char want[32];
		snprintf(want, sizeof(want), "entry %llu: ",
			 (unsigned long long)n + 1);
		assert_non_null(strstr(err.msg, want));
	}
	ldg_store_close(c);
	for (uint64_t i = 0; i < n; i++)
		free(bufs[i]);
}

static void test_append_copied_refuses_a_page_whole(void **state)
{
	struct fx *f = *state;
	uint8_t *bufs[16], hash[LDG_HASH_BYTES];
	size_t lens[16];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_store *c;
	struct ldg_read *r;
	uint64_t n = copy_fixture(f, bufs, lens, hash, &c), seq;

	/* entry 4's signature flipped: the page of 1..n is refused whole */
	bufs[3][lens[3] - 1] ^= 1;
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, n, &res, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "entry 4: bad signature"));
	assert_string_equal(ldg_store_origin(c), "");
	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, NULL), 0);
	ldg_read_end(r);
	assert_int_equal(seq, 0);
	bufs[3][lens[3] - 1] ^= 1;
	/* entry 1 with a flipped signature byte: the init is checked too */
	bufs[0][lens[0] - 1] ^= 1;
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, 1, &res, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "entry 1: bad signature"));
	bufs[0][lens[0] - 1] ^= 1;
	/* a gap (entries 2 and 3 left out): -ESTALE, named at entry 2 */
	{
		const uint8_t *gap[2] = { bufs[0], bufs[3] };
		size_t glen[2] = { lens[0], lens[3] };
		assert_int_equal(ldg_append_copied(c, gap, glen, 2, &res, &err),
				 -ESTALE);
		assert_non_null(strstr(err.msg, "entry 2: "));
	}
	/* an init is not for ldg_append_signed(), even into an empty store */
	assert_int_equal(ldg_append_signed(c, bufs[0], lens[0], &res, &err),
			 -EINVAL);
	ldg_store_close(c);
	for (uint64_t i = 0; i < n; i++)
		free(bufs[i]);
}

/* ---- the rule of a rollback ---- */

/* A rollback of staging/api to seq to with one change key=value (NULL:
 * unset), signed by k on the head: what a lying server could get a
 * client to sign. */
static void forged_rollback(struct fx *f, const struct ldg_signer *k,
			    uint64_t to, const char *key, const char *value,
			    uint8_t **buf, size_t *len)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_ROLLBACK, "staging/api",
					    "back to the good one");
	uint8_t prev[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	uint64_t head = head_of(f, prev);
	char num[24];

	struct ldg_authz az;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)to);
	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	assert_int_equal(ldg_entry_add_meta(e, "rollback-to", num), 0);
	/* a rollback leaves keyring and locks as they are */
	store_authz(f, &az);
	if (ldg_entry_seal(e, head, prev, ORIGIN, &az, k, buf, len, &err))
		fail_msg("seal: %s", err.msg);
	ldg_authz_free(&az);
	ldg_entry_free(e);
}

static void test_append_refuses_a_rollback_that_does_not_restore(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	uint8_t *buf;
	size_t len;
	uint64_t good;

	add_key(f, f->deployer, "deployer", "staging/*");
	good = must_set(f, "staging/api", "image.tag", "good");
	must_set(f, "staging/api", "image.tag", "bad");
	must_set(f, "staging/api", "replicas", "3");

	/* signed by an authorised key, well chained: the values are wrong */
	forged_rollback(f, f->deployer, good, "image.tag", "EVIL", &buf, &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EPERM);
	assert_non_null(strstr(err.msg, "image.tag"));
	assert_non_null(strstr(err.msg, "\"EVIL\""));
	assert_int_equal(head_of(f, NULL), 5);
	free(buf);
	/* right value, but replicas (absent at good) left in place */
	forged_rollback(f, f->deployer, good, "image.tag", "good", &buf, &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EPERM);
	assert_non_null(strstr(err.msg, "replicas"));
	free(buf);
	/* the same through a batch and as a mirror's copy */
	forged_rollback(f, f->deployer, good, "image.tag", "EVIL", &buf, &len);
	assert_int_equal(ldg_append_signed_batch(
				 f->s, (const uint8_t *const *)&buf, &len, 1,
				 &res, &err),
			 -EPERM);
	assert_int_equal(ldg_append_copied(f->s, (const uint8_t *const *)&buf,
					   &len, 1, &res, &err),
			 -EPERM);
	free(buf);
	/* and a local append of a caller-built draft */
	e = ldg_entry_new(LDG_KIND_ROLLBACK, "staging/api", "local");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "EVIL"), 0);
	assert_int_equal(ldg_entry_add_change(e, "replicas", NULL), 0);
	assert_int_equal(ldg_entry_add_meta(e, "rollback-to", "3"), 0);
	assert_int_equal(ldg_append(f->s, f->admin, e, &res, &err), -EPERM);
	ldg_entry_free(e);
	assert_int_equal(head_of(f, NULL), 5);
	assert_value_at(f, "staging/api", "image.tag", 0, "bad");

	/* the honest one passes every path */
	e = ldg_entry_new(LDG_KIND_ROLLBACK, "staging/api", "local");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "good"), 0);
	assert_int_equal(ldg_entry_add_change(e, "replicas", NULL), 0);
	assert_int_equal(ldg_entry_add_meta(e, "rollback-to", "3"), 0);
	if (ldg_append(f->s, f->admin, e, &res, &err))
		fail_msg("honest rollback: %s", err.msg);
	ldg_entry_free(e);
	ldg_result_free(&res);
	assert_value_at(f, "staging/api", "image.tag", 0, "good");
	assert_verify_ok(f);
}

/* Rollbacks of every shape the library writes satisfy the rule, at
 * append and in verify's replay. */
static void test_rollback_rule_accepts_every_honest_shape(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	const char *const gone[] = { "a" };
	uint64_t s_a, s_ab, s_unset;

#define RB(what, to, no_lock)                                                 \
	do {                                                                  \
		if (ldg_rollback(f->s, f->admin, what, to, "r", NULL, 0,      \
				 no_lock, &res, &err))                        \
			fail_msg("rollback %s to %llu: %s", what,             \
				 (unsigned long long)(to), err.msg);          \
		ldg_result_free(&res);                                        \
	} while (0)

	s_a = must_set(f, "staging/api", "a", "1");
	s_ab = must_set(f, "staging/api", "b", "2");
	must_set(f, "staging/web", "w", "1");
	assert_int_equal(ldg_unset(f->s, f->admin, "staging/api", gone, 1, "u",
				   NULL, 0, false, &res, &err), 0);
	s_unset = res.v[0].seq;
	ldg_result_free(&res);
	must_set(f, "staging/api", "c", "3");
	RB("staging/api", s_a, true);	  /* keys absent then: unset */
	RB("staging/api", s_unset, true); /* to a state after an unset */
	RB("staging/api", s_ab, true);	  /* twice in a row */
	RB("staging/api", 1, true);	  /* before the target existed */
	RB("staging/api", s_ab, false);	  /* from no values at all; locks */
	RB("staging", s_a, true);	  /* a cluster: web had no values */
	RB("staging", s_ab + 1, true);
	assert_value_at(f, "staging/web", "w", 0, "1");
	assert_value_at(f, "staging/api", "a", 0, "1");
	assert_verify_ok(f);
#undef RB
}

static void test_verify_flags_a_rollback_with_values_nobody_signed(
	void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	uint8_t *bytes;
	uint64_t good;
	size_t len;

	good = must_set(f, "staging/api", "image.tag", "good");
	must_set(f, "staging/api", "image.tag", "bad");
	forged_rollback(f, f->admin, good, "image.tag", "EVIL", &bytes, &len);
	ldg_store_close(f->s);
	f->s = NULL;
	/* stored behind the library's back: signed by the admin, chained */
	put_stored_entry(f, 4, bytes, len);
	free(bytes);

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 4);
	assert_non_null(strstr(rep.problem, "not a valid rollback"));
	assert_non_null(strstr(rep.problem, "image.tag"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_init_records_origin_and_admin_key),
		T(test_init_twice_is_refused),
		T(test_append_signed_stores_the_exact_bytes),
		T(test_append_signed_checks_the_commitment),
		T(test_append_signed_refuses_a_moved_head_with_estale),
		T(test_append_signed_refuses_unknown_and_out_of_scope),
		T(test_append_signed_refuses_bad_bytes_and_signatures),
		T(test_append_signed_respects_the_lock),
		T(test_draft_set_skips_equal_values_and_checks_input),
		T(test_init_refuses_bad_origin),
		T(test_open_missing_ledger_is_enoent),
		T(test_readonly_store_refuses_writes),
		T(test_set_appends_a_signed_chained_entry),
		T(test_set_to_the_current_value_writes_nothing),
		T(test_set_validates_before_writing),
		T(test_unset_removes_keys_and_skips_absent_ones),
		T(test_state_at_n_returns_values_as_they_were),
		T(test_state_at_n_sees_keys_after_a_younger_key),
		T(test_state_at_every_seq_matches_a_model),
		T(test_history_is_newest_first_per_scope),
		T(test_targets_list_is_sorted_and_filtered),
		T(test_rollback_restores_state_and_locks),
		T(test_rollback_no_lock_and_bad_targets),
		T(test_rollback_of_a_cluster_covers_each_target),
		T(test_append_refuses_a_rollback_that_does_not_restore),
		T(test_rollback_rule_accepts_every_honest_shape),
		T(test_verify_flags_a_rollback_with_values_nobody_signed),
		T(test_locked_target_refuses_set_unless_forced),
		T(test_lock_twice_writes_nothing_and_unlock_frees),
		T(test_unknown_signer_is_refused_and_nothing_written),
		T(test_deployer_scope_limits_targets),
		T(test_deployer_with_release_glob_scope),
		T(test_only_admins_with_star_scope_manage_keys),
		T(test_glob_that_matches_a_star_is_not_scope_star),
		T(test_revoked_key_is_refused),
		T(test_last_star_admin_cannot_be_revoked),
		T(test_last_admin_rule_counts_only_star_scope_admins),
		T(test_key_add_validates_role_and_scopes),
		T(test_applier_records_apply_results_only),
		T(test_verify_accepts_a_good_ledger),
		T(test_reindex_keeps_verify_at_zero),
		T(test_verify_checks_checkpoints),
		T(test_verify_detects_a_flipped_stored_byte),
		T(test_entry_prove_names_what_a_rewritten_entry_breaks),
		T(test_verify_detects_a_stale_index_and_reindex_fixes_it),
		T(test_verify_flags_an_entry_that_bypassed_authorisation),
		T(test_verify_detects_a_broken_chain),
		T(test_entries_db_is_keyed_by_big_endian_seq),
		T(test_full_map_grows_instead_of_failing),
		T(test_concurrent_writers_never_skip_or_repeat),
		T(test_append_signed_batch_is_all_or_nothing),
		T(test_append_copied_makes_an_identical_ledger),
		T(test_append_copied_refuses_a_page_whole),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
