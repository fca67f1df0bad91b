#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tiles.h"
#include "util.h"

/* How many perfect subtrees of height 8 * level the tree of size
 * leaves has complete. */
static uint64_t complete_at(uint64_t size, int level)
{
	return level >= 8 ? 0 : size >> (8 * level);
}

/* Whether the first n * 256 + width items of a row of have are there
 * (without overflow). */
static bool row_has(uint64_t have, uint64_t n, unsigned width)
{
	return have >= width && n <= (have - width) / LDG_TILE_WIDTH;
}

int ldg_tile_read(struct ldg_read *r, int level, uint64_t n, unsigned width,
		  uint8_t out[LDG_TILE_BYTES], struct ldg_err *err)
{
	uint64_t head;
	int rc;

	if (level < 0 || level > 63 || width < 1 || width > LDG_TILE_WIDTH)
		return ldg_err_set(err, -EINVAL,
				   "no tile of level %d, width %u", level,
				   width);
	rc = ldg_head(r, &head, NULL);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head");
	if (!row_has(complete_at(head, level), n, width))
		return ldg_err_set(err, -ENOENT,
				   "the tree of %llu entries has no tile %d/%llu "
				   "of width %u",
				   (unsigned long long)head, level,
				   (unsigned long long)n, width);
	for (unsigned i = 0; i < width; i++) {
		rc = ldg_store_node(r, 8u * (unsigned)level,
				    n * LDG_TILE_WIDTH + i,
				    out + (size_t)i * LDG_HASH_BYTES);
		if (rc)
			return ldg_err_set(err, rc,
					   "cannot read hash %u of tile "
					   "%d/%llu: %s",
					   i, level, (unsigned long long)n,
					   strerror(-rc));
	}
	return 0;
}

int ldg_bundle_read(struct ldg_read *r, uint64_t n, unsigned width,
		    uint8_t **out, size_t *len, struct ldg_err *err)
{
	uint64_t head, first = n * LDG_TILE_WIDTH + 1;
	size_t cap = 0, at = 0;
	uint8_t *buf = NULL;
	int rc;

	*out = NULL;
	*len = 0;
	if (width < 1 || width > LDG_TILE_WIDTH)
		return ldg_err_set(err, -EINVAL, "no bundle of width %u",
				   width);
	rc = ldg_head(r, &head, NULL);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head");
	if (!row_has(head, n, width))
		return ldg_err_set(err, -ENOENT,
				   "the tree of %llu entries has no entry "
				   "bundle %llu of width %u",
				   (unsigned long long)head,
				   (unsigned long long)n, width);
	for (unsigned i = 0; i < width; i++) {
		const uint8_t *e;
		size_t elen;

		rc = ldg_entry_raw(r, first + i, &e, &elen);
		if (rc) {
			ldg_err_set(err, rc, "cannot read entry %llu: %s",
				    (unsigned long long)(first + i),
				    strerror(-rc));
			goto out_free;
		}
		if (elen > LDG_BUNDLE_ENTRY_MAX) {
			rc = ldg_err_set(err, -EFBIG,
					 "entry %llu is %zu bytes, more than "
					 "an entry bundle holds (%u): it was "
					 "written before new entries were "
					 "capped",
					 (unsigned long long)(first + i), elen,
					 LDG_BUNDLE_ENTRY_MAX);
			goto out_free;
		}
		if (cap - at < 2 + elen) {
			size_t want = cap ? cap * 2 : 64 * 1024;
			uint8_t *grown;

			while (want - at < 2 + elen)
				want *= 2;
			grown = realloc(buf, want);
			if (!grown) {
				rc = ldg_err_set(err, -ENOMEM, "out of memory");
				goto out_free;
			}
			buf = grown;
			cap = want;
		}
		buf[at] = (uint8_t)(elen >> 8);
		buf[at + 1] = (uint8_t)elen;
		memcpy(buf + at + 2, e, elen);
		at += 2 + elen;
	}
	*out = buf;
	*len = at;
	return 0;
out_free:
	free(buf);
	return rc;
}

