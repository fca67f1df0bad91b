#!/bin/bash
# state_model.sh - the state at every seq against a model: a seeded,
# pseudo-random run of sets, unsets (including no-ops) and rollbacks on
# targets and keys chosen to sort awkwardly ("a/a" before "a/ab", key
# "a" before "a.b" before "ab"), replayed in a shell model. For every
# seq N, `state --at N`, `get TARGET --at N` and `diff N-1 N` must equal
# what the model says, and every write must print the seq the model
# expects (or nothing, for a no-op).
. "$(dirname "$0")/lib.sh"
need mdb_dump

SEED=${SCN_SEED:-4242}
OPS=${SCN_OPS:-70}
RANDOM=$SEED
TARGETS=(a/a a/ab b/a zz/top)
KEYS_=(a a.b ab z m-1)
VALUES=(v1 v2 v3 "v 4")

declare -A CUR     # "TARGET|KEY" -> value
declare -A WRITTEN # TARGET -> 1 once an entry was written for it
HEAD=1

# model_dump: the expected `ledger state` text for the model now
model_dump() {
	local t k
	for t in $(printf '%s\n' "${TARGETS[@]}" | LC_ALL=C sort); do
		for k in $(printf '%s\n' "${KEYS_[@]}" | LC_ALL=C sort); do
			[ -n "${CUR[$t|$k]+x}" ] && printf '%s %s=%s\n' "$t" "$k" "${CUR[$t|$k]}"
		done
	done
}

