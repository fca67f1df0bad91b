/*
 * Unit tests for ledger/gov.c, the governance state as plain data: which
 * policy applies to a target, what a change needs, which approvals
 * count, how each entry changes the state, its encoding (and the strict
 * decoder's refusals), and the authorisation state's two or five items
 * (authz.c). No store: entries are built by hand and applied.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authz.h"
#include "gov.h"
#include "testlib.h"

static const uint8_t ID_A[LDG_KEYID_BYTES] = { 1, 1, 1, 1 };
static const uint8_t ID_B[LDG_KEYID_BYTES] = { 2, 2, 2, 2 };
static const uint8_t ID_C[LDG_KEYID_BYTES] = { 3, 3, 3, 3 };
static const uint8_t ID_D[LDG_KEYID_BYTES] = { 4, 4, 4, 4 };
/* 2026-12-25T00:00:00Z */
#define XMAS_NS (1798156800ull * 1000000000ull)

/* A version 2 entry seq of kind on target signed by id, with changes
 * kv[0..2n) (key, value pairs) and metadata meta[0..2m). */
static struct ldg_entry *ent(enum ldg_kind kind, const char *target,
			     uint64_t seq, const uint8_t *id,
			     const char *const *kv, size_t n,
			     const char *const *meta, size_t m)
{
	struct ldg_entry *e = ldg_entry_new(kind, target, "why");

	assert_non_null(e);
	e->version = LDG_FORMAT_V2;
	e->seq = seq;
	memcpy(e->signer, id, LDG_KEYID_BYTES);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ldg_entry_add_change(e, kv[2 * i],
						      kv[2 * i + 1]),
				 0);
	for (size_t i = 0; i < m; i++)
		assert_int_equal(ldg_entry_add_meta(e, meta[2 * i],
						    meta[2 * i + 1]),
				 0);
	return e;
}

/* Trusted unless among the revoked ids ctx lists (NULL-terminated). */
static bool trusted(void *ctx, const uint8_t id[LDG_KEYID_BYTES])
{
	const uint8_t *const *revoked = ctx;

	for (size_t i = 0; revoked && revoked[i]; i++)
		if (!memcmp(revoked[i], id, LDG_KEYID_BYTES))
			return false;
	return true;
}

/* Applies e to g (consumes e); returns what it did. */
static enum ldg_gov_outcome apply(struct ldg_gov *g, struct ldg_entry *e,
				  void *revoked, size_t *n_stale)
{
	struct ldg_gov_effect fx;

	assert_int_equal(ldg_gov_apply(g, e, trusted, revoked, &fx), 0);
	if (n_stale)
		*n_stale = fx.n_stale;
	ldg_gov_effect_free(&fx);
	ldg_entry_free(e);
	return fx.what;
}

static void add_policy(struct ldg_gov *g, const char *scope, uint64_t seq,
		       const char *approvals, bool gated)
{
	const char *kv[] = { "approvals", approvals, "rollbacks", "gated" };

	assert_int_equal(apply(g,
			       ent(LDG_KIND_POLICY, scope, seq, ID_A, kv,
				   gated ? 2 : 1, NULL, 0),
			       NULL, NULL),
			 LDG_GOV_RULES);
}

static const char *policy_of(const struct ldg_gov *g, const char *target)
{
	const struct ldg_policy *p = ldg_gov_policy_for(g, target);

	return p ? p->scope : NULL;
}

/* ---- which policy ---- */

