#!/bin/bash
# serve.sh - `ledger serve` on a free loopback port, driven with curl:
# every endpoint's JSON against the CLI's own answers, the raw msgpack
# bytes against mdb_dump and the entry hash, paging, Server-Sent Events
# (a `ledger set` arrives, Last-Event-ID resumes), the
# 400/404/405 answers with JSON bodies, that nothing is written, and a
# clean exit 0 on SIGTERM and SIGINT.
. "$(dirname "$0")/lib.sh"
need curl mdb_dump sha256sum xxd python3

. "$(dirname "$0")/lib_serve.sh"

# same_json FILE_A FILE_B MSG: equal as JSON values
same_json() {
	python3 - "$1" "$2" <<'PY' || fail "$3"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
	ok
}

# cli_to FILE ARGS...: the CLI's stdout into FILE, exit 0 required
cli_to() {
	local f=$1
	shift
	run ledger "$@"
	[ "$RC" -eq 0 ] || fail "ledger $* failed"
	cp "$OUT" "$f"
}

# ---------------------------------------------------------------------
step "a ledger with history"
init_ledger example.com/deploy/serve
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "PR #1" --meta pr=1
expect_rc 0 ledger set staging/api image.tag=v2 -m "PR #2"
expect_rc 0 ledger set staging/web image.tag=w1 -m "web"
expect_rc 0 ledger set prod/api image.tag=v1 -m "promote"
expect_rc 0 ledger unset staging/api replicas -m "drop replicas"
expect_rc 0 ledger lock staging/web -m "freeze"
for i in 1 2 3 4 5; do
	expect_rc 0 ledger set prod/web config.motd="hello $i" -m "motd $i"
done
HEAD=$(head_seq)
check "12 entries" [ "$HEAD" = 12 ]

step "startup errors"
expect_rc 2 ledger serve --listen nonsense
expect_one_line_error 'listen'
expect_rc 2 ledger serve --listen 127.0.0.1:99999
expect_one_line_error 'listen'
expect_rc 2 ledger serve extra
expect_one_line_error
expect_rc 2 env LEDGER_DIR="$T/none" "$LEDGER" serve --listen 127.0.0.1:0
expect_one_line_error
expect_rc 0 ledger serve --help
expect_out_match '^usage: ledger serve'
# HTTP lives in ledger-http: `ledger` itself loads no HTTP library, and
# without ledger-http beside it (or installed) serve and --remote say so
if command -v ldd >/dev/null; then
	check "ledger links no libcurl or libmicrohttpd" \
		[ -z "$(ldd "$LEDGER" | grep -E 'libcurl|libmicrohttpd')" ]
fi
expect_rc 2 env LEDGER_HTTP="$T/none" "$LEDGER" serve --listen 127.0.0.1:0
expect_one_line_error 'needs ledger-http'
expect_rc 2 env LEDGER_HTTP="$T/none" "$LEDGER" --remote http://127.0.0.1:1 set a/b k=v -m x
expect_one_line_error 'needs ledger-http'

step "start"
start_server
# port in use: a clear error, exit 2
expect_rc 2 ledger serve --listen "${BASE#http://}"
expect_one_line_error 'in use'
snapshot served

# ---------------------------------------------------------------------
step "head"
http 200 /api/v1/head
check "head is JSON" [ "$(header Content-Type)" = application/json ]
cp "$OUT" "$T/head.json"
cli_to "$T/verify.json" verify --json --threads 1
check "head seq" [ "$(jget "$T/head.json" seq)" = 12 ]
check "head hash = verify's" [ "$(jget "$T/head.json" hash)" = "$(jget "$T/verify.json" hash)" ]
check "head root = verify's" [ "$(jget "$T/head.json" root)" = "$(jget "$T/verify.json" root)" ]
check "head origin" [ "$(jget "$T/head.json" origin)" = example.com/deploy/serve ]
LAST_CMD="curl -v $BASE/api/v1/head $BASE/api/v1/state (one connection)"
curl -sv -o /dev/null -o /dev/null "$BASE/api/v1/head" "$BASE/api/v1/state" \
	>"$T/keepalive.log" 2>&1 || fail "curl failed"
check "two GETs share one connection (keep-alive)" \
	grep -q 'Re-using existing connection' "$T/keepalive.log"

