#!/usr/bin/env bash
# tiles.sh - issue 15's tiles: `ledger tiles DIR` writes the C2SP
# tlog-tiles tree (every path, byte for byte what the library reads, and
# what tests/tools/tlog_check.py, written from the specs alone, accepts);
# a second run after new entries writes only the tiles the tree gained
# and the checkpoint; a DIR of another tree, a checkpoint of another
# ledger or by an untrusted key, and usage errors are refused in one line
# with DIR and the ledger unchanged; an entry written before the 64 KiB
# cap makes its bundle refused naming it; `ledger serve`'s /tlog/ answers
# the same bytes with C2SP's content types and caching, 404 beyond the
# head; nginx (lib_nginx.sh) serving DIR answers the same bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_serve.sh"
. "$(dirname "$0")/lib_nginx.sh"

need mdb_dump python3 curl
: "${MKLEDGER:?MKLEDGER must point at tests/bench/mkledger}"
CHECK=$(cd "$(dirname "$0")/../tools" && pwd)/tlog_check.py
ORIGIN=example.com/bench
PUB=$T/pub

# 766 entries (mkledger's, one key "bench"): 2 full tiles and one of 254
"$MKLEDGER" "$LEDGER_DIR" 766 >/dev/null || fail "mkledger failed"
export LEDGER_KEY=$LEDGER_DIR.keys/bench.key
VKEY=$(cat "$LEDGER_DIR.keys/bench.pub")

# files DIR: every file under DIR with its inode (a file rewritten by
# rename gets a new one)
files() {
	(cd "$1" && find . -type f -printf '%P %i\n' | sort)
}

# fetch_all URL DEST: every file of $PUB fetched from URL (one curl)
# into the same path under DEST
fetch_all() {
	local args=() path
	while read -r path _; do
		args+=(-o "$2/$path" "$1$path")
	done < <(files "$PUB")
	LAST_CMD="curl (every file of $PUB) from $1"
	curl -sSf --create-dirs "${args[@]}" >"$OUT" 2>"$ERR" ||
		fail "not every file is served at $1"
	ok
}

