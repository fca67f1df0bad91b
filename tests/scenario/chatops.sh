#!/bin/bash
# chatops.sh - `ledger chatops`: a pull-request comment that is exactly
# "/deploy RELEASE cluster=CLUSTER [tag=TAG]" becomes a set of image.tag
# (default: the short SHA) with the actor and PR in the reason and
# metadata; any other comment is refused (exit 2, one line, nothing
# written); a cluster no --allow-cluster matches, a key that may not, or
# a locked target is a "no" (exit 1, nothing written); the same comment
# twice writes nothing.
. "$(dirname "$0")/lib.sh"
need mdb_dump

HEX64='[0-9a-f]{64}'
K=$T/keys
SHA=ABCDEF0123456789abcdef0123456789abcdef01
SHORT=abcdef0

init_ledger example.com/deploy/chatops
new_key ci
new_key ci_prod
new_key app
expect_rc 0 ledger key add "$K/ci.pub" --role deployer --scope 'staging/*' --scope 'dev-*/*' -m "CI"
expect_out_match "^2 $HEX64\$"
expect_rc 0 ledger key add "$K/ci_prod.pub" --role deployer --scope 'prod/*' -m "CI for prod"
expect_out_match "^3 $HEX64\$"
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "applier"
expect_out_match "^4 $HEX64\$"

# chatops ARGS...: as CI runs it, with the CI key
chatops() {
	ledger chatops --key "$K/ci.key" "$@"
}

# refused EXIT ERE ARGS...: chatops ARGS exits EXIT, one error line
# matching ERE, nothing on stdout, the ledger unchanged
refused() {
	local code=$1 re=$2
	shift 2
	snapshot refused
	expect_rc "$code" chatops "$@"
	expect_one_line_error "$re"
	expect_no_out
	assert_unchanged refused
}

# ---------------------------------------------------------------------
step "accepted: /deploy api cluster=staging (tag: the short SHA)"
expect_rc 0 chatops --comment "/deploy api cluster=staging" --sha "$SHA" --actor alice --pr 42
expect_out_match "^5 $HEX64\$"
check "one line on stdout" [ "$(out_lines)" -eq 1 ]
expect_err "deploying staging/api image.tag=$SHORT"
expect_rc 0 ledger get staging/api
expect_out "image.tag=$SHORT"
expect_rc 0 ledger show 5 --json
expect_json kind = set
expect_json target = staging/api
expect_json signer name = ci
expect_json reason = "/deploy by alice on PR #42: staging/api image.tag=$SHORT"
expect_json_len changes = 1
expect_json changes 0 key = image.tag
expect_json changes 0 value = "$SHORT"
expect_json_len metadata = 3
expect_json metadata chatops.actor = alice
expect_json metadata pr = 42
expect_json metadata git.sha = "$SHA"
expect_rc 0 ledger history staging/api
expect_out_match "^5 +[0-9T:-]+ +set +image\\.tag=$SHORT +ci +/deploy by alice on PR #42: staging/api image\\.tag=$SHORT\$"

step "accepted: tag=v1.2.3"
expect_rc 0 chatops --comment "/deploy api cluster=staging tag=v1.2.3" --sha "$SHA" --actor bob --pr 43
expect_out_match "^6 $HEX64\$"
expect_err "deploying staging/api image.tag=v1.2.3"
expect_rc 0 ledger show 6 --json
expect_json changes 0 value = v1.2.3
expect_json reason = "/deploy by bob on PR #43: staging/api image.tag=v1.2.3"
expect_json metadata chatops.actor = bob
expect_json metadata pr = 43

step "accepted: white space around and between the words"
expect_rc 0 chatops --comment $'\n\n  /deploy   web\tcluster=staging   tag=2024.01_rc-1  \r\n\n' \
	--sha "$SHA" --actor carol --pr 7
expect_out_match "^7 $HEX64\$"
expect_rc 0 ledger show 7 --json
expect_json target = staging/web
expect_json changes 0 value = 2024.01_rc-1
expect_rc 0 ledger get staging/web
expect_out "image.tag=2024.01_rc-1"

