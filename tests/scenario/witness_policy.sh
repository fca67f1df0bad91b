#!/bin/bash
# witness_policy.sh - issue 15: `ledger verify --checkpoint F
# --witness-policy P` demands a quorum of witness cosignatures, and
# `ledger serve` publishes cosigned checkpoints byte for byte.
#
# Cosignatures are made without a witness server: tests/tools/ldg_cosign
# ($COSIGN) cosigns a checkpoint through the library's ldg_cosign(), and
# tests/tools/cosig_check.py (written from the C2SP specs alone) makes
# the witnesses' keys from fixed seeds, one cosignature of its own, and
# checks ours. Quorum met, not met (the one line names the group), a bad
# cosignature by a policy witness refused, a stranger's ignored, a
# malformed policy refused with its line number, several checkpoints,
# --json; `ledger tiles --checkpoint` and serve keep the cosigned note
# verbatim (serve across a restart, at /api/v1/checkpoint and
# /tlog/checkpoint). End to end: two `ledger witness` processes cosign
# `ledger --remote URL checkpoint --witness`, serve publishes it, the
# policy holds; one witness is not enough. About 13 s on the shared,
# loaded 2 cores (no step over 0.4 s).
. "$(dirname "$0")/lib.sh"
need curl mdb_dump python3
. "$(dirname "$0")/lib_serve.sh"

: "${COSIGN:?COSIGN must point at tests/tools/ldg_cosign}"
CHECK=$(dirname "$0")/../tools/cosig_check.py

mkdir -p "$T/w"
seed() { printf "$1%.0s" $(seq 32); } # 32 bytes of hex $1
# cosign IN OUT NAME...: IN cosigned by each witness, in order
cosign() {
	local in=$1 out=$2 w
	shift 2
	cp "$in" "$T/.cs" || fail "cp $in"
	for w in "$@"; do
		"$COSIGN" "$T/w/$w.key" 1700000000 <"$T/.cs" >"$T/.cs2" ||
			fail "ldg_cosign $w"
		mv "$T/.cs2" "$T/.cs"
	done
	mv "$T/.cs" "$out"
}

# ---------------------------------------------------------------------
step "a ledger, its checkpoint and three witnesses"
init_ledger example.com/deploy/witnessed
expect_rc 0 ledger set staging/api image.tag=v1 -m "one"
expect_rc 0 ledger checkpoint -o "$T/cp"
# $T/w/NAME.key and .pub: cosigner keys of fixed seeds, made by the
# independent implementation
run python3 "$CHECK" cosigners "$T/w" "w1:w1.example:$(seed 11)" \
	"w2:w2.example:$(seed 22)" "w3:w3.example:$(seed 33)" \
	"stranger:stranger.example:$(seed 44)"
[ "$RC" -ne 77 ] || skip "python3's cryptography module (Debian: python3-cryptography)"
[ "$RC" -eq 0 ] || fail "cosig_check.py cosigners"
check "four distinct witness keys" [ "$(cat "$T"/w/*.pub | sort -u | wc -l)" = 4 ]
cosign "$T/cp" "$T/cp12" w1 w2
cosign "$T/cp" "$T/cp1" w1
cosign "$T/cp" "$T/cp1s" stranger w1
cosign "$T/cp" "$T/cp12s" w2 stranger w1
check "cosigned = the note + one line per witness" \
	[ "$(head -c "$(wc -c <"$T/cp")" "$T/cp12")" = "$(cat "$T/cp")" ]
check "two cosignature lines" \
	[ "$(tail -n 2 "$T/cp12" | grep -c '^— w[12]\.example ')" = 2 ]
cat >"$T/policy" <<EOF
# two of our three witnesses
witness w1 $(cat "$T/w/w1.pub") https://w1.example/
witness w2 $(cat "$T/w/w2.pub")
witness w3 $(cat "$T/w/w3.pub")
group two 2 w1 w2 w3
quorum two
EOF
snapshot before

