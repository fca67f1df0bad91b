#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "api.h"
#include "tlog.h"
#include "util.h"
#include "value.h"

int srv_path_match(const struct srv_pattern *pat, const char *path,
		   struct srv_path *out, struct ldg_err *err)
{
	size_t n = strlen(pat->prefix), sl;
	const char *tail = path + n;
	char seq[24];

	memset(out, 0, sizeof(*out));
	if (pat->shape == SRV_EXACT)
		return strcmp(path, pat->prefix) ? -ENOENT : 0;
	if (strncmp(path, pat->prefix, n) || !*tail)
		return -ENOENT;
	/* what is not a tile's path is not there, as on a static host */
	if (pat->shape == SRV_TAIL_TILE)
		return ldg_tile_path_parse(tail, &out->level, &out->n,
					   &out->width)
			       ? -ENOENT
			       : 0;
	if (pat->shape == SRV_TAIL_SCOPE) {
		if (strlen(tail) > LDG_TARGET_MAX)
			return ldg_err_set(err, -EINVAL,
					   "not a cluster or target: too long");
		snprintf(out->scope, sizeof(out->scope), "%s", tail);
		return srv_parse_scope(out->scope, err);
	}
	sl = strcspn(tail, "/");
	if (strcmp(tail + sl, pat->suffix))
		return -ENOENT;
	if (sl >= sizeof(seq))
		return ldg_err_set(err, -EINVAL,
				   "entry: expected a sequence number 1..2^63");
	memcpy(seq, tail, sl);
	seq[sl] = '\0';
	return srv_parse_seq("entry", seq, false, &out->seq, err);
}

