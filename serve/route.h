/*
 * route.h - the HTTP API's route table: one row per route with its path,
 * the query parameters GET takes, its GET (and HEAD) handler, its POST
 * handler and what a POST body may be; and the dispatch that checks a
 * request against its row (method, query, body) before a handler runs.
 * docs/api.md documents every route:
 *
 *   GET /api/v1/head
 *   GET /api/v1/state            ?at=SEQ  &scope=CLUSTER[/RELEASE]
 *   GET /api/v1/history/CLUSTER[/RELEASE]  ?before=SEQ  &limit=N
 *   GET /api/v1/entries          ?after=SEQ  &limit=N
 *   GET /api/v1/entries/SEQ      (Accept: application/msgpack: raw bytes)
 *   GET /api/v1/entries/SEQ/check
 *   GET /api/v1/verify
 *   GET /api/v1/events           ?after=SEQ  (or Last-Event-ID)
 *   GET /api/v1/releases         ?scope=CLUSTER[/RELEASE]
 *   GET /api/v1/keys
 *   GET /api/v1/pending          ?scope=GLOB
 *   GET /api/v1/policy           ?target=CLUSTER/RELEASE
 *   GET /api/v1/policies
 *   POST /api/v1/entries         a signed entry (msgpack, or JSON draft)
 *   POST /api/v1/drafts          JSON: an entry to sign elsewhere
 *   GET, POST /api/v1/checkpoint the newest published checkpoint
 *   GET /tlog/checkpoint         the same, C2SP tlog-tiles' checkpoint
 *   GET /tlog/tile/L/N[.p/W]     C2SP hash tiles and entry bundles
 *       /tlog/tile/entries/N[.p/W]  (docs/format.md "Tiles")
 *
 * Internal to serve/. Thread-safe: the table is constant; a handler runs
 * on its connection's thread (serve_impl.h).
 */
#ifndef SRV_ROUTE_H
#define SRV_ROUTE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "err.h"

struct srv;
struct srv_reply;
struct srv_request;
struct srv_upload;

enum srv_route_id {
	SRV_R_HEAD,
	SRV_R_STATE,
	SRV_R_HISTORY,
	SRV_R_ENTRIES,
	SRV_R_ENTRY,
	SRV_R_VERIFY,
	SRV_R_EVENTS,
	SRV_R_CHECK,
	SRV_R_RELEASES,
	SRV_R_KEYS,
	SRV_R_DRAFTS,
	SRV_R_CHECKPOINT,
	SRV_R_PENDING,
	SRV_R_POLICY,
	SRV_R_POLICIES,
	SRV_R_TLOG_CHECKPOINT,
	SRV_R_TLOG_TILE,
	SRV_R_COUNT
};

#define SRV_PARAMS_MAX 2     /* query parameters of one route */
#define SRV_BODY_TYPES_MAX 2 /* Content-Types one POST route takes */

/* A Content-Type that a POST route takes, and its largest body. */
struct srv_body {
	const char *type;
	size_t max;
};

struct srv_route {
	struct srv_pattern path;
	/* GET and HEAD (NULL: neither), with these query parameters */
	int (*get)(const struct srv_request *rq, struct srv_reply *rp);
	const char *params[SRV_PARAMS_MAX + 1];
	/* POST (NULL: none; else only on a server that writes), called
	 * once the whole body is in; a POST takes no query parameters */
	int (*post)(const struct srv_request *rq, const struct srv_upload *u,
		    struct srv_reply *rp);
	struct srv_body bodies[SRV_BODY_TYPES_MAX]; /* the first that fits */
	const char *body_hint; /* the 415 of any other Content-Type */
};

/* Indexed by enum srv_route_id. */
extern const struct srv_route srv_routes[SRV_R_COUNT];

/* Parses an API path (already percent-decoded, without the query): 0
 * with its row in *rt and what it carries in *out; -ENOENT when no row
 * matches (*rt NULL); -EINVAL when a row matches with a bad seq or
 * scope (*rt that row), the reason in err. */
int srv_route_parse(const char *path, const struct srv_route **rt,
		    struct srv_path *out, struct ldg_err *err);

/* True when the route's GET takes a query parameter of that name. */
bool srv_route_param_ok(enum srv_route_id id, const char *name);

/* True when the request announces a body (a size, Content-Length other
 * than 0, or Transfer-Encoding). */
bool srv_has_body(struct MHD_Connection *conn, size_t upload_size);

/* Whether a request may go to a GET handler: get (the path has one),
 * the method GET or HEAD, and no body; else rp holds the 405 (allow:
 * its Allow header, "" for none) or the 400. */
bool srv_get_ok(struct MHD_Connection *conn, const char *method,
		size_t upload_size, bool get, const char *allow,
		struct srv_reply *rp);

/* Answers a request that sends no body to a handler: GET and HEAD, and
 * every method a route does not take (404, 405 with its Allow, 400 for a
 * body, a bad path or query). Fills *rp. */
void srv_route_answer(struct srv *sv, struct MHD_Connection *conn,
		      const char *url, const char *method, size_t upload_size,
		      struct srv_reply *rp);

/* Whether a POST may go on to send its body: to a route that takes
 * POST, on a server that writes, within the client's rate, with one of
 * the route's Content-Types and announcing no more than it takes; then
 * *u is set up to receive it. Otherwise rp holds the refusal, or stays
 * empty when srv_route_answer() is to answer (no such POST: 404, 405). */
bool srv_route_post_ok(struct srv *sv, struct MHD_Connection *conn,
		       const char *url, struct srv_reply *rp,
		       struct srv_upload *u);

/* Answers a POST whose whole body is in u (413, 400 for an empty one,
 * else its route's handler). Fills *rp. */
void srv_route_post(struct srv *sv, struct MHD_Connection *conn,
		    const char *url, const struct srv_upload *u,
		    struct srv_reply *rp);

#endif
