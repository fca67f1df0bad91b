#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops.h"
#include "store.h"
#include "writer.h"

struct srv_writer {
	int fd;
	pid_t pid;
	pthread_mutex_t lock;
};

struct wreply {
	int rc;
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

	if (read_all(fd, n, sizeof(*n)) || *n == 0 ||
	    *n > SRV_WRITER_BATCH_MAX)
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

/* The child: serve requests until the socket closes. */
static void writer_main(int fd, const char *dir)
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
			rp.rc = ldg_append_signed_batch(
			    s, (const uint8_t *const *)bufs, lens, n, &res,
			    &err);
		}
		if (!rp.rc && res.n != n)
			rp.rc = ldg_err_set(&err, -EIO, "appended %zu entries "
					    "of %u", res.n, n);
		if (!rp.rc) {
			rp.seq = res.v[0].seq;
			memcpy(rp.hash, res.v[n - 1].hash, LDG_HASH_BYTES);
		}
		memcpy(rp.msg, err.msg, sizeof(rp.msg));
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

int srv_writer_start(const char *dir, struct srv_writer **out,
		     struct ldg_err *err)
{
	struct srv_writer *w;
	int sv[2];

	w = calloc(1, sizeof(*w));
	if (!w)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		int rc = -errno;
		free(w);
		return ldg_err_set(err, rc, "socketpair: %s", strerror(-rc));
	}
	w->pid = fork();
	if (w->pid < 0) {
		int rc = -errno;
		close(sv[0]);
		close(sv[1]);
		free(w);
		return ldg_err_set(err, rc, "fork: %s", strerror(-rc));
	}
	if (w->pid == 0) {
		close(sv[0]);
		writer_main(sv[1], dir);
	}
	close(sv[1]);
	w->fd = sv[0];
	pthread_mutex_init(&w->lock, NULL);
	*out = w;
	return 0;
}

int srv_writer_append(struct srv_writer *w, const uint8_t *const *bufs,
		      const size_t *lens, size_t n, uint64_t *seq,
		      uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err)
{
	struct wreply rp;
	uint32_t count = (uint32_t)n;
	int rc;

	if (n == 0 || n > SRV_WRITER_BATCH_MAX)
		return ldg_err_set(err, -EINVAL, "a batch of %zu entries: 1 "
				   "to %d", n, SRV_WRITER_BATCH_MAX);
	for (size_t i = 0; i < n; i++)
		if (lens[i] > LDG_ENTRY_MAX)
			return ldg_err_set(err, -EBADMSG,
					   "entry of %zu bytes: at most %d",
					   lens[i], LDG_ENTRY_MAX);
	pthread_mutex_lock(&w->lock);
	rc = write_all(w->fd, &count, sizeof(count));
	for (size_t i = 0; !rc && i < n; i++) {
		uint32_t len = (uint32_t)lens[i];
		rc = write_all(w->fd, &len, sizeof(len));
		if (!rc)
			rc = write_all(w->fd, bufs[i], lens[i]);
	}
	if (!rc)
		rc = read_all(w->fd, &rp, sizeof(rp));
	pthread_mutex_unlock(&w->lock);
	if (rc)
		return ldg_err_set(err, -EPIPE, "the ledger writer is gone");
	if (rp.rc) {
		rp.msg[sizeof(rp.msg) - 1] = '\0';
		return ldg_err_set(err, rp.rc, "%s", rp.msg);
	}
	*seq = rp.seq;
	memcpy(hash, rp.hash, LDG_HASH_BYTES);
	return 0;
}

void srv_writer_stop(struct srv_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&w->lock);
	free(w);
}
