/*
 * test_tiles.c - ledger/tiles.c: hash tiles and entry bundles read from a
 * store, the tiles a tree gains from one size to another (C2SP
 * tlog-tiles' own example of a tree of 70,000 entries), and the static
 * tree ldg_tiles_export() writes, incrementally, refusing a directory
 * that holds another tree.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "merkle.h"
#include "tiles.h"

/* Appends n sets of staging/api, values v<from>.., in one transaction. */
static void append_sets(struct fx *f, unsigned from, unsigned n)
{
	struct ldg_entry **d = calloc(n, sizeof(*d));
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	char v[32];

	assert_non_null(d);
	for (unsigned i = 0; i < n; i++) {
		d[i] = ldg_entry_new(LDG_KIND_SET, "staging/api", "load");
		snprintf(v, sizeof(v), "v%u", from + i);
		assert_int_equal(ldg_entry_add_change(d[i], "image.tag", v), 0);
	}
	if (ldg_append_batch(f->s, f->admin, d, n, &res, &err))
		fail_msg("append: %s", err.msg);
	assert_int_equal(res.n, n);
	ldg_result_free(&res);
	for (unsigned i = 0; i < n; i++)
		ldg_entry_free(d[i]);
	free(d);
}

/* ---- which tiles a tree gains ---- */

struct seen {
	struct ldg_tile t[1024];
	size_t n;
	size_t stop_at; /* return 1 at this call (0: never) */
};

static int record(void *arg, const struct ldg_tile *t)
{
	struct seen *s = arg;

	assert_true(s->n < 1024);
	s->t[s->n++] = *t;
	return s->n == s->stop_at;
}

static size_t count_of(const struct seen *s, int level, unsigned width)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		k += s->t[i].level == level && s->t[i].width == width;
	return k;
}

/* C2SP tlog-tiles: "a tree of size 70,000 will be represented by 273
 * full level 0 tiles, one partial level 0 tile of width 112, one full
 * level 1 tile, one partial level 1 tile of width 17, and one partial
 * level 2 tile of width 1"; bundles follow level 0. */
static void test_added_tiles_of_the_specs_70000_tree(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	uint64_t count;

	(void)state;
	assert_int_equal(ldg_tiles_added(0, 70000, record, s, &count), 0);
	assert_int_equal(count, 273 + 1 + 273 + 1 + 1 + 1 + 1);
	assert_int_equal(s->n, count);
	assert_int_equal(count_of(s, LDG_TILE_ENTRIES, 256), 273);
	assert_int_equal(count_of(s, LDG_TILE_ENTRIES, 112), 1);
	assert_int_equal(count_of(s, 0, 256), 273);
	assert_int_equal(count_of(s, 0, 112), 1);
	assert_int_equal(count_of(s, 1, 256), 1);
	assert_int_equal(count_of(s, 1, 17), 1);
	assert_int_equal(count_of(s, 2, 1), 1);
	/* bundles first, then level by level, each by index */
	assert_int_equal(s->t[0].level, LDG_TILE_ENTRIES);
	assert_int_equal(s->t[273].n, 273);
	assert_int_equal(s->t[273].width, 112);
	assert_int_equal(s->t[274].level, 0);
	assert_int_equal(s->t[count - 1].level, 2);
	assert_int_equal(s->t[count - 1].n, 0);
	free(s);
}

/* "a tree of size 256 will be represented by a full level 0 tile and a
 * partial level 1 tile of width 1" */
