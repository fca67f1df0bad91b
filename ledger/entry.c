#include <errno.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "names.h"
#include "tlog.h"
#include "util.h"
#include "value.h"
#include "window.h"

#define SIG_DOMAIN "ledger/v1/entry"
#define SIG_TRAILER 66 /* 0xc4 0x40 + 64 signature bytes */

static const char *const kind_names[LDG_KIND_COUNT] = {
	[LDG_KIND_INIT] = "init",
	[LDG_KIND_SET] = "set",
	[LDG_KIND_UNSET] = "unset",
	[LDG_KIND_ROLLBACK] = "rollback",
	[LDG_KIND_LOCK] = "lock",
	[LDG_KIND_UNLOCK] = "unlock",
	[LDG_KIND_KEY_ADD] = "key-add",
	[LDG_KIND_KEY_REVOKE] = "key-revoke",
	[LDG_KIND_APPLIED] = "applied",
	[LDG_KIND_APPLY_FAILED] = "apply-failed",
	[LDG_KIND_POLICY] = "policy",
	[LDG_KIND_FREEZE] = "freeze",
	[LDG_KIND_UNFREEZE] = "unfreeze",
	[LDG_KIND_APPROVE] = "approve",
	[LDG_KIND_WITHDRAW] = "withdraw",
	[LDG_KIND_DRIFT] = "drift",
};

const char *ldg_kind_name(enum ldg_kind k)
{
	return (unsigned)k < LDG_KIND_COUNT ? kind_names[k] : "?";
}

