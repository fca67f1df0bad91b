/*
 * test_effect.c - what took effect, judged again (policy.c's
 * ldg_effect_check(), ldg_soak_check_at(); store.c's ldg_state_changes()):
 * the question the applier asks before it deploys values and verify asks
 * of an index its replay does not give. Changes that took effect by the
 * rules pass; changes a writer made effective without their approvals,
 * inside a freeze window or by a revoked approver are named by seq, and
 * verify rejects the ledger naming the same seq.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "gov.h"
#include "policy.h"

/* Seals e by k on the head and stores it as how says (forge.h): a writer
 * that skipped every check. Returns its seq. */
static uint64_t forge(struct fx *f, struct ldg_entry *e,
		      const struct ldg_signer *k, enum forge_index how)
{
	struct ldg_err err = { 0 };
	uint8_t *buf;
	size_t len;
	uint64_t seq;

	e->version = LDG_FORMAT_V2;
	forge_on_head(f, e, k, NULL, &buf, &len);
	if (forge_store(f->s, buf, len, how, &err))
		fail_msg("forge_store: %s", err.msg);
	seq = e->seq;
	free(buf);
	ldg_entry_free(e);
	return seq;
}

static struct ldg_entry *set_draft(const char *target, const char *key,
				   const char *value)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, target, "forged");

	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	return e;
}

static struct ldg_entry *approve_draft(const char *target, uint64_t proposal)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_APPROVE, target, "ok");
	char num[24];

	assert_non_null(e);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)proposal);
	assert_int_equal(ldg_entry_add_change(e, "proposal", num), 0);
	return e;
}

/* ldg_effect_check() of seq on target at f's head. */
static int effect(struct fx *f, const char *target, uint64_t seq,
		  struct ldg_err *err)
{
	struct ldg_read *r;
	int rc;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	rc = ldg_effect_check(r, NULL, target, seq, err);
	ldg_read_end(r);
	return rc;
}

/* The seqs ldg_state_changes() gives for target after after, as text
 * ("4 7"). */
static void changes_are(struct fx *f, const char *target, uint64_t after,
			const char *want)
{
	struct ldg_read *r;
	uint64_t *seqs;
	size_t n;
	char got[256] = "";

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_changes(r, target, after, &seqs, &n), 0);
	ldg_read_end(r);
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%llu",
			 i ? " " : "", (unsigned long long)seqs[i]);
	free(seqs);
	assert_string_equal(got, want);
}

/* verify must reject f's ledger naming seq, its problem holding what. */
static void verify_names(struct fx *f, uint64_t seq, const char *what)
{
	struct ldg_verify_report rep;

	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	if (rep.bad_seq != seq || !strstr(rep.problem, what))
		fail_msg("verify: entry %llu: %s (wanted entry %llu, \"%s\")",
			 (unsigned long long)rep.bad_seq, rep.problem,
			 (unsigned long long)seq, what);
}

static void test_state_changes_lists_each_seq_once(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;
	char want[64];

	a = must_set(f, "staging/api", "image.tag", "v1");
	b = must_set(f, "staging/api", "replicas", "2");
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, NULL), 0);
	assert_int_equal(lock_t(f, f->admin, "staging/api", false, NULL), 0);
	assert_int_equal(unset_k(f, f->admin, "staging/api", "replicas", false,
				 &c),
			 0);
	/* the unset counts, the lock does not; replicas' set was replaced */
	snprintf(want, sizeof(want), "%llu %llu", (unsigned long long)a,
		 (unsigned long long)c);
	changes_are(f, "staging/api", 0, want);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)c);
	changes_are(f, "staging/api", b, want);
	changes_are(f, "staging/api", c, "");
	changes_are(f, "staging/none", 0, "");
}

static void test_effect_of_what_the_rules_allow(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t before, p, a;

	add_key(f, f->deployer, "deployer", "*");
	before = must_set(f, "production/api", "image.tag", "v1");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	assert_int_equal(ldg_approve(f->s, f->admin, p, "ok", &res, &err), 0);
	a = last_seq(&res);
	ldg_result_free(&res);
	/* before the policy, and the approval that enacted the proposal */
	assert_int_equal(effect(f, "production/api", before, &err), 0);
	assert_int_equal(effect(f, "production/api", a, &err), 0);
	/* a staging change, under no policy */
	assert_int_equal(effect(f, "staging/api",
				must_set(f, "staging/api", "image.tag", "v1"),
				&err),
			 0);
	assert_verify_ok(f);
}

static void test_effect_names_a_set_made_effective_unapproved(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t seq;
	char want[64];

	add_key(f, f->deployer, "deployer", "production/*");
	policy(f, "production/*", 2, 0, NULL);
	seq = forge(f, set_draft("production/api", "image.tag", "evil"),
		    f->deployer, FORGE_INDEX_EFFECTIVE);
	/* the index says it is in effect, the rules do not */
	assert_value_at(f, "production/api", "image.tag", 0, "evil");
	assert_int_equal(effect(f, "production/api", seq, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_UNAPPROVED);
	assert_int_equal(err.seq, seq);
	snprintf(want, sizeof(want),
		 "seq %llu took effect without its 2 "
		 "approvals",
		 (unsigned long long)seq);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "policy production/*"));
	/* another target's index does not name it */
	assert_int_equal(effect(f, "staging/api", seq, &err), -EPERM);
	assert_non_null(strstr(err.msg, "which changes none of them"));
	verify_names(f, seq, "without its 2 approvals");
}

