/*
 * Unit tests for who may write what: the keyring, roles and scopes as the
 * write paths apply them (unknown, out-of-scope and revoked keys, key
 * management, apply results).
 *
 * Each test runs on a fresh ledger from fixture.h (admin, deployer,
 * applier and outsider keys; the admin key initialised it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* ---- who may write ---- */

static void test_unknown_signer_is_refused_and_nothing_written(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t before[32], after[32];
	uint64_t seq = 99;

	head_of(f, before);
	assert_int_equal(set_kv(f, f->outsider, "staging/api", "image.tag", "1",
				false, &seq, &err),
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
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag", "1",
				false, &seq, &err),
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
	assert_int_equal(set_kv(f, f->deployer, "staging/web", "image.tag", "1",
				false, NULL, NULL),
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
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag", "2",
				false, NULL, NULL),
			 0); /* 4 */
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "left",
					&res, &err),
			 0); /* 5 */
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].kind, LDG_KIND_KEY_REVOKE);
	ldg_result_free(&res);
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag", "3",
				false, NULL, &err),
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
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "nobody", "who", &res,
					NULL),
			 -ENOENT);
	assert_int_equal(ldg_key_add(f->s, f->admin,
				     ldg_signer_vkey(f->deployer), "deployer",
				     "*", "back", &res, NULL),
			 -EEXIST);
	assert_int_equal(head_of(f, NULL), 5);
	/* entries it signed before the revocation stay valid */
	assert_verify_ok(f);
}

static void test_applier_records_apply_results_only(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *d;

	add_key(f, f->applier, "applier", "staging/*"); /* 2 */
	must_set(f, "staging/api", "image.tag", "1");	/* 3 */
	assert_int_equal(set_kv(f, f->applier, "staging/api", "image.tag", "2",
				false, NULL, &err),
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
	assert_int_equal(ldg_append(f->s, f->applier, d, &res, &err), -EACCES);
	ldg_entry_free(d);
	/* a deployer may not record apply results */
	add_key(f, f->deployer, "deployer", "*");
	d = ldg_entry_new(LDG_KIND_APPLIED, "staging/api", "fake");
	assert_int_equal(ldg_append(f->s, f->deployer, d, &res, &err), -EACCES);
	ldg_entry_free(d);
	assert_int_equal(head_of(f, NULL), 6);
	/* apply results do not change values */
	assert_value_at(f, "staging/api", "image.tag", 0, "1");
	assert_verify_ok(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_unknown_signer_is_refused_and_nothing_written),
		T(test_deployer_scope_limits_targets),
		T(test_deployer_with_release_glob_scope),
		T(test_only_admins_with_star_scope_manage_keys),
		T(test_glob_that_matches_a_star_is_not_scope_star),
		T(test_revoked_key_is_refused),
		T(test_applier_records_apply_results_only),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
