/*
 * api.h - the parsing of everything a client sends: the shape of a path
 * (the routes themselves are the table in route.h), query parameters,
 * Accept and Last-Event-ID headers, the Host header, the bodies of POST
 * /api/v1/drafts and of JSON POST /api/v1/entries, and the --listen
 * address. Pure functions over strings, so they are unit tested without
 * a server (tests/unit/test_srv_api.c) and fuzzed alone
 * (tests/fuzz/fuzz_api.c).
 *
 * Every function returns 0 or a negative errno with the reason in err:
 * -ENOENT (no such route: 404) or -EINVAL (bad input: 400).
 * Thread-safe: nothing is kept between calls.
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

/* The forms a route's path takes (struct srv_pattern). */
enum srv_shape {
	SRV_EXACT,	/* the path is the prefix */
	SRV_TAIL_SEQ,	/* the prefix, one SEQ segment, then the suffix */
	SRV_TAIL_SCOPE, /* the prefix, then CLUSTER or CLUSTER/RELEASE */
	SRV_TAIL_TILE,	/* the prefix, then a C2SP tile path (tlog.h) */
};

/* The path of one route. */
struct srv_pattern {
	const char *prefix; /* a tail shape's ends with '/' */
	enum srv_shape shape;
	const char *suffix; /* SRV_TAIL_SEQ: what follows the seq ("" none) */
};

/* What a path carries beyond its route. */
struct srv_path {
	uint64_t seq;			/* SRV_TAIL_SEQ */
	char scope[LDG_TARGET_MAX + 1]; /* SRV_TAIL_SCOPE */
	int level;			/* SRV_TAIL_TILE: tlog.h's */
	uint64_t n;
	unsigned width;
};

/* What POST /api/v1/drafts asks for (srv_parse_draft()). Strings point
 * into the parsed JSON, a typed value's canonical text is the request's
 * own: all valid until srv_draft_req_free(). */
struct srv_draft_req {
	uint8_t keyid[LDG_KEYID_BYTES];
	enum ldg_kind kind; /* set, unset, lock, unlock, rollback, approve or
			     * withdraw */
	const char *target;
	struct ldg_kv *kv; /* set: KEY=VALUE or KEY:=JSON; unset: KEY (value
			    * NULL) */
	size_t n;
	uint64_t to; /* rollback */
	const char *reason;
	bool force;	/* set/unset of a locked target */
	bool emergency; /* set/unset: metadata emergency (docs/format.md 8b) */
	uint64_t proposal; /* approve, withdraw */
	uint8_t *after;	   /* lock: built on this signed entry (malloc'd) */
	size_t after_len;
	void *json; /* owns the strings */
};

/* Whether path (already percent-decoded, without the query) has the
 * form of pat: 0 with what it carries in *out; -ENOENT when it has
 * another form; -EINVAL when it has this form with a bad seq (0, leading
 * zeros, above 2^63) or scope, the reason in err. */
int srv_path_match(const struct srv_pattern *pat, const char *path,
		   struct srv_path *out, struct ldg_err *err);

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

/* "at", "after": a decimal seq; zero_ok allows 0 (after=0: from the
 * start). name is for the message. */
int srv_parse_seq(const char *name, const char *s, bool zero_ok, uint64_t *out,
		  struct ldg_err *err);

/* ?limit=: 1.. (NULL: SRV_LIMIT_DEFAULT); above SRV_LIMIT_MAX capped. */
int srv_parse_limit(const char *s, uint64_t *out, struct ldg_err *err);

/* ?scope=: CLUSTER or CLUSTER/RELEASE. */
int srv_parse_scope(const char *s, struct ldg_err *err);

/* True when an Accept header names application/msgpack (parameters and
 * case of the media type ignored, q=0 honoured as "not acceptable"). */
bool srv_accepts_msgpack(const char *accept);

/* "ADDR:PORT" with a numeric IPv4 address (a dotted quad: getaddrinfo's
 * other spellings, 127.1 or 0x7f.0.0.1, are refused) or "[IPv6]:PORT"
 * (no zone), PORT decimal 0..65535; port 0 asks the kernel for a free
 * one. Parsed by getaddrinfo(AI_NUMERICHOST | AI_NUMERICSERV): no name
 * is looked up. Fills *ss and *len for bind(2); -EINVAL with the
 * reason (docs/api.md). */
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
