/*
 * Unit tests for render/render.c: each JSON shape (docs/api.md) and the
 * values YAML against the whole document expected from a small ledger,
 * byte for byte. What the ledger cannot fix in advance (times, hashes,
 * signatures, key ids) is read back from it and put into the expected
 * text; every member, its order, its type and the indentation are fixed
 * here.
 *
 * The ledger (one per test: fixture.h's, then these entries):
 *   1 init (admin)
 *   2 key-add deployer, scope "staging/" + "*"
 *   3 key-add applier, scope "*"
 *   4 set staging/api image.tag=v1 replicas=2, metadata pr=1 (deployer)
 *   5 unset staging/api replicas (deployer)
 *   6 applied staging/api, desired-seq 5 (applier)
 *   7 set staging/web image.tag=w1 (admin)
 *   8 lock staging/web "freeze" (admin)
 *   9 key-revoke deployer (admin)
 * and the tests of promotion policies another (gov_setup, below).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "render.h"

/* A read of the fixture's ledger, begun by setup, ended by teardown. */
static struct ldg_read *R;

/* The facts of entry seq that the test cannot choose. */
struct facts {
	char hash[2 * LDG_HASH_BYTES + 1], prev[2 * LDG_HASH_BYTES + 1];
	char sig[2 * LDG_SIG_BYTES + 1], time[40];
	unsigned long long time_ns;
};

static void facts_of(struct ldg_read *r, uint64_t seq, struct facts *f)
{
	uint8_t hash[LDG_HASH_BYTES];
	struct ldg_entry *e;

	assert_int_equal(ldg_entry_read(r, seq, &e, NULL), 0);
	assert_int_equal(ldg_entry_hash_at(r, seq, hash), 0);
	ldg_hex(hash, LDG_HASH_BYTES, f->hash);
	ldg_hex(e->prev, LDG_HASH_BYTES, f->prev);
	ldg_hex(e->sig, LDG_SIG_BYTES, f->sig);
	ldg_time_iso(e->time_ns, f->time, sizeof(f->time));
	f->time_ns = (unsigned long long)e->time_ns;
	ldg_entry_free(e);
}

static const char *keyid_of(const struct ldg_signer *k, char out[9])
{
	ldg_hex(ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES, out);
	return out;
}

/* printf into a malloc'd string */
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	assert_true(vasprintf(&s, f, ap) >= 0);
	va_end(ap);
	return s;
}

/* Serialises j as the front ends do and compares with want; frees both. */
static void assert_json(json_t *j, char *want)
{
	char *out;
	size_t len;

	assert_non_null(j);
	assert_int_equal(rnd_json_out(j, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void ok_or_die(int rc, const struct ldg_err *err, const char *what)
{
	if (rc)
		fail_msg("%s: %s", what, err->msg);
}

static int setup(void **state)
{
	const struct ldg_kv set1[] = { { .key = "image.tag", .value = "v1" },
				       { .key = "replicas", .value = "2" } };
	const struct ldg_kv meta1[] = { { .key = "pr", .value = "1" } };
	const struct ldg_kv set2[] = { { .key = "image.tag", .value = "w1" } };
	const char *unset1[] = { "replicas" };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	struct fx *f;

	if (fx_setup(state))
		return -1;
	f = *state;
	add_key(f, f->deployer, "deployer", "staging/*");
	add_key(f, f->applier, "applier", "*");
	ok_or_die(ldg_set(f->s, f->deployer, "staging/api", set1, 2, "PR #1",
			  meta1, 1, false, &res, &err),
		  &err, "set");
	ok_or_die(ldg_unset(f->s, f->deployer, "staging/api", unset1, 1, "drop",
			    NULL, 0, false, &res, &err),
		  &err, "unset");
	e = ldg_entry_new(LDG_KIND_APPLIED, "staging/api", "applied");
	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "v1"), 0);
	assert_int_equal(ldg_entry_add_meta(e, "desired-seq", "5"), 0);
	ok_or_die(ldg_append(f->s, f->applier, e, &res, &err), &err, "applied");
	ldg_entry_free(e);
	ok_or_die(ldg_set(f->s, f->admin, "staging/web", set2, 1, "web", NULL,
			  0, false, &res, &err),
		  &err, "set web");
	ok_or_die(ldg_lock(f->s, f->admin, "staging/web", "freeze", true, &res,
			   &err),
		  &err, "lock");
	ok_or_die(ldg_key_revoke(f->s, f->admin, "deployer", "rotated", &res,
				 &err),
		  &err, "revoke");
	ldg_result_free(&res);
	ok_or_die(ldg_read_begin(f->s, &R, &err), &err, "read");
	return 0;
}

static int teardown(void **state)
{
	ldg_read_end(R);
	R = NULL;
	return fx_teardown(state);
}

/* ---- entries ---- */

static void test_render_show_json_is_the_documented_entry(void **state)
{
	struct fx *f = *state;
	struct facts e4;
	char id[9], *out;
	size_t len;

	facts_of(R, 4, &e4);
	assert_int_equal(rnd_show(R, 4, true, &out, &len, NULL), 0);
	assert_int_equal(len, strlen(out));
	char *want = fmt("{\n"
			 "  \"seq\": 4,\n"
			 "  \"hash\": \"%s\",\n"
			 "  \"prev\": \"%s\",\n"
			 "  \"time\": \"%s\",\n"
			 "  \"time_ns\": %llu,\n"
			 "  \"signer\": {\n"
			 "    \"name\": \"deployer\",\n"
			 "    \"keyid\": \"%s\"\n"
			 "  },\n"
			 "  \"kind\": \"set\",\n"
			 "  \"target\": \"staging/api\",\n"
			 "  \"changes\": [\n"
			 "    {\n"
			 "      \"key\": \"image.tag\",\n"
			 "      \"value\": \"v1\"\n"
			 "    },\n"
			 "    {\n"
			 "      \"key\": \"replicas\",\n"
			 "      \"value\": \"2\"\n"
			 "    }\n"
			 "  ],\n"
			 "  \"reason\": \"PR #1\",\n"
			 "  \"metadata\": {\n"
			 "    \"pr\": \"1\"\n"
			 "  },\n"
			 "  \"signature\": \"%s\"\n"
			 "}\n",
			 e4.hash, e4.prev, e4.time, e4.time_ns,
			 keyid_of(f->deployer, id), e4.sig);
	assert_string_equal(out, want);
	free(want);
	free(out);
}

static void test_render_entry_json_marks_an_unset_key(void **state)
{
	json_t *j, *c;

	assert_int_equal(rnd_entry_json_at(R, 5, &j, NULL), 0);
	c = json_array_get(json_object_get(j, "changes"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "key")),
			    "replicas");
	assert_true(json_is_true(json_object_get(c, "unset")));
	assert_null(json_object_get(c, "value"));
	assert_int_equal(json_object_size(c), 2);
	json_decref(j);
}

