#!/usr/bin/env python3
"""An independent checker of checkpoints and their witness cosignatures,
written from the C2SP specifications alone (signed-note, tlog-checkpoint,
tlog-cosignature; no code shared with ledger/), to keep Ledger's own
implementation honest.

    cosig_check.py verify NOTE --log VKEY... [--witness VKEY]... [--need N]
        NOTE's note signature by a --log key (type 0x01) and the
        cosignatures (type 0x04) of each --witness key: prints
        "cosigned NAME TIME" or "absent NAME" per witness; exit 0 when a
        log signature verifies, no line by a known key fails, and at
        least N witnesses (default: all) cosigned; 1 otherwise
    cosig_check.py key --seed HEX --name NAME --type 1|4 [--private]
        the verifier (or private) key text of that Ed25519 seed
    cosig_check.py cosigners DIR FILE:NAME:SEED...
        DIR/FILE.key (mode 0600) and DIR/FILE.pub: cosigner (0x04) keys
        of those seeds, as `ledger keygen --witness` writes them
    cosig_check.py checkpoint --seed HEX --name NAME --origin O --size N
                              --root BASE64
        a checkpoint signed by that (type 0x01) key
    cosig_check.py cosign --seed HEX --name NAME --time T < NOTE
        NOTE with that cosigner's line appended
    cosig_check.py selftest [--cosign-tool PATH]
        the examples the specifications and the reference Go code give;
        with the C tool (tests/tools/ldg_cosign), the same cosignature
        made by both byte for byte, and each accepting the other's

Needs the 'cryptography' package (Debian: python3-cryptography) for
Ed25519; exit 77 (meson's "skip") without it.
"""

import argparse
import base64
import binascii
import hashlib
import os
import subprocess
import sys
import tempfile

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
except ImportError:  # pragma: no cover
    print("cosig_check.py: needs the 'cryptography' package; skipped")
    sys.exit(77)

EM_DASH = "\u2014"
TYPE_NOTE = 0x01  # signed-note: Ed25519
TYPE_COSIG = 0x04  # signed-note: timestamped Ed25519 witness cosignature


class Bad(Exception):
    pass


def b64d(s):
    """Standard base64 (RFC 4648 section 4), padding required."""
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise Bad(f"bad base64: {s!r}") from e


def b64e(b):
    return base64.b64encode(b).decode("ascii")


# ---- signed-note: keys ------------------------------------------------

def key_id(name, sigtype, pk):
    """SHA-256(key name || 0x0A || signature type || public key)[:4]"""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sigtype]) +
                          pk).digest()[:4]


def check_name(name):
    if not name or "+" in name or any(c.isspace() for c in name):
        raise Bad(f"bad key name {name!r}")


class VKey:
    """A verifier key: NAME+KEYID+BASE64(type || pk)."""

    def __init__(self, text):
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise Bad(f"not a verifier key: {text!r}")
        self.name, hexid, b = parts
        check_name(self.name)
        raw = b64d(b)
        if len(raw) != 33 or len(hexid) != 8 or hexid != hexid.lower():
            raise Bad(f"not an Ed25519 verifier key: {text!r}")
        self.type, self.pk = raw[0], raw[1:]
        if self.type not in (TYPE_NOTE, TYPE_COSIG):
            raise Bad(f"signature type 0x{self.type:02x} is not 0x01 or "
                      "0x04")
        self.id = key_id(self.name, self.type, self.pk)
        if self.id.hex() != hexid:
            raise Bad(f"key id {hexid} is not {self.id.hex()}: {text!r}")

    def verify(self, msg, sig):
        try:
            Ed25519PublicKey.from_public_bytes(self.pk).verify(sig, msg)
            return True
        except InvalidSignature:
            return False


def seed_key(seed_hex, name, sigtype):
    check_name(name)
    seed = bytes.fromhex(seed_hex)
    if len(seed) != 32:
        raise Bad("a seed is 32 bytes (64 hex digits)")
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    kid = key_id(name, sigtype, pk).hex()
    return (sk, f"{name}+{kid}+{b64e(bytes([sigtype]) + pk)}",
            f"PRIVATE+KEY+{name}+{kid}+{b64e(bytes([sigtype]) + seed)}")


