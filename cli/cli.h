/*
 * cli.h - what every cmd_<name>.c shares: the command table entry, the
 * context, option plumbing, key selection and the one place where errors
 * become exit codes and one-line messages.
 *
 * Exit codes (SPEC.md section 5): 0 success; 1 the answer is "no"
 * (verification failed, not authorised, target locked); 2 usage error,
 * bad input or environment problem. Errors go to stderr as
 * "ledger: CMD: what: why".
 *
 * Single-threaded, like the command: the option helpers read getopt's
 * globals, and everything prints to stdout or stderr. What the open
 * helpers return belongs to the caller (ldg_store_close(),
 * cli_close_read(), ldg_signer_free()).
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "ledger.h"

#define CLI_OK 0
#define CLI_NO 1
#define CLI_BAD 2

struct cli_ctx {
	const char *cmd;    /* "set", "key add", ... for messages */
	const char *ledger; /* --ledger DIR, or NULL */
	const char *help;   /* this command's --help text */
	const char *remote; /* --remote URL or $LEDGER_REMOTE, or NULL */
	bool remote_given;  /* --remote on the command line */
	bool no_advice;	    /* cli_fail() states the facts only (mirror:
			       the write commands' advice does not fit a
			       copy of someone else's ledger) */
};

/* What a command is (struct cli_cmd's flags). */
#define CLI_REMOTE                                                             \
	0x1	     /* takes --remote URL: signs here and appends
			  through `ledger serve` (remote.h) */
#define CLI_HTTP 0x2 /* speaks HTTP itself: runs as ledger-http */
#define CLI_FOLLOWS_REMOTE                                                     \
	0x4 /* takes --remote URL to read what `ledger serve` serves
	       there (notify) */

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv, struct cli_ctx *c);
	const char *summary;
	unsigned flags;
};

/* Options every command takes; put first in each long option table. */
#define CLI_COMMON_OPTS                                                        \
	{ "ledger", required_argument, NULL, 'L' },                            \
	{                                                                      \
		"help", no_argument, NULL, 'h'                                 \
	}

struct cli_write_opts;

/* The next of a command's own options (getopt_long underneath), or 0 when
 * there are none left or the command must end: then *rc is -1 to go on,
 * else the exit code to return (--help printed, or a usage error).
 * Handles --ledger, --help and getopt's errors and, given w, the options
 * of the commands that append (-m, --meta, --key). */
int cli_getopt(struct cli_ctx *c, int argc, char **argv, const char *shorts,
	       const struct option *opts, struct cli_write_opts *w, int *rc);

/* The options of a command that takes only --json (and the common ones):
 * -1 to go on, else the exit code to return. Sets c->help to help. */
int cli_json_only(struct cli_ctx *c, int argc, char **argv, const char *help,
		  bool *json);

/* Handles 'L', 'h' and getopt errors for a command; returns -1 when opt
 * was handled and parsing goes on, else the exit code to return. */
int cli_common_opt(struct cli_ctx *c, int opt, char **argv);

/* Prints "ledger: " and the formatted text as one line on stderr, with
 * control characters escaped (\xHH): user input never splits the line
 * or reaches the terminal raw. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ledger: CMD: msg" with the CLI's advice for the rule that
 * refused (err->why: "; unlock it or use --force" for a lock, how to add
 * an unknown key, how to point at a ledger), and returns the exit code
 * for err->code. */
