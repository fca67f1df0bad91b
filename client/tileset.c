/*
 * tileset.c - the hash tiles and entry bundles a client fetched, checked
 * against a checkpoint's root (tileset.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "tileset.h"

/* x >> k for any k (a shift by 64 or more is 0, not undefined) */
static uint64_t shr(uint64_t x, unsigned k)
{
	return k >= 64 ? 0 : x >> k;
}

unsigned clt_tile_width(uint64_t size, int level, uint64_t n)
{
	uint64_t full;
	unsigned partial;

	ldg_tile_count(size, level, &full, &partial);
	if (n < full)
		return LDG_TILE_WIDTH;
	return n == full ? partial : 0;
}

int clt_tiles_init(struct clt_tiles *t, uint64_t from, uint64_t size)
{
	memset(t, 0, sizeof(*t));
	if (from > size)
		return -EINVAL;
	t->from = from;
	t->size = size;
	for (int l = 0; l < CLT_TILE_LEVELS && shr(size, 8u * l); l++) {
		struct clt_tile_level *v = &t->lv[l];
		uint64_t full;
		unsigned partial;

		ldg_tile_count(size, l, &full, &partial);
		v->lo = shr(from, 8u * l + 8);
		v->hi = full + (partial ? 1 : 0);
		v->next = v->lo;
		v->first = v->lo * LDG_TILE_WIDTH;
		v->count = shr(size, 8u * l) - v->first;
		t->levels = l + 1;
		if (!v->count)
			continue;
		v->h = malloc(v->count * LDG_HASH_BYTES);
		if (!v->h) {
			clt_tiles_free(t);
			return -ENOMEM;
		}
	}
	return 0;
}

void clt_tiles_free(struct clt_tiles *t)
{
	for (int l = 0; l < CLT_TILE_LEVELS; l++) {
		free(t->lv[l].h);
		t->lv[l].h = NULL;
	}
}

int clt_tiles_put(struct clt_tiles *t, int level, const uint8_t *buf,
		  size_t len, struct ldg_err *err)
{
	struct clt_tile_level *v;
	char path[LDG_TILE_PATH_MAX];
	unsigned w;

	if (level < 0 || level >= t->levels ||
	    t->lv[level].next >= t->lv[level].hi)
		return ldg_err_set(err, -EINVAL, "no tile of level %d wanted",
				   level);
	v = &t->lv[level];
	w = clt_tile_width(t->size, level, v->next);
	if (len != (size_t)w * LDG_HASH_BYTES &&
	    !(w < LDG_TILE_WIDTH && len == LDG_TILE_BYTES)) {
		ldg_tile_path(level, v->next, w, path);
		return ldg_err_set(err, -EPERM,
				   "%s has %zu bytes, not %u: it is cut or "
				   "is not a tile",
				   path, len, w * LDG_HASH_BYTES);
	}
	memcpy(v->h[v->next * LDG_TILE_WIDTH - v->first], buf,
	       (size_t)w * LDG_HASH_BYTES);
	v->next++;
	return 0;
}

/* MTH of n (a power of two, at most 256) consecutive hashes. */
static void perfect(const uint8_t (*h)[LDG_HASH_BYTES], size_t n,
		    uint8_t out[LDG_HASH_BYTES])
{
	uint8_t work[LDG_TILE_WIDTH][LDG_HASH_BYTES];

	memcpy(work, h, n * LDG_HASH_BYTES);
	for (; n > 1; n /= 2)
		for (size_t i = 0; i < n / 2; i++)
			ldg_merkle_node(work[2 * i], work[2 * i + 1], work[i]);
	memcpy(out, work[0], LDG_HASH_BYTES);
}

int clt_tiles_node(void *arg, unsigned height, uint64_t index,
		   uint8_t out[LDG_HASH_BYTES])
{
	const struct clt_tiles *t = arg;
	const struct clt_tile_level *v;
	unsigned l = height / 8, r = height % 8;
	uint64_t lo;

	if (l >= (unsigned)t->levels || index > shr(UINT64_MAX, r))
		return -ENOENT;
	v = &t->lv[l];
	lo = index << r;
	/* only what is put: the tiles below next */
	if (lo < v->first || (lo + (1u << r)) > v->count + v->first ||
	    lo + (1u << r) > v->next * LDG_TILE_WIDTH)
		return -ENOENT;
	perfect((const uint8_t(*)[LDG_HASH_BYTES])v->h[lo - v->first],
		(size_t)1 << r, out);
	return 0;
}

