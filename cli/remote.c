#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "names.h"
#include "remote.h"
#include "util.h"

#define ANSWER_MAX (16u << 20) /* no sane answer is larger */

struct body {
	char *p;
	size_t n;
	bool overflow;
	char type[128]; /* its Content-Type, "" when none */
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *cls)
{
	struct body *b = cls;
	size_t n = size * nmemb;
	char *grown;

	if (b->n + n > ANSWER_MAX) {
		b->overflow = true;
		return 0;
	}
	grown = realloc(b->p, b->n + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->n, p, n);
	b->p = grown;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* One request; the answer's body in *b. post: the body, of Content-Type
 * type, or NULL for a GET. -EIO with the reason when the server cannot
 * be reached. */
static int perform(const char *base, const char *path, const char *accept,
		   const char *type, const uint8_t *post, size_t len,
		   long *status, struct body *b, struct ldg_err *err)
{
	struct curl_slist *hdr = NULL;
	char url[4096], ah[96];
	CURLcode cc;
	CURL *h;

	snprintf(url, sizeof(url), "%s%s%s", base,
		 base[0] && base[strlen(base) - 1] == '/' ? path + 1 : "",
		 base[0] && base[strlen(base) - 1] == '/' ? "" : path);
	h = curl_easy_init();
	if (!h)
		return ldg_err_set(err, -ENOMEM, "cannot start libcurl");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	snprintf(ah, sizeof(ah), "Accept: %s", accept);
	hdr = curl_slist_append(hdr, ah);
	if (post) {
		char ct[64];
		snprintf(ct, sizeof(ct), "Content-Type: %s", type);
		hdr = curl_slist_append(hdr, ct);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		char *ct = NULL;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(b->type, sizeof(b->type), "%s", ct ? ct : "");
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	if (cc != CURLE_OK) {
		free(b->p);
		b->p = NULL;
		b->n = 0;
		if (b->overflow)
			return ldg_err_set(err, -EPROTO, "the answer from %s is "
					   "larger than %u MiB", url,
					   ANSWER_MAX >> 20);
		return ldg_err_set(err, -EIO, "cannot reach %s: %s", url,
				   curl_easy_strerror(cc));
	}
	return 0;
}

/* One request; the answer's JSON in *out (NULL when it is not JSON). */
static int http_as(const char *base, const char *path, const char *type,
		   const uint8_t *post, size_t len, long *status, json_t **out,
		   struct ldg_err *err)
{
	struct body b = { 0 };
	int rc = perform(base, path, "application/json", type, post, len,
			 status, &b, err);

	*out = NULL;
	if (!rc && b.p)
		*out = json_loadb(b.p, b.n, 0, NULL);
	free(b.p);
	return rc;
}

int cli_http_get(const char *base, const char *path, const char *accept,
		 long *status, char **body, size_t *len, struct ldg_err *err)
{
	struct body b = { 0 };
	size_t al = strlen(accept);
	int rc = perform(base, path, accept, NULL, NULL, 0, status, &b, err);

	/* a 200 in another format is a proxy's page or another server */
	if (!rc && *status == 200 &&
	    (strncasecmp(b.type, accept, al) ||
	     (b.type[al] && b.type[al] != ';'))) {
		rc = ldg_err_set(err, -EPROTO, "GET %s answered %s, not %s",
				 path, b.type[0] ? b.type : "no Content-Type",
				 accept);
		free(b.p);
		b.p = NULL;
		b.n = 0;
	}
	*body = b.p;
	*len = b.n;
	return rc;
}

/* What the event stream's callbacks share. */
struct event_wait {
	volatile sig_atomic_t *stop;
	bool seen;
	char line[16]; /* the start of the current line */
	size_t at;
};

/* Looks for an "id:" line; ends the transfer (returns short) once seen. */
static size_t on_event(char *p, size_t size, size_t nmemb, void *cls)
{
	struct event_wait *w = cls;
	size_t n = size * nmemb;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			w->at = 0;
			continue;
		}
		if (w->at < sizeof(w->line))
			w->line[w->at++] = p[i];
		if (w->at == 3 && !memcmp(w->line, "id:", 3)) {
			w->seen = true;
			return 0;
		}
	}
	return n;
}

