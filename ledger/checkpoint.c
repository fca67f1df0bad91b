#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "util.h"

#define EM_DASH "\xe2\x80\x94"
#define B64_HASH 44 /* base64 of 32 bytes */
#define B64_SIG 92  /* base64 of 68 bytes */

int ldg_checkpoint_make(const char *origin, uint64_t size,
			const uint8_t root[LDG_HASH_BYTES],
			const struct ldg_signer *k, char **out,
			struct ldg_err *err)
{
	const struct ldg_vkey *vk = ldg_signer_vkey(k);
	char body[LDG_ORIGIN_MAX + 128];
	char rootb64[B64_HASH + 1], sigb64[B64_SIG + 1];
	uint8_t sig[LDG_KEYID_BYTES + LDG_SIG_BYTES];
	size_t blen, total;
	int rc;

	sodium_bin2base64(rootb64, sizeof(rootb64), root, LDG_HASH_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	blen = (size_t)snprintf(body, sizeof(body), "%s\n%llu\n%s\n", origin,
				(unsigned long long)size, rootb64);
	memcpy(sig, vk->keyid, LDG_KEYID_BYTES);
	rc = ldg_signer_sign(k, (const uint8_t *)body, blen,
			     sig + LDG_KEYID_BYTES);
	if (rc)
		return ldg_err_set(err, rc, "signing failed");
	sodium_bin2base64(sigb64, sizeof(sigb64), sig, sizeof(sig),
			  sodium_base64_VARIANT_ORIGINAL);
	total = blen + 1 + strlen(EM_DASH " ") + strlen(vk->name) + 1 +
		B64_SIG + 2;
	*out = malloc(total);
	if (!*out)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	snprintf(*out, total, "%s\n" EM_DASH " %s %s\n", body, vk->name,
		 sigb64);
	return 0;
}

static int parse_sig_line(const char *line, size_t len,
			  struct ldg_note_sig *out)
{
	const char *name = line + strlen(EM_DASH " ");
	const char *sp;
	size_t nlen, rawlen;
	uint8_t raw[LDG_KEYID_BYTES + 8 + LDG_SIG_BYTES + 4];

	if (len < strlen(EM_DASH " ") ||
	    memcmp(line, EM_DASH " ", strlen(EM_DASH " ")))
		return -EINVAL;
	sp = memchr(name, ' ', len - (size_t)(name - line));
	if (!sp)
		return -EINVAL;
	nlen = (size_t)(sp - name);
	if (nlen < 1 || nlen > LDG_KEYNAME_MAX)
		return -EINVAL;
	memcpy(out->name, name, nlen);
	out->name[nlen] = '\0';
	if (sodium_base642bin(raw, sizeof(raw), sp + 1,
			      len - (size_t)(sp + 1 - line), NULL, &rawlen,
			      NULL, sodium_base64_VARIANT_ORIGINAL))
		return -EINVAL;
	memset(out->sig, 0, LDG_SIG_BYTES);
	out->cosig = false;
	out->time = 0;
	memcpy(out->keyid, raw, LDG_KEYID_BYTES);
	if (rawlen == LDG_KEYID_BYTES + LDG_SIG_BYTES) {
		memcpy(out->sig, raw + LDG_KEYID_BYTES, LDG_SIG_BYTES);
		return 0;
	}
	/* a C2SP tlog-cosignature: keyid, time (big-endian), signature */
	if (rawlen == LDG_KEYID_BYTES + 8 + LDG_SIG_BYTES) {
		out->cosig = true;
		out->time = ldg_get_be64(raw + LDG_KEYID_BYTES);
		memcpy(out->sig, raw + LDG_KEYID_BYTES + 8, LDG_SIG_BYTES);
		return 0;
	}
	/* other signature types are skipped, not errors */
	return -ENOTSUP;
}

int ldg_checkpoint_parse(const char *text, size_t len,
			 struct ldg_checkpoint *out, struct ldg_err *err)
{
	const char *sep, *p, *end = text + len;
	const char *l1, *l2, *l3;
	unsigned long long size;
	size_t rawlen, notes = 0;
	char num[24];

