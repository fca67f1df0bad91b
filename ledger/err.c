#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int ldg_err_set(struct ldg_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
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
