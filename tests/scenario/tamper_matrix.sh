#!/bin/bash
# tamper_matrix.sh - the tamper matrix of issue 5, through the real binary
# and raw LMDB edits (tests/tools/ldg_tamper), never the library:
#
#  - every byte position of sample entries (init, key-add, set, rollback,
#    lock, key-revoke, the head) flipped one at a time: `ledger verify`
#    exits 1 and names that seq, for every single position (counts are
#    printed: positions tried, positions detected, and by which check);
#  - a deleted, swapped or duplicated entry; an entry spliced in from a
#    ledger with another origin; a fork; a truncated tail (caught by
#    `verify --checkpoint`);
#  - non-canonical but decodable re-encodings of a valid entry (they
#    cannot be re-signed, so the strict decoder is what must refuse them);
#  - validly signed entries the library would never write - by a revoked
#    key, an out-of-scope key, a key never added, a deployer adding a key,
#    a set on a locked target, a rollback to a value nobody signed - made
#    in a copy of the ledger whose keyring/lock/versions indexes were
#    edited, then copied into the real one;
#  - corrupted index databases: verify names the index, `ledger reindex`
#    repairs it, and the entries database is untouched;
#  - no private key's seed anywhere in the databases or in `show`.
#
# SCN_MATRIX_SEQS picks the entries of the every-byte part (default: all
# seven samples; each byte costs two ldg_tamper runs and one verify), and
# SCN_MATRIX_STRIDE flips every Nth byte of them (default 1: every byte;
# the sanitizer tree takes every 4th, starting at a different offset
# each entry, to keep .ci/run within its time).
. "$(dirname "$0")/lib.sh"
need mdb_dump od base64
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"
[ -n "${FORGE:-}" ] && [ -x "$FORGE" ] || skip "FORGE (ldg_forge) not built"

# Which entries get the every-byte treatment (seqs of ledger A below).
MATRIX_SEQS=${SCN_MATRIX_SEQS:-"1 2 4 5 6 10 12"}
MATRIX_STRIDE=${SCN_MATRIX_STRIDE:-1}

tamper() {
	"$TAMPER" "$@" || fail "ldg_tamper $* failed"
}

hexof() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# copy_of SRC DST: a copy of a ledger directory (the LMDB files)
copy_of() {
	rm -rf "$2"
	cp -a "$1" "$2" || fail "cp -a $1 $2"
}

# fresh: W, a fresh copy of ledger A, is the ledger under test
fresh() {
	copy_of "$A" "$W"
	export LEDGER_DIR=$W
}

# verify_fails SEQ ERE [VERIFY ARGS]: verify exits 1 naming entry SEQ
# with a problem matching ERE (text and JSON), and changes nothing.
verify_fails() {
	local seq=$1 re=$2
	shift 2
	snapshot vf
	expect_rc 1 ledger verify --threads 1 "$@"
	expect_one_line_error "^ledger: verify: entry $seq: .*($re)"
	expect_no_out
	expect_rc 1 ledger verify --json "$@"
	expect_json ok = false
	expect_json bad_seq = "$seq"
	jget "$OUT" problem | grep -Eq "$re" ||
		fail "JSON problem does not match /$re/"
	ok
	assert_unchanged vf
}

verify_ok() { # verify_ok N [ARGS]: verify passes with N entries
	local n=$1
	shift
	expect_rc 0 ledger verify "$@"
	expect_out_match "^ok: $n entries, head $n [0-9a-f]{64}\$"
}

# ---------------------------------------------------------------------
step "ledger A, and F: a fork of it at seq 8"
run ledger keygen admin
[ "$RC" -eq 0 ] || fail "keygen admin failed"
ADMIN=$KEYS/admin.key
for k in dep old ghost; do
	new_key "$k"
