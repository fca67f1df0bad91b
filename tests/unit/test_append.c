/*
 * Unit tests for entries signed elsewhere (ledger/ops.c's ldg_append_signed,
 * _signed_batch, _copied and the drafts remote writers build), and the
 * rollback rule on each of those paths.
 *
 * Each test runs on a fresh ledger from fixture.h (admin, deployer,
 * applier and outsider keys; the admin key initialised it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "tlog.h"

/* ---- entries signed elsewhere (remote writers) ---- */

/* The state of target at the head, as a remote client fetches it. */
static void state_now(struct fx *f, const char *target, struct ldg_values *v)
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, target, 0, v), 0);
	ldg_read_end(r);
}

/* A set of target key=value by k, drafted on the head's state and sealed
 * for the current head, as a remote writer does. */
static void remote_set_bytes(struct fx *f, const struct ldg_signer *k,
			     const char *target, const char *key,
			     const char *value, bool force, uint8_t **buf,
			     size_t *len)
{
	struct ldg_kv kv = { .key = (char *)key, .value = (char *)value };
	struct ldg_err err = { 0 };
	struct ldg_values now;
	struct ldg_entry *e = NULL;

	state_now(f, target, &now);
	assert_int_equal(ldg_draft_set(&now, target, &kv, 1, "remote", NULL, 0,
				       force, &e, &err),
			 0);
	assert_non_null(e);
	forge_on_head(f, e, k, NULL, buf, len);
	ldg_entry_free(e);
	ldg_values_free(&now);
}

static int append_signed(struct fx *f, const uint8_t *buf, size_t len,
			 uint64_t *seq, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	int rc = ldg_append_signed(f->s, buf, len, &res, err);

	if (seq)
		*seq = res.n ? res.v[0].seq : 0;
	ldg_result_free(&res);
	return rc;
}

static void test_append_signed_stores_the_exact_bytes(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	const uint8_t *raw;
	struct ldg_read *r;
	uint8_t *buf, hash[LDG_HASH_BYTES], want[LDG_HASH_BYTES];
	size_t len, rlen;
	uint64_t seq = 0;

	add_key(f, f->deployer, "deployer", "staging/*");
	remote_set_bytes(f, f->deployer, "staging/api", "image.tag", "v2",
			 false, &buf, &len);
	if (append_signed(f, buf, len, &seq, &err))
		fail_msg("append: %s", err.msg);
	assert_int_equal(seq, 3);
	assert_int_equal(head_of(f, hash), 3);
	ldg_entry_hash(buf, len, want);
	assert_memory_equal(hash, want, LDG_HASH_BYTES);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_entry_raw(r, 3, &raw, &rlen), 0);
	assert_int_equal(rlen, len);
	assert_memory_equal(raw, buf, len);
	ldg_read_end(r);
	assert_value_at(f, "staging/api", "image.tag", 0, "v2");
	assert_verify_ok(f);
	free(buf);
}

static void test_append_signed_refuses_a_moved_head_with_estale(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t *buf;
	size_t len;

	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	must_set(f, "staging/api", "b", "2"); /* someone else was quicker */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -ESTALE);
	assert_int_equal(head_of(f, NULL), 2);
	/* the same bytes once more: still stale, never a fork */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -ESTALE);
	free(buf);
	/* rebuilt on the new head, it goes in */
	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), 0);
	assert_int_equal(head_of(f, NULL), 3);
	assert_verify_ok(f);
	free(buf);
}

