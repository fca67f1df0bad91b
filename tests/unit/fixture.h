/*
 * fixture.h - the ledger every store, ops, ops_authz, append and verify unit
 * test starts from, and the helpers those tests share.
 *
 * fx_setup() makes a fresh temporary directory, four generated keys
 * (admin, deployer, applier, outsider: only admin is in the keyring) and
 * a ledger initialised by admin for ORIGIN, open read-write in f->s;
 * fx_teardown() closes and removes it all. A test that must open the
 * environment another way (rawdb.h, fork) closes f->s first and sets it
 * to NULL: one environment per process at a time (lmdb.h, Caveats).
 *
 * The helpers fail the running test (cmocka) instead of returning errors,
 * except where a test checks the error itself (set_kv, unset_k, lock_t,
 * verify return the library's rc). Test code only.
 */
#ifndef LDG_FIXTURE_H
#define LDG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "authz.h"
#include "checkpoint.h"
#include "forge.h"
#include "ops.h"
#include "rawdb.h"
#include "store.h"
#include "testlib.h"
#include "util.h"
#include "verify.h"

#define ORIGIN "example.com/deploy/test"

struct fx {
	char *tmp;
	char dir[4096];
	struct ldg_signer *admin, *deployer, *applier, *outsider;
	struct ldg_store *s;
};

/* cmocka group setup (libsodium), per-test setup and teardown. */
int fx_group_setup(void **state);
int fx_setup(void **state);
int fx_teardown(void **state);

/* The head's seq, and its hash in hash unless NULL. */
uint64_t head_of(struct fx *f, uint8_t hash[LDG_HASH_BYTES]);

/* Sets target key=value; returns the rc, and the new seq (0 when nothing
 * was written) in *seq. */
int set_kv(struct fx *f, const struct ldg_signer *k, const char *target,
	   const char *key, const char *value, bool force, uint64_t *seq,
	   struct ldg_err *err);
/* set_kv by admin that must write an entry; returns its seq. */
uint64_t must_set(struct fx *f, const char *target, const char *key,
		  const char *value);
int unset_k(struct fx *f, const struct ldg_signer *k, const char *target,
	    const char *key, bool force, uint64_t *seq);
/* Locks (lock true) or unlocks target, reason "hold it". */
int lock_t(struct fx *f, const struct ldg_signer *k, const char *target,
	   bool lock, uint64_t *seq);
/* Admin adds k's public key with role and scopes; must succeed. */
void add_key(struct fx *f, const struct ldg_signer *k, const char *role,
	     const char *scopes);

/* The value of key in target at seq at (0 = head), or NULL; caller
 * frees. */
char *value_at(struct fx *f, const char *target, const char *key, uint64_t at);
/* Fails the test unless key in target at at is want (NULL: unset). */
void assert_value_at(struct fx *f, const char *target, const char *key,
		     uint64_t at, const char *want);
uint64_t lock_seq_at(struct fx *f, const char *target, uint64_t at);
/* The decoded entry seq; caller frees with ldg_entry_free(). */
struct ldg_entry *entry_at(struct fx *f, uint64_t seq);

/* ldg_verify() with two threads and the given checkpoints: 0 or
 * -EBADMSG (the report says what); any other error fails the test. */
int verify(struct fx *f, const struct ldg_checkpoint *cps, size_t n,
	   struct ldg_verify_report *rep);
/* verify() must pass, covering every entry up to the head. */
void assert_verify_ok(struct fx *f);

/* Writes a ledger of every kind of entry (set, unset, rollback, forced
 * set, unlock, key add and revoke, a deployer's entries) on f. */
void build_busy_ledger(struct fx *f);

/* The keyring and locks at f's head, as a remote writer gets them;
 * caller frees with ldg_authz_free(). */
void store_authz(struct fx *f, struct ldg_authz *az);

/* forge_seal() of e by k on f's head (prev NULL) or after the head's seq
 * with prev instead of its hash; must succeed. Caller frees *buf. */
void forge_on_head(struct fx *f, struct ldg_entry *e,
		   const struct ldg_signer *k, const uint8_t *prev,
		   uint8_t **buf, size_t *len);
/* The one way the tests put a raw forged entry: forge_on_head(), then
 * the bytes stored as entry head + 1 with raw LMDB (rawdb.h), indexes
 * untouched, as an attacker with write access would; f->s is closed
 * around the raw write and open again after. Returns the seq. */
uint64_t put_forged_entry(struct fx *f, struct ldg_entry *e,
			  const struct ldg_signer *k, const uint8_t *prev);

/* A rollback of staging/api to seq to with one change key=value (NULL:
 * unset), sealed by k on the head: what a lying server could get a
 * client to sign. Caller frees *buf. */
void forged_rollback(struct fx *f, const struct ldg_signer *k, uint64_t to,
		     const char *key, const char *value, uint8_t **buf,
		     size_t *len);
/* Its draft; caller frees with ldg_entry_free(). */
struct ldg_entry *rollback_draft(uint64_t to, const char *key,
				 const char *value);

/* Flips one bit of the stored bytes of entry seq of the ledger in dir,
 * back_off bytes from their end, with raw LMDB (as an attacker with
 * write access would); the ledger must not be open in this process. */
void flip_stored_byte(const char *dir, uint64_t seq, size_t back_off);

/* The seq of the last entry res records (0: none). */
uint64_t last_seq(const struct ldg_result *res);
/* Admin sets scope's policy: approvals, and a soak of soak seconds from
 * cluster from (NULL: none); must succeed. */
void policy(struct fx *f, const char *scope, unsigned approvals, uint64_t soak,
	    const char *from);

#endif
