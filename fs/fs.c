#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "entry.h"
#include "fs.h"
#include "route.h"
#include "store.h"

/* Seconds the kernel may cache a name and its attributes. clusters/ and
 * HEAD must follow the ledger within one second: the head watcher
 * invalidates them at once, and this timeout bounds what it could miss.
 * entries/, at/SEQ/ and keys/NAME.pub never change. */
#define LFS_TIMEOUT 1.0
#define LFS_FOREVER 86400.0
/* How often the head watcher looks at the head. */
#define LFS_POLL_NS 200000000L
/* A read sequence of a mutable file larger than one READ keeps its
 * rendering at most this long against a newer state. */
#define LFS_BUSY_NS 1000000000ULL

/*
 * Node ids. The kernel names an inode by the id a LOOKUP answered; st_ino
 * is separate and is always the path hash. entries/SEQ, entries/SEQ.json
 * and at/SEQ -- the names that come by the million -- have ids derived
 * from their seq, so the daemon keeps nothing for them. Every other node
 * is the path hash (bit 1 always set) and lives in a table while the
 * kernel holds a reference to it (LOOKUP counts up, FORGET down).
 */
#define ID_AT 0u
#define ID_ENTRY 4u
#define ID_ENTRY_JSON 5u
#define ID_SEQ_MAX (UINT64_MAX >> 3)

struct lfs_inode {
	struct lfs_inode *next; /* hash chain */
	uint64_t id;		/* = st_ino = the path hash */
	uint64_t parent;	/* the parent's id */
	uint64_t nlookup;
	bool dir;
	bool immutable;
	bool clock; /* its content follows the clock too (route.h) */
	/* mutable files: what READs serve until the ledger moves */
	bool cached;
	char *buf;
	size_t len;
	struct timespec mtime;
	uint64_t busy_until; /* a multi-READ sequence is in progress */
	const char *name;    /* the last segment of path */
	char path[];
};

#define LFS_BUCKETS 4096

struct lfs_ctx {
	const char *dir;
	struct ldg_store *store; /* opened in the daemon, before mounting */
	struct fuse_session *se;
	unsigned int uid, gid;
	bool no_open;	      /* the kernel takes ENOSYS for open */
	pthread_mutex_t lock; /* the node table and node caches */
	struct lfs_inode *table[LFS_BUCKETS];
	/* the head watcher */
	pthread_t watcher;
	bool watching;
	bool stop;
	pthread_cond_t wake;
};

/* A file rendered at open, on kernels that need an open. */
struct lfs_open {
	char *buf;
	size_t len;
};

/* Stable inode numbers: a 64-bit FNV-1a hash of the path. */
#define FNV_START 1469598103934665603ULL

