/*
 * test_client.c - client/: the head a server names (clt_head_get()),
 * the one fetcher (clt_pull()) and the write with its 409 retry
 * (clt_write()), against a small libmicrohttpd server in this process
 * that serves the fixture's ledger as `ledger serve` does (GET
 * /api/v1/head with "authz", /api/v1/state, /api/v1/entries?after=
 * &limit= as a batch made by ldg_batch_join(), /api/v1/entries/SEQ,
 * POST /api/v1/entries), or lies and refuses as told.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "client.h"
#include "fixture.h"

/* What the server answers. */
struct fake {
	struct ldg_store *s;   /* the ledger it serves */
	const char *head;      /* GET /api/v1/head's body; NULL: the real one */
	unsigned head_status;  /* and its status (0: 200) */
	uint64_t tamper;       /* this entry served with a flipped byte */
	unsigned post_status;  /* POST /api/v1/entries answers this... */
	const char *post_body; /* ...with this body; 0: appends */
	int conflicts;	       /* or first answers 409 this many times */
	int posts;	       /* POSTs of entries received */
	bool posted_batch;     /* the last one was a batch */
	struct MHD_Daemon *d;
	char base[64];
};

static struct MHD_Response *entries_page(struct fake *fk, uint64_t after,
					 uint64_t limit)
{
	const uint8_t *raw[CLT_PAGE_MAX];
	uint8_t *copies[CLT_PAGE_MAX] = { NULL };
	size_t lens[CLT_PAGE_MAX], n = 0, len = 0;
	struct MHD_Response *rp = NULL;
	struct ldg_read *r;
	uint8_t *body = NULL;
	uint64_t head;

	if (ldg_read_begin(fk->s, &r, NULL))
		return NULL;
	if (!ldg_head(r, &head, NULL)) {
		for (uint64_t seq = after + 1;
		     seq <= head && n < limit && n < CLT_PAGE_MAX; seq++) {
			if (ldg_entry_raw(r, seq, &raw[n], &lens[n]))
				break;
			if (seq == fk->tamper) {
				copies[n] = malloc(lens[n]);
				memcpy(copies[n], raw[n], lens[n]);
				copies[n][lens[n] - 1] ^= 1; /* the signature */
				raw[n] = copies[n];
			}
			n++;
		}
		if (!ldg_batch_join(raw, lens, n, &body, &len, NULL))
			rp = MHD_create_response_from_buffer(len, body,
							     MHD_RESPMEM_MUST_FREE);
	}
	ldg_read_end(r);
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	return rp;
}

static struct MHD_Response *one_entry(struct fake *fk, uint64_t seq)
{
	struct MHD_Response *rp = NULL;
	const uint8_t *raw;
	struct ldg_read *r;
	size_t len;

	if (ldg_read_begin(fk->s, &r, NULL))
		return NULL;
	if (!ldg_entry_raw(r, seq, &raw, &len)) {
		uint8_t *copy = malloc(len);

		memcpy(copy, raw, len);
		if (seq == fk->tamper)
			copy[len - 1] ^= 1;
		rp = MHD_create_response_from_buffer(len, copy,
						     MHD_RESPMEM_MUST_FREE);
	}
	ldg_read_end(r);
	return rp;
}

/* The head, with its keyring and locks ("authz") as a remote writer
 * stamps its entries with. */
static struct MHD_Response *real_head(struct fake *fk)
{
	uint8_t hash[LDG_HASH_BYTES], *st = NULL;
	char body[8192], b64[4096], *hex;
	struct ldg_authz az;
	struct ldg_read *r;
	uint64_t head = 0;
	size_t stlen = 0;

	if (ldg_read_begin(fk->s, &r, NULL))
		return NULL;
	ldg_authz_init(&az);
	if (ldg_head(r, &head, hash) || ldg_authz_load(r, &az, NULL) ||
	    ldg_authz_encode(&az, &st, &stlen) ||
	    stlen > sizeof(b64) / 4 * 3 - 3)
		head = 0;
	else
		sodium_bin2base64(b64, sizeof(b64), st, stlen,
				  sodium_base64_VARIANT_ORIGINAL);
	ldg_read_end(r);
	ldg_authz_free(&az);
	free(st);
	hex = tl_hex(hash, LDG_HASH_BYTES);
	snprintf(body, sizeof(body),
		 "{\"seq\": %" PRIu64 ", \"hash\": \"%s\", \"origin\": "
		 "\"%s\", \"authz\": \"%s\"}",
		 head, hex, ldg_store_origin(fk->s), head ? b64 : "");
	free(hex);
	return MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_COPY);
}