done
DEP=$T/keys/dep.key
OLD=$T/keys/old.key
GHOST=$T/keys/ghost.key
A=$T/a
W=$T/w
export LEDGER_DIR=$A
expect_rc 0 ledger init --origin example.com/deploy/matrix --key "$ADMIN"
expect_rc 0 ledger key add "$T/keys/dep.pub" --role deployer \
	--scope 'staging/*' -m "deployer for staging" --key "$ADMIN"
expect_out_match '^2 '
expect_rc 0 ledger set staging/api image.tag=1.2.3 replicas=2 \
	-m "deploy 1.2.3" --meta ci.run=1234 --key "$ADMIN"
expect_out_match '^3 '
expect_rc 0 ledger set staging/api image.tag=1.2.4 replicas=3 \
	-m "deploy 1.2.4" --meta pr=42 --key "$DEP"
expect_out_match '^4 '
expect_rc 0 ledger rollback staging/api --to 3 -m "1.2.4 breaks checkout" \
	--key "$ADMIN"
expect_out_match '^5 '
expect_out_match '^6 '
expect_rc 0 ledger unlock staging/api -m "fixed forward" --key "$ADMIN"
expect_out_match '^7 '
expect_rc 0 ledger key add "$T/keys/old.pub" --role deployer --scope '*' \
	-m "a deployer for everything" --key "$ADMIN"
expect_out_match '^8 '
expect_rc 0 ledger checkpoint --key "$ADMIN" -o "$T/cp8"
F=$T/f
copy_of "$A" "$F"
expect_rc 0 ledger set prod/api image.tag=p1 -m "prod p1" --key "$OLD"
expect_out_match '^9 '
expect_rc 0 ledger key revoke old -m "old laptop lost" --key "$ADMIN"
expect_out_match '^10 '
expect_rc 0 ledger set prod/web image.tag=w1 -m "prod web" --key "$ADMIN"
expect_out_match '^11 '
expect_rc 0 ledger lock prod/web -m "freeze for the audit" --key "$ADMIN"
expect_out_match '^12 '
expect_rc 0 ledger checkpoint --key "$ADMIN" -o "$T/cp12"
verify_ok 12 --checkpoint "$T/cp8" --checkpoint "$T/cp12"
HEAD=12
for s in $(seq 1 $HEAD); do
	run ledger show "$s" --json
	eval "KIND_$s=\$(jget \"\$OUT\" kind)"
done
check "the samples have the kinds they should" \
	[ "$KIND_1 $KIND_2 $KIND_4 $KIND_5 $KIND_6 $KIND_10 $KIND_12" = \
	"init key-add set rollback lock key-revoke lock" ]
dump_all "$T/a.dump" "$A"
entries_dump "$T/a.entries" "$A"

step "fork F: same origin, keys and first 8 entries, then its own"
export LEDGER_DIR=$F
expect_rc 0 ledger set prod/api image.tag=forked -m "forked 9" --key "$ADMIN"
expect_out_match '^9 '
for s in 10 11 12 13; do
	expect_rc 0 ledger set prod/api "image.tag=f$s" -m "forked $s" --key "$ADMIN"
	expect_out_match "^$s "
done
run ledger checkpoint --key "$ADMIN" -o "$T/cpF13"
[ "$RC" -eq 0 ] || fail "checkpoint of F"
export LEDGER_DIR=$A

# ---------------------------------------------------------------------
# 1. Every byte of the sample entries, one at a time.

MATRIX_TRIED=0
MATRIX_DETECTED=0

