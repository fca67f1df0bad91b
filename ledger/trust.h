/*
 * trust.h - witness trust policies: which cosigners (C2SP
 * tlog-cosignature witnesses, keys.h LDG_ALG_COSIG) a client trusts and
 * which of them must have cosigned a checkpoint before it believes it
 * (the quorum), in the line format of Sigsum's policy files
 * (docs/format.md, "Witness trust policies"):
 *
 *   witness NAME VKEY [URL]            VKEY: NAME+KEYID+BASE64(0x04||pk)
 *   group NAME THRESHOLD MEMBER...     THRESHOLD: 1..members, any, all
 *   quorum NAME                        exactly one
 *   # a comment, to the end of the line
 *
 * A name is defined once and only used on later lines (so groups cannot
 * form a cycle); a group is satisfied when at least THRESHOLD of its
 * members are (a witness is when its cosignature verifies).
 *
 * Owns the parsing of that file and the one decision "do the verified
 * cosignatures of this checkpoint satisfy the quorum?" (ldg_trust_check).
 * The checkpoint's own note signature (the log's key) is not looked at:
 * ldg_checkpoint_verify() and the keyring answer that.
 *
 * A struct ldg_trust is immutable once parsed: read by any number of
 * threads at once, freed with ldg_trust_free() (NULL is a no-op).
 */
#ifndef LDG_TRUST_H
#define LDG_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "err.h"
#include "keys.h"

/* A witness or group name: 1..64 printable ASCII characters, no space
 * or '#', and none of "any", "all", "none". */
#define LDG_TRUST_NAME_MAX 64
#define LDG_TRUST_WITNESSES 64 /* witness lines */
#define LDG_TRUST_GROUPS 64    /* group lines */
#define LDG_TRUST_MEMBERS 64   /* members of one group */
#define LDG_TRUST_FILE_MAX 65536

struct ldg_trust;

/* Parses a policy of len bytes. Every refusal is -EINVAL with a message
 * starting "line N: " (or "no quorum line"): an unknown keyword, a name
 * defined twice or used before its definition, a key that is not a
 * cosigner key or is another witness's, a threshold that is not 1..the
 * group's members, a member named twice, a witness under two members
 * of a group of threshold 2 or more, no or two quorum lines,
 * "quorum none", control characters. Caller frees *out with
 * ldg_trust_free(). */
int ldg_trust_parse(const char *text, size_t len, struct ldg_trust **out,
		    struct ldg_err *err);

/* Reads the file at path (a regular file under LDG_TRUST_FILE_MAX
 * bytes) and parses it; every message starts with path. */
int ldg_trust_load(const char *path, struct ldg_trust **out,
		   struct ldg_err *err);

void ldg_trust_free(struct ldg_trust *t);

/* What a checkpoint carries from one witness of the policy. */
enum ldg_cosig_seen {
	LDG_COSIG_ABSENT = 0, /* no cosignature line by its key */
	LDG_COSIG_OK,	      /* every line by its key verifies */
	LDG_COSIG_BAD,	      /* a line by its key does not verify */
};

struct ldg_trust_seen {
	char name[LDG_TRUST_NAME_MAX + 1]; /* the policy's name */
	struct ldg_vkey key;
	enum ldg_cosig_seen seen;
	uint64_t time; /* LDG_COSIG_OK: the newest cosignature's time */
};

struct ldg_trust_report {
	char quorum[LDG_TRUST_NAME_MAX + 1];
	bool met;
	size_t n; /* the policy's witnesses, in the file's order */
	struct ldg_trust_seen w[LDG_TRUST_WITNESSES];
};

/* Checks cp's cosignature lines by the policy's witnesses (as
 * ldg_cosig_verify(); lines by other keys are ignored) and whether they
 * satisfy the quorum. rep is filled in every case. 0: the quorum is
 * met; -EACCES: it is not (err names the quorum, the group or witness
 * that fell short, and who cosigned); -EBADMSG: a cosignature line by a
 * policy witness does not verify, which refuses the checkpoint whatever
 * the others say (signed-note: a bad signature by a known key rejects
 * the note; err names the witness). */
__attribute__((warn_unused_result)) int
ldg_trust_check(const struct ldg_trust *t, const struct ldg_checkpoint *cp,
		struct ldg_trust_report *rep, struct ldg_err *err);

#endif
