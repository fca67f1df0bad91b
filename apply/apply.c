#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "authorize.h"
#include "helmfile.h"
#include "ops.h"
#include "policy.h"
#include "render.h"
#include "util.h"

#define TAIL_BYTES 1200
#define DIFF_BYTES 4096 /* a drift entry's diff (docs/format.md 4) */
#define BACKOFF_FIRST 5
#define BACKOFF_MAX 300

static void say(const struct apl_opts *o, enum apl_level level, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

static void say(const struct apl_opts *o, enum apl_level level, const char *fmt,
		...)
{
	char buf[8192];
	va_list ap;

	if (!o->say)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->say(o->say_arg, level, buf);
}

/* ---- the lock file ---- */

/* Does the lock file's "pid N on HOST since ..." name a process of this
 * host that has exited? Its keeper or helmfile holds the lock then. */
static bool holder_gone(const char *holder)
{
	char host[128] = "", mine[128] = "";
	long pid;

	if (sscanf(holder, "pid %ld on %127s", &pid, host) != 2 || pid <= 0 ||
	    gethostname(mine, sizeof(mine) - 1) || strcmp(host, mine))
		return false;
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

int apl_lock(const char *ledger_dir, const char *cluster, int *fd,
	     struct ldg_err *err)
{
	char path[PATH_MAX], holder[256] = "", host[128] = "?";
	int f;

	snprintf(path, sizeof(path), "%s/apply-%s.lock", ledger_dir, cluster);
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	if (f < 0)
		return ldg_err_set(err, -errno == -EACCES ? -EIO : -errno,
				   "%s: %s", path, strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB)) {
		ssize_t n = pread(f, holder, sizeof(holder) - 1, 0);
		close(f);
		if (n > 0) {
			holder[n] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
		}
		return ldg_err_set(err, -EBUSY,
				   "another applier is running for cluster %s "
				   "(%s%s; lock file %s)",
				   cluster,
				   holder[0] ? holder : "holder unknown",
				   holder_gone(holder)
					   ? ", which has exited: its helmfile "
					     "run is still being stopped"
					   : "",
				   path);
	}
	gethostname(host, sizeof(host) - 1);
	{
		char when[40];
		int len;
		ldg_time_iso(ldg_now_ns(), when, sizeof(when));
		len = snprintf(holder, sizeof(holder),
			       "pid %ld on %s since %.19sZ\n", (long)getpid(),
			       host, when);
		if (ftruncate(f, 0) == 0 && len > 0)
			(void)!pwrite(f, holder, (size_t)len, 0);
	}
	*fd = f;
	return 0;
}

void apl_unlock(int fd)
{
	if (fd >= 0) {
		(void)!ftruncate(fd, 0);
		close(fd); /* releases the flock */
	}
}

/* ---- what the ledger says ---- */

struct target_state {
	char target[LDG_TARGET_MAX + 1];
	struct ldg_values v;
	uint64_t values_seq; /* last entry that set or unset a value */
	uint64_t last_seq;   /* last applied/apply-failed entry, or 0 */
	uint64_t last_desired;
	bool last_failed;
	bool has_release;
	uint64_t drift_seq; /* newest drift entry, or 0 */
	bool drifted;	    /* its status */
};

struct snapshot {
	uint64_t head;
	struct target_state *t;
	size_t n;
	uint64_t auto_drift_seq; /* the cluster's newest drift entry, or 0 */
	bool auto_drifted;
};

static void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		ldg_values_free(&s->t[i].v);
	free(s->t);
	memset(s, 0, sizeof(*s));
}

/* The newest applied/apply-failed entry of a target. */
static int last_apply(struct ldg_read *r, struct target_state *t)
{
	struct ldg_entry *e;
	const struct ldg_kv *d;
	int rc = ldg_last_apply(r, t->target, &t->last_seq);

	if (rc || !t->last_seq)
		return rc;
	rc = ldg_entry_read(r, t->last_seq, &e, NULL);
	if (rc)
		return rc;
	t->last_failed = e->kind == LDG_KIND_APPLY_FAILED;
	d = ldg_kv_find(e->meta, e->n_meta, "desired-seq");
	if (!d || ldg_parse_seq(d->value, &t->last_desired))
		t->last_desired = 0;
	ldg_entry_free(e);
	return 0;
}

/* The newest drift entry of target (a release or the cluster): *seq, 0
 * when never checked, and whether it says drifted (none: in sync). */
static int last_drift(struct ldg_read *r, const char *target, uint64_t *seq,
		      bool *drifted)
{
	struct ldg_entry *e;
	int rc = ldg_last_drift(r, target, seq);

	*drifted = false;
	if (rc || !*seq)
		return rc;
	rc = ldg_entry_read(r, *seq, &e, NULL);
	if (rc)
		return rc;
	*drifted = e->kind == LDG_KIND_DRIFT && e->n_changes == 1 &&
		   !strcmp(e->changes[0].value, LDG_DRIFTED);
	ldg_entry_free(e);
	return 0;
}

