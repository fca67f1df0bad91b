/*
 * http_exec.c - in the `ledger` binary, everything that speaks HTTP is
 * handed to `ledger-http`, the same commands linked with libcurl and
 * libmicrohttpd (cli/meson.build builds both from these sources).
 *
 * Why: those libraries pull some thirty shared objects (TLS, Kerberos,
 * LDAP, ...) into every process that links them, and loading them cost
 * `ledger set` about 5 ms of its 2 ms (docs/performance.md, section
 * 3.1). Git does the same with git-remote-https. So `ledger serve`,
 * `ledger mirror`, `ledger notify` and any command with --remote (or $LEDGER_REMOTE)
 * re-run as ledger-http with the same arguments; the other commands
 * never load the libraries.
 *
 * ledger-http is found as the library finds its helper programs
 * (ldg_helper_path(), util.h): $LEDGER_HTTP when that is set; else
 * beside this binary (the build tree, or a prefix where both are in
 * bin/), then in LEDGER_LIBEXECDIR (where `ninja install` puts it).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "remote.h"
#include "util.h"

static char **saved_argv;

void cli_http_argv(char **argv)
{
	saved_argv = argv;
}

int cli_exec_http(struct cli_ctx *c)
{
	char path[PATH_MAX + 16];

	if (ldg_helper_path("ledger-http", "LEDGER_HTTP", path, sizeof(path))) {
		cli_error("%s: needs ledger-http (HTTP: serve, mirror, notify, witness, --remote), "
			  "not found %s; build or install it with ledger",
			  c->cmd,
			  getenv("LEDGER_HTTP") && *getenv("LEDGER_HTTP")
				  ? "at $LEDGER_HTTP"
				  : "beside this binary nor in " LEDGER_LIBEXECDIR);
		return CLI_BAD;
	}
	if (!saved_argv) {
		cli_error("%s: cannot hand over to ledger-http", c->cmd);
		return CLI_BAD;
	}
	fflush(NULL);
	execv(path, saved_argv);
	cli_error("%s: cannot run %s: %s", c->cmd, path, strerror(errno));
	return CLI_BAD;
}

/* The HTTP entry points of the commands, here: hand the whole command
 * over (main() does so before any command runs; these keep every path
 * to HTTP going to the one place). */

int cmd_serve(int argc, char **argv, struct cli_ctx *c)
{
	return cli_exec_http(c);
}

int cmd_mirror(int argc, char **argv, struct cli_ctx *c)
{
	return cli_exec_http(c);
}

int cmd_notify(int argc, char **argv, struct cli_ctx *c)
{
	return cli_exec_http(c);
}

int cmd_witness(int argc, char **argv, struct cli_ctx *c)
{
	return cli_exec_http(c);
}

int cli_remote_write(struct cli_ctx *c, const struct cli_write_opts *w,
		     const char *target, cli_draft_fn draft, cli_plan_fn plan,
		     void *arg, struct ldg_result *res)
{
	return cli_exec_http(c);
}

int cli_remote_copied(struct cli_ctx *c, const struct cli_write_opts *w,
		      cli_plan_fn plan, cli_done_fn done, void *arg,
		      struct ldg_result *res)
{
	return cli_exec_http(c);
}

void cli_remote_pending(struct cli_ctx *c, const struct ldg_result *res)
{
	cli_exec_http(c);
}

int cli_remote_rollback(struct cli_ctx *c, const struct cli_write_opts *w,
			const char *what, uint64_t to, struct ldg_result *res)
{
	return cli_exec_http(c);
}

int cli_remote_read(struct cli_ctx *c, cli_render_fn fn, void *arg)
{
	return cli_exec_http(c);
}

int cli_witnesses(struct cli_ctx *c, const char *const *urls, size_t n,
		  size_t min, uint64_t hint, ldg_node_fn node, void *arg,
		  char **note, char **said)
{
	return cli_exec_http(c);
}

int cli_remote_checkpoint_witnessed(struct cli_ctx *c,
				    const struct ldg_signer *k,
				    const char *const *urls, size_t n,
				    size_t min, uint64_t hint, char **note,
				    char **said, uint64_t *size)
{
	return cli_exec_http(c);
}

int cli_need_http(struct cli_ctx *c)
{
	return cli_exec_http(c);
}

static int exec_failed(struct cli_ctx *c, struct ldg_err *err)
{
	cli_exec_http(c);
	return ldg_err_set(err, -ENOEXEC, "cannot run ledger-http");
}

int cli_remote_checkpoint(struct cli_ctx *c, const struct ldg_signer *k,
			  char **note, uint64_t *size, struct ldg_err *err)
{
	*note = NULL;
	*size = 0;
	return exec_failed(c, err);
}
