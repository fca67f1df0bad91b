#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "names.h"

static bool dns_label(const char *s, size_t len, size_t max)
{
	if (len < 1 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && i > 0 && i < len - 1))
			return false;
	}
	return true;
}

int ldg_check_cluster(const char *s, struct ldg_err *err)
{
	if (!dns_label(s, strlen(s), LDG_CLUSTER_MAX))
		return ldg_err_set(err, -EINVAL,
				   "invalid cluster name \"%.80s\": use 1-63 of "
				   "a-z, 0-9 and inner '-'",
				   s);
	return 0;
}

int ldg_check_release(const char *s, struct ldg_err *err)
{
	if (!dns_label(s, strlen(s), LDG_RELEASE_MAX))
		return ldg_err_set(err, -EINVAL,
				   "invalid release name \"%.80s\": use 1-53 of "
				   "a-z, 0-9 and inner '-'",
				   s);
	return 0;
}

int ldg_target_split(const char *target, char *cluster, const char **release)
{
	const char *slash = strchr(target, '/');
	size_t clen;

	if (!slash)
		return -EINVAL;
	clen = (size_t)(slash - target);
	if (clen > LDG_CLUSTER_MAX)
		return -EINVAL;
	memcpy(cluster, target, clen);
	cluster[clen] = '\0';
	*release = slash + 1;
	return 0;
}

int ldg_check_target(const char *s, struct ldg_err *err)
{
	const char *slash = strchr(s, '/');
	size_t clen;

	if (!slash || strchr(slash + 1, '/'))
		return ldg_err_set(err, -EINVAL,
				   "invalid target \"%.80s\": expected "
				   "CLUSTER/RELEASE",
				   s);
	clen = (size_t)(slash - s);
	if (!dns_label(s, clen, LDG_CLUSTER_MAX))
		return ldg_err_set(err, -EINVAL,
				   "invalid target \"%.80s\": bad cluster name "
				   "(1-63 of a-z, 0-9 and inner '-')",
				   s);
	if (!dns_label(slash + 1, strlen(slash + 1), LDG_RELEASE_MAX))
		return ldg_err_set(err, -EINVAL,
				   "invalid target \"%.80s\": bad release name "
				   "(1-53 of a-z, 0-9 and inner '-')",
				   s);
	return 0;
}

int ldg_check_key(const char *s, struct ldg_err *err)
{
	size_t len = strlen(s);
	size_t seg = 0;

	if (len < 1 || len > LDG_KEY_MAX)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (seg == 0)
				goto bad;
			seg = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			goto bad;
		seg++;
	}
	if (seg == 0)
		goto bad;
	return 0;
bad:
	return ldg_err_set(err, -EINVAL,
			   "invalid key \"%.80s\": use dot-separated segments "
			   "of A-Z, a-z, 0-9, '_' and '-' (at most 253 bytes)",
			   s);
}

size_t ldg_utf8_len(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c;
	size_t n;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		*cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	if (n >= len)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[k] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 2 && *cp < 0x800) || (n == 3 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return n + 1;
}

bool ldg_text_ok(const char *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;

		n = ldg_utf8_len(s + i, len - i, &cp);
		/* C0, DEL and C1 controls */
		if (!n || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return false;
	}
	return true;
}

int ldg_check_value(const char *s, size_t len, struct ldg_err *err)
{
	if (len < 1 || len > LDG_VALUE_MAX)
		return ldg_err_set(err, -EINVAL,
				   "invalid value: must be 1-4096 bytes "
				   "(got %zu)",
				   len);
	if (memchr(s, '\0', len) || !ldg_text_ok(s, len))
		return ldg_err_set(err, -EINVAL,
				   "invalid value: must be UTF-8 text without "
				   "control characters");
	return 0;
}

uint32_t ldg_text_display_control(const char *s, size_t len, size_t *at,
				  size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		uint32_t cp;
		/* all of them are 2- or 3-byte sequences: d8 9c, e2 80 xx,
		 * e2 81 xx */
		if (p[i] == 0xd8 && i + 1 < len && p[i + 1] == 0x9c) {
			cp = 0x061c;
			*n = 2;
		} else if (p[i] == 0xe2 && i + 2 < len &&
			   (p[i + 1] == 0x80 || p[i + 1] == 0x81)) {
			cp = 0x2000 | (uint32_t)(p[i + 1] & 0x3f) << 6 |
			     (p[i + 2] & 0x3f);
			*n = 3;
			if (!(cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
			      cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
			      (cp >= 0x2066 && cp <= 0x2069)))
				continue;
		} else {
			continue;
		}
		*at = i;
		return cp;
	}
	return 0;
}

