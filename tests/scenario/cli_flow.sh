#!/bin/bash
# cli_flow.sh - the everyday commands, end to end, with exact outputs:
# keygen, init, set, unset, get, state, log, history, show, diff, lock,
# key add/revoke/list, checkpoint, verify, reindex, --help, --version.
. "$(dirname "$0")/lib.sh"
need mdb_dump sha256sum base64 od

HEX64='[0-9a-f]{64}'

# hex2b64 HEX: the base64 of those bytes
hex2b64() {
	printf "$(printf '%s' "$1" | sed 's/../\\x&/g')" | base64 -w0
}

# seq_hash SEQ: the entry hash as `show --json` reports it
seq_hash() {
	ledger show "$1" --json >"$T/.sh.json" 2>/dev/null
	jget "$T/.sh.json" hash
}

# ---------------------------------------------------------------------
step "version and help"
expect_rc 0 ledger --version
expect_out_match '^ledger [0-9]+\.[0-9]+\.[0-9]+'
check "--version prints one line" [ "$(out_lines)" -eq 1 ]
expect_no_err
expect_rc 0 ledger --help
expect_out_match '^usage: ledger '
for c in init keygen key set unset rollback lock unlock get state log \
	history show diff verify checkpoint reindex serve notify; do
	expect_out_match "^  $c "
done
expect_rc 0 ledger help
expect_out_match '^usage: ledger '
expect_rc 2 ledger
expect_no_out
expect_rc 2 ledger frobnicate
expect_one_line_error 'unknown command "frobnicate"'

for c in init keygen key set unset rollback lock unlock get state log \
	history show diff verify checkpoint reindex serve notify; do
	step "$c --help"
	# no ledger, no key: help must not need either
	expect_rc 0 env LEDGER_DIR=$T/nonexistent "$LEDGER" "$c" --help
	expect_out_match "^usage: ledger $c( |\$)"
	expect_no_err
	cp "$OUT" "$T/help.$c"
	expect_rc 0 ledger help "$c"
	check "ledger help $c is ledger $c --help" cmp -s "$OUT" "$T/help.$c"
	expect_rc 0 ledger "$c" -h
	check "ledger $c -h is ledger $c --help" cmp -s "$OUT" "$T/help.$c"
done

# ---------------------------------------------------------------------
step "keygen"
expect_rc 0 ledger keygen admin
check "keygen prints the verifier key" [ "$(out_lines)" -eq 1 ]
check "keys dir exists" [ -d "$KEYS" ]
check "keys dir is 0700" [ "$(stat -c %a "$KEYS")" = 700 ]
check "admin.key is 0600" [ "$(stat -c %a "$KEYS/admin.key")" = 600 ]
check "admin.pub exists" [ -f "$KEYS/admin.pub" ]
check "stdout is admin.pub" [ "$(out)" = "$(cat "$KEYS/admin.pub")" ]
check "admin.pub is one line" [ "$(wc -l <"$KEYS/admin.pub")" -eq 1 ]
check "admin.key is one line" [ "$(wc -l <"$KEYS/admin.key")" -eq 1 ]
VKEY=$(cat "$KEYS/admin.pub")
grep -Eqx 'admin\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}' "$KEYS/admin.pub" ||
	fail "admin.pub is not NAME+KEYID+BASE64: $VKEY"
ok
grep -Eqx 'PRIVATE\+KEY\+admin\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}' \
	"$KEYS/admin.key" || fail "admin.key is not PRIVATE+KEY+NAME+KEYID+B64"
ok
KEYID=$(cut -d+ -f2 "$KEYS/admin.pub")
check "private and public key ids agree" \
	[ "$(cut -d+ -f4 "$KEYS/admin.key")" = "$KEYID" ]
# base64 decodes to 0x01 || pk32, and KEYID = SHA-256(NAME \n 0x01 pk)[:4]
sed 's/^[^+]*+[^+]*+//' "$KEYS/admin.pub" | base64 -d >"$T/pk.bin" ||
	fail "admin.pub key is not base64"
check "verifier key is 33 bytes" [ "$(wc -c <"$T/pk.bin")" -eq 33 ]
check "verifier key starts with 0x01" \
	[ "$(od -An -tx1 -N1 "$T/pk.bin" | tr -d ' ')" = 01 ]
