/*
 * govstore.c - the store's copy of the governance state (gov.h): the gov
 * database (seq8 -> [POLICIES, WINDOWS, PENDING] after that entry, a row
 * per entry that changed it) and props (proposal seq8 -> [STATUS, AT,
 * KIND, CHANGES]), and the indexing of every entry through them
 * (ldg_index_entry()), which decides which values take effect.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "gov.h"
#include "store_impl.h"
#include "util.h"
#include "value.h"

static const char *const status_names[] = {
	[LDG_PROP_PENDING] = "pending",
	[LDG_PROP_EFFECTIVE] = "effective",
	[LDG_PROP_WITHDRAWN] = "withdrawn",
	[LDG_PROP_STALE] = "stale",
};

const char *ldg_prop_status_name(enum ldg_prop_status s)
{
	return (unsigned)s <= LDG_PROP_STALE ? status_names[s] : "?";
}

/* ---- gov ---- */

static int gov_decode(const MDB_val *v, struct ldg_gov *out)
{
	msgpack_unpacked res;
	const msgpack_object *f;
	size_t off = 0;
	int rc = -EIO;

	msgpack_unpacked_init(&res);
	if (msgpack_unpack_next(&res, v->mv_data, v->mv_size, &off) ==
		    MSGPACK_UNPACK_SUCCESS &&
	    off == v->mv_size && res.data.type == MSGPACK_OBJECT_ARRAY &&
	    res.data.via.array.size == 3) {
		f = res.data.via.array.ptr;
		rc = ldg_gov_unpack(&f[0], &f[1], &f[2], out);
		if (rc == -EBADMSG)
			rc = -EIO;
	}
	msgpack_unpacked_destroy(&res);
	return rc;
}

int ldg_gov_load(struct ldg_read *r, uint64_t at, struct ldg_gov *out,
		 struct ldg_err *err)
{
	uint8_t kb[8];
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc;

	ldg_gov_init(out);
	if (ldg_db_absent(r, DB_GOV))
		return 0; /* a ledger from before policies: none */
	mrc = mdb_cursor_open(r->txn, r->s->dbi[DB_GOV], &c);
	if (mrc)
		return ldg_err_set(err, ldg_mdb_err(mrc),
				   "cannot read the gov index");
	if (at == 0 || at == UINT64_MAX) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	} else {
		/* the newest row at or before at */
		ldg_put_be64(kb, at + 1);
		k.mv_data = kb;
		k.mv_size = 8;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (mrc == MDB_NOTFOUND)
			mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		else if (mrc == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		if (mrc == 0 && ldg_get_be64(k.mv_data) > at)
			mrc = MDB_NOTFOUND;
	}
	rc = mrc == MDB_NOTFOUND ? 0 : ldg_mdb_err(mrc);
	if (mrc == 0)
		rc = gov_decode(&v, out);
	mdb_cursor_close(c);
	if (rc)
		return ldg_err_set(err, rc == -EIO ? -EUCLEAN : rc,
				   "cannot read the gov index%s",
				   rc == -EIO ? "; run ledger verify, then "
						"ledger reindex"
					      : "");
	return 0;
}

/* Puts the packed row in sb (destroyed) under seq in db. */
static int put_packed(struct ldg_read *w, enum ldg_db db, uint64_t seq,
		      msgpack_sbuffer *sb)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { sb->size, sb->data };
	int rc = ldg_db_absent(w, db) ? -EROFS : -ENOMEM;

	ldg_put_be64(kb, seq);
	if (sb->data && rc == -ENOMEM)
		rc = ldg_mdb_err(mdb_put(w->txn, w->s->dbi[db], &k, &v, 0));
	msgpack_sbuffer_destroy(sb);
	return rc;
}

static int gov_save(struct ldg_read *w, uint64_t seq, const struct ldg_gov *g)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	ldg_gov_pack(g, &pk);
	return put_packed(w, DB_GOV, seq, &sb);
}

/* ---- props ---- */

static void pack_text(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static int props_put(struct ldg_read *w, uint64_t seq,
		     enum ldg_prop_status status, uint64_t at,
		     enum ldg_kind kind, const struct ldg_kv *changes, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint64(&pk, status);
	msgpack_pack_uint64(&pk, at);
	pack_text(&pk, ldg_kind_name(kind));
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		int rc;

		msgpack_pack_array(&pk, changes[i].value ? 2 : 1);
		pack_text(&pk, changes[i].key);
		if (!changes[i].value)
			continue;
		/* as in the entry: a typed value in its msgpack form */
		rc = ldg_value_pack(&pk, changes[i].type, changes[i].value);
		if (rc) {
			msgpack_sbuffer_destroy(&sb);
			return rc;
		}
	}
	return put_packed(w, DB_PROPS, seq, &sb);
}