step "state"
http 200 /api/v1/state
cli_to "$T/state.json" state --json
check "state = ledger state --json (bytes)" cmp -s "$OUT" "$T/state.json"
check "state shows the lock" [ "$(jget "$OUT" targets staging/web locked seq)" = 7 ]
http 200 "/api/v1/state?at=3"
cli_to "$T/state3.json" state --at 3 --json
check "state?at=3 = ledger state --at 3 --json" cmp -s "$OUT" "$T/state3.json"
check "state at 3: replicas" [ "$(jget "$OUT" targets staging/api values replicas)" = 2 ]
http 200 "/api/v1/state?scope=staging&at=6"
cli_to "$T/state6.json" state staging --at 6 --json
check "state?scope=staging&at=6 = ledger state staging --at 6 --json" cmp -s "$OUT" "$T/state6.json"
http 200 "/api/v1/state?scope=prod/web"
cli_to "$T/statepw.json" state prod/web --json
check "state?scope=prod/web" cmp -s "$OUT" "$T/statepw.json"
check "prod/web's motd" [ "$(jget "$OUT" targets prod/web values config.motd)" = "hello 5" ]
http 200 "/api/v1/state?scope=nowhere"
check "an unknown cluster has no targets" [ "$(jlen "$OUT" targets)" = 0 ]

step "history"
http 200 /api/v1/history/staging/api
cli_to "$T/hist.json" history staging/api --json
check "history = ledger history --json (bytes)" cmp -s "$OUT" "$T/hist.json"
check "history seqs" [ "$(python3 -c 'import json,sys; print(*[e["seq"] for e in json.load(open(sys.argv[1]))])' "$OUT")" = "2 3 6" ]
http 200 /api/v1/history/staging
cli_to "$T/histc.json" history staging --json
check "cluster history = ledger history staging --json" cmp -s "$OUT" "$T/histc.json"
expect_error 404 /api/v1/history/nowhere/api 'nowhere/api'

# pages: the newest N before a seq, oldest first, = `ledger history -n N
# --before SEQ --json`; a page past the first entry is [], not 404
seqs_of() {
	python3 -c 'import json,sys; print(*[e["seq"] for e in json.load(open(sys.argv[1]))])' "$1"
}
page_is() { # page_is QUERY CLI-ARGS SEQS
	http 200 "/api/v1/history/prod/web?$1"
	# shellcheck disable=SC2086
	cli_to "$T/page.json" history prod/web $2 --json
	check "?$1 = ledger history prod/web $2 --json" cmp -s "$OUT" "$T/page.json"
	check "?$1: seqs $3" [ "$(seqs_of "$OUT")" = "$3" ]
}
page_is "limit=2" "-n 2" "11 12"
page_is "limit=2&before=11" "-n 2 --before 11" "9 10"
page_is "before=10" "--before 10" "8 9"
page_is "limit=500&before=9" "-n 500 --before 9" "8"
page_is "before=8" "--before 8" ""
check "a page past the first entry is []" [ "$(cat "$OUT")" = "[]" ]
http 200 "/api/v1/history/prod?limit=1"
check "a cluster's page" [ "$(seqs_of "$OUT")" = "12" ]
expect_error 400 "/api/v1/history/prod/web?before=0" '^before: expected a sequence number 1\.\.2\^63$'
expect_error 400 "/api/v1/history/prod/web?limit=0" '^limit: expected a number 1\.\.500$'
expect_error 400 "/api/v1/history/prod/web?limit=2&limit=3" 'given twice'
expect_error 400 "/api/v1/history/prod/web?at=3" 'unknown query parameter "at"'
expect_error 404 "/api/v1/history/nowhere/api?before=5" 'nowhere/api has no history'

step "one entry"
for n in 1 2 7 12; do
	http 200 "/api/v1/entries/$n"
	cli_to "$T/show$n.json" show "$n" --json
	check "entries/$n = ledger show $n --json (bytes)" cmp -s "$OUT" "$T/show$n.json"
	check "entries/$n: Ledger-Entry-Hash" \
		[ "$(header Ledger-Entry-Hash)" = "$(jget "$T/show$n.json" hash)" ]
	check "entries/$n: immutable" [ -n "$(header Cache-Control | grep immutable)" ]
done

