/*
 * entry.h - the signed entry: a strict, canonical msgpack array.
 *
 * Stored bytes (docs/format.md has every byte):
 *   version 1: fixarray(11) [version, seq, prev, time, signer, kind,
 *                 target, changes, reason, metadata, signature]
 *   version 2: fixarray(12) [the same ten, authz, signature]
 * authz commits to the keyring and locks after the entry (authz.h). The
 * signed body is the same array without the signature: fixarray(10) or
 * fixarray(11) followed by the same field bytes. The signature is Ed25519 over
 *   "ledger/v1/entry" 0x00 ORIGIN 0x00 BODY
 * and the entry hash is SHA-256(0x00 || stored bytes), the RFC 6962 leaf.
 *
 * Invariants of a struct ldg_entry that passed ldg_entry_check():
 *   - changes and metadata are sorted by key (bytewise) and unique;
 *   - every name, key and string value obeys names.h;
 *   - typed values (value.h) only in a version 2 entry's changes of
 *     kind set, rollback, applied or apply-failed, in canonical text;
 *   - the kind's own rules hold (see ldg_entry_check()).
 * ldg_entry_decode() accepts exactly the bytes ldg_entry_encode() would
 * produce for the decoded entry, and nothing else.
 *
 * Ownership: an entry owns all its strings; free with ldg_entry_free().
 * Entries are plain data: no locking, not shared between threads.
 */
#ifndef LDG_ENTRY_H
#define LDG_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"

#define LDG_FORMAT_V1 1 /* no authorisation commitment */
#define LDG_FORMAT_V2 2 /* with one (field 10): what writers write */
#define LDG_HASH_BYTES 32
/* the largest entry the decoder takes: a new one is at most
 * LDG_BUNDLE_ENTRY_MAX (tlog.h) */
#define LDG_ENTRY_MAX (1024 * 1024)
#define LDG_CHANGES_MAX 1000
#define LDG_META_MAX 64
#define LDG_FIELDS 11	      /* of a version 1 entry; version 2 has one more */
#define LDG_DRIFTED "drifted" /* the two statuses of a drift entry */
#define LDG_IN_SYNC "in-sync"

enum ldg_kind {
	LDG_KIND_INIT,
	LDG_KIND_SET,
	LDG_KIND_UNSET,
	LDG_KIND_ROLLBACK,
	LDG_KIND_LOCK,
	LDG_KIND_UNLOCK,
	LDG_KIND_KEY_ADD,
	LDG_KIND_KEY_REVOKE,
	LDG_KIND_APPLIED,
	LDG_KIND_APPLY_FAILED,
	/* promotion policies (docs/format.md 8b): version 2 only */
	LDG_KIND_POLICY,
	LDG_KIND_FREEZE,
	LDG_KIND_UNFREEZE,
	LDG_KIND_APPROVE,
	LDG_KIND_WITHDRAW,
	/* drift detection (docs/format.md 4): version 2 only */
	LDG_KIND_DRIFT,
	LDG_KIND_COUNT
};

/* What a value is (docs/format.md 3.2, value.h): a string, or a typed
 * value held as its canonical JSON text. Zero is a string, so a
 * zero-initialised pair means what it always meant. */
enum ldg_vtype {
	LDG_V_STR = 0,
	LDG_V_JSON = 1
};

/* A key with a value, or with value NULL meaning "unset". Two values are
 * equal iff type and text are equal. */
struct ldg_kv {
	char *key;
	char *value;	     /* NULL = unset */
	enum ldg_vtype type; /* LDG_V_JSON: value is the canonical JSON text */
};

struct ldg_entry {
	uint64_t version;
	uint64_t seq;
	uint8_t prev[LDG_HASH_BYTES];
	uint64_t time_ns;
	uint8_t signer[LDG_KEYID_BYTES];
	enum ldg_kind kind;
	char *target; /* "" for kinds without a target */
	struct ldg_kv *changes;
	size_t n_changes;
	char *reason;
	struct ldg_kv *meta;
	size_t n_meta;
	uint8_t authz[LDG_HASH_BYTES]; /* version 2 only */
	uint8_t sig[LDG_SIG_BYTES];
};

const char *ldg_kind_name(enum ldg_kind k);
int ldg_kind_parse(const char *s, enum ldg_kind *out);
/* True for kinds that change a target's values. */
bool ldg_kind_changes_values(enum ldg_kind k);
/* True for the kinds whose target is a scope (policy, freeze,
 * unfreeze), and for those that name a proposal (approve, withdraw). */
bool ldg_kind_on_scope(enum ldg_kind k);
bool ldg_kind_on_proposal(enum ldg_kind k);

/* A new, unsigned entry of version 1; a writer that knows the
 * authorisation state after it makes it version 2 (ldg_authz_stamp()).
 * NULL on allocation failure. */
struct ldg_entry *ldg_entry_new(enum ldg_kind kind, const char *target,
				const char *reason);
void ldg_entry_free(struct ldg_entry *e);

/* Adds a change (value NULL = unset) or a metadata pair, keeping the list
 * sorted. -EEXIST when the key is already there, -ENOMEM, -EINVAL when
 * the list is full. Names are checked by ldg_entry_check(), not here. */
int ldg_entry_add_change(struct ldg_entry *e, const char *key,
			 const char *value);
