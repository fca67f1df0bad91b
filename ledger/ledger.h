/*
 * ledger.h - the core library (libledger): what the ledger is, and every
 * rule about it, with no front end's concerns. It owns
 *
 *   entry.h       the signed entry's bytes: the canonical msgpack codec,
 *                 signatures, batches (docs/format.md)
 *   names.h       the naming rules for origins, clusters, releases, keys
 *   keys.h        Ed25519 keys in the C2SP signed-note text format
 *   merkle.h      RFC 6962 tree hashes and proofs
 *   checkpoint.h  C2SP tlog-checkpoint signed notes
 *   store.h       the ledger on disk (one LMDB environment) and reads
 *   authz.h       the keyring-and-locks state and its commitment
 *   authorize.h   the one authorisation question: may this key append
 *                 this entry here (ldg_may_append); policies go there
 *   ops.h         the write operations, each one LMDB transaction
 *   verify.h      the one full pass over the log
 *   err.h         errors: an errno, a sentence of facts, and the rule
 *   util.h        small pure helpers (hex, integers, time)
 *
 * It links LMDB, libsodium and msgpack-c, and nothing that renders or
 * speaks HTTP: JSON and YAML shapes are render/'s, the HTTP client is
 * client/'s, the server serve/'s, the mount fs/'s, the applier apply/'s.
 * The library never prints and never exits: a call returns 0 or a
 * negative errno with the facts in struct ldg_err, and each front end
 * words its own advice (cli/cli.c). store_impl.h is private to ledger/.
 *
 * Including this header includes every public one.
 */
#ifndef LDG_LEDGER_H
#define LDG_LEDGER_H

#include "authorize.h"
#include "authz.h"
#include "checkpoint.h"
#include "entry.h"
#include "err.h"
#include "keys.h"
#include "merkle.h"
#include "names.h"
#include "ops.h"
#include "store.h"
#include "util.h"
#include "value.h"
#include "verify.h"

#endif
