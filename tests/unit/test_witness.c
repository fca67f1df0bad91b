/*
 * Unit tests for ledger/witness.c: the logs file, the add-checkpoint
 * body (C2SP tlog-witness), and the witness's store: each verdict in
 * the specification's order, nothing stored on a refusal, and one
 * winner among concurrent requests.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "checkpoint.h"
#include "testlib.h"
#include "tlog.h"
#include "witness.h"

#define ORIGIN "example.com/deploy/prod"
#define LEAVES 40
#define T0 1700000000u

static struct ldg_signer *log_key, *other_key, *wit_key;
static uint8_t leaves[LEAVES][LDG_HASH_BYTES];
static uint8_t forked[LEAVES][LDG_HASH_BYTES]; /* leaves 0..7, then others */
static struct ldg_witness_logs logs;

/* An ldg_node_fn over an array of leaf hashes. */
static int node(void *arg, unsigned height, uint64_t index,
		uint8_t out[LDG_HASH_BYTES])
{
	return tl_mth_node(arg, LEAVES, height, index, out);
}

static int group_setup(void **state)
{
	char vk[LDG_VKEY_TEXT_MAX], text[512];

	if (ldg_crypto_init() || ldg_signer_generate("log", &log_key, NULL) ||
	    ldg_signer_generate("log", &other_key, NULL) ||
	    ldg_signer_generate_alg("wit", LDG_ALG_COSIG, &wit_key, NULL))
		return -1;
	randombytes_buf(leaves, sizeof(leaves));
	memcpy(forked, leaves, sizeof(forked));
	randombytes_buf(forked[8], sizeof(forked) - 8 * LDG_HASH_BYTES);
	ldg_vkey_format(ldg_signer_vkey(log_key), vk);
	snprintf(text, sizeof(text), "# the logs\nlog %s %s\n", ORIGIN, vk);
	return ldg_witness_logs_parse(text, &logs, NULL);
}

static int group_teardown(void **state)
{
	ldg_witness_logs_free(&logs);
	ldg_signer_free(log_key);
	ldg_signer_free(other_key);
	ldg_signer_free(wit_key);
	return 0;
}

/* A signed checkpoint of the first size leaves of l, by k. */
static char *note_of(uint8_t (*l)[LDG_HASH_BYTES], uint64_t size,
		     const char *origin, const struct ldg_signer *k)
{
	uint8_t root[LDG_HASH_BYTES];
	char *note = NULL;

	assert_int_equal(ldg_tlog_root(node, (void *)l, size, root), 0);
	assert_int_equal(ldg_checkpoint_make(origin, size, root, k, &note,
					     NULL),
			 0);
	return note;
}

/* The body of a request from old to size over l (the proof from l). */
static char *body_of(uint8_t (*l)[LDG_HASH_BYTES], uint64_t old, uint64_t size,
		     const char *note, size_t *len)
{
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];
	size_t n = 0;
	char *body;

	if (old)
		assert_int_equal(ldg_proof_consistency(node, (void *)l, old,
						       size, proof, &n),
				 0);
	assert_int_equal(ldg_witness_req_format(old,
						(const uint8_t(*)[LDG_HASH_BYTES])
							proof,
						n, note, &body, len),
			 0);
	return body;
}

static int parse(const char *body, struct ldg_witness_req *rq)
{
	struct ldg_err err = { 0 };
	int rc = ldg_witness_req_parse(body, strlen(body), rq, &err);

	if (rc)
		assert_true(err.msg[0] != '\0');
	return rc;
}

/* ---- the request body ---- */

static void test_req_round_trip_with_proof(void **state)
{
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	char *note = note_of(leaves, 20, ORIGIN, log_key), *body;
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];
	size_t len, n;

	body = body_of(leaves, 13, 20, note, &len);
	assert_int_equal(strncmp(body, "old 13\n", 7), 0);
	assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), 0);
	assert_int_equal(rq->old, 13);
	assert_int_equal(ldg_proof_consistency(node, leaves, 13, 20, proof, &n),
			 0);
	assert_int_equal(rq->n_proof, n);
	assert_memory_equal(rq->proof, proof, n * LDG_HASH_BYTES);
	assert_int_equal(rq->cp.size, 20);
	assert_string_equal(rq->cp.origin, ORIGIN);
	assert_int_equal(rq->note_len, strlen(note));
	assert_memory_equal(rq->note, note, rq->note_len);
	free(body);
	free(note);
	free(rq);
}

