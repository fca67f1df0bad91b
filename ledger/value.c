#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "value.h"

/* int64's range as doubles: [-2^63, 2^63) */
#define I64_LO (-9223372036854775808.0)
#define I64_HI 9223372036854775808.0

/* Whether d is an integer that int64 holds: such a number is an integer
 * value, never a float (docs/format.md 3.2). */
static bool integral(double d)
{
	return d >= I64_LO && d < I64_HI && (double)(int64_t)d == d;
}

/* The text of a finite double: an integer of int64 range in decimal
 * (3.0 is 3, -0.0 is 0), anything else in the shortest %.Ng that reads
 * back to d. %g of a number that is not such an integer always has a
 * '.' or an 'e': a fraction needs the '.', and a number of 2^63 or more
 * has more digits than 17, so %g writes it with an exponent. */
static void put_number(FILE *f, double d)
{
	char buf[32];

	if (integral(d)) {
		fprintf(f, "%lld", (long long)d);
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	fputs(buf, f);
}

/* An array's string item: the value rules of 3.1 but for the length,
 * which may be 0 (docs/format.md 3.2). */
static int check_item_str(const char *s, size_t len, int code,
			  struct ldg_err *err)
{
	if (len > LDG_VALUE_MAX || !ldg_text_ok(s, len))
		return ldg_err_set(err, code,
				   "an array's string must be at most %d bytes "
				   "of UTF-8 text without control characters",
				   LDG_VALUE_MAX);
	return 0;
}

/* A scalar or string item of j in canonical text; -EINVAL for what is
 * no item (containers are the caller's). */
static int put_scalar(FILE *f, const json_t *j, struct ldg_err *err)
{
	switch (json_typeof(j)) {
	case JSON_NULL:
		fputs("null", f);
		return 0;
	case JSON_TRUE:
		fputs("true", f);
		return 0;
	case JSON_FALSE:
		fputs("false", f);
		return 0;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return 0;
	case JSON_REAL:
		put_number(f, json_real_value(j));
		return 0;
	case JSON_STRING:
		if (check_item_str(json_string_value(j), json_string_length(j),
				   -EINVAL, err))
			return -EINVAL;
		return json_dumpf(j, f, JSON_ENCODE_ANY | JSON_COMPACT)
			       ? -ENOMEM
			       : 0;
	case JSON_ARRAY:
		return ldg_err_set(err, -EINVAL,
				   "arrays inside arrays are not values: "
				   "an array holds scalars and strings only");
	case JSON_OBJECT:
		break;
	}
	return ldg_err_set(err, -EINVAL,
			   "objects are not values: use dotted keys, e.g. "
			   "a.b:=1");
}

/* Parses json and writes its canonical text in *out (malloc'd); the
 * parsed tree in *tree when tree is not NULL (caller json_decref()s). */
static int canon(const char *json, enum ldg_vtype *type, char **out,
		 json_t **tree, struct ldg_err *err)
{
	json_error_t je;
	json_t *j =
		json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	size_t len;
	FILE *f;
	int rc = 0;

	*out = NULL;
	if (!j) {
		if (json_error_code(&je) == json_error_numeric_overflow)
			return ldg_err_set(err, -EINVAL,
					   "number out of range: an integer "
					   "must fit in 64 bits (int64), a "
					   "float in a double");
		if (json_error_code(&je) == json_error_out_of_memory)
			return ldg_err_set(err, -ENOMEM, "out of memory");
		return ldg_err_set(err, -EINVAL, "not JSON: %s", je.text);
	}
	if (json_is_string(j)) {
		*type = LDG_V_STR;
		*out = strndup(json_string_value(j), json_string_length(j));
		rc = *out ? 0 : ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_decref;
	}
	*type = LDG_V_JSON;
	f = open_memstream(out, &len);
	if (!f) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_decref;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *item;

		if (json_array_size(j) > LDG_ARRAY_MAX)
			rc = ldg_err_set(err, -EINVAL,
					 "an array has at most %d items",
					 LDG_ARRAY_MAX);
		fputc('[', f);
		json_array_foreach(j, i, item)
		{
			if (rc)
				break;
			if (i)
				fputc(',', f);
			rc = put_scalar(f, item, err);
		}
		fputc(']', f);
	} else {
		rc = put_scalar(f, j, err);
	}
	if (fclose(f) && !rc)
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
	if (rc == -ENOMEM)
		ldg_err_set(err, -ENOMEM, "out of memory");
	if (rc) {
		free(*out);
		*out = NULL;
	}
out_decref:
	if (!rc && tree)
		*tree = j;
	else
		json_decref(j);
	return rc;
}

int ldg_value_from_json(const char *json, enum ldg_vtype *type, char **out,
			struct ldg_err *err)
{
	return canon(json, type, out, NULL, err);
}

/* The canonical tree of a typed value's text; -EINVAL when the text is
 * not canonical or is a string. */
static int canon_tree(const char *text, json_t **tree, struct ldg_err *err)
{
	enum ldg_vtype type;
	char *c;
	int rc = canon(text, &type, &c, tree, err);

	if (rc)
		return rc;
	if (type != LDG_V_JSON || strcmp(c, text)) {
		json_decref(*tree);
		rc = ldg_err_set(err, -EINVAL,
				 "typed value \"%.80s\" is not in canonical "
				 "form%s%.80s",
				 text, type == LDG_V_JSON ? " " : "",
				 type == LDG_V_JSON ? c : " (a string)");
	}
	free(c);
	return rc;
}

