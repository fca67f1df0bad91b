/*
 * Unit tests for ledger/entry.c: the canonical codec, the field and kind
 * rules, the signed message and the entry hash.
 *
 * Malformed inputs are built field by field with testlib's own msgpack
 * emitter, so each test changes exactly one thing against a canonical
 * entry. Where it matters the malformed entry is re-signed over its own
 * bytes (fields_seal): the decoder must refuse it although its signature
 * is good.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "entry.h"
#include "keys.h"
#include "testlib.h"
#include "tlog.h"

#define ORIGIN "example.com/test"
#define TIME_NS 1767225600123456789ull

static struct ldg_signer *alice, *bob;

static int group_setup(void **state)
{
	if (ldg_crypto_init())
		return -1;
	if (ldg_signer_generate("alice", &alice, NULL) ||
	    ldg_signer_generate("bob", &bob, NULL))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	ldg_signer_free(alice);
	ldg_signer_free(bob);
	return 0;
}

static void fill_prev(struct ldg_entry *e)
{
	for (int i = 0; i < LDG_HASH_BYTES; i++)
		e->prev[i] = (uint8_t)(0xa0 + i);
}

/* A valid, unsigned entry of the given kind. */
static struct ldg_entry *make(enum ldg_kind kind)
{
	char vk[LDG_VKEY_TEXT_MAX];
	struct ldg_entry *e;

	switch (kind) {
	case LDG_KIND_INIT:
		e = ldg_entry_new(kind, "", "initialise the ledger");
		assert_non_null(e);
		ldg_vkey_format(ldg_signer_vkey(alice), vk);
		assert_int_equal(ldg_entry_add_change(e, "vkey", vk), 0);
		assert_int_equal(ldg_entry_add_change(e, "origin", ORIGIN), 0);
		assert_int_equal(ldg_entry_add_change(e, "scopes", "*"), 0);
		assert_int_equal(ldg_entry_add_change(e, "role", "admin"), 0);
		e->seq = 1;
		break;
	case LDG_KIND_KEY_ADD:
		e = ldg_entry_new(kind, "", "add bob");
		assert_non_null(e);
		ldg_vkey_format(ldg_signer_vkey(bob), vk);
		assert_int_equal(ldg_entry_add_change(e, "role", "deployer"),
				 0);
		assert_int_equal(ldg_entry_add_change(e, "scopes",
						      "staging/* */api"),
				 0);
		assert_int_equal(ldg_entry_add_change(e, "vkey", vk), 0);
		e->seq = 2;
		break;
	case LDG_KIND_KEY_REVOKE:
		e = ldg_entry_new(kind, "", "bob left");
		assert_non_null(e);
		assert_int_equal(ldg_entry_add_change(e, "name", "bob"), 0);
		e->seq = 9;
		break;
	case LDG_KIND_SET:
		e = ldg_entry_new(kind, "staging/api", "bump api");
		assert_non_null(e);
		assert_int_equal(ldg_entry_add_change(e, "replicas", "3"), 0);
		assert_int_equal(ldg_entry_add_change(e, "image.tag", "1.2.3"),
				 0);
		assert_int_equal(ldg_entry_add_meta(e, "ci.run", "42"), 0);
		assert_int_equal(ldg_entry_add_meta(e, "git.sha", "abc123"), 0);
		e->seq = 3;
		break;
	case LDG_KIND_UNSET:
		e = ldg_entry_new(kind, "staging/api", "drop replicas");
		assert_non_null(e);
		assert_int_equal(ldg_entry_add_change(e, "replicas", NULL), 0);
		e->seq = 4;
		break;
	case LDG_KIND_ROLLBACK:
		e = ldg_entry_new(kind, "staging/api", "bad release");
		assert_non_null(e);
		assert_int_equal(ldg_entry_add_change(e, "image.tag", "1.2.2"),
				 0);
		assert_int_equal(ldg_entry_add_change(e, "replicas", NULL), 0);
		assert_int_equal(ldg_entry_add_meta(e, "rollback-to", "2"), 0);
		e->seq = 5;
		break;
	case LDG_KIND_LOCK:
	case LDG_KIND_UNLOCK:
		e = ldg_entry_new(kind, "staging/api", "hold");
		assert_non_null(e);
		e->seq = 6;
		break;
	case LDG_KIND_APPLIED:
		e = ldg_entry_new(kind, "staging", "applied by ci");
		assert_non_null(e);
		assert_int_equal(ldg_entry_add_change(e, "image.tag", "1.2.3"),
				 0);
		assert_int_equal(ldg_entry_add_meta(e, "exit", "0"), 0);
		e->seq = 7;
		break;
	case LDG_KIND_APPLY_FAILED:
	default:
		e = ldg_entry_new(LDG_KIND_APPLY_FAILED, "staging/api",
				  "helmfile failed");
		assert_non_null(e);
		assert_int_equal(ldg_entry_add_change(e, "image.tag", "1.2.3"),
				 0);
		assert_int_equal(ldg_entry_add_meta(e, "exit", "1"), 0);
		e->seq = 8;
		break;
	}
	if (e->seq > 1)
		fill_prev(e);
	e->time_ns = TIME_NS;
	return e;
}

/* Signs e with k for ORIGIN; returns the stored bytes. */
static uint8_t *sign(struct ldg_entry *e, const struct ldg_signer *k,
		     size_t *len)
{
	struct ldg_err err = { 0 };
	uint8_t *buf = NULL;

	assert_int_equal(ldg_entry_sign(e, ORIGIN, k, &buf, len, &err), 0);
	assert_non_null(buf);
	return buf;
}

/* The canonical signed fields of a set entry, for mutation. */
static void set_fields(struct fields *fs)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	size_t len;
	uint8_t *buf = sign(e, alice, &len);

	fields_from_entry(e, fs);
	free(buf);
	ldg_entry_free(e);
}

static int decode_bytes(const uint8_t *p, size_t n, struct ldg_err *err)
{
	struct ldg_entry *e = NULL;
	int rc = ldg_entry_decode(p, n, &e, err);

	if (rc == 0)
		ldg_entry_free(e);
	else
		assert_null(e);
	return rc;
}

/* Joins fs under a header of n fields and asserts the decoder says no. */
static void expect_rejected(const struct fields *fs, size_t n)
{
	struct ldg_err err = { 0 };
	struct mp out;

	mp_init(&out);
	fields_join(fs, n, &out);
	assert_int_equal(decode_bytes(out.p, out.n, &err), -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	assert_true(strlen(err.msg) > 0);
	mp_free(&out);
}

/* Re-signs fs over its own (non-canonical) bytes, checks the signature
 * is good, and asserts the decoder still refuses the entry. */
static void expect_rejected_though_signed(struct fields *fs)
{
	struct ldg_err err = { 0 };
	struct mp out;

	mp_init(&out);
	fields_seal(fs, ORIGIN, alice, &out);
	assert_int_equal(ldg_entry_verify_sig(out.p, out.n, ORIGIN,
					      ldg_signer_vkey(alice)->pk),
			 0);
	assert_int_equal(decode_bytes(out.p, out.n, &err), -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	mp_free(&out);
}

/* Encodes an (invalid) entry with the library's own canonical encoder
 * and asserts the decoder refuses it on the field rules. */
static void expect_rules_reject(struct ldg_entry *e)
{
	struct ldg_err err = { 0 };
	uint8_t *buf = NULL;
	size_t len;

	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_int_equal(ldg_entry_encode(e, true, &buf, &len), 0);
	assert_int_equal(decode_bytes(buf, len, &err), -EBADMSG);
	free(buf);
	/* and the signer refuses to sign it in the first place */
	buf = NULL;
	assert_int_equal(ldg_entry_sign(e, ORIGIN, alice, &buf, &len, &err),
			 -EINVAL);
	assert_null(buf);
	ldg_entry_free(e);
}

static void replace_change_value(struct ldg_entry *e, size_t i,
				 const char *value)
{
	free(e->changes[i].value);
	e->changes[i].value = value ? strdup(value) : NULL;
}

/* ---- kinds ---- */

static void test_kind_names_round_trip(void **state)
{
	static const char *const names[LDG_KIND_COUNT] = {
		"init",	    "set",	    "unset",	"rollback",
		"lock",	    "unlock",	    "key-add",	"key-revoke",
		"applied",  "apply-failed", "policy",	"freeze",
		"unfreeze", "approve",	    "withdraw", "drift",
	};
	for (int k = 0; k < LDG_KIND_COUNT; k++) {
		enum ldg_kind got;
		assert_string_equal(ldg_kind_name((enum ldg_kind)k), names[k]);
		assert_int_equal(ldg_kind_parse(names[k], &got), 0);
		assert_int_equal(got, k);
	}
	{
		enum ldg_kind got;
		assert_int_equal(ldg_kind_parse("deploy", &got), -EINVAL);
		assert_int_equal(ldg_kind_parse("SET", &got), -EINVAL);
		assert_int_equal(ldg_kind_parse("", &got), -EINVAL);
	}
	assert_string_equal(ldg_kind_name(LDG_KIND_COUNT), "?");
}

static void test_only_set_unset_rollback_change_values(void **state)
{
	for (int k = 0; k < LDG_KIND_COUNT; k++)
		assert_int_equal(ldg_kind_changes_values((enum ldg_kind)k),
				 k == LDG_KIND_SET || k == LDG_KIND_UNSET ||
					 k == LDG_KIND_ROLLBACK);
}

/* ---- building ---- */

static void test_add_change_keeps_list_sorted_and_unique(void **state)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, "a/b", "r");

	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, "b", "2"), 0);
	assert_int_equal(ldg_entry_add_change(e, "a.z", "1"), 0);
	assert_int_equal(ldg_entry_add_change(e, "c", NULL), 0);
	assert_int_equal(ldg_entry_add_change(e, "a", "0"), 0);
	assert_int_equal(ldg_entry_add_change(e, "b", "again"), -EEXIST);
	assert_int_equal(e->n_changes, 4);
	assert_string_equal(e->changes[0].key, "a");
	assert_string_equal(e->changes[1].key, "a.z");
	assert_string_equal(e->changes[2].key, "b");
	assert_string_equal(e->changes[3].key, "c");
	assert_string_equal(e->changes[2].value, "2");
	assert_null(e->changes[3].value);
	assert_non_null(ldg_kv_find(e->changes, e->n_changes, "a.z"));
	assert_null(ldg_kv_find(e->changes, e->n_changes, "a.y"));
	ldg_entry_free(e);
}

