#!/bin/bash
# crash.sh - kill -9 at random moments: 240 times (SCN_KILLS; the
# sanitizer tree runs 80).
#
# A loop of `ledger set` runs in its own process group and is killed
# (loop and the set in flight) after a random 0-50 ms. After every kill:
# the ledger verifies, its seqs are exactly 1..N, every "SEQ HASH" a set
# printed is there with that hash, and at most one entry (the killed
# set's, committed but not yet printed) was written without being
# printed. Half of the kills happen while `ledger mount` holds the ledger
# open, so that LMDB's lock file outlives the killed writers: the next
# writer must recover a writer lock whose owner died, and the reader
# slots of killed processes stay behind. Then 300 readers are killed
# while the ledger is mounted: more than LMDB's 256 reader slots, so the
# slots of dead processes must be reclaimed. Last, writers are killed at
# the worst moment of a commit (kill_after_meta.so: after the meta page,
# before the lock file) while another process holds the lock file, and
# readers and the mount must still see the entry at once.
#
# Without /dev/fuse the mounted parts are skipped (said so); the rest runs.
. "$(dirname "$0")/lib.sh"
need mdb_dump
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"
need setsid ps

KILLS=${SCN_KILLS:-240}
READER_KILLS=${SCN_READER_KILLS:-300}

CAN_MOUNT=
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null 2>&1; then
	CAN_MOUNT=1
fi

trap unmount_all EXIT

