#!/bin/bash
# concurrency.sh - 4 processes x 250 `ledger set` at once on one target,
# while a reader watches: every set succeeds, seqs 1..1001 are contiguous
# with none lost or doubled, every printed "SEQ HASH" is what was
# committed, each writer's changes land in its own order, readers never
# fail or see the head go back, and the result verifies.
. "$(dirname "$0")/lib.sh"
need mdb_dump

WRITERS=${SCN_WRITERS:-4}
PER=${SCN_PER_WRITER:-250}
TOTAL=$((WRITERS * PER + 1))

init_ledger example.com/deploy/concurrency

writer() { # writer I: PER sets of key wI, values 1..PER, in order
	local i=$1 j
	while [ ! -e "$T/go" ]; do sleep 0.01; done
	for j in $(seq 1 "$PER"); do
		"$LEDGER" set staging/api "w$i=$j" -m "writer $i, change $j" \
			>>"$T/out.$i" 2>>"$T/err.$i" ||
			echo "set w$i=$j: exit $?" >>"$T/fail.$i"
	done
}

reader() { # until the writers are done: reads must always work
	local last=0 head
	while [ ! -e "$T/go" ]; do sleep 0.01; done
	while [ ! -e "$T/done" ]; do
		if ! "$LEDGER" log -n 1 --json >"$T/r.json" 2>>"$T/err.r"; then
			echo "log failed" >>"$T/fail.r"
			continue
		fi
		head=$(jget "$T/r.json" 0 seq) || head=bad
		case $head in
		'' | *[!0-9]*) echo "log -n 1 gave no seq: $head" >>"$T/fail.r" ;;
		*)
			[ "$head" -ge "$last" ] ||
				echo "head went back: $last -> $head" >>"$T/fail.r"
			last=$head
			;;
		esac
		"$LEDGER" get staging/api --json >/dev/null 2>>"$T/err.r" ||
			[ "$head" -le 1 ] || echo "get failed at head $head" >>"$T/fail.r"
		echo "$head" >>"$T/reads"
	done
}

step "run $WRITERS writers x $PER sets"
pids=()
for i in $(seq 0 $((WRITERS - 1))); do
	: >"$T/out.$i"
	writer "$i" &
	pids+=($!)
done
reader &
rpid=$!
sleep 0.2
start=$(date +%s.%N)
touch "$T/go"
for p in "${pids[@]}"; do
	wait "$p"
done
end=$(date +%s.%N)
touch "$T/done"
wait "$rpid"
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
rate=$(awk -v a="$start" -v b="$end" -v n=$((WRITERS * PER)) \
	'BEGIN { printf "%.0f", n / (b - a) }')
echo "concurrency: $((WRITERS * PER)) sets from $WRITERS processes in ${elapsed}s ($rate sets/s); $(wc -l <"$T/reads") reads meanwhile"

for i in $(seq 0 $((WRITERS - 1))); do
	if [ -s "$T/fail.$i" ]; then
		head -5 "$T/fail.$i" "$T/err.$i"
		fail "writer $i: $(wc -l <"$T/fail.$i") sets failed"
	fi
	ok
	check "writer $i printed $PER lines" [ "$(wc -l <"$T/out.$i")" -eq "$PER" ]
	# it said nothing but "SEQ HASH"
	check "writer $i: only SEQ HASH lines" \
		[ "$(grep -Evc '^[0-9]+ [0-9a-f]{64}$' "$T/out.$i")" -eq 0 ]
	# its seqs increase: a process's sets are applied in its order
	check "writer $i: seqs increase" \
		sh -c "cut -d' ' -f1 '$T/out.$i' | sort -n -c"
done
if [ -s "$T/fail.r" ]; then
	head -5 "$T/fail.r" "$T/err.r"
	fail "the reader failed: $(wc -l <"$T/fail.r") times"
fi
ok
check "the reader read while writers wrote" [ "$(wc -l <"$T/reads")" -ge 1 ]

step "seqs 1..$TOTAL, none lost or doubled"
cat "$T"/out.[0-9]* | cut -d' ' -f1 | sort -n >"$T/printed"
seq 2 "$TOTAL" >"$T/want"
check "the printed seqs are exactly 2..$TOTAL" cmp -s "$T/printed" "$T/want"
if [ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ]; then
	run "$TAMPER" "$LEDGER_DIR" seqs
	seq 1 "$TOTAL" >"$T/want1"
	check "the entries database holds exactly seqs 1..$TOTAL" cmp -s "$OUT" "$T/want1"
fi

expect_rc 0 ledger log --json
expect_json_len = "$TOTAL"
expect_json 0 seq = "$TOTAL"
expect_json "$((TOTAL - 1))" seq = 1
# every printed hash is the committed entry's hash
case $JSON_TOOL in
jq) jq -r '.[] | "\(.seq) \(.hash)"' "$OUT" | sort -n >"$T/logged" ;;
*) python3 -c 'import json,sys
for e in json.load(open(sys.argv[1])): print(e["seq"], e["hash"])' "$OUT" |
	sort -n >"$T/logged" ;;
esac
cat "$T"/out.[0-9]* | sort -n >"$T/printed_pairs"
check "log has seqs 1..$TOTAL" cmp -s <(cut -d' ' -f1 "$T/logged") "$T/want1"
check "every printed SEQ HASH is the committed entry" \
	cmp -s <(tail -n +2 "$T/logged") "$T/printed_pairs"
# each writer's values appear in its order: w$i goes 1, 2, ..., PER
for i in $(seq 0 $((WRITERS - 1))); do
	case $JSON_TOOL in
	jq) jq -r --arg k "w$i" 'reverse | .[] | .changes[]? | select(.key == $k) | .value' "$OUT" >"$T/vals.$i" ;;
	*) python3 -c 'import json,sys