static void test_most_specific_policy(void **state)
{
	/* the same policies in two orders of writing: the answer is the
	 * scopes', never the order's */
	const char *scopes[] = { "*",
				 "production/*",
				 "production/a*",
				 "production/*i",
				 "production/api",
				 "prod*/api" };
	struct ldg_gov fwd, rev;

	ldg_gov_init(&fwd);
	ldg_gov_init(&rev);
	for (size_t i = 0; i < 6; i++) {
		add_policy(&fwd, scopes[i], 2 + i, "1", false);
		add_policy(&rev, scopes[5 - i], 2 + i, "1", false);
	}
	assert_int_equal(fwd.n_pol, 6);
	for (int pass = 0; pass < 2; pass++) {
		struct ldg_gov *g = pass ? &rev : &fwd;
		/* exact beats every glob, even one with more bytes */
		assert_string_equal(policy_of(g, "production/api"),
				    "production/api");
		/* more literal bytes: the glob on prod.../api (8) loses
		 * to production/a* (12); that one and the one ending in
		 * '*' 'i' tie at 12: the bytewise smaller wins, '*'
		 * (0x2a) before 'a' */
		assert_string_equal(policy_of(g, "production/abi"),
				    "production/*i");
		assert_string_equal(policy_of(g, "production/abc"),
				    "production/a*");
		assert_string_equal(policy_of(g, "production/web"),
				    "production/*");
		assert_string_equal(policy_of(g, "products/api"), "prod*/api");
		assert_string_equal(policy_of(g, "staging/api"), "*");
	}
	ldg_gov_free(&fwd);
	ldg_gov_free(&rev);
	/* no policy matches: none */
	ldg_gov_init(&fwd);
	add_policy(&fwd, "production/*", 2, "1", false);
	assert_null(policy_of(&fwd, "staging/api"));
	ldg_gov_free(&fwd);
}

static void test_policy_replaced_and_cleared(void **state)
{
	const char *kv[] = { "soak", "600", "soak-from", "staging" };
	struct ldg_gov g;
	const struct ldg_policy *p;

	ldg_gov_init(&g);
	add_policy(&g, "production/*", 2, "2", true);
	p = ldg_gov_policy_for(&g, "production/api");
	assert_non_null(p);
	assert_int_equal(p->approvals, 2);
	assert_true(p->gate_rollbacks);
	assert_int_equal(p->seq, 2);
	/* a new policy of the same scope replaces the old one whole */
	apply(&g, ent(LDG_KIND_POLICY, "production/*", 5, ID_A, kv, 2, NULL, 0),
	      NULL, NULL);
	assert_int_equal(g.n_pol, 1);
	p = ldg_gov_policy_for(&g, "production/api");
	assert_int_equal(p->approvals, 0);
	assert_false(p->gate_rollbacks);
	assert_int_equal(p->soak, 600);
	assert_string_equal(p->soak_from, "staging");
	assert_int_equal(p->seq, 5);
	/* no changes: cleared */
	apply(&g,
	      ent(LDG_KIND_POLICY, "production/*", 6, ID_A, NULL, 0, NULL, 0),
	      NULL, NULL);
	assert_int_equal(g.n_pol, 0);
	assert_true(ldg_gov_empty(&g));
	ldg_gov_free(&g);
}

/* ---- need, gated ---- */

