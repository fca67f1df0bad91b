#!/bin/bash
# tamper.sh - edit a ledger behind its back (raw LMDB, tests/tools/
# ldg_tamper) and prove that `ledger verify` notices, names the first bad
# seq and what is wrong (exit 1), never changes the ledger itself, and
# that `ledger reindex` repairs derived indexes without touching entries.
. "$(dirname "$0")/lib.sh"
need mdb_dump od
[ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ] || skip "TAMPER (ldg_tamper) not built"

tamper() {
	"$TAMPER" "$@" || fail "ldg_tamper $* failed"
}

hexof() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# a fresh copy of ledger A to spoil
fresh() {
	rm -rf "$T/w"
	cp -a "$T/a" "$T/w"
	export LEDGER_DIR=$T/w
}

# verify_fails SEQ ERE [VERIFY ARGS]: verify exits 1 naming entry SEQ
# with a problem matching ERE, in text and in JSON, and changes nothing.
verify_fails() {
	local seq=$1 re=$2
	shift 2
	snapshot vf
	expect_rc 1 ledger verify "$@"
	expect_one_line_error "^ledger: verify: entry $seq: .*($re)"
	expect_no_out
	expect_rc 1 ledger verify --json "$@"
	expect_json ok = false
	expect_json bad_seq = "$seq"
	jget "$OUT" problem | grep -Eq "$re" || fail "JSON problem does not match /$re/"
	ok
	assert_unchanged vf
}

# ---------------------------------------------------------------------
step "ledger A"
run ledger keygen admin
[ "$RC" -eq 0 ] || fail "keygen failed"
ADMIN=$KEYS/admin.key
new_key dep
export LEDGER_DIR=$T/a
expect_rc 0 ledger init --origin example.com/deploy/a --key "$ADMIN"
expect_rc 0 ledger set staging/api image.tag=alpha-value-xyz -m "two"
expect_out_match '^2 '
expect_rc 0 ledger set staging/api replicas=3 -m "three"
expect_out_match '^3 '
expect_rc 0 ledger key add "$T/keys/dep.pub" --role deployer --scope 'staging/*' -m "four"
expect_out_match '^4 '
expect_rc 0 ledger set staging/web image.tag=w1 -m "five" --key "$T/keys/dep.key"
expect_out_match '^5 '
expect_rc 0 ledger lock staging/web -m "six"
expect_out_match '^6 '
expect_rc 0 ledger set prod/api image.tag=p1 -m "seven"
expect_out_match '^7 '
expect_rc 0 ledger unset staging/api replicas -m "eight"
expect_out_match '^8 '
expect_rc 0 ledger checkpoint -o "$T/cp8"
expect_rc 0 ledger verify
expect_out_match '^ok: 8 entries, head 8 '
dump_all "$T/a.dump" "$T/a"
entries_dump "$T/a.entries" "$T/a"
run "$TAMPER" "$T/a" count
expect_out 8

# Each case below works on its own copy or ledger, in a section: one
# failing case does not hide the others.

case_1() {
	step "ldg_tamper itself"
	fresh
	run "$TAMPER" "$T/w" get 2
	check "get prints hex" [ "$(grep -Ec '^[0-9a-f]+$' "$OUT")" -eq 1 ]
	E2=$(out)
	run "$TAMPER" "$T/w" find 2 "$(hexof alpha-value-xyz)"
	check "find locates the value" [ "$RC" -eq 0 ]
	run "$TAMPER" "$T/w" get 99
	check "get of a missing seq exits 1" [ "$RC" -eq 1 ]
	tamper "$T/w" put 2 "$E2"
	entries_dump "$T/w.entries" "$T/w"
	check "put of the same bytes changes nothing" cmp -s "$T/a.entries" "$T/w.entries"
}
section "ldg_tamper itself" case_1

case_2() {
	step "a flipped signature byte"
	fresh
	tamper "$T/w" flip 4 -1
	verify_fails 4 'signature'
	verify_fails 4 'signature' --threads 2
	verify_fails 4 'signature' --threads 1
	fresh
	tamper "$T/w" flip 1 -10
	verify_fails 1 'signature'
	fresh
	tamper "$T/w" flip 8 -64
	verify_fails 8 'signature' --threads 2
}
section "a flipped signature byte" case_2

