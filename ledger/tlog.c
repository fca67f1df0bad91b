/*
 * tlog.c - tile geometry and paths, range hashes, RFC 6962 proofs and
 * C2SP cosignatures (tlog.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "tlog.h"
#include "util.h"

#define EM_DASH "\xe2\x80\x94"
#define COSIG_HEADER "cosignature/v1\ntime "

void ldg_tile_count(uint64_t size, int level, uint64_t *full, unsigned *partial)
{
	unsigned shift = level <= 0 ? 0 : (unsigned)level * LDG_TILE_HEIGHT;
	uint64_t hashes = shift >= 64 ? 0 : size >> shift;

	*full = hashes / LDG_TILE_WIDTH;
	*partial = (unsigned)(hashes % LDG_TILE_WIDTH);
}

int ldg_tile_path(int level, uint64_t n, unsigned width,
		  char out[LDG_TILE_PATH_MAX])
{
	unsigned groups[7];
	int ng = 0, len;

	if (level < LDG_TILE_ENTRIES || level > 63 || width < 1 ||
	    width > LDG_TILE_WIDTH)
		return -EINVAL;
	do {
		groups[ng++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n);
	if (level == LDG_TILE_ENTRIES)
		len = snprintf(out, LDG_TILE_PATH_MAX, "tile/entries/");
	else
		len = snprintf(out, LDG_TILE_PATH_MAX, "tile/%d/", level);
	while (ng-- > 0)
		len += snprintf(out + len, LDG_TILE_PATH_MAX - (size_t)len,
				ng ? "x%03u/" : "%03u", groups[ng]);
	if (width < LDG_TILE_WIDTH)
		len += snprintf(out + len, LDG_TILE_PATH_MAX - (size_t)len,
				".p/%u", width);
	return len;
}

/* A decimal of 1..max_digits digits with no leading zero, up to stop
 * or the end; the number of bytes read, or 0. */
static size_t parse_small(const char *p, unsigned max, unsigned *out)
{
	size_t i = 0;
	unsigned v = 0;

	while (p[i] >= '0' && p[i] <= '9' && i < 4)
		v = v * 10 + (unsigned)(p[i++] - '0');
	if (i == 0 || (i > 1 && p[0] == '0') || v > max)
		return 0;
	*out = v;
	return i;
}

int ldg_tile_path_parse(const char *path, int *level, uint64_t *n,
			unsigned *width)
{
	const char *p = path;
	unsigned lv, w = LDG_TILE_WIDTH;
	uint64_t v = 0;
	bool first = true;
	size_t k;

	if (strncmp(p, "tile/", 5))
		return -EINVAL;
	p += 5;
	if (!strncmp(p, "entries/", 8)) {
		*level = LDG_TILE_ENTRIES;
		p += 8;
	} else {
		k = parse_small(p, 63, &lv);
		if (!k || p[k] != '/')
			return -EINVAL;
		*level = (int)lv;
		p += k + 1;
	}
	/* groups of three digits, every one but the last after an 'x' */
	for (;;) {
		bool more = *p == 'x';
		unsigned g = 0;
		if (more)
			p++;
		for (int i = 0; i < 3; i++, p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			g = g * 10 + (unsigned)(*p - '0');
		}
		/* no leading group of zeros: one spelling per index */
		if (first && more && g == 0)
			return -EINVAL;
		if (v > (UINT64_MAX - g) / 1000)
			return -EINVAL;
		v = v * 1000 + g;
		first = false;
		if (!more)
			break;
		if (*p++ != '/')
			return -EINVAL;
	}
	if (*p == '.') {
		if (strncmp(p, ".p/", 3))
			return -EINVAL;
		k = parse_small(p + 3, LDG_TILE_WIDTH - 1, &w);
		if (!k || w == 0)
			return -EINVAL;
		p += 3 + k;
	}
	if (*p)
		return -EINVAL;
	*n = v;
	*width = w;
	return 0;
}

