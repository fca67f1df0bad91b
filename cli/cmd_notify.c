/*
 * cmd_notify.c - `ledger notify --webhook URL`: one POST per matching
 * entry, in seq order, at least once (ledger-http only: libcurl).
 *
 * The entries come from the local ledger, followed by polling its head
 * as `ledger serve` does, or with --remote URL from a checked private
 * copy of the served ledger (clt_copy_open(), every entry checked as
 * `ledger mirror` checks it), brought up to date after each entry the
 * server's event stream announces. The message is render/'s
 * (rnd_notify(): the text and `ledger show --json`'s entry); delivery,
 * the cursor file and the waits are client/notify.h's. The cursor file
 * holds the last seq acknowledged (2xx), skipped (a 4xx other than 429)
 * or passed over by the filters; it is replaced after each, so a
 * restart resumes after it: an entry is delivered again only when the
 * notifier stopped between the webhook's answer and the cursor's write.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "client.h"
#include "notify.h"
#include "render.h"
#include "util.h"

#define NOTIFY_SCOPES_MAX 16
#define NOTIFY_POLL_MS 200 /* the local head, as `ledger serve` polls */
#define NOTIFY_SECRET_MAX 4096
#define NOTIFY_RECONNECT_MS 2000 /* a lost event stream, as mirror */

static const char help[] =
	"usage: ledger notify --webhook URL [--remote URL] [--scope GLOB]...\n"
	"                     [--kinds LIST] [--secret-file F] [--cursor FILE]\n"
	"                     [--link-base URL] [--from SEQ] [--once]\n"
	"                     [--timeout SECONDS]\n\n"
	"POST one JSON message per new entry to URL, in seq order:\n"
	"{\"text\": \"alice set staging/api image.tag=v2 (seq 42): PR #42\",\n"
	" \"entry\": {... as `ledger show SEQ --json` ...}}, a Slack or\n"
	"Mattermost incoming webhook's format. Follows the local ledger, or\n"
	"with --remote URL the one `ledger serve` serves there (each entry\n"
	"checked here, as `ledger mirror` checks it), until SIGTERM or SIGINT.\n"
	"Delivery is at least once and in order: a 2xx answer moves on; 429,\n"
	"5xx and errors of the connection are retried after 1, 2, 4 ... 60 s\n"
	"(or what Retry-After says), forever, one line on stderr each time;\n"
	"any other 4xx is logged and SKIPPED. The cursor file keeps the last\n"
	"seq delivered, so a restart resumes after it.\n\n"
	"  --webhook URL      where to POST (http:// or https://)\n"
	"  --remote URL       follow the ledger `ledger serve` serves at URL\n"
	"  --scope GLOB       only entries on targets GLOB matches, as a key's\n"
	"                     scope does (staging/*, */api); repeatable\n"
	"  --kinds LIST       only these kinds, e.g. set,unset,rollback,lock\n"
	"  --secret-file F    sign each body: X-Ledger-Signature: sha256=HEX,\n"
	"                     the HMAC-SHA256 of the body under F's contents\n"
	"                     (one final newline ignored; mode 0600 or less)\n"
	"  --cursor FILE      default $XDG_STATE_HOME/ledger/notify-HASH, one\n"
	"                     per ledger and webhook\n"
	"  --link-base URL    link each message to URL/#/e/SEQ, the entry on\n"
	"                     the web page of `ledger serve` at URL\n"
	"  --from SEQ         start at entry SEQ, whatever the cursor says;\n"
	"                     without it and without a cursor: new entries only\n"
	"  --once             deliver what is there, then exit\n"
	"  --timeout SECONDS  give up on one POST after this long (default 10),\n"
	"                     and try again\n"
	"Exit codes: 0 done (--once) or stopped; 1 the served entries do not\n"
	"verify; 2 usage, no ledger, an unreadable secret or cursor.\n";

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	stopping = 1;
}

