/*
 * cmd_mirror.c - `ledger mirror URL`: a checked copy of a served ledger.
 *
 * The copy is the local ledger (--ledger DIR, $LEDGER_DIR, ...). Each run
 * first proves that the copy is still a prefix of what URL serves (same
 * origin, no fewer entries, and the same bytes for the copy's newest
 * entry: the hash chain makes that the same for every older one), then
 * fetches the entries after it, 500 at a time, as their exact signed
 * bytes (GET /api/v1/entries?after=SEQ, Accept: application/msgpack,
 * split by ldg_batch_split()),
 * and appends each page in one transaction with ldg_append_copied():
 * every entry checked as a local append checks it. So past entry 1 (the
 * origin and first admin, which a checkpoint pins) a mirror takes
 * nothing on the server's word, and a server that rewrote or cut its
 * history since the last run is caught: exit 1.
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
#include "ops.h"
#include "remote.h"
#include "render.h"
#include "store.h"
#include "util.h"

static const char help[] =
	"usage: ledger mirror URL [--follow] [--json]\n\n"
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
	"  --follow  then keep the copy current: another run after each entry\n"
	"            the server's event stream announces, until SIGTERM or\n"
	"            SIGINT (exit 0) or a refusal (exit 1); a lost connection\n"
	"            is retried every 2 s\n"
	"  --json    {url, origin, added, head, hash} instead of one line\n";

#define MIRROR_PAGE CLI_PAGE_MAX

/* The copy's check failed: the answer is no (exit 1). */
static int say_no(struct cli_ctx *c, struct ldg_err *err)
{
	cli_fail(c, err);
	return CLI_NO;
}

/* GET /api/v1/head: seq, hash and origin of what url serves. */
static int remote_head(const char *url, uint64_t *seq,
		       uint8_t hash[LDG_HASH_BYTES], char *origin,
		       struct ldg_err *err)
{
	json_t *j = NULL, *js;
	const char *h, *o;
	long status = 0;
	int rc = cli_http_get_json(url, "/api/v1/head", &status, &j, err);

	if (rc)
		return rc;
	js = json_object_get(j, "seq");
	h = json_string_value(json_object_get(j, "hash"));
	o = json_string_value(json_object_get(j, "origin"));
	if (status != 200) {
		rc = ldg_err_set(err, -EIO, "%s: GET /api/v1/head answered "
				 "HTTP %ld%s", url, status,
				 status == 404 ? " (not a ledger server)" : "");
	} else if (!json_is_integer(js) || !o ||
		   strlen(o) > LDG_ORIGIN_MAX) {
		rc = ldg_err_set(err, -EIO, "%s: not a ledger server (GET "
				 "/api/v1/head has no seq, hash and origin)",
				 url);
	} else if (json_integer_value(js) <= 0 || !h ||
		   ldg_unhex(h, hash, LDG_HASH_BYTES)) {
		rc = ldg_err_set(err, -EIO, "%s holds no ledger", url);
	} else {
		*seq = (uint64_t)json_integer_value(js);
		strcpy(origin, o);
	}
	json_decref(j);
	return rc;
}

/* The copy's newest entry (seq) must be the server's, byte for byte. */
static int same_entry(const char *url, struct ldg_store *s, uint64_t seq,
		      struct ldg_err *err)
{
	char path[64], *body = NULL;
	const uint8_t *raw;
	struct ldg_read *r;
	long status = 0;
	size_t len, blen = 0;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/entries/%" PRIu64, seq);
	rc = cli_http_get(url, path, "application/msgpack", &status, &body,
			  &blen, err);
	if (rc)
		return rc;
	if (status != 200) {
		free(body);
		if (status == 404)
			return ldg_err_set(err, -ESTALE, "%s no longer has "
					   "entry %" PRIu64 ": its history was "
					   "cut", url, seq);
		return ldg_err_set(err, -EIO, "GET %s answered HTTP %ld", path,
				   status);
	}
	rc = ldg_read_begin(s, &r, err);
	if (!rc) {
		rc = ldg_entry_raw(r, seq, &raw, &len);
		if (rc)
			ldg_err_set(err, rc, "cannot read entry %" PRIu64, seq);
		else if (len != blen || memcmp(raw, body, len))
			rc = ldg_err_set(err, -ESTALE,
					 "entry %" PRIu64 " differs between "
					 "this copy and %s: the served ledger "
					 "was rewritten (or this copy was "
					 "written to)", seq, url);
		ldg_read_end(r);
	}
	free(body);
	return rc;
}

