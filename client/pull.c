/*
 * pull.c - what a server serves, checked here: its head, and its
 * entries pulled into a local copy (`ledger mirror`'s, or the private
 * one a remote rollback is built from) through ldg_append_copied().
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"
#include "util.h"
#include "verify.h"

/* The keyring and locks of a head's answer j, into *az. */
static int head_authz(const char *base, json_t *j, struct ldg_authz *az,
		      bool *have, struct ldg_err *err)
{
	const char *s = json_string_value(json_object_get(j, "authz"));
	size_t len = s ? strlen(s) : 0, blen;
	uint8_t *buf;
	int rc = 0;

	*have = s != NULL;
	if (!s)
		return 0;
	buf = malloc(len / 4 * 3 + 3);
	if (!buf)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if (sodium_base642bin(buf, len / 4 * 3 + 3, s, len, NULL, &blen, NULL,
			      sodium_base64_VARIANT_ORIGINAL))
		rc = -EBADMSG;
	else
		rc = ldg_authz_decode(buf, blen, az, err);
	free(buf);
	if (rc)
		return ldg_err_set(err, -EIO,
				   "%s: its head's \"authz\" is "
				   "not a keyring and locks state",
				   base);
	return 0;
}

int clt_head_authz(const char *base, struct clt_head *out, struct ldg_authz *az,
		   bool *have_az, struct ldg_err *err)
{
	json_t *j = NULL, *js;
	const char *h, *o, *msg;
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = clt_http_json(base, "/api/v1/head", NULL, NULL, 0, &status, &j,
			   err);
	if (rc)
		return rc;
	js = json_object_get(j, "seq");
	h = json_string_value(json_object_get(j, "hash"));
	o = json_string_value(json_object_get(j, "origin"));
	msg = json_string_value(json_object_get(j, "error"));
	if (status != 200) {
		rc = ldg_err_set(err, -EIO,
				 "%s: GET /api/v1/head answered "
				 "HTTP %ld%s%s",
				 base, status,
				 msg		 ? ": "
				 : status == 404 ? " (not a ledger server)"
						 : "",
				 msg ? msg : "");
	} else if (!json_is_integer(js) || !o || strlen(o) > LDG_ORIGIN_MAX) {
		rc = ldg_err_set(err, -EIO,
				 "%s: not a ledger server (GET "
				 "/api/v1/head has no seq, hash and origin)",
				 base);
	} else if (json_integer_value(js) <= 0 || !h ||
		   ldg_unhex(h, out->hash, LDG_HASH_BYTES)) {
		rc = ldg_err_set(err, -EIO, "%s holds no ledger", base);
	} else {
		out->seq = (uint64_t)json_integer_value(js);
		strcpy(out->origin, o);
		if (az)
			rc = head_authz(base, j, az, have_az, err);
	}
	json_decref(j);
	return rc;
}

int clt_gov_get(const char *base, struct ldg_gov *out, struct ldg_err *err)
{
	struct clt_head head;
	struct ldg_authz az;
	bool have = false;
	int rc;

	ldg_gov_init(out);
	ldg_authz_init(&az);
	rc = clt_head_authz(base, &head, &az, &have, err);
	if (!rc && ldg_gov_copy(out, &az.gov))
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
	ldg_authz_free(&az);
	return rc;
}

int clt_head_get(const char *base, struct clt_head *out, struct ldg_err *err)
{
	return clt_head_authz(base, out, NULL, NULL, err);
}

/* One page of at most limit entries after seq after, as exact bytes:
 * the entries point into *body (the caller frees it). -EPROTO an
 * answer that is not a batch. */
static int fetch_page(const char *base, uint64_t after, size_t limit,
		      char **body, const uint8_t **bufs, size_t *lens,
		      size_t *n, struct ldg_err *err)
{
	char path[96];
	size_t blen = 0;
	long status = 0;
	int rc;

	*n = 0;
	*body = NULL;
	if (limit > CLT_PAGE_MAX)
		limit = CLT_PAGE_MAX;
	snprintf(path, sizeof(path),
		 "/api/v1/entries?after=%" PRIu64 "&limit=%zu", after, limit);
	rc = clt_http_get(base, path, "application/msgpack", &status, body,
			  &blen, err);
	if (rc)
		return rc;
	if (status != 200)
		return ldg_err_set(err, -EIO, "GET %s answered HTTP %ld", path,
				   status);
	if (!*body || ldg_batch_split((const uint8_t *)*body, blen, limit, bufs,
				      lens, n, err)) {
		ldg_err_prefix(err, "GET %s", path);
		return -EPROTO;
	}
	return 0;
}