static void test_added_tiles_of_256(void **state)
{
	struct seen s = { .n = 0 };

	(void)state;
	assert_int_equal(ldg_tiles_added(0, 256, record, &s, NULL), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(count_of(&s, LDG_TILE_ENTRIES, 256), 1);
	assert_int_equal(count_of(&s, 0, 256), 1);
	assert_int_equal(count_of(&s, 1, 1), 1);
}

/* From one size to another: only full tiles completed since and the new
 * size's partial tiles (not one the old size had too); none for the same
 * size; a stop from fn is passed on. */
static void test_added_tiles_are_only_the_new_ones(void **state)
{
	struct seen s = { .n = 0 };
	uint64_t count;

	(void)state;
	assert_int_equal(ldg_tiles_added(70000, 70000, record, &s, &count), 0);
	assert_int_equal(count, 0);
	/* 256 -> 300: the partial bundle and level 0 tile of width 44; the
	 * level 1 tile of width 1 is the one 256 has */
	assert_int_equal(ldg_tiles_added(256, 300, record, &s, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(count_of(&s, LDG_TILE_ENTRIES, 44), 1);
	assert_int_equal(count_of(&s, 0, 44), 1);
	/* 255 -> 256: the full tiles and a first level 1 tile */
	s.n = 0;
	assert_int_equal(ldg_tiles_added(255, 256, record, &s, &count), 0);
	assert_int_equal(count, 3);
	assert_int_equal(s.t[0].n, 0);
	assert_int_equal(s.t[0].width, 256);
	/* 65535 -> 65537: bundle and level 0 tile 255 full, 256.p/1; level
	 * 1's tile 0 full, level 2's first partial */
	s.n = 0;
	assert_int_equal(ldg_tiles_added(65535, 65537, record, &s, &count), 0);
	assert_int_equal(count, 2 + 2 + 1 + 1);
	assert_int_equal(count_of(&s, 1, 256), 1);
	assert_int_equal(count_of(&s, 2, 1), 1);
	assert_int_equal(ldg_tiles_added(2, 1, record, &s, &count), -EINVAL);
	s.n = 0;
	s.stop_at = 2;
	assert_int_equal(ldg_tiles_added(0, 70000, record, &s, NULL), 1);
	assert_int_equal(s.n, 2);
}

/* ---- tiles and bundles from a store ---- */

/* The fixture's init entry and 300 sets: 301 entries. */
static int tiles_setup(void **state)
{
	int rc = fx_setup(state);

	if (!rc)
		append_sets(*state, 0, 300);
	return rc;
}

static void test_tile_read_gives_leaf_and_subtree_hashes(void **state)
{
	struct fx *f = *state;
	uint8_t *tile = malloc(LDG_TILE_BYTES), hash[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_merkle m;
	struct ldg_read *r;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_tile_read(r, 0, 0, 256, tile, &err), 0);
	ldg_merkle_init(&m);
	for (uint64_t seq = 1; seq <= 256; seq++) {
		const uint8_t *buf;
		size_t len;

		assert_int_equal(ldg_entry_raw(r, seq, &buf, &len), 0);
		ldg_entry_hash(buf, len, hash);
		assert_memory_equal(tile + (seq - 1) * LDG_HASH_BYTES, hash,
				    LDG_HASH_BYTES);
		ldg_merkle_push(&m, hash);
	}
	/* level 1: the root of the first 256 entries */
	assert_int_equal(ldg_tile_read(r, 1, 0, 1, tile, &err), 0);
	ldg_merkle_root(&m, hash);
	assert_memory_equal(tile, hash, LDG_HASH_BYTES);
	/* the partial level 0 tile of 301 is entries 257..301 */
	assert_int_equal(ldg_tile_read(r, 0, 1, 45, tile, &err), 0);
	assert_int_equal(ldg_entry_hash_at(r, 301, hash), 0);
	assert_memory_equal(tile + 44 * LDG_HASH_BYTES, hash, LDG_HASH_BYTES);
	/* what the head does not have */
	assert_int_equal(ldg_tile_read(r, 0, 1, 46, tile, &err), -ENOENT);
	assert_string_equal(err.msg, "the tree of 301 entries has no tile "
				     "0/1 of width 46");
	assert_int_equal(ldg_tile_read(r, 0, 1, 256, tile, &err), -ENOENT);
	assert_int_equal(ldg_tile_read(r, 1, 0, 2, tile, &err), -ENOENT);
	assert_int_equal(ldg_tile_read(r, 2, 0, 1, tile, &err), -ENOENT);
	assert_int_equal(ldg_tile_read(r, 8, 0, 1, tile, &err), -ENOENT);
	assert_int_equal(ldg_tile_read(r, 0, UINT64_MAX, 1, tile, &err),
			 -ENOENT);
	assert_int_equal(ldg_tile_read(r, 0, 0, 0, tile, &err), -EINVAL);
	assert_int_equal(ldg_tile_read(r, 0, 0, 257, tile, &err), -EINVAL);
	assert_int_equal(ldg_tile_read(r, 64, 0, 1, tile, &err), -EINVAL);
	assert_int_equal(ldg_tile_read(r, -1, 0, 1, tile, &err), -EINVAL);
	ldg_read_end(r);
	free(tile);
}

/* Checks that bundle holds entries first.. as 16-bit big-endian length
 * and bytes, and nothing else. */
static void assert_bundle(struct ldg_read *r, const uint8_t *b, size_t len,
			  uint64_t first, unsigned width)
{
	size_t at = 0;

	for (unsigned i = 0; i < width; i++) {
		const uint8_t *e;
		size_t elen;

		assert_int_equal(ldg_entry_raw(r, first + i, &e, &elen), 0);
		assert_true(len - at >= 2);
		assert_int_equal((size_t)b[at] << 8 | b[at + 1], elen);
		assert_true(len - at - 2 >= elen);
		assert_memory_equal(b + at + 2, e, elen);
		at += 2 + elen;
	}
	assert_int_equal(at, len);
}

static void test_bundle_read_frames_entries_with_16_bit_lengths(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint8_t *b = NULL;
	size_t len;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_bundle_read(r, 0, 256, &b, &len, &err), 0);
	assert_bundle(r, b, len, 1, 256);
	free(b);
	assert_int_equal(ldg_tile_bytes(r, LDG_TILE_ENTRIES, 1, 45, &b, &len,
					&err),
			 0);
	assert_bundle(r, b, len, 257, 45);
	free(b);
	assert_int_equal(ldg_bundle_read(r, 1, 46, &b, &len, &err), -ENOENT);
	assert_null(b);
	assert_string_equal(err.msg, "the tree of 301 entries has no entry "
				     "bundle 1 of width 46");
	assert_int_equal(ldg_bundle_read(r, 1, 256, &b, &len, &err), -ENOENT);
	assert_int_equal(ldg_bundle_read(r, UINT64_MAX, 1, &b, &len, &err),
			 -ENOENT);
	assert_int_equal(ldg_bundle_read(r, 0, 0, &b, &len, &err), -EINVAL);
	/* ldg_tile_bytes of a hash tile: width * 32 bytes */
	assert_int_equal(ldg_tile_bytes(r, 0, 1, 45, &b, &len, &err), 0);
	assert_int_equal(len, 45 * LDG_HASH_BYTES);
	free(b);
	ldg_read_end(r);
}

/* An entry of more than 65,535 bytes (stored before the cap; here put
 * in with raw LMDB) cannot be framed: its bundle is refused naming it,
 * the hash tiles are not affected. */
static void test_bundle_refuses_an_old_entry_too_large_for_it(void **state)
{
	struct fx *f = *state;
	size_t big = LDG_BUNDLE_ENTRY_MAX + 1;
	uint8_t *bytes = calloc(1, big), *b = NULL;
	uint8_t *tile = malloc(LDG_TILE_BYTES);
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	struct rawdb db;
	size_t len;

	ldg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(rawdb_open(f->dir, "entries", false, &db), 0);
	assert_int_equal(rawdb_put_entry(&db, 302, bytes, big), 0);
	assert_int_equal(rawdb_close(&db, true), 0);
	assert_int_equal(ldg_store_open(f->dir, 0, &f->s, &err), 0);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_bundle_read(r, 1, 46, &b, &len, &err), -EFBIG);
	assert_null(b);
	assert_string_equal(err.msg,
			    "entry 302 is 65536 bytes, more than an entry "
			    "bundle holds (65535): it was written before new "
			    "entries were capped");
	assert_int_equal(ldg_bundle_read(r, 1, 45, &b, &len, &err), 0);
	free(b);
	assert_int_equal(ldg_tile_read(r, 0, 1, 46, tile, &err), 0);
	ldg_read_end(r);
	free(tile);
	free(bytes);
}

/* Signs e as an older writer could: the signing message of
 * docs/format.md section 5 over e's encoding, with no size cap (today's
 * ldg_entry_sign() refuses more than LDG_BUNDLE_ENTRY_MAX). */
static void seal_uncapped(struct fx *f, struct ldg_entry *e, uint8_t **buf,
			  size_t *len)
{
	size_t dlen = sizeof("ledger/v1/entry"), olen = strlen(ORIGIN) + 1;
	struct ldg_err err = { 0 };
	struct ldg_authz az;
	uint8_t *body, *msg;
	size_t blen;

	e->seq = head_of(f, e->prev) + 1;
	e->time_ns = ldg_now_ns();
	memcpy(e->signer, ldg_signer_vkey(f->admin)->keyid, LDG_KEYID_BYTES);
	store_authz(f, &az);
	if (ldg_authz_stamp(&az, e, &err))
		fail_msg("stamp: %s", err.msg);
	ldg_authz_free(&az);
	assert_int_equal(ldg_entry_encode(e, false, &body, &blen), 0);
	msg = malloc(dlen + olen + blen);
	assert_non_null(msg);
	memcpy(msg, "ledger/v1/entry", dlen);
	memcpy(msg + dlen, ORIGIN, olen);
	memcpy(msg + dlen + olen, body, blen);
	assert_int_equal(ldg_signer_sign(f->admin, msg, dlen + olen + blen,
					 e->sig),
			 0);
	assert_int_equal(ldg_entry_encode(e, true, buf, len), 0);
	free(msg);
	free(body);
}

/* An entry of more than 65,535 bytes signed before the cap, as
 * docs/format.md 9b says: no writer takes it (ldg_append_signed(), the
 * server's), a copy does (ldg_append_copied(), the mirror's), the ledger
 * verifies, and only its bundle is refused, naming it. */
static void
test_an_entry_signed_before_the_cap_is_copied_and_verifies(void **state)
{
	struct fx *f = *state;
	struct ldg_entry *e =
		ldg_entry_new(LDG_KIND_SET, "staging/big", "before the cap");
	char key[8], *value = malloc(4001);
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	const uint8_t *bufs[1];
	struct ldg_read *r;
	uint8_t *buf, *b;
	size_t len, blen;

	assert_non_null(e);
	assert_non_null(value);
	memset(value, 'w', 4000);
	value[4000] = '\0';
	for (int i = 1; i <= 17; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(ldg_entry_add_change(e, key, value), 0);
	}
	seal_uncapped(f, e, &buf, &len);
	assert_true(len > LDG_BUNDLE_ENTRY_MAX);
	bufs[0] = buf;
	assert_int_equal(ldg_append_signed(f->s, buf, len, &res, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "entry too large"));
	if (ldg_append_copied(f->s, bufs, &len, 1, &res, &err))
		fail_msg("copy: %s", err.msg);
	assert_int_equal(last_seq(&res), 302);
	assert_verify_ok(f);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_bundle_read(r, 1, 46, &b, &blen, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "entry 302 is "));
	assert_int_equal(ldg_tile_bytes(r, 0, 1, 46, &b, &blen, &err), 0);
	assert_int_equal(blen, 46 * LDG_HASH_BYTES);
	free(b);
	ldg_read_end(r);
	ldg_result_free(&res);
	ldg_entry_free(e);
	free(value);
	free(buf);
}