int ldg_kind_parse(const char *s, enum ldg_kind *out)
{
	for (int k = 0; k < LDG_KIND_COUNT; k++) {
		if (strcmp(s, kind_names[k]) == 0) {
			*out = (enum ldg_kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

bool ldg_kind_on_scope(enum ldg_kind k)
{
	return k == LDG_KIND_POLICY || k == LDG_KIND_FREEZE ||
	       k == LDG_KIND_UNFREEZE;
}

bool ldg_kind_on_proposal(enum ldg_kind k)
{
	return k == LDG_KIND_APPROVE || k == LDG_KIND_WITHDRAW;
}

bool ldg_kind_changes_values(enum ldg_kind k)
{
	return k == LDG_KIND_SET || k == LDG_KIND_UNSET ||
	       k == LDG_KIND_ROLLBACK;
}

struct ldg_entry *ldg_entry_new(enum ldg_kind kind, const char *target,
				const char *reason)
{
	struct ldg_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->version = LDG_FORMAT_V1;
	e->kind = kind;
	e->target = strdup(target ? target : "");
	e->reason = strdup(reason ? reason : "");
	if (!e->target || !e->reason) {
		ldg_entry_free(e);
		return NULL;
	}
	return e;
}

static void kv_free(struct ldg_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void ldg_entry_free(struct ldg_entry *e)
{
	if (!e)
		return;
	free(e->target);
	free(e->reason);
	kv_free(e->changes, e->n_changes);
	kv_free(e->meta, e->n_meta);
	free(e);
}

/* Binary search: index of key, or -(insertion point) - 1. */
static long kv_search(const struct ldg_kv *kv, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(kv[mid].key, key);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

const struct ldg_kv *ldg_kv_find(const struct ldg_kv *kv, size_t n,
				 const char *key)
{
	long i = kv_search(kv, n, key);

	return i >= 0 ? &kv[i] : NULL;
}

static int kv_insert(struct ldg_kv **kv, size_t *n, size_t max, const char *key,
		     enum ldg_vtype type, const char *value)
{
	long pos = kv_search(*kv, *n, key);
	struct ldg_kv *grown;
	char *k, *v = NULL;
	size_t at;

	if (pos >= 0)
		return -EEXIST;
	if (*n >= max)
		return -EINVAL;
	at = (size_t)(-pos - 1);
	k = strdup(key);
	if (value)
		v = strdup(value);
	grown = realloc(*kv, (*n + 1) * sizeof(**kv));
	if (!k || (value && !v) || !grown) {
		free(k);
		free(v);
		if (grown)
			*kv = grown;
		return -ENOMEM;
	}
	*kv = grown;
	memmove(&grown[at + 1], &grown[at], (*n - at) * sizeof(*grown));
	grown[at].key = k;
	grown[at].value = v;
	grown[at].type = value ? type : LDG_V_STR;
	(*n)++;
	return 0;
}

int ldg_entry_add_change(struct ldg_entry *e, const char *key,
			 const char *value)
{
	return kv_insert(&e->changes, &e->n_changes, LDG_CHANGES_MAX, key,
			 LDG_V_STR, value);
}

/* Only a version 2 entry holds typed values: one that gets one is
 * version 2 from then on, so that the writer's check before it stamps
 * the authorisation (ldg_authz_stamp()) judges it as what it will be. */
static int add_value(struct ldg_entry *e, const char *key, enum ldg_vtype type,
		     const char *value)
{
	int rc = kv_insert(&e->changes, &e->n_changes, LDG_CHANGES_MAX, key,
			   type, value);

	if (!rc && value && type == LDG_V_JSON)
		e->version = LDG_FORMAT_V2;
	return rc;
}

int ldg_entry_add_value(struct ldg_entry *e, const char *key,
			enum ldg_vtype type, const char *value)
{
	return add_value(e, key, type, value);
}

int ldg_entry_add_meta(struct ldg_entry *e, const char *key, const char *value)
{
	return kv_insert(&e->meta, &e->n_meta, LDG_META_MAX, key, LDG_V_STR,
			 value);
}

int ldg_entry_add_typed(struct ldg_entry *e, const char *key, const char *json,
			struct ldg_err *err)
{
	enum ldg_vtype type;
	char *text;
	int rc = ldg_value_from_json(json, &type, &text, err);

	if (rc)
		return rc;
	rc = add_value(e, key, type, text);
	free(text);
	if (rc == -EEXIST)
		return ldg_err_set(err, rc, "key \"%.80s\" given twice", key);
	if (rc == -EINVAL)
		return ldg_err_set(err, rc, "more than %d changes",
				   LDG_CHANGES_MAX);
	if (rc)
		return ldg_err_set(err, rc, "out of memory");
	return 0;
}

bool ldg_value_eq(enum ldg_vtype ta, const char *a, enum ldg_vtype tb,
		  const char *b)
{
	if (!a || !b)
		return a == b;
	return ta == tb && !strcmp(a, b);
}

static int check_sorted(const struct ldg_kv *kv, size_t n, const char *what,
			struct ldg_err *err)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(kv[i - 1].key, kv[i].key) >= 0)
			return ldg_err_set(err, -EINVAL,
					   "%s are not sorted and unique at "
					   "\"%.80s\"",
					   what, kv[i].key);
	return 0;
}

static int check_role(const char *role, struct ldg_err *err)
{
	if (strcmp(role, "admin") && strcmp(role, "deployer") &&
	    strcmp(role, "applier"))
		return ldg_err_set(err, -EINVAL,
				   "invalid role \"%.40s\": use admin, "
				   "deployer or applier",
				   role);
	return 0;
}

/* Scopes travel as one value: globs separated by single spaces. */
static int check_scopes(const char *scopes, struct ldg_err *err)
{
	char buf[LDG_VALUE_MAX + 1];
	char *save = NULL;
	size_t len = strlen(scopes);

	if (len == 0 || len > LDG_VALUE_MAX || scopes[0] == ' ' ||
	    scopes[len - 1] == ' ' || strstr(scopes, "  "))
		return ldg_err_set(err, -EINVAL, "invalid scope list \"%.80s\"",
				   scopes);
	memcpy(buf, scopes, len + 1);
	for (char *t = strtok_r(buf, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		if (ldg_check_scope(t, err))
			return -EINVAL;
	return 0;
}

/* The fixed field set of init, key-add and key-revoke entries. */
static int check_fields(const struct ldg_entry *e, const char *const *names,
			size_t n, struct ldg_err *err)
{
	if (e->n_changes != n)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e->changes[i].key, names[i]) || !e->changes[i].value)
			goto bad;
	return 0;
bad:
	return ldg_err_set(err, -EINVAL,
			   "%s entry must carry exactly the "
			   "fields %s%s%s%s%s%s%s",
			   ldg_kind_name(e->kind), names[0], n > 1 ? ", " : "",
			   n > 1 ? names[1] : "", n > 2 ? ", " : "",
			   n > 2 ? names[2] : "", n > 3 ? ", " : "",
			   n > 3 ? names[3] : "");
}

static int check_key_fields(const struct ldg_entry *e, struct ldg_err *err)
{
	static const char *const init_f[] = { "origin", "role", "scopes",
					      "vkey" };
	static const char *const add_f[] = { "role", "scopes", "vkey" };
	static const char *const revoke_f[] = { "name" };
	struct ldg_vkey vk;
	const struct ldg_kv *kv;

	if (e->kind == LDG_KIND_KEY_REVOKE) {
		if (check_fields(e, revoke_f, 1, err))
			return -EINVAL;
		return ldg_check_keyname(e->changes[0].value, err);
	}
	if (e->kind == LDG_KIND_INIT) {
		if (check_fields(e, init_f, 4, err))
			return -EINVAL;
		if (ldg_check_origin(e->changes[0].value, err))
			return -EINVAL;
		if (strcmp(e->changes[1].value, "admin") ||
		    strcmp(e->changes[2].value, "*"))
			return ldg_err_set(err, -EINVAL,
					   "init must record an admin key with "
					   "scope '*'");
	} else if (check_fields(e, add_f, 3, err)) {
		return -EINVAL;
	}
	kv = ldg_kv_find(e->changes, e->n_changes, "role");
	if (check_role(kv->value, err))
		return -EINVAL;
	kv = ldg_kv_find(e->changes, e->n_changes, "scopes");
	if (check_scopes(kv->value, err))
		return -EINVAL;
	kv = ldg_kv_find(e->changes, e->n_changes, "vkey");
	return ldg_vkey_parse(kv->value, &vk, err) ? -EINVAL : 0;
}

static int check_value_changes(const struct ldg_entry *e, struct ldg_err *err)
{
	bool need_value = e->kind == LDG_KIND_SET ||
			  e->kind == LDG_KIND_APPLIED ||
			  e->kind == LDG_KIND_APPLY_FAILED;

	if (e->n_changes == 0 && ldg_kind_changes_values(e->kind))
		return ldg_err_set(err, -EINVAL, "%s entry without changes",
				   ldg_kind_name(e->kind));
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct ldg_kv *c = &e->changes[i];
		if (ldg_check_key(c->key, err))
			return -EINVAL;
		if (c->value && c->type == LDG_V_JSON) {
			if (ldg_value_check_json(c->value, err)) {
				ldg_err_prefix(err, "key \"%s\"", c->key);
				return -EINVAL;
			}
		} else if (c->value &&
			   ldg_check_value(c->value, strlen(c->value), err)) {
			return -EINVAL;
		}
		if (need_value && !c->value)
			return ldg_err_set(err, -EINVAL,
					   "%s entry unsets key \"%s\"",
					   ldg_kind_name(e->kind), c->key);
		if (e->kind == LDG_KIND_UNSET && c->value)
			return ldg_err_set(err, -EINVAL,
					   "unset entry sets key \"%s\"",
					   c->key);
	}
	return 0;
}

/* ---- the kinds of promotion policies (docs/format.md 8b) ---- */

/* A change's value as a decimal in [min, max] (digits, no leading zero). */
static int check_dec(const struct ldg_entry *e, const char *key, uint64_t min,
		     uint64_t max, struct ldg_err *err)
{
	const struct ldg_kv *kv = ldg_kv_find(e->changes, e->n_changes, key);
	uint64_t v;

	if (!kv || !kv->value || ldg_parse_dec(kv->value, min, max, &v))
		return ldg_err_set(err, -EINVAL,
				   "%s entry: %s must be a number from %llu "
				   "to %llu",
				   ldg_kind_name(e->kind), key,
				   (unsigned long long)min,
				   (unsigned long long)max);
	return 0;
}

/* True when the changes' keys are exactly names (sorted), all with a
 * value. */
static bool has_exactly(const struct ldg_entry *e, const char *const *names,
			size_t n)
{
	if (e->n_changes != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e->changes[i].key, names[i]) || !e->changes[i].value)
			return false;
	return true;
}

static int check_policy(const struct ldg_entry *e, struct ldg_err *err)
{
	const struct ldg_kv *c;
	bool soak = false, from = false;

	for (size_t i = 0; i < e->n_changes; i++) {
		c = &e->changes[i];
		if (!c->value)
			return ldg_err_set(err, -EINVAL,
					   "policy entry unsets \"%.80s\"",
					   c->key);
		if (!strcmp(c->key, "approvals")) {
			if (check_dec(e, c->key, 1, LDG_APPROVALS_MAX, err))
				return -EINVAL;
		} else if (!strcmp(c->key, "rollbacks")) {
			if (strcmp(c->value, "gated"))
				return ldg_err_set(err, -EINVAL,
						   "policy entry: rollbacks "
						   "must be \"gated\"");
		} else if (!strcmp(c->key, "soak")) {
			if (check_dec(e, c->key, LDG_DURATION_MIN,
				      LDG_DURATION_MAX, err))
				return -EINVAL;
			soak = true;
		} else if (!strcmp(c->key, "soak-from")) {
			if (ldg_check_cluster(c->value, err))
				return -EINVAL;
			from = true;
		} else {
			return ldg_err_set(err, -EINVAL,
					   "policy entry: unknown field "
					   "\"%.80s\"",
					   c->key);
		}
	}
	if (soak != from)
		return ldg_err_set(err, -EINVAL,
				   "policy entry: soak and soak-from go "
				   "together");
	return 0;
}

static int check_freeze(const struct ldg_entry *e, struct ldg_err *err)
{
	static const char *const abs_f[] = { "from", "until" };
	static const char *const cron_f[] = { "cron", "duration", "tz" };
	struct ldg_cron cron;
	int64_t from, until;

	if (has_exactly(e, abs_f, 2)) {
		if (ldg_utc_parse(e->changes[0].value, &from, err) ||
		    ldg_utc_parse(e->changes[1].value, &until, err)) {
			ldg_err_prefix(err, "freeze entry");
			return -EINVAL;
		}
		if (until <= from)
			return ldg_err_set(err, -EINVAL,
					   "freeze entry: until is not after "
					   "from");
		return 0;
	}
	if (!has_exactly(e, cron_f, 3))
		return ldg_err_set(err, -EINVAL,
				   "freeze entry must carry exactly from, "
				   "until or cron, duration, tz");
	if (strlen(e->changes[0].value) > LDG_CRON_MAX)
		return ldg_err_set(err, -EINVAL,
				   "freeze entry: a cron schedule has at most "
				   "%d bytes",
				   LDG_CRON_MAX);
	if (ldg_cron_parse(e->changes[0].value, &cron, err)) {
		ldg_err_prefix(err, "freeze entry");
		return -EINVAL;
	}
	if (check_dec(e, "duration", LDG_DURATION_MIN, LDG_DURATION_MAX, err))
		return -EINVAL;
	if (!ldg_tz_name_ok(e->changes[2].value))
		return ldg_err_set(err, -EINVAL,
				   "freeze entry: \"%.80s\" is not a time "
				   "zone name",
				   e->changes[2].value);
	return 0;
}

/* drift: exactly status, drifted or in-sync (docs/format.md 4). The
 * metadata diff and checked-seq are free-form to the decoder, like
 * desired-seq on applied: values, checked as every metadata value. */
static int check_drift(const struct ldg_entry *e, struct ldg_err *err)
{
	static const char *const status_f[] = { "status" };

	if (e->version < LDG_FORMAT_V2)
		return ldg_err_set(err, -EINVAL,
				   "drift entry in format version 1");
	if (!has_exactly(e, status_f, 1))
		return ldg_err_set(err, -EINVAL,
				   "drift entry must carry exactly the field "
				   "status");
	if (strcmp(e->changes[0].value, LDG_DRIFTED) &&
	    strcmp(e->changes[0].value, LDG_IN_SYNC))
		return ldg_err_set(err, -EINVAL,
				   "drift entry: status must be \"" LDG_DRIFTED
				   "\" or \"" LDG_IN_SYNC "\", not \"%.40s\"",
				   e->changes[0].value);
	return 0;
}

/* policy, freeze, unfreeze: on a scope; approve, withdraw: a proposal. */
static int check_gov(const struct ldg_entry *e, struct ldg_err *err)
{
	static const char *const window_f[] = { "window" };
	static const char *const proposal_f[] = { "proposal" };

	if (e->version < LDG_FORMAT_V2)
		return ldg_err_set(err, -EINVAL, "%s entry in format version 1",
				   ldg_kind_name(e->kind));
	if (ldg_kind_on_proposal(e->kind)) {
		if (ldg_check_target(e->target, err))
			return -EINVAL;
		if (!has_exactly(e, proposal_f, 1))
			return ldg_err_set(err, -EINVAL,
					   "%s entry must carry exactly the "
					   "field proposal",
					   ldg_kind_name(e->kind));
		return check_dec(e, "proposal", 2, INT64_MAX, err);
	}
	if (ldg_check_scope(e->target, err))
		return -EINVAL;
	if (e->kind == LDG_KIND_POLICY)
		return check_policy(e, err);
	if (e->kind == LDG_KIND_FREEZE)
		return check_freeze(e, err);
	if (!has_exactly(e, window_f, 1))
		return ldg_err_set(err, -EINVAL,
				   "unfreeze entry must carry exactly the "
				   "field window");
	return check_dec(e, "window", 2, INT64_MAX, err);
}

/* Typed values only as a change's value in a version 2 entry of a kind
 * that sets values (docs/format.md 3.2); their text is value.c's to
 * check. */
static int check_typed_places(const struct ldg_entry *e, struct ldg_err *err)
{
	bool kind_ok =
		e->kind == LDG_KIND_SET || e->kind == LDG_KIND_ROLLBACK ||
		e->kind == LDG_KIND_APPLIED || e->kind == LDG_KIND_APPLY_FAILED;

	for (size_t i = 0; i < e->n_meta; i++)
		if (e->meta[i].type != LDG_V_STR)
			return ldg_err_set(err, -EINVAL,
					   "typed value in metadata \"%.80s\"",
					   e->meta[i].key);
	for (size_t i = 0; i < e->n_changes; i++) {
		if (e->changes[i].type == LDG_V_STR || !e->changes[i].value)
			continue;
		if (e->version < LDG_FORMAT_V2)
			return ldg_err_set(err, -EINVAL,
					   "typed value in a version 1 entry "
					   "(key \"%.80s\")",
					   e->changes[i].key);
		if (!kind_ok)
			return ldg_err_set(err, -EINVAL,
					   "typed value in %s (key \"%.80s\")",
					   ldg_kind_name(e->kind),
					   e->changes[i].key);
	}
	return 0;
}

int ldg_entry_check(const struct ldg_entry *e, struct ldg_err *err)
{
	const struct ldg_kv *rb;
	uint64_t to;

	if (e->version != LDG_FORMAT_V1 && e->version != LDG_FORMAT_V2)
		return ldg_err_set(err, -EINVAL, "unknown format version %llu",
				   (unsigned long long)e->version);
	if (e->seq < 1 || e->seq > INT64_MAX)
		return ldg_err_set(err, -EINVAL, "seq out of range");
	if ((unsigned)e->kind >= LDG_KIND_COUNT)
		return ldg_err_set(err, -EINVAL, "unknown kind");
	if ((e->seq == 1) != (e->kind == LDG_KIND_INIT))
		return ldg_err_set(err, -EINVAL,
				   "an init entry is seq 1 and only seq 1");
	if (e->seq == 1 && !sodium_is_zero(e->prev, LDG_HASH_BYTES))
		return ldg_err_set(err, -EINVAL,
				   "seq 1 must have an all-zero prev");
	if (ldg_check_reason(e->reason, err))
		return -EINVAL;
	if (check_sorted(e->changes, e->n_changes, "changes", err) ||
	    check_sorted(e->meta, e->n_meta, "metadata keys", err))
		return -EINVAL;
	if (check_typed_places(e, err))
		return -EINVAL;
	for (size_t i = 0; i < e->n_meta; i++) {
		const struct ldg_kv *m = &e->meta[i];
		if (ldg_check_key(m->key, err) || !m->value ||
		    ldg_check_value(m->value, strlen(m->value), err))
			return ldg_err_set(err, -EINVAL,
					   "invalid metadata \"%.80s\"",
					   m->key);
	}

	switch (e->kind) {
	case LDG_KIND_POLICY:
	case LDG_KIND_FREEZE:
	case LDG_KIND_UNFREEZE:
	case LDG_KIND_APPROVE:
	case LDG_KIND_WITHDRAW:
		return check_gov(e, err);
	case LDG_KIND_INIT:
	case LDG_KIND_KEY_ADD:
	case LDG_KIND_KEY_REVOKE:
		if (e->target[0])
			return ldg_err_set(err, -EINVAL,
					   "%s entry must not name a target",
					   ldg_kind_name(e->kind));
		return check_key_fields(e, err);
	case LDG_KIND_APPLIED:
	case LDG_KIND_APPLY_FAILED:
	case LDG_KIND_DRIFT:
		if (!strchr(e->target, '/')) {
			if (ldg_check_cluster(e->target, err))
				return -EINVAL;
		} else if (ldg_check_target(e->target, err)) {
			return -EINVAL;
		}
		if (e->kind == LDG_KIND_DRIFT)
			return check_drift(e, err);
		return check_value_changes(e, err);
	case LDG_KIND_LOCK:
	case LDG_KIND_UNLOCK:
		if (ldg_check_target(e->target, err))
			return -EINVAL;
		if (e->n_changes)
			return ldg_err_set(err, -EINVAL,
					   "%s entry with changes",
					   ldg_kind_name(e->kind));
		return 0;
	case LDG_KIND_ROLLBACK:
		rb = ldg_kv_find(e->meta, e->n_meta, "rollback-to");
		if (!rb || ldg_parse_seq(rb->value, &to) || to >= e->seq)
			return ldg_err_set(err, -EINVAL,
					   "rollback entry needs metadata "
					   "rollback-to=SEQ before its own seq");
		/* fall through */
	default:
		if (ldg_check_target(e->target, err))
			return -EINVAL;
		return check_value_changes(e, err);
	}
}

/* The fields of a stored entry of version v (the signature included). */
static size_t entry_fields(uint64_t v)
{
	return v == LDG_FORMAT_V2 ? LDG_FIELDS + 1 : LDG_FIELDS;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void pack_bin(msgpack_packer *pk, const uint8_t *b, size_t len)
{
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, b, len);
}

/* -EINVAL when a typed value's text is not canonical (value.h). */
static int pack_kvs(msgpack_packer *pk, const struct ldg_kv *kv, size_t n)
{
	int rc;

	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(pk, kv[i].value ? 2 : 1);
		pack_str(pk, kv[i].key);
		if (!kv[i].value)
			continue;
		rc = ldg_value_pack(pk, kv[i].type, kv[i].value);
		if (rc)
			return rc;
	}
	return 0;
}

int ldg_entry_encode(const struct ldg_entry *e, bool with_sig, uint8_t **out,
		     size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t fields = entry_fields(e->version);
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, with_sig ? fields : fields - 1);
	msgpack_pack_uint64(&pk, e->version);
	msgpack_pack_uint64(&pk, e->seq);
	pack_bin(&pk, e->prev, LDG_HASH_BYTES);
	msgpack_pack_uint64(&pk, e->time_ns);
	pack_bin(&pk, e->signer, LDG_KEYID_BYTES);
	pack_str(&pk, ldg_kind_name(e->kind));
	pack_str(&pk, e->target);
	rc = pack_kvs(&pk, e->changes, e->n_changes);
	pack_str(&pk, e->reason);
	if (!rc)
		rc = pack_kvs(&pk, e->meta, e->n_meta);
	if (e->version == LDG_FORMAT_V2)
		pack_bin(&pk, e->authz, LDG_HASH_BYTES);
	if (with_sig)
		pack_bin(&pk, e->sig, LDG_SIG_BYTES);
	if (rc) {
		msgpack_sbuffer_destroy(&sb);
		return rc;
	}
	if (!sb.data) /* msgpack_sbuffer_write failed to allocate */
		return -ENOMEM;
	*out = (uint8_t *)sb.data;
	*len = sb.size;
	return 0;
}