# ---- signed-note and tlog-checkpoint: the note ------------------------

class Note:
    """A signed note whose text is a checkpoint."""

    def __init__(self, data):
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise Bad("not UTF-8") from e
        if any(ord(c) < 0x20 and c != "\n" for c in data):
            raise Bad("a control character other than newline")
        # the text is separated from the signatures by the last blank line
        cut = data.rfind("\n\n")
        if cut < 0 or not data.endswith("\n"):
            raise Bad("no blank line before the signatures")
        self.text = data[:cut + 1]
        self.sigs = []  # (name, raw bytes)
        for line in data[cut + 2:-1].split("\n"):
            if not line.startswith(EM_DASH + " "):
                raise Bad(f"not a signature line: {line!r}")
            name, _, sig = line[2:].partition(" ")
            check_name(name)
            raw = b64d(sig)
            if len(raw) < 5:
                raise Bad(f"signature too short: {line!r}")
            self.sigs.append((name, raw))
        if not self.sigs:
            raise Bad("no signature line")
        lines = self.text[:-1].split("\n")
        if len(lines) < 3 or any(not l for l in lines):
            raise Bad("a checkpoint has at least three non-empty lines")
        self.origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or not size.isascii() or (
                size != "0" and size.startswith("0")):
            raise Bad(f"bad tree size {size!r}")
        self.size = int(size)
        self.root = b64d(root)
        if len(self.root) != 32:
            raise Bad("the root hash is not 32 bytes")
        self.body = self.text.encode("utf-8")

    def lines_by(self, key):
        """The signature blobs (after the key id) by key's name and id."""
        return [raw[4:] for name, raw in self.sigs
                if name == key.name and raw[:4] == key.id]


def cosigned_message(t, body):
    """tlog-cosignature: the Ed25519 signed message."""
    return b"cosignature/v1\ntime %d\n" % t + body


def check_log(note, key):
    """None when no line by key; True when all verify; False otherwise."""
    blobs = note.lines_by(key)
    if not blobs:
        return None
    return all(len(b) == 64 and key.verify(note.body, b) for b in blobs)


def check_cosig(note, key):
    """(None, None) no line by key; (True, newest time) every line
    verifies; (False, None) one does not."""
    blobs = note.lines_by(key)
    if not blobs:
        return None, None
    newest = 0
    for b in blobs:
        if len(b) != 8 + 64:
            return False, None
        t = int.from_bytes(b[:8], "big")
        if t > 2**63 - 1 or not key.verify(cosigned_message(t, note.body),
                                           b[8:]):
            return False, None
        newest = max(newest, t)
    return True, newest


def cosign_line(note, sk, vkey, t):
    sig = sk.sign(cosigned_message(t, note.body))
    blob = vkey.id + t.to_bytes(8, "big") + sig
    return f"{EM_DASH} {vkey.name} {b64e(blob)}\n"


# ---- commands ---------------------------------------------------------

def cmd_verify(a):
    with open(a.note, "rb") as f:
        note = Note(f.read())
    logs = [VKey(k) for k in a.log]
    wits = [VKey(k) for k in a.witness]
    if any(k.type != TYPE_NOTE for k in logs) or any(
            k.type != TYPE_COSIG for k in wits):
        raise Bad("--log takes 0x01 keys, --witness 0x04 keys")
    verdicts = [check_log(note, k) for k in logs]
    if False in verdicts:
        print("bad note signature")
        return 1
    if True not in verdicts:
        print("no note signature by a --log key")
        return 1
    good, bad = 0, False
    for k in wits:
        ok, t = check_cosig(note, k)
        if ok is None:
            print(f"absent {k.name}")
        elif ok:
            print(f"cosigned {k.name} {t}")
            good += 1
        else:
            print(f"bad {k.name}")
            bad = True
    need = len(wits) if a.need is None else a.need
    return 1 if bad or good < need else 0


