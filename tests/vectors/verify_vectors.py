#!/usr/bin/env python3
"""An independent verifier of the Ledger entry format, written from
docs/format.md alone (no code shared with ledger/), run over the vectors
of this directory. Typed values (section 3.2). Promotion policies
(section 8b): policies, absolute freeze windows, proposals, approvals
and withdrawals, and the five-item STATE commitment; it does not
evaluate cron windows or soak (it says so if a ledger needs them).

    python3 tests/vectors/verify_vectors.py [tests/vectors]

Needs the 'cryptography' package for Ed25519. Exit 0 when every good
vector is accepted with the hash and tree head INDEX.txt lists and every
bad vector is refused at the stage INDEX.txt names; 1 otherwise; 77 (the
meson "skip" code) when 'cryptography' is missing.
"""

import base64
import datetime
import fnmatch
import hashlib
import os
import math
import re
import struct
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PublicKey,
    )
except ImportError:  # pragma: no cover
    print("verify_vectors.py: needs the 'cryptography' package; skipped")
    sys.exit(77)


class Bad(Exception):
    """The entry is refused; .stage is the check that failed."""

    def __init__(self, stage, why):
        super().__init__(f"{stage}: {why}")
        self.stage = stage


# ---- section 2: the msgpack profile ----------------------------------

class Reader:
    def __init__(self, data):
        self.b = data
        self.i = 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise Bad("decode", "truncated")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def be(self, n):
        return int.from_bytes(self.take(n), "big")

    def value(self):
        """Decodes one value as ('uint'|'str'|'bin'|'array', payload),
        or as a scalar of a typed value (3.2): ('nil', None), ('bool', b),
        ('int', n) for n < 0, ('float', x); refusing forbidden types and
        non-shortest forms (2.1, 2.2, 3.2). Where a typed value may stand
        is the field rules' to say."""
        t = self.take(1)[0]
        if t <= 0x7F:
            return ("uint", t)
        if t >= 0xE0:
            return ("int", t - 0x100)
        if t == 0xC0:
            return ("nil", None)
        if t in (0xC2, 0xC3):
            return ("bool", t == 0xC3)
        if t in (0xD0, 0xD1, 0xD2, 0xD3):
            width = 1 << (t - 0xD0)
            v = int.from_bytes(self.take(width), "big", signed=True)
            # negative only, and below what the next shorter form holds
            floor = {1: -32, 2: -128, 4: -32768, 8: -2**31}[width]
            if v >= floor:
                raise Bad("decode", f"int{8 * width} for {v}")
            return ("int", v)
        if t == 0xCA:
            raise Bad("decode", "float 32")
        if t == 0xCB:
            x = struct.unpack(">d", self.take(8))[0]
            if math.isnan(x) or math.isinf(x):
                raise Bad("decode", "a float that is not finite")
            if x == int(x) and -2**63 <= x < 2**63:
                raise Bad("decode", f"float 64 for the integer {x}")
            return ("float", x)
        if t in (0xCC, 0xCD, 0xCE, 0xCF):
            width = 1 << (t - 0xCC)
            v = self.be(width)
            floor = {1: 0x80, 2: 0x100, 4: 0x10000, 8: 0x100000000}[width]
            if v < floor:
                raise Bad("decode", f"uint{8 * width} for {v}")
            return ("uint", v)
        if 0xA0 <= t <= 0xBF or t in (0xD9, 0xDA, 0xDB):
            if t <= 0xBF:
                n = t & 0x1F
            else:
                width = 1 << (t - 0xD9)
                n = self.be(width)
                floor = {1: 32, 2: 0x100, 4: 0x10000}[width]
                if n < floor:
                    raise Bad("decode", f"str{8 * width} for {n} bytes")
            raw = self.take(n)
            if b"\x00" in raw:
                raise Bad("decode", "NUL in text")
            try:
                return ("str", raw.decode("utf-8", errors="strict"))
            except UnicodeDecodeError:
                raise Bad("decode", "text is not UTF-8")
        if t in (0xC4, 0xC5, 0xC6):
            width = 1 << (t - 0xC4)
            n = self.be(width)
            floor = {1: 0, 2: 0x100, 4: 0x10000}[width]
            if n < floor:
                raise Bad("decode", f"bin{8 * width} for {n} bytes")
            return ("bin", self.take(n))
        if 0x90 <= t <= 0x9F or t in (0xDC, 0xDD):
            if t <= 0x9F:
                n = t & 0x0F
            else:
                width = 2 if t == 0xDC else 4
                n = self.be(width)
                if n < (16 if width == 2 else 0x10000):
                    raise Bad("decode", "array header not shortest")
            return ("array", [self.value() for _ in range(n)])
        raise Bad("decode", f"forbidden msgpack type 0x{t:02x}")


