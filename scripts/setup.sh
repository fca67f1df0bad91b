#!/usr/bin/env bash
# One command from a fresh Debian 12: install what is missing, build, and
# run the demo on a throw-away ledger.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
LEDGER_BIN=build/cli/ledger scripts/demo.sh
