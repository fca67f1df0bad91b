/*
 * Unit tests for ledger/merkle.c and the store's stored subtree hashes:
 * both must agree with a naive recursive RFC 6962 implementation (in
 * testlib.c) and with the published Certificate Transparency roots.
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

#include "merkle.h"
#include "ops.h"
#include "store.h"
#include "testlib.h"

#define N_MAX 20

static int group_setup(void **state)
{
	return ldg_crypto_init() ? -1 : 0;
}

static void leaf(uint32_t i, uint8_t out[LDG_HASH_BYTES])
{
	uint8_t data[8];

	snprintf((char *)data, sizeof(data), "l%u", i);
	ldg_entry_hash(data, strlen((char *)data), out);
}

static void unhex32(const char *hex, uint8_t out[32])
{
	uint8_t *b;
	size_t n;

	assert_int_equal(tl_unhex(hex, &b, &n), 0);
	assert_int_equal(n, 32);
	memcpy(out, b, 32);
	free(b);
}

static void test_empty_tree_root_is_sha256_of_nothing(void **state)
{
	struct ldg_merkle m;
	uint8_t root[32], want[32];

	ldg_merkle_init(&m);
	ldg_merkle_root(&m, root);
	unhex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		"b855",
		want);
	assert_memory_equal(root, want, 32);
}

static void test_node_hash_prefixes_0x01(void **state)
{
	uint8_t l[32], r[32], got[32], want[32], buf[65];

	leaf(1, l);
	leaf(2, r);
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	crypto_hash_sha256(want, buf, sizeof(buf));
	ldg_merkle_node(l, r, got);
	assert_memory_equal(got, want, 32);
	/* order matters */
	ldg_merkle_node(r, l, got);
	assert_memory_not_equal(got, want, 32);
}

static void test_roots_for_sizes_0_to_20_match_naive_rfc6962(void **state)
{
	uint8_t leaves[N_MAX][LDG_HASH_BYTES];
	uint8_t got[32], want[32], prev[32] = { 0 };
	struct ldg_merkle m;

	for (uint32_t i = 0; i < N_MAX; i++)
		leaf(i, leaves[i]);
	ldg_merkle_init(&m);
	for (size_t n = 0; n <= N_MAX; n++) {
		if (n > 0)
			ldg_merkle_push(&m, leaves[n - 1]);
		assert_int_equal(m.size, n);
		ldg_merkle_root(&m, got);
		tl_mth((const uint8_t(*)[32])leaves, n, want);
		assert_memory_equal(got, want, 32);
		/* every size has its own root */
		if (n > 0)
			assert_memory_not_equal(got, prev, 32);
		memcpy(prev, got, 32);
	}
	/* the compact range holds one hash per set bit of the size */
	assert_int_equal(m.depth, __builtin_popcount(N_MAX));
}

static void test_roots_match_certificate_transparency_vectors(void **state)
{
	/* RFC 6962 reference leaves and roots (certificate-transparency,
	 * transparency-dev/merkle testonly data) */
	static const char *const data[8] = {
		"",
		"00",
		"10",
		"2021",
		"3031",
		"40414243",
		"5051525354555657",
		"606162636465666768696a6b6c6d6e6f",
	};
	static const char *const roots[8] = {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	uint8_t leaves[8][32], got[32], want[32];
	struct ldg_merkle m;

	ldg_merkle_init(&m);
	for (int i = 0; i < 8; i++) {
		uint8_t *b;
		size_t n;
		assert_int_equal(tl_unhex(data[i], &b, &n), 0);
		ldg_entry_hash(b, n, leaves[i]);
		free(b);
		ldg_merkle_push(&m, leaves[i]);
		ldg_merkle_root(&m, got);
		unhex32(roots[i], want);
		assert_memory_equal(got, want, 32);
		tl_mth((const uint8_t(*)[32])leaves, (size_t)i + 1, got);
		assert_memory_equal(got, want, 32);
	}
}

static void test_large_sizes_keep_agreeing(void **state)
{
	enum {
		N = 1100
	};
	static uint8_t leaves[N][LDG_HASH_BYTES];
	uint8_t got[32], want[32];
	struct ldg_merkle m;

	ldg_merkle_init(&m);
	for (uint32_t i = 0; i < N; i++) {
		leaf(i, leaves[i]);
		ldg_merkle_push(&m, leaves[i]);
		/* powers of two and their neighbours, and some others */
		if ((i & (i + 1)) == 0 || ((i + 2) & (i + 1)) == 0 ||
		    i % 97 == 0) {
			ldg_merkle_root(&m, got);
			tl_mth((const uint8_t(*)[32])leaves, i + 1, want);
			assert_memory_equal(got, want, 32);
		}
	}
}

/* ---- the store's tree ---- */

static void test_store_root_at_every_size_matches_naive(void **state)
{
	char *dir = tl_mkdtemp(), ldir[4096];
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	struct ldg_read *r = NULL;
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	uint8_t leaves[N_MAX][LDG_HASH_BYTES], got[32], want[32];
	uint64_t head;

	snprintf(ldir, sizeof(ldir), "%s/ledger", dir);
	assert_int_equal(ldg_signer_generate("admin", &k, NULL), 0);
	assert_int_equal(ldg_init(ldir, "example.com/merkle", k, &res, &err),
			 0);
	ldg_result_free(&res);
	assert_int_equal(ldg_store_open(ldir, 0, &s, &err), 0);
	for (int i = 2; i <= N_MAX; i++) {
		char v[16];
		struct ldg_kv kv = { .key = "image.tag", .value = v };
		snprintf(v, sizeof(v), "1.0.%d", i);
		assert_int_equal(ldg_set(s, k, "staging/api", &kv, 1, "bump",
					 NULL, 0, false, &res, &err),
				 0);
		assert_int_equal(res.n, 1);
		assert_int_equal(res.v[0].seq, (uint64_t)i);
		ldg_result_free(&res);
	}

	assert_int_equal(ldg_read_begin(s, &r, &err), 0);
	assert_int_equal(ldg_head(r, &head, NULL), 0);
	assert_int_equal(head, N_MAX);
	for (uint64_t seq = 1; seq <= N_MAX; seq++) {
		const uint8_t *buf;
		size_t len;
		assert_int_equal(ldg_entry_raw(r, seq, &buf, &len), 0);
		ldg_entry_hash(buf, len, leaves[seq - 1]);
		assert_int_equal(ldg_entry_hash_at(r, seq, got), 0);
		assert_memory_equal(got, leaves[seq - 1], 32);
	}
	for (size_t n = 0; n <= N_MAX; n++) {
		assert_int_equal(ldg_merkle_root_at(r, n, got), 0);
		tl_mth((const uint8_t(*)[32])leaves, n, want);
		assert_memory_equal(got, want, 32);
	}
	/* beyond the head there is no tree */
	assert_int_not_equal(ldg_merkle_root_at(r, N_MAX + 1, got), 0);
	ldg_read_end(r);
	ldg_store_close(s);
	ldg_signer_free(k);
	tl_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_tree_root_is_sha256_of_nothing),
		cmocka_unit_test(test_node_hash_prefixes_0x01),
		cmocka_unit_test(
			test_roots_for_sizes_0_to_20_match_naive_rfc6962),
		cmocka_unit_test(
			test_roots_match_certificate_transparency_vectors),
		cmocka_unit_test(test_large_sizes_keep_agreeing),
		cmocka_unit_test(test_store_root_at_every_size_matches_naive),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
