/*
 * Unit tests for ledger/authorize.c: the one authorisation question,
 * ldg_may_append(), each of its refusals with the rule and the facts it
 * names, and that every writer path of the library (a local write, an
 * entry signed elsewhere, a write with nothing to do) refuses the same
 * way and leaves the ledger byte-identical. On fixture.h's ledger, fresh
 * per test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "fixture.h"

/* fixture.h's ledger (admin; deployer, applier and outsider generated)
 * with deployer and applier added for all of staging, narrow an applier
 * of staging/api only, and old a deployer revoked at old_revoked;
 * outsider is never added. */
struct afx {
	struct fx *f;
	struct ldg_signer *narrow, *old;
	uint64_t old_revoked;
};

static int setup(void **state)
{
	struct afx *a = calloc(1, sizeof(*a));
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	void *inner = NULL;

	if (!a || fx_setup(&inner))
		return -1;
	a->f = inner;
	if (ldg_signer_generate("narrow", &a->narrow, NULL) ||
	    ldg_signer_generate("old", &a->old, NULL))
		return -1;
	add_key(a->f, a->f->deployer, "deployer", "staging/*");
	add_key(a->f, a->f->applier, "applier", "staging/*");
	add_key(a->f, a->narrow, "applier", "staging/api");
	add_key(a->f, a->old, "deployer", "staging/*");
	if (ldg_key_revoke(a->f->s, a->f->admin, "old", "gone", &res, &err)) {
		fprintf(stderr, "revoke: %s\n", err.msg);
		return -1;
	}
	a->old_revoked = res.v[0].seq;
	ldg_result_free(&res);
	*state = a;
	return 0;
}

static int teardown(void **state)
{
	struct afx *a = *state;
	void *inner = a->f;

	ldg_signer_free(a->narrow);
	ldg_signer_free(a->old);
	free(a);
	return fx_teardown(&inner);
}

/* ---- helpers ---- */

/* Asks the question of kind on target by k (no entry: kind and target
 * alone), at the head. */
static int ask(struct fx *f, const struct ldg_signer *k, enum ldg_kind kind,
	       const char *target, bool forced, struct ldg_err *err)
{
	struct ldg_write_req q = {
		.signer = ldg_signer_vkey(k)->keyid,
		.kind = kind,
		.target = target,
		.forced = forced,
	};
	struct ldg_read *r;
	int rc;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	memset(err, 0, sizeof(*err));
	rc = ldg_may_append(r, &q, err);
	ldg_read_end(r);
	return rc;
}

/* Asks the question of entry e, signed by k, at the head. */
static int ask_entry(struct fx *f, const struct ldg_signer *k,
		     struct ldg_entry *e, bool history, struct ldg_err *err)
{
	struct ldg_write_req q;
	struct ldg_read *r;
	int rc;

	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	ldg_write_req_of(e, &q);
	q.history = history;
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	memset(err, 0, sizeof(*err));
	rc = ldg_may_append(r, &q, err);
	ldg_read_end(r);
	return rc;
}

static struct ldg_entry *entry_with(enum ldg_kind kind, const char *target,
				    const char *key, const char *value)
{
	struct ldg_entry *e = ldg_entry_new(kind, target, "test");

	assert_non_null(e);
	if (key)
		assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	return e;
}

/* A set of image.tag on target by k, as `ledger set` makes it. */
static int set_tag(struct fx *f, const struct ldg_signer *k, const char *target,
		   struct ldg_err *err)
{
	memset(err, 0, sizeof(*err));
	return set_kv(f, k, target, "image.tag", "v2", false, NULL, err);
}

static uint64_t lock(struct fx *f, const char *target)
{
	uint64_t seq = 0;

	assert_int_equal(lock_t(f, f->admin, target, true, &seq), 0);
	assert_int_not_equal(seq, 0);
	return seq;
}

/* The bytes of a set of target by k, sealed on the head for a remote
 * append (as `ledger --remote` builds it). */
