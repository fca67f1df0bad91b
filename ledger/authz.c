#include <errno.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"

#define AUTHZ_DOMAIN "ledger/v2/authz" /* then a 0x00 */
#define KEY_FIELDS 6
#define LOCK_FIELDS 2

void ldg_authz_init(struct ldg_authz *a)
{
	memset(a, 0, sizeof(*a));
}

void ldg_authz_free(struct ldg_authz *a)
{
	if (!a)
		return;
	free(a->keys);
	free(a->locks);
	ldg_gov_free(&a->gov);
	ldg_authz_init(a);
}

static long key_index(const struct ldg_authz *a, const char *name)
{
	for (size_t i = 0; i < a->n_keys; i++)
		if (!strcmp(a->keys[i].vkey.name, name))
			return (long)i;
	return -1;
}

/* Index of target's lock, or -(insertion point) - 1. Locks in force are
 * few (targets frozen by hand or by a rollback): a scan will do. */
static long lock_search(const struct ldg_authz *a, const char *target)
{
	size_t at = 0;
	int c = 1;

	while (at < a->n_locks && (c = strcmp(a->locks[at].target, target)) < 0)
		at++;
	return at < a->n_locks && c == 0 ? (long)at : -(long)at - 1;
}

static int add_key(struct ldg_authz *a, const struct ldg_entry *e)
{
	const struct ldg_kv *vk = ldg_kv_find(e->changes, e->n_changes, "vkey");
	const struct ldg_kv *role =
		ldg_kv_find(e->changes, e->n_changes, "role");
	const struct ldg_kv *scopes =
		ldg_kv_find(e->changes, e->n_changes, "scopes");
	struct ldg_keyinfo ki, *grown;
	size_t at = 0;

	memset(&ki, 0, sizeof(ki));
	if (!vk || !role || !scopes ||
	    ldg_vkey_parse(vk->value, &ki.vkey, NULL) ||
	    strlen(role->value) >= sizeof(ki.role) ||
	    strlen(scopes->value) >= sizeof(ki.scopes))
		return -EINVAL;
	if (key_index(a, ki.vkey.name) >= 0)
		return -EEXIST;
	memcpy(ki.role, role->value, strlen(role->value) + 1);
	memcpy(ki.scopes, scopes->value, strlen(scopes->value) + 1);
	ki.added_seq = e->seq;
	while (at < a->n_keys &&
	       strcmp(a->keys[at].vkey.name, ki.vkey.name) < 0)
		at++;
	grown = realloc(a->keys, (a->n_keys + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	a->keys = grown;
	memmove(&grown[at + 1], &grown[at], (a->n_keys - at) * sizeof(*grown));
	grown[at] = ki;
	a->n_keys++;
	return 0;
}

int ldg_authz_set_lock(struct ldg_authz *a, const char *target, uint64_t seq)
{
	/* the indexes give the targets in order: appending needs no scan */
	bool last = a->n_locks == 0 ||
		    strcmp(a->locks[a->n_locks - 1].target, target) < 0;
	long i = last ? -(long)a->n_locks - 1 : lock_search(a, target);
	struct ldg_authz_lock *grown;
	size_t at;

	if (strlen(target) > LDG_TARGET_MAX)
		return -EINVAL;
	if (i >= 0) {
		a->locks[i].seq = seq; /* a lock on a locked target */
		return 0;
	}
	at = (size_t)(-i - 1);
	grown = realloc(a->locks, (a->n_locks + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	a->locks = grown;
	memmove(&grown[at + 1], &grown[at], (a->n_locks - at) * sizeof(*grown));
	memcpy(grown[at].target, target, strlen(target) + 1);
	grown[at].seq = seq;
	a->n_locks++;
	return 0;
}

/* A key of the keyring still trusted (the approvals that count). */
static bool key_trusted(void *ctx, const uint8_t id[LDG_KEYID_BYTES])
{
	const struct ldg_authz *a = ctx;

	for (size_t i = 0; i < a->n_keys; i++)
		if (!memcmp(a->keys[i].vkey.keyid, id, LDG_KEYID_BYTES))
			return a->keys[i].revoked_seq == 0;
	return false;
}

int ldg_authz_apply(struct ldg_authz *a, const struct ldg_entry *e)
{
	struct ldg_gov_effect fx;
	long i;
	int rc = 0;

	switch (e->kind) {
	case LDG_KIND_SET:
	case LDG_KIND_UNSET:
	case LDG_KIND_ROLLBACK:
	case LDG_KIND_POLICY:
	case LDG_KIND_FREEZE:
	case LDG_KIND_UNFREEZE:
	case LDG_KIND_APPROVE:
	case LDG_KIND_WITHDRAW:
		rc = ldg_gov_apply(&a->gov, e, key_trusted, a, &fx);
		ldg_gov_effect_free(&fx);
		a->v2 = e->version == LDG_FORMAT_V2;
		if (!rc && !fx.changed)
			return 0; /* the state is as it was; so is its hash */
		break;
	case LDG_KIND_INIT:
	case LDG_KIND_KEY_ADD:
		rc = add_key(a, e);
		break;
	case LDG_KIND_KEY_REVOKE:
		i = key_index(a, e->changes[0].value);
		if (i < 0)
			return -ENOENT;
		a->keys[i].revoked_seq = e->seq;
		break;
	case LDG_KIND_LOCK:
		rc = ldg_authz_set_lock(a, e->target, e->seq);
		break;
	case LDG_KIND_UNLOCK:
		i = lock_search(a, e->target);
		if (i >= 0) {
			memmove(&a->locks[i], &a->locks[i + 1],
				(a->n_locks - (size_t)i - 1) *
					sizeof(*a->locks));
			a->n_locks--;
		}
		break;
	default:
		a->v2 = e->version == LDG_FORMAT_V2;
		return 0; /* the state is as it was; so is its hash */
	}
	a->v2 = e->version == LDG_FORMAT_V2;
	a->have_hash = false;
	return rc;
}

static int pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	return msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, s, len);
}

int ldg_authz_encode(const struct ldg_authz *a, uint8_t **out, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int bad;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* every pack checked: a short buffer would hash, and be signed, as
	 * the state */
	/* two items while there is no governance: the ledgers written
	 * before it keep their commitments (docs/format.md 8b) */
	bad = msgpack_pack_array(&pk, ldg_gov_empty(&a->gov) ? 2 : 5) ||
	      msgpack_pack_array(&pk, a->n_keys);
	for (size_t i = 0; !bad && i < a->n_keys; i++) {
		const struct ldg_keyinfo *k = &a->keys[i];
		bad = msgpack_pack_array(&pk, KEY_FIELDS) ||
		      pack_str(&pk, k->vkey.name) ||
		      msgpack_pack_bin(&pk, LDG_PK_BYTES) ||
		      msgpack_pack_bin_body(&pk, k->vkey.pk, LDG_PK_BYTES) ||
		      pack_str(&pk, k->role) || pack_str(&pk, k->scopes) ||
		      msgpack_pack_uint64(&pk, k->added_seq) ||
		      msgpack_pack_uint64(&pk, k->revoked_seq);
	}
	bad = bad || msgpack_pack_array(&pk, a->n_locks);
	for (size_t i = 0; !bad && i < a->n_locks; i++)
		bad = msgpack_pack_array(&pk, LOCK_FIELDS) ||
		      pack_str(&pk, a->locks[i].target) ||
		      msgpack_pack_uint64(&pk, a->locks[i].seq);
	if (!bad && !ldg_gov_empty(&a->gov))
		ldg_gov_pack(&a->gov, &pk);
	if (bad || !sb.data) {
		msgpack_sbuffer_destroy(&sb);
		return -ENOMEM;
	}
	*out = (uint8_t *)sb.data;
	*len = sb.size;
	return 0;
}

int ldg_authz_commit(struct ldg_authz *a, uint8_t out[LDG_HASH_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t *buf;
	size_t len;
	int rc;

	if (!a->have_hash) {
		rc = ldg_authz_encode(a, &buf, &len);
		if (rc)
			return rc;
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const uint8_t *)AUTHZ_DOMAIN,
					  sizeof(AUTHZ_DOMAIN));
		crypto_hash_sha256_update(&st, buf, len);
		crypto_hash_sha256_final(&st, a->hash);
		free(buf);
		a->have_hash = true;
	}
	memcpy(out, a->hash, LDG_HASH_BYTES);
	return 0;
}

/* ---- decoding (a remote writer's copy of the server's state) ---- */

static bool obj_str(const msgpack_object *o, char *out, size_t max)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= max ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return false;
	memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = '\0';
	return true;
}

