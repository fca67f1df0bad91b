/*
 * test_clt_tiles.c - client/tileset.c (the tile set a copy needs, its node
 * source, the checks of tiles against a root and of bundles against
 * level-0 tiles) and client/tpull.c (clt_tiles_pull(): a copy from a
 * static tiles host), against tiles built here from leaf hashes with
 * the naive RFC 6962 tree hash (tl_mth()), and a small libmicrohttpd
 * static host in this process serving the fixture's ledger as tiles.
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
#include "tileset.h"
#include "tlog.h"

/* ---- tiles built independently: level L+1 hash j is tl_mth() of the
 * 256 hashes of tile j of level L ---- */

struct tree {
	uint64_t size;
	uint8_t (*lv[CLT_TILE_LEVELS])[LDG_HASH_BYTES];
	uint64_t n[CLT_TILE_LEVELS];
	uint8_t root[LDG_HASH_BYTES];
};

static void tree_make(struct tree *t, const uint8_t (*leaves)[LDG_HASH_BYTES],
		      uint64_t size)
{
	memset(t, 0, sizeof(*t));
	t->size = size;
	t->n[0] = size;
	t->lv[0] = malloc(size * LDG_HASH_BYTES);
	memcpy(t->lv[0], leaves, size * LDG_HASH_BYTES);
	for (int l = 1; l < CLT_TILE_LEVELS && t->n[l - 1] >= 256; l++) {
		t->n[l] = t->n[l - 1] / 256;
		t->lv[l] = malloc(t->n[l] * LDG_HASH_BYTES);
		for (uint64_t j = 0; j < t->n[l]; j++)
			tl_mth((const uint8_t(*)[LDG_HASH_BYTES])
				       t->lv[l - 1][256 * j],
			       256, t->lv[l][j]);
	}
	tl_mth(leaves, size, t->root);
}

static void tree_free(struct tree *t)
{
	for (int l = 0; l < CLT_TILE_LEVELS; l++)
		free(t->lv[l]);
}

/* Random leaves (the tile checks do not care what they hash). */
static uint8_t (*random_leaves(uint64_t n))[LDG_HASH_BYTES]
{
	uint8_t(*h)[LDG_HASH_BYTES] = malloc(n * LDG_HASH_BYTES);

	randombytes_buf(h, n * LDG_HASH_BYTES);
	return h;
}

/* Puts every tile the set wants, from t. */
static void put_all(struct clt_tiles *s, const struct tree *t)
{
	struct ldg_err err = { 0 };

	for (int l = 0; l < s->levels; l++)
		for (uint64_t n = s->lv[l].lo; n < s->lv[l].hi; n++) {
			unsigned w = clt_tile_width(t->size, l, n);
			assert_int_equal(clt_tiles_put(s, l,
						       (const uint8_t *)t
							       ->lv[l][256 * n],
						       (size_t)w *
							       LDG_HASH_BYTES,
						       &err),
					 0);
		}
}

