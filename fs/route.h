/*
 * route.h - private to fs/: paths, parsed once, and the table of what
 * each kind of path is and how it is served.
 *
 * Handlers run inside the caller's read transaction r (one per FUSE
 * operation) and keep nothing between calls; render()'s *buf is malloc'd
 * and the caller frees it. The table is const: thread-safe.
 */
#ifndef LFS_ROUTE_H
#define LFS_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"
#include "store.h"

enum lfs_node {
	LFS_ROOT,
	LFS_HEAD,
	LFS_CLUSTERS,
	LFS_CLUSTER,
	LFS_RELEASE,
	LFS_KEY,
	LFS_VALUES,
	LFS_HISTORY,
	LFS_LOCKED,
	LFS_ENTRIES,
	LFS_ENTRY,
	LFS_ENTRY_JSON,
	LFS_AT,
	LFS_AT_SEQ,
	LFS_KEYS,
	LFS_KEYFILE,
	LFS_POLICY,    /* clusters/C/R/POLICY */
	LFS_PENDING,   /* clusters/C/R/PENDING */
	LFS_DRIFT,     /* clusters/C/R/DRIFT */
	LFS_POLICIES,  /* policies */
	LFS_PROPOSALS, /* pending/ */
	LFS_PROPOSAL,  /* pending/SEQ */
	LFS_NODE_COUNT
};

struct lfs_path {
	enum lfs_node node;
	uint64_t at;  /* 0: now (under clusters/); else the seq of at/SEQ */
	uint64_t seq; /* entries/SEQ, pending/SEQ */
	char cluster[LDG_CLUSTER_MAX + 1];
	char target[LDG_TARGET_MAX + 1];
	char leaf[LDG_KEY_MAX + 1]; /* KEY, or the key name of keys/NAME.pub */
};

/* Called for each directory entry; returns nonzero when the reader's
 * buffer is full (stop, resume later from the next offset). */
typedef int (*lfs_add_fn)(void *ctx, const char *name, bool dir, off_t next);

struct lfs_route {
	bool dir;
	/* the content at a path never changes once it exists */
	bool immutable;
	/* list() resumes from offsets (huge directories) */
	bool offsets;
	/* files: the content depends on the clock as well as on the ledger
	 * (freeze windows open and close): re-rendered every second */
	bool clock;
	/* dirs: 0 when it exists, with the seq that last changed it */
	int (*exists)(struct ldg_read *r, const struct lfs_path *p,
		      uint64_t *mtime_seq);
	/* dirs: lists from offset off (0 = start) */
	int (*list)(struct ldg_read *r, const struct lfs_path *p, off_t off,
		    lfs_add_fn add, void *ctx);
	/* files: the content (malloc'd) and the seq that last changed it */
	int (*render)(struct ldg_read *r, const struct lfs_path *p, char **buf,
		      size_t *len, uint64_t *mtime_seq);
};

/* Parses a path; -ENOENT when no route matches. */
int lfs_parse(const char *path, struct lfs_path *out);

const struct lfs_route *lfs_route_of(const struct lfs_path *p);

/* True when the content at p can never change (entries/, at/SEQ/,
 * keys/NAME.pub): the kernel may keep it cached. */
bool lfs_immutable(const struct lfs_path *p);

#endif
