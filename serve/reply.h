/*
 * reply.h - what a handler answers (struct srv_reply), the helpers that
 * build one, and the one place that turns it into an HTTP response with
 * this server's headers (srv_reply_send()). Internal to serve/.
 *
 * Every builder fills *rp and returns 0: a handler ends with
 * `return srv_reply_...(rp, ...);`. A body is JSON unless rp->type says
 * otherwise; an error is {"error": MESSAGE} (docs/api.md).
 *
 * Caveats: a reply belongs to one request, on its connection's thread.
 * rp->body is malloc'd and handed to libmicrohttpd by srv_reply_send();
 * rp->static_body is borrowed for the server's lifetime.
 */
#ifndef SRV_REPLY_H
#define SRV_REPLY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct srv;

struct srv_reply {
	unsigned status;
	char *body;
	size_t len;
	const char *type;
	const char *cache; /* Cache-Control, or NULL */
	bool vary_accept;
	char entry_hash[2 * LDG_HASH_BYTES + 1]; /* Ledger-Entry-Hash */
	const char *allow;			 /* the Allow header of a 405 */
	const char *etag;
	unsigned retry_after;		  /* seconds, for a 429 */
	const unsigned char *static_body; /* instead of body: not freed */
	bool page; /* a file of the web page (its CSP, also on a 304) */
	struct MHD_Response *stream;
};

/* Takes j (its reference; NULL: a 500). */
int srv_reply_json(struct srv_reply *rp, unsigned status, json_t *j);
int srv_reply_error(struct srv_reply *rp, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A refusal with the status given: {"error": err's message}, and
 * "rule": its rule's name when a rule refused (ldg_why_name(),
 * docs/api.md), so that a remote front end words its own advice. */
int srv_reply_refusal(struct srv_reply *rp, unsigned status,
		      const struct ldg_err *err);
/* A library failure: bad input 400, missing 404, anything else 500. */
int srv_reply_ldg(struct srv_reply *rp, int rc, const struct ldg_err *err);
/* Takes the rendered JSON of a library call (or its failure). */
int srv_reply_rendered(struct srv_reply *rp, int rc, char *out, size_t len,
		       const struct ldg_err *err);
/* A read transaction and the head; on failure rp holds the answer. */
int srv_begin(struct srv_reply *rp, struct srv *sv, struct ldg_read **r,
	      uint64_t *head);
/* srv_begin(), then a 404 when seq is beyond the head (r is then ended). */
int srv_begin_entry(struct srv_reply *rp, struct srv *sv, uint64_t seq,
		    struct ldg_read **r, uint64_t *head);

/* Queues rp on conn with its headers (Content-Type, Cache-Control,
 * ETag, Allow of a 405, Retry-After, the security headers and the CSP
 * of the page or of the API); takes rp->body, rp->stream. */
enum MHD_Result srv_reply_send(struct MHD_Connection *conn,
			       struct srv_reply *rp);

#endif
