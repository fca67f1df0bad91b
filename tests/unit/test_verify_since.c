/*
 * Unit tests for ldg_verify_since() and ldg_verify_copy() (verify.c):
 * the incremental check from a trusted tree of size N (docs/format.md
 * section 10, "Verifying from a checkpoint"). It must accept what the
 * full check accepts, from every N, and refuse: a tree that is not the
 * ledger's, an entry after N that was edited or that the keyring, locks
 * or governance as of N forbid, an index whose state at N is not what
 * entry N commits to, and a version 1 entry N.
 *
 * Each test runs on a fresh ledger from fixture.h (admin, deployer,
 * applier and outsider keys; the admin key initialised it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void root_at(struct fx *f, uint64_t size, uint8_t root[32])
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_merkle_root_at(r, size, root), 0);
	ldg_read_end(r);
}

/* ldg_verify_since() from size, with its true root unless root is
 * given, and checkpoints cps: 0 or -EBADMSG (or -ENOTSUP when want
 * says so); anything else fails the test. */
static int since(struct fx *f, uint64_t size, const uint8_t *root,
		 const struct ldg_checkpoint *cps, size_t n,
		 struct ldg_verify_report *rep)
{
	struct ldg_verify_opts o = { .threads = 2,
				     .checkpoints = cps,
				     .n_checkpoints = n };
	struct ldg_err err = { 0 };
	uint8_t mine[32];
	int rc;

	if (!root) {
		root_at(f, size, mine);
		root = mine;
	}
	rc = ldg_verify_since(f->s, size, root, &o, rep, &err);
	if (rc && rc != -EBADMSG && rc != -ENOTSUP)
		fail_msg("ldg_verify_since: %d %s", rc, err.msg);
	if (rc == -ENOTSUP)
		snprintf(rep->problem, sizeof(rep->problem), "%s", err.msg);
	return rc;
}

static void must_refuse(struct fx *f, uint64_t size, uint64_t seq,
			const char *what)
{
	struct ldg_verify_report rep;

	assert_int_equal(since(f, size, NULL, NULL, 0, &rep), -EBADMSG);
	if (rep.bad_seq != seq || !strstr(rep.problem, what))
		fail_msg("since %llu: entry %llu: %s (wanted entry %llu, "
			 "\"%s\")",
			 (unsigned long long)size,
			 (unsigned long long)rep.bad_seq, rep.problem,
			 (unsigned long long)seq, what);
}

/* A checkpoint of origin, size and root signed by k. */
static void checkpoint_by(const char *origin, uint64_t size,
			  const uint8_t root[32], const struct ldg_signer *k,
			  struct ldg_checkpoint *cp)
{
	char *text;

	assert_int_equal(ldg_checkpoint_make(origin, size, root, k, &text,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), cp, NULL), 0);
	free(text);
}

/* The deployer's proposal of production/api image.tag=value under a
 * one-approval policy (made first when governed is false); its seq. */
static uint64_t propose(struct fx *f, const char *value, bool governed)
{
	struct ldg_err err = { 0 };
	uint64_t p;

	if (!governed) {
		add_key(f, f->deployer, "deployer", "*");
		policy(f, "production/*", 1, 0, NULL);
	}
	if (set_kv(f, f->deployer, "production/api", "image.tag", value, false,
		   &p, &err))
		fail_msg("propose %s: %s", value, err.msg);
	return p;
}

static void test_since_accepts_from_every_size(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report full, rep;
	uint64_t head;

	build_busy_ledger(f);
	assert_int_equal(lock_t(f, f->admin, "prod/api", true, NULL), 0);
	must_set(f, "staging/web", "replicas", "2");
	head = head_of(f, NULL);
	assert_int_equal(verify(f, NULL, 0, &full), 0);
	for (uint64_t n = 1; n <= head; n++) {
		if (since(f, n, NULL, NULL, 0, &rep))
			fail_msg("since %llu: entry %llu: %s",
				 (unsigned long long)n,
				 (unsigned long long)rep.bad_seq, rep.problem);
		assert_int_equal(rep.since, n);
		assert_int_equal(rep.entries, head - n);
		assert_int_equal(rep.head, head);
		assert_memory_equal(rep.root, full.root, 32);
		assert_memory_equal(rep.head_hash, full.head_hash, 32);
		assert_string_equal(rep.origin, ORIGIN);
	}
}