int srv_parse_seq(const char *name, const char *s, bool zero_ok, uint64_t *out,
		  struct ldg_err *err)
{
	if (s && zero_ok && !strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	/* docs/api.md: no leading zeros (ldg_parse_seq() takes them) */
	if (ldg_parse_seq(s, out) || s[0] == '0')
		return ldg_err_set(err, -EINVAL,
				   "%s: expected a sequence number %s2^63",
				   name, zero_ok ? "0.." : "1..");
	return 0;
}

int srv_parse_limit(const char *s, uint64_t *out, struct ldg_err *err)
{
	uint64_t v;

	if (!s) {
		*out = SRV_LIMIT_DEFAULT;
		return 0;
	}
	if (ldg_parse_seq(s, &v))
		return ldg_err_set(err, -EINVAL,
				   "limit: expected a number 1..%d",
				   SRV_LIMIT_MAX);
	*out = v > SRV_LIMIT_MAX ? SRV_LIMIT_MAX : v;
	return 0;
}

int srv_parse_scope(const char *s, struct ldg_err *err)
{
	int rc = strchr(s, '/') ? ldg_check_target(s, err)
				: ldg_check_cluster(s, err);

	return rc ? -EINVAL : 0;
}

/* True when the parameters of one Accept element ([;] k=v ...) hold
 * q=0 (or 0.0, 0.000): "not acceptable". */
static bool q_zero(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = semi ? semi : end;

		while (p < e && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		if (e - p >= 2 && tolower((unsigned char)p[0]) == 'q' &&
		    p[1] == '=') {
			const char *v = p + 2;
			if (v < e && *v == '0') {
				v++;
				if (v < e && *v == '.')
					v++;
				while (v < e && *v == '0')
					v++;
				while (v < e && (*v == ' ' || *v == '\t'))
					v++;
				return v == e;
			}
			return false;
		}
		p = semi ? semi + 1 : end;
	}
	return false;
}

bool srv_accepts_msgpack(const char *accept)
{
	static const char want[] = "application/msgpack";
	const char *p = accept;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *type_end;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		type_end = p;
		while (type_end < end && *type_end != ';' && *type_end != ' ' &&
		       *type_end != '\t')
			type_end++;
		if ((size_t)(type_end - p) == strlen(want) &&
		    !strncasecmp(p, want, strlen(want)) &&
		    !q_zero(type_end, end))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* A numeric host of family (AF_UNSPEC: either) and, unless port is
 * NULL, a numeric port, into *ss and *len (getaddrinfo, AI_NUMERICHOST |
 * AI_NUMERICSERV: nothing is looked up): 0 or -1. No AI_PASSIVE: the
 * host is never NULL (a wildcard is spelled 0.0.0.0 or [::]). */
static int numeric_addr(const char *host, const char *port, int family,
			struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_family = family,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int bad_listen(struct ldg_err *err, const char *arg)
{
	return ldg_err_set(err, -EINVAL,
			   "--listen %s: expected ADDR:PORT with a numeric "
			   "address, e.g. 127.0.0.1:8080 or [::1]:8080",
			   arg);
}

int srv_parse_listen(const char *arg, struct sockaddr_storage *ss,
		     socklen_t *len, struct ldg_err *err)
{
	char host[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
	const char *start = arg, *colon, *port;
	bool v6 = arg[0] == '[';
	unsigned long p;
	size_t hl;

	if (v6) {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return bad_listen(err, arg);
		start = arg + 1;
		colon = close + 1;
		hl = (size_t)(close - start);
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return bad_listen(err, arg);
		hl = (size_t)(colon - arg);
	}
	if (hl == 0 || hl >= sizeof(host))
		return bad_listen(err, arg);
	memcpy(host, start, hl);
	host[hl] = '\0';
	/* decimal digits up to 65535: AI_NUMERICSERV would also take a
	 * sign, spaces or nothing, and wrap 65536 to 0 */
	port = colon + 1;
	if (!*port || strspn(port, "0123456789") != strlen(port))
		return bad_listen(err, arg);
	errno = 0;
	p = strtoul(port, NULL, 10);
	if (errno || p > 65535 ||
	    numeric_addr(host, port, v6 ? AF_INET6 : AF_INET, ss, len))
		return bad_listen(err, arg);
	/* one spelling per address, as the docs say: getaddrinfo also takes
	 * inet_aton's 127.1, 0x7f.0.0.1 or 017.0.0.1 (octal: 15.0.0.1) and
	 * ::ffff:1.2.3.4 as IPv4 (so IPv4 is its canonical dotted quad),
	 * and IPv6 zones (fe80::1%eth0), which no URL or Host check here
	 * handles */
	if (v6)
		return strchr(host, '%') ? bad_listen(err, arg) : 0;
	if (getnameinfo((const struct sockaddr *)ss, *len, canon, sizeof(canon),
			NULL, 0, NI_NUMERICHOST) ||
	    strcmp(canon, host))
		return bad_listen(err, arg);
	return 0;
}

bool srv_addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	return false;
}

/* The address bytes of an IPv4 or IPv6 socket address (*len 4 or 16),
 * or NULL. */
static const uint8_t *addr_bytes(const struct sockaddr_storage *ss, size_t *len)
{
	*len = ss->ss_family == AF_INET ? 4 : 16;
	if (ss->ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)ss)
			->sin_addr;
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
	return NULL;
}

/* 0.0.0.0 or :: (every address of the host). */
static bool addr_is_any(const struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];
	size_t len;
	const uint8_t *b = addr_bytes(ss, &len);

	return b && !memcmp(b, zero, len);
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	size_t alen, blen;
	const uint8_t *ab = addr_bytes(a, &alen), *bb = addr_bytes(b, &blen);

	return ab && bb && a->ss_family == b->ss_family &&
	       !memcmp(ab, bb, alen);
}

/* A DNS name: labels of letters, digits and '-', joined by dots. */
static bool is_dns_name(const char *s, size_t len)
{
	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int srv_check_allow_host(const char *name, struct ldg_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (is_dns_name(name, strlen(name)) ||
	    numeric_addr(name, NULL, AF_UNSPEC, &ss, &len) == 0)
		return 0;
	return ldg_err_set(err, -EINVAL,
			   "--allow-host %.200s: expected a host name (letters, "
			   "digits, '-', dots) or a numeric address, without "
			   "port",
			   name);
}

/* Equal names, case and one final dot ignored. */
static bool same_name(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen && a[alen - 1] == '.')
		alen--;
	if (blen && b[blen - 1] == '.')
		blen--;
	return alen == blen && !strncasecmp(a, b, alen);
}

bool srv_host_ok(const char *host, const struct sockaddr_storage *listen,
		 const char *const *allowed, size_t n)
{
	char name[256];
	const char *end, *port;
	struct sockaddr_storage ss;
	bool bracketed = host && host[0] == '[';
	socklen_t sslen;
	size_t len;

	if (!host)
		return true;
	if (bracketed) {
		end = strchr(host, ']');
		if (!end)
			return false;
		host++;
		port = end + 1;
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
		port = end;
	}
	if (*port == ':') {
		port++;
		if (!*port || strlen(port) > 5 ||
		    strspn(port, "0123456789") != strlen(port))
			return false;
	} else if (*port) {
		return false;
	}
	len = (size_t)(end - host);
	if (len == 0 || len >= sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	if (numeric_addr(name, NULL, AF_UNSPEC, &ss, &sslen) == 0) {
		/* brackets for IPv6 only, and only then */
		if ((ss.ss_family == AF_INET6) != bracketed)
			return false;
		if (addr_is_any(listen) || same_addr(&ss, listen))
			return true;
		if (srv_addr_is_loopback(listen) && srv_addr_is_loopback(&ss))
			return true;
	} else if (is_dns_name(name, len) &&
		   (srv_addr_is_loopback(listen) || addr_is_any(listen)) &&
		   same_name(name, len, "localhost")) {
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (same_name(name, len, allowed[i]))
			return true;
	return false;
}

/* ---- POST bodies ---- */

#define DRAFT_KEYS_MAX 1000 /* an entry's most changes */

static json_t *parse_object(const char *body, size_t len, struct ldg_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (!j) {
		ldg_err_set(err, -EINVAL, "malformed JSON at line %d: %s",
			    je.line, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		ldg_err_set(err, -EINVAL, "expected a JSON object");
		return NULL;
	}
	return j;
}

/* A member that must be a string (when present). */
static int get_str(json_t *o, const char *name, bool required, const char **out,
		   struct ldg_err *err)
{
	json_t *m = json_object_get(o, name);

	*out = NULL;
	if (!m)
		return required ? ldg_err_set(err, -EINVAL, "\"%s\" is missing",
					      name)
				: 0;
	if (!json_is_string(m))
		return ldg_err_set(err, -EINVAL, "\"%s\" must be a string",
				   name);
	if (strlen(json_string_value(m)) != json_string_length(m))
		return ldg_err_set(err, -EINVAL,
				   "\"%s\" contains a NUL character", name);
	*out = json_string_value(m);
	return 0;
}

/* Members the kind takes, beyond signer, kind, target and reason. */
static bool member_ok(enum ldg_kind kind, const char *name)
{
	static const char *common[] = { "signer", "kind", "target", "reason" };

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (!strcmp(name, common[i]))
			return true;
	switch (kind) {
	case LDG_KIND_SET:
		return !strcmp(name, "changes") || !strcmp(name, "force") ||
		       !strcmp(name, "emergency");
	case LDG_KIND_UNSET:
		return !strcmp(name, "keys") || !strcmp(name, "force") ||
		       !strcmp(name, "emergency");
	case LDG_KIND_APPROVE:
	case LDG_KIND_WITHDRAW:
		return !strcmp(name, "proposal");
	case LDG_KIND_ROLLBACK:
		return !strcmp(name, "to");
	case LDG_KIND_LOCK:
		return !strcmp(name, "after");
	default:
		return false;
	}
}

/* Adds KEY=VALUE (a string, borrowed from the request's JSON), KEY (value
 * NULL) or, type LDG_V_JSON, KEY and a typed value's canonical text
 * (malloc'd: the request owns it from here, also on failure). */
static int add_kv(struct srv_draft_req *d, const char *key, char *value,
		  enum ldg_vtype type, struct ldg_err *err)
{
	struct ldg_kv *grown;
	int rc = -EINVAL;

	if (ldg_check_key(key, err))
		goto out_free;
	if (value && type == LDG_V_STR &&
	    ldg_check_value(value, strlen(value), err))
		goto out_free;
	if (d->n == DRAFT_KEYS_MAX) {
		ldg_err_set(err, -EINVAL, "more than %d keys", DRAFT_KEYS_MAX);
		goto out_free;
	}
	grown = realloc(d->kv, (d->n + 1) * sizeof(*grown));
	if (!grown) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_free;
	}
	d->kv = grown;
	grown[d->n].key = (char *)key;
	grown[d->n].value = value;
	grown[d->n].type = type;
	d->n++;
	return 0;
out_free:
	if (type == LDG_V_JSON)
		free(value);
	return rc;
}

/* The value of KEY in "changes": a JSON string is a string value; any
 * other JSON value is a typed value (docs/api.md), canonicalised by the
 * library as `ledger set T KEY:=JSON` is (value.h), so the page and the
 * CLI write the same bytes for the same value. */
static int add_change(struct srv_draft_req *d, const char *key, json_t *v,
		      struct ldg_err *err)
{
	enum ldg_vtype type;
	char *json, *text;
	int rc;

	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) != json_string_length(v))
			return ldg_err_set(err, -EINVAL,
					   "\"changes\": the value of %.64s "
					   "contains a NUL character",
					   key);
		return add_kv(d, key, (char *)json_string_value(v), LDG_V_STR,
			      err);
	}
	json = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!json)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_value_from_json(json, &type, &text, err);
	free(json);
	if (rc) {
		ldg_err_prefix(err, "\"changes\": %.64s", key);
		return rc;
	}
	return add_kv(d, key, text, type, err);
}