case_3() {
	step "a flipped byte in a value"
	fresh
	off=$("$TAMPER" "$T/w" find 2 "$(hexof alpha-value-xyz)") || fail "value not found"
	tamper "$T/w" flip 2 $((off + 3))
	verify_fails 2 'signature'
	verify_fails 2 'signature' --threads 2
	# readers still answer, from the (unchanged) indexes
	expect_rc 0 ledger get staging/api image.tag --at 2
	expect_out alpha-value-xyz
	# but no checkpoint vouches for a ledger that does not verify
	snapshot cp
	expect_rc 1 ledger checkpoint -o "$T/bad.cp"
	expect_one_line_error '^ledger: checkpoint: refusing to sign: the ledger does not verify \(entry 2: '
	check "no checkpoint written" [ ! -e "$T/bad.cp" ]
	assert_unchanged cp
	# --no-verify signs the stored head anyway, as documented: the
	# stored tree (built when entry 2 was good) holds together
	expect_rc 0 ledger checkpoint --no-verify -o "$T/unchecked.cp"
}
section "a flipped byte in a value" case_3

case_3c() {
	step "checkpoint --no-verify and a corrupted Merkle node"
	local node
	# the root of 8 entries is the stored node (level 3, index 0), key
	# be64(7) || 03; its right edge runs down to entry 8
	for key in 000000000000000703 000000000000000702 000000000000000701; do
		fresh
		node=$("$TAMPER" "$T/w" getdb merkle $key) || fail "no node $key"
		case $node in *0) node=${node%?}1 ;; *) node=${node%?}0 ;; esac
		tamper "$T/w" putdb merkle $key "$node"
		snapshot nv
		expect_rc 1 ledger checkpoint --no-verify -o "$T/nv.cp"
		expect_one_line_error '^ledger: checkpoint: refusing to sign: the stored Merkle tree does not match the entries \(under entry 8\); run ledger verify$'
		check "no checkpoint written" [ ! -e "$T/nv.cp" ]
		assert_unchanged nv
		expect_rc 1 ledger verify
		expect_one_line_error '[Mm]erkle'
	done
	# and entry 8 rewritten behind the tree's back
	fresh
	tamper "$T/w" flip 8 -1
	expect_rc 1 ledger checkpoint --no-verify -o "$T/nv.cp"
	expect_one_line_error 'refusing to sign: the stored Merkle tree does not match the entries \(under entry 8\)'
}
section "checkpoint --no-verify and a corrupted Merkle node" case_3c

case_3b() {
	step "indexes built by another version"
	fresh
	tamper "$T/w" delkey meta "$(hexof index-version)"
	# readers refuse with the remedy, verify reports, a writer reindexes
	expect_rc 2 ledger get staging/api image.tag
	expect_one_line_error 'built by another version of ledger; run ledger reindex$'
	expect_rc 1 ledger verify
	expect_one_line_error 'index "meta" does not match'
	expect_rc 0 ledger set staging/api image.tag=after-upgrade -m "upgrade"
	expect_rc 0 ledger verify
	expect_rc 0 ledger get staging/api image.tag
	expect_out after-upgrade
}
section "indexes built by another version" case_3b

case_4() {
	step "a flipped byte in the reason"
	fresh
	off=$("$TAMPER" "$T/w" find 5 "$(hexof five)") || fail "reason not found"
	tamper "$T/w" flip 5 "$off"
	verify_fails 5 'signature'
}
section "a flipped byte in the reason" case_4

case_5() {
	step "a flipped byte in prev"
	fresh
	run ledger show 4 --json
	H4=$(jget "$OUT" hash)
	off=$("$TAMPER" "$T/w" find 5 "$H4") || fail "prev not found in entry 5"
	tamper "$T/w" flip 5 $((off + 31))
	verify_fails 5 'prev|chain'
	verify_fails 5 'prev|chain' --threads 2
}
section "a flipped byte in prev" case_5

case_6() {
	step "a deleted middle entry"
	fresh
	tamper "$T/w" del 4
	verify_fails 4 'missing'
	expect_rc 1 ledger verify
	expect_one_line_error 'entry 4: missing: the next stored entry is 5'
}
section "a deleted middle entry" case_6

