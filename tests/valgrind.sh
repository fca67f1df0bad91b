#!/usr/bin/env bash
# tests/valgrind.sh [SCENARIO...]: the CLI scenarios with every `ledger`
# command run under valgrind memcheck. Any memory error or definite leak
# fails the run: the command exits 86 (which no test expects, so the
# step that ran it fails), and its report is kept in BUILD/valgrind/ and
# printed at the end, whether or not the scenario checked the exit code.
#
#   tests/valgrind.sh                  # the default list below
#   tests/valgrind.sh cli_flow auth    # some of them
#   BUILD_DIR=build tests/valgrind.sh  # the build to use (default build)
#
# Ends with "N passed, N failed" (scenarios; a scenario whose commands
# left a valgrind report counts as failed). Not run by scripts/test.sh:
# it takes longer than CI's budget allows (tests/scenario/README.md has
# the figures); run it after changing memory handling in ledger/ or cli/.
#
# Left out, and why:
#   mount, crash, stress    a FUSE daemon, kill -9 at random moments and
#                           throughput: valgrind's 20-50x slowdown turns
#                           them into tests of valgrind's timing; the
#                           sanitizer tree (build-asan) runs them instead
#   serve, remote, web_api, browser, mirror, demo
#                           HTTP runs in ledger-http, a daemon; the same:
#                           the sanitizer tree covers them
#   concurrency, tamper_matrix, state_model
#                           run with smaller sizes (set below): the same
#                           code paths, fewer repetitions
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$src/$build ;; esac

command -v valgrind >/dev/null || {
	echo "valgrind: not installed (apt-get install valgrind)" >&2
	exit 2
}
[ -x "$build/cli/ledger" ] || {
	echo "valgrind: no $build/cli/ledger: build first (ninja -C $build)" >&2
	exit 2
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(cli_flow rollback auth bad_input
	tamper chatops apply diskfull state_model concurrency tamper_matrix)

logs=$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
wrapper=$logs/ledger
cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind -q --error-exitcode=86 --leak-check=full \\
	--show-leak-kinds=definite --errors-for-leak-kinds=definite \\
	--log-file="$logs/vg.%p" "$build/cli/ledger" "\$@"
EOF
chmod +x "$wrapper"

# the sizes of the heavier scenarios, cut to fit valgrind's pace
export SCN_WRITERS=${SCN_WRITERS:-2} SCN_PER_WRITER=${SCN_PER_WRITER:-20}
export SCN_BIG_WRITERS=${SCN_BIG_WRITERS:-2} SCN_BIG_ROUNDS=${SCN_BIG_ROUNDS:-1}
export SCN_MATRIX_SEQS=${SCN_MATRIX_SEQS:-2}
export SCN_OPS=${SCN_OPS:-40}

export LEDGER=$wrapper
# valgrind needs more address space than the ulimit -v step of cli_flow
# leaves: that step is skipped
export SCN_VALGRIND=1
export TAMPER=$build/tests/tools/ldg_tamper
export MKLEDGER=$build/tests/bench/mkledger
export COSIGN=$build/tests/tools/ldg_cosign
export KILL_AFTER_META=$build/tests/tools/kill_after_meta.so
export LEDGER_HTTP=$build/cli/ledger-http
# under valgrind /proc/self/exe is valgrind's: the helpers are named
export LEDGER_SETTLE=$build/cli/ledger-settle
export SCN_SHOTS=$logs

passed=0
failed=0
for s in "${scenarios[@]}"; do
	start=$SECONDS
	before=$(find "$logs" -name 'vg.*' -size +0 | wc -l)
	bash "$src/tests/scenario/$s.sh" >"$logs/$s.log" 2>&1
	rc=$?
	reports=$(($(find "$logs" -name 'vg.*' -size +0 | wc -l) - before))
	if [ $rc -eq 0 ] && [ $reports -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok   $s ($((SECONDS - start)) s)"
	elif [ $rc -eq 77 ]; then
		echo "skip $s: $(tail -1 "$logs/$s.log")"
	else
		failed=$((failed + 1))
		echo "FAIL $s (exit $rc, $reports valgrind report(s), $((SECONDS - start)) s): $logs/$s.log"
		tail -15 "$logs/$s.log" | sed 's/^/    /'
	fi
done

for f in "$logs"/vg.*; do
	[ -s "$f" ] || continue
	echo "--- valgrind report $f:"
	head -60 "$f"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
