#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "window.h"

#define MINUTE 60
#define HOUR 3600
#define DAY 86400
/* 9999-12-31T23:59:59Z */
#define UTC_MAX 253402300799ll

/* ---- quoting input in messages ---- */

#define QUOTE_MAX 40

/* s[0..len) into out (QUOTE_MAX + 4 bytes) for a message: bytes outside
 * printable ASCII as '?', cut with "..." when longer than QUOTE_MAX. */
static const char *quote(const char *s, size_t len, char *out)
{
	size_t n = len < QUOTE_MAX ? len : QUOTE_MAX, i;

	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (len > QUOTE_MAX) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- the proleptic Gregorian calendar (days since 1970-01-01) ---- */

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* H. Hinnant's days_from_civil and civil_from_days */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- durations ---- */

static const struct {
	char unit;
	uint64_t seconds;
} units[] = {
	{ 'w', 7 * DAY }, { 'd', DAY }, { 'h', HOUR },
	{ 'm', MINUTE },  { 's', 1 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

static int unit_index(char c)
{
	for (size_t i = 0; i < NUNITS; i++)
		if (units[i].unit == c)
			return (int)i;
	return -1;
}

int ldg_duration_parse(const char *s, uint64_t *seconds, struct ldg_err *err)
{
	char q[QUOTE_MAX + 4], one[8];
	uint64_t total = 0;
	size_t next = 0; /* the first unit still allowed */
	const char *p = s;

	if (!*s)
		return ldg_err_set(err, -EINVAL,
				   "duration: empty (write e.g. 30m, 1h30m "
				   "or 2d)");
	while (*p) {
		const char *num = p;
		uint64_t n = 0;
		int u;

		if (!is_digit(*p)) {
			if (unit_index(*p) >= 0)
				return ldg_err_set(err, -EINVAL,
						   "duration \"%s\": unit '%c' "
						   "without a number",
						   quote(s, strlen(s), q), *p);
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": unexpected "
					   "character '%s'",
					   quote(s, strlen(s), q),
					   quote(p, 1, one));
		}
		for (; is_digit(*p); p++) {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > LDG_DURATION_MAX)
				return ldg_err_set(err, -EINVAL,
						   "duration \"%s\": longer "
						   "than 366 days",
						   quote(s, strlen(s), q));
		}
		if (!*p)
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": %.*s has no unit "
					   "(w, d, h, m or s)",
					   quote(s, strlen(s), q),
					   (int)(p - num), num);
		if (*p == '.')
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": no fractions: "
					   "write 1h30m, not 1.5h",
					   quote(s, strlen(s), q));
		u = unit_index(*p);
		if (u < 0)
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": unknown unit '%s' "
					   "(w, d, h, m or s)",
					   quote(s, strlen(s), q),
					   quote(p, 1, one));
		if ((size_t)u + 1 == next)
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": unit '%c' twice",
					   quote(s, strlen(s), q), *p);
		if ((size_t)u < next)
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": '%c' after '%c': "
					   "units go w, d, h, m, s",
					   quote(s, strlen(s), q), *p,
					   units[next - 1].unit);
		if (n == 0)
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": zero part "
					   "\"%.*s\": leave it out",
					   quote(s, strlen(s), q),
					   (int)(p + 1 - num), num);
		total += n * units[u].seconds;
		if (total > LDG_DURATION_MAX)
			return ldg_err_set(err, -EINVAL,
					   "duration \"%s\": longer than 366 "
					   "days",
					   quote(s, strlen(s), q));
		next = (size_t)u + 1;
		p++;
	}
	*seconds = total;
	return 0;
}

void ldg_duration_format(uint64_t seconds, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (seconds == 0) {
		snprintf(out, len, "0s");
		return;
	}
	/* from days on: weeks are printed as days */
	for (size_t i = 1; i < NUNITS && n < len; i++) {
		uint64_t part = seconds / units[i].seconds;

		seconds %= units[i].seconds;
		if (part)
			n += (size_t)snprintf(out + n, len - n, "%" PRIu64 "%c",
					      part, units[i].unit);
	}
}

