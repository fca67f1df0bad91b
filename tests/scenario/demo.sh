#!/bin/bash
# demo.sh - the README's first command ends with scripts/demo.sh: it must
# run to the end and exit 0 (it once printed everything and exited 1:
# its EXIT trap killed a server that was already gone under set -e), and
# say what the README says it shows.
. "$(dirname "$0")/lib.sh"
need curl

DEMO=$(cd "$(dirname "$0")/../.." && pwd)/scripts/demo.sh
[ -x "$DEMO" ] || fail "no $DEMO"

step "scripts/demo.sh"
LAST_CMD="LEDGER_BIN=$LEDGER TMPDIR=$T scripts/demo.sh"
LEDGER_BIN=$LEDGER TMPDIR=$T "$DEMO" >"$OUT" 2>"$ERR"
RC=$?
check "the demo exits 0" [ "$RC" -eq 0 ]
for want in '^\$ ledger init --origin example.com/deploy/demo$' \
	'^\$ ledger rollback ' \
	'^ok: [0-9]+ entries, head [0-9]+ [0-9a-f]{64}$' \
	'^listening on http://127\.0\.0\.1:[0-9]+$' \
	'^mirrored [0-9]+ new entries from http://127\.0\.0\.1:[0-9]+: head ' \
	'^ok: contains checkpoint .*\([0-9]+ entries\)$' \
	'^Demo ledger was in .* \(removed on exit\)\.$'; do
	check "the demo shows /$want/" grep -Eq -- "$want" "$OUT"
done
check "the demo removed its ledger" [ -z "$(ls -d "$T"/ledger-demo.* 2>/dev/null)" ]

finish
