/*
 * policyrate - what promotion policies cost per write, on a ledger made
 * by mkledger: `policyrate DIR N` (the key is DIR.keys/bench.key).
 *
 * It adds a second admin key, a policy on all of c2 (1 approval, a soak of 60
 * s from c1), another on all of c9 and two freeze windows that do not cover
 * c1 or c2 (so every write evaluates policies and windows), then N
 * releases c1/pK with a value and an applied entry each, and waits 61 s
 * once, so that they have soaked. Then it times, for K = 1..N, one write
 * of each kind (microseconds, wall clock):
 *   ungated  ldg_set on c1/qK (policies exist, none covers it)
 *   propose  ldg_set on c2/pK: a proposal (needs 1 approval)
 *   enact    ldg_approve of it by the second key: the approval that
 *            enacts it, with the soak's evidence found and checked
 * and prints "KIND MEDIAN P10 P90 N" per kind. Run on a 1,000- and a
 * 1,000,000-entry ledger, the rows show what the size of the log adds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "util.h"
#include "window.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *kind, double *t, size_t n)
{
	size_t p10 = n / 10, p90 = n - 1 - n / 10;

	qsort(t, n, sizeof(*t), cmp);
	printf("%s %.1f %.1f %.1f %zu\n", kind,
	       n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2, t[p10], t[p90],
	       n);
}

static void die(const char *what, const struct ldg_err *err)
{
	fprintf(stderr, "policyrate: %s: %s\n", what, err->msg);
	exit(1);
}

int main(int argc, char **argv)
{
	struct ldg_policy pol = { .approvals = 1, .soak = 60 };
	struct ldg_window w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL, *k2 = NULL;
	struct ldg_store *s = NULL;
	double *t_set, *t_prop, *t_enact;
	char path[4096];
	size_t n;

	if (argc != 3 || (n = strtoul(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: policyrate DIR N\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s.keys/bench.key", argv[1]);
	if (ldg_crypto_init() || ldg_signer_load(path, &k, &err) ||
	    ldg_signer_generate("approver", &k2, &err) ||
	    ldg_store_open(argv[1], 0, &s, &err))
		die("setup", &err);
	if (ldg_key_add(s, k, ldg_signer_vkey(k2), "admin", "*", "bench", &res,
			&err))
		die("key add", &err);
	snprintf(pol.soak_from, sizeof(pol.soak_from), "c1");
	if (ldg_policy_set(s, k, "c2/*", &pol, "bench", &res, &err) ||
	    ldg_policy_set(s, k, "c9/*", &pol, "bench", &res, &err))
		die("policy", &err);
	snprintf(w.scope, sizeof(w.scope), "c8/*");
	snprintf(w.cron, sizeof(w.cron), "0 0 1 1 *");
	snprintf(w.tz, sizeof(w.tz), "Europe/Berlin");
	w.duration = 3600;
	if (ldg_freeze(s, k, &w, "new year", &res, &err))
		die("freeze", &err);
	w.cron[0] = '\0';
	w.from = (int64_t)(ldg_now_ns() / 1000000000u) + 86400;
	w.until = w.from + 86400;
	if (ldg_freeze(s, k, &w, "later", &res, &err))
		die("freeze", &err);
	for (size_t i = 1; i <= n; i++) {
		char target[32], tag[32];
		struct ldg_kv kv = { .key = "image.tag", .value = tag };
		struct ldg_entry *a;
		snprintf(target, sizeof(target), "c1/p%zu", i);
		snprintf(tag, sizeof(tag), "t%zu", i);
		if (ldg_set(s, k, target, &kv, 1, "bench", NULL, 0, 0, &res,
			    &err))
			die("set", &err);
		a = ldg_entry_new(LDG_KIND_APPLIED, target, "applied");
		if (!a || ldg_entry_add_change(a, "image.tag", tag) ||
		    ldg_append(s, k, a, &res, &err))
			die("applied", &err);
		ldg_entry_free(a);
	}
	fprintf(stderr, "policyrate: waiting 61 s for the soak\n");
	sleep(61);
	t_set = calloc(n, sizeof(double));
	t_prop = calloc(n, sizeof(double));
	t_enact = calloc(n, sizeof(double));
	for (size_t i = 1; i <= n; i++) {
		char target[32], tag[32];
		struct ldg_kv kv = { .key = "image.tag", .value = tag };
		uint64_t seq;
		double t0;
		snprintf(tag, sizeof(tag), "t%zu", i);
		snprintf(target, sizeof(target), "c1/q%zu", i);
		t0 = now_us();
		if (ldg_set(s, k, target, &kv, 1, "bench", NULL, 0, 0, &res,
			    &err))
			die("ungated set", &err);
		t_set[i - 1] = now_us() - t0;
		snprintf(target, sizeof(target), "c2/p%zu", i);
		t0 = now_us();
		if (ldg_set(s, k, target, &kv, 1, "bench", NULL, 0, 0, &res,
			    &err) ||
		    res.n != 1)
			die("proposal", &err);
		t_prop[i - 1] = now_us() - t0;
		seq = res.v[0].seq;
		t0 = now_us();
		if (ldg_approve(s, k2, seq, "bench", &res, &err))
			die("approve", &err);
		t_enact[i - 1] = now_us() - t0;
	}
	report("ungated", t_set, n);
	report("propose", t_prop, n);
	report("enact", t_enact, n);
	ldg_result_free(&res);
	ldg_store_close(s);
	ldg_signer_free(k);
	ldg_signer_free(k2);
	free(t_set);
	free(t_prop);
	free(t_enact);
	return 0;
}
