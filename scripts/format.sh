#!/usr/bin/env bash
# format.sh [--check]: formats every tracked C file with clang-format and
# the committed .clang-format (kernel-like: tabs, 80 columns, Linux
# braces). --check changes nothing and fails, naming each file and line
# that is not formatted; the suite runs it (meson test 'format').
#
# The style is clang-format 14's (Debian 12): other versions lay out a
# few constructs differently, so --check skips (77) under another major
# version instead of failing on code that 14 accepts.
set -euo pipefail
cd "$(dirname "$0")/.."
want=14
fmt=
for c in clang-format-$want clang-format; do
	if command -v "$c" >/dev/null &&
		"$c" --version | grep -q "version $want\."; then
		fmt=$c
		break
	fi
done
if [ -z "$fmt" ]; then
	echo "format: SKIP: clang-format $want is not installed (scripts/deps.sh installs it)"
	exit 77
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "format: SKIP: not a git checkout (the tracked files are what is checked)"
	exit 77
fi
mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v '^tests/browser/vendor/')
if [ "${1:-}" = --check ]; then
	"$fmt" --dry-run -Werror "${files[@]}"
	echo "format: ${#files[@]} files formatted as .clang-format says"
else
	"$fmt" -i "${files[@]}"
fi