/* "ledger/v1/entry" 0x00 origin 0x00 body, for an entry of n fields
 * (the body's array has one less); *msg is malloc'd. */
static int signing_message(const char *origin, size_t n, const uint8_t *fields,
			   size_t flen, uint8_t **msg, size_t *mlen)
{
	size_t dlen = sizeof(SIG_DOMAIN); /* includes the NUL separator */
	size_t olen = strlen(origin) + 1;
	uint8_t *m = malloc(dlen + olen + 1 + flen);

	if (!m)
		return -ENOMEM;
	memcpy(m, SIG_DOMAIN, dlen);
	memcpy(m + dlen, origin, olen);
	m[dlen + olen] = (uint8_t)(0x90 | (n - 1)); /* fixarray(10 or 11) */
	memcpy(m + dlen + olen + 1, fields, flen);
	*msg = m;
	*mlen = dlen + olen + 1 + flen;
	return 0;
}

int ldg_entry_message(const struct ldg_entry *e, const char *origin,
		      uint8_t **msg, size_t *mlen, struct ldg_err *err)
{
	uint8_t *body = NULL;
	size_t blen;
	int rc = ldg_entry_check(e, err);

	if (rc)
		return rc;
	rc = ldg_entry_encode(e, false, &body, &blen);
	if (!rc)
		rc = signing_message(origin, entry_fields(e->version), body + 1,
				     blen - 1, msg, mlen);
	free(body);
	if (rc)
		return ldg_err_set(err, rc, "out of memory");
	/* a new entry must fit an entry bundle's 16-bit length (tlog.h);
	 * the decoder still takes older ones up to LDG_ENTRY_MAX */
	if (blen + 2 + LDG_SIG_BYTES > LDG_BUNDLE_ENTRY_MAX) {
		free(*msg);
		*msg = NULL;
		return ldg_err_set(err, -EINVAL,
				   "entry too large: %zu bytes, a new entry "
				   "is at most %u",
				   blen + 2 + LDG_SIG_BYTES,
				   LDG_BUNDLE_ENTRY_MAX);
	}
	return 0;
}

