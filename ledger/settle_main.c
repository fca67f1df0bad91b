/*
 * settle_main.c - ledger-settle DIR: the helper that ldg_store_settle()
 * runs for a read-only store (store.c says why it is a program of its
 * own, started with posix_spawn(), and not a fork). It publishes a
 * commit whose writer was killed between data.mdb and the lock file by
 * taking and dropping LMDB's write mutex in an environment of its own.
 *
 * Exit status: LDG_SETTLE_DONE (0), LDG_SETTLE_NO_WRITE (1) when this
 * user may not write the ledger, LDG_SETTLE_FAILED (2) otherwise; killed
 * by SIGALRM when the mutex stays taken for LDG_SETTLE_SECONDS. Installed
 * in libexecdir beside ledger-http; not a command for people, it prints
 * nothing but its usage.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "store_impl.h"

int main(int argc, char **argv)
{
	int rc;

	if (argc != 2) {
		fputs("usage: ledger-settle DIR (run by the ledger library)\n",
		      stderr);
		return LDG_SETTLE_FAILED;
	}
	/* descriptors its parent leaked without O_CLOEXEC are not its own */
	close_range(3, ~0U, 0);
	alarm(LDG_SETTLE_SECONDS);
	rc = ldg_store_settle_dir(argv[1]);
	if (rc == 0)
		return LDG_SETTLE_DONE;
	if (rc == -EACCES || rc == -EROFS || rc == -EPERM)
		return LDG_SETTLE_NO_WRITE;
	return LDG_SETTLE_FAILED;
}
