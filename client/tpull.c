/*
 * tpull.c - a copy from a C2SP tlog-tiles host (`ledger mirror
 * --tiles`): its checkpoint, the tiles and bundles that checkpoint's
 * size needs, checked (tileset.h), then appended with the checkpoint in
 * one transaction (ldg_append_copied_checkpoint(): every check of
 * ldg_append_copied(), as clt_pull() appends a server's pages).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client_impl.h"
#include "tileset.h"
#include "verify.h"

int clt_tiles_checkpoint(const char *base, struct ldg_checkpoint *cp,
			 struct ldg_err *err)
{
	char *body = NULL;
	size_t len = 0;
	long status = 0;
	int rc;

	rc = clt_http_static(NULL, base, "/checkpoint", LDG_CHECKPOINT_MAX,
			     &status, &body, &len, err);
	if (rc == -EPROTO)
		ldg_err_set(err, -EPROTO,
			    "%s: its checkpoint is larger than %d bytes: not "
			    "a tiles host",
			    base, LDG_CHECKPOINT_MAX);
	if (rc)
		return rc;
	if (status != 200)
		rc = ldg_err_set(err, -EIO,
				 "%s: GET checkpoint answered HTTP %ld: not a "
				 "tiles host",
				 base, status);
	else if (ldg_checkpoint_parse(body ? body : "", len, cp, err)) {
		ldg_err_prefix(err, "%s: not a tiles host: its checkpoint",
			       base);
		rc = -EPROTO;
		if (err)
			err->code = rc;
	}
	free(body);
	return rc;
}

/* What a pull holds while it runs. */
struct tpull {
	const char *base;
	struct ldg_store *s;
	const struct ldg_checkpoint *cp;
	struct clt_conn *conn; /* one connection for every tile */
	struct clt_tiles t;
	int spool;	  /* the new entries' bytes, in order */
	uint64_t spooled; /* bytes in it */
	uint64_t n;	  /* new entries: cp->size - t.from */
	uint64_t *offs;	  /* each one's offset in the spool */
	size_t *lens;	  /* and length */
	uint64_t taken;	  /* spooled so far */
};

/* GET tile n of level (LDG_TILE_ENTRIES: a bundle) at its width in the
 * checkpoint's tree; a missing partial one is asked for once more as
 * the full tile, which a host may keep instead (C2SP tlog-tiles). A
 * host without it (404, or 403 as a bucket says) is refused (-EPERM):
 * its checkpoint needs it. */
static int fetch(struct tpull *p, int level, uint64_t n, char **body,
		 size_t *len, struct ldg_err *err)
{
	unsigned w = clt_tile_width(p->cp->size, level, n);
	size_t max =
		level == LDG_TILE_ENTRIES ? CLT_BUNDLE_BYTES : LDG_TILE_BYTES;
	char path[1 + LDG_TILE_PATH_MAX], first[LDG_TILE_PATH_MAX];
	long status = 0;
	int rc;

	path[0] = '/';
	ldg_tile_path(level, n, w, path + 1);
	memcpy(first, path + 1, sizeof(first));
	for (;;) {
		rc = clt_http_static(p->conn, p->base, path, max, &status, body,
				     len, err);
		if (rc == -EPROTO)
			rc = ldg_err_set(err, -EPERM,
					 "%s: %s is larger than a tile can be",
					 p->base, path + 1);
		if (rc)
			return rc;
		if (status == 200)
			return 0;
		free(*body);
		*body = NULL;
		if ((status != 404 && status != 403) || w == LDG_TILE_WIDTH)
			break;
		w = LDG_TILE_WIDTH;
		ldg_tile_path(level, n, w, path + 1);
	}
	if (status == 404 || status == 403)
		return ldg_err_set(err, -EPERM,
				   "%s has no %s (HTTP %ld), which its "
				   "checkpoint of %" PRIu64 " entries needs",
				   p->base, first, status, p->cp->size);
	return ldg_err_set(err, -EIO, "%s: GET %s answered HTTP %ld", p->base,
			   path + 1, status);
}

