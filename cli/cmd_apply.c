#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "apply.h"
#include "cli.h"
#include "helmfile.h"
#include "names.h"
#include "render.h"
#include "util.h"

static const char help[] =
	"usage: ledger apply CLUSTER [--config-dir DIR] [--helmfile FILE]\n"
	"                    [--dry-run] [--watch [--interval S]\n"
	"                    [--check-every N]] [--timeout S] [--force]\n"
	"                    [--key FILE]\n"
	"       ledger apply CLUSTER --check [--json] [--config-dir DIR]\n"
	"                    [--helmfile FILE] [--timeout S] [--key FILE]\n\n"
	"Make CLUSTER match the ledger with helmfile. Releases come from\n"
	"`helmfile -f FILE build`. Those labelled deployment: manual get the\n"
	"ledger's values (quoted YAML strings in a private temporary file):\n"
	"  helmfile -f FILE -l name=RELEASE apply --values VALUES.yaml\n"
	"and are re-applied only when the ledger changed since their last\n"
	"`applied` entry, or when that run failed. Those labelled\n"
	"deployment: auto are applied as their values files say, in one\n"
	"  helmfile -f FILE -l deployment=auto apply --detailed-exitcode\n"
	"Unlabelled releases are left alone. Each run is recorded as an\n"
	"`applied` or `apply-failed` entry signed with the applier's key\n"
	"(role applier); an auto run only when it changed something or\n"
	"failed.\n\n"
	"  --config-dir DIR  the helmfile is DIR/clusters/CLUSTER/helmfile.yaml\n"
	"                    (default: $LEDGER_CONFIG_DIR, else the current\n"
	"                    directory)\n"
	"  --helmfile FILE   use this helmfile instead\n"
	"  --dry-run         print the exact commands and values files;\n"
	"                    change nothing, record nothing\n"
	"  --watch           keep reconciling: when the ledger moves, every\n"
	"                    --interval seconds (default 60), and after a\n"
	"                    failure with backoff (5 s doubling to 5 min);\n"
	"                    stops on SIGTERM/SIGINT\n"
	"  --timeout S       stop a helmfile run after S seconds and record\n"
	"                    the failure (default 900; 0 = none)\n"
	"  --force           re-apply manual releases even when current\n"
	"                    (what repairs a drifted one)\n"
	"  --key FILE        the applier's signing key\n"
	"  --check           apply nothing: compare each manual release with\n"
	"                    ledger values, and the auto releases as one, with\n"
	"                    helmfile diff --detailed-exitcode; record a\n"
	"                    `drift` entry (drifted or in-sync) only when a\n"
	"                    status changes. A diff that fails (exit other\n"
	"                    than 0 or 2) is a failed check, never drift\n"
	"  --json            with --check: the report as JSON\n"
	"  --check-every N   with --watch: a check after every N-th reconcile\n\n"
	"The helmfile binary is $HELMFILE, else `helmfile` on PATH.\n"
	"Exit: 0 all runs succeeded; 1 a helmfile run failed, the key may not\n"
	"record, or another applier holds the cluster; 2 usage or\n"
	"environment (no helmfile, unreadable build output).\n"
	"With --check: 0 all in sync; 1 some drifted; 2 a check failed.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = 1;
}

static void say(void *arg, enum apl_level level, const char *text)
{
	/* arg set: stdout is the JSON report's, what happens goes to
	 * stderr */
	switch (level) {
	case APL_DRY:
		printf("%s\n", text);
		break;
	case APL_INFO:
		fprintf(arg ? stderr : stdout, "%s\n", text);
		break;
	case APL_NOTICE:
		fflush(stdout);
		fprintf(stderr, "notice: %s\n", text);
		break;
	case APL_WARN:
		fflush(stdout);
		fprintf(stderr, "warning: %s\n", text);
		break;
	}
	fflush(stdout);
}

