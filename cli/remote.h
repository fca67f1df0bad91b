/*
 * remote.h - `ledger --remote URL` for the commands that append: the
 * entry is built and signed here, with the client's own key, and only its
 * bytes travel (POST /api/v1/entries, docs/api.md). The key never leaves
 * this process.
 *
 * Flow, up to CLI_REMOTE_TRIES times: GET /api/v1/head (origin, seq,
 * hash); GET /api/v1/state?at=SEQ&scope=TARGET (the target's values and
 * lock at exactly that head); draft (nothing to do: stop, exit 0); seal
 * for that head; POST. 409 means another writer got there first: wait
 * (exponential backoff with full jitter, up to 1 s) and rebuild on the
 * new head.
 *
 * HTTP is libcurl's. Single-threaded, like the command.
 */
#ifndef CLI_REMOTE_H
#define CLI_REMOTE_H

#include <jansson.h>
#include <signal.h>

#include "cli.h"

#define CLI_REMOTE_TRIES 30

/* Plans the entry on the target's state now; *out NULL: nothing to do. */
typedef int (*cli_draft_fn)(const struct ldg_values *now, void *arg,
			    struct ldg_entry **out, struct ldg_err *err);

/* Appends the drafted entry for target on c->remote; res gets it (n = 0
 * when there was nothing to do). Prints on failure; returns the exit
 * code: 1 not authorised or locked, 2 bad input, environment or an
 * unreachable server. */
int cli_remote_write(struct cli_ctx *c, const struct cli_write_opts *w,
		     const char *target, cli_draft_fn draft, void *arg,
		     struct ldg_result *res);

/* The most entries one target's plan may make (a rollback and its
 * lock). */
#define CLI_PLAN_MAX 2

/* Plans target i's entries on its state now, for the head (seq head,
 * entry hash hash) they will be sealed on: up to CLI_PLAN_MAX into out,
 * *n of them; none when there is nothing to do. now is the server's
 * word (GET /api/v1/state); a plan that must not take it builds from a
 * checked copy (struct cli_copy) at that head instead. */
typedef int (*cli_plan_fn)(size_t i, uint64_t head,
			   const uint8_t hash[LDG_HASH_BYTES],
			   const struct ldg_values *now, void *arg,
			   struct ldg_entry **out, size_t *n,
			   struct ldg_err *err);

/* cli_remote_write() for several targets and entries at once: each target
 * planned on its state at one head, the entries sealed one on another
 * and sent as one batch, which the server appends in one transaction
 * (all or nothing); 409 rebuilds them all. At most 64 entries and 1 MiB
 * (the server's limits): more is exit 2, nothing sent. */
int cli_remote_write_many(struct cli_ctx *c, const struct cli_write_opts *w,
			  const char *const *targets, size_t nt,
			  cli_plan_fn plan, void *arg, struct ldg_result *res);

/* A checked copy of what a server serves, for drafts that must not take
 * the server's word for a past state (rollback: the state at SEQ). It is
 * a private ledger in $TMPDIR, removed by cli_copy_close(), filled with
 * the served entries' exact bytes (GET /api/v1/entries?after=SEQ,
 * Accept: application/msgpack) through ldg_append_copied(): strict
 * decoding, seq and prev, signatures by keys the copy's own entries
 * added, roles, scopes, locks and the rule of a rollback. A server can
 * still withhold its newest entries or serve a whole other ledger from
 * entry 1 (a checkpoint pins that); it cannot make the copy hold a value
 * no key of that ledger signed. */
struct cli_copy;

int cli_copy_open(struct cli_ctx *c, struct cli_copy **out,
		  struct ldg_err *err);
/* Brings the copy to exactly entry head, whose hash must be hash; head
 * 0: the server's head now (GET /api/v1/head). -EPERM when the served
 * entries are refused (ldg_append_copied(): "from URL: entry N: ...") or
 * do not reach, match or extend that head; -EIO unreachable. */
int cli_copy_sync(struct cli_copy *cp, uint64_t head,
		  const uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err);
/* The copy's store, for reads; borrowed, lives with cp. */
struct ldg_store *cli_copy_store(struct cli_copy *cp);
void cli_copy_close(struct cli_copy *cp);

/* Whether an error of ldg_append_copied() means "the served entries are
 * not valid here" (the answer is no), not an environment problem. */
bool cli_refused(int rc);

/* The most entries one page of GET /api/v1/entries?after= carries. */
#define CLI_PAGE_MAX 500

/* One page of at most limit entries after seq after from url, as exact
 * bytes: the entries point into *body (the caller frees it). -EPROTO an
 * answer that is not a batch. */
int cli_fetch_page(const char *url, uint64_t after, size_t limit,
		   char **body, const uint8_t **bufs, size_t *lens, size_t *n,
		   struct ldg_err *err);

/* `ledger --remote URL checkpoint`: signs with k the tree head the
 * server's full check proves (GET /api/v1/verify: origin, head, root;
 * a ledger that does not verify is refused, -EPERM) and publishes it
 * there (POST /api/v1/checkpoint), where it is checked against the
 * ledger and kept. *note (caller frees) and *size: what was signed.
 * -EACCES k is not a trusted key there, -ESTALE a newer checkpoint is
 * published or the root differs, -EIO unreachable. */
int cli_remote_checkpoint(struct cli_ctx *c, const struct ldg_signer *k,
			  char **note, uint64_t *size, struct ldg_err *err);

/* GET base+path with Accept: accept; the status, and the body in
 * *body (malloc'd, NUL-terminated, *len bytes without the NUL; NULL when
 * empty). -EIO with the reason when the server cannot be reached,
 * -EPROTO when a 200 answer is not of type accept or is over 16 MiB. */
int cli_http_get(const char *base, const char *path, const char *accept,
		 long *status, char **body, size_t *len, struct ldg_err *err);
/* The same for a JSON answer: *out NULL when it is not JSON. */
int cli_http_get_json(const char *base, const char *path, long *status,
		      json_t **out, struct ldg_err *err);

/* Waits on GET /api/v1/events?after=after for one new entry: 0 when one
 * is announced, 1 when *stop was set, -EIO when the stream cannot be had
 * or ends. */
int cli_http_wait_event(const char *base, uint64_t after,
			volatile sig_atomic_t *stop, struct ldg_err *err);

/* In `ledger` (cli/http_exec.c): remember main()'s argv, and re-run the
 * command as ledger-http with it (returns only on failure, having said
 * why: exit code 2). */
void cli_http_argv(char **argv);
int cli_exec_http(struct cli_ctx *c);

#endif
