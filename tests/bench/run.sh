#!/usr/bin/env bash
# tests/bench/run.sh - the benchmarks of issue 6, side by side in one run.
#
#   tests/bench/run.sh [--quick] [--build DIR] [--workdir DIR] [--keep]
#                      [--wait-idle PCT]
#
# Builds a 1,000-entry and a 1,000,000-entry ledger (mkledger), then
# measures every row of the issue's table against its baseline in the
# same run, and prints ONE markdown table (median and p10-p90 over
# repeated runs; with fewer than 10 runs p10-p90 is min-max) and a
# machine line to stdout. Progress and the details (per-database sizes,
# build and check times) go to stderr. Never part of `meson test`.
#
#   --quick        a 20,000-entry "big" ledger and fewer runs (~1 min)
#   --build DIR    the meson build directory (default: build-bench, made
#                  with `meson setup build-bench --buildtype=release`)
#   --workdir DIR  where the ledgers, mounts and git repos go (default:
#                  a new directory under $BENCH_TMP or /var/tmp: it must
#                  be a real disk, or fsync costs nothing); removed at the
#                  end unless --keep
#
# Needs: git, sed, ls, cat, mdb_stat (lmdb-utils), fusermount3 and
# /dev/fuse. Runs as any user that may mount FUSE.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-bench
WORK=
KEEP=0
QUICK=0
WAIT_IDLE=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--workdir) WORK=$2; shift ;;
	--keep) KEEP=1 ;;
	--wait-idle) WAIT_IDLE=$2; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	BIG=20000 SMALL=1000
	SET_RUNS=20 READ_RUNS=20 VERIFY_RUNS=2 LS_RUNS=2
	OPS=2000 ROUNDS=3 SIG_N=10000 SIG_ROUNDS=3
else
	BIG=1000000 SMALL=1000
	SET_RUNS=50 READ_RUNS=40 VERIFY_RUNS=3 LS_RUNS=3
	OPS=10000 ROUNDS=7 SIG_N=10000 SIG_ROUNDS=7
fi
TARGET=c1/r1 # in every ledger mkledger makes from seq 151 on

LEDGER=$BUILD/cli/ledger
BENCH=$BUILD/tests/bench
. "$(dirname "$0")/lib.sh"
NAME=run.sh
bench_need_built "$LEDGER" "$BENCH/mkledger" "$BENCH/sigrate" "$BENCH/openread" \
	 "$BENCH/dbsize" "$BENCH/runtimes" "$BENCH/fusefloor" "$BENCH/relayout"
bench_need_tools git sed ls cat mdb_stat fusermount3 awk

