#!/bin/bash
# policy_cli.sh - the command line of promotion policies (issue 13):
# `policy set|clear|show`, `approve`, `withdraw`, `pending`, `freeze`,
# `unfreeze` and `set/unset --emergency`. Their --help; every usage error
# exits 2 with one line and leaves the ledger byte-identical; each "no"
# (self-approval, a second approval, not pending, not the author, frozen)
# exits 1 with one line naming what is missing and the CLI's advice; the
# exact output of the happy paths (SEQ HASH, the pending and approval
# lines) and the --json shapes; --ledger DIR; --remote through `ledger
# serve`. The full rule matrix (soak, revoked approvers, stale
# proposals, time zones) is policy.sh's.
#
# Windows are wide (2000 to 2099) or recurring at a time no test runs
# long enough to cross: nothing here depends on the clock.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_serve.sh"
need mdb_dump curl

HEX64='[0-9a-f]{64}'
WHEN='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
K=$T/keys

# refused EXIT ERE CMD...: CMD exits EXIT with one error line matching
# ERE, prints nothing on stdout, and the ledger is unchanged.
refused() {
	local code=$1 re=$2
	shift 2
	snapshot refused
	expect_rc "$code" "$@"
	expect_one_line_error "$re"
	expect_no_out
	assert_unchanged refused
}

# written CMD...: CMD exits 0 and prints "SEQ HASH" first; sets SEQ.
written() {
	expect_rc 0 "$@"
	expect_out_match "^[0-9]+ $HEX64\$"
	SEQ=$(out_field 1 1)
}

# the value of KEY on TARGET, or nothing
value_of() {
	"$LEDGER" get "$1" "$2" 2>/dev/null
}

init_ledger example.com/deploy/policy-cli
for n in alice bob carol; do
	new_key "$n"
done
ADMIN=$KEYS/admin.key
expect_rc 0 ledger key add "$K/alice.pub" --role deployer --scope '*' -m alice
expect_rc 0 ledger key add "$K/bob.pub" --role deployer --scope '*' -m bob
expect_rc 0 ledger key add "$K/carol.pub" --role deployer --scope 'staging/*' -m carol

CMDS="policy approve withdraw pending freeze unfreeze"

# ---------------------------------------------------------------------
step "help"
expect_rc 0 ledger --help
for c in $CMDS; do
	expect_out_match "^  $c "
done
for c in $CMDS; do
	step "$c --help"
	# no ledger, no key: help must not need either
	expect_rc 0 env LEDGER_DIR=$T/nonexistent "$LEDGER" "$c" --help
	expect_out_match "^usage: ledger $c( |\$)"
	expect_no_err
	cp "$OUT" "$T/help.$c"
	expect_rc 0 ledger help "$c"
	check "ledger help $c is ledger $c --help" cmp -s "$OUT" "$T/help.$c"
	expect_rc 0 ledger "$c" -h
	check "ledger $c -h is ledger $c --help" cmp -s "$OUT" "$T/help.$c"
done
step "help of the subcommands and of --emergency"
expect_rc 0 ledger policy show --help
check "policy show --help is policy --help" cmp -s "$OUT" "$T/help.policy"
for f in "policy set" "policy clear" "policy show"; do
	grep -Eq "^(usage: | +)ledger $f " "$T/help.policy" ||
		fail "policy --help has no \"ledger $f\" line"
	ok
done
for c in set unset; do
	expect_rc 0 ledger "$c" --help
	expect_out_match '--emergency'
done

