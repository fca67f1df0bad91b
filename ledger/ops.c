#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "authorize.h"
#include "names.h"
#include "ops.h"
#include "policy.h"
#include "tlog.h"
#include "store_impl.h"
#include "util.h"
#include "value.h"
#include "verify.h"

#define WRITE_ATTEMPTS 32

struct wctx {
	struct ldg_read w;
	const struct ldg_signer *k;
	struct ldg_result *res;
	/* keyring and locks after the last entry, proven to be what the
	 * indexes hold (ldg_authz_check_head()) */
	struct ldg_authz az;
};

typedef int (*plan_fn)(struct wctx *c, void *arg, struct ldg_err *err);

void ldg_result_free(struct ldg_result *res)
{
	if (!res)
		return;
	free(res->v);
	res->v = NULL;
	res->n = 0;
}

static void draft_fill(struct ldg_entry *e, uint64_t head,
		       const struct ldg_signer *k)
{
	e->seq = head + 1;
	e->time_ns = ldg_now_ns();
	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
}

int ldg_entry_seal(struct ldg_entry *e, uint64_t head,
		   const uint8_t prev[LDG_HASH_BYTES], const char *origin,
		   struct ldg_authz *az, const struct ldg_signer *k,
		   uint8_t **out, size_t *len, struct ldg_err *err)
{
	int rc;

	if (e->kind == LDG_KIND_INIT)
		return ldg_err_set(err, -EINVAL,
				   "an init entry is only written by init");
	draft_fill(e, head, k);
	memcpy(e->prev, prev, LDG_HASH_BYTES);
	rc = ldg_entry_check(e, err);
	if (!rc && az)
		rc = ldg_authz_stamp(az, e, err);
	if (rc)
		return rc;
	return ldg_entry_sign(e, origin, k, out, len, err);
}

int ldg_entry_prepare(struct ldg_entry *e, uint64_t head,
		      const uint8_t prev[LDG_HASH_BYTES], const char *origin,
		      struct ldg_authz *az,
		      const uint8_t keyid[LDG_KEYID_BYTES], uint8_t **bytes,
		      size_t *blen, uint8_t **msg, size_t *mlen,
		      struct ldg_err *err)
{
	int rc;

	if (e->kind == LDG_KIND_INIT)
		return ldg_err_set(err, -EINVAL,
				   "an init entry is only written by init");
	e->seq = head + 1;
	e->time_ns = ldg_now_ns();
	memcpy(e->signer, keyid, LDG_KEYID_BYTES);
	memcpy(e->prev, prev, LDG_HASH_BYTES);
	memset(e->sig, 0, sizeof(e->sig));
	rc = ldg_entry_check(e, err);
	if (!rc && az)
		rc = ldg_authz_stamp(az, e, err);
	if (!rc)
		rc = ldg_entry_message(e, origin, msg, mlen, err);
	if (rc)
		return rc;
	rc = ldg_entry_encode(e, true, bytes, blen);
	if (rc) {
		free(*msg);
		*msg = NULL;
		return ldg_err_set(err, rc, "out of memory");
	}
	return 0;
}

/* Stores accepted, signed bytes of e (seq = head + 1) with its indexes
 * and records it in the result. */
static int wctx_store(struct wctx *c, const struct ldg_entry *e,
		      const uint8_t *bytes, size_t len, struct ldg_err *err)
{
	struct ldg_appended *grown, *a;
	uint8_t hash[LDG_HASH_BYTES], kb[8];
	MDB_val k, v;
	int rc;

	ldg_put_be64(kb, e->seq);
	k.mv_data = kb;
	k.mv_size = 8;
	v.mv_data = (void *)bytes;
	v.mv_size = len;
	rc = ldg_mdb_err(
		mdb_put(c->w.txn, c->w.s->dbi[DB_ENTRIES], &k, &v, MDB_APPEND));
	if (!rc) {
		ldg_entry_hash(bytes, len, hash);
		rc = ldg_index_entry(&c->w, e, hash);
	}
	if (rc)
		return ldg_err_set(err, rc, "cannot store entry %llu: %s",
				   (unsigned long long)e->seq, strerror(-rc));
	grown = realloc(c->res->v, (c->res->n + 1) * sizeof(*grown));
	if (!grown)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	c->res->v = grown;
	a = &grown[c->res->n++];
	a->seq = e->seq;
	memcpy(a->hash, hash, LDG_HASH_BYTES);
	a->kind = e->kind;
	snprintf(a->target, sizeof(a->target), "%s", e->target);
	return 0;
}

/* The one question (authorize.h) for e, built or being built by c's
 * signer: also asked for a write that ends up writing nothing ("already
 * so"), whose answer must not depend on whether there was work to do. */
static int may_write(struct wctx *c, const struct ldg_entry *e,
		     struct ldg_err *err)
{
	struct ldg_write_req q;

	ldg_write_req_of(e, &q);
	q.signer = ldg_signer_vkey(c->k)->keyid;
	return ldg_may_append(&c->w, &q, err);
}

int ldg_draft_evidence(struct ldg_read *r, const struct ldg_gov *g,
		       struct ldg_entry *e, struct ldg_err *err)
{
	const struct ldg_pending *pd;
	struct ldg_proposal prop = { 0 };
	const struct ldg_kv *ch = e->changes;
	size_t n = e->n_changes;
	uint64_t seq = 0, applied = 0;
	char num[24];
	int rc;

