/*
 * render.h - every JSON and YAML shape, and the text tables, that users
 * read: the CLI's --json, the HTTP API (serve/) and its web page, and the
 * mount (fs/) take their bytes from here, so `ledger show 42 --json`,
 * `GET /api/v1/entries/42` and `cat entries/42.json` are one function's
 * output. Each shape has exactly one producer in this file; a front end
 * adds only its envelope (the API's {"keys": [...]}, an SSE data line).
 * docs/api.md defines each JSON shape once; docs/ledger.1 refers to it.
 *
 * This directory is the only one beside the front ends that links
 * libyaml, and the only one that makes JSON shapes: the core library
 * (ledger/) links jansson for one thing, the canonical form of typed
 * values (value.h), and renders nothing.
 *
 * Functions named rnd_X render into a malloc'd, NUL-terminated buffer
 * (*out, *len without the NUL) that the caller frees; rnd_X_json build a
 * jansson value (a new reference the caller owns, NULL on failure).
 * They read through r only; nothing is printed. On failure *out is not
 * set and err (when not NULL) says why.
 *
 * Thread-safe as far as store.h allows: each thread with its own r.
 */
#ifndef RND_RENDER_H
#define RND_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gov.h"
#include "store.h"
#include "tiles.h"
#include "trust.h"
#include "verify.h"

/* A value as JSON (the API, --json): a string as a JSON string, a typed
 * value (docs/format.md 3.2) as the JSON value its canonical text is.
 * jansson prints a float with 17 significant digits (the same double as
 * the text's shortest form). NULL on allocation failure. */
json_t *rnd_value_json(enum ldg_vtype type, const char *value);
/* How the text forms join a key and its value: "=" for a string, ":="
 * for a typed value (the syntax of `ledger set`). */
const char *rnd_assign(enum ldg_vtype type);

/* `ledger show SEQ` text or JSON. */
int rnd_show(struct ldg_read *r, uint64_t seq, bool json, char **out,
	     size_t *len, struct ldg_err *err);

/* `ledger history TARGET`: REVISION UPDATED STATUS CHANGES AUTHOR
 * DESCRIPTION, oldest first like `helm history`; only entries up to at
 * (0 = the head). target may be a cluster: its releases' entries and its
 * own (auto applies), with a TARGET column. -ENOENT when there is no
 * history there. */
int rnd_history(struct ldg_read *r, const char *target, uint64_t at, bool json,
		char **out, size_t *len, struct ldg_err *err);
/* One page of it: the newest max entries (0: all) older than seq before
 * (0: up to the head), oldest first. A page past the target's first entry
 * is empty ("[]", or the header alone), not -ENOENT. */
int rnd_history_page(struct ldg_read *r, const char *target, uint64_t before,
		     size_t max, bool json, char **out, size_t *len,
		     struct ldg_err *err);

/* A target's values at a seq (0 = head) as nested YAML (libyaml): dotted
 * keys become nested mappings; every string value double-quoted, so tags
 * like 1e10, 0x1f, true or 007 stay strings; a typed value unquoted, so
 * that it reads back as its type (null, true, 3, 1.5; an array a flow
 * sequence: [1, "a", true]). Where a key is both a
 * value and the parent of other keys ("image" and "image.tag"), the
 * mapping wins and the scalar is left out (Helm cannot hold both);
 * *dropped counts such keys when dropped is not NULL. */
int rnd_values_yaml(const struct ldg_values *v, char **out, size_t *len,
		    size_t *dropped);

/* `ledger log [SCOPE] [-n N]`, newest first. */
int rnd_log(struct ldg_read *r, const char *scope, size_t max, bool json,
	    char **out, size_t *len, struct ldg_err *err);

/* `ledger state [SCOPE] [--at SEQ]`: "TARGET KEY=VALUE" lines and a
 * "TARGET [locked since seq N: REASON]" line per locked target; or JSON
 * {"at", "targets": {TARGET: {"values", "locked"}}}. scope: NULL, a
 * cluster or a target; at 0 = the head. */
int rnd_state(struct ldg_read *r, const char *scope, uint64_t at, bool json,
	      char **out, size_t *len, struct ldg_err *err);

/* `ledger status [SCOPE]`: per target at the head its values, the entry
 * that last changed them (who, when, why), its lock, its newest
 * applied/apply-failed entry and, when drifted, since when ("...;
 * drifted since 12 (TIME)" in the APPLY column); a table, or JSON
 * {"head", "releases": [{"target", "cluster", "release", "values",
 * "changed", "locked", "apply", "drift", "policy", "frozen"}]}
 * (docs/api.md): "drift" the newest drift entry as {"status", "seq",
 * "time"} or null (never checked), "policy" the one that
 * applies (rnd_policy_json()) or null, "frozen" the freeze window active
 * at now (unix seconds; rnd_window_json(), the one that ends last) or
 * null. Targets whose keys are all unset and that are not locked are
 * left out. scope: NULL, a cluster or a target. */