want_id=$({ printf 'admin\n'; cat "$T/pk.bin"; } | sha256sum | cut -c1-8)
check "KEYID is SHA-256(name || 0x0A || 0x01 || pk)[:4] ($want_id)" \
	[ "$KEYID" = "$want_id" ]
sed 's/^PRIVATE+KEY+[^+]*+[^+]*+//' "$KEYS/admin.key" | base64 -d >"$T/seed.bin"
check "private key is 0x01 || seed32" [ "$(wc -c <"$T/seed.bin")" -eq 33 ]

cp "$KEYS/admin.key" "$T/admin.key.orig"
expect_rc 2 ledger keygen admin
expect_one_line_error
check "keygen never overwrites a key" cmp -s "$KEYS/admin.key" "$T/admin.key.orig"
expect_rc 2 ledger keygen 'bad name'
expect_one_line_error 'name'
check "no key file for a bad name" [ ! -e "$KEYS/bad name.key" ]
expect_rc 2 ledger keygen
expect_one_line_error
expect_rc 0 ledger keygen other --dir "$T/keys"
check "--dir: other.key written there" [ -f "$T/keys/other.key" ]
check "--dir: other.key is 0600" [ "$(stat -c %a "$T/keys/other.key")" = 600 ]
check "--dir: nothing added to the default keys dir" \
	[ "$(ls "$KEYS" | wc -l)" -eq 2 ]
# the private key is 0600 whatever the umask
expect_rc 0 sh -c 'umask 000 && exec "$0" keygen lax --dir "$1"' "$LEDGER" "$T/keys-umask"
check "umask 000: the key is still 0600" [ "$(stat -c %a "$T/keys-umask/lax.key")" = 600 ]

# ---------------------------------------------------------------------
step "init"
expect_rc 2 ledger get staging/api
expect_one_line_error 'ledger init'
expect_rc 2 ledger init
expect_one_line_error 'origin'
check "init without --origin creates nothing" [ ! -e "$LEDGER_DIR/data.mdb" ]
expect_rc 0 ledger init --origin example.com/deploy/test
check "init prints one line" [ "$(out_lines)" -eq 1 ]
expect_out_match "^1 $HEX64\$"
HASH1=$(out_field 1 2)
check "data.mdb created" [ -f "$LEDGER_DIR/data.mdb" ]
snapshot init
expect_rc 2 ledger init --origin example.com/deploy/other
expect_one_line_error 'already'
assert_unchanged init
expect_rc 0 ledger show 1 --json
expect_json seq = 1
expect_json kind = init
expect_json hash = "$HASH1"
expect_json prev = 0000000000000000000000000000000000000000000000000000000000000000
expect_json signer name = admin
expect_json signer keyid = "$KEYID"
expect_json changes 0 key = origin
expect_json changes 0 value = example.com/deploy/test

# ---------------------------------------------------------------------
step "set"
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "PR #1" --meta pr=1
expect_out_match "^2 $HEX64\$"
check "set prints one line" [ "$(out_lines)" -eq 1 ]
HASH2=$(out_field 1 2)
check "printed hash is the entry hash" [ "$(seq_hash 2)" = "$HASH2" ]
expect_rc 0 ledger show 2 --json
expect_json prev = "$HASH1"
expect_json kind = set
expect_json target = staging/api
expect_json reason = "PR #1"
expect_json changes 0 key = image.tag
expect_json changes 0 value = v1
expect_json changes 1 key = replicas
expect_json changes 1 value = 2
expect_json_len changes = 2
expect_json metadata pr = 1
expect_json signer name = admin

snapshot same
expect_rc 0 ledger set staging/api image.tag=v1 -m "again"
expect_no_out
expect_err_match 'nothing written'
assert_unchanged same
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "again"
expect_no_out
assert_unchanged same

# only the key that differs is recorded
expect_rc 0 ledger set staging/api image.tag=v1 replicas=3 -m "scale"
expect_out_match "^3 $HEX64\$"
expect_rc 0 ledger show 3 --json
expect_json_len changes = 1
expect_json changes 0 key = replicas
expect_json changes 0 value = 3
expect_json prev = "$HASH2"