static int read_snapshot(const struct apl_opts *o, struct snapshot *s,
			 struct ldg_err *err)
{
	char prefix[LDG_CLUSTER_MAX + 2];
	struct ldg_read *r;
	char **targets = NULL;
	size_t n = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = ldg_read_begin(o->store, &r, err);
	if (rc)
		return rc;
	snprintf(prefix, sizeof(prefix), "%s/", o->cluster);
	rc = ldg_head(r, &s->head, NULL);
	if (!rc)
		rc = ldg_targets_list(r, prefix, 0, &targets, &n);
	if (!rc)
		rc = last_drift(r, o->cluster, &s->auto_drift_seq,
				&s->auto_drifted);
	if (!rc && n) {
		s->t = calloc(n, sizeof(*s->t));
		if (!s->t)
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct target_state *t = &s->t[s->n++];
		snprintf(t->target, sizeof(t->target), "%s", targets[i]);
		rc = ldg_state_get(r, t->target, 0, &t->v);
		/* the last set or unset, also one made while helmfile ran */
		t->values_seq = t->v.values_mtime_seq;
		if (!rc)
			rc = last_apply(r, t);
		if (!rc)
			rc = last_drift(r, t->target, &t->drift_seq,
					&t->drifted);
	}
	ldg_strv_free(targets, n);
	ldg_read_end(r);
	if (rc) {
		snapshot_free(s);
		return ldg_err_set(err, rc, "cannot read the ledger: %s",
				   strerror(-rc));
	}
	return 0;
}

static struct target_state *find_target(struct snapshot *s, const char *t)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->t[i].target, t))
			return &s->t[i];
	return NULL;
}

/* May this key record outcomes for target (or the whole cluster)? The
 * one question (authorize.h), asked before helmfile runs, so a run is
 * never left unrecorded. */
static int may_record(const struct apl_opts *o, enum ldg_kind kind,
		      const char *target, struct ldg_err *err)
{
	struct ldg_write_req q = {
		.kind = kind,
		.target = target,
	};
	struct ldg_read *r;
	int rc;

	/* a dry run records nothing, and has no key */
	if (o->dry_run)
		return 0;
	q.signer = ldg_signer_vkey(o->key)->keyid;
	rc = ldg_read_begin(o->store, &r, err);
	if (!rc) {
		rc = ldg_may_append(r, &q, err);
		ldg_read_end(r);
	}
	return rc;
}

/* Can this key record applies (or drift checks: kind) at all? Asked
 * once, up front, so a wrong key is one clear refusal, worded for the
 * applier from the rule's facts; scopes are then checked per release. An
 * applier answers for a whole cluster: its scope covers it all. */
static int key_may_apply(const struct apl_opts *o, enum ldg_kind kind,
			 struct ldg_err *err)
{
	const struct ldg_vkey *vk = ldg_signer_vkey(o->key);
	int rc = may_record(o, kind, o->cluster, err);
	struct ldg_err facts;

	if (rc != -EACCES || !err)
		return rc;
	facts = *err; /* ldg_err_set() below clears err's */
	switch (facts.why) {
	case LDG_WHY_UNKNOWN_KEY:
		return ldg_err_set(err, -EACCES,
				   "key \"%s\" is not in the keyring (an admin "
				   "adds it with ledger key add ... --role "
				   "applier)",
				   vk->name);
	case LDG_WHY_REVOKED:
		return ldg_err_set(err, -EACCES,
				   "key \"%s\" was revoked at seq %llu",
				   vk->name, (unsigned long long)facts.seq);
	case LDG_WHY_ROLE:
		return ldg_err_set(err, -EACCES,
				   "key \"%s\" has role %s; ledger apply records "
				   "its runs with a key of role applier",
				   vk->name, facts.role);
	default:
		return rc;
	}
}

/* The values of t are deployed only when every rollback of it since its
 * last successful apply restores the state at its rollback-to
 * (ldg_rollback_check(), the rule verify checks): a rollback whose values
 * nobody signed is never deployed. -EPERM naming the entry. *applied:
 * that last successful apply (0: none). */
static int check_rollbacks(const struct apl_opts *o, const char *target,
			   uint64_t *applied, struct ldg_err *err)
{
	struct ldg_entry *e = NULL;
	struct ldg_read *r;
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc;

	rc = ldg_read_begin(o->store, &r, err);
	if (rc)
		return rc;
	*applied = 0;
	rc = ldg_history(r, target, 0, 0, &seqs, &n);
	if (rc)
		ldg_err_set(err, rc, "cannot read the history of %s", target);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = ldg_entry_read(r, seqs[i], &e, err);
		if (!rc && e->kind == LDG_KIND_APPLIED)
			*applied = seqs[i];
		if (rc || e->kind == LDG_KIND_APPLIED)
			break;
		rc = ldg_rollback_check(r, e, err);
		if (rc)
			ldg_err_prefix(err, "entry %llu",
				       (unsigned long long)seqs[i]);
		ldg_entry_free(e);
		e = NULL;
	}
	ldg_entry_free(e);
	free(seqs);
	ldg_read_end(r);
	return rc;
}

/* The values of target are deployed only when each entry that made one
 * of them what it is since its last successful apply (applied) took
 * effect as the policies in force before it allow (ldg_effect_check(),
 * the rule verify checks): approvals, freeze, soak. A change that a
 * compromised writer indexed as effective without them is never
 * deployed. -EPERM naming the entry. */
static int check_policy(const struct apl_opts *o, const char *target,
			uint64_t applied, struct ldg_err *err)
{
	struct ldg_read *r;
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc;

	rc = ldg_read_begin(o->store, &r, err);
	if (rc)
		return rc;
	rc = ldg_state_changes(r, target, applied, &seqs, &n);
	if (rc)
		ldg_err_set(err, rc, "cannot read the state of %s", target);
	for (size_t i = 0; i < n && !rc; i++)
		rc = ldg_effect_check(r, r, target, seqs[i], err);
	free(seqs);
	ldg_read_end(r);
	return rc;
}

