#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "render.h"
#include "tiles.h"
#include "util.h"
#include "verify.h"

static const char help[] =
	"usage: ledger tiles DIR (--key FILE | --checkpoint FILE) [--json]\n\n"
	"Write the ledger as a C2SP tlog-tiles tree of static files, for any\n"
	"static host (nginx, an S3 bucket, a CDN; docs/operations.md):\n"
	"DIR/checkpoint and DIR/tile/L/N[.p/W], DIR/tile/entries/N[.p/W],\n"
	"exactly the tree of the checkpoint's size. Run it again after new\n"
	"entries: only the tiles the tree gained are written (the full ones\n"
	"completed since DIR's checkpoint and the new size's partial ones),\n"
	"then the checkpoint, last, by rename. A DIR holding another tree (a\n"
	"checkpoint of another origin, of more entries, or with a root that\n"
	"is not this ledger's) is refused, nothing written.\n\n"
	"  --key FILE         sign a checkpoint of the head with this trusted\n"
	"                     key, after the check `checkpoint --no-verify`\n"
	"                     makes of the stored tree\n"
	"  --checkpoint FILE  publish this checkpoint of the ledger (e.g. one\n"
	"                     from `ledger checkpoint`, which verifies the\n"
	"                     whole ledger first, or one with cosignatures)\n"
	"                     and the tree of its size\n"
	"  --json             {\"dir\", \"origin\", \"size\", \"from\", \"tiles\",\n"
	"                     \"bytes\"}\n\n"
	"Progress goes to stderr every few seconds. An entry of more than\n"
	"65,535 bytes (written before new entries were capped) cannot be put\n"
	"in an entry bundle: its bundle is refused naming the entry, exit 2,\n"
	"and no checkpoint is written (docs/format.md, \"Tiles\").\n";

static void progress(void *arg, uint64_t done, uint64_t total)
{
	bool tty = isatty(STDERR_FILENO);

	(void)arg;
	fprintf(stderr, "%stiles: %llu/%llu written%s", tty ? "\r" : "",
		(unsigned long long)done, (unsigned long long)total,
		tty && done < total ? "" : "\n");
}

/* A signed checkpoint of r's head by keyfile's key, once the stored
 * tree holds together (ldg_signable_head()): *note malloc'd. */
static int sign_head(struct cli_ctx *c, struct ldg_store *s, struct ldg_read *r,
		     const char *keyfile, char **note)
{
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	uint8_t root[LDG_HASH_BYTES];
	uint64_t head;
	int rc = cli_signer(c, keyfile, &k);

	if (rc)
		return rc;
	rc = ldg_signable_head(r, &head, root, &err);
	if (!rc)
		rc = ldg_checkpoint_make(ldg_store_origin(s), head, root, k,
					 note, &err);
	ldg_signer_free(k);
	return rc ? cli_fail(c, &err) : 0;
}

static int emit(struct cli_ctx *c, const char *dir,
		const struct ldg_checkpoint *cp,
		const struct ldg_tiles_stats *st, bool json)
{
	char *out;
	size_t len;

	if (json) {
		if (rnd_json_out(rnd_tiles_json(dir, cp->origin, st), &out,
				 &len))
			return cli_usage(c, "out of memory");
		return cli_emit(out, len);
	}
	printf("wrote %llu tiles (%llu bytes) and the checkpoint of %llu "
	       "entries to %s (it had %llu)\n",
	       (unsigned long long)st->tiles, (unsigned long long)st->bytes,
	       (unsigned long long)st->size, dir,
	       (unsigned long long)st->old_size);
	return CLI_OK;
}

int cmd_tiles(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "key", required_argument, NULL, 'k' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *cpfile = NULL, *dir;
	struct ldg_checkpoint *cp = NULL;
	struct ldg_tiles_stats st;
	struct ldg_err err = { 0 };
	struct ldg_store *s;
	struct ldg_read *r;
	char *note = NULL;
	bool json = false;
	size_t len;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'k')
			keyfile = optarg;
		else if (opt == 'c')
			cpfile = optarg;
		else if (opt == 'j')
			json = true;
	}
	if (rc >= 0)
		return rc;
	if (optind == argc)
		return cli_usage(c, "expected the directory DIR");
	if (optind + 1 != argc)
		return cli_usage(c, "unexpected argument \"%s\"",
				 argv[optind + 1]);
	dir = argv[optind];
	if (!!keyfile == !!cpfile)
		return cli_usage(c, "give one of --key FILE (sign the head) "
				    "and --checkpoint FILE");
	if (!dir[0])
		return cli_usage(c, "DIR is empty");
	cp = malloc(sizeof(*cp));
	note = cpfile ? malloc(LDG_CHECKPOINT_MAX) : NULL;
	if (!cp || (cpfile && !note)) {
		free(cp);
		free(note);
		return cli_usage(c, "out of memory");
	}
	rc = cli_open_read(c, &s, &r);
	if (rc)
		goto out_free;
	if (cpfile)
		rc = ldg_read_small(cpfile, "a checkpoint", note,
				    LDG_CHECKPOINT_MAX, &len, NULL, &err);
	else
		rc = sign_head(c, s, r, keyfile, &note);
	if (cpfile && rc) {
		rc = cli_fail(c, &err);
		goto out_close;
	}
	if (rc)
		goto out_close;
	if (!cpfile)
		len = strlen(note);
	/* only a checkpoint of this ledger, signed by a trusted key */
	rc = ldg_checkpoint_parse(note, len, cp, &err);
	if (!rc)
		rc = ldg_checkpoint_check(r, cp, &err);
	if (rc && cpfile)
		ldg_err_prefix(&err, "%s", cpfile);
	if (!rc)
		rc = ldg_tiles_export(r, dir, cp, note, len, progress, NULL,
				      &st, &err);
	if (rc) {
		rc = cli_fail(c, &err);
		goto out_close;
	}
	rc = emit(c, dir, cp, &st, json);
out_close:
	cli_close_read(s, r);
out_free:
	free(note);
	free(cp);
	return rc;
}