struct notify {
	struct cli_ctx *c;
	const char *webhook;
	char hook_name[512]; /* what log lines show of it (clt_hook_name()) */
	const char *link_base;
	const char *scopes[NOTIFY_SCOPES_MAX];
	size_t n_scopes;
	uint32_t kinds;	 /* a bit per enum ldg_kind; 0: every kind */
	uint8_t *secret; /* sodium_malloc'd, or NULL */
	size_t secret_len;
	char cursor[PATH_MAX];
	long timeout;
	unsigned unit_ms;
	uint64_t next;	/* the next seq to look at */
	uint64_t acked; /* what the cursor file holds */
};

/* Waits ms milliseconds, or until SIGTERM or SIGINT. */
static void nap(uint64_t ms)
{
	while (ms && !stopping) {
		uint64_t step = ms < 50 ? ms : 50;
		usleep((useconds_t)step * 1000);
		ms -= step;
	}
}

static void say_wait(char *out, size_t len, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, len, "%" PRIu64 " ms", ms);
	else
		snprintf(out, len, "%" PRIu64 " s", ms / 1000);
}

/* Whether entry seq is one the filters let through. */
static int wanted(struct notify *n, struct ldg_read *r, uint64_t seq, bool *yes,
		  struct ldg_err *err)
{
	struct ldg_entry *e;
	int rc = ldg_entry_read(r, seq, &e, err);

	if (rc)
		return rc;
	*yes = !n->kinds || (n->kinds & (UINT32_C(1) << e->kind));
	if (*yes && n->n_scopes) {
		*yes = false;
		for (size_t i = 0; e->target[0] && i < n->n_scopes; i++)
			*yes = *yes || ldg_scope_match(n->scopes[i], e->target);
	}
	ldg_entry_free(e);
	return 0;
}

/* A cursor file that cannot be read or written is the environment's
 * fault, exit 2 as the help says, a permission refused too (which
 * cli_fail() would make 1, "the answer is no"). */
static int cursor_fail(struct notify *n, const struct ldg_err *err)
{
	cli_fail(n->c, err);
	return CLI_BAD;
}

static int save_cursor(struct notify *n, uint64_t seq)
{
	struct ldg_err err = { 0 };

	if (seq == n->acked)
		return 0;
	if (clt_cursor_write(n->cursor, seq, &err))
		return cursor_fail(n, &err);
	n->acked = seq;
	return 0;
}

/* POSTs body until the webhook takes it (2xx) or refuses it for good
 * (another 4xx: skipped). 0 then, 1 when stopped meanwhile. */
static int deliver(struct notify *n, uint64_t seq, const char *body, size_t len)
{
	for (unsigned failures = 1; !stopping; failures++) {
		struct clt_hook_answer a;
		struct ldg_err err = { 0 };
		char why[sizeof(err.msg) + 256], wait[32];
		uint64_t ms;

		if (clt_notify_post(n->webhook, body, len, seq, n->secret,
				    n->secret_len, n->timeout, &stopping, &a,
				    &err)) {
			if (stopping)
				break;
			snprintf(why, sizeof(why), "%s", err.msg);
		} else if (clt_hook_judge(a.status) == CLT_HOOK_TAKEN) {
			printf("seq %" PRIu64 ": delivered (HTTP %ld)\n", seq,
			       a.status);
			fflush(stdout);
			return 0;
		} else if (clt_hook_judge(a.status) == CLT_HOOK_SKIP) {
			cli_error("notify: seq %" PRIu64 ": %s answered HTTP "
				  "%ld%s%.100s: skipped, not retried",
				  seq, n->hook_name, a.status,
				  a.text[0] ? ": " : "", a.text);
			return 0;
		} else {
			snprintf(why, sizeof(why), "HTTP %ld%s%.100s%s",
				 a.status, a.text[0] ? ": " : "", a.text,
				 a.status >= 300 && a.status < 400
					 ? " (redirects are not followed: "
					   "give the final URL)"
					 : "");
		}
		ms = clt_backoff_ms(failures, a.retry_after, n->unit_ms);
		say_wait(wait, sizeof(wait), ms);
		cli_error("notify: seq %" PRIu64 ": %s: %s; again in %s%s", seq,
			  n->hook_name, why, wait,
			  a.retry_after >= 0 ? " (Retry-After)" : "");
		nap(ms);
	}
	return 1;
}

