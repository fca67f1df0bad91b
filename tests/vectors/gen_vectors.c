/*
 * gen_vectors - writes the entry test vectors of tests/vectors/.
 *
 *   gen_vectors OUTDIR        (or: ninja -C build vectors)
 *
 * Everything is fixed, so the output is the same on every run: the keys
 * come from fixed seeds, the times are fixed, and Ed25519 signatures are
 * deterministic. The vectors are committed; regenerate them only when
 * the format changes on purpose, and say so in docs/format.md.
 *
 * good/: a twelve-entry chain (init, key-add, set, rollback of version
 * 1, then a lock and a forced set of version 2, which carry the
 * commitment to the keyring and locks after them, then a policy, a
 * freeze window, a proposal and its approval, whose commitments hold the
 * governance too, a drift check and a set of typed values), each entry's
 * prev the hash of the one before. bad/: stand-ins
 * for entry 3 (the set), and for the entries of promotion policies,
 * that a verifier must refuse, each for one stated reason. Malformed
 * encodings are re-signed over their own bytes, so only a strict decoder
 * catches them; a verifier that checks the signature alone would not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authz.h"
#include "entry.h"
#include "keys.h"
#include "merkle.h"
#include "testlib.h"

#define ORIGIN "example.com/vectors"
#define OTHER_ORIGIN "example.com/other"
#define T0 1767225600000000000ull /* 2026-01-01T00:00:00Z */
#define MINUTE 60000000000ull

static const char *outdir;
static FILE *index_f;
static struct ldg_signer *admin, *deployer, *outsider;
#define N_GOOD 12
static uint8_t hashes[N_GOOD + 1][LDG_HASH_BYTES]; /* by seq */
/* the keyring and locks after the good entries so far, after entry 1
 * and after entry 2 (for the stand-ins of entry 3) */
static struct ldg_authz chain, after1, after2;

static void die(const char *what)
{
	fprintf(stderr, "gen_vectors: %s\n", what);
	exit(1);
}

static void write_hex(const char *rel, const uint8_t *b, size_t n)
{
	char path[4096];
	char *hex = tl_hex(b, n);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, rel);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fprintf(f, "%s\n", hex);
	if (fclose(f))
		die(path);
	free(hex);
}

static void check(int rc, const char *what)
{
	if (rc)
		die(what);
}

