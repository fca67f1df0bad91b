#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "names.h"
#include "util.h"

int cli_exit_code(int code)
{
	switch (code) {
	case -EACCES:
	case -EPERM:
	case -EBUSY:
		return CLI_NO;
	default:
		return CLI_BAD;
	}
}

static void error_line(const char *fmt, va_list ap)
{
	char buf[2048], line[4 * sizeof(buf) + 16];
	size_t n = 0;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n += (size_t)snprintf(line, sizeof(line), "ledger: ");
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "\\x%02x", *p);
		else
			line[n++] = (char)*p;
	}
	line[n++] = '\n';
	/* one write: lines from processes sharing stderr never interleave */
	fflush(stdout);
	(void)!write(STDERR_FILENO, line, n);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_line(fmt, ap);
	va_end(ap);
}

/* What the command line can do about a refusal, from the rule that made
 * it (the library states only the facts). */
static const char *advice(const struct cli_ctx *c, const struct ldg_err *err)
{
	bool approving = !strcmp(c->cmd, "approve");

	switch (err->why) {
	case LDG_WHY_LOCKED:
		return approving ? "; unlock it, then approve again"
				 : "; unlock it or use --force";
	case LDG_WHY_FROZEN:
		return approving ? "; approve again once the window has ended"
				 : "; use --emergency with a second approver, "
				   "or wait";
	case LDG_WHY_NOT_SOAKED:
		return approving ? "; approve again once it has soaked"
				 : "; wait for the soak, or use --emergency "
				   "with a second approver";
	case LDG_WHY_SELF_APPROVAL:
	case LDG_WHY_ALREADY_APPROVED:
		return "; another key must approve it";
	case LDG_WHY_NOT_PENDING:
		return " (see ledger pending)";
	case LDG_WHY_SKEW:
		return "; check the signer's clock";
	case LDG_WHY_UNKNOWN_KEY:
		return " (add it with ledger key add)";
	case LDG_WHY_NO_LEDGER:
		return " (create one with ledger init, or point "
		       "--ledger/LEDGER_DIR at it)";
	default:
		return "";
	}
}

int cli_fail(struct cli_ctx *c, const struct ldg_err *err)
{
	cli_error("%s: %s%s", c->cmd,
		  err->msg[0] ? err->msg : strerror(-err->code),
		  err->msg[0] && !c->no_advice ? advice(c, err) : "");
	return cli_exit_code(err->code);
}

int cli_usage(struct cli_ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_error("%s: %s (see ledger %s --help)", c->cmd, msg, c->cmd);
	return CLI_BAD;
}

int cli_print_help(struct cli_ctx *c)
{
	fputs(c->help, stdout);
	return CLI_OK;
}

int cli_common_opt(struct cli_ctx *c, int opt, char **argv)
{
	switch (opt) {
	case 'L':
		c->ledger = optarg;
		return -1;
	case 'h':
		return cli_print_help(c);
	case ':':
		return cli_usage(c, "option %s needs a value",
				 argv[optind - 1]);
	default:
		if (optopt && optopt != '?')
			return cli_usage(c, "unknown option -%c", optopt);
		return cli_usage(c, "unknown option %s", argv[optind - 1]);
	}
}

int cli_ledger_dir(struct cli_ctx *c, char *out)
{
	struct ldg_err err = { 0 };

	if (ldg_store_dir_default(c->ledger, out, PATH_MAX)) {
		ldg_err_set(&err, -ENOENT,
			    "no ledger directory: pass --ledger DIR or set "
			    "LEDGER_DIR");
		return cli_fail(c, &err);
	}
	return 0;
}

static int open_store(struct cli_ctx *c, unsigned flags, struct ldg_store **s)
{
	struct ldg_err err = { 0 };
	char dir[PATH_MAX];
	int rc = cli_ledger_dir(c, dir);

	if (rc)
		return rc;
	if (ldg_store_open(dir, flags, s, &err))
		return cli_fail(c, &err);
	if (!ldg_store_origin(*s)[0]) {
		ldg_store_close(*s);
		*s = NULL; /* callers close what they got, on every path */
		ldg_err_set(&err, -ENOENT,
			    "%s is not initialised (run ledger init)", dir);
		return cli_fail(c, &err);
	}
	return 0;
}

int cli_open(struct cli_ctx *c, struct ldg_store **s)
{
	return open_store(c, 0, s);
}

int cli_open_ro(struct cli_ctx *c, struct ldg_store **s)
{
	return open_store(c, LDG_OPEN_RDONLY, s);
}

int cli_open_audit(struct cli_ctx *c, struct ldg_store **s)
{
	return open_store(c, LDG_OPEN_RDONLY | LDG_OPEN_ANY_INDEX, s);
}

