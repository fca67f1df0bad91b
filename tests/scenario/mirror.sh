#!/bin/bash
# mirror.sh - `ledger mirror URL`: a copy of a served ledger that trusts
# nothing the server says. A first copy and an update equal the source
# (mdb_dump of entries) and verify; a server that serves a bad signature,
# a rewritten (forked) history, a cut history or another ledger is
# refused with exit 1 and the copy is left as it was; an unreachable or
# wrong server is exit 2; 3000 entries cross many pages.
. "$(dirname "$0")/lib.sh"
need curl mdb_dump
. "$(dirname "$0")/lib_serve.sh"

M=$T/mirror
mirror() { # mirror ARGS: `ledger --ledger $M mirror ARGS`
	run ledger --ledger "$M" mirror "$@"
}
same_entries() { # same_entries DIR_A DIR_B MSG
	mdb_dump -s entries "$1" | sed 1,/HEADER=END/d >"$T/a.dump"
	mdb_dump -s entries "$2" | sed 1,/HEADER=END/d >"$T/b.dump"
	check "$3" cmp -s "$T/a.dump" "$T/b.dump"
}

# ---------------------------------------------------------------------
step "a ledger with history, served"
init_ledger example.com/deploy/mirror
new_key deployer
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope 'staging/*' -m "CI"
for i in 1 2 3; do
	expect_rc 0 ledger set staging/api "image.tag=v$i" -m "PR #$i" \
		--key "$T/keys/deployer.key"
done
expect_rc 0 ledger lock staging/api -m "freeze"
SRC=$LEDGER_DIR
cp -a "$SRC" "$T/at6" || fail "cp"
expect_rc 0 ledger set staging/api image.tag=v4 -m "through the lock" --force
expect_rc 0 ledger set prod/api image.tag=v3 -m "promote"
check "8 entries" [ "$(head_seq)" = 8 ]
start_server

step "a first copy"
mirror "$BASE"
expect_out_match "^mirrored 8 new entries from $BASE: head 8 [0-9a-f]{64}\$"
# a first copy is checked whole, as `ledger verify` checks it
expect_out_match '^verified: all 8 entries$'
expect_rc 0 ledger --ledger "$M" verify
expect_out_match '^ok: 8 entries, head 8 '
same_entries "$SRC" "$M" "the copy's entries are the source's bytes"
expect_rc 0 ledger --ledger "$M" get staging/api image.tag
expect_out v4
# a checkpoint signed on the copy holds for the source
expect_rc 0 ledger --ledger "$M" checkpoint -o "$T/cp.mirror"
expect_rc 0 ledger verify --checkpoint "$T/cp.mirror"
expect_out_match 'contains checkpoint .*cp\.mirror \(8 entries\)'

step "up to date, then an update"
mirror "$BASE" --json
expect_json added = 0
expect_json head = 8
expect_json_value verified_from = null
expect_json origin = example.com/deploy/mirror
expect_rc 0 ledger unlock staging/api -m "thaw"
expect_rc 0 ledger set staging/api image.tag=v5 -m "PR #5" --key "$T/keys/deployer.key"
mirror "$BASE"
expect_out_match "^mirrored 2 new entries from $BASE: head 10 "
# then from the head the last run checked, as `verify --since` does
expect_out_match '^verified: 2 entries after entry 8$'
same_entries "$SRC" "$M" "updated: the same entries"
expect_rc 0 ledger --ledger "$M" verify
expect_out_match '^ok: 10 entries, head 10 '
check "the checked head is recorded" grep -q '^10 [0-9a-f]\{64\}$' "$M/mirror-checked"

step "a head no check passed at is checked again, even with nothing new"
# as a run that copied and then failed leaves it: the record behind
printf '8 %064d\n' 0 >"$M/mirror-checked"
mirror "$BASE"
expect_out_match "^up to date with $BASE: head 10 "
expect_out_match '^verified: all 10 entries$'
check "and recorded" grep -q '^10 [0-9a-f]\{64\}$' "$M/mirror-checked"
mirror "$BASE" --json
expect_json_value verified_from = null

step "--follow keeps the copy current"
"$LEDGER" --ledger "$M" mirror "$BASE" --follow >"$T/follow.out" 2>"$T/follow.err" &
FOLLOWER=$!
for i in 1 2 3; do
	expect_rc 0 ledger set staging/api "image.tag=f$i" -m "follow $i" \
		--key "$T/keys/deployer.key"
done
want=$(head_seq)
wait_for eval '[ "$("$LEDGER" --ledger "$M" log -n 1 --json 2>/dev/null | grep -c "\"seq\": $want,")" = 1 ]'
kill -TERM "$FOLLOWER"
wait "$FOLLOWER"
RC=$?
check "the follower exits 0 on SIGTERM" [ "$RC" -eq 0 ]
check "the follower reported copying up to $want" \
	grep -Eq "^mirrored [0-9]+ new entr(y|ies) from $BASE: head $want [0-9a-f]{64}\$" "$T/follow.out"
check "the follower said nothing on stderr" [ ! -s "$T/follow.err" ]
same_entries "$SRC" "$M" "followed: the same entries"
expect_rc 0 ledger --ledger "$M" get staging/api image.tag
expect_out f3
stop_server TERM