static void test_need_and_gated(void **state)
{
	const char *tag[] = { "image.tag", "v2" };
	const char *em[] = { "emergency", "true" };
	const char *rb[] = { "rollback-to", "3" };
	const char *rb_em[] = { "emergency", "true", "rollback-to", "3" };
	const char *xmas_w[] = { "from", "2026-12-24T00:00:00Z", "until",
				 "2026-12-27T00:00:00Z" };
	const char *mars_w[] = { "cron", "0 0 1 1 *", "duration",
				 "60",	 "tz",	      "Mars/Olympus_Mons" };
	const char *soak[] = { "soak", "600", "soak-from", "staging" };
	struct ldg_gov g;
	struct ldg_entry *e;

	ldg_gov_init(&g);
	/* no policy, no window: nothing needed, even by an emergency (a
	 * ledger from before policies may carry that metadata) */
	e = ent(LDG_KIND_SET, "production/api", 9, ID_B, tag, 1, NULL, 0);
	assert_int_equal(ldg_gov_need(&g, e), 0);
	assert_true(ldg_gov_gated(&g, e));
	ldg_entry_free(e);
	e = ent(LDG_KIND_SET, "production/api", 9, ID_B, tag, 1, em, 1);
	assert_int_equal(ldg_gov_need(&g, e), 0);
	/* a window of the target active at the entry's time: one */
	apply(&g,
	      ent(LDG_KIND_FREEZE, "production/*", 2, ID_A, xmas_w, 2, NULL, 0),
	      NULL, NULL);
	e->time_ns = XMAS_NS;
	assert_int_equal(ldg_gov_need(&g, e), 1);
	/* not active then: none */
	e->time_ns = XMAS_NS + 7 * 86400 * 1000000000ull;
	assert_int_equal(ldg_gov_need(&g, e), 0);
	ldg_entry_free(e);
	/* a window that cannot be evaluated here counts as active */
	apply(&g,
	      ent(LDG_KIND_FREEZE, "production/*", 3, ID_A, mars_w, 3, NULL, 0),
	      NULL, NULL);
	e = ent(LDG_KIND_SET, "production/api", 9, ID_B, tag, 1, em, 1);
	e->time_ns = XMAS_NS + 7 * 86400 * 1000000000ull;
	assert_int_equal(ldg_gov_need(&g, e), 1);
	ldg_entry_free(e);
	ldg_gov_free(&g);
	ldg_gov_init(&g);
	/* a policy that asks for no approval (a soak): one */
	apply(&g,
	      ent(LDG_KIND_POLICY, "production/*", 2, ID_A, soak, 2, NULL, 0),
	      NULL, NULL);
	e = ent(LDG_KIND_SET, "production/api", 9, ID_B, tag, 1, em, 1);
	assert_int_equal(ldg_gov_need(&g, e), 1);
	ldg_entry_free(e);
	ldg_gov_free(&g);
	ldg_gov_init(&g);

	add_policy(&g, "production/*", 2, "3", false);
	e = ent(LDG_KIND_SET, "production/api", 9, ID_B, tag, 1, NULL, 0);
	assert_int_equal(ldg_gov_need(&g, e), 3);
	ldg_entry_free(e);
	e = ent(LDG_KIND_UNSET, "production/api", 9, ID_B, tag, 0, NULL, 0);
	assert_int_equal(ldg_entry_add_change(e, "image.tag", NULL), 0);
	assert_int_equal(ldg_gov_need(&g, e), 3);
	assert_true(ldg_gov_gated(&g, e));
	ldg_entry_free(e);
	/* an emergency needs the policy's approvals, not fewer */
	e = ent(LDG_KIND_SET, "production/api", 9, ID_B, tag, 1, em, 1);
	assert_int_equal(ldg_gov_need(&g, e), 3);
	ldg_entry_free(e);
	/* out of the policy's scope */
	e = ent(LDG_KIND_SET, "staging/api", 9, ID_B, tag, 1, NULL, 0);
	assert_int_equal(ldg_gov_need(&g, e), 0);
	ldg_entry_free(e);
	/* a rollback is not gated ... */
	e = ent(LDG_KIND_ROLLBACK, "production/api", 9, ID_B, tag, 1, rb, 1);
	assert_false(ldg_gov_gated(&g, e));
	assert_int_equal(ldg_gov_need(&g, e), 0);
	ldg_entry_free(e);
	e = ent(LDG_KIND_ROLLBACK, "production/api", 9, ID_B, tag, 1, rb_em, 2);
	assert_int_equal(ldg_gov_need(&g, e), 1);
	ldg_entry_free(e);
	/* ... unless the policy says rollbacks=gated */
	add_policy(&g, "production/*", 3, "3", true);
	e = ent(LDG_KIND_ROLLBACK, "production/api", 9, ID_B, tag, 1, rb, 1);
	assert_true(ldg_gov_gated(&g, e));
	assert_int_equal(ldg_gov_need(&g, e), 3);
	ldg_entry_free(e);
	/* lock, unlock, applied: never */
	e = ent(LDG_KIND_LOCK, "production/api", 9, ID_B, NULL, 0, NULL, 0);
	assert_false(ldg_gov_gated(&g, e));
	assert_int_equal(ldg_gov_need(&g, e), 0);
	ldg_entry_free(e);
	e = ent(LDG_KIND_APPLIED, "production/api", 9, ID_B, tag, 1, NULL, 0);
	assert_false(ldg_gov_gated(&g, e));
	assert_int_equal(ldg_gov_need(&g, e), 0);
	ldg_entry_free(e);
	ldg_gov_free(&g);
}

