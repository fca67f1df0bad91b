#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "store.h"
#include "writer.h"

struct srv_writer {
	int fd;		      /* -1 while no writer runs */
	pid_t pid;	      /* the child; -1 when reaped */
	pthread_mutex_t lock; /* one exchange at a time; guards the rest */
	char exe[PATH_MAX];   /* this binary, run again as the writer */
	char dir[PATH_MAX];
	char fd_arg[16];
	char *argv[7];
	/* when the last deaths happened (CLOCK_MONOTONIC), oldest first */
	struct timespec deaths[SRV_WRITER_DEATHS_MAX];
	unsigned n_deaths;
	bool gave_up;
};

struct wreply {
	int rc;
	int why; /* the rule that refused (enum ldg_why), for the answer */
	uint64_t seq;
	uint8_t hash[LDG_HASH_BYTES];
	char msg[LDG_ERR_MSG_MAX];
};

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0, or -EPIPE on EOF or error. */
static int read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One request: a count, then each entry's length and bytes. Frees
 * what it read on any error; -EPIPE when the socket is done. */
static int read_request(int fd, uint8_t **bufs, size_t *lens, uint32_t *n)
{
	uint32_t len;

	if (read_all(fd, n, sizeof(*n)) || *n == 0 || *n > SRV_WRITER_BATCH_MAX)
		return -EPIPE;
	for (uint32_t i = 0; i < *n; i++) {
		bool ok = read_all(fd, &len, sizeof(len)) == 0 &&
			  len <= LDG_ENTRY_MAX;

		if (ok)
			bufs[i] = malloc(len ? len : 1);
		if (!ok || !bufs[i] || read_all(fd, bufs[i], len)) {
			for (uint32_t k = 0; k <= i && k < *n; k++)
				free(bufs[k]);
			return -EPIPE;
		}
		lens[i] = len;
	}
	return 0;
}

void srv_writer_child(int fd, const char *dir)
{
	struct ldg_store *s = NULL;
	struct ldg_err open_err = { 0 };
	int open_rc;

	/* a Ctrl-C of the terminal reaches the whole process group; the
	 * writer finishes its transaction and ends when the server does */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	open_rc = ldg_store_open(dir, 0, &s, &open_err);
	for (;;) {
		uint8_t *bufs[SRV_WRITER_BATCH_MAX] = { NULL };
		size_t lens[SRV_WRITER_BATCH_MAX];
		struct ldg_result res = { 0 };
		struct wreply rp = { 0 };
		struct ldg_err err = { 0 };
		uint32_t n;

		if (read_request(fd, bufs, lens, &n))
			break;
		if (open_rc) {
			rp.rc = open_rc;
			err = open_err;
		} else {
			rp.rc = ldg_append_signed_batch(s,
							(const uint8_t *const *)
								bufs,
							lens, n, &res, &err);
		}
		if (!rp.rc && res.n != n)
			rp.rc = ldg_err_set(&err, -EIO,
					    "appended %zu entries "
					    "of %u",
					    res.n, n);
		if (!rp.rc) {
			rp.seq = res.v[0].seq;
			memcpy(rp.hash, res.v[n - 1].hash, LDG_HASH_BYTES);
		}
		memcpy(rp.msg, err.msg, sizeof(rp.msg));
		rp.why = (int)err.why;
		ldg_result_free(&res);
		for (uint32_t i = 0; i < n; i++)
			free(bufs[i]);
		if (write_all(fd, &rp, sizeof(rp)))
			break;
	}
	ldg_store_close(s);
	close(fd);
	_exit(0);
}

/* Forks and runs this binary again as the writer (srv_writer_child()
 * on fd SRV_WRITER_FD). Between fork and exec the child calls only
 * async-signal-safe functions: the server has threads by the time a
 * writer is replaced, and exec gives the writer a clean process. */
static int spawn(struct srv_writer *w, struct ldg_err *err)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		int rc = -errno;
		return ldg_err_set(err, rc, "socketpair: %s", strerror(-rc));
	}
	pid = fork();
	if (pid < 0) {
		int rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return ldg_err_set(err, rc, "fork: %s", strerror(-rc));
	}
	if (pid == 0) {
		/* dup2 clears close-on-exec, except onto itself */
		if (sv[1] == SRV_WRITER_FD)
			fcntl(sv[1], F_SETFD, 0);
		else if (dup2(sv[1], SRV_WRITER_FD) < 0)
			_exit(127);
		execv(w->exe, w->argv);
		_exit(127);
	}
	close(sv[1]);
	w->fd = sv[0];
	w->pid = pid;
	return 0;
}

int srv_writer_start(const char *dir, struct srv_writer **out,
		     struct ldg_err *err)
{
	struct srv_writer *w;
	ssize_t n;
	int rc;

	w = calloc(1, sizeof(*w));
	if (!w)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	n = readlink("/proc/self/exe", w->exe, sizeof(w->exe) - 1);
	if (n < 0 || (size_t)n >= sizeof(w->exe) - 1 ||
	    snprintf(w->dir, sizeof(w->dir), "%s", dir) >=
		    (int)sizeof(w->dir)) {
		free(w);
		return ldg_err_set(err, -ENAMETOOLONG,
				   "cannot find this "
				   "program (/proc/self/exe) to run the "
				   "ledger writer");
	}
	snprintf(w->fd_arg, sizeof(w->fd_arg), "%d", SRV_WRITER_FD);
	w->argv[0] = w->exe;
	w->argv[1] = "--ledger";
	w->argv[2] = w->dir;
	w->argv[3] = "serve";
	w->argv[4] = "--writer-fd";
	w->argv[5] = w->fd_arg;
	w->argv[6] = NULL;
	rc = spawn(w, err);
	if (rc) {
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->lock, NULL);
	*out = w;
	return 0;
}

