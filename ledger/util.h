/*
 * util.h - small helpers shared by the library: hex, big-endian integers,
 * time. Pure functions, thread-safe.
 */
#ifndef LDG_UTIL_H
#define LDG_UTIL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"

/* Writes 2*len lowercase hex digits and a NUL into out (2*len + 1
 * bytes). Both directions are libsodium's, constant-time. */
void ldg_hex(const uint8_t *in, size_t len, char *out);

/* Parses exactly 2*len hex digits (either case) and nothing after them;
 * returns 0 or -EINVAL (out is then undefined). */
int ldg_unhex(const char *in, uint8_t *out, size_t len);

void ldg_put_be64(uint8_t out[8], uint64_t v);
uint64_t ldg_get_be64(const uint8_t in[8]);

/* Current UTC time in unix nanoseconds. A build configured with
 * -Dtest_clock=true (for the test suite only) returns $LEDGER_TEST_NOW
 * (unix seconds) instead when it is set; ldg_test_clock() says whether
 * this build does. Release builds ignore the variable. */
uint64_t ldg_now_ns(void);
bool ldg_test_clock(void);

/* "2026-11-26T10:49:29.123456789Z" into out (at least 32 bytes). */
void ldg_time_iso(uint64_t ns, char *out, size_t outlen);

/* mkdir -p with mode for every directory it creates; 0 or -errno. */
int ldg_mkdir_p(const char *path, unsigned mode);

/* The path of the helper program name (ledger-http, ledger-settle) into
 * out: $env when that is set (it must be executable); else name beside
 * the running executable (the build tree, or a prefix where both are in
 * bin/); else LEDGER_LIBEXECDIR/name (where `ninja install` puts the
 * helpers). 0, or -ENOENT when none is executable. */
int ldg_helper_path(const char *name, const char *env, char *out, size_t len);

/* Parses a decimal sequence number 1..2^63 - 1 (INT64_MAX); returns 0
 * or -EINVAL. */
int ldg_parse_seq(const char *s, uint64_t *out);
/* Strict decimal in [min, max]: digits only, no leading zero (so one
 * text per number), no sign. -EINVAL otherwise. */
int ldg_parse_dec(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Reads the small regular file at path whole into buf (NUL-terminated;
 * its length in *len, its stat in *st when st is not NULL). Anything but
 * a regular file (a FIFO, a device, a directory, a socket) is refused
 * with -EINVAL before a read could block: the file is opened with
 * O_NONBLOCK and checked with fstat first. A file of cap - 1 bytes or
 * more is -EFBIG ("too large for what", what names the expected file).
 * Every message starts with path. */
int ldg_read_small(const char *path, const char *what, char *buf, size_t cap,
		   size_t *len, struct stat *st, struct ldg_err *err);

/* Replaces the file at path with len bytes of buf, of mode mode: written
 * to a new temporary file beside it (path.XXXXXX), fsync'd, renamed over
 * path, then the directory fsync'd. A reader, or a crash at any point,
 * finds the old file or the new one, never a torn one; two writers of
 * one path never share a temporary file. 0 or -errno (the temporary
 * file removed). */
int ldg_write_atomic(const char *path, const void *buf, size_t len,
		     unsigned mode);

#endif
