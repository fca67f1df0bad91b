#!/bin/bash
# drift.sh - `ledger apply CLUSTER --check` (issue 14) through the real
# binary, with the stand-in helmfile (fixtures/helmfile) answering `diff`
# per release as $HF_DIFF says: in sync writes nothing; drifted writes one
# drift entry, signed by the applier, with the diff's tail; checking again
# writes nothing; a diff that fails (exit 1) is reported, exits 2 and
# writes nothing; --force, then a check, writes in-sync; a deployer's key
# may not check; --watch --check-every 2 checks after every second
# reconcile; status, history and the mount's DRIFT show it. One ledger.
. "$(dirname "$0")/lib.sh"
need mdb_dump

HEX64='[0-9a-f]{64}'
. "$(dirname "$0")/lib_apply.sh"
trap 'bg_kill; unmount_all' EXIT

export HF_AUTO_RC=0 # the auto batch changes nothing when applied
export HF_DIFF=$T/diff
: >"$HF_DIFF"
TIME='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

check_st() {
	ledger apply staging --check --config-dir "$CFG" --key "$K/app.key" "$@"
}

hf_calls() {
	sed -n 's/^ARGV //p' "$HF_LOG"
}

# the content of the first values file the stand-in received
hf_values1() {
	awk '/^VALUES /{ i++; next } /^END$/{ next }
		i == 1 && /^\| /{ print substr($0, 3) }' "$HF_LOG"
}

# the head's seq, read without verify
head_now() {
	"$TAMPER" "$LEDGER_DIR" count
}

step "a ledger: staging/api and staging/web set and applied"
new_key app "$K"
new_key dep "$K"
init_ledger example.com/deploy/drift
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "the applier"
expect_rc 0 ledger key add "$K/dep.pub" --role deployer --scope '*' -m "CI"
expect_rc 0 ledger set staging/api image.tag=a1 -m "api 1"
expect_rc 0 ledger set staging/web image.tag=w1 -m "web 1"
expect_out_match "^5 $HEX64\$"
expect_rc 0 ledger apply staging --config-dir "$CFG" --key "$K/app.key"
expect_out_match '^staging/web: recorded applied as seq 7$'
: >"$HF_LOG"

