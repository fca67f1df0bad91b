/*
 * cmd_approve.c - the proposals of gated changes: `ledger approve SEQ`,
 * `ledger withdraw SEQ` and `ledger pending [SCOPE]`. Who may approve or
 * withdraw, and when a proposal takes effect, is the library's to decide
 * (gov.h); the list is render/'s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "remote.h"
#include "render.h"

static const char approve_help[] =
	"usage: ledger approve SEQ -m REASON\n\n"
	"Approve the proposal at SEQ (a set or unset recorded as pending by a\n"
	"policy with --approvals; see ledger pending). Approvers are keys other\n"
	"than the author's, deployers or admins whose scope covers the target,\n"
	"one approval each. The approval that completes the count makes the\n"
	"change take effect, at its own seq, if no freeze window is active and\n"
	"the soak (if any) is met.\n"
	"Prints \"SEQ HASH\" and then either \"approved: 1 of 2 (has: alice)\"\n"
	"or \"effective: seq S changes TARGET\".\n\n"
	"  -m, --message REASON  why (required)\n"
	"  --key FILE            signing key\n\n"
	"Exit: 0 approved; 1 not allowed (your own proposal, approved already,\n"
	"not pending, frozen, not soaked, not authorised); 2 bad input or\n"
	"environment.\n";

static const char withdraw_help[] =
	"usage: ledger withdraw SEQ -m REASON\n\n"
	"Withdraw the pending proposal at SEQ: it will never take effect. Its\n"
	"author may withdraw it, and so may an admin whose scope covers the\n"
	"target. Prints \"SEQ HASH\".\n\n"
	"  -m, --message REASON  why (required)\n"
	"  --key FILE            signing key\n\n"
	"Exit: 0 withdrawn; 1 not allowed (not pending, not the author);\n"
	"2 bad input or environment.\n";

static const char pending_help[] =
	"usage: ledger pending [SCOPE] [--json]\n\n"
	"List the proposals waiting for approvals, oldest first: SEQ, UPDATED,\n"
	"TARGET, KIND (an emergency marked), CHANGES, AUTHOR, APPROVALS (have\n"
	"of need, and whose) and WAITS FOR (the approvals missing, and a\n"
	"freeze window open now). SCOPE is a cluster, a target or a glob such\n"
	"as 'production/*'.\n\n"
	"  --json     an array of {\"seq\", \"target\", \"author\", \"need\",\n"
	"             \"approvals\": [{\"key\", \"seq\"}], \"emergency\", "
	"\"status\",\n"
	"             \"kind\", \"changes\"}\n";

struct remote_vote {
	uint64_t proposal;
	bool approve;
	const struct cli_write_opts *w;
	char *line; /* approve's second line, read from the copy */
};

static int plan(struct ldg_read *r, const uint8_t signer[LDG_KEYID_BYTES],
		void *arg, struct ldg_entry **out, size_t *n,
		struct ldg_err *err)
{
	struct remote_vote *a = arg;
	int rc = ldg_draft_vote(r,
				a->approve ? LDG_KIND_APPROVE
					   : LDG_KIND_WITHDRAW,
				a->proposal, a->w->reason, &out[0], err);

	if (!rc && a->approve) {
		/* the approval that enacts it carries a soak's evidence */
		struct ldg_gov g;
		memcpy(out[0]->signer, signer, LDG_KEYID_BYTES);
		rc = ldg_gov_load(r, 0, &g, err);
		if (!rc)
			rc = ldg_draft_evidence(r, &g, out[0], err);
		ldg_gov_free(&g);
	}
	*n = !!out[0];
	return rc;
}

/* approve's second line, read after the write (malloc'd; NULL when it
 * cannot be read): the proposal took effect at the approval's seq, or
 * the approvals it has of how many (rnd_approvals()). */
