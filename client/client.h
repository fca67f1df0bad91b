/*
 * client.h - the HTTP client side of docs/api.md: what `ledger --remote
 * URL` and `ledger mirror URL` say to `ledger serve`. This directory
 * owns
 *   - fetching what a server serves: its head (GET /api/v1/head), a
 *     target's state (GET /api/v1/state) and entries as their exact
 *     signed bytes (GET /api/v1/entries?after=, Accept:
 *     application/msgpack, split by ldg_batch_split());
 *   - appending entries signed here, one or a batch (POST
 *     /api/v1/entries, the batch encoded by ldg_batch_join(), the
 *     server's own encoder), rebuilt on the new head after a 409 with
 *     exponential backoff, and waiting out a 429;
 *   - the checkpoint exchange (GET /api/v1/verify, POST
 *     /api/v1/checkpoint);
 *   - the checked copy: entries pulled into a local store through
 *     ldg_append_copied(), every one checked as a local append checks
 *     it. It is `ledger mirror`'s copy and the private copy a remote
 *     rollback is built from: one fetcher for both; and a mirror's
 *     check of what it copied, from the head its last run checked
 *     (clt_anchor_get(), clt_verify_copy(): every mirror's one check);
 *   - waiting on the event stream (GET /api/v1/events);
 *   - the checked copy from a static C2SP tlog-tiles host (no ledger
 *     server): its checkpoint, the tiles and bundles its size needs
 *     (tileset.h checks them), appended as a server's pages are.
 * The webhook side of `ledger notify` (cursor file, signed POSTs,
 * backoff) lives beside it, in notify.h.
 * The signing key never leaves the process: entries are built and
 * signed here, and only their bytes travel.
 *
 * Like the library, nothing here prints or exits: functions return 0 or
 * a negative errno, the reason in struct ldg_err (cli/ words it for the
 * user). Codes: -EIO the server cannot be reached or answers outside
 * the protocol, -EPROTO an answer of the wrong type or size, -EPERM the
 * served entries are refused (they do not verify here, or do not extend
 * or reach what the server named), -EACCES/-EBUSY/-EINVAL what the
 * server refused (403, 423, 400/422), -EAGAIN gave up retrying.
 *
 * HTTP is libcurl's, and this library is linked only into ledger-http
 * (cli/http_exec.c says why). Single-threaded, like the commands: no
 * two calls at once.
 */
#ifndef CLT_CLIENT_H
#define CLT_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "entry.h"
#include "err.h"
#include "keys.h"
#include "names.h"
#include "ops.h"
#include "store.h"
#include "tlog.h"

/* The tries of one write: a 409 (the head moved) rebuilds and counts, a
 * 429 waits a second and counts separately. */
#define CLT_TRIES 30
/* The most entries one target's plan may make (a rollback and its
 * lock). */
#define CLT_PLAN_MAX 2
/* What one batch may hold: `ledger serve`'s limits (serve/writer.h,
 * and its 1 MiB body for msgpack). */
#define CLT_BATCH_MAX 64
#define CLT_BATCH_BYTES (1u << 20)
/* The most entries one page of GET /api/v1/entries?after= carries. */
#define CLT_PAGE_MAX 500

/* What GET /api/v1/head says. */
struct clt_head {
	uint64_t seq;
	uint8_t hash[LDG_HASH_BYTES];
	char origin[LDG_ORIGIN_MAX + 1];
};

/* GET /api/v1/head of base. -EIO when it cannot be had, is not a
 * ledger server's (no seq, hash and origin) or the server holds no
 * ledger. */
int clt_head_get(const char *base, struct clt_head *out, struct ldg_err *err);

/* The governance state (policies, freeze windows, pending proposals)
 * at base's head, from GET /api/v1/head's "authz" (empty from a server
 * that gives none); the caller frees out with ldg_gov_free(), also
 * after an error. */
int clt_gov_get(const char *base, struct ldg_gov *out, struct ldg_err *err);

/* Plans target i's entries on its state now, for the head (seq head,
 * entry hash hash) they will be sealed on: up to CLT_PLAN_MAX into out,
 * *n of them; none when there is nothing to do. now is the server's
 * word (GET /api/v1/state). */
typedef int (*clt_plan_fn)(size_t i, uint64_t head,
			   const uint8_t hash[LDG_HASH_BYTES],
			   const struct ldg_values *now, void *arg,
			   struct ldg_entry **out, size_t *n,
			   struct ldg_err *err);

