#!/bin/bash
# apply_policy.sh - the applier and `ledger verify` against changes that a
# compromised writer made effective without the approvals their policy
# needs (issue 13), through the real binary and the stand-in helmfile.
#
# The ledger: a policy on prod/* with approvals=1, written by the admin,
# and a proposal (prod/api image.tag=p2) by deployer "dep", both through
# the CLI. The forged
# entries are signed with valid keys by tests/tools/ldg_forge and stored
# with the index rows a writer that skips every check writes (--store
# honest), or that also writes a proposal's values as in effect (--store
# effective), never through the CLI:
#   - a set of prod/api by dep, indexed as in effect (seq 9);
#   - an approval of the proposal by its own author (seq 9);
#   - a legitimate approval by another deployer (ledger approve), the
#     control: deployed, and the ledger verifies.
# Each forgery: the applier records apply-failed with metadata reason =
# policy and a message naming the seq, never runs helmfile for the
# release, and `ledger verify` rejects the ledger naming the same seq.
. "$(dirname "$0")/lib.sh"
[ -n "${FORGE:-}" ] && [ -x "$FORGE" ] || skip "FORGE (ldg_forge) not built"
. "$(dirname "$0")/lib_apply.sh"

HEX64='[0-9a-f]{64}'
POLICY_SEQ=7
PROPOSAL=8
FORGED=9
# the auto batch changes nothing: only prod/api's runs are recorded
export HF_AUTO_RC=0

# the applier, for cluster prod
apply_prod() {
	ledger apply prod --config-dir "$CFG" --key "$K/app.key" "$@"
}

forge() {
	run "$FORGE" "$@"
	[ "$RC" -eq 0 ] || fail "ldg_forge $* failed: $(err)"
}

hf_calls() {
	sed -n 's/^ARGV //p' "$HF_LOG"
}

hf_reset() {
	: >"$HF_LOG"
}

# a ledger of its own in $T/l-NAME: keys, prod/api image.tag=p1 (seq 5)
# deployed (6), the policy (7) and dep's proposal of p2 (8)
policy_ledger() {
	export LEDGER_DIR=$T/l-$1
	expect_rc 0 ledger init --origin "example.com/deploy/policy-$1"
	expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "the applier"
	expect_rc 0 ledger key add "$K/dep.pub" --role deployer --scope '*' -m "CI"
	expect_rc 0 ledger key add "$K/dep2.pub" --role deployer --scope 'prod/*' -m "a reviewer"
	expect_rc 0 ledger set prod/api image.tag=p1 -m "prod 1" --key "$K/dep.key"
	expect_out_match "^5 $HEX64\$"
	expect_rc 0 apply_prod
	expect_out_match '^prod/api: applied \(seq 5, '
	expect_rc 0 ledger policy set 'prod/*' --approvals 1 -m "four eyes on production"
	expect_out_match "^$POLICY_SEQ $HEX64\$"
	expect_rc 0 ledger set prod/api image.tag=p2 -m "prod 2" --key "$K/dep.key"
	expect_out_match "^$PROPOSAL $HEX64\$"
	expect_out_match '^pending: '
	# a proposal: nothing in effect changed, nothing to deploy
	expect_rc 0 ledger get prod/api image.tag
	expect_out p1
	expect_rc 0 ledger verify
	hf_reset
}