	if (ldg_gov_empty(g) || ldg_kv_find(e->meta, e->n_meta, "soak-applied"))
		return 0;
	if (ldg_kind_changes_values(e->kind)) {
		if (!ldg_gov_gated(g, e) || ldg_gov_need(g, e))
			return 0; /* no soak, or a proposal: soaks later */
	} else if (e->kind == LDG_KIND_APPROVE) {
		(void)ldg_parse_dec(e->changes[0].value, 0, INT64_MAX, &seq);
		pd = ldg_gov_pending(g, seq);
		if (!pd || (pd->flags & LDG_PEND_EMERGENCY) ||
		    ldg_gov_count(pd, ldg_key_trusted, r, e->signer) < pd->need)
			return 0; /* not the approval that enacts it */
		if (ldg_proposal_get(r, seq, &prop))
			return 0; /* the rules say why */
		ch = prop.changes;
		n = prop.n_changes;
	} else {
		return 0;
	}
	rc = ldg_soak_evidence(r, ldg_gov_policy_for(g, e->target), e->target,
			       ch, n, &applied);
	if (!rc && applied) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)applied);
		rc = ldg_entry_add_meta(e, "soak-applied", num);
	}
	ldg_proposal_free(&prop);
	if (rc)
		return ldg_err_set(err, rc,
				   "cannot look for the soak's applied "
				   "entry: %s",
				   strerror(-rc));
	return 0;
}

/* A change that takes effect here under a soak carries its evidence
 * (ldg_draft_evidence()); e is filled in (signer, time). */
static int add_evidence(struct wctx *c, struct ldg_entry *e,
			struct ldg_err *err)
{
	return ldg_draft_evidence(&c->w, &c->az.gov, e, err);
}

/* Fills in seq, prev, time and signature of draft, checks it may be
 * written here, and stores it with its indexes. */
static int wctx_append(struct wctx *c, struct ldg_entry *e, struct ldg_err *err)
{
	const char *origin = c->w.s->origin;
	uint8_t *bytes = NULL;
	uint64_t head;
	size_t len;
	int rc;

	rc = ldg_head(&c->w, &head, e->prev);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head");
	draft_fill(e, head, c->k);
	rc = add_evidence(c, e, err);
	if (!rc)
		rc = ldg_entry_check(e, err);
	if (rc)
		return rc;
	rc = may_write(c, e, err);
	if (!rc)
		rc = ldg_rollback_check(&c->w, e, err);
	if (!rc)
		rc = ldg_authz_stamp(&c->az, e, err);
	if (rc)
		return rc;
	if (e->kind == LDG_KIND_INIT)
		origin = e->changes[0].value;
	rc = ldg_entry_sign(e, origin, c->k, &bytes, &len, err);
	if (rc)
		return rc;
	rc = wctx_store(c, e, bytes, len, err);
	free(bytes);
	return rc;
}

static int plan_reindex(struct wctx *c, void *arg, struct ldg_err *err);

/* LMDB reports a short write as EIO; when the ledger's file system has
 * (nearly) no room left, that is what it was. */
static bool disk_full(const struct ldg_store *s)
{
	struct statvfs fs;

	if (statvfs(s->dir, &fs))
		return false;
	return (uint64_t)fs.f_bavail * fs.f_frsize < (1u << 20);
}

/* c->az: the keyring and locks at the head, from indexes proven to be the
 * head's. A write that begins right after this process's last commit
 * (the next txnid: no other writer came in between, raw LMDB edits
 * included) finds the indexes as that commit left them and takes the
 * state it kept; any other proves them again (ldg_authz_check_head()). */
static int checked_authz(struct wctx *c, struct ldg_err *err)
{
	struct ldg_store *s = c->w.s;
	bool ours = s->az_txnid && mdb_txn_id(c->w.txn) == s->az_txnid + 1;

	if (ours) {
		c->az = s->az; /* moved: the store keeps none meanwhile */
		ldg_authz_init(&s->az);
	} else {
		ldg_authz_free(&s->az);
	}
	s->az_txnid = 0;
	return ours ? 0 : ldg_authz_check_head(&c->w, &c->az, err);
}

static int run_write(struct ldg_store *s, const struct ldg_signer *k,
		     plan_fn plan, void *arg, struct ldg_result *res,
		     struct ldg_err *err)
{
	struct wctx c = { .k = k, .res = res };
	char origin[LDG_ORIGIN_MAX + 1];
	int rc = 0;

	/* an init sets the store's origin as it indexes it; an aborted
	 * transaction must take that back (out_result) */
	snprintf(origin, sizeof(origin), "%s", s->origin);
	/* indexes built by another version: rebuild them before writing */
	if (s->stale && plan != plan_reindex) {
		uint64_t n;
		rc = ldg_reindex(s, &n, err);
		if (rc)
			return rc;
	}

	for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
		ldg_result_free(res);
		rc = ldg_write_begin(s, &c.w, err);
		if (rc)
			goto out_result;
		/* a ledger from before a database: the write adds it, and
		 * only a write that commits does */
		if (c.w.absent && ldg_store_add_absent(&c.w))
			rc = ldg_err_set(err, -EIO,
					 "cannot add the indexes "
					 "of this version");
		/* every write decides on indexes proven to be the signed
		 * head's (a reindex rebuilds them from the entries) */
		if (!rc)
			rc = plan == plan_reindex ? 0 : checked_authz(&c, err);
		if (!rc)
			rc = plan(&c, arg, err);
		if (rc) {
			ldg_authz_free(&c.az);
			mdb_txn_abort(c.w.txn);
			if (rc != -EFBIG)
				goto out_result;
		} else {
			size_t id = mdb_txn_id(c.w.txn);
			rc = ldg_mdb_err(mdb_txn_commit(c.w.txn));
			if (rc == 0)
				ldg_store_adopt(&c.w);
			/* an empty commit writes no meta page and takes no
			 * txnid: only one that appended may be remembered */
			if (rc == 0 && res->n) {
				s->az = c.az;
				s->az_txnid = id;
			} else {
				ldg_authz_free(&c.az);
			}
			if (rc == 0)
				return 0;
			if (rc != -EFBIG) {
				if (rc == -EIO && disk_full(s))
					rc = -ENOSPC;
				ldg_err_set(err, rc,
					    "cannot commit to the ledger: %s",
					    rc == -ENOSPC ? "no space left on "
							    "device"
							  : strerror(-rc));
				goto out_result;
			}
		}
		/* The map is full: grow it and redo the whole transaction,
		 * so the entry is built on the head as it is then. */
		rc = ldg_store_grow(s, err);
		if (rc)
			goto out_result;
	}
	ldg_err_set(err, -ENOSPC, "the ledger map cannot grow any further");
	rc = -ENOSPC;