flip_matrix() { # SEQ
	local seq=$1 hex len off rc json bad problem cat tried=0 detected=0 want
	local -A by=()
	if [ "$MATRIX_STRIDE" = 1 ]; then
		step "every byte of entry $seq flipped"
	else
		step "one byte in ${MATRIX_STRIDE} of entry $seq flipped"
	fi
	fresh
	hex=$("$TAMPER" "$W" get "$seq") || fail "get $seq"
	len=$((${#hex} / 2))
	: >"$T/misses.$seq"
	for ((off = seq % MATRIX_STRIDE; off < len; off += MATRIX_STRIDE)); do
		"$TAMPER" "$W" flip "$seq" "$off" || fail "flip $seq $off"
		"$LEDGER" verify --json --threads 1 >"$T/m.json" 2>"$T/m.err"
		rc=$?
		json=
		read -r -d '' json <"$T/m.json"
		bad=none
		problem=
		[[ $json =~ \"bad_seq\":\ ([0-9]+) ]] && bad=${BASH_REMATCH[1]}
		[[ $json =~ \"problem\":\ \"([^\"]*) ]] && problem=${BASH_REMATCH[1]}
		tried=$((tried + 1))
		if [ "$rc" -eq 1 ] && [ "$bad" = "$seq" ]; then
			detected=$((detected + 1))
			case $problem in
			*"cannot be decoded"*) cat=decode ;;
			*"stored out of place"*) cat=seq ;;
			*"chain broken"*) cat=chain ;;
			*"not authorised"* | *"signer key unknown"*) cat=authorisation ;;
			*"not a valid rollback"*) cat=rollback ;;
			*"bad signature"*) cat=signature ;;
			*"authz field"*) cat=commitment ;;
			*) cat=other ;;
			esac
			by[$cat]=$((${by[$cat]:-0} + 1))
		else
			echo "offset $off: exit $rc, bad_seq $bad, problem: $problem $(head -c 200 "$T/m.err")" >>"$T/misses.$seq"
		fi
		"$TAMPER" "$W" flip "$seq" "$off" || fail "unflip $seq $off"
		# now and then, prove that the second flip restored the entry
		if [ $((tried % 64)) -eq 63 ]; then
			"$LEDGER" verify --threads 1 >/dev/null 2>"$T/m.err" ||
				fail "entry $seq not restored after offset $off: $(cat "$T/m.err")"
		fi
	done
	local cats=""
	for cat in decode seq chain authorisation rollback signature commitment other; do
		[ -n "${by[$cat]:-}" ] && cats="$cats${cats:+, }$cat ${by[$cat]}"
	done
	echo "tamper_matrix: entry $seq ($(eval echo "\$KIND_$seq"), $len bytes): $tried positions tried, $detected detected ($cats)"
	echo "$tried $detected" >"$T/count.$seq"
	if [ -s "$T/misses.$seq" ]; then
		head -20 "$T/misses.$seq"
		fail "entry $seq: $((tried - detected)) of $tried flipped bytes not detected"
	fi
	ok
	want=$(((len - seq % MATRIX_STRIDE + MATRIX_STRIDE - 1) / MATRIX_STRIDE))
	check "entry $seq: every position tried" [ "$tried" -eq "$want" ]
	entries_dump "$T/w.entries" "$W"
	check "entry $seq: the copy is whole again after the flips" \
		cmp -s "$T/a.entries" "$T/w.entries"
	verify_ok $HEAD
}
for s in $MATRIX_SEQS; do
	section "every byte of entry $s flipped" flip_matrix "$s"
	if [ -s "$T/count.$s" ]; then
		read -r t d <"$T/count.$s"
		MATRIX_TRIED=$((MATRIX_TRIED + t))
		MATRIX_DETECTED=$((MATRIX_DETECTED + d))
	fi
done
echo "tamper_matrix: all flips: $MATRIX_TRIED positions tried, $MATRIX_DETECTED detected"

# ---------------------------------------------------------------------
# 2. Whole entries moved around.

case_structure() {
	step "a deleted middle entry"
	fresh
	tamper "$W" del 5
	verify_fails 5 'missing'

	step "two entries swapped"
	fresh
	tamper "$W" swap 4 9
	verify_fails 4 'carries seq 9|out of place'
	fresh
	tamper "$W" swap 11 12
	verify_fails 11 'carries seq 12|out of place'

	step "an entry duplicated into the next position"
	fresh
	E4=$("$TAMPER" "$W" get 4) || fail "get 4"
	tamper "$W" put 5 "$E4"
	verify_fails 5 'carries seq 4|out of place'
	fresh
	E12=$("$TAMPER" "$W" get 12) || fail "get 12"
	tamper "$W" put 13 "$E12"
	verify_fails 13 'carries seq 12|out of place'
}
section "deleted, swapped and duplicated entries" case_structure