static void test_req_old_zero_without_proof(void **state)
{
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	char *note = note_of(leaves, 5, ORIGIN, log_key), *body;

	assert_int_equal(asprintf(&body, "old 0\n\n%s", note) > 0, 1);
	assert_int_equal(parse(body, rq), 0);
	assert_int_equal(rq->old, 0);
	assert_int_equal(rq->n_proof, 0);
	free(body);
	free(note);
	free(rq);
}

static void test_req_rejects_malformed_bodies(void **state)
{
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	char *note = note_of(leaves, 5, ORIGIN, log_key), *body;
	const char *h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
	const char *heads[] = {
		"",			      /* no old line */
		"old\n",		      /* no size */
		"old 01\n",		      /* a leading zero */
		"old -1\n",		      /* a sign */
		"old 1x\n",		      /* not decimal */
		"old  1\n",		      /* two spaces */
		"Old 1\n",		      /* the keyword's case */
		"old 1\r\n",		      /* CRLF */
		"old 18446744073709551616\n", /* 2^64 */
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka=\n", /* 43 */
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n", /* no = */
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw==\n",
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpk*w=\n",
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw= \n",
	};

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		assert_int_equal(asprintf(&body, "%s\n%s", heads[i], note) > 0,
				 1);
		if (parse(body, rq) != -EINVAL)
			fail_msg("accepted head %zu: \"%s\"", i, heads[i]);
		free(body);
	}
	/* no empty line: the checkpoint read as proof lines */
	assert_int_equal(asprintf(&body, "old 0\n%s", note) > 0, 1);
	assert_int_equal(parse(body, rq), -EINVAL);
	free(body);
	/* the checkpoint without its last newline */
	assert_int_equal(asprintf(&body, "old 0\n\n%s", note) > 0, 1);
	body[strlen(body) - 1] = '\0';
	assert_int_equal(parse(body, rq), -EINVAL);
	free(body);
	/* no checkpoint at all, and one without a signature */
	assert_int_equal(parse("old 0\n\n", rq), -EINVAL);
	assert_int_equal(parse("old 0\n\n" ORIGIN "\n5\n"
			       "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
			       "\n\n",
			       rq),
			 -EINVAL);
	/* 63 proof lines are taken, 64 are not */
	for (int n = 63; n <= 64; n++) {
		char *p = malloc(64 * 45 + 1);
		p[0] = '\0';
		for (int i = 0; i < n; i++)
			strcat(strcat(p, h), "\n");
		assert_int_equal(asprintf(&body, "old 1\n%s\n%s", p, note) > 0,
				 1);
		assert_int_equal(parse(body, rq), n == 63 ? 0 : -EINVAL);
		if (n == 63)
			assert_int_equal(rq->n_proof, 63);
		free(body);
		free(p);
	}
	free(note);
	free(rq);
}

static void test_req_rejects_a_body_over_the_limit(void **state)
{
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	size_t len = LDG_WITNESS_BODY_MAX + 1;
	char *body = malloc(len);

	memset(body, '\n', len);
	memcpy(body, "old 0\n", 6);
	assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), -EINVAL);
	free(body);
	free(rq);
}

static void test_req_format_refuses_64_hashes(void **state)
{
	static const uint8_t proof[64][LDG_HASH_BYTES];
	char *out = NULL;
	size_t len;

	assert_int_equal(ldg_witness_req_format(1, proof, 64, "x\n", &out,
						&len),
			 -EINVAL);
	assert_null(out);
}

/* ---- the logs file ---- */

static void test_logs_parse_lines_comments_and_spaces(void **state)
{
	struct ldg_witness_logs l;
	char vk1[LDG_VKEY_TEXT_MAX], vk2[LDG_VKEY_TEXT_MAX], text[1024];

	ldg_vkey_format(ldg_signer_vkey(log_key), vk1);
	ldg_vkey_format(ldg_signer_vkey(other_key), vk2);
	snprintf(text, sizeof(text),
		 "# witness w1\n\nlog a.example/one %s\nlog a.example/one "
		 "%s\nlog origin with spaces %s",
		 vk1, vk2, vk1);
	assert_int_equal(ldg_witness_logs_parse(text, &l, NULL), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].origin, "a.example/one");
	assert_string_equal(l.v[1].origin, "a.example/one");
	assert_memory_equal(l.v[1].key.pk, ldg_signer_vkey(other_key)->pk,
			    LDG_PK_BYTES);
	assert_string_equal(l.v[2].origin, "origin with spaces");
	ldg_witness_logs_free(&l);
	assert_null(l.v);
}

