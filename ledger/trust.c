/*
 * trust.c - witness trust policies (trust.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog.h"
#include "trust.h"
#include "util.h"

#define NODES_MAX (LDG_TRUST_WITNESSES + LDG_TRUST_GROUPS)
/* keyword, name, threshold, members, and one more to see too many */
#define TOKENS_MAX (3 + LDG_TRUST_MEMBERS + 1)

/* A witness or a group, in the order of the file: a group's members
 * always come before it. */
struct node {
	char name[LDG_TRUST_NAME_MAX + 1];
	unsigned line;
	bool group;
	struct ldg_vkey key;	      /* a witness */
	size_t witness;		      /* a witness: its index in the report */
	unsigned k, n;		      /* a group: threshold of n members */
	uint8_t m[LDG_TRUST_MEMBERS]; /* a group: the members' nodes */
	/* the witnesses under it (bit i: report index i; a witness is
	 * under itself): LDG_TRUST_WITNESSES is 64 */
	uint64_t under;
};

struct ldg_trust {
	struct node nodes[NODES_MAX];
	size_t n_nodes, n_witnesses, n_groups;
	size_t quorum; /* its node */
	unsigned quorum_line;
};

/* "any", "all" and "none" mean something where a name may stand */
static bool reserved(const char *s)
{
	return !strcmp(s, "any") || !strcmp(s, "all") || !strcmp(s, "none");
}

static struct node *find(struct ldg_trust *t, const char *name)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (!strcmp(t->nodes[i].name, name))
			return &t->nodes[i];
	return NULL;
}

/* A new node called name, defined on line (not defined before). */
static int define(struct ldg_trust *t, const char *what, const char *name,
		  unsigned line, struct node **out, struct ldg_err *err)
{
	struct node *d;

	if (strlen(name) > LDG_TRUST_NAME_MAX)
		return ldg_err_set(err, -EINVAL,
				   "line %u: %s name \"%.64s...\" is longer "
				   "than %d characters",
				   line, what, name, LDG_TRUST_NAME_MAX);
	if (reserved(name))
		return ldg_err_set(err, -EINVAL,
				   "line %u: \"%s\" is a keyword, not a %s "
				   "name",
				   line, name, what);
	d = find(t, name);
	if (d)
		return ldg_err_set(err, -EINVAL,
				   "line %u: the name \"%s\" is defined "
				   "already (line %u)",
				   line, name, d->line);
	*out = &t->nodes[t->n_nodes++];
	memset(*out, 0, sizeof(**out));
	memcpy((*out)->name, name, strlen(name) + 1);
	(*out)->line = line;
	return 0;
}

/* The node a group or the quorum names (defined on an earlier line). */
static int use(struct ldg_trust *t, const char *name, unsigned line,
	       size_t *out, struct ldg_err *err)
{
	struct node *d = find(t, name);

	if (!d)
		return ldg_err_set(err, -EINVAL,
				   "line %u: unknown name \"%.64s\" (a "
				   "witness or group must be defined on an "
				   "earlier line)",
				   line, name);
	*out = (size_t)(d - t->nodes);
	return 0;
}

static int witness_line(struct ldg_trust *t, char **tok, size_t n,
			unsigned line, struct ldg_err *err)
{
	struct ldg_err kerr = { 0 };
	struct ldg_vkey key;
	struct node *w;
	int rc;

	if (n < 3 || n > 4)
		return ldg_err_set(err, -EINVAL,
				   "line %u: expected \"witness NAME KEY "
				   "[URL]\"",
				   line);
	if (t->n_witnesses == LDG_TRUST_WITNESSES)
		return ldg_err_set(err, -EINVAL,
				   "line %u: more than %d witnesses", line,
				   LDG_TRUST_WITNESSES);
	rc = ldg_cosigner_parse(tok[2], &key, &kerr);
	if (rc)
		return ldg_err_set(err, -EINVAL,
				   "line %u: witness \"%.64s\": %s", line,
				   tok[1], kerr.msg);
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct node *o = &t->nodes[i];

		if (o->group)
			continue;
		/* one key counted under two names would let one
		 * cosignature stand for two witnesses */
		if (!memcmp(o->key.pk, key.pk, LDG_PK_BYTES) ||
		    (!strcmp(o->key.name, key.name) &&
		     !memcmp(o->key.keyid, key.keyid, LDG_KEYID_BYTES)))
			return ldg_err_set(err, -EINVAL,
					   "line %u: witness \"%.64s\" has "
					   "the key of witness \"%s\" (line "
					   "%u)",
					   line, tok[1], o->name, o->line);
	}
	rc = define(t, "witness", tok[1], line, &w, err);
	if (rc)
		return rc;
	w->key = key;
	w->witness = t->n_witnesses++;
	w->under = (uint64_t)1 << w->witness;
	return 0;
}

