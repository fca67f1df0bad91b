/*
 * Unit tests for ledger/value.c: typed values (docs/format.md 3.2), from
 * the user's JSON to the canonical text, the text to msgpack bytes and
 * back, and the "looks typed" test of the CLI's hint. The expected bytes
 * are written out by hand from the format, not by msgpack-c.
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

#include "value.h"

static void expect_canon(const char *json, enum ldg_vtype type,
			 const char *text)
{
	struct ldg_err err = { 0 };
	enum ldg_vtype t;
	char *out = NULL;

	if (ldg_value_from_json(json, &t, &out, &err)) {
		print_error("%s: %s\n", json, err.msg);
		fail();
	}
	assert_int_equal(t, type);
	assert_string_equal(out, text);
	free(out);
}

static void test_from_json_gives_the_canonical_text(void **state)
{
	expect_canon("true", LDG_V_JSON, "true");
	expect_canon(" false ", LDG_V_JSON, "false");
	expect_canon("null", LDG_V_JSON, "null");
	expect_canon("3", LDG_V_JSON, "3");
	expect_canon("-7", LDG_V_JSON, "-7");
	expect_canon("-0", LDG_V_JSON, "0");
	expect_canon("9223372036854775807", LDG_V_JSON, "9223372036854775807");
	expect_canon("-9223372036854775808", LDG_V_JSON,
		     "-9223372036854775808");
	expect_canon("1.5", LDG_V_JSON, "1.5");
	expect_canon("0.1", LDG_V_JSON, "0.1");
	expect_canon("1.50", LDG_V_JSON, "1.5");
	expect_canon("-2.25e-3", LDG_V_JSON, "-0.00225");
	expect_canon("1e-7", LDG_V_JSON, "1e-07");
	expect_canon("1e300", LDG_V_JSON, "1e+300");
	expect_canon("0.30000000000000004", LDG_V_JSON, "0.30000000000000004");
	/* integral numbers in int64 range are integers */
	expect_canon("3.0", LDG_V_JSON, "3");
	expect_canon("-0.0", LDG_V_JSON, "0");
	expect_canon("1e10", LDG_V_JSON, "10000000000");
	expect_canon("-9.223372036854775808e18", LDG_V_JSON,
		     "-9223372036854775808");
	/* 2^63 is outside: a float */
	expect_canon("9223372036854775808.0", LDG_V_JSON,
		     "9.223372036854776e+18");
	expect_canon("1e19", LDG_V_JSON, "1e+19");
	expect_canon("[1, \"a\", true]", LDG_V_JSON, "[1,\"a\",true]");
	expect_canon("[ ]", LDG_V_JSON, "[]");
	expect_canon("[null,false,-1.5e0,\"\",\"q\\\"\\\\\",\"\\u00e9\"]",
		     LDG_V_JSON,
		     "[null,false,-1.5,\"\",\"q\\\"\\\\\",\"\xc3\xa9\"]");
	/* one encoding of a string: a JSON string is the plain string */
	expect_canon("\"x\"", LDG_V_STR, "x");
	expect_canon("\"3\"", LDG_V_STR, "3");
}

static void expect_refused(const char *json, const char *why)
{
	struct ldg_err err = { 0 };
	enum ldg_vtype t;
	char *out = (char *)"unchanged";

	assert_int_equal(ldg_value_from_json(json, &t, &out, &err), -EINVAL);
	assert_null(out);
	if (!strstr(err.msg, why)) {
		print_error("%s: \"%s\" lacks \"%s\"\n", json, err.msg, why);
		fail();
	}
}

static void test_from_json_refuses_what_is_no_value(void **state)
{
	char big[LDG_ARRAY_MAX * 2 + 8];
	size_t n = 0;

	expect_refused("{\"a\":1}", "objects are not values: use dotted keys");
	expect_refused("[1,{}]", "objects are not values");
	expect_refused("[[1]]", "arrays inside arrays");
	expect_refused("9223372036854775808", "out of range");
	expect_refused("-9223372036854775809", "out of range");
	expect_refused("1e400", "out of range");
	expect_refused("", "not JSON");
	expect_refused("tru", "not JSON");
	expect_refused("1 2", "not JSON");
	expect_refused("NaN", "not JSON");
	expect_refused("[\"a\\u0001\"]", "control characters");
	expect_refused("[\"a\\u0000\"]", "not JSON");
	big[n++] = '[';
	for (int i = 0; i <= LDG_ARRAY_MAX; i++) {
		big[n++] = '1';
		big[n++] = ',';
	}
	big[n - 1] = ']';
	big[n] = '\0';
	expect_refused(big, "at most 1000 items");
	big[n - 3] = ']'; /* 1000 items */
	big[n - 2] = '\0';
	expect_canon(big, LDG_V_JSON, big);
}