static void test_render_entry_json_at_refuses_a_seq_past_the_head(void **state)
{
	struct ldg_err err = { 0 };
	json_t *j = NULL;

	assert_int_equal(rnd_entry_json_at(R, 10, &j, &err), -ENOENT);
	assert_null(j);
	assert_true(err.msg[0] != '\0');
}

/* history and log are arrays of the entries' own objects */
static void test_render_history_json_is_an_array_of_entries(void **state)
{
	const uint64_t want[] = { 4, 5, 6 };
	json_t *arr, *one;
	char *out;
	size_t len;

	assert_int_equal(rnd_history(R, "staging/api", 0, true, &out, &len,
				     NULL),
			 0);
	arr = json_loads(out, 0, NULL);
	free(out);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(rnd_entry_json_at(R, want[i], &one, NULL), 0);
		assert_true(json_equal(json_array_get(arr, i), one));
		json_decref(one);
	}
	json_decref(arr);
}

/* ---- keys ---- */

static char *key_doc(const struct ldg_signer *k, const char *indent,
		     const char *role, const char *scopes, int added,
		     const char *revoked)
{
	const char *i = indent;
	char id[9], vk[LDG_VKEY_TEXT_MAX];

	ldg_vkey_format(ldg_signer_vkey(k), vk);
	return fmt("%s{\n"
		   "%s  \"name\": \"%s\",\n"
		   "%s  \"keyid\": \"%s\",\n"
		   "%s  \"vkey\": \"%s\",\n"
		   "%s  \"role\": \"%s\",\n"
		   "%s  \"scopes\": \"%s\",\n"
		   "%s  \"added_seq\": %d,\n"
		   "%s  \"revoked_seq\": %s\n"
		   "%s}",
		   i, i, ldg_signer_vkey(k)->name, i, keyid_of(k, id), i, vk, i,
		   role, i, scopes, i, added, i, revoked, i);
}

static void test_render_keyring_lists_every_key_with_its_seqs(void **state)
{
	struct fx *f = *state;
	char *a = key_doc(f->admin, "  ", "admin", "*", 1, "null");
	char *b = key_doc(f->applier, "  ", "applier", "*", 3, "null");
	char *c = key_doc(f->deployer, "  ", "deployer", "staging/*", 2, "9");
	json_t *ring;

	assert_int_equal(rnd_keyring_json(R, &ring, NULL), 0);
	assert_json(ring, fmt("[\n%s,\n%s,\n%s\n]\n", a, b, c));
	free(a);
	free(b);
	free(c);
}

static void test_render_entry_proof_names_the_keyring_row(void **state)
{
	struct fx *f = *state;
	struct ldg_entry_proof pr;
	struct facts e4;
	char *key;

	facts_of(R, 4, &e4);
	assert_int_equal(ldg_entry_prove(R, 4, &pr, NULL), 0);
	/* the keyring's own row, one level deeper */
	key = key_doc(f->deployer, "  ", "deployer", "staging/*", 2, "9");
	assert_json(rnd_entry_proof_json(4, &pr), fmt("{\n"
						      "  \"seq\": 4,\n"
						      "  \"hash\": \"%s\",\n"
						      "  \"signature\": {\n"
						      "    \"ok\": true,\n"
						      "    \"problem\": null\n"
						      "  },\n"
						      "  \"signer_key\": {\n"
						      "    \"ok\": true,\n"
						      "    \"problem\": null\n"
						      "  },\n"
						      "  \"key\": %s,\n"
						      "  \"chain\": {\n"
						      "    \"prev_ok\": true,\n"
						      "    \"next_ok\": true\n"
						      "  }\n"
						      "}\n",
						      e4.hash, key + 2));
	free(key);
}

static void test_render_entry_proof_without_a_key(void **state)
{
	struct ldg_entry_proof pr = {
		.sig_problem = "the signer is not in the keyring",
		.prev_ok = false,
		.next_ok = -1,
	};

	memset(pr.hash, 0xab, sizeof(pr.hash));
	assert_json(rnd_entry_proof_json(7, &pr),
		    fmt("{\n"
			"  \"seq\": 7,\n"
			"  \"hash\": \"%s\",\n"
			"  \"signature\": {\n"
			"    \"ok\": false,\n"
			"    \"problem\": \"the signer is not in the keyring\"\n"
			"  },\n"
			"  \"signer_key\": {\n"
			"    \"ok\": false,\n"
			"    \"problem\": \"the signer is not in the keyring\"\n"
			"  },\n"
			"  \"key\": null,\n"
			"  \"chain\": {\n"
			"    \"prev_ok\": false,\n"
			"    \"next_ok\": null\n"
			"  }\n"
			"}\n",
			"abababababababababababababababab"
			"abababababababababababababababab"));
}

/* ---- verify ---- */

static void test_render_verify_report_of_a_ledger_that_holds(void **state)
{
	struct fx *f = *state;
	struct ldg_verify_opts vo = { .threads = 1 };
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	uint8_t root[LDG_HASH_BYTES];
	char rh[2 * LDG_HASH_BYTES + 1];
	struct facts e9;
	int vrc;

	facts_of(R, 9, &e9);
	assert_int_equal(ldg_merkle_root_at(R, 9, root), 0);
	ldg_hex(root, LDG_HASH_BYTES, rh);
	/* the check reads in its own transactions */
	ldg_read_end(R);
	vrc = ldg_verify(f->s, &vo, &rep, &err);
	assert_int_equal(ldg_read_begin(f->s, &R, NULL), 0);
	if (vrc)
		fail_msg("verify: %s", err.msg);
	assert_json(rnd_verify_json(&rep, vrc),
		    fmt("{\n"
			"  \"ok\": true,\n"
			"  \"entries\": 9,\n"
			"  \"head\": 9,\n"
			"  \"hash\": \"%s\",\n"
			"  \"root\": \"%s\",\n"
			"  \"origin\": \"" ORIGIN "\",\n"
			"  \"policies\": {\n"
			"    \"proposals\": %d,\n"
			"    \"enacted\": %d,\n"
			"    \"emergencies\": %d,\n"
			"    \"emergency_seqs\": [%s]\n"
			"  }\n"
			"}\n",
			e9.hash, rh, 0, 0, 0, ""));
}

