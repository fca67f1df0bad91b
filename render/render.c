#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "gov.h"
#include "policy.h"
#include "render.h"
#include "util.h"
#include "value.h"
#include "window.h"

/* "NAME" of the entry's signer, or its hex key id when the keyring has
 * no such key. */
static void signer_name(struct ldg_read *r, const struct ldg_entry *e,
			char *out, size_t outlen)
{
	struct ldg_keyinfo ki;
	char hex[2 * LDG_KEYID_BYTES + 1];

	if (ldg_keyring_by_id(r, e->signer, &ki) == 0) {
		snprintf(out, outlen, "%s", ki.vkey.name);
		return;
	}
	ldg_hex(e->signer, LDG_KEYID_BYTES, hex);
	snprintf(out, outlen, "%s", hex);
}

/* Text output names each display control (names.h) as "<U+202E>"
 * instead of passing it to the terminal: writers refuse them, but an
 * older ledger may hold them, and a table that reorders or breaks its
 * own lines would lie. JSON and YAML carry values exactly. In place on
 * the malloc'd *buf of *len bytes; 0 or -ENOMEM. */
static int escape_display(char **buf, size_t *len)
{
	size_t at, n, done = 0;
	uint32_t cp;
	FILE *f;
	char *out = NULL;
	size_t olen = 0;

	cp = ldg_text_display_control(*buf, *len, &at, &n);
	if (!cp)
		return 0;
	f = open_memstream(&out, &olen);
	if (!f)
		return -ENOMEM;
	while (cp) {
		fwrite(*buf + done, 1, at, f);
		fprintf(f, "<U+%04X>", (unsigned)cp);
		done += at + n;
		cp = ldg_text_display_control(*buf + done, *len - done, &at,
					      &n);
	}
	fwrite(*buf + done, 1, *len - done, f);
	if (fclose(f)) {
		free(out);
		return -ENOMEM;
	}
	free(*buf);
	*buf = out;
	*len = olen;
	return 0;
}

/* The CHANGES column: "image.tag=3f2a9c1, -replicas". */
static int render_changes(const struct ldg_entry *e, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);

	if (!f)
		return -ENOMEM;
	if (e->kind == LDG_KIND_INIT || e->kind == LDG_KIND_KEY_ADD) {
		/* the key's name, role and scopes; the key itself is in show */
		const struct ldg_kv *role, *scopes, *vk;
		role = ldg_kv_find(e->changes, e->n_changes, "role");
		scopes = ldg_kv_find(e->changes, e->n_changes, "scopes");
		vk = ldg_kv_find(e->changes, e->n_changes, "vkey");
		if (e->kind == LDG_KIND_INIT)
			fprintf(f, "origin=%s, ", e->changes[0].value);
		fprintf(f, "+key %.*s (%s: %s)",
			(int)strcspn(vk ? vk->value : "?", "+"),
			vk ? vk->value : "?", role ? role->value : "?",
			scopes ? scopes->value : "?");
		return fclose(f) ? -ENOMEM : 0;
	}
	if (e->kind == LDG_KIND_KEY_REVOKE) {
		fprintf(f, "-key %s", e->changes[0].value);
		return fclose(f) ? -ENOMEM : 0;
	}
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct ldg_kv *c = &e->changes[i];
		if (i)
			fputs(", ", f);
		if (c->value)
			fprintf(f, "%s%s%s", c->key, rnd_assign(c->type),
				c->value);
		else
			fprintf(f, "-%s", c->key);
	}
	return fclose(f) ? -ENOMEM : 0;
}

int rnd_json_out(json_t *j, char **out, size_t *len)
{
	char *s;

	if (!j)
		return -ENOMEM;
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return -ENOMEM;
	*len = strlen(s) + 1;
	*out = realloc(s, *len + 1);
	if (!*out) {
		free(s);
		return -ENOMEM;
	}
	(*out)[*len - 1] = '\n';
	(*out)[*len] = '\0';
	return 0;
}

const char *rnd_assign(enum ldg_vtype type)
{
	return type == LDG_V_JSON ? ":=" : "=";
}

json_t *rnd_value_json(enum ldg_vtype type, const char *value)
{
	if (type == LDG_V_JSON)
		/* the canonical text (value.h) always parses */
		return json_loads(value, JSON_DECODE_ANY, NULL);
	return json_string(value);
}

static json_t *kv_json(const struct ldg_kv *kv, size_t n, bool as_list)
{
	json_t *j = as_list ? json_array() : json_object();

	for (size_t i = 0; j && i < n; i++) {
		if (!as_list) {
			json_object_set_new(j, kv[i].key,
					    rnd_value_json(kv[i].type,
							   kv[i].value));
			continue;
		}
		json_array_append_new(
			j, kv[i].value ? json_pack("{s:s, s:o}", "key",
						   kv[i].key, "value",
						   rnd_value_json(kv[i].type,
								  kv[i].value))
				       : json_pack("{s:s, s:b}", "key",
						   kv[i].key, "unset", 1));
	}
	return j;
}

/* {KEY: VALUE} of v, in key order; only key's when key is not NULL:
 * the "values" of state, releases and get. */
static json_t *values_json(const struct ldg_values *v, const char *key)
{
	json_t *j = json_object();

	for (size_t i = 0; j && i < v->n; i++)
		if (!key || !strcmp(key, v->v[i].key))
			json_object_set_new(j, v->v[i].key,
					    rnd_value_json(v->v[i].type,
							   v->v[i].value));
	return j;
}

json_t *rnd_get_json(const char *target, uint64_t at,
		     const struct ldg_values *v, const char *key)
{
	return json_pack("{s:s, s:I, s:o}", "target", target, "at",
			 (json_int_t)at, "values", values_json(v, key));
}

static int gov_members(struct ldg_read *r, const struct ldg_entry *e,
		       json_t *j);