/* ---- proposals ---- */

static void test_count_skips_revoked_approvers(void **state)
{
	uint8_t ids[3][LDG_KEYID_BYTES];
	struct ldg_pending p = { .seq = 7, .need = 3 };
	const uint8_t *revoked_b[] = { ID_B, NULL };
	const uint8_t *revoked_bc[] = { ID_B, ID_C, NULL };

	memcpy(ids[0], ID_B, LDG_KEYID_BYTES);
	memcpy(ids[1], ID_C, LDG_KEYID_BYTES);
	p.approvers = ids;
	p.n_approvers = 2;
	assert_int_equal(ldg_gov_count(&p, trusted, NULL, NULL), 2);
	assert_int_equal(ldg_gov_count(&p, trusted, revoked_b, NULL), 1);
	assert_int_equal(ldg_gov_count(&p, trusted, revoked_bc, NULL), 0);
	/* the key approving now counts once, and not twice */
	assert_int_equal(ldg_gov_count(&p, trusted, revoked_b, ID_D), 2);
	assert_int_equal(ldg_gov_count(&p, trusted, NULL, ID_C), 2);
}

static void test_apply_proposals(void **state)
{
	const char *tag[] = { "image.tag", "v2" };
	const char *tag3[] = { "image.tag", "v3" };
	const char *em[] = { "emergency", "true" };
	const char *forced[] = { "forced", "true" };
	const char *p3[] = { "proposal", "3" };
	const char *p4[] = { "proposal", "4" };
	const char *p6[] = { "proposal", "6" };
	const uint8_t *revoked_c[] = { ID_C, NULL };
	struct ldg_gov_effect fx;
	struct ldg_gov g;
	struct ldg_entry *e;
	size_t stale;

	ldg_gov_init(&g);
	add_policy(&g, "production/*", 2, "2", false);
	/* 3 and 4 proposed on production/api; 5 on production/web */
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_SET, "production/api", 3, ID_B, tag,
				   1, forced, 1),
			       NULL, NULL),
			 LDG_GOV_PROPOSED);
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_SET, "production/api", 4, ID_B,
				   tag3, 1, em, 1),
			       NULL, NULL),
			 LDG_GOV_PROPOSED);
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_SET, "production/web", 5, ID_B, tag,
				   1, NULL, 0),
			       NULL, NULL),
			 LDG_GOV_PROPOSED);
	assert_int_equal(g.n_pend, 3);
	assert_int_equal(g.pend[0].flags, LDG_PEND_FORCED);
	assert_int_equal(g.pend[1].flags, LDG_PEND_EMERGENCY);
	assert_int_equal(g.pend[0].need, 2);
	assert_memory_equal(g.pend[0].author, ID_B, LDG_KEYID_BYTES);
	/* one approval of 3: counted */
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_APPROVE, "production/api", 6, ID_C,
				   p3, 1, NULL, 0),
			       NULL, NULL),
			 LDG_GOV_APPROVED);
	assert_int_equal(g.pend[0].n_approvers, 1);
	/* C revoked: D's approval is the only one that counts */
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_APPROVE, "production/api", 7, ID_D,
				   p3, 1, NULL, 0),
			       revoked_c, NULL),
			 LDG_GOV_APPROVED);
	assert_int_equal(g.pend[0].n_approvers, 2);
	/* A's makes two that count: 3 takes effect, 4 is stale, 5 (another
	 * target) waits on */
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_APPROVE, "production/api", 8, ID_A,
				   p3, 1, NULL, 0),
			       revoked_c, &stale),
			 LDG_GOV_ENACTED);
	assert_int_equal(stale, 1);
	assert_int_equal(g.n_pend, 1);
	assert_int_equal(g.pend[0].seq, 5);
	/* an approval of a proposal no longer pending, or on another
	 * target, is no state change the rules allow */
	e = ent(LDG_KIND_APPROVE, "production/api", 9, ID_A, p4, 1, NULL, 0);
	assert_int_equal(ldg_gov_apply(&g, e, trusted, NULL, &fx), -ENOENT);
	ldg_gov_effect_free(&fx);
	ldg_entry_free(e);
	e = ent(LDG_KIND_WITHDRAW, "production/api", 9, ID_B, p6, 1, NULL, 0);
	assert_int_equal(ldg_gov_apply(&g, e, trusted, NULL, &fx), -ENOENT);
	ldg_gov_effect_free(&fx);
	ldg_entry_free(e);
	/* withdrawn */
	e = ent(LDG_KIND_WITHDRAW, "production/web", 9, ID_B, NULL, 0, NULL, 0);
	assert_int_equal(ldg_entry_add_change(e, "proposal", "5"), 0);
	assert_int_equal(apply(&g, e, NULL, NULL), LDG_GOV_WITHDRAWN);
	assert_int_equal(g.n_pend, 0);
	/* a change out of every policy's scope takes effect */
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_SET, "staging/api", 10, ID_B, tag,
				   1, NULL, 0),
			       NULL, NULL),
			 LDG_GOV_EFFECTIVE);
	/* a lock is no governance business */
	assert_int_equal(apply(&g,
			       ent(LDG_KIND_LOCK, "production/api", 11, ID_B,
				   NULL, 0, NULL, 0),
			       NULL, NULL),
			 LDG_GOV_NONE);
	ldg_gov_free(&g);
}