static void test_render_verify_report_names_the_bad_seq(void **state)
{
	struct ldg_verify_report rep = {
		.entries = 3,
		.head = 12,
		.origin = ORIGIN,
		.emergencies = 1,
		.emergency_seq = { 2 },
		.bad_seq = 4,
		.bad_checkpoint = -1,
		.problem = "the signature does not verify",
	};
	const char *z64 =
		"0000000000000000000000000000000000000000000000000000000000000000";

	assert_json(rnd_verify_json(&rep, -EBADMSG),
		    fmt("{\n"
			"  \"ok\": false,\n"
			"  \"entries\": 3,\n"
			"  \"head\": 12,\n"
			"  \"hash\": \"%s\",\n"
			"  \"root\": \"%s\",\n"
			"  \"origin\": \"" ORIGIN "\",\n"
			"  \"policies\": {\n"
			"    \"proposals\": %d,\n"
			"    \"enacted\": %d,\n"
			"    \"emergencies\": %d,\n"
			"    \"emergency_seqs\": [%s]\n"
			"  },\n"
			"  \"bad_seq\": 4,\n"
			"  \"problem\": \"the signature does not verify\"\n"
			"}\n",
			z64, z64, 0, 0, 1, "\n      2\n    "));
	/* an index at fault: no seq to name */
	rep.bad_seq = 0;
	json_t *j = rnd_verify_json(&rep, -EBADMSG);
	assert_true(json_is_null(json_object_get(j, "bad_seq")));
	json_decref(j);
}

/* `verify --witness-policy`'s "cosignatures": per checkpoint file, the
 * quorum, whether it was met and every witness of the policy in order
 * (a cosigner key of transparency-dev/formats' tests) */
static void test_render_verify_cosignatures(void **state)
{
	static const char remora[] =
		"remora.n621.de+da77ade7+"
		"BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
	struct ldg_trust_report reps[2] = {
		{ .quorum = "q", .met = true, .n = 2 },
		{ .quorum = "q", .met = false, .n = 2 },
	};
	const char *files[2] = { "a.cp", "b.cp" };
	json_t *j = json_object();

	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++)
			assert_int_equal(ldg_cosigner_parse(remora,
							    &reps[i].w[k].key,
							    NULL),
					 0);
		snprintf(reps[i].w[0].name, sizeof(reps[i].w[0].name), "w1");
		snprintf(reps[i].w[1].name, sizeof(reps[i].w[1].name), "w2");
	}
	reps[0].w[0].seen = LDG_COSIG_OK;
	reps[0].w[0].time = 1700000000;
	reps[1].w[1].seen = LDG_COSIG_BAD;
	assert_int_equal(rnd_verify_cosig(j, files, reps, 2), 0);
	assert_json(j, fmt("{\n"
			   "  \"cosignatures\": [\n"
			   "    {\n"
			   "      \"checkpoint\": \"a.cp\",\n"
			   "      \"quorum\": \"q\",\n"
			   "      \"met\": true,\n"
			   "      \"witnesses\": [\n"
			   "        {\n"
			   "          \"name\": \"w1\",\n"
			   "          \"key\": \"%s\",\n"
			   "          \"status\": \"cosigned\",\n"
			   "          \"time\": 1700000000\n"
			   "        },\n"
			   "        {\n"
			   "          \"name\": \"w2\",\n"
			   "          \"key\": \"%s\",\n"
			   "          \"status\": \"absent\",\n"
			   "          \"time\": null\n"
			   "        }\n"
			   "      ]\n"
			   "    },\n"
			   "    {\n"
			   "      \"checkpoint\": \"b.cp\",\n"
			   "      \"quorum\": \"q\",\n"
			   "      \"met\": false,\n"
			   "      \"witnesses\": [\n"
			   "        {\n"
			   "          \"name\": \"w1\",\n"
			   "          \"key\": \"%s\",\n"
			   "          \"status\": \"absent\",\n"
			   "          \"time\": null\n"
			   "        },\n"
			   "        {\n"
			   "          \"name\": \"w2\",\n"
			   "          \"key\": \"%s\",\n"
			   "          \"status\": \"bad\",\n"
			   "          \"time\": null\n"
			   "        }\n"
			   "      ]\n"
			   "    }\n"
			   "  ]\n"
			   "}\n",
			   remora, remora, remora, remora));
}

/* ---- state, releases, diff, get ---- */

static void test_render_state_json_with_a_lock(void **state)
{
	char *out;
	size_t len;

	assert_int_equal(rnd_state(R, NULL, 0, true, &out, &len, NULL), 0);
	assert_string_equal(out, "{\n"
				 "  \"at\": 9,\n"
				 "  \"targets\": {\n"
				 "    \"staging/api\": {\n"
				 "      \"values\": {\n"
				 "        \"image.tag\": \"v1\"\n"
				 "      },\n"
				 "      \"locked\": null\n"
				 "    },\n"
				 "    \"staging/web\": {\n"
				 "      \"values\": {\n"
				 "        \"image.tag\": \"w1\"\n"
				 "      },\n"
				 "      \"locked\": {\n"
				 "        \"seq\": 8,\n"
				 "        \"reason\": \"freeze\"\n"
				 "      }\n"
				 "    }\n"
				 "  }\n"
				 "}\n");
	free(out);
	/* at 4: replicas still set, nothing of staging/web yet */
	assert_int_equal(rnd_state(R, "staging", 4, true, &out, &len, NULL), 0);
	assert_string_equal(out, "{\n"
				 "  \"at\": 4,\n"
				 "  \"targets\": {\n"
				 "    \"staging/api\": {\n"
				 "      \"values\": {\n"
				 "        \"image.tag\": \"v1\",\n"
				 "        \"replicas\": \"2\"\n"
				 "      },\n"
				 "      \"locked\": null\n"
				 "    }\n"
				 "  }\n"
				 "}\n");
	free(out);
}