# ---------------------------------------------------------------------
# 3. Another ledger: origin example.com/deploy/other, the same key files
# (so the same key names and key ids) and the same commands.

case_other_origin() {
	step "ledger B: another origin, same keys, same history"
	B=$T/b
	export LEDGER_DIR=$B
	expect_rc 0 ledger init --origin example.com/deploy/other --key "$ADMIN"
	expect_rc 0 ledger key add "$T/keys/dep.pub" --role deployer \
		--scope 'staging/*' -m "deployer for staging" --key "$ADMIN"
	expect_rc 0 ledger set staging/api image.tag=1.2.3 replicas=2 \
		-m "deploy 1.2.3" --meta ci.run=1234 --key "$ADMIN"
	expect_rc 0 ledger set staging/api image.tag=1.2.4 replicas=3 \
		-m "deploy 1.2.4" --meta pr=42 --key "$DEP"
	expect_rc 0 ledger rollback staging/api --to 3 \
		-m "1.2.4 breaks checkout" --key "$ADMIN"
	verify_ok 6
	expect_rc 0 ledger checkpoint --key "$ADMIN" -o "$T/cpB"

	step "an entry of B spliced into A at the same seq"
	for s in 2 4 5 6; do
		fresh
		EB=$("$TAMPER" "$B" get "$s") || fail "get $s from B"
		tamper "$W" put "$s" "$EB"
		verify_fails "$s" 'chain broken'
	done

	step "an entry of B appended after A's head"
	fresh
	EB=$("$TAMPER" "$B" get 6) || fail "get 6 from B"
	tamper "$W" put 13 "$EB"
	verify_fails 13 'carries seq 6|out of place'

	# B's init is valid by itself (self-signed, for B's origin), so the
	# first entry that does not fit is 2, whose prev is A's init's hash.
	step "B's init in place of A's"
	fresh
	EB=$("$TAMPER" "$B" get 1) || fail "get 1 from B"
	tamper "$W" put 1 "$EB"
	verify_fails 2 'chain broken'

	step "checkpoints of B refused by A, and of A by B"
	export LEDGER_DIR=$A
	expect_rc 1 ledger verify --checkpoint "$T/cpB"
	expect_one_line_error 'cpB: .*origin'
	export LEDGER_DIR=$B
	expect_rc 1 ledger verify --checkpoint "$T/cp8"
	expect_one_line_error 'cp8: .*origin'
}
section "an entry from a ledger with another origin" case_other_origin

# ---------------------------------------------------------------------
# 4. A fork: F shares A's first 8 entries (same origin, same keys).

case_fork() {
	step "fork: each verifies alone"
	export LEDGER_DIR=$F
	verify_ok 13
	step "fork: the shared prefix's checkpoint fits both"
	verify_ok 13 --checkpoint "$T/cp8"
	export LEDGER_DIR=$A
	verify_ok $HEAD --checkpoint "$T/cp8"

	step "fork: A's checkpoint against F, and F's against A"
	export LEDGER_DIR=$F
	snapshot fork
	expect_rc 1 ledger verify --checkpoint "$T/cp12"
	expect_one_line_error 'cp12: .*(rewritten|forked)'
	expect_rc 1 ledger verify --checkpoint "$T/cp12" --json
	expect_json ok = false
	expect_json bad_seq = null
	assert_unchanged fork
	export LEDGER_DIR=$A
	# F is longer than A: from A's side the entries F has beyond 12
	# look removed
	expect_rc 1 ledger verify --checkpoint "$T/cpF13"
	expect_one_line_error 'cpF13: .*(removed|rewritten|forked)'

	step "fork: F's entry 9 in place of A's 9"
	# F's 9 is valid on its own (right prev, origin and signer): the
	# chain breaks at A's 10, whose prev is the hash of A's 9
	fresh
	EF=$("$TAMPER" "$F" get 9) || fail "get 9 from F"
	tamper "$W" put 9 "$EF"
	verify_fails 10 'chain broken'

	step "fork: A's tail replaced by F's, indexes rebuilt to match"
	fresh
	for s in 9 10 11 12; do
		tamper "$W" del "$s"
	done
	for s in 9 10 11 12 13; do
		EF=$("$TAMPER" "$F" get "$s") || fail "get $s from F"
		tamper "$W" put "$s" "$EF"
	done
	expect_rc 0 ledger reindex
	expect_out 'reindexed 13 entries'
	# a consistent, validly signed log: only a checkpoint kept elsewhere
	# can tell that it is not the one that was there
	verify_ok 13
	verify_ok 13 --checkpoint "$T/cp8"
	expect_rc 1 ledger verify --checkpoint "$T/cp12"
	expect_one_line_error 'cp12: .*(rewritten|forked)'
}
section "a fork" case_fork

