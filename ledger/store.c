#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "merkle.h"
#include "tlog.h"
#include "names.h"
#include "store_impl.h"
#include "util.h"

#define MAP_START (8u << 20)
#define MAP_READER ((size_t)1 << 40) /* readers never need to follow growth */
/* where the address space is capped (ulimit -v; valgrind allows 32 GiB) */
#define MAP_READER_CAPPED ((size_t)16 << 30)
#define KEYBUF (LDG_TARGET_MAX + 1 + LDG_KEY_MAX + 1 + 8 + 8)

const char *const ldg_db_names[DB_COUNT] = {
	[DB_ENTRIES] = "entries",   [DB_META] = "meta",
	[DB_STATE] = "state",	    [DB_TARGETS] = "targets",
	[DB_VERSIONS] = "versions", [DB_HISTORY] = "history",
	[DB_MERKLE] = "merkle",	    [DB_KEYS] = "keys",
	[DB_KEYIDS] = "keyids",	    [DB_GOV] = "gov",
	[DB_PROPS] = "props",
};

int ldg_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
		return -EFBIG;
	case MDB_MAP_RESIZED:
		return -EAGAIN;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
	case MDB_DBS_FULL:
		return -ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PANIC:
		return -EIO;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

int ldg_store_dir_default(const char *dir, char *out, size_t outlen)
{
	const char *env = getenv("LEDGER_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (dir && *dir)
		n = snprintf(out, outlen, "%s", dir);
	else if (env && *env)
		n = snprintf(out, outlen, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(out, outlen, "%s/ledger", xdg);
	else if (home && *home)
		n = snprintf(out, outlen, "%s/.local/share/ledger", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int txn_begin(struct ldg_store *s, unsigned flags, MDB_txn **txn);

static int load_origin(struct ldg_store *s, MDB_txn *txn)
{
	MDB_val k = { 6, "origin" }, v;
	MDB_val vk = { 13, "index-version" }, vv;
	int rc = mdb_get(txn, s->dbi[DB_META], &k, &v);

	if (rc == MDB_NOTFOUND) {
		s->origin[0] = '\0';
		return 0;
	}
	if (rc == 0) {
		rc = mdb_get(txn, s->dbi[DB_META], &vk, &vv);
		s->stale = rc != 0 || vv.mv_size != strlen(LDG_INDEX_VERSION) ||
			   memcmp(vv.mv_data, LDG_INDEX_VERSION, vv.mv_size);
		rc = 0;
	}
	if (rc)
		return ldg_mdb_err(rc);
	if (v.mv_size > LDG_ORIGIN_MAX)
		return -EIO;
	memcpy(s->origin, v.mv_data, v.mv_size);
	s->origin[v.mv_size] = '\0';
	return 0;
}

/* Room for LMDB's lock file, reserved before LMDB maps it.
 *
 * LMDB sizes lock.mdb with ftruncate(), which allocates nothing, maps it
 * shared and writes its header and reader slots through the map. On a
 * full file system (tmpfs above all, which allocates a page on the first
 * store to it) that store cannot be backed and the kernel kills the
 * process with SIGBUS, in the middle of mdb_env_open(): no message, and
 * the directory, a half-made lock.mdb and verify's scratch left behind.
 * Catching SIGBUS instead would mean a process-wide handler jumping out
 * of LMDB while it holds its locks and maps, in a library that runs
 * inside threaded servers; so the blocks are allocated here first, where
 * a full disk is an ordinary ENOSPC. FALLOC_FL_KEEP_SIZE allocates
 * without changing the file's size, so LMDB still sizes the file itself
 * (a larger file would change its count of reader slots). LMDB 0.9's lock
 * file for 256 readers is 16512 bytes: LOCK_RESERVE is the five pages
 * that hold it, no more, so that a nearly full disk does not refuse an
 * open that fits. A lock file that has all its blocks costs one fstat();
 * a file system without fallocate() (EOPNOTSUPP) gets nothing reserved,
 * as before. */
#define LOCK_RESERVE (20u << 10)

static int lock_reserve(const char *dir)
{
	char path[PATH_MAX + 16];
	struct stat st;
	off_t len;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return 0; /* read-only, or another problem: LMDB says which */
	if (fstat(fd, &st) == 0 &&
	    (st.st_size == 0 || (off_t)st.st_blocks * 512 < st.st_size)) {
		len = st.st_size > LOCK_RESERVE ? st.st_size : LOCK_RESERVE;
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) &&
		    (errno == ENOSPC || errno == EDQUOT))
			rc = -ENOSPC;
	}
	close(fd);
	return rc;
}

/* An environment on dir as every opener here makes it (mapsize 0: the
 * one recorded in data.mdb). An MDB_* code or errno, or -ENOSPC when the
 * lock file finds no room (lock_reserve()). */
static int env_open(const char *dir, unsigned envflags, size_t mapsize,
		    MDB_env **out)
{
	MDB_env *env;
	int rc = mdb_env_create(&env);

	if (rc)
		return rc;
	mdb_env_set_maxdbs(env, DB_COUNT + 2);
	mdb_env_set_maxreaders(env, 256);
	if (mapsize)
		mdb_env_set_mapsize(env, mapsize);
	if (!(envflags & MDB_NOLOCK))
		rc = lock_reserve(dir);
	if (rc == 0)
		rc = mdb_env_open(env, dir, envflags, 0644);
	if (rc) {
		mdb_env_close(env);
		return rc;
	}
	*out = env;
	return 0;
}

bool ldg_db_absent(const struct ldg_read *r, enum ldg_db db)
{
	return r->absent & (1u << db);
}

int ldg_store_add_absent(struct ldg_read *w)
{
	for (int i = DB_FIRST_ADDED; i < DB_COUNT; i++) {
		int rc;
		if (!(w->absent & (1u << i)))
			continue;
		rc = mdb_dbi_open(w->txn, ldg_db_names[i], MDB_CREATE,
				  &w->s->dbi[i]);
		if (rc)
			return ldg_mdb_err(rc);
		w->absent &= ~(1u << i);
	}
	return 0;
}

void ldg_store_adopt(struct ldg_read *w)
{
	__atomic_store_n(&w->s->absent, w->absent, __ATOMIC_RELEASE);
}

/* A reader's store that lacks a database a writer (of this or another
 * process) has added since: open the handle in a transaction of its own
 * and commit it, so that transactions begun after see it (LMDB: a
 * handle opened in a transaction is the environment's once it
 * commits, and only one mdb_dbi_open() may run at a time). */
static void adopt_added(struct ldg_store *s)
{
	MDB_dbi dbi[DB_COUNT];
	MDB_txn *txn;
	unsigned absent;

	pthread_mutex_lock(&s->adopt_mu);
	absent = __atomic_load_n(&s->absent, __ATOMIC_ACQUIRE);
	if (!absent || txn_begin(s, MDB_RDONLY, &txn))
		goto out;
	for (int i = DB_FIRST_ADDED; i < DB_COUNT; i++)
		if ((absent & (1u << i)) &&
		    mdb_dbi_open(txn, ldg_db_names[i], 0, &dbi[i])) {
			mdb_txn_abort(txn); /* not added yet */
			goto out;
		}
	if (mdb_txn_commit(txn) == 0) {
		for (int i = DB_FIRST_ADDED; i < DB_COUNT; i++)
			if (absent & (1u << i))
				s->dbi[i] = dbi[i];
		__atomic_store_n(&s->absent, 0, __ATOMIC_RELEASE);
	}
out:
	pthread_mutex_unlock(&s->adopt_mu);
}

int ldg_store_open_ex(const char *dir, unsigned flags, unsigned mdb_flags,
		      size_t mapsize, struct ldg_store **out,
		      struct ldg_err *err)
{
	struct ldg_store *s;
	char data[PATH_MAX + 16];
	struct stat st;
	MDB_txn *txn = NULL;
	unsigned envflags = mdb_flags;
	int rc;

	if (flags & LDG_OPEN_CREATE) {
		rc = ldg_mkdir_p(dir, 0755);
		if (rc)
			return ldg_err_set(err, rc, "cannot create %s: %s", dir,
					   strerror(-rc));
	}
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (!(flags & LDG_OPEN_CREATE) && stat(data, &st))
		return ldg_err_refuse(err, -ENOENT, LDG_WHY_NO_LEDGER, 0, NULL,
				      "no ledger at %s", dir);
	s = calloc(1, sizeof(*s));
	if (!s)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&s->adopt_mu, NULL);
	s->flags = flags;
	/* absolute, for ldg_store_settle()'s helper after a chdir() */
	if (!realpath(dir, s->dir))
		snprintf(s->dir, sizeof(s->dir), "%s", dir);
	if (flags & LDG_OPEN_RDONLY) {
		envflags |= MDB_RDONLY | MDB_NOTLS;
		mapsize = MAP_READER;
	}
	s->envflags = envflags;
	rc = env_open(dir, envflags, mapsize ? mapsize : MAP_START, &s->env);
	/* a capped address space refuses the reader's map (mmap: ENOMEM,
	 * or EINVAL under valgrind): a smaller one still holds any ledger
	 * of a sane size without following growth */
	if ((rc == ENOMEM || rc == EINVAL) && mapsize == MAP_READER)
		rc = env_open(dir, envflags, MAP_READER_CAPPED, &s->env);
	if (rc == -ENOSPC) {
		ldg_store_close(s);
		return ldg_err_set(err, rc,
				   "cannot open ledger %s: no space "
				   "left on device for its lock file",
				   dir);
	}
	if (rc)
		goto out_close;
	/* Free the reader slots of processes that died without closing
	 * (kill -9): while another process (a mount) keeps the lock file
	 * alive, LMDB never reclaims them, and 256 make every open fail. */
	(void)mdb_reader_check(s->env, NULL);
	/* a CREATE open settles in its write transaction below */
	if (!(flags & LDG_OPEN_CREATE))
		(void)ldg_store_settle(s, NULL);
	rc = txn_begin(s, (flags & LDG_OPEN_CREATE) ? 0 : MDB_RDONLY, &txn);
	if (rc)
		goto out_close;
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, ldg_db_names[i],
				  (flags & LDG_OPEN_CREATE) ? MDB_CREATE : 0,
				  &s->dbi[i]);
		if (rc == MDB_NOTFOUND && i >= DB_FIRST_ADDED) {
			/* a ledger from before this database: added below */
			s->absent |= 1u << i;
			continue;
		}
		if (rc == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			ldg_store_close(s);
			return ldg_err_set(err, -ENOENT,
					   "%s is not a ledger (database "
					   "\"%s\" missing)",
					   dir, ldg_db_names[i]);
		}
		if (rc)
			goto out_abort;
	}
	rc = load_origin(s, txn);
	if (rc) {
		mdb_txn_abort(txn);
		ldg_store_close(s);
		return ldg_err_set(err, rc, "%s: cannot read origin", dir);
	}
	if (s->stale && (flags & LDG_OPEN_RDONLY) &&
	    !(flags & LDG_OPEN_ANY_INDEX)) {
		mdb_txn_abort(txn);
		ldg_store_close(s);
		return ldg_err_set(err, -ESTALE,
				   "the indexes of %s were built by another "
				   "version of ledger; run ledger reindex",
				   dir);
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		goto out_close;
	*out = s;
	return 0;
out_abort:
	mdb_txn_abort(txn);
out_close:
	ldg_store_close(s);
	/* -EACCES means "signer not authorised" in this library; a ledger
	 * we may not open is an environment problem */
	return ldg_err_set(err, rc == EACCES ? -EIO : ldg_mdb_err(rc),
			   "cannot open ledger %s: %s", dir, mdb_strerror(rc));
}

