/*
 * witness.c - the logs file, the add-checkpoint body and the witness's
 * store (witness.h).
 */
#include <errno.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"
#include "witness.h"

#define B64_HASH 44 /* base64 of 32 bytes, with its padding */
/* the logs file: a line is a key name, an origin and a key at most */
#define LOGS_FILE_MAX (1u << 20)
/* the witness's map: one checkpoint of at most a body per origin */
#define WITNESS_MAPSIZE (64u << 20)

/* ---- the logs file ---- */

/* One `log ORIGIN VKEY` line (no "\n"): the origin is everything
 * between "log " and the last space, so that an origin may hold
 * spaces; the key, as keys.h writes it, holds none. */
static int parse_log_line(char *line, size_t no, struct ldg_witness_log *out,
			  struct ldg_err *err)
{
	char *key = strrchr(line, ' ');
	struct ldg_err kerr = { 0 };

	if (strncmp(line, "log ", 4) || !key || key < line + 4)
		return ldg_err_set(err, -EINVAL,
				   "line %zu: expected \"log ORIGIN KEY\"", no);
	*key++ = '\0';
	if (ldg_check_origin(line + 4, &kerr))
		return ldg_err_set(err, -EINVAL, "line %zu: %s", no, kerr.msg);
	if (ldg_vkey_parse(key, &out->key, &kerr))
		return ldg_err_set(err, -EINVAL, "line %zu: %s", no, kerr.msg);
	snprintf(out->origin, sizeof(out->origin), "%s", line + 4);
	return 0;
}

int ldg_witness_logs_parse(const char *text, struct ldg_witness_logs *out,
			   struct ldg_err *err)
{
	struct ldg_witness_logs l = { 0 };
	char *copy = strdup(text), *line, *next;
	size_t no = 0;
	int rc = 0;

	if (!copy)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	for (line = copy; line && !rc; line = next) {
		struct ldg_witness_log *grown;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		if (*line == '\0' || *line == '#')
			continue;
		if (l.n == LDG_WITNESS_LOGS_MAX) {
			rc = ldg_err_set(err, -EINVAL,
					 "line %zu: more than %d logs", no,
					 LDG_WITNESS_LOGS_MAX);
			break;
		}
		grown = realloc(l.v, (l.n + 1) * sizeof(*l.v));
		if (!grown) {
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		l.v = grown;
		rc = parse_log_line(line, no, &l.v[l.n], err);
		for (size_t i = 0; !rc && i < l.n; i++)
			if (!strcmp(l.v[i].origin, l.v[l.n].origin) &&
			    !memcmp(l.v[i].key.pk, l.v[l.n].key.pk,
				    LDG_PK_BYTES))
				rc = ldg_err_set(err, -EINVAL,
						 "line %zu: log \"%s\" with "
						 "key \"%s\" again",
						 no, l.v[l.n].origin,
						 l.v[l.n].key.name);
		if (!rc)
			l.n++;
	}
	free(copy);
	if (!rc && l.n == 0)
		rc = ldg_err_set(err, -EINVAL,
				 "no \"log ORIGIN KEY\" line: the witness "
				 "would trust no log");
	if (rc) {
		free(l.v);
		return rc;
	}
	*out = l;
	return 0;
}

int ldg_witness_logs_load(const char *path, struct ldg_witness_logs *out,
			  struct ldg_err *err)
{
	char *buf = malloc(LOGS_FILE_MAX);
	size_t len;
	int rc;

