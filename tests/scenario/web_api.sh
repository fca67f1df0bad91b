#!/bin/bash
# web_api.sh - what the web page stands on, against `ledger serve` on a
# free loopback port: GET /api/v1/releases (= `ledger status --json`),
# /api/v1/keys, /api/v1/entries/SEQ/check (a forged entry shows a bad
# signature); the draft flow a browser uses (POST /api/v1/drafts, sign
# the returned message elsewhere, POST the signature) for set, unset,
# lock, unlock and rollback, with the signing done by openssl so that
# only the secret key's holder signs; every refusal (unknown signer, out
# of scope, locked, bad JSON, wrong signature, stale or replayed draft)
# with nothing written; typed values drafted canonical and given typed
# by every answer (state, releases, entries, history); the POST rate
# limit (429 with Retry-After); the page's static files with their
# Content-Security-Policy and ETag; and `ledger --remote URL rollback
# CLUSTER`.
. "$(dirname "$0")/lib.sh"
need curl python3 openssl

. "$(dirname "$0")/lib_serve.sh"

# ---------------------------------------------------------------------
step "a ledger with a deployer and an outsider"
init_ledger example.com/deploy/web
new_key deployer
new_key outsider
new_key applier
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope 'staging/*' -m "CI"
expect_rc 0 ledger key add "$T/keys/applier.pub" --role applier \
	--scope 'staging/*' -m "applier"
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "PR #1"
expect_rc 0 ledger set staging/api image.tag=v2 -m "PR #2"
expect_rc 0 ledger set staging/web image.tag=w1 -m "web"
expect_rc 0 ledger set prod/api image.tag=p1 -m "prod"
expect_rc 0 ledger lock staging/web -m "freeze"
pem deployer
pem outsider
start_server

# ---------------------------------------------------------------------
step "releases = ledger status --json"
http 200 /api/v1/releases
run ledger status --json
check "releases = status --json (bytes)" cmp -s "$OUT" "$T/.out"
http 200 /api/v1/releases
cp "$OUT" "$T/rel.json"
check "three releases" [ "$(jlen "$T/rel.json" releases)" = 3 ]
check "first is prod/api" [ "$(jget "$T/rel.json" releases 0 target)" = prod/api ]
check "staging/api v2" [ "$(jget "$T/rel.json" releases 1 values image.tag)" = v2 ]
check "set by admin" [ "$(jget "$T/rel.json" releases 1 changed signer)" = admin ]
check "why" [ "$(jget "$T/rel.json" releases 1 changed reason)" = "PR #2" ]
check "changed at seq 5" [ "$(jget "$T/rel.json" releases 1 changed seq)" = 5 ]
check "staging/web locked" [ "$(jget "$T/rel.json" releases 2 locked reason)" = freeze ]
check "never applied" [ "$(jget "$T/rel.json" releases 1 apply)" = null ]
http 200 "/api/v1/releases?scope=staging"
check "scope=staging: two" [ "$(jlen "$OUT" releases)" = 2 ]
expect_error 400 "/api/v1/releases?scope=Bad" 'cluster'
run ledger status
expect_out_match '^staging/api +image.tag=v2 replicas=2 +admin +[0-9T:-]+ +PR #2 +- +never applied$'
expect_out_match '^staging/web .* locked \(seq 8\) +never applied$'

step "the applier's outcome shows"
expect_rc 0 ledger set staging/api image.tag=v2 -m noop
FIX=$(cd "$(dirname "$0")/fixtures" && pwd)
mkdir -p "$T/bin" "$T/cfg/clusters/staging"
cp "$FIX/helmfile" "$T/bin/helmfile"
chmod 755 "$T/bin/helmfile"
cp "$FIX/helmfile.yaml" "$T/cfg/clusters/staging/helmfile.yaml"
export HF_LOG=$T/hf.log HF_BUILD=$FIX/build.yaml
expect_rc 0 env PATH="$T/bin:$PATH" "$LEDGER" apply staging \
	--config-dir "$T/cfg" --key "$T/keys/applier.key"