static void test_append_signed_refuses_unknown_and_out_of_scope(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t *buf;
	size_t len;

	remote_set_bytes(f, f->outsider, "staging/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EACCES);
	free(buf);
	add_key(f, f->deployer, "deployer", "staging/*");
	remote_set_bytes(f, f->deployer, "prod/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EACCES);
	free(buf);
	assert_int_equal(head_of(f, NULL), 2);
}

static void test_append_signed_refuses_bad_bytes_and_signatures(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	uint8_t *buf, *longer;
	size_t len;

	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	buf[len - 1] ^= 1; /* signature */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBADMSG);
	buf[len - 1] ^= 1;
	longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0; /* trailing byte */
	assert_int_equal(append_signed(f, longer, len + 1, NULL, &err),
			 -EBADMSG);
	assert_int_equal(append_signed(f, buf, len / 2, NULL, &err), -EBADMSG);
	assert_int_equal(append_signed(f, (const uint8_t *)"", 0, NULL, &err),
			 -EBADMSG);
	assert_int_equal(head_of(f, NULL), 1);
	/* untouched, it is accepted */
	assert_int_equal(append_signed(f, buf, len, NULL, &err), 0);
	free(longer);
	free(buf);
}

/* An entry signed elsewhere carries the commitment of the keyring and
 * locks after it: a stale one, or none (version 1) after version 2
 * entries, is refused and nothing is written. */
static void test_append_signed_checks_the_commitment(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv = { .key = "image.tag", .value = "v9" };
	struct ldg_values none = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_entry lock = { .kind = LDG_KIND_LOCK,
				  .seq = 99,
				  .target = "prod/other" };
	uint8_t prev[LDG_HASH_BYTES], *buf;
	struct ldg_authz az;
	uint64_t head = head_of(f, prev);
	size_t len;

	/* no commitment: a version 1 entry after the version 2 ones */
	assert_int_equal(ldg_draft_set(&none, "staging/api", &kv, 1, "v1", NULL,
				       0, false, &e, NULL),
			 0);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, NULL, f->admin,
					&buf, &len, &err),
			 0);
	assert_int_equal(buf[0], 0x9b);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "version 1 entry after version 2"));
	assert_int_equal(head_of(f, NULL), head);
	free(buf);
	/* the commitment of another state: a lock that is not there */
	store_authz(f, &az);
	assert_int_equal(ldg_authz_apply(&az, &lock), 0);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, f->admin,
					&buf, &len, &err),
			 0);
	assert_int_equal(buf[0], 0x9c);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "authz field"));
	assert_int_equal(head_of(f, NULL), head);
	free(buf);
	ldg_authz_free(&az);
	/* the right one */
	store_authz(f, &az);
	assert_int_equal(ldg_entry_seal(e, head, prev, ORIGIN, &az, f->admin,
					&buf, &len, &err),
			 0);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), 0);
	assert_int_equal(head_of(f, NULL), head + 1);
	free(buf);
	ldg_authz_free(&az);
	ldg_entry_free(e);
}

static void test_append_signed_respects_the_lock(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_values now;
	struct ldg_entry *e = NULL;
	uint8_t *buf;
	size_t len;
	uint64_t seq;

	assert_int_equal(lock_t(f, f->admin, "staging/api", true, NULL), 0);
	remote_set_bytes(f, f->admin, "staging/api", "a", "1", false, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "hold it"));
	free(buf);
	/* forced: recorded as such, and accepted */
	remote_set_bytes(f, f->admin, "staging/api", "a", "1", true, &buf,
			 &len);
	assert_int_equal(append_signed(f, buf, len, &seq, &err), 0);
	free(buf);
	e = entry_at(f, seq);
	assert_non_null(ldg_kv_find(e->meta, e->n_meta, "forced"));
	ldg_entry_free(e);
	/* a lock draft on a locked target is nothing to do; unlock is */
	state_now(f, "staging/api", &now);
	assert_int_equal(ldg_draft_lock(&now, "staging/api", "x", true, &e,
					&err),
			 0);
	assert_null(e);
	assert_int_equal(ldg_draft_lock(&now, "staging/api", "x", false, &e,
					&err),
			 0);
	assert_non_null(e);
	assert_int_equal(e->kind, LDG_KIND_UNLOCK);
	ldg_entry_free(e);
	ldg_values_free(&now);
}

static void test_draft_set_skips_equal_values_and_checks_input(void **state)
{
	struct fx *f = *state;
	struct ldg_kv kv = { .key = "a", .value = "1" },
		      bad = { .key = "bad key", .value = "1" };
	struct ldg_err err = { 0 };
	struct ldg_values now;
	struct ldg_entry *e = NULL;
	const char *keys[1] = { "nope" };

	must_set(f, "staging/api", "a", "1");
	state_now(f, "staging/api", &now);
	assert_int_equal(ldg_draft_set(&now, "staging/api", &kv, 1, "r", NULL,
				       0, false, &e, &err),
			 0);
	assert_null(e);
	assert_int_equal(ldg_draft_unset(&now, "staging/api", keys, 1, "r",
					 NULL, 0, false, &e, &err),
			 0);
	assert_null(e);
	assert_int_equal(ldg_draft_set(&now, "staging/api", &bad, 1, "r", NULL,
				       0, false, &e, &err),
			 -EINVAL);
	assert_int_equal(ldg_draft_set(&now, "staging/api", &kv, 1, "", NULL, 0,
				       false, &e, &err),
			 -EINVAL);
	assert_null(e);
	ldg_values_free(&now);
}