int ldg_entry_sign(struct ldg_entry *e, const char *origin,
		   const struct ldg_signer *k, uint8_t **out, size_t *len,
		   struct ldg_err *err)
{
	uint8_t *msg = NULL;
	size_t mlen;
	int rc;

	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	rc = ldg_entry_message(e, origin, &msg, &mlen, err);
	if (rc)
		return rc;
	rc = ldg_signer_sign(k, msg, mlen, e->sig);
	if (rc) {
		ldg_err_set(err, rc, "signing failed");
		goto out_free;
	}
	rc = ldg_entry_encode(e, true, out, len);
	if (rc)
		ldg_err_set(err, rc, "out of memory");
out_free:
	free(msg);
	return rc;
}

/* Whether buf is framed as a stored entry: the array header of a
 * version 1 or 2 entry first, the signature field (bin 8 of
 * LDG_SIG_BYTES) last. The fields between are not looked at. */
static bool ends_with_sig(const uint8_t *buf, size_t len)
{
	return len >= 1 + SIG_TRAILER &&
	       (buf[0] == (0x90 | LDG_FIELDS) ||
		buf[0] == (0x90 | (LDG_FIELDS + 1))) &&
	       buf[len - SIG_TRAILER] == 0xc4 &&
	       buf[len - SIG_TRAILER + 1] == LDG_SIG_BYTES;
}

