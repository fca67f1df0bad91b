#!/bin/bash
# shapes.sh - one producer per JSON shape (render/render.h): the CLI's
# --json and `ledger serve`'s answer are the same bytes, after the
# envelope docs/api.md gives the API, for the keyring (`key list --json`
# = GET /api/v1/keys without {"keys": ...}), the verify report (`verify
# --json` = GET /api/v1/verify, both when it holds and when an entry is
# forged) and the releases (`status --json` = GET /api/v1/releases,
# with a lock, a revoked key and an applier's record); and the key of an
# entry's check is the keyring's row. The shapes docs/api.md defines are
# checked member by member, so a renamed or reordered member fails here
# even if both front ends changed together.
. "$(dirname "$0")/lib.sh"
need curl python3
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"

. "$(dirname "$0")/lib_apply.sh"
. "$(dirname "$0")/lib_serve.sh"
trap 'bg_kill; serve_cleanup' EXIT

# cli_to FILE ARGS...: the CLI's stdout into FILE, exit RC (default 0)
cli_to() {
	local f=$1 want=${RC_WANT:-0}
	shift
	run ledger "$@"
	[ "$RC" -eq "$want" ] || fail "ledger $*: exit $RC, expected $want"
	cp "$OUT" "$f"
}

# unwrap MEMBER FILE: the API body FILE is exactly {"MEMBER": VALUE} as
# jansson indents it; prints VALUE as the CLI prints it alone (the same
# text, two spaces less indented), or fails
unwrap() {
	python3 - "$1" "$2" >"$T/.unwrapped" <<'PY' || fail "$2 is not {\"$1\": ...}"
import sys
member, path = sys.argv[1], sys.argv[2]
body = open(path, encoding="utf-8").read()
head, tail = '{\n  "%s": ' % member, "\n}\n"
if not body.startswith(head) or not body.endswith(tail):
    sys.exit(1)
lines = body[len(head):-len(tail)].split("\n")
for i, line in enumerate(lines[1:], 1):
    if not line.startswith("  "):
        sys.exit(1)
    lines[i] = line[2:]
sys.stdout.write("\n".join(lines) + "\n")
PY
	cp "$T/.unwrapped" "$OUT"
}

# members FILE PATH... = NAMES: the object at PATH (python indexing, as
# jget) has exactly these members in this order
members() {
	local f=$1 got want
	shift
	local path=()
	while [ "$1" != "=" ]; do
		path+=("$1")
		shift
	done
	shift
	want="$*"
	got=$(python3 - "$f" "${path[@]}" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for p in sys.argv[2:]:
    v = v[int(p)] if isinstance(v, list) else v[p]
print(" ".join(v))
PY
) || fail "$f: no object at ${path[*]}"
	[ "$got" = "$want" ] ||
		fail "$f ${path[*]}: members \"$got\", expected \"$want\""
	ok
}

# ---------------------------------------------------------------------
step "a ledger with keys, a revoked one, a lock and an applier's record"
init_ledger example.com/deploy/shapes
for n in app dep; do
	new_key "$n"
done
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "the applier"
expect_rc 0 ledger key add "$K/dep.pub" --role deployer --scope 'staging/*' -m "CI"
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "PR #1" --key "$K/dep.key"
expect_rc 0 ledger set staging/web image.tag=w1 -m "web 1"
expect_rc 0 ledger key revoke dep -m "rotated"
expect_rc 0 ledger apply staging --config-dir "$CFG" --key "$K/app.key"
expect_rc 0 ledger set staging/api image.tag=v2 -m "PR #2"
expect_rc 0 ledger lock staging/web -m "freeze"
expect_rc 0 ledger set prod/api image.tag=p1 -m "promote"

start_server

step "the keyring"
cli_to "$T/keys.cli" key list --json
http 200 /api/v1/keys
cp "$OUT" "$T/keys.api"
unwrap keys "$T/keys.api"
check "GET /api/v1/keys = {\"keys\": key list --json} (bytes)" \
	cmp -s "$OUT" "$T/keys.cli"
check "three keys" [ "$(jlen "$T/keys.cli")" = 3 ]
members "$T/keys.cli" 0 = name keyid vkey role scopes added_seq revoked_seq
check "admin added by seq 1" [ "$(jget "$T/keys.cli" 0 added_seq)" = 1 ]
check "dep revoked at seq 6" [ "$(jget "$T/keys.cli" 2 revoked_seq)" = 6 ]
check "app trusted" [ "$(jget "$T/keys.cli" 1 revoked_seq)" = null ]

step "an entry's check names the keyring's row"
http 200 /api/v1/entries/4/check
cp "$OUT" "$T/check.json"
members "$T/check.json" = seq hash signature signer_key key chain
python3 - "$T/check.json" "$T/keys.cli" <<'PY' || fail "check's key is not the keyring's row of dep"
import json, sys
check, ring = (json.load(open(p)) for p in sys.argv[1:3])
row = [k for k in ring if k["name"] == "dep"][0]
sys.exit(0 if json.dumps(check["key"]) == json.dumps(row) else 1)
PY
ok

step "the releases"
cli_to "$T/rel.cli" status --json
http 200 /api/v1/releases
check "GET /api/v1/releases = status --json (bytes)" cmp -s "$OUT" "$T/rel.cli"
cli_to "$T/rel.cli" status staging/web --json
http 200 "/api/v1/releases?scope=staging/web"
check "?scope=staging/web = status staging/web --json (bytes)" \
	cmp -s "$OUT" "$T/rel.cli"
cli_to "$T/rel.cli" status --json
members "$T/rel.cli" = head releases
members "$T/rel.cli" releases 1 = target cluster release values changed locked apply drift policy frozen
members "$T/rel.cli" releases 1 apply = seq kind time signer reason desired_seq current
check "staging/api applied, behind" [ "$(jget "$T/rel.cli" releases 1 apply current)" = false ]
check "staging/web locked at 11" [ "$(jget "$T/rel.cli" releases 2 locked seq)" = 11 ]

step "the verify report"
cli_to "$T/verify.cli" verify --json --threads 1
http 200 /api/v1/verify
check "GET /api/v1/verify = verify --json (bytes)" cmp -s "$OUT" "$T/verify.cli"
members "$T/verify.cli" = ok entries head hash root origin policies
stop_server TERM

step "the verify report of a forged entry"
cp -a "$LEDGER_DIR" "$T/forged"
"$TAMPER" "$T/forged" flip 4 -1 || fail "ldg_tamper flip failed"
RC_WANT=1 cli_to "$T/verify.cli" --ledger "$T/forged" verify --json --threads 1
saved=$LEDGER_DIR
export LEDGER_DIR=$T/forged
start_server
http 200 /api/v1/verify
check "GET /api/v1/verify = verify --json, failed (bytes)" \
	cmp -s "$OUT" "$T/verify.cli"
members "$T/verify.cli" = ok entries head hash root origin policies bad_seq problem
check "bad seq 4" [ "$(jget "$T/verify.cli" bad_seq)" = 4 ]
stop_server TERM
export LEDGER_DIR=$saved

finish