/* ---- the directory tree ---- */

struct out {
	char dir[4200];
	char *note;
	struct ldg_checkpoint cp;
};

/* A checkpoint of the head signed by admin, in o. */
static void checkpoint_of_head(struct fx *f, struct out *o)
{
	uint8_t root[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	uint64_t head;

	free(o->note);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &head, NULL), 0);
	assert_int_equal(ldg_merkle_root_at(r, head, root), 0);
	ldg_read_end(r);
	assert_int_equal(ldg_checkpoint_make(ORIGIN, head, root, f->admin,
					     &o->note, &err),
			 0);
	assert_int_equal(ldg_checkpoint_parse(o->note, strlen(o->note), &o->cp,
					      &err),
			 0);
}

static int export(struct fx *f, struct out *o, struct ldg_tiles_stats *st,
		  struct ldg_err *err)
{
	struct ldg_read *r;
	int rc;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	rc = ldg_tiles_export(r, o->dir, &o->cp, o->note, strlen(o->note), NULL,
			      NULL, st, err);
	ldg_read_end(r);
	return rc;
}

static void assert_file(const char *dir, const char *rel, const void *want,
			size_t len)
{
	char path[4400];
	uint8_t *got = malloc(len + 1);
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("%s: missing", path);
	assert_int_equal(fread(got, 1, len + 1, fp), len);
	fclose(fp);
	assert_memory_equal(got, want, len);
	free(got);
}

