#!/bin/bash
# bad_input.sh - table-driven: every malformed name, key, value, reason,
# flag, arity, seq and environment is refused with the right exit code
# (2 for bad input; 1 where the answer is "no"), exactly one stderr line
# "ledger: ...", nothing on stdout, and the ledger byte-for-byte unchanged.
# The limits themselves (63/53/253/4096) are accepted.
. "$(dirname "$0")/lib.sh"
need mdb_dump mdb_load

rep() { # rep CHAR N
	local s
	printf -v s '%*s' "$2" ''
	printf '%s' "${s// /$1}"
}
C63=$(rep c 63)
C64=$(rep c 64)
R53=$(rep r 53)
R54=$(rep r 54)
K253=$(rep k 253)
K254=$(rep k 254)
KSEG253="$(rep a 126).$(rep b 126)"
V4096=$(rep v 4096)
V4097=$(rep v 4097)
N64=$(rep n 64)
# 300 values of 4000 bytes: an entry over the 1 MiB the decoder takes;
# 17 of them: over the 65,535 bytes of a new entry (an entry bundle's
# 16-bit length, docs/format.md "Tiles"); 16: under it
V4000=$(rep w 4000)
BIGARGS=()
for i in $(seq 1 300); do
	BIGARGS+=("k$i=$V4000")
done
CAPARGS=("${BIGARGS[@]:0:17}")
UNDERCAP=("${BIGARGS[@]:0:16}")
N65=$(rep n 65)
# 1001 changes and 65 metadata pairs: one over the entry's limits
MANY=()
for i in $(seq 1 1001); do
	MANY+=("k$i=v")
done
META65=()
for i in $(seq 1 65); do
	META65+=(--meta "m$i=v")
done

init_ledger example.com/deploy/bad-input
run ledger set staging/api image.tag=v1 -m "a value"
[ "$RC" -eq 0 ] || fail "set failed"
ADMIN=$KEYS/admin.key
PUB=$KEYS/admin.pub
new_key other
chmod 644 "$T/keys/other.key"
LOOSE=$T/keys/other.key
cp "$PUB" "$T/pub600"
chmod 600 "$T/pub600"
echo "garbage" >"$T/garbage.key"
chmod 600 "$T/garbage.key"
mkdir -p "$T/empty"
# an LMDB environment that is not a ledger
mkdir -p "$T/foreign"
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 666f6f\n 626172\nDATA=END\n' |
	mdb_load -s other "$T/foreign" || fail "mdb_load failed"
echo "not a directory" >"$T/afile"
# a FIFO no one writes to: a read of it would wait forever (the rows that
# name it run under timeout, so a hang fails rather than hangs the test)
mkfifo "$T/fifo"
# key files that are not exactly one line (format.md section 7)
printf '%s\r\n' "$(cat "$ADMIN")" >"$T/crlf.key"
printf '%s \n' "$(cat "$ADMIN")" >"$T/space.key"
printf '%s\n\n' "$(cat "$ADMIN")" >"$T/blank.key"
chmod 600 "$T/crlf.key" "$T/space.key" "$T/blank.key"
printf '%s\r\n' "$(cat "$T/keys/other.pub")" >"$T/crlf.pub"

L() {
	"$LEDGER" "$@"
}