# ---- section 3.1: names ----------------------------------------------

LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
KEY = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z")
KEYNAME = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
SCOPE = re.compile(r"[a-z0-9/*?\[\]!-]+\Z")


def is_text(s, lo, hi):
    n = len(s.encode("utf-8"))
    if not lo <= n <= hi:
        return False
    for ch in s:
        c = ord(ch)
        if c < 0x20 or c == 0x7F or 0x80 <= c <= 0x9F:
            return False
        if 0xD800 <= c <= 0xDFFF:  # python's strict codec already refuses
            return False
    return True


def is_cluster(s):
    return len(s) <= 63 and LABEL.match(s) is not None


def is_target(s):
    parts = s.split("/")
    return (len(parts) == 2 and is_cluster(parts[0]) and
            len(parts[1]) <= 53 and LABEL.match(parts[1]) is not None)


def is_key(s):
    return 1 <= len(s) <= 253 and KEY.match(s) is not None


def is_scope_list(s):
    if not 1 <= len(s) <= 4096 or s != s.strip(" ") or "  " in s:
        return False
    return all(1 <= len(t) <= 117 and SCOPE.match(t)
               for t in s.split(" "))


# ---- section 7: keys --------------------------------------------------

def keyid(name, pk):
    return hashlib.sha256(name.encode() + b"\x0a\x01" + pk).digest()[:4]


def parse_vkey(text):
    parts = text.split("+", 2)  # the base64 may contain '+' itself
    if len(parts) != 3 or not KEYNAME.match(parts[0]):
        raise ValueError("not NAME+KEYID+BASE64")
    name, idhex, b64 = parts
    if not re.fullmatch(r"[0-9a-f]{8}", idhex) or len(b64) != 44:
        raise ValueError("bad key id or key length")
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise ValueError("not an Ed25519 key")
    pk = raw[1:]
    if keyid(name, pk) != bytes.fromhex(idhex):
        raise ValueError("key id does not match")
    return name, pk


def load_key_file(data):
    """A key file: exactly one line, a single final \\n allowed."""
    text = data.decode("utf-8")
    if text.endswith("\n"):
        text = text[:-1]
    if "\n" in text or "\r" in text:
        raise ValueError("not one line")
    if not re.fullmatch(r"[A-Za-z0-9._-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}",
                        text):
        raise ValueError("not NAME+KEYID+BASE64 alone")
    return parse_vkey(text)


def check_key_files(vdir):
    failures = n = 0
    kdir = os.path.join(vdir, "keys")
    with open(os.path.join(kdir, "INDEX.txt")) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            n += 1
            with open(os.path.join(kdir, w[1]), "rb") as kf:
                data = kf.read()
            try:
                name, pk = load_key_file(data)
                got = f"{name} {keyid(name, pk).hex()}"
            except ValueError as err:
                got = None
                why = str(err)
            if w[0] == "good" and got != f"{w[2]} {w[3]}":
                print(f"FAIL keys/{w[1]}: good key not loaded as listed")
                failures += 1
            elif w[0] == "bad" and got is not None:
                print(f"FAIL keys/{w[1]}: bad key accepted")
                failures += 1
            else:
                print(f"ok   keys/{w[1]}: {'loaded' if got else why}")
    listed = n
    files = len([x for x in os.listdir(kdir) if x.endswith(".pub")])
    if files != listed:
        print(f"FAIL keys/: {files} .pub files, {listed} listed")
        failures += 1
    return failures


# ---- sections 3 and 4: the entry --------------------------------------

KINDS = ("init", "set", "unset", "rollback", "lock", "unlock", "key-add",
         "key-revoke", "applied", "apply-failed", "policy", "freeze",
         "unfreeze", "approve", "withdraw", "drift")
GOV_KINDS = ("policy", "freeze", "unfreeze", "approve", "withdraw")
DURATION_MIN, DURATION_MAX = 60, 31622400