static void test_windows(void **state)
{
	const char *abs_w[] = { "from", "2026-12-24T00:00:00Z", "until",
				"2026-12-27T00:00:00Z" };
	const char *cron_w[] = { "cron",  "0 0 * * *", "duration",
				 "86400", "tz",	       "UTC" };
	const char *unf[] = { "window", "2" };
	const int64_t xmas = 1798156800; /* 2026-12-25T00:00:00Z */
	struct ldg_err err = { 0 };
	struct ldg_gov_effect fx;
	struct ldg_entry *e;
	struct ldg_gov g;
	int64_t end;
	bool active;

	ldg_gov_init(&g);
	apply(&g,
	      ent(LDG_KIND_FREEZE, "production/*", 2, ID_A, abs_w, 2, NULL, 0),
	      NULL, NULL);
	apply(&g,
	      ent(LDG_KIND_FREEZE, "staging/*", 3, ID_A, cron_w, 3, NULL, 0),
	      NULL, NULL);
	assert_int_equal(g.n_win, 2);
	assert_int_equal(g.win[0].from, xmas - 86400);
	assert_int_equal(g.win[0].until, xmas + 2 * 86400);
	assert_int_equal(ldg_gov_window_active(&g.win[0], xmas, &active, &end,
					       &err),
			 0);
	assert_true(active);
	assert_int_equal(end, xmas + 2 * 86400);
	/* until is not inside */
	assert_int_equal(ldg_gov_window_active(&g.win[0], xmas + 2 * 86400,
					       &active, &end, &err),
			 0);
	assert_false(active);
	/* every day for a day: always */
	assert_int_equal(ldg_gov_window_active(&g.win[1], xmas + 12345, &active,
					       &end, &err),
			 0);
	assert_true(active);
	assert_string_equal(g.win[1].tz, "UTC");
	/* unfreeze: only the window's own scope */
	e = ent(LDG_KIND_UNFREEZE, "production/api", 4, ID_A, unf, 1, NULL, 0);
	assert_int_equal(ldg_gov_apply(&g, e, trusted, NULL, &fx), -ENOENT);
	ldg_gov_effect_free(&fx);
	ldg_entry_free(e);
	apply(&g,
	      ent(LDG_KIND_UNFREEZE, "production/*", 4, ID_A, unf, 1, NULL, 0),
	      NULL, NULL);
	assert_int_equal(g.n_win, 1);
	assert_int_equal(g.win[0].seq, 3);
	ldg_gov_free(&g);
}

