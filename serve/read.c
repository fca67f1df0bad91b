#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "authorize.h"
#include "render.h"
#include "serve_impl.h"
#include "tiles.h"
#include "util.h"
#include "verify.h"

/* ---- handlers ---- */

/* The clock freeze windows are judged at (unix seconds). */
static int64_t now_s(void)
{
	return (int64_t)(ldg_now_ns() / 1000000000u);
}

/* The keyring and locks at the head, as STATE bytes in base64
 * (docs/format.md 8.1): what a remote writer stamps its entries from. */
static json_t *authz_json(struct ldg_read *r)
{
	struct ldg_authz az;
	uint8_t *buf = NULL;
	size_t len = 0, blen;
	json_t *j = NULL;
	char *b64;

	if (ldg_authz_load(r, &az, NULL))
		return NULL;
	if (ldg_authz_encode(&az, &buf, &len) == 0) {
		blen = sodium_base64_ENCODED_LEN(len,
						 sodium_base64_VARIANT_ORIGINAL);
		b64 = malloc(blen);
		if (b64) {
			sodium_bin2base64(b64, blen, buf, len,
					  sodium_base64_VARIANT_ORIGINAL);
			j = json_string(b64);
			free(b64);
		}
	}
	free(buf);
	ldg_authz_free(&az);
	return j;
}

int srv_h_head(const struct srv_request *rq, struct srv_reply *rp)
{
	uint8_t hash[LDG_HASH_BYTES], root[LDG_HASH_BYTES];
	char hh[2 * LDG_HASH_BYTES + 1], rh[2 * LDG_HASH_BYTES + 1];
	struct ldg_read *r;
	json_t *az = NULL;
	uint64_t head;
	int rc;

	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = ldg_head(r, &head, hash);
	if (!rc && head)
		rc = ldg_merkle_root_at(r, head, root);
	if (!rc && head) {
		az = authz_json(r);
		rc = az ? 0 : -EIO;
	}
	ldg_read_end(r);
	if (rc) {
		srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"cannot read the head");
		return 0;
	}
	ldg_hex(hash, LDG_HASH_BYTES, hh);
	ldg_hex(root, LDG_HASH_BYTES, rh);
	srv_reply_json(rp, MHD_HTTP_OK,
		       json_pack("{s:s, s:I, s:o, s:o, s:o}", "origin",
				 ldg_store_origin(rq->sv->store), "seq",
				 (json_int_t)head, "hash",
				 head ? json_string(hh) : json_null(), "root",
				 head ? json_string(rh) : json_null(), "authz",
				 az ? az : json_null()));
	return 0;
}

