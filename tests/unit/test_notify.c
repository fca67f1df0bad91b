/*
 * test_notify.c - `ledger notify`'s pieces: the message (render/'s
 * rnd_notify(): its text, exactly, and its entry, `show --json`'s), the
 * cursor file (client/notify.c: read, atomic write, default path), the
 * HMAC header (RFC 4231 vectors) and the waits between tries.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "notify.h"
#include "render.h"

/* ---- the message ---- */

/* The body of entry seq, parsed; with its "text" in *text. */
static json_t *message(struct fx *f, uint64_t seq, const char *link,
		       const char **text)
{
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	char *out = NULL;
	size_t len = 0;
	json_t *j;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	if (rnd_notify(r, seq, link, &out, &len, &err))
		fail_msg("rnd_notify %llu: %s", (unsigned long long)seq,
			 err.msg);
	ldg_read_end(r);
	assert_int_equal(strlen(out), len);
	j = json_loadb(out, len, 0, NULL);
	free(out);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 2);
	*text = json_string_value(json_object_get(j, "text"));
	assert_non_null(*text);
	return j;
}

static uint64_t set_reason(struct fx *f, const char *target, struct ldg_kv *kv,
			   size_t n, const char *reason)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t seq;

	if (ldg_set(f->s, f->admin, target, kv, n, reason, NULL, 0, 0, &res,
		    &err))
		fail_msg("set: %s", err.msg);
	seq = last_seq(&res);
	ldg_result_free(&res);
	return seq;
}

static void test_notify_text_names_who_what_where_why_and_links(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv[] = { { .key = "image.tag", .value = "3f2a9c1" },
			       { .key = "replicas", .value = "2" } };
	uint64_t seq = set_reason(f, "staging/api", kv, 2, "PR #42");
	const char *text;
	json_t *j;

	j = message(f, seq, "https://ledger.example.com/", &text);
	assert_string_equal(text, "admin set staging/api image.tag=3f2a9c1, "
				  "replicas=2 (seq 2): PR #42 "
				  "<https://ledger.example.com/#/e/2>");
	json_decref(j);
	/* no link without a base; the base's trailing slashes are one */
	j = message(f, seq, NULL, &text);
	assert_string_equal(text, "admin set staging/api image.tag=3f2a9c1, "
				  "replicas=2 (seq 2): PR #42");
	json_decref(j);
	j = message(f, seq, "http://h:8080", &text);
	assert_non_null(strstr(text, " <http://h:8080/#/e/2>"));
	json_decref(j);
}

static void test_notify_entry_is_show_json(void **state)
{
	struct fx *f = *state;
	uint64_t seq = must_set(f, "staging/api", "image.tag", "v1");
	struct ldg_read *r;
	json_t *shown, *j;
	const char *text;
	char *out;
	size_t len;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(rnd_show(r, seq, true, &out, &len, NULL), 0);
	ldg_read_end(r);
	shown = json_loadb(out, len, 0, NULL);
	free(out);
	j = message(f, seq, NULL, &text);
	assert_true(json_equal(json_object_get(j, "entry"), shown));
	json_decref(shown);
	json_decref(j);
}

static void test_notify_text_escapes_slack_markup(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv[] = { { .key = "note", .value = "a<b>&c" } };
	uint64_t seq = set_reason(f, "prod/web", kv, 1, "fix <!channel> & co");
	const char *text;
	json_t *j = message(f, seq, "https://x.example", &text);

	assert_string_equal(text,
			    "admin set prod/web note=a&lt;b&gt;&amp;c (seq 2): "
			    "fix &lt;!channel&gt; &amp; co "
			    "<https://x.example/#/e/2>");
	/* the entry carries the values exactly */
	assert_string_equal(json_string_value(
				    json_object_get(json_object_get(j, "entry"),
						    "reason")),
			    "fix <!channel> & co");
	json_decref(j);
}

static void test_notify_text_of_other_kinds(void **state)
{
	struct fx *f = *state;
	const char *keys[] = { "image.tag" };
	struct ldg_result res = { 0 };
	const char *text;
	uint64_t seq;
	json_t *j;

	must_set(f, "staging/api", "image.tag", "v1");
	assert_int_equal(ldg_unset(f->s, f->admin, "staging/api", keys, 1,
				   "gone", NULL, 0, 0, &res, NULL),
			 0);
	seq = last_seq(&res);
	ldg_result_free(&res);
	j = message(f, seq, NULL, &text);
	assert_string_equal(text, "admin unset staging/api -image.tag (seq 3): "
				  "gone");
	json_decref(j);
	assert_int_equal(lock_t(f, f->admin, "staging/api", true, &seq), 0);
	j = message(f, seq, NULL, &text);
	assert_string_equal(text, "admin lock staging/api (seq 4): hold it");
	json_decref(j);
	/* an entry on no target: the key's name, role and scopes */
	j = message(f, 1, NULL, &text);
	assert_non_null(strstr(text, "admin init origin=" ORIGIN ", +key "
				     "admin (admin: *) (seq 1): "));
	json_decref(j);
}

