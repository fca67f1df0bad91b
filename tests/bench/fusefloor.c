/*
 * fusefloor - what open+read+close of a FUSE file costs at the least on
 * this machine, whatever the filesystem does: a minimal low-level libfuse
 * filesystem with one file of SIZE bytes, mounted on MOUNTPOINT by this
 * process, read the way openread does (open, read to EOF, close).
 *
 *   fusefloor MODE MOUNTPOINT [N [ROUNDS [SIZE [TIMEOUT]]]]
 *
 * MODE says what open answers, i.e. how many requests reach the daemon
 * per open+read+close:
 *   direct   open with direct_io (ledger's mutable files): OPEN, READ,
 *            READ (EOF), RELEASE
 *   cached   open with keep_cache (ledger's immutable files): OPEN and
 *            RELEASE; reads come from the page cache
 *   noopen   open answers ENOSYS, so the kernel stops sending OPEN and
 *            RELEASE at all (FUSE_CAP_NO_OPEN_SUPPORT) and keeps the page
 *            cache: no request at all while the timeouts hold
 * Names and attributes are cached for TIMEOUT seconds (default 1, like
 * `ledger mount`). Runs the same multi-threaded loop as `ledger mount`.
 * Prints one line per round: mean nanoseconds per operation. Needs
 * /dev/fuse; unmounts when done.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_INO 2

static enum {
	M_DIRECT,
	M_CACHED,
	M_NOOPEN
} mode;
static char *content;
static size_t content_len;
static double timeout = 1.0;

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)content_len;
	}
}

static void ff_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, "f")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = timeout;
	e.entry_timeout = timeout;
	fill_attr(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ff_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, timeout);
}

static void ff_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (mode == M_NOOPEN) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if (mode == M_DIRECT)
		fi->direct_io = 1;
	else
		fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void ff_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	if ((size_t)off >= content_len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > content_len - (size_t)off)
		size = content_len - (size_t)off;
	fuse_reply_buf(req, content + off, size);
}

static void ff_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = ff_lookup,
	.getattr = ff_getattr,
	.open = ff_open,
	.read = ff_read,
	.release = ff_release,
};

static void *loop(void *arg)
{
	struct fuse_session *se = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();

	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return NULL;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	char *fargv[] = { argv[0], "-o", "ro,fsname=fusefloor", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	unsigned long n = 10000, rounds = 5;
	struct fuse_session *se;
	char path[4096];
	pthread_t th;
	int rc = 0;

	if (argc < 3 || argc > 7)
		goto usage;
	if (!strcmp(argv[1], "direct"))
		mode = M_DIRECT;
	else if (!strcmp(argv[1], "cached"))
		mode = M_CACHED;
	else if (!strcmp(argv[1], "noopen"))
		mode = M_NOOPEN;
	else
		goto usage;
	if (argc > 3)
		n = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		rounds = strtoul(argv[4], NULL, 10);
	content_len = argc > 5 ? strtoul(argv[5], NULL, 10) : 468;
	if (argc > 6)
		timeout = strtod(argv[6], NULL);
	if (n < 1 || rounds < 1 || content_len < 1 || content_len > 65536)
		goto usage;
	content = malloc(content_len);
	memset(content, 'x', content_len);
	content[content_len - 1] = '\n';

	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se || fuse_session_mount(se, argv[2])) {
		fprintf(stderr, "fusefloor: cannot mount on %s\n", argv[2]);
		return 2;
	}
	if (pthread_create(&th, NULL, loop, se))
		return 2;
	snprintf(path, sizeof(path), "%s/f", argv[2]);
	for (unsigned long r = 0; r < rounds && !rc; r++) {
		long long t0 = now_ns();
		for (unsigned long i = 0; i < n; i++) {
			size_t total = 0;
			ssize_t got;
			int fd = open(path, O_RDONLY);
			if (fd < 0) {
				perror(path);
				rc = 1;
				break;
			}
			while ((got = read(fd, buf, sizeof(buf))) > 0)
				total += (size_t)got;
			close(fd);
			if (got < 0 || total != content_len) {
				fprintf(stderr, "fusefloor: short read\n");
				rc = 1;
				break;
			}
		}
		if (!rc)
			printf("%.0f\n", (double)(now_ns() - t0) / (double)n);
	}
	fflush(stdout);
	fuse_session_exit(se);
	fuse_session_unmount(se);
	pthread_join(th, NULL);
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	return rc;
usage:
	fprintf(stderr, "usage: fusefloor direct|cached|noopen MOUNTPOINT "
			"[N [ROUNDS [SIZE [TIMEOUT]]]]\n");
	return 2;
}
