#!/usr/bin/env bash
# tests/bench/policy.sh - what promotion policies (issue 13) cost.
#
#   tests/bench/policy.sh [--quick] [--build DIR] [--old-build DIR]
#                         [--workdir DIR] [--keep]
#
# Two questions, each in one markdown table on stdout:
#  1. Does `ledger set` on an ungated target cost what it did before
#     policies? The same `ledger set` through the real binary, interleaved
#     (runtimes), on a 1,000-entry ledger: the build before policies
#     (--old-build, its own mkledger and ledger) against this build,
#     without any policy and with policies and windows on other scopes.
#  2. Does policy evaluation stay O(log N) per write? policyrate on a
#     1,000- and a 1,000,000-entry ledger (--quick: 20,000): an ungated
#     set with policies present, a proposal, and the approval that enacts
#     it (soak evidence found and checked).
#
#   --quick          the big ledger has 20,000 entries, fewer runs
#   --build DIR      this build (default build-bench: meson setup
#                    build-bench --buildtype=release)
#   --old-build DIR  a release build of the commit before policies
#                    (default: none, and table 1 has no "before" row)
#   --workdir DIR    where the ledgers go (a real disk: fsync matters)
#
# Never part of `meson test`. policyrate waits 61 s per ledger once (the
# shortest soak a policy may have).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-bench
OLD=
WORK=
KEEP=0
QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--old-build) OLD=$(cd "$2" && pwd); shift ;;
	--workdir) WORK=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "policy.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	BIG=20000 RUNS=30 OPS=20
else
	BIG=1000000 RUNS=60 OPS=50
fi

NAME=policy.sh
BENCH=$BUILD/tests/bench
LEDGER=$BUILD/cli/ledger
. "$(dirname "$0")/lib.sh"
bench_need_built "$LEDGER" "$BENCH/mkledger" "$BENCH/policyrate" "$BENCH/runtimes"
[ -z "$OLD" ] || bench_need_built "$OLD/cli/ledger" "$OLD/tests/bench/mkledger"
bench_workdir ledger-policy
trap bench_workdir_done EXIT

echo "machine: $(bench_machine); load average $(cut -d' ' -f1 /proc/loadavg)"
echo

# ---- 1. ungated `ledger set`, before and after ----

benches=()
names=()
if [ -n "$OLD" ]; then
	log "mkledger (before policies): 1,000 entries"
	"$OLD/tests/bench/mkledger" "$WORK/old" 1000 >/dev/null
	benches+=("$OLD/cli/ledger" --ledger "$WORK/old" set c1/r1
		image.tag={} -m bench --key "$WORK/old.keys/bench.key" ":::")
	names+=("before policies")
fi
log "mkledger: 1,000 entries, twice"
"$BENCH/mkledger" "$WORK/new" 1000 >/dev/null
"$BENCH/mkledger" "$WORK/gov" 1000 >/dev/null
log "policies and windows on other scopes (policyrate, 1 op)"
"$BENCH/policyrate" "$WORK/gov" 1 >/dev/null
benches+=("$LEDGER" --ledger "$WORK/new" set c1/r1 image.tag={} -m bench
	--key "$WORK/new.keys/bench.key" ":::"
	"$LEDGER" --ledger "$WORK/gov" set c1/r1 image.tag={} -m bench
	--key "$WORK/gov.keys/bench.key")
names+=("this build, no policy" "this build, policies on other scopes")
log "runtimes: ${#names[@]} x $RUNS interleaved runs of ledger set"
"$BENCH/runtimes" -n "$RUNS" -w 3 "${benches[@]}" >"$WORK/t_set"

echo "| ledger set on an ungated target, 1,000 entries | median ms [p10–p90] | runs |"
echo "| --- | --- | --- |"
for i in "${!names[@]}"; do
	awk -v b="$i" '$1 == b { print $2 * 1000 }' "$WORK/t_set" | sort -g |
		awk -v name="${names[$i]}" '{ v[NR] = $1 } END {
			n = NR; m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "| %s | %.2f [%.2f–%.2f] | %d |\n", name, m,
				v[int(0.1 * n) + 1], v[n - int(0.1 * n)], n }'
done
echo

# ---- 2. per write at 1k and at BIG ----

echo "| write under policies | 1,000 entries: median µs [p10–p90] | $(thousands "$BIG") entries | ratio |"
echo "| --- | --- | --- | --- |"
log "mkledger: $(thousands "$BIG") entries"
"$BENCH/mkledger" "$WORK/big" "$BIG" >/dev/null
log "policyrate: $OPS ops on each ledger"
"$BENCH/policyrate" "$WORK/new" "$OPS" >"$WORK/r_small"
"$BENCH/policyrate" "$WORK/big" "$OPS" >"$WORK/r_big"
join <(sort "$WORK/r_small") <(sort "$WORK/r_big") | awk '{
	printf "| %s | %.0f [%.0f–%.0f] | %.0f [%.0f–%.0f] | %.2f |\n",
		$1, $2, $3, $4, $6, $7, $8, $6 / $2 }'
