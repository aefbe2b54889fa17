#!/usr/bin/env python3
"""Checks a c2sp.org/tlog-cosignature cosignature/v1 with Python `cryptography`, sharing no code with the ledger.

Usage: cosig_check.py VKEY NOTE_FILE
  VKEY       the witness's verifier key: <name>+<8 hex key id>+base64(0x04 || 32-byte Ed25519 public key)
  NOTE_FILE  a signed checkpoint note carrying the witness's cosignature line

Rebuilds the signed message `cosignature/v1\\ntime <T>\\n<checkpoint body>` from the note and verifies the
signature. Exit 0: a valid cosignature by that key; 1: none (or invalid); 2: usage or malformed input.
"""
import base64
import hashlib
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def parse_vkey(text):
    name, key_id, b64 = text.strip().split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 0x04:
        raise ValueError("not a cosignature/v1 vkey (type 0x04, 32-byte key)")
    computed = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if computed.hex() != key_id:
        raise ValueError("key id does not match the key")
    return name, computed, Ed25519PublicKey.from_public_bytes(raw[1:])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        name, key_id, key = parse_vkey(sys.argv[1])
        note = open(sys.argv[2], "rb").read()
        body, _, signatures = note.partition(b"\n\n")
        body += b"\n"  # the checkpoint body ends with its last newline
    except (ValueError, OSError) as error:
        print(f"cosig_check: {error}", file=sys.stderr)
        return 2
    for line in signatures.decode().splitlines():
        if not line.startswith("\u2014 "):
            continue
        signer, _, b64 = line[2:].rpartition(" ")
        blob = base64.b64decode(b64)
        if signer != name or blob[:4] != key_id or len(blob) != 4 + 8 + 64:
            continue
        timestamp = int.from_bytes(blob[4:12], "big")
        message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body
        try:
            key.verify(blob[12:], message)
        except InvalidSignature:
            print(f"cosig_check: the cosignature by {name} does not verify", file=sys.stderr)
            return 1
        print(f"valid cosignature/v1 by {name} at time {timestamp}")
        return 0
    print(f"cosig_check: no cosignature by {name}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
