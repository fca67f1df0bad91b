/*
 * witness_http.c - `ledger witness` over HTTP (witness_http.h): the two routes,
 * the body read as it arrives, one log line per request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reply.h"
#include "util.h"
#include "witness_http.h"

struct srv_witness {
	struct srv_witness_opts o;
	struct MHD_Daemon *mhd;
	uint16_t port;
};

/* A POST body as it arrives. */
struct wit_upload {
	char *buf;
	size_t len;
	bool too_big;
};

/* The per-request pointer of a GET: answered on the second call, as
 * serve.c does (an answer on the first makes libmicrohttpd close the
 * connection). */
static char answer_next;

unsigned srv_witness_status(enum ldg_witness_verdict v)
{
	switch (v) {
	case LDG_WIT_COSIGNED:
		return MHD_HTTP_OK;
	case LDG_WIT_UNKNOWN_LOG:
		return MHD_HTTP_NOT_FOUND;
	case LDG_WIT_UNTRUSTED:
		return MHD_HTTP_FORBIDDEN;
	case LDG_WIT_OLD_TOO_BIG:
		return MHD_HTTP_BAD_REQUEST;
	case LDG_WIT_SIZE_MISMATCH:
	case LDG_WIT_ROOT_MISMATCH:
		return MHD_HTTP_CONFLICT;
	case LDG_WIT_BAD_PROOF:
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	}
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* One line on stderr per request, written at once (threads share it):
 * "witness: ADDR METHOD PATH: STATUS what". */
static void log_line(struct MHD_Connection *conn, const char *method,
		     const char *url, unsigned status, const char *fmt, ...)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?", line[1024];
	size_t n;
	va_list ap;

	if (ci && ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ci->client_addr)
				   ->sin6_addr,
			  host, sizeof(host));
	else if (ci && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)ci->client_addr)
				   ->sin_addr,
			  host, sizeof(host));
	n = (size_t)snprintf(line, sizeof(line), "witness: %s %s %.200s: %u ",
			     host, method, url, status);
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += (size_t)vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	/* what a client sent never splits the line */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere left to say it */
}

/* A text/plain answer: body (malloc'd) or a one-line message. */
static int reply_text(struct srv_reply *rp, unsigned status, const char *type,
		      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&rp->body, fmt, ap);
	va_end(ap);
	rp->status = status;
	rp->type = type;
	rp->cache = "no-store";
	if (n < 0) {
		rp->body = NULL;
		rp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		n = 0;
	}
	rp->len = (size_t)n;
	return 0;
}

#define TEXT "text/plain; charset=utf-8"

