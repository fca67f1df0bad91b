/*
 * value.h - typed values (docs/format.md section 3.2): the one owner of
 * their canonical forms.
 *
 * A value of a change is a string (LDG_V_STR, as it always was) or a
 * typed value (LDG_V_JSON): null, false, true, an integer in int64
 * range, a finite float 64 that is not an integer in int64 range, or an
 * array of 0..LDG_ARRAY_MAX of those scalars and strings (no nesting, no
 * maps). In memory a typed value is its canonical JSON text: compact;
 * integers in decimal; a float in the shortest %.Ng (N = 1..17) that
 * reads back to the same double; strings escaped by jansson. Two values
 * are equal iff their types and texts are equal. On the wire it is the
 * shortest msgpack form of each item (float 64 for floats).
 *
 * This module turns a user's JSON into the canonical text, that text into
 * msgpack and msgpack back into the text, and says whether a string
 * looks like a typed value (the CLI's hint). It parses and writes JSON
 * with jansson only.
 *
 * Thread-safe; every result string is malloc'd and the caller frees it.
 */
#ifndef LDG_VALUE_H
#define LDG_VALUE_H

#include <msgpack.h>
#include <stdbool.h>

#include "entry.h"
#include "err.h"

#define LDG_ARRAY_MAX 1000 /* items of a typed array */

/* The user's JSON text (what follows KEY:=) as a value: *type and the
 * canonical text in *out. A JSON string is the plain string itself
 * (LDG_V_STR: one encoding of a string; its value rules are checked with
 * the entry). -EINVAL with the reason for anything that is not a value:
 * not JSON, an object ("objects are not values: use dotted keys, e.g.
 * a.b:=1"), a nested array, an integer outside int64, a number that
 * does not fit in a double, an array item string that breaks the rules.
 * -ENOMEM. */
int ldg_value_from_json(const char *json, enum ldg_vtype *type, char **out,
			struct ldg_err *err);

/* 0 when text is the canonical text of a typed value (not a string);
 * -EINVAL with the reason otherwise. */
int ldg_value_check_json(const char *text, struct ldg_err *err);

/* Packs a value of type type: a string as msgpack str, a typed value's
 * canonical text in its msgpack form. -EINVAL when a typed text is not
 * canonical (ldg_value_check_json() would refuse it); -ENOMEM. */
int ldg_value_pack(msgpack_packer *pk, enum ldg_vtype type, const char *text);

/* The value that msgpack object o holds: *type and its text (a string's
 * bytes, or the canonical text) in *out. -EBADMSG with the reason for
 * what no value may be (bin, ext, map, a nested array, a float 32, a
 * non-finite float, a float 64 holding an integer of int64 range, an
 * integer above int64, a string with a NUL, an array of more than
 * LDG_ARRAY_MAX items); -ENOMEM. Whether the bytes were the shortest
 * form is the entry's re-encoding to say (entry.h). */
int ldg_value_unpack(const msgpack_object *o, enum ldg_vtype *type, char **out,
		     struct ldg_err *err);

/* What a string value looks like when it is exactly true, false, null
 * or a JSON number (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?):
 * "a boolean", "null" or "a number"; NULL for anything else (0123,
 * true-blue, " 1"). The CLI's hint: stored as the string "false"; use
 * KEY:=false for a boolean. */
const char *ldg_value_looks_typed(const char *s);

#endif
