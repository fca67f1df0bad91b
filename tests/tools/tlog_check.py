#!/usr/bin/env python3
"""tlog_check.py - an independent checker of a C2SP tlog-tiles tree.

Written from the specifications alone (c2sp.org/tlog-tiles,
c2sp.org/tlog-checkpoint, c2sp.org/signed-note, RFC 6962 section 2.1),
not from Ledger's C code, so that the two can disagree.

    tlog_check.py --origin ORIGIN [--vkey VKEY] [--content-types] DIR|URL
    tlog_check.py --self-test

DIR is a directory holding `checkpoint` and `tile/`; URL a tiles prefix
(http://host/prefix/). It checks:
  - the checkpoint: origin line = ORIGIN, a decimal size (no leading
    zeros), a base64 root of 32 bytes, a blank line, signature lines;
    with --vkey, a verifying Ed25519 signature line by that key (the
    signed-note verifier key NAME+KEYID+BASE64(0x01||pk), key ID checked);
  - the path set: every tile and entry bundle the checkpoint's size
    needs is there (a directory: no other files under tile/ but partial
    tiles of smaller sizes, whose bytes must be the start of the tile at
    their index);
  - sizes: full hash tiles 8,192 bytes, partial ones 32 * W; a bundle
    exactly W entries of 16-bit big-endian length and bytes;
  - every level 0 hash = SHA-256(0x00 || entry) of its bundle's entry;
  - every hash of a tile above level 0 = the Merkle Tree Hash of the full
    tile below it;
  - the root of the checkpoint's size, computed from the tiles, = the
    checkpoint's root;
  - --content-types (URL): the checkpoint served as
    "text/plain; charset=utf-8", tiles as application/octet-stream.
Exit 0 and "ok: ..." when all hold; 1 and one line naming the first
problem; 2 for usage errors or an unreachable tree.
"""
import base64
import hashlib
import os
import re
import sys
import urllib.error
import urllib.request

TILE_WIDTH = 256
HASH = 32


class Bad(Exception):
    """The tree breaks a rule: the message names the resource."""


# ---- tlog-tiles geometry and paths ----

def encode_index(n):
    """N as zero-padded 3-digit path elements, all but the last with an
    "x": 1234067 -> x001/x234/067."""
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(("x%03d" if i < len(groups) - 1 else "%03d") % g
                    for i, g in enumerate(groups))


def tile_path(level, n, width):
    """level None: the entry bundle."""
    lv = "entries" if level is None else str(level)
    p = "tile/%s/%s" % (lv, encode_index(n))
    if width != TILE_WIDTH:
        p += ".p/%d" % width
    return p


def level_tiles(size, level):
    """(full tiles, partial width) of a level for a tree of size: the
    hashes at level L are floor(size / 256**L); bundles are as level 0."""
    hashes = size // (TILE_WIDTH ** (level or 0))
    return hashes // TILE_WIDTH, hashes % TILE_WIDTH


def tiles_of(size):
    """Every (level, n, width) a tree of size has; level None: bundles."""
    out = []
    level = None
    while True:
        full, part = level_tiles(size, level)
        if level is not None and full == 0 and part == 0:
            break
        out += [(level, n, TILE_WIDTH) for n in range(full)]
        if part:
            out.append((level, full, part))
        level = 0 if level is None else level + 1
    return out


PATH_RE = re.compile(
    r"^tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*)([0-9]{3})"
    r"(?:\.p/([1-9][0-9]{0,2}))?$")


def parse_path(p):
    """(level, n, width) of a tile path, or None when it is not one."""
    m = PATH_RE.match(p)
    if not m:
        return None
    level = None if m.group(1) == "entries" else int(m.group(1))
    if level is not None and level > 63:
        return None
    digits = [g[1:4] for g in m.group(2).split("/") if g] + [m.group(3)]
    if len(digits) > 1 and digits[0] == "000":
        return None  # no leading zero groups
    n = int("".join(digits))
    width = int(m.group(4)) if m.group(4) else TILE_WIDTH
    if m.group(4) and width > 255:
        return None
    return level, n, width


