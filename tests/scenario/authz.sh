#!/bin/bash
# authz.sh - no write is decided on an unchecked index (docs/format.md
# 8.1 and 14). The keys, keyids and lock rows are edited behind the
# library's back (tests/tools/ldg_tamper): a revoked key made active
# admin, a lock dropped, a key id pointed at another key, the head's
# commitment flipped. Every write is then refused with one line (exit 2)
# and the ledger stays byte-identical; `ledger verify` names the index;
# after `ledger reindex` writes work again, under the real rules. And a
# ledger written before entry version 2 (fixtures/v1-ledger, made by the
# binary of commit 0ebb08a) still verifies, is checked the same way
# (by a replay), and takes writes, which are version 2 from then on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_serve.sh"
need mdb_dump mdb_load od curl
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"

FIXTURES=$(cd "$(dirname "$0")/fixtures" && pwd)

tamper() {
	"$TAMPER" "$@" || fail "ldg_tamper $* failed"
}

hexof() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# keyrec PK32HEX ADDED REVOKED ROLE SCOPES: a "keys" value, as hex
keyrec() {
	printf '%s%016x%016x%s00%s' "$1" "$2" "$3" "$(hexof "$4")" "$(hexof "$5")"
}

W=$T/w

# a fresh copy of ledger A to spoil
fresh() {
	rm -rf "$T/w"
	cp -a "$T/a" "$T/w"
	export LEDGER_DIR=$T/w
}

# refused WHAT SEQ CMD...: the write is refused because the index is not
# the signed head's (seq SEQ), with one line, exit 2, nothing written
refused() {
	local seq=$2
	shift 2
	snapshot refused
	expect_rc 2 ledger "$@"
	expect_one_line_error "^ledger: [a-z ]+: the keys/locks index does not match the signed head at seq $seq; run ledger verify, then ledger reindex$"
	expect_no_out
	assert_unchanged refused
}

# repaired: verify names the index, reindex rebuilds it from the entries
repaired() {
	expect_rc 1 ledger verify
	expect_one_line_error "index \"(keys|keyids|state)\" does not match"
	expect_rc 0 ledger reindex
	expect_rc 0 ledger verify
}

# ---------------------------------------------------------------------
step "ledger A"
new_key admin
new_key dep
new_key old
ADMIN=$T/keys/admin.key
DEP=$T/keys/dep.key
OLD=$T/keys/old.key
export LEDGER_DIR=$T/a
expect_rc 0 ledger init --origin example.com/deploy/authz --key "$ADMIN"
expect_rc 0 ledger key add "$T/keys/dep.pub" --role deployer --scope 'staging/*' -m "two" --key "$ADMIN"
expect_rc 0 ledger key add "$T/keys/old.pub" --role deployer --scope '*' -m "three" --key "$ADMIN"
expect_rc 0 ledger set prod/api image.tag=p1 -m "four" --key "$OLD"
expect_rc 0 ledger set prod/web image.tag=w1 -m "five" --key "$ADMIN"
expect_rc 0 ledger lock prod/web -m "six: freeze" --key "$ADMIN"
expect_rc 0 ledger key revoke old -m "seven" --key "$ADMIN"
expect_rc 0 ledger set staging/api image.tag=s1 -m "eight" --key "$DEP"
expect_out_match '^8 '
expect_rc 0 ledger verify
run "$TAMPER" "$T/a" get 8
check "entry 8 is a version 2 entry (fixarray 12, version 2)" \
	[ "$(head -c4 "$OUT")" = 9c02 ]
OLD_REC=$("$TAMPER" "$T/a" getdb keys "$(hexof old)") || fail "getdb old"
DEP_REC=$("$TAMPER" "$T/a" getdb keys "$(hexof dep)") || fail "getdb dep"

