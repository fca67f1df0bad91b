#!/bin/bash
# browser.sh - the web page of `ledger serve` in a real browser: Debian's
# headless Chromium driven by the vendored playwright-core
# (tests/browser/vendor/, unpacked here with tar: no npm registry needed)
# runs tests/browser/page.test.mjs against a served ledger. The page
# shows the releases, a history with diffs, an entry with its signature
# checks; a deployer signs in with its key file, rolls staging/api back
# to v1 from the page, and the page follows through its event stream.
# Then the CLI checks that the rollback and its lock really landed and
# that the ledger verifies. The page also promotes typed values (a
# boolean, and an array of every kind of scalar, which its own encoder
# must write exactly as the server's draft) and refuses an object before
# signing; `ledger get` prints them typed. Then a release with 250 entries: the page
# shows its history 100 at a time, diffs right across the pages. Last,
# four eyes: a proposal waits in the page's pending list, a second key
# approves it there, and the page shows it in effect (issue 13), and a
# drift check's finding as a badge (issue 14).
#
# Skips (77) only without /usr/bin/chromium or node. Screenshots go to
# $SCN_SHOTS (meson sets it to the build's tests/scenario directory).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_serve.sh"

CHROMIUM=${SCN_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM (apt-get install chromium; scripts/deps.sh does)"
command -v node >/dev/null 2>&1 || skip "no node (apt-get install nodejs; scripts/deps.sh does)"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
TGZ=$SRC/tests/browser/vendor/playwright-core-1.61.1.tgz
SHOTS=${SCN_SHOTS:-$PWD}
case $SHOTS in /*) ;; *) SHOTS=$PWD/$SHOTS ;; esac

# ---------------------------------------------------------------------
step "playwright-core from the vendored tarball"
NODE_VERSION=$(node -p process.versions.node 2>/dev/null)
[ "${NODE_VERSION%%.*}" -ge 18 ] 2>/dev/null ||
	fail "playwright-core 1.61.1 needs Node.js 18 or newer; $(command -v node) is ${NODE_VERSION:-unusable}"
ok
check "vendored $TGZ is there" [ -f "$TGZ" ]
# the bytes npm packed (tests/browser/vendor/README.md)
check "the vendored tarball's sha256" [ "$(sha256sum <"$TGZ" | cut -d' ' -f1)" = \
	3740bba3a3e93b4c7bd7c0f6e3c0e5f8cdce498bef13511e4d534cc99a8ce198 ]
mkdir -p "$T/node_modules/playwright-core"
run tar -xzf "$TGZ" -C "$T/node_modules/playwright-core" --strip-components=1
[ "$RC" -eq 0 ] || fail "cannot unpack $TGZ"
ok
check "playwright-core 1.61.1 unpacked" \
	grep -q '"version": "1.61.1"' "$T/node_modules/playwright-core/package.json"
# page.test.mjs imports playwright-core from the node_modules beside it
cp "$SRC/tests/browser/page.test.mjs" "$T/page.test.mjs" ||
	fail "cannot copy page.test.mjs"

# ---------------------------------------------------------------------
step "a ledger: an admin, a deployer for staging/*, three tags, a lock"
init_ledger example.com/deploy/browser
new_key deployer
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/deployer.pub" --role deployer \
	--scope 'staging/*' -m "CI deploys staging"
expect_rc 0 ledger set staging/api image.tag=v1 replicas=2 -m "PR #1: first release" \
	--meta pr=1
V1_SEQ=$(out_field 1 1)
check "v1 is seq 3" [ "$V1_SEQ" = 3 ]
expect_rc 0 ledger set staging/api image.tag=v2 -m "PR #2: new cart" --meta pr=2
expect_rc 0 ledger set staging/api image.tag=v3 -m "PR #3: faster checkout" --meta pr=3
expect_rc 0 ledger set staging/web image.tag=w1 -m "web: first release"
expect_rc 0 ledger lock staging/web -m "freeze for the launch"
expect_rc 0 ledger set prod/api image.tag=v2 -m "promote v2 to prod"
HEAD0=$(head_seq)
check "8 entries before the browser" [ "$HEAD0" = 8 ]

start_server

# page_test MODE: runs page.test.mjs (MODE "main" or "tampered") against
# $BASE; its output is shown, a failure ends the step.
page_test() {
	LAST_CMD="MODE=$1 timeout 240 node page.test.mjs"
	(
		cd "$T" &&
			MODE=$1 BASE_URL=$BASE CHROMIUM=$CHROMIUM SHOTS=$SHOTS \
				KEY_FILE=$T/keys/deployer.key V1_SEQ=$V1_SEQ \
				HEAD0=$HEAD0 LEDGER=$LEDGER TMPDIR=$T/browser-tmp \
				APPROVER_KEY=$T/keys/approver.key PROPOSAL=${PROPOSAL:-} \
				timeout -k 10 240 node page.test.mjs
	) >"$OUT" 2>"$ERR"
	RC=$?
	sed 's/^/  | /' "$OUT"
	[ "$RC" -ne 124 ] || fail "the browser test did not finish within 240 s"
	[ "$RC" -eq 0 ] || {
		sed 's/^/  ! /' "$ERR" | tail -40
		fail "the browser test failed (exit $RC)"
	}
	ok
}

# ---------------------------------------------------------------------
step "the page, in Chromium"
mkdir -p "$SHOTS" "$T/browser-tmp"
rm -f "$SHOTS"/browser-*.png
page_test main
for f in browser-overview.png browser-history.png browser-entry.png browser-narrow.png; do
	check "screenshot $f written" [ -s "$SHOTS/$f" ]
	echo "screenshot: $SHOTS/$f"
done

# ---------------------------------------------------------------------
# The page rolled back (seq 9) and locked (seq 10) as the deployer; the
# script itself then set prod/api (seq 11) and staging/flags (seq 12,
# the string "true") from the CLI while the page was open, to see them
# arrive live; the page set staging/flags checkout to the boolean false
# (seq 13) and limits to an array (seq 14); the CLI set checkout:=true
# and none:=null (seq 15) and the page rolled back to seq 13 without a
# lock (seq 16).
step "the CLI sees what the page wrote"
expect_rc 0 ledger get staging/api image.tag
expect_out v1
expect_rc 0 ledger get staging/api replicas
expect_out 2
expect_rc 0 ledger show 9 --json
expect_json kind = rollback
expect_json target = staging/api
expect_json signer name = deployer
expect_json reason = "v3 breaks checkout"
expect_json metadata rollback-to = 3
expect_json changes 0 key = image.tag
expect_json changes 0 value = v1
expect_rc 0 ledger show 10 --json
expect_json kind = lock
expect_json target = staging/api
expect_json signer name = deployer
expect_json reason = "v3 breaks checkout"
expect_rc 0 ledger state staging/api
expect_out 'staging/api image.tag=v1
staging/api replicas=2
staging/api [locked since seq 10: v3 breaks checkout]'
expect_rc 1 ledger set staging/api image.tag=v3 -m "pipeline"
expect_one_line_error 'locked since seq 10'
expect_rc 0 ledger get prod/api image.tag
expect_out v9
expect_rc 0 ledger get staging/flags checkout
expect_out false
expect_rc 0 ledger get staging/flags limits --at 14
expect_out '[8080,-7,-100,-200,-40000,5000000000,-5000000000,1.5,1e+300,"a","",true,false,null]'
expect_rc 1 ledger get staging/flags limits
expect_rc 0 ledger get staging/flags --json
expect_json_value values checkout = false
expect_json_value values limits = '(missing)'
expect_rc 0 ledger get staging/flags --json --at 14
expect_json_value values limits 13 = null
expect_rc 0 ledger show 16 --json
expect_json kind = rollback
expect_json signer name = deployer
expect_json_value changes = '[{"key":"checkout","value":false},{"key":"limits","unset":true},{"key":"none","unset":true}]'
expect_rc 0 ledger show 13 --json
expect_json signer name = deployer
expect_json_value changes 0 value = false
expect_rc 0 ledger show 12 --json
expect_json_value changes 0 value = '"true"'
expect_rc 0 ledger verify
expect_out_match '^ok: 16 entries, head 16 '

# ---------------------------------------------------------------------
# A copy with one flipped signature byte in entry 4, served afresh: the
# badge turns red and the entry shows its bad signature and broken link.
step "a tampered copy"
if [ -n "${TAMPER:-}" ] && [ -x "$TAMPER" ]; then
	stop_server TERM
	cp -a "$LEDGER_DIR" "$T/tampered" || fail "cannot copy the ledger"
	run "$TAMPER" "$T/tampered" flip 4 -1
	[ "$RC" -eq 0 ] || fail "ldg_tamper flip failed"
	expect_rc 1 ledger verify --ledger "$T/tampered"
	expect_err_match 'entry 4: bad signature'
	start_server --ledger "$T/tampered"
	page_test tampered
	check "screenshot browser-tampered.png written" [ -s "$SHOTS/browser-tampered.png" ]
	echo "screenshot: $SHOTS/browser-tampered.png"
else
	echo "(no TAMPER (ldg_tamper): the tampered part is left out)"
fi

# ---------------------------------------------------------------------
# A release with 250 entries: the page shows its history 100 at a time.
step "a long history, paged"
stop_server TERM
export LEDGER_DIR=$T/busy
expect_rc 0 ledger init --origin example.com/deploy/busy
for i in $(seq 1 250); do
	"$LEDGER" set dev/busy "image.tag=b$i" -m "busy $i" >/dev/null ||
		fail "set dev/busy b$i failed"
done
ok
start_server
page_test paging

# ---------------------------------------------------------------------
# Four eyes: prod/* needs one approval; admin's set of prod/api is a
# proposal that the approver approves on the page.
step "approve a pending proposal on the page"
stop_server TERM
export LEDGER_DIR=$T/gov
expect_rc 0 ledger init --origin example.com/deploy/gov
new_key approver
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/approver.pub" --role deployer \
	--scope 'prod/*' -m "the second pair of eyes"
expect_rc 0 ledger set prod/api image.tag=v9 -m "before the policy"
# a drift check (the stand-in helmfile's diff says prod/api differs)
new_key applier
chmod 600 "$T"/keys/*.key
expect_rc 0 ledger key add "$T/keys/applier.pub" --role applier \
	--scope 'prod/*' -m "the applier"
mkdir -p "$T/cfg/clusters/prod"
cp "$SRC/tests/scenario/fixtures/helmfile.yaml" "$T/cfg/clusters/prod/"
echo "name=api 2" >"$T/diff"
HELMFILE=$SRC/tests/scenario/fixtures/helmfile \
	HF_BUILD=$SRC/tests/scenario/fixtures/build.yaml HF_DIFF=$T/diff \
	expect_rc 1 ledger apply prod --check --config-dir "$T/cfg" \
	--key "$T/keys/applier.key"
expect_out_match '^prod/api: drifted; recorded drift as seq 5$'
expect_rc 0 ledger policy set 'prod/*' --approvals 1 -m "four eyes"
expect_rc 0 ledger set prod/api image.tag=v10 -m "promote v10"
PROPOSAL=$(out_field 1 1)
expect_out_match '^pending: needs 1 approval'
start_server
page_test policy
expect_rc 0 ledger get prod/api image.tag
expect_out v10
expect_rc 0 ledger show $((PROPOSAL + 1)) --json
expect_json kind = approve
expect_json signer name = approver
expect_json changes 0 value = "$PROPOSAL"
expect_json reason = "LGTM, checked the canary"
expect_rc 0 ledger verify

finish