static int signed_from_object(json_t *o, uint8_t **out, size_t *outlen,
			      struct ldg_err *err);

int srv_parse_draft(const char *body, size_t len, struct srv_draft_req *d,
		    struct ldg_err *err)
{
	const char *signer, *kind, *name;
	json_t *o, *m;
	size_t hl;

	memset(d, 0, sizeof(*d));
	o = parse_object(body, len, err);
	if (!o)
		return -EINVAL;
	d->json = o;
	if (get_str(o, "signer", true, &signer, err) ||
	    get_str(o, "kind", true, &kind, err) ||
	    get_str(o, "target", true, &d->target, err) ||
	    get_str(o, "reason", true, &d->reason, err))
		return -EINVAL;
	if (sodium_hex2bin(d->keyid, sizeof(d->keyid), signer, strlen(signer),
			   NULL, &hl, NULL) ||
	    hl != LDG_KEYID_BYTES || strlen(signer) != 2 * LDG_KEYID_BYTES)
		return ldg_err_set(err, -EINVAL,
				   "\"signer\": expected a key id of 8 hex "
				   "digits");
	if (ldg_kind_parse(kind, &d->kind) ||
	    (d->kind != LDG_KIND_SET && d->kind != LDG_KIND_UNSET &&
	     d->kind != LDG_KIND_LOCK && d->kind != LDG_KIND_UNLOCK &&
	     d->kind != LDG_KIND_ROLLBACK && d->kind != LDG_KIND_APPROVE &&
	     d->kind != LDG_KIND_WITHDRAW))
		return ldg_err_set(err, -EINVAL,
				   "\"kind\": expected set, unset, lock, "
				   "unlock, rollback, approve or withdraw");
	json_object_foreach(o, name, m)
	{
		if (!member_ok(d->kind, name))
			return ldg_err_set(err, -EINVAL,
					   "unknown member \"%.64s\" for %s",
					   name, kind);
	}
	if (ldg_check_target(d->target, err) ||
	    ldg_check_reason(d->reason, err))
		return -EINVAL;
	m = json_object_get(o, "force");
	if (m && !json_is_boolean(m))
		return ldg_err_set(err, -EINVAL,
				   "\"force\" must be true or false");
	d->force = m && json_is_true(m);
	m = json_object_get(o, "emergency");
	if (m && !json_is_boolean(m))
		return ldg_err_set(err, -EINVAL,
				   "\"emergency\" must be true or false");
	d->emergency = m && json_is_true(m);
	if (d->kind == LDG_KIND_SET) {
		json_t *v;
		m = json_object_get(o, "changes");
		if (!json_is_object(m) || !json_object_size(m))
			return ldg_err_set(err, -EINVAL,
					   "\"changes\": expected an object "
					   "of KEY: VALUE");
		json_object_foreach(m, name, v)
		{
			int rc = add_change(d, name, v, err);
			if (rc)
				return rc;
		}
	} else if (d->kind == LDG_KIND_UNSET) {
		size_t i;
		json_t *v;
		m = json_object_get(o, "keys");
		if (!json_is_array(m) || !json_array_size(m))
			return ldg_err_set(err, -EINVAL,
					   "\"keys\": expected an array of "
					   "key names");
		json_array_foreach(m, i, v)
		{
			if (!json_is_string(v))
				return ldg_err_set(err, -EINVAL,
						   "\"keys\": expected an "
						   "array of key names");
			if (add_kv(d, json_string_value(v), NULL, LDG_V_STR,
				   err))
				return -EINVAL;
		}
	} else if (d->kind == LDG_KIND_LOCK && json_object_get(o, "after")) {
		if (signed_from_object(json_object_get(o, "after"), &d->after,
				       &d->after_len, err)) {
			ldg_err_prefix(err, "\"after\"");
			return -EINVAL;
		}
	} else if (d->kind == LDG_KIND_ROLLBACK) {
		m = json_object_get(o, "to");
		if (!json_is_integer(m) || json_integer_value(m) < 1)
			return ldg_err_set(err, -EINVAL,
					   "\"to\": expected the seq to roll "
					   "back to");
		d->to = (uint64_t)json_integer_value(m);
	} else if (d->kind == LDG_KIND_APPROVE ||
		   d->kind == LDG_KIND_WITHDRAW) {
		m = json_object_get(o, "proposal");
		if (!json_is_integer(m) || json_integer_value(m) < 1)
			return ldg_err_set(err, -EINVAL,
					   "\"proposal\": expected the seq of "
					   "a pending proposal");
		d->proposal = (uint64_t)json_integer_value(m);
	}
	return 0;
}