int ldg_entry_add_meta(struct ldg_entry *e, const char *key, const char *value);
/* Adds a change whose value is the user's JSON text (KEY:=JSON),
 * canonicalised by ldg_value_from_json(): a JSON string becomes a plain
 * string change. -EINVAL with the reason (not a value, or a full list),
 * -EEXIST with the key, -ENOMEM. An entry that gets a typed value is
 * version 2 from then on (only version 2 holds them; a writer stamps its
 * authz, ldg_authz_stamp()); whether its kind may hold one is
 * ldg_entry_check()'s to say. */
int ldg_entry_add_typed(struct ldg_entry *e, const char *key, const char *json,
			struct ldg_err *err);
/* Adds a change of a known type and canonical text (a rollback
 * restoring one, an applied entry recording one): like
 * ldg_entry_add_change(), and version 2 as above for a typed one. */
int ldg_entry_add_value(struct ldg_entry *e, const char *key,
			enum ldg_vtype type, const char *value);
/* Whether two values (NULL = unset) are the same: type and text. */
bool ldg_value_eq(enum ldg_vtype ta, const char *a, enum ldg_vtype tb,
		  const char *b);

/* Finds key in a sorted list; NULL when absent. */
const struct ldg_kv *ldg_kv_find(const struct ldg_kv *kv, size_t n,
				 const char *key);

/* Checks every field rule and the kind's rules; -EINVAL with a reason. */
int ldg_entry_check(const struct ldg_entry *e, struct ldg_err *err);

/* Canonical bytes: with_sig selects stored bytes or the signed body.
 * *out is malloc'd; caller frees. -EINVAL for a typed value whose text
 * is not canonical (ldg_entry_check() says which), -ENOMEM. */
int ldg_entry_encode(const struct ldg_entry *e, bool with_sig, uint8_t **out,
		     size_t *len);

/* Checks e and returns in *msg (malloc'd; caller frees) the exact bytes
 * its signer signs for origin (docs/format.md section 5): for a signer
 * whose secret key is elsewhere. -EINVAL when the entry breaks a rule or
 * would be larger than LDG_BUNDLE_ENTRY_MAX (tlog.h), the cap of every
 * new entry; LDG_ENTRY_MAX is what the decoder takes (older entries). */
int ldg_entry_message(const struct ldg_entry *e, const char *origin,
		      uint8_t **msg, size_t *mlen, struct ldg_err *err);

/* Sets e->signer, signs the body for origin, and returns the stored bytes
 * in *out (malloc'd; caller frees). */
int ldg_entry_sign(struct ldg_entry *e, const char *origin,
		   const struct ldg_signer *k, uint8_t **out, size_t *len,
		   struct ldg_err *err);

/* Puts sig in the signature's place in buf, the stored bytes of an
 * entry signed elsewhere (a draft from ldg_entry_prepare(), whose
 * signature is zero): -EBADMSG when buf is not framed as an entry (an
 * entry's array header first, its signature field last). The fields
 * between are not checked here: ldg_entry_decode() and the append do
 * that. */
int ldg_entry_put_sig(uint8_t *buf, size_t len,
		      const uint8_t sig[LDG_SIG_BYTES]);

/* Strict decode of stored bytes; -EBADMSG with a reason on any deviation
 * from the canonical encoding or the field rules. */
__attribute__((warn_unused_result)) int ldg_entry_decode(const uint8_t *buf,
							 size_t len,
							 struct ldg_entry **out,
							 struct ldg_err *err);

/* Checks the signature of stored bytes for origin and pk without decoding
 * the rest; 0 or -EBADMSG. Thread-safe. */
__attribute__((warn_unused_result)) int
ldg_entry_verify_sig(const uint8_t *buf, size_t len, const char *origin,
		     const uint8_t pk[LDG_PK_BYTES]);

/* SHA-256(0x00 || buf). */
void ldg_entry_hash(const uint8_t *buf, size_t len,
		    uint8_t out[LDG_HASH_BYTES]);

/* A batch of entries on the wire (POST /api/v1/entries, and the pages
 * `ledger mirror` reads): a msgpack array of bin, each one entry's
 * stored bytes. Splits buf into pointers into it, without allocating
 * (a declared size is never trusted before the bytes are there): at
 * most max items (0 is fine), each at most LDG_ENTRY_MAX bytes, and
 * nothing after the last. -EBADMSG with the reason. */
int ldg_batch_split(const uint8_t *buf, size_t len, size_t max,
		    const uint8_t **items, size_t *lens, size_t *n,
		    struct ldg_err *err);

/* The encoder of that form, the one both sides use: n items (0 is
 * fine) as a msgpack array of bin, in *out (malloc'd; caller frees),
 * *len bytes; ldg_batch_split() gives the items back. -EINVAL with the
 * reason for an item larger than LDG_ENTRY_MAX (the splitter would
 * refuse it), -ENOMEM. The bytes of each item are copied as they are. */
int ldg_batch_join(const uint8_t *const *items, const size_t *lens, size_t n,
		   uint8_t **out, size_t *len, struct ldg_err *err);

/* True when buf is a batch (an array whose first item is a bin, or an
 * empty array) rather than one entry (an array whose first item is its
 * version, a positive fixint): how POST /api/v1/entries tells the two
 * apart. Only the first bytes are looked at; the splitter or the
 * entry's decoder checks the rest. */
bool ldg_batch_is(const uint8_t *buf, size_t len);

#endif