expect_rc 0 ledger set prod/api image.tag=v1 -m "promote"
expect_out_match "^4 $HEX64\$"
expect_rc 0 ledger set staging/web image.tag=w1 -m "web"
expect_out_match "^5 $HEX64\$"
# a value with spaces, '=' and UTF-8 survives unchanged
expect_rc 0 ledger set prod/web 'config.motd=a b=c é ✓' -m "motd"
expect_out_match "^6 $HEX64\$"
expect_rc 0 ledger get prod/web config.motd
expect_out 'a b=c é ✓'

# ---------------------------------------------------------------------
step "unset"
expect_rc 0 ledger unset staging/api replicas -m "drop replicas"
expect_out_match "^7 $HEX64\$"
expect_rc 0 ledger show 7 --json
expect_json kind = unset
expect_json changes 0 key = replicas
expect_json changes 0 unset = true
expect_rc 1 ledger get staging/api replicas
expect_one_line_error 'replicas'
snapshot unset
expect_rc 0 ledger unset staging/api replicas nothing.here -m "again"
expect_no_out
expect_err_match 'nothing written'
assert_unchanged unset
expect_rc 0 ledger unset prod/web config.motd -m "drop motd"
expect_out_match "^8 $HEX64\$"

# ---------------------------------------------------------------------
step "get"
expect_rc 0 ledger get staging/api
expect_out 'image.tag=v1'
expect_no_err
expect_rc 0 ledger get staging/api image.tag
expect_out 'v1'
expect_rc 0 ledger get staging/api --at 3
expect_out 'image.tag=v1
replicas=3'
expect_rc 0 ledger get staging/api replicas --at 2
expect_out '2'
expect_rc 0 ledger get staging/api replicas --at 6
expect_out '3'
expect_rc 1 ledger get staging/api --at 1
expect_one_line_error
expect_rc 1 ledger get staging/api replicas --at 1
expect_one_line_error
expect_rc 1 ledger get nowhere/api
expect_one_line_error 'nowhere/api'
expect_rc 1 ledger get prod/web
expect_one_line_error 'prod/web'
expect_rc 0 ledger get staging/api --json
expect_json target = staging/api
expect_json at = 8
expect_json values image.tag = v1
expect_json_len values = 1
expect_rc 0 ledger get staging/api --at 3 --json
expect_json at = 3
expect_json values replicas = 3
expect_json values image.tag = v1
expect_rc 0 ledger get staging/api image.tag --json
expect_json values image.tag = v1
expect_json_len values = 1
# --ledger before or after the command, with $LEDGER_DIR unset
expect_rc 0 env -u LEDGER_DIR "$LEDGER" --ledger "$LEDGER_DIR" get staging/api image.tag
expect_out v1
expect_rc 0 env -u LEDGER_DIR "$LEDGER" get staging/api image.tag --ledger "$LEDGER_DIR"
expect_out v1
expect_rc 0 env -u LEDGER_DIR "$LEDGER" --ledger="$LEDGER_DIR" get staging/api image.tag
expect_out v1

# ---------------------------------------------------------------------
step "lock and state"
expect_rc 0 ledger lock staging/web -m "freeze for release"
expect_out_match "^9 $HEX64\$"
snapshot lock
expect_rc 0 ledger lock staging/web -m "again"
expect_no_out
expect_err_match 'already locked'
assert_unchanged lock

expect_rc 0 ledger state
expect_out 'prod/api image.tag=v1
staging/api image.tag=v1
staging/web image.tag=w1
staging/web [locked since seq 9: freeze for release]'
expect_rc 0 ledger state staging
expect_out 'staging/api image.tag=v1
staging/web image.tag=w1
staging/web [locked since seq 9: freeze for release]'
expect_rc 0 ledger state staging/api
expect_out 'staging/api image.tag=v1'
expect_rc 0 ledger state prod
expect_out 'prod/api image.tag=v1'
expect_rc 0 ledger state --at 3
expect_out 'staging/api image.tag=v1
staging/api replicas=3'
expect_rc 0 ledger state --at 6
expect_out 'prod/api image.tag=v1
prod/web config.motd=a b=c é ✓
staging/api image.tag=v1
staging/api replicas=3
staging/web image.tag=w1'
expect_rc 0 ledger state staging --at 1
expect_no_out
expect_rc 0 ledger state nowhere
expect_no_out
expect_rc 0 ledger state --json
expect_json at = 9
expect_json_len targets = 3
expect_json targets staging/api values image.tag = v1
expect_json targets staging/api locked = null
expect_json targets staging/web locked seq = 9
expect_json targets staging/web locked reason = "freeze for release"
expect_json targets prod/api values image.tag = v1
expect_rc 0 ledger state staging/api --at 3 --json
expect_json at = 3
expect_json_len targets = 1
expect_json targets staging/api values replicas = 3

