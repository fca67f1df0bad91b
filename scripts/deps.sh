#!/usr/bin/env bash
# Installs the Debian packages Ledger builds and tests with, when missing.
# Safe to run again: it installs only what is not there yet.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config meson ninja-build
	liblmdb-dev lmdb-utils libsodium-dev libyaml-dev libmsgpack-dev
	libjansson-dev libfuse3-dev fuse3 libcmocka-dev python3
	libmicrohttpd-dev curl libcurl4-openssl-dev openssl xxd
	python3-cryptography # Ed25519 of the Python checkers (tests/vectors, tests/tools/cosig_check.py)
	clang libclang-rt-14-dev
	clang-format # scripts/format.sh; the suite's 'format' test
	strace # tests/scenario/faults.sh injects its faults with it
	tzdata # freeze windows' time zones (ledger/window.c); test_window skips without it
	chromium
	nginx-light # tests/scenario/lib_nginx.sh: a static tiles host (tiles.sh)
)
# tests/scenario/browser.sh drives Chromium with node (playwright-core
# needs Node.js 18 or newer, which Debian 12 has); Debian's nodejs only when there is no node
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
		exit 2
	}
	SUDO=sudo
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