int cli_fail(struct cli_ctx *c, const struct ldg_err *err);
/* Prints a usage error ("... (see ledger CMD --help)") and returns 2. */
int cli_usage(struct cli_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cli_exit_code(int code);

/* Opens the ledger for writing (cli_open) or only reading (cli_open_ro:
 * needs no write access to the data file); prints on failure and returns
 * the exit code, else 0. */
int cli_open(struct cli_ctx *c, struct ldg_store **s);
int cli_open_ro(struct cli_ctx *c, struct ldg_store **s);
/* Read-only, whatever version built the indexes: for verify, which
 * reports stale or damaged indexes instead of refusing to look. */
int cli_open_audit(struct cli_ctx *c, struct ldg_store **s);
/* Resolves the ledger directory into out (PATH_MAX). */
int cli_ledger_dir(struct cli_ctx *c, char *out);

/* Opens the ledger and a read transaction; prints on failure. */
int cli_open_read(struct cli_ctx *c, struct ldg_store **s, struct ldg_read **r);
void cli_close_read(struct ldg_store *s, struct ldg_read *r);
/* Checks that at (0 = head) is within the log; prints on failure. */
int cli_check_at(struct cli_ctx *c, struct ldg_read *r, uint64_t at);
/* Checks "CLUSTER" or "CLUSTER/RELEASE"; prints on failure. */
int cli_check_scope_arg(struct cli_ctx *c, const char *scope);
/* The optional last argument CLUSTER[/RELEASE] of read commands: *scope
 * is it or NULL. Prints on failure and returns the exit code, else 0. */
int cli_scope_arg(struct cli_ctx *c, int argc, char **argv, const char **scope);
/* Writes a malloc'd rendering to stdout and frees it. */
int cli_emit(char *buf, size_t len);

/* Key selection: --key FILE, else $LEDGER_KEY, else the only *.key in
 * $XDG_CONFIG_HOME/ledger/keys. Prints on failure. */
int cli_signer(struct cli_ctx *c, const char *keyfile, struct ldg_signer **k);
/* $XDG_CONFIG_HOME/ledger/keys (or ~/.config/ledger/keys) into out. */
int cli_keys_dir(char *out, size_t len);

/* Splits "KEY=VALUE" into kv (pointers into arg, which is modified). */
int cli_split_kv(char *arg, struct ldg_kv *kv);
/* A change as set takes it (docs/ledger.1): "KEY=VALUE" a string, and
 * "KEY:=JSON" a typed value (a JSON string is a string), split at the
 * first '='. kv's key and value are malloc'd (cli_changes_free()).
 * -EINVAL with "KEY: why" or the form expected; -ENOMEM. */
int cli_parse_change(const char *arg, struct ldg_kv *kv, struct ldg_err *err);
void cli_changes_free(struct ldg_kv *kv, size_t n);
/* For each string value that is exactly true, false, null or a JSON
 * number, one line on stderr: hint: stored as the string "false"; use
 * KEY:=false for a boolean. A command's last output: it flushes stdout
 * first and prints nothing when stdout could not be written (the
 * command then fails with one line). */
void cli_print_hints(const struct ldg_kv *kv, size_t n);
int cli_parse_seq(struct cli_ctx *c, const char *what, const char *arg,
		  uint64_t *out);

/* Writes all of buf to stdout; returns an exit code. */
int cli_write_out(const char *buf, size_t len);
/* Prints "SEQ HASH" per appended entry; a failed write leaves its errno
 * in cli_stdout_errno, for main() to report once the command returns. */
void cli_print_result(const struct ldg_result *res);
extern int cli_stdout_errno;
/* After cli_print_result() of a set or unset: for each entry that is a
 * pending proposal, "pending: needs K approvals (policy SCOPE at seq
 * N)", read from s. */
void cli_print_pending(struct ldg_store *s, const struct ldg_result *res);
/* That line for a proposal on target under g's policy. */
void cli_print_proposal(const struct ldg_gov *g, const char *target,
			unsigned need, bool emergency);

/* Options of the commands that append entries. */
struct cli_write_opts {
	const char *reason;
	const char *keyfile;
	struct ldg_kv meta[LDG_META_MAX];
	size_t n_meta;
	unsigned flags; /* set/unset: LDG_WRITE_FORCE, LDG_WRITE_EMERGENCY */
	bool no_lock;
};

#define CLI_WRITE_OPTS                                                         \
	{ "message", required_argument, NULL, 'm' },                           \
		{ "meta", required_argument, NULL, 'M' },                      \
	{                                                                      \
		"key", required_argument, NULL, 'k'                            \
	}

/* Handles 'm', 'M', 'k' and the common options; returns -1 to go on,
 * else the exit code. */
int cli_write_opt(struct cli_ctx *c, int opt, char **argv,
		  struct cli_write_opts *w);
/* Opens the ledger and loads the signing key; prints on failure. */
int cli_open_signed(struct cli_ctx *c, const struct cli_write_opts *w,
		    struct ldg_store **s, struct ldg_signer **k);

/* Prints c->help to stdout, returns 0. */
int cli_print_help(struct cli_ctx *c);

int cmd_init(int argc, char **argv, struct cli_ctx *c);
int cmd_keygen(int argc, char **argv, struct cli_ctx *c);
int cmd_key(int argc, char **argv, struct cli_ctx *c);
int cmd_set(int argc, char **argv, struct cli_ctx *c);
int cmd_unset(int argc, char **argv, struct cli_ctx *c);
int cmd_rollback(int argc, char **argv, struct cli_ctx *c);
int cmd_lock(int argc, char **argv, struct cli_ctx *c);
int cmd_unlock(int argc, char **argv, struct cli_ctx *c);
int cmd_policy(int argc, char **argv, struct cli_ctx *c);
int cmd_approve(int argc, char **argv, struct cli_ctx *c);
int cmd_withdraw(int argc, char **argv, struct cli_ctx *c);
int cmd_pending(int argc, char **argv, struct cli_ctx *c);
int cmd_freeze(int argc, char **argv, struct cli_ctx *c);
int cmd_unfreeze(int argc, char **argv, struct cli_ctx *c);
int cmd_get(int argc, char **argv, struct cli_ctx *c);
int cmd_tiles(int argc, char **argv, struct cli_ctx *c);
int cmd_state(int argc, char **argv, struct cli_ctx *c);
int cmd_status(int argc, char **argv, struct cli_ctx *c);
int cmd_log(int argc, char **argv, struct cli_ctx *c);
int cmd_history(int argc, char **argv, struct cli_ctx *c);
int cmd_show(int argc, char **argv, struct cli_ctx *c);
int cmd_diff(int argc, char **argv, struct cli_ctx *c);
int cmd_verify(int argc, char **argv, struct cli_ctx *c);
int cmd_checkpoint(int argc, char **argv, struct cli_ctx *c);
int cmd_reindex(int argc, char **argv, struct cli_ctx *c);
int cmd_mount(int argc, char **argv, struct cli_ctx *c);
int cmd_apply(int argc, char **argv, struct cli_ctx *c);
int cmd_chatops(int argc, char **argv, struct cli_ctx *c);
int cmd_serve(int argc, char **argv, struct cli_ctx *c);
int cmd_mirror(int argc, char **argv, struct cli_ctx *c);
int cmd_notify(int argc, char **argv, struct cli_ctx *c);
int cmd_witness(int argc, char **argv, struct cli_ctx *c);

#endif
