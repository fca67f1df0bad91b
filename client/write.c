/*
 * write.c - appends through `ledger serve`: entries planned on the
 * server's state at its head, sealed and signed here, sent as one entry
 * or one batch, and rebuilt on the new head after a 409.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_impl.h"
#include "util.h"
#include "value.h"

static int compare_values(const void *a, const void *b)
{
	return strcmp(((const struct ldg_value *)a)->key,
		      ((const struct ldg_value *)b)->key);
}

/* A value of the state's JSON: a string as it is, any other JSON value
 * a typed value in its canonical text (value.h): the API writes a float
 * with 17 digits, the canonical text is the shortest. */
static int value_of(const json_t *v, struct ldg_value *e, struct ldg_err *err)
{
	char *text;
	int rc;

	if (json_is_string(v)) {
		e->type = LDG_V_STR;
		e->value = strdup(json_string_value(v));
		return e->value ? 0
				: ldg_err_set(err, -ENOMEM, "out of memory");
	}
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_value_from_json(text, &e->type, &e->value, err);
	free(text);
	if (rc)
		ldg_err_prefix(err, "the server's state holds %s", e->key);
	return rc;
}

/* The target's values and lock at seq at (GET /api/v1/state). */
static int fetch_state(const char *base, const char *target, uint64_t at,
		       struct ldg_values *out, struct ldg_err *err)
{
	json_t *j = NULL, *t, *vals, *v;
	const char *k;
	char path[256];
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/api/v1/state?at=%" PRIu64 "&scope=%s",
		 at, target);
	rc = clt_http_json(base, path, NULL, NULL, 0, &status, &j, err);
	if (rc)
		return rc;
	if (status != 200) {
		rc = clt_server_error(status, j, status == 404 ? -ENOENT : -EIO,
				      err);
		goto out_json;
	}
	t = json_object_get(json_object_get(j, "targets"), target);
	vals = json_object_get(t, "values");
	out->lock_seq = (uint64_t)json_integer_value(
		json_object_get(json_object_get(t, "locked"), "seq"));
	out->v = calloc(json_object_size(vals) + 1, sizeof(*out->v));
	if (!out->v) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_json;
	}
	json_object_foreach(vals, k, v)
	{
		struct ldg_value *e = &out->v[out->n];
		e->key = strdup(k);
		out->n++;
		if (!e->key) {
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
			goto out_json;
		}
		rc = value_of(v, e, err);
		if (rc)
			goto out_json;
	}
	qsort(out->v, out->n, sizeof(*out->v), compare_values);
out_json:
	json_decref(j);
	if (rc)
		ldg_values_free(out);
	return rc;
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

/* What a try built: the entries, sealed one on another from the head. */
struct built {
	struct ldg_entry **e;
	uint8_t **bytes;
	size_t *lens, n;
	bool locked; /* a target was locked in the state planned on */
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
		 const struct ldg_signer *k, clt_plan_fn plan, void *arg,
		 struct built *b, struct ldg_err *err)
{
	/* a plan on no target's state may fill a batch */
	size_t cap = targets ? nt * CLT_PLAN_MAX : CLT_BATCH_MAX;
	uint8_t prev[LDG_HASH_BYTES];
	struct clt_head head;
	struct ldg_authz az;
	bool have_az = false;
	int rc;

	b->e = calloc(cap, sizeof(*b->e));
	b->bytes = calloc(cap, sizeof(*b->bytes));
	b->lens = calloc(cap, sizeof(*b->lens));
	if (!b->e || !b->bytes || !b->lens)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	ldg_authz_init(&az);
	rc = clt_head_authz(base, &head, &az, &have_az, err);
	memcpy(prev, head.hash, LDG_HASH_BYTES);
	for (size_t i = 0; !rc && i < nt; i++) {
		struct ldg_values now = { 0 };
		size_t made = 0;
		if (targets) /* else a plan that needs no target's state */
			rc = fetch_state(base, targets[i], head.seq, &now, err);
		if (!rc)
			rc = plan(i, head.seq, prev, &now, arg, b->e + b->n,
				  &made, err);
		b->locked |= now.lock_seq != 0;
		ldg_values_free(&now);
		b->n += made;
	}
	if (!rc && b->n > CLT_BATCH_MAX)
		rc = ldg_err_set(err, -E2BIG,
				 "%zu entries: a remote write "
				 "sends at most %d in one batch",
				 b->n, CLT_BATCH_MAX);
	for (size_t i = 0; !rc && i < b->n; i++) {
		rc = ldg_entry_seal(b->e[i], head.seq + i, prev, head.origin,
				    have_az ? &az : NULL, k, &b->bytes[i],
				    &b->lens[i], err);
		if (!rc)
			ldg_entry_hash(b->bytes[i], b->lens[i], prev);
	}
	ldg_authz_free(&az);
	return rc;
}

/* The body of a POST of b (more than one entry): a batch, one
 * transaction on the server. */