static int on_progress(void *cls, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	struct event_wait *w = cls;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return *w->stop ? 1 : 0;
}

int cli_http_wait_event(const char *base, uint64_t after,
			volatile sig_atomic_t *stop, struct ldg_err *err)
{
	struct event_wait w = { .stop = stop };
	struct curl_slist *hdr = NULL;
	char url[4096];
	CURLcode cc;
	CURL *h;

	snprintf(url, sizeof(url), "%s%sapi/v1/events?after=%llu", base,
		 base[0] && base[strlen(base) - 1] == '/' ? "" : "/",
		 (unsigned long long)after);
	h = curl_easy_init();
	if (!h)
		return ldg_err_set(err, -ENOMEM, "cannot start libcurl");
	hdr = curl_slist_append(hdr, "Accept: text/event-stream");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_event);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* the server comments every few seconds: a minute of silence is a
	 * dead connection */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	cc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	if (w.seen)
		return 0;
	if (*stop)
		return 1;
	return ldg_err_set(err, -EIO, "the event stream of %s %s", base,
			   cc == CURLE_OK ? "ended" : curl_easy_strerror(cc));
}

int cli_http_get_json(const char *base, const char *path, long *status,
		      json_t **out, struct ldg_err *err)
{
	return http_as(base, path, NULL, NULL, 0, status, out, err);
}

/* A GET, or a POST of entry bytes. */
static int http(const char *base, const char *path, const uint8_t *post,
		size_t len, long *status, json_t **out, struct ldg_err *err)
{
	return http_as(base, path, "application/msgpack", post, len, status,
		       out, err);
}

/* The server's "error" text, or the status. */
static int server_error(long status, json_t *j, int code,
			struct ldg_err *err)
{
	const char *msg = json_string_value(json_object_get(j, "error"));

	if (msg)
		return ldg_err_set(err, code, "%s", msg);
	return ldg_err_set(err, code, "the server answered HTTP %ld", status);
}

static int compare_values(const void *a, const void *b)
{
	return strcmp(((const struct ldg_value *)a)->key,
		      ((const struct ldg_value *)b)->key);
}

/* The target's values and lock at seq at (0: the head); *exists whether
 * the target has entries up to there. */
static int fetch_state(const char *base, const char *target, uint64_t at,
		       struct ldg_values *out, bool *exists,
		       struct ldg_err *err)
{
	json_t *j = NULL, *t, *vals, *v;
	const char *k;
	char path[256];
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (at)
		snprintf(path, sizeof(path), "/api/v1/state?at=%llu&scope=%s",
			 (unsigned long long)at, target);
	else
		snprintf(path, sizeof(path), "/api/v1/state?scope=%s", target);
	rc = http(base, path, NULL, 0, &status, &j, err);
	if (rc)
		return rc;
	if (status != 200) {
		rc = server_error(status, j, status == 404 ? -ENOENT : -EIO,
				  err);
		goto out_json;
	}
	t = json_object_get(json_object_get(j, "targets"), target);
	if (exists)
		*exists = t != NULL;
	vals = json_object_get(t, "values");
	out->lock_seq = (uint64_t)json_integer_value(
		json_object_get(json_object_get(t, "locked"), "seq"));
	out->v = calloc(json_object_size(vals) + 1, sizeof(*out->v));
	if (!out->v) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_json;
	}
	json_object_foreach(vals, k, v) {
		struct ldg_value *e = &out->v[out->n];
		e->key = strdup(k);
		e->value = strdup(json_string_value(v) ? json_string_value(v)
						       : "");
		out->n++;
		if (!e->key || !e->value) {
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
			goto out_json;
		}
	}
	qsort(out->v, out->n, sizeof(*out->v), compare_values);