# ---------------------------------------------------------------------
step "quorum met: the witnesses that cosigned are named"
expect_rc 0 ledger verify --checkpoint "$T/cp12" --witness-policy "$T/policy"
expect_out_match "^ok: contains checkpoint $T/cp12 \\(2 entries\\)\$"
expect_out_match "^ok: checkpoint $T/cp12: witness quorum \"two\" met: cosigned by w1, w2; not by w3\$"
expect_no_err
# a stranger's cosignature is ignored, wherever its line is
expect_rc 0 ledger verify --checkpoint "$T/cp12s" --witness-policy "$T/policy"
expect_out_match 'met: cosigned by w1, w2; not by w3$'
# the independent checker agrees
run python3 "$CHECK" verify "$T/cp12" --log "$(cat "$XDG_CONFIG_HOME/ledger/keys/admin.pub")" \
	--witness "$(cat "$T/w/w1.pub")" --witness "$(cat "$T/w/w2.pub")"
check "cosig_check.py: both cosigned (rc $RC)" [ "$RC" = 0 ]
expect_out "cosigned w1.example 1700000000
cosigned w2.example 1700000000"

step "--json names every witness"
expect_rc 0 ledger verify --json --checkpoint "$T/cp12" --witness-policy "$T/policy"
expect_json ok = true
expect_json_len cosignatures = 1
expect_json cosignatures 0 checkpoint = "$T/cp12"
expect_json cosignatures 0 quorum = two
expect_json cosignatures 0 met = true
expect_json_len cosignatures 0 witnesses = 3
expect_json_len cosignatures 0 witnesses 0 = 4
expect_json cosignatures 0 witnesses 0 name = w1
expect_json cosignatures 0 witnesses 0 key = "$(cat "$T/w/w1.pub")"
expect_json cosignatures 0 witnesses 0 status = cosigned
expect_json cosignatures 0 witnesses 0 time = 1700000000
expect_json cosignatures 0 witnesses 1 status = cosigned
expect_json cosignatures 0 witnesses 2 name = w3
expect_json cosignatures 0 witnesses 2 status = absent
expect_json cosignatures 0 witnesses 2 time = null

step "quorum not met: one line naming the group"
expect_rc 1 ledger verify --checkpoint "$T/cp1" --witness-policy "$T/policy"
expect_one_line_error "^ledger: verify: $T/cp1: witness quorum \"two\" not met: group \"two\" has 1 of the 2 it needs \\(met: w1; not met: w2, w3\\)\$"
# a stranger does not make up for a witness
expect_rc 1 ledger verify --checkpoint "$T/cp1s" --witness-policy "$T/policy"
expect_one_line_error 'has 1 of the 2 it needs'
# no cosignature at all
expect_rc 1 ledger verify --checkpoint "$T/cp" --witness-policy "$T/policy"
expect_one_line_error 'has 0 of the 2 it needs \(met: none; not met: w1, w2, w3\)'
expect_rc 1 ledger verify --json --checkpoint "$T/cp1" --witness-policy "$T/policy"
expect_json ok = false
expect_json cosignatures 0 met = false
expect_json problem = 'witness quorum "two" not met: group "two" has 1 of the 2 it needs (met: w1; not met: w2, w3)'
# a witness as the quorum
printf 'witness w3 %s\nquorum w3\n' "$(cat "$T/w/w3.pub")" >"$T/policy-w3"
expect_rc 1 ledger verify --checkpoint "$T/cp12" --witness-policy "$T/policy-w3"
expect_one_line_error 'witness quorum "w3" not met: witness "w3" did not cosign$'

step "every --checkpoint is checked"
cosign "$T/cp" "$T/cp23" w3 w2
expect_rc 0 ledger verify --checkpoint "$T/cp12" --checkpoint "$T/cp23" --witness-policy "$T/policy"
expect_out_match "^ok: checkpoint $T/cp23: witness quorum \"two\" met: cosigned by w2, w3; not by w1\$"
check "two quorum lines" [ "$(grep -c 'witness quorum' "$OUT")" = 2 ]
expect_rc 1 ledger verify --checkpoint "$T/cp12" --checkpoint "$T/cp1" --witness-policy "$T/policy"
expect_one_line_error "^ledger: verify: $T/cp1: witness quorum"

