#!/bin/bash
# apply.sh - `ledger apply` through the real binary, with a stand-in
# `helmfile` (fixtures/helmfile) first on PATH that logs its argv and the
# values files it gets, answers `build` from a fixture, and fails or hangs
# when told: manual/auto/unlabelled releases and the exact helmfile argv,
# the private values file with every string quoted and typed values
# unquoted, the applied/apply-failed entries, idempotent re-runs and
# retries, helmfile missing or failing, --timeout, --dry-run, who may
# apply, the per-cluster lock, and --watch (a set picked up, retry with
# backoff, SIGTERM); unsets, and writes made while helmfile runs, are
# applied next time.
. "$(dirname "$0")/lib.sh"
need mdb_dump

HEX64='[0-9a-f]{64}'
. "$(dirname "$0")/lib_apply.sh"

# tags a YAML reader would turn into numbers, booleans or null
API_VALUES=(
	image.tag=123456
	image.repository=registry.example.com/api
	tags.sci=1e10
	tags.hex=0x1f
	tags.bool=true
	tags.octal=007
	tags.null=null
	tags.yes=yes
	tags.tilde='~'
	tags.colon='a: b'
	tags.hash='x #y'
	tags.quote='say "hi"'
	tags.space=' lead'
	tags.unicode='grüße'
	resources.limits.cpu=500m
	resources.limits.memory=1Gi
	resources.requests.cpu=0.5
)

# ---- helpers ----

# between N LO HI: LO <= N <= HI
between() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# all_gone PATH...: none of them exists
all_gone() {
	local p
	for p in "$@"; do
		[ ! -e "$p" ] || return 1
	done
}

# pid_file_dead FILE: FILE names a process that is gone
pid_file_dead() {
	[ -s "$1" ] && ! alive "$(cat "$1")"
}

# the stand-in's calls, one argv a line (without "ARGV ")
hf_calls() {
	sed -n 's/^ARGV //p' "$HF_LOG"
}

# hf_count ERE: how many calls match
hf_count() {
	hf_calls | grep -Ec -- "$1"
}

# hf_path N / hf_meta N / hf_values N: path, "mode M dir D" and content
# of the Nth values file the stand-in received
hf_path() {
	awk -v n="$1" '/^VALUES /{ if (++i == n) print $2 }' "$HF_LOG"
}
hf_meta() {
	awk -v n="$1" '/^VALUES /{ if (++i == n) print $3, $4, $5, $6 }' "$HF_LOG"
}
hf_values() {
	awk -v n="$1" '/^VALUES /{ i++; next } /^END$/{ next }
		i == n && /^\| /{ print substr($0, 3) } i == n && /^\|$/{ print "" }' "$HF_LOG"
}

hf_reset() {
	: >"$HF_LOG"
}

# stdout with helmfile durations ("0.0 s") made X
out_norm() {
	sed -E 's/[0-9]+\.[0-9] s\)/X s)/' "$OUT"
}

expect_out_norm() {
	local want=$1 got
	got=$(out_norm)
	[ "$got" = "$want" ] ||
		fail "stdout differs; expected:
$(printf '%s\n' "$want" | sed 's/^/    > /')"
	ok
}

expect_calls() {
	local want=$1 got
	got=$(hf_calls)
	[ "$got" = "$want" ] ||
		fail "helmfile was called differently; expected:
$(printf '%s\n' "$want" | sed 's/^/    > /')
got:
$(printf '%s\n' "$got" | sed 's/^/    < /')"
	ok
}

# the applier, for cluster staging, with the config dir and its key
apply_st() {
	ledger apply staging --config-dir "$CFG" --key "$K/app.key" "$@"
}

# fresh_ledger NAME: a ledger of its own in $T/l-NAME with the keys and
# values every section starts from; the stand-in's log emptied.
#   2 app (applier, *)   3 dep (deployer, *)   4 app_prod (applier, prod/*)
#   5 staging/api API_VALUES   6 staging/web image.tag=w1
#   7 staging/ghost (no such release)   8 staging/worker (auto)
#   9 prod/api image.tag=p1
fresh_ledger() {
	export LEDGER_DIR=$T/l-$1
	expect_rc 0 ledger init --origin "example.com/deploy/apply-$1"
	expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "the applier"
	expect_rc 0 ledger key add "$K/dep.pub" --role deployer --scope '*' -m "CI"
	expect_rc 0 ledger key add "$K/app_prod.pub" --role applier --scope 'prod/*' -m "prod applier"
	expect_rc 0 ledger set staging/api "${API_VALUES[@]}" -m "api 1"
	expect_rc 0 ledger set staging/web image.tag=w1 -m "web 1"
	expect_rc 0 ledger set staging/ghost image.tag=g1 -m "not in the helmfile"
	expect_rc 0 ledger set staging/worker image.tag=latest -m "auto: not used"
	expect_rc 0 ledger set prod/api image.tag=p1 -m "prod 1"
	expect_out_match "^9 $HEX64\$"
	hf_reset
}

# the notices and warning of a staging run with fresh_ledger's values
STAGING_NOTICES="notice: staging/db: deployment: manual but no values in the ledger; left alone (set some with ledger set staging/db image.tag=...)
notice: staging/worker: deployment: auto, so its values file decides; the ledger's values are not used
notice: staging/metrics: no deployment label; left alone
notice: staging/legacy: no deployment label; left alone
notice: staging/ingress: deployment label is neither manual nor auto; left alone
warning: staging/ghost is in the ledger but $HFS has no release ghost"

API_YAML='image:
  repository: "registry.example.com/api"
  tag: "123456"
resources:
  limits:
    cpu: "500m"
    memory: "1Gi"
  requests:
    cpu: "0.5"
tags:
  bool: "true"
  colon: "a: b"
  hash: "x #y"
  hex: "0x1f"
  "null": "null"
  octal: "007"
  quote: "say \"hi\""
  sci: "1e10"
  space: " lead"
  tilde: "~"
  unicode: "grüße"
  "yes": "yes"'

# yaml_strings FILE: FILE parses (PyYAML, YAML 1.1: the strictest about
# yes/no/on/off) to exactly the values set, every leaf a string
yaml_strings() {
	python3 - "$1" <<'PY'
import sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    got = yaml.safe_load(f)
want = {
    "image": {"repository": "registry.example.com/api", "tag": "123456"},
    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"},
                  "requests": {"cpu": "0.5"}},
    "tags": {"sci": "1e10", "hex": "0x1f", "bool": "true", "octal": "007",
             "null": "null", "yes": "yes", "tilde": "~", "colon": "a: b",
             "hash": "x #y", "quote": 'say "hi"', "space": " lead",
             "unicode": "grüße"},
}
def leaves(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, str):
                sys.exit("key %r at %s is not a string" % (k, path))
            leaves(x, path + "." + k)
    elif not isinstance(v, str):
        sys.exit("%s is %s %r, not a string" % (path, type(v).__name__, v))
leaves(got)
if got != want:
    sys.exit("parsed values differ: %r" % (got,))
PY
}

