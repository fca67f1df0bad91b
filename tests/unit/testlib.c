#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#define SIG_DOMAIN "ledger/v1/entry"

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		abort();
	return q;
}

void mp_init(struct mp *m)
{
	m->p = NULL;
	m->n = 0;
	m->cap = 0;
}

void mp_free(struct mp *m)
{
	free(m->p);
	mp_init(m);
}

void mp_reset(struct mp *m)
{
	m->n = 0;
}

void mp_raw(struct mp *m, const void *p, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 16;
		m->p = xrealloc(m->p, m->cap);
	}
	if (n)
		memcpy(m->p + m->n, p, n);
	m->n += n;
}

void mp_byte(struct mp *m, uint8_t b)
{
	mp_raw(m, &b, 1);
}

static void put_be(struct mp *m, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		mp_byte(m, (uint8_t)(v >> (8 * i)));
}

void mp_uint_as(struct mp *m, uint8_t marker, uint64_t v)
{
	mp_byte(m, marker);
	put_be(m, v, 1 << (marker - 0xcc));
}

void mp_uint(struct mp *m, uint64_t v)
{
	if (v < 0x80)
		mp_byte(m, (uint8_t)v);
	else if (v <= 0xff)
		mp_uint_as(m, 0xcc, v);
	else if (v <= 0xffff)
		mp_uint_as(m, 0xcd, v);
	else if (v <= 0xffffffffu)
		mp_uint_as(m, 0xce, v);
	else
		mp_uint_as(m, 0xcf, v);
}

void mp_strn(struct mp *m, const char *s, size_t n)
{
	if (n < 32)
		mp_byte(m, (uint8_t)(0xa0 | n));
	else if (n <= 0xff)
		put_be(m, 0xd900 | n, 2);
	else if (n <= 0xffff)
		put_be(m, 0xda0000 | n, 3);
	else
		put_be(m, 0xdb00000000ull | n, 5);
	mp_raw(m, s, n);
}

void mp_str(struct mp *m, const char *s)
{
	mp_strn(m, s, strlen(s));
}

void mp_str_as(struct mp *m, uint8_t marker, const char *s)
{
	size_t n = strlen(s);

	mp_byte(m, marker);
	put_be(m, n, 1 << (marker - 0xd9));
	mp_raw(m, s, n);
}

void mp_bin(struct mp *m, const uint8_t *b, size_t n)
{
	if (n <= 0xff)
		put_be(m, 0xc400 | n, 2);
	else if (n <= 0xffff)
		put_be(m, 0xc50000 | n, 3);
	else
		put_be(m, 0xc600000000ull | n, 5);
	mp_raw(m, b, n);
}

void mp_array(struct mp *m, size_t n)
{
	if (n < 16)
		mp_byte(m, (uint8_t)(0x90 | n));
	else if (n <= 0xffff)
		put_be(m, 0xdc0000 | n, 3);
	else
		put_be(m, 0xdd00000000ull | n, 5);
}

void mp_kvs(struct mp *m, const char *const *kv, size_t pairs)
{
	mp_array(m, pairs);
	for (size_t i = 0; i < pairs; i++) {
		mp_array(m, kv[2 * i + 1] ? 2 : 1);
		mp_str(m, kv[2 * i]);
		if (kv[2 * i + 1])
			mp_str(m, kv[2 * i + 1]);
	}
}

static void kvs_from(struct mp *m, const struct ldg_kv *kv, size_t n)
{
	mp_array(m, n);
	for (size_t i = 0; i < n; i++) {
		mp_array(m, kv[i].value ? 2 : 1);
		mp_str(m, kv[i].key);
		if (kv[i].value)
			mp_str(m, kv[i].value);
	}
}

void fields_from_entry(const struct ldg_entry *e, struct fields *out)
{
	for (int i = 0; i < LDG_FIELDS; i++)
		mp_init(&out->f[i]);
	mp_uint(&out->f[0], e->version);
	mp_uint(&out->f[1], e->seq);
	mp_bin(&out->f[2], e->prev, LDG_HASH_BYTES);
	mp_uint(&out->f[3], e->time_ns);
	mp_bin(&out->f[4], e->signer, LDG_KEYID_BYTES);
	mp_str(&out->f[5], ldg_kind_name(e->kind));
	mp_str(&out->f[6], e->target);
	kvs_from(&out->f[7], e->changes, e->n_changes);
	mp_str(&out->f[8], e->reason);
	kvs_from(&out->f[9], e->meta, e->n_meta);
	mp_bin(&out->f[10], e->sig, LDG_SIG_BYTES);
}

void fields_free(struct fields *fs)
{
	for (int i = 0; i < LDG_FIELDS; i++)
		mp_free(&fs->f[i]);
}

void fields_put(struct fields *fs, int i, const struct mp *m)
{
	mp_reset(&fs->f[i]);
	mp_raw(&fs->f[i], m->p, m->n);
}

