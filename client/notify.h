/*
 * notify.h - what `ledger notify` (cli/cmd_notify.c) needs to deliver
 * entries to a webhook at least once and in order: the cursor file (the
 * last acknowledged seq, replaced atomically), one POST of a message
 * (libcurl) signed with HMAC-SHA256 when there is a secret (libsodium),
 * what an answer means (taken, skipped for good, or tried again), and
 * the wait between tries (capped exponential backoff that honours
 * Retry-After). The message itself is render/'s (rnd_notify()).
 *
 * Like the rest of client/, nothing here prints or exits: 0 or a
 * negative errno, the reason in struct ldg_err. Single-threaded; the
 * stop flag may be set by a signal handler.
 */
#ifndef CLT_NOTIFY_H
#define CLT_NOTIFY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* "sha256=" and 64 hex digits: the X-Ledger-Signature header's value. */
#define CLT_SIG_HEADER_MAX (7 + 64 + 1)
/* The wait after the first failure, and the most between two tries, in
 * units (1 s; LEDGER_NOTIFY_BACKOFF_MS in a test build); a Retry-After
 * is honoured up to CLT_RETRY_AFTER_MAX seconds. */
#define CLT_BACKOFF_CAP 60
#define CLT_RETRY_AFTER_MAX 3600

/* The cursor file at path: *seq is the seq it holds, one decimal line
 * ("42\n", 0 allowed: nothing acknowledged). -ENOENT when there is no
 * such file; -EINVAL when it holds anything else (err names the file). */
int clt_cursor_read(const char *path, uint64_t *seq, struct ldg_err *err);

/* Replaces the cursor file at path with seq: written to a temporary
 * file beside it, fsync'd, renamed over path, and the directory
 * fsync'd, so that a crash leaves the old seq or the new one, never a
 * torn file. The directory must exist. */
int clt_cursor_write(const char *path, uint64_t seq, struct ldg_err *err);

/* The default cursor path into out: $XDG_STATE_HOME/ledger/notify-HASH
 * ($HOME/.local/state without XDG_STATE_HOME), HASH 16 hex digits of
 * SHA-256 of origin, a newline and webhook: one cursor per ledger and
 * webhook. -ENOENT when neither variable is set. */
int clt_cursor_default(const char *origin, const char *webhook, char *out,
		       size_t len, struct ldg_err *err);

/* out = "sha256=" and the hex HMAC-SHA256 of body under the secret
 * (any length). */
void clt_notify_sign(const uint8_t *secret, size_t secret_len, const char *body,
		     size_t len, char out[CLT_SIG_HEADER_MAX]);

/* What a webhook answered. */
struct clt_hook_answer {
	long status;	  /* the HTTP status */
	long retry_after; /* its Retry-After in seconds, -1 when none */
	char text[128];	  /* the start of its body, for a log line */
};

/* Checks that url is an http:// or https:// URL as libcurl parses it,
 * and writes what log lines may show of it into out: the scheme, host
 * and port ("https://hooks.slack.com"), never the path or query, which
 * for Slack and others is the webhook's secret. -EINVAL when it is not
 * such a URL. */
int clt_hook_name(const char *url, char *out, size_t len);

/* POSTs body (JSON, len bytes) to url with X-Ledger-Seq: seq and, when
 * secret is not NULL, X-Ledger-Signature (clt_notify_sign()). Gives up
 * after timeout_s seconds, or when *stop is set. 0 with the answer in
 * *out whatever its status; -EIO when there is none (cannot connect,
 * timed out, stopped; err says which). */
int clt_notify_post(const char *url, const char *body, size_t len, uint64_t seq,
		    const uint8_t *secret, size_t secret_len, long timeout_s,
		    volatile sig_atomic_t *stop, struct clt_hook_answer *out,
		    struct ldg_err *err);

/* What an answer means for the entry it was for. */
enum clt_hook_verdict {
	CLT_HOOK_TAKEN, /* 2xx: acknowledged, move on */
	CLT_HOOK_SKIP,	/* a 4xx but 429: it will never be taken; move on */
	CLT_HOOK_RETRY, /* 429, 5xx, 3xx (not followed), anything else:
			   try again after clt_backoff_ms() */
};
enum clt_hook_verdict clt_hook_judge(long status);

/* The unit of the waits in milliseconds: 1000, or in a build configured
 * with -Dtest_clock=true (for the test suite only) the value of
 * $LEDGER_NOTIFY_BACKOFF_MS when that is set (1 to 60000). */
unsigned clt_backoff_unit_ms(void);

/* How long to wait, in milliseconds, before the next try after the
 * failures-th failure in a row (1 for the first): retry_after units
 * when the answer carried Retry-After (>= 0; at most
 * CLT_RETRY_AFTER_MAX), else 1, 2, 4, ... units up to CLT_BACKOFF_CAP. */
uint64_t clt_backoff_ms(unsigned failures, long retry_after, unsigned unit_ms);

#endif