def field(f, i, typ, size=None):
    t, v = f[i]
    if t != typ or (size is not None and len(v) != size):
        raise Bad("decode", f"field {i} is not {typ}"
                  + (f"({size})" if size else ""))
    return v


class Typed(tuple):
    """A typed value (3.2): ('int'|'float'|'bool'|'nil', v) or
    ('array', items), each item such a pair or ('str', s). Equal to
    another iff of the same type and value; never equal to a string."""


SCALARS = ("int", "float", "bool", "nil")


def typed(t, v):
    """The typed value of a pair's VALUE decoded as (t, v) (3.2)."""
    if t == "uint":
        if v > 2**63 - 1:
            raise Bad("decode", "an integer above int64")
        return Typed(("int", v))
    if t in SCALARS:
        return Typed((t, v))
    if t == "array":
        rule(len(v) <= 1000, "an array of more than 1000 items")
        items = []
        for it, iv in v:
            if it == "str":
                rule(is_text(iv, 0, 4096), "a bad string in an array")
                items.append(("str", iv))
            elif it in SCALARS or it == "uint":
                items.append(tuple(typed(it, iv)))
            else:
                raise Bad("decode", "an array inside an array")
        return Typed(("array", tuple(items)))
    raise Bad("decode", f"a {t} is not a value")


def pairs(f, i, allow_unset, limit):
    out = []
    for t, p in field(f, i, "array"):
        if t != "array" or not (1 if allow_unset else 2) <= len(p) <= 2:
            raise Bad("decode", f"bad pair in field {i}")
        if p[0][0] != "str":
            raise Bad("decode", f"pair key is not a str in field {i}")
        if len(p) == 2 and p[1][0] != "str":
            # a typed value; check_rules says where it may be
            out.append((p[0][1], typed(*p[1])))
            continue
        out.append((p[0][1], p[1][1] if len(p) == 2 else None))
    if len(out) > limit:
        raise Bad("decode", f"too many pairs in field {i}")
    keys = [k.encode() for k, _ in out]
    if any(a >= b for a, b in zip(keys, keys[1:])):
        raise Bad("decode", f"field {i} is not sorted and unique")
    return out


def decode(data):
    if len(data) > 1048576:
        raise Bad("decode", "too large")
    r = Reader(data)
    t, f = r.value()
    if r.i != len(data):
        raise Bad("decode", "trailing bytes")
    if t != "array" or not f:
        raise Bad("decode", "not an array of fields")
    e = {}
    e["version"] = field(f, 0, "uint")
    if e["version"] not in (1, 2):
        raise Bad("decode", f"unknown version {e['version']}")
    n = 11 if e["version"] == 1 else 12  # section 3
    if len(f) != n:
        raise Bad("decode", f"version {e['version']} has {n} fields")
    e["seq"] = field(f, 1, "uint")
    e["prev"] = field(f, 2, "bin", 32)
    e["time"] = field(f, 3, "uint")
    e["signer"] = field(f, 4, "bin", 4)
    e["kind"] = field(f, 5, "str")
    e["target"] = field(f, 6, "str")
    e["changes"] = pairs(f, 7, True, 1000)
    e["reason"] = field(f, 8, "str")
    e["meta"] = pairs(f, 9, False, 64)
    e["authz"] = field(f, 10, "bin", 32) if n == 12 else None
    e["sig"] = field(f, n - 1, "bin", 64)
    check_rules(e)
    return e


def rule(ok, why):
    if not ok:
        raise Bad("decode", why)


