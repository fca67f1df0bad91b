#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gov.h"
#include "keys.h"
#include "render.h"
#include "route.h"
#include "util.h"

/* ---- parsing ---- */

/* Copies a name already checked to fit. */
static void copy_name(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Next path segment of *p into seg; false at the end or when too long. */
static bool next_seg(const char **p, char *seg, size_t cap, bool *toolong)
{
	size_t n;

	while (**p == '/')
		(*p)++;
	if (!**p)
		return false;
	n = strcspn(*p, "/");
	if (n >= cap) {
		*toolong = true;
		return false;
	}
	memcpy(seg, *p, n);
	seg[n] = '\0';
	*p += n;
	return true;
}

/* A seq as a name: one name per seq, so no 0 and no leading zero (no
 * entries/04). */
static int seq_name(const char *seg, uint64_t *seq)
{
	return seg[0] == '0' || ldg_parse_seq(seg, seq) ? -ENOENT : 0;
}

static int parse_clusters(const char *rest, struct lfs_path *out)
{
	char seg[LDG_KEY_MAX + 2], release[LDG_RELEASE_MAX + 1];
	bool toolong = false;

	out->node = LFS_CLUSTERS;
	if (!next_seg(&rest, seg, sizeof(seg), &toolong))
		return toolong ? -ENOENT : 0;
	if (ldg_check_cluster(seg, NULL))
		return -ENOENT;
	copy_name(out->cluster, sizeof(out->cluster), seg);
	out->node = LFS_CLUSTER;
	if (!next_seg(&rest, seg, sizeof(seg), &toolong))
		return toolong ? -ENOENT : 0;
	if (ldg_check_release(seg, NULL))
		return -ENOENT;
	copy_name(release, sizeof(release), seg);
	snprintf(out->target, sizeof(out->target), "%s/%s", out->cluster,
		 release);
	out->node = LFS_RELEASE;
	if (!next_seg(&rest, seg, sizeof(seg), &toolong))
		return toolong ? -ENOENT : 0;
	if (!strcmp(seg, "values.yaml"))
		out->node = LFS_VALUES;
	else if (!strcmp(seg, "history"))
		out->node = LFS_HISTORY;
	else if (!strcmp(seg, "LOCKED"))
		out->node = LFS_LOCKED;
	else if (!strcmp(seg, "POLICY"))
		out->node = LFS_POLICY;
	else if (!strcmp(seg, "PENDING"))
		out->node = LFS_PENDING;
	else if (!strcmp(seg, "DRIFT"))
		out->node = LFS_DRIFT;
	else if (ldg_check_key(seg, NULL) == 0)
		out->node = LFS_KEY;
	else
		return -ENOENT;
	copy_name(out->leaf, sizeof(out->leaf), seg);
	return next_seg(&rest, seg, sizeof(seg), &toolong) || toolong ? -ENOENT
								      : 0;
}

int lfs_parse(const char *path, struct lfs_path *out)
{
	char seg[LDG_KEY_MAX + 2];
	bool toolong = false;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->node = LFS_ROOT;
	if (!next_seg(&path, seg, sizeof(seg), &toolong))
		return toolong ? -ENOENT : 0;
	if (!strcmp(seg, "HEAD")) {
		out->node = LFS_HEAD;
	} else if (!strcmp(seg, "clusters")) {
		return parse_clusters(path, out);
	} else if (!strcmp(seg, "entries")) {
		out->node = LFS_ENTRIES;
		if (next_seg(&path, seg, sizeof(seg), &toolong)) {
			n = strlen(seg);
			out->node = LFS_ENTRY;
			if (n > 5 && !strcmp(seg + n - 5, ".json")) {
				seg[n - 5] = '\0';
				out->node = LFS_ENTRY_JSON;
			}
			if (seq_name(seg, &out->seq))
				return -ENOENT;
		}
	} else if (!strcmp(seg, "at")) {
		out->node = LFS_AT;
		if (next_seg(&path, seg, sizeof(seg), &toolong)) {
			if (seq_name(seg, &out->at))
				return -ENOENT;
			out->node = LFS_AT_SEQ;
			if (next_seg(&path, seg, sizeof(seg), &toolong)) {
				if (strcmp(seg, "clusters"))
					return -ENOENT;
				return parse_clusters(path, out);
			}
		}
	} else if (!strcmp(seg, "policies")) {
		out->node = LFS_POLICIES;
	} else if (!strcmp(seg, "pending")) {
		out->node = LFS_PROPOSALS;
		if (next_seg(&path, seg, sizeof(seg), &toolong)) {
			if (seq_name(seg, &out->seq))
				return -ENOENT;
			out->node = LFS_PROPOSAL;
		}
	} else if (!strcmp(seg, "keys")) {
		out->node = LFS_KEYS;
		if (next_seg(&path, seg, sizeof(seg), &toolong)) {
			n = strlen(seg);
			if (n < 5 || strcmp(seg + n - 4, ".pub"))
				return -ENOENT;
			seg[n - 4] = '\0';
			if (ldg_check_keyname(seg, NULL))
				return -ENOENT;
			copy_name(out->leaf, sizeof(out->leaf), seg);
			out->node = LFS_KEYFILE;
		}
	} else {
		return -ENOENT;
	}
	if (toolong || next_seg(&path, seg, sizeof(seg), &toolong))
		return -ENOENT;
	return 0;
}

/* ---- helpers ---- */

static int head_seq(struct ldg_read *r, uint64_t *head)
{
	return ldg_head(r, head, NULL);
}

/* Checks an at/SEQ is inside the log. */
static int at_ok(struct ldg_read *r, const struct lfs_path *p)
{
	uint64_t head;
	int rc = head_seq(r, &head);

	if (rc)
		return rc;
	return p->at > head ? -ENOENT : 0;
}

static int text_out(const char *s, char **buf, size_t *len)
{
	*len = strlen(s);
	*buf = strdup(s);
	return *buf ? 0 : -ENOMEM;
}

/* The state of the path's target; -ENOENT when it has nothing there. */
static int target_state(struct ldg_read *r, const struct lfs_path *p,
			struct ldg_values *v)
{
	int rc = p->at ? at_ok(r, p) : 0;

	if (rc)
		return rc;
	rc = ldg_state_get(r, p->target, p->at, v);
	if (rc)
		return rc;
	if (v->n == 0 && !v->lock_seq) {
		ldg_values_free(v);
		return -ENOENT;
	}
	return 0;
}

/* Calls fn for every target under prefix with something in it at p->at
 * (with empty, also those whose keys are all unset and that are not
 * locked), with its state; stops when fn returns nonzero. */
static int each_target(struct ldg_read *r, const struct lfs_path *p,
		       const char *prefix, bool empty,
		       int (*fn)(const char *t, const struct ldg_values *v,
				 void *ctx),
		       void *ctx)
{
	char **targets;
	size_t n;
	int rc = p->at ? at_ok(r, p) : 0;

	if (rc)
		return rc;
	rc = ldg_targets_list(r, prefix, p->at, &targets, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		struct ldg_values v;
		rc = ldg_state_get(r, targets[i], p->at, &v);
		if (rc)
			break;
		if (empty || v.n || v.lock_seq)
			rc = fn(targets[i], &v, ctx);
		ldg_values_free(&v);
	}
	ldg_strv_free(targets, n);
	return rc > 0 ? 0 : rc;
}

/* ---- promotion policies: what POLICY and PENDING need ----
 *
 * Only the current view has them: a proposal is not a value (at/SEQ/
 * shows the values in effect at SEQ), and what POLICY says of a freeze
 * window depends on the clock. */

static int64_t now_s(void)
{
	return (int64_t)(ldg_now_ns() / 1000000000u);
}

/* The newest policy or freeze entry of g that matches target (NULL:
 * any); 0 when none does. */
static uint64_t gov_seq(const struct ldg_gov *g, const char *target)
{
	uint64_t seq = 0;

	for (size_t i = 0; i < g->n_pol; i++)
		if ((!target || ldg_scope_match(g->pol[i].scope, target)) &&
		    g->pol[i].seq > seq)
			seq = g->pol[i].seq;
	for (size_t i = 0; i < g->n_win; i++)
		if ((!target || ldg_scope_match(g->win[i].scope, target)) &&
		    g->win[i].seq > seq)
			seq = g->win[i].seq;
	return seq;
}

/* 0 when a policy's scope or a freeze window's matches target (all that
 * `ledger policy show TARGET` lists), with the newest of their seqs;
 * -ENOENT when none does. */
static int governed(struct ldg_read *r, const char *target, uint64_t *mtime_seq)
{
	struct ldg_gov g;
	int rc = ldg_gov_load(r, 0, &g, NULL);

	if (rc)
		return rc;
	*mtime_seq = gov_seq(&g, target);
	ldg_gov_free(&g);
	return *mtime_seq ? 0 : -ENOENT;
}

/* 0 when target has a pending proposal, else -ENOENT. */
static int pending_on(struct ldg_read *r, const char *target)
{
	struct ldg_gov g;
	int rc = ldg_gov_load(r, 0, &g, NULL);

	if (rc)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < g.n_pend && rc; i++)
		if (!strcmp(g.pend[i].target, target))
			rc = 0;
	ldg_gov_free(&g);
	return rc;
}