static void add_checkpoint(struct srv_witness *sw, struct MHD_Connection *conn,
			   const struct wit_upload *u, struct srv_reply *rp)
{
	struct ldg_witness_req *rq = malloc(sizeof(*rq));
	struct ldg_witness_answer ans;
	struct ldg_err err = { 0 };
	char root[45], sent[45]; /* base64, as in a checkpoint */
	const char *verb;
	unsigned st;

	if (!rq) {
		reply_text(rp, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT,
			   "out of memory\n");
		log_line(conn, "POST", "/add-checkpoint", rp->status,
			 "out of memory");
		return;
	}
	if (u->too_big) {
		reply_text(rp, MHD_HTTP_CONTENT_TOO_LARGE, TEXT,
			   "the body is larger than %d bytes\n",
			   LDG_WITNESS_BODY_MAX);
		log_line(conn, "POST", "/add-checkpoint", rp->status,
			 "body too large");
		goto out;
	}
	if (ldg_witness_req_parse(u->buf ? u->buf : "", u->len, rq, &err)) {
		reply_text(rp, MHD_HTTP_BAD_REQUEST, TEXT, "%s\n", err.msg);
		log_line(conn, "POST", "/add-checkpoint", rp->status,
			 "malformed: %s", err.msg);
		goto out;
	}
	if (ldg_witness_add(sw->o.db, sw->o.logs, sw->o.key, rq,
			    ldg_now_ns() / 1000000000u, &ans, &err)) {
		reply_text(rp, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT, "%s\n",
			   err.msg);
		log_line(conn, "POST", "/add-checkpoint", rp->status,
			 "origin \"%s\" size %llu: %s", rq->cp.origin,
			 (unsigned long long)rq->cp.size, err.msg);
		goto out;
	}
	st = srv_witness_status(ans.verdict);
	sodium_bin2base64(root, sizeof(root), ans.stored_root, LDG_HASH_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	switch (ans.verdict) {
	case LDG_WIT_COSIGNED:
		reply_text(rp, st, TEXT, "%s", ans.line);
		verb = "cosigned";
		break;
	case LDG_WIT_UNKNOWN_LOG:
		verb = "unknown log";
		reply_text(rp, st, TEXT, "unknown log \"%s\"\n", rq->cp.origin);
		break;
	case LDG_WIT_UNTRUSTED:
		verb = "no signature by a key of the log verifies";
		reply_text(rp, st, TEXT, "%s\n", verb);
		break;
	case LDG_WIT_OLD_TOO_BIG:
		verb = "old size above the checkpoint's size";
		reply_text(rp, st, TEXT, "%s\n", verb);
		break;
	case LDG_WIT_SIZE_MISMATCH:
		verb = "old size is not the stored size";
		reply_text(rp, st, "text/x.tlog.size", "%llu\n",
			   (unsigned long long)ans.stored_size);
		break;
	case LDG_WIT_ROOT_MISMATCH:
		verb = "the stored size with another root";
		reply_text(rp, st, TEXT,
			   "size %llu is cosigned with another root: a "
			   "fork\n",
			   (unsigned long long)ans.stored_size);
		break;
	case LDG_WIT_BAD_PROOF:
	default:
		verb = "the consistency proof does not verify";
		reply_text(rp, st, TEXT, "%s\n", verb);
		break;
	}
	/* the request's root too: a refused one may be evidence of a
	 * log's misbehaviour (C2SP tlog-witness allows logging it) */
	sodium_bin2base64(sent, sizeof(sent), rq->cp.root, LDG_HASH_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	log_line(conn, "POST", "/add-checkpoint", st,
		 "origin \"%s\" old %llu size %llu root %s: %s (stored "
		 "%llu%s%s)",
		 rq->cp.origin, (unsigned long long)rq->old,
		 (unsigned long long)rq->cp.size, sent, verb,
		 (unsigned long long)ans.stored_size,
		 ans.stored_size ? " root " : "", ans.stored_size ? root : "");
out:
	free(rq);
}

static void get_checkpoint(struct srv_witness *sw, struct MHD_Connection *conn,
			   struct srv_reply *rp)
{
	const char *origin =
		MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
					    "origin");
	struct ldg_err err = { 0 };
	char *note = NULL;
	size_t len = 0;
	int rc;

	if (!origin || !*origin) {
		reply_text(rp, MHD_HTTP_BAD_REQUEST, TEXT,
			   "expected ?origin=ORIGIN\n");
		log_line(conn, "GET", "/checkpoint", rp->status, "no origin");
		return;
	}
	rc = ldg_witness_latest(sw->o.db, origin, &note, &len, &err);
	if (rc) {
		reply_text(rp,
			   rc == -ENOENT ? MHD_HTTP_NOT_FOUND
					 : MHD_HTTP_INTERNAL_SERVER_ERROR,
			   TEXT, "%s\n", err.msg);
	} else {
		rp->status = MHD_HTTP_OK;
		rp->type = TEXT;
		rp->cache = "no-store";
		rp->body = note;
		rp->len = len;
	}
	log_line(conn, "GET", "/checkpoint", rp->status, "origin \"%.255s\"",
		 origin);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct wit_upload *u = *con_cls;

	if (u && *con_cls != &answer_next) {
		free(u->buf);
		free(u);
	}
	*con_cls = NULL;
}

/* Whether the request announces more than a body may be. */
static bool announces_too_much(struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;

	return cl && (ldg_parse_dec(cl, 0, UINT64_MAX, &n) ||
		      n > LDG_WITNESS_BODY_MAX);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct srv_witness *sw = cls;
	struct srv_reply rp = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
	bool post = !strcmp(method, MHD_HTTP_METHOD_POST);
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) ||
		   !strcmp(method, MHD_HTTP_METHOD_HEAD);

	if (!*con_cls) {
		if (!strcmp(url, "/add-checkpoint") && post) {
			struct wit_upload *u;
			if (announces_too_much(conn)) {
				reply_text(&rp, MHD_HTTP_CONTENT_TOO_LARGE,
					   TEXT,
					   "the body is larger than %d "
					   "bytes\n",
					   LDG_WITNESS_BODY_MAX);
				log_line(conn, method, url, rp.status,
					 "body too large");
				return srv_reply_send(conn, &rp);
			}
			u = calloc(1, sizeof(*u));
			if (!u)
				return MHD_NO;
			*con_cls = u;
			return MHD_YES;
		}
		if (!strcmp(url, "/checkpoint") && get &&
		    *upload_data_size == 0) {
			*con_cls = &answer_next;
			return MHD_YES;
		}
		if (!strcmp(url, "/add-checkpoint") ||
		    !strcmp(url, "/checkpoint")) {
			bool read = !strcmp(url, "/checkpoint");
			reply_text(&rp, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT,
				   "%s takes %s only\n", url,
				   read ? "GET" : "POST");
			rp.allow = read ? "GET, HEAD" : "POST";
		} else {
			reply_text(&rp, MHD_HTTP_NOT_FOUND, TEXT,
				   "no such path: a witness answers POST "
				   "/add-checkpoint and GET "
				   "/checkpoint?origin=ORIGIN\n");
		}
		log_line(conn, method, url, rp.status, "refused");
		return srv_reply_send(conn, &rp);
	}
	if (*con_cls == &answer_next) {
		get_checkpoint(sw, conn, &rp);
		return srv_reply_send(conn, &rp);
	}
	if (*upload_data_size) {
		struct wit_upload *u = *con_cls;
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (u->too_big || u->len + n > LDG_WITNESS_BODY_MAX) {
			u->too_big = true;
		} else {
			char *grown = realloc(u->buf, u->len + n + 1);
			if (!grown)
				return MHD_NO;
			memcpy(grown + u->len, upload_data, n);
			u->buf = grown;
			u->len += n;
		}
		return MHD_YES;
	}
	add_checkpoint(sw, conn, *con_cls, &rp);
	return srv_reply_send(conn, &rp);
}

