#!/bin/bash
# since.sh - `ledger verify --since CHECKPOINT` through the real binary
# (issue 15, docs/format.md section 10 "Verifying from a checkpoint"):
# the entries after a trusted checkpoint checked in full, and each
# refusal (another tree of the same origin and key, an entry after N
# edited, the keys index at N not what entry N commits to, an entry
# after N by a key revoked before N, a lock at N broken after it, a
# version 1 ledger) one line, its exit code,
# and the ledger byte for byte as it was.
. "$(dirname "$0")/lib.sh"
need mdb_dump mdb_load od
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"
[ -n "${FORGE:-}" ] && [ -x "$FORGE" ] || skip "FORGE (ldg_forge) not built"
FIXTURES=$(cd "$(dirname "$0")/fixtures" && pwd)

hexof() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# a fresh copy of ledger A to spoil
fresh() {
	rm -rf "$T/w"
	cp -a "$T/a" "$T/w"
	export LEDGER_DIR=$T/w
}

# since_refused RC ERE [ARGS]: verify --since ARGS exits RC with one
# line matching ERE (and in JSON too, for exit 1), the ledger unchanged
since_refused() {
	local rc=$1 re=$2
	shift 2
	snapshot sr
	expect_rc "$rc" ledger verify --since "$@"
	expect_one_line_error "$re"
	expect_no_out
	if [ "$rc" -eq 1 ]; then
		expect_rc 1 ledger verify --json --since "$@"
		expect_json ok = false
	fi
	assert_unchanged sr
}

# ---------------------------------------------------------------------
step "ledger A, a checkpoint at 7, four entries after it"
run ledger keygen admin
[ "$RC" -eq 0 ] || fail "keygen admin failed"
ADMIN=$KEYS/admin.key
new_key dep
export LEDGER_DIR=$T/a
expect_rc 0 ledger init --origin example.com/since --key "$ADMIN"
expect_rc 0 ledger key add "$T/keys/dep.pub" --role deployer --scope 'staging/*' -m two
expect_rc 0 ledger set staging/api image.tag=a1 -m three --key "$T/keys/dep.key"
expect_rc 0 ledger set staging/web image.tag=w1 -m four
expect_rc 0 ledger lock staging/web -m five
expect_rc 0 ledger key revoke dep -m six
expect_rc 0 ledger set prod/api image.tag=p1 -m seven
expect_out_match '^7 '
expect_rc 0 ledger checkpoint -o "$T/cp7"
expect_rc 0 ledger set staging/api image.tag=a2 -m eight
expect_rc 0 ledger set staging/web image.tag=w2 -m nine --force
expect_rc 0 ledger rollback staging/api --to 3 -m ten
expect_out_match '^10 '
expect_rc 0 ledger checkpoint -o "$T/cp11"

step "verify --since: the four entries after it (a rollback locks its target)"
snapshot a
expect_rc 0 ledger verify --since "$T/cp7"
expect_out_match "^ok: 4 entries after $T/cp7 \\(7 entries\\), head 11 [0-9a-f]{64}\$"
expect_out_match "^ok: contains checkpoint $T/cp7 \\(7 entries\\)\$"
expect_no_err
expect_rc 0 ledger verify --since "$T/cp7" --json
expect_json ok = true
expect_json since = 7
expect_json entries = 4
expect_json head = 11
expect_rc 0 ledger verify --since "$T/cp11" --checkpoint "$T/cp7"
expect_out_match "^ok: 0 entries after $T/cp11 \\(11 entries\\), head 11 "
expect_out_match "^ok: contains checkpoint $T/cp7 \\(7 entries\\)\$"
assert_unchanged a

step "usage: --since twice, a file that is not a checkpoint"
expect_rc 2 ledger verify --since "$T/cp7" --since "$T/cp11"
expect_one_line_error '^ledger: verify: --since is given once'
printf 'not a checkpoint\n' >"$T/junk"
expect_rc 2 ledger verify --since "$T/junk"
expect_one_line_error "^ledger: verify: $T/junk: "

