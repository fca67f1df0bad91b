#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "policy.h"
#include "names.h"
#include "store_impl.h"
#include "util.h"

/* err.h cannot include names.h (names.h includes it) */
_Static_assert(LDG_ERR_KEY_MAX == LDG_KEYNAME_MAX, "err.h key size");
_Static_assert(LDG_ERR_ROLE_MAX == LDG_ROLE_MAX, "err.h role size");
_Static_assert(LDG_ERR_TARGET_MAX == LDG_TARGET_MAX, "err.h target size");

/* ---- the question ---- */

void ldg_write_req_of(const struct ldg_entry *e, struct ldg_write_req *out)
{
	memset(out, 0, sizeof(*out));
	out->signer = e->signer;
	out->kind = e->kind;
	out->target = e->target;
	out->forced = ldg_kv_find(e->meta, e->n_meta, "forced") != NULL;
	out->entry = e;
	out->time_ns = e->time_ns;
}

static bool is_keys_admin(const struct ldg_keyinfo *ki)
{
	return !strcmp(ki->role, "admin") && ldg_scopes_have_star(ki->scopes);
}

/* The key a refusal is about, with its role: the facts beside why. */
static int refuse_key(struct ldg_err *err, int code, enum ldg_why why,
		      uint64_t seq, const struct ldg_keyinfo *ki,
		      const char *target)
{
	if (err) {
		err->why = why;
		err->seq = seq;
		snprintf(err->key, sizeof(err->key), "%s", ki->vkey.name);
		snprintf(err->role, sizeof(err->role), "%s", ki->role);
		snprintf(err->target, sizeof(err->target), "%s", target);
	}
	return code;
}

/* init: signed by the key it records (rule 1). */
static int check_init(const struct ldg_write_req *q, struct ldg_err *err)
{
	const struct ldg_kv *kv =
		q->entry ? ldg_kv_find(q->entry->changes, q->entry->n_changes,
				       "vkey")
			 : NULL;
	struct ldg_vkey vk;

	if (!kv)
		return ldg_err_set(err, -EINVAL,
				   "an init entry records its key in vkey");
	if (ldg_vkey_parse(kv->value, &vk, err))
		return -EINVAL;
	if (memcmp(vk.keyid, q->signer, LDG_KEYID_BYTES))
		return ldg_err_refuse(err, -EACCES, LDG_WHY_INIT_SIGNER, 0,
				      vk.name,
				      "init is not signed by the key "
				      "it records");
	return 0;
}

static int check_key_add(struct ldg_read *r, const struct ldg_entry *e,
			 struct ldg_err *err)
{
	const struct ldg_kv *kv = ldg_kv_find(e->changes, e->n_changes, "vkey");
	struct ldg_keyinfo old;
	struct ldg_vkey vk;

	if (!kv || ldg_vkey_parse(kv->value, &vk, err))
		return -EINVAL;
	if (ldg_keyring_by_name(r, vk.name, &old) == 0)
		return ldg_err_refuse(err, -EEXIST, LDG_WHY_KEY_TAKEN,
				      old.added_seq, vk.name,
				      "a key named \"%s\" was already added "
				      "at seq %llu; key names are never reused",
				      vk.name,
				      (unsigned long long)old.added_seq);
	if (ldg_keyring_by_id(r, vk.keyid, &old) == 0)
		return ldg_err_refuse(err, -EEXIST, LDG_WHY_KEY_TAKEN,
				      old.added_seq, vk.name,
				      "key id of \"%s\" collides with key "
				      "\"%s\"",
				      vk.name, old.vkey.name);
	return 0;
}

/* The last trusted admin with scope '*' stays: a writer's rule
 * (docs/format.md section 14), so that key management is never lost. */
static int check_last_admin(struct ldg_read *r, const char *name,
			    struct ldg_err *err)
{
	struct ldg_keyinfo *ring;
	size_t n, admins = 0;
	bool target_admin = false;
	int rc;

	rc = ldg_keyring_list(r, &ring, &n);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the keyring");
	for (size_t i = 0; i < n; i++) {
		bool admin = !ring[i].revoked_seq && is_keys_admin(&ring[i]);
		if (!strcmp(ring[i].vkey.name, name))
			target_admin = admin;
		else
			admins += admin;
	}
	free(ring);
	if (target_admin && admins == 0)
		return ldg_err_refuse(err, -EPERM, LDG_WHY_LAST_ADMIN, 0, name,
				      "refusing to revoke \"%s\": it is the "
				      "last admin key with scope '*'",
				      name);
	return 0;
}

/* key-revoke (rule 3): the named key exists and is trusted. */
static int check_key_revoke(struct ldg_read *r, const struct ldg_write_req *q,
			    struct ldg_err *err)
{
	const struct ldg_kv *kv =
		ldg_kv_find(q->entry->changes, q->entry->n_changes, "name");
	struct ldg_keyinfo ki;

