#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "names.h"

/* A message quotes what it was given, a damaged entry's bytes too, and
 * "%.80s" or the buffer's end may cut a character: every byte that does
 * not begin a well-formed UTF-8 character becomes '?', so that a message
 * is always text (JSON cannot carry anything else: `verify --json` once
 * printed nothing for a flipped byte in a key). */
static void err_text(char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;

		n = ldg_utf8_len(s + i, len - i, &cp);
		if (!n) {
			s[i] = '?';
			n = 1;
		}
	}
}

static void err_vset(struct ldg_err *e, int code, const char *fmt, va_list ap)
{
	memset(e, 0, offsetof(struct ldg_err, msg));
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	err_text(e->msg);
}

int ldg_err_set(struct ldg_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int ldg_err_refuse(struct ldg_err *e, int code, enum ldg_why why, uint64_t seq,
		   const char *key, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	e->why = why;
	e->seq = seq;
	if (key)
		snprintf(e->key, sizeof(e->key), "%s", key);
	return code;
}

void ldg_err_prefix(struct ldg_err *e, const char *fmt, ...)
{
	char head[LDG_ERR_MSG_MAX];
	char joined[2 * LDG_ERR_MSG_MAX + 2];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s: %s", head, e->msg);
	memcpy(e->msg, joined, sizeof(e->msg) - 1);
	e->msg[sizeof(e->msg) - 1] = '\0';
	err_text(e->msg);
}

static const char *const why_names[] = {
	[LDG_WHY_NO_LEDGER] = "no-ledger",
	[LDG_WHY_INIT_SIGNER] = "init-signer",
	[LDG_WHY_UNKNOWN_KEY] = "unknown-key",
	[LDG_WHY_REVOKED] = "revoked",
	[LDG_WHY_ROLE] = "role",
	[LDG_WHY_SCOPE] = "scope",
	[LDG_WHY_LOCKED] = "locked",
	[LDG_WHY_KEY_TAKEN] = "key-taken",
	[LDG_WHY_NO_SUCH_KEY] = "no-such-key",
	[LDG_WHY_KEY_REVOKED] = "key-revoked",
	[LDG_WHY_LAST_ADMIN] = "last-admin",
	[LDG_WHY_FROZEN] = "frozen",
	[LDG_WHY_NOT_SOAKED] = "not-soaked",
	[LDG_WHY_NOT_PENDING] = "not-pending",
	[LDG_WHY_SELF_APPROVAL] = "self-approval",
	[LDG_WHY_ALREADY_APPROVED] = "already-approved",
	[LDG_WHY_NOT_AUTHOR] = "not-author",
	[LDG_WHY_NO_WINDOW] = "no-window",
	[LDG_WHY_SKEW] = "skew",
};

#define WHY_COUNT (sizeof(why_names) / sizeof(why_names[0]))

const char *ldg_why_name(enum ldg_why why)
{
	return (size_t)why < WHY_COUNT ? why_names[why] : NULL;
}

enum ldg_why ldg_why_by_name(const char *name)
{
	for (size_t i = 1; name && i < WHY_COUNT; i++)
		if (why_names[i] && !strcmp(why_names[i], name))
			return (enum ldg_why)i;
	return LDG_WHY_NONE;
}
