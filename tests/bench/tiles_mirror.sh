#!/usr/bin/env bash
# tests/bench/tiles_mirror.sh - a first `ledger mirror` of one ledger
# from `ledger serve` (its JSON API: pages of 500 entries) against
# `ledger mirror --tiles` from nginx serving the tree `ledger tiles`
# wrote (checkpoint, hash tiles, entry bundles), and an update of 1,000
# entries each way (written with `ledger set`, then `ledger tiles`
# again), on loopback.
#
#   tests/bench/tiles_mirror.sh [--build DIR] [--workdir DIR] [--keep]
#                               [--sizes "10000 100000"] [--runs N]
#
# Prints one markdown table to stdout (median and min-max over --runs
# runs, default 3: wall time of the whole `ledger mirror` process, into
# a fresh copy each time), with what nginx sent (requests, bytes) and
# the machine line; progress on stderr. Never part of `meson test`.
#
#   --build DIR    the meson build directory (default: build-bench, made
#                  with `meson setup build-bench --buildtype=release`)
#   --workdir DIR  where the ledgers and trees go (default: a new
#                  directory under $BENCH_TMP or /var/tmp: a real disk,
#                  or fsync costs nothing); removed unless --keep
#
# Needs nginx (Debian's nginx-light), curl and python3. The results
# of a run are in docs/performance.md, section 6.6.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-bench
WORK=
KEEP=0
SIZES="10000 100000"
RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--workdir) WORK=$2; shift ;;
	--keep) KEEP=1 ;;
	--sizes) SIZES=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "tiles_mirror.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

LEDGER=$BUILD/cli/ledger
MKLEDGER=$BUILD/tests/bench/mkledger
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
. "$(dirname "$0")/lib.sh"
NAME=tiles_mirror.sh
bench_need_built "$LEDGER" "$MKLEDGER" "$NGINX"
bench_need_tools curl python3
bench_workdir ledger-tiles-mirror
NGINX_PID=
SERVE_PID=
cleanup() {
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
	[ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null
	wait 2>/dev/null
	bench_workdir_done
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# "median min max" of the numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
secs() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
cell() { # "median min max" in ms -> "M s [min-max]"
	set -- $1
	echo "$(secs "$1") s [$(secs "$2")–$(secs "$3")]"
}
wait_up() { # wait_up URL: it answers (any HTTP status) within 30 s
	local i
	for i in $(seq 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ] &&
			return 0
		sleep 0.1
	done
	echo "$NAME: $1 did not come up" >&2
	exit 1
}

# one nginx for every tree: $WORK/pub/tN -> $WORK/wwwN
mkdir -p "$WORK/pub" "$WORK/nginx"
NPORT=$(free_port)
{
	[ "$(id -u)" -eq 0 ] && echo "user root;"
	cat <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
	access_log $WORK/nginx/access.log;
	log_format st '\$status \$body_bytes_sent \$uri';
	types { }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$NPORT;
		root $WORK/pub;
		access_log $WORK/nginx/access.log st;
	}
}
EOF
} >"$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!
wait_up "http://127.0.0.1:$NPORT/"

