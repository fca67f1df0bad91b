/*
 * serve.h - `ledger serve`: the HTTP API over a ledger (libmicrohttpd,
 * JSON with jansson), Server-Sent Events for new entries, the web page,
 * and the appends of remote writers through a writer process. serve/
 * owns everything HTTP on the server's side: the route table, parsing
 * what clients send, the handlers, the replies and their headers, and
 * the writer. docs/api.md documents every endpoint; route.h lists them.
 *
 * Threads: libmicrohttpd runs one thread per connection; each request
 * opens its own read transaction on the shared store and ends it before
 * answering, so no request sees a torn state. One poller thread reads the
 * head every SRV_POLL_MS and wakes every event stream when it moves.
 * /api/v1/verify runs ldg_verify() at most once per head: the report is
 * cached until the head moves, and concurrent requests wait for the one
 * that runs.
 *
 * Limits: SRV_CONN_MAX connections, SRV_CONN_PER_IP from one address,
 * SRV_CONN_TIMEOUT_S idle seconds before a connection is closed (event
 * streams send a comment every SRV_KEEPALIVE_S, which keeps them alive,
 * so they have limits of their own: o->max_streams in all and
 * o->max_streams_per_addr from one address, at most half of the
 * connections, so the other half always answers ordinary requests; a
 * stream whose client hung up is ended within SSE_HUP_CHECK_MS),
 * SRV_REQ_MEMORY bytes for a request's headers; a GET or HEAD with a
 * body is refused. Before anything else, the Host header must name this
 * server (srv_host_ok(): against DNS rebinding), else 421.
 *
 * The one write is POST /api/v1/entries: an entry a client built and
 * signed, or a batch of up to SRV_WRITER_BATCH_MAX of
 * them, handed to the writer process (writer.h) that appends them in
 * one transaction as ldg_append_signed_batch() checks them; bodies above
 * LDG_ENTRY_MAX (the whole batch) are refused (413). POST /api/v1/drafts writes nothing;
 * POST /api/v1/checkpoint writes o->checkpoint_path (a file beside the
 * ledger, replaced atomically; cp_lock orders the writers).
 *
 * Files, each calling only those below it (no two call each other):
 *   serve.c    the daemon: libmicrohttpd's callbacks, the Host check,
 *              the page's files, POST bodies read, the head poller
 *   route.c    route.h: the route table (one row per route: path,
 *              query parameters, GET and POST handlers, POST bodies) and
 *              the checks every request passes before its handler
 *   events.c   the handler of Server-Sent Events
 *   read.c     the other read handlers
 *   write.c    the handlers of appends, drafts, checkpoints
 *   reply.c    reply.h: building a reply and sending it with its headers
 *   api.c      api.h: parsing what clients send (paths, parameters,
 *              headers, POST bodies, --listen), pure, fuzzed
 *   rate.c     rate.h: the POST rate limit per client address
 *   writer.c   writer.h: the writer process and its protocol
 *   assets.c   assets.h: the page's files, compiled in by embed.c
 * serve_impl.h is what the daemon, the table and the handlers share.
 *
 * Caveats: srv_start() borrows the store, which must be opened with
 * LDG_OPEN_RDONLY, and the writer (NULL: POST is 405), until srv_stop()
 * returns. Signals are the caller's:
 * block SIGTERM/SIGINT before srv_start() so that no server thread takes
 * them, and call srv_stop() from the thread that waits for them.
 */
#ifndef SRV_SERVE_H
#define SRV_SERVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "store.h"
#include "writer.h"

#define SRV_POLL_MS 200
#define SRV_KEEPALIVE_S 15
#define SRV_CONN_MAX 256
#define SRV_CONN_PER_IP 64
#define SRV_CONN_TIMEOUT_S 60
#define SRV_STREAMS_MAX 64   /* default event streams at once */
#define SRV_STREAMS_PER_IP 8 /* default event streams from one address */
#define SRV_STREAMS_CAP (SRV_CONN_MAX / 2) /* the most --max-streams takes */
#define SRV_STREAMS_PER_IP_CAP (SRV_CONN_PER_IP / 2)
#define SRV_STREAM_RETRY_S 5 /* Retry-After of a refused stream */
#define SRV_REQ_MEMORY (64 * 1024)
#define SRV_POST_RATE 200 /* default POSTs a second from one address */
#define SRV_CHECKPOINT_FILE "checkpoint" /* in the ledger's directory */

struct srv;

struct srv_opts {
	/* POSTs per client address every post_period_s seconds (0 counts
	 * as 1: a second); post_rate 0: no limit */
	unsigned post_rate, post_period_s;
	/* where published checkpoints are kept (NULL: none are taken) */
	const char *checkpoint_path;
	/* event streams at once, in all (up to SRV_STREAMS_CAP) and from
	 * one address (up to SRV_STREAMS_PER_IP_CAP); 0: the default */
	unsigned max_streams, max_streams_per_addr;
	/* names the Host header may give besides the listen address
	 * (srv_host_ok()); borrowed until srv_stop() */
	const char *const *allow_hosts;
	size_t n_allow_hosts;
};

/* Starts serving s on addr. o->post_rate: POSTs from one client address
 * every o->post_period_s seconds (bursts of twice that), 0 for no limit. o->checkpoint_path:
 * the file that keeps the newest checkpoint POSTed (and checked with
 * ldg_checkpoint_check()), read at start when it exists. 0, or
 * -EADDRINUSE and friends with the reason in err. Caller stops it with
 * srv_stop(). */
int srv_start(struct ldg_store *s, struct srv_writer *writer,
	      const struct sockaddr_storage *addr, socklen_t addrlen,
	      const struct srv_opts *o, struct srv **out, struct ldg_err *err);

/* The port it listens on (the kernel's choice for port 0). */
uint16_t srv_port(const struct srv *sv);

/* Ends every event stream, waits for the requests in progress and the
 * poller, and frees sv. The store is not closed. NULL is a no-op. */
void srv_stop(struct srv *sv);

#endif