/* The writers' rule on top of the format's (format.md section 14). */
int ldg_check_display(const char *what, const char *s, size_t len,
		      struct ldg_err *err)
{
	size_t at, n;
	uint32_t cp = ldg_text_display_control(s, len, &at, &n);

	if (cp)
		return ldg_err_set(err, -EINVAL,
				   "invalid %s: U+%04X at byte %zu is a %s "
				   "control, which makes text display other "
				   "than it is; leave it out",
				   what, (unsigned)cp, at,
				   cp == 0x2028 || cp == 0x2029 ? "line-break"
								: "bidi");
	return 0;
}

int ldg_check_new_value(const char *s, size_t len, struct ldg_err *err)
{
	if (ldg_check_value(s, len, err))
		return -EINVAL;
	return ldg_check_display("value", s, len, err);
}

int ldg_check_new_reason(const char *s, struct ldg_err *err)
{
	if (ldg_check_reason(s, err))
		return -EINVAL;
	return ldg_check_display("reason", s, strlen(s), err);
}

int ldg_check_reason(const char *s, struct ldg_err *err)
{
	size_t len = strlen(s);

	if (len == 0)
		return ldg_err_set(err, -EINVAL,
				   "a reason is required: pass -m REASON");
	if (len > LDG_VALUE_MAX || !ldg_text_ok(s, len))
		return ldg_err_set(err, -EINVAL,
				   "invalid reason: must be at most 4096 bytes "
				   "of UTF-8 text without control characters");
	return 0;
}

int ldg_check_keyname(const char *s, struct ldg_err *err)
{
	size_t len = strlen(s);

	if (len < 1 || len > LDG_KEYNAME_MAX)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			goto bad;
	}
	return 0;
bad:
	return ldg_err_set(err, -EINVAL,
			   "invalid key name \"%.80s\": use 1-64 of A-Z, a-z, "
			   "0-9, '.', '_' and '-'",
			   s);
}

int ldg_check_origin(const char *s, struct ldg_err *err)
{
	size_t len = strlen(s);

	if (len < 1 || len > LDG_ORIGIN_MAX || !ldg_text_ok(s, len) ||
	    s[0] == ' ' || s[len - 1] == ' ')
		return ldg_err_set(err, -EINVAL,
				   "invalid origin \"%.80s\": use 1-255 bytes "
				   "of printable text, e.g. "
				   "example.com/deploy/prod",
				   s);
	return 0;
}

int ldg_check_scope(const char *s, struct ldg_err *err)
{
	size_t len = strlen(s);

	if (len < 1 || len > LDG_TARGET_MAX)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '/' || c == '*' || c == '?' ||
		      c == '[' || c == ']' || c == '!'))
			goto bad;
	}
	return 0;
bad:
	return ldg_err_set(err, -EINVAL,
			   "invalid scope \"%.80s\": a glob over targets such "
			   "as '*', 'staging/*' or '*/api'",
			   s);
}

bool ldg_tz_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > LDG_TZ_MAX || s[0] == '/' || strstr(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_+-/", s[i]))
			return false;
	return true;
}

bool ldg_scopes_have(const char *scopes, const char *item)
{
	size_t len = strlen(item);

	for (const char *p = scopes; *p;) {
		size_t n = strcspn(p, " ");
		if (n == len && !memcmp(p, item, len))
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

bool ldg_scopes_have_star(const char *scopes)
{
	return ldg_scopes_have(scopes, "*");
}

bool ldg_scope_match(const char *scope, const char *target)
{
	if (strcmp(scope, "*") == 0)
		return true;
	return fnmatch(scope, target, FNM_PATHNAME) == 0;
}

bool ldg_scopes_match(const char *scopes, const char *target)
{
	char one[LDG_SCOPE_MAX + 1];

	for (const char *p = scopes; *p;) {
		size_t n = strcspn(p, " ");
		if (n && n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (ldg_scope_match(one, target))
				return true;
		}
		p += n;
		p += strspn(p, " ");
	}
	return false;
}
