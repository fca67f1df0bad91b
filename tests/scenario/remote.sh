#!/bin/bash
# remote.sh - `ledger --remote URL` against `ledger serve` on a free
# loopback port: remote set/unset/lock/unlock leave the same state as the
# same commands run locally; what travels is only the signed entry bytes
# (a recording proxy keeps every POST body, each must equal the stored
# entry, and no key material); an unauthorised signer and a locked target
# exit 1 with nothing written; forged, garbled and stale POSTs are 400 and
# 409 with nothing written; 16 concurrent remote writers x 200 appends end
# with 3200 more contiguous entries that verify, every seq a writer
# printed among them once (the 409 retry at work).
. "$(dirname "$0")/lib.sh"
need curl python3 xxd

. "$(dirname "$0")/lib_serve.sh"

init_ledger example.com/deploy/remote
new_key deployer
new_key outsider
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope 'staging/*' -m "deployer"
start_server
start_proxy

# The same writes through the proxy and on a local twin ledger made with
# the same key and origin; the states must match.
step "remote writes match local ones"
TWIN=$T/twin
expect_rc 0 ledger --ledger "$TWIN" init --origin example.com/deploy/remote
expect_rc 0 ledger --ledger "$TWIN" key add "$T/keys/deployer.pub" \
	--role deployer --scope 'staging/*' -m "deployer"
writes() {
	# $1: the global options ("--remote URL" or "--ledger DIR")
	expect_rc 0 ledger $1 set staging/api image.tag=v1 replicas=2 -m one \
		--meta pr=7
	expect_rc 0 ledger $1 set staging/api image.tag=v1 -m same
	expect_err_match 'already has these values; nothing written'
	expect_rc 0 ledger $1 set staging/web image.tag=w1 -m two \
		--key "$T/keys/deployer.key"
	expect_rc 0 ledger $1 lock staging/api -m freeze
	expect_rc 1 ledger $1 set staging/api image.tag=v2 -m blocked
	# the same line locally and remotely: the server states the lock,
	# each CLI adds its own advice
	expect_one_line_error '^ledger: set: staging/api: target is locked since seq [0-9]+ \(reason: "freeze"\); unlock it or use --force$'
	expect_rc 0 ledger $1 set staging/api image.tag=v3 -m forced --force
	expect_rc 0 ledger $1 unlock staging/api -m thaw
	expect_rc 0 ledger $1 unset staging/api replicas -m drop
	expect_rc 0 ledger $1 unset staging/api nope -m none
	expect_err_match 'nothing written'
}
writes "--remote $PROXY"
writes "--ledger $TWIN"
expect_rc 0 ledger state --json
jq_state() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["targets"], sort_keys=True))' "$1"; }
cp "$OUT" "$T/remote.json"
expect_rc 0 ledger --ledger "$TWIN" state --json
cp "$OUT" "$T/local.json"
check "remote and local states are the same" \
	[ "$(jq_state "$T/remote.json")" = "$(jq_state "$T/local.json")" ]
expect_rc 0 ledger log --json
python3 -c 'import json,sys; print([ (e["kind"], e["target"]) for e in json.load(open(sys.argv[1]))])' "$OUT" >"$T/remote.kinds" 2>/dev/null || cp "$OUT" "$T/remote.kinds"
expect_rc 0 ledger --ledger "$TWIN" log --json
python3 -c 'import json,sys; print([ (e["kind"], e["target"]) for e in json.load(open(sys.argv[1]))])' "$OUT" >"$T/local.kinds" 2>/dev/null || cp "$OUT" "$T/local.kinds"
check "the same kinds of entries on the same targets" \
	cmp -s "$T/remote.kinds" "$T/local.kinds"
expect_rc 0 ledger verify

