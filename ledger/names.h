/*
 * names.h - the spec's naming rules, in one place (SPEC.md section 1).
 *
 *   cluster  [a-z0-9]([-a-z0-9]*[a-z0-9])?  1..63 bytes
 *   release  same rule, 1..53 bytes
 *   target   CLUSTER/RELEASE
 *   key      segments of [A-Za-z0-9_-]+ joined by '.', 1..253 bytes
 *   value    valid UTF-8, 1..4096 bytes, no control characters
 *   reason   like a value (non-empty, no control characters, <= 4096 bytes)
 *   keyname  [A-Za-z0-9._-]+, 1..64 bytes (no '+', no space: signed-note)
 *   origin   printable UTF-8, 1..255 bytes, no control characters
 *   scope    '*' alone, or a glob over targets matched with fnmatch(3)
 *            and FNM_PATHNAME, so '*' inside a segment never crosses '/'
 *
 * All checks return 0 or -EINVAL with a reason in err. Thread-safe.
 */
#ifndef LDG_NAMES_H
#define LDG_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define LDG_CLUSTER_MAX 63
#define LDG_RELEASE_MAX 53
#define LDG_TARGET_MAX (LDG_CLUSTER_MAX + 1 + LDG_RELEASE_MAX)
#define LDG_KEY_MAX 253
#define LDG_VALUE_MAX 4096
#define LDG_KEYNAME_MAX 64
#define LDG_ORIGIN_MAX 255
#define LDG_SCOPE_MAX LDG_TARGET_MAX
/* promotion policies (docs/format.md 8b) */
#define LDG_APPROVALS_MAX 16
#define LDG_DURATION_MIN 60 /* s: soak and recurring freezes */
#define LDG_TZ_MAX 64
#define LDG_CRON_MAX 128

int ldg_check_cluster(const char *s, struct ldg_err *err);
int ldg_check_release(const char *s, struct ldg_err *err);
int ldg_check_target(const char *s, struct ldg_err *err);
int ldg_check_key(const char *s, struct ldg_err *err);
int ldg_check_value(const char *s, size_t len, struct ldg_err *err);
int ldg_check_reason(const char *s, struct ldg_err *err);
/* What a writer accepts in a new value or reason: the format's rule
 * above (which every stored entry meets), and no display control
 * (ldg_text_display_control). Old entries may hold one: readers escape
 * them in text output. */
int ldg_check_new_value(const char *s, size_t len, struct ldg_err *err);
/* The display half of that rule alone, what naming the text (the
 * strings of a typed value's JSON text, value.h, whose length is not a
 * value's). */
int ldg_check_display(const char *what, const char *s, size_t len,
		      struct ldg_err *err);
int ldg_check_new_reason(const char *s, struct ldg_err *err);
int ldg_check_keyname(const char *s, struct ldg_err *err);
int ldg_check_origin(const char *s, struct ldg_err *err);
int ldg_check_scope(const char *s, struct ldg_err *err);
/* The form of a time zone name in a freeze entry: 1..LDG_TZ_MAX bytes of
 * [A-Za-z0-9_+-/], no leading '/', no "..". Whether the zone exists is
 * the tz database's to say (window.h), not the format's. */
bool ldg_tz_name_ok(const char *s);

/* True when text[0..len) is valid UTF-8 without control characters
 * (C0, DEL, C1). */
bool ldg_text_ok(const char *s, size_t len);

/* The length (1..4) of the well-formed UTF-8 character at s, of the len
 * bytes there, with its code point in *cp; 0 when the bytes are not one
 * (a stray continuation byte, an overlong form, a surrogate, beyond
 * U+10FFFF, cut short). Control characters are characters here. */
size_t ldg_utf8_len(const char *s, size_t len, uint32_t *cp);

/* The first character of valid UTF-8 text[0..len) that changes how the
 * text around it is displayed: Unicode's Bidi_Control set (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorders a
 * line, and the line and paragraph separators U+2028, U+2029, which
 * break it. Returns its code point with its offset in *at and its
 * length in bytes in *n, or 0 when there is none. */
uint32_t ldg_text_display_control(const char *s, size_t len, size_t *at,
				  size_t *n);

/* True when the space-separated scope list holds the scope '*' itself
 * (not merely a glob such as '?' that matches the string "*"): the scope
 * key management needs. */
bool ldg_scopes_have_star(const char *scopes);
/* True when the scope list holds item itself, byte for byte (a policy's
 * writer needs '*' or the policy's scope as an item). */
bool ldg_scopes_have(const char *scopes, const char *item);

/* True when target is inside scope (see the rules above). */
bool ldg_scope_match(const char *scope, const char *target);
/* True when target is inside one of the space-separated scopes: what a
 * key's scope list allows. */
bool ldg_scopes_match(const char *scopes, const char *target);

/* Splits "CLUSTER/RELEASE" into its parts; cluster must hold
 * LDG_CLUSTER_MAX + 1 bytes. Returns -EINVAL when not a target. */
int ldg_target_split(const char *target, char *cluster, const char **release);

#endif
