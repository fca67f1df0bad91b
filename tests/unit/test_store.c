/*
 * Unit tests for ledger/store.c: opening, read-only stores, state at N,
 * history, the targets list, the on-disk layout, map growth and concurrent
 * writers.
 *
 * Each test runs on a fresh ledger from fixture.h (admin, deployer,
 * applier and outsider keys; the admin key initialised it).
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "store_impl.h"

/* ---- open ---- */

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
	struct ldg_kv kv = { .key = "image.tag", .value = "1" };
	struct ldg_result res = { 0 };

	ldg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(ldg_store_open(f->dir, LDG_OPEN_RDONLY, &ro, NULL), 0);
	assert_string_equal(ldg_store_origin(ro), ORIGIN);
	assert_int_equal(ldg_set(ro, f->admin, "staging/api", &kv, 1, "r", NULL,
				 0, false, &res, NULL),
			 -EROFS);
	ldg_store_close(ro);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(head_of(f, NULL), 1);
}

/* ---- state at N ---- */

static void test_state_at_n_returns_values_as_they_were(void **state)
{
	struct fx *f = *state;
	uint64_t s2, s3, s4, s5;

	s2 = must_set(f, "staging/api", "image.tag", "1.0");
	s3 = must_set(f, "staging/api", "image.tag", "1.1");
	s4 = must_set(f, "prod/api", "image.tag", "0.9");
	assert_int_equal(unset_k(f, f->admin, "staging/api", "image.tag", false,
				 &s5),
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
				assert_int_equal(got->seq, hist[at].vseq[t][k]);
			}
			assert_int_equal(v.n, want_n);
			/* sorted by key */
			for (size_t i = 1; i < v.n; i++)
				assert_true(strcmp(v.v[i - 1].key, v.v[i].key) <
					    0);
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

/* ---- storage layout ---- */

static void test_entries_db_is_keyed_by_big_endian_seq(void **state)
{
	struct fx *f = *state;
	struct ldg_read *r;
	uint8_t *stored[3];
	size_t lens[3];
	struct rawdb db;
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

	assert_int_equal(rawdb_open(f->dir, "entries", true, &db), 0);
	assert_int_equal(mdb_cursor_open(db.txn, db.dbi, &c), 0);
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
		static const char *const dbs[] = { "meta",    "state",
						   "targets", "versions",
						   "history", "merkle",
						   "keys",    "keyids" };
		for (size_t i = 0; i < 8; i++)
			assert_int_equal(mdb_dbi_open(db.txn, dbs[i], 0, &dbi),
					 0);
	}
	rawdb_close(&db, false);
	for (int i = 0; i < 3; i++)
		free(stored[i]);
}

/* ---- map growth ---- */

/* ldg_store_reserve(): the map grows ahead of a big write, by doubling,
 * until the bytes asked for fit beyond what the ledger uses; asking for
 * what fits already changes nothing. */
static void test_reserve_grows_the_map_ahead(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	MDB_envinfo before, after;

	mdb_env_info(f->s->env, &before);
	assert_int_equal(ldg_store_reserve(f->s, 100u << 20, &err), 0);
	mdb_env_info(f->s->env, &after);
	assert_true(after.me_mapsize >= (100u << 20));
	assert_true(after.me_mapsize > before.me_mapsize);
	/* a power of two of the start: doubled, not set to the request */
	assert_int_equal(after.me_mapsize % before.me_mapsize, 0);
	assert_int_equal(ldg_store_reserve(f->s, 1u << 20, &err), 0);
	mdb_env_info(f->s->env, &before);
	assert_int_equal(before.me_mapsize, after.me_mapsize);
	/* and the ledger still takes writes */
	must_set(f, "staging/api", "tag", "after");
}

/* The map starts small (8 MiB); writes past it grow the map and redo the
 * transaction instead of failing with MDB_MAP_FULL. */
