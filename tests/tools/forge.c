/*
 * forge.c - entries sealed without the writer's checks (forge.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "forge.h"
#include "store_impl.h"
#include "util.h"

int forge_seal(struct ldg_store *s, uint64_t head, const uint8_t *prev,
	       struct ldg_entry *e, const struct ldg_signer *k, uint8_t **buf,
	       size_t *len, struct ldg_err *err)
{
	uint8_t head_hash[LDG_HASH_BYTES];
	struct ldg_read *r;
	struct ldg_authz az;
	int rc = ldg_read_begin(s, &r, err);

	if (rc)
		return rc;
	if (!prev) {
		rc = ldg_head(r, &head, head_hash);
		prev = head_hash;
	}
	if (!rc)
		rc = ldg_authz_load(r, &az, err);
	ldg_read_end(r);
	if (rc)
		return rc;
	rc = ldg_entry_seal(e, head, prev, ldg_store_origin(s), &az, k, buf,
			    len, err);
	ldg_authz_free(&az);
	return rc;
}

/* The rows of db under seq that indexing e honestly writes, copied into
 * *out (malloc'd; NULL when there is none): worked out in a nested
 * transaction of w, which is then dropped. */
static int honest_row(struct ldg_read *w, const struct ldg_entry *e,
		      const uint8_t hash[LDG_HASH_BYTES], enum ldg_db db,
		      MDB_val *out)
{
	struct ldg_read child = { .s = w->s };
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc = ldg_mdb_err(
		mdb_txn_begin(mdb_txn_env(w->txn), w->txn, 0, &child.txn));

	out->mv_data = NULL;
	out->mv_size = 0;
	if (rc)
		return rc;
	ldg_put_be64(kb, e->seq);
	rc = ldg_index_entry(&child, e, hash);
	if (!rc) {
		rc = mdb_get(child.txn, w->s->dbi[db], &k, &v);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
		} else if (!rc) {
			out->mv_data = malloc(v.mv_size);
			if (out->mv_data) {
				memcpy(out->mv_data, v.mv_data, v.mv_size);
				out->mv_size = v.mv_size;
			}
			rc = out->mv_data ? 0 : -ENOMEM;
		} else {
			rc = ldg_mdb_err(rc);
		}
	}
	mdb_txn_abort(child.txn);
	return rc;
}

int forge_store(struct ldg_store *s, const uint8_t *bytes, size_t len,
		enum forge_index how, struct ldg_err *err)
{
	struct ldg_index_values vals = { .effective = true };
	uint8_t hash[LDG_HASH_BYTES], kb[8];
	struct ldg_entry *e = NULL;
	struct ldg_read w;
	MDB_val k = { 8, kb }, v = { len, (void *)bytes }, gov = { 0 },
		props = { 0 };
	int rc = ldg_entry_decode(bytes, len, &e, err);

	if (rc)
		return rc;
	vals.changes = e->changes;
	vals.n = e->n_changes;
	rc = ldg_write_begin(s, &w, err);
	if (rc)
		goto out_entry;
	ldg_put_be64(kb, e->seq);
	ldg_entry_hash(bytes, len, hash);
	rc = ldg_mdb_err(
		mdb_put(w.txn, s->dbi[DB_ENTRIES], &k, &v, MDB_NOOVERWRITE));
	if (rc || how == FORGE_INDEX_HONEST) {
		if (!rc)
			rc = ldg_index_entry(&w, e, hash);
		goto out_done;
	}
	/* effective: the governance rows an honest writer makes (the change
	 * pending), the values rows of a change in effect */
	rc = honest_row(&w, e, hash, DB_GOV, &gov);
	if (!rc)
		rc = honest_row(&w, e, hash, DB_PROPS, &props);
	if (!rc)
		rc = ldg_index_apply(&w, e, hash, &vals);
	if (!rc && gov.mv_data)
		rc = ldg_mdb_err(mdb_put(w.txn, s->dbi[DB_GOV], &k, &gov, 0));
	if (!rc && props.mv_data)
		rc = ldg_mdb_err(
			mdb_put(w.txn, s->dbi[DB_PROPS], &k, &props, 0));
out_done:
	free(gov.mv_data);
	free(props.mv_data);
	if (rc) {
		mdb_txn_abort(w.txn);
		ldg_err_set(err, rc, "cannot store entry %llu: %s",
			    (unsigned long long)e->seq, strerror(-rc));
		goto out_entry;
	}
	rc = ldg_mdb_err(mdb_txn_commit(w.txn));
	if (rc)
		ldg_err_set(err, rc, "cannot commit entry %llu",
			    (unsigned long long)e->seq);
out_entry:
	ldg_entry_free(e);
	return rc;
}
