/*
 * Unit tests for ledger/ops.c's local writes: init, set, unset, lock,
 * rollback (and the rule every rollback must satisfy), key add and revoke
 * (the last-admin rule), reindex.
 *
 * Each test runs on a fresh ledger from fixture.h (admin, deployer,
 * applier and outsider keys; the admin key initialised it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* ---- init ---- */

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

/* ---- set and unset ---- */

static void test_set_appends_a_signed_chained_entry(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv[2] = { { .key = "replicas", .value = "3" },
				{ .key = "image.tag", .value = "1.2.3" } };
	struct ldg_kv meta[1] = { { .key = "ci.run", .value = "77" } };
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

/* Typed values (docs/format.md 3.2): set as their type, read back with
 * it; the same text of another type is a change; a rollback restores
 * the type. */
static void test_set_typed_values_and_roll_back_their_type(void **state)
{
	struct fx *f = *state;
	struct ldg_kv typed[2] = {
		{ .key = "enabled", .value = "false", .type = LDG_V_JSON },
		{ .key = "replicas", .value = "3", .type = LDG_V_JSON },
	};
	struct ldg_kv str = { .key = "replicas", .value = "3" };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_values v;
	struct ldg_read *r;
	struct ldg_entry *e;
	const struct ldg_value *x;

	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &str, 1,
				 "as a string", NULL, 0, 0, &res, &err),
			 0);
	ldg_result_free(&res);
	if (ldg_set(f->s, f->admin, "staging/api", typed, 2, "as json", NULL, 0,
		    0, &res, &err))
		fail_msg("%s", err.msg);

	assert_int_equal(res.n, 1);
	ldg_result_free(&res);
	e = entry_at(f, 3);
	assert_int_equal(e->version, LDG_FORMAT_V2);
	assert_int_equal(e->n_changes, 2); /* "3" -> 3 is a change */
	assert_int_equal(e->changes[1].type, LDG_V_JSON);
	ldg_entry_free(e);
	/* the same type and text again: nothing to write */
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", typed, 2,
				 "again", NULL, 0, 0, &res, &err),
			 0);
	assert_int_equal(res.n, 0);
	ldg_result_free(&res);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, "staging/api", 0, &v), 0);
	x = ldg_values_find(&v, "replicas");
	assert_int_equal(x->type, LDG_V_JSON);
	assert_string_equal(x->value, "3");
	ldg_values_free(&v);
	assert_int_equal(ldg_state_get(r, "staging/api", 2, &v), 0);
	x = ldg_values_find(&v, "replicas");
	assert_int_equal(x->type, LDG_V_STR);
	ldg_values_free(&v);
	ldg_read_end(r);

	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 2,
				      "back to the string", NULL, 0, true, &res,
				      &err),
			 0);
	ldg_result_free(&res);
	e = entry_at(f, 4);
	assert_int_equal(e->kind, LDG_KIND_ROLLBACK);
	assert_int_equal(e->n_changes, 2);
	assert_null(e->changes[0].value); /* enabled: unset */
	assert_int_equal(e->changes[1].type, LDG_V_STR);
	assert_string_equal(e->changes[1].value, "3");
	ldg_entry_free(e);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, "staging/api", 0, &v), 0);
	assert_int_equal(ldg_values_find(&v, "replicas")->type, LDG_V_STR);
	ldg_values_free(&v);
	ldg_read_end(r);
}

/* A writer checks a typed value by its own rules (docs/format.md 3.2):
 * its text may pass 4096 bytes, must be canonical, and no string in it
 * may hold a display control (section 14). */
