/*
 * remote.c - the command glue of `ledger --remote URL` in ledger-http
 * (remote.h); the protocol is client/'s.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "names.h"
#include "remote.h"

_Static_assert(CLI_REMOTE_PLAN_MAX == CLT_BATCH_MAX,
	       "a copied plan is one batch");

/* cli_remote_write()'s one draft as a plan. */
struct one_draft {
	cli_draft_fn draft;
	void *arg;
};

static int plan_one(size_t i, uint64_t head, const uint8_t hash[LDG_HASH_BYTES],
		    const struct ldg_values *now, void *arg,
		    struct ldg_entry **out, size_t *n, struct ldg_err *err)
{
	struct one_draft *d = arg;
	int rc = d->draft(now, d->arg, &out[0], err);

	*n = !rc && out[0];
	return rc;
}

/* Whether target's policy at base's head has a soak. */
static bool soaks(const char *base, const char *target)
{
	const struct ldg_policy *p;
	struct ldg_gov g;
	bool yes;

	yes = clt_gov_get(base, &g, NULL) == 0 &&
	      (p = ldg_gov_policy_for(&g, target)) && p->soak;
	ldg_gov_free(&g);
	return yes;
}

int cli_remote_write(struct cli_ctx *c, const struct cli_write_opts *w,
		     const char *target, cli_draft_fn draft, cli_plan_fn plan,
		     void *arg, struct ldg_result *res)
{
	struct one_draft d = { draft, arg };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	if (target && ldg_check_target(target, &err))
		return cli_fail(c, &err);
	if (target && plan && soaks(c->remote, target))
		return cli_remote_copied(c, w, plan, NULL, arg, res);
	rc = cli_signer(c, w->keyfile, &k);
	if (rc)
		return rc;
	rc = clt_write(c->remote, k, target ? &target : NULL, 1, plan_one, &d,
		       res, &err);
	ldg_signer_free(k);
	return rc ? cli_fail(c, &err) : CLI_OK;
}

int cli_remote_copied(struct cli_ctx *c, const struct cli_write_opts *w,
		      cli_plan_fn plan, cli_done_fn done, void *arg,
		      struct ldg_result *res)
{
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	rc = cli_signer(c, w->keyfile, &k);
	if (rc)
		return rc;
	rc = clt_write_copied(c->remote, k, plan, done, arg, res, &err);
	ldg_signer_free(k);
	return rc ? cli_fail(c, &err) : CLI_OK;
}

void cli_remote_pending(struct cli_ctx *c, const struct ldg_result *res)
{
	struct ldg_gov g;

	if (clt_gov_get(c->remote, &g, NULL) == 0) {
		for (size_t i = 0; i < res->n; i++) {
			const struct ldg_pending *p =
				ldg_gov_pending(&g, res->v[i].seq);
			if (p)
				cli_print_proposal(&g, p->target, p->need,
						   p->flags &
							   LDG_PEND_EMERGENCY);
		}
	}
	ldg_gov_free(&g);
}

/* cli_remote_read()'s render, with where its answer goes. */
struct remote_read {
	cli_render_fn fn;
	void *arg;
	char *out;
	size_t len;
};

static int read_copy(struct ldg_read *r, void *arg, struct ldg_err *err)
{
	struct remote_read *a = arg;

	return a->fn(r, a->arg, &a->out, &a->len, err);
}

int cli_remote_read(struct cli_ctx *c, cli_render_fn fn, void *arg)
{
	struct remote_read a = { fn, arg, NULL, 0 };
	struct ldg_err err = { 0 };

	if (clt_read_copied(c->remote, read_copy, &a, &err))
		return cli_fail(c, &err);
	return cli_emit(a.out, a.len);
}

int cli_remote_rollback(struct cli_ctx *c, const struct cli_write_opts *w,
			const char *what, uint64_t to, struct ldg_result *res)
{
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	int rc;

	if (!w->reason)
		return cli_usage(c, "missing -m REASON: every change says why");
	if (to < 1)
		return cli_usage(c, "--to needs a seq >= 1");
	if (strchr(what, '/') ? ldg_check_target(what, &err)
			      : ldg_check_cluster(what, &err))
		return cli_fail(c, &err);
	rc = cli_signer(c, w->keyfile, &k);
	if (rc)
		return rc;
	rc = clt_rollback(c->remote, k, what, to, w->reason, w->meta, w->n_meta,
			  w->no_lock, res, &err);
	ldg_signer_free(k);
	if (rc == -E2BIG) { /* over a batch: the advice is the command's */
		cli_error("%s: %s (roll back fewer targets at a time)", c->cmd,
			  err.msg);
		return CLI_BAD;
	}
	return rc ? cli_fail(c, &err) : CLI_OK;
}

int cli_need_http(struct cli_ctx *c)
{
	return 0;
}

