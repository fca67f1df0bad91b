#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authorize.h"
#include "authz.h"
#include "merkle.h"
#include "tlog.h"
#include "policy.h"
#include "store_impl.h"
#include "util.h"
#include "gov.h"
#include "verify.h"

#define BATCH 256
#define QUEUE_BATCHES 16
#define PROGRESS_EVERY 4096
#define MAX_THREADS 64

/* One signature to check. ptr points into the main thread's read
 * transaction, which stays open until every worker has finished. */
struct sig_job {
	uint64_t seq;
	const uint8_t *ptr;
	size_t len;
	uint8_t pk[LDG_PK_BYTES];
};

struct sig_batch {
	size_t n;
	struct sig_job job[BATCH];
};

struct sig_queue {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	struct sig_batch *ring[QUEUE_BATCHES];
	size_t head, count;
	bool closed;
	const char *origin;
	uint64_t bad_seq; /* smallest seq with a bad signature, or 0 */
};

static void queue_push(struct sig_queue *q, struct sig_batch *b)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_BATCHES)
		pthread_cond_wait(&q->nonfull, &q->mu);
	q->ring[(q->head + q->count) % QUEUE_BATCHES] = b;
	q->count++;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
}

static struct sig_batch *queue_pop(struct sig_queue *q)
{
	struct sig_batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->nonempty, &q->mu);
	if (q->count) {
		b = q->ring[q->head];
		q->head = (q->head + 1) % QUEUE_BATCHES;
		q->count--;
		pthread_cond_signal(&q->nonfull);
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

static void *sig_worker(void *arg)
{
	struct sig_queue *q = arg;
	struct sig_batch *b;

	for (;;) {
		uint64_t bad = 0;

		b = queue_pop(q);
		if (!b)
			break;
		for (size_t i = 0; i < b->n && !bad; i++) {
			struct sig_job *j = &b->job[i];
			if (ldg_entry_verify_sig(j->ptr, j->len, q->origin,
						 j->pk))
				bad = j->seq;
		}
		if (bad) {
			pthread_mutex_lock(&q->mu);
			if (!q->bad_seq || bad < q->bad_seq)
				q->bad_seq = bad;
			pthread_mutex_unlock(&q->mu);
		}
		free(b);
	}
	return NULL;
}

static int scratch_dir(char *out, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(out, len, "%s/ledger-verify-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(out) ? 0 : -errno;
}

static void scratch_remove(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static void fail(struct ldg_verify_report *rep, uint64_t seq, const char *fmt,
		 const char *detail)
{
	if (rep->problem[0] && (rep->bad_seq == 0 || rep->bad_seq <= seq))
		return; /* keep the first problem */
	rep->bad_seq = seq;
	snprintf(rep->problem, sizeof(rep->problem), fmt, detail);
}

/* Compares one database of the ledger with the replay's. */
static int compare_db(struct ldg_read *real, struct ldg_read *replay,
		      enum ldg_db db, struct ldg_verify_report *rep)
{
	MDB_cursor *a, *b;
	MDB_val ka, va, kb, vb;
	int ra, rb, rc = 0;

	if (ldg_db_absent(real, db)) {
		/* added since the ledger was written: empty, as a replay of
		 * entries from before it makes it */
		a = NULL;
	} else if (mdb_cursor_open(real->txn, real->s->dbi[db], &a)) {
		return -EIO;
	}
	if (mdb_cursor_open(replay->txn, replay->s->dbi[db], &b)) {
		if (a)
			mdb_cursor_close(a);
		return -EIO;
	}
	ra = a ? mdb_cursor_get(a, &ka, &va, MDB_FIRST) : MDB_NOTFOUND;
	rb = mdb_cursor_get(b, &kb, &vb, MDB_FIRST);
	while (ra == 0 && rb == 0) {
		if (ka.mv_size != kb.mv_size ||
		    memcmp(ka.mv_data, kb.mv_data, ka.mv_size) ||
		    va.mv_size != vb.mv_size ||
		    memcmp(va.mv_data, vb.mv_data, va.mv_size))
			break;
		ra = mdb_cursor_get(a, &ka, &va, MDB_NEXT);
		rb = mdb_cursor_get(b, &kb, &vb, MDB_NEXT);
	}
	if (ra != MDB_NOTFOUND || rb != MDB_NOTFOUND) {
		rc = -EBADMSG;
		snprintf(rep->problem, sizeof(rep->problem),
			 "index \"%s\" does not match a replay of the entries "
			 "(%s); run ledger reindex",
			 ldg_db_names[db],
			 ra == 0 && rb == 0 ? "a record differs"
			 : ra == 0	    ? "it has an extra record"
					    : "it lacks a record");
	}
	mdb_cursor_close(b);
	if (a)
		mdb_cursor_close(a);
	return rc;
}

/* An index that a replay does not give may be a compromised writer's
 * making a change effective that the rules kept from effect: for each
 * value of the real state index, the entry it names judged again against
 * the replay's governance (ldg_effect_check()). The first such entry, by
 * seq, is the problem, named; 0 when there is none (the index is merely
 * wrong). */
static int effect_problem(struct ldg_read *real, struct ldg_read *replay,
			  struct ldg_verify_report *rep)
{
	struct ldg_err why = { 0 }, first = { 0 };
	char target[LDG_TARGET_MAX + 1] = "";
	char **targets = NULL;
	size_t n = 0;
	uint64_t bad = 0;
	int rc = ldg_targets_list(real, NULL, 0, &targets, &n);

	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t *seqs = NULL;
		size_t m = 0;
		rc = ldg_state_changes(real, targets[i], 0, &seqs, &m);
		for (size_t j = 0; j < m && !rc && (!bad || seqs[j] < bad);
		     j++) {
			int erc = ldg_effect_check(replay, real, targets[i],
						   seqs[j], &why);
			if (erc == -EPERM) {
				bad = seqs[j];
				first = why;
				snprintf(target, sizeof(target), "%s",
					 targets[i]);
			}
		}
		free(seqs);
	}
	ldg_strv_free(targets, n);
	if (!bad)
		return 0;
	rep->bad_seq = bad;
	snprintf(rep->problem, sizeof(rep->problem),
		 "the index \"state\" puts it in effect on %s, a replay of "
		 "the entries does not: %s",
		 target, first.msg);
	return -EBADMSG;
}

struct replay {
	struct ldg_read *real;
	struct ldg_read scratch;
	/* where a rollback's values are read: the scratch in a full replay;
	 * the real indexes from a checkpoint (the scratch has no versions
	 * before it) */
	struct ldg_read *values;
	struct sig_queue *q;
	struct ldg_merkle tree;
	const struct ldg_verify_opts *o;
	struct ldg_verify_report *rep;
	uint8_t (*cp_roots)[LDG_HASH_BYTES];
	/* the last signer's key: key ids are unique and a key's bytes never
	 * change once added, so this stays right (authorisation is still
	 * asked of the replay for every entry) */
	uint8_t last_id[LDG_KEYID_BYTES];
	uint8_t last_pk[LDG_PK_BYTES];
	bool have_last;
	struct ldg_authz az; /* keyring and locks: version 2 commitments */
};

/* What the replay decided of e under promotion policies, for the
 * report: a proposal, the approval that enacted one, an emergency. */
static void count_decisions(struct replay *p, const struct ldg_entry *e)
{
	struct ldg_verify_report *rep = p->rep;
	enum ldg_prop_status st;
	uint64_t at, of;

	if (ldg_kind_changes_values(e->kind)) {
		if (ldg_kv_find(e->meta, e->n_meta, "emergency")) {
			if (rep->emergencies < LDG_VERIFY_EMERGENCY_MAX)
				rep->emergency_seq[rep->emergencies] = e->seq;
			rep->emergencies++;
		}
		if (ldg_prop_fate(&p->scratch, e->seq, &st, &at) == 0)
			rep->proposals++;
	} else if (e->kind == LDG_KIND_APPROVE &&
		   !ldg_parse_dec(e->changes[0].value, 0, INT64_MAX, &of) &&
		   ldg_prop_fate(&p->scratch, of, &st, &at) == 0 &&
		   st == LDG_PROP_EFFECTIVE && at == e->seq) {
		rep->enacted++;
	}
}

/* Checks one entry against everything before it and replays it. Returns
 * 0 to go on, -EBADMSG when the entry is bad (recorded in the report),
 * or another error when the check cannot go on. */
static int replay_one(struct replay *p, uint64_t seq, const MDB_val *k,
		      const MDB_val *v, uint8_t prev[LDG_HASH_BYTES],
		      struct sig_batch **batch, struct ldg_err *err)
{
	struct ldg_err why = { 0 };
	struct ldg_write_req q;
	struct ldg_entry *e = NULL;
	struct ldg_keyinfo ki;
	struct sig_job *j;
	uint8_t hash[LDG_HASH_BYTES];
	char detail[LDG_ERR_MSG_MAX];
	int rc;

	if (k->mv_size != 8) {
		char hex[2 * 32 + 1];
		ldg_hex(k->mv_data, k->mv_size < 32 ? k->mv_size : 32, hex);
		snprintf(detail, sizeof(detail), "%zu-byte key %s%s",
			 k->mv_size, hex, k->mv_size > 32 ? "..." : "");
		fail(p->rep, seq,
		     "is stored under a %s, not an 8-byte seq: "
		     "the entries database was edited",
		     detail);
		return -EBADMSG;
	}
	if (ldg_get_be64(k->mv_data) != seq) {
		snprintf(detail, sizeof(detail), "%llu",
			 (unsigned long long)ldg_get_be64(k->mv_data));
		fail(p->rep, seq, "missing: the next stored entry is %s",
		     detail);
		return -EBADMSG;
	}
	rc = ldg_entry_decode(v->mv_data, v->mv_size, &e, &why);
	if (rc) {
		fail(p->rep, seq, "cannot be decoded: %s", why.msg);
		return -EBADMSG;
	}
	if (e->seq != seq) {
		snprintf(detail, sizeof(detail), "%llu",
			 (unsigned long long)e->seq);
		fail(p->rep, seq, "carries seq %s (stored out of place)",
		     detail);
		rc = -EBADMSG;
		goto out_free;
	}
	if (memcmp(e->prev, prev, LDG_HASH_BYTES)) {
		fail(p->rep, seq, "%s",
		     "prev does not match the hash of the "
		     "entry before it (chain broken)");
		rc = -EBADMSG;
		goto out_free;
	}
	if (seq == 1) {
		snprintf(p->rep->origin, sizeof(p->rep->origin), "%s",
			 e->changes[0].value);
		p->q->origin = p->rep->origin;
	}
	ldg_write_req_of(e, &q);
	q.history = true;
	q.log = p->real; /* the scratch has no entries */
	rc = ldg_may_append(&p->scratch, &q, &why);
	if (rc) {
		fail(p->rep, seq, "not authorised: %s", why.msg);
		rc = -EBADMSG;
		goto out_free;
	}
	rc = ldg_rollback_check(p->values, e, &why);
	if (rc) {
		fail(p->rep, seq, "not a valid rollback: %s", why.msg);
		rc = -EBADMSG;
		goto out_free;
	}
	rc = ldg_authz_follow(&p->az, e, &why);
	if (rc == -ENOMEM) {
		ldg_err_set(err, rc, "out of memory");
		goto out_free;
	}
	if (rc) {
		fail(p->rep, seq, "%s", why.msg);
		rc = -EBADMSG;
		goto out_free;
	}
	/* the key that must have signed it, as the replay knows it */
	if (p->have_last && e->kind != LDG_KIND_INIT &&
	    !memcmp(p->last_id, e->signer, LDG_KEYID_BYTES)) {
		memcpy(ki.vkey.pk, p->last_pk, LDG_PK_BYTES);
	} else {
		if (e->kind == LDG_KIND_INIT)
			rc = ldg_vkey_parse(e->changes[3].value, &ki.vkey,
					    NULL);
		else
			rc = ldg_keyring_by_id(&p->scratch, e->signer, &ki);
		if (rc) {
			fail(p->rep, seq, "%s", "signer key unknown");
			rc = -EBADMSG;
			goto out_free;
		}
		memcpy(p->last_id, ki.vkey.keyid, LDG_KEYID_BYTES);
		memcpy(p->last_pk, ki.vkey.pk, LDG_PK_BYTES);
		p->have_last = true;
	}
	if (!*batch) {
		*batch = calloc(1, sizeof(**batch));
		if (!*batch) {
			rc = ldg_err_set(err, -ENOMEM, "out of memory");
			goto out_free;
		}
	}
	j = &(*batch)->job[(*batch)->n++];
	j->seq = seq;
	j->ptr = v->mv_data;
	j->len = v->mv_size;
	memcpy(j->pk, ki.vkey.pk, LDG_PK_BYTES);
	if ((*batch)->n == BATCH) {
		queue_push(p->q, *batch);
		*batch = NULL;
	}

	ldg_entry_hash(v->mv_data, v->mv_size, hash);
	ldg_merkle_push(&p->tree, hash);
	for (size_t i = 0; i < p->o->n_checkpoints; i++)
		if (p->o->checkpoints[i].size == seq)
			ldg_merkle_root(&p->tree, p->cp_roots[i]);
	rc = ldg_index_entry(&p->scratch, e, hash);
	if (rc) {
		ldg_err_set(err, rc, "replay failed at entry %llu: %s",
			    (unsigned long long)seq, strerror(-rc));
		goto out_free;
	}
	count_decisions(p, e);
	memcpy(prev, hash, LDG_HASH_BYTES);
out_free:
	ldg_entry_free(e);
	return rc;
}

/* The stored bytes of seq and their hash; *e decoded when e is given
 * (NULL when they do not decode: -EBADMSG). The bytes are LMDB's: valid
 * until r ends. */
static int raw_entry(struct ldg_read *r, uint64_t seq, const uint8_t **buf,
		     size_t *len, uint8_t hash[LDG_HASH_BYTES],
		     struct ldg_entry **e)
{
	int rc;

	if (e)
		*e = NULL;
	rc = ldg_entry_raw(r, seq, buf, len);
	if (rc)
		return rc;
	ldg_entry_hash(*buf, *len, hash);
	if (e && ldg_entry_decode(*buf, *len, e, NULL)) {
		*e = NULL;
		return -EBADMSG;
	}
	return 0;
}

int ldg_entry_prove(struct ldg_read *r, uint64_t seq,
		    struct ldg_entry_proof *out, struct ldg_err *err)
{
	static const uint8_t zero[LDG_HASH_BYTES];
	uint8_t other[LDG_HASH_BYTES];
	struct ldg_entry *e = NULL, *next = NULL;
	const uint8_t *buf, *obuf;
	size_t len, olen;
	uint64_t head;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ldg_head(r, &head, NULL))
		return ldg_err_set(err, -EIO, "cannot read the head");
	if (seq == 0 || seq > head)
		return ldg_err_set(err, -ENOENT,
				   "no entry %llu: the head is "
				   "%llu",
				   (unsigned long long)seq,
				   (unsigned long long)head);
	rc = raw_entry(r, seq, &buf, &len, out->hash, &e);
	if (rc && rc != -EBADMSG)
		return ldg_err_set(err, -EIO,
				   "entry %llu cannot be read (run "
				   "ledger verify)",
				   (unsigned long long)seq);
	if (!e) {
		/* rewritten into something that is not an entry at all */
		out->sig_problem = "the stored bytes are not a valid entry";
	} else if (ldg_keyring_by_id(r, e->signer, &out->key)) {
		out->sig_problem = "the signer is not in the keyring";
	} else {
		out->have_key = true;
		if (ldg_entry_verify_sig(buf, len, ldg_store_origin(r->s),
					 out->key.vkey.pk))
			out->sig_problem = "the signature does not verify";
		if (out->key.added_seq > seq ||
		    (out->key.added_seq == seq && seq != 1))
			out->key_problem = "the key was added after this entry";
		else if (out->key.revoked_seq && out->key.revoked_seq < seq)
			out->key_problem =
				"the key was revoked before this entry";
	}
	if (!e)
		out->prev_ok = false;
	else if (seq == 1)
		out->prev_ok = !memcmp(e->prev, zero, LDG_HASH_BYTES);
	else
		out->prev_ok =
			raw_entry(r, seq - 1, &obuf, &olen, other, NULL) == 0 &&
			!memcmp(e->prev, other, LDG_HASH_BYTES);
	if (seq == head)
		out->next_ok = -1;
	else
		out->next_ok = raw_entry(r, seq + 1, &obuf, &olen, other,
					 &next) == 0 &&
			       !memcmp(next->prev, out->hash, LDG_HASH_BYTES);
	ldg_entry_free(next);
	ldg_entry_free(e);
	return 0;
}

/* 1 when a signature line of cp verifies with the key of its name in
 * the keyring r sees, a key that was there by the checkpoint's size (and,
 * when trusted_now, is not revoked); 0 when none does; -EBADMSG when a
 * line by a key of that keyring does not verify, which rejects the note
 * whatever else verifies (as Go's note.Open), with the key's name in
 * *bad. */
static int signed_by_keyring(struct ldg_read *r,
			     const struct ldg_checkpoint *cp, bool trusted_now,
			     const char **bad)
{
	struct ldg_keyinfo ki;
	int found = 0;

	for (size_t s = 0; s < cp->n_sigs; s++) {
		int rc;
		if (ldg_keyring_by_name(r, cp->sigs[s].name, &ki))
			continue;
		rc = ldg_checkpoint_verify(cp, &ki.vkey);
		if (rc == -EBADMSG) {
			*bad = cp->sigs[s].name;
			return -EBADMSG;
		}
		if (rc == 0 && ki.added_seq <= cp->size &&
		    !(trusted_now && ki.revoked_seq))
			found = 1;
	}
	return found;
}

int ldg_checkpoint_check(struct ldg_read *r, const struct ldg_checkpoint *cp,
			 struct ldg_err *err)
{
	const char *origin = ldg_store_origin(r->s);
	uint8_t root[LDG_HASH_BYTES];
	const char *bad = NULL;
	uint64_t head;
	int sigs;

	if (strcmp(cp->origin, origin))
		return ldg_err_set(err, -EINVAL,
				   "checkpoint is for origin \"%.100s\", this "
				   "ledger is \"%.100s\"",
				   cp->origin, origin);
	if (ldg_head(r, &head, NULL))
		return ldg_err_set(err, -EIO, "cannot read the head");
	if (cp->size == 0 || cp->size > head)
		return ldg_err_set(err, -EINVAL,
				   "checkpoint has %llu entries, the ledger "
				   "%llu",
				   (unsigned long long)cp->size,
				   (unsigned long long)head);
	sigs = signed_by_keyring(r, cp, true, &bad);
	if (sigs < 0)
		return ldg_err_set(err, -EACCES,
				   "checkpoint has an invalid signature by key "
				   "\"%s\" of this ledger",
				   bad);
	if (!sigs)
		return ldg_err_set(err, -EACCES,
				   "checkpoint is not signed by a trusted key "
				   "of this ledger");
	if (ldg_merkle_root_at(r, cp->size, root))
		return ldg_err_set(err, -EIO,
				   "cannot read the tree of %llu "
				   "entries",
				   (unsigned long long)cp->size);
	if (memcmp(root, cp->root, LDG_HASH_BYTES))
		return ldg_err_set(err, -EBADMSG,
				   "the first %llu entries of this ledger have "
				   "another Merkle root than the checkpoint's",
				   (unsigned long long)cp->size);
	return 0;
}

static int check_checkpoints(struct replay *p, uint64_t head)
{
	const struct ldg_verify_opts *o = p->o;
	struct ldg_verify_report *rep = p->rep;

	for (size_t i = 0; i < o->n_checkpoints; i++) {
		const struct ldg_checkpoint *cp = &o->checkpoints[i];
		const char *bad = NULL;
		int sigs;

		rep->bad_checkpoint = (int)i;
		if (strcmp(cp->origin, rep->origin)) {
			snprintf(rep->problem, sizeof(rep->problem),
				 "checkpoint is for origin \"%.100s\", this "
				 "ledger is \"%.100s\"",
				 cp->origin, rep->origin);
			return -EBADMSG;
		}
		sigs = signed_by_keyring(&p->scratch, cp, false, &bad);
		if (sigs < 0) {
			snprintf(rep->problem, sizeof(rep->problem),
				 "checkpoint of size %llu has an invalid "
				 "signature by key \"%s\" of this ledger",
				 (unsigned long long)cp->size, bad);
			return -EBADMSG;
		}
		if (!sigs) {
			snprintf(rep->problem, sizeof(rep->problem),
				 "checkpoint of size %llu is not signed by a "
				 "key of this ledger",
				 (unsigned long long)cp->size);
			return -EBADMSG;
		}
		if (cp->size > head) {
			snprintf(rep->problem, sizeof(rep->problem),
				 "checkpoint has %llu entries but the ledger "
				 "only %llu: entries were removed",
				 (unsigned long long)cp->size,
				 (unsigned long long)head);
			return -EBADMSG;
		}
		if (cp->size == 0 ||
		    memcmp(p->cp_roots[i], cp->root, LDG_HASH_BYTES)) {
			snprintf(rep->problem, sizeof(rep->problem),
				 "the first %llu entries do not match the "
				 "checkpoint: the ledger was rewritten or "
				 "forked",
				 (unsigned long long)cp->size);
			return -EBADMSG;
		}
	}
	rep->bad_checkpoint = -1;
	return 0;
}

static unsigned worker_count(const struct ldg_verify_opts *o)
{
	long n = o->threads ? (long)o->threads : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* Opens the scratch environment of a replay in a new directory dir
 * (PATH_MAX) under $TMPDIR, sized for s, and begins its write
 * transaction in p->scratch. */
static int scratch_open(struct ldg_store *s, char *dir, struct replay *p,
			struct ldg_store **scratch, struct ldg_err *err)
{
	char data[PATH_MAX + 16];
	struct stat st;
	int rc;

	*scratch = NULL;
	rc = scratch_dir(dir, PATH_MAX);
	if (rc) {
		dir[0] = '\0';
		return ldg_err_set(err, rc,
				   "cannot create a scratch directory in "
				   "$TMPDIR: %s",
				   strerror(-rc));
	}
	snprintf(data, sizeof(data), "%s/data.mdb", s->dir);
	rc = ldg_store_open_ex(dir, LDG_OPEN_CREATE,
			       MDB_NOSYNC | MDB_NOMETASYNC,
			       stat(data, &st)
				       ? 0
				       : (size_t)st.st_size * 4 + (64u << 20),
			       scratch, err);
	if (!rc)
		rc = ldg_write_begin(*scratch, &p->scratch, err);
	return rc;
}

static void scratch_close(struct ldg_store *scratch, struct replay *p,
			  const char *dir)
{
	if (p->scratch.txn)
		mdb_txn_abort(p->scratch.txn);
	p->scratch.txn = NULL;
	ldg_store_close(scratch);
	if (dir[0])
		scratch_remove(dir);
}

/* Replays entries first..(the last) of the real store into the scratch,
 * signatures on worker threads: prev is the hash of entry first - 1 and
 * becomes the last one's. *seq is the last seq replayed. 0, -EBADMSG
 * (the report says what), or another error (in err). */
static int replay_range(struct replay *p, uint64_t first, uint64_t head,
			uint8_t prev[LDG_HASH_BYTES], uint64_t *seq,
			struct ldg_err *err)
{
	struct sig_queue *q = p->q;
	const struct ldg_verify_opts *opts = p->o;
	pthread_t th[MAX_THREADS];
	unsigned nth = worker_count(opts), started = 0;
	struct sig_batch *batch = NULL;
	MDB_cursor *cur = NULL;
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc = 0, mrc;

	*seq = first - 1;
	for (; started < nth; started++)
		if (pthread_create(&th[started], NULL, sig_worker, q))
			break;
	if (!started)
		return ldg_err_set(err, -EAGAIN, "cannot start threads");

	ldg_put_be64(kb, first);
	mrc = mdb_cursor_open(p->real->txn, p->real->s->dbi[DB_ENTRIES], &cur);
	for (mrc = mrc ? mrc
		       : mdb_cursor_get(cur, &k, &v,
					first == 1 ? MDB_FIRST : MDB_SET_RANGE);
	     mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		++*seq;
		rc = replay_one(p, *seq, &k, &v, prev, &batch, err);
		if (rc)
			break;
		if (opts->progress && *seq % PROGRESS_EVERY == 0)
			opts->progress(*seq - first + 1, head - first + 1,
				       opts->progress_arg);
	}
	if (batch && batch->n)
		queue_push(q, batch);
	else
		free(batch);
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (cur)
		mdb_cursor_close(cur);
	if (opts->progress)
		opts->progress(*seq - first + 1, head - first + 1,
			       opts->progress_arg);
	if (rc && rc != -EBADMSG)
		return rc;
	if (mrc && mrc != MDB_NOTFOUND)
		return ldg_err_set(err, ldg_mdb_err(mrc),
				   "cannot read entries: %s",
				   mdb_strerror(mrc));
	if (q->bad_seq)
		fail(p->rep, q->bad_seq, "%s", "bad signature");
	return rc ? rc : p->rep->problem[0] ? -EBADMSG : 0;
}

/* The start of a replay p of s (report, checkpoint roots, the read
 * transaction on s), undone by replay_end(). */
static int replay_begin(struct ldg_store *s, struct replay *p,
			struct ldg_err *err)
{
	int rc;

	memset(p->rep, 0, sizeof(*p->rep));
	p->rep->bad_checkpoint = -1;
	ldg_authz_init(&p->az);
	p->cp_roots = calloc(p->o->n_checkpoints + 1, LDG_HASH_BYTES);
	if (!p->cp_roots)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_read_begin(s, &p->real, err);
	if (rc) {
		free(p->cp_roots);
		p->cp_roots = NULL;
	}
	return rc;
}

static void replay_end(struct replay *p)
{
	ldg_read_end(p->real);
	ldg_authz_free(&p->az);
	free(p->cp_roots);
}

int ldg_verify(struct ldg_store *s, const struct ldg_verify_opts *opts,
	       struct ldg_verify_report *rep, struct ldg_err *err)
{
	struct sig_queue q = { .mu = PTHREAD_MUTEX_INITIALIZER,
			       .nonempty = PTHREAD_COND_INITIALIZER,
			       .nonfull = PTHREAD_COND_INITIALIZER,
			       .origin = "" };
	struct replay p = { .q = &q, .o = opts, .rep = rep };
	struct ldg_store *scratch = NULL;
	char dir[PATH_MAX] = "";
	uint8_t prev[LDG_HASH_BYTES] = { 0 };
	uint8_t stored_root[LDG_HASH_BYTES];
	uint64_t seq = 0, head;
	int head_rc;
	int rc;

	rc = replay_begin(s, &p, err);
	if (rc)
		return rc;
	p.values = &p.scratch;
	/* not the head's hash from the merkle index: that is derived data
	 * under test, possibly missing; the replay computes it (prev) */
	head_rc = ldg_head(p.real, &head, NULL);
	if (head_rc)
		head = 0; /* a last key that is no seq: the replay names it */
	rep->head = head;

	rc = scratch_open(s, dir, &p, &scratch, err);
	if (rc)
		goto out_scratch;
	ldg_merkle_init(&p.tree);
	rc = replay_range(&p, 1, head, prev, &seq, err);
	if (!rc)
		memcpy(rep->head_hash, prev, LDG_HASH_BYTES);
	if (rc && rc != -EBADMSG)
		goto out_scratch;
	rep->entries = rc ? rep->bad_seq - 1 : seq;
	if (head_rc) {
		rep->head = seq; /* records seen: the best head there is */
		if (!rep->problem[0]) {
			rc = ldg_err_set(err, head_rc, "cannot read the head");
			goto out_scratch;
		}
	}
	if (rep->problem[0]) {
		rc = -EBADMSG;
		goto out_scratch;
	}
	if (seq == 0) {
		snprintf(rep->problem, sizeof(rep->problem),
			 "the ledger has no entries");
		rc = -EBADMSG;
		goto out_scratch;
	}
	ldg_merkle_root(&p.tree, rep->root);
	for (int db = DB_META; db < DB_COUNT && !rc; db++)
		rc = compare_db(p.real, &p.scratch, (enum ldg_db)db, rep);
	if (rc) {
		effect_problem(p.real, &p.scratch, rep);
		goto out_scratch;
	}
	if (ldg_merkle_root_at(p.real, head, stored_root) ||
	    memcmp(stored_root, rep->root, LDG_HASH_BYTES)) {
		snprintf(rep->problem, sizeof(rep->problem),
			 "stored Merkle tree does not match the entries; run "
			 "ledger reindex");
		rc = -EBADMSG;
		goto out_scratch;
	}
	rc = check_checkpoints(&p, head);
out_scratch:
	scratch_close(scratch, &p, dir);
	replay_end(&p);
	return rc;
}

/* Records a problem found outside the replay in the report: of entry
 * seq, or of the ledger as a whole (seq 0). -EBADMSG. */
static int problem(struct ldg_verify_report *rep, uint64_t seq, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));
static int problem(struct ldg_verify_report *rep, uint64_t seq, const char *fmt,
		   ...)
{
	va_list ap;

	rep->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* The compact range of the tree of size leaves from the stored nodes:
 * its perfect subtrees, largest first. */
static int frontier(struct ldg_read *r, uint64_t size, struct ldg_merkle *m)
{
	uint64_t offset = 0;

	ldg_merkle_init(m);
	for (int level = 63; level >= 0; level--) {
		int rc;
		if (!(size >> level & 1))
			continue;
		rc = ldg_store_node(r, (unsigned)level, offset >> level,
				    m->stack[m->depth]);
		if (rc)
			return rc;
		m->depth++;
		offset += (uint64_t)1 << level;
	}
	m->size = size;
	return 0;
}

/* Entry size, proven by the checkpoint's root (an inclusion proof made
 * from the stored nodes), decoded: its hash in hash, itself in *e. */
static int anchor_entry(struct ldg_read *r, uint64_t size,
			const uint8_t root[LDG_HASH_BYTES],
			uint8_t hash[LDG_HASH_BYTES], struct ldg_entry **e,
			struct ldg_verify_report *rep)
{
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];
	struct ldg_err why = { 0 };
	const uint8_t *buf;
	size_t len, n = 0;

	*e = NULL;
	if (ldg_entry_raw(r, size, &buf, &len))
		return problem(rep, size, "cannot be read");
	ldg_entry_hash(buf, len, hash);
	if (ldg_proof_inclusion(ldg_store_node, r, size - 1, size, proof, &n) ||
	    ldg_proof_inclusion_check(size - 1, size, hash, proof[0], n, root))
		return problem(rep, size,
			       "is not the entry the checkpoint's tree holds "
			       "there: its bytes or the stored tree changed");
	if (ldg_entry_decode(buf, len, e, &why))
		return problem(rep, size, "cannot be decoded: %s", why.msg);
	if ((*e)->seq != size) {
		uint64_t carried = (*e)->seq;
		ldg_entry_free(*e);
		*e = NULL;
		return problem(rep, size,
			       "carries seq %llu (stored out of place)",
			       (unsigned long long)carried);
	}
	return 0;
}

/* An entry before the trusted size that a rule read is not the one the
 * tree holds (struct ldg_read's proven): the problem. -EBADMSG. */
static int unproven(struct replay *p)
{
	return problem(p->rep, p->real->unproven,
		       "is not the entry the checkpoint's tree holds there: "
		       "its bytes or the stored tree changed");
}

/* The roots of the checkpoints before size, each proven a prefix of the
 * anchor's tree by a consistency proof made from the stored nodes (its
 * cp_roots entry stays zero when the proof fails: check_checkpoints()
 * names it), and those of size itself. */
static void earlier_checkpoints(struct replay *p, uint64_t size,
				const uint8_t root[LDG_HASH_BYTES])
{
	uint8_t proof[LDG_PROOF_MAX][LDG_HASH_BYTES];

	for (size_t i = 0; i < p->o->n_checkpoints; i++) {
		const struct ldg_checkpoint *cp = &p->o->checkpoints[i];
		size_t n = 0;

		if (cp->size == size)
			memcpy(p->cp_roots[i], root, LDG_HASH_BYTES);
		if (cp->size == 0 || cp->size >= size)
			continue;
		if (!ldg_proof_consistency(ldg_store_node, p->real, cp->size,
					   size, proof, &n) &&
		    !ldg_proof_consistency_check(cp->size, cp->root, size, root,
						 proof[0], n))
			memcpy(p->cp_roots[i], cp->root, LDG_HASH_BYTES);
	}
}

int ldg_verify_since(struct ldg_store *s, uint64_t size,
		     const uint8_t root[LDG_HASH_BYTES],
		     const struct ldg_verify_opts *opts,
		     struct ldg_verify_report *rep, struct ldg_err *err)
{
	struct sig_queue q = { .mu = PTHREAD_MUTEX_INITIALIZER,
			       .nonempty = PTHREAD_COND_INITIALIZER,
			       .nonfull = PTHREAD_COND_INITIALIZER };
	struct replay p = { .q = &q, .o = opts, .rep = rep };
	struct ldg_store *scratch = NULL;
	struct ldg_entry *anchor = NULL;
	struct ldg_authz now;
	char dir[PATH_MAX] = "";
	uint8_t prev[LDG_HASH_BYTES], have[LDG_HASH_BYTES];
	uint8_t stored[LDG_HASH_BYTES];
	uint64_t seq, head;
	int rc;

	if (ldg_store_stale(s)) {
		memset(rep, 0, sizeof(*rep));
		return ldg_err_set(err, -ENOTSUP,
				   "the indexes were built by another version "
				   "of ledger: the state at entry %llu cannot be "
				   "read from them",
				   (unsigned long long)size);
	}
	rc = replay_begin(s, &p, err);
	rep->since = size;
	if (rc)
		return rc;
	p.values = p.real;
	snprintf(rep->origin, sizeof(rep->origin), "%s", ldg_store_origin(s));
	q.origin = rep->origin;
	if (ldg_head(p.real, &head, NULL)) {
		rc = ldg_err_set(err, -EIO,
				 "cannot read the head; run ledger verify");
		goto out_read;
	}
	rep->head = head;
	if (size == 0) {
		rc = ldg_err_set(err, -EINVAL,
				 "a checkpoint of size 0 covers no entry");
		goto out_read;
	}
	/* docs/format.md 10.1, step 1: the checkpoints' origin first (their
	 * signatures last, once the keyring is replayed) */
	for (size_t i = 0; i < opts->n_checkpoints; i++)
		if (strcmp(opts->checkpoints[i].origin, rep->origin)) {
			rep->bad_checkpoint = (int)i;
			rc = problem(rep, 0,
				     "checkpoint is for origin \"%.100s\", "
				     "this ledger is \"%.100s\"",
				     opts->checkpoints[i].origin, rep->origin);
			goto out_read;
		}
	if (size > head) {
		rep->bad_since = true;
		rc = problem(rep, 0,
			     "the checkpoint has %llu entries but the ledger "
			     "only %llu: entries were removed",
			     (unsigned long long)size,
			     (unsigned long long)head);
		goto out_read;
	}
	/* 2. the tree of the first size entries is the checkpoint's: its
	 * perfect subtrees, as stored, make its root */
	if (frontier(p.real, size, &p.tree)) {
		rc = problem(rep, 0,
			     "the stored Merkle tree of the first %llu entries "
			     "cannot be read; run ledger verify",
			     (unsigned long long)size);
		goto out_read;
	}
	ldg_merkle_root(&p.tree, have);
	if (memcmp(have, root, LDG_HASH_BYTES)) {
		rep->bad_since = true;
		rc = problem(rep, 0,
			     "the first %llu entries do not match the "
			     "checkpoint: the ledger was rewritten or forked",
			     (unsigned long long)size);
		goto out_read;
	}
	/* from here on an entry before size that a rule reads (a pending
	 * proposal's changes, a soak's applied entry) is read only with
	 * an inclusion proof against root (ldg_entry_read()) */
	p.real->proven = size;
	memcpy(p.real->proven_root, root, LDG_HASH_BYTES);
	/* 3. entry size itself, by an inclusion proof: its commitment is
	 * where the replay starts from */
	rc = anchor_entry(p.real, size, root, prev, &anchor, rep);
	if (rc)
		goto out_read;
	if (anchor->version != LDG_FORMAT_V2) {
		rc = ldg_err_set(err, -ENOTSUP,
				 "entry %llu is a version 1 entry: it commits "
				 "to no keyring and locks to start from",
				 (unsigned long long)size);
		goto out_read;
	}
	/* 4. the keyring, locks and governance after it, from the
	 * indexes, must be what it commits to */
	rc = ldg_authz_load_at(p.real, size, &p.az, err);
	if (rc)
		goto out_read;
	rc = ldg_authz_commit(&p.az, have);
	if (rc) {
		rc = ldg_err_set(err, rc, "out of memory");
		goto out_read;
	}
	if (memcmp(have, anchor->authz, LDG_HASH_BYTES)) {
		rc = problem(rep, size,
			     "the indexes' keyring, locks and governance "
			     "after it are not those it commits to; run "
			     "ledger reindex");
		goto out_read;
	}
	p.az.v2 = true;
	/* 5. every entry after it, fully, against a scratch whose indexes
	 * are the ledger's at size */
	rc = scratch_open(s, dir, &p, &scratch, err);
	if (!rc)
		rc = ldg_index_seed(&p.scratch, p.real, size, &p.az);
	if (p.real->unproven) {
		rc = unproven(&p);
		goto out_scratch;
	}
	if (rc) {
		if (!err || !err->msg[0])
			ldg_err_set(err, rc, "cannot prepare the replay: %s",
				    strerror(-rc));
		goto out_scratch;
	}
	earlier_checkpoints(&p, size, root);
	rc = replay_range(&p, size + 1, head, prev, &seq, err);
	/* a rule that read an entry the checkpoint does not hold decided
	 * nothing that can be trusted, whatever it decided */
	if (p.real->unproven && (!rc || rc == -EBADMSG))
		rc = unproven(&p);
	if (rc && rc != -EBADMSG)
		goto out_scratch;
	rep->entries =
		(rc && rep->bad_seq > size ? rep->bad_seq - 1 : seq) - size;
	if (rc)
		goto out_scratch;
	memcpy(rep->head_hash, prev, LDG_HASH_BYTES);
	ldg_merkle_root(&p.tree, rep->root);
	/* 6. what the indexes hold at the head and a writer trusts: the
	 * stored tree, and the keyring, locks and governance */
	if (ldg_merkle_root_at(p.real, head, stored) ||
	    memcmp(stored, rep->root, LDG_HASH_BYTES)) {
		rc = problem(rep, 0,
			     "stored Merkle tree does not match the entries; "
			     "run ledger reindex");
		goto out_scratch;
	}
	rc = ldg_authz_load(p.real, &now, NULL);
	if (!rc) {
		rc = ldg_authz_commit(&now, stored);
		ldg_authz_free(&now);
	}
	if (!rc)
		rc = ldg_authz_commit(&p.az, have);
	if (rc || memcmp(stored, have, LDG_HASH_BYTES)) {
		rc = problem(rep, 0,
			     "the keys, keyids, locks or gov index does not "
			     "match a replay of the entries; run ledger "
			     "reindex");
		goto out_scratch;
	}
	rc = check_checkpoints(&p, head);
out_scratch:
	scratch_close(scratch, &p, dir);
out_read:
	ldg_entry_free(anchor);
	replay_end(&p);
	return rc;
}

int ldg_verify_copy(struct ldg_store *s, uint64_t from,
		    const uint8_t root[LDG_HASH_BYTES],
		    const struct ldg_verify_opts *opts,
		    struct ldg_verify_report *rep, struct ldg_err *err)
{
	int rc = -ENOTSUP;

	if (from)
		rc = ldg_verify_since(s, from, root, opts, rep, err);
	if (rc == -ENOTSUP)
		rc = ldg_verify(s, opts, rep, err);
	return rc;
}
