#!/bin/bash
# auth.sh - who may write what: unknown, out-of-scope, wrong-role and
# revoked signers are refused before anything is written (exit 1, the
# ledger unchanged); only admins manage keys; the last admin stays; key
# files readable by others are refused; which key signs (--key, then
# $LEDGER_KEY, then the only key in $XDG_CONFIG_HOME/ledger/keys).
. "$(dirname "$0")/lib.sh"
need mdb_dump

HEX64='[0-9a-f]{64}'
K=$T/keys

# signer_of SEQ: the name of the key that signed entry SEQ
signer_of() {
	"$LEDGER" show "$1" --json >"$T/.signer.json" 2>/dev/null
	jget "$T/.signer.json" signer name
}

# refused EXIT ERE CMD...: CMD exits EXIT with one error line matching
# ERE, and the ledger is unchanged.
refused() {
	local code=$1 re=$2
	shift 2
	snapshot refused
	expect_rc "$code" "$@"
	expect_one_line_error "$re"
	assert_unchanged refused
}

init_ledger example.com/deploy/auth
for n in dep dep2 app rev stranger admin2 stage_admin; do
	new_key "$n"
done

# ---------------------------------------------------------------------
step "keys are added by the admin"
expect_rc 0 ledger key add "$K/dep.pub" --role deployer --scope 'staging/*' -m "dep"
expect_out_match "^2 $HEX64\$"
expect_rc 0 ledger key add "$K/dep2.pub" --role deployer --scope '*/api' -m "dep2"
expect_out_match "^3 $HEX64\$"
expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "app"
expect_out_match "^4 $HEX64\$"
expect_rc 0 ledger key add "$K/rev.pub" --role deployer --scope '*' -m "rev"
expect_out_match "^5 $HEX64\$"
expect_rc 0 ledger key add "$K/stage_admin.pub" --role admin --scope 'staging/*' -m "limited admin"
expect_out_match "^6 $HEX64\$"

# ---------------------------------------------------------------------
step "a key that was never added"
refused 1 'keyring' ledger set staging/api image.tag=x -m "who am I" --key "$K/stranger.key"
refused 1 'keyring' ledger lock staging/api -m "who am I" --key "$K/stranger.key"
refused 1 '' ledger key add "$K/stranger.pub" --role admin --scope '*' -m "me" --key "$K/stranger.key"
refused 1 '' ledger checkpoint --key "$K/stranger.key"

# ---------------------------------------------------------------------
step "deployer scope staging/*"
expect_rc 0 ledger set staging/api image.tag=d1 -m "dep deploys" --key "$K/dep.key"
expect_out_match "^7 $HEX64\$"
check "entry 7 signed by dep" [ "$(signer_of 7)" = dep ]
expect_rc 0 ledger set staging/web image.tag=w1 -m "dep deploys web" --key "$K/dep.key"
expect_out_match "^8 $HEX64\$"
refused 1 'dep.*prod/api' ledger set prod/api image.tag=d1 -m "dep to prod" --key "$K/dep.key"
refused 1 'scope' ledger set staging-eu/api image.tag=d1 -m "look-alike cluster" --key "$K/dep.key"
refused 1 'scope' ledger lock prod/api -m "dep locks prod" --key "$K/dep.key"
expect_rc 0 ledger set prod/api image.tag=p1 -m "admin deploys prod"
expect_out_match "^9 $HEX64\$"
refused 1 'scope' ledger unset prod/api image.tag -m "dep to prod" --key "$K/dep.key"
refused 1 'scope' ledger rollback prod/api --to 1 -m "dep rolls back prod" --key "$K/dep.key"
refused 1 'scope' ledger rollback prod --to 1 -m "dep rolls back prod" --key "$K/dep.key"
expect_rc 0 ledger lock staging/web -m "dep locks" --key "$K/dep.key"
expect_out_match "^10 $HEX64\$"
expect_rc 0 ledger unlock staging/web -m "dep unlocks" --key "$K/dep.key"
expect_out_match "^11 $HEX64\$"
expect_rc 0 ledger rollback staging --to 7 --no-lock -m "dep rolls back staging" --key "$K/dep.key"
expect_out_match "^12 $HEX64\$"
check "rollback signed by dep" [ "$(signer_of 12)" = dep ]

