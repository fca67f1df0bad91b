#!/usr/bin/env bash
# The mounted view (ledger mount): every file against the CLI's answers,
# typed values' files, sizes, mtimes and inodes, EROFS on every write,
# live updates, history trees, torn-read safety, errors, ledgers the
# daemon cannot open (one line, exit 2, nothing mounted), foreground
# stop, and memory while listing a 100,000-entry ledger. Really mounts; skips only without
# /dev/fuse or fusermount3.
. "$(dirname "$0")/lib.sh"

[ -c /dev/fuse ] || skip "/dev/fuse is absent: cannot mount FUSE here"
need fusermount3 mdb_dump

trap unmount_all EXIT

umount_at() {
	fusermount3 -u "$1" || fail "fusermount3 -u $1 failed"
	ok
}

M=$T/mnt

setup_ledger() {
	init_ledger example.com/deploy/mount
	ledger set staging/api image.tag=3f2a9c1 replicas=2 -m "PR #41" >/dev/null
	ledger set staging/web image.tag=v1 -m "web" >/dev/null
	ledger set staging/api image.tag=8d1e4b2 -m "PR #42" --meta pr=42 >/dev/null
	ledger set prod/api image.tag=3f2a9c1 resources.limits.cpu=500m -m "promote" >/dev/null
	ledger rollback staging/api --to 2 -m "8d1e4b2 breaks checkout" >/dev/null
}

files_match_cli() {
	step "every file matches the CLI"
	run cat "$M/HEAD"
	# init, four sets, then the rollback (6) and its lock (7)
	expect_out "7 $(ledger show 7 --json | jget /dev/stdin hash)"
	run ls "$M"
	expect_out "$(printf 'HEAD\nat\nclusters\nentries\nkeys\npending\npolicies')"
	run ls "$M/clusters"
	expect_out "$(printf 'prod\nstaging')"
	run ls "$M/clusters/staging"
	expect_out "$(printf 'api\nweb')"
	run ls "$M/clusters/staging/api"
	expect_out "$(printf 'LOCKED\nhistory\nimage.tag\nreplicas\nvalues.yaml')"
	run cat "$M/clusters/staging/api/image.tag"
	expect_out "$(ledger get staging/api image.tag)"
	run cat "$M/clusters/staging/api/LOCKED"
	expect_out "8d1e4b2 breaks checkout"
	run cat "$M/clusters/staging/api/history"
	expect_out "$(ledger history staging/api)"
	run cat "$M/clusters/prod/api/values.yaml"
	expect_out "$(printf 'image:\n  tag: "3f2a9c1"\nresources:\n  limits:\n    cpu: "500m"')"
	for seq in 1 2 3 4 5 6 7; do
		run cat "$M/entries/$seq"
		expect_out "$(ledger show $seq)"
		run cat "$M/entries/$seq.json"
		expect_out "$(ledger show $seq --json)"
	done
	run cat "$M/keys/admin.pub"
	expect_out "$(cat "$KEYS/admin.pub")"
	run cat "$M/entries/8"
	check "entries/8 must not exist yet" [ "$RC" -ne 0 ]
	run cat "$M/clusters/staging/api/nosuchkey"
	check "a missing key is ENOENT" [ "$RC" -ne 0 ]
}

sizes_mtimes_inodes() {
	step "sizes, mtimes and inodes"
	local f n sz t want
	while IFS= read -r f; do
		sz=$(stat -c %s "$f")
		n=$(wc -c <"$f")
		[ "$sz" = "$n" ] || fail "$f: stat size $sz but cat gives $n bytes"
		ok
	done < <(find "$M/clusters" "$M/entries" "$M/keys" "$M/HEAD" -type f)
	# image.tag of staging/api last changed at seq 6 (the rollback)
	want=$(ledger show 6 --json | jget /dev/stdin time_ns)
	t=$(stat -c %Y "$M/clusters/staging/api/image.tag")
	check "mtime of image.tag is seq 6's time" [ "$t" = "$((want / 1000000000))" ]
	want=$(ledger show 2 --json | jget /dev/stdin time_ns)
	t=$(stat -c %Y "$M/entries/2")
	check "mtime of entries/2 is its time" [ "$t" = "$((want / 1000000000))" ]
	local i1 i2
	i1=$(stat -c %i "$M/clusters/staging/api/replicas")
	i2=$(stat -c %i "$M/clusters/staging/api/replicas")
	check "inode numbers are stable" [ "$i1" = "$i2" ]
	check "distinct files have distinct inodes" \
		[ "$i1" != "$(stat -c %i "$M/clusters/staging/api/image.tag")" ]
	INO_REPLICAS=$i1
	run ls -i "$M/clusters/staging/api"
	expect_out_match "^ *$i1 replicas$"
}

