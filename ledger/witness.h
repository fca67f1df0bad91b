/*
 * witness.h - a C2SP tlog-witness (`ledger witness`): the logs it
 * trusts, the add-checkpoint request body, and the witness's own LMDB
 * that keeps the latest checkpoint it cosigned per origin.
 *
 * Owns
 *   - the logs file: one line `log ORIGIN VKEY` per trusted log key
 *     (VKEY a note verifier key, keys.h; several lines may name one
 *     origin), blank lines and `#` comments;
 *   - the add-checkpoint body, both ways: `old N\n`, at most
 *     LDG_WITNESS_PROOF_MAX base64 hash lines, an empty line, a signed
 *     checkpoint (checkpoint.h);
 *   - the decision of add-checkpoint (C2SP tlog-witness): which checks,
 *     in which order, and what is stored. The stored size is checked
 *     and the new checkpoint stored in ONE write transaction, so of two
 *     requests for one origin at once only one can move it; a refusal
 *     writes nothing.
 * The HTTP side (status codes, bodies) is serve/witness_http.c's.
 *
 * Threads: a struct ldg_witness may be used by many threads at once
 * (each call is one LMDB transaction of its own); logs and requests
 * are plain data.
 */
#ifndef LDG_WITNESS_H
#define LDG_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "err.h"
#include "keys.h"
#include "tlog.h"

/* C2SP tlog-witness: "The client MUST NOT send more than 63
 * consistency proof lines." */
#define LDG_WITNESS_PROOF_MAX 63
/* The largest request body: "old " and 20 digits, 63 lines of 45
 * bytes, the empty line and a checkpoint with its signatures. */
#define LDG_WITNESS_BODY_MAX                                                   \
	(32 + LDG_WITNESS_PROOF_MAX * 45 + 1 + LDG_CHECKPOINT_MAX)
/* The most `log` lines a logs file may have. */
#define LDG_WITNESS_LOGS_MAX 1024

struct ldg_witness_log {
	char origin[LDG_ORIGIN_MAX + 1];
	struct ldg_vkey key;
};

struct ldg_witness_logs {
	struct ldg_witness_log *v; /* malloc'd; ldg_witness_logs_free() */
	size_t n;
};

/* Parses a logs file's text (NUL-terminated). -EINVAL naming the line
 * (and what is wrong with it) for anything but `log ORIGIN VKEY`, a
 * blank line or a comment; for a line naming an origin and key twice;
 * for none at all. out is set only on success. */
int ldg_witness_logs_parse(const char *text, struct ldg_witness_logs *out,
			   struct ldg_err *err);
/* Reads and parses the logs file at path (messages start with it). */
int ldg_witness_logs_load(const char *path, struct ldg_witness_logs *out,
			  struct ldg_err *err);
void ldg_witness_logs_free(struct ldg_witness_logs *l);

/* A parsed add-checkpoint body. note borrows the body it was parsed
 * from (the checkpoint with its signature lines, as sent). */
struct ldg_witness_req {
	uint64_t old;
	uint8_t proof[LDG_WITNESS_PROOF_MAX][LDG_HASH_BYTES];
	size_t n_proof;
	struct ldg_checkpoint cp;
	const char *note;
	size_t note_len;
};

/* Parses body (len bytes, not NUL-terminated) exactly as C2SP
 * tlog-witness writes it: every line ends in "\n"; `old N` with N
 * decimal without leading zeros; each proof line the base64 of 32
 * bytes; no more than LDG_WITNESS_PROOF_MAX of them; the empty line;
 * a checkpoint ldg_checkpoint_parse() takes. -EINVAL saying what is
 * wrong otherwise. It does not check old <= the checkpoint's size:
 * ldg_witness_add() answers that. */
int ldg_witness_req_parse(const char *body, size_t len,
			  struct ldg_witness_req *out, struct ldg_err *err);

/* The body of a request (what ldg_witness_req_parse() reads): old, the
 * n proof hashes and note, a signed checkpoint ending in "\n". *out
 * malloc'd, NUL-terminated, *len bytes. -EINVAL n above
 * LDG_WITNESS_PROOF_MAX; -ENOMEM. */
int ldg_witness_req_format(uint64_t old, const uint8_t proof[][LDG_HASH_BYTES],
			   size_t n, const char *note, char **out, size_t *len);

/* What ldg_witness_add() answers, beside its return code. */
enum ldg_witness_verdict {
	LDG_WIT_COSIGNED,      /* 200: line holds the cosignature */
	LDG_WIT_UNKNOWN_LOG,   /* 404: no log of that origin */
	LDG_WIT_UNTRUSTED,     /* 403: no signature by a key of the log
				* verifies (or one by such a key fails) */
	LDG_WIT_OLD_TOO_BIG,   /* 400: old > the checkpoint's size */
	LDG_WIT_SIZE_MISMATCH, /* 409 text/x.tlog.size: old is not the
				* stored size (stored_size) */
	LDG_WIT_ROOT_MISMATCH, /* 409: the stored size, another root */
	LDG_WIT_BAD_PROOF,     /* 422: the proof does not lead from the
				* stored checkpoint to this one */
};

struct ldg_witness_answer {
	enum ldg_witness_verdict verdict;
	uint64_t stored_size; /* the stored size (0: none stored) */
	uint8_t stored_root[LDG_HASH_BYTES];
	char line[LDG_COSIG_LINE_MAX]; /* LDG_WIT_COSIGNED */
};

struct ldg_witness;

/* Opens (creating it, mode 0700) the witness's LMDB environment in
 * dir. Caller closes with ldg_witness_close(). */
int ldg_witness_open(const char *dir, struct ldg_witness **out,
		     struct ldg_err *err);
void ldg_witness_close(struct ldg_witness *w);

/* add-checkpoint: checks rq against logs and the stored checkpoint of
 * its origin, in C2SP tlog-witness's order (origin, signature, old
 * size, stored size, equal size with the same root, the consistency
 * proof); on success cosigns it with key (a cosigner key, LDG_ALG_COSIG)
 * at time t (POSIX seconds) and stores it (its text, its signature
 * lines by keys of the log, not the others a sender may add, and the
 * cosignature line) before returning. The check and the store
 * are one write transaction. Returns 0 with ans->verdict saying which
 * answer (anything but LDG_WIT_COSIGNED stored nothing), or -EIO (and
 * friends) when the store or the signer fails. */
int ldg_witness_add(struct ldg_witness *w, const struct ldg_witness_logs *logs,
		    const struct ldg_signer *key,
		    const struct ldg_witness_req *rq, uint64_t t,
		    struct ldg_witness_answer *ans, struct ldg_err *err);

/* The latest checkpoint cosigned for origin, as stored: the log's note
 * (its signatures by keys of the log only) with the witness's
 * cosignature line. *note malloc'd, NUL-terminated,
 * *len bytes. -ENOENT none. */
int ldg_witness_latest(struct ldg_witness *w, const char *origin, char **note,
		       size_t *len, struct ldg_err *err);

#endif