static void sealed_set(struct fx *f, const struct ldg_signer *k,
		       const char *target, uint8_t **buf, size_t *len)
{
	struct ldg_kv kv = { .key = "image.tag", .value = "v2" };
	uint8_t prev[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_values now;
	struct ldg_authz az;
	struct ldg_read *r;
	uint64_t head = head_of(f, prev);

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, 0, &now), 0);
	ldg_read_end(r);
	store_authz(f, &az);
	assert_int_equal(ldg_draft_set(&now, target, &kv, 1, "remote", NULL, 0,
				       false, &e, &err),
			 0);
	assert_non_null(e);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, k, buf, len,
					&err),
			 0);
	ldg_authz_free(&az);
	ldg_entry_free(e);
	ldg_values_free(&now);
}

static char *data_file(struct fx *f, size_t *len)
{
	char path[4200];
	char *buf;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	buf = tl_read_file(path, len);
	assert_non_null(buf);
	return buf;
}

/* Two refusals are the same: code, rule, facts and sentence. */
static void assert_same_refusal(const struct ldg_err *a,
				const struct ldg_err *b)
{
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->why, b->why);
	assert_int_equal(a->seq, b->seq);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->role, b->role);
	assert_string_equal(a->target, b->target);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->msg, b->msg);
}

/* ---- each rule ---- */

static void test_may_append_allows_a_deployer_in_scope(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err err;

	assert_int_equal(ask(f, f->deployer, LDG_KIND_SET, "staging/api", false,
			     &err),
			 0);
	assert_int_equal(err.why, LDG_WHY_NONE);
	assert_int_equal(ask(f, f->admin, LDG_KIND_KEY_ADD, "", false, &err),
			 0);
	assert_int_equal(ask(f, f->applier, LDG_KIND_APPLIED, "staging", false,
			     &err),
			 0);
}

