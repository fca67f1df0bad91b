#!/bin/bash
# apply_kill.sh - issue 11: an applier killed during a helmfile run. The
# stand-in helmfile (fixtures/helmfile) is made slow (HF_SLOW: it waits
# for a sleep, as helmfile waits for helm) and takes a lock of its own
# on every call (HF_RUNLOCK), inherited by that sleep, logging OVERLAP
# when another call, or what it started, still holds it. Ten rounds:
# the applier is killed mid-run (SIGKILL, SIGTERM, or SIGKILL of its
# keeper first, then of itself) and the next applier started at once;
# asserted: no two helmfile runs ever overlap, the killed run's helmfile
# and its child are gone soon after, the next applier gets in (turned
# away, exit 1, while the killed run is still being stopped), and every
# killed run's private directory is removed by a later run, while
# directories of live runs, of other users, symlinks and files are left
# alone. Then the private directory is gone after a timeout, a failure
# and a --watch stopped by SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_apply.sh"

HEX64='[0-9a-f]{64}'
export HF_RUNLOCK=$T/hf.runlock
export HF_AUTO_RC=0
ROUNDS=10
# how long a killed run's helmfile may take to go, and an applier to get
# in: generous, for a machine ten times slower than a loaded one
GONE_MS=30000
START_MS=90000

init_ledger example.com/deploy/apply-kill
new_key app
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "the applier"
expect_rc 0 ledger set staging/api image.tag=v1 -m "api 1"
expect_out_match "^3 $HEX64\$"

# the notices of every applier, for the sweeps' counts
NOTICES=$T/notices
: >"$NOTICES"

# launch SLOW: a one-shot applier for staging in the background, its
# helmfile apply waiting SLOW s (none when empty); sets A
launch() {
	HF_SLOW=$1 "$LEDGER" apply staging --config-dir "$CFG" \
		--key "$K/app.key" >"$T/a.out" 2>"$T/a.err" &
	A=$!
	echo "$A" >>"$BG"
	A_SLOW=$1
}

starts() {
	grep -c '^START ' "$HF_LOG"
}

# turned_away RC: the applier A exited RC, turned away by the lock that
# a killed run still holds (counted: $REFUSALS; $GONE_SAID of them said
# the holder had exited)
REFUSALS=0
GONE_SAID=0
turned_away() {
	[ "$1" -eq 1 ] && [ "$(wc -l <"$T/a.err")" -eq 1 ] &&
		grep -Eq "^ledger: apply: another applier is running for cluster staging \(pid [0-9]+ on [^ ]+ since [0-9T:-]+Z(, which has exited: its helmfile run is still being stopped)?; lock file $LEDGER_DIR/apply-staging\.lock\)\$" "$T/a.err" ||
		return 1
	REFUSALS=$((REFUSALS + 1))
	grep -q 'which has exited' "$T/a.err" && GONE_SAID=$((GONE_SAID + 1))
	return 0
}

# await_start N: waits until the applier A has started helmfile apply
# run N (the Nth START in the log), launching it again each time it is
# turned away because a killed run still holds the lock; sets HF (the
# stand-in's pid) and HS (its sleep's)
await_start() {
	local n=$1 rc deadline=$(($(now_ms) + START_MS))
	while [ "$(starts)" -lt "$n" ]; do
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "no applier ran helmfile within $START_MS ms: $(cat "$T/a.out" "$T/a.err")"
		if alive "$A"; then
			sleep 0.05
			continue
		fi
		wait "$A" 2>/dev/null
		rc=$?
		cat "$T/a.err" >>"$NOTICES"
		turned_away "$rc" ||
			fail "the applier ended without running helmfile (exit $rc): $(cat "$T/a.out" "$T/a.err")"
		sleep 0.1
		launch "$A_SLOW"
	done
	read -r _ HF HS < <(grep '^START ' "$HF_LOG" | sed -n "${n}p")
}

# gone PID...: none of them runs
gone() {
	local p
	for p in "$@"; do
		! alive "$p" || return 1
	done
}

# private_dirs: the ledger-apply-* names in $TMPDIR, one a line
private_dirs() {
	(cd "$TMPDIR" && ls -d ledger-apply-* 2>/dev/null) | sort
}

# removed: how many directories the sweeps said they removed
removed() {
	sed -En 's/^notice: removed ([0-9]+) private director(y|ies) of killed runs from .*/\1/p' \
		"$NOTICES" | awk '{ n += $1 } END { print n + 0 }'
}