/* GET /api/v1/state?at=SEQ&scope=TARGET: the target's values and lock. */
static struct MHD_Response *state(struct fake *fk, uint64_t at,
				  const char *target)
{
	struct ldg_values v;
	struct ldg_read *r;
	char body[8192];
	size_t n;

	if (ldg_read_begin(fk->s, &r, NULL))
		return NULL;
	if (ldg_state_get(r, target, at, &v)) {
		ldg_read_end(r);
		return NULL;
	}
	ldg_read_end(r);
	n = (size_t)snprintf(body, sizeof(body),
			     "{\"targets\": {\"%s\": {\"values\": {", target);
	for (size_t i = 0; i < v.n; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
				      "%s\"%s\": \"%s\"", i ? ", " : "",
				      v.v[i].key, v.v[i].value);
	snprintf(body + n, sizeof(body) - n,
		 "}, \"locked\": {\"seq\": %" PRIu64 "}}}}", v.lock_seq);
	ldg_values_free(&v);
	return MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_COPY);
}

/* A POST of one entry or a batch: appended, or refused as told. */
static struct MHD_Response *append(struct fake *fk, const uint8_t *b,
				   size_t len, unsigned *status)
{
	const uint8_t *bufs[CLT_BATCH_MAX];
	size_t lens[CLT_BATCH_MAX], n = 1, at = 0;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	char body[8192], *hex;

	fk->posts++;
	fk->posted_batch = ldg_batch_is(b, len);
	if (fk->conflicts > 0) {
		fk->conflicts--;
		*status = MHD_HTTP_CONFLICT;
		return MHD_create_response_from_buffer(2, (void *)"{}",
						       MHD_RESPMEM_PERSISTENT);
	}
	if (fk->post_status) {
		*status = fk->post_status;
		return MHD_create_response_from_buffer(strlen(fk->post_body),
						       (void *)fk->post_body,
						       MHD_RESPMEM_PERSISTENT);
	}
	bufs[0] = b;
	lens[0] = len;
	if ((fk->posted_batch &&
	     ldg_batch_split(b, len, CLT_BATCH_MAX, bufs, lens, &n, NULL)) ||
	    ldg_append_signed_batch(fk->s, bufs, lens, n, &res, &err)) {
		*status = MHD_HTTP_BAD_REQUEST;
		snprintf(body, sizeof(body), "{\"error\": \"%s\"}", err.msg);
		return MHD_create_response_from_buffer(strlen(body), body,
						       MHD_RESPMEM_MUST_COPY);
	}
	*status = MHD_HTTP_CREATED;
	at = (size_t)snprintf(body, sizeof(body), "{\"entries\": [");
	for (size_t i = 0; i < res.n; i++) {
		hex = tl_hex(res.v[i].hash, LDG_HASH_BYTES);
		at += (size_t)snprintf(body + at, sizeof(body) - at,
				       "%s{\"seq\": %" PRIu64 ", \"hash\": "
				       "\"%s\"}",
				       i ? ", " : "", res.v[i].seq, hex);
		if (i == res.n - 1)
			at += (size_t)snprintf(body + at, sizeof(body) - at,
					       "], \"seq\": %" PRIu64 ", "
					       "\"hash\": \"%s\"}",
					       res.v[i].seq, hex);
		free(hex);
	}
	ldg_result_free(&res);
	return MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_COPY);
}

/* A POST's body, gathered over the calls libmicrohttpd makes. */
struct upload {
	uint8_t *p;
	size_t n;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct fake *fk = cls;
	struct MHD_Response *rp = NULL;
	unsigned status = MHD_HTTP_OK;
	const char *type = "application/msgpack";
	struct upload *u = *con_cls;
	enum MHD_Result ret;