/* Appends what plan makes for the nt targets on base, signed with k,
 * up to CLT_TRIES times: GET /api/v1/head; GET /api/v1/state?at=SEQ
 * &scope=TARGET per target (its values and lock at exactly that head);
 * (targets NULL with nt 1: one plan on no target's state, now empty,
 * of up to CLT_BATCH_MAX entries);
 * plan (nothing to do: stop, res->n 0); seal the entries one on another
 * from that head; POST them, one entry or one batch that the server
 * appends in one transaction (all or nothing). 409: another writer got
 * there first; wait (exponential backoff with full jitter) and rebuild
 * on the new head. res gets the appended entries (caller frees with
 * ldg_result_free()). -E2BIG more than CLT_BATCH_MAX entries or
 * CLT_BATCH_BYTES, nothing sent; -EAGAIN the head kept moving or the
 * server kept answering 429. */
int clt_write(const char *base, const struct ldg_signer *k,
	      const char *const *targets, size_t nt, clt_plan_fn plan,
	      void *arg, struct ldg_result *res, struct ldg_err *err);

/* Plans entries on r, a read of a checked copy of the served ledger
 * at the head they will be sealed on, to be signed by the key with id
 * signer: up to CLT_BATCH_MAX into out, *n of them (none: nothing to
 * do). */
typedef int (*clt_copy_plan_fn)(struct ldg_read *r,
				const uint8_t signer[LDG_KEYID_BYTES],
				void *arg, struct ldg_entry **out, size_t *n,
				struct ldg_err *err);
/* Called with the copy's store once it holds what was written. */
typedef void (*clt_copy_done_fn)(struct ldg_store *copy, void *arg);

/* clt_write() of entries that are not one target's (on a scope, or on a
 * proposal) or that need more of the ledger than a target's values (the
 * governance state: policies, windows, proposals, a soak's evidence):
 * planned on a checked copy of the served ledger, as clt_rollback()
 * plans, brought to each head the entries are sealed on. After the
 * write, done (may be NULL) reads the copy brought past the entries
 * written (a proposal's fate, from the entries themselves). */
int clt_write_copied(const char *base, const struct ldg_signer *k,
		     clt_copy_plan_fn plan, clt_copy_done_fn done, void *arg,
		     struct ldg_result *res, struct ldg_err *err);

/* Reads r, a checked copy of the served ledger at the server's head:
 * a front end renders from it what it renders from a local ledger. */
typedef int (*clt_read_fn)(struct ldg_read *r, void *arg, struct ldg_err *err);

/* The reads of `ledger --remote URL pending` and `policy show`: a
 * checked private copy of what base serves (every entry checked as
 * clt_rollback()'s copy is), brought to the server's head, then read
 * once by fn, and removed. The answer is the local command's, from
 * entries the client checked, never the server's word; it costs one
 * read of the whole ledger. -EPERM the served entries are refused. */
int clt_read_copied(const char *base, clt_read_fn fn, void *arg,
		    struct ldg_err *err);

/* ldg_rollback() through the server at base: every target of what (a
 * target, or each target of a cluster that differs) restored to its
 * state at seq to, and locked unless no_lock or locked already, as one
 * batch (clt_write()). The entries are built from a checked copy of the
 * served ledger, never from the server's word for the state at to: a
 * private ledger in $TMPDIR, removed before this returns, filled with
 * the served entries' exact bytes through ldg_append_copied() (strict
 * decoding, seq and prev, signatures by keys the copy's own entries
 * added, roles, scopes, locks and the rule of a rollback) and brought
 * to each head the entries are sealed on. A server can still withhold
 * its newest entries or serve a whole other ledger from entry 1 (a
 * checkpoint pins that); it cannot get k to sign a value no key of
 * that ledger signed. -EPERM the served entries are refused; -ENOENT
 * no such target or cluster there. */
int clt_rollback(const char *base, const struct ldg_signer *k, const char *what,
		 uint64_t to, const char *reason, const struct ldg_kv *meta,
		 size_t n_meta, bool no_lock, struct ldg_result *res,
		 struct ldg_err *err);

/* `ledger --remote URL checkpoint`: signs with k the tree head the
 * server's full check proves (GET /api/v1/verify: origin, head, root;
 * a ledger that does not verify is refused, -EPERM) and publishes it
 * there (POST /api/v1/checkpoint), where it is checked against the
 * ledger and kept. *note (caller frees) and *size: what was signed.
 * -EACCES k is not a trusted key there, -ESTALE a newer checkpoint is
 * published or the root differs, -ENOTSUP the server takes none, -EIO
 * unreachable. */