/* The writer is gone (or broken): reap it and start another, after a
 * pause that doubles with each death within SRV_WRITER_WINDOW_S; after
 * SRV_WRITER_DEATHS_MAX of them in that window, give up
 * (srv_writer_failed(): the server stops and exits non-zero, and its
 * service manager starts it afresh).
 * Called with w->lock held. */
static int respawn(struct srv_writer *w, struct ldg_err *err)
{
	struct timespec now;
	unsigned recent = 0;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->pid > 0) {
		kill(w->pid, SIGKILL); /* broken but alive: end it */
		while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
		w->pid = -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (w->n_deaths == SRV_WRITER_DEATHS_MAX) {
		memmove(w->deaths, w->deaths + 1,
			(SRV_WRITER_DEATHS_MAX - 1) * sizeof(w->deaths[0]));
		w->n_deaths--;
	}
	w->deaths[w->n_deaths++] = now;
	for (unsigned i = 0; i < w->n_deaths; i++)
		recent +=
			now.tv_sec - w->deaths[i].tv_sec < SRV_WRITER_WINDOW_S;
	if (recent >= SRV_WRITER_DEATHS_MAX)
		w->gave_up = true;
	if (w->gave_up)
		return ldg_err_set(err, -EPIPE,
				   "the ledger writer died %d "
				   "times within %d s; the server is stopping",
				   SRV_WRITER_DEATHS_MAX, SRV_WRITER_WINDOW_S);
	if (recent > 1) {
		long ms = SRV_WRITER_BACKOFF_MS << (recent - 2);
		struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
		while (nanosleep(&pause, &pause) && errno == EINTR)
			;
	}
	return spawn(w, err);
}

/* One request and its reply: 0, or -EPIPE when sending failed (the
 * writer cannot have appended: it never read the whole request), or
 * -ECONNRESET when the reply did not come (it may have). */
static int exchange(struct srv_writer *w, const uint8_t *const *bufs,
		    const size_t *lens, uint32_t n, struct wreply *rp)
{
	int rc = write_all(w->fd, &n, sizeof(n));

	for (size_t i = 0; !rc && i < n; i++) {
		uint32_t len = (uint32_t)lens[i];
		rc = write_all(w->fd, &len, sizeof(len));
		if (!rc)
			rc = write_all(w->fd, bufs[i], lens[i]);
	}
	if (rc)
		return -EPIPE;
	return read_all(w->fd, rp, sizeof(*rp)) ? -ECONNRESET : 0;
}

int srv_writer_append(struct srv_writer *w, const uint8_t *const *bufs,
		      const size_t *lens, size_t n, uint64_t *seq,
		      uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err)
{
	struct wreply rp;
	uint32_t count = (uint32_t)n;
	int rc;

	if (n == 0 || n > SRV_WRITER_BATCH_MAX)
		return ldg_err_set(err, -EINVAL,
				   "a batch of %zu entries: 1 "
				   "to %d",
				   n, SRV_WRITER_BATCH_MAX);
	for (size_t i = 0; i < n; i++)
		if (lens[i] > LDG_ENTRY_MAX)
			return ldg_err_set(err, -EBADMSG,
					   "entry of %zu bytes: at most %d",
					   lens[i], LDG_ENTRY_MAX);
	pthread_mutex_lock(&w->lock);
	if (w->gave_up)
		rc = ldg_err_set(err, -EPIPE,
				 "the ledger writer keeps dying; "
				 "the server is stopping");
	else if (w->fd < 0) /* the last spawn failed */
		rc = respawn(w, err);
	else
		rc = 0;
	if (!rc)
		rc = exchange(w, bufs, lens, count, &rp);
	if (rc == -EPIPE && !w->gave_up) {
		/* gone before it read this request: a new one takes it */
		rc = respawn(w, err);
		if (!rc)
			rc = exchange(w, bufs, lens, count, &rp);
		if (rc == -EPIPE && err && !err->msg[0])
			ldg_err_set(err, rc,
				    "the ledger writer is gone: it "
				    "was restarted and ended again");
	}
	if (rc == -ECONNRESET) {
		/* gone while appending: the caller looks whether it did */
		ldg_err_set(err, rc,
			    "the ledger writer died during the "
			    "append");
		(void)respawn(w, &(struct ldg_err){ 0 }); /* for the next */
	}
	pthread_mutex_unlock(&w->lock);
	if (rc)
		return rc;
	if (rp.rc) {
		rp.msg[sizeof(rp.msg) - 1] = '\0';
		ldg_err_set(err, rp.rc, "%s", rp.msg);
		if (err && ldg_why_name((enum ldg_why)rp.why))
			err->why = (enum ldg_why)rp.why;
		return rp.rc;
	}
	*seq = rp.seq;
	memcpy(hash, rp.hash, LDG_HASH_BYTES);
	return 0;
}

bool srv_writer_failed(struct srv_writer *w)
{
	bool failed;

	if (!w)
		return false;
	pthread_mutex_lock(&w->lock);
	failed = w->gave_up;
	pthread_mutex_unlock(&w->lock);
	return failed;
}

void srv_writer_stop(struct srv_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	while (w->pid > 0 && waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&w->lock);
	free(w);
}