/* In a group of threshold k >= 2, a witness under two of its members
 * (directly or through groups) would count its one cosignature twice
 * towards k: refused. Under an "any" one member alone decides, so an
 * overlap there counts nothing twice. */
static int overlap(const struct ldg_trust *t, const char *name, uint64_t k,
		   const size_t *m, size_t members, unsigned line,
		   struct ldg_err *err)
{
	for (size_t i = 0; k >= 2 && i < members; i++)
		for (size_t j = 0; j < i; j++) {
			const struct node *a = &t->nodes[m[j]];
			const struct node *b = &t->nodes[m[i]];
			uint64_t both = a->under & b->under;
			size_t wi;

			if (!both)
				continue;
			wi = (size_t)__builtin_ctzll(both);
			for (size_t x = 0; x < t->n_nodes; x++)
				if (!t->nodes[x].group &&
				    t->nodes[x].witness == wi)
					return ldg_err_set(
						err, -EINVAL,
						"line %u: group \"%.64s\": "
						"witness \"%s\" is under both "
						"\"%s\" and \"%s\" (its one "
						"cosignature would count "
						"twice)",
						line, name, t->nodes[x].name,
						a->name, b->name);
		}
	return 0;
}

static int group_line(struct ldg_trust *t, char **tok, size_t n, unsigned line,
		      struct ldg_err *err)
{
	size_t members = n < 3 ? 0 : n - 3, m[LDG_TRUST_MEMBERS];
	uint64_t k;
	struct node *g;
	int rc;

	if (members == 0)
		return ldg_err_set(err, -EINVAL,
				   "line %u: expected \"group NAME "
				   "THRESHOLD MEMBER...\"",
				   line);
	if (members > LDG_TRUST_MEMBERS)
		return ldg_err_set(err, -EINVAL,
				   "line %u: group \"%.64s\" has more than "
				   "%d members",
				   line, tok[1], LDG_TRUST_MEMBERS);
	if (t->n_groups == LDG_TRUST_GROUPS)
		return ldg_err_set(err, -EINVAL, "line %u: more than %d groups",
				   line, LDG_TRUST_GROUPS);
	if (!strcmp(tok[2], "any")) {
		k = 1;
	} else if (!strcmp(tok[2], "all")) {
		k = members;
	} else if (ldg_parse_dec(tok[2], 0, UINT64_MAX, &k)) {
		return ldg_err_set(err, -EINVAL,
				   "line %u: group \"%.64s\": threshold "
				   "\"%.32s\" is not a number, any or all",
				   line, tok[1], tok[2]);
	} else if (k == 0 || k > members) {
		return ldg_err_set(err, -EINVAL,
				   "line %u: group \"%.64s\": threshold %llu "
				   "is not 1..%zu (its members)",
				   line, tok[1], (unsigned long long)k,
				   members);
	}
	for (size_t i = 0; i < members; i++) {
		rc = use(t, tok[3 + i], line, &m[i], err);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (m[j] == m[i])
				return ldg_err_set(err, -EINVAL,
						   "line %u: group \"%.64s\" "
						   "names \"%s\" twice",
						   line, tok[1], tok[3 + i]);
	}
	rc = overlap(t, tok[1], k, m, members, line, err);
	if (rc)
		return rc;
	rc = define(t, "group", tok[1], line, &g, err);
	if (rc)
		return rc;
	g->group = true;
	for (size_t i = 0; i < members; i++)
		g->under |= t->nodes[m[i]].under;
	g->k = (unsigned)k;
	g->n = (unsigned)members;
	for (size_t i = 0; i < members; i++)
		g->m[i] = (uint8_t)m[i];
	t->n_groups++;
	return 0;
}

