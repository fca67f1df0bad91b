# lib_serve.sh - for the scenario tests that talk to `ledger serve`;
# source it after lib.sh, never run it.
#
#   start_server [ARGS]     `ledger serve --listen 127.0.0.1:0 ARGS` in the
#                           background, waits for "listening on"; sets BASE
#   stop_server SIGNAL      it exits 0 (wait_for: within 30 s)
#   http STATUS PATH [CURL ARGS]   the body in $OUT, headers in $T/.hdr
#   header NAME             a header of the last answer
#   expect_error STATUS PATH ERE [CURL ARGS]   {"error": ...} matching ERE

SERVER_PID=
serve_cleanup() {
	[ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	scn_cleanup
}
trap serve_cleanup EXIT

# start_server [ARGS]: runs `ledger serve --listen 127.0.0.1:0 ARGS` in
# the background and waits for its "listening on" line; sets BASE.
# (up to 30 s: under a loaded CI machine startup can take a while)
start_server() {
	# emptied here, not only by the background job's redirection: until
	# that job runs, the file may still hold the last server's line
	: >"$T/serve.out"
	"$LEDGER" serve --listen 127.0.0.1:0 "$@" >"$T/serve.out" \
		2>"$T/serve.err" &
	SERVER_PID=$!
	for _ in $(seq 600); do
		grep -q '^listening on ' "$T/serve.out" 2>/dev/null && break
		kill -0 "$SERVER_PID" 2>/dev/null ||
			fail "serve exited early: $(cat "$T/serve.err")"
		sleep 0.05
	done
	BASE=$(sed -n 's/^listening on //p' "$T/serve.out")
	case $BASE in
	http://127.0.0.1:[0-9]*) ;;
	*) fail "no \"listening on http://127.0.0.1:PORT\" line: $(cat "$T/serve.out")" ;;
	esac
	ok
}

# stop_server SIGNAL: the server exits 0 (within wait_for's 30 s).
stop_server() {
	local rc
	kill "-$1" "$SERVER_PID"
	wait_for eval '! kill -0 "$SERVER_PID" 2>/dev/null' ||
		fail "serve still runs ${SCN_WAIT:-30} s after SIG$1"
	wait "$SERVER_PID"
	rc=$?
	SERVER_PID=
	[ "$rc" -eq 0 ] || fail "serve exited $rc after SIG$1, expected 0"
	ok
}

# http STATUS PATH [CURL ARGS...]: GET (or what the args say) BASE/PATH;
# the body goes to $OUT, the headers to $T/.hdr, the status must match.
http() {
	local want=$1 path=$2 code
	shift 2
	LAST_CMD="curl $* $BASE$path"
	code=$(curl -sS -o "$OUT" -D "$T/.hdr" -w '%{http_code}' "$@" \
		"$BASE$path" 2>"$ERR")
	RC=$?
	[ "$RC" -eq 0 ] || fail "curl failed ($RC)"
	[ "$code" = "$want" ] || fail "$path: expected HTTP $want, got $code"
	ok
}

header() {
	tr -d '\r' <"$T/.hdr" | sed -n "s/^$1: //Ip" | head -1
}

# expect_error STATUS PATH ERE [CURL ARGS...]: a JSON {"error": ...}
# body matching ERE, served as application/json.
expect_error() {
	local want=$1 path=$2 re=$3 msg
	shift 3
	http "$want" "$path" "$@"
	check "$path: error served as JSON" [ "$(header Content-Type)" = application/json ]
	msg=$(jget "$OUT" error) || fail "$path: error body is not JSON"
	[ "$(jlen "$OUT")" = 1 ] || fail "$path: error body has more than \"error\""
	printf '%s' "$msg" | grep -Eq -- "$re" ||
		fail "$path: error \"$msg\" does not match /$re/"
	ok
}

