/*
 * remote.h - `ledger --remote URL` for the commands that append (set,
 * unset, lock, unlock, rollback, checkpoint): the command glue. The
 * protocol is the client module's (client/client.h: the entry is built
 * and signed here, with the client's own key, and only its bytes
 * travel); here the arguments are checked, the signing key is loaded
 * and a failure is printed.
 *
 * In ledger-http these are cli/remote.c. In `ledger` they are
 * cli/http_exec.c's, which re-run the command as ledger-http (main()
 * does so before any command runs; those keep every path to HTTP going
 * to the one place).
 */
#ifndef CLI_REMOTE_H
#define CLI_REMOTE_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cli.h"
#include "tlog.h"

/* Plans the entry on the target's state now; *out NULL: nothing to do. */
typedef int (*cli_draft_fn)(const struct ldg_values *now, void *arg,
			    struct ldg_entry **out, struct ldg_err *err);

/* The most entries a plan on a copy may make: one batch (client.h's
 * CLT_BATCH_MAX; remote.c checks that they agree). */
#define CLI_REMOTE_PLAN_MAX 64

/* Plans entries on r, a read of a checked copy of the served ledger at
 * the head they will be sealed on, for the key with id signer
 * (clt_write_copied()): up to
 * CLI_REMOTE_PLAN_MAX into out, *n of them; none: nothing to do. */
typedef int (*cli_plan_fn)(struct ldg_read *r,
			   const uint8_t signer[LDG_KEYID_BYTES], void *arg,
			   struct ldg_entry **out, size_t *n,
			   struct ldg_err *err);
/* Reads the copy once it holds what was written (the second lines of
 * set and approve). */
typedef void (*cli_done_fn)(struct ldg_store *copy, void *arg);

/* Appends the drafted entry for target on c->remote (clt_write()); res
 * gets it (n = 0 when there was nothing to do). target NULL: an entry
 * on a scope (a policy, a freeze window), drafted on no target's state
 * (now is empty). When target and plan are not NULL
 * and target's policy at the server's head has a soak, the entry is
 * planned by plan on a checked copy instead (cli_remote_copied()), so
 * that it can carry the soak's evidence (ldg_draft_evidence()). Prints
 * on failure; returns the exit code: 1 not authorised, locked, frozen
 * or not soaked, 2 bad input, environment or an unreachable server. */
int cli_remote_write(struct cli_ctx *c, const struct cli_write_opts *w,
		     const char *target, cli_draft_fn draft, cli_plan_fn plan,
		     void *arg, struct ldg_result *res);

/* The writes of promotion policies on c->remote (policy, freeze,
 * unfreeze, approve, withdraw): entries on a scope or a proposal, and
 * what they need of the governance state, planned on a checked copy
 * (clt_write_copied()). Prints on failure; returns the exit code as
 * cli_remote_write(). */
int cli_remote_copied(struct cli_ctx *c, const struct cli_write_opts *w,
		      cli_plan_fn plan, cli_done_fn done, void *arg,
		      struct ldg_result *res);

/* After a remote set or unset: the pending line (cli_print_proposal())
 * of each entry of res that is a pending proposal in the governance
 * state at the server's head (clt_gov_get()); nothing when that cannot
 * be had: the entries are written either way. */
void cli_remote_pending(struct cli_ctx *c, const struct ldg_result *res);

/* `ledger --remote URL rollback`: what (a target or a cluster) to seq
 * to, as one batch built from a checked copy (clt_rollback()). Prints
 * on failure; returns the exit code: 1 also when the served entries are
 * refused. */
/* Renders the answer of a read from r (an rnd_* function) into *out. */
typedef int (*cli_render_fn)(struct ldg_read *r, void *arg, char **out,
			     size_t *len, struct ldg_err *err);

/* `ledger --remote URL pending` and `policy show`: fn on a checked copy
 * of the served ledger at its head (clt_read_copied()), so the answer
 * is the local command's, bytes and all; printed. Prints on failure;
 * returns the exit code: 1 also when the served entries are refused. */
int cli_remote_read(struct cli_ctx *c, cli_render_fn fn, void *arg);

int cli_remote_rollback(struct cli_ctx *c, const struct cli_write_opts *w,
			const char *what, uint64_t to, struct ldg_result *res);

/* `ledger --remote URL checkpoint` with k (clt_checkpoint()): *note
 * (caller frees) and *size, what was signed and published. Prints
 * nothing: the reason is in err. */
int cli_remote_checkpoint(struct cli_ctx *c, const struct ldg_signer *k,
			  char **note, uint64_t *size, struct ldg_err *err);

/* `ledger --remote URL checkpoint --witness W...` (hint as in
 * cli_witnesses()): signs with k the
 * tree head the server's full check proves (clt_checkpoint_sign()),
 * gathers the witnesses' cosignatures (cli_witnesses()) with the
 * consistency proofs made from a checked private copy of the served
 * ledger (clt_copy_open(): every entry fetched and checked, as mirror
 * does), whose root at that size must be the one signed, and publishes
 * the cosigned note there (clt_checkpoint_publish()). *note and *said
 * (cli_witnesses()'s; caller frees both) and *size: what was
 * published. Prints on failure; returns the exit code. */
int cli_remote_checkpoint_witnessed(struct cli_ctx *c,
				    const struct ldg_signer *k,
				    const char *const *urls, size_t n,
				    size_t min, uint64_t hint, char **note,
				    char **said, uint64_t *size);

/* `ledger checkpoint --witness URL...`: C2SP tlog-witness
 * add-checkpoint of *note (a signed checkpoint of this tree; node and
 * arg its hashes, tlog.h) at each of the n witnesses (clt_witness_add(),
 * first from the old size hint when it is not above the note's size,
 * else 0),
 * their cosignature lines appended to *note (realloc'd), and *said
 * (malloc'd, caller frees) the lines "cosigned by URL" for the caller
 * to print once the note is written (a refusal is one line). Fewer
 * than min cosigning, or a
 * fork: one line naming every witness's answer (a fork's both roots),
 * exit 1, *note as it was; a witness that cannot be reached counts as
 * not cosigning, nor does one whose cosignature key an earlier one
 * cosigned with (clt_witness_same_key()). Returns the exit code. */
int cli_witnesses(struct cli_ctx *c, const char *const *urls, size_t n,
		  size_t min, uint64_t hint, ldg_node_fn node, void *arg,
		  char **note, char **said);

/* In `ledger`: re-runs the command as ledger-http (cli_exec_http());
 * in ledger-http: 0. For a command that needs HTTP for some of its
 * options only. */
int cli_need_http(struct cli_ctx *c);

/* The servers of ledger-http (serve, witness; cli/cmd_serve.c): block
 * SIGTERM and SIGINT in every thread to come and ignore SIGPIPE; wait
 * for one of them; print "listening on http://ADDR:PORT" (host: the
 * address as text). */
void cli_stop_signals(sigset_t *set);
void cli_wait_stop(const sigset_t *set);
void cli_listening(const struct sockaddr_storage *addr, uint16_t port,
		   char host[INET6_ADDRSTRLEN]);

/* In `ledger` (cli/http_exec.c): remember main()'s argv, and re-run the
 * command as ledger-http with it (returns only on failure, having said
 * why: exit code 2). */
void cli_http_argv(char **argv);
int cli_exec_http(struct cli_ctx *c);

#endif
