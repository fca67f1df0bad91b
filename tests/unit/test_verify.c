/*
 * Unit tests for ledger/verify.c: ldg_verify() on good ledgers and on
 * ones edited behind the library's back (flipped bytes, a stale index, a
 * broken chain, entries the writer would have refused), checkpoints,
 * ldg_entry_prove().
 *
 * Each test runs on a fresh ledger from fixture.h (admin, deployer,
 * applier and outsider keys; the admin key initialised it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* ---- verify ---- */

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
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[0], NULL),
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
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[1], NULL),
			 0);
	free(text);
	assert_int_equal(verify(f, cp, 2, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 1);
	/* a checkpoint beyond the head: entries were removed */
	root[0] ^= 1;
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 10, root, f->admin, &text,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[1], NULL),
			 0);
	free(text);
	assert_int_equal(verify(f, cp, 2, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 1);
	/* signed by a key the ledger does not know */
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 2, root, f->outsider,
					     &text, NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), &cp[1], NULL),
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

	flip_stored_byte(f->dir, 3, 70); /* inside the metadata/reason area */

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 3);
	assert_true(strlen(rep.problem) > 0);
}

static void test_entry_prove_names_what_a_rewritten_entry_breaks(void **state)
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

	flip_stored_byte(f->dir, 3, 70); /* inside the metadata/reason area */

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_entry_prove(r, 3, &pr, NULL), 0);
	assert_non_null(pr.sig_problem);
	assert_string_equal(pr.sig_problem, "the signature does not verify");
	assert_true(pr.prev_ok);	 /* its own prev still names entry 2 */
	assert_int_equal(pr.next_ok, 0); /* entry 4 names the old bytes */
	assert_int_equal(ldg_entry_prove(r, 4, &pr, NULL), 0);
	assert_false(pr.prev_ok);
	assert_null(pr.sig_problem);
	/* entry 3's prev still names entry 2: that link holds */
	assert_int_equal(ldg_entry_prove(r, 2, &pr, NULL), 0);
	assert_int_equal(pr.next_ok, 1);
	ldg_read_end(r);
}

static void test_verify_detects_a_stale_index_and_reindex_fixes_it(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	static const char k[] = "staging/api\0image.tag";
	static const char v[] = "\0\0\0\0\0\0\0\x02\x01X"; /* seq 2, set, X */
	uint64_t count;

	must_set(f, "staging/api", "image.tag", "1");
	ldg_store_close(f->s);
	f->s = NULL;

	/* rewrite the current value behind the library's back */
	assert_int_equal(rawdb_store(f->dir, "state", k, sizeof(k) - 1, v,
				     sizeof(v) - 1),
			 0);

	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_value_at(f, "staging/api", "image.tag", 0, "X");
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_non_null(strstr(rep.problem, "state"));
	assert_int_equal(ldg_reindex(f->s, &count, NULL), 0);
	assert_int_equal(count, 2);
	assert_value_at(f, "staging/api", "image.tag", 0, "1");
	assert_verify_ok(f);
}

static void test_verify_flags_an_entry_that_bypassed_authorisation(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_entry *e;

	must_set(f, "staging/api", "image.tag", "1");
	/* a well-formed, well-chained entry signed by a stranger */
	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "sneaky");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "evil"), 0);
	assert_int_equal(put_forged_entry(f, e, f->outsider, NULL), 3);
	ldg_entry_free(e);

	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 3);
	assert_non_null(strstr(rep.problem, "not authorised"));
}

static void test_verify_detects_a_broken_chain(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_entry *e;
	uint8_t prev[LDG_HASH_BYTES];

	must_set(f, "staging/api", "image.tag", "1");
	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "unchained");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "2"), 0);
	memset(prev, 0x11, sizeof(prev)); /* not the hash of entry 2 */
	assert_int_equal(put_forged_entry(f, e, f->admin, prev), 3);
	ldg_entry_free(e);

	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 3);
	assert_non_null(strstr(rep.problem, "prev"));
}

static void test_verify_flags_a_rollback_with_values_nobody_signed(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_entry *e;
	uint64_t good;

	good = must_set(f, "staging/api", "image.tag", "good");
	must_set(f, "staging/api", "image.tag", "bad");
	/* stored behind the library's back: signed by the admin, chained */
	e = rollback_draft(good, "image.tag", "EVIL");
	assert_int_equal(put_forged_entry(f, e, f->admin, NULL), 4);
	ldg_entry_free(e);

	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 4);
	assert_non_null(strstr(rep.problem, "not a valid rollback"));
	assert_non_null(strstr(rep.problem, "image.tag"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_verify_flags_a_rollback_with_values_nobody_signed),
		T(test_verify_accepts_a_good_ledger),
		T(test_verify_checks_checkpoints),
		T(test_verify_detects_a_flipped_stored_byte),
		T(test_entry_prove_names_what_a_rewritten_entry_breaks),
		T(test_verify_detects_a_stale_index_and_reindex_fixes_it),
		T(test_verify_flags_an_entry_that_bypassed_authorisation),
		T(test_verify_detects_a_broken_chain),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