case_7() {
	step "a deleted last entry, and the indexes rebuilt to hide it"
	fresh
	tamper "$T/w" del 8
	# the indexes still know entry 8
	expect_rc 1 ledger verify
	expect_one_line_error 'index'
	expect_rc 0 ledger reindex
	expect_out 'reindexed 7 entries'
	# now the log is a consistent, shorter log: only a checkpoint can tell
	expect_rc 0 ledger verify
	expect_out_match '^ok: 7 entries, head 7 '
	snapshot trunc
	expect_rc 1 ledger verify --checkpoint "$T/cp8"
	expect_one_line_error "cp8: .*(removed|8 entries)"
	expect_rc 1 ledger verify --checkpoint "$T/cp8" --threads 2 --json
	expect_json ok = false
	assert_unchanged trunc

	step "a truncated log that grew again (a fork)"
	expect_rc 0 ledger set prod/api image.tag=p-forged -m "rewritten history"
	expect_out_match '^8 '
	expect_rc 0 ledger verify
	expect_out_match '^ok: 8 entries, head 8 '
	expect_rc 1 ledger verify --checkpoint "$T/cp8"
	expect_one_line_error 'rewritten|forked'
}
section "a deleted last entry, hidden by reindex, then a fork" case_7

case_9() {
	step "swapped, replayed, garbled and truncated entries"
	fresh
	tamper "$T/w" swap 3 4
	verify_fails 3 'seq 4|out of place'
	fresh
	E3=$("$TAMPER" "$T/w" get 3)
	tamper "$T/w" put 6 "$E3"
	verify_fails 6 'seq 3|out of place|prev|chain'
	fresh
	tamper "$T/w" put 3 deadbeef
	verify_fails 3 'decode'
	fresh
	tamper "$T/w" put 3 "${E3%??}"
	verify_fails 3 'decode'
	fresh
	tamper "$T/w" put 3 "${E3}00"
	verify_fails 3 'decode'
	fresh
	tamper "$T/w" put 3 ""
	verify_fails 3 'decode'
}
section "swapped, replayed, garbled and truncated entries" case_9

# An entry stored after the head that the indexes never saw: verify must
# answer "no" (exit 1) naming it, not fail to read the head (exit 2).
case_9b() {
	step "entry 3 replayed as entry 9, after the head"
	fresh
	E3=$("$TAMPER" "$T/w" get 3)
	tamper "$T/w" put 9 "$E3"
	verify_fails 9 'seq 3|out of place'
}
section "an entry replayed after the head" case_9b

case_9c() {
	step "entries stored under 7- and 9-byte keys"
	local e8
	e8=$("$TAMPER" "$T/a" get 8) || fail "get 8"
	# entry 8 moved to a 9-byte key: it sorts where 8 was
	fresh
	tamper "$T/w" putdb entries 000000000000000800 "$e8"
	tamper "$T/w" del 8
	verify_fails 8 'stored under a 9-byte key 000000000000000800, not an 8-byte seq'
	# entry 8 moved to a 7-byte key: it sorts last, where the head is
	# read from (verify used to stop at "cannot read the head", exit 2)
	fresh
	tamper "$T/w" putdb entries 00000000000008 "$e8"
	tamper "$T/w" del 8
	verify_fails 8 'stored under a 7-byte key 00000000000008,'
	# an extra record under a 9-byte key after the head
	fresh
	tamper "$T/w" putdb entries 000000000000000800 "$e8"
	verify_fails 9 'stored under a 9-byte key'
	verify_fails 9 'stored under a 9-byte key' --threads 2
}
section "entries stored under 7- and 9-byte keys" case_9c

