/*
 * Unit tests for ledger/checkpoint.c: C2SP tlog-checkpoint signed notes.
 */
#include <errno.h>
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

#define ORIGIN "example.com/deploy/prod"

static struct ldg_signer *alice, *bob;
static uint8_t root[LDG_HASH_BYTES];

static int group_setup(void **state)
{
	if (ldg_crypto_init() || ldg_signer_generate("alice", &alice, NULL) ||
	    ldg_signer_generate("bob", &bob, NULL))
		return -1;
	for (int i = 0; i < LDG_HASH_BYTES; i++)
		root[i] = (uint8_t)(i * 7 + 1);
	return 0;
}

static int group_teardown(void **state)
{
	ldg_signer_free(alice);
	ldg_signer_free(bob);
	return 0;
}

static char *make(uint64_t size, const struct ldg_signer *k)
{
	char *text = NULL;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_checkpoint_make(ORIGIN, size, root, k, &text,
					     &err),
			 0);
	assert_non_null(text);
	return text;
}

/* Parses text and returns ldg_checkpoint_verify() for k, or the parse
 * error. */
static int parse_verify(const char *text, const struct ldg_signer *k)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	int rc;

	assert_non_null(cp);
	rc = ldg_checkpoint_parse(text, strlen(text), cp, NULL);
	if (rc == 0)
		rc = ldg_checkpoint_verify(cp, ldg_signer_vkey(k));
	free(cp);
	return rc;
}

/* text with the first occurrence of from replaced by to; caller frees */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t fl = strlen(from), tl = strlen(to), n = strlen(text);
	char *out;

	assert_non_null(at);
	out = malloc(n - fl + tl + 1);
	memcpy(out, text, (size_t)(at - text));
	memcpy(out + (at - text), to, tl);
	memcpy(out + (at - text) + tl, at + fl,
	       n - (size_t)(at - text) - fl + 1);
	return out;
}

static void test_make_writes_the_c2sp_layout(void **state)
{
	char *text = make(42, alice), rootb64[45], want[512];
	char sigline[256];
	const char *sep;

	sodium_bin2base64(rootb64, sizeof(rootb64), root, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(want, sizeof(want), "%s\n42\n%s\n\n", ORIGIN, rootb64);
	assert_int_equal(strncmp(text, want, strlen(want)), 0);
	/* one signature line: em dash, space, name, space, base64 of
	 * keyid4 || sig64 (68 bytes: 92 characters), newline */
	sep = text + strlen(want);
	snprintf(sigline, sizeof(sigline), "\xe2\x80\x94 alice ");
	assert_int_equal(strncmp(sep, sigline, strlen(sigline)), 0);
	assert_int_equal(strlen(sep + strlen(sigline)), 92 + 1);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void test_round_trip_make_parse_verify(void **state)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_err err = { 0 };
	char *text = make(7, alice);

	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), cp, &err), 0);
	assert_string_equal(cp->origin, ORIGIN);
	assert_int_equal(cp->size, 7);
	assert_memory_equal(cp->root, root, 32);
	assert_int_equal(cp->n_sigs, 1);
	assert_string_equal(cp->sigs[0].name, "alice");
	assert_memory_equal(cp->sigs[0].keyid, ldg_signer_vkey(alice)->keyid,
			    4);
	assert_int_equal(ldg_checkpoint_verify(cp, ldg_signer_vkey(alice)), 0);
	/* the signed text is everything before the blank line */
	assert_int_equal(cp->text_len, strstr(text, "\n\n") - text + 1);
	assert_int_equal(ldg_sig_verify(ldg_signer_vkey(alice)->pk,
					(const uint8_t *)text, cp->text_len,
					cp->sigs[0].sig),
			 0);
	free(cp);
	free(text);
}

static void test_large_sizes_round_trip(void **state)
{
	static const uint64_t sizes[] = { 1, 1000000, 18446744073709551615ull };

	for (size_t i = 0; i < 3; i++) {
		struct ldg_checkpoint *cp = malloc(sizeof(*cp));
		char *text = make(sizes[i], alice);
		assert_int_equal(ldg_checkpoint_parse(text, strlen(text), cp,
						      NULL),
				 0);
		assert_true(cp->size == sizes[i]);
		assert_int_equal(ldg_checkpoint_verify(cp,
						       ldg_signer_vkey(alice)),
				 0);
		free(cp);
		free(text);
	}
}

/* A size past 2^64 - 1 is refused, not wrapped; size 0 (an empty tree,
 * which no ledger has) is refused with its own reason. */
