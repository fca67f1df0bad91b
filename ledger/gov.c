#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gov.h"
#include "util.h"
#include "window.h"

void ldg_gov_init(struct ldg_gov *g)
{
	memset(g, 0, sizeof(*g));
}

static void pending_free(struct ldg_pending *p)
{
	free(p->approvers);
	p->approvers = NULL;
	p->n_approvers = 0;
}

void ldg_gov_free(struct ldg_gov *g)
{
	for (size_t i = 0; i < g->n_pend; i++)
		pending_free(&g->pend[i]);
	free(g->pol);
	free(g->win);
	free(g->pend);
	ldg_gov_init(g);
}

bool ldg_gov_empty(const struct ldg_gov *g)
{
	return !g->n_pol && !g->n_win && !g->n_pend;
}

int ldg_gov_copy(struct ldg_gov *dst, const struct ldg_gov *src)
{
	ldg_gov_init(dst);
	if (src->n_pol) {
		dst->pol = malloc(src->n_pol * sizeof(*dst->pol));
		if (!dst->pol)
			goto nomem;
		memcpy(dst->pol, src->pol, src->n_pol * sizeof(*dst->pol));
		dst->n_pol = src->n_pol;
	}
	if (src->n_win) {
		dst->win = malloc(src->n_win * sizeof(*dst->win));
		if (!dst->win)
			goto nomem;
		memcpy(dst->win, src->win, src->n_win * sizeof(*dst->win));
		dst->n_win = src->n_win;
	}
	if (src->n_pend) {
		dst->pend = calloc(src->n_pend, sizeof(*dst->pend));
		if (!dst->pend)
			goto nomem;
		for (size_t i = 0; i < src->n_pend; i++) {
			const struct ldg_pending *s = &src->pend[i];
			struct ldg_pending *d = &dst->pend[i];
			*d = *s;
			d->approvers = NULL;
			if (s->n_approvers) {
				d->approvers = malloc(s->n_approvers *
						      sizeof(*d->approvers));
				if (!d->approvers) {
					d->n_approvers = 0;
					dst->n_pend = i;
					goto nomem;
				}
				memcpy(d->approvers, s->approvers,
				       s->n_approvers * sizeof(*d->approvers));
			}
		}
		dst->n_pend = src->n_pend;
	}
	return 0;
nomem:
	ldg_gov_free(dst);
	return -ENOMEM;
}

/* ---- questions ---- */

static bool has_glob(const char *scope)
{
	return strpbrk(scope, "*?[") != NULL;
}

static size_t literal_bytes(const char *scope)
{
	size_t n = 0;

	for (const char *p = scope; *p; p++)
		n += *p != '*';
	return n;
}

/* True when scope a is more specific than b (docs/format.md 8b). */
static bool more_specific(const char *a, const char *b)
{
	size_t la, lb;

	if (has_glob(a) != has_glob(b))
		return !has_glob(a);
	la = literal_bytes(a);
	lb = literal_bytes(b);
	if (la != lb)
		return la > lb;
	return strcmp(a, b) < 0;
}

const struct ldg_policy *ldg_gov_policy_for(const struct ldg_gov *g,
					    const char *target)
{
	const struct ldg_policy *best = NULL;

	for (size_t i = 0; i < g->n_pol; i++)
		if (ldg_scope_match(g->pol[i].scope, target) &&
		    (!best || more_specific(g->pol[i].scope, best->scope)))
			best = &g->pol[i];
	return best;
}

int ldg_gov_window_active(const struct ldg_window *w, int64_t t, bool *active,
			  int64_t *end, struct ldg_err *err)
{
	struct ldg_cron cron;
	int64_t start;
	int rc;

	if (!w->cron[0]) {
		*active = w->from <= t && t < w->until;
		*end = w->until;
		return 0;
	}
	rc = ldg_cron_parse(w->cron, &cron, err);
	if (!rc)
		rc = ldg_window_at(&cron, w->duration, w->tz, t, active, &start,
				   end, err);
	if (rc)
		ldg_err_prefix(err, "freeze window %llu",
			       (unsigned long long)w->seq);
	return rc;
}

bool ldg_gov_gated(const struct ldg_gov *g, const struct ldg_entry *e)
{
	const struct ldg_policy *p;

	if (e->kind == LDG_KIND_SET || e->kind == LDG_KIND_UNSET)
		return true;
	if (e->kind != LDG_KIND_ROLLBACK)
		return false;
	p = ldg_gov_policy_for(g, e->target);
	return p && p->gate_rollbacks;
}

