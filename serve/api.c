#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "util.h"

enum shape {
	EXACT,      /* the path is the pattern */
	TAIL_SEQ,   /* pattern, then one SEQ segment */
	TAIL_SCOPE, /* pattern, then CLUSTER or CLUSTER/RELEASE */
};

/* The route table: pattern, shape, and the query parameters it takes.
 * A tail route's pattern ends with '/'. */
static const struct route {
	const char *pattern;
	enum shape shape;
	enum srv_route_id id;
	const char *params[3];
} routes[] = {
	{ "/api/v1/head", EXACT, SRV_R_HEAD, { NULL } },
	{ "/api/v1/state", EXACT, SRV_R_STATE, { "at", "scope", NULL } },
	{ "/api/v1/history/", TAIL_SCOPE, SRV_R_HISTORY, { NULL } },
	{ "/api/v1/entries", EXACT, SRV_R_ENTRIES, { "after", "limit", NULL } },
	{ "/api/v1/entries/", TAIL_SEQ, SRV_R_ENTRY, { NULL } },
	{ "/api/v1/verify", EXACT, SRV_R_VERIFY, { NULL } },
	{ "/api/v1/events", EXACT, SRV_R_EVENTS, { "after", NULL } },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

int srv_route_parse(const char *path, struct srv_path *out,
		    struct ldg_err *err)
{
	memset(out, 0, sizeof(*out));
	if (strlen(path) > SRV_PATH_MAX)
		return ldg_err_set(err, -ENOENT, "no such resource");
	for (size_t i = 0; i < N_ROUTES; i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->pattern);
		const char *tail = path + n;

		if (rt->shape == EXACT) {
			if (strcmp(path, rt->pattern))
				continue;
		} else if (strncmp(path, rt->pattern, n) || !*tail) {
			continue;
		}
		out->id = rt->id;
		if (rt->shape == TAIL_SEQ) {
			if (strchr(tail, '/'))
				return ldg_err_set(err, -ENOENT,
						   "no such resource");
			return srv_parse_seq("entry", tail, false, &out->seq,
					     err);
		}
		if (rt->shape == TAIL_SCOPE) {
			if (strlen(tail) > LDG_TARGET_MAX)
				return ldg_err_set(err, -EINVAL,
						   "not a cluster or target: "
						   "too long");
			snprintf(out->scope, sizeof(out->scope), "%s", tail);
			return srv_parse_scope(out->scope, err);
		}
		return 0;
	}
	return ldg_err_set(err, -ENOENT, "no such resource");
}

bool srv_route_param_ok(enum srv_route_id id, const char *name)
{
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (routes[i].id != id)
			continue;
		for (size_t k = 0; routes[i].params[k]; k++)
			if (!strcmp(routes[i].params[k], name))
				return true;
	}
	return false;
}

int srv_parse_seq(const char *name, const char *s, bool zero_ok,
		  uint64_t *out, struct ldg_err *err)
{
	if (s && zero_ok && !strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (ldg_parse_seq(s, out))
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
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port;
	unsigned long p;
	char *end;
	size_t hl;
	bool v6 = arg[0] == '[';

	if (v6) {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return bad_listen(err, arg);
		hl = (size_t)(close - arg - 1);
		colon = close + 1;
		arg++;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return bad_listen(err, arg);
		hl = (size_t)(colon - arg);
	}
	if (hl == 0 || hl >= sizeof(host))
		return bad_listen(err, arg - v6);
	memcpy(host, arg, hl);
	host[hl] = '\0';
	port = colon + 1;
	if (*port < '0' || *port > '9')
		return bad_listen(err, arg - v6);
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p > 65535)
		return bad_listen(err, arg - v6);
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return bad_listen(err, arg - v6);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return bad_listen(err, arg);
		*len = sizeof(*a);
	}
	return 0;
}

bool srv_addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a =
			(const struct sockaddr_in6 *)ss;
		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	return false;
}