int srv_witness_start(const struct sockaddr_storage *addr, socklen_t addrlen,
		      const struct srv_witness_opts *o,
		      struct srv_witness **out, struct ldg_err *err)
{
	struct srv_witness *sw = calloc(1, sizeof(*sw));
	const union MHD_DaemonInfo *di;

	if (!sw)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	sw->o = *o;
	sw->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
					   MHD_USE_INTERNAL_POLLING_THREAD |
					   MHD_USE_POLL | MHD_USE_ITC |
					   (addr->ss_family == AF_INET6
						    ? MHD_USE_IPv6
						    : 0),
				   0, NULL, NULL, on_request, sw,
				   MHD_OPTION_SOCK_ADDR, addr,
				   MHD_OPTION_CONNECTION_LIMIT,
				   (unsigned)SRV_WITNESS_CONN_MAX,
				   MHD_OPTION_CONNECTION_TIMEOUT,
				   (unsigned)SRV_WITNESS_TIMEOUT_S,
				   MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				   sw, MHD_OPTION_END);
	if (!sw->mhd) {
		free(sw);
		return ldg_err_set(err, -EADDRINUSE,
				   "cannot listen (in use, or not an "
				   "address of this machine)");
	}
	di = MHD_get_daemon_info(sw->mhd, MHD_DAEMON_INFO_BIND_PORT);
	sw->port = di ? di->port : 0;
	*out = sw;
	return 0;
}

uint16_t srv_witness_port(const struct srv_witness *sw)
{
	return sw->port;
}

void srv_witness_stop(struct srv_witness *sw)
{
	if (!sw)
		return;
	MHD_stop_daemon(sw->mhd);
	free(sw);
}
