/*
 * Unit tests for ledger/tlog.c: tile geometry and paths (with the
 * examples of C2SP tlog-tiles), range hashes against testlib's naive
 * RFC 6962 tree, consistency and inclusion proofs (made by RFC 6962's
 * recursive definition, checked by RFC 9162's iterative one, for every
 * pair of sizes up to N_MAX, and refused when any hash, size or length
 * is wrong), the store as a node source, cosigner keys, and
 * cosignatures (with the example of C2SP tlog-cosignature).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "checkpoint.h"
#include "keys.h"
#include "ops.h"
#include "store.h"
#include "fixture.h"
#include "testlib.h"
#include "tlog.h"

#define N_MAX 40
/* a hash array as tl_mth() takes it */
#define CL(a) ((const uint8_t(*)[LDG_HASH_BYTES])(a))

static uint8_t leaves[N_MAX][LDG_HASH_BYTES];

static int group_setup(void **state)
{
	(void)state;
	if (ldg_crypto_init())
		return -1;
	for (unsigned i = 0; i < N_MAX; i++) {
		char data[16];
		snprintf(data, sizeof(data), "leaf %u", i);
		ldg_entry_hash((const uint8_t *)data, strlen(data), leaves[i]);
	}
	return 0;
}

/* A node source over leaves[0..size), computed naively. */
static int mem_node(void *arg, unsigned height, uint64_t index,
		    uint8_t out[LDG_HASH_BYTES])
{
	uint64_t size = *(uint64_t *)arg, lo = index << height;

	if (height > 20 || lo + ((uint64_t)1 << height) > size)
		return -ENOENT;
	tl_mth(CL(leaves) + lo, (size_t)1 << height, out);
	return 0;
}

static void test_tile_paths(void **state)
{
	char p[LDG_TILE_PATH_MAX];
	int level;
	uint64_t n;
	unsigned w;

	(void)state;
	/* the example of C2SP tlog-tiles */
	ldg_tile_path(0, 1234067, LDG_TILE_WIDTH, p);
	assert_string_equal(p, "tile/0/x001/x234/067");
	ldg_tile_path(0, 0, LDG_TILE_WIDTH, p);
	assert_string_equal(p, "tile/0/000");
	ldg_tile_path(2, 1000, 17, p);
	assert_string_equal(p, "tile/2/x001/000.p/17");
	ldg_tile_path(LDG_TILE_ENTRIES, 5, 255, p);
	assert_string_equal(p, "tile/entries/005.p/255");
	ldg_tile_path(63, UINT64_MAX, 1, p);
	assert_string_equal(p, "tile/63/x018/x446/x744/x073/x709/x551/615.p/1");
	assert_int_equal(ldg_tile_path(64, 0, 1, p), -EINVAL);
	assert_int_equal(ldg_tile_path(0, 0, 0, p), -EINVAL);
	assert_int_equal(ldg_tile_path(0, 0, 257, p), -EINVAL);

	assert_int_equal(ldg_tile_path_parse("tile/0/x001/x234/067", &level, &n,
					     &w),
			 0);
	assert_int_equal(level, 0);
	assert_int_equal(n, 1234067);
	assert_int_equal(w, LDG_TILE_WIDTH);
	assert_int_equal(ldg_tile_path_parse("tile/entries/x001/000.p/3",
					     &level, &n, &w),
			 0);
	assert_int_equal(level, LDG_TILE_ENTRIES);
	assert_int_equal(n, 1000);
	assert_int_equal(w, 3);
	assert_int_equal(ldg_tile_path_parse(
				 "tile/63/x018/x446/x744/x073/x709/x551/615.p/1",
				 &level, &n, &w),
			 0);
	assert_true(n == UINT64_MAX);

	/* one spelling per tile: everything else is refused */
	static const char *const bad[] = {
		"tile/00/000",	   "tile/64/000",
		"tile/0/67",	   "tile/0/0067",
		"tile/0/x000/067", "tile/0/001/234",
		"tile/0/x001",	   "tile/0/x001/",
		"tile/0/067.p/0",  "tile/0/067.p/256",
		"tile/0/067.p/07", "tile/0/067.p/",
		"tile/0/067.q/7",  "tile/0/067/",
		"tile/entries/",   "tile/entry/000",
		"tiles/0/000",	   "tile/0/x018/x446/x744/x073/x709/x551/616",
		"tile/-1/000",	   "tile//000",
		"tile/0/067.p/1 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldg_tile_path_parse(bad[i], &level, &n, &w),
				 -EINVAL);
}