# --since's checkpoint is one the auditor trusts: the policy asks
# nothing of it, only of the --checkpoint files
expect_rc 0 ledger verify --since "$T/cp" --checkpoint "$T/cp12" --witness-policy "$T/policy"
check "one quorum line, for cp12" [ "$(grep -c 'witness quorum' "$OUT")" = 1 ]
expect_out_match "^ok: checkpoint $T/cp12: witness quorum \"two\" met"
expect_rc 1 ledger verify --since "$T/cp12" --checkpoint "$T/cp1" --witness-policy "$T/policy"
expect_one_line_error "^ledger: verify: $T/cp1: witness quorum \"two\" not met"

step "a bad cosignature by a policy witness refuses the checkpoint"
# w2's line with one bit of its signature flipped (a base64 character
# of its last bytes, all six bits of it data: the last group has two
# characters of padding), w1 and w3 good: quorum met without it
awk '/^— w2\.example / { n = length($3); c = substr($3, n - 9, 1);
	$3 = substr($3, 1, n - 10) (c == "A" ? "B" : "A") substr($3, n - 8) } { print }' \
	"$T/cp12" >"$T/cp12bad"
cosign "$T/cp12bad" "$T/cp123bad" w3
check "one w2 line" [ "$(grep -c '^— w2' "$T/cp123bad")" = 1 ]
check "not the one w2 made" [ "$(grep '^— w2' "$T/cp12")" != "$(grep '^— w2' "$T/cp123bad")" ]
expect_rc 1 ledger verify --checkpoint "$T/cp123bad" --witness-policy "$T/policy"
expect_one_line_error 'the cosignature of witness "w2" \(key w2\.example\) does not verify$'
run "$COSIGN" --verify "$(cat "$T/w/w2.pub")" <"$T/cp123bad"
check "ldg_cosign agrees (rc $RC)" [ "$RC" = 1 ]
run python3 "$CHECK" verify "$T/cp123bad" --log "$(cat "$XDG_CONFIG_HOME/ledger/keys/admin.pub")" \
	--witness "$(cat "$T/w/w2.pub")"
check "cosig_check.py agrees (rc $RC)" [ "$RC" = 1 ]
expect_out "bad w2.example"
# the same line by a witness outside the policy is ignored
printf 'witness w1 %s\nwitness w3 %s\ngroup g all w1 w3\nquorum g\n' \
	"$(cat "$T/w/w1.pub")" "$(cat "$T/w/w3.pub")" >"$T/policy-13"
expect_rc 0 ledger verify --checkpoint "$T/cp123bad" --witness-policy "$T/policy-13"
expect_out_match 'met: cosigned by w1, w3$'

step "a cosignature made by the independent implementation"
python3 "$CHECK" cosign --seed "$(seed 33)" --name w3.example --time 1700000123 \
	<"$T/cp1" >"$T/cp1py" || fail "cosig_check.py cosign"
# (w3's seed: the same key as ldg_cosign's w3)
expect_rc 0 ledger verify --json --checkpoint "$T/cp1py" --witness-policy "$T/policy-13"
expect_json ok = true
expect_json cosignatures 0 witnesses 1 time = 1700000123

step "a quorum does not stand in for the log's signature"
# our origin, size and root, signed by a key outside the keyring, then
# cosigned: the witnesses are named, the ledger's check refuses it
python3 "$CHECK" checkpoint --seed "$(seed 55)" --name intruder.example \
	--origin example.com/deploy/witnessed --size 2 --root "$(sed -n 3p "$T/cp")" \
	>"$T/intruder" || fail "cosig_check.py checkpoint"
cosign "$T/intruder" "$T/intruder12" w1 w2
expect_rc 1 ledger verify --json --checkpoint "$T/intruder12" --witness-policy "$T/policy"
expect_json ok = false
expect_json cosignatures 0 met = true
expect_rc 1 ledger verify --checkpoint "$T/intruder12" --witness-policy "$T/policy"
expect_one_line_error "^ledger: verify: $T/intruder12: checkpoint of size 2 is not signed by a key of this ledger\$"

