#!/bin/bash
# stress.sh - 8 processes x 500 `ledger set` at once against one ledger:
# 4001 contiguous entries (with init), none lost or doubled, every
# printed "SEQ HASH" committed, each writer's sets in its order, verify
# ok. Then the same load again while the ledger is mounted (`ledger
# mount`), with a reader cat-ing clusters/*/*/values.yaml and HEAD and
# `ledger verify` running over and over at the same time: every command
# succeeds, HEAD never goes back, the final verify is ok, and the mount
# unmounts cleanly. Prints the throughput.
#
# The mounted part is skipped (its section exits 77) without /dev/fuse or
# fusermount3: it needs a real FUSE mount.
. "$(dirname "$0")/lib.sh"
need mdb_dump
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"

WRITERS=${SCN_STRESS_WRITERS:-8}
PER=${SCN_STRESS_PER:-500}

trap unmount_all EXIT

# writer I FIRST: PER sets of stress/wI n:=FIRST.. (typed: a string
# that looks like a number gets a hint on stderr, which must stay empty),
# in order
writer() {
	local i=$1 first=$2 j
	while [ ! -e "$T/go" ]; do sleep 0.01; done
	for ((j = first; j < first + PER; j++)); do
		"$LEDGER" set "stress/w$i" "n:=$j" -m "writer $i, set $j" \
			>>"$T/out.$i" 2>>"$T/err.$i" ||
			echo "set stress/w$i n:=$j: exit $?" >>"$T/fail.$i"
	done
}

# run_writers FIRST: all writers at once; sets ELAPSED and RATE
run_writers() {
	local first=$1 i pids=() start end
	rm -f "$T/go" "$T"/out.* "$T"/err.* "$T"/fail.[0-9]*
	for ((i = 0; i < WRITERS; i++)); do
		: >"$T/out.$i"
		writer "$i" "$first" &
		pids+=($!)
	done
	sleep 0.2
	start=$(date +%s.%N)
	touch "$T/go"
	for p in "${pids[@]}"; do
		wait "$p"
	done
	end=$(date +%s.%N)
	ELAPSED=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	RATE=$(awk -v a="$start" -v b="$end" -v n=$((WRITERS * PER)) \
		'BEGIN { printf "%.0f", n / (b - a) }')
}

# check_writers BEFORE LAST: the writers' output against the ledger,
# whose head was BEFORE when they started; each wrote n:=LAST last
check_writers() {
	local before=$1 last=$2 total=$(($1 + WRITERS * PER)) i
	for ((i = 0; i < WRITERS; i++)); do
		if [ -s "$T/fail.$i" ]; then
			head -3 "$T/fail.$i" "$T/err.$i"
			fail "writer $i: $(wc -l <"$T/fail.$i") sets failed"
		fi
		ok
		check "writer $i: stderr empty" [ ! -s "$T/err.$i" ]
		check "writer $i printed $PER lines" [ "$(wc -l <"$T/out.$i")" -eq "$PER" ]
		check "writer $i: only SEQ HASH lines" \
			[ "$(grep -Evc '^[0-9]+ [0-9a-f]{64}$' "$T/out.$i")" -eq 0 ]
		check "writer $i: its seqs increase" \
			sh -c "cut -d' ' -f1 '$T/out.$i' | sort -n -c"
	done
	cat "$T"/out.[0-9]* | sort -n >"$T/printed"
	check "the printed seqs are exactly $((before + 1))..$total" \
		cmp -s <(cut -d' ' -f1 "$T/printed") <(seq $((before + 1)) "$total")
	run "$TAMPER" "$LEDGER_DIR" seqs
	check "the entries database holds exactly seqs 1..$total" \
		cmp -s "$OUT" <(seq 1 "$total")
	log_pairs >"$T/logged"
	check "every printed SEQ HASH is the committed entry" \
		cmp -s <(tail -n "$((WRITERS * PER))" "$T/logged") "$T/printed"
	for ((i = 0; i < WRITERS; i++)); do
		expect_rc 0 ledger get "stress/w$i" n
		expect_out "$last"
	done
	expect_rc 0 ledger verify
	expect_out_match "^ok: $total entries, head $total [0-9a-f]{64}\$"
}

step "init"
init_ledger example.com/deploy/stress

step "$WRITERS writers x $PER sets"
run_writers 1
echo "stress: $((WRITERS * PER)) sets from $WRITERS processes in ${ELAPSED}s: $RATE sets/s"
check_writers 1 "$PER"
for ((i = 0; i < WRITERS; i++)); do
	expect_rc 0 ledger history "stress/w$i" --json
	expect_json_len = "$PER"
done
TOTAL1=$((WRITERS * PER + 1))