static void test_tile_count(void **state)
{
	/* C2SP tlog-tiles: "a tree of size 70,000 will be represented by
	 * 273 full level 0 tiles, one partial level 0 tile of width 112,
	 * one full level 1 tile, one partial level 1 tile of width 17, and
	 * one partial level 2 tile of width 1"; "a tree of size 256 will
	 * be represented by a full level 0 tile and a partial level 1 tile
	 * of width 1"; bundles follow level 0 */
	static const struct {
		uint64_t size;
		int level;
		uint64_t full;
		unsigned part;
	} cases[] = {
		{ 70000, 0, 273, 112 },	 { 70000, LDG_TILE_ENTRIES, 273, 112 },
		{ 70000, 1, 1, 17 },	 { 70000, 2, 0, 1 },
		{ 70000, 3, 0, 0 },	 { 256, 0, 1, 0 },
		{ 256, 1, 0, 1 },	 { UINT64_MAX, 7, 0, 255 },
		{ UINT64_MAX, 8, 0, 0 }, { UINT64_MAX, 63, 0, 0 },
		{ 0, 0, 0, 0 },
	};
	uint64_t full;
	unsigned part;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ldg_tile_count(cases[i].size, cases[i].level, &full, &part);
		assert_true(full == cases[i].full);
		assert_int_equal(part, cases[i].part);
	}
}

static void test_range_and_root(void **state)
{
	uint64_t size = N_MAX;
	uint8_t want[LDG_HASH_BYTES], got[LDG_HASH_BYTES];

	(void)state;
	for (uint64_t n = 0; n <= N_MAX; n++) {
		tl_mth(CL(leaves), n, want);
		assert_int_equal(ldg_tlog_root(mem_node, &size, n, got), 0);
		assert_memory_equal(got, want, LDG_HASH_BYTES);
	}
	/* ranges RFC 6962's recursion asks for */
	tl_mth(CL(leaves) + 8, 5, want);
	assert_int_equal(ldg_tlog_range(mem_node, &size, 8, 13, got), 0);
	assert_memory_equal(got, want, LDG_HASH_BYTES);
	tl_mth(CL(leaves) + 16, 16, want);
	assert_int_equal(ldg_tlog_range(mem_node, &size, 16, 32, got), 0);
	assert_memory_equal(got, want, LDG_HASH_BYTES);
	/* and not others */
	assert_int_equal(ldg_tlog_range(mem_node, &size, 4, 12, got), -EINVAL);
	assert_int_equal(ldg_tlog_range(mem_node, &size, 3, 8, got), -EINVAL);
	assert_int_equal(ldg_tlog_range(mem_node, &size, 5, 5, got), -EINVAL);
	/* the source's error passes through */
	size = 10;
	assert_int_equal(ldg_tlog_root(mem_node, &size, 12, got), -ENOENT);
}

