#!/bin/bash
# notify.sh - `ledger notify --webhook URL` against a receiver on
# loopback (fixtures/webhook.py: records each request's body and
# headers, answers as the test scripts it). Every matching entry once and
# in seq order, its body's "entry" = `ledger show SEQ --json` and its
# text exact; --scope and --kinds; the cursor (a first run starts at the
# head, a restart resumes after the last acknowledged seq, nothing lost
# or repeated, a notifier killed mid-POST delivers that entry again);
# 500 and 429 (Retry-After: 0) retried, a timed-out POST retried, a
# receiver that crashes and comes back, 400 skipped and logged; the HMAC
# header checked in Python with hmac.compare_digest; --remote against
# `ledger serve`, once and following, and through a proxy that changes a
# served entry (exit 1, nothing sent); usage errors in one line, exit 2,
# the ledger unchanged. Backoff in milliseconds (LEDGER_NOTIFY_BACKOFF_MS,
# a test build's).
. "$(dirname "$0")/lib.sh"
need python3 curl mdb_dump
. "$(dirname "$0")/lib_serve.sh"

FIXTURES=$(cd "$(dirname "$0")/fixtures" && pwd)
W=$T/hook
RECV_PID=
NOTIFY_PID=
export XDG_STATE_HOME=$T/state

notify_cleanup() {
	local p
	for p in $RECV_PID $NOTIFY_PID; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	serve_cleanup
}
trap notify_cleanup EXIT

# start_receiver [PORT]: fixtures/webhook.py on DIR $W; sets HOOK
start_receiver() {
	mkdir -p "$W"
	rm -f "$W/url"
	python3 "$FIXTURES/webhook.py" "$W" ${1:+"$1"} 2>"$T/receiver.err" &
	RECV_PID=$!
	wait_for test -s "$W/url" ||
		fail "the receiver did not start: $(cat "$T/receiver.err")"
	HOOK=$(cat "$W/url")
	ok
}

