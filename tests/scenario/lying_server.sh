#!/bin/bash
# lying_server.sh - a server that lies cannot get a client to sign a value
# nobody signed, and a rollback whose values are not the state at its
# rollback-to is never valid: `ledger --remote URL rollback` through a
# proxy that rewrites every GET /api/v1/state answer (image.tag becomes
# EVIL-FROM-SERVER) signs the true values; through one that changes a
# byte of the served entries it refuses, writing nothing; a rollback
# correctly signed by the deployer (openssl, on a server draft whose
# value was swapped) is refused by the server (422) with nothing written,
# flagged by verify naming its seq when stored behind the library's back
# (ldg_tamper), refused by `ledger mirror`, and never deployed by the
# applier (apply-failed, helmfile not run for it).
. "$(dirname "$0")/lib.sh"
need curl python3 openssl mdb_dump
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"

. "$(dirname "$0")/lib_serve.sh"

FIX=$(cd "$(dirname "$0")/fixtures" && pwd)
# no_evil: no value nobody signed reached the ledger
no_evil() {
	mdb_dump -a "$LEDGER_DIR" >"$T/dump" 2>&1 || fail "mdb_dump failed"
	check "no EVIL in the ledger ($1)" \
		bash -c "! grep -q '$(printf EVIL | od -An -tx1 | tr -d ' \n')' '$T/dump'"
}

