#!/bin/bash
# web_policy.sh - promotion policies over HTTP, against `ledger serve`
# on a free loopback port: GET /api/v1/pending (= `ledger pending
# --json`), /api/v1/policy?target= and /api/v1/policies (= `ledger policy
# show [TARGET] --json`), and `ledger --remote` reads equal to the local
# ones; a proposal, an approval and an emergency as the entries' JSON
# and the releases show them; approve and withdraw through drafts signed
# elsewhere (openssl, as the page signs them in the browser); the soak
# evidence of drafts, remote sets and remote approvals; and every
# refusal (self-approval, a key out of scope, a proposal not pending, a
# freeze window, a soak not met, an entry signed with a clock 10 minutes
# off) with its rule and the ledger byte for byte as it was.
#
# Time is the test clock's (LEDGER_TEST_NOW, builds with
# -Dtest_clock=true): the server and every command run at T0, a soak is
# met by restarting the server 31 minutes later, and a skewed signer is
# one command run 10 minutes ahead.
. "$(dirname "$0")/lib.sh"
need curl python3 openssl mdb_dump

. "$(dirname "$0")/lib_serve.sh"

"$LEDGER" --version | grep -q 'test clock: LEDGER_TEST_NOW honoured' ||
	skip "built without -Dtest_clock=true (scripts/test.sh configures it)"
T0=1796126400 # 2026-12-01T12:00:00Z
export LEDGER_TEST_NOW=$T0

# as KEYNAME ARGS...: ledger ARGS signed with $T/keys/KEYNAME.key
as() {
	local who=$1
	shift
	"$LEDGER" "$@" --key "$T/keys/$who.key"
}

# ---------------------------------------------------------------------
step "a ledger with production under four eyes"
init_ledger example.com/deploy/policy
for k in deployer approver outsider applier; do new_key $k; done
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope '*' -m "CI"
expect_rc 0 ledger key add "$T/keys/approver.pub" --role deployer \
	--scope 'production/*' -m "the second pair of eyes"
expect_rc 0 ledger key add "$T/keys/outsider.pub" --role deployer \
	--scope 'staging/*' -m "staging only"
expect_rc 0 ledger key add "$T/keys/applier.pub" --role applier \
	--scope 'staging/*' -m "applier"
expect_rc 0 ledger set production/api image.tag=v1 -m "before any policy"
expect_rc 0 ledger policy set 'production/*' --approvals 1 -m "four eyes"
POLICY=$(out_field 1 1)
expect_rc 0 as deployer set production/api \
	image.tag=v2 -m "PR #2"
P=$(out_field 1 1)
expect_out_match '^pending: needs 1 approval'
for k in deployer approver outsider; do pem $k; done
start_server

# ---------------------------------------------------------------------
step "pending, policy and policies are the CLI's JSON"
http 200 /api/v1/pending
run ledger pending --json
check "pending = ledger pending --json (bytes)" cmp -s "$OUT" "$T/.out"
http 200 /api/v1/pending
cp "$OUT" "$T/pending.json"
check "one proposal" [ "$(jlen "$T/pending.json")" = 1 ]
check "its seq" [ "$(jget "$T/pending.json" 0 seq)" = "$P" ]
check "its target" [ "$(jget "$T/pending.json" 0 target)" = production/api ]
check "its author" [ "$(jget "$T/pending.json" 0 author)" = deployer ]
check "it needs one" [ "$(jget "$T/pending.json" 0 need)" = 1 ]
check "no approval yet" [ "$(jget "$T/pending.json" 0 approvals)" = '[]' ]
check "pending" [ "$(jget "$T/pending.json" 0 status)" = pending ]
check "not an emergency" [ "$(jget "$T/pending.json" 0 emergency)" = false ]
check "its change" [ "$(jget "$T/pending.json" 0 changes 0 value)" = v2 ]
http 200 "/api/v1/pending?scope=production"
check "scope=production (a cluster): one" [ "$(jlen "$OUT")" = 1 ]
http 200 "/api/v1/pending?scope=staging/*"
check "scope=staging/*: none" [ "$(jlen "$OUT")" = 0 ]
expect_error 400 "/api/v1/pending?scope=Prod_X" "invalid scope"
expect_error 400 "/api/v1/pending?target=x" 'unknown query parameter'