/* text packs to exactly bytes, and the bytes unpack to text */
static void expect_bytes(const char *text, const char *bytes, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct ldg_err err = { 0 };
	enum ldg_vtype t;
	char *back = NULL;
	size_t off = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(ldg_value_pack(&pk, LDG_V_JSON, text), 0);
	assert_int_equal(sb.size, n);
	assert_memory_equal(sb.data, bytes, n);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(ldg_value_unpack(&u.data, &t, &back, &err), 0);
	assert_int_equal(t, LDG_V_JSON);
	assert_string_equal(back, text);
	free(back);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

#define BYTES(s) s, sizeof(s) - 1

static void test_pack_writes_the_shortest_forms(void **state)
{
	expect_bytes("null", BYTES("\xc0"));
	expect_bytes("false", BYTES("\xc2"));
	expect_bytes("true", BYTES("\xc3"));
	expect_bytes("0", BYTES("\x00"));
	expect_bytes("127", BYTES("\x7f"));
	expect_bytes("128", BYTES("\xcc\x80"));
	expect_bytes("65536", BYTES("\xce\x00\x01\x00\x00"));
	expect_bytes("9223372036854775807",
		     BYTES("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"));
	expect_bytes("-1", BYTES("\xff"));
	expect_bytes("-32", BYTES("\xe0"));
	expect_bytes("-33", BYTES("\xd0\xdf"));
	expect_bytes("-128", BYTES("\xd0\x80"));
	expect_bytes("-129", BYTES("\xd1\xff\x7f"));
	expect_bytes("-32769", BYTES("\xd2\xff\xff\x7f\xff"));
	expect_bytes("-2147483649",
		     BYTES("\xd3\xff\xff\xff\xff\x7f\xff\xff\xff"));
	expect_bytes("1.5", BYTES("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"));
	expect_bytes("1e+300", BYTES("\xcb\x7e\x37\xe4\x3c\x88\x00\x75\x9c"));
	expect_bytes("[]", BYTES("\x90"));
	expect_bytes("[1,\"a\",true]", BYTES("\x93\x01\xa1\x61\xc3"));
	expect_bytes("[\"\"]", BYTES("\x91\xa0"));
}

static void test_pack_refuses_text_that_is_not_canonical(void **state)
{
	static const char *const bad[] = { "3.0",   "1.50",   "[1, 2]",
					   "\"x\"", "1E+300", "+1",
					   "{}",    "[[1]]",  "01" };
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldg_err err = { 0 };
		assert_int_equal(ldg_value_check_json(bad[i], &err), -EINVAL);
		assert_true(err.msg[0]);
		assert_int_equal(ldg_value_pack(&pk, LDG_V_JSON, bad[i]),
				 -EINVAL);
	}
	assert_int_equal(sb.size, 0);
	assert_int_equal(ldg_value_check_json("[1,\"a\",true]", NULL), 0);
	/* a string packs as itself, whatever it looks like */
	assert_int_equal(ldg_value_pack(&pk, LDG_V_STR, "3.0"), 0);
	assert_int_equal(sb.size, 4);
	assert_memory_equal(sb.data,
			    "\xa3"
			    "3.0",
			    4);
	msgpack_sbuffer_destroy(&sb);
}

static void expect_unpack_refused(const char *bytes, size_t n, const char *why)
{
	msgpack_unpacked u;
	struct ldg_err err = { 0 };
	enum ldg_vtype t;
	char *out = (char *)"unchanged";
	size_t off = 0;

	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, bytes, n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(ldg_value_unpack(&u.data, &t, &out, &err), -EBADMSG);
	assert_null(out);
	if (!strstr(err.msg, why)) {
		print_error("\"%s\" lacks \"%s\"\n", err.msg, why);
		fail();
	}
	msgpack_unpacked_destroy(&u);
}

