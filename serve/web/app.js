/*
 * app.js - the web page of `ledger serve`: one page, hash routes, plain
 * JavaScript, no build step. Served as /ui/app.js under a CSP that allows
 * only same-origin scripts, styles and connections: no inline script or
 * style, no eval, nothing external.
 *
 *   #/                    every cluster and its releases (/api/v1/releases)
 *   #/r/CLUSTER/RELEASE   a release's history with per-key diffs
 *   #/e/SEQ               one entry, its signature and chain checks
 *
 * Rules kept throughout: text from the ledger goes into the page with
 * textContent only (el() below), never innerHTML; a private key lives in
 * this tab's memory as a non-extractable CryptoKey and is never sent.
 * Writes follow web-contract.md: POST /api/v1/drafts, sign `message`,
 * POST /api/v1/entries {draft, signature}; 409 redrafts (10 tries).
 */
'use strict';

(() => {
	/* ---- small DOM helpers ---- */

	const $ = (sel, root = document) => root.querySelector(sel);

	/* el('a', {href, class, testid, title, data: {seq: 4}}, child...):
	 * children are nodes, strings (as text), arrays, or null (skipped). */
	function el(tag, attrs, ...children) {
		const n = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'class')
				n.className = v;
			else if (k === 'testid')
				n.dataset.testid = v;
			else if (k === 'data')
				Object.assign(n.dataset, v);
			else if (k === 'on')
				for (const [ev, fn] of Object.entries(v))
					n.addEventListener(ev, fn);
			else if (v === true)
				n.setAttribute(k, '');
			else
				n.setAttribute(k, String(v));
		}
		append(n, children);
		return n;
	}

	function append(n, children) {
		for (const c of children) {
			if (c === null || c === undefined || c === false)
				continue;
			if (Array.isArray(c))
				append(n, c);
			else if (c instanceof Node)
				n.appendChild(c);
			else
				n.appendChild(document.createTextNode(String(c)));
		}
	}

	function clear(n) {
		while (n.firstChild)
			n.removeChild(n.firstChild);
	}

	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

	/* ---- the API ---- */

	class ApiError extends Error {
		constructor(status, message, body, headers) {
			super(message);
			this.status = status;
			this.body = body;
			this.headers = headers;
		}
	}

	async function api(path, opts = {}) {
		let res;
		try {
			res = await fetch(path, {
				cache: 'no-store',
				...opts,
				headers: { Accept: 'application/json',
					   ...(opts.headers || {}) },
			});
		} catch (e) {
			throw new ApiError(0, 'the server cannot be reached',
					   null, null);
		}
		const text = await res.text();
		let body = null;
		try {
			body = text ? JSON.parse(text) : null;
		} catch (e) {
			body = null;
		}
		if (!res.ok) {
			const msg = body && typeof body.error === 'string'
				? body.error
				: `HTTP ${res.status} ${res.statusText}`.trim();
			throw new ApiError(res.status, msg, body, res.headers);
		}
		return body;
	}

	/* A JSON POST; a 429 waits for Retry-After (at most 5 times). */
	async function post(path, body, onWait) {
		for (let waits = 0; ; waits++) {
			try {
				return await api(path, {
					method: 'POST',
					headers: { 'Content-Type':
						   'application/json' },
					body: JSON.stringify(body),
				});
			} catch (e) {
				if (e.status !== 429 || waits >= 5)
					throw e;
				const ra = Number(e.headers &&
						  e.headers.get('Retry-After'));
				const s = Number.isFinite(ra) && ra > 0
					? Math.min(ra, 60) : 1;
				if (onWait)
					onWait(`the server is busy; retrying in ${s} s`);
				await sleep(s * 1000);
			}
		}
	}

	const enc = encodeURIComponent;
	const targetPath = (t) => t.split('/').map(enc).join('/');

	/* ---- text formats ---- */

	/* RFC 3339 with up to 9 fraction digits (Date wants at most 3). */
	function parseTime(s) {
		if (typeof s !== 'string')
			return null;
		const t = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
		return Number.isNaN(t) ? null : new Date(t);
	}

	function relTime(d) {
		const s = Math.round((Date.now() - d.getTime()) / 1000);
		const a = Math.abs(s);
		const sfx = s >= 0 ? ' ago' : ' from now';
		if (a < 10)
			return 'just now';
		if (a < 60)
			return `${a} s${sfx}`;
		if (a < 3600)
			return `${Math.floor(a / 60)} min${sfx}`;
		if (a < 86400)
			return `${Math.floor(a / 3600)} h${sfx}`;
		if (a < 86400 * 30)
			return `${Math.floor(a / 86400)} d${sfx}`;
		return d.toISOString().slice(0, 10);
	}

	/* A <time> with the relative time as text and the exact one on
	 * hover; relative texts are refreshed every 30 s. */
	function timeEl(s, testid) {
		const d = parseTime(s);
		if (!d)
			return el('span', { class: 'muted', testid }, s || '—');
		return el('time', {
			datetime: s, testid, class: 'time',
			title: `${s}\n${d.toLocaleString()}`,
			data: { rel: '1' },
		}, relTime(d));
	}

	setInterval(() => {
		for (const t of document.querySelectorAll('time[data-rel]')) {
			const d = parseTime(t.getAttribute('datetime'));
			if (d)
				t.textContent = relTime(d);
		}
	}, 30000);

	const short = (h) => (typeof h === 'string' && h.length > 16
		? `${h.slice(0, 8)}…${h.slice(-4)}` : h || '—');

	function kindBadge(kind) {
		return el('span', { class: `kind kind-${kind}` }, kind);
	}

	/* ---- bytes ---- */

	function b64decode(s) {
		const bin = atob(s);
		const out = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++)
			out[i] = bin.charCodeAt(i);
		return out;
	}

	function b64encode(bytes) {
		let bin = '';
		for (const b of bytes)
			bin += String.fromCharCode(b);
		return btoa(bin);
	}

	function b64urlDecode(s) {
		let t = s.replace(/-/g, '+').replace(/_/g, '/');
		while (t.length % 4)
			t += '=';
		return b64decode(t);
	}

	const hex = (bytes) => Array.from(bytes,
		(b) => b.toString(16).padStart(2, '0')).join('');

	function sameBytes(a, b) {
		if (a.length !== b.length)
			return false;
		let d = 0;
		for (let i = 0; i < a.length; i++)
			d |= a[i] ^ b[i];
		return d === 0;
	}

	/* ---- scopes: fnmatch(3) with FNM_PATHNAME, as ldg_scope_match ---- */

	/* [...] at pat[pi] against ch: {ok, next} or null when unclosed
	 * (then '[' is a literal, as in glibc). */
	function bracket(pat, pi, ch) {
		let i = pi + 1;
		let neg = false;
		if (pat[i] === '!' || pat[i] === '^') {
			neg = true;
			i++;
		}
		let ok = false;
		let first = true;
		while (i < pat.length && (first || pat[i] !== ']')) {
			first = false;
			const lo = pat[i];
			if (pat[i + 1] === '-' && i + 2 < pat.length &&
			    pat[i + 2] !== ']') {
				if (lo <= ch && ch <= pat[i + 2])
					ok = true;
				i += 3;
			} else {
				if (lo === ch)
					ok = true;
				i++;
			}
		}
		if (i >= pat.length)
			return null;
		return { ok: ok !== neg, next: i + 1 };
	}

	/* * ? and [...] never match '/'. */
	function globMatch(pat, str) {
		function m(pi, si) {
			while (pi < pat.length) {
				const c = pat[pi];
				if (c === '*') {
					while (pat[pi] === '*')
						pi++;
					if (pi === pat.length)
						return !str.includes('/', si);
					for (let k = si; k <= str.length; k++) {
						if (m(pi, k))
							return true;
						if (str[k] === '/')
							return false;
					}
					return false;
				}
				if (si >= str.length)
					return false;
				if (c === '?') {
					if (str[si] === '/')
						return false;
				} else if (c === '[') {
					const r = bracket(pat, pi, str[si]);
					if (r === null) {
						if (str[si] !== '[')
							return false;
					} else {
						if (!r.ok || str[si] === '/')
							return false;
						pi = r.next;
						si++;
						continue;
					}
				} else if (c !== str[si]) {
					return false;
				}
				pi++;
				si++;
			}
			return si === str.length;
		}
		return m(0, 0);
	}

	/* Scope lists are globs separated by spaces; '*' alone is all. */
	function scopesCover(scopes, target) {
		return String(scopes || '').split(' ').filter(Boolean)
			.some((s) => s === '*' || globMatch(s, target));
	}

	/* ---- the session: a signing key in memory ---- */

	let session = null; /* {name, keyid, role, scopes, key} */

	const PKCS8_ED25519 = new Uint8Array([
		0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
		0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
	]);

	/* PRIVATE+KEY+NAME+KEYID+BASE64(01 || seed32), docs/format.md 7 */
	function parsePrivateKey(text) {
		const line = text.replace(/\r?\n$/, '').trim();
		const bad = (why) => new Error(`not a ledger private key: ${why}`);
		if (!line.startsWith('PRIVATE+KEY+'))
			throw bad('it must start with PRIVATE+KEY+ (pick NAME.key, not NAME.pub)');
		if (/\s/.test(line))
			throw bad('it must be one line without spaces');
		const rest = line.slice('PRIVATE+KEY+'.length);
		const p1 = rest.indexOf('+');
		const p2 = p1 < 0 ? -1 : rest.indexOf('+', p1 + 1);
		if (p1 <= 0 || p2 < 0)
			throw bad('expected NAME+KEYID+KEY after PRIVATE+KEY+');
		const name = rest.slice(0, p1);
		const keyid = rest.slice(p1 + 1, p2).toLowerCase();
		const b64 = rest.slice(p2 + 1);
		if (!/^[0-9a-f]{8}$/.test(keyid))
			throw bad('the key id is not 8 hex digits');
		if (!/^[A-Za-z0-9+/]{44}$/.test(b64))
			throw bad('the key is not 44 base64 characters');
		const raw = b64decode(b64);
		if (raw.length !== 33 || raw[0] !== 0x01) {
			raw.fill(0);
			throw bad('not an Ed25519 key (type byte 01)');
		}
		return { name, keyid, raw };
	}

	async function keyIdOf(name, pk) {
		const n = new TextEncoder().encode(name);
		const buf = new Uint8Array(n.length + 2 + pk.length);
		buf.set(n, 0);
		buf[n.length] = 0x0a;
		buf[n.length + 1] = 0x01;
		buf.set(pk, n.length + 2);
		const h = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
		return hex(h.slice(0, 4));
	}

	/* The contract's procedure: seed -> PKCS#8 -> extractable import ->
	 * JWK "x" (public key) -> non-extractable re-import; the seed is
	 * wiped; then the key must be in the keyring and not revoked. */
	async function signIn(text) {
		if (!window.crypto || !crypto.subtle)
			throw new Error('signing needs a secure context: open the page over https or on localhost');
		const { name, keyid, raw } = parsePrivateKey(text);
		const pkcs8 = new Uint8Array(PKCS8_ED25519.length + 32);
		pkcs8.set(PKCS8_ED25519, 0);
		pkcs8.set(raw.subarray(1), PKCS8_ED25519.length);
		raw.fill(0);
		let key;
		let pk;
		try {
			let tmp;
			try {
				tmp = await crypto.subtle.importKey('pkcs8', pkcs8,
					{ name: 'Ed25519' }, true, ['sign']);
			} catch (e) {
				throw new Error(`this browser cannot use the key (Ed25519 in WebCrypto): ${e.message}`);
			}
			const jwk = await crypto.subtle.exportKey('jwk', tmp);
			pk = b64urlDecode(jwk.x);
			jwk.d = '';
			key = await crypto.subtle.importKey('pkcs8', pkcs8,
				{ name: 'Ed25519' }, false, ['sign']);
		} finally {
			pkcs8.fill(0);
		}
		if (await keyIdOf(name, pk) !== keyid)
			throw new Error(`the key id ${keyid} does not match the key named ${name}`);

		const { keys } = await api('/api/v1/keys');
		const k = (keys || []).find((x) => x.keyid === keyid);
		if (!k)
			throw new Error(`${name} (${keyid}) is not in this ledger's keyring`);
		const parts = String(k.vkey || '').split('+');
		let vk = null;
		try {
			vk = b64decode(parts.slice(2).join('+'));
		} catch (e) {
			vk = null;
		}
		if (!vk || vk.length !== 33 || vk[0] !== 0x01 ||
		    !sameBytes(vk.subarray(1), pk))
			throw new Error(`the keyring's key ${keyid} is not this key`);
		if (k.revoked_seq !== null && k.revoked_seq !== undefined)
			throw new Error(`${k.name} was revoked at seq ${k.revoked_seq}`);
		return { name: k.name, keyid, role: k.role,
			 scopes: k.scopes, key };
	}

	function canWrite(target) {
		return !!session &&
			(session.role === 'deployer' || session.role === 'admin') &&
			scopesCover(session.scopes, target);
	}

	async function sign(messageB64) {
		const msg = b64decode(messageB64);
		const sig = await crypto.subtle.sign('Ed25519', session.key, msg);
		return b64encode(new Uint8Array(sig));
	}

	/* ---- what is signed: the draft's bytes, decoded and checked ---- */

	/* The msgpack subset of docs/format.md sections 2 and 3.2: uint,
	 * str, bin and array, and the types of a typed value (nil, false,
	 * true, negative and signed integers, float 64). Returns [value,
	 * next index]; throws on anything else. uint 64 and int 64 stay
	 * BigInts; str is a JS string, bin a Uint8Array. It does not judge
	 * canonical form: the changes the page signs are compared byte for
	 * byte with its own encoding (mpWrite), and the server's append
	 * checks the rest. */
	function mpRead(b, i) {
		const need = (n) => {
			if (i + n > b.length)
				throw new Error('truncated');
		};
		const be = (n) => {
			need(n);
			let v = 0;
			for (let k = 0; k < n; k++)
				v = v * 256 + b[i + k];
			i += n;
			return v;
		};
		const view = (n) => {
			need(n);
			const dv = new DataView(b.buffer, b.byteOffset + i, n);
			i += n;
			return dv;
		};
		need(1);
		const t = b[i++];
		let n;
		if (t <= 0x7f)
			return [t, i];
		if (t >= 0xe0)
			return [t - 0x100, i];
		if (t === 0xc0 || t === 0xc2 || t === 0xc3)
			return [t === 0xc0 ? null : t === 0xc3, i];
		if (t === 0xcc || t === 0xcd || t === 0xce)
			return [be(1 << (t - 0xcc)), i];
		if (t === 0xcf)
			return [view(8).getBigUint64(0), i];
		if (t === 0xd0)
			return [view(1).getInt8(0), i];
		if (t === 0xd1)
			return [view(2).getInt16(0), i];
		if (t === 0xd2)
			return [view(4).getInt32(0), i];
		if (t === 0xd3)
			return [view(8).getBigInt64(0), i];
		if (t === 0xcb)
			return [view(8).getFloat64(0), i];
		if (t >= 0xa0 && t <= 0xbf || t === 0xd9 || t === 0xda || t === 0xdb) {
			n = t <= 0xbf ? t - 0xa0 : be(1 << (t - 0xd9));
			need(n);
			const str = new TextDecoder('utf-8', { fatal: true })
				.decode(b.subarray(i, i + n));
			return [str, i + n];
		}
		if (t === 0xc4 || t === 0xc5 || t === 0xc6) {
			n = be(1 << (t - 0xc4));
			need(n);
			return [b.slice(i, i + n), i + n];
		}
		if (t >= 0x90 && t <= 0x9f || t === 0xdc || t === 0xdd) {
			n = t <= 0x9f ? t - 0x90 : be(t === 0xdc ? 2 : 4);
			const a = [];
			for (let k = 0; k < n; k++) {
				let v;
				[v, i] = mpRead(b, i);
				a.push(v);
			}
			return [a, i];
		}
		throw new Error(`msgpack type 0x${t.toString(16)} is not in an entry`);
	}

	/* The one encoding of v (docs/format.md 2.2 and 3.2) as a byte
	 * array: a string as str, null, false, true, an integer in int64
	 * range (unsigned forms from 0, the shortest negative form below),
	 * any other finite number as float 64, an array of these. Integers
	 * beyond 2^53 are refused (a JS number does not hold them
	 * exactly; typedValue() keeps them out of the page's requests), and
	 * so is every other type. */
	function mpWrite(v, out = []) {
		const be = (x, n) => {
			for (let k = n - 1; k >= 0; k--)
				out.push(Math.floor(x / 2 ** (8 * k)) % 256);
		};
		const bytes = (tag, n, fill) => {
			const dv = new DataView(new ArrayBuffer(n));
			fill(dv);
			out.push(tag, ...new Uint8Array(dv.buffer));
		};
		if (typeof v === 'string') {
			const s = new TextEncoder().encode(v);
			if (s.length < 32)
				out.push(0xa0 + s.length);
			else if (s.length < 256)
				out.push(0xd9, s.length);
			else if (s.length < 65536)
				out.push(0xda), be(s.length, 2);
			else
				out.push(0xdb), be(s.length, 4);
			out.push(...s);
		} else if (v === null || v === false || v === true) {
			out.push(v === null ? 0xc0 : v ? 0xc3 : 0xc2);
		} else if (Array.isArray(v)) {
			if (v.length < 16)
				out.push(0x90 + v.length);
			else if (v.length < 65536)
				out.push(0xdc), be(v.length, 2);
			else
				out.push(0xdd), be(v.length, 4);
			for (const x of v)
				mpWrite(x, out);
		} else if (typeof v !== 'number' || !Number.isFinite(v)) {
			throw new Error(`${String(v)} cannot be a value`);
		} else if (!Number.isInteger(v) || Math.abs(v) >= 2 ** 63) {
			bytes(0xcb, 8, (dv) => dv.setFloat64(0, v));
		} else if (!Number.isSafeInteger(v)) {
			throw new Error(`${v} is not within ±(2^53 - 1): the page cannot write it exactly`);
		} else if (v >= 0) {
			if (v < 128)
				out.push(v);
			else if (v < 256)
				out.push(0xcc, v);
			else if (v < 65536)
				out.push(0xcd), be(v, 2);
			else if (v < 2 ** 32)
				out.push(0xce), be(v, 4);
			else
				bytes(0xcf, 8, (dv) => dv.setBigUint64(0, BigInt(v)));
		} else if (v >= -32) {
			out.push(0x100 + v);
		} else if (v >= -128) {
			bytes(0xd0, 1, (dv) => dv.setInt8(0, v));
		} else if (v >= -32768) {
			bytes(0xd1, 2, (dv) => dv.setInt16(0, v));
		} else if (v >= -(2 ** 31)) {
			bytes(0xd2, 4, (dv) => dv.setInt32(0, v));
		} else {
			bytes(0xd3, 8, (dv) => dv.setBigInt64(0, BigInt(v)));
		}
		return out;
	}

	/* What the dialog's "JSON" toggle makes of text, as `ledger set
	 * T KEY:=JSON` does (DESIGN: the library refuses the same; the page
	 * says why before anything is signed): a JSON string is the plain
	 * string; objects, nested arrays, more than 1000 items and numbers
	 * that are not finite are refused, and integers beyond 2^53, which a
	 * JS number does not hold exactly. */
	function typedValue(text) {
		let v;
		try {
			v = JSON.parse(text);
		} catch (e) {
			throw new Error(`the value is not JSON (${e.message}); untick "JSON" for a string`);
		}
		const scalar = (x) => {
			if (x !== null && typeof x === 'object')
				throw new Error(Array.isArray(x)
					? 'arrays hold only scalars: no nested arrays'
					: 'objects are not values: use dotted keys, e.g. a.b:=1');
			if (typeof x === 'number' && !Number.isFinite(x))
				throw new Error(`${text} is not a finite number`);
			/* JSON.stringify writes these as digits, which the
			 * server would read as an integer (1e21 and up it
			 * writes as 1e+21, a float) */
			if (Number.isInteger(x) && !Number.isSafeInteger(x) && Math.abs(x) < 1e21)
				throw new Error(`${text} is not within ±(2^53 - 1), which the page cannot write exactly: use ledger set`);
		};
		if (Array.isArray(v)) {
			if (v.length > 1000)
				throw new Error('an array holds at most 1000 items');
			v.forEach(scalar);
		} else {
			scalar(v);
		}
		return v;
	}

	/* message = "ledger/v1/entry" 00 ORIGIN 00 BODY, BODY = 9a field0..field9
	 * (version 1) or 9b field0..field10 (version 2: field 10 is the
	 * 32-byte commitment to the keyring and locks after the entry,
	 * docs/format.md 8.1). changesBytes: field 7 as it stands there. */
	function parseMessage(msg) {
		const tag = new TextEncoder().encode('ledger/v1/entry\0');
		if (!sameBytes(msg.subarray(0, tag.length), tag))
			throw new Error('not an entry signing message');
		const z = msg.indexOf(0, tag.length);
		if (z < 0 || (msg[z + 1] !== 0x9a && msg[z + 1] !== 0x9b))
			throw new Error('malformed signing message');
		const origin = new TextDecoder().decode(msg.subarray(tag.length, z));
		const n = msg[z + 1] - 0x90;
		const f = [];
		const at = [];
		let end = z + 2;
		for (let k = 0; k < n; k++) {
			at.push(end);
			[f[k], end] = mpRead(msg, end);
		}
		if (end !== msg.length || n !== (f[0] === 2 ? 11 : 10))
			throw new Error('malformed entry body');
		return { origin, body: msg.subarray(z + 1), version: f[0], seq: Number(f[1]),
			 prev: hex(f[2]), signer: hex(f[4]), kind: f[5], target: f[6], changes: f[7],
			 changesBytes: msg.subarray(at[7], at[8]),
			 reason: f[8], metadata: f[9], authz: n === 11 ? f[10] : null };
	}

	let ledgerOrigin = null;

	async function stateOf(target, at) {
		const st = await api(`/api/v1/state?at=${at}&scope=${enc(target)}`);
		const t = st.targets && st.targets[target];
		return new Map(Object.entries((t && t.values) || {}));
	}

	/* The page signs only what it asked for: the message's origin,
	 * signer, kind, target, reason, changes and metadata are checked
	 * against the request (a rollback's changes against the states at
	 * `to` and at the head it was drafted on), and the draft must be
	 * exactly those bytes with an empty signature. */
	async function checkDraft(req, d) {
		const msg = b64decode(d.message);
		const draft = b64decode(d.draft);
		const m = parseMessage(msg);
		const bad = (what) => new Error(`the server's draft is not what was asked (${what}); nothing was signed`);
		if (!ledgerOrigin)
			ledgerOrigin = (await api('/api/v1/head')).origin;
		if (m.origin !== ledgerOrigin)
			throw bad(`origin ${m.origin}`);
		/* the commitment's value is the server's to check when the
		 * entry is appended (a wrong one is refused, never stored):
		 * the page checks its shape */
		if (m.version !== 2 || !(m.authz instanceof Uint8Array) ||
		    m.authz.length !== 32 || m.signer !== session.keyid)
			throw bad('version, commitment or signer');
		if (m.kind !== req.kind || m.target !== req.target || m.reason !== req.reason)
			throw bad('kind, target or reason');
		let changes = [];
		let meta = [];
		if (req.kind === 'set') {
			changes = Object.keys(req.changes).sort().map((k) => [k, req.changes[k]]);
			if (req.force && m.metadata.some(([k]) => k === 'forced'))
				meta = [['forced', 'true']];
		} else if (req.kind === 'approve' || req.kind === 'withdraw') {
			changes = [['proposal', String(req.proposal)]];
		} else if (req.kind === 'rollback') {
			const [at, now] = await Promise.all([stateOf(req.target, req.to),
				stateOf(req.target, m.seq - 1)]);
			const keys = [...new Set([...at.keys(), ...now.keys()])].sort();
			for (const k of keys) {
				if (!at.has(k))
					changes.push([k]);
				else if (!now.has(k) || !sameValue(at.get(k), now.get(k)))
					changes.push([k, at.get(k)]);
			}
			meta = [['rollback-to', String(req.to)]];
		}
		if (req.emergency)
			meta.push(['emergency', 'true']);
		/* a soak's evidence (docs/api.md, drafts): the seq of an earlier
		 * applied entry that the server found for a change taking effect
		 * under a soak; the append checks it, so a wrong one is refused,
		 * never recorded as true */
		const soak = m.metadata.find(([k]) => k === 'soak-applied');
		if (soak && ['set', 'unset', 'rollback', 'approve'].includes(req.kind) &&
		    /^[1-9][0-9]{0,18}$/.test(soak[1]) && BigInt(soak[1]) < BigInt(m.seq))
			meta.push(soak);
		meta.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
		/* byte for byte: a typed value has one encoding, and a string
		 * that reads like one ("3") is not it (3) */
		if (!sameBytes(m.changesBytes, mpWrite(changes)))
			throw bad(`changes ${JSON.stringify(m.changes, (k, v) =>
				(typeof v === 'bigint' ? String(v) : v))}`);
		if (JSON.stringify(m.metadata) !== JSON.stringify(meta))
			throw bad(`metadata ${JSON.stringify(m.metadata)}`);
		const want = new Uint8Array(m.body.length + 66);
		want.set(m.body, 0);
		want[0] = m.body[0] + 1; /* one field more: the signature */
		want[m.body.length] = 0xc4;
		want[m.body.length + 1] = 0x40;
		if (!sameBytes(draft, want))
			throw bad('the draft is not the signed message\'s entry');
	}

	/* The signed entry's bytes: the draft with the signature in place
	 * of its empty one (the last 64 bytes), and their entry hash. */
	async function signedHash(draftB64, signatureB64) {
		const bytes = b64decode(draftB64);
		bytes.set(b64decode(signatureB64), bytes.length - 64);
		const pre = new Uint8Array(bytes.length + 1);
		pre.set(bytes, 1);
		return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', pre)));
	}

	/* Draft, check, sign, append; a 409 (the head moved) redrafts, 10
	 * tries with a jittered backoff. {seq, hash} or {nothing: why}.
	 * next: a second request (a lock) drafted on the first's signed
	 * entry and appended with it in one transaction (a batch); its
	 * outcome in .next ({seq, hash} or {nothing}). */
	async function appendSigned(req, onWait, next) {
		const tries = 10;
		for (let i = 1; ; i++) {
			const d = await post('/api/v1/drafts',
				{ signer: session.keyid, ...req }, onWait);
			if (!d || d.draft === null || d.draft === undefined)
				return { nothing: (d && d.why) || 'nothing to do' };
			await checkDraft(req, d);
			const signature = await sign(d.message);
			try {
				if (!next)
					return await post('/api/v1/entries',
						{ draft: d.draft, signature }, onWait);
				const after = { draft: d.draft, signature };
				const h1 = await signedHash(d.draft, signature);
				const d2 = await post('/api/v1/drafts',
					{ signer: session.keyid, ...next, after }, onWait);
				if (!d2 || d2.draft === null || d2.draft === undefined) {
					const r = await post('/api/v1/entries', after, onWait);
					return { ...r, next: { nothing: (d2 && d2.why) || 'nothing to do' } };
				}
				await checkDraft(next, d2);
				const m1 = parseMessage(b64decode(d.message));
				const m2 = parseMessage(b64decode(d2.message));
				if (m2.seq !== m1.seq + 1 || m2.prev !== h1)
					throw new Error('the server\'s second draft does not follow the first; nothing was signed');
				const signature2 = await sign(d2.message);
				const h2 = await signedHash(d2.draft, signature2);
				const r = await post('/api/v1/entries', { batch: [after,
					{ draft: d2.draft, signature: signature2 }] }, onWait);
				const [e1, e2] = (r && r.entries) || [];
				if (!e1 || !e2 || e1.hash !== h1 || e2.hash !== h2 ||
				    e1.seq !== m1.seq || e2.seq !== m2.seq)
					throw new Error('the server\'s answer does not name the entries sent');
				return { seq: e1.seq, hash: e1.hash, next: { seq: e2.seq, hash: e2.hash } };
			} catch (e) {
				if (e.status !== 409 || i >= tries)
					throw e;
				const cap = Math.min(1000, 20 * 2 ** i);
				await sleep(cap / 2 + Math.random() * cap / 2);
			}
		}
	}

	/* ---- header: origin, head, verify badge ---- */

	async function refreshHeader() {
		const badge = $('[data-testid="verify-badge"]');
		try {
			const [head, v] = await Promise.all([
				api('/api/v1/head'), api('/api/v1/verify'),
			]);
			ledgerOrigin = head.origin;
			$('[data-testid="origin"]').textContent = head.origin || '';
			const hs = $('[data-testid="head-seq"]');
			hs.textContent = `head ${head.seq}`;
			hs.title = head.hash ? `head entry hash ${head.hash}` : '';
			if (head.seq)
				hs.href = `#/e/${head.seq}`;
			badge.className = 'badge';
			badge.removeAttribute('href');
			if (v.ok) {
				badge.classList.add('badge-ok');
				badge.textContent = `verified · ${v.entries} entries`;
				badge.title = `chain, signatures, authority and Merkle root checked\nroot ${v.root || '—'}`;
			} else {
				badge.classList.add('badge-bad');
				badge.textContent = v.bad_seq
					? `VERIFY FAILED at seq ${v.bad_seq}: ${v.problem}`
					: `VERIFY FAILED: ${v.problem}`;
				badge.title = 'ledger verify found a problem';
				if (v.bad_seq)
					badge.href = `#/e/${v.bad_seq}`;
			}
		} catch (e) {
			badge.className = 'badge badge-muted';
			badge.textContent = `verify unavailable: ${e.message}`;
		}
	}

	/* ---- routing and views ---- */

	const view = $('#view');
	let renderToken = 0;
	let fresh = new Set(); /* seqs that arrived since the last render */

	function route() {
		const h = location.hash.replace(/^#/, '') || '/';
		let m = h.match(/^\/r\/([^/]+)\/([^/]+)$/);
		if (m)
			return { name: 'release', cluster: decodeURIComponent(m[1]),
				 release: decodeURIComponent(m[2]) };
		m = h.match(/^\/e\/(\d+)$/);
		if (m)
			return { name: 'entry', seq: Number(m[1]) };
		return { name: 'overview' };
	}

	async function render(quiet) {
		const token = ++renderToken;
		const r = route();
		const flash = fresh;
		fresh = new Set();
		if (!quiet) {
			clear(view);
			view.appendChild(el('p', { class: 'loading' }, 'Loading…'));
		}
		let node;
		try {
			if (r.name === 'release')
				node = await viewRelease(r.cluster, r.release, flash);
			else if (r.name === 'entry')
				node = await viewEntry(r.seq, flash);
			else
				node = await viewOverview(flash);
		} catch (e) {
			node = el('div', { class: 'panel error-panel', testid: 'view-error' },
				el('h1', null, e.status === 404 ? 'Not found' : 'Something went wrong'),
				el('p', null, e.message),
				el('p', null, el('a', { href: '#/' }, '← all releases')));
		}
		if (token !== renderToken)
			return; /* a newer render superseded this one */
		clear(view);
		view.appendChild(node);
		view.dataset.route = r.name;
		view.dataset.rendered = String(token);
	}

	let refreshTimer = null;
	function scheduleRefresh() {
		clearTimeout(refreshTimer);
		refreshTimer = setTimeout(() => {
			refreshHeader();
			render(true);
		}, 250);
	}

	/* ---- action buttons ---- */

	/* items: the history shown (loadHistory), for the rollback choices */
	function actionButtons(rel, items) {
		const t = rel.target;
		if (!session)
			return null;
		if (!canWrite(t))
			return el('span', { class: 'muted small', testid: `noscope-${t}`,
				title: `your key (${session.role}, scopes "${session.scopes}") may not write ${t}` },
			'outside your scope');
		const b = (kind, label, cls) => el('button', {
			type: 'button', class: `btn btn-small ${cls || ''}`,
			testid: `action-${kind}-${t}`,
			on: { click: () => openAction(kind, rel, items) },
		}, label);
		return el('div', { class: 'btn-group' },
			b('promote', 'Promote', 'btn-primary'),
			b('rollback', 'Rollback'),
			rel.locked ? b('unlock', 'Unlock') : b('lock', 'Lock'));
	}

	/* ---- overview ---- */

	function applyBadge(rel) {
		const a = rel.apply;
		const t = rel.target;
		if (!a)
			return el('span', { class: 'badge badge-muted', testid: `apply-${t}` },
				'not applied');
		const when = `${a.kind} at seq ${a.seq} by ${a.signer}, ${a.time}` +
			(a.desired_seq ? ` (desired seq ${a.desired_seq})` : '');
		if (a.kind === 'apply-failed')
			return el('span', { class: 'badge badge-bad', testid: `apply-${t}`,
				title: when }, 'apply failed');
		if (!a.current)
			return el('span', { class: 'badge badge-warn', testid: `apply-${t}`,
				title: `${when}; the ledger has changed since: pending` }, 'pending');
		return el('span', { class: 'badge badge-ok', testid: `apply-${t}`,
			title: when }, 'applied');
	}

	/* A release the applier's last check found drifted (GET
	 * /api/v1/releases: "drift"); nothing while it is in sync or was
	 * never checked. */
	function driftBadge(rel) {
		const d = rel.drift;
		if (!d || d.status !== 'drifted')
			return null;
		return el('a', { class: 'badge badge-drift', testid: `drift-${rel.target}`,
			href: `#/e/${d.seq}`,
			title: `the live release differs from the ledger since seq ${d.seq}, ${d.time}` +
				` (ledger apply ${rel.cluster} --check); ledger apply --force repairs it` },
		'drifted');
	}

	const plural = (n, one) => `${n} ${one}${n === 1 ? '' : 's'}`;

	function durationText(s) {
		const parts = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
		let out = '';
		for (const [n, u] of parts) {
			if (s >= n) {
				out += `${Math.floor(s / n)}${u}`;
				s %= n;
			}
		}
		return out || '0s';
	}

	function policyText(p) {
		const rules = [];
		if (p.approvals)
			rules.push(plural(p.approvals, 'approval'));
		if (p.soak)
			rules.push(`soak ${durationText(p.soak)} from ${p.from}`);
		if (p.gate_rollbacks)
			rules.push('rollbacks gated');
		return rules.join(' · ');
	}

	/* The policy that governs the release and the freeze window that
	 * holds it now (GET /api/v1/releases: "policy", "frozen"). */
	function govBadges(rel) {
		const t = rel.target;
		const p = rel.policy;
		const f = rel.frozen;
		return [
			p ? el('a', { class: 'badge badge-policy', testid: `policy-${t}`,
				href: `#/e/${p.seq}`,
				title: `policy ${p.scope} (seq ${p.seq}): ${policyText(p)}` },
			policyText(p)) : null,
			f ? el('a', { class: 'badge badge-frozen', testid: `frozen-${t}`,
				href: `#/e/${f.seq}`,
				title: `freeze window ${f.seq} (${f.scope}): ${f.reason}` },
			`frozen until ${f.ends}`) : null,
		].filter(Boolean);
	}

	function lockCell(rel) {
		const t = rel.target;
		const l = rel.locked;
		if (!l)
			return el('span', { class: 'muted', testid: `lockstate-${t}` }, 'unlocked');
		return el('div', { testid: `lockstate-${t}`, class: 'lockcell' },
			el('span', { class: 'badge badge-lock', title: `locked at seq ${l.seq}` }, 'locked'),
			el('div', { class: 'small' }, l.reason || ''),
			el('div', { class: 'muted small' },
				`by ${l.signer || '?'} · `,
				el('a', { href: `#/e/${l.seq}` }, `#${l.seq}`)));
	}

	/* ---- values: a string, or a typed value (true, 3, null, [1, "a"]),
	 * which the API gives as a JSON value of its type and the page shows
	 * as its JSON text, marked (class "typed": a "json" badge) ---- */

	const isTyped = (v) => typeof v !== 'string';
	const valueText = (v) => (isTyped(v) ? JSON.stringify(v) : v);
	const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);
	/* KEY=VALUE, or KEY:=JSON for a typed value, as `ledger set` takes it */
	const kvText = (k, v) => (isTyped(v) ? `${k}:=${valueText(v)}` : `${k}=${v}`);

	function valueEl(v, attrs) {
		const typed = isTyped(v);
		return el('span', { ...attrs, class: `${attrs.class}${typed ? ' typed' : ''}`,
			title: typed ? 'typed value (JSON)' : null, data: typed ? { typed: '1' } : null },
		valueText(v));
	}

	function valuesList(rel, skip) {
		const keys = Object.keys(rel.values || {}).filter((k) => k !== skip).sort();
		if (!keys.length)
			return null;
		return el('ul', { class: 'kv' }, keys.map((k) => el('li', null,
			el('span', { class: 'k mono' }, k),
			valueEl(rel.values[k], { class: 'v mono', testid: `value-${rel.target}-${k}` }))));
	}

	function releaseRow(rel, flash) {
		const t = rel.target;
		const c = rel.changed;
		const seqs = [c && c.seq, rel.locked && rel.locked.seq, rel.apply && rel.apply.seq];
		const tag = rel.values && rel.values['image.tag'];
		const td = (cls, label, ...content) => el('td', { class: cls, 'data-label': label },
			el('div', { class: 'cell' }, ...content));
		const cells = [
			td('c-release', 'Release',
				el('a', { href: `#/r/${targetPath(t)}`, class: 'relname',
					testid: `open-${t}` }, rel.release),
				el('div', { class: 'badges' }, govBadges(rel))),
			td('c-tag', 'image.tag',
				tag !== undefined
					? valueEl(tag, { class: 'tag mono', testid: `value-${t}-image.tag` })
					: el('span', { class: 'muted' }, '—')),
			td('c-values', 'Values',
				valuesList(rel, 'image.tag') || el('span', { class: 'muted' }, '—')),
			td('c-changed', 'Last change',
				c ? [
					el('div', null,
						el('span', { class: 'who', testid: `who-${t}` }, c.signer),
						' · ', timeEl(c.time, `when-${t}`),
						c.kind !== 'set' ? [' ', kindBadge(c.kind)] : null),
					el('div', { class: 'why', testid: `why-${t}` }, c.reason),
					el('a', { href: `#/e/${c.seq}`, class: 'muted small' }, `#${c.seq}`),
				] : el('span', { class: 'muted' }, '—')),
			td('c-lock', 'Lock', lockCell(rel)),
			td('c-apply', 'Cluster', applyBadge(rel), ' ', driftBadge(rel)),
		];
		if (session)
			cells.push(td('c-actions', 'Actions', actionButtons(rel)));
		const isFresh = seqs.some((s) => s && flash.has(s));
		return el('tr', { testid: `release-${t}`, class: isFresh ? 'flash' : null,
			data: { target: t, locked: rel.locked ? '1' : '0' } }, cells);
	}

	/* ---- proposals waiting for approvals ---- */

	const changesText = (changes) => (changes || []).map((c) =>
		(c.unset ? `${c.key} (unset)` : kvText(c.key, c.value))).join(', ');

	/* What the signed-in key may do with proposal p (the server decides:
	 * this only hides buttons that would be refused). */
	function mayApprove(p) {
		return canWrite(p.target) && p.author !== session.name &&
			!(p.approvals || []).some((a) => a.key === session.name);
	}
	function mayWithdraw(p) {
		return !!session && (p.author === session.name ||
			(session.role === 'admin' && scopesCover(session.scopes, p.target)));
	}

	function pendingRow(p, flash) {
		const got = (p.approvals || []).map((a) => a.key);
		const b = (kind, label, cls) => el('button', {
			type: 'button', class: `btn btn-small ${cls || ''}`,
			testid: `${kind}-${p.seq}`, on: { click: () => openVote(kind, p) },
		}, label);
		return el('tr', { testid: `pending-${p.seq}`, class: flash.has(p.seq) ? 'flash' : null,
			data: { seq: p.seq, target: p.target } },
		el('td', null, el('a', { href: `#/e/${p.seq}`, class: 'mono' }, `#${p.seq}`)),
		el('td', null, el('a', { href: `#/r/${targetPath(p.target)}`, class: 'mono' }, p.target),
			p.emergency ? [' ', el('span', { class: 'badge badge-emergency',
				testid: `pending-emergency-${p.seq}` }, 'emergency')] : null),
		el('td', { class: 'mono' }, `${p.kind} ${changesText(p.changes)}`),
		el('td', null, p.author),
		el('td', { testid: `pending-approvals-${p.seq}` },
			`${got.length} of ${p.need}`, got.length ? el('span', { class: 'muted' },
				` (${got.join(', ')})`) : null),
		session ? el('td', null, el('div', { class: 'btn-group' },
			mayApprove(p) ? b('approve', 'Approve', 'btn-primary') : null,
			mayWithdraw(p) ? b('withdraw', 'Withdraw') : null)) : null);
	}

	function pendingCard(pending, flash) {
		if (!pending.length)
			return null;
		return el('section', { class: 'card', testid: 'pending' },
			el('h2', null, 'Waiting for approval', el('span', { class: 'muted count' },
				` ${plural(pending.length, 'proposal')}`)),
			el('table', { class: 'pending' },
				el('thead', null, el('tr', null, ['Proposal', 'Target', 'Change',
					'Author', 'Approvals'].concat(session ? ['Actions'] : [])
					.map((x) => el('th', null, x)))),
				el('tbody', null, pending.map((p) => pendingRow(p, flash)))));
	}

	async function viewOverview(flash) {
		const [data, pending] = await Promise.all([api('/api/v1/releases'),
			api('/api/v1/pending')]);
		const rels = data.releases || [];
		const byCluster = new Map();
		for (const r of rels) {
			if (!byCluster.has(r.cluster))
				byCluster.set(r.cluster, []);
			byCluster.get(r.cluster).push(r);
		}
		const clusters = [...byCluster.keys()].sort();
		const head = el('div', { class: 'pagehead' },
			el('h1', null, 'Releases'),
			el('p', { class: 'muted' },
				`${rels.length} release${rels.length === 1 ? '' : 's'} in ` +
				`${clusters.length} cluster${clusters.length === 1 ? '' : 's'} · head seq ${data.head}`));
		const waiting = pendingCard(pending || [], flash);
		if (!rels.length)
			return el('div', null, head, waiting,
				el('p', { class: 'panel empty', testid: 'no-releases' },
					'No releases yet. Record one with ', el('code', null,
						'ledger set CLUSTER/RELEASE image.tag=… -m "why"'), '.'));
		return el('div', null, head, waiting, clusters.map((cl) => {
			const list = byCluster.get(cl).sort((a, b) =>
				a.release < b.release ? -1 : a.release > b.release ? 1 : 0);
			const th = [['c-release', 'Release'], ['c-tag', 'image.tag'],
				['c-values', 'Values'], ['c-changed', 'Last change'],
				['c-lock', 'Lock'], ['c-apply', 'Cluster']];
			if (session)
				th.push(['c-actions', 'Actions']);
			return el('section', { class: 'card', testid: `cluster-${cl}` },
				el('h2', null, cl, el('span', { class: 'muted count' },
					` ${list.length} release${list.length === 1 ? '' : 's'}`)),
				el('table', { class: `releases${session ? ' with-actions' : ''}` },
					el('thead', null, el('tr', null, th.map(([cls, x]) =>
						el('th', { class: cls }, x)))),
					el('tbody', null, list.map((r) => releaseRow(r, flash)))));
		}));
	}

	/* ---- a release's history ---- */

	/* A change recorded as a proposal (its JSON has "proposal" with
	 * "approvals") does not change the values; the approval that made it
	 * take effect (its "proposal"'s "at" is its own seq) does. */
	const isProposal = (e) => !!(e.proposal && e.proposal.approvals);
	const enacts = (e) => e.kind === 'approve' && e.proposal && e.proposal.at === e.seq;

	/* Replays oldest first: each entry gets its per-key diff and the
	 * values after it (a proposal its "proposed" diff instead). seed:
	 * the values before the first entry (a page that does not start at
	 * the target's first entry); proposals: seq -> entry, for the
	 * approvals whose proposal is older than the page. A diff's old or
	 * now is undefined where there is no value (null is a typed value). */
	function withDiffs(history, seed, proposals) {
		const vals = new Map(seed || []);
		const bySeq = new Map(proposals || []);
		for (const e of history)
			bySeq.set(e.seq, e);
		const apply = (changes, into) => (changes || []).map((c) => {
			const old = vals.get(c.key);
			if (into && c.unset)
				vals.delete(c.key);
			else if (into)
				vals.set(c.key, c.value);
			return { key: c.key, old, now: c.unset ? undefined : c.value };
		});
		return history.map((e) => {
			let diff = [];
			let proposed = [];
			if (isProposal(e))
				proposed = apply(e.changes, false);
			else if (['set', 'unset', 'rollback'].includes(e.kind))
				diff = apply(e.changes, true);
			else if (enacts(e) && bySeq.has(e.proposal.seq))
				diff = apply(bySeq.get(e.proposal.seq).changes, true);
			return { e, diff, proposed, after: new Map(vals) };
		});
	}

	const valuesText = (m) => [...m.keys()].sort()
		.map((k) => kvText(k, m.get(k))).join(', ') || 'no values';

	function diffTable(diff, seq) {
		if (!diff.length)
			return null;
		return el('table', { class: 'diff', testid: `diff-${seq}` }, el('tbody', null,
			diff.map((d) => el('tr', { class: d.now === undefined ? 'removed'
				: d.old === undefined ? 'added' : 'changed',
			data: { key: d.key } },
			el('td', { class: 'mono k' }, d.key),
			el('td', { class: 'mono old' }, d.old === undefined ? '∅' : valueEl(d.old, { class: 'v' })),
			el('td', { class: 'arrow' }, '→'),
			el('td', { class: 'mono new' }, d.now === undefined ? '(removed)'
				: valueEl(d.now, { class: 'v' }))))));
	}

	function metaList(md) {
		const keys = Object.keys(md || {}).sort();
		if (!keys.length)
			return null;
		return el('ul', { class: 'meta' }, keys.map((k) =>
			el('li', { class: 'mono' }, `${k}=${md[k]}`)));
	}

	function proposalNote(e) {
		const p = e.proposal;
		const status = {
			pending: `waiting for approval: ${(p.approvals || []).length} of ${p.need}`,
			effective: 'took effect at ',
			withdrawn: 'withdrawn at ',
			stale: 'stale: overtaken at ',
		}[p.status] || p.status;
		return el('div', { class: 'note proposal', testid: `proposal-${e.seq}`,
			data: { status: p.status } },
		el('span', { class: `badge badge-proposal-${p.status}` }, `proposal · ${p.status}`), ' ',
		status, p.at ? el('a', { href: `#/e/${p.at}` }, `#${p.at}`) : null,
		(p.approvals || []).length ? el('ul', { class: 'approvals', testid: `approvals-${e.seq}` },
			p.approvals.map((a) => el('li', null, 'approved by ',
				el('strong', null, a.key), ' at ', el('a', { href: `#/e/${a.seq}` }, `#${a.seq}`))))
			: null);
	}

	function timelineItem({ e, diff, proposed }, rel, flash, canRollback, items) {
		let note = null;
		if (e.kind === 'lock')
			note = el('p', { class: 'note' }, 'locked: automated sets are refused until unlocked');
		else if (e.kind === 'unlock')
			note = el('p', { class: 'note' }, 'unlocked');
		else if (e.kind === 'applied' || e.kind === 'apply-failed')
			note = el('p', { class: 'note' }, e.kind === 'applied'
				? 'the cluster was reconciled' : 'the reconcile failed',
			e.metadata && e.metadata['desired-seq']
				? [' (desired seq ', el('a', { href: `#/e/${e.metadata['desired-seq']}` },
					e.metadata['desired-seq']), ')'] : null);
		else if (e.kind === 'drift')
			note = el('p', { class: 'note' }, (e.changes[0] || {}).value === 'drifted'
				? 'the live release differs from the ledger' : 'the live release matches the ledger again',
			e.metadata && e.metadata['checked-seq']
				? [' (checked against seq ', el('a', { href: `#/e/${e.metadata['checked-seq']}` },
					e.metadata['checked-seq']), ')'] : null);
		else if (e.kind === 'rollback' && e.metadata && e.metadata['rollback-to'] && !isProposal(e))
			note = el('p', { class: 'note' }, 'rolled back to the state after ',
				el('a', { href: `#/e/${e.metadata['rollback-to']}` },
					`#${e.metadata['rollback-to']}`));
		else if ((e.kind === 'approve' || e.kind === 'withdraw') && e.proposal)
			note = el('p', { class: 'note', testid: `vote-${e.seq}` },
				e.kind === 'approve' ? 'approves ' : 'withdraws ',
				el('a', { href: `#/e/${e.proposal.seq}` }, `#${e.proposal.seq}`),
				enacts(e) ? ', which took effect here' : null);
		if (isProposal(e))
			note = proposalNote(e);
		return el('li', { testid: `entry-${e.seq}`, class: `tl-item${flash.has(e.seq) ? ' flash' : ''}`,
			data: { seq: e.seq, kind: e.kind } },
		el('div', { class: 'tl-head' },
			kindBadge(e.kind),
			e.emergency ? el('span', { class: 'badge badge-emergency', testid: `emergency-${e.seq}`,
				title: 'an emergency change: it passed a freeze or a soak with an approval' },
			'emergency') : null,
			el('a', { href: `#/e/${e.seq}`, class: 'seq mono', testid: `entry-link-${e.seq}` }, `#${e.seq}`),
			el('span', { class: 'who' }, e.signer ? e.signer.name : '?'),
			timeEl(e.time),
			canRollback ? el('button', { type: 'button', class: 'btn btn-small btn-quiet',
				testid: `rollback-to-${e.seq}`,
				on: { click: () => openAction('rollback', rel, items, e.seq) } },
			'Roll back to here') : null),
		e.reason ? el('p', { class: 'why' }, e.reason) : null,
		diffTable(diff.length ? diff : proposed, e.seq),
		note,
		metaList(e.metadata));
	}

	/* A release's history comes in pages, newest first, so that one
	 * with thousands of entries opens as fast as one with ten. */
	const HISTORY_PAGE = 100;
	const historyPages = new Map(); /* target -> pages shown */

	/* The newest `pages` pages of t's history, oldest first, each entry
	 * with its diff; `more` when there are older ones. Asks for one entry
	 * more than a page to know; the values before the oldest entry shown
	 * come from the state at the seq before it. */
	async function loadHistory(t, pages) {
		let hist = [];
		let before = 0;
		let more = false;
		for (let p = 0; p < pages; p++) {
			let page = await api(`/api/v1/history/${targetPath(t)}` +
				`?limit=${HISTORY_PAGE + 1}${before ? `&before=${before}` : ''}`);
			more = page.length > HISTORY_PAGE;
			if (more)
				page = page.slice(1);
			hist = page.concat(hist);
			if (!more || !page.length)
				break;
			before = page[0].seq;
		}
		const seed = more ? await stateOf(t, hist[0].seq - 1) : null;
		/* the proposals that approvals on this page enacted, when they
		 * are older than the page */
		const shown = new Set(hist.map((e) => e.seq));
		const older = await Promise.all(hist.filter((e) => enacts(e) && !shown.has(e.proposal.seq))
			.map((e) => api(`/api/v1/entries/${e.proposal.seq}`)));
		return { items: withDiffs(hist, seed, older.map((e) => [e.seq, e])), more };
	}

	async function viewRelease(cluster, release, flash) {
		const t = `${cluster}/${release}`;
		const pages = historyPages.get(t) || 1;
		const [{ items, more }, rels] = await Promise.all([
			loadHistory(t, pages),
			api(`/api/v1/releases?scope=${enc(cluster)}`).catch(() => null),
		]);
		const rel = (rels && (rels.releases || []).find((r) => r.target === t)) ||
			{ target: t, cluster, release, values: {}, changed: null, locked: null, apply: null };
		const lastValueSeq = [...items].reverse()
			.find((x) => x.diff.length)?.e.seq;
		const writable = canWrite(t);
		const list = items.slice().reverse().map((x) => timelineItem(x, rel, flash,
			writable && x.diff.length > 0 && x.e.seq !== lastValueSeq, items));
		return el('div', { testid: `release-page-${t}` },
			el('nav', { class: 'crumbs' }, el('a', { href: '#/' }, 'Releases'), ' / ',
				el('span', null, cluster), ' / ', el('strong', null, release)),
			el('div', { class: 'pagehead split' },
				el('div', null,
					el('h1', { class: 'mono' }, t),
					el('div', { class: 'badges' }, lockCell(rel), ' ', applyBadge(rel),
						' ', driftBadge(rel), govBadges(rel))),
				actionButtons(rel, items)),
			el('section', { class: 'card', testid: `current-${t}` },
				el('h2', null, 'Current values'),
				Object.keys(rel.values || {}).length
					? el('table', { class: 'current' }, el('tbody', null,
						Object.keys(rel.values).sort().map((k) => el('tr', null,
							el('td', { class: 'mono k' }, k),
							el('td', { class: 'mono v' }, valueEl(rel.values[k],
								{ class: 'v', testid: `value-${t}-${k}` }))))))
					: el('p', { class: 'muted' }, 'no values')),
			el('section', { class: 'card' },
				el('h2', null, 'History', el('span', { class: 'muted count', testid: 'history-count' },
					` ${more ? 'the newest ' : ''}${items.length} entr${items.length === 1 ? 'y' : 'ies'}, newest first`)),
				el('ol', { class: 'timeline', testid: 'timeline' }, list),
				more ? el('button', { type: 'button', class: 'btn btn-quiet', testid: 'history-older',
					on: { click: () => { historyPages.set(t, pages + 1); render(true); } } },
				`Show ${HISTORY_PAGE} older entries`) : null));
	}

	/* ---- one entry ---- */

	function statusBadge(ok, okText, badText, testid) {
		if (ok === null || ok === undefined)
			return el('span', { class: 'badge badge-muted', testid }, okText === null ? '—' : 'n/a');
		return el('span', { class: `badge ${ok ? 'badge-ok' : 'badge-bad'}`, testid },
			ok ? okText : badText);
	}

	async function downloadRaw(seq, hash, out) {
		out.textContent = 'fetching…';
		try {
			const res = await fetch(`/api/v1/entries/${seq}`,
				{ headers: { Accept: 'application/msgpack' } });
			if (!res.ok)
				throw new Error(`HTTP ${res.status}`);
			const blob = await res.blob();
			const bytes = new Uint8Array(await blob.arrayBuffer());
			const pre = new Uint8Array(bytes.length + 1);
			pre.set(bytes, 1);
			const h = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', pre)));
			const a = el('a', { href: URL.createObjectURL(blob), download: `entry-${seq}.msgpack` });
			document.body.appendChild(a);
			a.click();
			a.remove();
			setTimeout(() => URL.revokeObjectURL(a.href), 10000);
			out.textContent = h === hash
				? `${bytes.length} bytes; SHA-256(0x00 ‖ bytes) equals the entry hash`
				: `${bytes.length} bytes; their hash ${h} is NOT the entry hash`;
			out.className = h === hash ? 'small ok-text' : 'small bad-text';
		} catch (e) {
			out.textContent = `download failed: ${e.message}`;
			out.className = 'small bad-text';
		}
	}

	async function viewEntry(seq, flash) {
		const [e, chk] = await Promise.all([
			api(`/api/v1/entries/${seq}`),
			api(`/api/v1/entries/${seq}/check`).catch((err) => ({ error: err.message })),
		]);
		const isTarget = typeof e.target === 'string' && e.target.includes('/');
		const row = (label, ...v) => [el('dt', null, label), el('dd', null, ...v)];
		const sig = chk.signature || {};
		const chain = chk.chain || {};
		const auth = chk.authorised;
		const dlOut = el('span', { class: 'small', testid: 'raw-status' });
		return el('div', { testid: `entry-page-${seq}` },
			el('nav', { class: 'crumbs' }, el('a', { href: '#/' }, 'Releases'),
				isTarget ? [' / ', el('a', { href: `#/r/${targetPath(e.target)}` }, e.target)] : null,
				' / ', el('strong', null, `entry ${seq}`)),
			el('div', { class: 'pagehead split' },
				el('h1', null, `Entry #${seq} `, kindBadge(e.kind)),
				el('div', { class: 'btn-group' },
					seq > 1 ? el('a', { class: 'btn btn-small', href: `#/e/${seq - 1}`, testid: 'prev-entry' }, '← previous') : null,
					chk.chain && chk.chain.next_ok === null ? null
						: el('a', { class: 'btn btn-small', href: `#/e/${seq + 1}`, testid: 'next-entry' }, 'next →'))),
			el('section', { class: 'card checks', testid: 'entry-checks' },
				chk.error
					? el('p', { class: 'bad-text', testid: 'check-error' }, `checks unavailable: ${chk.error}`)
					: [
						el('div', null, el('span', { class: 'lbl' }, 'signature'),
							statusBadge(sig.ok, 'signature ok', 'signature BAD', 'sig-status'),
							sig.problem ? el('span', { class: 'bad-text small' }, ` ${sig.problem}`) : null),
						el('div', null, el('span', { class: 'lbl' }, 'chain'),
							statusBadge(chain.prev_ok, 'prev ok', 'prev MISMATCH', 'chain-prev'),
							' ',
							chain.next_ok === null
								? el('span', { class: 'badge badge-muted', testid: 'chain-next' }, 'head')
								: statusBadge(chain.next_ok, 'next ok', 'next MISMATCH', 'chain-next')),
						auth ? el('div', null, el('span', { class: 'lbl' }, 'authorised'),
							statusBadge(auth.ok, 'authorised', 'NOT authorised', 'auth-status'),
							auth.problem ? el('span', { class: 'bad-text small' }, ` ${auth.problem}`) : null) : null,
					]),
			el('section', { class: 'card' },
				el('dl', { class: 'fields' },
					row('seq', el('span', { class: 'mono', testid: 'field-seq' }, e.seq)),
					row('kind', el('span', { testid: 'field-kind' }, e.kind)),
					row('target', isTarget
						? el('a', { href: `#/r/${targetPath(e.target)}`, class: 'mono', testid: 'field-target' }, e.target)
						: el('span', { class: 'mono', testid: 'field-target' }, e.target || '—')),
					row('time', timeEl(e.time, 'field-time'), el('span', { class: 'muted mono small' }, ` ${e.time} · ${e.time_ns} ns`)),
					row('signer', el('span', { testid: 'field-signer' }, e.signer ? e.signer.name : '?'),
						el('span', { class: 'muted mono' }, e.signer ? ` ${e.signer.keyid}` : '')),
					row('reason', el('span', { testid: 'field-reason' }, e.reason || '—')),
					row('changes', (e.changes || []).length
						? el('ul', { class: 'kv', testid: 'field-changes' }, e.changes.map((c) => el('li', null,
							el('span', { class: 'k mono' }, c.key),
							c.unset ? el('span', { class: 'v mono removed' }, '(unset)')
								: valueEl(c.value, { class: 'v mono' }))))
						: el('span', { class: 'muted' }, '—')),
					row('metadata', metaList(e.metadata) || el('span', { class: 'muted' }, '—')),
					e.emergency ? row('emergency', el('span', { class: 'badge badge-emergency',
						testid: 'field-emergency' }, 'emergency change')) : null,
					e.proposal ? row('proposal', isProposal(e) ? proposalNote(e)
						: el('span', { testid: 'field-proposal' },
							el('a', { href: `#/e/${e.proposal.seq}` }, `#${e.proposal.seq}`),
							` (${e.proposal.status}${e.proposal.at ? ` at #${e.proposal.at}` : ''})`)) : null,
					row('hash', el('span', { class: 'mono hash', testid: 'field-hash' }, e.hash)),
					row('prev', seq > 1
						? el('a', { href: `#/e/${seq - 1}`, class: 'mono hash', testid: 'field-prev' }, e.prev)
						: el('span', { class: 'mono hash', testid: 'field-prev' }, e.prev)),
					row('signature', el('span', { class: 'mono hash', testid: 'field-signature' }, e.signature)),
					row('raw', el('button', { type: 'button', class: 'btn btn-small', testid: 'download-raw',
						on: { click: () => downloadRaw(seq, e.hash, dlOut) } }, 'Download raw msgpack'), ' ', dlOut))));
	}

	/* ---- sign-in dialog ---- */

	const signinDialog = $('#signin-dialog');
	let pickedKey = Promise.resolve(''); /* the file's text, once read */

	function showSession() {
		const who = $('[data-testid="signed-in-as"]');
		const open = $('[data-testid="signin-open"]');
		const out = $('[data-testid="signout"]');
		if (session) {
			who.textContent = `signed in as ${session.name} (${session.role}, ${session.scopes})`;
			who.title = `key id ${session.keyid}; the key is in this tab's memory only`;
			who.hidden = false;
			open.hidden = true;
			out.hidden = false;
		} else {
			who.hidden = true;
			open.hidden = false;
			out.hidden = true;
		}
	}

	function setFormError(node, msg) {
		node.textContent = msg || '';
		node.hidden = !msg;
	}

	$('[data-testid="signin-open"]').addEventListener('click', () => {
		setFormError($('[data-testid="signin-error"]'), '');
		signinDialog.showModal();
	});
	/* however the dialog closes (Cancel, Escape, signed in), the key
	 * text leaves the form */
	signinDialog.addEventListener('close', () => {
		$('#signin-text').value = '';
		$('#signin-file').value = '';
		pickedKey = Promise.resolve('');
	});
	$('[data-testid="signin-cancel"]').addEventListener('click', () => signinDialog.close());
	$('#signin-file').addEventListener('change', (ev) => {
		const f = ev.target.files && ev.target.files[0];
		pickedKey = f ? f.text().catch(() => '') : Promise.resolve('');
	});
	$('[data-testid="signout"]').addEventListener('click', () => {
		session = null;
		showSession();
		render(true);
	});
	$('#signin-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const errNode = $('[data-testid="signin-error"]');
		const btn = $('[data-testid="signin-submit"]');
		const text = (await pickedKey) || $('#signin-text').value;
		if (!text.trim()) {
			setFormError(errNode, 'pick your key file or paste its line');
			return;
		}
		btn.disabled = true;
		setFormError(errNode, '');
		try {
			session = await signIn(text);
			signinDialog.close();
			showSession();
			render(true);
		} catch (e) {
			setFormError(errNode, e.message);
		} finally {
			btn.disabled = false;
			$('#signin-text').value = '';
			$('#signin-file').value = '';
			pickedKey = Promise.resolve('');
		}
	});

	/* ---- action dialog: promote, rollback, lock, unlock ---- */

	const actionDialog = $('#action-dialog');
	let currentAction = null;

	function field(label, input, hint) {
		return el('label', { class: 'field' }, el('span', null, label), input,
			hint ? el('small', { class: 'muted' }, hint) : null);
	}

	function reasonInput() {
		return el('input', { type: 'text', name: 'reason', required: true,
			maxlength: 4096, testid: 'action-reason', placeholder: 'why (recorded in the entry)' });
	}

	/* The action dialog emptied for a new action: its fields (returned),
	 * error, result and buttons. */
	function resetActionDialog() {
		const fields = $('#action-fields');
		clear(fields);
		setFormError($('[data-testid="action-error"]'), '');
		const res = $('[data-testid="action-result"]');
		res.hidden = true;
		res.textContent = '';
		$('[data-testid="action-submit"]').hidden = false;
		$('[data-testid="action-submit"]').disabled = false;
		$('[data-testid="action-close"]').textContent = 'Cancel';
		return fields;
	}

	/* history: loadHistory's items when the page has them */
	async function openAction(kind, rel, history, toSeq) {
		const t = rel.target;
		const fields = resetActionDialog();
		const now = new Map(Object.entries(rel.values || {}));
		$('#action-target').textContent = `now ${valuesText(now)}` +
			(rel.locked ? ` · locked: ${rel.locked.reason || ''}` : '');
		const form = $('#action-form');
		form.dataset.testid = `action-form-${kind}`;
		const titles = { promote: 'Promote', rollback: 'Roll back', lock: 'Lock', unlock: 'Unlock' };
		$('#action-title').textContent = `${titles[kind]} ${t}`;
		const a = { kind, rel, inputs: {} };

		if (kind === 'promote') {
			a.inputs.key = el('input', { type: 'text', name: 'key', value: 'image.tag',
				class: 'mono', testid: 'promote-key', required: true, spellcheck: 'false' });
			const tag = rel.values ? rel.values['image.tag'] : undefined;
			a.inputs.value = el('input', { type: 'text', name: 'value', class: 'mono',
				testid: 'promote-value', required: true, spellcheck: 'false',
				placeholder: tag !== undefined ? valueText(tag) : 'new value' });
			a.inputs.json = el('input', { type: 'checkbox', name: 'json', testid: 'promote-json' });
			fields.append(field('Key', a.inputs.key),
				field('New value', a.inputs.value,
					tag !== undefined ? `now ${valueText(tag)}` : null),
				el('label', { class: 'check' }, a.inputs.json,
					' JSON: a typed value (false, 3, null, [1, "a"]) instead of a string, as KEY:=JSON'));
			if (rel.locked) {
				a.inputs.force = el('input', { type: 'checkbox', name: 'force', testid: 'action-force' });
				fields.append(el('label', { class: 'check' }, a.inputs.force,
					` set anyway: the target is locked (${rel.locked.reason || 'no reason'}); recorded as forced`));
			}
			if (rel.policy || rel.frozen) {
				a.inputs.emergency = el('input', { type: 'checkbox', name: 'emergency',
					testid: 'action-emergency' });
				fields.append(el('label', { class: 'check' }, a.inputs.emergency,
					rel.frozen ? ` emergency: pass the freeze (${rel.frozen.reason}); `
						: ' emergency: pass the soak; ',
					'it takes effect once another key approves it, and is marked everywhere'));
			}
		} else if (kind === 'rollback') {
			let items = history;
			if (!items) {
				try {
					items = (await loadHistory(t, 1)).items;
				} catch (e) {
					items = [];
				}
			}
			items = items.filter((x) => x.diff.length);
			a.inputs.to = el('select', { name: 'to', testid: 'rollback-to', required: true },
				items.slice(0, -1).reverse().map(({ e, after }) => el('option', { value: e.seq },
					`#${e.seq} · ${valuesText(after)} · ${e.signer ? e.signer.name : '?'}: ${e.reason}`)));
			if (toSeq)
				a.inputs.to.value = String(toSeq);
			a.inputs.nolock = el('input', { type: 'checkbox', name: 'nolock', testid: 'rollback-nolock' });
			fields.append(field('Restore the state after entry', a.inputs.to,
				items.length < 2 ? 'no earlier state to roll back to' : null));
			if (rel.locked)
				fields.append(el('p', { class: 'hint' }, 'The target is already locked; it stays locked.'));
			else
				fields.append(el('label', { class: 'check' }, a.inputs.nolock,
					' don\'t lock (by default the target is locked so automation cannot undo the rollback)'));
		}
		a.inputs.reason = reasonInput();
		fields.append(field('Reason', a.inputs.reason));
		currentAction = a;
		actionDialog.showModal();
		(kind === 'promote' ? a.inputs.value : a.inputs.reason).focus();
	}

	/* approve or withdraw proposal p (GET /api/v1/pending's item) */
	function openVote(kind, p) {
		const fields = resetActionDialog();
		$('#action-form').dataset.testid = `action-form-${kind}`;
		$('#action-title').textContent =
			`${kind === 'approve' ? 'Approve' : 'Withdraw'} #${p.seq} on ${p.target}`;
		$('#action-target').textContent = `${p.kind} ${changesText(p.changes)} by ${p.author}` +
			` · ${(p.approvals || []).length} of ${p.need} approvals` +
			(p.emergency ? ' · emergency' : '');
		const a = { kind, proposal: p, rel: { target: p.target }, inputs: {} };
		a.inputs.reason = reasonInput();
		fields.append(field('Reason', a.inputs.reason, kind === 'approve'
			? 'the approval that completes the count makes the change take effect'
			: 'the proposal will never take effect'));
		currentAction = a;
		actionDialog.showModal();
		a.inputs.reason.focus();
	}

	/* What became of a change just written: "recorded as seq N", or
	 * for a proposal what it waits for. */
	async function writtenText(r) {
		const e = await api(`/api/v1/entries/${r.seq}`).catch(() => null);
		if (!e || !isProposal(e))
			return `recorded as seq ${r.seq}`;
		return `proposed as seq ${r.seq}: it takes effect with ` +
			`${plural(e.proposal.need, 'approval')} by other keys`;
	}

	/* What an approval did to its proposal. */
	async function approvedText(r, p) {
		const e = await api(`/api/v1/entries/${p.seq}`).catch(() => null);
		if (e && e.proposal && e.proposal.status === 'effective')
			return `approved at seq ${r.seq}: #${p.seq} took effect`;
		const n = e && e.proposal ? (e.proposal.approvals || []).length : '?';
		return `approved at seq ${r.seq}: #${p.seq} has ${n} of ${p.need} approvals`;
	}

	$('[data-testid="action-close"]').addEventListener('click', () => {
		currentAction = null;
		actionDialog.close();
	});

	$('#action-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const a = currentAction;
		if (!a || !session)
			return;
		const errNode = $('[data-testid="action-error"]');
		const res = $('[data-testid="action-result"]');
		const btn = $('[data-testid="action-submit"]');
		const t = a.rel.target;
		const reason = a.inputs.reason.value.trim();
		setFormError(errNode, '');
		if (!reason) {
			setFormError(errNode, 'a reason is required: it is recorded in the entry');
			return;
		}
		const wait = (msg) => {
			res.hidden = false;
			res.textContent = msg;
		};
		btn.disabled = true;
		wait('signing and appending…');
		try {
			let text;
			if (a.kind === 'promote') {
				const key = a.inputs.key.value.trim();
				const raw = a.inputs.value.value;
				if (!key || !raw)
					throw new Error('a key and a value are required');
				const value = a.inputs.json.checked ? typedValue(raw) : raw;
				const req = { kind: 'set', target: t,
					changes: { [key]: value }, reason,
					force: !!(a.inputs.force && a.inputs.force.checked) };
				if (a.inputs.emergency && a.inputs.emergency.checked)
					req.emergency = true;
				const r = await appendSigned(req, wait);
				text = r.nothing ? `nothing written: ${r.nothing}` : await writtenText(r);
			} else if (a.kind === 'approve' || a.kind === 'withdraw') {
				const p = a.proposal;
				const r = await appendSigned({ kind: a.kind, target: t,
					proposal: p.seq, reason }, wait);
				text = a.kind === 'withdraw' ? `withdrawn at seq ${r.seq}`
					: await approvedText(r, p);
			} else if (a.kind === 'rollback') {
				const to = Number(a.inputs.to.value);
				if (!to)
					throw new Error('pick the entry to roll back to');
				/* like `ledger --remote rollback`: the rollback and
				 * its lock in one transaction, unless asked not to
				 * lock (a target locked already: the lock's draft
				 * says there is nothing to do, at the same head) */
				const lock = a.inputs.nolock.checked ? null
					: { kind: 'lock', target: t, reason };
				const r = await appendSigned({ kind: 'rollback', target: t, to, reason },
					wait, lock);
				if (r.nothing)
					text = `nothing written: ${r.nothing}`;
				else if (!r.next || r.next.nothing)
					text = `rolled back at seq ${r.seq}`;
				else
					text = `rolled back at seq ${r.seq}, locked at seq ${r.next.seq}`;
			} else {
				const r = await appendSigned({ kind: a.kind, target: t, reason }, wait);
				text = r.nothing ? `nothing written: ${r.nothing}` : `${a.kind}ed at seq ${r.seq}`;
			}
			res.hidden = false;
			res.textContent = text;
			btn.hidden = true;
			$('[data-testid="action-close"]').textContent = 'Close';
			scheduleRefresh();
		} catch (e) {
			res.hidden = true;
			setFormError(errNode, e.message);
		} finally {
			btn.disabled = false;
		}
	});

	/* ---- live updates ---- */

	function setConn(state, text) {
		const c = $('[data-testid="connection"]');
		c.className = `conn conn-${state}`;
		c.textContent = text;
		c.dataset.state = state;
	}

	let events = null;
	function connectEvents() {
		if (!window.EventSource) {
			setConn('offline', 'no live updates');
			return;
		}
		events = new EventSource('/api/v1/events');
		events.addEventListener('open', () => setConn('live', 'live'));
		events.addEventListener('error', () => {
			if (events.readyState === EventSource.CLOSED) {
				setConn('offline', 'offline');
				events = null;
				setTimeout(connectEvents, 5000);
			} else {
				setConn('connecting', 'reconnecting…');
			}
		});
		events.addEventListener('entry', (m) => {
			try {
				const e = JSON.parse(m.data);
				if (typeof e.seq === 'number') {
					fresh.add(e.seq);
					document.body.dataset.lastEvent = String(e.seq);
				}
			} catch (err) {
				/* a refresh is due all the same */
			}
			scheduleRefresh();
		});
	}

	/* ---- start ---- */

	window.addEventListener('hashchange', () => {
		fresh = new Set();
		render(false);
		window.scrollTo(0, 0);
	});

	/* for tests and the curious: the scope matcher, the value encoder */
	window.ledgerUI = Object.freeze({ globMatch, scopesCover, mpWrite, typedValue });

	showSession();
	refreshHeader();
	render(false);
	connectEvents();
})();
