# tests/bench/lib.sh - shared by the benchmark scripts (run.sh,
# serve_load.sh); source it after setting NAME, BUILD, WORK and KEEP.
#
#   bench_need_built PATH...   each is executable, or say how to build
#   bench_need_tools TOOL...   each is on PATH
#   log TEXT                   a timestamped progress line on stderr
#   bench_workdir PREFIX       WORK: the --workdir given, or a new one
#   thousands N                1234567 -> 1,234,567
#   cpu_idle SECS              percent of CPU time idle, all cores
#   bench_machine              CPU, RAM and kernel: the table's machine line

bench_need_built() {
	local p
	for p in "$@"; do
		[ -x "$p" ] || { echo "$NAME: $p missing: meson setup $BUILD" \
			"--buildtype=release -Dtests=true && ninja -C $BUILD" >&2
			exit 2; }
	done
}

bench_need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			{ echo "$NAME: $t not found (apt-get install $t)" >&2; exit 2; }
	done
}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

bench_workdir() {
	if [ -z "$WORK" ]; then
		WORK=$(mktemp -d "${BENCH_TMP:-/var/tmp}/$1.XXXXXX")
	else
		mkdir -p "$WORK"
		WORK=$(cd "$WORK" && pwd)
	fi
}

# bench_workdir_done: WORK removed, or kept with --keep (KEEP=1)
bench_workdir_done() {
	if [ "$KEEP" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}

thousands() { echo "$1" | sed -e :a -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }

cpu_idle() {
	local a b
	a=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	echo "$a $b" | awk '{ printf "%.0f", 100 * ($3 - $1) / ($4 - $2) }'
}

# "nproc=N, CPU "..." (family F, model M), kernel K, G GiB RAM"
bench_machine() {
	local cpu fam model mem
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	fam=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)
	model=$(awk -F': ' '/^model[^ ]*\t*:/ && !/name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
	printf 'nproc=%s, CPU "%s" (family %s, model %s), kernel %s, %s GiB RAM' \
		"$(nproc)" "$cpu" "$fam" "$model" "$(uname -r)" "$mem"
}