static uint64_t fnv(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t ino_of(uint64_t h)
{
	return h | 2; /* never 0 (a hole) or 1 (the root) */
}

static uint64_t path_ino(const char *path)
{
	return strcmp(path, "/") ? ino_of(fnv(FNV_START, path)) : 1;
}

/* The inode number of the directory above path ("/" for the root). */
static uint64_t parent_ino(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash > path ? (size_t)(slash - path) : 1;

	memcpy(parent, path, n);
	parent[n] = '\0';
	return path_ino(parent);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the node table ---- */

static bool derived_id(uint64_t id)
{
	return id != FUSE_ROOT_ID && !(id & 2);
}

/* The id a parsed path gets from LOOKUP. */
static uint64_t id_of(const struct lfs_path *p, const char *path)
{
	if (p->node == LFS_AT_SEQ && p->at <= ID_SEQ_MAX)
		return p->at << 3 | ID_AT;
	if (p->node == LFS_ENTRY && p->seq <= ID_SEQ_MAX)
		return p->seq << 3 | ID_ENTRY;
	if (p->node == LFS_ENTRY_JSON && p->seq <= ID_SEQ_MAX)
		return p->seq << 3 | ID_ENTRY_JSON;
	return path_ino(path);
}

static struct lfs_inode **bucket(struct lfs_ctx *c, uint64_t id)
{
	return &c->table[(id ^ id >> 29) % LFS_BUCKETS];
}

/* Called with c->lock held. */
static struct lfs_inode *find_node(struct lfs_ctx *c, uint64_t id)
{
	struct lfs_inode *n = *bucket(c, id);

	while (n && n->id != id)
		n = n->next;
	return n;
}

static void free_node(struct lfs_inode *n)
{
	free(n->buf);
	free(n);
}

/* The path of node id into path (PATH_MAX bytes). */
static int path_of(struct lfs_ctx *c, uint64_t id, char *path)
{
	struct lfs_inode *n;
	uint64_t seq = id >> 3;
	int rc = 0;

	if (id == FUSE_ROOT_ID) {
		strcpy(path, "/");
		return 0;
	}
	if (derived_id(id)) {
		if ((id & 7) == ID_AT)
			snprintf(path, PATH_MAX, "/at/%llu",
				 (unsigned long long)seq);
		else if ((id & 7) == ID_ENTRY)
			snprintf(path, PATH_MAX, "/entries/%llu",
				 (unsigned long long)seq);
		else if ((id & 7) == ID_ENTRY_JSON)
			snprintf(path, PATH_MAX, "/entries/%llu.json",
				 (unsigned long long)seq);
		else
			rc = -ESTALE;
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	n = find_node(c, id);
	if (n)
		memcpy(path, n->path, strlen(n->path) + 1);
	else
		rc = -ESTALE;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* The parsed path of inode ino (path: PATH_MAX bytes, filled too). */
static int parse_ino(struct lfs_ctx *c, fuse_ino_t ino, char *path,
		     struct lfs_path *p)
{
	int rc = path_of(c, ino, path);

	return rc ? rc : lfs_parse(path, p);
}

/* parse_ino() for a file: a directory is -EISDIR. */
static int parse_file(struct lfs_ctx *c, fuse_ino_t ino, char *path,
		      struct lfs_path *p)
{
	int rc = parse_ino(c, ino, path, p);

	return !rc && lfs_route_of(p)->dir ? -EISDIR : rc;
}

/* Counts one more kernel reference to the node at path, adding it. */
static int node_ref(struct lfs_ctx *c, uint64_t id, uint64_t parent,
		    const char *path, const struct lfs_route *route,
		    bool immutable)
{
	struct lfs_inode *n;
	size_t plen = strlen(path);
	int rc = 0;

	if (derived_id(id) || id == FUSE_ROOT_ID)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = find_node(c, id);
	if (n && strcmp(n->path, path)) {
		rc = -EIO; /* two paths with one 64-bit hash */
	} else if (n) {
		n->nlookup++;
	} else {
		n = calloc(1, sizeof(*n) + plen + 1);
		if (n) {
			n->id = id;
			n->parent = parent;
			n->nlookup = 1;
			n->dir = route->dir;
			n->immutable = immutable;
			n->clock = route->clock;
			memcpy(n->path, path, plen + 1);
			n->name = strrchr(n->path, '/') + 1;
			n->next = *bucket(c, id);
			*bucket(c, id) = n;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void node_unref(struct lfs_ctx *c, uint64_t id, uint64_t count)
{
	struct lfs_inode **pp, *n;

	if (derived_id(id) || id == FUSE_ROOT_ID)
		return;
	pthread_mutex_lock(&c->lock);
	for (pp = bucket(c, id); *pp && (*pp)->id != id; pp = &(*pp)->next)
		;
	n = *pp;
	if (n && n->nlookup > count) {
		n->nlookup -= count;
	} else if (n) {
		*pp = n->next;
		free_node(n);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Makes a fresh rendering of a mutable file what its READs serve, and
 * sets size and mtime from what they will serve. A rendering in the
 * middle of a multi-READ sequence is kept, so that the sequence is not
 * torn: the head watcher replaces it once the sequence ends. Takes buf. */
static void cache_store(struct lfs_ctx *c, uint64_t id, char *buf, size_t len,
			struct stat *st)
{
	struct lfs_inode *n;

	pthread_mutex_lock(&c->lock);
	n = find_node(c, id);
	if (n && !n->dir && !n->immutable) {
		if (n->cached && n->busy_until > now_ns()) {
			free(buf);
			st->st_size = (off_t)n->len;
			st->st_mtim = n->mtime;
			st->st_atim = st->st_ctim = n->mtime;
		} else {
			free(n->buf);
			n->buf = buf;
			n->len = len;
			n->mtime = st->st_mtim;
			n->cached = true;
			n->busy_until = 0;
		}
		buf = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(buf);
}

/* Serves a READ from the node's rendering; false when it has none. */
static bool cache_read(struct lfs_ctx *c, fuse_req_t req, uint64_t id,
		       size_t size, off_t off)
{
	struct lfs_inode *n;
	char *slice = NULL;
	bool served = false;

	pthread_mutex_lock(&c->lock);
	n = find_node(c, id);
	if (n && n->cached) {
		served = true;
		if ((size_t)off >= n->len) {
			size = 0;
		} else if (size > n->len - (size_t)off) {
			size = n->len - (size_t)off;
		}
		if (size) {
			slice = malloc(size);
			if (slice)
				memcpy(slice, n->buf + off, size);
		}
		/* not at the end yet: the rest must come from this one */
		n->busy_until = (size_t)off + size < n->len
					? now_ns() + LFS_BUSY_NS
					: 0;
	}
	pthread_mutex_unlock(&c->lock);
	if (!served)
		return false;
	if (size && !slice)
		fuse_reply_err(req, ENOMEM);
	else
		fuse_reply_buf(req, slice, size);
	free(slice);
	return true;
}

/* ---- attributes ---- */

static int read_begin(struct lfs_ctx *c, struct ldg_read **r)
{
	return ldg_read_begin(c->store, r, NULL);
}

/* mtime of a path: the time of the entry that last changed it. */
static void set_times(struct ldg_read *r, uint64_t seq, struct stat *st)
{
	struct ldg_entry *e;

	if (seq && ldg_entry_read(r, seq, &e, NULL) == 0) {
		st->st_mtim.tv_sec = (time_t)(e->time_ns / 1000000000u);
		st->st_mtim.tv_nsec = (long)(e->time_ns % 1000000000u);
		ldg_entry_free(e);
	}
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

/* The attributes of path, in one read transaction. For a file, also its
 * content (*buf, malloc'd, when buf is not NULL): the size is exact
 * because it is measured on the rendering. */
static int stat_path(struct lfs_ctx *c, const char *path,
		     const struct lfs_path *p, struct stat *st, char **buf,
		     size_t *len)
{
	const struct lfs_route *route = lfs_route_of(p);
	struct ldg_read *r;
	uint64_t mseq = 0;
	char *content = NULL;
	size_t n = 0;
	int rc;

	rc = read_begin(c, &r);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	if (route->dir) {
		rc = route->exists(r, p, &mseq);
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		rc = route->render(r, p, &content, &n, &mseq);
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)n;
	}
	if (!rc) {
		st->st_ino = path_ino(path);
		st->st_uid = c->uid;
		st->st_gid = c->gid;
		st->st_blksize = 4096;
		st->st_blocks = (blkcnt_t)((n + 511) / 512);
		set_times(r, mseq, st);
	}
	ldg_read_end(r);
	if (!rc && buf) {
		*buf = content;
		*len = n;
	} else {
		free(content);
	}
	return rc;
}

static struct lfs_ctx *req_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ---- lookup, getattr, forget ---- */

static void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct lfs_ctx *c = req_ctx(req);
	struct fuse_entry_param e;
	const struct lfs_route *route;
	struct lfs_path p;
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0, plen;
	bool immutable;
	int rc;

	rc = path_of(c, parent, path);
	if (rc)
		goto out_err;
	plen = strlen(path);
	if (plen + strlen(name) + 2 > sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out_err;
	}
	snprintf(path + plen, sizeof(path) - plen, "%s%s", plen > 1 ? "/" : "",
		 name);
	rc = lfs_parse(path, &p);
	if (rc)
		goto out_err;
	route = lfs_route_of(&p);
	immutable = lfs_immutable(&p);
	memset(&e, 0, sizeof(e));
	rc = stat_path(c, path, &p, &e.attr, &buf, &len);
	if (rc)
		goto out_err;
	e.ino = id_of(&p, path);
	rc = node_ref(c, e.ino, parent, path, route, immutable);
	if (rc) {
		free(buf);
		goto out_err;
	}
	if (!route->dir && !immutable)
		cache_store(c, e.ino, buf, len, &e.attr);
	else
		free(buf);
	e.attr_timeout = immutable ? LFS_FOREVER : LFS_TIMEOUT;
	e.entry_timeout = e.attr_timeout;
	if (fuse_reply_entry(req, &e))
		node_unref(c, e.ino, 1);
	return;
out_err:
	fuse_reply_err(req, -rc);
}

static void do_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct lfs_ctx *c = req_ctx(req);
	struct lfs_path p;
	struct stat st;
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	bool immutable;
	int rc;

	rc = parse_ino(c, ino, path, &p);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	immutable = lfs_immutable(&p);
	rc = stat_path(c, path, &p, &st, &buf, &len);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!lfs_route_of(&p)->dir && !immutable)
		cache_store(c, ino, buf, len, &st);
	else
		free(buf);
	fuse_reply_attr(req, &st, immutable ? LFS_FOREVER : LFS_TIMEOUT);
}

static void do_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_unref(req_ctx(req), ino, nlookup);
	fuse_reply_none(req);
}

static void do_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		node_unref(req_ctx(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* ---- readdir ---- */

struct dir_fill {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	uint64_t dir_hash; /* FNV state after "PATH/" */
	off_t skip;	   /* small dirs: names before this index are sent */
	off_t index;	   /* small dirs: this name's index */
	bool offsets;	   /* the route gives offsets itself */
};

static int add_entry(struct dir_fill *d, const char *name, mode_t mode,
		     uint64_t ino, off_t next)
{
	struct stat st = { 0 };
	size_t need;

	st.st_mode = mode;
	st.st_ino = ino;
	need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used,
				 name, &st, next);
	if (need > d->size - d->used)
		return 1; /* full: the kernel asks again from next */
	d->used += need;
	return 0;
}

static int add_name(void *arg, const char *name, bool dir, off_t next)
{
	struct dir_fill *d = arg;
	mode_t mode = dir ? S_IFDIR : S_IFREG;
	/* the same number stat gives: readdir must never say 0 */
	uint64_t ino = ino_of(fnv(d->dir_hash, name));

	if (d->offsets)
		return add_entry(d, name, mode, ino, next + 2);
	/* small directories are listed whole each time, by index */
	if (++d->index <= d->skip)
		return 0;
	return add_entry(d, name, mode, ino, d->index);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct lfs_ctx *c = req_ctx(req);
	struct dir_fill d = { .req = req, .size = size };
	const struct lfs_route *route;
	struct lfs_path p;
	struct ldg_read *r;
	char path[PATH_MAX];
	uint64_t mseq;
	int rc;

	rc = parse_ino(c, ino, path, &p);
	if (rc)
		goto out_err;
	route = lfs_route_of(&p);
	if (!route->dir) {
		rc = -ENOTDIR;
		goto out_err;
	}
	d.buf = malloc(size);
	if (!d.buf) {
		rc = -ENOMEM;
		goto out_err;
	}
	d.dir_hash = strcmp(path, "/") ? fnv(fnv(FNV_START, path), "/")
				       : fnv(FNV_START, "/");
	d.offsets = route->offsets;
	d.skip = off;
	d.index = 2;
	if (off < 1 && add_entry(&d, ".", S_IFDIR, path_ino(path), 1))
		goto out_reply;
	if (off < 2 && add_entry(&d, "..", S_IFDIR, parent_ino(path), 2))
		goto out_reply;
	rc = read_begin(c, &r);
	if (rc)
		goto out_free;
	rc = route->exists(r, &p, &mseq);
	if (!rc)
		rc = route->list(r, &p, route->offsets && off > 2 ? off - 2 : 0,
				 add_name, &d);
	ldg_read_end(r);
	if (rc)
		goto out_free;
out_reply:
	fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
	return;
out_free:
	free(d.buf);
out_err:
	fuse_reply_err(req, -rc);
}

/* ---- open, read, release ---- */

/* Renders path in one read transaction. */
static int render_path(struct lfs_ctx *c, const struct lfs_path *p, char **buf,
		       size_t *len)
{
	struct ldg_read *r;
	uint64_t mseq;
	int rc = read_begin(c, &r);

	if (rc)
		return rc;
	rc = lfs_route_of(p)->render(r, p, buf, len, &mseq);
	ldg_read_end(r);
	return rc;
}

static void do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lfs_ctx *c = req_ctx(req);
	struct lfs_open *o;
	struct lfs_path p;
	char path[PATH_MAX];
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY ||
	    (fi->flags & (O_TRUNC | O_CREAT))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (c->no_open) {
		/* no OPEN or RELEASE from now on: READs come by inode,
		 * and the page cache lives across opens */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	/* an older kernel: render at open and serve that, as before */
	rc = parse_file(c, ino, path, &p);
	if (rc)
		goto out_err;
	o = calloc(1, sizeof(*o));
	if (!o) {
		rc = -ENOMEM;
		goto out_err;
	}
	rc = render_path(c, &p, &o->buf, &o->len);
	if (rc) {
		free(o);
		goto out_err;
	}
	fi->fh = (uint64_t)(uintptr_t)o;
	if (lfs_immutable(&p))
		fi->keep_cache = 1;
	else
		fi->direct_io = 1;
	if (fuse_reply_open(req, fi)) {
		free(o->buf);
		free(o);
	}
	return;
out_err:
	fuse_reply_err(req, -rc);
}

static void reply_slice(fuse_req_t req, const char *buf, size_t len,
			size_t size, off_t off)
{
	if ((size_t)off >= len)
		size = 0;
	else if (size > len - (size_t)off)
		size = len - (size_t)off;
	fuse_reply_buf(req, size ? buf + off : NULL, size);
}

static void do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct lfs_ctx *c = req_ctx(req);
	struct lfs_open *o = (struct lfs_open *)(uintptr_t)fi->fh;
	struct lfs_path p;
	struct stat st;
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (o) {
		reply_slice(req, o->buf, o->len, size, off);
		return;
	}
	/* a mutable file's READs all come from one rendering */
	if (cache_read(c, req, ino, size, off))
		return;
	rc = parse_file(c, ino, path, &p);
	if (rc)
		goto out_err;
	if (lfs_immutable(&p)) {
		/* the same bytes whenever it is rendered */
		rc = render_path(c, &p, &buf, &len);
		if (rc)
			goto out_err;
		reply_slice(req, buf, len, size, off);
		free(buf);
		return;
	}
	rc = stat_path(c, path, &p, &st, &buf, &len);
	if (rc)
		goto out_err;
	cache_store(c, ino, buf, len, &st);
	if (cache_read(c, req, ino, size, off))
		return;
	rc = -ESTALE; /* forgotten meanwhile */
out_err:
	fuse_reply_err(req, -rc);
}

static void do_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct lfs_open *o = (struct lfs_open *)(uintptr_t)fi->fh;

	if (o) {
		free(o->buf);
		free(o);
	}
	fuse_reply_err(req, 0);
}

/* ---- the head watcher ---- */

struct inval {
	uint64_t id, parent;
	char name[NAME_MAX + 1];
};

/* Drops the renderings of every mutable node (with clock_only, of every
 * node whose content follows the clock) and collects them (and their
 * names) to invalidate in the kernel. Sets *busy when one is in the middle
 * of a read sequence and must be done again. */
static size_t collect_mutable(struct lfs_ctx *c, struct inval **out, bool *busy,
			      bool clock_only)
{
	struct inval *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t now = now_ns();

	pthread_mutex_lock(&c->lock);
	for (size_t b = 0; b < LFS_BUCKETS; b++) {
		for (struct lfs_inode *x = c->table[b]; x; x = x->next) {
			if (x->immutable || (clock_only && !x->clock))
				continue;
			if (x->cached && x->busy_until > now) {
				*busy = true;
				continue;
			}
			free(x->buf);
			x->buf = NULL;
			x->cached = false;
			if (n == cap) {
				struct inval *nv;
				cap = cap ? 2 * cap : 64;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					*busy = true; /* try again */
					goto out_unlock;
				}
				v = nv;
			}
			v[n].id = x->id;
			v[n].parent = x->parent;
			snprintf(v[n].name, sizeof(v[n].name), "%s", x->name);
			n++;
		}
	}
out_unlock:
	pthread_mutex_unlock(&c->lock);
	*out = v;
	return n;
}

/* Polls the head; when it moves, makes the kernel forget what it cached of
 * clusters/, HEAD and the directories whose mtime is the head's. Once a
 * second while it does not, the same for the files that follow the clock
 * (a freeze window opens or closes with no new entry). Never
 * holds c->lock while it talks to the kernel: an invalidation waits for
 * READs in flight, and those need the lock. */
static void *watch_head(void *arg)
{
	struct lfs_ctx *c = arg;
	uint8_t hash[LDG_HASH_BYTES], last_hash[LDG_HASH_BYTES] = { 0 };
	uint64_t seq, last = 0, tick = 0;
	bool again = false;
	struct timespec until;
	struct ldg_read *r;

	for (;;) {
		struct inval *v;
		size_t n;
		bool busy = false, clock_only = false, stop;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += LFS_POLL_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&c->lock);
		while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock,
							  &until) != ETIMEDOUT)
			;
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		/* a commit whose writer was killed before it told the lock
		 * file, which this mount keeps alive: publish it */
		(void)ldg_store_settle(c->store, NULL);
		if (read_begin(c, &r))
			continue;
		if (ldg_head(r, &seq, hash))
			seq = last;
		ldg_read_end(r);
		if (!again && seq == last &&
		    !memcmp(hash, last_hash, sizeof(hash))) {
			if (now_ns() / 1000000000u == tick)
				continue;
			clock_only = true;
		}
		tick = now_ns() / 1000000000u;
		last = seq;
		memcpy(last_hash, hash, sizeof(hash));
		n = collect_mutable(c, &v, &busy, clock_only);
		again = busy;
		for (size_t i = 0; i < n; i++) {
			fuse_lowlevel_notify_inval_inode(c->se, v[i].id, 0, 0);
			if (v[i].parent)
				fuse_lowlevel_notify_inval_entry(
					c->se, v[i].parent, v[i].name,
					strlen(v[i].name));
		}
		free(v);
	}
	return NULL;
}

/* ---- init, destroy ---- */

static void do_init(void *data, struct fuse_conn_info *conn)
{
	struct lfs_ctx *c = data;

	c->no_open = conn->capable & FUSE_CAP_NO_OPEN_SUPPORT;
	/* a new mtime or size from GETATTR drops the page cache */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	/* started here, in the daemon, after the fork */
	c->watching = pthread_create(&c->watcher, NULL, watch_head, c) == 0;
}

/* ---- read-only ---- */

static void ro_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void ro_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, EROFS);
}

