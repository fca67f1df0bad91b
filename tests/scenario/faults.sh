#!/bin/bash
# faults.sh - a failure injected into each system call of a write.
#
# Tessera's and Sunlight's bar: every call a write makes can fail, and the
# writer must then fail cleanly or succeed, never lose what it reported.
# For each operation below, one run under strace lists the calls it makes
# (the ones that matter for durability and correctness: FAULT_CALLS),
# numbered per call name; then, for each call site (name, Nth call), the
# operation runs again with that call failed by strace's
# `-e inject=NAME:error=E:when=N`:
#
#   EIO     every call
#   ENOSPC  the calls that allocate or write: write, writev, pwrite64,
#           pwritev, fdatasync, fsync, msync, ftruncate, fallocate
#   EINTR   the calls that can be interrupted: read, pread64, write,
#           writev, pwrite64, fcntl, flock, fdatasync, fsync
#   KILL    SIGKILL delivered as the call is entered (a crash there)
#
# and after each run:
#   - the operation exited 0 and printed what it acknowledges, or it
#     printed one line "ledger: COMMAND: ..." (no control characters) and
#     exited 1 or 2, or it was killed;
#   - every SEQ HASH any run ever printed is in the ledger (a killed or
#     failed run acknowledged nothing it did not print);
#   - `ledger verify` passes;
#   - the next write succeeds and verifies.
#
# Operations: `ledger set`; a remote append (`ledger --remote URL set`)
# with the faults in `ledger serve`'s writer process (strace -p on it, so
# that N counts the calls of the append only); `ledger apply`'s recording
# (the calls after the stand-in helmfile has run); `ledger mirror` (the
# mirror's own process, appending pages). Every call site of `set` and of
# the server's writer runs with every fault; for apply and mirror each
# site gets one of its faults, in turn through the
# call's list, and only the first and the last site of each call run;
# SCN_FAULTS_ALL=1 runs every site with every fault. A table of tried and passed per operation,
# call and fault is printed at the end (docs/threat-model.md keeps the
# exhaustive run's).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_serve.sh"
need strace mdb_dump
# Not in the sanitizer tree: LeakSanitizer refuses to run under ptrace
# (strace), so every traced command fails there, and ASan's runtime
# makes system calls of its own, which would move the counts the faults
# are placed by. The matrix runs in the first tree.
[ -z "${SCN_SANITIZED:-}" ] ||
	skip "the system-call matrix runs in the unsanitized tree"

FIX=$(cd "$(dirname "$0")/fixtures" && pwd)
HEX64='[0-9a-f]{64}'

FAULT_CALLS="openat read pread64 write writev pwrite64 pwritev lseek
fdatasync fsync msync ftruncate fallocate fcntl flock mmap getdents64 close
rename renameat renameat2 mkdir unlink sendto"
NOSPACE_CALLS=" write writev pwrite64 pwritev fdatasync fsync msync ftruncate fallocate "
EINTR_CALLS=" read pread64 write writev pwrite64 sendto fcntl flock fdatasync fsync "
ALL=${SCN_FAULTS_ALL:-}
TRACE_SET=$(echo $FAULT_CALLS | tr ' ' ,)

RESULTS=$T/results
PRINTED=$T/printed
: >"$RESULTS"

# ---- enumerating call sites ----

# sites TRACE [AFTER_ERE]: "NAME N" for each call of FAULT_CALLS in the
# strace output TRACE (one process: no -f), numbered per name from the
# process's first call; only those after the last line matching
# AFTER_ERE (default: the dynamic loader's calls are skipped, up to
# set_robust_list; '' keeps all)
sites() {
	local after=${2-^set_robust_list}
	awk -v calls=" $(echo $FAULT_CALLS) " -v after="$after" '
		NR == FNR { if ($0 ~ after) last = FNR; next }
		match($0, /^[a-z0-9_]+\(/) {
			name = substr($0, 1, RLENGTH - 1)
			if (index(calls, " " name " ") == 0)
				next
			n[name]++
			# anonymous maps are the allocator: running out of memory
			# is another kind of fault (glibc aborts on some)
			if (name == "mmap" && $0 ~ /MAP_ANONYMOUS/)
				next
			if (FNR > last || after == "")
				print name, n[name]
		}' "$1" "$1"
}

# faults_for NAME: the faults tried on a call
faults_for() {
	local f="EIO"
	case $NOSPACE_CALLS in *" $1 "*) f="$f ENOSPC" ;; esac
	case $EINTR_CALLS in *" $1 "*) f="$f EINTR" ;; esac
	echo "$f KILL"
}

