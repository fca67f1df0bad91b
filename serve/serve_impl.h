/*
 * serve_impl.h - what the daemon (serve.c), the route table (route.c)
 * and the handlers (read.c, events.c, write.c) share: the server's
 * state, the request, a POST body, the handlers' prototypes and two
 * small helpers (inline, so that a handler calls nothing in serve.c).
 * Replies are reply.h. Internal to serve/: nothing else includes it
 * (serve.h is the contract).
 *
 * Caveats: a handler runs on its connection's thread (libmicrohttpd,
 * one thread per connection); it fills *rp and returns 0, and every
 * read it does is one read transaction of its own, ended before it
 * returns. The fields of struct srv are guarded as their comments say.
 */
#ifndef SRV_SERVE_IMPL_H
#define SRV_SERVE_IMPL_H

#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api.h"
#include "rate.h"
#include "reply.h"
#include "route.h"
#include "serve.h"
#include "store.h"
#include "writer.h"

struct srv {
	struct ldg_store *store;   /* borrowed */
	struct srv_writer *writer; /* borrowed; NULL: read-only */
	struct MHD_Daemon *mhd;
	uint16_t port;
	pthread_t poller;
	bool poller_started;

	/* lock guards head, stopping and the stream slots; moved is
	 * broadcast when head or stopping changes (the poller also waits
	 * on it, for stopping) */
	pthread_mutex_t lock;
	pthread_cond_t moved;
	uint64_t head;
	bool stopping;
	/* one slot per event stream that may be open (events.c): the
	 * client's address, "" when free */
	unsigned max_streams, max_streams_per_addr;
	char (*stream_host)[INET6_ADDRSTRLEN];

	/* the verify report of verify_head, rendered; verify_lock is held
	 * while ldg_verify() runs, so it runs once per head */
	pthread_mutex_t verify_lock;
	uint64_t verify_head;
	char *verify_body;
	size_t verify_len;

	/* what a Host header must name (srv_host_ok()) */
	struct sockaddr_storage listen;
	const char *const *allow_hosts;
	size_t n_allow_hosts;

	struct srv_rate *rate; /* POSTs per client address (rate.h) */

	/* the newest published checkpoint (cp_lock): its note and size */
	pthread_mutex_t cp_lock;
	char cp_path[PATH_MAX]; /* "" when none are taken */
	char *cp_text;
	uint64_t cp_size;
};

struct srv_request {
	struct srv *sv;
	struct MHD_Connection *conn;
	const struct srv_path *path;
};

/* A POST body being read (MHD's per-request pointer). */
struct srv_upload {
	const struct srv_route *route;
	struct srv_path path;
	bool json;  /* Content-Type: application/json */
	size_t max; /* the largest body taken */
	uint8_t *buf;
	size_t len, cap;
	bool too_big;
};

/* ---- helpers of the handlers ---- */

/* A query parameter, or NULL. */
static inline const char *srv_arg(const struct srv_request *rq,
				  const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

/* ms from now on CLOCK_MONOTONIC (the clock of srv's condition). */
static inline void srv_deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- the handlers of the route table (route.c): GET (read.c,
 * events.c, write.c), then POST, once the body is read whole (write.c) */

int srv_h_head(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_state(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_history(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_entries(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_entry(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_check(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_releases(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_keys(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_verify(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_events(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_checkpoint(const struct srv_request *rq, struct srv_reply *rp);
/* GET /tlog/checkpoint: the same note with its cosignatures, revalidated
 * on every use (C2SP tlog-tiles: the checkpoint is not cached long). */
int srv_h_tlog_checkpoint(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_pending(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_policy(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_policies(const struct srv_request *rq, struct srv_reply *rp);
int srv_h_tile(const struct srv_request *rq, struct srv_reply *rp);

int srv_h_append(const struct srv_request *rq, const struct srv_upload *u,
		 struct srv_reply *rp);
int srv_h_drafts(const struct srv_request *rq, const struct srv_upload *u,
		 struct srv_reply *rp);
int srv_h_publish(const struct srv_request *rq, const struct srv_upload *u,
		  struct srv_reply *rp);

/* At start: the checkpoint kept by an earlier run, if still valid. */
void srv_load_checkpoint(struct srv *sv);

#endif