step "one entry as msgpack"
mdb_dump -s entries "$LEDGER_DIR" >"$T/entries.dump" || fail "mdb_dump failed"
for n in 1 2 7 12; do
	http 200 "/api/v1/entries/$n" -H 'Accept: application/msgpack'
	check "entries/$n msgpack: Content-Type" \
		[ "$(header Content-Type)" = application/msgpack ]
	cp "$OUT" "$T/e$n.bin"
	# mdb_dump: " KEYHEX" then " VALUEHEX" per record
	want=$(awk -v k=" $(printf %016x "$n")" '$0 == k { getline; print substr($0, 2); exit }' \
		"$T/entries.dump")
	check "entries/$n msgpack = mdb_dump's bytes" \
		[ "$(xxd -p "$T/e$n.bin" | tr -d '\n')" = "$want" ]
	h=$({ printf '\0'; cat "$T/e$n.bin"; } | sha256sum | cut -c1-64)
	check "entries/$n: SHA-256(0x00 || bytes) is the entry hash" \
		[ "$h" = "$(jget "$T/show$n.json" hash)" ]
done
http 200 /api/v1/entries/2 -H 'Accept: application/msgpack;q=0, application/json'
check "msgpack;q=0 gets JSON" cmp -s "$OUT" "$T/show2.json"

step "entries, paged"
http 200 "/api/v1/entries"
check "default: all 12" [ "$(jlen "$OUT" entries)" = 12 ]
check "default limit 100" [ "$(jget "$OUT" limit)" = 100 ]
check "no next page" [ "$(jget "$OUT" next)" = null ]
check "head" [ "$(jget "$OUT" head)" = 12 ]
python3 - "$OUT" "$T" <<'PY' || fail "entries differ from ledger show --json"
import json, sys
page = json.load(open(sys.argv[1]))
for n in (1, 2, 7, 12):
    want = json.load(open(f"{sys.argv[2]}/show{n}.json"))
    assert page["entries"][n - 1] == want, n
PY
ok
after=0 seqs= pages=0
while :; do
	http 200 "/api/v1/entries?after=$after&limit=5"
	seqs="$seqs$(python3 -c 'import json,sys; print(*[e["seq"] for e in json.load(open(sys.argv[1]))["entries"]], end=" ")' "$OUT")"
	pages=$((pages + 1))
	next=$(jget "$OUT" next)
	[ "$next" = null ] && break
	[ "$pages" -lt 10 ] || fail "paging does not end"
	after=$next
done
check "3 pages of 5" [ "$pages" = 3 ]
check "pages hold 1..12 once each, in order" [ "$seqs" = "1 2 3 4 5 6 7 8 9 10 11 12 " ]
http 200 "/api/v1/entries?after=11&limit=5"
check "after=11: one entry" [ "$(jget "$OUT" entries 0 seq)" = 12 ]
check "after=11: last page" [ "$(jget "$OUT" next)" = null ]
http 200 "/api/v1/entries?after=12"
check "after=head: empty" [ "$(jlen "$OUT" entries)" = 0 ]
http 200 "/api/v1/entries?after=99"
check "after beyond the head: empty" [ "$(jlen "$OUT" entries)" = 0 ]
http 200 "/api/v1/entries?limit=100000"
check "limit capped at 500" [ "$(jget "$OUT" limit)" = 500 ]
http 200 "/api/v1/entries?limit=10"
check "limit=10: next page after 10" [ "$(jget "$OUT" next)" = 10 ]

step "verify"
http 200 /api/v1/verify
check "verify = ledger verify --json (bytes)" cmp -s "$OUT" "$T/verify.json"
http 200 /api/v1/verify
check "verify again: the same report" cmp -s "$OUT" "$T/verify.json"

