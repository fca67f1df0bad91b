/*
 * test_policy.c - promotion policies through the library (policy.c,
 * gov.c, govstore.c, govops.c; docs/format.md 8b): the field rules of the
 * five new kinds; who may write rules; approvals, stale and withdrawn
 * proposals, revoked approvers; soak; freeze windows, emergencies and
 * rollbacks during them; a lock at the enacting approval; the writers'
 * clock skew; reindex, a ledger from before policies (no gov and props
 * databases); verify naming a forged approval. Each refusal leaves the ledger as it was (head and a hash of
 * every entry), and verify's replay agrees with every writer.
 *
 * The soak tests set the clock with LEDGER_TEST_NOW and skip in a build
 * without -Dtest_clock=true.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "gov.h"
#include "policy.h"
#include "store_impl.h"

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
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ldg_approve(f->s, k, seq, "looks good", &res, err);
	if (out)
		*out = last_seq(&res);
	ldg_result_free(&res);
	return rc;
}

/* ---- more helpers ---- */

/* The ledger as it is: its head, and a hash of every entry's bytes. */
struct snap {
	uint64_t head;
	uint8_t hash[LDG_HASH_BYTES];
	uint8_t digest[LDG_HASH_BYTES];
};

static void snap_take(struct fx *f, struct snap *s)
{
	crypto_hash_sha256_state st;
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &s->head, s->hash), 0);
	crypto_hash_sha256_init(&st);
	for (uint64_t seq = 1; seq <= s->head; seq++) {
		const uint8_t *buf;
		size_t len;
		assert_int_equal(ldg_entry_raw(r, seq, &buf, &len), 0);
		crypto_hash_sha256_update(&st, buf, len);
	}
	crypto_hash_sha256_final(&st, s->digest);
	ldg_read_end(r);
}

/* Fails the test unless the ledger is still exactly what s saw. */
static void assert_unchanged(struct fx *f, const struct snap *s)
{
	struct snap now;

	snap_take(f, &now);
	assert_int_equal(now.head, s->head);
	assert_memory_equal(now.hash, s->hash, LDG_HASH_BYTES);
	assert_memory_equal(now.digest, s->digest, LDG_HASH_BYTES);
}

static struct ldg_signer *signer(const char *name)
{
	struct ldg_signer *k = NULL;

	assert_int_equal(ldg_signer_generate(name, &k, NULL), 0);
	return k;
}

/* A set of target key=value by k with flags (LDG_WRITE_*): rc, and the
 * seq written in *seq. */
static int set_flags(struct fx *f, const struct ldg_signer *k,
		     const char *target, const char *key, const char *value,
		     unsigned flags, uint64_t *seq, struct ldg_err *err)
{
	struct ldg_kv kv = { .key = (char *)key, .value = (char *)value };
	struct ldg_result res = { 0 };
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ldg_set(f->s, k, target, &kv, 1, "change", NULL, 0, flags, &res,
		     err);
	if (seq)
		*seq = last_seq(&res);
	ldg_result_free(&res);
	return rc;
}

/* A set by k that must write a proposal or a change: its seq. */
static uint64_t must_propose(struct fx *f, const struct ldg_signer *k,
			     const char *target, const char *value,
			     unsigned flags)
{
	struct ldg_err err;
	uint64_t seq = 0;

	if (set_flags(f, k, target, "image.tag", value, flags, &seq, &err))
		fail_msg("set %s image.tag=%s: %s", target, value, err.msg);
	assert_int_not_equal(seq, 0);
	return seq;
}

static uint64_t must_approve(struct fx *f, const struct ldg_signer *k,
			     uint64_t seq)
{
	struct ldg_err err;
	uint64_t a = 0;

	if (approve(f, k, seq, &a, &err))
		fail_msg("approve %llu: %s", (unsigned long long)seq, err.msg);
	return a;
}

static int withdraw(struct fx *f, const struct ldg_signer *k, uint64_t seq,
		    struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ldg_withdraw(f->s, k, seq, "not now", &res, err);
	ldg_result_free(&res);
	return rc;
}

static int policy_by(struct fx *f, const struct ldg_signer *k,
		     const char *scope, const struct ldg_policy *p,
		     struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ldg_policy_set(f->s, k, scope, p, "rules", &res, err);
	ldg_result_free(&res);
	return rc;
}

/* An absolute window on scope from now - 1 h to now + 1 h, or the
 * recurring window cron/duration/tz; the freeze's seq. */
static int freeze_by(struct fx *f, const struct ldg_signer *k,
		     const char *scope, const char *cron, const char *tz,
		     const char *reason, uint64_t *seq, struct ldg_err *err)
{
	struct ldg_window w = { 0 };
	struct ldg_result res = { 0 };
	int64_t now = (int64_t)(ldg_now_ns() / 1000000000u);
	int rc;

	snprintf(w.scope, sizeof(w.scope), "%s", scope);
	if (cron) {
		snprintf(w.cron, sizeof(w.cron), "%s", cron);
		snprintf(w.tz, sizeof(w.tz), "%s", tz);
		w.duration = 86400;
	} else {
		w.from = now - 3600;
		w.until = now + 3600;
	}
	memset(err, 0, sizeof(*err));
	rc = ldg_freeze(f->s, k, &w, reason, &res, err);
	if (seq)
		*seq = last_seq(&res);
	ldg_result_free(&res);
	return rc;
}

static int unfreeze_by(struct fx *f, const struct ldg_signer *k,
		       const char *scope, uint64_t window, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ldg_unfreeze(f->s, k, scope, window, "lifted", &res, err);
	ldg_result_free(&res);
	return rc;
}

static int rollback_to(struct fx *f, const struct ldg_signer *k,
		       const char *target, uint64_t to, bool no_lock,
		       uint64_t *seq, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ldg_rollback(f->s, k, target, to, "back", NULL, 0, no_lock, &res,
			  err);
	/* the rollback itself, not the lock after it */
	if (seq)
		*seq = res.n ? res.v[0].seq : 0;
	ldg_result_free(&res);
	return rc;
}

/* Appends an applied entry of target holding image.tag=value by k. */
static uint64_t applied(struct fx *f, const struct ldg_signer *k,
			const char *target, const char *value)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_APPLIED, target, "ran");
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t seq;

	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, "image.tag", value), 0);
	if (ldg_append(f->s, k, e, &res, &err))
		fail_msg("applied: %s", err.msg);
	seq = last_seq(&res);
	ldg_result_free(&res);
	ldg_entry_free(e);
	return seq;
}

static struct ldg_proposal proposal(struct fx *f, uint64_t seq)
{
	struct ldg_proposal p;
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_proposal_get(r, seq, &p), 0);
	ldg_read_end(r);
	return p;
}

/* The clock tests set: LEDGER_TEST_NOW, honoured by -Dtest_clock only. */
static void need_test_clock(void)
{
	if (!ldg_test_clock()) {
		print_message("skipped: built without -Dtest_clock=true\n");
		skip();
	}
}

static void clock_at(int64_t t)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)t);
	assert_int_equal(setenv("LEDGER_TEST_NOW", num, 1), 0);
}

static int64_t now_s(void)
{
	return (int64_t)(ldg_now_ns() / 1000000000u);
}

/* ---- entry format ---- */

/* A version 2 draft of kind on target with changes kv[0..2n), as a
 * writer checks it (seq 5). */
static struct ldg_entry *gov_entry(enum ldg_kind kind, const char *target,
				   const char *const *kv, size_t n)
{
	struct ldg_entry *e = ldg_entry_new(kind, target, "why");

	assert_non_null(e);
	e->version = LDG_FORMAT_V2;
	e->seq = 5;
	e->time_ns = 1798156800ull * 1000000000u;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ldg_entry_add_change(e, kv[2 * i],
						      kv[2 * i + 1]),
				 0);
	return e;
}

