/*
 * tlog.h - the transparency-log ecosystem's shapes over the RFC 6962
 * tree of merkle.h: C2SP tlog-tiles geometry and paths, RFC 6962
 * consistency and inclusion proofs, and C2SP tlog-cosignature
 * cosignatures (type 0x04).
 *
 * Owns
 *   - which tiles a tree of a size has, and their paths
 *     ("tile/L/N[.p/W]", "tile/entries/N[.p/W]", N as x001/x234/067);
 *   - the hash of any range of leaves and the root of any size, from a
 *     source of perfect-subtree hashes (ldg_node_fn): the store's
 *     `merkle` database (ldg_store_node(), store.h) or tiles a client
 *     fetched;
 *   - consistency and inclusion proofs: made from a node source,
 *     checked from hashes alone (RFC 9162 section 2.1.3.2 / 2.1.4.2);
 *   - cosignatures: the 76-byte blob keyid4 || time8 || sig64 over
 *     "cosignature/v1\ntime T\n" followed by the checkpoint's note text,
 *     by a cosigner key (keys.h, LDG_ALG_COSIG).
 * Plain functions on caller memory; thread-safe.
 */
#ifndef LDG_TLOG_H
#define LDG_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "entry.h"
#include "err.h"
#include "keys.h"

#define LDG_TILE_HEIGHT 8
#define LDG_TILE_WIDTH 256
#define LDG_TILE_BYTES (LDG_TILE_WIDTH * LDG_HASH_BYTES) /* 8192 */
/* The level of an entry bundle in ldg_tile_path(). */
#define LDG_TILE_ENTRIES (-1)
/* Levels 0..63 hold hashes; a path is at most
 * "tile/entries/" + 7 groups of "x999/" + ".p/255" */
#define LDG_TILE_PATH_MAX 64
/* The most hashes a consistency or inclusion proof of a tree of at
 * most 2^64 - 1 leaves has. C2SP tlog-witness allows at most 63 lines
 * in a request. */
#define LDG_PROOF_MAX 128
/* An entry bundle carries each entry with a 16-bit big-endian length. */
#define LDG_BUNDLE_ENTRY_MAX 65535u

/* The tiles of level (0..63, or LDG_TILE_ENTRIES for bundles, which
 * follow level 0) a tree of size leaves has: *full complete ones
 * (indexes 0..full-1) and one partial one of width *partial (1..255,
 * index full), or none (*partial 0). */
void ldg_tile_count(uint64_t size, int level, uint64_t *full,
		    unsigned *partial);

/* The path of tile n of level (LDG_TILE_ENTRIES: the entry bundle) with
 * width hashes (entries): "tile/L/N" when width is LDG_TILE_WIDTH, else
 * "tile/L/N.p/W". Returns its length; -EINVAL for a level outside
 * -1..63 or a width outside 1..256. */
int ldg_tile_path(int level, uint64_t n, unsigned width,
		  char out[LDG_TILE_PATH_MAX]);

/* Parses what ldg_tile_path() writes, byte for byte (no leading zeros
 * beyond the 3-digit groups, no "x" on the last group, every group but
 * the last with one, W 1..255): 0, or -EINVAL for anything else. *width
 * is LDG_TILE_WIDTH for a full tile. */
int ldg_tile_path_parse(const char *path, int *level, uint64_t *n,
			unsigned *width);

/* A source of perfect-subtree hashes: the hash of leaves
 * [index * 2^height, (index + 1) * 2^height), height 0 being a leaf
 * hash. 0, or a negative errno that the callers below pass on. */
typedef int (*ldg_node_fn)(void *arg, unsigned height, uint64_t index,
			   uint8_t out[LDG_HASH_BYTES]);

/* MTH(D[lo:hi]) for lo < hi, lo a multiple of the largest power of two
 * not above hi - lo (what RFC 6962's recursion asks for; -EINVAL
 * otherwise). */
int ldg_tlog_range(ldg_node_fn node, void *arg, uint64_t lo, uint64_t hi,
		   uint8_t out[LDG_HASH_BYTES]);

/* The root of the tree of size leaves (SHA-256("") for 0). */
int ldg_tlog_root(ldg_node_fn node, void *arg, uint64_t size,
		  uint8_t out[LDG_HASH_BYTES]);

/* The RFC 6962 consistency proof from size old to size new
 * (0 < old <= new; empty when old == new, and C2SP's empty proof for
 * old 0): *n hashes into proof. -EINVAL for old > new. */
int ldg_proof_consistency(ldg_node_fn node, void *arg, uint64_t old,
			  uint64_t new, uint8_t proof[][LDG_HASH_BYTES],
			  size_t *n);

/* The checks take a proof as n hashes one after another
 * (n * LDG_HASH_BYTES bytes): what ldg_proof_consistency() and
 * ldg_proof_inclusion() write, or what a request carried. */

/* 0 when proof shows the tree of size old with root old_root is a
 * prefix of the tree of size new with root new_root; -EBADMSG when it
 * does not (a wrong length, a hash that does not lead to both roots);
 * old 0 takes an empty proof, old == new an empty one and equal roots. */
__attribute__((warn_unused_result)) int ldg_proof_consistency_check(
	uint64_t old, const uint8_t old_root[LDG_HASH_BYTES], uint64_t new,
	const uint8_t new_root[LDG_HASH_BYTES], const uint8_t *proof, size_t n);

/* The RFC 6962 audit path of leaf index in the tree of size leaves. */
int ldg_proof_inclusion(ldg_node_fn node, void *arg, uint64_t index,
			uint64_t size, uint8_t proof[][LDG_HASH_BYTES],
			size_t *n);

/* 0 when proof leads leaf (a leaf hash) at index to root of size. */
__attribute__((warn_unused_result)) int ldg_proof_inclusion_check(
	uint64_t index, uint64_t size, const uint8_t leaf[LDG_HASH_BYTES],
	const uint8_t *proof, size_t n, const uint8_t root[LDG_HASH_BYTES]);

/* The cosignature blob: keyid4 || time (8 bytes, big-endian) || sig64. */
#define LDG_COSIG_BLOB (LDG_KEYID_BYTES + 8 + LDG_SIG_BYTES)
/* "— NAME BASE64(blob)\n" + NUL */
#define LDG_COSIG_LINE_MAX (4 + LDG_KEYNAME_MAX + 1 + 104 + 2)

/* w's cosignature line of the checkpoint whose note text (origin, size,
 * root and extension lines, each with its "\n"; struct
 * ldg_checkpoint's text) is body, at POSIX time t (< 2^63). w must be a
 * cosigner key (LDG_ALG_COSIG): -EINVAL otherwise. */
int ldg_cosign(const struct ldg_signer *w, uint64_t t, const char *body,
	       size_t len, char line[LDG_COSIG_LINE_MAX], struct ldg_err *err);

/* 0 when cp carries a cosignature line by w (a cosigner key: name and
 * key id match) and every one such line verifies, *t the newest time
 * among them; -ENOENT none by w; -EBADMSG one does not verify or has a
 * time of 2^63 or more. */
__attribute__((warn_unused_result)) int
ldg_cosig_verify(const struct ldg_checkpoint *cp, const struct ldg_vkey *w,
		 uint64_t *t);

#endif