static void test_effect_names_a_self_approval(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t p, a;

	add_key(f, f->deployer, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	/* the honest indexer counts whatever approval it is given */
	a = forge(f, approve_draft("production/api", p), f->deployer,
		  FORGE_INDEX_HONEST);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_int_equal(effect(f, "production/api", a, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_UNAPPROVED);
	assert_non_null(strstr(err.msg, "has 0 valid"));
	assert_non_null(strstr(err.msg, "wrote the proposal"));
	verify_names(f, a, "may not approve it");
}

static void test_effect_names_a_revoked_approver(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t p, a;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->outsider, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "outsider", "gone",
					&res, &err),
			 0);
	ldg_result_free(&res);
	a = forge(f, approve_draft("production/api", p), f->outsider,
		  FORGE_INDEX_HONEST);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_int_equal(effect(f, "production/api", a, &err), -EPERM);
	assert_non_null(strstr(err.msg, "key \"outsider\" was not trusted"));
	verify_names(f, a, "revoked");
}

static void test_effect_names_a_revoked_authors_proposal(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t p, a;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->outsider, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "gone",
					&res, &err),
			 0);
	ldg_result_free(&res);
	a = forge(f, approve_draft("production/api", p), f->outsider,
		  FORGE_INDEX_HONEST);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_int_equal(effect(f, "production/api", a, &err), -EPERM);
	assert_non_null(strstr(err.msg, "author's key was revoked"));
	verify_names(f, a, "revoked since");
}

static void test_effect_names_a_change_inside_a_freeze(void **state)
{
	struct fx *f = *state;
	struct ldg_window w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t seq, now = ldg_now_ns() / 1000000000u;

	snprintf(w.scope, sizeof(w.scope), "production/*");
	/* a day either side: whatever the clock does during the test */
	w.from = (int64_t)now - 86400;
	w.until = (int64_t)now + 86400;
	if (ldg_freeze(f->s, f->admin, &w, "holiday", &res, &err))
		fail_msg("freeze: %s", err.msg);
	ldg_result_free(&res);
	seq = forge(f, set_draft("production/api", "image.tag", "v2"), f->admin,
		    FORGE_INDEX_HONEST);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_int_equal(effect(f, "production/api", seq, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_FROZEN);
	assert_non_null(strstr(err.msg, "took effect inside a freeze window"));
	assert_non_null(strstr(err.msg, "holiday"));
	verify_names(f, seq, "frozen");
}

/* An applied entry of target holding key=value, by the applier. */
static uint64_t applied(struct fx *f, const char *target, const char *key,
			const char *value)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_APPLIED, target, "ran");
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t seq;

	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	if (ldg_append(f->s, f->applier, e, &res, &err))
		fail_msg("applied: %s", err.msg);
	seq = last_seq(&res);
	ldg_result_free(&res);
	ldg_entry_free(e);
	return seq;
}

/* ldg_soak_check_at() of production/api image.tag=v1 taking effect with
 * an entry after the head signed at time t citing soak-applied a. */
static int soak_at(struct fx *f, const struct ldg_policy *p, uint64_t a,
		   uint64_t t, uint64_t at, struct ldg_err *err)
{
	struct ldg_entry *e = set_draft("production/api", "image.tag", "v1");
	struct ldg_read *r;
	char num[24];
	int rc;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)a);
	assert_int_equal(ldg_entry_add_meta(e, "soak-applied", num), 0);
	e->seq = head_of(f, NULL) + 1;
	e->time_ns = t;
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	rc = ldg_soak_check_at(r, r, p, "production/api", e->changes,
			       e->n_changes, e, at, err);
	ldg_read_end(r);
	ldg_entry_free(e);
	return rc;
}

static void test_soak_check_at_reads_the_source_then(void **state)
{
	struct fx *f = *state;
	struct ldg_policy p = { .approvals = 0, .soak = 600 };
	struct ldg_err err = { 0 };
	struct ldg_entry *ae;
	uint64_t a, moved, t;

	snprintf(p.scope, sizeof(p.scope), "production/*");
	snprintf(p.soak_from, sizeof(p.soak_from), "staging");
	add_key(f, f->applier, "applier", "*");
	must_set(f, "staging/api", "image.tag", "v1");
	a = applied(f, "staging/api", "image.tag", "v1");
	ae = entry_at(f, a);
	t = ae->time_ns;
	ldg_entry_free(ae);
	moved = must_set(f, "staging/api", "image.tag", "v2");
	/* before staging moved on it held v1, applied 11 minutes before */
	assert_int_equal(soak_at(f, &p, a, t + 660000000000ull, moved - 1,
				 &err),
			 0);
	/* at the head (and so ldg_soak_check()) it holds v2 */
	assert_int_equal(soak_at(f, &p, a, t + 660000000000ull, 0, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_NOT_SOAKED);
	assert_non_null(strstr(err.msg, "does not hold image.tag=v1"));
	/* then, but 5 minutes of 10 */
	assert_int_equal(soak_at(f, &p, a, t + 300000000000ull, moved - 1,
				 &err),
			 -EBUSY);
	assert_non_null(strstr(err.msg, "for 5 min of 10"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_state_changes_lists_each_seq_once, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_effect_of_what_the_rules_allow,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_effect_names_a_set_made_effective_unapproved,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_effect_names_a_self_approval,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_effect_names_a_revoked_approver,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_effect_names_a_revoked_authors_proposal, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_effect_names_a_change_inside_a_freeze, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_soak_check_at_reads_the_source_then, fx_setup,
			fx_teardown),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
