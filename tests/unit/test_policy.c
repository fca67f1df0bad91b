/*
 * test_policy.c - promotion policies through the library (policy.c,
 * gov.c, govstore.c, govops.c): approvals, stale and withdrawn
 * proposals, freeze windows and soak, each refusal leaving the ledger as
 * it was, and verify's replay agreeing with every writer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "gov.h"
#include "policy.h"

static uint64_t last_seq(const struct ldg_result *res)
{
	return res->n ? res->v[res->n - 1].seq : 0;
}

static void policy(struct fx *f, const char *scope, unsigned approvals,
		   uint64_t soak, const char *from)
{
	struct ldg_policy p = { .approvals = approvals, .soak = soak };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	snprintf(p.soak_from, sizeof(p.soak_from), "%s", from ? from : "");
	if (ldg_policy_set(f->s, f->admin, scope, &p, "policy", &res, &err))
		fail_msg("policy set: %s", err.msg);
	ldg_result_free(&res);
}

static enum ldg_prop_status status_of(struct fx *f, uint64_t seq)
{
	struct ldg_proposal p;
	struct ldg_read *r;
	enum ldg_prop_status st;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_proposal_get(r, seq, &p), 0);
	st = p.status;
	ldg_proposal_free(&p);
	ldg_read_end(r);
	return st;
}

static int approve(struct fx *f, const struct ldg_signer *k, uint64_t seq,
		   uint64_t *out, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc = ldg_approve(f->s, k, seq, "looks good", &res, err);

	if (out)
		*out = last_seq(&res);
	ldg_result_free(&res);
	return rc;
}

static void test_two_eyes(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t p, a, head;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->outsider, "deployer", "staging/*");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	assert_true(p > 0);
	/* a proposal: the effective value does not change */
	assert_value_at(f, "production/api", "image.tag", 0, NULL);
	assert_int_equal(status_of(f, p), LDG_PROP_PENDING);
	/* the author cannot approve; nor a key out of scope */
	head = head_of(f, NULL);
	assert_int_equal(approve(f, f->deployer, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SELF_APPROVAL);
	assert_int_equal(approve(f, f->outsider, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(head_of(f, NULL), head);
	/* an admin's approval enacts it at its own seq */
	assert_int_equal(approve(f, f->admin, p, &a, &err), 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_value_at(f, "production/api", "image.tag", a - 1, NULL);
	assert_int_equal(status_of(f, p), LDG_PROP_EFFECTIVE);
	/* and once more: not pending */
	assert_int_equal(approve(f, f->outsider, p, NULL, &err), -EACCES);
	assert_int_equal(approve(f, f->admin, p, NULL, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_verify_ok(f);
}

static void test_stale_and_withdraw(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t p1, p2, p3;

	add_key(f, f->deployer, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p1, &err),
			 0);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v3", false, &p2, &err),
			 0);
	assert_int_equal(approve(f, f->admin, p2, NULL, &err), 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v3");
	assert_int_equal(status_of(f, p1), LDG_PROP_STALE);
	assert_int_equal(approve(f, f->admin, p1, NULL, &err), -EPERM);
	assert_non_null(strstr(err.msg, "stale"));
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v4", false, &p3, &err),
			 0);
	assert_int_equal(ldg_withdraw(f->s, f->deployer, p3, "no", &res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(status_of(f, p3), LDG_PROP_WITHDRAWN);
	assert_value_at(f, "production/api", "image.tag", 0, "v3");
	assert_verify_ok(f);
}

static void test_freeze(void **state)
{
	struct fx *f = *state;
	struct ldg_window w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t seq, head, now = ldg_now_ns() / 1000000000u;

	snprintf(w.scope, sizeof(w.scope), "production/*");
	w.from = (int64_t)now - 3600;
	w.until = (int64_t)now + 3600;
	if (ldg_freeze(f->s, f->admin, &w, "holiday", &res, &err))
		fail_msg("freeze: %s", err.msg);
	ldg_result_free(&res);
	head = head_of(f, NULL);
	assert_int_equal(set_kv(f, f->admin, "production/api", "image.tag",
				"v2", false, &seq, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_FROZEN);
	assert_non_null(strstr(err.msg, "holiday"));
	assert_int_equal(head_of(f, NULL), head);
	/* staging is not frozen */
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "v2",
				false, &seq, &err),
			 0);
	assert_int_equal(ldg_unfreeze(f->s, f->admin, "production/*", 0, "over",
				      &res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(set_kv(f, f->admin, "production/api", "image.tag",
				"v2", false, &seq, &err),
			 0);
	assert_verify_ok(f);
}

/* The evidence that entry e, about to be signed by k, would carry: the
 * value of its metadata soak-applied after ldg_soak_evidence_add(), 0
 * when none was added. */
static uint64_t evidence_of(struct fx *f, const struct ldg_signer *k,
			    struct ldg_entry *e)
{
	const struct ldg_kv *m;
	struct ldg_read *r;
	struct ldg_gov g;
	struct ldg_err err = { 0 };
	uint64_t seq = 0;

	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	assert_int_equal(ldg_soak_evidence_add(r, &g, e, &err), 0);
	ldg_gov_free(&g);
	ldg_read_end(r);
	m = ldg_kv_find(e->meta, e->n_meta, "soak-applied");
	if (m)
		assert_int_equal(ldg_parse_seq(m->value, &seq), 0);
	return seq;
}

static struct ldg_entry *set_draft(const char *target, const char *value)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, target, "promote");

	assert_non_null(e);
	e->version = LDG_FORMAT_V2;
	assert_int_equal(ldg_entry_add_change(e, "image.tag", value), 0);
	return e;
}

static void test_soak_evidence_for_remote_signers(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	uint64_t applied, p;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->applier, "applier", "staging/*");
	must_set(f, "staging/api", "image.tag", "v2");
	e = ldg_entry_new(LDG_KIND_APPLIED, "staging/api", "applied");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "v2"), 0);
	assert_int_equal(ldg_entry_add_meta(e, "desired-seq", "4"), 0);
	assert_int_equal(ldg_append(f->s, f->applier, e, &res, &err), 0);
	applied = last_seq(&res);
	ldg_result_free(&res);
	ldg_entry_free(e);

	/* no policy yet: nothing to add */
	e = set_draft("production/api", "v2");
	assert_int_equal(evidence_of(f, f->admin, e), 0);
	ldg_entry_free(e);
	policy(f, "production/*", 0, 60, "staging");
	/* what staging ran: its applied entry */
	e = set_draft("production/api", "v2");
	assert_int_equal(evidence_of(f, f->admin, e), applied);
	ldg_entry_free(e);
	/* what staging never ran: nothing (the rules say what is missing) */
	e = set_draft("production/api", "v3");
	assert_int_equal(evidence_of(f, f->admin, e), 0);
	ldg_entry_free(e);
	/* a target no soak covers */
	e = set_draft("staging/web", "v2");
	assert_int_equal(evidence_of(f, f->admin, e), 0);
	ldg_entry_free(e);

	/* under approvals the proposal carries none; the approval that
	 * enacts it does, and only that one */
	policy(f, "production/*", 2, 60, "staging");
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	e = set_draft("production/api", "v2");
	assert_int_equal(evidence_of(f, f->deployer, e), 0);
	ldg_entry_free(e);
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/api", p,
					"ok", &e, &err),
			 0);
	assert_int_equal(evidence_of(f, f->admin, e), 0); /* 1 of 2 */
	ldg_entry_free(e);
	add_key(f, f->outsider, "deployer", "production/*");
	assert_int_equal(approve(f, f->outsider, p, NULL, &err), 0);
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/api", p,
					"ok", &e, &err),
			 0);
	assert_int_equal(evidence_of(f, f->admin, e), applied); /* 2 of 2 */
	ldg_entry_free(e);
	assert_verify_ok(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_eyes, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_withdraw,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_freeze, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_soak_evidence_for_remote_signers, fx_setup,
			fx_teardown),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