def cmd_key(a):
    _, vkey, private = seed_key(a.seed, a.name, a.type)
    print(private if a.private else vkey)
    return 0


def cmd_cosigners(a):
    for spec in a.keys:
        try:
            f, name, seed = spec.split(":")
        except ValueError as e:
            raise Bad(f"expected FILE:NAME:SEED, not {spec!r}") from e
        _, vkey, private = seed_key(seed, name, TYPE_COSIG)
        path = os.path.join(a.dir, f)
        fd = os.open(path + ".key", os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                     0o600)
        with os.fdopen(fd, "w") as out:
            out.write(private + "\n")
        with open(path + ".pub", "w") as out:
            out.write(vkey + "\n")
    return 0


def cmd_checkpoint(a):
    sk, vkey, _ = seed_key(a.seed, a.name, TYPE_NOTE)
    k = VKey(vkey)
    body = f"{a.origin}\n{a.size}\n{a.root}\n".encode()
    blob = k.id + sk.sign(body)
    sys.stdout.write(body.decode() + f"\n{EM_DASH} {k.name} {b64e(blob)}\n")
    return 0


def cmd_cosign(a):
    data = sys.stdin.buffer.read()
    note = Note(data)
    sk, vkey, _ = seed_key(a.seed, a.name, TYPE_COSIG)
    sys.stdout.write(data.decode() + cosign_line(note, sk, VKey(vkey),
                                                 a.time))
    return 0


def expect(cond, what):
    if not cond:
        raise Bad(f"selftest: {what}")
    print(f"ok: {what}")


