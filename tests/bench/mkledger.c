/*
 * mkledger - build a large ledger fast, for benchmarks and the mount's
 * memory test: `mkledger DIR N [TARGETS]` creates a ledger in DIR (with a
 * key DIR.key) holding init plus N-1 `set` entries spread over TARGETS
 * targets, in batches of 10,000 entries per transaction. The result is an
 * ordinary ledger that `ledger verify` accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"

#define BATCH 10000

int main(int argc, char **argv)
{
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	struct ldg_entry **drafts;
	unsigned long long n, targets = 50, done = 1;
	char keydir[4096];

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mkledger DIR N [TARGETS]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	if (argc == 4)
		targets = strtoull(argv[3], NULL, 10);
	if (n < 1 || targets < 1)
		return 2;
	if (ldg_crypto_init())
		return 2;
	snprintf(keydir, sizeof(keydir), "%s.keys", argv[1]);
	if (mkdir(keydir, 0700) && errno != EEXIST) {
		perror(keydir);
		return 2;
	}
	if (ldg_signer_generate("bench", &k, &err) ||
	    ldg_signer_write(k, keydir, &err) ||
	    ldg_init(argv[1], "example.com/bench", k, &res, &err) ||
	    ldg_store_open(argv[1], 0, &s, &err)) {
		fprintf(stderr, "mkledger: %s\n", err.msg);
		return 2;
	}
	drafts = calloc(BATCH, sizeof(*drafts));
	while (done < n) {
		size_t m = 0;
		for (; m < BATCH && done + m < n; m++) {
			unsigned long long seq = done + m + 1;
			char target[64], tag[32];
			snprintf(target, sizeof(target), "c%llu/r%llu", seq % 3,
				 seq % targets);
			snprintf(tag, sizeof(tag), "%08llx",
				 seq * 2654435761ULL);
			drafts[m] = ldg_entry_new(LDG_KIND_SET, target,
						  "bulk load");
			ldg_entry_add_change(drafts[m], "image.tag", tag);
		}
		ldg_result_free(&res);
		if (ldg_append_batch(s, k, drafts, m, &res, &err)) {
			fprintf(stderr, "mkledger: %s\n", err.msg);
			return 2;
		}
		for (size_t i = 0; i < m; i++)
			ldg_entry_free(drafts[i]);
		done += m;
		if (isatty(2))
			fprintf(stderr, "\rmkledger: %llu/%llu", done, n);
	}
	if (isatty(2))
		fputc('\n', stderr);
	ldg_result_free(&res);
	free(drafts);
	ldg_store_close(s);
	ldg_signer_free(k);
	printf("%s: %llu entries, key in %s/bench.key\n", argv[1], n, keydir);
	return 0;
}