/* ---- root, HEAD ---- */

static int exists_always(struct ldg_read *r, const struct lfs_path *p,
			 uint64_t *mtime_seq)
{
	return head_seq(r, mtime_seq);
}

static int list_root(struct ldg_read *r, const struct lfs_path *p, off_t off,
		     lfs_add_fn add, void *ctx)
{
	if (add(ctx, "HEAD", false, 0) || add(ctx, "clusters", true, 0) ||
	    add(ctx, "entries", true, 0) || add(ctx, "at", true, 0) ||
	    add(ctx, "keys", true, 0) || add(ctx, "policies", false, 0))
		return 0;
	add(ctx, "pending", true, 0);
	return 0;
}

static int render_head(struct ldg_read *r, const struct lfs_path *p, char **buf,
		       size_t *len, uint64_t *mtime_seq)
{
	uint8_t hash[LDG_HASH_BYTES];
	char hex[2 * LDG_HASH_BYTES + 1], line[128];
	int rc = ldg_head(r, mtime_seq, hash);

	if (rc)
		return rc;
	ldg_hex(hash, LDG_HASH_BYTES, hex);
	snprintf(line, sizeof(line), "%llu %s\n",
		 (unsigned long long)*mtime_seq, hex);
	return text_out(line, buf, len);
}