def check_rules(e):
    seq, kind, target = e["seq"], e["kind"], e["target"]
    ch = dict(e["changes"])
    rule(1 <= seq <= 2**63 - 1, "seq out of range")
    rule(kind in KINDS, "unknown kind")
    rule((seq == 1) == (kind == "init"), "init is seq 1 and only seq 1")
    rule(seq != 1 or e["prev"] == bytes(32), "seq 1 prev not zero")
    rule(is_text(e["reason"], 1, 4096), "bad reason")
    for k, v in e["meta"]:
        rule(not isinstance(v, Typed), "typed value in metadata")
        rule(is_key(k) and is_text(v, 1, 4096), "bad metadata")
    if any(isinstance(v, Typed) for _, v in e["changes"]):
        rule(e["version"] == 2, "typed value in a version 1 entry")
        rule(kind in ("set", "rollback", "applied", "apply-failed"),
             f"typed value in {kind}")
    names = [k for k, _ in e["changes"]]
    if kind in GOV_KINDS:
        check_gov_rules(e, ch, names)
        return
    if kind in ("init", "key-add", "key-revoke"):
        rule(target == "", "key entries have no target")
        want = {"init": ["origin", "role", "scopes", "vkey"],
                "key-add": ["role", "scopes", "vkey"],
                "key-revoke": ["name"]}[kind]
        rule(names == want and None not in ch.values(), "wrong fields")
        if kind == "key-revoke":
            rule(KEYNAME.match(ch["name"]) is not None, "bad key name")
            return
        if kind == "init":
            o = ch["origin"]
            rule(is_text(o, 1, 255) and o == o.strip(" "), "bad origin")
            rule(ch["role"] == "admin" and ch["scopes"] == "*",
                 "init must be admin with scope *")
        rule(ch["role"] in ("admin", "deployer", "applier"), "bad role")
        rule(is_scope_list(ch["scopes"]), "bad scopes")
        try:
            parse_vkey(ch["vkey"])
        except ValueError as err:
            raise Bad("decode", f"bad vkey: {err}")
        return
    if kind in ("lock", "unlock"):
        rule(is_target(target) and not names, "bad lock")
        return
    if kind == "drift":
        rule(e["version"] == 2, "drift entry in format version 1")
        rule(is_target(target) if "/" in target else is_cluster(target),
             "bad target")
        rule(names == ["status"] and ch["status"] in ("drifted", "in-sync"),
             "a drift carries exactly status, drifted or in-sync")
        return
    if kind in ("applied", "apply-failed"):
        rule(is_target(target) if "/" in target else is_cluster(target),
             "bad target")
    else:
        rule(is_target(target), "bad target")
        rule(len(names) >= 1, "no changes")
    for k, v in e["changes"]:
        rule(is_key(k), "bad key")
        rule(v is None or isinstance(v, Typed) or is_text(v, 1, 4096),
             "bad value")
        if kind in ("set", "applied", "apply-failed"):
            rule(v is not None, f"{kind} unsets a key")
        if kind == "unset":
            rule(v is None, "unset sets a key")
    if kind == "rollback":
        to = dict(e["meta"]).get("rollback-to", "")
        rule(re.fullmatch(r"[0-9]+", to) is not None
             and 1 <= int(to) < seq, "bad rollback-to")


def decimal(v, lo, hi):
    """Section 8b: digits only, no leading zero, no sign, in [lo, hi]."""
    return (v is not None and re.fullmatch(r"0|[1-9][0-9]*", v) is not None
            and lo <= int(v) <= hi)


def utc(v):
    """YYYY-MM-DDTHH:MM:SSZ as unix seconds, or None."""
    if v is None or not re.fullmatch(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", v):
        return None
    try:
        d = datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp())


def is_scope(s):
    return " " not in s and is_scope_list(s)


def check_gov_rules(e, ch, names):
    """Section 8b: the five kinds of promotion policies."""
    kind, target = e["kind"], e["target"]
    rule(e["version"] == 2, f"{kind} entry in format version 1")
    rule(None not in ch.values(), f"{kind} entry unsets a field")
    if kind in ("approve", "withdraw"):
        rule(is_target(target), "bad target")
        rule(names == ["proposal"], f"{kind} carries exactly proposal")
        rule(decimal(ch["proposal"], 2, 2**63 - 1), "bad proposal")
        return
    rule(is_scope(target), "bad scope")
    if kind == "unfreeze":
        rule(names == ["window"], "unfreeze carries exactly window")
        rule(decimal(ch["window"], 2, 2**63 - 1), "bad window")
        return
    if kind == "policy":
        rule(set(names) <= {"approvals", "rollbacks", "soak", "soak-from"},
             "policy: unknown field")
        if "approvals" in ch:
            rule(decimal(ch["approvals"], 1, 16), "approvals not 1..16")
        if "rollbacks" in ch:
            rule(ch["rollbacks"] == "gated", "rollbacks is not gated")
        rule(("soak" in ch) == ("soak-from" in ch),
             "soak and soak-from go together")
        if "soak" in ch:
            rule(decimal(ch["soak"], DURATION_MIN, DURATION_MAX),
                 "bad soak")
            rule(is_cluster(ch["soak-from"]), "bad soak-from")
        return
    # freeze
    if names == ["from", "until"]:
        frm, until = utc(ch["from"]), utc(ch["until"])
        rule(frm is not None and until is not None, "bad UTC time")
        rule(frm < until, "until is not after from")
        return
    rule(names == ["cron", "duration", "tz"],
         "freeze carries exactly from, until or cron, duration, tz")
    rule(len(ch["cron"].split(" ")) == 5, "cron has five fields")
    rule(decimal(ch["duration"], DURATION_MIN, DURATION_MAX),
         "bad duration")
    rule(re.fullmatch(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*", ch["tz"])
         is not None, "bad time zone")


# ---- sections 5, 6, 8: signature, hashes, authorisation ---------------

def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def mth(hashes):
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])
                          ).digest()