step "in sync: nothing recorded, nothing applied"
snapshot insync
expect_rc 0 check_st
expect_out "staging/api: in sync
staging/web: in sync
staging: in sync
staging: 3 in sync, 0 drifted, 0 checks failed, 1 not checked (no values)"
expect_err_match '^notice: staging/db: deployment: manual but no values in the ledger; not checked$'
assert_unchanged insync
check "the exact diff argv: $(hf_calls | tr '\n' ';')" \
	[ "$(hf_calls | sed 's|--values [^ ]*/api.values.yaml|--values API|; s|--values [^ ]*/web.values.yaml|--values WEB|')" = "-f $HFS build
-f $HFS -l name=api diff --values API --detailed-exitcode
-f $HFS -l name=web diff --values WEB --detailed-exitcode
-f $HFS -l deployment=auto diff --detailed-exitcode" ]
check "the values compared are the ledger's" \
	[ "$(hf_values1)" = 'image:
  tag: "a1"' ]

step "drifted: one drift entry, by the applier, with the diff's tail"
echo "name=api 2" >"$HF_DIFF"
export HF_DIFF_LINES=400 # about 14 kB of diff: only the tail is kept
expect_rc 1 check_st
expect_out_match '^staging/api: drifted; recorded drift as seq 8$'
expect_out_match '^staging: 2 in sync, 1 drifted, 0 checks failed, 1 not checked \(no values\)$'
check "one entry" [ "$(head_now)" = 8 ]
expect_rc 0 ledger show 8 --json
out >"$T/d8.json"
check "kind drift" [ "$(jget "$T/d8.json" kind)" = drift ]
check "target staging/api" [ "$(jget "$T/d8.json" target)" = staging/api ]
check "status drifted" \
	[ "$(jget "$T/d8.json" changes 0 key)=$(jget "$T/d8.json" changes 0 value)" = status=drifted ]
check "one change" [ "$(jget "$T/d8.json" changes 1)" = null ]
check "signed by the applier" [ "$(jget "$T/d8.json" signer name)" = app ]
check "checked-seq 7" [ "$(jget "$T/d8.json" metadata checked-seq)" = 7 ]
jget "$T/d8.json" metadata diff >"$T/d8.diff"
check "the diff's tail ends with its last line: $(tail -c 60 "$T/d8.diff")" \
	grep -q 'api, api, Deployment (apps) has changed: | +  replicas: 5$' "$T/d8.diff"
check "at most 4096 bytes ($(($(wc -c <"$T/d8.diff") - 1)))" \
	[ "$(($(wc -c <"$T/d8.diff") - 1))" -le 4096 ]
check "more than a few lines of it" [ "$(wc -c <"$T/d8.diff")" -gt 3000 ]
check "cut at a line boundary: $(head -c 40 "$T/d8.diff")" \
	grep -Eq '^   line [0-9]+ of the diff of api \| ' "$T/d8.diff"
unset HF_DIFF_LINES

step "checked again: still drifted, nothing new"
snapshot again
expect_rc 1 check_st
expect_out_match '^staging/api: drifted since seq 8$'
assert_unchanged again

step "status, history: drifted since 8"
expect_rc 0 ledger status staging/api
expect_out_match "^staging/api +image.tag=a1 .* applied at seq 6; drifted since 8 \($TIME\)\$"
expect_rc 0 ledger status staging --json
out >"$T/st.json"
check "status JSON: api drifted since 8" \
	[ "$(jget "$T/st.json" releases 0 drift status)/$(jget "$T/st.json" releases 0 drift seq)" = drifted/8 ]
check "status JSON: web never checked" [ "$(jget "$T/st.json" releases 1 drift)" = null ]
expect_rc 0 ledger history staging/api
expect_out_match '^8 +[-0-9T:]+ +drifted +status=drifted +app +checked staging/api with helmfile diff \(name=api\): drifted$'

step "a diff that fails is reported, exits 2, records nothing"
printf 'name=api 2\nname=web 1\n' >"$HF_DIFF"
expect_rc 2 check_st
expect_err_match '^warning: staging/web: check failed: helmfile diff exited 1 \(not drift; nothing recorded\): Error: diff of name=web failed: cluster unreachable$'
expect_out_match '^staging: 1 in sync, 1 drifted, 1 check failed, 1 not checked \(no values\)$'
expect_rc 2 check_st --json
out >"$T/c.json"
check "JSON: api drifted since 8, nothing recorded" \
	[ "$(jget "$T/c.json" checks 0 status)/$(jget "$T/c.json" checks 0 since)/$(jget "$T/c.json" checks 0 recorded)" = drifted/8/null ]
check "JSON: web failed with exit 1, never drift" \
	[ "$(jget "$T/c.json" checks 1 status)/$(jget "$T/c.json" checks 1 exit_code)" = failed/1 ]
check "JSON: the auto releases as the cluster" \
	[ "$(jget "$T/c.json" checks 2 target)/$(jget "$T/c.json" checks 2 status)" = staging/in-sync ]
check "JSON: compared at seq 8" [ "$(jget "$T/c.json" head)" = 8 ]
assert_unchanged again

step "a deployer's key may not check: refused, nothing written"
expect_rc 1 ledger apply staging --check --config-dir "$CFG" --key "$K/dep.key"
expect_one_line_error '^ledger: apply: key "dep" has role deployer; ledger apply records its runs with a key of role applier$'
assert_unchanged again

step "usage: --check applies nothing, --check-every needs --watch"
expect_rc 2 check_st --force
expect_one_line_error 'does not mix with --force'
expect_rc 2 ledger apply staging --check-every 2 --config-dir "$CFG" --key "$K/app.key"
expect_one_line_error '\-\-check-every goes with --watch'
expect_rc 2 ledger apply staging --watch --check-every 0 --config-dir "$CFG" --key "$K/app.key"
expect_one_line_error '\-\-check-every takes a number of reconciles'
assert_unchanged again

step "the mount's DRIFT file"
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	M=$T/mnt
	mount_at "$M"
	check "DRIFT: drifted since 8 and the tail: $(head -1 "$M/clusters/staging/api/DRIFT")" \
		grep -Eq "^drifted since 8 $TIME\$" "$M/clusters/staging/api/DRIFT"
	check "DRIFT: the diff's tail on its second line" \
		[ "$(sed -n 2p "$M/clusters/staging/api/DRIFT")" = "$(cat "$T/d8.diff")" ]
	check "DRIFT: listed for api" ls "$M/clusters/staging/api/DRIFT"
	check "no DRIFT for web (never checked)" \
		[ ! -e "$M/clusters/staging/web/DRIFT" ]
	check "no DRIFT under at/" [ ! -e "$M/at/8/clusters/staging/api/DRIFT" ]
else
	echo "(no /dev/fuse: the mount's DRIFT is not checked here)"
fi

step "--force re-applies, the next check records in sync"
: >"$HF_DIFF"
expect_rc 0 ledger apply staging --force --config-dir "$CFG" --key "$K/app.key"
expect_out_match '^staging/api: recorded applied as seq 9$'
expect_rc 0 check_st
expect_out_match '^staging/api: in sync again; recorded drift as seq 11$'
check "one entry more" [ "$(head_now)" = 11 ]
expect_rc 0 ledger show 11 --json
out >"$T/d11.json"
check "status in-sync, no diff" \
	[ "$(jget "$T/d11.json" changes 0 value)/$(jget "$T/d11.json" metadata diff)" = "in-sync/(missing)" ]
expect_rc 0 ledger status staging/api --json
out >"$T/st2.json"
check "status JSON: in-sync since 11" \
	[ "$(jget "$T/st2.json" releases 0 drift status)/$(jget "$T/st2.json" releases 0 drift seq)" = in-sync/11 ]
expect_rc 0 ledger status staging/api
expect_out_nomatch 'drifted'
if [ -n "${M:-}" ]; then
	check "DRIFT: in-sync since 11" \
		wait_for grep -Eq "^in-sync since 11 $TIME\$" "$M/clusters/staging/api/DRIFT"
	check "DRIFT: one line" [ "$(wc -l <"$M/clusters/staging/api/DRIFT")" = 1 ]
	fusermount3 -u "$M" || fail "unmount failed"
fi

step "--watch --check-every 2: a check after every second reconcile"
echo "deployment=auto 2" >"$HF_DIFF"
: >"$HF_LOG"
"$LEDGER" apply staging --watch --interval 1 --check-every 2 --config-dir "$CFG" \
	--key "$K/app.key" >"$T/w.out" 2>"$T/w.err" &
W=$!
echo "$W" >>"$BG"
# polled with a wide deadline: the auto releases' drift entry
wait_until 30000 grep -q '^staging: drifted; recorded drift as seq 12$' "$T/w.out" ||
	fail "--watch --check-every 2 did not record: $(cat "$T/w.out" "$T/w.err")"
kill -TERM "$W"
wait "$W"
check "--watch exits 0 on SIGTERM" [ $? -eq 0 ]
check "two reconciles, then the check's own build, then its diffs: $(hf_calls | awk '{ print $NF }' | tr '\n' ' ')" \
	[ "$(hf_calls | awk '/ diff /{ exit } / build$/{ n++ } END { print n }')" = 3 ]
check "the check says so" grep -q '^staging: checked: 2 in sync, 1 drifted, 0 checks failed$' "$T/w.out"
expect_rc 0 ledger history staging
expect_out_match '^12 +[-0-9T:]+ +drifted +staging +status=drifted +app +checked staging with helmfile diff \(deployment=auto\): drifted$'
expect_rc 0 ledger verify
finish
