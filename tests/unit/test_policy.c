/*
 * test_policy.c - promotion policies through the library (policy.c,
 * gov.c, govstore.c, govops.c): approvals, stale and withdrawn
 * proposals, freeze windows and soak, each refusal leaving the ledger as
 * it was, and verify's replay agreeing with every writer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- what a remote writer plans on its copy (ops.h) ---- */

/* An applied entry of target holding key=value, by the applier. */
static uint64_t applied(struct fx *f, const char *target, const char *key,
			const char *value)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_APPLIED, target, "ok");
	uint64_t seq;

	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	if (ldg_append(f->s, f->applier, e, &res, &err))
		fail_msg("applied: %s", err.msg);
	seq = last_seq(&res);
	ldg_entry_free(e);
	ldg_result_free(&res);
	return seq;
}

/* The soak-applied metadata ldg_draft_evidence() gives e signed by k,
 * at the head (NULL: none); caller frees. */
static char *evidence(struct fx *f, struct ldg_entry *e,
		      const struct ldg_signer *k)
{
	const struct ldg_kv *m;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	struct ldg_gov g;

	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	if (ldg_draft_evidence(r, &g, e, &err))
		fail_msg("evidence: %s", err.msg);
	ldg_gov_free(&g);
	ldg_read_end(r);
	m = ldg_kv_find(e->meta, e->n_meta, "soak-applied");
	return m ? strdup(m->value) : NULL;
}

static struct ldg_entry *draft_set(const char *target, const char *value)
{
	const struct ldg_kv kv = { "image.tag", (char *)value };
	struct ldg_values now = { 0 };
	struct ldg_entry *e = NULL;

	assert_int_equal(ldg_draft_set(&now, target, &kv, 1, "go", NULL, 0, 0,
				       &e, NULL),
			 0);
	assert_non_null(e);
	return e;
}

static void
test_draft_evidence_of_a_set_and_of_the_enacting_approval(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	uint64_t a, p;
	char want[24], *got;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->applier, "applier", "*");
	add_key(f, f->outsider, "deployer", "*");
	must_set(f, "staging/api", "image.tag", "v2");
	a = applied(f, "staging/api", "image.tag", "v2");
	snprintf(want, sizeof(want), "%llu", (unsigned long long)a);
	/* no policy: nothing to add */
	e = draft_set("production/api", "v2");
	assert_null(evidence(f, e, f->deployer));
	ldg_entry_free(e);
	policy(f, "production/*", 0, 60, "staging");
	/* a set that takes effect at once: the applied entry it ran since */
	e = draft_set("production/api", "v2");
	got = evidence(f, e, f->deployer);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	/* an entry that has it keeps it, and gets no second one */
	got = evidence(f, e, f->deployer);
	assert_string_equal(got, want);
	assert_int_equal(e->n_meta, 1);
	free(got);
	ldg_entry_free(e);
	/* a value the source never ran: none (the rules then say so) */
	e = draft_set("production/api", "v3");
	assert_null(evidence(f, e, f->deployer));
	ldg_entry_free(e);
	/* under approvals=2 the set is a proposal: it soaks later, at the
	 * approval that enacts it, and only there */
	policy(f, "production/*", 2, 60, "staging");
	e = draft_set("production/api", "v2");
	assert_null(evidence(f, e, f->deployer));
	ldg_entry_free(e);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	assert_int_equal(status_of(f, p), LDG_PROP_PENDING);
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/api", p,
					"ok", &e, &err),
			 0);
	assert_null(evidence(f, e, f->outsider)); /* 1 of 2 */
	ldg_entry_free(e);
	assert_int_equal(approve(f, f->outsider, p, NULL, &err), 0);
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/api", p,
					"ok", &e, &err),
			 0);
	got = evidence(f, e, f->admin); /* 2 of 2: enacts */
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	ldg_entry_free(e);
}

static void test_draft_unfreeze_of_one_window_or_all_of_a_scope(void **state)
{
	struct fx *f = *state;
	struct ldg_window w = { .from = 946684800, .until = 4102444800 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry **d;
	struct ldg_read *r;
	uint64_t seq[3];
	size_t n;
	const char *scopes[3] = { "production/*", "staging/*", "production/*" };

	for (int i = 0; i < 3; i++) {
		snprintf(w.scope, sizeof(w.scope), "%s", scopes[i]);
		if (ldg_freeze(f->s, f->admin, &w, "hold", &res, &err))
			fail_msg("freeze: %s", err.msg);
		seq[i] = last_seq(&res);
		ldg_result_free(&res);
	}
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	/* every window of exactly the scope, oldest first */
	assert_int_equal(ldg_draft_unfreeze(r, "production/*", 0, "thaw", &d,
					    &n, &err),
			 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		char want[24];
		snprintf(want, sizeof(want), "%llu",
			 (unsigned long long)seq[2 * i]);
		assert_int_equal(d[i]->kind, LDG_KIND_UNFREEZE);
		assert_string_equal(d[i]->target, "production/*");
		assert_string_equal(d[i]->changes[0].key, "window");
		assert_string_equal(d[i]->changes[0].value, want);
		ldg_entry_free(d[i]);
	}
	free(d);
	/* one window */
	assert_int_equal(ldg_draft_unfreeze(r, "staging/*", seq[1], "thaw", &d,
					    &n, &err),
			 0);
	assert_int_equal(n, 1);
	ldg_entry_free(d[0]);
	free(d);
	/* none: a glob that matches the others is not their scope */
	assert_int_equal(ldg_draft_unfreeze(r, "*", 0, "thaw", &d, &n, &err),
			 -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_WINDOW);
	assert_int_equal(n, 0);
	assert_null(d);
	ldg_read_end(r);
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
			test_draft_evidence_of_a_set_and_of_the_enacting_approval,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_draft_unfreeze_of_one_window_or_all_of_a_scope,
			fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
