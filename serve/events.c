#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"
#include "serve_impl.h"

#define SSE_BATCH 32 /* entries rendered per read of an event stream */

/* ---- Server-Sent Events ---- */

struct sse {
	struct srv *sv;
	uint64_t last; /* seq of the last entry sent */
	char *buf;
	size_t len, off;
};

/* Renders the next entries after e->last into e->buf, or a keep-alive
 * comment when none came within SRV_KEEPALIVE_S. 1 when stopping. */
static int sse_fill(struct sse *e)
{
	struct srv *sv = e->sv;
	struct ldg_err err = {0};
	struct timespec deadline;
	struct ldg_read *r = NULL;
	uint64_t head;
	FILE *f;
	int rc = 0;

	srv_deadline_in(&deadline, SRV_KEEPALIVE_S * 1000L);
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
		json_t *j = srv_entry_json(r, seq, &rc, &err);
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

int srv_h_events(const struct request *rq, struct reply *rp)
{
	const char *last_id = MHD_lookup_connection_value(
	    rq->conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *after_s = srv_arg(rq, "after");
	struct ldg_err err = {0};
	struct sse *e;
	uint64_t after;

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
	e = calloc(1, sizeof(*e));
	if (!e)
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "out of memory");
	e->sv = rq->sv;
	e->last = after;
	/* the first bytes go out at once: the client knows it is
	 * connected, and from where the stream starts */
	if (asprintf(&e->buf, "retry: 1000\n: entries after %llu\n\n",
		     (unsigned long long)after) < 0) {
		free(e);
		return srv_reply_error(rp, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "out of memory");
	}
	e->len = strlen(e->buf);
	rp->stream = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, e, sse_free);
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
