/*
 * runtimes - wall time of whole processes, several benchmarks side by
 * side, without a shell in between.
 *
 *   runtimes [-n RUNS] [-w WARMUP] [-s SEED] BENCH [::: BENCH]...
 *   BENCH = COMMAND [--- COMMAND]...
 *
 * A run of a benchmark starts its commands one after another (each with
 * posix_spawnp, waiting for it) and stops at the first that fails; its
 * time is from before the first spawn to after the last exit. So
 * `sed ... --- git commit ... --- git push ...` is one run of the git
 * workflow, exactly as a script would do it, minus the shell.
 *
 * Runs are interleaved so that drift (a busy neighbour, write-back)
 * hits every benchmark alike: all warm-up runs first, then round 1 of
 * every benchmark, round 2 in reverse order, and so on.
 *
 * In arguments, "{}" becomes a token unique to the run (so `ledger set`
 * always has a new value to write) and "{rand:LO:HI}" a random integer
 * in [LO, HI] (so every `get --at` asks about another seq); SEED fixes
 * the random sequence (default 1).
 *
 * Prints one line per measured run: "BENCH SECONDS CPU_SECONDS", BENCH
 * numbered from 0 in the order given, CPU_SECONDS the user + system time
 * of its commands (all their threads and children). The commands' stdout goes to /dev/null, their
 * stderr is kept. Exit 1 when a command fails (after printing which).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_BENCH 16
#define MAX_CMDS 8
#define MAX_ARGS 64
#define ARG_MAX_LEN 4096

struct cmd {
	int argc;
	char *argv[MAX_ARGS + 1];
};

struct bench {
	int ncmd;
	struct cmd cmd[MAX_CMDS];
};

static unsigned long long counter;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Expands {} and {rand:LO:HI} in one argument into out. */
static void expand(const char *in, char *out, size_t cap,
		   unsigned long long run)
{
	size_t n = 0;

	while (*in && n + 1 < cap) {
		unsigned long long lo, hi;
		int used = 0;
		if (in[0] == '{' && in[1] == '}') {
			n += (size_t)snprintf(out + n, cap - n, "v%ld-%llu",
					      (long)getpid(), run);
			in += 2;
		} else if (sscanf(in, "{rand:%llu:%llu}%n", &lo, &hi, &used) ==
				   2 &&
			   used > 0 && hi >= lo) {
			unsigned long long r =
				((unsigned long long)mrand48() << 32 ^
				 (unsigned long long)(uint32_t)mrand48()) %
				(hi - lo + 1);
			n += (size_t)snprintf(out + n, cap - n, "%llu", lo + r);
			in += used;
		} else {
			out[n++] = *in++;
		}
		if (n >= cap)
			n = cap - 1;
	}
	out[n] = '\0';
}

/* One run of b; returns its seconds (and in *cpu its commands' CPU
 * seconds), or -1 when a command failed. */
static double run_bench(const struct bench *b, double *cpu)
{
	static char bufs[MAX_ARGS][ARG_MAX_LEN];
	posix_spawn_file_actions_t fa;
	double t0, t;
	unsigned long long run = ++counter;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	*cpu = 0;
	t0 = now();
	for (int c = 0; c < b->ncmd; c++) {
		const struct cmd *cm = &b->cmd[c];
		char *argv[MAX_ARGS + 1];
		struct rusage ru;
		pid_t pid;
		int st;
		/* expanding costs microseconds; keep it out of the time */
		double te = now();
		for (int i = 0; i < cm->argc; i++) {
			expand(cm->argv[i], bufs[i], ARG_MAX_LEN, run);
			argv[i] = bufs[i];
		}
		argv[cm->argc] = NULL;
		t0 += now() - te;
		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ)) {
			perror(argv[0]);
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
		if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "runtimes: command failed:");
			for (int i = 0; argv[i]; i++)
				fprintf(stderr, " %s", argv[i]);
			fputc('\n', stderr);
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
		*cpu += (double)ru.ru_utime.tv_sec +
			(double)ru.ru_utime.tv_usec / 1e6 +
			(double)ru.ru_stime.tv_sec +
			(double)ru.ru_stime.tv_usec / 1e6;
	}
	t = now() - t0;
	posix_spawn_file_actions_destroy(&fa);
	return t;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: runtimes [-n RUNS] [-w WARMUP] [-s SEED] "
		"CMD... [--- CMD...]... [::: CMD... [--- CMD...]...]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct bench b[MAX_BENCH];
	long runs = 10, warmup = 2, seed = 1;
	double cpu;
	int nb = 1, opt;

	while ((opt = getopt(argc, argv, "+n:w:s:")) != -1) {
		if (opt == 'n')
			runs = strtol(optarg, NULL, 10);
		else if (opt == 'w')
			warmup = strtol(optarg, NULL, 10);
		else if (opt == 's')
			seed = strtol(optarg, NULL, 10);
		else
			return usage();
	}
	if (runs < 1 || warmup < 0 || optind >= argc)
		return usage();
	srand48(seed);
	for (int i = optind; i < argc; i++) {
		struct bench *cur = &b[nb - 1];
		struct cmd *cm;
		if (!strcmp(argv[i], ":::")) {
			if (nb == MAX_BENCH)
				return usage();
			nb++;
			continue;
		}
		if (!strcmp(argv[i], "---")) {
			if (cur->ncmd == MAX_CMDS)
				return usage();
			cur->ncmd++;
			continue;
		}
		if (cur->ncmd == 0)
			cur->ncmd = 1;
		cm = &cur->cmd[cur->ncmd - 1];
		if (cm->argc == MAX_ARGS)
			return usage();
		cm->argv[cm->argc++] = argv[i];
	}
	for (int i = 0; i < nb; i++)
		for (int c = 0; c < b[i].ncmd; c++)
			if (b[i].cmd[c].argc == 0)
				return usage();

	for (long w = 0; w < warmup; w++)
		for (int i = 0; i < nb; i++)
			if (run_bench(&b[i], &cpu) < 0)
				return 1;
	for (long r = 0; r < runs; r++) {
		for (int k = 0; k < nb; k++) {
			int i = (r & 1) ? nb - 1 - k : k;
			double t = run_bench(&b[i], &cpu);
			if (t < 0)
				return 1;
			printf("%d %.6f %.6f\n", i, t, cpu);
			fflush(stdout);
		}
	}
	return 0;
}