case_10() {
	local db=$1
	step "a corrupted \"$db\" index"
	fresh
	tamper "$T/w" flipdb "$db"
	snapshot idx
	expect_rc 1 ledger verify --threads 2
	expect_one_line_error "index|Merkle"
	expect_err_match "$db|Merkle"
	expect_rc 1 ledger verify --json
	expect_json ok = false
	assert_unchanged idx
	entries_dump "$T/w.before" "$T/w"
	expect_rc 0 ledger reindex
	expect_out 'reindexed 8 entries'
	entries_dump "$T/w.after" "$T/w"
	check "reindex did not touch entries ($db)" cmp -s "$T/w.before" "$T/w.after"
	check "entries are the original ones ($db)" cmp -s "$T/a.entries" "$T/w.after"
	dump_all "$T/w.dump" "$T/w"
	check "reindex restored every index ($db)" cmp -s "$T/a.dump" "$T/w.dump"
	expect_rc 0 ledger verify
	expect_out_match '^ok: 8 entries, head 8 '
	expect_rc 0 ledger verify --checkpoint "$T/cp8"
}
for db in state versions history merkle keys keyids targets meta; do
	section "a corrupted \"$db\" index" case_10 "$db"
done

case_11() {
	local db=$1
	step "a deleted record in the \"$db\" index"
	fresh
	tamper "$T/w" deldb "$db"
	expect_rc 1 ledger verify
	expect_one_line_error "index \"$db\""
	expect_rc 0 ledger reindex
	expect_rc 0 ledger verify --threads 2
	expect_out_match '^ok: 8 entries, head 8 '
}
for db in state versions history keys targets; do
	section "a deleted record in the \"$db\" index" case_11 "$db"
done

case_12() {
	step "ledger B: another origin, an admin key also named admin"
	mkdir -p "$T/bkeys"
	new_key admin "$T/bkeys"
	export LEDGER_DIR=$T/b
	expect_rc 0 ledger init --origin example.com/deploy/b --key "$T/bkeys/admin.key"
	expect_rc 0 ledger set staging/api image.tag=from-b -m "two" --key "$T/bkeys/admin.key"
	expect_rc 0 ledger set staging/api replicas=9 -m "three" --key "$T/bkeys/admin.key"
	for i in 4 5 6 7 8 9; do
		expect_rc 0 ledger set prod/api image.tag=b$i -m "b $i" --key "$T/bkeys/admin.key"
	done
	expect_rc 0 ledger checkpoint --key "$T/bkeys/admin.key" -o "$T/cpB"
	expect_rc 0 ledger verify
	expect_out_match '^ok: 9 entries, head 9 '
}
section "ledger B: another origin, an admin key also named admin" case_12

case_13() {
	step "a checkpoint from another ledger"
	export LEDGER_DIR=$T/a
	snapshot cpb
	expect_rc 1 ledger verify --checkpoint "$T/cpB"
	expect_one_line_error 'origin'
	expect_rc 1 ledger verify --checkpoint "$T/cp8" --checkpoint "$T/cpB"
	expect_one_line_error 'cpB.*origin'
	assert_unchanged cpb
}
section "a checkpoint from another ledger" case_13

case_14() {
	step "a checkpoint with the right origin but signed by another key"
	export LEDGER_DIR=$T/c
	expect_rc 0 ledger init --origin example.com/deploy/a --key "$T/bkeys/admin.key"
	expect_rc 0 ledger checkpoint --key "$T/bkeys/admin.key" -o "$T/cpC"
	export LEDGER_DIR=$T/a
	expect_rc 1 ledger verify --checkpoint "$T/cpC"
	expect_one_line_error 'not signed by a key of this ledger|forked|rewritten'
}
section "a checkpoint with the right origin but signed by another key" case_14

case_15() {
	step "a fork: same origin and key, other entries"
	export LEDGER_DIR=$T/d
	expect_rc 0 ledger init --origin example.com/deploy/a --key "$ADMIN"
	expect_rc 0 ledger set staging/api image.tag=forked -m "two" --key "$ADMIN"
	expect_rc 0 ledger checkpoint --key "$ADMIN" -o "$T/cpD"
	export LEDGER_DIR=$T/a
	expect_rc 1 ledger verify --checkpoint "$T/cpD"
	expect_one_line_error 'rewritten|forked'
}
section "a fork: same origin and key, other entries" case_15