# ---------------------------------------------------------------------
# 5. A truncated tail.

case_truncate() {
	step "the last two entries deleted"
	fresh
	tamper "$W" del 12
	tamper "$W" del 11
	# the indexes still know them
	expect_rc 1 ledger verify
	expect_one_line_error 'index'
	step "... and the indexes rebuilt to hide it"
	expect_rc 0 ledger reindex
	expect_out 'reindexed 10 entries'
	verify_ok 10
	verify_ok 10 --checkpoint "$T/cp8"
	snapshot trunc
	expect_rc 1 ledger verify --checkpoint "$T/cp12"
	expect_one_line_error "cp12: .*(removed|12 entries)"
	expect_rc 1 ledger verify --checkpoint "$T/cp8" --checkpoint "$T/cp12" --json
	expect_json ok = false
	expect_json entries = 10
	assert_unchanged trunc
}
section "a truncated tail" case_truncate

# ---------------------------------------------------------------------
# 6. Non-canonical re-encodings of entry 4 (a set by the deployer). The
# signature covers the exact body bytes and cannot be redone without the
# key, so a verifier that decoded leniently would still see a bad
# signature; the point here is that the decoder itself refuses each one
# ("cannot be decoded"), before any signature is looked at.

case_noncanonical() {
	local E4 P1 P2 T4 name v
	step "non-canonical encodings of entry 4"
	export LEDGER_DIR=$A
	E4=$("$TAMPER" "$A" get 4) || fail "get 4"
	# the layout this case edits (docs/format.md section 3)
	check "entry 4 starts 9c 02 04 c4 20 (version 2)" [ "${E4:0:10}" = 9c0204c420 ]
	check "entry 4 has time as uint64 at byte 37" [ "${E4:74:2}" = cf ]
	check "entry 4 has signer as bin 4 at byte 46" [ "${E4:92:4}" = c404 ]
	check "entry 4 has kind set at byte 52" [ "${E4:104:8}" = a3736574 ]
	T4=$(hexof staging/api)
	check "entry 4 has target staging/api at byte 56" [ "${E4:112:24}" = "ab$T4" ]
	P1=92a9$(hexof image.tag)a5$(hexof 1.2.4)
	P2=92a8$(hexof replicas)a133
	case $E4 in *"92$P1$P2"*) ;; *) fail "changes of entry 4 not found" ;; esac
	ok
	local -A variant=(
		[version-uint8]="${E4:0:2}cc02${E4:4}"
		[seq-uint8]="${E4:0:4}cc04${E4:6}"
		[seq-uint16]="${E4:0:4}cd0004${E4:6}"
		[seq-uint64]="${E4:0:4}cf0000000000000004${E4:6}"
		[prev-bin16]="${E4:0:6}c50020${E4:10}"
		[prev-as-str8]="${E4:0:6}d920${E4:10}"
		[signer-bin16]="${E4:0:92}c50004${E4:96}"
		[kind-str8]="${E4:0:104}d903736574${E4:112}"
		[kind-str16]="${E4:0:104}da0003736574${E4:112}"
		[target-str16]="${E4:0:112}da000b$T4${E4:136}"
		[changes-array16]="${E4/92$P1$P2/dc0002$P1$P2}"
		[pair-array16]="${E4/92$P1$P2/92dc0002${P1:2}$P2}"
		[changes-unsorted]="${E4/92$P1$P2/92$P2$P1}"
		[changes-duplicate]="${E4/92$P1$P2/93$P1$P1$P2}"
		[signature-bin16]="${E4:0:$((${#E4} - 132))}c50040${E4:$((${#E4} - 128))}"
		[trailing-byte]="${E4}00"
		[trailing-entry]="${E4}${E4}"
	)
	for name in "${!variant[@]}"; do
		v=${variant[$name]}
		step "entry 4 re-encoded: $name"
		[ "$v" != "$E4" ] || fail "variant $name did not change the bytes"
		fresh
		tamper "$W" put 4 "$v"
		verify_fails 4 'cannot be decoded'
		# readers refuse it too, rather than show it
		expect_rc 2 ledger show 4
		expect_one_line_error 'entry 4'
	done
	echo "tamper_matrix: ${#variant[@]} non-canonical encodings of entry 4, each refused by the decoder"
	step "entry 4 put back as it was"
	fresh
	tamper "$W" put 4 "$E4"
	verify_ok $HEAD
}
section "non-canonical encodings" case_noncanonical