int clt_checkpoint(const char *base, const struct ldg_signer *k, char **note,
		   uint64_t *size, struct ldg_err *err);
/* Its two halves, for a note that gathers cosignatures in between
 * (`checkpoint --remote URL --witness`): the signed note of the tree
 * head the server's full check proves, and its publication. */
int clt_checkpoint_sign(const char *base, const struct ldg_signer *k,
			char **note, uint64_t *size, struct ldg_err *err);
int clt_checkpoint_publish(const char *base, const char *note,
			   struct ldg_err *err);

/* What a witness answered clt_witness_add(). */
struct clt_witness_answer {
	bool cosigned; /* lines holds its cosignature lines */
	bool fork;     /* it holds a tree this one does not extend (and
			* is not a prefix of this one either) */
	long status;   /* its last HTTP status (0: unreachable) */
	/* a fork: the witness's size and root, and this tree's root at
	 * that size (when this tree is that large) */
	uint64_t their_size;
	uint8_t their_root[LDG_HASH_BYTES];
	bool have_theirs, have_ours;
	uint8_t our_root[LDG_HASH_BYTES];
	char lines[4 * LDG_COSIG_LINE_MAX];
	/* cosigned: the key name and id of its (first) cosignature line */
	char key_name[LDG_KEYNAME_MAX + 1];
	uint8_t key_id[LDG_KEYID_BYTES];
	char what[LDG_ERR_MSG_MAX]; /* its answer, in words */
};

/* C2SP tlog-witness add-checkpoint of note (cp, parsed) at the witness
 * at url (its submission prefix): old size first old (0 when nothing
 * is known), with the consistency proof from node (a source of this
 * tree's hashes, tlog.h); on a 409 text/x.tlog.size, once more from
 * the size it names. ans says what it answered: its cosignature lines
 * (checked to be cosignature lines of note, not verified: the client
 * holds no witness keys; verify --witness-policy does), or why not. A
 * fork (422, or 409 at this size) fetches the witness's checkpoint
 * (GET url/checkpoint?origin=, Ledger's extension) to name its root.
 * 0 whenever the witness answered; -EIO unreachable (ans->what). */
int clt_witness_add(const char *url, const char *note,
		    const struct ldg_checkpoint *cp, uint64_t old,
		    ldg_node_fn node, void *arg, struct clt_witness_answer *ans,
		    struct ldg_err *err);
/* Whether a and b (both cosigned) are cosignatures by one key: one
 * witness, however many URLs reach it, counts once. */
bool clt_witness_same_key(const struct clt_witness_answer *a,
			  const struct clt_witness_answer *b);

/* What clt_pull() copied: the copy's head after it (also after an
 * error: every page appended stays) and how many entries were added. */
struct clt_pulled {
	uint64_t head;
	uint8_t hash[LDG_HASH_BYTES];
	uint64_t added;
};

/* Called after each page clt_pull() appends, with the copy's head. */
typedef void (*clt_page_fn)(uint64_t head, void *arg);

/* Brings s, a copy of what base serves (empty, or a prefix of it), to
 * the head the server named (named, from clt_head_get()), or past it
 * when past (every page until one comes back empty). First the copy is
 * proved a prefix: no more entries than named, and its newest entry
 * the server's, byte for byte (the hash chain makes that true of every
 * older one). Then the entries after it, a page at a time (GET
 * /api/v1/entries?after=SEQ), each page appended in one transaction by
 * ldg_append_copied(); fn (may be NULL) after each. Last, the entry at
 * named->seq must be there with named->hash. -EPERM when the served
 * entries are refused ("from URL: entry N: ...") or are not what the
 * server named (cut, rewritten, changed meanwhile); -EIO or -EPROTO
 * when they cannot be had; what the store says when it cannot take
 * them (-ENOSPC, ...). */
int clt_pull(const char *base, struct ldg_store *s,
	     const struct clt_head *named, bool past, clt_page_fn fn, void *arg,
	     struct clt_pulled *out, struct ldg_err *err);

/* ---- a copy from a tiles host (C2SP tlog-tiles) ---- */