static void test_tiles_init_wants_what_the_spec_example_has(void **state)
{
	struct clt_tiles s;

	/* C2SP tlog-tiles: a tree of 70,000 has 273 full level-0 tiles and
	 * one of 112, one full level-1 tile and one of 17, one level-2 tile
	 * of 1 */
	assert_int_equal(clt_tiles_init(&s, 0, 70000), 0);
	assert_int_equal(s.levels, 3);
	assert_int_equal(s.lv[0].lo, 0);
	assert_int_equal(s.lv[0].hi, 274);
	assert_int_equal(clt_tile_width(70000, 0, 272), 256);
	assert_int_equal(clt_tile_width(70000, 0, 273), 112);
	assert_int_equal(clt_tile_width(70000, 0, 274), 0);
	assert_int_equal(clt_tile_width(70000, LDG_TILE_ENTRIES, 273), 112);
	assert_int_equal(s.lv[1].hi, 2);
	assert_int_equal(clt_tile_width(70000, 1, 1), 17);
	assert_int_equal(s.lv[2].hi, 1);
	assert_int_equal(clt_tile_width(70000, 2, 0), 1);
	clt_tiles_free(&s);
	/* a copy of 69,000 needs the tiles from the one holding entry
	 * 69,001 (index 69,000: tile 269), and above it tile 1 of level 1 */
	assert_int_equal(clt_tiles_init(&s, 69000, 70000), 0);
	assert_int_equal(s.lv[0].lo, 269);
	assert_int_equal(s.lv[1].lo, 1);
	assert_int_equal(s.lv[2].lo, 0);
	assert_int_equal(s.lv[0].first, 269 * 256);
	assert_int_equal(s.lv[0].count, 70000 - 269 * 256);
	clt_tiles_free(&s);
	/* a tree of 256: one full level-0 tile, one level-1 tile of 1 */
	assert_int_equal(clt_tiles_init(&s, 256, 256), 0);
	assert_int_equal(s.levels, 2);
	assert_int_equal(s.lv[0].lo, 1);
	assert_int_equal(s.lv[0].hi, 1); /* nothing new: no level-0 tile */
	assert_int_equal(s.lv[1].hi, 1);
	clt_tiles_free(&s);
	assert_int_equal(clt_tiles_init(&s, 3, 2), -EINVAL);
}

/* Every size around the tile edges, from every copy size around them:
 * the set's roots of size and of from are the naive tree hash's. */
static void test_tiles_roots_match_the_naive_tree_hash(void **state)
{
	static const uint64_t sizes[] = { 1,   2,   255, 256, 257,  511,
					  512, 513, 767, 768, 1000, 65537 };
	uint8_t(*leaves)[LDG_HASH_BYTES] = random_leaves(65537);
	uint8_t want[LDG_HASH_BYTES], got[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct tree t;
		tree_make(&t, (const uint8_t(*)[LDG_HASH_BYTES])leaves,
			  sizes[i]);
		for (size_t j = 0; j <= i; j++) {
			uint64_t from =
				sizes[j] == sizes[i] ? sizes[i] - 1 : sizes[j];
			struct clt_tiles s;
			assert_int_equal(clt_tiles_init(&s, from, t.size), 0);
			put_all(&s, &t);
			assert_int_equal(clt_tiles_check(&s, t.root, &err), 0);
			tl_mth((const uint8_t(*)[LDG_HASH_BYTES])leaves, from,
			       want);
			assert_int_equal(ldg_tlog_root(clt_tiles_node, &s, from,
						       got),
					 0);
			assert_memory_equal(got, want, LDG_HASH_BYTES);
			clt_tiles_free(&s);
		}
		tree_free(&t);
	}
	free(leaves);
}