case_fork() {
	step "a checkpoint of another tree: same origin and key, forked"
	export LEDGER_DIR=$T/b
	expect_rc 0 ledger init --origin example.com/since --key "$ADMIN"
	for i in 2 3 4 5 6 7; do
		expect_rc 0 ledger set staging/api image.tag=b$i -m "b $i"
	done
	expect_rc 0 ledger checkpoint -o "$T/b7"
	export LEDGER_DIR=$T/a
	since_refused 1 "^ledger: verify: $T/b7: the first 7 entries do not match the checkpoint: the ledger was rewritten or forked\$" "$T/b7"
	step "a checkpoint of a bigger tree: entries were removed"
	export LEDGER_DIR=$T/b
	for i in 8 9 10 11 12; do
		expect_rc 0 ledger set staging/api image.tag=b$i -m "b $i"
	done
	expect_rc 0 ledger checkpoint -o "$T/b12"
	export LEDGER_DIR=$T/a
	since_refused 1 "^ledger: verify: $T/b12: the checkpoint has 12 entries but the ledger only 11: entries were removed\$" "$T/b12"
}
section "a checkpoint of another tree" case_fork

case_edited() {
	step "an entry after N edited"
	fresh
	"$TAMPER" "$T/w" flip 9 -70 || fail "flip"
	since_refused 1 '^ledger: verify: entry 9: ' "$T/cp7"
	step "entry N itself edited: its hash is a leaf of the checkpoint's root"
	fresh
	"$TAMPER" "$T/w" flip 7 -70 || fail "flip"
	since_refused 1 "^ledger: verify: $T/cp7: the first 7 entries do not match the checkpoint" "$T/cp7"
}
section "an edited entry" case_edited

case_index() {
	step "the keys index at N: the revoked deployer trusted again"
	fresh
	row=$("$TAMPER" "$T/w" getdb keys "$(hexof dep)") || fail "getdb dep"
	# pk32 || added8 || revoked8 (= 6) || role 0 scopes: revoked 0
	"$TAMPER" "$T/w" putdb keys "$(hexof dep)" \
		"${row:0:80}0000000000000000${row:96}" || fail "putdb"
	since_refused 1 '^ledger: verify: entry 7: the indexes.* keyring, locks and governance after it are not those it commits to' "$T/cp7"
}
section "an index that is not the commitment" case_index

case_revoked() {
	step "an entry after N signed by a key revoked before N"
	fresh
	"$FORGE" --store honest "$T/w" "$T/keys/dep.key" set staging/api \
		image.tag=evil late >/dev/null || fail "forge"
	since_refused 1 '^ledger: verify: entry 12: not authorised: signer key "dep" was revoked at seq 6' "$T/cp7"
}
section "a key revoked before N" case_revoked

case_lock() {
	step "a lock at N broken after it"
	fresh
	"$FORGE" --store honest "$T/w" "$ADMIN" set staging/web \
		image.tag=sneak sneak >/dev/null || fail "forge"
	since_refused 1 '^ledger: verify: entry 12: not authorised: staging/web: target is locked since seq 5' "$T/cp7"
}
section "a lock broken after N" case_lock

case_stale() {
	step "indexes of another version: nothing to read the state at N from"
	fresh
	"$TAMPER" "$T/w" delkey meta "$(hexof index-version)" || fail "delkey"
	since_refused 2 "^ledger: verify: --since $T/cp7: the indexes were built by another version of ledger: the state at entry 7 cannot be read from them; verify the whole ledger \\(without --since\\)\$" "$T/cp7"
}
section "stale indexes" case_stale

case_v1() {
	step "a version 1 ledger: nothing to start from"
	rm -rf "$T/v1" "$T/v1keys"
	mkdir -p "$T/v1" "$T/v1keys"
	mdb_load -f "$FIXTURES/v1-ledger/ledger.dump" "$T/v1" 2>/dev/null ||
		fail "mdb_load of the v1 fixture"
	cp "$FIXTURES"/v1-ledger/admin.key "$T/v1keys/"
	chmod 600 "$T/v1keys/admin.key"
	export LEDGER_DIR=$T/v1
	expect_rc 0 ledger checkpoint --no-verify --key "$T/v1keys/admin.key" -o "$T/v1cp"
	since_refused 2 "^ledger: verify: --since $T/v1cp: entry 7 is a version 1 entry: it commits to no keyring and locks to start from; verify the whole ledger \\(without --since\\)\$" "$T/v1cp"
	expect_rc 0 ledger verify --checkpoint "$T/v1cp"
}
section "a version 1 ledger" case_v1

finish
