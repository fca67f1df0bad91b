/*
 * checkpoint.h - C2SP tlog-checkpoint signed notes.
 *
 *   ORIGIN\n
 *   TREE SIZE (decimal)\n
 *   BASE64(root hash)\n
 *   \n
 *   — NAME BASE64(keyid4 || Ed25519 signature)\n
 *
 * The signature covers the note text: the lines above the blank line,
 * each with its newline. Extension lines after the root are accepted
 * and signed but otherwise ignored. Plain data; thread-safe.
 */
#ifndef LDG_CHECKPOINT_H
#define LDG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "keys.h"
#include "names.h"

/* Room for the note, the log's signatures and a cosignature from each
 * of a trust policy's up to 64 witnesses (trust.h): a cosignature line
 * is at most 174 bytes. */
#define LDG_CHECKPOINT_MAX 16384
#define LDG_CHECKPOINT_SIGS 80

struct ldg_note_sig {
	char name[LDG_KEYNAME_MAX + 1];
	uint8_t keyid[LDG_KEYID_BYTES];
	uint8_t sig[LDG_SIG_BYTES];
	/* a C2SP tlog-cosignature (76-byte blob: keyid, time, sig) */
	bool cosig;
	uint64_t time;
};

struct ldg_checkpoint {
	char origin[LDG_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[LDG_HASH_BYTES];
	char text[LDG_CHECKPOINT_MAX]; /* the signed note text */
	size_t text_len;
	struct ldg_note_sig sigs[LDG_CHECKPOINT_SIGS];
	size_t n_sigs;
};

/* Writes the signed checkpoint into out (malloc'd, NUL-terminated). */
int ldg_checkpoint_make(const char *origin, uint64_t size,
			const uint8_t root[LDG_HASH_BYTES],
			const struct ldg_signer *k, char **out,
			struct ldg_err *err);

/* Parses a checkpoint; signatures are not checked here. A size of 0 or
 * above 2^64 - 1 is refused (-EINVAL). */
int ldg_checkpoint_parse(const char *text, size_t len,
			 struct ldg_checkpoint *out, struct ldg_err *err);

/* 0 when the note has signature lines by vkey (name and key id) and
 * every one of them verifies; -ENOENT when there is none by that key;
 * -EBADMSG when any of them does not verify: as Go's note.Open, a bad
 * signature by a known key rejects the note, even when another line
 * verifies. */
__attribute__((warn_unused_result)) int
ldg_checkpoint_verify(const struct ldg_checkpoint *cp,
		      const struct ldg_vkey *vkey);

#endif
