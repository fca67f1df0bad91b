/*
 * sigrate - the physical limit of `ledger verify`: how many Ed25519
 * signatures libsodium's crypto_sign_verify_detached checks per second.
 *
 *   sigrate [N [ROUNDS [THREADS]]]
 *
 * Signs one 200-byte message (about the size of a typical `set` entry's
 * signing message) and verifies it N times (default 10,000) on each of
 * THREADS threads (default 1), ROUNDS times (default 3). Prints one line
 * per round: the verifications per second of all threads together.
 * With THREADS = 1 that is the single-core rate the benchmark multiplies
 * by the number of cores; with THREADS = nproc it is what the machine
 * really delivers in parallel.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MSG_BYTES 200

static unsigned char pk[crypto_sign_PUBLICKEYBYTES];
static unsigned char msg[MSG_BYTES];
static unsigned char sig[crypto_sign_BYTES];
static unsigned long n_verify;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	unsigned long *bad = arg;

	for (unsigned long i = 0; i < n_verify; i++)
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk))
			(*bad)++;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned long rounds = 3, threads = 1;
	pthread_t th[256];
	unsigned long bad[256] = { 0 };

	n_verify = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	if (argc > 2)
		rounds = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		threads = strtoul(argv[3], NULL, 10);
	if (argc > 4 || n_verify < 1 || rounds < 1 || threads < 1 ||
	    threads > 256) {
		fprintf(stderr, "usage: sigrate [N [ROUNDS [THREADS]]]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 2;
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);

	for (unsigned long r = 0; r < rounds; r++) {
		double t0 = now(), t;
		for (unsigned long i = 0; i < threads; i++)
			if (pthread_create(&th[i], NULL, worker, &bad[i])) {
				perror("pthread_create");
				return 2;
			}
		for (unsigned long i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		t = now() - t0;
		for (unsigned long i = 0; i < threads; i++)
			if (bad[i]) {
				fprintf(stderr, "sigrate: a good signature "
						"failed to verify\n");
				return 1;
			}
		printf("%.0f\n", (double)(n_verify * threads) / t);
	}
	return 0;
}