bench_workdir ledger-bench
NPROC=$(nproc)
MOUNT_PIDS=()
MOUNTS=()
TMPFS_MOUNTED=
TMPFS=
cleanup() {
	set +e
	for m in "${MOUNTS[@]}"; do fusermount3 -u "$m" 2>/dev/null; done
	for p in "${MOUNT_PIDS[@]}"; do
		# our own `ledger mount -f` daemons: they end when unmounted;
		# one that does not (a busy mount) is stopped by its pid
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$TMPFS_MOUNTED" ]; then
		umount "$TMPFS_MOUNTED"
	elif [ -n "$TMPFS" ]; then
		rm -rf "$TMPFS"
	fi
	bench_workdir_done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- statistics ----

# numbers on stdin -> "median p10 p90 n" (nearest rank; min/max when n<10)
stats() {
	sort -g | awk '{ v[NR] = $1 }
	END {
		n = NR
		if (!n) { print "nan nan nan 0"; exit }
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		i = int(0.1 * n); if (i < 0.1 * n) i++; if (i < 1) i = 1
		j = int(0.9 * n); if (j < 0.9 * n) j++; if (j > n) j = n
		printf "%.9g %.9g %.9g %d\n", m, v[i], v[j], n
	}'
}
# runtimes output file, bench index -> its seconds, one a line
times_of() { awk -v b="$2" '$1 == b { print $2 }' "$1"; }
# "median p10 p90 n" on stdin, printed with printf format %$1, unit $2
fmt() {
	awk -v f="$1" -v unit="${2-}" '{
		n = split($0, a, " ")
		printf "%" f " [%" f "–%" f "]%s", a[1], a[2], a[3], unit
	}'
}
scale() { awk -v k="$1" '{ printf "%.9g %.9g %.9g %d\n", $1*k, $2*k, $3*k, $4 }'; }
med() { cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3g", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
yesno() { if "$@"; then echo yes; else echo "**no**"; fi; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# ---- the machine ----

FSTYPE=$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK")
[ "$FSTYPE" = tmpfs ] &&
	log "warning: $WORK is on tmpfs: fsync is free there, set/git timings mean little (use --workdir)"
if [ -n "$WAIT_IDLE" ]; then
	for i in $(seq 360); do
		IDLE=$(cpu_idle 5)
		[ "$IDLE" -ge "$WAIT_IDLE" ] && break
		[ $((i % 12)) = 1 ] && log "waiting for ${WAIT_IDLE}% idle CPU (now ${IDLE}%)" || true
	done
fi
IDLE=$(cpu_idle 2)
LOAD=$(cut -d' ' -f1 /proc/loadavg)
MACHINE="machine: $(bench_machine); ledgers on $FSTYPE ($(df --output=source "$WORK" | tail -1)); before the run: load average $LOAD, ${IDLE}% of CPU time idle"
log "$MACHINE"
log "work directory $WORK"

# ---- 1. the signature limit ----

# sigrate runs again next to every verify run (below), so that the limit
# and the throughput share the same moments of a shared machine
sigrate_round() {
	"$BENCH/sigrate" "$SIG_N" 1 1 >>"$WORK/sig1"
	"$BENCH/sigrate" "$SIG_N" 1 "$NPROC" >>"$WORK/sigN"
}
log "sigrate: $SIG_N verifications x $SIG_ROUNDS rounds, 1 thread and $NPROC threads"
: >"$WORK/sig1"
: >"$WORK/sigN"
for _ in $(seq "$SIG_ROUNDS"); do sigrate_round; done

# ---- 2. the ledgers ----

SM=$WORK/small BG=$WORK/big
log "mkledger: $SMALL entries"
"$BENCH/mkledger" "$SM" "$SMALL" >/dev/null
log "mkledger: $BIG entries"
t0=$EPOCHREALTIME
"$BENCH/mkledger" "$BG" "$BIG" >/dev/null
BUILD_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
log "  built in $BUILD_S s"

log "ledger verify (the check of the big ledger)"
t0=$EPOCHREALTIME
CHECK=$("$LEDGER" --ledger "$BG" verify)
CHECK_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
log "  $CHECK ($CHECK_S s)"
VERIFIED=$(echo "$CHECK" | awk '{ print $2 }')
[ "$VERIFIED" = "$BIG" ] || { log "verify did not accept $BIG entries"; exit 1; }

# ---- 3. bytes per entry (before anything else is appended) ----

log "mdb_stat -a / dbsize"
mdb_stat -a -e "$BG" >"$WORK/mdb_stat"
DB_BYTES=$(awk '
	/^  Page size:/ { ps = $3 }
	/^Status of / { name = substr($0, 11); in_db = 1 }
	in_db && /^  (Branch|Leaf|Overflow) pages:/ { pages += $3 }
	in_db && name == "entries" && /^  Entries:/ { n = $2 }
	END { printf "%.1f %d %d %d\n", pages * ps / n, pages, ps, n }' "$WORK/mdb_stat")
FILE_BPE=$(awk -v n="$BIG" -v s="$(stat -c %s "$BG/data.mdb")" 'BEGIN { printf "%.1f", s / n }')
"$BENCH/dbsize" "$BG" >"$WORK/dbsize"
{ echo "per database, $BIG-entry ledger (dbsize):"; cat "$WORK/dbsize"; } >&2
log "relayout: the same entries under other index layouts"
"$BENCH/relayout" "$BG" "$WORK/relayout" >"$WORK/relayout.md"
rm -rf "$WORK/relayout"
cat "$WORK/relayout.md" >&2
BPE=$(echo "$DB_BYTES" | cut -d' ' -f1)
row "on-disk bytes per \`set\` entry, all databases (\`mdb_stat -a\` pages × $(echo "$DB_BYTES" | cut -d' ' -f3) B / $(thousands "$BIG") entries)" \
	"$BPE B (data.mdb: $FILE_BPE B)" "—" "—" "≤ 512 B" "$(yesno le "$BPE" 512)"

# ---- 4. ledger verify ----

log "ledger verify x $VERIFY_RUNS, each next to a sigrate round"
: >"$WORK/t_verify"
for _ in $(seq "$VERIFY_RUNS"); do
	sigrate_round
	"$BENCH/runtimes" -n 1 -w 0 "$LEDGER" --ledger "$BG" verify >>"$WORK/t_verify"
done
SIG1=$(stats <"$WORK/sig1")
SIGN=$(stats <"$WORK/sigN")
VCPU=$(awk -v n="$VERIFIED" '{ print $3 / n * 1e6 }' "$WORK/t_verify" | stats)
log "  verify: $(times_of "$WORK/t_verify" 0 | stats | fmt .1f " s") wall, $(echo "$VCPU" | fmt .1f " µs") of CPU per entry; one signature check costs $(awk '{ print 1e6 / $1 }' "$WORK/sig1" | stats | fmt .1f " µs")"
log "  sigrate, single core: $(echo "$SIG1" | fmt .0f /s); all $NPROC threads together: $(echo "$SIGN" | fmt .0f /s)"
VRATE=$(times_of "$WORK/t_verify" 0 | awk -v n="$VERIFIED" '{ print n / $1 }' | stats)
LIMIT=$(echo "$SIG1" | scale "$NPROC")
row "\`ledger verify\` of $(thousands "$VERIFIED") entries, entries/s" \
	"$(echo "$VRATE" | fmt .0f /s)" \
	"$NPROC × $(echo "$SIG1" | med | xargs printf %.0f)/s = $(echo "$LIMIT" | fmt .0f /s)" \
	"$(ratio "$(echo "$VRATE" | med)" "$(echo "$LIMIT" | med)")" "≥ 0.8" \
	"$(yesno ge "$(ratio "$(echo "$VRATE" | med)" "$(echo "$LIMIT" | med)")" 0.8)"

# ---- 5. ledger set vs git ----

G=$WORK/git
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git -c init.defaultBranch=main init -q --bare "$G/remote.git"
git -c init.defaultBranch=main init -q "$G/wc"
git -C "$G/wc" config user.name bench
git -C "$G/wc" config user.email bench@example.com
git -C "$G/wc" remote add origin "$G/remote.git"
# the config repository the ledger replaces: one values file per target
for c in 0 1 2; do
	for r in $(seq 0 49); do
		mkdir -p "$G/wc/clusters/c$c/r$r"
		cat >"$G/wc/clusters/c$c/r$r/values.yaml" <<-EOF
		replicaCount: 2
		image:
		  repository: registry.example.com/team/r$r
		  tag: "0000000"
		  pullPolicy: IfNotPresent
		service:
		  type: ClusterIP
		  port: 8080
		resources:
		  limits:
		    cpu: 500m
		    memory: 256Mi
		EOF
	done
done
git -C "$G/wc" add -A
git -C "$G/wc" commit -qm "initial values"
git -C "$G/wc" push -q origin HEAD:main 2>/dev/null
git -C "$G/wc" branch -q -u origin/main 2>/dev/null || true
VALUES=$G/wc/clusters/${TARGET%/*}/${TARGET#*/}/values.yaml

log "ledger set ($SMALL and $BIG entries, and a typed value on $SMALL) and sed+git commit+git push, $SET_RUNS runs each, interleaved"
# bench 3: the same set with a typed value (issue 14, docs/format.md
# 3.2): KEY:=JSON is parsed and canonicalised with jansson, packed as an
# integer, indexed as 02 || JSON
"$BENCH/runtimes" -n "$SET_RUNS" -w 3 \
	"$LEDGER" --ledger "$SM" set "$TARGET" "image.tag={}" -m "bench" --key "$SM.keys/bench.key" ::: \
	"$LEDGER" --ledger "$BG" set "$TARGET" "image.tag={}" -m "bench" --key "$BG.keys/bench.key" ::: \
	sed -i 's/^  tag: .*/  tag: "{}"/' "$VALUES" --- \
	git -C "$G/wc" commit -qam "bench: bump $TARGET image.tag" --- \
	git -C "$G/wc" push -q origin HEAD:main ::: \
	"$LEDGER" --ledger "$SM" set "$TARGET" "replicas:={rand:1:1000000000}" -m "bench" --key "$SM.keys/bench.key" \
	>"$WORK/t_set"
SET_S=$(times_of "$WORK/t_set" 0 | stats | scale 1000)
SET_B=$(times_of "$WORK/t_set" 1 | stats | scale 1000)
GIT=$(times_of "$WORK/t_set" 2 | stats | scale 1000)
R=$(ratio "$(echo "$GIT" | med)" "$(echo "$SET_S" | med)")
row "\`ledger set\` as a whole process ($(thousands "$SMALL")-entry ledger) vs \`sed\` + \`git commit\` + \`git push\` (local bare repo)" \
	"$(echo "$SET_S" | fmt .2f " ms")" "$(echo "$GIT" | fmt .2f " ms")" "$R× faster" "≥ 10× faster" "$(yesno ge "$R" 10)"
R=$(ratio "$(echo "$SET_B" | med)" "$(echo "$SET_S" | med)")
row "\`ledger set\` on $(thousands "$BIG") entries vs on $(thousands "$SMALL")" \
	"$(echo "$SET_B" | fmt .2f " ms")" "$(echo "$SET_S" | fmt .2f " ms")" "$R×" "≤ 1.3×" "$(yesno le "$R" 1.3)"
SET_T=$(times_of "$WORK/t_set" 3 | stats | scale 1000)
R=$(ratio "$(echo "$SET_T" | med)" "$(echo "$SET_S" | med)")
row "\`ledger set\` of a typed value (\`replicas:=N\`) vs a string (\`image.tag=X\`), $(thousands "$SMALL")-entry ledger" \
	"$(echo "$SET_T" | fmt .2f " ms")" "$(echo "$SET_S" | fmt .2f " ms")" "$R×" "≤ 1.1×" "$(yesno le "$R" 1.1)"

# ---- 6. the mounts ----

mount_start() { # DIR MOUNTPOINT -> MPID
	mkdir -p "$2"
	"$LEDGER" --ledger "$1" mount "$2" -f 2>>"$WORK/mount.log" &
	MPID=$!
	MOUNT_PIDS+=("$MPID")
	MOUNTS+=("$2")
	for _ in $(seq 100); do
		[ -e "$2/HEAD" ] && return 0
		sleep 0.1
	done
	log "mount of $1 on $2 did not come up:"; cat "$WORK/mount.log" >&2
	exit 1
}
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

MB=$WORK/mnt-big MS=$WORK/mnt-small
mount_start "$BG" "$MB"
BIG_PID=$MPID
mount_start "$SM" "$MS"
HEAD_BIG=$(cut -d' ' -f1 "$MB/HEAD")

log "ls $MB/entries ($HEAD_BIG entries) x $LS_RUNS, daemon pid $BIG_PID (fresh: VmHWM $(hwm_kib "$BIG_PID") KiB)"
NAMES=$(ls "$MB/entries" | wc -l)
"$BENCH/runtimes" -n "$LS_RUNS" -w 0 ls "$MB/entries" >"$WORK/t_ls"
LS=$(times_of "$WORK/t_ls" 0 | stats)
HWM=$(hwm_kib "$BIG_PID")
HWM_MIB=$(awk -v k="$HWM" 'BEGIN { printf "%.1f", k / 1024 }')
grep -E '^(VmHWM|VmRSS|RssAnon|RssFile)' "/proc/$BIG_PID/status" | tr -s ' \t' ' ' | paste -sd, | sed 's/^/  daemon after ls: /' >&2
row "\`ls MOUNT/entries\` at $(thousands "$HEAD_BIG") entries" \
	"$(thousands "$NAMES") names in $(echo "$LS" | fmt .2f " s")" "—" "—" "completes" \
	"$(yesno test "$NAMES" -eq $((2 * HEAD_BIG)))"
row "daemon peak RSS (VmHWM) after that \`ls\`" "$HWM_MIB MiB" "—" "—" "≤ 64 MiB" "$(yesno le "$HWM_MIB" 64)"

# get --at and cat at/N: a seq from the upper half of each ledger, new
# every run, so every lookup is a cold one
LO_S=$((SMALL / 2 + 1)) LO_B=$((BIG / 2 + 1))
log "ledger get --at N and cat at/N/..., $READ_RUNS runs each, interleaved"
"$BENCH/runtimes" -n "$READ_RUNS" -w 3 \
	"$LEDGER" --ledger "$SM" get "$TARGET" image.tag --at "{rand:$LO_S:$SMALL}" ::: \
	"$LEDGER" --ledger "$BG" get "$TARGET" image.tag --at "{rand:$LO_B:$BIG}" ::: \
	cat "$MS/at/{rand:$LO_S:$SMALL}/clusters/$TARGET/image.tag" ::: \
	cat "$MB/at/{rand:$LO_B:$BIG}/clusters/$TARGET/image.tag" \
	>"$WORK/t_read"
GET_S=$(times_of "$WORK/t_read" 0 | stats | scale 1000)
GET_B=$(times_of "$WORK/t_read" 1 | stats | scale 1000)
CAT_S=$(times_of "$WORK/t_read" 2 | stats | scale 1000)
CAT_B=$(times_of "$WORK/t_read" 3 | stats | scale 1000)
R=$(ratio "$(echo "$GET_B" | med)" "$(echo "$GET_S" | med)")
row "\`ledger get $TARGET image.tag --at N\` on $(thousands "$BIG") entries vs $(thousands "$SMALL") (N random in the upper half)" \
	"$(echo "$GET_B" | fmt .2f " ms")" "$(echo "$GET_S" | fmt .2f " ms")" "$R×" "≤ 2×" "$(yesno le "$R" 2)"
R=$(ratio "$(echo "$CAT_B" | med)" "$(echo "$CAT_S" | med)")
row "\`cat MOUNT/at/N/clusters/$TARGET/image.tag\` on $(thousands "$BIG") entries vs $(thousands "$SMALL")" \
	"$(echo "$CAT_B" | fmt .2f " ms")" "$(echo "$CAT_S" | fmt .2f " ms")" "$R×" "≤ 2×" "$(yesno le "$R" 2)"

# open+read+close: the mounted file and the same bytes in tmpfs
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	TMPFS=$(mktemp -d /dev/shm/ledger-bench.XXXXXX)
else
	TMPFS=$WORK/tmpfs
	mkdir -p "$TMPFS"
	mount -t tmpfs -o size=16m tmpfs "$TMPFS"
	TMPFS_MOUNTED=$TMPFS
fi
SEQ=$((BIG / 2))
IMM=$MB/entries/$SEQ MUT=$MB/clusters/$TARGET/image.tag
cp "$IMM" "$TMPFS/entry"
cp "$MUT" "$TMPFS/image.tag"
log "open+read+close x $OPS x $ROUNDS rounds: $IMM, $MUT and their tmpfs copies"
: >"$WORK/o_imm_tmpfs"; : >"$WORK/o_imm"; : >"$WORK/o_mut_tmpfs"; : >"$WORK/o_mut"
for _ in $(seq "$ROUNDS"); do # interleaved, one round each at a time
	"$BENCH/openread" "$TMPFS/entry" "$OPS" 1 >>"$WORK/o_imm_tmpfs"
	"$BENCH/openread" "$IMM" "$OPS" 1 >>"$WORK/o_imm"
	"$BENCH/openread" "$TMPFS/image.tag" "$OPS" 1 >>"$WORK/o_mut_tmpfs"
	"$BENCH/openread" "$MUT" "$OPS" 1 >>"$WORK/o_mut"
done
rm -f "$TMPFS/entry" "$TMPFS/image.tag"
o_imm=$(stats <"$WORK/o_imm" | scale 0.001)
o_imm_tmpfs=$(stats <"$WORK/o_imm_tmpfs" | scale 0.001)
o_mut=$(stats <"$WORK/o_mut" | scale 0.001)
o_mut_tmpfs=$(stats <"$WORK/o_mut_tmpfs" | scale 0.001)
R=$(ratio "$(echo "$o_imm" | med)" "$(echo "$o_imm_tmpfs" | med)")
row "open+read+close of an immutable mounted file (\`entries/$SEQ\`, $(stat -c %s "$IMM") B), per operation" \
	"$(echo "$o_imm" | fmt .1f " µs")" "$(echo "$o_imm_tmpfs" | fmt .1f " µs") (tmpfs)" "$R×" "≤ 2×" "$(yesno le "$R" 2)"
R=$(ratio "$(echo "$o_mut" | med)" "$(echo "$o_mut_tmpfs" | med)")
row "open+read+close of a mutable mounted file (\`clusters/$TARGET/image.tag\`), per operation" \
	"$(echo "$o_mut" | fmt .1f " µs")" "$(echo "$o_mut_tmpfs" | fmt .1f " µs") (tmpfs)" "$R×" "≤ 10×" "$(yesno le "$R" 10)"
log "fusefloor: the same loop on a minimal low-level FUSE filesystem, $(stat -c %s "$IMM") B"
for m in direct cached noopen; do
	mkdir -p "$WORK/ff"
	"$BENCH/fusefloor" "$m" "$WORK/ff" "$OPS" "$ROUNDS" "$(stat -c %s "$IMM")" >"$WORK/ff_$m"
	log "  $m: $(stats <"$WORK/ff_$m" | scale 0.001 | fmt .1f " µs") per open+read+close"
done
log "  (ledger mount: immutable $(echo "$o_imm" | fmt .1f " µs"), mutable $(echo "$o_mut" | fmt .1f " µs"); tmpfs $(echo "$o_imm_tmpfs" | fmt .1f " µs"))"
log "  daemon VmHWM after all mount benchmarks: $(hwm_kib "$BIG_PID") KiB"

# ---- the report ----

# in the issue's order (rows were added as: 0 bytes, 1 verify, 2 set vs
# git, 3 set big/small, 4 set typed/string, 5 ls, 6 rss, 7 get, 8 cat,
# 9 open imm, 10 open mut)
order=(2 3 4 1 7 8 9 10 5 6 0)
END_IDLE=$(cpu_idle 2)
echo "$MACHINE; after it: load average $(cut -d' ' -f1 /proc/loadavg), ${END_IDLE}% idle"
echo
echo "| metric | measured | baseline | ratio | target | met? |"
echo "| --- | --- | --- | --- | --- | --- |"
for i in "${order[@]}"; do echo "${ROWS[$i]}"; done
echo
echo "Values: median [p10–p90] over the runs ($SET_RUNS for set/git, $READ_RUNS for get/cat, $VERIFY_RUNS for verify, $LS_RUNS for ls, $ROUNDS rounds of $OPS for open+read+close, $((SIG_ROUNDS + VERIFY_RUNS)) rounds of $SIG_N for the signature rate, $VERIFY_RUNS of them next to the verify runs; p10–p90 is min–max below 10 runs). The $(thousands "$BIG")-entry ledger was built by mkledger in $BUILD_S s and checked by \`ledger verify\` in $CHECK_S s; $NPROC threads of crypto_sign_verify_detached together reach $(echo "$SIGN" | fmt .0f /s) on this machine."