json_t *rnd_entry_json(struct ldg_read *r, const struct ldg_entry *e,
		       const uint8_t hash[LDG_HASH_BYTES])
{
	char hh[2 * LDG_HASH_BYTES + 1], ph[2 * LDG_HASH_BYTES + 1];
	char sh[2 * LDG_SIG_BYTES + 1], kh[2 * LDG_KEYID_BYTES + 1];
	char when[40], who[LDG_KEYNAME_MAX + 1];
	json_t *j;

	ldg_hex(hash, LDG_HASH_BYTES, hh);
	ldg_hex(e->prev, LDG_HASH_BYTES, ph);
	ldg_hex(e->sig, LDG_SIG_BYTES, sh);
	ldg_hex(e->signer, LDG_KEYID_BYTES, kh);
	ldg_time_iso(e->time_ns, when, sizeof(when));
	signer_name(r, e, who, sizeof(who));
	j = json_pack("{s:I, s:s, s:s, s:s, s:I, s:{s:s, s:s}, s:s, s:s, "
		      "s:o, s:s, s:o, s:s}",
		      "seq", (json_int_t)e->seq, "hash", hh, "prev", ph, "time",
		      when, "time_ns", (json_int_t)e->time_ns, "signer", "name",
		      who, "keyid", kh, "kind", ldg_kind_name(e->kind),
		      "target", e->target, "changes",
		      kv_json(e->changes, e->n_changes, true), "reason",
		      e->reason, "metadata", kv_json(e->meta, e->n_meta, false),
		      "signature", sh);
	if (j && gov_members(r, e, j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int read_entry(struct ldg_read *r, uint64_t seq, struct ldg_entry **e,
		      uint8_t hash[LDG_HASH_BYTES], struct ldg_err *err)
{
	int rc = ldg_entry_read(r, seq, e, err);

	if (rc)
		return rc;
	rc = ldg_entry_hash_at(r, seq, hash);
	if (rc) {
		ldg_entry_free(*e);
		return ldg_err_set(err, rc,
				   "entry %llu has no stored hash "
				   "(run ledger verify)",
				   (unsigned long long)seq);
	}
	return 0;
}

int rnd_entry_json_at(struct ldg_read *r, uint64_t seq, json_t **out,
		      struct ldg_err *err)
{
	uint8_t hash[LDG_HASH_BYTES];
	struct ldg_entry *e;
	int rc = read_entry(r, seq, &e, hash, err);

	if (rc)
		return rc;
	*out = rnd_entry_json(r, e, hash);
	ldg_entry_free(e);
	return *out ? 0 : ldg_err_set(err, -ENOMEM, "out of memory");
}

int rnd_show(struct ldg_read *r, uint64_t seq, bool json, char **out,
	     size_t *len, struct ldg_err *err)
{
	struct ldg_entry *e;
	uint8_t hash[LDG_HASH_BYTES];
	char hh[2 * LDG_HASH_BYTES + 1], ph[2 * LDG_HASH_BYTES + 1];
	char sh[2 * LDG_SIG_BYTES + 1], kh[2 * LDG_KEYID_BYTES + 1];
	char when[40], who[LDG_KEYNAME_MAX + 1];
	FILE *f;
	int rc;

	rc = read_entry(r, seq, &e, hash, err);
	if (rc)
		return rc;
	if (json) {
		rc = rnd_json_out(rnd_entry_json(r, e, hash), out, len);
		ldg_entry_free(e);
		return rc ? ldg_err_set(err, rc, "out of memory") : 0;
	}
	f = open_memstream(out, len);
	if (!f) {
		ldg_entry_free(e);
		return ldg_err_set(err, -ENOMEM, "out of memory");
	}
	ldg_hex(hash, LDG_HASH_BYTES, hh);
	ldg_hex(e->prev, LDG_HASH_BYTES, ph);
	ldg_hex(e->sig, LDG_SIG_BYTES, sh);
	ldg_hex(e->signer, LDG_KEYID_BYTES, kh);
	ldg_time_iso(e->time_ns, when, sizeof(when));
	signer_name(r, e, who, sizeof(who));
	fprintf(f,
		"seq:       %llu\nhash:      %s\nprev:      %s\n"
		"time:      %s\nsigner:    %s (%s)\nkind:      %s\n",
		(unsigned long long)e->seq, hh, ph, when, who, kh,
		ldg_kind_name(e->kind));
	if (e->target[0])
		fprintf(f, "target:    %s\n", e->target);
	fprintf(f, "reason:    %s\n", e->reason);
	if (e->n_changes)
		fputs("changes:\n", f);
	for (size_t i = 0; i < e->n_changes; i++) {
		if (e->changes[i].value)
			fprintf(f, "  %s %s %s\n", e->changes[i].key,
				e->changes[i].type == LDG_V_JSON ? ":=" : "=",
				e->changes[i].value);
		else
			fprintf(f, "  %s (unset)\n", e->changes[i].key);
	}
	if (e->n_meta)
		fputs("metadata:\n", f);
	for (size_t i = 0; i < e->n_meta; i++)
		fprintf(f, "  %s = %s\n", e->meta[i].key, e->meta[i].value);
	fprintf(f, "signature: %s\n", sh);
	ldg_entry_free(e);
	if (fclose(f) || escape_display(out, len))
		return ldg_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* A text table: columns padded to their widest cell, two spaces apart,
 * the last column unpadded. */
struct table {
	size_t cols, rows;
	char **cell; /* rows * cols, row-major */
};

static int table_add(struct table *t, char **row)
{
	char **grown =
		realloc(t->cell, (t->rows + 1) * t->cols * sizeof(*grown));

	if (!grown) {
		for (size_t c = 0; c < t->cols; c++)
			free(row[c]);
		return -ENOMEM;
	}
	t->cell = grown;
	memcpy(&grown[t->rows * t->cols], row, t->cols * sizeof(*row));
	t->rows++;
	return 0;
}

/* table_add() of a row whose cells were just allocated: -ENOMEM, the
 * cells freed, when one of them is NULL (its allocation failed). */
static int table_add_new(struct table *t, char **row)
{
	for (size_t c = 0; c < t->cols; c++) {
		if (row[c])
			continue;
		for (c = 0; c < t->cols; c++)
			free(row[c]);
		return -ENOMEM;
	}
	return table_add(t, row);
}

/* Columns are counted in characters (UTF-8 code points), not bytes. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static int table_render(struct table *t, char **out, size_t *len)
{
	size_t width[16] = { 0 };
	FILE *f = NULL;

	for (size_t i = 0; i < t->rows * t->cols; i++) {
		size_t clen = strlen(t->cell[i]);
		if (escape_display(&t->cell[i], &clen))
			goto out_free;
	}
	f = open_memstream(out, len);
	for (size_t i = 0; i < t->rows * t->cols; i++) {
		size_t w = text_width(t->cell[i]);
		if (w > width[i % t->cols])
			width[i % t->cols] = w;
	}
	for (size_t r = 0; f && r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cell[r * t->cols + c];
			if (c + 1 < t->cols)
				fprintf(f, "%s%*s  ", s,
					(int)(width[c] - text_width(s)), "");
			else
				fprintf(f, "%s\n", s);
		}
	}
out_free:
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cell[i]);
	free(t->cell);
	return !f || fclose(f) ? -ENOMEM : 0;
}

/* The STATUS column: what the entry did, or its apply outcome; a
 * proposal's fate and an approval's effect (docs/format.md 8b), an
 * emergency. In buf (at least 96 bytes). */
static const char *status_of(struct ldg_read *r, const struct ldg_entry *e,
			     char *buf, size_t len, bool *moved)
{
	const char *kind = ldg_kind_name(e->kind), *fate;
	struct ldg_proposal p;
	enum ldg_prop_status st;
	uint64_t of = 0, at;
	bool forced = ldg_kv_find(e->meta, e->n_meta, "forced");
	bool emergency = ldg_kv_find(e->meta, e->n_meta, "emergency");

	*moved = false; /* the entry changed the values in effect */
	switch (e->kind) {
	case LDG_KIND_DRIFT:
		return e->changes[0].value; /* drifted or in-sync */
	case LDG_KIND_APPLIED:
		return "deployed";
	case LDG_KIND_APPLY_FAILED:
		return "failed";
	case LDG_KIND_APPROVE:
	case LDG_KIND_WITHDRAW:
		(void)ldg_parse_dec(e->changes[0].value, 0, INT64_MAX, &of);
		if (e->kind == LDG_KIND_APPROVE &&
		    ldg_prop_fate(r, of, &st, &at) == 0 &&
		    st == LDG_PROP_EFFECTIVE && at == e->seq) {
			snprintf(buf, len, "approve %llu: effective",
				 (unsigned long long)of);
			*moved = true;
		} else {
			snprintf(buf, len, "%s %llu", kind,
				 (unsigned long long)of);
		}
		return buf;
	default:
		break;
	}
	if (!ldg_kind_changes_values(e->kind) ||
	    ldg_proposal_get(r, e->seq, &p)) {
		*moved = ldg_kind_changes_values(e->kind);
		snprintf(buf, len, "%s%s%s", kind, forced ? " (forced)" : "",
			 emergency ? " (emergency)" : "");
		return buf;
	}
	fate = ldg_prop_status_name(p.status);
	if (p.status == LDG_PROP_PENDING)
		snprintf(buf, len, "%s (%sproposed: %zu of %u approvals)", kind,
			 emergency ? "emergency; " : "", p.n_approvers, p.need);
	else
		snprintf(buf, len, "%s (%sproposed: %s at %llu)", kind,
			 emergency ? "emergency; " : "", fate,
			 (unsigned long long)p.at);
	ldg_proposal_free(&p);
	return buf;
}

static int render_entries(struct ldg_read *r, const uint64_t *seqs, size_t n,
			  bool oldest_first, bool with_target, bool json,
			  char **out, size_t *len, struct ldg_err *err)
{
	struct table t = { .cols = with_target ? 7 : 6 };
	json_t *arr = json ? json_array() : NULL;
	size_t value_row = 0; /* newest row that changed values, 0 = none */
	char *hdr[7];
	size_t h = 0;
	int rc = 0;

	if (!json) {
		hdr[h++] = strdup(with_target ? "SEQ" : "REVISION");
		hdr[h++] = strdup("UPDATED");
		hdr[h++] = strdup("STATUS");
		if (with_target)
			hdr[h++] = strdup("TARGET");
		hdr[h++] = strdup("CHANGES");
		hdr[h++] = strdup("AUTHOR");
		hdr[h++] = strdup("DESCRIPTION");
		rc = table_add(&t, hdr);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t seq = seqs[oldest_first ? n - 1 - i : i];
		uint8_t hash[LDG_HASH_BYTES];
		struct ldg_entry *e;
		char when[40], who[LDG_KEYNAME_MAX + 1], *row[7], *changes;
		char status[128];
		bool moved;
		size_t c = 0;

		rc = read_entry(r, seq, &e, hash, err);
		if (rc)
			break;
		if (json) {
			json_array_append_new(arr, rnd_entry_json(r, e, hash));
			ldg_entry_free(e);
			continue;
		}
		ldg_time_iso(e->time_ns, when, sizeof(when));
		when[19] = '\0'; /* seconds are enough in a table */
		signer_name(r, e, who, sizeof(who));
		if (render_changes(e, &changes)) {
			ldg_entry_free(e);
			rc = -ENOMEM;
			break;
		}
		if (asprintf(&row[c++], "%llu", (unsigned long long)seq) < 0)
			row[0] = NULL;
		row[c++] = strdup(when);
		row[c++] =
			strdup(status_of(r, e, status, sizeof(status), &moved));
		if (with_target)
			row[c++] = strdup(e->target[0] ? e->target : "-");
		row[c++] = changes[0] ? changes : strdup("-");
		if (!changes[0])
			free(changes);
		row[c++] = strdup(who);
		row[c++] = strdup(e->reason);
		/* a target's history marks the revision an apply deployed */
		if (!with_target && moved) {
			value_row = t.rows;
		} else if (!with_target && value_row &&
			   (e->kind == LDG_KIND_APPLIED ||
			    e->kind == LDG_KIND_APPLY_FAILED)) {
			char **cell = &t.cell[value_row * t.cols + 2];
			char *base = strndup(*cell, strcspn(*cell, ","));
			char *marked = NULL;
			if (base &&
			    asprintf(&marked, "%s, %s", base,
				     status_of(r, e, status, sizeof(status),
					       &moved)) >= 0) {
				free(*cell);
				*cell = marked;
			}
			free(base);
		}
		ldg_entry_free(e);
		for (size_t k = 0; k < c; k++)
			if (!row[k])
				rc = -ENOMEM;
		if (rc) {
			for (size_t k = 0; k < c; k++)
				free(row[k]);
			break;
		}
		rc = table_add(&t, row);
	}
	if (json) {
		if (rc) {
			json_decref(arr);
			return rc;
		}
		rc = rnd_json_out(arr, out, len);
	} else {
		int trc = table_render(&t, out, len);
		if (!rc)
			rc = trc;
		else if (!trc)
			free(*out);
	}
	if (rc == -ENOMEM)
		ldg_err_set(err, rc, "out of memory");
	return rc;
}

/* The newest max (0: all) entries of target before seq before (0: the
 * head), oldest first. -ENOENT when there are none, unless empty_ok and
 * the target has history (a page past its first entry). */
static int render_history(struct ldg_read *r, const char *target,
			  uint64_t before, size_t max, bool empty_ok, bool json,
			  char **out, size_t *len, struct ldg_err *err)
{
	uint64_t *seqs, *any;
	size_t n, n_any = 0;
	int rc = ldg_history(r, target, before, max, &seqs, &n);

	if (rc)
		return ldg_err_set(err, rc, "cannot read history of %s",
				   target);
	if (n == 0 && empty_ok) {
		rc = ldg_history(r, target, 0, 1, &any, &n_any);
		if (rc) {
			free(seqs);
			return ldg_err_set(err, rc, "cannot read history of %s",
					   target);
		}
		free(any);
	}
	if (n == 0 && n_any == 0) {
		free(seqs);
		return ldg_err_set(err, -ENOENT, "%s has no history", target);
	}
	/* a cluster's history names the target of each row */
	rc = render_entries(r, seqs, n, true, !strchr(target, '/'), json, out,
			    len, err);
	free(seqs);
	return rc;
}

int rnd_history(struct ldg_read *r, const char *target, uint64_t at, bool json,
		char **out, size_t *len, struct ldg_err *err)
{
	return render_history(r, target, at ? at + 1 : 0, 0, false, json, out,
			      len, err);
}

int rnd_history_page(struct ldg_read *r, const char *target, uint64_t before,
		     size_t max, bool json, char **out, size_t *len,
		     struct ldg_err *err)
{
	return render_history(r, target, before, max, before != 0, json, out,
			      len, err);
}

int rnd_log(struct ldg_read *r, const char *scope, size_t max, bool json,
	    char **out, size_t *len, struct ldg_err *err)
{
	uint64_t *seqs;
	size_t n;
	int rc = ldg_history(r, scope, 0, max, &seqs, &n);

	if (rc)
		return ldg_err_set(err, rc, "cannot read the log");
	rc = render_entries(r, seqs, n, false, true, json, out, len, err);
	free(seqs);
	return rc;
}

/* ---- values.yaml ---- */

static int yaml_write(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, size_t len,
		       bool quoted)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
				     (int)len, 1, 1,
				     quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					    : YAML_PLAIN_SCALAR_STYLE);
	return emit(em, &ev);
}

/* A typed scalar's canonical text (value.h), plain. A float written with
 * an exponent and no fraction (1e+300) gets one (1.0e+300): YAML 1.2 and
 * Helm's reader take either as a float, YAML 1.1 (PyYAML) only the
 * second. */
static int emit_plain(yaml_emitter_t *em, const char *text, bool real)
{
	size_t m = strcspn(text, "e");
	char buf[64];

	if (!real || strchr(text, '.') || !text[m] ||
	    (size_t)snprintf(buf, sizeof(buf), "%.*s.0%s", (int)m, text,
			     text + m) >= sizeof(buf))
		return emit_scalar(em, text, strlen(text), false);
	return emit_scalar(em, buf, strlen(buf), false);
}

/* A typed value from its canonical JSON text (value.h) as YAML that reads
 * back as the same type: a scalar plain (null, true, 3, -7, 1.5,
 * 1.0e+300: YAML's own forms of these), an array a flow sequence of plain
 * scalars and double-quoted strings ([1, "a", true]). */
static int emit_typed(yaml_emitter_t *em, const char *text)
{
	yaml_event_t ev;
	json_t *j, *item;
	size_t i;
	int rc = -EIO;

	j = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!j)
		return -EINVAL;
	if (!json_is_array(j)) {
		rc = emit_plain(em, text, json_is_real(j));
		goto out_json;
	}
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					     YAML_FLOW_SEQUENCE_STYLE);
	if (emit(em, &ev))
		goto out_json;
	json_array_foreach(j, i, item)
	{
		enum ldg_vtype type;
		char *dump, *canon;

		if (json_is_string(item)) {
			rc = emit_scalar(em, json_string_value(item),
					 json_string_length(item), true);
			if (rc)
				goto out_json;
			continue;
		}
		/* an item's own canonical text: jansson writes a float
		 * with 17 digits, value.h in the shortest that reads back */
		dump = json_dumps(item, JSON_ENCODE_ANY);
		rc = dump ? ldg_value_from_json(dump, &type, &canon, NULL)
			  : -ENOMEM;
		free(dump);
		if (rc)
			goto out_json;
		rc = emit_plain(em, canon, json_is_real(item));
		free(canon);
		if (rc)
			goto out_json;
	}
	yaml_sequence_end_event_initialize(&ev);
	rc = emit(em, &ev);
out_json:
	json_decref(j);
	return rc;
}