# ---------------------------------------------------------------------
# 7. Validly signed entries the library refuses to write. S is a copy of
# A whose keyring or lock index was edited so that it would allow the
# entry; `ledger` there refuses to write on an index that is not the
# signed head's (docs/format.md 14). An attacker holding the key needs no
# library at all: tests/tools/ldg_forge signs the entry on S's head, with
# the commitment of S's edited state, and it is stored as entry 13 of a
# fresh copy of A. verify replays the keyring from the entries alone, so
# it must refuse each.

# keyrec NAME PK32HEX ADDED REVOKED ROLE SCOPES: a "keys" value, as hex
keyrec() {
	printf '%s%016x%016x%s00%s' "$2" "$3" "$4" "$(hexof "$5")" "$(hexof "$6")"
}

# forge_in_S WHAT PREP KEY set TARGET K=V REASON
# forge_in_S WHAT PREP KEY key-add PUB ROLE SCOPES REASON: copy A to S,
# run the function PREP to edit S's indexes; `ledger` with KEY refuses to
# write that entry in S, which stays as it was; ldg_forge signs it on
# S's head; it is stored as entry 13 of W, a fresh copy of A.
forge_in_S() {
	local what=$1 prep=$2 key=$3
	shift 3
	copy_of "$A" "$T/s"
	"$prep"
	export LEDGER_DIR=$T/s
	if [ "$1" = rollback ]; then
		# a rollback's values come from the versions index, which the
		# commitment does not cover: the writer is fooled, and the
		# copy's own verify catches what it signed
		expect_rc 0 ledger "$@"
		expect_out_match '^13 [0-9a-f]{64}$'
		FORGED=$("$TAMPER" "$T/s" get 13) || fail "get 13 from S"
		# the copy that was fooled at write time is caught by its own verify
		expect_rc 1 ledger verify
		expect_one_line_error "entry 13: ${FORGE_WHY:-not authorised}"
	else
		snapshot s
		if [ "$1" = set ]; then
			expect_rc 2 ledger set "$2" "$3" -m "$4" --key "$key"
		else
			expect_rc 2 ledger key add "$2" --role "$3" --scope "$4" -m "$5" --key "$key"
		fi
		expect_one_line_error 'the keys/locks index does not match the signed head at seq 12'
		assert_unchanged s
		run "$FORGE" "$T/s" "$key" "$@"
		[ "$RC" -eq 0 ] || fail "ldg_forge failed: $(err)"
		FORGED=$(out)
	fi
	fresh
	tamper "$W" put 13 "$FORGED"
	echo "tamper_matrix: forged entry 13 ($what): $((${#FORGED} / 2)) bytes, validly signed"
}

