/*
 * reply.c - building replies and sending them (reply.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "reply.h"
#include "serve_impl.h"

#define SRV_PAGE_CSP                                                           \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; "          \
	"form-action 'none'; frame-ancestors 'none'"

int srv_reply_json(struct srv_reply *rp, unsigned status, json_t *j)
{
	rp->status = status;
	rp->type = "application/json";
	if (rnd_json_out(j, &rp->body, &rp->len)) {
		rp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		rp->body = NULL;
		rp->len = 0;
	}
	return 0;
}

int srv_reply_error(struct srv_reply *rp, unsigned status, const char *fmt, ...)
{
	char msg[2 * LDG_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(rp->body);
	rp->body = NULL;
	srv_reply_json(rp, status, json_pack("{s:s}", "error", msg));
	return 0;
}

/* A library failure: bad input 400, missing 404, anything else 500. */
int srv_reply_refusal(struct srv_reply *rp, unsigned status,
		      const struct ldg_err *err)
{
	const char *rule = ldg_why_name(err->why);

	if (!rule)
		return srv_reply_error(rp, status, "%s",
				       err->msg[0] ? err->msg
						   : strerror(-err->code));
	return srv_reply_json(rp, status,
			      json_pack("{s:s, s:s}", "error", err->msg, "rule",
					rule));
}

int srv_reply_ldg(struct srv_reply *rp, int rc, const struct ldg_err *err)
{
	unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;

	if (rc == -EINVAL)
		status = MHD_HTTP_BAD_REQUEST;
	else if (rc == -ENOENT)
		status = MHD_HTTP_NOT_FOUND;
	srv_reply_error(rp, status, "%s",
			err && err->msg[0] ? err->msg : strerror(-rc));
	return 0;
}

/* Takes the rendered JSON of a library call. */
int srv_reply_rendered(struct srv_reply *rp, int rc, char *out, size_t len,
		       const struct ldg_err *err)
{
	if (rc) {
		srv_reply_ldg(rp, rc, err);
		return 0;
	}
	rp->status = MHD_HTTP_OK;
	rp->type = "application/json";
	rp->body = out;
	rp->len = len;
	return 0;
}

int srv_begin(struct srv_reply *rp, struct srv *sv, struct ldg_read **r,
	      uint64_t *head)
{
	struct ldg_err err = { 0 };
	int rc = ldg_read_begin(sv->store, r, &err);

	if (rc) {
		srv_reply_ldg(rp, rc, &err);
		return rc;
	}
	rc = ldg_head(*r, head, NULL);
	if (rc) {
		ldg_read_end(*r);
		srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"cannot read the head");
	}
	return rc;
}

/* srv_begin(), then a 404 when seq is beyond the head (r is then ended). */
int srv_begin_entry(struct srv_reply *rp, struct srv *sv, uint64_t seq,
		    struct ldg_read **r, uint64_t *head)
{
	if (srv_begin(rp, sv, r, head))
		return -EIO;
	if (seq <= *head)
		return 0;
	ldg_read_end(*r);
	srv_reply_error(rp, MHD_HTTP_NOT_FOUND,
			"no entry %llu: the head is %llu",
			(unsigned long long)seq, (unsigned long long)*head);
	return -ENOENT;
}

enum MHD_Result srv_reply_send(struct MHD_Connection *conn,
			       struct srv_reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (rp->stream) {
		resp = rp->stream;
	} else if (rp->static_body) {
		resp = MHD_create_response_from_buffer(rp->len,
						       (void *)rp->static_body,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
	} else {
		resp = MHD_create_response_from_buffer(rp->len, rp->body,
						       MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(rp->body);
			return MHD_NO;
		}
	}
	if (rp->type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					rp->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				rp->cache ? rp->cache : "no-store");
	if (rp->etag)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rp->etag);
	if (rp->vary_accept)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept");
	if (rp->entry_hash[0])
		MHD_add_response_header(resp, "Ledger-Entry-Hash",
					rp->entry_hash);
	if (rp->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					rp->allow ? rp->allow : "GET, HEAD");
	if (rp->retry_after) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", rp->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (rp->stream)
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* the page: its own scripts and styles only, nothing inline, no
	 * frames; the API: nothing at all */
	MHD_add_response_header(resp, "Content-Security-Policy",
				rp->page ? SRV_PAGE_CSP
					 : "default-src 'none'; "
					   "frame-ancestors 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	ret = MHD_queue_response(conn, rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}
