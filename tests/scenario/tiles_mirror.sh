#!/bin/bash
# tiles_mirror.sh - `ledger mirror --tiles URL` from nginx serving a tree
# `ledger tiles` wrote (no ledger server): a first copy and an update
# equal the source and verify, fetching only the tiles the checkpoint's
# size needs (nginx's access log); then a flipped byte in a tile (a
# partial one, a full one), a cut tile, a missing tile, a flipped entry
# in a bundle, the tree of another ledger of the same origin and a
# checkpoint of another root are each refused (exit 1, one line) with
# the copy byte-identical; not a tiles host is exit 2; --follow; and
# the same copy from `ledger serve`'s /tlog/.
. "$(dirname "$0")/lib.sh"
need curl mdb_dump
. "$(dirname "$0")/lib_serve.sh"
. "$(dirname "$0")/lib_nginx.sh"
[ -n "${MKLEDGER:-}" ] && [ -x "$MKLEDGER" ] || skip "MKLEDGER not built"

SRC=$T/src
KEY=$T/src.keys/bench.key
WWW=$T/www
M=$T/mirror
mirror() { # mirror DIR ARGS: `ledger --ledger DIR mirror --tiles ARGS`
	local dir=$1
	shift
	run ledger --ledger "$dir" mirror --tiles "$@"
}
publish() { # the source's tiles at its head, signed by its key
	expect_rc 0 ledger --ledger "$SRC" tiles "$WWW" --key "$KEY"
}
GROWN=0
grow() { # grow N: N more entries in the source (each a new value)
	for _ in $(seq "$1"); do
		GROWN=$((GROWN + 1))
		expect_rc 0 ledger --ledger "$SRC" set c1/r1 "image.tag=g$GROWN" \
			-m "grow $GROWN" --key "$KEY"
	done
}
same_entries() { # same_entries DIR_A DIR_B MSG
	mdb_dump -s entries "$1" | sed 1,/HEADER=END/d >"$T/a.dump"
	mdb_dump -s entries "$2" | sed 1,/HEADER=END/d >"$T/b.dump"
	check "$3" cmp -s "$T/a.dump" "$T/b.dump"
}
# fetched: the URIs nginx answered since the last call, one per line
LOGGED=0
fetched() {
	local n
	n=$(wc -l <"$NGINX_LOG")
	sed -n "$((LOGGED + 1)),${n}p" "$NGINX_LOG" |
		sed "s|^\([0-9]*\) /ledger/|\1 |" >"$T/fetched"
	LOGGED=$n
}
expect_fetched() { # expect_fetched "200 checkpoint" "200 tile/..." ...
	fetched
	printf '%s\n' "$@" >"$T/want"
	check "nginx was asked for exactly: $*" cmp -s "$T/want" "$T/fetched"
}

# ---------------------------------------------------------------------
step "a ledger of 300 entries as tiles, served by nginx"
run "$MKLEDGER" "$SRC" 300
check "mkledger" [ "$RC" -eq 0 ]
chmod 600 "$KEY"
publish
start_nginx "$WWW"
fetched # start_nginx's own request

step "a first copy"
mirror "$M" "$NGINX_URL"
expect_out_match "^mirrored 300 new entries from $NGINX_URL: head 300 [0-9a-f]{64}\$"
expect_out_match '^verified: all 300 entries$'
expect_no_err
expect_fetched "200 checkpoint" "200 tile/0/000" "200 tile/0/001.p/44" \
	"200 tile/1/000.p/1" "200 tile/entries/000" "200 tile/entries/001.p/44"
same_entries "$SRC" "$M" "the copy's entries are the source's bytes"
expect_rc 0 ledger --ledger "$M" verify
expect_out_match '^ok: 300 entries, head 300 '
# the published checkpoint holds for the copy
expect_rc 0 ledger --ledger "$M" verify --checkpoint "$WWW/checkpoint"