# snap NAME: snapshot, for assert_unchanged. The applier's lock file
# (apply-CLUSTER.lock beside data.mdb) is no ledger content: it appears
# with the first applier and stays, so it is there before the snapshot.
snap() {
	: >>"$LEDGER_DIR/apply-staging.lock"
	snapshot "$1"
}

# signer_of SEQ: the key name that signed entry SEQ
signer_of() {
	"$LEDGER" show "$1" --json >"$T/.signer.json" 2>/dev/null
	jget "$T/.signer.json" signer name
}

# keys: the admin (only key in the key directory, signs the sets), an
# applier, a deployer, an applier for prod only
init_ledger example.com/deploy/apply
for n in app dep app_prod; do
	new_key "$n"
done

# ---------------------------------------------------------------------
sec_discover() {
	fresh_ledger discover
	step "manual, auto and unlabelled releases"
	expect_rc 0 apply_st
	expect_out_norm "staging/api: applied (seq 9, X s)
staging/api: recorded applied as seq 10
staging/web: applied (seq 9, X s)
staging/web: recorded applied as seq 11
staging: 2 auto releases applied, changes made (X s)
staging: recorded applied as seq 12
staging: 3 applied, 0 failed, 0 up to date, 4 left alone"
	expect_err "$STAGING_NOTICES"
	VP1=$(hf_path 1)
	VP2=$(hf_path 2)
	check "api's values file is in a private ledger-apply-* directory of \$TMPDIR ($VP1)" \
		grep -Eqx "$TMPDIR/ledger-apply-[A-Za-z0-9]{6}/api\.values\.yaml" <<<"$VP1"
	check "web's values file is beside it ($VP2)" \
		[ "$VP2" = "$(dirname "$VP1")/web.values.yaml" ]
	expect_calls "-f $HFS build
-f $HFS -l name=api apply --values $VP1
-f $HFS -l name=web apply --values $VP2
-f $HFS -l deployment=auto apply --detailed-exitcode"
	check "exactly two values files went to helmfile" \
		[ "$(grep -c '^VALUES ' "$HF_LOG")" -eq 2 ]

	step "the values files"
	check "api's values file: mode 0600 in a 0700 directory (got: $(hf_meta 1))" \
		[ "$(hf_meta 1)" = "mode 600 dir 700" ]
	check "web's values file: mode 0600 in a 0700 directory (got: $(hf_meta 2))" \
		[ "$(hf_meta 2)" = "mode 600 dir 700" ]
	check "the values files are removed after the run" \
		all_gone "$VP1" "$VP2"
	check "so is their directory" [ ! -e "$(dirname "$VP1")" ]
	check "nothing is left in \$TMPDIR: $(ls -A "$TMPDIR")" \
		[ -z "$(ls -A "$TMPDIR")" ]
	hf_values 1 >"$T/api.values.yaml"
	check "api's values: nested from dotted keys, every value double-quoted:
$(sed 's/^/    < /' "$T/api.values.yaml")" \
		[ "$(cat "$T/api.values.yaml")" = "$API_YAML" ]
	check "web's values: $(hf_values 2)" \
		[ "$(hf_values 2)" = 'image:
  tag: "w1"' ]
	if python3 -c 'import yaml' 2>/dev/null; then
		check "a YAML reader gets strings back (see above)" \
			yaml_strings "$T/api.values.yaml"
	fi

	step "applied entries, signed by the applier"
	expect_rc 0 ledger key list
	expect_out_match '^app +[0-9a-f]{8} +applier +2 +- +\*$'
	expect_rc 0 ledger show 10 --json
	expect_json kind = applied
	expect_json target = staging/api
	expect_json signer name = app
	expect_json reason = "applied staging/api with helmfile (name=api)"
	expect_json_len metadata = 3
	expect_json metadata desired-seq = 9
	expect_json metadata exit-code = 0
	check "duration-ms is a number of ms: $(jget "$OUT" metadata duration-ms)" \
		grep -Eqx '[0-9]+' <<<"$(jget "$OUT" metadata duration-ms)"
	# the values applied, as in the ledger
	expect_json_len changes = ${#API_VALUES[@]}
	expect_json changes 0 key = image.repository
	expect_json changes 0 value = registry.example.com/api
	expect_json changes 1 key = image.tag
	expect_json changes 1 value = 123456
	expect_rc 0 ledger show 11 --json
	expect_json kind = applied
	expect_json target = staging/web
	expect_json signer name = app
	expect_json metadata desired-seq = 9
	expect_json_len changes = 1
	expect_json changes 0 value = w1
	# the auto batch is recorded against the cluster, without values
	expect_rc 0 ledger show 12 --json
	expect_json kind = applied
	expect_json target = staging
	expect_json signer name = app
	expect_json reason = "applied staging with helmfile (deployment=auto)"
	expect_json metadata exit-code = 2
	expect_json metadata desired-seq = 9
	expect_json_len changes = 0
	expect_rc 0 ledger history staging/api
	expect_out_match '^5 +[0-9T:-]+ +set, deployed +image\.repository=registry\.example\.com/api, image\.tag=123456, .* admin +api 1$'
	expect_out_match '^10 +[0-9T:-]+ +deployed +.* app +applied staging/api with helmfile \(name=api\)$'
	check "history staging/api: a header and two revisions" [ "$(out_lines)" -eq 3 ]
	expect_rc 0 ledger history staging/ghost
	expect_out_match '^7 +[0-9T:-]+ +set +image\.tag=g1 +admin +not in the helmfile$'
	expect_rc 0 ledger verify
	expect_out_match '^ok: 12 entries, head 12 '

	step "nested helmfiles: every document of the build output counts"
	# above, cron (auto) and ingress came from the second document; here
	# the only manual release is in the last of three
	cat >"$T/nested.yaml" <<-EOF
	---
	#  Source: $HFS

	filepath: $HFS
	helmfiles:
	- path: ../../common/helmfile.yaml
	- path: ../../teams/helmfile.yaml

	---
	#  Source: ../../common/helmfile.yaml

	filepath: ../../common/helmfile.yaml
	releases: []

	---
	#  Source: ../../teams/helmfile.yaml

	filepath: ../../teams/helmfile.yaml
	releases:
	- name: web
	  namespace: apps
	  labels:
	    deployment: manual
	EOF
	expect_rc 0 ledger set staging/web image.tag=w2 -m "web 2"
	expect_out_match "^13 $HEX64\$"
	hf_reset
	HF_BUILD=$T/nested.yaml expect_rc 0 apply_st
	expect_out_norm "staging/web: applied (seq 13, X s)
staging/web: recorded applied as seq 14
staging: 1 applied, 0 failed, 0 up to date, 0 left alone"
	expect_calls "-f $HFS build
-f $HFS -l name=web apply --values $(hf_path 1)"
	expect_err_match '^warning: staging/api is in the ledger but .* has no release api$'
}

# ---------------------------------------------------------------------
sec_auto() {
	fresh_ledger auto
	step "auto batch: exit 0 (nothing changed) records nothing"
	# first the manual releases, so that only the batch is left
	HF_AUTO_RC=0 expect_rc 0 apply_st
	check "auto batch, exit 0: not recorded" \
		[ "$(out_norm | grep -c 'recorded')" -eq 2 ]
	expect_out_norm "staging/api: applied (seq 9, X s)
staging/api: recorded applied as seq 10
staging/web: applied (seq 9, X s)
staging/web: recorded applied as seq 11
staging: 2 auto releases already current (X s)
staging: 2 applied, 0 failed, 1 up to date, 4 left alone"
	snap quiet
	hf_reset
	HF_AUTO_RC=0 expect_rc 0 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 10)
staging/web: up to date (applied at seq 11)
staging: 2 auto releases already current (X s)
staging: 0 applied, 0 failed, 3 up to date, 4 left alone"
	expect_calls "-f $HFS build
-f $HFS -l deployment=auto apply --detailed-exitcode"
	assert_unchanged quiet

	step "auto batch: exit 2 (changes made) records applied for the cluster"
	HF_AUTO_RC=2 expect_rc 0 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 10)
staging/web: up to date (applied at seq 11)
staging: 2 auto releases applied, changes made (X s)
staging: recorded applied as seq 12
staging: 1 applied, 0 failed, 2 up to date, 4 left alone"
	expect_rc 0 ledger show 12 --json
	expect_json kind = applied
	expect_json target = staging
	expect_json metadata exit-code = 2
	expect_json metadata desired-seq = 11
	expect_json_len metadata = 3

	step "auto batch: another exit records apply-failed, exit 1"
	HF_AUTO_RC=1 expect_rc 1 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 10)
