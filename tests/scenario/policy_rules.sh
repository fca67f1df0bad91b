#!/bin/bash
# policy_rules.sh - promotion policies through the real binary, rule by rule
# (docs/format.md 8b, docs/operations.md "Change management"): four-eyes
# approvals (self-approval, a second approval by one key, an approver out
# of scope, a stale proposal, withdrawal, a revoked approver), soak time
# from staging (not run, too young, met, moved on), freeze windows
# (absolute, and cron windows in two time zones), emergencies with and
# without their approval, rollback during a freeze and gated rollbacks.
# Every refusal is one line, exit 1 (2 for usage), with the ledger
# byte-identical; `ledger verify` agrees with every decision.
#
# Time: the binary is built with -Dtest_clock=true (scripts/test.sh), and
# LEDGER_TEST_NOW (unix seconds) is every writer's clock here; without
# it the test skips.
. "$(dirname "$0")/lib.sh"
need mdb_dump
. "$(dirname "$0")/lib_apply.sh"

"$LEDGER" --version | grep -q 'test clock' ||
	skip "this ledger binary has no test clock (meson configure -Dtest_clock=true)"

# utc SECONDS -> 2026-12-05T10:00:00Z
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# at ISO: the clock, for every command after it
at() { LEDGER_TEST_NOW=$(date -u -d "$1" +%s); export LEDGER_TEST_NOW; }

# value TARGET KEY: the effective value, or "-" when it has none
value() {
	"$LEDGER" get "$1" "$2" 2>/dev/null || echo -
}
# same A B MSG: A = B
same() { check "$3" [ "$1" = "$2" ]; }
# seq_of: the seq of the SEQ HASH line of the last command
seq_of() { out_field 1 1; }

# refused RC ERE CMD...: one line matching ERE, exit RC, nothing written
refused() {
	local rc=$1 re=$2
	shift 2
	snapshot refused
	expect_rc "$rc" "$@"
	expect_one_line_error "$re"
	expect_no_out
	assert_unchanged refused
}

section "setup: an admin, three deployers, an applier"
at 2026-12-01T09:00:00Z
init_ledger
for n in alice bob carol dave app; do new_key "$n"; done
expect_rc 0 ledger key add "$K/alice.pub" --role deployer --scope '*' -m "dev"
expect_rc 0 ledger key add "$K/bob.pub" --role deployer --scope '*' -m "dev"
expect_rc 0 ledger key add "$K/carol.pub" --role deployer --scope 'staging/*' -m "dev"
expect_rc 0 ledger key add "$K/dave.pub" --role deployer --scope '*' -m "dev"
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "the applier"
A=(--key "$K/alice.key")
B=(--key "$K/bob.key")
C=(--key "$K/carol.key")
D=(--key "$K/dave.key")

section "policies: only an admin writes them; the most specific scope wins"
refused 1 '^ledger: policy set: .*only an admin' \
	ledger policy set 'prod/*' --approvals 1 -m "four eyes" "${A[@]}"
expect_rc 0 ledger policy set 'prod/*' --approvals 1 -m "four eyes"
expect_rc 0 ledger policy set 'prod/web' --approvals 2 -m "web: two"
expect_rc 0 ledger policy show prod/api
expect_out_match 'prod/\*'
expect_rc 0 ledger policy show prod/web
expect_out_match 'prod/web'
expect_rc 0 ledger policy show prod/web --json
same "$(jget "$OUT" policy approvals)" 2 "prod/web needs 2 approvals"
refused 2 '^ledger: policy set: ' ledger policy set 'prod/*' --approvals 17 -m x

section "four eyes: a proposal, self-approval, out of scope, the approval"
expect_rc 0 ledger set prod/api image.tag=v2 -m "PR #42" "${A[@]}"
expect_out_match '^[0-9]+ [0-9a-f]{64}$'
expect_out_match '^pending: needs 1 (more )?approval'
P=$(seq_of)
same "$(value prod/api image.tag)" - "a proposal changes nothing yet"
refused 1 "^ledger: approve: key \"alice\" wrote proposal $P and may not approve it" \
	ledger approve "$P" -m "me" "${A[@]}"
refused 1 '^ledger: approve: key "carol" is not allowed to change prod/api' \
	ledger approve "$P" -m "lgtm" "${C[@]}"
refused 1 '^ledger: approve: key "app" has role applier' \
	ledger approve "$P" -m "lgtm" --key "$K/app.key"
expect_rc 0 ledger pending --json
same "$(jget "$OUT" 0 seq)" "$P" "the proposal is pending"
expect_rc 0 ledger approve "$P" -m "lgtm" "${B[@]}"
expect_out_match '^effective'
same "$(value prod/api image.tag)" v2 "the approval enacts it"
refused 1 "^ledger: approve: proposal $P took effect at seq [0-9]+" \
	ledger approve "$P" -m "again" "${D[@]}"

