/* Unit tests for ledger/names.c: the naming rules of SPEC.md section 1. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

/* n copies of c, NUL-terminated; caller frees. */
static char *rep(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* a string made of head + n copies of c + tail; caller frees. */
static char *build(const char *head, char c, size_t n, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + n + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, c, n);
	memcpy(s + hl + n, tail, tl + 1);
	return s;
}

/* ---- cluster and release ---- */

static void test_cluster_accepts_dns_labels(void **state)
{
	assert_int_equal(ldg_check_cluster("a", NULL), 0);
	assert_int_equal(ldg_check_cluster("0", NULL), 0);
	assert_int_equal(ldg_check_cluster("prod-eu-1", NULL), 0);
	assert_int_equal(ldg_check_cluster("a--b", NULL), 0);
}

static void test_cluster_rejects_bad_characters_and_edges(void **state)
{
	static const char *const bad[] = {
		"",    "-a",  "a-",	  "A",	 "Prod", "a_b", "a.b",
		"a b", "a/b", "\xc3\xa9", "a\n", "*",	 "-",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldg_err err = { 0 };
		assert_int_equal(ldg_check_cluster(bad[i], &err), -EINVAL);
		assert_int_equal(err.code, -EINVAL);
		assert_true(strlen(err.msg) > 0);
	}
}

static void test_cluster_length_boundary_is_63(void **state)
{
	char *ok = rep('c', 63), *bad = rep('c', 64);

	assert_int_equal(ldg_check_cluster(ok, NULL), 0);
	assert_int_equal(ldg_check_cluster(bad, NULL), -EINVAL);
	free(ok);
	free(bad);
}

static void test_release_length_boundary_is_53(void **state)
{
	char *ok = rep('r', 53), *bad = rep('r', 54);

	assert_int_equal(ldg_check_release(ok, NULL), 0);
	assert_int_equal(ldg_check_release(bad, NULL), -EINVAL);
	/* 54 is fine for a cluster: the limits differ */
	assert_int_equal(ldg_check_cluster(bad, NULL), 0);
	free(ok);
	free(bad);
}

static void test_release_rejects_what_cluster_rejects(void **state)
{
	assert_int_equal(ldg_check_release("api", NULL), 0);
	assert_int_equal(ldg_check_release("", NULL), -EINVAL);
	assert_int_equal(ldg_check_release("-api", NULL), -EINVAL);
	assert_int_equal(ldg_check_release("api-", NULL), -EINVAL);
	assert_int_equal(ldg_check_release("API", NULL), -EINVAL);
	assert_int_equal(ldg_check_release("my_api", NULL), -EINVAL);
}

/* ---- target ---- */