static void test_render_releases_json_with_apply_and_lock(void **state)
{
	struct facts e5, e6, e7, e8;
	char *out, *want;
	size_t len;

	facts_of(R, 5, &e5);
	facts_of(R, 6, &e6);
	facts_of(R, 7, &e7);
	facts_of(R, 8, &e8);
	assert_int_equal(rnd_releases(R, NULL, 0, true, &out, &len, NULL), 0);
	want = fmt("{\n"
		   "  \"head\": 9,\n"
		   "  \"releases\": [\n"
		   "    {\n"
		   "      \"target\": \"staging/api\",\n"
		   "      \"cluster\": \"staging\",\n"
		   "      \"release\": \"api\",\n"
		   "      \"values\": {\n"
		   "        \"image.tag\": \"v1\"\n"
		   "      },\n"
		   "      \"changed\": {\n"
		   "        \"seq\": 5,\n"
		   "        \"kind\": \"unset\",\n"
		   "        \"time\": \"%s\",\n"
		   "        \"signer\": \"deployer\",\n"
		   "        \"reason\": \"drop\"\n"
		   "      },\n"
		   "      \"locked\": null,\n"
		   "      \"apply\": {\n"
		   "        \"seq\": 6,\n"
		   "        \"kind\": \"applied\",\n"
		   "        \"time\": \"%s\",\n"
		   "        \"signer\": \"applier\",\n"
		   "        \"reason\": \"applied\",\n"
		   "        \"desired_seq\": 5,\n"
		   "        \"current\": true\n"
		   "      },\n"
		   "      \"drift\": null,\n"
		   "      \"policy\": null,\n"
		   "      \"frozen\": null\n"
		   "    },\n"
		   "    {\n"
		   "      \"target\": \"staging/web\",\n"
		   "      \"cluster\": \"staging\",\n"
		   "      \"release\": \"web\",\n"
		   "      \"values\": {\n"
		   "        \"image.tag\": \"w1\"\n"
		   "      },\n"
		   "      \"changed\": {\n"
		   "        \"seq\": 7,\n"
		   "        \"kind\": \"set\",\n"
		   "        \"time\": \"%s\",\n"
		   "        \"signer\": \"admin\",\n"
		   "        \"reason\": \"web\"\n"
		   "      },\n"
		   "      \"locked\": {\n"
		   "        \"seq\": 8,\n"
		   "        \"kind\": \"lock\",\n"
		   "        \"time\": \"%s\",\n"
		   "        \"signer\": \"admin\",\n"
		   "        \"reason\": \"freeze\"\n"
		   "      },\n"
		   "      \"apply\": null,\n"
		   "      \"drift\": null,\n"
		   "      \"policy\": null,\n"
		   "      \"frozen\": null\n"
		   "    }\n"
		   "  ]\n"
		   "}\n",
		   e5.time, e6.time, e7.time, e8.time);
	assert_string_equal(out, want);
	free(want);
	free(out);
}

/* A drift entry by the applier, then R again at the new head. */
static uint64_t drift(struct fx *f, const char *status, const char *diff)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e =
		ldg_entry_new(LDG_KIND_DRIFT, "staging/api", "checked");
	uint64_t seq;

	assert_non_null(e);
	e->version = LDG_FORMAT_V2;
	assert_int_equal(ldg_entry_add_change(e, "status", status), 0);
	if (diff)
		assert_int_equal(ldg_entry_add_meta(e, "diff", diff), 0);
	ldg_read_end(R);
	ok_or_die(ldg_append(f->s, f->applier, e, &res, &err), &err, "drift");
	seq = last_seq(&res);
	ldg_result_free(&res);
	ldg_entry_free(e);
	ok_or_die(ldg_read_begin(f->s, &R, &err), &err, "read");
	return seq;
}

/* status (text and JSON) and the mount's DRIFT say since when a release
 * drifted, or is in sync again */
static void test_render_drift_in_status_and_drift_file(void **state)
{
	struct fx *f = *state;
	struct facts e10, e11;
	char *out, *want;
	size_t len;
	uint64_t seq;

	assert_int_equal(rnd_drift(R, "staging/api", &out, &len, &seq, NULL),
			 -ENOENT);
	assert_int_equal(drift(f, LDG_DRIFTED,
			       "-  replicas: 2 | +  replicas: 5"),
			 10);
	facts_of(R, 10, &e10);
	assert_int_equal(rnd_drift(R, "staging/api", &out, &len, &seq, NULL),
			 0);
	assert_int_equal(seq, 10);
	want = fmt("drifted since 10 %.19sZ\n-  replicas: 2 | +  replicas: 5\n",
		   e10.time);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(want);
	free(out);
	assert_int_equal(rnd_drift(R, "staging/web", &out, &len, &seq, NULL),
			 -ENOENT);

	assert_int_equal(rnd_releases(R, NULL, 0, true, &out, &len, NULL), 0);
	want = fmt("      \"drift\": {\n"
		   "        \"status\": \"drifted\",\n"
		   "        \"seq\": 10,\n"
		   "        \"time\": \"%s\"\n"
		   "      },\n"
		   "      \"policy\": null,\n",
		   e10.time);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "      \"drift\": null,\n")); /* web */
	free(want);
	free(out);
	assert_int_equal(rnd_releases(R, NULL, 0, false, &out, &len, NULL), 0);
	want = fmt("applied at seq 6; drifted since 10 (%.19sZ)\n", e10.time);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "never applied\n")); /* web */
	free(want);
	free(out);

	/* in sync again: the file says since when, status no more */
	assert_int_equal(drift(f, LDG_IN_SYNC, NULL), 11);
	facts_of(R, 11, &e11);
	assert_int_equal(rnd_drift(R, "staging/api", &out, &len, &seq, NULL),
			 0);
	want = fmt("in-sync since 11 %.19sZ\n", e11.time);
	assert_string_equal(out, want);
	free(want);
	free(out);
	assert_int_equal(rnd_releases(R, NULL, 0, false, &out, &len, NULL), 0);
	assert_null(strstr(out, "drifted"));
	assert_non_null(strstr(out, "applied at seq 6\n"));
	free(out);
}

static void test_render_diff_json_names_unset_keys_and_the_lock(void **state)
{
	char *out;
	size_t len;

	assert_int_equal(rnd_diff(R, 4, 9, NULL, true, &out, &len, NULL), 0);
	assert_string_equal(out, "[\n"
				 "  {\n"
				 "    \"target\": \"staging/api\",\n"
				 "    \"key\": \"replicas\",\n"
				 "    \"from\": \"2\",\n"
				 "    \"to\": null\n"
				 "  },\n"
				 "  {\n"
				 "    \"target\": \"staging/web\",\n"
				 "    \"key\": \"image.tag\",\n"
				 "    \"from\": null,\n"
				 "    \"to\": \"w1\"\n"
				 "  },\n"
				 "  {\n"
				 "    \"target\": \"staging/web\",\n"
				 "    \"key\": \"[lock]\",\n"
				 "    \"from\": null,\n"
				 "    \"to\": \"locked\"\n"
				 "  }\n"
				 "]\n");
	free(out);
}

