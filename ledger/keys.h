/*
 * keys.h - Ed25519 keys in the C2SP signed-note text format.
 *
 *   verifier key: NAME+KEYID+BASE64(0x01 || pk32)
 *   private key:  PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed32)
 *   KEYID = hex of the first 4 bytes of SHA-256(NAME || 0x0A || 0x01 || pk32)
 *
 * A struct ldg_signer holds the secret key in sodium_malloc() memory,
 * guarded and wiped by ldg_signer_free(); the secret never leaves it except
 * through ldg_signer_write(). Private key files readable by group or others
 * are refused, as ssh does. Call sodium_init() (ldg_crypto_init()) first.
 * All functions are thread-safe on distinct objects; a signer may be used
 * by many threads at once for signing.
 */
#ifndef LDG_KEYS_H
#define LDG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "names.h"

#define LDG_KEYID_BYTES 4
/* Signature types: a note key (checkpoints, entries) and a cosigner
 * (witness) key of C2SP tlog-cosignature. */
#define LDG_ALG_NOTE 0x01
#define LDG_ALG_COSIG 0x04
#define LDG_PK_BYTES 32
#define LDG_SIG_BYTES 64
/* NAME + '+' + 8 hex + '+' + base64 of 33 bytes (44) + NUL */
#define LDG_VKEY_TEXT_MAX (LDG_KEYNAME_MAX + 1 + 8 + 1 + 44 + 1)

struct ldg_vkey {
	char name[LDG_KEYNAME_MAX + 1];
	uint8_t keyid[LDG_KEYID_BYTES];
	uint8_t pk[LDG_PK_BYTES];
};

struct ldg_signer;

/* A cosigner (witness) verifier key: NAME+KEYID+BASE64(0x04 || pk32),
 * KEYID over NAME || 0x0A || 0x04 || pk32. The same struct as a note
 * key; the functions say which kind it is. A cosigner's NAME may also
 * hold '/' (C2SP recommends URL-like names: witness.example.com/w1). */
int ldg_cosigner_parse(const char *text, struct ldg_vkey *out,
		       struct ldg_err *err);
int ldg_cosigner_load(const char *path_or_text, struct ldg_vkey *out,
		      struct ldg_err *err);
void ldg_cosigner_format(const struct ldg_vkey *k, char *out);
void ldg_keyid_alg(const char *name, uint8_t alg,
		   const uint8_t pk[LDG_PK_BYTES],
		   uint8_t out[LDG_KEYID_BYTES]);

/* sodium_init() once per process; returns 0 or -EIO. */
int ldg_crypto_init(void);

void ldg_keyid(const char *name, const uint8_t pk[LDG_PK_BYTES],
	       uint8_t out[LDG_KEYID_BYTES]);

/* Parses one verifier-key line (trailing newline allowed). */
int ldg_vkey_parse(const char *text, struct ldg_vkey *out, struct ldg_err *err);
/* Reads a verifier key from a file, or parses arg itself when it is not a
 * readable file but looks like a key. */
int ldg_vkey_load(const char *path_or_text, struct ldg_vkey *out,
		  struct ldg_err *err);
/* Formats "NAME+KEYID+BASE64" (no newline) into out[LDG_VKEY_TEXT_MAX]. */
void ldg_vkey_format(const struct ldg_vkey *k, char *out);

int ldg_signer_generate(const char *name, struct ldg_signer **out,
			struct ldg_err *err);
/* A new key of signature type alg (LDG_ALG_NOTE or LDG_ALG_COSIG). */
int ldg_signer_generate_alg(const char *name, uint8_t alg,
			    struct ldg_signer **out, struct ldg_err *err);
/* Loads a private key file of type alg; a key of the other type is
 * refused by name ("a witness (cosigner) key, not a ledger key" and
 * the reverse). */
int ldg_signer_load_alg(const char *path, uint8_t alg, struct ldg_signer **out,
			struct ldg_err *err);
uint8_t ldg_signer_alg(const struct ldg_signer *s);
/* Loads a private key file; refuses group/other-accessible files. */
int ldg_signer_load(const char *path, struct ldg_signer **out,
		    struct ldg_err *err);
/* Writes DIR/NAME.key (0600, never overwritten) and DIR/NAME.pub; a
 * cosigner's name may hold '/' (witness.example.com/w1), written as
 * '_' in the file names. */
int ldg_signer_write(const struct ldg_signer *s, const char *dir,
		     struct ldg_err *err);
void ldg_signer_free(struct ldg_signer *s);

/* Borrowed, valid until ldg_signer_free(). */
const struct ldg_vkey *ldg_signer_vkey(const struct ldg_signer *s);

int ldg_signer_sign(const struct ldg_signer *s, const uint8_t *msg, size_t len,
		    uint8_t sig[LDG_SIG_BYTES]);

/* 0 when sig is pk's signature of msg, else -EBADMSG. */
__attribute__((warn_unused_result)) int
ldg_sig_verify(const uint8_t pk[LDG_PK_BYTES], const uint8_t *msg, size_t len,
	       const uint8_t sig[LDG_SIG_BYTES]);

#endif
