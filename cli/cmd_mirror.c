/*
 * cmd_mirror.c - `ledger mirror URL`: a checked copy of a served ledger.
 *
 * The copy is the local ledger (--ledger DIR, $LEDGER_DIR, ...). Each run
 * checks that it holds the ledger URL serves (same origin), then pulls
 * with the client's one fetcher (clt_pull(), client/client.h): it
 * proves that the copy is still a prefix of what URL serves (no fewer
 * entries, and the same bytes for the copy's newest entry: the hash
 * chain makes that the same for every older one), then fetches the
 * entries after it, 500 at a time, as their exact signed bytes, and
 * appends each page in one transaction with ldg_append_copied(): every
 * entry checked as a local append checks it. So past entry 1 (the
 * origin and first admin, which a checkpoint pins) a mirror takes
 * nothing on the server's word, and a server that rewrote or cut its
 * history since the last run is caught: exit 1. A run that added
 * entries then checks the copy again with clt_verify_copy(): the
 * incremental check of `ledger verify --since` from the head the
 * previous run left (docs/format.md section 10.1), the whole copy on a
 * first run.
 *
 * With --tiles, URL is a static C2SP tlog-tiles host (nginx, a bucket,
 * a CDN; no ledger server) and the fetcher is clt_tiles_pull(): its
 * checkpoint, the tiles and bundles that checkpoint's size needs, each
 * checked up to the checkpoint's root before anything is appended, then
 * the entries (checked the same way) and the checkpoint (as `verify
 * --checkpoint` checks it, against the keyring they make) in one
 * transaction; then the same clt_verify_copy().
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"
#include "render.h"
#include "trust.h"
#include "util.h"

static const char help[] =
	"usage: ledger mirror [--tiles [--witness-policy FILE]] URL [--follow]\n"
	"                     [--json]\n\n"
	"Copy the ledger that `ledger serve` serves at URL into the local\n"
	"ledger (--ledger DIR or $LEDGER_DIR; created when missing), or bring\n"
	"an existing copy up to date. Every entry is checked as a local\n"
	"append checks it (signature, chain, keys, scopes, locks). On a first\n"
	"copy the server's entry 1 names the origin and the first admin: pin\n"
	"them with `ledger verify --checkpoint` and a checkpoint you got\n"
	"elsewhere. Exit 1 when the server's entries are refused, or when\n"
	"they no longer extend the copy: the served ledger was rewritten or\n"
	"cut since the last mirror. Exit 2 when URL cannot be reached or does\n"
	"not answer as a ledger server.\n\n"
	"A run that copied entries then checks the copy as `ledger verify\n"
	"--since` does, from the head the previous run left (the whole copy\n"
	"on a first run): \"verified: N entries after entry M\".\n\n"
	"  --tiles   URL is a static C2SP tlog-tiles host (its checkpoint,\n"
	"            tile/ and tile/entries/ under URL), no ledger server:\n"
	"            only the tiles the checkpoint's size needs are fetched;\n"
	"            every tile must hash to the checkpoint's root and every\n"
	"            entry to its tile, and the checkpoint must be signed by\n"
	"            a key of the copied ledger; a flipped, cut or missing\n"
	"            tile, a checkpoint of another tree or a refused entry\n"
	"            leaves the copy as it was\n"
	"  --witness-policy FILE  with --tiles: the checkpoint must also\n"
	"            carry the quorum of FILE, a trust policy (`witness NAME\n"
	"            KEY`, `group`, `quorum` lines, as `verify\n"
	"            --witness-policy`), before anything is fetched\n"
	"  --follow  then keep the copy current: another run after each entry\n"
	"            the server's event stream announces (with --tiles: when\n"
	"            the checkpoint, asked for every 2 s, grows), until\n"
	"            SIGTERM or SIGINT (exit 0) or a refusal (exit 1); a lost\n"
	"            connection is retried every 2 s\n"
	"  --json    {url, origin, added, head, hash, verified_from} instead\n"
	"            of the text\n";

/* The copy's check failed: the answer is no (exit 1). */
static int say_no(struct cli_ctx *c, struct ldg_err *err)
{
	cli_fail(c, err);
	return CLI_NO;
}

