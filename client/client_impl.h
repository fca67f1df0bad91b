/*
 * client_impl.h - what the files of client/ share with each other, not
 * with their callers (those use client.h): the HTTP calls (http.c) and
 * the head with its keyring and locks (pull.c).
 */
#ifndef CLT_CLIENT_IMPL_H
#define CLT_CLIENT_IMPL_H

#include <jansson.h>

#include "authz.h"
#include "client.h"

/* GET base+path with Accept: accept; the status, and the body in
 * *body (malloc'd, NUL-terminated, *len bytes without the NUL; NULL when
 * empty). -EIO with the reason when the server cannot be reached,
 * -EPROTO when a 200 answer is not of type accept or is over 16 MiB. */
int clt_http_get(const char *base, const char *path, const char *accept,
		 long *status, char **body, size_t *len, struct ldg_err *err);

/* A connection kept open between requests to one host (HTTP keep-alive:
 * one TCP and TLS handshake for the many files of a tiles host). NULL
 * when libcurl cannot start; clt_conn_close(NULL) does nothing. */
struct clt_conn;
struct clt_conn *clt_conn_open(void);
void clt_conn_close(struct clt_conn *c);

/* GET base+path from a static host (a tiles host: nginx, a bucket)
 * over c (NULL: a connection of its own): any Content-Type, gzip
 * taken, redirects followed; at most max bytes (1..). The status, and
 * the body as clt_http_get() gives it. -EIO unreachable, -EPROTO an
 * answer over max bytes. */
int clt_http_static(struct clt_conn *c, const char *base, const char *path,
		    size_t max, long *status, char **body, size_t *len,
		    struct ldg_err *err);

/* Whether an error of ldg_append_copied() means "the served entries
 * are not valid here" (the answer is no), not an environment problem. */
bool clt_refused(int rc);

/* A request whose answer is text (a C2SP witness's): a GET when post is
 * NULL, else a POST of len bytes of text/plain. The status, the body
 * as clt_http_get() gives it, and the answer's Content-Type in type
 * ("" when none). */
int clt_http_text(const char *base, const char *path, const char *post,
		  size_t len, long *status, char **body, size_t *blen,
		  char type[128], struct ldg_err *err);

/* A request whose answer is JSON: a GET when post is NULL, else a POST
 * of len bytes of Content-Type type. The status, and the answer in
 * *out (NULL when it is not JSON; caller frees with json_decref()). */
int clt_http_json(const char *base, const char *path, const char *type,
		  const uint8_t *post, size_t len, long *status, json_t **out,
		  struct ldg_err *err);

/* code, with the server's "error" text of answer j, or the status when
 * it gives none; err->why the rule its "rule" names (docs/api.md). */
int clt_server_error(long status, json_t *j, int code, struct ldg_err *err);

/* clt_head_get(), and the keyring and locks the head names ("authz",
 * base64 of STATE, docs/api.md) into *az: *have_az false from a server
 * older than entry version 2 (it gives none, and takes version 1
 * entries). az may be NULL. */
int clt_head_authz(const char *base, struct clt_head *out, struct ldg_authz *az,
		   bool *have_az, struct ldg_err *err);

#endif
