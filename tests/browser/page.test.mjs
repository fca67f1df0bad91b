// page.test.mjs - the web page of `ledger serve` in headless Chromium,
// driven by playwright-core. Run by tests/scenario/browser.sh, which
// builds the ledger, starts the server and unpacks playwright-core into
// the node_modules beside this file. Environment:
//
//   BASE_URL   the server, http://127.0.0.1:PORT
//   CHROMIUM   the browser (/usr/bin/chromium)
//   KEY_FILE   the deployer's private key file (scope staging/*)
//   V1_SEQ     the entry that set staging/api image.tag=v1
//   HEAD0      the head before the page writes anything
//   LEDGER     the ledger binary (for a write from outside the page)
//   SHOTS      where the screenshots go
//   MODE       "main" (the default), "tampered": the server serves a
//              copy whose entry 4 has a flipped signature byte,
//              "paging": a ledger whose dev/busy has 250 entries, or
//              "policy": a ledger where prod/* needs one approval and
//              PROPOSAL (a set of prod/api to v10 by admin) waits for it,
//              and a drift check found prod/api drifted (seq 5)
//   APPROVER_KEY  (policy) the private key of "approver", a deployer
//              for prod/*
//
// Every check prints "ok - ..." or stops the run with "FAIL: ..." and
// exit 1; at the end "N passed, 0 failed".
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const env = (k) => {
	const v = process.env[k];
	if (!v) {
		console.error(`FAIL: ${k} is not set`);
		process.exit(2);
	}
	return v;
};
const BASE = env('BASE_URL');
const KEY_FILE = env('KEY_FILE');
const V1_SEQ = Number(env('V1_SEQ'));
const HEAD0 = Number(env('HEAD0'));
const LEDGER = env('LEDGER');
const SHOTS = env('SHOTS');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const T = 60000; // ms for anything the page should show (wide: a slow machine)

let passed = 0;
let step = '';
let current = null; // the page a failure shows (screenshot, text)
function ok(what) {
	passed++;
	console.log(`ok - ${step}: ${what}`);
}
class Mismatch extends Error {}
function fail(what) {
	throw new Mismatch(`${step}: ${what}`);
}
function eq(got, want, what) {
	if (got !== want)
		fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
	ok(`${what} = ${JSON.stringify(want)}`);
}
function match(got, re, what) {
	if (typeof got !== 'string' || !re.test(got))
		fail(`${what}: ${JSON.stringify(got)} does not match ${re}`);
	ok(`${what} ~ ${re}`);
}

const tid = (id) => `[data-testid="${id}"]`;

// The text of a test id once it matches re (waits up to T).
async function waitText(page, id, re, what) {
	const loc = page.locator(tid(id));
	const end = Date.now() + T;
	let last = '(not found)';
	while (Date.now() < end) {
		if (await loc.count() === 1) {
			last = (await loc.textContent()).trim();
			if (re.test(last)) {
				ok(`${what || id} ~ ${re}`);
				return last;
			}
		}
		await page.waitForTimeout(100);
	}
	fail(`${what || id}: waited ${T} ms for ${re}, last saw ${JSON.stringify(last)}`);
}

async function visible(page, id, what) {
	try {
		await page.locator(tid(id)).waitFor({ state: 'visible', timeout: T });
	} catch (e) {
		fail(`${what || id}: not visible within ${T} ms`);
	}
	ok(`${what || id} is shown`);
}

async function actionButtons(page) {
	return page.locator('#view button[data-testid^="action-"], #view button[data-testid^="rollback-to-"]').count();
}

// No action button, once the view has re-rendered (up to T).
async function noActionButtons(page, what) {
	const end = Date.now() + T;
	let n;
	while ((n = await actionButtons(page)) !== 0 && Date.now() < end)
		await page.waitForTimeout(100);
	eq(n, 0, `${what}: action buttons`);
}

// ---- the server's static files, as a browser gets them ----

// path -> the CSP of its 200 and of its 304: a browser updates the
// cached response's headers from a 304, so they must be the same
const revalidated = new Map();

async function staticFiles() {
	step = 'static files';
	const csp = "default-src 'none'; script-src 'self'; style-src 'self'";
	for (const [p, type] of [['/', 'text/html; charset=utf-8'],
		['/ui/app.js', 'text/javascript; charset=utf-8'],
		['/ui/app.css', 'text/css; charset=utf-8']]) {
		const r = await fetch(BASE + p);
		eq(r.status, 200, `GET ${p} status`);
		eq(r.headers.get('content-type'), type, `GET ${p} Content-Type`);
		const etag = r.headers.get('etag');
		match(etag, /^"[0-9a-f]{16}"$/, `GET ${p} ETag`);
		match(r.headers.get('content-security-policy') || '', new RegExp(`^${csp.replace(/[*'.]/g, '\\$&')}`),
			`GET ${p} CSP`);
		await r.arrayBuffer();
		const r2 = await fetch(BASE + p, { headers: { 'If-None-Match': etag } });
		eq(r2.status, 304, `GET ${p} with If-None-Match: its ETag`);
		revalidated.set(p, [r.headers.get('content-security-policy'),
			r2.headers.get('content-security-policy')]);
	}
	const r = await fetch(BASE + '/ui/nope.js');
	eq(r.status, 404, 'GET /ui/nope.js status');
}

