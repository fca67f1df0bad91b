/*
 * route.c - the route table and the checks every request passes before
 * its handler (route.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "checkpoint.h"
#include "route.h"
#include "serve_impl.h"

#define SRV_JSON_MAX (2 * LDG_ENTRY_MAX) /* a JSON POST body (base64) */

const struct srv_route srv_routes[SRV_R_COUNT] = {
	[SRV_R_HEAD] = { .path = { "/api/v1/head", SRV_EXACT },
			 .get = srv_h_head },
	[SRV_R_STATE] = { .path = { "/api/v1/state", SRV_EXACT },
			  .get = srv_h_state,
			  .params = { "at", "scope" } },
	[SRV_R_HISTORY] = { .path = { "/api/v1/history/", SRV_TAIL_SCOPE },
			    .get = srv_h_history,
			    .params = { "before", "limit" } },
	[SRV_R_ENTRIES] = { .path = { "/api/v1/entries", SRV_EXACT },
			    .get = srv_h_entries,
			    .params = { "after", "limit" },
			    .post = srv_h_append,
			    .bodies = { { "application/json", SRV_JSON_MAX },
					{ "application/msgpack",
					  LDG_ENTRY_MAX } },
			    .body_hint =
				    "send the signed entry bytes as Content-Type: "
				    "application/msgpack (or a signed draft as "
				    "application/json)" },
	[SRV_R_ENTRY] = { .path = { "/api/v1/entries/", SRV_TAIL_SEQ, "" },
			  .get = srv_h_entry },
	[SRV_R_VERIFY] = { .path = { "/api/v1/verify", SRV_EXACT },
			   .get = srv_h_verify },
	[SRV_R_EVENTS] = { .path = { "/api/v1/events", SRV_EXACT },
			   .get = srv_h_events,
			   .params = { "after" } },
	[SRV_R_CHECK] = { .path = { "/api/v1/entries/", SRV_TAIL_SEQ,
				    "/check" },
			  .get = srv_h_check },
	[SRV_R_RELEASES] = { .path = { "/api/v1/releases", SRV_EXACT },
			     .get = srv_h_releases,
			     .params = { "scope" } },
	[SRV_R_KEYS] = { .path = { "/api/v1/keys", SRV_EXACT },
			 .get = srv_h_keys },
	[SRV_R_DRAFTS] = { .path = { "/api/v1/drafts", SRV_EXACT },
			   .post = srv_h_drafts,
			   .bodies = { { "application/json", SRV_JSON_MAX } },
			   .body_hint =
				   "send the draft request as Content-Type: "
				   "application/json" },
	[SRV_R_CHECKPOINT] = { .path = { "/api/v1/checkpoint", SRV_EXACT },
			       .get = srv_h_checkpoint,
			       .post = srv_h_publish,
			       /* the parser's limit */
			       .bodies = { { "text/plain",
					     LDG_CHECKPOINT_MAX - 1 } },
			       .body_hint =
				       "send the checkpoint note as Content-Type: "
				       "text/plain" },
	[SRV_R_PENDING] = { .path = { "/api/v1/pending", SRV_EXACT },
			    .get = srv_h_pending,
			    .params = { "scope" } },
	[SRV_R_POLICY] = { .path = { "/api/v1/policy", SRV_EXACT },
			   .get = srv_h_policy,
			   .params = { "target" } },
	[SRV_R_POLICIES] = { .path = { "/api/v1/policies", SRV_EXACT },
			     .get = srv_h_policies },
	/* C2SP tlog-tiles under the prefix /tlog/ */
	[SRV_R_TLOG_CHECKPOINT] = { .path = { "/tlog/checkpoint", SRV_EXACT },
				    .get = srv_h_tlog_checkpoint },
	[SRV_R_TLOG_TILE] = { .path = { "/tlog/", SRV_TAIL_TILE },
			      .get = srv_h_tile },
};

int srv_route_parse(const char *path, const struct srv_route **rt,
		    struct srv_path *out, struct ldg_err *err)
{
	*rt = NULL;
	memset(out, 0, sizeof(*out));
	if (strlen(path) > SRV_PATH_MAX)
		return ldg_err_set(err, -ENOENT, "no such resource");
	for (size_t i = 0; i < SRV_R_COUNT; i++) {
		int rc = srv_path_match(&srv_routes[i].path, path, out, err);

		if (rc == -ENOENT)
			continue;
		*rt = &srv_routes[i];
		return rc;
	}
	return ldg_err_set(err, -ENOENT, "no such resource");
}

bool srv_route_param_ok(enum srv_route_id id, const char *name)
{
	const char *const *p = srv_routes[id].params;

	for (size_t k = 0; k < SRV_PARAMS_MAX && p[k]; k++)
		if (!strcmp(p[k], name))
			return true;
	return false;
}

/* Whether the route's POST is open on this server: it writes, and for
 * a checkpoint it has a file to keep one in (srv_opts). */
static bool post_open(const struct srv_route *rt, const struct srv *sv)
{
	if (!rt->post || !sv->writer)
		return false;
	return rt != &srv_routes[SRV_R_CHECKPOINT] || sv->cp_path[0];
}