static void test_tiles_check_names_the_tile_that_does_not_hash(void **state)
{
	uint8_t(*leaves)[LDG_HASH_BYTES] = random_leaves(600);
	uint8_t other[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct clt_tiles s;
	struct tree t;

	tree_make(&t, (const uint8_t(*)[LDG_HASH_BYTES])leaves, 600);
	/* a flipped byte in full tile 1 of level 0 */
	t.lv[0][300][5] ^= 1;
	assert_int_equal(clt_tiles_init(&s, 0, 600), 0);
	put_all(&s, &t);
	assert_int_equal(clt_tiles_check(&s, t.root, &err), -EPERM);
	assert_string_equal(err.msg, "tile/0/001 does not hash to its hash "
				     "in tile/1/000.p/2");
	clt_tiles_free(&s);
	t.lv[0][300][5] ^= 1;
	/* in the partial one: only the root shows it */
	t.lv[0][599][0] ^= 0x80;
	assert_int_equal(clt_tiles_init(&s, 0, 600), 0);
	put_all(&s, &t);
	assert_int_equal(clt_tiles_check(&s, t.root, &err), -EPERM);
	assert_string_equal(err.msg, "the tiles do not hash to the "
				     "checkpoint's root of 600 entries");
	clt_tiles_free(&s);
	t.lv[0][599][0] ^= 0x80;
	/* good tiles, another root */
	memcpy(other, t.root, LDG_HASH_BYTES);
	other[31] ^= 1;
	assert_int_equal(clt_tiles_init(&s, 0, 600), 0);
	put_all(&s, &t);
	assert_int_equal(clt_tiles_check(&s, other, &err), -EPERM);
	assert_int_equal(clt_tiles_check(&s, t.root, &err), 0);
	clt_tiles_free(&s);
	/* tiles not all put: no answer */
	assert_int_equal(clt_tiles_init(&s, 0, 600), 0);
	assert_int_equal(clt_tiles_check(&s, t.root, &err), -EINVAL);
	clt_tiles_free(&s);
	tree_free(&t);
	free(leaves);
}

static void test_tiles_put_takes_a_full_tile_for_a_partial_one(void **state)
{
	uint8_t(*leaves)[LDG_HASH_BYTES] = random_leaves(512);
	struct ldg_err err = { 0 };
	struct clt_tiles s;
	struct tree t, big;

	tree_make(&t, (const uint8_t(*)[LDG_HASH_BYTES])leaves, 300);
	tree_make(&big, (const uint8_t(*)[LDG_HASH_BYTES])leaves, 512);
	assert_int_equal(clt_tiles_init(&s, 0, 300), 0);
	assert_int_equal(clt_tiles_put(&s, 0, (const uint8_t *)t.lv[0][0],
				       LDG_TILE_BYTES, &err),
			 0);
	/* cut: refused with the path and the lengths */
	assert_int_equal(clt_tiles_put(&s, 0, (const uint8_t *)t.lv[0][256],
				       44 * LDG_HASH_BYTES - 1, &err),
			 -EPERM);
	assert_string_equal(err.msg, "tile/0/001.p/44 has 1407 bytes, not "
				     "1408: it is cut or is not a tile");
	/* the full tile 1 (of the bigger tree) in its place */
	assert_int_equal(clt_tiles_put(&s, 0, (const uint8_t *)big.lv[0][256],
				       LDG_TILE_BYTES, &err),
			 0);
	assert_int_equal(clt_tiles_put(&s, 1, (const uint8_t *)t.lv[1][0],
				       LDG_HASH_BYTES, &err),
			 0);
	/* nothing more is wanted */
	assert_int_equal(clt_tiles_put(&s, 1, (const uint8_t *)t.lv[1][0],
				       LDG_HASH_BYTES, &err),
			 -EINVAL);
	assert_int_equal(clt_tiles_check(&s, t.root, &err), 0);
	clt_tiles_free(&s);
	/* a full tile cut is no partial one */
	assert_int_equal(clt_tiles_init(&s, 0, 300), 0);
	assert_int_equal(clt_tiles_put(&s, 0, (const uint8_t *)t.lv[0][0],
				       LDG_TILE_BYTES - 32, &err),
			 -EPERM);
	assert_string_equal(err.msg, "tile/0/000 has 8160 bytes, not 8192: "
				     "it is cut or is not a tile");
	clt_tiles_free(&s);
	tree_free(&t);
	tree_free(&big);
	free(leaves);
}

/* A bundle of n entries "entry K" (K from first), and their leaves. */
static size_t bundle_make(uint64_t first, unsigned n, uint8_t *buf,
			  uint8_t (*leaves)[LDG_HASH_BYTES])
{
	size_t off = 0;

	for (unsigned k = 0; k < n; k++) {
		char e[32];
		int el = snprintf(e, sizeof(e), "entry %" PRIu64, first + k);
		buf[off] = 0;
		buf[off + 1] = (uint8_t)el;
		memcpy(buf + off + 2, e, (size_t)el);
		ldg_entry_hash((const uint8_t *)e, (size_t)el, leaves[k]);
		off += 2 + (size_t)el;
	}
	return off;
}

static void test_bundle_split_checks_each_entry_against_its_leaf(void **state)
{
	static uint8_t buf[256 * 34], full[256 * 34];
	uint8_t(*leaves)[LDG_HASH_BYTES] = malloc(512 * LDG_HASH_BYTES);
	const uint8_t *bufs[LDG_TILE_WIDTH];
	size_t lens[LDG_TILE_WIDTH], count, len, flen;
	struct ldg_err err = { 0 };
	struct clt_tiles s;
	struct tree t;

	bundle_make(0, 256, buf, leaves);
	len = bundle_make(256, 44, buf, leaves + 256);
	flen = bundle_make(256, 256, full, leaves + 256);
	tree_make(&t, (const uint8_t(*)[LDG_HASH_BYTES])leaves, 300);
	assert_int_equal(clt_tiles_init(&s, 260, 300), 0);
	put_all(&s, &t);
	assert_int_equal(clt_tiles_check(&s, t.root, &err), 0);
	assert_int_equal(clt_bundle_split(&s, 1, buf, len, bufs, lens, &count,
					  &err),
			 0);
	assert_int_equal(count, 44);
	assert_int_equal(lens[43], strlen("entry 299"));
	assert_memory_equal(bufs[43], "entry 299", lens[43]);
	/* the full bundle in place of the partial one: its first 44 */
	assert_int_equal(clt_bundle_split(&s, 1, full, flen, bufs, lens, &count,
					  &err),
			 0);
	assert_int_equal(count, 44);
	/* cut, one more byte, one entry fewer */
	assert_int_equal(clt_bundle_split(&s, 1, buf, len - 1, bufs, lens,
					  &count, &err),
			 -EPERM);
	assert_string_equal(err.msg, "tile/entries/001.p/44 is cut or is not "
				     "an entry bundle of 44 entries");
	assert_int_equal(count, 0);
	buf[len] = 0;
	assert_int_equal(clt_bundle_split(&s, 1, buf, len + 1, bufs, lens,
					  &count, &err),
			 -EPERM);
	assert_int_equal(clt_bundle_split(&s, 1, buf, len - 11, bufs, lens,
					  &count, &err),
			 -EPERM);
	/* an entry that is not its leaf */
	buf[len - 1] ^= 1;
	assert_int_equal(clt_bundle_split(&s, 1, buf, len, bufs, lens, &count,
					  &err),
			 -EPERM);
	assert_string_equal(err.msg, "entry 300 in tile/entries/001.p/44 does "
				     "not hash to its leaf in the level-0 "
				     "tile");
	/* bundle 0 is not wanted by a copy of 260 */
	assert_int_equal(clt_bundle_split(&s, 0, full, flen, bufs, lens, &count,
					  &err),
			 -EINVAL);
	clt_tiles_free(&s);
	tree_free(&t);
	free(leaves);
}

/* ---- clt_tiles_pull() against a static host of the fixture's ledger */

#define HOST_FILES 64

/* What the host serves: path -> bytes, made by host_publish(). */
struct host {
	struct {
		char path[LDG_TILE_PATH_MAX + 16];
		uint8_t *buf;
		size_t len;
	} f[HOST_FILES];
	size_t n;
	struct MHD_Daemon *d;
	char base[64];
	unsigned gets;
};

static struct host host;

static void host_put(const char *path, const void *buf, size_t len)
{
	for (size_t i = 0; i < host.n; i++)
		if (!strcmp(host.f[i].path, path)) {
			free(host.f[i].buf);
			host.f[i].buf = malloc(len ? len : 1);
			memcpy(host.f[i].buf, buf, len);
			host.f[i].len = len;
			return;
		}
	assert_true(host.n < HOST_FILES);
	snprintf(host.f[host.n].path, sizeof(host.f[0].path), "%s", path);
	host.f[host.n].buf = malloc(len ? len : 1);
	memcpy(host.f[host.n].buf, buf, len);
	host.f[host.n++].len = len;
}

static uint8_t *host_file(const char *path, size_t *len)
{
	for (size_t i = 0; i < host.n; i++)
		if (!strcmp(host.f[i].path, path)) {
			*len = host.f[i].len;
			return host.f[i].buf;
		}
	return NULL;
}

static void host_drop(const char *path)
{
	for (size_t i = 0; i < host.n; i++)
		if (!strcmp(host.f[i].path, path)) {
			free(host.f[i].buf);
			host.f[i] = host.f[--host.n];
			return;
		}
	fail_msg("no %s", path);
}

/* Publishes the first size entries of s's ledger as tiles (each tile
 * at the width size gives it, as `ledger tiles` writes them) and a
 * checkpoint of them signed by k. */
static void host_publish(struct ldg_store *s, uint64_t size,
			 const struct ldg_signer *k)
{
	uint8_t(*leaves)[LDG_HASH_BYTES] = malloc(size * LDG_HASH_BYTES);
	char path[LDG_TILE_PATH_MAX], *note;
	struct ldg_read *r;
	struct tree t;

	assert_int_equal(ldg_read_begin(s, &r, NULL), 0);
	for (uint64_t n = 0; n * 256 < size; n++) {
		unsigned w = clt_tile_width(size, LDG_TILE_ENTRIES, n);
		uint8_t *b = malloc((size_t)w * (2 + LDG_BUNDLE_ENTRY_MAX));
		size_t off = 0;
		for (unsigned k = 0; k < w; k++) {
			const uint8_t *raw;
			size_t len;
			assert_int_equal(ldg_entry_raw(r, n * 256 + k + 1, &raw,
						       &len),
					 0);
			b[off] = (uint8_t)(len >> 8);
			b[off + 1] = (uint8_t)len;
			memcpy(b + off + 2, raw, len);
			off += 2 + len;
			ldg_entry_hash(raw, len, leaves[n * 256 + k]);
		}
		ldg_tile_path(LDG_TILE_ENTRIES, n, w, path);
		host_put(path, b, off);
		free(b);
	}
	ldg_read_end(r);
	tree_make(&t, (const uint8_t(*)[LDG_HASH_BYTES])leaves, size);
	for (int l = 0; l < CLT_TILE_LEVELS && t.n[l]; l++)
		for (uint64_t n = 0; n * 256 < t.n[l]; n++) {
			unsigned w = clt_tile_width(size, l, n);
			ldg_tile_path(l, n, w, path);
			host_put(path, t.lv[l][n * 256],
				 (size_t)w * LDG_HASH_BYTES);
		}
	assert_int_equal(ldg_checkpoint_make(ldg_store_origin(s), size, t.root,
					     k, &note, NULL),
			 0);
	host_put("checkpoint", note, strlen(note));
	free(note);
	tree_free(&t);
	free(leaves);
}

static enum MHD_Result host_answer(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_len, void **con_cls)
{
	struct MHD_Response *rp;
	enum MHD_Result ret;
	uint8_t *buf = NULL;
	size_t len = 0;

	host.gets++;
	if (!strncmp(url, "/t/", 3))
		buf = host_file(url + 3, &len);
	rp = MHD_create_response_from_buffer(buf ? len : 0,
					     buf ? (void *)buf : (void *)"",
					     MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(rp, "Content-Type", "application/octet-stream");
	ret = MHD_queue_response(conn, buf ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND,
				 rp);
	MHD_destroy_response(rp);
	return ret;
}

static int host_setup(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (fx_setup(state))
		return -1;
	memset(&host, 0, sizeof(host));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	host.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
				  NULL, host_answer, NULL, MHD_OPTION_SOCK_ADDR,
				  &sin, MHD_OPTION_END);
	if (!host.d)
		return -1;
	snprintf(host.base, sizeof(host.base), "http://127.0.0.1:%u/t/",
		 (unsigned)MHD_get_daemon_info(host.d,
					       MHD_DAEMON_INFO_BIND_PORT)
			 ->port);
	return 0;
}

static int host_teardown(void **state)
{
	MHD_stop_daemon(host.d);
	for (size_t i = 0; i < host.n; i++)
		free(host.f[i].buf);
	return fx_teardown(state);
}

static struct ldg_store *new_copy(struct fx *f, const char *name)
{
	struct ldg_store *c = NULL;
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/%s", f->tmp, name);
	assert_int_equal(ldg_store_open(dir, LDG_OPEN_CREATE, &c, NULL), 0);
	return c;
}

/* The fixture's ledger grown to n entries, in one transaction. */
static void grow(struct fx *f, uint64_t n)
{
	uint64_t head = head_of(f, NULL), m = n - head;
	struct ldg_entry **d = calloc(m, sizeof(*d));
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	char v[32];

	for (uint64_t i = 0; i < m; i++) {
		snprintf(v, sizeof(v), "v%" PRIu64, head + i);
		d[i] = ldg_entry_new(LDG_KIND_SET,
				     i % 2 ? "staging/api" : "prod/api",
				     "grow");
		assert_int_equal(ldg_entry_add_change(d[i], "tag", v), 0);
	}
	if (ldg_append_batch(f->s, f->admin, d, m, &res, &err))
		fail_msg("grow: %s", err.msg);
	for (uint64_t i = 0; i < m; i++)
		ldg_entry_free(d[i]);
	free(d);
	ldg_result_free(&res);
	assert_int_equal(head_of(f, NULL), n);
}

/* The copy's head, and its hash in hash. */
static uint64_t copy_head(struct ldg_store *c, uint8_t hash[LDG_HASH_BYTES])
{
	struct ldg_read *r;
	uint64_t head;

	assert_int_equal(ldg_read_begin(c, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &head, hash), 0);
	ldg_read_end(r);
	return head;
}

static int pull(struct ldg_store *c, struct clt_pulled *got,
		struct ldg_err *err)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	int rc = clt_tiles_checkpoint(host.base, cp, err);

	if (!rc)
		rc = clt_tiles_pull(host.base, c, cp, NULL, NULL, got, err);
	free(cp);
	return rc;
}