// ---- the page ----

async function main() {
	await staticFiles();

	step = 'launch';
	// playwright gives every launch a fresh profile (user-data-dir)
	// under TMPDIR, which browser.sh points into its temporary directory
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
		timeout: 60000,
	});
	ok(`Chromium ${browser.version()}`);
	try {
		if (process.env.MODE === 'tampered') {
			await tampered(browser);
		} else if (process.env.MODE === 'paging') {
			await paging(browser);
		} else if (process.env.MODE === 'policy') {
			await approveOnThePage(browser);
		} else {
			await applyBadges(browser);
			await run(browser);
		}
	} catch (e) {
		if (current) {
			const shot = path.join(SHOTS, 'browser-failure.png');
			try {
				await current.screenshot({ path: shot, fullPage: true, timeout: 5000 });
				console.log(`the page at the failure (${current.url()}): ${shot}`);
				const text = await current.locator('body').innerText({ timeout: 5000 });
				console.log(text.split('\n').map((l) => `  > ${l}`).join('\n'));
			} catch (err) {
				console.log(`(no screenshot of the failure: ${err.message})`);
			}
		}
		throw e;
	} finally {
		await browser.close();
	}
}

async function run(browser) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 },
		acceptDownloads: true });
	const page = await ctx.newPage();
	current = page;
	const problems = [];
	page.on('console', (m) => {
		// a refused write is a 4xx, which Chromium logs as an error
		if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
			problems.push(`console error: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

	// ---- overview ----
	step = 'overview';
	await page.goto(BASE + '/');
	await visible(page, 'release-staging/api', 'row staging/api');
	await waitText(page, 'value-staging/api-image.tag', /^v3$/, 'staging/api image.tag');
	await waitText(page, 'who-staging/api', /^admin$/, 'staging/api set by');
	await waitText(page, 'why-staging/api', /^PR #3: faster checkout$/, 'staging/api why');
	const when = await page.locator(tid('when-staging/api')).getAttribute('title');
	match(when, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z\n/, 'staging/api: exact time on hover');
	await waitText(page, 'value-staging/api-replicas', /^2$/, 'staging/api replicas');
	await waitText(page, 'value-staging/web-image.tag', /^w1$/, 'staging/web image.tag');
	await waitText(page, 'lockstate-staging/web', /locked.*freeze for the launch.*by admin/s, 'staging/web lock');
	await waitText(page, 'lockstate-staging/api', /^unlocked$/, 'staging/api lock');
	await waitText(page, 'apply-staging/api', /^not applied$/, 'staging/api apply');
	await waitText(page, 'value-prod/api-image.tag', /^v2$/, 'prod/api image.tag');
	await waitText(page, 'verify-badge', new RegExp(`^verified · ${HEAD0} entries$`), 'verify badge');
	eq(await page.locator(tid('verify-badge')).getAttribute('class'), 'badge badge-ok', 'verify badge is green');
	await waitText(page, 'head-seq', new RegExp(`^head ${HEAD0}$`), 'head seq');
	await waitText(page, 'origin', /^example\.com\/deploy\/browser$/, 'origin');
	await waitText(page, 'connection', /^live$/, 'connection indicator');
	eq(await actionButtons(page), 0, 'signed out: action buttons');
	await visible(page, 'signin-open', 'the Sign in button');
	await page.screenshot({ path: path.join(SHOTS, 'browser-overview-signed-out.png'), fullPage: true });

	// the scope matcher (fnmatch with FNM_PATHNAME, as the ledger's)
	step = 'scopes';
	const globs = await page.evaluate(() => {
		const g = window.ledgerUI.globMatch;
		const s = window.ledgerUI.scopesCover;
		return [g('staging/*', 'staging/api'), g('staging/*', 'prod/api'),
			g('*/api', 'prod/api'), g('*/api', 'prod/web'), g('*', 'staging/api'),
			s('*', 'staging/api'), g('st?ging/[a-c]pi', 'staging/api'),
			g('staging/[!a]*', 'staging/api'), g('staging/[!a]*', 'staging/web'),
			s('prod/* staging/a*', 'staging/api'), s('', 'staging/api'),
			g('staging*', 'staging/api')];
	});
	eq(JSON.stringify(globs), JSON.stringify([true, false, true, false, false,
		true, true, false, true, true, false, false]), 'glob results');

	// the page's msgpack encoder (docs/format.md 2.2, 3.2): each value's
	// one encoding, as hex; and what the Promote dialog's JSON toggle
	// refuses before anything is signed
	step = 'encoder';
	const encoded = await page.evaluate(() => {
		const w = window.ledgerUI.mpWrite;
		const hexOf = (v) => w(v).map((b) => b.toString(16).padStart(2, '0')).join('');
		const vs = [null, false, true, 0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32,
			-1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -0,
			1.5, -2.5, 1e300, 2 ** 63, 'a', 'x'.repeat(32), [1, 'a', true, null], []];
		return vs.map((v) => `${JSON.stringify(v)}:${hexOf(v)}`);
	});
	const want = ['null:c0', 'false:c2', 'true:c3', '0:00', '127:7f', '128:cc80', '255:ccff',
		'256:cd0100', '65535:cdffff', '65536:ce00010000', '4294967295:ceffffffff',
		'4294967296:cf0000000100000000', '-1:ff', '-32:e0', '-33:d0df', '-128:d080',
		'-129:d1ff7f', '-32768:d18000', '-32769:d2ffff7fff', '-2147483648:d280000000',
		'-2147483649:d3ffffffff7fffffff', '0:00', '1.5:cb3ff8000000000000',
		'-2.5:cbc004000000000000', '1e+300:cb7e37e43c8800759c',
		'9223372036854776000:cb43e0000000000000', '"a":a161',
		`"${'x'.repeat(32)}":d920${'78'.repeat(32)}`, '[1,"a",true,null]:9401a161c3c0', '[]:90'];
	for (let i = 0; i < want.length; i++)
		eq(encoded[i], want[i], `encoding of ${want[i].split(':')[0]}`);
	const refusals = await page.evaluate(() => ['{"a": 1}', '[1, [2]]', '[{"a": 1}]', 'NaN',
		'1e400', '9007199254740993', 'yes', '"x"', '3.0', '1e21'].map((t) => {
		try {
			return JSON.stringify(window.ledgerUI.typedValue(t));
		} catch (e) {
			return `refused: ${e.message}`;
		}
	}));
	eq(refusals[0], 'refused: objects are not values: use dotted keys, e.g. a.b:=1', 'an object');
	eq(refusals[1], 'refused: arrays hold only scalars: no nested arrays', 'a nested array');
	eq(refusals[2], 'refused: objects are not values: use dotted keys, e.g. a.b:=1', 'an object in an array');
	match(refusals[3], /^refused: the value is not JSON \(.*\); untick "JSON" for a string$/, 'NaN');
	eq(refusals[4], 'refused: 1e400 is not a finite number', '1e400');
	eq(refusals[5], 'refused: 9007199254740993 is not within ±(2^53 - 1), which the page cannot write exactly: use ledger set',
		'an integer beyond 2^53');
	match(refusals[6], /^refused: the value is not JSON/, 'yes');
	eq(refusals[7], '"x"', 'a JSON string is the plain string');
	eq(refusals[8], '3', '3.0 is the integer 3');
	eq(refusals[9], '1e+21', '1e21 is a float');

	// ---- history ----
	step = 'history';
	await page.click(tid('open-staging/api'));
	await visible(page, 'timeline');
	const items = await page.locator('[data-testid="timeline"] > li').evaluateAll((lis) =>
		lis.map((li) => ({
			seq: Number(li.dataset.seq),
			kind: li.dataset.kind,
			diff: Array.from(li.querySelectorAll('table.diff tr')).map((tr) =>
				Array.from(tr.querySelectorAll('td')).map((td) => td.textContent).join(' ')),
			text: li.textContent,
		})));
	eq(JSON.stringify(items.map((i) => i.seq)), JSON.stringify([5, 4, 3]), 'newest first: seqs');
	eq(JSON.stringify(items.map((i) => i.kind)), JSON.stringify(['set', 'set', 'set']), 'kinds');
	eq(JSON.stringify(items[0].diff), JSON.stringify(['image.tag v2 → v3']), 'diff of #5');
	eq(JSON.stringify(items[1].diff), JSON.stringify(['image.tag v1 → v2']), 'diff of #4');
	eq(JSON.stringify(items[2].diff), JSON.stringify(['image.tag ∅ → v1', 'replicas ∅ → 2']), 'diff of #3');
	match(items[2].text, /PR #1: first release/, '#3 reason');
	match(items[2].text, /pr=1/, '#3 metadata');
	match(items[2].text, /admin/, '#3 signer');
	await waitText(page, `value-staging/api-image.tag`, /^v3$/, 'current image.tag');
	eq(await actionButtons(page), 0, 'signed out: action buttons');
	await page.screenshot({ path: path.join(SHOTS, 'browser-history.png'), fullPage: true });

	// ---- one entry ----
	step = 'entry';
	await page.click(tid(`entry-link-${V1_SEQ}`));
	await visible(page, `entry-page-${V1_SEQ}`);
	await waitText(page, 'sig-status', /^signature ok$/, 'signature');
	await waitText(page, 'chain-prev', /^prev ok$/, 'chain prev');
	await waitText(page, 'chain-next', /^next ok$/, 'chain next');
	await waitText(page, 'field-kind', /^set$/);
	await waitText(page, 'field-target', /^staging\/api$/);
	await waitText(page, 'field-signer', /^admin$/);
	await waitText(page, 'field-reason', /^PR #1: first release$/);
	await waitText(page, 'field-hash', /^[0-9a-f]{64}$/);
	await waitText(page, 'field-prev', /^[0-9a-f]{64}$/);
	await waitText(page, 'field-signature', /^[0-9a-f]{128}$/);
	const entry = await (await fetch(`${BASE}/api/v1/entries/${V1_SEQ}`)).json();
	eq(await page.locator(tid('field-hash')).textContent(), entry.hash, 'hash = the API\'s');
	eq(await page.locator(tid('field-prev')).getAttribute('href'), `#/e/${V1_SEQ - 1}`, 'prev links to the previous entry');
	const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }),
		page.click(tid('download-raw'))]);
	eq(dl.suggestedFilename(), `entry-${V1_SEQ}.msgpack`, 'raw download name');
	await waitText(page, 'raw-status', /bytes; SHA-256\(0x00 ‖ bytes\) equals the entry hash$/, 'raw bytes hash');
	eq(await actionButtons(page), 0, 'signed out: action buttons');
	await page.screenshot({ path: path.join(SHOTS, 'browser-entry.png'), fullPage: true });

	// ---- sign in ----
	step = 'sign in';
	await page.goto(BASE + '/#/');
	await visible(page, 'release-staging/api');
	await page.click(tid('signin-open'));
	await page.fill(tid('signin-input'), 'PRIVATE+KEY+nobody+00000000+garbage');
	await page.click(tid('signin-submit'));
	await waitText(page, 'signin-error', /^not a ledger private key/, 'a bad key is refused');
	await page.locator(tid('signin-file')).setInputFiles(KEY_FILE);
	await page.click(tid('signin-submit'));
	await waitText(page, 'signed-in-as', /^signed in as deployer \(deployer, staging\/\*\)$/, 'who');
	await visible(page, 'signout', 'the Sign out button');
	await visible(page, 'action-rollback-staging/api', 'Rollback on staging/api');
	await visible(page, 'action-promote-staging/api', 'Promote on staging/api');
	await visible(page, 'action-lock-staging/api', 'Lock on staging/api');
	await visible(page, 'action-unlock-staging/web', 'Unlock on the locked staging/web');
	await visible(page, 'noscope-prod/api', 'prod/api marked out of scope');
	eq(await page.locator('button[data-testid$="-prod/api"]').count(), 0, 'no action buttons on prod/api');

	// a draft that says something else than what was asked is not
	// signed: the server's answer is altered (v7 -> v8) on the way
	step = 'altered draft';
	await page.click(tid('action-promote-staging/api'));
	await visible(page, 'action-form-promote');
	await page.fill(tid('promote-value'), 'v7');
	await page.fill(tid('action-reason'), 'tamper test');
	let altered = 0;
	await page.route('**/api/v1/drafts', async (route) => {
		const res = await route.fetch();
		const d = await res.json();
		const swap = (b64) => {
			const b = Buffer.from(b64, 'base64');
			const i = b.indexOf(Buffer.from('\xa2v7', 'latin1'));
			if (i >= 0) {
				b[i + 2] = '8'.charCodeAt(0);
				altered++;
			}
			return b.toString('base64');
		};
		d.message = swap(d.message);
		d.draft = swap(d.draft);
		await route.fulfill({ response: res, json: d });
	});
	await page.click(tid('action-submit'));
	await waitText(page, 'action-error', /not what was asked.*nothing was signed/, 'the altered draft is refused');
	eq(altered, 2, 'message and draft were altered');
	await page.unrouteAll();
	await page.click(tid('action-close'));
	eq((await (await fetch(`${BASE}/api/v1/head`)).json()).seq, HEAD0, 'nothing written');

	// a refused write: promote on the locked staging/web, not forced
	step = 'refused promote';
	await page.click(tid('action-promote-staging/web'));
	await visible(page, 'action-form-promote');
	eq(await page.locator(tid('promote-key')).inputValue(), 'image.tag', 'default key');
	await page.fill(tid('promote-value'), 'w2');
	await page.fill(tid('action-reason'), 'try it');
	await page.click(tid('action-submit'));
	await waitText(page, 'action-error', /locked/, 'the server\'s refusal in the form');
	await page.click(tid('action-close'));

	// ---- rollback, followed live ----
	step = 'rollback';
	await page.evaluate(() => { window.__notReloaded = true; });
	await page.click(tid('action-rollback-staging/api'));
	await visible(page, 'action-form-rollback');
	const opts = await page.locator(`${tid('rollback-to')} option`).evaluateAll((os) => os.map((o) => o.value));
	eq(JSON.stringify(opts), JSON.stringify(['4', '3']), 'earlier entries offered');
	await page.selectOption(tid('rollback-to'), String(V1_SEQ));
	eq(await page.locator(tid('rollback-nolock')).isChecked(), false, '"don\'t lock" unchecked');
	await page.fill(tid('action-reason'), 'v3 breaks checkout');
	// the first draft answers 429 (Retry-After: 1) and the first append
	// 409 (the head moved): the page must wait, redraft and go on
	let drafts = 0;
	let appends = 0;
	let batches = 0;
	await page.route('**/api/v1/drafts', (route) => {
		drafts++;
		if (drafts === 1)
			return route.fulfill({ status: 429, headers: { 'Retry-After': '1' },
				contentType: 'application/json', body: '{"error": "too many requests"}' });
		return route.continue();
	});
	await page.route('**/api/v1/entries', (route) => {
		if (route.request().method() !== 'POST')
			return route.continue();
		appends++;
		const body = JSON.parse(route.request().postData() || '{}');
		if (Array.isArray(body.batch) && body.batch.length === 2)
			batches++;
		if (appends === 1)
			return route.fulfill({ status: 409, contentType: 'application/json',
				body: JSON.stringify({ error: 'the head moved', head: { seq: HEAD0, hash: '0'.repeat(64) } }) });
		return route.continue();
	});
	const t0 = Date.now();
	await page.click(tid('action-submit'));
	await waitText(page, 'action-result', new RegExp(`^rolled back at seq ${HEAD0 + 1}, locked at seq ${HEAD0 + 2}$`),
		'the new seqs');
	if (Date.now() - t0 < 900)
		fail(`the 429 was not waited for (Retry-After: 1): done in ${Date.now() - t0} ms`);
	ok('waited for Retry-After');
	eq(drafts, 5, 'drafts asked (429, rollback, its lock; after the 409 both again)');
	eq(appends, 2, 'appends sent (the 409, then the batch)');
	eq(batches, 2, 'each append was the rollback and its lock as one batch');
	await page.unrouteAll();
	await page.click(tid('action-close'));
	await waitText(page, 'value-staging/api-image.tag', /^v1$/, 'staging/api image.tag, live');
	await waitText(page, 'lockstate-staging/api', /locked.*v3 breaks checkout.*by deployer/s, 'staging/api lock, live');
	await waitText(page, 'who-staging/api', /^deployer$/, 'changed by');
	await visible(page, 'action-unlock-staging/api', 'Unlock now offered');
	await waitText(page, 'verify-badge', new RegExp(`^verified · ${HEAD0 + 2} entries$`), 'verify badge follows');
	eq(await page.evaluate(() => document.body.dataset.lastEvent), String(HEAD0 + 2),
		'the lock arrived through the event stream');

	// a write from outside the page (the CLI, as admin) shows up live
	step = 'live';
	execFileSync(LEDGER, ['set', 'prod/api', 'image.tag=v9', '-m', 'from the CLI'], { stdio: 'pipe' });
	await waitText(page, 'value-prod/api-image.tag', /^v9$/, 'prod/api image.tag after a CLI set');
	eq(await page.evaluate(() => document.body.dataset.lastEvent), String(HEAD0 + 3), 'last event seq');
	match(await page.locator(tid('release-prod/api')).getAttribute('class') || '', /\bflash\b/, 'the new entry flashes');
	eq(await page.evaluate(() => window.__notReloaded === true), true, 'the page was never reloaded');

	// ---- typed values through the Promote dialog (issue 14) ----
	// the CLI sets the string "true"; the page sets the boolean false,
	// then an array of every kind of scalar, whose encoding by the page
	// must equal the server's draft byte for byte (else it is not signed)
	step = 'typed promote';
	execFileSync(LEDGER, ['set', 'staging/flags', 'checkout=true', '-m', 'flags: the string "true"'],
		{ stdio: 'pipe' });
	await waitText(page, 'value-staging/flags-checkout', /^true$/, 'the string true, live');
	eq(await page.locator(tid('value-staging/flags-checkout')).getAttribute('data-typed'), null,
		'a string is not marked typed');
	await page.click(tid('action-promote-staging/flags'));
	await visible(page, 'action-form-promote');
	await page.fill(tid('promote-key'), 'checkout');
	await page.fill(tid('promote-value'), '{"on": false}');
	await page.check(tid('promote-json'));
	await page.fill(tid('action-reason'), 'checkout off');
	let typedDrafts = 0;
	await page.route('**/api/v1/drafts', (route) => {
		typedDrafts++;
		return route.continue();
	});
	await page.click(tid('action-submit'));
	await waitText(page, 'action-error', /^objects are not values: use dotted keys, e\.g\. a\.b:=1$/,
		'an object is refused in the page');
	eq(typedDrafts, 0, 'nothing was drafted');
	await page.fill(tid('promote-value'), 'false');
	await page.click(tid('action-submit'));
	await waitText(page, 'action-result', new RegExp(`^recorded as seq ${HEAD0 + 5}$`), 'the boolean false');
	await page.click(tid('action-close'));
	await waitText(page, 'value-staging/flags-checkout', /^false$/, 'checkout, live');
	eq(await page.locator(tid('value-staging/flags-checkout')).getAttribute('data-typed'), '1',
		'a typed value is marked');
	await page.click(tid('action-promote-staging/flags'));
	await visible(page, 'action-form-promote');
	await page.fill(tid('promote-key'), 'limits');
	await page.fill(tid('promote-value'),
		'[8080, -7, -100, -200, -40000, 5000000000, -5000000000, 1.5, 1e300, "a", "", true, false, null]');
	await page.check(tid('promote-json'));
	await page.fill(tid('action-reason'), 'every kind');
	await page.click(tid('action-submit'));
	await waitText(page, 'action-result', new RegExp(`^recorded as seq ${HEAD0 + 6}$`), 'the array');
	eq(typedDrafts, 2, 'one draft each');
	await page.unrouteAll();
	await page.click(tid('action-close'));
	await waitText(page, 'value-staging/flags-limits',
		/^\[8080,-7,-100,-200,-40000,5000000000,-5000000000,1\.5,1e\+300,"a","",true,false,null\]$/,
		'limits, live');
	// a rollback that restores a typed value: the page plans its
	// changes from the states' JSON and encodes them itself
	execFileSync(LEDGER, ['set', 'staging/flags', 'checkout:=true', 'none:=null', '-m', 'checkout on'],
		{ stdio: 'pipe' });
	await waitText(page, 'value-staging/flags-checkout', /^true$/, 'checkout true, live');
	eq(await page.locator(tid('value-staging/flags-checkout')).getAttribute('data-typed'), '1',
		'the boolean true is marked');
	await page.click(tid('action-rollback-staging/flags'));
	await visible(page, 'action-form-rollback');
	await page.selectOption(tid('rollback-to'), String(HEAD0 + 5));
	await page.check(tid('rollback-nolock'));
	await page.fill(tid('action-reason'), 'checkout off again');
	await page.click(tid('action-submit'));
	await waitText(page, 'action-result', new RegExp(`^rolled back at seq ${HEAD0 + 8}$`), 'the typed rollback');
	await page.click(tid('action-close'));
	await waitText(page, 'value-staging/flags-checkout', /^false$/, 'checkout false again, live');
	eq(await page.locator(tid('value-staging/flags-limits')).count(), 0, 'limits unset by the rollback');
	await page.screenshot({ path: path.join(SHOTS, 'browser-overview.png'), fullPage: true });
	// the history's diffs: a typed null is a value (added, not removed),
	// a change of type shows both sides, the typed side marked
	await page.evaluate(() => { location.hash = '#/r/staging/flags'; });
	await visible(page, `diff-${HEAD0 + 7}`);
	const diffRows = (seq) => page.locator(`${tid(`diff-${seq}`)} tr`).evaluateAll((trs) =>
		trs.map((tr) => `${tr.className}:${tr.textContent}`).join('|'));
	eq(await diffRows(HEAD0 + 7), 'changed:checkoutfalse→true|added:none∅→null', 'the CLI\'s typed set');
	eq(await diffRows(HEAD0 + 5), 'changed:checkouttrue→false', 'the string "true" to the boolean false');
	eq(await page.locator(`${tid(`diff-${HEAD0 + 5}`)} td.old [data-typed]`).count(), 0, 'the string is not marked');
	eq(await page.locator(`${tid(`diff-${HEAD0 + 5}`)} td.new [data-typed]`).count(), 1, 'the boolean is');
	eq(await diffRows(HEAD0 + 8), 'changed:checkouttrue→false|removed:limits[8080,-7,-100,-200,-40000,' +
		'5000000000,-5000000000,1.5,1e+300,"a","",true,false,null]→(removed)|removed:nonenull→(removed)',
	'the rollback');
	await page.evaluate(() => { location.hash = '#/'; });
	await visible(page, 'release-staging/api');

	step = 'history after';
	await page.click(tid('open-staging/api'));
	await visible(page, `entry-${HEAD0 + 2}`);
	const kinds = await page.locator('[data-testid="timeline"] > li').evaluateAll((lis) =>
		lis.map((li) => `${li.dataset.seq}:${li.dataset.kind}`));
	eq(JSON.stringify(kinds), JSON.stringify([`${HEAD0 + 2}:lock`, `${HEAD0 + 1}:rollback`, '5:set', '4:set', '3:set']),
		'timeline');
	eq(await page.locator(`${tid(`diff-${HEAD0 + 1}`)} tr`).evaluateAll((trs) =>
		trs.map((tr) => tr.textContent).join('|')), 'image.tagv3→v1', 'the rollback\'s diff');

	// ---- narrow screen, then signed out again ----
	step = 'narrow';
	await page.setViewportSize({ width: 390, height: 844 });
	await page.goto(BASE + '/#/');
	await visible(page, 'release-staging/api');
	const w = await page.evaluate(() => document.documentElement.scrollWidth);
	if (w > 390)
		fail(`the page scrolls sideways at 390 px: ${w} px wide`);
	ok('no sideways scrolling at 390 px');
	await page.screenshot({ path: path.join(SHOTS, 'browser-narrow.png'), fullPage: true });

	// a second visit revalidates / and /ui/* (Cache-Control: no-cache)
	// and gets 304s; the page must still be allowed to load its files
	step = 'revalidation';
	for (const [p, [csp200, csp304]] of revalidated)
		eq(csp304, csp200, `GET ${p}: the 304's CSP (the browser keeps it for the cached page)`);

	step = 'signed out';
	await page.setViewportSize({ width: 1280, height: 900 });
	const fresh = await ctx.newPage();
	current = fresh;
	await fresh.goto(BASE + '/');
	await waitText(fresh, 'value-staging/api-image.tag', /^v1$/, 'a new page: staging/api image.tag');
	eq(await actionButtons(fresh), 0, 'a new page (not signed in): action buttons');
	await fresh.goto(BASE + `/#/r/staging/api`);
	await visible(fresh, 'timeline');
	eq(await actionButtons(fresh), 0, 'a new page: history action buttons');
	await page.click(tid('signout'));
	await visible(page, 'signin-open');
	await noActionButtons(page, 'after Sign out');

	step = 'console';
	if (problems.length)
		fail(`the page logged errors:\n  ${problems.join('\n  ')}`);
	ok('no console errors, no CSP violations');
	await ctx.close();
}