/* A set of target by k sealed on (head, prev), as a remote writer builds
 * the second entry of a batch on the first. */
static void set_bytes_on(struct fx *f, const struct ldg_signer *k,
			 const char *target, const char *value, uint64_t head,
			 const uint8_t prev[LDG_HASH_BYTES], uint8_t **buf,
			 size_t *len)
{
	struct ldg_kv kv = { .key = "image.tag", .value = (char *)value };
	struct ldg_values none = { 0 };
	struct ldg_entry *e = NULL;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_draft_set(&none, target, &kv, 1, "batch", NULL, 0,
				       false, &e, NULL),
			 0);
	/* a set leaves the keyring and locks as they are: the head's
	 * state is also the state after the first entry of a batch */
	if (forge_seal(f->s, head, prev, e, k, buf, len, &err))
		fail_msg("seal: %s", err.msg);
	ldg_entry_free(e);
}

static void test_append_signed_batch_is_all_or_nothing(void **state)
{
	struct fx *f = *state;
	uint8_t prev[LDG_HASH_BYTES], *b[2];
	size_t len[2];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t head;
	char want[32];

	add_key(f, f->deployer, "deployer", "staging/*");
	head = head_of(f, prev);
	/* the second is out of the deployer's scope: neither is written */
	set_bytes_on(f, f->deployer, "staging/api", "b1", head, prev, &b[0],
		     &len[0]);
	ldg_entry_hash(b[0], len[0], prev);
	set_bytes_on(f, f->deployer, "prod/api", "b1", head + 1, prev, &b[1],
		     &len[1]);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b, len,
						 2, &res, &err),
			 -EACCES);
	snprintf(want, sizeof(want),
		 "entry %llu: ", (unsigned long long)head + 2);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(head_of(f, NULL), head);
	free(b[1]);
	/* in scope: both, in one transaction, seqs head+1 and head+2 */
	set_bytes_on(f, f->deployer, "staging/web", "b1", head + 1, prev, &b[1],
		     &len[1]);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b, len,
						 2, &res, &err),
			 0);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.v[0].seq, head + 1);
	assert_int_equal(res.v[1].seq, head + 2);
	ldg_result_free(&res);
	assert_int_equal(head_of(f, NULL), head + 2);
	assert_verify_ok(f);
	/* a second entry not built on the first: not "the head moved" (a
	 * retry would not mend it) but a bad batch; and no entries at all */
	free(b[0]);
	free(b[1]);
	head = head_of(f, prev);
	set_bytes_on(f, f->deployer, "staging/api", "b2", head, prev, &b[0],
		     &len[0]);
	set_bytes_on(f, f->deployer, "staging/web", "b2", head + 1, prev, &b[1],
		     &len[1]);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b, len,
						 2, &res, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not built on the entry before it"));
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)b, len,
						 0, &res, &err),
			 -EINVAL);
	assert_int_equal(head_of(f, NULL), head);
	free(b[0]);
	free(b[1]);
}

/* ---- copies (ledger mirror) ---- */

/* The stored bytes of entries 1..n of f, malloc'd copies. */
static void raw_entries(struct fx *f, uint64_t n, uint8_t **bufs, size_t *lens)
{
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *raw;
		assert_int_equal(ldg_entry_raw(r, i + 1, &raw, &lens[i]), 0);
		bufs[i] = malloc(lens[i]);
		assert_non_null(bufs[i]);
		memcpy(bufs[i], raw, lens[i]);
	}
	ldg_read_end(r);
}

/* The busy ledger's entries (bufs, lens; its head hash) and an empty
 * store to copy them into (*c); returns how many. */