# Rows: EXIT|ERE the error line must match (may be empty)|command (eval'd;
# L is the ledger binary). Keep one case per row.
cat >"$T/table" <<'EOF'
# --- targets, clusters and releases
2|invalid target|L set Staging/api k=v -m x
2|invalid target|L set staging/API k=v -m x
2|invalid target|L set "$C64/api" k=v -m x
2|invalid target|L set "staging/$R54" k=v -m x
2|invalid target|L set -m x -- -staging/api k=v
2|invalid target|L set -m x -- staging/-api k=v
2|invalid target|L set staging-/api k=v -m x
2|invalid target|L set staging/api- k=v -m x
2|invalid target|L set stagingapi k=v -m x
2|invalid target|L set staging/api/x k=v -m x
2|invalid target|L set /api k=v -m x
2|invalid target|L set staging/ k=v -m x
2|invalid target|L set "" k=v -m x
2|invalid target|L set stag_ing/api k=v -m x
2|invalid target|L set stag.ing/api k=v -m x
2|invalid target|L set "stag ing/api" k=v -m x
2|invalid target|L set staging/äpi k=v -m x
2|invalid target|L unset Staging/api k -m x
2|invalid target|L lock Staging/api -m x
2|invalid target|L unlock staging/API -m x
2|invalid target|L rollback Staging/api --to 1 -m x
2|invalid cluster|L rollback Staging --to 1 -m x
2|invalid cluster|L rollback "$C64" --to 1 -m x
2|invalid target|L get Staging/api
2|invalid target|L get stagingapi
2|invalid target|L history "staging/$R54"
2|invalid cluster|L state Staging
2|invalid cluster|L state "$C64"
2|invalid target|L state staging/API
2|invalid cluster|L log -- -staging
2|invalid cluster|L log STAGING
2|invalid target|L log staging/a/b
2|invalid cluster|L diff 1 2 Staging
2|invalid cluster|L status Staging
2|invalid target|L status staging/API
2|at most one|L status staging prod
2|unknown option|L status --bogus
2|works with set|L --remote http://127.0.0.1:1 status
2|--post-rate x: expected 0|L serve --post-rate x
2|--post-rate 2000000: expected 0|L serve --post-rate 2000000
2|needs a value|L serve --post-rate
2|--max-streams 0: expected 1 to 128|L serve --max-streams 0
2|--max-streams 129: expected 1 to 128|L serve --max-streams 129
2|--max-streams-per-addr 33: expected 1 to 32|L serve --max-streams-per-addr 33
2|--allow-host evil.example:80: expected a host name|L serve --allow-host evil.example:80
2|--allow-host : expected a host name|L serve --allow-host ""
2|--writer-fd is internal|L serve --writer-fd 7
2|--post-rate 5/day: expected 0|L serve --post-rate 5/day
2|--post-rate 5/: expected 0|L serve --post-rate 5/
2|--post-rate /h: expected 0|L serve --post-rate /h
2|--post-rate 2000000/h: expected 0|L serve --post-rate 2000000/h
# --- keys
2|invalid key|L set staging/api a..b=v -m x
2|invalid key|L set staging/api .a=v -m x
2|invalid key|L set staging/api a.=v -m x
2|KEY=VALUE|L set staging/api . -m x
2|invalid key|L set staging/api "$K254=v" -m x
2|invalid key|L set staging/api "a b=v" -m x
2|invalid key|L set staging/api a/b=v -m x
2|invalid key|L set staging/api '!lock=v' -m x
2|invalid key|L set staging/api 'a*=v' -m x
2|invalid key|L set staging/api é=v -m x
2|KEY=VALUE|L set staging/api =v -m x
2|KEY=VALUE|L set staging/api novalue -m x
2|given twice|L set staging/api k=1 k=2 -m x
2|invalid key|L unset staging/api a..b -m x
2|invalid key|L unset staging/api '!lock' -m x
2|invalid key|L unset staging/api "$K254" -m x
2|given twice|L unset staging/api image.tag image.tag -m x
2|invalid key|L get staging/api a..b
2|invalid key|L get staging/api "$K254"
# --- values
2|invalid value|L set staging/api k= -m x
2|invalid value|L set staging/api "k=$V4097" -m x
2|invalid value|L set staging/api $'k=a\tb' -m x
2|invalid value|L set staging/api $'k=a\nb' -m x
2|invalid value|L set staging/api $'k=a\rb' -m x
2|invalid value|L set staging/api $'k=\x1b[31mred' -m x
2|invalid value|L set staging/api $'k=a\x7fb' -m x
2|invalid value|L set staging/api $'k=a\xc2\x85b' -m x
2|invalid value|L set staging/api $'k=\xff' -m x
2|invalid value|L set staging/api $'k=a\xfeb' -m x
2|invalid value|L set staging/api $'k=\xc0\xaf' -m x
2|invalid value|L set staging/api $'k=\xe0\x80\xaf' -m x
2|invalid value|L set staging/api $'k=\xed\xa0\x80' -m x
2|invalid value|L set staging/api $'k=\xf4\x90\x80\x80' -m x
2|invalid value|L set staging/api $'k=\xe2\x82' -m x
2|invalid value|L set staging/api $'k=ok\xe2' -m x
2|invalid value|L set staging/api $'k=\x80' -m x
2|invalid value|L set staging/api ok=fine $'k=\xff' -m x
2|too large|L set staging/big "${BIGARGS[@]}" -m "over 1 MiB"
2|^ledger: set: entry too large: 68[0-9]{3} bytes, a new entry is at most 65535$|L set staging/big "${CAPARGS[@]}" -m "over 64 KiB"
2|too many changes: an entry holds at most 1000$|L set staging/many "${MANY[@]}" -m "1001 keys"
2|too many --meta options \(at most 64\)|L set staging/api k=v -m x "${META65[@]}"
# --- reasons
2|-m REASON|L set staging/api k=v
2|reason|L set staging/api k=v -m ""
2|reason|L set staging/api k=v -m $'two\nlines'
2|reason|L set staging/api k=v -m $'tab\there'
2|reason|L set staging/api k=v -m $'\xff'
2|reason|L set staging/api k=v -m $'\xc3'
2|reason|L set staging/api k=v -m "$V4097"
2|-m REASON|L unset staging/api image.tag
2|reason|L unset staging/api image.tag -m ""
2|-m REASON|L lock staging/api
2|reason|L lock staging/api -m ""
2|reason|L unlock staging/api -m $'a\x01b'
2|-m REASON|L rollback staging/api --to 1
2|reason|L rollback staging/api --to 1 -m ""
2|-m REASON|L key revoke admin
2|reason|L key revoke admin -m ""
2|-m REASON|L key add "$PUB" --role admin --scope '*'
2|reason|L key add "$PUB" --role admin --scope '*' -m $'a\nb'
# --- metadata
2|--meta|L set staging/api k=v -m x --meta novalue
2|--meta|L set staging/api k=v -m x --meta =v
2|metadata|L set staging/api k=v -m x --meta pr=
2|metadata|L set staging/api k=v -m x --meta a..b=1
2|metadata|L set staging/api k=v -m x --meta $'pr=a\nb'
2|metadata|L set staging/api k=v -m x --meta $'pr=\xff'
2|given twice|L set staging/api k=v -m x --meta pr=1 --meta pr=2
2|reserved|L set staging/api k=v -m x --meta forced=true
2|reserved|L set staging/api k=v -m x --meta rollback-to=1
2|reserved|L unset staging/api image.tag -m x --meta forced=true
# --- flags
2|unknown option|L set staging/api k=v -m x --frobnicate
2|unknown option|L set staging/api k=v -m x -x
2|unknown option|L get staging/api --frobnicate
2|unknown option|L verify --frobnicate
2|unknown option|L log -z
2|unknown option|L --frobnicate get staging/api
2|needs a value|L set staging/api k=v -m
2|needs a value|L get staging/api --at
2|needs a value|L verify --checkpoint
2|needs a value|L log -n
2|needs a value|L set staging/api k=v -m x --key
2|unknown option|L state --json --at 1 --bogus
2|unknown command|L frobnicate
2|unknown command|L Set staging/api k=v -m x
# --- arity
2|expected|L set
2|expected|L set staging/api
2|expected|L set staging/api -m x
2|expected|L unset staging/api -m x
2|expected|L get
2|expected|L get staging/api image.tag extra
2|expected|L show
2|expected|L show 1 2
2|expected|L history
2|expected|L history staging/api extra
2|--before must be a seq|L history staging/api --before 0
2|expected the URL of a ledger server|L mirror
2|is not an http:// or https:// URL|L mirror ftp://example.com
2|expected the URL of a ledger server|L mirror http://127.0.0.1:1 extra
2|--before must be a seq|L history staging/api --before x
2|-n must be a seq|L history staging/api -n -1
2|expected|L diff 1
2|expected|L diff 1 2 staging extra
2|expected|L state staging prod
2|expected|L log staging prod
2|expected|L lock -m x
2|expected|L lock staging/api prod/api -m x
2|expected|L rollback --to 1 -m x
2|expected|L key
2|unknown subcommand|L key frob
2|expected|L key add
2|expected|L key add "$PUB" "$PUB" --role admin --scope '*' -m x
2|expected|L key revoke -m x
2|unexpected|L key list extra
2|unexpected|L init --origin example.com/x extra
2|expected|L keygen
2|expected|L keygen a b
2|unexpected|L verify extra
2|unexpected|L checkpoint extra
2|unexpected|L reindex extra
# --- seqs
2|--at|L get staging/api --at 0
2|no entry 3|L get staging/api --at 3
2|no entry 99|L state --at 99
2|--at|L get staging/api --at abc
2|--at|L get staging/api --at -1
2|--at|L get staging/api --at 1.5
2|--at|L get staging/api --at 18446744073709551616
2|--at|L state --at ""
2|SEQ|L show 0
2|no entry 3|L show 3
2|SEQ|L show abc
2|SEQ|L show 1x
2|SEQ_A|L diff 0 1
2|SEQ_B|L diff 1 x
2|no entry 9|L diff 1 9
2|-n|L log -n 0
2|-n|L log -n abc
2|--to|L rollback staging/api --to 0 -m x
2|--to|L rollback staging/api --to x -m x
2|no entry 50|L rollback staging/api --to 50 -m x
2|--threads|L verify --threads 0
2|--threads|L verify --threads 65
2|--threads|L verify --threads abc
# --- keys, roles, scopes
2|role|L key add "$T/keys/other.pub" --role bogus --scope '*' -m x
2|role|L key add "$T/keys/other.pub" --scope '*' -m x
2|scope|L key add "$T/keys/other.pub" --role deployer -m x
2|scope|L key add "$T/keys/other.pub" --role deployer --scope '' -m x
2|scope|L key add "$T/keys/other.pub" --role deployer --scope 'Bad/*' -m x
2|private key|L key add "$ADMIN" --role deployer --scope '*' -m x
2||L key add "$T/garbage.key" --role deployer --scope '*' -m x
2||L key add "$T/nope.pub" --role deployer --scope '*' -m x
2||L key add not+a+key --role deployer --scope '*' -m x
2|key name|L key revoke 'bad name' -m x
2|no key named|L key revoke nobody -m x
2|key name|L keygen 'a+b' --dir "$T/kg"
2|key name|L keygen "$N65" --dir "$T/kg"
2|key name|L keygen "" --dir "$T/kg"
2||L set staging/api k=v -m x --key "$PUB"
2|not a private key|L set staging/api k=v -m x --key "$T/pub600"
2|not a private key|L set staging/api k=v -m x --key "$T/garbage.key"
2|chmod|L set staging/api k=v -m x --key "$LOOSE"
2|nope.key|L set staging/api k=v -m x --key "$T/nope.key"
2||L set staging/api k=v -m x --key "$T"
2||L checkpoint --key "$PUB"
2|fifo: is a FIFO, not a regular file$|timeout 60 "$LEDGER" set staging/api k=v -m x --key "$T/fifo"
2|fifo: is a FIFO, not a regular file$|timeout 60 "$LEDGER" checkpoint --key "$T/fifo"
2|fifo: is a FIFO, not a regular file$|timeout 60 "$LEDGER" key add "$T/fifo" --role deployer --scope '*' -m x
2|fifo: is a FIFO, not a regular file$|timeout 60 "$LEDGER" verify --checkpoint "$T/fifo"
2|empty: is a directory, not a regular file$|L verify --checkpoint "$T/empty"
2|is a directory, not a regular file$|L set staging/api k=v -m x --key "$T"
2|/dev/zero: is a character device, not a regular file$|L key add /dev/zero --role deployer --scope '*' -m x
2|crlf.key: not a key: the line ends in .r.n \(CRLF\)|L set staging/api k=v -m x --key "$T/crlf.key"
2|space.key: not a key: white space after the key$|L set staging/api k=v -m x --key "$T/space.key"
2|blank.key: not a key: more after the key's line|L set staging/api k=v -m x --key "$T/blank.key"
2|crlf.pub: not a key: the line ends in .r.n \(CRLF\)|L key add "$T/crlf.pub" --role deployer --scope '*' -m x
2|not a key: key id must be 8 lower-case hex digits$|L key add PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW --role deployer --scope '*' -m x
# --- environment
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" get staging/api
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" set staging/api k=v -m x
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" verify
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" log
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" reindex
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" checkpoint
2|no ledger|env LEDGER_DIR="$T/nope" "$LEDGER" key list
2|no ledger|L --ledger "$T/nope" state
2|no ledger|L state --ledger "$T/nope"
2|no ledger|env LEDGER_DIR="$T/empty" "$LEDGER" get staging/api
2|no ledger|env LEDGER_DIR="$T/empty" "$LEDGER" set staging/api k=v -m x
2|not a ledger|env LEDGER_DIR="$T/foreign" "$LEDGER" get staging/api
2|not a ledger|env LEDGER_DIR="$T/foreign" "$LEDGER" verify
2||env LEDGER_DIR="$T/afile" "$LEDGER" get staging/api
2||env LEDGER_DIR="$T/afile" "$LEDGER" init --origin example.com/x
2|origin|L init --origin "" --ledger "$T/new1"
2|origin|L init --origin $'a\nb' --ledger "$T/new2"
2|origin|L init --origin $'\xff' --ledger "$T/new3"
2|origin|L init --origin "$V4097" --ledger "$T/new4"
2|already|L init --origin example.com/again
# --- control characters in the input must not reach the terminal raw
2|invalid target|L set $'staging/a\npi' k=v -m x
2|invalid target|L set $'staging/\x1b[2Japi' k=v -m x
2|invalid cluster|L state $'sta\nging'
2|invalid key|L set staging/api $'a\nb=v' -m x
2|invalid key|L get staging/api $'a\x1b[31mb'
2|KEY=VALUE|L set staging/api $'no\nequals' -m x
2|key name|L key revoke $'bad\nname' -m x
2|key name|L keygen $'a\nb' --dir "$T/kg"
2|scope|L key add "$T/keys/other.pub" --role deployer --scope $'a\nb' -m x
2|--at|L get staging/api --at $'1\n2'
2|unknown command|L $'frob\nnicate'
2|unknown option|L get staging/api $'--a\nt'
# --- the answer is "no", not bad input
1|no key k|L get staging/api k
1|no values|L get prod/api
1|no values|L get staging/api --at 1
1|no history|L history prod/api
# --- mount, apply, chatops
2|expected one MOUNTPOINT|L mount
2|unknown option|L mount --frob "$T/empty"
2|No such file|L mount "$T/nope"
2|not a directory|L mount "$T/afile"
2|expected one CLUSTER|L apply
2|invalid cluster|L apply Staging
2|invalid cluster|L apply "$C64"
2|no helmfile at|L apply staging --config-dir "$T/empty"
2|--interval goes with --watch|L apply staging --interval 5
2|takes a number of seconds|L apply staging --timeout abc
2|takes a number of seconds|L apply staging --timeout -1
2|unknown option|L apply staging --frob
2|required|L chatops --comment "/deploy api cluster=staging" --sha 3f2a9c1
2|required|L chatops --sha 3f2a9c1 --actor a
2|invalid --sha|L chatops --comment "/deploy api cluster=staging" --sha xyz --actor a
2|not a deploy command|L chatops --comment "deploy api cluster=staging" --sha 3f2a9c1 --actor a
2|invalid release|L chatops --comment "/deploy API cluster=staging" --sha 3f2a9c1 --actor a
2|pull request number|L chatops --comment "/deploy api cluster=staging" --sha 3f2a9c1 --actor a --pr 4x
2|user name|L chatops --comment "/deploy api cluster=staging" --sha 3f2a9c1 --actor $'a\nb'
2|unexpected argument|L chatops extra --comment "/deploy api cluster=staging" --sha 3f2a9c1 --actor a
1|not open to /deploy|L chatops --comment "/deploy api cluster=staging" --sha 3f2a9c1 --actor a --allow-cluster prod
EOF

