#include <sodium.h>
#include <string.h>

#include "merkle.h"

void ldg_merkle_node(const uint8_t left[LDG_HASH_BYTES],
		     const uint8_t right[LDG_HASH_BYTES],
		     uint8_t out[LDG_HASH_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t tag = 0x01;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &tag, 1);
	crypto_hash_sha256_update(&st, left, LDG_HASH_BYTES);
	crypto_hash_sha256_update(&st, right, LDG_HASH_BYTES);
	crypto_hash_sha256_final(&st, out);
}

void ldg_merkle_init(struct ldg_merkle *m)
{
	m->size = 0;
	m->depth = 0;
}

void ldg_merkle_push(struct ldg_merkle *m, const uint8_t leaf[LDG_HASH_BYTES])
{
	uint64_t n = m->size;

	memcpy(m->stack[m->depth++], leaf, LDG_HASH_BYTES);
	/* Each trailing 1 bit of the old size is a subtree the new leaf
	 * completes: merge it with its left neighbour. */
	while (n & 1) {
		m->depth--;
		ldg_merkle_node(m->stack[m->depth - 1], m->stack[m->depth],
				m->stack[m->depth - 1]);
		n >>= 1;
	}
	m->size++;
}

void ldg_merkle_root(const struct ldg_merkle *m, uint8_t out[LDG_HASH_BYTES])
{
	uint8_t acc[LDG_HASH_BYTES];

	if (m->depth == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	/* RFC 6962 splits at the largest power of two: fold right to left. */
	memcpy(acc, m->stack[m->depth - 1], LDG_HASH_BYTES);
	for (int i = m->depth - 2; i >= 0; i--)
		ldg_merkle_node(m->stack[i], acc, acc);
	memcpy(out, acc, LDG_HASH_BYTES);
}