static uint64_t copy_fixture(struct fx *f, uint8_t **bufs, size_t *lens,
			     uint8_t hash[LDG_HASH_BYTES], struct ldg_store **c)
{
	char dir[4200];
	uint64_t n;

	build_busy_ledger(f);
	n = head_of(f, hash);
	assert_true(n <= 16);
	raw_entries(f, n, bufs, lens);
	snprintf(dir, sizeof(dir), "%s/copy", f->tmp);
	assert_int_equal(ldg_store_open(dir, LDG_OPEN_CREATE, c, NULL), 0);
	return n;
}

static void test_append_copied_makes_an_identical_ledger(void **state)
{
	struct fx *f = *state;
	uint8_t *bufs[16], hash[LDG_HASH_BYTES], copy_hash[LDG_HASH_BYTES];
	size_t lens[16];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_store *c;
	struct ldg_read *r;
	uint64_t n = copy_fixture(f, bufs, lens, hash, &c), seq;

	/* the first page: init and two more; then the rest */
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, 3, &res, &err),
			 0);
	assert_int_equal(res.n, 3);
	ldg_result_free(&res);
	assert_string_equal(ldg_store_origin(c), ORIGIN);
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs + 3,
					   lens + 3, n - 3, &res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, copy_hash), 0);
	ldg_read_end(r);
	assert_int_equal(seq, n);
	assert_memory_equal(copy_hash, hash, LDG_HASH_BYTES);
	/* the copy verifies, indexes and all */
	{
		struct ldg_verify_opts vo = { .threads = 1 };
		struct ldg_verify_report rep;
		assert_int_equal(ldg_verify(c, &vo, &rep, &err), 0);
		assert_int_equal(rep.entries, n);
	}
	/* an init into a ledger that has one is refused */
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, 1, &res, &err),
			 -EINVAL);
	{
		char want[32];
		snprintf(want, sizeof(want),
			 "entry %llu: ", (unsigned long long)n + 1);
		assert_non_null(strstr(err.msg, want));
	}
	ldg_store_close(c);
	for (uint64_t i = 0; i < n; i++)
		free(bufs[i]);
}

static void test_append_copied_refuses_a_page_whole(void **state)
{
	struct fx *f = *state;
	uint8_t *bufs[16], hash[LDG_HASH_BYTES];
	size_t lens[16];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_store *c;
	struct ldg_read *r;
	uint64_t n = copy_fixture(f, bufs, lens, hash, &c), seq;

	/* entry 4's signature flipped: the page of 1..n is refused whole */
	bufs[3][lens[3] - 1] ^= 1;
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, n, &res, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "entry 4: bad signature"));
	assert_string_equal(ldg_store_origin(c), "");
	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, NULL), 0);
	ldg_read_end(r);
	assert_int_equal(seq, 0);
	bufs[3][lens[3] - 1] ^= 1;
	/* entry 1 with a flipped signature byte: the init is checked too */
	bufs[0][lens[0] - 1] ^= 1;
	assert_int_equal(ldg_append_copied(c, (const uint8_t *const *)bufs,
					   lens, 1, &res, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "entry 1: bad signature"));
	bufs[0][lens[0] - 1] ^= 1;
	/* a gap (entries 2 and 3 left out): -ESTALE, named at entry 2 */
	{
		const uint8_t *gap[2] = { bufs[0], bufs[3] };
		size_t glen[2] = { lens[0], lens[3] };
		assert_int_equal(ldg_append_copied(c, gap, glen, 2, &res, &err),
				 -ESTALE);
		assert_non_null(strstr(err.msg, "entry 2: "));
	}
	/* an init is not for ldg_append_signed(), even into an empty store */
	assert_int_equal(ldg_append_signed(c, bufs[0], lens[0], &res, &err),
			 -EINVAL);
	ldg_store_close(c);
	for (uint64_t i = 0; i < n; i++)
		free(bufs[i]);
}

/* A checkpoint of the first size entries of f's ledger, signed by k,
 * its root flipped when flip. */
static void source_checkpoint(struct fx *f, uint64_t size,
			      const struct ldg_signer *k, bool flip,
			      struct ldg_checkpoint *cp)
{
	uint8_t root[LDG_HASH_BYTES];
	struct ldg_read *r;
	char *note;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_merkle_root_at(r, size, root), 0);
	ldg_read_end(r);
	root[0] ^= flip;
	assert_int_equal(ldg_checkpoint_make(ORIGIN, size, root, k, &note,
					     NULL),
			 0);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, NULL), 0);
	free(note);
}