static void test_consistency(void **state)
{
	uint64_t size = N_MAX;
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];
	uint8_t r1[LDG_HASH_BYTES], r2[LDG_HASH_BYTES];
	size_t n;

	(void)state;
	for (uint64_t m = 0; m <= N_MAX; m++) {
		tl_mth(CL(leaves), m, r1);
		for (uint64_t k = m; k <= N_MAX; k++) {
			tl_mth(CL(leaves), k, r2);
			assert_int_equal(ldg_proof_consistency(mem_node, &size,
							       m, k, proof, &n),
					 0);
			assert_int_equal(ldg_proof_consistency_check(m, r1, k,
								     r2,
								     proof[0],
								     n),
					 0);
			if (m == 0 || m == k) {
				assert_int_equal(n, 0);
				continue;
			}
			/* every hash matters */
			for (size_t i = 0; i < n; i++) {
				proof[i][i % LDG_HASH_BYTES] ^= 1;
				assert_int_equal(ldg_proof_consistency_check(
							 m, r1, k, r2, proof[0],
							 n),
						 -EBADMSG);
				proof[i][i % LDG_HASH_BYTES] ^= 1;
			}
			/* and every root, size and length */
			r2[0] ^= 1;
			assert_int_equal(ldg_proof_consistency_check(m, r1, k,
								     r2,
								     proof[0],
								     n),
					 -EBADMSG);
			r2[0] ^= 1;
			r1[31] ^= 1;
			assert_int_equal(ldg_proof_consistency_check(m, r1, k,
								     r2,
								     proof[0],
								     n),
					 -EBADMSG);
			r1[31] ^= 1;
			assert_int_equal(ldg_proof_consistency_check(m, r1, k,
								     r2,
								     proof[0],
								     n - 1),
					 -EBADMSG);
			/* (a proof binds the roots; the root binds the
			 * size: the tree of size k + 1 is refused) */
			if (k < N_MAX) {
				uint8_t r3[LDG_HASH_BYTES];
				tl_mth(CL(leaves), k + 1, r3);
				assert_int_equal(ldg_proof_consistency_check(
							 m, r1, k + 1, r3,
							 proof[0], n),
						 -EBADMSG);
			}
			if (m > 1)
				assert_int_not_equal(ldg_proof_consistency_check(
							     m - 1, r1, k, r2,
							     proof[0], n),
						     0);
		}
	}
	/* an old size 0 takes only the empty proof; equal sizes only
	 * equal roots; old > new never */
	tl_mth(CL(leaves), 5, r1);
	tl_mth(CL(leaves), 6, r2);
	assert_int_equal(ldg_proof_consistency_check(0, r1, 5, r1, proof[0], 1),
			 -EBADMSG);
	assert_int_equal(ldg_proof_consistency_check(5, r1, 5, r2, proof[0], 0),
			 -EBADMSG);
	assert_int_equal(ldg_proof_consistency_check(6, r2, 5, r1, proof[0], 0),
			 -EBADMSG);
	assert_int_equal(ldg_proof_consistency(mem_node, &size, 6, 5, proof,
					       &n),
			 -EINVAL);
	/* a proof from another tree of the same sizes does not pass */
	uint8_t other[LDG_HASH_BYTES];
	ldg_proof_consistency(mem_node, &size, 7, 13, proof, &n);
	tl_mth(CL(leaves), 7, r1);
	memcpy(other, leaves[3], LDG_HASH_BYTES);
	leaves[3][0] ^= 1;
	tl_mth(CL(leaves), 13, r2);
	leaves[3][0] ^= 1;
	assert_int_equal(ldg_proof_consistency_check(7, r1, 13, r2, proof[0],
						     n),
			 -EBADMSG);
	assert_memory_equal(other, leaves[3], LDG_HASH_BYTES);
}

static void test_inclusion(void **state)
{
	uint64_t size = N_MAX;
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];
	uint8_t root[LDG_HASH_BYTES];
	size_t n;

	(void)state;
	for (uint64_t k = 1; k <= N_MAX; k++) {
		tl_mth(CL(leaves), k, root);
		for (uint64_t i = 0; i < k; i++) {
			assert_int_equal(ldg_proof_inclusion(mem_node, &size, i,
							     k, proof, &n),
					 0);
			assert_int_equal(ldg_proof_inclusion_check(i, k,
								   leaves[i],
								   proof[0], n,
								   root),
					 0);
			/* another leaf, index or size does not pass */
			assert_int_equal(ldg_proof_inclusion_check(i, k,
								   leaves[(i +
									   1) %
									  k],
								   proof[0], n,
								   root),
					 k == 1 ? 0 : -EBADMSG);
			if (k > 1)
				assert_int_equal(ldg_proof_inclusion_check(
							 (i + 1) % k, k,
							 leaves[i], proof[0], n,
							 root),
						 -EBADMSG);
			if (k < N_MAX) {
				uint8_t r3[LDG_HASH_BYTES];
				tl_mth(CL(leaves), k + 1, r3);
				assert_int_equal(ldg_proof_inclusion_check(
							 i, k + 1, leaves[i],
							 proof[0], n, r3),
						 -EBADMSG);
			}
			for (size_t j = 0; j < n; j++) {
				proof[j][7] ^= 0x80;
				assert_int_equal(ldg_proof_inclusion_check(
							 i, k, leaves[i],
							 proof[0], n, root),
						 -EBADMSG);
				proof[j][7] ^= 0x80;
			}
		}
	}
	assert_int_equal(ldg_proof_inclusion(mem_node, &size, 5, 5, proof, &n),
			 -EINVAL);
	assert_int_equal(ldg_proof_inclusion_check(5, 5, leaves[0], proof[0], 0,
						   root),
			 -EBADMSG);
}