int ldg_entry_put_sig(uint8_t *buf, size_t len,
		      const uint8_t sig[LDG_SIG_BYTES])
{
	if (!ends_with_sig(buf, len))
		return -EBADMSG;
	memcpy(buf + len - LDG_SIG_BYTES, sig, LDG_SIG_BYTES);
	return 0;
}

int ldg_entry_verify_sig(const uint8_t *buf, size_t len, const char *origin,
			 const uint8_t pk[LDG_PK_BYTES])
{
	uint8_t *msg;
	size_t mlen;
	int rc;

	if (!ends_with_sig(buf, len))
		return -EBADMSG;
	if (signing_message(origin, buf[0] & 0x0f, buf + 1,
			    len - 1 - SIG_TRAILER, &msg, &mlen))
		return -ENOMEM;
	rc = ldg_sig_verify(pk, msg, mlen, buf + len - LDG_SIG_BYTES);
	free(msg);
	return rc;
}

void ldg_entry_hash(const uint8_t *buf, size_t len, uint8_t out[LDG_HASH_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t leaf = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &leaf, 1);
	crypto_hash_sha256_update(&st, buf, len);
	crypto_hash_sha256_final(&st, out);
}

/* ---- strict decoding ---- */

/* msgpack-c allocates for a container's declared size before it reads
 * the elements, so a five-byte array32 header could ask for gigabytes.
 * Before handing bytes to it, check only this: every declared size fits
 * in what is left of the input (an element takes at least one byte), and
 * nesting stays shallow. Types and values are msgpack-c's to read. */