/* The copy's newest entry (seq) must be the server's, byte for byte. */
static int same_entry(const char *base, struct ldg_store *s, uint64_t seq,
		      struct ldg_err *err)
{
	char path[64], *body = NULL;
	const uint8_t *raw;
	struct ldg_read *r;
	long status = 0;
	size_t len, blen = 0;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/entries/%" PRIu64, seq);
	rc = clt_http_get(base, path, "application/msgpack", &status, &body,
			  &blen, err);
	if (rc)
		return rc;
	if (status != 200) {
		free(body);
		if (status == 404)
			return ldg_err_set(err, -EPERM,
					   "%s no longer has "
					   "entry %" PRIu64 ": its history was "
					   "cut",
					   base, seq);
		return ldg_err_set(err, -EIO, "GET %s answered HTTP %ld", path,
				   status);
	}
	rc = ldg_read_begin(s, &r, err);
	if (!rc) {
		rc = ldg_entry_raw(r, seq, &raw, &len);
		if (rc)
			ldg_err_set(err, rc, "cannot read entry %" PRIu64, seq);
		else if (len != blen || memcmp(raw, body, len))
			rc = ldg_err_set(err, -EPERM,
					 "entry %" PRIu64 " differs between "
					 "this copy and %s: the served ledger "
					 "was rewritten (or this copy was "
					 "written to)",
					 seq, base);
		ldg_read_end(r);
	}
	free(body);
	return rc;
}

bool clt_refused(int rc)
{
	return rc == -EBADMSG || rc == -ESTALE || rc == -EACCES ||
	       rc == -EBUSY || rc == -EPERM || rc == -EINVAL || rc == -EEXIST ||
	       rc == -ENOENT;
}

/* One page after out->head appended to s; *n 0 when the server has no
 * more. */
static int pull_page(const char *base, struct ldg_store *s, size_t limit,
		     struct clt_pulled *out, size_t *n, struct ldg_err *err)
{
	const uint8_t *bufs[CLT_PAGE_MAX];
	size_t lens[CLT_PAGE_MAX];
	struct ldg_result res = { 0 };
	char *body = NULL;
	int rc;

	rc = fetch_page(base, out->head, limit, &body, bufs, lens, n, err);
	if (!rc && *n) {
		rc = ldg_append_copied(s, bufs, lens, *n, &res, err);
		if (rc)
			ldg_err_prefix(err, "from %s", base);
		if (clt_refused(rc)) {
			rc = -EPERM;
			if (err)
				err->code = rc;
		}
	}
	if (!rc && *n) {
		out->head = res.v[res.n - 1].seq;
		memcpy(out->hash, res.v[res.n - 1].hash, LDG_HASH_BYTES);
		out->added += res.n;
	}
	ldg_result_free(&res);
	free(body);
	return rc;
}