run ledger status staging/api --json
check "applied" [ "$(jget "$OUT" releases 0 apply kind)" = applied ]
check "current" [ "$(jget "$OUT" releases 0 apply current)" = true ]
expect_rc 0 ledger set staging/api image.tag=v3 -m "PR #3"
run ledger status staging/api --json
check "behind after a newer set" [ "$(jget "$OUT" releases 0 apply current)" = false ]
run ledger status staging/api
expect_out_match 'applied at seq [0-9]+, behind$'
expect_rc 0 ledger set staging/api image.tag=v2 -m "back to v2"

# ---------------------------------------------------------------------
step "keys"
http 200 /api/v1/keys
check "three keys" [ "$(jlen "$OUT" keys)" = 3 ]
check "admin first" [ "$(jget "$OUT" keys 0 name)" = admin ]
check "deployer's role" [ "$(jget "$OUT" keys 2 role)" = deployer ]
check "deployer's scopes" [ "$(jget "$OUT" keys 2 scopes)" = 'staging/*' ]
check "deployer's vkey" [ "$(jget "$OUT" keys 2 vkey)" = "$(cat "$T/keys/deployer.pub")" ]
check "deployer's keyid" [ "$(jget "$OUT" keys 2 keyid)" = "$(keyid deployer)" ]
check "not revoked" [ "$(jget "$OUT" keys 2 revoked_seq)" = null ]

step "one entry's check"
http 200 /api/v1/entries/5/check
cp "$OUT" "$T/check5.json"
check "signature ok" [ "$(jget "$OUT" signature ok)" = true ]
check "signer key ok" [ "$(jget "$OUT" signer_key ok)" = true ]
check "signer named" [ "$(jget "$OUT" key name)" = admin ]
check "prev links" [ "$(jget "$OUT" chain prev_ok)" = true ]
check "next links" [ "$(jget "$OUT" chain next_ok)" = true ]
run ledger show 5 --json
check "hash = show's" [ "$(jget "$T/check5.json" hash)" = "$(jget "$T/.out" hash)" ]
http 200 /api/v1/entries/1/check
check "init: signature ok" [ "$(jget "$OUT" signature ok)" = true ]
check "init: prev is zero" [ "$(jget "$OUT" chain prev_ok)" = true ]
HEAD=$(head_seq)
http 200 "/api/v1/entries/$HEAD/check"
check "head: no next" [ "$(jget "$OUT" chain next_ok)" = null ]
expect_error 404 "/api/v1/entries/$((HEAD + 1))/check" 'no entry'
expect_error 400 /api/v1/entries/0/check 'entry'
expect_error 404 /api/v1/entries/1/checks 'no such resource'

# ---------------------------------------------------------------------
step "a set through a draft, signed elsewhere"
snapshot before
draft deployer '"kind": "set", "target": "staging/api", "changes": {"image.tag": "v9"}, "reason": "PR #9"'
check "draft seq = head + 1" [ "$(jget "$T/draft.json" seq)" = $((HEAD + 1)) ]
check "draft entry shown" [ "$(jget "$T/draft.json" entry changes 0 value)" = v9 ]
check "draft signer" [ "$(jget "$T/draft.json" entry signer name)" = deployer ]
assert_unchanged before
sign deployer
post_signed 201
check "appended at head + 1" [ "$(jget "$OUT" seq)" = $((HEAD + 1)) ]
run ledger get staging/api image.tag
expect_out v9
run ledger show $((HEAD + 1)) --json
check "signed by deployer" [ "$(jget "$T/.out" signer name)" = deployer ]
check "reason" [ "$(jget "$T/.out" reason)" = "PR #9" ]
check "the ledger verifies" [ -n "$(head_seq)" ]

step "replaying it: 409, nothing written"
snapshot after_set
post_signed 409
check "409 names the head" [ "$(jget "$OUT" head seq)" = $((HEAD + 1)) ]
assert_unchanged after_set

