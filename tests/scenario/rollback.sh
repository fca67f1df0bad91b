#!/bin/bash
# rollback.sh - `ledger rollback` of a target and of a cluster: values
# restored, keys that did not exist then unset, rollback-to metadata, the
# lock that keeps a pipeline from undoing it, set --force, --no-lock,
# nothing to restore, unlock.
. "$(dirname "$0")/lib.sh"
need mdb_dump

HEX64='[0-9a-f]{64}'

# seqs_of: the seqs printed by a write command, space separated
seqs_of() {
	awk '{ printf "%s ", $1 }' "$OUT"
}

init_ledger example.com/deploy/rollback

# ---------------------------------------------------------------------
step "a target's history"
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "release 1"
expect_out_match "^2 $HEX64\$"
expect_rc 0 ledger set staging/api image.tag=v2 -m "release 2"
expect_out_match "^3 $HEX64\$"
expect_rc 0 ledger set staging/api extra.flag=on -m "flag"
expect_out_match "^4 $HEX64\$"
expect_rc 0 ledger set staging/api replicas=5 -m "scale"
expect_out_match "^5 $HEX64\$"
expect_rc 0 ledger set prod/api image.tag=p1 -m "prod"
expect_out_match "^6 $HEX64\$"

# ---------------------------------------------------------------------
step "rollback a target (locks by default)"
expect_rc 0 ledger rollback staging/api --to 2 -m "bad v2"
check "rollback prints a rollback and a lock entry" [ "$(seqs_of)" = "7 8 " ]
expect_out_match "^7 $HEX64\$"
expect_out_match "^8 $HEX64\$"
expect_err_match '^rolled back staging/api$'
expect_err_match '^locked staging/api$'
expect_rc 0 ledger show 7 --json
expect_json kind = rollback
expect_json target = staging/api
expect_json reason = "bad v2"
expect_json metadata rollback-to = 2
expect_json_len changes = 3
expect_json changes 0 key = extra.flag
expect_json changes 0 unset = true
expect_json changes 1 key = image.tag
expect_json changes 1 value = v1
expect_json changes 2 key = replicas
expect_json changes 2 value = 2
expect_rc 0 ledger show 8 --json
expect_json kind = lock
expect_json target = staging/api
expect_json reason = "bad v2"
expect_rc 0 ledger get staging/api
expect_out 'image.tag=v1
replicas=2'
expect_rc 1 ledger get staging/api extra.flag
expect_one_line_error
expect_rc 0 ledger state staging/api
expect_out 'staging/api image.tag=v1
staging/api replicas=2
staging/api [locked since seq 8: bad v2]'
expect_rc 0 ledger get prod/api
expect_out 'image.tag=p1'
expect_rc 0 ledger history staging/api
expect_out_match '^7 +[0-9T:-]+ +rollback +-extra\.flag, image\.tag=v1, replicas=2 +admin +bad v2$'
expect_out_match '^8 +[0-9T:-]+ +lock +- +admin +bad v2$'
expect_rc 0 ledger diff 6 8 staging/api
expect_out 'staging/api extra.flag: on -> (unset)
staging/api image.tag: v2 -> v1
staging/api replicas: 5 -> 2
staging/api [lock]: (unset) -> locked'

# ---------------------------------------------------------------------
step "a locked target refuses set and unset"
snapshot locked
expect_rc 1 ledger set staging/api image.tag=v3 -m "pipeline"
expect_one_line_error '^ledger: set: staging/api: .*locked.*seq 8.*bad v2'
expect_rc 1 ledger unset staging/api replicas -m "pipeline"
expect_one_line_error '^ledger: unset: .*locked.*bad v2'
# even a value equal to the current one is no way around the lock check
expect_rc 1 ledger set staging/api image.tag=v3 replicas=2 -m "pipeline"
expect_one_line_error 'locked'
expect_rc 0 ledger lock staging/api -m "again"
expect_no_out
expect_err_match 'already locked'
assert_unchanged locked
# other targets are not locked
expect_rc 0 ledger set prod/api image.tag=p2 -m "prod moves on"
expect_out_match "^9 $HEX64\$"

step "set --force passes the lock and is recorded as forced"
expect_rc 0 ledger set staging/api image.tag=v3 -m "hotfix" --force
expect_out_match "^10 $HEX64\$"
expect_rc 0 ledger show 10 --json
expect_json kind = set
expect_json metadata forced = true
expect_json_len metadata = 1
expect_rc 0 ledger show 10
expect_out_match '^  forced = true$'
expect_rc 0 ledger history staging/api
expect_out_match '^10 +[0-9T:-]+ +set \(forced\) +image\.tag=v3 +admin +hotfix$'
expect_rc 0 ledger state staging/api
expect_out_match '^staging/api \[locked since seq 8: bad v2\]$'
expect_rc 1 ledger set staging/api image.tag=v4 -m "still locked"
expect_one_line_error 'bad v2'
expect_rc 0 ledger unset staging/api replicas -m "forced unset" --force --meta pr=7
expect_out_match "^11 $HEX64\$"
expect_rc 0 ledger show 11 --json
expect_json kind = unset
expect_json metadata forced = true
expect_json metadata pr = 7
# forced is reserved: nobody writes it by hand
expect_rc 2 ledger set staging/api image.tag=v9 -m "sneaky" --meta forced=true
expect_one_line_error 'reserved'
expect_rc 2 ledger rollback staging/api --to 2 -m "sneaky" --meta rollback-to=1
expect_one_line_error 'reserved'

