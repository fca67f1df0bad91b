/*
 * cmd_freeze.c - `ledger freeze` and `ledger unfreeze`: freeze windows
 * on a scope, absolute (--from/--until, UTC) or recurring (--cron,
 * --duration, --tz). Inside an active window set and unset are refused
 * (ldg_may_append(), gov.h); the times, cron and zones are window.h's
 * to parse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "remote.h"
#include "window.h"

static const char freeze_help[] =
	"usage: ledger freeze SCOPE --from UTC --until UTC -m REASON\n"
	"       ledger freeze SCOPE --cron 'EXPR' --duration DURATION --tz ZONE "
	"-m REASON\n\n"
	"Freeze every target SCOPE matches (a glob such as 'production/*'):\n"
	"while the window is active, set and unset are refused with the\n"
	"window's reason (exit 1). `set --emergency` passes a freeze with an\n"
	"approval by another key; rollbacks and locks are never frozen.\n"
	"Prints \"SEQ HASH\"; the seq names the window (ledger unfreeze).\n\n"
	"  --from UTC, --until UTC  an absolute window, YYYY-MM-DDTHH:MM:SSZ\n"
	"  --cron 'EXPR'            a recurring window: starts at each minute\n"
	"                           the 5-field cron expression matches\n"
	"                           (minute hour day-of-month month "
	"day-of-week)\n"
	"  --duration DURATION      and lasts this long (30m, 2h, 3d)\n"
	"  --tz ZONE                the cron's time zone (Europe/Berlin, UTC)\n"
	"  -m, --message REASON     why; shown when the window refuses a "
	"change\n"
	"  --key FILE               signing key\n\n"
	"Exit: 0 written; 1 not authorised; 2 bad input or environment.\n";

static const char unfreeze_help[] =
	"usage: ledger unfreeze SCOPE [--window SEQ] -m REASON\n\n"
	"Remove the freeze windows whose scope is exactly SCOPE, or only the\n"
	"one written at SEQ. Prints \"SEQ HASH\" per window removed.\n\n"
	"  --window SEQ          the freeze entry's seq (ledger policy show)\n"
	"  -m, --message REASON  why (required)\n"
	"  --key FILE            signing key\n\n"
	"Exit: 0 written; 1 not authorised; 2 bad input (no such window) or\n"
	"environment.\n";

struct remote_freeze {
	const char *scope;
	const struct ldg_window *win; /* NULL: unfreeze */
	uint64_t window;	      /* unfreeze: 0 every window of scope */
	const char *reason;
};

/* A freeze, or the unfreeze of one window: on no target's state. */
static int draft(const struct ldg_values *now, void *arg,
		 struct ldg_entry **out, struct ldg_err *err)
{
	struct remote_freeze *a = arg;

	return a->win ? ldg_entry_freeze(a->win, a->reason, out, err)
		      : ldg_entry_unfreeze(a->scope, a->window, a->reason, out,
					   err);
}

/* The unfreeze of every window of the scope, planned on a checked copy
 * (which windows are in force is the governance state's). */
static int plan(struct ldg_read *r, const uint8_t signer[LDG_KEYID_BYTES],
		void *arg, struct ldg_entry **out, size_t *n,
		struct ldg_err *err)
{
	struct remote_freeze *a = arg;
	struct ldg_entry **drafts;
	int rc;

	rc = ldg_draft_unfreeze(r, a->scope, 0, a->reason, &drafts, n, err);
	if (rc)
		return rc;
	if (*n > CLI_REMOTE_PLAN_MAX) {
		for (size_t i = 0; i < *n; i++)
			ldg_entry_free(drafts[i]);
		free(drafts);
		*n = 0;
		return ldg_err_set(err, -E2BIG,
				   "%s has more than %d freeze windows: a "
				   "remote unfreeze takes them in one batch; "
				   "use --window SEQ",
				   a->scope, CLI_REMOTE_PLAN_MAX);
	}
	memcpy(out, drafts, *n * sizeof(*drafts));
	free(drafts);
	return 0;
}

/* The window of the options: absolute or recurring, never a mix. */
static int parse_window(struct cli_ctx *c, const char *const *o,
			struct ldg_window *win)
{
	enum {
		FROM,
		UNTIL,
		CRON,
		DURATION,
		TZ
	};
	struct ldg_err err = { 0 };
	struct ldg_cron cron;

