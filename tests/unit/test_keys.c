/*
 * Unit tests for ledger/keys.c: key generation, the signed-note key file
 * formats, file permissions and key ids. Interoperability is pinned to
 * the reference key pair of Go's golang.org/x/mod/sumdb/note tests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys.h"
#include "testlib.h"

/* golang.org/x/mod/sumdb/note, note_test.go and the package example */
#define GO_VKEY                                                                \
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_SKEY                                                                \
	"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_TEXT                                                                \
	"If you think cryptography is the answer to your problem,\n"           \
	"then you don't know what your problem is.\n"
#define GO_SIG                                                                 \
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf" \
	"qdngotpRZb6KE6RyyBwJnAM="

static int group_setup(void **state)
{
	return ldg_crypto_init() ? -1 : 0;
}

static int dir_setup(void **state)
{
	*state = tl_mkdtemp();
	return 0;
}

static int dir_teardown(void **state)
{
	tl_rmrf(*state);
	free(*state);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(4096);

	assert_non_null(p);
	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

static void write_text(const char *path, const char *text, int mode)
{
	unlink(path);
	assert_int_equal(tl_write_file(path, text, strlen(text), mode), 0);
}

static void assert_vkey_equal(const struct ldg_vkey *a,
			      const struct ldg_vkey *b)
{
	assert_string_equal(a->name, b->name);
	assert_memory_equal(a->keyid, b->keyid, LDG_KEYID_BYTES);
	assert_memory_equal(a->pk, b->pk, LDG_PK_BYTES);
}

/* ---- generate, write, load ---- */

static void test_generate_write_load_round_trip(void **state)
{
	const char *dir = *state;
	struct ldg_signer *gen = NULL, *loaded = NULL;
	struct ldg_vkey pub;
	struct ldg_err err = { 0 };
	char *key = path_in(dir, "alice.key");
	char *pubp = path_in(dir, "alice.pub");
	uint8_t sig[LDG_SIG_BYTES];
	struct stat st;

	assert_int_equal(ldg_signer_generate("alice", &gen, &err), 0);
	assert_string_equal(ldg_signer_vkey(gen)->name, "alice");
	assert_int_equal(ldg_signer_write(gen, dir, &err), 0);

	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pubp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	assert_int_equal(ldg_signer_load(key, &loaded, &err), 0);
	assert_vkey_equal(ldg_signer_vkey(loaded), ldg_signer_vkey(gen));
	assert_int_equal(ldg_vkey_load(pubp, &pub, &err), 0);
	assert_vkey_equal(&pub, ldg_signer_vkey(gen));

	/* the loaded secret is the generated one: its signature verifies
	 * with the generated public key */
	assert_int_equal(ldg_signer_sign(loaded, (const uint8_t *)"msg", 3,
					 sig),
			 0);
	assert_int_equal(ldg_sig_verify(ldg_signer_vkey(gen)->pk,
					(const uint8_t *)"msg", 3, sig),
			 0);
	assert_int_equal(ldg_sig_verify(ldg_signer_vkey(gen)->pk,
					(const uint8_t *)"msG", 3, sig),
			 -EBADMSG);
	ldg_signer_free(loaded);
	ldg_signer_free(gen);
	free(key);
	free(pubp);
}

static void test_key_files_are_one_line_in_note_format(void **state)
{
	const char *dir = *state;
	struct ldg_signer *gen = NULL;
	char *key = path_in(dir, "bob.key"), *pubp = path_in(dir, "bob.pub");
	char vk[LDG_VKEY_TEXT_MAX], *text, *idhex;
	size_t len;

	assert_int_equal(ldg_signer_generate("bob", &gen, NULL), 0);
	assert_int_equal(ldg_signer_write(gen, dir, NULL), 0);
	idhex = tl_hex(ldg_signer_vkey(gen)->keyid, 4);

	text = tl_read_file(pubp, &len);
	ldg_vkey_format(ldg_signer_vkey(gen), vk);
	assert_int_equal(len, strlen(vk) + 1);
	assert_int_equal(text[len - 1], '\n');
	assert_memory_equal(text, vk, strlen(vk));
	assert_int_equal(strncmp(text, "bob+", 4), 0);
	assert_memory_equal(text + 4, idhex, 8);
	assert_int_equal(text[12], '+');
	assert_int_equal(strlen(text + 13), 44 + 1); /* base64(33) + \n */
	assert_int_equal(text[13], 'A'); /* 0x01 algorithm byte: "AQ"/"AR"... */
	free(text);

	text = tl_read_file(key, &len);
	assert_int_equal(strncmp(text, "PRIVATE+KEY+bob+", 16), 0);
	assert_memory_equal(text + 16, idhex, 8);
	assert_int_equal(text[24], '+');
	assert_int_equal(strlen(text + 25), 44 + 1);
	assert_int_equal(text[len - 1], '\n');
	free(text);
	free(idhex);
	ldg_signer_free(gen);
	free(key);
	free(pubp);
}

static void test_write_never_overwrites_a_key(void **state)
{
	const char *dir = *state;
	struct ldg_signer *a = NULL, *b = NULL, *loaded = NULL;
	struct ldg_err err = { 0 };
	char *key = path_in(dir, "carol.key");

	assert_int_equal(ldg_signer_generate("carol", &a, NULL), 0);
	assert_int_equal(ldg_signer_generate("carol", &b, NULL), 0);
	assert_int_equal(ldg_signer_write(a, dir, NULL), 0);
	assert_int_equal(ldg_signer_write(b, dir, &err), -EEXIST);
	assert_int_equal(ldg_signer_load(key, &loaded, NULL), 0);
	assert_memory_equal(ldg_signer_vkey(loaded)->pk, ldg_signer_vkey(a)->pk,
			    LDG_PK_BYTES);
	ldg_signer_free(loaded);
	ldg_signer_free(a);
	ldg_signer_free(b);
	free(key);
}

static void test_generate_refuses_bad_names(void **state)
{
	struct ldg_signer *s = NULL;

	assert_int_equal(ldg_signer_generate("a+b", &s, NULL), -EINVAL);
	assert_int_equal(ldg_signer_generate("", &s, NULL), -EINVAL);
	assert_int_equal(ldg_signer_generate("a b", &s, NULL), -EINVAL);
	assert_null(s);
}

static void test_generated_keys_differ(void **state)
{
	struct ldg_signer *a = NULL, *b = NULL;

	assert_int_equal(ldg_signer_generate("same", &a, NULL), 0);
	assert_int_equal(ldg_signer_generate("same", &b, NULL), 0);
	assert_memory_not_equal(ldg_signer_vkey(a)->pk, ldg_signer_vkey(b)->pk,
				LDG_PK_BYTES);
	ldg_signer_free(a);
	ldg_signer_free(b);
}

/* ---- permissions ---- */

static void
test_private_key_readable_by_group_or_others_is_refused(void **state)
{
	static const int modes[] = { 0640, 0604, 0644, 0660,
				     0606, 0610, 0601, 0700 | 0040 };
	const char *dir = *state;
	struct ldg_signer *gen = NULL, *s = NULL;
	char *key = path_in(dir, "dave.key");

	assert_int_equal(ldg_signer_generate("dave", &gen, NULL), 0);
	assert_int_equal(ldg_signer_write(gen, dir, NULL), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct ldg_err err = { 0 };
		assert_int_equal(chmod(key, (mode_t)modes[i]), 0);
		assert_int_equal(ldg_signer_load(key, &s, &err), -EACCES);
		assert_int_equal(err.code, -EACCES);
		assert_non_null(strstr(err.msg, "chmod 600"));
		assert_null(s);
	}
	/* owner-only modes are fine */
	assert_int_equal(chmod(key, 0400), 0);
	assert_int_equal(ldg_signer_load(key, &s, NULL), 0);
	ldg_signer_free(s);
	s = NULL;
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(ldg_signer_load(key, &s, NULL), 0);
	ldg_signer_free(s);
	ldg_signer_free(gen);
	free(key);
}

static void test_public_key_file_may_be_world_readable(void **state)
{
	const char *dir = *state;
	struct ldg_vkey vk;
	char *pubp = path_in(dir, "go.pub");

	write_text(pubp, GO_VKEY "\n", 0644);
	assert_int_equal(ldg_vkey_load(pubp, &vk, NULL), 0);
	free(pubp);
}

static void test_load_refuses_missing_and_non_regular_files(void **state)
{
	const char *dir = *state;
	struct ldg_signer *s = NULL;
	char *missing = path_in(dir, "nope.key");

	assert_int_equal(ldg_signer_load(missing, &s, NULL), -ENOENT);
	assert_int_equal(ldg_signer_load(dir, &s, NULL), -EINVAL);
	assert_null(s);
	free(missing);
}

/* ---- file contents ---- */

static void test_load_refuses_bad_key_id(void **state)
{
	const char *dir = *state;
	struct ldg_signer *s = NULL;
	struct ldg_err err = { 0 };
	char *key = path_in(dir, "go.key");
	char text[256];

	/* the Go key with its id's last digit changed */
	snprintf(text, sizeof(text), "%s\n", GO_SKEY);
	text[strlen("PRIVATE+KEY+PeterNeumann+c74f20a")] = '4';
	write_text(key, text, 0600);
	assert_int_equal(ldg_signer_load(key, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "key id"));
	/* a key id that is not hex, or not 8 digits */
	write_text(key,
		   "PRIVATE+KEY+PeterNeumann+c74f20ag+"
		   "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
		   0600);
	assert_int_equal(ldg_signer_load(key, &s, NULL), -EINVAL);
	write_text(key,
		   "PRIVATE+KEY+PeterNeumann+c74f20a+"
		   "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
		   0600);
	assert_int_equal(ldg_signer_load(key, &s, NULL), -EINVAL);
	/* the right id under another name is the wrong id */
	write_text(key,
		   "PRIVATE+KEY+PeterNeumanN+c74f20a3+"
		   "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
		   0600);
	assert_int_equal(ldg_signer_load(key, &s, NULL), -EINVAL);
	assert_null(s);
	free(key);
}

static void test_load_refuses_malformed_private_keys(void **state)
{
	static const char *const bad[] = {
		/* a public key is not a private key */
		GO_VKEY "\n",
		/* no PRIVATE+KEY+ prefix variant */
		"PRIVATE+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
		/* base64 one character short, and one too long */
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF\n",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFzA\n",
		/* two lines */
		GO_SKEY "\n" GO_SKEY "\n",
		/* empty */
		"",
	};
	const char *dir = *state;
	char *key = path_in(dir, "bad.key");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldg_signer *s = NULL;
		write_text(key, bad[i], 0600);
		assert_int_equal(ldg_signer_load(key, &s, NULL), -EINVAL);
		assert_null(s);
	}
	free(key);
}

