#!/usr/bin/env bash
# typed.sh - typed values (issue 14, docs/format.md 3.2) through the real
# binary: `set KEY:=JSON` and the types in get/state/show --json; the hint
# for strings that look typed (not for 0123; 1e10 gets one); objects,
# nested arrays, out-of-range numbers and NaN refused in one line with
# the ledger byte-identical; "3" -> 3 in diff and history; a rollback
# restoring a type; a lock refusing; a policy proposal taking effect
# typed; a --remote set typed; a mirror of them; verify; a ledger from before (the version
# 1 fixture of authz.sh) still verifying and taking typed writes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_serve.sh"
need mdb_dump mdb_load

FIXTURES=$(cd "$(dirname "$0")/fixtures" && pwd)

init_ledger example.com/deploy/typed

step "set typed values"
expect_rc 0 ledger set staging/api enabled:=false replicas:=3 \
	ratio:=1.50 big:=1e300 tags:='[1, "a", true]' none:=null \
	name:='"api"' -m "typed"
expect_out_match '^2 [0-9a-f]{64}$'
expect_no_err
expect_rc 0 ledger get staging/api
expect_out 'big:=1e+300
enabled:=false
name=api
none:=null
ratio:=1.5
replicas:=3
tags:=[1,"a",true]'
expect_rc 0 ledger get staging/api tags
expect_out '[1,"a",true]'
expect_rc 0 ledger get staging/api name
expect_out 'api'

step "get --json and state --json carry the types"
expect_rc 0 ledger get staging/api --json
cp "$OUT" "$T/get.json"
check "enabled is false" [ "$(jget "$T/get.json" values enabled)" = false ]
check "replicas is 3" [ "$(jget "$T/get.json" values replicas)" = 3 ]
check "none is null" [ "$(jget "$T/get.json" values none)" = null ]
check "tags[2] is true" [ "$(jget "$T/get.json" values tags 2)" = true ]
expect_out_match '^    "replicas": 3,$'
expect_out_match '^    "name": "api",$'
expect_out_match '^    "ratio": 1.5,$'
expect_rc 0 ledger state --json
expect_out_match '^        "enabled": false,$'
expect_out_match '^        "replicas": 3,$'
expect_rc 0 ledger state
expect_out_match '^staging/api replicas:=3$'
expect_out_match '^staging/api name=api$'
expect_rc 0 ledger show 2 --json
expect_out_match '^      "value": false$'

step "the hint for strings that look typed"
expect_rc 0 ledger set staging/api flag=false -m "a string"
expect_err 'hint: stored as the string "false"; use flag:=false for a boolean'
expect_rc 0 ledger set staging/api tag=1e10 nothing=null -m "strings"
expect_err 'hint: stored as the string "1e10"; use tag:=1e10 for a number
hint: stored as the string "null"; use nothing:=null for null'
expect_rc 0 ledger set staging/api tag=0123 word=true-blue -m "no hint"
expect_no_err
expect_rc 0 ledger get staging/api flag --json
expect_out_match '^    "flag": "false"$'

step "what is no value is refused in one line, nothing written"
snapshot refused
while IFS='|' read -r ere arg; do
	expect_rc 2 ledger set staging/api "$arg" -m "bad"
	expect_one_line_error "^ledger: set: $ere"
	expect_no_out
done <<'EOF'
obj: objects are not values: use dotted keys, e\.g\. a\.b:=1$|obj:={"a":1}
nest: arrays inside arrays are not values|nest:=[1,[2]]
big: number out of range|big:=9223372036854775808
big: number out of range|big:=1e400
nan: not JSON|nan:=NaN
inf: not JSON|inf:=Infinity
empty: not JSON|empty:=
s: invalid value|s:=""
expected KEY=VALUE or KEY:=JSON|:=1
EOF
assert_unchanged refused

step "\"3\" -> 3 in diff and history, and a type is a change"
expect_rc 0 ledger set staging/api count=3 -m "the string 3"
S1=$(out_field 1 1)
expect_rc 0 ledger set staging/api count:=3 -m "the number 3"
S2=$(out_field 1 1)
expect_out_match "^$S2 [0-9a-f]{64}$"
expect_rc 0 ledger set staging/api count:=3 -m "again"
expect_err_match 'already has these values; nothing written'
expect_rc 0 ledger diff "$S1" "$S2"
expect_out 'staging/api count: "3" -> 3'
expect_rc 0 ledger diff "$S1" "$S2" --json
expect_out_match '^    "from": "3",$'
expect_out_match '^    "to": 3$'
expect_rc 0 ledger history staging/api
expect_out_match "^$S1 .* count=3 "
expect_out_match "^$S2 .* count:=3 "

