#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ops.h"
#include "remote.h"

static const char help[] =
	"usage: ledger rollback TARGET|CLUSTER --to SEQ -m REASON [--no-lock]\n\n"
	"Restore every key of a target (or of each target of a cluster that\n"
	"differs) to its value in the state at SEQ; keys that did not exist\n"
	"then are unset. One transaction appends a rollback entry per target\n"
	"(metadata rollback-to=SEQ) and, unless --no-lock, locks it so that\n"
	"an automated pipeline cannot undo the rollback until `ledger unlock`.\n"
	"Prints \"SEQ HASH\" per entry; nothing to restore writes nothing.\n\n"
	"  --to SEQ              the seq whose state to restore (required)\n"
	"  -m, --message REASON  why (required)\n"
	"  --no-lock             do not lock the target(s)\n"
	"  --meta K=V            metadata\n"
	"  --key FILE            signing key\n\n"
	"With --remote URL the same entries are built here, signed with your\n"
	"key, and appended by the server in one transaction too (a batch).\n";

/* Whether the entry seq of s is a pending proposal (a gated rollback);
 * false over --remote (s NULL), where the pending line says it. */
static bool proposed(struct ldg_store *s, uint64_t seq)
{
	struct ldg_proposal p;
	struct ldg_read *r;
	bool yes = false;

	if (!s || ldg_read_begin(s, &r, NULL))
		return false;
	if (ldg_proposal_get(r, seq, &p) == 0) {
		yes = p.status == LDG_PROP_PENDING;
		ldg_proposal_free(&p);
	}
	ldg_read_end(r);
	return yes;
}

int cmd_rollback(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ "to", required_argument, NULL, 't' },
		{ "no-lock", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	const char *to_arg = NULL;
	uint64_t to;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
		if (opt == 't') {
			to_arg = optarg;
		} else if (opt == 'n') {
			w.no_lock = true;
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one TARGET or CLUSTER");
	if (!to_arg)
		return cli_usage(c, "missing --to SEQ");
	rc = cli_parse_seq(c, "--to", to_arg, &to);
	if (rc)
		return rc;
	if (c->remote) {
		rc = cli_remote_rollback(c, &w, argv[optind], to, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			return rc;
		if (ldg_rollback(s, k, argv[optind], to, w.reason, w.meta,
				 w.n_meta, w.no_lock, &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	if (res.n == 0)
		fprintf(stderr,
			"%s is already as it was at seq %llu; nothing "
			"written\n",
			argv[optind], (unsigned long long)to);
	for (size_t i = 0; i < res.n; i++)
		fprintf(stderr, "%s %s\n",
			res.v[i].kind == LDG_KIND_LOCK ? "locked"
			: proposed(s, res.v[i].seq) ? "proposed the rollback of"
						    : "rolled back",
			res.v[i].target);
	cli_print_result(&res);
	/* under rollbacks=gated a rollback is a proposal (format.md 8b) */
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