int ldg_value_check_json(const char *text, struct ldg_err *err)
{
	json_t *tree;
	int rc = canon_tree(text, &tree, err);

	if (!rc)
		json_decref(tree);
	return rc;
}

static int pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	return msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, s, len)
		       ? -ENOMEM
		       : 0;
}

static int pack_json(msgpack_packer *pk, const json_t *j)
{
	json_int_t v;
	size_t i;
	json_t *item;

	switch (json_typeof(j)) {
	case JSON_NULL:
		return msgpack_pack_nil(pk) ? -ENOMEM : 0;
	case JSON_TRUE:
		return msgpack_pack_true(pk) ? -ENOMEM : 0;
	case JSON_FALSE:
		return msgpack_pack_false(pk) ? -ENOMEM : 0;
	case JSON_INTEGER:
		/* msgpack-c packs the shortest form, unsigned ones for
		 * v >= 0: the canonical form of section 3.2 */
		v = json_integer_value(j);
		return msgpack_pack_int64(pk, v) ? -ENOMEM : 0;
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j)) ? -ENOMEM
								   : 0;
	case JSON_STRING:
		return pack_str(pk, json_string_value(j),
				json_string_length(j));
	case JSON_ARRAY:
		if (msgpack_pack_array(pk, json_array_size(j)))
			return -ENOMEM;
		json_array_foreach(j, i, item)
		{
			if (pack_json(pk, item))
				return -ENOMEM;
		}
		return 0;
	case JSON_OBJECT:
		break;
	}
	return -EINVAL; /* canon_tree() let no object through */
}

int ldg_value_pack(msgpack_packer *pk, enum ldg_vtype type, const char *text)
{
	json_t *tree;
	int rc;

	if (type == LDG_V_STR)
		return pack_str(pk, text, strlen(text));
	rc = canon_tree(text, &tree, NULL);
	if (rc)
		return rc;
	rc = pack_json(pk, tree);
	json_decref(tree);
	return rc;
}

/* A scalar or a string item o in text; the array is the caller's. */
static int unpack_scalar(FILE *f, const msgpack_object *o, struct ldg_err *err)
{
	json_t *s;
	int rc;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return ldg_err_set(err, -EBADMSG,
					   "typed value: integer above "
					   "int64's range");
		fprintf(f, "%llu", (unsigned long long)o->via.u64);
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%lld", (long long)o->via.i64);
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
		return ldg_err_set(err, -EBADMSG,
				   "typed value: float 32 (only float 64 "
				   "is a value)");
	case MSGPACK_OBJECT_FLOAT64:
		if (!isfinite(o->via.f64))
			return ldg_err_set(err, -EBADMSG,
					   "typed value: float not finite "
					   "(NaN or infinity)");
		if (integral(o->via.f64))
			return ldg_err_set(err, -EBADMSG,
					   "typed value: float 64 holding an "
					   "integer (stored as an integer)");
		put_number(f, o->via.f64);
		return 0;
	case MSGPACK_OBJECT_STR:
		if (check_item_str(o->via.str.ptr, o->via.str.size, -EBADMSG,
				   err))
			return -EBADMSG;
		/* msgpack-c leaves ptr NULL for an empty str */
		s = json_stringn(o->via.str.size ? o->via.str.ptr : "",
				 o->via.str.size);
		if (!s)
			return ldg_err_set(err, -ENOMEM, "out of memory");
		rc = json_dumpf(s, f, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(s);
		return rc ? ldg_err_set(err, -ENOMEM, "out of memory") : 0;
	case MSGPACK_OBJECT_ARRAY:
		return ldg_err_set(err, -EBADMSG,
				   "typed value: array inside an array");
	case MSGPACK_OBJECT_MAP:
		return ldg_err_set(err, -EBADMSG, "typed value: map");
	default:
		break;
	}
	return ldg_err_set(err, -EBADMSG, "a value is bin or ext");
}

int ldg_value_unpack(const msgpack_object *o, enum ldg_vtype *type, char **out,
		     struct ldg_err *err)
{
	size_t len;
	FILE *f;
	int rc = 0;

	*out = NULL;
	if (o->type == MSGPACK_OBJECT_STR) {
		/* msgpack-c leaves ptr NULL for an empty str */
		const char *p = o->via.str.size ? o->via.str.ptr : "";

		if (memchr(p, '\0', o->via.str.size))
			return ldg_err_set(err, -EBADMSG,
					   "a value holds a NUL byte");
		*type = LDG_V_STR;
		*out = strndup(p, o->via.str.size);
		return *out ? 0 : ldg_err_set(err, -ENOMEM, "out of memory");
	}
	*type = LDG_V_JSON;
	f = open_memstream(out, &len);
	if (!f)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		if (o->via.array.size > LDG_ARRAY_MAX)
			rc = ldg_err_set(err, -EBADMSG,
					 "typed value: an array of more than "
					 "%d items",
					 LDG_ARRAY_MAX);
		fputc('[', f);
		for (uint32_t i = 0; !rc && i < o->via.array.size; i++) {
			if (i)
				fputc(',', f);
			rc = unpack_scalar(f, &o->via.array.ptr[i], err);
		}
		fputc(']', f);
	} else {
		rc = unpack_scalar(f, o, err);
	}
	if (fclose(f) && !rc)
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

const char *ldg_value_looks_typed(const char *s)
{
	static const char number[] =
		"^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$";
	regex_t re;
	bool match;

	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return "a boolean";
	if (!strcmp(s, "null"))
		return "null";
	if (regcomp(&re, number, REG_EXTENDED | REG_NOSUB))
		return NULL; /* only when out of memory: no hint */
	match = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return match ? "a number" : NULL;
}
