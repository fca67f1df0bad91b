/*
 * testlib.h - helpers shared by the unit tests and the vector generator.
 *
 * struct mp is a growable byte buffer with a tiny msgpack emitter written
 * from the msgpack specification, independent of msgpack-c, so the tests
 * can build any encoding (canonical or deliberately not) byte by byte.
 *
 * struct fields holds an entry as its 11 separately encoded fields; a test
 * replaces one field's bytes and joins them again. fields_seal() signs the
 * first ten fields exactly as ledger/entry.c does, so a non-canonical
 * vector can carry a valid signature and must still be refused by the
 * strict decoder.
 *
 * Test code: failures abort() (allocation) rather than return codes.
 */
#ifndef LDG_TESTLIB_H
#define LDG_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "keys.h"

struct mp {
	uint8_t *p;
	size_t n, cap;
};

void mp_init(struct mp *m);
void mp_free(struct mp *m);
void mp_reset(struct mp *m);
void mp_byte(struct mp *m, uint8_t b);
void mp_raw(struct mp *m, const void *p, size_t n);
/* shortest form, as the profile requires */
void mp_uint(struct mp *m, uint64_t v);
/* forced width: marker is 0xcc, 0xcd, 0xce or 0xcf */
void mp_uint_as(struct mp *m, uint8_t marker, uint64_t v);
void mp_str(struct mp *m, const char *s);
void mp_strn(struct mp *m, const char *s, size_t n);
/* forced header: marker is 0xd9 (str8), 0xda (str16) or 0xdb (str32) */
void mp_str_as(struct mp *m, uint8_t marker, const char *s);
void mp_bin(struct mp *m, const uint8_t *b, size_t n);
void mp_array(struct mp *m, size_t n);
/* a key/value list: kv[2i] key, kv[2i+1] value or NULL (unset) */
void mp_kvs(struct mp *m, const char *const *kv, size_t pairs);

struct fields {
	struct mp f[LDG_FIELDS];
};

/* Encodes each field of e canonically (signature included). */
void fields_from_entry(const struct ldg_entry *e, struct fields *out);
void fields_free(struct fields *fs);
/* Replaces field i with the given bytes. */
void fields_put(struct fields *fs, int i, const struct mp *m);
/* out = array header for n, then fields 0..n-1 (n <= LDG_FIELDS). */
void fields_join(const struct fields *fs, size_t n, struct mp *out);
/* Signs fields 0..9 for origin with k (as ldg_entry_sign does), stores
 * the signature in field 10 and joins all 11 into out. */
void fields_seal(struct fields *fs, const char *origin,
		 const struct ldg_signer *k, struct mp *out);

/* Lowercase hex of n bytes; caller frees. */
char *tl_hex(const uint8_t *b, size_t n);
/* Decodes hex, ignoring ASCII white space; -EINVAL on anything else. */
int tl_unhex(const char *text, uint8_t **out, size_t *len);
/* Reads a whole file (NUL-terminated); NULL on error. */
char *tl_read_file(const char *path, size_t *len);
int tl_write_file(const char *path, const void *p, size_t n, int mode);

/* A fresh directory under $TMPDIR (or /tmp); caller frees. */
char *tl_mkdtemp(void);
/* Removes dir and everything in it. */
void tl_rmrf(const char *dir);

/* A signer with a fixed seed: writes DIR/NAME.key in the signed-note
 * format by hand (mode 0600) and loads it with ldg_signer_load(). */
struct ldg_signer *tl_signer_from_seed(const char *dir, const char *name,
				       const uint8_t seed[32]);

/* The RFC 6962 tree hash computed naively and recursively from leaf
 * hashes (for comparison with the library's incremental code). */
void tl_mth(const uint8_t (*leaves)[LDG_HASH_BYTES], size_t n,
	    uint8_t out[LDG_HASH_BYTES]);
/* The hash of the perfect subtree of height at index of n leaves (what
 * an ldg_node_fn gives, tlog.h), naively; -ENOENT past them. */
int tl_mth_node(const uint8_t (*leaves)[LDG_HASH_BYTES], size_t n,
		unsigned height, uint64_t index, uint8_t out[LDG_HASH_BYTES]);

#endif
