#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"
#include "serve_impl.h"

#define SSE_BATCH 32 /* entries rendered per read of an event stream */
#define SSE_HUP_CHECK_MS                                                       \
	250 /* how often a waiting stream looks for a
				hang-up of its client */

/* ---- Server-Sent Events ---- */

struct sse {
	struct srv *sv;
	int fd;	       /* the connection's socket: to see a hang-up */
	unsigned slot; /* its slot in sv->stream_host */
	uint64_t last; /* seq of the last entry sent */
	char *buf;
	size_t len, off;
};

/* True when the client closed its end (or the socket failed): a
 * waiting stream notices within SSE_HUP_CHECK_MS, not at its next
 * keep-alive, so its thread, connection and slot are freed at once.
 * Bytes the client sends (a pipelined request) are left unread. */
static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return fd >= 0 && poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* Renders the next entries after e->last into e->buf, or a keep-alive
 * comment when none came within SRV_KEEPALIVE_S. 1 when stopping or
 * when the client hung up. */
static int sse_fill(struct sse *e)
{
	struct srv *sv = e->sv;
	struct ldg_err err = { 0 };
	struct timespec deadline;
	struct ldg_read *r = NULL;
	uint64_t head;
	FILE *f;
	int rc = 0;

	for (long waited = 0;; waited += SSE_HUP_CHECK_MS) {
		srv_deadline_in(&deadline, SSE_HUP_CHECK_MS);
		pthread_mutex_lock(&sv->lock);
		while (!sv->stopping && sv->head <= e->last)
			if (pthread_cond_timedwait(&sv->moved, &sv->lock,
						   &deadline) == ETIMEDOUT)
				break;
		head = sv->head;
		rc = sv->stopping;
		pthread_mutex_unlock(&sv->lock);
		if (rc || head > e->last ||
		    waited + SSE_HUP_CHECK_MS >= SRV_KEEPALIVE_S * 1000L)
			break;
		if (peer_gone(e->fd))
			return 1;
	}
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
		json_t *j;
		char *s;
		rc = rnd_entry_json_at(r, seq, &j, &err);
		if (rc)
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

	pthread_mutex_lock(&e->sv->lock);
	e->sv->stream_host[e->slot][0] = '\0';
	pthread_mutex_unlock(&e->sv->lock);
	free(e->buf);
	free(e);
}

/* A free stream slot for the client of conn, taken for it: 0 with *slot,
 * or -1 with the refusal in rp (503 when all are taken, 429 when its
 * address holds its share), both with Retry-After. */
static int stream_take(struct srv *sv, struct MHD_Connection *conn,
		       unsigned *slot, struct srv_reply *rp)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned used = 0, mine = 0, free_slot = sv->max_streams;
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	bool ok;

	/* the address as text: one key for IPv4 and IPv6, port dropped */
	if (sa)
		getnameinfo(sa,
			    sa->sa_family == AF_INET6
				    ? sizeof(struct sockaddr_in6)
				    : sizeof(struct sockaddr_in),
			    host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	pthread_mutex_lock(&sv->lock);
	for (unsigned i = 0; i < sv->max_streams; i++) {
		if (!sv->stream_host[i][0]) {
			if (free_slot == sv->max_streams)
				free_slot = i;
			continue;
		}
		used++;
		mine += !strcmp(sv->stream_host[i], host);
	}
	ok = used < sv->max_streams && mine < sv->max_streams_per_addr;
	if (ok)
		snprintf(sv->stream_host[free_slot], sizeof(sv->stream_host[0]),
			 "%s", host);
	pthread_mutex_unlock(&sv->lock);
	if (ok) {
		*slot = free_slot;
		return 0;
	}
	rp->retry_after = SRV_STREAM_RETRY_S;
	if (used >= sv->max_streams)
		srv_reply_error(rp, MHD_HTTP_SERVICE_UNAVAILABLE,
				"all %u event streams are taken; retry after "
				"%u s",
				sv->max_streams, SRV_STREAM_RETRY_S);
	else
		srv_reply_error(rp, MHD_HTTP_TOO_MANY_REQUESTS,
				"your address holds %u event streams, the "
				"most it may; retry after %u s",
				mine, SRV_STREAM_RETRY_S);
	return -1;
}

int srv_h_events(const struct srv_request *rq, struct srv_reply *rp)
{
	const char *last_id =
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
					    "Last-Event-ID");
	const char *after_s = srv_arg(rq, "after");
	const union MHD_ConnectionInfo *ci;
	struct ldg_err err = { 0 };
	struct sse *e;
	uint64_t after;
	unsigned slot;

	/* a reconnecting browser sends Last-Event-ID and the URL it
	 * started with: the header is the newer news */
	if (last_id &&
	    srv_parse_seq("Last-Event-ID", last_id, true, &after, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (!last_id && after_s &&
	    srv_parse_seq("after", after_s, true, &after, &err))
		return srv_reply_ldg(rp, -EINVAL, &err);
	if (!last_id && !after_s) {
		pthread_mutex_lock(&rq->sv->lock);
		after = rq->sv->head;
		pthread_mutex_unlock(&rq->sv->lock);
	}
	if (stream_take(rq->sv, rq->conn, &slot, rp))
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e) {
		pthread_mutex_lock(&rq->sv->lock);
		rq->sv->stream_host[slot][0] = '\0';
		pthread_mutex_unlock(&rq->sv->lock);
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "out of memory");
	}
	e->sv = rq->sv;
	e->slot = slot;
	ci = MHD_get_connection_info(rq->conn,
				     MHD_CONNECTION_INFO_CONNECTION_FD);
	e->fd = ci ? ci->connect_fd : -1;
	e->last = after;
	/* the first bytes go out at once: the client knows it is
	 * connected, and from where the stream starts */
	if (asprintf(&e->buf, "retry: 1000\n: entries after %llu\n\n",
		     (unsigned long long)after) < 0) {
		sse_free(e);
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "out of memory");
	}
	e->len = strlen(e->buf);
	rp->stream =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
						  sse_read, e, sse_free);
	if (!rp->stream) {
		sse_free(e);
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "out of memory");
	}
	rp->status = MHD_HTTP_OK;
	rp->type = "text/event-stream";
	rp->cache = "no-store";
	return 0;
}