/* The Allow header of the route on this server ("": nothing). */
static const char *allowed(const struct srv_route *rt, const struct srv *sv)
{
	if (!rt || !post_open(rt, sv))
		return rt && !rt->get ? "" : "GET, HEAD";
	return rt->get ? "GET, HEAD, POST" : "POST";
}

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

bool srv_has_body(struct MHD_Connection *conn, size_t upload_size)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (upload_size)
		return true;
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && strcmp(cl, "0");
}

bool srv_get_ok(struct MHD_Connection *conn, const char *method,
		size_t upload_size, bool get, const char *allow,
		struct srv_reply *rp)
{
	rp->allow = allow;
	if (!get || (strcmp(method, MHD_HTTP_METHOD_GET) &&
		     strcmp(method, MHD_HTTP_METHOD_HEAD))) {
		srv_reply_error(rp, MHD_HTTP_METHOD_NOT_ALLOWED,
				"method %.32s not allowed here (%s)", method,
				allow[0] ? allow
					 : "none: the server is read-only");
		return false;
	}
	if (srv_has_body(conn, upload_size)) {
		srv_reply_error(rp, MHD_HTTP_BAD_REQUEST,
				"a %s request takes no body", method);
		return false;
	}
	return true;
}

struct param_check {
	enum srv_route_id id;
	char bad[128];
	char seen[SRV_PARAMS_MAX][16];
	size_t n_seen;
};

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct param_check *pc = cls;

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
	if (pc->n_seen < SRV_PARAMS_MAX)
		snprintf(pc->seen[pc->n_seen++], sizeof(pc->seen[0]), "%s",
			 key);
	return MHD_YES;
}

void srv_route_answer(struct srv *sv, struct MHD_Connection *conn,
		      const char *url, const char *method, size_t upload_size,
		      struct srv_reply *rp)
{
	struct param_check pc = { 0 };
	struct ldg_err err = { 0 };
	const struct srv_route *rt;
	struct srv_path path;
	struct srv_request rq = { .sv = sv, .conn = conn, .path = &path };
	int rc = srv_route_parse(url, &rt, &path, &err);

	if (rc == -ENOENT) {
		srv_reply_error(rp, MHD_HTTP_NOT_FOUND,
				"no such resource: %.200s (see docs/api.md)",
				url);
		return;
	}
	/* a bad seq or scope: the path of no route (400 below) */
	if (rc)
		rt = NULL;
	if (!srv_get_ok(conn, method, upload_size, !rt || rt->get,
			allowed(rt, sv), rp))
		return;
	if (rc) {
		srv_reply_ldg(rp, rc, &err);
		return;
	}
	pc.id = (enum srv_route_id)(rt - srv_routes);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param,
				  &pc);
	if (pc.bad[0]) {
		srv_reply_error(rp, MHD_HTTP_BAD_REQUEST, "%s", pc.bad);
		return;
	}
	rt->get(&rq, rp);
}

bool srv_route_post_ok(struct srv *sv, struct MHD_Connection *conn,
		       const char *url, struct srv_reply *rp,
		       struct srv_upload *u)
{
	const char *type =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_LENGTH);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct srv_body *body = NULL;
	const struct srv_route *rt;
	struct timespec now;
	unsigned wait;

	if (srv_route_parse(url, &rt, &u->path, NULL) || !post_open(rt, sv))
		return false;
	if (MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) >
	    0) {
		srv_reply_error(rp, MHD_HTTP_BAD_REQUEST,
				"POST %s takes no query parameters", url);
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	wait = ci && ci->client_addr
		       ? srv_rate_take(sv->rate, ci->client_addr, &now)
		       : 0;
	if (wait) {
		rp->retry_after = wait;
		srv_reply_error(rp, MHD_HTTP_TOO_MANY_REQUESTS,
				"too many requests from your address: at most %u "
				"POSTs %s; retry after %u s",
				srv_rate_n(sv->rate), srv_rate_period(sv->rate),
				wait);
		return false;
	}
	for (size_t i = 0; !body && i < SRV_BODY_TYPES_MAX; i++)
		if (rt->bodies[i].type && is_type(type, rt->bodies[i].type))
			body = &rt->bodies[i];
	if (!body) {
		srv_reply_error(rp, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "%s",
				rt->body_hint);
		return false;
	}
	if (cl && strtoull(cl, NULL, 10) > body->max) {
		srv_reply_error(rp, MHD_HTTP_CONTENT_TOO_LARGE,
				"the body is larger than %zu bytes", body->max);
		return false;
	}
	u->route = rt;
	u->json = !strcmp(body->type, "application/json");
	u->max = body->max;
	return true;
}

void srv_route_post(struct srv *sv, struct MHD_Connection *conn,
		    const char *url, const struct srv_upload *u,
		    struct srv_reply *rp)
{
	struct srv_request rq = { .sv = sv, .conn = conn, .path = &u->path };

	if (u->too_big)
		srv_reply_error(rp, MHD_HTTP_CONTENT_TOO_LARGE,
				"the body is larger than %zu bytes", u->max);
	else if (u->len == 0)
		srv_reply_error(rp, MHD_HTTP_BAD_REQUEST,
				"empty body: see docs/api.md for what POST %s "
				"takes",
				url);
	else
		u->route->post(&rq, u, rp);
}
