#!/bin/bash
# witness.sh - issue 15's witnesses: `ledger keygen --witness`, two
# `ledger witness` processes on loopback, `ledger checkpoint --witness
# URL... --min N`. A normal cosigning run with both (and the 409 retry
# from the size each holds); every status of C2SP tlog-witness
# add-checkpoint from hand-made bodies with curl, each refusal leaving
# the witness's LMDB byte-identical; a replayed old checkpoint refused;
# a forked primary (a copy of the ledger written differently after seq
# N, same origin and key) refused by both witnesses (409 and 422) and
# reported by `checkpoint --witness` naming both roots, nothing written,
# and a stale copy told the size and root the witness holds;
# 8 concurrent add-checkpoint requests on a fresh witness: one stored.
. "$(dirname "$0")/lib.sh"
need curl mdb_dump base64 od sha256sum
. "$(dirname "$0")/lib_serve.sh"

ORIGIN=example.com/witness/test
export LEDGER_TEST_NOW=1700000000
WK=$T/wkeys
TEST_CLOCK=false
ledger --version | grep -q 'test clock' && TEST_CLOCK=true

# start_witness NAME [KEY [DB]]: `ledger witness` on a free loopback
# port with key $WK/KEY.key (default NAME), the database $T/NAME.db and
# the logs file $T/logs; sets URL_NAME and PID_NAME.
start_witness() {
	local name=$1 key=${2:-$1} db=${3:-$T/$1.db} url pid
	: >"$T/$name.out"
	"$LEDGER" witness --listen 127.0.0.1:0 --key "$WK/$key.key" \
		--logs "$T/logs" --db "$db" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	eval "PID_$name=$pid"
	wait_for grep -q '^listening on ' "$T/$name.out" ||
		fail "witness $name did not start: $(cat "$T/$name.err")"
	url=$(sed -n 's/^listening on //p' "$T/$name.out")
	case $url in
	http://127.0.0.1:[0-9]*) ;;
	*) fail "witness $name: no listening line: $url" ;;
	esac
	eval "URL_$name=$url"
	ok
}

# post URL BODYFILE STATUS: POST add-checkpoint; the answer in $OUT,
# headers in $T/.hdr
post() {
	local code
	LAST_CMD="curl --data-binary @$2 $1/add-checkpoint"
	code=$(curl -sS -m 60 -o "$OUT" -D "$T/.hdr" -w '%{http_code}' \
		--data-binary @"$2" "$1/add-checkpoint" 2>"$ERR")
	RC=$?
	[ "$RC" -eq 0 ] || fail "curl failed ($RC)"
	[ "$code" = "$3" ] || fail "add-checkpoint: expected HTTP $3, got $code"
	ok
}

# body FILE OLD CHECKPOINT [PROOF LINES...]: a hand-made request body
body() {
	local f=$1 old=$2 cp=$3
	shift 3
	{
		printf 'old %s\n' "$old"
		for h in "$@"; do printf '%s\n' "$h"; done
		printf '\n'
		cat "$cp"
	} >"$f"
}

# latest URL: GET URL/checkpoint?origin=ORIGIN into $OUT (status 200)
latest() {
	local code
	LAST_CMD="curl $1/checkpoint?origin=$ORIGIN"
	code=$(curl -sS -m 60 -o "$OUT" -D "$T/.hdr" -w '%{http_code}' \
		--get --data-urlencode "origin=$ORIGIN" "$1/checkpoint" \
		2>"$ERR")
	RC=$?
	[ "$code" = 200 ] || fail "GET checkpoint: expected 200, got $code"
	ok
}

cosig_lines() { grep -c "^— $2 " "$1"; }
# an ERE matching exactly the text (base64 holds + and /)
re_quote() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }
root_of() { sed -n 3p "$1"; }

# ---- setup: a ledger, two witness keys, the logs file ----

step setup
init_ledger "$ORIGIN"
for i in 1 2; do
	expect_rc 0 ledger set c1/app "v=$i" -m "set $i"