static void test_parse_refuses_size_zero_and_past_2_64(void **state)
{
	static const struct {
		const char *size, *why;
	} bad[] = {
		{ "\n0\n", "size 0 (an empty tree)" },
		{ "\n18446744073709551616\n", "larger than 2^64 - 1" },
		{ "\n99999999999999999999\n", "larger than 2^64 - 1" },
	};
	char *text = make(1, alice);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldg_checkpoint *cp = malloc(sizeof(*cp));
		struct ldg_err err = { 0 };
		char *t = replace(text, "\n1\n", bad[i].size);
		assert_int_equal(ldg_checkpoint_parse(t, strlen(t), cp, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, bad[i].why));
		free(cp);
		free(t);
	}
	free(text);
}

/* As Go's note.Open: one bad line by a key rejects the note for that key
 * even when another line by it verifies, in either order. */
static void test_one_bad_line_by_a_key_rejects_the_note(void **state)
{
	char *text = make(42, alice);
	const char *sig = strstr(text, "\n\n") + 2;
	char *line = strdup(sig), *twice;

	/* flip a base64 character inside the signature (past the key id) */
	line[strlen(line) - 20] = line[strlen(line) - 20] == 'A' ? 'B' : 'A';
	twice = malloc(strlen(text) + strlen(line) + 1);
	strcpy(twice, text);
	strcat(twice, line);
	assert_int_equal(parse_verify(twice, alice), -EBADMSG);
	/* bad line first */
	strcpy(twice + (sig - text), line);
	strcat(twice, sig);
	assert_int_equal(parse_verify(twice, alice), -EBADMSG);
	/* a good line twice is still good */
	strcpy(twice + (sig - text), sig);
	strcat(twice, sig);
	assert_int_equal(parse_verify(twice, alice), 0);
	free(twice);
	free(line);
	free(text);
}

static void test_verify_fails_on_tampered_size(void **state)
{
	char *text = make(42, alice), *bad;

	bad = replace(text, "\n42\n", "\n43\n");
	assert_int_equal(parse_verify(bad, alice), -EBADMSG);
	free(bad);
	bad = replace(text, "\n42\n", "\n4\n");
	assert_int_equal(parse_verify(bad, alice), -EBADMSG);
	free(bad);
	assert_int_equal(parse_verify(text, alice), 0);
	free(text);
}

static void test_verify_fails_on_tampered_root(void **state)
{
	char *text = make(42, alice), *bad, rootb64[45], other[45];
	uint8_t r2[32];

	sodium_bin2base64(rootb64, sizeof(rootb64), root, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	memcpy(r2, root, 32);
	r2[31] ^= 1;
	sodium_bin2base64(other, sizeof(other), r2, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	bad = replace(text, rootb64, other);
	assert_int_equal(parse_verify(bad, alice), -EBADMSG);
	free(bad);
	free(text);
}

static void test_verify_fails_on_tampered_origin(void **state)
{
	char *text = make(42, alice), *bad;

	bad = replace(text, ORIGIN "\n", "example.com/deploy/staging\n");
	assert_int_equal(parse_verify(bad, alice), -EBADMSG);
	free(bad);
	bad = replace(text, ORIGIN "\n", "example.com/deploy/pro\n");
	assert_int_equal(parse_verify(bad, alice), -EBADMSG);
	free(bad);
	free(text);
}

static void test_verify_fails_on_tampered_signature(void **state)
{
	char *text = make(42, alice);
	char *line = strstr(text, "\xe2\x80\x94 alice ") + 10;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));

	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), cp, NULL), 0);
	cp->sigs[0].sig[0] ^= 1;
	assert_int_equal(ldg_checkpoint_verify(cp, ldg_signer_vkey(alice)),
			 -EBADMSG);
	/* in the text too: change one base64 character of the signature */
	line[20] = line[20] == 'A' ? 'B' : 'A';
	assert_int_equal(parse_verify(text, alice), -EBADMSG);
	free(cp);
	free(text);
}

static void test_verify_by_another_key_finds_no_signature(void **state)
{
	char *text = make(42, alice), *renamed;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_vkey imposter;

	assert_int_equal(parse_verify(text, bob), -ENOENT);
	/* same name, other key: the key id does not match either */
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), cp, NULL), 0);
	imposter = *ldg_signer_vkey(bob);
	strcpy(imposter.name, "alice");
	assert_int_equal(ldg_checkpoint_verify(cp, &imposter), -ENOENT);
	/* a signature line renamed to bob's name does not verify as bob */
	renamed = replace(text, "\xe2\x80\x94 alice ", "\xe2\x80\x94 bob ");
	assert_int_equal(parse_verify(renamed, bob), -ENOENT);
	free(renamed);
	free(cp);
	free(text);
}