static bool sizes_fit(const uint8_t *p, size_t len)
{
	size_t pending[16]; /* elements still to come, per open container */
	int depth = 0;
	size_t i = 0;

	pending[0] = 1;
	while (depth >= 0 && pending[depth] > 0) {
		uint8_t b;
		uint64_t n = 0, skip = 0, items = 0;
		size_t w = 0;

		if (i >= len)
			return false;
		b = p[i++];
		pending[depth]--;
		if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) {
			skip = 0; /* fixint, nil, bool */
		} else if (b >= 0xa0 && b <= 0xbf) {
			skip = b & 0x1f; /* fixstr */
		} else if (b >= 0x90 && b <= 0x9f) {
			items = b & 0x0f; /* fixarray */
		} else if (b >= 0x80 && b <= 0x8f) {
			items = 2u * (b & 0x0f); /* fixmap */
		} else {
			switch (b) {
			case 0xc4:
			case 0xd9:
				w = 1;
				break; /* bin8, str8 */
			case 0xc5:
			case 0xda:
				w = 2;
				break;
			case 0xc6:
			case 0xdb:
				w = 4;
				break;
			case 0xcc:
			case 0xd0:
				skip = 1;
				break;
			case 0xcd:
			case 0xd1:
				skip = 2;
				break;
			case 0xca:
			case 0xce:
			case 0xd2:
				skip = 4;
				break;
			case 0xcb:
			case 0xcf:
			case 0xd3:
				skip = 8;
				break;
			case 0xd4:
				skip = 2;
				break; /* fixext */
			case 0xd5:
				skip = 3;
				break;
			case 0xd6:
				skip = 5;
				break;
			case 0xd7:
				skip = 9;
				break;
			case 0xd8:
				skip = 17;
				break;
			case 0xc7:
				w = 1;
				skip = 1;
				break; /* ext: +type */
			case 0xc8:
				w = 2;
				skip = 1;
				break;
			case 0xc9:
				w = 4;
				skip = 1;
				break;
			case 0xdc:
			case 0xde:
				w = 2;
				break; /* array, map */
			case 0xdd:
			case 0xdf:
				w = 4;
				break;
			default:
				return false;
			}
		}
		if (w) {
			if (len - i < w)
				return false;
			for (size_t k = 0; k < w; k++)
				n = n << 8 | p[i + k];
			i += w;
			if (b == 0xdc || b == 0xdd)
				items = n;
			else if (b == 0xde || b == 0xdf)
				items = 2 * n;
			else
				skip += n;
		}
		if (skip > len - i || items > len - i)
			return false;
		i += skip;
		if (items) {
			if (depth + 1 >=
			    (int)(sizeof(pending) / sizeof(*pending)))
				return false;
			pending[++depth] = items;
		}
		while (depth > 0 && pending[depth] == 0)
			depth--;
	}
	return true;
}