	if (!strcmp(method, "POST")) {
		if (!u) {
			*con_cls = calloc(1, sizeof(*u));
			return *con_cls ? MHD_YES : MHD_NO;
		}
		if (*upload_len) {
			u->p = realloc(u->p, u->n + *upload_len);
			memcpy(u->p + u->n, upload, *upload_len);
			u->n += *upload_len;
			*upload_len = 0;
			return MHD_YES;
		}
		type = "application/json";
		rp = append(fk, u->p, u->n, &status);
		free(u->p);
		free(u);
		*con_cls = NULL;
	} else if (!strcmp(url, "/api/v1/state")) {
		const char *a =
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    "at");
		const char *t =
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    "scope");
		type = "application/json";
		rp = t ? state(fk, a ? strtoull(a, NULL, 10) : 0, t) : NULL;
	} else if (!strcmp(url, "/api/v1/head")) {
		type = "application/json";
		if (fk->head_status)
			status = fk->head_status;
		rp = fk->head ? MHD_create_response_from_buffer(
					strlen(fk->head), (void *)fk->head,
					MHD_RESPMEM_PERSISTENT)
			      : real_head(fk);
	} else if (!strcmp(url, "/api/v1/entries")) {
		const char *a =
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    "after");
		const char *l =
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    "limit");
		rp = entries_page(fk, a ? strtoull(a, NULL, 10) : 0,
				  l ? strtoull(l, NULL, 10) : 100);
	} else if (!strncmp(url, "/api/v1/entries/", 16)) {
		rp = one_entry(fk, strtoull(url + 16, NULL, 10));
		if (!rp)
			status = MHD_HTTP_NOT_FOUND;
	} else {
		status = MHD_HTTP_NOT_FOUND;
	}
	if (!rp) {
		type = "text/plain";
		rp = MHD_create_response_from_buffer(0, (void *)"",
						     MHD_RESPMEM_PERSISTENT);
	}
	MHD_add_response_header(rp, "Content-Type", type);
	ret = MHD_queue_response(conn, status, rp);
	MHD_destroy_response(rp);
	return ret;
}

static struct fake fake;

static int setup(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct fx *f;

	if (fx_setup(state))
		return -1;
	f = *state;
	memset(&fake, 0, sizeof(fake));
	fake.s = f->s;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fake.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
				  NULL, answer, &fake, MHD_OPTION_SOCK_ADDR,
				  &sin, MHD_OPTION_END);
	if (!fake.d)
		return -1;
	snprintf(fake.base, sizeof(fake.base), "http://127.0.0.1:%u",
		 (unsigned)MHD_get_daemon_info(fake.d,
					       MHD_DAEMON_INFO_BIND_PORT)
			 ->port);
	return 0;
}

static int teardown(void **state)
{
	MHD_stop_daemon(fake.d);
	return fx_teardown(state);
}

/* A fresh, empty copy in f's temporary directory. */
static struct ldg_store *new_copy(struct fx *f, const char *name)
{
	struct ldg_store *c = NULL;
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/%s", f->tmp, name);
	assert_int_equal(ldg_store_open(dir, LDG_OPEN_CREATE, &c, NULL), 0);
	return c;
}

static void count_page(uint64_t head, void *arg)
{
	uint64_t *pages = arg;

	(*pages)++;
}

/* A run of clt_pull() up to the head the server names now: must pass;
 * what it copied in *got. */
static void pull_to_head(struct ldg_store *c, struct clt_pulled *got)
{
	struct ldg_err err = { 0 };
	struct clt_head named;

	assert_int_equal(clt_head_get(fake.base, &named, &err), 0);
	if (clt_pull(fake.base, c, &named, false, NULL, NULL, got, &err))
		fail_msg("clt_pull: %s", err.msg);
	assert_int_equal(got->head, named.seq);
}

static void test_head_get_reads_what_the_server_names(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct clt_head h;
	uint8_t hash[LDG_HASH_BYTES];

	must_set(f, "staging/api", "tag", "v1");
	assert_int_equal(clt_head_get(fake.base, &h, &err), 0);
	assert_int_equal(h.seq, head_of(f, hash));
	assert_memory_equal(h.hash, hash, LDG_HASH_BYTES);
	assert_string_equal(h.origin, ORIGIN);
}

