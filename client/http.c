/*
 * http.c - the HTTP calls of the client (libcurl): one request with its
 * answer in memory, and the wait on the event stream.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_impl.h"

#define ANSWER_MAX (16u << 20) /* no sane answer is larger */

struct body {
	char *p;
	size_t n;
	size_t max; /* the most bytes taken; 0: ANSWER_MAX */
	bool overflow;
	char type[128]; /* its Content-Type, "" when none */
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *cls)
{
	struct body *b = cls;
	size_t n = size * nmemb;
	char *grown;

	if (b->n + n > (b->max ? b->max : ANSWER_MAX)) {
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

struct clt_conn {
	CURL *h;
};

struct clt_conn *clt_conn_open(void)
{
	struct clt_conn *c = calloc(1, sizeof(*c));

	if (c && !(c->h = curl_easy_init())) {
		free(c);
		c = NULL;
	}
	return c;
}

void clt_conn_close(struct clt_conn *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->h);
	free(c);
}

/* One request; the answer's body in *b. post: the body, of Content-Type
 * type, or NULL for a GET. keep (may be NULL): the connection to use,
 * left open. -EIO with the reason when the server cannot be reached. */
static int perform(struct clt_conn *keep, const char *base, const char *path,
		   const char *accept, const char *type, const uint8_t *post,
		   size_t len, long *status, struct body *b,
		   struct ldg_err *err)
{
	struct curl_slist *hdr = NULL;
	char url[4096], ah[96];
	CURLcode cc;
	CURL *h;

	snprintf(url, sizeof(url), "%s%s%s", base,
		 base[0] && base[strlen(base) - 1] == '/' ? path + 1 : "",
		 base[0] && base[strlen(base) - 1] == '/' ? "" : path);
	if (keep) {
		/* the options go; the open connection stays */
		h = keep->h;
		curl_easy_reset(h);
	} else {
		h = curl_easy_init();
	}
	if (!h)
		return ldg_err_set(err, -ENOMEM, "cannot start libcurl");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* a static host may compress (C2SP tlog-tiles asks clients to
	 * take gzip): curl decodes what it offers; a bucket or CDN may
	 * redirect (what it serves is checked whoever serves it) */
	if (b->max) {
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
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
	if (!keep)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	if (cc != CURLE_OK) {
		free(b->p);
		b->p = NULL;
		b->n = 0;
		if (b->overflow)
			return ldg_err_set(err, -EPROTO,
					   "the answer from %s is "
					   "larger than %zu bytes",
					   url, b->max ? b->max : ANSWER_MAX);
		return ldg_err_set(err, -EIO, "cannot reach %s: %s", url,
				   curl_easy_strerror(cc));
	}
	return 0;
}

int clt_http_json(const char *base, const char *path, const char *type,
		  const uint8_t *post, size_t len, long *status, json_t **out,
		  struct ldg_err *err)
{
	struct body b = { 0 };
	int rc = perform(NULL, base, path, "application/json", type, post, len,
			 status, &b, err);

	*out = NULL;
	if (!rc && b.p)
		*out = json_loadb(b.p, b.n, 0, NULL);
	free(b.p);
	return rc;
}

int clt_http_get(const char *base, const char *path, const char *accept,
		 long *status, char **body, size_t *len, struct ldg_err *err)
{
	struct body b = { 0 };
	size_t al = strlen(accept);
	int rc = perform(NULL, base, path, accept, NULL, NULL, 0, status, &b,
			 err);

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

int clt_http_static(struct clt_conn *c, const char *base, const char *path,
		    size_t max, long *status, char **body, size_t *len,
		    struct ldg_err *err)
{
	struct body b = { .max = max };
	int rc = perform(c, base, path, "*/*", NULL, NULL, 0, status, &b, err);

	*body = b.p;
	*len = b.n;
	return rc;
}

int clt_http_text(const char *base, const char *path, const char *post,
		  size_t len, long *status, char **body, size_t *blen,
		  char type[128], struct ldg_err *err)
{
	struct body b = { 0 };
	int rc = perform(NULL, base, path, "text/plain, text/x.tlog.size",
			 "text/plain; charset=utf-8", (const uint8_t *)post,
			 len, status, &b, err);

	snprintf(type, 128, "%s", b.type);
	*body = b.p;
	*blen = b.n;
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

static int on_progress(void *cls, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct event_wait *w = cls;

	return *w->stop ? 1 : 0;
}

int clt_wait_event(const char *base, uint64_t after,
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

int clt_server_error(long status, json_t *j, int code, struct ldg_err *err)
{
	const char *msg = json_string_value(json_object_get(j, "error"));
	const char *rule = json_string_value(json_object_get(j, "rule"));

	if (!msg)
		return ldg_err_set(err, code, "the server answered HTTP %ld",
				   status);
	ldg_err_set(err, code, "%s", msg);
	/* the rule that refused, for the front end's advice (err.h) */
	if (err)
		err->why = ldg_why_by_name(rule);
	return code;
}