void ldg_store_unmake(const char *dir, bool made_dir, bool made_lock,
		      bool made_data)
{
	struct flock lk = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_len = 1 };
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	/* LMDB holds a shared lock on byte 0 of lock.mdb while an
	 * environment is open: another process that opened this directory
	 * meanwhile keeps its files */
	if (fd >= 0 && fcntl(fd, F_SETLK, &lk)) {
		close(fd);
		return;
	}
	if (made_data) {
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		unlink(path);
	}
	if (made_lock) {
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
	}
	if (fd >= 0)
		close(fd);
	if (made_dir)
		rmdir(dir);
}

int ldg_store_open(const char *dir, unsigned flags, struct ldg_store **out,
		   struct ldg_err *err)
{
	return ldg_store_open_ex(dir, flags, 0, 0, out, err);
}

void ldg_store_close(struct ldg_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	ldg_authz_free(&s->az);
	pthread_mutex_destroy(&s->adopt_mu);
	free(s);
}

bool ldg_store_stale(const struct ldg_store *s)
{
	return s->stale;
}

const char *ldg_store_origin(const struct ldg_store *s)
{
	return s->origin;
}

int ldg_store_grow(struct ldg_store *s, struct ldg_err *err)
{
	MDB_envinfo info;
	int rc;

	mdb_env_info(s->env, &info);
	rc = mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
	if (rc)
		return ldg_err_set(err, ldg_mdb_err(rc),
				   "cannot grow the ledger map: %s",
				   mdb_strerror(rc));
	return 0;
}

int ldg_store_reserve(struct ldg_store *s, size_t bytes, struct ldg_err *err)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if (!s->env)
		return ldg_err_set(err, -EIO, "the ledger is not open");
	mdb_env_stat(s->env, &st);
	for (;;) {
		size_t used;
		mdb_env_info(s->env, &info);
		used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
		if (info.me_mapsize >= used && info.me_mapsize - used >= bytes)
			return 0;
		rc = ldg_store_grow(s, err);
		if (rc)
			return rc;
	}
}

static int env_txn_begin(MDB_env *env, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(env, NULL, flags, txn);

	/* Another process grew the map; adopt its size, as often as others
	 * keep growing it. Safe here because the CLI holds no other
	 * transaction; long-lived readers open with LDG_OPEN_RDONLY and a
	 * map that never needs to follow. */
	for (int i = 0; rc == MDB_MAP_RESIZED && i < 1000; i++) {
		mdb_env_set_mapsize(env, 0);
		rc = mdb_txn_begin(env, NULL, flags, txn);
	}
	return rc;
}

static int txn_begin(struct ldg_store *s, unsigned flags, MDB_txn **txn)
{
	/* no environment: store_reopen() failed, the next write tries again */
	if (!s->env)
		return MDB_PANIC;
	return env_txn_begin(s->env, flags, txn);
}

/* After a commit whose meta page could not be written (EIO, ENOSPC),
 * LMDB marks the environment unusable: every later transaction is
 * MDB_PANIC. The files are intact (LMDB wrote the old meta page back, and
 * the failed commit was never published), only this handle is not. A
 * process that lives on, the server's writer, apply --watch, mirror
 * --follow, would refuse every write until restarted; reopening the
 * environment is what a restart does. The old one is closed first: a
 * second environment on the same files in one process loses its fcntl
 * locks when either closes (lmdb.h, "Caveats"). No transaction of this
 * process may be open, as for ldg_store_grow(). */