http 200 "/api/v1/policy?target=production/api"
run ledger policy show production/api --json
check "policy = policy show TARGET --json (bytes)" cmp -s "$OUT" "$T/.out"
http 200 "/api/v1/policy?target=production/api"
check "the policy that applies" [ "$(jget "$OUT" policy scope)" = 'production/*' ]
check "at its seq" [ "$(jget "$OUT" policy seq)" = "$POLICY" ]
check "approvals" [ "$(jget "$OUT" policy approvals)" = 1 ]
check "no window" [ "$(jget "$OUT" windows)" = '[]' ]
http 200 "/api/v1/policy?target=staging/api"
check "staging: no policy" [ "$(jget "$OUT" policy)" = null ]
expect_error 400 "/api/v1/policy" 'target: missing'
expect_error 400 "/api/v1/policy?target=production" 'target'
expect_error 400 "/api/v1/policy?target=a/b&target=a/c" 'given twice'
http 200 /api/v1/policies
run ledger policy show --json
check "policies = policy show --json (bytes)" cmp -s "$OUT" "$T/.out"
http 200 /api/v1/policies
check "one policy" [ "$(jlen "$OUT" policies)" = 1 ]
expect_error 405 /api/v1/pending 'not allowed' -X POST \
	-H 'Content-Type: application/json' --data-binary '{}'

step "--remote reads: the local command's answer, from a checked copy"
for args in "pending" "pending --json" "pending production" \
	"policy show" "policy show --json" "policy show production/api" \
	"policy show production/api --json"; do
	# shellcheck disable=SC2086 # the words of the command
	run ledger $args
	cp "$OUT" "$T/local.out"
	# shellcheck disable=SC2086
	expect_rc 0 ledger --remote "$BASE" $args
	check "ledger --remote $args = ledger $args (bytes)" cmp -s "$OUT" "$T/local.out"
done
check "the private copies were removed" \
	sh -c '! ls -A "$1" | grep -q ledger-copy' _ "$TMPDIR"

step "the proposal's entry, and the release's policy badge"
http 200 "/api/v1/entries/$P"
check "a proposal" [ "$(jget "$OUT" proposal status)" = pending ]
check "its JSON will change: not cached" [ "$(header Cache-Control)" = no-store ]
check "it ended nowhere yet" [ "$(jget "$OUT" proposal at)" = null ]
check "its approvals" [ "$(jget "$OUT" proposal approvals)" = '[]' ]
check "no emergency member" [ "$(jget "$OUT" emergency)" = '(missing)' ]
http 200 /api/v1/entries/2
check "an entry without policies has no proposal member" \
	[ "$(jget "$OUT" proposal)" = '(missing)' ]
http 200 "/api/v1/releases?scope=production/api"
check "still v1: a proposal is not effective" \
	[ "$(jget "$OUT" releases 0 values image.tag)" = v1 ]
check "policy badge" [ "$(jget "$OUT" releases 0 policy scope)" = 'production/*' ]
check "not frozen" [ "$(jget "$OUT" releases 0 frozen)" = null ]
run ledger status production/api --json
check "releases = status --json" cmp -s "$OUT" "$T/.out"

# ---------------------------------------------------------------------
step "refused approvals leave the ledger as it was"
snapshot refused
draft deployer "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": $P, \"reason\": \"mine\"" 403
check "self-approval: 403 saying so" \
	grep -q "wrote proposal $P and may not approve it" "$T/draft.json"