for e in reversed(json.load(open(sys.argv[1]))):
    for c in e["changes"]:
        if c["key"] == sys.argv[2]: print(c["value"])' "$OUT" "w$i" >"$T/vals.$i" ;;
	esac
	check "writer $i's values in order" cmp -s "$T/vals.$i" <(seq 1 "$PER")
done

step "the state and the verification"
expect_rc 0 ledger get staging/api
want=$(for i in $(seq 0 $((WRITERS - 1))); do echo "w$i=$PER"; done)
expect_out "$want"
expect_rc 0 ledger history staging/api --json
expect_json_len = "$((TOTAL - 1))"
expect_rc 0 ledger verify
expect_out_match "^ok: $TOTAL entries, head $TOTAL [0-9a-f]{64}\$"
expect_rc 0 ledger verify --threads 2 --json
expect_json ok = true
expect_json entries = "$TOTAL"
expect_json head = "$TOTAL"
expect_rc 0 ledger verify --threads 1
expect_out_match "^ok: $TOTAL entries, head $TOTAL "

# reindex from 1001 entries rebuilds the same indexes
dump_all "$T/before_reindex"
expect_rc 0 ledger reindex
expect_out "reindexed $TOTAL entries"
dump_all "$T/after_reindex"
check "reindex after concurrent writes rebuilds identical indexes" \
	cmp -s "$T/before_reindex" "$T/after_reindex"

# ---------------------------------------------------------------------
# Big entries from several processes at once: the map (8 MiB at first)
# must grow while other processes have it open, and no writer may see
# MDB_MAP_FULL or MDB_MAP_RESIZED. A map grows only a few times per
# ledger, so this is done for several fresh ledgers (SCN_BIG_ROUNDS).
BIGW=${SCN_BIG_WRITERS:-6}
# 20 values of 3 KB: a new entry is at most 64 KiB, so many of them
BIGN=16
NKEYS=20
ROUNDS=${SCN_BIG_ROUNDS:-8}
V=$(printf '%*s' 3000 '' | tr ' ' v)

big_writer() { # big_writer ROUND P
	local r=$1 p=$2 n k args
	while [ ! -e "$T/go-big.$r" ]; do sleep 0.01; done
	for n in $(seq 1 $BIGN); do
		args=()
		for k in $(seq 1 $NKEYS); do
			args+=("p$p.k$k=$n$V")
		done
		"$LEDGER" set staging/big "${args[@]}" -m "big $p $n" \
			>>"$T/bout.$r.$p" 2>>"$T/berr.$r.$p" ||
			echo "big $p $n: exit $?" >>"$T/bfail.$r.$p"
	done
}

big_reader() { # big_reader ROUND: reads must work while the map grows
	local r=$1
	while [ ! -e "$T/go-big.$r" ]; do sleep 0.01; done
	while [ ! -e "$T/done-big.$r" ]; do
		"$LEDGER" log -n 1 >/dev/null 2>>"$T/brerr.$r" ||
			echo "log -n 1: exit $?" >>"$T/brfail.$r"
		echo >>"$T/breads.$r"
	done
}

big_round() { # big_round R
	local r=$1 p pid pids=() start end size rpid
	step "concurrent writers while the map grows (round $r of $ROUNDS)"
	export LEDGER_DIR=$T/big.$r
	expect_rc 0 ledger init --origin example.com/deploy/big
	for p in $(seq 1 $BIGW); do
		: >"$T/bout.$r.$p"
		big_writer "$r" "$p" &
		pids+=($!)
	done
	big_reader "$r" &
	rpid=$!
	start=$(date +%s.%N)
	touch "$T/go-big.$r"
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	end=$(date +%s.%N)
	touch "$T/done-big.$r"
	wait "$rpid"
	size=$(stat -c %s "$LEDGER_DIR/data.mdb")
	echo "concurrency: round $r: $((BIGW * BIGN)) entries of ~$((NKEYS * 3)) KB from $BIGW processes in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')s; data.mdb $((size / 1048576)) MiB"
	for p in $(seq 1 $BIGW); do
		if [ -s "$T/bfail.$r.$p" ]; then
			head -3 "$T/bfail.$r.$p" "$T/berr.$r.$p"
			fail "big writer $p: $(wc -l <"$T/bfail.$r.$p") sets failed"
		fi
		ok
		check "big writer $p: stderr empty" [ ! -s "$T/berr.$r.$p" ]
	done
	if [ -s "$T/brfail.$r" ]; then
		head -3 "$T/brfail.$r" "$T/brerr.$r"
		fail "the reader failed $(wc -l <"$T/brfail.$r") times while the map grew"
	fi
	ok
	cat "$T"/bout.$r.* | cut -d' ' -f1 | sort -n >"$T/bprinted"
	check "big: seqs 2..$((BIGW * BIGN + 1))" cmp -s "$T/bprinted" <(seq 2 $((BIGW * BIGN + 1)))
	check "the map grew past its first 8 MiB" [ "$size" -gt $((8 * 1048576)) ]
	expect_rc 0 ledger get staging/big p1.k$NKEYS
	expect_out "$BIGN$V"
	expect_rc 0 ledger verify --threads 2
	expect_out_match "^ok: $((BIGW * BIGN + 1)) entries, head $((BIGW * BIGN + 1)) "
	rm -rf "$LEDGER_DIR"
}

for r in $(seq 1 "$ROUNDS"); do
	big_round "$r"
done

finish