static void test_add_change_sorts_bytewise(void **state)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, "a/b", "r");

	/* bytewise: '-' (0x2d) < '.' (0x2e) < '0' < 'A' < '_' < 'a' */
	assert_int_equal(ldg_entry_add_change(e, "a", "1"), 0);
	assert_int_equal(ldg_entry_add_change(e, "_", "1"), 0);
	assert_int_equal(ldg_entry_add_change(e, "A", "1"), 0);
	assert_int_equal(ldg_entry_add_change(e, "0", "1"), 0);
	assert_int_equal(ldg_entry_add_change(e, ".x", "1"), 0);
	assert_int_equal(ldg_entry_add_change(e, "-", "1"), 0);
	assert_string_equal(e->changes[0].key, "-");
	assert_string_equal(e->changes[1].key, ".x");
	assert_string_equal(e->changes[2].key, "0");
	assert_string_equal(e->changes[3].key, "A");
	assert_string_equal(e->changes[4].key, "_");
	assert_string_equal(e->changes[5].key, "a");
	ldg_entry_free(e);
}

static void test_add_change_stops_at_the_limit(void **state)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, "a/b", "r");
	char key[16];

	for (int i = 0; i < LDG_CHANGES_MAX; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		assert_int_equal(ldg_entry_add_change(e, key, "v"), 0);
	}
	assert_int_equal(ldg_entry_add_change(e, "zzz", "v"), -EINVAL);
	assert_int_equal(e->n_changes, LDG_CHANGES_MAX);
	ldg_entry_free(e);
}

/* ---- round trips ---- */

static void test_round_trip_every_kind(void **state)
{
	/* the kinds of version 1 (policies' kinds are version 2 only:
	 * test_gov.c) */
	for (int k = 0; k <= LDG_KIND_APPLY_FAILED; k++) {
		struct ldg_entry *e = make((enum ldg_kind)k), *d = NULL;
		struct ldg_err err = { 0 };
		struct fields fs;
		struct mp again;
		uint8_t *buf, *re = NULL;
		size_t len, relen;

		buf = sign(e, alice, &len);
		assert_memory_equal(e->signer, ldg_signer_vkey(alice)->keyid,
				    LDG_KEYID_BYTES);
		assert_int_equal(ldg_entry_decode(buf, len, &d, &err), 0);
		assert_non_null(d);
		assert_int_equal(d->version, 1);
		assert_int_equal(d->seq, e->seq);
		assert_memory_equal(d->prev, e->prev, LDG_HASH_BYTES);
		assert_int_equal(d->time_ns, TIME_NS);
		assert_memory_equal(d->signer, e->signer, LDG_KEYID_BYTES);
		assert_int_equal(d->kind, k);
		assert_string_equal(d->target, e->target);
		assert_string_equal(d->reason, e->reason);
		assert_int_equal(d->n_changes, e->n_changes);
		for (size_t i = 0; i < e->n_changes; i++) {
			assert_string_equal(d->changes[i].key,
					    e->changes[i].key);
			if (e->changes[i].value)
				assert_string_equal(d->changes[i].value,
						    e->changes[i].value);
			else
				assert_null(d->changes[i].value);
		}
		assert_int_equal(d->n_meta, e->n_meta);
		for (size_t i = 0; i < e->n_meta; i++) {
			assert_string_equal(d->meta[i].key, e->meta[i].key);
			assert_string_equal(d->meta[i].value, e->meta[i].value);
		}
		assert_memory_equal(d->sig, e->sig, LDG_SIG_BYTES);

		/* the decoded entry encodes to the very same bytes */
		assert_int_equal(ldg_entry_encode(d, true, &re, &relen), 0);
		assert_int_equal(relen, len);
		assert_memory_equal(re, buf, len);

		/* and an encoder written from the spec agrees byte for byte */
		fields_from_entry(e, &fs);
		mp_init(&again);
		fields_join(&fs, LDG_FIELDS, &again);
		assert_int_equal(again.n, len);
		assert_memory_equal(again.p, buf, len);

		assert_int_equal(ldg_entry_verify_sig(buf, len, ORIGIN,
						      ldg_signer_vkey(alice)
							      ->pk),
				 0);
		mp_free(&again);
		fields_free(&fs);
		free(re);
		free(buf);
		ldg_entry_free(d);
		ldg_entry_free(e);
	}
}

static void test_encode_without_signature_is_the_body(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t *full, *body = NULL;
	size_t flen, blen;

	full = sign(e, alice, &flen);
	assert_int_equal(ldg_entry_encode(e, false, &body, &blen), 0);
	/* fixarray(10) + the same field bytes, minus bin8(64) + 64 bytes */
	assert_int_equal(full[0], 0x9b);
	assert_int_equal(body[0], 0x9a);
	assert_int_equal(blen, flen - 66);
	assert_memory_equal(body + 1, full + 1, blen - 1);
	assert_int_equal(full[flen - 66], 0xc4);
	assert_int_equal(full[flen - 65], 0x40);
	assert_memory_equal(full + flen - 64, e->sig, 64);
	free(body);
	free(full);
	ldg_entry_free(e);
}

static void test_encode_uses_shortest_forms(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t *buf;
	size_t len;

	e->seq = 127;
	buf = sign(e, alice, &len);
	assert_int_equal(buf[1], 0x01); /* version: positive fixint */
	assert_int_equal(buf[2], 0x7f); /* seq 127: still a fixint */
	free(buf);
	e->seq = 128;
	buf = sign(e, alice, &len);
	assert_int_equal(buf[2], 0xcc); /* seq 128: uint8 */
	assert_int_equal(buf[3], 0x80);
	free(buf);
	e->seq = 65536;
	buf = sign(e, alice, &len);
	assert_int_equal(buf[2], 0xce); /* uint32 */
	free(buf);
	ldg_entry_free(e);
}

static void test_strings_of_32_bytes_and_more_use_str8(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET), *d = NULL;
	char reason31[32], reason32[33];
	uint8_t *buf;
	size_t len;

	memset(reason31, 'r', 31);
	reason31[31] = '\0';
	memset(reason32, 'r', 32);
	reason32[32] = '\0';
	free(e->reason);
	e->reason = strdup(reason31);
	buf = sign(e, alice, &len);
	assert_non_null(memmem(buf, len,
			       "\xbf"
			       "rrrr",
			       5)); /* fixstr 31 */
	free(buf);
	free(e->reason);
	e->reason = strdup(reason32);
	buf = sign(e, alice, &len);
	assert_non_null(memmem(buf, len, "\xd9\x20rrrr", 6)); /* str8 32 */
	assert_int_equal(ldg_entry_decode(buf, len, &d, NULL), 0);
	ldg_entry_free(d);
	free(buf);
	ldg_entry_free(e);
}

/* ---- the strict decoder ---- */

static void test_decode_accepts_the_canonical_fields(void **state)
{
	struct fields fs;
	struct mp out;

	set_fields(&fs);
	mp_init(&out);
	fields_join(&fs, LDG_FIELDS, &out);
	assert_int_equal(decode_bytes(out.p, out.n, NULL), 0);
	mp_free(&out);
	fields_free(&fs);
}

static void test_decode_rejects_trailing_byte(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	struct ldg_err err = { 0 };
	uint8_t *buf, *longer;
	size_t len;

	buf = sign(e, alice, &len);
	longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0x00;
	assert_int_equal(decode_bytes(longer, len + 1, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "trailing"));
	/* a second, complete entry after the first is trailing data too */
	longer = realloc(longer, 2 * len);
	memcpy(longer + len, buf, len);
	assert_int_equal(decode_bytes(longer, 2 * len, NULL), -EBADMSG);
	free(longer);
	free(buf);
	ldg_entry_free(e);
}