static void test_unpack_refuses_what_no_value_is(void **state)
{
	expect_unpack_refused(BYTES("\xca\x3f\xc0\x00\x00"), "float 32");
	expect_unpack_refused(BYTES("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"),
			      "not finite");
	expect_unpack_refused(BYTES("\xcb\xff\xf0\x00\x00\x00\x00\x00\x00"),
			      "not finite");
	expect_unpack_refused(BYTES("\xcb\x40\x08\x00\x00\x00\x00\x00\x00"),
			      "holding an integer");
	expect_unpack_refused(BYTES("\xcb\x80\x00\x00\x00\x00\x00\x00\x00"),
			      "holding an integer"); /* -0.0 */
	expect_unpack_refused(BYTES("\xcf\x80\x00\x00\x00\x00\x00\x00\x00"),
			      "above int64");
	expect_unpack_refused(BYTES("\x91\x91\x01"), "array inside an array");
	expect_unpack_refused(BYTES("\x81\xa1k\x01"), "map");
	expect_unpack_refused(BYTES("\x91\x80"), "map");
	expect_unpack_refused(BYTES("\xc4\x01\x00"), "bin or ext");
	expect_unpack_refused(BYTES("\xd4\x01\x00"), "bin or ext");
	expect_unpack_refused(BYTES("\x91\xa2\x61\x0a"), "control characters");
	expect_unpack_refused(BYTES("\xa3\x61\x00\x62"), "NUL");
}

static void test_unpack_reads_strings_and_wider_forms(void **state)
{
	/* a top-level str is a string value; the bytes' canonical form is
	 * the entry's re-encoding to judge, so d0 05 reads as 5 here */
	static const struct {
		const char *bytes;
		size_t n;
		enum ldg_vtype type;
		const char *text;
	} cases[] = {
		{ BYTES("\xa1x"), LDG_V_STR, "x" },
		{ BYTES("\xa4true"), LDG_V_STR, "true" },
		{ BYTES("\xd0\x05"), LDG_V_JSON, "5" },
		{ BYTES("\xd1\xff\xfb"), LDG_V_JSON, "-5" },
		{ BYTES("\xdc\x00\x01\xa2\xc3\xa9"), LDG_V_JSON,
		  "[\"\xc3\xa9\"]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msgpack_unpacked u;
		enum ldg_vtype t;
		char *out = NULL;
		size_t off = 0;

		msgpack_unpacked_init(&u);
		assert_int_equal(msgpack_unpack_next(&u, cases[i].bytes,
						     cases[i].n, &off),
				 MSGPACK_UNPACK_SUCCESS);
		assert_int_equal(ldg_value_unpack(&u.data, &t, &out, NULL), 0);
		assert_int_equal(t, cases[i].type);
		assert_string_equal(out, cases[i].text);
		free(out);
		msgpack_unpacked_destroy(&u);
	}
}

static void test_looks_typed_is_exactly_json_literals_and_numbers(void **state)
{
	static const char *const yes[] = { "true", "false", "null", "0",
					   "-1",   "1.5",   "1e10", "-0.5E+3",
					   "10",   "3.0" };
	static const char *const no[] = {
		"0123", "true-blue", " 1",  "1.",   ".5", "+1",
		"TRUE", "",	     "1e",  "0x10", "1 ", "nul",
		"-",	"Infinity",  "NaN", "1.2.3"
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_non_null(ldg_value_looks_typed(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (ldg_value_looks_typed(no[i])) {
			print_error("\"%s\" looks typed\n", no[i]);
			fail();
		}
	}
	assert_string_equal(ldg_value_looks_typed("false"), "a boolean");
	assert_string_equal(ldg_value_looks_typed("null"), "null");
	assert_string_equal(ldg_value_looks_typed("1e10"), "a number");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_json_gives_the_canonical_text),
		cmocka_unit_test(test_from_json_refuses_what_is_no_value),
		cmocka_unit_test(test_pack_writes_the_shortest_forms),
		cmocka_unit_test(test_pack_refuses_text_that_is_not_canonical),
		cmocka_unit_test(test_unpack_refuses_what_no_value_is),
		cmocka_unit_test(test_unpack_reads_strings_and_wider_forms),
		cmocka_unit_test(
			test_looks_typed_is_exactly_json_literals_and_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
