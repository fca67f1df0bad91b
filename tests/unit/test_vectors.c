/*
 * Checks the committed vectors of tests/vectors/ (directory in $VECTORS,
 * or argv[1]) against INDEX.txt:
 *   - every good entry decodes, re-encodes to the same bytes, has the
 *     listed hash, links to the one before and carries a good signature
 *     by a key the chain itself has trusted; the tree head matches;
 *   - every bad entry fails, standing in for entry 3 (or the at=N of
 *     INDEX.txt), exactly at the stage INDEX.txt names (decode, chain,
 *     authorise, restore, signature), both
 *     under a small independent check written here and under the
 *     library's full ldg_verify() on a real store.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authz.h"
#include "merkle.h"
#include "ops.h"
#include "rawdb.h"
#include "store.h"
#include "testlib.h"
#include "util.h"
#include "verify.h"

#define MAX_VECTORS 64
#define MAX_KEYS 8

struct vec {
	char file[256];
	char stage[32];		      /* bad: the stage it must fail */
	uint64_t at;		      /* bad: the entry it stands in for */
	uint64_t seq;		      /* good */
	uint8_t hash[LDG_HASH_BYTES]; /* good */
	uint8_t *bytes;
	size_t len;
};

struct vkeys {
	char name[LDG_KEYNAME_MAX + 1];
	struct ldg_vkey vk;
};

static const char *dir;
static char origin[LDG_ORIGIN_MAX + 1];
static struct vkeys keys[MAX_KEYS];
static size_t n_keys;
static struct vec good[MAX_VECTORS], bad[MAX_VECTORS];
static size_t n_good, n_bad;
static uint64_t root_size;
static uint8_t root[LDG_HASH_BYTES];
/* 'authz SEQ HEX': the commitment after good entry SEQ */
static uint8_t authz_after[MAX_VECTORS][LDG_HASH_BYTES];
static bool have_authz[MAX_VECTORS];

static void load_bytes(struct vec *v)
{
	char path[4096];
	char *text;

	snprintf(path, sizeof(path), "%s/%s", dir, v->file);
	text = tl_read_file(path, NULL);
	if (!text)
		fail_msg("cannot read %s", path);
	if (tl_unhex(text, &v->bytes, &v->len))
		fail_msg("%s is not hex", path);
	free(text);
}

