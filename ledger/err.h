/*
 * err.h - a detailed, user-facing reason that travels beside an errno.
 *
 * Library functions return 0 or a negative errno; when they fail they may
 * also fill a struct ldg_err with one line saying what failed and why.
 * Only cli/ prints it. Every function taking a struct ldg_err * accepts NULL.
 *
 * Codes used across the library:
 *   -EINVAL   bad input (names, values, flags)
 *   -ENOENT   missing ledger, entry, key or target
 *   -EEXIST   already exists (ledger, key name)
 *   -EACCES   signer not authorised for this entry
 *   -EBUSY    target locked
 *   -EBADMSG  bad signature, bad encoding, broken chain
 *   -EIO      storage failure
 *
 * Plain data: a struct ldg_err belongs to whoever passed it in; the
 * functions below are thread-safe.
 */
#ifndef LDG_ERR_H
#define LDG_ERR_H

#define LDG_ERR_MSG_MAX 512

struct ldg_err {
	int code;
	char msg[LDG_ERR_MSG_MAX];
};

/* Fills e (when not NULL) and returns code, so callers can
 * "return ldg_err_set(e, -EINVAL, ...);". */
int ldg_err_set(struct ldg_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes e->msg with "what: " (e.g. a file name), keeping the code. */
void ldg_err_prefix(struct ldg_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