/* A key file is one line with at most a single \n (format.md section 7):
 * CRLF, white space after the key and trailing blank lines are refused,
 * each with its own reason, for private and public keys alike. */
static void test_load_refuses_crlf_space_and_trailing_blank_lines(void **state)
{
	static const struct {
		const char *tail, *why;
	} bad[] = {
		{ "\r\n", "CRLF" },
		{ "\r", "CRLF" },
		{ " \n", "white space after the key" },
		{ "\t", "white space after the key" },
		{ "\n\n", "more after the key's line" },
		{ "\n  \n", "more after the key's line" },
		{ "\r\n\n  \n", "CRLF" },
	};
	const char *dir = *state;
	char *key = path_in(dir, "crlf.key");
	char *pub = path_in(dir, "crlf.pub");
	char text[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldg_signer *s = NULL;
		struct ldg_err err = { 0 };
		struct ldg_vkey vk;
		snprintf(text, sizeof(text), "%s%s", GO_SKEY, bad[i].tail);
		write_text(key, text, 0600);
		assert_int_equal(ldg_signer_load(key, &s, &err), -EINVAL);
		assert_null(s);
		assert_non_null(strstr(err.msg, bad[i].why));
		snprintf(text, sizeof(text), "%s%s", GO_VKEY, bad[i].tail);
		write_text(pub, text, 0644);
		assert_int_equal(ldg_vkey_load(pub, &vk, &err), -EINVAL);
		assert_non_null(strstr(err.msg, bad[i].why));
	}
	/* one line, with or without its \n, loads */
	for (int nl = 0; nl < 2; nl++) {
		struct ldg_signer *s = NULL;
		snprintf(text, sizeof(text), "%s%s", GO_SKEY, nl ? "\n" : "");
		write_text(key, text, 0600);
		assert_int_equal(ldg_signer_load(key, &s, NULL), 0);
		assert_string_equal(ldg_signer_vkey(s)->name, "PeterNeumann");
		ldg_signer_free(s);
	}
	free(pub);
	free(key);
}