static void test_head_get_says_what_is_not_a_ledger_server(void **state)
{
	struct ldg_err err = { 0 };
	struct clt_head h;

	fake.head = "<html>no</html>";
	fake.head_status = MHD_HTTP_NOT_FOUND;
	assert_int_equal(clt_head_get(fake.base, &h, &err), -EIO);
	assert_non_null(strstr(err.msg, "GET /api/v1/head answered HTTP 404 "
					"(not a ledger server)"));
	fake.head = "{\"error\": \"the ledger cannot be read\"}";
	fake.head_status = MHD_HTTP_SERVICE_UNAVAILABLE;
	assert_int_equal(clt_head_get(fake.base, &h, &err), -EIO);
	assert_non_null(strstr(err.msg, "answered HTTP 503: the ledger cannot "
					"be read"));
	fake.head_status = 0;
	fake.head = "{\"seq\": 3}";
	assert_int_equal(clt_head_get(fake.base, &h, &err), -EIO);
	assert_non_null(strstr(err.msg, "not a ledger server (GET "
					"/api/v1/head has no seq, hash and "
					"origin)"));
	fake.head = "{\"seq\": 0, \"hash\": \"\", \"origin\": \"x\"}";
	assert_int_equal(clt_head_get(fake.base, &h, &err), -EIO);
	assert_non_null(strstr(err.msg, "holds no ledger"));
	assert_int_equal(clt_head_get("http://127.0.0.1:1", &h, &err), -EIO);
	assert_non_null(strstr(err.msg, "cannot reach"));
}

static void test_pull_copies_every_entry_then_only_the_new_ones(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy");
	struct clt_pulled got;
	struct clt_head named;
	uint64_t pages = 0;

	for (int i = 0; i < 5; i++)
		must_set(f, "staging/api", "tag", i % 2 ? "a" : "b");
	assert_int_equal(clt_head_get(fake.base, &named, &err), 0);
	assert_int_equal(clt_pull(fake.base, c, &named, false, count_page,
				  &pages, &got, &err),
			 0);
	assert_int_equal(got.head, named.seq);
	assert_int_equal(got.added, named.seq);
	assert_memory_equal(got.hash, named.hash, LDG_HASH_BYTES);
	assert_true(pages >= 1);
	assert_string_equal(ldg_store_origin(c), ORIGIN);
	/* two more: only they travel, on the copy proved a prefix */
	must_set(f, "staging/api", "tag", "c");
	must_set(f, "staging/web", "tag", "c");
	assert_int_equal(clt_head_get(fake.base, &named, &err), 0);
	assert_int_equal(clt_pull(fake.base, c, &named, false, NULL, NULL, &got,
				  &err),
			 0);
	assert_int_equal(got.added, 2);
	assert_int_equal(got.head, named.seq);
	/* past: every page until an empty one, nothing new */
	assert_int_equal(clt_pull(fake.base, c, &named, true, NULL, NULL, &got,
				  &err),
			 0);
	assert_int_equal(got.added, 0);
	ldg_store_close(c);
}

static void test_pull_refuses_what_the_server_did_not_serve(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy");
	struct clt_pulled got;
	struct clt_head named, later;

	must_set(f, "staging/api", "tag", "v1");
	assert_int_equal(clt_head_get(fake.base, &named, &err), 0);
	/* a head it names but does not serve */
	later = named;
	later.seq += 3;
	assert_int_equal(clt_pull(fake.base, c, &later, false, NULL, NULL, &got,
				  &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "but served entries up to"));
	assert_int_equal(got.head, named.seq); /* what was copied stays */
	/* another hash for the head it named */
	later = named;
	later.hash[0] ^= 1;
	assert_int_equal(clt_pull(fake.base, c, &later, false, NULL, NULL, &got,
				  &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "changed meanwhile"));
	/* fewer entries than the copy holds */
	later = named;
	later.seq -= 1;
	assert_int_equal(clt_pull(fake.base, c, &later, false, NULL, NULL, &got,
				  &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "entries were removed from the served "
					"ledger"));
	/* the copy's newest entry served with other bytes */
	fake.tamper = named.seq;
	assert_int_equal(clt_pull(fake.base, c, &named, false, NULL, NULL, &got,
				  &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "differs between this copy and"));
	fake.tamper = 0;
	ldg_store_close(c);
}