/* ---- recording ---- */

/* why: metadata reason of a run refused before helmfile (NULL: none). */
static int record(const struct apl_opts *o, const char *target,
		  const struct ldg_values *v, uint64_t desired,
		  const struct apl_run_result *res, bool ok,
		  const char *selector, const char *why,
		  struct apl_summary *sum, struct ldg_err *err)
{
	struct ldg_result out = { 0 };
	struct ldg_entry *e;
	char num[32], reason[256];
	int rc = 0;

	snprintf(reason, sizeof(reason), "%s %s with helmfile (%s)",
		 ok ? "applied" : "failed to apply", target, selector);
	e = ldg_entry_new(ok ? LDG_KIND_APPLIED : LDG_KIND_APPLY_FAILED, target,
			  reason);
	if (!e)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; v && i < v->n && !rc; i++)
		rc = ldg_entry_add_value(e, v->v[i].key, v->v[i].type,
					 v->v[i].value);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)desired);
	if (!rc)
		rc = ldg_entry_add_meta(e, "desired-seq", num);
	snprintf(num, sizeof(num), "%d", res->exit_code);
	if (!rc)
		rc = ldg_entry_add_meta(e, "exit-code", num);
	snprintf(num, sizeof(num), "%llu",
		 (unsigned long long)res->duration_ms);
	if (!rc)
		rc = ldg_entry_add_meta(e, "duration-ms", num);
	if (!rc && res->timed_out)
		rc = ldg_entry_add_meta(e, "timed-out", "true");
	if (!rc && why)
		rc = ldg_entry_add_meta(e, "reason", why);
	if (!rc && !ok) {
		/* what helmfile said last: stderr, else stdout */
		const char *text = res->err_len ? res->err : res->out;
		size_t len = res->err_len ? res->err_len : res->out_len;
		char *tail = apl_output_tail(text, len, TAIL_BYTES);
		if (tail && *tail)
			rc = ldg_entry_add_meta(e, "output-tail", tail);
		free(tail);
	}
	if (rc) {
		ldg_entry_free(e);
		return ldg_err_set(err, rc, "cannot build the %s entry",
				   ok ? "applied" : "apply-failed");
	}
	rc = ldg_append(o->store, o->key, e, &out, err);
	if (!rc) {
		sum->recorded++;
		say(o, APL_INFO, "%s: recorded %s as seq %llu", target,
		    ok ? "applied" : "apply-failed",
		    (unsigned long long)out.v[0].seq);
	}
	ldg_result_free(&out);
	ldg_entry_free(e);
	return rc;
}

static void describe_failure(const struct apl_opts *o, const char *what,
			     const struct apl_run_result *res)
{
	const char *text = res->err_len ? res->err : res->out;
	size_t len = res->err_len ? res->err_len : res->out_len;
	char *tail = apl_output_tail(text, len, 300);

	if (res->timed_out)
		say(o, APL_WARN,
		    "%s: helmfile timed out after %u s and was "
		    "stopped",
		    what, o->timeout_s);
	else
		say(o, APL_WARN, "%s: helmfile failed (exit %d): %s", what,
		    res->exit_code, tail ? tail : "");
	free(tail);
}

/* ---- the private directory ---- */

#define PRIVATE_PREFIX "ledger-apply-"

/* A run's private directory for its values files. The run holds a flock
 * on it, and so do its helmfile and everything that starts (apl_run's
 * keep[]), so a directory nobody holds belongs to a run that is gone. */
struct private_dir {
	char path[PATH_MAX];
	int fd;
};

/* Removes the files of a private directory (locked, open as fd, named
 * name relative to at), then the directory. */