# verified_entries: VN = the number of entries, from a passing verify
verified_entries() {
	local json
	LAST_CMD="ledger verify --json --threads 1"
	"$LEDGER" verify --json --threads 1 >"$OUT" 2>"$ERR"
	RC=$?
	[ "$RC" -eq 0 ] || fail "verify after kill $KILLED: exit $RC"
	read -r -d '' json <"$OUT"
	[[ $json =~ \"entries\":\ ([0-9]+) ]] || fail "verify --json has no entries"
	VN=${BASH_REMATCH[1]}
}

step "init"
init_ledger example.com/deploy/crash
N=1
KILLED=0
PRINTED=0
UNPRINTED=0 # rounds where the killed set had committed but not printed
EMPTY=0     # rounds killed before any set committed
: >"$T/printed"

# one_round R: a loop of sets in its own process group, killed after a
# random 0..50 ms, then every check
one_round() {
	local r=$1 pid ms st n new printed
	(
		exec setsid bash -c '
			i=0
			while :; do
				i=$((i + 1))
				"$0" set staging/api "image.tag=r$1.$i" "n:=$i" \
					-m "crash round $1, set $i" ||
					echo "set $1.$i: exit $?" >&2
			done' "$LEDGER" "$r" >"$T/out.$r" 2>"$T/err.$r"
	) &
	pid=$!
	# the loop must lead its own group before the timer starts, or the
	# group kill below could miss it
	for _ in $(seq 20000); do
		read -r -a st <"/proc/$pid/stat" 2>/dev/null || break
		[ "${st[4]}" = "$pid" ] && break
		sleep 0.001
	done
	[ "${st[4]:-}" = "$pid" ] || fail "round $r: the set loop did not start its own group"
	# the random moment starts once the loop's first set has committed:
	# on a slow machine (a sanitizer build, a loaded CI) most kills fell
	# before it, and "the loops really wrote" failed (7 of 40 printed).
	# Every later set is a new process that opens, writes and dies alike.
	wait_for test -s "$T/out.$r" || true
	ms=$((RANDOM % 51))
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 -- "-$pid" || fail "round $r: kill -9 failed"
	wait "$pid" 2>/dev/null
	# wait for the set in flight too (not our child: the loop's): a
	# kill lands between syscalls, so a commit whose last write was
	# under way still completes, and must before the checks look
	wait_for eval '! ps -o stat= --sid "$pid" | grep -qv "^Z"'
	ps -o stat= --sid "$pid" | grep -qv '^Z' &&
		fail "round $r: the killed set is still running"
	KILLED=$((KILLED + 1))

	if [ -s "$T/err.$r" ]; then
		cp "$T/err.$r" "$ERR"
		fail "round $r: a set failed before the kill"
	fi
	ok
	if grep -Evq '^[0-9]+ [0-9a-f]{64}$' "$T/out.$r"; then
		cp "$T/out.$r" "$OUT"
		fail "round $r: a set printed something other than SEQ HASH"
	fi
	ok
	verified_entries
	n=$VN
	ok
	# exactly seqs 1..n in the entries database
	"$TAMPER" "$LEDGER_DIR" seqs >"$T/seqs" || fail "ldg_tamper seqs"
	if ! seq 1 "$n" | cmp -s - "$T/seqs"; then
		seq 1 "$n" | diff - "$T/seqs" | head -5
		fail "round $r: seqs are not 1..$n"
	fi
	ok
	new=$((n - N))
	printed=$(wc -l <"$T/out.$r")
	# every printed set is committed; at most the killed one is committed
	# without having printed
	[ "$new" -ge "$printed" ] && [ "$new" -le $((printed + 1)) ] ||
		fail "round $r: $new new entries but $printed printed"
	ok
	[ "$new" -eq $((printed + 1)) ] && UNPRINTED=$((UNPRINTED + 1))
	[ "$new" -eq 0 ] && EMPTY=$((EMPTY + 1))
	if [ "$printed" -gt 0 ]; then
		log_pairs "$new" >"$T/logged"
		if grep -vxFq -f "$T/logged" "$T/out.$r"; then
			grep -vxF -f "$T/logged" "$T/out.$r" | head -3
			fail "round $r: a printed SEQ HASH is not in the ledger"
		fi
		ok
		cat "$T/out.$r" >>"$T/printed"
		PRINTED=$((PRINTED + printed))
	fi
	N=$n
	rm -f "$T/out.$r" "$T/err.$r"
}

HALF=$((KILLS / 2))
step "$HALF kills, nothing else holding the ledger open"
start=$(date +%s.%N)
for r in $(seq 1 "$HALF"); do
	one_round "$r"
done
expect_rc 0 ledger checkpoint -o "$T/cp.half"
HALF_N=$N

M=$T/mnt
if [ -n "$CAN_MOUNT" ]; then
	step "$((KILLS - HALF)) kills while the ledger is mounted"
	mount_at "$M"
else
	echo "crash: /dev/fuse or fusermount3 missing: the second half runs unmounted"
fi
for r in $(seq $((HALF + 1)) "$KILLS"); do
	one_round "$r"
done
end=$(date +%s.%N)
echo "crash: $KILLED kills in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')s: $((N - 1)) sets committed, $PRINTED printed, $UNPRINTED committed by the killed set before it could print, $EMPTY rounds with no commit; verified after every kill"
check "at least $KILLS kills" [ "$KILLED" -ge "$KILLS" ]
check "the loops really wrote" [ "$PRINTED" -ge $((KILLS / 4)) ]
if [ -n "$CAN_MOUNT" ]; then
	step "the mount follows the head after the kills"
	log_pairs 1 >"$T/head"
	want=$(cat "$T/head")
	check "the newest entry is seq $N" [ "${want%% *}" = "$N" ]
	wait_for eval '[ "$(cat "$M/HEAD" 2>/dev/null)" = "$want" ]'
	run cat "$M/HEAD"
	expect_out "$want"
	fusermount3 -u "$M" || fail "fusermount3 -u $M"
	ok
fi

step "after all the kills"
# every SEQ HASH ever printed, once each, and in the ledger
log_pairs "$N" >"$T/all"
if ! cmp -s <(cut -d' ' -f1 "$T/all") <(seq 1 "$N"); then
	diff <(cut -d' ' -f1 "$T/all") <(seq 1 "$N") | head -5
	wc -l "$T/all" "$T/log.err"
	head -c 300 "$T/log.err"
	fail "the log does not have seqs 1..$N"
fi
ok
sort -n "$T/printed" >"$T/printed.sorted"
check "no seq was printed twice" \
	[ "$(cut -d' ' -f1 "$T/printed.sorted" | uniq -d | wc -l)" -eq 0 ]
check "every printed SEQ HASH is in the ledger" \
	[ "$(grep -vxF -f "$T/all" "$T/printed.sorted" | wc -l)" -eq 0 ]
expect_rc 0 ledger verify --checkpoint "$T/cp.half"
expect_out_match "^ok: $N entries, head $N [0-9a-f]{64}\$"
expect_out_match "^ok: contains checkpoint .*cp.half \\($HALF_N entries\\)"
# the indexes the killed writers left are exactly a replay's
dump_all "$T/before"
expect_rc 0 ledger reindex
expect_out "reindexed $N entries"
dump_all "$T/after"
check "reindex changes nothing after the kills" cmp -s "$T/before" "$T/after"
# and the ledger takes writes as usual
expect_rc 0 ledger set staging/api image.tag=after-the-storm -m "calm"
expect_out_match "^$((N + 1)) [0-9a-f]{64}\$"

# ---------------------------------------------------------------------
# Killed readers while a long-lived process (the mount) keeps LMDB's lock
# file alive: each dead reader leaves its slot in the reader table. LMDB
# has 256; a ledger that does not reclaim the slots of dead processes
# refuses every command (MDB_READERS_FULL) after 256 such kills.
killed_readers() {
	[ -n "$CAN_MOUNT" ] || skip "/dev/fuse or fusermount3 missing: no long-lived holder of the lock file"
	[ -n "${MKLEDGER:-}" ] && [ -x "$MKLEDGER" ] || skip "MKLEDGER not built"
	step "killed readers while mounted"
	"$MKLEDGER" "$T/big" 3000 >/dev/null || fail "mkledger failed"
	export LEDGER_DIR=$T/big
	export LEDGER_KEY=$T/big.keys/bench.key
	mount_at "$T/mnt2"
	local pid
	for _ in $(seq 1 "$READER_KILLS"); do
		# log writes ~300 KB into a pipe nobody reads: it blocks with the
		# ledger open, until killed
		"$LEDGER" log > >(sleep 1) 2>/dev/null &
		pid=$!
		sleep 0.02
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "crash: $READER_KILLS readers killed while mounted"
	expect_rc 0 ledger log -n 1
	expect_out_match '^3000 '
	expect_rc 0 ledger set staging/api image.tag=after-readers -m "readers killed"
	expect_out_match '^3001 [0-9a-f]{64}$'
	expect_rc 0 ledger verify --threads 2
	expect_out_match '^ok: 3001 entries, head 3001 '
	wait_for eval '[ "$(cut -d" " -f1 "$T/mnt2/HEAD" 2>/dev/null)" = 3001 ]'
	expect_rc 0 cat "$T/mnt2/HEAD"
	expect_out_match '^3001 '
	fusermount3 -u "$T/mnt2" || fail "fusermount3 -u"
	ok
}
section "killed readers while mounted" killed_readers


# ---------------------------------------------------------------------
# A writer killed between the two steps of an LMDB commit: its meta page
# is in data.mdb, but the lock file still has the old txnid, and readers
# start from the lock file. While another process keeps the lock file
# alive, the commit stays unseen until the next writer (this is how the
# kill loop above once saw an entry appear after its checks, with nobody
# writing). Readers settle it (ldg_store_settle): `ledger log` and
# `verify` see the entry at once, and so does the mount.
# kill_after_meta.so makes the kill land exactly there.
KILLS_MID=${SCN_KILLS_MID:-3}
# kill_mid_commit ARGS: `ledger ARGS` with kill_after_meta.so, output in
# $OUT and $ERR; returns its exit status (137 when killed). A second
# shell reports the kill, to /dev/null rather than the test's log.
kill_mid_commit() {
	LDG_KILL_AFTER_META=1 LD_PRELOAD=$PRELOAD_KILL_AFTER_META \
		bash -c '"$2" "${@:3}" >"$0" 2>"$1"' "$OUT" "$ERR" "$LEDGER" \
		"$@" 2>/dev/null
}
killed_mid_commit() {
	[ -n "${KILL_AFTER_META:-}" ] && [ -f "$KILL_AFTER_META" ] ||
		skip "KILL_AFTER_META (kill_after_meta.so) not built"
	local n holder rc i
	step "writers killed between data.mdb and the lock file"
	# a reader blocked on a full pipe keeps the lock file alive (the
	# pipe is a fifo this shell holds open and never reads)
	# Its output must outgrow the pipe (64 KiB) whatever the ledger's
	# size: with the sanitizer tree's 80 kills the ledger's log fit in
	# it, the reader finished and this section failed. Four entries of
	# 10 values of 4000 bytes (each under the 65,535-byte cap of a new
	# entry) make the log at least 160 KB.
	local pad args j
	pad=$(printf '%*s' 4000 '' | tr ' ' p)
	for j in 1 2 3 4; do
		args=()
		for i in $(seq 10); do
			args+=("pad$j.$i=$pad")
		done
		expect_rc 0 ledger set staging/pad "${args[@]}" -m "padding $j"
	done
	mkfifo "$T/hold"
	exec 8<>"$T/hold"
	"$LEDGER" log --json >"$T/hold" 2>"$T/hold.err" &
	holder=$!
	sleep 0.2
	kill -0 "$holder" 2>/dev/null ||
		fail "the blocked reader exited ($(wait "$holder"; echo "exit $?"): $(head -c 2000 "$T/hold.err"))"
	for i in $(seq 1 "$KILLS_MID"); do
		n=$(head_seq)
		LAST_CMD="LD_PRELOAD=kill_after_meta.so ledger set (round $i)"
		kill_mid_commit set staging/api "image.tag=mid$i" \
			-m "killed mid-commit $i"
		rc=$?
		[ "$rc" -eq 137 ] || fail "the set should die of SIGKILL, exit $rc"
		expect_no_out
		expect_rc 0 ledger log -n 1
		expect_out_match "^$((n + 1)) .* killed mid-commit $i\$"
		expect_rc 0 ledger verify
		expect_out_match "^ok: $((n + 1)) entries, head $((n + 1)) "
	done
	if [ -n "$CAN_MOUNT" ]; then
		step "the same while mounted: the mount follows"
		mount_at "$T/mnt3"
		n=$(head_seq)
		kill_mid_commit set staging/api image.tag=mid-mounted \
			-m "killed, mounted"
		wait_for eval '[ "$(cut -d" " -f1 "$T/mnt3/HEAD" 2>/dev/null)" = $((n + 1)) ]'
		expect_rc 0 cat "$T/mnt3/HEAD"
		expect_out_match "^$((n + 1)) [0-9a-f]{64}\$"
		expect_rc 0 cat "$T/mnt3/clusters/staging/api/image.tag"
		expect_out mid-mounted
		fusermount3 -u "$T/mnt3" || fail "fusermount3 -u"
	else
		echo "crash: /dev/fuse or fusermount3 missing: the mount's part of killed mid-commit is skipped"
	fi
	kill "$holder" 2>/dev/null
	exec 8<&-
	expect_rc 0 ledger set staging/api image.tag=after-mid -m "after"
	expect_out_match "^$((n + 2)) [0-9a-f]{64}\$"
	ok
}
section "writers killed between data.mdb and the lock file" killed_mid_commit

finish