static int quorum_line(struct ldg_trust *t, char **tok, size_t n, unsigned line,
		       struct ldg_err *err)
{
	if (n != 2)
		return ldg_err_set(err, -EINVAL,
				   "line %u: expected \"quorum NAME\"", line);
	if (t->quorum_line)
		return ldg_err_set(err, -EINVAL,
				   "line %u: a second quorum line (the first "
				   "is line %u)",
				   line, t->quorum_line);
	if (!strcmp(tok[1], "none"))
		return ldg_err_set(err, -EINVAL,
				   "line %u: \"quorum none\" demands no "
				   "cosignature; a witness policy names the "
				   "witnesses it needs",
				   line);
	t->quorum_line = line;
	return use(t, tok[1], line, &t->quorum, err);
}

/* Splits line (NUL-terminated, its comment cut) at white space: 0 and
 * the tokens, or -EINVAL for a character that may not be in a policy. */
static int split(char *s, unsigned line, char **tok, size_t *n,
		 struct ldg_err *err)
{
	*n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = '\0';
		if (!*s)
			return 0;
		if (*n == TOKENS_MAX)
			return ldg_err_set(err, -EINVAL,
					   "line %u: too many words (a group "
					   "has at most %d members)",
					   line, LDG_TRUST_MEMBERS);
		tok[(*n)++] = s;
		for (; *s && *s != ' ' && *s != '\t' && *s != '\r'; s++)
			if ((unsigned char)*s < 0x21 ||
			    (unsigned char)*s > 0x7e)
				return ldg_err_set(err, -EINVAL,
						   "line %u: byte 0x%02x: "
						   "names, keys and URLs are "
						   "printable ASCII",
						   line, (unsigned char)*s);
	}
}

static int parse_line(struct ldg_trust *t, char *s, unsigned line,
		      struct ldg_err *err)
{
	char *tok[TOKENS_MAX], *hash = strchr(s, '#');
	size_t n;
	int rc;

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r')
			return ldg_err_set(err, -EINVAL,
					   "line %u: control character 0x%02x",
					   line, (unsigned char)*p);
	if (hash)
		*hash = '\0';
	rc = split(s, line, tok, &n, err);
	if (rc || n == 0)
		return rc;
	if (!strcmp(tok[0], "witness"))
		return witness_line(t, tok, n, line, err);
	if (!strcmp(tok[0], "group"))
		return group_line(t, tok, n, line, err);
	if (!strcmp(tok[0], "quorum"))
		return quorum_line(t, tok, n, line, err);
	if (!strcmp(tok[0], "log"))
		return ldg_err_set(err, -EINVAL,
				   "line %u: a log line: the ledger's keyring "
				   "says which keys sign its checkpoints, not "
				   "a witness policy",
				   line);
	return ldg_err_set(err, -EINVAL,
			   "line %u: unknown line \"%.32s\" (expected "
			   "witness, group or quorum)",
			   line, tok[0]);
}

int ldg_trust_parse(const char *text, size_t len, struct ldg_trust **out,
		    struct ldg_err *err)
{
	struct ldg_trust *t;
	char *buf, *s;
	unsigned line = 0;
	int rc = 0;

	*out = NULL;
	if (len >= LDG_TRUST_FILE_MAX)
		return ldg_err_set(err, -EINVAL,
				   "a witness policy of %zu bytes (at most "
				   "%d)",
				   len, LDG_TRUST_FILE_MAX - 1);
	if (memchr(text, '\0', len))
		return ldg_err_set(err, -EINVAL,
				   "a NUL byte: not a witness policy");
	t = calloc(1, sizeof(*t));
	buf = malloc(len + 1);
	if (!t || !buf) {
		rc = ldg_err_set(err, -ENOMEM, "out of memory");
		goto out_free;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (s = buf; !rc && s < buf + len;) {
		char *nl = strchr(s, '\n');

		if (nl)
			*nl = '\0';
		rc = parse_line(t, s, ++line, err);
		s = nl ? nl + 1 : buf + len;
	}
	if (!rc && !t->quorum_line)
		rc = ldg_err_set(err, -EINVAL, "no quorum line");
	if (!rc) {
		*out = t;
		t = NULL;
	}
out_free:
	free(buf);
	free(t);
	return rc;
}

int ldg_trust_load(const char *path, struct ldg_trust **out,
		   struct ldg_err *err)
{
	char *buf = malloc(LDG_TRUST_FILE_MAX);
	size_t n;
	int rc;

