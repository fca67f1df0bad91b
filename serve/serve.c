/*
 * serve.c - the daemon: libmicrohttpd's callbacks (the Host check, the
 * page's files, reading POST bodies, handing requests to route.c), the
 * head poller, start and stop (serve.h).
 */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "assets.h"
#include "rate.h"
#include "route.h"
#include "serve.h"
#include "serve_impl.h"
#include "writer.h"

/* The per-request pointer of a GET or HEAD without a body, answered on
 * the handler's second call: an answer queued on the first call makes
 * libmicrohttpd close the connection (it cannot know no body follows),
 * and a new connection is a new thread per request. */
static char answer_next;

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct srv *sv = cls;
	struct srv_upload *u = *con_cls;

	if (u && *con_cls != &answer_next) {
		free(u->buf);
		free(u);
		*con_cls = NULL;
		/* the writer keeps dying (writer.h): now that this POST is
		 * answered, the server stops (cmd_serve waits for SIGTERM) */
		if (srv_writer_failed(sv->writer))
			kill(getpid(), SIGTERM);
	}
}

/* A static file of the web page: / and /ui/... (assets.h). */
static bool static_file(struct MHD_Connection *conn, const char *url,
			const char *method, size_t upload_size,
			struct srv_reply *rp)
{
	const struct srv_asset *a = srv_asset_find(url);
	const char *inm;

	if (!a)
		return false;
	if (!srv_get_ok(conn, method, upload_size, true, "GET, HEAD", rp))
		return true;
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

/* Whether the Host header names this server (srv_host_ok()); else rp
 * holds the 421 (or the 400 of an HTTP/1.1 request without one). */
static bool host_ok(struct srv *sv, struct MHD_Connection *conn,
		    const char *version, struct srv_reply *rp)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_HOST);

	if (!host && strcmp(version, MHD_HTTP_VERSION_1_0)) {
		srv_reply_error(rp, MHD_HTTP_BAD_REQUEST,
				"no Host header: HTTP/1.1 requires one");
		return false;
	}
	if (srv_host_ok(host, &sv->listen, sv->allow_hosts, sv->n_allow_hosts))
		return true;
	srv_reply_error(rp, MHD_HTTP_MISDIRECTED_REQUEST,
			"Host \"%.200s\" is not a name of this server: use "
			"its address, or start it with --allow-host NAME",
			host);
	return false;
}

/* The body of a POST, read as it arrives: *upload_data_size bytes more,
 * or the end (size 0), when the request is answered. */
static enum MHD_Result upload_more(struct srv_upload *u, const char *data,
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
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct srv_reply rp = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
	struct srv_upload probe = { 0 };

	/* before anything else: a name a web page could have rebound to
	 * this address (DNS rebinding) gets nothing */
	if (!*con_cls && !host_ok(cls, conn, version, &rp))
		goto respond;
	if (!*con_cls && *upload_data_size == 0 &&
	    (!strcmp(method, MHD_HTTP_METHOD_GET) ||
	     !strcmp(method, MHD_HTTP_METHOD_HEAD)) &&
	    !srv_has_body(conn, 0)) {
		*con_cls = &answer_next;
		return MHD_YES;
	}
	if (*con_cls == &answer_next) {
		if (!static_file(conn, url, method, 0, &rp))
			srv_route_answer(cls, conn, url, method, 0, &rp);
	} else if (*con_cls) {
		struct srv_upload *u = *con_cls;
		if (*upload_data_size)
			return upload_more(u, upload_data, upload_data_size);
		/* the whole body is in */
		srv_route_post(cls, conn, url, u, &rp);
	} else if (!strcmp(method, MHD_HTTP_METHOD_POST) &&
		   srv_route_post_ok(cls, conn, url, &rp, &probe)) {
		struct srv_upload *u = malloc(sizeof(*u));
		if (!u)
			return MHD_NO;
		*u = probe;
		*con_cls = u;
		return MHD_YES;
	} else if (!rp.body &&
		   !static_file(conn, url, method, *upload_data_size, &rp)) {
		/* answered on the first call, before any body is read: MHD
		 * then closes the connection instead of reading a refused
		 * upload */
		srv_route_answer(cls, conn, url, method, *upload_data_size,
				 &rp);
	}
respond:
	return srv_reply_send(conn, &rp);
}