/* Governance at every N: a policy, proposals enacted, withdrawn and
 * pending, a freeze window and its unfreeze. */
static void test_since_accepts_governance_from_every_size(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_verify_report full, rep;
	struct ldg_err err = { 0 };
	struct ldg_window w = { 0 };
	int64_t now = (int64_t)(ldg_now_ns() / 1000000000u);
	uint64_t p, head;

	p = propose(f, "v1", false);
	assert_int_equal(ldg_approve(f->s, f->admin, p, "ok", &res, &err), 0);
	ldg_result_free(&res);
	p = propose(f, "v2", true);
	assert_int_equal(ldg_withdraw(f->s, f->deployer, p, "no", &res, &err),
			 0);
	ldg_result_free(&res);
	snprintf(w.scope, sizeof(w.scope), "staging/*");
	w.from = now + 3600;
	w.until = now + 7200;
	assert_int_equal(ldg_freeze(f->s, f->admin, &w, "later", &res, &err),
			 0);
	ldg_result_free(&res);
	must_set(f, "staging/api", "image.tag", "s1");
	assert_int_equal(set_kv(f, f->deployer, "production/web", "image.tag",
				"w1", false, &p, &err),
			 0);
	assert_int_equal(ldg_unfreeze(f->s, f->admin, "staging/*", 0, "thaw",
				      &res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(ldg_approve(f->s, f->admin, p, "ok", &res, &err), 0);
	ldg_result_free(&res);
	head = head_of(f, NULL);
	assert_int_equal(verify(f, NULL, 0, &full), 0);
	assert_int_equal(full.enacted, 2);
	for (uint64_t n = 1; n <= head; n++) {
		if (since(f, n, NULL, NULL, 0, &rep))
			fail_msg("since %llu: entry %llu: %s",
				 (unsigned long long)n,
				 (unsigned long long)rep.bad_seq, rep.problem);
		assert_int_equal(rep.entries, head - n);
		assert_memory_equal(rep.root, full.root, 32);
	}
	/* from just before the last approval: it alone is replayed */
	assert_int_equal(since(f, head - 1, NULL, NULL, 0, &rep), 0);
	assert_int_equal(rep.enacted, 1);
}

static void test_since_refuses_another_tree(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_checkpoint cp;
	uint8_t root[32];

	must_set(f, "staging/api", "image.tag", "1");
	must_set(f, "staging/api", "image.tag", "2");
	must_set(f, "staging/api", "image.tag", "3");
	root_at(f, 2, root);
	root[5] ^= 1;
	assert_int_equal(since(f, 2, root, NULL, 0, &rep), -EBADMSG);
	assert_true(rep.bad_since);
	assert_int_equal(rep.bad_seq, 0);
	assert_non_null(strstr(rep.problem, "rewritten or forked"));
	/* a tree bigger than the ledger: entries were removed */
	root[5] ^= 1;
	assert_int_equal(since(f, 9, root, NULL, 0, &rep), -EBADMSG);
	assert_true(rep.bad_since);
	assert_non_null(strstr(rep.problem, "removed"));
	/* a checkpoint of another origin, named before anything else */
	checkpoint_by("example.com/other", 2, root, f->admin, &cp);
	assert_int_equal(since(f, 2, root, &cp, 1, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 0);
	assert_non_null(strstr(rep.problem, "example.com/other"));
}

static void test_since_refuses_an_edited_entry(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;

	for (int i = 0; i < 6; i++)
		must_set(f, "staging/api", "image.tag", i % 2 ? "a" : "b");
	ldg_store_close(f->s);
	f->s = NULL;
	/* entry 6 rewritten behind the library's back */
	flip_stored_byte(f->dir, 6, 70);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);

	/* after N: the replay names it */
	must_refuse(f, 4, 6, "");
	/* at N: not the entry the trusted tree holds there (the stored
	 * tree still has the old hash) */
	assert_int_equal(since(f, 6, NULL, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 6);
	assert_non_null(strstr(rep.problem, "checkpoint's tree"));
	/* before N it is not looked at: that is what the trusted tree is
	 * for (docs/format.md section 10); the full check names it */
	assert_int_equal(since(f, 7, NULL, NULL, 0, &rep), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, 6);
}

/* A set of target key=value signed by k, stored after the head with
 * honest indexes and no check (put_forged_entry()); its seq. */
static uint64_t forged_set(struct fx *f, const struct ldg_signer *k,
			   const char *target, const char *value)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, target, "forged");
	uint64_t seq;

	assert_int_equal(ldg_entry_add_change(e, "image.tag", value), 0);
	seq = put_forged_entry(f, e, k, NULL);
	ldg_entry_free(e);
	return seq;
}

/* The keys row of name, with its revoked seq set to revoked, behind the
 * library's back (f->s closed around it). */
static void set_revoked(struct fx *f, const char *name, uint64_t revoked)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	struct rawdb db;
	uint8_t row[512];

	ldg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(rawdb_open(f->dir, "keys", false, &db), 0);
	assert_int_equal(mdb_get(db.txn, db.dbi, &k, &v), 0);
	assert_true(v.mv_size <= sizeof(row));
	memcpy(row, v.mv_data, v.mv_size);
	ldg_put_be64(row + 40, revoked);
	v.mv_data = row;
	assert_int_equal(mdb_put(db.txn, db.dbi, &k, &v, 0), 0);
	assert_int_equal(rawdb_close(&db, true), 0);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
}

