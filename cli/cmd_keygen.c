#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "util.h"

static const char help[] =
	"usage: ledger keygen NAME [--dir DIR]\n"
	"       ledger keygen --witness NAME [--dir DIR]\n\n"
	"Create an Ed25519 key pair in the signed-note format:\n"
	"DIR/NAME.key (private, mode 0600) and DIR/NAME.pub (verifier key, to\n"
	"give to an admin for `ledger key add`). Existing files are never\n"
	"overwritten.\n\n"
	"  --dir DIR   where to write (default: $XDG_CONFIG_HOME/ledger/keys,\n"
	"              created with mode 0700)\n"
	"  --witness   a witness's cosigner key instead (C2SP\n"
	"              tlog-cosignature, signature type 0x04) for `ledger\n"
	"              witness --key`; NAME.pub is what logs and clients\n"
	"              trust it by. It cannot sign entries or checkpoints.\n"
	"              Its NAME may hold '/' (witness.example.com/w1: the\n"
	"              files are DIR/witness.example.com_w1.key and .pub)\n";

int cmd_keygen(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "dir", required_argument, NULL, 'd' },
		{ "witness", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	char dir[PATH_MAX], vk[LDG_VKEY_TEXT_MAX], base[LDG_KEYNAME_MAX + 1];
	const char *dirarg = NULL;
	uint8_t alg = LDG_ALG_NOTE;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:d:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'd') {
			dirarg = optarg;
		} else if (opt == 'w') {
			alg = LDG_ALG_COSIG;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage(c, "expected one NAME");
	/* the name is checked (a witness's may hold '/') before any mkdir */
	if (ldg_signer_generate_alg(argv[optind], alg, &k, &err))
		return cli_fail(c, &err);
	if (dirarg)
		snprintf(dir, sizeof(dir), "%s", dirarg);
	else if (cli_keys_dir(dir, sizeof(dir))) {
		rc = cli_usage(c, "no HOME or XDG_CONFIG_HOME: pass --dir");
		goto out_free;
	}
	rc = ldg_mkdir_p(dir, 0700);
	if (rc) {
		ldg_err_set(&err, rc, "cannot create %s: %s", dir,
			    strerror(-rc));
		rc = cli_fail(c, &err);
		goto out_free;
	}
	if (ldg_signer_write(k, dir, &err)) {
		rc = cli_fail(c, &err);
		goto out_free;
	}
	if (alg == LDG_ALG_COSIG)
		ldg_cosigner_format(ldg_signer_vkey(k), vk);
	else
		ldg_vkey_format(ldg_signer_vkey(k), vk);
	/* a witness name's '/' is '_' in its file names (keys.h) */
	snprintf(base, sizeof(base), "%s", argv[optind]);
	for (char *p = base; *p; p++)
		if (*p == '/')
			*p = '_';
	fprintf(stderr, "wrote %s/%s.key (private) and %s/%s.pub\n", dir, base,
		dir, base);
	printf("%s\n", vk);
	rc = CLI_OK;
out_free:
	ldg_signer_free(k);
	return rc;
}