static int store_reopen(struct ldg_store *s)
{
	size_t mapsize = 0;
	MDB_envinfo info;
	MDB_txn *txn = NULL;
	int rc;

	if (s->env) {
		if (mdb_env_info(s->env, &info) == 0)
			mapsize = info.me_mapsize;
		mdb_env_close(s->env);
		s->env = NULL;
	}
	rc = env_open(s->dir, s->envflags, mapsize, &s->env);
	if (rc)
		return rc < 0 ? rc : ldg_mdb_err(rc);
	rc = txn_begin(s, MDB_RDONLY, &txn);
	for (int i = 0; rc == 0 && i < DB_COUNT; i++)
		if (!(s->absent & (1u << i)))
			rc = mdb_dbi_open(txn, ldg_db_names[i], 0, &s->dbi[i]);
	if (rc == 0)
		return ldg_mdb_err(mdb_txn_commit(txn));
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(s->env);
	s->env = NULL;
	return ldg_mdb_err(rc);
}

/* ---- commits whose writer died at the last instant ----
 *
 * LMDB publishes a commit in two steps: the meta page in data.mdb (a
 * synchronous write, so it takes a while), then the txnid in lock.mdb,
 * which is what every reader's snapshot starts from. A writer killed
 * between the two leaves its commit durable but unseen by the processes
 * that share the lock file, until the next writer takes LMDB's robust
 * write mutex, finds its owner dead and publishes the newest meta page.
 * (With no process holding the lock file, the next opener rebuilds it
 * from data.mdb and sees the commit at once.) So while a mount or a server
 * keeps the lock file alive, `ledger verify` could report N entries and a
 * later one N+1 with nobody writing. ldg_store_settle() closes that gap
 * from the reading side. */

/* The newest txnid in data.mdb when it is newer than a read snapshot
 * sees (the lag), else 0. */
static size_t store_lag(struct ldg_store *s)
{
	MDB_envinfo info;
	MDB_txn *txn;
	size_t seen;

	/* the meta pages first: a commit that completes in between makes
	 * the snapshot newer, never a false alarm */
	if (mdb_env_info(s->env, &info) || txn_begin(s, MDB_RDONLY, &txn))
		return 0;
	seen = mdb_txn_id(txn);
	mdb_txn_abort(txn);
	return info.me_last_txnid > seen ? info.me_last_txnid : 0;
}

/* Takes and drops the write mutex of env: a dead owner's commit is
 * published; a live writer's completes first. */
static int touch_write_mutex(MDB_env *env)
{
	MDB_txn *txn;
	int rc = env_txn_begin(env, 0, &txn);

	if (rc == 0)
		mdb_txn_abort(txn);
	return rc;
}

int ldg_store_settle_dir(const char *dir)
{
	MDB_env *env;
	int rc = env_open(dir, MDB_NOTLS, 0, &env);

	if (rc == 0) {
		rc = touch_write_mutex(env);
		mdb_env_close(env);
	}
	return rc < 0 ? rc : ldg_mdb_err(rc);
}

/* The same for a read-only store, in another process: a second
 * environment on the same files in this process would drop this one's
 * fcntl lock when it closes (lmdb.h, "Caveats").
 *
 * That process is ledger-settle, started with posix_spawn(), never a
 * fork() that goes on running LMDB: the callers are threaded (the
 * mount's head watcher beside FUSE's workers, the server's pollers
 * beside libmicrohttpd's threads), and after fork() in a threaded
 * process the child may call only async-signal-safe functions until it
 * execs. LMDB's open calls malloc(), and takes locks that another thread
 * may have held at the instant of the fork: the child could deadlock or
 * find the heap torn. posix_spawn() execs at once (glibc: a vfork-like
 * clone, nothing run in between but the exec), so the helper starts as
 * a fresh single-threaded process. */
static int touch_write_mutex_in_helper(const char *dir)
{
	char path[PATH_MAX];
	char *argv[] = { "ledger-settle", (char *)dir, NULL };
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	pid_t pid;
	int rc, status;

	rc = ldg_helper_path("ledger-settle", "LEDGER_SETTLE", path,
			     sizeof(path));
	if (rc)
		return rc;
	/* the callers' threads block signals (and may catch SIGALRM):
	 * none of that is the helper's business */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGALRM);
	rc = posix_spawnattr_init(&attr);
	if (rc)
		return -rc;
	rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
						     POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &dfl);
	if (rc == 0)
		rc = posix_spawn(&pid, path, NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (rc)
		return -rc;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		return -ETIMEDOUT;
	if (!WIFEXITED(status))
		return -EIO;
	return WEXITSTATUS(status) == LDG_SETTLE_DONE	    ? 0
	       : WEXITSTATUS(status) == LDG_SETTLE_NO_WRITE ? -EACCES
							    : -EIO;
}

int ldg_store_settle(struct ldg_store *s, bool *published)
{
	size_t lag = store_lag(s);
	int rc;

	if (published)
		*published = false;
	if (!lag || lag == s->settle_failed)
		return 0;
	if (s->flags & LDG_OPEN_RDONLY)
		rc = touch_write_mutex_in_helper(s->dir);
	else
		rc = ldg_mdb_err(touch_write_mutex(s->env));
	if (rc) {
		s->settle_failed = lag;
		return rc;
	}
	if (published)
		*published = true;
	return 0;
}

int ldg_read_begin(struct ldg_store *s, struct ldg_read **out,
		   struct ldg_err *err)
{
	struct ldg_read *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	r->s = s;
	if (__atomic_load_n(&s->absent, __ATOMIC_ACQUIRE))
		adopt_added(s);
	/* before the transaction: a handle adopted after it began is not
	 * its to use */
	r->absent = __atomic_load_n(&s->absent, __ATOMIC_ACQUIRE);
	rc = txn_begin(s, MDB_RDONLY, &r->txn);
	if (rc) {
		free(r);
		return ldg_err_set(err, ldg_mdb_err(rc),
				   "cannot read ledger: %s", mdb_strerror(rc));
	}
	*out = r;
	return 0;
}

void ldg_read_end(struct ldg_read *r)
{
	if (!r)
		return;
	mdb_txn_abort(r->txn);
	free(r);
}

int ldg_write_begin(struct ldg_store *s, struct ldg_read *w,
		    struct ldg_err *err)
{
	int rc;

	if (s->flags & LDG_OPEN_RDONLY)
		return ldg_err_set(err, -EROFS, "ledger opened read-only");
	/* every field: a caller's w may be uninitialised stack memory */
	*w = (struct ldg_read){ .s = s, .absent = s->absent };
	rc = txn_begin(s, 0, &w->txn);
	if (rc == MDB_PANIC) {
		/* a failed commit left the environment fatal (LMDB) */
		rc = store_reopen(s);
		if (rc)
			return ldg_err_set(err, rc,
					   "cannot write ledger: "
					   "cannot reopen it after a failed "
					   "commit: %s",
					   strerror(-rc));
		rc = txn_begin(s, 0, &w->txn);
	}
	if (rc)
		return ldg_err_set(err, ldg_mdb_err(rc),
				   "cannot write ledger: %s", mdb_strerror(rc));
	return 0;
}

/* ---- reads ---- */

/* Merkle nodes are keyed by the leaf that completes them, then their
 * level: seq-ordered, so every append of the tree is an append to the
 * B-tree (full pages). Level 0 is not stored: a leaf is the hash of its
 * entry's bytes, which are at hand. */
static void merkle_key(uint8_t kb[9], unsigned level, uint64_t index)
{
	ldg_put_be64(kb, ((index + 1) << level) - 1);
	kb[8] = (uint8_t)level;
}