writes_refused() {
	step "every write is EROFS and nothing reaches the ledger"
	snapshot ro
	local f=$M/clusters/staging/api/image.tag
	for cmd in "touch $M/new" "mkdir $M/clusters/x" "rm -f $f" \
		"mv $f $f.2" "chmod 600 $f" "truncate -s 0 $f" \
		"ln -s $f $M/link" "ln $f $M/hard" "cp /etc/hostname $M/clusters/" \
		"rmdir $M/at" "setfattr -n user.x -v 1 $f"; do
		if [[ $cmd == setfattr* ]] && ! command -v setfattr >/dev/null; then
			continue
		fi
		run bash -c "$cmd"
		[ "$RC" -ne 0 ] || fail "\"$cmd\" succeeded on the read-only mount"
		grep -q "Read-only file system" "$ERR" ||
			fail "\"$cmd\" did not fail with EROFS"
		ok
	done
	run bash -c "echo hacked > $f"
	check "a write by redirection fails" [ "$RC" -ne 0 ]
	expect_err_match "Read-only file system"
	assert_unchanged ro
}

live_updates() {
	step "a set appears under clusters/ and HEAD"
	local start
	ledger set staging/web image.tag=v2 -m "web v2" >/dev/null
	start=$(date +%s%N)
	wait_for eval '[ "$(cat "$M/clusters/staging/web/image.tag")" = v2 ] &&
		[ "$(cut -d" " -f1 "$M/HEAD")" = 8 ]' ||
		fail "the new value was not visible after ${SCN_WAIT:-30} s"
	ok
	echo "visible after $((($(date +%s%N) - start) / 1000000)) ms"
	ledger set staging/new image.tag=n1 -m "a new release" >/dev/null
	# the kernel caches a directory's entries for a second: poll, not
	# sleep, so a slow machine waits as long as it needs
	wait_for eval '[ -e "$M/clusters/staging/new" ]' ||
		fail "staging/new did not appear after ${SCN_WAIT:-30} s"
	run ls "$M/clusters/staging"
	expect_out "$(printf 'api\nnew\nweb')"
	ledger unlock staging/api -m "fixed" >/dev/null
	wait_for eval '! ls "$M/clusters/staging/api" | grep -qx LOCKED' ||
		fail "LOCKED still listed after ${SCN_WAIT:-30} s"
	run ls "$M/clusters/staging/api"
	expect_out_nomatch '^LOCKED$'
}

history_trees() {
	step "at/SEQ trees"
	run diff -r "$M/at/2" "$M/at/4"
	check "diff -r at/2 at/4 finds differences" [ "$RC" -eq 1 ]
	expect_out_match '^< 3f2a9c1$'
	expect_out_match '^> 8d1e4b2$'
	run cat "$M/at/4/clusters/staging/api/image.tag"
	expect_out "8d1e4b2"
	run cat "$M/at/2/clusters/staging/api/image.tag"
	expect_out "$(ledger get staging/api image.tag --at 2)"
	run ls "$M/at/2/clusters"
	expect_out "staging"
	run cat "$M/at/7/clusters/staging/api/LOCKED"
	expect_out "8d1e4b2 breaks checkout"
	# the same rows as `ledger history` up to seq 4 (columns are as wide
	# as their widest cell, so compare with spaces squeezed)
	run cat "$M/at/4/clusters/staging/api/history"
	check "history as of seq 4" [ "$(tr -s ' ' <"$OUT")" = \
		"$(ledger history staging/api | head -3 | tr -s ' ')" ]
	run find "$M/at/3" -type f
	check "find lists at/3's 7 files" [ "$(out_lines)" -eq 7 ]
	run grep -rl 3f2a9c1 "$M/clusters"
	expect_out_match 'clusters/prod/api/image.tag$'
	run ls "$M/at/999"
	check "at/999 beyond the head does not exist" [ "$RC" -ne 0 ]
}