static void test_decode_rejects_every_truncation(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t *buf;
	size_t len;

	buf = sign(e, alice, &len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(decode_bytes(buf, n, NULL), -EBADMSG);
	assert_int_equal(decode_bytes(buf, len, NULL), 0);
	free(buf);
	ldg_entry_free(e);
}

static void test_decode_rejects_uint16_for_small_seq(void **state)
{
	struct fields fs;
	struct mp m;

	set_fields(&fs);
	mp_init(&m);
	mp_uint_as(&m, 0xcd, 3); /* cd 00 03 instead of 03 */
	fields_put(&fs, 1, &m);
	expect_rejected_though_signed(&fs);
	mp_free(&m);
	fields_free(&fs);
}

static void test_decode_rejects_wider_integer_in_every_int_field(void **state)
{
	static const uint8_t markers[] = { 0xcc, 0xcd, 0xce, 0xcf };
	struct fields fs;
	struct mp m;

	mp_init(&m);
	for (size_t w = 0; w < sizeof(markers); w++) {
		/* version 1 and seq 3 fit a fixint */
		set_fields(&fs);
		mp_reset(&m);
		mp_uint_as(&m, markers[w], 1);
		fields_put(&fs, 0, &m);
		expect_rejected_though_signed(&fs);
		fields_free(&fs);

		set_fields(&fs);
		mp_reset(&m);
		mp_uint_as(&m, markers[w], 3);
		fields_put(&fs, 1, &m);
		expect_rejected_though_signed(&fs);
		fields_free(&fs);
	}
	/* a time that fits uint32 must not be sent as uint64 */
	set_fields(&fs);
	mp_reset(&m);
	mp_uint(&m, 1000);
	fields_put(&fs, 3, &m);
	{
		struct mp out;
		mp_init(&out);
		fields_seal(&fs, ORIGIN, alice, &out);
		assert_int_equal(decode_bytes(out.p, out.n, NULL), 0);
		mp_free(&out);
	}
	mp_reset(&m);
	mp_uint_as(&m, 0xcf, 1000);
	fields_put(&fs, 3, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	mp_free(&m);
}

static void test_decode_rejects_str16_for_short_text(void **state)
{
	struct fields fs;
	struct mp m;

	mp_init(&m);
	/* kind "set" as str16 */
	set_fields(&fs);
	mp_str_as(&m, 0xda, "set");
	fields_put(&fs, 5, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	/* target as str8, reason as str32 */
	set_fields(&fs);
	mp_reset(&m);
	mp_str_as(&m, 0xd9, "staging/api");
	fields_put(&fs, 6, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	set_fields(&fs);
	mp_reset(&m);
	mp_str_as(&m, 0xdb, "bump api");
	fields_put(&fs, 8, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	mp_free(&m);
}

static void test_decode_rejects_non_shortest_text_inside_changes(void **state)
{
	struct fields fs;
	struct mp m;

	set_fields(&fs);
	mp_init(&m);
	mp_array(&m, 2);
	mp_array(&m, 2);
	mp_str_as(&m, 0xd9, "image.tag"); /* str8 key */
	mp_str(&m, "1.2.3");
	mp_array(&m, 2);
	mp_str(&m, "replicas");
	mp_str(&m, "3");
	fields_put(&fs, 7, &m);
	expect_rejected_though_signed(&fs);
	mp_free(&m);
	fields_free(&fs);
}

static void test_decode_rejects_non_shortest_containers(void **state)
{
	struct fields fs;
	struct mp m, out;
	const char *const kv[] = { "ci.run", "42", "git.sha", "abc123" };

	mp_init(&m);
	mp_init(&out);
	/* the top-level array as array16 */
	set_fields(&fs);
	mp_raw(&out, "\xdc\x00\x0b", 3);
	for (int i = 0; i < LDG_FIELDS; i++)
		mp_raw(&out, fs.f[i].p, fs.f[i].n);
	assert_int_equal(decode_bytes(out.p, out.n, NULL), -EBADMSG);
	/* metadata list as array16 */
	mp_raw(&m, "\xdc\x00\x02", 3);
	for (int i = 0; i < 2; i++) {
		mp_array(&m, 2);
		mp_str(&m, kv[2 * i]);
		mp_str(&m, kv[2 * i + 1]);
	}
	fields_put(&fs, 9, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	/* prev as bin16 */
	set_fields(&fs);
	{
		uint8_t prev[32];
		for (int i = 0; i < 32; i++)
			prev[i] = (uint8_t)(0xa0 + i);
		mp_reset(&m);
		mp_raw(&m, "\xc5\x00\x20", 3);
		mp_raw(&m, prev, 32);
		fields_put(&fs, 2, &m);
	}
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	mp_free(&out);
	mp_free(&m);
}

static void test_decode_rejects_unsorted_changes(void **state)
{
	const char *const kv[] = { "replicas", "3", "image.tag", "1.2.3" };
	struct fields fs;
	struct mp m;

	set_fields(&fs);
	mp_init(&m);
	mp_kvs(&m, kv, 2);
	fields_put(&fs, 7, &m);
	expect_rejected_though_signed(&fs);
	mp_free(&m);
	fields_free(&fs);
}

static void test_decode_rejects_duplicate_keys(void **state)
{
	const char *const dup[] = { "image.tag", "1", "image.tag", "2" };
	const char *const dup_unset[] = { "image.tag", "1", "image.tag", NULL };
	struct fields fs;
	struct mp m;

	mp_init(&m);
	set_fields(&fs);
	mp_kvs(&m, dup, 2);
	fields_put(&fs, 7, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);

	set_fields(&fs);
	mp_reset(&m);
	mp_kvs(&m, dup_unset, 2);
	fields_put(&fs, 7, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);

	/* metadata keys too */
	set_fields(&fs);
	mp_reset(&m);
	{
		const char *const meta[] = { "ci.run", "1", "ci.run", "1" };
		mp_kvs(&m, meta, 2);
	}
	fields_put(&fs, 9, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	mp_free(&m);
}

static void test_decode_rejects_unsorted_metadata(void **state)
{
	const char *const meta[] = { "git.sha", "abc123", "ci.run", "42" };
	struct fields fs;
	struct mp m;

	set_fields(&fs);
	mp_init(&m);
	mp_kvs(&m, meta, 2);
	fields_put(&fs, 9, &m);
	expect_rejected_though_signed(&fs);
	mp_free(&m);
	fields_free(&fs);
}

static void test_decode_rejects_wrong_bin_lengths(void **state)
{
	static const struct {
		int field;
		size_t len;
	} cases[] = {
		{ 2, 0 },  { 2, 31 }, { 2, 33 },  { 4, 3 },   { 4, 5 },
		{ 4, 32 }, { 10, 0 }, { 10, 63 }, { 10, 65 },
	};
	uint8_t zeros[80] = { 0 };
	struct fields fs;
	struct mp m;

	mp_init(&m);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_fields(&fs);
		mp_reset(&m);
		mp_bin(&m, zeros, cases[i].len);
		fields_put(&fs, cases[i].field, &m);
		expect_rejected(&fs, LDG_FIELDS);
		fields_free(&fs);
	}
	mp_free(&m);
}

static void test_decode_rejects_str_where_bin_belongs(void **state)
{
	char text[65];
	struct fields fs;
	struct mp m;

	memset(text, 'a', 64);
	text[64] = '\0';
	mp_init(&m);
	set_fields(&fs);
	mp_strn(&m, text, 32); /* prev as a 32-byte string */
	fields_put(&fs, 2, &m);
	expect_rejected(&fs, LDG_FIELDS);
	fields_free(&fs);
	set_fields(&fs);
	mp_reset(&m);
	mp_strn(&m, text, 4); /* signer as a 4-byte string */
	fields_put(&fs, 4, &m);
	expect_rejected(&fs, LDG_FIELDS);
	fields_free(&fs);
	set_fields(&fs);
	mp_reset(&m);
	mp_strn(&m, text, 64); /* signature as a string */
	fields_put(&fs, 10, &m);
	expect_rejected(&fs, LDG_FIELDS);
	fields_free(&fs);
	mp_free(&m);
}

static void test_decode_rejects_bin_where_str_belongs(void **state)
{
	static const int text_fields[] = { 5, 6, 8 };
	static const char *const texts[] = { "set", "staging/api", "bump api" };
	struct fields fs;
	struct mp m;

	mp_init(&m);
	for (size_t i = 0; i < 3; i++) {
		set_fields(&fs);
		mp_reset(&m);
		mp_bin(&m, (const uint8_t *)texts[i], strlen(texts[i]));
		fields_put(&fs, text_fields[i], &m);
		expect_rejected_though_signed(&fs);
		fields_free(&fs);
	}
	/* a change value as bin */
	set_fields(&fs);
	mp_reset(&m);
	mp_array(&m, 2);
	mp_array(&m, 2);
	mp_str(&m, "image.tag");
	mp_bin(&m, (const uint8_t *)"1.2.3", 5);
	mp_array(&m, 2);
	mp_str(&m, "replicas");
	mp_str(&m, "3");
	fields_put(&fs, 7, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	mp_free(&m);
}

static void test_decode_rejects_unknown_version(void **state)
{
	static const uint64_t versions[] = { 0, 2, 3, 127, 255, UINT64_MAX };
	struct fields fs;
	struct mp m;

	mp_init(&m);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct ldg_err err = { 0 };
		struct mp out;
		set_fields(&fs);
		mp_reset(&m);
		mp_uint(&m, versions[i]);
		fields_put(&fs, 0, &m);
		mp_init(&out);
		fields_seal(&fs, ORIGIN, alice, &out);
		assert_int_equal(decode_bytes(out.p, out.n, &err), -EBADMSG);
		assert_non_null(strstr(err.msg, "version"));
		mp_free(&out);
		fields_free(&fs);
	}
	mp_free(&m);
}

/* Every other msgpack type in place of each field in turn. */
static void test_decode_rejects_foreign_types_in_every_field(void **state)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
	} foreign[] = {
		{ "nil", "\xc0", 1 },
		{ "false", "\xc2", 1 },
		{ "true", "\xc3", 1 },
		{ "float32", "\xca\x3f\x80\x00\x00", 5 },
		{ "float64", "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9 },
		{ "fixmap", "\x80", 1 },
		{ "fixmap(1)", "\x81\xa1k\xa1v", 5 },
		{ "map16", "\xde\x00\x00", 3 },
		{ "fixext1", "\xd4\x01\x00", 3 },
		{ "ext8", "\xc7\x01\x01\x00", 4 },
		{ "negative fixint", "\xff", 1 },
		{ "int8", "\xd0\x01", 2 },
		{ "empty array", "\x90", 1 },
	};
	struct fields fs;
	struct mp m;

	mp_init(&m);
	for (size_t t = 0; t < sizeof(foreign) / sizeof(foreign[0]); t++) {
		for (int f = 0; f < LDG_FIELDS; f++) {
			/* an empty array is a fine changes or metadata list
			 * for some kinds; here the set needs its changes */
			if (!strcmp(foreign[t].what, "empty array") && f == 9)
				continue;
			set_fields(&fs);
			mp_reset(&m);
			mp_raw(&m, foreign[t].bytes, foreign[t].len);
			fields_put(&fs, f, &m);
			expect_rejected(&fs, LDG_FIELDS);
			fields_free(&fs);
		}
	}
	mp_free(&m);
}

static void test_decode_rejects_foreign_types_inside_lists(void **state)
{
	static const char *const items[] = {
		"\xc0", /* nil instead of a pair */
		"\x80", /* map instead of a pair */
		"\x90", /* empty pair */
		"\x93\xa1"
		"a\xa1"
		"b\xa1"
		"c", /* three items */
		"\x92\xa1"
		"a\xc0", /* nil value: unset is a 1-item pair */
		"\x92\xc0\xa1"
		"b", /* nil key */
		"\x92\xa1"
		"a\x01", /* integer value */
		"\x92\xa1"
		"a\xca\x00\x00\x00\x00", /* float value */
		"\x81\xa1"
		"a\xa1"
		"b", /* {"a": "b"} */
	};
	static const size_t lens[] = { 1, 1, 1, 7, 4, 4, 4, 8, 5 };
	struct fields fs;
	struct mp m;

	mp_init(&m);
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		for (int f = 7; f <= 9; f += 2) {
			set_fields(&fs);
			mp_reset(&m);
			mp_array(&m, 1);
			mp_raw(&m, items[i], lens[i]);
			fields_put(&fs, f, &m);
			expect_rejected(&fs, LDG_FIELDS);
			fields_free(&fs);
		}
	}
	mp_free(&m);
}

static void test_decode_rejects_unset_pair_in_metadata(void **state)
{
	const char *const meta[] = { "ci.run", NULL };
	struct fields fs;
	struct mp m;

	set_fields(&fs);
	mp_init(&m);
	mp_kvs(&m, meta, 1);
	fields_put(&fs, 9, &m);
	expect_rejected_though_signed(&fs);
	mp_free(&m);
	fields_free(&fs);
}

static void test_decode_rejects_wrong_field_count(void **state)
{
	struct fields fs;
	struct mp out;

	set_fields(&fs);
	/* 10 fields: the body without its signature */
	expect_rejected(&fs, LDG_FIELDS - 1);
	expect_rejected(&fs, 1);
	expect_rejected(&fs, 0);
	/* 12 fields: an extra one after the signature */
	mp_init(&out);
	mp_array(&out, 12);
	for (int i = 0; i < LDG_FIELDS; i++)
		mp_raw(&out, fs.f[i].p, fs.f[i].n);
	mp_byte(&out, 0x00);
	assert_int_equal(decode_bytes(out.p, out.n, NULL), -EBADMSG);
	/* 11 fields under a header announcing 12: incomplete */
	out.n--;
	assert_int_equal(decode_bytes(out.p, out.n, NULL), -EBADMSG);
	/* a map at the top level */
	mp_reset(&out);
	mp_byte(&out, 0x81);
	mp_str(&out, "version");
	mp_uint(&out, 1);
	assert_int_equal(decode_bytes(out.p, out.n, NULL), -EBADMSG);
	/* a lone string, a lone integer, nothing */
	assert_int_equal(decode_bytes((const uint8_t *)"\xa1x", 2, NULL),
			 -EBADMSG);
	assert_int_equal(decode_bytes((const uint8_t *)"\x01", 1, NULL),
			 -EBADMSG);
	assert_int_equal(decode_bytes((const uint8_t *)"", 0, NULL), -EBADMSG);
	mp_free(&out);
	fields_free(&fs);
}

static void test_decode_rejects_nul_inside_text(void **state)
{
	struct fields fs;
	struct mp m;

	mp_init(&m);
	set_fields(&fs);
	mp_strn(&m, "staging/api\0x", 13);
	fields_put(&fs, 6, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	set_fields(&fs);
	mp_reset(&m);
	mp_strn(&m, "bump\0api", 8);
	fields_put(&fs, 8, &m);
	expect_rejected_though_signed(&fs);
	fields_free(&fs);
	mp_free(&m);
}

/* Array headers that promise more items than there are bytes are
 * refused. (msgpack-c allocates for the promised count first, so the
 * counts here stay below what a sanitizer's allocator allows.) */
static void test_decode_rejects_arrays_with_missing_items(void **state)
{
	static const char *const heads[] = {
		"\xdd\x00\xff\xff\xff", /* top level: 2^24-1 fields */
		"\xdd\x00\x00\x00\x0b", /* 11 fields as array32 */
		"\xdc\xff\xff",		/* array16 of 65535 */
		"\x9b\x01\x03\xdd\x00\xff\xff\xff", /* prev: an array */
	};
	static const size_t lens[] = { 5, 5, 3, 8 };

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(decode_bytes((const uint8_t *)heads[i],
					      lens[i], NULL),
				 -EBADMSG);
}

static void test_decode_rejects_oversized_input(void **state)
{
	uint8_t *big = calloc(1, LDG_ENTRY_MAX + 1);

	assert_non_null(big);
	big[0] = 0x9b;
	assert_int_equal(decode_bytes(big, LDG_ENTRY_MAX + 1, NULL), -EBADMSG);
	free(big);
}

/* A set of 15 values of fill bytes and one of last bytes (each at most
 * LDG_VALUE_MAX). */
static struct ldg_entry *sized_entry(size_t fill, size_t last)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, "a/b", "big");
	char key[16], value[LDG_VALUE_MAX + 1];

	assert_non_null(e);
	memset(value, 'v', sizeof(value));
	value[last] = '\0';
	assert_int_equal(ldg_entry_add_change(e, "last", value), 0);
	value[last] = 'v';
	value[fill] = '\0';
	for (int i = 0; i < 15; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	}
	e->seq = 2;
	fill_prev(e);
	return e;
}

/* New entries fit an entry bundle's 16-bit length (tlog.h): 65,535
 * bytes signed (and decoded), one more refused naming the size. */
static void test_sign_refuses_entries_over_the_bundle_cap(void **state)
{
	struct ldg_entry *e = sized_entry(4000, 4000), *back;
	struct ldg_err err = { 0 };
	uint8_t *buf = NULL;
	size_t len, fill, last;

	assert_int_equal(ldg_entry_sign(e, ORIGIN, alice, &buf, &len, &err), 0);
	ldg_entry_free(e);
	free(buf);
	/* each byte of a value is one byte of the entry (str 16) */
	assert_true(len < LDG_BUNDLE_ENTRY_MAX);
	fill = 4000 + (LDG_BUNDLE_ENTRY_MAX - len) / 16;
	last = 4000 + (LDG_BUNDLE_ENTRY_MAX - len) - 15 * (fill - 4000);
	assert_true(last <= LDG_VALUE_MAX);
	e = sized_entry(fill, last);
	if (ldg_entry_sign(e, ORIGIN, alice, &buf, &len, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(len, LDG_BUNDLE_ENTRY_MAX);
	assert_int_equal(ldg_entry_decode(buf, len, &back, &err), 0);
	ldg_entry_free(back);
	ldg_entry_free(e);
	free(buf);
	buf = NULL;

	e = sized_entry(fill, last + 1);
	assert_int_equal(ldg_entry_sign(e, ORIGIN, alice, &buf, &len, &err),
			 -EINVAL);
	assert_null(buf);
	assert_string_equal(err.msg, "entry too large: 65536 bytes, a new "
				     "entry is at most 65535");
	ldg_entry_free(e);
}

static void test_sign_refuses_entries_over_one_mib(void **state)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_SET, "a/b", "big");
	struct ldg_err err = { 0 };
	char key[16], *value = malloc(LDG_VALUE_MAX + 1);
	uint8_t *buf = NULL;
	size_t len;

	memset(value, 'v', LDG_VALUE_MAX);
	value[LDG_VALUE_MAX] = '\0';
	for (int i = 0; i < 300; i++) { /* 300 * 4 KiB > 1 MiB */
		snprintf(key, sizeof(key), "k%03d", i);
		assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	}
	e->seq = 2;
	fill_prev(e);
	assert_int_equal(ldg_entry_sign(e, ORIGIN, alice, &buf, &len, &err),
			 -EINVAL);
	assert_null(buf);
	free(value);
	ldg_entry_free(e);
}

/* ---- field and kind rules ---- */

static void test_rules_seq_and_prev(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_SET);
	e->seq = 0;
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	e->seq = (uint64_t)INT64_MAX + 1;
	expect_rules_reject(e);
	e = make(LDG_KIND_SET); /* only init may be seq 1 */
	e->seq = 1;
	memset(e->prev, 0, sizeof(e->prev));
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT); /* and init is only seq 1 */
	e->seq = 2;
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT); /* seq 1 has an all-zero prev */
	e->prev[31] = 1;
	expect_rules_reject(e);
	e = make(LDG_KIND_SET); /* versions are 1 and 2 */
	e->version = 3;
	expect_rules_reject(e);
}

