/*
 * merkle.h - RFC 6962 Merkle tree hashing.
 *
 *   leaf hash  = SHA-256(0x00 || entry bytes)      (ldg_entry_hash)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *
 * struct ldg_merkle is the compact range of a tree grown leaf by leaf:
 * one hash per set bit of the size, so appending is O(1) amortised and the
 * root is O(log n). The store keeps every complete subtree's hash, indexed
 * by (level, index), so it can also answer the root of any earlier size.
 * Plain data; no locking.
 */
#ifndef LDG_MERKLE_H
#define LDG_MERKLE_H

#include <stdint.h>

#include "entry.h"

struct ldg_merkle {
	uint64_t size;
	uint8_t stack[64][LDG_HASH_BYTES]; /* perfect subtrees, left first */
	int depth;
};

void ldg_merkle_node(const uint8_t left[LDG_HASH_BYTES],
		     const uint8_t right[LDG_HASH_BYTES],
		     uint8_t out[LDG_HASH_BYTES]);

void ldg_merkle_init(struct ldg_merkle *m);
void ldg_merkle_push(struct ldg_merkle *m, const uint8_t leaf[LDG_HASH_BYTES]);
void ldg_merkle_root(const struct ldg_merkle *m, uint8_t out[LDG_HASH_BYTES]);

#endif