/* A FIFO, a directory or a device is refused before a read could block
 * (the open itself would wait for a writer on a FIFO). */
static void test_load_refuses_fifo_and_other_non_files(void **state)
{
	const char *dir = *state;
	char *fifo = path_in(dir, "pipe.key");
	struct ldg_signer *s = NULL;
	struct ldg_err err = { 0 };
	struct ldg_vkey vk;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(ldg_signer_load(fifo, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is a FIFO, not a regular file"));
	assert_int_equal(ldg_vkey_load(fifo, &vk, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is a FIFO"));
	assert_int_equal(ldg_vkey_load(dir, &vk, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is a directory"));
	assert_int_equal(ldg_vkey_load("/dev/null", &vk, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is a character device"));
	assert_null(s);
	unlink(fifo);
	free(fifo);
}

static void test_load_refuses_unknown_algorithm(void **state)
{
	const char *dir = *state;
	uint8_t raw[33], pk[32], sk[64], seed[32] = { 0 }, id[4];
	char b64[64], text[256], *idhex;
	char *key = path_in(dir, "alg.key");
	struct ldg_signer *s = NULL;
	struct ldg_err err = { 0 };

	crypto_sign_seed_keypair(pk, sk, seed);
	ldg_keyid("alg", pk, id);
	idhex = tl_hex(id, 4);
	raw[0] = 0x02;
	memcpy(raw + 1, seed, 32);
	sodium_bin2base64(b64, sizeof(b64), raw, 33,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof(text), "PRIVATE+KEY+alg+%s+%s\n", idhex, b64);
	write_text(key, text, 0600);
	assert_int_equal(ldg_signer_load(key, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "algorithm"));
	free(idhex);
	free(key);
}

static void test_seed_key_file_written_by_hand_loads(void **state)
{
	const char *dir = *state;
	uint8_t seed[32], pk[32], sk[64];
	struct ldg_signer *s;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	crypto_sign_seed_keypair(pk, sk, seed);
	s = tl_signer_from_seed(dir, "vectors", seed);
	assert_memory_equal(ldg_signer_vkey(s)->pk, pk, 32);
	ldg_signer_free(s);
}

/* ---- verifier keys ---- */

static void test_vkey_parse_of_file_text(void **state)
{
	struct ldg_vkey vk;
	char out[LDG_VKEY_TEXT_MAX];
	static const uint8_t want_id[4] = { 0xc7, 0x4f, 0x20, 0xa3 };

	assert_int_equal(ldg_vkey_parse(GO_VKEY, &vk, NULL), 0);
	assert_string_equal(vk.name, "PeterNeumann");
	assert_memory_equal(vk.keyid, want_id, 4);
	/* with the file's newline */
	assert_int_equal(ldg_vkey_parse(GO_VKEY "\n", &vk, NULL), 0);
	/* and formats back to the same text */
	ldg_vkey_format(&vk, out);
	assert_string_equal(out, GO_VKEY);
}

static void test_vkey_parse_rejects_manglings(void **state)
{
	static const char *const bad[] = {
		"",
		"PeterNeumann",
		"PeterNeumann+c74f20a3",
		"PeterNeumann+c74f20a3+",
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+C74F20A3x+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n\n",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\r\n",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW x",
		/* algorithm byte 0x02 */
		"PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		GO_SKEY,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldg_vkey vk;
		assert_int_equal(ldg_vkey_parse(bad[i], &vk, NULL), -EINVAL);
	}
}

static void test_vkey_load_takes_a_file_or_the_text(void **state)
{
	const char *dir = *state;
	struct ldg_vkey a, b;
	char *pubp = path_in(dir, "peter.pub");

	write_text(pubp, GO_VKEY "\n", 0644);
	assert_int_equal(ldg_vkey_load(pubp, &a, NULL), 0);
	assert_int_equal(ldg_vkey_load(GO_VKEY, &b, NULL), 0);
	assert_vkey_equal(&a, &b);
	write_text(pubp, "garbage\n", 0644);
	assert_int_equal(ldg_vkey_load(pubp, &a, NULL), -EINVAL);
	/* a path that does not exist is still reported as missing */
	assert_int_equal(ldg_vkey_load("/nonexistent/a+b.pub", &a, NULL),
			 -ENOENT);
	/* key text with an upper-case key id (its base64 has a '/') is
	 * answered as a key, not as a missing file */
	{
		struct ldg_err err = { 0 };
		assert_int_equal(ldg_vkey_load("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxb"
					       "zhKqiBfsVkmqq/LDE4izWy10TW",
					       &a, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "lower-case hex"));
	}
	free(pubp);
}

static void test_keyid_matches_the_spec_formula(void **state)
{
	uint8_t pk[32], sk[64], seed[32], h[32], id[4];
	uint8_t buf[64 + 2 + 32];
	static const char *const names[] = { "a", "alice", "ci.bot_1-x",
					     "PeterNeumann" };

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x40 + i);
	crypto_sign_seed_keypair(pk, sk, seed);
	for (size_t n = 0; n < 4; n++) {
		size_t nl = strlen(names[n]);
		/* SHA-256(NAME || 0x0A || 0x01 || pk32)[:4] */
		memcpy(buf, names[n], nl);
		buf[nl] = 0x0a;
		buf[nl + 1] = 0x01;
		memcpy(buf + nl + 2, pk, 32);
		crypto_hash_sha256(h, buf, nl + 2 + 32);
		ldg_keyid(names[n], pk, id);
		assert_memory_equal(id, h, 4);
	}
}

/* ---- interoperability with Go's sumdb/note ---- */

static void test_go_reference_key_pair_loads_and_matches(void **state)
{
	const char *dir = *state;
	char *key = path_in(dir, "peter.key");
	struct ldg_signer *s = NULL;
	struct ldg_vkey vk;
	char out[LDG_VKEY_TEXT_MAX];

	write_text(key, GO_SKEY "\n", 0600);
	assert_int_equal(ldg_signer_load(key, &s, NULL), 0);
	assert_int_equal(ldg_vkey_parse(GO_VKEY, &vk, NULL), 0);
	assert_vkey_equal(ldg_signer_vkey(s), &vk);
	ldg_vkey_format(ldg_signer_vkey(s), out);
	assert_string_equal(out, GO_VKEY);
	/* also without a trailing newline */
	write_text(key, GO_SKEY, 0600);
	ldg_signer_free(s);
	s = NULL;
	assert_int_equal(ldg_signer_load(key, &s, NULL), 0);
	ldg_signer_free(s);
	free(key);
}

static void test_go_reference_signature_is_reproduced(void **state)
{
	const char *dir = *state;
	char *key = path_in(dir, "peter.key");
	struct ldg_signer *s = NULL;
	uint8_t blob[4 + 64], want[4 + 64];
	size_t wlen = 0;

	write_text(key, GO_SKEY "\n", 0600);
	assert_int_equal(ldg_signer_load(key, &s, NULL), 0);
	/* a note signature is keyid4 || Ed25519(text); Ed25519 is
	 * deterministic, so the bytes are exactly Go's */
	memcpy(blob, ldg_signer_vkey(s)->keyid, 4);
	assert_int_equal(ldg_signer_sign(s, (const uint8_t *)GO_TEXT,
					 strlen(GO_TEXT), blob + 4),
			 0);
	assert_int_equal(sodium_base642bin(want, sizeof(want), GO_SIG,
					   strlen(GO_SIG), NULL, &wlen, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(wlen, sizeof(want));
	assert_memory_equal(blob, want, sizeof(want));
	assert_int_equal(ldg_sig_verify(ldg_signer_vkey(s)->pk,
					(const uint8_t *)GO_TEXT,
					strlen(GO_TEXT), want + 4),
			 0);
	ldg_signer_free(s);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
		T(test_generate_write_load_round_trip),
		T(test_key_files_are_one_line_in_note_format),
		T(test_write_never_overwrites_a_key),
		T(test_generate_refuses_bad_names),
		T(test_generated_keys_differ),
		T(test_private_key_readable_by_group_or_others_is_refused),
		T(test_public_key_file_may_be_world_readable),
		T(test_load_refuses_missing_and_non_regular_files),
		T(test_load_refuses_bad_key_id),
		T(test_load_refuses_malformed_private_keys),
		T(test_load_refuses_crlf_space_and_trailing_blank_lines),
		T(test_load_refuses_fifo_and_other_non_files),
		T(test_load_refuses_unknown_algorithm),
		T(test_seed_key_file_written_by_hand_loads),
		T(test_vkey_parse_of_file_text),
		T(test_vkey_parse_rejects_manglings),
		T(test_vkey_load_takes_a_file_or_the_text),
		T(test_keyid_matches_the_spec_formula),
		T(test_go_reference_key_pair_loads_and_matches),
		T(test_go_reference_signature_is_reproduced),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