static void
test_pull_refuses_a_forged_entry_and_keeps_the_pages_before(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy");
	struct ldg_read *r;
	struct clt_pulled got;
	struct clt_head named;
	uint64_t head = 0;
	char want[128];

	must_set(f, "staging/api", "tag", "v1");
	must_set(f, "staging/api", "tag", "v2");
	fake.tamper = 3;
	assert_int_equal(clt_head_get(fake.base, &named, &err), 0);
	assert_int_equal(clt_pull(fake.base, c, &named, false, NULL, NULL, &got,
				  &err),
			 -EPERM);
	snprintf(want, sizeof(want), "from %s: entry 3: ", fake.base);
	assert_non_null(strstr(err.msg, want));
	/* a page is one transaction: none of it is in the copy */
	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &head, NULL), 0);
	ldg_read_end(r);
	assert_int_equal(head, got.head);
	assert_int_equal(head, 0);
	fake.tamper = 0;
	ldg_store_close(c);
}

/* Sets key "tag" of each target to the value arg names; with two per
 * target, also key "n" (a second entry on the first). */
struct set_plan {
	const char *value;
	bool two;
};

static int plan_set(size_t i, uint64_t head, const uint8_t hash[LDG_HASH_BYTES],
		    const struct ldg_values *now, void *arg,
		    struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	struct set_plan *p = arg;
	struct ldg_kv kv = { .key = "tag", .value = (char *)p->value };
	struct ldg_kv kn = { .key = "n", .value = "1" };
	int rc;

	*n = 0;
	rc = ldg_draft_set(now, "staging/api", &kv, 1, "test", NULL, 0, false,
			   &out[0], err);
	if (!rc && out[0])
		(*n)++;
	if (!rc && p->two) {
		rc = ldg_draft_set(now, "staging/api", &kn, 1, "test", NULL, 0,
				   false, &out[*n], err);
		if (!rc && out[*n])
			(*n)++;
	}
	return rc;
}

/* Plans one set per target of targets: tag=arg. */
static int plan_each(size_t i, uint64_t head,
		     const uint8_t hash[LDG_HASH_BYTES],
		     const struct ldg_values *now, void *arg,
		     struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	static const char *const targets[] = { "staging/api", "staging/web" };
	struct ldg_kv kv = { .key = "tag", .value = arg };
	int rc = ldg_draft_set(now, targets[i], &kv, 1, "test", NULL, 0, false,
			       &out[0], err);

	*n = !rc && out[0];
	return rc;
}

static void test_write_appends_one_entry_then_a_batch(void **state)
{
	static const char *const both[] = { "staging/api", "staging/web" };
	const char *api = "staging/api";
	struct fx *f = *state;
	struct set_plan p = { "v9", false };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint8_t hash[LDG_HASH_BYTES];
	uint64_t head = head_of(f, NULL);

	assert_int_equal(clt_write(fake.base, f->admin, &api, 1, plan_set, &p,
				   &res, &err),
			 0);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].seq, head + 1);
	assert_int_equal(head_of(f, hash), head + 1);
	assert_memory_equal(res.v[0].hash, hash, LDG_HASH_BYTES);
	assert_value_at(f, "staging/api", "tag", 0, "v9");
	assert_int_equal(fake.posts, 1);
	assert_false(fake.posted_batch);
	ldg_result_free(&res);
	/* two targets: one POST, a batch, one transaction */
	assert_int_equal(clt_write(fake.base, f->admin, both, 2, plan_each,
				   "v10", &res, &err),
			 0);
	assert_int_equal(res.n, 2);
	assert_int_equal(fake.posts, 2);
	assert_true(fake.posted_batch);
	assert_string_equal(res.v[1].target, "staging/web");
	assert_value_at(f, "staging/web", "tag", 0, "v10");
	ldg_result_free(&res);
	/* nothing to do: nothing sent */
	assert_int_equal(clt_write(fake.base, f->admin, both, 2, plan_each,
				   "v10", &res, &err),
			 0);
	assert_int_equal(res.n, 0);
	assert_int_equal(fake.posts, 2);
	assert_verify_ok(f);
}

static void test_write_rebuilds_on_the_new_head_after_409(void **state)
{
	const char *api = "staging/api";
	struct fx *f = *state;
	struct set_plan p = { "v2", false };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t head;

	must_set(f, "staging/api", "tag", "v1");
	head = head_of(f, NULL);
	fake.conflicts = 2;
	assert_int_equal(clt_write(fake.base, f->admin, &api, 1, plan_set, &p,
				   &res, &err),
			 0);
	assert_int_equal(fake.posts, 3);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].seq, head + 1);
	assert_value_at(f, "staging/api", "tag", 0, "v2");
	ldg_result_free(&res);
}