step "a stale draft: 409"
draft deployer '"kind": "set", "target": "staging/api", "changes": {"image.tag": "v10"}, "reason": "stale"'
sign deployer
expect_rc 0 ledger set staging/other k=v -m "moves the head"
snapshot moved
post_signed 409
assert_unchanged moved

step "a wrong signature: 400, nothing written"
draft deployer '"kind": "set", "target": "staging/api", "changes": {"image.tag": "v11"}, "reason": "forged"'
sign outsider
expect_error 400 /api/v1/entries 'signature' -H 'Content-Type: application/json' --data-binary @"$T/signed.json"
python3 - "$T/signed.json" >"$T/short.json" <<'PY'
import json, sys, base64
d = json.load(open(sys.argv[1])); d["signature"] = base64.b64encode(b"x" * 10).decode()
print(json.dumps(d))
PY
expect_error 400 /api/v1/entries 'signature' -H 'Content-Type: application/json' --data-binary @"$T/short.json"
expect_error 400 /api/v1/entries 'not base64' -H 'Content-Type: application/json' --data-binary '{"draft": "***", "signature": "AA=="}'
expect_error 400 /api/v1/entries 'unknown member' -H 'Content-Type: application/json' --data-binary '{"draft": "AA==", "signature": "AA==", "x": 1}'
expect_error 400 /api/v1/entries 'malformed JSON' -H 'Content-Type: application/json' --data-binary '{"draft": '
expect_error 400 /api/v1/entries 'not an entry' -H 'Content-Type: application/json' --data-binary '{"draft": "AAAA", "signature": "'"$(head -c 64 /dev/zero | base64 -w0)"'"}'
assert_unchanged moved

step "draft refusals"
draft outsider '"kind": "set", "target": "staging/api", "changes": {"image.tag": "x"}, "reason": "r"' 403
check "unknown signer" grep -q 'is not in the keyring' "$OUT"
draft deployer '"kind": "set", "target": "prod/api", "changes": {"image.tag": "x"}, "reason": "r"' 403
check "out of scope" grep -q 'scope' "$OUT"
draft deployer '"kind": "set", "target": "staging/web", "changes": {"image.tag": "x"}, "reason": "r"' 423
check "locked, with the reason" grep -q 'freeze' "$OUT"
draft deployer '"kind": "set", "target": "staging/api", "changes": {"image.tag": "v9"}, "reason": "same"'
check "nothing to do: draft null" [ "$(jget "$T/draft.json" draft)" = null ]
expect_error 400 /api/v1/drafts 'kind' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"key-add\", \"target\": \"staging/api\", \"reason\": \"r\"}"
expect_error 400 /api/v1/drafts 'unknown member "to"' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"set\", \"target\": \"staging/api\", \"reason\": \"r\", \"to\": 3, \"changes\": {\"a\": \"b\"}}"
expect_error 400 /api/v1/drafts 'signer' -H 'Content-Type: application/json' \
	--data-binary '{"signer": "xyz", "kind": "lock", "target": "staging/api", "reason": "r"}'