static int merkle_get(struct ldg_read *r, unsigned level, uint64_t index,
		      uint8_t out[LDG_HASH_BYTES])
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	if (level == 0) {
		const uint8_t *buf;
		size_t len;
		rc = ldg_entry_raw(r, index + 1, &buf, &len);
		if (rc)
			return rc;
		ldg_entry_hash(buf, len, out);
		return 0;
	}
	merkle_key(kb, level, index);
	rc = mdb_get(r->txn, r->s->dbi[DB_MERKLE], &k, &v);
	if (rc)
		return ldg_mdb_err(rc);
	if (v.mv_size != LDG_HASH_BYTES)
		return -EIO;
	memcpy(out, v.mv_data, LDG_HASH_BYTES);
	return 0;
}

static int merkle_put(struct ldg_read *w, unsigned level, uint64_t index,
		      const uint8_t hash[LDG_HASH_BYTES])
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v = { LDG_HASH_BYTES, (void *)hash };

	merkle_key(kb, level, index);
	return ldg_mdb_err(
		mdb_put(w->txn, w->s->dbi[DB_MERKLE], &k, &v, MDB_APPEND));
}

int ldg_entry_hash_at(struct ldg_read *r, uint64_t seq,
		      uint8_t hash[LDG_HASH_BYTES])
{
	return merkle_get(r, 0, seq - 1, hash);
}

int ldg_store_node(void *r, unsigned height, uint64_t index,
		   uint8_t out[LDG_HASH_BYTES])
{
	/* the key (index + 1) * 2^height - 1 must not wrap */
	if (height > 63 || index > (UINT64_MAX >> height) - 1)
		return -ENOENT;
	return merkle_get(r, height, index, out);
}

int ldg_merkle_root_at(struct ldg_read *r, uint64_t size,
		       uint8_t root[LDG_HASH_BYTES])
{
	return ldg_tlog_root(ldg_store_node, r, size, root);
}

int ldg_merkle_check_tail(struct ldg_read *r, uint64_t size, uint64_t *bad)
{
	uint8_t node[LDG_HASH_BYTES], left[LDG_HASH_BYTES];
	uint8_t right[LDG_HASH_BYTES], want[LDG_HASH_BYTES];
	uint64_t offset = 0;
	int rc;

	/* each perfect subtree the root is made of, largest first: its
	 * right edge, from its top down to the leaf hashed from the
	 * stored entry bytes */
	for (int level = 63; level >= 1; level--) {
		uint64_t last;
		if (!(size >> level & 1))
			continue;
		last = offset + ((uint64_t)1 << level) - 1;
		for (int l = level; l >= 1; l--) {
			uint64_t j = last >> l;
			rc = merkle_get(r, (unsigned)l, j, node);
			if (!rc)
				rc = merkle_get(r, (unsigned)l - 1, 2 * j,
						left);
			if (!rc)
				rc = merkle_get(r, (unsigned)l - 1, 2 * j + 1,
						right);
			if (rc)
				return rc;
			ldg_merkle_node(left, right, want);
			if (memcmp(node, want, LDG_HASH_BYTES)) {
				*bad = last + 1;
				return -EBADMSG;
			}
		}
		offset += (uint64_t)1 << level;
	}
	return 0;
}

int ldg_head(struct ldg_read *r, uint64_t *seq, uint8_t hash[LDG_HASH_BYTES])
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_ENTRIES], &c);
	if (rc)
		return ldg_mdb_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*seq = 0;
		if (hash)
			memset(hash, 0, LDG_HASH_BYTES);
		return 0;
	}
	if (rc)
		return ldg_mdb_err(rc);
	if (k.mv_size != 8)
		return -EIO;
	*seq = ldg_get_be64(k.mv_data);
	if (hash)
		return ldg_entry_hash_at(r, *seq, hash);
	return 0;
}

int ldg_entry_raw(struct ldg_read *r, uint64_t seq, const uint8_t **buf,
		  size_t *len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	ldg_put_be64(kb, seq);
	rc = mdb_get(r->txn, r->s->dbi[DB_ENTRIES], &k, &v);
	if (rc)
		return ldg_mdb_err(rc);
	*buf = v.mv_data;
	*len = v.mv_size;
	return 0;
}

/* Entry seq's bytes are leaf seq - 1 of the tree r->proven_root is the
 * root of (struct ldg_read): 0 or -EBADMSG. */
static int entry_proven(struct ldg_read *r, uint64_t seq, const uint8_t *buf,
			size_t len)
{
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES], leaf[LDG_HASH_BYTES];
	size_t n = 0;

	ldg_entry_hash(buf, len, leaf);
	if (ldg_proof_inclusion(ldg_store_node, r, seq - 1, r->proven, proof,
				&n) ||
	    ldg_proof_inclusion_check(seq - 1, r->proven, leaf, proof[0], n,
				      r->proven_root)) {
		if (!r->unproven || seq < r->unproven)
			r->unproven = seq;
		return -EBADMSG;
	}
	return 0;
}

int ldg_entry_read(struct ldg_read *r, uint64_t seq, struct ldg_entry **out,
		   struct ldg_err *err)
{
	const uint8_t *buf;
	size_t len;
	int rc = ldg_entry_raw(r, seq, &buf, &len);

	if (rc == -ENOENT)
		return ldg_err_set(err, rc, "no entry %llu",
				   (unsigned long long)seq);
	if (rc)
		return ldg_err_set(err, rc, "cannot read entry %llu",
				   (unsigned long long)seq);
	if (seq >= 1 && seq <= r->proven && entry_proven(r, seq, buf, len))
		return ldg_err_set(err, -EBADMSG,
				   "entry %llu is not the one the trusted "
				   "checkpoint's tree holds (run ledger verify)",
				   (unsigned long long)seq);
	rc = ldg_entry_decode(buf, len, out, err);
	if (rc)
		ldg_err_prefix(err, "entry %llu is corrupt (run ledger verify)",
			       (unsigned long long)seq);
	return rc;
}

/* key = a 0x00 b [0x00 seq8]; returns the length. */
static size_t make_key(uint8_t *buf, const char *a, const char *b,
		       const uint64_t *seq)
{
	size_t la = strlen(a), n = la;

	memcpy(buf, a, la);
	if (b) {
		size_t lb = strlen(b);
		buf[n++] = 0;
		memcpy(buf + n, b, lb);
		n += lb;
	}
	if (seq) {
		buf[n++] = 0;
		ldg_put_be64(buf + n, *seq);
		n += 8;
	}
	return n;
}

/* The tag byte of a value in state and versions (docs/format.md 11). */
#define VAL_UNSET 0
#define VAL_STR 1
#define VAL_JSON 2

static int values_push(struct ldg_values *out, const char *key, size_t klen,
		       uint8_t tag, const void *val, size_t vlen, uint64_t seq)
{
	struct ldg_value *grown =
		realloc(out->v, (out->n + 1) * sizeof(*grown));
	struct ldg_value *nv;

	if (!grown)
		return -ENOMEM;
	out->v = grown;
	nv = &grown[out->n];
	nv->key = strndup(key, klen);
	nv->value = strndup(val, vlen);
	nv->seq = seq;
	nv->type = tag == VAL_JSON ? LDG_V_JSON : LDG_V_STR;
	if (!nv->key || !nv->value) {
		free(nv->key);
		free(nv->value);
		return -ENOMEM;
	}
	out->n++;
	return 0;
}

static void values_note(struct ldg_values *out, uint64_t seq, bool lock)
{
	if (seq > out->mtime_seq)
		out->mtime_seq = seq;
	if (!lock && seq > out->values_mtime_seq)
		out->values_mtime_seq = seq;
}

/* The rows of state that hold the seq of a target's newest apply or
 * drift check, not a value (section 11 of docs/format.md). */