/* ---- UTC times ---- */

/* two or four digits at s into *v; false when one is not a digit */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

int ldg_utc_parse(const char *s, int64_t *t, struct ldg_err *err)
{
	static const char form[] = "YYYY-MM-DDTHH:MM:SSZ";
	char q[QUOTE_MAX + 4];
	int y, mo, d, h, mi, sec;
	size_t len = strlen(s);

	if (len != sizeof(form) - 1 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": expected %s (UTC)",
				   quote(s, len, q), form);
	if (y < 1970)
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": year %04d out of range "
				   "1970-9999",
				   s, y);
	if (mo < 1 || mo > 12)
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": month %02d out of range 01-12",
				   s, mo);
	if (d < 1 || d > days_in_month(y, mo))
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": day %02d out of range 01-%02d "
				   "in %04d-%02d",
				   s, d, days_in_month(y, mo), y, mo);
	if (h > 23)
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": hour %02d out of range 00-23",
				   s, h);
	if (mi > 59)
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": minute %02d out of range 00-59",
				   s, mi);
	if (sec > 59)
		return ldg_err_set(err, -EINVAL,
				   "time \"%s\": second %02d out of range 00-59 "
				   "(no leap seconds)",
				   s, sec);
	*t = days_from_civil(y, mo, d) * DAY + h * HOUR + mi * MINUTE + sec;
	return 0;
}

void ldg_utc_format(int64_t t, char *out, size_t len)
{
	int64_t days = floor_div(t, DAY), rem = t - days * DAY, y;
	int mo, d;

	civil_from_days(days, &y, &mo, &d);
	snprintf(out, len, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, mo, d,
		 (int)(rem / HOUR), (int)(rem % HOUR / MINUTE),
		 (int)(rem % MINUTE));
}

/* ---- cron ---- */

static const char *const month_names[13] = {
	NULL,  "jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};
static const char *const day_names[8] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL,
};

struct field {
	const char *name;
	unsigned min, max;
	/* the upper end of '*' and N/S: 6 for DOW, where 7 is only an
	 * alias of Sunday */
	unsigned star_max;
	const char *const *names;
	/* what a bad value is told */
	const char *hint;
};

static const struct field fields[5] = {
	{ "minute", 0, 59, 59, NULL, "" },
	{ "hour", 0, 23, 23, NULL, "" },
	{ "day-of-month", 1, 31, 31, NULL, "" },
	{ "month", 1, 12, 12, month_names, " (1-12 or JAN-DEC)" },
	{ "day-of-week", 0, 7, 6, day_names, " (0-7 or SUN-SAT)" },
};