/* A window covering target is active at the entry's time e (one that
 * cannot be evaluated here counts as active: the careful answer). */
static bool frozen_at(const struct ldg_gov *g, const struct ldg_entry *e)
{
	int64_t t = (int64_t)(e->time_ns / 1000000000u), end;
	bool active;

	for (size_t i = 0; i < g->n_win; i++) {
		if (!ldg_scope_match(g->win[i].scope, e->target))
			continue;
		if (ldg_gov_window_active(&g->win[i], t, &active, &end, NULL) ||
		    active)
			return true;
	}
	return false;
}

unsigned ldg_gov_need(const struct ldg_gov *g, const struct ldg_entry *e)
{
	const struct ldg_policy *p;
	unsigned need = 0;

	if (!ldg_kind_changes_values(e->kind))
		return 0;
	p = ldg_gov_policy_for(g, e->target);
	if (p && ldg_gov_gated(g, e))
		need = p->approvals;
	/* an emergency means something only where a policy or an open
	 * window governs the target: before policies, writers let users
	 * write metadata emergency, and those ledgers replay as they did */
	if (need < 1 && ldg_kv_find(e->meta, e->n_meta, "emergency") &&
	    (p || frozen_at(g, e)))
		need = 1;
	return need;
}

struct ldg_pending *ldg_gov_pending(const struct ldg_gov *g, uint64_t seq)
{
	for (size_t i = 0; i < g->n_pend; i++)
		if (g->pend[i].seq == seq)
			return &g->pend[i];
	return NULL;
}

bool ldg_gov_approved_by(const struct ldg_pending *p, const uint8_t *id)
{
	for (size_t i = 0; i < p->n_approvers; i++)
		if (!memcmp(p->approvers[i], id, LDG_KEYID_BYTES))
			return true;
	return false;
}

unsigned ldg_gov_count(const struct ldg_pending *p, ldg_trusted_fn trusted,
		       void *ctx, const uint8_t *extra)
{
	unsigned n = 0;

	for (size_t i = 0; i < p->n_approvers; i++)
		n += trusted(ctx, p->approvers[i]);
	if (extra && !ldg_gov_approved_by(p, extra))
		n++;
	return n;
}

/* ---- changes ---- */

static uint64_t change_dec(const struct ldg_entry *e, const char *key)
{
	const struct ldg_kv *kv = ldg_kv_find(e->changes, e->n_changes, key);
	uint64_t v = 0;

	if (kv && kv->value)
		(void)ldg_parse_dec(kv->value, 0, INT64_MAX, &v);
	return v;
}