# ---------------------------------------------------------------------
step "errors"
expect_error 404 /nope 'no such resource'
expect_error 404 /api/v1/heads 'no such resource'
expect_error 404 /api/v1/head/ 'no such resource'
expect_error 404 /api/v2/head 'no such resource'
expect_error 404 /api/v1/entries/13 'no entry 13: the head is 12'
expect_error 404 /api/v1/entries/1/raw 'no such resource'
expect_error 400 /api/v1/entries/0 'entry'
expect_error 400 /api/v1/entries/abc 'entry'
# no leading zeros (docs/api.md), and no NUL smuggled in by percent-
# encoding: decoded, it ended the path early ("1%00" was entry 1)
expect_error 400 /api/v1/entries/01 'entry'
expect_error 400 /api/v1/entries/01/check 'entry'
expect_error 400 "/api/v1/entries?after=01" '^after: '
expect_error 400 /api/v1/entries/1%00 'entry'
expect_error 400 /api/v1/entries/1%00/check 'entry'
expect_error 400 "/api/v1/state?at=1%00" '^at: '
expect_error 400 "/api/v1/history/staging%00/api" 'cluster'
expect_error 404 /api/v1/head%00 'no such resource'
expect_error 404 /ui/app.js%00.html 'no such resource'
expect_error 404 /ui/app.css%00 'no such resource'
expect_error 404 /%00 'no such resource'
http 200 /ui/%61pp.js
check "other percent-escapes still decode" grep -q . "$OUT"
expect_error 400 /api/v1/history/Staging/api 'cluster'
expect_error 400 /api/v1/history/staging/a_b 'release'
expect_error 400 "/api/v1/state?at=0" '^at: '
expect_error 400 "/api/v1/state?at=x" '^at: '
expect_error 400 "/api/v1/state?at=13" 'no entry 13: the head is 12'
expect_error 400 "/api/v1/state?scope=a/b/c" 'target'
expect_error 400 "/api/v1/state?scope=" 'cluster'
expect_error 400 "/api/v1/state?sope=prod" 'unknown query parameter "sope"'
expect_error 400 "/api/v1/state?at=1&at=2" 'twice'
expect_error 400 "/api/v1/head?at=1" 'unknown query parameter "at"'
expect_error 400 "/api/v1/entries?after=-1" '^after: '
expect_error 400 "/api/v1/entries?limit=0" '^limit: '
expect_error 400 "/api/v1/entries?limit=ten" '^limit: '
expect_error 400 "/api/v1/events?after=x" '^after: '
expect_error 400 /api/v1/events 'Last-Event-ID' -H 'Last-Event-ID: nope'
for m in POST PUT DELETE PATCH; do
	expect_error 405 /api/v1/head "method $m not allowed" -X "$m"
	check "405 says Allow: GET, HEAD" [ "$(header Allow)" = "GET, HEAD" ]
done
expect_error 405 /api/v1/entries/1 'not allowed' -X POST --data-binary @"$T/e1.bin"
expect_error 404 /nope 'no such resource' -X POST
expect_error 400 /api/v1/head 'takes no body' --data-binary 'x=1' -X GET
http 200 /api/v1/head -I
check "HEAD: headers" grep -q '^Content-Type: application/json' "$OUT"
check "HEAD: no body" [ -z "$(grep '[{}]' "$OUT")" ]
# an oversized request: headers beyond the connection's memory limit
big=$(head -c 70000 /dev/zero | tr '\0' a)
LAST_CMD="curl (70 kB header) $BASE/api/v1/head"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$BASE/api/v1/head")
check "70 kB of headers: 431 (got $code)" [ "$code" = 431 ]
http 200 /api/v1/head
assert_unchanged served

# ---------------------------------------------------------------------
step "events"
sse_wait() { # sse_wait FILE ERE: a line matches (wait_for)
	wait_for grep -Eq -- "$2" "$1"
}
curl -sN "$BASE/api/v1/events" >"$T/ev1" 2>/dev/null &
EV1=$!
sse_wait "$T/ev1" '^: entries after 12$' || fail "events: no opening comment: $(cat "$T/ev1")"
ok
expect_rc 0 ledger set staging/api image.tag=v3 -m "live"
expect_out_match '^13 '
t0=$(date +%s%N)
sse_wait "$T/ev1" '^id: 13$' || fail "events: entry 13 did not arrive: $(cat "$T/ev1")"
ok
echo "entry 13 arrived after $((($(date +%s%N) - t0) / 1000000)) ms"
expect_rc 0 ledger set staging/api image.tag=v4 -m "live again"
sse_wait "$T/ev1" '^id: 14$' || fail "events: entry 14 did not arrive"
ok
kill "$EV1" 2>/dev/null
wait "$EV1" 2>/dev/null
cli_to "$T/show13.json" show 13 --json
cli_to "$T/show14.json" show 14 --json
python3 - "$T/ev1" "$T/show13.json" "$T/show14.json" <<'PY' || fail "events: stream differs from ledger show --json"
import json, sys
events, cur = [], {}
for line in open(sys.argv[1]).read().split("\n"):
    if line == "":
        if "data" in cur:
            events.append(cur)
        cur = {}
    elif not line.startswith(":"):
        k, _, v = line.partition(": ")
        cur[k] = v
assert [e["id"] for e in events] == ["13", "14"], events
assert all(e["event"] == "entry" for e in events)
for e, f in zip(events, sys.argv[2:]):
    assert json.loads(e["data"]) == json.load(open(f)), e["id"]