out_json:
	json_decref(j);
	if (rc)
		ldg_values_free(out);
	return rc;
}

/* The keyring and locks a server's head gives ("authz", base64 of
 * STATE), into *az; *have false from a server older than entry version 2
 * (it gives none, and takes version 1 entries). */
static int head_authz(const char *base, json_t *j, struct ldg_authz *az,
		      bool *have, struct ldg_err *err)
{
	const char *s = json_string_value(json_object_get(j, "authz"));
	size_t len = s ? strlen(s) : 0, blen;
	uint8_t *buf;
	int rc = 0;

	*have = s != NULL;
	if (!s)
		return 0;
	buf = malloc(len / 4 * 3 + 3);
	if (!buf)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if (sodium_base642bin(buf, len / 4 * 3 + 3, s, len, NULL, &blen, NULL,
			      sodium_base64_VARIANT_ORIGINAL))
		rc = -EBADMSG;
	else
		rc = ldg_authz_decode(buf, blen, az, err);
	free(buf);
	if (rc)
		return ldg_err_set(err, -EIO, "%s: its head's \"authz\" is "
				   "not a keyring and locks state", base);
	return 0;
}

/* The head: its seq, hash, the ledger's origin, and its keyring and
 * locks (*have_az). */
static int fetch_head(const char *base, char *origin, uint64_t *head,
		      uint8_t hash[LDG_HASH_BYTES], struct ldg_authz *az,
		      bool *have_az, struct ldg_err *err)
{
	json_t *j = NULL;
	const char *s;
	long status = 0;
	int rc;

	rc = http(base, "/api/v1/head", NULL, 0, &status, &j, err);
	if (rc)
		return rc;
	if (status != 200 || !json_is_integer(json_object_get(j, "seq"))) {
		rc = server_error(status, j, -EIO, err);
		goto out_json;
	}
	*head = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	s = json_string_value(json_object_get(j, "origin"));
	snprintf(origin, LDG_ORIGIN_MAX + 1, "%s", s ? s : "");
	s = json_string_value(json_object_get(j, "hash"));
	if (*head == 0 || !s || ldg_unhex(s, hash, LDG_HASH_BYTES))
		rc = ldg_err_set(err, -EIO, "%s holds no ledger", base);
	else
		rc = head_authz(base, j, az, have_az, err);
out_json:
	json_decref(j);
	return rc;
}

int cli_fetch_page(const char *url, uint64_t after, size_t limit,
		   char **body, const uint8_t **bufs, size_t *lens, size_t *n,
		   struct ldg_err *err)
{
	char path[96];
	size_t blen = 0;
	long status = 0;
	int rc;

	*n = 0;
	*body = NULL;
	if (limit > CLI_PAGE_MAX)
		limit = CLI_PAGE_MAX;
	snprintf(path, sizeof(path), "/api/v1/entries?after=%llu&limit=%zu",
		 (unsigned long long)after, limit);
	rc = cli_http_get(url, path, "application/msgpack", &status, body,
			  &blen, err);
	if (rc)
		return rc;
	if (status != 200)
		return ldg_err_set(err, -EIO, "GET %s answered HTTP %ld", path,
				   status);
	if (!*body || ldg_batch_split((const uint8_t *)*body, blen, limit,
				      bufs, lens, n, err)) {
		ldg_err_prefix(err, "GET %s", path);
		return -EPROTO;
	}
	return 0;
}

/* ---- a checked copy ---- */

bool cli_refused(int rc)
{
	return rc == -EBADMSG || rc == -ESTALE || rc == -EACCES ||
	       rc == -EBUSY || rc == -EPERM || rc == -EINVAL ||
	       rc == -EEXIST || rc == -ENOENT;
}

struct cli_copy {
	char dir[PATH_MAX];
	const char *base;
	struct ldg_store *s;
	uint64_t head;
	uint8_t hash[LDG_HASH_BYTES];
};

