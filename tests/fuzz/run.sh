#!/usr/bin/env bash
# run.sh NAME SECONDS: builds the libFuzzer harness fuzz_NAME.c with clang
# (ASan + UBSan) and runs it for SECONDS on its seed corpus. Exits non-zero
# on any crash, leak or sanitizer report; 77 (skip) without clang's
# libFuzzer. Crashing inputs are kept as BUILD/fuzz/crash-*.
set -euo pipefail
name=$1
secs=${2:-45}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${MESON_BUILD_ROOT:-$src/build}/fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "SKIP: clang is not installed (scripts/deps.sh installs it)"
	exit 77
fi
pkgs="libsodium lmdb yaml-0.1 jansson"
if pkg-config --exists msgpack-c; then pkgs="$pkgs msgpack-c"; else pkgs="$pkgs msgpack"; fi

bin=$out/fuzz_$name
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -I"$src/ledger" -I"$src/apply" -I"$src/serve" \
	$(pkg-config --cflags $pkgs) \
	"$src/tests/fuzz/fuzz_$name.c" "$src"/ledger/*.c \
	"$src/apply/helmfile.c" "$src/apply/chatops.c" "$src/serve/api.c" \
	$(pkg-config --libs $pkgs) -lpthread -o "$bin"

corpus=$out/corpus-$name
mkdir -p "$corpus"
echo "fuzzing $name for $secs s (seeds: tests/fuzz/seeds/$name)"
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/crash-$name-" \
	"$corpus" "$src/tests/fuzz/seeds/$name" 2>&1 | tail -25
exit "${PIPESTATUS[0]}"