static void ro_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	ro_mknod(req, parent, name, mode, 0);
}

static void ro_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ro_mknod(req, parent, name, 0, 0);
}

static void ro_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	ro_mknod(req, parent, name, 0, 0);
}

static void ro_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	ro_mknod(req, parent, name, 0, 0);
}

static void ro_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	ro_mknod(req, newparent, newname, 0, 0);
}

static void ro_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	ro_setattr(req, ino, NULL, 0, fi);
}

static void ro_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	ro_mknod(req, parent, name, mode, 0);
}

static void ro_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	ro_setattr(req, ino, NULL, 0, NULL);
}

static void ro_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	ro_setattr(req, ino, NULL, 0, NULL);
}

static const struct fuse_lowlevel_ops ops = {
	.init = do_init,
	.lookup = do_lookup,
	.forget = do_forget,
	.forget_multi = do_forget_multi,
	.getattr = do_getattr,
	.readdir = do_readdir,
	.open = do_open,
	.read = do_read,
	.release = do_release,
	.setattr = ro_setattr,
	.mknod = ro_mknod,
	.mkdir = ro_mkdir,
	.unlink = ro_unlink,
	.rmdir = ro_unlink,
	.symlink = ro_symlink,
	.rename = ro_rename,
	.link = ro_link,
	.write = ro_write,
	.create = ro_create,
	.setxattr = ro_setxattr,
	.removexattr = ro_removexattr,
};