int srv_h_state(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *at_s = srv_arg(rq, "at"), *scope = srv_arg(rq, "scope");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t at = 0, head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (at_s && srv_parse_seq("at", at_s, false, &at, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (scope && srv_parse_scope(scope, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	if (at > head) {
		ldg_read_end(r);
		return srv_reply_error(rp, MHD_HTTP_BAD_REQUEST,
				       "at: no entry %llu: the head is %llu",
				       (unsigned long long)at,
				       (unsigned long long)head);
	}
	rc = rnd_state(r, scope, at, true, &out, &len, &err);
	ldg_read_end(r);
	srv_reply_rendered(rp, rc, out, len, &err);
	return 0;
}

int srv_h_history(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *before_s = srv_arg(rq, "before");
	const char *limit_s = srv_arg(rq, "limit");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head, before = 0, limit = 0; /* no limit: the whole history */
	char *out = NULL;
	size_t len = 0;
	int rc;

	if ((before_s &&
	     srv_parse_seq("before", before_s, false, &before, &err)) ||
	    (limit_s && srv_parse_limit(limit_s, &limit, &err)))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = rnd_history_page(r, rq->path->scope, before, (size_t)limit, true,
			      &out, &len, &err);
	ldg_read_end(r);
	srv_reply_rendered(rp, rc, out, len, &err);
	return 0;
}

/* A msgpack page stops at this many bytes of entries (after its first):
 * 500 entries of the largest size would be 500 MB. */
#define SRV_RAW_PAGE_BYTES (4u << 20)

/* Entries after..last as a batch of their exact stored bytes
 * (ldg_batch_join()), cut short at SRV_RAW_PAGE_BYTES: what `ledger
 * mirror` copies. The bytes are LMDB's until the read ends: joined
 * (copied) before it. */
static int entries_msgpack(struct ldg_read *r, uint64_t after, uint64_t last,
			   struct srv_reply *rp)
{
	size_t n = (size_t)(last - after), total = 0, len = 0;
	const uint8_t **raw = calloc(n ? n : 1, sizeof(*raw));
	size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	uint8_t *body = NULL;
	int rc = raw && lens ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		rc = ldg_entry_raw(r, after + 1 + i, &raw[i], &lens[i]);
		if (!rc && i > 0 && total + lens[i] > SRV_RAW_PAGE_BYTES) {
			n = i;
			break;
		}
		total += lens[i];
	}
	if (!rc)
		rc = ldg_batch_join(raw, lens, n, &body, &len, NULL);
	free(raw);
	free(lens);
	if (rc)
		return rc;
	rp->status = MHD_HTTP_OK;
	rp->type = "application/msgpack";
	rp->body = (char *)body; /* never empty: the array's header at least */
	rp->len = len;
	rp->vary_accept = true;
	return 0;
}

int srv_h_entries(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *accept =
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_ACCEPT);
	const char *after_s = srv_arg(rq, "after");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t after = 0, limit, head, last;
	json_t *arr;
	int rc = 0;

	if (after_s && srv_parse_seq("after", after_s, true, &after, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (srv_parse_limit(srv_arg(rq, "limit"), &limit, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	last = after >= head ? after : after + limit;
	if (last > head)
		last = head;
	if (srv_accepts_msgpack(accept)) {
		rc = entries_msgpack(r, after, last, rp);
		ldg_read_end(r);
		if (rc) {
			ldg_err_set(&err, rc, "cannot read the entries");
			return srv_reply_ldg(rp, rc, &err);
		}
		return 0;
	}
	arr = json_array();
	for (uint64_t seq = after + 1; arr && !rc && seq <= last; seq++) {
		json_t *j;
		rc = rnd_entry_json_at(r, seq, &j, &err);
		if (!rc)
			json_array_append_new(arr, j);
	}
	ldg_read_end(r);
	if (rc || !arr) {
		json_decref(arr);
		return srv_reply_ldg(rp, rc ? rc : -ENOMEM, &err);
	}
	srv_reply_json(rp, MHD_HTTP_OK,
		       json_pack("{s:I, s:I, s:I, s:o, s:o}", "head",
				 (json_int_t)head, "after", (json_int_t)after,
				 "limit", (json_int_t)limit, "entries", arr,
				 "next",
				 last < head && last > after
					 ? json_integer((json_int_t)last)
					 : json_null()));
	return 0;
}

int srv_h_entry(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *accept =
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_ACCEPT);
	uint64_t seq = rq->path->seq, head;
	uint8_t hash[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	const uint8_t *raw;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (srv_begin_entry(rp, rq->sv, seq, &r, &head))
		return 0;
	rc = ldg_entry_hash_at(r, seq, hash);
	if (!rc && srv_accepts_msgpack(accept)) {
		rc = ldg_entry_raw(r, seq, &raw, &len);
		if (!rc) {
			/* LMDB's memory: copied before the read ends */
			out = malloc(len ? len : 1);
			if (out)
				memcpy(out, raw, len);
			else
				rc = -ENOMEM;
		}
		rp->type = "application/msgpack";
	} else if (!rc) {
		rc = rnd_show(r, seq, true, &out, &len, &err);
		rp->type = "application/json";
		/* the bytes never change; the JSON of an entry naming a
		 * pending proposal does, when the proposal ends */
		if (!rnd_entry_settled(r, seq))
			rp->cache = "no-store";
	}
	ldg_read_end(r);
	if (rc)
		return srv_reply_ldg(rp, rc, &err);
	rp->status = MHD_HTTP_OK;
	rp->body = out;
	rp->len = len;
	if (!rp->cache) /* an entry never changes */
		rp->cache = "public, max-age=31536000, immutable";
	rp->vary_accept = true;
	ldg_hex(hash, LDG_HASH_BYTES, rp->entry_hash);
	return 0;
}

int srv_h_releases(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *scope = srv_arg(rq, "scope");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (scope && srv_parse_scope(scope, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = rnd_releases(r, scope, now_s(), true, &out, &len, &err);
	ldg_read_end(r);
	srv_reply_rendered(rp, rc, out, len, &err);
	return 0;
}

int srv_h_keys(const struct srv_request *rq, struct srv_reply *rp)
{
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	json_t *arr;
	int rc;

	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = rnd_keyring_json(r, &arr, &err);
	ldg_read_end(r);
	if (rc)
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s",
				       err.msg);
	return srv_reply_json(rp, MHD_HTTP_OK, json_pack("{s:o}", "keys", arr));
}

/* The stored bytes of seq and their hash; *e decoded when e is given.
 * The bytes are LMDB's: valid until r ends. */
/* What one entry proves on its own (ldg_entry_prove()). */
int srv_h_check(const struct srv_request *rq, struct srv_reply *rp)
{
	struct ldg_entry_proof pr;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	int rc;

	if (srv_begin_entry(rp, rq->sv, rq->path->seq, &r, &head))
		return 0;
	rc = ldg_entry_prove(r, rq->path->seq, &pr, &err);
	ldg_read_end(r);
	if (rc)
		return srv_reply_ldg(rp, rc, &err);
	return srv_reply_json(rp, MHD_HTTP_OK,
			      rnd_entry_proof_json(rq->path->seq, &pr));
}

/* The report of `ledger verify --json`, as JSON text. */
static int verify_render(struct srv *sv, int *vrc, char **out, size_t *len,
			 uint64_t *head, struct ldg_err *err)
{
	struct ldg_verify_opts vo = { 0 };
	struct ldg_verify_report rep;

	*vrc = ldg_verify(sv->store, &vo, &rep, err);
	if (*vrc && *vrc != -EBADMSG)
		return *vrc;
	*head = rep.head;
	if (rnd_json_out(rnd_verify_json(&rep, *vrc), out, len))
		return ldg_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int srv_h_verify(const struct srv_request *rq, struct srv_reply *rp)
{
	struct srv *sv = rq->sv;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head, seen;
	int rc = 0, vrc = 0;

	if (srv_begin(rp, sv, &r, &head))
		return 0;
	ldg_read_end(r);
	pthread_mutex_lock(&sv->verify_lock);
	if (!sv->verify_body || sv->verify_head != head) {
		char *out;
		size_t len;
		rc = verify_render(sv, &vrc, &out, &len, &seen, &err);
		if (!rc) {
			free(sv->verify_body);
			sv->verify_body = out;
			sv->verify_len = len;
			sv->verify_head = seen;
		}
	}
	if (!rc) {
		rp->body = malloc(sv->verify_len);
		rp->len = sv->verify_len;
		if (rp->body)
			memcpy(rp->body, sv->verify_body, sv->verify_len);
		else
			rc = ldg_err_set(&err, -ENOMEM, "out of memory");
	}
	pthread_mutex_unlock(&sv->verify_lock);
	/* the check could not run: never a 404 */
	if (rc)
		return srv_reply_ldg(rp, rc == -ENOENT ? -EIO : rc, &err);
	rp->status = MHD_HTTP_OK;
	rp->type = "application/json";
	rp->cache = "no-store";
	return 0;
}

/* ---- promotion policies ---- */

int srv_h_pending(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *arg = srv_arg(rq, "scope");
	char scope[LDG_SCOPE_MAX + 3];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	/* a cluster is every target of it, as `ledger pending CLUSTER` */
	if (arg && !strchr(arg, '/') && !ldg_check_cluster(arg, NULL))
		snprintf(scope, sizeof(scope), "%s/*", arg);
	else if (arg && ldg_check_scope(arg, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	else if (arg)
		snprintf(scope, sizeof(scope), "%s", arg);
	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = rnd_pending(r, arg ? scope : NULL, now_s(), true, &out, &len,
			 &err);
	ldg_read_end(r);
	srv_reply_rendered(rp, rc, out, len, &err);
	return 0;
}

/* `ledger policy show [TARGET] --json` at the head (target NULL: every
 * policy and window), windows judged at the server's clock. */
static int policy_show(const struct srv_request *rq, struct srv_reply *rp,
		       const char *target)
{
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = rnd_policy_show(r, target, now_s(), true, &out, &len, &err);
	ldg_read_end(r);
	return srv_reply_rendered(rp, rc, out, len, &err);
}

int srv_h_policy(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *target = srv_arg(rq, "target");
	struct ldg_err err = { 0 };

	if (!target)
		return srv_reply_error(rp, MHD_HTTP_BAD_REQUEST,
				       "target: missing: GET /api/v1/policy "
				       "?target=CLUSTER/RELEASE (every policy: "
				       "GET /api/v1/policies)");
	if (ldg_check_target(target, &err)) {
		ldg_err_prefix(&err, "target");
		return srv_reply_ldg(rp, -EINVAL, &err);
	}
	return policy_show(rq, rp, target);
}

int srv_h_policies(const struct srv_request *rq, struct srv_reply *rp)
{
	return policy_show(rq, rp, NULL);
}

/* A C2SP tile or entry bundle the head has (docs/format.md "Tiles"):
 * a full one never changes; a partial one may be dropped once the full
 * one is there (C2SP tlog-tiles), so it is cached briefly. */
int srv_h_tile(const struct srv_request *rq, struct srv_reply *rp)
{
	const struct srv_path *p = rq->path;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint8_t *buf;
	uint64_t head;
	size_t len;
	int rc;

	if (srv_begin(rp, rq->sv, &r, &head))
		return 0;
	rc = ldg_tile_bytes(r, p->level, p->n, p->width, &buf, &len, &err);
	ldg_read_end(r);
	/* an entry too large for a bundle (written before the cap) */
	if (rc == -EFBIG)
		return srv_reply_error(rp, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s",
				       err.msg);
	if (rc)
		return srv_reply_ldg(rp, rc, &err);
	rp->status = MHD_HTTP_OK;
	rp->body = (char *)buf;
	rp->len = len;
	rp->type = "application/octet-stream";
	rp->cache = p->width == LDG_TILE_WIDTH
			    ? "public, max-age=31536000, immutable"
			    : "public, max-age=60";
	return 0;
}