/* Every tile of the set, level by level, put in order. */
static int fetch_tiles(struct tpull *p, struct ldg_err *err)
{
	for (int l = 0; l < p->t.levels; l++) {
		const struct clt_tile_level *v = &p->t.lv[l];
		for (uint64_t n = v->lo; n < v->hi; n++) {
			char *body = NULL;
			size_t len = 0;
			int rc = fetch(p, l, n, &body, &len, err);
			if (!rc) {
				rc = clt_tiles_put(&p->t, l, (uint8_t *)body,
						   len, err);
				if (rc)
					ldg_err_prefix(err, "%s", p->base);
			}
			free(body);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Each bundle the new entries are in, checked against the level-0
 * tiles; the entries after the copy's head go to the spool. */
static int fetch_bundles(struct tpull *p, struct ldg_err *err)
{
	const struct clt_tile_level *v = &p->t.lv[0];
	const uint8_t *bufs[LDG_TILE_WIDTH];
	size_t lens[LDG_TILE_WIDTH];

	for (uint64_t n = v->lo; n < v->hi; n++) {
		char *body = NULL;
		size_t len = 0, count = 0;
		int rc = fetch(p, LDG_TILE_ENTRIES, n, &body, &len, err);
		if (!rc) {
			rc = clt_bundle_split(&p->t, n, (uint8_t *)body, len,
					      bufs, lens, &count, err);
			if (rc)
				ldg_err_prefix(err, "%s", p->base);
		}
		if (!rc && len &&
		    pwrite(p->spool, body, len, (off_t)p->spooled) !=
			    (ssize_t)len)
			rc = ldg_err_set(err, -EIO,
					 "cannot keep the entries in $TMPDIR: "
					 "%s",
					 strerror(errno));
		for (size_t k = 0; !rc && k < count; k++) {
			if (n * LDG_TILE_WIDTH + k < p->t.from)
				continue;
			p->offs[p->taken] =
				p->spooled +
				(uint64_t)(bufs[k] - (uint8_t *)body);
			p->lens[p->taken++] = lens[k];
		}
		p->spooled += len;
		free(body);
		if (rc)
			return rc;
	}
	return 0;
}

/* An error of the copy's store, worded for a pull from base: what the
 * host served is refused (-EPERM), or the store's own trouble. */
static int refusal(const char *base, int rc, struct ldg_err *err)
{
	ldg_err_prefix(err, "from %s", base);
	if (clt_refused(rc)) {
		rc = -EPERM;
		if (err)
			err->code = rc;
	}
	return rc;
}

/* The spooled entries and then the checkpoint, in one transaction
 * (ldg_append_copied_checkpoint()): all of it, or nothing. */
static int append(struct tpull *p, clt_page_fn fn, void *arg,
		  struct clt_pulled *out, struct ldg_err *err)
{
	struct ldg_result res = { 0 };
	const uint8_t **bufs;
	uint8_t *map;
	int rc;

	bufs = malloc(p->n * sizeof(*bufs));
	if (!bufs)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	map = mmap(NULL, p->spooled, PROT_READ, MAP_PRIVATE, p->spool, 0);
	if (map == MAP_FAILED) {
		rc = ldg_err_set(err, -errno,
				 "cannot read the entries kept in "
				 "$TMPDIR: %s",
				 strerror(errno));
		free(bufs);
		return rc;
	}
	for (uint64_t i = 0; i < p->n; i++)
		bufs[i] = map + p->offs[i];
	rc = ldg_append_copied_checkpoint(p->s, bufs, p->lens, p->n, p->cp,
					  &res, err);
	if (rc) {
		rc = refusal(p->base, rc, err);
	} else {
		out->head = res.v[res.n - 1].seq;
		memcpy(out->hash, res.v[res.n - 1].hash, LDG_HASH_BYTES);
		out->added = res.n;
		if (fn)
			fn(out->head, arg);
	}
	ldg_result_free(&res);
	munmap(map, p->spooled);
	free(bufs);
	return rc;
}

/* A private file in $TMPDIR, gone once closed. */
static int spool_open(struct ldg_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/ledger-tiles-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return ldg_err_set(err, -errno,
				   "cannot create a file in $TMPDIR: %s",
				   strerror(errno));
	unlink(path);
	return fd;
}

/* The copy's root at its size must be the tiles' at that size. */
static int same_prefix(struct tpull *p, struct ldg_err *err)
{
	uint8_t mine[LDG_HASH_BYTES], theirs[LDG_HASH_BYTES];
	struct ldg_read *r;
	int rc;

	rc = ldg_read_begin(p->s, &r, err);
	if (rc)
		return rc;
	rc = ldg_merkle_root_at(r, p->t.from, mine);
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc,
				   "cannot read the tree of this copy's "
				   "%" PRIu64 " entries",
				   p->t.from);
	if (p->t.from == p->cp->size)
		memcpy(theirs, p->cp->root, LDG_HASH_BYTES);
	else
		rc = ldg_tlog_root(clt_tiles_node, &p->t, p->t.from, theirs);
	if (rc)
		return ldg_err_set(err, rc, "cannot hash the tiles to a root");
	if (memcmp(mine, theirs, LDG_HASH_BYTES))
		return ldg_err_set(err, -EPERM,
				   "the first %" PRIu64 " entries of this copy "
				   "are not those of the tree %s serves: "
				   "another ledger of origin \"%s\", or a "
				   "rewritten history",
				   p->t.from, p->base, p->cp->origin);
	return 0;
}

/* Nothing new: the checkpoint is signed by a key of the copy's keyring
 * (there by its size, not revoked) and its root is the copy's, what
 * `ledger verify --checkpoint` asks (ldg_checkpoint_check()). */
static int signed_here(struct tpull *p, struct ldg_err *err)
{
	struct ldg_read *r;
	int rc;

	rc = ldg_read_begin(p->s, &r, err);
	if (rc)
		return rc;
	rc = ldg_checkpoint_check(r, p->cp, err);
	ldg_read_end(r);
	return rc ? refusal(p->base, rc, err) : 0;
}

int clt_tiles_pull(const char *base, struct ldg_store *s,
		   const struct ldg_checkpoint *cp, clt_page_fn fn, void *arg,
		   struct clt_pulled *out, struct ldg_err *err)
{
	struct tpull p = { .base = base, .s = s, .cp = cp, .spool = -1 };
	const char *origin = ldg_store_origin(s);
	struct ldg_read *r;
	uint64_t head;
	int rc;

	memset(out, 0, sizeof(*out));
	if (origin[0] && strcmp(origin, cp->origin))
		return ldg_err_set(err, -EPERM,
				   "this copy holds ledger \"%s\"; %s serves "
				   "\"%s\"",
				   origin, base, cp->origin);
	rc = ldg_read_begin(s, &r, err);
	if (rc)
		return rc;
	rc = ldg_head(r, &head, out->hash);
	ldg_read_end(r);
	if (rc)
		return ldg_err_set(err, rc, "cannot read the head of the copy");
	out->head = head;
	if (head > cp->size)
		return ldg_err_set(err, -EPERM,
				   "this copy has %" PRIu64 " entries, the "
				   "checkpoint of %s only %" PRIu64 ": entries "
				   "were removed from its tree (or this copy "
				   "was written to)",
				   head, base, cp->size);
	rc = clt_tiles_init(&p.t, head, cp->size);
	if (rc)
		return ldg_err_set(err, rc, "out of memory");
	p.n = cp->size - head;
	if (p.n) {
		p.conn = clt_conn_open();
		p.offs = calloc(p.n, sizeof(*p.offs));
		p.lens = calloc(p.n, sizeof(*p.lens));
		if (!p.conn || !p.offs || !p.lens) {
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
			goto out_free;
		}
		rc = fetch_tiles(&p, err);
		if (!rc) {
			rc = clt_tiles_check(&p.t, cp->root, err);
			if (rc)
				ldg_err_prefix(err, "%s", base);
		}
		if (rc)
			goto out_free;
	}
	if (head)
		rc = same_prefix(&p, err);
	if (!rc && !p.n)
		rc = signed_here(&p, err);
	if (rc || !p.n)
		goto out_free;
	rc = spool_open(err);
	if (rc < 0)
		goto out_free;
	p.spool = rc;
	rc = fetch_bundles(&p, err);
	if (!rc)
		rc = append(&p, fn, arg, out, err);
out_free:
	clt_conn_close(p.conn);
	if (p.spool >= 0)
		close(p.spool);
	free(p.offs);
	free(p.lens);
	clt_tiles_free(&p.t);
	return rc;
}