/* The store as a node source: the same proofs and roots as the naive
 * tree of its entry hashes. */
static void test_store_node(void **state)
{
	struct fx *f = *state;
	struct ldg_read *r;
	uint8_t hashes[N_MAX][LDG_HASH_BYTES], want[LDG_HASH_BYTES];
	uint8_t got[LDG_HASH_BYTES];
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];
	uint64_t head;
	size_t n;

	for (int i = 0; i < 20; i++) {
		char v[32];
		snprintf(v, sizeof(v), "%d", i);
		must_set(f, "prod/api", "k", v);
	}
	head = head_of(f, got);
	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	for (uint64_t s = 1; s <= head; s++)
		assert_int_equal(ldg_entry_hash_at(r, s, hashes[s - 1]), 0);
	for (uint64_t k = 1; k <= head; k++) {
		tl_mth(CL(hashes), k, want);
		assert_int_equal(ldg_tlog_root(ldg_store_node, r, k, got), 0);
		assert_memory_equal(got, want, LDG_HASH_BYTES);
		assert_int_equal(ldg_merkle_root_at(r, k, got), 0);
		assert_memory_equal(got, want, LDG_HASH_BYTES);
	}
	tl_mth(CL(hashes), 5, got);
	tl_mth(CL(hashes), head, want);
	assert_int_equal(ldg_proof_consistency(ldg_store_node, r, 5, head,
					       proof, &n),
			 0);
	assert_int_equal(ldg_proof_consistency_check(5, got, head, want,
						     proof[0], n),
			 0);
	/* past the head: nothing */
	assert_int_equal(ldg_store_node(r, 0, head, got), -ENOENT);
	assert_int_equal(ldg_store_node(r, 4, 1, got), -ENOENT);
	assert_int_equal(ldg_store_node(r, 63, 1, got), -ENOENT);
	assert_int_equal(ldg_store_node(r, 64, 0, got), -ENOENT);
	assert_int_equal(ldg_store_node(r, 1, UINT64_MAX, got), -ENOENT);
	ldg_read_end(r);
}

static void assert_same_key(const struct ldg_vkey *a, const struct ldg_vkey *b)
{
	assert_string_equal(a->name, b->name);
	assert_memory_equal(a->keyid, b->keyid, LDG_KEYID_BYTES);
	assert_memory_equal(a->pk, b->pk, LDG_PK_BYTES);
}