# faults_run OP I NAME: the faults tried at the Ith site (a call NAME):
# all of them for set, remote and with SCN_FAULTS_ALL=1; otherwise one, in turn
# through the call's list, so that the sites of a call share its faults
faults_run() {
	local f
	f=($(faults_for "$3"))
	if [ -n "$ALL" ] || [ "$1" = set ] || [ "$1" = remote ]; then
		echo "${f[@]}"
	else
		echo "${f[$(($2 % ${#f[@]}))]}"
	fi
}

inject_spec() {
	case $3 in
	KILL) echo "inject=$1:signal=KILL:when=$2" ;;
	*) echo "inject=$1:error=$3:when=$2" ;;
	esac
}

# new_ledger DIR ORIGIN: a ledger in DIR (LEDGER_DIR) signed by "admin"
new_ledger() {
	export LEDGER_DIR=$1
	[ -e "$KEYS/admin.key" ] || new_key admin "$KEYS"
	expect_rc 0 ledger init --origin "$2"
}

# ---- checking one outcome ----

WHY=
# outcome CMDNAME: judges $RC/$OUT/$ERR of the faulted run; sets WHY
# (empty: passed) and adds what it printed to $PRINTED.
outcome() {
	local cmd=$1 n
	WHY=
	grep -E "^[0-9]+ $HEX64\$" "$OUT" >>"$PRINTED"
	case $RC in
	0)
		grep -Eq "^[0-9]+ $HEX64\$" "$OUT" ||
			WHY="exit 0 without a SEQ HASH"
		[ -s "$ERR" ] && WHY="exit 0 with stderr: $(head -c 200 "$ERR")"
		;;
	137) ;; # killed: acknowledged only what it printed
	1 | 2)
		n=$(wc -l <"$ERR")
		if [ "$n" -ne 1 ] || ! grep -q "^ledger: $cmd: " "$ERR"; then
			WHY="exit $RC, stderr not one line \"ledger: $cmd: ...\": $(head -c 300 "$ERR" | tr '\n' '|')"
		elif LC_ALL=C grep -q '[[:cntrl:]]' "$ERR"; then
			WHY="control characters in stderr"
		fi
		;;
	124) WHY="hung (killed after the timeout)" ;;
	*) WHY="exit $RC: $(head -c 300 "$ERR" | tr '\n' '|')" ;;
	esac
	return 0
}

# ledger_ok DIR: verify passes and every printed SEQ HASH is there;
# sets WHY when not
ledger_ok() {
	local dir=$1
	"$LEDGER" --ledger "$dir" verify >"$T/v.out" 2>"$T/v.err" || {
		WHY="${WHY:+$WHY; }verify: $(head -c 300 "$T/v.err" "$T/v.out" | tr '\n' '|')"
		return 1
	}
	LEDGER_DIR=$dir log_pairs >"$T/pairs" 2>/dev/null
	sort -u "$PRINTED" >"$T/printed.s"
	sort -u "$T/pairs" >"$T/pairs.s"
	if [ -n "$(comm -23 "$T/printed.s" "$T/pairs.s")" ]; then
		WHY="${WHY:+$WHY; }acknowledged but missing: $(comm -23 "$T/printed.s" "$T/pairs.s" | head -3 | tr '\n' '|')"
		return 1
	fi
}

# record OP NAME N FAULT: one result line; a failure is also shown
record() {
	if [ -z "$WHY" ]; then
		echo "$1 $2 $4 pass" >>"$RESULTS"
	else
		echo "$1 $2 $4 fail" >>"$RESULTS"
		echo "faults: $1: $4 at $2 call $3: $WHY"
	fi
}

# table: tried and passed per operation, call and fault
table() {
	awk '{ k = $1 " " $2 " " $3; tried[k]++; if ($4 == "pass") ok[k]++ }
		END { for (k in tried) print k, tried[k], ok[k] + 0 }' "$RESULTS" |
		sort | awk '{ printf "faults: %-7s %-10s %-6s tried %4d passed %4d\n", $1, $2, $3, $4, $5
			t += $4; p += $5 } END { printf "faults: all: tried %d, passed %d\n", t, p }'
}