int ldg_tile_bytes(struct ldg_read *r, int level, uint64_t n, unsigned width,
		   uint8_t **out, size_t *len, struct ldg_err *err)
{
	int rc;

	if (level == LDG_TILE_ENTRIES)
		return ldg_bundle_read(r, n, width, out, len, err);
	*len = 0;
	*out = malloc(LDG_TILE_BYTES);
	if (!*out)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_tile_read(r, level, n, width, *out, err);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*len = (size_t)width * LDG_HASH_BYTES;
	return 0;
}

int ldg_tiles_added(uint64_t old, uint64_t new,
		    int (*fn)(void *arg, const struct ldg_tile *t), void *arg,
		    uint64_t *count)
{
	uint64_t calls = 0;
	int rc = 0;

	if (count)
		*count = 0;
	if (old > new)
		return -EINVAL;
	/* bundles, then level 0 up to the highest with a tile */
	for (int level = LDG_TILE_ENTRIES; level <= 63 && !rc; level++) {
		uint64_t full_old, full_new;
		unsigned part_old, part_new;
		struct ldg_tile t = { .level = level };

		ldg_tile_count(old, level, &full_old, &part_old);
		ldg_tile_count(new, level, &full_new, &part_new);
		if (level >= 0 && full_new == 0 && part_new == 0)
			break;
		t.width = LDG_TILE_WIDTH;
		for (t.n = full_old; t.n < full_new && !rc; t.n++, calls++)
			rc = fn(arg, &t);
		if (rc || !part_new ||
		    (full_old == full_new && part_old == part_new))
			continue;
		t.n = full_new;
		t.width = part_new;
		rc = fn(arg, &t);
		calls++;
	}
	if (count)
		*count = calls;
	return rc;
}

int ldg_signable_head(struct ldg_read *r, uint64_t *size,
		      uint8_t root[LDG_HASH_BYTES], struct ldg_err *err)
{
	uint64_t bad = 0;
	int rc = ldg_head(r, size, NULL);

	if (!rc)
		rc = ldg_merkle_root_at(r, *size, root);
	if (!rc)
		rc = ldg_merkle_check_tail(r, *size, &bad);
	if (rc == -EBADMSG)
		return ldg_err_set(err, -EPERM,
				   "refusing to sign: the stored Merkle tree "
				   "does not match the entries (under entry "
				   "%llu); run ledger verify",
				   (unsigned long long)bad);
	if (rc)
		return ldg_err_set(err, -EIO, "cannot read the tree head");
	return 0;
}

/* ---- the directory tree ---- */

/* fsync of the directory path names. */
static int sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

struct tree_out {
	struct ldg_read *r;
	const char *dir;
	int work;  /* DIR/LDG_TILES_WORK, locked: the temporary files */
	bool made; /* this run made the work directory */
	char path[PATH_MAX];
	ldg_tiles_progress_fn progress;
	void *arg;
	struct timespec last; /* of the last progress call */
	bool reported;	      /* a progress call was made */
	uint64_t total;
	struct ldg_tiles_stats *stats;
	struct ldg_err *err;
};

/* Makes, locks (flock: one export at a time writes a dir, so a slower
 * run never puts back an older checkpoint) and empties the work
 * directory: a killed run's temporary files are there, never among the
 * tiles. x->work is its descriptor, holding the lock; x->made says
 * whether this run made it (a refusal removes it again). */
static int work_begin(struct tree_out *x)
{
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(x->path, sizeof(x->path), "%s/" LDG_TILES_WORK, x->dir);
	x->made = mkdir(x->path, 0755) == 0;
	if (!x->made && errno != EEXIST)
		return ldg_err_set(x->err, -errno, "%s: %s", x->path,
				   strerror(errno));
	x->work = open(x->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->work < 0)
		return ldg_err_set(x->err, -errno, "%s: %s", x->path,
				   strerror(errno));
	if (flock(x->work, LOCK_EX | LOCK_NB))
		return ldg_err_set(x->err,
				   errno == EWOULDBLOCK ? -EBUSY : -errno,
				   "%s: another export is writing it", x->dir);
	fd = dup(x->work);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return ldg_err_set(x->err, -e, "%s: %s", x->path, strerror(e));
	}
	for (de = readdir(d); de; de = readdir(d))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(x->work, de->d_name, 0);
	closedir(d);
	return 0;
}

