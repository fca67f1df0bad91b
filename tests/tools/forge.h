/*
 * forge.h - entries signed without the writer's checks, and stored
 * without them, for tests that need a ledger the library would refuse to
 * write: one piece of code for tests/tools/ldg_forge and the unit tests.
 *
 * forge_seal() makes what a key holder can make with no library at all
 * (a stolen or revoked key, a deployer out of scope, a rollback to values
 * nobody signed, a broken chain), and what an honest remote writer makes
 * before the server has checked it. rawdb.h stores the bytes.
 *
 * Test code: returns 0 or a negative errno with err filled, as libledger.
 */
#ifndef LDG_FORGE_H
#define LDG_FORGE_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "rawdb.h"
#include "store.h"

/* Seals draft e (kind, target, changes, reason, meta) for s's origin as
 * the entry after (head, prev), signed by k: seq head + 1, time now,
 * version 2 with the commitment of s's keyring and locks at its head
 * with e applied. prev NULL: s's own head and its hash (head is then
 * ignored). No authorisation, lock, rollback or chain check: e is sealed
 * whatever it says. *buf is malloc'd; the caller frees it. */
int forge_seal(struct ldg_store *s, uint64_t head, const uint8_t *prev,
	       struct ldg_entry *e, const struct ldg_signer *k, uint8_t **buf,
	       size_t *len, struct ldg_err *err);

/* How forge_store() indexes an entry. */
enum forge_index {
	/* as the library's writer does (ldg_index_entry()): the governance
	 * decides what takes effect, so the entry is stored as a writer
	 * that skipped only the checks would store it */
	FORGE_INDEX_HONEST,
	/* the governance rows (gov, props) as the honest writer makes them,
	 * and every other index as for a change in effect at its seq (its
	 * own changes in state and versions): what a compromised writer
	 * writes to make a proposal deployable while the signed log, its
	 * commitment and the governance index still say it is pending */
	FORGE_INDEX_EFFECTIVE,
};

/* Appends bytes (a sealed entry, forge_seal()) to s as the entry after
 * its head, with index rows made as how says, in one write transaction.
 * No authorisation, chain or commitment check. */
int forge_store(struct ldg_store *s, const uint8_t *bytes, size_t len,
		enum forge_index how, struct ldg_err *err);

#endif