static int batch_body(const struct built *b, uint8_t **body, size_t *len,
		      struct ldg_err *err)
{
	int rc = ldg_batch_join((const uint8_t *const *)b->bytes, b->lens, b->n,
				body, len, err);

	if (!rc && *len > CLT_BATCH_BYTES) {
		rc = ldg_err_set(err, -E2BIG,
				 "the batch is %zu bytes: a "
				 "server takes at most %u",
				 *len, CLT_BATCH_BYTES);
		free(*body);
		*body = NULL;
	}
	return rc;
}

/* A 201's entries into res: they must be the ones sent. */
static int take_result(const struct built *b, json_t *j, struct ldg_result *res,
		       struct ldg_err *err)
{
	json_t *arr = json_object_get(j, "entries");

	if (b->n > 1 && json_array_size(arr) != b->n)
		return ldg_err_set(err, -EIO,
				   "the server's answer does not "
				   "name the entries sent");
	res->v = calloc(b->n, sizeof(*res->v));
	if (!res->v)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	res->n = b->n;
	for (size_t i = 0; i < b->n; i++) {
		json_t *one = b->n == 1 ? j : json_array_get(arr, i);
		const char *hs =
			json_string_value(json_object_get(one, "hash"));
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
			return ldg_err_set(err, -EIO,
					   "the server's answer "
					   "does not name the entries sent");
	}
	return 0;
}

/* One try: 1 when the head moved, 2 when the server asks to slow down
 * (429), 0 done, else a negative errno. */
static int try_once(const char *base, const char *const *targets, size_t nt,
		    const struct ldg_signer *k, clt_plan_fn plan, void *arg,
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
		rc = clt_http_json(base, "/api/v1/entries",
				   "application/msgpack",
				   body ? body : b.bytes[0],
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
		rc = clt_server_error(status, j, -EACCES, err);
		break;
	case 423:
		rc = clt_server_error(status, j, -EBUSY, err);
		/* the server's sentence names the lock, or the freeze window
		 * or the soak (423 too), and its "rule" which; the advice is
		 * the front end's (err.h). A server older than "rule": a
		 * lock only when the target was locked */
		if (err && err->why == LDG_WHY_NONE && b.locked)
			err->why = LDG_WHY_LOCKED;
		break;
	case 400:
	case 422:
		rc = clt_server_error(status, j, -EINVAL, err);
		break;
	default:
		rc = clt_server_error(status, j, -EIO, err);
	}
out:
	json_decref(j);
	free(body);
	built_free(&b);
	return rc;
}

int clt_write(const char *base, const struct ldg_signer *k,
	      const char *const *targets, size_t nt, clt_plan_fn plan,
	      void *arg, struct ldg_result *res, struct ldg_err *err)
{
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ldg_err_set(err, -EIO, "cannot initialise libcurl");
	srand((unsigned)(time(NULL) ^ getpid()));
	rc = 1;
	for (int i = 0, slowed = 0; i < CLT_TRIES && rc > 0;) {
		if (rc == 2) {
			/* over the server's POST rate: its Retry-After is at
			 * least a second; the try does not count */
			sleep(1);
			if (++slowed == CLT_TRIES)
				break;
		} else if (i) {
			backoff(i);
		}
		ldg_result_free(res);
		rc = try_once(base, targets, nt, k, plan, arg, res, err);
		if (rc == 1)
			i++;
	}
	if (rc == 2)
		rc = ldg_err_set(err, -EAGAIN,
				 "%s: too many requests (429) %d times; gave up",
				 base, CLT_TRIES);
	if (rc == 1)
		rc = ldg_err_set(err, -EAGAIN,
				 "%s: the head kept moving; gave up after %d "
				 "tries",
				 base, CLT_TRIES);
	curl_global_cleanup();
	return rc;
}

/* ---- a rollback, built from a checked copy ---- */

struct rollback {
	struct clt_copy *copy;
	char **targets;
	size_t n;
	uint64_t to;
	const char *reason;
	const struct ldg_kv *meta;
	size_t n_meta;
	bool no_lock;
};

/* Target i's rollback and its lock (unless no_lock or it is locked
 * already), the entries of a local rollback, from the copy brought to
 * the head they will be sealed on; the server's now is not used. */