/* ---- clusters/ and at/SEQ/clusters/ ---- */

struct listing {
	lfs_add_fn add;
	void *ctx;
	char last[LDG_CLUSTER_MAX + 1];
	uint64_t mtime;
	bool found;
};

static int add_cluster(const char *t, const struct ldg_values *v, void *ctx)
{
	struct listing *l = ctx;
	char cluster[LDG_CLUSTER_MAX + 1];
	const char *release;

	ldg_target_split(t, cluster, &release);
	if (!strcmp(cluster, l->last))
		return 0;
	snprintf(l->last, sizeof(l->last), "%s", cluster);
	return l->add(l->ctx, cluster, true, 0) ? 1 : 0;
}

static int list_clusters(struct ldg_read *r, const struct lfs_path *p,
			 off_t off, lfs_add_fn add, void *ctx)
{
	struct listing l = { .add = add, .ctx = ctx };

	return each_target(r, p, NULL, false, add_cluster, &l);
}

static int exists_clusters(struct ldg_read *r, const struct lfs_path *p,
			   uint64_t *mtime_seq)
{
	int rc = p->at ? at_ok(r, p) : 0;

	if (rc)
		return rc;
	if (p->at) {
		*mtime_seq = p->at;
		return 0;
	}
	return head_seq(r, mtime_seq);
}