case_16() {
	step "a checkpoint edited by hand"
	sed '2s/.*/7/' "$T/cp8" >"$T/cp8-size"
	expect_rc 1 ledger verify --checkpoint "$T/cp8-size"
	expect_one_line_error 'cp8-size'
	root=$(sed -n 3p "$T/cp8")
	case $root in A*) root=B${root#?} ;; *) root=A${root#?} ;; esac
	sed "3s|.*|$root|" "$T/cp8" >"$T/cp8-root"
	cmp -s "$T/cp8" "$T/cp8-root" && fail "the root line did not change"
	expect_rc 1 ledger verify --checkpoint "$T/cp8-root"
	expect_one_line_error 'cp8-root'
	head -n 3 "$T/cp8" >"$T/cp8-unsigned"
	run ledger verify --checkpoint "$T/cp8-unsigned"
	check "an unsigned checkpoint is refused" [ "$RC" -eq 1 -o "$RC" -eq 2 ]
	expect_one_line_error 'cp8-unsigned'
	echo "garbage" >"$T/cp-garbage"
	run ledger verify --checkpoint "$T/cp-garbage"
	check "a garbage checkpoint is refused" [ "$RC" -eq 1 -o "$RC" -eq 2 ]
	expect_one_line_error 'cp-garbage'
	# sizes: past 2^64 - 1 refused (not wrapped), 0 refused as such
	sed '2s/.*/18446744073709551616/' "$T/cp8" >"$T/cp8-huge"
	expect_rc 2 ledger verify --checkpoint "$T/cp8-huge"
	expect_one_line_error 'cp8-huge: checkpoint: size 18446744073709551616 is larger than 2\^64 - 1$'
	sed '2s/.*/0/' "$T/cp8" >"$T/cp8-zero"
	expect_rc 2 ledger verify --checkpoint "$T/cp8-zero"
	expect_one_line_error 'cp8-zero: checkpoint: size 0 \(an empty tree\)'
	# cosigned by dep, a key of this ledger: both lines verify, accepted;
	# dep's line spoiled, refused though admin's still verifies (as
	# Go's note.Open)
	expect_rc 0 ledger checkpoint --key "$T/keys/dep.key" -o "$T/cp8-dep"
	cat "$T/cp8" >"$T/cp8-co"
	tail -n 1 "$T/cp8-dep" >>"$T/cp8-co"
	expect_rc 0 ledger verify --checkpoint "$T/cp8-co"
	line=$(tail -n 1 "$T/cp8-dep")
	c=${line: -10:1}
	case $c in A) c=B ;; *) c=A ;; esac
	{ cat "$T/cp8"; printf '%s%s%s\n' "${line:0:${#line}-10}" "$c" "${line: -9}"; } >"$T/cp8-cobad"
	expect_rc 1 ledger verify --checkpoint "$T/cp8-cobad"
	expect_one_line_error 'checkpoint of size 8 has an invalid signature by key "dep" of this ledger'
	expect_rc 1 ledger verify --checkpoint "$T/cp8-cobad" --json
	expect_json ok = false
}
section "a checkpoint edited by hand" case_16

case_17() {
	step "an entry from ledger B spliced into A"
	for s in 2 5 8; do
		fresh
		EB=$("$TAMPER" "$T/b" get "$s") || fail "get from B"
		tamper "$T/w" put "$s" "$EB"
		verify_fails "$s" 'prev|chain|signature|signer|authori'
	done
}
section "an entry from ledger B spliced into A" case_17

case_17b() {
	step "an entry from ledger B appended after A's head"
	fresh
	EB=$("$TAMPER" "$T/b" get 9) || fail "get from B"
	tamper "$T/w" put 9 "$EB"
	verify_fails 9 'prev|chain|signature|signer|authori'
}
section "an entry from ledger B appended after the head" case_17b

case_18() {
	step "an entry from ledger D (same key, same origin) spliced into A"
	fresh
	ED=$("$TAMPER" "$T/d" get 2) || fail "get from D"
	tamper "$T/w" put 2 "$ED"
	verify_fails 2 'prev|chain|signature'
}
section "an entry from ledger D (same key, same origin) spliced into A" case_18

case_19() {
	step "ledger A itself is untouched by all this"
	export LEDGER_DIR=$T/a
	dump_all "$T/a.dump2" "$T/a"
	check "A unchanged" cmp -s "$T/a.dump" "$T/a.dump2"
	expect_rc 0 ledger verify --checkpoint "$T/cp8"
	expect_out_match '^ok: 8 entries, head 8 '
}
section "ledger A itself is untouched by all this" case_19

finish