	*out = NULL;
	if (!buf)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = ldg_read_small(path, "a witness policy", buf, LDG_TRUST_FILE_MAX,
			    &n, NULL, err);
	if (!rc) {
		rc = ldg_trust_parse(buf, n, out, err);
		if (rc)
			ldg_err_prefix(err, "%s", path);
	}
	free(buf);
	return rc;
}

void ldg_trust_free(struct ldg_trust *t)
{
	free(t);
}

/* What the checkpoint's cosignatures make of each node. */
struct eval {
	bool sat[NODES_MAX];
	unsigned have[NODES_MAX]; /* a group: its members satisfied */
};

/* The members of group g that are (yes) or are not satisfied, as a
 * list of names into out; a group that is not, with its count. */
static void members(const struct ldg_trust *t, const struct node *g,
		    const struct eval *ev, bool yes, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < g->n && used < len; i++) {
		const struct node *m = &t->nodes[g->m[i]];

		if (ev->sat[g->m[i]] != yes)
			continue;
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 used ? ", " : "", m->name);
		if (!yes && m->group && used < len)
			used += (size_t)snprintf(out + used, len - used,
						 " (%u of %u)",
						 ev->have[g->m[i]], m->k);
	}
	if (!out[0])
		snprintf(out, len, "none");
}

/* The one line saying why the quorum was not met. */
static int short_of(const struct ldg_trust *t, const struct eval *ev,
		    struct ldg_err *err)
{
	const struct node *q = &t->nodes[t->quorum];
	char yes[200], no[200];

	if (!q->group)
		return ldg_err_set(err, -EACCES,
				   "witness quorum \"%s\" not met: witness "
				   "\"%s\" did not cosign",
				   q->name, q->name);
	members(t, q, ev, true, yes, sizeof(yes));
	members(t, q, ev, false, no, sizeof(no));
	return ldg_err_set(err, -EACCES,
			   "witness quorum \"%s\" not met: group \"%s\" has "
			   "%u of the %u it needs (met: %s; not met: %s)",
			   q->name, q->name, ev->have[t->quorum], q->k, yes,
			   no);
}

int ldg_trust_check(const struct ldg_trust *t, const struct ldg_checkpoint *cp,
		    struct ldg_trust_report *rep, struct ldg_err *err)
{
	struct eval ev;
	const struct node *bad = NULL;

	memset(&ev, 0, sizeof(ev));
	memset(rep, 0, sizeof(*rep));
	memcpy(rep->quorum, t->nodes[t->quorum].name, sizeof(rep->quorum));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct node *d = &t->nodes[i];
		struct ldg_trust_seen *w;
		int rc;

		if (d->group) {
			for (unsigned j = 0; j < d->n; j++)
				ev.have[i] += ev.sat[d->m[j]];
			ev.sat[i] = ev.have[i] >= d->k;
			continue;
		}
		w = &rep->w[d->witness];
		memcpy(w->name, d->name, sizeof(w->name));
		w->key = d->key;
		rc = ldg_cosig_verify(cp, &d->key, &w->time);
		if (rc == 0) {
			w->seen = LDG_COSIG_OK;
			ev.sat[i] = true;
		} else {
			w->time = 0;
			w->seen = rc == -ENOENT ? LDG_COSIG_ABSENT
						: LDG_COSIG_BAD;
			if (rc != -ENOENT && !bad)
				bad = d;
		}
	}
	rep->n = t->n_witnesses;
	rep->met = !bad && ev.sat[t->quorum];
	if (bad)
		return ldg_err_set(err, -EBADMSG,
				   "the cosignature of witness \"%s\" (key "
				   "%s) does not verify",
				   bad->name, bad->key.name);
	return rep->met ? 0 : short_of(t, &ev, err);
}
