#!/bin/bash
# display.sh - characters that make a terminal show text other than it is
# (Unicode's Bidi_Control set and the line/paragraph separators U+2028,
# U+2029; docs/format.md section 14): refused in new values, reasons and
# metadata (exit 2, one line, the ledger byte-for-byte unchanged); and,
# in entries an older version could have written (tests/tools/old_writer),
# named as "<U+202E>" in every text table (show, history, log, status,
# state, diff) while JSON and `get` carry the exact bytes, and the ledger
# still verifies.
. "$(dirname "$0")/lib.sh"
need mdb_dump
[ -n "${OLD_WRITER:-}" ] && [ -x "$OLD_WRITER" ] || skip "OLD_WRITER not built"

# every display control, as UTF-8
CONTROLS=(
	$'\xd8\x9c' $'\xe2\x80\x8e' $'\xe2\x80\x8f'
	$'\xe2\x80\xaa' $'\xe2\x80\xab' $'\xe2\x80\xac' $'\xe2\x80\xad'
	$'\xe2\x80\xae' $'\xe2\x81\xa6' $'\xe2\x81\xa7' $'\xe2\x81\xa8'
	$'\xe2\x81\xa9' $'\xe2\x80\xa8' $'\xe2\x80\xa9'
)
NAMES=(061C 200E 200F 202A 202B 202C 202D 202E 2066 2067 2068 2069 2028 2029)
RLO=$'\xe2\x80\xae'
LS=$'\xe2\x80\xa8'

init_ledger example.com/deploy/display
run ledger set staging/api image.tag=v1 -m "first"
[ "$RC" -eq 0 ] || fail "set failed"

refused() {
	snapshot ref
	local i
	for i in "${!CONTROLS[@]}"; do
		c=${CONTROLS[$i]}
		expect_rc 2 ledger set staging/api "image.tag=v1${c}2" -m x
		expect_one_line_error "invalid value: U\+${NAMES[$i]} at byte 2 is a (bidi|line-break) control"
		expect_no_out
		expect_rc 2 ledger set staging/api image.tag=v2 -m "why${c}not"
		expect_one_line_error "invalid reason: U\+${NAMES[$i]} at byte 3"
		expect_rc 2 ledger set staging/api image.tag=v2 -m x --meta "pr=1${c}"
		expect_one_line_error "metadata pr: invalid value: U\+${NAMES[$i]}"
	done
	expect_rc 2 ledger unset staging/api image.tag -m "a${RLO}b"
	expect_one_line_error 'invalid reason: U\+202E'
	expect_rc 2 ledger lock staging/api -m "a${LS}b"
	expect_one_line_error 'invalid reason: U\+2028 at byte 1 is a line-break control'
	expect_rc 2 ledger rollback staging/api --to 2 -m "a${RLO}b"
	expect_one_line_error 'invalid reason: U\+202E'
	expect_rc 2 ledger key revoke admin -m "a${RLO}b"
	expect_one_line_error 'invalid reason: U\+202E'
	assert_unchanged ref
	# look-alikes that are not controls stay accepted: U+200B, U+2060,
	# Arabic and Hebrew letters (their direction is the terminal's)
	expect_rc 0 ledger set staging/api $'note=a\xe2\x80\x8bb\xe2\x81\xa0c \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d' -m $'\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85'
	expect_out_match '^3 '
}
section "refused in new values, reasons and metadata" refused

old_entries() {
	# what an older writer could have stored: the value reads
	# "v1.2.3" followed by an RLO that flips the rest of the line
	local v="safe${RLO}evil" why="ok${LS}forged line" seq
	seq=$("$OLD_WRITER" "$LEDGER_DIR" "$KEYS/admin.key" prod/web \
		"image.tag=$v" "$why" "pr=7${RLO}1") || fail "old_writer failed"
	check "old_writer wrote entry 4" [ "$seq" = 4 ]
	expect_rc 0 ledger verify
	expect_out_match '^ok: 4 entries'
	for cmd in "show 4" "history prod/web" "log" "status" "state" \
		"diff 3 4"; do
		# shellcheck disable=SC2086
		expect_rc 0 ledger $cmd
		if grep -q -e "$RLO" -e "$LS" "$OUT"; then
			fail "ledger $cmd printed a raw display control"
		fi
		ok
		expect_out_match 'safe<U\+202E>evil'
	done
	for cmd in "show 4" "history prod/web" "log"; do
		# shellcheck disable=SC2086
		expect_rc 0 ledger $cmd
		expect_out_match 'ok<U\+2028>forged line'
	done
	expect_rc 0 ledger show 4
	expect_out_match '^  pr = 7<U\+202E>1$'
	expect_rc 0 ledger status
	expect_out_match '^prod/web +image.tag=safe<U\+202E>evil +admin +[-0-9T:]+ +ok<U\+2028>forged line +- +never applied$'
	# the table's columns are still aligned: the escaped row's SET BY
	# column starts where the header's does
	local col
	col=$(head -n1 "$OUT" | awk '{ print index($0, "SET BY") }')
	check "status columns aligned" [ "$(grep '^prod/web' "$OUT" | cut -c"$col"-$((col + 4)))" = admin ]
	# data stays exact: get, JSON
	expect_rc 0 ledger get prod/web image.tag
	expect_out "$v"
	expect_rc 0 ledger show 4 --json
	check "show --json carries the exact reason" \
		[ "$(jget "$OUT" reason)" = "$why" ]
}
section "old entries escaped in text, exact in data" old_entries

finish
