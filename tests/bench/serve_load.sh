#!/usr/bin/env bash
# tests/bench/serve_load.sh - the read API of `ledger serve` under load (wrk).
#
#   tests/bench/serve_load.sh [--build DIR] [--workdir DIR] [--keep]
#                             [--entries N] [--small N] [--duration SECS]
#                             [--threads N] [--connections N] [--wait-load L]
#                             [--tries N] [--max-other PCT] [--only ERE]
#
# Builds a big and a small ledger (mkledger: 3 clusters c0..c2 of 50
# releases r0..r49), starts `ledger serve --listen 127.0.0.1:0` on each,
# and runs wrk against every read endpoint of docs/api.md, one after the
# other, on loopback:
#
#   /api/v1/head
#   /api/v1/state?scope=c1                  (50 targets)
#   /api/v1/entries/SEQ                     (SEQ random in 1..head per
#                                            request: serve_load.lua)
#   /api/v1/entries?after=HEAD/2&limit=100
#   /api/v1/history/c1/r1                   (one entry in 150)
#   /api/v1/history/c1/r1?limit=101         (the web page's first page)
#   /api/v1/releases                        (only if it answers 200)
#
# and against their floor, `mhdfloor` (compiled here from the C below): a
# libmicrohttpd server with serve's daemon flags and limits that answers
# every GET with the same 209 bytes and does nothing else. It runs twice:
# answering on the access handler's first call, as serve did before d8f3e9a
# (libmicrohttpd then closes the connection after the answer: one TCP
# connection and one thread per request), and on its second call (the
# connection is kept alive).
#
# Prints ONE markdown table (requests/s, p50/p90/p99 latency, non-2xx
# answers, socket errors, the server's CPU per request, and how the cores
# were shared during the run between the server, wrk and every other
# process: the last shows whether the machine was quiet) and a machine line
# to stdout; progress and wrk's own reports go to stderr. Exits 1 if any
# answer was not 2xx (wrk counts statuses above 399; every URL is first
# fetched once with curl and must answer 200). Never part of `meson test`.
#
#   --build DIR       the meson build directory (default: build-bench, made
#                     with `meson setup build-bench --buildtype=release`)
#   --workdir DIR     where the ledgers go (default: a new directory under
#                     $BENCH_TMP or /var/tmp); removed at the end unless --keep
#   --entries N       entries of the big ledger (default 100000)
#   --small N         entries of the small ledger (default 1000; 0: none)
#   --duration SECS   of each wrk run (default 10)
#   --threads N       wrk threads (default 2)
#   --connections N   wrk connections (default 32; the server takes at most
#                     64 from one address)
#   --wait-load L     first wait until the 1-minute load average is below L,
#                     polling every 30 s for up to 40 minutes, then run
#                     anyway (the machine line says the load)
#   --tries N         run a row up to N times (default 3) while other
#   --max-other PCT   processes take more than PCT% (default 10) of all
#                     cores during it; the row shown is the least disturbed
#   --only ERE        only the endpoints whose name matches ERE (grep -E),
#                     and no floor rows
#
# Needs: wrk (Debian package wrk: `apt-get install wrk`), curl, awk; for
# the floor rows cc, pkg-config and libmicrohttpd's headers (the build's
# own dependencies; without them those rows are left out).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-bench
WORK=
KEEP=0
BIG=100000
SMALL=1000
DURATION=10
THREADS=2
CONNS=32
WAIT_LOAD=
TRIES=3
MAX_OTHER=10
ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--workdir) WORK=$2; shift ;;
	--keep) KEEP=1 ;;
	--entries) BIG=$2; shift ;;
	--small) SMALL=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--threads) THREADS=$2; shift ;;
	--connections) CONNS=$2; shift ;;
	--wait-load) WAIT_LOAD=$2; shift ;;
	--tries) TRIES=$2; shift ;;
	--max-other) MAX_OTHER=$2; shift ;;
	--only) ONLY=$2; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "serve_load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

LEDGER=$BUILD/cli/ledger
MKLEDGER=$BUILD/tests/bench/mkledger
LUA=$ROOT/tests/bench/serve_load.lua
. "$(dirname "$0")/lib.sh"
NAME=serve_load.sh
bench_need_built "$LEDGER" "$MKLEDGER"
bench_need_tools wrk curl awk