	if (!kv || !kv->value)
		return ldg_err_set(err, -EINVAL,
				   "a key-revoke entry names its key");
	if (ldg_keyring_by_name(r, kv->value, &ki))
		return ldg_err_refuse(err, -ENOENT, LDG_WHY_NO_SUCH_KEY, 0,
				      kv->value, "no key named \"%s\"",
				      kv->value);
	if (ki.revoked_seq)
		return ldg_err_refuse(err, -EEXIST, LDG_WHY_KEY_REVOKED,
				      ki.revoked_seq, ki.vkey.name,
				      "key \"%s\" is already revoked (seq "
				      "%llu)",
				      ki.vkey.name,
				      (unsigned long long)ki.revoked_seq);
	return q->history ? 0 : check_last_admin(r, ki.vkey.name, err);
}

/* set/unset on a locked target (rule 7): the lock's seq and reason. */
static int check_lock(struct ldg_read *r, const struct ldg_write_req *q,
		      struct ldg_err *err)
{
	struct ldg_entry *le = NULL;
	uint64_t at = 0;
	int rc;

	rc = ldg_lock_seq(r, q->target, &at);
	/* an unreadable lock is not "unlocked" */
	if (rc)
		return ldg_err_set(err, rc, "cannot read the lock of %s",
				   q->target);
	if (!at || q->forced)
		return 0;
	/* verify's replay has indexes but no entries: no reason then */
	ldg_entry_read(r, at, &le, NULL);
	ldg_err_refuse(err, -EBUSY, LDG_WHY_LOCKED, at, NULL,
		       "%s: target is locked since seq %llu (reason: "
		       "\"%.200s\")",
		       q->target, (unsigned long long)at,
		       le ? le->reason : "?");
	if (err) {
		snprintf(err->target, sizeof(err->target), "%s", q->target);
		snprintf(err->reason, sizeof(err->reason), "%s",
			 le ? le->reason : "");
	}
	ldg_entry_free(le);
	return -EBUSY;
}

int ldg_may_append(struct ldg_read *r, const struct ldg_write_req *q,
		   struct ldg_err *err)
{
	char cluster_scope[LDG_CLUSTER_MAX + 3];
	const char *scope_target = q->target;
	char idhex[2 * LDG_KEYID_BYTES + 1];
	struct ldg_keyinfo ki;
	bool allowed;
	int rc;

	if (q->kind == LDG_KIND_INIT)
		return check_init(q, err);
	ldg_hex(q->signer, LDG_KEYID_BYTES, idhex);
	rc = ldg_keyring_by_id(r, q->signer, &ki);
	if (rc == -ENOENT)
		return ldg_err_refuse(err, -EACCES, LDG_WHY_UNKNOWN_KEY, 0,
				      idhex,
				      "signer key %s is not in the "
				      "keyring",
				      idhex);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the keyring");
	if (ki.revoked_seq) {
		ldg_err_set(err, -EACCES,
			    "signer key \"%s\" was revoked at "
			    "seq %llu",
			    ki.vkey.name, (unsigned long long)ki.revoked_seq);
		return refuse_key(err, -EACCES, LDG_WHY_REVOKED, ki.revoked_seq,
				  &ki, q->target);
	}
	/* an entry signed elsewhere, of any kind: its time is this
	 * writer's, give or take (docs/format.md 8b, rule 5) */
	rc = ldg_skew_check(q, err);
	if (rc)
		return rc;

