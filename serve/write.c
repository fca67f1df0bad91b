#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "checkpoint.h"
#include "ops.h"
#include "render.h"
#include "serve_impl.h"
#include "util.h"
#include "verify.h"

/* ---- checkpoints: signed elsewhere, kept and handed out here ---- */

int srv_h_checkpoint(const struct srv_request *rq, struct srv_reply *rp)
{
	struct srv *sv = rq->sv;

	pthread_mutex_lock(&sv->cp_lock);
	if (sv->cp_text) {
		rp->body = strdup(sv->cp_text);
		rp->len = rp->body ? strlen(rp->body) : 0;
	}
	pthread_mutex_unlock(&sv->cp_lock);
	if (!rp->body)
		return srv_reply_error(rp, MHD_HTTP_NOT_FOUND,
				       "no checkpoint has been published here: "
				       "sign one with `ledger --remote URL "
				       "checkpoint`");
	rp->status = MHD_HTTP_OK;
	rp->type = "text/plain; charset=utf-8";
	return 0;
}

int srv_h_tlog_checkpoint(const struct srv_request *rq, struct srv_reply *rp)
{
	int rc = srv_h_checkpoint(rq, rp);

	if (rp->status == MHD_HTTP_OK)
		rp->cache = "no-cache";
	return rc;
}

int srv_h_publish(const struct srv_request *rq, const struct srv_upload *u,
		  struct srv_reply *rp)
{
	struct srv *sv = rq->sv;
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	char rh[2 * LDG_HASH_BYTES + 1], *text = NULL;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	int rc;