static int print_result(const char *url, const char *origin, uint64_t added,
			uint64_t head, const uint8_t hash[LDG_HASH_BYTES],
			const struct clt_anchor *from, bool full, bool json)
{
	char hex[2 * LDG_HASH_BYTES + 1];
	json_t *j;
	char *out;
	size_t len;
	int rc;

	ldg_hex(hash, LDG_HASH_BYTES, hex);
	if (!json) {
		if (added && full)
			printf("mirrored %" PRIu64 " new entr%s from %s: head "
			       "%" PRIu64 " %s\nverified: all %" PRIu64
			       " entries\n",
			       added, added == 1 ? "y" : "ies", url, head, hex,
			       head);
		else if (added)
			printf("mirrored %" PRIu64 " new entr%s from %s: head "
			       "%" PRIu64 " %s\nverified: %" PRIu64
			       " entr%s after entry %" PRIu64 "\n",
			       added, added == 1 ? "y" : "ies", url, head, hex,
			       head - from->size,
			       head - from->size == 1 ? "y" : "ies",
			       from->size);
		else
			printf("up to date with %s: head %" PRIu64 " %s\n", url,
			       head, hex);
		return CLI_OK; /* main() checks stdout */
	}
	j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:o}", "url", url, "origin",
		      origin, "added", (json_int_t)added, "head",
		      (json_int_t)head, "hash", hex, "verified_from",
		      !added ? json_null()
		      : full ? json_integer(0)
			     : json_integer((json_int_t)from->size));
	/* rnd_json_out() takes j, even when it fails */
	if (rnd_json_out(j, &out, &len)) {
		cli_error("mirror: out of memory");
		return CLI_BAD;
	}
	rc = cli_write_out(out, len);
	free(out);
	return rc;
}

/* The progress of a run on a terminal, after each page. */
struct progress {
	bool tty;
	uint64_t named; /* the head the server named */
};

static void on_page(uint64_t head, void *arg)
{
	struct progress *p = arg;

	if (p->tty)
		fprintf(stderr, "\rmirror: %" PRIu64 " of %" PRIu64 " entries",
			head, head > p->named ? head : p->named);
}

/* One run (clt_pull(): the prefix checks, then every page after the
 * copy's head). Prints its result (or why not) and returns the exit
 * code. */
static int sync_once(struct cli_ctx *c, const char *url, const char *dir,
		     struct ldg_store *s, bool json, bool quiet_if_none,
		     uint64_t *copied_head)
{
	struct progress p = { .tty = isatty(STDERR_FILENO) };
	struct ldg_err err = { 0 };
	struct clt_anchor from;
	struct clt_pulled got;
	struct clt_head named;
	bool full = false;
	int rc;

	if (clt_head_get(url, &named, &err))
		return cli_fail(c, &err);
	p.named = named.seq;
	if (ldg_store_origin(s)[0] &&
	    strcmp(ldg_store_origin(s), named.origin)) {
		ldg_err_set(&err, -EINVAL,
			    "%s holds ledger \"%s\"; %s serves "
			    "\"%s\"",
			    dir, ldg_store_origin(s), url, named.origin);
		return say_no(c, &err);
	}
	if (clt_anchor_get(s, &from, &err))
		return cli_fail(c, &err);
	rc = clt_pull(url, s, &named, true, on_page, &p, &got, &err);
	if (p.tty && got.added)
		fputc('\n', stderr);
	if (got.head)
		*copied_head = got.head;
	if (rc)
		return cli_fail(c, &err);
	/* on a first copy the origin is entry 1's, not what /head said */
	if (strcmp(ldg_store_origin(s), named.origin)) {
		ldg_err_set(&err, -EINVAL,
			    "%s named origin \"%s\" but serves "
			    "ledger \"%s\"",
			    url, named.origin, ldg_store_origin(s));
		return say_no(c, &err);
	}
	if (quiet_if_none && !got.added)
		return CLI_OK;
	/* what the appends checked one by one, checked again as `ledger
	 * verify --since` checks it, from the head the last run checked */
	if (got.added) {
		rc = clt_verify_copy(s, &from, &full, &err);
		if (rc)
			return cli_fail(c, &err);
	}
	return print_result(url, named.origin, got.added, got.head, got.hash,
			    &from, full, json);
}