expect_error 400 /api/v1/drafts 'reason' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"lock\", \"target\": \"staging/api\"}"
expect_error 400 /api/v1/drafts 'target' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"lock\", \"target\": \"Staging/api\", \"reason\": \"r\"}"
expect_error 400 /api/v1/drafts 'key' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"set\", \"target\": \"staging/api\", \"reason\": \"r\", \"changes\": {\"bad key\": \"v\"}}"
expect_error 400 /api/v1/drafts 'changes' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"set\", \"target\": \"staging/api\", \"reason\": \"r\", \"changes\": []}"
expect_error 400 /api/v1/drafts '"changes": a: objects are not values: use dotted keys, e.g. a.b:=1' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"set\", \"target\": \"staging/api\", \"reason\": \"r\", \"changes\": {\"a\": {\"b\": 1}}}"
expect_error 400 /api/v1/drafts 'malformed JSON' -H 'Content-Type: application/json' --data-binary '[1,'
expect_error 400 /api/v1/drafts 'expected a JSON object' -H 'Content-Type: application/json' --data-binary '[1]'
expect_error 400 /api/v1/drafts 'to' -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"rollback\", \"target\": \"staging/api\", \"reason\": \"r\", \"to\": 99999}"
expect_error 415 /api/v1/drafts 'application/json' --data-binary '{}' -H 'Content-Type: text/plain'
head -c $((2 * 1024 * 1024 + 1)) /dev/zero >"$T/big.json"
expect_error 413 /api/v1/drafts 'larger than' -H 'Content-Type: application/json' --data-binary @"$T/big.json"
expect_error 413 /api/v1/entries 'larger than' -H 'Content-Type: application/json' --data-binary @"$T/big.json"
expect_error 405 /api/v1/drafts 'not allowed'
check "405 says Allow: POST" [ "$(header Allow)" = POST ]
expect_error 400 /api/v1/drafts 'empty body' -H 'Content-Type: application/json' -X POST
expect_error 400 "/api/v1/drafts?x=1" 'takes no query parameters' -H 'Content-Type: application/json' --data-binary '{}'
expect_error 400 "/api/v1/entries?foo=1" 'takes no query parameters' -H 'Content-Type: application/json' --data-binary '{}'
assert_unchanged moved

step "unset, lock, unlock and rollback through drafts"
draft deployer '"kind": "unset", "target": "staging/api", "keys": ["replicas"], "reason": "drop"'
sign deployer
post_signed 201
run ledger get staging/api replicas
check "replicas gone" [ "$RC" = 1 ]
draft deployer '"kind": "lock", "target": "staging/api", "reason": "hold"'
sign deployer
post_signed 201
run ledger state staging/api --json
check "locked" [ "$(jget "$T/.out" targets staging/api locked reason)" = hold ]
draft deployer '"kind": "set", "target": "staging/api", "changes": {"image.tag": "v12"}, "reason": "forced", "force": true'
sign deployer
post_signed 201
run ledger get staging/api image.tag
expect_out v12
draft deployer '"kind": "unlock", "target": "staging/api", "reason": "go"'
sign deployer
post_signed 201
run ledger log staging/api --json
TO=$(python3 -c 'import json,sys; print([e["seq"] for e in json.load(open(sys.argv[1])) if e["reason"] == "PR #1"][0])' "$T/.out")
draft deployer "\"kind\": \"rollback\", \"target\": \"staging/api\", \"to\": $TO, \"reason\": \"bad release\""
check "rollback draft carries rollback-to" [ "$(jget "$T/draft.json" entry metadata rollback-to)" = "$TO" ]
sign deployer
post_signed 201
run ledger get staging/api image.tag
expect_out v1
run ledger get staging/api replicas
expect_out 2
check "the ledger verifies" [ -n "$(head_seq)" ]