step "accepted: tag= before cluster=, a numeric tag, a 7-digit SHA, no --pr"
expect_rc 0 chatops --comment "/deploy web tag=123456 cluster=staging" --sha 1234567 --actor dave
expect_out_match "^8 $HEX64\$"
expect_rc 0 ledger show 8 --json
expect_json changes 0 value = 123456
# a tag is text: a numeric one stays a string, never the number
expect_json_value changes 0 value = '"123456"'
expect_json reason = "/deploy by dave: staging/web image.tag=123456"
expect_json_len metadata = 2
expect_json metadata chatops.actor = dave
expect_json metadata git.sha = 1234567
expect_json metadata pr = "(missing)"
expect_rc 0 chatops --comment "/deploy web cluster=staging" --sha 89ABCDE --actor dave
expect_out_match "^9 $HEX64\$"
expect_rc 0 ledger get staging/web
expect_out "image.tag=89abcde"
LONGTAG=t$(printf 'x%.0s' $(seq 127))
expect_rc 0 chatops --comment "/deploy web cluster=staging tag=$LONGTAG" --sha "$SHA" --actor dave
expect_out_match "^10 $HEX64\$"
expect_rc 0 ledger get staging/web
expect_out "image.tag=$LONGTAG"
SHA64=$(printf '0123456789abcdef%.0s' 1 2 3 4)
expect_rc 0 chatops --comment "/deploy web cluster=staging" --sha "$SHA64" --actor dave
expect_out_match "^11 $HEX64\$"
expect_rc 0 ledger get staging/web
expect_out "image.tag=0123456"

step "--allow-cluster: any of the globs"
expect_rc 0 chatops --comment "/deploy api cluster=dev-eu" --sha "$SHA" --actor erin \
	--allow-cluster 'prod' --allow-cluster 'dev-*'
expect_out_match "^12 $HEX64\$"
expect_rc 0 ledger get dev-eu/api
expect_out "image.tag=$SHORT"

# ---------------------------------------------------------------------
step "the same comment again writes nothing"
snapshot same
expect_rc 0 chatops --comment "/deploy api cluster=staging tag=v1.2.3" --sha "$SHA" --actor bob --pr 43
expect_no_out
expect_err "the ledger already has staging/api image.tag=v1.2.3; nothing written"
# from someone else on another PR: still nothing to record
expect_rc 0 chatops --comment "/deploy api cluster=staging tag=v1.2.3" --sha "$SHA" --actor zed --pr 99
expect_no_out
expect_err "the ledger already has staging/api image.tag=v1.2.3; nothing written"
assert_unchanged same