case_revoked_admin() {
	step "keys index: the revoked key made active and admin"
	fresh
	tamper "$W" putdb keys "$(hexof old)" \
		"$(keyrec "${OLD_REC:0:64}" 3 0 admin '*')"
	refused keys 8 set prod/api image.tag=p2 -m "after revoke" --key "$OLD"
	# every write, whoever signs it: the index is not to be trusted
	refused keys 8 set staging/api image.tag=s2 -m "honest" --key "$DEP"
	refused keys 8 key add "$T/keys/old.pub" --role admin --scope '*' -m "again" --key "$OLD"
	repaired
	expect_rc 1 ledger set prod/api image.tag=p2 -m "after revoke" --key "$OLD"
	expect_one_line_error 'signer key "old" was revoked at seq 7'
	expect_rc 0 ledger set staging/api image.tag=s2 -m "honest" --key "$DEP"
	expect_out_match '^9 '
	expect_rc 0 ledger verify
}
section "a revoked key marked active admin in the keys index" case_revoked_admin

case_widened_scope() {
	step "keys index: a deployer's scope widened"
	fresh
	tamper "$W" putdb keys "$(hexof dep)" \
		"$(keyrec "${DEP_REC:0:64}" 2 0 deployer '*')"
	refused keys 8 set prod/api image.tag=p2 -m "out of scope" --key "$DEP"
	repaired
	expect_rc 1 ledger set prod/api image.tag=p2 -m "out of scope" --key "$DEP"
	expect_one_line_error 'not allowed to change prod/api'
}
section "a deployer's scope widened in the keys index" case_widened_scope

case_keyids() {
	step "keyids index: dep's key id pointed at admin"
	fresh
	DEP_ID=$(cut -d+ -f2 "$T/keys/dep.pub")
	tamper "$W" putdb keyids "$DEP_ID" "$(hexof admin)"
	refused keyids 8 set prod/api image.tag=p2 -m "as admin" --key "$DEP"
	repaired
}
section "a key id pointed at another key in the keyids index" case_keyids

case_lock_dropped() {
	step "state index: the lock of prod/web dropped"
	fresh
	tamper "$W" delkey state "$(hexof prod/web)00$(hexof '!lock')"
	refused state 8 set prod/web image.tag=w2 -m "through the lock" --key "$ADMIN"
	step "state index: the lock of prod/web marked lifted"
	fresh
	LOCK_ROW=$("$TAMPER" "$W" getdb state "$(hexof prod/web)00$(hexof '!lock')") ||
		fail "getdb lock row"
	tamper "$W" putdb state "$(hexof prod/web)00$(hexof '!lock')" "${LOCK_ROW:0:16}00"
	refused state 8 set prod/web image.tag=w2 -m "through the lock" --key "$ADMIN"
	refused state 8 lock prod/web -m "lock again" --key "$ADMIN"
	repaired
	expect_rc 1 ledger set prod/web image.tag=w2 -m "through the lock" --key "$ADMIN"
	expect_one_line_error 'locked since seq 6'
	expect_rc 0 ledger set prod/web image.tag=w2 -m "forced" --force --key "$ADMIN"
	expect_out_match '^9 '
	expect_rc 0 ledger verify
}
section "a lock dropped from the state index" case_lock_dropped

case_head_commitment() {
	step "the head's commitment flipped (its signature no longer holds)"
	fresh
	# the authz field: the 32 bytes before the signature field (c4 40 + 64)
	run "$TAMPER" "$W" get 8
	E8=$(out)
	check "entry 8's authz field is bin 32 before the signature" \
		[ "${E8:$((${#E8} - 200)):4}" = c420 ]
	tamper "$W" flip 8 -67
	refused entries 8 set staging/api image.tag=s3 -m "on a bad head" --key "$DEP"
	expect_rc 1 ledger verify
	# the commitment is checked as the entries are replayed, the
	# signatures on other threads: either may be the first found
	expect_one_line_error 'entry 8: (bad signature|its authz field is not the commitment)'
}
section "a head whose commitment was edited" case_head_commitment