section "two approvals: one key counts once"
expect_rc 0 ledger set prod/web image.tag=w2 -m "web" "${A[@]}"
P=$(seq_of)
expect_rc 0 ledger approve "$P" -m "one" "${B[@]}"
expect_out_match '^approved: 1 of 2'
same "$(value prod/web image.tag)" - "1 of 2 is not enough"
refused 1 "^ledger: approve: key \"bob\" has already approved proposal $P" \
	ledger approve "$P" -m "twice" "${B[@]}"
expect_rc 0 ledger approve "$P" -m "two" "${D[@]}"
same "$(value prod/web image.tag)" w2 "the second key enacts it"

section "stale: a proposal another change overtook cannot be approved"
expect_rc 0 ledger set prod/api image.tag=v3 -m "first" "${A[@]}"
P1=$(seq_of)
expect_rc 0 ledger set prod/api image.tag=v4 -m "second" "${A[@]}"
P2=$(seq_of)
expect_rc 0 ledger approve "$P2" -m "lgtm" "${B[@]}"
same "$(value prod/api image.tag)" v4 "the second took effect"
refused 1 "^ledger: approve: proposal $P1 is stale: seq [0-9]+ changed prod/api after it" \
	ledger approve "$P1" -m "late" "${B[@]}"

section "withdraw: the author or an admin"
expect_rc 0 ledger set prod/api image.tag=v5 -m "maybe" "${A[@]}"
P=$(seq_of)
refused 1 "^ledger: withdraw: key \"bob\" did not write proposal $P" \
	ledger withdraw "$P" -m "not yours" "${B[@]}"
expect_rc 0 ledger withdraw "$P" -m "changed my mind" "${A[@]}"
refused 1 "^ledger: approve: proposal $P was withdrawn at seq [0-9]+" \
	ledger approve "$P" -m "late" "${B[@]}"
same "$(value prod/api image.tag)" v4 "a withdrawn proposal changes nothing"

section "a revoked approver's approval stops counting"
expect_rc 0 ledger set prod/web image.tag=w3 -m "web" "${A[@]}"
P=$(seq_of)
expect_rc 0 ledger approve "$P" -m "one" "${B[@]}"
expect_rc 0 ledger key revoke bob -m "left the team"
expect_rc 0 ledger approve "$P" -m "two" "${D[@]}"
expect_out_match '^approved: 1 of 2'
same "$(value prod/web image.tag)" w2 "bob's approval no longer counts"
expect_rc 0 ledger approve "$P" -m "three" 
same "$(value prod/web image.tag)" w3 "two approvers still trusted"

section "soak: staging must have run the same values for 30 minutes"
expect_rc 0 ledger policy set 'prod2/*' --soak 30m --from staging -m "soak"
at 2026-12-01T10:00:00Z
expect_rc 0 ledger set staging/api image.tag=s1 -m "staging" "${C[@]}"
refused 1 '^ledger: set: staging/api has not run image.tag=s1' \
	ledger set prod2/api image.tag=s1 -m "too early" "${A[@]}"
expect_rc 0 ledger apply staging --config-dir "$CFG" --key "$K/app.key"
at 2026-12-01T10:12:30Z
refused 1 '^ledger: set: staging/api has run image.tag=s1 for 12 min of 30' \
	ledger set prod2/api image.tag=s1 -m "too young" "${A[@]}"
refused 1 '^ledger: set: staging/api does not hold image.tag=s2' \
	ledger set prod2/api image.tag=s2 -m "other" "${A[@]}"
at 2026-12-01T10:31:00Z
expect_rc 0 ledger set prod2/api image.tag=s1 -m "soaked" "${A[@]}"
S=$(seq_of)
expect_rc 0 ledger show "$S" --json
check "the evidence is in the entry" [ -n "$(jget "$OUT" meta soak-applied)" ]
same "$(value prod2/api image.tag)" s1 "soaked: in effect"
expect_rc 0 ledger unset prod2/api image.tag -m "unsets do not soak" "${A[@]}"

section "freeze: an absolute window"
at 2026-12-20T12:00:00Z
expect_rc 0 ledger freeze 'prod3/*' --from 2026-12-20T00:00:00Z \
	--until 2026-12-27T00:00:00Z -m "holiday freeze"
W=$(seq_of)
refused 1 "^ledger: set: prod3/api is frozen until 2026-12-27T00:00:00Z by window $W \\(prod3/\\*\\): holiday freeze" \
	ledger set prod3/api image.tag=f1 -m "in the freeze" "${A[@]}"