/* Typed values (docs/format.md 3.2): JSON values of their type in the
 * shapes, KEY:=JSON in text, and a diff line that changes a type quotes
 * the string side ("3" -> 3). */
static void test_render_typed_values_in_json_text_and_diff(void **state)
{
	struct fx *f = *state;
	const struct ldg_kv str = { .key = "count", .value = "3" };
	const struct ldg_kv typed[] = {
		{ .key = "count", .value = "3", .type = LDG_V_JSON },
		{ .key = "flags", .value = "[1,\"a\"]", .type = LDG_V_JSON },
	};
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_values v;
	uint64_t a, b;
	char *out;
	size_t len;

	ldg_read_end(R);
	ok_or_die(ldg_set(f->s, f->admin, "staging/api", &str, 1, "string",
			  NULL, 0, 0, &res, &err),
		  &err, "set string");
	a = res.v[0].seq;
	ldg_result_free(&res);
	ok_or_die(ldg_set(f->s, f->admin, "staging/api", typed, 2, "typed",
			  NULL, 0, 0, &res, &err),
		  &err, "set typed");
	b = res.v[0].seq;
	ldg_result_free(&res);
	ok_or_die(ldg_read_begin(f->s, &R, &err), &err, "read");

	assert_int_equal(rnd_diff(R, a, b, "staging/api", false, &out, &len,
				  NULL),
			 0);
	assert_string_equal(out, "staging/api count: \"3\" -> 3\n"
				 "staging/api flags: (unset) -> [1,\"a\"]\n");
	free(out);
	assert_int_equal(rnd_diff(R, a, b, "staging/api", true, &out, &len,
				  NULL),
			 0);
	assert_non_null(strstr(out, "    \"from\": \"3\",\n"
				    "    \"to\": 3\n"));
	free(out);
	assert_int_equal(ldg_state_get(R, "staging/api", b, &v), 0);
	assert_json(rnd_get_json("staging/api", b, &v, NULL),
		    fmt("{\n"
			"  \"target\": \"staging/api\",\n"
			"  \"at\": %llu,\n"
			"  \"values\": {\n"
			"    \"count\": 3,\n"
			"    \"flags\": [\n"
			"      1,\n"
			"      \"a\"\n"
			"    ],\n"
			"    \"image.tag\": \"v1\"\n"
			"  }\n"
			"}\n",
			(unsigned long long)b));
	ldg_values_free(&v);
	assert_int_equal(rnd_history(R, "staging/api", 0, false, &out, &len,
				     NULL),
			 0);
	assert_non_null(strstr(out, " count=3 "));
	assert_non_null(strstr(out, " count:=3, flags:=[1,\"a\"] "));
	free(out);
	assert_string_equal(rnd_assign(LDG_V_STR), "=");
	assert_string_equal(rnd_assign(LDG_V_JSON), ":=");
	{
		json_t *js = rnd_value_json(LDG_V_STR, "true");
		json_t *jt = rnd_value_json(LDG_V_JSON, "true");
		assert_true(json_is_string(js));
		assert_string_equal(json_string_value(js), "true");
		assert_true(json_is_true(jt));
		json_decref(js);
		json_decref(jt);
	}
}

static void test_render_get_json_of_all_keys_or_one(void **state)
{
	struct ldg_values v;

	assert_int_equal(ldg_state_get(R, "staging/api", 4, &v), 0);
	assert_json(rnd_get_json("staging/api", 4, &v, NULL),
		    fmt("{\n"
			"  \"target\": \"staging/api\",\n"
			"  \"at\": 4,\n"
			"  \"values\": {\n"
			"    \"image.tag\": \"v1\",\n"
			"    \"replicas\": \"2\"\n"
			"  }\n"
			"}\n"));
	assert_json(rnd_get_json("staging/api", 4, &v, "replicas"),
		    fmt("{\n"
			"  \"target\": \"staging/api\",\n"
			"  \"at\": 4,\n"
			"  \"values\": {\n"
			"    \"replicas\": \"2\"\n"
			"  }\n"
			"}\n"));
	ldg_values_free(&v);
}

/* ---- values.yaml ---- */

static void test_render_values_yaml_nests_and_quotes(void **state)
{
	struct ldg_value vals[] = {
		{ .key = "replicas", .value = "2" },
		{ .key = "image.tag", .value = "007" },
		{ .key = "image", .value = "dropped" },
		{ .key = "true", .value = "1e10" },
		{ .key = "image.pull", .value = "a\"b" },
	};
	struct ldg_values v = { .v = vals, .n = 5 };
	size_t len, dropped;
	char *out;

	assert_int_equal(rnd_values_yaml(&v, &out, &len, &dropped), 0);
	assert_string_equal(out, "image:\n"
				 "  pull: \"a\\\"b\"\n"
				 "  tag: \"007\"\n"
				 "replicas: \"2\"\n"
				 "\"true\": \"1e10\"\n");
	assert_int_equal(len, strlen(out));
	assert_int_equal(dropped, 1);
	free(out);
	v.n = 0;
	assert_int_equal(rnd_values_yaml(&v, &out, &len, NULL), 0);
	assert_string_equal(out, "{}\n");
	free(out);
}

/* Typed values go unquoted, strings (even "true", "3") quoted; an array
 * is a flow sequence whose floats are in their canonical text (0.1, not
 * jansson's 17 digits) and whose strings are quoted; a float with an
 * exponent has a fraction (1.0e+300), as YAML 1.1 wants. */
static void test_render_values_yaml_types_typed_values(void **state)
{
	struct ldg_value vals[] = {
		{ .key = "a.flag", .value = "true", .type = LDG_V_JSON },
		{ .key = "a.str", .value = "true" },
		{ .key = "num.int", .value = "-7", .type = LDG_V_JSON },
		{ .key = "num.float", .value = "1e+300", .type = LDG_V_JSON },
		{ .key = "num.half", .value = "1.5", .type = LDG_V_JSON },
		{ .key = "num.str", .value = "3" },
		{ .key = "none", .value = "null", .type = LDG_V_JSON },
		{ .key = "list",
		  .value = "[1,\"a\",true,null,0.1,\"\",\"3\",-2.5e-05,-1e-07]",
		  .type = LDG_V_JSON },
		{ .key = "empty", .value = "[]", .type = LDG_V_JSON },
	};
	struct ldg_values v = { .v = vals, .n = sizeof(vals) / sizeof(*vals) };
	size_t len;
	char *out;

	assert_int_equal(rnd_values_yaml(&v, &out, &len, NULL), 0);
	assert_string_equal(out,
			    "a:\n"
			    "  flag: true\n"
			    "  str: \"true\"\n"
			    "empty: []\n"
			    "list: [1, \"a\", true, null, 0.1, \"\", \"3\", "
			    "-2.5e-05, -1.0e-07]\n"
			    "none: null\n"
			    "num:\n"
			    "  float: 1.0e+300\n"
			    "  half: 1.5\n"
			    "  int: -7\n"
			    "  str: \"3\"\n");
	free(out);
}