static bool last_row(const char *name, size_t nlen)
{
	return (nlen == strlen(LDG_APPLY_KEY) &&
		!memcmp(name, LDG_APPLY_KEY, nlen)) ||
	       (nlen == strlen(LDG_DRIFT_KEY) &&
		!memcmp(name, LDG_DRIFT_KEY, nlen));
}

/* The head's state: one range scan of the state index. */
static int state_head(struct ldg_read *r, const char *target,
		      struct ldg_values *out)
{
	uint8_t kb[KEYBUF];
	size_t plen = make_key(kb, target, "", NULL);
	MDB_val k = { plen, kb }, v;
	MDB_cursor *c;
	int rc;

	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_STATE], &c);
	if (rc)
		return ldg_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const char *name = (const char *)k.mv_data + plen;
		size_t nlen = k.mv_size - plen;
		const uint8_t *d = v.mv_data;
		bool lock;
		uint64_t seq;

		if (k.mv_size < plen || memcmp(k.mv_data, kb, plen))
			break;
		if (last_row(name, nlen))
			continue; /* the last apply or check: not a value */
		if (v.mv_size < 9) {
			rc = EIO;
			break;
		}
		seq = ldg_get_be64(d);
		lock = nlen == strlen(LDG_LOCK_KEY) &&
		       !memcmp(name, LDG_LOCK_KEY, nlen);
		values_note(out, seq, lock);
		if (d[8] == VAL_UNSET)
			continue; /* unset: it counts for the mtimes only */
		if (lock) {
			out->lock_seq = seq;
		} else if (values_push(out, name, nlen, d[8],
				       (const char *)d + 9, v.mv_size - 9,
				       seq)) {
			rc = ENOMEM;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : ldg_mdb_err(rc);
}

int ldg_state_changes(struct ldg_read *r, const char *target, uint64_t after,
		      uint64_t **seqs, size_t *n)
{
	uint8_t kb[KEYBUF];
	size_t plen = make_key(kb, target, "", NULL), cap = 0;
	MDB_val k = { plen, kb }, v;
	MDB_cursor *c;
	int rc;

	*seqs = NULL;
	*n = 0;
	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_STATE], &c);
	if (rc)
		return ldg_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const char *name = (const char *)k.mv_data + plen;
		size_t nlen = k.mv_size - plen, i;
		uint64_t seq;

		if (k.mv_size < plen || memcmp(k.mv_data, kb, plen))
			break;
		if (last_row(name, nlen) || (nlen == strlen(LDG_LOCK_KEY) &&
					     !memcmp(name, LDG_LOCK_KEY, nlen)))
			continue; /* not a value */
		if (v.mv_size < 9) {
			rc = EIO;
			break;
		}
		seq = ldg_get_be64(v.mv_data);
		if (seq <= after)
			continue;
		for (i = 0; i < *n && (*seqs)[i] < seq; i++)
			;
		if (i < *n && (*seqs)[i] == seq)
			continue;
		if (*n == cap) {
			uint64_t *grown;
			cap = cap ? 2 * cap : 8;
			grown = realloc(*seqs, cap * sizeof(*grown));
			if (!grown) {
				rc = ENOMEM;
				break;
			}
			*seqs = grown;
		}
		memmove(*seqs + i + 1, *seqs + i, (*n - i) * sizeof(**seqs));
		(*seqs)[i] = seq;
		(*n)++;
	}
	mdb_cursor_close(c);
	rc = rc == MDB_NOTFOUND ? 0 : ldg_mdb_err(rc);
	if (rc) {
		free(*seqs);
		*seqs = NULL;
		*n = 0;
	}
	return rc;
}

/* For each key the target ever had, the newest version at or before at:
 * one seek per key, so O(K log N). */
static int state_at(struct ldg_read *r, const char *target, uint64_t at,
		    struct ldg_values *out)
{
	uint8_t kb[KEYBUF], probe[KEYBUF];
	size_t plen = make_key(kb, target, "", NULL);
	MDB_val k = { plen, kb }, v;
	MDB_cursor *c;
	int rc;

	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_VERSIONS], &c);
	if (rc)
		return ldg_mdb_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		const uint8_t *kd = k.mv_data;
		size_t nlen;
		uint64_t seq;

		if (k.mv_size < plen + 9 || memcmp(kd, kb, plen))
			break;
		nlen = k.mv_size - plen - 9;
		/* seek to this key's version at "at", or the one before */
		memcpy(probe, kd, plen + nlen + 1);
		ldg_put_be64(probe + plen + nlen + 1, at);
		k.mv_data = probe;
		k.mv_size = plen + nlen + 9;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && !(k.mv_size == plen + nlen + 9 &&
				 !memcmp(k.mv_data, probe, plen + nlen + 9)))
			rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		if (rc == MDB_NOTFOUND) {
			/* nothing before this key's first version (which is
			 * after "at"): no value, go on with the next key */
			rc = 0;
			k.mv_size = 0;
		}
		if (rc)
			break;
		kd = k.mv_data;
		if (k.mv_size == plen + nlen + 9 &&
		    !memcmp(kd, probe, plen + nlen + 1) && v.mv_size >= 1) {
			const char *name = (const char *)probe + plen;
			bool lock = nlen == strlen(LDG_LOCK_KEY) &&
				    !memcmp(name, LDG_LOCK_KEY, nlen);
			seq = ldg_get_be64(kd + plen + nlen + 1);
			/* set or unset, it changed the target then */
			if (seq <= at)
				values_note(out, seq, lock);
			uint8_t tag = ((uint8_t *)v.mv_data)[0];
			if (seq <= at && tag != VAL_UNSET) {
				if (lock)
					out->lock_seq = seq;
				else if (values_push(out, name, nlen, tag,
						     (char *)v.mv_data + 1,
						     v.mv_size - 1, seq))
					rc = ENOMEM;
			}
		}
		if (rc)
			break;
		/* jump past every version of this key */
		probe[plen + nlen] = 1;
		k.mv_data = probe;
		k.mv_size = plen + nlen + 1;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : ldg_mdb_err(rc);
}

int ldg_state_get(struct ldg_read *r, const char *target, uint64_t at,
		  struct ldg_values *out)
{
	uint64_t head;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ldg_head(r, &head, NULL);
	if (rc)
		return rc;
	if (at == 0 || at >= head)
		rc = state_head(r, target, out);
	else
		rc = state_at(r, target, at, out);
	if (rc)
		ldg_values_free(out);
	return rc;
}

void ldg_values_free(struct ldg_values *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].value);
	}
	free(v->v);
	memset(v, 0, sizeof(*v));
}

const struct ldg_value *ldg_values_find(const struct ldg_values *v,
					const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].key, key) == 0)
			return &v->v[i];
	return NULL;
}

void ldg_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int ldg_targets_list(struct ldg_read *r, const char *prefix, uint64_t at,
		     char ***out, size_t *n)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor *c;
	char **list = NULL;
	size_t cnt = 0;
	int rc;

	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_TARGETS], &c);
	if (rc)
		return ldg_mdb_err(rc);
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char **grown;

		if (plen &&
		    (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		if (v.mv_size != 8) {
			rc = EIO;
			break;
		}
		if (at && ldg_get_be64(v.mv_data) > at)
			continue;
		grown = realloc(list, (cnt + 1) * sizeof(*list));
		if (!grown) {
			rc = ENOMEM;
			break;
		}
		list = grown;
		list[cnt] = strndup(k.mv_data, k.mv_size);
		if (!list[cnt]) {
			rc = ENOMEM;
			break;
		}
		cnt++;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND && rc != 0) {
		ldg_strv_free(list, cnt);
		return ldg_mdb_err(rc);
	}
	*out = list;
	*n = cnt;
	return 0;
}