# the copy must come out of every refusal as it went in
snapshot_mirror() { mdb_dump -a "$M" >"$T/m.before"; }
mirror_unchanged() {
	mdb_dump -a "$M" >"$T/m.after"
	check "the copy is unchanged" cmp -s "$T/m.before" "$T/m.after"
}

step "a history cut short is refused"
start_server --ledger "$T/at6"
snapshot_mirror
mirror "$BASE"
check "exit 1" [ "$RC" -eq 1 ]
expect_one_line_error 'this copy has 13 entries, .* only 6: entries were removed'
mirror_unchanged
stop_server TERM

step "a rewritten history is refused"
# the same ledger up to 6, then other entries: a fork with as many
# entries, then with more
cp -a "$T/at6" "$T/fork"
for i in $(seq 7 15); do
	expect_rc 0 ledger --ledger "$T/fork" set staging/api "image.tag=f$i" \
		-m "fork $i" --force
done
start_server --ledger "$T/fork"
snapshot_mirror
mirror "$BASE"
check "exit 1" [ "$RC" -eq 1 ]
expect_one_line_error 'entry 13 differs between this copy and .*: the served ledger was rewritten'
mirror_unchanged
# a fresh copy of the fork is fine: the fork itself is a valid ledger
run ledger --ledger "$T/fresh" mirror "$BASE"
expect_out_match '^mirrored 15 new entries '
stop_server TERM

step "a bad signature is refused, nothing of its page written"
cp -a "$SRC" "$T/bad"
run "$TAMPER" "$T/bad" flip 4 -1
[ "$RC" -eq 0 ] || fail "ldg_tamper flip failed"
start_server --ledger "$T/bad"
run ledger --ledger "$T/badcopy" mirror "$BASE"
check "exit 1" [ "$RC" -eq 1 ]
expect_one_line_error 'from http://127\.0\.0\.1:[0-9]+: entry 4: bad signature'
# the refused page (entries 1..10) wrote nothing: not even the init
expect_rc 2 ledger --ledger "$T/badcopy" verify
expect_one_line_error 'badcopy is not initialised'
expect_rc 2 ledger --ledger "$T/badcopy" log
expect_one_line_error 'badcopy is not initialised'
# An existing copy checks only the server's newest entry against its
# own (the copy's older entries were checked when they came): entry 13
# is intact here, so it is up to date. (The served chain is broken at 4:
# the server's verify and any fresh copy say so.)
snapshot_mirror
mirror "$BASE"
expect_out_match "^up to date with $BASE: head 13 "
mirror_unchanged
stop_server TERM

step "another ledger is refused"
(
	export LEDGER_DIR=$T/other
	run ledger init --origin example.com/deploy/other
)
start_server --ledger "$T/other"
snapshot_mirror
mirror "$BASE"
check "exit 1" [ "$RC" -eq 1 ]
expect_one_line_error 'holds ledger "example.com/deploy/mirror"; .* serves "example.com/deploy/other"'
mirror_unchanged
stop_server TERM

step "no server, not a server, not a URL"
run ledger --ledger "$M" mirror http://127.0.0.1:1
check "unreachable: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'cannot reach http://127\.0\.0\.1:1/api/v1/head'
mkdir -p "$T/www"
python3 -m http.server --bind 127.0.0.1 0 --directory "$T/www" >"$T/py.out" 2>&1 &
PY=$!
for _ in $(seq 600); do
	PORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/py.out" | head -1)
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ] || fail "python3 -m http.server did not start"
run ledger --ledger "$M" mirror "http://127.0.0.1:$PORT"
check "not a ledger server: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'GET /api/v1/head answered HTTP 404 \(not a ledger server\)'
# a head that looks right, then entries in another format (a proxy's
# page, an older server): exit 2, not "refused"
mkdir -p "$T/www/api/v1"
printf '{"seq": 3, "hash": "%064d", "origin": "example.com/x"}' 0 >"$T/www/api/v1/head"
echo '[]' >"$T/www/api/v1/entries"
run ledger --ledger "$T/pycopy" mirror "http://127.0.0.1:$PORT"
check "entries in another format: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'GET /api/v1/entries\?after=0&limit=500 answered [^ ]+, not application/msgpack'
kill "$PY" 2>/dev/null
run ledger --ledger "$M" mirror ftp://example.com
check "not a URL: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'is not an http:// or https:// URL'
run ledger --ledger "$M" mirror
check "no URL: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'expected the URL of a ledger server'
mirror_unchanged

# ---------------------------------------------------------------------
big() {
	[ -n "${MKLEDGER:-}" ] && [ -x "$MKLEDGER" ] || skip "MKLEDGER not built"
	step "3000 entries, many pages"
	"$MKLEDGER" "$T/big" 3000 >/dev/null || fail "mkledger failed"
	start_server --ledger "$T/big"
	local t0
	t0=$(date +%s%N)
	run ledger --ledger "$T/bigcopy" mirror "$BASE"
	[ "$RC" -eq 0 ] || fail "mirror of 3000 entries failed: $(cat "$ERR")"
	echo "mirror: 3000 entries in $((($(date +%s%N) - t0) / 1000000)) ms"
	expect_out_match "^mirrored 3000 new entries from $BASE: head 3000 "
	same_entries "$T/big" "$T/bigcopy" "3000 entries copied byte for byte"
	expect_rc 0 ledger --ledger "$T/bigcopy" verify
	expect_out_match '^ok: 3000 entries, head 3000 '
	stop_server TERM
}
section "3000 entries" big

finish
