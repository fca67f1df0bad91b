/*
 * writer.h - the server's one writer: a child process, forked before the
 * server opens its read-only store or starts a thread, that owns the only
 * read-write handle on the ledger and appends the entries clients signed
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
 */
#ifndef SRV_WRITER_H
#define SRV_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"

struct srv_writer;

/* Forks the writer for the ledger in dir; call before any thread starts
 * and before the read-only store is opened. */
int srv_writer_start(const char *dir, struct srv_writer **out,
		     struct ldg_err *err);

/* The most entries one request appends (POST /api/v1/entries, batch). */
#define SRV_WRITER_BATCH_MAX 64

/* Appends n signed entries, each built on the one before, in one
 * transaction (ldg_append_signed_batch()). 0 with the first new seq and
 * the last one's hash, or the error with its reason in err; -EPIPE when
 * the writer is gone. */
int srv_writer_append(struct srv_writer *w, const uint8_t *const *bufs,
		      const size_t *lens, size_t n, uint64_t *seq,
		      uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err);

/* Closes the socket and waits for the child. NULL is a no-op. */
void srv_writer_stop(struct srv_writer *w);

#endif