struct fcase {
	enum ldg_kind kind;
	const char *target;
	const char *kv[8];
	size_t n;
};

#define POL LDG_KIND_POLICY
#define FRZ LDG_KIND_FREEZE
#define UNF LDG_KIND_UNFREEZE
#define APR LDG_KIND_APPROVE
#define WDR LDG_KIND_WITHDRAW

static const struct fcase good_cases[] = {
	{ POL, "production/*", { "approvals", "1" }, 1 },
	{ POL, "production/*", { "approvals", "16" }, 1 },
	{ POL, "*", { "approvals", "2", "rollbacks", "gated" }, 2 },
	{ POL, "production/*", { "soak", "60", "soak-from", "staging" }, 2 },
	{ POL,
	  "*/api",
	  { "approvals", "3", "soak", "31622400", "soak-from", "staging" },
	  3 },
	{ POL, "production/*", { NULL }, 0 }, /* cleared */
	{ FRZ,
	  "production/*",
	  { "from", "2026-12-24T00:00:00Z", "until", "2026-12-27T00:00:00Z" },
	  2 },
	{ FRZ,
	  "*",
	  { "cron", "0 0 * * *", "duration", "86400", "tz", "UTC" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 22 * * fri", "duration", "60", "tz",
	    "America/New_York" },
	  3 },
	{ UNF, "production/*", { "window", "2" }, 1 },
	{ APR, "production/api", { "proposal", "2" }, 1 },
	{ WDR, "production/api", { "proposal", "4" }, 1 },
};

static const struct fcase bad_cases[] = {
	/* policy */
	{ POL, "production/*", { "approvals", "0" }, 1 },
	{ POL, "production/*", { "approvals", "17" }, 1 },
	{ POL, "production/*", { "approvals", "01" }, 1 },
	{ POL, "production/*", { "approvals", "+1" }, 1 },
	{ POL, "production/*", { "approvals", NULL }, 1 },
	{ POL, "production/*", { "soak", "59", "soak-from", "staging" }, 2 },
	{ POL,
	  "production/*",
	  { "soak", "31622401", "soak-from", "staging" },
	  2 },
	{ POL, "production/*", { "soak", "600" }, 1 },
	{ POL, "production/*", { "soak-from", "staging" }, 1 },
	{ POL, "production/*", { "soak", "600", "soak-from", "Staging" }, 2 },
	{ POL, "production/*", { "approvals", "1", "rollbacks", "yes" }, 2 },
	{ POL, "production/*", { "approvals", "1", "owner", "alice" }, 2 },
	{ POL, "Production/*", { "approvals", "1" }, 1 },
	/* freeze */
	{ FRZ,
	  "production/*",
	  { "from", "2026-12-24T00:00:00Z", "until", "2026-12-24T00:00:00Z" },
	  2 },
	{ FRZ,
	  "production/*",
	  { "from", "2026-12-24T00:00:00Z", "until", "2026-12-23T00:00:00Z" },
	  2 },
	{ FRZ,
	  "production/*",
	  { "from", "2026-12-24 00:00:00", "until", "2026-12-27T00:00:00Z" },
	  2 },
	{ FRZ, "production/*", { "from", "2026-12-24T00:00:00Z" }, 1 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * * *", "from", "2026-12-24T00:00:00Z", "until",
	    "2026-12-27T00:00:00Z" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "61 0 * * *", "duration", "86400", "tz", "UTC" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * *", "duration", "86400", "tz", "UTC" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * * *", "duration", "59", "tz", "UTC" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * * *", "duration", "31622401", "tz", "UTC" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * * *", "duration", "86400", "tz", "../etc/passwd" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * * *", "duration", "86400", "tz", "/UTC" },
	  3 },
	{ FRZ,
	  "production/*",
	  { "cron", "0 0 * * *", "duration", "86400", "tz", "Europe/Ber lin" },
	  3 },
	{ FRZ, "production/*", { "cron", "0 0 * * *", "duration", "86400" }, 2 },
	/* unfreeze */
	{ UNF, "production/*", { "window", "0" }, 1 },
	{ UNF, "production/*", { "window", "1" }, 1 },
	{ UNF, "production/*", { "window", "x" }, 1 },
	{ UNF, "production/*", { "window", "2", "why", "3" }, 2 },
	{ UNF, "production/*", { NULL }, 0 },
	/* approve, withdraw */
	{ APR, "production/api", { "proposal", "1" }, 1 },
	{ APR, "production/api", { "proposal", "007" }, 1 },
	{ APR, "production/api", { "proposal", "2", "window", "3" }, 2 },
	{ APR, "production/api", { "approvals", "2" }, 1 },
	{ APR, "production/*", { "proposal", "2" }, 1 },
	{ WDR, "production/api", { "proposal", "0" }, 1 },
	{ WDR, "production/api", { NULL }, 0 },
};

static void test_entry_format(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]);
	     i++) {
		const struct fcase *c = &good_cases[i];
		struct ldg_entry *e =
			gov_entry(c->kind, c->target, c->kv, c->n);
		struct ldg_entry *back = NULL;
		struct ldg_err err = { 0 };
		uint8_t *buf, *again;
		size_t len, alen;

		if (ldg_entry_check(e, &err))
			fail_msg("good case %zu refused: %s", i, err.msg);
		/* signed, stored, decoded: the same bytes again */
		assert_int_equal(ldg_entry_sign(e, ORIGIN, f->admin, &buf, &len,
						&err),
				 0);
		if (ldg_entry_decode(buf, len, &back, &err))
			fail_msg("good case %zu: decode: %s", i, err.msg);
		assert_int_equal(back->kind, c->kind);
		assert_string_equal(back->target, c->target);
		assert_int_equal(back->n_changes, c->n);
		assert_int_equal(ldg_entry_encode(back, true, &again, &alen),
				 0);
		assert_int_equal(alen, len);
		assert_memory_equal(again, buf, len);
		free(again);
		free(buf);
		ldg_entry_free(back);
		/* the same entry in format version 1 is malformed */
		e->version = LDG_FORMAT_V1;
		if (ldg_entry_check(e, &err) != -EINVAL)
			fail_msg("good case %zu accepted as version 1", i);
		ldg_entry_free(e);
	}
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct fcase *c = &bad_cases[i];
		struct ldg_entry *e =
			gov_entry(c->kind, c->target, c->kv, c->n);
		struct ldg_err err = { 0 };
		uint8_t *buf = NULL;
		size_t len;

		if (ldg_entry_check(e, &err) != -EINVAL)
			fail_msg("bad case %zu (%s %s=%s) accepted", i,
				 ldg_kind_name(c->kind),
				 c->kv[0] ? c->kv[0] : "",
				 c->kv[1] ? c->kv[1] : "");
		assert_true(err.msg[0] != '\0');
		/* and no signer signs it */
		assert_int_not_equal(ldg_entry_sign(e, ORIGIN, f->admin, &buf,
						    &len, NULL),
				     0);
		assert_null(buf);
		ldg_entry_free(e);
	}
}

/* The entry builders of remote writers refuse what the format refuses,
 * and a few things more (an empty policy, gated rollbacks alone). */