/* One run from a tiles host (clt_tiles_pull()), as sync_once(). */
static int sync_tiles(struct cli_ctx *c, const char *url, struct ldg_store *s,
		      const struct ldg_trust *trust, bool json,
		      bool quiet_if_none, uint64_t *copied_head)
{
	struct progress p = { .tty = isatty(STDERR_FILENO) };
	struct ldg_err err = { 0 };
	struct ldg_checkpoint *cp;
	struct clt_anchor from;
	struct clt_pulled got;
	bool full = false;
	int rc;

	if (clt_anchor_get(s, &from, &err))
		return cli_fail(c, &err);
	cp = malloc(sizeof(*cp));
	if (!cp) {
		cli_error("mirror: out of memory");
		return CLI_BAD;
	}
	rc = clt_tiles_checkpoint(url, cp, &err);
	if (rc) {
		free(cp);
		return cli_fail(c, &err);
	}
	p.named = cp->size;
	/* a witness quorum, before anything is fetched or written */
	if (trust) {
		struct ldg_trust_report *rep = malloc(sizeof(*rep));
		rc = rep ? ldg_trust_check(trust, cp, rep, &err)
			 : ldg_err_set(&err, -ENOMEM, "out of memory");
		free(rep);
		if (rc) {
			ldg_err_prefix(&err, "%scheckpoint", url);
			err.code = rc == -ENOMEM ? rc : -EPERM;
			free(cp);
			return cli_fail(c, &err);
		}
	}
	rc = clt_tiles_pull(url, s, cp, on_page, &p, &got, &err);
	if (p.tty && got.added)
		fputc('\n', stderr);
	if (got.head)
		*copied_head = got.head;
	/* the one check of what a mirror copied (sync_once()'s) */
	if (!rc && got.added)
		rc = clt_verify_copy(s, &from, &full, &err);
	if (rc)
		rc = cli_fail(c, &err);
	else if (!quiet_if_none || got.added)
		rc = print_result(url, cp->origin, got.added, got.head,
				  got.hash, &from, full, json);
	free(cp);
	return rc;
}

static volatile sig_atomic_t stop_following;

static void on_stop(int sig)
{
	stop_following = 1;
}

/* --follow: after each new entry the server's event stream announces
 * (a tiles host announces nothing: its checkpoint is asked for every
 * 2 s), another run; until SIGTERM or SIGINT (exit 0), or a run that
 * fails (its exit code). A lost connection is retried every 2 s. */
static void pause_2s(void)
{
	for (int i = 0; i < 20 && !stop_following; i++)
		usleep(100000);
}

static int follow(struct cli_ctx *c, const char *url, const char *dir,
		  struct ldg_store *s, bool json, bool tiles,
		  const struct ldg_trust *trust, uint64_t head)
{
	int rc = CLI_OK;

	while (!stop_following) {
		struct ldg_err err = { 0 };
		int w = 0;

		if (tiles)
			pause_2s();
		else
			w = clt_wait_event(url, head, &stop_following, &err);
		if (stop_following)
			break;
		if (w < 0) {
			fprintf(stderr, "ledger: mirror: %s; again in 2 s\n",
				err.msg);
			pause_2s();
			continue;
		}
		rc = tiles ? sync_tiles(c, url, s, trust, json, true, &head)
			   : sync_once(c, url, dir, s, json, true, &head);
		if (rc == CLI_BAD) {
			/* unreachable between the event (or poll) and the
			 * pages: the next one tries again */
			rc = CLI_OK;
			continue;
		}
		if (rc)
			break;
	}
	return rc;
}

int cmd_mirror(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "tiles", no_argument, NULL, 't' },
		{ "witness-policy", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_stop };
	char dir[PATH_MAX];
	struct ldg_err err = { 0 };
	struct ldg_store *s = NULL;
	struct ldg_trust *trust = NULL;
	bool json = false, keep = false, tiles = false;
	uint64_t head = 0;
	const char *url, *policy = NULL;
	int opt, rc;

	c->help = help;
	c->no_advice = true;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'j')
			json = true;
		else if (opt == 'f')
			keep = true;
		else if (opt == 't')
			tiles = true;
		else if (opt == 'w')
			policy = optarg;
	}
	if (rc >= 0)
		return rc;
	if (policy && !tiles)
		return cli_usage(c, "--witness-policy needs --tiles (a server "
				    "mirror has no checkpoint to ask it of)");
	if (argc - optind != 1)
		return cli_usage(c, tiles ? "expected the URL of a tiles host"
					  : "expected the URL of a ledger "
					    "server");
	url = argv[optind];
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return cli_usage(c,
				 "\"%.80s\" is not an http:// or https:// "
				 "URL",
				 url);
	rc = cli_ledger_dir(c, dir);
	if (rc)
		return rc;
	if (policy && ldg_trust_load(policy, &trust, &err))
		return cli_fail(c, &err);
	if (ldg_store_open(dir, LDG_OPEN_CREATE, &s, &err)) {
		ldg_trust_free(trust);
		return cli_fail(c, &err);
	}
	if (keep) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if (tiles)
		rc = sync_tiles(c, url, s, trust, json, false, &head);
	else
		rc = sync_once(c, url, dir, s, json, false, &head);
	if (!rc && keep)
		rc = follow(c, url, dir, s, json, tiles, trust, head);
	ldg_store_close(s);
	ldg_trust_free(trust);
	return rc;
}
