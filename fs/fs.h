/*
 * fs.h - the mounted view: a read-only libfuse3 filesystem over a ledger.
 *
 *   HEAD                              "SEQ HASH\n"
 *   clusters/CLUSTER/RELEASE/KEY      the current value + "\n"
 *   clusters/CLUSTER/RELEASE/values.yaml   all keys as nested YAML
 *   clusters/CLUSTER/RELEASE/history  the `ledger history` table
 *   clusters/CLUSTER/RELEASE/LOCKED   present only while locked: the reason
 *   entries/SEQ, entries/SEQ.json     `ledger show SEQ [--json]`
 *   at/SEQ/clusters/...               the clusters/ tree as of SEQ
 *   keys/NAME.pub                     verifier keys, trusted and revoked
 *
 * Every path parses into one struct lfs_path and is served by the route
 * table in route.c. fs/ reads through ledger/ only; the store is opened in
 * FUSE's init (after the daemon has forked), read-only, and every
 * operation runs in its own read transaction, so FUSE's worker threads
 * never share one. File contents are rendered once per open and served
 * from that buffer: a reader never sees a torn file.
 */
#ifndef LFS_FS_H
#define LFS_FS_H

#include <stdbool.h>

/* Mounts the ledger in dir on mountpoint and serves it until unmounted.
 * options: extra -o options for FUSE, or NULL. Returns a process exit
 * code (0 when unmounted cleanly). Prints nothing itself except what
 * libfuse prints. */
int lfs_run(const char *dir, const char *mountpoint, bool foreground,
	    const char *options);

#endif