step "rollback of a locked target does not lock it twice"
expect_rc 0 ledger rollback staging/api --to 2 -m "undo the hotfix"
check "only a rollback entry" [ "$(seqs_of)" = "12 " ]
expect_rc 0 ledger show 12 --json
expect_json kind = rollback
expect_json metadata rollback-to = 2
expect_json_len changes = 2
expect_json changes 0 key = image.tag
expect_json changes 0 value = v1
expect_json changes 1 key = replicas
expect_json changes 1 value = 2
expect_rc 0 ledger state staging/api
expect_out 'staging/api image.tag=v1
staging/api replicas=2
staging/api [locked since seq 8: bad v2]'

# ---------------------------------------------------------------------
step "unlock"
expect_rc 0 ledger unlock staging/api -m "v3 fixed"
expect_out_match "^13 $HEX64\$"
expect_rc 0 ledger show 13 --json
expect_json kind = unlock
expect_json reason = "v3 fixed"
expect_rc 0 ledger state staging/api
expect_out 'staging/api image.tag=v1
staging/api replicas=2'
expect_rc 0 ledger set staging/api image.tag=v4 -m "pipeline again"
expect_out_match "^14 $HEX64\$"
expect_rc 0 ledger show 14 --json
expect_json_len metadata = 0
# --force on an unlocked target records nothing special
expect_rc 0 ledger set staging/api image.tag=v5 -m "forced for nothing" --force
expect_out_match "^15 $HEX64\$"
expect_rc 0 ledger show 15 --json
expect_json_len metadata = 0

# ---------------------------------------------------------------------
step "nothing to restore writes nothing"
snapshot same
expect_rc 0 ledger rollback staging/api --to 15 -m "noop"
expect_no_out
expect_err_match 'nothing written'
assert_unchanged same
# the state at 6 had image.tag=v2 ...; at 14 it equals nothing but 14
expect_rc 0 ledger set staging/api image.tag=v4 -m "back to v4"
expect_out_match "^16 $HEX64\$"
snapshot same2
expect_rc 0 ledger rollback staging/api --to 14 -m "same as now"
expect_no_out
expect_err_match 'nothing written'
assert_unchanged same2

# ---------------------------------------------------------------------
step "--no-lock"
expect_rc 0 ledger rollback staging/api --to 3 --no-lock -m "quick undo" --meta ticket=OPS-1
check "--no-lock: one rollback entry, no lock" [ "$(seqs_of)" = "17 " ]
expect_rc 0 ledger show 17 --json
expect_json kind = rollback
expect_json metadata rollback-to = 3
expect_json metadata ticket = OPS-1
expect_json_len changes = 1
expect_json changes 0 key = image.tag
expect_json changes 0 value = v2
expect_rc 0 ledger state staging/api
expect_out 'staging/api image.tag=v2
staging/api replicas=2'
expect_rc 0 ledger set staging/api image.tag=v6 -m "not locked"
expect_out_match "^18 $HEX64\$"

step "rollback to before the target existed unsets everything"
expect_rc 0 ledger rollback staging/api --to 1 -m "remove it all"
check "rollback and lock" [ "$(seqs_of)" = "19 20 " ]
expect_rc 0 ledger show 19 --json
expect_json_len changes = 2
expect_json changes 0 key = image.tag
expect_json changes 0 unset = true
expect_json changes 1 key = replicas
expect_json changes 1 unset = true
expect_rc 1 ledger get staging/api
expect_one_line_error
expect_rc 0 ledger state staging/api
expect_out 'staging/api [locked since seq 20: remove it all]'
expect_rc 0 ledger state staging/api --json
expect_json_len targets staging/api values = 0
expect_json targets staging/api locked seq = 20
expect_rc 0 ledger get prod/api
expect_out 'image.tag=p2'

step "rollback errors change nothing"
snapshot errors
expect_rc 2 ledger rollback staging/api --to 0 -m "zero"
expect_one_line_error
expect_rc 2 ledger rollback staging/api --to 999 -m "future"
expect_one_line_error '999'
expect_rc 2 ledger rollback staging/api --to abc -m "abc"
expect_one_line_error
expect_rc 2 ledger rollback staging/api -m "no to"
expect_one_line_error 'missing --to'
expect_rc 2 ledger rollback staging/api --to 2
expect_one_line_error 'missing -m'
expect_rc 2 ledger rollback nowhere/api --to 2 -m "unknown target"
expect_one_line_error 'nowhere/api'
expect_rc 2 ledger rollback nowhere --to 2 -m "unknown cluster"
expect_one_line_error 'nowhere'
expect_rc 2 ledger rollback staging/api staging/web --to 2 -m "two"
expect_one_line_error
assert_unchanged errors