static char *dup_str(const msgpack_object *o)
{
	char *s;

	if (o->type != MSGPACK_OBJECT_STR ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return NULL;
	s = malloc(o->via.str.size + 1);
	if (s) {
		memcpy(s, o->via.str.ptr, o->via.str.size);
		s[o->via.str.size] = '\0';
	}
	return s;
}

static bool is_uint(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

static bool is_bin(const msgpack_object *o, uint32_t size)
{
	return o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == size;
}

/* The pairs of the changes or metadata field (what); a value may be
 * typed here, and ldg_entry_check() says where it may not. */
static int decode_kvs(const msgpack_object *o, bool allow_unset, size_t max,
		      struct ldg_kv **out, size_t *n, const char *what,
		      struct ldg_err *err)
{
	const msgpack_object_array *a;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > max)
		goto bad;
	a = &o->via.array;
	if (a->size == 0)
		return 0;
	*out = calloc(a->size, sizeof(**out));
	if (!*out)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < a->size; i++) {
		const msgpack_object *p = &a->ptr[i];
		if (p->type != MSGPACK_OBJECT_ARRAY ||
		    p->via.array.size < (allow_unset ? 1u : 2u) ||
		    p->via.array.size > 2)
			goto bad;
		(*out)[i].key = dup_str(&p->via.array.ptr[0]);
		(*n)++;
		if (!(*out)[i].key)
			goto bad;
		if (p->via.array.size == 2 &&
		    ldg_value_unpack(&p->via.array.ptr[1], &(*out)[i].type,
				     &(*out)[i].value, err)) {
			ldg_err_prefix(err, "bad %s field: key \"%.80s\"", what,
				       (*out)[i].key);
			return -EBADMSG;
		}
	}
	return 0;
bad:
	return ldg_err_set(err, -EBADMSG, "bad %s field", what);
}

static int decode_fields(const msgpack_object *root, struct ldg_entry *e,
			 struct ldg_err *err)
{
	const msgpack_object *f;
	char *kind;
	size_t n;
	int rc;

	if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 1)
		return ldg_err_set(err, -EBADMSG, "not an array of fields");
	f = root->via.array.ptr;
	if (!is_uint(&f[0]))
		return ldg_err_set(err, -EBADMSG, "bad version field");
	e->version = f[0].via.u64;
	if (e->version != LDG_FORMAT_V1 && e->version != LDG_FORMAT_V2)
		return ldg_err_set(err, -EBADMSG, "unknown format version %llu",
				   (unsigned long long)e->version);
	n = entry_fields(e->version);
	if (root->via.array.size != n)
		return ldg_err_set(err, -EBADMSG,
				   "a version %llu entry is an array of %zu "
				   "fields",
				   (unsigned long long)e->version, n);
	if (e->version == LDG_FORMAT_V2) {
		if (!is_bin(&f[10], LDG_HASH_BYTES))
			return ldg_err_set(err, -EBADMSG,
					   "the authz field is not 32 bytes "
					   "of bin");
		memcpy(e->authz, f[10].via.bin.ptr, LDG_HASH_BYTES);
	}
	if (!is_uint(&f[1]) || !is_bin(&f[2], LDG_HASH_BYTES) ||
	    !is_uint(&f[3]) || !is_bin(&f[4], LDG_KEYID_BYTES) ||
	    !is_bin(&f[n - 1], LDG_SIG_BYTES))
		return ldg_err_set(err, -EBADMSG,
				   "a seq, prev, time, signer or signature "
				   "field has the wrong type or length");
	e->seq = f[1].via.u64;
	memcpy(e->prev, f[2].via.bin.ptr, LDG_HASH_BYTES);
	e->time_ns = f[3].via.u64;
	memcpy(e->signer, f[4].via.bin.ptr, LDG_KEYID_BYTES);
	memcpy(e->sig, f[n - 1].via.bin.ptr, LDG_SIG_BYTES);

	kind = dup_str(&f[5]);
	if (!kind)
		return ldg_err_set(err, -EBADMSG, "bad kind field");
	rc = ldg_kind_parse(kind, &e->kind);
	free(kind);
	if (rc)
		return ldg_err_set(err, -EBADMSG, "unknown kind");
	free(e->target);
	free(e->reason);
	e->target = dup_str(&f[6]);
	e->reason = dup_str(&f[8]);
	if (!e->target || !e->reason)
		return ldg_err_set(err, -EBADMSG,
				   "target or reason is not a string");
	rc = decode_kvs(&f[7], true, LDG_CHANGES_MAX, &e->changes,
			&e->n_changes, "changes", err);
	if (!rc)
		rc = decode_kvs(&f[9], false, LDG_META_MAX, &e->meta,
				&e->n_meta, "metadata", err);
	return rc;
}

int ldg_entry_decode(const uint8_t *buf, size_t len, struct ldg_entry **out,
		     struct ldg_err *err)
{
	msgpack_unpacked res;
	struct ldg_entry *e;
	uint8_t *again = NULL;
	size_t alen, off = 0;
	int rc;

