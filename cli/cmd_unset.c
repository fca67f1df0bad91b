#include <stdio.h>

#include "cli.h"
#include "remote.h"

static const char help[] =
	"usage: ledger unset TARGET KEY... -m REASON [--meta K=V]... [--force]\n"
	"                    [--emergency]\n\n"
	"Remove keys from a target. Keys that are not set are skipped; if\n"
	"none is set, nothing is written (exit 0). Prints \"SEQ HASH\", and\n"
	"a second line when a policy makes it a proposal (as ledger set).\n\n"
	"  -m, --message REASON  why (required)\n"
	"  --meta K=V            metadata\n"
	"  --force               pass a lock (recorded as forced=true)\n"
	"  --emergency           pass a freeze (recorded as emergency=true;\n"
	"                        needs an approval by another key)\n"
	"  --key FILE            signing key\n";

struct remote_unset {
	const char *target;
	const char *const *keys;
	size_t n;
	const struct cli_write_opts *w;
};

static int draft(const struct ldg_values *now, void *arg,
		 struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_unset *a = arg;

	return ldg_draft_unset(now, a->target, a->keys, a->n, a->w->reason,
			       a->w->meta, a->w->n_meta, a->w->flags, out, err);
}

int cmd_unset(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ "force", no_argument, NULL, 'f' },
		{ "emergency", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	const char *target;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
		if (opt == 'f')
			w.flags |= LDG_WRITE_FORCE;
		else if (opt == 'e')
			w.flags |= LDG_WRITE_EMERGENCY;
	}
	if (rc >= 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage(c, "expected TARGET KEY...");
	target = argv[optind++];
	if (c->remote) {
		struct remote_unset a = { target,
					  (const char *const *)&argv[optind],
					  (size_t)(argc - optind), &w };
		rc = cli_remote_write(c, &w, target, draft, NULL, &a, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			return rc;
		if (ldg_unset(s, k, target, (const char *const *)&argv[optind],
			      (size_t)(argc - optind), w.reason, w.meta,
			      w.n_meta, w.flags, &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	if (res.n == 0)
		fprintf(stderr, "%s has none of these keys; nothing written\n",
			target);
	cli_print_result(&res);
	if (s)
		cli_print_pending(s, &res);
	else
		cli_remote_pending(c, &res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}