static void test_entry_builders(void **state)
{
	struct ldg_policy p = { .approvals = 2, .gate_rollbacks = true };
	struct ldg_window w = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;

	assert_int_equal(ldg_entry_policy("production/*", &p, "r", &e, &err),
			 0);
	assert_int_equal(e->version, LDG_FORMAT_V2);
	assert_int_equal(e->n_changes, 2);
	assert_string_equal(e->changes[0].key, "approvals");
	assert_string_equal(e->changes[1].value, "gated");
	ldg_entry_free(e);
	assert_int_equal(ldg_entry_policy("production/*", NULL, "r", &e, &err),
			 0);
	assert_int_equal(e->n_changes, 0);
	ldg_entry_free(e);
	p = (struct ldg_policy){ 0 };
	assert_int_equal(ldg_entry_policy("production/*", &p, "r", &e, &err),
			 -EINVAL);
	p.gate_rollbacks = true;
	assert_int_equal(ldg_entry_policy("production/*", &p, "r", &e, &err),
			 -EINVAL);
	p = (struct ldg_policy){ .approvals = 17 };
	assert_int_equal(ldg_entry_policy("production/*", &p, "r", &e, &err),
			 -EINVAL);
	p = (struct ldg_policy){ .soak = 59, .soak_from = "staging" };
	assert_int_equal(ldg_entry_policy("production/*", &p, "r", &e, &err),
			 -EINVAL);
	p = (struct ldg_policy){ .soak = 600 };
	assert_int_equal(ldg_entry_policy("production/*", &p, "r", &e, &err),
			 -EINVAL);
	snprintf(w.scope, sizeof(w.scope), "production/*");
	w.from = 1798156800;
	w.until = w.from;
	assert_int_equal(ldg_entry_freeze(&w, "r", &e, &err), -EINVAL);
	w.until = w.from + 60;
	assert_int_equal(ldg_entry_freeze(&w, "r", &e, &err), 0);
	assert_string_equal(e->changes[0].value, "2026-12-25T00:00:00Z");
	ldg_entry_free(e);
	assert_int_equal(ldg_entry_unfreeze("production/*", 1, "r", &e, &err),
			 -EINVAL);
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/*", 2,
					"r", &e, &err),
			 -EINVAL);
	assert_int_equal(ldg_entry_vote(LDG_KIND_WITHDRAW, "production/api", 2,
					"r", &e, &err),
			 0);
	assert_string_equal(e->changes[0].key, "proposal");
	ldg_entry_free(e);
}

/* ---- the first tests ---- */

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

/* ---- who writes rules ---- */

static void test_who_writes_rules(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *padmin = signer("padmin"),
			  *wadmin = signer("wadmin");
	struct ldg_policy p = { .approvals = 1 };
	struct ldg_err err;
	struct snap s;
	uint64_t win, all;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, padmin, "admin", "production/*");
	add_key(f, wadmin, "admin", "staging/* production/api");
	assert_int_equal(freeze_by(f, f->admin, "*", NULL, NULL, "all", &all,
				   &err),
			 0);
	snap_take(f, &s);
	/* a deployer, whatever its scope, writes no rules */
	assert_int_equal(policy_by(f, f->deployer, "production/*", &p, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_int_equal(freeze_by(f, f->deployer, "production/*", NULL, NULL,
				   "x", NULL, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_int_equal(unfreeze_by(f, f->deployer, "*", all, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	/* an admin without '*' only for a scope that is an item of its
	 * scopes, exactly: not one its glob covers, not another */
	assert_int_equal(policy_by(f, padmin, "production/api", &p, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(policy_by(f, padmin, "staging/*", &p, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(policy_by(f, wadmin, "production/*", &p, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(freeze_by(f, padmin, "staging/*", NULL, NULL, "x",
				   NULL, &err),
			 -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(unfreeze_by(f, padmin, "*", all, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	/* no such window on that scope */
	assert_int_equal(unfreeze_by(f, f->admin, "production/*", all, &err),
			 -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_WINDOW);
	assert_int_equal(unfreeze_by(f, f->admin, "*", 2, &err), -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_WINDOW);
	assert_int_equal(unfreeze_by(f, f->admin, "production/*", 0, &err),
			 -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_WINDOW);
	assert_unchanged(f, &s);
	/* allowed: the exact item */
	assert_int_equal(policy_by(f, padmin, "production/*", &p, &err), 0);
	assert_int_equal(policy_by(f, wadmin, "production/api", &p, &err), 0);
	assert_int_equal(policy_by(f, wadmin, "staging/*", NULL, &err), 0);
	assert_int_equal(freeze_by(f, padmin, "production/*", NULL, NULL, "x",
				   &win, &err),
			 0);
	assert_int_equal(unfreeze_by(f, padmin, "production/*", win, &err), 0);
	/* a window lifted is lifted */
	snap_take(f, &s);
	assert_int_equal(unfreeze_by(f, padmin, "production/*", win, &err),
			 -ENOENT);
	assert_int_equal(err.why, LDG_WHY_NO_WINDOW);
	assert_unchanged(f, &s);
	assert_int_equal(unfreeze_by(f, f->admin, "*", 0, &err), 0);
	assert_verify_ok(f);
	ldg_signer_free(padmin);
	ldg_signer_free(wadmin);
}

/* ---- approvals ---- */

static void test_two_approvals(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *d2 = signer("d2");
	struct ldg_proposal pr;
	struct ldg_err err;
	struct snap s;
	uint64_t p, a1, a2;

	add_key(f, f->deployer, "deployer", "production/* staging/*");
	add_key(f, d2, "deployer", "production/*");
	add_key(f, f->outsider, "deployer", "staging/*");
	add_key(f, f->applier, "applier", "*");
	policy(f, "production/*", 2, 0, NULL);
	p = must_propose(f, f->deployer, "production/api", "v2", 0);
	assert_value_at(f, "production/api", "image.tag", 0, NULL);
	snap_take(f, &s);
	/* an applier approves nothing; a key out of scope, the author */
	assert_int_equal(approve(f, f->applier, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_ROLE);
	assert_int_equal(approve(f, f->outsider, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_int_equal(approve(f, f->deployer, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SELF_APPROVAL);
	assert_unchanged(f, &s);
	/* one of two: counted, nothing changes */
	a1 = must_approve(f, f->admin, p);
	assert_value_at(f, "production/api", "image.tag", 0, NULL);
	pr = proposal(f, p);
	assert_int_equal(pr.status, LDG_PROP_PENDING);
	assert_int_equal(pr.need, 2);
	assert_int_equal(pr.n_approvers, 1);
	assert_memory_equal(pr.approvers[0], ldg_signer_vkey(f->admin)->keyid,
			    LDG_KEYID_BYTES);
	ldg_proposal_free(&pr);
	/* the same key again */
	snap_take(f, &s);
	assert_int_equal(approve(f, f->admin, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_ALREADY_APPROVED);
	assert_int_equal(err.seq, p);
	assert_unchanged(f, &s);
	/* a second, distinct key: in effect at its seq */
	a2 = must_approve(f, d2, p);
	assert_true(a2 > a1);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_value_at(f, "production/api", "image.tag", a2, "v2");
	assert_value_at(f, "production/api", "image.tag", a2 - 1, NULL);
	pr = proposal(f, p);
	assert_int_equal(pr.status, LDG_PROP_EFFECTIVE);
	assert_int_equal(pr.at, a2);
	assert_string_equal(pr.target, "production/api");
	assert_int_equal(pr.n_changes, 1);
	assert_string_equal(pr.changes[0].value, "v2");
	ldg_proposal_free(&pr);
	/* staging has no policy: in effect at once */
	assert_int_equal(set_flags(f, f->deployer, "staging/api", "image.tag",
				   "v9", 0, NULL, &err),
			 0);
	assert_value_at(f, "staging/api", "image.tag", 0, "v9");
	assert_verify_ok(f);
	ldg_signer_free(d2);
}

static void test_revoked_approver(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *d2 = signer("d2"), *d3 = signer("d3"),
			  *d4 = signer("d4");
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct snap s;
	uint64_t p, q, a;

	add_key(f, f->deployer, "deployer", "production/*");
	add_key(f, d2, "deployer", "production/*");
	add_key(f, d3, "deployer", "production/*");
	add_key(f, d4, "deployer", "production/*");
	policy(f, "production/*", 2, 0, NULL);
	p = must_propose(f, f->deployer, "production/api", "v2", 0);
	must_approve(f, d2, p);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "d2", "left", &res,
					&err),
			 0);
	ldg_result_free(&res);
	/* d2's approval no longer counts: d3's is the only one */
	must_approve(f, d3, p);
	assert_int_equal(status_of(f, p), LDG_PROP_PENDING);
	assert_value_at(f, "production/api", "image.tag", 0, NULL);
	a = must_approve(f, d4, p);
	assert_int_equal(status_of(f, p), LDG_PROP_EFFECTIVE);
	assert_value_at(f, "production/api", "image.tag", a, "v2");
	/* a change in effect stays when an approver is revoked later */
	q = must_propose(f, f->deployer, "production/api", "v3", 0);
	must_approve(f, d3, q);
	a = must_approve(f, d4, q);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "d3", "left", &res,
					&err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(status_of(f, q), LDG_PROP_EFFECTIVE);
	assert_value_at(f, "production/api", "image.tag", 0, "v3");
	assert_value_at(f, "production/api", "image.tag", a, "v3");
	/* a proposal whose author is revoked cannot take effect; an admin
	 * withdraws it */
	q = must_propose(f, d4, "production/api", "v4", 0);
	must_approve(f, f->deployer, q);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "d4", "left", &res,
					&err),
			 0);
	ldg_result_free(&res);
	snap_take(f, &s);
	assert_int_equal(approve(f, f->admin, q, NULL, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_non_null(strstr(err.msg, "revoked"));
	assert_unchanged(f, &s);
	assert_int_equal(withdraw(f, f->admin, q, &err), 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v3");
	assert_verify_ok(f);
	ldg_signer_free(d2);
	ldg_signer_free(d3);
	ldg_signer_free(d4);
}

static void test_stale_by_rollback(void **state)
{
	struct fx *f = *state;
	struct ldg_proposal pr;
	struct ldg_err err;
	struct snap s;
	uint64_t s1, p, rb;

	add_key(f, f->deployer, "deployer", "production/*");
	s1 = must_set(f, "production/api", "image.tag", "v1");
	must_set(f, "production/api", "image.tag", "v2");
	policy(f, "production/*", 1, 0, NULL);
	p = must_propose(f, f->deployer, "production/api", "v3", 0);
	/* a rollback is not gated: in effect at once, p overtaken */
	assert_int_equal(rollback_to(f, f->admin, "production/api", s1, true,
				     &rb, &err),
			 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v1");
	pr = proposal(f, p);
	assert_int_equal(pr.status, LDG_PROP_STALE);
	assert_int_equal(pr.at, rb);
	ldg_proposal_free(&pr);
	snap_take(f, &s);
	assert_int_equal(approve(f, f->admin, p, NULL, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_int_equal(err.seq, rb);
	assert_non_null(strstr(err.msg, "stale"));
	assert_int_equal(withdraw(f, f->deployer, p, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_unchanged(f, &s);
	assert_verify_ok(f);
}

static void test_withdraw_rules(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *d2 = signer("d2"), *sadmin = signer("sadmin");
	struct ldg_err err;
	struct snap s;
	uint64_t p1, p2;

	add_key(f, f->deployer, "deployer", "production/*");
	add_key(f, d2, "deployer", "production/*");
	add_key(f, sadmin, "admin", "staging/*");
	policy(f, "production/*", 1, 0, NULL);
	p1 = must_propose(f, f->deployer, "production/api", "v2", 0);
	snap_take(f, &s);
	/* another deployer may not */
	assert_int_equal(withdraw(f, d2, p1, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_NOT_AUTHOR);
	assert_int_equal(err.seq, p1);
	/* nor is a seq that is no proposal withdrawn */
	assert_int_equal(withdraw(f, f->deployer, 1, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_int_equal(approve(f, d2, 2, NULL, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_unchanged(f, &s);
	/* its author may */
	assert_int_equal(withdraw(f, f->deployer, p1, &err), 0);
	assert_int_equal(status_of(f, p1), LDG_PROP_WITHDRAWN);
	snap_take(f, &s);
	assert_int_equal(approve(f, d2, p1, NULL, &err), -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_non_null(strstr(err.msg, "withdrawn"));
	assert_int_equal(withdraw(f, f->deployer, p1, &err), -EPERM);
	assert_unchanged(f, &s);
	/* and an admin whose scope covers the target, not another */
	p2 = must_propose(f, f->deployer, "production/api", "v3", 0);
	snap_take(f, &s);
	assert_int_equal(withdraw(f, sadmin, p2, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SCOPE);
	assert_unchanged(f, &s);
	assert_int_equal(withdraw(f, f->admin, p2, &err), 0);
	assert_int_equal(status_of(f, p2), LDG_PROP_WITHDRAWN);
	assert_value_at(f, "production/api", "image.tag", 0, NULL);
	assert_verify_ok(f);
	ldg_signer_free(d2);
	ldg_signer_free(sadmin);
}

/* ---- soak ---- */

static void test_soak(void **state)
{
	struct fx *f = *state;
	struct ldg_entry *e;
	const struct ldg_kv *ev;
	struct ldg_err err;
	struct snap s;
	uint64_t a1, a2, seq, p;
	int64_t t0;
	char num[24];

	need_test_clock();
	t0 = now_s();
	clock_at(t0);
	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->applier, "applier", "*");
	policy(f, "production/*", 0, 1800, "staging");
	must_set(f, "staging/api", "image.tag", "v2");
	snap_take(f, &s);
	/* staging does not hold it */
	assert_int_equal(set_flags(f, f->deployer, "production/api",
				   "image.tag", "v3", 0, NULL, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_NOT_SOAKED);
	assert_non_null(strstr(err.msg, "does not hold image.tag=v3"));
	/* holds it, never applied */
	assert_int_equal(set_flags(f, f->deployer, "production/api",
				   "image.tag", "v2", 0, NULL, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_NOT_SOAKED);
	assert_non_null(strstr(err.msg, "has not run"));
	assert_unchanged(f, &s);
	/* applied at t0; 10 minutes later it is too young */
	a1 = applied(f, f->applier, "staging/api", "v2");
	clock_at(t0 + 600);
	snap_take(f, &s);
	assert_int_equal(set_flags(f, f->deployer, "production/api",
				   "image.tag", "v2", 0, NULL, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_NOT_SOAKED);
	assert_string_equal(err.target, "staging/api");
	assert_non_null(strstr(err.msg, "for 10 min of 30"));
	assert_unchanged(f, &s);
	/* 30 minutes and a second: met, with its evidence */
	clock_at(t0 + 1801);
	seq = must_propose(f, f->deployer, "production/api", "v2", 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	e = entry_at(f, seq);
	ev = ldg_kv_find(e->meta, e->n_meta, "soak-applied");
	assert_non_null(ev);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)a1);
	assert_string_equal(ev->value, num);
	ldg_entry_free(e);
	/* an unset does not soak */
	assert_int_equal(unset_k(f, f->deployer, "production/api", "image.tag",
				 false, &seq),
			 0);
	e = entry_at(f, seq);
	assert_null(ldg_kv_find(e->meta, e->n_meta, "soak-applied"));
	ldg_entry_free(e);
	/* staging changed since its apply: not held any more */
	must_set(f, "staging/api", "image.tag", "v4");
	snap_take(f, &s);
	assert_int_equal(set_flags(f, f->deployer, "production/api",
				   "image.tag", "v2", 0, NULL, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_NOT_SOAKED);
	assert_unchanged(f, &s);
	/* with approvals: the approval that enacts soaks */
	policy(f, "production/*", 1, 1800, "staging");
	a2 = applied(f, f->applier, "staging/api", "v4");
	p = must_propose(f, f->deployer, "production/api", "v4", 0);
	clock_at(t0 + 1801 + 60);
	snap_take(f, &s);
	assert_int_equal(approve(f, f->admin, p, NULL, &err), -EBUSY);
	assert_int_equal(err.why, LDG_WHY_NOT_SOAKED);
	assert_unchanged(f, &s);
	clock_at(t0 + 1801 + 1800);
	seq = must_approve(f, f->admin, p);
	assert_value_at(f, "production/api", "image.tag", 0, "v4");
	e = entry_at(f, seq);
	ev = ldg_kv_find(e->meta, e->n_meta, "soak-applied");
	assert_non_null(ev);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)a2);
	assert_string_equal(ev->value, num);
	ldg_entry_free(e);
	unsetenv("LEDGER_TEST_NOW");
	assert_verify_ok(f);
}

/* ---- freeze ---- */

static void test_freeze_cron_emergency_rollback(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *d2 = signer("d2");
	struct ldg_proposal pr;
	struct ldg_err err;
	struct snap s;
	uint64_t s1, s2, w, wb, p, a, rb;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, d2, "deployer", "*");
	s1 = must_set(f, "production/api", "image.tag", "v1");
	s2 = must_set(f, "production/api", "image.tag", "v2");
	/* nothing governs it yet: an emergency is refused, not written */
	snap_take(f, &s);
	assert_int_equal(set_flags(f, f->deployer, "production/api",
				   "image.tag", "v3", LDG_WRITE_EMERGENCY, NULL,
				   &err),
			 -EINVAL);
	assert_unchanged(f, &s);
	/* every day at midnight for a day: always */
	assert_int_equal(freeze_by(f, f->admin, "production/*", "0 0 * * *",
				   "UTC", "change freeze", &w, &err),
			 0);
	assert_int_equal(freeze_by(f, f->admin, "staging/*", "30 1 * * *",
				   "Europe/Berlin", "berlin", &wb, &err),
			 0);
	snap_take(f, &s);
	assert_int_equal(set_flags(f, f->deployer, "production/api",
				   "image.tag", "v3", 0, NULL, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_FROZEN);
	assert_int_equal(err.seq, w);
	assert_non_null(strstr(err.msg, "change freeze"));
	assert_non_null(strstr(err.msg, "production/*"));
	assert_int_equal(set_flags(f, f->deployer, "staging/api", "image.tag",
				   "v3", 0, NULL, &err),
			 -EBUSY);
	assert_int_equal(err.seq, wb);
	assert_unchanged(f, &s);
	/* an emergency: a proposal that needs one other key */
	p = must_propose(f, f->deployer, "production/api", "v3",
			 LDG_WRITE_EMERGENCY);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	pr = proposal(f, p);
	assert_int_equal(pr.need, 1);
	assert_true(pr.flags & LDG_PEND_EMERGENCY);
	ldg_proposal_free(&pr);
	snap_take(f, &s);
	assert_int_equal(approve(f, f->deployer, p, NULL, &err), -EACCES);
	assert_int_equal(err.why, LDG_WHY_SELF_APPROVAL);
	assert_unchanged(f, &s);
	/* approved: in effect during the freeze */
	a = must_approve(f, d2, p);
	assert_value_at(f, "production/api", "image.tag", a, "v3");
	pr = proposal(f, p);
	assert_int_equal(pr.status, LDG_PROP_EFFECTIVE);
	assert_true(pr.flags & LDG_PEND_EMERGENCY);
	ldg_proposal_free(&pr);
	/* a rollback is not gated: allowed during the freeze */
	assert_int_equal(rollback_to(f, f->deployer, "production/api", s1, true,
				     &rb, &err),
			 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v1");
	/* unless the policy gates rollbacks: then it is frozen too */
	{
		struct ldg_policy gp = { .approvals = 1,
					 .gate_rollbacks = true };
		assert_int_equal(policy_by(f, f->admin, "production/*", &gp,
					   &err),
				 0);
	}
	snap_take(f, &s);
	assert_int_equal(rollback_to(f, f->deployer, "production/api", s2, true,
				     NULL, &err),
			 -EBUSY);
	assert_int_equal(err.why, LDG_WHY_FROZEN);
	assert_unchanged(f, &s);
	/* and out of the freeze a proposal */
	assert_int_equal(unfreeze_by(f, f->admin, "production/*", 0, &err), 0);
	assert_int_equal(rollback_to(f, f->deployer, "production/api", s2, true,
				     &rb, &err),
			 0);
	assert_value_at(f, "production/api", "image.tag", 0, "v1");
	assert_int_equal(status_of(f, rb), LDG_PROP_PENDING);
	a = must_approve(f, d2, rb);
	assert_value_at(f, "production/api", "image.tag", a, "v2");
	assert_verify_ok(f);
	ldg_signer_free(d2);
}

/* A rollback that locks its target (the default) under rollbacks=gated
 * is a proposal, and the lock after it is its own: the approval enacts
 * it all the same (rollbacks pass locks). */
static void test_gated_rollback_with_its_lock(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *d2 = signer("d2");
	struct ldg_policy gp = { .approvals = 1, .gate_rollbacks = true };
	struct ldg_err err;
	uint64_t s1, rb, a;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, d2, "deployer", "*");
	s1 = must_set(f, "production/api", "image.tag", "v1");
	must_set(f, "production/api", "image.tag", "v2");
	assert_int_equal(policy_by(f, f->admin, "production/*", &gp, &err), 0);
	assert_int_equal(rollback_to(f, f->deployer, "production/api", s1,
				     false, &rb, &err),
			 0);
	assert_int_not_equal(lock_seq_at(f, "production/api", 0), 0);
	assert_int_equal(status_of(f, rb), LDG_PROP_PENDING);
	a = 0;
	if (approve(f, d2, rb, &a, &err))
		fail_msg("approve the rollback: %s", err.msg);
	assert_value_at(f, "production/api", "image.tag", a, "v1");
	assert_verify_ok(f);
	ldg_signer_free(d2);
}

/* ---- a lock at the approval ---- */

static void test_lock_at_enact(void **state)
{
	struct fx *f = *state;
	struct ldg_proposal pr;
	struct ldg_err err;
	struct snap s;
	uint64_t p, lk, fp, a;

	add_key(f, f->deployer, "deployer", "production/*");
	policy(f, "production/*", 1, 0, NULL);
	p = must_propose(f, f->deployer, "production/api", "v2", 0);
	assert_int_equal(lock_t(f, f->admin, "production/api", true, &lk), 0);
	snap_take(f, &s);
	assert_int_equal(approve(f, f->admin, p, NULL, &err), -EBUSY);
	assert_int_equal(err.why, LDG_WHY_LOCKED);
	assert_int_equal(err.seq, lk);
	assert_unchanged(f, &s);
	/* a proposal forced past the lock enacts */
	fp = must_propose(f, f->deployer, "production/api", "v3",
			  LDG_WRITE_FORCE);
	pr = proposal(f, fp);
	assert_true(pr.flags & LDG_PEND_FORCED);
	ldg_proposal_free(&pr);
	a = must_approve(f, f->admin, fp);
	assert_value_at(f, "production/api", "image.tag", a, "v3");
	assert_int_equal(status_of(f, p), LDG_PROP_STALE);
	assert_int_equal(lock_seq_at(f, "production/api", 0), lk);
	assert_verify_ok(f);
}

/* ---- clock skew ---- */

/* Bytes of e sealed by k on f's head with signed time t_ns (what a
 * signer whose clock says t_ns makes). */
static void seal_at(struct fx *f, const struct ldg_signer *k,
		    struct ldg_entry *e, uint64_t t_ns, uint8_t **buf,
		    size_t *len)
{
	struct ldg_err err = { 0 };
	struct ldg_authz az;

	store_authz(f, &az);
	e->seq = head_of(f, e->prev) + 1;
	e->time_ns = t_ns;
	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	if (ldg_entry_check(e, &err) || ldg_authz_stamp(&az, e, &err) ||
	    ldg_entry_sign(e, ORIGIN, k, buf, len, &err))
		fail_msg("seal: %s", err.msg);
	ldg_authz_free(&az);
}

static void test_skew(void **state)
{
	struct fx *f = *state;
	const uint64_t min = 60ull * 1000000000u;
	struct ldg_result res = { 0 };
	struct ldg_entry *e;
	struct ldg_err err;
	struct snap s;
	uint8_t *buf;
	size_t len;

	add_key(f, f->deployer, "deployer", "staging/*");
	/* ten minutes behind, ten ahead: refused, whatever the kind */
	for (int i = 0; i < 4; i++) {
		bool behind = i % 2 == 0;
		e = ldg_entry_new(i < 2 ? LDG_KIND_SET : LDG_KIND_KEY_REVOKE,
				  i < 2 ? "staging/api" : "", "skewed");
		if (i < 2)
			assert_int_equal(ldg_entry_add_change(e, "image.tag",
							      "v2"),
					 0);
		else
			assert_int_equal(ldg_entry_add_change(e, "name",
							      "deployer"),
					 0);
		seal_at(f, i < 2 ? f->deployer : f->admin, e,
			behind ? ldg_now_ns() - 10 * min
			       : ldg_now_ns() + 10 * min,
			&buf, &len);
		snap_take(f, &s);
		memset(&err, 0, sizeof(err));
		assert_int_equal(ldg_append_signed(f->s, buf, len, &res, &err),
				 -EINVAL);
		assert_int_equal(err.why, LDG_WHY_SKEW);
		assert_non_null(strstr(err.msg, behind ? "behind" : "ahead"));
		assert_unchanged(f, &s);
		ldg_result_free(&res);
		free(buf);
		ldg_entry_free(e);
	}
	/* a copy of an old entry is not checked against the clock */
	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "old");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "v2"), 0);
	seal_at(f, f->deployer, e, ldg_now_ns() - 10 * min, &buf, &len);
	assert_int_equal(ldg_append_copied(f->s, (const uint8_t *const *)&buf,
					   &len, 1, &res, &err),
			 0);
	ldg_result_free(&res);
	free(buf);
	ldg_entry_free(e);
	/* within the skew: taken */
	e = ldg_entry_new(LDG_KIND_SET, "staging/api", "close enough");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "v3"), 0);
	seal_at(f, f->deployer, e, ldg_now_ns() - 3 * min, &buf, &len);
	assert_int_equal(ldg_append_signed(f->s, buf, len, &res, &err), 0);
	ldg_result_free(&res);
	free(buf);
	ldg_entry_free(e);
	assert_value_at(f, "staging/api", "image.tag", 0, "v3");
	assert_verify_ok(f);
}

/* ---- the indexes ---- */

/* Every record of db, concatenated as key length, key, value length,
 * value; caller frees. */
static uint8_t *dump_db(struct fx *f, enum ldg_db db, size_t *len)
{
	struct ldg_read *r;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t *out = NULL;
	size_t n = 0;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(mdb_cursor_open(r->txn, r->s->dbi[db], &c), 0);
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		out = realloc(out, n + 16 + k.mv_size + v.mv_size);
		assert_non_null(out);
		memcpy(out + n, &k.mv_size, 8);
		memcpy(out + n + 8, k.mv_data, k.mv_size);
		n += 8 + k.mv_size;
		memcpy(out + n, &v.mv_size, 8);
		memcpy(out + n + 8, v.mv_data, v.mv_size);
		n += 8 + v.mv_size;
	}
	mdb_cursor_close(c);
	ldg_read_end(r);
	*len = n;
	return out;
}

/* A ledger with every kind of governance: policies, a window in force
 * and one lifted, proposals pending, effective, withdrawn and stale. */
static void build_gov_ledger(struct fx *f)
{
	struct ldg_signer *d2 = signer("d2");
	struct ldg_err err;
	uint64_t p, w;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, d2, "deployer", "*");
	policy(f, "production/*", 2, 0, NULL);
	policy(f, "*/api", 1, 0, NULL);
	assert_int_equal(freeze_by(f, f->admin, "staging/*", NULL, NULL, "x",
				   &w, &err),
			 0);
	assert_int_equal(freeze_by(f, f->admin, "qa/*", "0 0 * * *", "UTC",
				   "qa", NULL, &err),
			 0);
	assert_int_equal(unfreeze_by(f, f->admin, "staging/*", w, &err), 0);
	p = must_propose(f, f->deployer, "production/web", "v1", 0);
	must_approve(f, d2, p);
	must_approve(f, f->admin, p);
	p = must_propose(f, f->deployer, "production/web", "v2", 0);
	must_propose(f, f->deployer, "production/web", "v3", 0);
	must_approve(f, d2, p);
	p = must_propose(f, f->deployer, "staging/api", "v1", 0);
	assert_int_equal(withdraw(f, f->deployer, p, &err), 0);
	must_propose(f, f->deployer, "staging/api", "v2", 0);
	must_propose(f, d2, "production/api", "v2", 0);
	ldg_signer_free(d2);
}

static void test_reindex_rebuilds_gov(void **state)
{
	struct fx *f = *state;
	uint8_t *gov, *props, *gov2, *props2;
	size_t gl, pl, gl2, pl2;
	struct ldg_err err = { 0 };
	uint64_t count;

	build_gov_ledger(f);
	gov = dump_db(f, DB_GOV, &gl);
	props = dump_db(f, DB_PROPS, &pl);
	assert_true(gl > 0 && pl > 0);
	assert_int_equal(ldg_reindex(f->s, &count, &err), 0);
	assert_int_equal(count, head_of(f, NULL));
	gov2 = dump_db(f, DB_GOV, &gl2);
	props2 = dump_db(f, DB_PROPS, &pl2);
	assert_int_equal(gl2, gl);
	assert_memory_equal(gov2, gov, gl);
	assert_int_equal(pl2, pl);
	assert_memory_equal(props2, props, pl);
	free(gov);
	free(props);
	free(gov2);
	free(props2);
	assert_verify_ok(f);
}

/* An index row changed behind the library's back: verify names it. */
static void test_verify_compares_gov(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	uint8_t key[8];
	uint64_t head;

	build_gov_ledger(f);
	head = head_of(f, NULL);
	ldg_store_close(f->s);
	f->s = NULL;
	/* the governance after the head: nothing pending, say */
	ldg_put_be64(key, head);
	assert_int_equal(rawdb_store(f->dir, "gov", key, 8, "\x93\x90\x90\x90",
				     4),
			 0);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_non_null(strstr(rep.problem, "\"gov\""));
}

/* The ledger as the version before promotion policies left it: no gov
 * and props databases (the index version is the same, 4). */
static void drop_gov_dbs(struct fx *f, bool props)
{
	struct rawdb r;

	ldg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(rawdb_open(f->dir, "gov", false, &r), 0);
	assert_int_equal(mdb_drop(r.txn, r.dbi, 1), 0);
	assert_int_equal(rawdb_close(&r, true), 0);
	if (!props)
		return;
	assert_int_equal(rawdb_open(f->dir, "props", false, &r), 0);
	assert_int_equal(mdb_drop(r.txn, r.dbi, 1), 0);
	assert_int_equal(rawdb_close(&r, true), 0);
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

/* A ledger written before policies: readers read no governance and
 * verify passes, untouched; a refused write leaves the file as it was;
 * the first write that commits adds the databases. */
static void test_ledger_from_before_policies(void **state)
{
	struct fx *f = *state;
	struct ldg_proposal *list, none;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	struct ldg_gov g;
	char *before, *after;
	size_t blen, alen, n;
	uint64_t p;

	build_busy_ledger(f);
	drop_gov_dbs(f, true);
	before = data_file(f, &blen);
	assert_int_equal(ldg_store_open(f->dir, LDG_OPEN_RDONLY, &f->s, &err),
			 0);
	assert_false(ldg_store_stale(f->s));
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	assert_true(ldg_gov_empty(&g));
	ldg_gov_free(&g);
	assert_int_equal(ldg_pending_list(r, NULL, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	assert_int_equal(ldg_proposal_get(r, 3, &none), -ENOENT);
	ldg_read_end(r);
	assert_verify_ok(f);
	ldg_store_close(f->s);
	/* a writer's refused write */
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, &err), 0);
	assert_int_equal(set_flags(f, f->outsider, "production/api",
				   "image.tag", "v2", 0, NULL, &err),
			 -EACCES);
	ldg_store_close(f->s);
	f->s = NULL;
	after = data_file(f, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
	/* the first write adds them; governance works */
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, &err), 0);
	add_key(f, f->outsider, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	p = must_propose(f, f->outsider, "production/api", "v2", 0);
	must_approve(f, f->admin, p);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_verify_ok(f);
}

/* A long-lived reader (the mount, the server) opened on a ledger from
 * before policies sees the governance a writer in another process adds
 * later: its next transaction adopts the new databases. */
static void test_reader_adopts_added_databases(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	struct ldg_gov g;
	int go[2], st;
	pid_t pid;
	char c = 0;

	build_busy_ledger(f);
	drop_gov_dbs(f, true);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ldg_policy pol = { .approvals = 1 };
		struct ldg_result res = { 0 };
		close(go[1]);
		if (read(go[0], &c, 1) != 1 ||
		    ldg_store_open(f->dir, 0, &f->s, &err) ||
		    ldg_policy_set(f->s, f->admin, "production/*", &pol, "p",
				   &res, &err))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	assert_int_equal(ldg_store_open(f->dir, LDG_OPEN_RDONLY, &f->s, &err),
			 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	assert_true(ldg_gov_empty(&g));
	/* the writer adds them while this transaction is open: it goes on
	 * reading them as empty */
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	assert_true(ldg_gov_empty(&g));
	ldg_read_end(r);
	close(go[1]);
	/* the next one sees the policy */
	assert_int_equal(ldg_store_settle(f->s, NULL), 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	assert_int_equal(g.n_pol, 1);
	assert_string_equal(g.pol[0].scope, "production/*");
	ldg_gov_free(&g);
	ldg_read_end(r);
}

/* The gov database of a ledger with governance gone (deleted behind the
 * library's back): verify names the index, a write is refused (its
 * indexes do not match the signed head), reindex rebuilds it. */
static void test_gov_index_deleted(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	struct snap s;
	uint64_t count;

	build_gov_ledger(f);
	drop_gov_dbs(f, false);
	assert_int_equal(ldg_store_open(f->dir, LDG_OPEN_RDONLY, &f->s, NULL),
			 0);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_non_null(strstr(rep.problem, "index \"gov\""));
	ldg_store_close(f->s);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	snap_take(f, &s);
	assert_int_not_equal(set_flags(f, f->admin, "dev/api", "image.tag",
				       "v1", 0, NULL, &err),
			     0);
	assert_non_null(strstr(err.msg, "does not match the signed head"));
	assert_unchanged(f, &s);
	assert_int_equal(ldg_reindex(f->s, &count, &err), 0);
	assert_verify_ok(f);
	must_set(f, "dev/api", "image.tag", "v1");
	assert_verify_ok(f);
}

/* ---- reads ---- */

static void test_pending_list_and_gov_as_of(void **state)
{
	struct fx *f = *state;
	struct ldg_proposal *list, none;
	struct ldg_read *r;
	struct ldg_gov g;
	uint64_t pol, p1, p2, p3, a;
	size_t n;

	add_key(f, f->deployer, "deployer", "*");
	policy(f, "*", 1, 0, NULL);
	pol = head_of(f, NULL);
	p1 = must_propose(f, f->deployer, "production/api", "v1", 0);
	p2 = must_propose(f, f->deployer, "staging/api", "v1", 0);
	p3 = must_propose(f, f->deployer, "production/web", "v1", 0);
	a = must_approve(f, f->admin, p2);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	/* all pending, oldest first; by scope */
	assert_int_equal(ldg_pending_list(r, NULL, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].seq, p1);
	assert_int_equal(list[1].seq, p3);
	assert_string_equal(list[1].target, "production/web");
	assert_int_equal(list[1].status, LDG_PROP_PENDING);
	assert_int_equal(list[1].kind, LDG_KIND_SET);
	for (size_t i = 0; i < n; i++)
		ldg_proposal_free(&list[i]);
	free(list);
	assert_int_equal(ldg_pending_list(r, "production/w*", &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].seq, p3);
	ldg_proposal_free(&list[0]);
	free(list);
	assert_int_equal(ldg_pending_list(r, "qa/*", &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	/* as of a seq: one seek back to the newest row at or before it */
	assert_int_equal(ldg_gov_load(r, pol - 1, &g, NULL), 0);
	assert_true(ldg_gov_empty(&g));
	ldg_gov_free(&g);
	assert_int_equal(ldg_gov_load(r, pol, &g, NULL), 0);
	assert_int_equal(g.n_pol, 1);
	assert_int_equal(g.n_pend, 0);
	ldg_gov_free(&g);
	assert_int_equal(ldg_gov_load(r, p2, &g, NULL), 0);
	assert_int_equal(g.n_pend, 2);
	ldg_gov_free(&g);
	assert_int_equal(ldg_gov_load(r, a, &g, NULL), 0);
	assert_int_equal(g.n_pend, 2);
	assert_int_equal(g.pend[1].seq, p3);
	ldg_gov_free(&g);
	assert_int_equal(ldg_gov_load(r, UINT64_MAX, &g, NULL), 0);
	assert_int_equal(g.n_pend, 2);
	ldg_gov_free(&g);
	/* a seq that is no proposal */
	assert_int_equal(ldg_proposal_get(r, pol, &none), -ENOENT);
	ldg_read_end(r);
	assert_string_equal(ldg_prop_status_name(LDG_PROP_PENDING), "pending");
	assert_string_equal(ldg_prop_status_name(LDG_PROP_EFFECTIVE),
			    "effective");
	assert_string_equal(ldg_prop_status_name(LDG_PROP_WITHDRAWN),
			    "withdrawn");
	assert_string_equal(ldg_prop_status_name(LDG_PROP_STALE), "stale");
}

/* ldg_freeze()'s checks beyond the format, and unfreeze of every window
 * of a scope in one batch. */
static void test_freeze_writer_checks(void **state)
{
	struct fx *f = *state;
	struct ldg_window w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	struct ldg_gov g;
	struct snap s;
	int64_t now = now_s();

	snap_take(f, &s);
	snprintf(w.scope, sizeof(w.scope), "production/*");
	w.from = now - 7200;
	w.until = now - 3600;
	assert_int_equal(ldg_freeze(f->s, f->admin, &w, "past", &res, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "past"));
	memset(&w, 0, sizeof(w));
	snprintf(w.scope, sizeof(w.scope), "production/*");
	snprintf(w.cron, sizeof(w.cron), "0 0 * * *");
	snprintf(w.tz, sizeof(w.tz), "Mars/Olympus_Mons");
	w.duration = 3600;
	assert_int_equal(ldg_freeze(f->s, f->admin, &w, "tz", &res, &err),
			 -ENOENT);
	assert_unchanged(f, &s);
	/* two windows on the scope, one on another: unfreeze 0 lifts the
	 * two */
	assert_int_equal(freeze_by(f, f->admin, "production/*", NULL, NULL, "a",
				   NULL, &err),
			 0);
	assert_int_equal(freeze_by(f, f->admin, "production/*", "0 0 * * *",
				   "UTC", "b", NULL, &err),
			 0);
	assert_int_equal(freeze_by(f, f->admin, "*", NULL, NULL, "c", NULL,
				   &err),
			 0);
	assert_int_equal(ldg_unfreeze(f->s, f->admin, "production/*", 0, "go",
				      &res, &err),
			 0);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.v[0].kind, LDG_KIND_UNFREEZE);
	ldg_result_free(&res);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_gov_load(r, 0, &g, NULL), 0);
	ldg_read_end(r);
	assert_int_equal(g.n_win, 1);
	assert_string_equal(g.win[0].scope, "*");
	ldg_gov_free(&g);
	assert_verify_ok(f);
}

/* What a remote writer builds: an emergency set and its approval, signed
 * elsewhere and appended by the host. */
static void test_remote_emergency(void **state)
{
	struct fx *f = *state;
	struct ldg_signer *d2 = signer("d2");
	struct ldg_kv kv = { .key = "image.tag", .value = "v2" };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_values now;
	struct ldg_read *r;
	uint8_t *buf;
	size_t len;
	uint64_t p;

	add_key(f, f->deployer, "deployer", "*");
	add_key(f, d2, "deployer", "*");
	assert_int_equal(freeze_by(f, f->admin, "production/*", NULL, NULL,
				   "frozen", NULL, &err),
			 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, "production/api", 0, &now), 0);
	ldg_read_end(r);
	assert_int_equal(ldg_draft_set(&now, "production/api", &kv, 1, "fire",
				       NULL, 0, LDG_WRITE_EMERGENCY, &e, &err),
			 0);
	ldg_values_free(&now);
	assert_non_null(ldg_kv_find(e->meta, e->n_meta, "emergency"));
	forge_on_head(f, e, f->deployer, NULL, &buf, &len);
	ldg_entry_free(e);
	assert_int_equal(ldg_append_signed(f->s, buf, len, &res, &err), 0);
	p = last_seq(&res);
	ldg_result_free(&res);
	free(buf);
	assert_int_equal(status_of(f, p), LDG_PROP_PENDING);
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/api", p,
					"ok", &e, &err),
			 0);
	forge_on_head(f, e, d2, NULL, &buf, &len);
	ldg_entry_free(e);
	assert_int_equal(ldg_append_signed(f->s, buf, len, &res, &err), 0);
	ldg_result_free(&res);
	free(buf);
	assert_int_equal(status_of(f, p), LDG_PROP_EFFECTIVE);
	assert_value_at(f, "production/api", "image.tag", 0, "v2");
	assert_verify_ok(f);
	ldg_signer_free(d2);
}

/* ---- verify ---- */

static void test_verify_names_a_forged_self_approval(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_report rep;
	struct ldg_entry *e;
	uint64_t p, seq;

	add_key(f, f->deployer, "deployer", "production/*");
	policy(f, "production/*", 1, 0, NULL);
	p = must_propose(f, f->deployer, "production/api", "v2", 0);
	assert_verify_ok(f);
	/* its author approves it, with a valid signature and commitment:
	 * the library would refuse it, so it is put raw */
	assert_int_equal(ldg_entry_vote(LDG_KIND_APPROVE, "production/api", p,
					"mine is fine", &e, NULL),
			 0);
	seq = put_forged_entry(f, e, f->deployer, NULL);
	ldg_entry_free(e);
	assert_int_equal(verify(f, NULL, 0, &rep), -EBADMSG);
	assert_int_equal(rep.bad_seq, seq);
	assert_non_null(strstr(rep.problem, "may not approve"));
}

static void test_authz_state_items_in_the_store(void **state)
{
	struct fx *f = *state;
	struct ldg_err err;
	struct ldg_authz az;
	uint8_t *buf;
	size_t len;

	for (int step = 0; step < 3; step++) {
		if (step == 1)
			policy(f, "production/*", 1, 0, NULL);
		if (step == 2)
			assert_int_equal(policy_by(f, f->admin, "production/*",
						   NULL, &err),
					 0);
		store_authz(f, &az);
		assert_int_equal(ldg_authz_encode(&az, &buf, &len), 0);
		assert_int_equal(buf[0], step == 1 ? 0x95 : 0x92);
		free(buf);
		ldg_authz_free(&az);
	}
	assert_verify_ok(f);
}

/* ---- what a remote writer plans on its copy (ops.h) ---- */

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
	const struct ldg_kv kv = { .key = "image.tag", .value = (char *)value };
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
	a = applied(f, f->applier, "staging/api", "v2");
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

static void test_draft_vote_is_on_the_proposals_target(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_read *r;
	uint64_t p, plain;

	add_key(f, f->deployer, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	plain = must_set(f, "staging/api", "image.tag", "v1");
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v2", false, &p, &err),
			 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_draft_vote(r, LDG_KIND_WITHDRAW, p, "no", &e,
					&err),
			 0);
	assert_int_equal(e->kind, LDG_KIND_WITHDRAW);
	assert_string_equal(e->target, "production/api");
	assert_string_equal(e->changes[0].key, "proposal");
	ldg_entry_free(e);
	/* a change that took effect at once is no proposal */
	assert_int_equal(ldg_draft_vote(r, LDG_KIND_APPROVE, plain, "ok", &e,
					&err),
			 -EPERM);
	assert_int_equal(err.why, LDG_WHY_NOT_PENDING);
	assert_int_equal(ldg_draft_vote(r, LDG_KIND_APPROVE, p, "", &e, &err),
			 -EINVAL);
	ldg_read_end(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_entry_format),
		T(test_entry_builders),
		T(test_two_eyes),
		T(test_stale_and_withdraw),
		T(test_freeze),
		T(test_who_writes_rules),
		T(test_two_approvals),
		T(test_revoked_approver),
		T(test_stale_by_rollback),
		T(test_withdraw_rules),
		T(test_soak),
		T(test_freeze_cron_emergency_rollback),
		T(test_gated_rollback_with_its_lock),
		T(test_lock_at_enact),
		T(test_skew),
		T(test_reindex_rebuilds_gov),
		T(test_verify_compares_gov),
		T(test_ledger_from_before_policies),
		T(test_reader_adopts_added_databases),
		T(test_gov_index_deleted),
		T(test_verify_names_a_forged_self_approval),
		T(test_authz_state_items_in_the_store),
		T(test_pending_list_and_gov_as_of),
		T(test_freeze_writer_checks),
		T(test_remote_emergency),
		T(test_draft_evidence_of_a_set_and_of_the_enacting_approval),
		T(test_draft_unfreeze_of_one_window_or_all_of_a_scope),
		T(test_draft_vote_is_on_the_proposals_target),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