static void test_rules_reason_and_names(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_SET);
	e->reason[0] = '\0';
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	free(e->reason);
	e->reason = strdup("two\nlines");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	free(e->target);
	e->target = strdup("staging");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	free(e->target);
	e->target = strdup("");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	free(e->changes[0].key);
	e->changes[0].key = strdup("image..tag");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	replace_change_value(e, 0, "tab\there");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	free(e->meta[0].value);
	e->meta[0].value = strdup("\xc2\x85");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET);
	free(e->meta[0].key);
	e->meta[0].key = strdup("ci run");
	expect_rules_reject(e);
}

static void test_rules_value_kinds(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_SET); /* set never unsets */
	replace_change_value(e, 1, NULL);
	expect_rules_reject(e);
	e = make(LDG_KIND_UNSET); /* unset never sets */
	replace_change_value(e, 0, "3");
	expect_rules_reject(e);
	e = make(LDG_KIND_SET); /* set needs changes */
	for (size_t i = 0; i < e->n_changes; i++) {
		free(e->changes[i].key);
		free(e->changes[i].value);
	}
	e->n_changes = 0;
	expect_rules_reject(e);
	e = make(LDG_KIND_UNSET);
	free(e->changes[0].key);
	e->n_changes = 0;
	expect_rules_reject(e);
	e = make(LDG_KIND_APPLIED); /* applied values are never unset */
	replace_change_value(e, 0, NULL);
	expect_rules_reject(e);
	e = make(LDG_KIND_APPLY_FAILED);
	free(e->target);
	e->target = strdup("Bad/target");
	expect_rules_reject(e);
	e = make(LDG_KIND_APPLIED);
	free(e->target);
	e->target = strdup("");
	expect_rules_reject(e);
}