static void test_tiles_pull_copies_then_only_the_new_entries(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy");
	uint8_t mine[LDG_HASH_BYTES], theirs[LDG_HASH_BYTES];
	struct ldg_verify_report rep;
	struct ldg_verify_opts vo = { 0 };
	struct clt_pulled got;
	unsigned gets;

	grow(f, 260);
	host_publish(f->s, 40, f->admin);
	assert_int_equal(pull(c, &got, &err), 0);
	assert_int_equal(got.added, 40);
	assert_int_equal(copy_head(c, mine), 40);
	assert_string_equal(ldg_store_origin(c), ORIGIN);
	/* 260, past a full tile: the checkpoint, tile 0 of level 0 (the
	 * copy's right edge is in it), its partial successor, the level-1
	 * tile and the two bundles */
	host_publish(f->s, 260, f->admin);
	gets = host.gets;
	assert_int_equal(pull(c, &got, &err), 0);
	assert_int_equal(host.gets - gets, 6);
	assert_int_equal(got.added, 220);
	assert_int_equal(got.head, 260);
	assert_int_equal(copy_head(c, mine), 260);
	assert_int_equal(head_of(f, theirs), 260);
	assert_memory_equal(mine, theirs, LDG_HASH_BYTES);
	/* a checkpoint with a witness's cosignature line (as serve and
	 * `checkpoint --witness` publish it): the note still verifies */
	{
		struct ldg_signer *w = NULL;
		struct ldg_checkpoint *cp = malloc(sizeof(*cp));
		char line[LDG_COSIG_LINE_MAX], *note;
		uint8_t *b;
		size_t len = 0;
		assert_int_equal(ldg_signer_generate_alg("witness.example/w1",
							 LDG_ALG_COSIG, &w,
							 &err),
				 0);
		b = host_file("checkpoint", &len);
		assert_int_equal(ldg_checkpoint_parse((char *)b, len, cp, &err),
				 0);
		assert_int_equal(ldg_cosign(w, 1700000000, cp->text,
					    cp->text_len, line, &err),
				 0);
		note = malloc(len + strlen(line));
		memcpy(note, b, len);
		memcpy(note + len, line, strlen(line));
		host_put("checkpoint", note, len + strlen(line));
		free(note);
		free(cp);
		ldg_signer_free(w);
	}
	/* again: the checkpoint only, nothing new */
	gets = host.gets;
	assert_int_equal(pull(c, &got, &err), 0);
	assert_int_equal(host.gets - gets, 1);
	assert_int_equal(got.added, 0);
	assert_int_equal(ldg_verify(c, &vo, &rep, &err), 0);
	ldg_store_close(c);
}