static void test_cosigned_checkpoint_verifies_for_each_key(void **state)
{
	char *a = make(42, alice), *b = make(42, bob), *both;
	const char *bsig = strstr(b, "\n\n") + 2;

	both = malloc(strlen(a) + strlen(bsig) + 1);
	strcpy(both, a);
	strcat(both, bsig);
	assert_int_equal(parse_verify(both, alice), 0);
	assert_int_equal(parse_verify(both, bob), 0);
	free(both);
	free(a);
	free(b);
}

static void test_parse_rejects_missing_blank_line(void **state)
{
	char *text = make(42, alice), *bad;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_err err = { 0 };

	bad = replace(text, "\n\n", "\n");
	assert_int_equal(ldg_checkpoint_parse(bad, strlen(bad), cp, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "blank line"));
	free(bad);
	free(cp);
	free(text);
}

static void test_parse_rejects_malformed_notes(void **state)
{
	char *text = make(42, alice), rootb64[45], body[256];
	char *sig = strstr(text, "\n\n") + 2;
	static const char *const heads[] = {
		"%.0s\n42\n%s\n",		   /* empty origin */
		"%s\n\n%s\n",			   /* empty size */
		"%s\n042\n%s\n",		   /* leading zero */
		"%s\n-1\n%s\n",			   /* sign */
		"%s\n4x\n%s\n",			   /* not decimal */
		"%s\n123456789012345678901\n%s\n", /* 21 digits */
		"%s\n42\n%.43s\n",		   /* root base64 cut short */
		"%s\n42\n\n",			   /* no root line */
		"%s\n42\n",			   /* nothing after size */
	};

	sodium_bin2base64(rootb64, sizeof(rootb64), root, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct ldg_checkpoint *cp = malloc(sizeof(*cp));
		char *note;
		snprintf(body, sizeof(body), heads[i], ORIGIN, rootb64);
		note = malloc(strlen(body) + 1 + strlen(sig) + 1);
		sprintf(note, "%s\n%s", body, sig);
		assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp,
						      NULL),
				 -EINVAL);
		free(note);
		free(cp);
	}
	free(text);
}

static void test_parse_rejects_bad_signature_lines(void **state)
{
	char *text = make(42, alice), *bad;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	size_t n = strlen(text);

	/* no signature at all */
	bad = strdup(text);
	strstr(bad, "\n\n")[2] = '\0';
	assert_int_equal(ldg_checkpoint_parse(bad, strlen(bad), cp, NULL),
			 -EINVAL);
	free(bad);
	/* a hyphen instead of the em dash */
	bad = replace(text, "\xe2\x80\x94 ", "- ");
	assert_int_equal(ldg_checkpoint_parse(bad, strlen(bad), cp, NULL),
			 -EINVAL);
	free(bad);
	/* an unterminated signature line */
	assert_int_equal(ldg_checkpoint_parse(text, n - 1, cp, NULL), -EINVAL);
	/* binary */
	bad = strdup(text);
	bad[3] = '\0';
	assert_int_equal(ldg_checkpoint_parse(bad, n, cp, NULL), -EINVAL);
	free(bad);
	free(cp);
	free(text);
}

static void test_extension_lines_are_signed_and_kept(void **state)
{
	char *text = make(42, alice), *ext;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));

	/* an extension line that was not signed breaks the signature */
	ext = replace(text, "\n\n", "\nextension line\n\n");
	assert_int_equal(ldg_checkpoint_parse(ext, strlen(ext), cp, NULL), 0);
	assert_int_equal(cp->size, 42);
	assert_memory_equal(cp->root, root, 32);
	assert_int_equal(ldg_checkpoint_verify(cp, ldg_signer_vkey(alice)),
			 -EBADMSG);
	free(ext);
	free(cp);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_writes_the_c2sp_layout),
		cmocka_unit_test(test_round_trip_make_parse_verify),
		cmocka_unit_test(test_large_sizes_round_trip),
		cmocka_unit_test(test_parse_refuses_size_zero_and_past_2_64),
		cmocka_unit_test(test_one_bad_line_by_a_key_rejects_the_note),
		cmocka_unit_test(test_verify_fails_on_tampered_size),
		cmocka_unit_test(test_verify_fails_on_tampered_root),
		cmocka_unit_test(test_verify_fails_on_tampered_origin),
		cmocka_unit_test(test_verify_fails_on_tampered_signature),
		cmocka_unit_test(test_verify_by_another_key_finds_no_signature),
		cmocka_unit_test(
			test_cosigned_checkpoint_verifies_for_each_key),
		cmocka_unit_test(test_parse_rejects_missing_blank_line),
		cmocka_unit_test(test_parse_rejects_malformed_notes),
		cmocka_unit_test(test_parse_rejects_bad_signature_lines),
		cmocka_unit_test(test_extension_lines_are_signed_and_kept),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