/* ---- typed values (docs/format.md 3.2) ---- */

/* A version 2 set of typed values, the authz all zero: the codec does
 * not judge it. */
static struct ldg_entry *make_typed(void)
{
	struct ldg_entry *e = make(LDG_KIND_SET);

	e->version = LDG_FORMAT_V2;
	assert_int_equal(ldg_entry_add_typed(e, "enabled", "false", NULL), 0);
	assert_int_equal(ldg_entry_add_typed(e, "n", "-7", NULL), 0);
	assert_int_equal(ldg_entry_add_typed(e, "ratio", "1.5", NULL), 0);
	assert_int_equal(ldg_entry_add_typed(e, "list", "[1, \"a\", true]",
					     NULL),
			 0);
	assert_int_equal(ldg_entry_add_typed(e, "nothing", "null", NULL), 0);
	assert_int_equal(ldg_entry_add_typed(e, "quoted", "\"3\"", NULL), 0);
	return e;
}

static void test_typed_values_round_trip_in_version_2(void **state)
{
	struct ldg_entry *e = make_typed(), *d = NULL;
	const struct ldg_kv *kv;
	struct ldg_err err = { 0 };
	uint8_t *buf;
	size_t len;

	buf = sign(e, alice, &len);
	assert_int_equal(ldg_entry_decode(buf, len, &d, &err), 0);
	assert_int_equal(d->n_changes, e->n_changes);
	for (size_t i = 0; i < e->n_changes; i++) {
		assert_string_equal(d->changes[i].key, e->changes[i].key);
		assert_true(
			ldg_value_eq(d->changes[i].type, d->changes[i].value,
				     e->changes[i].type, e->changes[i].value));
	}
	kv = ldg_kv_find(d->changes, d->n_changes, "list");
	assert_int_equal(kv->type, LDG_V_JSON);
	assert_string_equal(kv->value, "[1,\"a\",true]");
	/* "3" given as JSON is the string 3: one encoding of a string */
	kv = ldg_kv_find(d->changes, d->n_changes, "quoted");
	assert_int_equal(kv->type, LDG_V_STR);
	assert_string_equal(kv->value, "3");
	/* the bytes of -7 and false are in the entry as such */
	assert_non_null(memmem(buf, len, "\x92\xa1n\xf9", 4));
	assert_non_null(memmem(buf, len,
			       "\xa7"
			       "enabled\xc2",
			       9));
	assert_false(ldg_value_eq(LDG_V_STR, "3", LDG_V_JSON, "3"));
	assert_true(ldg_value_eq(LDG_V_STR, NULL, LDG_V_JSON, NULL));
	ldg_entry_free(d);
	free(buf);
	ldg_entry_free(e);
}

static void test_add_typed_refuses_what_is_no_value(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	struct ldg_err err = { 0 };
	size_t n = e->n_changes;

	assert_int_equal(ldg_entry_add_typed(e, "a", "{\"b\":1}", &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "use dotted keys, e.g. a.b:=1"));
	assert_int_equal(ldg_entry_add_typed(e, "a", "[[1]]", &err), -EINVAL);
	assert_int_equal(ldg_entry_add_typed(e, "image.tag", "1", &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, "given twice"));
	assert_int_equal(e->n_changes, n);
	/* a string keeps the entry as it is; a typed value makes it
	 * version 2, the only one that holds them */
	assert_int_equal(ldg_entry_add_typed(e, "s", "\"x\"", &err), 0);
	assert_int_equal(e->version, LDG_FORMAT_V1);
	assert_int_equal(ldg_entry_add_typed(e, "t", "true", &err), 0);
	assert_int_equal(e->version, LDG_FORMAT_V2);
	ldg_entry_free(e);
}

/* Typed values only in the changes of set, rollback, applied and
 * apply-failed, of version 2. */
static void test_rules_typed_values_only_where_allowed(void **state)
{
	struct ldg_entry *e;
	struct ldg_err err = { 0 };

	e = make_typed(); /* version 1 */
	e->version = LDG_FORMAT_V1;
	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "typed value in a version 1 entry"));
	expect_rules_reject(e);
	e = make_typed(); /* in metadata */
	e->meta[0].type = LDG_V_JSON;
	free(e->meta[0].value);
	e->meta[0].value = strdup("1");
	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "typed value in metadata"));
	ldg_entry_free(e);
	e = make(LDG_KIND_KEY_ADD); /* in another kind */
	e->version = LDG_FORMAT_V2;
	e->changes[0].type = LDG_V_JSON;
	free(e->changes[0].value);
	e->changes[0].value = strdup("true");
	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "typed value in key-add"));
	ldg_entry_free(e);
	e = make_typed(); /* text not canonical */
	free(e->changes[0].value);
	e->changes[0].value = strdup("[ \"a\" ]");
	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "canonical"));
	ldg_entry_free(e);
	for (int k = LDG_KIND_ROLLBACK; k <= LDG_KIND_APPLY_FAILED; k++) {
		uint8_t *buf;
		size_t len;
		if (k != LDG_KIND_ROLLBACK && k != LDG_KIND_APPLIED &&
		    k != LDG_KIND_APPLY_FAILED)
			continue;
		e = make((enum ldg_kind)k);
		e->version = LDG_FORMAT_V2;
		assert_int_equal(ldg_entry_add_typed(e, "x", "3", NULL), 0);
		buf = sign(e, alice, &len);
		assert_int_equal(decode_bytes(buf, len, &err), 0);
		free(buf);
		ldg_entry_free(e);
	}
}

/* The typed set with the bytes of its value "ratio" (1.5) replaced. */
static void expect_typed_bytes_refused(const char *raw, size_t n,
				       const char *why)
{
	static const uint8_t ratio[] = "\xcb\x3f\xf8\0\0\0\0\0\0";
	struct ldg_entry *e = make_typed();
	struct ldg_err err = { 0 };
	uint8_t *buf, *at, *bad;
	size_t len, off;

	buf = sign(e, alice, &len);
	at = memmem(buf, len, ratio, 9);
	assert_non_null(at);
	off = (size_t)(at - buf);
	bad = malloc(len - 9 + n);
	assert_non_null(bad);
	memcpy(bad, buf, off);
	memcpy(bad + off, raw, n);
	memcpy(bad + off + n, buf + off + 9, len - off - 9);
	assert_int_equal(decode_bytes(bad, len - 9 + n, &err), -EBADMSG);
	if (!strstr(err.msg, why)) {
		print_error("\"%s\" lacks \"%s\"\n", err.msg, why);
		fail();
	}
	free(bad);
	free(buf);
	ldg_entry_free(e);
}

#define RAW(s) s, sizeof(s) - 1

static void test_decode_refuses_typed_values_not_canonical(void **state)
{
	expect_typed_bytes_refused(RAW("\xca\x3f\xc0\x00\x00"), "float 32");
	expect_typed_bytes_refused(RAW("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"),
				   "not finite");
	expect_typed_bytes_refused(RAW("\xcb\x40\x08\x00\x00\x00\x00\x00\x00"),
				   "holding an integer");
	expect_typed_bytes_refused(RAW("\xd0\x05"), "non-canonical");
	expect_typed_bytes_refused(RAW("\xd1\xff\xfb"), "non-canonical");
	expect_typed_bytes_refused(RAW("\xcc\x05"), "non-canonical");
	expect_typed_bytes_refused(RAW("\xdc\x00\x01\x01"), "non-canonical");
	expect_typed_bytes_refused(RAW("\x91\x91\x01"), "array inside");
	expect_typed_bytes_refused(RAW("\x81\xa1k\x01"), "map");
	expect_typed_bytes_refused(RAW("\xc4\x01\x00"), "bin or ext");
	expect_typed_bytes_refused(RAW("\xa0"), "invalid value");
}