bench_workdir ledger-serve-load
NPROC=$(nproc)
SERVE_PIDS=()
cleanup() {
	set +e
	for p in "${SERVE_PIDS[@]}"; do
		# our own servers: SIGTERM ends them
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	bench_workdir_done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HZ=$(getconf CLK_TCK)
# CPU seconds (user + system, all threads, exited ones too) of process $1
cpu_s() {
	awk -v hz="$HZ" '{
		sub(/^.*\) /, "")	# past "pid (comm) ": field 1 is now state
		printf "%.2f", ($12 + $13) / hz
	}' "/proc/$1/stat"
}
# CPU seconds that all cores spent busy since boot, every process
busy_s() {
	awk -v hz="$HZ" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
# CPU seconds of this shell's waited-for children (wrk, mostly), from the
# output of `times` in file $1 (`times` must run in this shell itself: in
# a $(...) it would count that subshell's children)
children_s() {
	awk 'NR == 2 {
		split($0, t, /[ms]+/)
		printf "%.3f", 60 * t[1] + t[2] + 60 * t[3] + t[4]
	}' "$1"
}

# ---- the machine ----

load1() { cut -d' ' -f1 /proc/loadavg; }
WRK_VERSION=$({ wrk -v 2>&1 || true; } | awk 'NR == 1 { print $2; exit }')
MHD_VERSION=$(dpkg-query -W -f '${Version}' libmicrohttpd12 2>/dev/null ||
	ldd "$LEDGER" | awk '/libmicrohttpd/ { print $3 }' | xargs -r readlink -f)

# ---- 1. the ledgers (before waiting: building them is load too) ----

BG=$WORK/big SM=$WORK/small
log "mkledger: $BIG entries"
"$MKLEDGER" "$BG" "$BIG" >/dev/null
if [ "$SMALL" -gt 0 ]; then
	log "mkledger: $SMALL entries"
	"$MKLEDGER" "$SM" "$SMALL" >/dev/null
fi

# the floor: what libmicrohttpd alone costs, with serve's daemon flags and
# limits (serve/serve.c, serve/serve.h)
cat >"$WORK/mhdfloor.c" <<'C'
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char body[209];
static int second_call;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static int seen;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)method, (void)version, (void)upload_data;
	(void)upload_data_size;
	if (second_call && !*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(body), body,
					       MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	if (argc != 2)
		return 2;
	second_call = !strcmp(argv[1], "second");
	memset(body, 'x', sizeof(body));
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
				     MHD_USE_INTERNAL_POLLING_THREAD |
				     MHD_USE_POLL | MHD_USE_ITC,
			     0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_CONNECTION_LIMIT, 256u,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 60u,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			     (size_t)64 * 1024, MHD_OPTION_END);
	info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (!info)
		return 2;
	printf("listening on http://127.0.0.1:%u\n", info->port);
	fflush(stdout);
	pause();
	return 0;
}
C
FLOOR=0
# shellcheck disable=SC2046 # pkg-config prints several words
if command -v cc >/dev/null && command -v pkg-config >/dev/null &&
   cc -O2 -o "$WORK/mhdfloor" "$WORK/mhdfloor.c" \
	$(pkg-config --cflags --libs libmicrohttpd) 2>"$WORK/mhdfloor.log"; then
	FLOOR=1
	[ -z "$ONLY" ] || FLOOR=0
else
	log "mhdfloor not built (cc, pkg-config or libmicrohttpd-dev missing): no floor rows"
	cat "$WORK/mhdfloor.log" >&2 2>/dev/null || true
fi

if [ -n "$WAIT_LOAD" ]; then
	for i in $(seq 80); do
		awk -v a="$(load1)" -v b="$WAIT_LOAD" 'BEGIN { exit !(a < b) }' && break
		if [ $((i % 4)) = 1 ]; then
			log "waiting for a load average below $WAIT_LOAD (now $(load1))"
		fi
		sleep 30
	done
fi
IDLE=$(cpu_idle 2)
LOAD=$(load1)
MACHINE="machine: $(bench_machine); wrk $WRK_VERSION, libmicrohttpd $MHD_VERSION; before the run: load average $LOAD, ${IDLE}% of CPU time idle"
log "$MACHINE"
log "work directory $WORK"