static int print_result(const char *url, const char *origin, uint64_t added,
			uint64_t head, const uint8_t hash[LDG_HASH_BYTES],
			bool json)
{
	char hex[2 * LDG_HASH_BYTES + 1];
	json_t *j;
	char *out;
	size_t len;
	int rc;

	ldg_hex(hash, LDG_HASH_BYTES, hex);
	if (!json) {
		if (added)
			printf("mirrored %" PRIu64 " new entr%s from %s: head "
			       "%" PRIu64 " %s\n", added,
			       added == 1 ? "y" : "ies", url, head, hex);
		else
			printf("up to date with %s: head %" PRIu64 " %s\n",
			       url, head, hex);
		return CLI_OK; /* main() checks stdout */
	}
	j = json_pack("{s:s, s:s, s:I, s:I, s:s}", "url", url, "origin",
		      origin, "added", (json_int_t)added, "head",
		      (json_int_t)head, "hash", hex);
	/* rnd_json_out() takes j, even when it fails */
	if (rnd_json_out(j, &out, &len)) {
		cli_error("mirror: out of memory");
		return CLI_BAD;
	}
	rc = cli_write_out(out, len);
	free(out);
	return rc;
}

/* One run: the prefix checks, then every page after the copy's head.
 * Prints its result (or why not) and returns the exit code. */