check "the rule: self-approval" [ "$(jget "$T/draft.json" rule)" = self-approval ]
draft outsider "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": $P, \"reason\": \"not mine\"" 403
check "out of scope: 403" grep -q 'production/api' "$T/draft.json"
draft approver "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": 2, \"reason\": \"x\"" 422
check "not a proposal: 422" grep -q 'not a proposal' "$T/draft.json"
check "the rule: not-pending" [ "$(jget "$T/draft.json" rule)" = not-pending ]
draft approver "\"kind\": \"approve\", \"target\": \"production/web\", \"proposal\": $P, \"reason\": \"x\"" 422
# the author's own signed approval, sent without a draft (the CLI signs
# it itself): the append refuses it as the draft did
expect_rc 1 as deployer --remote "$BASE" approve "$P" -m "mine"
expect_one_line_error
expect_err_match 'approve'
assert_unchanged refused

step "approve through a draft signed elsewhere: it takes effect"
draft approver "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": $P, \"reason\": \"LGTM\""
check "the draft is an approve" [ "$(jget "$T/draft.json" entry kind)" = approve ]
check "of the proposal" [ "$(jget "$T/draft.json" entry changes 0 value)" = "$P" ]
check "the draft names it" [ "$(jget "$T/draft.json" entry proposal seq)" = "$P" ]
sign approver
post_signed 201
A=$(jget "$OUT" seq)
http 200 /api/v1/pending
check "nothing pending" [ "$(jlen "$OUT")" = 0 ]
http 200 "/api/v1/state?scope=production/api"
check "v2 in effect" [ "$(jget "$OUT" targets production/api values image.tag)" = v2 ]
http 200 "/api/v1/entries/$P"
check "effective" [ "$(jget "$OUT" proposal status)" = effective ]
check "at the approval" [ "$(jget "$OUT" proposal at)" = "$A" ]
check "final now: cached for good" \
	[ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ]
check "approved by approver" [ "$(jget "$OUT" proposal approvals 0 key)" = approver ]
check "at its seq" [ "$(jget "$OUT" proposal approvals 0 seq)" = "$A" ]
http 200 "/api/v1/entries/$A"
check "the approval names its proposal" [ "$(jget "$OUT" proposal seq)" = "$P" ]
check "which it enacted" [ "$(jget "$OUT" proposal at)" = "$A" ]
http 200 "/api/v1/history/production/api"
check "history: the proposal with its approval" \
	[ "$(jget "$OUT" 1 proposal approvals 0 seq)" = "$A" ]
check "history: the approval" [ "$(jget "$OUT" 2 kind)" = approve ]
snapshot twice
draft approver "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": $P, \"reason\": \"again\"" 422
check "took effect: 422" grep -q "took effect at seq $A" "$T/draft.json"
expect_rc 1 ledger --remote "$BASE" approve "$P" -m again
expect_one_line_error "proposal $P took effect at seq $A \(see ledger pending\)$"
assert_unchanged twice

step "withdraw through a draft"
expect_rc 0 as deployer set production/api \
	image.tag=v3 -m "PR #3"
P2=$(out_field 1 1)
draft approver "\"kind\": \"withdraw\", \"target\": \"production/api\", \"proposal\": $P2, \"reason\": \"not mine\"" 403
check "not the author: 403" grep -q 'author' "$T/draft.json"
draft deployer "\"kind\": \"withdraw\", \"target\": \"production/api\", \"proposal\": $P2, \"reason\": \"wrong tag\""
sign deployer
post_signed 201
W=$(jget "$OUT" seq)
http 200 "/api/v1/entries/$P2"
check "withdrawn" [ "$(jget "$OUT" proposal status)" = withdrawn ]
check "at the withdrawal" [ "$(jget "$OUT" proposal at)" = "$W" ]
http 200 /api/v1/pending
check "nothing pending" [ "$(jlen "$OUT")" = 0 ]

# ---------------------------------------------------------------------
step "a freeze window refuses, and shows on the release"
expect_rc 0 as deployer set production/api \
	image.tag=v4 -m "PR #4"
P3=$(out_field 1 1)
expect_rc 0 ledger freeze 'production/*' --from 2026-12-01T00:00:00Z \
	--until 2026-12-02T00:00:00Z -m "release freeze"