# ---- 2. the servers ----

server_start() { # NAME COMMAND... -> SPID, URL
	local name=$1 out=$WORK/serve-$1.out
	shift
	"$@" >"$out" 2>"$WORK/serve-$name.err" &
	SPID=$!
	SERVE_PIDS+=("$SPID")
	for _ in $(seq 300); do
		URL=$(sed -n 's/^listening on //p' "$out")
		[ -n "$URL" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	log "$* did not come up:"; cat "$WORK/serve-$name.err" >&2
	exit 1
}

LEDGERS=(big)
[ "$SMALL" -gt 0 ] && LEDGERS=(small big)
declare -A PID_OF URL_OF HEAD_OF
for l in "${LEDGERS[@]}"; do
	if [ "$l" = big ]; then d=$BG n=$BIG; else d=$SM n=$SMALL; fi
	server_start "$l" "$LEDGER" --ledger "$d" serve --listen 127.0.0.1:0
	PID_OF[$l]=$SPID URL_OF[$l]=$URL HEAD_OF[$l]=$n
	log "$l ledger ($(thousands "$n") entries): $URL, pid $SPID"
done
if [ "$FLOOR" = 1 ]; then
	for m in first second; do
		server_start "floor-$m" "$WORK/mhdfloor" "$m"
		PID_OF[floor-$m]=$SPID URL_OF[floor-$m]=$URL
		log "mhdfloor $m: $URL, pid $SPID"
	done
fi

# ---- 3. wrk, endpoint by endpoint ----

ROWS=()
NON2XX=0
SKIPPED=()
ms() { awk -v u="$1" 'BEGIN { printf (u < 10000 ? "%.2f ms" : "%.1f ms"), u / 1000 }'; }
WRK_CMD="wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s tests/bench/serve_load.lua URL"
log "each run: $WRK_CMD [-- /api/v1/entries/{seq} 1 HEAD]"

# one wrk run: NAME ENTRIES PID URL [-- TEMPLATE LO HI] -> ROW, OTHER (the
# percent of all cores that other processes took during the run)
wrk_once() {
	local name=$1 entries=$2 pid=$3 url=$4 c0 c1 w0 w1 b0 b1 rps bpr cpu share
	local _ req dur bytes econn eread ewrite estatus etime p50 p90 p99
	shift 4
	times >"$WORK/times0"
	b0=$(busy_s) c0=$(cpu_s "$pid")
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$LUA" \
		"$url" "$@" >"$WORK/wrk.out" 2>&1 ||
		{ cat "$WORK/wrk.out" >&2; log "wrk failed"; exit 1; }
	c1=$(cpu_s "$pid") b1=$(busy_s)
	times >"$WORK/times1"
	w0=$(children_s "$WORK/times0") w1=$(children_s "$WORK/times1")
	sed 's/^/    /' "$WORK/wrk.out" >&2
	grep -q '^wrk-result ' "$WORK/wrk.out" ||
		{ log "no wrk-result line from $LUA"; exit 1; }
	read -r _ req dur bytes econn eread ewrite estatus etime p50 p90 p99 \
		< <(grep '^wrk-result ' "$WORK/wrk.out")
	NON2XX=$((NON2XX + estatus))
	rps=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
	bpr=$(awk -v b="$bytes" -v r="$req" 'BEGIN { printf "%.0f", b / r }')
	cpu=$(awk -v a="$c0" -v b="$c1" -v r="$req" -v d="$dur" -v n="$NPROC" \
		'BEGIN { printf "%.0f µs", (b - a) / r * 1e6 }')
	# where the cores went during the run: the server, wrk, and anything
	# else on the machine (another tenant shows only here, not in ps)
	share=$(awk -v s="$c1" -v s0="$c0" -v w="$w1" -v w0="$w0" -v b="$b1" \
		-v b0="$b0" -v d="$dur" -v n="$NPROC" 'BEGIN {
		all = d / 1e6 * n; sv = s - s0; wk = w - w0
		o = (b - b0) - sv - wk; if (o < 0) o = 0
		printf "%.0f%% / %.0f%% / %.0f%%", 100 * sv / all, 100 * wk / all, 100 * o / all
	}')
	OTHER=${share##* / }
	OTHER=${OTHER%\%}
	ROW="| $name | $entries | $(thousands "$bpr") B | $(thousands "$rps") | $(ms "$p50") | $(ms "$p90") | $(ms "$p99") | $estatus | $econn/$eread/$ewrite/$etime | $cpu | $share |"
}

# one row: up to $TRIES runs while other processes take more than
# $MAX_OTHER% of the cores; the row is the run they disturbed least
run_wrk() {
	local best='' best_other=101 t
	for t in $(seq "$TRIES"); do
		wrk_once "$@"
		if [ "$OTHER" -lt "$best_other" ]; then
			best=$ROW best_other=$OTHER
		fi
		[ "$OTHER" -le "$MAX_OTHER" ] && break
		if [ "$t" -lt "$TRIES" ]; then
			log "  other processes took $OTHER% of the cores: again"
		fi
	done
	ROWS+=("$best")
}

if [ "$FLOOR" = 1 ]; then
	log "floor: mhdfloor first (connection closed after each answer)"
	run_wrk "floor: \`mhdfloor\`, 209 B answered on the first call, as serve did before d8f3e9a (connection closed)" \
		— "${PID_OF[floor-first]}" "${URL_OF[floor-first]}/"
	log "floor: mhdfloor second (connection kept alive)"
	run_wrk "floor: \`mhdfloor\`, 209 B answered on the second call (kept alive)" \
		— "${PID_OF[floor-second]}" "${URL_OF[floor-second]}/"
fi

# NAME|PATH|TEMPLATE: TEMPLATE, if any, is serve_load.lua's per-request
# path ({seq} random in 1..head); PATH is then only what curl checks first
endpoints() { # HEAD
	echo "/api/v1/head|/api/v1/head|"
	echo "/api/v1/state?scope=c1|/api/v1/state?scope=c1|"
	echo "/api/v1/entries/SEQ, SEQ random|/api/v1/entries/$(($1 / 2))|/api/v1/entries/{seq}"
	echo "/api/v1/entries?after=$(($1 / 2))&limit=100|/api/v1/entries?after=$(($1 / 2))&limit=100|"
	echo "/api/v1/history/c1/r1|/api/v1/history/c1/r1|"
	echo "/api/v1/history/c1/r1?limit=101|/api/v1/history/c1/r1?limit=101|"
	echo "/api/v1/releases|/api/v1/releases|"
}
NEP=$(endpoints "$BIG" | wc -l)
for i in $(seq "$NEP"); do
	for l in "${LEDGERS[@]}"; do
		url=${URL_OF[$l]} head=${HEAD_OF[$l]}
		IFS='|' read -r name path tpl < <(endpoints "$head" | sed -n "${i}p")
		[ -z "$ONLY" ] || grep -Eq -- "$ONLY" <<<"$name" || continue
		code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$url$path")
		if [ "$code" != 200 ]; then
			if [ "$name" = /api/v1/releases ]; then
				log "$l: $name answers $code: not in this build, skipped"
				SKIPPED+=("\`$name\` answered $code on the $l ledger")
				continue
			fi
			log "$url$path answers $code: $(head -c 200 "$WORK/body")"
			exit 1
		fi
		args=()
		[ -n "$tpl" ] && args=(-- "$tpl" 1 "$head")
		log "$l: $name ($(stat -c %s "$WORK/body") B of JSON)"
		run_wrk "\`$name\`" "$(thousands "$head")" "${PID_OF[$l]}" \
			"$url$path" "${args[@]}"
	done
done

# ---- the table ----

echo "$MACHINE"
echo "command: $WRK_CMD (one run of ${DURATION} s per row, rows one after the other; a row is run again, up to $TRIES times, while other processes take more than $MAX_OTHER% of the cores, and shows its least disturbed run)"
echo
echo "| endpoint | ledger entries | bytes per answer (with headers) | requests/s | p50 | p90 | p99 | non-2xx | socket errors (connect/read/write/timeout) | server CPU per request | share of all $NPROC cores: server / wrk / other processes |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
for s in "${SKIPPED[@]}"; do echo; echo "skipped: $s"; done
echo
echo "load average after the run: $(load1)"
if [ "$NON2XX" -gt 0 ]; then
	log "$NON2XX answers were not 2xx"
	exit 1
fi
