/*
 * notify.c - the delivery side of `ledger notify` (notify.h): the
 * cursor file, one signed POST to a webhook, and the waits between
 * tries.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "notify.h"
#include "util.h"

int clt_cursor_read(const char *path, uint64_t *seq, struct ldg_err *err)
{
	char buf[32];
	size_t len = 0;
	int rc;

	rc = ldg_read_small(path, "a cursor file", buf, sizeof(buf), &len, NULL,
			    err);
	if (rc)
		return rc;
	/* exactly what clt_cursor_write() writes: digits and a newline */
	if (len < 2 || buf[len - 1] != '\n')
		return ldg_err_set(err, -EINVAL,
				   "%s: not a cursor file (one line, the seq "
				   "of the last entry delivered)",
				   path);
	buf[len - 1] = '\0';
	if (ldg_parse_dec(buf, 0, INT64_MAX, seq))
		return ldg_err_set(err, -EINVAL,
				   "%s: not a cursor file (one line, the seq "
				   "of the last entry delivered)",
				   path);
	return 0;
}

int clt_cursor_write(const char *path, uint64_t seq, struct ldg_err *err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%" PRIu64 "\n", seq);
	int rc = ldg_write_atomic(path, line, (size_t)n, 0644);

	if (rc)
		return ldg_err_set(err, rc,
				   "cannot write the cursor file %s: %s", path,
				   strerror(-rc));
	return 0;
}

int clt_cursor_default(const char *origin, const char *webhook, char *out,
		       size_t len, struct ldg_err *err)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	uint8_t hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	char hex[2 * sizeof(hash) + 1];
	int n;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)origin, strlen(origin));
	crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&st, (const uint8_t *)webhook,
				  strlen(webhook));
	crypto_hash_sha256_final(&st, hash);
	ldg_hex(hash, 8, hex);
	if (xdg && *xdg)
		n = snprintf(out, len, "%s/ledger/notify-%s", xdg, hex);
	else if (home && *home)
		n = snprintf(out, len, "%s/.local/state/ledger/notify-%s", home,
			     hex);
	else
		return ldg_err_set(err, -ENOENT,
				   "no place for the cursor file: neither "
				   "XDG_STATE_HOME nor HOME is set");
	if (n < 0 || (size_t)n >= len)
		return ldg_err_set(err, -ENAMETOOLONG,
				   "the cursor file's path is too long");
	return 0;
}

void clt_notify_sign(const uint8_t *secret, size_t secret_len, const char *body,
		     size_t len, char out[CLT_SIG_HEADER_MAX])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, secret, secret_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	memcpy(out, "sha256=", 7);
	ldg_hex(mac, sizeof(mac), out + 7);
}

int clt_hook_name(const char *url, char *out, size_t len)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (!strcmp(scheme, "http") || !strcmp(scheme, "https"))) {
		/* no port when the URL gives none */
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		snprintf(out, len, "%s://%s%s%s", scheme, host, port ? ":" : "",
			 port ? port : "");
		rc = 0;
	}
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* The start of the answer's body, for a log line. */
static size_t on_answer(char *p, size_t size, size_t nmemb, void *cls)
{
	struct clt_hook_answer *a = cls;
	size_t n = size * nmemb, have = strlen(a->text);
	size_t room = sizeof(a->text) - 1 - have;

	memcpy(a->text + have, p, n < room ? n : room);
	a->text[have + (n < room ? n : room)] = '\0';
	return n;
}

static int on_progress(void *cls, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	volatile sig_atomic_t *stop = cls;

	return *stop ? 1 : 0;
}

/* Appends header h to *list; -ENOMEM, *list unchanged, when libcurl
 * cannot (its NULL would drop the list built so far). */
static int add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *grown = curl_slist_append(*list, h);

	if (!grown)
		return -ENOMEM;
	*list = grown;
	return 0;
}

int clt_notify_post(const char *url, const char *body, size_t len, uint64_t seq,
		    const uint8_t *secret, size_t secret_len, long timeout_s,
		    volatile sig_atomic_t *stop, struct clt_hook_answer *out,
		    struct ldg_err *err)
{
	struct curl_slist *hdr = NULL;
	char line[32 + CLT_SIG_HEADER_MAX];
	struct curl_header *ra;
	curl_off_t after = -1;
	CURLcode cc;
	CURL *h;
	int rc;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	h = curl_easy_init();
	if (!h)
		return ldg_err_set(err, -ENOMEM, "cannot start libcurl");
	/* a header that is missing is no request: never a POST without
	 * its signature */
	rc = add_header(&hdr, "Content-Type: application/json");
	snprintf(line, sizeof(line), "X-Ledger-Seq: %" PRIu64, seq);
	if (!rc)
		rc = add_header(&hdr, line);
	if (!rc && secret) {
		memcpy(line, "X-Ledger-Signature: ", 20);
		clt_notify_sign(secret, secret_len, body, len, line + 20);
		rc = add_header(&hdr, line);
	}
	/* no "Expect: 100-continue" round trip for a large body */
	if (!rc)
		rc = add_header(&hdr, "Expect:");
	if (rc) {
		rc = ldg_err_set(err, -ENOMEM,
				 "cannot build the request: out of memory");
		goto out_cleanup;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ledger-notify");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, stop);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* a redirect would resend the body elsewhere: the answer is the
	 * webhook's, as it is */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		/* libcurl reads both forms, seconds and an HTTP date; it
		 * says 0 for none too, so whether there was one is asked */
		if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1,
				     &ra) == CURLHE_OK &&
		    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) ==
			    CURLE_OK &&
		    after >= 0)
			out->retry_after = after > CLT_RETRY_AFTER_MAX
						   ? CLT_RETRY_AFTER_MAX
						   : (long)after;
	}
	if (cc != CURLE_OK)
		rc = ldg_err_set(err, -EIO, "%s",
				 *stop ? "stopped" : curl_easy_strerror(cc));
out_cleanup:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	sodium_memzero(line, sizeof(line));
	return rc;
}

enum clt_hook_verdict clt_hook_judge(long status)
{
	if (status >= 200 && status < 300)
		return CLT_HOOK_TAKEN;
	if (status >= 400 && status < 500 && status != 429)
		return CLT_HOOK_SKIP;
	return CLT_HOOK_RETRY;
}

unsigned clt_backoff_unit_ms(void)
{
#ifdef LDG_TEST_CLOCK
	/* a build for tests only (meson -Dtest_clock=true): retries in
	 * milliseconds, not seconds */
	const char *v = getenv("LEDGER_NOTIFY_BACKOFF_MS");
	uint64_t ms;

	if (v && !ldg_parse_dec(v, 1, 60000, &ms))
		return (unsigned)ms;
#endif
	return 1000;
}

uint64_t clt_backoff_ms(unsigned failures, long retry_after, unsigned unit_ms)
{
	uint64_t units = CLT_BACKOFF_CAP;

	if (retry_after >= 0)
		units = retry_after > CLT_RETRY_AFTER_MAX
				? CLT_RETRY_AFTER_MAX
				: (uint64_t)retry_after;
	else if (failures <= 6)
		units = (uint64_t)1
			<< (failures ? failures - 1 : 0); /* 1..32 */
	return units * unit_ms;
}