static void test_rules_applied_may_have_no_changes(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_APPLY_FAILED);
	uint8_t *buf;
	size_t len;

	free(e->changes[0].key);
	free(e->changes[0].value);
	e->n_changes = 0;
	buf = sign(e, alice, &len);
	assert_int_equal(decode_bytes(buf, len, NULL), 0);
	free(buf);
	ldg_entry_free(e);
}

/* A drift entry (docs/format.md 4): version 2, on a release or a whole
 * cluster, exactly status. */
static struct ldg_entry *drift(const char *target, const char *status)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_DRIFT, target, "checked");

	assert_non_null(e);
	e->version = LDG_FORMAT_V2;
	e->seq = 12;
	e->time_ns = TIME_NS;
	fill_prev(e);
	if (status)
		assert_int_equal(ldg_entry_add_change(e, "status", status), 0);
	return e;
}

static void test_rules_drift_round_trips_both_statuses(void **state)
{
	static const char *const targets[] = { "staging/api", "staging" };
	static const char *const st[] = { LDG_DRIFTED, LDG_IN_SYNC };

	for (size_t i = 0; i < 2; i++) {
		struct ldg_entry *e = drift(targets[i], st[i]), *d = NULL;
		struct ldg_err err = { 0 };
		uint8_t *buf;
		size_t len;

		assert_int_equal(ldg_entry_add_meta(e, "checked-seq", "11"), 0);
		assert_int_equal(ldg_entry_add_meta(e, "diff",
						    "-  replicas: 2 | +  "
						    "replicas: 5"),
				 0);
		buf = sign(e, alice, &len);
		assert_int_equal(ldg_entry_decode(buf, len, &d, &err), 0);
		assert_int_equal(d->kind, LDG_KIND_DRIFT);
		assert_string_equal(d->target, targets[i]);
		assert_string_equal(d->changes[0].value, st[i]);
		assert_int_equal(d->n_meta, 2);
		ldg_entry_free(d);
		free(buf);
		ldg_entry_free(e);
	}
}

static void test_rules_drift_refuses_other_statuses_and_fields(void **state)
{
	struct ldg_entry *e;
	struct ldg_err err = { 0 };

	e = drift("staging/api", "broken");
	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "status must be"));
	expect_rules_reject(e);
	expect_rules_reject(drift("staging/api", "Drifted"));
	expect_rules_reject(drift("staging/api", NULL)); /* no status */
	e = drift("staging/api", LDG_DRIFTED); /* one field too many */
	assert_int_equal(ldg_entry_add_change(e, "tail", "x"), 0);
	expect_rules_reject(e);
	e = drift("staging/api", LDG_DRIFTED); /* status unset */
	replace_change_value(e, 0, NULL);
	expect_rules_reject(e);
	e = drift("staging/api", NULL); /* another field alone */
	assert_int_equal(ldg_entry_add_change(e, "state", LDG_DRIFTED), 0);
	expect_rules_reject(e);
	expect_rules_reject(drift("Bad/target", LDG_DRIFTED));
	expect_rules_reject(drift("", LDG_DRIFTED));
	expect_rules_reject(drift("staging/*", LDG_DRIFTED)); /* a scope */
}

static void test_rules_drift_is_version_2_only(void **state)
{
	struct ldg_entry *e = drift("staging/api", LDG_IN_SYNC);
	struct ldg_err err = { 0 };

	e->version = LDG_FORMAT_V1;
	assert_int_equal(ldg_entry_check(e, &err), -EINVAL);
	assert_string_equal(err.msg, "drift entry in format version 1");
	expect_rules_reject(e);
}

static void test_rules_rollback_needs_an_earlier_rollback_to(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_ROLLBACK);
	free(e->meta[0].key);
	free(e->meta[0].value);
	e->n_meta = 0;
	expect_rules_reject(e);
	e = make(LDG_KIND_ROLLBACK); /* seq 5: rollback-to 5 is not before */
	free(e->meta[0].value);
	e->meta[0].value = strdup("5");
	expect_rules_reject(e);
	e = make(LDG_KIND_ROLLBACK);
	free(e->meta[0].value);
	e->meta[0].value = strdup("0");
	expect_rules_reject(e);
	e = make(LDG_KIND_ROLLBACK);
	free(e->meta[0].value);
	e->meta[0].value = strdup("two");
	expect_rules_reject(e);
	e = make(LDG_KIND_ROLLBACK);
	free(e->meta[0].value);
	e->meta[0].value = strdup("+2");
	expect_rules_reject(e);
	e = make(LDG_KIND_ROLLBACK);
	free(e->meta[0].value);
	e->meta[0].value = strdup("4");
	{
		size_t len;
		uint8_t *buf = sign(e, alice, &len);
		assert_int_equal(decode_bytes(buf, len, NULL), 0);
		free(buf);
	}
	ldg_entry_free(e);
}

static void test_rules_lock_and_unlock_carry_no_changes(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_LOCK);
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "1"), 0);
	expect_rules_reject(e);
	e = make(LDG_KIND_UNLOCK);
	assert_int_equal(ldg_entry_add_change(e, "image.tag", NULL), 0);
	expect_rules_reject(e);
	e = make(LDG_KIND_LOCK);
	free(e->target);
	e->target = strdup("staging");
	expect_rules_reject(e);
}

static void test_rules_init_fields(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_INIT);
	replace_change_value(e, 1, "deployer"); /* role */
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT);
	replace_change_value(e, 2, "staging/*"); /* scopes */
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT);
	replace_change_value(e, 0, ""); /* origin */
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT);
	replace_change_value(e, 3, "not a key");
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT);
	replace_change_value(e, 3, NULL);
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT); /* an extra field */
	assert_int_equal(ldg_entry_add_change(e, "extra", "1"), 0);
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT); /* a missing field */
	free(e->changes[2].key);
	free(e->changes[2].value);
	e->changes[2] = e->changes[3];
	e->n_changes = 3;
	expect_rules_reject(e);
	e = make(LDG_KIND_INIT);
	free(e->target);
	e->target = strdup("staging/api");
	expect_rules_reject(e);
}

static void test_rules_key_add_and_revoke_fields(void **state)
{
	struct ldg_entry *e;

	e = make(LDG_KIND_KEY_ADD);
	replace_change_value(e, 0, "root"); /* role */
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_ADD);
	replace_change_value(e, 1, "staging/*  prod/*"); /* double space */
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_ADD);
	replace_change_value(e, 1, " staging/*");
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_ADD);
	replace_change_value(e, 1, "Staging/*");
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_ADD);
	replace_change_value(e, 2, "bob+00000000+AAAA");
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_ADD);
	free(e->target);
	e->target = strdup("staging/api");
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_ADD); /* origin belongs to init only */
	assert_int_equal(ldg_entry_add_change(e, "origin", "x"), 0);
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_REVOKE);
	replace_change_value(e, 0, "bob smith");
	expect_rules_reject(e);
	e = make(LDG_KIND_KEY_REVOKE);
	assert_int_equal(ldg_entry_add_change(e, "role", "admin"), 0);
	expect_rules_reject(e);
}

static void test_rules_accept_every_role(void **state)
{
	static const char *const roles[] = { "admin", "deployer", "applier" };

	for (size_t i = 0; i < 3; i++) {
		struct ldg_entry *e = make(LDG_KIND_KEY_ADD);
		replace_change_value(e, 0, roles[i]);
		assert_int_equal(ldg_entry_check(e, NULL), 0);
		ldg_entry_free(e);
	}
}

/* ---- signatures ---- */

static void test_signed_message_is_domain_separated_body(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t *buf, *body = NULL, *msg;
	size_t len, blen, mlen;
	const size_t pre = sizeof("ledger/v1/entry") + sizeof(ORIGIN);

	buf = sign(e, alice, &len);
	assert_int_equal(ldg_entry_encode(e, false, &body, &blen), 0);
	/* "ledger/v1/entry" 0x00 ORIGIN 0x00 body, built here by hand */
	mlen = pre + blen;
	msg = malloc(mlen);
	memcpy(msg, "ledger/v1/entry", sizeof("ledger/v1/entry"));
	memcpy(msg + sizeof("ledger/v1/entry"), ORIGIN, sizeof(ORIGIN));
	memcpy(msg + pre, body, blen);
	assert_int_equal(crypto_sign_verify_detached(buf + len - 64, msg, mlen,
						     ldg_signer_vkey(alice)->pk),
			 0);
	/* without the domain, or without the origin, it does not verify */
	assert_int_not_equal(crypto_sign_verify_detached(buf + len - 64, body,
							 blen,
							 ldg_signer_vkey(alice)
								 ->pk),
			     0);
	assert_int_not_equal(
		crypto_sign_verify_detached(buf + len - 64,
					    msg + sizeof("ledger/v1/entry"),
					    mlen - sizeof("ledger/v1/entry"),
					    ldg_signer_vkey(alice)->pk),
		0);
	free(msg);
	free(body);
	free(buf);
	ldg_entry_free(e);
}

