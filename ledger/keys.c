#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "util.h"

#define B64_33 44 /* base64 length of 33 bytes */
#define PRIV_PREFIX "PRIVATE+KEY+"
#define KEYFILE_MAX 512

struct ldg_signer {
	struct ldg_vkey vkey;
	uint8_t alg; /* LDG_ALG_NOTE or LDG_ALG_COSIG */
	uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || pk */
};

/* A ledger key's name is a key name (names.h); a cosigner's may also
 * hold '/', for the URL-like names C2SP tlog-cosignature recommends
 * (witness.example.com/w1). */
static int check_name(const char *name, uint8_t alg, struct ldg_err *err)
{
	char plain[LDG_KEYNAME_MAX + 1];

	if (alg != LDG_ALG_COSIG || strlen(name) > LDG_KEYNAME_MAX ||
	    name[0] == '/')
		return ldg_check_keyname(name, err);
	snprintf(plain, sizeof(plain), "%s", name);
	for (char *p = plain; *p; p++)
		if (*p == '/')
			*p = '_';
	if (ldg_check_keyname(plain, NULL))
		return ldg_err_set(err, -EINVAL,
				   "invalid witness key name \"%.80s\": use 1-64 "
				   "of A-Z, a-z, 0-9, '.', '_', '-' and '/', "
				   "e.g. witness.example.com/w1",
				   name);
	return 0;
}

int ldg_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void ldg_keyid(const char *name, const uint8_t pk[LDG_PK_BYTES],
	       uint8_t out[LDG_KEYID_BYTES])
{
	ldg_keyid_alg(name, LDG_ALG_NOTE, pk, out);
}

void ldg_keyid_alg(const char *name, uint8_t alg,
		   const uint8_t pk[LDG_PK_BYTES], uint8_t out[LDG_KEYID_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t sep[2] = { 0x0a, alg };
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, 2);
	crypto_hash_sha256_update(&st, pk, LDG_PK_BYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, LDG_KEYID_BYTES);
}

/* Splits "NAME+KEYID+B64" (text already without any "PRIVATE+KEY+"),
 * checks the name, decodes alg || 32 bytes into key32 and the hex id. */