static void test_full_map_grows_instead_of_failing(void **state)
{
	enum {
		ROUNDS = 96,
		KEYS = 15 /* 60 KiB: a new entry is at most 64 KiB */
	};
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
		/* ~60 KiB per entry, about three times that with indexes */
		memset(value, 'a' + round % 26, LDG_VALUE_MAX);
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
		char *got = value_at(f, "staging/api", "k014", 0);
		assert_non_null(got);
		assert_int_equal(got[0], 'a' + (ROUNDS - 1) % 26);
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
	enum {
		WRITERS = 4,
		EACH = 8
	};
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
				struct ldg_kv kv = { .key = "image.tag",
						     .value = v };
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

/* !drift (docs/format.md 11): the newest drift entry of a release or a
 * whole cluster, one lookup; not a value; history rows as an apply's. */
static void drift_by(struct fx *f, const char *target, const char *status)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_DRIFT, target, "checked");

	assert_non_null(e);
	e->version = LDG_FORMAT_V2; /* the kind is version 2 only */
	assert_int_equal(ldg_entry_add_change(e, "status", status), 0);
	assert_int_equal(ldg_entry_add_meta(e, "diff", "- a | + b"), 0);
	if (ldg_append(f->s, f->admin, e, &res, &err))
		fail_msg("drift: %s", err.msg);
	ldg_result_free(&res);
	ldg_entry_free(e);
}

static void test_last_drift_is_the_newest_check(void **state)
{
	struct fx *f = *state;
	struct ldg_values v;
	struct ldg_read *r;
	uint64_t seq, set, *seqs = NULL, first, second;
	size_t n = 0;

	set = must_set(f, "staging/api", "image.tag", "1");
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_last_drift(r, "staging/api", &seq), 0);
	assert_int_equal(seq, 0); /* never checked */
	ldg_read_end(r);

	drift_by(f, "staging/api", LDG_DRIFTED);
	first = head_of(f, NULL);
	drift_by(f, "staging", LDG_IN_SYNC); /* the auto releases */
	drift_by(f, "staging/api", LDG_IN_SYNC);
	second = head_of(f, NULL);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_last_drift(r, "staging/api", &seq), 0);
	assert_int_equal(seq, second);
	assert_int_equal(ldg_last_drift(r, "staging", &seq), 0);
	assert_int_equal(seq, first + 1);
	assert_int_equal(ldg_last_drift(r, "staging/web", &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(ldg_last_apply(r, "staging/api", &seq), 0);
	assert_int_equal(seq, 0); /* a check is not an apply */
	/* the values are the set's alone */
	assert_int_equal(ldg_state_get(r, "staging/api", 0, &v), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.values_mtime_seq, set);
	assert_int_equal(v.mtime_seq, set);
	ldg_values_free(&v);
	assert_int_equal(ldg_state_changes(r, "staging/api", 0, &seqs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], set);
	free(seqs);
	/* history: the release's checks under it, every check under the
	 * cluster */
	assert_int_equal(ldg_history(r, "staging/api", 0, 0, &seqs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], second);
	assert_int_equal(seqs[1], first);
	free(seqs);
	assert_int_equal(ldg_history(r, "staging", 0, 0, &seqs, &n), 0);
	assert_int_equal(n, 4);
	free(seqs);
	ldg_read_end(r);
	assert_verify_ok(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_open_missing_ledger_is_enoent),
		T(test_readonly_store_refuses_writes),
		T(test_state_at_n_returns_values_as_they_were),
		T(test_state_at_n_sees_keys_after_a_younger_key),
		T(test_state_at_every_seq_matches_a_model),
		T(test_history_is_newest_first_per_scope),
		T(test_targets_list_is_sorted_and_filtered),
		T(test_entries_db_is_keyed_by_big_endian_seq),
		T(test_reserve_grows_the_map_ahead),
		T(test_full_map_grows_instead_of_failing),
		T(test_concurrent_writers_never_skip_or_repeat),
		T(test_last_drift_is_the_newest_check),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