/* The copy's files, byte for byte. */
static char *copy_bytes(struct fx *f, const char *name, size_t *len)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s/data.mdb", f->tmp, name);
	return tl_read_file(path, len);
}

/* Each refusal: -EPERM (or code) with msg in the message, the copy
 * byte-identical. */
static void refused(struct fx *f, struct ldg_store **c, int code,
		    const char *msg)
{
	struct ldg_err err = { 0 };
	struct clt_pulled got;
	size_t before_len, after_len;
	char *before, *after;

	ldg_store_close(*c);
	before = copy_bytes(f, "copy", &before_len);
	*c = new_copy(f, "copy");
	assert_int_equal(pull(*c, &got, &err), code);
	if (!strstr(err.msg, msg))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, msg);
	assert_int_equal(got.added, 0);
	ldg_store_close(*c);
	after = copy_bytes(f, "copy", &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(before);
	free(after);
	*c = new_copy(f, "copy");
}

static void test_tiles_pull_refuses_a_bad_host_and_keeps_the_copy(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy");
	struct clt_pulled got;
	uint8_t *b, keep[LDG_TILE_BYTES];
	char *note;
	size_t len;

	grow(f, 300);
	host_publish(f->s, 20, f->admin);
	assert_int_equal(pull(c, &got, &err), 0);
	host_publish(f->s, 300, f->admin);
	/* a flipped byte in the full level-0 tile */
	b = host_file("tile/0/000", &len);
	b[100] ^= 1;
	refused(f, &c, -EPERM,
		"tile/0/000 does not hash to its hash in "
		"tile/1/000.p/1");
	b[100] ^= 1;
	/* in the partial one */
	b = host_file("tile/0/001.p/44", &len);
	b[0] ^= 1;
	refused(f, &c, -EPERM,
		"the tiles do not hash to the checkpoint's "
		"root of 300 entries");
	b[0] ^= 1;
	/* cut */
	b = host_file("tile/0/000", &len);
	memcpy(keep, b, len);
	host_put("tile/0/000", keep, len - 1);
	refused(f, &c, -EPERM, "tile/0/000 has 8191 bytes, not 8192");
	host_put("tile/0/000", keep, LDG_TILE_BYTES);
	/* missing */
	host_drop("tile/0/000");
	refused(f, &c, -EPERM,
		"has no tile/0/000 (HTTP 404), which its "
		"checkpoint of 300 entries needs");
	host_put("tile/0/000", keep, LDG_TILE_BYTES);
	/* an entry in a bundle */
	b = host_file("tile/entries/001.p/44", &len);
	b[len - 1] ^= 1;
	refused(f, &c, -EPERM,
		"entry 300 in tile/entries/001.p/44 does not "
		"hash to its leaf");
	b[len - 1] ^= 1;
	/* a checkpoint of another root, signed by the ledger's key */
	b = host_file("checkpoint", &len);
	note = strndup((char *)b, len);
	{
		uint8_t root[LDG_HASH_BYTES];
		char *other;
		randombytes_buf(root, sizeof(root));
		assert_int_equal(ldg_checkpoint_make(ORIGIN, 300, root,
						     f->admin, &other, NULL),
				 0);
		host_put("checkpoint", other, strlen(other));
		free(other);
	}
	refused(f, &c, -EPERM, "do not hash to the checkpoint's root");
	host_put("checkpoint", note, strlen(note));
	free(note);
	/* everything put back: it copies */
	assert_int_equal(pull(c, &got, &err), 0);
	assert_int_equal(got.added, 280);
	ldg_store_close(c);
}

