#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "assets.h"
#include "checkpoint.h"
#include "ops.h"
#include "rate.h"
#include "render.h"
#include "serve.h"
#include "util.h"
#include "verify.h"
#include "writer.h"

#define SSE_BATCH 32 /* entries rendered per read of an event stream */
#define SRV_JSON_MAX (2 * LDG_ENTRY_MAX) /* a JSON POST body (base64) */
#define SRV_PAGE_CSP                                                      \
	"default-src 'none'; script-src 'self'; style-src 'self'; "         \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; "       \
	"form-action 'none'; frame-ancestors 'none'"

struct srv {
	struct ldg_store *store; /* borrowed */
	struct srv_writer *writer; /* borrowed; NULL: read-only */
	struct MHD_Daemon *mhd;
	uint16_t port;
	pthread_t poller;
	bool poller_started;

	/* lock guards head and stopping; moved is broadcast when either
	 * changes (the poller also waits on it, for stopping) */
	pthread_mutex_t lock;
	pthread_cond_t moved;
	uint64_t head;
	bool stopping;

	/* the verify report of verify_head, rendered; verify_lock is held
	 * while ldg_verify() runs, so it runs once per head */
	pthread_mutex_t verify_lock;
	uint64_t verify_head;
	char *verify_body;
	size_t verify_len;

	struct srv_rate *rate; /* POSTs per client address (rate.h) */

	/* the newest published checkpoint (cp_lock): its note and size */
	pthread_mutex_t cp_lock;
	char cp_path[PATH_MAX]; /* "" when none are taken */
	char *cp_text;
	uint64_t cp_size;
};

/* What a handler answers: a status and a malloc'd body (JSON unless
 * type says otherwise), or a stream response. */
struct reply {
	unsigned status;
	char *body;
	size_t len;
	const char *type;
	const char *cache;       /* Cache-Control, or NULL */
	bool vary_accept;
	char entry_hash[2 * LDG_HASH_BYTES + 1]; /* Ledger-Entry-Hash */
	const char *allow;  /* the Allow header of a 405 */
	const char *etag;
	unsigned retry_after; /* seconds, for a 429 */
	const unsigned char *static_body; /* instead of body: not freed */
	bool page; /* a file of the web page (its CSP, also on a 304) */
	struct MHD_Response *stream;
};

struct request {
	struct srv *sv;
	struct MHD_Connection *conn;
	const struct srv_path *path;
};

/* A POST body being read (MHD's per-request pointer). */
struct upload {
	enum srv_route_id id; /* SRV_R_ENTRIES or SRV_R_DRAFTS */
	bool json;            /* else msgpack */
	size_t max;           /* the largest body taken */
	uint8_t *buf;
	size_t len, cap;
	bool too_big;
};

/* ---- replies ---- */

static int reply_json(struct reply *rp, unsigned status, json_t *j)
{
	rp->status = status;
	rp->type = "application/json";
	if (ldg_json_out(j, &rp->body, &rp->len)) {
		rp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		rp->body = NULL;
		rp->len = 0;
	}
	return 0;
}