step "deployer scope */api"
expect_rc 0 ledger set prod/api image.tag=p2 -m "dep2 deploys" --key "$K/dep2.key"
expect_out_match "^13 $HEX64\$"
refused 1 'scope' ledger set prod/web image.tag=p2 -m "dep2 web" --key "$K/dep2.key"
refused 1 'scope' ledger set prod/api-v2 image.tag=p2 -m "dep2 look-alike" --key "$K/dep2.key"

step "a locked target answers no before scope is news"
expect_rc 0 ledger lock prod/api -m "prod freeze"
expect_out_match "^14 $HEX64\$"
# dep may not touch prod/api at all: "not allowed", not "locked"
refused 1 'scope' ledger set prod/api image.tag=x -m "dep" --key "$K/dep.key"
refused 1 'prod freeze' ledger set prod/api image.tag=x -m "dep2" --key "$K/dep2.key"
expect_rc 0 ledger unlock prod/api -m "thaw"
expect_out_match "^15 $HEX64\$"

# ---------------------------------------------------------------------
step "the applier role may not set"
refused 1 'applier' ledger set staging/api image.tag=a -m "app sets" --key "$K/app.key"
refused 1 'applier' ledger unset staging/api image.tag -m "app unsets" --key "$K/app.key"
refused 1 'applier' ledger lock staging/api -m "app locks" --key "$K/app.key"
refused 1 'applier' ledger rollback staging/api --to 1 -m "app rolls back" --key "$K/app.key"
refused 1 '' ledger key add "$K/stranger.pub" --role deployer --scope '*' -m "app adds" --key "$K/app.key"

# ---------------------------------------------------------------------
step "only an admin with scope * manages keys"
refused 1 'manage keys' ledger key add "$K/stranger.pub" --role deployer --scope '*' -m "dep adds" --key "$K/dep.key"
refused 1 'manage keys' ledger key revoke app -m "dep revokes" --key "$K/dep.key"
refused 1 'manage keys' ledger key add "$K/stranger.pub" --role deployer --scope 'staging/*' -m "limited admin adds" --key "$K/stage_admin.key"
refused 1 'manage keys' ledger key revoke dep -m "limited admin revokes" --key "$K/stage_admin.key"
# but a limited admin still deploys in its scope, and only there
expect_rc 0 ledger set staging/api image.tag=sa -m "limited admin deploys" --key "$K/stage_admin.key"
expect_out_match "^16 $HEX64\$"
refused 1 'scope' ledger set prod/api image.tag=sa -m "limited admin to prod" --key "$K/stage_admin.key"

# ---------------------------------------------------------------------
step "a revoked key is refused from then on"
expect_rc 0 ledger set staging/api image.tag=r1 -m "rev before" --key "$K/rev.key"
expect_out_match "^17 $HEX64\$"
expect_rc 0 ledger key revoke rev -m "laptop lost"
expect_out_match "^18 $HEX64\$"
refused 1 'revoked' ledger set staging/api image.tag=r2 -m "rev after" --key "$K/rev.key"
refused 1 'revoked' ledger lock staging/api -m "rev after" --key "$K/rev.key"
refused 1 '' ledger checkpoint --key "$K/rev.key"
# key names are never reused, not even after a revoke
refused 2 'already' ledger key add "$K/rev.pub" --role deployer --scope '*' -m "rev again"
new_key rev "$T/keys-new"
refused 2 'rev' ledger key add "$T/keys-new/rev.pub" --role deployer --scope '*' -m "a new rev"
# what rev signed before the revoke stays valid
expect_rc 0 ledger verify
expect_out_match '^ok: 18 entries, head 18 '
expect_rc 0 ledger get staging/api image.tag --at 17
expect_out r1

# ---------------------------------------------------------------------
step "the last admin cannot be revoked"
refused 1 'last admin' ledger key revoke admin -m "remove the only admin"
expect_rc 0 ledger key add "$K/admin2.pub" --role admin --scope '*' -m "second admin"
expect_out_match "^19 $HEX64\$"
expect_rc 0 ledger key revoke admin -m "admin2 takes over" --key "$K/admin2.key"
expect_out_match "^20 $HEX64\$"
check "revoke signed by admin2" [ "$(signer_of 20)" = admin2 ]
refused 1 'last admin' ledger key revoke admin2 -m "the last one" --key "$K/admin2.key"
refused 1 'revoked' ledger set staging/api image.tag=x -m "old admin"
refused 1 'revoked' ledger key add "$K/stranger.pub" --role admin --scope '*' -m "old admin"
expect_rc 0 ledger key list --json
expect_json_len = 7
expect_json 0 name = admin
expect_json 0 revoked_seq = 20
expect_json 1 name = admin2
expect_json 1 revoked_seq = null