// A page in a context of its own (no cache, no session): the one a
// failure shows.
async function openPage(browser, name) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	current = page;
	step = name;
	return { ctx, page };
}

// The apply column, from /api/v1/releases answers with the applier's
// outcomes filled in on the way (the test ledger has no applier).
async function applyBadges(browser) {
	const { ctx, page } = await openPage(browser, 'apply badges');
	const outcome = {
		'staging/api': { kind: 'applied', current: true, want: /^applied$/ },
		'staging/web': { kind: 'apply-failed', current: false, want: /^apply failed$/ },
		'prod/api': { kind: 'applied', current: false, want: /^pending$/ },
	};
	await page.route('**/api/v1/releases', async (route) => {
		const res = await route.fetch();
		const d = await res.json();
		for (const r of d.releases) {
			const o = outcome[r.target];
			if (o)
				r.apply = { seq: d.head, kind: o.kind, time: r.changed.time, signer: 'applier',
					desired_seq: o.current ? r.changed.seq : r.changed.seq - 1, current: o.current };
		}
		await route.fulfill({ response: res, json: d });
	});
	await page.goto(BASE + '/');
	for (const [t, o] of Object.entries(outcome))
		await waitText(page, `apply-${t}`, o.want, `${t}: ${o.kind}, current ${o.current}`);
	await ctx.close();
}