expect_rc 0 ledger set staging/api image.tag=s9 -m "staging is not frozen" "${A[@]}"
at 2026-12-27T00:00:01Z
expect_rc 0 ledger set prod3/api image.tag=f1 -m "after the freeze" "${A[@]}"
same "$(value prod3/api image.tag)" f1 "the window ended"

section "freeze: cron windows, Europe/Berlin and America/New_York"
expect_rc 0 ledger freeze 'prod4/*' --cron '0 18 * * 5' --duration 2d14h \
	--tz Europe/Berlin -m "weekend"
expect_rc 0 ledger freeze 'prod5/*' --cron '0 9 * * *' --duration 1h \
	--tz America/New_York -m "stand-up"
refused 2 '^ledger: freeze: ' ledger freeze 'prod6/*' --cron '0 9 * * *' \
	--duration 1h --tz Mars/Olympus -m "no such zone"
# Friday 2026-12-11 18:00 in Berlin is 17:00Z; Monday 08:00 is 07:00Z
at 2027-01-08T16:59:00Z
expect_rc 0 ledger set prod4/api image.tag=c1 -m "Friday 17:59" "${A[@]}"
at 2027-01-09T12:00:00Z
refused 1 '^ledger: set: prod4/api is frozen until 2027-01-11T07:00:00Z .*weekend' \
	ledger set prod4/api image.tag=c2 -m "Saturday" "${A[@]}"
at 2027-01-11T06:59:00Z
refused 1 'frozen until 2027-01-11T07:00:00Z' \
	ledger set prod4/api image.tag=c2 -m "Monday 07:59" "${A[@]}"
at 2027-01-11T07:00:00Z
expect_rc 0 ledger set prod4/api image.tag=c2 -m "Monday 08:00" "${A[@]}"
# 09:00 in New York is 14:00Z in winter
at 2026-12-07T14:30:00Z
refused 1 '^ledger: set: prod5/api is frozen until 2026-12-07T15:00:00Z .*stand-up' \
	ledger set prod5/api image.tag=n1 -m "09:30 NY" "${A[@]}"
at 2026-12-07T09:30:00Z
expect_rc 0 ledger set prod5/api image.tag=n1 -m "04:30 NY" "${A[@]}"

section "emergency: an override that needs one other key"
at 2026-12-22T03:00:00Z
refused 2 '^ledger: set: staging/api is not governed' \
	ledger set staging/api image.tag=e0 --emergency -m "nothing to override" "${A[@]}"
expect_rc 0 ledger set prod3/api image.tag=hotfix --emergency -m "CVE-2026-1" "${A[@]}"
expect_out_match '^pending: '
E=$(seq_of)
same "$(value prod3/api image.tag)" f1 "an emergency without its approval waits"
refused 1 "^ledger: approve: key \"alice\" wrote proposal $E" \
	ledger approve "$E" -m "me" "${A[@]}"
expect_rc 0 ledger approve "$E" -m "confirmed" "${D[@]}"
same "$(value prod3/api image.tag)" hotfix "approved: in effect during the freeze"
expect_rc 0 ledger history prod3/api
expect_out_match 'emergency'
expect_rc 0 ledger verify
expect_out_match "^emergency: 1 emergency change: seq $E"

section "rollback during a freeze: never gated, unless the policy says so"
expect_rc 0 ledger rollback prod3/api --to "$((E - 1))" -m "back out" --no-lock
same "$(value prod3/api image.tag)" f1 "the rollback took effect in the freeze"
expect_rc 0 ledger policy set 'prod3/*' --approvals 1 --gate-rollbacks -m "gated"
G=$(head_seq)
expect_rc 0 ledger set prod3/api image.tag=x --emergency -m "hotfix 2" "${A[@]}"
X=$(seq_of)
expect_rc 0 ledger approve "$X" -m "ok" "${D[@]}"
same "$(value prod3/api image.tag)" x "in effect"
refused 1 '^ledger: rollback: prod3/api is frozen' \
	ledger rollback prod3/api --to "$G" -m "gated now" --no-lock
at 2026-12-28T09:00:00Z
expect_rc 0 ledger rollback prod3/api --to "$G" -m "gated, after the freeze" --no-lock "${A[@]}"
R=$(seq_of)
expect_out_match '^pending: needs 1 approval'
expect_err_match '^proposed the rollback of prod3/api$'
same "$(value prod3/api image.tag)" x "a gated rollback is a proposal"
expect_rc 0 ledger approve "$R" -m "ok" "${D[@]}"
same "$(value prod3/api image.tag)" f1 "approved: rolled back"

section "the whole log verifies, every decision re-checked"
expect_rc 0 ledger verify
expect_out_match '^ok: policies: [0-9]+ proposals, [0-9]+ took effect with their approvals$'
finish
