/*
 * test_old_ledger.c - a ledger written before the gov and props indexes
 * (index version 4; store.c's open, verify.c's comparison): it verifies
 * as it is, readers are told to reindex, a writer creates the missing
 * indexes and rebuilds them before it writes; the same indexes missing
 * under this index version are no ledger.
 */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "store_impl.h" /* LDG_INDEX_VERSION */

/* Makes f's ledger (closed) look as index version 4 wrote it: no gov,
 * no props, meta's index-version "4". */
static void make_old(struct fx *f)
{
	static const char *const gone[] = { "gov", "props" };
	struct rawdb r;

	ldg_store_close(f->s);
	f->s = NULL;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(rawdb_open(f->dir, gone[i], false, &r), 0);
		assert_int_equal(mdb_drop(r.txn, r.dbi, 1), 0);
		assert_int_equal(rawdb_close(&r, true), 0);
	}
	assert_int_equal(rawdb_store(f->dir, "meta", "index-version", 13, "4",
				     1),
			 0);
}

static int open_as(struct fx *f, unsigned flags, struct ldg_err *err)
{
	return ldg_store_open(f->dir, flags, &f->s, err);
}

static void test_old_ledger_verifies_and_takes_writes(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	uint64_t seq;

	must_set(f, "staging/api", "image.tag", "v1");
	must_set(f, "staging/api", "replicas", "2");
	make_old(f);
	/* readers: the indexes are another version's */
	assert_int_equal(open_as(f, LDG_OPEN_RDONLY, &err), -ESTALE);
	assert_non_null(strstr(err.msg, "run ledger reindex"));
	assert_null(f->s);
	/* verify: its entries and indexes, as they are */
	assert_int_equal(open_as(f, LDG_OPEN_RDONLY | LDG_OPEN_ANY_INDEX, &err),
			 0);
	assert_true(ldg_store_stale(f->s));
	if (verify(f, NULL, 0, &rep))
		fail_msg("verify: %s", rep.problem);
	assert_int_equal(rep.entries, 3);
	ldg_store_close(f->s);
	f->s = NULL;
	/* a writer: rebuilt first, then written */
	assert_int_equal(open_as(f, 0, &err), 0);
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "v2",
				false, &seq, &err),
			 0);
	assert_int_equal(seq, 4);
	assert_false(ldg_store_stale(f->s));
	assert_value_at(f, "staging/api", "image.tag", 0, "v2");
	assert_verify_ok(f);
}

static void test_indexes_missing_under_this_version_are_no_ledger(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };

	make_old(f);
	assert_int_equal(rawdb_store(f->dir, "meta", "index-version", 13,
				     LDG_INDEX_VERSION,
				     strlen(LDG_INDEX_VERSION)),
			 0);
	assert_int_equal(open_as(f, LDG_OPEN_RDONLY | LDG_OPEN_ANY_INDEX, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "is not a ledger"));
	assert_null(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_old_ledger_verifies_and_takes_writes, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_indexes_missing_under_this_version_are_no_ledger,
			fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