// A ledger whose entry 4 has a flipped signature byte (browser.sh made
// it with ldg_tamper and serves it afresh): the page must say so.
async function tampered(browser) {
	const { ctx, page } = await openPage(browser, 'tampered');
	await page.goto(BASE + '/');
	await waitText(page, 'verify-badge', /^VERIFY FAILED at seq 4: bad signature$/, 'verify badge');
	eq(await page.locator(tid('verify-badge')).getAttribute('class'), 'badge badge-bad', 'verify badge is red');
	await page.click(tid('verify-badge'));
	await visible(page, 'entry-page-4', 'the badge leads to entry 4');
	await waitText(page, 'sig-status', /^signature BAD$/, 'entry 4 signature');
	await waitText(page, 'chain-prev', /^prev ok$/, 'entry 4 prev');
	await waitText(page, 'chain-next', /^next MISMATCH$/, 'entry 5 no longer links to entry 4');
	await page.screenshot({ path: path.join(SHOTS, 'browser-tampered.png'), fullPage: true });
	await page.goto(BASE + '/#/e/3');
	await waitText(page, 'sig-status', /^signature ok$/, 'entry 3 signature');
	await ctx.close();
}

// A release with 250 entries (browser.sh: dev/busy image.tag=b1..b250,
// seqs 2..251): the history opens with the newest 100, the oldest of
// them diffed against the state before it (not shown as an addition),
// and "Show 100 older entries" pages back to the first.
async function paging(browser) {
	const { ctx, page } = await openPage(browser, 'paging');
	const seqs = () => page.locator(`${tid('timeline')} > li`).evaluateAll((lis) =>
		lis.map((li) => Number(li.dataset.seq)));
	const shown = async (n, what) => {
		const end = Date.now() + T;
		let s = await seqs();
		while (s.length !== n && Date.now() < end) {
			await page.waitForTimeout(100);
			s = await seqs();
		}
		eq(s.length, n, `${what}: entries shown`);
		return s;
	};
	const diffRow = async (seq, cls, old, now) => {
		const row = page.locator(`${tid(`diff-${seq}`)} tr`);
		eq(await row.count(), 1, `entry ${seq}: one changed key`);
		eq(await row.getAttribute('class'), cls, `entry ${seq}: diff kind`);
		eq((await row.locator('td.old').textContent()).trim(), old, `entry ${seq}: old value`);
		eq((await row.locator('td.new').textContent()).trim(), now, `entry ${seq}: new value`);
	};
	await page.goto(BASE + '/#/r/dev/busy');
	await visible(page, 'timeline');
	let s = await shown(100, 'first page');
	eq(`${s[0]}..${s[99]}`, '251..152', 'first page: newest first');
	await waitText(page, 'history-count', /^the newest 100 entries, newest first$/, 'first page: count');
	await diffRow(152, 'changed', 'b150', 'b151');
	await page.click(tid('history-older'));
	s = await shown(200, 'two pages');
	eq(`${s[100]}..${s[199]}`, '151..52', 'second page');
	await diffRow(52, 'changed', 'b50', 'b51');
	await page.click(tid('history-older'));
	s = await shown(250, 'three pages');
	eq(`${s[200]}..${s[249]}`, '51..2', 'third page: down to the first entry');
	await waitText(page, 'history-count', /^250 entries, newest first$/, 'all: count');
	eq(await page.locator(tid('history-older')).count(), 0, 'no older entries: no button');
	await diffRow(2, 'added', '∅', 'b1');
	await ctx.close();
}

