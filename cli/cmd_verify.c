#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "render.h"
#include "trust.h"
#include "util.h"
#include "verify.h"

static const char help[] =
	"usage: ledger verify [--since FILE] [--checkpoint FILE]...\n"
	"                     [--witness-policy FILE] [--threads N] [--json]\n\n"
	"Check every entry: strict decoding, seq contiguity, prev links,\n"
	"signatures (on all cores), that each signer was trusted, not revoked\n"
	"and in scope at that point of the log, the Merkle tree, and that the\n"
	"indexes match a replay. Prints \"ok: N entries, head SEQ HASH\".\n"
	"On failure names the first bad seq and what is wrong, exit 1.\n\n"
	"  --checkpoint FILE  also prove the ledger still contains the tree\n"
	"                     head in FILE (from `ledger checkpoint`) as a\n"
	"                     prefix: catches truncation, rewrites and forks\n"
	"  --since FILE       check only the entries after a checkpoint you\n"
	"                     trust (one you verified before): the stored\n"
	"                     tree must make its root, and each later entry\n"
	"                     is checked in full against the keyring, locks\n"
	"                     and governance that its last entry commits to;\n"
	"                     older entries are not checked again\n"
	"                     (docs/format.md section 10.1)\n"
	"  --witness-policy FILE  also demand that each --checkpoint carries\n"
	"                     cosignatures (C2SP tlog-cosignature) meeting the\n"
	"                     quorum of FILE, a trust policy (`witness NAME KEY`,\n"
	"                     `group NAME K|any|all MEMBER...`, `quorum NAME`\n"
	"                     lines); names the witnesses that cosigned. Refused\n"
	"                     (exit 1): the quorum not met, or a cosignature by a\n"
	"                     witness of FILE that does not verify\n"
	"  --threads N        signature workers (default: one per core)\n"
	"  --json             {\"ok\", \"entries\", \"head\", \"hash\", \"root\",\n"
	"                     \"bad_seq\", \"problem\"}, and \"since\" with --since,\n"
	"                     \"cosignatures\" with --witness-policy\n";

#define MAX_CHECKPOINTS 64

static void progress(uint64_t done, uint64_t total, void *arg)
{
	fprintf(stderr, "\rverifying: %llu/%llu entries",
		(unsigned long long)done, (unsigned long long)total);
	if (done >= total)
		fputc('\n', stderr);
}

static int load_checkpoint(struct cli_ctx *c, const char *path,
			   struct ldg_checkpoint *cp)
{
	struct ldg_err err = { 0 };
	char buf[LDG_CHECKPOINT_MAX];
	size_t n;

	if (ldg_read_small(path, "a checkpoint", buf, sizeof(buf), &n, NULL,
			   &err))
		return cli_fail(c, &err);
	if (ldg_checkpoint_parse(buf, n, cp, &err)) {
		ldg_err_prefix(&err, "%s", path);
		return cli_fail(c, &err);
	}
	return 0;
}

/* What the replay decided under promotion policies: every one of them
 * was re-checked (docs/format.md 8b); emergencies are named. */
static void print_decisions(const struct ldg_verify_report *rep)
{
	uint64_t n = rep->emergencies < LDG_VERIFY_EMERGENCY_MAX
			     ? rep->emergencies
			     : LDG_VERIFY_EMERGENCY_MAX;

	printf("ok: policies: %llu proposals, %llu took effect with their "
	       "approvals\n",
	       (unsigned long long)rep->proposals,
	       (unsigned long long)rep->enacted);
	if (!rep->emergencies)
		return;
	printf("emergency: %llu emergency change%s: seq",
	       (unsigned long long)rep->emergencies,
	       rep->emergencies == 1 ? "" : "s");
	for (uint64_t i = 0; i < n; i++)
		printf(" %llu", (unsigned long long)rep->emergency_seq[i]);
	printf("%s\n", rep->emergencies > n ? " ..." : "");
}

/* "ok: checkpoint F: witness quorum "q" met: cosigned by A, B; not by C" */
static void print_cosigned(const char *path, const struct ldg_trust_report *rep)
{
	const char *sep = "";

	printf("ok: checkpoint %s: witness quorum \"%s\" met: cosigned by",
	       path, rep->quorum);
	for (size_t i = 0; i < rep->n; i++)
		if (rep->w[i].seen == LDG_COSIG_OK) {
			printf("%s %s", sep, rep->w[i].name);
			sep = ",";
		}
	sep = "; not by";
	for (size_t i = 0; i < rep->n; i++)
		if (rep->w[i].seen != LDG_COSIG_OK) {
			printf("%s %s", sep, rep->w[i].name);
			sep = ",";
		}
	putchar('\n');
}

/* Each checkpoint's cosignatures against the policy: the index of the
 * first that falls short (its reason in problem), or -1. */
static int check_cosignatures(const struct ldg_trust *t,
			      const struct ldg_checkpoint *cps, size_t n,
			      struct ldg_trust_report *reps, char *problem,
			      size_t len)
{
	int bad = -1;

	for (size_t i = 0; i < n; i++) {
		struct ldg_err err = { 0 };

		if (ldg_trust_check(t, &cps[i], &reps[i], &err) && bad < 0) {
			bad = (int)i;
			snprintf(problem, len, "%s", err.msg);
		}
	}
	return bad;
}