/* The head of s; prints on failure and returns the exit code, else 0. */
static int read_head(struct notify *n, struct ldg_store *s, uint64_t *head)
{
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	int rc;

	if (ldg_read_begin(s, &r, &err))
		return cli_fail(n->c, &err);
	rc = ldg_head(r, head, NULL);
	ldg_read_end(r);
	if (rc) {
		ldg_err_set(&err, rc, "cannot read the head");
		return cli_fail(n->c, &err);
	}
	return 0;
}

/* Delivers every matching entry from n->next up to the head of s. */
static int catch_up(struct notify *n, struct ldg_store *s)
{
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;
	int rc = read_head(n, s, &head);

	if (rc)
		return rc;
	while (n->next <= head && !stopping) {
		uint64_t seq = n->next;
		char *body = NULL;
		size_t len = 0;
		bool yes = false;

		if (ldg_read_begin(s, &r, &err))
			return cli_fail(n->c, &err);
		rc = wanted(n, r, seq, &yes, &err);
		if (!rc && yes)
			rc = rnd_notify(r, seq, n->link_base, &body, &len,
					&err);
		/* no read transaction stays open while a webhook answers */
		ldg_read_end(r);
		if (rc)
			return cli_fail(n->c, &err);
		if (yes) {
			rc = deliver(n, seq, body, len);
			free(body);
			if (rc)
				break; /* stopped: seq is not acknowledged */
			rc = save_cursor(n, seq);
			if (rc)
				return rc;
		}
		n->next = seq + 1;
	}
	/* what the filters passed over needs no second look (a --from
	 * beyond the head is left for the entries to reach) */
	return n->next - 1 <= head ? save_cursor(n, n->next - 1) : 0;
}

/* Reads the secret file: its bytes, less one final newline. */
static int read_secret(struct notify *n, const char *path)
{
	struct ldg_err err = { 0 };
	struct stat st;
	char *buf = sodium_malloc(NOTIFY_SECRET_MAX + 1);
	size_t len = 0;
	int rc;

	if (!buf) {
		cli_error("notify: out of memory");
		return CLI_BAD;
	}
	rc = ldg_read_small(path, "a secret", buf, NOTIFY_SECRET_MAX + 1, &len,
			    &st, &err);
	if (rc) {
		sodium_free(buf);
		ldg_err_prefix(&err, "--secret-file");
		return cli_fail(n->c, &err);
	}
	if (st.st_mode & 077) {
		sodium_free(buf);
		return cli_usage(n->c,
				 "--secret-file %s: readable by others (mode "
				 "%04o); chmod 600 it",
				 path, (unsigned)(st.st_mode & 07777));
	}
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	if (!len) {
		sodium_free(buf);
		return cli_usage(n->c, "--secret-file %s: empty", path);
	}
	n->secret = (uint8_t *)buf;
	n->secret_len = len;
	return 0;
}

/* "init, set, ..." : every kind, for a usage error. */
static const char *all_kinds(void)
{
	static char out[256];
	size_t used = 0;

	for (int k = 0; k < LDG_KIND_COUNT && used < sizeof(out); k++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s",
					 k ? ", " : "",
					 ldg_kind_name((enum ldg_kind)k));
	return out;
}

static int parse_kinds(struct notify *n, const char *list)
{
	char *copy = strdup(list), *save = NULL, *k;
	int rc = 0;

	if (!copy) {
		cli_error("notify: out of memory");
		return CLI_BAD;
	}
	for (k = strtok_r(copy, ",", &save); k && !rc;
	     k = strtok_r(NULL, ",", &save)) {
		enum ldg_kind kind;
		if (ldg_kind_parse(k, &kind))
			rc = cli_usage(n->c, "--kinds: no kind \"%.40s\" (%s)",
				       k, all_kinds());
		else
			n->kinds |= UINT32_C(1) << kind;
	}
	if (!rc && !n->kinds)
		rc = cli_usage(n->c, "--kinds: expected a list such as "
				     "set,unset,rollback");
	free(copy);
	return rc;
}