/* ---- promotion policies ----
 *
 * Their own ledger (gov_setup, fixture.h's, then):
 *   2 key-add deployer, scope "*"
 *   3 key-add outsider, deployer, scope "*"
 *   4 policy "production/..." approvals=2 (the glob production/ + *)
 *   5 policy "*" approvals=1
 *   6 policy "qa/..." approvals=1, soak 30 min from staging, gated
 *     rollbacks
 *   7 set production/api image.tag=v2 (deployer): a proposal
 *   8 approve 7 (outsider): 1 of 2
 *   9 freeze "production/..." 2000-01-01 to 2100-01-01, "holiday"
 *  10 freeze "staging/..." cron "0 18 * * 5" for 1 h in UTC, "weekend"
 * ("..." for the '*' a comment cannot hold after a '/')
 */

/* Friday 2026-12-25 18:30 UTC: inside both windows */
#define FRI_1830 1798223400
/* Saturday 2026-12-26 18:30 UTC: inside the absolute one only */
#define SAT_1830 1798309800

static int gov_setup(void **state)
{
	const struct ldg_policy prod = { .approvals = 2 };
	const struct ldg_policy all = { .approvals = 1 };
	const struct ldg_policy qa = { .approvals = 1,
				       .gate_rollbacks = true,
				       .soak = 1800,
				       .soak_from = "staging" };
	const struct ldg_window holiday = { .scope = "production/*",
					    .from = 946684800,
					    .until = 4102444800 };
	const struct ldg_window weekend = { .scope = "staging/*",
					    .cron = "0 18 * * 5",
					    .duration = 3600,
					    .tz = "UTC" };
	const struct ldg_kv v2[] = { { .key = "image.tag", .value = "v2" } };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct fx *f;

	if (fx_setup(state))
		return -1;
	f = *state;
	add_key(f, f->deployer, "deployer", "*");
	add_key(f, f->outsider, "deployer", "*");
	ok_or_die(ldg_policy_set(f->s, f->admin, "production/*", &prod,
				 "four eyes", &res, &err),
		  &err, "policy production/*");
	ok_or_die(ldg_policy_set(f->s, f->admin, "*", &all, "default", &res,
				 &err),
		  &err, "policy *");
	ok_or_die(ldg_policy_set(f->s, f->admin, "qa/*", &qa, "soak first",
				 &res, &err),
		  &err, "policy qa/*");
	ok_or_die(ldg_set(f->s, f->deployer, "production/api", v2, 1, "PR 2",
			  NULL, 0, 0, &res, &err),
		  &err, "proposal");
	ok_or_die(ldg_approve(f->s, f->outsider, 7, "looks good", &res, &err),
		  &err, "approve");
	ok_or_die(ldg_freeze(f->s, f->admin, &holiday, "holiday", &res, &err),
		  &err, "freeze holiday");
	ok_or_die(ldg_freeze(f->s, f->admin, &weekend, "weekend", &res, &err),
		  &err, "freeze weekend");
	ldg_result_free(&res);
	assert_int_equal(head_of(f, NULL), 10);
	ok_or_die(ldg_read_begin(f->s, &R, &err), &err, "read");
	return 0;
}

static void
test_render_policy_show_json_lists_policies_and_windows(void **state)
{
	char *out;
	size_t len;

	assert_int_equal(rnd_policy_show(R, NULL, FRI_1830, true, &out, &len,
					 NULL),
			 0);
	assert_int_equal(len, strlen(out));
	assert_string_equal(out, "{\n"
				 "  \"policies\": [\n"
				 "    {\n"
				 "      \"scope\": \"*\",\n"
				 "      \"seq\": 5,\n"
				 "      \"approvals\": 1,\n"
				 "      \"gate_rollbacks\": false,\n"
				 "      \"soak\": null,\n"
				 "      \"from\": null\n"
				 "    },\n"
				 "    {\n"
				 "      \"scope\": \"production/*\",\n"
				 "      \"seq\": 4,\n"
				 "      \"approvals\": 2,\n"
				 "      \"gate_rollbacks\": false,\n"
				 "      \"soak\": null,\n"
				 "      \"from\": null\n"
				 "    },\n"
				 "    {\n"
				 "      \"scope\": \"qa/*\",\n"
				 "      \"seq\": 6,\n"
				 "      \"approvals\": 1,\n"
				 "      \"gate_rollbacks\": true,\n"
				 "      \"soak\": 1800,\n"
				 "      \"from\": \"staging\"\n"
				 "    }\n"
				 "  ],\n"
				 "  \"windows\": [\n"
				 "    {\n"
				 "      \"seq\": 9,\n"
				 "      \"scope\": \"production/*\",\n"
				 "      \"reason\": \"holiday\",\n"
				 "      \"from\": \"2000-01-01T00:00:00Z\",\n"
				 "      \"until\": \"2100-01-01T00:00:00Z\",\n"
				 "      \"cron\": null,\n"
				 "      \"duration\": null,\n"
				 "      \"tz\": null,\n"
				 "      \"active\": true,\n"
				 "      \"ends\": \"2100-01-01T00:00:00Z\",\n"
				 "      \"next\": null\n"
				 "    },\n"
				 "    {\n"
				 "      \"seq\": 10,\n"
				 "      \"scope\": \"staging/*\",\n"
				 "      \"reason\": \"weekend\",\n"
				 "      \"from\": null,\n"
				 "      \"until\": null,\n"
				 "      \"cron\": \"0 18 * * 5\",\n"
				 "      \"duration\": 3600,\n"
				 "      \"tz\": \"UTC\",\n"
				 "      \"active\": true,\n"
				 "      \"ends\": \"2026-12-25T19:00:00Z\",\n"
				 "      \"next\": null\n"
				 "    }\n"
				 "  ]\n"
				 "}\n");
	free(out);
}