static const struct {
	const char *name;
	const char *spec;
} descriptors[] = {
	{ "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

/* One value of field f at s[0..len): a number or (MON, DOW) a name. */
static int cron_value(const struct field *f, const char *s, size_t len,
		      unsigned *v, struct ldg_err *err)
{
	char q[QUOTE_MAX + 4];
	size_t i;

	if (len > 0 && is_digit(s[0])) {
		unsigned n = 0;

		for (i = 0; i < len && is_digit(s[i]); i++)
			if (n < 1000)
				n = n * 10 + (unsigned)(s[i] - '0');
		if (i == len) {
			if (n < f->min || n > f->max)
				return ldg_err_set(err, -EINVAL,
						   "cron: %s field %s out of "
						   "range %u-%u",
						   f->name, quote(s, len, q),
						   f->min, f->max);
			*v = n;
			return 0;
		}
	} else if (f->names && len == 3) {
		for (unsigned n = f->min; n <= f->max; n++)
			if (f->names[n] && lower(s[0]) == f->names[n][0] &&
			    lower(s[1]) == f->names[n][1] &&
			    lower(s[2]) == f->names[n][2]) {
				*v = n;
				return 0;
			}
	}
	return ldg_err_set(err, -EINVAL, "cron: %s field: bad value \"%s\"%s",
			   f->name, quote(s, len, q), f->hint);
}

/* One list item of field f at s[0..len) into *bits; *star when it is
 * '*' or '*'/1. */
static int cron_item(const struct field *f, const char *s, size_t len,
		     uint64_t *bits, bool *star, struct ldg_err *err)
{
	char q[QUOTE_MAX + 4];
	const char *slash = memchr(s, '/', len);
	size_t rlen = slash ? (size_t)(slash - s) : len;
	const char *dash = memchr(s, '-', rlen);
	unsigned lo, hi, step = 1;
	int rc;

	if (len == 0)
		return ldg_err_set(err, -EINVAL,
				   "cron: %s field: empty list item", f->name);
	if (slash) {
		const char *st = slash + 1;
		size_t slen = len - rlen - 1, i;
		unsigned n = 0;

		for (i = 0; i < slen && is_digit(st[i]); i++)
			if (n < 1000)
				n = n * 10 + (unsigned)(st[i] - '0');
		if (slen == 0 || i < slen || n == 0 || n > f->max - f->min + 1)
			return ldg_err_set(err, -EINVAL,
					   "cron: %s field: step \"%s\" not a "
					   "number 1-%u",
					   f->name, quote(st, slen, q),
					   f->max - f->min + 1);
		step = n;
	}
	if (rlen == 1 && s[0] == '*') {
		lo = f->min;
		hi = f->star_max;
		*star = *star || step == 1;
	} else if (dash) {
		rc = cron_value(f, s, (size_t)(dash - s), &lo, err);
		if (!rc)
			rc = cron_value(f, dash + 1,
					rlen - (size_t)(dash - s) - 1, &hi,
					err);
		if (rc)
			return rc;
		if (lo > hi)
			return ldg_err_set(err, -EINVAL,
					   "cron: %s field: range \"%s\" goes "
					   "backwards",
					   f->name, quote(s, rlen, q));
	} else {
		rc = cron_value(f, s, rlen, &lo, err);
		if (rc)
			return rc;
		hi = slash ? (lo > f->star_max ? lo : f->star_max) : lo;
	}
	for (unsigned v = lo; v <= hi; v += step)
		*bits |= 1ull << (v == 7 && f == &fields[4] ? 0 : v);
	return 0;
}

/* Field f at s[0..len), a ','-list of items. */
static int cron_field(const struct field *f, const char *s, size_t len,
		      uint64_t *bits, bool *star, struct ldg_err *err)
{
	const char *end = s + len;

	*bits = 0;
	*star = false;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		int rc = cron_item(f, s, (size_t)(stop - s), bits, star, err);

		if (rc)
			return rc;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool cron_char(char c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z') ||
	       blank(c) || c == '*' || c == ',' || c == '-' || c == '/' ||
	       c == '@';
}

/* Whether some date can match: refused otherwise (a freeze that never
 * starts is a mistake nobody would notice). Only DOM restricted with DOW
 * '*' can miss every month: "30 FEB", "31 APR,JUN". */
static bool cron_some_day(const struct ldg_cron *c)
{
	if (c->dom_star || !c->dow_star)
		return true;
	for (int m = 1; m <= 12; m++)
		if ((c->mon >> m & 1) &&
		    (c->dom & ((2ull << days_in_month(2000, m)) - 2)))
			return true;
	return false;
}

int ldg_cron_parse(const char *s, struct ldg_cron *out, struct ldg_err *err)
{
	char q[QUOTE_MAX + 4], one[8];
	struct ldg_cron c = { 0 };
	uint64_t bits[5];
	bool star[5];
	const char *p, *field[5];
	size_t flen[5], len = strlen(s);
	int n = 0, rc;

	if (len == 0)
		return ldg_err_set(err, -EINVAL, "cron: empty schedule");
	for (p = s; *p; p++)
		if (!cron_char(*p))
			return ldg_err_set(err, -EINVAL,
					   "cron \"%s\": unexpected character "
					   "'%s'",
					   quote(s, len, q), quote(p, 1, one));
	if (blank(s[0]) || blank(s[len - 1]))
		return ldg_err_set(err, -EINVAL,
				   "cron \"%s\": blank before the first or "
				   "after the last field",
				   quote(s, len, q));
	if (s[0] == '@') {
		for (size_t i = 0;
		     i < sizeof(descriptors) / sizeof(*descriptors); i++)
			if (!strcmp(s, descriptors[i].name))
				return ldg_cron_parse(descriptors[i].spec, out,
						      err);
		return ldg_err_set(err, -EINVAL,
				   "cron: unknown descriptor \"%s\" (@yearly, "
				   "@annually, @monthly, @weekly, @daily, "
				   "@midnight or @hourly)",
				   quote(s, len, q));
	}
	for (p = s; *p;) {
		const char *start = p;

		while (*p && !blank(*p))
			p++;
		if (n < 5) {
			field[n] = start;
			flen[n] = (size_t)(p - start);
		}
		n++;
		while (blank(*p))
			p++;
	}
	if (n != 5)
		return ldg_err_set(err, -EINVAL,
				   "cron \"%s\": %d fields, expected 5 (minute "
				   "hour day-of-month month day-of-week) or a "
				   "descriptor such as @daily",
				   quote(s, len, q), n);
	for (int i = 0; i < 5; i++) {
		rc = cron_field(&fields[i], field[i], flen[i], &bits[i],
				&star[i], err);
		if (rc)
			return rc;
	}
	c.min = bits[0];
	c.hour = (uint32_t)bits[1];
	c.dom = (uint32_t)bits[2];
	c.mon = (uint16_t)bits[3];
	c.dow = (uint8_t)bits[4];
	c.dom_star = star[2];
	c.dow_star = star[4];
	if (!cron_some_day(&c))
		return ldg_err_set(err, -EINVAL,
				   "cron \"%s\": no month has such a "
				   "day-of-month: it never fires",
				   quote(s, len, q));
	*out = c;
	return 0;
}

/* ---- time zones ---- */

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static bool tz_char(char c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z') ||
	       c == '_' || c == '+' || c == '-';
}

/* ldg_tz_check() with tz_lock held (it reads TZDIR). */
static int tz_check_locked(const char *tz, struct ldg_err *err)
{
	char q[QUOTE_MAX + 4], path[4096], magic[4];
	const char *dir = getenv("TZDIR");
	size_t len = strlen(tz);
	struct stat st;
	ssize_t got;
	int fd;

	if (len == 0)
		return ldg_err_set(err, -EINVAL, "time zone: empty name");
	if (len > LDG_TZ_MAX)
		return ldg_err_set(err, -EINVAL,
				   "time zone \"%s\": longer than %d bytes",
				   quote(tz, len, q), LDG_TZ_MAX);
	for (size_t i = 0; i < len; i++) {
		if (tz[i] == '/' ? i == 0 || tz[i - 1] == '/' || i == len - 1
				 : !tz_char(tz[i]))
			return ldg_err_set(err, -EINVAL,
					   "time zone \"%s\": not an IANA "
					   "name (parts of A-Z a-z 0-9 _ + - "
					   "joined by '/')",
					   quote(tz, len, q));
	}
	if (!strncmp(tz, "right/", 6))
		return ldg_err_set(err, -EINVAL,
				   "time zone \"%s\": right/ zones count leap "
				   "seconds: use %s",
				   tz, tz + 6);
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, tz) >=
	    sizeof(path))
		return ldg_err_set(err, -ENOENT,
				   "unknown time zone \"%s\" (TZDIR too long)",
				   tz);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ldg_err_set(err, -ENOENT,
				   "unknown time zone \"%s\" (not in %s)", tz,
				   dir);
	got = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
		      ? read(fd, magic, sizeof(magic))
		      : -1;
	close(fd);
	if (got != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4))
		return ldg_err_set(err, -ENOENT,
				   "unknown time zone \"%s\" (%s is not a "
				   "time zone file)",
				   tz, path);
	return 0;
}