expect_rc 0 ledger unlock staging/web -m "release done"
expect_out_match "^10 $HEX64\$"
expect_rc 0 ledger unlock staging/web -m "again"
expect_no_out
expect_err_match 'not locked'
expect_rc 0 ledger state staging/web
expect_out 'staging/web image.tag=w1'

# ---------------------------------------------------------------------
step "log"
expect_rc 0 ledger log
check "log: header and 10 rows" [ "$(out_lines)" -eq 11 ]
check "log header" [ "$(sed -n 1p "$OUT" | tr -s ' ')" = \
	"SEQ UPDATED STATUS TARGET CHANGES AUTHOR DESCRIPTION" ]
check "log is newest first" [ "$(awk 'NR > 1 { printf "%s ", $1 }' "$OUT")" = \
	"10 9 8 7 6 5 4 3 2 1 " ]
expect_out_match '^2 +[0-9T:-]+ +set +staging/api +image\.tag=v1, replicas=2 +admin +PR #1$'
expect_out_match '^7 +[0-9T:-]+ +unset +staging/api +-replicas +admin +drop replicas$'
expect_out_match '^1 +[0-9T:-]+ +init +- +.*admin'
expect_rc 0 ledger log -n 2
check "log -n 2: header and 2 rows" [ "$(out_lines)" -eq 3 ]
check "log -n 2: the newest two" [ "$(awk 'NR > 1 { printf "%s ", $1 }' "$OUT")" = "10 9 " ]
expect_rc 0 ledger log staging/api
check "log staging/api: its seqs" [ "$(awk 'NR > 1 { printf "%s ", $1 }' "$OUT")" = "7 3 2 " ]
expect_rc 0 ledger log staging
check "log staging: the cluster's seqs" [ "$(awk 'NR > 1 { printf "%s ", $1 }' "$OUT")" = \
	"10 9 7 5 3 2 " ]
expect_rc 0 ledger log prod -n 1
check "log prod -n 1" [ "$(awk 'NR > 1 { printf "%s ", $1 }' "$OUT")" = "8 " ]
expect_rc 0 ledger log --json
expect_json_len = 10
expect_json 0 seq = 10
expect_json 9 seq = 1
expect_json 0 kind = unlock
expect_json 3 kind = unset
expect_json 3 target = staging/api
expect_rc 0 ledger log staging/api -n 2 --json
expect_json_len = 2
expect_json 0 seq = 7
expect_json 1 seq = 3
expect_json 1 changes 0 value = 3

# ---------------------------------------------------------------------
step "history"
expect_rc 0 ledger history staging/api
check "history: header and 3 rows" [ "$(out_lines)" -eq 4 ]
check "history header has helm's columns" [ "$(sed -n 1p "$OUT" | tr -s ' ')" = \
	"REVISION UPDATED STATUS CHANGES AUTHOR DESCRIPTION" ]
check "history is oldest first" [ "$(awk 'NR > 1 { printf "%s ", $1 }' "$OUT")" = "2 3 7 " ]
expect_out_match '^2 +20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]+ +set +image\.tag=v1, replicas=2 +admin +PR #1$'
expect_out_match '^3 +[0-9T:-]+ +set +replicas=3 +admin +scale$'
expect_out_match '^7 +[0-9T:-]+ +unset +-replicas +admin +drop replicas$'
expect_rc 0 ledger history staging/web
expect_out_match '^9 +[0-9T:-]+ +lock +- +admin +freeze for release$'
expect_out_match '^10 +[0-9T:-]+ +unlock +- +admin +release done$'
expect_rc 0 ledger history staging/api --json
expect_json_len = 3
expect_json 0 seq = 2
expect_json 2 seq = 7
expect_json 2 kind = unset
expect_rc 1 ledger history nowhere/api
expect_one_line_error 'nowhere/api'