step "up to date: the checkpoint only"
mirror "$M" "$NGINX_URL" --json
check "exit 0" [ "$RC" -eq 0 ]
expect_json added = 0
expect_json head = 300
expect_json origin = example.com/bench
expect_json_value verified_from = null
expect_fetched "200 checkpoint"

step "an update: only the tiles past the copy"
grow 5
publish
mirror "$M" "$NGINX_URL"
expect_out_match "^mirrored 5 new entries from $NGINX_URL: head 305 "
expect_out_match '^verified: 5 entries after entry 300$'
expect_fetched "200 checkpoint" "200 tile/0/001.p/49" "200 tile/1/000.p/1" \
	"200 tile/entries/001.p/49"
same_entries "$SRC" "$M" "updated: the same entries"
expect_rc 0 ledger --ledger "$M" verify
expect_out_match '^ok: 305 entries, head 305 '

step "not a tiles host, none, or no URL: exit 2, the copy untouched"
snapshot mirror "$M"
mirror "$M" "${NGINX_URL}nothing/"
check "exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'GET checkpoint answered HTTP 404: not a tiles host'
mirror "$M" "http://127.0.0.1:1/"
check "exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'cannot reach'
run ledger --ledger "$M" mirror --tiles
check "no URL: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'mirror: expected the URL of a tiles host'
mirror "$M" "ftp://127.0.0.1/ledger/"
check "not http: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'is not an http:// or https:// URL'
assert_unchanged mirror "$M"
# an empty copy, for the refusals that need a full tile fetched
mirror "$T/empty" "http://127.0.0.1:1/"
check "exit 2" [ "$RC" -eq 2 ]

# ---------------------------------------------------------------------
step "a host ahead of the copy, and another ledger of the same origin"
grow 5
publish
cp -a "$WWW" "$T/good"
run "$MKLEDGER" "$T/other" 310
check "mkledger" [ "$RC" -eq 0 ]
expect_rc 0 ledger --ledger "$T/other" tiles "$T/otherwww" \
	--key "$T/other.keys/bench.key"
fetched

# bad DIR MSG CMD...: the good tree with CMD done to it is refused:
# exit 1, one line matching MSG, the copy DIR byte-identical
bad() {
	local dir=$1 msg=$2
	shift 2
	rm -rf "$WWW" && cp -a "$T/good" "$WWW" || fail "cp"
	(cd "$WWW" && "$@") || fail "could not spoil the tree: $*"
	snapshot bad "$dir"
	mirror "$dir" "$NGINX_URL"
	check "exit 1" [ "$RC" -eq 1 ]
	expect_one_line_error "$msg"
	assert_unchanged bad "$dir"
}
flip() { # flip FILE OFFSET: one bit of one byte
	python3 - "$@" <<'EOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 1
open(p, 'wb').write(b)
EOF
}
cut() { truncate -s -1 "$1"; }

step "a flipped byte in a partial tile"
bad "$M" 'mirror: .*: the tiles do not hash to the checkpoint.s root of 310 entries' \
	flip tile/0/001.p/54 100
step "a flipped byte in a full tile"
bad "$T/empty" 'mirror: .*: tile/0/000 does not hash to its hash in tile/1/000.p/1$' \
	flip tile/0/000 4000
step "a cut tile"
bad "$M" 'mirror: .*: tile/0/001.p/54 has 1727 bytes, not 1728: it is cut' \
	cut tile/0/001.p/54
step "a missing tile"
bad "$M" 'mirror: .* has no tile/1/000.p/1 \(HTTP 404\), which its checkpoint of 310 entries needs$' \
	rm tile/1/000.p/1
step "a flipped byte in an entry of a bundle"
bad "$M" 'mirror: .*: entry 310 in tile/entries/001.p/54 does not hash to its leaf' \
	flip tile/entries/001.p/54 "$(($(stat -c %s "$T/good/tile/entries/001.p/54") - 3))"