	switch (q->kind) {
	case LDG_KIND_POLICY:
	case LDG_KIND_FREEZE:
	case LDG_KIND_UNFREEZE:
		/* on a scope, not a target: the rules of 8b alone */
		return ldg_policy_check(r, q, &ki, err);
	case LDG_KIND_KEY_ADD:
	case LDG_KIND_KEY_REVOKE:
		if (!is_keys_admin(&ki)) {
			ldg_err_set(err, -EACCES,
				    "key \"%s\" (role %s) may "
				    "not manage keys: only an admin with scope "
				    "'*' may",
				    ki.vkey.name, ki.role);
			return refuse_key(err, -EACCES, LDG_WHY_ROLE, 0, &ki,
					  q->target);
		}
		if (!q->entry)
			return 0;
		if (q->kind == LDG_KIND_KEY_ADD)
			return check_key_add(r, q->entry, err);
		return check_key_revoke(r, q, err);
	case LDG_KIND_APPLIED:
	case LDG_KIND_APPLY_FAILED:
	case LDG_KIND_DRIFT:
		allowed = !strcmp(ki.role, "applier") ||
			  !strcmp(ki.role, "admin");
		if (!strchr(q->target, '/')) {
			/* a whole cluster: the scope must cover all of it */
			snprintf(cluster_scope, sizeof(cluster_scope), "%s/*",
				 q->target);
			scope_target = cluster_scope;
		}
		break;
	default:
		allowed = !strcmp(ki.role, "deployer") ||
			  !strcmp(ki.role, "admin");
		break;
	}
	if (!allowed) {
		ldg_err_set(err, -EACCES,
			    "key \"%s\" has role %s, which may "
			    "not write %s entries",
			    ki.vkey.name, ki.role, ldg_kind_name(q->kind));
		return refuse_key(err, -EACCES, LDG_WHY_ROLE, 0, &ki,
				  q->target);
	}
	if (!ldg_scopes_match(ki.scopes, scope_target)) {
		ldg_err_set(err, -EACCES,
			    "key \"%s\" is not allowed to change "
			    "%s (its scope: %s)",
			    ki.vkey.name, q->target, ki.scopes);
		return refuse_key(err, -EACCES, LDG_WHY_SCOPE, 0, &ki,
				  q->target);
	}
	if (q->kind == LDG_KIND_SET || q->kind == LDG_KIND_UNSET) {
		int rc = check_lock(r, q, err);
		if (rc)
			return rc;
	}
	return ldg_policy_check(r, q, &ki, err);
}

/* ---- the indexes, and the writer's check ---- */

static int load_locks(struct ldg_read *r, struct ldg_authz *a)
{
	char target[LDG_TARGET_MAX + 1];
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seq;
	int mrc, rc = 0;

	mrc = mdb_cursor_open(r->txn, r->s->dbi[DB_TARGETS], &c);
	if (mrc)
		return ldg_mdb_err(mrc);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && !rc;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size > LDG_TARGET_MAX) {
			rc = -EUCLEAN;
			break;
		}
		memcpy(target, k.mv_data, k.mv_size);
		target[k.mv_size] = '\0';
		rc = ldg_lock_seq(r, target, &seq);
		if (!rc && seq)
			rc = ldg_authz_set_lock(a, target, seq);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : ldg_mdb_err(mrc);
}

int ldg_authz_load(struct ldg_read *r, struct ldg_authz *out,
		   struct ldg_err *err)
{
	struct ldg_keyinfo ki;
	MDB_stat st;
	int rc;

	ldg_authz_init(out);
	rc = ldg_keyring_list(r, &out->keys, &out->n_keys);
	if (rc)
		return ldg_err_set(err, rc == -EIO ? -EUCLEAN : rc,
				   "cannot read the keys index");
	/* every key reachable by its id, and no other id */
	rc = ldg_mdb_err(mdb_stat(r->txn, r->s->dbi[DB_KEYIDS], &st));
	for (size_t i = 0; !rc && i < out->n_keys; i++)
		if (ldg_keyring_by_id(r, out->keys[i].vkey.keyid, &ki) ||
		    strcmp(ki.vkey.name, out->keys[i].vkey.name))
			rc = -EUCLEAN;
	if (!rc && st.ms_entries != out->n_keys)
		rc = -EUCLEAN;
	if (!rc)
		rc = load_locks(r, out);
	if (!rc)
		rc = ldg_gov_load(r, 0, &out->gov, NULL);
	if (rc) {
		ldg_authz_free(out);
		return ldg_err_set(
			err, rc,
			rc == -EUCLEAN
				? "the keys and keyids indexes disagree; "
				  "run ledger verify, then ledger reindex"
				: "cannot read the keys and locks indexes");
	}
	return 0;
}

int ldg_authz_load_at(struct ldg_read *r, uint64_t at, struct ldg_authz *out,
		      struct ldg_err *err)
{
	struct ldg_keyinfo *ring = NULL;
	char **targets = NULL;
	size_t n = 0, nt = 0, kept = 0;
	int rc;

	ldg_authz_init(out);
	rc = ldg_keyring_list(r, &ring, &n);
	if (rc)
		return ldg_err_set(err, rc == -EIO ? -EUCLEAN : rc,
				   "cannot read the keys index");
	for (size_t i = 0; i < n; i++) {
		if (ring[i].added_seq > at)
			continue;
		if (ring[i].revoked_seq > at)
			ring[i].revoked_seq = 0;
		ring[kept++] = ring[i];
	}
	out->keys = ring;
	out->n_keys = kept;
	rc = ldg_targets_list(r, NULL, at, &targets, &nt);
	for (size_t i = 0; !rc && i < nt; i++) {
		struct ldg_values v;
		rc = ldg_state_get(r, targets[i], at, &v);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (!rc && v.lock_seq)
			rc = ldg_authz_set_lock(out, targets[i], v.lock_seq);
		ldg_values_free(&v);
	}
	ldg_strv_free(targets, nt);
	if (!rc)
		rc = ldg_gov_load(r, at, &out->gov, NULL);
	if (rc) {
		ldg_authz_free(out);
		return ldg_err_set(err, rc,
				   "cannot read the keys, locks and gov indexes "
				   "as of seq %llu",
				   (unsigned long long)at);
	}
	return 0;
}