/* The largest power of two below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static bool is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

static unsigned log2_u64(uint64_t n)
{
	unsigned h = 0;

	while (n >>= 1)
		h++;
	return h;
}

int ldg_tlog_range(ldg_node_fn node, void *arg, uint64_t lo, uint64_t hi,
		   uint8_t out[LDG_HASH_BYTES])
{
	uint8_t left[LDG_HASH_BYTES];
	uint64_t n = hi - lo, k;
	int rc;

	if (lo >= hi)
		return -EINVAL;
	if (is_pow2(n)) {
		if (lo % n)
			return -EINVAL;
		return node(arg, log2_u64(n), lo / n, out);
	}
	k = split_point(n);
	if (lo % k)
		return -EINVAL;
	rc = node(arg, log2_u64(k), lo / k, left);
	if (!rc)
		rc = ldg_tlog_range(node, arg, lo + k, hi, out);
	if (!rc)
		ldg_merkle_node(left, out, out);
	return rc;
}

int ldg_tlog_root(ldg_node_fn node, void *arg, uint64_t size,
		  uint8_t out[LDG_HASH_BYTES])
{
	if (size == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return 0;
	}
	return ldg_tlog_range(node, arg, 0, size, out);
}

/* RFC 6962 section 2.1.2's SUBPROOF(m, D[lo:hi], b), appended. */
static int subproof(ldg_node_fn node, void *arg, uint64_t m, uint64_t lo,
		    uint64_t hi, bool whole, uint8_t proof[][LDG_HASH_BYTES],
		    size_t *n)
{
	uint64_t k;
	int rc;

	if (*n >= LDG_PROOF_MAX)
		return -E2BIG;
	if (m == hi - lo) {
		if (whole)
			return 0;
		return ldg_tlog_range(node, arg, lo, hi, proof[(*n)++]);
	}
	k = split_point(hi - lo);
	if (m <= k) {
		rc = subproof(node, arg, m, lo, lo + k, whole, proof, n);
		if (!rc && *n >= LDG_PROOF_MAX)
			rc = -E2BIG;
		if (!rc)
			rc = ldg_tlog_range(node, arg, lo + k, hi,
					    proof[(*n)++]);
	} else {
		rc = subproof(node, arg, m - k, lo + k, hi, false, proof, n);
		if (!rc && *n >= LDG_PROOF_MAX)
			rc = -E2BIG;
		if (!rc)
			rc = ldg_tlog_range(node, arg, lo, lo + k,
					    proof[(*n)++]);
	}
	return rc;
}

int ldg_proof_consistency(ldg_node_fn node, void *arg, uint64_t old,
			  uint64_t new, uint8_t proof[][LDG_HASH_BYTES],
			  size_t *n)
{
	*n = 0;
	if (old > new)
		return -EINVAL;
	if (old == 0 || old == new)
		return 0;
	return subproof(node, arg, old, 0, new, true, proof, n);
}

/* One hash c of a proof, RFC 9162 style: c is the left or right
 * sibling of what r (and left, the old tree's hash when it is on that
 * path, or NULL) accumulates, as the bits of fn and sn say. false when
 * the path is longer than the tree. */
static bool path_step(uint64_t *fn, uint64_t *sn, const uint8_t *c,
		      uint8_t r[LDG_HASH_BYTES], uint8_t *left)
{
	if (*sn == 0)
		return false;
	if ((*fn & 1) || *fn == *sn) {
		if (left)
			ldg_merkle_node(c, left, left);
		ldg_merkle_node(c, r, r);
		while (!(*fn & 1) && *fn != 0) {
			*fn >>= 1;
			*sn >>= 1;
		}
	} else {
		ldg_merkle_node(r, c, r);
	}
	*fn >>= 1;
	*sn >>= 1;
	return true;
}

int ldg_proof_consistency_check(uint64_t old,
				const uint8_t old_root[LDG_HASH_BYTES],
				uint64_t new,
				const uint8_t new_root[LDG_HASH_BYTES],
				const uint8_t *proof, size_t n)
{
	uint8_t fr[LDG_HASH_BYTES], sr[LDG_HASH_BYTES];
	uint64_t fn, sn;
	size_t i = 0;

	if (old > new)
		return -EBADMSG;
	if (old == 0)
		return n == 0 ? 0 : -EBADMSG;
	if (old == new)
		return n == 0 && !memcmp(old_root, new_root, LDG_HASH_BYTES)
			       ? 0
			       : -EBADMSG;
	if (n == 0 || n > LDG_PROOF_MAX)
		return -EBADMSG;
	/* RFC 9162 section 2.1.4.2; a first size that is a power of two
	 * is its own first hash, which the proof leaves out */
	if (is_pow2(old)) {
		memcpy(fr, old_root, LDG_HASH_BYTES);
	} else {
		memcpy(fr, proof, LDG_HASH_BYTES);
		i = 1;
	}
	memcpy(sr, fr, LDG_HASH_BYTES);
	fn = old - 1;
	sn = new - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++)
		if (!path_step(&fn, &sn, proof + i * LDG_HASH_BYTES, sr, fr))
			return -EBADMSG;
	if (sn != 0 || sodium_memcmp(fr, old_root, LDG_HASH_BYTES) ||
	    sodium_memcmp(sr, new_root, LDG_HASH_BYTES))
		return -EBADMSG;
	return 0;
}