tlog_check() {
	LAST_CMD="tlog_check.py $*"
	python3 "$CHECK" --origin "$ORIGIN" --vkey "$VKEY" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# ---------------------------------------------------------------------
step "help"
expect_rc 0 env LEDGER_DIR="$T/nonexistent" "$LEDGER" tiles --help
expect_out_match '^usage: ledger tiles DIR \(--key FILE \| --checkpoint FILE\) \[--json\]$'
expect_no_err
cp "$OUT" "$T/help"
check "help lines fit 80 columns" [ "$(awk 'length > 79' "$T/help" | wc -l)" = 0 ]
expect_rc 0 ledger help tiles
check "ledger help tiles is ledger tiles --help" cmp -s "$OUT" "$T/help"
expect_rc 0 ledger --help
expect_out_match '^  tiles +write the ledger as C2SP tiles for a static host$'

# ---------------------------------------------------------------------
step "a first export: the whole tree, the checkpoint last"
snapshot base
expect_rc 0 ledger tiles "$PUB" --key "$LEDGER_KEY"
expect_out "wrote 7 tiles ($(($(find "$PUB" -type f -printf '%s+') 0)) bytes) and the checkpoint of 766 entries to $PUB (it had 0)"
expect_no_err
check "exactly the tiles of 766 entries" [ "$(files "$PUB" | cut -d' ' -f1 | tr '\n' ' ')" = \
	"checkpoint tile/0/000 tile/0/001 tile/0/002.p/254 tile/1/000.p/2 tile/entries/000 tile/entries/001 tile/entries/002.p/254 " ]
check "full hash tiles of 8192 bytes" [ "$(stat -c %s "$PUB/tile/0/001")" = 8192 ]
check "a partial one of 254 hashes" [ "$(stat -c %s "$PUB/tile/0/002.p/254")" = $((254 * 32)) ]
check "the checkpoint of 766 entries" [ "$(sed -n 2p "$PUB/checkpoint")" = 766 ]
check "no temporary file left" [ -z "$(ls -A "$PUB/.ledger-tiles")" ]
cp "$PUB/checkpoint" "$T/cp766"
tlog_check "$PUB"
check "tlog_check.py accepts it" [ "$RC" -eq 0 ]
expect_out "ok: $PUB: 766 entries, 7 tiles"
assert_unchanged base

step "--json, again at the same size: only the checkpoint"
files "$PUB" | grep -v '^checkpoint ' >"$T/before"
expect_rc 0 ledger tiles "$PUB" --key "$LEDGER_KEY" --json
check "--json: dir" [ "$(jget "$OUT" dir)" = "$PUB" ]
check "--json: origin" [ "$(jget "$OUT" origin)" = "$ORIGIN" ]
check "--json: size" [ "$(jget "$OUT" size)" = 766 ]
check "--json: from" [ "$(jget "$OUT" from)" = 766 ]
check "--json: tiles" [ "$(jget "$OUT" tiles)" = 0 ]
check "--json: bytes (the checkpoint's)" [ "$(jget "$OUT" bytes)" = "$(stat -c %s "$PUB/checkpoint")" ]
check "no tile rewritten" cmp -s "$T/before" <(files "$PUB" | grep -v '^checkpoint ')

step "an incremental export: only the tiles the tree gained"
for i in 1 2 3; do
	expect_rc 0 ledger set staging/api "image.tag=v$i" -m "after the first export"
done
expect_rc 0 ledger tiles "$PUB" --key "$LEDGER_KEY"
expect_out_match "^wrote 5 tiles \([0-9]+ bytes\) and the checkpoint of 769 entries to $PUB \(it had 766\)\$"
# the partial tiles of 766 stay: a client of that checkpoint may ask
comm -13 "$T/before" <(files "$PUB" | grep -v '^checkpoint ') | cut -d' ' -f1 >"$T/new"
check "new: the full tiles 002, 003.p/1 and level 1's 000.p/3" [ "$(tr '\n' ' ' <"$T/new")" = \
	"tile/0/002 tile/0/003.p/1 tile/1/000.p/3 tile/entries/002 tile/entries/003.p/1 " ]
check "every tile of 766 untouched (same inode)" [ -z "$(comm -23 "$T/before" <(files "$PUB"))" ]
tlog_check "$PUB"
expect_out "ok: $PUB: 769 entries, 9 tiles, 3 older partial tiles"
# a spoiled copy is caught by the independent checker
cp -r "$PUB" "$T/spoiled"
printf '\x01' | dd of="$T/spoiled/tile/entries/001" bs=1 seek=9 conv=notrunc 2>/dev/null
tlog_check "$T/spoiled"
check "tlog_check.py refuses a flipped byte" [ "$RC" -eq 1 ]
expect_out_match "tile/0/001: hash [0-9]+ is not the hash of leaf"

# ---------------------------------------------------------------------
step "refusals: nothing written, one line"
snapshot base
files "$PUB" >"$T/pub.files"
cp "$PUB/checkpoint" "$T/pub.cp"
expect_rc 2 ledger tiles "$PUB"
expect_one_line_error "^ledger: tiles: give one of --key FILE \(sign the head\) and --checkpoint FILE"
expect_rc 2 ledger tiles "$PUB" --key "$LEDGER_KEY" --checkpoint "$T/pub.cp"
expect_one_line_error "give one of"
expect_rc 2 ledger tiles --key "$LEDGER_KEY"
expect_one_line_error "expected the directory DIR"
expect_rc 2 ledger tiles "$PUB" extra --key "$LEDGER_KEY"
expect_one_line_error 'unexpected argument "extra"'
expect_rc 2 ledger tiles "$PUB" --checkpoint "$T/nope"
expect_one_line_error "nope"
# another ledger: its checkpoint, and a DIR holding its tree
expect_rc 0 ledger keygen other --dir "$T/okeys"
expect_rc 0 ledger init --origin example.com/other --ledger "$T/other" --key "$T/okeys/other.key"
expect_rc 0 ledger checkpoint --ledger "$T/other" --key "$T/okeys/other.key" -o "$T/other.cp"
expect_rc 2 ledger tiles "$PUB" --checkpoint "$T/other.cp"
expect_one_line_error "^ledger: tiles: $T/other.cp: .*origin"
expect_rc 0 ledger tiles "$T/otherpub" --ledger "$T/other" --key "$T/okeys/other.key"
files "$T/otherpub" >"$T/otherpub.files"
expect_rc 2 ledger tiles "$T/otherpub" --key "$LEDGER_KEY"
expect_one_line_error "^ledger: tiles: $T/otherpub holds another tree: its checkpoint is of origin \"example.com/other\", this ledger's is \"$ORIGIN\"\$"
check "the other tree untouched" cmp -s "$T/otherpub.files" <(files "$T/otherpub")
# a key that is not the ledger's
expect_rc 1 ledger tiles "$PUB" --key "$T/okeys/other.key"
expect_one_line_error "trusted"
# DIR's tree is larger than the checkpoint given (the first export's)
expect_rc 2 ledger tiles "$PUB" --checkpoint "$T/cp766"
expect_one_line_error "^ledger: tiles: $PUB holds another tree: its checkpoint is of 769 entries, more than the 766 exported\$"
check "DIR untouched by the refusals" cmp -s "$T/pub.files" <(files "$PUB")
assert_unchanged base

# ---------------------------------------------------------------------
step "ledger serve: /tlog/ is the same tree, byte for byte"
start_server
expect_rc 0 ledger --remote "$BASE" checkpoint -o "$T/served.cp"
expect_rc 0 ledger tiles "$PUB" --checkpoint "$T/served.cp"
expect_out_match "^wrote 0 tiles \([0-9]+ bytes\) and the checkpoint of 769 entries"
check "DIR/checkpoint is the published note" cmp -s "$PUB/checkpoint" "$T/served.cp"
fetch_all "$BASE/tlog/" "$T/served"
check "every file of DIR served byte for byte" diff -r -x .ledger-tiles "$PUB" "$T/served"
http 200 /tlog/checkpoint
check "checkpoint: text/plain; charset=utf-8" [ "$(header Content-Type)" = "text/plain; charset=utf-8" ]
check "checkpoint: revalidated" [ "$(header Cache-Control)" = no-cache ]
http 200 /tlog/tile/0/001
check "tile: application/octet-stream" [ "$(header Content-Type)" = application/octet-stream ]
check "a full tile is immutable" [ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ]
http 200 /tlog/tile/entries/003.p/1
check "a partial one is short-lived" [ "$(header Cache-Control)" = "public, max-age=60" ]
expect_error 404 /tlog/tile/0/003 'has no tile 0/3 of width 256'
expect_error 404 /tlog/tile/entries/003.p/2 'has no entry bundle 3 of width 2'
expect_error 404 /tlog/tile/0/x000/003 'no such resource'
tlog_check --content-types "$BASE/tlog/"
check "tlog_check.py accepts the served tree" [ "$RC" -eq 0 ]
expect_out "ok: $BASE/tlog/: 769 entries, 9 tiles"
# the cap, through the server: refused before anything is sent
V=$(printf '%*s' 4000 '' | tr ' ' w)
args=()
for k in $(seq 1 17); do args+=("k$k=$V"); done
expect_rc 2 ledger --remote "$BASE" set staging/big "${args[@]}" -m "over 64 KiB"
expect_one_line_error "entry too large: 68[0-9]{3} bytes, a new entry is at most 65535"
stop_server TERM

# ---------------------------------------------------------------------
step "nginx serving DIR: the same bytes"
start_nginx "$PUB"
fetch_all "$NGINX_URL" "$T/nginx-got"
check "every file of DIR served byte for byte" diff -r -x .ledger-tiles "$PUB" "$T/nginx-got"
tlog_check --content-types "$NGINX_URL"
check "tlog_check.py accepts the tree nginx serves" [ "$RC" -eq 0 ]
# as the EXIT trap stops it: no worker left serving
stop_nginx

# ---------------------------------------------------------------------
step "an entry written before the cap: its bundle is refused"
cp -r "$LEDGER_DIR" "$T/old"
# entry 5 replaced by 65,536 bytes (raw LMDB): what an older writer
# could store; only the bundle needs to frame it
head -c 65536 /dev/zero | xxd -p | tr -d '\n' | "$TAMPER" "$T/old" put 5 - ||
	fail "ldg_tamper put failed"
expect_rc 2 ledger tiles "$T/oldpub" --ledger "$T/old" --checkpoint "$T/served.cp"
expect_one_line_error "^ledger: tiles: entry 5 is 65536 bytes, more than an entry bundle holds \(65535\): it was written before new entries were capped\$"
check "no checkpoint written" [ ! -e "$T/oldpub/checkpoint" ]
start_server --read-only --ledger "$T/old"
expect_error 422 /tlog/tile/entries/000 '^entry 5 is 65536 bytes, more than an entry bundle holds \(65535\)'
http 200 /tlog/tile/entries/001
http 200 /tlog/tile/0/000
stop_server TERM

finish
