/*
 * authz.h - the authorisation state (keyring and locks) and its
 * commitment, which version 2 entries carry (docs/format.md, 8.1).
 *
 *   STATE = [ KEYS, LOCKS ]            canonical msgpack (format.md 2),
 *           or [ KEYS, LOCKS, POLICIES, WINDOWS, PENDING ] once there is
 *           governance (gov.h, format.md 8b)
 *   KEYS  = [[NAME, PK, ROLE, SCOPES, ADDED, REVOKED], ...]  by NAME
 *   LOCKS = [[TARGET, SEQ], ...]                              by TARGET
 *   commitment = SHA-256("ledger/v2/authz" 0x00 STATE)
 *
 * Every write decides from the indexes, which are not signed; before it
 * writes, a writer calls ldg_authz_check_head() (authorize.h), which
 * proves that the indexes hold the state the head entry commits to (or,
 * for a head from before version 2, the state a replay of the entries
 * gives). Then it stamps each entry it appends with the state after it
 * (ldg_authz_stamp()), or checks the stamp of an entry signed elsewhere
 * (ldg_authz_follow()).
 *
 * This module is plain data: it reads no store (a remote writer decodes
 * the state it is handed, and the store keeps a writer's state between
 * commits). Reading the indexes and deciding are authorize.h's.
 *
 * Ownership: a struct ldg_authz owns its arrays; ldg_authz_free() them.
 * Plain data: not shared between threads.
 */
#ifndef LDG_AUTHZ_H
#define LDG_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"
#include "gov.h"
#include "names.h"
#include "store.h"

struct ldg_authz_lock {
	char target[LDG_TARGET_MAX + 1];
	uint64_t seq; /* the lock entry in force */
};

struct ldg_authz {
	struct ldg_keyinfo *keys; /* sorted by name */
	size_t n_keys;
	struct ldg_authz_lock *locks; /* sorted by target */
	size_t n_locks;
	struct ldg_gov gov; /* policies, windows, pending proposals */
	bool v2;	    /* the last entry applied (the head) is version 2 */
	bool have_hash;	    /* hash is the commitment of the state as it is */
	uint8_t hash[LDG_HASH_BYTES];
};

void ldg_authz_init(struct ldg_authz *a);
void ldg_authz_free(struct ldg_authz *a);

/* Applies an accepted entry: init and key-add add a key, key-revoke
 * revokes one, lock and unlock set and lift a target's lock; the kinds of
 * promotion policies change the governance part (ldg_gov_apply()). -ENOENT key-revoke of a key not there, -EEXIST a key
 * added twice, -ENOMEM. */
int ldg_authz_apply(struct ldg_authz *a, const struct ldg_entry *e);

/* Records target as locked by the lock entry seq (a state built from the
 * indexes, ldg_authz_load()). -EINVAL a target name too long, -ENOMEM. */
int ldg_authz_set_lock(struct ldg_authz *a, const char *target, uint64_t seq);

/* The canonical STATE bytes (malloc'd; caller frees), and the
 * commitment of the state (computed once until the next apply). */
int ldg_authz_encode(const struct ldg_authz *a, uint8_t **out, size_t *len);
int ldg_authz_commit(struct ldg_authz *a, uint8_t out[LDG_HASH_BYTES]);

/* Strict decode of STATE bytes (what `ledger serve` hands a remote
 * writer): -EBADMSG unless they are the canonical encoding of a state. */
int ldg_authz_decode(const uint8_t *buf, size_t len, struct ldg_authz *out,
		     struct ldg_err *err);

/* Makes e (seq set, already authorised against a) the version 2 entry
 * after a: applies it and puts the commitment in e->authz. */
int ldg_authz_stamp(struct ldg_authz *a, struct ldg_entry *e,
		    struct ldg_err *err);

/* For an entry signed elsewhere, authorised against a: applies it, and
 * refuses (-EBADMSG) a version 2 entry whose commitment is not that of
 * the state after it, or a version 1 entry after a version 2 one. */
int ldg_authz_follow(struct ldg_authz *a, const struct ldg_entry *e,
		     struct ldg_err *err);

#endif