/* uid=N and gid=N: the owner shown for every file and directory */
static const struct fuse_opt owner_opts[] = {
	{ "uid=%u", offsetof(struct lfs_ctx, uid), 0 },
	{ "gid=%u", offsetof(struct lfs_ctx, gid), 0 },
	FUSE_OPT_END
};

static void free_table(struct lfs_ctx *c)
{
	for (size_t b = 0; b < LFS_BUCKETS; b++) {
		while (c->table[b]) {
			struct lfs_inode *n = c->table[b];
			c->table[b] = n->next;
			free_node(n);
		}
	}
}

/* The daemon's side of the mount: opens the ledger (in this process, so
 * after any fork: an LMDB environment must not cross one) and mounts.
 * Nothing is mounted when the ledger cannot be opened. */
static int open_and_mount(struct lfs_ctx *c, const char *mountpoint,
			  struct ldg_err *err)
{
	int rc;

	/* read-only and MDB_NOTLS: safe for FUSE's worker threads */
	rc = ldg_store_open(c->dir, LDG_OPEN_RDONLY, &c->store, err);
	if (rc)
		return rc;
	if (!ldg_store_origin(c->store)[0])
		rc = ldg_err_set(err, -ENODATA, "%s is not initialised",
				 c->dir);
	else if (fuse_session_mount(c->se, mountpoint))
		rc = ldg_err_set(err, -EIO,
				 "cannot mount on %s (libfuse "
				 "says why above)",
				 mountpoint);
	if (rc) {
		ldg_store_close(c->store);
		c->store = NULL;
	}
	return rc;
}