/* GET base + "checkpoint" of a static tiles host (any Content-Type),
 * parsed; its signatures are checked by clt_tiles_pull(). -EIO
 * unreachable or no checkpoint there (not a tiles host), -EPROTO not a
 * checkpoint. */
int clt_tiles_checkpoint(const char *base, struct ldg_checkpoint *cp,
			 struct ldg_err *err);

/* Brings s, a copy (empty, or holding a prefix of the tree cp names),
 * to the cp->size entries of cp's tree from the static tiles host at
 * base, with no ledger server: the copy must hold cp->origin's ledger
 * (or none) and no more than cp->size entries, and its Merkle root at
 * its size must be the tiles'. It fetches exactly the tiles the copy
 * needs for that size (tileset.h; partial ones of cp->size's width only,
 * or the full one when a partial one is gone) and the entry bundles
 * after the copy's head; every tile must hash to cp->root and every
 * entry to its leaf (clt_tiles_check(), clt_bundle_split()) before any
 * entry is appended, so a host that serves a flipped, cut or missing
 * tile or bundle, or a checkpoint of another tree, leaves the copy as
 * it was. Then the entries and cp in one transaction
 * (ldg_append_copied_checkpoint(); fn, may be NULL, after it): every
 * entry checked as a local append checks it, and cp signed by a key of
 * the keyring they make (there by cp->size, not revoked), or nothing is
 * written. -EPERM refused ("BASE: ..." or "from BASE: ..."), -EIO or
 * -EPROTO the host cannot be had, what the store says when it cannot
 * take them. */
int clt_tiles_pull(const char *base, struct ldg_store *s,
		   const struct ldg_checkpoint *cp, clt_page_fn fn, void *arg,
		   struct clt_pulled *out, struct ldg_err *err);

/* Where a mirror's check of what it copies starts: the head the last
 * check of the copy passed at, as DIR/CLT_CHECKED_FILE records it, and
 * the stored Merkle root there. 0 (the whole copy is checked) for a
 * first copy, when the file is missing or unreadable, or when the
 * copy's root at that size is no longer the one recorded. A run that
 * failed (a lost connection, a refused page, a copy that did not
 * verify) leaves the file as it was, so the next run checks again
 * from the head the last good check passed at. */
struct clt_anchor {
	uint64_t size;
	uint8_t root[LDG_HASH_BYTES];
};

/* The file in a mirror's ledger directory that records the head its
 * last check passed at: "SIZE HEXROOT\n", replaced atomically. */
#define CLT_CHECKED_FILE "mirror-checked"

int clt_anchor_get(struct ldg_store *s, struct clt_anchor *out,
		   struct ldg_err *err);

/* What both mirrors (`ledger mirror URL` and `ledger mirror --tiles
 * URL`) run when the copy's head is past a->size: the
 * incremental check of `ledger verify --since` from a (ldg_verify_copy():
 * a full check for a first copy or a version 1 entry there), so that the
 * copy is judged by the verifier's own replay, not only by the appends'
 * checks against its indexes. *full says which ran. Once it passes, the
 * head it checked is recorded in DIR/CLT_CHECKED_FILE. -EPERM when the
 * copy does not verify (err: "the copy does not verify: entry N:
 * ..."), the entries copied staying; other errors when the check
 * cannot run or its head cannot be recorded. */
int clt_verify_copy(struct ldg_store *s, const struct clt_anchor *a, bool *full,
		    struct ldg_err *err);

/* A checked private copy of what base serves, a ledger in $TMPDIR
 * removed by clt_copy_close(): what clt_rollback() and
 * clt_read_copied() are built from, and what `ledger --remote URL
 * notify` renders its messages from. */
struct clt_copy;

int clt_copy_open(const char *base, struct clt_copy **out, struct ldg_err *err);
/* Brings the copy to exactly entry head, whose hash must be hash
 * (clt_pull()); head 0: the server's head now. */
int clt_copy_sync(struct clt_copy *cp, uint64_t head,
		  const uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err);
/* The copy's store, for reads; borrowed, lives with cp. */
struct ldg_store *clt_copy_store(struct clt_copy *cp);
void clt_copy_close(struct clt_copy *cp);

/* Waits on GET /api/v1/events?after=after for one new entry: 0 when one
 * is announced, 1 when *stop was set, -EIO when the stream cannot be had
 * or ends. */
int clt_wait_event(const char *base, uint64_t after,
		   volatile sig_atomic_t *stop, struct ldg_err *err);

#endif