	if (!buf)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_read_small(path, "a logs file", buf, LOGS_FILE_MAX, &len, NULL,
			    err);
	if (!rc && memchr(buf, '\0', len))
		rc = ldg_err_set(err, -EINVAL, "%s: binary, not a logs file",
				 path);
	if (!rc) {
		rc = ldg_witness_logs_parse(buf, out, err);
		if (rc)
			ldg_err_prefix(err, "%s", path);
	}
	free(buf);
	return rc;
}

void ldg_witness_logs_free(struct ldg_witness_logs *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- the request body ---- */

int ldg_witness_req_parse(const char *body, size_t len,
			  struct ldg_witness_req *out, struct ldg_err *err)
{
	const char *p = body, *end = body + len, *nl;
	char num[24];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len > LDG_WITNESS_BODY_MAX)
		return ldg_err_set(err, -EINVAL,
				   "the body is larger than %d bytes",
				   LDG_WITNESS_BODY_MAX);
	nl = memchr(p, '\n', len);
	if (!nl || (size_t)(nl - p) < 5 || memcmp(p, "old ", 4))
		return ldg_err_set(err, -EINVAL,
				   "the first line is not \"old SIZE\"");
	n = (size_t)(nl - p - 4);
	if (n >= sizeof(num))
		return ldg_err_set(err, -EINVAL, "old size: not a size");
	memcpy(num, p + 4, n);
	num[n] = '\0';
	/* "0", or digits without a leading zero */
	if (strcmp(num, "0") && ldg_parse_dec(num, 1, UINT64_MAX, &out->old))
		return ldg_err_set(err, -EINVAL,
				   "old size \"%s\": not a decimal size "
				   "without leading zeros",
				   num);
	for (p = nl + 1;; p = nl + 1) {
		size_t got;
		nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		if (!nl)
			return ldg_err_set(err, -EINVAL,
					   "no empty line before the "
					   "checkpoint");
		if (nl == p)
			break;
		if (out->n_proof == LDG_WITNESS_PROOF_MAX)
			return ldg_err_set(err, -EINVAL,
					   "more than %d consistency proof "
					   "lines",
					   LDG_WITNESS_PROOF_MAX);
		if ((size_t)(nl - p) != B64_HASH ||
		    sodium_base642bin(out->proof[out->n_proof], LDG_HASH_BYTES,
				      p, B64_HASH, NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) ||
		    got != LDG_HASH_BYTES)
			return ldg_err_set(err, -EINVAL,
					   "proof line %zu: not the base64 of "
					   "a 32-byte hash",
					   out->n_proof + 1);
		out->n_proof++;
	}
	p = nl + 1;
	if (p == end || end[-1] != '\n')
		return ldg_err_set(err, -EINVAL,
				   "the checkpoint does not end in a newline");
	if (ldg_checkpoint_parse(p, (size_t)(end - p), &out->cp, err))
		return -EINVAL;
	out->note = p;
	out->note_len = (size_t)(end - p);
	return 0;
}

int ldg_witness_req_format(uint64_t old, const uint8_t proof[][LDG_HASH_BYTES],
			   size_t n, const char *note, char **out, size_t *len)
{
	size_t cap = 32 + n * (B64_HASH + 1) + 1 + strlen(note) + 1, at;
	char *b;

	*out = NULL;
	if (n > LDG_WITNESS_PROOF_MAX)
		return -EINVAL;
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	at = (size_t)snprintf(b, cap, "old %llu\n", (unsigned long long)old);
	for (size_t i = 0; i < n; i++) {
		sodium_bin2base64(b + at, B64_HASH + 1, proof[i],
				  LDG_HASH_BYTES,
				  sodium_base64_VARIANT_ORIGINAL);
		at += B64_HASH;
		b[at++] = '\n';
	}
	at += (size_t)snprintf(b + at, cap - at, "\n%s", note);
	*out = b;
	*len = at;
	return 0;
}

/* ---- the store ---- */

struct ldg_witness {
	MDB_env *env;
	MDB_dbi dbi;
};

/* An MDB_* code or errno as a negative errno. */
static int mdb_errno(int rc)
{
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc == MDB_MAP_FULL)
		return -ENOSPC;
	if (rc > 0 && rc < MDB_KEYEXIST)
		return -rc; /* an errno */
	return -EIO;
}

int ldg_witness_open(const char *dir, struct ldg_witness **out,
		     struct ldg_err *err)
{
	struct ldg_witness *w = calloc(1, sizeof(*w));
	MDB_txn *txn = NULL;
	int rc;

	if (!w)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_mkdir_p(dir, 0700);
	if (rc) {
		ldg_err_set(err, rc, "%s: %s", dir, strerror(-rc));
		goto out_free;
	}
	rc = mdb_env_create(&w->env);
	if (!rc)
		rc = mdb_env_set_mapsize(w->env, WITNESS_MAPSIZE);
	if (!rc)
		rc = mdb_env_open(w->env, dir, MDB_NOTLS, 0600);
	if (!rc)
		rc = mdb_txn_begin(w->env, NULL, 0, &txn);
	if (!rc)
		rc = mdb_dbi_open(txn, NULL, 0, &w->dbi);
	if (!rc) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (rc) {
		mdb_txn_abort(txn);
		ldg_err_set(err, mdb_errno(rc),
			    "%s: cannot open the witness's "
			    "database: %s",
			    dir, mdb_strerror(rc));
		rc = mdb_errno(rc);
		goto out_close;
	}
	*out = w;
	return 0;
out_close:
	mdb_env_close(w->env);
out_free:
	free(w);
	return rc;
}