/* Like fuse_daemonize(), but the parent learns how the daemon's open and
 * mount went before it exits: *status is the pipe to write the daemon's
 * struct ldg_err on (plain data, one write below PIPE_BUF: atomic), or
 * -1 in the parent. Returns 0 in the daemon; in the parent the daemon's
 * result. The fork is safe: no thread runs yet (FUSE's start in the
 * daemon's loop, the head watcher in its init). */
static int daemonize(int *status, struct ldg_err *err)
{
	struct ldg_err got = { 0 };
	int fds[2], st;
	ssize_t n;
	pid_t pid;

	*status = -1;
	if (pipe2(fds, O_CLOEXEC))
		return ldg_err_set(err, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return ldg_err_set(err, -errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		*status = fds[1];
		(void)setsid(); /* a child is never a group leader */
		return 0;
	}
	close(fds[1]);
	do
		n = read(fds[0], &got, sizeof(got));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(got) && got.code == 0)
		return 0;
	/* the daemon failed (it exits) or died before it said */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(got))
		return ldg_err_set(err, -EIO,
				   "the mount daemon died before "
				   "mounting");
	if (err)
		*err = got;
	return got.code;
}

/* Tells the parent the daemon's result, then detaches from the terminal
 * (stdin, stdout and stderr on /dev/null): the parent says how it went,
 * a daemon that failed only exits. */
