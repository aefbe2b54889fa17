"""In-memory decryption of age-encryption.org/v1 files (c2sp.org/age) with X25519 identities.

Written from the age spec alone, for tools/verify_bundle.py: `cryptography` for X25519, HKDF-SHA256,
HMAC-SHA256 and ChaCha20-Poly1305. Nothing decrypted is written anywhere; the plaintext is returned as bytes.
Strict: canonical unpadded base64, LF line ends, 64-column stanza bodies, a verified header MAC, and a STREAM
payload whose last chunk is flagged, non-empty (unless the payload is) and followed by nothing.
"""
import base64
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION_LINE = b"age-encryption.org/v1"
CHUNK = 64 * 1024
TAG = 16
B64_RE = re.compile(rb"^[A-Za-z0-9+/]*$")
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class AgeMalformed(Exception):
    """Not an age v1 file, or its header breaks the grammar (exit 65)."""


class AgeIntegrity(Exception):
    """The header MAC or a payload chunk fails authentication, or the payload was cut or extended (exit 1)."""


class AgeNoMatch(Exception):
    """No identity opens any stanza (exit 77)."""


class AgeBadKey(Exception):
    """The identity file holds no valid AGE-SECRET-KEY-1 line (exit 64)."""


def b64decode(text, what):
    """Canonical standard base64 without padding, or AgeMalformed."""
    if not B64_RE.match(text) or len(text) % 4 == 1:
        raise AgeMalformed("%s is not canonical unpadded base64" % what)
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    if base64.b64encode(data).rstrip(b"=") != text:
        raise AgeMalformed("%s is not canonical unpadded base64" % what)
    return data


def _polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= gen[i]
    return chk


def bech32_decode(text):
    """(hrp, data bytes) of a bech32 string (one case only, no length limit), or None."""
    if text != text.lower() and text != text.upper():
        return None
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or len(text) - pos - 1 < 6 or any(c not in BECH32 for c in text[pos + 1:]):
        return None
    hrp, values = text[:pos], [BECH32.index(c) for c in text[pos + 1:]]
    if _polymod([ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values) != 1:
        return None
    acc, bits, out = 0, 0, bytearray()
    for v in values[:-6]:
        acc, bits = (acc << 5) | v, bits + 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xff)
    if bits >= 5 or (acc << (8 - bits)) & 0xff:
        return None
    return hrp, bytes(out)


def parse_identities(text):
    """X25519PrivateKeys of every AGE-SECRET-KEY-1 line of an identity file."""
    keys = []
    for line in text.splitlines():
        line = line.rstrip("\r")  # as the Swift reader: no other whitespace is tolerated around a key
        if not line or line.startswith("#"):
            continue
        decoded = bech32_decode(line) if line.startswith("AGE-SECRET-KEY-1") else None
        if decoded is None or decoded[0] != "age-secret-key-" or len(decoded[1]) != 32:
            raise AgeBadKey("a line of the identity file is not an AGE-SECRET-KEY-1 identity")
        keys.append(X25519PrivateKey.from_private_bytes(decoded[1]))
    if not keys:
        raise AgeBadKey("no AGE-SECRET-KEY-1 line in the identity file")
    return keys


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def parse_header(data):
    """(stanzas [(args, body)], mac, mac_input, payload_offset)."""
    lines, pos = [], 0

    def next_line():
        nonlocal pos
        # The whole header is at most 1 MiB, as for the Swift decryptor (not each line: a header of many stanzas
        # would cost an X25519 each).
        end = data.find(b"\n", pos, min(len(data), 1 << 20))
        if end < 0:
            raise AgeMalformed("the header ends before its MAC")
        line, pos = data[pos:end], end + 1
        return line

    if not data.startswith(VERSION_LINE + b"\n"):
        raise AgeMalformed("not an age-encryption.org/v1 file")
    next_line()
    stanzas = []
    while True:
        start = pos
        line = next_line()
        if line.startswith(b"--- "):
            if not stanzas:
                raise AgeMalformed("no recipient stanza")
            if len(line) != 47:
                raise AgeMalformed("the header MAC is not canonical unpadded base64")
            return stanzas, b64decode(line[4:], "the header MAC"), data[:start + 3], pos
        if not line.startswith(b"-> "):
            raise AgeMalformed("a header line is neither a stanza nor the MAC line")
        args = line[3:].split(b" ")
        if any(not a or any(c < 33 or c > 126 for c in a) for a in args):
            raise AgeMalformed("a stanza has an empty or non-printable argument")
        body = b""
        while True:
            chunk = next_line()
            if len(chunk) > 64:
                raise AgeMalformed("a stanza body line is over 64 columns")
            body += b64decode(chunk, "a stanza body")
            if len(chunk) < 64:
                break
        stanzas.append((args, body))


def unwrap_file_key(stanzas, identities):
    for args, body in stanzas:
        if args[0] != b"X25519":
            continue
        if len(args) != 2 or len(body) != 32:
            raise AgeMalformed("an X25519 stanza has the wrong shape")
        share = b64decode(args[1], "an X25519 share")
        if len(share) != 32:
            raise AgeMalformed("an X25519 share is not 32 bytes")
        for key in identities:
            try:
                shared = key.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:
                raise AgeMalformed("an X25519 share is a low-order point")
            mine = key.public_key().public_bytes_raw()
            wrap = hkdf(shared, share + mine, b"age-encryption.org/v1/X25519")
            try:
                return ChaCha20Poly1305(wrap).decrypt(b"\0" * 12, body, None)
            except InvalidTag:
                continue
    raise AgeNoMatch("no identity matches the file's recipients (stanzas: %s)"
                     % ", ".join(a[0].decode("ascii", "replace") for a, _ in stanzas))


def decrypt_payload(sealed, key):
    aead, out, index, pos = ChaCha20Poly1305(key), [], 0, 0
    if len(sealed) < TAG:
        raise AgeIntegrity("the payload is truncated")
    while True:
        chunk = sealed[pos:pos + CHUNK + TAG]
        last = pos + len(chunk) == len(sealed)
        if len(chunk) < TAG:
            raise AgeIntegrity("the payload is truncated")
        nonce = index.to_bytes(11, "big")
        try:
            out.append(aead.decrypt(nonce + (b"\x01" if last else b"\x00"), chunk, None))
        except InvalidTag:
            try:
                aead.decrypt(nonce + (b"\x00" if last else b"\x01"), chunk, None)
            except InvalidTag:
                raise AgeIntegrity("payload chunk %d failed authentication" % index)
            raise AgeIntegrity("the payload is truncated" if last else "the payload has data after its last chunk")
        if last:
            if index > 0 and not out[-1]:
                raise AgeIntegrity("the payload ends with an empty chunk after data")
            return b"".join(out)
        pos += len(chunk)
        index += 1


def decrypt(data, identities):
    """The plaintext of the age file `data` (bytes), opened with X25519PrivateKeys."""
    stanzas, mac, mac_input, offset = parse_header(data)
    file_key = unwrap_file_key(stanzas, identities)
    if len(file_key) != 16:
        raise AgeMalformed("the file key is not 16 bytes")
    h = hmac.HMAC(hkdf(file_key, b"", b"header"), hashes.SHA256())
    h.update(mac_input)
    try:
        h.verify(mac)  # constant time
    except Exception:
        raise AgeIntegrity("header MAC mismatch: the header was altered or the key is wrong")
    nonce = data[offset:offset + 16]
    if len(nonce) < 16:
        raise AgeIntegrity("the payload is truncated")
    return decrypt_payload(data[offset + 16:], hkdf(file_key, nonce, b"payload"))