static bool exists(const char *dir, const char *rel)
{
	char path[4400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0;
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[4400];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_export_writes_the_tree_then_only_new_tiles(void **state)
{
	struct fx *f = *state;
	struct out o = { .note = NULL };
	struct ldg_tiles_stats st;
	struct ldg_err err = { 0 };
	struct ldg_read *r;
	size_t len, bytes;
	uint8_t *b;

	snprintf(o.dir, sizeof(o.dir), "%s/tiles", f->tmp);
	checkpoint_of_head(f, &o);
	if (export(f, &o, &st, &err))
		fail_msg("export: %s", err.msg);
	/* 301: bundle 0 and 1.p/45, level 0 the same, level 1 .p/1 */
	assert_int_equal(st.old_size, 0);
	assert_int_equal(st.size, 301);
	assert_int_equal(st.tiles, 5);
	assert_file(o.dir, "checkpoint", o.note, strlen(o.note));
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(ldg_tile_bytes(r, LDG_TILE_ENTRIES, 1, 45, &b, &len,
					&err),
			 0);
	assert_file(o.dir, "tile/entries/001.p/45", b, len);
	free(b);
	bytes = len;
	assert_int_equal(ldg_bundle_read(r, 0, 256, &b, &len, &err), 0);
	assert_file(o.dir, "tile/entries/000", b, len);
	free(b);
	bytes += len + strlen(o.note) + (256 + 45 + 1) * LDG_HASH_BYTES;
	assert_int_equal(st.bytes, bytes);
	assert_int_equal(ldg_tile_bytes(r, 0, 0, 256, &b, &len, &err), 0);
	assert_file(o.dir, "tile/0/000", b, len);
	free(b);
	assert_int_equal(ldg_tile_bytes(r, 1, 0, 1, &b, &len, &err), 0);
	assert_file(o.dir, "tile/1/000.p/1", b, len);
	free(b);
	ldg_read_end(r);
	assert_true(exists(o.dir, "tile/0/001.p/45"));

	/* again at the same size: nothing but the checkpoint */
	if (export(f, &o, &st, &err))
		fail_msg("export: %s", err.msg);
	assert_int_equal(st.old_size, 301);
	assert_int_equal(st.tiles, 0);
	assert_int_equal(st.bytes, strlen(o.note));

	/* 301 -> 512: the full tiles 1 and a level 1 tile of width 2; the
	 * partial tiles of 301 stay (a client of that checkpoint may ask) */
	append_sets(f, 300, 211);
	checkpoint_of_head(f, &o);
	if (export(f, &o, &st, &err))
		fail_msg("export: %s", err.msg);
	assert_int_equal(st.old_size, 301);
	assert_int_equal(st.size, 512);
	assert_int_equal(st.tiles, 3);
	assert_true(exists(o.dir, "tile/entries/001"));
	assert_true(exists(o.dir, "tile/0/001"));
	assert_true(exists(o.dir, "tile/1/000.p/2"));
	assert_true(exists(o.dir, "tile/0/001.p/45"));
	assert_file(o.dir, "checkpoint", o.note, strlen(o.note));
	free(o.note);
}

/* A checkpoint with a witness's cosignature line (C2SP
 * tlog-cosignature) is published as it is: DIR/checkpoint holds the
 * note, cosignature and all, byte for byte. */
static void test_export_keeps_a_cosigned_checkpoint_whole(void **state)
{
	struct fx *f = *state;
	struct out o = { .note = NULL };
	struct ldg_signer *w = NULL;
	struct ldg_tiles_stats st;
	struct ldg_err err = { 0 };
	char line[LDG_COSIG_LINE_MAX], *cosigned;
	size_t len;

	snprintf(o.dir, sizeof(o.dir), "%s/tiles", f->tmp);
	checkpoint_of_head(f, &o);
	assert_int_equal(ldg_signer_generate_alg("witness.example.com/w1",
						 LDG_ALG_COSIG, &w, &err),
			 0);
	assert_int_equal(ldg_cosign(w, 1679315147, o.cp.text, o.cp.text_len,
				    line, &err),
			 0);
	len = strlen(o.note) + strlen(line);
	cosigned = malloc(len + 1);
	assert_non_null(cosigned);
	snprintf(cosigned, len + 1, "%s%s", o.note, line);
	free(o.note);
	o.note = cosigned;
	assert_int_equal(ldg_checkpoint_parse(o.note, len, &o.cp, &err), 0);
	assert_int_equal(o.cp.n_sigs, 2);
	if (export(f, &o, &st, &err))
		fail_msg("export: %s", err.msg);
	assert_file(o.dir, "checkpoint", o.note, len);
	ldg_signer_free(w);
	free(o.note);
}

/* One export at a time: a locked work directory is -EBUSY, nothing
 * written; the next run removes what a killed one left there, and
 * leaves it empty. */
static void test_export_is_one_at_a_time_and_cleans_up(void **state)
{
	struct fx *f = *state;
	struct out o = { .note = NULL };
	struct ldg_tiles_stats st;
	struct ldg_err err = { 0 };
	char work[4240];
	int fd;

	snprintf(o.dir, sizeof(o.dir), "%s/tiles", f->tmp);
	snprintf(work, sizeof(work), "%s/" LDG_TILES_WORK, o.dir);
	assert_int_equal(ldg_mkdir_p(work, 0755), 0);
	put(work, "tmp.Ab12Cd", "left by a killed run");
	checkpoint_of_head(f, &o);
	fd = open(work, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(export(f, &o, &st, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "another export is writing it"));
	assert_false(exists(o.dir, "tile"));
	assert_false(exists(o.dir, "checkpoint"));
	close(fd);
	if (export(f, &o, &st, &err))
		fail_msg("export: %s", err.msg);
	assert_int_equal(st.tiles, 5);
	assert_false(exists(work, "tmp.Ab12Cd"));
	assert_int_equal(rmdir(work), 0); /* empty */
	free(o.note);
}

/* A directory holding another tree is refused, nothing written: another
 * origin, a larger size, another root, not a checkpoint. */
static void test_export_refuses_a_dir_of_another_tree(void **state)
{
	struct fx *f = *state;
	struct out o = { .note = NULL }, other = { .note = NULL };
	uint8_t root[LDG_HASH_BYTES] = { 1 };
	struct ldg_tiles_stats st;
	struct ldg_err err = { 0 };
	char *note = NULL;

	snprintf(o.dir, sizeof(o.dir), "%s/tiles", f->tmp);
	assert_int_equal(ldg_mkdir_p(o.dir, 0755), 0);
	checkpoint_of_head(f, &o);

	assert_int_equal(ldg_checkpoint_make("example.com/other", 301, root,
					     f->admin, &note, &err),
			 0);
	put(o.dir, "checkpoint", note);
	assert_int_equal(export(f, &o, &st, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "holds another tree: its checkpoint "
					"is of origin \"example.com/other\""));
	free(note);

	assert_int_equal(ldg_checkpoint_make(ORIGIN, 301, root, f->admin, &note,
					     &err),
			 0);
	put(o.dir, "checkpoint", note);
	assert_int_equal(export(f, &o, &st, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "its checkpoint's root of 301 "
					"entries is not this ledger's"));
	free(note);

	/* a larger tree than the one exported */
	snprintf(other.dir, sizeof(other.dir), "%s", o.dir);
	append_sets(f, 300, 1);
	checkpoint_of_head(f, &other);
	put(o.dir, "checkpoint", other.note);
	assert_int_equal(export(f, &o, &st, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "its checkpoint is of 302 entries, "
					"more than the 301 exported"));

	put(o.dir, "checkpoint", "not a checkpoint\n");
	assert_int_equal(export(f, &o, &st, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "holds another tree"));
	assert_false(exists(o.dir, "tile"));
	/* nor its work directory: the other tree's DIR is as it was */
	assert_false(exists(o.dir, LDG_TILES_WORK));
	free(o.note);
	free(other.note);
}

/* A DIR too long for every path under it is refused before anything
 * is made in it (a path cut to fit would name another file). */
static void test_export_refuses_a_dir_too_long_for_its_paths(void **state)
{
	struct fx *f = *state;
	struct out o = { .note = NULL };
	struct ldg_tiles_stats st;
	struct ldg_err err = { 0 };
	size_t at;
	DIR *d;
	int n = 0;

	/* PATH_MAX - 12 bytes: "DIR/.ledger-tiles" and "DIR/checkpoint"
	 * do not fit, DIR itself does */
	at = (size_t)snprintf(o.dir, sizeof(o.dir), "%s", f->tmp);
	while (at + 201 < PATH_MAX - 12)
		at += (size_t)snprintf(o.dir + at, sizeof(o.dir) - at,
				       "/%0200d", 0);
	at += (size_t)snprintf(o.dir + at, sizeof(o.dir) - at, "/%0*d",
			       (int)(PATH_MAX - 12 - at - 1), 0);
	assert_int_equal(at, PATH_MAX - 12);
	assert_int_equal(ldg_mkdir_p(o.dir, 0755), 0);
	checkpoint_of_head(f, &o);
	assert_int_equal(export(f, &o, &st, &err), -ENAMETOOLONG);
	assert_non_null(strstr(err.msg, "too long"));
	d = opendir(o.dir);
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	assert_int_equal(n, 2); /* "." and "..": nothing made */
	free(o.note);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added_tiles_of_the_specs_70000_tree),
		cmocka_unit_test(test_added_tiles_of_256),
		cmocka_unit_test(test_added_tiles_are_only_the_new_ones),
#define T(fn) cmocka_unit_test_setup_teardown(fn, tiles_setup, fx_teardown)
		T(test_tile_read_gives_leaf_and_subtree_hashes),
		T(test_bundle_read_frames_entries_with_16_bit_lengths),
		T(test_bundle_refuses_an_old_entry_too_large_for_it),
		T(test_an_entry_signed_before_the_cap_is_copied_and_verifies),
		T(test_export_writes_the_tree_then_only_new_tiles),
		T(test_export_keeps_a_cosigned_checkpoint_whole),
		T(test_export_is_one_at_a_time_and_cleans_up),
		T(test_export_refuses_a_dir_of_another_tree),
		T(test_export_refuses_a_dir_too_long_for_its_paths),
#undef T
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
