/*
 * kill_after_meta.c - an LD_PRELOAD module that kills a writer at the
 * worst moment of an LMDB commit.
 *
 * LMDB writes a commit's meta page with pwrite() on a descriptor opened
 * with O_DSYNC, then publishes the new txnid in lock.mdb. With
 * LDG_KILL_AFTER_META set, this pwrite() does its write and then the
 * process dies of SIGKILL: the commit is in data.mdb but not in the lock
 * file, as when `kill -9` lands during that synchronous write.
 * tests/scenario/crash.sh and serve.sh check that readers still see it.
 */
/* the build's -D_FILE_OFFSET_BITS=64 would rename this pwrite() to
 * pwrite64(), which LMDB does not call */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn real;
	ssize_t n;
	int fl;

	if (!real) /* POSIX's way past -Wpedantic's object/function split */
		*(void **)&real = dlsym(RTLD_NEXT, "pwrite");
	n = real(fd, buf, len, off);
	fl = fcntl(fd, F_GETFL);
	if (n > 0 && fl >= 0 && (fl & O_DSYNC) && getenv("LDG_KILL_AFTER_META"))
		raise(SIGKILL);
	return n;
}