/* A mapping key may stay unquoted when YAML would read it back as the
 * same string: a name, not a number, boolean or null in YAML 1.1. */
static bool plain_key(const char *k, size_t len)
{
	static const char *const words[] = { "y",  "n",	   "yes",
					     "no", "true", "false",
					     "on", "off",  "null" };
	char low[8];

	if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z')))
		return false;
	if (len < sizeof(low)) {
		for (size_t i = 0; i < len; i++)
			low[i] = (char)(k[i] | 0x20);
		low[len] = '\0';
		for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
			if (!strcmp(low, words[i]))
				return false;
	}
	return true;
}

/* Length of key's first `depth` segments' prefix plus the next segment:
 * returns the segment [*start, *end) at depth, or false if none. */
static bool segment(const char *key, size_t depth, size_t *start, size_t *end)
{
	size_t s = 0;

	for (size_t d = 0; d < depth; d++) {
		const char *dot = strchr(key + s, '.');
		if (!dot)
			return false;
		s = (size_t)(dot - key) + 1;
	}
	*start = s;
	*end = s + strcspn(key + s, ".");
	return true;
}

/* Emits v->v[lo..hi), which share their first depth segments (sorted by
 * key, so each group of equal segments is contiguous). */
static int emit_level(yaml_emitter_t *em, const struct ldg_values *v, size_t lo,
		      size_t hi, size_t depth, size_t *dropped)
{
	yaml_event_t ev;
	int rc;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					    YAML_BLOCK_MAPPING_STYLE);
	rc = emit(em, &ev);
	if (rc)
		return rc;
	for (size_t i = lo; i < hi;) {
		size_t s = 0, e = 0, j = i + 1;
		bool leaf;

		segment(v->v[i].key, depth, &s, &e);
		/* the group: every key with this same segment here */
		while (j < hi) {
			size_t s2, e2;
			if (!segment(v->v[j].key, depth, &s2, &e2) ||
			    e2 - s2 != e - s ||
			    memcmp(v->v[j].key + s2, v->v[i].key + s, e - s))
				break;
			j++;
		}
		leaf = v->v[i].key[e] == '\0';
		rc = emit_scalar(em, v->v[i].key + s, e - s,
				 !plain_key(v->v[i].key + s, e - s));
		if (rc)
			return rc;
		if (leaf && j == i + 1 && v->v[i].type == LDG_V_JSON) {
			rc = emit_typed(em, v->v[i].value);
		} else if (leaf && j == i + 1) {
			rc = emit_scalar(em, v->v[i].value,
					 strlen(v->v[i].value), true);
		} else {
			if (leaf) { /* "image" beside "image.tag" */
				if (dropped)
					(*dropped)++;
				i++;
			}
			rc = emit_level(em, v, i, j, depth + 1, dropped);
		}
		if (rc)
			return rc;
		i = j;
	}
	yaml_mapping_end_event_initialize(&ev);
	return emit(em, &ev);
}

/* Dotted keys sort so that a group's members are contiguous only when
 * compared segment by segment ("a.b" must sort before "a-b"). */
static int seg_cmp(const void *pa, const void *pb)
{
	const char *a = ((const struct ldg_value *)pa)->key;
	const char *b = ((const struct ldg_value *)pb)->key;

	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		int c = memcmp(a, b, la < lb ? la : lb);
		if (c)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
		if (!a[la] || !b[lb])
			return a[la] ? 1 : b[lb] ? -1 : 0;
		a += la + 1;
		b += lb + 1;
	}
}

int rnd_values_yaml(const struct ldg_values *v, char **out, size_t *len,
		    size_t *dropped)
{
	struct ldg_values sorted = *v;
	yaml_emitter_t em;
	yaml_event_t ev;
	FILE *f;
	int rc = -EIO;

	if (dropped)
		*dropped = 0;
	sorted.v = malloc((v->n ? v->n : 1) * sizeof(*sorted.v));
	if (!sorted.v)
		return -ENOMEM;
	memcpy(sorted.v, v->v, v->n * sizeof(*sorted.v));
	qsort(sorted.v, sorted.n, sizeof(*sorted.v), seg_cmp);
	f = open_memstream(out, len);
	if (!f) {
		free(sorted.v);
		return -ENOMEM;
	}
	if (!yaml_emitter_initialize(&em))
		goto out_close;
	yaml_emitter_set_output(&em, yaml_write, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(&em, &ev))
		goto out_emitter;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(&em, &ev))
		goto out_emitter;
	if (sorted.n == 0) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    YAML_FLOW_MAPPING_STYLE);
		if (emit(&em, &ev))
			goto out_emitter;
		yaml_mapping_end_event_initialize(&ev);
		if (emit(&em, &ev))
			goto out_emitter;
	} else if (emit_level(&em, &sorted, 0, sorted.n, 0, dropped)) {
		goto out_emitter;
	}
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(&em, &ev))
		goto out_emitter;
	yaml_stream_end_event_initialize(&ev);
	if (emit(&em, &ev) || !yaml_emitter_flush(&em))
		goto out_emitter;
	rc = 0;
out_emitter:
	yaml_emitter_delete(&em);
out_close:
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc)
		free(*out);
	free(sorted.v);
	return rc;
}

/* ---- state and diff ---- */

/* The targets under scope (NULL: all; a cluster; a target) that existed
 * at seq at, sorted. A target's prefix also matches longer release names
 * ("a/api" vs "a/api-2"), which are dropped here. */
static int scope_targets(struct ldg_read *r, const char *scope, uint64_t at,
			 char ***targets, size_t *n)
{
	char prefix[LDG_TARGET_MAX + 2] = "";
	bool one = scope && strchr(scope, '/');
	size_t kept = 0;
	int rc;

	if (scope)
		snprintf(prefix, sizeof(prefix), "%s%s", scope, one ? "" : "/");
	rc = ldg_targets_list(r, scope ? prefix : NULL, at, targets, n);
	if (rc || !one)
		return rc;
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*targets)[i], scope))
			(*targets)[kept++] = (*targets)[i];
		else
			free((*targets)[i]);
	}
	*n = kept;
	return 0;
}

int rnd_state(struct ldg_read *r, const char *scope, uint64_t at, bool json,
	      char **out, size_t *len, struct ldg_err *err)
{
	json_t *all = json_object();
	char **targets = NULL;
	uint64_t head;
	size_t n = 0;
	FILE *f = NULL;
	int rc;

	rc = ldg_head(r, &head, NULL);
	if (!rc)
		rc = scope_targets(r, scope, at, &targets, &n);
	if (rc) {
		json_decref(all);
		return ldg_err_set(err, rc, "cannot list targets");
	}
	if (!json) {
		f = open_memstream(out, len);
		if (!f)
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct ldg_entry *lock = NULL;
		struct ldg_values v;
		json_t *vals;

		rc = ldg_state_get(r, targets[i], at, &v);
		if (rc) {
			ldg_err_set(err, rc, "cannot read state of %s",
				    targets[i]);
			break;
		}
		if (v.n == 0 && !v.lock_seq) {
			ldg_values_free(&v);
			continue;
		}
		if (v.lock_seq && ldg_entry_read(r, v.lock_seq, &lock, NULL))
			lock = NULL;
		vals = values_json(&v, NULL);
		for (size_t k = 0; k < v.n && !json; k++)
			fprintf(f, "%s %s%s%s\n", targets[i], v.v[k].key,
				rnd_assign(v.v[k].type), v.v[k].value);
		if (v.lock_seq && !json)
			fprintf(f, "%s [locked since seq %llu: %s]\n",
				targets[i], (unsigned long long)v.lock_seq,
				lock ? lock->reason : "?");
		json_object_set_new(
			all, targets[i],
			json_pack("{s:o, s:o}", "values", vals, "locked",
				  v.lock_seq
					  ? json_pack("{s:I, s:s}", "seq",
						      (json_int_t)v.lock_seq,
						      "reason",
						      lock ? lock->reason : "?")
					  : json_null()));
		ldg_entry_free(lock);
		ldg_values_free(&v);
	}
	ldg_strv_free(targets, n);
	if (f && (fclose(f) || escape_display(out, len)) && !rc)
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
	if (rc) {
		if (f)
			free(*out);
		json_decref(all);
		return rc;
	}
	if (!json) {
		json_decref(all);
		return 0;
	}
	rc = rnd_json_out(json_pack("{s:I, s:o}", "at",
				    (json_int_t)(at ? at : head), "targets",
				    all),
			  out, len);
	return rc ? ldg_err_set(err, rc, "out of memory") : 0;
}