static void test_write_reports_what_the_server_refused(void **state)
{
	static const struct {
		unsigned status;
		int rc;
	} cases[] = {
		{ MHD_HTTP_FORBIDDEN, -EACCES },
		{ 423, -EBUSY },
		{ MHD_HTTP_UNPROCESSABLE_CONTENT, -EINVAL },
		{ MHD_HTTP_INTERNAL_SERVER_ERROR, -EIO },
	};
	const char *api = "staging/api";
	struct fx *f = *state;
	struct set_plan p = { "v2", false };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t head = head_of(f, NULL);

	fake.post_body = "{\"error\": \"the server's reason\"}";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake.post_status = cases[i].status;
		assert_int_equal(clt_write(fake.base, f->admin, &api, 1,
					   plan_set, &p, &res, &err),
				 cases[i].rc);
		assert_string_equal(err.msg, "the server's reason");
		assert_int_equal(res.n, 0);
	}
	fake.post_body = "";
	fake.post_status = MHD_HTTP_FORBIDDEN;
	assert_int_equal(clt_write(fake.base, f->admin, &api, 1, plan_set, &p,
				   &res, &err),
			 -EACCES);
	assert_string_equal(err.msg, "the server answered HTTP 403");
	assert_int_equal(head_of(f, NULL), head);
}

static void test_write_sends_no_batch_over_the_limit(void **state)
{
	const char *targets[CLT_BATCH_MAX / 2 + 1];
	struct fx *f = *state;
	struct set_plan p = { "v2", true };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	for (size_t i = 0; i < CLT_BATCH_MAX / 2 + 1; i++)
		targets[i] = "staging/api";
	assert_int_equal(clt_write(fake.base, f->admin, targets,
				   CLT_BATCH_MAX / 2 + 1, plan_set, &p, &res,
				   &err),
			 -E2BIG);
	assert_non_null(strstr(err.msg, "66 entries: a remote write sends at "
					"most 64 in one batch"));
	assert_int_equal(fake.posts, 0);
}

/* What both mirrors run after a copy (clt_verify_copy()): the whole
 * copy on a first run, then from the head the last run checked; a copy
 * that does not verify is -EPERM naming the entry. */
static void test_verify_copy_checks_from_the_previous_head(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy");
	struct clt_anchor from;
	struct clt_pulled got;
	char dir[4200];
	bool full;

	for (int i = 0; i < 4; i++)
		must_set(f, "staging/api", "tag", i % 2 ? "a" : "b");
	assert_int_equal(clt_anchor_get(c, &from, &err), 0);
	assert_int_equal(from.size, 0);
	pull_to_head(c, &got);
	assert_int_equal(clt_verify_copy(c, &from, &full, &err), 0);
	assert_true(full);
	/* the next run: from the copy's head, 5 */
	assert_int_equal(clt_anchor_get(c, &from, &err), 0);
	assert_int_equal(from.size, 5);
	must_set(f, "staging/api", "tag", "c");
	must_set(f, "staging/web", "tag", "c");
	pull_to_head(c, &got);
	assert_int_equal(clt_verify_copy(c, &from, &full, &err), 0);
	assert_false(full);
	/* entry 7 of the copy edited behind its back after the copy */
	ldg_store_close(c);
	snprintf(dir, sizeof(dir), "%s/copy", f->tmp);
	flip_stored_byte(dir, 7, 70);
	assert_int_equal(ldg_store_open(dir, 0, &c, NULL), 0);
	assert_int_equal(clt_verify_copy(c, &from, &full, &err), -EPERM);
	assert_false(full);
	assert_non_null(strstr(err.msg, "the copy does not verify: entry 7: "));
	ldg_store_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_head_get_reads_what_the_server_names, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_head_get_says_what_is_not_a_ledger_server, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pull_copies_every_entry_then_only_the_new_ones,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pull_refuses_what_the_server_did_not_serve, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pull_refuses_a_forged_entry_and_keeps_the_pages_before,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_verify_copy_checks_from_the_previous_head, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_write_appends_one_entry_then_a_batch, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_write_rebuilds_on_the_new_head_after_409, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_write_reports_what_the_server_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_write_sends_no_batch_over_the_limit, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