int cmd_verify(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "witness-policy", required_argument, NULL, 'w' },
		{ "threads", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_trust_report *reps = NULL;
	struct ldg_trust *trust = NULL;
	const char *policy = NULL;
	struct ldg_verify_opts vo = { 0 };
	struct ldg_verify_report rep;
	struct ldg_err err = { 0 };
	struct ldg_checkpoint *cps;
	struct ldg_store *s = NULL;
	const char *paths[MAX_CHECKPOINTS + 1], *since = NULL;
	char hh[2 * LDG_HASH_BYTES + 1];
	size_t np = 0, ncp;
	uint64_t threads = 0;
	bool json = false;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'c') {
			if (np == MAX_CHECKPOINTS)
				return cli_usage(c, "too many checkpoints");
			paths[np++] = optarg;
		} else if (opt == 's') {
			if (since)
				return cli_usage(c, "--since is given once");
			since = optarg;
		} else if (opt == 'w') {
			if (policy)
				return cli_usage(c, "--witness-policy is given "
						    "twice");
			policy = optarg;
		} else if (opt == 't') {
			if (ldg_parse_seq(optarg, &threads) || threads > 64)
				return cli_usage(c, "--threads takes 1..64");
		} else if (opt == 'j') {
			json = true;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (policy && !np)
		return cli_usage(c, "--witness-policy needs a --checkpoint");
	/* the checkpoint --since starts from is checked as --checkpoint
	 * checks one (origin, signature, root), last; the witness policy
	 * is asked of the --checkpoint files only (ncp of them) */
	ncp = np;
	if (since)
		paths[np++] = since;
	cps = calloc(np ? np : 1, sizeof(*cps));
	reps = policy ? calloc(ncp, sizeof(*reps)) : NULL;
	if (!cps || (policy && !reps)) {
		rc = cli_usage(c, "out of memory");
		goto out_free;
	}
	if (policy && ldg_trust_load(policy, &trust, &err)) {
		rc = cli_fail(c, &err);
		goto out_free;
	}
	for (size_t i = 0; i < np; i++) {
		rc = load_checkpoint(c, paths[i], &cps[i]);
		if (rc)
			goto out_free;
	}
	rc = cli_open_audit(c, &s);
	if (rc)
		goto out_free;
	vo.threads = (unsigned)threads;
	vo.checkpoints = cps;
	vo.n_checkpoints = np;
	if (isatty(STDERR_FILENO) && !json)
		vo.progress = progress;
	if (since)
		rc = ldg_verify_since(s, cps[np - 1].size, cps[np - 1].root,
				      &vo, &rep, &err);
	else
		rc = ldg_verify(s, &vo, &rep, &err);
	if (rc == -ENOTSUP) {
		cli_error("verify: --since %s: %s; verify the whole ledger "
			  "(without --since)",
			  since, err.msg);
		rc = CLI_BAD;
		goto out_free;
	}
	if (rc && rc != -EBADMSG) {
		rc = cli_fail(c, &err);
		goto out_free;
	}
	/* the cosignatures are reported whatever the ledger says, and
	 * decide once it holds the checkpoints: a checkpoint the ledger
	 * refutes needs no witness to be refused */
	if (trust) {
		char why[sizeof(rep.problem)];
		int bad = check_cosignatures(trust, cps, ncp, reps, why,
					     sizeof(why));

		if (!rc && bad >= 0) {
			rep.bad_checkpoint = bad;
			memcpy(rep.problem, why, sizeof(why));
			rc = -EBADMSG;
		}
	}
	if (json) {
		json_t *j = rnd_verify_json(&rep, rc);
		char *out;
		size_t len;
		if (j && trust && rnd_verify_cosig(j, paths, reps, ncp)) {
			json_decref(j);
			j = NULL;
		}
		if (rnd_json_out(j, &out, &len) || cli_emit(out, len)) {
			rc = CLI_BAD;
			goto out_free;
		}
	}
	if (rc) {
		if (rep.bad_seq)
			cli_error("verify: entry %llu: %s",
				  (unsigned long long)rep.bad_seq, rep.problem);
		else if (rep.bad_since)
			cli_error("verify: %s: %s", since, rep.problem);
		else if (rep.bad_checkpoint >= 0)
			cli_error("verify: %s: %s", paths[rep.bad_checkpoint],
				  rep.problem);
		else
			cli_error("verify: %s", rep.problem);
		rc = CLI_NO;
		goto out_free;
	}
	ldg_hex(rep.head_hash, LDG_HASH_BYTES, hh);
	if (!json && since)
		printf("ok: %llu entries after %s (%llu entries), head %llu "
		       "%s\n",
		       (unsigned long long)rep.entries, since,
		       (unsigned long long)rep.since,
		       (unsigned long long)rep.head, hh);
	else if (!json)
		printf("ok: %llu entries, head %llu %s\n",
		       (unsigned long long)rep.entries,
		       (unsigned long long)rep.head, hh);
	for (size_t i = 0; i < np && !json; i++)
		printf("ok: contains checkpoint %s (%llu entries)\n", paths[i],
		       (unsigned long long)cps[i].size);
	for (size_t i = 0; i < ncp && trust && !json; i++)
		print_cosigned(paths[i], &reps[i]);
	if (!json && (rep.proposals || rep.emergencies))
		print_decisions(&rep);
	rc = CLI_OK; /* main() reports a stdout that could not be written */
out_free:
	ldg_store_close(s);
	ldg_trust_free(trust);
	free(reps);
	free(cps);
	return rc;
}