static void seed_of(uint8_t first, uint8_t seed[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
}

static struct ldg_entry *draft(enum ldg_kind kind, const char *target,
			       const char *reason, uint64_t seq)
{
	struct ldg_entry *e = ldg_entry_new(kind, target, reason);

	if (!e)
		die("out of memory");
	e->seq = seq;
	e->time_ns = T0 + (seq - 1) * MINUTE;
	if (seq > 1)
		memcpy(e->prev, hashes[seq - 1], LDG_HASH_BYTES);
	return e;
}

/* Signs e, checks that it decodes to the same bytes, returns the bytes. */
static uint8_t *seal(struct ldg_entry *e, const char *origin,
		     const struct ldg_signer *k, size_t *len)
{
	struct ldg_err err = { 0 };
	struct ldg_entry *back = NULL;
	uint8_t *buf = NULL;

	if (ldg_entry_sign(e, origin, k, &buf, len, &err))
		die(err.msg);
	if (ldg_entry_decode(buf, *len, &back, &err))
		die(err.msg);
	ldg_entry_free(back);
	return buf;
}

/* Signs a good entry of version v (2: stamped with the commitment of
 * the chain's state after it) and lists it, and that commitment. */
static void good_v(const char *rel, struct ldg_entry *e,
		   const struct ldg_signer *k, int v, const char *what)
{
	uint8_t az[LDG_HASH_BYTES];
	size_t len;
	uint8_t *buf;
	char *hex;

	/* the signer first: a proposal's author is part of the state */
	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	if (v == 2)
		check(ldg_authz_stamp(&chain, e, NULL), "stamp");
	else
		check(ldg_authz_apply(&chain, e), "apply");
	check(ldg_authz_commit(&chain, az), "commit");
	if (e->seq == 1) {
		check(ldg_authz_apply(&after1, e), "apply");
		check(ldg_authz_apply(&after2, e), "apply");
	} else if (e->seq == 2) {
		check(ldg_authz_apply(&after2, e), "apply");
	}
	buf = seal(e, ORIGIN, k, &len);
	ldg_entry_hash(buf, len, hashes[e->seq]);
	write_hex(rel, buf, len);
	hex = tl_hex(hashes[e->seq], LDG_HASH_BYTES);
	fprintf(index_f, "# %s\n", what);
	fprintf(index_f, "good %-28s seq=%llu hash=%s\n", rel,
		(unsigned long long)e->seq, hex);
	free(hex);
	hex = tl_hex(az, LDG_HASH_BYTES);
	fprintf(index_f, "authz %llu %s\n\n", (unsigned long long)e->seq, hex);
	free(hex);
	free(buf);
}

static void good(const char *rel, struct ldg_entry *e,
		 const struct ldg_signer *k, const char *what)
{
	good_v(rel, e, k, 1, what);
}

/* Signs the stored bytes of an entry again over its own bytes
 * (docs/format.md section 5), whatever they hold. */
static void resign(uint8_t *buf, size_t len, const struct ldg_signer *k)
{
	size_t dlen = sizeof("ledger/v1/entry"), olen = strlen(ORIGIN) + 1;
	size_t blen = len - 1 - 66, mlen = dlen + olen + 1 + blen;
	uint8_t *msg = malloc(mlen);

	if (!msg)
		die("out of memory");
	memcpy(msg, "ledger/v1/entry", dlen);
	memcpy(msg + dlen, ORIGIN, olen);
	msg[dlen + olen] = (uint8_t)(buf[0] - 1);
	memcpy(msg + dlen + olen + 1, buf + 1, blen);
	check(ldg_signer_sign(k, msg, mlen, buf + len - 64), "sign");
	free(msg);
}

/* Sets the version byte of an encoded entry (field 0, a fixint) and
 * signs it again. */
static void resign_as(uint8_t *buf, size_t len, uint8_t version,
		      const struct ldg_signer *k)
{
	buf[1] = version;
	resign(buf, len, k);
}

/* Signs e as it is, with none of the checks ldg_entry_sign() makes
 * (the signing message of docs/format.md section 5 over e's encoding):
 * for bad vectors whose fields break a rule of their kind. */
static uint8_t *seal_unchecked(struct ldg_entry *e, const struct ldg_signer *k,
			       size_t *len)
{
	size_t dlen = sizeof("ledger/v1/entry"), olen = strlen(ORIGIN) + 1;
	uint8_t *body = NULL, *msg, *out = NULL;
	size_t blen;

	memcpy(e->signer, ldg_signer_vkey(k)->keyid, LDG_KEYID_BYTES);
	check(ldg_entry_encode(e, false, &body, &blen), "encode");
	msg = malloc(dlen + olen + blen);
	if (!msg)
		die("out of memory");
	memcpy(msg, "ledger/v1/entry", dlen);
	memcpy(msg + dlen, ORIGIN, olen);
	memcpy(msg + dlen + olen, body, blen);
	check(ldg_signer_sign(k, msg, dlen + olen + blen, e->sig), "sign");
	check(ldg_entry_encode(e, true, &out, len), "encode");
	free(msg);
	free(body);
	return out;
}

/* A bad vector that stands in for entry at of the good chain (3 unless
 * INDEX.txt says at=N). */
static void bad_at(const char *rel, const uint8_t *b, size_t n,
		   const char *stage, uint64_t at, const char *why)
{
	write_hex(rel, b, n);
	fprintf(index_f, "# %s\n", why);
	if (at == 3)
		fprintf(index_f, "bad  %-28s fails=%s\n\n", rel, stage);
	else
		fprintf(index_f, "bad  %-28s fails=%s at=%llu\n\n", rel, stage,
			(unsigned long long)at);
}

static void bad(const char *rel, const uint8_t *b, size_t n, const char *stage,
		const char *why)
{
	bad_at(rel, b, n, stage, 3, why);
}

/* The set entry (seq 3) every bad vector starts from. */
static struct ldg_entry *the_set(void)
{
	struct ldg_entry *e =
		draft(LDG_KIND_SET, "staging/api", "deploy 1.2.3", 3);

	check(ldg_entry_add_change(e, "image.tag", "1.2.3"), "change");
	check(ldg_entry_add_change(e, "replicas", "2"), "change");
	check(ldg_entry_add_meta(e, "ci.run", "1234"), "meta");
	return e;
}

/* the_set() as signed fields, for re-encoding one of them */
static void set_fields(struct fields *fs)
{
	struct ldg_entry *e = the_set();
	size_t len;
	uint8_t *buf = seal(e, ORIGIN, deployer, &len);

	fields_from_entry(e, fs);
	free(buf);
	ldg_entry_free(e);
}

static void bad_fields(const char *rel, struct fields *fs, const char *why)
{
	struct mp out;

	mp_init(&out);
	fields_seal(fs, ORIGIN, deployer, &out);
	/* guard: the vector really is refused by the decoder */
	{
		struct ldg_entry *e = NULL;
		if (ldg_entry_decode(out.p, out.n, &e, NULL) == 0)
			die(rel);
	}
	bad(rel, out.p, out.n, "decode", why);
	mp_free(&out);
	fields_free(fs);
}

/* e (version, kind, fields as the caller made them), standing in for
 * entry e->seq, sealed unchecked by the deployer: the decoder must
 * refuse it. */
static void bad_decode(const char *rel, struct ldg_entry *e, const char *why)
{
	struct ldg_entry *back = NULL;
	size_t len;
	uint8_t *buf = seal_unchecked(e, deployer, &len);

	if (ldg_entry_decode(buf, len, &back, NULL) == 0)
		die(rel);
	bad_at(rel, buf, len, "decode", e->seq, why);
	free(buf);
	ldg_entry_free(e);
}

static struct ldg_entry *gov_draft(enum ldg_kind kind, const char *target,
				   const char *reason, uint64_t seq)
{
	struct ldg_entry *e = draft(kind, target, reason, seq);

	e->version = LDG_FORMAT_V2;
	return e;
}

/* The drift check of staging/api that stands at seq 11: of version v,
 * with status (good: drifted). */
static struct ldg_entry *drift_draft(uint64_t v, const char *status)
{
	struct ldg_entry *e =
		draft(LDG_KIND_DRIFT, "staging/api", "checked staging", 11);

	e->version = v;
	check(ldg_entry_add_change(e, "status", status), "drift");
	return e;
}

/* The typed set of seq 12 (docs/format.md 3.2): prod/api, where no
 * policy governs, so it takes effect at once; version 2. ratio holds
 * the float 1.5, the bytes the bad typed vectors replace. */
static struct ldg_entry *the_typed_set(void)
{
	static const char *const kv[][2] = {
		{ "big", "1e300" },	      { "flags.off", "false" },
		{ "flags.on", "true" },	      { "image.tag", "\"1.2.6\"" },
		{ "list", "[1,\"a\",true]" }, { "nothing", "null" },
		{ "offset", "-7" },	      { "ratio", "1.5" },
		{ "replicas", "3" },
	};
	struct ldg_entry *e =
		draft(LDG_KIND_SET, "prod/api", "typed values", 12);

	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		check(ldg_entry_add_typed(e, kv[i][0], kv[i][1], NULL),
		      "typed");
	return e;
}

/* the_typed_set() with the bytes of 1.5 (cb 3f f8 00 ...) replaced by
 * raw, re-signed by the deployer (as every decode-stage vector), standing
 * in for entry 12: the decoder must refuse it. */
static void bad_typed(const char *rel, const char *raw, size_t n,
		      const char *why)
{
	static const uint8_t f15[9] = { 0xcb, 0x3f, 0xf8 };
	struct ldg_entry *e = the_typed_set(), *back = NULL;
	uint8_t *buf, *at, *out;
	size_t len, off;

	buf = seal_unchecked(e, deployer, &len);
	at = memmem(buf, len, f15, sizeof(f15));
	if (!at)
		die(rel);
	off = (size_t)(at - buf);
	out = malloc(len - sizeof(f15) + n);
	if (!out)
		die("out of memory");
	memcpy(out, buf, off);
	memcpy(out + off, raw, n);
	memcpy(out + off + n, at + sizeof(f15), len - off - sizeof(f15));
	len = len - sizeof(f15) + n;
	resign(out, len, deployer);
	if (ldg_entry_decode(out, len, &back, NULL) == 0)
		die(rel);
	bad_at(rel, out, len, "decode", 12, why);
	free(out);
	free(buf);
	ldg_entry_free(e);
}

static void key_line(const char *name, const struct ldg_signer *k,
		     const char *note)
{
	char vk[LDG_VKEY_TEXT_MAX];

	ldg_vkey_format(ldg_signer_vkey(k), vk);
	fprintf(index_f, "# %s\n", note);
	fprintf(index_f, "key %s %s\n\n", name, vk);
}

static void make_dir(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", outdir, rel);
	if (mkdir(path, 0755) && errno != EEXIST)
		die(path);
}

int main(int argc, char **argv)
{
	char vk[LDG_VKEY_TEXT_MAX], path[4096], *keydir, *hex;
	uint8_t seed[32], root[LDG_HASH_BYTES];
	struct ldg_entry *e;
	struct ldg_merkle tree;
	struct fields fs;
	struct mp m;
	uint8_t *buf;
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_vectors OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (ldg_crypto_init())
		die("sodium_init failed");
	keydir = tl_mkdtemp();
	seed_of(0x01, seed);
	admin = tl_signer_from_seed(keydir, "admin", seed);
	seed_of(0x21, seed);
	deployer = tl_signer_from_seed(keydir, "deployer", seed);
	seed_of(0x41, seed);
	outsider = tl_signer_from_seed(keydir, "outsider", seed);
	tl_rmrf(keydir);
	free(keydir);

	make_dir("good");
	make_dir("bad");
	snprintf(path, sizeof(path), "%s/INDEX.txt", outdir);
	index_f = fopen(path, "w");
	if (!index_f)
		die(path);
	fprintf(index_f,
		"# Ledger entry test vectors (docs/format.md, \"Test vectors\").\n"
		"# Written by tests/vectors/gen_vectors.c; do not edit by hand.\n"
		"#\n"
		"# Each .hex file holds ONE stored entry: the exact msgpack bytes as\n"
		"# lowercase hex on one line (decode with: xxd -r -p FILE).\n"
		"# Lines: 'origin ORIGIN', 'key NAME VERIFIER-KEY', 'tree-root SIZE HEX',\n"
		"# 'good FILE seq=N hash=HEX' (hash = SHA-256(0x00 || bytes)),\n"
		"# 'authz SEQ HEX' (the commitment to the authorisation state after\n"
		"# good entry SEQ: keyring and locks, docs/format.md 8.1, and from\n"
		"# seq 7 the governance, 8b; version 2 entries carry it), and\n"
		"# 'bad FILE fails=STAGE [at=N]'. A bad vector stands in for entry N\n"
		"# (default 3) of the good chain, after good entries 1..N-1; STAGE is\n"
		"# the first check it fails, in the order a verifier runs them:\n"
		"#   decode     the strict decoder refuses the bytes\n"
		"#   chain      seq or prev does not continue the good chain\n"
		"#   authorise  the signer may not write this entry at this point\n"
		"#   restore    a rollback whose changes do not make its target's\n"
		"#              values the state at its rollback-to\n"
		"#   signature  the Ed25519 signature does not verify for the origin\n"
		"#              below and the signer's key\n"
		"#   commitment a version 2 entry's authz is not the commitment of\n"
		"#              the keyring and locks after it\n"
		"# It passes every earlier check. Times: seq N was written at\n"
		"# 2026-01-01T00:00:00Z + (N-1) minutes.\n"
		"#\n"
		"# Checked by tests/unit/test_vectors.c (C, the library) and by\n"
		"# tests/vectors/verify_vectors.py (Python, written from\n"
		"# docs/format.md alone).\n\n");
	fprintf(index_f, "origin %s\n\n", ORIGIN);
	key_line("admin", admin,
		 "admin: Ed25519 seed 0x01 0x02 .. 0x20; recorded by init "
		 "(seq 1)");
	key_line("deployer", deployer,
		 "deployer: seed 0x21 .. 0x40; added at seq 2, role deployer, "
		 "scope staging/*");
	key_line("outsider", outsider,
		 "outsider: seed 0x41 .. 0x60; never added to the ledger");

	/* ---- the good chain ---- */
	e = draft(LDG_KIND_INIT, "", "initialise the ledger", 1);
	ldg_vkey_format(ldg_signer_vkey(admin), vk);
	check(ldg_entry_add_change(e, "origin", ORIGIN), "init");
	check(ldg_entry_add_change(e, "role", "admin"), "init");
	check(ldg_entry_add_change(e, "scopes", "*"), "init");
	check(ldg_entry_add_change(e, "vkey", vk), "init");
	good("good/genesis.hex", e, admin,
	     "seq 1, init: origin, the admin key with role admin and scope *; "
	     "signed by admin; prev is 32 zero bytes");
	ldg_entry_free(e);

	e = draft(LDG_KIND_KEY_ADD, "", "add the staging deployer", 2);
	ldg_vkey_format(ldg_signer_vkey(deployer), vk);
	check(ldg_entry_add_change(e, "role", "deployer"), "key-add");
	check(ldg_entry_add_change(e, "scopes", "staging/*"), "key-add");
	check(ldg_entry_add_change(e, "vkey", vk), "key-add");
	good("good/key-add.hex", e, admin,
	     "seq 2, key-add: deployer, role deployer, scope staging/*; "
	     "signed by admin");
	ldg_entry_free(e);

	e = the_set();
	good("good/set.hex", e, deployer,
	     "seq 3, set staging/api image.tag=1.2.3 replicas=2, metadata "
	     "ci.run=1234; signed by deployer (in scope)");
	ldg_entry_free(e);

	e = draft(LDG_KIND_ROLLBACK, "staging/api", "1.2.3 breaks login", 4);
	check(ldg_entry_add_change(e, "image.tag", NULL), "rollback");
	check(ldg_entry_add_change(e, "replicas", NULL), "rollback");
	check(ldg_entry_add_meta(e, "rollback-to", "2"), "rollback");
	good("good/rollback.hex", e, admin,
	     "seq 4, rollback staging/api to seq 2: both keys did not exist "
	     "then, so both are unset (one-element pairs); signed by admin");
	ldg_entry_free(e);

	e = draft(LDG_KIND_LOCK, "staging/api", "freeze after the rollback", 5);
	good_v("good/v2-lock.hex", e, admin, 2,
	       "seq 5, lock staging/api, version 2: authz commits to the two "
	       "keys and the lock of staging/api at seq 5; signed by admin");
	ldg_entry_free(e);

	e = draft(LDG_KIND_SET, "staging/api", "hotfix through the freeze", 6);
	check(ldg_entry_add_change(e, "image.tag", "1.2.4"), "change");
	check(ldg_entry_add_meta(e, "forced", "true"), "meta");
	good_v("good/v2-set.hex", e, deployer, 2,
	       "seq 6, set staging/api image.tag=1.2.4 forced=true (the "
	       "target is locked), version 2: authz as after seq 5 (a set "
	       "changes neither keys nor locks); signed by deployer");
	ldg_entry_free(e);

	/* promotion policies (docs/format.md 8b): version 2 only */
	e = gov_draft(LDG_KIND_POLICY, "staging/*", "four eyes on staging", 7);
	check(ldg_entry_add_change(e, "approvals", "1"), "policy");
	good_v("good/v2-policy.hex", e, admin, 2,
	       "seq 7, policy staging/* approvals=1, version 2: authz now "
	       "commits to five items, [KEYS, LOCKS, POLICIES, WINDOWS, "
	       "PENDING], POLICIES holding [\"staging/*\", 7, 1, 0, 0, \"\"]; "
	       "signed by admin (scope *)");
	ldg_entry_free(e);

	e = gov_draft(LDG_KIND_FREEZE, "staging/*", "holiday freeze", 8);
	check(ldg_entry_add_change(e, "from", "2026-12-24T00:00:00Z"),
	      "freeze");
	check(ldg_entry_add_change(e, "until", "2026-12-27T00:00:00Z"),
	      "freeze");
	good_v("good/v2-freeze.hex", e, admin, 2,
	       "seq 8, freeze staging/* from 2026-12-24T00:00:00Z until "
	       "2026-12-27T00:00:00Z, version 2: WINDOWS holds [8, "
	       "\"staging/*\", 1798070400, 1798329600, \"\", 0, \"\"]; "
	       "signed by admin");
	ldg_entry_free(e);

	e = draft(LDG_KIND_SET, "staging/api", "deploy 1.2.5", 9);
	check(ldg_entry_add_change(e, "image.tag", "1.2.5"), "change");
	check(ldg_entry_add_meta(e, "forced", "true"), "meta");
	good_v("good/v2-proposal.hex", e, deployer, 2,
	       "seq 9, set staging/api image.tag=1.2.5 forced=true, version "
	       "2: under the policy of seq 7 a proposal (the value stays "
	       "1.2.4); PENDING holds [9, \"staging/api\", the deployer's "
	       "key id, 1, 2 (forced), []]; outside the window of seq 8; "
	       "signed by deployer");
	ldg_entry_free(e);

	e = gov_draft(LDG_KIND_APPROVE, "staging/api", "reviewed", 10);
	check(ldg_entry_add_change(e, "proposal", "9"), "approve");
	good_v("good/v2-approve.hex", e, admin, 2,
	       "seq 10, approve staging/api proposal 9, version 2: the one "
	       "approval it needs, by a key that is not its author, so "
	       "image.tag=1.2.5 takes effect at seq 10; PENDING is empty "
	       "again; signed by admin");
	ldg_entry_free(e);

	/* drift (docs/format.md 4): version 2 only, the applier's */
	e = drift_draft(LDG_FORMAT_V2, LDG_DRIFTED);
	check(ldg_entry_add_meta(e, "checked-seq", "10"), "drift");
	check(ldg_entry_add_meta(e, "diff",
				 "staging, api, Deployment (apps) has changed: "
				 "| -  replicas: 2 | +  replicas: 5"),
	      "drift");
	good_v("good/v2-drift.hex", e, admin, 2,
	       "seq 11, drift staging/api status=drifted, metadata "
	       "checked-seq=10 and the diff's tail, version 2: a drift "
	       "changes no value, key or lock, so authz is that of 10; "
	       "signed by admin (role admin may write what an applier may)");
	ldg_entry_free(e);

	e = the_typed_set();
	good_v("good/v2-typed.hex", e, admin, 2,
	       "seq 12, set prod/api with typed values (docs/format.md "
	       "3.2), version 2: big=1e+300 (float 64), flags.off=false, "
	       "flags.on=true, image.tag=\"1.2.6\" (a string), "
	       "list=[1,\"a\",true], nothing=null, offset=-7 (negative "
	       "fixint f9), ratio=1.5 (float 64), replicas=3 (fixint); no "
	       "policy governs prod/api, so they take effect at once; signed "
	       "by admin");
	ldg_entry_free(e);

	ldg_merkle_init(&tree);
	for (int i = 1; i <= N_GOOD; i++)
		ldg_merkle_push(&tree, hashes[i]);
	ldg_merkle_root(&tree, root);
	hex = tl_hex(root, LDG_HASH_BYTES);
	fprintf(index_f,
		"# RFC 6962 Merkle tree head over the twelve good "
		"entries\ntree-root %d %s\n\n",
		N_GOOD, hex);
	free(hex);

	/* ---- bad: the kinds of promotion policies ---- */
	e = draft(LDG_KIND_POLICY, "staging/*", "four eyes on staging", 7);
	check(ldg_entry_add_change(e, "approvals", "1"), "policy");
	bad_decode("bad/policy-version-1.hex", e,
		   "stands in for entry 7: good/v2-policy.hex as version 1 "
		   "(11 fields, no authz): the new kinds exist in version 2 "
		   "only; signed");

	e = gov_draft(LDG_KIND_POLICY, "staging/*", "four eyes on staging", 7);
	check(ldg_entry_add_change(e, "approvals", "17"), "policy");
	bad_decode("bad/policy-approvals-17.hex", e,
		   "stands in for entry 7: a policy with approvals=17 (1 to 16 "
		   "are allowed); signed");

	e = gov_draft(LDG_KIND_FREEZE, "staging/*", "holiday freeze", 8);
	check(ldg_entry_add_change(e, "from", "2026-12-27T00:00:00Z"),
	      "freeze");
	check(ldg_entry_add_change(e, "until", "2026-12-24T00:00:00Z"),
	      "freeze");
	bad_decode("bad/freeze-until-before-from.hex", e,
		   "stands in for entry 8: a freeze whose until "
		   "(2026-12-24T00:00:00Z) is before its from "
		   "(2026-12-27T00:00:00Z); signed");

	e = gov_draft(LDG_KIND_FREEZE, "staging/*", "holiday freeze", 8);
	check(ldg_entry_add_change(e, "from", "2026-12-24T00:00:00Z"),
	      "freeze");
	check(ldg_entry_add_change(e, "note", "christmas"), "freeze");
	check(ldg_entry_add_change(e, "until", "2026-12-27T00:00:00Z"),
	      "freeze");
	bad_decode("bad/freeze-unknown-field.hex", e,
		   "stands in for entry 8: good/v2-freeze.hex with one more "
		   "field, note=christmas (a freeze carries exactly from, "
		   "until or cron, duration, tz); signed");

	e = gov_draft(LDG_KIND_APPROVE, "staging/api", "reviewed", 10);
	check(ldg_entry_add_change(e, "proposal", "9"), "approve");
	buf = seal(e, ORIGIN, deployer, &len);
	bad_at("bad/approve-by-author.hex", buf, len, "authorise", 10,
	       "stands in for entry 10: good/v2-approve.hex signed by "
	       "deployer, who wrote proposal 9: an author may not approve "
	       "its own proposal, so image.tag=1.2.5 would take effect "
	       "without its approval; well-formed, signed, authz left zero");
	free(buf);
	ldg_entry_free(e);

	e = gov_draft(LDG_KIND_APPROVE, "staging/api", "reviewed", 10);
	check(ldg_entry_add_change(e, "proposal", "9"), "approve");
	check(ldg_entry_add_change(e, "proposal-2", "8"), "approve");
	bad_decode("bad/approve-two-proposals.hex", e,
		   "stands in for entry 10: an approve of two proposals, "
		   "proposal=9 and proposal-2=8 (an approve carries exactly "
		   "the field proposal); signed");

	/* ---- bad: drift ---- */
	bad_decode("bad/drift-bad-status.hex",
		   drift_draft(LDG_FORMAT_V2, "broken"),
		   "stands in for entry 11: a drift with status=broken "
		   "(drifted or in-sync); signed");

	bad_decode("bad/drift-in-v1.hex",
		   drift_draft(LDG_FORMAT_V1, LDG_DRIFTED),
		   "stands in for entry 11: good/v2-drift.hex as version 1 "
		   "(11 fields, no authz): drift exists in version 2 only; "
		   "signed");

	e = drift_draft(LDG_FORMAT_V2, LDG_DRIFTED);
	buf = seal(e, ORIGIN, deployer, &len);
	bad_at("bad/drift-by-deployer.hex", buf, len, "authorise", 11,
	       "stands in for entry 11: a drift of staging/api signed by "
	       "deployer (role deployer, scope staging/*): only an applier "
	       "or an admin may write one; well-formed, signed, authz left "
	       "zero");
	free(buf);
	ldg_entry_free(e);

	/* ---- bad: typed values (docs/format.md 3.2) ---- */
	e = the_typed_set();
	e->version = LDG_FORMAT_V1;
	bad_decode("bad/typed-in-v1.hex", e,
		   "stands in for entry 12: good/v2-typed.hex as version 1 "
		   "(11 fields, no authz): typed values exist in version 2 "
		   "only; signed");

	e = the_typed_set();
	check(ldg_entry_add_meta(e, "ci.run", "1234"), "meta");
	e->meta[0].type = LDG_V_JSON; /* the integer 1234 */
	bad_decode("bad/typed-in-meta.hex", e,
		   "stands in for entry 12: good/v2-typed.hex with metadata "
		   "ci.run=1234 as an integer (cd 04 d2): metadata values are "
		   "strings; signed");

	e = gov_draft(LDG_KIND_POLICY, "staging/*", "four eyes on staging", 7);
	check(ldg_entry_add_value(e, "approvals", LDG_V_JSON, "1"), "policy");
	bad_decode("bad/typed-in-policy.hex", e,
		   "stands in for entry 7: good/v2-policy.hex with approvals "
		   "as the integer 1 (01) instead of the string \"1\": "
		   "only set, rollback, applied and apply-failed changes hold "
		   "typed values; signed");

	bad_typed("bad/typed-float32.hex", "\xca\x3f\xc0\x00\x00", 5,
		  "stands in for entry 12: ratio=1.5 as float 32 (ca 3f c0 00 "
		  "00): only float 64 is a value; re-signed");
	bad_typed("bad/typed-nan.hex", "\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",
		  9,
		  "stands in for entry 12: ratio=NaN (cb 7f f8 00 ...): "
		  "floats are finite; re-signed");
	bad_typed("bad/typed-integral-float.hex",
		  "\xcb\x40\x08\x00\x00\x00\x00\x00\x00", 9,
		  "stands in for entry 12: ratio=3.0 as float 64 (cb 40 08 00 "
		  "...): an integer in int64 range is stored as an integer "
		  "(03); re-signed");
	bad_typed("bad/typed-signed-positive.hex", "\xd0\x05", 2,
		  "stands in for entry 12: ratio=5 as int 8 (d0 05): a value "
		  ">= 0 uses the unsigned forms (05); re-signed");
	bad_typed("bad/typed-long-int.hex", "\xd1\xff\xfb", 3,
		  "stands in for entry 12: ratio=-5 as int 16 (d1 ff fb): the "
		  "shortest form is the negative fixint fb; re-signed");
	bad_typed("bad/typed-nested-array.hex", "\x91\x91\x01", 3,
		  "stands in for entry 12: ratio=[[1]] (91 91 01): an array "
		  "holds scalars and strings, no arrays; re-signed");
	bad_typed("bad/typed-map.hex", "\x81\xa1\x61\x01", 4,
		  "stands in for entry 12: ratio={\"a\": 1} (81 a1 61 01): maps "
		  "are not values; re-signed");

	/* ---- bad: version 2 stand-ins for entry 3 ---- */
	e = the_set();
	check(ldg_authz_stamp(&after1, e, NULL), "stamp");
	buf = seal(e, ORIGIN, deployer, &len);
	bad("bad/v2-stale-authz.hex", buf, len, "commitment",
	    "the set as version 2, its authz the commitment of the state "
	    "after entry 1 (without the deployer's key) instead of after "
	    "entry 3; correctly signed");
	free(buf);
	ldg_entry_free(e);

	e = the_set();
	check(ldg_authz_stamp(&after2, e, NULL), "stamp");
	buf = seal(e, ORIGIN, deployer, &len);
	resign_as(buf, len, 1, deployer);
	bad("bad/version-1-12-fields.hex", buf, len, "decode",
	    "the set as version 2 with the right authz, but field 0 says "
	    "version 1 (which has 11 fields); re-signed");
	free(buf);
	ldg_entry_free(e);

	/* ---- bad: bytes changed after signing ---- */
	e = the_set();
	buf = seal(e, ORIGIN, deployer, &len);
	buf[len - 32] ^= 0x01;
	bad("bad/sig-flipped.hex", buf, len, "signature",
	    "good/set.hex with one bit of the signature flipped (byte "
	    "len-32)");
	buf[len - 32] ^= 0x01;
	{
		uint8_t *v = memmem(buf, len,
				    "\xa5"
				    "1.2.3",
				    6);
		if (!v)
			die("value not found");
		v[5] ^= 0x01; /* "1.2.3" -> "1.2.2": still valid text */
	}
	bad("bad/value-flipped.hex", buf, len, "signature",
	    "good/set.hex with one bit of the value flipped: image.tag reads "
	    "1.2.2, still well-formed, signature no longer matches");
	free(buf);
	buf = seal(e, ORIGIN, deployer, &len);
	{
		uint8_t *more = malloc(len + 1);
		memcpy(more, buf, len);
		more[len] = 0x00;
		bad("bad/trailing-byte.hex", more, len + 1, "decode",
		    "good/set.hex followed by one 0x00 byte");
		free(more);
	}
	bad("bad/truncated.hex", buf, len - 10, "decode",
	    "good/set.hex without its last 10 bytes");
	free(buf);

	/* signed for another ledger */
	buf = seal(e, OTHER_ORIGIN, deployer, &len);
	bad("bad/wrong-origin.hex", buf, len, "signature",
	    "the set, well-formed and chained, but signed for origin "
	    "\"" OTHER_ORIGIN "\": replayed from another ledger");
	free(buf);
	ldg_entry_free(e);

	/* ---- bad: well-formed and signed, but not in this chain ---- */
	e = the_set();
	memcpy(e->prev, hashes[1], LDG_HASH_BYTES);
	buf = seal(e, ORIGIN, deployer, &len);
	bad("bad/wrong-prev.hex", buf, len, "chain",
	    "the set with prev = hash of entry 1 instead of entry 2; "
	    "correctly signed");
	free(buf);
	ldg_entry_free(e);

	e = the_set();
	buf = seal(e, ORIGIN, outsider, &len);
	bad("bad/unknown-signer.hex", buf, len, "authorise",
	    "the set signed by outsider, whose key was never added: signer "
	    "key id not in the keyring");
	free(buf);
	ldg_entry_free(e);

	e = the_set();
	free(e->target);
	e->target = strdup("prod/api");
	buf = seal(e, ORIGIN, deployer, &len);
	bad("bad/out-of-scope.hex", buf, len, "authorise",
	    "a set of prod/api signed by deployer, whose scope is staging/*");
	free(buf);
	ldg_entry_free(e);

	/* ---- bad: a rollback that restores a value nobody signed ---- */
	e = draft(LDG_KIND_ROLLBACK, "staging/api", "1.2.3 breaks login", 4);
	check(ldg_entry_add_change(e, "image.tag", "0.0.1-evil"), "rollback");
	check(ldg_entry_add_change(e, "replicas", NULL), "rollback");
	check(ldg_entry_add_meta(e, "rollback-to", "2"), "rollback");
	buf = seal(e, ORIGIN, admin, &len);
	bad_at("bad/rollback-not-restoring.hex", buf, len, "restore", 4,
	       "stands in for entry 4: good/rollback.hex with image.tag set "
	       "to 0.0.1-evil instead of unset; signed by admin, chained to "
	       "entry 3, but staging/api had no image.tag at seq 2 "
	       "(section 8a)");
	free(buf);
	ldg_entry_free(e);

	/* ---- bad: non-canonical or foreign encodings, re-signed ---- */
	mp_init(&m);
	set_fields(&fs);
	mp_uint_as(&m, 0xcd, 3);
	fields_put(&fs, 1, &m);
	bad_fields("bad/uint16-seq.hex", &fs,
		   "seq 3 encoded as uint16 (cd 00 03) instead of the fixint "
		   "03; re-signed over these bytes");

	set_fields(&fs);
	mp_reset(&m);
	mp_str_as(&m, 0xda, "set");
	fields_put(&fs, 5, &m);
	bad_fields("bad/str16-short.hex", &fs,
		   "kind \"set\" encoded as str16 (da 00 03) instead of fixstr "
		   "(a3); re-signed");

	set_fields(&fs);
	mp_reset(&m);
	{
		const char *const kv[] = { "replicas", "2", "image.tag",
					   "1.2.3" };
		mp_kvs(&m, kv, 2);
	}
	fields_put(&fs, 7, &m);
	bad_fields("bad/unsorted-changes.hex", &fs,
		   "changes listed as replicas, image.tag (not sorted by key); "
		   "re-signed");

	set_fields(&fs);
	mp_reset(&m);
	{
		const char *const kv[] = { "image.tag", "1.2.3", "image.tag",
					   "1.2.4" };
		mp_kvs(&m, kv, 2);
	}
	fields_put(&fs, 7, &m);
	bad_fields("bad/duplicate-keys.hex", &fs,
		   "image.tag listed twice in changes; re-signed");

	set_fields(&fs);
	mp_reset(&m);
	mp_uint(&m, 2);
	fields_put(&fs, 0, &m);
	bad_fields("bad/version-2.hex", &fs,
		   "format version 2 with the 11 fields of version 1 (no "
		   "authz); otherwise the set, re-signed");

	set_fields(&fs);
	mp_reset(&m);
	mp_byte(&m, 0xc0);
	fields_put(&fs, 6, &m);
	bad_fields("bad/nil-target.hex", &fs,
		   "target encoded as nil (c0); nil is not in the profile; "
		   "re-signed");

	set_fields(&fs);
	mp_reset(&m);
	mp_byte(&m, 0x81);
	mp_str(&m, "ci.run");
	mp_str(&m, "1234");
	fields_put(&fs, 9, &m);
	bad_fields("bad/map-metadata.hex", &fs,
		   "metadata as a map {\"ci.run\": \"1234\"} instead of a list "
		   "of pairs; re-signed");

	set_fields(&fs);
	mp_reset(&m);
	{
		double t = (double)(T0 + 2 * MINUTE);
		uint64_t bits;
		memcpy(&bits, &t, 8);
		mp_byte(&m, 0xcb);
		for (int i = 7; i >= 0; i--)
			mp_byte(&m, (uint8_t)(bits >> (8 * i)));
	}
	fields_put(&fs, 3, &m);
	bad_fields("bad/float-time.hex", &fs,
		   "time as float64 (cb ...) instead of uint64; re-signed");

	set_fields(&fs);
	mp_reset(&m);
	mp_raw(&m, "\xc5\x00\x20", 3);
	mp_raw(&m, hashes[2], LDG_HASH_BYTES);
	fields_put(&fs, 2, &m);
	bad_fields("bad/bin16-prev.hex", &fs,
		   "prev as bin16 (c5 00 20) instead of bin8 (c4 20); "
		   "re-signed");

	set_fields(&fs);
	mp_reset(&fs.f[2]);
	mp_strn(&fs.f[2], (const char *)hashes[2], LDG_HASH_BYTES);
	bad_fields("bad/str-prev.hex", &fs,
		   "prev as a 32-byte str (d9 20) instead of bin; re-signed");
	mp_free(&m);

	if (fclose(index_f))
		die("INDEX.txt");
	ldg_authz_free(&chain);
	ldg_authz_free(&after1);
	ldg_authz_free(&after2);
	ldg_signer_free(admin);
	ldg_signer_free(deployer);
	ldg_signer_free(outsider);
	return 0;
}
