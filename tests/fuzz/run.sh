#!/usr/bin/env bash
# run.sh BUILD NAME SECONDS: builds the libFuzzer harness fuzz_NAME.c with
# clang (ASan + UBSan) and runs it for SECONDS on its seed corpus. Exits
# non-zero on any crash, leak or sanitizer report; 77 (skip) without
# clang's libFuzzer. Crashing inputs are kept as BUILD/fuzz/crash-*.
#
# What is compiled is the build's: gen_ninja.py reads the libraries, their
# sources and flags, and the dependencies from BUILD/meson-info and writes
# BUILD/fuzz/build.ninja; ninja builds only what changed since the last
# harness (the libraries are shared by all six), under a lock, so that
# fuzzers started together build once.
set -euo pipefail
build=$1
name=$2
secs=${3:-45}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$build/fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "SKIP: clang is not installed (scripts/deps.sh installs it)"
	exit 77
fi

bin=$out/fuzz_$name
(
	flock 9
	python3 "$src/tests/fuzz/gen_ninja.py" "$build" "$out"
	ninja -C "$out" "fuzz_$name" >"$out/build-$name.log" 2>&1 || {
		tail -40 "$out/build-$name.log"
		exit 1
	}
) 9>"$out/.lock"

corpus=$out/corpus-$name
mkdir -p "$corpus"
echo "fuzzing $name for $secs s (seeds: tests/fuzz/seeds/$name)"
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/crash-$name-" \
	"$corpus" "$src/tests/fuzz/seeds/$name" 2>&1 | tail -25
exit "${PIPESTATUS[0]}"
