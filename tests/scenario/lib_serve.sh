# lib_serve.sh - for the scenario tests that talk to `ledger serve`;
# source it after lib.sh, never run it.
#
#   start_server [ARGS]     `ledger serve --listen 127.0.0.1:0 ARGS` in the
#                           background, waits for "listening on"; sets BASE
#   stop_server SIGNAL      it exits 0 (wait_for: within 30 s)
#   http STATUS PATH [CURL ARGS]   the body in $OUT, headers in $T/.hdr
#   header NAME             a header of the last answer
#   expect_error STATUS PATH ERE [CURL ARGS]   {"error": ...} matching ERE
#                           (and "rule" when a rule refused)
#   start_proxy             a proxy in front of $BASE that records and
#                           changes what it is told to; sets PROXY
#   pem NAME / keyid NAME   a key of $T/keys for openssl / its key id
#   draft NAME JSON [STATUS]   POST /api/v1/drafts as that key
#   sign NAME / post_signed STATUS   sign the draft (openssl) and POST it

SERVER_PID=
PROXY_PID=
serve_cleanup() {
	[ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
	[ -n "$PROXY_PID" ] && kill -KILL "$PROXY_PID" 2>/dev/null
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
	# a server that stops answering fails the step, not the whole test
	code=$(curl -sS -m 120 -o "$OUT" -D "$T/.hdr" -w '%{http_code}' "$@" \
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
	# and "rule" when a rule refused (docs/api.md)
	case $(jlen "$OUT"):$(jget "$OUT" rule) in
	1:*) ;;
	2:[a-z]*) ;;
	*) fail "$path: error body has more than \"error\" and \"rule\"" ;;
	esac
	printf '%s' "$msg" | grep -Eq -- "$re" ||
		fail "$path: error \"$msg\" does not match /$re/"
	ok
}

# start_proxy: a pass-through proxy in front of $BASE, in the background
# (PROXY_PID); sets PROXY. Every POST body goes to $T/bodies/N.bin and
# its answer to N.json: what the server saw, byte for byte. It lies when
# told, while these files exist:
#   $T/tamper       the last byte of each POST body is flipped
#   $T/lie-state    every GET /api/v1/state answer has each "image.tag"
#                   value replaced by EVIL-FROM-SERVER
#   $T/lie-entries  one byte of every GET /api/v1/entries page is changed
start_proxy() {
	mkdir -p "$T/bodies"
	cat >"$T/proxy.py" <<'PY'
import http.server, itertools, os, re, sys, urllib.request, urllib.error
base, t = sys.argv[1], sys.argv[2]
n = itertools.count(1)
told = lambda what: os.path.exists(os.path.join(t, what))
class H(http.server.BaseHTTPRequestHandler):
    def fwd(self, body):
        req = urllib.request.Request(base + self.path, data=body,
                                     method=self.command)
        for h in ("Content-Type", "Accept"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            r = urllib.request.urlopen(req)
            code, data, ct = r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            code, data, ct = e.code, e.read(), e.headers.get("Content-Type")
        if body is not None:
            i = next(n)
            open(os.path.join(t, "bodies", "%d.bin" % i), "wb").write(body)
            open(os.path.join(t, "bodies", "%d.json" % i), "wb").write(data)
        if self.path.startswith("/api/v1/state") and told("lie-state"):
            data = re.sub(rb'"image\.tag": *"[^"]*"',
                          b'"image.tag": "EVIL-FROM-SERVER"', data)
        if (self.path.startswith("/api/v1/entries?") and
                told("lie-entries") and len(data) > 40):
            data = data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]
        self.send_response(code)
        self.send_header("Content-Type", ct or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self.fwd(None)
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if told("tamper"):
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.fwd(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("http://127.0.0.1:%d" % s.server_port, flush=True)
s.serve_forever()
PY
	python3 "$T/proxy.py" "$BASE" "$T" >"$T/proxy.out" 2>&1 &
	PROXY_PID=$!
	for _ in $(seq 600); do
		[ -s "$T/proxy.out" ] && break
		sleep 0.05
	done
	PROXY=$(head -1 "$T/proxy.out")
	case $PROXY in http://127.0.0.1:*) ;; *) fail "no proxy: $PROXY" ;; esac
	ok
}

# pem NAME: the PKCS#8 PEM of $T/keys/NAME.key's Ed25519 seed, for openssl
pem() {
	python3 - "$T/keys/$1.key" >"$T/$1.pem" <<'PY'
import base64, sys
raw = base64.b64decode(open(sys.argv[1]).read().strip().split("+", 4)[4])
assert raw[0] == 1 and len(raw) == 33
der = bytes.fromhex("302e020100300506032b657004220420") + raw[1:]
print("-----BEGIN PRIVATE KEY-----")
print(base64.b64encode(der).decode())
print("-----END PRIVATE KEY-----")
PY
}

keyid() { cut -d+ -f4 "$T/keys/$1.key"; }

# draft KEYNAME JSON-WITHOUT-SIGNER [STATUS]: POST /api/v1/drafts as that
# key (expecting STATUS, 200 by default); the answer in $T/draft.json
draft() {
	local who=$1 body=$2
	http "${3:-200}" /api/v1/drafts -H 'Content-Type: application/json' \
		--data-binary "{\"signer\": \"$(keyid "$who")\", $body}"
	cp "$OUT" "$T/draft.json"
}

# sign KEYNAME: the signature of $T/draft.json's message by that key, and
# the JSON body of POST /api/v1/entries in $T/signed.json
sign() {
	python3 -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["message"]))' \
		"$T/draft.json" >"$T/msg.bin"
	openssl pkeyutl -sign -inkey "$T/$1.pem" -rawin -in "$T/msg.bin" \
		-out "$T/sig.bin" || fail "openssl could not sign"
	python3 - "$T/draft.json" "$T/sig.bin" >"$T/signed.json" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
sig = base64.b64encode(open(sys.argv[2], "rb").read()).decode()
print(json.dumps({"draft": d["draft"], "signature": sig}))
PY
}

post_signed() { # STATUS
	http "$1" /api/v1/entries -H 'Content-Type: application/json' \
		--data-binary @"$T/signed.json"
}