int cli_copy_open(struct cli_ctx *c, struct cli_copy **out,
		  struct ldg_err *err)
{
	const char *tmp = getenv("TMPDIR");
	struct cli_copy *cp = calloc(1, sizeof(*cp));
	int rc;

	*out = NULL;
	if (!cp)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	cp->base = c->remote;
	snprintf(cp->dir, sizeof(cp->dir), "%s/ledger-copy-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(cp->dir)) {
		rc = ldg_err_set(err, -errno, "cannot create a private "
				 "directory in $TMPDIR: %s", strerror(errno));
		free(cp);
		return rc;
	}
	rc = ldg_store_open(cp->dir, LDG_OPEN_CREATE, &cp->s, err);
	if (rc) {
		ldg_store_unmake(cp->dir, true, true, true);
		free(cp);
		return rc;
	}
	*out = cp;
	return 0;
}

int cli_copy_sync(struct cli_copy *cp, uint64_t head,
		  const uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err)
{
	const uint8_t *bufs[CLI_PAGE_MAX];
	size_t lens[CLI_PAGE_MAX];
	char origin[LDG_ORIGIN_MAX + 1];
	uint8_t now[LDG_HASH_BYTES];
	int rc = 0;

	if (!head) {
		struct ldg_authz az;
		bool have_az = false;

		/* the copy replays keyring and locks itself */
		ldg_authz_init(&az);
		rc = fetch_head(cp->base, origin, &head, now, &az, &have_az,
				err);
		ldg_authz_free(&az);
		if (rc)
			return rc;
		hash = now;
	}
	if (head < cp->head)
		return ldg_err_set(err, -EPERM, "%s named head %llu after "
				   "serving %llu entries: its history was cut",
				   cp->base, (unsigned long long)head,
				   (unsigned long long)cp->head);
	while (cp->head < head && !rc) {
		struct ldg_result res = { 0 };
		char *body = NULL;
		size_t n = 0;

		rc = cli_fetch_page(cp->base, cp->head, head - cp->head, &body,
				    bufs, lens, &n, err);
		if (!rc && n == 0)
			rc = ldg_err_set(err, -EPERM, "%s named head %llu but "
					 "served entries up to %llu only",
					 cp->base, (unsigned long long)head,
					 (unsigned long long)cp->head);
		if (!rc) {
			rc = ldg_append_copied(cp->s, bufs, lens, n, &res, err);
			if (rc)
				ldg_err_prefix(err, "from %s", cp->base);
			if (cli_refused(rc)) {
				rc = -EPERM;
				if (err)
					err->code = rc;
			}
		}
		if (!rc) {
			cp->head = res.v[res.n - 1].seq;
			memcpy(cp->hash, res.v[res.n - 1].hash,
			       LDG_HASH_BYTES);
		}
		ldg_result_free(&res);
		free(body);
	}
	/* the head the entries will be built on is the copy's */
	if (!rc && memcmp(cp->hash, hash, LDG_HASH_BYTES))
		rc = ldg_err_set(err, -EPERM, "%s named entry %llu with "
				 "another hash than the entry it serves",
				 cp->base, (unsigned long long)head);
	return rc;
}

struct ldg_store *cli_copy_store(struct cli_copy *cp)
{
	return cp->s;
}

void cli_copy_close(struct cli_copy *cp)
{
	if (!cp)
		return;
	ldg_store_close(cp->s);
	ldg_store_unmake(cp->dir, true, true, true);
	free(cp);
}

/* Exponential backoff with full jitter (a random wait up to 4 ms,
 * doubling per try, capped at 8 s): the writers that keep losing spread
 * out, so the contention thins instead of repeating in lockstep. The cap
 * is well past a try's length on a slow machine: capped at 1 s, 16
 * writers on a loaded 2-core machine (each try taking longer) left one
 * losing 30 tries in a row. */
static void backoff(int attempt)
{
	long cap = 4L << (attempt < 11 ? attempt : 11);
	long ms = 1 + rand() % cap;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* What one batch may hold: `ledger serve`'s limits (serve/writer.h,
 * and its 1 MiB body for msgpack). */