def sig_ok(data, origin, pk):
    if (len(data) < 67 or data[0] not in (0x9B, 0x9C) or data[-66] != 0xC4
            or data[-65] != 0x40):
        return False
    msg = (b"ledger/v1/entry\x00" + origin.encode() + b"\x00"
           + bytes([data[0] - 1]) + data[1:-66])
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(data[-64:], msg)
        return True
    except InvalidSignature:
        return False


def scope_match(scope, target):
    if scope == "*":
        return True
    # fnmatch with FNM_PATHNAME: no wildcard crosses '/'
    s_parts, t_parts = scope.split("/"), target.split("/")
    return len(s_parts) == len(t_parts) and all(
        fnmatch.fnmatchcase(t, s) for s, t in zip(s_parts, t_parts))


def put(values, pairs):
    """Each (KEY, VALUE) sets KEY; each (KEY, None) removes it."""
    for k, v in pairs:
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v


# ---- section 8.1: the authorisation commitment ----------------------

def mp_uint(n):
    if n < 0x80:
        return bytes([n])
    for tag, w in ((0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8)):
        if n < 1 << (8 * w):
            return bytes([tag]) + n.to_bytes(w, "big")
    raise ValueError(n)


def mp_head(n, fix, tags, widths):
    if n < 16 and fix is not None:
        return bytes([fix | n])
    for tag, w in zip(tags, widths):
        if n < 1 << (8 * w):
            return bytes([tag]) + n.to_bytes(w, "big")
    raise ValueError(n)


def mp_str(s):
    b = s.encode()
    if len(b) < 32:
        return bytes([0xA0 | len(b)]) + b
    return mp_head(len(b), None, (0xD9, 0xDA, 0xDB), (1, 2, 4)) + b


def mp_bin(b):
    return mp_head(len(b), None, (0xC4, 0xC5, 0xC6), (1, 2, 4)) + b


def mp_array(items):
    return mp_head(len(items), 0x90, (0xDC, 0xDD), (2, 4)) + b"".join(items)


def commitment(keys, locks, pol, win, pend):
    """SHA-256("ledger/v2/authz" 00 STATE), STATE = [KEYS, LOCKS] while
    there is no policy, window or pending proposal, else [KEYS, LOCKS,
    POLICIES, WINDOWS, PENDING] (section 8b)."""
    ks = [mp_array([mp_str(k["name"]), mp_bin(k["pk"]), mp_str(k["role"]),
                    mp_str(k["scopes"]), mp_uint(k["added"]),
                    mp_uint(k["revoked"])])
          for k in sorted(keys, key=lambda k: k["name"].encode())]
    ls = [mp_array([mp_str(t), mp_uint(s)])
          for t, s in sorted(locks.items(), key=lambda i: i[0].encode())]
    items = [mp_array(ks), mp_array(ls)]
    if pol or win or pend:
        ps = [mp_array([mp_str(sc), mp_uint(p["seq"]),
                        mp_uint(p["approvals"]), mp_uint(p["rollbacks"]),
                        mp_uint(p["soak"]), mp_str(p["from"])])
              for sc, p in sorted(pol.items(), key=lambda i: i[0].encode())]
        ws = [mp_array([mp_uint(w["seq"]), mp_str(w["scope"]),
                        mp_uint(w["from"]), mp_uint(w["until"]),
                        mp_str(w["cron"]), mp_uint(w["duration"]),
                        mp_str(w["tz"])])
              for w in sorted(win, key=lambda w: w["seq"])]
        qs = [mp_array([mp_uint(q["seq"]), mp_str(q["target"]),
                        mp_bin(q["author"]), mp_uint(q["need"]),
                        mp_uint(q["flags"]),
                        mp_array([mp_bin(a) for a in q["approvers"]])])
              for q in sorted(pend, key=lambda q: q["seq"])]
        items += [mp_array(ps), mp_array(ws), mp_array(qs)]
    state = mp_array(items)
    return hashlib.sha256(b"ledger/v2/authz\x00" + state).digest()