int cli_keys_dir(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(out, len, "%s/ledger/keys", xdg);
	else if (home && *home)
		n = snprintf(out, len, "%s/.config/ledger/keys", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The only NAME.key in the keys directory. */
static int only_key(struct cli_ctx *c, char *path, size_t len)
{
	struct ldg_err err = { 0 };
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dh = NULL;
	int found = 0;

	if (cli_keys_dir(dir, sizeof(dir)) == 0)
		dh = opendir(dir);
	if (!dh) {
		ldg_err_set(&err, -ENOENT,
			    "no signing key: pass --key FILE, set LEDGER_KEY, "
			    "or create one with ledger keygen NAME");
		return cli_fail(c, &err);
	}
	for (;;) {
		size_t n;

		d = readdir(dh);
		if (!d)
			break;
		n = strlen(d->d_name);
		if (n < 5 || strcmp(d->d_name + n - 4, ".key"))
			continue;
		if (found++ == 0 &&
		    (size_t)snprintf(path, len, "%s/", dir) + n < len)
			strcat(path, d->d_name);
	}
	closedir(dh);
	if (found == 1)
		return 0;
	ldg_err_set(&err, -ENOENT,
		    found ? "%s holds several keys: pass --key FILE or set "
			    "LEDGER_KEY"
			  : "no signing key in %s: pass --key FILE, set "
			    "LEDGER_KEY, or run ledger keygen NAME",
		    dir);
	return cli_fail(c, &err);
}

int cli_signer(struct cli_ctx *c, const char *keyfile, struct ldg_signer **k)
{
	struct ldg_err err = { 0 };
	const char *env = getenv("LEDGER_KEY");
	char path[PATH_MAX];
	int rc;

	if (keyfile && *keyfile) {
		snprintf(path, sizeof(path), "%s", keyfile);
	} else if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		rc = only_key(c, path, sizeof(path));
		if (rc)
			return rc;
	}
	if (ldg_signer_load(path, k, &err)) {
		/* a key we cannot use is an environment problem, not "no" */
		err.code = -EINVAL;
		return cli_fail(c, &err);
	}
	return 0;
}

int cli_split_kv(char *arg, struct ldg_kv *kv)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return -EINVAL;
	*eq = '\0';
	kv->key = arg;
	kv->value = eq + 1;
	return 0;
}

int cli_parse_change(const char *arg, struct ldg_kv *kv, struct ldg_err *err)
{
	const char *eq = strchr(arg, '=');
	bool typed = eq && eq > arg && eq[-1] == ':';
	size_t klen = eq ? (size_t)(eq - arg) - typed : 0;
	int rc;

	memset(kv, 0, sizeof(*kv));
	if (!eq || klen == 0)
		return ldg_err_set(err, -EINVAL,
				   "expected KEY=VALUE or KEY:=JSON, not "
				   "\"%.60s\"",
				   arg);
	kv->key = strndup(arg, klen);
	if (!kv->key)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if (!typed) {
		kv->value = strdup(eq + 1);
		return kv->value ? 0
				 : ldg_err_set(err, -ENOMEM, "out of memory");
	}
	rc = ldg_value_from_json(eq + 1, &kv->type, &kv->value, err);
	if (rc) {
		ldg_err_prefix(err, "%s", kv->key);
		free(kv->key);
		kv->key = NULL;
	}
	return rc;
}

void cli_changes_free(struct ldg_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void cli_print_hints(const struct ldg_kv *kv, size_t n)
{
	/* last, once stdout is out: a stdout that cannot be written fails
	 * the command with one line on stderr, which a hint would make two */
	if (fflush(stdout) || ferror(stdout) || cli_stdout_errno)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *looks;
		if (kv[i].type != LDG_V_STR || !kv[i].value)
			continue;
		looks = ldg_value_looks_typed(kv[i].value);
		if (looks)
			fprintf(stderr,
				"hint: stored as the string \"%s\"; use "
				"%s:=%s for %s\n",
				kv[i].value, kv[i].key, kv[i].value, looks);
	}
}

int cli_parse_seq(struct cli_ctx *c, const char *what, const char *arg,
		  uint64_t *out)
{
	if (ldg_parse_seq(arg, out))
		return cli_usage(c,
				 "%s must be a seq (1, 2, 3, ...), not "
				 "\"%.40s\"",
				 what, arg);
	return 0;
}

int cli_write_out(const char *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		cli_error("cannot write output: %s", strerror(errno));
		return CLI_BAD;
	}
	return CLI_OK;
}

int cli_stdout_errno;

void cli_print_result(const struct ldg_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		char hex[2 * LDG_HASH_BYTES + 1];
		ldg_hex(res->v[i].hash, LDG_HASH_BYTES, hex);
		printf("%llu %s\n", (unsigned long long)res->v[i].seq, hex);
	}
	if (fflush(stdout))
		cli_stdout_errno = errno;
}

void cli_print_proposal(const struct ldg_gov *g, const char *target,
			unsigned need, bool emergency)
{
	const struct ldg_policy *pol = ldg_gov_policy_for(g, target);
	char why[LDG_SCOPE_MAX + 64] = "";

	if (pol && pol->approvals)
		snprintf(why, sizeof(why), " (policy %s at seq %llu%s)",
			 pol->scope, (unsigned long long)pol->seq,
			 emergency ? "; emergency" : "");
	else if (emergency)
		snprintf(why, sizeof(why), " (emergency)");
	printf("pending: needs %u approval%s%s\n", need, need == 1 ? "" : "s",
	       why);
}