// Four eyes (browser.sh: prod/* needs one approval; admin proposed
// prod/api image.tag=v10 as PROPOSAL): the page lists the proposal with
// the release's policy badge; the approver signs in with its key file,
// approves it in the page (signed in the tab), and the page shows the
// change in effect and the approval in the proposal's history item.
async function approveOnThePage(browser) {
	const P = Number(env('PROPOSAL'));
	const { ctx, page } = await openPage(browser, 'pending');
	const problems = [];
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	await page.goto(BASE + '/');
	await visible(page, `pending-${P}`, 'the proposal in the pending list');
	await waitText(page, `pending-approvals-${P}`, /^0 of 1$/, 'its approvals');
	await waitText(page, 'value-prod/api-image.tag', /^v9$/, 'prod/api still runs v9');
	await waitText(page, 'policy-prod/api', /^1 approval$/, 'the policy badge');
	await waitText(page, 'drift-prod/api', /^drifted$/, 'the drift badge');
	eq(await page.locator(tid('drift-prod/api')).getAttribute('href'), '#/e/5',
		'the drift badge links its drift entry');
	eq(await page.locator(tid(`approve-${P}`)).count(), 0, 'signed out: no Approve button');

	step = 'approve';
	await page.click(tid('signin-open'));
	await page.locator(tid('signin-file')).setInputFiles(env('APPROVER_KEY'));
	await page.click(tid('signin-submit'));
	await waitText(page, 'signed-in-as', /^signed in as approver \(deployer, prod\/\*\)$/, 'who');
	await visible(page, `approve-${P}`, 'the Approve button');
	eq(await page.locator(tid(`withdraw-${P}`)).count(), 0,
		'no Withdraw: neither its author nor an admin');
	await page.click(tid(`approve-${P}`));
	await visible(page, 'action-form-approve');
	await page.fill(tid('action-reason'), 'LGTM, checked the canary');
	await page.click(tid('action-submit'));
	await waitText(page, 'action-result', new RegExp(`^approved at seq ${P + 1}: #${P} took effect$`),
		'the approval made it take effect');
	await page.click(tid('action-close'));
	await waitText(page, 'value-prod/api-image.tag', /^v10$/, 'prod/api runs v10, live');
	const end = Date.now() + T;
	while (await page.locator(tid('pending')).count() && Date.now() < end)
		await page.waitForTimeout(100);
	eq(await page.locator(tid('pending')).count(), 0, 'nothing waits any more');

	step = 'history';
	await page.click(tid('open-prod/api'));
	await visible(page, `proposal-${P}`, 'the proposal\'s item');
	eq(await page.locator(tid(`proposal-${P}`)).getAttribute('data-status'), 'effective',
		'the proposal is effective');
	await waitText(page, `approvals-${P}`, new RegExp(`^approved by approver at #${P + 1}$`),
		'its approvals');
	await waitText(page, `vote-${P + 1}`, new RegExp(`^approves #${P}, which took effect here$`),
		'the approval names its proposal');
	eq(await page.locator(`${tid(`diff-${P + 1}`)} tr`).evaluateAll((trs) =>
		trs.map((tr) => tr.textContent).join('|')), 'image.tagv9→v10',
	'the change shows at the approval that enacted it');
	await page.screenshot({ path: path.join(SHOTS, 'browser-approved.png'), fullPage: true });
	if (problems.length)
		fail(`the page logged errors:\n  ${problems.join('\n  ')}`);
	ok('no page errors');
	await ctx.close();
}

try {
	await main();
	console.log(`${passed} passed, 0 failed`);
} catch (e) {
	console.log(`FAIL: ${e instanceof Mismatch ? e.message : `${step}: ${e.stack || e}`}`);
	console.log(`${passed} passed, 1 failed`);
	process.exit(1);
}
