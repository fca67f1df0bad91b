/*
 * fixture.c - the shared ledger fixture of the store, ops, ops_authz, append
 * and verify unit tests (fixture.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int fx_group_setup(void **state)
{
	return ldg_crypto_init() ? -1 : 0;
}

int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	f->tmp = tl_mkdtemp();
	snprintf(f->dir, sizeof(f->dir), "%s/ledger", f->tmp);
	if (ldg_signer_generate("admin", &f->admin, NULL) ||
	    ldg_signer_generate("deployer", &f->deployer, NULL) ||
	    ldg_signer_generate("applier", &f->applier, NULL) ||
	    ldg_signer_generate("outsider", &f->outsider, NULL))
		return -1;
	if (ldg_init(f->dir, ORIGIN, f->admin, &res, &err)) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	ldg_result_free(&res);
	if (ldg_store_open(f->dir, 0, &f->s, &err)) {
		fprintf(stderr, "open: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	struct fx *f = *state;

	ldg_store_close(f->s);
	ldg_signer_free(f->admin);
	ldg_signer_free(f->deployer);
	ldg_signer_free(f->applier);
	ldg_signer_free(f->outsider);
	tl_rmrf(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

uint64_t head_of(struct fx *f, uint8_t hash[LDG_HASH_BYTES])
{
	struct ldg_read *r;
	uint64_t seq;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, hash), 0);
	ldg_read_end(r);
	return seq;
}

int set_kv(struct fx *f, const struct ldg_signer *k, const char *target,
	   const char *key, const char *value, bool force, uint64_t *seq,
	   struct ldg_err *err)
{
	struct ldg_kv kv = { .key = (char *)key, .value = (char *)value };
	struct ldg_result res = { 0 };
	int rc = ldg_set(f->s, k, target, &kv, 1, "change", NULL, 0, force,
			 &res, err);

	if (seq)
		*seq = res.n ? res.v[res.n - 1].seq : 0;
	ldg_result_free(&res);
	return rc;
}

uint64_t must_set(struct fx *f, const char *target, const char *key,
		  const char *value)
{
	struct ldg_err err = { 0 };
	uint64_t seq = 0;
	int rc = set_kv(f, f->admin, target, key, value, false, &seq, &err);

	if (rc)
		fail_msg("set %s %s=%s: %s", target, key, value, err.msg);
	assert_int_not_equal(seq, 0);
	return seq;
}

int unset_k(struct fx *f, const struct ldg_signer *k, const char *target,
	    const char *key, bool force, uint64_t *seq)
{
	struct ldg_result res = { 0 };
	const char *keys[1] = { key };
	int rc = ldg_unset(f->s, k, target, keys, 1, "remove", NULL, 0, force,
			   &res, NULL);

	if (seq)
		*seq = res.n ? res.v[res.n - 1].seq : 0;
	ldg_result_free(&res);
	return rc;
}

int lock_t(struct fx *f, const struct ldg_signer *k, const char *target,
	   bool lock, uint64_t *seq)
{
	struct ldg_result res = { 0 };
	int rc = ldg_lock(f->s, k, target, "hold it", lock, &res, NULL);

	if (seq)
		*seq = res.n ? res.v[res.n - 1].seq : 0;
	ldg_result_free(&res);
	return rc;
}

void add_key(struct fx *f, const struct ldg_signer *k, const char *role,
	     const char *scopes)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	int rc = ldg_key_add(f->s, f->admin, ldg_signer_vkey(k), role, scopes,
			     "add key", &res, &err);

	if (rc)
		fail_msg("key add: %s", err.msg);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.v[0].kind, LDG_KIND_KEY_ADD);
	ldg_result_free(&res);
}

char *value_at(struct fx *f, const char *target, const char *key, uint64_t at)
{
	struct ldg_read *r;
	struct ldg_values v;
	const struct ldg_value *got;
	char *out = NULL;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, at, &v), 0);
	got = ldg_values_find(&v, key);
	if (got)
		out = strdup(got->value);
	ldg_values_free(&v);
	ldg_read_end(r);
	return out;
}

void assert_value_at(struct fx *f, const char *target, const char *key,
		     uint64_t at, const char *want)
{
	char *got = value_at(f, target, key, at);

	if (want == NULL && got != NULL)
		fail_msg("%s %s at %llu: want unset, got \"%s\"", target, key,
			 (unsigned long long)at, got);
	if (want != NULL && (got == NULL || strcmp(got, want)))
		fail_msg("%s %s at %llu: want \"%s\", got %s%s%s", target, key,
			 (unsigned long long)at, want, got ? "\"" : "",
			 got ? got : "unset", got ? "\"" : "");
	free(got);
}

uint64_t lock_seq_at(struct fx *f, const char *target, uint64_t at)
{
	struct ldg_read *r;
	struct ldg_values v;
	uint64_t seq;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, at, &v), 0);
	seq = v.lock_seq;
	ldg_values_free(&v);
	ldg_read_end(r);
	return seq;
}

struct ldg_entry *entry_at(struct fx *f, uint64_t seq)
{
	struct ldg_read *r;
	struct ldg_entry *e = NULL;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	if (ldg_entry_read(r, seq, &e, &err))
		fail_msg("entry %llu: %s", (unsigned long long)seq, err.msg);
	ldg_read_end(r);
	return e;
}

int verify(struct fx *f, const struct ldg_checkpoint *cps, size_t n,
	   struct ldg_verify_report *rep)
{
	struct ldg_verify_opts o = { .threads = 2,
				     .checkpoints = cps,
				     .n_checkpoints = n };
	struct ldg_err err = { 0 };
	int rc = ldg_verify(f->s, &o, rep, &err);

	if (rc && rc != -EBADMSG)
		fail_msg("verify could not run: %s", err.msg);
	return rc;
}

void assert_verify_ok(struct fx *f)
{
	struct ldg_verify_report rep;
	uint8_t hash[LDG_HASH_BYTES];
	uint64_t head = head_of(f, hash);

	if (verify(f, NULL, 0, &rep))
		fail_msg("verify: seq %llu: %s",
			 (unsigned long long)rep.bad_seq, rep.problem);
	assert_int_equal(rep.entries, head);
	assert_int_equal(rep.head, head);
	assert_memory_equal(rep.head_hash, hash, LDG_HASH_BYTES);
	assert_string_equal(rep.origin, ORIGIN);
}

void build_busy_ledger(struct fx *f)
{
	struct ldg_result res = { 0 };

	add_key(f, f->deployer, "deployer", "staging/*");
	must_set(f, "staging/api", "image.tag", "1.0");
	must_set(f, "staging/web", "image.tag", "1.0");
	must_set(f, "prod/api", "image.tag", "1.0");
	assert_int_equal(set_kv(f, f->deployer, "staging/api", "image.tag",
				"1.1", false, NULL, NULL),
			 0);
	assert_int_equal(unset_k(f, f->admin, "staging/web", "image.tag", false,
				 NULL),
			 0);
	assert_int_equal(ldg_rollback(f->s, f->admin, "staging/api", 3, "r",
				      NULL, 0, false, &res, NULL),
			 0);
	ldg_result_free(&res);
	assert_int_equal(set_kv(f, f->admin, "staging/api", "image.tag", "1.2",
				true, NULL, NULL),
			 0);
	assert_int_equal(lock_t(f, f->admin, "staging/api", false, NULL), 0);
	assert_int_equal(ldg_key_revoke(f->s, f->admin, "deployer", "bye", &res,
					NULL),
			 0);
	ldg_result_free(&res);
}

void store_authz(struct fx *f, struct ldg_authz *az)
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_authz_load(r, az, NULL), 0);
	ldg_read_end(r);
}

void forge_on_head(struct fx *f, struct ldg_entry *e,
		   const struct ldg_signer *k, const uint8_t *prev,
		   uint8_t **buf, size_t *len)
{
	struct ldg_err err = { 0 };

	if (forge_seal(f->s, head_of(f, NULL), prev, e, k, buf, len, &err))
		fail_msg("forge: %s", err.msg);
}

uint64_t put_forged_entry(struct fx *f, struct ldg_entry *e,
			  const struct ldg_signer *k, const uint8_t *prev)
{
	uint64_t seq = head_of(f, NULL) + 1;
	uint8_t *bytes;
	size_t len;
	int rc;

	forge_on_head(f, e, k, prev, &bytes, &len);
	ldg_store_close(f->s);
	f->s = NULL;
	rc = rawdb_store_entry(f->dir, seq, bytes, len);
	if (rc)
		fail_msg("storing entry %llu: %s", (unsigned long long)seq,
			 mdb_strerror(rc));
	free(bytes);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, NULL), 0);
	return seq;
}

struct ldg_entry *rollback_draft(uint64_t to, const char *key,
				 const char *value)
{
	struct ldg_entry *e = ldg_entry_new(LDG_KIND_ROLLBACK, "staging/api",
					    "back to the good one");
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)to);
	assert_non_null(e);
	assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	assert_int_equal(ldg_entry_add_meta(e, "rollback-to", num), 0);
	return e;
}

void forged_rollback(struct fx *f, const struct ldg_signer *k, uint64_t to,
		     const char *key, const char *value, uint8_t **buf,
		     size_t *len)
{
	struct ldg_entry *e = rollback_draft(to, key, value);

	forge_on_head(f, e, k, NULL, buf, len);
	ldg_entry_free(e);
}

uint64_t last_seq(const struct ldg_result *res)
{
	return res->n ? res->v[res->n - 1].seq : 0;
}

void policy(struct fx *f, const char *scope, unsigned approvals, uint64_t soak,
	    const char *from)
{
	struct ldg_policy p = { .approvals = approvals, .soak = soak };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	snprintf(p.soak_from, sizeof(p.soak_from), "%s", from ? from : "");
	if (ldg_policy_set(f->s, f->admin, scope, &p, "policy", &res, &err))
		fail_msg("policy set: %s", err.msg);
	ldg_result_free(&res);
}

void flip_stored_byte(const char *dir, uint64_t seq, size_t back_off)
{
	struct rawdb db;
	uint8_t *copy;
	MDB_val v;

	assert_int_equal(rawdb_open(dir, "entries", false, &db), 0);
	assert_int_equal(rawdb_get_entry(&db, seq, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - back_off] ^= 0x01;
	assert_int_equal(rawdb_put_entry(&db, seq, copy, v.mv_size), 0);
	assert_int_equal(rawdb_close(&db, true), 0);
	free(copy);
}