/* The state of every entry replayed (a version 1 head). */
static int replay(struct ldg_read *r, struct ldg_authz *out,
		  struct ldg_err *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = 0;

	ldg_authz_init(out);
	mrc = mdb_cursor_open(r->txn, r->s->dbi[DB_ENTRIES], &c);
	if (mrc)
		return ldg_err_set(err, ldg_mdb_err(mrc),
				   "cannot read "
				   "entries");
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && !rc;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ldg_entry *e;
		rc = ldg_entry_decode(v.mv_data, v.mv_size, &e, NULL);
		if (!rc) {
			rc = ldg_authz_apply(out, e);
			ldg_entry_free(e);
		}
	}
	mdb_cursor_close(c);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = ldg_mdb_err(mrc);
	if (rc) {
		ldg_authz_free(out);
		return ldg_err_set(err, rc == -ENOMEM ? rc : -EUCLEAN,
				   "the entries do not replay (%s); run "
				   "ledger verify",
				   strerror(-rc));
	}
	return 0;
}

static int mismatch(uint64_t head, struct ldg_err *err)
{
	return ldg_err_set(err, -EUCLEAN,
			   "the keys/locks index does not match the signed "
			   "head at seq %llu; run ledger verify, then ledger "
			   "reindex",
			   (unsigned long long)head);
}

/* A version 2 head: signed by its signer's key as the index has it, and
 * committing to the index's state. */
static int check_v2_head(struct ldg_read *w, const struct ldg_entry *e,
			 const uint8_t *buf, size_t len, struct ldg_authz *a)
{
	const char *origin = ldg_store_origin(w->s);
	uint8_t have[LDG_HASH_BYTES];
	struct ldg_vkey vk;
	bool found = false;

	if (e->kind == LDG_KIND_INIT) {
		origin = e->changes[0].value;
		found = ldg_vkey_parse(e->changes[3].value, &vk, NULL) == 0;
	}
	for (size_t i = 0; !found && i < a->n_keys; i++)
		if (!memcmp(a->keys[i].vkey.keyid, e->signer,
			    LDG_KEYID_BYTES)) {
			vk = a->keys[i].vkey;
			found = true;
		}
	if (!found || ldg_entry_verify_sig(buf, len, origin, vk.pk))
		return -EUCLEAN;
	if (ldg_authz_commit(a, have))
		return -ENOMEM;
	return memcmp(have, e->authz, LDG_HASH_BYTES) ? -EUCLEAN : 0;
}

int ldg_authz_check_head(struct ldg_read *w, struct ldg_authz *out,
			 struct ldg_err *err)
{
	struct ldg_authz replayed;
	uint8_t a[LDG_HASH_BYTES], b[LDG_HASH_BYTES];
	struct ldg_entry *e = NULL;
	const uint8_t *buf;
	uint64_t head;
	size_t len;
	int rc;

	ldg_authz_init(out);
	rc = ldg_head(w, &head, NULL);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head");
	if (head == 0)
		return 0;
	rc = ldg_entry_raw(w, head, &buf, &len);
	if (!rc && ldg_entry_decode(buf, len, &e, NULL))
		rc = -EUCLEAN;
	if (rc)
		return ldg_err_set(err, rc == -EUCLEAN ? rc : -EIO,
				   "the head entry (seq %llu) cannot be read; "
				   "run ledger verify",
				   (unsigned long long)head);
	rc = ldg_authz_load(w, out, err);
	if (rc == -EUCLEAN)
		rc = mismatch(head, err);
	if (rc)
		goto out_entry;
	if (e->version == LDG_FORMAT_V2) {
		rc = check_v2_head(w, e, buf, len, out);
		out->v2 = true;
	} else {
		rc = replay(w, &replayed, err);
		if (rc)
			goto out_entry;
		rc = ldg_authz_commit(&replayed, a);
		if (!rc)
			rc = ldg_authz_commit(out, b);
		if (!rc && memcmp(a, b, LDG_HASH_BYTES))
			rc = -EUCLEAN;
		ldg_authz_free(&replayed);
	}
	if (rc)
		rc = rc == -EUCLEAN ? mismatch(head, err)
				    : ldg_err_set(err, rc, "out of memory");
out_entry:
	ldg_entry_free(e);
	if (rc)
		ldg_authz_free(out);
	return rc;
}
