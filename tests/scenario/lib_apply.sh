# lib_apply.sh - for the scenario tests of `ledger apply` (apply.sh,
# apply_kill.sh); source it after lib.sh, never run it.
#
# The stand-in helmfile (fixtures/helmfile, see its comment) first on
# PATH as $BIN, logging to $HF_LOG; cluster configs staging and prod in
# $CFG ($HFS, $HFP); $K for keys.
#   BG                  a file: pids written there are SIGKILLed at exit
#   now_ms              milliseconds since the epoch
#   wait_until MS CMD   polls CMD every 0.1 s for up to MS milliseconds
#   alive PID           a process that runs (a zombie does not count)

FIX=$(cd "$(dirname "$0")/fixtures" && pwd)
K=$T/keys

# the stand-in, first on PATH; its log; the build it answers
mkdir -p "$T/bin"
cp "$FIX/helmfile" "$T/bin/helmfile"
chmod 755 "$T/bin/helmfile"
BIN=$T/bin/helmfile
export PATH=$T/bin:$PATH
export HF_LOG=$T/hf.log
export HF_BUILD=$FIX/build.yaml
unset HF_FAIL HF_HANG HF_AUTO_RC HF_BUILD_FAIL HF_SLOW HF_RUNLOCK HF_DIFF \
	HF_DIFF_LINES
: >"$HF_LOG"

# the cluster helmfiles (the stand-in only needs them to exist)
CFG=$T/cfg
mkdir -p "$CFG/clusters/staging" "$CFG/clusters/prod" "$T/nokeys"
cp "$FIX/helmfile.yaml" "$CFG/clusters/staging/helmfile.yaml"
cp "$FIX/helmfile.yaml" "$CFG/clusters/prod/helmfile.yaml"
HFS=$CFG/clusters/staging/helmfile.yaml
HFP=$CFG/clusters/prod/helmfile.yaml

# background appliers (--watch, the lock holder) never outlive the test
BG=$T/.bg-pids
: >"$BG"
bg_kill() {
	local p
	while read -r p; do
		kill -KILL "$p" 2>/dev/null
	done <"$BG"
}
trap 'bg_kill; scn_cleanup' EXIT

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until MS CMD...: polls CMD every 0.1 s for up to MS milliseconds
wait_until() {
	local deadline=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# alive PID: a process that runs (a zombie does not count)
alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