void ldg_witness_close(struct ldg_witness *w)
{
	if (!w)
		return;
	mdb_env_close(w->env);
	free(w);
}

/* A stored value: size (8 bytes, big-endian) || root || the note. */
#define STORED_HEAD (8 + LDG_HASH_BYTES)

/* Whether one of the log's keys signed cp, and none of them badly. */
static enum ldg_witness_verdict check_signed(const struct ldg_witness_logs *l,
					     const struct ldg_checkpoint *cp)
{
	bool known = false, good = false;

	for (size_t i = 0; i < l->n; i++) {
		int rc;
		if (strcmp(l->v[i].origin, cp->origin))
			continue;
		known = true;
		rc = ldg_checkpoint_verify(cp, &l->v[i].key);
		if (rc == -EBADMSG)
			return LDG_WIT_UNTRUSTED;
		good |= rc == 0;
	}
	if (!known)
		return LDG_WIT_UNKNOWN_LOG;
	return good ? LDG_WIT_COSIGNED : LDG_WIT_UNTRUSTED;
}

/* Whether one (a checkpoint with one signature) is signed by a key of
 * its log. */
static bool by_the_log(const struct ldg_witness_logs *l,
		       const struct ldg_checkpoint *one)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].origin, one->origin) &&
		    ldg_checkpoint_verify(one, &l->v[i].key) == 0)
			return true;
	return false;
}

/* The note to keep of rq: its text and those of its signature lines
 * that verify by a key of the log, not what else a sender appended
 * (anyone may resend a log's checkpoint with lines of their own, and
 * what is kept is what GET /checkpoint serves). *out malloc'd, *len
 * bytes (at most rq's note's). */
static int kept_note(const struct ldg_witness_logs *l,
		     const struct ldg_witness_req *rq, char **out, size_t *len)
{
	const size_t head = rq->cp.text_len + 1; /* the text, the blank */
	const char *p = rq->note + head, *end = rq->note + rq->note_len;
	struct ldg_checkpoint *one = malloc(sizeof(*one));
	char *keep = malloc(rq->note_len), *tmp = malloc(rq->note_len);
	size_t at = head;

	*out = NULL;
	if (!one || !keep || !tmp) {
		free(one);
		free(keep);
		free(tmp);
		return -ENOMEM;
	}
	memcpy(keep, rq->note, head);
	memcpy(tmp, rq->note, head);
	/* the note ends in "\n" (ldg_witness_req_parse()) */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)(nl + 1 - p);
		memcpy(tmp + head, p, ll);
		if (!ldg_checkpoint_parse(tmp, head + ll, one, NULL) &&
		    one->n_sigs == 1 && !one->sigs[0].cosig &&
		    by_the_log(l, one)) {
			memcpy(keep + at, p, ll);
			at += ll;
		}
		p = nl + 1;
	}
	free(tmp);
	free(one);
	*out = keep;
	*len = at;
	return 0;
}

/* Stores note (the kept note of rq) with line under rq's origin, in
 * txn. */
static int put_stored(struct ldg_witness *w, MDB_txn *txn,
		      const struct ldg_witness_req *rq, const char *note,
		      size_t note_len, const char *line)
{
	size_t ll = strlen(line);
	MDB_val k = { strlen(rq->cp.origin), (void *)rq->cp.origin };
	MDB_val v = { STORED_HEAD + note_len + ll, NULL };
	uint8_t *p;
	int rc = mdb_put(txn, w->dbi, &k, &v, MDB_RESERVE);

	if (rc)
		return rc;
	p = v.mv_data;
	ldg_put_be64(p, rq->cp.size);
	memcpy(p + 8, rq->cp.root, LDG_HASH_BYTES);
	memcpy(p + STORED_HEAD, note, note_len);
	memcpy(p + STORED_HEAD + note_len, line, ll);
	return 0;
}

int ldg_witness_add(struct ldg_witness *w, const struct ldg_witness_logs *logs,
		    const struct ldg_signer *key,
		    const struct ldg_witness_req *rq, uint64_t t,
		    struct ldg_witness_answer *ans, struct ldg_err *err)
{
	const struct ldg_checkpoint *cp = &rq->cp;
	MDB_val k = { strlen(cp->origin), (void *)cp->origin }, v;
	MDB_txn *txn;
	char *note;
	size_t note_len;
	int rc;

