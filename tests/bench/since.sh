#!/usr/bin/env bash
# tests/bench/since.sh - what `ledger verify --since` (issue 15) costs.
#
#   tests/bench/since.sh [--quick] [--build DIR] [--workdir DIR] [--keep]
#
# One question, one markdown table on stdout: does checking the newest
# 1,000 entries of a ledger cost the same whatever its size? For ledgers
# of 10,000, 100,000 and 1,000,000 entries (mkledger; --quick: 10,000
# and 100,000), a checkpoint of all but the newest 1,000 (cpat, as if
# taken then), and the real binary's `ledger verify --since` from it,
# timed with runtimes (whole process, interleaved); a full `ledger
# verify` of the biggest once beside it. Goal (issue 15): under 100 ms
# for 1,000 new entries on 1,000,000.
#
#   --quick        no 1,000,000-entry ledger
#   --build DIR    the meson build directory (default build-bench:
#                  meson setup build-bench --buildtype=release)
#   --workdir DIR  where the ledgers go (default: a new directory under
#                  $BENCH_TMP or /var/tmp); removed unless --keep
#
# Never part of `meson test`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-bench
WORK=
KEEP=0
QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--workdir) WORK=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "since.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	SIZES="10000 100000" RUNS=10
else
	SIZES="10000 100000 1000000" RUNS=20
fi
NEW=1000

NAME=since.sh
BENCH=$BUILD/tests/bench
LEDGER=$BUILD/cli/ledger
. "$(dirname "$0")/lib.sh"
bench_need_built "$LEDGER" "$BENCH/mkledger" "$BENCH/cpat" "$BENCH/runtimes"
bench_workdir ledger-since
trap bench_workdir_done EXIT

# numbers on stdin -> "median p10 p90 n" (nearest rank; min/max when n<10)
stats() {
	sort -g | awk '{ v[NR] = $1 }
	END {
		n = NR
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		i = int(0.1 * n); if (i < 0.1 * n) i++; if (i < 1) i = 1
		j = int(0.9 * n); if (j < 0.9 * n) j++; if (j > n) j = n
		printf "%.0f [%.0f–%.0f]", m * 1000, v[i] * 1000, v[j] * 1000
	}'
}

echo "machine: $(bench_machine); load average $(cut -d' ' -f1 /proc/loadavg)"
echo
benches=()
for n in $SIZES; do
	log "mkledger: $(thousands "$n") entries"
	"$BENCH/mkledger" "$WORK/l$n" "$n" >/dev/null
	"$BENCH/cpat" "$WORK/l$n" "$WORK/l$n.keys/bench.key" $((n - NEW)) >"$WORK/cp$n"
	# the check must pass, and say what it checked
	out=$("$LEDGER" --ledger "$WORK/l$n" verify --since "$WORK/cp$n" | head -1)
	case $out in
	"ok: $NEW entries after $WORK/cp$n ($((n - NEW)) entries), head $n "*) ;;
	*) echo "since.sh: verify --since said: $out" >&2; exit 1 ;;
	esac
	benches+=("$LEDGER" --ledger "$WORK/l$n" verify --since "$WORK/cp$n" ":::")
done
unset 'benches[${#benches[@]}-1]'
log "ledger verify --since x $RUNS per size, interleaved"
"$BENCH/runtimes" -n "$RUNS" -w 2 "${benches[@]}" >"$WORK/t"
big=${SIZES##* }
log "ledger verify (full) of $(thousands "$big") entries, once"
"$BENCH/runtimes" -n 1 -w 0 "$LEDGER" --ledger "$WORK/l$big" verify >"$WORK/tfull"

# column c of runtimes' lines of bench b
col() { awk -v b="$2" -v c="$3" '$1 == b { print $c }' "$1"; }
echo "| \`ledger verify --since\`, $(thousands "$NEW") new entries | wall: median ms [p10–p90] | CPU (all threads): median ms [p10–p90] |"
echo "| --- | --- | --- |"
i=0
for n in $SIZES; do
	echo "| on $(thousands "$n") entries | $(col "$WORK/t" $i 2 | stats) | $(col "$WORK/t" $i 3 | stats) |"
	i=$((i + 1))
done
echo "| (full \`ledger verify\` of $(thousands "$big"), 1 run) | $(col "$WORK/tfull" 0 2 | stats) | $(col "$WORK/tfull" 0 3 | stats) |"
