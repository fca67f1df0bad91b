#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "util.h"

static const char help[] =
	"usage: ledger init --origin NAME [--key FILE]\n\n"
	"Create a ledger and record its first entry: the origin (the ledger's\n"
	"name, part of every signature, e.g. example.com/deploy/prod) and the\n"
	"signing key as admin with scope '*'.\n\n"
	"  --origin NAME   the ledger's name (required)\n"
	"  --key FILE      signing key (default: $LEDGER_KEY, or the only key\n"
	"                  in $XDG_CONFIG_HOME/ledger/keys)\n"
	"  --ledger DIR    where to create it (default: $LEDGER_DIR, or\n"
	"                  $XDG_DATA_HOME/ledger)\n";

int cmd_init(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "origin", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	const char *origin = NULL, *keyfile = NULL;
	char dir[PATH_MAX];
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'o') {
			origin = optarg;
		} else if (opt == 'k') {
			keyfile = optarg;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (!origin)
		return cli_usage(c, "missing --origin NAME");
	rc = cli_ledger_dir(c, dir);
	if (rc)
		return rc;
	rc = cli_signer(c, keyfile, &k);
	if (rc)
		return rc;
	if (ldg_init(dir, origin, k, &res, &err)) {
		rc = cli_fail(c, &err);
		goto out_free;
	}
	fprintf(stderr, "initialised ledger \"%s\" in %s (admin: %s)\n", origin,
		dir, ldg_signer_vkey(k)->name);
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	return rc;
}