struct cluster_seen {
	bool found;
	uint64_t mtime_seq;
};

static int see_release(const char *t, const struct ldg_values *v, void *ctx)
{
	struct cluster_seen *cs = ctx;

	cs->found |= v->n || v->lock_seq;
	if (v->mtime_seq > cs->mtime_seq)
		cs->mtime_seq = v->mtime_seq;
	return 0;
}

/* A cluster exists while one of its releases has something; its mtime is
 * the last change to any release, one that emptied a release included. */
static int exists_cluster(struct ldg_read *r, const struct lfs_path *p,
			  uint64_t *mtime_seq)
{
	char prefix[LDG_CLUSTER_MAX + 2];
	struct cluster_seen cs = { false, 0 };
	int rc;

	snprintf(prefix, sizeof(prefix), "%s/", p->cluster);
	rc = each_target(r, p, prefix, true, see_release, &cs);
	if (rc)
		return rc;
	*mtime_seq = cs.mtime_seq;
	return cs.found ? 0 : -ENOENT;
}

static int add_release(const char *t, const struct ldg_values *v, void *ctx)
{
	struct listing *l = ctx;

	return l->add(l->ctx, strchr(t, '/') + 1, true, 0) ? 1 : 0;
}

static int list_cluster(struct ldg_read *r, const struct lfs_path *p, off_t off,
			lfs_add_fn add, void *ctx)
{
	struct listing l = { .add = add, .ctx = ctx };
	char prefix[LDG_CLUSTER_MAX + 2];

	snprintf(prefix, sizeof(prefix), "%s/", p->cluster);
	return each_target(r, p, prefix, false, add_release, &l);
}

static int exists_release(struct ldg_read *r, const struct lfs_path *p,
			  uint64_t *mtime_seq)
{
	struct ldg_values v;
	int rc = target_state(r, p, &v);

	if (rc)
		return rc;
	*mtime_seq = v.mtime_seq;
	ldg_values_free(&v);
	return 0;
}

static bool special_name(const char *name)
{
	return !strcmp(name, "values.yaml") || !strcmp(name, "history") ||
	       !strcmp(name, "LOCKED") || !strcmp(name, "POLICY") ||
	       !strcmp(name, "PENDING") || !strcmp(name, "DRIFT");
}

static int list_release(struct ldg_read *r, const struct lfs_path *p, off_t off,
			lfs_add_fn add, void *ctx)
{
	uint64_t mtime;
	struct ldg_values v;
	int rc = target_state(r, p, &v);

	if (rc)
		return rc;
	for (size_t i = 0; i < v.n; i++) {
		/* a key named like a special file is only in values.yaml */
		if (special_name(v.v[i].key))
			continue;
		if (add(ctx, v.v[i].key, false, 0))
			goto out_values;
	}
	if (add(ctx, "values.yaml", false, 0) || add(ctx, "history", false, 0))
		goto out_values;
	if (v.lock_seq && add(ctx, "LOCKED", false, 0))
		goto out_values;
	/* policies are now: at/SEQ/ shows values only */
	if (!p->at && !governed(r, p->target, &mtime) &&
	    add(ctx, "POLICY", false, 0))
		goto out_values;
	if (!p->at && !pending_on(r, p->target) &&
	    add(ctx, "PENDING", false, 0))
		goto out_values;
	/* the newest check is now, like the policy */
	if (!p->at && !ldg_last_drift(r, p->target, &mtime) && mtime)
		add(ctx, "DRIFT", false, 0);
out_values:
	ldg_values_free(&v);
	return 0;
}