/* Whether s is an http:// or https:// URL as libcurl parses it. */
static bool is_http_url(const char *s)
{
	char name[512];

	return clt_hook_name(s, name, sizeof(name)) == 0;
}

/* Where the first entry to look at is: --from, else after the cursor,
 * else after the head (a first run: new entries only, and the cursor
 * written at once, so that a restart loses none after it). */
static int start_at(struct notify *n, struct ldg_store *s, uint64_t from)
{
	struct ldg_err err = { 0 };
	uint64_t head = 0, seq = 0;
	int rc = read_head(n, s, &head);

	if (rc)
		return rc;
	if (from) {
		/* whatever the cursor file says, or holds: it is replaced */
		n->acked = UINT64_MAX;
		n->next = from;
		return 0;
	}
	rc = clt_cursor_read(n->cursor, &seq, &err);
	if (rc == -EINVAL) {
		cli_error("notify: %s; pass --from SEQ to start elsewhere",
			  err.msg);
		return CLI_BAD;
	}
	if (rc && rc != -ENOENT)
		return cursor_fail(n, &err);
	n->acked = rc ? UINT64_MAX : seq;
	if (rc == -ENOENT) {
		n->next = head + 1;
		return save_cursor(n, head);
	}
	if (seq > head) {
		ldg_err_set(&err, -EINVAL,
			    "the cursor file %s says entry %" PRIu64 " was "
			    "delivered, but the ledger has %" PRIu64 " entries "
			    "(another ledger's cursor? pass --from SEQ)",
			    n->cursor, seq, head);
		return cli_fail(n->c, &err);
	}
	n->next = seq + 1;
	return 0;
}

/* The local ledger: poll its head, as `ledger serve` does. */
static int follow_local(struct notify *n, struct ldg_store *s, bool once)
{
	int rc = catch_up(n, s);

	while (!rc && !once && !stopping) {
		struct ldg_read *r;
		uint64_t head = 0;

		nap(NOTIFY_POLL_MS);
		(void)ldg_store_settle(s, NULL);
		if (ldg_read_begin(s, &r, NULL))
			continue;
		if (ldg_head(r, &head, NULL))
			head = 0;
		ldg_read_end(r);
		if (head >= n->next)
			rc = catch_up(n, s);
	}
	return rc;
}

/* A served ledger: its event stream, then the copy brought up to date
 * (every entry checked) and delivered from. */
static int follow_remote(struct notify *n, const char *base,
			 struct clt_copy *cp, bool once)
{
	int rc = catch_up(n, clt_copy_store(cp));

	while (!rc && !once && !stopping) {
		struct ldg_err err = { 0 };
		int w = clt_wait_event(base, n->next - 1, &stopping, &err);

		if (stopping)
			break;
		if (w == 0)
			w = clt_copy_sync(cp, 0, NULL, &err);
		if (w == -EPERM)
			return cli_fail(n->c, &err);
		if (w < 0) {
			cli_error("notify: %s; again in %d s", err.msg,
				  NOTIFY_RECONNECT_MS / 1000);
			nap(NOTIFY_RECONNECT_MS);
			continue;
		}
		rc = catch_up(n, clt_copy_store(cp));
	}
	return rc;
}

static int cursor_path(struct notify *n, const char *given, const char *origin)
{
	struct ldg_err err = { 0 };
	char dir[PATH_MAX];
	int rc;

	if (given) {
		if (strlen(given) >= sizeof(n->cursor))
			return cli_usage(n->c,
					 "--cursor: a path of at most %zu "
					 "bytes",
					 sizeof(n->cursor) - 1);
		snprintf(n->cursor, sizeof(n->cursor), "%s", given);
		return 0;
	}
	if (clt_cursor_default(origin, n->webhook, n->cursor, sizeof(n->cursor),
			       &err))
		return cursor_fail(n, &err);
	snprintf(dir, sizeof(dir), "%s", n->cursor);
	*strrchr(dir, '/') = '\0';
	rc = ldg_mkdir_p(dir, 0700);
	if (rc) {
		ldg_err_set(&err, rc, "cannot create %s: %s", dir,
			    strerror(-rc));
		return cursor_fail(n, &err);
	}
	return 0;
}

