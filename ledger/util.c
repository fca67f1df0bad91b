#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

/* libsodium's codecs: constant-time, so a secret or a MAC never leaks
 * through the timing of its hex form. sodium_hex2bin() takes either case
 * (callers that want lowercase only, like a key id, check it first). */
void ldg_hex(const uint8_t *in, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, in, len);
}

int ldg_unhex(const char *in, uint8_t *out, size_t len)
{
	size_t n;

	/* exactly 2*len digits: not shorter, and nothing after them */
	if (strnlen(in, 2 * len + 1) != 2 * len)
		return -EINVAL;
	if (sodium_hex2bin(out, len, in, 2 * len, NULL, &n, NULL) || n != len)
		return -EINVAL;
	return 0;
}

void ldg_put_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t ldg_get_be64(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

bool ldg_test_clock(void)
{
#ifdef LDG_TEST_CLOCK
	return true;
#else
	return false;
#endif
}

uint64_t ldg_now_ns(void)
{
	struct timespec ts;
#ifdef LDG_TEST_CLOCK
	/* a build for tests only (meson -Dtest_clock=true): the clock the
	 * tests of soak and freeze windows set, in unix seconds */
	const char *now = getenv("LEDGER_TEST_NOW");
	uint64_t sec;

	if (now && !ldg_parse_dec(now, 0, UINT64_MAX / 1000000000u, &sec))
		return sec * 1000000000u;
#endif

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ldg_time_iso(uint64_t ns, char *out, size_t outlen)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char date[24];

	gmtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%09uZ", date, (unsigned)(ns % 1000000000u));
}

int ldg_parse_seq(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > INT64_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

int ldg_parse_dec(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int ldg_mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static const char *file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int ldg_read_small(const char *path, const char *what, char *buf, size_t cap,
		   size_t *len, struct stat *st, struct ldg_err *err)
{
	struct stat sb;
	size_t n = 0;
	int fd, fl, rc = 0;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ldg_err_set(err, -errno, "%s: %s", path,
				   strerror(errno));
	if (fstat(fd, &sb)) {
		rc = ldg_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = ldg_err_set(err, -EINVAL, "%s: is %s, not a regular file",
				 path, file_kind(sb.st_mode));
		goto out_close;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		rc = ldg_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	while (n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ldg_err_set(err, -errno, "%s: %s", path,
					 strerror(errno));
			goto out_close;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == cap - 1) {
		rc = ldg_err_set(err, -EFBIG, "%s: too large for %s", path,
				 what);
		goto out_close;
	}
	buf[n] = '\0';
	*len = n;
	if (st)
		*st = sb;
out_close:
	close(fd);
	return rc;
}

/* out = dir/name when that fits and is executable */
static bool helper_at(const char *dir, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n > 0 && (size_t)n < len && access(out, X_OK) == 0;
}

int ldg_helper_path(const char *name, const char *env, char *out, size_t len)
{
	const char *set = getenv(env);
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (set && *set) {
		n = snprintf(out, len, "%s", set);
		return n > 0 && (size_t)n < len && access(out, X_OK) == 0
			       ? 0
			       : -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (helper_at(self, name, out, len))
				return 0;
		}
	}
	return helper_at(LEDGER_LIBEXECDIR, name, out, len) ? 0 : -ENOENT;
}

int ldg_write_atomic(const char *path, const void *buf, size_t len,
		     unsigned mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t off = 0;
	int fd, dfd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!slash)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == path ? 1 : (int)(slash - path), path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, (mode_t)mode))
		rc = -errno;
	while (off < len && !rc) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* the rename itself survives a crash once its directory is synced */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd))
		rc = -errno;
	close(dfd);
	return rc;
}