static int reply_error(struct reply *rp, unsigned status, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

static int reply_error(struct reply *rp, unsigned status, const char *fmt,
			...)
{
	char msg[2 * LDG_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(rp->body);
	rp->body = NULL;
	reply_json(rp, status, json_pack("{s:s}", "error", msg));
	return 0;
}

/* A library failure: bad input 400, missing 404, anything else 500. */
static int reply_ldg(struct reply *rp, int rc, const struct ldg_err *err)
{
	unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;

	if (rc == -EINVAL)
		status = MHD_HTTP_BAD_REQUEST;
	else if (rc == -ENOENT)
		status = MHD_HTTP_NOT_FOUND;
	reply_error(rp, status, "%s",
		    err && err->msg[0] ? err->msg : strerror(-rc));
	return 0;
}

/* Takes the rendered JSON of a library call. */
static int reply_rendered(struct reply *rp, int rc, char *out, size_t len,
			   const struct ldg_err *err)
{
	if (rc) {
		reply_ldg(rp, rc, err);
		return 0;
	}
	rp->status = MHD_HTTP_OK;
	rp->type = "application/json";
	rp->body = out;
	rp->len = len;
	return 0;
}

static int begin(struct reply *rp, struct srv *sv, struct ldg_read **r,
		 uint64_t *head)
{
	struct ldg_err err = { 0 };
	int rc = ldg_read_begin(sv->store, r, &err);

	if (rc) {
		reply_ldg(rp, rc, &err);
		return rc;
	}
	rc = ldg_head(*r, head, NULL);
	if (rc) {
		ldg_read_end(*r);
		reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot read the head");
	}
	return rc;
}

/* begin(), then a 404 when seq is beyond the head (r is then ended). */
static int begin_entry(struct reply *rp, struct srv *sv, uint64_t seq,
		       struct ldg_read **r, uint64_t *head)
{
	if (begin(rp, sv, r, head))
		return -EIO;
	if (seq <= *head)
		return 0;
	ldg_read_end(*r);
	reply_error(rp, MHD_HTTP_NOT_FOUND, "no entry %llu: the head is %llu",
		    (unsigned long long)seq, (unsigned long long)*head);
	return -ENOENT;
}

static const char *arg(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

/* ---- handlers ---- */

static int h_head(const struct request *rq, struct reply *rp)
{
	uint8_t hash[LDG_HASH_BYTES], root[LDG_HASH_BYTES];
	char hh[2 * LDG_HASH_BYTES + 1], rh[2 * LDG_HASH_BYTES + 1];
	struct ldg_read *r;
	uint64_t head;
	int rc;

	if (begin(rp, rq->sv, &r, &head))
		return 0;
	rc = ldg_head(r, &head, hash);
	if (!rc && head)
		rc = ldg_merkle_root_at(r, head, root);
	ldg_read_end(r);
	if (rc) {
		reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot read the head");
		return 0;
	}
	ldg_hex(hash, LDG_HASH_BYTES, hh);
	ldg_hex(root, LDG_HASH_BYTES, rh);
	reply_json(rp, MHD_HTTP_OK,
		   json_pack("{s:s, s:I, s:o, s:o}", "origin",
			     ldg_store_origin(rq->sv->store), "seq",
			     (json_int_t)head, "hash",
			     head ? json_string(hh) : json_null(), "root",
			     head ? json_string(rh) : json_null()));
	return 0;
}

static int h_state(const struct request *rq, struct reply *rp)
{
	const char *at_s = arg(rq, "at"), *scope = arg(rq, "scope");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t at = 0, head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (at_s && srv_parse_seq("at", at_s, false, &at, &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (scope && srv_parse_scope(scope, &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (begin(rp, rq->sv, &r, &head))
		return 0;
	if (at > head) {
		ldg_read_end(r);
		return reply_error(rp, MHD_HTTP_BAD_REQUEST,
				   "at: no entry %llu: the head is %llu",
				   (unsigned long long)at,
				   (unsigned long long)head);
	}
	rc = ldg_render_state(r, scope, at, true, &out, &len, &err);
	ldg_read_end(r);
	reply_rendered(rp, rc, out, len, &err);
	return 0;
}

static int h_history(const struct request *rq, struct reply *rp)
{
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (begin(rp, rq->sv, &r, &head))
		return 0;
	rc = ldg_render_history(r, rq->path->scope, 0, true, &out, &len,
				&err);
	ldg_read_end(r);
	reply_rendered(rp, rc, out, len, &err);
	return 0;
}

/* The JSON of entry seq (ldg_entry_json), or NULL with rc set. */
static json_t *entry_json(struct ldg_read *r, uint64_t seq, int *rc,
			  struct ldg_err *err)
{
	uint8_t hash[LDG_HASH_BYTES];
	struct ldg_entry *e;
	json_t *j;

	*rc = ldg_entry_read(r, seq, &e, err);
	if (*rc)
		return NULL;
	*rc = ldg_entry_hash_at(r, seq, hash);
	if (*rc) {
		ldg_entry_free(e);
		ldg_err_set(err, *rc, "entry %llu has no stored hash",
			    (unsigned long long)seq);
		return NULL;
	}
	j = ldg_entry_json(r, e, hash);
	ldg_entry_free(e);
	if (!j)
		*rc = ldg_err_set(err, -ENOMEM, "out of memory");
	return j;
}

static int h_entries(const struct request *rq, struct reply *rp)
{
	const char *after_s = arg(rq, "after");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t after = 0, limit, head, last;
	json_t *arr;
	int rc = 0;

	if (after_s && srv_parse_seq("after", after_s, true, &after, &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (srv_parse_limit(arg(rq, "limit"), &limit, &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (begin(rp, rq->sv, &r, &head))
		return 0;
	last = after >= head ? after : after + limit;
	if (last > head)
		last = head;
	arr = json_array();
	for (uint64_t seq = after + 1; arr && seq <= last; seq++) {
		json_t *j = entry_json(r, seq, &rc, &err);
		if (!j)
			break;
		json_array_append_new(arr, j);
	}
	ldg_read_end(r);
	if (rc || !arr) {
		json_decref(arr);
		return reply_ldg(rp, rc ? rc : -ENOMEM, &err);
	}
	reply_json(rp, MHD_HTTP_OK,
		   json_pack("{s:I, s:I, s:I, s:o, s:o}", "head",
			     (json_int_t)head, "after", (json_int_t)after,
			     "limit", (json_int_t)limit, "entries", arr,
			     "next",
			     last < head && last > after
				     ? json_integer((json_int_t)last)
				     : json_null()));
	return 0;
}

static int h_entry(const struct request *rq, struct reply *rp)
{
	const char *accept = MHD_lookup_connection_value(
		rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	uint64_t seq = rq->path->seq, head;
	uint8_t hash[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	const uint8_t *raw;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (begin_entry(rp, rq->sv, seq, &r, &head))
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
		rc = ldg_render_show(r, seq, true, &out, &len, &err);
		rp->type = "application/json";
	}
	ldg_read_end(r);
	if (rc)
		return reply_ldg(rp, rc, &err);
	rp->status = MHD_HTTP_OK;
	rp->body = out;
	rp->len = len;
	/* an entry never changes */
	rp->cache = "public, max-age=31536000, immutable";
	rp->vary_accept = true;
	ldg_hex(hash, LDG_HASH_BYTES, rp->entry_hash);
	return 0;
}

static int h_releases(const struct request *rq, struct reply *rp)
{
	const char *scope = arg(rq, "scope");
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (scope && srv_parse_scope(scope, &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (begin(rp, rq->sv, &r, &head))
		return 0;
	rc = ldg_render_releases(r, scope, true, &out, &len, &err);
	ldg_read_end(r);
	reply_rendered(rp, rc, out, len, &err);
	return 0;
}

static int h_keys(const struct request *rq, struct reply *rp)
{
	struct ldg_keyinfo *keys = NULL;
	struct ldg_read *r;
	uint64_t head;
	size_t n = 0;
	json_t *arr;
	int rc;

	if (begin(rp, rq->sv, &r, &head))
		return 0;
	rc = ldg_keyring_list(r, &keys, &n);
	ldg_read_end(r);
	if (rc)
		return reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot read the keyring");
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char kh[2 * LDG_KEYID_BYTES + 1], text[LDG_VKEY_TEXT_MAX];
		ldg_hex(keys[i].vkey.keyid, LDG_KEYID_BYTES, kh);
		ldg_vkey_format(&keys[i].vkey, text);
		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}",
				  "name", keys[i].vkey.name, "keyid", kh,
				  "vkey", text, "role", keys[i].role,
				  "scopes", keys[i].scopes, "added_seq",
				  (json_int_t)keys[i].added_seq,
				  "revoked_seq",
				  keys[i].revoked_seq
					  ? json_integer((json_int_t)keys[i]
								 .revoked_seq)
					  : json_null()));
	}
	free(keys);
	return reply_json(rp, MHD_HTTP_OK, json_pack("{s:o}", "keys", arr));
}

/* The stored bytes of seq and their hash; *e decoded when e is given.
 * The bytes are LMDB's: valid until r ends. */
static int raw_entry(struct ldg_read *r, uint64_t seq, const uint8_t **buf,
		     size_t *len, uint8_t hash[LDG_HASH_BYTES],
		     struct ldg_entry **e)
{
	int rc;

	if (e)
		*e = NULL;
	rc = ldg_entry_raw(r, seq, buf, len);
	if (rc)
		return rc;
	ldg_entry_hash(*buf, *len, hash);
	if (e && ldg_entry_decode(*buf, *len, e, NULL)) {
		*e = NULL;
		return -EBADMSG;
	}
	return 0;
}

/* What one entry proves on its own: its signature by its signer's key,
 * the signer's standing at that seq, and its links to its neighbours. */
static int h_check(const struct request *rq, struct reply *rp)
{
	uint64_t seq = rq->path->seq, head;
	uint8_t hash[LDG_HASH_BYTES], other[LDG_HASH_BYTES];
	char hh[2 * LDG_HASH_BYTES + 1], kh[2 * LDG_KEYID_BYTES + 1];
	struct ldg_entry *e = NULL, *next = NULL;
	const char *sig_problem = NULL, *key_problem = NULL;
	struct ldg_keyinfo ki;
	const uint8_t *buf, *obuf;
	size_t len, olen;
	json_t *prev_ok, *next_ok, *key;
	struct ldg_read *r;
	int rc;

	if (begin_entry(rp, rq->sv, seq, &r, &head))
		return 0;
	rc = raw_entry(r, seq, &buf, &len, hash, &e);
	if (rc && rc != -EBADMSG) {
		ldg_read_end(r);
		return reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "entry %llu cannot be read (run ledger "
				   "verify)",
				   (unsigned long long)seq);
	}
	ldg_hex(hash, LDG_HASH_BYTES, hh);
	if (!e) {
		/* rewritten into something that is not an entry at all */
		sig_problem = "the stored bytes are not a valid entry";
		key = json_null();
	} else if (ldg_keyring_by_id(r, e->signer, &ki)) {
		sig_problem = "the signer is not in the keyring";
		key = json_null();
	} else {
		ldg_hex(e->signer, LDG_KEYID_BYTES, kh);
		if (ldg_entry_verify_sig(buf, len, ldg_store_origin(rq->sv->store),
					 ki.vkey.pk))
			sig_problem = "the signature does not verify";
		if (ki.added_seq > seq ||
		    (ki.added_seq == seq && seq != 1))
			key_problem = "the key was added after this entry";
		else if (ki.revoked_seq && ki.revoked_seq < seq)
			key_problem = "the key was revoked before this entry";
		key = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "name",
				ki.vkey.name, "keyid", kh, "role", ki.role,
				"scopes", ki.scopes, "added_seq",
				(json_int_t)ki.added_seq, "revoked_seq",
				ki.revoked_seq
					? json_integer((json_int_t)ki.revoked_seq)
					: json_null());
	}
	if (!e) {
		prev_ok = json_false();
	} else if (seq == 1) {
		memset(other, 0, sizeof(other));
		prev_ok = json_boolean(!memcmp(e->prev, other, LDG_HASH_BYTES));
	} else {
		rc = raw_entry(r, seq - 1, &obuf, &olen, other, NULL);
		prev_ok = rc ? json_false()
			     : json_boolean(!memcmp(e->prev, other,
						    LDG_HASH_BYTES));
	}
	if (seq == head) {
		next_ok = json_null();
	} else {
		rc = raw_entry(r, seq + 1, &obuf, &olen, other, &next);
		next_ok = json_boolean(!rc && !memcmp(next->prev, hash,
						      LDG_HASH_BYTES));
		ldg_entry_free(next);
	}
	ldg_read_end(r);
	ldg_entry_free(e);
	return reply_json(
		rp, MHD_HTTP_OK,
		json_pack("{s:I, s:s, s:{s:b, s:s?}, s:{s:b, s:s?}, s:o, "
			  "s:{s:o, s:o}}",
			  "seq", (json_int_t)seq, "hash", hh, "signature",
			  "ok", !sig_problem, "problem", sig_problem,
			  "signer_key", "ok", !sig_problem && !key_problem,
			  "problem", sig_problem ? sig_problem : key_problem,
			  "key", key, "chain", "prev_ok", prev_ok, "next_ok",
			  next_ok));
}

/* ---- checkpoints: signed elsewhere, kept and handed out here ---- */

static int h_checkpoint(const struct request *rq, struct reply *rp)
{
	struct srv *sv = rq->sv;

	pthread_mutex_lock(&sv->cp_lock);
	if (sv->cp_text) {
		rp->body = strdup(sv->cp_text);
		rp->len = rp->body ? strlen(rp->body) : 0;
	}
	pthread_mutex_unlock(&sv->cp_lock);
	if (!rp->body)
		return reply_error(rp, MHD_HTTP_NOT_FOUND,
				   "no checkpoint has been published here: "
				   "sign one with `ledger --remote URL "
				   "checkpoint`");
	rp->status = MHD_HTTP_OK;
	rp->type = "text/plain; charset=utf-8";
	return 0;
}

/* Writes text to path through a temporary file, fsync'd and renamed, so
 * that a reader finds the old note or the new one. */
static int write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	size_t len = strlen(text), off = 0;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len && !rc) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static int h_publish(struct srv *sv, const struct upload *u,
		     struct reply *rp)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	char rh[2 * LDG_HASH_BYTES + 1], *text = NULL;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	int rc;

	if (!cp)
		return reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory");
	rc = ldg_checkpoint_parse((const char *)u->buf, u->len, cp, &err);
	if (rc) {
		free(cp);
		return reply_ldg(rp, -EINVAL, &err);
	}
	if (begin(rp, sv, &r, &head)) {
		free(cp);
		return 0;
	}
	rc = ldg_checkpoint_check(r, cp, &err);
	ldg_read_end(r);
	if (rc) {
		free(cp);
		if (rc == -EACCES)
			return reply_error(rp, MHD_HTTP_FORBIDDEN, "%s",
					   err.msg);
		if (rc == -EBADMSG)
			return reply_error(rp, MHD_HTTP_CONFLICT, "%s",
					   err.msg);
		return reply_ldg(rp, rc, &err);
	}
	ldg_hex(cp->root, LDG_HASH_BYTES, rh);
	pthread_mutex_lock(&sv->cp_lock);
	if (sv->cp_text && cp->size < sv->cp_size) {
		rc = reply_error(rp, MHD_HTTP_CONFLICT,
				 "a newer checkpoint, of %llu entries, is "
				 "published; this one has %llu",
				 (unsigned long long)sv->cp_size,
				 (unsigned long long)cp->size);
		goto out_unlock;
	}
	text = strndup((const char *)u->buf, u->len);
	rc = text ? write_atomic(sv->cp_path, text) : -ENOMEM;
	if (rc) {
		free(text);
		reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot keep the checkpoint: %s", strerror(-rc));
		goto out_unlock;
	}
	free(sv->cp_text);
	sv->cp_text = text;
	sv->cp_size = cp->size;
	reply_json(rp, MHD_HTTP_CREATED,
		   json_pack("{s:I, s:s}", "size", (json_int_t)cp->size,
			     "root", rh));
out_unlock:
	pthread_mutex_unlock(&sv->cp_lock);
	free(cp);
	return 0;
}

/* The checkpoint kept by an earlier run, if it is still one of this
 * ledger (a ledger restored shorter or created anew in the same
 * directory makes it stale: then none is served until one is
 * published). */
static void load_checkpoint(struct srv *sv)
{
	char buf[LDG_CHECKPOINT_MAX + 1];
	struct ldg_checkpoint *cp;
	struct ldg_read *r;
	ssize_t n;
	int fd = open(sv->cp_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cp = malloc(sizeof(*cp));
	if (n > 0 && cp &&
	    ldg_checkpoint_parse(buf, (size_t)n, cp, NULL) == 0 &&
	    ldg_read_begin(sv->store, &r, NULL) == 0) {
		if (ldg_checkpoint_check(r, cp, NULL) == 0) {
			buf[n] = '\0';
			sv->cp_text = strdup(buf);
			sv->cp_size = cp->size;
		}
		ldg_read_end(r);
	}
	free(cp);
}

/* ---- drafts: entries for a signer whose key is elsewhere ---- */

/* The entry that the local command would write for d on a target whose
 * state is now (NULL: nothing to do). */
static int draft_plan(struct ldg_read *r, const struct srv_draft_req *d,
		      uint64_t head, const struct ldg_values *now,
		      struct ldg_entry **e, struct ldg_err *err)
{
	struct ldg_values then;
	const char **keys;
	int rc;

	switch (d->kind) {
	case LDG_KIND_SET:
		return ldg_draft_set(now, d->target, d->kv, d->n, d->reason,
				     NULL, 0, d->force, e, err);
	case LDG_KIND_UNSET:
		keys = calloc(d->n, sizeof(*keys));
		if (!keys)
			return ldg_err_set(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < d->n; i++)
			keys[i] = d->kv[i].key;
		rc = ldg_draft_unset(now, d->target, keys, d->n, d->reason,
				     NULL, 0, d->force, e, err);
		free(keys);
		return rc;
	case LDG_KIND_LOCK:
	case LDG_KIND_UNLOCK:
		return ldg_draft_lock(now, d->target, d->reason,
				      d->kind == LDG_KIND_LOCK, e, err);
	default:
		break;
	}
	if (d->to >= head)
		return ldg_err_set(err, -EINVAL,
				   "to: %llu is not before the head %llu",
				   (unsigned long long)d->to,
				   (unsigned long long)head);
	if (!now->mtime_seq)
		return ldg_err_set(err, -ENOENT, "%s has no entries",
				   d->target);
	rc = ldg_state_get(r, d->target, d->to, &then);
	if (rc)
		return ldg_err_set(err, rc, "cannot read %s at %llu",
				   d->target, (unsigned long long)d->to);
	rc = ldg_draft_rollback(d->target, &then, now, d->to, d->reason, NULL,
				0, e, err);
	ldg_values_free(&then);
	return rc;
}

/* 403/423 for what ldg_authorize() refuses; the rest as reply_ldg(). */
static int reply_refused(struct reply *rp, int rc, const struct ldg_err *err)
{
	if (rc == -EACCES)
		return reply_error(rp, MHD_HTTP_FORBIDDEN, "%s", err->msg);
	if (rc == -EBUSY)
		return reply_error(rp, MHD_HTTP_LOCKED, "%s", err->msg);
	return reply_ldg(rp, rc, err);
}

static int h_drafts(struct srv *sv, const char *body, size_t blen,
		    struct reply *rp)
{
	uint8_t prev[LDG_HASH_BYTES], *bytes = NULL, *msg = NULL;
	struct srv_draft_req d;
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_keyinfo ki;
	struct ldg_values now;
	struct ldg_read *r;
	size_t len = 0, mlen = 0;
	uint64_t head;
	char *b64d, *b64m;
	json_t *ej;
	int rc;

	rc = srv_parse_draft(body, blen, &d, &err);
	if (rc) {
		srv_draft_req_free(&d);
		return reply_ldg(rp, -EINVAL, &err);
	}
	if (begin(rp, sv, &r, &head)) {
		srv_draft_req_free(&d);
		return 0;
	}
	rc = ldg_head(r, &head, prev);
	if (!rc && ldg_keyring_by_id(r, d.keyid, &ki))
		rc = ldg_err_set(&err, -EACCES,
				 "signer: no key with that id in the keyring");
	if (!rc)
		rc = ldg_state_get(r, d.target, 0, &now);
	if (rc) {
		ldg_read_end(r);
		srv_draft_req_free(&d);
		return reply_refused(rp, rc, &err);
	}
	rc = draft_plan(r, &d, head, &now, &e, &err);
	ldg_values_free(&now);
	if (!rc && !e) {
		ldg_read_end(r);
		srv_draft_req_free(&d);
		return reply_json(rp, MHD_HTTP_OK,
				  json_pack("{s:n, s:s}", "draft", "why",
					    "nothing to do: the target "
					    "already is that way"));
	}
	if (!rc)
		rc = ldg_entry_prepare(e, head, prev, ldg_store_origin(sv->store),
				       d.keyid, &bytes, &len, &msg, &mlen,
				       &err);
	/* refused now rather than after the signing */
	if (!rc)
		rc = ldg_authorize(r, e, &err);
	ej = rc ? NULL : ldg_entry_json(r, e, (uint8_t[LDG_HASH_BYTES]){ 0 });
	ldg_read_end(r);
	srv_draft_req_free(&d);
	if (rc) {
		ldg_entry_free(e);
		free(bytes);
		free(msg);
		return reply_refused(rp, rc, &err);
	}
	b64d = malloc(sodium_base64_ENCODED_LEN(len,
					 sodium_base64_VARIANT_ORIGINAL));
	b64m = malloc(sodium_base64_ENCODED_LEN(mlen,
					 sodium_base64_VARIANT_ORIGINAL));
	if (b64d && b64m) {
		sodium_bin2base64(b64d, sodium_base64_ENCODED_LEN(
				  len, sodium_base64_VARIANT_ORIGINAL),
				  bytes, len, sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(b64m, sodium_base64_ENCODED_LEN(
				  mlen, sodium_base64_VARIANT_ORIGINAL),
				  msg, mlen, sodium_base64_VARIANT_ORIGINAL);
		json_object_del(ej, "hash");
		json_object_del(ej, "signature");
		reply_json(rp, MHD_HTTP_OK,
			   json_pack("{s:I, s:s, s:s, s:o}", "seq",
				     (json_int_t)e->seq, "draft", b64d,
				     "message", b64m, "entry", ej));
		ej = NULL;
	} else {
		reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "out of memory");
	}
	json_decref(ej);
	free(b64d);
	free(b64m);
	ldg_entry_free(e);
	free(bytes);
	free(msg);
	return 0;
}

/* The report of `ledger verify --json`, as JSON text. */
static int verify_render(struct srv *sv, int *vrc, char **out, size_t *len,
			 uint64_t *head, struct ldg_err *err)
{
	struct ldg_verify_opts vo = { 0 };
	struct ldg_verify_report rep;
	char hh[2 * LDG_HASH_BYTES + 1], rh[2 * LDG_HASH_BYTES + 1];
	json_t *j;

	*vrc = ldg_verify(sv->store, &vo, &rep, err);
	if (*vrc && *vrc != -EBADMSG)
		return *vrc;
	ldg_hex(rep.head_hash, LDG_HASH_BYTES, hh);
	ldg_hex(rep.root, LDG_HASH_BYTES, rh);
	j = json_pack("{s:b, s:I, s:I, s:s, s:s, s:s}", "ok", *vrc == 0,
		      "entries", (json_int_t)rep.entries, "head",
		      (json_int_t)rep.head, "hash", hh, "root", rh, "origin",
		      rep.origin);
	if (j && *vrc) {
		json_object_set_new(j, "bad_seq",
				    rep.bad_seq ? json_integer((json_int_t)
								       rep.bad_seq)
						: json_null());
		json_object_set_new(j, "problem", json_string(rep.problem));
	}
	*head = rep.head;
	if (ldg_json_out(j, out, len))
		return ldg_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int h_verify(const struct request *rq, struct reply *rp)
{
	struct srv *sv = rq->sv;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head, seen;
	int rc = 0, vrc = 0;

	if (begin(rp, sv, &r, &head))
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
		return reply_ldg(rp, rc == -ENOENT ? -EIO : rc, &err);
	rp->status = MHD_HTTP_OK;
	rp->type = "application/json";
	rp->cache = "no-store";
	return 0;
}

/* ---- Server-Sent Events ---- */

struct sse {
	struct srv *sv;
	uint64_t last; /* seq of the last entry sent */
	char *buf;
	size_t len, off;
};

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Renders the next entries after e->last into e->buf, or a keep-alive
 * comment when none came within SRV_KEEPALIVE_S. 1 when stopping. */
static int sse_fill(struct sse *e)
{
	struct srv *sv = e->sv;
	struct ldg_err err = { 0 };
	struct timespec deadline;
	struct ldg_read *r = NULL;
	uint64_t head;
	FILE *f;
	int rc = 0;

	deadline_in(&deadline, SRV_KEEPALIVE_S * 1000L);
	pthread_mutex_lock(&sv->lock);
	while (!sv->stopping && sv->head <= e->last)
		if (pthread_cond_timedwait(&sv->moved, &sv->lock, &deadline) ==
		    ETIMEDOUT)
			break;
	head = sv->head;
	rc = sv->stopping;
	pthread_mutex_unlock(&sv->lock);
	if (rc)
		return 1;
	free(e->buf);
	e->buf = NULL;
	e->len = e->off = 0;
	f = open_memstream(&e->buf, &e->len);
	if (!f)
		return -ENOMEM;
	if (head <= e->last) {
		fputs(": keep-alive\n\n", f);
		return fclose(f) ? -ENOMEM : 0;
	}
	if (head > e->last + SSE_BATCH)
		head = e->last + SSE_BATCH;
	rc = ldg_read_begin(sv->store, &r, &err);
	for (uint64_t seq = e->last + 1; !rc && seq <= head; seq++) {
		json_t *j = entry_json(r, seq, &rc, &err);
		char *s;
		if (!j)
			break;
		/* compact JSON is one line: one data: field */
		s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		if (!s) {
			rc = -ENOMEM;
			break;
		}
		fprintf(f, "id: %llu\nevent: entry\ndata: %s\n\n",
			(unsigned long long)seq, s);
		free(s);
		e->last = seq;
	}
	if (r)
		ldg_read_end(r);
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	return rc;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse *e = cls;
	size_t n;
	int rc;

	(void)pos;
	if (e->off == e->len) {
		rc = sse_fill(e);
		if (rc == 1)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (rc < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = e->len - e->off;
	if (n > max)
		n = max;
	memcpy(out, e->buf + e->off, n);
	e->off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *e = cls;

	free(e->buf);
	free(e);
}

static int h_events(const struct request *rq, struct reply *rp)
{
	const char *last_id = MHD_lookup_connection_value(
		rq->conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *after_s = arg(rq, "after");
	struct ldg_err err = { 0 };
	struct sse *e;
	uint64_t after;

	/* a reconnecting browser sends Last-Event-ID and the URL it
	 * started with: the header is the newer news */
	if (last_id && srv_parse_seq("Last-Event-ID", last_id, true, &after,
				     &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (!last_id && after_s &&
	    srv_parse_seq("after", after_s, true, &after, &err))
		return reply_ldg(rp, -EINVAL, &err);
	if (!last_id && !after_s) {
		pthread_mutex_lock(&rq->sv->lock);
		after = rq->sv->head;
		pthread_mutex_unlock(&rq->sv->lock);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory");
	e->sv = rq->sv;
	e->last = after;
	/* the first bytes go out at once: the client knows it is
	 * connected, and from where the stream starts */
	if (asprintf(&e->buf, "retry: 1000\n: entries after %llu\n\n",
		     (unsigned long long)after) < 0) {
		free(e);
		return reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory");
	}
	e->len = strlen(e->buf);
	rp->stream = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, e, sse_free);
	if (!rp->stream) {
		sse_free(e);
		return reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory");
	}
	rp->status = MHD_HTTP_OK;
	rp->type = "text/event-stream";
	rp->cache = "no-store";
	return 0;
}

/* ---- appends from remote writers ---- */

/* A POST body being received. */

/* True when the Content-Type is want (parameters and case ignored). */
static bool is_type(const char *type, const char *want)
{
	size_t n = strlen(want);

	if (!type)
		return false;
	while (*type == ' ')
		type++;
	return !strncasecmp(type, want, n) &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static int h_append(struct srv *sv, const struct upload *u, struct reply *rp)
{
	uint8_t hash[LDG_HASH_BYTES];
	char hh[2 * LDG_HASH_BYTES + 1];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t seq = 0;
	unsigned status;
	int rc;

	if (u->len == 0)
		return reply_error(rp, MHD_HTTP_BAD_REQUEST,
				   "empty body: send the signed entry bytes");
	if (u->json) {
		uint8_t *bytes;
		size_t len;
		rc = srv_parse_signed_draft((const char *)u->buf, u->len,
					    &bytes, &len, &err);
		if (rc)
			return reply_ldg(rp, rc, &err);
		rc = srv_writer_append(sv->writer, bytes, len, &seq, hash,
				       &err);
		free(bytes);
	} else {
		rc = srv_writer_append(sv->writer, u->buf, u->len, &seq, hash,
				       &err);
	}
	if (!rc) {
		pthread_mutex_lock(&sv->lock);
		if (seq > sv->head) {
			sv->head = seq;
			pthread_cond_broadcast(&sv->moved);
		}
		pthread_mutex_unlock(&sv->lock);
		ldg_hex(hash, LDG_HASH_BYTES, hh);
		return reply_json(rp, MHD_HTTP_CREATED,
				  json_pack("{s:I, s:s}", "seq",
					    (json_int_t)seq, "hash", hh));
	}
	if (rc == -ESTALE) {
		uint64_t head = 0;
		/* the head as it is now, for the client to rebuild on */
		if (ldg_read_begin(sv->store, &r, NULL) == 0) {
			if (ldg_head(r, &head, hash))
				head = 0;
			ldg_read_end(r);
		}
		ldg_hex(hash, LDG_HASH_BYTES, hh);
		return reply_json(rp, MHD_HTTP_CONFLICT,
				  json_pack("{s:s, s:{s:I, s:s}}", "error",
					    err.msg, "head", "seq",
					    (json_int_t)head, "hash", hh));
	}
	switch (rc) {
	case -EBADMSG:
	case -EINVAL:
		status = MHD_HTTP_BAD_REQUEST;
		break;
	case -EACCES:
		status = MHD_HTTP_FORBIDDEN;
		break;
	case -EBUSY:
		status = MHD_HTTP_LOCKED;
		break;
	case -EEXIST:
	case -ENOENT:
	case -EPERM:
		status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		break;
	default:
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	return reply_error(rp, status, "%s",
			   err.msg[0] ? err.msg : strerror(-rc));
}

/* ---- dispatch ---- */

static const struct handler {
	enum srv_route_id id;
	int (*run)(const struct request *rq, struct reply *rp);
} handlers[] = {
	{ SRV_R_HEAD, h_head },       { SRV_R_STATE, h_state },
	{ SRV_R_HISTORY, h_history }, { SRV_R_ENTRIES, h_entries },
	{ SRV_R_ENTRY, h_entry },     { SRV_R_VERIFY, h_verify },
	{ SRV_R_EVENTS, h_events },   { SRV_R_CHECK, h_check },
	{ SRV_R_RELEASES, h_releases }, { SRV_R_KEYS, h_keys },
	{ SRV_R_CHECKPOINT, h_checkpoint },
};

struct param_check {
	enum srv_route_id id;
	char bad[128];
	char seen[4][16];
	size_t n_seen;
};

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct param_check *pc = cls;

	(void)kind;
	(void)value;
	if (!srv_route_param_ok(pc->id, key)) {
		snprintf(pc->bad, sizeof(pc->bad),
			 "unknown query parameter \"%.64s\"", key);
		return MHD_NO;
	}
	for (size_t i = 0; i < pc->n_seen; i++) {
		if (!strcmp(pc->seen[i], key)) {
			snprintf(pc->bad, sizeof(pc->bad),
				 "query parameter \"%s\" given twice", key);
			return MHD_NO;
		}
	}
	if (pc->n_seen < 4)
		snprintf(pc->seen[pc->n_seen++], sizeof(pc->seen[0]), "%s",
			 key);
	return MHD_YES;
}

/* True when the request announces a body. */
static bool has_body(struct MHD_Connection *conn, size_t upload_size)
{
	const char *cl = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (upload_size)
		return true;
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && strcmp(cl, "0");
}

static int route(struct srv *sv, struct MHD_Connection *conn,
		  const char *url, const char *method, size_t upload_size,
		  struct reply *rp)
{
	struct param_check pc = { 0 };
	struct ldg_err err = { 0 };
	struct srv_path path;
	struct request rq = { .sv = sv, .conn = conn, .path = &path };
	int rc = srv_route_parse(url, &path, &err);

	if (rc == -ENOENT)
		return reply_error(rp, MHD_HTTP_NOT_FOUND,
				   "no such resource: %.200s (see docs/api.md)",
				   url);
	if (rc == 0 && path.id == SRV_R_DRAFTS)
		rp->allow = sv->writer ? "POST" : "";
	else if (rc == 0 && srv_route_takes_post(path.id) && sv->writer)
		rp->allow = "GET, HEAD, POST";
	if ((strcmp(method, MHD_HTTP_METHOD_GET) &&
	     strcmp(method, MHD_HTTP_METHOD_HEAD)) ||
	    (rc == 0 && path.id == SRV_R_DRAFTS))
		return reply_error(rp, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method %.32s not allowed here (%s)",
				   method,
				   rp->allow ? (rp->allow[0] ? rp->allow
							     : "none: the "
							       "server is "
							       "read-only")
					     : "GET, HEAD");
	if (has_body(conn, upload_size))
		return reply_error(rp, MHD_HTTP_BAD_REQUEST,
				   "a %s request takes no body", method);
	if (rc)
		return reply_ldg(rp, rc, &err);
	pc.id = path.id;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param,
				  &pc);
	if (pc.bad[0])
		return reply_error(rp, MHD_HTTP_BAD_REQUEST, "%s", pc.bad);
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].id == path.id)
			return handlers[i].run(&rq, rp);
	reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "no handler");
	return 0;
}


/* Whether a POST may go on to send its body: only to a route that takes
 * POST, on a server that writes, within the client's rate, with the
 * route's Content-Type and announcing no more than it takes. Otherwise
 * rp holds the refusal (or stays empty for route() to answer). *u is the
 * upload to fill. */
static bool post_ok(struct srv *sv, struct MHD_Connection *conn,
		    const char *url, struct reply *rp, struct upload *u)
{
	const char *type = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct srv_path path;
	struct timespec now;
	unsigned wait;

	if (srv_route_parse(url, &path, NULL) ||
	    !srv_route_takes_post(path.id) || !sv->writer)
		return false;
	if (MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL,
				      NULL) > 0) {
		reply_error(rp, MHD_HTTP_BAD_REQUEST,
			    "POST %s takes no query parameters", url);
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	wait = ci && ci->client_addr
		       ? srv_rate_take(sv->rate, ci->client_addr, &now)
		       : 0;
	if (wait) {
		rp->retry_after = wait;
		reply_error(rp, MHD_HTTP_TOO_MANY_REQUESTS,
			    "too many requests from your address: at most %u "
			    "POSTs a second; retry after %u s",
			    srv_rate_per_sec(sv->rate), wait);
		return false;
	}
	u->id = path.id;
	if (path.id == SRV_R_CHECKPOINT) {
		if (!sv->cp_path[0])
			return false;
		if (!is_type(type, "text/plain")) {
			reply_error(rp, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "send the checkpoint note as "
				    "Content-Type: text/plain");
			return false;
		}
		u->max = LDG_CHECKPOINT_MAX - 1; /* the parser's limit */
		goto check_length;
	}
	u->json = is_type(type, "application/json");
	if (path.id == SRV_R_DRAFTS && !u->json) {
		reply_error(rp, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "send the draft request as Content-Type: "
			    "application/json");
		return false;
	}
	if (!u->json && !is_type(type, "application/msgpack")) {
		reply_error(rp, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "send the signed entry bytes as Content-Type: "
			    "application/msgpack (or a signed draft as "
			    "application/json)");
		return false;
	}
	u->max = u->json ? SRV_JSON_MAX : LDG_ENTRY_MAX;
check_length:
	if (cl && strtoull(cl, NULL, 10) > u->max) {
		reply_error(rp, MHD_HTTP_CONTENT_TOO_LARGE,
			    "the body is larger than %zu bytes", u->max);
		return false;
	}
	return true;
}

/* The per-request pointer of a GET or HEAD without a body, answered on
 * the handler's second call: an answer queued on the first call makes
 * libmicrohttpd close the connection (it cannot know no body follows),
 * and a new connection is a new thread per request. */
static char answer_next;

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (u && *con_cls != &answer_next) {
		free(u->buf);
		free(u);
		*con_cls = NULL;
	}
}

/* A static file of the web page: / and /ui/... (assets.h). */
static bool static_file(struct MHD_Connection *conn, const char *url,
			const char *method, size_t upload_size,
			struct reply *rp)
{
	const struct srv_asset *a = srv_asset_find(url);
	const char *inm;

	if (!a)
		return false;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		reply_error(rp, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method %.32s not allowed here (GET, HEAD)",
			    method);
		return true;
	}
	if (has_body(conn, upload_size)) {
		reply_error(rp, MHD_HTTP_BAD_REQUEST,
			    "a %s request takes no body", method);
		return true;
	}
	rp->page = true;
	rp->etag = a->etag;
	rp->cache = "no-cache"; /* revalidated: a new binary, a new page */
	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && !strcmp(inm, a->etag)) {
		rp->status = MHD_HTTP_NOT_MODIFIED;
		return true;
	}
	rp->status = MHD_HTTP_OK;
	rp->type = a->type;
	rp->static_body = a->data;
	rp->len = a->len;
	return true;
}

/* The body of a POST, read as it arrives: *upload_data_size bytes more,
 * or the end (size 0), when the request is answered. */
static enum MHD_Result upload_more(struct upload *u, const char *data,
				   size_t *size)
{
	size_t n = *size;

	if (u->too_big || u->len + n > u->max) {
		u->too_big = true;
	} else {
		if (u->len + n > u->cap) {
			size_t cap = u->cap ? u->cap : 4096;
			uint8_t *grown;
			while (cap < u->len + n)
				cap *= 2;
			grown = realloc(u->buf, cap);
			if (!grown)
				return MHD_NO;
			u->buf = grown;
			u->cap = cap;
		}
		memcpy(u->buf + u->len, data, n);
		u->len += n;
	}
	*size = 0;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version,
				  const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct reply rp = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
	struct upload probe = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	if (!*con_cls && *upload_data_size == 0 &&
	    (!strcmp(method, MHD_HTTP_METHOD_GET) ||
	     !strcmp(method, MHD_HTTP_METHOD_HEAD)) &&
	    !has_body(conn, 0)) {
		*con_cls = &answer_next;
		return MHD_YES;
	}
	if (*con_cls == &answer_next) {
		if (!static_file(conn, url, method, 0, &rp))
			route(cls, conn, url, method, 0, &rp);
	} else if (*con_cls) {
		struct upload *u = *con_cls;
		if (*upload_data_size)
			return upload_more(u, upload_data, upload_data_size);
		/* the whole body is in */
		if (u->too_big)
			reply_error(&rp, MHD_HTTP_CONTENT_TOO_LARGE,
				    "the body is larger than %zu bytes",
				    u->max);
		else if (u->len == 0)
			reply_error(&rp, MHD_HTTP_BAD_REQUEST,
				    "empty body: see docs/api.md for what "
				    "POST %s takes", url);
		else if (u->id == SRV_R_DRAFTS)
			h_drafts(cls, (const char *)u->buf, u->len, &rp);
		else if (u->id == SRV_R_CHECKPOINT)
			h_publish(cls, u, &rp);
		else
			h_append(cls, u, &rp);
	} else if (!strcmp(method, MHD_HTTP_METHOD_POST) &&
		   post_ok(cls, conn, url, &rp, &probe)) {
		struct upload *u = malloc(sizeof(*u));
		if (!u)
			return MHD_NO;
		*u = probe;
		*con_cls = u;
		return MHD_YES;
	} else if (!rp.body && !static_file(conn, url, method, *upload_data_size,
					  &rp)) {
		/* answered on the first call, before any body is read: MHD
		 * then closes the connection instead of reading a refused
		 * upload */
		route(cls, conn, url, method, *upload_data_size, &rp);
	}
	if (rp.stream) {
		resp = rp.stream;
	} else if (rp.static_body) {
		resp = MHD_create_response_from_buffer(
			rp.len, (void *)rp.static_body, MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
	} else {
		resp = MHD_create_response_from_buffer(
			rp.len, rp.body, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(rp.body);
			return MHD_NO;
		}
	}
	if (rp.type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					rp.type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				rp.cache ? rp.cache : "no-store");
	if (rp.etag)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rp.etag);
	if (rp.vary_accept)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept");
	if (rp.entry_hash[0])
		MHD_add_response_header(resp, "Ledger-Entry-Hash",
					rp.entry_hash);
	if (rp.status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					rp.allow ? rp.allow : "GET, HEAD");
	if (rp.retry_after) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", rp.retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (rp.stream)
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* the page: its own scripts and styles only, nothing inline, no
	 * frames; the API: nothing at all */
	MHD_add_response_header(resp, "Content-Security-Policy",
				rp.page ? SRV_PAGE_CSP
					       : "default-src 'none'; "
						 "frame-ancestors 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	ret = MHD_queue_response(conn, rp.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- the head poller ---- */

static void *poll_head(void *arg)
{
	struct srv *sv = arg;
	struct timespec deadline;
	struct ldg_read *r;
	uint64_t head;

	pthread_mutex_lock(&sv->lock);
	while (!sv->stopping) {
		deadline_in(&deadline, SRV_POLL_MS);
		pthread_cond_timedwait(&sv->moved, &sv->lock, &deadline);
		if (sv->stopping)
			break;
		pthread_mutex_unlock(&sv->lock);
		head = 0;
		if (ldg_read_begin(sv->store, &r, NULL) == 0) {
			if (ldg_head(r, &head, NULL))
				head = 0;
			ldg_read_end(r);
		}
		pthread_mutex_lock(&sv->lock);
		if (head > sv->head) {
			sv->head = head;
			pthread_cond_broadcast(&sv->moved);
		}
	}
	pthread_mutex_unlock(&sv->lock);
	return NULL;
}

/* ---- start and stop ---- */

static int listen_on(const struct sockaddr_storage *addr, socklen_t len,
		     uint16_t *port, struct ldg_err *err)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int one = 1, rc;
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return ldg_err_set(err, -errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, len) ||
	    listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen)) {
		rc = -errno;
		close(fd);
		return ldg_err_set(err, rc, "cannot listen: %s",
				   strerror(-rc));
	}
	*port = ntohs(bound.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&bound)->sin6_port
			      : ((struct sockaddr_in *)&bound)->sin_port);
	return fd;
}

int srv_start(struct ldg_store *s, struct srv_writer *writer,
	      const struct sockaddr_storage *addr, socklen_t addrlen,
	      const struct srv_opts *o, struct srv **out,
	      struct ldg_err *err)
{
	pthread_condattr_t ca;
	struct ldg_read *r;
	struct srv *sv;
	int fd, rc;

	sv = calloc(1, sizeof(*sv));
	if (!sv)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	sv->store = s;
	sv->writer = writer;
	sv->rate = srv_rate_new(o->post_rate);
	if (!sv->rate) {
		free(sv);
		return ldg_err_set(err, -ENOMEM, "out of memory");
	}
	if (o->checkpoint_path &&
	    snprintf(sv->cp_path, sizeof(sv->cp_path), "%s",
		     o->checkpoint_path) >= (int)sizeof(sv->cp_path)) {
		srv_rate_free(sv->rate);
		free(sv);
		return ldg_err_set(err, -ENAMETOOLONG, "path too long");
	}
	pthread_mutex_init(&sv->lock, NULL);
	pthread_mutex_init(&sv->cp_lock, NULL);
	if (sv->cp_path[0])
		load_checkpoint(sv);
	pthread_mutex_init(&sv->verify_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sv->moved, &ca);
	pthread_condattr_destroy(&ca);
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		goto out_free;
	rc = ldg_head(r, &sv->head, NULL);
	ldg_read_end(r);
	if (rc) {
		ldg_err_set(err, rc, "cannot read the head");
		goto out_free;
	}
	fd = listen_on(addr, addrlen, &sv->port, err);
	if (fd < 0) {
		rc = fd;
		goto out_free;
	}
	sv->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_POLL | MHD_USE_ITC,
		0, NULL, NULL, on_request, sv, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)SRV_CONN_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SRV_CONN_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SRV_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_REQ_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_END);
	if (!sv->mhd) {
		close(fd);
		rc = ldg_err_set(err, -EIO, "cannot start the HTTP server");
		goto out_free;
	}
	rc = -pthread_create(&sv->poller, NULL, poll_head, sv);
	if (rc) {
		ldg_err_set(err, rc, "cannot start the head poller");
		goto out_stop;
	}
	sv->poller_started = true;
	*out = sv;
	return 0;
out_stop:
	MHD_stop_daemon(sv->mhd);
out_free:
	pthread_cond_destroy(&sv->moved);
	pthread_mutex_destroy(&sv->verify_lock);
	srv_rate_free(sv->rate);
	pthread_mutex_destroy(&sv->cp_lock);
	pthread_mutex_destroy(&sv->lock);
	free(sv->cp_text);
	free(sv);
	return rc;
}

uint16_t srv_port(const struct srv *sv)
{
	return sv->port;
}

void srv_stop(struct srv *sv)
{
	if (!sv)
		return;
	pthread_mutex_lock(&sv->lock);
	sv->stopping = true;
	pthread_cond_broadcast(&sv->moved);
	pthread_mutex_unlock(&sv->lock);
	MHD_stop_daemon(sv->mhd);
	if (sv->poller_started)
		pthread_join(sv->poller, NULL);
	free(sv->verify_body);
	pthread_cond_destroy(&sv->moved);
	pthread_mutex_destroy(&sv->verify_lock);
	srv_rate_free(sv->rate);
	pthread_mutex_destroy(&sv->cp_lock);
	pthread_mutex_destroy(&sv->lock);
	free(sv->cp_text);
	free(sv);
}
