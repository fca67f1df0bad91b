/*
 * cmd_policy.c - `ledger policy set|clear|show`: the promotion policy of
 * a scope (approvals, soak, gated rollbacks) and, for show, the freeze
 * windows beside it. The rules are the library's (gov.h); the shapes
 * render/'s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "remote.h"
#include "render.h"
#include "window.h"

static const char help[] =
	"usage: ledger policy set SCOPE [--approvals K] [--soak DURATION "
	"--from CLUSTER]\n"
	"                         [--gate-rollbacks] -m REASON\n"
	"       ledger policy clear SCOPE -m REASON\n"
	"       ledger policy show [TARGET] [--json]\n\n"
	"A policy governs set and unset on every target its SCOPE (a glob such\n"
	"as 'production/*') matches; the most specific scope wins. An admin\n"
	"whose scope holds '*' or exactly SCOPE writes it.\n\n"
	"  --approvals K      a change is a proposal until K other keys\n"
	"                     approve it (ledger approve), K from 1 to 16\n"
	"  --soak DURATION    a change of X/R takes effect only once CLUSTER/R\n"
	"  --from CLUSTER     has run the same values for DURATION (30m, 2h, 1d)\n"
	"  --gate-rollbacks   with --approvals: rollbacks need them too (by\n"
	"                     default a rollback is never gated)\n"
	"  -m, --message REASON  why (required for set and clear)\n"
	"  --key FILE         signing key\n"
	"  --json             (show) machine-readable output\n\n"
	"policy set replaces the scope's policy; policy clear removes it.\n"
	"Both print \"SEQ HASH\". policy show TARGET says which policy applies\n"
	"to TARGET and why, and which freeze windows cover it; without TARGET\n"
	"it lists every policy and window.\n\n"
	"Exit: 0 written or shown; 1 not authorised; 2 bad input or "
	"environment.\n";

struct remote_policy {
	const char *scope;
	const struct ldg_policy *p; /* NULL: clear */
	const char *reason;
};

static int draft(const struct ldg_values *now, void *arg,
		 struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_policy *a = arg;

	return ldg_entry_policy(a->scope, a->p, a->reason, out, err);
}

struct show_arg {
	const char *target; /* NULL: every policy and window */
	bool json;
};

/* Windows are judged at this machine's clock, a remote ledger's too. */
static int render_show(struct ldg_read *r, void *arg, char **out, size_t *len,
		       struct ldg_err *err)
{
	const struct show_arg *a = arg;

	return rnd_policy_show(r, a->target,
			       (int64_t)(ldg_now_ns() / 1000000000u), a->json,
			       out, len, err);
}

static int policy_show(struct cli_ctx *c, const char *target, bool json)
{
	struct show_arg a = { target, json };
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	char *out;
	size_t len;
	int rc;

	if (target && ldg_check_target(target, &err))
		return cli_fail(c, &err);
	if (c->remote)
		return cli_remote_read(c, render_show, &a);
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	if (render_show(r, &a, &out, &len, &err))
		rc = cli_fail(c, &err);
	else
		rc = cli_emit(out, len);
	cli_close_read(s, r);
	return rc;
}

/* K of --approvals: 1..LDG_APPROVALS_MAX. */
static int parse_approvals(struct cli_ctx *c, const char *arg, unsigned *out)
{
	uint64_t v;

	if (ldg_parse_dec(arg, 1, LDG_APPROVALS_MAX, &v))
		return cli_usage(c,
				 "--approvals must be 1 to %d, not \"%.40s\"",
				 LDG_APPROVALS_MAX, arg);
	*out = (unsigned)v;
	return 0;
}

int cmd_policy(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ "approvals", required_argument, NULL, 'a' },
		{ "soak", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "gate-rollbacks", no_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *approvals = NULL, *soak = NULL, *from = NULL, *sub;
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_policy p = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	bool gate = false, json = false, clear;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
		switch (opt) {
		case 'a':
			approvals = optarg;
			break;
		case 's':
			soak = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'g':
			gate = true;
			break;
		case 'j':
			json = true;
			break;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage(c, "expected set, clear or show");
	sub = argv[optind++];
	if (!strcmp(sub, "show")) {
		c->cmd = "policy show";
		if (approvals || soak || from || gate || w.reason ||
		    w.keyfile || w.n_meta)
			return cli_usage(c,
					 "show takes only TARGET and --json");
		if (argc - optind > 1)
			return cli_usage(c, "expected at most one TARGET");
		return policy_show(c, optind < argc ? argv[optind] : NULL,
				   json);
	}
	if (strcmp(sub, "set") && strcmp(sub, "clear"))
		return cli_usage(c,
				 "unknown subcommand \"%.40s\" (set, clear, "
				 "show)",
				 sub);
	clear = !strcmp(sub, "clear");
	c->cmd = clear ? "policy clear" : "policy set";
	if (json)
		return cli_usage(c, "--json is for policy show");
	if (argc - optind != 1)
		return cli_usage(c, "expected one SCOPE");
	if (ldg_check_scope(argv[optind], &err))
		return cli_fail(c, &err);
	if (w.n_meta)
		return cli_usage(c, "--meta is not recorded on policy entries");
	if (clear && (approvals || soak || from || gate))
		return cli_usage(c, "clear takes only SCOPE and -m REASON");
	if (!soak != !from)
		return cli_usage(c, "--soak DURATION and --from CLUSTER go "
				    "together");
	if (!clear && !approvals && !soak && !gate)
		return cli_usage(c, "expected --approvals, --soak or "
				    "--gate-rollbacks (policy clear removes "
				    "a policy)");
	if (approvals) {
		rc = parse_approvals(c, approvals, &p.approvals);
		if (rc)
			return rc;
	}
	if (soak && ldg_duration_parse(soak, &p.soak, &err))
		return cli_usage(c, "--soak: %s", err.msg);
	if (from) {
		if (ldg_check_cluster(from, &err))
			return cli_usage(c, "--from: %s", err.msg);
		snprintf(p.soak_from, sizeof(p.soak_from), "%s", from);
	}
	p.gate_rollbacks = gate;
	if (c->remote) {
		struct remote_policy a = { argv[optind], clear ? NULL : &p,
					   w.reason };
		rc = cli_remote_write(c, &w, NULL, draft, NULL, &a, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			goto out_free;
		if (ldg_policy_set(s, k, argv[optind], clear ? NULL : &p,
				   w.reason, &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	if (res.n == 0)
		fprintf(stderr, "%s already has this policy; nothing written\n",
			argv[optind]);
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}