static int private_remove(int at, const char *name, int fd)
{
	struct dirent *de;
	int copy = dup(fd);
	DIR *d = copy < 0 ? NULL : fdopendir(copy);

	if (!d) {
		if (copy >= 0)
			close(copy);
		return -errno;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	return unlinkat(at, name, AT_REMOVEDIR) ? -errno : 0;
}

/* Removes the private directories in tmp left by runs that were killed:
 * ours (same user, not a symlink), and locked by nobody. A live run, of
 * this cluster or another, a --dry-run, or a killed run's helmfile that
 * is still being stopped holds its directory's lock: it is left alone. */
static void private_sweep(const struct apl_opts *o, const char *tmp)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir(tmp);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st, now;
		int fd;

		if (strncmp(de->d_name, PRIVATE_PREFIX, strlen(PRIVATE_PREFIX)))
			continue;
		fd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* still the directory locked: not removed and made again
		 * by someone else after we opened it */
		if (fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstatat(dirfd(d), de->d_name, &now, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    now.st_ino == st.st_ino && now.st_dev == st.st_dev &&
		    private_remove(dirfd(d), de->d_name, fd) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	if (n)
		say(o, APL_NOTICE,
		    "removed %u private director%s of killed "
		    "runs from %s",
		    n, n == 1 ? "y" : "ies", tmp);
}

static int private_make(const struct apl_opts *o, struct private_dir *p,
			struct ldg_err *err)
{
	const char *tmp = getenv("TMPDIR");
	int e = EAGAIN;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	private_sweep(o, tmp);
	/* a sweep may take a directory between mkdtemp and our flock */
	for (int tries = 0; tries < 8; tries++) {
		struct stat st;
		int rc;

		snprintf(p->path, sizeof(p->path),
			 "%s/" PRIVATE_PREFIX "XXXXXX", tmp);
		if (!mkdtemp(p->path)) { /* mkdtemp makes it 0700 */
			e = errno;
			break;
		}
		p->fd = open(p->path,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (p->fd < 0) {
			e = errno;
			if (e == ENOENT)
				continue;
			break;
		}
		do
			rc = flock(p->fd, LOCK_EX);
		while (rc && errno == EINTR);
		e = errno;
		if (!rc && fstat(p->fd, &st) == 0 && st.st_nlink > 0)
			return 0;
		close(p->fd);
		if (rc)
			break;
		e = EAGAIN;
	}
	p->fd = -1;
	return ldg_err_set(err, -e,
			   "cannot create a private temporary "
			   "directory in %s: %s",
			   tmp, strerror(e));
}

/* Every exit path of a reconcile that made p comes here. */
static void private_done(const struct apl_opts *o, struct private_dir *p)
{
	char tmp[PATH_MAX];

	if (p->fd < 0)
		return;
	private_remove(AT_FDCWD, p->path, p->fd);
	close(p->fd);
	p->fd = -1;
	/* the lock of a killed run's directory may have gone only after
	 * ours was made (its helmfile stopping): look again */
	snprintf(tmp, sizeof(tmp), "%s", p->path);
	*strrchr(tmp, '/') = '\0';
	private_sweep(o, tmp);
}

/* A helmfile run: what keeps other appliers out (the cluster's lock) and
 * what keeps sweeps out (the private directory's) is held by helmfile
 * and what it starts, as long as they run. */
static int run_helmfile(const struct apl_opts *o, char *const argv[],
			const struct private_dir *p, struct apl_run_result *res,
			struct ldg_err *err)
{
	int keep[] = { o->lock_fd, p ? p->fd : -1 };

	return apl_run(argv, o->timeout_s, keep, 2, res, err);
}

/* ---- one reconcile ---- */

/* Asked to stop (--watch and SIGTERM): finish the helmfile run under way,
 * start no other. */
static bool stopping(const struct apl_opts *o)
{
	return o->stop && *o->stop;
}

static int write_values(const char *dir, const struct target_state *t,
			char *path, size_t len, char **text, size_t *n_dropped,
			struct ldg_err *err)
{
	size_t tlen, dropped;
	FILE *f;
	int fd, rc;

	rc = rnd_values_yaml(&t->v, text, &tlen, &dropped);
	if (rc)
		return ldg_err_set(err, rc, "cannot render values of %s",
				   t->target);
	*n_dropped = dropped;
	if ((size_t)snprintf(path, len, "%s/%s.values.yaml", dir,
			     strchr(t->target, '/') + 1) >= len)
		return ldg_err_set(err, -ENAMETOOLONG, "%s: path too long",
				   dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ldg_err_set(err, -errno, "%s: %s", path,
				   strerror(errno));
	f = fdopen(fd, "w");
	if (!f || fwrite(*text, 1, tlen, f) != tlen || fclose(f)) {
		if (!f)
			close(fd);
		return ldg_err_set(err, -EIO, "%s: cannot write", path);
	}
	return 0;
}

/* A release whose values the ledger should never have held (why says
 * which entry): recorded as apply-failed, not deployed, the ledger does
 * not verify. */
static int refuse(const struct apl_opts *o, const char *target,
		  const struct snapshot *snap, const struct ldg_err *why,
		  const char *selector, const char *reason,
		  struct apl_summary *sum, struct ldg_err *err)
{
	struct apl_run_result refused = { .exit_code = -1,
					  .err = (char *)why->msg,
					  .err_len = strlen(why->msg) };

	sum->failed++;
	say(o, APL_WARN, "%s: not applied: %s (run ledger verify)", target,
	    why->msg);
	return o->dry_run ? 0
			  : record(o, target, NULL, snap->head, &refused, false,
				   selector, reason, sum, err);
}

static int apply_manual(const struct apl_opts *o, const struct private_dir *pd,
			const struct apl_release *rel, struct snapshot *snap,
			struct apl_summary *sum, struct ldg_err *err)
{
	char target[LDG_TARGET_MAX + 1], vpath[PATH_MAX], sel[80];
	struct apl_run_result res;
	struct target_state *t;
	char *text = NULL;
	size_t dropped = 0;
	bool ok;
	struct ldg_err why = { 0 };
	uint64_t applied;
	int rc;

	snprintf(target, sizeof(target), "%s/%s", o->cluster, rel->name);
	t = find_target(snap, target);
	if (t)
		t->has_release = true;
	if (!t || t->v.n == 0) {
		sum->left++;
		say(o, APL_NOTICE,
		    "%s: deployment: manual but no values in "
		    "the ledger; left alone (set some with ledger set %s "
		    "image.tag=...)",
		    target, target);
		return 0;
	}
	if (!o->force && t->last_seq && !t->last_failed &&
	    t->last_desired >= t->values_seq) {
		sum->current++;
		say(o, APL_INFO, "%s: up to date (applied at seq %llu)", target,
		    (unsigned long long)t->last_seq);
		return 0;
	}
	rc = may_record(o, LDG_KIND_APPLIED, target, &why);
	if (rc == -EACCES) {
		/* other releases may still be ours: go on with them */
		sum->failed++;
		say(o, APL_WARN, "%s: not applied: %s", target, why.msg);
		return 0;
	}
	if (rc)
		return ldg_err_set(err, rc, "%s", why.msg);
	rc = check_rollbacks(o, target, &applied, &why);
	if (rc == -EPERM)
		return refuse(o, target, snap, &why,
			      "not run: a rollback is not valid", NULL, sum,
			      err);
	if (rc)
		return ldg_err_set(err, rc, "%s", why.msg);
	rc = check_policy(o, target, applied, &why);
	if (rc == -EPERM)
		return refuse(o, target, snap, &why,
			      "not run: a change broke its policy", "policy",
			      sum, err);
	if (rc)
		return ldg_err_set(err, rc, "%s", why.msg);
	rc = write_values(pd->path, t, vpath, sizeof(vpath), &text, &dropped,
			  err);
	if (rc)
		return rc;
	if (dropped)
		say(o, APL_WARN,
		    "%s: %zu key%s both a value and the parent of "
		    "other keys (e.g. image and image.tag); Helm cannot hold "
		    "both, so only the nested keys are passed",
		    target, dropped, dropped == 1 ? " is" : "s are");
	snprintf(sel, sizeof(sel), "name=%s", rel->name);
	char *argv[] = { (char *)o->binary,
			 "-f",
			 (char *)o->helmfile,
			 "-l",
			 sel,
			 "apply",
			 "--values",
			 vpath,
			 NULL };
	if (o->dry_run) {
		say(o, APL_DRY, "%s -f %s -l %s apply --values %s", o->binary,
		    o->helmfile, sel, vpath);
		say(o, APL_DRY, "# %s (values of %s at seq %llu)\n%s", vpath,
		    target, (unsigned long long)snap->head, text);
		free(text);
		unlink(vpath);
		return 0;
	}
	free(text);
	rc = run_helmfile(o, argv, pd, &res, err);
	unlink(vpath);
	if (rc)
		return rc;
	ok = res.exit_code == 0 && !res.timed_out;
	if (ok) {
		sum->applied++;
		say(o, APL_INFO, "%s: applied (seq %llu, %.1f s)", target,
		    (unsigned long long)snap->head, res.duration_ms / 1000.0);
	} else {
		sum->failed++;
		describe_failure(o, target, &res);
	}
	rc = record(o, target, &t->v, snap->head, &res, ok, sel, NULL, sum,
		    err);
	apl_run_result_free(&res);
	return rc;
}

static int apply_auto(const struct apl_opts *o, const struct snapshot *snap,
		      size_t n_auto, struct apl_summary *sum,
		      struct ldg_err *err)
{
	struct apl_run_result res;
	char *argv[] = { (char *)o->binary,	"-f",
			 (char *)o->helmfile,	"-l",
			 "deployment=auto",	"apply",
			 "--detailed-exitcode", NULL };
	bool changed, ok;
	struct ldg_err why = { 0 };
	int rc;

	if (n_auto == 0)
		return 0;
	rc = may_record(o, LDG_KIND_APPLIED, o->cluster, &why);
	if (rc == -EACCES) {
		sum->failed++;
		say(o, APL_WARN, "auto releases not applied: %s", why.msg);
		return 0;
	}
	if (rc)
		return ldg_err_set(err, rc, "%s", why.msg);
	if (o->dry_run) {
		say(o, APL_DRY,
		    "%s -f %s -l deployment=auto apply "
		    "--detailed-exitcode",
		    o->binary, o->helmfile);
		return 0;
	}
	rc = run_helmfile(o, argv, NULL, &res, err);
	if (rc)
		return rc;
	/* --detailed-exitcode: 0 nothing changed, 2 changed, else failed */
	ok = !res.timed_out && (res.exit_code == 0 || res.exit_code == 2);
	changed = ok && res.exit_code == 2;
	if (!ok) {
		sum->failed++;
		describe_failure(o, "auto releases", &res);
	} else {
		if (changed)
			sum->applied++;
		else
			sum->current++;
		say(o, APL_INFO, "%s: %zu auto release%s %s (%.1f s)",
		    o->cluster, n_auto, n_auto == 1 ? "" : "s",
		    changed ? "applied, changes made" : "already current",
		    res.duration_ms / 1000.0);
	}
	if (!ok || changed)
		rc = record(o, o->cluster, NULL, snap->head, &res, ok,
			    "deployment=auto", NULL, sum, err);
	apl_run_result_free(&res);
	return rc;
}

/* What a reconcile and a check do first: indexes built by this version,
 * a key that may record kind, and the releases of `helmfile build`
 * (rels: caller frees with apl_releases_free(), also on failure). */
static int begin_run(const struct apl_opts *o, enum ldg_kind kind,
		     struct apl_releases *rels, struct ldg_err *err)
{
	struct apl_run_result build;
	char *argv[] = { (char *)o->binary, "-f", (char *)o->helmfile, "build",
			 NULL };
	int rc;

	if (!o->dry_run) {
		/* decide nothing on indexes another version built */
		if (ldg_store_stale(o->store)) {
			uint64_t n;
			rc = ldg_reindex(o->store, &n, err);
			if (rc)
				return rc;
			say(o, APL_NOTICE,
			    "rebuilt the indexes of %llu entries "
			    "(built by another version of ledger)",
			    (unsigned long long)n);
		}
		rc = key_may_apply(o, kind, err);
		if (rc)
			return rc;
	}
	rc = run_helmfile(o, argv, NULL, &build, err);
	if (rc)
		return rc;
	if (build.exit_code || build.timed_out) {
		char *tail = apl_output_tail(build.err, build.err_len, 300);
		rc = ldg_err_set(err, -EIO, "%s: helmfile build %s: %s",
				 o->helmfile,
				 build.timed_out ? "timed out" : "failed",
				 tail && *tail ? tail : "(no output)");
		free(tail);
		apl_run_result_free(&build);
		return rc;
	}
	rc = apl_parse_build(build.out, build.out_len, o->helmfile, rels, err);
	apl_run_result_free(&build);
	return rc;
}

/* What a reconcile and a check work on: the releases, what the ledger
 * says, and the private directory for values files. */
struct run {
	struct apl_releases rels;
	struct snapshot snap;
	struct private_dir pd;
};

static void run_close(const struct apl_opts *o, struct run *run)
{
	private_done(o, &run->pd);
	snapshot_free(&run->snap);
	apl_releases_free(&run->rels);
}

/* begin_run(), the snapshot, the private directory; run_close() undoes
 * it (done here on failure). */
static int run_open(const struct apl_opts *o, enum ldg_kind kind,
		    struct run *run, struct ldg_err *err)
{
	int rc;

	memset(run, 0, sizeof(*run));
	run->pd.fd = -1;
	rc = begin_run(o, kind, &run->rels, err);
	if (!rc)
		rc = read_snapshot(o, &run->snap, err);
	if (!rc)
		rc = private_make(o, &run->pd, err);
	if (rc)
		run_close(o, run);
	return rc;
}

/* "-l name=X" selects every release named X: each name is run once, at
 * its first release. */
static bool first_of_name(const struct apl_releases *rels, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(rels->v[j].name, rels->v[i].name))
			return false;
	return true;
}

int apl_reconcile(const struct apl_opts *o, struct apl_summary *sum,
		  struct ldg_err *err)
{
	struct run run;
	struct apl_releases *rels = &run.rels;
	size_t n_auto = 0;
	int rc;

	memset(sum, 0, sizeof(*sum));
	if (stopping(o))
		return 0;
	rc = run_open(o, LDG_KIND_APPLIED, &run, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < rels->n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(rels->v[i].name, rels->v[j].name))
				say(o, APL_WARN,
				    "release %s is in %s twice "
				    "(namespaces %s and %s): both follow "
				    "ledger target %s/%s",
				    rels->v[i].name, o->helmfile, rels->v[j].ns,
				    rels->v[i].ns, o->cluster, rels->v[i].name);
	for (size_t i = 0; i < rels->n && !rc && !stopping(o); i++) {
		const struct apl_release *rel = &rels->v[i];

		if (!first_of_name(rels, i))
			continue;
		char target[LDG_TARGET_MAX + 1];
		struct target_state *t;

		snprintf(target, sizeof(target), "%s/%s", o->cluster,
			 rel->name);
		if (rel->mode == APL_MANUAL) {
			rc = apply_manual(o, &run.pd, rel, &run.snap, sum, err);
			continue;
		}
		t = find_target(&run.snap, target);
		if (t)
			t->has_release = true;
		if (rel->mode == APL_AUTO) {
			n_auto++;
			if (t && t->v.n)
				say(o, APL_NOTICE,
				    "%s: deployment: auto, so "
				    "its values file decides; the ledger's "
				    "values are not used",
				    target);
			continue;
		}
		sum->left++;
		say(o, APL_NOTICE, "%s: %s; left alone%s", target,
		    rel->label[0] ? "deployment label is neither manual nor "
				    "auto"
				  : "no deployment label",
		    t && t->v.n ? " (the ledger has values for it: label it "
				  "deployment: manual to use them)"
				: "");
	}
	if (!rc && !stopping(o))
		rc = apply_auto(o, &run.snap, n_auto, sum, err);
	for (size_t i = 0; !rc && !stopping(o) && i < run.snap.n; i++)
		if (!run.snap.t[i].has_release && run.snap.t[i].v.n)
			say(o, APL_WARN,
			    "%s is in the ledger but %s has no "
			    "release %s",
			    run.snap.t[i].target, o->helmfile,
			    strchr(run.snap.t[i].target, '/') + 1);
	run_close(o, &run);
	return rc;
}

/* ---- drift: apl_drift_check() ---- */

void apl_check_report_free(struct apl_check_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++)
		free(rep->v[i].diff);
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

/* The tail of a diff as a drift entry keeps it (docs/format.md 4): its
 * last lines, line ends as " | ", at most DIFF_BYTES. A line end grows
 * to three bytes, so fewer bytes of output are taken until it fits. */
static char *diff_tail(const struct apl_run_result *res)
{
	const char *text = res->out_len ? res->out : res->err;
	size_t len = res->out_len ? res->out_len : res->err_len;
	size_t max = DIFF_BYTES;

	for (;;) {
		char *tail = apl_output_tail(text, len, max);
		if (!tail || strlen(tail) <= DIFF_BYTES)
			return tail;
		free(tail);
		max = max * 3 / 4;
	}
}

/* A new row of rep for target, in sync until said otherwise; NULL when
 * out of memory. */
static struct apl_check *check_row(struct apl_check_report *rep,
				   const char *target, uint64_t since)
{
	struct apl_check *grown =
		realloc(rep->v, (rep->n + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	rep->v = grown;
	memset(&grown[rep->n], 0, sizeof(*grown));
	snprintf(grown[rep->n].target, sizeof(grown->target), "%s", target);
	grown[rep->n].since = since;
	return &grown[rep->n++];
}

static int record_drift(const struct apl_opts *o, struct apl_check *c,
			const char *selector, uint64_t head,
			struct ldg_err *err)
{
	bool drifted = c->status == APL_DRIFTED;
	struct ldg_result out = { 0 };
	char reason[256], num[24];
	struct ldg_entry *e;
	int rc;

	snprintf(reason, sizeof(reason),
		 "checked %s with helmfile diff (%s): %s", c->target, selector,
		 drifted ? "drifted" : "in sync");
	e = ldg_entry_new(LDG_KIND_DRIFT, c->target, reason);
	if (!e)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	e->version = LDG_FORMAT_V2; /* the kind is version 2 only */
	rc = ldg_entry_add_change(e, "status",
				  drifted ? LDG_DRIFTED : LDG_IN_SYNC);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)head);
	if (!rc)
		rc = ldg_entry_add_meta(e, "checked-seq", num);
	if (!rc && drifted && c->diff[0])
		rc = ldg_entry_add_meta(e, "diff", c->diff);
	if (rc) {
		ldg_entry_free(e);
		return ldg_err_set(err, rc, "cannot build the drift entry");
	}
	rc = ldg_append(o->store, o->key, e, &out, err);
	if (!rc)
		c->since = c->recorded = out.v[0].seq;
	ldg_result_free(&out);
	ldg_entry_free(e);
	return rc;
}

/* Runs one diff (argv) for row c and records a change of its status
 * (was_drifted: the status of the target's newest drift entry). */
static int check_one(const struct apl_opts *o, char *const argv[],
		     const struct private_dir *pd, struct apl_check *c,
		     const char *selector, uint64_t head, bool was_drifted,
		     struct ldg_err *err)
{
	struct apl_run_result res;
	int rc = run_helmfile(o, argv, pd, &res, err);

	if (rc)
		return rc;
	c->exit_code = res.timed_out ? -1 : res.exit_code;
	if (res.timed_out || (res.exit_code != 0 && res.exit_code != 2)) {
		/* a diff that failed says nothing about drift */
		const char *text = res.err_len ? res.err : res.out;
		size_t len = res.err_len ? res.err_len : res.out_len;
		c->status = APL_CHECK_FAILED;
		c->diff = apl_output_tail(text, len, 300);
		if (res.timed_out)
			say(o, APL_WARN,
			    "%s: check failed: helmfile diff timed out after "
			    "%u s; nothing recorded",
			    c->target, o->timeout_s);
		else
			say(o, APL_WARN,
			    "%s: check failed: helmfile diff exited %d (not "
			    "drift; nothing recorded): %s",
			    c->target, res.exit_code, c->diff ? c->diff : "");
		apl_run_result_free(&res);
		return c->diff ? 0 : ldg_err_set(err, -ENOMEM, "out of memory");
	}
	c->status = res.exit_code == 2 ? APL_DRIFTED : APL_IN_SYNC;
	c->diff = c->status == APL_DRIFTED ? diff_tail(&res) : strdup("");
	apl_run_result_free(&res);
	if (!c->diff)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if ((c->status == APL_DRIFTED) != was_drifted) {
		rc = record_drift(o, c, selector, head, err);
		if (rc)
			return rc;
		say(o, APL_INFO, "%s: %s; recorded drift as seq %llu",
		    c->target,
		    c->status == APL_DRIFTED ? "drifted" : "in sync again",
		    (unsigned long long)c->recorded);
	} else if (c->since) {
		say(o, APL_INFO, "%s: %s since seq %llu", c->target,
		    c->status == APL_DRIFTED ? "drifted" : "in sync",
		    (unsigned long long)c->since);
	} else {
		say(o, APL_INFO, "%s: in sync", c->target);
	}
	return 0;
}

/* A row for a target this key may not record: the check failed. */
static int check_refused(const struct apl_opts *o, struct apl_check *c,
			 const struct ldg_err *why)
{
	c->status = APL_CHECK_FAILED;
	c->exit_code = -1;
	c->diff = strdup(why->msg);
	say(o, APL_WARN, "%s: not checked: %s", c->target, why->msg);
	return 0;
}

static int check_manual(const struct apl_opts *o, const struct private_dir *pd,
			const struct apl_release *rel, struct snapshot *snap,
			struct apl_check_report *rep, struct ldg_err *err)
{
	char target[LDG_TARGET_MAX + 1], vpath[PATH_MAX], sel[80];
	struct ldg_err why = { 0 };
	struct target_state *t;
	struct apl_check *c;
	char *text = NULL;
	size_t dropped;
	int rc;

	snprintf(target, sizeof(target), "%s/%s", o->cluster, rel->name);
	t = find_target(snap, target);
	if (!t || t->v.n == 0) {
		rep->left++;
		say(o, APL_NOTICE,
		    "%s: deployment: manual but no values in the ledger; not "
		    "checked",
		    target);
		return 0;
	}
	c = check_row(rep, target, t->drift_seq);
	if (!c)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = may_record(o, LDG_KIND_DRIFT, target, &why);
	if (rc == -EACCES)
		return check_refused(o, c, &why);
	if (rc)
		return ldg_err_set(err, rc, "%s", why.msg);
	rc = write_values(pd->path, t, vpath, sizeof(vpath), &text, &dropped,
			  err);
	free(text);
	if (rc)
		return rc;
	snprintf(sel, sizeof(sel), "name=%s", rel->name);
	char *argv[] = { (char *)o->binary,
			 "-f",
			 (char *)o->helmfile,
			 "-l",
			 sel,
			 "diff",
			 "--values",
			 vpath,
			 "--detailed-exitcode",
			 NULL };
	rc = check_one(o, argv, pd, c, sel, snap->head, t->drifted, err);
	unlink(vpath);
	return rc;
}

static int check_auto(const struct apl_opts *o, const struct snapshot *snap,
		      struct apl_check_report *rep, struct ldg_err *err)
{
	char *argv[] = {
		(char *)o->binary, "-f",   (char *)o->helmfile,	  "-l",
		"deployment=auto", "diff", "--detailed-exitcode", NULL
	};
	struct ldg_err why = { 0 };
	struct apl_check *c;
	int rc;

	c = check_row(rep, o->cluster, snap->auto_drift_seq);
	if (!c)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = may_record(o, LDG_KIND_DRIFT, o->cluster, &why);
	if (rc == -EACCES)
		return check_refused(o, c, &why);
	if (rc)
		return ldg_err_set(err, rc, "%s", why.msg);
	return check_one(o, argv, NULL, c, "deployment=auto", snap->head,
			 snap->auto_drifted, err);
}

int apl_drift_check(const struct apl_opts *o, struct apl_check_report *rep,
		    struct ldg_err *err)
{
	struct run run;
	size_t n_auto = 0;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (stopping(o))
		return 0;
	rc = run_open(o, LDG_KIND_DRIFT, &run, err);
	if (rc)
		return rc;
	rep->head = run.snap.head;
	for (size_t i = 0; i < run.rels.n && !rc && !stopping(o); i++) {
		const struct apl_release *rel = &run.rels.v[i];

		if (!first_of_name(&run.rels, i))
			continue;
		if (rel->mode == APL_AUTO)
			n_auto++;
		else if (rel->mode == APL_MANUAL)
			rc = check_manual(o, &run.pd, rel, &run.snap, rep, err);
	}
	if (!rc && n_auto && !stopping(o))
		rc = check_auto(o, &run.snap, rep, err);
	run_close(o, &run);
	return rc;
}

/* ---- watching ---- */

/* The newest entry about this cluster: other clusters' changes do not
 * wake this applier. */
static uint64_t cluster_head(struct ldg_store *s, const char *cluster)
{
	struct ldg_read *r;
	uint64_t *seqs = NULL, head = 0;
	size_t n = 0;

	if (ldg_read_begin(s, &r, NULL) == 0) {
		if (ldg_history(r, cluster, 0, 1, &seqs, &n) == 0 && n)
			head = seqs[0];
		free(seqs);
		ldg_read_end(r);
	}
	return head;
}

/* After a reconcile of --watch --check-every: the check, reported
 * through say() as it goes (the cluster's summary last). */
static void watch_check(const struct apl_opts *o)
{
	struct apl_check_report rep;
	struct ldg_err e = { 0 };
	unsigned n[3] = { 0 };

	if (apl_drift_check(o, &rep, &e)) {
		say(o, APL_WARN, "drift check failed: %s", e.msg);
	} else {
		for (size_t i = 0; i < rep.n; i++)
			n[rep.v[i].status]++;
		say(o, APL_INFO,
		    "%s: checked: %u in sync, %u drifted, %u check%s failed",
		    o->cluster, n[APL_IN_SYNC], n[APL_DRIFTED],
		    n[APL_CHECK_FAILED], n[APL_CHECK_FAILED] == 1 ? "" : "s");
	}
	apl_check_report_free(&rep);
}

int apl_watch(const struct apl_opts *o, unsigned interval_s,
	      unsigned check_every, struct ldg_err *err)
{
	volatile sig_atomic_t *stop = o->stop;
	unsigned backoff = 0, reconciles = 0;

	while (!*stop) {
		struct apl_summary sum;
		struct ldg_err e = { 0 };
		unsigned wait_s;
		uint64_t baseline;
		bool failed;
		int rc = apl_reconcile(o, &sum, &e);

		if (rc)
			say(o, APL_WARN, "reconcile failed: %s", e.msg);
		reconciles++;
		if (check_every && reconciles % check_every == 0 && !*stop)
			watch_check(o);
		failed = rc || sum.failed;
		if (failed) {
			backoff = backoff ? backoff * 2 : BACKOFF_FIRST;
			if (backoff > BACKOFF_MAX)
				backoff = BACKOFF_MAX;
			wait_s = backoff;
			say(o, APL_NOTICE, "retrying in %u s", wait_s);
		} else {
			backoff = 0;
			wait_s = interval_s;
		}
		/* our own applied entries move the head too: start here */
		baseline = cluster_head(o->store, o->cluster);
		for (unsigned s = 0; s < wait_s && !*stop; s++) {
			struct timespec one = { 1, 0 };
			nanosleep(&one, NULL); /* a signal ends it early */
			if (cluster_head(o->store, o->cluster) != baseline) {
				say(o, APL_INFO,
				    "the ledger moved; "
				    "reconciling");
				break;
			}
		}
	}
	return 0;
}