static void test_verify_rejects_flipped_byte_anywhere(void **state)
{
	const uint8_t *pk = ldg_signer_vkey(alice)->pk;

	for (int k = 0; k < LDG_KIND_COUNT; k++) {
		struct ldg_entry *e = make((enum ldg_kind)k);
		size_t len;
		uint8_t *buf = sign(e, alice, &len);

		assert_int_equal(ldg_entry_verify_sig(buf, len, ORIGIN, pk), 0);
		/* every byte: header, body, bin header and signature */
		for (size_t i = 0; i < len; i++) {
			for (int bit = 0; bit < 8; bit += 7) {
				buf[i] ^= (uint8_t)(1u << bit);
				assert_int_equal(ldg_entry_verify_sig(buf, len,
								      ORIGIN,
								      pk),
						 -EBADMSG);
				buf[i] ^= (uint8_t)(1u << bit);
			}
		}
		assert_int_equal(ldg_entry_verify_sig(buf, len, ORIGIN, pk), 0);
		free(buf);
		ldg_entry_free(e);
	}
}

static void test_verify_rejects_different_origin(void **state)
{
	static const char *const others[] = {
		"example.com/test2", "example.com/tes", "Example.com/test", "",
		"example.com/test ", "ledger/v1/entry",
	};
	const uint8_t *pk = ldg_signer_vkey(alice)->pk;
	struct ldg_entry *e = make(LDG_KIND_SET);
	size_t len;
	uint8_t *buf = sign(e, alice, &len);

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_int_equal(ldg_entry_verify_sig(buf, len, others[i], pk),
				 -EBADMSG);
	assert_int_equal(ldg_entry_verify_sig(buf, len, ORIGIN, pk), 0);
	free(buf);
	ldg_entry_free(e);
}

static void test_verify_rejects_other_key(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t zero[LDG_PK_BYTES] = { 0 };
	size_t len;
	uint8_t *buf = sign(e, alice, &len);

	assert_int_equal(ldg_entry_verify_sig(buf, len, ORIGIN,
					      ldg_signer_vkey(bob)->pk),
			 -EBADMSG);
	assert_int_equal(ldg_entry_verify_sig(buf, len, ORIGIN, zero),
			 -EBADMSG);
	free(buf);
	ldg_entry_free(e);
}

static void test_verify_rejects_short_or_framed_wrong(void **state)
{
	const uint8_t *pk = ldg_signer_vkey(alice)->pk;
	struct ldg_entry *e = make(LDG_KIND_SET);
	size_t len;
	uint8_t *buf = sign(e, alice, &len);

	for (size_t n = 0; n < 70; n++)
		assert_int_equal(ldg_entry_verify_sig(buf, n, ORIGIN, pk),
				 -EBADMSG);
	assert_int_equal(ldg_entry_verify_sig(buf, len - 1, ORIGIN, pk),
			 -EBADMSG);
	assert_int_equal(ldg_entry_verify_sig(buf + 1, len - 1, ORIGIN, pk),
			 -EBADMSG);
	free(buf);
	ldg_entry_free(e);
}

static void test_sign_sets_the_signer_key_id(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	size_t len;
	uint8_t *buf;

	memset(e->signer, 0xee, LDG_KEYID_BYTES);
	buf = sign(e, bob, &len);
	assert_memory_equal(e->signer, ldg_signer_vkey(bob)->keyid,
			    LDG_KEYID_BYTES);
	/* field 4 sits after 9b 01 03 c4 20 <32> <time: cf + 8> */
	assert_int_equal(buf[3 + 2 + 32 + 9], 0xc4);
	assert_int_equal(buf[3 + 2 + 32 + 10], 0x04);
	assert_memory_equal(buf + 3 + 2 + 32 + 11, e->signer, 4);
	free(buf);
	ldg_entry_free(e);
}

static void test_entry_hash_is_rfc6962_leaf_hash(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t want[32], got[32], *pre;
	size_t len;
	uint8_t *buf = sign(e, alice, &len);

	pre = malloc(len + 1);
	pre[0] = 0x00;
	memcpy(pre + 1, buf, len);
	crypto_hash_sha256(want, pre, len + 1);
	ldg_entry_hash(buf, len, got);
	assert_memory_equal(got, want, 32);
	/* not the plain SHA-256 of the bytes */
	crypto_hash_sha256(want, buf, len);
	assert_memory_not_equal(got, want, 32);
	free(pre);
	free(buf);
	ldg_entry_free(e);
}

static void test_batch_split_points_into_the_bytes(void **state)
{
	/* [bin "ab", bin8 of 300 bytes, bin16 ""] */
	uint8_t buf[3 + 3 + 3 + 300 + 3];
	const uint8_t *items[4];
	size_t lens[4], n = 9, at = 0;
	struct ldg_err err = { 0 };
	buf[at++] = 0x93;
	buf[at++] = 0xc4;
	buf[at++] = 2;
	buf[at++] = 'a';
	buf[at++] = 'b';
	buf[at++] = 0xc5;
	buf[at++] = 300 >> 8;
	buf[at++] = 300 & 0xff;
	memset(buf + at, 7, 300);
	at += 300;
	buf[at++] = 0xc5;
	buf[at++] = 0;
	buf[at++] = 0;
	assert_int_equal(ldg_batch_split(buf, at, 4, items, lens, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_ptr_equal(items[0], buf + 3);
	assert_int_equal(lens[0], 2);
	assert_int_equal(lens[1], 300);
	assert_int_equal(lens[2], 0);
	/* a byte after it, one item cut short, more than max */
	assert_int_equal(ldg_batch_split(buf, at + 1, 4, items, lens, &n, &err),
			 -EBADMSG);
	assert_int_equal(ldg_batch_split(buf, at - 1, 4, items, lens, &n, &err),
			 -EBADMSG);
	assert_int_equal(n, 0);
	assert_int_equal(ldg_batch_split(buf, at, 2, items, lens, &n, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "at most 2"));
	/* an empty array is no error; a map, a declared 2^32-1 items, a
	 * non-bin item and a bin larger than an entry are */
	{
		const uint8_t empty[] = { 0x90 }, map[] = { 0x81, 0xc4, 0 },
			      huge[] = { 0xdd, 0xff, 0xff, 0xff, 0xff },
			      notbin[] = { 0x91, 0xdd, 0x7f, 0xff, 0xff, 0xff },
			      big[] = { 0x91, 0xc6, 0x00, 0x20, 0x00, 0x00 };
		assert_int_equal(ldg_batch_split(empty, 1, 4, items, lens, &n,
						 &err),
				 0);
		assert_int_equal(n, 0);
		assert_int_equal(ldg_batch_split(map, 3, 4, items, lens, &n,
						 &err),
				 -EBADMSG);
		assert_int_equal(ldg_batch_split(huge, 5, 4, items, lens, &n,
						 &err),
				 -EBADMSG);
		assert_int_equal(ldg_batch_split(notbin, 6, 4, items, lens, &n,
						 &err),
				 -EBADMSG);
		assert_non_null(strstr(err.msg, "item 0 is not"));
		assert_int_equal(ldg_batch_split(big, 6, 4, items, lens, &n,
						 &err),
				 -EBADMSG);
		assert_non_null(strstr(err.msg, "larger than an entry"));
	}
}

/* n items of the given sizes, item i filled with byte i + 1. */
static void fill_items(uint8_t **bufs, const uint8_t **items,
		       const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bufs[i] = malloc(lens[i] ? lens[i] : 1);
		assert_non_null(bufs[i]);
		memset(bufs[i], (int)(i + 1), lens[i]);
		items[i] = bufs[i];
	}
}

static void test_batch_join_round_trips_through_split(void **state)
{
	/* bin 8, 16 and 32 items, at their edges, and empty ones */
	static const size_t sizes[] = { 0,     1,     255,	    256,
					65535, 65536, LDG_ENTRY_MAX };
	const size_t ns = sizeof(sizes) / sizeof(sizes[0]);
	uint8_t *bufs[sizeof(sizes) / sizeof(sizes[0])];
	const uint8_t *items[sizeof(sizes) / sizeof(sizes[0])];
	const uint8_t *back[sizeof(sizes) / sizeof(sizes[0])];
	size_t lens[sizeof(sizes) / sizeof(sizes[0])];
	struct ldg_err err = { 0 };
	uint8_t *out = NULL;
	size_t len = 0, n = 99;
	fill_items(bufs, items, sizes, ns);
	assert_int_equal(ldg_batch_join(items, sizes, ns, &out, &len, &err), 0);
	assert_true(ldg_batch_is(out, len));
	assert_int_equal(ldg_batch_split(out, len, ns, back, lens, &n, &err),
			 0);
	assert_int_equal(n, ns);
	for (size_t i = 0; i < ns; i++) {
		assert_int_equal(lens[i], sizes[i]);
		assert_memory_equal(back[i], items[i], sizes[i] ? sizes[i] : 0);
		/* pointers into the joined bytes, not the originals */
		assert_true(back[i] > out && back[i] <= out + len);
	}
	/* the splitter's own limit still holds for what was joined */
	assert_int_equal(ldg_batch_split(out, len, ns - 1, back, lens, &n,
					 &err),
			 -EBADMSG);
	free(out);
	for (size_t i = 0; i < ns; i++)
		free(bufs[i]);
}

static void test_batch_join_array_header_widths(void **state)
{
	/* 15 items: fixarray; 16: array 16; 65536: array 32 */
	static const size_t counts[] = { 0, 15, 16, 65535, 65536 };
	static const uint8_t first[] = { 0x90, 0x9f, 0xdc, 0xdc, 0xdd };
	uint8_t one[1] = { 0x2a };
	struct ldg_err err = { 0 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		size_t k = counts[c], n = 0, len = 0;
		const uint8_t **items = calloc(k ? k : 1, sizeof(*items));
		const uint8_t **back = calloc(k ? k : 1, sizeof(*back));
		size_t *lens = calloc(k ? k : 1, sizeof(*lens));
		size_t *blens = calloc(k ? k : 1, sizeof(*blens));
		uint8_t *out = NULL;

		assert_true(items && back && lens && blens);
		for (size_t i = 0; i < k; i++) {
			items[i] = one;
			lens[i] = 1;
		}
		assert_int_equal(ldg_batch_join(items, lens, k, &out, &len,
						&err),
				 0);
		assert_int_equal(out[0], first[c]);
		/* header, then c4 01 2a per item */
		assert_int_equal(len, (size_t)(first[c] == 0xdd	  ? 5
					       : first[c] == 0xdc ? 3
								  : 1) +
					      3 * k);
		assert_int_equal(ldg_batch_split(out, len, k, back, blens, &n,
						 &err),
				 0);
		assert_int_equal(n, k);
		assert_true(ldg_batch_is(out, len));
		free(out);
		free(items);
		free(back);
		free(lens);
		free(blens);
	}
}

static void test_batch_join_refuses_an_item_larger_than_an_entry(void **state)
{
	const uint8_t *items[2];
	size_t lens[2] = { 3, (size_t)LDG_ENTRY_MAX + 1 };
	uint8_t *bufs[2], *out = (uint8_t *)&out;
	struct ldg_err err = { 0 };
	size_t len = 7;
	fill_items(bufs, items, lens, 2);
	assert_int_equal(ldg_batch_join(items, lens, 2, &out, &len, &err),
			 -EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "batch item 1"));
	assert_non_null(strstr(err.msg, "larger than an entry"));
	free(bufs[0]);
	free(bufs[1]);
}