int clt_tiles_check(const struct clt_tiles *t,
		    const uint8_t root[LDG_HASH_BYTES], struct ldg_err *err)
{
	uint8_t got[LDG_HASH_BYTES];
	char path[LDG_TILE_PATH_MAX], up[LDG_TILE_PATH_MAX];
	int rc;

	for (int l = 0; l < t->levels; l++)
		if (t->lv[l].next < t->lv[l].hi)
			return ldg_err_set(err, -EINVAL,
					   "tiles of level %d are missing", l);
	/* a full tile is one hash of the level above (the top level has
	 * none: fewer than 256 hashes) */
	for (int l = 0; l + 1 < t->levels; l++) {
		const struct clt_tile_level *v = &t->lv[l], *a = &t->lv[l + 1];
		for (uint64_t n = v->lo; n < v->hi; n++) {
			if (clt_tile_width(t->size, l, n) != LDG_TILE_WIDTH)
				break;
			perfect((const uint8_t(*)[LDG_HASH_BYTES])
					v->h[n * LDG_TILE_WIDTH - v->first],
				LDG_TILE_WIDTH, got);
			if (!memcmp(got, a->h[n - a->first], LDG_HASH_BYTES))
				continue;
			ldg_tile_path(l, n, LDG_TILE_WIDTH, path);
			ldg_tile_path(l + 1, n / LDG_TILE_WIDTH,
				      clt_tile_width(t->size, l + 1,
						     n / LDG_TILE_WIDTH),
				      up);
			return ldg_err_set(err, -EPERM,
					   "%s does not hash to its hash in "
					   "%s",
					   path, up);
		}
	}
	rc = ldg_tlog_root(clt_tiles_node, (void *)t, t->size, got);
	if (rc)
		return ldg_err_set(err, rc, "cannot hash the tiles to a root");
	if (memcmp(got, root, LDG_HASH_BYTES))
		return ldg_err_set(err, -EPERM,
				   "the tiles do not hash to the checkpoint's "
				   "root of %" PRIu64 " entries",
				   t->size);
	return 0;
}

int clt_bundle_split(const struct clt_tiles *t, uint64_t n, const uint8_t *buf,
		     size_t len, const uint8_t **bufs, size_t *lens,
		     size_t *count, struct ldg_err *err)
{
	const struct clt_tile_level *v = &t->lv[0];
	unsigned w = clt_tile_width(t->size, LDG_TILE_ENTRIES, n);
	char path[LDG_TILE_PATH_MAX];
	uint8_t hash[LDG_HASH_BYTES];
	size_t off = 0, k = 0;

	*count = 0;
	ldg_tile_path(LDG_TILE_ENTRIES, n, w ? w : 1, path);
	if (!w || t->levels == 0 || n < v->lo || n >= v->next)
		return ldg_err_set(err, -EINVAL, "%s is not wanted", path);
	/* every entry is framed, and the bundle has exactly w of them, or
	 * is the full one in place of a partial one */
	while (off < len) {
		size_t el;
		if (len - off < 2)
			break;
		el = (size_t)buf[off] << 8 | buf[off + 1];
		if (len - off - 2 < el)
			break;
		if (k < w) {
			bufs[k] = buf + off + 2;
			lens[k] = el;
		}
		off += 2 + el;
		k++;
	}
	if (off != len ||
	    (k != w && !(w < LDG_TILE_WIDTH && k == LDG_TILE_WIDTH)))
		return ldg_err_set(err, -EPERM,
				   "%s is cut or is not an entry bundle of %u "
				   "entries",
				   path, w);
	for (k = 0; k < w; k++) {
		uint64_t i = n * LDG_TILE_WIDTH + k;
		ldg_entry_hash(bufs[k], lens[k], hash);
		if (memcmp(hash, v->h[i - v->first], LDG_HASH_BYTES))
			return ldg_err_set(err, -EPERM,
					   "entry %" PRIu64 " in %s does not "
					   "hash to its leaf in the level-0 "
					   "tile",
					   i + 1, path);
	}
	*count = w;
	return 0;
}
