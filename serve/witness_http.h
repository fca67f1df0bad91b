/*
 * witness_http.h - `ledger witness`'s HTTP side: a C2SP tlog-witness on
 * libmicrohttpd. The decision and the store are the library's
 * (ledger/witness.h); this answers them as HTTP:
 *
 *   POST /add-checkpoint      C2SP tlog-witness: 200 with the
 *                             cosignature line; 400 a malformed body or
 *                             old > size; 403 no trusted signature; 404
 *                             an unknown origin; 409 text/x.tlog.size
 *                             with the stored size; 409 the stored size
 *                             with another root; 413 a body above
 *                             LDG_WITNESS_BODY_MAX; 422 a bad proof
 *   GET /checkpoint?origin=O  Ledger's own read extension (not C2SP's):
 *                             the latest checkpoint cosigned for O, with
 *                             the witness's cosignature line, so that a
 *                             refused client can name the witness's
 *                             root; 404 none
 *
 * Every answer is text/plain (the 409 of a size text/x.tlog.size), and
 * every request is logged as one line on stderr.
 *
 * Threads: libmicrohttpd runs one thread per connection; the store,
 * the logs and the key are shared read-only (the store serialises its
 * writes itself). Caveats: srv_witness_start() borrows what o points at
 * until srv_witness_stop() returns; signals are the caller's, as in
 * serve.h.
 */
#ifndef SRV_WITNESS_HTTP_H
#define SRV_WITNESS_HTTP_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "witness.h"

#define SRV_WITNESS_CONN_MAX 64
#define SRV_WITNESS_TIMEOUT_S 30

struct srv_witness;

struct srv_witness_opts {
	struct ldg_witness *db;
	const struct ldg_witness_logs *logs;
	const struct ldg_signer *key; /* a cosigner key (LDG_ALG_COSIG) */
};

/* The HTTP status of a verdict of ldg_witness_add(). */
unsigned srv_witness_status(enum ldg_witness_verdict v);

int srv_witness_start(const struct sockaddr_storage *addr, socklen_t addrlen,
		      const struct srv_witness_opts *o,
		      struct srv_witness **out, struct ldg_err *err);
/* The port it listens on (the kernel's choice for port 0). */
uint16_t srv_witness_port(const struct srv_witness *sw);
/* Waits for the requests in progress and frees sw; NULL is a no-op. */
void srv_witness_stop(struct srv_witness *sw);

#endif