	if (len > LDG_ENTRY_MAX)
		return ldg_err_set(err, -EBADMSG, "entry too large");
	if (!sizes_fit(buf, len))
		return ldg_err_set(err, -EBADMSG,
				   "not valid msgpack (truncated, or a size "
				   "larger than the entry)");
	e = ldg_entry_new(LDG_KIND_SET, "", "");
	if (!e)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	msgpack_unpacked_init(&res);
	if (msgpack_unpack_next(&res, (const char *)buf, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS) {
		rc = ldg_err_set(err, -EBADMSG, "not valid msgpack");
		goto out_free;
	}
	if (off != len) {
		rc = ldg_err_set(err, -EBADMSG, "%zu trailing bytes",
				 len - off);
		goto out_free;
	}
	rc = decode_fields(&res.data, e, err);
	if (rc)
		goto out_free;
	rc = ldg_entry_check(e, err);
	if (rc) {
		if (err)
			err->code =
				-EBADMSG; /* keep the reason, fix the code */
		rc = -EBADMSG;
		goto out_free;
	}
	/* The profile is canonical: anything but our own encoding of these
	 * fields (wider integers, str16 for short text, ...) is refused. */
	rc = ldg_entry_encode(e, true, &again, &alen);
	if (rc) {
		ldg_err_set(err, rc, "out of memory");
		goto out_free;
	}
	if (alen != len || memcmp(again, buf, len)) {
		rc = ldg_err_set(err, -EBADMSG, "non-canonical encoding");
		goto out_free;
	}
	*out = e;
	e = NULL;
out_free:
	free(again);
	msgpack_unpacked_destroy(&res);
	ldg_entry_free(e);
	return rc;
}

/* A big-endian unsigned of w bytes at b. */
static uint64_t be(const uint8_t *b, size_t w)
{
	uint64_t v = 0;

	for (size_t i = 0; i < w; i++)
		v = v << 8 | b[i];
	return v;
}

/* A msgpack array's header at buf: its item count and the offset of
 * its first item; -EBADMSG when buf does not start with one. */
static int array_head(const uint8_t *buf, size_t len, size_t *count, size_t *at)
{
	if (len >= 1 && buf[0] >= 0x90 && buf[0] <= 0x9f) {
		*count = buf[0] & 0x0f;
		*at = 1;
	} else if (len >= 3 && buf[0] == 0xdc) {
		*count = (size_t)be(buf + 1, 2);
		*at = 3;
	} else if (len >= 5 && buf[0] == 0xdd) {
		*count = (size_t)be(buf + 1, 4);
		*at = 5;
	} else {
		return -EBADMSG;
	}
	return 0;
}

bool ldg_batch_is(const uint8_t *buf, size_t len)
{
	size_t count, at;

	if (array_head(buf, len, &count, &at))
		return false;
	/* an entry's first item is its version, a positive fixint */
	return count == 0 || at >= len || (buf[at] >= 0xc4 && buf[at] <= 0xc6);
}

int ldg_batch_join(const uint8_t *const *items, const size_t *lens, size_t n,
		   uint8_t **out, size_t *len, struct ldg_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int bad;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++)
		if (lens[i] > LDG_ENTRY_MAX)
			return ldg_err_set(err, -EINVAL,
					   "batch item %zu: %zu "
					   "bytes, larger than an entry",
					   i, lens[i]);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bad = msgpack_pack_array(&pk, n);
	for (size_t i = 0; !bad && i < n; i++)
		bad = msgpack_pack_bin(&pk, lens[i]) ||
		      msgpack_pack_bin_body(&pk, items[i], lens[i]);
	if (bad) {
		msgpack_sbuffer_destroy(&sb);
		return ldg_err_set(err, -ENOMEM, "out of memory");
	}
	*out = (uint8_t *)sb.data; /* never empty: the array's header */
	*len = sb.size;
	return 0;
}

int ldg_batch_split(const uint8_t *buf, size_t len, size_t max,
		    const uint8_t **items, size_t *lens, size_t *n,
		    struct ldg_err *err)
{
	static const uint8_t bin_width[3] = { 1, 2, 4 }; /* c4 c5 c6 */
	size_t at, count;

	*n = 0;
	if (array_head(buf, len, &count, &at))
		return ldg_err_set(err, -EBADMSG,
				   "not a msgpack array of "
				   "entries");
	if (count > max)
		return ldg_err_set(err, -EBADMSG,
				   "a batch of %zu entries: at "
				   "most %zu",
				   count, max);
	for (size_t i = 0; i < count; i++) {
		size_t w, item;

		if (at >= len || buf[at] < 0xc4 || buf[at] > 0xc6)
			return ldg_err_set(err, -EBADMSG,
					   "batch item %zu is "
					   "not an entry's bytes (bin)",
					   i);
		w = bin_width[buf[at] - 0xc4];
		if (len - at - 1 < w)
			return ldg_err_set(err, -EBADMSG,
					   "batch item %zu is "
					   "cut short",
					   i);
		item = (size_t)be(buf + at + 1, w);
		at += 1 + w;
		if (item > LDG_ENTRY_MAX || item > len - at)
			return ldg_err_set(err, -EBADMSG,
					   "batch item %zu: %zu "
					   "bytes, %s",
					   i, item,
					   item > LDG_ENTRY_MAX
						   ? "larger than an entry"
						   : "more than were sent");
		items[i] = buf + at;
		lens[i] = item;
		at += item;
	}
	if (at != len)
		return ldg_err_set(err, -EBADMSG, "%zu bytes after the batch",
				   len - at);
	*n = count;
	return 0;
}
