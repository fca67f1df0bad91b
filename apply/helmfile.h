/*
 * helmfile.h - talking to helmfile: run it (argv, never a shell) with a
 * timeout, and read the releases and labels of `helmfile build`.
 *
 * `helmfile -f FILE build` prints one YAML document per state file
 * ("---", a "#  Source: PATH" comment, then the rendered state with
 * "releases:"), so templates and nested "helmfiles:" are already
 * resolved. Only name, namespace and the "deployment" label are read.
 *
 * Thread-safety: apl_run forks and waits for its own child only; call it
 * from one thread at a time. The keeper learns of the caller's death by
 * PR_SET_PDEATHSIG, which follows the thread that forked: apl_run blocks
 * that thread until the keeper is done, so only the process's death
 * counts.
 */
#ifndef APL_HELMFILE_H
#define APL_HELMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "names.h"

#define APL_OUTPUT_MAX (16u << 20) /* bytes kept per stream */

enum apl_mode {
	APL_UNLABELLED, /* no (or another) deployment label: left alone */
	APL_MANUAL,	/* deployment: manual -> the ledger holds the version */
	APL_AUTO,	/* deployment: auto -> the values file does */
};

struct apl_release {
	char name[LDG_RELEASE_MAX + 1];
	char ns[LDG_RELEASE_MAX + 11];
	char label[32]; /* the deployment label as written ("" if none) */
	enum apl_mode mode;
};

struct apl_releases {
	struct apl_release *v;
	size_t n;
};

void apl_releases_free(struct apl_releases *r);

/* Parses `helmfile build` output; file names the helmfile in errors.
 * -EINVAL with a reason when it is not that kind of YAML. Releases whose
 * name is not a valid release name are refused the same way. */
int apl_parse_build(const char *yaml, size_t len, const char *file,
		    struct apl_releases *out, struct ldg_err *err);

struct apl_run_result {
	int exit_code;	/* the child's exit status, or 128+signal */
	bool timed_out; /* killed after the timeout */
	uint64_t duration_ms;
	char *out; /* stdout (malloc'd, NUL-terminated) */
	size_t out_len;
	char *err; /* stderr */
	size_t err_len;
};

void apl_run_result_free(struct apl_run_result *r);

/* Runs argv[0] (a path) with argv, stdin from /dev/null, capturing
 * stdout and stderr, in a process group of its own, under a keeper
 * process (a fork of the caller that never execs). The keeper stops the
 * group (SIGTERM, then SIGKILL after 5 s) when it runs longer than
 * timeout_s (> 0), and as soon as the caller dies, even by SIGKILL;
 * helmfile's orphans are reparented to the keeper (a subreaper), which
 * returns only when the whole group is gone. keep[] (n_keep
 * descriptors, e.g. locks) stay open in helmfile and everything it
 * starts, so a flock on them is held as long as any of it runs; the
 * keeper holds every descriptor of the caller. Returns 0 when the child
 * ran (whatever its exit code), -errno when it could not. */
int apl_run(char *const argv[], unsigned timeout_s, const int *keep,
	    size_t n_keep, struct apl_run_result *out, struct ldg_err *err);

/* The helmfile binary: $HELMFILE, else "helmfile" on $PATH. -ENOENT with
 * a message saying how to point at it. */
int apl_helmfile_binary(char *out, size_t len, struct ldg_err *err);

/* The last lines of text (at most max bytes), made safe to store as an
 * entry value: valid UTF-8, newlines as " | ", other controls as spaces.
 * Returns a malloc'd string ("" when text is empty). */
char *apl_output_tail(const char *text, size_t len, size_t max);

#endif