static void test_logs_refuse_naming_the_line(void **state)
{
	struct ldg_witness_logs l = { 0 };
	struct ldg_err err = { 0 };
	char vk[LDG_VKEY_TEXT_MAX], text[1024];
	const char *bad[] = {
		"log %s\n",				/* no origin */
		"# ok\nlogs a.example %s\n",		/* the keyword */
		"log a.example notakey\n%s",		/* the key */
		"log a.example %s\nlog a.example %s\n", /* twice */
		"\tlog a.example %s\n",			/* a tab first */
		"log  %s\n",				/* an empty origin */
	};

	ldg_vkey_format(ldg_signer_vkey(log_key), vk);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), bad[i], vk, vk);
		memset(&err, 0, sizeof(err));
		if (ldg_witness_logs_parse(text, &l, &err) != -EINVAL)
			fail_msg("accepted logs %zu: %s", i, text);
		assert_non_null(strstr(err.msg, "line "));
	}
	assert_int_equal(ldg_witness_logs_parse("# nothing\n\n", &l, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "no \"log ORIGIN KEY\" line"));
	assert_null(l.v);
}

/* ---- the store ---- */

struct wit {
	char *dir;
	struct ldg_witness *w;
};

static int wit_setup(void **state)
{
	struct wit *t = calloc(1, sizeof(*t));

	t->dir = tl_mkdtemp();
	if (ldg_witness_open(t->dir, &t->w, NULL))
		return -1;
	*state = t;
	return 0;
}

static int wit_teardown(void **state)
{
	struct wit *t = *state;

	ldg_witness_close(t->w);
	tl_rmrf(t->dir);
	free(t->dir);
	free(t);
	return 0;
}

/* Sends the request from old to size over l, signed by k; the verdict. */
static enum ldg_witness_verdict add(struct wit *t, uint8_t (*l)[LDG_HASH_BYTES],
				    uint64_t old, uint64_t size,
				    const char *origin,
				    const struct ldg_signer *k, uint64_t when,
				    struct ldg_witness_answer *ans)
{
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	char *note = note_of(l, size, origin, k), *body;
	size_t len;

	body = body_of(l, old, size, note, &len);
	assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), 0);
	assert_int_equal(ldg_witness_add(t->w, &logs, wit_key, rq, when, ans,
					 NULL),
			 0);
	free(body);
	free(note);
	free(rq);
	return ans->verdict;
}

/* The stored note, or "" when none. */
static char *latest(struct wit *t)
{
	char *note;
	size_t len;

	if (ldg_witness_latest(t->w, ORIGIN, &note, &len, NULL))
		return strdup("");
	assert_int_equal(strlen(note), len);
	return note;
}

static void test_add_cosigns_and_stores(void **state)
{
	struct wit *t = *state;
	struct ldg_witness_answer ans;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	char *note;
	uint64_t when = 0;

	note = latest(t);
	assert_string_equal(note, "");
	free(note);
	{
		/* an origin longer than any: none, not a store error */
		char long_origin[LDG_ORIGIN_MAX + 2];
		size_t len;
		memset(long_origin, 'a', sizeof(long_origin) - 1);
		long_origin[sizeof(long_origin) - 1] = '\0';
		assert_int_equal(ldg_witness_latest(t->w, long_origin, &note,
						    &len, NULL),
				 -ENOENT);
		assert_null(note);
	}
	assert_int_equal(add(t, leaves, 0, 7, ORIGIN, log_key, T0, &ans),
			 LDG_WIT_COSIGNED);
	assert_int_equal(ans.stored_size, 0);
	note = latest(t);
	/* the log's note with the cosignature line, which verifies */
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	assert_int_equal(cp->size, 7);
	assert_non_null(strstr(note, ans.line));
	assert_int_equal(ldg_cosig_verify(cp, ldg_signer_vkey(wit_key), &when),
			 0);
	assert_int_equal(when, T0);
	assert_int_equal(ldg_checkpoint_verify(cp, ldg_signer_vkey(log_key)),
			 0);
	free(note);
	/* then on from 7 with a proof, and the same checkpoint again */
	assert_int_equal(add(t, leaves, 7, 20, ORIGIN, log_key, T0 + 1, &ans),
			 LDG_WIT_COSIGNED);
	assert_int_equal(ans.stored_size, 7);
	assert_int_equal(add(t, leaves, 20, 20, ORIGIN, log_key, T0 + 2, &ans),
			 LDG_WIT_COSIGNED);
	note = latest(t);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	assert_int_equal(cp->size, 20);
	assert_int_equal(ldg_cosig_verify(cp, ldg_signer_vkey(wit_key), &when),
			 0);
	assert_int_equal(when, T0 + 2);
	free(note);
	free(cp);
}