static int plan_rollback(size_t i, uint64_t head,
			 const uint8_t hash[LDG_HASH_BYTES],
			 const struct ldg_values *server_now, void *arg,
			 struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	struct rollback *a = arg;
	struct ldg_values then, now;
	struct ldg_read *r;
	int rc;

	*n = 0;
	rc = i ? 0 : clt_copy_sync(a->copy, head, hash, err);
	if (!rc)
		rc = ldg_read_begin(clt_copy_store(a->copy), &r, err);
	if (rc)
		return rc;
	rc = ldg_state_get(r, a->targets[i], a->to, &then);
	if (!rc) {
		rc = ldg_state_get(r, a->targets[i], 0, &now);
		if (rc)
			ldg_values_free(&then);
	}
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc, "cannot read %s in the copy",
				   a->targets[i]);
	rc = ldg_draft_rollback(a->targets[i], &then, &now, a->to, a->reason,
				a->meta, a->n_meta, &out[0], err);
	if (!rc && out[0]) {
		*n = 1;
		if (!a->no_lock && !now.lock_seq)
			rc = ldg_draft_lock(&now, a->targets[i], a->reason,
					    true, &out[1], err);
		if (!rc && out[1])
			*n = 2;
	}
	ldg_values_free(&now);
	ldg_values_free(&then);
	return rc;
}

int clt_rollback(const char *base, const struct ldg_signer *k, const char *what,
		 uint64_t to, const char *reason, const struct ldg_kv *meta,
		 size_t n_meta, bool no_lock, struct ldg_result *res,
		 struct ldg_err *err)
{
	struct rollback a = { .to = to,
			      .reason = reason,
			      .meta = meta,
			      .n_meta = n_meta,
			      .no_lock = no_lock };
	struct ldg_read *r;
	int rc;

	rc = clt_copy_open(base, &a.copy, err);
	if (!rc)
		rc = clt_copy_sync(a.copy, 0, NULL, err);
	if (!rc)
		rc = ldg_read_begin(clt_copy_store(a.copy), &r, err);
	if (!rc) {
		rc = ldg_rollback_targets(r, what, to, &a.targets, &a.n, err);
		ldg_read_end(r);
	}
	if (!rc)
		rc = clt_write(base, k, (const char *const *)a.targets, a.n,
			       plan_rollback, &a, res, err);
	ldg_strv_free(a.targets, a.n);
	clt_copy_close(a.copy);
	return rc;
}

/* ---- entries planned on a checked copy ---- */

struct copied {
	struct clt_copy *copy;
	const uint8_t *signer;
	clt_copy_plan_fn plan;
	void *arg;
};

/* The one question (ldg_may_append()) asked of e, as signer will sign
 * it now, on the copy: the server's rules, facts and sentence, before
 * anything is sealed or sent (an approval of a proposal that is not
 * pending any more has no state after it to commit to). */
static int ask_copy(struct ldg_read *r, const uint8_t *signer,
		    struct ldg_entry *e, struct ldg_err *err)
{
	struct ldg_write_req q;

	memcpy(e->signer, signer, LDG_KEYID_BYTES);
	e->time_ns = ldg_now_ns();
	ldg_write_req_of(e, &q);
	return ldg_may_append(r, &q, err);
}

/* Brings the copy to the head the entries will be sealed on, and plans
 * them there; the server's word for a state is not used. */
static int plan_copied(size_t i, uint64_t head,
		       const uint8_t hash[LDG_HASH_BYTES],
		       const struct ldg_values *server_now, void *arg,
		       struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	struct copied *a = arg;
	struct ldg_read *r;
	int rc;

	*n = 0;
	rc = clt_copy_sync(a->copy, head, hash, err);
	if (!rc)
		rc = ldg_read_begin(clt_copy_store(a->copy), &r, err);
	if (rc)
		return rc;
	rc = a->plan(r, a->signer, a->arg, out, n, err);
	for (size_t j = 0; !rc && j < *n; j++)
		rc = ask_copy(r, a->signer, out[j], err);
	ldg_read_end(r);
	return rc;
}

int clt_write_copied(const char *base, const struct ldg_signer *k,
		     clt_copy_plan_fn plan, clt_copy_done_fn done, void *arg,
		     struct ldg_result *res, struct ldg_err *err)
{
	struct copied a = { .signer = ldg_signer_vkey(k)->keyid,
			    .plan = plan,
			    .arg = arg };
	int rc;

	rc = clt_copy_open(base, &a.copy, err);
	if (!rc)
		rc = clt_write(base, k, NULL, 1, plan_copied, &a, res, err);
	/* the copy brought past what was written, for the caller to read */
	if (!rc && done && res->n)
		rc = clt_copy_sync(a.copy, res->v[res->n - 1].seq,
				   res->v[res->n - 1].hash, err);
	if (!rc && done)
		done(clt_copy_store(a.copy), arg);
	clt_copy_close(a.copy);
	return rc;
}

int clt_read_copied(const char *base, clt_read_fn fn, void *arg,
		    struct ldg_err *err)
{
	struct clt_copy *copy;
	struct ldg_read *r;
	int rc = clt_copy_open(base, &copy, err);

	if (rc)
		return rc;
	rc = clt_copy_sync(copy, 0, NULL, err);
	if (!rc)
		rc = ldg_read_begin(clt_copy_store(copy), &r, err);
	if (!rc) {
		rc = fn(r, arg, err);
		ldg_read_end(r);
	}
	clt_copy_close(copy);
	return rc;
}
