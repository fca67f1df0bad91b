#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "remote.h"
#include "tiles.h"
#include "util.h"
#include "verify.h"

#define WITNESSES_MAX 16

static const char help[] =
	"usage: ledger checkpoint [--key FILE] [-o FILE] [--no-verify]\n"
	"                         [--witness URL]... [--min N]\n\n"
	"Write a C2SP tlog-checkpoint signed note for the current head:\n"
	"origin, tree size, base64 Merkle root, a blank line and a signature\n"
	"line. Keep it where the ledger's host cannot change it (CI logs, an\n"
	"auditor's mailbox); `ledger verify --checkpoint FILE` later proves\n"
	"the ledger still contains that tree as a prefix. The signing key\n"
	"must be a trusted key of this ledger. The ledger is verified first\n"
	"(as `ledger verify` does), and the root signed is the one the\n"
	"entries prove; a ledger that does not verify is refused (exit 1).\n\n"
	"  --key FILE     signing key\n"
	"  -o, --output FILE  write to FILE instead of stdout\n"
	"  --no-verify    skip the full check: sign the stored tree head once\n"
	"                 the stored tree's right edges match the entries\n"
	"  --witness URL  ask the C2SP tlog-witness at URL (`ledger witness`,\n"
	"                 or any other) to cosign the checkpoint, with a\n"
	"                 consistency proof from the size it last cosigned\n"
	"                 (tried first: the size of the checkpoint -o FILE\n"
	"                 holds, else 0; then the size a 409 names)\n"
	"                 (repeatable, up to 16); its cosignature lines are\n"
	"                 appended to the note. With --remote, the proofs\n"
	"                 come from a checked private copy of the served\n"
	"                 ledger (every entry fetched, as mirror does), and\n"
	"                 the cosigned note is what is published\n"
	"  --min N        the cosignatures needed (default: every witness\n"
	"                 named); with fewer, nothing is written, exit 1,\n"
	"                 naming each witness's answer. A witness that holds\n"
	"                 another history of this origin (a fork) is exit 1\n"
	"                 too, naming its root and this ledger's\n\n"
	"With --remote URL: sign the tree head that the full check of\n"
	"`ledger serve` at URL proves (GET /api/v1/verify; a ledger that does\n"
	"not verify is refused, exit 1) and publish it there (GET\n"
	"/api/v1/checkpoint hands out the newest); the server checks it\n"
	"against its ledger and keeps it. The note is printed (or written to\n"
	"-o FILE) as well: keep it off the server.\n";

/* The note to stdout, or to outfile (saying so on stderr). */
static int emit_note(struct cli_ctx *c, const char *note, uint64_t size,
		     const char *outfile)
{
	struct ldg_err err = { 0 };
	struct stat st;
	FILE *f;
	int rc;

	if (!outfile)
		return cli_write_out(note, strlen(note));
	/* a regular file is replaced whole (a full disk leaves the old
	 * checkpoint); anything else (a pipe, /dev/stdout) is written */
	if (stat(outfile, &st) || S_ISREG(st.st_mode)) {
		rc = ldg_write_atomic(outfile, note, strlen(note), 0644);
		if (rc) {
			ldg_err_set(&err, rc, "%s: %s", outfile, strerror(-rc));
			return cli_fail(c, &err);
		}
	} else {
		f = fopen(outfile, "w");
		rc = !f || fputs(note, f) < 0 ? -errno : 0;
		if (f && fclose(f) && !rc)
			rc = -errno;
		if (rc) {
			ldg_err_set(&err, rc, "%s: %s", outfile, strerror(-rc));
			return cli_fail(c, &err);
		}
	}
	fprintf(stderr, "wrote checkpoint of %llu entries to %s\n",
		(unsigned long long)size, outfile);
	return CLI_OK;
}

/* The size of the checkpoint outfile holds (the last one written
 * there), 0 when none: the size its witnesses are likely to hold, the
 * first old size to try (a wrong one costs what 0 costs: one 409). */
static uint64_t last_size(const char *outfile)
{
	struct ldg_checkpoint *cp;
	char *buf;
	size_t len;
	uint64_t size = 0;

	if (!outfile)
		return 0;
	cp = malloc(sizeof(*cp));
	buf = malloc(LDG_CHECKPOINT_MAX);
	if (cp && buf &&
	    !ldg_read_small(outfile, "a checkpoint", buf, LDG_CHECKPOINT_MAX,
			    &len, NULL, NULL) &&
	    !ldg_checkpoint_parse(buf, len, cp, NULL))
		size = cp->size;
	free(buf);
	free(cp);
	return size;
}