static const char *const drift_words[] = {
	[APL_IN_SYNC] = LDG_IN_SYNC,
	[APL_DRIFTED] = LDG_DRIFTED,
	[APL_CHECK_FAILED] = "failed",
};

/* --check's report: a summary line, or {"cluster", "head", "checks":
 * [{"target", "status", "exit_code", "recorded", "since", "output"}]}
 * (docs/apply.md). The exit status: 2 when a check failed, 1 when some
 * target drifted, else 0. */
static int report_check(struct cli_ctx *c, const char *cluster,
			const struct apl_check_report *rep, bool json)
{
	unsigned n[3] = { 0 };
	json_t *arr = json ? json_array() : NULL;
	bool oom = json && !arr;
	char *out;
	size_t len;
	int rc;

	for (size_t i = 0; i < rep->n; i++) {
		const struct apl_check *k = &rep->v[i];
		n[k->status]++;
		if (arr &&
		    json_array_append_new(
			    arr,
			    json_pack("{s:s, s:s, s:i, s:o, s:o, s:s}",
				      "target", k->target, "status",
				      drift_words[k->status], "exit_code",
				      k->exit_code, "recorded",
				      k->recorded
					      ? json_integer(
							(json_int_t)k->recorded)
					      : json_null(),
				      "since",
				      k->since ? json_integer(
							 (json_int_t)k->since)
					       : json_null(),
				      "output", k->diff ? k->diff : "")))
			oom = true;
	}
	rc = n[APL_CHECK_FAILED] ? CLI_BAD : n[APL_DRIFTED] ? CLI_NO : CLI_OK;
	if (!json) {
		printf("%s: %u in sync, %u drifted, %u check%s failed, %u not "
		       "checked (no values)\n",
		       cluster, n[APL_IN_SYNC], n[APL_DRIFTED],
		       n[APL_CHECK_FAILED], n[APL_CHECK_FAILED] == 1 ? "" : "s",
		       rep->left);
		return rc;
	}
	/* rnd_json_out() takes the object, even when it fails */
	if (oom) {
		json_decref(arr);
		arr = NULL;
	}
	if (!arr ||
	    rnd_json_out(json_pack("{s:s, s:I, s:o}", "cluster", cluster,
				   "head", (json_int_t)rep->head, "checks",
				   arr),
			 &out, &len)) {
		cli_error("%s: out of memory", c->cmd);
		return CLI_BAD;
	}
	if (cli_write_out(out, len))
		rc = CLI_BAD;
	free(out);
	return rc;
}

/* --check-every N: a count of reconciles, 1 or more. */
static int parse_count(struct cli_ctx *c, const char *s, unsigned *out)
{
	uint64_t v;

	if (ldg_parse_dec(s, 1, 10000, &v))
		return cli_usage(c,
				 "--check-every takes a number of reconciles "
				 "from 1 to 10000, not \"%.40s\"",
				 s);
	*out = (unsigned)v;
	return 0;
}

static int parse_seconds(struct cli_ctx *c, const char *what, const char *s,
			 unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 86400 * 7 || s[0] == '-')
		return cli_usage(c,
				 "%s takes a number of seconds, not "
				 "\"%.40s\"",
				 what, s);
	*out = (unsigned)v;
	return 0;
}