# one row: run it, check exit code, the one error line, empty stdout and
# the unchanged ledger
table_row() {
	LAST_CMD=$cmd
	eval "$cmd" >"$OUT" 2>"$ERR"
	RC=$?
	[ "$RC" -eq "$want" ] || fail "expected exit code $want, got $RC"
	ok
	if [ -n "$re" ]; then
		expect_one_line_error "$re"
	else
		expect_one_line_error
	fi
	expect_no_out
	assert_unchanged base
}

n=0
snapshot base
while IFS= read -r row; do
	case $row in '#'* | '') continue ;; esac
	want=${row%%|*}
	rest=${row#*|}
	re=${rest%%|*}
	cmd=${rest#*|}
	n=$((n + 1))
	# each row on its own: one failing row does not hide the others
	section "row $n: $cmd" table_row
done <"$T/table"
echo "($n table rows)"

step "refused commands create nothing"
for d in nope new1 new2 new3 new4 kg; do
	check "$T/$d was not created" [ ! -e "$T/$d" ]
done
check "no stray key file" [ ! -e "$T/keys/a+b.key" ]
check "the empty dir stays empty" [ -z "$(ls -A "$T/empty")" ]

# ---------------------------------------------------------------------
step "the limits themselves are accepted"
expect_rc 0 ledger set "$C63/$R53" k=v -m "longest names"
expect_out_match '^3 '
expect_rc 0 ledger set staging/api "$K253=v" -m "longest key"
expect_out_match '^4 '
expect_rc 0 ledger set staging/api "$KSEG253=v" -m "longest dotted key"
expect_out_match '^5 '
expect_rc 0 ledger set staging/api "big=$V4096" -m "$V4096"
expect_out_match '^6 '
expect_rc 0 ledger get staging/api big
check "a 4096-byte value reads back whole" [ "$(out)" = "$V4096" ]
expect_rc 0 ledger set staging/api 'Mixed_Case-key.sub_2=a=b' -m "keys allow A-Z, _ and -"
expect_out_match '^7 '
expect_rc 0 ledger get staging/api Mixed_Case-key.sub_2
expect_out 'a=b'
expect_rc 0 ledger set staging/api "utf8=日本語 ✓ €" -m "UTF-8: ü"
expect_out_match '^8 '
expect_rc 0 ledger get staging/api utf8
expect_out "日本語 ✓ €"
expect_rc 0 ledger set 0/0 k=v -m "one-character names"
expect_out_match '^9 '
expect_rc 0 ledger set a-b/c-d k=v -m "inner dashes"
expect_out_match '^10 '
expect_rc 0 ledger set staging/big "${UNDERCAP[@]}" -m "just under 64 KiB"
expect_out_match '^11 '
expect_rc 0 ledger keygen "$N64" --dir "$T/kg64"
expect_rc 0 ledger init --origin "example.com/ünïcode origin" --ledger "$T/new5"
expect_rc 0 ledger verify
expect_out_match '^ok: 11 entries, head 11 '

# ---------------------------------------------------------------------
# A verifier key given where the private key belongs: the message should
# say so, not ask to chmod the public key (after which it is refused
# anyway, as "not a private key").
pub_as_key() {
	snapshot pub
	expect_rc 2 ledger set staging/api k=v -m x --key "$PUB"
	expect_one_line_error
	grep -q chmod "$ERR" &&
		fail "a .pub file given as --key is answered with \"run chmod 600\""
	expect_one_line_error 'public|not a private key'
	assert_unchanged pub
}
section "public key as --key" pub_as_key

finish