static int parse_note_key(const char *text, uint8_t alg, char *name,
			  uint8_t keyid[4], uint8_t *key32, struct ldg_err *err)
{
	const char *p1 = strchr(text, '+');
	const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	size_t nlen, blen;
	char idhex[9];
	uint8_t raw[33];
	size_t rawlen = 0;
	int rc = -EINVAL;

	if (!p1 || !p2)
		return ldg_err_set(err, -EINVAL,
				   "not a key: expected NAME+KEYID+BASE64");
	nlen = (size_t)(p1 - text);
	if (nlen < 1 || nlen > LDG_KEYNAME_MAX)
		return ldg_err_set(err, -EINVAL, "not a key: bad name length");
	memcpy(name, text, nlen);
	name[nlen] = '\0';
	if (p2 - p1 - 1 != 8)
		return ldg_err_set(err, -EINVAL,
				   "not a key: key id must be 8 lower-case hex "
				   "digits");
	memcpy(idhex, p1 + 1, 8);
	idhex[8] = '\0';
	/* lowercase only: a key has one text form, as entries record it */
	if (strspn(idhex, "0123456789abcdef") != 8 ||
	    ldg_unhex(idhex, keyid, 4))
		return ldg_err_set(err, -EINVAL,
				   "not a key: key id must be 8 lower-case hex "
				   "digits");
	/* one line, with at most a single \n: a key has one text form */
	blen = strcspn(p2 + 1, " \t\r\n");
	if (p2[1 + blen] == ' ' || p2[1 + blen] == '\t')
		return ldg_err_set(err, -EINVAL,
				   "not a key: white space after the key");
	if (p2[1 + blen] == '\r')
		return ldg_err_set(err, -EINVAL,
				   "not a key: the line ends in \\r\\n (CRLF); "
				   "end it with \\n alone");
	if (p2[1 + blen] == '\n' && p2[2 + blen])
		return ldg_err_set(err, -EINVAL,
				   "not a key: more after the key's line (a "
				   "blank line or a second line); a key is "
				   "one line");
	/* exactly 44 base64 characters: the one text form of 33 bytes */
	if (blen != B64_33 ||
	    strspn(p2 + 1,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789+/") != B64_33 ||
	    sodium_base642bin(raw, sizeof(raw), p2 + 1, blen, NULL, &rawlen,
			      NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    rawlen != 33)
		return ldg_err_set(err, -EINVAL,
				   "not a key: bad base64 key material");
	if (raw[0] != alg) {
		if (raw[0] == LDG_ALG_COSIG)
			rc = ldg_err_set(err, -EINVAL,
					 "a witness (cosigner) key, not a "
					 "ledger key");
		else if (raw[0] == LDG_ALG_NOTE)
			rc = ldg_err_set(err, -EINVAL,
					 "a ledger key, not a witness "
					 "(cosigner) key");
		else
			rc = ldg_err_set(err, -EINVAL,
					 "unsupported key algorithm %u (want "
					 "Ed25519)",
					 raw[0]);
		goto out_wipe;
	}
	/* after the type: a witness key's name may hold a '/' */
	if (check_name(name, alg, err))
		goto out_wipe;
	memcpy(key32, raw + 1, 32);
	rc = 0;
out_wipe:
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

static int vkey_parse(const char *text, uint8_t alg, struct ldg_vkey *out,
		      struct ldg_err *err)
{
	uint8_t want[LDG_KEYID_BYTES];
	int rc;

	if (strncmp(text, PRIV_PREFIX, strlen(PRIV_PREFIX)) == 0)
		return ldg_err_set(err, -EINVAL,
				   "this is a private key; give the .pub file");
	rc = parse_note_key(text, alg, out->name, out->keyid, out->pk, err);
	if (rc)
		return rc;
	ldg_keyid_alg(out->name, alg, out->pk, want);
	if (memcmp(want, out->keyid, LDG_KEYID_BYTES))
		return ldg_err_set(err, -EINVAL,
				   "key id does not match name and key");
	return 0;
}

int ldg_vkey_parse(const char *text, struct ldg_vkey *out, struct ldg_err *err)
{
	return vkey_parse(text, LDG_ALG_NOTE, out, err);
}

int ldg_cosigner_parse(const char *text, struct ldg_vkey *out,
		       struct ldg_err *err)
{
	return vkey_parse(text, LDG_ALG_COSIG, out, err);
}

/* Reads a key file whole into buf (NUL-terminated), exactly as it is:
 * the parser refuses anything but one line (format.md section 7). With
 * secret set, also refuses group/other access. */
static int read_small(const char *path, char *buf, size_t cap, bool secret,
		      struct ldg_err *err)
{
	struct stat st;
	size_t n;
	int rc;

	rc = ldg_read_small(path, "a key file", buf, cap, &n, &st, err);
	if (rc)
		return rc;
	/* a key file open to others is refused, as ssh does; what is not a
	 * private key at all is the caller's to say */
	if (secret && (st.st_mode & 077) &&
	    strncmp(buf, PRIV_PREFIX, strlen(PRIV_PREFIX)) == 0)
		return ldg_err_set(err, -EACCES,
				   "%s: permissions %04o are too open for a "
				   "private key; run chmod 600 %s",
				   path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

static int vkey_load(const char *path_or_text, uint8_t alg,
		     struct ldg_vkey *out, struct ldg_err *err)
{
	char buf[KEYFILE_MAX];
	int rc;

	if (access(path_or_text, F_OK) != 0 && strchr(path_or_text, '+')) {
		/* no such file: text with a '+' before any '/' (a key name
		 * has no '/'; base64 may) is a key, and why it is not a
		 * valid one is the answer; else the read says what is
		 * missing */
		rc = vkey_parse(path_or_text, alg, out, err);
		if (rc == 0 ||
		    strcspn(path_or_text, "+") < strcspn(path_or_text, "/"))
			return rc;
	}
	rc = read_small(path_or_text, buf, sizeof(buf), false, err);
	if (rc)
		return rc;
	rc = vkey_parse(buf, alg, out, err);
	if (rc)
		ldg_err_prefix(err, "%s", path_or_text);
	return rc;
}

int ldg_vkey_load(const char *path_or_text, struct ldg_vkey *out,
		  struct ldg_err *err)
{
	return vkey_load(path_or_text, LDG_ALG_NOTE, out, err);
}

int ldg_cosigner_load(const char *path_or_text, struct ldg_vkey *out,
		      struct ldg_err *err)
{
	return vkey_load(path_or_text, LDG_ALG_COSIG, out, err);
}

static void vkey_format(const struct ldg_vkey *k, uint8_t alg, char *out)
{
	uint8_t raw[33];
	char idhex[9];
	char b64[B64_33 + 1];

	raw[0] = alg;
	memcpy(raw + 1, k->pk, 32);
	ldg_hex(k->keyid, 4, idhex);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, LDG_VKEY_TEXT_MAX, "%s+%s+%s", k->name, idhex, b64);
}

void ldg_vkey_format(const struct ldg_vkey *k, char *out)
{
	vkey_format(k, LDG_ALG_NOTE, out);
}

void ldg_cosigner_format(const struct ldg_vkey *k, char *out)
{
	vkey_format(k, LDG_ALG_COSIG, out);
}

static struct ldg_signer *signer_alloc(void)
{
	struct ldg_signer *s = sodium_malloc(sizeof(*s));

	if (s)
		memset(s, 0, sizeof(*s));
	return s;
}

static int signer_from_seed(struct ldg_signer *s, const char *name, uint8_t alg,
			    const uint8_t seed[32])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	if (crypto_sign_seed_keypair(pk, s->sk, seed))
		return -EIO;
	snprintf(s->vkey.name, sizeof(s->vkey.name), "%s", name);
	memcpy(s->vkey.pk, pk, 32);
	s->alg = alg;
	ldg_keyid_alg(name, alg, pk, s->vkey.keyid);
	return 0;
}

int ldg_signer_generate(const char *name, struct ldg_signer **out,
			struct ldg_err *err)
{
	return ldg_signer_generate_alg(name, LDG_ALG_NOTE, out, err);
}

int ldg_signer_generate_alg(const char *name, uint8_t alg,
			    struct ldg_signer **out, struct ldg_err *err)
{
	struct ldg_signer *s;
	uint8_t *seed;
	int rc;

	rc = check_name(name, alg, err);
	if (rc)
		return rc;
	s = signer_alloc();
	seed = sodium_malloc(32);
	if (!s || !seed) {
		rc = ldg_err_set(err, -ENOMEM, "out of secure memory");
		goto out_free;
	}
	randombytes_buf(seed, 32);
	rc = signer_from_seed(s, name, alg, seed);
	if (rc) {
		ldg_err_set(err, rc, "cannot derive key pair");
		goto out_free;
	}
	*out = s;
	s = NULL;
out_free:
	sodium_free(seed);
	ldg_signer_free(s);
	return rc;
}

int ldg_signer_load(const char *path, struct ldg_signer **out,
		    struct ldg_err *err)
{
	return ldg_signer_load_alg(path, LDG_ALG_NOTE, out, err);
}

int ldg_signer_load_alg(const char *path, uint8_t alg, struct ldg_signer **out,
			struct ldg_err *err)
{
	struct ldg_signer *s = signer_alloc();
	char *buf = sodium_malloc(KEYFILE_MAX);
	uint8_t *seed = sodium_malloc(32);
	char name[LDG_KEYNAME_MAX + 1];
	uint8_t keyid[4];
	int rc;

	if (!s || !buf || !seed) {
		rc = ldg_err_set(err, -ENOMEM, "out of secure memory");
		goto out_free;
	}
	rc = read_small(path, buf, KEYFILE_MAX, true, err);
	if (rc)
		goto out_free;
	if (strncmp(buf, PRIV_PREFIX, strlen(PRIV_PREFIX)) != 0) {
		rc = ldg_err_set(err, -EINVAL,
				 "%s: not a private key (expected "
				 "PRIVATE+KEY+NAME+KEYID+...; a .pub file is "
				 "for ledger key add)",
				 path);
		goto out_free;
	}
	rc = parse_note_key(buf + strlen(PRIV_PREFIX), alg, name, keyid, seed,
			    err);
	if (rc) {
		ldg_err_prefix(err, "%s", path);
		goto out_free;
	}
	rc = signer_from_seed(s, name, alg, seed);
	if (rc) {
		ldg_err_set(err, rc, "%s: cannot derive key pair", path);
		goto out_free;
	}
	if (memcmp(keyid, s->vkey.keyid, 4)) {
		rc = ldg_err_set(err, -EINVAL,
				 "%s: key id does not match the key", path);
		goto out_free;
	}
	*out = s;
	s = NULL;
out_free:
	sodium_free(seed);
	sodium_free(buf);
	ldg_signer_free(s);
	return rc;
}

static int write_new(const char *path, const char *text, mode_t mode,
		     struct ldg_err *err)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int rc = 0;

	if (fd < 0)
		return ldg_err_set(err, -errno, "%s: %s", path,
				   errno == EEXIST ? "already exists; refusing "
						     "to overwrite a key"
						   : strerror(errno));
	if (fchmod(fd, mode) || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd))
		rc = ldg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (close(fd) && !rc)
		rc = ldg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (rc)
		unlink(path);
	return rc;
}

int ldg_signer_write(const struct ldg_signer *s, const char *dir,
		     struct ldg_err *err)
{
	char path[4096];
	char pub[LDG_VKEY_TEXT_MAX + 1], base[LDG_KEYNAME_MAX + 1];
	char *priv = sodium_malloc(KEYFILE_MAX);
	uint8_t raw[33];
	char idhex[9];
	char b64[B64_33 + 1];
	int rc;

	if (!priv)
		return ldg_err_set(err, -ENOMEM, "out of secure memory");
	raw[0] = s->alg;
	memcpy(raw + 1, s->sk, 32); /* the seed half */
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
			  sodium_base64_VARIANT_ORIGINAL);
	ldg_hex(s->vkey.keyid, 4, idhex);
	snprintf(priv, KEYFILE_MAX, PRIV_PREFIX "%s+%s+%s\n", s->vkey.name,
		 idhex, b64);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));

	/* a witness name's '/' is '_' in its file names */
	snprintf(base, sizeof(base), "%s", s->vkey.name);
	for (char *p = base; *p; p++)
		if (*p == '/')
			*p = '_';
	snprintf(path, sizeof(path), "%s/%s.key", dir, base);
	rc = write_new(path, priv, 0600, err);
	if (rc)
		goto out_free;
	vkey_format(&s->vkey, s->alg, pub);
	strcat(pub, "\n");
	snprintf(path, sizeof(path), "%s/%s.pub", dir, base);
	rc = write_new(path, pub, 0644, err);
	if (rc) {
		snprintf(path, sizeof(path), "%s/%s.key", dir, base);
		unlink(path);
	}
out_free:
	sodium_free(priv);
	return rc;
}

void ldg_signer_free(struct ldg_signer *s)
{
	if (s)
		sodium_free(s); /* wipes before unmapping */
}

const struct ldg_vkey *ldg_signer_vkey(const struct ldg_signer *s)
{
	return &s->vkey;
}

uint8_t ldg_signer_alg(const struct ldg_signer *s)
{
	return s->alg;
}

int ldg_signer_sign(const struct ldg_signer *s, const uint8_t *msg, size_t len,
		    uint8_t sig[LDG_SIG_BYTES])
{
	return crypto_sign_detached(sig, NULL, msg, len, s->sk) ? -EIO : 0;
}

int ldg_sig_verify(const uint8_t pk[LDG_PK_BYTES], const uint8_t *msg,
		   size_t len, const uint8_t sig[LDG_SIG_BYTES])
{
	return crypto_sign_verify_detached(sig, msg, len, pk) ? -EBADMSG : 0;
}