# ---- RFC 6962 hashing ----

def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def fold(hashes):
    """The MTH of a power-of-two run of subtree hashes."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1])
                  for i in range(0, len(hashes), 2)]
    return hashes[0]


# ---- signed notes ----

def parse_checkpoint(text, origin):
    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("checkpoint: not UTF-8")
    if "\n\n" not in s or not s.endswith("\n"):
        raise Bad("checkpoint: no blank line before the signatures")
    body, sigs = s.split("\n\n", 1)
    lines = body.split("\n")
    if len(lines) < 3:
        raise Bad("checkpoint: fewer than three lines")
    if lines[0] != origin:
        raise Bad("checkpoint: origin %r, expected %r" % (lines[0], origin))
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Bad("checkpoint: size %r is not decimal" % lines[1])
    size = int(lines[1])
    if size >= 2 ** 64:
        raise Bad("checkpoint: size %d too large" % size)
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise Bad("checkpoint: root is not base64")
    if len(root) != HASH:
        raise Bad("checkpoint: root of %d bytes" % len(root))
    sig_lines = sigs[:-1].split("\n")
    for line in sig_lines:
        if not line.startswith("\u2014 ") or len(line.split(" ")) != 3:
            raise Bad("checkpoint: not a signature line: %r" % line)
    return size, root, (body + "\n").encode(), sig_lines


def check_signature(note_text, sig_lines, vkey):
    """A signature line by vkey (NAME+KEYID+BASE64(0x01 || pk)) that
    verifies; the key ID is SHA-256(NAME || "\\n" || 0x01 || pk)[:4]."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import \
        Ed25519PublicKey
    from cryptography.exceptions import InvalidSignature
    name, keyid_hex, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    if len(key) != 33 or key[0] != 0x01:
        raise Bad("--vkey is not an Ed25519 note key")
    keyid = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if keyid.hex() != keyid_hex:
        raise Bad("--vkey: key ID %s does not match its key" % keyid_hex)
    pk = Ed25519PublicKey.from_public_bytes(key[1:])
    found = False
    for line in sig_lines:
        _, lname, blob_b64 = line.split(" ")
        blob = base64.b64decode(blob_b64)
        if lname != name or blob[:4] != keyid:
            continue
        if len(blob) != 4 + 64:
            raise Bad("checkpoint: signature by %s of %d bytes"
                      % (name, len(blob)))
        try:
            pk.verify(blob[4:], note_text)
        except InvalidSignature:
            raise Bad("checkpoint: signature by %s does not verify" % name)
        found = True
    if not found:
        raise Bad("checkpoint: no signature by %s" % name)


# ---- sources ----

