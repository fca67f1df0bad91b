#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "remote.h"

static const char lock_help[] =
	"usage: ledger lock TARGET -m REASON\n\n"
	"Lock a target: set and unset refuse it (exit 1, naming this reason)\n"
	"until `ledger unlock`, or `set --force`, which is recorded as forced.\n"
	"Locking a locked target writes nothing.\n\n"
	"  -m, --message REASON  why (required)\n"
	"  --key FILE            signing key\n";

static const char unlock_help[] =
	"usage: ledger unlock TARGET -m REASON\n\n"
	"Lift a target's lock. Unlocking an unlocked target writes nothing.\n\n"
	"  -m, --message REASON  why (required)\n"
	"  --key FILE            signing key\n";

struct remote_lock {
	const char *target;
	const char *reason;
	bool lock;
};

static int draft(const struct ldg_values *now, void *arg,
		 struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_lock *a = arg;

	return ldg_draft_lock(now, a->target, a->reason, a->lock, out, err);
}

static int lock_cmd(int argc, char **argv, struct cli_ctx *c, bool lock)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	int opt, rc;

	c->help = lock ? lock_help : unlock_help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one TARGET");
	if (w.n_meta)
		return cli_usage(c, "--meta is not recorded on %s entries",
				 lock ? "lock" : "unlock");
	if (c->remote) {
		struct remote_lock a = { argv[optind], w.reason, lock };
		rc = cli_remote_write(c, &w, argv[optind], draft, NULL, &a,
				      &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			return rc;
		if (ldg_lock(s, k, argv[optind], w.reason, lock, &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	if (res.n == 0)
		fprintf(stderr, "%s is %s; nothing written\n", argv[optind],
			lock ? "already locked" : "not locked");
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}

int cmd_lock(int argc, char **argv, struct cli_ctx *c)
{
	return lock_cmd(argc, argv, c, true);
}

int cmd_unlock(int argc, char **argv, struct cli_ctx *c)
{
	return lock_cmd(argc, argv, c, false);
}