static void test_notify_text_cuts_long_changes_at_a_character(void **state)
{
	struct fx *f = *state;
	char value[LDG_VALUE_MAX + 1];
	struct ldg_kv kv[] = { { .key = "note", .value = value } };
	const char *text, *cut, *end;
	uint64_t seq;
	json_t *j;

	/* "é" (2 bytes) over and over: a cut at a byte count would
	 * split one */
	for (size_t i = 0; i + 2 <= 1000; i += 2)
		memcpy(value + i, "\xc3\xa9", 2);
	value[1000] = '\0';
	seq = set_reason(f, "staging/api", kv, 1, "long");
	j = message(f, seq, NULL, &text);
	cut = strstr(text, "note=");
	end = strstr(text, "... (seq 2): long");
	assert_non_null(cut);
	assert_non_null(end);
	assert_true(end - cut <= RND_NOTIFY_CHANGES_MAX - 3);
	assert_true(end - cut >= RND_NOTIFY_CHANGES_MAX - 5);
	/* whole characters only: jansson took it as UTF-8, and the last
	 * byte before the "..." ends an "é" */
	assert_int_equal((unsigned char)end[-1], 0xa9);
	assert_int_equal((unsigned char)end[-2], 0xc3);
	json_decref(j);
}

static void test_notify_names_a_pending_proposal(void **state)
{
	struct fx *f = *state;
	const char *text;
	uint64_t seq;
	json_t *j;

	add_key(f, f->deployer, "deployer", "*");
	policy(f, "production/*", 1, 0, NULL);
	assert_int_equal(set_kv(f, f->deployer, "production/api", "image.tag",
				"v9", false, &seq, NULL),
			 0);
	j = message(f, seq, NULL, &text);
	assert_string_equal(text, "deployer set production/api image.tag=v9 "
				  "(seq 4, proposal: needs 1 approval): "
				  "change");
	json_decref(j);
}

static void test_notify_of_no_entry_is_enoent(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(rnd_notify(r, 99, NULL, &out, &len, &err), -ENOENT);
	ldg_read_end(r);
	assert_null(out);
}

/* ---- the cursor file ---- */

static void path_in(struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->tmp, name);
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void test_cursor_round_trips(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t seq = 7;
	char p[4200];
	struct stat st;

	path_in(f, "cursor", p, sizeof(p));
	assert_int_equal(clt_cursor_read(p, &seq, &err), -ENOENT);
	assert_int_equal(clt_cursor_write(p, 42, &err), 0);
	assert_int_equal(clt_cursor_read(p, &seq, &err), 0);
	assert_int_equal(seq, 42);
	/* replaced, not appended to */
	assert_int_equal(clt_cursor_write(p, 0, &err), 0);
	assert_int_equal(clt_cursor_read(p, &seq, &err), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(clt_cursor_write(p, INT64_MAX, &err), 0);
	assert_int_equal(clt_cursor_read(p, &seq, &err), 0);
	assert_int_equal(seq, INT64_MAX);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 20);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_cursor_write_leaves_no_temporary_file(void **state)
{
	struct fx *f = *state;
	char p[4200], cmd[4400];

	path_in(f, "c", p, sizeof(p));
	for (uint64_t s = 1; s <= 20; s++)
		assert_int_equal(clt_cursor_write(p, s, NULL), 0);
	/* only "c" (and the fixture's ledger and key files) */
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls '%s' | grep '^c\\.')\"",
		 f->tmp);
	assert_int_equal(system(cmd), 0);
}