static void test_since_refuses_an_index_that_is_not_the_commitment(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_verify_report rep;
	uint64_t revoked, n;

	add_key(f, f->deployer, "deployer", "staging/*");
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag", "1",
				false, NULL, NULL),
			 0);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "bye", &res,
					NULL),
			 0);
	revoked = last_seq(&res);
	ldg_result_free(&res);
	n = must_set(f, "staging/api", "image.tag", "2");
	must_set(f, "staging/api", "image.tag", "3");
	assert_int_equal(since(f, n, NULL, NULL, 0, &rep), 0);
	/* the revoked deployer made trusted again in the index: the state
	 * at N is not what entry N commits to */
	set_revoked(f, "deployer", 0);
	must_refuse(f, n, n, "not those it commits to");
	/* from before the revocation the index's rows are as of then, and
	 * the replay of the revocation makes what the head's index must
	 * hold: the head's keys index differs */
	assert_int_equal(since(f, revoked - 1, NULL, NULL, 0, &rep), -EBADMSG);
	assert_non_null(strstr(rep.problem, "keys, keyids, locks or gov"));
	set_revoked(f, "deployer", revoked);
	assert_int_equal(since(f, n, NULL, NULL, 0, &rep), 0);
}

static void test_since_refuses_a_key_revoked_before_n(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	uint64_t n;

	add_key(f, f->deployer, "deployer", "staging/*");
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "bye", &res,
					NULL),
			 0);
	ldg_result_free(&res);
	n = must_set(f, "staging/api", "image.tag", "1");
	/* signed with the revoked key */
	assert_int_equal(forged_set(f, f->deployer, "staging/api", "evil"),
			 n + 1);
	must_refuse(f, n, n + 1, "revoked");
}

static void test_since_refuses_a_lock_at_n_broken_after_it(void **state)
{
	struct fx *f = *state;
	uint64_t n;

	must_set(f, "staging/api", "image.tag", "1");
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, &n), 0);
	must_set(f, "staging/web", "image.tag", "1");
	n++;
	/* not forced */
	assert_int_equal(forged_set(f, f->admin, "staging/api", "2"), n + 1);
	must_refuse(f, n, n + 1, "locked");
}