# ---------------------------------------------------------------------
step "a ledger with a deployer, an applier and a served copy"
init_ledger example.com/deploy/lying
new_key deployer
new_key applier
chmod 600 "$T"/keys/*.key
DEP=$T/keys/deployer.key
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope 'staging/*' -m "CI"
expect_rc 0 ledger key add "$T/keys/applier.pub" --role applier \
	--scope 'staging/*' -m "applier"
expect_rc 0 ledger set staging/api image.tag=good-1 replicas=2 -m "PR 1" \
	--key "$DEP"
GOOD=$(out_field 1 1)
expect_rc 0 ledger set staging/web image.tag=w-good -m "web 1" --key "$DEP"
BOTH_GOOD=$(out_field 1 1)
expect_rc 0 ledger set staging/api image.tag=bad-22 replicas=3 -m "PR 2" \
	--key "$DEP"
expect_rc 0 ledger set staging/web image.tag=w-bad1 -m "web 2" --key "$DEP"
start_server
touch "$T/lie-state"
start_proxy
LIAR=$PROXY
BASE=$LIAR http 200 "/api/v1/state?at=$GOOD&scope=staging/api"
check "the proxy lies about the state" grep -q EVIL-FROM-SERVER "$OUT"

# ---------------------------------------------------------------------
step "a rollback through the lying proxy signs the signed values"
expect_rc 0 ledger --remote "$LIAR" rollback staging/api --to "$GOOD" \
	-m "back to the good one" --key "$DEP"
expect_err_match '^rolled back staging/api$'
expect_rc 0 ledger get staging/api image.tag
expect_out good-1
expect_rc 0 ledger get staging/api replicas
expect_out 2
no_evil "a target rollback"
expect_rc 0 ledger unlock staging/api -m "fixed" --key "$DEP"
expect_rc 0 ledger set staging/api image.tag=bad-33 -m "PR 3" --key "$DEP"
# a whole cluster: each target from the checked copy
expect_rc 0 ledger --remote "$LIAR" rollback staging --to "$BOTH_GOOD" \
	-m "all back" --no-lock --key "$DEP"
expect_rc 0 ledger get staging/api image.tag
expect_out good-1
expect_rc 0 ledger get staging/web image.tag
expect_out w-good
no_evil "a cluster rollback"
expect_rc 0 ledger verify

# ---------------------------------------------------------------------
step "a served entry changed on the way: the client refuses"
expect_rc 0 ledger set staging/api image.tag=bad-44 -m "PR 4" --key "$DEP"
snapshot lie
touch "$T/lie-entries"
expect_rc 1 ledger --remote "$LIAR" rollback staging/api --to "$GOOD" \
	-m "back" --key "$DEP"
expect_one_line_error "^ledger: rollback: from $LIAR: entry [0-9]+: "
assert_unchanged lie
rm -f "$T/lie-entries"

# ---------------------------------------------------------------------
step "a correctly signed rollback with values nobody signed: 422"
# the server's honest draft of the rollback, with good-1 swapped for
# EVIL-1 in the entry and in the message, signed by the deployer's key
pem deployer
http 200 /api/v1/drafts -H 'Content-Type: application/json' \
	--data-binary "{\"signer\": \"$(keyid deployer)\", \"kind\": \"rollback\", \"target\": \"staging/api\", \"to\": $GOOD, \"reason\": \"honest reason\"}"
python3 - "$OUT" "$T/forged" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
draft, msg = (base64.b64decode(d[k]) for k in ("draft", "message"))
assert draft.count(b"good-1") == 1 and msg.count(b"good-1") == 1
open(sys.argv[2] + ".draft", "wb").write(draft.replace(b"good-1", b"EVIL-1"))
open(sys.argv[2] + ".msg", "wb").write(msg.replace(b"good-1", b"EVIL-1"))
PY
[ $? -eq 0 ] || fail "the draft does not hold good-1 once"
openssl pkeyutl -sign -inkey "$T/deployer.pem" -rawin -in "$T/forged.msg" \
	-out "$T/forged.sig" || fail "openssl could not sign"
python3 - "$T/forged" <<'PY'
import sys
p = sys.argv[1]
d = open(p + ".draft", "rb").read()
open(p + ".bin", "wb").write(d[:-64] + open(p + ".sig", "rb").read())
PY
FORGED=$(od -An -tx1 "$T/forged.bin" | tr -d ' \n')
snapshot forged
expect_error 422 /api/v1/entries 'image\.tag "EVIL-1", but at seq '"$GOOD"' it was "good-1"' \
	-H 'Content-Type: application/msgpack' --data-binary @"$T/forged.bin"
# the same in a batch, and through the lying proxy
python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(bytes([0x91, 0xc5]) + len(b).to_bytes(2, "big") + b)' \
	"$T/forged.bin" >"$T/forged.batch"
expect_error 422 /api/v1/entries 'not the state at rollback-to' \
	-H 'Content-Type: application/msgpack' --data-binary @"$T/forged.batch"
assert_unchanged forged
no_evil "a refused POST"
stop_server TERM
kill -KILL "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
PROXY_PID=

# ---------------------------------------------------------------------
step "stored behind the library's back: verify names it"
W=$T/w
cp -a "$LEDGER_DIR" "$W"
NEXT=$(($("$TAMPER" "$W" count) + 1))
"$TAMPER" "$W" put "$NEXT" "$FORGED" || fail "ldg_tamper put"
expect_rc 1 ledger --ledger "$W" verify
expect_one_line_error "^ledger: verify: entry $NEXT: not a valid rollback: .*image\\.tag \"EVIL-1\""
expect_rc 1 ledger --ledger "$W" verify --json
expect_json bad_seq = "$NEXT"
# the indexes rebuilt from it: readers show what it says...
expect_rc 0 ledger --ledger "$W" reindex
expect_rc 0 ledger --ledger "$W" get staging/api image.tag
expect_out EVIL-1

# ---------------------------------------------------------------------
step "the applier does not deploy it"
mkdir -p "$T/bin" "$T/cfg/clusters/staging"
cp "$FIX/helmfile" "$T/bin/helmfile"
chmod 755 "$T/bin/helmfile"
cp "$FIX/helmfile.yaml" "$T/cfg/clusters/staging/helmfile.yaml"
export HF_LOG=$T/hf.log HF_BUILD=$FIX/build.yaml
: >"$HF_LOG"
PATH=$T/bin:$PATH expect_rc 1 ledger --ledger "$W" apply staging \
	--config-dir "$T/cfg" --key "$T/keys/applier.key"
expect_err_match "staging/api: not applied: entry $NEXT: rollback of staging/api .*EVIL-1"
check "helmfile never ran for api" bash -c "! grep -q 'name=api apply' '$HF_LOG'"
check "helmfile ran for web" grep -q 'name=web apply' "$HF_LOG"
check "no values file held EVIL" bash -c "! grep -q EVIL '$HF_LOG'"
expect_rc 0 ledger --ledger "$W" show $((NEXT + 1)) --json
expect_json kind = apply-failed
expect_json target = staging/api
jget "$OUT" metadata output-tail | grep -q "entry $NEXT: rollback of staging/api" ||
	fail "the apply-failed entry does not say why"
ok

# ---------------------------------------------------------------------
step "a server holding it: mirror and a remote rollback refuse"
start_server --ledger "$W"
expect_rc 1 ledger --ledger "$T/m" mirror "$BASE"
expect_one_line_error "^ledger: mirror: from $BASE: entry $NEXT: .*not the state at rollback-to"
check "nothing of the refused page was copied" [ "$("$TAMPER" "$T/m" count)" = 0 ]
snapshot served "$W"
expect_rc 1 ledger --remote "$BASE" rollback staging/api --to "$GOOD" \
	-m "back" --key "$DEP"
expect_one_line_error "^ledger: rollback: from $BASE: entry $NEXT: .*not the state at rollback-to"
assert_unchanged served "$W"
stop_server TERM

finish