int cli_witnesses(struct cli_ctx *c, const char *const *urls, size_t n,
		  size_t min, uint64_t hint, ldg_node_fn node, void *arg,
		  char **note, char **said)
{
	struct clt_witness_answer *ans = calloc(n, sizeof(*ans));
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_err err = { 0 };
	size_t got = 0, len = strlen(*note), add = 0, at;
	bool fork = false;
	char msg[4096], *grown, *say;
	size_t say_len = 1, said_at = 0;
	int rc = CLI_BAD;

	*said = NULL;
	if (!ans || !cp || ldg_checkpoint_parse(*note, len, cp, &err)) {
		cli_error("%s: %s", c->cmd,
			  err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		cli_error("%s: cannot initialise libcurl", c->cmd);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* unreachable: ans[i].what says so, and it does not count */
		(void)clt_witness_add(urls[i], *note, cp,
				      hint <= cp->size ? hint : 0, node, arg,
				      &ans[i], NULL);
		for (size_t j = 0; j < i; j++)
			if (clt_witness_same_key(&ans[j], &ans[i])) {
				ans[i].cosigned = false;
				snprintf(ans[i].what, sizeof(ans[i].what),
					 "cosigned by the key of %s already "
					 "(one witness counts once)",
					 urls[j]);
				break;
			}
		if (ans[i].cosigned) {
			got++;
			add += strlen(ans[i].lines);
			say_len += strlen("cosigned by \n") + strlen(urls[i]);
		}
		fork |= ans[i].fork;
	}
	curl_global_cleanup();
	if (got < min || fork) {
		at = (size_t)snprintf(msg, sizeof(msg),
				      fork ? "a witness holds another history "
					     "(%zu of %zu cosigned)"
					   : "%zu of %zu witnesses cosigned, "
					     "--min %zu",
				      got, n, min);
		for (size_t i = 0; i < n && at < sizeof(msg); i++)
			at += (size_t)snprintf(msg + at, sizeof(msg) - at,
					       "; %s: %s", urls[i],
					       ans[i].what);
		cli_error("%s: %s; nothing written", c->cmd, msg);
		rc = CLI_NO;
		goto out;
	}
	grown = realloc(*note, len + add + 1);
	if (grown)
		*note = grown;
	say = malloc(say_len);
	if (!grown || !say) {
		free(say);
		cli_error("%s: out of memory", c->cmd);
		goto out;
	}
	say[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (ans[i].cosigned) {
			memcpy(*note + len, ans[i].lines, strlen(ans[i].lines));
			len += strlen(ans[i].lines);
			said_at +=
				(size_t)snprintf(say + said_at,
						 say_len - said_at,
						 "cosigned by %s\n", urls[i]);
		}
	(*note)[len] = '\0';
	*said = say;
	rc = CLI_OK;
out:
	free(cp);
	free(ans);
	return rc;
}

int cli_remote_checkpoint_witnessed(struct cli_ctx *c,
				    const struct ldg_signer *k,
				    const char *const *urls, size_t n,
				    size_t min, uint64_t hint, char **note,
				    char **said, uint64_t *size)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	uint8_t root[LDG_HASH_BYTES];
	struct ldg_err err = { 0 };
	struct clt_copy *copy = NULL;
	struct ldg_read *r = NULL;
	uint64_t head = 0;
	int rc;

	*note = NULL;
	*said = NULL;
	if (!cp) {
		ldg_err_set(&err, -ENOMEM, "out of memory");
		goto out_fail;
	}
	if (clt_checkpoint_sign(c->remote, k, note, size, &err) ||
	    ldg_checkpoint_parse(*note, strlen(*note), cp, &err) ||
	    clt_copy_open(c->remote, &copy, &err) ||
	    clt_copy_sync(copy, 0, NULL, &err) ||
	    ldg_read_begin(clt_copy_store(copy), &r, &err))
		goto out_fail;
	/* the proofs are made from the entries themselves: they must be
	 * the tree the server's check proved */
	if (ldg_head(r, &head, NULL) || head < *size ||
	    ldg_tlog_root(ldg_store_node, r, *size, root) ||
	    memcmp(root, cp->root, LDG_HASH_BYTES)) {
		ldg_err_set(&err, -EPERM,
			    "the entries %s serves do not hash to the root its "
			    "verify answered for size %llu",
			    c->remote, (unsigned long long)*size);
		goto out_fail;
	}
	rc = cli_witnesses(c, urls, n, min, hint, ldg_store_node, r, note,
			   said);
	ldg_read_end(r);
	r = NULL;
	if (rc)
		goto out;
	if (clt_checkpoint_publish(c->remote, *note, &err))
		goto out_fail;
	rc = CLI_OK;
	goto out;
out_fail:
	rc = cli_fail(c, &err);
out:
	if (r)
		ldg_read_end(r);
	clt_copy_close(copy);
	free(cp);
	if (rc) {
		free(*note);
		*note = NULL;
		free(*said);
		*said = NULL;
	}
	return rc;
}

int cli_remote_checkpoint(struct cli_ctx *c, const struct ldg_signer *k,
			  char **note, uint64_t *size, struct ldg_err *err)
{
	return clt_checkpoint(c->remote, k, note, size, err);
}
