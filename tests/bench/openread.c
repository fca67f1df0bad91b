/*
 * openread - the cost of reading a small file the way `cat` does:
 *
 *   openread PATH [N [ROUNDS]]
 *
 * Each operation is open(O_RDONLY), read() into a 64 KiB buffer until it
 * returns 0, close(). Runs N operations (default 10,000) per round,
 * ROUNDS rounds (default 5), and prints one line per round: the mean
 * nanoseconds per operation. The benchmark runs it on a mounted file and
 * on a copy of the same bytes in tmpfs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	unsigned long n = 10000, rounds = 5;
	long long expect = -1;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: openread PATH [N [ROUNDS]]\n");
		return 2;
	}
	if (argc > 2)
		n = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		rounds = strtoul(argv[3], NULL, 10);
	if (n < 1 || rounds < 1)
		return 2;
	for (unsigned long r = 0; r < rounds; r++) {
		long long t0 = now_ns();
		for (unsigned long i = 0; i < n; i++) {
			long long total = 0;
			ssize_t got;
			int fd = open(argv[1], O_RDONLY);
			if (fd < 0) {
				perror(argv[1]);
				return 1;
			}
			while ((got = read(fd, buf, sizeof(buf))) > 0)
				total += got;
			if (got < 0) {
				perror(argv[1]);
				return 1;
			}
			close(fd);
			/* every read must see the whole file */
			if (expect < 0)
				expect = total;
			if (total != expect || total == 0) {
				fprintf(stderr,
					"openread: %s: read %lld "
					"bytes, expected %lld\n",
					argv[1], total, expect);
				return 1;
			}
		}
		printf("%.0f\n", (double)(now_ns() - t0) / (double)n);
	}
	return 0;
}