void cli_print_pending(struct ldg_store *s, const struct ldg_result *res)
{
	struct ldg_read *r;

	if (ldg_read_begin(s, &r, NULL))
		return;
	for (size_t i = 0; i < res->n; i++) {
		struct ldg_proposal p = { 0 };
		struct ldg_gov g;
		if (ldg_proposal_get(r, res->v[i].seq, &p))
			continue; /* not a proposal: it took effect */
		/* the policy it was written under */
		if (p.status == LDG_PROP_PENDING) {
			if (!ldg_gov_load(r, p.seq - 1, &g, NULL))
				cli_print_proposal(&g, p.target, p.need,
						   p.flags &
							   LDG_PEND_EMERGENCY);
			ldg_gov_free(&g);
		}
		ldg_proposal_free(&p);
	}
	ldg_read_end(r);
	if (fflush(stdout))
		cli_stdout_errno = errno;
}

int cli_write_opt(struct cli_ctx *c, int opt, char **argv,
		  struct cli_write_opts *w)
{
	switch (opt) {
	case 'm':
		w->reason = optarg;
		return -1;
	case 'k':
		w->keyfile = optarg;
		return -1;
	case 'M':
		if (w->n_meta == LDG_META_MAX)
			return cli_usage(c,
					 "too many --meta options (at "
					 "most %d)",
					 LDG_META_MAX);
		if (cli_split_kv(optarg, &w->meta[w->n_meta]))
			return cli_usage(c, "--meta needs K=V, not \"%.40s\"",
					 optarg);
		w->n_meta++;
		return -1;
	default:
		return cli_common_opt(c, opt, argv);
	}
}

int cli_open_signed(struct cli_ctx *c, const struct cli_write_opts *w,
		    struct ldg_store **s, struct ldg_signer **k)
{
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	rc = cli_open(c, s);
	if (rc)
		return rc;
	rc = cli_signer(c, w->keyfile, k);
	if (rc) {
		ldg_store_close(*s);
		*s = NULL;
	}
	return rc;
}

int cli_open_read(struct cli_ctx *c, struct ldg_store **s, struct ldg_read **r)
{
	struct ldg_err err = { 0 };
	int rc = cli_open_ro(c, s);

	if (rc)
		return rc;
	if (ldg_read_begin(*s, r, &err)) {
		ldg_store_close(*s);
		return cli_fail(c, &err);
	}
	return 0;
}

void cli_close_read(struct ldg_store *s, struct ldg_read *r)
{
	ldg_read_end(r);
	ldg_store_close(s);
}

int cli_check_at(struct cli_ctx *c, struct ldg_read *r, uint64_t at)
{
	struct ldg_err err = { 0 };
	uint64_t head;

	if (ldg_head(r, &head, NULL)) {
		ldg_err_set(&err, -EIO, "cannot read the head");
		return cli_fail(c, &err);
	}
	if (at > head)
		return cli_usage(c, "no entry %llu: the head is %llu",
				 (unsigned long long)at,
				 (unsigned long long)head);
	return 0;
}

int cli_check_scope_arg(struct cli_ctx *c, const char *scope)
{
	struct ldg_err err = { 0 };

	if (strchr(scope, '/') ? ldg_check_target(scope, &err)
			       : ldg_check_cluster(scope, &err))
		return cli_fail(c, &err);
	return 0;
}

int cli_emit(char *buf, size_t len)
{
	int rc = cli_write_out(buf, len);

	free(buf);
	return rc;
}

int cli_getopt(struct cli_ctx *c, int argc, char **argv, const char *shorts,
	       const struct option *opts, struct cli_write_opts *w, int *rc)
{
	for (;;) {
		int opt = getopt_long(argc, argv, shorts, opts, NULL);
		bool common = opt == 'L' || opt == 'h' || opt == ':' ||
			      opt == '?' ||
			      (w && (opt == 'm' || opt == 'M' || opt == 'k'));

		if (opt == -1) {
			*rc = -1;
			return 0;
		}
		if (!common)
			return opt;
		*rc = w ? cli_write_opt(c, opt, argv, w)
			: cli_common_opt(c, opt, argv);
		if (*rc >= 0)
			return 0;
	}
}

int cli_scope_arg(struct cli_ctx *c, int argc, char **argv, const char **scope)
{
	*scope = NULL;
	if (argc - optind > 1)
		return cli_usage(c, "expected at most one CLUSTER[/RELEASE]");
	if (argc - optind == 0)
		return 0;
	*scope = argv[optind];
	return cli_check_scope_arg(c, *scope);
}

int cli_json_only(struct cli_ctx *c, int argc, char **argv, const char *help,
		  bool *json)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	c->help = help;
	*json = false;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'j')
			*json = true;
	}
	return rc;
}