static void test_since_replays_governance_pending_at_n(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	char of[24];
	uint64_t p, n, a;

	p = propose(f, "v2", false);
	n = p;
	/* the proposal is pending at N; its approval comes after */
	assert_int_equal(ldg_approve(f->s, f->admin, p, "ok", &res, &err), 0);
	a = last_seq(&res);
	ldg_result_free(&res);
	assert_int_equal(since(f, n, NULL, NULL, 0, &rep), 0);
	assert_int_equal(rep.enacted, 1);
	assert_int_equal(rep.entries, a - n);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");

	/* a second proposal, pending at N, approved by its own author */
	p = propose(f, "v3", true);
	n = p;
	e = ldg_entry_new(LDG_KIND_APPROVE, "production/api", "me");
	e->version = LDG_FORMAT_V2;
	snprintf(of, sizeof(of), "%llu", (unsigned long long)p);
	assert_int_equal(ldg_entry_add_change(e, "proposal", of), 0);
	assert_int_equal(put_forged_entry(f, e, f->deployer, NULL), n + 1);
	ldg_entry_free(e);
	must_refuse(f, n, n + 1, "may not approve");
}

/* The bytes of entry seq with the first "from" in them made "to" (of
 * the same length), behind the library's back: still an entry, no
 * longer the one signed and hashed into the tree. */