/* ---- encoding ---- */

/* g's three arrays, framed as the gov database frames them. */
static void pack3(const struct ldg_gov *g, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	ldg_gov_pack(g, &pk);
}

static int unpack3(const void *buf, size_t len, struct ldg_gov *out)
{
	msgpack_unpacked res;
	size_t off = 0;
	int rc = -EBADMSG;

	msgpack_unpacked_init(&res);
	if (msgpack_unpack_next(&res, buf, len, &off) ==
		    MSGPACK_UNPACK_SUCCESS &&
	    res.data.type == MSGPACK_OBJECT_ARRAY &&
	    res.data.via.array.size == 3)
		rc = ldg_gov_unpack(&res.data.via.array.ptr[0],
				    &res.data.via.array.ptr[1],
				    &res.data.via.array.ptr[2], out);
	msgpack_unpacked_destroy(&res);
	return rc;
}

/* A governance state with something in every field. */
static void busy_gov(struct ldg_gov *g)
{
	const char *soak[] = { "approvals", "2",	 "soak",
			       "1800",	    "soak-from", "staging" };
	const char *abs_w[] = { "from", "2026-12-24T00:00:00Z", "until",
				"2026-12-27T00:00:00Z" };
	const char *cron_w[] = { "cron",   "0 22 * * 5", "duration",
				 "216000", "tz",	 "Europe/Berlin" };
	const char *tag[] = { "image.tag", "v2" };
	const char *em[] = { "emergency", "true", "forced", "true" };
	const char *p6[] = { "proposal", "6" };

	ldg_gov_init(g);
	apply(g,
	      ent(LDG_KIND_POLICY, "production/*", 2, ID_A, soak, 3, NULL, 0),
	      NULL, NULL);
	add_policy(g, "*", 3, "1", true);
	apply(g,
	      ent(LDG_KIND_FREEZE, "production/*", 4, ID_A, abs_w, 2, NULL, 0),
	      NULL, NULL);
	apply(g, ent(LDG_KIND_FREEZE, "*", 5, ID_A, cron_w, 3, NULL, 0), NULL,
	      NULL);
	apply(g, ent(LDG_KIND_SET, "production/api", 6, ID_B, tag, 1, em, 2),
	      NULL, NULL);
	apply(g, ent(LDG_KIND_SET, "production/web", 7, ID_B, tag, 1, NULL, 0),
	      NULL, NULL);
	apply(g,
	      ent(LDG_KIND_APPROVE, "production/api", 8, ID_C, p6, 1, NULL, 0),
	      NULL, NULL);
	assert_int_equal(g->n_pol, 2);
	assert_int_equal(g->n_win, 2);
	assert_int_equal(g->n_pend, 2);
}

static void test_pack_round_trip(void **state)
{
	msgpack_sbuffer a, b;
	struct ldg_gov g, back, copy;

	busy_gov(&g);
	pack3(&g, &a);
	assert_int_equal(unpack3(a.data, a.size, &back), 0);
	assert_int_equal(back.n_pol, 2);
	assert_string_equal(back.pol[0].scope, "*");
	assert_true(back.pol[0].gate_rollbacks);
	assert_int_equal(back.pol[1].soak, 1800);
	assert_string_equal(back.pol[1].soak_from, "staging");
	assert_string_equal(back.win[1].cron, "0 22 * * 5");
	assert_string_equal(back.win[1].tz, "Europe/Berlin");
	assert_int_equal(back.pend[0].flags,
			 LDG_PEND_EMERGENCY | LDG_PEND_FORCED);
	assert_int_equal(back.pend[0].n_approvers, 1);
	assert_memory_equal(back.pend[0].approvers[0], ID_C, LDG_KEYID_BYTES);
	pack3(&back, &b);
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.data, b.data, a.size);
	msgpack_sbuffer_destroy(&b);
	/* a copy packs the same */
	assert_int_equal(ldg_gov_copy(&copy, &g), 0);
	pack3(&copy, &b);
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.data, b.data, a.size);
	msgpack_sbuffer_destroy(&b);
	msgpack_sbuffer_destroy(&a);
	ldg_gov_free(&copy);
	ldg_gov_free(&back);
	ldg_gov_free(&g);
}