static int group_setup(void **state)
{
	char path[4096], line[1024];
	FILE *f;

	if (ldg_crypto_init())
		return -1;
	snprintf(path, sizeof(path), "%s/INDEX.txt", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s (set VECTORS)\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char a[512], b[512], c[512], d[512];
		int n;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		n = sscanf(line, "%511s %511s %511s %511s", a, b, c, d);
		if (!strcmp(a, "origin") && n == 2) {
			snprintf(origin, sizeof(origin), "%.255s", line + 7);
		} else if (!strcmp(a, "key") && n == 3 && n_keys < MAX_KEYS) {
			snprintf(keys[n_keys].name, sizeof(keys[0].name),
				 "%.64s", b);
			if (ldg_vkey_parse(c, &keys[n_keys].vk, NULL))
				return -1;
			n_keys++;
		} else if (!strcmp(a, "tree-root") && n == 3) {
			root_size = strtoull(b, NULL, 10);
			if (strlen(c) != 64 || ldg_unhex(c, root, 32))
				return -1;
		} else if (!strcmp(a, "good") && n == 4 &&
			   n_good < MAX_VECTORS) {
			struct vec *v = &good[n_good++];
			snprintf(v->file, sizeof(v->file), "%.255s", b);
			if (strncmp(c, "seq=", 4) || strncmp(d, "hash=", 5))
				return -1;
			v->seq = strtoull(c + 4, NULL, 10);
			if (strlen(d + 5) != 64 ||
			    ldg_unhex(d + 5, v->hash, 32))
				return -1;
		} else if (!strcmp(a, "authz") && n == 3) {
			uint64_t seq = strtoull(b, NULL, 10);
			if (seq >= MAX_VECTORS || strlen(c) != 64 ||
			    ldg_unhex(c, authz_after[seq], 32))
				return -1;
			have_authz[seq] = true;
		} else if (!strcmp(a, "bad") && (n == 3 || n == 4) &&
			   n_bad < MAX_VECTORS) {
			struct vec *v = &bad[n_bad++];
			snprintf(v->file, sizeof(v->file), "%.255s", b);
			if (strncmp(c, "fails=", 6))
				return -1;
			snprintf(v->stage, sizeof(v->stage), "%.31s", c + 6);
			v->at = 3;
			if (n == 4 && (strncmp(d, "at=", 3) ||
				       ldg_parse_seq(d + 3, &v->at) ||
				       v->at < 3 || v->at > n_good))
				return -1;
		} else {
			fprintf(stderr, "INDEX.txt: cannot parse: %s\n", line);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	for (size_t i = 0; i < n_good; i++)
		free(good[i].bytes);
	for (size_t i = 0; i < n_bad; i++)
		free(bad[i].bytes);
	return 0;
}

static void load_all(void)
{
	for (size_t i = 0; i < n_good; i++)
		if (!good[i].bytes)
			load_bytes(&good[i]);
	for (size_t i = 0; i < n_bad; i++)
		if (!bad[i].bytes)
			load_bytes(&bad[i]);
}

static const struct vec *good_seq(uint64_t seq)
{
	for (size_t i = 0; i < n_good; i++)
		if (good[i].seq == seq)
			return &good[i];
	fail_msg("no good vector for seq %llu", (unsigned long long)seq);
	return NULL;
}

static const struct ldg_vkey *index_key(const char *name)
{
	for (size_t i = 0; i < n_keys; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i].vk;
	fail_msg("INDEX.txt has no key %s", name);
	return NULL;
}

/* ---- an independent, minimal verifier ---- */

struct trusted {
	struct ldg_vkey vk;
	char role[16];
	char scopes[256];
};

/* The keyring after the good entries before seq `upto`. */
static size_t keyring(uint64_t upto, struct trusted *out)
{
	size_t n = 0;

	for (uint64_t seq = 1; seq < upto; seq++) {
		const struct vec *v = good_seq(seq);
		struct ldg_entry *e = NULL;
		const struct ldg_kv *kv;

		assert_int_equal(ldg_entry_decode(v->bytes, v->len, &e, NULL),
				 0);
		if (e->kind == LDG_KIND_INIT || e->kind == LDG_KIND_KEY_ADD) {
			kv = ldg_kv_find(e->changes, e->n_changes, "vkey");
			assert_int_equal(ldg_vkey_parse(kv->value, &out[n].vk,
							NULL),
					 0);
			kv = ldg_kv_find(e->changes, e->n_changes, "role");
			snprintf(out[n].role, sizeof(out[n].role), "%s",
				 kv->value);
			kv = ldg_kv_find(e->changes, e->n_changes, "scopes");
			snprintf(out[n].scopes, sizeof(out[n].scopes), "%s",
				 kv->value);
			n++;
		}
		ldg_entry_free(e);
	}
	return n;
}

static bool scope_ok(const char *scopes, const char *target)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", scopes);
	for (char *t = strtok_r(buf, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		if (ldg_scope_match(t, target))
			return true;
	return false;
}

/* The value of key in target after the good entries 1..upto (section 10,
 * "State at N", replayed here), malloc'd; NULL when it has none. */
static char *value_after(const char *target, const char *key, uint64_t upto)
{
	char *val = NULL;

	for (uint64_t seq = 1; seq <= upto; seq++) {
		const struct vec *v = good_seq(seq);
		struct ldg_entry *e = NULL;
		const struct ldg_kv *kv = NULL;

		assert_int_equal(ldg_entry_decode(v->bytes, v->len, &e, NULL),
				 0);
		if (ldg_kind_changes_values(e->kind) &&
		    !strcmp(e->target, target))
			kv = ldg_kv_find(e->changes, e->n_changes, key);
		if (kv) {
			free(val);
			val = kv->value ? strdup(kv->value) : NULL;
		}
		ldg_entry_free(e);
	}
	return val;
}

/* Section 8a for one key of rollback e at seq: its value after e is its
 * value at rollback-to. */
static bool key_restored(const struct ldg_entry *e, uint64_t seq, uint64_t to,
			 const char *key)
{
	const struct ldg_kv *c = ldg_kv_find(e->changes, e->n_changes, key);
	char *after, *want = value_after(e->target, key, to);
	bool same;

	if (c)
		after = c->value ? strdup(c->value) : NULL;
	else
		after = value_after(e->target, key, seq - 1);
	same = after && want ? !strcmp(after, want) : after == want;
	free(after);
	free(want);
	return same;
}

/* Section 8a: every key the rollback names or its target had before it. */
static bool restores(const struct ldg_entry *e, uint64_t seq)
{
	const struct ldg_kv *rb =
		ldg_kv_find(e->meta, e->n_meta, "rollback-to");
	uint64_t to = strtoull(rb->value, NULL, 10);
	bool ok = true;

	for (size_t i = 0; i < e->n_changes && ok; i++)
		ok = key_restored(e, seq, to, e->changes[i].key);
	for (uint64_t s = 1; s < seq && ok; s++) {
		struct ldg_entry *g = NULL;

		assert_int_equal(ldg_entry_decode(good_seq(s)->bytes,
						  good_seq(s)->len, &g, NULL),
				 0);
		if (ldg_kind_changes_values(g->kind) &&
		    !strcmp(g->target, e->target))
			for (size_t i = 0; i < g->n_changes && ok; i++)
				ok = key_restored(e, seq, to,
						  g->changes[i].key);
		ldg_entry_free(g);
	}
	return ok;
}

/* The keyring and locks after the good entries before seq `upto`, as
 * the library replays them. */
static void authz_before(uint64_t upto, struct ldg_authz *az)
{
	ldg_authz_init(az);
	for (uint64_t seq = 1; seq < upto; seq++) {
		const struct vec *v = good_seq(seq);
		struct ldg_entry *e = NULL;

		assert_int_equal(ldg_entry_decode(v->bytes, v->len, &e, NULL),
				 0);
		assert_int_equal(ldg_authz_apply(az, e), 0);
		ldg_entry_free(e);
	}
}

/* The first check that entry `seq` of the good chain, replaced by these
 * bytes, fails: "decode", "chain", "authorise", "restore",
 * "signature", "commitment" or "ok". */
static const char *classify(const uint8_t *b, size_t len, uint64_t seq)
{
	struct trusted ring[MAX_KEYS];
	size_t n = keyring(seq, ring);
	const struct trusted *signer = NULL;
	const struct vec *before = good_seq(seq - 1);
	struct ldg_entry *e = NULL;
	const char *stage = "ok";

	if (ldg_entry_decode(b, len, &e, NULL))
		return "decode";
	if (e->seq != seq || memcmp(e->prev, before->hash, LDG_HASH_BYTES)) {
		stage = "chain";
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!memcmp(ring[i].vk.keyid, e->signer, LDG_KEYID_BYTES))
			signer = &ring[i];
	if (!signer ||
	    !(strcmp(signer->role, "admin") == 0 ||
	      (strcmp(signer->role, "deployer") == 0 &&
	       (ldg_kind_changes_values(e->kind) ||
		ldg_kind_on_proposal(e->kind)))) ||
	    !scope_ok(signer->scopes, e->target)) {
		stage = "authorise";
		goto out;
	}
	if (e->kind == LDG_KIND_APPROVE) {
		/* section 8b: never by the proposal's author */
		struct ldg_entry *p = NULL;
		uint64_t seq_p = strtoull(e->changes[0].value, NULL, 10);
		assert_true(seq_p < seq);
		assert_int_equal(ldg_entry_decode(good_seq(seq_p)->bytes,
						  good_seq(seq_p)->len, &p,
						  NULL),
				 0);
		if (!memcmp(p->signer, e->signer, LDG_KEYID_BYTES))
			stage = "authorise";
		ldg_entry_free(p);
		if (strcmp(stage, "ok"))
			goto out;
	}
	if (e->kind == LDG_KIND_ROLLBACK && !restores(e, seq)) {
		stage = "restore";
		goto out;
	}
	if (ldg_entry_verify_sig(b, len, origin, signer->vk.pk)) {
		stage = "signature";
		goto out;
	}
	if (e->version == 2) {
		struct ldg_authz az;
		authz_before(seq, &az);
		if (ldg_authz_follow(&az, e, NULL))
			stage = "commitment";
		ldg_authz_free(&az);
	}
out:
	ldg_entry_free(e);
	return stage;
}

/* ---- the library's verifier on a real store ---- */

/* A ledger in tmp/ledger holding the good entries 1..upto, indexed. */
static char *ledger_with_good(const char *tmp, uint64_t upto)
{
	char *ldir = malloc(4096);
	struct ldg_store *s = NULL;
	struct ldg_err err = { 0 };
	uint64_t count = 0;

	snprintf(ldir, 4096, "%s/ledger", tmp);
	assert_int_equal(ldg_store_open(ldir, LDG_OPEN_CREATE, &s, &err), 0);
	ldg_store_close(s);
	for (uint64_t seq = 1; seq <= upto; seq++) {
		const struct vec *v = good_seq(seq);
		assert_int_equal(rawdb_store_entry(ldir, seq, v->bytes, v->len),
				 0);
	}
	assert_int_equal(ldg_store_open(ldir, 0, &s, &err), 0);
	if (ldg_reindex(s, &count, &err))
		fail_msg("reindex: %s", err.msg);
	assert_int_equal(count, upto);
	ldg_store_close(s);
	return ldir;
}

static int run_verify(const char *ldir, struct ldg_verify_report *rep)
{
	struct ldg_verify_opts o = { .threads = 2 };
	struct ldg_store *s = NULL;
	struct ldg_err err = { 0 };
	int rc;

	assert_int_equal(ldg_store_open(ldir, 0, &s, &err), 0);
	rc = ldg_verify(s, &o, rep, &err);
	if (rc && rc != -EBADMSG)
		fail_msg("verify could not run: %s", err.msg);
	ldg_store_close(s);
	return rc;
}

/* ---- tests ---- */

static void test_index_lists_every_vector_file(void **state)
{
	static const char *const sub[] = { "good", "bad" };
	size_t seen = 0;

	assert_string_equal(origin, "example.com/vectors");
	assert_int_equal(n_good, 12);
	assert_true(n_bad >= 10);
	assert_int_equal(root_size, 12);
	for (int s = 0; s < 2; s++) {
		char path[4096];
		DIR *d;
		struct dirent *de;
		snprintf(path, sizeof(path), "%s/%s", dir, sub[s]);
		d = opendir(path);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			char rel[512];
			bool listed = false;
			size_t nl = strlen(de->d_name);
			if (nl < 5 || strcmp(de->d_name + nl - 4, ".hex"))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", sub[s], de->d_name);
			for (size_t i = 0; i < n_good; i++)
				listed |= !strcmp(good[i].file, rel);
			for (size_t i = 0; i < n_bad; i++)
				listed |= !strcmp(bad[i].file, rel);
			if (!listed)
				fail_msg("%s is not listed in INDEX.txt", rel);
			seen++;
		}
		closedir(d);
	}
	assert_int_equal(seen, n_good + n_bad);
	/* and every listed file exists and is hex */
	load_all();
}

static void test_good_vectors_decode_canonically_with_listed_hash(void **state)
{
	load_all();
	for (size_t i = 0; i < n_good; i++) {
		struct ldg_entry *e = NULL;
		struct ldg_err err = { 0 };
		uint8_t h[LDG_HASH_BYTES], *again = NULL;
		size_t alen;

		if (ldg_entry_decode(good[i].bytes, good[i].len, &e, &err))
			fail_msg("%s: %s", good[i].file, err.msg);
		assert_int_equal(e->seq, good[i].seq);
		assert_int_equal(ldg_entry_encode(e, true, &again, &alen), 0);
		assert_int_equal(alen, good[i].len);
		assert_memory_equal(again, good[i].bytes, alen);
		ldg_entry_hash(good[i].bytes, good[i].len, h);
		assert_memory_equal(h, good[i].hash, LDG_HASH_BYTES);
		free(again);
		ldg_entry_free(e);
	}
}

static void test_good_chain_links_and_signatures_hold(void **state)
{
	static const enum ldg_kind kinds[5] = { 0, LDG_KIND_INIT,
						LDG_KIND_KEY_ADD, LDG_KIND_SET,
						LDG_KIND_ROLLBACK };
	uint8_t zero[LDG_HASH_BYTES] = { 0 };
	struct trusted ring[MAX_KEYS];

	load_all();
	for (uint64_t seq = 1; seq <= 4; seq++) {
		const struct vec *v = good_seq(seq);
		struct ldg_entry *e = NULL;
		size_t n = keyring(seq, ring);
		bool signed_ok = false;

		assert_int_equal(ldg_entry_decode(v->bytes, v->len, &e, NULL),
				 0);
		assert_int_equal(e->kind, kinds[seq]);
		if (seq == 1) {
			struct ldg_vkey self;
			assert_memory_equal(e->prev, zero, LDG_HASH_BYTES);
			assert_string_equal(e->changes[0].key, "origin");
			assert_string_equal(e->changes[0].value, origin);
			/* init is signed by the key it records */
			assert_int_equal(ldg_vkey_parse(e->changes[3].value,
							&self, NULL),
					 0);
			ring[0].vk = self;
			n = 1;
		} else {
			assert_memory_equal(e->prev, good_seq(seq - 1)->hash,
					    LDG_HASH_BYTES);
		}
		for (size_t i = 0; i < n; i++) {
			if (memcmp(ring[i].vk.keyid, e->signer, 4))
				continue;
			signed_ok =
				ldg_entry_verify_sig(v->bytes, v->len, origin,
						     ring[i].vk.pk) == 0;
		}
		assert_true(signed_ok);
		if (seq > 1)
			assert_string_equal(classify(v->bytes, v->len, seq),
					    "ok");
		ldg_entry_free(e);
	}
	/* the keys the chain trusts are the ones INDEX.txt lists */
	assert_int_equal(keyring(5, ring), 2);
	assert_memory_equal(ring[0].vk.pk, index_key("admin")->pk, 32);
	assert_memory_equal(ring[1].vk.pk, index_key("deployer")->pk, 32);
	assert_string_equal(ring[1].scopes, "staging/*");
}

static void test_good_chain_tree_head_matches(void **state)
{
	struct ldg_merkle m;
	uint8_t got[LDG_HASH_BYTES];

	load_all();
	ldg_merkle_init(&m);
	for (uint64_t seq = 1; seq <= root_size; seq++)
		ldg_merkle_push(&m, good_seq(seq)->hash);
	ldg_merkle_root(&m, got);
	assert_memory_equal(got, root, LDG_HASH_BYTES);
}

static void test_every_bad_vector_fails_at_its_stage(void **state)
{
	load_all();
	for (size_t i = 0; i < n_bad; i++) {
		const char *got = classify(bad[i].bytes, bad[i].len, bad[i].at);
		if (strcmp(got, bad[i].stage))
			fail_msg("%s: fails at %s, INDEX.txt says %s",
				 bad[i].file, got, bad[i].stage);
	}
}

static void test_decode_stage_vectors_carry_good_signatures(void **state)
{
	load_all();
	/* the non-canonical ones were re-signed over their own bytes: only
	 * the strict decoder stands between them and acceptance */
	for (size_t i = 0; i < n_bad; i++) {
		if (strcmp(bad[i].stage, "decode") ||
		    strstr(bad[i].file, "trailing") ||
		    strstr(bad[i].file, "truncated"))
			continue;
		assert_int_equal(ldg_entry_verify_sig(bad[i].bytes, bad[i].len,
						      origin,
						      index_key("deployer")->pk),
				 0);
	}
}

static void test_good_chain_passes_ldg_verify(void **state)
{
	struct ldg_verify_report rep;
	char *tmp = tl_mkdtemp(), *ldir;
	struct ldg_store *s = NULL;
	struct ldg_read *r;
	struct ldg_values v;

	load_all();
	uint64_t seq;

	ldir = ledger_with_good(tmp, 12);
	if (run_verify(ldir, &rep))
		fail_msg("verify: seq %llu: %s",
			 (unsigned long long)rep.bad_seq, rep.problem);
	assert_int_equal(rep.entries, 12);
	assert_memory_equal(rep.head_hash, good_seq(12)->hash, LDG_HASH_BYTES);
	assert_memory_equal(rep.root, root, LDG_HASH_BYTES);
	assert_string_equal(rep.origin, origin);

	/* the replayed state: set at 3, rolled back (unset) at 4, locked
	 * at 5, set through the lock at 6, proposed at 9 (under the policy
	 * of 7), in effect at 10 (its approval); checked, drifted, at 11;
	 * prod/api set to typed values at 12 */
	assert_int_equal(ldg_store_open(ldir, 0, &s, NULL), 0);
	assert_string_equal(ldg_store_origin(s), origin);
	assert_int_equal(ldg_read_begin(s, &r, NULL), 0);
	assert_int_equal(ldg_state_get(r, "staging/api", 3, &v), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(ldg_values_find(&v, "image.tag")->value, "1.2.3");
	assert_string_equal(ldg_values_find(&v, "replicas")->value, "2");
	ldg_values_free(&v);
	assert_int_equal(ldg_state_get(r, "staging/api", 4, &v), 0);
	assert_int_equal(v.n, 0);
	ldg_values_free(&v);
	assert_int_equal(ldg_state_get(r, "staging/api", 9, &v), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(ldg_values_find(&v, "image.tag")->value, "1.2.4");
	assert_int_equal(v.lock_seq, 5);
	ldg_values_free(&v);
	assert_int_equal(ldg_state_get(r, "staging/api", 0, &v), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(ldg_values_find(&v, "image.tag")->value, "1.2.5");
	assert_int_equal(ldg_values_find(&v, "image.tag")->seq, 10);
	assert_int_equal(v.lock_seq, 5);
	ldg_values_free(&v);
	assert_int_equal(ldg_last_drift(r, "staging/api", &seq), 0);
	assert_int_equal(seq, 11);
	/* the typed values of 12 (docs/format.md 3.2), each its type */
	assert_int_equal(ldg_state_get(r, "prod/api", 0, &v), 0);
	assert_int_equal(v.n, 9);
	{
		static const char *const want[][3] = {
			{ "big", "1e+300", "j" },
			{ "flags.off", "false", "j" },
			{ "flags.on", "true", "j" },
			{ "image.tag", "1.2.6", "s" },
			{ "list", "[1,\"a\",true]", "j" },
			{ "nothing", "null", "j" },
			{ "offset", "-7", "j" },
			{ "ratio", "1.5", "j" },
			{ "replicas", "3", "j" },
		};
		for (size_t i = 0; i < 9; i++) {
			const struct ldg_value *x =
				ldg_values_find(&v, want[i][0]);
			assert_non_null(x);
			assert_string_equal(x->value, want[i][1]);
			assert_int_equal(x->type, want[i][2][0] == 'j'
							  ? LDG_V_JSON
							  : LDG_V_STR);
		}
	}
	ldg_values_free(&v);
	ldg_read_end(r);
	ldg_store_close(s);
	tl_rmrf(tmp);
	free(tmp);
	free(ldir);
}

static void test_every_bad_vector_fails_ldg_verify_at_its_seq(void **state)
{
	static const struct {
		const char *stage, *says;
	} words[] = {
		{ "decode", "decoded" },
		{ "chain", "prev" },
		{ "authorise", "not authorised" },
		{ "restore", "not a valid rollback" },
		{ "signature", "signature" },
		{ "commitment", "authz field" },
	};

	load_all();
	for (size_t i = 0; i < n_bad; i++) {
		struct ldg_verify_report rep;
		char *tmp = tl_mkdtemp();
		char *ldir = ledger_with_good(tmp, bad[i].at - 1);
		const char *says = NULL;

		assert_int_equal(rawdb_store_entry(ldir, bad[i].at,
						   bad[i].bytes, bad[i].len),
				 0);
		if (run_verify(ldir, &rep) != -EBADMSG)
			fail_msg("%s: ldg_verify accepted it", bad[i].file);
		if (rep.bad_seq != bad[i].at)
			fail_msg("%s: bad seq %llu (%s)", bad[i].file,
				 (unsigned long long)rep.bad_seq, rep.problem);
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
			if (!strcmp(words[w].stage, bad[i].stage))
				says = words[w].says;
		assert_non_null(says);
		if (!strstr(rep.problem, says))
			fail_msg("%s: problem \"%s\" does not say \"%s\"",
				 bad[i].file, rep.problem, says);
		tl_rmrf(tmp);
		free(tmp);
		free(ldir);
	}
}

/* keys/INDEX.txt: every good key file loads as the listed name and key
 * id, every bad one is refused, and every .pub file there is listed. */
static void test_key_file_vectors(void **state)
{
	char path[4096], line[512];
	size_t n_ok = 0, n_refused = 0, listed = 0, files = 0;
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/keys/INDEX.txt", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char a[16], file[256], name[80], id[16], hex[9];
		struct ldg_vkey vk;
		struct ldg_err err = { 0 };
		int n;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		n = sscanf(line, "%15s %255s %79s %15s", a, file, name, id);
		snprintf(path, sizeof(path), "%s/keys/%s", dir, file);
		if (!strcmp(a, "good") && n == 4) {
			if (ldg_vkey_load(path, &vk, &err))
				fail_msg("good key %s refused: %s", file,
					 err.msg);
			assert_string_equal(vk.name, name);
			ldg_hex(vk.keyid, LDG_KEYID_BYTES, hex);
			assert_string_equal(hex, id);
			n_ok++;
		} else if (!strcmp(a, "bad") && n == 2) {
			if (ldg_vkey_load(path, &vk, &err) != -EINVAL)
				fail_msg("bad key %s not refused", file);
			n_refused++;
		} else {
			fail_msg("keys/INDEX.txt: cannot parse: %s", line);
		}
		listed++;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/keys", dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		files += nl > 4 && !strcmp(de->d_name + nl - 4, ".pub");
	}
	closedir(d);
	assert_int_equal(files, listed);
	assert_true(n_ok >= 3);
	assert_true(n_refused >= 10);
}

/* The 'authz' lines are the library's commitment after each good entry,
 * and the version 2 entries carry exactly that one. */
static void test_authz_lines_are_the_commitments_of_the_chain(void **state)
{
	struct ldg_authz az;
	uint8_t have[LDG_HASH_BYTES];

	load_all();
	for (uint64_t seq = 1; seq <= n_good; seq++) {
		const struct vec *v = good_seq(seq);
		struct ldg_entry *e = NULL;

		authz_before(seq, &az);
		assert_int_equal(ldg_entry_decode(v->bytes, v->len, &e, NULL),
				 0);
		assert_int_equal(ldg_authz_follow(&az, e, NULL), 0);
		assert_int_equal(ldg_authz_commit(&az, have), 0);
		assert_true(have_authz[seq]);
		assert_memory_equal(have, authz_after[seq], LDG_HASH_BYTES);
		assert_int_equal(e->version, seq >= 5 ? 2 : 1);
		if (e->version == 2)
			assert_memory_equal(e->authz, have, LDG_HASH_BYTES);
		{
			/* STATE is [KEYS, LOCKS] until the first policy
			 * (seq 7), [KEYS, LOCKS, POLICIES, WINDOWS,
			 * PENDING] from then on */
			uint8_t *st = NULL;
			size_t stlen;
			assert_int_equal(ldg_authz_encode(&az, &st, &stlen), 0);
			assert_int_equal(st[0], seq >= 7 ? 0x95 : 0x92);
			free(st);
		}
		ldg_entry_free(e);
		ldg_authz_free(&az);
	}
}

/* docs/format.md 8.1: the state after genesis alone, byte by byte. */
static void test_authz_state_of_genesis_is_the_documented_bytes(void **state)
{
	const struct ldg_vkey *admin = index_key("admin");
	struct ldg_authz az, back;
	uint8_t want[64], *buf = NULL;
	size_t len, n = 0;

	load_all();
	authz_before(2, &az);
	assert_int_equal(ldg_authz_encode(&az, &buf, &len), 0);
	memcpy(want + n,
	       "\x92\x91\x96\xa5"
	       "admin"
	       "\xc4\x20",
	       11);
	n += 11;
	memcpy(want + n, admin->pk, LDG_PK_BYTES);
	n += LDG_PK_BYTES;
	memcpy(want + n,
	       "\xa5"
	       "admin"
	       "\xa1*\x01\x00\x90",
	       11);
	n += 11;
	assert_int_equal(len, n);
	assert_memory_equal(buf, want, n);
	/* decoding takes exactly these bytes back */
	assert_int_equal(ldg_authz_decode(buf, len, &back, NULL), 0);
	assert_int_equal(back.n_keys, 1);
	assert_int_equal(back.n_locks, 0);
	assert_string_equal(back.keys[0].vkey.name, "admin");
	assert_memory_equal(back.keys[0].vkey.keyid, admin->keyid,
			    LDG_KEYID_BYTES);
	ldg_authz_free(&back);
	/* and no other encoding of them: "added" as a uint8 (cc 01), a
	 * trailing byte, a byte short */
	{
		uint8_t wide[80];
		memcpy(wide, want, n - 3);
		wide[n - 3] = 0xcc;
		memcpy(wide + n - 2, want + n - 3, 3);
		assert_int_equal(wide[n - 2], 0x01);
		assert_int_equal(ldg_authz_decode(wide, n + 1, &back, NULL),
				 -EBADMSG);
		memcpy(wide, want, n);
		wide[n] = 0x00;
		assert_int_equal(ldg_authz_decode(wide, n + 1, &back, NULL),
				 -EBADMSG);
	}
	assert_int_equal(ldg_authz_decode(buf, len - 1, &back, NULL), -EBADMSG);
	free(buf);
	ldg_authz_free(&az);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_lists_every_vector_file),
		cmocka_unit_test(test_key_file_vectors),
		cmocka_unit_test(
			test_good_vectors_decode_canonically_with_listed_hash),
		cmocka_unit_test(test_good_chain_links_and_signatures_hold),
		cmocka_unit_test(test_good_chain_tree_head_matches),
		cmocka_unit_test(
			test_authz_lines_are_the_commitments_of_the_chain),
		cmocka_unit_test(
			test_authz_state_of_genesis_is_the_documented_bytes),
		cmocka_unit_test(test_every_bad_vector_fails_at_its_stage),
		cmocka_unit_test(
			test_decode_stage_vectors_carry_good_signatures),
		cmocka_unit_test(test_good_chain_passes_ldg_verify),
		cmocka_unit_test(
			test_every_bad_vector_fails_ldg_verify_at_its_seq),
	};

	dir = argc > 1 ? argv[1] : getenv("VECTORS");
	if (!dir || !*dir) {
		fprintf(stderr, "test_vectors: set VECTORS to tests/vectors\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