# matrix OP SITES RUN_FN: runs RUN_FN NAME N FAULT for each sampled site
# and fault; RUN_FN records the result. Fails the section if any failed.
matrix() {
	local op=$1 sites=$2 fn=$3 name n f count=0 i=0
	# the default run of the slower operations: the first and the last
	# site of each call
	if [ -z "$ALL" ] && [ "$op" != set ] && [ "$op" != remote ]; then
		awk '!($1 in first) { first[$1] = $2; order[++k] = $1 } { last[$1] = $2 }
			END { for (i = 1; i <= k; i++) { c = order[i]; print c, first[c]
				if (last[c] != first[c]) print c, last[c] } }' \
			"$sites" >"$sites.run"
	else
		cp "$sites" "$sites.run"
	fi
	while read -r name n; do
		for f in $(faults_run "$op" "$i" "$name"); do
			"$fn" "$name" "$n" "$f"
			count=$((count + 1))
		done
		i=$((i + 1))
	done <"$sites.run"
	echo "faults: $op: $count runs over $(wc -l <"$sites") call sites"
	[ "$count" -gt 0 ] || fail "no call site found for $op"
	grep -q "^$op .* fail\$" "$RESULTS" && fail "$op: some faults were not handled (above)"
	ok
}

# ---- ledger set ----

# after_fault DIR NEXT_CMD...: the next write succeeds, then the ledger
# verifies with every printed SEQ HASH in it. One verify after the next
# write covers the ledger the fault left too: verify checks every entry
# from the first, and the fault's entries come before the next write's.
after_fault() {
	local dir=$1
	shift
	run "$@"
	grep -E "^[0-9]+ $HEX64\$" "$OUT" >>"$PRINTED"
	[ "$RC" -eq 0 ] ||
		WHY="${WHY:+$WHY; }the next write: exit $RC: $(head -c 200 "$ERR")"
	ledger_ok "$dir"
}

# restore OP DIR: after a failed run, go on from the base copy
restore() {
	[ -z "$WHY" ] && return 0
	rm -rf "$2"
	cp -a "$T/$1-base" "$2"
	: >"$PRINTED"
}

SET_N=0
set_fault() {
	local spec
	spec=$(inject_spec "$@")
	SET_N=$((SET_N + 1))
	LAST_CMD="strace -e $spec ledger set"
	(timeout 60 strace -qq -o /dev/null -e trace="$1" -e "$spec" \
		"$LEDGER" set staging/api "k:=$SET_N" -m "fault $*" >"$OUT" \
		2>"$ERR"; exit $?) 2>/dev/null
	RC=$?
	outcome set
	after_fault "$LEDGER_DIR" ledger set staging/api "after:=$SET_N" -m "after $*"
	record set "$@"
	restore set "$LEDGER_DIR"
}

set_matrix() {
	new_ledger "$T/set" example.com/deploy/faults
	expect_rc 0 ledger set staging/api k=0 -m base
	cp -a "$LEDGER_DIR" "$T/set-base"
	: >"$PRINTED"
	step "the calls of one set"
	strace -qq -o "$T/set.trace" -e trace="set_robust_list,$TRACE_SET" \
		"$LEDGER" set staging/api k=enum -m "enumerate" >"$OUT" 2>"$ERR" ||
		fail "set under strace failed"
	cat "$OUT" >>"$PRINTED"
	sites "$T/set.trace" >"$T/set.sites"
	echo "faults: set: $(wc -l <"$T/set.sites") call sites: $(awk '{ print $1 }' "$T/set.sites" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
	step "a fault at each call of set"
	matrix set "$T/set.sites" set_fault
}
[ -n "${SCN_FAULTS_ONLY:-}" ] && [ "$SCN_FAULTS_ONLY" != set ] ||
	section "ledger set" set_matrix

# ---- a remote append: the faults in `ledger serve`'s writer ----

WRITER=
STRACE_PID=
find_writer() {
	# not a zombie, nor a passing child of the server's (settle)
	WRITER=$(ps -o pid=,stat=,etimes= --ppid "$SERVER_PID" |
		awk '$2 !~ /Z/ { print $3, $1 }' | sort -rn | awk 'NR == 1 { print $2 }')
	[ -n "$WRITER" ] || fail "no writer process under the server $SERVER_PID"
}