WIN=$(out_field 1 1)
http 200 "/api/v1/releases?scope=production/api"
check "frozen badge: the window" [ "$(jget "$OUT" releases 0 frozen seq)" = "$WIN" ]
check "its reason" [ "$(jget "$OUT" releases 0 frozen reason)" = "release freeze" ]
check "until" [ "$(jget "$OUT" releases 0 frozen ends)" = 2026-12-02T00:00:00Z ]
http 200 "/api/v1/policy?target=production/api"
check "policy: the window, active" [ "$(jget "$OUT" windows 0 active)" = true ]
snapshot frozen
draft approver "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": $P3, \"reason\": \"LGTM\"" 423
check "the approval that would enact it: 423" grep -q 'release freeze' "$T/draft.json"
draft deployer "\"kind\": \"set\", \"target\": \"production/api\", \"changes\": {\"image.tag\": \"v5\"}, \"reason\": \"PR #5\"" 423
check "a set: 423 with the window" grep -q "frozen until 2026-12-02T00:00:00Z" "$T/draft.json"
check "the rule: frozen" [ "$(jget "$T/draft.json" rule)" = frozen ]
expect_rc 1 as deployer --remote "$BASE" set production/api image.tag=v5 -m x
expect_one_line_error "frozen until 2026-12-02T00:00:00Z by window $WIN \(production/\*\): release freeze; use --emergency with a second approver, or wait$"
assert_unchanged frozen

step "an emergency passes the freeze with an approval, and is marked"
draft deployer "\"kind\": \"set\", \"target\": \"production/api\", \"changes\": {\"image.tag\": \"hotfix\"}, \"emergency\": true, \"reason\": \"outage\""
check "the draft says emergency" [ "$(jget "$T/draft.json" entry emergency)" = true ]
sign deployer
post_signed 201
E=$(jget "$OUT" seq)
http 200 /api/v1/pending
check "beside the frozen proposal" [ "$(jlen "$OUT")" = 2 ]
check "pending as an emergency" [ "$(jget "$OUT" 1 emergency)" = true ]
draft approver "\"kind\": \"approve\", \"target\": \"production/api\", \"proposal\": $E, \"reason\": \"go\""
sign approver
post_signed 201
http 200 "/api/v1/state?scope=production/api"
check "the hotfix runs" [ "$(jget "$OUT" targets production/api values image.tag)" = hotfix ]
http 200 "/api/v1/entries/$E"
check "marked emergency" [ "$(jget "$OUT" emergency)" = true ]
check "effective" [ "$(jget "$OUT" proposal status)" = effective ]
http 200 "/api/v1/entries/$P3"
check "the frozen proposal is stale now" [ "$(jget "$OUT" proposal status)" = stale ]