	memset(out, 0, sizeof(*out));
	if (len >= LDG_CHECKPOINT_MAX || memchr(text, '\0', len))
		return ldg_err_set(err, -EINVAL,
				   "not a checkpoint: too large "
				   "or binary");
	sep = NULL;
	for (p = text; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n') {
			sep = p;
			break;
		}
	if (!sep)
		return ldg_err_set(err, -EINVAL,
				   "not a checkpoint: no blank line before the "
				   "signatures");
	out->text_len = (size_t)(sep + 1 - text);
	memcpy(out->text, text, out->text_len);

	l1 = memchr(text, '\n', out->text_len);
	l2 = l1 ? memchr(l1 + 1, '\n', (size_t)(sep - l1)) : NULL;
	l3 = l2 ? memchr(l2 + 1, '\n', (size_t)(sep + 1 - l2)) : NULL;
	if (!l3)
		return ldg_err_set(err, -EINVAL,
				   "not a checkpoint: expected origin, size and "
				   "root lines");
	if ((size_t)(l1 - text) > LDG_ORIGIN_MAX || l1 == text)
		return ldg_err_set(err, -EINVAL, "checkpoint: bad origin line");
	memcpy(out->origin, text, (size_t)(l1 - text));
	if (l2 - l1 - 1 < 1 || l2 - l1 - 1 > 20 ||
	    (l1[1] == '0' && l2 - l1 - 1 > 1))
		return ldg_err_set(err, -EINVAL, "checkpoint: bad size line");
	memcpy(num, l1 + 1, (size_t)(l2 - l1 - 1));
	num[l2 - l1 - 1] = '\0';
	if (strspn(num, "0123456789") != strlen(num))
		return ldg_err_set(err, -EINVAL, "checkpoint: bad size line");
	/* 20 digits reach past 2^64 - 1: refused, never wrapped */
	errno = 0;
	size = strtoull(num, NULL, 10);
	if (errno == ERANGE)
		return ldg_err_set(err, -EINVAL,
				   "checkpoint: size %s is "
				   "larger than 2^64 - 1",
				   num);
	/* a ledger's tree is never empty (entry 1 is its init): a
	 * checkpoint of it has at least one entry */
	if (size == 0)
		return ldg_err_set(err, -EINVAL,
				   "checkpoint: size 0 (an "
				   "empty tree); a ledger checkpoint covers at "
				   "least entry 1");
	out->size = size;
	if (sodium_base642bin(out->root, LDG_HASH_BYTES, l2 + 1,
			      (size_t)(l3 - l2 - 1), NULL, &rawlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    rawlen != LDG_HASH_BYTES)
		return ldg_err_set(err, -EINVAL, "checkpoint: bad root hash");

	for (p = sep + 2; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int rc;
		if (!nl)
			return ldg_err_set(err, -EINVAL,
					   "checkpoint: unterminated "
					   "signature line");
		if (out->n_sigs == LDG_CHECKPOINT_SIGS)
			return ldg_err_set(err, -EINVAL,
					   "checkpoint: too many signatures");
		rc = parse_sig_line(p, (size_t)(nl - p),
				    &out->sigs[out->n_sigs]);
		if (rc == -EINVAL)
			return ldg_err_set(err, -EINVAL,
					   "checkpoint: bad signature line");
		if (rc == 0 && !out->sigs[out->n_sigs].cosig)
			notes++;
		if (rc == 0)
			out->n_sigs++;
		p = nl + 1;
	}
	if (notes == 0)
		return ldg_err_set(err, -EINVAL,
				   "checkpoint: no Ed25519 signature");
	return 0;
}

int ldg_checkpoint_verify(const struct ldg_checkpoint *cp,
			  const struct ldg_vkey *vkey)
{
	int rc = -ENOENT;

	/* as Go's note.Open: a signature by a known key that does not
	 * verify rejects the note, whatever else verifies */
	for (size_t i = 0; i < cp->n_sigs; i++) {
		const struct ldg_note_sig *s = &cp->sigs[i];
		if (s->cosig || strcmp(s->name, vkey->name) ||
		    memcmp(s->keyid, vkey->keyid, LDG_KEYID_BYTES))
			continue;
		if (ldg_sig_verify(vkey->pk, (const uint8_t *)cp->text,
				   cp->text_len, s->sig))
			return -EBADMSG;
		rc = 0;
	}
	return rc;
}