static uint64_t copy_head(struct ldg_store *c)
{
	struct ldg_read *r;
	uint64_t seq;

	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, NULL), 0);
	ldg_read_end(r);
	return seq;
}

static void test_append_copied_checkpoint_takes_entries_with_it(void **state)
{
	struct fx *f = *state;
	uint8_t *bufs[16], hash[LDG_HASH_BYTES];
	size_t lens[16];
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_store *c;
	uint64_t n = copy_fixture(f, bufs, lens, hash, &c);

	/* signed by a key the copied keyring does not hold: nothing */
	source_checkpoint(f, n, f->outsider, false, cp);
	assert_int_equal(ldg_append_copied_checkpoint(c,
						      (const uint8_t *const *)
							      bufs,
						      lens, n, cp, &res, &err),
			 -EACCES);
	assert_string_equal(err.msg, "checkpoint is not signed by a trusted "
				     "key of this ledger");
	assert_int_equal(copy_head(c), 0);
	assert_string_equal(ldg_store_origin(c), "");
	/* by its admin, another root: nothing */
	source_checkpoint(f, n, f->admin, true, cp);
	assert_int_equal(ldg_append_copied_checkpoint(c,
						      (const uint8_t *const *)
							      bufs,
						      lens, n, cp, &res, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "another Merkle root"));
	assert_int_equal(copy_head(c), 0);
	/* a bad entry before a good checkpoint: nothing either */
	source_checkpoint(f, n, f->admin, false, cp);
	bufs[3][lens[3] - 1] ^= 1;
	assert_int_equal(ldg_append_copied_checkpoint(c,
						      (const uint8_t *const *)
							      bufs,
						      lens, n, cp, &res, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "entry 4: bad signature"));
	assert_int_equal(copy_head(c), 0);
	bufs[3][lens[3] - 1] ^= 1;
	/* 3 entries with the checkpoint of 3, then the rest with n's */
	source_checkpoint(f, 3, f->admin, false, cp);
	assert_int_equal(ldg_append_copied_checkpoint(c,
						      (const uint8_t *const *)
							      bufs,
						      lens, 3, cp, &res, &err),
			 0);
	assert_int_equal(res.n, 3);
	ldg_result_free(&res);
	source_checkpoint(f, n, f->admin, false, cp);
	assert_int_equal(ldg_append_copied_checkpoint(c,
						      (const uint8_t *const *)
								      bufs +
							      3,
						      lens + 3, n - 3, cp, &res,
						      &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(copy_head(c), n);
	/* no entries: the check alone */
	assert_int_equal(ldg_append_copied_checkpoint(c, NULL, NULL, 0, cp,
						      &res, &err),
			 0);
	assert_int_equal(res.n, 0);
	ldg_store_close(c);
	for (uint64_t i = 0; i < n; i++)
		free(bufs[i]);
	free(cp);
}

/* ---- the rule of a rollback ---- */

static void test_append_refuses_a_rollback_that_does_not_restore(void **state)
{
	struct fx *f = *state;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_entry *e;
	uint8_t *buf;
	size_t len;
	uint64_t good;

	add_key(f, f->deployer, "deployer", "staging/*");
	good = must_set(f, "staging/api", "image.tag", "good");
	must_set(f, "staging/api", "image.tag", "bad");
	must_set(f, "staging/api", "replicas", "3");

	/* signed by an authorised key, well chained: the values are wrong */
	forged_rollback(f, f->deployer, good, "image.tag", "EVIL", &buf, &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EPERM);
	assert_non_null(strstr(err.msg, "image.tag"));
	assert_non_null(strstr(err.msg, "\"EVIL\""));
	assert_int_equal(head_of(f, NULL), 5);
	free(buf);
	/* right value, but replicas (absent at good) left in place */
	forged_rollback(f, f->deployer, good, "image.tag", "good", &buf, &len);
	assert_int_equal(append_signed(f, buf, len, NULL, &err), -EPERM);
	assert_non_null(strstr(err.msg, "replicas"));
	free(buf);
	/* the same through a batch and as a mirror's copy */
	forged_rollback(f, f->deployer, good, "image.tag", "EVIL", &buf, &len);
	assert_int_equal(ldg_append_signed_batch(f->s,
						 (const uint8_t *const *)&buf,
						 &len, 1, &res, &err),
			 -EPERM);
	assert_int_equal(ldg_append_copied(f->s, (const uint8_t *const *)&buf,
					   &len, 1, &res, &err),
			 -EPERM);
	free(buf);
	/* and a local append of a caller-built draft */
	e = ldg_entry_new(LDG_KIND_ROLLBACK, "staging/api", "local");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "EVIL"), 0);
	assert_int_equal(ldg_entry_add_change(e, "replicas", NULL), 0);
	assert_int_equal(ldg_entry_add_meta(e, "rollback-to", "3"), 0);
	assert_int_equal(ldg_append(f->s, f->admin, e, &res, &err), -EPERM);
	ldg_entry_free(e);
	assert_int_equal(head_of(f, NULL), 5);
	assert_value_at(f, "staging/api", "image.tag", 0, "bad");

	/* the honest one passes every path */
	e = ldg_entry_new(LDG_KIND_ROLLBACK, "staging/api", "local");
	assert_int_equal(ldg_entry_add_change(e, "image.tag", "good"), 0);
	assert_int_equal(ldg_entry_add_change(e, "replicas", NULL), 0);
	assert_int_equal(ldg_entry_add_meta(e, "rollback-to", "3"), 0);
	if (ldg_append(f->s, f->admin, e, &res, &err))
		fail_msg("honest rollback: %s", err.msg);
	ldg_entry_free(e);
	ldg_result_free(&res);
	assert_value_at(f, "staging/api", "image.tag", 0, "good");
	assert_verify_ok(f);
}