static int sync_once(struct cli_ctx *c, const char *url, const char *dir,
		     struct ldg_store *s, bool json, bool quiet_if_none,
		     uint64_t *copied_head)
{
	char origin[LDG_ORIGIN_MAX + 1];
	const uint8_t *bufs[MIRROR_PAGE];
	size_t lens[MIRROR_PAGE];
	uint8_t rhash[LDG_HASH_BYTES], hash[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t rhead = 0, head = 0, added = 0;
	bool tty = isatty(STDERR_FILENO);
	int rc;

	if (remote_head(url, &rhead, rhash, origin, &err))
		return cli_fail(c, &err);
	rc = ldg_read_begin(s, &r, &err);
	if (!rc) {
		rc = ldg_head(r, &head, hash);
		ldg_read_end(r);
		if (rc)
			ldg_err_set(&err, rc, "cannot read the head of %s", dir);
	}
	if (rc)
		return cli_fail(c, &err);
	if (head && strcmp(ldg_store_origin(s), origin)) {
		ldg_err_set(&err, -EINVAL, "%s holds ledger \"%s\"; %s serves "
			    "\"%s\"", dir, ldg_store_origin(s), url, origin);
		return say_no(c, &err);
	}
	if (head > rhead) {
		ldg_err_set(&err, -ESTALE, "this copy has %" PRIu64 " entries, "
			    "%s only %" PRIu64 ": entries were removed from "
			    "the served ledger (or this copy was written "
			    "to)", head, url, rhead);
		return say_no(c, &err);
	}
	rc = head ? same_entry(url, s, head, &err) : 0;
	if (rc)
		return rc == -ESTALE ? say_no(c, &err) : cli_fail(c, &err);
	for (;;) {
		struct ldg_result res = { 0 };
		char *body = NULL;
		bool copied = false;
		size_t n;

		rc = cli_fetch_page(url, head, MIRROR_PAGE, &body, bufs, lens,
				    &n, &err);
		if (!rc && n) {
			rc = ldg_append_copied(s, bufs, lens, n, &res, &err);
			copied = true;
		}
		free(body);
		if (rc) {
			if (tty && added)
				fputc('\n', stderr);
			if (copied)
				ldg_err_prefix(&err, "from %s", url);
			return copied && cli_refused(rc) ? say_no(c, &err)
							: cli_fail(c, &err);
		}
		if (!n)
			break;
		head = res.v[res.n - 1].seq;
		memcpy(hash, res.v[res.n - 1].hash, LDG_HASH_BYTES);
		added += res.n;
		*copied_head = head;
		ldg_result_free(&res);
		if (tty)
			fprintf(stderr, "\rmirror: %" PRIu64 " of %" PRIu64
				" entries", head, head > rhead ? head : rhead);
	}
	if (tty && added)
		fputc('\n', stderr);
	*copied_head = head;
	/* every entry up to the head the server named first is now here,
	 * checked; that head must be the one it named */
	if (head < rhead) {
		ldg_err_set(&err, -ESTALE, "%s named head %" PRIu64 " but "
			    "served entries up to %" PRIu64 " only", url,
			    rhead, head);
		return say_no(c, &err);
	}
	rc = ldg_read_begin(s, &r, &err);
	if (!rc) {
		uint8_t at[LDG_HASH_BYTES];
		rc = ldg_entry_hash_at(r, rhead, at);
		ldg_read_end(r);
		if (rc)
			ldg_err_set(&err, rc, "cannot read entry %" PRIu64,
				    rhead);
		else if (memcmp(at, rhash, LDG_HASH_BYTES))
			rc = ldg_err_set(&err, -ESTALE, "%s named head %" PRIu64
					 " at the start but served another "
					 "entry %" PRIu64 ": the served ledger "
					 "changed during this run (the copy "
					 "holds what was served, checked)", url,
					 rhead, rhead);
	}
	if (rc)
		return rc == -ESTALE ? say_no(c, &err) : cli_fail(c, &err);
	/* on a first copy the origin is entry 1's, not what /head said */
	if (strcmp(ldg_store_origin(s), origin)) {
		ldg_err_set(&err, -EINVAL, "%s named origin \"%s\" but serves "
			    "ledger \"%s\"", url, origin, ldg_store_origin(s));
		return say_no(c, &err);
	}
	if (quiet_if_none && !added)
		return CLI_OK;
	return print_result(url, origin, added, head, hash, json);
}

static volatile sig_atomic_t stop_following;

static void on_stop(int sig)
{
	(void)sig;
	stop_following = 1;
}

/* --follow: after each new entry the server's event stream announces,
 * another run; until SIGTERM or SIGINT (exit 0), or a run that fails
 * (its exit code). A lost connection is retried every 2 s. */
static int follow(struct cli_ctx *c, const char *url, const char *dir,
		  struct ldg_store *s, bool json, uint64_t head)
{
	struct sigaction sa = { .sa_handler = on_stop };
	int rc = CLI_OK;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop_following) {
		struct ldg_err err = { 0 };
		int w = cli_http_wait_event(url, head, &stop_following, &err);

		if (stop_following)
			break;
		if (w < 0) {
			fprintf(stderr, "ledger: mirror: %s; again in 2 s\n",
				err.msg);
			for (int i = 0; i < 20 && !stop_following; i++)
				usleep(100000);
			continue;
		}
		rc = sync_once(c, url, dir, s, json, true, &head);
		if (rc == CLI_BAD) {
			/* unreachable between the event and the pages: the
			 * next event or reconnect tries again */
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
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX];
	struct ldg_err err = { 0 };
	struct ldg_store *s = NULL;
	bool json = false, keep = false;
	uint64_t head = 0;
	const char *url;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'j')
			json = true;
		else if (opt == 'f')
			keep = true;
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected the URL of a ledger server");
	url = argv[optind];
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return cli_usage(c, "\"%.80s\" is not an http:// or https:// "
				 "URL", url);
	rc = cli_ledger_dir(c, dir);
	if (rc)
		return rc;
	if (ldg_store_open(dir, LDG_OPEN_CREATE, &s, &err))
		return cli_fail(c, &err);
	rc = sync_once(c, url, dir, s, json, false, &head);
	if (!rc && keep)
		rc = follow(c, url, dir, s, json, head);
	ldg_store_close(s);
	return rc;
}