step "malformed policies: exit 2, one line with the line number"
bad_policy() { # bad_policy ERE: $T/bad refused
	expect_rc 2 ledger verify --checkpoint "$T/cp12" --witness-policy "$T/bad"
	expect_one_line_error "^ledger: verify: $T/bad: $1"
	expect_no_out
}
printf 'witness w1 %s\ngroup g 1 w1 w9\nquorum g\n' "$(cat "$T/w/w1.pub")" >"$T/bad"
bad_policy 'line 2: unknown name "w9"'
printf '# two\n\nwitness w1 %s\ngroup g 2 w1\nquorum g\n' "$(cat "$T/w/w1.pub")" >"$T/bad"
bad_policy 'line 4: group "g": threshold 2 is not 1\.\.1'
printf 'witness w1 %s\nwitness w1 %s\nquorum w1\n' "$(cat "$T/w/w1.pub")" "$(cat "$T/w/w2.pub")" >"$T/bad"
bad_policy 'line 2: the name "w1" is defined already \(line 1\)'
printf 'group a any b\ngroup b any a\nquorum a\n' >"$T/bad"
bad_policy 'line 1: unknown name "b"'
printf 'witness w1 %s\n' "$(cat "$T/w/w1.pub")" >"$T/bad"
bad_policy 'no quorum line$'
printf 'witness w1 %s\nquorum w1\n' "$(cat "$XDG_CONFIG_HOME/ledger/keys/admin.pub")" >"$T/bad"
bad_policy 'line 1: witness "w1": '
printf 'witness w1 %s\nquorum w1\x1b[31m\n' "$(cat "$T/w/w1.pub")" >"$T/bad"
bad_policy 'line 2: control character 0x1b'
expect_rc 2 ledger verify --checkpoint "$T/cp12" --witness-policy "$T/nothing"
expect_one_line_error "$T/nothing"
expect_rc 2 ledger verify --checkpoint "$T/cp12" --witness-policy "$T"
expect_one_line_error "$T"
mkfifo "$T/fifo"
expect_rc 2 timeout 60 "$LEDGER" verify --checkpoint "$T/cp12" --witness-policy "$T/fifo"
expect_one_line_error 'fifo: is a FIFO, not a regular file$'
expect_rc 2 ledger verify --witness-policy "$T/policy"
expect_one_line_error '--witness-policy needs a --checkpoint'
expect_rc 2 ledger verify --checkpoint "$T/cp12" --witness-policy "$T/policy" --witness-policy "$T/policy"
expect_one_line_error 'given twice'
assert_unchanged before

step "ledger tiles publishes a cosigned checkpoint as it is"
expect_rc 0 ledger tiles "$T/tiles" --checkpoint "$T/cp12s"
check "DIR/checkpoint = the cosigned note" cmp -s "$T/tiles/checkpoint" "$T/cp12s"
expect_rc 0 ledger verify --checkpoint "$T/tiles/checkpoint" --witness-policy "$T/policy"

# ---------------------------------------------------------------------
step "serve publishes the cosigned checkpoint verbatim"
start_server
http 404 /tlog/checkpoint
http 201 /api/v1/checkpoint -H 'Content-Type: text/plain' --data-binary @"$T/cp12s"
expect_json size = 2
http 200 /api/v1/checkpoint
check "GET /api/v1/checkpoint: byte for byte" cmp -s "$OUT" "$T/cp12s"
http 200 /tlog/checkpoint
check "GET /tlog/checkpoint: byte for byte" cmp -s "$OUT" "$T/cp12s"
check "as text" [ "$(header Content-Type)" = "text/plain; charset=utf-8" ]
check "not cached for long" [ "$(header Cache-Control)" = no-cache ]
check "kept beside the ledger" cmp -s "$LEDGER_DIR/checkpoint" "$T/cp12s"
# what a client fetches still meets the policy
curl -sS "$BASE/tlog/checkpoint" >"$T/fetched" || fail "curl"
expect_rc 0 ledger verify --checkpoint "$T/fetched" --witness-policy "$T/policy"
# the same size with more cosignatures replaces it
cosign "$T/cp12s" "$T/cp123s" w3
http 201 /api/v1/checkpoint -H 'Content-Type: text/plain' --data-binary @"$T/cp123s"
http 200 /tlog/checkpoint
check "the one with three cosignatures" cmp -s "$OUT" "$T/cp123s"
stop_server TERM
start_server
http 200 /tlog/checkpoint
check "kept across a restart" cmp -s "$OUT" "$T/cp123s"