int clt_pull(const char *base, struct ldg_store *s,
	     const struct clt_head *named, bool past, clt_page_fn fn, void *arg,
	     struct clt_pulled *out, struct ldg_err *err)
{
	uint8_t at[LDG_HASH_BYTES];
	struct ldg_read *r;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		return rc;
	rc = ldg_head(r, &out->head, out->hash);
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head of the copy");
	if (out->head > named->seq)
		return ldg_err_set(err, -EPERM,
				   "this copy has %" PRIu64
				   " entries, %s only %" PRIu64 ": entries "
				   "were removed from the served ledger (or "
				   "this copy was written to)",
				   out->head, base, named->seq);
	rc = out->head ? same_entry(base, s, out->head, err) : 0;
	while (!rc && (past || out->head < named->seq)) {
		rc = pull_page(base, s,
			       past ? CLT_PAGE_MAX
				    : (size_t)(named->seq - out->head),
			       out, &n, err);
		if (rc || n == 0)
			break;
		if (fn)
			fn(out->head, arg);
	}
	if (rc)
		return rc;
	/* every entry up to the head the server named is here, checked;
	 * that head must be the one it named */
	if (out->head < named->seq)
		return ldg_err_set(err, -EPERM,
				   "%s named head %" PRIu64 " but "
				   "served entries up to %" PRIu64 " only",
				   base, named->seq, out->head);
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		return rc;
	rc = ldg_entry_hash_at(r, named->seq, at);
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc, "cannot read entry %" PRIu64,
				   named->seq);
	if (memcmp(at, named->hash, LDG_HASH_BYTES))
		return ldg_err_set(err, -EPERM,
				   "%s named head %" PRIu64 " but "
				   "served another entry %" PRIu64 ": the "
				   "served ledger changed meanwhile (the copy "
				   "holds what was served, checked)",
				   base, named->seq, named->seq);
	return 0;
}

/* ---- the mirror's check of what it copied ---- */

int clt_anchor_get(struct ldg_store *s, struct clt_anchor *out,
		   struct ldg_err *err)
{
	struct ldg_read *r;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		return rc;
	rc = ldg_head(r, &out->size, NULL);
	if (!rc && out->size)
		rc = ldg_merkle_root_at(r, out->size, out->root);
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc,
				   "cannot read the head of the copy; run "
				   "ledger verify");
	return 0;
}

int clt_verify_copy(struct ldg_store *s, const struct clt_anchor *a, bool *full,
		    struct ldg_err *err)
{
	struct ldg_verify_opts vo = { 0 };
	struct ldg_verify_report rep;
	int rc;

	rc = ldg_verify_copy(s, a->size, a->root, &vo, &rep, err);
	*full = rep.since == 0 || rc == -ENOTSUP;
	if (rc != -EBADMSG)
		return rc;
	if (rep.bad_seq)
		return ldg_err_set(err, -EPERM,
				   "the copy does not verify: entry %" PRIu64
				   ": %s",
				   rep.bad_seq, rep.problem);
	return ldg_err_set(err, -EPERM, "the copy does not verify: %s",
			   rep.problem);
}

/* ---- the private copy of a remote rollback ---- */

struct clt_copy {
	char dir[PATH_MAX];
	const char *base;
	struct ldg_store *s;
};

int clt_copy_open(const char *base, struct clt_copy **out, struct ldg_err *err)
{
	const char *tmp = getenv("TMPDIR");
	struct clt_copy *cp = calloc(1, sizeof(*cp));
	int rc;

	*out = NULL;
	if (!cp)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	cp->base = base;
	snprintf(cp->dir, sizeof(cp->dir), "%s/ledger-copy-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(cp->dir)) {
		rc = ldg_err_set(err, -errno,
				 "cannot create a private "
				 "directory in $TMPDIR: %s",
				 strerror(errno));
		free(cp);
		return rc;
	}
	rc = ldg_store_open(cp->dir, LDG_OPEN_CREATE, &cp->s, err);
	if (rc) {
		ldg_store_unmake(cp->dir, true, true, true);
		free(cp);
		return rc;
	}
	*out = cp;
	return 0;
}

int clt_copy_sync(struct clt_copy *cp, uint64_t head,
		  const uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err)
{
	struct clt_head named = { .seq = head };
	struct clt_pulled got;
	int rc;

	if (head) {
		memcpy(named.hash, hash, LDG_HASH_BYTES);
	} else {
		/* the copy replays keyring and locks itself */
		rc = clt_head_get(cp->base, &named, err);
		if (rc)
			return rc;
	}
	return clt_pull(cp->base, cp->s, &named, false, NULL, NULL, &got, err);
}

struct ldg_store *clt_copy_store(struct clt_copy *cp)
{
	return cp->s;
}

void clt_copy_close(struct clt_copy *cp)
{
	if (!cp)
		return;
	ldg_store_close(cp->s);
	ldg_store_unmake(cp->dir, true, true, true);
	free(cp);
}