# ---------------------------------------------------------------------
step "private key files readable by others are refused"
cp "$K/admin2.key" "$T/loose.key"
for mode in 644 640 604 660 600; do
	chmod "$mode" "$T/loose.key"
	if [ "$mode" = 600 ]; then
		expect_rc 0 ledger set staging/web image.tag=m$mode -m "mode $mode" --key "$T/loose.key"
		expect_out_match "^21 $HEX64\$"
	else
		refused 2 'chmod' ledger set staging/web image.tag=m$mode -m "mode $mode" --key "$T/loose.key"
		refused 2 'chmod' ledger checkpoint --key "$T/loose.key"
	fi
done
chmod 400 "$T/loose.key"
expect_rc 0 ledger set staging/web image.tag=m400 -m "mode 400" --key "$T/loose.key"
expect_out_match "^22 $HEX64\$"
chmod 644 "$T/loose.key"
refused 2 'chmod' env LEDGER_KEY="$T/loose.key" "$LEDGER" set staging/web image.tag=x -m "env"
refused 2 'chmod' ledger init --origin example.com/other --key "$T/loose.key" --ledger "$T/other"
check "no ledger created with a loose key" [ ! -e "$T/other/data.mdb" ]

# ---------------------------------------------------------------------
step "key selection: --key, then \$LEDGER_KEY, then the only key"
# $XDG_CONFIG_HOME/ledger/keys holds admin.key only (and admin.pub)
expect_rc 0 env LEDGER_KEY="$K/admin2.key" "$LEDGER" set staging/web image.tag=e1 -m "from env"
expect_out_match "^23 $HEX64\$"
check "LEDGER_KEY used" [ "$(signer_of 23)" = admin2 ]
expect_rc 0 env LEDGER_KEY="$K/dep.key" "$LEDGER" set staging/web image.tag=e2 -m "from --key" --key "$K/admin2.key"
expect_out_match "^24 $HEX64\$"
check "--key wins over LEDGER_KEY" [ "$(signer_of 24)" = admin2 ]
expect_rc 0 env LEDGER_KEY="$K/dep.key" "$LEDGER" set staging/web image.tag=e3 -m "env again"
expect_out_match "^25 $HEX64\$"
check "LEDGER_KEY=dep.key signs as dep" [ "$(signer_of 25)" = dep ]
# the only key in the keys dir: now admin2's
rm "$KEYS/admin.key"
cp "$K/admin2.key" "$KEYS/admin2.key"
expect_rc 0 ledger set staging/web image.tag=d1 -m "the only key"
expect_out_match "^26 $HEX64\$"
check "the only key in the keys dir signs" [ "$(signer_of 26)" = admin2 ]
expect_rc 0 env LEDGER_KEY= "$LEDGER" set staging/web image.tag=d2 -m "empty LEDGER_KEY"
expect_out_match "^27 $HEX64\$"
check "an empty LEDGER_KEY falls back to the keys dir" [ "$(signer_of 27)" = admin2 ]
# two keys there and nothing else to choose: a clear error
cp "$K/dep.key" "$KEYS/dep.key"
refused 2 'several keys' ledger set staging/web image.tag=d3 -m "which key?"
refused 2 'several keys' ledger checkpoint
expect_rc 0 ledger set staging/web image.tag=d3 -m "chosen" --key "$KEYS/dep.key"
expect_out_match "^28 $HEX64\$"
check "--key picks one of several" [ "$(signer_of 28)" = dep ]
# no key at all
rm "$KEYS"/*.key
refused 2 'keygen' ledger set staging/web image.tag=d4 -m "no key"
rm -rf "$KEYS"
refused 2 'key' ledger set staging/web image.tag=d4 -m "no keys dir"
refused 2 'nope.key' env LEDGER_KEY="$T/nope.key" "$LEDGER" set staging/web image.tag=d4 -m "missing"
refused 2 'nope.key' ledger set staging/web image.tag=d4 -m "missing" --key "$T/nope.key"

expect_rc 0 ledger verify --threads 2
expect_out_match '^ok: 28 entries, head 28 '

# ---------------------------------------------------------------------
# An unauthorised signer is refused even when its change would be a
# no-op: "nothing to do, exit 0" tells a pipeline with the wrong key that
# all is well, and it would be refused the moment the value differs.
noop_unauthorised() {
	local boss=$T/noop-keys/boss.key bad=""
	export LEDGER_DIR=$T/noop
	mkdir -p "$T/noop-keys"
	new_key boss "$T/noop-keys"
	expect_rc 0 ledger init --origin example.com/noop --key "$boss"
	expect_rc 0 ledger key add "$K/dep.pub" --role deployer --scope 'staging/*' -m "dep" --key "$boss"
	expect_rc 0 ledger key add "$K/app.pub" --role applier --scope '*' -m "app" --key "$boss"
	expect_rc 0 ledger set prod/api image.tag=v1 -m "prod" --key "$boss"
	expect_out_match "^4 $HEX64\$"
	expect_rc 0 ledger lock prod/web -m "frozen" --key "$boss"
	expect_out_match "^5 $HEX64\$"
	step "unauthorised no-ops"
	snapshot noop
	while IFS='|' read -r want key args; do
		eval "set -- $args"
		run ledger "$@" --key "$K/$key"
		if [ "$RC" -ne 1 ] || ! grep -Eq "$want" "$ERR"; then
			bad="$bad
    ledger $args --key $key: exit $RC, expected 1 /$want/: $(head -n1 "$ERR")"
		fi
	done <<'EOF'
keyring|stranger.key|set prod/api image.tag=v1 -m "same value, never added"
scope|dep.key|set prod/api image.tag=v1 -m "same value, out of scope"
scope|dep.key|unset prod/api nothing.here -m "no-op unset, out of scope"
applier|app.key|set prod/api image.tag=v1 -m "same value, applier"
scope|dep.key|rollback prod/api --to 4 -m "nothing to restore, out of scope"
scope|dep.key|lock prod/web -m "already locked, out of scope"
scope|dep.key|unlock prod/api -m "not locked, out of scope"
EOF
	assert_unchanged noop
	[ -z "$bad" ] || fail "an unauthorised signer was told \"nothing to do\" (exit 0) instead of being refused:$bad"
	ok
}
section "unauthorised no-op" noop_unauthorised

# ---------------------------------------------------------------------
# "An admin with scope '*'" means the scope '*' itself, among others or
# alone; a glob that happens to match the text "*" ('?', '[*]') is not it.
admin_star() {
	local boss=$T/star-keys/boss.key
	export LEDGER_DIR=$T/star
	mkdir -p "$T/star-keys"
	for n in boss multi q br lim; do
		new_key "$n" "$T/star-keys"
	done
	expect_rc 0 ledger init --origin example.com/star --key "$boss"
	expect_rc 0 ledger key add "$T/star-keys/multi.pub" --role admin --scope 'staging/*' --scope '*' -m "multi" --key "$boss"
	expect_out_match "^2 $HEX64\$"
	expect_rc 0 ledger key add "$T/star-keys/q.pub" --role admin --scope '?' -m "q" --key "$boss"
	expect_out_match "^3 $HEX64\$"
	expect_rc 0 ledger key add "$T/star-keys/br.pub" --role admin --scope '[*]' -m "br" --key "$boss"
	expect_out_match "^4 $HEX64\$"
	step "scope '?' and '[*]' are not '*'"
	refused 1 'manage keys' ledger key add "$T/star-keys/lim.pub" --role admin --scope '*' -m "q adds" --key "$T/star-keys/q.key"
	refused 1 'manage keys' ledger key add "$T/star-keys/lim.pub" --role admin --scope '*' -m "br adds" --key "$T/star-keys/br.key"
	refused 1 'manage keys' ledger key revoke boss -m "q revokes" --key "$T/star-keys/q.key"
	step "'*' among other scopes is '*'"
	expect_rc 0 ledger key add "$T/star-keys/lim.pub" --role deployer --scope 'x/*' -m "multi adds" --key "$T/star-keys/multi.key"
	expect_out_match "^5 $HEX64\$"
	# with multi ('staging/* *') still there, boss is not the last admin
	expect_rc 0 ledger key revoke boss -m "multi remains" --key "$T/star-keys/multi.key"
	expect_out_match "^6 $HEX64\$"
	# q and br are admins, but not with scope '*': multi is the last one
	refused 1 'last admin' ledger key revoke multi -m "last" --key "$T/star-keys/multi.key"
	expect_rc 0 ledger verify
	expect_out_match '^ok: 6 entries, head 6 '
}
section "admin scope '*'" admin_star

finish