case_forged() {
	DEP_REC=$("$TAMPER" "$A" getdb keys "$(hexof dep)") || fail "getdb dep"
	OLD_REC=$("$TAMPER" "$A" getdb keys "$(hexof old)") || fail "getdb old"

	step "signed by a key after its revocation"
	# "old" was revoked at seq 10: make S's keyring say it never was
	unrevoke_old() {
		tamper "$T/s" putdb keys "$(hexof old)" \
			"${OLD_REC:0:80}0000000000000000${OLD_REC:96}"
	}
	forge_in_S "revoked signer" unrevoke_old "$OLD" \
		set prod/api image.tag=after-revoke "signed after revoke"
	verify_fails 13 'not authorised: .*revoked at seq 10'

	step "signed by a key outside its scope"
	# dep may change staging/* only; S's keyring says "*"
	widen_dep() {
		tamper "$T/s" putdb keys "$(hexof dep)" \
			"$(keyrec dep "${DEP_REC:0:64}" 2 0 deployer '*')"
	}
	forge_in_S "out-of-scope signer" widen_dep "$DEP" \
		set prod/api image.tag=out-of-scope "deployer on prod"
	verify_fails 13 'not authorised: .*not allowed to change prod/api'

	step "signed by a key never added"
	GHOST_PK=$(cut -d+ -f3- "$T/keys/ghost.pub" | base64 -d | od -An -tx1 -j1 | tr -d ' \n')
	GHOST_ID=$(cut -d+ -f2 "$T/keys/ghost.pub")
	check "ghost's public key is 32 bytes" [ ${#GHOST_PK} -eq 64 ]
	add_ghost() {
		tamper "$T/s" putdb keys "$(hexof ghost)" \
			"$(keyrec ghost "$GHOST_PK" 1 0 admin '*')"
		tamper "$T/s" putdb keyids "$GHOST_ID" "$(hexof ghost)"
	}
	forge_in_S "never-added signer" add_ghost "$GHOST" \
		set prod/api image.tag=ghost "who am I"
	verify_fails 13 "not authorised: signer key $GHOST_ID is not in the keyring"

	step "a deployer adding a key (role escalation)"
	promote_dep() {
		tamper "$T/s" putdb keys "$(hexof dep)" \
			"$(keyrec dep "${DEP_REC:0:64}" 2 0 admin '*')"
	}
	forge_in_S "key-add by a deployer" promote_dep "$DEP" \
		key-add "$T/keys/ghost.pub" admin '*' "let me in"
	verify_fails 13 'not authorised: .*may not manage keys'

	step "a set on a locked target, not forced"
	# prod/web was locked at seq 12; S forgets the lock
	forget_lock() {
		tamper "$T/s" delkey state "$(hexof prod/web)00$(hexof '!lock')"
	}
	forge_in_S "set through a lock" forget_lock "$ADMIN" \
		set prod/web image.tag=w2 "ignore the freeze"
	verify_fails 13 'not authorised: .*locked since seq 12'

	step "a rollback that restores a value nobody signed"
	# S's versions index says image.tag was EVIL-9 at seq 4: its rollback
	# to 4 signs that (an authorised admin, a correct chain)
	lie_about_seq4() {
		tamper "$T/s" putdb versions \
			"$(hexof staging/api)00$(hexof image.tag)000000000000000004" \
			"01$(hexof EVIL-9)"
	}
	FORGE_WHY="not a valid rollback" forge_in_S "rollback with values nobody signed" \
		lie_about_seq4 "$ADMIN" rollback staging/api --to 4 --no-lock \
		-m "back to 1.2.4" --key "$ADMIN"
	verify_fails 13 'not a valid rollback: .*image.tag "EVIL-9", but at seq 4 it was "1.2.4"'
}
section "validly signed entries that were not allowed" case_forged

# ---------------------------------------------------------------------
# 8. Corrupted index databases: verify names the index, reindex repairs
# it from the entries alone, and never writes to entries.

case_index() { # DB HOW
	local db=$1 how=$2
	step "index \"$db\": $how"
	fresh
	case $how in
	flipped) tamper "$W" flipdb "$db" ;;
	deleted) tamper "$W" deldb "$db" ;;
	added)
		case $db in
		merkle) tamper "$W" putdb merkle 00000000000000000000000000000063 \
			"$(printf '%064d' 0)" ;;
		keyids) tamper "$W" putdb keyids 01020304 "$(hexof ghost)" ;;
		*) tamper "$W" putdb "$db" "$(hexof zz/zz)00$(hexof x)" 00 ;;
		esac
		;;
	esac
	snapshot idx
	expect_rc 1 ledger verify --threads 2
	expect_one_line_error "index \"$db\"|Merkle"
	expect_rc 1 ledger verify --json
	expect_json ok = false
	expect_json bad_seq = null
	jget "$OUT" problem | grep -Eq "\"$db\"|Merkle" ||
		fail "the problem does not name the index"
	ok
	assert_unchanged idx
	entries_dump "$T/w.before" "$W"
	check "$db/$how: the entries are still A's" cmp -s "$T/a.entries" "$T/w.before"
	expect_rc 0 ledger reindex
	expect_out "reindexed $HEAD entries"
	entries_dump "$T/w.after" "$W"
	check "$db/$how: reindex did not write to entries" \
		cmp -s "$T/w.before" "$T/w.after"
	dump_all "$T/w.dump" "$W"
	check "$db/$how: reindex restored every index" cmp -s "$T/a.dump" "$T/w.dump"
	verify_ok $HEAD --checkpoint "$T/cp12"
}
for db in state versions history merkle keys keyids targets; do
	for how in flipped deleted added; do
		section "index $db $how" case_index "$db" "$how"
	done
