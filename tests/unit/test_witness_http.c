/*
 * test_witness_http.c - both ends of C2SP tlog-witness in one process:
 * serve/witness_http.c (`ledger witness`, srv_witness_start()) on a
 * loopback port, and client/witness.c (clt_witness_add(), what
 * `checkpoint --witness` asks) against it: a cosignature, the 409
 * retry from the size the witness holds, a fork at the same size and
 * one after it named with both roots, an unknown log, an unreachable
 * witness; and the status of each verdict.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sodium.h>

#include "client.h"
#include "testlib.h"
#include "witness_http.h"

#define ORIGIN "example.com/deploy/prod"
#define LEAVES 32

static struct ldg_signer *log_key, *wit_key;
static uint8_t leaves[LEAVES][LDG_HASH_BYTES];
static uint8_t forked[LEAVES][LDG_HASH_BYTES]; /* leaves 0..5, then others */

struct env {
	char *dir;
	struct ldg_witness *db;
	struct ldg_witness_logs logs;
	struct srv_witness *sw;
	char url[64];
};

static int node(void *arg, unsigned height, uint64_t index,
		uint8_t out[LDG_HASH_BYTES])
{
	return tl_mth_node(arg, LEAVES, height, index, out);
}

static int group_setup(void **state)
{
	if (ldg_crypto_init() || curl_global_init(CURL_GLOBAL_DEFAULT) ||
	    ldg_signer_generate("log", &log_key, NULL) ||
	    ldg_signer_generate_alg("example.net/w1", LDG_ALG_COSIG, &wit_key,
				    NULL))
		return -1;
	randombytes_buf(leaves, sizeof(leaves));
	memcpy(forked, leaves, sizeof(forked));
	randombytes_buf(forked[6], sizeof(forked) - 6 * LDG_HASH_BYTES);
	return 0;
}

static int group_teardown(void **state)
{
	ldg_signer_free(log_key);
	ldg_signer_free(wit_key);
	curl_global_cleanup();
	return 0;
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct srv_witness_opts o;
	char vk[LDG_VKEY_TEXT_MAX], text[256];

	e->dir = tl_mkdtemp();
	ldg_vkey_format(ldg_signer_vkey(log_key), vk);
	snprintf(text, sizeof(text), "log %s %s\n", ORIGIN, vk);
	if (ldg_witness_logs_parse(text, &e->logs, NULL) ||
	    ldg_witness_open(e->dir, &e->db, NULL))
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	o = (struct srv_witness_opts){ .db = e->db,
				       .logs = &e->logs,
				       .key = wit_key };
	if (srv_witness_start(&ss, sizeof(*sin), &o, &e->sw, NULL))
		return -1;
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%u",
		 (unsigned)srv_witness_port(e->sw));
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	srv_witness_stop(e->sw);
	ldg_witness_close(e->db);
	ldg_witness_logs_free(&e->logs);
	tl_rmrf(e->dir);
	free(e->dir);
	free(e);
	return 0;
}

