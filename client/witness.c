/*
 * witness.c - a log's side of C2SP tlog-witness: add-checkpoint with a
 * consistency proof, the 409 retry from the witness's size, and naming
 * the witness's root when it refuses a fork (client.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkpoint.h"
#include "client_impl.h"
#include "util.h"
#include "witness.h"

#define B64_HASH_BUF 45

/* The first line of an answer, for words: control characters as '?'. */
static void first_line(const char *body, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	while (n < len && n + 1 < cap && body[n] != '\n') {
		unsigned char ch = (unsigned char)body[n];
		out[n] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		n++;
	}
	out[n] = '\0';
}

/* Whether lines (len bytes) are cosignature lines of note: note with
 * them appended parses, with as many more cosignatures as lines. The
 * first one's key name and id into ans. */
static bool cosig_lines_ok(const char *note, const char *lines, size_t len,
			   struct clt_witness_answer *ans)
{
	struct ldg_checkpoint *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	size_t nl = strlen(note), n = 0, ca = 0, cb = 0;
	char *joined = malloc(nl + len + 1);
	bool ok = false;

	if (!a || !b || !joined || len == 0 || lines[len - 1] != '\n')
		goto out;
	for (size_t i = 0; i < len; i++)
		n += lines[i] == '\n';
	memcpy(joined, note, nl);
	memcpy(joined + nl, lines, len);
	joined[nl + len] = '\0';
	if (ldg_checkpoint_parse(note, nl, a, NULL) ||
	    ldg_checkpoint_parse(joined, nl + len, b, NULL))
		goto out;
	for (size_t i = 0; i < a->n_sigs; i++)
		ca += a->sigs[i].cosig;
	for (size_t i = 0; i < b->n_sigs; i++)
		cb += b->sigs[i].cosig;
	ok = b->n_sigs == a->n_sigs + n && cb == ca + n;
	if (ok) {
		snprintf(ans->key_name, sizeof(ans->key_name), "%s",
			 b->sigs[a->n_sigs].name);
		memcpy(ans->key_id, b->sigs[a->n_sigs].keyid, LDG_KEYID_BYTES);
	}
out:
	free(joined);
	free(a);
	free(b);
	return ok;
}

/* The witness's latest checkpoint of cp's origin (Ledger's read
 * extension): its size and root into ans. */
static void fetch_theirs(const char *url, const struct ldg_checkpoint *cp,
			 ldg_node_fn node, void *arg,
			 struct clt_witness_answer *ans)
{
	struct ldg_checkpoint *theirs = malloc(sizeof(*theirs));
	char *esc = curl_easy_escape(NULL, cp->origin, 0);
	char path[1024], type[128], *body = NULL;
	size_t len = 0;
	long status = 0;

	if (!theirs || !esc)
		goto out;
	snprintf(path, sizeof(path), "/checkpoint?origin=%s", esc);
	if (clt_http_text(url, path, NULL, 0, &status, &body, &len, type,
			  NULL) ||
	    status != 200 || !body ||
	    ldg_checkpoint_parse(body, len, theirs, NULL) ||
	    strcmp(theirs->origin, cp->origin))
		goto out;
	ans->have_theirs = true;
	ans->their_size = theirs->size;
	memcpy(ans->their_root, theirs->root, LDG_HASH_BYTES);
	if (theirs->size <= cp->size &&
	    !ldg_tlog_root(node, arg, theirs->size, ans->our_root))
		ans->have_ours = true;
out:
	free(body);
	curl_free(esc);
	free(theirs);
}

/* ans->what for a fork, naming both roots where they are known. */
static void say_fork(const char *url, const struct ldg_checkpoint *cp,
		     struct clt_witness_answer *ans, const char *how)
{
	char theirs[B64_HASH_BUF], ours[B64_HASH_BUF];

	ans->fork = true;
	if (!ans->have_theirs) {
		snprintf(ans->what, sizeof(ans->what),
			 "fork: %s (HTTP %ld), and its checkpoint cannot be "
			 "had from %s/checkpoint",
			 how, ans->status, url);
		return;
	}
	sodium_bin2base64(theirs, sizeof(theirs), ans->their_root,
			  LDG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
	/* this tree's root at their size: computed, or said not to be */
	if (ans->have_ours)
		sodium_bin2base64(ours, sizeof(ours), ans->our_root,
				  LDG_HASH_BYTES,
				  sodium_base64_VARIANT_ORIGINAL);
	snprintf(ans->what, sizeof(ans->what),
		 "fork: %s (HTTP %ld): it cosigned size %llu with root %s; "
		 "this ledger's root at %llu %s%s",
		 how, ans->status, (unsigned long long)ans->their_size, theirs,
		 (unsigned long long)ans->their_size,
		 ans->have_ours ? "is " : "cannot be computed",
		 ans->have_ours ? ours : "");
}

/* ans->what when the witness holds size (from its 409) above this
 * tree's: not a fork this tree can show (it may be a prefix of the
 * witness's), but a ledger that lost entries or a stale copy. */
static void say_larger(const char *url, const struct ldg_checkpoint *cp,
		       uint64_t size, ldg_node_fn node, void *arg,
		       struct clt_witness_answer *ans)
{
	char theirs[B64_HASH_BUF] = "";