step "the tree of another ledger of the same origin"
bad "$M" 'mirror: the first 305 entries of this copy are not those of the tree .* another ledger of origin "example.com/bench"' \
	sh -c "rm -rf ./* && cp -a '$T/otherwww/.' ."
step "a checkpoint of another root (of that ledger, the same origin and size)"
bad "$M" 'mirror: .*: the tiles do not hash to the checkpoint.s root of 310 entries' \
	cp "$T/otherwww/checkpoint" checkpoint
step "the good tree again: the copy catches up"
rm -rf "$WWW" && cp -a "$T/good" "$WWW" || fail "cp"
mirror "$M" "$NGINX_URL"
expect_out_match "^mirrored 5 new entries from $NGINX_URL: head 310 "
expect_rc 0 ledger --ledger "$M" verify --checkpoint "$WWW/checkpoint"
expect_out_match '^ok: 310 entries, head 310 '

# ---------------------------------------------------------------------
step "--witness-policy: no copy without the quorum's cosignatures"
[ -n "${COSIGN:-}" ] && [ -x "$COSIGN" ] || fail "COSIGN (ldg_cosign) not built"
expect_rc 0 ledger keygen --witness w1 --dir "$T/wk"
printf 'witness w1 %s\nquorum w1\n' "$(cat "$T/wk/w1.pub")" >"$T/policy"
grow 1
publish
snapshot quorum "$M"
mirror "$M" "$NGINX_URL" --witness-policy "$T/policy"
check "exit 1" [ "$RC" -eq 1 ]
expect_one_line_error "mirror: ${NGINX_URL}checkpoint: .*quorum"
assert_unchanged quorum "$M"
fetched
"$COSIGN" "$T/wk/w1.key" 1700000000 <"$WWW/checkpoint" >"$T/cosigned" ||
	fail "ldg_cosign"
mv "$T/cosigned" "$WWW/checkpoint"
mirror "$M" "$NGINX_URL" --witness-policy "$T/policy"
expect_out_match "^mirrored 1 new entry from $NGINX_URL: head 311 "
run ledger --ledger "$M" mirror "$NGINX_URL" --witness-policy "$T/policy"
check "without --tiles: exit 2" [ "$RC" -eq 2 ]
expect_one_line_error 'witness-policy needs --tiles'

step "--follow: the copy follows the published checkpoint"
"$LEDGER" --ledger "$M" mirror --tiles "$NGINX_URL" --follow \
	>"$T/follow.out" 2>"$T/follow.err" &
FOLLOWER=$!
grow 2
publish
wait_for eval '[ "$("$LEDGER" --ledger "$M" log -n 1 --json 2>/dev/null | grep -c "\"seq\": 313,")" = 1 ]' ||
	fail "the follower did not copy up to 313"
kill -TERM "$FOLLOWER"
wait "$FOLLOWER"
RC=$?
check "the follower exits 0 on SIGTERM" [ "$RC" -eq 0 ]
check "the follower reported copying up to 313" \
	grep -Eq "^mirrored 2 new entries from $NGINX_URL: head 313 [0-9a-f]{64}\$" "$T/follow.out"
check "the follower said nothing on stderr" [ ! -s "$T/follow.err" ]
same_entries "$SRC" "$M" "followed: the same entries"

step "the same copy from ledger serve's /tlog/"
start_server --ledger "$SRC"
expect_rc 0 ledger --remote "$BASE" checkpoint --key "$KEY" -o "$T/cp.serve"
mirror "$T/viaserve" "$BASE/tlog/"
expect_out_match "^mirrored 313 new entries from $BASE/tlog/: head 313 [0-9a-f]{64}\$"
same_entries "$SRC" "$T/viaserve" "the copy from serve's tiles: the source's bytes"
expect_rc 0 ledger --ledger "$T/viaserve" verify --checkpoint "$T/cp.serve"
stop_server TERM
stop_nginx
finish