int cmd_apply(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "config-dir", required_argument, NULL, 'C' },
		{ "helmfile", required_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "key", required_argument, NULL, 'k' },
		{ "check", no_argument, NULL, 'c' },
		{ "check-every", required_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct apl_opts o = { .say = say, .timeout_s = 900, .lock_fd = -1 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	const char *config = getenv("LEDGER_CONFIG_DIR");
	const char *hf = NULL, *keyfile = NULL;
	char hfpath[PATH_MAX], bin[PATH_MAX], dir[PATH_MAX];
	unsigned interval = 60, check_every = 0;
	bool watch = false, interval_set = false, check = false, json = false;
	struct stat st;
	int opt, rc, lockfd = -1;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		switch (opt) {
		case 'C':
			config = optarg;
			break;
		case 'F':
			hf = optarg;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'w':
			watch = true;
			break;
		case 'i':
			rc = parse_seconds(c, "--interval", optarg, &interval);
			if (rc)
				return rc;
			if (interval == 0)
				return cli_usage(c, "--interval must be > 0");
			interval_set = true;
			break;
		case 't':
			rc = parse_seconds(c, "--timeout", optarg,
					   &o.timeout_s);
			if (rc)
				return rc;
			break;
		case 'f':
			o.force = true;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'c':
			check = true;
			break;
		case 'j':
			json = true;
			break;
		case 'E':
			rc = parse_count(c, optarg, &check_every);
			if (rc)
				return rc;
			break;
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one CLUSTER");
	o.cluster = argv[optind];
	if (ldg_check_cluster(o.cluster, &err))
		return cli_fail(c, &err);
	if (interval_set && !watch)
		return cli_usage(c, "--interval goes with --watch");
	if (watch && o.dry_run)
		return cli_usage(c, "--dry-run and --watch do not mix");
	if (check_every && !watch)
		return cli_usage(c, "--check-every goes with --watch");
	if (json && !check)
		return cli_usage(c, "--json goes with --check");
	if (check && (watch || o.dry_run || o.force))
		return cli_usage(c,
				 "--check applies nothing: it does not mix "
				 "with %s",
				 watch ? "--watch (use --watch --check-every "
					 "N)"
				 : o.dry_run ? "--dry-run"
					     : "--force");
	if (hf)
		snprintf(hfpath, sizeof(hfpath), "%s", hf);
	else
		snprintf(hfpath, sizeof(hfpath), "%s/clusters/%s/helmfile.yaml",
			 config && *config ? config : ".", o.cluster);
	if (stat(hfpath, &st) || !S_ISREG(st.st_mode)) {
		ldg_err_set(&err, -ENOENT,
			    "no helmfile at %s (use --helmfile "
			    "FILE or --config-dir DIR)",
			    hfpath);
		return cli_fail(c, &err);
	}
	o.helmfile = hfpath;
	if (apl_helmfile_binary(bin, sizeof(bin), &err))
		return cli_fail(c, &err);
	o.binary = bin;
	rc = cli_ledger_dir(c, dir);
	if (rc)
		return rc;
	rc = o.dry_run ? cli_open_ro(c, &s) : cli_open(c, &s);
	if (rc)
		return rc;
	o.store = s;
	if (!o.dry_run) {
		rc = cli_signer(c, keyfile, &k);
		if (rc)
			goto out_close;
		o.key = k;
		if (apl_lock(dir, o.cluster, &lockfd, &err)) {
			rc = cli_fail(c, &err);
			goto out_close;
		}
		o.lock_fd = lockfd;
	}
	if (watch) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		say(NULL, APL_INFO,
		    "watching the ledger for cluster changes "
		    "(Ctrl-C or SIGTERM stops)");
		o.stop = &stop_flag;
		apl_watch(&o, interval, check_every, &err);
		say(NULL, APL_INFO, "stopped");
		rc = CLI_OK;
	} else if (check) {
		struct apl_check_report rep;
		o.say_arg = json ? &o : NULL;
		if (apl_drift_check(&o, &rep, &err))
			rc = cli_fail(c, &err);
		else
			rc = report_check(c, o.cluster, &rep, json);
		apl_check_report_free(&rep);
	} else {
		struct apl_summary sum;
		if (apl_reconcile(&o, &sum, &err)) {
			rc = cli_fail(c, &err);
			goto out_unlock;
		}
		printf("%s: %u applied, %u failed, %u up to date, %u left "
		       "alone%s\n",
		       o.cluster, sum.applied, sum.failed, sum.current,
		       sum.left, o.dry_run ? " (dry run)" : "");
		rc = sum.failed ? CLI_NO : CLI_OK;
	}
out_unlock:
	apl_unlock(lockfd);
out_close:
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}