static int history_global(struct ldg_read *r, uint64_t before, size_t max,
			  uint64_t **seqs, size_t *n)
{
	uint64_t head, top, cnt;
	uint64_t *v;
	int rc = ldg_head(r, &head, NULL);

	if (rc)
		return rc;
	top = (before == 0 || before > head + 1) ? head : before - 1;
	cnt = (max && max < top) ? max : top;
	v = malloc((cnt ? cnt : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint64_t i = 0; i < cnt; i++)
		v[i] = top - i;
	*seqs = v;
	*n = cnt;
	return 0;
}

int ldg_history(struct ldg_read *r, const char *scope, uint64_t before,
		size_t max, uint64_t **seqs, size_t *n)
{
	uint8_t kb[KEYBUF];
	size_t plen;
	MDB_val k, v;
	MDB_cursor *c;
	uint64_t *list = NULL;
	size_t cnt = 0, cap = 0;
	uint64_t start = before ? before - 1 : UINT64_MAX;
	int rc;

	if (!scope)
		return history_global(r, before, max, seqs, n);
	plen = make_key(kb, scope, NULL, &start) - 8;
	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_HISTORY], &c);
	if (rc)
		return ldg_mdb_err(rc);
	k.mv_data = kb;
	k.mv_size = plen + 8;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 &&
	    !(k.mv_size == plen + 8 && !memcmp(k.mv_data, kb, plen + 8)))
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen))
			break;
		if (max && cnt >= max)
			break;
		if (cnt == cap) {
			uint64_t *grown;
			cap = cap ? cap * 2 : 64;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				rc = ENOMEM;
				break;
			}
			list = grown;
		}
		list[cnt++] = ldg_get_be64((uint8_t *)k.mv_data + plen);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND && rc != 0) {
		free(list);
		return ldg_mdb_err(rc);
	}
	*seqs = list;
	*n = cnt;
	return 0;
}

/* A seq8 row of state: !apply or !drift. */
static int last_of(struct ldg_read *r, const char *target, const char *name,
		   uint64_t *seq)
{
	uint8_t kb[KEYBUF];
	MDB_val k = { make_key(kb, target, name, NULL), kb }, v;
	int rc = mdb_get(r->txn, r->s->dbi[DB_STATE], &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return ldg_mdb_err(rc);
	if (v.mv_size < 8)
		return -EIO;
	*seq = ldg_get_be64(v.mv_data);
	return 0;
}

int ldg_last_apply(struct ldg_read *r, const char *target, uint64_t *seq)
{
	return last_of(r, target, LDG_APPLY_KEY, seq);
}

int ldg_last_drift(struct ldg_read *r, const char *target, uint64_t *seq)
{
	return last_of(r, target, LDG_DRIFT_KEY, seq);
}

/* ---- keyring ---- */

/* keyid: the id the record was found by, or NULL to derive it from the
 * name and key (a SHA-256: lookups by id, one per entry in verify's
 * replay, skip it). */
static int keyinfo_decode(const MDB_val *k, const MDB_val *v,
			  const uint8_t *keyid, struct ldg_keyinfo *out)
{
	const uint8_t *d = v->mv_data;
	const char *role, *scopes;
	size_t rest;

	memset(out, 0, sizeof(*out));
	if (k->mv_size > LDG_KEYNAME_MAX || v->mv_size < 48 + 3)
		return -EIO;
	memcpy(out->vkey.name, k->mv_data, k->mv_size);
	memcpy(out->vkey.pk, d, LDG_PK_BYTES);
	if (keyid)
		memcpy(out->vkey.keyid, keyid, LDG_KEYID_BYTES);
	else
		ldg_keyid(out->vkey.name, out->vkey.pk, out->vkey.keyid);
	out->added_seq = ldg_get_be64(d + 32);
	out->revoked_seq = ldg_get_be64(d + 40);
	role = (const char *)d + 48;
	rest = v->mv_size - 48;
	scopes = memchr(role, 0, rest);
	if (!scopes || (size_t)(scopes - role) >= LDG_ROLE_MAX ||
	    rest - (size_t)(scopes - role) - 1 >= LDG_SCOPES_MAX)
		return -EIO;
	memcpy(out->role, role, (size_t)(scopes - role));
	scopes++;
	memcpy(out->scopes, scopes, rest - (size_t)(scopes - role));
	return 0;
}

static int keyinfo_put(struct ldg_read *w, const struct ldg_keyinfo *ki)
{
	uint8_t buf[48 + LDG_ROLE_MAX + LDG_SCOPES_MAX];
	size_t rl = strlen(ki->role), sl = strlen(ki->scopes);
	MDB_val k = { strlen(ki->vkey.name), (void *)ki->vkey.name };
	MDB_val v = { 48 + rl + 1 + sl, buf };

	memcpy(buf, ki->vkey.pk, 32);
	ldg_put_be64(buf + 32, ki->added_seq);
	ldg_put_be64(buf + 40, ki->revoked_seq);
	memcpy(buf + 48, ki->role, rl + 1);
	memcpy(buf + 48 + rl + 1, ki->scopes, sl);
	return ldg_mdb_err(mdb_put(w->txn, w->s->dbi[DB_KEYS], &k, &v, 0));
}

int ldg_keyring_by_name(struct ldg_read *r, const char *name,
			struct ldg_keyinfo *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(r->txn, r->s->dbi[DB_KEYS], &k, &v);

	if (rc)
		return ldg_mdb_err(rc);
	return keyinfo_decode(&k, &v, NULL, out);
}

int ldg_keyring_by_id(struct ldg_read *r, const uint8_t keyid[LDG_KEYID_BYTES],
		      struct ldg_keyinfo *out)
{
	MDB_val k = { LDG_KEYID_BYTES, (void *)keyid }, v;
	int rc = mdb_get(r->txn, r->s->dbi[DB_KEYIDS], &k, &v);

	if (rc)
		return ldg_mdb_err(rc);
	if (v.mv_size > LDG_KEYNAME_MAX)
		return -EIO;
	k = v; /* the name, the key of the keys database */
	rc = mdb_get(r->txn, r->s->dbi[DB_KEYS], &k, &v);
	if (rc)
		return ldg_mdb_err(rc);
	return keyinfo_decode(&k, &v, keyid, out);
}

int ldg_keyring_list(struct ldg_read *r, struct ldg_keyinfo **out, size_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct ldg_keyinfo *list = NULL;
	size_t cnt = 0;
	int rc;

	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_KEYS], &c);
	if (rc)
		return ldg_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ldg_keyinfo *grown =
			realloc(list, (cnt + 1) * sizeof(*list));
		if (!grown) {
			rc = ENOMEM;
			break;
		}
		list = grown;
		if (keyinfo_decode(&k, &v, NULL, &list[cnt])) {
			rc = EIO;
			break;
		}
		cnt++;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		free(list);
		return ldg_mdb_err(rc);
	}
	*out = list;
	*n = cnt;
	return 0;
}

/* ---- locks ---- */