static void policy_row(struct mp *m, const char *scope, uint64_t approvals,
		       size_t fields)
{
	mp_array(m, fields);
	mp_str(m, scope);
	mp_uint(m, 2);
	mp_uint(m, approvals);
	mp_uint(m, 0);
	mp_uint(m, 0);
	if (fields > 5)
		mp_str(m, "");
}

static void pending_row(struct mp *m, uint64_t seq, const uint8_t *author,
			size_t id_len, uint64_t flags)
{
	mp_array(m, 6);
	mp_uint(m, seq);
	mp_str(m, "production/api");
	mp_bin(m, author, id_len);
	mp_uint(m, 1);
	mp_uint(m, flags);
	mp_array(m, 1);
	mp_bin(m, ID_C, LDG_KEYID_BYTES);
}

enum bad_case {
	GOOD,
	POL_UNSORTED,
	POL_SHORT_ROW,
	POL_APPROVALS_17,
	WIN_UNSORTED,
	PEND_UNSORTED,
	PEND_SHORT_ID,
	PEND_FLAGS_4,
	NOT_ARRAY,
};

/* The three arrays by hand, canonical but for the case asked. */
static void hand_gov(struct mp *m, enum bad_case c)
{
	mp_array(m, 3);
	mp_array(m, 2);
	policy_row(m, c == POL_UNSORTED ? "staging/*" : "production/*",
		   c == POL_APPROVALS_17 ? 17 : 16, c == POL_SHORT_ROW ? 5 : 6);
	policy_row(m, c == POL_UNSORTED ? "production/*" : "staging/*", 1, 6);
	if (c == NOT_ARRAY) {
		mp_uint(m, 0);
	} else {
		mp_array(m, 2);
		for (int i = 0; i < 2; i++) {
			mp_array(m, 7);
			mp_uint(m, c == WIN_UNSORTED ? 5 - i : 4 + i);
			mp_str(m, "*");
			mp_uint(m, 1798070400);
			mp_uint(m, 1798329600);
			mp_str(m, "");
			mp_uint(m, 0);
			mp_str(m, "");
		}
	}
	mp_array(m, 2);
	pending_row(m, c == PEND_UNSORTED ? 9 : 6, ID_B, LDG_KEYID_BYTES, 0);
	pending_row(m, 7, ID_B, c == PEND_SHORT_ID ? 3 : LDG_KEYID_BYTES,
		    c == PEND_FLAGS_4 ? 4 : 3);
}

static void test_unpack_refuses_non_canonical(void **state)
{
	static const enum bad_case bad[] = {
		POL_UNSORTED,  POL_SHORT_ROW, POL_APPROVALS_17, WIN_UNSORTED,
		PEND_UNSORTED, PEND_SHORT_ID, PEND_FLAGS_4,	NOT_ARRAY,
	};
	msgpack_sbuffer sb;
	struct ldg_gov g;
	struct mp m;

	mp_init(&m);
	hand_gov(&m, GOOD);
	assert_int_equal(unpack3(m.p, m.n, &g), 0);
	assert_int_equal(g.n_pol, 2);
	assert_int_equal(g.pol[0].approvals, 16);
	assert_int_equal(g.n_win, 2);
	assert_int_equal(g.n_pend, 2);
	assert_int_equal(g.pend[1].flags, 3);
	/* and it is what the packer writes */
	pack3(&g, &sb);
	assert_int_equal(sb.size, m.n);
	assert_memory_equal(sb.data, m.p, m.n);
	msgpack_sbuffer_destroy(&sb);
	ldg_gov_free(&g);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mp_reset(&m);
		hand_gov(&m, bad[i]);
		if (unpack3(m.p, m.n, &g) != -EBADMSG)
			fail_msg("case %zu decoded", i);
		assert_int_equal(g.n_pol, 0);
		assert_null(g.pend);
	}
	mp_free(&m);
}