expect_rc 0 ledger verify
expect_out_match '^ok: 20 entries, head 20 '

# ---------------------------------------------------------------------
step "cluster rollback covers every target that differs"
export LEDGER_DIR=$T/cluster
expect_rc 0 ledger init --origin example.com/deploy/cluster
expect_rc 0 ledger set staging/api tag=a1 -m "api 1"
expect_out_match "^2 "
expect_rc 0 ledger set staging/web tag=w1 -m "web 1"
expect_out_match "^3 "
expect_rc 0 ledger set staging/db tag=d1 -m "db 1"
expect_out_match "^4 "
expect_rc 0 ledger set prod/api tag=p1 -m "prod 1"
expect_out_match "^5 "
expect_rc 0 ledger set staging/api tag=a2 extra=x -m "api 2"
expect_out_match "^6 "
expect_rc 0 ledger set staging/web tag=w2 -m "web 2"
expect_out_match "^7 "
expect_rc 0 ledger set staging/new tag=n1 -m "new release"
expect_out_match "^8 "
expect_rc 0 ledger set prod/api tag=p2 -m "prod 2"
expect_out_match "^9 "
expect_rc 0 ledger set staging-eu/api tag=e1 -m "a cluster whose name starts alike"
expect_out_match "^10 "

expect_rc 0 ledger rollback staging --to 5 -m "staging is broken"
check "a rollback and a lock per differing target" \
	[ "$(seqs_of)" = "11 12 13 14 15 16 " ]
for s in 11 13 15; do
	expect_rc 0 ledger show $s --json
	expect_json kind = rollback
	expect_json metadata rollback-to = 5
	expect_json reason = "staging is broken"
done
for s in 12 14 16; do
	expect_rc 0 ledger show $s --json
	expect_json kind = lock
done
expect_rc 0 ledger show 11 --json
expect_json target = staging/api
expect_json_len changes = 2
expect_json changes 0 key = extra
expect_json changes 0 unset = true
expect_json changes 1 key = tag
expect_json changes 1 value = a1
expect_rc 0 ledger show 13 --json
expect_json target = staging/new
expect_json_len changes = 1
expect_json changes 0 unset = true
expect_rc 0 ledger show 15 --json
expect_json target = staging/web
expect_json changes 0 value = w1
expect_rc 0 ledger state
expect_out 'prod/api tag=p2
staging-eu/api tag=e1
staging/api tag=a1
staging/api [locked since seq 12: staging is broken]
staging/db tag=d1
staging/new [locked since seq 14: staging is broken]
staging/web tag=w1
staging/web [locked since seq 16: staging is broken]'
expect_rc 0 ledger diff 5 16
expect_out 'prod/api tag: p1 -> p2
staging-eu/api tag: (unset) -> e1
staging/api [lock]: (unset) -> locked
staging/new [lock]: (unset) -> locked
staging/web [lock]: (unset) -> locked'
expect_rc 1 ledger set staging/web tag=w3 -m "pipeline"
expect_one_line_error 'staging is broken'

snapshot cluster_same
expect_rc 0 ledger rollback staging --to 16 -m "nothing"
expect_no_out
expect_err_match 'nothing written'
assert_unchanged cluster_same
expect_rc 0 ledger set staging/db tag=d2 -m "db was not rolled back, so not locked"
expect_out_match "^17 "

step "cluster rollback --no-lock"
expect_rc 0 ledger rollback prod --to 5 --no-lock -m "prod back"
check "one entry, no lock" [ "$(seqs_of)" = "18 " ]
expect_rc 0 ledger state prod
expect_out 'prod/api tag=p1'
expect_rc 0 ledger verify --threads 2
expect_out_match '^ok: 18 entries, head 18 '

step "a rollback over more changes than an entry holds"
export LEDGER_DIR=$T/wide
expect_rc 0 ledger init --origin example.com/deploy/wide
K1=() K2=()
for i in $(seq 1 600); do K1+=("k$i=v"); done
for i in $(seq 601 1200); do K2+=("k$i=v"); done
expect_rc 0 ledger set staging/api "${K1[@]}" -m "600 keys"
expect_rc 0 ledger set staging/api "${K2[@]}" -m "600 more"
snapshot wide
# back to seq 1 unsets 1200 keys: more than one entry's 1000
expect_rc 2 ledger rollback staging/api --to 1 -m "too wide"
expect_one_line_error 'staging/api: too many changes to restore \(an entry holds at most 1000\)$'
assert_unchanged wide

finish
