/*
 * main.c - the `ledger` command: global options, then one subcommand from
 * the table below (git style). Each cmd_<name>.c parses its own options,
 * calls the library and formats the answer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "remote.h"

#ifndef LEDGER_VERSION
#define LEDGER_VERSION "dev"
#endif

static const struct cli_cmd commands[] = {
	{ .name = "init",
	  .run = cmd_init,
	  .summary = "create a ledger and record the first admin key" },
	{ .name = "keygen",
	  .run = cmd_keygen,
	  .summary = "create a key pair (NAME.key, NAME.pub)" },
	{ .name = "key",
	  .run = cmd_key,
	  .summary = "add, revoke or list keys (key add|revoke|list)" },
	{ .name = "set",
	  .run = cmd_set,
	  .summary = "set values of a target",
	  .flags = CLI_REMOTE },
	{ .name = "unset",
	  .run = cmd_unset,
	  .summary = "remove keys of a target",
	  .flags = CLI_REMOTE },
	{ .name = "rollback",
	  .run = cmd_rollback,
	  .summary = "restore a target or cluster to a seq",
	  .flags = CLI_REMOTE },
	{ .name = "lock",
	  .run = cmd_lock,
	  .summary = "refuse set/unset on a target until unlocked",
	  .flags = CLI_REMOTE },
	{ .name = "unlock",
	  .run = cmd_unlock,
	  .summary = "lift a lock",
	  .flags = CLI_REMOTE },
	{ .name = "policy",
	  .run = cmd_policy,
	  .summary = "approvals and soak for a scope (policy set|clear|show)",
	  .flags = CLI_REMOTE },
	{ .name = "approve",
	  .run = cmd_approve,
	  .summary = "approve a pending change",
	  .flags = CLI_REMOTE },
	{ .name = "withdraw",
	  .run = cmd_withdraw,
	  .summary = "withdraw a pending change",
	  .flags = CLI_REMOTE },
	{ .name = "pending",
	  .run = cmd_pending,
	  .summary = "list the changes waiting for approvals",
	  .flags = CLI_REMOTE },
	{ .name = "freeze",
	  .run = cmd_freeze,
	  .summary = "refuse set/unset on a scope during a window",
	  .flags = CLI_REMOTE },
	{ .name = "unfreeze",
	  .run = cmd_unfreeze,
	  .summary = "remove a freeze window",
	  .flags = CLI_REMOTE },
	{ .name = "get", .run = cmd_get, .summary = "print a target's values" },
	{ .name = "state",
	  .run = cmd_state,
	  .summary = "print the state of targets" },
	{ .name = "status",
	  .run = cmd_status,
	  .summary = "what runs where: who set it, lock, last apply" },
	{ .name = "log",
	  .run = cmd_log,
	  .summary = "list entries, newest first" },
	{ .name = "history",
	  .run = cmd_history,
	  .summary = "a target's revisions, like helm history" },
	{ .name = "show", .run = cmd_show, .summary = "print one entry" },
	{ .name = "diff",
	  .run = cmd_diff,
	  .summary = "compare the state at two seqs" },
	{ .name = "verify",
	  .run = cmd_verify,
	  .summary = "check signatures, chain, keys and indexes" },
	{ .name = "checkpoint",
	  .run = cmd_checkpoint,
	  .summary = "write a signed tree head",
	  .flags = CLI_REMOTE },
	{ .name = "tiles",
	  .run = cmd_tiles,
	  .summary = "write the ledger as C2SP tiles for a static host" },
	{ .name = "reindex",
	  .run = cmd_reindex,
	  .summary = "rebuild the indexes from the entries" },
	{ .name = "mount",
	  .run = cmd_mount,
	  .summary = "show the ledger as read-only files (FUSE)" },
	{ .name = "apply",
	  .run = cmd_apply,
	  .summary = "make a cluster match the ledger (helmfile)" },
	{ .name = "chatops",
	  .run = cmd_chatops,
	  .summary = "record a /deploy pull-request comment" },
	{ .name = "serve",
	  .run = cmd_serve,
	  .summary = "serve the JSON API, live events, remote appends",
	  .flags = CLI_HTTP },
	{ .name = "mirror",
	  .run = cmd_mirror,
	  .summary = "copy a served ledger here, checking every entry",
	  .flags = CLI_HTTP },
	{ .name = "notify",
	  .run = cmd_notify,
	  .summary = "POST each new entry to a webhook (Slack, Mattermost)",
	  .flags = CLI_HTTP | CLI_FOLLOWS_REMOTE },
	{ .name = "witness",
	  .run = cmd_witness,
	  .summary = "cosign the checkpoints of logs (C2SP tlog-witness)",
	  .flags = CLI_HTTP },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The names of the commands with a flag of mask, "a, b and c". */
static void names_with(unsigned mask, char *out, size_t len)
{
	size_t n = 0, k = 0, used = 0;

	for (size_t i = 0; i < N_COMMANDS; i++)
		n += !!(commands[i].flags & mask);
	out[0] = '\0';
	for (size_t i = 0; i < N_COMMANDS && used < len; i++) {
		if (!(commands[i].flags & mask))
			continue;
		k++;
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 k == 1	  ? ""
					 : k == n ? " and "
						  : ", ",
					 commands[i].name);
	}
}