static void test_tiles_pull_refuses_another_tree_of_the_origin(void **state)
{
	struct fx *f = *state;
	struct ldg_err err = { 0 };
	struct ldg_store *c = new_copy(f, "copy"), *o = NULL;
	struct ldg_result res = { 0 };
	struct clt_pulled got;
	char dir[4200];

	grow(f, 5);
	host_publish(f->s, 5, f->admin);
	assert_int_equal(pull(c, &got, &err), 0);
	/* another ledger of the same origin, by the outsider's key */
	snprintf(dir, sizeof(dir), "%s/other", f->tmp);
	assert_int_equal(ldg_init(dir, ORIGIN, f->outsider, &res, &err), 0);
	ldg_result_free(&res);
	assert_int_equal(ldg_store_open(dir, 0, &o, &err), 0);
	for (int i = 0; i < 7; i++) {
		char v[8];
		struct ldg_kv kv = { "tag", v, LDG_V_STR };
		snprintf(v, sizeof(v), "x%d", i);
		assert_int_equal(ldg_set(o, f->outsider, "staging/api", &kv, 1,
					 "r", NULL, 0, 0, &res, &err),
				 0);
		ldg_result_free(&res);
	}
	host_publish(o, 8, f->outsider);
	refused(f, &c, -EPERM,
		"the first 5 entries of this copy are not those "
		"of the tree");
	/* a shorter one than the copy */
	host_publish(f->s, 3, f->admin);
	refused(f, &c, -EPERM, "this copy has 5 entries, the checkpoint of");
	/* this ledger, signed by a key not in its keyring: refused with
	 * the entries, the copy as it was */
	grow(f, 9);
	host_publish(f->s, 9, f->outsider);
	refused(f, &c, -EPERM,
		"checkpoint is not signed by a trusted key of "
		"this ledger");
	/* and when nothing is new */
	host_publish(f->s, 5, f->outsider);
	refused(f, &c, -EPERM,
		"checkpoint is not signed by a trusted key of "
		"this ledger");
	ldg_store_close(o);
	ldg_store_close(c);
}