static void test_batch_is_tells_a_batch_from_an_entry(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	const uint8_t *items[1];
	uint8_t *entry = NULL, *batch = NULL;
	size_t elen = 0, blen = 0;
	assert_int_equal(ldg_entry_sign(e, ORIGIN, alice, &entry, &elen, NULL),
			 0);
	items[0] = entry;
	assert_int_equal(ldg_batch_join(items, &elen, 1, &batch, &blen, NULL),
			 0);
	assert_false(ldg_batch_is(entry, elen));
	assert_true(ldg_batch_is(batch, blen));
	/* the empty array is a batch (the splitter refuses none of it);
	 * a map, a string and nothing are neither */
	assert_true(ldg_batch_is((const uint8_t[]){ 0x90 }, 1));
	assert_true(ldg_batch_is((const uint8_t[]){ 0xdc, 0, 0 }, 3));
	assert_false(ldg_batch_is((const uint8_t[]){ 0x81, 0xc4, 0 }, 3));
	assert_false(ldg_batch_is((const uint8_t[]){ 0xa1, 'x' }, 2));
	assert_false(ldg_batch_is(batch, 0));
	free(batch);
	free(entry);
	ldg_entry_free(e);
}

static void test_put_sig_fills_the_signature_of_a_draft(void **state)
{
	struct ldg_entry *e = make(LDG_KIND_SET);
	uint8_t *signed_bytes = NULL, *draft = NULL, sig[LDG_SIG_BYTES];
	size_t slen = 0, dlen = 0;
	assert_int_equal(ldg_entry_sign(e, ORIGIN, alice, &signed_bytes, &slen,
					NULL),
			 0);
	/* the same entry with a zero signature: what a draft is */
	memcpy(sig, e->sig, LDG_SIG_BYTES);
	memset(e->sig, 0, LDG_SIG_BYTES);
	assert_int_equal(ldg_entry_encode(e, true, &draft, &dlen), 0);
	assert_int_equal(dlen, slen);
	assert_memory_not_equal(draft, signed_bytes, slen);
	assert_int_equal(ldg_entry_put_sig(draft, dlen, sig), 0);
	assert_memory_equal(draft, signed_bytes, slen);
	/* not framed as an entry: cut short, the signature's header
	 * changed, another first byte, too short for a signature */
	assert_int_equal(ldg_entry_put_sig(draft, dlen - 1, sig), -EBADMSG);
	draft[dlen - LDG_SIG_BYTES - 1] = 0x3f;
	assert_int_equal(ldg_entry_put_sig(draft, dlen, sig), -EBADMSG);
	draft[dlen - LDG_SIG_BYTES - 1] = LDG_SIG_BYTES;
	draft[0] = 0x9a;
	assert_int_equal(ldg_entry_put_sig(draft, dlen, sig), -EBADMSG);
	draft[0] = signed_bytes[0];
	assert_int_equal(ldg_entry_put_sig(draft, LDG_SIG_BYTES + 2, sig),
			 -EBADMSG);
	assert_memory_equal(draft, signed_bytes, slen);
	free(draft);
	free(signed_bytes);
	ldg_entry_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names_round_trip),
		cmocka_unit_test(test_only_set_unset_rollback_change_values),
		cmocka_unit_test(test_add_change_keeps_list_sorted_and_unique),
		cmocka_unit_test(test_add_change_sorts_bytewise),
		cmocka_unit_test(test_add_change_stops_at_the_limit),
		cmocka_unit_test(test_round_trip_every_kind),
		cmocka_unit_test(test_encode_without_signature_is_the_body),
		cmocka_unit_test(test_encode_uses_shortest_forms),
		cmocka_unit_test(test_strings_of_32_bytes_and_more_use_str8),
		cmocka_unit_test(test_decode_accepts_the_canonical_fields),
		cmocka_unit_test(test_decode_rejects_trailing_byte),
		cmocka_unit_test(test_decode_rejects_every_truncation),
		cmocka_unit_test(test_decode_rejects_uint16_for_small_seq),
		cmocka_unit_test(
			test_decode_rejects_wider_integer_in_every_int_field),
		cmocka_unit_test(test_decode_rejects_str16_for_short_text),
		cmocka_unit_test(
			test_decode_rejects_non_shortest_text_inside_changes),
		cmocka_unit_test(test_decode_rejects_non_shortest_containers),
		cmocka_unit_test(test_decode_rejects_unsorted_changes),
		cmocka_unit_test(test_decode_rejects_duplicate_keys),
		cmocka_unit_test(test_decode_rejects_unsorted_metadata),
		cmocka_unit_test(test_decode_rejects_wrong_bin_lengths),
		cmocka_unit_test(test_decode_rejects_str_where_bin_belongs),
		cmocka_unit_test(test_decode_rejects_bin_where_str_belongs),
		cmocka_unit_test(test_decode_rejects_unknown_version),
		cmocka_unit_test(
			test_decode_rejects_foreign_types_in_every_field),
		cmocka_unit_test(
			test_decode_rejects_foreign_types_inside_lists),
		cmocka_unit_test(test_decode_rejects_unset_pair_in_metadata),
		cmocka_unit_test(test_decode_rejects_wrong_field_count),
		cmocka_unit_test(test_decode_rejects_nul_inside_text),
		cmocka_unit_test(test_decode_rejects_arrays_with_missing_items),
		cmocka_unit_test(test_decode_rejects_oversized_input),
		cmocka_unit_test(test_sign_refuses_entries_over_the_bundle_cap),
		cmocka_unit_test(test_sign_refuses_entries_over_one_mib),
		cmocka_unit_test(test_rules_seq_and_prev),
		cmocka_unit_test(test_rules_reason_and_names),
		cmocka_unit_test(test_rules_value_kinds),
		cmocka_unit_test(test_rules_applied_may_have_no_changes),
		cmocka_unit_test(test_typed_values_round_trip_in_version_2),
		cmocka_unit_test(test_add_typed_refuses_what_is_no_value),
		cmocka_unit_test(test_rules_typed_values_only_where_allowed),
		cmocka_unit_test(
			test_decode_refuses_typed_values_not_canonical),
		cmocka_unit_test(test_rules_drift_round_trips_both_statuses),
		cmocka_unit_test(
			test_rules_drift_refuses_other_statuses_and_fields),
		cmocka_unit_test(test_rules_drift_is_version_2_only),
		cmocka_unit_test(
			test_rules_rollback_needs_an_earlier_rollback_to),
		cmocka_unit_test(test_rules_lock_and_unlock_carry_no_changes),
		cmocka_unit_test(test_rules_init_fields),
		cmocka_unit_test(test_rules_key_add_and_revoke_fields),
		cmocka_unit_test(test_rules_accept_every_role),
		cmocka_unit_test(test_signed_message_is_domain_separated_body),
		cmocka_unit_test(test_verify_rejects_flipped_byte_anywhere),
		cmocka_unit_test(test_verify_rejects_different_origin),
		cmocka_unit_test(test_verify_rejects_other_key),
		cmocka_unit_test(test_verify_rejects_short_or_framed_wrong),
		cmocka_unit_test(test_sign_sets_the_signer_key_id),
		cmocka_unit_test(test_entry_hash_is_rfc6962_leaf_hash),
		cmocka_unit_test(test_batch_split_points_into_the_bytes),
		cmocka_unit_test(test_batch_join_round_trips_through_split),
		cmocka_unit_test(test_batch_join_array_header_widths),
		cmocka_unit_test(
			test_batch_join_refuses_an_item_larger_than_an_entry),
		cmocka_unit_test(test_batch_is_tells_a_batch_from_an_entry),
		cmocka_unit_test(test_put_sig_fills_the_signature_of_a_draft),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
