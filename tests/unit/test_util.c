/* Unit tests for ledger/util.c: hex (libsodium's codecs behind the
 * library's strict contract) and the atomic replacement of a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys.h"
#include "err.h"
#include "util.h"

/* a verifier key from the Go sumdb note package (test_keys.c) */
#define GO_VKEY                                                                \
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

static void test_hex_writes_lowercase_and_nul(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x9a, 0xbf, 0xff };
	char out[2 * sizeof(in) + 2];

	memset(out, 'x', sizeof(out));
	ldg_hex(in, sizeof(in), out);
	assert_string_equal(out, "00019abfff");
	/* 2*len + 1 bytes, not one more */
	assert_int_equal(out[sizeof(out) - 1], 'x');
	ldg_hex(in, 0, out);
	assert_string_equal(out, "");
}

static void test_unhex_round_trips_every_byte(void **state)
{
	uint8_t in[256], back[256];
	char text[2 * sizeof(in) + 1];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	ldg_hex(in, sizeof(in), text);
	assert_int_equal(ldg_unhex(text, back, sizeof(back)), 0);
	assert_memory_equal(in, back, sizeof(in));
}

static void test_unhex_takes_either_case(void **state)
{
	uint8_t out[4];

	assert_int_equal(ldg_unhex("DEADbeef", out, 4), 0);
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_int_equal(ldg_unhex("", out, 0), 0);
}

static void test_unhex_refuses_wrong_lengths(void **state)
{
	uint8_t out[8];

	/* one digit, one byte, short; one digit, one byte, long */
	assert_int_equal(ldg_unhex("0011223", out, 4), -EINVAL);
	assert_int_equal(ldg_unhex("001122", out, 4), -EINVAL);
	assert_int_equal(ldg_unhex("001122334", out, 4), -EINVAL);
	assert_int_equal(ldg_unhex("0011223344", out, 4), -EINVAL);
	assert_int_equal(ldg_unhex("", out, 4), -EINVAL);
	assert_int_equal(ldg_unhex("00", out, 0), -EINVAL);
}

static void test_unhex_refuses_non_hex_characters(void **state)
{
	static const char *const bad[] = {
		"0011223g", "g0112233", "00 11223",  " 0011223", "0011223 ",
		"0x112233", "00:11:22", "001122\n3", "-0112233", "00112233\n",
	};
	uint8_t out[4];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_unhex(bad[i], out, 4), -EINVAL);
	/* a NUL inside the digits ends the string: short */
	assert_int_equal(ldg_unhex("0011\0"
				   "2233",
				   out, 4),
			 -EINVAL);
}

/* where upper case is refused today, it still is: a key id has one text
 * form (keys.c checks it before ldg_unhex) */
static void test_key_id_refuses_upper_case(void **state)
{
	struct ldg_vkey vk;
	char text[sizeof(GO_VKEY)];

	assert_int_equal(ldg_vkey_parse(GO_VKEY, &vk, NULL), 0);
	memcpy(text, GO_VKEY, sizeof(text));
	text[strlen("PeterNeumann+c74f")] = 'F';
	assert_int_equal(ldg_vkey_parse(text, &vk, NULL), -EINVAL);
}

/* Every rule has a name, and the name gives the rule back: what the
 * API's "rule" carries to a remote front end. */
static void test_why_names_round_trip(void **state)
{
	assert_null(ldg_why_name(LDG_WHY_NONE));
	assert_null(ldg_why_name((enum ldg_why)(LDG_WHY_SKEW + 1)));
	for (int w = LDG_WHY_NONE + 1; w <= LDG_WHY_SKEW; w++) {
		const char *name = ldg_why_name((enum ldg_why)w);
		assert_non_null(name);
		assert_int_equal(ldg_why_by_name(name), w);
	}
	assert_string_equal(ldg_why_name(LDG_WHY_FROZEN), "frozen");
	assert_string_equal(ldg_why_name(LDG_WHY_NOT_SOAKED), "not-soaked");
	assert_int_equal(ldg_why_by_name("locked"), LDG_WHY_LOCKED);
	assert_int_equal(ldg_why_by_name("Locked"), LDG_WHY_NONE);
	assert_int_equal(ldg_why_by_name(""), LDG_WHY_NONE);
	assert_int_equal(ldg_why_by_name(NULL), LDG_WHY_NONE);
}

static void test_write_atomic_replaces_whole_files(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], path[4200], buf[64], cmd[4400];
	struct ldg_err err = { 0 };
	struct stat st;
	size_t len = 0;

	snprintf(dir, sizeof(dir), "%s/test-util-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(ldg_write_atomic(path, "first\n", 6, 0600), 0);
	assert_int_equal(ldg_write_atomic(path, "2nd", 3, 0640), 0);
	assert_int_equal(ldg_read_small(path, "f", buf, sizeof(buf), &len, &st,
					&err),
			 0);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "2nd");
	assert_int_equal(st.st_mode & 07777, 0640);
	/* only f: no temporary file stays beside it */
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = f", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/none/f", dir);
	assert_int_equal(ldg_write_atomic(path, "x", 1, 0600), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_writes_lowercase_and_nul),
		cmocka_unit_test(test_why_names_round_trip),
		cmocka_unit_test(test_unhex_round_trips_every_byte),
		cmocka_unit_test(test_unhex_takes_either_case),
		cmocka_unit_test(test_unhex_refuses_wrong_lengths),
		cmocka_unit_test(test_unhex_refuses_non_hex_characters),
		cmocka_unit_test(test_key_id_refuses_upper_case),
		cmocka_unit_test(test_write_atomic_replaces_whole_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
