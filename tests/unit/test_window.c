/*
 * Unit tests for ledger/window.c: durations, UTC times, cron schedules,
 * time zones and recurring windows (SPEC.md section 9, freeze windows).
 *
 * Every expected instant was worked out by hand and checked with date(1)
 * (`date -u -d 'TZ="Europe/Berlin" 2026-03-29 03:00' +%FT%TZ`), never
 * with the code under test. The zone tests need tzdata and skip, saying
 * so, without it. The 2026 clock changes used:
 *   Europe/Berlin     2026-03-29 02:00 CET -> 03:00 CEST (01:00Z),
 *                     2026-10-25 03:00 CEST -> 02:00 CET (01:00Z)
 *   America/New_York  2026-03-08 02:00 EST -> 03:00 EDT (07:00Z),
 *                     2026-11-01 02:00 EDT -> 01:00 EST (06:00Z)
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"
#include "window.h"

/* the zones the tests use, as glibc and ldg_tz_check() find them */
static const char *zone_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir && *dir ? dir : "/usr/share/zoneinfo";
}

static void need_zone(const char *tz)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", zone_dir(), tz);
	if (access(path, R_OK)) {
		print_message("SKIP: no %s: install tzdata (scripts/deps.sh)\n",
			      path);
		skip();
	}
}

static int64_t utc(const char *s)
{
	int64_t t = -1;

	assert_int_equal(ldg_utc_parse(s, &t, NULL), 0);
	return t;
}

/* ---- durations ---- */

static uint64_t dur(const char *s)
{
	uint64_t v = 0;
	struct ldg_err err = { 0 };

	if (ldg_duration_parse(s, &v, &err))
		fail_msg("duration \"%s\": %s", s, err.msg);
	return v;
}

static void test_duration_units_in_order(void **state)
{
	assert_int_equal(dur("1s"), 1);
	assert_int_equal(dur("90s"), 90);
	assert_int_equal(dur("30m"), 1800);
	assert_int_equal(dur("1h30m"), 5400);
	assert_int_equal(dur("2d"), 172800);
	assert_int_equal(dur("05m"), 300);
	assert_int_equal(dur("1w2d3h"), 9 * 86400 + 3 * 3600);
	assert_int_equal(dur("1w2d3h4m5s"), 9 * 86400 + 3 * 3600 + 245);
	assert_int_equal(dur("366d"), 31622400);
	assert_int_equal(dur("52w2d"), 31622400);
	assert_int_equal(dur("31622400s"), 31622400);
}