int ldg_lock_seq(struct ldg_read *r, const char *target, uint64_t *seq)
{
	uint8_t kb[KEYBUF];
	MDB_val k = { make_key(kb, target, LDG_LOCK_KEY, NULL), kb }, v;
	int rc = mdb_get(r->txn, r->s->dbi[DB_STATE], &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return ldg_mdb_err(rc);
	if (v.mv_size < 9)
		return -EIO;
	if (((uint8_t *)v.mv_data)[8] == VAL_STR)
		*seq = ldg_get_be64(v.mv_data);
	return 0;
}

/* ---- the rule of a rollback ---- */

/* A value for a message: a string quoted, a typed value as its JSON
 * text, both cut; or "unset". */
static void show_value(enum ldg_vtype t, const char *v, char *out, size_t len)
{
	const char *q = t == LDG_V_JSON ? "" : "\"";

	if (v)
		snprintf(out, len, "%s%.80s%s%s", q, v,
			 strlen(v) > 80 ? "..." : "", q);
	else
		snprintf(out, len, "unset");
}

/* Whether key, after e on now, has the value it had in then (NULL:
 * absent); on a difference the message says which. */
static int restores_key(const struct ldg_entry *e, uint64_t to,
			const struct ldg_values *then,
			const struct ldg_values *now, const char *key,
			struct ldg_err *err)
{
	const struct ldg_kv *c = ldg_kv_find(e->changes, e->n_changes, key);
	const struct ldg_value *was = ldg_values_find(then, key);
	const struct ldg_value *cur = ldg_values_find(now, key);
	const char *after = c ? c->value : cur ? cur->value : NULL;
	enum ldg_vtype ta = c ? c->type : cur ? cur->type : LDG_V_STR;
	const char *want = was ? was->value : NULL;
	enum ldg_vtype tw = was ? was->type : LDG_V_STR;
	char a[96], w[96];

	/* type and text (docs/format.md 8a) */
	if (ldg_value_eq(ta, after, tw, want))
		return 0;
	show_value(ta, after, a, sizeof(a));
	show_value(tw, want, w, sizeof(w));
	return ldg_err_set(err, -EPERM,
			   "rollback of %s to seq %llu leaves %s %s, but at "
			   "seq %llu it was %s: the changes are not the state "
			   "at rollback-to",
			   e->target, (unsigned long long)to, key, a,
			   (unsigned long long)to, w);
}

static int state_exactly_at(struct ldg_read *r, const char *target, uint64_t at,
			    struct ldg_values *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = state_at(r, target, at, out);
	if (rc)
		ldg_values_free(out);
	return rc;
}

int ldg_rollback_check(struct ldg_read *r, const struct ldg_entry *e,
		       struct ldg_err *err)
{
	struct ldg_values then, now;
	const struct ldg_kv *rb;
	uint64_t to;
	int rc;

	if (e->kind != LDG_KIND_ROLLBACK)
		return 0;
	rb = ldg_kv_find(e->meta, e->n_meta, "rollback-to");
	if (!rb || ldg_parse_seq(rb->value, &to) || to >= e->seq)
		return ldg_err_set(err, -EINVAL,
				   "rollback entry needs metadata "
				   "rollback-to=SEQ before its own seq");
	/* from the versions index, never "the head's state": verify's
	 * replay has indexes but no entries, hence no head */
	rc = state_exactly_at(r, e->target, to, &then);
	if (rc)
		return ldg_err_set(err, rc, "cannot read %s at seq %llu",
				   e->target, (unsigned long long)to);
	rc = state_exactly_at(r, e->target, e->seq - 1, &now);
	if (rc) {
		ldg_err_set(err, rc, "cannot read %s at seq %llu", e->target,
			    (unsigned long long)(e->seq - 1));
		goto out_then;
	}
	/* every key either state has, and every key the entry names */
	for (size_t i = 0; i < then.n && !rc; i++)
		rc = restores_key(e, to, &then, &now, then.v[i].key, err);
	for (size_t i = 0; i < now.n && !rc; i++)
		rc = restores_key(e, to, &then, &now, now.v[i].key, err);
	for (size_t i = 0; i < e->n_changes && !rc; i++)
		rc = restores_key(e, to, &then, &now, e->changes[i].key, err);
	ldg_values_free(&now);
out_then:
	ldg_values_free(&then);
	return rc;
}

/* ---- indexes ---- */

/* value NULL: unset. A typed value's text may be longer than a string
 * (an array of up to LDG_ARRAY_MAX strings), so LMDB's own buffers
 * (MDB_RESERVE) take the bytes. */
static int put_value(struct ldg_read *w, const char *target, const char *key,
		     enum ldg_vtype type, const char *value, uint64_t seq)
{
	uint8_t kb[KEYBUF];
	uint8_t tag = !value		   ? VAL_UNSET
		      : type == LDG_V_JSON ? VAL_JSON
					   : VAL_STR;
	size_t vl = value ? strlen(value) : 0;
	MDB_val k, v;
	int rc;

	/* versions: the history of this one key */
	k.mv_data = kb;
	k.mv_size = make_key(kb, target, key, &seq);
	v.mv_size = 1 + vl;
	rc = mdb_put(w->txn, w->s->dbi[DB_VERSIONS], &k, &v, MDB_RESERVE);
	if (rc)
		return ldg_mdb_err(rc);
	((uint8_t *)v.mv_data)[0] = tag;
	memcpy((uint8_t *)v.mv_data + 1, value ? value : "", vl);
	/* state: the newest version of the key, an unset one included, so
	 * that the head's mtimes need no other lookup */
	k.mv_size = make_key(kb, target, key, NULL);
	v.mv_size = 9 + vl;
	rc = mdb_put(w->txn, w->s->dbi[DB_STATE], &k, &v, MDB_RESERVE);
	if (rc)
		return ldg_mdb_err(rc);
	ldg_put_be64(v.mv_data, seq);
	((uint8_t *)v.mv_data)[8] = tag;
	memcpy((uint8_t *)v.mv_data + 9, value ? value : "", vl);
	return 0;
}

/* state: TARGET 00 "!apply" or "!drift" -> seq8 (no versions: only the
 * head's is asked for) */
static int put_last(struct ldg_read *w, const char *target, const char *name,
		    uint64_t seq)
{
	uint8_t kb[KEYBUF], vb[8];
	MDB_val k = { make_key(kb, target, name, NULL), kb };
	MDB_val v = { sizeof(vb), vb };

	ldg_put_be64(vb, seq);
	return ldg_mdb_err(mdb_put(w->txn, w->s->dbi[DB_STATE], &k, &v, 0));
}

static int put_history(struct ldg_read *w, const char *scope, uint64_t seq)
{
	uint8_t kb[KEYBUF];
	MDB_val k = { make_key(kb, scope, NULL, &seq), kb }, v = { 0, "" };

	return ldg_mdb_err(mdb_put(w->txn, w->s->dbi[DB_HISTORY], &k, &v, 0));
}

static int index_target(struct ldg_read *w, const struct ldg_entry *e,
			bool effective)
{
	char cluster[LDG_CLUSTER_MAX + 1];
	const char *release;
	uint8_t sb[8];
	MDB_val k = { strlen(e->target), e->target }, v = { 8, sb };
	int rc;

	/* a policy's target is a scope: the whole log shows it */
	if (!e->target[0] || ldg_kind_on_scope(e->kind))
		return 0;
	if (ldg_target_split(e->target, cluster, &release) == 0) {
		rc = put_history(w, cluster, e->seq);
		if (rc)
			return rc;
		/* a target exists from its first effective change or lock */
		if (effective || e->kind == LDG_KIND_LOCK ||
		    e->kind == LDG_KIND_UNLOCK) {
			ldg_put_be64(sb, e->seq);
			rc = mdb_put(w->txn, w->s->dbi[DB_TARGETS], &k, &v,
				     MDB_NOOVERWRITE);
			if (rc && rc != MDB_KEYEXIST)
				return ldg_mdb_err(rc);
		}
	}
	return put_history(w, e->target, e->seq);
}

static int index_keys(struct ldg_read *w, const struct ldg_entry *e)
{
	struct ldg_keyinfo ki;
	const struct ldg_kv *kv;
	MDB_val k, v;
	int rc;

	if (e->kind == LDG_KIND_KEY_REVOKE) {
		rc = ldg_keyring_by_name(w, e->changes[0].value, &ki);
		if (rc)
			return rc;
		ki.revoked_seq = e->seq;
		return keyinfo_put(w, &ki);
	}
	memset(&ki, 0, sizeof(ki));
	kv = ldg_kv_find(e->changes, e->n_changes, "vkey");
	if (ldg_vkey_parse(kv->value, &ki.vkey, NULL))
		return -EINVAL;
	kv = ldg_kv_find(e->changes, e->n_changes, "role");
	snprintf(ki.role, sizeof(ki.role), "%s", kv->value);
	kv = ldg_kv_find(e->changes, e->n_changes, "scopes");
	if (strlen(kv->value) >= sizeof(ki.scopes))
		return -EINVAL;
	snprintf(ki.scopes, sizeof(ki.scopes), "%s", kv->value);
	ki.added_seq = e->seq;
	rc = keyinfo_put(w, &ki);
	if (rc)
		return rc;
	k.mv_data = ki.vkey.keyid;
	k.mv_size = LDG_KEYID_BYTES;
	v.mv_data = ki.vkey.name;
	v.mv_size = strlen(ki.vkey.name);
	return ldg_mdb_err(mdb_put(w->txn, w->s->dbi[DB_KEYIDS], &k, &v, 0));
}

int ldg_index_apply(struct ldg_read *w, const struct ldg_entry *e,
		    const uint8_t hash[LDG_HASH_BYTES],
		    const struct ldg_index_values *vals)
{
	uint8_t node[LDG_HASH_BYTES], left[LDG_HASH_BYTES];
	uint64_t index = e->seq - 1;
	unsigned level = 0;
	int rc;

	/* Merkle: every subtree the new leaf completes (the leaf itself is
	 * its entry's hash, not stored). */
	rc = 0;
	memcpy(node, hash, LDG_HASH_BYTES);
	while (!rc && (index & 1)) {
		/* the leaf on the left is the previous entry: its hash is
		 * this entry's prev (verify's replay has no entries to read) */
		if (level == 0)
			memcpy(left, e->prev, LDG_HASH_BYTES);
		else
			rc = merkle_get(w, level, index - 1, left);
		if (rc)
			break;
		ldg_merkle_node(left, node, node);
		index >>= 1;
		level++;
		rc = merkle_put(w, level, index, node);
	}
	if (rc)
		return rc;

	switch (e->kind) {
	case LDG_KIND_INIT: {
		const char *origin = e->changes[0].value;
		MDB_val k = { 6, "origin" },
			v = { strlen(origin), (void *)origin };
		MDB_val vk = { 13, "index-version" };
		MDB_val vv = { strlen(LDG_INDEX_VERSION), LDG_INDEX_VERSION };
		rc = ldg_mdb_err(
			mdb_put(w->txn, w->s->dbi[DB_META], &k, &v, 0));
		if (!rc)
			rc = ldg_mdb_err(mdb_put(w->txn, w->s->dbi[DB_META],
						 &vk, &vv, 0));
		if (rc)
			return rc;
		snprintf(w->s->origin, sizeof(w->s->origin), "%s", origin);
		return index_keys(w, e);
	}
	case LDG_KIND_KEY_ADD:
	case LDG_KIND_KEY_REVOKE:
		return index_keys(w, e);
	case LDG_KIND_SET:
	case LDG_KIND_UNSET:
	case LDG_KIND_ROLLBACK:
	case LDG_KIND_APPROVE:
		/* the values in effect: a proposal's only once enacted, at
		 * the seq of the approval that did it */
		for (size_t i = 0; vals->effective && i < vals->n && !rc; i++)
			rc = put_value(w, e->target, vals->changes[i].key,
				       vals->changes[i].type,
				       vals->changes[i].value, e->seq);
		break;
	case LDG_KIND_LOCK:
	case LDG_KIND_UNLOCK:
		rc = put_value(w, e->target, LDG_LOCK_KEY, LDG_V_STR,
			       e->kind == LDG_KIND_LOCK ? "" : NULL, e->seq);
		break;
	case LDG_KIND_APPLIED:
	case LDG_KIND_APPLY_FAILED:
		/* a release's newest apply (a whole cluster's batch has
		 * none): `ledger status` and the applier read it at once */
		if (strchr(e->target, '/'))
			rc = put_last(w, e->target, LDG_APPLY_KEY, e->seq);
		break;
	case LDG_KIND_DRIFT:
		/* a release's or a whole cluster's newest check: the
		 * applier compares the next one with it */
		rc = put_last(w, e->target, LDG_DRIFT_KEY, e->seq);
		break;
	default:
		break;
	}
	if (rc)
		return rc;
	return index_target(w, e, vals->effective);
}

/* ---- the scratch of an incremental verify ---- */

static int seed_values(struct ldg_read *w, struct ldg_read *r, uint64_t at)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, mrc;

	mrc = mdb_cursor_open(r->txn, r->s->dbi[DB_TARGETS], &c);
	if (mrc)
		return ldg_mdb_err(mrc);
	rc = 0;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && !rc;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char target[LDG_TARGET_MAX + 1];
		struct ldg_values vals;
		if (k.mv_size > LDG_TARGET_MAX || v.mv_size != 8) {
			rc = -EIO;
			break;
		}
		if (ldg_get_be64(v.mv_data) > at)
			continue;
		memcpy(target, k.mv_data, k.mv_size);
		target[k.mv_size] = '\0';
		rc = ldg_mdb_err(
			mdb_put(w->txn, w->s->dbi[DB_TARGETS], &k, &v, 0));
		if (rc)
			break;
		memset(&vals, 0, sizeof(vals));
		rc = state_at(r, target, at, &vals);
		for (size_t i = 0; !rc && i < vals.n; i++)
			rc = put_value(w, target, vals.v[i].key, vals.v[i].type,
				       vals.v[i].value, vals.v[i].seq);
		ldg_values_free(&vals);
	}
	mdb_cursor_close(c);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = ldg_mdb_err(mrc);
	return rc;
}

