#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "chatops.h"
#include "cli.h"

static const char help[] =
	"usage: ledger chatops --comment TEXT --sha SHA --actor NAME [--pr N]\n"
	"                      [--allow-cluster GLOB]... [--key FILE]\n\n"
	"Turn a pull-request comment into a deployment: the comment must be\n"
	"exactly\n"
	"  /deploy RELEASE cluster=CLUSTER [tag=TAG]\n"
	"(TAG defaults to the first 7 characters of SHA). It records\n"
	"  ledger set CLUSTER/RELEASE image.tag=TAG\n"
	"with the actor and PR in the reason and metadata (chatops.actor,\n"
	"pr, git.sha). Any other comment, or a cluster no --allow-cluster\n"
	"glob matches, is refused and nothing is written. Prints \"SEQ HASH\".\n\n"
	"  --comment TEXT        the comment body\n"
	"  --sha SHA             the commit to deploy (7-64 hex digits)\n"
	"  --actor NAME          who commented\n"
	"  --pr N                the pull request\n"
	"  --allow-cluster GLOB  clusters comments may deploy to (repeat;\n"
	"                        default: any the key's scope allows)\n"
	"  --key FILE            signing key (a deployer key for CI)\n\n"
	"Exit: 0 recorded (or already so); 1 cluster not allowed, key not\n"
	"authorised, target locked; 2 not a valid /deploy comment.\n";

#define MAX_ALLOW 32

int cmd_chatops(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "comment", required_argument, NULL, 'c' },
		{ "sha", required_argument, NULL, 's' },
		{ "actor", required_argument, NULL, 'a' },
		{ "pr", required_argument, NULL, 'p' },
		{ "allow-cluster", required_argument, NULL, 'A' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *comment = NULL, *sha = NULL, *actor = NULL, *pr = NULL;
	const char *allow[MAX_ALLOW];
	struct cli_write_opts w = { 0 };
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	struct apl_deploy d;
	struct ldg_kv kv = { 0 }; /* a string: a tag is text */
	char target[LDG_TARGET_MAX + 1], reason[512];
	size_t n_allow = 0;
	bool allowed;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		switch (opt) {
		case 'c':
			comment = optarg;
			break;
		case 's':
			sha = optarg;
			break;
		case 'a':
			actor = optarg;
			break;
		case 'p':
			pr = optarg;
			break;
		case 'A':
			if (n_allow == MAX_ALLOW)
				return cli_usage(c, "too many --allow-cluster");
			allow[n_allow++] = optarg;
			break;
		case 'k':
			w.keyfile = optarg;
			break;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (!comment || !sha || !actor)
		return cli_usage(c,
				 "--comment, --sha and --actor are required");
	if (pr &&
	    (strspn(pr, "0123456789") != strlen(pr) || !*pr || strlen(pr) > 12))
		return cli_usage(c, "--pr takes a pull request number");
	if (!*actor || strlen(actor) > 100 ||
	    !ldg_text_ok(actor, strlen(actor)) || strchr(actor, ' '))
		return cli_usage(c, "--actor takes a user name");
	if (apl_chatops_parse(comment, sha, &d, &err))
		return cli_fail(c, &err);
	allowed = n_allow == 0;
	for (size_t i = 0; i < n_allow && !allowed; i++)
		allowed = fnmatch(allow[i], d.cluster, 0) == 0;
	if (!allowed) {
		char list[512] = "";
		for (size_t i = 0; i < n_allow; i++)
			snprintf(list + strlen(list),
				 sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", allow[i]);
		ldg_err_set(&err, -EPERM,
			    "cluster %s is not open to /deploy "
			    "comments (allowed: %s)",
			    d.cluster, list);
		return cli_fail(c, &err);
	}
	snprintf(target, sizeof(target), "%s/%s", d.cluster, d.release);
	snprintf(reason, sizeof(reason), "/deploy by %s%s%s: %s image.tag=%s",
		 actor, pr ? " on PR #" : "", pr ? pr : "", target, d.tag);
	w.reason = reason;
	w.meta[w.n_meta++] = (struct ldg_kv){ .key = "chatops.actor",
					      .value = (char *)actor };
	w.meta[w.n_meta++] =
		(struct ldg_kv){ .key = "git.sha", .value = (char *)sha };
	if (pr)
		w.meta[w.n_meta++] =
			(struct ldg_kv){ .key = "pr", .value = (char *)pr };
	kv.key = "image.tag";
	kv.value = d.tag;
	rc = cli_open_signed(c, &w, &s, &k);
	if (rc)
		return rc;
	if (ldg_set(s, k, target, &kv, 1, w.reason, w.meta, w.n_meta, false,
		    &res, &err)) {
		/* chatops never forces a lock: say so, not "use --force" */
		if (err.why == LDG_WHY_LOCKED) {
			cli_error("%s: %s; a /deploy comment cannot pass a "
				  "lock: ledger unlock %s first",
				  c->cmd, err.msg, err.target);
			rc = cli_exit_code(err.code);
		} else {
			rc = cli_fail(c, &err);
		}
		goto out_free;
	}
	if (res.n == 0)
		fprintf(stderr,
			"the ledger already has %s image.tag=%s; "
			"nothing written\n",
			target, d.tag);
	else
		fprintf(stderr, "deploying %s image.tag=%s\n", target, d.tag);
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}