# ---------------------------------------------------------------------
step "show"
expect_rc 0 ledger show 2
expect_out_match '^seq: +2$'
expect_out_match "^hash: +$HASH2\$"
expect_out_match "^prev: +$HASH1\$"
expect_out_match '^time: +20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z$'
expect_out_match "^signer: +admin \\($KEYID\\)\$"
expect_out_match '^kind: +set$'
expect_out_match '^target: +staging/api$'
expect_out_match '^reason: +PR #1$'
expect_out_match '^  image\.tag = v1$'
expect_out_match '^  replicas = 2$'
expect_out_match '^  pr = 1$'
expect_out_match '^signature: +[0-9a-f]{128}$'
expect_rc 0 ledger show 7
expect_out_match '^  replicas \(unset\)$'
expect_rc 0 ledger show 2 --json
expect_json seq = 2
expect_json hash = "$HASH2"
check "time_ns is a nanosecond timestamp" \
	[ "$(jget "$OUT" time_ns | wc -c)" -ge 19 ]
check "signature is 64 bytes of hex" \
	[ "$(jget "$OUT" signature | grep -Ec '^[0-9a-f]{128}$')" -eq 1 ]
expect_rc 2 ledger show 0
expect_one_line_error
expect_rc 2 ledger show 11
expect_one_line_error '11'

# ---------------------------------------------------------------------
step "diff"
expect_rc 0 ledger diff 2 8
expect_out 'prod/api image.tag: (unset) -> v1
staging/api replicas: 2 -> (unset)
staging/web image.tag: (unset) -> w1'
expect_rc 0 ledger diff 8 2
expect_out 'prod/api image.tag: v1 -> (unset)
staging/api replicas: (unset) -> 2
staging/web image.tag: w1 -> (unset)'
expect_rc 0 ledger diff 2 8 staging/api
expect_out 'staging/api replicas: 2 -> (unset)'
expect_rc 0 ledger diff 2 8 staging
expect_out 'staging/api replicas: 2 -> (unset)
staging/web image.tag: (unset) -> w1'
expect_rc 0 ledger diff 8 9
expect_out 'staging/web [lock]: (unset) -> locked'
expect_rc 0 ledger diff 3 3
expect_no_out
expect_rc 0 ledger diff 2 3 --json
expect_json_len = 1
expect_json 0 target = staging/api
expect_json 0 key = replicas
expect_json 0 from = 2
expect_json 0 to = 3
expect_rc 0 ledger diff 3 7 staging/api --json
expect_json_len = 1
expect_json 0 from = 3
expect_json 0 to = null
expect_rc 2 ledger diff 1 99
expect_one_line_error

# ---------------------------------------------------------------------
step "key add, revoke, list"
new_key deployer
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope 'staging/*' --scope '*/web' -m "add deployer"
expect_out_match "^11 $HEX64\$"
expect_err_match 'added key "deployer"'
new_key applier
expect_rc 0 ledger key add "$T/keys/applier.pub" --role applier \
	--scope '*' -m "add applier"
expect_out_match "^12 $HEX64\$"
expect_rc 0 ledger key list
check "key list: header and 3 keys" [ "$(out_lines)" -eq 4 ]
check "key list header" [ "$(sed -n 1p "$OUT" | tr -s ' ')" = \
	"NAME KEYID ROLE ADDED REVOKED SCOPES" ]