torn_reads() {
	step "a reader never sees a torn values.yaml"
	local i bad=0
	(
		for i in $(seq 1 40); do
			ledger set prod/api image.tag=t$i resources.limits.cpu=${i}m \
				-m "pair $i" >/dev/null || exit 1
		done
	) &
	local writer=$!
	while kill -0 "$writer" 2>/dev/null; do
		local y tag cpu
		y=$(cat "$M/clusters/prod/api/values.yaml")
		tag=$(printf '%s\n' "$y" | sed -n 's/^  tag: "t\{0,1\}\(.*\)"$/\1/p')
		cpu=$(printf '%s\n' "$y" | sed -n 's/^    cpu: "\(.*\)m"$/\1/p')
		[ "$tag" = 3f2a9c1 ] && [ "$cpu" = 500 ] && continue
		[ "$tag" = "$cpu" ] || { echo "torn: $y"; bad=1; }
	done
	wait "$writer" || fail "the writer failed"
	check "values.yaml was always one state" [ "$bad" -eq 0 ]
}

remount_inodes() {
	step "inodes survive a remount"
	umount_at "$M"
	mount_at "$M"
	check "same inode after remount" \
		[ "$(stat -c %i "$M/clusters/staging/api/replicas")" = "$INO_REPLICAS" ]
}

mount_errors() {
	step "mount refuses bad places with one line, exit 2"
	expect_rc 2 ledger mount "$T/nowhere"
	expect_one_line_error
	: >"$T/afile"
	expect_rc 2 ledger mount "$T/afile"
	expect_one_line_error "not a directory"
	expect_rc 2 ledger mount "$M"
	expect_one_line_error "already mounted"
	mkdir -p "$T/m2"
	expect_rc 2 ledger --ledger "$T/no-ledger" mount "$T/m2"
	expect_one_line_error "no ledger"
	expect_rc 2 ledger mount
	expect_one_line_error
}

# refused_mount DIR ERE [ARGS]: `ledger --ledger DIR mount ARGS M2` exits
# 2 with one line matching ERE, and nothing is mounted or left running
refused_mount() {
	local dir=$1 ere=$2 m=$T/m2
	shift 2
	mkdir -p "$m"
	expect_rc 2 ledger --ledger "$dir" mount "$@" "$m"
	expect_one_line_error "^ledger: mount: .*$ere"
	check "nothing mounted on $m" bash -c "! mountpoint -q '$m'"
	check "no daemon left for $dir" no_daemon "$dir"
}

no_daemon() {
	! pgrep -f -- "ledger --ledger $1 mount" >/dev/null
}

bad_ledgers() {
	step "a ledger the daemon cannot open: one line, exit 2, no mount"
	export LEDGER_DIR=$T/ledger-bad
	expect_rc 0 ledger init --origin example.com/deploy/bad
	local bad=$T/bad
	# not an LMDB file
	mkdir -p "$bad/garbage"
	head -c 8192 /dev/urandom >"$bad/garbage/data.mdb"
	refused_mount "$bad/garbage" "File is not an LMDB file"
	refused_mount "$bad/garbage" "File is not an LMDB file" -f
	# an LMDB environment that is not a ledger
	mdb_dump -s meta "$LEDGER_DIR" >"$T/meta.dump" || fail "mdb_dump"
	mkdir -p "$bad/other"
	mdb_load -s meta -f "$T/meta.dump" "$bad/other" || fail "mdb_load"
	refused_mount "$bad/other" "is not a ledger \\(database \"entries\" missing\\)"
	# every database of a ledger, but no origin: not initialised (a copy
	# with the key deleted by ldg_tamper: an mdb_dump | mdb_load of it
	# twice came out cut short under load, "unexpected end of input")
	mkdir -p "$bad/noorigin"
	cp "$LEDGER_DIR/data.mdb" "$bad/noorigin/" || fail "cp data.mdb"
	"$TAMPER" "$bad/noorigin" delkey meta "$(printf origin | od -An -tx1 | tr -d ' \n')" ||
		fail "ldg_tamper delkey meta origin"
	refused_mount "$bad/noorigin" "is not initialised \\(run ledger init\\)"
	# a data.mdb this user may not read (root reads anything)
	if [ "$(id -u)" -ne 0 ]; then
		cp -r "$LEDGER_DIR" "$bad/unreadable"
		chmod 000 "$bad/unreadable/data.mdb"
		refused_mount "$bad/unreadable" "cannot open ledger"
	fi
	# and the good one still mounts, and its daemon answers
	mount_at "$T/m2"
	check "the daemon serves HEAD" grep -Eq '^1 [0-9a-f]{64}$' "$T/m2/HEAD"
	umount_at "$T/m2"
}