static void test_tiles_checkpoint_says_what_is_not_a_tiles_host(void **state)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_err err = { 0 };

	assert_int_equal(clt_tiles_checkpoint(host.base, cp, &err), -EIO);
	assert_non_null(strstr(err.msg, "GET checkpoint answered HTTP 404: not "
					"a tiles host"));
	host_put("checkpoint", "<html>hello</html>", 18);
	assert_int_equal(clt_tiles_checkpoint(host.base, cp, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "not a tiles host: its checkpoint"));
	assert_int_equal(clt_tiles_checkpoint("http://127.0.0.1:1/", cp, &err),
			 -EIO);
	assert_non_null(strstr(err.msg, "cannot reach"));
	free(cp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_tiles_init_wants_what_the_spec_example_has),
		cmocka_unit_test(test_tiles_roots_match_the_naive_tree_hash),
		cmocka_unit_test(
			test_tiles_check_names_the_tile_that_does_not_hash),
		cmocka_unit_test(
			test_tiles_put_takes_a_full_tile_for_a_partial_one),
		cmocka_unit_test(
			test_bundle_split_checks_each_entry_against_its_leaf),
		cmocka_unit_test_setup_teardown(
			test_tiles_pull_copies_then_only_the_new_entries,
			host_setup, host_teardown),
		cmocka_unit_test_setup_teardown(
			test_tiles_pull_refuses_a_bad_host_and_keeps_the_copy,
			host_setup, host_teardown),
		cmocka_unit_test_setup_teardown(
			test_tiles_pull_refuses_another_tree_of_the_origin,
			host_setup, host_teardown),
		cmocka_unit_test_setup_teardown(
			test_tiles_checkpoint_says_what_is_not_a_tiles_host,
			host_setup, host_teardown),
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