# ---------------------------------------------------------------------
step "what a sweep must leave alone, and one it must not"
# a killed run of a version before the directory locks: nobody holds it
mkdir -m 700 "$TMPDIR/ledger-apply-DEAD01"
echo 'image: {tag: "x"}' >"$TMPDIR/ledger-apply-DEAD01/api.values.yaml"
# a live run: its lock is held
mkdir -m 700 "$TMPDIR/ledger-apply-LIVE01"
echo 'image: {tag: "y"}' >"$TMPDIR/ledger-apply-LIVE01/api.values.yaml"
(
	exec 8<"$TMPDIR/ledger-apply-LIVE01"
	flock 8
	: >"$T/live.locked"
	exec sleep 600
) &
LIVE=$!
echo "$LIVE" >>"$BG"
wait_until 10000 test -e "$T/live.locked" || fail "the live run's lock was not taken"
ok
# a symlink to a directory of ours, and a plain file
mkdir "$T/target"
echo keep >"$T/target/f"
ln -s "$T/target" "$TMPDIR/ledger-apply-LINK01"
echo keep >"$TMPDIR/ledger-apply-FILE01"
LEFT="ledger-apply-FILE01
ledger-apply-LINK01
ledger-apply-LIVE01"
# another user's (only root can make one)
if [ "$(id -u)" = 0 ]; then
	mkdir -m 700 "$TMPDIR/ledger-apply-OTHER1"
	echo z >"$TMPDIR/ledger-apply-OTHER1/api.values.yaml"
	chown -R 65534 "$TMPDIR/ledger-apply-OTHER1"
	LEFT="$LEFT
ledger-apply-OTHER1"
fi
LEFT=$(sort <<<"$LEFT")

# ---------------------------------------------------------------------
step "$ROUNDS appliers killed during helmfile apply, the next started at once"
launch 300
await_start 1
GONE_MAX=0
for i in $(seq 1 "$ROUNDS"); do
	case $i in
	4 | 8) how=keeper ;;
	6) how=TERM ;;
	*) how=KILL ;;
	esac
	# the next round's run, when this one's keeper is killed, is short:
	# what the keeper started outlives it (helmfile's child, the sleep)
	case $((i + 1)) in 4 | 8) next=20 ;; *) next=300 ;; esac
	t0=$(now_ms)
	case $how in
	keeper)
		k=$(pgrep -P "$A")
		check "the applier has one child, the keeper (got: $k)" \
			[ "$(wc -w <<<"$k")" -eq 1 ]
		kill -KILL "$k" "$A"
		;;
	*)
		kill -"$how" "$A"
		;;
	esac
	wait "$A" 2>/dev/null
	rc=$?
	check "round $i: the applier died of SIG$how (exit $rc)" \
		[ "$rc" -eq "$([ "$how" = TERM ] && echo 143 || echo 137)" ]
	cat "$T/a.err" >>"$NOTICES"
	killed_hf=$HF killed_sleep=$HS
	if [ "$i" -lt "$ROUNDS" ]; then
		launch "$next"
	else
		launch ""
	fi
	if [ "$how" = keeper ]; then
		# nothing stops the group now: helmfile dies with its keeper
		# (PR_SET_PDEATHSIG), its child runs on and ends by itself
		wait_until "$GONE_MS" gone "$killed_hf" ||
			fail "round $i: the killed run's helmfile ($killed_hf) still runs $GONE_MS ms later"
		ok
	else
		wait_until "$GONE_MS" gone "$killed_hf" "$killed_sleep" ||
			fail "round $i: the killed run's helmfile ($killed_hf) or its child ($killed_sleep) still runs $GONE_MS ms later"
		ok
		gone_ms=$(($(now_ms) - t0))
		[ "$gone_ms" -gt "$GONE_MAX" ] && GONE_MAX=$gone_ms
	fi
	[ "$i" -lt "$ROUNDS" ] && await_start $((i + 1))
done

step "the applier after the last kill completes"
deadline=$(($(now_ms) + START_MS))
while :; do
	wait "$A" 2>/dev/null
	rc=$?
	cat "$T/a.err" >>"$NOTICES"
	turned_away "$rc" || break
	[ "$(now_ms)" -lt "$deadline" ] || fail "turned away for $START_MS ms"
	sleep 0.1
	launch ""
done
check "it exits 0 (got $rc): $(cat "$T/a.out" "$T/a.err")" [ "$rc" -eq 0 ]
check "it applied and recorded api: $(cat "$T/a.out")" \
	grep -q '^staging/api: recorded applied as seq 4$' "$T/a.out"
