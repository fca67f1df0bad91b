#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as
# errors, and runs every meson test twice: in build/ (the build as
# shipped, with the libFuzzer harnesses) and in build-asan/ (the same code
# with AddressSanitizer, LeakSanitizer and UBSan, -fno-sanitize-recover:
# any report fails the test that ran the command, and the run; the
# 'sanitize' setup in tests/meson.build). Ends with one line "N passed,
# N failed, N skipped" over both trees (any sanitizer report adds one
# failure, as a daemon's may fail no test). Both trees are built with
# -Dtest_clock=true (the clock the policy tests set); a release build is
# not (docs/operations.md).
#
#   scripts/test.sh                 both trees
#   scripts/test.sh web_api         only these tests, in both trees
#   SANITIZE=0 scripts/test.sh      build/ only (a quick local run)
#   BUILD_DIR=b ASAN_BUILD_DIR=b-asan scripts/test.sh   other directories
#   TEST_JOBS=2 scripts/test.sh     tests at a time (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
build=${BUILD_DIR:-build}
asan=${ASAN_BUILD_DIR:-build-asan}
logs=()
status=0

# tree DIR [MESON SETUP ARGS]: set up (once), build, run the tests
tree() {
	local dir=$1 t0=$SECONDS t1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	fi
	# the tests of soak and freeze windows set the clock
	# (LEDGER_TEST_NOW, ledger/util.h): a test build, never a release
	meson configure "$dir" -Dtest_clock=true >/dev/null
	ninja -C "$dir"
	t1=$SECONDS
	# three at a time on two cores: the scenario scripts wait on fsync,
	# child processes and polls for a good part of their time
	meson test -C "$dir" --num-processes "${TEST_JOBS:-3}" \
		--print-errorlogs "${tests[@]}" || status=1
	logs+=("$dir/meson-logs/testlog.json")
	echo "test.sh: $dir: build $((t1 - t0)) s, tests $((SECONDS - t1)) s"
}

tests=("$@")
tree "$build"
reports=0
if [ "${SANITIZE:-1}" != 0 ]; then
	# emptied, not removed: the ASAN_OPTIONS log_path points into it
	rm -rf "$asan/sanitizer-reports"
	mkdir -p "$asan/sanitizer-reports"
	tree "$asan" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all
	# every report, a daemon's or a background process's too
	for f in "$asan"/sanitizer-reports/*; do
		[ -s "$f" ] || continue
		reports=$((reports + 1))
		echo "--- sanitizer report $f:"
		head -40 "$f"
	done
	if [ $reports -gt 0 ]; then
		echo "test.sh: $reports sanitizer report(s) in $asan/sanitizer-reports/"
		status=1
	fi
fi

python3 - "$reports" "${logs[@]}" <<'PY'
import json, sys
# a sanitizer report outside any failed test (a daemon's) counts as one
counts = {"passed": 0, "failed": min(int(sys.argv[1]), 1), "skipped": 0}
failed = []
for path in sys.argv[2:]:
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        test = json.loads(line)
        result = test.get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif result == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
            failed.append((path, test))
# a failure's last lines again, last, where a log that keeps only the
# end of the output (a CI page) still shows which test failed and why
for path, test in failed:
    print("--- %s: %s in %s after %.0f s; its last lines:"
          % (test["name"], test["result"], path.split("/meson-logs")[0],
             test.get("duration") or 0))
    out = ((test.get("stdout") or "") + (test.get("stderr") or "")).splitlines()
    for text in out[-30:]:
        print("  " + text[:300])
print("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"], counts["skipped"]))
PY
exit $status