static void usage(FILE *f)
{
	char remote[256];

	names_with(CLI_REMOTE, remote, sizeof(remote));
	fprintf(f, "usage: ledger [--ledger DIR | --remote URL] COMMAND "
		   "[ARGS]\n\n"
		   "GitOps without Git: a signed, append-only ledger of Helm "
		   "release values.\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\nRun 'ledger COMMAND --help' for a command's options; "
		"see ledger(1).\n"
		"The ledger lives in --ledger DIR, $LEDGER_DIR, or "
		"$XDG_DATA_HOME/ledger.\n"
		"With --remote URL ($LEDGER_REMOTE), these commands sign "
		"here and append\nthrough `ledger serve` at URL; the key "
		"never leaves this machine:\n  %s.\n"
		"Exit codes: 0 ok, 1 the answer is no, 2 usage or "
		"environment error.\n",
		remote);
}

/* What a command printed is what it acknowledges (`set` prints the SEQ
 * HASH it committed): stdout that could not be written is a failure, not
 * an exit 0 with nothing said. stdio writes a redirected stdout only at
 * exit, so the check is here, after the command. */
static int flush_stdout(struct cli_ctx *c, int rc)
{
	int e;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	e = errno ? errno : cli_stdout_errno ? cli_stdout_errno : EIO;
	if (rc == CLI_OK) {
		cli_error("%s: cannot write to standard output: %s", c->cmd,
			  strerror(e));
		rc = CLI_BAD;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_ctx c = { .cmd = "ledger" };
	char *help[3] = { NULL, "--help", NULL };
	int i = 1;

	opterr = 0;
	/* freeze windows are judged in their time zones: window.c sets TZ
	 * for that under its lock while other threads (`ledger serve`'s)
	 * may read the environment. With TZ set first, that setenv()
	 * replaces a value in place and never moves the environment under
	 * a reader; ":/etc/localtime" is what an unset TZ means. */
	if (setenv("TZ", ":/etc/localtime", 0)) {
		cli_error("cannot set TZ: %s", strerror(errno));
		return CLI_BAD;
	}
#ifndef LEDGER_HTTP
	cli_http_argv(argv);
#endif
	if (ldg_crypto_init()) {
		cli_error("cannot initialise libsodium");
		return CLI_BAD;
	}
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return CLI_OK;
		} else if (!strcmp(argv[i], "--version")) {
			/* a build for the test suite says so (util.h) */
			printf("ledger %s%s\n", LEDGER_VERSION,
			       ldg_test_clock() ? " (test clock: "
						  "LEDGER_TEST_NOW honoured)"
						: "");
			return CLI_OK;
		} else if (!strcmp(argv[i], "--ledger") && i + 1 < argc) {
			c.ledger = argv[++i];
		} else if (!strncmp(argv[i], "--ledger=", 9)) {
			c.ledger = argv[i] + 9;
		} else if (!strcmp(argv[i], "--remote") && i + 1 < argc) {
			c.remote = argv[++i];
			c.remote_given = true;
		} else if (!strncmp(argv[i], "--remote=", 9)) {
			c.remote = argv[i] + 9;
			c.remote_given = true;
		} else if (!strcmp(argv[i], "--remote")) {
			cli_error("--remote needs a URL (see ledger --help)");
			return CLI_BAD;
		} else if (!strcmp(argv[i], "--ledger")) {
			cli_error("--ledger needs a directory (see ledger "
				  "--help)");
			return CLI_BAD;
		} else {
			cli_error("unknown option %s (see ledger "
				  "--help)",
				  argv[i]);
			return CLI_BAD;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return CLI_BAD;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return CLI_OK;
		}
		help[0] = argv[i + 1];
		argv = help;
		argc = 2;
		i = 0;
	}
	for (size_t k = 0; k < N_COMMANDS; k++) {
		const char *env = getenv("LEDGER_REMOTE");
		if (strcmp(argv[i], commands[k].name))
			continue;
		c.cmd = commands[k].name;
		if (!(commands[k].flags & (CLI_REMOTE | CLI_FOLLOWS_REMOTE))) {
			if (c.remote_given) {
				char remote[256], follows[64];
				names_with(CLI_REMOTE, remote, sizeof(remote));
				names_with(CLI_FOLLOWS_REMOTE, follows,
					   sizeof(follows));
				cli_error("%s: --remote works with %s only (and "
					  "%s, to follow a served ledger)",
					  c.cmd, remote, follows);
				return CLI_BAD;
			}
			c.remote = NULL;
		} else if (!c.remote && env && *env) {
			c.remote = env;
		}
		if (c.remote && !*c.remote) {
			cli_error("--remote needs a URL (see ledger --help)");
			return CLI_BAD;
		}
#ifndef LEDGER_HTTP
		/* HTTP lives in ledger-http (cli/http_exec.c) */
		if (c.remote || (commands[k].flags & CLI_HTTP))
			return cli_exec_http(&c);
#endif
		optind = 1;
		return flush_stdout(&c,
				    commands[k].run(argc - i, argv + i, &c));
	}
	cli_error("unknown command \"%s\" (see ledger --help)", argv[i]);
	return CLI_BAD;
}
