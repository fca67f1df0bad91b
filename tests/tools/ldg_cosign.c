/*
 * ldg_cosign - a witness without a server, for the tests: cosigns a
 * checkpoint with a cosigner key through the library's ldg_cosign(),
 * or checks one cosigner's lines with ldg_cosig_verify().
 *
 *   ldg_cosign KEYFILE TIME < checkpoint > cosigned
 *       the checkpoint as read, with KEYFILE's cosignature line (C2SP
 *       tlog-cosignature, at POSIX time TIME) appended
 *   ldg_cosign --verify VKEY < checkpoint
 *       prints the newest time of VKEY's cosignatures; exit 1 when the
 *       checkpoint has none by VKEY or one does not verify
 *
 * tests/scenario/witness_policy.sh and tests/tools/cosig_check.py (the
 * C side of the cross-check with an implementation written from the
 * specifications alone) use it. Exit 2 on bad input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "keys.h"
#include "tlog.h"
#include "util.h"

static int fail(const char *what, const struct ldg_err *err)
{
	fprintf(stderr, "ldg_cosign: %s: %s\n", what, err->msg);
	return 2;
}

static int verify(const char *vkey, const struct ldg_checkpoint *cp)
{
	struct ldg_err err = { 0 };
	struct ldg_vkey w;
	uint64_t t;
	int rc;

	if (ldg_cosigner_load(vkey, &w, &err))
		return fail(vkey, &err);
	rc = ldg_cosig_verify(cp, &w, &t);
	if (rc == -ENOENT) {
		fprintf(stderr, "ldg_cosign: no cosignature by %s\n", w.name);
		return 1;
	}
	if (rc) {
		fprintf(stderr,
			"ldg_cosign: a cosignature by %s does not "
			"verify\n",
			w.name);
		return 1;
	}
	printf("%llu\n", (unsigned long long)t);
	return 0;
}

static int cosign(const char *keyfile, const char *time,
		  const struct ldg_checkpoint *cp, const char *note, size_t n)
{
	struct ldg_err err = { 0 };
	struct ldg_signer *k;
	char line[LDG_COSIG_LINE_MAX];
	uint64_t t;
	int rc;

	if (ldg_parse_dec(time, 0, INT64_MAX, &t)) {
		fprintf(stderr, "ldg_cosign: bad time \"%s\"\n", time);
		return 2;
	}
	if (ldg_signer_load_alg(keyfile, LDG_ALG_COSIG, &k, &err))
		return fail(keyfile, &err);
	rc = ldg_cosign(k, t, cp->text, cp->text_len, line, &err);
	ldg_signer_free(k);
	if (rc)
		return fail("cosign", &err);
	if (fwrite(note, 1, n, stdout) != n || fputs(line, stdout) < 0 ||
	    fflush(stdout))
		return 2;
	return 0;
}

int main(int argc, char **argv)
{
	static char note[LDG_CHECKPOINT_MAX + 1];
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	struct ldg_err err = { 0 };
	size_t n;
	int rc;

	if (argc != 3 || !cp || ldg_crypto_init()) {
		fprintf(stderr,
			"usage: ldg_cosign KEYFILE TIME < checkpoint\n"
			"       ldg_cosign --verify VKEY < checkpoint\n");
		return 2;
	}
	n = fread(note, 1, sizeof(note), stdin);
	if (ferror(stdin) || n == sizeof(note)) {
		fprintf(stderr, "ldg_cosign: cannot read the checkpoint\n");
		return 2;
	}
	if (ldg_checkpoint_parse(note, n, cp, &err))
		rc = fail("stdin", &err);
	else if (!strcmp(argv[1], "--verify"))
		rc = verify(argv[2], cp);
	else
		rc = cosign(argv[1], argv[2], cp, note, n);
	free(cp);
	return rc;
}