static void test_cosigner_keys(void **state)
{
	struct ldg_signer *w, *back;
	struct ldg_vkey vk, note;
	struct ldg_err err = { 0 };
	char *dir = tl_mkdtemp(), path[4096];
	char text[LDG_VKEY_TEXT_MAX];
	uint8_t id[LDG_KEYID_BYTES];

	(void)state;
	assert_non_null(dir);
	assert_int_equal(ldg_signer_generate_alg("witness.example/w1",
						 LDG_ALG_COSIG, &w, &err),
			 0);
	assert_int_equal(ldg_signer_alg(w), LDG_ALG_COSIG);
	/* the key id commits to the type byte 0x04 */
	ldg_keyid_alg("witness.example/w1", LDG_ALG_COSIG,
		      ldg_signer_vkey(w)->pk, id);
	assert_memory_equal(id, ldg_signer_vkey(w)->keyid, LDG_KEYID_BYTES);
	ldg_keyid("witness.example/w1", ldg_signer_vkey(w)->pk, id);
	assert_memory_not_equal(id, ldg_signer_vkey(w)->keyid, LDG_KEYID_BYTES);

	ldg_cosigner_format(ldg_signer_vkey(w), text);
	assert_int_equal(ldg_cosigner_parse(text, &vk, &err), 0);
	assert_same_key(&vk, ldg_signer_vkey(w));
	/* a cosigner key is not a ledger key, and the reverse */
	assert_int_equal(ldg_vkey_parse(text, &note, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "witness (cosigner) key"));

	/* its files: '/' is '_' */
	assert_int_equal(ldg_signer_write(w, dir, &err), 0);
	snprintf(path, sizeof(path), "%s/witness.example_w1.key", dir);
	assert_int_equal(ldg_signer_load_alg(path, LDG_ALG_COSIG, &back, &err),
			 0);
	assert_same_key(ldg_signer_vkey(back), ldg_signer_vkey(w));
	assert_int_equal(ldg_signer_alg(back), LDG_ALG_COSIG);
	ldg_signer_free(back);
	assert_int_equal(ldg_signer_load(path, &back, &err), -EINVAL);
	assert_non_null(
		strstr(err.msg, "witness (cosigner) key, not a ledger"));
	snprintf(path, sizeof(path), "%s/witness.example_w1.pub", dir);
	assert_int_equal(ldg_cosigner_load(path, &vk, &err), 0);
	assert_same_key(&vk, ldg_signer_vkey(w));
	assert_int_equal(ldg_vkey_load(path, &vk, &err), -EINVAL);
	ldg_signer_free(w);

	/* a ledger key's name takes no '/' */
	assert_int_equal(ldg_signer_generate("a/b", &w, &err), -EINVAL);
	assert_int_equal(ldg_signer_generate_alg("/a", LDG_ALG_COSIG, &w, &err),
			 -EINVAL);

	/* a ledger key where a cosigner key is wanted */
	assert_int_equal(ldg_signer_generate("n1", &w, &err), 0);
	assert_int_equal(ldg_signer_alg(w), LDG_ALG_NOTE);
	ldg_vkey_format(ldg_signer_vkey(w), text);
	assert_int_equal(ldg_cosigner_parse(text, &vk, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a ledger key, not a witness"));
	assert_int_equal(ldg_signer_write(w, dir, &err), 0);
	snprintf(path, sizeof(path), "%s/n1.key", dir);
	assert_int_equal(ldg_signer_load_alg(path, LDG_ALG_COSIG, &back, &err),
			 -EINVAL);
	ldg_signer_free(w);
	tl_rmrf(dir);
	free(dir);
}

#define NOTE_TEXT                                                              \
	"example.com/behind-the-sofa\n20852163\n"                              \
	"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

static void test_cosignature_example(void **state)
{
	/* C2SP tlog-cosignature's example: a log signature (68 bytes) and
	 * a cosignature (76 bytes) of witness.example.com/w1 at time
	 * 1679315147, the time of its example signed message */
	static const char cp_text[] = NOTE_TEXT
		"\n"
		"\xe2\x80\x94 example.com/behind-the-sofa "
		"Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
		"Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
		"\xe2\x80\x94 witness.example.com/w1 "
		"jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
		"rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
	static const uint8_t w1_id[4] = { 0x8d, 0x66, 0xcf, 0x3f };
	struct ldg_checkpoint cp;
	struct ldg_err err = { 0 };

	(void)state;
	assert_int_equal(ldg_checkpoint_parse(cp_text, strlen(cp_text), &cp,
					      &err),
			 0);
	assert_int_equal(cp.n_sigs, 2);
	assert_false(cp.sigs[0].cosig);
	assert_true(cp.sigs[1].cosig);
	assert_string_equal(cp.sigs[1].name, "witness.example.com/w1");
	assert_memory_equal(cp.sigs[1].keyid, w1_id, 4);
	assert_true(cp.sigs[1].time == 1679315147);
	assert_int_equal(cp.size, 20852163);
}

static void test_cosign(void **state)
{
	struct ldg_signer *log, *w, *w2;
	struct ldg_checkpoint cp;
	struct ldg_err err = { 0 };
	char line[LDG_COSIG_LINE_MAX], line2[LDG_COSIG_LINE_MAX], *note, *all;
	uint8_t root[LDG_HASH_BYTES] = { 1, 2, 3 };
	uint64_t t;
	size_t len;

	(void)state;
	assert_int_equal(ldg_signer_generate("log", &log, &err), 0);
	assert_int_equal(ldg_signer_generate_alg("w.example/1", LDG_ALG_COSIG,
						 &w, &err),
			 0);
	assert_int_equal(ldg_signer_generate_alg("w.example/2", LDG_ALG_COSIG,
						 &w2, &err),
			 0);
	assert_int_equal(ldg_checkpoint_make("example.com/log", 9, root, log,
					     &note, &err),
			 0);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), &cp, &err),
			 0);
	assert_int_equal(ldg_cosign(w, 1700000000, cp.text, cp.text_len, line,
				    &err),
			 0);
	assert_int_equal(ldg_cosign(w2, 1700000005, cp.text, cp.text_len, line2,
				    &err),
			 0);
	/* a ledger key cannot cosign; a time past 2^63 - 1 is refused */
	assert_int_equal(ldg_cosign(log, 1, cp.text, cp.text_len, line, &err),
			 -EINVAL);
	assert_int_equal(ldg_cosign(w, (uint64_t)1 << 63, cp.text, cp.text_len,
				    line2 + 0, &err),
			 -EINVAL);
	assert_int_equal(ldg_cosign(w2, 1700000005, cp.text, cp.text_len, line2,
				    &err),
			 0);

	len = strlen(note) + strlen(line) + strlen(line2);
	all = malloc(len + 1);
	snprintf(all, len + 1, "%s%s%s", note, line, line2);
	assert_int_equal(ldg_checkpoint_parse(all, len, &cp, &err), 0);
	assert_int_equal(cp.n_sigs, 3);
	assert_int_equal(ldg_cosig_verify(&cp, ldg_signer_vkey(w), &t), 0);
	assert_true(t == 1700000000);
	assert_int_equal(ldg_cosig_verify(&cp, ldg_signer_vkey(w2), &t), 0);
	assert_true(t == 1700000005);
	/* the log's own signature still verifies, and is not a
	 * cosignature; the cosignatures are not the log's signature */
	assert_int_equal(ldg_checkpoint_verify(&cp, ldg_signer_vkey(log)), 0);
	assert_int_equal(ldg_cosig_verify(&cp, ldg_signer_vkey(log), &t),
			 -ENOENT);
	/* a changed time, body or signature is refused */
	cp.sigs[1].time++;
	assert_int_equal(ldg_cosig_verify(&cp, ldg_signer_vkey(w), &t),
			 -EBADMSG);
	cp.sigs[1].time--;
	cp.sigs[1].time |= (uint64_t)1 << 63;
	assert_int_equal(ldg_cosig_verify(&cp, ldg_signer_vkey(w), &t),
			 -EBADMSG);
	cp.sigs[1].time &= ~((uint64_t)1 << 63);
	cp.text[strlen("example.com/log\n")] = '8';
	assert_int_equal(ldg_cosig_verify(&cp, ldg_signer_vkey(w), &t),
			 -EBADMSG);
	free(all);
	free(note);
	ldg_signer_free(log);
	ldg_signer_free(w);
	ldg_signer_free(w2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tile_paths),
		cmocka_unit_test(test_tile_count),
		cmocka_unit_test(test_range_and_root),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_inclusion),
		cmocka_unit_test_setup_teardown(test_store_node, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_cosigner_keys),
		cmocka_unit_test(test_cosignature_example),
		cmocka_unit_test(test_cosign),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
