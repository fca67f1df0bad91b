/*
 * window.h - the time of promotion policies (SPEC.md section 9): soak
 * durations, UTC instants, cron schedules, IANA time zones, and the one
 * question a recurring freeze window asks: "is it open at t, and since
 * when / until when / when does it open next?" (ldg_window_at()).
 *
 * The grammars, each accepting one spelling only:
 *   duration  parts N UNIT, units w d h m s, each at most once and in
 *             that order, N a positive decimal integer; total 1 s ..
 *             366 d. No sign, fraction or blank: "30m", "1h30m", "1w2d".
 *             ldg_duration_format() prints the canonical form (d h m s,
 *             zero parts left out, weeks as days).
 *   UTC time  "YYYY-MM-DDTHH:MM:SSZ", years 1970..9999, real dates only
 *             (leap years), seconds 00..59.
 *   cron      five fields "MIN HOUR DOM MON DOW" separated by one or more
 *             spaces or tabs (none before the first or after the last),
 *             as Argo CD's sync windows (robfig/cron's standard parser);
 *             each field a ','-list of '*', N, N-M, '*'/S, N-M/S, N/S
 *             (N/S is N-max/S); MON also JAN..DEC, DOW also SUN..SAT
 *             (any case), DOW 0..7 with 0 and 7 Sunday; or one of
 *             @yearly @annually @monthly @weekly @daily @midnight @hourly.
 *             Days: when DOM or DOW is unrestricted ('*' or '*'/1) a day
 *             must match both, else either (Vixie cron, robfig/cron).
 *             A schedule no date can match (DOM 30 in FEB only) is
 *             refused.
 *   zone      an IANA name found as a TZif file under $TZDIR or
 *             /usr/share/zoneinfo; [A-Za-z0-9_+-] in '/'-separated
 *             non-empty parts (so no "..", no leading '/'), at most
 *             LDG_TZ_MAX bytes, not a right/ zone (those count leap
 *             seconds).
 *
 * Firings are the local times in the zone the schedule matches, at whole
 * minutes. A local time that does not exist (the hour the clocks skip in
 * spring) does not fire, as in robfig/cron: "30 2 * * *" in Europe/Berlin
 * has no firing on 2026-03-29. A local time that exists twice (the hour
 * repeated in autumn) fires once, at its first occurrence (robfig/cron
 * fires twice). A window lasts its duration in real seconds, whatever the
 * clocks do meanwhile.
 *
 * Every function returns 0 or a negative errno (-EINVAL bad input,
 * -ENOENT unknown zone, -ENOMEM) with a one-line reason in err.
 *
 * Threads: the parsers and formatters are pure and thread-safe.
 * ldg_window_at() converts local times with glibc, under TZ=":ZONE": it
 * is the only place in the process that changes TZ. It does so under one
 * static mutex (ldg_tz_check() reads TZDIR under it too) and restores
 * the previous TZ (or its absence) before it returns. Meanwhile another
 * thread's localtime(), mktime() or strftime("%Z") may see ZONE (Ledger
 * itself calls only gmtime_r() and timegm()), and its getenv() races
 * with the setenv() (glibc does not lock the environment for readers):
 * a threaded caller must not read the environment while it runs.
 */
#ifndef LDG_WINDOW_H
#define LDG_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define LDG_DURATION_MAX (366 * 86400ull)
/* output sizes of the formatters, NUL included */
#define LDG_DURATION_LEN 32
#define LDG_UTC_LEN 21
#define LDG_TZ_MAX 64

int ldg_duration_parse(const char *s, uint64_t *seconds, struct ldg_err *err);
/* 5400 -> "1h30m", 86400 -> "1d", 0 -> "0s"; out has len >=
 * LDG_DURATION_LEN bytes. */
void ldg_duration_format(uint64_t seconds, char *out, size_t len);

/* Seconds since the epoch; formats back to the same form (t in the years
 * 1970..9999; out has len >= LDG_UTC_LEN bytes). */
int ldg_utc_parse(const char *s, int64_t *t, struct ldg_err *err);
void ldg_utc_format(int64_t t, char *out, size_t len);

/* A parsed schedule: bit i set when value i matches (min 0-59, hour
 * 0-23, dom 1-31, mon 1-12, dow 0-6 with Sunday 0); dom_star and
 * dow_star when that field is unrestricted (the day rule above). */
struct ldg_cron {
	uint64_t min;
	uint32_t hour;
	uint32_t dom;
	uint16_t mon;
	uint8_t dow;
	bool dom_star, dow_star;
};

int ldg_cron_parse(const char *s, struct ldg_cron *out, struct ldg_err *err);

/* 0, -EINVAL (not a zone name by the rules above) or -ENOENT ("unknown
 * time zone"). */
int ldg_tz_check(const char *tz, struct ldg_err *err);

/*
 * The recurring window "c fires in tz; each firing f opens [f, f +
 * duration)" at t (unix seconds, 1970..9999). *active when some firing
 * f <= t < f + duration; then *start is the latest such f and *end its
 * f + duration (the window containing t that ends last). Otherwise
 * *start is the first firing after t and *end its start + duration, or
 * both 0 when it does not fire within the 5 years after t's local year
 * (robfig/cron's bound; "0 0 29 2 *" after 2097-02-29 is one).
 * duration is 1 s .. LDG_DURATION_MAX.
 */
int ldg_window_at(const struct ldg_cron *c, uint64_t duration, const char *tz,
		  int64_t t, bool *active, int64_t *start, int64_t *end,
		  struct ldg_err *err);

#endif
