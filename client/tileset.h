/*
 * tileset.h - the hash tiles and entry bundles a client fetched from a
 * C2SP tlog-tiles host, checked against a checkpoint's root: the data
 * side of `ledger mirror --tiles` (clt_tiles_pull(), client.h, does the
 * fetching).
 *
 * A copy that holds the first `from` entries of a tree and wants the
 * tree of `size` entries needs, at each level L (hashes of perfect
 * subtrees of height 8L), the tiles from the one that holds the first
 * hash not complete at `from` to the last one, which is partial when
 * the level's count is not a multiple of 256 (ldg_tile_count(),
 * tlog.h): the level-0 tiles to check the new entries against, the
 * tiles above to link those to the root, and the partial tiles (and
 * the tiles holding the copy's own right edge) the roots of `size` and
 * of `from` are made of. Nothing else is fetched.
 *
 * What must stay true: a tile is trusted only by clt_tiles_check() (each
 * full tile hashes to its hash in the tile above; the whole set to the
 * checkpoint's root), and an entry only by clt_bundle_split() (it hashes,
 * as an RFC 6962 leaf, to its hash in a level-0 tile of that set).
 *
 * Ownership: a struct clt_tiles owns the hashes put into it;
 * clt_tiles_free() them. Plain data; not shared between threads.
 */
#ifndef CLT_TILESET_H
#define CLT_TILESET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tlog.h"

/* A tree of at most 2^64 - 1 leaves has at most 8 levels of tiles. */
#define CLT_TILE_LEVELS 8
/* The most bytes a bundle may have: LDG_TILE_WIDTH entries of
 * LDG_BUNDLE_ENTRY_MAX bytes, each with its 2-byte length. */
#define CLT_BUNDLE_BYTES ((size_t)LDG_TILE_WIDTH * (2 + LDG_BUNDLE_ENTRY_MAX))

struct clt_tile_level {
	uint64_t lo, hi; /* the tiles wanted: [lo, hi) */
	uint64_t first;	 /* the index of h[0]: lo * 256 */
	uint64_t count;	 /* the hashes held once all are put */
	uint64_t next;	 /* the next tile to put (lo..hi) */
	uint8_t (*h)[LDG_HASH_BYTES];
};

struct clt_tiles {
	uint64_t from, size;
	int levels; /* levels with at least one hash at size */
	struct clt_tile_level lv[CLT_TILE_LEVELS];
};

/* The set a copy of from entries needs for the tree of size entries
 * (from <= size). -EINVAL from > size, -ENOMEM. */
int clt_tiles_init(struct clt_tiles *t, uint64_t from, uint64_t size);
void clt_tiles_free(struct clt_tiles *t);

/* The width of tile n of level (0..63, LDG_TILE_ENTRIES: the bundle)
 * in the tree of size entries: LDG_TILE_WIDTH for a full one, 1..255
 * for the partial one, 0 past the last. */
unsigned clt_tile_width(uint64_t size, int level, uint64_t n);

/* Puts the next tile of level (lv[level].next; tiles go in order), the
 * len bytes fetched for it: its width's hashes, or a full tile's in
 * place of a partial one (a host may keep only the full tile once it
 * is complete; its first hashes are the partial one's). -EPERM (with
 * the tile's path) any other length; -EINVAL a level or tile not
 * wanted. */
int clt_tiles_put(struct clt_tiles *t, int level, const uint8_t *buf,
		  size_t len, struct ldg_err *err);

/* An ldg_node_fn (tlog.h) over a struct clt_tiles *: the perfect
 * subtree of height at index hashed from the tile that holds it;
 * -ENOENT when the set does not hold it. */
int clt_tiles_node(void *t, unsigned height, uint64_t index,
		   uint8_t out[LDG_HASH_BYTES]);

/* 0 when every tile is put, each full tile hashes to its hash in the
 * tile of the level above, and the set's root at size is root. -EPERM
 * naming the first tile that does not, or "root" for the root;
 * -EINVAL tiles missing. */
__attribute__((warn_unused_result)) int
clt_tiles_check(const struct clt_tiles *t, const uint8_t root[LDG_HASH_BYTES],
		struct ldg_err *err);

/* Splits bundle n (len bytes at buf; its width's entries, or a full
 * bundle's in place of a partial one) into its entries, each checked
 * to hash to its leaf in the level-0 tiles (put and checked first):
 * *count (the bundle's width at size) pointers into buf in bufs, their
 * lengths in lens (room for LDG_TILE_WIDTH each). -EPERM a bundle that
 * is cut, too long, or holds an entry that is not its leaf (naming the
 * entry's seq, its index + 1). */
__attribute__((warn_unused_result)) int
clt_bundle_split(const struct clt_tiles *t, uint64_t n, const uint8_t *buf,
		 size_t len, const uint8_t **bufs, size_t *lens, size_t *count,
		 struct ldg_err *err);

#endif