# attach ARGS...: strace -p the writer in the background until detach.
# The writer waits for a request in read(): the attach restarts that call,
# so it is the writer's read 1, and a fault there lands at once (strace
# may be gone already, its tracee killed: that attach held too). An
# attach that failed is tried again.
attach() {
	local try
	for try in 1 2 3 4 5; do
		: >"$T/strace.err"
		strace -p "$WRITER" "$@" 2>"$T/strace.err" &
		STRACE_PID=$!
		for _ in $(seq 600); do
			grep -q 'attached' "$T/strace.err" && return 0
			kill -0 "$STRACE_PID" 2>/dev/null || break
			sleep 0.05
		done
		grep -q 'attached' "$T/strace.err" && return 0
		wait "$STRACE_PID" 2>/dev/null
		sleep "0.$try"
		find_writer
	done
	fail "strace did not attach to the writer $WRITER: $(cat "$T/strace.err"); $(ps -o pid,stat,etimes,args --ppid "$SERVER_PID" | tr '\n' '|'); tracer: $(grep TracerPid "/proc/$WRITER/status")"
}

detach() {
	kill -INT "$STRACE_PID" 2>/dev/null
	wait "$STRACE_PID" 2>/dev/null
	STRACE_PID=
}

restart_server() {
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	start_server
	find_writer
}