case_remote() {
	step "remote writers stamp their entries from the server's state"
	fresh
	start_server
	expect_rc 0 ledger --remote "$BASE" set staging/api image.tag=r1 -m "remote" --key "$DEP"
	expect_out_match '^9 '
	expect_rc 0 ledger --remote "$BASE" lock staging/api -m "remote freeze" --key "$DEP"
	expect_out_match '^10 '
	run "$TAMPER" "$W" get 10
	check "the remote lock is version 2" [ "$(head -c4 "$OUT")" = 9c02 ]
	# a rollback and its lock: one batch, the second stamped after the first
	expect_rc 0 ledger --remote "$BASE" rollback staging/api --to 8 -m "remote rollback" --key "$ADMIN"
	expect_rc 0 ledger verify
	expect_out_match '^ok: 11 entries'

	step "the server refuses to write on an edited index"
	tamper "$W" putdb keys "$(hexof old)" \
		"$(keyrec "${OLD_REC:0:64}" 3 0 admin '*')"
	snapshot remote
	expect_rc 2 ledger --remote "$BASE" set prod/api image.tag=p3 -m "after revoke" --key "$OLD"
	expect_one_line_error 'the keys/locks index does not match the signed head at seq 11'
	assert_unchanged remote
	stop_server TERM
}
section "remote writes, and a server with an edited index" case_remote

# ---------------------------------------------------------------------
# A ledger written before entry version 2: 7 version 1 entries (init,
# key add dep and old, set, set, lock prod/api, revoke old), the keys
# of fixtures/v1-ledger.

v1_copy() {
	rm -rf "$T/v1" "$T/v1keys"
	mkdir -p "$T/v1" "$T/v1keys"
	mdb_load -f "$FIXTURES/v1-ledger/ledger.dump" "$T/v1" 2>/dev/null ||
		fail "mdb_load of the v1 fixture"
	cp "$FIXTURES"/v1-ledger/*.key "$FIXTURES"/v1-ledger/*.pub "$T/v1keys/"
	chmod 600 "$T"/v1keys/*.key
	export LEDGER_DIR=$T/v1
}

case_v1() {
	step "a version 1 ledger verifies"
	v1_copy
	expect_rc 0 ledger verify
	expect_out_match '^ok: 7 entries, head 7 c70240c9e29403f5b0a64ba87d7bfda19b853fe182e78129b9d4115d1d7301d0$'
	run "$TAMPER" "$T/v1" get 7
	check "entry 7 is version 1" [ "$(head -c4 "$OUT")" = 9b01 ]

	step "its index edited: the replay of its entries refuses the write"
	OLD1=$("$TAMPER" "$T/v1" getdb keys "$(hexof old)") || fail "getdb old"
	tamper "$T/v1" putdb keys "$(hexof old)" \
		"${OLD1:0:80}0000000000000000${OLD1:96}"
	refused keys 7 set prod/web image.tag=x -m "revoked" --key "$T/v1keys/old.key"
	tamper "$T/v1" putdb keys "$(hexof old)" "$OLD1"
	tamper "$T/v1" delkey state "$(hexof prod/api)00$(hexof '!lock')"
	refused state 7 set prod/api image.tag=x -m "locked" --key "$T/v1keys/admin.key"
	expect_rc 0 ledger reindex

	step "it takes writes, version 2 from the first"
	expect_rc 1 ledger set prod/api image.tag=x -m "locked" --key "$T/v1keys/admin.key"
	expect_one_line_error 'locked since seq 6'
	expect_rc 0 ledger set staging/api image.tag=2.0 -m "on an old ledger" --key "$T/v1keys/dep.key"
	expect_out_match '^8 '
	run "$TAMPER" "$T/v1" get 8
	check "entry 8 is version 2" [ "$(head -c4 "$OUT")" = 9c02 ]
	expect_rc 0 ledger unlock prod/api -m "thaw" --key "$T/v1keys/admin.key"
	expect_out_match '^9 '
	expect_rc 0 ledger set prod/api image.tag=x -m "thawed" --key "$T/v1keys/admin.key"
	expect_out_match '^10 '
	expect_rc 0 ledger verify
	expect_out_match '^ok: 10 entries, head 10 '

}
section "a ledger written before entry version 2" case_v1

finish