static void edit_stored_entry(struct fx *f, uint64_t seq, const char *from,
			      const char *to)
{
	struct rawdb db;
	uint8_t *copy, *at;
	MDB_val v;

	ldg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(rawdb_open(f->dir, "entries", false, &db), 0);
	assert_int_equal(rawdb_get_entry(&db, seq, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	at = memmem(copy, v.mv_size, from, strlen(from));
	assert_non_null(at);
	memcpy(at, to, strlen(to));
	assert_int_equal(rawdb_put_entry(&db, seq, copy, v.mv_size), 0);
	assert_int_equal(rawdb_close(&db, true), 0);
	free(copy);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
}

/* An entry before N that a rule after N reads (here the changes of a
 * proposal pending at N, which its approval after N enacts) is read
 * only once the checkpoint's root proves its bytes: an edit of them
 * must not decide the replay. */
static void test_since_proves_an_entry_before_n_it_reads(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	uint64_t p, n;

	p = propose(f, "good-v2", false);
	n = must_set(f, "staging/web", "replicas", "2");
	assert_int_equal(ldg_approve(f->s, f->admin, p, "ok", &res, &err), 0);
	ldg_result_free(&res);
	assert_int_equal(since(f, n, NULL, NULL, 0, &rep), 0);

	edit_stored_entry(f, p, "good-v2", "evil-v2");
	assert_int_equal(since(f, n, NULL, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, p);
	assert_non_null(strstr(rep.problem, "checkpoint's tree"));
	/* entries before N that nothing after N reads are still not read */
	assert_int_equal(since(f, n + 1, NULL, NULL, 0, &rep), 0);
}

static void test_since_checks_rollbacks_to_before_n(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_entry *e;
	uint64_t good, n;

	good = must_set(f, "staging/api", "image.tag", "good");
	must_set(f, "staging/api", "image.tag", "bad");
	n = head_of(f, NULL);
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", good, "r",
				      NULL, 0, true, &res, NULL),
			 0);
	ldg_result_free(&res);
	{
		struct ldg_verify_report rep;
		assert_int_equal(since(f, n, NULL, NULL, 0, &rep), 0);
	}
	must_set(f, "staging/api", "image.tag", "bad");
	n = head_of(f, NULL);
	e = rollback_draft(good, "image.tag", "EVIL");
	assert_int_equal(put_forged_entry(f, e, f->admin, NULL), n + 1);
	ldg_entry_free(e);
	must_refuse(f, n, n + 1, "not a valid rollback");
}

static void test_since_checks_checkpoints_before_and_after_n(void **state)
{
	struct fx *f = *state;
	struct ldg_checkpoint *cp = calloc(3, sizeof(*cp));
	struct ldg_verify_report rep;
	uint8_t root[32];

	for (int i = 0; i < 9; i++)
		must_set(f, "staging/api", "image.tag", i % 2 ? "a" : "b");
	for (uint64_t size = 1; size <= 10; size++) {
		root_at(f, size, root);
		checkpoint_by(ORIGIN, size, root, f->admin, &cp[0]);
		root_at(f, 3, root);
		checkpoint_by(ORIGIN, 3, root, f->admin, &cp[1]);
		root_at(f, 10, root);
		checkpoint_by(ORIGIN, 10, root, f->admin, &cp[2]);
		if (since(f, 6, NULL, cp, 3, &rep))
			fail_msg("checkpoint %llu: %s",
				 (unsigned long long)size, rep.problem);
	}
	/* one below N whose root is not the ledger's */
	root_at(f, 3, root);
	root[0] ^= 1;
	checkpoint_by(ORIGIN, 3, root, f->admin, &cp[1]);
	assert_int_equal(since(f, 6, NULL, cp, 3, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 1);
	/* one above it, signed by a stranger */
	root_at(f, 3, root);
	checkpoint_by(ORIGIN, 3, root, f->admin, &cp[1]);
	assert_int_equal(since(f, 6, NULL, cp, 3, &rep), 0);
	root_at(f, 8, root);
	checkpoint_by(ORIGIN, 8, root, f->outsider, &cp[2]);
	assert_int_equal(since(f, 6, NULL, cp, 3, &rep), -EBADMSG);
	assert_int_equal(rep.bad_checkpoint, 2);
	assert_non_null(strstr(rep.problem, "not signed"));
	free(cp);
}

static void
test_since_refuses_a_version_1_entry_and_copy_falls_back(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_opts o = { .threads = 2 };
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	uint8_t prev[32], root[32], *buf;
	uint64_t head;
	size_t len;

	must_set(f, "staging/api", "image.tag", "1");
	head = head_of(f, prev);
	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "old");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "2"), 0);
	e->version = LDG_FORMAT_V1;
	e->seq = head + 1;
	memcpy(e->prev, prev, 32);
	e->time_ns = 1;
	assert_int_equal(ldg_entry_sign(e, ORIGIN, f->admin, &buf, &len, &err),
			 0);
	assert_int_equal(forge_store(f->s, buf, len, FORGE_INDEX_HONEST, &err),
			 0);
	free(buf);
	ldg_entry_free(e);
	assert_int_equal(since(f, head + 1, NULL, NULL, 0, &rep), -ENOTSUP);
	assert_non_null(strstr(rep.problem, "version 1"));
	/* a mirror falls back to the whole check, which names it */
	root_at(f, head + 1, root);
	assert_int_equal(ldg_verify_copy(f->s, head + 1, root, &o, &rep, &err),
			 -EBADMSG);
	assert_int_equal(rep.since, 0);
	assert_int_equal(rep.bad_seq, head + 1);
	/* from a version 2 entry, the copy's check is incremental */
	root_at(f, head, root);
	assert_int_equal(ldg_verify_copy(f->s, head, root, &o, &rep, &err),
			 -EBADMSG);
	assert_int_equal(rep.since, head);
	assert_int_equal(rep.bad_seq, head + 1);
	/* and from 0 (a first copy), whole */
	assert_int_equal(ldg_verify_copy(f->s, 0, root, &o, &rep, &err),
			 -EBADMSG);
	assert_int_equal(rep.since, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_since_accepts_from_every_size),
		T(test_since_accepts_governance_from_every_size),
		T(test_since_refuses_another_tree),
		T(test_since_refuses_an_edited_entry),
		T(test_since_refuses_an_index_that_is_not_the_commitment),
		T(test_since_refuses_a_key_revoked_before_n),
		T(test_since_refuses_a_lock_at_n_broken_after_it),
		T(test_since_replays_governance_pending_at_n),
		T(test_since_proves_an_entry_before_n_it_reads),
		T(test_since_checks_rollbacks_to_before_n),
		T(test_since_checks_checkpoints_before_and_after_n),
		T(test_since_refuses_a_version_1_entry_and_copy_falls_back),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