/* Asks e's witness to cosign the checkpoint of size leaves of l. */
static void ask(struct env *e, uint8_t (*l)[LDG_HASH_BYTES], uint64_t size,
		const char *origin, struct clt_witness_answer *ans)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	uint8_t root[LDG_HASH_BYTES];
	char *note = NULL;

	assert_int_equal(ldg_tlog_root(node, l, size, root), 0);
	assert_int_equal(ldg_checkpoint_make(origin, size, root, log_key, &note,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	assert_int_equal(clt_witness_add(e->url, note, cp, 0, node, l, ans,
					 NULL),
			 0);
	free(note);
	free(cp);
}

static void test_cosigns_then_retries_from_its_size(void **state)
{
	struct env *e = *state;
	struct clt_witness_answer *ans = malloc(sizeof(*ans));
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	char *note = NULL, *joined;
	uint8_t root[LDG_HASH_BYTES];
	uint64_t t = 0;

	ask(e, leaves, 5, ORIGIN, ans);
	assert_true(ans->cosigned);
	assert_int_equal(ans->status, 200);
	assert_false(ans->fork);
	assert_string_equal(ans->what, "cosigned");
	/* from 0 again: 409 with size 5, then from 5 with a proof */
	ask(e, leaves, 20, ORIGIN, ans);
	assert_true(ans->cosigned);
	assert_int_equal(ans->status, 200);
	/* the lines are the witness's cosignature of that very note */
	assert_int_equal(ldg_tlog_root(node, leaves, 20, root), 0);
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 20, root, log_key, &note,
					     NULL),
			 0);
	assert_true(asprintf(&joined, "%s%s", note, ans->lines) > 0);
	assert_int_equal(ldg_checkpoint_parse(joined, strlen(joined), cp, NULL),
			 0);
	assert_int_equal(ldg_cosig_verify(cp, ldg_signer_vkey(wit_key), &t), 0);
	free(joined);
	free(note);
	free(cp);
	free(ans);
}