/* One side of a diff line: "(unset)", the value as it is (a string as
 * today, a typed value's JSON text), or as JSON when the line changes the
 * type (a string quoted: "3" -> 3). */
static void diff_side(FILE *f, const struct ldg_value *v, bool as_json)
{
	json_t *j;
	char *s;

	if (!v) {
		fputs("(unset)", f);
		return;
	}
	if (!as_json || v->type == LDG_V_JSON) {
		fputs(v->value, f);
		return;
	}
	j = json_string(v->value);
	s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	fputs(s ? s : "?", f);
	free(s);
}

static void diff_one(FILE *f, json_t *arr, const char *target, const char *key,
		     const struct ldg_value *from, const struct ldg_value *to)
{
	bool retyped = from && to && from->type != to->type;

	if (arr) {
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:o, s:o}",
						"target", target, "key", key,
						"from",
						from ? rnd_value_json(from->type,
								      from->value)
						     : json_null(),
						"to",
						to ? rnd_value_json(to->type,
								    to->value)
						   : json_null()));
		return;
	}
	fprintf(f, "%s %s: ", target, key);
	diff_side(f, from, retyped);
	fputs(" -> ", f);
	diff_side(f, to, retyped);
	fputc('\n', f);
}

static void diff_target(FILE *f, json_t *arr, const char *t,
			const struct ldg_values *a, const struct ldg_values *b)
{
	static const struct ldg_value locked = { .value = (char *)"locked" };

	for (size_t i = 0; i < a->n; i++) {
		const struct ldg_value *o = ldg_values_find(b, a->v[i].key);
		if (!o || !ldg_value_eq(o->type, o->value, a->v[i].type,
					a->v[i].value))
			diff_one(f, arr, t, a->v[i].key, &a->v[i], o);
	}
	for (size_t i = 0; i < b->n; i++)
		if (!ldg_values_find(a, b->v[i].key))
			diff_one(f, arr, t, b->v[i].key, NULL, &b->v[i]);
	if (!a->lock_seq != !b->lock_seq)
		diff_one(f, arr, t, "[lock]", a->lock_seq ? &locked : NULL,
			 b->lock_seq ? &locked : NULL);
}

int rnd_diff(struct ldg_read *r, uint64_t a, uint64_t b, const char *scope,
	     bool json, char **out, size_t *len, struct ldg_err *err)
{
	json_t *arr = json ? json_array() : NULL;
	char **targets = NULL;
	size_t n = 0;
	FILE *f = NULL;
	int rc;

	rc = scope_targets(r, scope, a > b ? a : b, &targets, &n);
	if (rc) {
		json_decref(arr);
		return ldg_err_set(err, rc, "cannot list targets");
	}
	if (!json) {
		f = open_memstream(out, len);
		if (!f)
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct ldg_values va, vb;
		rc = ldg_state_get(r, targets[i], a, &va);
		if (rc)
			break;
		rc = ldg_state_get(r, targets[i], b, &vb);
		if (!rc) {
			diff_target(f, arr, targets[i], &va, &vb);
			ldg_values_free(&vb);
		}
		ldg_values_free(&va);
	}
	ldg_strv_free(targets, n);
	if (f && (fclose(f) || escape_display(out, len)) && !rc)
		rc = -ENOMEM;
	if (rc) {
		if (f)
			free(*out);
		json_decref(arr);
		return ldg_err_set(err, rc, "cannot compare the states: %s",
				   strerror(-rc));
	}
	if (!json)
		return 0;
	rc = rnd_json_out(arr, out, len);
	return rc ? ldg_err_set(err, rc, "out of memory") : 0;
}

/* ---- releases: what runs where, who set it, and its last apply ---- */

/* {"seq", "kind", "time", "signer", "reason"} of entry seq, or JSON null
 * for seq 0; *e keeps the entry for the caller (NULL for seq 0). */
static json_t *entry_brief(struct ldg_read *r, uint64_t seq,
			   struct ldg_entry **e, int *rc)
{
	char when[40], who[LDG_KEYNAME_MAX + 1];

	*e = NULL;
	if (!seq)
		return json_null();
	*rc = ldg_entry_read(r, seq, e, NULL);
	if (*rc)
		return NULL;
	ldg_time_iso((*e)->time_ns, when, sizeof(when));
	signer_name(r, *e, who, sizeof(who));
	return json_pack("{s:I, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq,
			 "kind", ldg_kind_name((*e)->kind), "time", when,
			 "signer", who, "reason", (*e)->reason);
}

/* The window of g that freezes target at now, as rnd_window_json()
 * (of those active, the one that ends last), or JSON null. A window
 * whose zone this machine lacks cannot be judged here: not shown. */
static json_t *frozen_json(struct ldg_read *r, const struct ldg_gov *g,
			   const char *target, int64_t now)
{
	const struct ldg_window *last = NULL;
	int64_t last_end = 0;

	for (size_t i = 0; i < g->n_win; i++) {
		bool active = false;
		int64_t end = 0;
		if (!ldg_scope_match(g->win[i].scope, target) ||
		    ldg_gov_window_active(&g->win[i], now, &active, &end,
					  NULL) ||
		    !active)
			continue;
		if (!last || end > last_end) {
			last = &g->win[i];
			last_end = end;
		}
	}
	return last ? rnd_window_json(r, last, now) : json_null();
}

/* ---- drift ---- */

/* The newest drift entry of target, in *e (NULL: never checked). */
static int drift_entry(struct ldg_read *r, const char *target,
		       struct ldg_entry **e)
{
	uint64_t seq;
	int rc = ldg_last_drift(r, target, &seq);

	*e = NULL;
	if (rc || !seq)
		return rc;
	return ldg_entry_read(r, seq, e, NULL);
}

/* "SEQ 2026-12-05T23:40:00Z": since when a status holds. */
static void drift_since(const struct ldg_entry *e, char *buf, size_t len)
{
	char when[40];

	ldg_time_iso(e->time_ns, when, sizeof(when));
	snprintf(buf, len, "%llu %.19sZ", (unsigned long long)e->seq, when);
}

static json_t *drift_json(const struct ldg_entry *e)
{
	char when[40];

	if (!e)
		return json_null();
	ldg_time_iso(e->time_ns, when, sizeof(when));
	return json_pack("{s:s, s:I, s:s}", "status", e->changes[0].value,
			 "seq", (json_int_t)e->seq, "time", when);
}