step "a rollback restores the type"
expect_rc 0 ledger rollback staging/api --to "$S1" --no-lock -m "back"
expect_rc 0 ledger get staging/api count --json
expect_out_match '^    "count": "3"$'
expect_rc 0 ledger diff "$S2" "$(head_seq)"
expect_out 'staging/api count: 3 -> "3"'
expect_rc 0 ledger rollback staging/api --to "$S2" --no-lock -m "forth"
expect_rc 0 ledger get staging/api count --json
expect_out_match '^    "count": 3$'

step "a lock refuses a typed set"
expect_rc 0 ledger lock staging/api -m "hold"
snapshot locked
expect_rc 1 ledger set staging/api replicas:=5 -m "locked"
expect_one_line_error 'target is locked since seq'
assert_unchanged locked
expect_rc 0 ledger unlock staging/api -m "go"

step "a proposal takes effect typed"
new_key bob
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/bob.pub" --role deployer --scope '*' \
	-m "bob"
expect_rc 0 ledger policy set 'prod/*' --approvals 1 -m "four eyes"
expect_rc 0 ledger set prod/api replicas:=4 enabled:=true -m "proposed" \
	--key "$T/keys/bob.key"
P=$(out_field 1 1)
expect_rc 1 ledger get prod/api replicas
expect_rc 0 ledger approve "$P" -m "ok"
expect_rc 0 ledger get prod/api --json
cp "$OUT" "$T/prod.json"
check "replicas took effect as 4" [ "$(jget "$T/prod.json" values replicas)" = 4 ]
check "enabled took effect as true" \
	[ "$(jget "$T/prod.json" values enabled)" = true ]
expect_out_match '^    "replicas": 4$'

step "--remote set typed"
start_server
expect_rc 0 ledger --remote "$BASE" set staging/web replicas:=2 \
	list:='["x", 0.1]' -m "remote"
expect_rc 0 ledger get staging/web
expect_out 'list:=["x",0.1]
replicas:=2'
# the server's state in JSON (0.1 as 0.10000000000000001) is read back
# as the same typed values: nothing to write
expect_rc 0 ledger --remote "$BASE" set staging/web replicas:=2 \
	list:='["x",0.1]' -m "again"
expect_err_match 'already has these values; nothing written'
expect_no_out
expect_rc 2 ledger --remote "$BASE" set staging/web o:='{"a":1}' -m "bad"
expect_one_line_error '^ledger: set: o: objects are not values'

step "a mirror copies typed values, bytes and types"
expect_rc 0 ledger --ledger "$T/mirror" mirror "$BASE"
expect_out_match "^mirrored $(head_seq) new entries from $BASE: head $(head_seq) "
expect_rc 0 ledger --ledger "$T/mirror" verify
expect_rc 0 ledger --ledger "$T/mirror" get staging/web
expect_out 'list:=["x",0.1]
replicas:=2'
check "the mirror's entries are the source's bytes" \
	[ "$(mdb_dump -s entries "$T/mirror" | sed 1,/HEADER=END/d)" = \
	"$(mdb_dump -s entries "$LEDGER_DIR" | sed 1,/HEADER=END/d)" ]
stop_server TERM

step "verify"
expect_rc 0 ledger verify
expect_out_match "^ok: $(head_seq) entries, head "

step "a ledger from before typed values verifies and takes them"
mkdir -p "$T/v1" "$T/v1keys"
mdb_load -f "$FIXTURES/v1-ledger/ledger.dump" "$T/v1" 2>/dev/null ||
	fail "mdb_load of the v1 fixture"
cp "$FIXTURES"/v1-ledger/*.key "$T/v1keys/"
chmod 600 "$T"/v1keys/*.key
export LEDGER_DIR=$T/v1
expect_rc 0 ledger verify
expect_out_match '^ok: 7 entries, head 7 '
V1KEY=$T/v1keys/admin.key
expect_rc 0 ledger set staging/api replicas:=6 -m "typed on an old ledger" \
	--key "$V1KEY"
expect_rc 0 ledger verify
expect_out_match '^ok: 8 entries, head 8 '

finish