# ---------------------------------------------------------------------
step "refused: not exactly a /deploy command (exit 2)"
# 4096 bytes at most, not counting the white space around it
LONG="/deploy api$(printf ' %.0s' $(seq 4100))cluster=staging"
TAG129=t$(printf 'x%.0s' $(seq 128))
refused 2 '^ledger: chatops: the comment is empty$' --comment "" --sha "$SHA" --actor eve
refused 2 'the comment is empty' --comment $' \n\t\r\n ' --sha "$SHA" --actor eve
refused 2 'not a deploy command' --comment "please /deploy api cluster=staging" --sha "$SHA" --actor eve
refused 2 'not a deploy command' --comment "> /deploy api cluster=staging" --sha "$SHA" --actor eve
refused 2 'not a deploy command' --comment "/deployx api cluster=staging" --sha "$SHA" --actor eve
refused 2 'not a deploy command' --comment "/Deploy api cluster=staging" --sha "$SHA" --actor eve
refused 2 'not a deploy command' --comment "/deploy:api cluster=staging" --sha "$SHA" --actor eve
refused 2 'not a deploy command' --comment $'/deploy\u00a0api cluster=staging' --sha "$SHA" --actor eve
refused 2 'needs a release' --comment "/deploy" --sha "$SHA" --actor eve
refused 2 'needs a release' --comment "  /deploy  " --sha "$SHA" --actor eve
refused 2 'missing cluster=CLUSTER' --comment "/deploy api" --sha "$SHA" --actor eve
refused 2 'missing cluster=CLUSTER' --comment "/deploy api tag=v1" --sha "$SHA" --actor eve
refused 2 'unexpected "extra"' --comment "/deploy api cluster=staging extra" --sha "$SHA" --actor eve
refused 2 'unexpected "please"' --comment "/deploy api please cluster=staging" --sha "$SHA" --actor eve
refused 2 'more than the /deploy line' --comment $'/deploy api cluster=staging\nrm -rf /' --sha "$SHA" --actor eve
refused 2 'more than the /deploy line' --comment $'/deploy api cluster=staging\n\nthanks!' --sha "$SHA" --actor eve
refused 2 'more than the /deploy line' --comment $'/deploy api cluster=staging\rtag=evil' --sha "$SHA" --actor eve
refused 2 'Api' --comment "/deploy Api cluster=staging" --sha "$SHA" --actor eve
refused 2 'api/x' --comment "/deploy api/x cluster=staging" --sha "$SHA" --actor eve
refused 2 'invalid release name "-api"' --comment "/deploy -api cluster=staging" --sha "$SHA" --actor eve
refused 2 'Staging' --comment "/deploy api cluster=Staging" --sha "$SHA" --actor eve
refused 2 'staging/api' --comment "/deploy api cluster=staging/api" --sha "$SHA" --actor eve
refused 2 'cluster' --comment "/deploy api cluster=" --sha "$SHA" --actor eve
refused 2 'invalid tag "-bad"' --comment "/deploy api cluster=staging tag=-bad" --sha "$SHA" --actor eve
refused 2 'invalid tag ".hidden"' --comment "/deploy api cluster=staging tag=.hidden" --sha "$SHA" --actor eve
refused 2 'invalid tag' --comment "/deploy api cluster=staging tag=v1;reboot" --sha "$SHA" --actor eve
refused 2 'invalid tag' --comment "/deploy api cluster=staging tag=" --sha "$SHA" --actor eve
refused 2 'invalid tag' --comment "/deploy api cluster=staging tag=$TAG129" --sha "$SHA" --actor eve
refused 2 'invalid tag' --comment '/deploy api cluster=staging tag=$(id)' --sha "$SHA" --actor eve
refused 2 'repeated "cluster="' --comment "/deploy api cluster=staging cluster=prod" --sha "$SHA" --actor eve
refused 2 'repeated "tag="' --comment "/deploy api cluster=staging tag=a tag=b" --sha "$SHA" --actor eve
refused 2 'unexpected or repeated "image.tag="' --comment "/deploy api cluster=staging image.tag=x" --sha "$SHA" --actor eve
refused 2 'unexpected' --comment $'/deploy api cluster=staging \e[31mred' --sha "$SHA" --actor eve
refused 2 'too long' --comment "$LONG" --sha "$SHA" --actor eve
refused 2 'too many words' --comment "/deploy api cluster=staging a=1 b=2 c=3 d=4 e=5 f=6" --sha "$SHA" --actor eve

step "refused: a bad --sha (exit 2)"
refused 2 'invalid --sha "abc123": expected 7 to 64 hex digits' --comment "/deploy api cluster=staging" --sha abc123 --actor eve
refused 2 'invalid --sha "zzzzzzz1"' --comment "/deploy api cluster=staging" --sha zzzzzzz1 --actor eve
refused 2 'invalid --sha' --comment "/deploy api cluster=staging" --sha "g$SHA" --actor eve
refused 2 'invalid --sha' --comment "/deploy api cluster=staging" --sha "${SHA64}0" --actor eve
refused 2 'invalid --sha' --comment "/deploy api cluster=staging" --sha "" --actor eve
refused 2 'invalid --sha' --comment "/deploy api cluster=staging tag=v9" --sha "abc def0" --actor eve