int cmd_notify(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "webhook", required_argument, NULL, 'w' },
		{ "remote", required_argument, NULL, 'R' },
		{ "scope", required_argument, NULL, 's' },
		{ "kinds", required_argument, NULL, 'K' },
		{ "secret-file", required_argument, NULL, 'S' },
		{ "cursor", required_argument, NULL, 'C' },
		{ "link-base", required_argument, NULL, 'B' },
		{ "from", required_argument, NULL, 'F' },
		{ "once", no_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct notify n = { .c = c, .timeout = 10 };
	struct sigaction sa = { .sa_handler = on_stop };
	const char *secret_file = NULL, *cursor = NULL;
	const char *remote = c->remote;
	struct ldg_err err = { 0 };
	struct clt_copy *cp = NULL;
	struct ldg_store *s = NULL;
	bool once = false;
	uint64_t from = 0, v;
	int opt, rc;

	c->help = help;
	c->no_advice = true;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		switch (opt) {
		case 'w':
			n.webhook = optarg;
			break;
		case 'R':
			remote = optarg;
			break;
		case 's':
			if (n.n_scopes == NOTIFY_SCOPES_MAX)
				return cli_usage(c, "at most %d --scope",
						 NOTIFY_SCOPES_MAX);
			if (ldg_check_scope(optarg, &err))
				return cli_usage(c, "--scope %.80s: %s", optarg,
						 err.msg);
			n.scopes[n.n_scopes++] = optarg;
			break;
		case 'K':
			rc = parse_kinds(&n, optarg);
			if (rc)
				return rc;
			break;
		case 'S':
			secret_file = optarg;
			break;
		case 'C':
			cursor = optarg;
			break;
		case 'B':
			n.link_base = optarg;
			break;
		case 'F':
			rc = cli_parse_seq(c, "--from", optarg, &from);
			if (rc)
				return rc;
			break;
		case 'o':
			once = true;
			break;
		case 'T':
			if (ldg_parse_dec(optarg, 1, 3600, &v))
				return cli_usage(c,
						 "--timeout %.40s: expected "
						 "seconds, 1 to 3600",
						 optarg);
			n.timeout = (long)v;
			break;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage(c, "unexpected argument \"%.80s\"",
				 argv[optind]);
	if (!n.webhook)
		return cli_usage(c, "--webhook URL is required");
	if (clt_hook_name(n.webhook, n.hook_name, sizeof(n.hook_name)))
		return cli_usage(c,
				 "--webhook %.80s: not an http:// or https:// "
				 "URL",
				 n.webhook);
	if (remote && !is_http_url(remote))
		return cli_usage(c,
				 "--remote %.80s: not an http:// or https:// "
				 "URL",
				 remote);
	if (n.link_base &&
	    (!is_http_url(n.link_base) || strpbrk(n.link_base, " <>|")))
		return cli_usage(c,
				 "--link-base %.80s: not an http:// or https:// "
				 "URL without spaces, '<', '>' or '|'",
				 n.link_base);
	if (cursor && !*cursor)
		return cli_usage(c, "--cursor: expected a file name");
	if (secret_file) {
		rc = read_secret(&n, secret_file);
		if (rc)
			return rc;
	}
	n.unit_ms = clt_backoff_unit_ms();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (remote) {
		rc = clt_copy_open(remote, &cp, &err);
		if (!rc)
			rc = clt_copy_sync(cp, 0, NULL, &err);
		if (rc) {
			rc = cli_fail(c, &err);
			goto out;
		}
		s = clt_copy_store(cp);
	} else {
		rc = cli_open_ro(c, &s);
		if (rc)
			goto out;
	}
	rc = cursor_path(&n, cursor, ldg_store_origin(s));
	if (!rc)
		rc = start_at(&n, s, from);
	if (!rc)
		rc = remote ? follow_remote(&n, remote, cp, once)
			    : follow_local(&n, s, once);
out:
	if (cp)
		clt_copy_close(cp);
	else if (s)
		ldg_store_close(s);
	sodium_free(n.secret);
	return rc;
}