/* ---- the authorisation state's items ---- */

/* The first byte of a's encoded state: fixarray(2) or fixarray(5). */
static uint8_t state_header(const struct ldg_authz *a)
{
	struct ldg_authz back;
	uint8_t *buf, first;
	size_t len;

	assert_int_equal(ldg_authz_encode(a, &buf, &len), 0);
	first = buf[0];
	/* and the decoder takes its own encoding back */
	assert_int_equal(ldg_authz_decode(buf, len, &back, NULL), 0);
	assert_int_equal(back.gov.n_pol, a->gov.n_pol);
	assert_int_equal(back.gov.n_win, a->gov.n_win);
	assert_int_equal(back.gov.n_pend, a->gov.n_pend);
	ldg_authz_free(&back);
	free(buf);
	return first;
}

static void authz_apply(struct ldg_authz *a, struct ldg_entry *e)
{
	assert_int_equal(ldg_authz_apply(a, e), 0);
	ldg_entry_free(e);
}

static void test_authz_state_two_or_five_items(void **state)
{
	const char *one[] = { "approvals", "1" };
	const char *tag[] = { "image.tag", "v2" };
	const char *p3[] = { "proposal", "3" };
	uint8_t before[LDG_HASH_BYTES], after[LDG_HASH_BYTES];
	struct ldg_authz a;

	ldg_authz_init(&a);
	assert_int_equal(state_header(&a), 0x92);
	/* a change with no governance leaves the state, and its hash */
	assert_int_equal(ldg_authz_commit(&a, before), 0);
	authz_apply(&a, ent(LDG_KIND_SET, "production/api", 2, ID_B, tag, 1,
			    NULL, 0));
	assert_int_equal(ldg_authz_commit(&a, after), 0);
	assert_memory_equal(before, after, LDG_HASH_BYTES);
	assert_int_equal(state_header(&a), 0x92);
	/* a policy: five items */
	authz_apply(&a, ent(LDG_KIND_POLICY, "production/*", 2, ID_A, one, 1,
			    NULL, 0));
	assert_int_equal(state_header(&a), 0x95);
	assert_int_equal(ldg_authz_commit(&a, after), 0);
	assert_memory_not_equal(before, after, LDG_HASH_BYTES);
	/* a proposal pending: still five with the policy cleared */
	authz_apply(&a, ent(LDG_KIND_SET, "production/api", 3, ID_B, tag, 1,
			    NULL, 0));
	authz_apply(&a, ent(LDG_KIND_POLICY, "production/*", 4, ID_A, NULL, 0,
			    NULL, 0));
	assert_int_equal(a.gov.n_pend, 1);
	assert_int_equal(state_header(&a), 0x95);
	/* withdrawn: empty again, two items, the first state's hash */
	authz_apply(&a, ent(LDG_KIND_WITHDRAW, "production/api", 5, ID_B, p3, 1,
			    NULL, 0));
	assert_int_equal(state_header(&a), 0x92);
	assert_int_equal(ldg_authz_commit(&a, after), 0);
	assert_memory_equal(before, after, LDG_HASH_BYTES);
	ldg_authz_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_most_specific_policy),
		cmocka_unit_test(test_policy_replaced_and_cleared),
		cmocka_unit_test(test_need_and_gated),
		cmocka_unit_test(test_count_skips_revoked_approvers),
		cmocka_unit_test(test_apply_proposals),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_pack_round_trip),
		cmocka_unit_test(test_unpack_refuses_non_canonical),
		cmocka_unit_test(test_authz_state_two_or_five_items),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
