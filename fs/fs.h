/*
 * fs.h - the mounted view: a read-only libfuse3 filesystem over a ledger.
 *
 *   HEAD                              "SEQ HASH\n"
 *   clusters/CLUSTER/RELEASE/KEY      the current value + "\n"
 *   clusters/CLUSTER/RELEASE/values.yaml   all keys as nested YAML
 *   clusters/CLUSTER/RELEASE/history  the `ledger history` table
 *   clusters/CLUSTER/RELEASE/LOCKED   present only while locked: the reason
 *   clusters/CLUSTER/RELEASE/POLICY   `ledger policy show C/R`, present only
 *                                     while a policy or window covers it
 *   clusters/CLUSTER/RELEASE/PENDING  `ledger pending C/R`, present only
 *                                     while it has pending proposals
 *   policies                          `ledger policy show`
 *   pending/SEQ                       a pending proposal (rnd_proposal())
 *   entries/SEQ, entries/SEQ.json     `ledger show SEQ [--json]`
 *   at/SEQ/clusters/...               the clusters/ tree as of SEQ (values,
 *                                     no POLICY or PENDING)
 *   keys/NAME.pub                     verifier keys, trusted and revoked
 *
 * Every path parses into one struct lfs_path and is served by the route
 * table in route.c, through the libfuse low-level API. fs/ reads through
 * ledger/ only; the store is opened by the daemon (after it has forked,
 * before it mounts: a ledger that cannot be opened is a mount that fails
 * in one line, not a mount that answers EIO), read-only, and every
 * operation runs in its own read transaction, so FUSE's worker threads
 * never share one.
 *
 * open answers ENOSYS (FUSE_CAP_NO_OPEN_SUPPORT): the kernel then serves
 * open, read and close from its caches. LOOKUP and GETATTR replies carry
 * a day for the paths that never change (entries/, at/SEQ/, keys/) and
 * 1 s for the rest; a head-watcher thread polls the head every 200 ms
 * and, when it moves, invalidates every mutable node the kernel holds;
 * once a second it invalidates the nodes whose content follows the clock
 * too (POLICY, policies: a freeze window opens or closes).
 * A mutable file's size and all its READs come from one rendering per
 * node, kept until the head moves (and while a multi-READ sequence is
 * in progress): a reader never sees a torn file. Kernels without no-open
 * support get the old behaviour: one rendering per open.
 *
 * Inode numbers (st_ino) are the FNV-1a hash of the path. The kernel's
 * node ids are the same hash, kept in a table while the kernel holds a
 * lookup reference (freed on FORGET), except entries/SEQ[.json] and
 * at/SEQ, whose ids are derived from the seq so that the daemon's memory
 * does not grow with the ledger.
 */
#ifndef LFS_FS_H
#define LFS_FS_H

#include <stdbool.h>

#include "err.h"

/* Mounts the ledger in dir on mountpoint and serves
 * it until unmounted. options: extra -o options for FUSE, or NULL.
 * Unless foreground, it forks a daemon (as fuse_daemonize() does) and
 * returns in the caller's process once the daemon has opened the ledger
 * and mounted it (0), or failed to (-errno, err says why; nothing is
 * left mounted): ldg_store_open()'s errors (-ENOENT no ledger, ...),
 * -ENODATA a ledger with no origin (not initialised), -EINVAL bad
 * options, -EIO a mount that failed. The
 * daemon returns when unmounted: 0 for a clean stop (fusermount3 -u,
 * SIGTERM, SIGINT, SIGHUP), else -errno; its stdin, stdout and stderr
 * are /dev/null by then. Prints nothing itself except what libfuse
 * prints. Sets TZ to ":/etc/localtime" when it is not set (what an
 * unset TZ means), so that window.c's TZ switches never reallocate the
 * environment while another thread reads it (window.h). */
int lfs_run(const char *dir, const char *mountpoint, bool foreground,
	    const char *options, struct ldg_err *err);

#endif
