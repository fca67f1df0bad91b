#define FUSE_USE_VERSION 312

#include <errno.h>
#include <signal.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "fs.h"
#include "route.h"
#include "store.h"

/* Seconds the kernel may cache names and attributes. clusters/ and HEAD
 * must show a new entry within one second, and the high-level API has one
 * timeout for all paths; immutable files keep their page cache instead. */
#define LFS_TIMEOUT 1.0

struct lfs_ctx {
	const char *dir;
	struct ldg_store *store; /* opened in init, after the fork */
};

/* A file rendered at open: what every read of this handle serves. */
struct lfs_open {
	char *buf;
	size_t len;
};

static struct lfs_ctx *ctx(void)
{
	return fuse_get_context()->private_data;
}

static int read_begin(struct ldg_read **r)
{
	struct lfs_ctx *c = ctx();

	if (!c->store)
		return -EIO;
	return ldg_read_begin(c->store, r, NULL);
}

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

static ino_t ino_of(uint64_t h)
{
	return (ino_t)(h | 2); /* never 0 (a hole) or 1 (the root) */
}

static ino_t path_ino(const char *path)
{
	return strcmp(path, "/") ? ino_of(fnv(FNV_START, path)) : 1;
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

static int do_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	const struct lfs_route *route;
	struct lfs_path p;
	struct ldg_read *r;
	uint64_t mseq = 0;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	(void)fi;
	rc = lfs_parse(path, &p);
	if (rc)
		return rc;
	route = lfs_route_of(&p);
	rc = read_begin(&r);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	if (route->dir) {
		rc = route->exists(r, &p, &mseq);
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		/* the size is exact: render the content now */
		rc = route->render(r, &p, &buf, &len, &mseq);
		free(buf);
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)len;
	}
	if (!rc) {
		st->st_ino = path_ino(path);
		st->st_uid = getuid();
		st->st_gid = getgid();
		st->st_blksize = 4096;
		st->st_blocks = (blkcnt_t)((len + 511) / 512);
		set_times(r, mseq, st);
	}
	ldg_read_end(r);
	return rc;
}

struct dir_fill {
	void *buf;
	fuse_fill_dir_t filler;
	uint64_t dir_hash; /* FNV state after "PATH/" */
	off_t shift;	   /* offsets 1 and 2 are "." and ".." */
};

static int add_name(void *arg, const char *name, bool dir, off_t next)
{
	struct dir_fill *d = arg;
	struct stat st = { 0 };

	st.st_mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444;
	/* the same number getattr gives: readdir must never say 0 */
	st.st_ino = ino_of(fnv(d->dir_hash, name));
	return d->filler(d->buf, name, &st, next ? next + d->shift : 0, 0);
}

static int do_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct dir_fill d = { buf, filler, 0, 0 };
	const struct lfs_route *route;
	struct lfs_path p;
	struct ldg_read *r;
	uint64_t mseq;
	int rc;

	(void)fi;
	(void)flags;
	rc = lfs_parse(path, &p);
	if (rc)
		return rc;
	route = lfs_route_of(&p);
	if (!route->dir)
		return -ENOTDIR;
	rc = read_begin(&r);
	if (rc)
		return rc;
	d.dir_hash = strcmp(path, "/") ? fnv(fnv(FNV_START, path), "/")
				       : fnv(FNV_START, "/");
	rc = route->exists(r, &p, &mseq);
	if (!rc && !route->offsets) {
		/* small directories are filled whole, without offsets */
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		rc = route->list(r, &p, 0, add_name, &d);
	} else if (!rc) {
		/* huge ones stream: every name carries where to resume */
		d.shift = 2;
		if (off < 1 && filler(buf, ".", NULL, 1, 0))
			goto out_read;
		if (off < 2 && filler(buf, "..", NULL, 2, 0))
			goto out_read;
		rc = route->list(r, &p, off > 2 ? off - 2 : 0, add_name, &d);
	}
out_read:
	ldg_read_end(r);
	return rc;
}

static int do_open(const char *path, struct fuse_file_info *fi)
{
	const struct lfs_route *route;
	struct lfs_open *o;
	struct lfs_path p;
	struct ldg_read *r;
	uint64_t mseq;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY ||
	    (fi->flags & (O_TRUNC | O_CREAT)))
		return -EROFS;
	rc = lfs_parse(path, &p);
	if (rc)
		return rc;
	route = lfs_route_of(&p);
	if (route->dir)
		return -EISDIR;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	rc = read_begin(&r);
	if (!rc) {
		/* rendered once, in one read transaction: never torn */
		rc = route->render(r, &p, &o->buf, &o->len, &mseq);
		ldg_read_end(r);
	}
	if (rc) {
		free(o);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)o;
	if (lfs_immutable(&p)) {
		fi->keep_cache = 1;
	} else {
		/* the size the kernel has may be up to a second old; read
		 * what was rendered now instead of trusting it */
		fi->direct_io = 1;
	}
	return 0;
}