# ---------------------------------------------------------------------
mounted_load() {
	[ -c /dev/fuse ] || skip "/dev/fuse is absent: cannot mount FUSE here"
	command -v fusermount3 >/dev/null 2>&1 || skip "fusermount3 not installed"
	local M=$T/mnt rpid vpid reads verifies
	step "mount"
	mkdir -p "$M"
	expect_rc 0 ledger mount "$M"
	wait_for mountpoint -q "$M"
	mountpoint -q "$M" || fail "$M did not become a mount point"
	ok
	run cat "$M/HEAD"
	expect_out_match "^$TOTAL1 [0-9a-f]{64}\$"

	# the reader: every values.yaml and HEAD, over and over
	(
		last=0
		while [ ! -e "$T/go" ]; do sleep 0.01; done
		while [ ! -e "$T/done" ]; do
			if ! cat "$M"/clusters/*/*/values.yaml >"$T/r.yaml" 2>>"$T/r.err"; then
				echo "cat values.yaml failed" >>"$T/fail.r"
			elif [ "$(grep -Ec '^"n": [0-9]+$' "$T/r.yaml")" -ne "$WRITERS" ]; then
				echo "values.yaml: $(head -c 200 "$T/r.yaml" | tr '\n' '|')" >>"$T/fail.r"
			fi
			if ! read -r head hash <"$M/HEAD" 2>>"$T/r.err"; then
				echo "cat HEAD failed" >>"$T/fail.r"
			elif [[ ! $head =~ ^[0-9]+$ || ! $hash =~ ^[0-9a-f]{64}$ ]]; then
				echo "HEAD is \"$head $hash\"" >>"$T/fail.r"
			elif [ "$head" -lt "$last" ]; then
				echo "HEAD went back: $last -> $head" >>"$T/fail.r"
			else
				last=$head
			fi
			echo >>"$T/reads"
		done
	) &
	rpid=$!
	# the auditor: verify, over and over
	(
		while [ ! -e "$T/go" ]; do sleep 0.01; done
		while [ ! -e "$T/done" ]; do
			"$LEDGER" verify --threads 1 >"$T/v.out" 2>>"$T/v.err" ||
				echo "verify: exit $?" >>"$T/fail.v"
			grep -Eq '^ok: [0-9]+ entries, head [0-9]+ [0-9a-f]{64}$' "$T/v.out" ||
				echo "verify said: $(cat "$T/v.out")" >>"$T/fail.v"
			echo >>"$T/verifies"
		done
	) &
	vpid=$!

	step "$WRITERS writers x $PER sets while mounted, read and verified"
	: >"$T/reads"
	: >"$T/verifies"
	run_writers $((PER + 1))
	touch "$T/done"
	wait "$rpid" "$vpid"
	reads=$(wc -l <"$T/reads")
	verifies=$(wc -l <"$T/verifies")
	echo "stress: mounted: $((WRITERS * PER)) sets from $WRITERS processes in ${ELAPSED}s: $RATE sets/s, with $reads reads of every values.yaml and HEAD and $verifies full verifies meanwhile"
	if [ -s "$T/fail.r" ]; then
		head -5 "$T/fail.r" "$T/r.err"
		fail "the reader failed $(wc -l <"$T/fail.r") times"
	fi
	ok
	check "the reader's stderr is empty" [ ! -s "$T/r.err" ]
	if [ -s "$T/fail.v" ]; then
		head -5 "$T/fail.v" "$T/v.err"
		fail "verify failed $(wc -l <"$T/fail.v") times while the writers wrote"
	fi
	ok
	check "the reader read while the writers wrote" [ "$reads" -ge 10 ]
	check "verify ran while the writers wrote" [ "$verifies" -ge 2 ]
	check_writers "$TOTAL1" $((2 * PER))

	step "the mount shows the final head, then unmounts"
	local total=$((TOTAL1 + WRITERS * PER)) want
	want=$(tail -n 1 "$T/logged")
	wait_for eval '[ "$(cat "$M/HEAD")" = "$want" ]'
	run cat "$M/HEAD"
	expect_out "$want"
	for ((i = 0; i < WRITERS; i++)); do
		run cat "$M/clusters/stress/w$i/values.yaml"
		# "n" is quoted (a bare n is a boolean in YAML 1.1); its value
		# is a typed number, so it is not
		expect_out "\"n\": $((2 * PER))"
	done
	expect_rc 0 fusermount3 -u "$M"
	check "unmounted" sh -c "! mountpoint -q '$M'"
	expect_rc 0 ledger verify --threads 2
	expect_out_match "^ok: $total entries, head $total "
}
section "the same load while mounted, read and verified" mounted_load

finish