int rnd_releases(struct ldg_read *r, const char *scope, int64_t now, bool json,
		 char **out, size_t *len, struct ldg_err *err);

/* The mount's CLUSTER/RELEASE/DRIFT: "drifted since SEQ TIME" and the
 * tail of the diff, or "in-sync since SEQ TIME" (TIME UTC to the
 * second, "2026-12-05T23:40:00Z"), from target's newest drift entry
 * (*seq). -ENOENT when it was never checked. */
int rnd_drift(struct ldg_read *r, const char *target, char **out, size_t *len,
	      uint64_t *seq, struct ldg_err *err);

/* `ledger diff A B [SCOPE]`: "TARGET KEY: OLD -> NEW" per changed key
 * ("(unset)" for none, the lock as key "[lock]"); or a JSON array of
 * {"target", "key", "from", "to"}. */
int rnd_diff(struct ldg_read *r, uint64_t a, uint64_t b, const char *scope,
	     bool json, char **out, size_t *len, struct ldg_err *err);

/* `ledger get TARGET [KEY] --json`: {"target", "at", "values"} with the
 * values of v (only key's when key is not NULL); at 0 = the head. */
json_t *rnd_get_json(const char *target, uint64_t at,
		     const struct ldg_values *v, const char *key);

/* An entry as a JSON object (`ledger show --json`, GET
 * /api/v1/entries/SEQ, the events' data, a draft's "entry"). Under
 * promotion policies (version 2 entries) it gains, only where they
 * apply: "emergency": true (metadata emergency), and "proposal" for a
 * change recorded as a proposal ({"seq", "status", "at", "need",
 * "approvals": [{"key", "seq"}]}) and for an approve or withdraw (the
 * same of the proposal it names, without "approvals"). */
json_t *rnd_entry_json(struct ldg_read *r, const struct ldg_entry *e,
		       const uint8_t hash[LDG_HASH_BYTES]);
/* Whether the JSON of stored entry seq is final: false while it names a
 * pending proposal (its "proposal" member changes when the proposal
 * ends), and when it cannot be read. */
bool rnd_entry_settled(struct ldg_read *r, uint64_t seq);
/* The same for stored entry seq, with its stored hash: *out is the
 * object, or -ENOENT (no such entry), -EIO, -ENOMEM with err set. */
int rnd_entry_json_at(struct ldg_read *r, uint64_t seq, json_t **out,
		      struct ldg_err *err);

/* One keyring row: {"name", "keyid", "vkey", "role", "scopes",
 * "added_seq", "revoked_seq"} (revoked_seq null while trusted). */
json_t *rnd_key_json(const struct ldg_keyinfo *ki);
/* The keyring, sorted by name, as an array of rnd_key_json() rows
 * (`ledger key list --json`; GET /api/v1/keys wraps it in {"keys"}). */
int rnd_keyring_json(struct ldg_read *r, json_t **out, struct ldg_err *err);

/* The report of ldg_verify() that returned vrc (0 or -EBADMSG):
 * {"ok", "entries", "head", "hash", "root", "origin"}, and "bad_seq"
 * (null for an index) and "problem" when it failed (`ledger verify
 * --json`, GET /api/v1/verify). */
json_t *rnd_verify_json(const struct ldg_verify_report *rep, int vrc);

/* `ledger verify --witness-policy`: adds to verify (rnd_verify_json())
 * "cosignatures", one object per checkpoint file: {"checkpoint" (the
 * file), "quorum", "met", "witnesses": [{"name", "key", "status"
 * ("cosigned", "absent", "bad"), "time" (null unless cosigned)}]}, the
 * witnesses in the policy's order. 0 or -ENOMEM. */
int rnd_verify_cosig(json_t *verify, const char *const *files,
		     const struct ldg_trust_report *reps, size_t n);

/* What ldg_tiles_export() did into dir for a ledger of origin:
 * {"dir", "origin", "size", "from", "tiles", "bytes"} (`ledger tiles
 * --json`). */
json_t *rnd_tiles_json(const char *dir, const char *origin,
		       const struct ldg_tiles_stats *st);