#define BATCH_MAX 64
#define BATCH_BYTES (1u << 20)

/* What a try built: the entries, sealed one on another from the head. */
struct built {
	struct ldg_entry **e;
	uint8_t **bytes;
	size_t *lens, n;
};

static void built_free(struct built *b)
{
	for (size_t i = 0; i < b->n; i++) {
		ldg_entry_free(b->e[i]);
		free(b->bytes[i]);
	}
	free(b->e);
	free(b->bytes);
	free(b->lens);
	memset(b, 0, sizeof(*b));
}

/* Plans every target on its state at the head and seals the entries,
 * each on the one before it. b->n 0: nothing to do. */
static int build(const char *base, const char *const *targets, size_t nt,
		 const struct ldg_signer *k, cli_plan_fn plan, void *arg,
		 struct built *b, struct ldg_err *err)
{
	char origin[LDG_ORIGIN_MAX + 1];
	uint8_t prev[LDG_HASH_BYTES];
	struct ldg_authz az;
	bool have_az = false;
	uint64_t head = 0;
	int rc;

	b->e = calloc(nt * CLI_PLAN_MAX, sizeof(*b->e));
	b->bytes = calloc(nt * CLI_PLAN_MAX, sizeof(*b->bytes));
	b->lens = calloc(nt * CLI_PLAN_MAX, sizeof(*b->lens));
	if (!b->e || !b->bytes || !b->lens)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	ldg_authz_init(&az);
	rc = fetch_head(base, origin, &head, prev, &az, &have_az, err);
	for (size_t i = 0; !rc && i < nt; i++) {
		struct ldg_values now;
		size_t made = 0;
		rc = fetch_state(base, targets[i], head, &now, NULL, err);
		if (!rc)
			rc = plan(i, head, prev, &now, arg, b->e + b->n, &made,
				  err);
		ldg_values_free(&now);
		b->n += made;
	}
	if (!rc && b->n > BATCH_MAX)
		rc = ldg_err_set(err, -E2BIG, "%zu entries: a remote write "
				 "sends at most %d in one batch (roll back "
				 "fewer targets at a time)", b->n, BATCH_MAX);
	for (size_t i = 0; !rc && i < b->n; i++) {
		rc = ldg_entry_seal(b->e[i], head + i, prev, origin,
				    have_az ? &az : NULL, k, &b->bytes[i],
				    &b->lens[i], err);
		if (!rc)
			ldg_entry_hash(b->bytes[i], b->lens[i], prev);
	}
	ldg_authz_free(&az);
	return rc;
}

/* The body of a POST of b: one entry's bytes, or a msgpack array of bin
 * (a batch, one transaction on the server). */
static int batch_body(const struct built *b, uint8_t **body, size_t *len,
		      struct ldg_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int bad;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bad = msgpack_pack_array(&pk, b->n);
	for (size_t i = 0; !bad && i < b->n; i++)
		bad = msgpack_pack_bin(&pk, b->lens[i]) ||
		      msgpack_pack_bin_body(&pk, b->bytes[i], b->lens[i]);
	if (bad) {
		msgpack_sbuffer_destroy(&sb);
		return ldg_err_set(err, -ENOMEM, "out of memory");
	}
	if (sb.size > BATCH_BYTES) {
		msgpack_sbuffer_destroy(&sb);
		return ldg_err_set(err, -E2BIG, "the batch is %zu bytes: a "
				   "server takes at most %u", sb.size,
				   BATCH_BYTES);
	}
	*body = (uint8_t *)sb.data;
	*len = sb.size;
	return 0;
}

/* A 201's entries into res: they must be the ones sent. */
static int take_result(const struct built *b, json_t *j,
		       struct ldg_result *res, struct ldg_err *err)
{
	json_t *arr = json_object_get(j, "entries");

