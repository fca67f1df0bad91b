/*
 * apply.h - the applier: make a cluster match the ledger with helmfile.
 *
 * One reconcile:
 *   1. `helmfile -f FILE build` lists the releases and their labels;
 *   2. each `deployment: manual` release with values in the ledger whose
 *      values changed since its last `applied` entry (or whose last run
 *      failed, or with force) is applied with
 *        helmfile -f FILE -l name=RELEASE apply --values VALUES.yaml
 *      where VALUES.yaml (0600, in a private temporary directory, removed
 *      afterwards) holds the ledger's values as quoted YAML strings; the
 *      directory is flock'ed by the run, its helmfile and what that
 *      starts, and the private directories nobody holds (runs that were
 *      killed) are removed;
 *   3. all `deployment: auto` releases are applied in one
 *        helmfile -f FILE -l deployment=auto apply --detailed-exitcode
 *   4. every helmfile run of step 2, and a step-3 run that changed
 *      something (exit 2) or failed, is recorded as an `applied` or
 *      `apply-failed` entry signed with the applier's key, with metadata
 *      desired-seq, exit-code, duration-ms and (on failure) output-tail.
 * Unlabelled releases are left alone, and ledger targets without a
 * release in the helmfile are reported.
 *
 * A drift check (apl_drift_check(), `ledger apply --check`) applies
 * nothing: for each manual release with values in the ledger
 *   helmfile -f FILE -l name=RELEASE diff --values VALUES.yaml
 *            --detailed-exitcode
 * and, when there are auto releases, one
 *   helmfile -f FILE -l deployment=auto diff --detailed-exitcode
 * Exit 0 is in sync, 2 drifted, anything else (or a timeout) a failed
 * check, never drift. A `drift` entry (docs/format.md 4), signed with the
 * applier's key, is written only when the status differs from the
 * target's newest one (none counts as in sync), so repeated checks do not
 * grow the ledger; a failed check writes nothing.
 *
 * apply/ never prints: everything a user should read goes through the
 * say() callback. A per-cluster lock file keeps two appliers apart.
 *
 * Caveats: o, and everything it points to, is borrowed for the call.
 * Both functions run helmfile through apl_run() (helmfile.h): call them
 * from one thread at a time. apl_watch() needs o->stop set.
 */
#ifndef APL_APPLY_H
#define APL_APPLY_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "keys.h"
#include "names.h"
#include "store.h"

enum apl_level {
	APL_INFO,   /* what happened to a release */
	APL_NOTICE, /* left alone, and why */
	APL_WARN,   /* something the operator should look at */
	APL_DRY,    /* --dry-run: a command or values file, verbatim */
};

struct apl_opts {
	struct ldg_store *store;
	const struct ldg_signer *key; /* the applier's; NULL with dry_run */
	const char *cluster;
	const char *helmfile; /* the cluster's helmfile.yaml */
	const char *binary;   /* the helmfile executable */
	bool dry_run;
	bool force;	    /* re-apply manual releases regardless */
	unsigned timeout_s; /* per helmfile run; 0 = none */
	/* the cluster's lock (apl_lock), or -1: helmfile and everything it
	 * starts inherit it, so the lock outlives a killed applier for as
	 * long as any of its helmfile run does */
	int lock_fd;
	void (*say)(void *arg, enum apl_level level, const char *text);
	void *say_arg;
	/* when set and nonzero: start no further helmfile run (the one
	 * under way finishes and is recorded) */
	volatile sig_atomic_t *stop;
};

struct apl_summary {
	unsigned applied;  /* helmfile runs that succeeded */
	unsigned failed;   /* helmfile runs that failed or timed out */
	unsigned current;  /* manual releases already as the ledger says */
	unsigned left;	   /* releases left alone */
	unsigned recorded; /* entries appended */
};

enum apl_drift {
	APL_IN_SYNC,
	APL_DRIFTED,
	APL_CHECK_FAILED, /* helmfile's diff failed: no status, no entry */
};

/* One target checked: a release, or the cluster for its auto releases. */
struct apl_check {
	char target[LDG_TARGET_MAX + 1];
	enum apl_drift status;
	int exit_code;	   /* helmfile's (128+signal; -1 timed out) */
	uint64_t recorded; /* the drift entry this check wrote, or 0 */
	uint64_t since;	   /* the target's newest drift entry now, or 0 */
	char *diff;	   /* the tail of its output as stored (malloc'd) */
};

struct apl_check_report {
	uint64_t head; /* the seq whose values were compared */
	struct apl_check *v;
	size_t n;
	unsigned left; /* manual releases without values: not checked */
};

void apl_check_report_free(struct apl_check_report *rep);

/* One drift check of o->cluster (o->dry_run and o->force are not read).
 * 0 when it ran (failed diffs are rows of rep with APL_CHECK_FAILED),
 * -errno when it could not, as apl_reconcile(). Caller frees rep with
 * apl_check_report_free(), also on failure. */
int apl_drift_check(const struct apl_opts *o, struct apl_check_report *rep,
		    struct ldg_err *err);

/* One reconcile. 0 when it ran (failures of helmfile are counted in
 * sum->failed), -errno when it could not (helmfile build failed, bad
 * output, ledger not writable, applier not authorised...). */
int apl_reconcile(const struct apl_opts *o, struct apl_summary *sum,
		  struct ldg_err *err);

/* Reconciles now, whenever the head moves (checked every second) and
 * every interval_s; after a failure, again after a growing backoff
 * (5 s doubling to 5 min). With check_every N > 0, every N-th reconcile
 * is followed by apl_drift_check(). Returns when *o->stop becomes
 * nonzero. */
int apl_watch(const struct apl_opts *o, unsigned interval_s,
	      unsigned check_every, struct ldg_err *err);

/* Takes the cluster's applier lock (a lock file beside the ledger);
 * -EBUSY naming the holder when another applier has it. */
int apl_lock(const char *ledger_dir, const char *cluster, int *fd,
	     struct ldg_err *err);
void apl_unlock(int fd);

#endif