# refused_as SEQ ERE: the applier refuses prod/api naming SEQ (its
# warning matching ERE), records apply-failed reason=policy, runs no
# helmfile apply for api; verify then rejects the ledger naming SEQ
refused_as() {
	local seq=$1 why=$2 head
	head=$("$TAMPER" "$LEDGER_DIR" count)
	expect_rc 1 apply_prod
	expect_err_match "^warning: prod/api: not applied: seq $seq took effect without its 1 approval: $why \(run ledger verify\)\$"
	expect_out_match "^prod/api: recorded apply-failed as seq $((head + 1))\$"
	check "helmfile never applied api: $(hf_calls)" \
		bash -c "! grep -q 'name=api apply' '$HF_LOG'"
	check "no values file held the forged value" \
		bash -c "! grep -q '$FORGED_VALUE' '$HF_LOG'"
	expect_rc 0 ledger show $((head + 1)) --json
	expect_json kind = apply-failed
	expect_json target = prod/api
	expect_json metadata reason = policy
	expect_json metadata exit-code = -1
	expect_json metadata desired-seq = "$head"
	jget "$OUT" metadata output-tail | grep -q "^seq $seq took effect without its 1 approval" ||
		fail "the apply-failed entry does not say why"
	# again: the newest outcome failed, so it is judged again, and
	# refused again
	hf_reset
	expect_rc 1 apply_prod
	expect_out_match "^prod/api: recorded apply-failed as seq $((head + 2))\$"
	check "helmfile never applied api" \
		bash -c "! grep -q 'name=api apply' '$HF_LOG'"
	# a dry run says so and records nothing
	expect_rc 1 apply_prod --dry-run
	expect_err_match "^warning: prod/api: not applied: seq $seq took effect"
	check "the dry run recorded nothing" \
		[ "$("$TAMPER" "$LEDGER_DIR" count)" = $((head + 2)) ]
	expect_rc 1 ledger verify
	expect_one_line_error "^ledger: verify: entry $seq: "
	expect_rc 1 ledger verify --json
	expect_json bad_seq = "$seq"
	ok
}

new_key app "$K"
new_key dep "$K"
new_key dep2 "$K"
run ledger keygen admin
[ "$RC" -eq 0 ] || fail "keygen admin failed"

sec_forged_set() {
	policy_ledger set
	FORGED_VALUE=EVIL-1
	forge --store effective "$LEDGER_DIR" "$K/dep.key" set prod/api \
		image.tag=$FORGED_VALUE "no approval needed, says the writer"
	expect_out "$FORGED"
	# every reader takes the index's word for it
	expect_rc 0 ledger get prod/api image.tag
	expect_out $FORGED_VALUE
	refused_as $FORGED "under policy prod/\\* \\(seq $POLICY_SEQ\\) a set of prod/api is only a proposal"
	expect_rc 1 ledger verify
	expect_one_line_error "^ledger: verify: entry $FORGED: the index \"state\" puts it in effect on prod/api, a replay of the entries does not: seq $FORGED took effect without its 1 approval: under policy prod/\\* \\(seq $POLICY_SEQ\\) a set of prod/api is only a proposal\$"
	# the other releases were still reconciled
	check "the auto batch still ran" grep -q 'deployment=auto apply' "$HF_LOG"
	ok
}

sec_self_approval() {
	policy_ledger self
	FORGED_VALUE=p2
	forge --store honest "$LEDGER_DIR" "$K/dep.key" approve prod/api \
		$PROPOSAL "I approve my own change"
	expect_out "$FORGED"
	expect_rc 0 ledger get prod/api image.tag
	expect_out p2
	refused_as $FORGED "proposal $PROPOSAL on prod/api has 0 valid; not counted: seq $FORGED: key \"dep\" wrote the proposal"
	expect_rc 1 ledger verify
	expect_one_line_error "^ledger: verify: entry $FORGED: not authorised: key \"dep\" wrote proposal $PROPOSAL and may not approve it\$"
	ok
}

sec_approved() {
	policy_ledger approved
	expect_rc 0 ledger approve $PROPOSAL -m "reviewed" --key "$K/dep2.key"
	expect_out_match "^$FORGED $HEX64\$"
	expect_out_match "^effective: "
	expect_rc 0 apply_prod
	expect_out_match "^prod/api: applied \\(seq $FORGED, "
	check "helmfile applied api with p2" grep -q 'tag: "p2"' "$HF_LOG"
	expect_rc 0 ledger show $((FORGED + 1)) --json
	expect_json kind = applied
	expect_rc 0 ledger verify
	expect_out_match "^ok: $((FORGED + 1)) entries"
	ok
}

section "a set made effective without approval" sec_forged_set
section "an approval by the proposal's author" sec_self_approval
section "an approval by another key is deployed" sec_approved
finish