static void test_target_needs_exactly_one_slash(void **state)
{
	assert_int_equal(ldg_check_target("staging/api", NULL), 0);
	assert_int_equal(ldg_check_target("staging", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("staging/api/x", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("/api", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("staging/", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("/", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("Staging/api", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("staging/Api", NULL), -EINVAL);
	assert_int_equal(ldg_check_target("staging/*", NULL), -EINVAL);
}

static void test_target_length_limits_apply_per_part(void **state)
{
	char *ok2, *bad_c, *bad_r;

	ok2 = malloc(63 + 1 + 53 + 1);
	assert_non_null(ok2);
	memset(ok2, 'c', 63);
	ok2[63] = '/';
	memset(ok2 + 64, 'r', 53);
	ok2[117] = '\0';
	assert_int_equal(strlen(ok2), LDG_TARGET_MAX);
	assert_int_equal(ldg_check_target(ok2, NULL), 0);

	bad_c = build("", 'c', 64, "/api");
	assert_int_equal(ldg_check_target(bad_c, NULL), -EINVAL);
	bad_r = build("prod/", 'r', 54, "");
	assert_int_equal(ldg_check_target(bad_r, NULL), -EINVAL);
	free(ok2);
	free(bad_c);
	free(bad_r);
}

static void test_target_split_returns_both_parts(void **state)
{
	char cluster[LDG_CLUSTER_MAX + 1];
	const char *release = NULL;
	char *long_cluster = build("", 'c', 64, "/api");

	assert_int_equal(ldg_target_split("staging/api", cluster, &release), 0);
	assert_string_equal(cluster, "staging");
	assert_string_equal(release, "api");
	assert_int_equal(ldg_target_split("staging", cluster, &release),
			 -EINVAL);
	/* never overflows the caller's buffer */
	assert_int_equal(ldg_target_split(long_cluster, cluster, &release),
			 -EINVAL);
	free(long_cluster);
}

/* ---- key ---- */

static void test_key_accepts_dotted_helm_paths(void **state)
{
	assert_int_equal(ldg_check_key("image.tag", NULL), 0);
	assert_int_equal(ldg_check_key("a", NULL), 0);
	assert_int_equal(ldg_check_key("resources.limits.cpu", NULL), 0);
	assert_int_equal(ldg_check_key("A_b-C.d_0", NULL), 0);
	assert_int_equal(ldg_check_key("-.-", NULL), 0);
}

static void test_key_rejects_empty_segments_and_bad_characters(void **state)
{
	static const char *const bad[] = {
		"",	".",	"..",  ".a",   "a.",	     "a..b",
		"a b",	"a/b",	"a:b", "a=b",  "!lock",	     "\xc3\xa9",
		"a\tb", "a[0]", "*",   "a.b.", "image.tag ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_check_key(bad[i], NULL), -EINVAL);
}

static void test_key_length_boundary_is_253(void **state)
{
	char *ok = rep('k', 253), *bad = rep('k', 254);
	char *dotted_ok = build("a.", 'k', 251, "");

	assert_int_equal(ldg_check_key(ok, NULL), 0);
	assert_int_equal(ldg_check_key(bad, NULL), -EINVAL);
	assert_int_equal(strlen(dotted_ok), 253);
	assert_int_equal(ldg_check_key(dotted_ok, NULL), 0);
	free(ok);
	free(bad);
	free(dotted_ok);
}

/* ---- value, reason and text ---- */

static void test_value_length_boundary_is_4096_bytes(void **state)
{
	char *ok = rep('v', 4096), *bad = rep('v', 4097);
	/* 4094 ASCII bytes + a 2-byte character = exactly 4096 bytes */
	char *multi = build("", 'v', 4094, "\xc3\xa9");
	char *multi_bad = build("", 'v', 4095, "\xc3\xa9");

	assert_int_equal(ldg_check_value(ok, 4096, NULL), 0);
	assert_int_equal(ldg_check_value(bad, 4097, NULL), -EINVAL);
	assert_int_equal(ldg_check_value(multi, strlen(multi), NULL), 0);
	assert_int_equal(ldg_check_value(multi_bad, strlen(multi_bad), NULL),
			 -EINVAL);
	assert_int_equal(ldg_check_value("", 0, NULL), -EINVAL);
	assert_int_equal(ldg_check_value("x", 1, NULL), 0);
	free(ok);
	free(bad);
	free(multi);
	free(multi_bad);
}

static void test_value_accepts_valid_utf8(void **state)
{
	static const char *const good[] = {
		"1.2.3",
		"caf\xc3\xa9",	    /* U+00E9, 2 bytes */
		"\xc2\xa0",	    /* U+00A0, first non-C1 above 0x7f */
		"\xe2\x82\xac",	    /* U+20AC euro, 3 bytes */
		"\xef\xbf\xbd",	    /* U+FFFD */
		"\xed\x9f\xbf",	    /* U+D7FF, just below surrogates */
		"\xee\x80\x80",	    /* U+E000, just above surrogates */
		"\xf0\x9f\x98\x80", /* U+1F600, 4 bytes */
		"\xf4\x8f\xbf\xbf", /* U+10FFFF, the last code point */
		"with spaces and \"quotes\" 'and' $(shell) ;",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(ldg_check_value(good[i], strlen(good[i]),
						 NULL),
				 0);
}

static void test_value_rejects_overlong_utf8(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf",	    /* '/' in 2 bytes */
		"\xc1\xbf",	    /* U+007F in 2 bytes */
		"\xe0\x80\xaf",	    /* '/' in 3 bytes */
		"\xe0\x9f\xbf",	    /* U+07FF in 3 bytes */
		"\xf0\x80\x80\xaf", /* '/' in 4 bytes */
		"\xf0\x8f\xbf\xbf", /* U+FFFF in 4 bytes */
		"\xc0\x80",	    /* "modified UTF-8" NUL */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_check_value(bad[i], strlen(bad[i]), NULL),
				 -EINVAL);
}

static void test_value_rejects_surrogates_and_beyond_unicode(void **state)
{
	static const char *const bad[] = {
		"\xed\xa0\x80",		    /* U+D800 */
		"\xed\xbf\xbf",		    /* U+DFFF */
		"\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 pair */
		"\xf4\x90\x80\x80",	    /* U+110000 */
		"\xf5\x80\x80\x80",	    /* lead byte beyond F4 */
		"\xf8\x88\x80\x80\x80",	    /* 5-byte form */
		"\xfe",
		"\xff",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_check_value(bad[i], strlen(bad[i]), NULL),
				 -EINVAL);
}

static void test_value_rejects_truncated_and_stray_bytes(void **state)
{
	static const char *const bad[] = {
		"\xc3",		/* 2-byte lead at the end */
		"\xe2\x82",	/* 3-byte sequence cut short */
		"\xf0\x9f\x98", /* 4-byte sequence cut short */
		"\xe2\x82x",	/* ASCII where a continuation belongs */
		"\x80",		/* lone continuation */
		"a\xbf",	/* continuation after ASCII */
		"\xc3\xa9\xa9", /* one continuation too many */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_check_value(bad[i], strlen(bad[i]), NULL),
				 -EINVAL);
	/* a valid sequence whose last byte lies beyond len */
	assert_int_equal(ldg_check_value("\xe2\x82\xac", 2, NULL), -EINVAL);
}

static void test_value_rejects_c0_del_and_c1_controls(void **state)
{
	static const char *const bad[] = {
		"a\tb",	    "a\nb",
		"a\rb",	    "\x01",
		"\x1b[31m", "\x1f",
		"a\x7f",    "\xc2\x80",		  /* U+0080 */
		"\xc2\x85", /* NEL */ "\xc2\x9b", /* CSI */
		"\xc2\x9f",			  /* U+009F */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_check_value(bad[i], strlen(bad[i]), NULL),
				 -EINVAL);
}

static void test_value_rejects_embedded_nul(void **state)
{
	assert_int_equal(ldg_check_value("ab\0cd", 5, NULL), -EINVAL);
	assert_int_equal(ldg_check_value("\0", 1, NULL), -EINVAL);
}

static void test_text_ok_covers_whole_length(void **state)
{
	assert_true(ldg_text_ok("", 0));
	assert_true(ldg_text_ok("abc", 3));
	assert_false(ldg_text_ok("ab\x7f", 3));
	assert_true(ldg_text_ok("ab\x7f", 2));
	assert_false(ldg_text_ok("\xc2\x9f", 2));
}

static void test_utf8_len_of_one_character(void **state)
{
	uint32_t cp;

	assert_int_equal(ldg_utf8_len("a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(ldg_utf8_len("\x01", 1, &cp), 1); /* a control */
	assert_int_equal(ldg_utf8_len("\xc2\x85", 2, &cp), 2);
	assert_int_equal(cp, 0x85);
	assert_int_equal(ldg_utf8_len("\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(ldg_utf8_len("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(ldg_utf8_len("\xe2\x80\xae", 2, &cp), 0); /* cut */
	assert_int_equal(ldg_utf8_len("\xa9", 1, &cp), 0);	   /* stray */
	assert_int_equal(ldg_utf8_len("\xc0\xaf", 2, &cp), 0); /* overlong */
	assert_int_equal(ldg_utf8_len("\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(ldg_utf8_len("", 0, &cp), 0);
}

/* A message quoting bytes that are not UTF-8 (a damaged entry's key, a
 * character cut by %.80s) is still text: each such byte is '?'. */
static void test_error_messages_are_always_utf8(void **state)
{
	struct ldg_err err;

	ldg_err_set(&err, -EINVAL, "invalid key \"%s\"", "replicas\xa9");
	assert_string_equal(err.msg, "invalid key \"replicas?\"");
	ldg_err_set(&err, -EINVAL, "%.4s|", "ab\xe2\x80\xae");
	assert_string_equal(err.msg, "ab??|");
	ldg_err_set(&err, -EINVAL, "ok \xe2\x80\xae \x01 \xc3\xa9");
	assert_string_equal(err.msg, "ok \xe2\x80\xae \x01 \xc3\xa9");
	ldg_err_prefix(&err, "key \"%s\"", "\xff");
	assert_string_equal(err.msg,
			    "key \"?\": ok \xe2\x80\xae \x01 \xc3\xa9");
}

/* The 14 display controls, found by code point and offset; writers
 * refuse them in new text, the format (and so old entries) allows them. */
static void test_display_controls_refused_in_new_text_only(void **state)
{
	static const struct {
		const char *utf8;
		uint32_t cp;
	} ctl[] = {
		{ "\xd8\x9c", 0x061c },	    { "\xe2\x80\x8e", 0x200e },
		{ "\xe2\x80\x8f", 0x200f }, { "\xe2\x80\xaa", 0x202a },
		{ "\xe2\x80\xab", 0x202b }, { "\xe2\x80\xac", 0x202c },
		{ "\xe2\x80\xad", 0x202d }, { "\xe2\x80\xae", 0x202e },
		{ "\xe2\x81\xa6", 0x2066 }, { "\xe2\x81\xa7", 0x2067 },
		{ "\xe2\x81\xa8", 0x2068 }, { "\xe2\x81\xa9", 0x2069 },
		{ "\xe2\x80\xa8", 0x2028 }, { "\xe2\x80\xa9", 0x2029 },
	};
	/* neighbours that are not controls: ZWSP, ZWJ, U+2027, U+202F,
	 * U+2060, U+206A, Arabic letters, U+0618 */
	static const char *fine[] = {
		"\xe2\x80\x8b",	    "\xe2\x80\x8d", "\xe2\x80\xa7",
		"\xe2\x80\xaf",	    "\xe2\x81\xa0", "\xe2\x81\xaa",
		"\xd8\xb3\xd9\x84", "\xd8\x98",
	};
	char buf[32];
	size_t at, n;

	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		snprintf(buf, sizeof(buf), "ab%sc", ctl[i].utf8);
		assert_int_equal(ldg_text_display_control(buf, strlen(buf), &at,
							  &n),
				 ctl[i].cp);
		assert_int_equal(at, 2);
		assert_int_equal(n, strlen(ctl[i].utf8));
		/* cut short: not found past len */
		assert_int_equal(ldg_text_display_control(buf, 3, &at, &n), 0);
		assert_int_equal(ldg_check_value(buf, strlen(buf), NULL), 0);
		assert_int_equal(ldg_check_reason(buf, NULL), 0);
		assert_int_equal(ldg_check_new_value(buf, strlen(buf), NULL),
				 -EINVAL);
		assert_int_equal(ldg_check_new_reason(buf, NULL), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		assert_int_equal(ldg_text_display_control(fine[i],
							  strlen(fine[i]), &at,
							  &n),
				 0);
		assert_int_equal(ldg_check_new_value(fine[i], strlen(fine[i]),
						     NULL),
				 0);
	}
}

static void test_reason_is_required_and_bounded(void **state)
{
	char *ok = rep('r', 4096), *bad = rep('r', 4097);

	assert_int_equal(ldg_check_reason("bump api to 1.2.3", NULL), 0);
	assert_int_equal(ldg_check_reason("", NULL), -EINVAL);
	assert_int_equal(ldg_check_reason(ok, NULL), 0);
	assert_int_equal(ldg_check_reason(bad, NULL), -EINVAL);
	assert_int_equal(ldg_check_reason("line\nbreak", NULL), -EINVAL);
	assert_int_equal(ldg_check_reason("\xc2\x85", NULL), -EINVAL);
	assert_int_equal(ldg_check_reason("\xed\xa0\x80", NULL), -EINVAL);
	free(ok);
	free(bad);
}

/* ---- key names and origins ---- */

static void test_keyname_rules(void **state)
{
	char *ok = rep('n', 64), *bad = rep('n', 65);

	assert_int_equal(ldg_check_keyname("alice", NULL), 0);
	assert_int_equal(ldg_check_keyname("ci.bot_1-X", NULL), 0);
	assert_int_equal(ldg_check_keyname(ok, NULL), 0);
	assert_int_equal(ldg_check_keyname(bad, NULL), -EINVAL);
	assert_int_equal(ldg_check_keyname("", NULL), -EINVAL);
	/* '+' separates the signed-note fields; space separates a
	 * signature line's name from its signature */
	assert_int_equal(ldg_check_keyname("a+b", NULL), -EINVAL);
	assert_int_equal(ldg_check_keyname("a b", NULL), -EINVAL);
	assert_int_equal(ldg_check_keyname("a/b", NULL), -EINVAL);
	assert_int_equal(ldg_check_keyname("\xc3\xa9", NULL), -EINVAL);
	free(ok);
	free(bad);
}

static void test_origin_rules(void **state)
{
	char *ok = rep('o', 255), *bad = rep('o', 256);

	assert_int_equal(ldg_check_origin("example.com/deploy/prod", NULL), 0);
	assert_int_equal(ldg_check_origin("My Ledger", NULL), 0);
	assert_int_equal(ldg_check_origin("caf\xc3\xa9", NULL), 0);
	assert_int_equal(ldg_check_origin(ok, NULL), 0);
	assert_int_equal(ldg_check_origin(bad, NULL), -EINVAL);
	assert_int_equal(ldg_check_origin("", NULL), -EINVAL);
	assert_int_equal(ldg_check_origin(" lead", NULL), -EINVAL);
	assert_int_equal(ldg_check_origin("trail ", NULL), -EINVAL);
	assert_int_equal(ldg_check_origin("a\nb", NULL), -EINVAL);
	assert_int_equal(ldg_check_origin("\xc2\x80", NULL), -EINVAL);
	assert_int_equal(ldg_check_origin("\xc0\xaf", NULL), -EINVAL);
	free(ok);
	free(bad);
}

/* ---- scopes ---- */

static void test_scope_syntax(void **state)
{
	char *long_ok = rep('s', LDG_TARGET_MAX);
	char *long_bad = rep('s', LDG_TARGET_MAX + 1);

	assert_int_equal(ldg_check_scope("*", NULL), 0);
	assert_int_equal(ldg_check_scope("staging/*", NULL), 0);
	assert_int_equal(ldg_check_scope("*/api", NULL), 0);
	assert_int_equal(ldg_check_scope("prod-[ab]/api-?", NULL), 0);
	assert_int_equal(ldg_check_scope(long_ok, NULL), 0);
	assert_int_equal(ldg_check_scope(long_bad, NULL), -EINVAL);
	assert_int_equal(ldg_check_scope("", NULL), -EINVAL);
	assert_int_equal(ldg_check_scope("Staging/*", NULL), -EINVAL);
	assert_int_equal(ldg_check_scope("a b", NULL), -EINVAL);
	assert_int_equal(ldg_check_scope("a\\*", NULL), -EINVAL);
	free(long_ok);
	free(long_bad);
}

static void test_scope_star_matches_every_target(void **state)
{
	assert_true(ldg_scope_match("*", "prod/api"));
	assert_true(ldg_scope_match("*", "staging/web"));
	assert_true(ldg_scope_match("*", "a/b"));
}

static void test_scope_cluster_glob_stays_in_its_cluster(void **state)
{
	assert_true(ldg_scope_match("staging/*", "staging/api"));
	assert_true(ldg_scope_match("staging/*", "staging/web"));
	assert_false(ldg_scope_match("staging/*", "prod/api"));
	assert_false(ldg_scope_match("staging/*", "staging-eu/api"));
	assert_false(ldg_scope_match("staging/*", "xstaging/api"));
	assert_false(ldg_scope_match("staging/*", "staging"));
}

static void test_scope_release_glob_matches_across_clusters(void **state)
{
	assert_true(ldg_scope_match("*/api", "prod/api"));
	assert_true(ldg_scope_match("*/api", "staging/api"));
	assert_false(ldg_scope_match("*/api", "prod/api2"));
	assert_false(ldg_scope_match("*/api", "prod/web"));
	assert_false(ldg_scope_match("*/api", "api"));
}

static void test_scope_star_inside_a_segment_never_crosses_slash(void **state)
{
	/* without FNM_PATHNAME these would all match */
	assert_false(ldg_scope_match("st*", "staging/api"));
	assert_false(ldg_scope_match("*i", "staging/api"));
	assert_false(ldg_scope_match("s*i", "staging/api"));
	assert_true(ldg_scope_match("st*/a*", "staging/api"));
	assert_true(ldg_scope_match("staging/api", "staging/api"));
	assert_false(ldg_scope_match("staging/api", "staging/api2"));
	assert_true(ldg_scope_match("prod-?/api", "prod-1/api"));
	assert_false(ldg_scope_match("prod-?/api", "prod-12/api"));
	assert_true(ldg_scope_match("prod-[ab]/api", "prod-b/api"));
	assert_false(ldg_scope_match("prod-[ab]/api", "prod-c/api"));
}

static void test_scope_list_has_star_only_for_the_star_itself(void **state)
{
	assert_true(ldg_scopes_have_star("*"));
	assert_true(ldg_scopes_have_star("staging/* *"));
	assert_true(ldg_scopes_have_star("* */api"));
	assert_false(ldg_scopes_have_star("staging/*"));
	assert_false(ldg_scopes_have_star("*/api"));
	/* globs that match the string "*" are not the scope '*' */
	assert_false(ldg_scopes_have_star("?"));
	assert_false(ldg_scopes_have_star("[*]"));
	assert_false(ldg_scopes_have_star("**"));
	assert_false(ldg_scopes_have_star(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_accepts_dns_labels),
		cmocka_unit_test(test_cluster_rejects_bad_characters_and_edges),
		cmocka_unit_test(test_cluster_length_boundary_is_63),
		cmocka_unit_test(test_release_length_boundary_is_53),
		cmocka_unit_test(test_release_rejects_what_cluster_rejects),
		cmocka_unit_test(test_target_needs_exactly_one_slash),
		cmocka_unit_test(test_target_length_limits_apply_per_part),
		cmocka_unit_test(test_target_split_returns_both_parts),
		cmocka_unit_test(test_key_accepts_dotted_helm_paths),
		cmocka_unit_test(
			test_key_rejects_empty_segments_and_bad_characters),
		cmocka_unit_test(test_key_length_boundary_is_253),
		cmocka_unit_test(test_value_length_boundary_is_4096_bytes),
		cmocka_unit_test(test_value_accepts_valid_utf8),
		cmocka_unit_test(test_value_rejects_overlong_utf8),
		cmocka_unit_test(
			test_value_rejects_surrogates_and_beyond_unicode),
		cmocka_unit_test(test_value_rejects_truncated_and_stray_bytes),
		cmocka_unit_test(test_value_rejects_c0_del_and_c1_controls),
		cmocka_unit_test(test_value_rejects_embedded_nul),
		cmocka_unit_test(test_text_ok_covers_whole_length),
		cmocka_unit_test(test_utf8_len_of_one_character),
		cmocka_unit_test(test_error_messages_are_always_utf8),
		cmocka_unit_test(test_reason_is_required_and_bounded),
		cmocka_unit_test(test_keyname_rules),
		cmocka_unit_test(
			test_display_controls_refused_in_new_text_only),
		cmocka_unit_test(test_origin_rules),
		cmocka_unit_test(test_scope_syntax),
		cmocka_unit_test(test_scope_star_matches_every_target),
		cmocka_unit_test(test_scope_cluster_glob_stays_in_its_cluster),
		cmocka_unit_test(
			test_scope_release_glob_matches_across_clusters),
		cmocka_unit_test(
			test_scope_star_inside_a_segment_never_crosses_slash),
		cmocka_unit_test(
			test_scope_list_has_star_only_for_the_star_itself),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