expect_out_match "^admin +$KEYID +admin +1 +- +\\*\$"
expect_out_match '^deployer +[0-9a-f]{8} +deployer +11 +- +staging/\* \*/web$'
expect_out_match '^applier +[0-9a-f]{8} +applier +12 +- +\*$'
expect_rc 0 ledger key revoke applier -m "not needed"
expect_out_match "^13 $HEX64\$"
expect_rc 0 ledger key list --json
expect_json_len = 3
# sorted by name
expect_json 0 name = admin
expect_json 0 keyid = "$KEYID"
expect_json 0 vkey = "$VKEY"
expect_json 0 role = admin
expect_json 0 added_seq = 1
expect_json 0 revoked_seq = null
expect_json 1 name = applier
expect_json 1 revoked_seq = 13
expect_json 2 name = deployer
expect_json 2 role = deployer
expect_json 2 scopes = 'staging/* */web'
expect_json 2 vkey = "$(cat "$T/keys/deployer.pub")"
expect_json 2 added_seq = 11
snapshot keys
expect_rc 2 ledger key revoke applier -m "twice"
expect_one_line_error 'already revoked'
expect_rc 2 ledger key add "$T/keys/deployer.pub" --role deployer --scope '*' -m "twice"
expect_one_line_error 'already'
assert_unchanged keys
expect_rc 0 ledger show 11 --json
expect_json kind = key-add
expect_rc 0 ledger show 13 --json
expect_json kind = key-revoke

# ---------------------------------------------------------------------
step "checkpoint and verify"
expect_rc 0 ledger verify
HASH13=$(seq_hash 13)
expect_out "ok: 13 entries, head 13 $HASH13"
# no progress when stderr is not a terminal
expect_no_err
expect_rc 0 ledger verify --threads 2
expect_out "ok: 13 entries, head 13 $HASH13"
expect_rc 0 ledger verify --json
expect_json ok = true
expect_json entries = 13
expect_json head = 13
expect_json hash = "$HASH13"
expect_json origin = example.com/deploy/test
ROOT13=$(jget "$OUT" root)
check "root is 32 bytes of hex" [ "$(printf %s "$ROOT13" | grep -Ec "^$HEX64\$")" -eq 1 ]

expect_rc 0 ledger checkpoint -o "$T/cp13"
expect_no_out
check "checkpoint file has 5 lines" [ "$(wc -l <"$T/cp13")" -eq 5 ]
check "checkpoint: origin line" [ "$(sed -n 1p "$T/cp13")" = example.com/deploy/test ]
check "checkpoint: tree size" [ "$(sed -n 2p "$T/cp13")" = 13 ]
check "checkpoint: base64 root" [ "$(sed -n 3p "$T/cp13")" = "$(hex2b64 "$ROOT13")" ]
check "checkpoint: blank line" [ -z "$(sed -n 4p "$T/cp13")" ]
check "checkpoint: signature line" \
	[ "$(sed -n 5p "$T/cp13" | grep -Ec '^— admin [A-Za-z0-9+/]+=*$')" -eq 1 ]
# the signature line's key hash is the key id: base64(keyid4 || sig64)
sed -n 5p "$T/cp13" | cut -d' ' -f3 | base64 -d >"$T/cpsig.bin"
check "checkpoint signature is keyid4 || sig64" [ "$(wc -c <"$T/cpsig.bin")" -eq 68 ]
check "checkpoint signature starts with the key id" \
	[ "$(od -An -tx1 -N4 "$T/cpsig.bin" | tr -d ' ')" = "$KEYID" ]
expect_rc 0 ledger checkpoint
check "checkpoint to stdout is the same note" cmp -s "$OUT" "$T/cp13"
expect_rc 0 ledger verify --checkpoint "$T/cp13"
expect_out "ok: 13 entries, head 13 $HASH13
ok: contains checkpoint $T/cp13 (13 entries)"

expect_rc 0 ledger set prod/api image.tag=v2 -m "after the checkpoint"
expect_out_match "^14 $HEX64\$"
expect_rc 0 ledger checkpoint -o "$T/cp14"
expect_rc 0 ledger verify --checkpoint "$T/cp13" --checkpoint "$T/cp14" --threads 2
expect_out "ok: 14 entries, head 14 $(seq_hash 14)
ok: contains checkpoint $T/cp13 (13 entries)
ok: contains checkpoint $T/cp14 (14 entries)"
# a deployer key is a key of this ledger too, and may sign a checkpoint
expect_rc 0 ledger checkpoint --key "$T/keys/deployer.key" -o "$T/cp14d"
expect_rc 0 ledger verify --checkpoint "$T/cp14d"
# a revoked key may not
expect_rc 1 ledger checkpoint --key "$T/keys/applier.key"
expect_one_line_error 'applier'
expect_rc 2 ledger verify --checkpoint "$T/does-not-exist"
expect_one_line_error 'does-not-exist'