	if (b->n > 1 && json_array_size(arr) != b->n)
		return ldg_err_set(err, -EIO, "the server's answer does not "
				   "name the entries sent");
	res->v = calloc(b->n, sizeof(*res->v));
	if (!res->v)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	res->n = b->n;
	for (size_t i = 0; i < b->n; i++) {
		json_t *one = b->n == 1 ? j : json_array_get(arr, i);
		const char *hs = json_string_value(json_object_get(one, "hash"));
		uint8_t mine[LDG_HASH_BYTES];

		res->v[i].seq = (uint64_t)json_integer_value(
			json_object_get(one, "seq"));
		res->v[i].kind = b->e[i]->kind;
		snprintf(res->v[i].target, sizeof(res->v[i].target), "%s",
			 b->e[i]->target);
		ldg_entry_hash(b->bytes[i], b->lens[i], mine);
		if (res->v[i].seq != b->e[i]->seq || !hs ||
		    ldg_unhex(hs, res->v[i].hash, LDG_HASH_BYTES) ||
		    memcmp(mine, res->v[i].hash, LDG_HASH_BYTES))
			return ldg_err_set(err, -EIO, "the server's answer "
					   "does not name the entries sent");
	}
	return 0;
}

/* One try: 1 when the head moved, 2 when the server asks to slow down
 * (429), 0 done, else a negative errno. */
static int try_once(const char *base, const char *const *targets, size_t nt,
		    const struct ldg_signer *k, cli_plan_fn plan, void *arg,
		    struct ldg_result *res, struct ldg_err *err)
{
	struct built b = { 0 };
	uint8_t *body = NULL;
	json_t *j = NULL;
	long status = 0;
	size_t len = 0;
	int rc;

	rc = build(base, targets, nt, k, plan, arg, &b, err);
	if (rc || b.n == 0)
		goto out; /* an error, or nothing to do */
	if (b.n > 1)
		rc = batch_body(&b, &body, &len, err);
	if (!rc)
		rc = http(base, "/api/v1/entries", body ? body : b.bytes[0],
			  body ? len : b.lens[0], &status, &j, err);
	if (rc)
		goto out;
	switch (status) {
	case 201:
		rc = take_result(&b, j, res, err);
		break;
	case 409:
		rc = 1;
		break;
	case 429:
		rc = 2;
		break;
	case 403:
		rc = server_error(status, j, -EACCES, err);
		break;
	case 423:
		rc = server_error(status, j, -EBUSY, err);
		/* the server's sentence names the lock; the advice is ours */
		if (err)
			err->why = LDG_WHY_LOCKED;
		break;
	case 400:
	case 422:
		rc = server_error(status, j, -EINVAL, err);
		break;
	default:
		rc = server_error(status, j, -EIO, err);
	}
out:
	json_decref(j);
	free(body);
	built_free(&b);
	return rc;
}

int cli_remote_write_many(struct cli_ctx *c, const struct cli_write_opts *w,
			  const char *const *targets, size_t nt,
			  cli_plan_fn plan, void *arg, struct ldg_result *res)
{
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	if (nt == 0)
		return cli_usage(c, "no target to write");
	for (size_t i = 0; i < nt; i++)
		if (ldg_check_target(targets[i], &err))
			return cli_fail(c, &err);
	rc = cli_signer(c, w->keyfile, &k);
	if (rc)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		ldg_signer_free(k);
		ldg_err_set(&err, -EIO, "cannot initialise libcurl");
		return cli_fail(c, &err);
	}
	srand((unsigned)(time(NULL) ^ getpid()));
	rc = 1;
	for (int i = 0, slowed = 0; i < CLI_REMOTE_TRIES && rc > 0;) {
		if (rc == 2) {
			/* over the server's POST rate: its Retry-After is at
			 * least a second; the try does not count */
			sleep(1);
			if (++slowed == CLI_REMOTE_TRIES)
				break;
		} else if (i) {
			backoff(i);
		}
		ldg_result_free(res);
		rc = try_once(c->remote, targets, nt, k, plan, arg, res, &err);
		if (rc == 1)
			i++;
	}
	if (rc == 2)
		ldg_err_set(&err, -EAGAIN,
			    "%s: too many requests (429) %d times; gave up",
			    c->remote, CLI_REMOTE_TRIES);
	if (rc == 1)
		ldg_err_set(&err, -EAGAIN,
			    "%s: the head kept moving; gave up after %d tries",
			    c->remote, CLI_REMOTE_TRIES);
	curl_global_cleanup();
	ldg_signer_free(k);
	return rc ? cli_fail(c, &err) : CLI_OK;
}