REMOTE_N=0
WRITER_DEATHS=0
WRITER_DEAD_ANSWERED=0
remote_fault() {
	local spec
	spec=$(inject_spec "$@")
	REMOTE_N=$((REMOTE_N + 1))
	attach -o /dev/null -e trace="$1" -e "$spec"
	LAST_CMD="ledger --remote URL set, writer under strace -e $spec"
	timeout 60 "$LEDGER" --remote "$BASE" set staging/api "k:=$REMOTE_N" \
		-m "fault $*" >"$OUT" 2>"$ERR"
	RC=$?
	detach
	outcome set
	if ! kill -0 "$WRITER" 2>/dev/null ||
		grep -q '^[0-9]* (.*) Z' "/proc/$WRITER/stat" 2>/dev/null; then
		# a dead writer is served again by `ledger serve` itself only
		# once it respawns it (issue 11, another part): counted, and
		# the server restarted so that the matrix goes on
		WRITER_DEATHS=$((WRITER_DEATHS + 1))
		run ledger --remote "$BASE" set staging/api "dead:=$REMOTE_N" -m "writer dead"
		grep -E "^[0-9]+ $HEX64\$" "$OUT" >>"$PRINTED"
		[ "$RC" -eq 0 ] && WRITER_DEAD_ANSWERED=$((WRITER_DEAD_ANSWERED + 1))
		restart_server
	fi
	after_fault "$LEDGER_DIR" ledger --remote "$BASE" set staging/api \
		"after:=$REMOTE_N" -m "after $*"
	record remote "$@"
	if [ -n "$WHY" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		restore remote "$LEDGER_DIR"
		start_server
		find_writer
	fi
}

remote_matrix() {
	new_ledger "$T/remote" example.com/deploy/faults-remote
	expect_rc 0 ledger set staging/api k=0 -m base
	cp -a "$LEDGER_DIR" "$T/remote-base"
	: >"$PRINTED"
	start_server
	find_writer
	step "the calls of the writer for one remote set"
	attach -o "$T/remote.trace" -e trace="$TRACE_SET"
	expect_rc 0 ledger --remote "$BASE" set staging/api k=enum -m enumerate
	detach
	cat "$OUT" >>"$PRINTED"
	sites "$T/remote.trace" '' >"$T/remote.sites"
	echo "faults: remote: $(wc -l <"$T/remote.sites") call sites in the writer: $(awk '{ print $1 }' "$T/remote.sites" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
	step "a fault at each call of the writer"
	matrix remote "$T/remote.sites" remote_fault
	echo "faults: remote: the writer died $WRITER_DEATHS times; the server answered the next POST without a restart $WRITER_DEAD_ANSWERED times"
	kill -KILL "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}
[ -n "${SCN_FAULTS_ONLY:-}" ] && [ "$SCN_FAULTS_ONLY" != remote ] ||
	section "a remote append (the server's writer)" remote_matrix

# ---- ledger apply's recording ----
#
# The stand-in helmfile (fixtures/helmfile) applies; the faults go into
# the calls `ledger apply` makes after its helmfile apply has exited
# (the last wait4): recording the applied entry. strace without -f:
# helmfile's own calls are not touched. What apply acknowledges is
# "recorded applied as seq N": that seq must hold an applied entry.

APPLY_N=0
# apply_acked: every "recorded ... as seq N" printed is an applied entry
apply_acked() {
	local seq
	for seq in $(sed -n 's/.*: recorded applied as seq \([0-9]*\)$/\1/p' "$T/apply.acked"); do
		"$LEDGER" show "$seq" --json >"$T/show.json" 2>/dev/null &&
			[ "$(jget "$T/show.json" kind)" = applied ] || {
			WHY="${WHY:+$WHY; }apply acknowledged seq $seq, which is not an applied entry"
			return 1
		}
	done
}

apply_fault() {
	local spec
	spec=$(inject_spec "$@")
	APPLY_N=$((APPLY_N + 1))
	run ledger set staging/api "image.tag=$APPLY_N" -m "to apply"
	grep -E "^[0-9]+ $HEX64\$" "$OUT" >>"$PRINTED"
	LAST_CMD="strace -e $spec ledger apply staging"
	(timeout 60 strace -qq -o /dev/null -e trace="$1" -e "$spec" \
		"$LEDGER" apply staging --config-dir "$CFG" \
		--key "$T/keys/app.key" >"$OUT" 2>"$T/apply.err"
		exit $?) 2>/dev/null
	RC=$?
	# notices about releases left alone are not errors
	grep -v '^notice: ' "$T/apply.err" >"$ERR"
	grep 'recorded applied as seq' "$OUT" >>"$T/apply.acked"
	WHY=
	if [ "$RC" -eq 0 ]; then
		grep -q 'staging/api: recorded applied as seq' "$OUT" ||
			WHY="exit 0 without recording staging/api"
		[ -s "$ERR" ] && WHY="exit 0 with stderr: $(head -c 200 "$ERR")"
	else
		outcome apply
	fi
	# the next run records what this one did not (or is up to date)
	run ledger apply staging --config-dir "$CFG" --key "$T/keys/app.key"
	grep 'recorded applied as seq' "$OUT" >>"$T/apply.acked"
	[ "$RC" -eq 0 ] || WHY="${WHY:+$WHY; }the next apply: exit $RC: $(grep -v '^notice: ' "$ERR" | head -c 200)"
	ledger_ok "$LEDGER_DIR" && apply_acked
	record apply "$@"
	if [ -n "$WHY" ]; then
		restore apply "$LEDGER_DIR"
		: >"$T/apply.acked"
	fi
}

apply_matrix() {
	mkdir -p "$T/bin"
	cp "$FIX/helmfile" "$T/bin/helmfile"
	chmod 755 "$T/bin/helmfile"
	# one release (staging/api): a shorter run of the stand-in
	sed -n 1,25p "$FIX/build.yaml" >"$T/build-api.yaml"
	printf 'templates: {}\nrenderedvalues: {}\n' >>"$T/build-api.yaml"
	export PATH=$T/bin:$PATH HF_LOG=/dev/null HF_BUILD=$T/build-api.yaml
	unset HF_FAIL HF_HANG HF_AUTO_RC HF_BUILD_FAIL
	CFG=$T/cfg
	mkdir -p "$CFG/clusters/staging"
	cp "$FIX/helmfile.yaml" "$CFG/clusters/staging/helmfile.yaml"
	new_ledger "$T/apply" example.com/deploy/faults-apply
	new_key app
	expect_rc 0 ledger key add "$T/keys/app.pub" --role applier --scope '*' -m applier
	expect_rc 0 ledger set staging/api image.tag=0 -m base
	expect_rc 0 ledger apply staging --config-dir "$CFG" --key "$T/keys/app.key"
	cp -a "$LEDGER_DIR" "$T/apply-base"
	: >"$PRINTED"
	: >"$T/apply.acked"
	step "the calls of apply's recording"
	expect_rc 0 ledger set staging/api image.tag=enum -m "to apply"
	strace -qq -o "$T/apply.trace" -e trace="wait4,$TRACE_SET" \
		"$LEDGER" apply staging --config-dir "$CFG" --key "$T/keys/app.key" \
		>"$OUT" 2>"$ERR" || fail "apply under strace failed"
	grep -q 'recorded applied as seq' "$OUT" || fail "apply recorded nothing"
	sites "$T/apply.trace" '^wait4\(' >"$T/apply.sites"
	echo "faults: apply: $(wc -l <"$T/apply.sites") call sites after helmfile: $(awk '{ print $1 }' "$T/apply.sites" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
	step "a fault at each call of the recording"
	matrix apply "$T/apply.sites" apply_fault
}
[ -n "${SCN_FAULTS_ONLY:-}" ] && [ "$SCN_FAULTS_ONLY" != apply ] ||
	section "ledger apply's recording" apply_matrix

# ---- ledger mirror ----
#
# A served source gains two entries before each run; the faults go into
# the mirror process (`ledger mirror` execs ledger-http in the same
# process; strace without -f). It acknowledges "head N HASH".

MIRROR_N=0
mirror_fault() {
	local spec
	spec=$(inject_spec "$@")
	MIRROR_N=$((MIRROR_N + 1))
	run ledger --ledger "$SRC" set staging/api "k:=$MIRROR_N" -m "source"
	run ledger --ledger "$SRC" set staging/web "k:=$MIRROR_N" -m "source"
	LAST_CMD="strace -e $spec ledger mirror"
	(timeout 60 strace -qq -o /dev/null -e trace="$1" -e "$spec" \
		"$LEDGER" --ledger "$COPY" mirror "$BASE" >"$OUT" \
		2>"$ERR"; exit $?) 2>/dev/null
	RC=$?
	sed -n 's/.*: head \([0-9]* [0-9a-f]*\)$/\1/p' "$OUT" >>"$PRINTED"
	WHY=
	if [ "$RC" -eq 0 ]; then
		grep -Eq "^(mirrored [0-9]+ new entr|up to date with)" "$OUT" ||
			WHY="exit 0 without saying what it mirrored"
		[ -s "$ERR" ] && WHY="exit 0 with stderr: $(head -c 200 "$ERR")"
	else
		: >"$OUT"
		outcome mirror
	fi
	run ledger --ledger "$COPY" mirror "$BASE"
	sed -n 's/.*: head \([0-9]* [0-9a-f]*\)$/\1/p' "$OUT" >>"$PRINTED"
	[ "$RC" -eq 0 ] || WHY="${WHY:+$WHY; }the next mirror: exit $RC: $(head -c 200 "$ERR")"
	if ledger_ok "$COPY"; then
		entries_dump "$T/src.dump" "$SRC"
		entries_dump "$T/copy.dump" "$COPY"
		cmp -s "$T/src.dump" "$T/copy.dump" ||
			WHY="${WHY:+$WHY; }the copy differs from the source after the next mirror"
	fi
	record mirror "$@"
	if [ -n "$WHY" ]; then
		rm -rf "$COPY"
		: >"$PRINTED"
	fi
}

mirror_matrix() {
	SRC=$T/msrc
	COPY=$T/mcopy
	new_ledger "$SRC" example.com/deploy/faults-mirror
	expect_rc 0 ledger set staging/api k=0 -m base
	start_server
	expect_rc 0 ledger --ledger "$COPY" mirror "$BASE"
	: >"$PRINTED"
	step "the calls of one mirror run"
	expect_rc 0 ledger --ledger "$SRC" set staging/api k=enum -m source
	expect_rc 0 ledger --ledger "$SRC" set staging/web k=enum -m source
	strace -qq -o "$T/mirror.trace" -e trace="set_robust_list,$TRACE_SET" \
		"$LEDGER" --ledger "$COPY" mirror "$BASE" >"$OUT" 2>"$ERR" ||
		fail "mirror under strace failed"
	sites "$T/mirror.trace" >"$T/mirror.sites"
	echo "faults: mirror: $(wc -l <"$T/mirror.sites") call sites: $(awk '{ print $1 }' "$T/mirror.sites" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
	step "a fault at each call of mirror"
	matrix mirror "$T/mirror.sites" mirror_fault
	kill -KILL "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}
[ -n "${SCN_FAULTS_ONLY:-}" ] && [ "$SCN_FAULTS_ONLY" != mirror ] ||
	section "ledger mirror" mirror_matrix

# The SEQ HASH a set prints is what it acknowledges: stdout that cannot
# be written (a full disk under a redirection) is an error, not exit 0.
stdout_full() {
	[ -w /dev/full ] || skip "no /dev/full"
	new_ledger "$T/full" example.com/deploy/full
	LAST_CMD="ledger set staging/api k:=1 -m m >/dev/full"
	"$LEDGER" set staging/api k:=1 -m m >/dev/full 2>"$ERR"
	RC=$?
	: >"$OUT"
	check "exit 2 (got $RC)" [ "$RC" -eq 2 ]
	expect_one_line_error '^ledger: set: cannot write to standard output: No space left on device$'
	expect_rc 0 ledger verify
}
section "set with stdout on a full disk" stdout_full

table
finish