static int render_key(struct ldg_read *r, const struct lfs_path *p, char **buf,
		      size_t *len, uint64_t *mtime_seq)
{
	const struct ldg_value *val;
	struct ldg_values v;
	int rc = target_state(r, p, &v);

	if (rc)
		return rc;
	val = ldg_values_find(&v, p->leaf);
	if (!val) {
		rc = -ENOENT;
	} else {
		*mtime_seq = val->seq;
		*len = strlen(val->value) + 1;
		*buf = malloc(*len + 1);
		if (*buf)
			snprintf(*buf, *len + 1, "%s\n", val->value);
		else
			rc = -ENOMEM;
	}
	ldg_values_free(&v);
	return rc;
}

static int render_values(struct ldg_read *r, const struct lfs_path *p,
			 char **buf, size_t *len, uint64_t *mtime_seq)
{
	struct ldg_values v;
	int rc = target_state(r, p, &v);

	if (rc)
		return rc;
	*mtime_seq = v.values_mtime_seq;
	rc = rnd_values_yaml(&v, buf, len, NULL);
	ldg_values_free(&v);
	return rc;
}

static int render_history(struct ldg_read *r, const struct lfs_path *p,
			  char **buf, size_t *len, uint64_t *mtime_seq)
{
	uint64_t *seqs;
	size_t n;
	struct ldg_values v;
	int rc = target_state(r, p, &v);

	if (rc)
		return rc;
	ldg_values_free(&v);
	rc = ldg_history(r, p->target, p->at ? p->at + 1 : 0, 1, &seqs, &n);
	if (rc)
		return rc;
	*mtime_seq = n ? seqs[0] : 0;
	free(seqs);
	return rnd_history(r, p->target, p->at, false, buf, len, NULL);
}

static int render_locked(struct ldg_read *r, const struct lfs_path *p,
			 char **buf, size_t *len, uint64_t *mtime_seq)
{
	struct ldg_entry *e;
	struct ldg_values v;
	int rc = target_state(r, p, &v);

	if (rc)
		return rc;
	*mtime_seq = v.lock_seq;
	ldg_values_free(&v);
	if (!*mtime_seq)
		return -ENOENT;
	rc = ldg_entry_read(r, *mtime_seq, &e, NULL);
	if (rc)
		return rc;
	*len = strlen(e->reason) + 1;
	*buf = malloc(*len + 1);
	if (*buf)
		snprintf(*buf, *len + 1, "%s\n", e->reason);
	ldg_entry_free(e);
	return *buf ? 0 : -ENOMEM;
}

/* ---- entries/ and at/: listed lazily by offset ---- */

static int exists_seqdir(struct ldg_read *r, const struct lfs_path *p,
			 uint64_t *mtime_seq)
{
	return head_seq(r, mtime_seq);
}

/* entries/: offset 2*seq-1 is "SEQ", 2*seq is "SEQ.json"; the offset
 * passed with each name is where to resume after it. */
static int list_entries(struct ldg_read *r, const struct lfs_path *p, off_t off,
			lfs_add_fn add, void *ctx)
{
	char name[32];
	uint64_t head;
	int rc = head_seq(r, &head);

	if (rc)
		return rc;
	for (uint64_t i = (uint64_t)off + 1; i <= 2 * head; i++) {
		uint64_t seq = (i + 1) / 2;
		snprintf(name, sizeof(name), "%llu%s", (unsigned long long)seq,
			 i % 2 ? "" : ".json");
		if (add(ctx, name, false, (off_t)i))
			break;
	}
	return 0;
}

static int list_at(struct ldg_read *r, const struct lfs_path *p, off_t off,
		   lfs_add_fn add, void *ctx)
{
	char name[32];
	uint64_t head;
	int rc = head_seq(r, &head);

	if (rc)
		return rc;
	for (uint64_t seq = (uint64_t)off + 1; seq <= head; seq++) {
		snprintf(name, sizeof(name), "%llu", (unsigned long long)seq);
		if (add(ctx, name, true, (off_t)seq))
			break;
	}
	return 0;
}

