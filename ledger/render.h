/*
 * render.h - the text and JSON that users read, produced once here so the
 * command line and the mounted view show the same bytes (`ledger show 42`
 * and `cat entries/42` are identical).
 *
 * Every function renders into a malloc'd, NUL-terminated buffer (*out,
 * *len without the NUL) that the caller frees, and reads through r only;
 * nothing is printed. JSON is produced with jansson.
 *
 * Thread-safe as far as store.h allows: each thread with its own r.
 */
#ifndef LDG_RENDER_H
#define LDG_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* `ledger show SEQ` text or JSON. */
int ldg_render_show(struct ldg_read *r, uint64_t seq, bool json, char **out,
		    size_t *len, struct ldg_err *err);

/* `ledger history TARGET`: REVISION UPDATED STATUS CHANGES AUTHOR
 * DESCRIPTION, oldest first like `helm history`; only entries up to at
 * (0 = the head). target may be a cluster: its releases' entries and its
 * own (auto applies), with a TARGET column. -ENOENT when there is no
 * history there. */
int ldg_render_history(struct ldg_read *r, const char *target, uint64_t at,
		       bool json, char **out, size_t *len,
		       struct ldg_err *err);
/* One page of it: the newest max entries (0: all) older than seq before
 * (0: up to the head), oldest first. A page past the target's first entry
 * is empty ("[]", or the header alone), not -ENOENT. */
int ldg_render_history_page(struct ldg_read *r, const char *target,
			    uint64_t before, size_t max, bool json,
			    char **out, size_t *len, struct ldg_err *err);

/* A target's values at a seq (0 = head) as nested YAML (libyaml): dotted
 * keys become nested mappings, every value a double-quoted string, so
 * tags like 1e10, 0x1f, true or 007 stay strings. Where a key is both a
 * value and the parent of other keys ("image" and "image.tag"), the
 * mapping wins and the scalar is left out (Helm cannot hold both);
 * *dropped counts such keys when dropped is not NULL. */
int ldg_render_values_yaml(const struct ldg_values *v, char **out,
			   size_t *len, size_t *dropped);

/* `ledger log [SCOPE] [-n N]`, newest first. */
int ldg_render_log(struct ldg_read *r, const char *scope, size_t max,
		   bool json, char **out, size_t *len, struct ldg_err *err);

/* `ledger state [SCOPE] [--at SEQ]`: "TARGET KEY=VALUE" lines and a
 * "TARGET [locked since seq N: REASON]" line per locked target; or JSON
 * {"at", "targets": {TARGET: {"values", "locked"}}}. scope: NULL, a
 * cluster or a target; at 0 = the head. */
int ldg_render_state(struct ldg_read *r, const char *scope, uint64_t at,
		     bool json, char **out, size_t *len, struct ldg_err *err);

/* `ledger status [SCOPE]`: per target at the head its values, the entry
 * that last changed them (who, when, why), its lock and its newest
 * applied/apply-failed entry; a table, or JSON {"head", "releases":
 * [{"target", "cluster", "release", "values", "changed", "locked",
 * "apply"}]} (docs/api.md). Targets whose keys are all unset and that
 * are not locked are left out. scope: NULL, a cluster or a target. */
int ldg_render_releases(struct ldg_read *r, const char *scope, bool json,
			char **out, size_t *len, struct ldg_err *err);

/* `ledger diff A B [SCOPE]`: "TARGET KEY: OLD -> NEW" per changed key
 * ("(unset)" for none, the lock as key "[lock]"); or a JSON array of
 * {"target", "key", "from", "to"}. */
int ldg_render_diff(struct ldg_read *r, uint64_t a, uint64_t b,
		   const char *scope, bool json, char **out, size_t *len,
		   struct ldg_err *err);

/* An entry as a JSON object (new reference), or NULL on failure. */
json_t *ldg_entry_json(struct ldg_read *r, const struct ldg_entry *e,
		       const uint8_t hash[LDG_HASH_BYTES]);

/* Writes "NAME" of the entry's signer (or the hex key id) into out. */
void ldg_signer_name(struct ldg_read *r, const struct ldg_entry *e, char *out,
		     size_t outlen);

/* "image.tag=3f2a9c1, -replicas" */
int ldg_render_changes(const struct ldg_entry *e, char **out);

/* Serialises j (stealing the reference) with a trailing newline. */
int ldg_json_out(json_t *j, char **out, size_t *len);

#endif