static int count_one(void *arg, const struct ldg_tile *t)
{
	(void)arg;
	(void)t;
	return 0;
}

/* Writes len bytes of buf to x->path: to a temporary file in the work
 * directory, renamed into place; its directories made as needed. Synced
 * (the file, then its directory) when sync; else the caller syncs the
 * file system once, before the checkpoint names it. */
static int put_file(struct tree_out *x, const uint8_t *buf, size_t len,
		    bool sync)
{
	char tmp[PATH_MAX + 32], *slash = strrchr(x->path, '/');
	size_t done = 0;
	int fd, rc = 0;

	*slash = '\0';
	rc = ldg_mkdir_p(x->path, 0755);
	*slash = '/';
	if (rc)
		return ldg_err_set(x->err, rc,
				   "%s: cannot make its directory: "
				   "%s",
				   x->path, strerror(-rc));
	snprintf(tmp, sizeof(tmp), "%s/" LDG_TILES_WORK "/tmp.XXXXXX", x->dir);
	fd = mkstemp(tmp);
	if (fd < 0 || fchmod(fd, 0644)) {
		rc = -errno;
		goto out_close;
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out_close;
		}
		done += (size_t)n;
	}
	if (sync && fsync(fd)) {
		rc = -errno;
		goto out_close;
	}
	rc = close(fd) ? -errno : 0;
	fd = -1;
	if (!rc && rename(tmp, x->path))
		rc = -errno;
	if (!rc && sync)
		rc = sync_dir(x->dir);
out_close:
	if (fd >= 0)
		close(fd);
	if (rc) {
		unlink(tmp);
		return ldg_err_set(x->err, rc, "%s: %s", x->path,
				   strerror(-rc));
	}
	return 0;
}