# fresh [ANSWER...]: forget every request; answer the next ones so
fresh() {
	rm -f "$W"/*.body "$W"/*.json "$W"/*.text "$W/log" "$W/count" \
		"$W/answers"
	[ $# -eq 0 ] || printf '%s\n' "$@" >"$W/answers"
}

# q WHAT [ARGS]: checks of what the receiver got (python3, below)
q() {
	python3 "$T/q.py" "$W" "$@"
}
cat >"$T/q.py" <<'PY'
import hashlib, hmac, json, os, sys
d, what = sys.argv[1], sys.argv[2]
n = int(open(os.path.join(d, "count")).read()) if os.path.exists(
    os.path.join(d, "count")) else 0
reqs = [(open(os.path.join(d, "%d.body" % i), "rb").read(),
         json.load(open(os.path.join(d, "%d.json" % i))))
        for i in range(1, n + 1)]
if what == "same":    # each body's entry is X-Ledger-Seq's `show --json`
    for body, h in reqs:
        j = json.loads(body)
        shown = json.load(open(os.path.join(sys.argv[3],
                                            h["headers"]["X-Ledger-Seq"])))
        if (j["entry"] != shown or set(j) != {"text", "entry"} or
                str(j["entry"]["seq"]) != h["headers"]["X-Ledger-Seq"] or
                h["headers"]["Content-Type"] != "application/json"):
            sys.exit("request for seq %s: not its show --json"
                     % h["headers"]["X-Ledger-Seq"])
elif what == "hmac":    # every signature verifies under secret file F,
                        # none under file OTHER
    def verified(path, body, h):
        secret = open(path, "rb").read().removesuffix(b"\n")
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(h["headers"].get("X-Ledger-Signature", ""),
                                   want)
    for body, h in reqs:
        if not verified(sys.argv[3], body, h):
            sys.exit("seq %s: the signature does not verify"
                     % h["headers"]["X-Ledger-Seq"])
        if verified(sys.argv[4], body, h):
            sys.exit("seq %s: the signature verifies under another secret"
                     % h["headers"]["X-Ledger-Seq"])
    if not reqs:
        sys.exit("no requests")
PY

# shows DIR FROM TO: `ledger show SEQ --json` of each seq into DIR/SEQ
shows() {
	mkdir -p "$1"
	for s in $(seq "$2" "$3"); do
		ledger show "$s" --json >"$1/$s" || fail "show $s"
	done
}

# seqs: the X-Ledger-Seq of each request the receiver got, in order
seqs() {
	[ -e "$W/log" ] || return 0
	sort -n "$W/log" | cut -d' ' -f2 | paste -sd' '
}
# text N: the text of request N
text() {
	cat "$W/$1.text"
}

# expect_seqs "S1 S2 ...": the requests the receiver got, in order
expect_seqs() {
	local got
	got=$(seqs)
	[ "$got" = "$1" ] || fail "expected requests for seqs \"$1\", got \"$got\""
	ok
}

# notify_bg NAME ARGS: `ledger notify --webhook $HOOK ARGS` in the
# background (NOTIFY_PID), its stdout in $T/NAME.out, stderr in NAME.err
notify_bg() {
	local name=$1
	shift
	"$LEDGER" notify --webhook "$HOOK" "$@" >"$T/$name.out" \
		2>"$T/$name.err" &
	NOTIFY_PID=$!
}

# stop_notify: SIGTERM to the notifier in the background: it exits 0
stop_notify() {
	kill -TERM "$NOTIFY_PID"
	wait "$NOTIFY_PID"
	RC=$?
	NOTIFY_PID=
	check "SIGTERM: exit 0" [ "$RC" = 0 ]
}

notify() { # notify ARGS: `ledger notify --webhook $HOOK ARGS`
	run ledger notify --webhook "$HOOK" "$@"
}

# ---------------------------------------------------------------------
step "a ledger and a receiver"
init_ledger example.com/deploy/notify
new_key ci
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/ci.pub" --role deployer --scope '*' \
	-m "CI"
expect_rc 0 ledger set staging/api image.tag=3f2a9c1 -m "PR #42" \
	--key "$T/keys/ci.key"
expect_rc 0 ledger set prod/api image.tag=v1 replicas=2 -m "promote <&>"
expect_rc 0 ledger lock staging/api -m "bad build"
expect_rc 0 ledger unset prod/api replicas -m "default"
check "6 entries" [ "$(head_seq)" = 6 ]
start_receiver

# ---------------------------------------------------------------------
step "usage errors: one line, exit 2, nothing sent, the ledger unchanged"
fresh
snapshot before
printf 'sekrit\n' >"$T/secret.loose"
chmod 644 "$T/secret.loose"
: >"$T/secret.empty"
chmod 600 "$T/secret.empty"
printf 'not a seq\n' >"$T/cursor.bad"
while IFS='|' read -r re args; do
	[ -n "$re" ] || continue
	eval "set -- $args"
	expect_rc 2 ledger notify "$@"
	expect_one_line_error "^ledger: notify: .*$re"
	expect_no_out
done <<EOF
--webhook URL is required|--once
not an http:// or https:// URL|--webhook ftp://x/ --once
no kind "sett" \(init, set, unset, rollback, lock, .*approve, withdraw|--webhook $HOOK --kinds set,sett
expected a list|--webhook $HOOK --kinds ,
--scope Bad/Scope|--webhook $HOOK --scope Bad/Scope
--from must be a seq|--webhook $HOOK --from 0
--timeout x: expected seconds|--webhook $HOOK --timeout x
--link-base http://a b: not an http|--webhook $HOOK --link-base 'http://a b'
unexpected argument "extra"|--webhook $HOOK extra
unknown option --bogus|--webhook $HOOK --bogus
option --webhook needs a value|--webhook
--secret-file: .*nope: No such file|--webhook $HOOK --secret-file $T/nope
readable by others \(mode 0644\); chmod 600 it|--webhook $HOOK --secret-file $T/secret.loose
secret.empty: empty|--webhook $HOOK --secret-file $T/secret.empty
cursor.bad: not a cursor file.*; pass --from SEQ to start elsewhere|--webhook $HOOK --cursor $T/cursor.bad --once
--cursor: a path of at most 4095 bytes|--webhook $HOOK --cursor $T/$(printf '%04100d' 0) --once
cursor.bad/c: Not a directory|--webhook $HOOK --cursor $T/cursor.bad/c --once
--remote ftp://x: not an http|--webhook $HOOK --remote ftp://x
EOF
expect_rc 2 ledger --remote ftp://x notify --webhook "$HOOK" --once
expect_one_line_error "^ledger: notify: --remote ftp://x: not an http"
check "no request reached the receiver" [ ! -e "$W/count" ]
assert_unchanged before
notify --once --from 5 --cursor "$T/cursor.bad"
expect_no_err
expect_seqs "5 6"
check "--from replaces a broken cursor" [ "$(cat "$T/cursor.bad")" = 6 ]
expect_rc 0 ledger notify --help
expect_out_match '^usage: ledger notify --webhook URL'
expect_rc 0 ledger --help
expect_out_match '^  notify +POST each new entry to a webhook'

# ---------------------------------------------------------------------
step "every entry once, in seq order, as show --json, with its text"
fresh
shows "$T/shown" 1 6
notify --from 1 --once --cursor "$T/c.all" --link-base https://ledger.example.com/
expect_no_err
expect_out "seq 1: delivered (HTTP 200)
seq 2: delivered (HTTP 200)
seq 3: delivered (HTTP 200)
seq 4: delivered (HTTP 200)
seq 5: delivered (HTTP 200)
seq 6: delivered (HTTP 200)"
expect_seqs "1 2 3 4 5 6"
q same "$T/shown" || fail "a body is not {text, entry as show --json}"
ok
check "text of a set" [ "$(text 3)" = \
	"ci set staging/api image.tag=3f2a9c1 (seq 3): PR #42 <https://ledger.example.com/#/e/3>" ]
check "text escaped for Slack" [ "$(text 4)" = \
	"admin set prod/api image.tag=v1, replicas=2 (seq 4): promote &lt;&amp;&gt; <https://ledger.example.com/#/e/4>" ]
check "text of a lock" [ "$(text 5)" = \
	"admin lock staging/api (seq 5): bad build <https://ledger.example.com/#/e/5>" ]
check "text of an unset" [ "$(text 6)" = \
	"admin unset prod/api -replicas (seq 6): default <https://ledger.example.com/#/e/6>" ]
check "the cursor holds the last seq" [ "$(cat "$T/c.all")" = 6 ]
check "no signature without a secret" \
	[ -z "$(grep -l X-Ledger-Signature "$W"/*.json)" ]
fresh
notify --once --cursor "$T/c.all"
expect_no_out
check "nothing again once delivered" [ ! -e "$W/count" ]

# ---------------------------------------------------------------------
step "a first run starts at the head; restarts resume after the cursor"
fresh
notify --once
expect_no_out
check "nothing old delivered" [ ! -e "$W/count" ]
CURSOR=$(ls "$XDG_STATE_HOME"/ledger/notify-*) || fail "no default cursor"
check "default cursor: one per ledger and webhook" \
	[ "$(ls "$XDG_STATE_HOME"/ledger | wc -l)" = 1 ]
check "the cursor is the head" [ "$(cat "$CURSOR")" = 6 ]
expect_rc 0 ledger set staging/api image.tag=a1 -m "PR #43" --force
expect_rc 0 ledger set staging/api image.tag=a2 -m "PR #44" --force
notify --once
expect_out "seq 7: delivered (HTTP 200)
seq 8: delivered (HTTP 200)"
expect_seqs "7 8"
check "the cursor moved" [ "$(cat "$CURSOR")" = 8 ]
check "no temporary file left" [ "$(ls "$XDG_STATE_HOME"/ledger | wc -l)" = 1 ]
notify --once
expect_no_out
expect_seqs "7 8"

# ---------------------------------------------------------------------
step "--scope and --kinds"
fresh
notify --from 1 --once --cursor "$T/c.filter" --scope 'staging/*' \
	--kinds set,lock
expect_seqs "3 5 7 8"
check "the cursor passes over what was filtered out" \
	[ "$(cat "$T/c.filter")" = 8 ]
fresh
notify --from 1 --once --cursor "$T/c.filter2" --scope 'prod/*' \
	--scope 'nowhere/*'
expect_seqs "4 6"
fresh
notify --from 1 --once --cursor "$T/c.filter3" --kinds key-add,init
expect_seqs "1 2"

# ---------------------------------------------------------------------
if ledger --version | grep -q 'test clock'; then
	export LEDGER_NOTIFY_BACKOFF_MS=20
	step "500 and 429 retried, then delivered once"
	fresh 500 "429 0" 200 200
	notify --from 7 --once --cursor "$T/c.retry"
	expect_out "seq 7: delivered (HTTP 200)
seq 8: delivered (HTTP 200)"
	expect_seqs "7 7 7 8"
	check "two lines on stderr" [ "$(wc -l <"$ERR")" = 2 ]
	expect_err_match '^ledger: notify: seq 7: http://127\.0\.0\.1:[0-9]+: HTTP 500: \{"n": 1, "status": 500\}; again in 20 ms$'
	expect_err_match '^ledger: notify: seq 7: .*: HTTP 429: .*; again in 0 ms \(Retry-After\)$'
	check "the webhook's path (its secret, for Slack) is not logged" \
		[ -z "$(grep /hook "$ERR")" ]

	step "400 is logged and skipped"
	fresh 400
	notify --from 7 --once --cursor "$T/c.skip"
	expect_out "seq 8: delivered (HTTP 200)"
	expect_one_line_error '^ledger: notify: seq 7: http://127\.0\.0\.1:[0-9]+ answered HTTP 400: .*: skipped, not retried$'
	expect_seqs "7 8"
	check "the skipped entry is acknowledged" [ "$(cat "$T/c.skip")" = 8 ]

	step "a slow answer beyond --timeout is tried again"
	fresh "slow 4"
	notify --from 8 --once --cursor "$T/c.slow" --timeout 1
	expect_out "seq 8: delivered (HTTP 200)"
	# the first try times out; on a machine so loaded that an answer at
	# once takes a second, a later one may too: each is logged and
	# tried again
	check "the timeout logged" [ -s "$ERR" ]
	check "every failure a timeout" [ -z \
		"$(grep -v '^ledger: notify: seq 8: .*[Tt]imeout.*; again in [0-9]* ms$' "$ERR")" ]
	case $(seqs) in
	"8 8" | "8 8 8"*) ;;
	*) fail "expected seq 8 sent again after the timeout, got \"$(seqs)\"" ;;
	esac
	ok

	step "the receiver crashes, comes back on its port"
	fresh 200 exit
	PORT=${HOOK#http://127.0.0.1:}
	PORT=${PORT%/hook}
	notify_bg crash --from 7 --once --cursor "$T/c.crash"
	wait_for eval '! kill -0 $RECV_PID 2>/dev/null' ||
		fail "the receiver did not exit when told"
	wait "$RECV_PID"
	wait_for grep -q 'Connection refused\|Couldn' "$T/crash.err" ||
		fail "no failure logged: $(cat "$T/crash.err")"
	start_receiver "$PORT"
	wait_for eval '! kill -0 $NOTIFY_PID 2>/dev/null' ||
		fail "notify --once did not finish after the receiver came back"
	wait "$NOTIFY_PID"
	RC=$?
	NOTIFY_PID=
	check "exit 0" [ "$RC" = 0 ]
	check "both delivered" [ "$(cat "$T/crash.out")" = "seq 7: delivered (HTTP 200)
seq 8: delivered (HTTP 200)" ]
	# 8 once unanswered (the crash), then until the receiver was back
	got=$(seqs)
	case $got in
	"7 8 8") ;;
	*) fail "expected requests \"7 8 8\", got \"$got\"" ;;
	esac
	ok
	unset LEDGER_NOTIFY_BACKOFF_MS
else
	echo "(retry steps skipped: built without -Dtest_clock=true)"
fi

# ---------------------------------------------------------------------
step "signed with --secret-file: X-Ledger-Signature verifies"
fresh
printf 'correct horse battery staple\n' >"$T/secret"
chmod 600 "$T/secret"
notify --from 1 --once --cursor "$T/c.hmac" --secret-file "$T/secret"
expect_seqs "1 2 3 4 5 6 7 8"
printf 'correct horse battery stapler\n' >"$T/secret.other"
q hmac "$T/secret" "$T/secret.other" 2>"$T/hmac.err" ||
	fail "$(cat "$T/hmac.err")"
ok

# ---------------------------------------------------------------------
step "following: SIGTERM, then a restart loses nothing and repeats nothing"
fresh
notify_bg follow --cursor "$T/c.follow"
wait_for test -s "$T/c.follow" || fail "no cursor written"
expect_rc 0 ledger set staging/web image.tag=w1 -m "PR #45"
wait_for grep -q '^seq 9: delivered' "$T/follow.out" ||
	fail "seq 9 not delivered while following: $(cat "$T/follow.err")"
stop_notify
expect_rc 0 ledger set staging/web image.tag=w2 -m "PR #46"
expect_rc 0 ledger set staging/web image.tag=w3 -m "PR #47"
notify --once --cursor "$T/c.follow"
expect_out "seq 10: delivered (HTTP 200)
seq 11: delivered (HTTP 200)"
expect_seqs "9 10 11"

step "killed in the middle of a POST: that entry again, then the rest"
fresh "slow 30"
notify_bg kill --cursor "$T/c.follow" --timeout 60
expect_rc 0 ledger set staging/web image.tag=w4 -m "PR #48"
wait_for test -e "$W/1.body" || fail "seq 12 was never sent"
{
	kill -KILL "$NOTIFY_PID"
	wait "$NOTIFY_PID"
} 2>/dev/null
NOTIFY_PID=
check "not acknowledged" [ "$(cat "$T/c.follow")" = 11 ]
expect_rc 0 ledger set staging/web image.tag=w5 -m "PR #49"
notify --once --cursor "$T/c.follow"
expect_out "seq 12: delivered (HTTP 200)
seq 13: delivered (HTTP 200)"
expect_seqs "12 12 13"

# ---------------------------------------------------------------------
step "--remote: the served ledger's entries, as locally"
start_server
fresh
notify --remote "$BASE" --from 1 --once --cursor "$T/c.remote" \
	--link-base https://ledger.example.com
expect_no_err
check "13 delivered" [ "$(grep -c 'delivered' "$OUT")" = 13 ]
expect_seqs "1 2 3 4 5 6 7 8 9 10 11 12 13"
shows "$T/shown" 7 13
q same "$T/shown" || fail "a body is not {text, entry as show --json}"
ok
check "the same text" [ "$(text 3)" = \
	"ci set staging/api image.tag=3f2a9c1 (seq 3): PR #42 <https://ledger.example.com/#/e/3>" ]
check "no private copy left" [ -z "$(ls "$TMPDIR")" ]

step "ledger --remote URL notify, following the event stream"
fresh
"$LEDGER" --remote "$BASE" notify --webhook "$HOOK" --cursor "$T/c.remote" \
	--kinds set >"$T/rfollow.out" 2>"$T/rfollow.err" &
NOTIFY_PID=$!
expect_rc 0 ledger lock staging/web -m "hold"
expect_rc 0 ledger set staging/web image.tag=w6 -m "PR #50" --force
wait_for grep -q '^seq 15: delivered' "$T/rfollow.out" ||
	fail "seq 15 not delivered: $(cat "$T/rfollow.err")"
stop_notify
expect_seqs "15"
check "the cursor" [ "$(cat "$T/c.remote")" = 15 ]
check "no private copy left" [ -z "$(ls "$TMPDIR")" ]

step "--remote through a server that changes an entry: exit 1, nothing sent"
start_proxy
touch "$T/lie-entries"
fresh
notify --remote "$PROXY" --from 1 --once --cursor "$T/c.lie"
check "exit 1" [ "$RC" = 1 ]
expect_one_line_error '^ledger: notify: from http://127\.0\.0\.1:[0-9]+: entry [0-9]+: '
expect_no_out
check "nothing sent" [ ! -e "$W/count" ]
check "no private copy left" [ -z "$(ls "$TMPDIR")" ]
stop_server TERM

finish