void fields_join(const struct fields *fs, size_t n, struct mp *out)
{
	mp_reset(out);
	mp_array(out, n);
	for (size_t i = 0; i < n && i < LDG_FIELDS; i++)
		mp_raw(out, fs->f[i].p, fs->f[i].n);
}

void fields_seal(struct fields *fs, const char *origin,
		 const struct ldg_signer *k, struct mp *out)
{
	struct mp msg;
	uint8_t sig[LDG_SIG_BYTES];

	mp_init(&msg);
	mp_raw(&msg, SIG_DOMAIN, sizeof(SIG_DOMAIN)); /* with its NUL */
	mp_raw(&msg, origin, strlen(origin) + 1);
	mp_byte(&msg, 0x90 | (LDG_FIELDS - 1));
	for (int i = 0; i < LDG_FIELDS - 1; i++)
		mp_raw(&msg, fs->f[i].p, fs->f[i].n);
	if (ldg_signer_sign(k, msg.p, msg.n, sig))
		abort();
	mp_free(&msg);
	mp_reset(&fs->f[10]);
	mp_bin(&fs->f[10], sig, LDG_SIG_BYTES);
	fields_join(fs, LDG_FIELDS, out);
}

char *tl_hex(const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xrealloc(NULL, 2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tl_unhex(const char *text, uint8_t **out, size_t *len)
{
	size_t cap = strlen(text) / 2 + 1, n = 0;
	uint8_t *b = xrealloc(NULL, cap);
	int hi = -1;

	for (const char *p = text; *p; p++) {
		int v;
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			continue;
		v = nibble(*p);
		if (v < 0) {
			free(b);
			return -EINVAL;
		}
		if (hi < 0) {
			hi = v;
		} else {
			b[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		free(b);
		return -EINVAL;
	}
	*out = b;
	*len = n;
	return 0;
}

char *tl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = xrealloc(buf, cap);
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int tl_write_file(const char *path, const void *p, size_t n, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, p, n) != (ssize_t)n)
		rc = -EIO;
	if (fchmod(fd, (mode_t)mode))
		rc = -errno;
	close(fd);
	return rc;
}

char *tl_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xrealloc(NULL, 4096);

	snprintf(path, 4096, "%s/ledger-unit-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(path))
		abort();
	return path;
}

void tl_rmrf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			tl_rmrf(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

struct ldg_signer *tl_signer_from_seed(const char *dir, const char *name,
				       const uint8_t seed[32])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t raw[33], keyid[LDG_KEYID_BYTES];
	char b64[64], line[256], path[4096];
	char *idhex;
	struct ldg_signer *s = NULL;
	struct ldg_err err = { 0 };

	if (crypto_sign_seed_keypair(pk, sk, seed))
		abort();
	ldg_keyid(name, pk, keyid);
	idhex = tl_hex(keyid, LDG_KEYID_BYTES);
	raw[0] = 0x01;
	memcpy(raw + 1, seed, 32);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), "PRIVATE+KEY+%s+%s+%s\n", name, idhex,
		 b64);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	if (tl_write_file(path, line, strlen(line), 0600) ||
	    ldg_signer_load(path, &s, &err)) {
		fprintf(stderr, "tl_signer_from_seed: %s\n", err.msg);
		abort();
	}
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(raw, sizeof(raw));
	free(idhex);
	return s;
}

static void node_hash(const uint8_t l[LDG_HASH_BYTES],
		      const uint8_t r[LDG_HASH_BYTES],
		      uint8_t out[LDG_HASH_BYTES])
{
	uint8_t buf[1 + 2 * LDG_HASH_BYTES];

	buf[0] = 0x01;
	memcpy(buf + 1, l, LDG_HASH_BYTES);
	memcpy(buf + 1 + LDG_HASH_BYTES, r, LDG_HASH_BYTES);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

/* RFC 6962 section 2.1: MTH(D[n]) splits at k, the largest power of two
 * smaller than n. */
void tl_mth(const uint8_t (*leaves)[LDG_HASH_BYTES], size_t n,
	    uint8_t out[LDG_HASH_BYTES])
{
	uint8_t l[LDG_HASH_BYTES], r[LDG_HASH_BYTES];
	size_t k = 1;

	if (n == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], LDG_HASH_BYTES);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	tl_mth(leaves, k, l);
	tl_mth(leaves + k, n - k, r);
	node_hash(l, r, out);
}

int tl_mth_node(const uint8_t (*leaves)[LDG_HASH_BYTES], size_t n,
		unsigned height, uint64_t index, uint8_t out[LDG_HASH_BYTES])
{
	uint64_t w = (uint64_t)1 << height;

	if ((index + 1) * w > n)
		return -ENOENT;
	tl_mth(leaves + index * w, (size_t)w, out);
	return 0;
}
