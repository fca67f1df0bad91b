/*
 * ldg_forge.c - signs an entry on a ledger's head without the writer's
 * checks, for tests: what an attacker who holds a private key (a stolen
 * or revoked one) can make without the library's write path, which would
 * refuse it. By default nothing is written to the ledger: the entry's
 * bytes are printed as hex, for `ldg_tamper DIR put SEQ HEX`.
 *
 *   ldg_forge [--store HOW] DIR KEYFILE set TARGET KEY=VALUE REASON
 *   ldg_forge [--store HOW] DIR KEYFILE approve TARGET PROPOSAL REASON
 *   ldg_forge [--store HOW] DIR KEYFILE key-add PUBFILE ROLE SCOPES REASON
 *
 * The entry is version 2, seq head + 1, prev the head's hash, and carries
 * the commitment of the keyring, locks and governance that DIR's indexes
 * hold, with the entry applied (forge_seal(), forge.h, as the unit tests
 * forge theirs).
 *
 * --store appends it instead, indexed as a writer that skipped every
 * check would (HOW = honest), or also with its own changes written to the
 * values indexes as in effect (HOW = effective: a compromised writer
 * making a proposal deployable; forge_store()); it prints the seq.
 * Exit 0, or 2 on any error (said on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge.h"
#include "util.h"

static int die(const char *what, const struct ldg_err *err)
{
	fprintf(stderr, "ldg_forge: %s: %s\n", what,
		err && err->msg[0] ? err->msg : "failed");
	return 2;
}

/* A set of one KEY=VALUE pair (argv[5]). */
static struct ldg_entry *set_one(char **argv)
{
	struct ldg_entry *e;
	char *eq = strchr(argv[5], '=');

	if (!eq)
		return NULL;
	*eq = '\0';
	e = ldg_entry_new(LDG_KIND_SET, argv[4], argv[6]);
	if (e && ldg_entry_add_change(e, argv[5], eq + 1)) {
		ldg_entry_free(e);
		e = NULL;
	}
	return e;
}

static struct ldg_entry *build(int argc, char **argv, struct ldg_err *err)
{
	struct ldg_entry *e = NULL;
	struct ldg_vkey vk;
	char text[LDG_VKEY_TEXT_MAX];

	if (argc == 7 && !strcmp(argv[3], "set")) {
		e = set_one(argv);
	} else if (argc == 7 && !strcmp(argv[3], "approve")) {
		e = ldg_entry_new(LDG_KIND_APPROVE, argv[4], argv[6]);
		if (e && ldg_entry_add_change(e, "proposal", argv[5])) {
			ldg_entry_free(e);
			e = NULL;
		}
	} else if (argc == 8 && !strcmp(argv[3], "key-add")) {
		if (ldg_vkey_load(argv[4], &vk, err))
			return NULL;
		ldg_vkey_format(&vk, text);
		e = ldg_entry_new(LDG_KIND_KEY_ADD, "", argv[7]);
		if (e && (ldg_entry_add_change(e, "role", argv[5]) ||
			  ldg_entry_add_change(e, "scopes", argv[6]) ||
			  ldg_entry_add_change(e, "vkey", text))) {
			ldg_entry_free(e);
			e = NULL;
		}
	}
	if (e)
		e->version = LDG_FORMAT_V2; /* the new kinds are version 2 */
	return e;
}

int main(int argc, char **argv)
{
	uint8_t *bytes = NULL;
	struct ldg_err err = { 0 };
	struct ldg_signer *k = NULL;
	struct ldg_store *s = NULL;
	enum forge_index how = FORGE_INDEX_HONEST;
	struct ldg_entry *e;
	bool store = false;
	size_t len;
	char *hex;

	if (argc > 2 && !strcmp(argv[1], "--store")) {
		if (!strcmp(argv[2], "honest"))
			how = FORGE_INDEX_HONEST;
		else if (!strcmp(argv[2], "effective"))
			how = FORGE_INDEX_EFFECTIVE;
		else
			argc = 0; /* usage */
		store = true;
		argc -= 2;
		argv += 2;
	}
	if (argc < 4) {
		fprintf(stderr,
			"usage: ldg_forge [--store honest|effective] DIR "
			"KEYFILE set TARGET KEY=VALUE REASON\n"
			"       ldg_forge [--store ...] DIR KEYFILE approve "
			"TARGET PROPOSAL REASON\n"
			"       ldg_forge [--store ...] DIR KEYFILE key-add "
			"PUBFILE ROLE SCOPES REASON\n");
		return 2;
	}
	if (ldg_crypto_init())
		return die("libsodium", NULL);
	e = build(argc, argv, &err);
	if (!e)
		return die("the entry", &err);
	if (ldg_signer_load(argv[2], &k, &err))
		return die(argv[2], &err);
	if (ldg_store_open(argv[1], 0, &s, &err))
		return die(argv[1], &err);
	if (forge_seal(s, 0, NULL, e, k, &bytes, &len, &err))
		return die("sealing", &err);
	if (store) {
		if (forge_store(s, bytes, len, how, &err))
			return die("storing", &err);
		printf("%llu\n", (unsigned long long)e->seq);
		free(bytes);
		ldg_entry_free(e);
		ldg_store_close(s);
		ldg_signer_free(k);
		return 0;
	}
	hex = malloc(2 * len + 1);
	if (!hex)
		return die("out of memory", NULL);
	ldg_hex(bytes, len, hex);
	printf("%s\n", hex);
	free(hex);
	free(bytes);
	ldg_entry_free(e);
	ldg_store_close(s);
	ldg_signer_free(k);
	return 0;
}