# ---------------------------------------------------------------------
step "reindex"
entries_dump "$T/entries.before"
dump_all "$T/all.before"
expect_rc 0 ledger reindex
expect_out 'reindexed 14 entries'
entries_dump "$T/entries.after"
check "reindex leaves entries as they were" cmp -s "$T/entries.before" "$T/entries.after"
# a consistent ledger's indexes are rebuilt identically
dump_all "$T/all.after"
check "reindex rebuilds identical indexes" cmp -s "$T/all.before" "$T/all.after"
expect_rc 0 ledger verify
expect_out "ok: 14 entries, head 14 $(seq_hash 14)"
expect_rc 2 ledger reindex extra
expect_one_line_error

# ---------------------------------------------------------------------
# `key add VKEY`: the verifier key given as text instead of a file. Its
# base64 may contain '/', so whether the text looks like a path must not
# decide: try keys until there is one with and one without a '/'.
vkey_text() {
	local with=0 without=0 i=0 vk
	export LEDGER_DIR=$T/ledger-vkey
	run ledger init --origin example.com/vkey --key "$KEYS/admin.key"
	[ "$RC" -eq 0 ] || fail "init failed"
	while [ $((with + without)) -lt 2 ] && [ $i -lt 200 ]; do
		i=$((i + 1))
		new_key "v$i" "$T/vkeys"
		vk=$(cat "$T/vkeys/v$i.pub")
		case $vk in
		*/*) [ $with -eq 0 ] || continue; with=1 ;;
		*) [ $without -eq 0 ] || continue; without=1 ;;
		esac
		step "key add VKEY as text: $vk"
		expect_rc 0 ledger key add "$vk" --role deployer --scope '*' -m "as text"
		expect_out_match "^[23] $HEX64\$"
		expect_rc 0 ledger key list --json
		expect_json_len = "$((with + without + 1))"
	done
	check "found keys with and without '/'" [ $((with + without)) -eq 2 ]
	# the text is parsed, not taken as a path, also from another directory
	cd "$T/vkeys" || fail "cd"
	expect_rc 2 ledger key add "not+a+key" --role deployer --scope '*' -m "bad"
	expect_one_line_error
}
section "key add VKEY text" vkey_text

# ---------------------------------------------------------------------
step "ledger directory resolution"
# $XDG_DATA_HOME/ledger when neither --ledger nor $LEDGER_DIR is given
expect_rc 0 env -u LEDGER_DIR "$LEDGER" init --origin example.com/xdg
check "init used \$XDG_DATA_HOME/ledger" [ -f "$XDG_DATA_HOME/ledger/data.mdb" ]
expect_rc 0 env -u LEDGER_DIR "$LEDGER" verify
expect_out_match '^ok: 1 entries, head 1 '
expect_rc 0 env -u LEDGER_DIR -u XDG_DATA_HOME "$LEDGER" init --origin example.com/home
check "init used ~/.local/share/ledger" [ -f "$HOME/.local/share/ledger/data.mdb" ]

# A reader maps 1 TiB so that it never follows the map's growth; where
# the address space is capped (ulimit -v, valgrind's 32 GiB) it falls
# back to 16 GiB. Not under ASan, whose shadow memory needs far more,
# nor under valgrind (tests/valgrind.sh).
if [ -z "${ASAN_OPTIONS:-}" ] && [ -z "${SCN_VALGRIND:-}" ]; then
	step "readers in a capped address space (ulimit -v 24 GiB)"
	run bash -c 'ulimit -v 25165824 && "$0" verify' "$LEDGER"
	check "verify ran (exit $RC: $(cat "$ERR"))" [ "$RC" -eq 0 ]
	expect_out_match '^ok: [0-9]+ entries, head '
	run bash -c 'ulimit -v 25165824 && "$0" log' "$LEDGER"
	check "log ran (exit $RC: $(cat "$ERR"))" [ "$RC" -eq 0 ]
fi

finish