int ldg_tz_check(const char *tz, struct ldg_err *err)
{
	int rc;

	pthread_mutex_lock(&tz_lock);
	rc = tz_check_locked(tz, err);
	pthread_mutex_unlock(&tz_lock);
	return rc;
}

/* The UTC offset in seconds at instant x in the current TZ. x is within
 * a day of the years 1970..9999, where localtime_r() cannot fail. */
static int64_t offset_at(int64_t x)
{
	time_t tt = (time_t)x;
	struct tm tm;

	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

/* A local time to the first instant showing it (false: it falls in a
 * gap). Local times are "local seconds": the instant the wall clock
 * would show if the zone were UTC. The instant is local - offset, for
 * some offset in force within local -14 h .. +12 h (offsets span
 * -12 h .. +14 h): sample every 3 h (zones never change twice in 3 h),
 * keep the offsets that show local, take the first. */
static bool local_to_instant(int64_t local, int64_t *x)
{
	int64_t offs[11];
	int n = 0;
	bool found = false;

	for (int k = -5; k <= 5; k++) {
		int64_t o = offset_at(local + k * 3 * HOUR);
		int i;

		for (i = 0; i < n && offs[i] != o; i++)
			;
		if (i == n)
			offs[n++] = o;
	}
	for (int i = 0; i < n; i++) {
		int64_t cand = local - offs[i];

		if (offset_at(cand) == offs[i] && (!found || cand < *x)) {
			*x = cand;
			found = true;
		}
	}
	return found;
}

/* A local time to the minute, walked field by field like robfig/cron. */
struct civil {
	int64_t y;
	int mo, d, h, mi;
};

static void civil_of(int64_t local, struct civil *c)
{
	int64_t days = floor_div(local, DAY), rem = local - days * DAY;

	civil_from_days(days, &c->y, &c->mo, &c->d);
	c->h = (int)(rem / HOUR);
	c->mi = (int)(rem % HOUR / MINUTE);
}

static int64_t local_of(const struct civil *c)
{
	return days_from_civil(c->y, c->mo, c->d) * DAY + c->h * HOUR +
	       c->mi * MINUTE;
}

static bool day_matches(const struct ldg_cron *cr, const struct civil *c)
{
	int64_t days = days_from_civil(c->y, c->mo, c->d);
	/* 1970-01-01 was a Thursday (4) */
	int wday = (int)(((days % 7) + 11) % 7);
	bool dom = cr->dom >> c->d & 1, dow = cr->dow >> wday & 1;

	if (cr->dom_star || cr->dow_star)
		return dom && dow;
	return dom || dow;
}

static void next_day(struct civil *c)
{
	c->h = 0;
	c->mi = 0;
	if (++c->d <= days_in_month(c->y, c->mo))
		return;
	c->d = 1;
	if (++c->mo > 12) {
		c->mo = 1;
		c->y++;
	}
}

static void prev_day(struct civil *c)
{
	c->h = 23;
	c->mi = 59;
	if (--c->d >= 1)
		return;
	if (--c->mo < 1) {
		c->mo = 12;
		c->y--;
	}
	c->d = days_in_month(c->y, c->mo);
}

/* Moves c to the first matching minute at or after it; false when that
 * is past the year last_year. */
static bool match_forward(const struct ldg_cron *cr, struct civil *c,
			  int64_t last_year)
{
	for (;;) {
		if (c->y > last_year)
			return false;
		if (!(cr->mon >> c->mo & 1)) {
			c->d = days_in_month(c->y, c->mo);
			next_day(c);
		} else if (!day_matches(cr, c)) {
			next_day(c);
		} else if (!(cr->hour >> c->h & 1)) {
			c->mi = 0;
			if (++c->h > 23)
				next_day(c);
		} else if (!(cr->min >> c->mi & 1)) {
			if (++c->mi > 59) {
				c->mi = 0;
				if (++c->h > 23)
					next_day(c);
			}
		} else {
			return true;
		}
	}
}

/* Moves c to the last matching minute at or before it; false when that
 * is before the local time first. */
static bool match_backward(const struct ldg_cron *cr, struct civil *c,
			   int64_t first)
{
	for (;;) {
		if (local_of(c) < first)
			return false;
		if (!(cr->mon >> c->mo & 1)) {
			c->d = 1;
			prev_day(c);
		} else if (!day_matches(cr, c)) {
			prev_day(c);
		} else if (!(cr->hour >> c->h & 1)) {
			c->mi = 59;
			if (--c->h < 0)
				prev_day(c);
		} else if (!(cr->min >> c->mi & 1)) {
			if (--c->mi < 0) {
				c->mi = 59;
				if (--c->h < 0)
					prev_day(c);
			}
		} else {
			return true;
		}
	}
}

/*
 * The first firing after instant t, within 5 years after t's local year
 * (false: none). local_to_instant() is increasing in the local time
 * (it takes first occurrences), so walking local minutes forward from
 * t's own and skipping gaps and instants <= t (the repeated hour's first
 * pass, when t is in its second) finds it.
 */
static bool next_firing(const struct ldg_cron *cr, int64_t t, int64_t *f)
{
	struct civil c;
	int64_t last_year;

	civil_of(t + offset_at(t), &c);
	last_year = c.y + 5;
	for (;;) {
		if (!match_forward(cr, &c, last_year))
			return false;
		if (local_to_instant(local_of(&c), f) && *f > t)
			return true;
		if (++c.mi > 59) {
			c.mi = 0;
			if (++c.h > 23)
				next_day(&c);
		}
	}
}

/*
 * The last firing f with after < f <= t (false: none). A local time later
 * than t's own may still first occur before t (t in the second pass of a
 * repeated hour), so the walk back starts at t plus the largest offset in
 * force in the day before t; the first firing <= t found is the latest.
 */
static bool last_firing(const struct ldg_cron *cr, int64_t t, int64_t after,
			int64_t *f)
{
	struct civil c;
	int64_t top = offset_at(t);

	for (int k = 1; k <= 10; k++) {
		int64_t o = offset_at(t - k * 3 * HOUR);

		if (o > top)
			top = o;
	}
	civil_of(t + top, &c);
	for (;;) {
		/* a local time before after - 12 h (the lowest offset)
		 * shows an instant before after */
		if (!match_backward(cr, &c, after - 14 * HOUR))
			return false;
		if (local_to_instant(local_of(&c), f) && *f <= t)
			return *f > after;
		if (--c.mi < 0) {
			c.mi = 59;
			if (--c.h < 0)
				prev_day(&c);
		}
	}
}

int ldg_window_at(const struct ldg_cron *c, uint64_t duration, const char *tz,
		  int64_t t, bool *active, int64_t *start, int64_t *end,
		  struct ldg_err *err)
{
	char zone[LDG_TZ_MAX + 2], *saved = NULL;
	const char *old;
	int64_t f;
	int rc;

	if (duration < 1 || duration > LDG_DURATION_MAX)
		return ldg_err_set(err, -EINVAL,
				   "window: duration %" PRIu64
				   " s out of range 1 s - 366 days",
				   duration);
	if (t < 0 || t > UTC_MAX)
		return ldg_err_set(err, -EINVAL,
				   "window: time %" PRId64
				   " out of range 1970-9999",
				   t);
	pthread_mutex_lock(&tz_lock);
	rc = tz_check_locked(tz, err);
	if (rc)
		goto out_unlock;
	old = getenv("TZ");
	if (old) {
		saved = strdup(old);
		if (!saved) {
			rc = ldg_err_set(err, -ENOMEM, "window: out of memory");
			goto out_unlock;
		}
	}
	snprintf(zone, sizeof(zone), ":%s", tz);
	if (setenv("TZ", zone, 1)) {
		rc = ldg_err_set(err, -ENOMEM, "window: out of memory");
		goto out_restore;
	}
	tzset();
	if (last_firing(c, t, t - (int64_t)duration, &f)) {
		*active = true;
	} else {
		*active = false;
		if (!next_firing(c, t, &f))
			f = 0;
	}
	*start = f;
	*end = f ? f + (int64_t)duration : 0;
out_restore:
	if (saved ? setenv("TZ", saved, 1) : unsetenv("TZ"))
		rc = ldg_err_set(err, -ENOMEM,
				 "window: out of memory restoring TZ");
	tzset();
	free(saved);
out_unlock:
	pthread_mutex_unlock(&tz_lock);
	return rc;
}