static int remote_checkpoint(struct cli_ctx *c, const char *keyfile,
			     const char *outfile, const char *const *witnesses,
			     size_t n_witnesses, size_t min)
{
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	char *note = NULL, *said = NULL;
	uint64_t size = 0;
	int rc = cli_signer(c, keyfile, &k);

	if (rc)
		return rc;
	if (n_witnesses)
		rc = cli_remote_checkpoint_witnessed(c, k, witnesses,
						     n_witnesses, min,
						     last_size(outfile), &note,
						     &said, &size);
	else if (cli_remote_checkpoint(c, k, &note, &size, &err))
		rc = cli_fail(c, &err);
	if (!rc)
		rc = emit_note(c, note, size, outfile);
	if (!rc)
		fprintf(stderr,
			"%spublished checkpoint of %llu entries to %s\n",
			said ? said : "", (unsigned long long)size, c->remote);
	free(said);
	free(note);
	ldg_signer_free(k);
	return rc;
}

int cmd_checkpoint(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "witness", required_argument, NULL, 'w' },
		{ "min", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s;
	struct ldg_read *r;
	struct ldg_keyinfo ki;
	const char *keyfile = NULL, *outfile = NULL;
	uint8_t root[LDG_HASH_BYTES];
	uint64_t head;
	char *note = NULL, *said = NULL;
	const char *witnesses[WITNESSES_MAX];
	size_t n_witnesses = 0;
	uint64_t min = UINT64_MAX;
	bool check = true;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:o:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'k') {
			keyfile = optarg;
		} else if (opt == 'o') {
			outfile = optarg;
		} else if (opt == 'n') {
			check = false;
		} else if (opt == 'w') {
			if (n_witnesses == WITNESSES_MAX)
				return cli_usage(c, "more than %d --witness",
						 WITNESSES_MAX);
			if (strncmp(optarg, "http://", 7) &&
			    strncmp(optarg, "https://", 8))
				return cli_usage(c,
						 "--witness %s: expected an "
						 "http:// or https:// URL",
						 optarg);
			witnesses[n_witnesses++] = optarg;
		} else if (opt == 'm') {
			if (strcmp(optarg, "0") &&
			    ldg_parse_dec(optarg, 1, WITNESSES_MAX, &min))
				return cli_usage(c,
						 "--min %s: expected 0 to %d "
						 "cosignatures",
						 optarg, WITNESSES_MAX);
			if (!strcmp(optarg, "0"))
				min = 0;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (min != UINT64_MAX && !n_witnesses)
		return cli_usage(c, "--min without --witness");
	if (min == UINT64_MAX)
		min = n_witnesses;
	if (min > n_witnesses)
		return cli_usage(c, "--min %llu: only %zu witnesses named",
				 (unsigned long long)min, n_witnesses);
	if (c->remote)
		return remote_checkpoint(c, keyfile, outfile, witnesses,
					 n_witnesses, (size_t)min);
	/* the witnesses speak HTTP: ledger-http asks them */
	if (n_witnesses) {
		rc = cli_need_http(c);
		if (rc)
			return rc;
	}
	rc = cli_open_read(c, &s, &r);
	if (rc)
		return rc;
	rc = cli_signer(c, keyfile, &k);
	if (rc)
		goto out_close;
	if (ldg_keyring_by_name(r, ldg_signer_vkey(k)->name, &ki) ||
	    memcmp(ki.vkey.pk, ldg_signer_vkey(k)->pk, LDG_PK_BYTES) ||
	    ki.revoked_seq) {
		ldg_err_set(&err, -EACCES,
			    "key \"%s\" is not a trusted key of this ledger",
			    ldg_signer_vkey(k)->name);
		rc = cli_fail(c, &err);
		goto out_close;
	}
	if (check) {
		/* sign only a tree head that the entries themselves prove */
		struct ldg_verify_opts vo = { 0 };
		struct ldg_verify_report rep;
		rc = ldg_verify(s, &vo, &rep, &err);
		if (rc == -EBADMSG) {
			char where[32] = "";
			if (rep.bad_seq)
				snprintf(where, sizeof(where), "entry %llu: ",
					 (unsigned long long)rep.bad_seq);
			ldg_err_set(&err, -EPERM,
				    "refusing to sign: the ledger "
				    "does not verify (%s%.300s)",
				    where, rep.problem);
			rc = cli_fail(c, &err);
			goto out_close;
		}
		if (rc) {
			rc = cli_fail(c, &err);
			goto out_close;
		}
		head = rep.head;
		memcpy(root, rep.root, LDG_HASH_BYTES);
	} else {
		/* the stored root, if the stored tree holds together along
		 * its right edges down to the entries' own bytes */
		if (ldg_signable_head(r, &head, root, &err)) {
			rc = cli_fail(c, &err);
			goto out_close;
		}
	}
	if (ldg_checkpoint_make(ldg_store_origin(s), head, root, k, &note,
				&err)) {
		rc = cli_fail(c, &err);
		goto out_close;
	}
	if (n_witnesses) {
		rc = cli_witnesses(c, witnesses, n_witnesses, (size_t)min,
				   last_size(outfile), ldg_store_node, r, &note,
				   &said);
		if (rc)
			goto out_close;
	}
	rc = emit_note(c, note, head, outfile);
	/* who cosigned, once the note is written: a refusal is one line */
	if (!rc && said)
		fputs(said, stderr);
out_close:
	free(said);
	free(note);
	ldg_signer_free(k);
	cli_close_read(s, r);
	return rc;
}