static int exists_at_seq(struct ldg_read *r, const struct lfs_path *p,
			 uint64_t *mtime_seq)
{
	*mtime_seq = p->at;
	return at_ok(r, p);
}

static int list_at_seq(struct ldg_read *r, const struct lfs_path *p, off_t off,
		       lfs_add_fn add, void *ctx)
{
	add(ctx, "clusters", true, 0);
	return 0;
}

static int render_entry(struct ldg_read *r, const struct lfs_path *p,
			char **buf, size_t *len, uint64_t *mtime_seq)
{
	uint64_t head;
	int rc = head_seq(r, &head);

	if (rc)
		return rc;
	if (p->seq > head)
		return -ENOENT;
	*mtime_seq = p->seq;
	return rnd_show(r, p->seq, p->node == LFS_ENTRY_JSON, buf, len, NULL);
}

/* ---- keys/ ---- */

static int list_keys(struct ldg_read *r, const struct lfs_path *p, off_t off,
		     lfs_add_fn add, void *ctx)
{
	struct ldg_keyinfo *ring;
	char name[LDG_KEYNAME_MAX + 8];
	size_t n;
	int rc = ldg_keyring_list(r, &ring, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.pub", ring[i].vkey.name);
		if (add(ctx, name, false, 0))
			break;
	}
	free(ring);
	return 0;
}

static int render_keyfile(struct ldg_read *r, const struct lfs_path *p,
			  char **buf, size_t *len, uint64_t *mtime_seq)
{
	struct ldg_keyinfo ki;
	char line[LDG_VKEY_TEXT_MAX + 1];
	int rc = ldg_keyring_by_name(r, p->leaf, &ki);

	if (rc)
		return rc;
	*mtime_seq = ki.added_seq;
	ldg_vkey_format(&ki.vkey, line);
	strcat(line, "\n");
	return text_out(line, buf, len);
}

/* ---- POLICY, PENDING, policies, pending/ ---- */

/* The newest entry in target's history: proposals, approvals and
 * withdrawals are there too. */
static int newest_on(struct ldg_read *r, const char *target,
		     uint64_t *mtime_seq)
{
	uint64_t *seqs;
	size_t n;
	int rc = ldg_history(r, target, 0, 1, &seqs, &n);

	if (rc)
		return rc;
	*mtime_seq = n ? seqs[0] : 0;
	free(seqs);
	return 0;
}

/* A release of the current view: POLICY and PENDING live in its
 * directory, so they exist only while it does. */
static int current_release(struct ldg_read *r, const struct lfs_path *p)
{
	struct ldg_values v;
	int rc = p->at ? -ENOENT : target_state(r, p, &v);

	if (!rc)
		ldg_values_free(&v);
	return rc;
}

static int render_policy(struct ldg_read *r, const struct lfs_path *p,
			 char **buf, size_t *len, uint64_t *mtime_seq)
{
	int rc = current_release(r, p);

	if (!rc)
		rc = governed(r, p->target, mtime_seq);
	if (!rc)
		rc = rnd_policy_show(r, p->target, now_s(), false, buf, len,
				     NULL);
	return rc;
}

static int render_pending(struct ldg_read *r, const struct lfs_path *p,
			  char **buf, size_t *len, uint64_t *mtime_seq)
{
	int rc = current_release(r, p);

	if (!rc)
		rc = pending_on(r, p->target);
	if (!rc)
		rc = newest_on(r, p->target, mtime_seq);
	if (!rc)
		rc = rnd_pending(r, p->target, now_s(), false, buf, len, NULL);
	return rc;
}

static int render_drift(struct ldg_read *r, const struct lfs_path *p,
			char **buf, size_t *len, uint64_t *mtime_seq)
{
	int rc = current_release(r, p);

	return rc ? rc : rnd_drift(r, p->target, buf, len, mtime_seq, NULL);
}