ROWS=()
for N in $SIZES; do
	SRC=$WORK/src$N
	KEY=$SRC.keys/bench.key
	log "mkledger $N"
	"$MKLEDGER" "$SRC" "$N" >/dev/null
	chmod 600 "$KEY"
	t0=$(now_ms)
	"$LEDGER" --ledger "$SRC" tiles "$WORK/www$N" --key "$KEY" >/dev/null
	TILES_MS=$(($(now_ms) - t0))
	ln -sfn "$WORK/www$N" "$WORK/pub/t$N"
	TURL=http://127.0.0.1:$NPORT/t$N/
	SPORT=$(free_port)
	"$LEDGER" --ledger "$SRC" serve --listen "127.0.0.1:$SPORT" \
		>"$WORK/serve.log" 2>&1 &
	SERVE_PID=$!
	SURL=http://127.0.0.1:$SPORT
	wait_up "$SURL/api/v1/head"
	: >"$WORK/serve.ms"
	: >"$WORK/tiles.ms"
	for r in $(seq "$RUNS"); do
		log "$N entries, run $r of $RUNS"
		rm -rf "$WORK/copy"
		t0=$(now_ms)
		"$LEDGER" --ledger "$WORK/copy" mirror "$SURL" >/dev/null
		echo $(($(now_ms) - t0)) >>"$WORK/serve.ms"
		rm -rf "$WORK/copy"
		: >"$WORK/nginx/access.log"
		t0=$(now_ms)
		"$LEDGER" --ledger "$WORK/copy" mirror --tiles "$TURL" >/dev/null
		echo $(($(now_ms) - t0)) >>"$WORK/tiles.ms"
	done
	REQS=$(wc -l <"$WORK/nginx/access.log")
	BYTES=$(awk '{ s += $2 } END { print s }' "$WORK/nginx/access.log")
	"$LEDGER" --ledger "$WORK/copy" verify >/dev/null
	rm -rf "$WORK/at$N"
	mv "$WORK/copy" "$WORK/at$N"
	# an update: 1,000 more entries, published again (only new tiles)
	log "$N entries: 1,000 more with ledger set"
	for i in $(seq 1000); do
		"$LEDGER" --ledger "$SRC" set c1/r1 "image.tag=u$i" -m "update $i" \
			--key "$KEY" >/dev/null
	done
	t0=$(now_ms)
	"$LEDGER" --ledger "$SRC" tiles "$WORK/www$N" --key "$KEY" >/dev/null
	RETILE_MS=$(($(now_ms) - t0))
	: >"$WORK/userve.ms"
	: >"$WORK/utiles.ms"
	for r in $(seq "$RUNS"); do
		log "$N + 1,000 entries, run $r of $RUNS"
		rm -rf "$WORK/copy"
		cp -a "$WORK/at$N" "$WORK/copy"
		t0=$(now_ms)
		"$LEDGER" --ledger "$WORK/copy" mirror "$SURL" >/dev/null
		echo $(($(now_ms) - t0)) >>"$WORK/userve.ms"
		rm -rf "$WORK/copy"
		cp -a "$WORK/at$N" "$WORK/copy"
		: >"$WORK/nginx/access.log"
		t0=$(now_ms)
		"$LEDGER" --ledger "$WORK/copy" mirror --tiles "$TURL" >/dev/null
		echo $(($(now_ms) - t0)) >>"$WORK/utiles.ms"
	done
	UREQS=$(wc -l <"$WORK/nginx/access.log")
	UBYTES=$(awk '{ s += $2 } END { print s }' "$WORK/nginx/access.log")
	ROWS+=("| $(thousands "$N"), first copy | $(cell "$(stats <"$WORK/serve.ms")") | $(cell "$(stats <"$WORK/tiles.ms")") | $(thousands "$REQS") requests, $(thousands "$BYTES") bytes | $(secs "$TILES_MS") s |")
	ROWS+=("| $(thousands "$N") + 1,000 | $(cell "$(stats <"$WORK/userve.ms")") | $(cell "$(stats <"$WORK/utiles.ms")") | $(thousands "$UREQS") requests, $(thousands "$UBYTES") bytes | $(secs "$RETILE_MS") s |")
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null || true
	SERVE_PID=
done

echo "| entries | mirror from \`ledger serve\` | mirror --tiles from nginx | what nginx sent (one run) | \`ledger tiles\` before it |"
echo "| ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo
echo "On loopback, wall time of the whole \`ledger mirror\` process; a first copy into an empty ledger, and an update of a copy of N entries by the 1,000 written after it; median [min–max] over $RUNS runs. \`ledger tiles\` is the export (first, then incremental) the tiles rows need first. $(bench_machine)."