done

# ---------------------------------------------------------------------
# 9. No secret in the ledger: the seeds of the private keys that signed
# A's entries appear nowhere in its databases, nor in what `show` prints.

case_no_secret() {
	local k seed s hex pkhex
	step "no private key material in the ledger"
	export LEDGER_DIR=$A
	mdb_dump -a "$A" >"$T/a.hexdump" || fail "mdb_dump -a"
	: >"$T/shown"
	for s in $(seq 1 $HEAD); do
		"$LEDGER" show "$s" --json >>"$T/shown" || fail "show $s"
		"$LEDGER" show "$s" >>"$T/shown" || fail "show $s"
	done
	for k in "$ADMIN" "$DEP" "$OLD"; do
		# PRIVATE+KEY+NAME+KEYID+BASE64(01 || seed32)
		seed=$(cut -d+ -f5- "$k")
		check "$k holds a 33-byte key" \
			[ "$(printf '%s' "$seed" | base64 -d | wc -c)" -eq 33 ]
		hex=$(printf '%s' "$seed" | base64 -d | od -An -tx1 -j1 | tr -d ' \n')
		check "the seed of $k is 32 bytes" [ ${#hex} -eq 64 ]
		# the control: the public key (32 bytes in the keys index) is
		# found the same way
		pkhex=$(cut -d+ -f3- "${k%.key}.pub" | base64 -d | od -An -tx1 -j1 | tr -d ' \n')
		check "the public key of $k is found in the keys index" \
			grep -q "$pkhex" "$T/a.hexdump"
		check "the seed of $k is not in any database" \
			sh -c "! grep -q '$hex' '$T/a.hexdump'"
		check "the seed of $k is not in show's output (hex)" \
			sh -c "! grep -qi '$hex' '$T/shown'"
		check "the seed of $k is not in show's output (base64)" \
			sh -c "! grep -qF '$seed' '$T/shown'"
	done
}
section "no private key material in the ledger" case_no_secret

finish