static void report(struct tree_out *x, bool last)
{
	struct timespec now;

	if (!x->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* every 2 s of a long run, and its end once there was one */
	if (last ? !x->reported : now.tv_sec - x->last.tv_sec < 2)
		return;
	x->last = now;
	x->reported = true;
	x->progress(x->arg, x->stats->tiles, x->total);
}

static int export_one(void *arg, const struct ldg_tile *t)
{
	struct tree_out *x = arg;
	char rel[LDG_TILE_PATH_MAX];
	uint8_t *buf;
	size_t len;
	int rc = ldg_tile_path(t->level, t->n, t->width, rel);

	if (rc < 0)
		return ldg_err_set(x->err, rc, "no path for tile %d/%llu",
				   t->level, (unsigned long long)t->n);
	if ((size_t)snprintf(x->path, sizeof(x->path), "%s/%s", x->dir, rel) >=
	    sizeof(x->path))
		return ldg_err_set(x->err, -ENAMETOOLONG, "%s/%s: too long",
				   x->dir, rel);
	rc = ldg_tile_bytes(x->r, t->level, t->n, t->width, &buf, &len, x->err);
	if (rc)
		return rc;
	rc = put_file(x, buf, len, false);
	free(buf);
	if (rc)
		return rc;
	x->stats->tiles++;
	x->stats->bytes += len;
	report(x, false);
	return 0;
}

/* The size of the tree dir holds (its checkpoint's; 0 without one), or
 * -EEXIST when it is not a prefix of this ledger's tree of size max. */
static int held_size(struct tree_out *x, const char *origin, uint64_t max,
		     uint64_t *size)
{
	struct held {
		char text[LDG_CHECKPOINT_MAX + 1];
		struct ldg_checkpoint cp;
	} *h = malloc(sizeof(*h));
	struct ldg_checkpoint *old;
	uint8_t root[LDG_HASH_BYTES];
	struct ldg_err why = { 0 };
	char *text;
	size_t len;
	int rc;

	*size = 0;
	if (!h)
		return ldg_err_set(x->err, -ENOMEM, "out of memory");
	old = &h->cp;
	text = h->text;
	snprintf(x->path, sizeof(x->path), "%s/checkpoint", x->dir);
	rc = ldg_read_small(x->path, "a checkpoint", text, sizeof(h->text),
			    &len, NULL, &why);
	if (rc == -ENOENT) {
		rc = 0;
		goto out_free;
	}
	if (!rc)
		rc = ldg_checkpoint_parse(text, len, old, &why);
	if (rc) {
		rc = ldg_err_set(x->err, -EEXIST, "%s holds another tree: %s",
				 x->dir, why.msg);
		goto out_free;
	}
	if (strcmp(old->origin, origin)) {
		rc = ldg_err_set(x->err, -EEXIST,
				 "%s holds another tree: its checkpoint is of "
				 "origin \"%s\", this ledger's is \"%s\"",
				 x->dir, old->origin, origin);
		goto out_free;
	}
	if (old->size > max) {
		rc = ldg_err_set(x->err, -EEXIST,
				 "%s holds another tree: its checkpoint is of "
				 "%llu entries, more than the %llu exported",
				 x->dir, (unsigned long long)old->size,
				 (unsigned long long)max);
		goto out_free;
	}
	rc = ldg_merkle_root_at(x->r, old->size, root);
	if (rc) {
		ldg_err_set(x->err, rc, "cannot read the root at %llu",
			    (unsigned long long)old->size);
		goto out_free;
	}
	if (memcmp(root, old->root, LDG_HASH_BYTES)) {
		rc = ldg_err_set(x->err, -EEXIST,
				 "%s holds another tree: its checkpoint's root "
				 "of %llu entries is not this ledger's",
				 x->dir, (unsigned long long)old->size);
		goto out_free;
	}
	*size = old->size;
out_free:
	free(h);
	return rc;
}

int ldg_tiles_export(struct ldg_read *r, const char *dir,
		     const struct ldg_checkpoint *cp, const char *note,
		     size_t len, ldg_tiles_progress_fn progress, void *arg,
		     struct ldg_tiles_stats *stats, struct ldg_err *err)
{
	struct tree_out x = { .r = r,
			      .dir = dir,
			      .work = -1,
			      .progress = progress,
			      .arg = arg,
			      .stats = stats,
			      .err = err };
	int rc;

	memset(stats, 0, sizeof(*stats));
	stats->size = cp->size;
	/* every path under dir fits x.path: none is cut to name another */
	if (strlen(dir) + 1 + LDG_TILE_PATH_MAX > sizeof(x.path))
		return ldg_err_set(err, -ENAMETOOLONG,
				   "%.40s...: too long for the paths of tiles "
				   "under it",
				   dir);
	rc = ldg_mkdir_p(dir, 0755);
	if (rc)
		return ldg_err_set(err, rc, "%s: %s", dir, strerror(-rc));
	rc = work_begin(&x);
	if (rc)
		goto out_unlock;
	rc = held_size(&x, cp->origin, cp->size, &stats->old_size);
	if (rc) {
		/* a dir of another tree is left as it was */
		if (x.made) {
			snprintf(x.path, sizeof(x.path), "%s/" LDG_TILES_WORK,
				 dir);
			rmdir(x.path);
		}
		goto out_unlock;
	}
	ldg_tiles_added(stats->old_size, cp->size, count_one, NULL, &x.total);
	clock_gettime(CLOCK_MONOTONIC, &x.last);
	rc = ldg_tiles_added(stats->old_size, cp->size, export_one, &x, NULL);
	if (rc)
		goto out_unlock;
	report(&x, true);
	/* every tile on disk before the checkpoint that names them */
	if (syncfs(x.work)) {
		rc = ldg_err_set(err, -errno, "%s: %s", dir, strerror(errno));
		goto out_unlock;
	}
	snprintf(x.path, sizeof(x.path), "%s/checkpoint", dir);
	rc = put_file(&x, (const uint8_t *)note, len, true);
	if (!rc)
		stats->bytes += len;
out_unlock:
	if (x.work >= 0)
		close(x.work);
	return rc;
}