	if (!cp)
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "out of memory");
	rc = ldg_checkpoint_parse((const char *)u->buf, u->len, cp, &err);
	if (rc) {
		free(cp);
		return srv_reply_ldg(rp, -EINVAL, &err);
	}
	if (srv_begin(rp, sv, &r, &head)) {
		free(cp);
		return 0;
	}
	rc = ldg_checkpoint_check(r, cp, &err);
	ldg_read_end(r);
	if (rc) {
		free(cp);
		if (rc == -EACCES)
			return srv_reply_error(rp, MHD_HTTP_FORBIDDEN, "%s",
					       err.msg);
		if (rc == -EBADMSG)
			return srv_reply_error(rp, MHD_HTTP_CONFLICT, "%s",
					       err.msg);
		return srv_reply_ldg(rp, rc, &err);
	}
	ldg_hex(cp->root, LDG_HASH_BYTES, rh);
	pthread_mutex_lock(&sv->cp_lock);
	if (sv->cp_text && cp->size < sv->cp_size) {
		rc = srv_reply_error(rp, MHD_HTTP_CONFLICT,
				     "a newer checkpoint, of %llu entries, is "
				     "published; this one has %llu",
				     (unsigned long long)sv->cp_size,
				     (unsigned long long)cp->size);
		goto out_unlock;
	}
	text = strndup((const char *)u->buf, u->len);
	rc = text ? ldg_write_atomic(sv->cp_path, text, strlen(text), 0644)
		  : -ENOMEM;
	if (rc) {
		free(text);
		srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"cannot keep the checkpoint: %s",
				strerror(-rc));
		goto out_unlock;
	}
	free(sv->cp_text);
	sv->cp_text = text;
	sv->cp_size = cp->size;
	srv_reply_json(rp, MHD_HTTP_CREATED,
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
void srv_load_checkpoint(struct srv *sv)
{
	char buf[LDG_CHECKPOINT_MAX + 1];
	struct ldg_checkpoint *cp;
	struct ldg_read *r;
	size_t n;

	/* a FIFO put there must not hang the server's start */
	if (ldg_read_small(sv->cp_path, "a checkpoint", buf, sizeof(buf), &n,
			   NULL, NULL))
		return;
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
	unsigned flags = (d->force ? LDG_WRITE_FORCE : 0) |
			 (d->emergency ? LDG_WRITE_EMERGENCY : 0);
	const char **keys;
	int rc;

	switch (d->kind) {
	case LDG_KIND_SET:
		return ldg_draft_set(now, d->target, d->kv, d->n, d->reason,
				     NULL, 0, flags, e, err);
	case LDG_KIND_UNSET:
		keys = calloc(d->n, sizeof(*keys));
		if (!keys)
			return ldg_err_set(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < d->n; i++)
			keys[i] = d->kv[i].key;
		rc = ldg_draft_unset(now, d->target, keys, d->n, d->reason,
				     NULL, 0, flags, e, err);
		free(keys);
		return rc;
	case LDG_KIND_LOCK:
	case LDG_KIND_UNLOCK:
		return ldg_draft_lock(now, d->target, d->reason,
				      d->kind == LDG_KIND_LOCK, e, err);
	case LDG_KIND_APPROVE:
	case LDG_KIND_WITHDRAW:
		return ldg_entry_vote(d->kind, d->target, d->proposal,
				      d->reason, e, err);
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
		return ldg_err_set(err, rc, "cannot read %s at %llu", d->target,
				   (unsigned long long)d->to);
	rc = ldg_draft_rollback(d->target, &then, now, d->to, d->reason, NULL,
				0, e, err);
	ldg_values_free(&then);
	return rc;
}

/* d->after, the signed entry a lock is to follow: it must be the next
 * entry here (seq, prev), a set, unset or rollback of the same target,
 * signed by the same key; then *head and prev are as if it were
 * appended. Its own checks (authority, lock) are the batch's. */
static int draft_after(struct ldg_read *r, const char *origin,
		       const struct srv_draft_req *d, uint64_t *head,
		       uint8_t prev[LDG_HASH_BYTES], struct ldg_authz *az,
		       struct ldg_err *err)
{
	struct ldg_keyinfo ki;
	struct ldg_entry *e;
	int rc = ldg_entry_decode(d->after, d->after_len, &e, err);

	if (rc) {
		ldg_err_prefix(err, "\"after\"");
		return -EINVAL;
	}
	if (e->seq != *head + 1)
		rc = ldg_err_set(err, -ESTALE,
				 "\"after\": built for seq "
				 "%llu, the head is %llu",
				 (unsigned long long)e->seq,
				 (unsigned long long)*head);
	else if (memcmp(e->prev, prev, LDG_HASH_BYTES))
		rc = ldg_err_set(err, -ESTALE,
				 "\"after\": its prev is not "
				 "the hash of the head (%llu)",
				 (unsigned long long)*head);
	else if ((e->kind != LDG_KIND_SET && e->kind != LDG_KIND_UNSET &&
		  e->kind != LDG_KIND_ROLLBACK) ||
		 strcmp(e->target, d->target) ||
		 memcmp(e->signer, d->keyid, LDG_KEYID_BYTES))
		rc = ldg_err_set(err, -EINVAL,
				 "\"after\": not a set, unset "
				 "or rollback of %s by the same signer",
				 d->target);
	else if (ldg_keyring_by_id(r, e->signer, &ki))
		rc = ldg_err_set(err, -EIO, "cannot read the signer's key");
	else if (ldg_entry_verify_sig(d->after, d->after_len, origin,
				      ki.vkey.pk))
		rc = ldg_err_set(err, -EINVAL, "\"after\": bad signature");
	/* the keyring and locks the draft follows: after it (a set,
	 * unset or rollback leaves them as they are) */
	else if (ldg_authz_apply(az, e))
		rc = ldg_err_set(err, -EINVAL,
				 "\"after\": cannot be "
				 "applied to the keyring and locks");
	ldg_entry_free(e);
	if (rc)
		return rc;
	*head += 1;
	ldg_entry_hash(d->after, d->after_len, prev);
	return 0;
}

/* 403/423 for what ldg_may_append() refuses (a lock, a freeze window, a
 * soak not met: 423), 422 for an approval or withdrawal of a proposal
 * that is not pending (as an append of one), 409 for a stale "after";
 * the rest as srv_reply_ldg(). The message is the library's factual
 * sentence: what to do about it is the client's to say. */
static int reply_refused(struct srv_reply *rp, int rc,
			 const struct ldg_err *err)
{
	if (rc == -EACCES)
		return srv_reply_refusal(rp, MHD_HTTP_FORBIDDEN, err);
	if (rc == -EBUSY)
		return srv_reply_refusal(rp, MHD_HTTP_LOCKED, err);
	if (rc == -EPERM)
		return srv_reply_refusal(rp, MHD_HTTP_UNPROCESSABLE_CONTENT,
					 err);
	if (rc == -ESTALE) /* "after" is not the next entry: redraft */
		return srv_reply_error(rp, MHD_HTTP_CONFLICT, "%s", err->msg);
	return srv_reply_ldg(rp, rc, err);
}

int srv_h_drafts(const struct srv_request *rq, const struct srv_upload *u,
		 struct srv_reply *rp)
{
	struct srv *sv = rq->sv;
	uint8_t prev[LDG_HASH_BYTES], *bytes = NULL, *msg = NULL;
	struct srv_draft_req d;
	struct ldg_err err = { 0 };
	struct ldg_write_req q = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_values now;
	struct ldg_authz az;
	struct ldg_read *r;
	size_t len = 0, mlen = 0;
	uint64_t head;
	char *b64d, *b64m;
	json_t *ej;
	int rc;

	rc = srv_parse_draft((const char *)u->buf, u->len, &d, &err);
	if (rc) {
		srv_draft_req_free(&d);
		return srv_reply_ldg(rp, -EINVAL, &err);
	}
	if (srv_begin(rp, sv, &r, &head)) {
		srv_draft_req_free(&d);
		return 0;
	}
	ldg_authz_init(&az);
	rc = ldg_head(r, &head, prev);
	/* the state the draft's commitment starts from: the indexes'
	 * (the append checks them against the signed head) */
	if (!rc)
		rc = ldg_authz_load(r, &az, &err);
	/* refused before any drafting when the key may not write here at
	 * all; a lock is news only once there is something to write */
	q.signer = d.keyid;
	q.kind = d.kind;
	q.target = d.target;
	q.forced = d.force;
	if (!rc)
		rc = ldg_may_append(r, &q, &err);
	if (rc == -EBUSY)
		rc = 0;
	/* built on an entry signed but not yet appended (a rollback and
	 * its lock, sent together as a batch) */
	if (!rc && d.after)
		rc = draft_after(r, ldg_store_origin(sv->store), &d, &head,
				 prev, &az, &err);
	if (!rc)
		rc = ldg_state_get(r, d.target, 0, &now);
	if (rc) {
		ldg_authz_free(&az);
		ldg_read_end(r);
		srv_draft_req_free(&d);
		return reply_refused(rp, rc, &err);
	}
	rc = draft_plan(r, &d, head, &now, &e, &err);
	ldg_values_free(&now);
	if (!rc && !e) {
		ldg_authz_free(&az);
		ldg_read_end(r);
		srv_draft_req_free(&d);
		return srv_reply_json(rp, MHD_HTTP_OK,
				      json_pack("{s:n, s:s}", "draft", "why",
						"nothing to do: the target "
						"already is that way"));
	}
	/* the draft as it will be signed (ldg_entry_prepare() sets its time
	 * again, a few microseconds later). A change that takes effect here
	 * under a soak, and the approval that enacts one, carry the evidence
	 * that only a reader of the whole ledger finds (a browser cannot) */
	if (!rc) {
		e->seq = head + 1;
		e->time_ns = ldg_now_ns();
		memcpy(e->signer, d.keyid, LDG_KEYID_BYTES);
		rc = ldg_draft_evidence(r, &az.gov, e, &err);
	}
	/* refused now rather than after the signing, and before its
	 * commitment is computed: the state after an entry the rules refuse
	 * (an approval of a proposal not pending) does not exist */
	if (!rc) {
		ldg_write_req_of(e, &q);
		rc = ldg_may_append(r, &q, &err);
	}
	if (!rc)
		rc = ldg_entry_prepare(e, head, prev,
				       ldg_store_origin(sv->store), &az,
				       d.keyid, &bytes, &len, &msg, &mlen,
				       &err);
	ej = rc ? NULL : rnd_entry_json(r, e, (uint8_t[LDG_HASH_BYTES]){ 0 });
	ldg_authz_free(&az);
	ldg_read_end(r);
	srv_draft_req_free(&d);
	if (rc) {
		ldg_entry_free(e);
		free(bytes);
		free(msg);
		return reply_refused(rp, rc, &err);
	}
	b64d = malloc(
		sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));
	b64m = malloc(
		sodium_base64_ENCODED_LEN(mlen,
					  sodium_base64_VARIANT_ORIGINAL));
	if (b64d && b64m) {
		sodium_bin2base64(b64d,
				  sodium_base64_ENCODED_LEN(
					  len, sodium_base64_VARIANT_ORIGINAL),
				  bytes, len, sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(b64m,
				  sodium_base64_ENCODED_LEN(
					  mlen, sodium_base64_VARIANT_ORIGINAL),
				  msg, mlen, sodium_base64_VARIANT_ORIGINAL);
		json_object_del(ej, "hash");
		json_object_del(ej, "signature");
		srv_reply_json(rp, MHD_HTTP_OK,
			       json_pack("{s:I, s:s, s:s, s:o}", "seq",
					 (json_int_t)e->seq, "draft", b64d,
					 "message", b64m, "entry", ej));
		ej = NULL;
	} else {
		srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
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

/* ---- appends from remote writers ---- */

/* 201: the new entries; one entry's seq and hash, a batch's last ones
 * and all of them under "entries". */
static int reply_appended(struct srv_reply *rp, const uint8_t *const *bufs,
			  const size_t *lens, size_t n, uint64_t first,
			  bool batch)
{
	char hh[2 * LDG_HASH_BYTES + 1];
	json_t *arr = batch ? json_array() : NULL;

	for (size_t i = 0; i < n; i++) {
		uint8_t hash[LDG_HASH_BYTES];
		ldg_entry_hash(bufs[i], lens[i], hash);
		ldg_hex(hash, LDG_HASH_BYTES, hh);
		if (arr)
			json_array_append_new(arr,
					      json_pack("{s:I, s:s}", "seq",
							(json_int_t)(first + i),
							"hash", hh));
	}
	if (!batch)
		return srv_reply_json(rp, MHD_HTTP_CREATED,
				      json_pack("{s:I, s:s}", "seq",
						(json_int_t)first, "hash", hh));
	return srv_reply_json(rp, MHD_HTTP_CREATED,
			      json_pack("{s:I, s:s, s:o}", "seq",
					(json_int_t)(first + n - 1), "hash", hh,
					"entries", arr));
}

/* The writer died during the append of bufs (srv_writer_append()'s
 * -ECONNRESET): whether it committed them is in the ledger. 0 with the
 * first seq when every one is there, byte for byte; else -EAGAIN (none
 * is: a batch is one transaction, and the dead writer commits nothing
 * more). */
static int appended_anyway(struct srv *sv, const uint8_t *const *bufs,
			   const size_t *lens, size_t n, uint64_t *seq,
			   struct ldg_err *err)
{
	uint8_t want[LDG_HASH_BYTES], have[LDG_HASH_BYTES];
	struct ldg_entry *e;
	struct ldg_read *r;
	bool all = true;

	if (ldg_entry_decode(bufs[0], lens[0], &e, NULL))
		return ldg_err_set(err, -EIO, "the ledger writer died");
	*seq = e->seq;
	ldg_entry_free(e);
	/* a commit the writer wrote but had not published (M10) */
	(void)ldg_store_settle(sv->store, NULL);
	if (ldg_read_begin(sv->store, &r, err))
		return -EIO;
	for (size_t i = 0; all && i < n; i++) {
		ldg_entry_hash(bufs[i], lens[i], want);
		all = ldg_entry_hash_at(r, *seq + i, have) == 0 &&
		      !memcmp(want, have, LDG_HASH_BYTES);
	}
	ldg_read_end(r);
	if (all)
		return 0;
	return ldg_err_set(err, -EAGAIN,
			   "the ledger writer died before "
			   "appending this, and was restarted: nothing was "
			   "written; send it again");
}

int srv_h_append(const struct srv_request *rq, const struct srv_upload *u,
		 struct srv_reply *rp)
{
	struct srv *sv = rq->sv;
	const uint8_t *bufs[SRV_WRITER_BATCH_MAX];
	size_t lens[SRV_WRITER_BATCH_MAX], n = 1;
	uint8_t hash[LDG_HASH_BYTES];
	char hh[2 * LDG_HASH_BYTES + 1];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint8_t *owned[SRV_WRITER_BATCH_MAX] = { NULL };
	uint64_t seq = 0;
	unsigned status;
	bool batch = false;
	int rc;

	if (u->json) {
		rc = srv_parse_signed_batch((const char *)u->buf, u->len, owned,
					    lens, SRV_WRITER_BATCH_MAX, &n,
					    &batch, &err);
		for (size_t i = 0; i < n; i++)
			bufs[i] = owned[i];
	} else if (ldg_batch_is(u->buf, u->len)) {
		batch = true;
		rc = ldg_batch_split(u->buf, u->len, SRV_WRITER_BATCH_MAX, bufs,
				     lens, &n, &err);
		if (!rc && n == 0)
			rc = ldg_err_set(&err, -EINVAL, "an empty batch");
		if (rc)
			rc = -EINVAL;
	} else {
		bufs[0] = u->buf;
		lens[0] = u->len;
		rc = 0;
	}
	if (!rc)
		rc = srv_writer_append(sv->writer, bufs, lens, n, &seq, hash,
				       &err);
	if (rc == -ECONNRESET)
		rc = appended_anyway(sv, bufs, lens, n, &seq, &err);
	if (!rc) {
		pthread_mutex_lock(&sv->lock);
		if (seq + n - 1 > sv->head) {
			sv->head = seq + n - 1;
			pthread_cond_broadcast(&sv->moved);
		}
		pthread_mutex_unlock(&sv->lock);
		reply_appended(rp, bufs, lens, n, seq, batch);
	}
	for (size_t i = 0; u->json && i < n; i++)
		free(owned[i]);
	if (!rc)
		return 0;
	if (rc == -ESTALE) {
		uint64_t head = 0;
		/* the head as it is now, for the client to rebuild on */
		if (ldg_read_begin(sv->store, &r, NULL) == 0) {
			if (ldg_head(r, &head, hash))
				head = 0;
			ldg_read_end(r);
		}
		ldg_hex(hash, LDG_HASH_BYTES, hh);
		return srv_reply_json(rp, MHD_HTTP_CONFLICT,
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
	case -EAGAIN: /* the writer died and was restarted */
	case -EPIPE:  /* the writer keeps dying: the server is stopping */
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		rp->retry_after = 1;
		break;
	default:
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	err.code = rc;
	return srv_reply_refusal(rp, status, &err);
}