PY
ok

# resume: Last-Event-ID, ?after=, and the header wins over the query
sse_ids() { # sse_ids N ARGS: the first N ids a stream sends (wait_for)
	local n=$1 pid
	shift
	curl -sN "$@" >"$T/sse" 2>/dev/null &
	pid=$!
	wait_for eval '[ "$(grep -c "^id: " "$T/sse")" -ge "$n" ]'
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sed -n 's/^id: //p' "$T/sse" | head -n "$n" | tr '\n' ' '
}
check "Last-Event-ID: 10 resumes at 11" [ "$(sse_ids 4 -H 'Last-Event-ID: 10' "$BASE/api/v1/events")" = "11 12 13 14 " ]
check "?after=12 resumes at 13" [ "$(sse_ids 2 "$BASE/api/v1/events?after=12")" = "13 14 " ]
check "Last-Event-ID beats ?after=" [ "$(sse_ids 1 -H 'Last-Event-ID: 13' "$BASE/api/v1/events?after=1")" = "14 " ]
check "?after=0: everything" [ "$(sse_ids 14 "$BASE/api/v1/events?after=0")" = "$(seq -s ' ' 14) " ]
# nothing to wait for: whatever a second of stream brings (a slow
# machine brings less, never more)
check "no position: only new entries" [ -z "$(curl -sN -m 1 "$BASE/api/v1/events" 2>/dev/null | grep '^id: ')" ]

step "verify follows the head"
http 200 /api/v1/verify
check "verify: head 14" [ "$(jget "$OUT" head)" = 14 ]
cli_to "$T/verify14.json" verify --json --threads 1
check "verify = ledger verify --json at 14" cmp -s "$OUT" "$T/verify14.json"
http 200 /api/v1/head
check "head: 14" [ "$(jget "$OUT" seq)" = 14 ]

# A writer killed after its commit reached data.mdb but before the lock
# file (which the server keeps alive) said so: the server's head poller
# publishes it (ldg_store_settle), and the stream sends it. No ledger
# command runs in between, so nothing else could.
if [ -n "${KILL_AFTER_META:-}" ] && [ -f "$KILL_AFTER_META" ]; then
	step "a writer killed mid-commit: the server still sees its entry"
	curl -sN "$BASE/api/v1/events" >"$T/ev2" 2>/dev/null &
	EV2=$!
	sse_wait "$T/ev2" '^: entries after 14$' || fail "events: no opening comment"
	LAST_CMD="LD_PRELOAD=kill_after_meta.so ledger set"
	LDG_KILL_AFTER_META=1 LD_PRELOAD=$PRELOAD_KILL_AFTER_META bash -c \
		'"$0" set staging/api image.tag=v5 -m "killed mid-commit" >/dev/null 2>&1' \
		"$LEDGER" 2>/dev/null
	check "the set died of SIGKILL" [ $? -eq 137 ]
	sse_wait "$T/ev2" '^id: 15$' || fail "events: entry 15 (killed mid-commit) did not arrive: $(cat "$T/ev2")"
	ok
	kill "$EV2" 2>/dev/null
	wait "$EV2" 2>/dev/null
	http 200 /api/v1/head
	check "head: 15" [ "$(jget "$OUT" seq)" = 15 ]
else
	echo "serve: KILL_AFTER_META (kill_after_meta.so) not built: a writer killed mid-commit is not tried"
fi

# ---------------------------------------------------------------------
step "SIGTERM with a stream open"
curl -sN "$BASE/api/v1/events" >"$T/ev2" 2>/dev/null &
sse_wait "$T/ev2" '^: entries after' || fail "events: no opening comment"
stop_server TERM
LAST_CMD="curl $BASE/api/v1/head"
check "nothing listens after SIGTERM" [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/head")" = 000 ]
check "nothing on stderr" [ ! -s "$T/serve.err" ]

step "SIGINT"
start_server
http 200 /api/v1/head
stop_server INT

step "beyond loopback: a warning"
: >"$T/serve.out" # the last server's line must not end the wait below
"$LEDGER" serve --listen 0.0.0.0:0 >"$T/serve.out" 2>"$T/serve.err" &
SERVER_PID=$!
for _ in $(seq 600); do
	grep -q '^listening on ' "$T/serve.out" && break
	sleep 0.05
done
check "0.0.0.0 warns" grep -q 'warning: listening on 0.0.0.0' "$T/serve.err"
stop_server TERM

finish