# pick_keys N: N distinct keys, space separated
pick_keys() {
	local n=$1 picked=() k
	while [ ${#picked[@]} -lt "$n" ]; do
		k=${KEYS_[RANDOM % ${#KEYS_[@]}]}
		case " ${picked[*]} " in *" $k "*) continue ;; esac
		picked+=("$k")
	done
	echo "${picked[@]}"
}

# expect_write CHANGED: the last write printed HEAD+1 (and HEAD moves on)
# when the model says something changed, else nothing
expect_write() {
	if [ "$1" -gt 0 ]; then
		HEAD=$((HEAD + 1))
		expect_out_match "^$HEAD [0-9a-f]{64}\$"
		check "one entry written" [ "$(out_lines)" -eq 1 ]
	else
		expect_no_out
		expect_err_match 'nothing written'
	fi
	model_dump >"$T/model.$HEAD"
}

init_ledger example.com/deploy/model
model_dump >"$T/model.1"

# do_set N TARGET KEY=VALUE...: a set, in the model and the ledger
do_set() {
	local i=$1 t=$2 kv k v changed=0
	shift 2
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		if [ -z "${CUR[$t|$k]+x}" ] || [ "${CUR[$t|$k]}" != "$v" ]; then
			changed=$((changed + 1))
			CUR[$t|$k]=$v
		fi
	done
	step "op $i: set $t $*"
	expect_rc 0 ledger set "$t" "$@" -m "op $i"
	expect_write "$changed"
	[ "$changed" -eq 0 ] || WRITTEN[$t]=1
}

# do_unset N TARGET KEY...
do_unset() {
	local i=$1 t=$2 k changed=0
	shift 2
	for k in "$@"; do
		if [ -n "${CUR[$t|$k]+x}" ]; then
			changed=$((changed + 1))
			unset "CUR[$t|$k]"
		fi
	done
	step "op $i: unset $t $*"
	expect_rc 0 ledger unset "$t" "$@" -m "op $i"
	expect_write "$changed"
	[ "$changed" -eq 0 ] || WRITTEN[$t]=1
}

# Fixed first: the first record of the versions index ("a/a" 0 "a" 0
# seq) is written after another key of the same target, so the state at
# seq 2 must look past a key whose first version is later.
do_set p1 a/a z=v1
do_set p2 a/a a=v2
do_set p3 a/a a.b=v3
do_set p4 a/ab a=v1

step "a seeded run of $OPS writes (seed $SEED)"
for i in $(seq 1 "$OPS"); do
	t=${TARGETS[RANDOM % ${#TARGETS[@]}]}
	if [ $((RANDOM % 10)) -lt 7 ]; then
		args=()
		for k in $(pick_keys $((1 + RANDOM % 3))); do
			if [ $((RANDOM % 5)) -eq 0 ]; then
				v="u$i"
			else
				v=${VALUES[RANDOM % ${#VALUES[@]}]}
			fi
			args+=("$k=$v")
		done
		do_set "$i" "$t" "${args[@]}"
	else
		do_unset "$i" "$t" $(pick_keys $((1 + RANDOM % 2)))
	fi
	if [ $((i % 10)) -eq 0 ]; then
		expect_rc 0 ledger state
		expect_out "$(cat "$T/model.$HEAD")"
	fi
done

step "rollbacks (--no-lock) to random seqs"
for i in 1 2 3 4 5 6; do
	t=${TARGETS[RANDOM % ${#TARGETS[@]}]}
	to=$((1 + RANDOM % HEAD))
	# the model: the target's keys as at seq $to
	changed=0
	for k in "${KEYS_[@]}"; do
		old=$(awk -v t="$t" -v k="$k" '$1 == t && index($0, t " " k "=") == 1 { print substr($0, length(t " " k "=") + 1) }' "$T/model.$to")
		had=$(awk -v t="$t" -v k="$k" '$1 == t && index($0, t " " k "=") == 1 { print "yes" }' "$T/model.$to")
		if [ -n "$had" ]; then
			if [ -z "${CUR[$t|$k]+x}" ] || [ "${CUR[$t|$k]}" != "$old" ]; then
				changed=$((changed + 1))
				CUR[$t|$k]=$old
			fi
		elif [ -n "${CUR[$t|$k]+x}" ]; then
			changed=$((changed + 1))
			unset "CUR[$t|$k]"
		fi
	done
	step "rollback $i: $t --to $to"
	if [ -z "${WRITTEN[$t]-}" ]; then
		# a target that never had an entry cannot be rolled back
		expect_rc 2 ledger rollback "$t" --to "$to" --no-lock -m "rollback $i"
		expect_one_line_error 'has no entries'
		continue
	fi
	expect_rc 0 ledger rollback "$t" --to "$to" --no-lock -m "rollback $i"
	expect_write "$changed"
	if [ "$changed" -gt 0 ]; then
		expect_rc 0 ledger show "$HEAD" --json
		expect_json kind = rollback
		expect_json metadata rollback-to = "$to"
		expect_json_len changes = "$changed"
	fi
	expect_rc 0 ledger state
	expect_out "$(cat "$T/model.$HEAD")"
done

step "state --at N for every N against the model"
expect_rc 0 ledger verify
expect_out_match "^ok: $HEAD entries, head $HEAD "
for n in $(seq 1 "$HEAD"); do
	# a seq where nothing was written repeats the model of its head
	[ -e "$T/model.$n" ] || fail "no model for seq $n"
	step "state --at $n"
	expect_rc 0 ledger state --at "$n"
	expect_out "$(cat "$T/model.$n")"
	for t in "${TARGETS[@]}"; do
		want=$(awk -v t="$t" '$1 == t { print substr($0, length(t) + 2) }' "$T/model.$n")
		if [ -z "$want" ]; then
			expect_rc 1 ledger get "$t" --at "$n"
		else
			expect_rc 0 ledger get "$t" --at "$n"
			expect_out "$want"
		fi
	done
	if [ "$n" -gt 1 ]; then
		# diff N-1 N against the model, order aside
		run ledger diff $((n - 1)) "$n"
		[ "$RC" -eq 0 ] || fail "diff failed"
		sort "$OUT" >"$T/diff.got"
		join -a1 -a2 -e '(unset)' -o 0,1.2,2.2 -t '|' \
			<(sed 's/ /|/; s/=/|/' "$T/model.$((n - 1))" | awk -F'|' '{ print $1 " " $2 "|" $3 }' | sort -t'|' -k1,1) \
			<(sed 's/ /|/; s/=/|/' "$T/model.$n" | awk -F'|' '{ print $1 " " $2 "|" $3 }' | sort -t'|' -k1,1) |
			awk -F'|' '$2 != $3 { print $1 ": " $2 " -> " $3 }' | sort >"$T/diff.want"
		cmp -s "$T/diff.got" "$T/diff.want" ||
			fail "diff $((n - 1)) $n differs from the model: $(diff "$T/diff.want" "$T/diff.got" | head -5)"
		ok
	fi
done
echo "(seed $SEED: $HEAD entries)"

finish
