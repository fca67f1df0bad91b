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
#include "remote.h"

#ifndef LEDGER_VERSION
#define LEDGER_VERSION "dev"
#endif

static const struct cli_cmd commands[] = {
	{ "init", cmd_init, "create a ledger and record the first admin key" },
	{ "keygen", cmd_keygen, "create a key pair (NAME.key, NAME.pub)" },
	{ "key", cmd_key, "add, revoke or list keys (key add|revoke|list)" },
	{ "set", cmd_set, "set values of a target" },
	{ "unset", cmd_unset, "remove keys of a target" },
	{ "rollback", cmd_rollback, "restore a target or cluster to a seq" },
	{ "lock", cmd_lock, "refuse set/unset on a target until unlocked" },
	{ "unlock", cmd_unlock, "lift a lock" },
	{ "get", cmd_get, "print a target's values" },
	{ "state", cmd_state, "print the state of targets" },
	{ "status", cmd_status, "what runs where: who set it, lock, last apply" },
	{ "log", cmd_log, "list entries, newest first" },
	{ "history", cmd_history, "a target's revisions, like helm history" },
	{ "show", cmd_show, "print one entry" },
	{ "diff", cmd_diff, "compare the state at two seqs" },
	{ "verify", cmd_verify, "check signatures, chain, keys and indexes" },
	{ "checkpoint", cmd_checkpoint, "write a signed tree head" },
	{ "reindex", cmd_reindex, "rebuild the indexes from the entries" },
	{ "mount", cmd_mount, "show the ledger as read-only files (FUSE)" },
	{ "apply", cmd_apply, "make a cluster match the ledger (helmfile)" },
	{ "chatops", cmd_chatops, "record a /deploy pull-request comment" },
	{ "serve", cmd_serve, "serve the JSON API, live events, remote appends" },
	{ "mirror", cmd_mirror, "copy a served ledger here, checking every entry" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The commands that can append through `ledger serve` (cli/remote.h). */
static bool takes_remote(const char *name)
{
	return !strcmp(name, "set") || !strcmp(name, "unset") ||
	       !strcmp(name, "lock") || !strcmp(name, "unlock") ||
	       !strcmp(name, "rollback") || !strcmp(name, "checkpoint");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ledger [--ledger DIR | --remote URL] COMMAND "
		   "[ARGS]\n\n"
		   "GitOps without Git: a signed, append-only ledger of Helm "
		   "release values.\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nRun 'ledger COMMAND --help' for a command's options; "
		   "see ledger(1).\n"
		   "The ledger lives in --ledger DIR, $LEDGER_DIR, or "
		   "$XDG_DATA_HOME/ledger.\n"
		   "With --remote URL ($LEDGER_REMOTE), set, unset, lock, "
		   "unlock, rollback and\ncheckpoint sign here and append "
		   "through `ledger serve` at URL; the key never\nleaves "
		   "this machine.\n"
		   "Exit codes: 0 ok, 1 the answer is no, 2 usage or "
		   "environment error.\n");
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
			printf("ledger %s\n", LEDGER_VERSION);
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
					"--help)", argv[i]);
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
		if (!takes_remote(c.cmd)) {
			if (c.remote_given) {
				cli_error("%s: --remote works with set, unset, "
					  "lock, unlock, rollback and checkpoint "
					  "only", c.cmd);
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
		if (c.remote || !strcmp(c.cmd, "serve") ||
		    !strcmp(c.cmd, "mirror"))
			return cli_exec_http(&c);
#endif
		optind = 1;
		return flush_stdout(&c,
				    commands[k].run(argc - i, argv + i, &c));
	}
	cli_error("unknown command \"%s\" (see ledger --help)",
		argv[i]);
	return CLI_BAD;
}