done
expect_rc 0 ledger keygen --witness w1 --dir "$WK"
W1PUB=$(cat "$OUT")
check "w1.pub is the key printed" [ "$(cat "$WK/w1.pub")" = "$W1PUB" ]
check "w1.key is 0600" [ "$(stat -c %a "$WK/w1.key")" = 600 ]
# NAME+KEYID+BASE64(0x04 || 32-byte key)
W1NAME=${W1PUB%%+*}
W1KID=${W1PUB#*+}
W1KID=${W1KID%%+*}
printf '%s' "${W1PUB#*+*+}" | base64 -d >"$T/w1.raw"
check "33 bytes of key" [ "$(wc -c <"$T/w1.raw")" = 33 ]
check "signature type 0x04" [ "$(od -An -tx1 -N1 "$T/w1.raw" | tr -d ' ')" = 04 ]
check "the key id is over NAME, a newline and the key" [ \
	"$({ printf '%s\n' "$W1NAME"; cat "$T/w1.raw"; } | sha256sum | cut -c1-8)" = "$W1KID" ]
# a URL-like name, as C2SP recommends: '/' is '_' in the file names
expect_rc 0 ledger keygen --witness example.net/w2 --dir "$WK"
expect_err "wrote $WK/example.net_w2.key (private) and $WK/example.net_w2.pub"
check "its key is example.net/w2's" grep -q '^example.net/w2+' "$WK/example.net_w2.pub"
expect_rc 0 ledger keygen w3 --dir "$WK"
printf '# the logs these witnesses cosign\nlog %s %s\n' "$ORIGIN" \
	"$(cat "$KEYS/admin.pub")" >"$T/logs"

usage_errors() {
	# a ledger key is not a witness key, and the reverse
	expect_rc 2 ledger witness --listen 127.0.0.1:0 --key "$WK/w3.key" \
		--logs "$T/logs" --db "$T/x.db"
	expect_one_line_error '^ledger: witness: '
	run ledger checkpoint --key "$WK/w1.key"
	check "a witness key signs no checkpoint" [ "$RC" -ne 0 ]
	expect_one_line_error '^ledger: checkpoint: '
	expect_rc 2 ledger witness --listen 127.0.0.1:0 --key "$WK/w1.key" --logs "$T/logs"
	expect_one_line_error 'required'
	printf 'log %s\nlog a.example %s\n' "$(cat "$KEYS/admin.pub")" \
		"$(cat "$KEYS/admin.pub")" >"$T/bad.logs"
	expect_rc 2 ledger witness --listen 127.0.0.1:0 --key "$WK/w1.key" \
		--logs "$T/bad.logs" --db "$T/x.db"
	expect_one_line_error 'bad.logs: line 1: '
	check "no database for a refused start" [ ! -e "$T/x.db" ]
	expect_rc 2 ledger witness --listen 127.0.0.1:99999 --key "$WK/w1.key" \
		--logs "$T/logs" --db "$T/x.db"
	expect_one_line_error
	snapshot before
	for args in "--min 1" "--witness ftp://x" \
		"--witness http://127.0.0.1:1 --min 2" "--min x --witness http://a"; do
		# shellcheck disable=SC2086
		expect_rc 2 ledger checkpoint $args -o "$T/no.cp"
		expect_one_line_error '^ledger: checkpoint: '
	done
	# a witness that cannot be reached does not cosign
	expect_rc 1 ledger checkpoint --witness http://127.0.0.1:1 -o "$T/no.cp"
	expect_one_line_error '0 of 1 witnesses cosigned, --min 1; http://127.0.0.1:1: cannot reach'
	check "nothing written" [ ! -e "$T/no.cp" ]
	assert_unchanged before
}
section "keys and usage" usage_errors

step "start the witnesses"
start_witness w1
start_witness w2 example.net_w2

# ---- a normal run ----

step "cosigned by both"
expect_rc 0 ledger checkpoint --witness "$URL_w1" --witness "$URL_w2" -o "$T/cp3"
expect_err_match "^cosigned by $URL_w1\$"
check "one cosignature by w1" [ "$(cosig_lines "$T/cp3" w1)" = 1 ]
check "one cosignature by w2" [ "$(cosig_lines "$T/cp3" example.net/w2)" = 1 ]
check "the note is size 3" [ "$(sed -n 2p "$T/cp3")" = 3 ]
expect_rc 0 ledger verify --checkpoint "$T/cp3"
if $TEST_CLOCK; then
	# the cosignature's time is the witness's clock: the test clock's
	sed -n 's/^— w1 //p' "$T/cp3" | base64 -d >"$T/w1.cosig"
	check "a 76-byte cosignature" [ "$(wc -c <"$T/w1.cosig")" = 76 ]
	check "its time is the test clock's" [ \
		"$(od --endian=big -An -tu8 -j4 -N8 "$T/w1.cosig" | tr -d ' ')" = "$LEDGER_TEST_NOW" ]
fi
latest "$URL_w1"
check "w1 serves what it cosigned" cmp -s "$OUT" <(grep -v '^— example.net/w2 ' "$T/cp3")
check "w1 logged the request" grep -Eq 'POST /add-checkpoint: 200 .*size 3 root [A-Za-z0-9+/=]{44}: cosigned' "$T/w1.err"

step "on from the size each holds"
expect_rc 0 ledger set c1/app v=3 -m three
expect_rc 0 ledger checkpoint -o "$T/plain4"
expect_rc 0 ledger checkpoint --witness "$URL_w1" --witness "$URL_w2" -o "$T/cp4"
check "both cosigned size 4" [ "$(cosig_lines "$T/cp4" w1)$(cosig_lines "$T/cp4" example.net/w2)" = 11 ]
# first old 0 (409, text/x.tlog.size 3), then from 3 with a proof
check "w1 answered 409 first" grep -q 'POST /add-checkpoint: 409 .*old 0 size 4 root ' "$T/w1.err"
check "then 200 from 3" grep -q 'POST /add-checkpoint: 200 .*old 3 size 4 root .*: cosigned' "$T/w1.err"

step "through ledger serve"
start_server
expect_rc 0 ledger --remote "$BASE" checkpoint --witness "$URL_w1" -o "$T/remote4"
check "cosigned through the server" [ "$(cosig_lines "$T/remote4" w1)" = 1 ]
check "of its head" [ "$(sed -n 2p "$T/remote4")" = 4 ]
stop_server TERM

# ---- every status, with hand-made bodies ----

statuses() {
	local other=$T/other fork3
	snapshot w1 "$T/w1.db"
	# 404: a log it does not witness
	expect_rc 0 ledger --ledger "$other" init --origin other.example/log
	expect_rc 0 ledger --ledger "$other" checkpoint -o "$T/other.cp"
	body "$T/b" 0 "$T/other.cp"
	post "$URL_w1" "$T/b" 404
	# 403: its origin, signed by a key it does not trust
	run ledger keygen intruder --dir "$T/ikeys"
	expect_rc 0 env LEDGER_KEY="$T/ikeys/intruder.key" "$LEDGER" --ledger "$T/intr" \
		init --origin "$ORIGIN"
	expect_rc 0 env LEDGER_KEY="$T/ikeys/intruder.key" "$LEDGER" --ledger "$T/intr" \
		checkpoint -o "$T/intr.cp"
	body "$T/b" 0 "$T/intr.cp"
	post "$URL_w1" "$T/b" 403
	# 400: old above the size; and malformed bodies
	body "$T/b" 5 "$T/plain4"
	post "$URL_w1" "$T/b" 400
	printf 'old 4\nnot a hash\n\n' >"$T/b"
	cat "$T/plain4" >>"$T/b"
	post "$URL_w1" "$T/b" 400
	printf 'old 04\n\n' >"$T/b"
	cat "$T/plain4" >>"$T/b"
	post "$URL_w1" "$T/b" 400
	printf 'garbage' >"$T/b"
	post "$URL_w1" "$T/b" 400
	# 409 with the size it holds
	body "$T/b" 0 "$T/plain4"
	post "$URL_w1" "$T/b" 409
	check "409 is text/x.tlog.size" [ "$(header Content-Type)" = text/x.tlog.size ]
	expect_out 4
	# 422: a proof that does not lead from 4 to 4's successor
	run ledger set c1/app v=4 -m four
	run ledger checkpoint -o "$T/plain5"
	body "$T/b" 4 "$T/plain5" PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
	post "$URL_w1" "$T/b" 422
	body "$T/b" 4 "$T/plain5"
	post "$URL_w1" "$T/b" 422
	# 413: a body above the limit
	head -c 20000 /dev/zero | tr '\0' 'a' >"$T/b"
	post "$URL_w1" "$T/b" 413
	# the other methods and paths
	BASE=$URL_w1 http 405 /add-checkpoint
	BASE=$URL_w1 http 404 /nothing
	BASE=$URL_w1 http 400 /checkpoint
	BASE=$URL_w1 http 404 '/checkpoint?origin=other.example/log'
	assert_unchanged w1 "$T/w1.db"
}
section "statuses" statuses

# ---- a replayed old checkpoint ----

replay() {
	snapshot w1 "$T/w1.db"
	body "$T/b" 4 "$T/cp3"
	post "$URL_w1" "$T/b" 400
	body "$T/b" 3 "$T/cp3"
	post "$URL_w1" "$T/b" 409
	expect_out 4
	body "$T/b" 0 "$T/cp3"
	post "$URL_w1" "$T/b" 409
	assert_unchanged w1 "$T/w1.db"
}
section "replay" replay

# ---- the old size tried first: the -o FILE's checkpoint's ----

step "from the size of the checkpoint -o FILE holds"
# cp4 (size 4, what w1 holds) is replaced by size 5: no 409 first
expect_rc 0 ledger checkpoint --witness "$URL_w1" -o "$T/cp4"
check "cp4 is now size 5" [ "$(sed -n 2p "$T/cp4")" = 5 ]
check "asked from 4 first" grep -q 'POST /add-checkpoint: 200 .*old 4 size 5 ' "$T/w1.err"
check "and not from 0" [ "$(grep -c 'old 0 size 5 ' "$T/w1.err")" = 0 ]

step "one witness counts once"
# the same witness named twice cosigns twice, with one key: one of --min
expect_rc 1 ledger checkpoint --witness "$URL_w1" --witness "$URL_w1" \
	-o "$T/twice.cp"
expect_one_line_error "1 of 2 witnesses cosigned, --min 2; .*: cosigned by the key of $URL_w1 already \\(one witness counts once\\)"
check "nothing written" [ ! -e "$T/twice.cp" ]
step "a note that cannot be written"
# one line, no "cosigned by" before it
expect_rc 2 ledger checkpoint --witness "$URL_w1" -o /dev/full
expect_one_line_error '^ledger: checkpoint: /dev/full: '

# ---- a forked primary ----

step "fork"
HEAD=$(head_seq)
FORK=$T/fork
cp -a "$LEDGER_DIR" "$FORK"
cp -a "$LEDGER_DIR" "$T/stale"
expect_rc 0 ledger set c1/app v=main -m "the main history"
expect_rc 0 ledger --ledger "$FORK" set c1/app v=fork -m "the forked history"
N=$((HEAD + 1))
expect_rc 0 ledger checkpoint --witness "$URL_w1" -o "$T/main$N"
expect_rc 0 ledger --ledger "$FORK" checkpoint -o "$T/fork$N.plain"
MAIN_ROOT=$(root_of "$T/main$N")
FORK_ROOT=$(root_of "$T/fork$N.plain")
check "the two histories differ" [ "$MAIN_ROOT" != "$FORK_ROOT" ]
snapshot w1 "$T/w1.db"
# w1 holds the main history at N: 409 at the same size, another root;
# w2 (at 4) cosigns the fork, which does not help: the fork is named
expect_rc 1 ledger --ledger "$FORK" checkpoint --witness "$URL_w1" \
	--witness "$URL_w2" --min 1 -o "$T/fork.cp"
expect_one_line_error "fork: it cosigned this size with another root \\(HTTP 409\\): it cosigned size $N with root $(re_quote "$MAIN_ROOT"); this ledger's root at $N is $(re_quote "$FORK_ROOT")"
check "nothing written" [ ! -e "$T/fork.cp" ]
assert_unchanged w1 "$T/w1.db"
# w2 now holds the fork at N; the main history at N+1 is refused (422)
expect_rc 0 ledger set c1/app v=main2 -m "the main history goes on"
snapshot w2 "$T/w2.db"
expect_rc 1 ledger checkpoint --witness "$URL_w2" -o "$T/main.cp"
expect_one_line_error "fork: its checkpoint is not a prefix of this one \\(HTTP 422\\): it cosigned size $N with root $(re_quote "$FORK_ROOT"); this ledger's root at $N is $(re_quote "$MAIN_ROOT")"
check "nothing written" [ ! -e "$T/main.cp" ]
assert_unchanged w2 "$T/w2.db"
check "w2 logged the 422" grep -q 'POST /add-checkpoint: 422 ' "$T/w2.err"
# w1, which saw the main history, cosigns it on
expect_rc 0 ledger checkpoint --witness "$URL_w1" -o "$T/main.cp"
# a stale copy (the ledger as it was at $HEAD) is no fork, but behind
expect_rc 1 ledger --ledger "$T/stale" checkpoint --witness "$URL_w1" \
	-o "$T/stale.cp"
expect_one_line_error "HTTP 409: it cosigned size $((N + 1)) with root $(re_quote "$(root_of "$T/main.cp")"), more than this ledger's $HEAD \(entries lost, or a stale copy\); nothing written"
check "nothing written" [ ! -e "$T/stale.cp" ]

# ---- concurrent requests on a fresh witness ----

concurrent() {
	local codes winners
	start_witness w3f w1
	for i in 1 2 3 4 5 6 7 8; do
		if [ $((i % 2)) = 0 ]; then
			body "$T/c$i" 0 "$T/plain4"
		else
			body "$T/c$i" 0 "$T/plain5"
		fi
	done
	local pids=()
	for i in 1 2 3 4 5 6 7 8; do
		curl -sS -m 60 -o "$T/c$i.out" -w '%{http_code}\n' \
			--data-binary @"$T/c$i" "$URL_w3f/add-checkpoint" \
			>"$T/c$i.code" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	codes=$(cat "$T"/c?.code | sort | uniq -c | tr -s ' ' | tr '\n' ,)
	check "one 200 and seven 409: $codes" [ "$codes" = " 1 200, 7 409," ]
	winners=$(grep -l 200 "$T"/c?.code)
	latest "$URL_w3f"
	sed -n 2p "$OUT" >"$T/stored.size"
	check "the stored checkpoint is the winner's" \
		cmp -s <(sed -n 4p "${winners%.code}") "$T/stored.size"
}
section "concurrent" concurrent

step "stop"
for w in w1 w2; do
	eval "pid=\$PID_$w"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	check "witness $w exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ]
done
finish