staging/web: up to date (applied at seq 11)
staging: recorded apply-failed as seq 13
staging: 0 applied, 1 failed, 2 up to date, 4 left alone"
	expect_err_match '^warning: auto releases: helmfile failed \(exit 1\): Error: auto batch failed \(rc 1\)$'
	expect_rc 0 ledger show 13 --json
	expect_json kind = apply-failed
	expect_json target = staging
	expect_json signer name = app
	expect_json reason = "failed to apply staging with helmfile (deployment=auto)"
	expect_json metadata exit-code = 1
	expect_json metadata desired-seq = 12
	expect_json metadata output-tail = "Error: auto batch failed (rc 1)"
	expect_json_len metadata = 4
	HF_AUTO_RC=3 expect_rc 1 apply_st
	expect_rc 0 ledger show 14 --json
	expect_json kind = apply-failed
	expect_json metadata exit-code = 3
	expect_json metadata output-tail = "Error: auto batch failed (rc 3)"

	step "a helmfile without auto releases runs no batch"
	hf_reset
	HF_BUILD=$FIX/build-prod.yaml expect_rc 0 ledger apply prod \
		--config-dir "$CFG" --key "$K/app.key"
	expect_out_norm "prod/api: applied (seq 14, X s)
prod/api: recorded applied as seq 15
prod: 1 applied, 0 failed, 0 up to date, 0 left alone"
	expect_calls "-f $HFP build
-f $HFP -l name=api apply --values $(hf_path 1)"
	check "prod's values: $(hf_values 1)" \
		[ "$(hf_values 1)" = 'image:
  tag: "p1"' ]
}

# ---------------------------------------------------------------------
sec_idempotent() {
	fresh_ledger idem
	export HF_AUTO_RC=0
	expect_rc 0 apply_st
	expect_out_match '^staging/api: recorded applied as seq 10$'
	expect_out_match '^staging/web: recorded applied as seq 11$'

	step "a second run applies nothing manual"
	snap second
	hf_reset
	expect_rc 0 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 10)
staging/web: up to date (applied at seq 11)
staging: 2 auto releases already current (X s)
staging: 0 applied, 0 failed, 3 up to date, 4 left alone"
	check "no manual release was applied: $(hf_calls)" \
		[ "$(hf_count 'name=')" -eq 0 ]
	assert_unchanged second

	step "a set re-applies that release only"
	expect_rc 0 ledger set staging/api image.tag=v2 -m "api 2"
	expect_out_match "^12 $HEX64\$"
	hf_reset
	expect_rc 0 apply_st
	expect_out_norm "staging/api: applied (seq 12, X s)
staging/api: recorded applied as seq 13
staging/web: up to date (applied at seq 11)
staging: 2 auto releases already current (X s)
staging: 1 applied, 0 failed, 2 up to date, 4 left alone"
	expect_calls "-f $HFS build
-f $HFS -l name=api apply --values $(hf_path 1)
-f $HFS -l deployment=auto apply --detailed-exitcode"
	check "the new tag is applied, the rest as before" \
		[ "$(hf_values 1)" = "$(sed 's/^  tag: "123456"$/  tag: "v2"/' <<<"$API_YAML")" ]
	expect_rc 0 ledger show 13 --json
	expect_json metadata desired-seq = 12
	expect_json changes 1 key = image.tag
	expect_json changes 1 value = v2

	step "a failed release is retried on the next run, without a change"
	expect_rc 0 ledger set staging/web image.tag=w2 -m "web 2"
	expect_out_match "^14 $HEX64\$"
	# helmfile's output goes into the entry: a bidi override in it
	# becomes one '?', as writers refuse them (format.md section 14)
	HF_FAIL=web HF_FAIL_TEXT=$'hook: ok\xe2\x80\xaeliaf' expect_rc 1 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 13)
staging/web: recorded apply-failed as seq 15
staging: 2 auto releases already current (X s)
staging: 0 applied, 1 failed, 2 up to date, 4 left alone"
	expect_rc 0 ledger show 15 --json
	jget "$OUT" metadata output-tail | grep -q 'hook: ok?liaf$' ||
		fail "apply-failed output-tail: $(jget "$OUT" metadata output-tail)"
	ok
	hf_reset
	expect_rc 0 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 13)