class DirSource:
    def __init__(self, root):
        self.root = root

    def get(self, path):
        try:
            with open(os.path.join(self.root, path), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise Bad("%s: missing" % path)

    def listing(self):
        out = set()
        base = os.path.join(self.root, "tile")
        for d, _, files in os.walk(base):
            for name in files:
                full = os.path.join(d, name)
                out.add(os.path.relpath(full, self.root).replace(os.sep, "/"))
        return out


class UrlSource:
    def __init__(self, prefix, content_types):
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.content_types = content_types

    def get(self, path):
        try:
            with urllib.request.urlopen(self.prefix + path, timeout=60) as r:
                body = r.read()
                ctype = r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raise Bad("%s: HTTP %d" % (path, e.code))
        if self.content_types:
            want = ("text/plain; charset=utf-8" if path == "checkpoint"
                    else "application/octet-stream")
            if ctype != want:
                raise Bad("%s: Content-Type %r, expected %r"
                          % (path, ctype, want))
        return body

    def listing(self):
        return None


# ---- the check ----

def split_bundle(path, data, width):
    entries, at = [], 0
    for i in range(width):
        if len(data) - at < 2:
            raise Bad("%s: cut short at entry %d of %d" % (path, i, width))
        n = data[at] << 8 | data[at + 1]
        at += 2
        if len(data) - at < n:
            raise Bad("%s: entry %d cut short" % (path, i))
        entries.append(data[at:at + n])
        at += n
    if at != len(data):
        raise Bad("%s: %d bytes after its %d entries"
                  % (path, len(data) - at, width))
    return entries


class Cached:
    """Each resource fetched once."""

    def __init__(self, src):
        self.src, self.got = src, {}

    def get(self, path):
        if path not in self.got:
            self.got[path] = self.src.get(path)
        return self.got[path]

    def listing(self):
        return self.src.listing()


def check(src, origin, vkey=None):
    src = Cached(src)
    size, root, note_text, sig_lines = parse_checkpoint(
        src.get("checkpoint"), origin)
    if vkey:
        check_signature(note_text, sig_lines, vkey)
    need = tiles_of(size)
    rows = {}  # level -> list of hashes (the level's row, as far as tiled)
    # bundles and level 0: each leaf hash is its entry's
    for level, n, width in need:
        path = tile_path(level, n, width)
        data = src.get(path)
        if level is None:
            hashes = [leaf_hash(e) for e in split_bundle(path, data, width)]
            tile0 = src.get(tile_path(0, n, width))
            if len(tile0) != width * HASH:
                raise Bad("%s: %d bytes, expected %d"
                          % (tile_path(0, n, width), len(tile0),
                             width * HASH))
            for i, h in enumerate(hashes):
                if tile0[i * HASH:(i + 1) * HASH] != h:
                    raise Bad("%s: hash %d is not the hash of leaf %d "
                              "(in %s)" % (tile_path(0, n, width), i,
                                           n * TILE_WIDTH + i, path))
            continue
        if len(data) != width * HASH:
            raise Bad("%s: %d bytes, expected %d"
                      % (path, len(data), width * HASH))
        row = rows.setdefault(level, [])
        if len(row) != n * TILE_WIDTH:
            raise Bad("%s: out of order" % path)
        row += [data[i:i + HASH] for i in range(0, len(data), HASH)]
    # each hash above level 0 is the MTH of the full tile below it
    for level in sorted(rows):
        if level == 0:
            continue
        below = rows[level - 1]
        full, part = level_tiles(size, level)
        for i, h in enumerate(rows[level]):
            n = i // TILE_WIDTH
            if h != fold(below[i * TILE_WIDTH:(i + 1) * TILE_WIDTH]):
                raise Bad("%s: hash %d is not the hash of %s"
                          % (tile_path(level, n,
                                       TILE_WIDTH if n < full else part),
                             i % TILE_WIDTH,
                             tile_path(level - 1, i, TILE_WIDTH)))
    # the root: the perfect subtrees of size, largest first, folded from
    # the right (RFC 6962's MTH); one of height h = 8L + j is 2^j hashes
    # of row L
    subtrees, offset = [], 0
    for h in range(63, -1, -1):
        if size >> h & 1:
            lv, j = divmod(h, 8)
            first = offset >> (8 * lv)
            subtrees.append(fold(rows[lv][first:first + (1 << j)]))
            offset += 1 << h
    got = hashlib.sha256(b"").digest()
    if subtrees:
        got = subtrees[-1]
        for s in reversed(subtrees[:-1]):
            got = node_hash(s, got)
    if got != root:
        raise Bad("checkpoint: root %s, the tiles' is %s"
                  % (base64.b64encode(root).decode(),
                     base64.b64encode(got).decode()))
    # a directory: nothing else under tile/ but older partial tiles,
    # each the start of the tile now at its index
    extra = 0
    listing = src.listing()
    if listing is not None:
        needed = {tile_path(*t) for t in need}
        for p in sorted(listing - needed):
            t = parse_path(p)
            if t is None or t[2] == TILE_WIDTH:
                raise Bad("%s: not a tile of this tree" % p)
            level, n, width = t
            full, part = level_tiles(size, level)
            have = (TILE_WIDTH if n < full else part if n == full else 0)
            if width >= have:
                raise Bad("%s: a partial tile this tree does not have" % p)
            data = src.get(p)
            now = src.get(tile_path(level, n, have))
            if level is None:
                ok = now.startswith(data) and \
                    len(split_bundle(p, data, width)) == width
            else:
                ok = now[:width * HASH] == data and len(data) == width * HASH
            if not ok:
                raise Bad("%s: not the start of %s"
                          % (p, tile_path(level, n, have)))
            extra += 1
    return size, len(need), extra


# ---- the specification's own examples ----

def self_test():
    # tlog-tiles: "index 1234067 will be encoded as x001/x234/067"
    assert encode_index(1234067) == "x001/x234/067", encode_index(1234067)
    assert encode_index(0) == "000"
    assert encode_index(999) == "999"
    assert encode_index(1000) == "x001/000"
    assert tile_path(1, 1234067, 256) == "tile/1/x001/x234/067"
    assert tile_path(None, 3, 112) == "tile/entries/003.p/112"
    assert parse_path("tile/1/x001/x234/067") == (1, 1234067, 256)
    assert parse_path("tile/entries/003.p/112") == (None, 3, 112)
    for bad in ("tile/0/x000/067", "tile/0/67", "tile/01/000",
                "tile/0/000.p/0", "tile/0/000.p/256", "tile/64/000",
                "tile/0/001/002", "tile/0/x001"):
        assert parse_path(bad) is None, bad
    # "a tree of size 70,000 will be represented by 273 full level 0
    # tiles, one partial level 0 tile of width 112, one full level 1
    # tile, one partial level 1 tile of width 17, and one partial level 2
    # tile of width 1"
    t = tiles_of(70000)
    hashes = [x for x in t if x[0] is not None]
    assert [x for x in hashes if x[0] == 0 and x[2] == 256] == \
        [(0, n, 256) for n in range(273)]
    assert [x for x in hashes if x[2] != 256] == \
        [(0, 273, 112), (1, 1, 17), (2, 0, 1)]
    assert [x for x in hashes if x[0] == 1] == [(1, 0, 256), (1, 1, 17)]
    assert len(hashes) == 273 + 1 + 1 + 1 + 1
    # "a tree of size 256 will be represented by a full level 0 tile and
    # a partial level 1 tile of width 1"
    assert [x for x in tiles_of(256) if x[0] is not None] == \
        [(0, 0, 256), (1, 0, 1)]
    # RFC 6962: MTH of the empty list is SHA-256 of the empty string
    assert hashlib.sha256(b"").hexdigest().startswith("e3b0c442")
    print("ok: self-test (tile paths, the 70,000 and 256 examples)")


def main(argv):
    args, origin, vkey, ctypes = [], None, None, False
    it = iter(argv)
    for a in it:
        if a == "--self-test":
            self_test()
            return 0
        if a == "--origin":
            origin = next(it, None)
        elif a == "--vkey":
            vkey = next(it, None)
        elif a == "--content-types":
            ctypes = True
        else:
            args.append(a)
    if len(args) != 1 or not origin:
        print("usage: tlog_check.py --origin ORIGIN [--vkey VKEY] "
              "[--content-types] DIR|URL", file=sys.stderr)
        return 2
    where = args[0]
    if re.match(r"^https?://", where):
        src = UrlSource(where, ctypes)
    else:
        src = DirSource(where)
    try:
        size, n, extra = check(src, origin, vkey)
    except Bad as e:
        print("tlog_check: %s: %s" % (where, e))
        return 1
    except (OSError, urllib.error.URLError) as e:
        print("tlog_check: %s: %s" % (where, e), file=sys.stderr)
        return 2
    print("ok: %s: %d entries, %d tiles%s" % (
        where, size, n, ", %d older partial tiles" % extra if extra else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