step "ledger --remote checkpoint publishes what it made"
expect_rc 0 ledger set staging/api image.tag=v2 -m "two"
expect_rc 0 ledger --remote "$BASE" checkpoint -o "$T/cp3"
http 200 /tlog/checkpoint
check "served = made" cmp -s "$OUT" "$T/cp3"
stop_server TERM
check "the ledger verifies" [ "$(head_seq)" = 3 ]

# ---------------------------------------------------------------------
step "end to end: two ledger witnesses cosign, serve publishes, the policy holds"
WITNESS_PIDS=()
# start_witness NAME: `ledger witness` on a free loopback port with the
# key $T/wk/NAME.example.key; sets URL_NAME
start_witness() {
	"$LEDGER" witness --listen 127.0.0.1:0 --key "$T/wk/$1.example.key" \
		--logs "$T/logs" --db "$T/$1.db" >"$T/$1.out" 2>"$T/$1.err" &
	WITNESS_PIDS+=($!)
	wait_for grep -q '^listening on http://127\.0\.0\.1:[0-9]' "$T/$1.out" ||
		fail "witness $1 did not start: $(cat "$T/$1.err")"
	eval "URL_$1=$(sed -n 's/^listening on //p' "$T/$1.out")"
	ok
}
for w in ew1 ew2 ew3; do
	expect_rc 0 ledger keygen --witness "$w.example" --dir "$T/wk"
done
printf 'log example.com/deploy/witnessed %s\n' \
	"$(cat "$XDG_CONFIG_HOME/ledger/keys/admin.pub")" >"$T/logs"
start_witness ew1
start_witness ew2
{
	printf 'witness ew1 %s %s\n' "$(cat "$T/wk/ew1.example.pub")" "$URL_ew1"
	printf 'witness ew2 %s %s\n' "$(cat "$T/wk/ew2.example.pub")" "$URL_ew2"
	printf 'witness ew3 %s\n' "$(cat "$T/wk/ew3.example.pub")"
	printf 'group g 2 ew1 ew2 ew3\nquorum g\n'
} >"$T/policy-e2e"
start_server
expect_rc 0 ledger --remote "$BASE" checkpoint -o "$T/cpw" \
	--witness "$URL_ew1" --witness "$URL_ew2"
check "two cosignature lines" [ "$(grep -c '^— ew[12]\.example ' "$T/cpw")" = 2 ]
http 200 /tlog/checkpoint
check "served = cosigned" cmp -s "$OUT" "$T/cpw"
cp "$OUT" "$T/cpw-served"
expect_rc 0 ledger verify --checkpoint "$T/cpw-served" --witness-policy "$T/policy-e2e"
expect_out_match 'witness quorum "g" met: cosigned by ew1, ew2; not by ew3$'
# one witness is not enough for this policy
expect_rc 0 ledger set staging/api image.tag=v3 -m "three"
expect_rc 0 ledger checkpoint -o "$T/cpw1" --witness "$URL_ew1"
expect_rc 1 ledger verify --checkpoint "$T/cpw1" --witness-policy "$T/policy-e2e"
expect_one_line_error 'group "g" has 1 of the 2 it needs \(met: ew1; not met: ew2, ew3\)$'
stop_server TERM
for pid in "${WITNESS_PIDS[@]}"; do
	kill -TERM "$pid"
	wait "$pid" || fail "a witness exited $? after SIGTERM"
done
WITNESS_PIDS=()
check "the ledger verifies" [ "$(head_seq)" = 4 ]

finish