	memset(ans, 0, sizeof(*ans));
	ans->verdict = check_signed(logs, cp);
	if (ans->verdict != LDG_WIT_COSIGNED)
		return 0;
	if (rq->old > cp->size) {
		ans->verdict = LDG_WIT_OLD_TOO_BIG;
		return 0;
	}
	if (kept_note(logs, rq, &note, &note_len))
		return ldg_err_set(err, -ENOMEM, "out of memory");
	/* from here to the commit, the only writer of the store: another
	 * request for this origin waits, then sees what this one stored */
	rc = mdb_txn_begin(w->env, NULL, 0, &txn);
	if (rc) {
		free(note);
		return ldg_err_set(err, mdb_errno(rc),
				   "cannot begin a transaction: %s",
				   mdb_strerror(rc));
	}
	rc = mdb_get(txn, w->dbi, &k, &v);
	if (rc == 0 && v.mv_size < STORED_HEAD) {
		rc = ldg_err_set(err, -EIO,
				 "the stored checkpoint of \"%s\" "
				 "is damaged",
				 cp->origin);
		goto out_abort;
	}
	if (rc == 0) {
		ans->stored_size = ldg_get_be64(v.mv_data);
		memcpy(ans->stored_root, (uint8_t *)v.mv_data + 8,
		       LDG_HASH_BYTES);
	} else if (rc != MDB_NOTFOUND) {
		rc = ldg_err_set(err, mdb_errno(rc),
				 "cannot read the store: "
				 "%s",
				 mdb_strerror(rc));
		goto out_abort;
	}
	rc = 0;
	if (rq->old != ans->stored_size) {
		ans->verdict = LDG_WIT_SIZE_MISMATCH;
		goto out_abort;
	}
	if (rq->old == cp->size && ans->stored_size &&
	    memcmp(ans->stored_root, cp->root, LDG_HASH_BYTES)) {
		ans->verdict = LDG_WIT_ROOT_MISMATCH;
		goto out_abort;
	}
	if (ldg_proof_consistency_check(rq->old, ans->stored_root, cp->size,
					cp->root, &rq->proof[0][0],
					rq->n_proof)) {
		ans->verdict = LDG_WIT_BAD_PROOF;
		goto out_abort;
	}
	rc = ldg_cosign(key, t, cp->text, cp->text_len, ans->line, err);
	if (rc)
		goto out_abort;
	rc = put_stored(w, txn, rq, note, note_len, ans->line);
	free(note);
	if (!rc)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc) {
		ans->line[0] = '\0';
		return ldg_err_set(err, mdb_errno(rc),
				   "cannot store the checkpoint: %s",
				   mdb_strerror(rc));
	}
	return 0;
out_abort:
	mdb_txn_abort(txn);
	free(note);
	return rc;
}

int ldg_witness_latest(struct ldg_witness *w, const char *origin, char **note,
		       size_t *len, struct ldg_err *err)
{
	MDB_val k = { strlen(origin), (void *)origin }, v;
	MDB_txn *txn;
	int rc;

	*note = NULL;
	/* no origin is longer: nor is any key of the store */
	if (strlen(origin) > LDG_ORIGIN_MAX)
		return ldg_err_set(err, -ENOENT,
				   "no checkpoint of \"%.80s...\" cosigned: "
				   "an origin is at most %d bytes",
				   origin, LDG_ORIGIN_MAX);
	rc = mdb_txn_begin(w->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return ldg_err_set(err, mdb_errno(rc),
				   "cannot begin a transaction: %s",
				   mdb_strerror(rc));
	rc = mdb_get(txn, w->dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = ldg_err_set(err, -ENOENT,
				 "no checkpoint of \"%.255s\" cosigned yet",
				 origin);
	} else if (rc || v.mv_size < STORED_HEAD) {
		rc = ldg_err_set(err, -EIO, "cannot read the store");
	} else {
		*len = v.mv_size - STORED_HEAD;
		*note = malloc(*len + 1);
		if (!*note) {
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
		} else {
			memcpy(*note, (uint8_t *)v.mv_data + STORED_HEAD, *len);
			(*note)[*len] = '\0';
		}
	}
	mdb_txn_abort(txn);
	return rc;
}