static void test_render_window_json_outside_a_recurring_window(void **state)
{
	struct ldg_gov g;

	assert_int_equal(ldg_gov_load(R, 0, &g, NULL), 0);
	assert_int_equal(g.n_win, 2);
	assert_json(rnd_window_json(R, &g.win[1], SAT_1830),
		    fmt("{\n"
			"  \"seq\": 10,\n"
			"  \"scope\": \"staging/*\",\n"
			"  \"reason\": \"weekend\",\n"
			"  \"from\": null,\n"
			"  \"until\": null,\n"
			"  \"cron\": \"0 18 * * 5\",\n"
			"  \"duration\": 3600,\n"
			"  \"tz\": \"UTC\",\n"
			"  \"active\": false,\n"
			"  \"ends\": null,\n"
			"  \"next\": \"2027-01-01T18:00:00Z\"\n"
			"}\n"));
	ldg_gov_free(&g);
}

static void test_render_policy_show_text_tables(void **state)
{
	char *out;
	size_t len;

	assert_int_equal(rnd_policy_show(R, NULL, SAT_1830, false, &out, &len,
					 NULL),
			 0);
	assert_int_equal(len, strlen(out));
	assert_string_equal(
		out,
		"SCOPE         SEQ  APPROVALS  SOAK              ROLLBACKS\n"
		"*             5    1          -                 -\n"
		"production/*  4    2          -                 -\n"
		"qa/*          6    1          30m from staging  gated\n"
		"\n"
		"WINDOW  SCOPE         WHEN"
		"                                                                             "
		"REASON\n"
		"9       production/*  2000-01-01T00:00:00Z to "
		"2100-01-01T00:00:00Z, active until 2100-01-01T00:00:00Z  "
		"holiday\n"
		"10      staging/*     cron \"0 18 * * 5\" for 1h (UTC)"
		"                                                   "
		"weekend\n");
	free(out);
}

/* The most specific scope applies; every window covering the target
 * is listed, each judged at the time given. */
static void test_render_policy_show_target_explains_which_applies(void **state)
{
	char *out;
	size_t len;

	assert_int_equal(rnd_policy_show(R, "production/api", FRI_1830, false,
					 &out, &len, NULL),
			 0);
	assert_string_equal(out,
			    "target: production/api\n"
			    "policy: production/* (seq 4): approvals=2\n"
			    "matching: * (seq 5), production/* (seq 4, the most "
			    "specific: applies)\n"
			    "window 9 (production/*): 2000-01-01T00:00:00Z to "
			    "2100-01-01T00:00:00Z, active until "
			    "2100-01-01T00:00:00Z: holiday\n");
	free(out);
	assert_int_equal(rnd_policy_show(R, "staging/api", SAT_1830, true, &out,
					 &len, NULL),
			 0);
	assert_string_equal(out, "{\n"
				 "  \"target\": \"staging/api\",\n"
				 "  \"policy\": {\n"
				 "    \"scope\": \"*\",\n"
				 "    \"seq\": 5,\n"
				 "    \"approvals\": 1,\n"
				 "    \"gate_rollbacks\": false,\n"
				 "    \"soak\": null,\n"
				 "    \"from\": null\n"
				 "  },\n"
				 "  \"matching\": [\n"
				 "    {\n"
				 "      \"scope\": \"*\",\n"
				 "      \"seq\": 5,\n"
				 "      \"approvals\": 1,\n"
				 "      \"gate_rollbacks\": false,\n"
				 "      \"soak\": null,\n"
				 "      \"from\": null\n"
				 "    }\n"
				 "  ],\n"
				 "  \"windows\": [\n"
				 "    {\n"
				 "      \"seq\": 10,\n"
				 "      \"scope\": \"staging/*\",\n"
				 "      \"reason\": \"weekend\",\n"
				 "      \"from\": null,\n"
				 "      \"until\": null,\n"
				 "      \"cron\": \"0 18 * * 5\",\n"
				 "      \"duration\": 3600,\n"
				 "      \"tz\": \"UTC\",\n"
				 "      \"active\": false,\n"
				 "      \"ends\": null,\n"
				 "      \"next\": \"2027-01-01T18:00:00Z\"\n"
				 "    }\n"
				 "  ]\n"
				 "}\n");
	free(out);
}

static void test_render_pending_json_is_the_documented_proposal(void **state)
{
	char *out;
	size_t len;

	assert_int_equal(rnd_pending(R, NULL, FRI_1830, true, &out, &len, NULL),
			 0);
	assert_int_equal(len, strlen(out));
	assert_string_equal(out, "[\n"
				 "  {\n"
				 "    \"seq\": 7,\n"
				 "    \"target\": \"production/api\",\n"
				 "    \"author\": \"deployer\",\n"
				 "    \"need\": 2,\n"
				 "    \"approvals\": [\n"
				 "      {\n"
				 "        \"key\": \"outsider\",\n"
				 "        \"seq\": 8\n"
				 "      }\n"
				 "    ],\n"
				 "    \"emergency\": false,\n"
				 "    \"status\": \"pending\",\n"
				 "    \"kind\": \"set\",\n"
				 "    \"changes\": [\n"
				 "      {\n"
				 "        \"key\": \"image.tag\",\n"
				 "        \"value\": \"v2\"\n"
				 "      }\n"
				 "    ]\n"
				 "  }\n"
				 "]\n");
	free(out);
	/* a scope with none: an empty array, not an error */
	assert_int_equal(rnd_pending(R, "staging/*", FRI_1830, true, &out, &len,
				     NULL),
			 0);
	assert_string_equal(out, "[]\n");
	free(out);
}

/* The table says what each proposal waits for (the approvals missing,
 * the window open at the time given); a revoked approver's approval is
 * shown, marked, and not counted. */
