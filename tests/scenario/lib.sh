# lib.sh - shared by the scenario tests; source it, never run it.
#
# Each scenario drives the real `ledger` binary ($LEDGER) in a fresh
# temporary directory with a clean environment, and exits 0 when every
# check held, 1 on the first that did not (saying which, with the
# command's exit code, stdout and stderr), 77 to skip.
#
#   run CMD...            run, keeping $RC, $OUT (stdout file), $ERR
#   expect_rc N CMD...    run and require exit code N
#   expect_out TEXT       stdout is exactly TEXT (plus the final newline)
#   expect_out_match ERE  / expect_err_match ERE: a line matches
#   expect_no_err         stderr is empty
#   expect_one_line_error [ERE]   stderr is one line "ledger: ..."
#   snapshot NAME / assert_unchanged NAME   mdb_dump -a of the ledger
#   jget FILE PATH...     a value from JSON (jq, else python3)
#   check COND MSG        a test(1) condition that must hold
#
# Tests must be able to fail: compare exact values, seqs and exit codes.

set -u
export LC_ALL=C
umask 022

: "${LEDGER:?LEDGER must point at the ledger binary}"
case $LEDGER in /*) ;; *) LEDGER=$PWD/$LEDGER ;; esac
if [ -n "${TAMPER:-}" ]; then
	case $TAMPER in /*) ;; *) TAMPER=$PWD/$TAMPER ;; esac
fi
[ -x "$LEDGER" ] || { echo "FAIL: $LEDGER is not executable"; exit 1; }

SCN_NAME=$(basename "$0" .sh)
CHECKS=0
STEP=""

T=$(mktemp -d "${TMPDIR:-/tmp}/ledger-scn-$SCN_NAME.XXXXXX") || exit 1
OUT=$T/.out
ERR=$T/.err
RC=0
: >"$OUT"
: >"$ERR"

scn_cleanup() {
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "kept $T"
	else
		chmod -R u+rwx "$T" 2>/dev/null
		rm -rf "$T"
	fi
}
trap scn_cleanup EXIT
# meson's timeout sends SIGTERM: say where the script was (the EXIT trap
# then cleans up). A section's subshell does not inherit this trap.
scn_terminated() {
	echo "FAIL [$SCN_NAME${STEP:+: $STEP}]: terminated by SIGTERM (a timeout?); the last command started: ${LAST_CMD:-none}"
	exit 143
}
trap scn_terminated TERM

# A clean environment: nothing from the caller's ledger or keys leaks in.
unset LEDGER_KEY LEDGER_CONFIG_DIR HELMFILE XDG_DATA_HOME
export HOME=$T/home
export XDG_CONFIG_HOME=$T/config
export XDG_DATA_HOME=$T/data
export LEDGER_DIR=$T/ledger
export TMPDIR=$T/tmp
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$TMPDIR"
KEYS=$XDG_CONFIG_HOME/ledger/keys

# LD_PRELOAD for kill_after_meta.so: in a gcc ASan build the sanitizer
# runtime must be the first library, so it is preloaded ahead of it
PRELOAD_KILL_AFTER_META=${SCN_ASAN_RUNTIME:+$SCN_ASAN_RUNTIME }${KILL_AFTER_META:-}

# ---- reporting ----

step() {
	STEP=$*
}

show_last() {
	echo "  last command: ${LAST_CMD:-}"
	echo "  exit code: $RC"
	echo "  stdout:"
	sed -n '1,40s/^/    | /p' "$OUT"
	echo "  stderr:"
	sed -n '1,20s/^/    | /p' "$ERR"
}

fail() {
	echo "FAIL [$SCN_NAME${STEP:+: $STEP}]: $*"
	show_last
	echo "$CHECKS" >"$T/.checks"
	exit 1
}

skip() {
	echo "SKIP [$SCN_NAME]: $*"
	exit 77
}

ok() {
	verify_failures
	CHECKS=$((CHECKS + 1))
}

# the subshell depth of the test's own code: 0, or a section's
SCN_SHELL_LEVEL=0

# fails if a head_seq in a subshell found a ledger that does not verify
verify_failures() {
	local why
	[ -e "$T/.verify_failed" ] || return 0
	why=$(cat "$T/.verify_failed")
	rm -f "$T/.verify_failed"
	fail "$why"
}

FAILED_SECTIONS=()

# section NAME FUNC [ARGS]: runs FUNC in a subshell, so that its first
# failed check ends only this section: the failure is reported, the
# script goes on with the next section, and finish exits 1. Use it for
# independent parts, each on its own ledger (--ledger or $LEDGER_DIR).
section() {
	local name=$1
	shift
	echo "$CHECKS" >"$T/.checks"
	(
		STEP=$name
		SCN_SHELL_LEVEL=$BASH_SUBSHELL
		"$@"
		verify_failures
		echo "$CHECKS" >"$T/.checks"
		exit 0
	)
	local rc=$?
	CHECKS=$(cat "$T/.checks")
	if [ "$rc" -eq 77 ]; then
		echo "(section \"$name\" skipped)"
	elif [ "$rc" -ne 0 ]; then
		FAILED_SECTIONS+=("$name")
		CHECKS=$((CHECKS + 1))
	fi
}

finish() {
	verify_failures
	if [ ${#FAILED_SECTIONS[@]} -gt 0 ]; then
		echo "FAIL [$SCN_NAME]: ${#FAILED_SECTIONS[@]} section(s) failed:"
		printf '  - %s\n' "${FAILED_SECTIONS[@]}"
		echo "($CHECKS checks)"
		exit 1
	fi
	echo "PASS [$SCN_NAME]: $CHECKS checks"
	exit 0
}

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
}

# ---- waiting ----

# wait_for CMD...: runs CMD every 0.05 s until it succeeds; returns 1 if
# it still fails after SCN_WAIT seconds (default 30). Tests assert that
# a thing happens, never how soon: a wait must hold on a machine ten
# times slower than a loaded CI machine, and a prompt answer ends it at
# once. Print a latency if it is of interest; do not check it.
wait_for() {
	local end=$((SECONDS + ${SCN_WAIT:-30}))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# ---- running commands ----

ledger() {
	"$LEDGER" "$@"
}

run() {
	LAST_CMD=$*
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# run with stdin from a file: run_in FILE CMD...
run_in() {
	local in=$1
	shift
	LAST_CMD="$* < $in"
	"$@" <"$in" >"$OUT" 2>"$ERR"
	RC=$?
}

expect_rc() {
	local want=$1
	shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "expected exit code $want, got $RC"
	ok
}

out() {
	cat "$OUT"
}

err() {
	cat "$ERR"
}

expect_out() {
	local want=$1 got
	got=$(cat "$OUT")
	[ "$got" = "$want" ] ||
		fail "stdout differs; expected:
$(printf '%s\n' "$want" | sed 's/^/    > /')"
	ok
}

expect_err() {
	local want=$1 got
	got=$(cat "$ERR")
	[ "$got" = "$want" ] ||
		fail "stderr differs; expected:
$(printf '%s\n' "$want" | sed 's/^/    > /')"
	ok
}

expect_out_match() {
	grep -Eq -- "$1" "$OUT" || fail "no stdout line matches /$1/"
	ok
}

expect_out_nomatch() {
	if grep -Eq -- "$1" "$OUT"; then
		fail "a stdout line matches /$1/ but should not"
	fi
	ok
}

expect_err_match() {
	grep -Eq -- "$1" "$ERR" || fail "no stderr line matches /$1/"
	ok
}

expect_no_err() {
	[ ! -s "$ERR" ] || fail "expected no stderr"
	ok
}

expect_no_out() {
	[ ! -s "$OUT" ] || fail "expected no stdout"
	ok
}

# stderr is exactly one line, "ledger: ...", optionally matching ERE.
expect_one_line_error() {
	local n
	n=$(wc -l <"$ERR")
	[ "$n" -eq 1 ] || fail "expected exactly one stderr line, got $n"
	[ -z "$(tail -c1 "$ERR")" ] || fail "stderr line is not terminated"
	head -n1 "$ERR" | grep -q '^ledger: ' ||
		fail "stderr does not start with \"ledger: \""
	# user input echoed back must not carry control characters (ESC
	# sequences, CR, tabs) to the terminal or a CI log
	if LC_ALL=C grep -q '[[:cntrl:]]' "$ERR"; then
		fail "stderr holds control characters: $(od -c "$ERR" | head -3)"
	fi
	if [ $# -gt 0 ]; then
		grep -Eq -- "$1" "$ERR" || fail "stderr does not match /$1/"
	fi
	ok
}

check() {
	local msg=$1
	shift
	"$@" || fail "$msg"
	ok
}

# lines of stdout
out_lines() {
	wc -l <"$OUT" | tr -d ' '
}

# field N (1-based, whitespace separated) of stdout line L
out_field() {
	sed -n "${1}p" "$OUT" | awk -v f="$2" '{ print $f }'
}

# ---- the ledger's bytes ----

# snapshot NAME [DIR]: a logical dump of every database of the ledger.
snapshot() {
	local dir=${2:-$LEDGER_DIR}
	if [ -e "$dir/data.mdb" ]; then
		mdb_dump -a "$dir" >"$T/.snap.$1" 2>&1 ||
			fail "mdb_dump of $dir failed"
	else
		echo "(no ledger)" >"$T/.snap.$1"
	fi
	# and the bytes of data.mdb itself, and which files are there
	{
		ls -la "$dir" 2>/dev/null | awk '{ print $1, $NF }' |
			grep -v -e '^total' -e lock.mdb
		[ -e "$dir/data.mdb" ] && cksum <"$dir/data.mdb"
	} >"$T/.snap.$1.ls"
}

# assert_unchanged NAME [DIR]: the ledger is byte-for-byte as at snapshot.
assert_unchanged() {
	local dir=${2:-$LEDGER_DIR}
	cp "$T/.snap.$1" "$T/.snap.$1.before"
	cp "$T/.snap.$1.ls" "$T/.snap.$1.ls.before"
	snapshot "$1.after" "$dir"
	if ! cmp -s "$T/.snap.$1.before" "$T/.snap.$1.after"; then
		diff "$T/.snap.$1.before" "$T/.snap.$1.after" | head -20
		fail "the ledger changed (mdb_dump differs from snapshot $1)"
	fi
	cmp -s "$T/.snap.$1.ls.before" "$T/.snap.$1.after.ls" ||
		fail "the ledger's files changed (data.mdb bytes or listing)"
	ok
}

# entries_dump FILE [DIR]: the auditor's view, mdb_dump -s entries,
# without the header's mapsize line (the map size is not content: it
# grows by itself, and any LMDB client may record a larger one)
entries_dump() {
	mdb_dump -s entries "${2:-$LEDGER_DIR}" >"$1.raw" ||
		fail "mdb_dump -s entries failed"
	grep -v '^mapsize=' "$1.raw" >"$1"
	rm -f "$1.raw"
}

# dump_all FILE [DIR]: every database (mdb_dump -a), without mapsize
dump_all() {
	mdb_dump -a "${2:-$LEDGER_DIR}" >"$1.raw" || fail "mdb_dump -a failed"
	grep -v '^mapsize=' "$1.raw" >"$1"
	rm -f "$1.raw"
}

# ---- JSON ----

if command -v jq >/dev/null 2>&1 && [ -z "${SCN_NO_JQ:-}" ]; then
	JSON_TOOL=jq
elif command -v python3 >/dev/null 2>&1; then
	JSON_TOOL=python3
else
	JSON_TOOL=
fi

# jget FILE KEY|INDEX... prints the value at that path: strings raw,
# numbers and booleans as JSON, null as "null", objects and arrays
# compact. A missing path prints "(missing)". Exit 2 on invalid JSON.
jget() {
	json_at raw "$@"
}

# jget_value FILE KEY|INDEX...: the same, but a string as JSON too
# (quoted), so that "3" and 3 differ; a missing path is still (missing).
jget_value() {
	json_at json "$@"
}

# json_at raw|json FILE KEY|INDEX...: jget and jget_value
json_at() {
	local mode=$1 f=$2
	shift 2
	case $JSON_TOOL in
	jq)
		jq -r --arg mode "$mode" '
			def walkp($p): reduce $p[] as $k (.;
				if . == null then null
				elif type == "array" then
					(if ($k | test("^[0-9]+$")) then .[$k | tonumber] else null end)
				elif type == "object" then
					(if has($k) then .[$k] else "(missing)" end)
				else null end);
			walkp($ARGS.positional)
			| if . == "(missing)" then .
			  elif $mode == "json" or type == "object" or type == "array" then tojson
			  else . end
		' --args "$@" <"$f" 2>/dev/null || return 2
		;;
	python3)
		python3 - "$mode" "$f" "$@" <<'PY' || return 2
import json, sys
with open(sys.argv[2]) as fh:
    v = json.load(fh)
for k in sys.argv[3:]:
    if isinstance(v, list):
        v = v[int(k)] if k.isdigit() and int(k) < len(v) else None
    elif isinstance(v, dict):
        v = v[k] if k in v else "(missing)"
    else:
        v = None
if isinstance(v, str) and (sys.argv[1] == "raw" or v == "(missing)"):
    print(v)
else:
    print(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
PY
		;;
	*)
		skip "neither jq nor python3 to parse JSON"
		;;
	esac
}

# jlen FILE KEY|INDEX...: length of the array or object there.
jlen() {
	local f=$1
	shift
	case $JSON_TOOL in
	jq)
		jq -r 'getpath($ARGS.positional | map(if test("^[0-9]+$") then tonumber else . end)) | length' \
			--args "$@" <"$f" 2>/dev/null || return 2
		;;
	python3)
		python3 - "$f" "$@" <<'PY' || return 2
import json, sys
with open(sys.argv[1]) as fh:
    v = json.load(fh)
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(len(v))
PY
		;;
	*)
		skip "neither jq nor python3 to parse JSON"
		;;
	esac
}

# expect_json PATH... = VALUE: the JSON on stdout has VALUE at PATH
# (as jget prints it).
expect_json() {
	expect_at jget "$@"
}

# expect_json_value PATH... = JSON: the same with jget_value: the value
# there is JSON (compact; a string quoted), so "3" and 3 differ.
expect_json_value() {
	expect_at jget_value "$@"
}

# expect_at GETTER PATH... = WANT: expect_json and expect_json_value
expect_at() {
	local get=$1 args=() got want
	shift
	while [ "$1" != "=" ]; do
		args+=("$1")
		shift
	done
	want=$2
	got=$("$get" "$OUT" "${args[@]}") || fail "stdout is not valid JSON"
	[ "$got" = "$want" ] ||
		fail "JSON .${args[*]}: expected \"$want\", got \"$got\""
	ok
}

expect_json_len() {
	local args=() got want
	while [ "$1" != "=" ]; do
		args+=("$1")
		shift
	done
	want=$2
	got=$(jlen "$OUT" "${args[@]}") || fail "stdout is not valid JSON"
	[ "$got" = "$want" ] ||
		fail "JSON length of .${args[*]}: expected $want, got $got"
	ok
}

# ---- mounts and logs (mount.sh, crash.sh, stress.sh, diskfull.sh) ----

# unmount_all: every mount below $T, then scn_cleanup. Tests that mount
# set `trap unmount_all EXIT`; sections run in subshells, so mounts are
# found in /proc/mounts rather than remembered: never one left behind,
# never an rm -rf through one.
unmount_all() {
	local m
	for m in $(awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts); do
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	done
	scn_cleanup
}

# mount_at DIR [ARGS]: `ledger mount DIR ARGS` (daemon mode), then waits
# (wait_for) for DIR to be a mount point.
mount_at() {
	mkdir -p "$1"
	expect_rc 0 ledger mount "$@"
	wait_for mountpoint -q "$1" && return 0
	fail "$1 did not become a mount point"
}

# log_pairs [K]: "SEQ HASH" of the newest K entries (all without K),
# oldest first
log_pairs() {
	"$LEDGER" log ${1:+-n "$1"} --json >"$T/log.json" 2>"$T/log.err" ||
		fail "ledger log failed: $(cat "$T/log.err")"
	case $JSON_TOOL in
	jq) jq -r 'reverse | .[] | "\(.seq) \(.hash)"' "$T/log.json" ;;
	*) python3 -c 'import json,sys
for e in reversed(json.load(open(sys.argv[1]))): print(e["seq"], e["hash"])' "$T/log.json" ;;
	esac
}

# ---- setup ----

# new_key NAME [DIR]: keygen into DIR (default: $T/keys), prints nothing.
new_key() {
	local dir=${2:-$T/keys}
	run ledger keygen "$1" --dir "$dir"
	[ "$RC" -eq 0 ] || fail "keygen $1 failed"
}

# init_ledger [ORIGIN]: an admin key "admin" as the only key in
# $XDG_CONFIG_HOME/ledger/keys and a ledger in $LEDGER_DIR (seq 1).
init_ledger() {
	run ledger keygen admin
	[ "$RC" -eq 0 ] || fail "keygen admin failed"
	run ledger init --origin "${1:-example.com/deploy/test}"
	[ "$RC" -eq 0 ] || fail "init failed"
	HASH1=$(out_field 1 2)
}

# head_seq: the head seq from verify's JSON; a ledger that does not
# verify fails the test. Called as $(head_seq), it runs in a subshell
# that fail cannot end the test from: it then prints nothing, leaves
# the failure in $T/.verify_failed, and the next check, the end of the
# section or finish fails with it (verify_failures).
head_seq() {
	local rc=0
	"$LEDGER" verify --json --threads 1 >"$T/.head.json" \
		2>"$T/.head.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		{
			echo "head_seq: ledger verify exited $rc:"
			sed -n '1,5s/^/    | /p' "$T/.head.err"
		} >>"$T/.verify_failed"
		[ "$BASH_SUBSHELL" -ne "$SCN_SHELL_LEVEL" ] || verify_failures
		return 1
	fi
	jget "$T/.head.json" head
}
