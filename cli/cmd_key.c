#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "render.h"
#include "util.h"

static const char help[] =
	"usage: ledger key add PUBFILE|VKEY --role ROLE --scope GLOB... -m REASON\n"
	"       ledger key revoke NAME -m REASON\n"
	"       ledger key list [--json]\n\n"
	"Manage who may sign entries. Adding and revoking keys are entries\n"
	"themselves, signed by an admin whose scope is '*'.\n\n"
	"  --role ROLE     admin, deployer (set/unset/rollback/lock) or\n"
	"                  applier (applied/apply-failed/drift records)\n"
	"  --scope GLOB    targets the key may change: '*', 'staging/*',\n"
	"                  '*/api'; repeat for several (required)\n"
	"  -m, --message   the reason (required)\n"
	"  --key FILE      the admin's signing key\n"
	"  --json          (list) machine-readable output\n";

static int key_list(struct cli_ctx *c, bool json)
{
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	struct ldg_keyinfo *ring = NULL;
	size_t n = 0;
	int rc = cli_open_read(c, &s, &r);

	if (rc)
		return rc;
	if (json) {
		json_t *arr;
		char *out;
		size_t len;
		if (rnd_keyring_json(r, &arr, &err)) {
			rc = cli_fail(c, &err);
			goto out_read;
		}
		rc = rnd_json_out(arr, &out, &len) ? CLI_BAD
						   : cli_emit(out, len);
		goto out_read;
	}
	if (ldg_keyring_list(r, &ring, &n)) {
		ldg_err_set(&err, -EIO, "cannot read the keyring");
		rc = cli_fail(c, &err);
		goto out_read;
	}
	printf("%-20s %-9s %-8s %-6s %-8s %s\n", "NAME", "KEYID", "ROLE",
	       "ADDED", "REVOKED", "SCOPES");
	for (size_t i = 0; i < n; i++) {
		char id[9], rev[24] = "-";
		ldg_hex(ring[i].vkey.keyid, 4, id);
		if (ring[i].revoked_seq)
			snprintf(rev, sizeof(rev), "%llu",
				 (unsigned long long)ring[i].revoked_seq);
		printf("%-20s %-9s %-8s %-6llu %-8s %s\n", ring[i].vkey.name,
		       id, ring[i].role, (unsigned long long)ring[i].added_seq,
		       rev, ring[i].scopes);
	}
	rc = CLI_OK;
	free(ring);
out_read:
	cli_close_read(s, r);
	return rc;
}

int cmd_key(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "role", required_argument, NULL, 'r' },
		{ "scope", required_argument, NULL, 's' },
		{ "message", required_argument, NULL, 'm' },
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	const char *role = NULL, *reason = NULL, *keyfile = NULL, *sub;
	char scopes[LDG_SCOPES_MAX] = "";
	bool json = false;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:m:", opts, NULL, &rc);
		if (opt == 0)
			break;
		switch (opt) {
		case 'r':
			role = optarg;
			break;
		case 's':
			if (strlen(scopes) + strlen(optarg) + 2 >
			    sizeof(scopes))
				return cli_usage(c, "too many scopes");
			if (scopes[0])
				strcat(scopes, " ");
			strcat(scopes, optarg);
			break;
		case 'm':
			reason = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'j':
			json = true;
			break;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage(c, "expected add, revoke or list");
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		c->cmd = "key list";
		if (optind != argc)
			return cli_usage(c, "unexpected argument \"%s\"",
					 argv[optind]);
		if (role || scopes[0] || reason || keyfile)
			return cli_usage(c, "list takes only --json");
		return key_list(c, json);
	}
	if (strcmp(sub, "add") && strcmp(sub, "revoke"))
		return cli_usage(c,
				 "unknown subcommand \"%s\" (add, revoke, "
				 "list)",
				 sub);
	c->cmd = !strcmp(sub, "add") ? "key add" : "key revoke";
	if (json)
		return cli_usage(c, "--json is for key list");
	if (!strcmp(sub, "revoke") && (role || scopes[0]))
		return cli_usage(c, "revoke takes no --role or --scope");
	if (scopes[0]) {
		char copy[LDG_SCOPES_MAX], *save = NULL;
		snprintf(copy, sizeof(copy), "%s", scopes);
		for (char *t = strtok_r(copy, " ", &save); t;
		     t = strtok_r(NULL, " ", &save))
			if (ldg_check_scope(t, &err))
				return cli_fail(c, &err);
	}
	if (optind + 1 != argc)
		return cli_usage(c, "expected one %s",
				 !strcmp(sub, "add") ? "PUBFILE or VKEY"
						     : "NAME");
	if (!reason)
		return cli_usage(c, "missing -m REASON");
	if (!strcmp(sub, "add")) {
		struct ldg_vkey vk;
		if (!role)
			return cli_usage(c, "missing --role (admin, deployer "
					    "or applier)");
		if (!scopes[0])
			return cli_usage(c, "missing --scope GLOB (use --scope "
					    "'*' for every target)");
		if (ldg_vkey_load(argv[optind], &vk, &err))
			return cli_fail(c, &err);
		rc = cli_open(c, &s);
		if (!rc)
			rc = cli_signer(c, keyfile, &k);
		if (rc)
			goto out_free;
		if (ldg_key_add(s, k, &vk, role, scopes, reason, &res, &err)) {
			rc = cli_fail(c, &err);
			goto out_free;
		}
		fprintf(stderr, "added key \"%s\" as %s for %s\n", vk.name,
			role, scopes);
	} else {
		rc = cli_open(c, &s);
		if (!rc)
			rc = cli_signer(c, keyfile, &k);
		if (rc)
			goto out_free;
		if (ldg_key_revoke(s, k, argv[optind], reason, &res, &err)) {
			rc = cli_fail(c, &err);
			goto out_free;
		}
		fprintf(stderr, "revoked key \"%s\"\n", argv[optind]);
	}
	cli_print_result(&res);
	rc = CLI_OK;
out_free:
	ldg_result_free(&res);
	ldg_signer_free(k);
	ldg_store_close(s);
	return rc;
}