step "a rollback and its lock in one transaction (the page's way)"
expect_rc 0 ledger set staging/api image.tag=v13 -m "PR #13"
H=$(head_seq)
draft deployer "\"kind\": \"rollback\", \"target\": \"staging/api\", \"to\": $TO, \"reason\": \"undo 13\""
sign deployer
cp "$T/signed.json" "$T/after.json"
cp "$T/draft.json" "$T/rb-draft.json"
AFTER=$(cat "$T/after.json")
snapshot after
# refused: the wrong target, a bad signature, an "after" on a set
draft deployer "\"kind\": \"lock\", \"target\": \"staging/web\", \"reason\": \"undo 13\", \"after\": $AFTER" 400
check "after of another target refused" grep -q 'not a set, unset or rollback of staging/web' "$T/draft.json"
python3 - "$T/after.json" >"$T/after.bad.json" <<'PY'
import base64, json, sys
a = json.load(open(sys.argv[1]))
sig = bytearray(base64.b64decode(a["signature"])); sig[0] ^= 1
a["signature"] = base64.b64encode(bytes(sig)).decode()
print(json.dumps(a))
PY
draft deployer "\"kind\": \"lock\", \"target\": \"staging/api\", \"reason\": \"undo 13\", \"after\": $(cat "$T/after.bad.json")" 400
check "a forged after refused" [ "$(jget "$T/draft.json" error)" = '"after": bad signature' ]
http 400 /api/v1/drafts -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"set\", \"target\": \"staging/api\", \"changes\": {\"a\": \"b\"}, \"reason\": \"r\", \"after\": $AFTER}"
check "after is for a lock only" [ "$(jget "$OUT" error)" = 'unknown member "after" for set' ]
# the lock, drafted on the signed rollback: seq H+2, prev = its hash
draft deployer "\"kind\": \"lock\", \"target\": \"staging/api\", \"reason\": \"undo 13\", \"after\": $AFTER"
check "the lock follows the rollback" [ "$(jget "$T/draft.json" seq)" = $((H + 2)) ]
sign deployer
cp "$T/signed.json" "$T/lock.json"
# a batch whose second signature is bad: nothing written
python3 - "$T/after.json" "$T/lock.json" >"$T/batch.bad.json" <<'PY'
import base64, json, sys
a, l = (json.load(open(p)) for p in sys.argv[1:3])
sig = bytearray(base64.b64decode(l["signature"])); sig[5] ^= 1
l["signature"] = base64.b64encode(bytes(sig)).decode()
print(json.dumps({"batch": [a, l]}))
PY
expect_error 400 /api/v1/entries "^entry $((H + 2)): bad signature" \
	-H 'Content-Type: application/json' --data-binary @"$T/batch.bad.json"
expect_error 400 /api/v1/entries '"batch": expected 1 to 64' \
	-H 'Content-Type: application/json' --data-binary '{"batch": {}}'
expect_error 400 /api/v1/entries 'batch item 0: unknown member' \
	-H 'Content-Type: application/json' --data-binary '{"batch": [{"x": 1}]}'
assert_unchanged after
python3 - "$T/after.json" "$T/lock.json" >"$T/batch.json" <<'PY'
import json, sys
print(json.dumps({"batch": [json.load(open(p)) for p in sys.argv[1:3]]}))
PY
http 201 /api/v1/entries -H 'Content-Type: application/json' --data-binary @"$T/batch.json"
check "the answer names both" [ "$(jlen "$OUT" entries)" = 2 ]
check "the last is the lock" [ "$(jget "$OUT" seq)" = $((H + 2)) ]
run ledger show $((H + 1)) --json
check "H+1 is the rollback" [ "$(jget "$OUT" kind)" = rollback ]
run ledger show $((H + 2)) --json
check "H+2 is its lock" [ "$(jget "$OUT" kind)" = lock ]
# the batch form of one entry is answered as a batch
expect_rc 0 ledger unlock staging/api -m "unlock for one"
draft deployer '"kind": "lock", "target": "staging/api", "reason": "one"'
sign deployer
python3 -c 'import json,sys; print(json.dumps({"batch": [json.load(open(sys.argv[1]))]}))' "$T/signed.json" >"$T/batch1.json"
http 201 /api/v1/entries -H 'Content-Type: application/json' --data-binary @"$T/batch1.json"
check "a batch of one names its entry" [ "$(jlen "$OUT" entries)" = 1 ]
# the same lock draft again: its "after" is in, so it is stale now
draft deployer "\"kind\": \"lock\", \"target\": \"staging/api\", \"reason\": \"undo 13\", \"after\": $AFTER" 409
expect_rc 0 ledger unlock staging/api -m "go on"
check "the ledger verifies" [ -n "$(head_seq)" ]

# ---------------------------------------------------------------------
# A JSON value that is not a string is a typed value, drafted canonical
# (3.0 is 3); every answer that has values gives it as a JSON value of
# its type, a string that looks like one ("2") staying a string
step "typed values through a draft, typed in every answer"
draft deployer '"kind": "set", "target": "staging/api", "changes": {"replicas": 3.0, "debug": false, "ports": [80, "x", null], "note": "2"}, "reason": "typed"'
jget_value "$T/draft.json" entry changes >"$T/changes.json"
check "the draft's entry is typed: $(cat "$T/changes.json")" [ "$(cat "$T/changes.json")" = \
	'[{"key":"debug","value":false},{"key":"note","value":"2"},{"key":"ports","value":[80,"x",null]},{"key":"replicas","value":3}]' ]