out_result:
	ldg_result_free(res);
	snprintf(s->origin, sizeof(s->origin), "%s", origin);
	return rc;
}

static int check_user_meta(const struct ldg_kv *meta, size_t n,
			   struct ldg_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (ldg_check_key(meta[i].key, err))
			return ldg_err_set(err, -EINVAL,
					   "invalid metadata key \"%.80s\"",
					   meta[i].key);
		if (!strcmp(meta[i].key, "forced") ||
		    !strcmp(meta[i].key, "rollback-to") ||
		    !strcmp(meta[i].key, "emergency") ||
		    !strcmp(meta[i].key, "soak-applied"))
			return ldg_err_set(err, -EINVAL,
					   "metadata key \"%s\" is reserved",
					   meta[i].key);
		if (!meta[i].value ||
		    ldg_check_new_value(meta[i].value, strlen(meta[i].value),
					err)) {
			ldg_err_prefix(err, "metadata %s", meta[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

static int add_meta(struct ldg_entry *e, const struct ldg_kv *meta, size_t n,
		    struct ldg_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = ldg_entry_add_meta(e, meta[i].key, meta[i].value);
		if (rc == -EEXIST)
			return ldg_err_set(err, -EINVAL,
					   "metadata key \"%s\" given twice",
					   meta[i].key);
		if (rc == -ENOMEM)
			return ldg_err_set(err, rc, "out of memory");
		if (rc)
			return ldg_err_set(err, rc,
					   "too much metadata: an "
					   "entry holds at most %d metadata "
					   "pairs",
					   LDG_META_MAX);
	}
	return 0;
}

static struct ldg_entry *new_entry(enum ldg_kind kind, const char *target,
				   const char *reason, struct ldg_err *err)
{
	struct ldg_entry *e = ldg_entry_new(kind, target, reason);

	if (!e)
		ldg_err_set(err, -ENOMEM, "out of memory");
	return e;
}

/* ---- init ---- */

struct init_arg {
	const char *origin;
};

static int plan_init(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct init_arg *a = arg;
	char vk[LDG_VKEY_TEXT_MAX];
	struct ldg_entry *e;
	uint64_t head;
	int rc;

	rc = ldg_head(&c->w, &head, NULL);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head");
	if (head)
		return ldg_err_set(err, -EEXIST,
				   "%s already holds a ledger (origin \"%s\", "
				   "%llu entries)",
				   c->w.s->dir, c->w.s->origin,
				   (unsigned long long)head);
	e = new_entry(LDG_KIND_INIT, "", "initialise the ledger", err);
	if (!e)
		return -ENOMEM;
	ldg_vkey_format(ldg_signer_vkey(c->k), vk);
	rc = ldg_entry_add_change(e, "origin", a->origin);
	if (!rc)
		rc = ldg_entry_add_change(e, "role", "admin");
	if (!rc)
		rc = ldg_entry_add_change(e, "scopes", "*");
	if (!rc)
		rc = ldg_entry_add_change(e, "vkey", vk);
	if (rc)
		rc = ldg_err_set(err, rc, "out of memory");
	else
		rc = wctx_append(c, e, err);
	ldg_entry_free(e);
	return rc;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "",
		 name ? name : "");
	return stat(path, &st) == 0;
}

int ldg_init(const char *dir, const char *origin, const struct ldg_signer *k,
	     struct ldg_result *res, struct ldg_err *err)
{
	struct init_arg a = { origin };
	bool made_dir, made_lock, made_data;
	struct ldg_store *s;
	int rc;

	rc = ldg_check_origin(origin, err);
	if (rc)
		return rc;
	made_dir = !file_exists(dir, NULL);
	made_lock = !file_exists(dir, "lock.mdb");
	made_data = !file_exists(dir, "data.mdb");
	rc = ldg_store_open(dir, LDG_OPEN_CREATE, &s, err);
	if (rc == 0) {
		rc = run_write(s, k, plan_init, &a, res, err);
		ldg_store_close(s);
	}
	/* An init that failed (a full disk above all) leaves nothing in
	 * the way of the next one; "already holds a ledger" is someone
	 * else's ledger. */
	if (rc && rc != -EEXIST)
		ldg_store_unmake(dir, made_dir, made_lock, made_data);
	return rc;
}

/* ---- set / unset ---- */

struct set_arg {
	const char *target;
	const struct ldg_kv *kv; /* value NULL: unset */
	const char *const *keys;
	size_t n;
	const char *reason;
	const struct ldg_kv *meta;
	size_t n_meta;
	unsigned flags; /* LDG_WRITE_* */
};

/* The set/unset entry for a target whose values are now, without the
 * keys already so (*out may have no changes: nothing to do). */
static int build_set(const struct set_arg *a, const struct ldg_values *now,
		     struct ldg_entry **out, struct ldg_err *err)
{
	struct ldg_entry *e;
	int rc = 0;

	e = new_entry(a->kv ? LDG_KIND_SET : LDG_KIND_UNSET, a->target,
		      a->reason, err);
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < a->n && !rc; i++) {
		const char *key = a->kv ? a->kv[i].key : a->keys[i];
		const struct ldg_value *cur = ldg_values_find(now, key);
		if (a->kv && cur &&
		    ldg_value_eq(cur->type, cur->value, a->kv[i].type,
				 a->kv[i].value))
			continue; /* already so: the same type and text */
		if (!a->kv && !cur)
			continue; /* already unset */
		rc = ldg_entry_add_value(e, key,
					 a->kv ? a->kv[i].type : LDG_V_STR,
					 a->kv ? a->kv[i].value : NULL);
		if (rc == -EEXIST)
			rc = ldg_err_set(err, -EINVAL, "key \"%s\" given twice",
					 key);
		else if (rc == -ENOMEM)
			rc = ldg_err_set(err, rc, "out of memory");
		else if (rc)
			rc = ldg_err_set(err, rc,
					 "too many changes: an entry "
					 "holds at most %d",
					 LDG_CHANGES_MAX);
	}
	if (!rc)
		rc = add_meta(e, a->meta, a->n_meta, err);
	if (!rc && (a->flags & LDG_WRITE_FORCE) && now->lock_seq) {
		struct ldg_kv forced = { .key = "forced", .value = "true" };
		rc = add_meta(e, &forced, 1, err);
	}
	if (!rc && (a->flags & LDG_WRITE_EMERGENCY)) {
		struct ldg_kv em = { .key = "emergency", .value = "true" };
		rc = add_meta(e, &em, 1, err);
	}
	if (rc) {
		ldg_entry_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static int plan_set(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct set_arg *a = arg;
	struct ldg_values now;
	struct ldg_entry *e = NULL;
	int rc;

	rc = ldg_state_get(&c->w, a->target, 0, &now);
	if (rc)
		return ldg_err_set(err, rc, "cannot read state of %s",
				   a->target);
	rc = build_set(a, &now, &e, err);
	if (rc)
		goto out_values;
	if (e->n_changes && (a->flags & LDG_WRITE_EMERGENCY)) {
		e->time_ns = ldg_now_ns();
		if (!ldg_gov_need(&c->az.gov, e)) {
			rc = ldg_err_set(err, -EINVAL,
					 "%s is not governed by a policy or "
					 "an open freeze window: an emergency "
					 "is not needed, write it without "
					 "--emergency",
					 a->target);
			goto out_entry;
		}
	}
	if (e->n_changes) {
		rc = wctx_append(c, e, err);
	} else {
		/* already so: still only for those who may write it; a lock
		 * is news only to a write */
		rc = may_write(c, e, err);
		if (rc == -EBUSY)
			rc = 0;
	}
out_entry:
	ldg_entry_free(e);
out_values:
	ldg_values_free(&now);
	return rc;
}

static int check_write_args(const char *target, const char *reason,
			    const struct ldg_kv *meta, size_t n_meta,
			    struct ldg_err *err)
{
	if (ldg_check_target(target, err) || ldg_check_new_reason(reason, err))
		return -EINVAL;
	return check_user_meta(meta, n_meta, err);
}

/* What a writer accepts as a new value: a string by the value rules, a
 * typed value by its own (docs/format.md 3.2; its text may be longer
 * than a string: an array of up to 1000 strings), and in both no display
 * control (section 14). */
static int check_new_change(const struct ldg_kv *kv, struct ldg_err *err)
{
	size_t len = strlen(kv->value);

	if (kv->type != LDG_V_JSON)
		return ldg_check_new_value(kv->value, len, err);
	if (ldg_value_check_json(kv->value, err))
		return -EINVAL;
	return ldg_check_display("value", kv->value, len, err);
}

static int check_set_arg(const struct set_arg *a, struct ldg_err *err)
{
	if (check_write_args(a->target, a->reason, a->meta, a->n_meta, err))
		return -EINVAL;
	if (a->n == 0)
		return ldg_err_set(err, -EINVAL,
				   a->kv ? "nothing to set: give KEY=VALUE"
					 : "nothing to unset: give KEY");
	for (size_t i = 0; i < a->n; i++) {
		const char *key = a->kv ? a->kv[i].key : a->keys[i];
		if (ldg_check_key(key, err))
			return -EINVAL;
		if (a->kv &&
		    (!a->kv[i].value || check_new_change(&a->kv[i], err))) {
			ldg_err_prefix(err, "%s", key);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(key, a->kv ? a->kv[j].key : a->keys[j]))
				return ldg_err_set(err, -EINVAL,
						   "key \"%s\" given twice",
						   key);
	}
	return 0;
}

int ldg_set(struct ldg_store *s, const struct ldg_signer *k, const char *target,
	    const struct ldg_kv *kv, size_t n, const char *reason,
	    const struct ldg_kv *meta, size_t n_meta, unsigned flags,
	    struct ldg_result *res, struct ldg_err *err)
{
	struct set_arg a = { target, kv, NULL, n, reason, meta, n_meta, flags };

	if (check_set_arg(&a, err))
		return -EINVAL;
	return run_write(s, k, plan_set, &a, res, err);
}

int ldg_unset(struct ldg_store *s, const struct ldg_signer *k,
	      const char *target, const char *const *keys, size_t n,
	      const char *reason, const struct ldg_kv *meta, size_t n_meta,
	      unsigned flags, struct ldg_result *res, struct ldg_err *err)
{
	struct set_arg a = {
		target, NULL, keys, n, reason, meta, n_meta, flags
	};

	if (check_set_arg(&a, err))
		return -EINVAL;
	return run_write(s, k, plan_set, &a, res, err);
}

/* The drafts for a client without the store: checked as ldg_set() and
 * ldg_unset() check, planned on now as they plan. */
static int draft_set(const struct set_arg *a, const struct ldg_values *now,
		     struct ldg_entry **out, struct ldg_err *err)
{
	int rc;

	*out = NULL;
	if (check_set_arg(a, err))
		return -EINVAL;
	rc = build_set(a, now, out, err);
	if (!rc && (*out)->n_changes == 0) {
		ldg_entry_free(*out);
		*out = NULL;
	}
	return rc;
}

int ldg_draft_set(const struct ldg_values *now, const char *target,
		  const struct ldg_kv *kv, size_t n, const char *reason,
		  const struct ldg_kv *meta, size_t n_meta, unsigned flags,
		  struct ldg_entry **out, struct ldg_err *err)
{
	struct set_arg a = { target, kv, NULL, n, reason, meta, n_meta, flags };

	return draft_set(&a, now, out, err);
}

int ldg_draft_unset(const struct ldg_values *now, const char *target,
		    const char *const *keys, size_t n, const char *reason,
		    const struct ldg_kv *meta, size_t n_meta, unsigned flags,
		    struct ldg_entry **out, struct ldg_err *err)
{
	struct set_arg a = {
		target, NULL, keys, n, reason, meta, n_meta, flags
	};

	return draft_set(&a, now, out, err);
}

/* ---- rollback ---- */

struct rollback_arg {
	const char *what;
	uint64_t to;
	const char *reason;
	const struct ldg_kv *meta;
	size_t n_meta;
	bool no_lock;
};

/* The rollback entry for target: every key of then that now lacks or
 * holds another value is restored, every key of now that then lacks is
 * unset; metadata rollback-to=to and meta. *out may have no changes
 * (nothing to restore; then it has no metadata either). */
static int build_rollback(const char *target, const struct ldg_values *then,
			  const struct ldg_values *now, uint64_t to_seq,
			  const char *reason, const struct ldg_kv *meta,
			  size_t n_meta, struct ldg_entry **out,
			  struct ldg_err *err)
{
	struct ldg_entry *e;
	char to[24];
	int rc = 0;

	*out = NULL;
	e = new_entry(LDG_KIND_ROLLBACK, target, reason, err);
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < then->n && !rc; i++) {
		const struct ldg_value *cur =
			ldg_values_find(now, then->v[i].key);
		if (!cur || !ldg_value_eq(cur->type, cur->value,
					  then->v[i].type, then->v[i].value))
			rc = ldg_entry_add_value(e, then->v[i].key,
						 then->v[i].type,
						 then->v[i].value);
	}
	for (size_t i = 0; i < now->n && !rc; i++)
		if (!ldg_values_find(then, now->v[i].key))
			rc = ldg_entry_add_change(e, now->v[i].key, NULL);
	if (rc) {
		ldg_entry_free(e);
		if (rc == -ENOMEM)
			return ldg_err_set(err, rc, "out of memory");
		return ldg_err_set(err, rc,
				   "%s: too many changes to restore "
				   "(an entry holds at most %d)",
				   target, LDG_CHANGES_MAX);
	}
	if (e->n_changes) {
		snprintf(to, sizeof(to), "%llu", (unsigned long long)to_seq);
		rc = ldg_entry_add_meta(e, "rollback-to", to);
		if (!rc)
			rc = add_meta(e, meta, n_meta, err);
		if (rc) {
			ldg_entry_free(e);
			return rc;
		}
	}
	*out = e;
	return 0;
}

int ldg_draft_rollback(const char *target, const struct ldg_values *then,
		       const struct ldg_values *now, uint64_t to,
		       const char *reason, const struct ldg_kv *meta,
		       size_t n_meta, struct ldg_entry **out,
		       struct ldg_err *err)
{
	int rc;

	*out = NULL;
	if (check_write_args(target, reason, meta, n_meta, err))
		return -EINVAL;
	if (to < 1)
		return ldg_err_set(err, -EINVAL,
				   "a rollback goes back to a "
				   "seq >= 1");
	rc = build_rollback(target, then, now, to, reason, meta, n_meta, out,
			    err);
	if (!rc && (*out)->n_changes == 0) {
		ldg_entry_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Appends target's rollback (and lock); when there is nothing to restore,
 * appends nothing and leaves in *noop_rc whether the signer may. */
static int rollback_target(struct wctx *c, struct rollback_arg *a,
			   const char *target, int *noop_rc,
			   struct ldg_err *err)
{
	struct ldg_values then, now;
	struct ldg_entry *e = NULL;
	int rc;

	rc = ldg_state_get(&c->w, target, a->to, &then);
	if (rc)
		return ldg_err_set(err, rc, "cannot read state of %s", target);
	rc = ldg_state_get(&c->w, target, 0, &now);
	if (rc) {
		ldg_err_set(err, rc, "cannot read state of %s", target);
		goto out_then;
	}
	rc = build_rollback(target, &then, &now, a->to, a->reason, a->meta,
			    a->n_meta, &e, err);
	if (rc)
		goto out_now;
	if (e->n_changes == 0) {
		/* already as it was; still, only for those who may */
		*noop_rc = may_write(c, e, err);
		goto out_entry;
	}
	rc = wctx_append(c, e, err);
	if (!rc && !a->no_lock && !now.lock_seq) {
		ldg_entry_free(e);
		e = new_entry(LDG_KIND_LOCK, target, a->reason, err);
		rc = e ? wctx_append(c, e, err) : -ENOMEM;
	}
out_entry:
	ldg_entry_free(e);
out_now:
	ldg_values_free(&now);
out_then:
	ldg_values_free(&then);
	return rc;
}

int ldg_rollback_targets(struct ldg_read *r, const char *what, uint64_t to,
			 char ***out, size_t *n, struct ldg_err *err)
{
	char prefix[LDG_CLUSTER_MAX + 2];
	bool whole = !strchr(what, '/');
	uint64_t head;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ldg_head(r, &head, NULL);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head");
	if (to > head)
		return ldg_err_set(err, -ENOENT, "no entry %llu (head is %llu)",
				   (unsigned long long)to,
				   (unsigned long long)head);
	snprintf(prefix, sizeof(prefix), "%s%s", what, whole ? "/" : "");
	rc = ldg_targets_list(r, prefix, 0, out, n);
	if (rc)
		return ldg_err_set(err, rc, "cannot list targets");
	if (!whole && *n && strcmp((*out)[0], what)) {
		ldg_strv_free(*out, *n); /* a longer name, same prefix */
		*out = NULL;
		*n = 0;
	}
	if (!whole && *n > 1) {
		for (size_t i = 1; i < *n; i++)
			free((*out)[i]);
		*n = 1;
	}
	if (*n == 0)
		return ldg_err_set(err, -ENOENT, "%s %s has no entries",
				   whole ? "cluster" : "target", what);
	return 0;
}

static int plan_rollback(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct rollback_arg *a = arg;
	char **targets = NULL;
	size_t n = 0;
	int rc, refused = 0;

	rc = ldg_rollback_targets(&c->w, a->what, a->to, &targets, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		int noop_rc = 0;
		rc = rollback_target(c, a, targets[i], &noop_rc, err);
		if (!rc && noop_rc && !refused)
			refused = noop_rc;
	}
	/* nothing written anywhere: refuse a signer who could not have */
	if (!rc && c->res->n == 0 && refused)
		rc = refused;
	ldg_strv_free(targets, n);
	return rc;
}

int ldg_rollback(struct ldg_store *s, const struct ldg_signer *k,
		 const char *what, uint64_t to, const char *reason,
		 const struct ldg_kv *meta, size_t n_meta, bool no_lock,
		 struct ldg_result *res, struct ldg_err *err)
{
	struct rollback_arg a = { what, to, reason, meta, n_meta, no_lock };

	if (strchr(what, '/') ? ldg_check_target(what, err)
			      : ldg_check_cluster(what, err))
		return -EINVAL;
	if (ldg_check_new_reason(reason, err) ||
	    check_user_meta(meta, n_meta, err))
		return -EINVAL;
	if (to < 1)
		return ldg_err_set(err, -EINVAL,
				   "a rollback goes back to a "
				   "seq >= 1");
	return run_write(s, k, plan_rollback, &a, res, err);
}

/* ---- lock / unlock ---- */

struct lock_arg {
	const char *target;
	const char *reason;
	bool lock;
};

static int plan_lock(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct lock_arg *a = arg;
	struct ldg_values now;
	struct ldg_entry *e;
	int rc;

	rc = ldg_state_get(&c->w, a->target, 0, &now);
	if (rc)
		return ldg_err_set(err, rc, "cannot read state of %s",
				   a->target);
	e = new_entry(a->lock ? LDG_KIND_LOCK : LDG_KIND_UNLOCK, a->target,
		      a->reason, err);
	if (!e)
		rc = -ENOMEM;
	else if ((now.lock_seq != 0) != a->lock)
		rc = wctx_append(c, e, err);
	else
		rc = may_write(c, e, err); /* already so */
	ldg_entry_free(e);
	ldg_values_free(&now);
	return rc;
}

int ldg_lock(struct ldg_store *s, const struct ldg_signer *k,
	     const char *target, const char *reason, bool lock,
	     struct ldg_result *res, struct ldg_err *err)
{
	struct lock_arg a = { target, reason, lock };

	if (check_write_args(target, reason, NULL, 0, err))
		return -EINVAL;
	return run_write(s, k, plan_lock, &a, res, err);
}

int ldg_draft_lock(const struct ldg_values *now, const char *target,
		   const char *reason, bool lock, struct ldg_entry **out,
		   struct ldg_err *err)
{
	*out = NULL;
	if (check_write_args(target, reason, NULL, 0, err))
		return -EINVAL;
	if ((now->lock_seq != 0) == lock)
		return 0; /* already so */
	*out = new_entry(lock ? LDG_KIND_LOCK : LDG_KIND_UNLOCK, target, reason,
			 err);
	return *out ? 0 : -ENOMEM;
}

/* ---- keys ---- */

struct append_arg {
	struct ldg_entry *e;
};

static int plan_append(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct append_arg *a = arg;

	return wctx_append(c, a->e, err);
}

int ldg_key_add(struct ldg_store *s, const struct ldg_signer *k,
		const struct ldg_vkey *vkey, const char *role,
		const char *scopes, const char *reason, struct ldg_result *res,
		struct ldg_err *err)
{
	struct append_arg a = { 0 };
	char vk[LDG_VKEY_TEXT_MAX];
	int rc;

	if (ldg_check_new_reason(reason, err))
		return -EINVAL;
	a.e = new_entry(LDG_KIND_KEY_ADD, "", reason, err);
	if (!a.e)
		return -ENOMEM;
	ldg_vkey_format(vkey, vk);
	rc = ldg_entry_add_change(a.e, "role", role);
	if (!rc)
		rc = ldg_entry_add_change(a.e, "scopes", scopes);
	if (!rc)
		rc = ldg_entry_add_change(a.e, "vkey", vk);
	if (rc) {
		ldg_err_set(err, rc, "out of memory");
		goto out_free;
	}
	/* seq 2 is a placeholder so the field rules can be checked now */
	a.e->seq = 2;
	rc = ldg_entry_check(a.e, err);
	if (!rc)
		rc = run_write(s, k, plan_append, &a, res, err);
out_free:
	ldg_entry_free(a.e);
	return rc;
}

int ldg_key_revoke(struct ldg_store *s, const struct ldg_signer *k,
		   const char *name, const char *reason, struct ldg_result *res,
		   struct ldg_err *err)
{
	struct append_arg a = { 0 };
	int rc;

	if (ldg_check_keyname(name, err) || ldg_check_new_reason(reason, err))
		return -EINVAL;
	a.e = new_entry(LDG_KIND_KEY_REVOKE, "", reason, err);
	if (!a.e)
		return -ENOMEM;
	rc = ldg_entry_add_change(a.e, "name", name);
	if (rc)
		ldg_err_set(err, rc, "out of memory");
	else
		rc = run_write(s, k, plan_append, &a, res, err);
	ldg_entry_free(a.e);
	return rc;
}

int ldg_append(struct ldg_store *s, const struct ldg_signer *k,
	       struct ldg_entry *draft, struct ldg_result *res,
	       struct ldg_err *err)
{
	struct append_arg a = { .e = draft };

	return run_write(s, k, plan_append, &a, res, err);
}

struct batch_arg {
	struct ldg_entry **drafts;
	size_t n;
};

static int plan_batch(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct batch_arg *a = arg;
	int rc = 0;

	for (size_t i = 0; i < a->n && !rc; i++)
		rc = wctx_append(c, a->drafts[i], err);
	return rc;
}

int ldg_append_batch(struct ldg_store *s, const struct ldg_signer *k,
		     struct ldg_entry **drafts, size_t n,
		     struct ldg_result *res, struct ldg_err *err)
{
	struct batch_arg a = { drafts, n };

	return run_write(s, k, plan_batch, &a, res, err);
}

/* ---- entries signed elsewhere ---- */

struct signed_arg {
	const uint8_t *const *bufs;
	const size_t *lens;
	size_t n;
	bool copy; /* from another copy of the ledger (a mirror) */
	/* the checkpoint the copy must hold after the entries */
	const struct ldg_checkpoint *cp;
};

/* The checks of ldg_append_signed() on one entry, then the store. An
 * init entry passes only into an empty store and copy: signed by the key
 * it records, for the origin it records. */
static int append_signed_one(struct wctx *c, const uint8_t *buf, size_t len,
			     bool copy, struct ldg_err *err)
{
	uint8_t head_hash[LDG_HASH_BYTES];
	struct ldg_write_req q;
	struct ldg_keyinfo ki;
	struct ldg_entry *e;
	uint64_t head;
	int rc;

	rc = ldg_entry_decode(buf, len, &e, err);
	if (rc)
		return rc;
	rc = ldg_head(&c->w, &head, head_hash);
	if (rc) {
		ldg_err_set(err, rc, "cannot read the head");
		goto out_entry;
	}
	if (e->kind == LDG_KIND_INIT && !(copy && head == 0)) {
		rc = ldg_err_set(err, -EINVAL,
				 copy ? "a second init entry"
				      : "an init entry is only written by "
					"init");
		goto out_entry;
	}
	if (copy && (e->seq != head + 1 ||
		     memcmp(e->prev, head_hash, LDG_HASH_BYTES))) {
		rc = ldg_err_set(err, -ESTALE,
				 "seq %llu does not extend this copy (its "
				 "seq or prev does not follow entry %llu)",
				 (unsigned long long)e->seq,
				 (unsigned long long)head);
		goto out_entry;
	}
	if (e->seq != head + 1 || memcmp(e->prev, head_hash, LDG_HASH_BYTES)) {
		rc = ldg_err_set(err, -ESTALE,
				 "the head moved: the entry is built for seq "
				 "%llu, the head is %llu; rebuild it on the "
				 "new head",
				 (unsigned long long)e->seq,
				 (unsigned long long)head);
		goto out_entry;
	}
	ldg_write_req_of(e, &q);
	/* signed elsewhere, now: its time must be this writer's, give or
	 * take LDG_SKEW_NS (a copy of old entries is not) */
	if (!copy)
		q.now_ns = ldg_now_ns();
	if (e->kind == LDG_KIND_INIT) {
		/* ldg_may_append() below: the signer is the key it records */
		rc = ldg_vkey_parse(e->changes[3].value, &ki.vkey, err);
		if (rc)
			goto out_entry;
	} else {
		rc = ldg_keyring_by_id(&c->w, e->signer, &ki);
	}
	/* an unknown signer: refused as the question refuses it (the
	 * signature cannot be checked without its key) */
	if (rc == -ENOENT) {
		rc = ldg_may_append(&c->w, &q, err);
		if (!rc)
			rc = ldg_err_set(err, -EIO, "cannot read the keyring");
		goto out_entry;
	}
	if (rc) {
		ldg_err_set(err, rc, "cannot read the keyring");
		goto out_entry;
	}
	if (ldg_entry_verify_sig(buf, len,
				 e->kind == LDG_KIND_INIT ? e->changes[0].value
							  : c->w.s->origin,
				 ki.vkey.pk)) {
		rc = ldg_err_set(err, -EBADMSG,
				 "bad signature for key \"%s\" and origin "
				 "\"%s\"",
				 ki.vkey.name,
				 e->kind == LDG_KIND_INIT ? e->changes[0].value
							  : c->w.s->origin);
		goto out_entry;
	}
	rc = ldg_may_append(&c->w, &q, err);
	if (!rc)
		rc = ldg_rollback_check(&c->w, e, err);
	if (!rc)
		rc = ldg_authz_follow(&c->az, e, err);
	if (!rc)
		rc = wctx_store(c, e, buf, len, err);
out_entry:
	ldg_entry_free(e);
	return rc;
}

static int plan_signed(struct wctx *c, void *arg, struct ldg_err *err)
{
	struct signed_arg *a = arg;
	int rc = 0;

	for (size_t i = 0; i < a->n && !rc; i++) {
		uint64_t head;
		rc = append_signed_one(c, a->bufs[i], a->lens[i], a->copy, err);
		/* only the first of a batch can find the head moved; a later
		 * one that does not follow was built wrong: no retry mends
		 * that */
		if (rc == -ESTALE && i > 0 && !a->copy)
			rc = ldg_err_set(err, -EINVAL,
					 "it is not built on the "
					 "entry before it in the batch");
		/* a copy's or a batch's entries come many at a time: say
		 * which */
		if (rc && rc != -EFBIG && (a->copy || a->n > 1) &&
		    ldg_head(&c->w, &head, NULL) == 0)
			ldg_err_prefix(err, "entry %llu",
				       (unsigned long long)head + 1);
	}
	if (!rc && a->cp)
		rc = ldg_checkpoint_check(&c->w, a->cp, err);
	return rc;
}

/* Too large to be an entry: refused before any transaction. A new
 * entry must fit an entry bundle (LDG_BUNDLE_ENTRY_MAX); a copy of a
 * ledger written before that cap may hold what the decoder takes. */
static int check_sizes(const size_t *lens, size_t n, bool copy,
		       struct ldg_err *err)
{
	size_t max = copy ? LDG_ENTRY_MAX : LDG_BUNDLE_ENTRY_MAX;

	for (size_t i = 0; i < n; i++)
		if (lens[i] > max)
			return ldg_err_set(err, -EBADMSG,
					   "entry too large: %zu bytes, %s "
					   "is at most %zu",
					   lens[i],
					   copy ? "an entry" : "a new entry",
					   max);
	return 0;
}

int ldg_append_signed(struct ldg_store *s, const uint8_t *buf, size_t len,
		      struct ldg_result *res, struct ldg_err *err)
{
	struct signed_arg a = { &buf, &len, 1, false, NULL };
	int rc = check_sizes(&len, 1, false, err);

	return rc ? rc : run_write(s, NULL, plan_signed, &a, res, err);
}

int ldg_append_signed_batch(struct ldg_store *s, const uint8_t *const *bufs,
			    const size_t *lens, size_t n,
			    struct ldg_result *res, struct ldg_err *err)
{
	struct signed_arg a = { bufs, lens, n, false, NULL };
	int rc = check_sizes(lens, n, false, err);

	if (!rc && n == 0)
		rc = ldg_err_set(err, -EINVAL, "an empty batch");
	return rc ? rc : run_write(s, NULL, plan_signed, &a, res, err);
}

int ldg_append_copied(struct ldg_store *s, const uint8_t *const *bufs,
		      const size_t *lens, size_t n, struct ldg_result *res,
		      struct ldg_err *err)
{
	struct signed_arg a = { bufs, lens, n, true, NULL };
	int rc = check_sizes(lens, n, true, err);

	return rc ? rc : run_write(s, NULL, plan_signed, &a, res, err);
}

int ldg_append_copied_checkpoint(struct ldg_store *s,
				 const uint8_t *const *bufs, const size_t *lens,
				 size_t n, const struct ldg_checkpoint *cp,
				 struct ldg_result *res, struct ldg_err *err)
{
	struct signed_arg a = { bufs, lens, n, true, cp };
	int rc = check_sizes(lens, n, true, err);
	size_t bytes = 0;

	/* all of a first copy may be one transaction: room for the entries
	 * and their indexes (about 2.3 times a small entry's bytes, more
	 * for many small ones) before it, not a map full midway */
	for (size_t i = 0; i < n; i++)
		bytes += 4 * lens[i] + 1024;
	if (!rc)
		rc = ldg_store_reserve(s, bytes, err);
	return rc ? rc : run_write(s, NULL, plan_signed, &a, res, err);
}

/* ---- reindex ---- */

static int plan_reindex(struct wctx *c, void *arg, struct ldg_err *err)
{
	uint64_t *count = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc, rc = 0;

	*count = 0;
	for (int i = DB_META; i < DB_COUNT; i++) {
		if (ldg_db_absent(&c->w, (enum ldg_db)i))
			return ldg_err_set(err, -EROFS,
					   "index %s is missing and cannot be "
					   "added",
					   ldg_db_names[i]);
		mrc = mdb_drop(c->w.txn, c->w.s->dbi[i], 0);
		if (mrc)
			return ldg_err_set(err, ldg_mdb_err(mrc),
					   "cannot clear index %s: %s",
					   ldg_db_names[i], mdb_strerror(mrc));
	}
	mrc = mdb_cursor_open(c->w.txn, c->w.s->dbi[DB_ENTRIES], &cur);
	if (mrc)
		return ldg_mdb_err(mrc);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && !rc;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t seq = *count + 1;
		uint8_t hash[LDG_HASH_BYTES];
		struct ldg_entry *e;

		rc = ldg_entry_decode(v.mv_data, v.mv_size, &e, err);
		if (rc) {
			ldg_err_prefix(err, "entry %llu",
				       (unsigned long long)seq);
			break;
		}
		if (k.mv_size != 8 || ldg_get_be64(k.mv_data) != seq ||
		    e->seq != seq)
			rc = ldg_err_set(err, -EBADMSG,
					 "entry %llu is out of sequence",
					 (unsigned long long)seq);
		ldg_entry_hash(v.mv_data, v.mv_size, hash);
		if (!rc) {
			rc = ldg_index_entry(&c->w, e, hash);
			if (rc && rc != -EFBIG)
				ldg_err_set(err, rc, "cannot index entry %llu",
					    (unsigned long long)seq);
		}
		ldg_entry_free(e);
		if (!rc)
			(*count)++;
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : ldg_mdb_err(mrc);
}

int ldg_reindex(struct ldg_store *s, uint64_t *count, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc = run_write(s, NULL, plan_reindex, count, &res, err);

	if (!rc)
		s->stale = false;
	return rc;
}