static bool obj_array(const msgpack_object *o, uint32_t n)
{
	return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == n;
}

static int decode_state(const msgpack_object *root, struct ldg_authz *a)
{
	const msgpack_object *ks, *ls, *f = root->via.array.ptr;
	int rc;

	if (obj_array(root, 5)) {
		rc = ldg_gov_unpack(&f[2], &f[3], &f[4], &a->gov);
		if (rc)
			return rc;
	} else if (!obj_array(root, 2)) {
		return -EBADMSG;
	}
	if (root->via.array.ptr[0].type != MSGPACK_OBJECT_ARRAY ||
	    root->via.array.ptr[1].type != MSGPACK_OBJECT_ARRAY)
		return -EBADMSG;
	ks = &root->via.array.ptr[0];
	ls = &root->via.array.ptr[1];
	a->keys = calloc(ks->via.array.size + 1, sizeof(*a->keys));
	a->locks = calloc(ls->via.array.size + 1, sizeof(*a->locks));
	if (!a->keys || !a->locks)
		return -ENOMEM;
	for (uint32_t i = 0; i < ks->via.array.size; i++) {
		const msgpack_object *f = ks->via.array.ptr[i].via.array.ptr;
		struct ldg_keyinfo *k = &a->keys[i];
		if (!obj_array(&ks->via.array.ptr[i], KEY_FIELDS) ||
		    !obj_str(&f[0], k->vkey.name, sizeof(k->vkey.name)) ||
		    f[1].type != MSGPACK_OBJECT_BIN ||
		    f[1].via.bin.size != LDG_PK_BYTES ||
		    !obj_str(&f[2], k->role, sizeof(k->role)) ||
		    !obj_str(&f[3], k->scopes, sizeof(k->scopes)) ||
		    f[4].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    f[5].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -EBADMSG;
		memcpy(k->vkey.pk, f[1].via.bin.ptr, LDG_PK_BYTES);
		ldg_keyid(k->vkey.name, k->vkey.pk, k->vkey.keyid);
		k->added_seq = f[4].via.u64;
		k->revoked_seq = f[5].via.u64;
		if (i && strcmp(a->keys[i - 1].vkey.name, k->vkey.name) >= 0)
			return -EBADMSG;
		a->n_keys++;
	}
	for (uint32_t i = 0; i < ls->via.array.size; i++) {
		const msgpack_object *f = ls->via.array.ptr[i].via.array.ptr;
		struct ldg_authz_lock *l = &a->locks[i];
		if (!obj_array(&ls->via.array.ptr[i], LOCK_FIELDS) ||
		    !obj_str(&f[0], l->target, sizeof(l->target)) ||
		    f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -EBADMSG;
		l->seq = f[1].via.u64;
		if (i && strcmp(a->locks[i - 1].target, l->target) >= 0)
			return -EBADMSG;
		a->n_locks++;
	}
	return 0;
}

int ldg_authz_decode(const uint8_t *buf, size_t len, struct ldg_authz *out,
		     struct ldg_err *err)
{
	msgpack_unpacked res;
	uint8_t *again = NULL;
	size_t alen, off = 0;
	int rc = -EBADMSG;

	ldg_authz_init(out);
	if (len > LDG_ENTRY_MAX)
		return ldg_err_set(err, -EBADMSG,
				   "authorisation state too "
				   "large");
	msgpack_unpacked_init(&res);
	if (msgpack_unpack_next(&res, (const char *)buf, len, &off) ==
		    MSGPACK_UNPACK_SUCCESS &&
	    off == len)
		rc = decode_state(&res.data, out);
	/* canonical: exactly our own encoding of what was read */
	if (!rc)
		rc = ldg_authz_encode(out, &again, &alen);
	if (!rc && (alen != len || memcmp(again, buf, len)))
		rc = -EBADMSG;
	free(again);
	msgpack_unpacked_destroy(&res);
	if (rc) {
		ldg_authz_free(out);
		return ldg_err_set(err, rc,
				   "not an authorisation state "
				   "(docs/format.md, section 8.1)");
	}
	return 0;
}

/* ---- stamping and following ---- */

static int apply_err(int rc, const struct ldg_entry *e, struct ldg_err *err)
{
	return ldg_err_set(err, rc == -ENOMEM ? -ENOMEM : -EUCLEAN,
			   "entry %llu cannot be applied to the keyring and "
			   "locks (%s); run ledger verify",
			   (unsigned long long)e->seq, strerror(-rc));
}

int ldg_authz_stamp(struct ldg_authz *a, struct ldg_entry *e,
		    struct ldg_err *err)
{
	int rc;

	e->version = LDG_FORMAT_V2;
	rc = ldg_authz_apply(a, e);
	if (!rc)
		rc = ldg_authz_commit(a, e->authz);
	return rc ? apply_err(rc, e, err) : 0;
}

int ldg_authz_follow(struct ldg_authz *a, const struct ldg_entry *e,
		     struct ldg_err *err)
{
	uint8_t want[LDG_HASH_BYTES];
	int rc;

	if (e->version == LDG_FORMAT_V1 && a->v2)
		return ldg_err_set(err, -EBADMSG,
				   "a version 1 entry after version 2 "
				   "entries (its writer is older than this "
				   "ledger: upgrade it)");
	rc = ldg_authz_apply(a, e);
	if (!rc)
		rc = ldg_authz_commit(a, want);
	if (rc)
		return apply_err(rc, e, err);
	if (e->version == LDG_FORMAT_V2 &&
	    memcmp(want, e->authz, LDG_HASH_BYTES))
		return ldg_err_set(err, -EBADMSG,
				   "its authz field is not the commitment of "
				   "the keyring and locks after it");
	return 0;
}