def more_specific(a, b):
    """Section 8b: no glob character beats a glob; then more bytes that
    are not '*'; then the bytewise smaller scope."""
    ga, gb = any(c in a for c in "*?["), any(c in b for c in "*?[")
    if ga != gb:
        return not ga
    la, lb = len(a.encode()) - a.count("*"), len(b.encode()) - b.count("*")
    if la != lb:
        return la > lb
    return a.encode() < b.encode()


class Ledger:
    def __init__(self):
        self.prev = bytes(32)
        self.seq = 0
        self.origin = None
        # keyid -> dict(name, pk, role, scopes, added, revoked)
        self.keys = {}
        self.locked = {}  # target -> seq of the lock in force
        self.v2 = False  # a version 2 entry was seen
        self.leaves = []
        # the changes in effect: (seq, target, [(KEY, VALUE or None)...])
        self.changes = []
        self.pol = {}  # scope -> dict(seq, approvals, rollbacks, soak, from)
        self.win = []  # dict(seq, scope, from, until, cron, duration, tz)
        # proposals: dict(seq, target, author, need, flags, approvers,
        # changes)
        self.pend = []

    def append(self, data):
        e = decode(data)
        if e["seq"] != self.seq + 1 or e["prev"] != self.prev:
            raise Bad("chain", "seq or prev does not continue the chain")
        if e["kind"] == "init":
            self.origin = dict(e["changes"])["origin"]
        pk = self.authorise(e)
        if e["kind"] == "rollback":
            self.restores(e)
        if not sig_ok(data, self.origin, pk):
            raise Bad("signature", "signature does not verify")
        self.apply(e)
        if e["version"] == 1 and self.v2:
            raise Bad("commitment", "version 1 after version 2")
        if e["version"] == 2:
            self.v2 = True
            if e["authz"] != self.commitment():
                raise Bad("commitment", "authz is not the state after it")
        self.seq = e["seq"]
        self.prev = leaf(data)
        self.leaves.append(self.prev)

    def authorise(self, e):
        kind, target = e["kind"], e["target"]
        if kind == "init":
            name, pk = parse_vkey(dict(e["changes"])["vkey"])
            if keyid(name, pk) != e["signer"]:
                raise Bad("authorise", "init not signed by its own key")
            return pk
        k = self.keys.get(e["signer"])
        if k is None or k["revoked"]:
            raise Bad("authorise", "unknown or revoked signer")
        if kind in ("key-add", "key-revoke"):
            if k["role"] != "admin" or "*" not in k["scopes"].split(" "):
                raise Bad("authorise", "may not manage keys")
            return k["pk"]
        if kind in ("policy", "freeze", "unfreeze"):
            items = k["scopes"].split(" ")
            if k["role"] != "admin" or ("*" not in items
                                        and target not in items):
                raise Bad("authorise", "may not set rules for this scope")
            if kind == "unfreeze" and self.window(e) is None:
                raise Bad("authorise", "no such window in force")
            return k["pk"]
        if kind in ("applied", "apply-failed", "drift"):
            allowed = k["role"] in ("applier", "admin")
            if "/" not in target:
                target += "/*"
        else:
            allowed = k["role"] in ("deployer", "admin")
        if not allowed or not any(scope_match(s, target)
                                  for s in k["scopes"].split(" ")):
            raise Bad("authorise", "role or scope does not allow it")
        if (kind in ("set", "unset") and target in self.locked
                and "forced" not in dict(e["meta"])):
            raise Bad("authorise", "target is locked")
        self.authorise_gov(e)
        return k["pk"]

    # ---- section 8b: promotion policies ----

    def policy(self, target):
        best = None
        for sc in self.pol:
            if scope_match(sc, target) and (best is None
                                            or more_specific(sc, best)):
                best = sc
        return self.pol[best] if best is not None else None

    def gated(self, e):
        if e["kind"] in ("set", "unset"):
            return True
        p = self.policy(e["target"])
        return e["kind"] == "rollback" and p is not None and p["rollbacks"]

    def need(self, e):
        p = self.policy(e["target"])
        n = p["approvals"] if p and self.gated(e) else 0
        if "emergency" in dict(e["meta"]):
            n = max(n, 1)
        return n

    def frozen(self, target, time_ns):
        t = time_ns // 10**9
        for w in self.win:
            if not scope_match(w["scope"], target):
                continue
            if w["cron"]:
                raise NotImplementedError("cron windows are not evaluated "
                                          "by this verifier")
            if w["from"] <= t < w["until"]:
                return True
        return False

    def no_soak(self, target):
        p = self.policy(target)
        if p and p["soak"]:
            raise NotImplementedError("soak is not evaluated by this "
                                      "verifier")

    def window(self, e):
        seq = int(dict(e["changes"])["window"])
        for w in self.win:
            if w["seq"] == seq and w["scope"] == e["target"]:
                return w
        return None

    def pending(self, e):
        seq = int(dict(e["changes"])["proposal"])
        for q in self.pend:
            if q["seq"] == seq and q["target"] == e["target"]:
                return q
        return None

    def count(self, q, signer):
        n = sum(1 for a in q["approvers"] if not self.keys[a]["revoked"])
        return n + (signer not in q["approvers"])

    def authorise_gov(self, e):
        kind, target = e["kind"], e["target"]
        emergency = "emergency" in dict(e["meta"])
        if kind in ("set", "unset", "rollback") and self.gated(e):
            if not emergency and self.frozen(target, e["time"]):
                raise Bad("authorise", "inside a freeze window")
            if not self.need(e):
                self.no_soak(target)
        if kind not in ("approve", "withdraw"):
            return
        q = self.pending(e)
        if q is None:
            raise Bad("authorise", "the proposal is not pending")
        signer = e["signer"]
        if kind == "withdraw":
            if q["author"] != signer and self.keys[signer]["role"] != "admin":
                raise Bad("authorise", "neither author nor admin")
            return
        if q["author"] == signer:
            raise Bad("authorise", "an author approving its proposal")
        if self.keys[q["author"]]["revoked"]:
            raise Bad("authorise", "the proposal's author was revoked")
        if signer in q["approvers"]:
            raise Bad("authorise", "a second approval by one key")
        if self.count(q, signer) < q["need"]:
            return
        if not q["flags"] & 1:  # not an emergency
            if self.frozen(target, e["time"]):
                raise Bad("authorise", "enacted inside a freeze window")
            self.no_soak(target)
        if target in self.locked and not q["flags"] & 2:
            raise Bad("authorise", "enacted on a locked target")

    def take_effect(self, seq, target, changes):
        self.changes.append((seq, target, changes))
        self.pend = [q for q in self.pend if q["target"] != target]

    def apply_gov(self, e):
        """Applies e to the governance and the values in effect; returns
        nothing."""
        kind, target, ch = e["kind"], e["target"], dict(e["changes"])
        meta = dict(e["meta"])
        if kind in ("set", "unset", "rollback"):
            need = self.need(e)
            if not need:
                self.take_effect(e["seq"], target, e["changes"])
                return
            self.pend.append(dict(
                seq=e["seq"], target=target, author=e["signer"], need=need,
                flags=(1 if "emergency" in meta else 0)
                | (2 if "forced" in meta else 0),
                approvers=[], changes=e["changes"]))
        elif kind == "approve":
            q = self.pending(e)
            if self.count(q, e["signer"]) >= q["need"]:
                self.take_effect(e["seq"], target, q["changes"])
            else:
                q["approvers"].append(e["signer"])
        elif kind == "withdraw":
            self.pend.remove(self.pending(e))
        elif kind == "policy":
            if not ch:
                self.pol.pop(target, None)
            else:
                self.pol[target] = dict(
                    seq=e["seq"], approvals=int(ch.get("approvals", 0)),
                    rollbacks=1 if "rollbacks" in ch else 0,
                    soak=int(ch.get("soak", 0)), **{"from":
                                                    ch.get("soak-from", "")})
        elif kind == "freeze":
            absolute = "from" in ch
            self.win.append(dict(
                seq=e["seq"], scope=target,
                cron="" if absolute else ch["cron"],
                duration=0 if absolute else int(ch["duration"]),
                tz="" if absolute else ch["tz"],
                **{"from": utc(ch["from"]) if absolute else 0,
                   "until": utc(ch["until"]) if absolute else 0}))
        elif kind == "unfreeze":
            self.win.remove(self.window(e))

    def state(self, target, upto):
        """Section 10, "State at N": the values of target after 1..upto."""
        values = {}
        for seq, t, pairs in self.changes:
            if seq <= upto and t == target:
                put(values, pairs)
        return values

    def restores(self, e):
        """Section 8a: after the entry, the values are the state at N."""
        then = self.state(e["target"], int(dict(e["meta"])["rollback-to"]))
        after = self.state(e["target"], self.seq)
        put(after, e["changes"])
        if after != then:
            raise Bad("restore", "the rollback does not restore the "
                      "state at its rollback-to")

    def commitment(self):
        return commitment(self.keys.values(), self.locked, self.pol,
                          self.win, self.pend)

    def apply(self, e):
        self.apply_gov(e)
        ch = dict(e["changes"])
        if e["kind"] in ("init", "key-add"):
            name, pk = parse_vkey(ch["vkey"])
            self.keys[keyid(name, pk)] = dict(
                name=name, pk=pk, role=ch["role"], scopes=ch["scopes"],
                added=e["seq"], revoked=0)
        elif e["kind"] == "key-revoke":
            for k in self.keys.values():
                if k["name"] == ch["name"]:
                    k["revoked"] = e["seq"]
        elif e["kind"] == "lock":
            self.locked[e["target"]] = e["seq"]
        elif e["kind"] == "unlock":
            self.locked.pop(e["target"], None)