void srv_draft_req_free(struct srv_draft_req *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->kv[i].type == LDG_V_JSON)
			free(d->kv[i].value);
	free(d->kv);
	free(d->after);
	json_decref(d->json);
	memset(d, 0, sizeof(*d));
}

/* Decodes a base64 member (standard alphabet, padded). */
static int get_b64(json_t *o, const char *name, size_t max, uint8_t **out,
		   size_t *len, struct ldg_err *err)
{
	const char *s;
	size_t sl;

	if (get_str(o, name, true, &s, err))
		return -EINVAL;
	sl = strlen(s);
	*out = malloc(sl / 4 * 3 + 3);
	if (!*out)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if (sodium_base642bin(*out, sl / 4 * 3 + 3, s, sl, NULL, len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    *len > max) {
		free(*out);
		*out = NULL;
		return ldg_err_set(err, -EINVAL, "\"%s\": not base64%s", name,
				   *len > max ? " of the right size" : "");
	}
	return 0;
}

/* {"draft": BASE64, "signature": BASE64} into the signed entry bytes
 * (*out, malloc'd). */
static int signed_from_object(json_t *o, uint8_t **out, size_t *outlen,
			      struct ldg_err *err)
{
	uint8_t *sig = NULL;
	size_t sl = 0;
	const char *name;
	json_t *m;
	int rc = 0;

	*out = NULL;
	if (!json_is_object(o))
		return ldg_err_set(err, -EINVAL,
				   "expected an object "
				   "{\"draft\", \"signature\"}");
	json_object_foreach(o, name, m)
	{
		if (strcmp(name, "draft") && strcmp(name, "signature"))
			return ldg_err_set(err, -EINVAL,
					   "unknown member \"%.64s\": send "
					   "{\"draft\", \"signature\"}",
					   name);
	}
	rc = get_b64(o, "draft", LDG_ENTRY_MAX, out, outlen, err);
	if (!rc)
		rc = get_b64(o, "signature", LDG_SIG_BYTES, &sig, &sl, err);
	if (!rc && sl != LDG_SIG_BYTES)
		rc = ldg_err_set(err, -EINVAL,
				 "\"signature\": expected %d bytes, got %zu",
				 LDG_SIG_BYTES, sl);
	if (!rc && ldg_entry_put_sig(*out, *outlen, sig))
		rc = ldg_err_set(err, -EINVAL,
				 "\"draft\": not an entry from "
				 "POST /api/v1/drafts");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	free(sig);
	return rc;
}

int srv_parse_signed_draft(const char *body, size_t len, uint8_t **out,
			   size_t *outlen, struct ldg_err *err)
{
	json_t *o = parse_object(body, len, err);
	int rc;

	*out = NULL;
	if (!o)
		return -EINVAL;
	rc = signed_from_object(o, out, outlen, err);
	json_decref(o);
	return rc;
}

int srv_parse_signed_batch(const char *body, size_t len, uint8_t **outs,
			   size_t *lens, size_t max, size_t *n, bool *batch,
			   struct ldg_err *err)
{
	json_t *o = parse_object(body, len, err), *b, *item;
	size_t i;
	int rc = 0;

	*n = 0;
	*batch = false;
	if (!o)
		return -EINVAL;
	b = json_object_get(o, "batch");
	*batch = b != NULL;
	if (!b) {
		rc = signed_from_object(o, &outs[0], &lens[0], err);
		*n = rc ? 0 : 1;
		json_decref(o);
		return rc;
	}
	if (json_object_size(o) != 1 || !json_is_array(b) ||
	    !json_array_size(b) || json_array_size(b) > max)
		rc = ldg_err_set(err, -EINVAL,
				 "\"batch\": expected 1 to %zu "
				 "objects {\"draft\", \"signature\"}, and "
				 "nothing beside it",
				 max);
	json_array_foreach(b, i, item)
	{
		if (rc)
			break;
		rc = signed_from_object(item, &outs[i], &lens[i], err);
		if (rc)
			ldg_err_prefix(err, "batch item %zu", i);
		else
			*n = i + 1;
	}
	if (rc) {
		for (i = 0; i < *n; i++) {
			free(outs[i]);
			outs[i] = NULL;
		}
		*n = 0;
	}
	json_decref(o);
	return rc;
}