int ldg_proof_inclusion(ldg_node_fn node, void *arg, uint64_t index,
			uint64_t size, uint8_t proof[][LDG_HASH_BYTES],
			size_t *n)
{
	uint8_t path[LDG_PROOF_MAX][LDG_HASH_BYTES];
	uint64_t lo = 0, hi = size, k;
	size_t depth = 0;
	int rc;

	*n = 0;
	if (index >= size)
		return -EINVAL;
	/* PATH(m, D[lo:hi]) from the top; the proof lists it bottom up */
	while (hi - lo > 1) {
		k = split_point(hi - lo);
		if (index - lo < k) {
			rc = ldg_tlog_range(node, arg, lo + k, hi, path[depth]);
			hi = lo + k;
		} else {
			rc = ldg_tlog_range(node, arg, lo, lo + k, path[depth]);
			lo += k;
		}
		if (rc)
			return rc;
		depth++;
	}
	for (size_t i = 0; i < depth; i++)
		memcpy(proof[i], path[depth - 1 - i], LDG_HASH_BYTES);
	*n = depth;
	return 0;
}

int ldg_proof_inclusion_check(uint64_t index, uint64_t size,
			      const uint8_t leaf[LDG_HASH_BYTES],
			      const uint8_t *proof, size_t n,
			      const uint8_t root[LDG_HASH_BYTES])
{
	uint8_t r[LDG_HASH_BYTES];
	uint64_t fn = index, sn;

	if (index >= size || n > LDG_PROOF_MAX)
		return -EBADMSG;
	sn = size - 1;
	memcpy(r, leaf, LDG_HASH_BYTES);
	/* RFC 9162 section 2.1.3.2 */
	for (size_t i = 0; i < n; i++)
		if (!path_step(&fn, &sn, proof + i * LDG_HASH_BYTES, r, NULL))
			return -EBADMSG;
	if (sn != 0 || sodium_memcmp(r, root, LDG_HASH_BYTES))
		return -EBADMSG;
	return 0;
}

/* "cosignature/v1\ntime T\n" || body: what a cosignature signs. */
static uint8_t *cosig_message(uint64_t t, const char *body, size_t len,
			      size_t *mlen)
{
	char head[64];
	int hl = snprintf(head, sizeof(head), COSIG_HEADER "%" PRIu64 "\n", t);
	uint8_t *m = malloc((size_t)hl + len);

	if (!m)
		return NULL;
	memcpy(m, head, (size_t)hl);
	memcpy(m + hl, body, len);
	*mlen = (size_t)hl + len;
	return m;
}

int ldg_cosign(const struct ldg_signer *w, uint64_t t, const char *body,
	       size_t len, char line[LDG_COSIG_LINE_MAX], struct ldg_err *err)
{
	const struct ldg_vkey *vk = ldg_signer_vkey(w);
	uint8_t blob[LDG_COSIG_BLOB], *msg;
	char b64[sodium_base64_ENCODED_LEN(LDG_COSIG_BLOB,
					   sodium_base64_VARIANT_ORIGINAL)];
	size_t mlen;
	int rc;

	if (ldg_signer_alg(w) != LDG_ALG_COSIG)
		return ldg_err_set(err, -EINVAL,
				   "key \"%s\" is a ledger key, not a witness "
				   "(cosigner) key",
				   vk->name);
	if (t >> 63)
		return ldg_err_set(err, -EINVAL,
				   "cosignature time %" PRIu64
				   " is past 2^63 - 1",
				   t);
	msg = cosig_message(t, body, len, &mlen);
	if (!msg)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	memcpy(blob, vk->keyid, LDG_KEYID_BYTES);
	ldg_put_be64(blob + LDG_KEYID_BYTES, t);
	rc = ldg_signer_sign(w, msg, mlen, blob + LDG_KEYID_BYTES + 8);
	free(msg);
	if (rc)
		return ldg_err_set(err, rc, "cannot sign the cosignature");
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, LDG_COSIG_LINE_MAX, EM_DASH " %s %s\n", vk->name, b64);
	return 0;
}

int ldg_cosig_verify(const struct ldg_checkpoint *cp, const struct ldg_vkey *w,
		     uint64_t *t)
{
	int rc = -ENOENT;

	*t = 0;
	for (size_t i = 0; i < cp->n_sigs; i++) {
		const struct ldg_note_sig *s = &cp->sigs[i];
		uint8_t *msg;
		size_t mlen;
		int bad;
		if (!s->cosig || strcmp(s->name, w->name) ||
		    memcmp(s->keyid, w->keyid, LDG_KEYID_BYTES))
			continue;
		if (s->time >> 63)
			return -EBADMSG;
		msg = cosig_message(s->time, cp->text, cp->text_len, &mlen);
		if (!msg)
			return -ENOMEM;
		bad = ldg_sig_verify(w->pk, msg, mlen, s->sig);
		free(msg);
		if (bad)
			return -EBADMSG;
		if (s->time > *t)
			*t = s->time;
		rc = 0;
	}
	return rc;
}