static void test_set_checks_typed_values_by_their_rules(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv = { .key = "hosts", .type = LDG_V_JSON };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	char *big = malloc(8 * 1000 + 2), *p = big;
	uint64_t head;

	assert_non_null(big);
	*p++ = '[';
	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "%s\"h%04d\"", i ? "," : "", i);
	strcpy(p, "]");
	assert_true(strlen(big) > 4096);
	kv.value = big;
	if (ldg_set(f->s, f->admin, "staging/api", &kv, 1, "many hosts", NULL,
		    0, 0, &res, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(res.n, 1);
	ldg_result_free(&res);
	free(big);
	head = head_of(f, NULL);

	kv.value = "3.0"; /* not canonical: 3 */
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &kv, 1, "x",
				 NULL, 0, 0, &res, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "canonical"));
	kv.value = "[\"a\xe2\x80\xae\"]"; /* U+202E */
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &kv, 1, "x",
				 NULL, 0, 0, &res, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "U+202E"));
	assert_int_equal(head_of(f, NULL), head);
}

static void test_set_to_the_current_value_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv[2] = { { .key = "image.tag", .value = "1" },
				{ .key = "replicas", .value = "2" } };
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
	struct ldg_kv good = { .key = "image.tag", .value = "1" };
	struct ldg_kv dup[2] = { { .key = "a", .value = "1" },
				 { .key = "a", .value = "2" } };
	struct ldg_kv bad_key = { .key = "image..tag", .value = "1" };
	struct ldg_kv bad_val = { .key = "image.tag", .value = "a\nb" };
	struct ldg_kv no_val = { .key = "image.tag", .value = NULL };
	struct ldg_kv forced = { .key = "forced", .value = "true" };
	struct ldg_kv rb = { .key = "rollback-to", .value = "1" };
	struct ldg_result res = { 0 };

	assert_int_equal(ldg_set(f->s, f->admin, "staging", &good, 1, "r", NULL,
				 0, false, &res, NULL),
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
	assert_int_equal(ldg_set(f->s, f->admin, "staging/api", &no_val, 1, "r",
				 NULL, 0, false, &res, NULL),
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
	assert_int_equal(unset_k(f, f->admin, "staging/api", "image.tag", false,
				 NULL),
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

/* ---- key add and revoke ---- */

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

	assert_int_equal(ldg_key_add(f->s, f->admin, vk, "root", "*", "r", &res,
				     NULL),
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

/* ---- reindex ---- */

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

/* ---- the rule of a rollback ---- */

/* Rollbacks of every shape the library writes satisfy the rule, at
 * append and in verify's replay. */
static void test_rollback_rule_accepts_every_honest_shape(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	const char *const gone[] = { "a" };
	uint64_t s_a, s_ab, s_unset;

#define RB(what, to, no_lock)                                                  \
	do {                                                                   \
		if (ldg_rollback(f->s, f->admin, what, to, "r", NULL, 0,       \
				 no_lock, &res, &err))                         \
			fail_msg("rollback %s to %llu: %s", what,              \
				 (unsigned long long)(to), err.msg);           \
		ldg_result_free(&res);                                         \
	} while (0)

	s_a = must_set(f, "staging/api", "a", "1");
	s_ab = must_set(f, "staging/api", "b", "2");
	must_set(f, "staging/web", "w", "1");
	assert_int_equal(ldg_unset(f->s, f->admin, "staging/api", gone, 1, "u",
				   NULL, 0, false, &res, &err),
			 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_init_records_origin_and_admin_key),
		T(test_init_twice_is_refused),
		T(test_init_refuses_bad_origin),
		T(test_set_appends_a_signed_chained_entry),
		T(test_set_to_the_current_value_writes_nothing),
		T(test_set_typed_values_and_roll_back_their_type),
		T(test_set_checks_typed_values_by_their_rules),
		T(test_set_validates_before_writing),
		T(test_unset_removes_keys_and_skips_absent_ones),
		T(test_rollback_restores_state_and_locks),
		T(test_rollback_no_lock_and_bad_targets),
		T(test_rollback_of_a_cluster_covers_each_target),
		T(test_rollback_rule_accepts_every_honest_shape),
		T(test_locked_target_refuses_set_unless_forced),
		T(test_lock_twice_writes_nothing_and_unlock_frees),
		T(test_last_star_admin_cannot_be_revoked),
		T(test_last_admin_rule_counts_only_star_scope_admins),
		T(test_key_add_validates_role_and_scopes),
		T(test_reindex_keeps_verify_at_zero),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