static void test_may_append_refuses_an_unknown_key(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	char id[2 * LDG_KEYID_BYTES + 1];
	struct ldg_err err;

	ldg_hex(ldg_signer_vkey(f->outsider)->keyid, LDG_KEYID_BYTES, id);
	assert_int_equal(ask(f, f->outsider, LDG_KIND_SET, "staging/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_UNKNOWN_KEY);
	assert_string_equal(err.key, id);
	assert_non_null(strstr(err.msg, "is not in the keyring"));
	/* the library states the fact; the advice is the front end's */
	assert_null(strstr(err.msg, "ledger key add"));
}

static void test_may_append_refuses_a_revoked_key(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err err;

	assert_int_equal(ask(f, a->old, LDG_KIND_SET, "staging/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_REVOKED);
	assert_int_equal(err.seq, a->old_revoked);
	assert_string_equal(err.key, "old");
}

static void test_may_append_refuses_a_role_that_may_not(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err err;

	/* an applier may not set */
	assert_int_equal(ask(f, f->applier, LDG_KIND_SET, "staging/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_string_equal(err.key, "applier");
	assert_string_equal(err.role, "applier");
	/* a deployer may not record applies, nor manage keys */
	assert_int_equal(ask(f, f->deployer, LDG_KIND_APPLIED, "staging/api",
			     false, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_string_equal(err.role, "deployer");
	assert_int_equal(ask(f, f->deployer, LDG_KIND_KEY_ADD, "", false, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_non_null(strstr(err.msg, "may not manage keys"));
}

static void test_may_append_refuses_a_target_out_of_scope(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err err;

	assert_int_equal(ask(f, f->deployer, LDG_KIND_SET, "prod/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_string_equal(err.key, "deployer");
	assert_string_equal(err.target, "prod/api");
	assert_string_equal(err.msg, "key \"deployer\" is not allowed to "
				     "change prod/api (its scope: staging/*)");
	/* a whole cluster's apply result needs a scope covering all of it */
	assert_int_equal(ask(f, a->narrow, LDG_KIND_APPLIED, "staging/api",
			     false, &err),
			 0);
	assert_int_equal(ask(f, a->narrow, LDG_KIND_APPLIED, "staging", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_string_equal(err.target, "staging");
}

static void test_may_append_refuses_a_locked_target_unless_forced(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err err;
	uint64_t at;

	at = lock(f, "staging/api");
	assert_int_equal(ask(f, f->deployer, LDG_KIND_SET, "staging/api", false,
			     &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_LOCKED);
	assert_int_equal(err.seq, at);
	assert_string_equal(err.target, "staging/api");
	assert_string_equal(err.reason, "hold it");
	assert_null(strstr(err.msg, "--force"));
	assert_int_equal(ask(f, f->deployer, LDG_KIND_UNSET, "staging/api",
			     false, &err),
			 -EBUSY);
	/* forced passes; rollback, lock and unlock are not held */
	assert_int_equal(ask(f, f->deployer, LDG_KIND_SET, "staging/api", true,
			     &err),
			 0);
	assert_int_equal(ask(f, f->deployer, LDG_KIND_ROLLBACK, "staging/api",
			     false, &err),
			 0);
	assert_int_equal(ask(f, f->deployer, LDG_KIND_UNLOCK, "staging/api",
			     false, &err),
			 0);
	/* who may write comes first: a lock is news only to those who may */
	assert_int_equal(ask(f, f->applier, LDG_KIND_SET, "staging/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
}

static void test_may_append_refuses_a_key_name_taken(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	char vk[LDG_VKEY_TEXT_MAX];
	struct ldg_signer *again;
	struct ldg_entry *e;
	struct ldg_err err;

	/* a new key pair under a name already added (and revoked) */
	assert_int_equal(ldg_signer_generate("old", &again, NULL), 0);
	ldg_vkey_format(ldg_signer_vkey(again), vk);
	e = entry_with(LDG_KIND_KEY_ADD, "", "role", "deployer");
	assert_int_equal(ldg_entry_add_change(e, "scopes", "*"), 0);
	assert_int_equal(ldg_entry_add_change(e, "vkey", vk), 0);
	assert_int_equal(ask_entry(f, f->admin, e, false, &err), -EEXIST);
	assert_int_equal(err.why, LDG_WHY_KEY_TAKEN);
	assert_string_equal(err.key, "old");
	assert_int_not_equal(err.seq, 0);
	ldg_entry_free(e);
	ldg_signer_free(again);
}

static void test_may_append_refuses_revoking_unknown_or_revoked(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_entry *e;
	struct ldg_err err;

	e = entry_with(LDG_KIND_KEY_REVOKE, "", "name", "nobody");
	assert_int_equal(ask_entry(f, f->admin, e, false, &err), -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_SUCH_KEY);
	assert_string_equal(err.key, "nobody");
	ldg_entry_free(e);

	e = entry_with(LDG_KIND_KEY_REVOKE, "", "name", "old");
	assert_int_equal(ask_entry(f, f->admin, e, false, &err), -EEXIST);
	assert_int_equal(err.why, LDG_WHY_KEY_REVOKED);
	assert_int_equal(err.seq, a->old_revoked);
	ldg_entry_free(e);
}

static void test_may_append_keeps_the_last_admin_except_in_history(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_entry *e =
		entry_with(LDG_KIND_KEY_REVOKE, "", "name", "admin");
	struct ldg_err err;

	assert_int_equal(ask_entry(f, f->admin, e, false, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_LAST_ADMIN);
	assert_string_equal(err.key, "admin");
	/* a writer's rule, not the format's: verify's replay does not
	 * apply it */
	assert_int_equal(ask_entry(f, f->admin, e, true, &err), 0);
	ldg_entry_free(e);
}

static void test_may_append_refuses_an_init_by_another_key(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	char vk[LDG_VKEY_TEXT_MAX];
	struct ldg_entry *e;
	struct ldg_err err;

	ldg_vkey_format(ldg_signer_vkey(f->admin), vk);
	e = entry_with(LDG_KIND_INIT, "", "origin", ORIGIN);
	assert_int_equal(ldg_entry_add_change(e, "role", "admin"), 0);
	assert_int_equal(ldg_entry_add_change(e, "scopes", "*"), 0);
	assert_int_equal(ldg_entry_add_change(e, "vkey", vk), 0);
	assert_int_equal(ask_entry(f, f->admin, e, true, &err), 0);
	assert_int_equal(ask_entry(f, f->deployer, e, true, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_INIT_SIGNER);
	ldg_entry_free(e);
}

static void test_open_without_a_ledger_says_so_without_advice(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_store *s = NULL;
	struct ldg_err err = { 0 };
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/none", f->tmp);
	assert_int_equal(ldg_store_open(dir, 0, &s, &err), -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_LEDGER);
	assert_null(strstr(err.msg, "--ledger"));
	assert_null(s);
}

/* A later plain error leaves no stale facts behind. */
static void test_err_set_clears_the_facts_of_a_refusal(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err err;

	assert_int_equal(ask(f, a->old, LDG_KIND_SET, "staging/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_REVOKED);
	ldg_err_set(&err, -EIO, "something else");
	assert_int_equal(err.why, LDG_WHY_NONE);
	assert_int_equal(err.seq, 0);
	assert_string_equal(err.key, "");
}

/* ---- every writer path refuses the same way ---- */

static void test_every_writer_refuses_a_lock_the_same_way(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err asked, local, remote;
	char *before, *after;
	size_t blen, alen, len;
	uint8_t *buf;
	uint64_t at;

	at = lock(f, "staging/api");
	sealed_set(f, f->deployer, "staging/api", &buf, &len);
	before = data_file(f, &blen);
	assert_int_equal(ask(f, f->deployer, LDG_KIND_SET, "staging/api", false,
			     &asked),
			 -EBUSY);
	assert_int_equal(set_tag(f, f->deployer, "staging/api", &local),
			 -EBUSY);
	memset(&remote, 0, sizeof(remote));
	assert_int_equal(ldg_append_signed(f->s, buf, len,
					   &(struct ldg_result){ 0 }, &remote),
			 -EBUSY);
	assert_same_refusal(&asked, &local);
	assert_same_refusal(&asked, &remote);
	assert_int_equal(local.seq, at);
	after = data_file(f, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
	free(buf);
}

static void test_every_writer_refuses_a_key_the_same_way(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_err asked, local, remote, noop;
	char *before, *after;
	size_t blen, alen, len;
	uint8_t *buf;

	/* out of scope */
	sealed_set(f, f->deployer, "prod/api", &buf, &len);
	before = data_file(f, &blen);
	assert_int_equal(ask(f, f->deployer, LDG_KIND_SET, "prod/api", false,
			     &asked),
			 -EACCES);
	assert_int_equal(set_tag(f, f->deployer, "prod/api", &local), -EACCES);
	memset(&remote, 0, sizeof(remote));
	assert_int_equal(ldg_append_signed(f->s, buf, len,
					   &(struct ldg_result){ 0 }, &remote),
			 -EACCES);
	assert_same_refusal(&asked, &local);
	assert_same_refusal(&asked, &remote);
	/* a lock that is already so writes nothing, and refuses all the
	 * same a key that could not have written it */
	memset(&noop, 0, sizeof(noop));
	assert_int_equal(ldg_lock(f->s, f->deployer, "prod/api", "x", false,
				  &(struct ldg_result){ 0 }, &noop),
			 -EACCES);
	assert_int_equal(noop.why, LDG_WHY_SCOPE);
	free(buf);

	/* never added: the same refusal before the signature is checked */
	sealed_set(f, f->outsider, "staging/api", &buf, &len);
	assert_int_equal(ask(f, f->outsider, LDG_KIND_SET, "staging/api", false,
			     &asked),
			 -EACCES);
	assert_int_equal(set_tag(f, f->outsider, "staging/api", &local),
			 -EACCES);
	memset(&remote, 0, sizeof(remote));
	assert_int_equal(ldg_append_signed(f->s, buf, len,
					   &(struct ldg_result){ 0 }, &remote),
			 -EACCES);
	assert_int_equal(asked.why, LDG_WHY_UNKNOWN_KEY);
	assert_same_refusal(&asked, &local);
	assert_same_refusal(&asked, &remote);
	after = data_file(f, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
	free(buf);
}

static void test_every_writer_keeps_the_last_admin(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_entry *e =
		entry_with(LDG_KIND_KEY_REVOKE, "", "name", "admin");
	struct ldg_err asked, local;
	char *before, *after;
	size_t blen, alen;

	before = data_file(f, &blen);
	assert_int_equal(ask_entry(f, f->admin, e, false, &asked), -EPERM);
	memset(&local, 0, sizeof(local));
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "admin", "no",
					&(struct ldg_result){ 0 }, &local),
			 -EPERM);
	assert_same_refusal(&asked, &local);
	after = data_file(f, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
	ldg_entry_free(e);
}

/* drift (docs/format.md 8, rule 4) is the applier's, exactly as an
 * apply result: role applier or admin, the scope covering the release or
 * the whole cluster; a lock or a policy never refuses it. */
static void test_may_append_drift_as_applied(void **state)
{
	struct afx *a = *state;
	struct fx *f = a->f;
	struct ldg_result res = { 0 };
	struct ldg_err err;
	struct ldg_entry *e;
	uint64_t head, at;

	assert_int_equal(ask(f, f->applier, LDG_KIND_DRIFT, "staging/api",
			     false, &err),
			 0);
	assert_int_equal(ask(f, f->applier, LDG_KIND_DRIFT, "staging", false,
			     &err),
			 0);
	assert_int_equal(ask(f, f->admin, LDG_KIND_DRIFT, "prod/api", false,
			     &err),
			 0);
	assert_int_equal(ask(f, f->deployer, LDG_KIND_DRIFT, "staging/api",
			     false, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_string_equal(err.msg, "key \"deployer\" has role deployer, "
				     "which may not write drift entries");
	assert_int_equal(ask(f, f->applier, LDG_KIND_DRIFT, "prod/api", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(ask(f, a->narrow, LDG_KIND_DRIFT, "staging", false,
			     &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);

	/* written: on a locked target under a policy of approvals */
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, &at), 0);
	policy(f, "staging/*", 2, 0, NULL);
	e = ldg_entry_new(LDG_KIND_DRIFT, "staging/api", "checked");
	assert_non_null(e);
	e->version = LDG_FORMAT_V2; /* the kind is version 2 only */
	assert_int_equal(ldg_entry_add_change(e, "status", LDG_DRIFTED), 0);
	assert_int_equal(ldg_append(f->s, f->applier, e, &res, &err), 0);
	assert_int_equal(last_seq(&res), head_of(f, NULL));
	ldg_result_free(&res);
	ldg_entry_free(e);

	/* refused to a deployer, nothing written */
	head = head_of(f, NULL);
	e = ldg_entry_new(LDG_KIND_DRIFT, "staging/api", "checked");
	assert_non_null(e);
	e->version = LDG_FORMAT_V2; /* the kind is version 2 only */
	assert_int_equal(ldg_entry_add_change(e, "status", LDG_IN_SYNC), 0);
	assert_int_equal(ldg_append(f->s, f->deployer, e, &res, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_int_equal(head_of(f, NULL), head);
	ldg_entry_free(e);
	assert_verify_ok(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_may_append_allows_a_deployer_in_scope),
		T(test_may_append_refuses_an_unknown_key),
		T(test_may_append_refuses_a_revoked_key),
		T(test_may_append_refuses_a_role_that_may_not),
		T(test_may_append_refuses_a_target_out_of_scope),
		T(test_may_append_refuses_a_locked_target_unless_forced),
		T(test_may_append_refuses_a_key_name_taken),
		T(test_may_append_refuses_revoking_unknown_or_revoked),
		T(test_may_append_keeps_the_last_admin_except_in_history),
		T(test_may_append_refuses_an_init_by_another_key),
		T(test_open_without_a_ledger_says_so_without_advice),
		T(test_err_set_clears_the_facts_of_a_refusal),
		T(test_every_writer_refuses_a_lock_the_same_way),
		T(test_every_writer_refuses_a_key_the_same_way),
		T(test_every_writer_keeps_the_last_admin),
		T(test_may_append_drift_as_applied),
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