static void test_add_refusals_store_nothing(void **state)
{
	struct wit *t = *state;
	struct ldg_witness_answer ans;
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	char *before, *after, *note, *body;
	size_t len;

	assert_int_equal(add(t, leaves, 0, 10, ORIGIN, log_key, T0, &ans),
			 LDG_WIT_COSIGNED);
	before = latest(t);
	/* an origin it does not witness: 404 */
	assert_int_equal(add(t, leaves, 10, 12, "other.example/log", log_key,
			     T0, &ans),
			 LDG_WIT_UNKNOWN_LOG);
	/* signed by a key of the same name that it does not trust: 403 */
	assert_int_equal(add(t, leaves, 10, 12, ORIGIN, other_key, T0, &ans),
			 LDG_WIT_UNTRUSTED);
	/* old above the size: 400 */
	note = note_of(leaves, 5, ORIGIN, log_key);
	body = body_of(leaves, 0, 5, note, &len);
	body[4] = '9'; /* "old 9", above 5 */
	assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), 0);
	assert_int_equal(ldg_witness_add(t->w, &logs, wit_key, rq, T0, &ans,
					 NULL),
			 0);
	assert_int_equal(ans.verdict, LDG_WIT_OLD_TOO_BIG);
	free(body);
	free(note);
	/* old not the stored size: 409 with the stored size */
	assert_int_equal(add(t, leaves, 3, 12, ORIGIN, log_key, T0, &ans),
			 LDG_WIT_SIZE_MISMATCH);
	assert_int_equal(ans.stored_size, 10);
	/* the stored size with another root: 409 */
	assert_int_equal(add(t, forked, 10, 10, ORIGIN, log_key, T0, &ans),
			 LDG_WIT_ROOT_MISMATCH);
	/* a fork after leaf 10, its proof from its own tree: 422 */
	assert_int_equal(add(t, forked, 10, 16, ORIGIN, log_key, T0, &ans),
			 LDG_WIT_BAD_PROOF);
	/* a forged signature by the trusted key: 403 */
	note = note_of(leaves, 12, ORIGIN, log_key);
	{
		char *sig = strrchr(note, ' ') + 1;
		/* past the key id: the signature itself */
		sig[20] = sig[20] == 'A' ? 'B' : 'A';
	}
	body = body_of(leaves, 10, 12, note, &len);
	assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), 0);
	assert_int_equal(ldg_witness_add(t->w, &logs, wit_key, rq, T0, &ans,
					 NULL),
			 0);
	assert_int_equal(ans.verdict, LDG_WIT_UNTRUSTED);
	free(body);
	free(note);
	after = latest(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(rq);
}

/* C2SP tlog-witness: "it MUST ignore signatures from unknown keys".
 * other_key shares the log key's name, not its key id: its signature
 * next to the log key's is ignored, first or last. */
static void test_add_ignores_signatures_by_unknown_keys(void **state)
{
	struct wit *t = *state;
	struct ldg_witness_answer ans;
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	char *ours = note_of(leaves, 6, ORIGIN, log_key);
	char *theirs = note_of(leaves, 6, ORIGIN, other_key);
	const char *their_sig = strstr(theirs, "\n\n") + 2;
	const char *our_sig = strstr(ours, "\n\n") + 2;
	size_t text = (size_t)(our_sig - ours);
	char *both, *body;
	size_t len;

	for (int first = 0; first < 2; first++) {
		assert_int_equal(asprintf(&both, "%.*s%s%s", (int)text, ours,
					  first ? their_sig : our_sig,
					  first ? our_sig : their_sig) > 0,
				 1);
		body = body_of(leaves, first ? 6 : 0, 6, both, &len);
		assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), 0);
		assert_int_equal(rq->cp.n_sigs, 2);
		assert_int_equal(ldg_witness_add(t->w, &logs, wit_key, rq, T0,
						 &ans, NULL),
				 0);
		assert_int_equal(ans.verdict, LDG_WIT_COSIGNED);
		free(body);
		free(both);
	}
	free(theirs);
	free(ours);
	free(rq);
}

/* Anyone may resend a log's checkpoint with lines of their own: the
 * witness keeps (and GET /checkpoint serves) the log's signatures and
 * its own cosignature only, a note every reader can parse. */