static int render_policies(struct ldg_read *r, const struct lfs_path *p,
			   char **buf, size_t *len, uint64_t *mtime_seq)
{
	struct ldg_gov g;
	int rc = ldg_gov_load(r, 0, &g, NULL);

	if (rc)
		return rc;
	*mtime_seq = gov_seq(&g, NULL);
	ldg_gov_free(&g);
	return rnd_policy_show(r, NULL, now_s(), false, buf, len, NULL);
}

static int list_proposals(struct ldg_read *r, const struct lfs_path *p,
			  off_t off, lfs_add_fn add, void *ctx)
{
	struct ldg_gov g;
	char name[32];
	int rc = ldg_gov_load(r, 0, &g, NULL);

	if (rc)
		return rc;
	for (size_t i = 0; i < g.n_pend; i++) {
		snprintf(name, sizeof(name), "%llu",
			 (unsigned long long)g.pend[i].seq);
		if (add(ctx, name, false, 0))
			break;
	}
	ldg_gov_free(&g);
	return 0;
}

static int render_proposal(struct ldg_read *r, const struct lfs_path *p,
			   char **buf, size_t *len, uint64_t *mtime_seq)
{
	struct ldg_proposal prop;
	int rc = ldg_proposal_get(r, p->seq, &prop);

	if (rc)
		return rc;
	rc = prop.status == LDG_PROP_PENDING ? 0 : -ENOENT;
	if (!rc)
		rc = newest_on(r, prop.target, mtime_seq);
	ldg_proposal_free(&prop);
	if (!rc)
		rc = rnd_proposal(r, p->seq, buf, len, NULL);
	return rc;
}

/* ---- the table ---- */

static const struct lfs_route routes[LFS_NODE_COUNT] = {
	[LFS_ROOT] = { .dir = true, .exists = exists_always, .list = list_root },
	[LFS_HEAD] = { .render = render_head },
	[LFS_CLUSTERS] = { .dir = true,
			   .exists = exists_clusters,
			   .list = list_clusters },
	[LFS_CLUSTER] = { .dir = true,
			  .exists = exists_cluster,
			  .list = list_cluster },
	[LFS_RELEASE] = { .dir = true,
			  .exists = exists_release,
			  .list = list_release },
	[LFS_KEY] = { .render = render_key },
	[LFS_VALUES] = { .render = render_values },
	[LFS_HISTORY] = { .render = render_history },
	[LFS_LOCKED] = { .render = render_locked },
	[LFS_ENTRIES] = { .dir = true,
			  .offsets = true,
			  .exists = exists_seqdir,
			  .list = list_entries },
	[LFS_ENTRY] = { .immutable = true, .render = render_entry },
	[LFS_ENTRY_JSON] = { .immutable = true, .render = render_entry },
	[LFS_AT] = { .dir = true,
		     .offsets = true,
		     .exists = exists_seqdir,
		     .list = list_at },
	[LFS_AT_SEQ] = { .dir = true,
			 .immutable = true,
			 .exists = exists_at_seq,
			 .list = list_at_seq },
	[LFS_KEYS] = { .dir = true, .exists = exists_always, .list = list_keys },
	[LFS_KEYFILE] = { .immutable = true, .render = render_keyfile },
	[LFS_POLICY] = { .clock = true, .render = render_policy },
	[LFS_PENDING] = { .render = render_pending },
	[LFS_DRIFT] = { .render = render_drift },
	[LFS_POLICIES] = { .clock = true, .render = render_policies },
	[LFS_PROPOSALS] = { .dir = true,
			    .exists = exists_always,
			    .list = list_proposals },
	[LFS_PROPOSAL] = { .render = render_proposal },
};

const struct lfs_route *lfs_route_of(const struct lfs_path *p)
{
	return &routes[p->node];
}

bool lfs_immutable(const struct lfs_path *p)
{
	/* everything under at/SEQ/ is history: it never changes */
	return p->at || routes[p->node].immutable;
}
