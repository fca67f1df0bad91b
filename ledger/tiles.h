/*
 * tiles.h - a ledger as C2SP tlog-tiles resources: the bytes of hash
 * tiles and entry bundles read from a store, which tiles a tree gains
 * from one size to another, and the static tree of files that
 * `ledger tiles` writes (docs/format.md, "Tiles"). Geometry and paths
 * are tlog.h's; the hashes are the store's (ldg_store_node()).
 *
 * Owns
 *   - a hash tile's bytes: width hashes of perfect subtrees of height
 *     8 * level, 32 bytes each (C2SP: MTH of D[(n*256+i)*256^L ...]);
 *   - an entry bundle's bytes: each entry's stored bytes after its
 *     length as 16 bits, big-endian, and the refusal of an entry too
 *     large for that (one written before LDG_BUNDLE_ENTRY_MAX);
 *   - the directory tree: DIR/checkpoint and DIR/tile/..., written
 *     incrementally, the checkpoint last.
 *
 * Caveats: the readers take a struct ldg_read of the caller's and
 * follow its rules (one thread; memory returned is the caller's, never
 * LMDB's). ldg_tiles_export() writes files and may take long (it
 * reports progress through a callback); it never prints.
 */
#ifndef LDG_TILES_H
#define LDG_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "err.h"
#include "store.h"
#include "tlog.h"

/* Hash tile n of level (0..63), of width hashes (1..LDG_TILE_WIDTH),
 * of the tree r's head makes: width * 32 bytes into out. -ENOENT when
 * the head has not completed its last hash (a tile the head does not
 * have); -EINVAL a level or width out of range; the store's errors. */
int ldg_tile_read(struct ldg_read *r, int level, uint64_t n, unsigned width,
		  uint8_t out[LDG_TILE_BYTES], struct ldg_err *err);

/* Entry bundle n of width entries (1..LDG_TILE_WIDTH): entries
 * n * 256 + 1 .. n * 256 + width, each as its length (16 bits,
 * big-endian) and its stored bytes, in *out (malloc'd; caller frees),
 * *len bytes. -ENOENT when the head is before its last entry; -EFBIG an
 * entry is larger than LDG_BUNDLE_ENTRY_MAX (written before that cap):
 * err names its seq and size; -EINVAL a width out of range. */
int ldg_bundle_read(struct ldg_read *r, uint64_t n, unsigned width,
		    uint8_t **out, size_t *len, struct ldg_err *err);

/* The tile (level 0..63, or LDG_TILE_ENTRIES for a bundle) or bundle
 * n of width (LDG_TILE_WIDTH for a full one) of either kind, in *out
 * (malloc'd; caller frees): ldg_tile_read() or ldg_bundle_read(). */
int ldg_tile_bytes(struct ldg_read *r, int level, uint64_t n, unsigned width,
		   uint8_t **out, size_t *len, struct ldg_err *err);

/* One tile of a tree: level (LDG_TILE_ENTRIES for a bundle), index n,
 * width (LDG_TILE_WIDTH when full). */
struct ldg_tile {
	int level;
	uint64_t n;
	unsigned width;
};

/* Calls fn for each tile that the tree of size new has and the tree of
 * size old (0..new) does not: the full tiles completed after old and
 * the partial tiles of new (those old has too are left out), bundles
 * first, then level 0 upwards, each level by index. A non-zero return of
 * fn stops and is returned; -EINVAL for old > new. *count (may be NULL)
 * is the number of tiles fn was called for. */
int ldg_tiles_added(uint64_t old, uint64_t new,
		    int (*fn)(void *arg, const struct ldg_tile *t), void *arg,
		    uint64_t *count);

/* The head r sees (*size) and its stored root, once the stored tree
 * holds together along its right edges down to the entries' bytes
 * (ldg_merkle_check_tail()): the tree head `checkpoint --no-verify` and
 * `tiles --key` sign without the full check (ldg_verify()). -EPERM with
 * the seq under the first node that does not match; -EIO when the tree
 * cannot be read. */
int ldg_signable_head(struct ldg_read *r, uint64_t *size,
		      uint8_t root[LDG_HASH_BYTES], struct ldg_err *err);

/* What ldg_tiles_export() did. */
struct ldg_tiles_stats {
	uint64_t old_size; /* the size of the checkpoint DIR held (0: none) */
	uint64_t size;	   /* the checkpoint's */
	uint64_t tiles;	   /* files written, bundles included */
	uint64_t bytes;	   /* their bytes, the checkpoint's included */
};

/* The directory ldg_tiles_export() keeps in DIR for its lock and its
 * temporary files (empty between runs; not part of the tree). */
#define LDG_TILES_WORK ".ledger-tiles"

/* Progress of ldg_tiles_export(): done of total tiles written so far;
 * called every 2 s of a long run, and at its end when it was called
 * before. */
typedef void (*ldg_tiles_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Writes the tiles tree of the checkpoint cp (note text note, len bytes,
 * exactly as it is to be served; cp its parse) into dir, from r, whose
 * head must have cp's size and root (ldg_checkpoint_check() is the
 * caller's): dir/tile/... for every tile the tree of cp's size has and
 * the one dir holds does not, then dir/checkpoint. The tree dir holds
 * is its checkpoint's: a dir without one (new, or a first export cut
 * short) gets every tile. Each file is written in dir/LDG_TILES_WORK and
 * renamed into its place: a reader never sees a torn one, and a killed
 * run leaves no temporary file among the tiles (the next run removes
 * them). The tiles reach the disk (syncfs) before the checkpoint
 * (fsync'd, and its directory) names them. One export at a time writes
 * a dir (flock on the work directory; -EBUSY for a second), so a slower
 * run never puts back an older checkpoint. progress (may be NULL) is
 * called now and then.
 *
 * Refuses a dir holding another tree, writing nothing: -EEXIST when its
 * checkpoint is of another origin, of a larger size than cp's, or has a
 * root that is not this ledger's at its size (err names which), or is
 * not a checkpoint. -EFBIG a bundle holds an entry too large for one
 * (ldg_bundle_read()): the tiles before it are written, no checkpoint.
 * -ENAMETOOLONG a dir too long for the paths under it (nothing made).
 * Other errors are -errno of the file system, with the path in err. */
int ldg_tiles_export(struct ldg_read *r, const char *dir,
		     const struct ldg_checkpoint *cp, const char *note,
		     size_t len, ldg_tiles_progress_fn progress, void *arg,
		     struct ldg_tiles_stats *stats, struct ldg_err *err);

#endif