static void test_add_stores_only_the_logs_signatures(void **state)
{
	struct wit *t = *state;
	struct ldg_witness_answer ans;
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	char *ours = note_of(leaves, 6, ORIGIN, log_key);
	char *theirs = note_of(leaves, 6, ORIGIN, other_key);
	const char *their_sig = strstr(theirs, "\n\n") + 2;
	size_t text = (size_t)(their_sig - theirs);
	char *sent = malloc(strlen(ours) + 31 * strlen(their_sig) + 1);
	char *body, *kept;
	size_t len;

	/* 31 lines by an unknown key, then the log's: 32 signatures */
	strcpy(sent, ours);
	sent[text] = '\0';
	for (int i = 0; i < 31; i++)
		strcat(sent, their_sig);
	strcat(sent, ours + text);
	body = body_of(leaves, 0, 6, sent, &len);
	assert_int_equal(ldg_witness_req_parse(body, len, rq, NULL), 0);
	assert_int_equal(rq->cp.n_sigs, 32);
	assert_int_equal(ldg_witness_add(t->w, &logs, wit_key, rq, T0, &ans,
					 NULL),
			 0);
	assert_int_equal(ans.verdict, LDG_WIT_COSIGNED);
	kept = latest(t);
	/* the log's note as it made it, then the cosignature */
	assert_int_equal(strncmp(kept, ours, strlen(ours)), 0);
	assert_string_equal(kept + strlen(ours), ans.line);
	assert_int_equal(ldg_checkpoint_parse(kept, strlen(kept), cp, NULL), 0);
	assert_int_equal(cp->n_sigs, 2);
	free(kept);
	free(body);
	free(sent);
	free(theirs);
	free(ours);
	free(cp);
	free(rq);
}

/* Concurrent requests, each from the stored size to its own size. */
struct racer {
	struct wit *t;
	uint64_t size;
	const char *body;
	size_t len;
	struct ldg_witness_answer ans;
	pthread_barrier_t *go;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct ldg_witness_req *rq = malloc(sizeof(*rq));

	if (ldg_witness_req_parse(r->body, r->len, rq, NULL) == 0) {
		pthread_barrier_wait(r->go);
		if (ldg_witness_add(r->t->w, &logs, wit_key, rq, T0, &r->ans,
				    NULL))
			r->ans.verdict = LDG_WIT_BAD_PROOF;
	}
	free(rq);
	return NULL;
}

static void test_add_one_winner_among_concurrent_requests(void **state)
{
	struct wit *t = *state;
	struct ldg_witness_answer ans;
	struct racer r[8];
	pthread_t th[8];
	pthread_barrier_t go;
	char *notes[8], *bodies[8], *note;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	int won = 0, sized = 0;

	assert_int_equal(add(t, leaves, 0, 4, ORIGIN, log_key, T0, &ans),
			 LDG_WIT_COSIGNED);
	pthread_barrier_init(&go, NULL, 8);
	for (int i = 0; i < 8; i++) {
		size_t len;
		notes[i] = note_of(leaves, 5 + (uint64_t)i, ORIGIN, log_key);
		bodies[i] = body_of(leaves, 4, 5 + (uint64_t)i, notes[i], &len);
		r[i] = (struct racer){ .t = t,
				       .size = 5 + (uint64_t)i,
				       .body = bodies[i],
				       .len = len,
				       .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	note = latest(t);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	for (int i = 0; i < 8; i++) {
		if (r[i].ans.verdict == LDG_WIT_COSIGNED) {
			won++;
			assert_int_equal(cp->size, r[i].size);
		} else {
			assert_int_equal(r[i].ans.verdict,
					 LDG_WIT_SIZE_MISMATCH);
			sized++;
		}
		free(notes[i]);
		free(bodies[i]);
	}
	assert_int_equal(won, 1);
	assert_int_equal(sized, 7);
	pthread_barrier_destroy(&go);
	free(note);
	free(cp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_round_trip_with_proof),
		cmocka_unit_test(test_req_old_zero_without_proof),
		cmocka_unit_test(test_req_rejects_malformed_bodies),
		cmocka_unit_test(test_req_rejects_a_body_over_the_limit),
		cmocka_unit_test(test_req_format_refuses_64_hashes),
		cmocka_unit_test(test_logs_parse_lines_comments_and_spaces),
		cmocka_unit_test(test_logs_refuse_naming_the_line),
		cmocka_unit_test_setup_teardown(test_add_cosigns_and_stores,
						wit_setup, wit_teardown),
		cmocka_unit_test_setup_teardown(test_add_refusals_store_nothing,
						wit_setup, wit_teardown),
		cmocka_unit_test_setup_teardown(
			test_add_ignores_signatures_by_unknown_keys, wit_setup,
			wit_teardown),
		cmocka_unit_test_setup_teardown(
			test_add_stores_only_the_logs_signatures, wit_setup,
			wit_teardown),
		cmocka_unit_test_setup_teardown(
			test_add_one_winner_among_concurrent_requests,
			wit_setup, wit_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