static char *obj_dup(const msgpack_object *o)
{
	char *s;

	if (o->type != MSGPACK_OBJECT_STR)
		return NULL;
	s = malloc(o->via.str.size + 1);
	if (s) {
		memcpy(s, o->via.str.ptr, o->via.str.size);
		s[o->via.str.size] = '\0';
	}
	return s;
}

static int props_decode(const MDB_val *v, struct ldg_proposal *p)
{
	msgpack_unpacked res;
	const msgpack_object *f, *ch;
	char kind[16];
	size_t off = 0;
	int rc = -EIO;

	msgpack_unpacked_init(&res);
	if (msgpack_unpack_next(&res, v->mv_data, v->mv_size, &off) !=
		    MSGPACK_UNPACK_SUCCESS ||
	    res.data.type != MSGPACK_OBJECT_ARRAY ||
	    res.data.via.array.size != 4)
		goto out;
	f = res.data.via.array.ptr;
	ch = &f[3];
	if (f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    f[0].via.u64 > LDG_PROP_STALE ||
	    f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    f[2].type != MSGPACK_OBJECT_STR ||
	    f[2].via.str.size >= sizeof(kind) ||
	    ch->type != MSGPACK_OBJECT_ARRAY)
		goto out;
	p->status = (enum ldg_prop_status)f[0].via.u64;
	p->at = f[1].via.u64;
	memcpy(kind, f[2].via.str.ptr, f[2].via.str.size);
	kind[f[2].via.str.size] = '\0';
	if (ldg_kind_parse(kind, &p->kind))
		goto out;
	p->changes = calloc(ch->via.array.size + 1, sizeof(*p->changes));
	if (!p->changes) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < ch->via.array.size; i++) {
		const msgpack_object *pair = &ch->via.array.ptr[i];
		if (pair->type != MSGPACK_OBJECT_ARRAY ||
		    pair->via.array.size < 1 || pair->via.array.size > 2)
			goto out;
		p->changes[i].key = obj_dup(&pair->via.array.ptr[0]);
		p->n_changes++;
		if (!p->changes[i].key)
			goto out;
		if (pair->via.array.size == 2 &&
		    ldg_value_unpack(&pair->via.array.ptr[1],
				     &p->changes[i].type, &p->changes[i].value,
				     NULL))
			goto out;
	}
	rc = 0;
out:
	msgpack_unpacked_destroy(&res);
	return rc;
}

int ldg_prop_fate(struct ldg_read *r, uint64_t seq, enum ldg_prop_status *st,
		  uint64_t *at)
{
	struct ldg_proposal p = { 0 };
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if (ldg_db_absent(r, DB_PROPS))
		return -ENOENT;
	ldg_put_be64(kb, seq);
	rc = mdb_get(r->txn, r->s->dbi[DB_PROPS], &k, &v);
	if (rc)
		return ldg_mdb_err(rc);
	rc = props_decode(&v, &p);
	*st = p.status;
	*at = p.at;
	ldg_proposal_free(&p);
	return rc;
}

void ldg_proposal_free(struct ldg_proposal *p)
{
	for (size_t i = 0; i < p->n_changes; i++) {
		free(p->changes[i].key);
		free(p->changes[i].value);
	}
	free(p->changes);
	free(p->approvers);
	memset(p, 0, sizeof(*p));
}

/* The props row of seq, with what the pending record of g adds. */
static int proposal_fill(struct ldg_read *r, uint64_t seq,
			 const struct ldg_gov *g, struct ldg_proposal *out)
{
	const struct ldg_pending *pend;
	struct ldg_entry *e = NULL;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ldg_db_absent(r, DB_PROPS))
		return -ENOENT;
	ldg_put_be64(kb, seq);
	rc = mdb_get(r->txn, r->s->dbi[DB_PROPS], &k, &v);
	if (rc)
		return ldg_mdb_err(rc);
	out->seq = seq;
	rc = props_decode(&v, out);
	if (rc) {
		ldg_proposal_free(out);
		return rc;
	}
	pend = ldg_gov_pending(g, seq);
	if (pend) {
		snprintf(out->target, sizeof(out->target), "%s", pend->target);
		memcpy(out->author, pend->author, LDG_KEYID_BYTES);
		out->need = pend->need;
		out->flags = pend->flags;
		if (pend->n_approvers) {
			out->approvers = malloc(pend->n_approvers *
						sizeof(*out->approvers));
			if (!out->approvers) {
				ldg_proposal_free(out);
				return -ENOMEM;
			}
			memcpy(out->approvers, pend->approvers,
			       pend->n_approvers * sizeof(*out->approvers));
			out->n_approvers = pend->n_approvers;
		}
		return 0;
	}
	/* ended: target and author from the entry (verify's replay has
	 * no entries: they stay empty there) */
	if (ldg_entry_read(r, seq, &e, NULL) == 0) {
		snprintf(out->target, sizeof(out->target), "%s", e->target);
		memcpy(out->author, e->signer, LDG_KEYID_BYTES);
		if (ldg_kv_find(e->meta, e->n_meta, "emergency"))
			out->flags |= LDG_PEND_EMERGENCY;
		ldg_entry_free(e);
	}
	return 0;
}