/* What entry seq proves on its own (ldg_entry_prove()): {"seq", "hash",
 * "signature", "signer_key", "key" (a keyring row or null), "chain"}
 * (GET /api/v1/entries/SEQ/check). */
json_t *rnd_entry_proof_json(uint64_t seq, const struct ldg_entry_proof *pr);

/* ---- promotion policies (gov.h) ---- */

/* A policy: {"scope", "seq", "approvals" (0: none), "gate_rollbacks",
 * "soak" (seconds) and "from" (a cluster), both null without a soak}. */
json_t *rnd_policy_json(const struct ldg_policy *p);
/* A freeze window: {"seq", "scope", "reason", "from", "until" (UTC,
 * absolute windows), "cron", "duration" (seconds), "tz" (recurring
 * ones; the other form's members null), "active" (at now, unix
 * seconds; null when the window's zone is not in this machine's tz
 * database), "ends" (when active: the UTC end, else null), "next"
 * (when not active: the UTC start of its next opening, null when it
 * will not open again)}. The reason is the freeze entry's. */
json_t *rnd_window_json(struct ldg_read *r, const struct ldg_window *w,
			int64_t now);
/* A proposal: {"seq", "target", "author" (a key name), "need",
 * "approvals": [{"key", "seq"}] (every approve entry of it, oldest
 * first), "emergency", "status" (pending, effective, withdrawn, stale),
 * "kind", "changes" (as an entry's)}. */
json_t *rnd_proposal_json(struct ldg_read *r, const struct ldg_proposal *p);

/* The approvals of pending proposal p as text: "1 of 2 (has: bob)",
 * a revoked approver's marked and not counted (the pending table's
 * column, approve's second line). */
int rnd_approvals(struct ldg_read *r, const struct ldg_proposal *p, char **out);

/* `ledger policy show [TARGET]` at the head, windows judged at now
 * (unix seconds). Without target every policy and window: two tables,
 * or {"policies": [...], "windows": [...]}. With target which policy
 * applies and why, and the windows that cover it: lines, or {"target",
 * "policy" (the one that applies, or null), "matching" (every policy
 * whose scope matches, by scope), "windows"}. */
int rnd_policy_show(struct ldg_read *r, const char *target, int64_t now,
		    bool json, char **out, size_t *len, struct ldg_err *err);

/* `ledger pending [SCOPE]`: the pending proposals on targets scope (a
 * glob; NULL: all) matches, oldest first: a table SEQ UPDATED TARGET
 * KIND (marking an emergency) CHANGES AUTHOR APPROVALS (rnd_approvals())
 * WAITS FOR (the approvals missing, and a freeze window open at now,
 * unix seconds), or an array of rnd_proposal_json(). */
int rnd_pending(struct ldg_read *r, const char *scope, int64_t now, bool json,
		char **out, size_t *len, struct ldg_err *err);

/* One pending proposal as "key: value" lines (the mount's pending/SEQ):
 * seq, target, kind, changes (as in history's CHANGES), author, time,
 * reason, emergency and forced (yes/no), "approvals: " and
 * rnd_approvals(), and "waits for: N more approval(s) by a deployer or
 * admin key covering TARGET, other than AUTHOR, APPROVER, ...".
 * -ENOENT when seq is not a pending proposal. */
int rnd_proposal(struct ldg_read *r, uint64_t seq, char **out, size_t *len,
		 struct ldg_err *err);

/* The message `ledger notify` POSTs for stored entry seq, a JSON object
 * {"text", "entry"}: "entry" is rnd_entry_json() (`ledger show --json`),
 * "text" one line for Slack and Mattermost, "WHO KIND TARGET CHANGES
 * (seq N): REASON <LINK>": CHANGES as in history's column (cut after
 * RND_NOTIFY_CHANGES_MAX bytes with "..."), ", proposal: needs K
 * approvals" after the seq while the entry is a pending proposal, and
 * the link, LINK_BASE/#/e/SEQ (the entry on `ledger serve`'s page),
 * only when link_base is not NULL. Display controls are named as in
 * every text ("<U+202E>"), and '&', '<' and '>' outside the link are
 * written &amp; &lt; &gt; as Slack's markup asks (Mattermost shows
 * them as the characters too). */
#define RND_NOTIFY_CHANGES_MAX 300
int rnd_notify(struct ldg_read *r, uint64_t seq, const char *link_base,
	       char **out, size_t *len, struct ldg_err *err);

/* Serialises j (stealing the reference, also on failure) indented, in
 * insertion order, with a trailing newline: -ENOMEM when j is NULL. */
int rnd_json_out(json_t *j, char **out, size_t *len);

#endif
