#!/usr/bin/env bash
# A tour of the main job on a throw-away ledger: keys, promotions across
# two clusters, a rollback that locks, history, and an audit.
set -euo pipefail

LEDGER_BIN=${LEDGER_BIN:-$(dirname "$0")/../build/cli/ledger}
work=$(mktemp -d "${TMPDIR:-/tmp}/ledger-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export LEDGER_DIR=$work/ledger XDG_CONFIG_HOME=$work/config
unset LEDGER_KEY

run() {
	local a line="ledger"
	for a in "$@"; do
		case $a in
		*[[:space:]\#\'\"\*\?\$]*) line+=" \"$a\"" ;;
		*) line+=" $a" ;;
		esac
	done
	printf '\n$ %s\n' "$line"
	"$LEDGER_BIN" "$@" 2>&1
}

run keygen alice
run init --origin example.com/deploy/demo
run set staging/api image.tag=3f2a9c1 -m "PR #41" --meta pr=41
run set staging/web image.tag=v1.4.0 replicas=2 -m "PR #40"
run set staging/api image.tag=8d1e4b2 -m "PR #42" --meta pr=42
run set production/api image.tag=3f2a9c1 -m "promote 3f2a9c1 after soak"
run set staging/api image.tag=8d1e4b2 -m "CI retry: same tag, nothing written"
run rollback staging/api --to 2 -m "8d1e4b2 breaks checkout"
printf '\n# the pipeline tries again; the lock keeps the rollback in place:\n'
run set staging/api image.tag=8d1e4b2 -m "PR #42 redeploy" || echo "(exit $?)"
run history staging/api
run state
run status
run diff 4 6
run log -n 3
run checkpoint -o "$work/checkpoint"
run verify --checkpoint "$work/checkpoint"

# the same ledger over HTTP: the web page and the JSON API
printf '\n$ ledger serve --listen 127.0.0.1:0 &\n'
"$LEDGER_BIN" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>&1 &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
	grep -q '^listening on ' "$work/serve.out" && break
	sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
cat "$work/serve.out"
printf '\n$ curl -s %s/api/v1/head\n' "$url"
curl -s "$url/api/v1/head"
# an independent copy, every entry checked here, then its full check
run --ledger "$work/mirror" mirror "$url"
run --ledger "$work/mirror" verify --checkpoint "$work/checkpoint"
printf '\n(the web page is at %s/ while it runs)\n' "$url"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
printf '\nDemo ledger was in %s (removed on exit).\n' "$work"