static void expect_duration_error(const char *s, const char *msg)
{
	struct ldg_err err = { 0 };
	uint64_t v = 7;

	assert_int_equal(ldg_duration_parse(s, &v, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(v, 7);
}

static void test_duration_refusals(void **state)
{
	expect_duration_error("",
			      "duration: empty (write e.g. 30m, 1h30m or 2d)");
	expect_duration_error("h", "duration \"h\": unit 'h' without a number");
	/* Go's "ms" is a minute, then an 's' without a number */
	expect_duration_error("1ms",
			      "duration \"1ms\": unit 's' without a number");
	expect_duration_error("1h30",
			      "duration \"1h30\": 30 has no unit (w, d, h, m "
			      "or s)");
	expect_duration_error("1.5h", "duration \"1.5h\": no fractions: write "
				      "1h30m, not 1.5h");
	expect_duration_error("5x", "duration \"5x\": unknown unit 'x' (w, d, "
				    "h, m or s)");
	expect_duration_error("5M", "duration \"5M\": unknown unit 'M' (w, d, "
				    "h, m or s)");
	expect_duration_error("5\001", "duration \"5?\": unknown unit '?' (w, "
				       "d, h, m or s)");
	expect_duration_error("1h1h", "duration \"1h1h\": unit 'h' twice");
	expect_duration_error("30m1h", "duration \"30m1h\": 'h' after 'm': "
				       "units go w, d, h, m, s");
	expect_duration_error("1d1w", "duration \"1d1w\": 'w' after 'd': "
				      "units go w, d, h, m, s");
	expect_duration_error("1h0m", "duration \"1h0m\": zero part \"0m\": "
				      "leave it out");
	expect_duration_error("0s", "duration \"0s\": zero part \"0s\": "
				    "leave it out");
	expect_duration_error("367d",
			      "duration \"367d\": longer than 366 days");
	expect_duration_error("52w2d1s",
			      "duration \"52w2d1s\": longer than 366 days");
	expect_duration_error("31622401s",
			      "duration \"31622401s\": longer than 366 days");
	expect_duration_error("99999999999999999999999s",
			      "duration \"99999999999999999999999s\": longer "
			      "than 366 days");
	expect_duration_error("-5m",
			      "duration \"-5m\": unexpected character '-'");
	expect_duration_error("+5m",
			      "duration \"+5m\": unexpected character '+'");
	expect_duration_error("1h 30m",
			      "duration \"1h 30m\": unexpected character ' '");
	expect_duration_error(" 1h",
			      "duration \" 1h\": unexpected character ' '");
}

static void expect_format(uint64_t s, const char *want)
{
	char out[LDG_DURATION_LEN];

	ldg_duration_format(s, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_duration_format_is_canonical(void **state)
{
	expect_format(0, "0s");
	expect_format(1, "1s");
	expect_format(60, "1m");
	expect_format(3600, "1h");
	expect_format(5400, "1h30m");
	expect_format(86400, "1d");
	expect_format(604800, "7d"); /* never weeks */
	expect_format(90061, "1d1h1m1s");
	expect_format(31622400, "366d");
	expect_format(UINT64_MAX, "213503982334601d7h15s");
	/* and it reads back */
	assert_int_equal(dur("1d1h1m1s"), 90061);
}

/* ---- UTC times ---- */

static void expect_utc(const char *s, int64_t want)
{
	char out[LDG_UTC_LEN];

	assert_int_equal(utc(s), want);
	ldg_utc_format(want, out, sizeof(out));
	assert_string_equal(out, s);
}

static void test_utc_round_trips(void **state)
{
	/* the numbers are date -u -d S +%s */
	expect_utc("1970-01-01T00:00:00Z", 0);
	expect_utc("2000-02-29T12:34:56Z", 951827696);
	expect_utc("2028-02-29T00:00:00Z", 1835395200);
	expect_utc("2026-12-06T06:00:00Z", 1796536800);
	expect_utc("2026-12-05T20:17:00Z", 1796501820);
	expect_utc("9999-12-31T23:59:59Z", 253402300799);
	/* 2400 is a leap year */
	assert_true(utc("2400-02-29T00:00:00Z") > 0);
}

static void expect_utc_error(const char *s, const char *msg)
{
	struct ldg_err err = { 0 };
	int64_t t = 7;

	assert_int_equal(ldg_utc_parse(s, &t, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(t, 7);
}

static void test_utc_refusals(void **state)
{
	static const char *const bad_form[] = {
		"",
		"2026-12-05T20:17Z",
		"2026-12-05 20:17:00Z",
		"2026-12-05t20:17:00z",
		"2026-12-05T20:17:00",
		"2026-12-05T20:17:00.5Z",
		"2026-12-05T20:17:00+00:00",
		"26-12-05T20:17:00Z",
		"2026-1a-05T20:17:00Z",
		"+026-12-05T20:17:00Z",
		"2026-12-05T20:17:00Z ",
	};
	char msg[128];

	for (size_t i = 0; i < sizeof(bad_form) / sizeof(*bad_form); i++) {
		snprintf(msg, sizeof(msg),
			 "time \"%s\": expected YYYY-MM-DDTHH:MM:SSZ (UTC)",
			 bad_form[i]);
		expect_utc_error(bad_form[i], msg);
	}
	expect_utc_error("1969-12-31T23:59:59Z",
			 "time \"1969-12-31T23:59:59Z\": year 1969 out of "
			 "range 1970-9999");
	expect_utc_error("2026-13-01T00:00:00Z",
			 "time \"2026-13-01T00:00:00Z\": month 13 out of "
			 "range 01-12");
	expect_utc_error("2026-00-01T00:00:00Z",
			 "time \"2026-00-01T00:00:00Z\": month 00 out of "
			 "range 01-12");
	expect_utc_error("2026-02-29T00:00:00Z",
			 "time \"2026-02-29T00:00:00Z\": day 29 out of range "
			 "01-28 in 2026-02");
	expect_utc_error("2100-02-29T00:00:00Z",
			 "time \"2100-02-29T00:00:00Z\": day 29 out of range "
			 "01-28 in 2100-02");
	expect_utc_error("2026-04-31T00:00:00Z",
			 "time \"2026-04-31T00:00:00Z\": day 31 out of range "
			 "01-30 in 2026-04");
	expect_utc_error("2026-01-00T00:00:00Z",
			 "time \"2026-01-00T00:00:00Z\": day 00 out of range "
			 "01-31 in 2026-01");
	expect_utc_error("2026-01-01T24:00:00Z",
			 "time \"2026-01-01T24:00:00Z\": hour 24 out of range "
			 "00-23");
	expect_utc_error("2026-01-01T00:60:00Z",
			 "time \"2026-01-01T00:60:00Z\": minute 60 out of "
			 "range 00-59");
	expect_utc_error("2016-12-31T23:59:60Z",
			 "time \"2016-12-31T23:59:60Z\": second 60 out of "
			 "range 00-59 (no leap seconds)");
}

/* ---- cron ---- */

#define ALL_MIN ((1ull << 60) - 1)
#define ALL_HOUR 0xffffffu
#define ALL_DOM 0xfffffffeu
#define ALL_MON 0x1ffe
#define ALL_DOW 0x7f

static struct ldg_cron cron(const char *s)
{
	struct ldg_cron c;
	struct ldg_err err = { 0 };

	memset(&c, 0xa5, sizeof(c));
	if (ldg_cron_parse(s, &c, &err))
		fail_msg("cron \"%s\": %s", s, err.msg);
	return c;
}

static void expect_cron(const char *s, uint64_t min, uint32_t hour,
			uint32_t dom, uint16_t mon, uint8_t dow, bool dom_star,
			bool dow_star)
{
	struct ldg_cron c = cron(s);

	assert_int_equal(c.min, min);
	assert_int_equal(c.hour, hour);
	assert_int_equal(c.dom, dom);
	assert_int_equal(c.mon, mon);
	assert_int_equal(c.dow, dow);
	assert_int_equal(c.dom_star, dom_star);
	assert_int_equal(c.dow_star, dow_star);
}

static bool same_cron(const struct ldg_cron *a, const struct ldg_cron *b)
{
	return a->min == b->min && a->hour == b->hour && a->dom == b->dom &&
	       a->mon == b->mon && a->dow == b->dow &&
	       a->dom_star == b->dom_star && a->dow_star == b->dow_star;
}

#define B(n) (1ull << (n))

static void test_cron_stars(void **state)
{
	expect_cron("* * * * *", ALL_MIN, ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW,
		    true, true);
	/* '*'/1 is unrestricted too; a list holding '*' as well */
	expect_cron("0 0 */1 * *,1", B(0), B(0), ALL_DOM, ALL_MON, ALL_DOW,
		    true, true);
	/* any other step restricts */
	expect_cron("0 0 */2 * */2", B(0), B(0), 0xaaaaaaaau, ALL_MON,
		    B(0) | B(2) | B(4) | B(6), false, false);
}

static void test_cron_steps_ranges_lists(void **state)
{
	expect_cron("*/15 0-6/2 1,15,31 */3 1-5", B(0) | B(15) | B(30) | B(45),
		    B(0) | B(2) | B(4) | B(6), B(1) | B(15) | B(31),
		    B(1) | B(4) | B(7) | B(10),
		    B(1) | B(2) | B(3) | B(4) | B(5), false, false);
	expect_cron("5-20/5,59 8-18 1-3,10-11 2-2 0",
		    B(5) | B(10) | B(15) | B(20) | B(59), 0x7ff00,
		    B(1) | B(2) | B(3) | B(10) | B(11), B(2), B(0), false,
		    false);
	/* N/S is N-max/S; in day-of-week max is 6 (7 only names Sunday) */
	expect_cron("5/20 22/1 10/10 11/1 5/1", B(5) | B(25) | B(45),
		    B(22) | B(23), B(10) | B(20) | B(30), B(11) | B(12),
		    B(5) | B(6), false, false);
	expect_cron("0 0 * * 7/3", B(0), B(0), ALL_DOM, ALL_MON, B(0), true,
		    false);
	/* leading zeros are numbers like any other */
	expect_cron("05 007 * * *", B(5), B(7), ALL_DOM, ALL_MON, ALL_DOW, true,
		    true);
}

static void test_cron_names_and_sunday(void **state)
{
	expect_cron("0 0 * jan-MAR,Dec mon-FRI", B(0), B(0), ALL_DOM,
		    B(1) | B(2) | B(3) | B(12), 0x3e, true, false);
	expect_cron("0 0 * JUL/2 Sat", B(0), B(0), ALL_DOM, B(7) | B(9) | B(11),
		    B(6), true, false);
	/* 0 and 7 are both Sunday */
	expect_cron("0 0 * * sun,7,0", B(0), B(0), ALL_DOM, ALL_MON, B(0), true,
		    false);
	expect_cron("0 0 * * 5-7", B(0), B(0), ALL_DOM, ALL_MON,
		    B(0) | B(5) | B(6), true, false);
	expect_cron("0 0 * * 0-7", B(0), B(0), ALL_DOM, ALL_MON, ALL_DOW, true,
		    false);
}

static void test_cron_descriptors(void **state)
{
	static const char *const pairs[][2] = {
		{ "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
		struct ldg_cron a = cron(pairs[i][0]), b = cron(pairs[i][1]);

		assert_true(same_cron(&a, &b));
	}
	expect_cron("@weekly", B(0), B(0), ALL_DOM, ALL_MON, B(0), true, false);
}

static void test_cron_blanks_are_spaces_or_tabs(void **state)
{
	struct ldg_cron a = cron("0\t0  *\t * *"), b = cron("0 0 * * *");

	assert_true(same_cron(&a, &b));
}

static void expect_cron_error(const char *s, const char *msg)
{
	struct ldg_err err = { 0 };
	struct ldg_cron c = { .min = 7 };

	assert_int_equal(ldg_cron_parse(s, &c, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(c.min, 7);
}

static void test_cron_refusals(void **state)
{
	expect_cron_error("", "cron: empty schedule");
	expect_cron_error(" 0 0 * * *",
			  "cron \" 0 0 * * *\": blank before the first or "
			  "after the last field");
	expect_cron_error("0 0 * * *\t",
			  "cron \"0 0 * * *?\": blank before the first or "
			  "after the last field");
	expect_cron_error("0 0 * * 1#2", "cron \"0 0 * * 1#2\": unexpected "
					 "character '#'");
	expect_cron_error("0 0 * * ?", "cron \"0 0 * * ?\": unexpected "
				       "character '?'");
	expect_cron_error("0 0 * * 1\n", "cron \"0 0 * * 1?\": unexpected "
					 "character '?'");
	expect_cron_error("0 0 * *",
			  "cron \"0 0 * *\": 4 fields, expected 5 (minute "
			  "hour day-of-month month day-of-week) or a "
			  "descriptor such as @daily");
	expect_cron_error("0 0 0 * * *",
			  "cron \"0 0 0 * * *\": 6 fields, expected 5 (minute "
			  "hour day-of-month month day-of-week) or a "
			  "descriptor such as @daily");
	expect_cron_error("@every 1h",
			  "cron: unknown descriptor \"@every 1h\" (@yearly, "
			  "@annually, @monthly, @weekly, @daily, @midnight "
			  "or @hourly)");
	expect_cron_error("@DAILY",
			  "cron: unknown descriptor \"@DAILY\" (@yearly, "
			  "@annually, @monthly, @weekly, @daily, @midnight "
			  "or @hourly)");
	expect_cron_error("61 * * * *",
			  "cron: minute field 61 out of range 0-59");
	expect_cron_error("0 24 * * *",
			  "cron: hour field 24 out of range 0-23");
	expect_cron_error("0 0 0 * *",
			  "cron: day-of-month field 0 out of range 1-31");
	expect_cron_error("0 0 32 * *",
			  "cron: day-of-month field 32 out of range 1-31");
	expect_cron_error("0 0 * 13 *",
			  "cron: month field 13 out of range 1-12");
	expect_cron_error("0 0 * * 8",
			  "cron: day-of-week field 8 out of range 0-7");
	expect_cron_error("99999999999 * * * *",
			  "cron: minute field 99999999999 out of range 0-59");
	expect_cron_error("0 0 * FOO *", "cron: month field: bad value \"FOO\" "
					 "(1-12 or JAN-DEC)");
	expect_cron_error("0 0 * * MONDAY",
			  "cron: day-of-week field: bad value \"MONDAY\" (0-7 "
			  "or SUN-SAT)");
	expect_cron_error("0 JAN * * *", "cron: hour field: bad value \"JAN\"");
	expect_cron_error("0 0 * * 1@",
			  "cron: day-of-week field: bad value \"1@\" (0-7 or "
			  "SUN-SAT)");
	expect_cron_error("*-5 * * * *", "cron: minute field: bad value \"*\"");
	expect_cron_error("1- * * * *", "cron: minute field: bad value \"\"");
	expect_cron_error("1,,2 * * * *",
			  "cron: minute field: empty list item");
	expect_cron_error("1, * * * *", "cron: minute field: empty list item");
	expect_cron_error("5-1 * * * *",
			  "cron: minute field: range \"5-1\" goes backwards");
	expect_cron_error("0 0 * * SAT-SUN",
			  "cron: day-of-week field: range \"SAT-SUN\" goes "
			  "backwards");
	expect_cron_error("*/0 * * * *",
			  "cron: minute field: step \"0\" not a number 1-60");
	expect_cron_error("*/61 * * * *",
			  "cron: minute field: step \"61\" not a number 1-60");
	expect_cron_error("0 */x * * *",
			  "cron: hour field: step \"x\" not a number 1-24");
	expect_cron_error("0 0 1/ * *",
			  "cron: day-of-month field: step \"\" not a number "
			  "1-31");
	expect_cron_error("0 0 1/2/3 * *",
			  "cron: day-of-month field: step \"2/3\" not a number "
			  "1-31");
	expect_cron_error("0 0 30 2 *",
			  "cron \"0 0 30 2 *\": no month has such a "
			  "day-of-month: it never fires");
	expect_cron_error("0 0 31 APR,JUN,SEP,NOV *",
			  "cron \"0 0 31 APR,JUN,SEP,NOV *\": no month has "
			  "such a day-of-month: it never fires");
}

static void test_cron_rare_days_that_exist_are_accepted(void **state)
{
	/* Feb 29 exists (leap years); 30 FEB on Mondays fires on Mondays
	 * (the day rule's OR) */
	cron("0 0 29 2 *");
	cron("0 0 30 2 MON");
	cron("0 0 31 1-2 *");
}

/* ---- time zones ---- */

static void expect_tz_error(const char *tz, int code, const char *msg)
{
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_tz_check(tz, &err), code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
}

static void test_tz_known_names(void **state)
{
	static const char *const ok[] = {
		"UTC",
		"Europe/Berlin",
		"America/New_York",
		"Asia/Kolkata",
		"America/Argentina/Buenos_Aires",
		"Etc/GMT+5",
		"Etc/GMT-14",
		"EST5EDT",
	};

	need_zone("Europe/Berlin");
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct ldg_err err = { 0 };

		if (ldg_tz_check(ok[i], &err))
			fail_msg("%s: %s", ok[i], err.msg);
	}
}

static void test_tz_refusals(void **state)
{
	static const char *const not_names[] = {
		"../etc/passwd",   "/etc/localtime", "Europe//Berlin",
		"Europe/",	   "Europe/Berlin ", "Europe/Berlin.x",
		"Europe/..",	   "Europe\\Berlin", ":Europe/Berlin",
		"Europe/Berlin\n",
	};
	char msg[160], *dir = NULL;

	need_zone("Europe/Berlin");
	for (size_t i = 0; i < sizeof(not_names) / sizeof(*not_names); i++) {
		char q[64];

		snprintf(q, sizeof(q), "%s", not_names[i]);
		for (char *p = q; *p; p++)
			if (*p == '\n')
				*p = '?';
		snprintf(msg, sizeof(msg),
			 "time zone \"%s\": not an IANA name (parts of A-Z "
			 "a-z 0-9 _ + - joined by '/')",
			 q);
		expect_tz_error(not_names[i], -EINVAL, msg);
	}
	expect_tz_error("", -EINVAL, "time zone: empty name");
	memset(msg, 'A', 65);
	msg[65] = '\0';
	expect_tz_error(msg, -EINVAL,
			"time zone \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			"...\": longer than 64 bytes");
	msg[64] = '\0';
	/* 64 bytes is a name, just not a known one */
	assert_int_equal(ldg_tz_check(msg, NULL), -ENOENT);
	expect_tz_error("right/UTC", -EINVAL,
			"time zone \"right/UTC\": right/ zones count leap "
			"seconds: use UTC");
	if (asprintf(&dir, "%s", zone_dir()) < 0)
		fail();
	snprintf(msg, sizeof(msg),
		 "unknown time zone \"Mars/Olympus\" (not in %s)", dir);
	expect_tz_error("Mars/Olympus", -ENOENT, msg);
	/* a directory, and a file of tzdata that is not a zone */
	snprintf(msg, sizeof(msg),
		 "unknown time zone \"Europe\" (%s/Europe is not a time zone "
		 "file)",
		 dir);
	expect_tz_error("Europe", -ENOENT, msg);
	if (access("/usr/share/zoneinfo/leapseconds", R_OK) == 0 &&
	    !strcmp(dir, "/usr/share/zoneinfo"))
		expect_tz_error("leapseconds", -ENOENT,
				"unknown time zone \"leapseconds\" "
				"(/usr/share/zoneinfo/leapseconds is not a "
				"time zone file)");
	free(dir);
}

/* ---- windows ---- */

/*
 * Asks whether "cron" with duration "dur" in tz is open at "when" and
 * checks the answer: open or not, and the window's start and end (the
 * next one's when closed; NULL: none).
 */
static void expect_window(const char *spec, const char *dur_s, const char *tz,
			  const char *when, bool active, const char *start,
			  const char *end)
{
	struct ldg_cron c = cron(spec);
	struct ldg_err err = { 0 };
	char got_start[LDG_UTC_LEN], got_end[LDG_UTC_LEN];
	int64_t s = -1, e = -1;
	bool a = !active;

	need_zone(tz);
	if (ldg_window_at(&c, dur(dur_s), tz, utc(when), &a, &s, &e, &err))
		fail_msg("%s %s %s at %s: %s", spec, dur_s, tz, when, err.msg);
	if (a != active)
		fail_msg("\"%s\" %s %s at %s: %s, expected %s", spec, dur_s, tz,
			 when, a ? "active" : "inactive",
			 active ? "active" : "inactive");
	if (!start) {
		assert_int_equal(s, 0);
		assert_int_equal(e, 0);
		return;
	}
	ldg_utc_format(s, got_start, sizeof(got_start));
	ldg_utc_format(e, got_end, sizeof(got_end));
	if (strcmp(got_start, start) || strcmp(got_end, end))
		fail_msg("\"%s\" %s %s at %s: %s..%s, expected %s..%s", spec,
			 dur_s, tz, when, got_start, got_end, start, end);
}

static void test_window_boundaries_start_in_end_out(void **state)
{
	/* nightly 22:00 for 8 h, across midnight */
	const char *c = "0 22 * * *";

	expect_window(c, "8h", "UTC", "2026-12-05T21:59:59Z", false,
		      "2026-12-05T22:00:00Z", "2026-12-06T06:00:00Z");
	expect_window(c, "8h", "UTC", "2026-12-05T22:00:00Z", true,
		      "2026-12-05T22:00:00Z", "2026-12-06T06:00:00Z");
	expect_window(c, "8h", "UTC", "2026-12-06T05:59:59Z", true,
		      "2026-12-05T22:00:00Z", "2026-12-06T06:00:00Z");
	expect_window(c, "8h", "UTC", "2026-12-06T06:00:00Z", false,
		      "2026-12-06T22:00:00Z", "2026-12-07T06:00:00Z");
	/* one second long */
	expect_window(c, "1s", "UTC", "2026-12-05T22:00:00Z", true,
		      "2026-12-05T22:00:00Z", "2026-12-05T22:00:01Z");
	expect_window(c, "1s", "UTC", "2026-12-05T22:00:01Z", false,
		      "2026-12-06T22:00:00Z", "2026-12-06T22:00:01Z");
}

static void test_window_across_month_and_year_ends(void **state)
{
	expect_window("0 18 30 4 *", "3d", "UTC", "2026-05-02T00:00:00Z", true,
		      "2026-04-30T18:00:00Z", "2026-05-03T18:00:00Z");
	expect_window("0 20 31 12 *", "2d", "UTC", "2027-01-01T12:00:00Z", true,
		      "2026-12-31T20:00:00Z", "2027-01-02T20:00:00Z");
	expect_window("0 20 31 12 *", "2d", "UTC", "2027-01-02T20:00:00Z",
		      false, "2027-12-31T20:00:00Z", "2028-01-02T20:00:00Z");
}

static void test_window_overlapping_firings(void **state)
{
	/* hourly for 90 min: at 10:15 both 09:00's and 10:00's windows
	 * hold; the latest start wins, and its end is the last */
	expect_window("0 * * * *", "90m", "UTC", "2026-12-05T10:15:00Z", true,
		      "2026-12-05T10:00:00Z", "2026-12-05T11:30:00Z");
	expect_window("0 * * * *", "90m", "UTC", "2026-12-05T10:45:00Z", true,
		      "2026-12-05T10:00:00Z", "2026-12-05T11:30:00Z");
	/* monthly for 40 days: Nov 1's window still holds on Dec 5 */
	expect_window("@monthly", "40d", "UTC", "2026-12-05T20:17:00Z", true,
		      "2026-12-01T00:00:00Z", "2027-01-10T00:00:00Z");
	/* Dec 1's window ends exactly when Jan 1's is 9 days old */
	expect_window("@monthly", "40d", "UTC", "2027-01-10T00:00:00Z", true,
		      "2027-01-01T00:00:00Z", "2027-02-10T00:00:00Z");
	/* every minute for the longest duration: no minute-by-minute walk */
	expect_window("* * * * *", "366d", "UTC", "2026-12-05T20:17:30Z", true,
		      "2026-12-05T20:17:00Z", "2027-12-06T20:17:00Z");
	expect_window("* * * * *", "52w2d", "Europe/Berlin",
		      "2026-12-05T20:17:30Z", true, "2026-12-05T20:17:00Z",
		      "2027-12-06T20:17:00Z");
}

static void test_window_day_of_month_or_day_of_week(void **state)
{
	/* both restricted: either (2026-11-12 is a Thursday, 13 a Friday) */
	expect_window("0 0 12 * FRI", "1m", "UTC", "2026-11-10T00:00:00Z",
		      false, "2026-11-12T00:00:00Z", "2026-11-12T00:01:00Z");
	expect_window("0 0 12 * FRI", "1m", "UTC", "2026-11-12T00:01:00Z",
		      false, "2026-11-13T00:00:00Z", "2026-11-13T00:01:00Z");
	/* '*'/2 restricts: odd days or Fridays; the 15th is a Sunday */
	expect_window("0 0 */2 * FRI", "1m", "UTC", "2026-11-14T00:00:00Z",
		      false, "2026-11-15T00:00:00Z", "2026-11-15T00:01:00Z");
	/* one unrestricted: both, so the other alone decides */
	expect_window("0 0 */1 * FRI", "1m", "UTC", "2026-11-14T00:00:00Z",
		      false, "2026-11-20T00:00:00Z", "2026-11-20T00:01:00Z");
	expect_window("0 0 13 * *", "1m", "UTC", "2026-11-14T00:00:00Z", false,
		      "2026-12-13T00:00:00Z", "2026-12-13T00:01:00Z");
	expect_window("0 0 31 * *", "1m", "UTC", "2026-04-01T00:00:00Z", false,
		      "2026-05-31T00:00:00Z", "2026-05-31T00:01:00Z");
}

static void test_window_february_29(void **state)
{
	const char *c = "0 0 29 2 *";

	expect_window(c, "1d", "UTC", "2026-12-05T20:17:00Z", false,
		      "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z");
	expect_window(c, "1d", "UTC", "2028-02-29T23:59:59Z", true,
		      "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z");
	expect_window(c, "1d", "UTC", "2028-03-01T00:00:00Z", false,
		      "2032-02-29T00:00:00Z", "2032-03-01T00:00:00Z");
	/* 2100 is no leap year and 2104 is more than 5 years away */
	expect_window(c, "1d", "UTC", "2097-03-01T00:00:00Z", false, NULL,
		      NULL);
}

static void test_window_time_zones(void **state)
{
	/* Europe/Berlin, winter (+1): Friday 18:00 to Monday 10:00 */
	expect_window("0 18 * * FRI", "64h", "Europe/Berlin",
		      "2026-12-05T20:17:00Z", true, "2026-12-04T17:00:00Z",
		      "2026-12-07T09:00:00Z");
	expect_window("0 18 * * FRI", "64h", "Europe/Berlin",
		      "2026-12-07T09:00:00Z", false, "2026-12-11T17:00:00Z",
		      "2026-12-14T09:00:00Z");
	/* America/New_York: weekdays 09:00 for 8 h, winter (-5) and
	 * summer (-4) */
	expect_window("0 9 * * 1-5", "8h", "America/New_York",
		      "2026-12-07T13:59:59Z", false, "2026-12-07T14:00:00Z",
		      "2026-12-07T22:00:00Z");
	expect_window("0 9 * * 1-5", "8h", "America/New_York",
		      "2026-12-07T21:59:59Z", true, "2026-12-07T14:00:00Z",
		      "2026-12-07T22:00:00Z");
	expect_window("0 9 * * 1-5", "8h", "America/New_York",
		      "2026-07-06T13:00:00Z", true, "2026-07-06T13:00:00Z",
		      "2026-07-06T21:00:00Z");
	expect_window("0 9 * * 1-5", "8h", "America/New_York",
		      "2026-12-05T20:17:00Z", false, "2026-12-07T14:00:00Z",
		      "2026-12-07T22:00:00Z");
	/* Asia/Kolkata (+5:30): 23:30 is 18:00Z */
	expect_window("30 23 * * *", "1h", "Asia/Kolkata",
		      "2026-06-01T18:59:59Z", true, "2026-06-01T18:00:00Z",
		      "2026-06-01T19:00:00Z");
	expect_window("30 23 * * *", "1h", "Asia/Kolkata",
		      "2026-06-01T19:00:00Z", false, "2026-06-02T18:00:00Z",
		      "2026-06-02T19:00:00Z");
	/* the local date decides the day: Monday 00:30 in Kolkata is
	 * Sunday 19:00Z */
	expect_window("30 0 * * MON", "1h", "Asia/Kolkata",
		      "2026-12-06T19:30:00Z", true, "2026-12-06T19:00:00Z",
		      "2026-12-06T20:00:00Z");
}

static void test_window_spring_forward(void **state)
{
	/* from 01:00 CET for 4 real hours: to 06:00 CEST */
	expect_window("0 1 29 3 *", "4h", "Europe/Berlin",
		      "2026-03-29T03:59:59Z", true, "2026-03-29T00:00:00Z",
		      "2026-03-29T04:00:00Z");
	expect_window("0 1 29 3 *", "4h", "Europe/Berlin",
		      "2026-03-29T04:00:00Z", false, "2027-03-28T23:00:00Z",
		      "2027-03-29T03:00:00Z");
	/* 02:30 does not exist on 2026-03-29: no firing that day */
	expect_window("30 2 * * *", "1h", "Europe/Berlin",
		      "2026-03-28T01:30:00Z", true, "2026-03-28T01:30:00Z",
		      "2026-03-28T02:30:00Z");
	expect_window("30 2 * * *", "1h", "Europe/Berlin",
		      "2026-03-29T00:00:00Z", false, "2026-03-30T00:30:00Z",
		      "2026-03-30T01:30:00Z");
	/* hourly: after 01:00 CET comes 03:00 CEST */
	expect_window("0 * * * *", "10m", "Europe/Berlin",
		      "2026-03-29T00:30:00Z", false, "2026-03-29T01:00:00Z",
		      "2026-03-29T01:10:00Z");
	expect_window("0 2 * * *", "1h", "America/New_York",
		      "2026-03-08T06:00:00Z", false, "2026-03-09T06:00:00Z",
		      "2026-03-09T07:00:00Z");
}

static void test_window_fall_back(void **state)
{
	/* from 01:00 CEST for 4 real hours: to 04:00 CET */
	expect_window("0 1 25 10 *", "4h", "Europe/Berlin",
		      "2026-10-25T02:59:59Z", true, "2026-10-24T23:00:00Z",
		      "2026-10-25T03:00:00Z");
	/* 02:30 happens twice on 2026-10-25: the window opens once, at
	 * 02:30 CEST (00:30Z); at 02:30 CET (01:30Z) it closes */
	expect_window("30 2 * * *", "1h", "Europe/Berlin",
		      "2026-10-25T01:29:59Z", true, "2026-10-25T00:30:00Z",
		      "2026-10-25T01:30:00Z");
	expect_window("30 2 * * *", "1h", "Europe/Berlin",
		      "2026-10-25T01:30:00Z", false, "2026-10-26T01:30:00Z",
		      "2026-10-26T02:30:00Z");
	/* at 02:10 CET (01:10Z) the 02:30 of the first pass, a local time
	 * later than t's own, is already past and still open */
	expect_window("30 2 * * *", "1h", "Europe/Berlin",
		      "2026-10-25T01:10:00Z", true, "2026-10-25T00:30:00Z",
		      "2026-10-25T01:30:00Z");
	/* hourly: 02:00 CEST (00:00Z), not 02:00 CET (01:00Z), then 03:00
	 * CET (02:00Z) */
	expect_window("0 * * * *", "30m", "Europe/Berlin",
		      "2026-10-25T01:10:00Z", false, "2026-10-25T02:00:00Z",
		      "2026-10-25T02:30:00Z");
	expect_window("0 * * * *", "90m", "Europe/Berlin",
		      "2026-10-25T01:10:00Z", true, "2026-10-25T00:00:00Z",
		      "2026-10-25T01:30:00Z");
	expect_window("30 1 * * *", "30m", "America/New_York",
		      "2026-11-01T05:30:00Z", true, "2026-11-01T05:30:00Z",
		      "2026-11-01T06:00:00Z");
	expect_window("30 1 * * *", "30m", "America/New_York",
		      "2026-11-01T06:30:00Z", false, "2026-11-02T06:30:00Z",
		      "2026-11-02T07:00:00Z");
}

static void expect_window_error(uint64_t duration, const char *tz, int64_t t,
				int code, const char *msg)
{
	struct ldg_cron c = cron("0 0 * * *");
	struct ldg_err err = { 0 };
	int64_t s = 7, e = 7;
	bool a = true;

	assert_int_equal(ldg_window_at(&c, duration, tz, t, &a, &s, &e, &err),
			 code);
	assert_string_equal(err.msg, msg);
	assert_true(a);
	assert_int_equal(s, 7);
	assert_int_equal(e, 7);
}

static void test_window_refusals(void **state)
{
	need_zone("UTC");
	expect_window_error(0, "UTC", 0, -EINVAL,
			    "window: duration 0 s out of range 1 s - 366 days");
	expect_window_error(LDG_DURATION_MAX + 1, "UTC", 0, -EINVAL,
			    "window: duration 31622401 s out of range 1 s - "
			    "366 days");
	expect_window_error(60, "UTC", -1, -EINVAL,
			    "window: time -1 out of range 1970-9999");
	expect_window_error(60, "UTC", 253402300800, -EINVAL,
			    "window: time 253402300800 out of range "
			    "1970-9999");
	expect_window_error(60, "../UTC", 0, -EINVAL,
			    "time zone \"../UTC\": not an IANA name (parts of "
			    "A-Z a-z 0-9 _ + - joined by '/')");
	assert_int_equal(ldg_window_at(&(struct ldg_cron){ 0 }, 60,
				       "Mars/Olympus", 0, &(bool){ false },
				       &(int64_t){ 0 }, &(int64_t){ 0 }, NULL),
			 -ENOENT);
}

static void test_window_restores_tz(void **state)
{
	struct ldg_cron c = cron("0 0 * * *");
	bool a;
	int64_t s, e;
	time_t winter = 1796501820; /* 2026-12-05T20:17:00Z */
	struct tm tm;

	need_zone("Asia/Kolkata");
	need_zone("America/New_York");
	assert_int_equal(setenv("TZ", "America/New_York", 1), 0);
	tzset();
	assert_int_equal(ldg_window_at(&c, 60, "Asia/Kolkata", winter, &a, &s,
				       &e, NULL),
			 0);
	assert_string_equal(getenv("TZ"), "America/New_York");
	localtime_r(&winter, &tm);
	assert_int_equal(tm.tm_gmtoff, -5 * 3600);

	assert_int_equal(unsetenv("TZ"), 0);
	tzset();
	assert_int_equal(ldg_window_at(&c, 60, "Asia/Kolkata", winter, &a, &s,
				       &e, NULL),
			 0);
	assert_null(getenv("TZ"));
}

/* $TZDIR is where both ldg_tz_check() and glibc look */
static void test_window_honours_tzdir(void **state)
{
	char *dir, *sub, *src, *dst, *data;
	size_t len;

	need_zone("Asia/Kolkata");
	dir = tl_mkdtemp();
	assert_non_null(dir);
	assert_true(asprintf(&sub, "%s/My", dir) > 0);
	assert_true(asprintf(&dst, "%s/My/Zone", dir) > 0);
	assert_true(asprintf(&src, "%s/Asia/Kolkata", zone_dir()) > 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	data = tl_read_file(src, &len);
	assert_non_null(data);
	assert_int_equal(tl_write_file(dst, data, len, 0600), 0);

	assert_int_equal(ldg_tz_check("My/Zone", NULL), -ENOENT);
	assert_int_equal(setenv("TZDIR", dir, 1), 0);
	assert_int_equal(ldg_tz_check("My/Zone", NULL), 0);
	assert_int_equal(ldg_tz_check("Asia/Kolkata", NULL), -ENOENT);
	expect_window("30 23 * * *", "1h", "My/Zone", "2026-06-01T18:59:59Z",
		      true, "2026-06-01T18:00:00Z", "2026-06-01T19:00:00Z");
	assert_int_equal(unsetenv("TZDIR"), 0);

	tl_rmrf(dir);
	free(data);
	free(src);
	free(dst);
	free(sub);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units_in_order),
		cmocka_unit_test(test_duration_refusals),
		cmocka_unit_test(test_duration_format_is_canonical),
		cmocka_unit_test(test_utc_round_trips),
		cmocka_unit_test(test_utc_refusals),
		cmocka_unit_test(test_cron_stars),
		cmocka_unit_test(test_cron_steps_ranges_lists),
		cmocka_unit_test(test_cron_names_and_sunday),
		cmocka_unit_test(test_cron_descriptors),
		cmocka_unit_test(test_cron_blanks_are_spaces_or_tabs),
		cmocka_unit_test(test_cron_refusals),
		cmocka_unit_test(test_cron_rare_days_that_exist_are_accepted),
		cmocka_unit_test(test_tz_known_names),
		cmocka_unit_test(test_tz_refusals),
		cmocka_unit_test(test_window_boundaries_start_in_end_out),
		cmocka_unit_test(test_window_across_month_and_year_ends),
		cmocka_unit_test(test_window_overlapping_firings),
		cmocka_unit_test(test_window_day_of_month_or_day_of_week),
		cmocka_unit_test(test_window_february_29),
		cmocka_unit_test(test_window_time_zones),
		cmocka_unit_test(test_window_spring_forward),
		cmocka_unit_test(test_window_fall_back),
		cmocka_unit_test(test_window_refusals),
		cmocka_unit_test(test_window_restores_tz),
		cmocka_unit_test(test_window_honours_tzdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