step "only the signed entry bytes travel"
n=$(ls "$T"/bodies/*.bin | wc -l)
check "seven POSTs were made, one refused as locked (got $n)" [ "$n" -eq 7 ]
absent() { ! grep -qaF -- "$1" "$2"; }
seeds=$(for k in "$T"/keys/*.key "$KEYS"/*.key; do cut -d+ -f5 "$k" | cut -c1-16; done)
check "three private keys to look for" [ "$(echo "$seeds" | wc -w)" -eq 3 ]
for b in "$T"/bodies/*.bin; do
	j=${b%.bin}.json
	seq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("seq", ""))' "$j")
	if [ -z "$seq" ]; then
		check "the refused POST was the locked one" grep -q 'locked' "$j"
		continue
	fi
	curl -s -H 'Accept: application/msgpack' "$BASE/api/v1/entries/$seq" >"$T/stored.bin"
	check "POST body $b is exactly stored entry $seq" cmp -s "$b" "$T/stored.bin"
	for s in $seeds; do
		check "no private key text in $b" absent "$s" "$b"
	done
done

step "remote rollback matches a local one"
# seqs match on both ledgers: 3 is the first set of staging/api, and
# staging/web had no entries yet (all its keys are unset)
rollbacks() {
	expect_rc 0 ledger $1 rollback staging/api --to 3 -m back --meta pr=9
	expect_out_match "^[0-9]+ [0-9a-f]{64}$"
	expect_err_match '^rolled back staging/api$'
	expect_err_match '^locked staging/api$'
	expect_rc 0 ledger $1 rollback staging/web --to 3 -m clear --no-lock
	expect_err_match '^rolled back staging/web$'
	! grep -q '^locked' "$ERR" || fail "--no-lock locked staging/web"
	expect_rc 0 ledger $1 rollback staging/api --to 3 -m again
	expect_err_match 'already as it was at seq 3; nothing written'
}

# same_as_twin WHAT: the remote ledger and the local twin have the same
# state and the same kinds, targets and metadata in their logs
same_as_twin() {
	local f
	for f in remote local; do
		if [ $f = remote ]; then
			expect_rc 0 ledger state --json
		else
			expect_rc 0 ledger --ledger "$TWIN" state --json
		fi
		jq_state "$OUT" >"$T/$f.state"
		if [ $f = remote ]; then
			expect_rc 0 ledger log --json
		else
			expect_rc 0 ledger --ledger "$TWIN" log --json
		fi
		python3 -c 'import json,sys; print([ (e["kind"], e["target"], e.get("metadata")) for e in json.load(open(sys.argv[1]))])' "$OUT" >"$T/$f.kinds"
	done
	check "remote and local states are the same after $1" \
		cmp -s "$T/remote.state" "$T/local.state"
	check "the same kinds, targets and metadata after $1" \
		cmp -s "$T/remote.kinds" "$T/local.kinds"
}
before=$(head_seq)
rollbacks "--remote $BASE"
check "three entries appended remotely" [ "$(head_seq)" -eq $((before + 3)) ]
rollbacks "--ledger $TWIN"
expect_rc 0 ledger show $((before + 1)) --json
expect_json kind = rollback
expect_json metadata rollback-to = 3
expect_json metadata pr = 9
expect_rc 0 ledger show $((before + 2)) --json
expect_json kind = lock
expect_json target = staging/api
expect_rc 0 ledger show $((before + 3)) --json
expect_json kind = rollback
expect_json target = staging/web
same_as_twin "a rollback"
expect_rc 0 ledger unlock staging/api -m thaw
expect_rc 0 ledger --ledger "$TWIN" unlock staging/api -m thaw
before=$(head_seq)
# a whole cluster: one transaction remotely (a batch) and locally; the
# same entries either way
for L in "$LEDGER_DIR" "$TWIN"; do
	expect_rc 0 ledger --ledger "$L" set staging/api image.tag=c9 -m "cluster 1"
	expect_rc 0 ledger --ledger "$L" set staging/web image.tag=c9 -m "cluster 2"
done
expect_rc 0 ledger --remote "$BASE" rollback staging --to 3 -m all
expect_rc 0 ledger --ledger "$TWIN" rollback staging --to 3 -m all
same_as_twin "a cluster rollback"
for L in "$LEDGER_DIR" "$TWIN"; do
	expect_rc 0 ledger --ledger "$L" unlock staging/api -m thaw
	expect_rc 0 ledger --ledger "$L" unlock staging/web -m thaw
done

# one transaction remotely too: a signer that may roll back staging/api
# but not staging/web rolls back neither (before batches, api was)
new_key apionly
chmod 600 "$T"/keys/apionly.key
expect_rc 0 ledger key add "$T/keys/apionly.pub" --role deployer \
	--scope 'staging/api' -m "api only"
expect_rc 0 ledger set staging/api image.tag=b1 -m "batch 1"
expect_rc 0 ledger set staging/web image.tag=b1 -m "batch 2"
before=$(head_seq)
snapshot batch
expect_rc 1 ledger --remote "$BASE" rollback staging --to 3 -m all \
	--key "$T/keys/apionly.key"
expect_one_line_error 'entry [0-9]+: .*staging/web'
assert_unchanged batch
check "nothing of the batch was written" [ "$(head_seq)" -eq "$before" ]
# what a batch body may be: bad_batch PYTHON-BYTES ERE posts those bytes
# and wants a 400 whose error matches
bad_batch() {
	python3 -c "import sys; sys.stdout.buffer.write($1)" >"$T/batch.bin"
	LAST_CMD="curl -X POST (batch $1)"
	expect_error 400 /api/v1/entries "$2" -X POST \
		-H 'Content-Type: application/msgpack' --data-binary @"$T/batch.bin"
}
bad_batch 'b"\x92\xc4\x01\x00\x05"' 'batch item 1 is not an entry'
bad_batch 'b"\xdc\x00\x41" + b"\xc4\x01\x00" * 65' 'a batch of 65 entries: at most 64'
# an item that declares 2^31 elements, or bytes: refused before anything
# is sized by it
bad_batch 'b"\x92\xc4\x01\x00\xdd\x7f\xff\xff\xff"' 'batch item 1 is not an entry'
bad_batch 'b"\x92\xc4\x01\x00\xc6\x7f\xff\xff\xff"' 'batch item 1: 2147483647 bytes, larger than an entry'
bad_batch 'b"\x90"' '^an empty batch$'
bad_batch 'b"\x92\xc4\x01\x00\xc4\x01\x00"' '^entry [0-9]+: '
assert_unchanged batch

# a cluster of 33 targets needs 66 entries: over a batch, refused
# before anything is sent
R0=$(head_seq)
for i in $(seq 1 33); do
	"$LEDGER" set "big/r$i" image.tag=x -m "big $i" >/dev/null ||
		fail "set big/r$i failed"
done
before=$(head_seq)
expect_rc 2 ledger --remote "$BASE" rollback big --to "$R0" -m "too many"
expect_one_line_error '66 entries: a remote write sends at most 64 in one batch'
check "nothing written by the refused batch" [ "$(head_seq)" -eq "$before" ]

before=$(head_seq)
expect_rc 2 ledger --remote "$BASE" rollback staging/api -m x
expect_rc 2 ledger --remote "$BASE" rollback staging/api --to 3
expect_rc 2 ledger --remote "$BASE" rollback staging/nope --to 3 -m x
expect_err_match 'has no entries'
expect_rc 1 ledger --remote "$BASE" rollback staging/api --to 2 -m x \
	--key "$T/keys/outsider.key"
check "nothing written by the refused rollbacks" [ "$(head_seq)" -eq "$before" ]
expect_rc 0 ledger verify

step "unauthorised signers"
before=$(head_seq)
expect_rc 1 ledger --remote "$BASE" set staging/api a=1 -m x \
	--key "$T/keys/outsider.key"
expect_one_line_error
expect_rc 1 ledger --remote "$BASE" set prod/api a=1 -m x \
	--key "$T/keys/deployer.key"
expect_rc 1 ledger --remote "$BASE" lock staging/api -m x \
	--key "$T/keys/outsider.key"
check "nothing written" [ "$(head_seq)" -eq "$before" ]

step "bad input and environment"
expect_rc 2 ledger --remote "$BASE" set 'Bad/target' a=1 -m x
expect_rc 2 ledger --remote "$BASE" set staging/api a=1
expect_rc 2 ledger --remote http://127.0.0.1:1 set staging/api a=1 -m x
expect_err_match 'cannot reach'
expect_rc 2 ledger --remote "$BASE" verify
expect_err_match 'works with set, unset, rollback, lock, unlock, policy, approve, withdraw, pending, freeze, unfreeze and checkpoint only'
LEDGER_REMOTE=$BASE expect_rc 0 ledger set staging/api viaenv=1 -m env
LEDGER_REMOTE=$BASE expect_rc 0 ledger verify
check "nothing else written" [ "$(head_seq)" -eq $((before + 1)) ]

step "forged, garbled and stale POSTs"
before=$(head_seq)
post() { # post FILE [CONTENT-TYPE] -> $T/post.json, prints the status
	curl -s -o "$T/post.json" -w '%{http_code}' \
		-H "Content-Type: ${2:-application/msgpack}" \
		--data-binary @"$1" "$BASE/api/v1/entries"
}
stale=$T/bodies/1.bin
check "a replayed entry is 409" [ "$(post "$stale")" = 409 ]
check "409 names the head" [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["head"]["seq"])' "$T/post.json")" = "$before" ]
printf 'not msgpack' >"$T/junk.bin"
check "junk is 400" [ "$(post "$T/junk.bin")" = 400 ]
: >"$T/empty.bin"
check "an empty body is 400" [ "$(post "$T/empty.bin")" = 400 ]
check "another content type is 415" [ "$(post "$stale" text/plain)" = 415 ]
check "msgpack bytes as JSON are 400" [ "$(post "$stale" application/json)" = 400 ]
head -c $((1024 * 1024 + 10)) /dev/zero >"$T/big.bin"
check "more than 1 MiB is 413" [ "$(post "$T/big.bin")" = 413 ]
check "GET still works after" [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/head")" = 200 ]
# the client's own entry for the head, its last signature byte flipped
# on the way by the proxy: the server must refuse it as malformed
touch "$T/tamper"
expect_rc 2 ledger --remote "$PROXY" set staging/api forge=1 -m probe
expect_one_line_error 'bad signature'
rm "$T/tamper"
check "nothing written by any of them" [ "$(head_seq)" -eq "$before" ]

RPER=${SCN_REMOTE_PER:-200}
step "16 concurrent remote writers x $RPER"
before=$(head_seq)
start=$(date +%s)
pids=()
for w in $(seq 16); do
	(
		for i in $(seq "$RPER"); do
			# A set that lost the race CLT_TRIES times in a row gives
			# up with one line and writes nothing (the counts below
			# prove the nothing); like a user, the writer sends it
			# again. On a loaded 2-core machine one of 3200 did.
			for try in 1 2 3 4 5; do
				rc=0
				"$LEDGER" --remote "$BASE" set staging/load "w$w=$i" \
					-m "writer $w" >>"$T/load.$w.out" 2>"$T/load.$w.last" ||
					rc=$?
				[ "$rc" -eq 0 ] && break
				if [ "$try" -lt 5 ] && [ "$(wc -l <"$T/load.$w.last")" -eq 1 ] &&
					grep -q 'the head kept moving; gave up after' "$T/load.$w.last"; then
					echo "writer $w append $i" >>"$T/load.gaveup"
					continue
				fi
				cat "$T/load.$w.last" >>"$T/load.$w.err"
				echo "writer $w append $i: exit $rc" >>"$T/load.fail"
				break
			done
		done
	) &
	pids+=($!)
done
wait "${pids[@]}"
kill -0 "$SERVER_PID" || fail "the server died"
check "no writer failed: $(head -3 "$T/load.fail" 2>/dev/null; cat "$T"/load.*.err 2>/dev/null | sort | uniq -c | head -3)" [ ! -s "$T/load.fail" ]
check "$((16 * RPER)) entries appended (head $(head_seq), was $before)" \
	[ "$(head_seq)" -eq $((before + 16 * RPER)) ]
# every writer printed "SEQ HASH" per append: together exactly the 16 x RPER
# new seqs, each once, none lost and none twice
cat "$T"/load.*.out | awk '{ print $1 }' | sort -n >"$T/load.seqs"
seq $((before + 1)) $((before + 16 * RPER)) >"$T/want.seqs"
check "the printed seqs are exactly $((before + 1))..$((before + 16 * RPER))" \
	cmp -s "$T/load.seqs" "$T/want.seqs"
expect_rc 0 ledger verify
expect_rc 0 ledger get staging/load --json
for w in $(seq 16); do
	check "writer $w's last value is there" [ "$(jget "$OUT" values "w$w")" = "$RPER" ]
done
echo "16 x $RPER remote appends in $(( $(date +%s) - start )) s; $(cat "$T/load.gaveup" 2>/dev/null | wc -l) given up and sent again"

finish