static void test_render_pending_table_marks_a_revoked_approver(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct facts e7;
	char *out, *want;
	size_t len;

	facts_of(R, 7, &e7);
	e7.time[19] = '\0';
	assert_int_equal(rnd_pending(R, "production/*", FRI_1830, false, &out,
				     &len, NULL),
			 0);
	want = fmt("SEQ  UPDATED              TARGET          KIND  "
		   "CHANGES       AUTHOR    APPROVALS               "
		   "WAITS FOR\n"
		   "7    %s  production/api  set   image.tag=v2  "
		   "deployer  1 of 2 (has: outsider)  1 more approval; "
		   "window 9 is open\n",
		   e7.time);
	assert_string_equal(out, want);
	free(want);
	free(out);
	ldg_read_end(R);
	R = NULL;
	ok_or_die(ldg_key_revoke(f->s, f->admin, "outsider", "left", &res,
				 &err),
		  &err, "revoke");
	ldg_result_free(&res);
	ok_or_die(ldg_read_begin(f->s, &R, &err), &err, "read");
	assert_int_equal(rnd_pending(R, NULL, FRI_1830, false, &out, &len,
				     NULL),
			 0);
	want = fmt("SEQ  UPDATED              TARGET          KIND  "
		   "CHANGES       AUTHOR    APPROVALS                 "
		   "        WAITS FOR\n"
		   "7    %s  production/api  set   image.tag=v2  "
		   "deployer  0 of 2 (has: outsider (revoked))  2 more "
		   "approvals; window 9 is open\n",
		   e7.time);
	assert_string_equal(out, want);
	free(want);
	free(out);
}

/* The members promotion policies add to an entry's JSON, only where
 * they apply: the proposal (7) with its fate and approvals, the
 * approval (8) naming it, nothing on the others. */
static void test_render_entry_json_marks_proposals_and_approvals(void **state)
{
	json_t *j;

	assert_int_equal(rnd_entry_json_at(R, 7, &j, NULL), 0);
	assert_json(json_incref(json_object_get(j, "proposal")),
		    fmt("{\n"
			"  \"seq\": 7,\n"
			"  \"status\": \"pending\",\n"
			"  \"at\": null,\n"
			"  \"need\": 2,\n"
			"  \"approvals\": [\n"
			"    {\n"
			"      \"key\": \"outsider\",\n"
			"      \"seq\": 8\n"
			"    }\n"
			"  ]\n"
			"}\n"));
	assert_null(json_object_get(j, "emergency"));
	json_decref(j);
	assert_int_equal(rnd_entry_json_at(R, 8, &j, NULL), 0);
	assert_json(json_incref(json_object_get(j, "proposal")),
		    fmt("{\n"
			"  \"seq\": 7,\n"
			"  \"status\": \"pending\",\n"
			"  \"at\": null,\n"
			"  \"need\": 2\n"
			"}\n"));
	json_decref(j);
	for (uint64_t seq = 1; seq <= 6; seq++) {
		assert_int_equal(rnd_entry_json_at(R, seq, &j, NULL), 0);
		assert_null(json_object_get(j, "proposal"));
		assert_null(json_object_get(j, "emergency"));
		json_decref(j);
		assert_true(rnd_entry_settled(R, seq));
	}
	/* while 7 is pending, its JSON and its approval's will change */
	assert_false(rnd_entry_settled(R, 7));
	assert_false(rnd_entry_settled(R, 8));
	assert_false(rnd_entry_settled(R, 99)); /* no such entry */
}

/* The mount's pending/SEQ: one proposal, key: value lines; its
 * approvals as the pending table's column; a revoked approver's not
 * counted in what it waits for. */
static void test_render_proposal_text_and_what_it_waits_for(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct facts fa;
	char *out, *want;
	size_t len;

	facts_of(R, 7, &fa);
	assert_int_equal(rnd_proposal(R, 7, &out, &len, NULL), 0);
	assert_int_equal(len, strlen(out));
	want = fmt("seq: 7\n"
		   "target: production/api\n"
		   "kind: set\n"
		   "changes: image.tag=v2\n"
		   "author: deployer\n"
		   "time: %s\n"
		   "reason: PR 2\n"
		   "emergency: no\n"
		   "forced: no\n"
		   "approvals: 1 of 2 (has: outsider)\n"
		   "waits for: 1 more approval by a deployer or admin key "
		   "covering production/api, other than deployer, outsider\n",
		   fa.time);
	assert_string_equal(out, want);
	free(want);
	free(out);
	/* an approval, a policy, the init entry, past the head: -ENOENT */
	for (uint64_t seq = 1; seq <= 11; seq++) {
		if (seq == 7)
			continue;
		out = NULL;
		assert_int_equal(rnd_proposal(R, seq, &out, &len, &err),
				 -ENOENT);
		assert_null(out);
		assert_true(err.msg[0] != '\0');
		memset(&err, 0, sizeof(err));
	}
	ldg_read_end(R);
	R = NULL;
	ok_or_die(ldg_key_revoke(f->s, f->admin, "outsider", "left", &res,
				 &err),
		  &err, "revoke");
	ldg_result_free(&res);
	ok_or_die(ldg_read_begin(f->s, &R, &err), &err, "read");
	assert_int_equal(rnd_proposal(R, 7, &out, &len, NULL), 0);
	assert_non_null(strstr(out, "\napprovals: 0 of 2 (has: outsider "
				    "(revoked))\n"
				    "waits for: 2 more approvals by a deployer "
				    "or admin key covering production/api, "
				    "other than deployer, outsider\n"));
	free(out);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define G(name) cmocka_unit_test_setup_teardown(name, gov_setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_render_show_json_is_the_documented_entry),
		T(test_render_entry_json_marks_an_unset_key),
		T(test_render_entry_json_at_refuses_a_seq_past_the_head),
		T(test_render_history_json_is_an_array_of_entries),
		T(test_render_keyring_lists_every_key_with_its_seqs),
		T(test_render_entry_proof_names_the_keyring_row),
		cmocka_unit_test(test_render_entry_proof_without_a_key),
		T(test_render_verify_report_of_a_ledger_that_holds),
		cmocka_unit_test(test_render_verify_report_names_the_bad_seq),
		cmocka_unit_test(test_render_verify_cosignatures),
		T(test_render_state_json_with_a_lock),
		T(test_render_releases_json_with_apply_and_lock),
		T(test_render_drift_in_status_and_drift_file),
		T(test_render_diff_json_names_unset_keys_and_the_lock),
		T(test_render_get_json_of_all_keys_or_one),
		T(test_render_typed_values_in_json_text_and_diff),
		cmocka_unit_test(test_render_values_yaml_nests_and_quotes),
		cmocka_unit_test(test_render_values_yaml_types_typed_values),
		G(test_render_policy_show_json_lists_policies_and_windows),
		G(test_render_window_json_outside_a_recurring_window),
		G(test_render_policy_show_text_tables),
		G(test_render_policy_show_target_explains_which_applies),
		G(test_render_pending_json_is_the_documented_proposal),
		G(test_render_pending_table_marks_a_revoked_approver),
		G(test_render_entry_json_marks_proposals_and_approvals),
		G(test_render_proposal_text_and_what_it_waits_for),
	};
#undef G
#undef T
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