sign deployer
post_signed 201
TYPED=$(jget "$OUT" seq)
run ledger get staging/api replicas
expect_out 3
http 200 "/api/v1/state?scope=staging/api"
expect_json_value targets staging/api values replicas = 3
expect_json_value targets staging/api values debug = false
expect_json_value targets staging/api values note = '"2"'
expect_json_value targets staging/api values ports = '[80,"x",null]'
http 200 "/api/v1/releases?scope=staging/api"
expect_json_value releases 0 values replicas = 3
http 200 "/api/v1/entries/$TYPED"
expect_json_value changes 0 value = false
http 200 "/api/v1/history/staging/api?limit=1"
expect_json_value 0 changes 3 value = 3
draft deployer '"kind": "set", "target": "staging/api", "changes": {"replicas": 3}, "reason": "same"'
check "the same typed value: nothing to do" [ "$(jget "$T/draft.json" draft)" = null ]
draft deployer '"kind": "set", "target": "staging/api", "changes": {"replicas": "3"}, "reason": "a string"'
check "the string \"3\" is a change" [ "$(jget "$T/draft.json" draft)" != null ]

# ---------------------------------------------------------------------
step "the page's files"
http 200 /
check "html" [ "$(header Content-Type)" = "text/html; charset=utf-8" ]
check "CSP: own scripts only" [ -n "$(header Content-Security-Policy | grep "script-src 'self'")" ]
check "no frames" [ "$(header X-Frame-Options)" = DENY ]
check "the page loads app.js" grep -q '/ui/app.js' "$OUT"
ETAG=$(header ETag)
check "an ETag" [ -n "$ETAG" ]
http 304 / -H "If-None-Match: $ETAG"
check "a 304 carries the page's CSP (a browser keeps it)" [ -n "$(header Content-Security-Policy | grep "script-src 'self'")" ]
http 200 /ui/app.js
check "javascript" [ "$(header Content-Type)" = "text/javascript; charset=utf-8" ]
http 200 /ui/app.css
check "css" [ "$(header Content-Type)" = "text/css; charset=utf-8" ]
expect_error 404 /ui/nope.js 'no such resource'
expect_error 405 / 'not allowed' -X POST
expect_error 400 / 'takes no body' -X GET --data-binary 'abc'
http 200 /api/v1/head
check "API: CSP forbids everything" [ "$(header Content-Security-Policy)" = "default-src 'none'; frame-ancestors 'none'" ]
stop_server TERM

# ---------------------------------------------------------------------
step "POST rate limit"
# 2 an hour: a burst of 4, and the next token half an hour away, so the
# count below holds however slowly this machine sends (a rate a second
# refilled while a loaded machine was still sending)
start_server --post-rate 2/h
codes=
for _ in 1 2 3 4 5 6 7 8; do
	codes="$codes $(curl -s -o "$OUT" -D "$T/.hdr" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{}' "$BASE/api/v1/drafts")"