static int apply_policy(struct ldg_gov *g, const struct ldg_entry *e)
{
	const struct ldg_kv *from;
	struct ldg_policy p = { 0 }, *grown;
	size_t at = 0;
	bool found = false;

	for (; at < g->n_pol; at++) {
		int c = strcmp(g->pol[at].scope, e->target);
		if (c >= 0) {
			found = c == 0;
			break;
		}
	}
	if (!e->n_changes) { /* cleared */
		if (found) {
			memmove(&g->pol[at], &g->pol[at + 1],
				(g->n_pol - at - 1) * sizeof(*g->pol));
			g->n_pol--;
		}
		return 0;
	}
	snprintf(p.scope, sizeof(p.scope), "%s", e->target);
	p.seq = e->seq;
	p.approvals = (unsigned)change_dec(e, "approvals");
	p.gate_rollbacks = ldg_kv_find(e->changes, e->n_changes, "rollbacks");
	p.soak = change_dec(e, "soak");
	from = ldg_kv_find(e->changes, e->n_changes, "soak-from");
	if (from)
		snprintf(p.soak_from, sizeof(p.soak_from), "%s", from->value);
	if (found) {
		g->pol[at] = p;
		return 0;
	}
	grown = realloc(g->pol, (g->n_pol + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	g->pol = grown;
	memmove(&g->pol[at + 1], &g->pol[at],
		(g->n_pol - at) * sizeof(*g->pol));
	g->pol[at] = p;
	g->n_pol++;
	return 0;
}

static int apply_freeze(struct ldg_gov *g, const struct ldg_entry *e)
{
	const struct ldg_kv *kv;
	struct ldg_window w = { 0 }, *grown;

	w.seq = e->seq;
	snprintf(w.scope, sizeof(w.scope), "%s", e->target);
	kv = ldg_kv_find(e->changes, e->n_changes, "cron");
	if (kv) {
		snprintf(w.cron, sizeof(w.cron), "%s", kv->value);
		w.duration = change_dec(e, "duration");
		kv = ldg_kv_find(e->changes, e->n_changes, "tz");
		snprintf(w.tz, sizeof(w.tz), "%s", kv ? kv->value : "");
	} else {
		kv = ldg_kv_find(e->changes, e->n_changes, "from");
		if (kv && ldg_utc_parse(kv->value, &w.from, NULL))
			return -EINVAL;
		kv = ldg_kv_find(e->changes, e->n_changes, "until");
		if (kv && ldg_utc_parse(kv->value, &w.until, NULL))
			return -EINVAL;
	}
	grown = realloc(g->win, (g->n_win + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	g->win = grown;
	g->win[g->n_win++] = w; /* seqs grow: stays sorted */
	return 0;
}

static int apply_unfreeze(struct ldg_gov *g, const struct ldg_entry *e)
{
	uint64_t seq = change_dec(e, "window");

	for (size_t i = 0; i < g->n_win; i++) {
		if (g->win[i].seq != seq || strcmp(g->win[i].scope, e->target))
			continue;
		memmove(&g->win[i], &g->win[i + 1],
			(g->n_win - i - 1) * sizeof(*g->win));
		g->n_win--;
		return 0;
	}
	return -ENOENT;
}

static void remove_pending(struct ldg_gov *g, size_t i)
{
	pending_free(&g->pend[i]);
	memmove(&g->pend[i], &g->pend[i + 1],
		(g->n_pend - i - 1) * sizeof(*g->pend));
	g->n_pend--;
}

/* Every proposal pending on target but keep (a seq, 0 for none) is
 * stale now: removed, and listed in fx. */
static int make_stale(struct ldg_gov *g, const char *target, uint64_t keep,
		      struct ldg_gov_effect *fx)
{
	for (size_t i = 0; i < g->n_pend;) {
		uint64_t *grown;
		if (g->pend[i].seq == keep ||
		    strcmp(g->pend[i].target, target)) {
			i++;
			continue;
		}
		grown = realloc(fx->stale, (fx->n_stale + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		fx->stale = grown;
		fx->stale[fx->n_stale++] = g->pend[i].seq;
		remove_pending(g, i);
		fx->changed = true;
	}
	return 0;
}

static int apply_change(struct ldg_gov *g, const struct ldg_entry *e,
			struct ldg_gov_effect *fx)
{
	struct ldg_pending *grown, *p;
	unsigned need = ldg_gov_need(g, e);

	if (!need) {
		fx->what = LDG_GOV_EFFECTIVE;
		return make_stale(g, e->target, 0, fx);
	}
	grown = realloc(g->pend, (g->n_pend + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	g->pend = grown;
	p = &g->pend[g->n_pend++]; /* seqs grow: stays sorted */
	memset(p, 0, sizeof(*p));
	p->seq = e->seq;
	snprintf(p->target, sizeof(p->target), "%s", e->target);
	memcpy(p->author, e->signer, LDG_KEYID_BYTES);
	p->need = need;
	if (ldg_kv_find(e->meta, e->n_meta, "emergency"))
		p->flags |= LDG_PEND_EMERGENCY;
	if (ldg_kv_find(e->meta, e->n_meta, "forced"))
		p->flags |= LDG_PEND_FORCED;
	fx->what = LDG_GOV_PROPOSED;
	fx->changed = true;
	return 0;
}

static int apply_approval(struct ldg_gov *g, const struct ldg_entry *e,
			  ldg_trusted_fn trusted, void *ctx,
			  struct ldg_gov_effect *fx)
{
	struct ldg_pending *p = ldg_gov_pending(g, fx->proposal);
	uint8_t(*grown)[LDG_KEYID_BYTES];

	if (!p || strcmp(p->target, e->target))
		return -ENOENT;
	fx->changed = true;
	if (e->kind == LDG_KIND_WITHDRAW) {
		remove_pending(g, (size_t)(p - g->pend));
		fx->what = LDG_GOV_WITHDRAWN;
		return 0;
	}
	if (ldg_gov_count(p, trusted, ctx, e->signer) >= p->need) {
		remove_pending(g, (size_t)(p - g->pend));
		fx->what = LDG_GOV_ENACTED;
		return make_stale(g, e->target, 0, fx);
	}
	grown = realloc(p->approvers, (p->n_approvers + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->approvers = grown;
	memcpy(p->approvers[p->n_approvers++], e->signer, LDG_KEYID_BYTES);
	fx->what = LDG_GOV_APPROVED;
	return 0;
}

int ldg_gov_apply(struct ldg_gov *g, const struct ldg_entry *e,
		  ldg_trusted_fn trusted, void *ctx, struct ldg_gov_effect *fx)
{
	int rc = 0;

	memset(fx, 0, sizeof(*fx));
	switch (e->kind) {
	case LDG_KIND_SET:
	case LDG_KIND_UNSET:
	case LDG_KIND_ROLLBACK:
		return apply_change(g, e, fx);
	case LDG_KIND_APPROVE:
	case LDG_KIND_WITHDRAW:
		fx->proposal = change_dec(e, "proposal");
		return apply_approval(g, e, trusted, ctx, fx);
	case LDG_KIND_POLICY:
		rc = apply_policy(g, e);
		break;
	case LDG_KIND_FREEZE:
		rc = apply_freeze(g, e);
		break;
	case LDG_KIND_UNFREEZE:
		rc = apply_unfreeze(g, e);
		break;
	default:
		return 0;
	}
	fx->what = LDG_GOV_RULES;
	fx->changed = rc == 0;
	return rc;
}

void ldg_gov_effect_free(struct ldg_gov_effect *fx)
{
	free(fx->stale);
	fx->stale = NULL;
	fx->n_stale = 0;
}

/* ---- encoding ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void pack_id(msgpack_packer *pk, const uint8_t *id)
{
	msgpack_pack_bin(pk, LDG_KEYID_BYTES);
	msgpack_pack_bin_body(pk, id, LDG_KEYID_BYTES);
}

void ldg_gov_pack(const struct ldg_gov *g, msgpack_packer *pk)
{
	msgpack_pack_array(pk, g->n_pol);
	for (size_t i = 0; i < g->n_pol; i++) {
		const struct ldg_policy *p = &g->pol[i];
		msgpack_pack_array(pk, 6);
		pack_str(pk, p->scope);
		msgpack_pack_uint64(pk, p->seq);
		msgpack_pack_uint64(pk, p->approvals);
		msgpack_pack_uint64(pk, p->gate_rollbacks);
		msgpack_pack_uint64(pk, p->soak);
		pack_str(pk, p->soak_from);
	}
	msgpack_pack_array(pk, g->n_win);
	for (size_t i = 0; i < g->n_win; i++) {
		const struct ldg_window *w = &g->win[i];
		msgpack_pack_array(pk, 7);
		msgpack_pack_uint64(pk, w->seq);
		pack_str(pk, w->scope);
		msgpack_pack_uint64(pk, (uint64_t)w->from);
		msgpack_pack_uint64(pk, (uint64_t)w->until);
		pack_str(pk, w->cron);
		msgpack_pack_uint64(pk, w->duration);
		pack_str(pk, w->tz);
	}
	msgpack_pack_array(pk, g->n_pend);
	for (size_t i = 0; i < g->n_pend; i++) {
		const struct ldg_pending *p = &g->pend[i];
		msgpack_pack_array(pk, 6);
		msgpack_pack_uint64(pk, p->seq);
		pack_str(pk, p->target);
		pack_id(pk, p->author);
		msgpack_pack_uint64(pk, p->need);
		msgpack_pack_uint64(pk, p->flags);
		msgpack_pack_array(pk, p->n_approvers);
		for (size_t j = 0; j < p->n_approvers; j++)
			pack_id(pk, p->approvers[j]);
	}
}

static bool obj_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return false;
	*out = o->via.u64;
	return true;
}

static bool obj_str(const msgpack_object *o, char *out, size_t max)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= max ||
	    memchr(o->via.str.ptr, 0, o->via.str.size))
		return false;
	memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = '\0';
	return true;
}

static bool obj_id(const msgpack_object *o, uint8_t *out)
{
	if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != LDG_KEYID_BYTES)
		return false;
	memcpy(out, o->via.bin.ptr, LDG_KEYID_BYTES);
	return true;
}

static bool obj_row(const msgpack_object *o, uint32_t n)
{
	return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == n;
}

static int unpack_policies(const msgpack_object *o, struct ldg_gov *g)
{
	uint64_t v;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return -EBADMSG;
	if (o->via.array.size) {
		g->pol = calloc(o->via.array.size, sizeof(*g->pol));
		if (!g->pol)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *f = o->via.array.ptr[i].via.array.ptr;
		struct ldg_policy *p = &g->pol[i];
		if (!obj_row(&o->via.array.ptr[i], 6) ||
		    !obj_str(&f[0], p->scope, sizeof(p->scope)) ||
		    !obj_uint(&f[1], INT64_MAX, &p->seq) ||
		    !obj_uint(&f[2], LDG_APPROVALS_MAX, &v) ||
		    !obj_str(&f[5], p->soak_from, sizeof(p->soak_from)))
			return -EBADMSG;
		p->approvals = (unsigned)v;
		if (!obj_uint(&f[3], 1, &v))
			return -EBADMSG;
		p->gate_rollbacks = v;
		if (!obj_uint(&f[4], LDG_DURATION_MAX, &p->soak))
			return -EBADMSG;
		if (i && strcmp(g->pol[i - 1].scope, p->scope) >= 0)
			return -EBADMSG;
		g->n_pol++;
	}
	return 0;
}

static int unpack_windows(const msgpack_object *o, struct ldg_gov *g)
{
	uint64_t from, until;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return -EBADMSG;
	if (o->via.array.size) {
		g->win = calloc(o->via.array.size, sizeof(*g->win));
		if (!g->win)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *f = o->via.array.ptr[i].via.array.ptr;
		struct ldg_window *w = &g->win[i];
		if (!obj_row(&o->via.array.ptr[i], 7) ||
		    !obj_uint(&f[0], INT64_MAX, &w->seq) ||
		    !obj_str(&f[1], w->scope, sizeof(w->scope)) ||
		    !obj_uint(&f[2], INT64_MAX, &from) ||
		    !obj_uint(&f[3], INT64_MAX, &until) ||
		    !obj_str(&f[4], w->cron, sizeof(w->cron)) ||
		    !obj_uint(&f[5], LDG_DURATION_MAX, &w->duration) ||
		    !obj_str(&f[6], w->tz, sizeof(w->tz)))
			return -EBADMSG;
		w->from = (int64_t)from;
		w->until = (int64_t)until;
		if (i && g->win[i - 1].seq >= w->seq)
			return -EBADMSG;
		g->n_win++;
	}
	return 0;
}

static int unpack_pending(const msgpack_object *o, struct ldg_gov *g)
{
	uint64_t v;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return -EBADMSG;
	if (o->via.array.size) {
		g->pend = calloc(o->via.array.size, sizeof(*g->pend));
		if (!g->pend)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *f = o->via.array.ptr[i].via.array.ptr;
		struct ldg_pending *p = &g->pend[i];
		const msgpack_object *ids;
		if (!obj_row(&o->via.array.ptr[i], 6) ||
		    !obj_uint(&f[0], INT64_MAX, &p->seq) ||
		    !obj_str(&f[1], p->target, sizeof(p->target)) ||
		    !obj_id(&f[2], p->author) ||
		    !obj_uint(&f[3], LDG_APPROVALS_MAX, &v))
			return -EBADMSG;
		p->need = (unsigned)v;
		if (!obj_uint(&f[4], 3, &v) ||
		    f[5].type != MSGPACK_OBJECT_ARRAY)
			return -EBADMSG;
		p->flags = (unsigned)v;
		g->n_pend++;
		ids = &f[5];
		if (ids->via.array.size) {
			p->approvers = calloc(ids->via.array.size,
					      sizeof(*p->approvers));
			if (!p->approvers)
				return -ENOMEM;
		}
		for (uint32_t j = 0; j < ids->via.array.size; j++) {
			if (!obj_id(&ids->via.array.ptr[j], p->approvers[j]))
				return -EBADMSG;
			p->n_approvers++;
		}
		if (i && g->pend[i - 1].seq >= p->seq)
			return -EBADMSG;
	}
	return 0;
}

int ldg_gov_unpack(const msgpack_object *pol, const msgpack_object *win,
		   const msgpack_object *pend, struct ldg_gov *out)
{
	int rc;

	ldg_gov_init(out);
	rc = unpack_policies(pol, out);
	if (!rc)
		rc = unpack_windows(win, out);
	if (!rc)
		rc = unpack_pending(pend, out);
	if (rc)
		ldg_gov_free(out);
	return rc;
}