echo "    ($ROUNDS kills, $REFUSALS appliers turned away while a killed run was being stopped, $GONE_SAID saying its applier had exited; a killed applier's helmfile and child gone within $GONE_MAX ms, polled every 100 ms)"
# the keeper rounds leave a 20 s child holding the lock: turned away
check "appliers were turned away meanwhile ($REFUSALS)" [ "$REFUSALS" -ge 1 ]
check "saying the holder had exited ($GONE_SAID)" [ "$GONE_SAID" -ge 1 ]

step "no two helmfile runs overlapped"
check "of $(grep -c '^ARGV ' "$HF_LOG") helmfile calls, these ran while another still did:
$(grep '^OVERLAP' "$HF_LOG" | sed 's/^/    < /')" \
	[ "$(grep -c '^OVERLAP' "$HF_LOG")" -eq 0 ]
check "$ROUNDS applies started (got $(starts))" [ "$(starts)" -eq "$ROUNDS" ]
check "all were killed: no END in the log" [ "$(grep -c '^END [0-9]' "$HF_LOG")" -eq 0 ]

step "every killed run's private directory is gone; the others are left"
check "left: $(private_dirs | tr '\n' ' ')" [ "$(private_dirs)" = "$LEFT" ]
check "the sweeps removed the $ROUNDS killed runs' and DEAD01 (said $(removed))" \
	[ "$(removed)" -eq $((ROUNDS + 1)) ]
check "the live run's file is there" [ -s "$TMPDIR/ledger-apply-LIVE01/api.values.yaml" ]
check "the symlink's target is untouched" [ "$(cat "$T/target/f")" = keep ]
check "the plain file is untouched" [ "$(cat "$TMPDIR/ledger-apply-FILE01")" = keep ]
expect_rc 0 ledger verify
expect_out_match '^ok: 4 entries, head 4 '

step "once the live run is gone, the next run (a --dry-run too) removes its directory"
kill -KILL "$LIVE"
wait "$LIVE" 2>/dev/null
expect_rc 0 ledger apply staging --config-dir "$CFG" --dry-run
expect_err_match "^notice: removed 1 private directory of killed runs from $TMPDIR\$"
check "left: $(private_dirs | tr '\n' ' ')" \
	[ "$(private_dirs)" = "$(grep -v LIVE01 <<<"$LEFT")" ]
LEFT=$(grep -v LIVE01 <<<"$LEFT")

# ---------------------------------------------------------------------
step "the private directory goes after a timeout, a failure, a SIGTERM to --watch"
expect_rc 0 ledger set staging/api image.tag=v2 -m "api 2"
HF_HANG=api expect_rc 1 ledger apply staging --config-dir "$CFG" --key "$K/app.key" --timeout 1
expect_err_match '^warning: staging/api: helmfile timed out after 1 s and was stopped$'
check "after the timeout, left: $(private_dirs | tr '\n' ' ')" [ "$(private_dirs)" = "$LEFT" ]
HF_FAIL=api expect_rc 1 ledger apply staging --config-dir "$CFG" --key "$K/app.key"
expect_err_match '^warning: staging/api: helmfile failed \(exit 1\): '
check "after the failure, left: $(private_dirs | tr '\n' ' ')" [ "$(private_dirs)" = "$LEFT" ]
before=$(starts)
HF_SLOW=3 "$LEDGER" apply staging --watch --config-dir "$CFG" --key "$K/app.key" \
	>"$T/w.out" 2>"$T/w.err" &
W=$!
echo "$W" >>"$BG"
wait_until "$START_MS" eval '[ "$(starts)" -gt "$before" ]' ||
	fail "--watch did not start helmfile: $(cat "$T/w.out" "$T/w.err")"
ok
check "the run under way has a private directory: $(private_dirs | tr '\n' ' ')" \
	[ "$(private_dirs | grep -vcxF "$LEFT")" -eq 1 ]
kill -TERM "$W"
wait "$W"
rc=$?
check "--watch exits 0 on SIGTERM (got $rc)" [ "$rc" -eq 0 ]
check "it finished that run: $(cat "$T/w.out")" \
	grep -Eq '^staging/api: recorded applied as seq [0-9]+$' "$T/w.out"
check "after SIGTERM, left: $(private_dirs | tr '\n' ' ')" [ "$(private_dirs)" = "$LEFT" ]
check "still no overlap" [ "$(grep -c '^OVERLAP' "$HF_LOG")" -eq 0 ]
expect_rc 0 ledger verify
finish