int rnd_drift(struct ldg_read *r, const char *target, char **out, size_t *len,
	      uint64_t *seq, struct ldg_err *err)
{
	const struct ldg_kv *diff;
	struct ldg_entry *e;
	char since[64];
	FILE *f;
	int rc = drift_entry(r, target, &e);

	if (rc)
		return ldg_err_set(err, rc, "cannot read the drift of %s",
				   target);
	if (!e)
		return ldg_err_set(err, -ENOENT, "%s was never checked",
				   target);
	*seq = e->seq;
	drift_since(e, since, sizeof(since));
	diff = ldg_kv_find(e->meta, e->n_meta, "diff");
	*out = NULL;
	f = open_memstream(out, len);
	if (f) {
		fprintf(f, "%s since %s\n", e->changes[0].value, since);
		if (diff && !strcmp(e->changes[0].value, LDG_DRIFTED))
			fprintf(f, "%s\n", diff->value);
	}
	ldg_entry_free(e);
	if (!f || fclose(f)) {
		free(*out);
		return ldg_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* One target's row: JSON object, and a text table row. */
static int release_one(struct ldg_read *r, const char *target, json_t *arr,
		       struct table *t, const struct ldg_gov *g, int64_t now)
{
	struct ldg_entry *changed = NULL, *lock = NULL, *apply = NULL;
	struct ldg_entry *drift = NULL;
	json_t *jc, *jl, *ja, *jd = NULL, *vals;
	const struct ldg_kv *d;
	struct ldg_values v;
	uint64_t apply_seq = 0, desired = 0;
	bool current = false;
	char *row[7], when[40], *text = NULL;
	FILE *f;
	int rc = ldg_state_get(r, target, 0, &v);

	if (rc)
		return rc;
	if (v.n == 0 && !v.lock_seq) {
		ldg_values_free(&v);
		return 0; /* every key unset and no lock: gone */
	}
	rc = ldg_last_apply(r, target, &apply_seq);
	if (!rc)
		rc = drift_entry(r, target, &drift);
	jc = entry_brief(r, v.values_mtime_seq, &changed, &rc);
	jl = rc ? NULL : entry_brief(r, v.lock_seq, &lock, &rc);
	ja = rc ? NULL : entry_brief(r, apply_seq, &apply, &rc);
	if (apply) {
		d = ldg_kv_find(apply->meta, apply->n_meta, "desired-seq");
		if (!d || ldg_parse_seq(d->value, &desired))
			desired = 0;
		current = apply->kind == LDG_KIND_APPLIED &&
			  desired >= v.values_mtime_seq;
		json_object_set_new(ja, "desired_seq",
				    desired ? json_integer((json_int_t)desired)
					    : json_null());
		json_object_set_new(ja, "current", json_boolean(current));
	}
	vals = values_json(&v, NULL);
	if (!rc)
		jd = drift_json(drift);
	f = open_memstream(&text, &(size_t){ 0 });
	for (size_t k = 0; f && k < v.n; k++)
		fprintf(f, "%s%s%s%s", k ? " " : "", v.v[k].key,
			rnd_assign(v.v[k].type), v.v[k].value);
	if (!f || fclose(f) || !jc || !jl || !ja || !jd || !vals) {
		if (!rc)
			rc = -ENOMEM;
		goto out;
	}
	if (arr) {
		const char *slash = strchr(target, '/');
		const struct ldg_policy *pol = ldg_gov_policy_for(g, target);
		json_t *jp = pol ? rnd_policy_json(pol) : json_null();
		json_t *jf = frozen_json(r, g, target, now);
		json_t *row = json_pack(
			"{s:s, s:s%, s:s, s:o, s:O, s:O, s:O, s:O, s:o, s:o}",
			"target", target, "cluster", target,
			(size_t)(slash - target), "release", slash + 1,
			"values", vals, "changed", jc, "locked", jl, "apply",
			ja, "drift", jd, "policy", jp, "frozen", jf);
		vals = NULL;
		if (!row || json_array_append_new(arr, row)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (t) {
		row[0] = strdup(target);
		row[1] = text[0] ? strdup(text) : strdup("-");
		if (changed) {
			ldg_time_iso(changed->time_ns, when, sizeof(when));
			when[19] = '\0';
		}
		row[2] = changed ? strdup(json_string_value(
					   json_object_get(jc, "signer")))
				 : strdup("-");
		row[3] = strdup(changed ? when : "-");
		row[4] = changed ? strdup(changed->reason) : strdup("-");
		if (lock && asprintf(&row[5], "locked (seq %llu)",
				     (unsigned long long)lock->seq) < 0)
			row[5] = NULL;
		else if (!lock)
			row[5] = strdup("-");
		char drifted[96] = "";
		if (drift && !strcmp(drift->changes[0].value, LDG_DRIFTED)) {
			ldg_time_iso(drift->time_ns, when, sizeof(when));
			snprintf(drifted, sizeof(drifted),
				 "; drifted since %llu (%.19sZ)",
				 (unsigned long long)drift->seq, when);
		}
		if (!apply && asprintf(&row[6], "never applied%s", drifted) < 0)
			row[6] = NULL;
		else if (apply &&
			 asprintf(&row[6], "%s at seq %llu%s%s",
				  apply->kind == LDG_KIND_APPLIED ? "applied"
								  : "FAILED",
				  (unsigned long long)apply->seq,
				  apply->kind == LDG_KIND_APPLIED && !current
					  ? ", behind"
					  : "",
				  drifted) < 0)
			row[6] = NULL;
		for (size_t c = 0; c < 7; c++)
			if (!row[c])
				rc = -ENOMEM;
		if (rc) {
			for (size_t c = 0; c < 7; c++)
				free(row[c]);
		} else {
			rc = table_add(t, row);
		}
	}
out:
	free(text);
	json_decref(vals);
	json_decref(jc);
	json_decref(jl);
	json_decref(ja);
	json_decref(jd);
	ldg_entry_free(changed);
	ldg_entry_free(lock);
	ldg_entry_free(apply);
	ldg_entry_free(drift);
	ldg_values_free(&v);
	return rc;
}

int rnd_releases(struct ldg_read *r, const char *scope, int64_t now, bool json,
		 char **out, size_t *len, struct ldg_err *err)
{
	static const char *hdr[7] = { "TARGET", "VALUES", "SET BY", "WHEN",
				      "WHY",	"LOCK",	  "APPLY" };
	struct table t = { .cols = 7 };
	json_t *arr = json ? json_array() : NULL;
	char **targets = NULL;
	struct ldg_gov g;
	uint64_t head;
	size_t n = 0;
	int rc = ldg_head(r, &head, NULL);

	ldg_gov_init(&g);
	if (!rc)
		rc = scope_targets(r, scope, 0, &targets, &n);
	if (!rc && json)
		rc = ldg_gov_load(r, 0, &g, NULL);
	if (rc) {
		json_decref(arr);
		ldg_strv_free(targets, n);
		ldg_gov_free(&g);
		return ldg_err_set(err, rc, "cannot list targets");
	}
	if (!json) {
		char *row[7];
		for (size_t c = 0; c < 7; c++)
			row[c] = strdup(hdr[c]);
		rc = table_add(&t, row);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = release_one(r, targets[i], arr, json ? NULL : &t, &g, now);
		if (rc)
			ldg_err_set(err, rc, "cannot read %s", targets[i]);
	}
	ldg_strv_free(targets, n);
	ldg_gov_free(&g);
	if (!json) {
		int trc = table_render(&t, out, len);
		if (!rc && trc)
			rc = ldg_err_set(err, trc, "out of memory");
		else if (rc && !trc)
			free(*out);
		return rc;
	}
	if (rc) {
		json_decref(arr);
		return rc;
	}
	rc = rnd_json_out(json_pack("{s:I, s:o}", "head", (json_int_t)head,
				    "releases", arr),
			  out, len);
	return rc ? ldg_err_set(err, rc, "out of memory") : 0;
}

/* ---- keys, verify, proofs ---- */

json_t *rnd_key_json(const struct ldg_keyinfo *ki)
{
	char kh[2 * LDG_KEYID_BYTES + 1], vk[LDG_VKEY_TEXT_MAX];

	ldg_hex(ki->vkey.keyid, LDG_KEYID_BYTES, kh);
	ldg_vkey_format(&ki->vkey, vk);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "name",
			 ki->vkey.name, "keyid", kh, "vkey", vk, "role",
			 ki->role, "scopes", ki->scopes, "added_seq",
			 (json_int_t)ki->added_seq, "revoked_seq",
			 ki->revoked_seq
				 ? json_integer((json_int_t)ki->revoked_seq)
				 : json_null());
}

int rnd_keyring_json(struct ldg_read *r, json_t **out, struct ldg_err *err)
{
	struct ldg_keyinfo *ring = NULL;
	json_t *arr;
	size_t n = 0;
	int rc = ldg_keyring_list(r, &ring, &n);

	if (rc)
		return ldg_err_set(err, rc, "cannot read the keyring");
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		if (json_array_append_new(arr, rnd_key_json(&ring[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	free(ring);
	if (!arr)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	*out = arr;
	return 0;
}

/* The seqs of the emergency changes the report lists (the first
 * LDG_VERIFY_EMERGENCY_MAX). */
static json_t *emergency_seqs(const struct ldg_verify_report *rep)
{
	json_t *a = json_array();
	uint64_t n = rep->emergencies < LDG_VERIFY_EMERGENCY_MAX
			     ? rep->emergencies
			     : LDG_VERIFY_EMERGENCY_MAX;

	for (uint64_t i = 0; a && i < n; i++)
		json_array_append_new(a,
				      json_integer((json_int_t)rep
							   ->emergency_seq[i]));
	return a;
}

json_t *rnd_verify_json(const struct ldg_verify_report *rep, int vrc)
{
	char hh[2 * LDG_HASH_BYTES + 1], rh[2 * LDG_HASH_BYTES + 1];
	json_t *j;

	ldg_hex(rep->head_hash, LDG_HASH_BYTES, hh);
	ldg_hex(rep->root, LDG_HASH_BYTES, rh);
	j = json_pack("{s:b, s:I, s:I, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:o}}",
		      "ok", vrc == 0, "entries", (json_int_t)rep->entries,
		      "head", (json_int_t)rep->head, "hash", hh, "root", rh,
		      "origin", rep->origin, "policies", "proposals",
		      (json_int_t)rep->proposals, "enacted",
		      (json_int_t)rep->enacted, "emergencies",
		      (json_int_t)rep->emergencies, "emergency_seqs",
		      emergency_seqs(rep));
	if (j && rep->since &&
	    json_object_set_new(j, "since",
				json_integer((json_int_t)rep->since))) {
		json_decref(j);
		return NULL;
	}
	if (j && vrc &&
	    (json_object_set_new(j, "bad_seq",
				 rep->bad_seq
					 ? json_integer((json_int_t)rep->bad_seq)
					 : json_null()) ||
	     json_object_set_new(j, "problem", json_string(rep->problem)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *trust_json(const char *file, const struct ldg_trust_report *rep)
{
	static const char *const status[] = {
		[LDG_COSIG_ABSENT] = "absent",
		[LDG_COSIG_OK] = "cosigned",
		[LDG_COSIG_BAD] = "bad",
	};
	json_t *ws = json_array();

	for (size_t i = 0; ws && i < rep->n; i++) {
		const struct ldg_trust_seen *w = &rep->w[i];
		char key[LDG_VKEY_TEXT_MAX];

		ldg_cosigner_format(&w->key, key);
		if (json_array_append_new(
			    ws, json_pack("{s:s, s:s, s:s, s:o}", "name",
					  w->name, "key", key, "status",
					  status[w->seen], "time",
					  w->seen == LDG_COSIG_OK
						  ? json_integer(
							    (json_int_t)w->time)
						  : json_null()))) {
			json_decref(ws);
			return NULL;
		}
	}
	return json_pack("{s:s, s:s, s:b, s:o}", "checkpoint", file, "quorum",
			 rep->quorum, "met", rep->met, "witnesses", ws);
}

int rnd_verify_cosig(json_t *verify, const char *const *files,
		     const struct ldg_trust_report *reps, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, trust_json(files[i], &reps[i]))) {
			json_decref(a);
			return -ENOMEM;
		}
	return json_object_set_new(verify, "cosignatures", a) ? -ENOMEM : 0;
}

json_t *rnd_tiles_json(const char *dir, const char *origin,
		       const struct ldg_tiles_stats *st)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "dir", dir, "origin",
			 origin, "size", (json_int_t)st->size, "from",
			 (json_int_t)st->old_size, "tiles",
			 (json_int_t)st->tiles, "bytes", (json_int_t)st->bytes);
}

json_t *rnd_entry_proof_json(uint64_t seq, const struct ldg_entry_proof *pr)
{
	char hh[2 * LDG_HASH_BYTES + 1];

	ldg_hex(pr->hash, LDG_HASH_BYTES, hh);
	return json_pack(
		"{s:I, s:s, s:{s:b, s:s?}, s:{s:b, s:s?}, s:o, s:{s:b, s:o}}",
		"seq", (json_int_t)seq, "hash", hh, "signature", "ok",
		!pr->sig_problem, "problem", pr->sig_problem, "signer_key",
		"ok", !pr->sig_problem && !pr->key_problem, "problem",
		pr->sig_problem ? pr->sig_problem : pr->key_problem, "key",
		pr->have_key ? rnd_key_json(&pr->key) : json_null(), "chain",
		"prev_ok", pr->prev_ok, "next_ok",
		pr->next_ok < 0 ? json_null() : json_boolean(pr->next_ok));
}

/* ---- promotion policies ---- */

/* The name of the key with id (its hex id when the keyring has none). */
static void key_name(struct ldg_read *r, const uint8_t id[LDG_KEYID_BYTES],
		     char *out, size_t len)
{
	struct ldg_keyinfo ki;
	char hex[2 * LDG_KEYID_BYTES + 1];

	if (ldg_keyring_by_id(r, id, &ki) == 0) {
		snprintf(out, len, "%s", ki.vkey.name);
		return;
	}
	ldg_hex(id, LDG_KEYID_BYTES, hex);
	snprintf(out, len, "%s", hex);
}

json_t *rnd_policy_json(const struct ldg_policy *p)
{
	return json_pack("{s:s, s:I, s:I, s:b, s:o, s:o}", "scope", p->scope,
			 "seq", (json_int_t)p->seq, "approvals",
			 (json_int_t)p->approvals, "gate_rollbacks",
			 p->gate_rollbacks, "soak",
			 p->soak ? json_integer((json_int_t)p->soak)
				 : json_null(),
			 "from",
			 p->soak ? json_string(p->soak_from) : json_null());
}

/* "approvals=2, soak=30m from staging, rollbacks gated" */
static int policy_text(const struct ldg_policy *p, char **out)
{
	char d[LDG_DURATION_LEN];
	size_t len = 0;
	const char *sep = "";
	FILE *f = open_memstream(out, &len);

	if (!f)
		return -ENOMEM;
	if (p->approvals) {
		fprintf(f, "approvals=%u", p->approvals);
		sep = ", ";
	}
	if (p->soak) {
		ldg_duration_format(p->soak, d, sizeof(d));
		fprintf(f, "%ssoak=%s from %s", sep, d, p->soak_from);
		sep = ", ";
	}
	if (p->gate_rollbacks)
		fprintf(f, "%srollbacks gated", sep);
	return fclose(f) ? -ENOMEM : 0;
}

/* Whether w is active at now: 1, 0, or -1 when that cannot be told (its
 * zone is not in this machine's tz database); *end when active. */
static int window_state(const struct ldg_window *w, int64_t now, int64_t *end)
{
	bool active = false;

	*end = 0;
	if (ldg_gov_window_active(w, now, &active, end, NULL))
		return -1;
	return active;
}

/* The freeze entry's reason into *reason (caller frees); "?" when it
 * cannot be read. */
static char *window_reason(struct ldg_read *r, uint64_t seq)
{
	struct ldg_entry *e;
	char *reason;

	if (ldg_entry_read(r, seq, &e, NULL))
		return strdup("?");
	reason = strdup(e->reason);
	ldg_entry_free(e);
	return reason;
}

/* When w, not active at now, opens next (unix seconds): an absolute
 * window's start while it is ahead, a recurring one's next firing; 0
 * when it never will (ended, or no firing within window.h's bound, or
 * its zone is not on this machine). */
static int64_t window_next(const struct ldg_window *w, int64_t now)
{
	struct ldg_cron c;
	int64_t start = 0, end = 0;
	bool active = false;

	if (!w->cron[0])
		return w->from > now ? w->from : 0;
	if (ldg_cron_parse(w->cron, &c, NULL) ||
	    ldg_window_at(&c, w->duration, w->tz, now, &active, &start, &end,
			  NULL) ||
	    active)
		return 0;
	return start;
}

json_t *rnd_window_json(struct ldg_read *r, const struct ldg_window *w,
			int64_t now)
{
	char from[LDG_UTC_LEN], until[LDG_UTC_LEN], ends[LDG_UTC_LEN];
	char next[LDG_UTC_LEN];
	bool cron = w->cron[0] != '\0';
	int64_t end, opens;
	int state = window_state(w, now, &end);
	char *reason = window_reason(r, w->seq);
	json_t *j;

	if (!reason)
		return NULL;
	opens = state == 0 ? window_next(w, now) : 0;
	ldg_utc_format(w->from, from, sizeof(from));
	ldg_utc_format(w->until, until, sizeof(until));
	ldg_utc_format(end, ends, sizeof(ends));
	ldg_utc_format(opens, next, sizeof(next));
	j = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:o, s:s?, s:o, "
		      "s:s?, s:s?}",
		      "seq", (json_int_t)w->seq, "scope", w->scope, "reason",
		      reason, "from", cron ? NULL : from, "until",
		      cron ? NULL : until, "cron", cron ? w->cron : NULL,
		      "duration",
		      cron ? json_integer((json_int_t)w->duration)
			   : json_null(),
		      "tz", cron ? w->tz : NULL, "active",
		      state < 0 ? json_null() : json_boolean(state), "ends",
		      state > 0 ? ends : NULL, "next", opens ? next : NULL);
	free(reason);
	return j;
}

/* "2026-12-24T00:00:00Z to 2026-12-27T00:00:00Z" or "cron 0 18 * * 5
 * for 2d14h (Europe/Berlin)", and whether it is active now. */
static int window_text(const struct ldg_window *w, int64_t now, char **out)
{
	char a[LDG_UTC_LEN], b[LDG_UTC_LEN], d[LDG_DURATION_LEN];
	int64_t end;
	int state = window_state(w, now, &end);
	int n;

	if (w->cron[0]) {
		ldg_duration_format(w->duration, d, sizeof(d));
		n = asprintf(out, "cron \"%s\" for %s (%s)", w->cron, d, w->tz);
	} else {
		ldg_utc_format(w->from, a, sizeof(a));
		ldg_utc_format(w->until, b, sizeof(b));
		n = asprintf(out, "%s to %s", a, b);
	}
	if (n >= 0 && state != 0) {
		char *more = NULL;
		ldg_utc_format(end, a, sizeof(a));
		n = state > 0
			    ? asprintf(&more, "%s, active until %s", *out, a)
			    : asprintf(&more, "%s, zone %s not on this machine",
				       *out, w->tz);
		free(*out);
		*out = more;
	}
	return n < 0 ? -ENOMEM : 0;
}

/* The approve entries of proposal p, oldest first, from its target's
 * history after it: [{"key", "seq"}]. They all lie between p and the
 * entry that ended it (the head while it is pending): only that stretch
 * of the history is read. */
static json_t *approvals_json(struct ldg_read *r, const struct ldg_proposal *p,
			      int *rc)
{
	json_t *arr = json_array();
	uint64_t *seqs = NULL;
	uint64_t before = p->status == LDG_PROP_PENDING ? 0 : p->at + 1;
	size_t n = 0, all = 0;
	uint64_t *found = NULL;

	/* newest first, a page at a time, down to the proposal */
	for (bool more = true; arr && more && !*rc;) {
		uint64_t *grown;
		*rc = ldg_history(r, p->target, before, 256, &seqs, &n);
		if (*rc)
			break;
		more = n == 256;
		grown = realloc(found, (all + n) * sizeof(*found) + 1);
		if (!grown) {
			*rc = -ENOMEM;
			free(seqs);
			break;
		}
		found = grown;
		for (size_t i = 0; i < n; i++) {
			if (seqs[i] <= p->seq) {
				more = false;
				break;
			}
			found[all++] = seqs[i];
			before = seqs[i];
		}
		free(seqs);
	}
	for (size_t i = all; arr && !*rc && i-- > 0;) {
		struct ldg_entry *e;
		const struct ldg_kv *of;
		uint64_t v;
		char who[LDG_KEYNAME_MAX + 1];

		*rc = ldg_entry_read(r, found[i], &e, NULL);
		if (*rc)
			break;
		of = ldg_kv_find(e->changes, e->n_changes, "proposal");
		if (e->kind == LDG_KIND_APPROVE && of &&
		    !ldg_parse_seq(of->value, &v) && v == p->seq) {
			signer_name(r, e, who, sizeof(who));
			json_array_append_new(arr,
					      json_pack("{s:s, s:I}", "key",
							who, "seq",
							(json_int_t)e->seq));
		}
		ldg_entry_free(e);
	}
	free(found);
	if (!arr && !*rc)
		*rc = -ENOMEM;
	if (*rc) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* rnd_proposal_json() with the proposal's entry, read here. */
static json_t *proposal_json(struct ldg_read *r, const struct ldg_proposal *p,
			     const struct ldg_entry *e, int *rc)
{
	char who[LDG_KEYNAME_MAX + 1];
	json_t *approvals = approvals_json(r, p, rc);

	if (!approvals)
		return NULL;
	key_name(r, p->author, who, sizeof(who));
	return json_pack("{s:I, s:s, s:s, s:I, s:o, s:b, s:s, s:s, s:o}", "seq",
			 (json_int_t)p->seq, "target", p->target, "author", who,
			 "need", (json_int_t)p->need, "approvals", approvals,
			 "emergency", (p->flags & LDG_PEND_EMERGENCY) != 0,
			 "status", ldg_prop_status_name(p->status), "kind",
			 ldg_kind_name(p->kind), "changes",
			 kv_json(e->changes, e->n_changes, true));
}

/* The "proposal" member of an entry's JSON: {"seq", "status", "at"
 * (the seq that ended it, or null), "need"}, and "approvals" when it is
 * the proposal's own entry. */
static json_t *proposal_brief(struct ldg_read *r, const struct ldg_proposal *p,
			      bool own, int *rc)
{
	json_t *j =
		json_pack("{s:I, s:s, s:o, s:I}", "seq", (json_int_t)p->seq,
			  "status", ldg_prop_status_name(p->status), "at",
			  p->at ? json_integer((json_int_t)p->at) : json_null(),
			  "need", (json_int_t)p->need);
	json_t *approvals;

	if (!j) {
		*rc = -ENOMEM;
		return NULL;
	}
	if (!own)
		return j;
	approvals = approvals_json(r, p, rc);
	if (!approvals || json_object_set_new(j, "approvals", approvals)) {
		json_decref(j);
		if (!*rc)
			*rc = -ENOMEM;
		return NULL;
	}
	return j;
}

/* What promotion policies add to an entry's JSON (docs/api.md): a change
 * recorded as a proposal gets "proposal" (its fate and approvals), an
 * approve or withdraw the "proposal" it is about, an emergency change
 * "emergency": true. Nothing for the other entries, so that a ledger
 * without policies renders as before. */
/* The proposal e may name (0: none): itself when it is a change, the
 * one it approves or withdraws. Only version 2 entries have any. */
static uint64_t proposal_named(const struct ldg_entry *e)
{
	const struct ldg_kv *of;
	uint64_t seq = 0;

	if (e->version != LDG_FORMAT_V2)
		return 0;
	if (ldg_kind_changes_values(e->kind))
		return e->seq;
	if (!ldg_kind_on_proposal(e->kind))
		return 0;
	of = ldg_kv_find(e->changes, e->n_changes, "proposal");
	return of && !ldg_parse_seq(of->value, &seq) ? seq : 0;
}

static int gov_members(struct ldg_read *r, const struct ldg_entry *e, json_t *j)
{
	struct ldg_proposal p = { 0 };
	const struct ldg_kv *of;
	uint64_t seq = proposal_named(e);
	json_t *brief;
	int rc = 0;

	of = ldg_kv_find(e->meta, e->n_meta, "emergency");
	if (e->version == LDG_FORMAT_V2 && of && !strcmp(of->value, "true") &&
	    json_object_set_new(j, "emergency", json_true()))
		return -ENOMEM;
	if (!seq)
		return 0;
	rc = ldg_proposal_get(r, seq, &p);
	if (rc == -ENOENT)
		return 0; /* took effect at once; or a draft not yet there */
	if (rc)
		return rc;
	brief = proposal_brief(r, &p, seq == e->seq, &rc);
	ldg_proposal_free(&p);
	if (!brief)
		return rc ? rc : -ENOMEM;
	return json_object_set_new(j, "proposal", brief) ? -ENOMEM : 0;
}

bool rnd_entry_settled(struct ldg_read *r, uint64_t seq)
{
	struct ldg_proposal p = { 0 };
	struct ldg_entry *e;
	uint64_t named;
	bool settled;

	if (ldg_entry_read(r, seq, &e, NULL))
		return false;
	named = proposal_named(e);
	ldg_entry_free(e);
	if (!named || ldg_proposal_get(r, named, &p))
		return true;
	settled = p.status != LDG_PROP_PENDING;
	ldg_proposal_free(&p);
	return settled;
}

json_t *rnd_proposal_json(struct ldg_read *r, const struct ldg_proposal *p)
{
	struct ldg_entry *e;
	json_t *j;
	int rc = ldg_entry_read(r, p->seq, &e, NULL);

	if (rc)
		return NULL;
	j = proposal_json(r, p, e, &rc);
	ldg_entry_free(e);
	return j;
}

int rnd_approvals(struct ldg_read *r, const struct ldg_proposal *p, char **out)
{
	unsigned have = 0;
	size_t len = 0;
	FILE *f;

	for (size_t i = 0; i < p->n_approvers; i++)
		have += ldg_key_trusted(r, p->approvers[i]);
	f = open_memstream(out, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%u of %u", have, p->need);
	for (size_t i = 0; i < p->n_approvers; i++) {
		struct ldg_keyinfo ki;
		char who[LDG_KEYNAME_MAX + 1];
		bool revoked =
			ldg_keyring_by_id(r, p->approvers[i], &ki) == 0 &&
			ki.revoked_seq;
		key_name(r, p->approvers[i], who, sizeof(who));
		fprintf(f, "%s%s%s", i ? ", " : " (has: ", who,
			revoked ? " (revoked)" : "");
	}
	if (p->n_approvers)
		fputc(')', f);
	return fclose(f) ? -ENOMEM : 0;
}

/* The WAITS FOR column: the approvals still missing, and the freeze
 * window open at now that would refuse the last one (an emergency passes
 * it). */
static char *waits_for(struct ldg_read *r, const struct ldg_gov *g,
		       const struct ldg_proposal *p, int64_t now)
{
	const struct ldg_pending *pend = ldg_gov_pending(g, p->seq);
	unsigned have = pend ? ldg_gov_count(pend, ldg_key_trusted, r, NULL)
			     : 0,
		 more = have < p->need ? p->need - have : 0;
	struct ldg_err ferr = { 0 };
	char *text = NULL;

	if (!(p->flags & LDG_PEND_EMERGENCY) &&
	    ldg_frozen(r, g, p->target, (uint64_t)now * 1000000000u, &ferr) ==
		    -EBUSY) {
		if (asprintf(&text, "%u more approval%s; window %llu is open",
			     more, more == 1 ? "" : "s",
			     (unsigned long long)ferr.seq) < 0)
			text = NULL;
	} else if (asprintf(&text, "%u more approval%s", more,
			    more == 1 ? "" : "s") < 0) {
		text = NULL;
	}
	return text;
}

#define PENDING_COLS 8

/* One row of the pending table: SEQ UPDATED TARGET KIND CHANGES AUTHOR
 * APPROVALS WAITS-FOR. */
static int pending_row(struct ldg_read *r, const struct ldg_gov *g,
		       const struct ldg_proposal *p, const struct ldg_entry *e,
		       int64_t now, struct table *t)
{
	char *row[PENDING_COLS], who[LDG_KEYNAME_MAX + 1], when[40];

	if (asprintf(&row[0], "%llu", (unsigned long long)p->seq) < 0)
		row[0] = NULL;
	ldg_time_iso(e->time_ns, when, sizeof(when));
	when[19] = '\0'; /* seconds are enough in a table */
	row[1] = strdup(when);
	row[2] = strdup(p->target);
	if (asprintf(&row[3], "%s%s", ldg_kind_name(p->kind),
		     p->flags & LDG_PEND_EMERGENCY ? " (emergency)" : "") < 0)
		row[3] = NULL;
	if (render_changes(e, &row[4]))
		row[4] = NULL;
	key_name(r, p->author, who, sizeof(who));
	row[5] = strdup(who);
	if (rnd_approvals(r, p, &row[6]))
		row[6] = NULL;
	row[7] = waits_for(r, g, p, now);
	return table_add_new(t, row);
}

int rnd_pending(struct ldg_read *r, const char *scope, int64_t now, bool json,
		char **out, size_t *len, struct ldg_err *err)
{
	static const char *hdr[PENDING_COLS] = { "SEQ",	      "UPDATED",
						 "TARGET",    "KIND",
						 "CHANGES",   "AUTHOR",
						 "APPROVALS", "WAITS FOR" };
	struct table t = { .cols = PENDING_COLS };
	json_t *arr = json ? json_array() : NULL;
	struct ldg_proposal *ps = NULL;
	struct ldg_gov g;
	size_t n = 0;
	int rc = ldg_pending_list(r, scope, &ps, &n);

	ldg_gov_init(&g);
	if (!rc && !json)
		rc = ldg_gov_load(r, 0, &g, NULL);
	if (rc) {
		json_decref(arr);
		for (size_t i = 0; i < n; i++)
			ldg_proposal_free(&ps[i]);
		free(ps);
		return ldg_err_set(err, rc,
				   "cannot read the pending proposals");
	}
	if (!json) {
		char *row[PENDING_COLS];
		for (size_t c = 0; c < PENDING_COLS; c++)
			row[c] = strdup(hdr[c]);
		rc = table_add_new(&t, row);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct ldg_entry *e;
		rc = ldg_entry_read(r, ps[i].seq, &e, err);
		if (rc)
			break;
		if (json) {
			json_t *j = proposal_json(r, &ps[i], e, &rc);
			if (j)
				json_array_append_new(arr, j);
		} else {
			rc = pending_row(r, &g, &ps[i], e, now, &t);
		}
		ldg_entry_free(e);
	}
	ldg_gov_free(&g);
	for (size_t i = 0; i < n; i++)
		ldg_proposal_free(&ps[i]);
	free(ps);
	if (!json) {
		int trc = table_render(&t, out, len);
		if (!rc)
			rc = trc;
		else if (!trc)
			free(*out);
	} else if (rc) {
		json_decref(arr);
	} else {
		rc = rnd_json_out(arr, out, len);
	}
	if (rc == -ENOMEM)
		ldg_err_set(err, rc, "out of memory");
	else if (rc && err && !err->msg[0])
		ldg_err_set(err, rc, "cannot read the pending proposals");
	return rc;
}

/* policy show without a target: every policy and every window. */
static int show_all(struct ldg_read *r, const struct ldg_gov *g, int64_t now,
		    bool json, char **out, size_t *len)
{
	static const char *phdr[5] = { "SCOPE", "SEQ", "APPROVALS", "SOAK",
				       "ROLLBACKS" };
	static const char *whdr[4] = { "WINDOW", "SCOPE", "WHEN", "REASON" };
	struct table pt = { .cols = 5 }, wt = { .cols = 4 };
	json_t *pols = json_array(), *wins = json_array();
	char *ptext = NULL, *wtext = NULL;
	size_t plen = 0, wlen = 0;
	int rc = pols && wins ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < g->n_pol; i++) {
		const struct ldg_policy *p = &g->pol[i];
		char *row[5] = { NULL }, d[LDG_DURATION_LEN];
		if (json) {
			rc = json_array_append_new(pols, rnd_policy_json(p))
				     ? -ENOMEM
				     : 0;
			continue;
		}
		if (i == 0) {
			for (size_t c = 0; c < 5; c++)
				row[c] = strdup(phdr[c]);
			rc = table_add_new(&pt, row);
			if (rc)
				break;
		}
		row[0] = strdup(p->scope);
		if (asprintf(&row[1], "%llu", (unsigned long long)p->seq) < 0)
			row[1] = NULL;
		if (!p->approvals)
			row[2] = strdup("-");
		else if (asprintf(&row[2], "%u", p->approvals) < 0)
			row[2] = NULL;
		ldg_duration_format(p->soak, d, sizeof(d));
		if (!p->soak)
			row[3] = strdup("-");
		else if (asprintf(&row[3], "%s from %s", d, p->soak_from) < 0)
			row[3] = NULL;
		row[4] = strdup(p->gate_rollbacks ? "gated" : "-");
		rc = table_add_new(&pt, row);
	}
	for (size_t i = 0; !rc && i < g->n_win; i++) {
		char *row[4] = { NULL };
		if (json) {
			rc = json_array_append_new(wins,
						   rnd_window_json(r,
								   &g->win[i],
								   now))
				     ? -ENOMEM
				     : 0;
			continue;
		}
		if (i == 0) {
			for (size_t c = 0; c < 4; c++)
				row[c] = strdup(whdr[c]);
			rc = table_add(&wt, row);
			if (rc)
				break;
		}
		if (asprintf(&row[0], "%llu",
			     (unsigned long long)g->win[i].seq) < 0)
			row[0] = NULL;
		row[1] = strdup(g->win[i].scope);
		if (window_text(&g->win[i], now, &row[2]))
			row[2] = NULL;
		row[3] = window_reason(r, g->win[i].seq);
		rc = table_add_new(&wt, row);
	}
	if (json) {
		if (rc) {
			json_decref(pols);
			json_decref(wins);
			return rc;
		}
		return rnd_json_out(json_pack("{s:o, s:o}", "policies", pols,
					      "windows", wins),
				    out, len);
	}
	json_decref(pols);
	json_decref(wins);
	if (table_render(&pt, &ptext, &plen) && !rc)
		rc = -ENOMEM;
	if (table_render(&wt, &wtext, &wlen) && !rc)
		rc = -ENOMEM;
	if (!rc && asprintf(out, "%s\n%s", plen ? ptext : "no policy\n",
			    wlen ? wtext : "no freeze window\n") < 0)
		rc = -ENOMEM;
	free(ptext);
	free(wtext);
	if (!rc)
		*len = strlen(*out);
	return rc;
}

/* policy show TARGET: the policy that applies and why, and the windows
 * that cover it. */
static int show_target(struct ldg_read *r, const struct ldg_gov *g,
		       const char *target, int64_t now, bool json, char **out,
		       size_t *len)
{
	const struct ldg_policy *p = ldg_gov_policy_for(g, target);
	json_t *matching = json_array(), *wins = json_array();
	size_t tlen = 0, n_match = 0;
	char *rules = NULL;
	FILE *f = json ? NULL : open_memstream(out, &tlen);
	int rc = matching && wins && (json || f) ? 0 : -ENOMEM;

	if (f) {
		fprintf(f, "target: %s\n", target);
		if (p && !(rc = policy_text(p, &rules)))
			fprintf(f, "policy: %s (seq %llu): %s\n", p->scope,
				(unsigned long long)p->seq, rules);
		else if (!p)
			fprintf(f, "policy: none (set and unset take effect "
				   "at once)\n");
		free(rules);
	}
	for (size_t i = 0; !rc && i < g->n_pol; i++) {
		const struct ldg_policy *m = &g->pol[i];
		if (!ldg_scope_match(m->scope, target))
			continue;
		if (json) {
			rc = json_array_append_new(matching, rnd_policy_json(m))
				     ? -ENOMEM
				     : 0;
			continue;
		}
		fprintf(f, "%s %s (seq %llu%s)",
			n_match ? "," : "matching:", m->scope,
			(unsigned long long)m->seq,
			m == p ? ", the most specific: applies" : "");
		n_match++;
	}
	if (f && n_match)
		fputc('\n', f);
	for (size_t i = 0; !rc && i < g->n_win; i++) {
		const struct ldg_window *w = &g->win[i];
		char *when = NULL, *reason;
		if (!ldg_scope_match(w->scope, target))
			continue;
		if (json) {
			rc = json_array_append_new(wins,
						   rnd_window_json(r, w, now))
				     ? -ENOMEM
				     : 0;
			continue;
		}
		reason = window_reason(r, w->seq);
		rc = window_text(w, now, &when);
		if (!rc && reason)
			fprintf(f, "window %llu (%s): %s: %s\n",
				(unsigned long long)w->seq, w->scope, when,
				reason);
		else if (!rc)
			rc = -ENOMEM;
		free(when);
		free(reason);
	}
	if (f) {
		json_decref(matching);
		json_decref(wins);
		if (fclose(f) && !rc)
			rc = -ENOMEM;
		*len = tlen;
		if (!rc)
			rc = escape_display(out, len);
		if (rc)
			free(*out);
		return rc;
	}
	if (rc) {
		json_decref(matching);
		json_decref(wins);
		return rc;
	}
	return rnd_json_out(json_pack("{s:s, s:o, s:o, s:o}", "target", target,
				      "policy",
				      p ? rnd_policy_json(p) : json_null(),
				      "matching", matching, "windows", wins),
			    out, len);
}

int rnd_policy_show(struct ldg_read *r, const char *target, int64_t now,
		    bool json, char **out, size_t *len, struct ldg_err *err)
{
	struct ldg_gov g;
	int rc;

	ldg_gov_init(&g);
	rc = ldg_gov_load(r, 0, &g, err);
	if (rc) {
		ldg_gov_free(&g);
		return rc;
	}
	rc = target ? show_target(r, &g, target, now, json, out, len)
		    : show_all(r, &g, now, json, out, len);
	ldg_gov_free(&g);
	return rc ? ldg_err_set(err, rc, "cannot show the policies: %s",
				strerror(-rc))
		  : 0;
}

int rnd_proposal(struct ldg_read *r, uint64_t seq, char **out, size_t *len,
		 struct ldg_err *err)
{
	struct ldg_proposal p;
	struct ldg_entry *e = NULL;
	struct ldg_gov g;
	const struct ldg_pending *pend;
	char when[40], who[LDG_KEYNAME_MAX + 1], *changes = NULL;
	char *approvals = NULL;
	unsigned have, more;
	FILE *f;
	int rc;

	ldg_gov_init(&g);
	rc = ldg_proposal_get(r, seq, &p);
	if (rc)
		return ldg_err_set(err, rc, "seq %llu is not a proposal",
				   (unsigned long long)seq);
	rc = ldg_gov_load(r, 0, &g, err);
	if (rc)
		goto out_proposal;
	pend = ldg_gov_pending(&g, seq);
	if (p.status != LDG_PROP_PENDING || !pend) {
		rc = ldg_err_set(err, -ENOENT, "proposal %llu is %s",
				 (unsigned long long)seq,
				 ldg_prop_status_name(p.status));
		goto out_gov;
	}
	rc = ldg_entry_read(r, seq, &e, err);
	if (rc)
		goto out_gov;
	rc = render_changes(e, &changes);
	if (!rc)
		rc = rnd_approvals(r, &p, &approvals);
	if (rc)
		goto out_changes;
	f = open_memstream(out, len);
	if (!f) {
		rc = -ENOMEM;
		goto out_changes;
	}
	ldg_time_iso(e->time_ns, when, sizeof(when));
	key_name(r, p.author, who, sizeof(who));
	fprintf(f, "seq: %llu\ntarget: %s\nkind: %s\nchanges: %s\n",
		(unsigned long long)seq, p.target, ldg_kind_name(p.kind),
		changes);
	fprintf(f, "author: %s\ntime: %s\nreason: %s\n", who, when, e->reason);
	fprintf(f, "emergency: %s\nforced: %s\n",
		p.flags & LDG_PEND_EMERGENCY ? "yes" : "no",
		p.flags & LDG_PEND_FORCED ? "yes" : "no");
	fprintf(f, "approvals: %s\n", approvals);
	/* only approvers still trusted count (docs/format.md 8b, rule 3) */
	have = ldg_gov_count(pend, ldg_key_trusted, r, NULL);
	more = p.need > have ? p.need - have : 0;
	key_name(r, p.author, who, sizeof(who));
	fprintf(f,
		"waits for: %u more approval%s by a deployer or admin "
		"key covering %s, other than %s",
		more, more == 1 ? "" : "s", p.target, who);
	for (size_t i = 0; i < p.n_approvers; i++) {
		key_name(r, p.approvers[i], who, sizeof(who));
		fprintf(f, ", %s", who);
	}
	fputc('\n', f);
	rc = fclose(f) ? -ENOMEM : escape_display(out, len);
	if (rc)
		free(*out);
out_changes:
	free(approvals);
	free(changes);
	ldg_entry_free(e);
out_gov:
	ldg_gov_free(&g);
out_proposal:
	ldg_proposal_free(&p);
	if (rc == -ENOMEM)
		ldg_err_set(err, rc, "out of memory");
	return rc;
}

/* ---- the message of `ledger notify` ---- */

/* s[0..len) with '&', '<' and '>' as Slack's entities, to f. */
static void slack_escape(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '&')
			fputs("&amp;", f);
		else if (s[i] == '<')
			fputs("&lt;", f);
		else if (s[i] == '>')
			fputs("&gt;", f);
		else
			fputc(s[i], f);
	}
}

/* "CHANGES" cut to at most RND_NOTIFY_CHANGES_MAX bytes at a character
 * boundary, ending in "..." when cut (in place: it only shrinks). */
static void cut_changes(char *changes)
{
	size_t n = strlen(changes);

	if (n <= RND_NOTIFY_CHANGES_MAX)
		return;
	n = RND_NOTIFY_CHANGES_MAX - 3;
	/* back over UTF-8 continuation bytes (10xxxxxx) */
	while (n && ((unsigned char)changes[n] & 0xc0) == 0x80)
		n--;
	strcpy(changes + n, "...");
}

/* The text of the message, unescaped and without the link. */
static int notify_line(struct ldg_read *r, const struct ldg_entry *e,
		       json_t *entry, char **out, size_t *len)
{
	json_t *prop = json_object_get(entry, "proposal");
	const char *status = json_string_value(json_object_get(prop, "status"));
	char who[LDG_KEYNAME_MAX + 1], *changes = NULL;
	FILE *f;
	int rc;

	signer_name(r, e, who, sizeof(who));
	rc = render_changes(e, &changes);
	if (rc)
		return rc;
	cut_changes(changes);
	f = open_memstream(out, len);
	if (!f) {
		free(changes);
		return -ENOMEM;
	}
	fprintf(f, "%s %s", who, ldg_kind_name(e->kind));
	if (e->target[0])
		fprintf(f, " %s", e->target);
	if (changes[0])
		fprintf(f, " %s", changes);
	fprintf(f, " (seq %llu", (unsigned long long)e->seq);
	/* a change that is only proposed says so: it has not happened */
	if (ldg_kind_changes_values(e->kind) && status &&
	    !strcmp(status, "pending")) {
		json_int_t need =
			json_integer_value(json_object_get(prop, "need"));
		fprintf(f, ", proposal: needs %lld approval%s", (long long)need,
			need == 1 ? "" : "s");
	}
	fputc(')', f);
	if (e->reason[0])
		fprintf(f, ": %s", e->reason);
	free(changes);
	if (fclose(f))
		return -ENOMEM;
	rc = escape_display(out, len);
	if (rc)
		free(*out);
	return rc;
}

int rnd_notify(struct ldg_read *r, uint64_t seq, const char *link_base,
	       char **out, size_t *len, struct ldg_err *err)
{
	uint8_t hash[LDG_HASH_BYTES];
	struct ldg_entry *e;
	char *line = NULL, *text = NULL;
	size_t llen = 0, tlen = 0;
	json_t *entry = NULL;
	FILE *f;
	int rc;

	rc = read_entry(r, seq, &e, hash, err);
	if (rc)
		return rc;
	entry = rnd_entry_json(r, e, hash);
	rc = entry ? notify_line(r, e, entry, &line, &llen) : -ENOMEM;
	if (rc)
		goto out_entry;
	f = open_memstream(&text, &tlen);
	if (!f) {
		rc = -ENOMEM;
		goto out_line;
	}
	slack_escape(f, line, llen);
	if (link_base) {
		size_t n = strlen(link_base);
		while (n && link_base[n - 1] == '/')
			n--;
		fprintf(f, " <%.*s/#/e/%llu>", (int)n, link_base,
			(unsigned long long)seq);
	}
	if (fclose(f)) {
		rc = -ENOMEM;
		goto out_line;
	}
	/* rnd_json_out() takes the object, and with it the entry */
	rc = rnd_json_out(json_pack("{s:s, s:O}", "text", text, "entry", entry),
			  out, len);
	free(text);
out_line:
	free(line);
out_entry:
	json_decref(entry);
	ldg_entry_free(e);
	if (rc == -ENOMEM)
		ldg_err_set(err, rc, "out of memory");
	return rc;
}