static char *approved_line(struct ldg_store *s, uint64_t proposal)
{
	struct ldg_proposal p = { 0 };
	struct ldg_read *r;
	char *line = NULL, *has = NULL;

	if (ldg_read_begin(s, &r, NULL))
		return NULL;
	if (ldg_proposal_get(r, proposal, &p) == 0) {
		if (p.status == LDG_PROP_EFFECTIVE) {
			if (asprintf(&line, "effective: seq %llu changes %s\n",
				     (unsigned long long)p.at, p.target) < 0)
				line = NULL;
		} else if (rnd_approvals(r, &p, &has) == 0) {
			if (asprintf(&line, "approved: %s\n", has) < 0)
				line = NULL;
			free(has);
		}
		ldg_proposal_free(&p);
	}
	ldg_read_end(r);
	return line;
}

/* The copy holds the approval: its second line, for after SEQ HASH. */
static void remote_done(struct ldg_store *copy, void *arg)
{
	struct remote_vote *a = arg;

	if (a->approve)
		a->line = approved_line(copy, a->proposal);
}

static int vote(int argc, char **argv, struct cli_ctx *c, bool approve)
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
	struct remote_vote a = { .approve = approve, .w = &w };
	int opt, rc;

	c->help = approve ? approve_help : withdraw_help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one SEQ");
	if (w.n_meta)
		return cli_usage(c, "--meta is not recorded on %s entries",
				 approve ? "approve" : "withdraw");
	rc = cli_parse_seq(c, "SEQ", argv[optind], &a.proposal);
	if (rc)
		return rc;
	if (c->remote) {
		rc = cli_remote_copied(c, &w, plan, remote_done, &a, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			goto out_free;
		if (approve ? ldg_approve(s, k, a.proposal, w.reason, &res,
					  &err)
			    : ldg_withdraw(s, k, a.proposal, w.reason, &res,
					   &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	cli_print_result(&res);
	if (approve && s)
		a.line = approved_line(s, a.proposal);
	if (a.line)
		fputs(a.line, stdout);
	rc = CLI_OK;
out_free:
	free(a.line);
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}

int cmd_approve(int argc, char **argv, struct cli_ctx *c)
{
	return vote(argc, argv, c, true);
}

int cmd_withdraw(int argc, char **argv, struct cli_ctx *c)
{
	return vote(argc, argv, c, false);
}

struct pending_arg {
	const char *scope; /* NULL: all */
	bool json;
};

static int render_pending(struct ldg_read *r, void *arg, char **out,
			  size_t *len, struct ldg_err *err)
{
	const struct pending_arg *a = arg;

	return rnd_pending(r, a->scope, (int64_t)(ldg_now_ns() / 1000000000u),
			   a->json, out, len, err);
}

int cmd_pending(int argc, char **argv, struct cli_ctx *c)
{
	struct ldg_err err = { 0 };
	char scope[LDG_TARGET_MAX + 3];
	struct pending_arg a = { NULL, false };
	struct ldg_store *s;
	struct ldg_read *r;
	char *out;
	size_t len;
	int rc = cli_json_only(c, argc, argv, pending_help, &a.json);

	if (rc >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage(c, "expected at most one SCOPE");
	if (argc - optind == 1) {
		const char *arg = argv[optind];
		/* a cluster is every target of it */
		if (!strchr(arg, '/') && !ldg_check_cluster(arg, NULL))
			snprintf(scope, sizeof(scope), "%s/*", arg);
		else if (ldg_check_scope(arg, &err))
			return cli_fail(c, &err);
		else
			snprintf(scope, sizeof(scope), "%s", arg);
	}
	if (argc - optind == 1)
		a.scope = scope;
	if (c->remote)
		return cli_remote_read(c, render_pending, &a);
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	if (render_pending(r, &a, &out, &len, &err))
		rc = cli_fail(c, &err);
	else
		rc = cli_emit(out, len);
	cli_close_read(s, r);
	return rc;
}