step "refused: usage (exit 2)"
refused 2 'are required' --comment "/deploy api cluster=staging" --sha "$SHA"
refused 2 'are required' --comment "/deploy api cluster=staging" --actor eve
refused 2 'are required' --sha "$SHA" --actor eve
refused 2 '\-\-actor takes a user name' --comment "/deploy api cluster=staging" --sha "$SHA" --actor ""
refused 2 '\-\-actor takes a user name' --comment "/deploy api cluster=staging" --sha "$SHA" --actor "eve smith"
refused 2 '\-\-actor takes a user name' --comment "/deploy api cluster=staging" --sha "$SHA" --actor $'eve\nmallory'
refused 2 '\-\-actor takes a user name' --comment "/deploy api cluster=staging" --sha "$SHA" --actor "$(printf 'e%.0s' $(seq 101))"
refused 2 '\-\-pr takes a pull request number' --comment "/deploy api cluster=staging" --sha "$SHA" --actor eve --pr abc
refused 2 '\-\-pr takes a pull request number' --comment "/deploy api cluster=staging" --sha "$SHA" --actor eve --pr ""
refused 2 '\-\-pr takes a pull request number' --comment "/deploy api cluster=staging" --sha "$SHA" --actor eve --pr -1
refused 2 'unexpected argument' --comment "/deploy api cluster=staging" --sha "$SHA" --actor eve extra

# ---------------------------------------------------------------------
step "refused: a cluster no --allow-cluster matches (exit 1)"
refused 1 '^ledger: chatops: cluster staging is not open to /deploy comments \(allowed: dev-\*\)$' \
	--comment "/deploy api cluster=staging tag=v2" --sha "$SHA" --actor eve --allow-cluster 'dev-*'
refused 1 'cluster prod is not open' \
	--comment "/deploy api cluster=prod" --sha "$SHA" --actor eve --allow-cluster staging --allow-cluster 'dev-*'
# a glob matches the whole name only
refused 1 'cluster staging-eu is not open' \
	--comment "/deploy api cluster=staging-eu" --sha "$SHA" --actor eve --allow-cluster staging

step "refused: the key may not (exit 1)"
refused 1 'not allowed to change prod/api' --comment "/deploy api cluster=prod" --sha "$SHA" --actor eve
snapshot applier
expect_rc 1 ledger chatops --key "$K/app.key" --comment "/deploy api cluster=staging tag=v3" --sha "$SHA" --actor eve
expect_one_line_error 'role applier'
assert_unchanged applier
expect_rc 0 ledger chatops --key "$K/ci_prod.key" --comment "/deploy api cluster=prod" --sha "$SHA" --actor eve --pr 1
expect_out_match "^13 $HEX64\$"

step "refused: a locked target (exit 1)"
expect_rc 0 ledger lock staging/api -m "incident 12"
expect_out_match "^14 $HEX64\$"
refused 1 '^ledger: chatops: staging/api: target is locked since seq 14 \(reason: "incident 12"\); a /deploy comment cannot pass a lock: ledger unlock staging/api first$' --comment "/deploy api cluster=staging tag=v4" --sha "$SHA" --actor eve --pr 50
# the value it already has: nothing would be written, so, as for set,
# the lock does not matter
snapshot locked_same
expect_rc 0 chatops --comment "/deploy api cluster=staging tag=v1.2.3" --sha "$SHA" --actor eve --pr 50
expect_no_out
expect_err "the ledger already has staging/api image.tag=v1.2.3; nothing written"
assert_unchanged locked_same
# other targets are not locked
expect_rc 0 chatops --comment "/deploy web cluster=staging tag=w5" --sha "$SHA" --actor eve
expect_out_match "^15 $HEX64\$"
expect_rc 0 ledger unlock staging/api -m "over"
expect_out_match "^16 $HEX64\$"
expect_rc 0 chatops --comment "/deploy api cluster=staging tag=v4" --sha "$SHA" --actor eve --pr 50
expect_out_match "^17 $HEX64\$"
expect_rc 0 ledger get staging/api
expect_out "image.tag=v4"

expect_rc 0 ledger verify
expect_out_match '^ok: 17 entries, head 17 '

finish
