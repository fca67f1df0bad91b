/*
 * writer.h - the server's one writer: a child process (this binary run
 * again, see below) that owns the only read-write handle on the ledger and appends the entries clients signed
 * (ldg_append_signed_batch()), one request at a time.
 *
 * Why a process: LMDB allows one environment handle per process, the
 * server's readers need a read-only one (a map that never has to follow
 * a writer growing the file), and growing the map needs no other
 * transaction open in the process. The child has none.
 *
 * Requests go over a socketpair: a 4-byte count, then per entry a 4-byte
 * length and its bytes out, a fixed reply back. srv_writer_append() is
 * thread-safe (a mutex keeps one exchange at a time). The child exits
 * when the socket closes.
 *
 * The child is this binary run again (fork, then exec of /proc/self/exe
 * as `ledger-http --ledger DIR serve --writer-fd 3`, which calls
 * srv_writer_child()): a replacement is forked by a server that has
 * threads by then, and only exec gives it a clean process. A writer
 * that dies (kill -9, a crash) is replaced at the next append, at once
 * the first time and after 100, 200, 400 ms when it keeps dying; the
 * SRV_WRITER_DEATHS_MAX-th death within SRV_WRITER_WINDOW_S gives up:
 * srv_writer_failed() turns true, the server (serve.c) then sends its
 * own process SIGTERM once that POST is answered, and `ledger serve`
 * exits non-zero (for systemd's Restart=on-failure). An acknowledged append is committed (LMDB,
 * synchronous): a death loses none.
 */
#ifndef SRV_WRITER_H
#define SRV_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"

struct srv_writer;

#define SRV_WRITER_FD 3		/* the child's end of the socket */
#define SRV_WRITER_DEATHS_MAX 5 /* deaths within the window: give up */
#define SRV_WRITER_WINDOW_S 60
#define SRV_WRITER_BACKOFF_MS 100 /* the pause before the 2nd respawn */

/* Starts the writer for the ledger in dir (absolute, or relative to a
 * working directory that does not change). */
int srv_writer_start(const char *dir, struct srv_writer **out,
		     struct ldg_err *err);

/* The writer process itself: serves requests on fd until it closes,
 * then exits. Never returns. */
void srv_writer_child(int fd, const char *dir) __attribute__((noreturn));

/* True once the writer died SRV_WRITER_DEATHS_MAX times within
 * SRV_WRITER_WINDOW_S and is no longer replaced. */
bool srv_writer_failed(struct srv_writer *w);

/* The most entries one request appends (POST /api/v1/entries, batch). */
#define SRV_WRITER_BATCH_MAX 64

/* Appends n signed entries, each built on the one before, in one
 * transaction (ldg_append_signed_batch()). 0 with the first new seq and
 * the last one's hash, or the error with its reason in err: -ECONNRESET
 * when the writer died during the append (it may have committed: look),
 * -EPIPE when it is gone for good. */
int srv_writer_append(struct srv_writer *w, const uint8_t *const *bufs,
		      const size_t *lens, size_t n, uint64_t *seq,
		      uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err);

/* Closes the socket and waits for the child. NULL is a no-op. */
void srv_writer_stop(struct srv_writer *w);

#endif