done
check "a burst of 4, then 429 (got$codes)" [ "$codes" = " 400 400 400 400 429 429 429 429" ]
check "429 says why" grep -q 'too many requests from your address: at most 2 POSTs an hour; retry after' "$OUT"
RA=$(header Retry-After)
# 1800 s for the missing token, less the time since the burst began
check "Retry-After: the rest of half an hour (got $RA)" [ "$RA" -le 1800 -a "$RA" -ge 1200 ]
http 200 /api/v1/head
stop_server TERM
# 1 a second: the bucket (2 tokens) empties when POSTs come faster than
# one a second, and after the Retry-After the next POST is taken; both
# hold on any machine that sends a POST in under a second
start_server --post-rate 1
n=0
code=400
while [ "$code" != 429 ] && [ $n -lt 200 ]; do
	code=$(curl -s -o "$OUT" -D "$T/.hdr" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{}' "$BASE/api/v1/drafts")
	n=$((n + 1))
done
check "a 429 after at least the burst of 2 (after $n, the last $code)" [ "$code" = 429 -a $n -ge 3 ]
RA=$(header Retry-After)
check "Retry-After: 1 s (got $RA)" [ "$RA" = 1 ]
sleep "$RA"
http 400 /api/v1/drafts -H 'Content-Type: application/json' --data-binary '{}'
stop_server TERM

step "a remote rollback of a whole cluster"
start_server
expect_rc 0 ledger set staging/api image.tag=c1 -m "c1"
R1=$(head_seq)
expect_rc 0 ledger set staging/api image.tag=c2 -m "c2"
expect_rc 0 ledger set staging/new k=v -m "new since"
expect_rc 0 ledger unset staging/other k -m "gone since"
snapshot remote_before
expect_rc 0 ledger --remote "$BASE" rollback staging --to "$R1" -m "cluster rollback"
check "three targets rolled back and locked" [ "$(grep -c 'rolled back' "$ERR")" = 3 ]
check "staging/web was locked already: only three locks" [ "$(grep -c '^locked' "$ERR")" = 3 ]
run ledger get staging/api image.tag
expect_out c1
run ledger get staging/new k
check "staging/new emptied" [ "$RC" = 1 ]
run ledger get staging/other k
expect_out v
run ledger state staging --json
check "staging/api locked" [ "$(jget "$T/.out" targets staging/api locked reason)" = "cluster rollback" ]
check "the ledger verifies" [ -n "$(head_seq)" ]
snapshot remote_after
expect_rc 0 ledger --remote "$BASE" rollback staging --to "$R1" -m "again"
check "again: nothing to restore" [ -z "$(grep 'rolled back' "$ERR")" ]
assert_unchanged remote_after
expect_rc 2 ledger --remote "$BASE" rollback nowhere --to "$R1" -m "x"
expect_one_line_error 'cluster nowhere has no entries'
stop_server TERM

step "checkpoints: signed by a keyring key elsewhere, kept here"
start_server
expect_error 404 /api/v1/checkpoint 'no checkpoint has been published'
expect_rc 0 ledger --remote "$BASE" checkpoint -o "$T/cp1.txt"
expect_err_match '^published checkpoint of [0-9]+ entries to '
CPN=$(sed -n 2p "$T/cp1.txt")
check "the checkpoint is of the head" [ "$CPN" = "$(head_seq)" ]
http 200 /api/v1/checkpoint
check "served as text" [ "$(header Content-Type)" = "text/plain; charset=utf-8" ]
check "served = signed" cmp -s "$OUT" "$T/cp1.txt"
check "kept beside the ledger" cmp -s "$LEDGER_DIR/checkpoint" "$T/cp1.txt"
expect_rc 0 ledger verify --checkpoint "$T/cp1.txt"
# a deployer key is a keyring key too: it may attest what it sees
expect_rc 0 ledger set staging/api image.tag=cp2 -m "after the checkpoint" --force
expect_rc 0 ledger --remote "$BASE" checkpoint --key "$T/keys/deployer.key" -o "$T/cp2.txt"
http 200 /api/v1/checkpoint
check "the newer one is served" cmp -s "$OUT" "$T/cp2.txt"
# refusals, nothing kept
expect_rc 1 ledger --remote "$BASE" checkpoint --key "$T/keys/outsider.key"
expect_one_line_error 'not signed by a trusted key'
expect_error 409 /api/v1/checkpoint 'newer checkpoint' -H 'Content-Type: text/plain' --data-binary @"$T/cp1.txt"
# another first character of the root (whatever it was)
awk 'NR == 3 { c = substr($0, 1, 1); $0 = (c == "A" ? "B" : "A") substr($0, 2) } { print }' \
	"$T/cp2.txt" >"$T/cpbad.txt"
check "the root really changed" [ "$(sed -n 3p "$T/cp2.txt")" != "$(sed -n 3p "$T/cpbad.txt")" ]
code=$(curl -s -o "$OUT" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/cpbad.txt" "$BASE/api/v1/checkpoint")
check "a changed root breaks the signature (403, got $code)" [ "$code" = 403 ]
expect_error 400 /api/v1/checkpoint 'checkpoint' -H 'Content-Type: text/plain' --data-binary 'not a note'
expect_error 415 /api/v1/checkpoint 'text/plain' -H 'Content-Type: application/json' --data-binary '{}'
expect_error 400 /api/v1/checkpoint 'empty body' -H 'Content-Type: text/plain' -X POST
head -c 16383 /dev/zero | tr '\0' a >"$T/cpbig.txt"
expect_error 400 /api/v1/checkpoint 'checkpoint' -H 'Content-Type: text/plain' --data-binary @"$T/cpbig.txt"
printf a >>"$T/cpbig.txt"
expect_error 413 /api/v1/checkpoint 'larger than 16383' -H 'Content-Type: text/plain' --data-binary @"$T/cpbig.txt"
http 200 /api/v1/checkpoint
check "still the newer one" cmp -s "$OUT" "$T/cp2.txt"
stop_server TERM
start_server
http 200 /api/v1/checkpoint
check "kept across a restart" cmp -s "$OUT" "$T/cp2.txt"
stop_server TERM
start_server --read-only
http 200 /api/v1/checkpoint
check "read-only: still served" cmp -s "$OUT" "$T/cp2.txt"
expect_error 405 /api/v1/checkpoint 'not allowed' -H 'Content-Type: text/plain' --data-binary @"$T/cp2.txt"
stop_server TERM

step "a kept checkpoint of another ledger is not served"
cp "$LEDGER_DIR/checkpoint" "$T/kept"
mv "$LEDGER_DIR" "$T/ledger.saved"
mkdir -p "$T/fresh" && XDG_CONFIG_HOME=$T/fresh expect_rc 0 ledger keygen other
XDG_CONFIG_HOME=$T/fresh expect_rc 0 ledger init --origin example.com/deploy/web
cp "$T/kept" "$LEDGER_DIR/checkpoint"
start_server
expect_error 404 /api/v1/checkpoint 'no checkpoint'
stop_server TERM
rm -rf "$LEDGER_DIR"
mv "$T/ledger.saved" "$LEDGER_DIR"

step "a rewritten entry: its check says so"
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || fail "TAMPER (ldg_tamper) not set"
# "PR #2" -> "PR #3" inside entry 5: still a well-formed entry
off=$("$TAMPER" "$LEDGER_DIR" find 5 "$(printf 'PR #2' | od -An -tx1 | tr -d ' \n')") ||
	fail "the reason of entry 5 not found"
"$TAMPER" "$LEDGER_DIR" flip 5 $((off + 4)) || fail "flip failed"
start_server --read-only
http 200 /api/v1/entries/5/check
check "signature no longer verifies" [ "$(jget "$OUT" signature ok)" = false ]
check "and says so" [ "$(jget "$OUT" signature problem)" = "the signature does not verify" ]
cp "$OUT" "$T/check5b.json"
http 200 /api/v1/entries/6/check
check "entry 6's prev no longer links" [ "$(jget "$OUT" chain prev_ok)" = false ]
check "entry 5's next no longer links to it" [ "$(jget "$T/check5b.json" chain next_ok)" = false ]
http 200 /api/v1/verify
check "verify fails at 5" [ "$(jget "$OUT" bad_seq)" = 5 ]
# a remote checkpoint signs only what the server's check proves
expect_rc 1 ledger --remote "$BASE" checkpoint
expect_one_line_error 'refusing to sign: the ledger at .* does not verify \(entry 5: '
# the first byte of entry 6 (the fixarray of 11) made something else
"$TAMPER" "$LEDGER_DIR" flip 6 0 || fail "flip failed"
http 200 /api/v1/entries/6/check
check "not an entry at all: said so" [ "$(jget "$OUT" signature problem)" = "the stored bytes are not a valid entry" ]
check "no key" [ "$(jget "$OUT" key)" = null ]
stop_server TERM

finish
