#!/usr/bin/env bash
# tests/bench/tiles.sh - what `ledger tiles` (issue 15) costs.
#
#   tests/bench/tiles.sh [--quick] [--build DIR] [--workdir DIR] [--keep]
#                        [--rounds N]
#
# Builds a 1,000,000-entry ledger (mkledger; --quick: 20,000), then
#  1. exports it whole into an empty directory: wall time, peak RSS, the
#     files and bytes written (bundles, hash tiles);
#  2. N rounds (default 3) of 1,000 new entries (`ledger set`, not timed)
#     followed by an incremental export: wall time, files and bytes;
#  3. checks the final tree with tests/tools/tlog_check.py (the
#     independent checker; its time is printed, not a row).
# Prints one markdown table on stdout, progress on stderr. Never part of
# `meson test`.
#
#   --quick        a 20,000-entry ledger
#   --build DIR    the meson build directory (default: build-bench, made
#                  with `meson setup build-bench --buildtype=release`)
#   --workdir DIR  where the ledger and the tree go (default: a new
#                  directory under $BENCH_TMP or /var/tmp: a real disk,
#                  the export ends with syncfs); removed unless --keep
#   --rounds N     incremental rounds
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-bench
WORK=
KEEP=0
BIG=1000000
ROUNDS=3
NEW=1000
while [ $# -gt 0 ]; do
	case $1 in
	--quick) BIG=20000 ;;
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--workdir) WORK=$2; shift ;;
	--keep) KEEP=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "tiles.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

LEDGER=$BUILD/cli/ledger
NAME=tiles.sh
. "$(dirname "$0")/lib.sh"
bench_need_built "$LEDGER" "$BUILD/tests/bench/mkledger"
bench_need_tools python3 jq /usr/bin/time
bench_workdir ledger-bench-tiles
trap bench_workdir_done EXIT

export LEDGER_DIR=$WORK/ledger
export LEDGER_KEY=$WORK/ledger.keys/bench.key
PUB=$WORK/pub

# secs CMD...: runs CMD, its stdout to $WORK/out; "WALL RSS_KIB" on
# stdout (GNU time)
secs() {
	/usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >"$WORK/out"
	cat "$WORK/time"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

log "building a $(thousands "$BIG")-entry ledger in $WORK (mkledger)"
start=$(date +%s.%N)
"$BUILD/tests/bench/mkledger" "$LEDGER_DIR" "$BIG" >/dev/null
log "built in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

log "exporting it whole"
read -r wall rss < <(secs "$LEDGER" tiles "$PUB" --key "$LEDGER_KEY" --json)
files=$(jq .tiles "$WORK/out")
bytes=$(jq .bytes "$WORK/out")
bundles=$(find "$PUB/tile/entries" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
hashes=$(find "$PUB/tile" -path "$PUB/tile/entries" -prune -o -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
disk=$(du -sk "$PUB" | cut -f1)
data=$(stat -c %s "$LEDGER_DIR/data.mdb")
log "first export: $wall s, $files files, $bytes bytes"
first="| \`ledger tiles\` of $(thousands "$BIG") entries into an empty directory | $wall s | $(thousands "$files") files, $(mib "$bytes") MiB ($(mib "$bundles") MiB of entry bundles, $(mib "$hashes") MiB of hash tiles; $(mib $((disk * 1024))) MiB on disk; data.mdb is $(mib "$data") MiB) | $((rss / 1024)) MiB |"

rows=()
walls=()
for r in $(seq 1 "$ROUNDS"); do
	log "round $r: $NEW new entries (ledger set)"
	for i in $(seq 1 "$NEW"); do
		"$LEDGER" set "c$((i % 7))/bench" "image.tag=r$r-$i" -m "round $r" >/dev/null
	done
	read -r wall rss < <(secs "$LEDGER" tiles "$PUB" --key "$LEDGER_KEY" --json)
	walls+=("$wall")
	rows+=("$(jq -r '"\(.from) -> \(.size): \(.tiles) files, \(.bytes) bytes"' "$WORK/out")")
	log "round $r: $wall s, ${rows[-1]}"
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
range=$(printf '%s\n' "${walls[@]}" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }')

log "checking the tree with tlog_check.py"
start=$(date +%s.%N)
origin=$(sed -n 1p "$PUB/checkpoint")
python3 "$ROOT/tests/tools/tlog_check.py" --origin "$origin" \
	--vkey "$(cat "$WORK/ledger.keys/bench.pub")" "$PUB" >&2
log "tlog_check.py: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

echo "| what | wall time | written | peak RSS |"
echo "| --- | --- | --- | --- |"
echo "$first"
echo "| incremental \`ledger tiles\` after $(thousands "$NEW") new entries (median [min–max] of $ROUNDS rounds) | $median [$range] s | ${rows[0]} | $((rss / 1024)) MiB |"
echo
echo "Machine: $(bench_machine)."