	if (o[FROM] || o[UNTIL]) {
		if (o[CRON] || o[DURATION] || o[TZ])
			return cli_usage(c, "--from/--until or "
					    "--cron/--duration/--tz, not both");
		if (!o[FROM] || !o[UNTIL])
			return cli_usage(c, "an absolute window needs --from "
					    "and --until");
		if (ldg_utc_parse(o[FROM], &win->from, &err))
			return cli_usage(c, "--from: %s", err.msg);
		if (ldg_utc_parse(o[UNTIL], &win->until, &err))
			return cli_usage(c, "--until: %s", err.msg);
		if (win->from >= win->until)
			return cli_usage(c, "--until must be after --from");
		return 0;
	}
	if (!o[CRON] || !o[DURATION] || !o[TZ])
		return cli_usage(c,
				 "expected --from UTC --until UTC, or --cron "
				 "EXPR --duration DURATION --tz ZONE");
	if (ldg_cron_parse(o[CRON], &cron, &err))
		return cli_usage(c, "--cron: %s", err.msg);
	if (ldg_duration_parse(o[DURATION], &win->duration, &err))
		return cli_usage(c, "--duration: %s", err.msg);
	if (ldg_tz_check(o[TZ], &err))
		return cli_usage(c, "--tz: %s", err.msg);
	snprintf(win->cron, sizeof(win->cron), "%s", o[CRON]);
	snprintf(win->tz, sizeof(win->tz), "%s", o[TZ]);
	return 0;
}

static int freeze_cmd(int argc, char **argv, struct cli_ctx *c, bool freeze)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		CLI_WRITE_OPTS,
		{ "from", required_argument, NULL, 0x100 },
		{ "until", required_argument, NULL, 0x101 },
		{ "cron", required_argument, NULL, 0x102 },
		{ "duration", required_argument, NULL, 0x103 },
		{ "tz", required_argument, NULL, 0x104 },
		{ "window", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *o[5] = { NULL }, *window_arg = NULL;
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_window win = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	uint64_t window = 0;
	bool any = false;
	int opt, rc;

	c->help = freeze ? freeze_help : unfreeze_help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, &w, &rc);
		if (opt == 0)
			break;
		if (opt >= 0x100 && opt <= 0x104) {
			o[opt - 0x100] = optarg;
			any = true;
		} else if (opt == 'W') {
			window_arg = optarg;
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one SCOPE");
	if (ldg_check_scope(argv[optind], &err))
		return cli_fail(c, &err);
	if (w.n_meta)
		return cli_usage(c, "--meta is not recorded on %s entries",
				 freeze ? "freeze" : "unfreeze");
	if (freeze && window_arg)
		return cli_usage(c, "--window is for unfreeze");
	if (!freeze && any)
		return cli_usage(c, "unfreeze takes only SCOPE, --window SEQ "
				    "and -m REASON");
	if (freeze) {
		snprintf(win.scope, sizeof(win.scope), "%s", argv[optind]);
		rc = parse_window(c, o, &win);
		if (rc)
			return rc;
	} else if (window_arg) {
		rc = cli_parse_seq(c, "--window", window_arg, &window);
		if (rc)
			return rc;
	}
	if (c->remote) {
		struct remote_freeze a = { argv[optind], freeze ? &win : NULL,
					   window, w.reason };
		rc = freeze || window
			     ? cli_remote_write(c, &w, NULL, draft, NULL, &a,
						&res)
			     : cli_remote_copied(c, &w, plan, NULL, &a, &res);
	} else {
		rc = cli_open_signed(c, &w, &s, &k);
		if (rc)
			goto out_free;
		if (freeze ? ldg_freeze(s, k, &win, w.reason, &res, &err)
			   : ldg_unfreeze(s, k, argv[optind], window, w.reason,
					  &res, &err))
			rc = cli_fail(c, &err);
	}
	if (rc)
		goto out_free;
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}

int cmd_freeze(int argc, char **argv, struct cli_ctx *c)
{
	return freeze_cmd(argc, argv, c, true);
}

int cmd_unfreeze(int argc, char **argv, struct cli_ctx *c)
{
	return freeze_cmd(argc, argv, c, false);
}