int ldg_index_seed(struct ldg_read *w, struct ldg_read *r, uint64_t at,
		   const struct ldg_authz *a)
{
	uint8_t node[LDG_HASH_BYTES];
	uint64_t offset = 0;
	int rc = 0;

	for (size_t i = 0; !rc && i < a->n_keys; i++) {
		const struct ldg_keyinfo *ki = &a->keys[i];
		MDB_val k = { LDG_KEYID_BYTES, (void *)ki->vkey.keyid };
		MDB_val v = { strlen(ki->vkey.name), (void *)ki->vkey.name };
		rc = keyinfo_put(w, ki);
		if (!rc)
			rc = ldg_mdb_err(mdb_put(w->txn, w->s->dbi[DB_KEYIDS],
						 &k, &v, 0));
	}
	if (!rc)
		rc = seed_values(w, r, at);
	for (size_t i = 0; !rc && i < a->n_locks; i++)
		rc = put_value(w, a->locks[i].target, LDG_LOCK_KEY, LDG_V_STR,
			       "", a->locks[i].seq);
	/* the perfect subtrees of the tree of size at, largest first: in
	 * the order of their keys, as merkle_put() appends */
	for (int level = 63; !rc && level >= 1; level--) {
		if (!(at >> level & 1))
			continue;
		rc = merkle_get(r, (unsigned)level, offset >> level, node);
		if (!rc)
			rc = merkle_put(w, (unsigned)level, offset >> level,
					node);
		offset += (uint64_t)1 << level;
	}
	if (!rc)
		rc = ldg_gov_seed(w, r, at, &a->gov);
	return rc;
}
