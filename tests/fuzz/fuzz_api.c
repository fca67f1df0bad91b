/* libFuzzer: what `ledger serve` parses from clients (serve/api.c). The
 * first byte picks the parser: 0 the JSON of POST /api/v1/drafts, 1 the
 * JSON of a signed draft, 2 a request path (against each shape a route
 * of serve/route.c has), 3 an Accept header, 4 a
 * --listen address, 5 the JSON of a batch of signed drafts; the rest is
 * the input. Whatever a parser accepts must hold its promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "names.h"

static void draft(const char *in, size_t len)
{
	struct srv_draft_req d;

	if (srv_parse_draft(in, len, &d, NULL) == 0) {
		if (ldg_check_target(d.target, NULL) ||
		    ldg_check_reason(d.reason, NULL))
			abort(); /* accepted an invalid target or reason */
		if ((d.kind == LDG_KIND_SET || d.kind == LDG_KIND_UNSET) &&
		    d.n == 0)
			abort(); /* a set or unset of nothing */
		for (size_t i = 0; i < d.n; i++)
			if (ldg_check_key(d.kv[i].key, NULL) ||
			    (d.kind == LDG_KIND_SET && !d.kv[i].value) ||
			    (d.kind == LDG_KIND_UNSET && d.kv[i].value))
				abort();
		if (d.kind == LDG_KIND_ROLLBACK && d.to == 0)
			abort();
	}
	srv_draft_req_free(&d);
}

/* The promise of a signed entry's bytes: it ends in a signature field. */
static void ends_in_signature(const uint8_t *out, size_t n)
{
	if (n < 2 + LDG_SIG_BYTES || n > LDG_ENTRY_MAX ||
	    out[n - LDG_SIG_BYTES - 2] != 0xc4 ||
	    out[n - LDG_SIG_BYTES - 1] != LDG_SIG_BYTES)
		abort();
}

static void signed_draft(const char *in, size_t len)
{
	uint8_t *out = NULL;
	size_t n = 0;

	if (srv_parse_signed_draft(in, len, &out, &n, NULL) == 0) {
		ends_in_signature(out, n);
		free(out);
	} else if (out) {
		abort(); /* an error leaves nothing to free */
	}
}

static void signed_batch(const char *in, size_t len)
{
	uint8_t *outs[4] = { NULL };
	size_t lens[4], n = 99;
	bool batch;

	if (srv_parse_signed_batch(in, len, outs, lens, 4, &n, &batch, NULL) ==
	    0) {
		if (n < 1 || n > 4)
			abort(); /* a batch of none, or over the limit */
		for (size_t i = 0; i < n; i++) {
			ends_in_signature(outs[i], lens[i]);
			free(outs[i]);
		}
	} else {
		if (n != 0)
			abort(); /* an error leaves nothing to free */
		for (size_t i = 0; i < 4; i++)
			if (outs[i])
				abort();
	}
}

/* One pattern of each shape, as the route table has them. */
static const struct srv_pattern patterns[] = {
	{ .prefix = "/api/v1/head", .shape = SRV_EXACT },
	{ .prefix = "/api/v1/entries/", .shape = SRV_TAIL_SEQ, .suffix = "" },
	{ .prefix = "/api/v1/entries/",
	  .shape = SRV_TAIL_SEQ,
	  .suffix = "/check" },
	{ .prefix = "/api/v1/history/", .shape = SRV_TAIL_SCOPE },
};

static void path(const char *text)
{
	struct srv_path p;

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (srv_path_match(&patterns[i], text, &p, NULL))
			continue;
		if (patterns[i].shape == SRV_TAIL_SEQ && p.seq == 0)
			abort(); /* seq 0 is no entry */
		if (patterns[i].shape == SRV_TAIL_SCOPE &&
		    (!p.scope[0] || srv_parse_scope(p.scope, NULL)))
			abort(); /* a scope taken is a valid one */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		draft(text, size - 1);
		break;
	case 1:
		signed_draft(text, size - 1);
		break;
	case 2:
		path(text);
		break;
	case 3:
		(void)srv_accepts_msgpack(text);
		break;
	case 5:
		signed_batch(text, size - 1);
		break;
	default:
		(void)srv_parse_listen(text, &ss, &sl, NULL);
	}
	free(text);
	return 0;
}