int ldg_proposal_get(struct ldg_read *r, uint64_t seq, struct ldg_proposal *out)
{
	struct ldg_gov g;
	int rc;

	rc = ldg_gov_load(r, 0, &g, NULL);
	if (rc)
		return rc;
	rc = proposal_fill(r, seq, &g, out);
	ldg_gov_free(&g);
	return rc;
}

int ldg_pending_list(struct ldg_read *r, const char *scope,
		     struct ldg_proposal **out, size_t *n)
{
	struct ldg_gov g;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ldg_gov_load(r, 0, &g, NULL);
	if (rc)
		return rc;
	if (g.n_pend) {
		*out = calloc(g.n_pend, sizeof(**out));
		if (!*out)
			rc = -ENOMEM;
	}
	for (size_t i = 0; !rc && i < g.n_pend; i++) {
		if (scope && !ldg_scope_match(scope, g.pend[i].target))
			continue;
		rc = proposal_fill(r, g.pend[i].seq, &g, &(*out)[*n]);
		if (!rc)
			(*n)++;
	}
	ldg_gov_free(&g);
	if (rc) {
		for (size_t i = 0; i < *n; i++)
			ldg_proposal_free(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- indexing ---- */

bool ldg_key_trusted(void *ctx, const uint8_t id[LDG_KEYID_BYTES])
{
	struct ldg_keyinfo ki;

	return ldg_keyring_by_id(ctx, id, &ki) == 0 && ki.revoked_seq == 0;
}

static bool gov_kind(enum ldg_kind k)
{
	return ldg_kind_changes_values(k) || ldg_kind_on_scope(k) ||
	       ldg_kind_on_proposal(k);
}

int ldg_index_entry(struct ldg_read *w, const struct ldg_entry *e,
		    const uint8_t hash[LDG_HASH_BYTES])
{
	struct ldg_index_values vals = {
		.effective = ldg_kind_changes_values(e->kind),
		.changes = e->changes,
		.n = e->n_changes,
	};
	struct ldg_proposal enacted = { 0 };
	struct ldg_gov_effect fx = { 0 };
	struct ldg_gov g;
	int rc;

	if (!gov_kind(e->kind))
		return ldg_index_apply(w, e, hash, &vals);
	rc = ldg_gov_load(w, 0, &g, NULL);
	if (rc)
		return rc;
	rc = ldg_gov_apply(&g, e, ldg_key_trusted, w, &fx);
	if (!rc && fx.changed)
		rc = gov_save(w, e->seq, &g);
	switch (rc ? LDG_GOV_NONE : fx.what) {
	case LDG_GOV_PROPOSED:
		vals.effective = false;
		rc = props_put(w, e->seq, LDG_PROP_PENDING, 0, e->kind,
			       e->changes, e->n_changes);
		break;
	case LDG_GOV_ENACTED:
		rc = proposal_fill(w, fx.proposal, &g, &enacted);
		if (!rc)
			rc = props_put(w, fx.proposal, LDG_PROP_EFFECTIVE,
				       e->seq, enacted.kind, enacted.changes,
				       enacted.n_changes);
		vals.effective = true;
		vals.changes = enacted.changes;
		vals.n = enacted.n_changes;
		break;
	case LDG_GOV_WITHDRAWN:
		rc = proposal_fill(w, fx.proposal, &g, &enacted);
		if (!rc)
			rc = props_put(w, fx.proposal, LDG_PROP_WITHDRAWN,
				       e->seq, enacted.kind, enacted.changes,
				       enacted.n_changes);
		break;
	default:
		break;
	}
	for (size_t i = 0; !rc && i < fx.n_stale; i++) {
		struct ldg_proposal st;
		rc = proposal_fill(w, fx.stale[i], &g, &st);
		if (!rc)
			rc = props_put(w, fx.stale[i], LDG_PROP_STALE, e->seq,
				       st.kind, st.changes, st.n_changes);
		ldg_proposal_free(&st);
	}
	if (!rc)
		rc = ldg_index_apply(w, e, hash, &vals);
	ldg_proposal_free(&enacted);
	ldg_gov_effect_free(&fx);
	ldg_gov_free(&g);
	return rc;
}

int ldg_gov_seed(struct ldg_read *w, struct ldg_read *r, uint64_t at,
		 const struct ldg_gov *g)
{
	int rc;

	if (ldg_gov_empty(g))
		return 0;
	rc = gov_save(w, at, g);
	for (size_t i = 0; !rc && i < g->n_pend; i++) {
		struct ldg_entry *e = NULL;
		rc = ldg_entry_read(r, g->pend[i].seq, &e, NULL);
		if (!rc)
			rc = props_put(w, e->seq, LDG_PROP_PENDING, 0, e->kind,
				       e->changes, e->n_changes);
		ldg_entry_free(e);
	}
	return rc;
}