# ---------------------------------------------------------------------
step "an entry signed 10 minutes off the server's clock is refused"
start_proxy
snapshot skew
LEDGER_TEST_NOW=$((T0 + 600)) run as outsider --remote "$PROXY" set staging/api image.tag=s1 -m "skewed"
[ "$RC" -ne 0 ] || fail "a skewed signer's set was taken"
expect_one_line_error
expect_err_match '600 s ahead of this writer.s clock'
assert_unchanged skew
# the same bytes, sent as they were: 400 with the reason
body=$(ls "$T"/bodies/*.bin | tail -1)
expect_error 400 /api/v1/entries \
	"signed time is 600 s ahead of this writer's clock \(at most 300 s" \
	-H 'Content-Type: application/msgpack' --data-binary @"$body"
check "the rule: skew" [ "$(jget "$OUT" rule)" = skew ]
assert_unchanged skew
LEDGER_TEST_NOW=$((T0 - 600)) run as outsider --remote "$BASE" set staging/api image.tag=s1 -m "late"
[ "$RC" -ne 0 ] || fail "a signer 10 minutes behind was taken"
expect_err_match '600 s behind'
assert_unchanged skew
# within the skew: taken
LEDGER_TEST_NOW=$((T0 + 60)) run as outsider --remote "$BASE" set staging/api image.tag=s1 -m "close"
[ "$RC" -eq 0 ] || fail "a signer 1 minute ahead was refused: $(err)"
ok

# ---------------------------------------------------------------------
step "a soak: the draft carries the evidence the browser cannot find"
expect_rc 0 ledger policy set 'live/*' --soak 30m --from staging \
	-m "staging first"
FIX=$(cd "$(dirname "$0")/fixtures" && pwd)
mkdir -p "$T/bin" "$T/cfg/clusters/staging"
cp "$FIX/helmfile" "$T/bin/helmfile"
chmod 755 "$T/bin/helmfile"
cp "$FIX/helmfile.yaml" "$T/cfg/clusters/staging/helmfile.yaml"
export HF_LOG=$T/hf.log HF_BUILD=$FIX/build.yaml
expect_rc 0 env PATH="$T/bin:$PATH" "$LEDGER" apply staging \
	--config-dir "$T/cfg" --key "$T/keys/applier.key"
run ledger status staging/api --json
APPLIED=$(jget "$OUT" releases 0 apply seq)
check "staging applied" [ "$(jget "$OUT" releases 0 apply kind)" = applied ]
snapshot soak
draft deployer "\"kind\": \"set\", \"target\": \"live/api\", \"changes\": {\"image.tag\": \"s1\"}, \"reason\": \"promote\"" 423
check "not soaked: 423 saying for how long" \
	grep -q 'staging/api has run image.tag=s1 for 0 min of 30' "$T/draft.json"
check "the rule: not-soaked" [ "$(jget "$T/draft.json" rule)" = not-soaked ]
draft deployer "\"kind\": \"set\", \"target\": \"live/api\", \"changes\": {\"image.tag\": \"never\"}, \"reason\": \"promote\"" 423
check "never run: 423" grep -q 'staging/api does not hold image.tag=never' "$T/draft.json"
expect_rc 0 ledger policy set 'canary/*' --soak 30m --from staging \
	-m "staging first, remotely"
expect_rc 0 ledger policy set 'gated/*' --approvals 1 --soak 30m \
	--from staging -m "staging first, and four eyes"
expect_rc 0 as deployer set gated/api image.tag=s1 -m "to gated"
G=$(out_field 1 1)
snapshot soak
expect_rc 1 as deployer --remote "$BASE" set canary/api image.tag=s1 -m early
expect_one_line_error
expect_err_match 'staging/api has run image.tag=s1 for 0 min of 30'
expect_rc 1 ledger --remote "$BASE" approve "$G" -m early
expect_err_match 'for 0 min of 30'
assert_unchanged soak
stop_server TERM
export LEDGER_TEST_NOW=$((T0 + 31 * 60))
start_server
# a remote signer finds the evidence in its checked copy
expect_rc 0 as deployer --remote "$BASE" set canary/api image.tag=s1 -m soaked
run ledger show "$(out_field 1 1)" --json
check "the remote set carries soak-applied" \
	[ "$(jget "$OUT" metadata soak-applied)" = "$APPLIED" ]
expect_rc 0 ledger --remote "$BASE" approve "$G" -m soaked
expect_out_match "^effective: seq [0-9]+ changes gated/api"
run ledger show "$(out_field 1 1)" --json
check "the enacting approval carries soak-applied" \
	[ "$(jget "$OUT" metadata soak-applied)" = "$APPLIED" ]
draft deployer "\"kind\": \"set\", \"target\": \"live/api\", \"changes\": {\"image.tag\": \"s1\"}, \"reason\": \"promote\""
check "the draft carries soak-applied" \
	[ "$(jget "$T/draft.json" entry metadata soak-applied)" = "$APPLIED" ]
sign deployer
post_signed 201
http 200 "/api/v1/state?scope=live/api"
check "live runs s1" [ "$(jget "$OUT" targets live/api values image.tag)" = s1 ]
stop_server TERM
expect_rc 0 ledger verify
finish