def selftest_vectors():
    # signed-note: the example of golang.org/x/mod/sumdb/note's package
    # documentation (key id over 0x01, the signature over the text)
    peter = VKey("PeterNeumann+c74f20a3+"
                 "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    text = ("If you think cryptography is the answer to your problem,\n"
            "then you don't know what your problem is.\n").encode()
    sig = b64d("x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
               "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=")
    expect(sig[:4] == peter.id and peter.verify(text, sig[4:]),
           "Go's sumdb/note example verifies")
    expect(not peter.verify(text[:-1] + b"?", sig[4:]),
           "... and not over another text")
    # a native 0x04 cosigner key (transparency-dev/formats, note tests):
    # VKey() recomputes its key id over NAME\n0x04 pk
    remora = VKey("remora.n621.de+da77ade7+"
                  "BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    expect(remora.type == TYPE_COSIG, "a type 0x04 key id computed")
    # tlog-cosignature's example line: key id, then the big-endian time
    # its example message shows ("time 1679315147")
    blob = b64d("jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9d"
                "lrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==")
    expect(len(blob) == 76 and blob[:4].hex() == "8d66cf3f" and
           int.from_bytes(blob[4:12], "big") == 1679315147,
           "C2SP tlog-cosignature example: key id and time")
    # transparency-dev/formats' timestamp test
    blob = b64d("ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWOD"
                "Bt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==")
    expect(int.from_bytes(blob[4:12], "big") == 1727964367,
           "transparency-dev cosignature time 1727964367")
    expect(cosigned_message(1679315147, b"example.com/behind-the-sofa\n"
                            b"20852163\n"
                            b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
           == b"cosignature/v1\ntime 1679315147\n"
              b"example.com/behind-the-sofa\n20852163\n"
              b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
           "the signed message of the specification's example")


LOG_SEED = "01" * 32
WIT_SEED = "5e" * 32
ORIGIN = "example.com/ledger/vectors"
ROOT = b64e(hashlib.sha256(b"a fixed root").digest())
TIME = 1700000000


def selftest_cross(tool):
    """The C side (ldg_cosign, over the library's ldg_cosign() and
    ldg_cosig_verify()) against this one, on fixed keys and a fixed
    time: Ed25519 is deterministic, so both lines must be equal."""
    sk, vkey, private = seed_key(WIT_SEED, "witness.example/w1", TYPE_COSIG)
    lsk, lvkey, _ = seed_key(LOG_SEED, ORIGIN, TYPE_NOTE)
    k = VKey(vkey)
    body = f"{ORIGIN}\n42\n{ROOT}\n".encode()
    note_text = (body.decode() + f"\n{EM_DASH} {ORIGIN} "
                 f"{b64e(VKey(lvkey).id + lsk.sign(body))}\n")
    ours = cosign_line(Note(note_text), sk, k, TIME)
    with tempfile.TemporaryDirectory() as d:
        keyfile = os.path.join(d, "w1.key")
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(private + "\n")
        out = subprocess.run([tool, keyfile, str(TIME)],
                             input=note_text.encode(), capture_output=True,
                             check=False)
        expect(out.returncode == 0, "ldg_cosign cosigns: " +
               out.stderr.decode().strip())
        theirs = out.stdout.decode()
        expect(theirs == note_text + ours,
               "C and Python make the same cosignature line, byte for byte")
        note = Note(theirs)
        expect(check_cosig(note, k) == (True, TIME),
               "Python verifies C's cosignature")
        expect(check_log(note, VKey(lvkey)) is True,
               "... and the note signature beside it")
        # the reverse: a line made here, checked by the C library, at
        # another time so the lines differ from C's own
        mine = note_text + cosign_line(Note(note_text), sk, k, TIME + 1)
        out = subprocess.run([tool, "--verify", vkey], input=mine.encode(),
                             capture_output=True, check=False)
        expect(out.returncode == 0 and out.stdout == b"%d\n" % (TIME + 1),
               "C verifies Python's cosignature and reads its time")
        # and a flipped bit of the signature is refused by both
        blob = bytearray(b64d(ours.split(" ")[2].strip()))
        blob[-1] ^= 1
        forged = (note_text + f"{EM_DASH} {k.name} {b64e(bytes(blob))}\n")
        expect(check_cosig(Note(forged), k) == (False, None),
               "Python refuses a flipped signature bit")
        out = subprocess.run([tool, "--verify", vkey], input=forged.encode(),
                             capture_output=True, check=False)
        expect(out.returncode == 1, "C refuses it too")
        # a cosignature of another size does not carry over
        other = note_text.replace("\n42\n", "\n43\n")
        expect(check_cosig(Note(other + ours), k) == (False, None),
               "a cosignature does not verify for another checkpoint")


def cmd_selftest(a):
    selftest_vectors()
    if a.cosign_tool:
        selftest_cross(a.cosign_tool)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("note")
    v.add_argument("--log", action="append", required=True)
    v.add_argument("--witness", action="append", default=[])
    v.add_argument("--need", type=int)
    k = sub.add_parser("key")
    k.add_argument("--seed", required=True)
    k.add_argument("--name", required=True)
    k.add_argument("--type", type=int, choices=(1, 4), required=True)
    k.add_argument("--private", action="store_true")
    w = sub.add_parser("cosigners")
    w.add_argument("dir")
    w.add_argument("keys", nargs="+")
    c = sub.add_parser("checkpoint")
    for o in ("seed", "name", "origin", "root"):
        c.add_argument("--" + o, required=True)
    c.add_argument("--size", type=int, required=True)
    s = sub.add_parser("cosign")
    s.add_argument("--seed", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--time", type=int, required=True)
    t = sub.add_parser("selftest")
    t.add_argument("--cosign-tool")
    a = p.parse_args()
    cmds = {"verify": cmd_verify, "key": cmd_key, "cosigners": cmd_cosigners,
            "checkpoint": cmd_checkpoint, "cosign": cmd_cosign,
            "selftest": cmd_selftest}
    try:
        return cmds[a.cmd](a)
    except Bad as e:
        print(f"cosig_check.py: {e}", file=sys.stderr)
        return 1 if a.cmd in ("verify", "selftest") else 2


if __name__ == "__main__":
    sys.exit(main())
