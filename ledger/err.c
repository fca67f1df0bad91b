#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static void err_vset(struct ldg_err *e, int code, const char *fmt, va_list ap)
{
	memset(e, 0, offsetof(struct ldg_err, msg));
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
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
}