static int do_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct lfs_open *o = (struct lfs_open *)(uintptr_t)fi->fh;

	(void)path;
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= o->len)
		return 0;
	if (size > o->len - (size_t)off)
		size = o->len - (size_t)off;
	memcpy(buf, o->buf + off, size);
	return (int)size;
}

static int do_release(const char *path, struct fuse_file_info *fi)
{
	struct lfs_open *o = (struct lfs_open *)(uintptr_t)fi->fh;

	(void)path;
	if (o) {
		free(o->buf);
		free(o);
	}
	return 0;
}

static void *do_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct lfs_ctx *c = ctx();

	(void)conn;
	cfg->use_ino = 1;
	cfg->entry_timeout = LFS_TIMEOUT;
	cfg->attr_timeout = LFS_TIMEOUT;
	cfg->negative_timeout = 0;
	/* read-only and MDB_NOTLS: safe for FUSE's worker threads */
	if (ldg_store_open(c->dir, LDG_OPEN_RDONLY, &c->store, NULL))
		c->store = NULL;
	return c;
}

static void do_destroy(void *data)
{
	struct lfs_ctx *c = data;

	ldg_store_close(c->store);
	c->store = NULL;
}

static int rofs(void)
{
	return -EROFS;
}

static int ro_path(const char *path)
{
	(void)path;
	return rofs();
}

static int ro_mode(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return rofs();
}

static int ro_two(const char *from, const char *to)
{
	(void)from;
	(void)to;
	return rofs();
}

static int ro_rename(const char *from, const char *to, unsigned int flags)
{
	(void)flags;
	return ro_two(from, to);
}

static int ro_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	return ro_mode(path, mode);
}

static int ro_chown(const char *path, uid_t u, gid_t g,
		    struct fuse_file_info *fi)
{
	(void)u;
	(void)g;
	(void)fi;
	return ro_path(path);
}

static int ro_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)size;
	(void)fi;
	return ro_path(path);
}

static int ro_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	return ro_path(path);
}

static int ro_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	return ro_mode(path, mode);
}

static int ro_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)dev;
	return ro_mode(path, mode);
}

static int ro_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	return ro_path(path);
}

static int ro_setxattr(const char *path, const char *name, const char *value,
		       size_t size, int flags)
{
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	return ro_path(path);
}

static int ro_removexattr(const char *path, const char *name)
{
	(void)name;
	return ro_path(path);
}

static const struct fuse_operations ops = {
	.getattr = do_getattr,
	.readdir = do_readdir,
	.open = do_open,
	.read = do_read,
	.release = do_release,
	.init = do_init,
	.destroy = do_destroy,
	.mknod = ro_mknod,
	.mkdir = ro_mode,
	.unlink = ro_path,
	.rmdir = ro_path,
	.symlink = ro_two,
	.rename = ro_rename,
	.link = ro_two,
	.chmod = ro_chmod,
	.chown = ro_chown,
	.truncate = ro_truncate,
	.write = ro_write,
	.create = ro_create,
	.utimens = ro_utimens,
	.setxattr = ro_setxattr,
	.removexattr = ro_removexattr,
};

int lfs_run(const char *dir, const char *mountpoint, bool foreground,
	    const char *options)
{
	struct lfs_ctx c = { .dir = dir };
	struct fuse_loop_config *loop;
	struct fuse_session *se;
	struct fuse *f;
	char *argv[6];
	int argc = 0, rc = 2;

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

	f = fuse_new(&args, &ops, sizeof(ops), &c);
	if (!f)
		goto out_args;
	se = fuse_get_session(f);
	if (fuse_mount(f, mountpoint))
		goto out_destroy;
	if (fuse_daemonize(foreground) || fuse_set_signal_handlers(se))
		goto out_unmount;
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out_signals;
	fuse_loop_cfg_set_max_threads(loop, 16);
	rc = fuse_loop_mt(f, loop);
	fuse_loop_cfg_destroy(loop);
	/* fusermount3 -u ends the loop with 0; SIGTERM, SIGINT and SIGHUP
	 * with the signal's number: all clean stops */
	rc = (rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP) ? 0 : 2;
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_unmount(f);
out_destroy:
	fuse_destroy(f);
out_args:
	fuse_opt_free_args(&args);
	return rc;
}