static void test_cursor_write_into_missing_directory_says_so(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	char p[4200];

	path_in(f, "no/such/dir/cursor", p, sizeof(p));
	assert_int_equal(clt_cursor_write(p, 1, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot write the cursor file"));
	assert_non_null(strstr(err.msg, p));
}

static void test_cursor_read_refuses_anything_else(void **state)
{
	static const char *bad[] = {
		"",	"\n",	  "42",	    "042\n",
		"-1\n", "+1\n",	  "4 2\n",  "42\n\n",
		"x\n",	"1\n2\n", "42\r\n", "9223372036854775808\n"
	};
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint64_t seq = 5;
	char p[4200];

	path_in(f, "bad", p, sizeof(p));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(p, bad[i]);
		memset(&err, 0, sizeof(err));
		if (clt_cursor_read(p, &seq, &err) != -EINVAL)
			fail_msg("cursor \"%s\" was taken", bad[i]);
		assert_non_null(strstr(err.msg, "not a cursor file"));
	}
	/* a directory is not a cursor file either */
	assert_int_equal(clt_cursor_read(f->tmp, &seq, &err), -EINVAL);
	assert_int_equal(seq, 5);
}

static void test_cursor_default_path_per_ledger_and_webhook(void **state)
{
	char a[4200], b[4200], c[4200];
	const char *want = "/state/ledger/notify-";

	setenv("XDG_STATE_HOME", "/state", 1);
	assert_int_equal(clt_cursor_default("o1", "http://h/1", a, sizeof(a),
					    NULL),
			 0);
	assert_int_equal(strncmp(a, want, strlen(want)), 0);
	assert_int_equal(strlen(a), strlen(want) + 16);
	assert_int_equal(clt_cursor_default("o1", "http://h/1", b, sizeof(b),
					    NULL),
			 0);
	assert_string_equal(a, b);
	assert_int_equal(clt_cursor_default("o2", "http://h/1", b, sizeof(b),
					    NULL),
			 0);
	assert_string_not_equal(a, b);
	assert_int_equal(clt_cursor_default("o1", "http://h/2", c, sizeof(c),
					    NULL),
			 0);
	assert_string_not_equal(a, c);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/x", 1);
	assert_int_equal(clt_cursor_default("o1", "http://h/1", b, sizeof(b),
					    NULL),
			 0);
	assert_int_equal(strncmp(b, "/home/x/.local/state/ledger/notify-", 35),
			 0);
	assert_string_equal(b + 35, a + strlen(want));
	unsetenv("HOME");
	assert_int_equal(clt_cursor_default("o1", "http://h/1", b, sizeof(b),
					    NULL),
			 -ENOENT);
	setenv("XDG_STATE_HOME", "/state", 1);
	assert_int_equal(clt_cursor_default("o1", "http://h/1", b, 20, NULL),
			 -ENAMETOOLONG);
	unsetenv("XDG_STATE_HOME");
}

/* ---- the signature ---- */

static void test_sign_matches_rfc4231(void **state)
{
	char out[CLT_SIG_HEADER_MAX];
	uint8_t key[131];
	const char *data;

	/* test case 2: a key shorter than the block */
	data = "what do ya want for nothing?";
	clt_notify_sign((const uint8_t *)"Jefe", 4, data, strlen(data), out);
	assert_string_equal(out, "sha256=5bdcc146bf60754e6a042426089575c75a00"
				 "3f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than the block is hashed first */
	memset(key, 0xaa, sizeof(key));
	data = "Test Using Larger Than Block-Size Key - Hash Key First";
	clt_notify_sign(key, sizeof(key), data, strlen(data), out);
	assert_string_equal(out, "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0b"
				 "c6213728c5140546040f0ee37f54");
}

/* ---- what log lines show of a webhook ---- */

static void test_hook_name_is_scheme_host_port_only(void **state)
{
	char out[128];

	assert_int_equal(clt_hook_name("https://hooks.slack.com/services/T0/"
				       "B0/sEcReT",
				       out, sizeof(out)),
			 0);
	assert_string_equal(out, "https://hooks.slack.com");
	assert_int_equal(clt_hook_name("http://127.0.0.1:8080/hook?token=x",
				       out, sizeof(out)),
			 0);
	assert_string_equal(out, "http://127.0.0.1:8080");
	assert_int_equal(clt_hook_name("https://[::1]:9/x", out, sizeof(out)),
			 0);
	assert_string_equal(out, "https://[::1]:9");
	assert_int_equal(clt_hook_name("ftp://example.com/", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(clt_hook_name("hooks.slack.com/x", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(clt_hook_name("http://", out, sizeof(out)), -EINVAL);
	assert_int_equal(clt_hook_name("", out, sizeof(out)), -EINVAL);
}

/* ---- the POST ---- */

/* curl_slist_append() as libcurl's, but out of memory at its
 * slist_fail_at-th call from now (the test links with
 * -Wl,--wrap=curl_slist_append; 0: never). */
struct curl_slist *__real_curl_slist_append(struct curl_slist *list,
					    const char *s);
struct curl_slist *__wrap_curl_slist_append(struct curl_slist *list,
					    const char *s);
static int slist_fail_at, slist_calls;

struct curl_slist *__wrap_curl_slist_append(struct curl_slist *list,
					    const char *s)
{
	if (slist_fail_at && ++slist_calls == slist_fail_at)
		return NULL;
	return __real_curl_slist_append(list, s);
}

/* A header that cannot be added is no request: nothing is sent without
 * its Content-Type or, above all, without its X-Ledger-Signature. The URL
 * is a closed port: a POST that went out anyway fails with -EIO. */
static void test_post_without_a_header_is_enomem_and_sends_nothing(void **state)
{
	static const uint8_t secret[] = "s3cret";
	volatile sig_atomic_t stop = 0;

	/* Content-Type, X-Ledger-Seq, X-Ledger-Signature, Expect */
	for (int at = 1; at <= 4; at++) {
		struct clt_hook_answer a;
		struct ldg_err err = { 0 };

		slist_fail_at = at;
		slist_calls = 0;
		assert_int_equal(clt_notify_post("http://127.0.0.1:1/hook",
						 "{}", 2, 7, secret,
						 sizeof(secret) - 1, 5, &stop,
						 &a, &err),
				 -ENOMEM);
		assert_non_null(strstr(err.msg, "out of memory"));
	}
	slist_fail_at = 0;
}

/* ---- the waits ---- */

static void test_judge_takes_2xx_skips_4xx_but_429(void **state)
{
	static const long taken[] = { 200, 201, 202, 204, 299 };
	static const long skip[] = { 400, 401, 403, 404, 410, 413, 422, 499 };
	static const long retry[] = { 0,   100, 199, 300, 301, 302, 307,
				      429, 500, 502, 503, 504, 599, 600 };

	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		assert_int_equal(clt_hook_judge(taken[i]), CLT_HOOK_TAKEN);
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		assert_int_equal(clt_hook_judge(skip[i]), CLT_HOOK_SKIP);
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		assert_int_equal(clt_hook_judge(retry[i]), CLT_HOOK_RETRY);
}

static void test_backoff_doubles_to_the_cap(void **state)
{
	static const uint64_t want[] = { 1, 1, 2, 4, 8, 16, 32, 60, 60, 60 };

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(clt_backoff_ms(i, -1, 1000), want[i] * 1000);
	assert_int_equal(clt_backoff_ms(64, -1, 1000), 60000);
	assert_int_equal(clt_backoff_ms(UINT32_MAX, -1, 1000), 60000);
	assert_int_equal(clt_backoff_ms(3, -1, 20), 80);
}

static void test_backoff_honours_retry_after(void **state)
{
	assert_int_equal(clt_backoff_ms(1, 0, 1000), 0);
	assert_int_equal(clt_backoff_ms(9, 0, 1000), 0);
	assert_int_equal(clt_backoff_ms(1, 5, 1000), 5000);
	/* beyond the cap of the doubling, up to an hour */
	assert_int_equal(clt_backoff_ms(1, 600, 1000), 600000);
	assert_int_equal(clt_backoff_ms(1, 86400, 1000),
			 CLT_RETRY_AFTER_MAX * 1000ull);
	assert_int_equal(clt_backoff_ms(1, 5, 20), 100);
}

static void test_backoff_unit_is_a_test_builds_only(void **state)
{
	setenv("LEDGER_NOTIFY_BACKOFF_MS", "25", 1);
	assert_int_equal(clt_backoff_unit_ms(), ldg_test_clock() ? 25 : 1000);
	setenv("LEDGER_NOTIFY_BACKOFF_MS", "0", 1);
	assert_int_equal(clt_backoff_unit_ms(), 1000);
	setenv("LEDGER_NOTIFY_BACKOFF_MS", "60001", 1);
	assert_int_equal(clt_backoff_unit_ms(), 1000);
	setenv("LEDGER_NOTIFY_BACKOFF_MS", "2x", 1);
	assert_int_equal(clt_backoff_unit_ms(), 1000);
	unsetenv("LEDGER_NOTIFY_BACKOFF_MS");
	assert_int_equal(clt_backoff_unit_ms(), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_notify_text_names_who_what_where_why_and_links),
		T(test_notify_entry_is_show_json),
		T(test_notify_text_escapes_slack_markup),
		T(test_notify_text_of_other_kinds),
		T(test_notify_text_cuts_long_changes_at_a_character),
		T(test_notify_names_a_pending_proposal),
		T(test_notify_of_no_entry_is_enoent),
		T(test_cursor_round_trips),
		T(test_cursor_write_leaves_no_temporary_file),
		T(test_cursor_write_into_missing_directory_says_so),
		T(test_cursor_read_refuses_anything_else),
		cmocka_unit_test(
			test_cursor_default_path_per_ledger_and_webhook),
		cmocka_unit_test(test_sign_matches_rfc4231),
		cmocka_unit_test(test_hook_name_is_scheme_host_port_only),
		cmocka_unit_test(
			test_post_without_a_header_is_enomem_and_sends_nothing),
		cmocka_unit_test(test_judge_takes_2xx_skips_4xx_but_429),
		cmocka_unit_test(test_backoff_doubles_to_the_cap),
		cmocka_unit_test(test_backoff_honours_retry_after),
		cmocka_unit_test(test_backoff_unit_is_a_test_builds_only),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