/* cli_remote_write()'s one draft as a plan. */
struct one_draft {
	cli_draft_fn draft;
	void *arg;
};

static int plan_one(size_t i, uint64_t head,
		    const uint8_t hash[LDG_HASH_BYTES],
		    const struct ldg_values *now, void *arg,
		    struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	struct one_draft *d = arg;
	int rc = d->draft(now, d->arg, &out[0], err);

	(void)i;
	(void)head;
	(void)hash;
	*n = !rc && out[0];
	return rc;
}

int cli_remote_write(struct cli_ctx *c, const struct cli_write_opts *w,
		     const char *target, cli_draft_fn draft, void *arg,
		     struct ldg_result *res)
{
	struct one_draft d = { draft, arg };

	return cli_remote_write_many(c, w, &target, 1, plan_one, &d, res);
}

int cli_remote_checkpoint(struct cli_ctx *c, const struct ldg_signer *k,
			  char **note, uint64_t *size, struct ldg_err *err)
{
	uint8_t root[LDG_HASH_BYTES];
	json_t *j = NULL;
	const char *origin, *rh;
	long status = 0;
	int rc;

	*note = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ldg_err_set(err, -EIO, "cannot initialise libcurl");
	/* the tree head the server's full check proves, as a local
	 * `ledger checkpoint` signs only what verify proves */
	rc = http(c->remote, "/api/v1/verify", NULL, 0, &status, &j, err);
	if (rc)
		goto out;
	if (status == 200 && json_is_false(json_object_get(j, "ok"))) {
		json_t *bad = json_object_get(j, "bad_seq");
		const char *problem =
			json_string_value(json_object_get(j, "problem"));
		rc = ldg_err_set(err, -EPERM,
				 "refusing to sign: the ledger at %s does not "
				 "verify (%s%lld: %.300s)",
				 c->remote, json_is_integer(bad) ? "entry " : "",
				 json_is_integer(bad)
					 ? (long long)json_integer_value(bad)
					 : 0LL,
				 problem ? problem : "?");
		goto out;
	}
	origin = json_string_value(json_object_get(j, "origin"));
	rh = json_string_value(json_object_get(j, "root"));
	*size = (uint64_t)json_integer_value(json_object_get(j, "head"));
	if (status != 200 || !origin || !rh ||
	    ldg_unhex(rh, root, LDG_HASH_BYTES) || *size == 0) {
		rc = status != 200 ? server_error(status, j, -EIO, err)
				   : ldg_err_set(err, -EIO,
						 "%s holds no ledger",
						 c->remote);
		goto out;
	}
	rc = ldg_checkpoint_make(origin, *size, root, k, note, err);
	json_decref(j);
	j = NULL;
	if (rc)
		goto out;
	for (int i = 0; i < CLI_REMOTE_TRIES; i++) {
		json_decref(j);
		j = NULL;
		rc = http_as(c->remote, "/api/v1/checkpoint", "text/plain",
			     (const uint8_t *)*note, strlen(*note), &status,
			     &j, err);
		if (rc || status != 429)
			break;
		sleep(1); /* over the POST rate: Retry-After is a second */
	}
	if (!rc && status != 201)
		rc = server_error(status, j,
				  status == 403 ? -EACCES
				  : status == 409 ? -ESTALE
				  : status == 405 || status == 404 ? -ENOTSUP
								   : -EIO,
				  err);
out:
	if (rc) {
		free(*note);
		*note = NULL;
	}
	json_decref(j);
	curl_global_cleanup();
	return rc;
}