foreground_stop() {
	step "foreground mount stops cleanly on SIGTERM"
	local m=$T/fg pid
	mkdir -p "$m"
	"$LEDGER" mount -f "$m" &
	pid=$!
	wait_for mountpoint -q "$m"
	check "foreground mount is up" mountpoint -q "$m"
	check "it serves files" test -s "$m/HEAD"
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	check "exit 0 after SIGTERM (got $rc)" [ "$rc" -eq 0 ]
	check "no stale mount left" bash -c "! mountpoint -q '$m'"
	check "no stale entry in /proc/mounts" bash -c "! grep -q ' $m ' /proc/mounts"
}

big_listing() {
	step "listing 100,000 entries streams in little memory"
	[ -n "${MKLEDGER:-}" ] || skip "MKLEDGER not set"
	local big=$T/big m=$T/bigmnt pid rss n
	# the sanitizer tree builds a smaller one (SCN_MOUNT_BIG): there
	# mkledger signs ten times slower, and the memory is not checked
	local count=${SCN_MOUNT_BIG:-100000}
	run "$MKLEDGER" "$big" "$count" 20
	[ "$RC" -eq 0 ] || fail "mkledger failed"
	mkdir -p "$m"
	expect_rc 0 ledger --ledger "$big" mount "$m"
	pid=$(pgrep -n -f "ledger --ledger $big mount $m")
	n=$(ls "$m/entries" | wc -l)
	check "entries/ lists $((2 * count)) names (got $n)" [ "$n" -eq $((2 * count)) ]
	n=$(ls "$m/at" | wc -l)
	check "at/ lists $count names (got $n)" [ "$n" -eq "$count" ]
	run cat "$m/entries/$count"
	expect_out_match "^seq: +$count\$"
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	echo "daemon peak RSS while listing: $((rss / 1024)) MiB"
	# ASan's shadow memory and quarantine are not the daemon's
	[ -n "${ASAN_OPTIONS:-}" ] ||
		check "daemon peak RSS ${rss} kB < 64 MiB" [ "$rss" -lt 65536 ]
	umount_at "$m"
}

typed_values() {
	step "a typed value's file holds its JSON text; values.yaml types it"
	ledger set staging/flags checkout:=false replicas:=3 'ports:=[80,443]' \
		name=3 -m "typed" >/dev/null 2>&1 || fail "ledger set typed failed"
	wait_for eval '[ -e "$M/clusters/staging/flags/replicas" ]' ||
		fail "staging/flags did not appear after ${SCN_WAIT:-30} s"
	run cat "$M/clusters/staging/flags/replicas"
	expect_out 3
	run cat "$M/clusters/staging/flags/checkout"
	expect_out false
	run cat "$M/clusters/staging/flags/ports"
	expect_out '[80,443]'
	check "the KEY file is ledger get's answer, newline included" \
		[ "$(od -c <"$M/clusters/staging/flags/ports")" = \
			"$(ledger get staging/flags ports | od -c)" ]
	run cat "$M/clusters/staging/flags/name"
	expect_out 3
	run cat "$M/clusters/staging/flags/values.yaml"
	expect_out 'checkout: false
name: "3"
ports: [80, 443]
replicas: 3'
}

main() {
	setup_ledger
	mount_at "$M"
	files_match_cli
	sizes_mtimes_inodes
	writes_refused
	live_updates
	history_trees
	torn_reads
	remount_inodes
	mount_errors
	typed_values
	umount_at "$M"
}

section "mounted view" main
section "foreground" foreground_stop
section "ledgers that cannot be mounted" bad_ledgers
section "big ledger" big_listing
finish