	fetch_theirs(url, cp, node, arg, ans);
	if (ans->have_theirs)
		sodium_bin2base64(theirs, sizeof(theirs), ans->their_root,
				  LDG_HASH_BYTES,
				  sodium_base64_VARIANT_ORIGINAL);
	snprintf(ans->what, sizeof(ans->what),
		 "HTTP 409: it cosigned size %llu%s%s, more than this "
		 "ledger's %llu (entries lost, or a stale copy)",
		 (unsigned long long)size, theirs[0] ? " with root " : "",
		 theirs, (unsigned long long)cp->size);
}

/* One add-checkpoint from old: the status, body and its type. */
static int post_once(const char *url, const char *note,
		     const struct ldg_checkpoint *cp, uint64_t old,
		     ldg_node_fn node, void *arg, long *status, char **body,
		     size_t *len, char type[128], struct ldg_err *err)
{
	uint8_t(*proof)[LDG_HASH_BYTES] =
		malloc(LDG_PROOF_MAX * sizeof(*proof));
	size_t n = 0, rlen;
	char *req = NULL;
	int rc;

	*body = NULL;
	if (!proof)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	rc = old ? ldg_proof_consistency(node, arg, old, cp->size, proof, &n)
		 : 0;
	if (rc) {
		ldg_err_set(err, rc,
			    "cannot make the consistency proof from %llu to "
			    "%llu: %s",
			    (unsigned long long)old,
			    (unsigned long long)cp->size, strerror(-rc));
		goto out;
	}
	rc = ldg_witness_req_format(old,
				    (const uint8_t(*)[LDG_HASH_BYTES])proof, n,
				    note, &req, &rlen);
	if (rc) {
		ldg_err_set(err, rc, "cannot make the request: %s",
			    strerror(-rc));
		goto out;
	}
	rc = clt_http_text(url, "/add-checkpoint", req, rlen, status, body, len,
			   type, err);
out:
	free(req);
	free(proof);
	return rc;
}

int clt_witness_add(const char *url, const char *note,
		    const struct ldg_checkpoint *cp, uint64_t old,
		    ldg_node_fn node, void *arg, struct clt_witness_answer *ans,
		    struct ldg_err *err)
{
	struct ldg_err e = { 0 };
	char type[128], said[200];
	char *body = NULL;
	size_t len = 0;
	int rc;

	memset(ans, 0, sizeof(*ans));
	for (int round = 0; round < 2; round++) {
		free(body);
		body = NULL;
		rc = post_once(url, note, cp, old, node, arg, &ans->status,
			       &body, &len, type, &e);
		if (rc) {
			snprintf(ans->what, sizeof(ans->what), "%s", e.msg);
			if (err)
				*err = e;
			goto out;
		}
		if (ans->status != 409 ||
		    strncasecmp(type, "text/x.tlog.size", 16))
			break;
		/* not the size it holds: once more from its size */
		first_line(body ? body : "", len, said, sizeof(said));
		if (ldg_parse_dec(said, 0, UINT64_MAX, &old) &&
		    strcmp(said, "0")) {
			snprintf(ans->what, sizeof(ans->what),
				 "HTTP 409 with the size \"%s\", not a size",
				 said);
			goto out;
		}
		if (old > cp->size) {
			say_larger(url, cp, old, node, arg, ans);
			goto out;
		}
		if (round == 1)
			snprintf(ans->what, sizeof(ans->what),
				 "HTTP 409: it holds size %llu, not the size it "
				 "named before (another writer?)",
				 (unsigned long long)old);
	}
	first_line(body ? body : "", len, said, sizeof(said));
	if (ans->status == 200) {
		if (len >= sizeof(ans->lines) ||
		    !cosig_lines_ok(note, body ? body : "", len, ans)) {
			snprintf(ans->what, sizeof(ans->what),
				 "HTTP 200 without cosignature lines "
				 "(\"%.80s\")",
				 said);
			goto out;
		}
		memcpy(ans->lines, body, len);
		ans->lines[len] = '\0';
		ans->cosigned = true;
		snprintf(ans->what, sizeof(ans->what), "cosigned");
	} else if (ans->status == 422) {
		fetch_theirs(url, cp, node, arg, ans);
		say_fork(url, cp, ans,
			 "its checkpoint is not a prefix of this one");
	} else if (ans->status == 409 && !ans->what[0]) {
		fetch_theirs(url, cp, node, arg, ans);
		say_fork(url, cp, ans,
			 "it cosigned this size with another root");
	} else if (!ans->what[0]) {
		snprintf(ans->what, sizeof(ans->what), "HTTP %ld: %s",
			 ans->status, said[0] ? said : "(no reason given)");
	}
	rc = 0;
out:
	free(body);
	return rc;
}

bool clt_witness_same_key(const struct clt_witness_answer *a,
			  const struct clt_witness_answer *b)
{
	return a->cosigned && b->cosigned &&
	       !strcmp(a->key_name, b->key_name) &&
	       !memcmp(a->key_id, b->key_id, LDG_KEYID_BYTES);
}