/* A new entry must fit an entry bundle's 16-bit length: a signed one
 * of 65,536 bytes is refused before anything is read (alone and in a
 * batch), naming its size and the cap; a copy (a mirror of a ledger
 * written before the cap) is held to what the decoder takes, so the
 * same bytes get the decoder's answer, and a copy over 1 MiB the size's. */
static void test_append_signed_refuses_entries_over_the_bundle_cap(void **state)
{
	struct fx *f = *state;
	size_t big = LDG_BUNDLE_ENTRY_MAX + 1, huge = LDG_ENTRY_MAX + 1;
	uint8_t *buf = calloc(1, huge), before[LDG_HASH_BYTES];
	const uint8_t *bufs[1] = { buf };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint64_t head = head_of(f, before);

	assert_non_null(buf);
	buf[0] = 0x9c; /* an entry's array header: the rest is zeros */
	assert_int_equal(append_signed(f, buf, big, NULL, &err), -EBADMSG);
	assert_string_equal(err.msg, "entry too large: 65536 bytes, a new "
				     "entry is at most 65535");
	assert_int_equal(ldg_append_signed_batch(f->s, bufs, &big, 1, &res,
						 &err),
			 -EBADMSG);
	assert_string_equal(err.msg, "entry too large: 65536 bytes, a new "
				     "entry is at most 65535");
	assert_int_equal(ldg_append_copied(f->s, bufs, &big, 1, &res, &err),
			 -EBADMSG);
	assert_null(strstr(err.msg, "too large"));
	assert_int_equal(ldg_append_copied(f->s, bufs, &huge, 1, &res, &err),
			 -EBADMSG);
	assert_string_equal(err.msg, "entry too large: 1048577 bytes, an "
				     "entry is at most 1048576");
	assert_int_equal(res.n, 0);
	assert_int_equal(head_of(f, NULL), head);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_append_signed_stores_the_exact_bytes),
		T(test_append_signed_checks_the_commitment),
		T(test_append_signed_refuses_a_moved_head_with_estale),
		T(test_append_signed_refuses_unknown_and_out_of_scope),
		T(test_append_signed_refuses_bad_bytes_and_signatures),
		T(test_append_signed_respects_the_lock),
		T(test_draft_set_skips_equal_values_and_checks_input),
		T(test_append_refuses_a_rollback_that_does_not_restore),
		T(test_append_signed_batch_is_all_or_nothing),
		T(test_append_copied_makes_an_identical_ledger),
		T(test_append_copied_refuses_a_page_whole),
		T(test_append_copied_checkpoint_takes_entries_with_it),
		T(test_append_signed_refuses_entries_over_the_bundle_cap),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