static void test_fork_names_both_roots(void **state)
{
	struct env *e = *state;
	struct clt_witness_answer *ans = malloc(sizeof(*ans));
	uint8_t ours[LDG_HASH_BYTES], theirs[LDG_HASH_BYTES];
	char b64[45];

	ask(e, leaves, 10, ORIGIN, ans);
	assert_true(ans->cosigned);
	/* the same size, another root: 409 */
	ask(e, forked, 10, ORIGIN, ans);
	assert_false(ans->cosigned);
	assert_true(ans->fork);
	assert_int_equal(ans->status, 409);
	assert_true(ans->have_theirs && ans->have_ours);
	assert_int_equal(ans->their_size, 10);
	assert_int_equal(ldg_tlog_root(node, leaves, 10, theirs), 0);
	assert_int_equal(ldg_tlog_root(node, forked, 10, ours), 0);
	assert_memory_equal(ans->their_root, theirs, LDG_HASH_BYTES);
	assert_memory_equal(ans->our_root, ours, LDG_HASH_BYTES);
	sodium_bin2base64(b64, sizeof(b64), theirs, LDG_HASH_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(strstr(ans->what, b64));
	sodium_bin2base64(b64, sizeof(b64), ours, LDG_HASH_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(strstr(ans->what, b64));
	/* beyond it: the proof from 10 does not verify, 422 */
	ask(e, forked, 14, ORIGIN, ans);
	assert_true(ans->fork);
	assert_int_equal(ans->status, 422);
	assert_int_equal(ans->their_size, 10);
	assert_memory_equal(ans->our_root, ours, LDG_HASH_BYTES);
	/* a tree smaller than what it holds: lost entries, not a fork
	 * that this tree can show */
	ask(e, leaves, 4, ORIGIN, ans);
	assert_false(ans->cosigned);
	assert_false(ans->fork);
	assert_true(ans->have_theirs);
	assert_false(ans->have_ours);
	assert_non_null(strstr(ans->what, "more than this ledger's 4"));
	free(ans);
}

/* A node source that has no hash (a store that cannot be read). */
static int no_node(void *arg, unsigned height, uint64_t index,
		   uint8_t out[LDG_HASH_BYTES])
{
	return -EIO;
}

static void test_fork_without_our_root_claims_none(void **state)
{
	struct env *e = *state;
	struct clt_witness_answer *ans = malloc(sizeof(*ans));
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	uint8_t root[LDG_HASH_BYTES], zero[LDG_HASH_BYTES] = { 0 };
	char *note = NULL, b64[45];

	ask(e, leaves, 10, ORIGIN, ans);
	assert_true(ans->cosigned);
	/* the forked note at 10: its proof from 10 needs no hash, and
	 * this tree's root at 10 cannot be had from no_node */
	assert_int_equal(ldg_tlog_root(node, forked, 10, root), 0);
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 10, root, log_key, &note,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	assert_int_equal(clt_witness_add(e->url, note, cp, 10, no_node, NULL,
					 ans, NULL),
			 0);
	assert_true(ans->fork);
	assert_true(ans->have_theirs);
	assert_false(ans->have_ours);
	/* no root of all zeros named as this ledger's */
	sodium_bin2base64(b64, sizeof(b64), zero, LDG_HASH_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	assert_null(strstr(ans->what, b64));
	assert_non_null(strstr(ans->what, "this ledger's root at 10 cannot "
					  "be computed"));
	free(note);
	free(cp);
	free(ans);
}

static void test_refusals_and_unreachable(void **state)
{
	struct env *e = *state;
	struct clt_witness_answer *ans = malloc(sizeof(*ans));
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	uint8_t root[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	char *note = NULL;

	ask(e, leaves, 3, "other.example/log", ans);
	assert_false(ans->cosigned);
	assert_false(ans->fork);
	assert_int_equal(ans->status, 404);
	assert_non_null(strstr(ans->what, "HTTP 404: unknown log"));
	assert_int_equal(ldg_tlog_root(node, leaves, 3, root), 0);
	assert_int_equal(ldg_checkpoint_make(ORIGIN, 3, root, log_key, &note,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	assert_int_equal(clt_witness_add("http://127.0.0.1:1", note, cp, 0,
					 node, leaves, ans, &err),
			 -EIO);
	assert_false(ans->cosigned);
	assert_non_null(strstr(ans->what, "cannot reach"));
	free(note);
	free(cp);
	free(ans);
}

static size_t keep(char *p, size_t size, size_t nmemb, void *cls)
{
	size_t n = size * nmemb, *at = cls;
	char *buf = (char *)(at + 1);

	if (*at + n < 256) {
		memcpy(buf + *at, p, n);
		*at += n;
		buf[*at] = '\0';
	}
	return n;
}

/* method on path: the status, and the body's first bytes into body. */
static long request(struct env *e, const char *method, const char *path,
		    char body[256])
{
	struct {
		size_t at;
		char buf[256];
	} b = { 0 };
	char url[128];
	long status = 0;
	CURL *h = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", e->url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	memcpy(body, b.buf, sizeof(b.buf));
	return status;
}

static void test_another_method_names_the_right_one(void **state)
{
	struct env *e = *state;
	char body[256];

	assert_int_equal(request(e, "PUT", "/checkpoint", body), 405);
	assert_string_equal(body, "/checkpoint takes GET only\n");
	assert_int_equal(request(e, "POST", "/checkpoint", body), 405);
	assert_string_equal(body, "/checkpoint takes GET only\n");
	assert_int_equal(request(e, "PUT", "/add-checkpoint", body), 405);
	assert_string_equal(body, "/add-checkpoint takes POST only\n");
	assert_int_equal(request(e, "GET", "/add-checkpoint", body), 405);
	assert_string_equal(body, "/add-checkpoint takes POST only\n");
}

static void test_status_of_each_verdict(void **state)
{
	assert_int_equal(srv_witness_status(LDG_WIT_COSIGNED), 200);
	assert_int_equal(srv_witness_status(LDG_WIT_UNKNOWN_LOG), 404);
	assert_int_equal(srv_witness_status(LDG_WIT_UNTRUSTED), 403);
	assert_int_equal(srv_witness_status(LDG_WIT_OLD_TOO_BIG), 400);
	assert_int_equal(srv_witness_status(LDG_WIT_SIZE_MISMATCH), 409);
	assert_int_equal(srv_witness_status(LDG_WIT_ROOT_MISMATCH), 409);
	assert_int_equal(srv_witness_status(LDG_WIT_BAD_PROOF), 422);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_cosigns_then_retries_from_its_size, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(test_fork_names_both_roots,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			test_fork_without_our_root_claims_none, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_and_unreachable,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			test_another_method_names_the_right_one, env_setup,
			env_teardown),
		cmocka_unit_test(test_status_of_each_verdict),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