static void report(int status, int rc, const struct ldg_err *err)
{
	struct ldg_err out = { 0 };
	int null;

	if (status < 0)
		return;
	if (rc) {
		out = *err;
		out.code = rc;
	}
	(void)!write(status, &out, sizeof(out));
	close(status);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

int lfs_run(const char *dir, const char *mountpoint, bool foreground,
	    const char *options, struct ldg_err *err)
{
	struct ldg_err mine = { 0 };
	struct lfs_ctx *c;
	struct fuse_loop_config *loop;
	char *argv[6];
	int argc = 0, status = -1, rc;

	if (!err)
		err = &mine;
	/* POLICY judges freeze windows in their zones: window.c sets TZ
	 * for that, on one thread, while others may read the environment
	 * (the test clock, the settle helper's path). With TZ already set
	 * that setenv() replaces a pointer in place and never reallocates
	 * the environment under a reader. ":/etc/localtime" is what an
	 * unset TZ means; the daemon uses no local time of its own. */
	if (setenv("TZ", ":/etc/localtime", 0))
		return ldg_err_set(err, -errno, "setenv: %s", strerror(errno));
	c = calloc(1, sizeof(*c));
	if (!c)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	c->dir = dir;
	c->uid = getuid();
	c->gid = getgid();
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	argv[argc++] = "ledger";
	if (options) {
		argv[argc++] = "-o";
		argv[argc++] = (char *)options;
	}
	/* last, so that no -o rw can undo it */
	argv[argc++] = "-o";
	argv[argc++] = "ro,default_permissions,fsname=ledger,subtype=ledger";
	argv[argc] = NULL;
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);

	if (fuse_opt_parse(&args, c, owner_opts, NULL)) {
		rc = ldg_err_set(err, -EINVAL, "bad mount options");
		goto out_args;
	}
	c->se = fuse_session_new(&args, &ops, sizeof(ops), c);
	if (!c->se) {
		rc = ldg_err_set(err, -EINVAL,
				 "bad mount options (libfuse "
				 "says why above)");
		goto out_args;
	}
	rc = foreground ? 0 : daemonize(&status, err);
	if (rc || (!foreground && status < 0))
		goto out_destroy; /* a failure, or the parent of a daemon */
	rc = open_and_mount(c, mountpoint, err);
	if (rc == 0 && fuse_set_signal_handlers(c->se))
		rc = ldg_err_set(err, -EIO, "cannot set signal handlers");
	(void)!chdir("/"); /* after the open: dir may be relative */
	report(status, rc, err);
	if (rc)
		goto out_unmount;
	loop = fuse_loop_cfg_create();
	if (!loop) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_signals;
	}
	fuse_loop_cfg_set_max_threads(loop, 16);
	rc = fuse_session_loop_mt(c->se, loop);
	fuse_loop_cfg_destroy(loop);
	/* fusermount3 -u ends the loop with 0; SIGTERM, SIGINT and SIGHUP
	 * with the signal's number: all clean stops */
	if (rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP)
		rc = 0;
	else
		rc = ldg_err_set(err, rc < 0 ? rc : -EIO,
				 "the FUSE session on %s failed", mountpoint);
out_signals:
	fuse_remove_signal_handlers(c->se);
out_unmount:
	if (c->watching) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->watcher, NULL);
	}
	if (c->store) {
		fuse_session_unmount(c->se);
		ldg_store_close(c->store);
	}
out_destroy:
	fuse_session_destroy(c->se);
out_args:
	fuse_opt_free_args(&args);
	free_table(c);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}
