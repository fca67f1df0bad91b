/*
 * err.h - a detailed, user-facing reason that travels beside an errno.
 *
 * Library functions return 0 or a negative errno; when they fail they may
 * also fill a struct ldg_err with one line saying what failed and why.
 * Only cli/ prints it. Every function taking a struct ldg_err * accepts NULL.
 *
 * Codes used across the library:
 *   -EINVAL   bad input (names, values, flags)
 *   -ENOENT   missing ledger, entry, key or target
 *   -EEXIST   already exists (ledger, key name)
 *   -EACCES   signer not authorised for this entry
 *   -EBUSY    target locked
 *   -EBADMSG  bad signature, bad encoding, broken chain
 *   -EIO      storage failure
 *
 * The message is a factual sentence: what happened, on what. It never
 * says what to type: the library does not know its front end. When a rule
 * refused (ldg_may_append(), authorize.h, and a missing ledger), the
 * facts travel beside it too: why (which rule), the seq it names, the
 * key, the target, the lock's reason. Each front end words its own advice
 * from them (the CLI "unlock it or use --force", chatops "ledger unlock
 * TARGET first", the web page a checkbox); none parses the message.
 *
 * Plain data: a struct ldg_err belongs to whoever passed it in; the
 * functions below are thread-safe.
 */
#ifndef LDG_ERR_H
#define LDG_ERR_H

#include <stddef.h>
#include <stdint.h>

#define LDG_ERR_MSG_MAX 512
/* the facts' sizes: names.h's LDG_KEYNAME_MAX, LDG_TARGET_MAX and a
 * reason as messages cut it (authorize.c checks that they match) */
#define LDG_ERR_KEY_MAX 64
#define LDG_ERR_ROLE_MAX 16
#define LDG_ERR_TARGET_MAX 117
#define LDG_ERR_REASON_MAX 200

/* Which rule said no (docs/format.md section 8 for the authorisation
 * rules); LDG_WHY_NONE for every other error. */
enum ldg_why {
	LDG_WHY_NONE = 0,
	LDG_WHY_NO_LEDGER,   /* no ledger in the directory (the message
			      * names it) */
	LDG_WHY_INIT_SIGNER, /* an init not signed by the key it records */
	LDG_WHY_UNKNOWN_KEY, /* signer not in the keyring (key: its id, hex) */
	LDG_WHY_REVOKED,     /* signer revoked (key; seq: the key-revoke) */
	LDG_WHY_ROLE,	     /* the signer's role may not write this kind
			      * (key, role); keys: an admin with '*' only */
	LDG_WHY_SCOPE,	     /* target not in the signer's scopes (key,
			      * role, target) */
	LDG_WHY_LOCKED,	     /* set/unset on a locked target (target; seq:
			      * the lock entry; reason: its reason) */
	LDG_WHY_KEY_TAKEN,   /* key-add of a name or key id already added
			      * (key: the new key's name; seq: the other's add) */
	LDG_WHY_NO_SUCH_KEY, /* key-revoke of a name never added (key) */
	LDG_WHY_KEY_REVOKED, /* key-revoke of a key revoked already (key,
			      * seq) */
	LDG_WHY_LAST_ADMIN,  /* key-revoke of the last admin with scope '*'
			      * (key) */
	/* promotion policies (docs/format.md 8b) */
	LDG_WHY_FROZEN,		  /* inside a freeze window (seq: the window,
				   * target, reason: the window's) */
	LDG_WHY_NOT_SOAKED,	  /* soak not met (target: the soak's source) */
	LDG_WHY_NOT_PENDING,	  /* approve/withdraw of a proposal that is
				   * not pending (seq: what ended it) */
	LDG_WHY_SELF_APPROVAL,	  /* the author approving (key) */
	LDG_WHY_ALREADY_APPROVED, /* a second approval by a key (key) */
	LDG_WHY_NOT_AUTHOR,	  /* withdraw by neither author nor admin */
	LDG_WHY_NO_WINDOW,	  /* unfreeze of a window not in force */
	LDG_WHY_SKEW,		  /* signed time off the writer's clock */
	LDG_WHY_UNAPPROVED,	  /* a change in effect without the approvals
				   * its policy needs (seq: the entry that
				   * made it effective; target) */
};

struct ldg_err {
	int code;
	/* the facts of a refusal by a rule; zero for other errors */
	enum ldg_why why;
	uint64_t seq;
	char key[LDG_ERR_KEY_MAX + 1];
	char role[LDG_ERR_ROLE_MAX];
	char target[LDG_ERR_TARGET_MAX + 1];
	char reason[LDG_ERR_REASON_MAX + 1];
	char msg[LDG_ERR_MSG_MAX];
};

/* Fills e (when not NULL) and returns code, so callers can
 * "return ldg_err_set(e, -EINVAL, ...);". Clears the facts: e says only
 * what the message says. */
int ldg_err_set(struct ldg_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ldg_err_set() for a refusal by a rule: also records why, the seq the
 * rule names (0: none) and the key it is about (NULL: none). Set target,
 * role and reason after it where the rule names them. */
int ldg_err_refuse(struct ldg_err *e, int code, enum ldg_why why, uint64_t seq,
		   const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The rule's name, for a front end at the other end of a wire (the
 * API's "rule", docs/api.md): "locked", "frozen", "not-soaked", ...;
 * NULL for LDG_WHY_NONE and values outside the enum. ldg_why_by_name()
 * is its inverse: LDG_WHY_NONE for NULL or an unknown name. */
const char *ldg_why_name(enum ldg_why why);
enum ldg_why ldg_why_by_name(const char *name);

/* Prefixes e->msg with "what: " (e.g. a file name), keeping the code. */
void ldg_err_prefix(struct ldg_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
