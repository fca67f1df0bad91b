/*
 * api.h - the HTTP API's routes and the parsing of everything a client
 * sends: the path, query parameters, Accept and Last-Event-ID headers, and
 * the --listen address. Pure functions over strings, so they are unit
 * tested without a server (tests/unit/test_srv_api.c).
 *
 *   GET /api/v1/head
 *   GET /api/v1/state            ?at=SEQ  &scope=CLUSTER[/RELEASE]
 *   GET /api/v1/history/CLUSTER[/RELEASE]
 *   GET /api/v1/entries          ?after=SEQ  &limit=N
 *   GET /api/v1/entries/SEQ      (Accept: application/msgpack: raw bytes)
 *   GET /api/v1/entries/SEQ/check
 *   GET /api/v1/verify
 *   GET /api/v1/events           ?after=SEQ  (or Last-Event-ID)
 *   GET /api/v1/releases         ?scope=CLUSTER[/RELEASE]
 *   GET /api/v1/keys
 *   POST /api/v1/entries         a signed entry (msgpack, or JSON draft)
 *   POST /api/v1/drafts          JSON: an entry to sign elsewhere
 *   GET, POST /api/v1/checkpoint the newest published checkpoint
 *
 * Every function returns 0 or a negative errno with the reason in err:
 * -ENOENT (no such route: 404) or -EINVAL (bad input: 400).
 * Thread-safe: the route table is constant.
 */
#ifndef SRV_API_H
#define SRV_API_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "entry.h"
#include "err.h"
#include "names.h"

#define SRV_LIMIT_DEFAULT 100 /* entries per page without ?limit= */
#define SRV_LIMIT_MAX 500     /* larger limits are capped to this */
#define SRV_PATH_MAX 1024     /* longer paths are 404 without parsing */

enum srv_route_id {
	SRV_R_HEAD,
	SRV_R_STATE,
	SRV_R_HISTORY,
	SRV_R_ENTRIES,
	SRV_R_ENTRY,
	SRV_R_VERIFY,
	SRV_R_EVENTS,
	SRV_R_CHECK,
	SRV_R_RELEASES,
	SRV_R_KEYS,
	SRV_R_DRAFTS,
	SRV_R_CHECKPOINT,
};

/* What POST /api/v1/drafts asks for (srv_parse_draft()). Strings point
 * into the parsed JSON: valid until srv_draft_req_free(). */
struct srv_draft_req {
	uint8_t keyid[LDG_KEYID_BYTES];
	enum ldg_kind kind;   /* set, unset, lock, unlock or rollback */
	const char *target;
	struct ldg_kv *kv;    /* set: KEY=VALUE; unset: KEY (value NULL) */
	size_t n;
	uint64_t to;          /* rollback */
	const char *reason;
	bool force;           /* set/unset of a locked target */
	uint8_t *after;       /* lock: built on this signed entry (malloc'd) */
	size_t after_len;
	void *json;           /* owns the strings */
};

/* One parsed request path. */
struct srv_path {
	enum srv_route_id id;
	uint64_t seq;                     /* SRV_R_ENTRY */
	char scope[LDG_TARGET_MAX + 1];   /* SRV_R_HISTORY */
};

/* Parses an API path (already percent-decoded, without the query). */
int srv_route_parse(const char *path, struct srv_path *out,
		    struct ldg_err *err);

/* True when the route answers POST. */
bool srv_route_takes_post(enum srv_route_id id);

/* Parses the JSON body of POST /api/v1/drafts (docs/api.md): names are
 * checked (ldg_check_target, ldg_check_key), lists bounded; -EINVAL with
 * the reason. Free with srv_draft_req_free() (also after an error). */
int srv_parse_draft(const char *body, size_t len, struct srv_draft_req *out,
		    struct ldg_err *err);
void srv_draft_req_free(struct srv_draft_req *d);

/* Parses the JSON form of POST /api/v1/entries, {"draft": BASE64,
 * "signature": BASE64}: the draft's bytes with the signature put in its
 * place (*out, malloc'd; caller frees). -EINVAL with the reason; the
 * entry itself is checked by the writer. */
int srv_parse_signed_draft(const char *body, size_t len, uint8_t **out,
			   size_t *outlen, struct ldg_err *err);

/* The JSON form of POST /api/v1/entries, one entry or a batch
 * {"batch": [{"draft", "signature"}, ...]} of up to max: each one's
 * signed bytes in outs (malloc'd; caller frees), *n of them; *batch
 * when it was the batch form (even of one). -EINVAL with the reason
 * (naming the batch item); nothing to free then. */
int srv_parse_signed_batch(const char *body, size_t len, uint8_t **outs,
			   size_t *lens, size_t max, size_t *n, bool *batch,
			   struct ldg_err *err);

/* True when the route takes a query parameter of that name. */
bool srv_route_param_ok(enum srv_route_id id, const char *name);

/* "at", "after": a decimal seq; zero_ok allows 0 (after=0: from the
 * start). name is for the message. */
int srv_parse_seq(const char *name, const char *s, bool zero_ok,
		  uint64_t *out, struct ldg_err *err);

/* ?limit=: 1.. (NULL: SRV_LIMIT_DEFAULT); above SRV_LIMIT_MAX capped. */
int srv_parse_limit(const char *s, uint64_t *out, struct ldg_err *err);

/* ?scope=: CLUSTER or CLUSTER/RELEASE. */
int srv_parse_scope(const char *s, struct ldg_err *err);

/* True when an Accept header names application/msgpack (parameters and
 * case of the media type ignored, q=0 honoured as "not acceptable"). */
bool srv_accepts_msgpack(const char *accept);

/* "ADDR:PORT" with a numeric IPv4 address or "[IPv6]:PORT"; port 0 asks
 * the kernel for a free one. Fills *ss and *len for bind(2). */
int srv_parse_listen(const char *arg, struct sockaddr_storage *ss,
		     socklen_t *len, struct ldg_err *err);

/* True for 127.0.0.0/8 and ::1. */
bool srv_addr_is_loopback(const struct sockaddr_storage *ss);

#define SRV_ALLOW_HOSTS_MAX 16 /* --allow-host NAME, repeated */

/* --allow-host NAME: a DNS name (letters, digits, '-', dots) or a
 * numeric address, without port. -EINVAL with the reason. */
int srv_check_allow_host(const char *name, struct ldg_err *err);

/* Whether a request's Host header (NULL: none, as HTTP/1.0 may send) is
 * one this server answers to, against DNS rebinding: HOST or HOST:PORT
 * ([IPv6] in brackets), the port not compared (a tunnel may change it),
 * where HOST is the listen address (any address when it listens on a
 * wildcard; any loopback one when it listens on loopback), "localhost"
 * when it listens on loopback or a wildcard, or one of the n allowed
 * names (case ignored, a final dot too). Numeric addresses are parsed
 * with getaddrinfo(AI_NUMERICHOST). */
bool srv_host_ok(const char *host, const struct sockaddr_storage *listen,
		 const char *const *allowed, size_t n);

#endif