staging/web: applied (seq 15, X s)
staging/web: recorded applied as seq 16
staging: 2 auto releases already current (X s)
staging: 1 applied, 0 failed, 2 up to date, 4 left alone"
	check "web retried with w2" [ "$(hf_values 1)" = 'image:
  tag: "w2"' ]
	check "only web: $(hf_calls)" [ "$(hf_count 'name=')" -eq 1 ]
	hf_reset
	expect_rc 0 apply_st
	check "and then it is current: $(hf_calls)" [ "$(hf_count 'name=')" -eq 0 ]

	step "--force re-applies current releases"
	hf_reset
	expect_rc 0 apply_st --force
	expect_out_norm "staging/api: applied (seq 16, X s)
staging/api: recorded applied as seq 17
staging/web: applied (seq 16, X s)
staging/web: recorded applied as seq 18
staging: 2 auto releases already current (X s)
staging: 2 applied, 0 failed, 1 up to date, 4 left alone"
	check "both applied: $(hf_calls)" [ "$(hf_count 'name=(api|web) apply --values')" -eq 2 ]
	expect_rc 0 ledger show 18 --json
	expect_json metadata desired-seq = 16
	expect_rc 0 ledger history staging/web
	expect_out_match '^14 +[0-9T:-]+ +set, deployed +image\.tag=w2 +admin +web 2$'
	expect_out_match '^15 +[0-9T:-]+ +failed +image\.tag=w2 +app +failed to apply staging/web with helmfile \(name=web\)$'
	expect_out_match '^16 +[0-9T:-]+ +deployed +image\.tag=w2 +app '
	expect_out_match '^18 +[0-9T:-]+ +deployed +image\.tag=w2 +app '
	expect_rc 0 ledger verify
	expect_out_match '^ok: 18 entries, head 18 '

	step "typed values reach helmfile unquoted, strings quoted"
	expect_rc 0 ledger set staging/web replicas:=3 featureFlags.checkout:=false \
		featureFlags.label=false 'args:=["--port",8080,true,null,1.5,1e300]' -m "web typed"
	expect_out_match "^19 $HEX64\$"
	hf_reset
	expect_rc 0 apply_st
	expect_out_match '^staging/web: recorded applied as seq 20$'
	hf_values 1 >"$T/web.values.yaml"
	check "web's values file: $(hf_values 1)" [ "$(hf_values 1)" = 'args: ["--port", 8080, true, null, 1.5, 1.0e+300]
featureFlags:
  checkout: false
  label: "false"
image:
  tag: "w2"
replicas: 3' ]
	if python3 -c 'import yaml' 2>/dev/null; then
		run python3 -c 'import json, sys, yaml
print(json.dumps(yaml.safe_load(open(sys.argv[1])), sort_keys=True))' "$T/web.values.yaml"
		expect_out '{"args": ["--port", 8080, true, null, 1.5, 1e+300], "featureFlags": {"checkout": false, "label": "false"}, "image": {"tag": "w2"}, "replicas": 3}'
	fi
	# the applied entry records what was applied, typed as in the ledger
	expect_rc 0 ledger show 20 --json
	expect_json changes 2 key = featureFlags.label
	expect_json_value changes 2 value = '"false"'
	expect_json changes 1 key = featureFlags.checkout
	expect_json_value changes 1 value = false
	expect_json changes 4 key = replicas
	expect_json_value changes 4 value = 3
	expect_rc 0 ledger verify
	expect_out_match '^ok: 20 entries, head 20 '
}

# ---------------------------------------------------------------------
sec_failure() {
	fresh_ledger fail
	step "one release fails: exit 1, the others still applied"
	HF_FAIL=api expect_rc 1 apply_st
	expect_out_norm "staging/api: recorded apply-failed as seq 10
staging/web: applied (seq 9, X s)
staging/web: recorded applied as seq 11
staging: 2 auto releases applied, changes made (X s)
staging: recorded applied as seq 12
staging: 2 applied, 1 failed, 0 up to date, 4 left alone"
	expect_err_match '^warning: staging/api: helmfile failed \(exit 1\): Error: UPGRADE FAILED: release api failed \| stand-in: context deadline exceeded for api$'
	expect_calls "-f $HFS build
-f $HFS -l name=api apply --values $(hf_path 1)
-f $HFS -l name=web apply --values $(hf_path 2)
-f $HFS -l deployment=auto apply --detailed-exitcode"
	check "the failed run's values file is removed too" [ ! -e "$(hf_path 1)" ]
	expect_rc 0 ledger show 10 --json
	expect_json kind = apply-failed
	expect_json target = staging/api
	expect_json signer name = app
	expect_json reason = "failed to apply staging/api with helmfile (name=api)"
	expect_json_len metadata = 4
	expect_json metadata desired-seq = 9
	expect_json metadata exit-code = 1
	expect_json metadata output-tail = "Error: UPGRADE FAILED: release api failed | stand-in: context deadline exceeded for api"
	expect_json_len changes = ${#API_VALUES[@]}
	expect_rc 0 ledger history staging/api
	expect_out_match '^5 +[0-9T:-]+ +set, failed +image\.repository='
	expect_out_match '^10 +[0-9T:-]+ +failed +image\.repository=.* app +failed to apply staging/api with helmfile \(name=api\)$'
	expect_rc 0 ledger show 10
	expect_out_match '^  output-tail = Error: UPGRADE FAILED: release api failed \| stand-in: context deadline exceeded for api$'

	step "the retry succeeds and history says deployed"
	hf_reset
	HF_AUTO_RC=0 expect_rc 0 apply_st
	expect_out_norm "staging/api: applied (seq 12, X s)
staging/api: recorded applied as seq 13
staging/web: up to date (applied at seq 11)
staging: 2 auto releases already current (X s)
staging: 1 applied, 0 failed, 2 up to date, 4 left alone"
	expect_rc 0 ledger history staging/api
	expect_out_match '^5 +[0-9T:-]+ +set, deployed +image\.repository='
	expect_out_match '^13 +[0-9T:-]+ +deployed +'

	step "every manual release failing"
	expect_rc 0 ledger set staging/web image.tag=w3 -m "web 3"
	expect_out_match "^14 $HEX64\$"
	HF_FAIL=web HF_AUTO_RC=5 expect_rc 1 apply_st
	expect_out_norm "staging/api: up to date (applied at seq 13)
staging/web: recorded apply-failed as seq 15
staging: recorded apply-failed as seq 16
staging: 0 applied, 2 failed, 1 up to date, 4 left alone"
	expect_rc 0 ledger verify
	expect_out_match '^ok: 16 entries, head 16 '
}

# ---------------------------------------------------------------------
sec_environment() {
	fresh_ledger env
	snap env

	step "helmfile not on PATH: exit 2, saying how to point at it"
	run env PATH=/nonexistent "$LEDGER" apply staging --config-dir "$CFG" --key "$K/app.key"
	[ "$RC" -eq 2 ] || fail "expected exit code 2, got $RC"
	ok
	expect_one_line_error '^ledger: apply: helmfile not found on PATH: install it, or set HELMFILE=/path/to/helmfile$'
	expect_no_out
	run env PATH= "$LEDGER" apply staging --config-dir "$CFG" --key "$K/app.key"
	[ "$RC" -eq 2 ] || fail "empty PATH: expected exit code 2, got $RC"
	ok
	expect_one_line_error 'HELMFILE'
	# a helmfile that is not executable is passed over
	mkdir -p "$T/noexec"
	cp "$FIX/helmfile" "$T/noexec/helmfile"
	chmod 644 "$T/noexec/helmfile"
	run env PATH="$T/noexec:/nonexistent" "$LEDGER" apply staging --config-dir "$CFG" --key "$K/app.key"
	[ "$RC" -eq 2 ] || fail "non-executable helmfile: expected exit code 2, got $RC"
	ok
	expect_one_line_error 'HELMFILE'

	step "HELMFILE pointing nowhere: exit 2 naming it"
	HELMFILE=$T/nowhere/helmfile expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: HELMFILE=$T/nowhere/helmfile: No such file or directory\$"
	HELMFILE=$T/noexec/helmfile expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: HELMFILE=$T/noexec/helmfile: Permission denied\$"
	check "helmfile never ran" [ ! -s "$HF_LOG" ]
	assert_unchanged env

	step "HELMFILE is used, and wins over PATH"
	mkdir -p "$T/alt"
	cp "$FIX/helmfile" "$T/alt/helmfile-0.169"
	chmod 755 "$T/alt/helmfile-0.169"
	run env PATH="$T/noexec:/usr/bin:/bin" HELMFILE="$T/alt/helmfile-0.169" \
		"$LEDGER" apply staging --config-dir "$CFG" --key "$K/app.key" --dry-run
	[ "$RC" -eq 0 ] || fail "expected exit code 0, got $RC"
	ok
	expect_out_match "^$T/alt/helmfile-0\\.169 -f $HFS -l name=api apply --values "
	HELMFILE=$T/alt/helmfile-0.169 expect_rc 0 apply_st --dry-run
	expect_out_match "^$T/alt/helmfile-0\\.169 -f $HFS -l deployment=auto apply --detailed-exitcode\$"
	# an empty HELMFILE is as if unset
	HELMFILE= expect_rc 0 apply_st --dry-run
	expect_out_match "^$BIN -f $HFS -l deployment=auto apply --detailed-exitcode\$"
	hf_reset
	run env PATH=/nonexistent HELMFILE="$T/alt/helmfile-0.169" \
		"$LEDGER" apply staging --config-dir "$CFG" --key "$K/app.key"
	[ "$RC" -eq 0 ] || fail "expected exit code 0, got $RC"
	ok
	expect_out_match '^staging: 3 applied, 0 failed, 0 up to date, 4 left alone$'
	check "the HELMFILE binary ran: $(hf_calls | head -1)" [ "$(hf_count .)" -eq 4 ]

	step "helmfile build fails: exit 2, nothing applied or recorded"
	fresh_ledger env2
	snap build
	HF_BUILD_FAIL=1 expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: helmfile build failed: in \\./helmfile\\.yaml: failed to render: template: bad\$"
	expect_no_out
	expect_calls "-f $HFS build"

	step "unparseable build output: exit 2 naming the file"
	hf_reset
	HF_BUILD=$FIX/build-unparseable.yaml expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: helmfile build printed YAML that does not parse \\(line [0-9]+: .+\\)\$"
	expect_calls "-f $HFS build"
	hf_reset
	HF_BUILD=$FIX/build-badname.yaml expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: document 1: a release has no valid name \\(1-53 of a-z, 0-9 and inner '-'\\)\$"
	check "not even the valid release was applied" [ "$(hf_calls)" = "-f $HFS build" ]
	HF_BUILD=/dev/null expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: helmfile build printed no state\$"
	printf -- '---\n- name: api\n' >"$T/list.yaml"
	HF_BUILD=$T/list.yaml expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: document 1 of helmfile build is not a mapping\$"
	printf -- '---\nreleases:\n  api: {}\n' >"$T/map.yaml"
	HF_BUILD=$T/map.yaml expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: document 1: releases is not a list\$"
	printf -- '---\nfilepath: a\n---\nreleases:\n- name: api\n  labels: manual\n' >"$T/labels.yaml"
	HF_BUILD=$T/labels.yaml expect_rc 2 apply_st
	expect_one_line_error "^ledger: apply: $HFS: release api: labels is not a mapping\$"
	assert_unchanged build

	step "no helmfile.yaml for the cluster: exit 2, helmfile not run"
	hf_reset
	expect_rc 2 ledger apply nowhere --config-dir "$CFG" --key "$K/app.key"
	expect_one_line_error "^ledger: apply: no helmfile at $CFG/clusters/nowhere/helmfile\\.yaml \\(use --helmfile FILE or --config-dir DIR\\)\$"
	expect_rc 2 apply_st --helmfile "$T/none.yaml"
	expect_one_line_error "^ledger: apply: no helmfile at $T/none\\.yaml "
	expect_rc 2 apply_st --helmfile "$CFG"
	expect_one_line_error "no helmfile at $CFG "
	check "helmfile never ran" [ ! -s "$HF_LOG" ]

	step "which helmfile.yaml: --helmfile, --config-dir, \$LEDGER_CONFIG_DIR, ."
	mkdir -p "$T/cfg2/clusters/staging"
	cp "$FIX/helmfile.yaml" "$T/cfg2/clusters/staging/helmfile.yaml"
	cp "$FIX/helmfile.yaml" "$T/other.yaml"
	hf_reset
	expect_rc 0 ledger apply staging --config-dir "$CFG" --dry-run
	check "--config-dir: $(hf_calls)" [ "$(hf_calls)" = "-f $HFS build" ]
	hf_reset
	LEDGER_CONFIG_DIR=$T/cfg2 expect_rc 0 ledger apply staging --dry-run
	check "\$LEDGER_CONFIG_DIR: $(hf_calls)" \
		[ "$(hf_calls)" = "-f $T/cfg2/clusters/staging/helmfile.yaml build" ]
	expect_out_match "^$BIN -f $T/cfg2/clusters/staging/helmfile\\.yaml -l name=api apply --values "
	hf_reset
	LEDGER_CONFIG_DIR=$T/cfg2 expect_rc 0 ledger apply staging --config-dir "$CFG" --dry-run
	check "--config-dir wins over \$LEDGER_CONFIG_DIR: $(hf_calls)" \
		[ "$(hf_calls)" = "-f $HFS build" ]
	hf_reset
	LEDGER_CONFIG_DIR=$T/cfg2 expect_rc 0 ledger apply staging --config-dir "$CFG" --helmfile "$T/other.yaml" --dry-run
	check "--helmfile wins over both: $(hf_calls)" \
		[ "$(hf_calls)" = "-f $T/other.yaml build" ]
	expect_out_match "^$BIN -f $T/other\\.yaml -l deployment=auto apply --detailed-exitcode\$"
	hf_reset
	(cd "$CFG" && "$LEDGER" apply staging --dry-run >"$OUT" 2>"$ERR")
	RC=$?
	[ "$RC" -eq 0 ] || fail "from the config dir: expected exit 0, got $RC"
	ok
	check "neither: the working directory: $(hf_calls)" \
		[ "$(hf_calls)" = "-f ./clusters/staging/helmfile.yaml build" ]
	LEDGER_CONFIG_DIR= expect_rc 2 ledger apply staging --dry-run
	expect_one_line_error "no helmfile at \\./clusters/staging/helmfile\\.yaml "

	step "usage errors: exit 2"
	snap usage
	hf_reset
	expect_rc 2 ledger apply
	expect_one_line_error 'expected one CLUSTER'
	expect_rc 2 ledger apply staging prod --config-dir "$CFG"
	expect_one_line_error 'expected one CLUSTER'
	expect_rc 2 ledger apply Staging --config-dir "$CFG"
	expect_one_line_error 'Staging'
	expect_rc 2 ledger apply staging/api --config-dir "$CFG"
	expect_one_line_error
	expect_rc 2 apply_st --interval 5
	expect_one_line_error '\-\-interval goes with --watch'
	expect_rc 2 apply_st --watch --dry-run
	expect_one_line_error 'do not mix'
	expect_rc 2 apply_st --timeout abc
	expect_one_line_error '\-\-timeout takes a number of seconds'
	expect_rc 2 apply_st --timeout -1
	expect_one_line_error '\-\-timeout takes a number of seconds'
	expect_rc 2 apply_st --watch --interval 0
	expect_one_line_error '\-\-interval must be > 0'
	expect_rc 2 apply_st --bogus
	expect_one_line_error 'unknown option'
	check "helmfile never ran" [ ! -s "$HF_LOG" ]
	assert_unchanged usage

	step "no signing key: exit 2 before helmfile runs"
	XDG_CONFIG_HOME=$T/nokeys expect_rc 2 ledger apply staging --config-dir "$CFG"
	expect_one_line_error 'no signing key'
	check "helmfile never ran" [ ! -s "$HF_LOG" ]
	assert_unchanged usage
}

# ---------------------------------------------------------------------
sec_timeout() {
	fresh_ledger timeout
	step "--timeout kills a hanging helmfile and records it"
	local t0 t1
	t0=$(now_ms)
	HF_HANG=api expect_rc 1 apply_st --timeout 2
	t1=$(now_ms)
	check "stopped after 2 s, well before the hang's 60 (took $((t1 - t0)) ms)" \
		between $((t1 - t0)) 2000 30000
	expect_err_match '^warning: staging/api: helmfile timed out after 2 s and was stopped$'
	expect_out_norm "staging/api: recorded apply-failed as seq 10
staging/web: applied (seq 9, X s)
staging/web: recorded applied as seq 11
staging: 2 auto releases applied, changes made (X s)
staging: recorded applied as seq 12
staging: 2 applied, 1 failed, 0 up to date, 4 left alone"
	check "the hung helmfile's child was killed too (process group)" \
		pid_file_dead "$HF_LOG.sleep-pid"
	check "the values file is removed" [ ! -e "$(hf_path 1)" ]
	expect_rc 0 ledger show 10 --json
	expect_json kind = apply-failed
	expect_json target = staging/api
	expect_json metadata timed-out = true
	expect_json metadata exit-code = 143
	expect_json metadata desired-seq = 9
	# nothing on stderr: the tail is what it printed on stdout
	expect_json metadata output-tail = "Upgrading release=api"
	local ms
	ms=$(jget "$OUT" metadata duration-ms)
	check "duration-ms 2000 or more, not 60000 (got $ms)" between "$ms" 2000 30000
	expect_rc 0 ledger history staging/api
	expect_out_match '^5 +[0-9T:-]+ +set, failed '
	# web was recorded as usual: no timed-out there
	expect_rc 0 ledger show 11 --json
	expect_json_len metadata = 3
}

# ---------------------------------------------------------------------
sec_dry_run() {
	fresh_ledger dry
	snap dry
	step "--dry-run prints the commands and values, needs no key"
	XDG_CONFIG_HOME=$T/nokeys expect_rc 0 ledger apply staging --config-dir "$CFG" --dry-run
	VP1=$(sed -n "s|^$BIN -f $HFS -l name=api apply --values ||p" "$OUT")
	VP2=$(sed -n "s|^$BIN -f $HFS -l name=web apply --values ||p" "$OUT")
	check "api's values file is in a private ledger-apply-* directory ($VP1)" \
		grep -Eqx "$TMPDIR/ledger-apply-[A-Za-z0-9]{6}/api\.values\.yaml" <<<"$VP1"
	check "web's beside it ($VP2)" [ "$VP2" = "$(dirname "$VP1")/web.values.yaml" ]
	expect_out "$BIN -f $HFS -l name=api apply --values $VP1
# $VP1 (values of staging/api at seq 9)
$API_YAML

$BIN -f $HFS -l name=web apply --values $VP2
# $VP2 (values of staging/web at seq 9)
image:
  tag: \"w1\"

$BIN -f $HFS -l deployment=auto apply --detailed-exitcode
staging: 0 applied, 0 failed, 0 up to date, 4 left alone (dry run)"
	expect_err "$STAGING_NOTICES"
	expect_calls "-f $HFS build"
	check "the values files are not left behind" \
		all_gone "$VP1" "$(dirname "$VP1")"
	check "nothing in \$TMPDIR: $(ls -A "$TMPDIR")" [ -z "$(ls -A "$TMPDIR")" ]
	assert_unchanged dry

	step "--dry-run with a key that may not record still only prints"
	hf_reset
	expect_rc 0 ledger apply staging --config-dir "$CFG" --dry-run --key "$K/dep.key"
	expect_calls "-f $HFS build"
	assert_unchanged dry

	step "--dry-run after an apply: only what is not current"
	HF_AUTO_RC=0 expect_rc 0 apply_st
	snap dry2
	hf_reset
	expect_rc 0 apply_st --dry-run
	expect_out "staging/api: up to date (applied at seq 10)
staging/web: up to date (applied at seq 11)
$BIN -f $HFS -l deployment=auto apply --detailed-exitcode
staging: 0 applied, 0 failed, 2 up to date, 4 left alone (dry run)"
	expect_calls "-f $HFS build"
	assert_unchanged dry2
	# and with --force, what --force would run
	expect_rc 0 apply_st --dry-run --force
	expect_out_match "^$BIN -f $HFS -l name=api apply --values "
	expect_out_match "^# .*/api\\.values\\.yaml \\(values of staging/api at seq 11\\)\$"
	expect_calls "-f $HFS build
-f $HFS build"
	assert_unchanged dry2
}

# ---------------------------------------------------------------------
sec_auth() {
	fresh_ledger auth
	snap auth
	step "a deployer key may not record applies: refused before helmfile applies"
	expect_rc 1 ledger apply staging --config-dir "$CFG" --key "$K/dep.key"
	expect_one_line_error '^ledger: apply: key "dep" has role deployer; ledger apply records its runs with a key of role applier$'
	expect_no_out
	expect_calls ""
	check "no values file was handed out" [ "$(grep -c '^VALUES' "$HF_LOG")" -eq 0 ]
	check "nothing left in \$TMPDIR: $(ls -A "$TMPDIR")" [ -z "$(ls -A "$TMPDIR")" ]
	assert_unchanged auth

	step "an applier for prod may not apply staging"
	hf_reset
	expect_rc 1 ledger apply staging --config-dir "$CFG" --key "$K/app_prod.key"
	expect_one_line_error '^ledger: apply: key "app_prod" is not allowed to change staging \(its scope: prod/\*\)$'
	expect_calls ""
	assert_unchanged auth
	# a build with auto releases only: the cluster-wide check refuses
	printf -- '---\nreleases:\n- name: worker\n  labels:\n    deployment: auto\n' >"$T/auto-only.yaml"
	hf_reset
	HF_BUILD=$T/auto-only.yaml expect_rc 1 ledger apply staging --config-dir "$CFG" --key "$K/app_prod.key"
	expect_err 'ledger: apply: key "app_prod" is not allowed to change staging (its scope: prod/*)'
	expect_calls ""
	assert_unchanged auth
	# but prod it may
	hf_reset
	HF_BUILD=$FIX/build-prod.yaml expect_rc 0 ledger apply prod --config-dir "$CFG" --key "$K/app_prod.key"
	expect_out_match '^prod/api: recorded applied as seq 10$'
	check "entry 10 signed by app_prod" [ "$(signer_of 10)" = app_prod ]

	step "a revoked applier is refused"
	expect_rc 0 ledger key revoke app -m "rotated"
	expect_out_match "^11 $HEX64\$"
	snap revoked
	hf_reset
	expect_rc 1 apply_st
	expect_one_line_error 'revoked'
	expect_calls ""
	assert_unchanged revoked
	# an unknown key too
	new_key stranger
	expect_rc 1 ledger apply staging --config-dir "$CFG" --key "$K/stranger.key"
	expect_one_line_error
	assert_unchanged revoked
}

# ---------------------------------------------------------------------
sec_lock() {
	fresh_ledger lock
	export HF_AUTO_RC=0
	step "a second applier for the same cluster is refused, naming the holder"
	# it holds the lock for 15 s (--timeout), time enough for the steps
	# below on a machine ten times slower
	HF_HANG=api "$LEDGER" apply staging --config-dir "$CFG" --key "$K/app.key" \
		--timeout 15 >"$T/a.out" 2>"$T/a.err" &
	local a=$! rc t0
	echo "$a" >>"$BG"
	wait_until 60000 grep -q -- '-l name=api apply' "$HF_LOG" ||
		fail "the first applier never ran helmfile for api"
	ok
	local before
	before=$(hf_count .)
	expect_rc 1 apply_st
	expect_one_line_error "^ledger: apply: another applier is running for cluster staging \\(pid $a on [^ ]+ since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z; lock file $LEDGER_DIR/apply-staging\\.lock\\)\$"
	expect_no_out
	check "the second applier ran no helmfile" [ "$(hf_count .)" -eq "$before" ]
	# --dry-run takes no lock
	expect_rc 0 apply_st --dry-run
	check "the first applier is still running" alive "$a"

	step "another cluster is not blocked"
	HF_BUILD=$FIX/build-prod.yaml expect_rc 0 ledger apply prod --config-dir "$CFG" --key "$K/app.key"
	expect_out_norm "prod/api: applied (seq 9, X s)
prod/api: recorded applied as seq 10
prod: 1 applied, 0 failed, 0 up to date, 0 left alone"
	check "the first applier is still running" alive "$a"

	step "the lock goes with the first applier"
	wait "$a"
	rc=$?
	check "the first applier timed out: exit 1 (got $rc)" [ "$rc" -eq 1 ]
	check "it recorded the timeout: $(cat "$T/a.out")" \
		grep -q '^staging/api: recorded apply-failed as seq 11$' "$T/a.out"
	expect_rc 0 apply_st
	expect_out_match '^staging/api: applied \(seq 12, '
	expect_out_match '^staging/api: recorded applied as seq 13$'
	expect_rc 0 ledger verify
	expect_out_match '^ok: 13 entries, head 13 '
}

# ---------------------------------------------------------------------
# SIGTERM/SIGINT stop --watch "cleanly": the helmfile run under way is
# not cut short (helm would leave the release pending) and is recorded,
# but no further release, and no auto batch, is started after the signal.
sec_watch_inflight() {
	fresh_ledger inflight
	export HF_AUTO_RC=0
	step "SIGTERM while helmfile runs: that run finishes and is recorded, no new run starts"
	HF_HANG=api watch_start w4 --interval 60 --timeout 2
	wait_until 60000 grep -q -- '-l name=api apply' "$HF_LOG" ||
		fail "--watch did not start api"
	ok
	watch_stop TERM
	check "the interrupted run was recorded: $(cat "$WOUT")" \
		grep -q '^staging/api: recorded apply-failed as seq 10$' "$WOUT"
	check "no helmfile run started after SIGTERM; calls were:
$(hf_calls | sed 's/^/    < /')" [ "$(hf_count .)" -eq 2 ]
}

# ---------------------------------------------------------------------
sec_unset() {
	fresh_ledger unset
	export HF_AUTO_RC=0
	expect_rc 0 apply_st
	expect_out_match '^staging/api: recorded applied as seq 10$'
	expect_out_match '^staging/web: recorded applied as seq 11$'

	step "an unset re-applies the release, without the key"
	expect_rc 0 ledger unset staging/api tags.yes -m "drop yes"
	expect_out_match "^12 $HEX64\$"
	hf_reset
	expect_rc 0 apply_st
	expect_out_norm "staging/api: applied (seq 12, X s)
staging/api: recorded applied as seq 13
staging/web: up to date (applied at seq 11)
staging: 2 auto releases already current (X s)
staging: 1 applied, 0 failed, 2 up to date, 4 left alone"
	check "the values went without the unset key: $(hf_values 1 | tail -2)" \
		[ "$(hf_values 1)" = "$(grep -v '^  "yes": "yes"$' <<<"$API_YAML")" ]
	expect_rc 0 ledger show 13 --json
	expect_json metadata desired-seq = 12
	expect_json_len changes = $((${#API_VALUES[@]} - 1))

	step "a rollback that only unsets is applied too"
	expect_rc 0 ledger set staging/web extra.flag=on -m "web flag"
	expect_out_match "^14 $HEX64\$"
	expect_rc 0 apply_st
	expect_out_match '^staging/web: recorded applied as seq 15$'
	expect_rc 0 ledger rollback staging/web --to 13 --no-lock -m "no flag"
	expect_out_match "^16 $HEX64\$"
	hf_reset
	expect_rc 0 apply_st
	expect_out_match '^staging/web: recorded applied as seq 17$'
	check "web's values without the flag: $(hf_values 1)" [ "$(hf_values 1)" = 'image:
  tag: "w1"' ]
}

# ---------------------------------------------------------------------
# The ledger may move while helmfile runs (the applier reads a snapshot
# first). The entry records desired-seq = that snapshot's head, so
# anything newer, a set or an unset alike, must be applied next time.
sec_during() {
	fresh_ledger during
	export HF_AUTO_RC=0
	expect_rc 0 apply_st
	expect_out_match '^staging/web: recorded applied as seq 11$'

	step "a set while helmfile runs is applied on the next run"
	expect_rc 0 ledger set staging/api image.tag=v4 -m "api 4"
	expect_out_match "^12 $HEX64\$"
	hf_reset
	HF_DURING=api HF_DURING_CMD="'$LEDGER' set staging/api image.tag=v5 -m 'api 5'" \
		expect_rc 0 apply_st
	check "the set ran during the apply: $(cat "$HF_LOG.during")" \
		grep -Eq "^13 $HEX64\$" "$HF_LOG.during"
	expect_out_match '^staging/api: applied \(seq 12, '
	expect_out_match '^staging/api: recorded applied as seq 14$'
	hf_reset
	expect_rc 0 apply_st
	expect_out_match '^staging/api: applied \(seq 14, '
	expect_out_match '^staging/api: recorded applied as seq 15$'
	check "v5 applied" grep -q '^|   tag: "v5"$' "$HF_LOG"

	step "an unset while helmfile runs is applied on the next run"
	expect_rc 0 ledger set staging/api image.tag=v6 -m "api 6"
	expect_out_match "^16 $HEX64\$"
	: >"$HF_LOG.during"
	hf_reset
	HF_DURING=api HF_DURING_CMD="'$LEDGER' unset staging/api tags.hex -m 'no hex'" \
		expect_rc 0 apply_st
	check "the unset ran during the apply: $(cat "$HF_LOG.during")" \
		grep -Eq "^17 $HEX64\$" "$HF_LOG.during"
	expect_out_match '^staging/api: applied \(seq 16, '
	expect_out_match '^staging/api: recorded applied as seq 18$'
	hf_reset
	expect_rc 0 apply_st
	expect_out_match '^staging/api: applied \(seq 18, '
	expect_out_match '^staging/api: recorded applied as seq 19$'
	check "tags.hex is gone from the values" [ "$(hf_values 1 | grep -c hex)" -eq 0 ]
}

# ---------------------------------------------------------------------
# watch_start NAME ARGS...: a background `ledger apply staging --watch`
watch_start() {
	local name=$1
	shift
	"$LEDGER" apply staging --watch --config-dir "$CFG" --key "$K/app.key" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	W=$!
	echo "$W" >>"$BG"
	WOUT=$T/$name.out
	WERR=$T/$name.err
}

# watch_stop SIGNAL: stops it; it must exit 0 by itself saying "stopped"
# (not killed by a watchdog 45 s later: --interval 60 would take longer)
watch_stop() {
	local t0 rc dog
	t0=$(now_ms)
	kill -"$1" "$W"
	(sleep 45 && kill -KILL "$W") 2>/dev/null &
	dog=$!
	wait "$W"
	rc=$?
	kill "$dog" 2>/dev/null
	check "--watch stopped by itself on SIG$1, not by the 45 s watchdog" \
		[ "$rc" -ne 137 ]
	check "--watch exits 0 on SIG$1 (got $rc)" [ "$rc" -eq 0 ]
	check "--watch says it stopped: $(tail -1 "$WOUT")" \
		[ "$(tail -1 "$WOUT")" = stopped ]
	check "--watch stopped promptly ($(($(now_ms) - t0)) ms)" \
		[ $(($(now_ms) - t0)) -lt 45000 ]
}

sec_watch() {
	fresh_ledger watch
	export HF_AUTO_RC=0
	step "--watch applies, then picks up a set"
	watch_start w1 --interval 1
	wait_until 60000 grep -q '^staging/web: recorded applied as seq 11$' "$WOUT" ||
		fail "--watch did not apply: $(cat "$WOUT" "$WERR")"
	ok
	check "it says it watches: $(head -1 "$WOUT")" \
		[ "$(head -1 "$WOUT")" = "watching the ledger for cluster changes (Ctrl-C or SIGTERM stops)" ]
	expect_rc 0 ledger set staging/api image.tag=v7 -m "api 7"
	expect_out_match "^12 $HEX64\$"
	wait_until 60000 grep -q '^|   tag: "v7"$' "$HF_LOG" ||
		fail "--watch did not apply the set: $(cat "$WOUT" "$WERR")"
	ok
	wait_until 60000 grep -q '^staging/api: recorded applied as seq 13$' "$WOUT" ||
		fail "--watch did not record the apply: $(cat "$WOUT")"
	ok
	expect_rc 0 ledger show 13 --json
	expect_json kind = applied
	expect_json metadata desired-seq = 12
	# it keeps reconciling (every --interval) without growing the ledger
	local builds
	builds=$(hf_count ' build$')
	wait_until 60000 eval '[ "$(hf_count " build\$")" -ge $((builds + 2)) ]' ||
		fail "--watch --interval 1 did not reconcile again: $(hf_count ' build$') builds"
	ok
	check "a quiet reconcile loop records nothing (head $(head_seq))" [ "$(head_seq)" = 13 ]
	check "and applies nothing manual again: $(hf_count 'name=')" [ "$(hf_count 'name=')" -eq 3 ]
	watch_stop TERM
	check "the lock is released" [ ! -s "$LEDGER_DIR/apply-staging.lock" ]
	expect_rc 0 apply_st
	expect_out_match '^staging: 0 applied, 0 failed, 3 up to date, 4 left alone$'

	step "--watch reconciles when the head moves, not only every --interval"
	hf_reset
	watch_start w2 --interval 60
	wait_until 60000 grep -q '^staging: 2 auto releases already current' "$WOUT" ||
		fail "--watch did not reconcile: $(cat "$WOUT" "$WERR")"
	ok
	expect_rc 0 ledger set staging/web image.tag=w9 -m "web 9"
	expect_out_match "^14 $HEX64\$"
	wait_until 60000 grep -q '^staging/web: recorded applied as seq 15$' "$WOUT" ||
		fail "--watch did not pick up the set: $(cat "$WOUT")"
	ok
	check "it said why: $(cat "$WOUT")" grep -q '^the ledger moved; reconciling$' "$WOUT"
	check "two reconciles, no more: $(hf_count ' build$')" [ "$(hf_count ' build$')" -eq 2 ]
	check "web applied with w9" [ "$(hf_values 1)" = 'image:
  tag: "w9"' ]
	watch_stop INT

	step "--watch retries a failure after 5 s"
	expect_rc 0 ledger set staging/api image.tag=v8 -m "api 8"
	expect_out_match "^16 $HEX64\$"
	hf_reset
	local t1 t2
	HF_FAIL=api watch_start w3 --interval 60
	wait_until 60000 eval '[ "$(hf_count "name=api apply")" -ge 1 ]' ||
		fail "--watch did not try api"
	t1=$(now_ms)
	wait_until 60000 eval '[ "$(hf_count "name=api apply")" -ge 2 ]' ||
		fail "--watch did not retry api: $(cat "$WOUT" "$WERR")"
	t2=$(now_ms)
	check "retried after 5 s, not at once (took $((t2 - t1)) ms)" \
		between $((t2 - t1)) 4000 60000
	check "it said when: $(cat "$WERR")" grep -q '^notice: retrying in 5 s$' "$WERR"
	wait_until 60000 grep -q '^notice: retrying in 10 s$' "$WERR" ||
		fail "the backoff did not double: $(cat "$WERR")"
	ok
	watch_stop TERM
	expect_rc 0 ledger show 17 --json
	expect_json kind = apply-failed
	expect_json metadata desired-seq = 16
	expect_rc 0 ledger show 18 --json
	expect_json kind = apply-failed
	expect_json metadata desired-seq = 17
	expect_rc 0 ledger verify
	expect_out_match '^ok: 18 entries, head 18 '
}

section "manual, auto and unlabelled releases" sec_discover
section "the auto batch" sec_auto
section "idempotent re-runs" sec_idempotent
section "helmfile failing" sec_failure
section "helmfile missing, build output, config resolution" sec_environment
section "--timeout" sec_timeout
section "--dry-run" sec_dry_run
section "who may apply" sec_auth
section "two appliers" sec_lock
section "--watch" sec_watch
section "--watch stopped during a helmfile run" sec_watch_inflight
section "an unset is applied" sec_unset
section "writes while helmfile runs" sec_during
finish