# ---- section 13: the vectors ----------------------------------------

def main():
    vdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    good, bad, keys, authz = [], [], {}, {}
    origin = tree_root = None
    with open(os.path.join(vdir, "INDEX.txt")) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            if w[0] == "origin":
                origin = line.split(" ", 1)[1].rstrip("\n")
            elif w[0] == "key":
                keys[w[1]] = parse_vkey(w[2])
            elif w[0] == "tree-root":
                tree_root = (int(w[1]), bytes.fromhex(w[2]))
            elif w[0] == "good":
                good.append((w[1], int(w[2][4:]), bytes.fromhex(w[3][5:])))
            elif w[0] == "bad":
                at = int(w[3][3:]) if len(w) > 3 else 3
                bad.append((w[1], w[2][6:], at))
            elif w[0] == "authz":
                authz[int(w[1])] = bytes.fromhex(w[2])

    def load(rel):
        with open(os.path.join(vdir, rel)) as f:
            return bytes.fromhex(f.read().strip())

    failures = 0
    chain = Ledger()
    for rel, seq, want in sorted(good, key=lambda g: g[1]):
        data = load(rel)
        try:
            chain.append(data)
        except Bad as err:
            print(f"FAIL {rel}: refused: {err}")
            failures += 1
            continue
        if leaf(data) != want or chain.seq != seq:
            print(f"FAIL {rel}: hash or seq differs from INDEX.txt")
            failures += 1
        elif authz.get(seq) != chain.commitment():
            print(f"FAIL {rel}: the commitment after it differs from "
                  "INDEX.txt")
            failures += 1
        else:
            print(f"ok   {rel}: seq {seq} accepted")
    if chain.origin != origin:
        print("FAIL origin differs from INDEX.txt")
        failures += 1
    if tree_root and mth(chain.leaves[:tree_root[0]]) != tree_root[1]:
        print("FAIL tree head differs from INDEX.txt")
        failures += 1

    by_seq = {seq: load(rel) for rel, seq, _ in good}
    for rel, stage, at in bad:
        ledger = Ledger()
        for seq in range(1, at):
            ledger.append(by_seq[seq])
        try:
            ledger.append(load(rel))
            print(f"FAIL {rel}: accepted, should fail at {stage}")
            failures += 1
        except Bad as err:
            if err.stage != stage:
                print(f"FAIL {rel}: refused at {err.stage}, INDEX.txt "
                      f"says {stage} ({err})")
                failures += 1
            else:
                print(f"ok   {rel}: refused at {stage} ({err})")
    failures += check_key_files(vdir)
    print(f"{len(good)} good, {len(bad)} bad, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