/* libmicrohttpd's percent-decoding of the path and the query, except
 * that a path or value holding %00 is left undecoded: decoded, the NUL
 * would end the string early, and "/ui/app.js%00.html" would be served
 * as /ui/app.js, "/api/v1/entries/1%00" as entry 1. Undecoded it matches
 * no route, page file, seq or name (404 or 400). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%'))
		if (p[1] == '0' && p[2] == '0')
			return strlen(s);
	return MHD_http_unescape(s);
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
		srv_deadline_in(&deadline, SRV_POLL_MS);
		pthread_cond_timedwait(&sv->moved, &sv->lock, &deadline);
		if (sv->stopping)
			break;
		pthread_mutex_unlock(&sv->lock);
		head = 0;
		/* as the mount does (fs/fs.c, watch_head) */
		(void)ldg_store_settle(sv->store, NULL);
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
	if (bind(fd, (const struct sockaddr *)addr, len) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen)) {
		rc = -errno;
		close(fd);
		return ldg_err_set(err, rc, "cannot listen: %s", strerror(-rc));
	}
	*port = ntohs(bound.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&bound)->sin6_port
			      : ((struct sockaddr_in *)&bound)->sin_port);
	return fd;
}

/* What srv_start() set up, once no thread uses it. */
static void srv_free(struct srv *sv)
{
	pthread_cond_destroy(&sv->moved);
	pthread_mutex_destroy(&sv->verify_lock);
	pthread_mutex_destroy(&sv->cp_lock);
	pthread_mutex_destroy(&sv->lock);
	srv_rate_free(sv->rate);
	free(sv->verify_body);
	free(sv->cp_text);
	free(sv->stream_host);
	free(sv);
}

int srv_start(struct ldg_store *s, struct srv_writer *writer,
	      const struct sockaddr_storage *addr, socklen_t addrlen,
	      const struct srv_opts *o, struct srv **out, struct ldg_err *err)
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
	memcpy(&sv->listen, addr, addrlen);
	sv->allow_hosts = o->allow_hosts;
	sv->n_allow_hosts = o->n_allow_hosts;
	pthread_mutex_init(&sv->lock, NULL);
	pthread_mutex_init(&sv->cp_lock, NULL);
	pthread_mutex_init(&sv->verify_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sv->moved, &ca);
	pthread_condattr_destroy(&ca);
	sv->max_streams = o->max_streams ? o->max_streams : SRV_STREAMS_MAX;
	sv->max_streams_per_addr = o->max_streams_per_addr
					   ? o->max_streams_per_addr
					   : SRV_STREAMS_PER_IP;
	sv->stream_host = calloc(sv->max_streams, sizeof(*sv->stream_host));
	if (!sv->stream_host) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_free;
	}
	sv->rate = srv_rate_new(o->post_rate, o->post_period_s);
	if (!sv->rate) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_free;
	}
	if (o->checkpoint_path &&
	    snprintf(sv->cp_path, sizeof(sv->cp_path), "%s",
		     o->checkpoint_path) >= (int)sizeof(sv->cp_path)) {
		rc = ldg_err_set(err, -ENAMETOOLONG, "path too long");
		goto out_free;
	}
	if (sv->cp_path[0])
		srv_load_checkpoint(sv);
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
	sv->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
					   MHD_USE_INTERNAL_POLLING_THREAD |
					   MHD_USE_POLL | MHD_USE_ITC,
				   0, NULL, NULL, on_request, sv,
				   MHD_OPTION_LISTEN_SOCKET, fd,
				   MHD_OPTION_CONNECTION_LIMIT,
				   (unsigned)SRV_CONN_MAX,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				   (unsigned)SRV_CONN_PER_IP,
				   MHD_OPTION_CONNECTION_TIMEOUT,
				   (unsigned)SRV_CONN_TIMEOUT_S,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				   (size_t)SRV_REQ_MEMORY,
				   MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				   sv, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
				   NULL, MHD_OPTION_END);
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
	srv_free(sv);
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
	srv_free(sv);
}