# ---------------------------------------------------------------------
step "usage errors: exit 2, one line, nothing written"
cat >"$T/usage" <<'EOF'
expected set, clear or show|policy
unknown subcommand "frob"|policy frob x -m y
expected one SCOPE|policy set -m x --approvals 1
expected one SCOPE|policy set a/* b/* -m x --approvals 1
expected --approvals, --soak or --gate-rollbacks|policy set production/* -m x
--approvals must be 1 to 16|policy set production/* --approvals 0 -m x
--approvals must be 1 to 16|policy set production/* --approvals 17 -m x
--approvals must be 1 to 16|policy set production/* --approvals 01 -m x
--approvals must be 1 to 16|policy set production/* --approvals two -m x
go together|policy set production/* --soak 30m -m x
go together|policy set production/* --from staging -m x
gated rollbacks need approvals|policy set production/* --gate-rollbacks -m x
--soak: |policy set production/* --soak forever --from staging -m x
--from: |policy set production/* --soak 30m --from Staging -m x
invalid scope|policy set Production/* --approvals 1 -m x
missing -m REASON|policy set production/* --approvals 1
--json is for policy show|policy set production/* --approvals 1 -m x --json
clear takes only SCOPE|policy clear production/* --approvals 1 -m x
missing -m REASON|policy clear production/*
show takes only TARGET and --json|policy show --approvals 2
show takes only TARGET and --json|policy show -m x
expected at most one TARGET|policy show a/b c/d
invalid target|policy show Staging/api
invalid target|policy show staging/*
unknown option|policy show --bogus
expected one SEQ|approve -m x
expected one SEQ|approve 1 2 -m x
SEQ must be a seq|approve x -m y
SEQ must be a seq|approve 0 -m y
missing -m REASON|approve 5
expected one SEQ|withdraw -m x
SEQ must be a seq|withdraw 1x -m y
missing -m REASON|withdraw 5
expected at most one SCOPE|pending a b
invalid scope|pending Staging
unknown option|pending --approvals 2
expected --from UTC --until UTC|freeze production/* -m x
needs --from and --until|freeze production/* --from 2026-12-24T00:00:00Z -m x
not both|freeze production/* --from 2026-12-24T00:00:00Z --until 2026-12-27T00:00:00Z --cron "0 18 * * 5" -m x
--from: |freeze production/* --from 2026-12-24 --until 2026-12-27T00:00:00Z -m x
--until: |freeze production/* --from 2026-12-24T00:00:00Z --until tomorrow -m x
--until must be after --from|freeze production/* --from 2026-12-27T00:00:00Z --until 2026-12-24T00:00:00Z -m x
expected --from UTC --until UTC|freeze production/* --cron "0 18 * * 5" --duration 2d -m x
--cron: |freeze production/* --cron "61 18 * * 5" --duration 2d --tz UTC -m x
--duration: |freeze production/* --cron "0 18 * * 5" --duration soon --tz UTC -m x
--tz: |freeze production/* --cron "0 18 * * 5" --duration 2d --tz Mars/Olympus -m x
--window is for unfreeze|freeze production/* --window 3 --from 2026-12-24T00:00:00Z --until 2026-12-27T00:00:00Z -m x
missing -m REASON|freeze production/* --from 2026-12-24T00:00:00Z --until 2026-12-27T00:00:00Z
invalid scope|freeze Prod/* --from 2026-12-24T00:00:00Z --until 2026-12-27T00:00:00Z -m x
expected one SCOPE|unfreeze -m x
unfreeze takes only SCOPE|unfreeze production/* --from 2026-12-24T00:00:00Z -m x
--window must be a seq|unfreeze production/* --window x -m y
missing -m REASON|set staging/api a=b --emergency
EOF
while IFS='|' read -r re cmd; do
	set -f # the scopes are globs: never expanded here
	eval "args=($cmd)"
	set +f
	step "usage: ledger $cmd"
	refused 2 "$re" ledger "${args[@]}"
	check "the error names the command" grep -q "^ledger: ${args[0]}" "$ERR"
done <"$T/usage"
step "--remote on a read: a server that cannot be reached"
refused 2 'cannot reach http://127.0.0.1:1/' ledger --remote http://127.0.0.1:1 pending
refused 2 'cannot reach http://127.0.0.1:1/' ledger --remote http://127.0.0.1:1 policy show

# ---------------------------------------------------------------------
step "policy set, show and clear"
written ledger policy set 'production/*' --approvals 1 -m "four eyes"
P1=$SEQ
check "policy set prints one line" [ "$(out_lines)" -eq 1 ]
expect_no_err
written ledger policy set 'qa/*' --approvals 2 --soak 30m --from staging --gate-rollbacks -m "soak first"
P2=$SEQ
expect_rc 0 ledger policy show
expect_out "SCOPE         SEQ  APPROVALS  SOAK              ROLLBACKS
production/*  $P1    1          -                 -
qa/*          $P2    2          30m from staging  gated

no freeze window"
expect_rc 0 ledger policy show --json
expect_json_len policies = 2
expect_json policies 0 scope = 'production/*'
expect_json policies 0 seq = "$P1"
expect_json policies 0 approvals = 1
expect_json policies 0 gate_rollbacks = false
expect_json policies 0 soak = null
expect_json policies 0 from = null
expect_json policies 1 scope = 'qa/*'
expect_json policies 1 approvals = 2
expect_json policies 1 gate_rollbacks = true
expect_json policies 1 soak = 1800
expect_json policies 1 from = staging
expect_json_len windows = 0
expect_rc 0 ledger policy show production/api
expect_out "target: production/api
policy: production/* (seq $P1): approvals=1
matching: production/* (seq $P1, the most specific: applies)"
expect_rc 0 ledger policy show staging/api
expect_out "target: staging/api
policy: none (set and unset take effect at once)"
expect_rc 0 ledger policy show production/api --json
expect_json target = production/api
expect_json policy scope = 'production/*'
expect_json_len matching = 1
expect_json_len windows = 0
expect_rc 0 ledger policy show staging/api --json
expect_json policy = null
expect_json_len matching = 0
written ledger policy clear 'qa/*' -m "no soak"
expect_rc 0 ledger policy show --json
expect_json_len policies = 1

# ---------------------------------------------------------------------
step "a gated set is a proposal; the author may not approve it"
written ledger set production/api image.tag=v1 -m "PR 1" --key "$K/alice.key"
PROP=$SEQ
expect_out "$PROP $(out_field 1 2)
pending: needs 1 approval (policy production/* at seq $P1)"
expect_no_err
check "the proposal changes nothing yet" [ -z "$(value_of production/api image.tag)" ]
expect_rc 0 ledger pending
expect_out_match "^SEQ +UPDATED +TARGET +KIND +CHANGES +AUTHOR +APPROVALS +WAITS FOR\$"
expect_out_match "^$PROP +$WHEN +production/api +set +image.tag=v1 +alice +0 of 1 +1 more approval\$"
expect_rc 0 ledger pending --json
expect_json_len = 1
expect_json 0 seq = "$PROP"
expect_json 0 target = production/api
expect_json 0 author = alice
expect_json 0 need = 1
expect_json 0 approvals = '[]'
expect_json 0 emergency = false
expect_json 0 status = pending
expect_json 0 kind = set
expect_json 0 changes = '[{"key":"image.tag","value":"v1"}]'
expect_rc 0 ledger pending production
expect_out_match "^$PROP +$WHEN +production/api "
expect_rc 0 ledger pending production --json
expect_json_len = 1
expect_rc 0 ledger pending 'staging/*' --json
expect_json_len = 0
refused 1 "ledger: approve: .*; another key must approve it\$" \
	ledger approve "$PROP" -m "me too" --key "$K/alice.key"
refused 1 'ledger: approve: key "carol" is not allowed to change production/api' \
	ledger approve "$PROP" -m "out of scope" --key "$K/carol.key"

step "the second key's approval makes it take effect"
written ledger approve "$PROP" -m "looks good" --key "$K/bob.key"
APP=$SEQ
expect_out "$APP $(out_field 1 2)
effective: seq $APP changes production/api"
expect_no_err
check "the change took effect" [ "$(value_of production/api image.tag)" = v1 ]
expect_rc 0 ledger pending --json
expect_json_len = 0
refused 1 "ledger: approve: .* \\(see ledger pending\\)\$" \
	ledger approve "$PROP" -m "late" --key "$ADMIN"

step "two approvals: one at a time; a second by the same key; withdraw"
written ledger policy set 'production/*' --approvals 2 -m "six eyes"
P3=$SEQ
written ledger set production/api image.tag=v2 -m "PR 2" --key "$K/alice.key"
PROP=$SEQ
expect_out_match "^pending: needs 2 approvals \\(policy production/\\* at seq $P3\\)\$"
written ledger approve "$PROP" -m "ok" --key "$K/bob.key"
APP=$SEQ
expect_out "$APP $(out_field 1 2)
approved: 1 of 2 (has: bob)"
expect_rc 0 ledger pending --json
expect_json 0 approvals = "[{\"key\":\"bob\",\"seq\":$APP}]"
expect_json 0 need = 2
expect_rc 0 ledger pending
expect_out_match "^$PROP +$WHEN +production/api +set +image.tag=v2 +alice +1 of 2 \\(has: bob\\) +1 more approval\$"
refused 1 "ledger: approve: .*; another key must approve it\$" \
	ledger approve "$PROP" -m "again" --key "$K/bob.key"
refused 1 "ledger: withdraw: key \"bob\" did not write proposal $PROP: only its author or an admin may withdraw it\$" \
	ledger withdraw "$PROP" -m "not mine" --key "$K/bob.key"
written ledger withdraw "$PROP" -m "wrong tag" --key "$K/alice.key"
check "withdraw prints one line" [ "$(out_lines)" -eq 1 ]
expect_rc 0 ledger pending --json
expect_json_len = 0
check "the withdrawn change never took effect" \
	[ "$(value_of production/api image.tag)" = v1 ]
refused 1 "ledger: withdraw: .* \\(see ledger pending\\)\$" \
	ledger withdraw "$PROP" -m "twice" --key "$K/alice.key"

# ---------------------------------------------------------------------
step "--emergency needs an approval by another key"
refused 2 "ledger: set: dev/api is not governed by a policy or an open freeze window" \
	ledger set dev/api image.tag=hotfix --emergency -m "outage" --key "$K/alice.key"
written ledger freeze 'dev/*' --from 2000-01-01T00:00:00Z \
	--until 2099-12-31T00:00:00Z -m "code freeze"
refused 1 "ledger: set: .*code freeze.*; use --emergency with a second approver, or wait\$" \
	ledger set dev/api image.tag=hotfix -m "outage" --key "$K/alice.key"
written ledger set dev/api image.tag=hotfix --emergency -m "outage" --key "$K/alice.key"
EM=$SEQ
expect_out "$EM $(out_field 1 2)
pending: needs 1 approval (emergency)"
expect_rc 0 ledger pending dev/api --json
expect_json 0 emergency = true
expect_rc 0 ledger pending dev
# the open window does not hold an emergency up: only its approval
expect_out_match "^$EM +$WHEN +dev/api +set \\(emergency\\) +image.tag=hotfix +alice +0 of 1 +1 more approval\$"
expect_rc 0 ledger show "$EM" --json
expect_json metadata emergency = true
written ledger approve "$EM" -m "seen" --key "$K/bob.key"
expect_out_match "^effective: seq $SEQ changes dev/api\$"
check "the emergency change took effect" [ "$(value_of dev/api image.tag)" = hotfix ]
written ledger unset dev/api image.tag --emergency -m "revert" --key "$K/alice.key"
expect_out_match '^pending: needs 1 approval \(emergency\)$'
written ledger withdraw "$SEQ" -m "not needed" --key "$K/alice.key"
written ledger unfreeze 'dev/*' -m "thaw"

# ---------------------------------------------------------------------
step "freeze and unfreeze"
written ledger freeze 'production/*' --from 2000-01-01T00:00:00Z \
	--until 2099-12-31T00:00:00Z -m "holiday freeze"
W1=$SEQ
check "freeze prints one line" [ "$(out_lines)" -eq 1 ]
written ledger freeze 'staging/*' --cron '0 3 29 2 *' --duration 1h \
	--tz Europe/Berlin -m "leap night"
W2=$SEQ
expect_rc 0 ledger policy show --json
expect_json_len windows = 2
expect_json windows 0 seq = "$W1"
expect_json windows 0 scope = 'production/*'
expect_json windows 0 reason = "holiday freeze"
expect_json windows 0 from = 2000-01-01T00:00:00Z
expect_json windows 0 until = 2099-12-31T00:00:00Z
expect_json windows 0 cron = null
expect_json windows 0 duration = null
expect_json windows 0 tz = null
expect_json windows 0 active = true
expect_json windows 0 ends = 2099-12-31T00:00:00Z
expect_json windows 1 cron = '0 3 29 2 *'
expect_json windows 1 duration = 3600
expect_json windows 1 tz = Europe/Berlin
expect_json windows 1 from = null
expect_json windows 1 until = null
expect_rc 0 ledger policy show
expect_out_match "^$W1 +production/\\* +2000-01-01T00:00:00Z to 2099-12-31T00:00:00Z, active until 2099-12-31T00:00:00Z +holiday freeze\$"
expect_out_match "^$W2 +staging/\\* +cron \"0 3 29 2 \\*\" for 1h \\(Europe/Berlin\\) +leap night\$"
expect_rc 0 ledger policy show production/api
expect_out_match "^window $W1 \\(production/\\*\\): 2000-01-01T00:00:00Z to 2099-12-31T00:00:00Z, active until 2099-12-31T00:00:00Z: holiday freeze\$"
expect_rc 0 ledger policy show production/api --json
expect_json_len windows = 1
refused 1 "ledger: set: .*holiday freeze.*; use --emergency with a second approver, or wait\$" \
	ledger set production/api image.tag=v3 -m "during" --key "$K/alice.key"
written ledger unfreeze 'production/*' -m "back to work"
check "unfreeze prints one line" [ "$(out_lines)" -eq 1 ]
written ledger set production/api image.tag=v3 -m "after" --key "$K/alice.key"
expect_out_match '^pending: needs 2 approvals'
written ledger unfreeze 'staging/*' --window "$W2" -m "no leap night"
expect_rc 0 ledger policy show --json
expect_json_len windows = 0

# ---------------------------------------------------------------------
step "--ledger DIR"
expect_rc 0 env LEDGER_DIR=$T/nonexistent "$LEDGER" --ledger "$LEDGER_DIR" pending --json
expect_json_len = 1
expect_rc 0 env LEDGER_DIR=$T/nonexistent "$LEDGER" policy show --ledger "$LEDGER_DIR" --json
expect_json_len policies = 1
refused 2 'not initialised|no ledger' env LEDGER_DIR=$T/nonexistent "$LEDGER" pending

# ---------------------------------------------------------------------
step "the ledger verifies"
expect_rc 0 ledger verify

# ---------------------------------------------------------------------
step "--remote through ledger serve"
start_server
written ledger --remote "$BASE" policy set 'remote/*' --approvals 1 -m "remote four eyes"
written ledger --remote "$BASE" set remote/api image.tag=r1 -m "remote PR" --key "$K/alice.key"
RP=$SEQ
expect_out_match '^pending: needs 1 approval'
# the server's refusal states the rule's facts; the advice words are the
# CLI's for a local refusal only (the server does not say which rule)
refused 1 'ledger: approve: key "alice" wrote proposal [0-9]+ and may not approve it' \
	ledger --remote "$BASE" approve "$RP" -m "me" --key "$K/alice.key"
written ledger --remote "$BASE" approve "$RP" -m "ok" --key "$K/bob.key"
expect_out_match "^effective: seq $SEQ changes remote/api\$"
check "the remote approval took effect" [ "$(value_of remote/api image.tag)" = r1 ]
written ledger --remote "$BASE" freeze 'remote/*' --from 2000-01-01T00:00:00Z \
	--until 2099-12-31T00:00:00Z -m "remote freeze"
refused 1 "remote freeze" \
	ledger --remote "$BASE" set remote/api image.tag=r2 -m "frozen" --key "$K/alice.key"
written ledger --remote "$BASE" unfreeze 'remote/*' -m "thaw"
written ledger --remote "$BASE" freeze 'remote/*' --cron '0 3 29 2 *' \
	--duration 1h --tz UTC -m "leap night"
RW=$SEQ
written ledger --remote "$BASE" unfreeze 'remote/*' --window "$RW" -m "no leap night"
refused 2 'no freeze window is in force on remote/\*' \
	ledger --remote "$BASE" unfreeze 'remote/*' -m "none left"
written ledger --remote "$BASE" set remote/api image.tag=r2 -m "PR" --key "$K/alice.key"
written ledger --remote "$BASE" withdraw "$SEQ" -m "never mind" --key "$K/alice.key"
written ledger --remote "$BASE" policy clear 'remote/*' -m "done"
stop_server TERM
expect_rc 0 ledger verify

# ---------------------------------------------------------------------
# A soak through --remote: the entry that takes effect (a set, or the
# approval that enacts a proposal) must carry its evidence, the applied
# entry of the source it ran since, which the remote writer finds on its
# checked copy. The clocks of client and server are the test clock.
step "--remote under a soak"
if ! "$LEDGER" --version | grep -q 'test clock: LEDGER_TEST_NOW honoured'; then
	echo "(--remote under a soak skipped: built without -Dtest_clock=true)"
	finish
fi
. "$(dirname "$0")/lib_apply.sh"
trap 'bg_kill; serve_cleanup' EXIT
new_key app
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m applier
written ledger policy set 'soak/*' --soak 1m --from staging -m "staging first"
export LEDGER_TEST_NOW=1893456000 # 2030-01-01T00:00:00Z
written ledger set staging/api image.tag=s1 -m "to soak"
expect_rc 0 ledger apply staging --config-dir "$CFG" --key "$K/app.key"
expect_rc 0 ledger history staging/api --json
APPLIED=$(jget "$OUT" "$(($(jlen "$OUT") - 1))" seq)
expect_json "$(($(jlen "$OUT") - 1))" kind = applied
export LEDGER_TEST_NOW=1893456030 # 30 s later
start_server
refused 1 'ledger: set: staging/api has run image.tag=s1 for 0 min of 1; wait for the soak, or use --emergency with a second approver$' \
	ledger --remote "$BASE" set soak/api image.tag=s1 -m "too early" --key "$K/alice.key"
stop_server TERM
export LEDGER_TEST_NOW=1893456120 # 2 min later
start_server
written ledger --remote "$BASE" set soak/api image.tag=s1 -m "soaked" --key "$K/alice.key"
check "one line: it took effect" [ "$(out_lines)" -eq 1 ]
expect_rc 0 ledger show "$SEQ" --json
expect_json metadata soak-applied = "$APPLIED"
check "the soaked change took effect" [ "$(value_of soak/api image.tag)" = s1 ]
step "--remote approval under a soak"
written ledger policy set 'soak/*' --approvals 1 --soak 1m --from staging -m "and four eyes"
written ledger set staging/api image.tag=s2 -m "to soak"
expect_rc 0 ledger apply staging --config-dir "$CFG" --key "$K/app.key"
export LEDGER_TEST_NOW=1893456240 # 4 min later
stop_server TERM
start_server
written ledger --remote "$BASE" set soak/api image.tag=s2 -m "PR" --key "$K/alice.key"
PROP=$SEQ
expect_out_match '^pending: needs 1 approval \(policy soak/\* at seq [0-9]+\)$'
written ledger --remote "$BASE" approve "$PROP" -m "ok" --key "$K/bob.key"
expect_out_match "^effective: seq $SEQ changes soak/api\$"
expect_rc 0 ledger show "$SEQ" --json
expect_json kind = approve
check "the approval carries the soak's evidence" \
	[ "$(jget "$OUT" metadata soak-applied)" -gt "$APPLIED" ]
check "the approved change took effect" [ "$(value_of soak/api image.tag)" = s2 ]
stop_server TERM
expect_rc 0 ledger verify

finish
