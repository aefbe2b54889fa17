#!/usr/bin/env python3
"""Independent verifier for client-ledger export bundles (docs/FORMAT.md, "Bundle v2" and "Bundle v1").

Written from the format documents alone: Python standard library plus `cryptography` (Ed25519).

    python3 verify_bundle.py BUNDLE.zip [--verifier-key FILE] [--trusted FILE] [--json]
    python3 verify_bundle.py BUNDLE.zip.age --identity AGE-IDENTITY-FILE [...]   (sealed: tools/age_decrypt.py)

Exit status: 0 every check holds; 1 integrity violation (each printed as "violation: ... [check] ...");
65 not a readable bundle (not a zip, unsafe or duplicate names, oversize, missing files, bad manifest);
66 file not found; 74 unreadable; 64 usage.
"""
import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import re
import sys
import zipfile

MAX_FILE = 64 << 20
MAX_TOTAL = 512 << 20
# Every bundle has these and one manifest: manifest.note (bundle v2, signed) or manifest.json (bundle v1, unsigned).
REQUIRED = ["checkpoint.txt", "verifier.key", "entries.jsonl", "privilege-log.csv", "report.html", "README.txt"]
MANIFEST_V1, MANIFEST_V2 = "manifest.json", "manifest.note"
MANIFEST_HEADER = "client-ledger export manifest v2"
V1_NOTICE = "bundle format 1: its metadata (reasons, profile, privilege log, report) is not signed"
MANIFEST_SCHEMA = {"format": str, "formatVersion": int, "origin": str, "tool": str, "createdAt": str,
                   "checkpoint": dict, "selection": dict, "profile": dict, "counts": dict, "consistencyProof": bool,
                   "digestEncoding": str, "files": dict}
PROFILE_SCHEMA = {"name": str, "reveal": list, "redact": dict, "defaultReason": str, "explicitReveal": list,
                  "explicitRedact": dict, "privilegedContentWithheld": bool}
COUNT_NAMES = {"entries", "disclosedFields", "redactedFields", "privilegeLogRows", "accessEntries",
               "retentionEvents", "destroyedEntries"}
ACCESS_LOG = "access-log.jsonl"  # optional, added with access control (still bundle format 1)
RETENTION = "retention.jsonl"  # optional, added with retention (still bundle format 1)
ALLOWED = set(REQUIRED) | {MANIFEST_V1, MANIFEST_V2, "consistency.json", ACCESS_LOG, RETENTION}
REASONS = {"attorney-client privilege", "work product", "personal data", "not requested"}
LOG_HEADER = ["seq", "occurredAt", "matter", "author", "channel", "direction", "field", "reason", "description"]
LOG_META = ["occurredAt", "matter", "author", "channel", "direction"]
REDACTED = "[redacted]"
NAME_RE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,63}$")


class Malformed(Exception):
    """The bundle cannot be read as a bundle: exit 65."""


class Usage(Exception):
    """Bad command-line input: exit 64."""


def sha256(b):
    return hashlib.sha256(b).digest()


def b64std(s):
    if not isinstance(s, str):
        raise ValueError("not a string")
    raw = base64.b64decode(s.encode("ascii"), validate=True)
    if base64.b64encode(raw).decode("ascii") != s:
        raise ValueError("not canonical base64")
    return raw


def b64url(s):
    if not isinstance(s, str) or "=" in s:
        raise ValueError("not unpadded base64url")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != s:
        raise ValueError("not canonical base64url")
    return raw


def strict_json(data):
    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(items)

    def no_float(_):
        raise ValueError("floats are not allowed")

    def no_const(_):
        raise ValueError("NaN/Infinity are not allowed")

    def int64(text):
        value = int(text)
        if not -(1 << 63) <= value < (1 << 63):
            raise ValueError("integer out of range")  # as the Swift parser: integers are 64-bit
        return value

    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_float=no_float, parse_constant=no_const,
                           parse_int=int64)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if json_depth(value) > 32:
        raise ValueError("nested too deeply")  # as the Swift parser (nesting at most 32)
    return value


def same_int(value, expected):
    """A JSON integer equal to `expected` (a JSON true is not 1, as for the Swift verifier)."""
    return isinstance(value, int) and not isinstance(value, bool) and value == expected


def json_depth(value):
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            deepest = max(deepest, depth + 1)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
            deepest = max(deepest, depth + 1)
    return deepest


# ---- RFC 6962 ----------------------------------------------------------------------------------

def record_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def check_inclusion(proof, size, root, index, leaf_hash):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def check_consistency(proof, size1, size2, root1, root2):
    """RFC 9162 section 2.1.4.2."""
    if size1 > size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if size1 & (size1 - 1) == 0:  # power of two: the old root is the first node
        proof = [root1] + list(proof)
    if not proof:
        return False
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


# ---- Signed notes and checkpoints -------------------------------------------------------------

def parse_verifier_key(text):
    text = text[:-1] if text.endswith("\n") else text
    parts = text.split("+", 2)
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8 or "\n" in text:
        raise ValueError("not <name>+<hex>+<base64> on one line")
    name, hexid, b64 = parts
    key = b64std(b64)
    if len(key) != 33 or key[0] != 1:
        raise ValueError("not an Ed25519 key (0x01 || 32 bytes)")
    keyhash = sha256(name.encode() + b"\n" + key)[:4]
    if keyhash.hex() != hexid:
        raise ValueError("key id does not match the key")
    return name, keyhash, key[1:]


def note_signature_ok(text, key):
    """(body, ok): a signed note's text and whether a signature by `key` is on it and every one by it verifies.
    Raises ValueError on a malformed note."""
    sep = text.rfind("\n\n")
    if sep < 0 or not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise ValueError("not a signed note")
    body, sigs = text[:sep + 1], text[sep + 2:]
    found, ok = False, True
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise ValueError("bad signature line")
        name, _, b64 = line[2:].rpartition(" ")
        sig = b64std(b64)
        if key is not None and name == key[0] and sig[:4] == key[1]:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            found = True
            try:
                if len(sig) != 68:
                    raise InvalidSignature()
                Ed25519PublicKey.from_public_bytes(key[2]).verify(sig[4:], body.encode())
            except InvalidSignature:
                ok = False
    return body, (found and ok), found


def open_note(text, key):
    """Returns (origin, size, root, signature_ok). Raises ValueError on a malformed note."""
    sep = text.rfind("\n\n")
    if sep < 0 or not text.endswith("\n"):
        raise ValueError("not a signed note")
    body, sigs = text[:sep + 1], text[sep + 2:]
    ok = False
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise ValueError("bad signature line")
        name, _, b64 = line[2:].rpartition(" ")
        sig = b64std(b64)
        if key is not None and name == key[0] and sig[:4] == key[1] and len(sig) == 68:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            try:
                Ed25519PublicKey.from_public_bytes(key[2]).verify(sig[4:], body.encode())
                ok = True
            except InvalidSignature:
                pass
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not lines[0] or not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[1]):
        raise ValueError("not a tlog checkpoint body")
    root = b64std(lines[2])
    if len(root) != 32:
        raise ValueError("root is not 32 bytes")
    return lines[0], int(lines[1]), root, ok


# ---- Leaf v1 ----------------------------------------------------------------------------------

def parse_leaf(b):
    """Returns (seq, fields_digest, [names], ledger_id, matter_tag); raises ValueError (strict decoding)."""
    p = 0

    def take(n):
        nonlocal p
        if p + n > len(b):
            raise ValueError("leaf is truncated")
        out = b[p:p + n]
        p += n
        return out

    # Leaf v1 and v2 share one layout; they differ only in which kind of key encrypted the (unexported) ciphertext.
    if take(1) not in (b"\x01", b"\x02"):
        raise ValueError("unknown leaf version")
    ledger_id = take(16)
    seq = int.from_bytes(take(8), "big")
    take(8 + 32)
    matter_tag = take(32)
    flags = take(1)[0]
    if flags & ~1:
        raise ValueError("unknown leaf flags")
    if flags & 1:
        take(32)
    take(4 + 24 + 32)
    fields_digest = take(32)
    count = int.from_bytes(take(2), "big")
    names, prev = [], None
    for _ in range(count):
        n = take(1)[0]
        name = take(n)
        if not NAME_RE.match(name):
            raise ValueError("bad field name")
        if prev is not None and not prev < name:
            raise ValueError("field names not strictly ascending")
        prev = name
        names.append(name.decode("ascii"))
    if p != len(b):
        raise ValueError("leaf has trailing bytes")
    return seq, fields_digest, names, ledger_id, matter_tag


# ---- The bundle -------------------------------------------------------------------------------

def read_zip(path):
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        if isinstance(e, PermissionError):
            raise
        raise Malformed("not a zip archive (%s)" % e)
    infos = zf.infolist()
    receipts = sum(1 for info in infos if receipt_seq(info.filename) is not None)
    if len(infos) - receipts >= 32:
        raise Malformed("too many files in the archive")
    if receipts > MAX_RECEIPTS:
        raise Malformed("more than %d receipts in the archive" % MAX_RECEIPTS)
    seen, total = set(), 0
    for info in infos:
        name = info.filename
        if receipt_seq(name) is not None:
            if info.file_size > MAX_RECEIPT_MEMBER:
                raise Malformed("'%s' declares %d bytes, over the 256 KiB limit per receipt" % (name, info.file_size))
        elif name.startswith(("/", "\\")) or ".." in name or "/" in name or "\\" in name or ":" in name:
            raise Malformed("unsafe file name '%s' (absolute path, directory or traversal)" % name[:80])
        if name not in ALLOWED and receipt_seq(name) is None:
            raise Malformed("unexpected file '%s'" % name[:80])
        if name in seen:
            raise Malformed("duplicate file '%s'" % name)
        seen.add(name)
        if info.file_size > MAX_FILE:
            raise Malformed("'%s' declares %d bytes, over the 64 MiB limit per file" % (name, info.file_size))
        total += info.file_size
        if total > MAX_TOTAL:
            raise Malformed("the files declare over 512 MiB in total")
    for name in REQUIRED:
        if name not in seen:
            raise Malformed("missing file '%s'" % name)
    files = {}
    for info in infos:
        try:
            with zf.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as e:
            raise Malformed("'%s' cannot be read (%s)" % (info.filename, e))
        if len(data) != info.file_size:
            raise Malformed("'%s' does not hold the bytes it declares" % info.filename)
        files[info.filename] = data
    return files


class Report:
    def __init__(self):
        self.violations = []
        self.warnings = []
        self.notices = []  # e.g. a v1 bundle's unsigned metadata: not a violation, but the recipient should know
        self.format_version = 0
        self.entries = self.disclosures = self.redactions = 0
        self.access_entries = None  # lines of access-log.jsonl; None when the bundle has none
        self.retention_events = None  # event lines of retention.jsonl; None when the bundle has none
        self.destroyed_entries = None  # record lines of retention.jsonl; None when the bundle has none
        self.receipts = None  # receipts/<seq>.tlog-proof members; None when the bundle has none
        self.policy = None  # the checkpoint's cosignatures under --policy; None without one
        self.origin, self.size, self.root = "", 0, ""

    def fail(self, check, detail, entry=None, line=None):
        self.violations.append({"check": check, "detail": detail, "entry": entry, "line": line})


def parse_manifest(data, version, name):
    """The manifest JSON object declaring this format and `version`; Malformed otherwise."""
    try:
        manifest = strict_json(data)
        assert isinstance(manifest, dict)
    except Exception:
        raise Malformed("%s is not a JSON object" % name)
    if manifest.get("format") != "client-ledger-export-bundle" or manifest.get("formatVersion") != version \
            or isinstance(manifest.get("formatVersion"), bool):
        raise Malformed("%s does not declare client-ledger-export-bundle version %d" % (name, version))
    return manifest


def load_manifest(files):
    """(manifest, note text or None, manifest file name): exactly one of manifest.note (v2) and manifest.json (v1)."""
    if MANIFEST_V1 in files and MANIFEST_V2 in files:
        raise Malformed("both manifest.json and manifest.note: a bundle has one")
    if MANIFEST_V1 in files:
        return parse_manifest(files[MANIFEST_V1], 1, MANIFEST_V1), None, MANIFEST_V1
    if MANIFEST_V2 not in files:
        raise Malformed("missing file 'manifest.note' (or 'manifest.json')")
    try:
        text = files[MANIFEST_V2].decode("utf-8")
        body, _, _ = note_signature_ok(text, None)
    except (UnicodeDecodeError, ValueError) as e:
        raise Malformed("manifest.note is not a signed note (%s)" % e)
    lines = body[:-1].split("\n")
    if len(lines) != 2:
        raise Malformed("manifest.note's text is not a header line and a JSON line")
    return parse_manifest(lines[1].encode("utf-8"), 2, MANIFEST_V2), text, MANIFEST_V2


def check_digests(manifest, files, own, r):
    """Every other file is listed with its SHA-256 (signed in v2), and every listed file is in the bundle."""
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        r.fail("manifest", "the manifest has no 'files' object")
        return
    signed = own == MANIFEST_V2
    for name in sorted(files):
        if name == own:
            continue
        if not isinstance(listed.get(name), str):
            r.fail("manifest", "%s is not listed in the %smanifest" % (name, "signed " if signed else ""))
        elif listed[name] != hashlib.sha256(files[name]).hexdigest():
            r.fail("manifest", "%s does not match the signed manifest's digest" % name if signed
                   else "SHA-256 of %s differs from the manifest" % name)
    for name in listed:
        if name not in files or name == own:
            r.fail("manifest", "the manifest lists %s, which is not in the bundle" % name)


def check_members(obj, schema, place, r):
    for name, typ in schema.items():
        if name not in obj:
            r.fail("manifest", "%s has no '%s'" % (place, name))
        elif not isinstance(obj[name], typ) or (typ is int and isinstance(obj[name], bool)):
            r.fail("manifest", "%s's '%s' is not a JSON %s" % (place, name, typ.__name__))
    for name in obj:
        if name not in schema:
            r.fail("manifest", "%s has an unknown member '%s'" % (place, name[:80]))


def check_manifest_note(text, manifest, key, r):
    """Bundle v2: manifest.note is signed by the verifier key, has the v2 header, canonical JSON, the known schema."""
    body, ok, found = note_signature_ok(text, key)
    if key is None:
        r.fail("manifest", "the signature cannot be checked: there is no verifier key")
    elif not found:
        r.fail("manifest", "the signature is not by the verifier key (%s)" % key[0])
    elif not ok:
        r.fail("manifest", "the signature does not verify")
    header, json_line = body[:-1].split("\n")
    if header != MANIFEST_HEADER:
        r.fail("manifest", "manifest.note's header is not the bundle v2 manifest header")
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if canonical != json_line:
        r.fail("manifest", "manifest.note's JSON is not canonical (keys sorted, no whitespace)")
    check_members(manifest, MANIFEST_SCHEMA, "the manifest", r)
    if isinstance(manifest.get("profile"), dict):
        check_members(manifest["profile"], PROFILE_SCHEMA, "the manifest's profile", r)
    if isinstance(manifest.get("counts"), dict):
        for name, value in manifest["counts"].items():
            if name not in COUNT_NAMES or not isinstance(value, int) or isinstance(value, bool):
                r.fail("manifest", "the manifest's counts.%s is unknown or not an integer" % name[:80])
    if isinstance(manifest.get("selection"), dict):
        for name in manifest["selection"]:
            if name not in ("matters", "matterCount", "from", "to"):
                r.fail("manifest", "the manifest's selection has an unknown member '%s'" % name[:80])


def verify(files, pinned_key_text, trusted_text, require_signed=False, policy=None):
    r = Report()
    if policy is not None:
        try:
            log = policy_log_key(policy, files["checkpoint.txt"].decode("utf-8"))
        except UnicodeDecodeError:
            log = None
        if log is not None and pinned_key_text is not None:
            try:
                if parse_verifier_key(pinned_key_text) != log:
                    raise Usage("--policy: the policy's log key for the bundle's origin is not the --verifier-key")
            except ValueError:
                pass  # reported below as a malformed --verifier-key
        if log is not None and pinned_key_text is None:
            pinned_key_text = "%s+%s+%s" % (log[0], log[1].hex(), base64.b64encode(b"\x01" + log[2]).decode())
    manifest, note_text, own = load_manifest(files)
    r.format_version = 2 if note_text is not None else 1
    if note_text is None:
        r.notices.append(V1_NOTICE)
        if require_signed:
            r.fail("manifest", "the manifest is not signed (bundle format 1) and --require-signed was given")
    check_digests(manifest, files, own, r)

    key = None
    if pinned_key_text is not None:
        try:
            key = parse_verifier_key(pinned_key_text)
        except ValueError as e:
            raise Usage("--verifier-key: not a verifier key (%s)" % e)
    else:
        r.warnings.append("no --verifier-key given: checking with the key inside the bundle; pin the firm's key")
        try:
            key = parse_verifier_key(files["verifier.key"].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            r.fail("verifier-key", "verifier.key is not a verifier key: %s" % e)

    if note_text is not None:
        check_manifest_note(note_text, manifest, key, r)

    size = root = None
    try:
        origin, size, root, ok = open_note(files["checkpoint.txt"].decode("utf-8"), key)
        r.origin, r.size, r.root = origin, size, base64.b64encode(root).decode()
        if key is not None and not ok:
            r.fail("checkpoint-signature", "checkpoint.txt does not verify with the verifier key")
        if key is not None and key[0] != origin:
            r.fail("checkpoint-origin", "the checkpoint's origin is not the verifier key's name")
        if manifest.get("origin") != origin:
            r.fail("manifest", "the manifest's origin differs from the checkpoint's")
        mc = manifest.get("checkpoint")
        if isinstance(mc, dict) and (not same_int(mc.get("size"), size) or mc.get("root") != r.root):
            r.fail("manifest", "the manifest's checkpoint size or root differs from checkpoint.txt")
    except (ValueError, UnicodeDecodeError) as e:
        r.fail("checkpoint-signature", "checkpoint.txt is not a signed checkpoint: %s" % e)
    if policy is not None:
        r.policy, problems = evaluate_policy(files["checkpoint.txt"].decode("utf-8", "replace"), policy)
        for check, detail in problems:
            r.fail(check, detail)

    facts = []
    data = files["entries.jsonl"]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    prev = None
    for i, raw in enumerate(lines, 1):
        f = check_entry(raw, i, size, root, r)
        facts.append(f)
        if f["seq"] is not None:
            if prev is not None and f["seq"] <= prev:
                r.fail("entry-order", "entries must be in strictly ascending index order", f["seq"], i)
            prev = f["seq"]
    r.entries = len(facts)
    r.disclosures = sum(f["disclosures"] for f in facts)
    r.redactions = sum(len(f["redacted"]) for f in facts)
    counts = manifest.get("counts")
    if isinstance(counts, dict):
        if not same_int(counts.get("entries"), r.entries):
            r.fail("manifest", "counts.entries differs from entries.jsonl")
        if not same_int(counts.get("redactedFields"), r.redactions):
            r.fail("manifest", "counts.redactedFields differs from entries.jsonl")
        if not same_int(counts.get("disclosedFields"), r.disclosures):
            r.fail("manifest", "counts.disclosedFields differs from entries.jsonl")
    else:
        r.fail("manifest", "the manifest has no 'counts' object")

    check_bundle_receipts(files, facts, size, root if key is not None and r.root and not any(
        v["check"] in ("checkpoint-signature", "checkpoint-origin") for v in r.violations) else None, r)
    check_privilege_log(files["privilege-log.csv"], facts, r)
    destroyed_tags, retention_ledger = check_retention_member(files, facts, counts, size, root, r)
    if ACCESS_LOG in files:
        check_access_log(files[ACCESS_LOG], facts, size, root, r, destroyed_tags, retention_ledger)
    if isinstance(counts, dict) and (counts.get("accessEntries") is not None or r.access_entries is not None):
        if counts.get("accessEntries") != r.access_entries or isinstance(counts.get("accessEntries"), bool):
            r.fail("manifest", "counts.accessEntries differs from access-log.jsonl")

    proven = None
    if "consistency.json" in files and root is not None:
        proven = check_consistency_file(files["consistency.json"], key, size, root, r)
    if manifest.get("consistencyProof") is True and "consistency.json" not in files:
        r.fail("manifest", "the manifest announces a consistency proof that is not in the bundle")
    if trusted_text is not None and key is not None:
        check_trusted(trusted_text, key, size, root, proven, r)
    return r


def check_entry(raw, line, size, root, r):
    f = {"seq": None, "disclosures": 0, "redacted": [], "columns": {}, "ledger_id": None, "matter_tag": None,
         "record_hash": None, "line": line}

    def fail(check, detail):
        r.fail(check, detail, f["seq"], line)

    try:
        obj = strict_json(raw)
        assert isinstance(obj, dict)
    except Exception:
        fail("entry-malformed", "not a JSON object")
        return f
    for k in obj:
        if k not in ("index", "leaf", "inclusionProof", "disclosures", "redacted"):
            fail("entry-malformed", "unknown key '%s'" % k)
    index = obj.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        fail("entry-malformed", "'index' is not a non-negative integer")
        return f
    f["seq"] = index
    try:
        leaf = b64std(obj.get("leaf"))
    except (ValueError, binascii.Error):
        fail("entry-malformed", "'leaf' is not base64")
        return f
    try:
        seq, fields_digest, names, f["ledger_id"], f["matter_tag"] = parse_leaf(leaf)
    except ValueError as e:
        fail("leaf-malformed", str(e))
        return f
    if seq != index:
        fail("entry-index", "the leaf names seq %d, the entry index %d" % (seq, index))
    f["record_hash"] = record_hash(leaf)

    proof = obj.get("inclusionProof")
    hashes = []
    try:
        assert isinstance(proof, list)
        for p in proof:
            h = b64std(p)
            assert len(h) == 32
            hashes.append(h)
    except (AssertionError, ValueError, binascii.Error):
        fail("entry-malformed", "'inclusionProof' is not an array of base64 32-byte hashes")
        hashes = None
    if hashes is not None and size is not None:
        if index >= size:
            fail("inclusion-proof", "index %d is beyond the checkpoint's tree size %d" % (index, size))
        elif not check_inclusion(hashes, size, root, index, record_hash(leaf)):
            fail("inclusion-proof", "the inclusion proof does not lead to the checkpoint's root")

    digests, values = {}, {}
    disclosures = obj.get("disclosures")
    if isinstance(disclosures, list):
        for d in disclosures:
            if not isinstance(d, str):
                fail("disclosure-malformed", "a disclosure is not a string")
                continue
            try:
                arr = strict_json(b64url(d))
                assert isinstance(arr, list) and len(arr) == 3 and isinstance(arr[0], str) and isinstance(arr[1], str)
            except Exception:
                fail("disclosure-malformed", "a disclosure is not base64url of a JSON array [salt, name, value]")
                continue
            name = arr[1]
            if name not in names:
                fail("disclosure-name", "a disclosure names field '%s', which the leaf does not have" % name)
                continue
            if name in digests:
                fail("disclosure-name", "field '%s' is disclosed twice" % name)
                continue
            digests[name] = sha256(d.encode("ascii"))
            v = arr[2]
            if isinstance(v, bool):
                values[name] = "true" if v else "false"
            elif isinstance(v, (str, int)):
                values[name] = str(v)
            else:
                values[name] = json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
            f["disclosures"] += 1
    else:
        fail("entry-malformed", "'disclosures' is not an array")
    redacted = obj.get("redacted")
    if isinstance(redacted, list):
        for item in redacted:
            if not (isinstance(item, dict) and len(item) == 3 and all(isinstance(item.get(k), str) for k in ("field", "reason", "digest"))):
                fail("redaction", "a redaction is not {field, reason, digest}")
                continue
            field, reason, digest = item["field"], item["reason"], item["digest"]
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                fail("redaction", "the digest of '%s' is not 64 lowercase hex digits" % field)
                continue
            if field not in names:
                fail("redaction", "redacted field '%s' is not in the leaf" % field)
                continue
            if field in digests:
                fail("redaction", "field '%s' is both disclosed and redacted, or redacted twice" % field)
                continue
            if reason not in REASONS:
                fail("redaction-reason", "field '%s' has an unknown reason" % field)
            digests[field] = bytes.fromhex(digest)
            f["redacted"].append((field, reason))
    else:
        fail("entry-malformed", "'redacted' is not an array")
    missing = [n for n in names if n not in digests]
    if missing:
        fail("field-coverage", "fields neither disclosed nor redacted: %s" % ", ".join(missing))
    else:
        acc = b"".join(bytes([len(n)]) + n.encode("ascii") + digests[n] for n in names)
        if sha256(acc) != fields_digest:
            fail("fields-digest", "the disclosed and redacted digests do not reproduce the leaf's fields digest")
    red = {fld for fld, _ in f["redacted"]}
    f["columns"] = {c: (REDACTED if c in red else values.get(c, "")) for c in LOG_META}
    return f


# ---- access-log.jsonl (optional) and event leaves --------------------------------------------

def parse_event_leaf(b):
    """Event leaf: u8 3 || ledger id 16 || u64 seq || i64 recordedAt || prev hash 32 || u32 body length || body.
    Returns (ledger_id, seq, body); raises ValueError (strict decoding)."""
    if len(b) < 69 or b[0] != 3:
        raise ValueError("not an event leaf (version 3)" if b[:1] != b"\x03" else "event leaf is truncated")
    length = int.from_bytes(b[65:69], "big")
    if not 1 <= length <= 60000:
        raise ValueError("event body length out of range")
    if len(b) != 69 + length:
        raise ValueError("event leaf is truncated" if len(b) < 69 + length else "event leaf has trailing bytes")
    return b[1:17], int.from_bytes(b[17:25], "big"), b[69:]


CRED_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TAG_RE = re.compile(r"[0-9a-f]{64}")


def parse_access_event(body):
    """The access event of an event body, strictly: canonical JSON (keys sorted, no whitespace), known fields only.
    Returns (all_matters, set of matter tag bytes); raises ValueError."""
    ev = strict_json(body)
    if not isinstance(ev, dict):
        raise ValueError("the event body is not a JSON object")
    if json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8") != body:
        raise ValueError("the event body is not in canonical form")
    if ev.get("event") != "access":
        raise ValueError("the event is not an access event")
    if set(ev) - {"event", "credential", "command", "matters", "allMatters", "firstSeq", "lastSeq", "reason"}:
        raise ValueError("unknown field in the access event")
    cred, cmd, tags, every = ev.get("credential"), ev.get("command"), ev.get("matters"), ev.get("allMatters")
    if not isinstance(cred, str) or not (cred == "master" or CRED_RE.fullmatch(cred)):
        raise ValueError("'credential' is not a valid credential name")
    if not isinstance(cmd, str) or not 1 <= len(cmd.encode("utf-8")) <= 64:
        raise ValueError("'command' must be 1 to 64 bytes")
    if not isinstance(every, bool):
        raise ValueError("'allMatters' is not a boolean")
    if not (isinstance(tags, list) and len(tags) <= 1024
            and all(isinstance(t, str) and TAG_RE.fullmatch(t) for t in tags)):
        raise ValueError("'matters' is not an array of matter tags")
    if any(a >= b for a, b in zip(tags, tags[1:])):
        raise ValueError("'matters' must be sorted and unique")
    seqs = [ev.get(k) for k in ("firstSeq", "lastSeq")]
    if any(s is not None and (not isinstance(s, int) or isinstance(s, bool) or s < 0) for s in seqs):
        raise ValueError("'firstSeq'/'lastSeq' is not a sequence number")
    if (seqs[0] is None) != (seqs[1] is None) or (seqs[0] is not None and seqs[0] > seqs[1]):
        raise ValueError("firstSeq and lastSeq must come together, in order")
    reason = ev.get("reason")
    if "reason" in ev and (not isinstance(reason, str) or len(reason.encode("utf-8")) > 1000):
        raise ValueError("'reason' is not a string of at most 1000 bytes")
    return every, {bytes.fromhex(t) for t in tags}


def check_access_log(data, facts, size, root, r, destroyed_tags=frozenset(), retention_ledger=None):
    """Each line: {index, leaf, inclusionProof}; the leaf an access event leaf naming its index and the entries'
    ledger id, reading an exported entry's matter, a destroyed matter of retention.jsonl (or every matter), proven
    against the checkpoint; ascending."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    ledger_id = next((f["ledger_id"] for f in facts if f["ledger_id"] is not None), retention_ledger)
    tags = {f["matter_tag"] for f in facts if f["matter_tag"] is not None} | set(destroyed_tags)
    prev = None
    for n, raw in enumerate(lines, 1):
        entry = read_access_line(raw, n, r)
        if entry is None:
            continue
        index, leaf, hashes = entry
        if prev is not None and index <= prev:
            r.fail("access-order", "access entries must be in strictly ascending index order", index, n)
        prev = index
        check_access_entry(index, leaf, hashes, n, ledger_id, tags, size, root, r)
    r.access_entries = len(lines)


def read_access_line(raw, n, r, malformed="access-entry-malformed"):
    """(index, leaf bytes, proof hashes), or None after a `malformed` (e.g. access-entry-malformed) violation."""
    try:
        obj = strict_json(raw)
        assert isinstance(obj, dict)
    except Exception:
        r.fail(malformed, "not a JSON object", None, n)
        return None
    unknown = [k for k in obj if k not in ("index", "leaf", "inclusionProof")]
    if unknown:
        r.fail(malformed, "unknown key '%s'" % unknown[0], None, n)
        return None
    index = obj.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        r.fail(malformed, "'index' is not a non-negative integer", None, n)
        return None
    try:
        leaf = b64std(obj.get("leaf"))
    except (ValueError, binascii.Error):
        r.fail(malformed, "'leaf' is not base64", index, n)
        return None
    try:
        proof = obj.get("inclusionProof")
        assert isinstance(proof, list)
        hashes = [b64std(p) for p in proof]
        assert all(len(h) == 32 for h in hashes)
    except (AssertionError, ValueError, binascii.Error):
        r.fail(malformed, "'inclusionProof' is not an array of base64 32-byte hashes", index, n)
        return None
    return index, leaf, hashes


def check_access_entry(index, leaf, hashes, n, ledger_id, tags, size, root, r):
    try:
        leaf_ledger, seq, body = parse_event_leaf(leaf)
        every, matters = parse_access_event(body)
    except (ValueError, UnicodeDecodeError) as e:
        r.fail("access-leaf-malformed", str(e), index, n)
        return
    if seq != index:
        r.fail("access-index", "the leaf names seq %d, the access entry index %d" % (seq, index), index, n)
    if ledger_id is not None and leaf_ledger != ledger_id:
        r.fail("access-ledger", "the leaf's ledger id differs from the entries'", index, n)
    if not every and not matters & tags:
        r.fail("access-matter", "the access entry reads none of the exported entries' matters", index, n)
    if size is not None:
        if index >= size:
            r.fail("access-inclusion-proof", "index %d is beyond the checkpoint's tree size %d" % (index, size),
                   index, n)
        elif not check_inclusion(hashes, size, root, index, record_hash(leaf)):
            r.fail("access-inclusion-proof", "the inclusion proof does not lead to the checkpoint's root", index, n)


# ---- retention.jsonl (optional) -----------------------------------------------------------------

RFC3339_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


def seq_field(ev, name, required=True):
    v = ev.get(name)
    if v is None and not required and name not in ev:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ValueError("'%s' is not a sequence number" % name)
    return v


def parse_retention_event(body):
    """A hold, release or destroy event body, strictly: canonical JSON (keys sorted, no whitespace), known fields
    only, every field valid. Returns the event dict with "matter" as bytes; raises ValueError."""
    ev = strict_json(body)
    if not isinstance(ev, dict):
        raise ValueError("the event body is not a JSON object")
    if json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8") != body:
        raise ValueError("the event body is not in canonical form")
    kind = ev.get("event")
    known = {"event", "matter", "by", "credential", "reason"} | {
        "hold": set(), "release": {"hold"},
        "destroy": {"entries", "keys", "keyEpoch", "beforeRetentionEnd", "firstSeq", "lastSeq", "retainUntil",
                    "closedAt", "policyDigest"},
    }.get(kind, set())
    if kind not in ("hold", "release", "destroy"):
        raise ValueError("the event is not a hold, release or destroy event")
    if set(ev) - known:
        raise ValueError("unknown field in the %s event" % kind)
    by, cred, reason, matter = ev.get("by"), ev.get("credential"), ev.get("reason"), ev.get("matter")
    if not (isinstance(by, str) and 1 <= len(by.encode("utf-8")) <= 200
            and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in by)):
        raise ValueError("'by' must be 1 to 200 bytes without control characters")
    if not isinstance(cred, str) or not (cred == "master" or CRED_RE.fullmatch(cred)):
        raise ValueError("'credential' is not a valid credential name")
    if not isinstance(reason, str) or not 1 <= len(reason.encode("utf-8")) <= 1000:
        raise ValueError("'reason' must be 1 to 1000 bytes")
    if not isinstance(matter, str) or not TAG_RE.fullmatch(matter):
        raise ValueError("'matter' is not a matter tag")
    ev = dict(ev, matter=bytes.fromhex(matter))
    if kind == "release":
        seq_field(ev, "hold")
    elif kind == "destroy":
        check_destroy_fields(ev)
    return ev


def check_destroy_fields(ev):
    entries, _ = seq_field(ev, "entries"), seq_field(ev, "keys")
    epoch = ev.get("keyEpoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch < 1 << 32:
        raise ValueError("'keyEpoch' is not a key id")
    if not isinstance(ev.get("beforeRetentionEnd"), bool):
        raise ValueError("'beforeRetentionEnd' is not a boolean")
    first, last = seq_field(ev, "firstSeq", False), seq_field(ev, "lastSeq", False)
    if ((first is None) != (last is None) or (first or 0) > (last or 0) or (first is None) != (entries == 0)
            or (first is not None and entries > last - first + 1)):
        raise ValueError("firstSeq and lastSeq must come together, in order, exactly when entries is not 0, "
                         "and span at least that many entries")
    for name in ("retainUntil", "closedAt"):
        if name in ev and not (isinstance(ev[name], str) and RFC3339_RE.fullmatch(ev[name])):
            raise ValueError("'%s' is not an RFC 3339 time" % name)
    digest = ev.get("policyDigest")
    if "policyDigest" in ev and not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise ValueError("'policyDigest' is not 64 lowercase hex digits")


def decode_retention_leaf(leaf):
    """(kind, matter tag, seq, ledger id, event or None): kind "event" or "record"; raises ValueError."""
    if leaf[:1] == b"\x03":
        ledger_id, seq, body = parse_event_leaf(leaf)
        ev = parse_retention_event(body)
        return "event", ev["matter"], seq, ledger_id, ev
    seq, _, _, ledger_id, matter_tag = parse_leaf(leaf)
    return "record", matter_tag, seq, ledger_id, None


def check_retention_member(files, facts, counts, size, root, r):
    """retention.jsonl when present, the manifest's counts of it, and that the bundle holds an entry (in entries.jsonl,
    or a destroyed one in retention.jsonl). Returns (destroyed matter tags, retention.jsonl's ledger id)."""
    destroyed_tags, retention_ledger = set(), None
    if RETENTION in files:
        destroyed_tags, retention_ledger = check_retention(files[RETENTION], facts, size, root, r)
    if not facts and not r.destroyed_entries:
        r.fail("entries", "entries.jsonl holds no entries (and retention.jsonl no destroyed entry)")
    if isinstance(counts, dict):
        for name, count in (("retentionEvents", r.retention_events), ("destroyedEntries", r.destroyed_entries)):
            declared = counts.get(name)
            if (declared is not None or count is not None) and (declared != count or isinstance(declared, bool)):
                r.fail("manifest", "counts.%s differs from retention.jsonl" % name)
    return destroyed_tags, retention_ledger


def check_retention(data, facts, size, root, r):
    """retention.jsonl: each line {index, leaf, inclusionProof}, a hold/release/destroy event leaf or a destroyed
    matter's record leaf, naming its index and the bundle's ledger id, proven against the checkpoint; ascending;
    then the lines against each other. Returns (destroyed matter tags, the ledger id of its first leaf)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    ledger_id = next((f["ledger_id"] for f in facts if f["ledger_id"] is not None), None)
    items, prev, events = [], None, 0
    for n, raw in enumerate(lines, 1):
        entry = read_access_line(raw, n, r, "retention-entry-malformed")
        if entry is None:
            continue
        index, leaf, hashes = entry
        # Counted by the leaf's version byte, decoded or not (a malformed line is reported once, not as a count too).
        events += leaf[:1] == b"\x03"
        if prev is not None and index <= prev:
            r.fail("retention-order", "retention lines must be in strictly ascending index order", index, n)
        prev = index
        try:
            kind, matter, seq, leaf_ledger, ev = decode_retention_leaf(leaf)
        except (ValueError, UnicodeDecodeError) as e:
            r.fail("retention-leaf-malformed", str(e), index, n)
            continue
        if seq != index:
            r.fail("retention-index", "the leaf names seq %d, the line index %d" % (seq, index), index, n)
        ledger_id = leaf_ledger if ledger_id is None else ledger_id
        if leaf_ledger != ledger_id:
            r.fail("retention-ledger", "the leaf's ledger id differs from the bundle's other leaves'", index, n)
        if size is not None:
            if index >= size:
                r.fail("retention-inclusion-proof", "index %d is beyond the checkpoint's tree size %d" % (index, size),
                       index, n)
            elif not check_inclusion(hashes, size, root, index, record_hash(leaf)):
                r.fail("retention-inclusion-proof", "the inclusion proof does not lead to the checkpoint's root",
                       index, n)
        items.append({"kind": kind, "matter": matter, "index": index, "line": n, "event": ev})
    r.retention_events = events
    r.destroyed_entries = len(lines) - events
    entry_tags = {f["matter_tag"] for f in facts if f["matter_tag"] is not None}
    destroys = check_retention_destroyed(items, entry_tags, r)
    check_retention_holds(items, entry_tags, set(destroys), r)
    return set(destroys), ledger_id


def check_retention_destroyed(items, entry_tags, r):
    """Each record line covered by a later destroy line of its matter; each destroy line's records all there (count,
    first and last seq), none of its matter's entries in entries.jsonl. Returns {matter tag: destroy item}."""
    destroys = {}
    for it in items:
        if it["event"] is not None and it["event"]["event"] == "destroy":
            if it["matter"] in destroys:
                r.fail("retention-destroyed", "the matter is destroyed a second time", it["index"], it["line"])
            else:
                destroys[it["matter"]] = it
    records = {}
    for it in items:
        if it["kind"] != "record":
            continue
        records.setdefault(it["matter"], []).append(it["index"])
        d = destroys.get(it["matter"])
        ev = d["event"] if d else {}
        if not d or d["index"] <= it["index"] or "firstSeq" not in ev \
                or not ev["firstSeq"] <= it["index"] <= ev["lastSeq"]:
            r.fail("retention-destroyed", "a record leaf without a later destroy event of its matter covering its "
                   "index", it["index"], it["line"])
    for matter, d in sorted(destroys.items(), key=lambda kv: kv[1]["index"]):
        ev, seqs = d["event"], records.get(matter, [])
        if (len(seqs) != ev["entries"] or (seqs[0] if seqs else None) != ev.get("firstSeq")
                or (seqs[-1] if seqs else None) != ev.get("lastSeq")):
            r.fail("retention-completeness", "the destroyed matter's record leaves in the file are not exactly those "
                   "the destroy event names", d["index"], d["line"])
        if matter in entry_tags:
            r.fail("retention-disclosed", "entries.jsonl holds an entry of this destroyed matter", d["index"], d["line"])
    return destroys


def check_retention_holds(items, entry_tags, destroyed, r):
    """A release names a hold line of its matter in force; a destruction follows no hold of its matter left in
    force; every event is about an exported or destroyed matter."""
    in_force = {}
    for it in items:
        ev = it["event"]
        if ev is None:
            continue
        matter, kind = it["matter"], ev["event"]
        held = in_force.setdefault(matter, set())
        if kind == "hold":
            held.add(it["index"])
        elif kind == "release":
            if ev["hold"] in held:
                held.discard(ev["hold"])
            else:
                r.fail("retention-hold", "the release names entry %d, which is no hold line of its matter in force "
                       "in the file" % ev["hold"], it["index"], it["line"])
        elif held:
            r.fail("retention-hold", "the matter is destroyed while the hold of entry %d is in force" % min(held),
                   it["index"], it["line"])
        if matter not in entry_tags and matter not in destroyed:
            r.fail("retention-matter", "the event is about a matter neither exported nor destroyed in the bundle",
                   it["index"], it["line"])


def spreadsheet_safe(value):
    """A cell a spreadsheet would run as a formula (= + - @, tab, CR first) is written with a leading quote."""
    if value is not None and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def check_privilege_log(data, facts, r):
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True))
    except (csv.Error, UnicodeDecodeError) as e:
        r.fail("privilege-log", "privilege-log.csv is not valid CSV: %s" % e)
        return
    if not rows or rows[0] != LOG_HEADER:
        r.fail("privilege-log", "the header must be " + ",".join(LOG_HEADER))
        return
    expected = [(f["seq"], f["columns"], fld, reason) for f in facts if f["seq"] is not None for fld, reason in f["redacted"]]
    body = rows[1:]
    if len(body) != len(expected):
        r.fail("privilege-log", "%d rows for %d redacted fields" % (len(body), len(expected)))
    for n, (row, (seq, columns, fld, reason)) in enumerate(zip(body, expected), 2):
        if len(row) != len(LOG_HEADER):
            r.fail("privilege-log", "row has %d columns" % len(row), line=n)
            continue
        if row[0] != str(seq) or row[6] != fld or row[7] != reason:
            r.fail("privilege-log", "row does not match the redactions (seq %d field %s)" % (seq, fld), seq, n)
            continue
        for i, c in enumerate(LOG_META):
            if row[i + 1] != spreadsheet_safe(columns[c]):
                r.fail("privilege-log", "column %s does not match the entry's disclosure (or [redacted])" % c, seq, n)


def check_consistency_file(data, key, size, root, r):
    try:
        obj = strict_json(data)
        note, new_size, proof = obj["oldCheckpoint"], obj["newSize"], obj["proof"]
        assert isinstance(note, str) and isinstance(new_size, int) and isinstance(proof, list)
        hashes = [b64std(p) for p in proof]
        assert all(len(h) == 32 for h in hashes)
    except Exception:
        r.fail("consistency", "consistency.json is not {oldCheckpoint, newSize, proof}")
        return None
    if new_size != size:
        r.fail("consistency", "consistency.json proves another tree size")
        return None
    try:
        origin, old_size, old_root, ok = open_note(note, key)
    except ValueError as e:
        r.fail("consistency", "the old checkpoint does not verify: %s" % e)
        return None
    if key is not None and (not ok or origin != key[0]):
        r.fail("consistency", "the old checkpoint does not verify with the verifier key")
        return None
    if not check_consistency(hashes, old_size, size, old_root, root):
        r.fail("consistency", "the consistency proof from size %d does not check" % old_size)
        return None
    return old_size, old_root


def check_trusted(text, key, size, root, proven, r):
    try:
        origin, t_size, t_root, ok = open_note(text, key)
        if not ok or origin != key[0]:
            raise ValueError("signature does not verify")
    except ValueError as e:
        r.fail("trusted-checkpoint", "the trusted checkpoint does not verify: %s" % e)
        return
    if size is None:
        return
    if t_size > size:
        r.fail("trusted-checkpoint", "the bundle's checkpoint is older than the trusted one")
    elif t_size == size:
        if t_root != root:
            r.fail("trusted-checkpoint", "same size, different root: the log forked")
    elif t_size == 0:
        return
    elif proven is not None and proven[0] == t_size:
        if proven[1] != t_root:
            r.fail("trusted-checkpoint", "the consistency proof starts from another root: the log forked")
    else:
        r.fail("trusted-checkpoint", "the bundle has no consistency proof from size %d" % t_size)


# ---- Receipts (c2sp.org/tlog-proof@v1) and policies (c2sp.org/tlog-policy, c2sp.org/tlog-cosignature) ----------
# Written from docs/FORMAT.md ("Receipts") and the C2SP specifications, independently of the Swift code.

RECEIPT_HEADER = b"c2sp.org/tlog-proof@v1"
RECEIPT_NAME_RE = re.compile(r"receipts/(0|[1-9][0-9]{0,18})\.tlog-proof\Z")
MAX_RECEIPTS = 200000  # receipt members per bundle
MAX_RECEIPT_MEMBER = 256 << 10  # bytes per receipt member
MAX_RECEIPT_FILE = (1 << 20) + 8192  # a receipt given alone (a note of at most 1 MiB, and 8 KiB)
MAX_POLICY = 1 << 20
MAX_POLICY_ITEMS = 256  # logs, witnesses and groups each (the spec asks implementations to support at least 32)
INT63 = (1 << 63) - 1
DECIMAL_RE = re.compile(rb"(0|[1-9][0-9]{0,18})\Z")


def receipt_seq(name):
    """The seq a receipt member's name gives, or None for any other name."""
    m = RECEIPT_NAME_RE.match(name)
    if not m or int(m.group(1)) >= INT63:
        return None
    return int(m.group(1))


def parse_receipt(data):
    """(extra or None, index, [proof hashes], checkpoint note text). Raises ValueError, naming the line."""
    if len(data) > MAX_RECEIPT_FILE:
        raise ValueError("larger than %d bytes" % MAX_RECEIPT_FILE)
    blank = data.find(b"\n\n")
    if blank < 0:
        raise ValueError("no empty line before the checkpoint")
    lines = data[:blank].split(b"\n")
    if lines[0] != RECEIPT_HEADER:
        raise ValueError("line 1: not c2sp.org/tlog-proof@v1")
    at, extra = 1, None
    if len(lines) > 1 and lines[1].startswith(b"extra "):
        try:
            extra = b64std(lines[1][6:].decode("ascii"))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise ValueError("line 2: extra data is not valid base64")
        at = 2
    if len(lines) <= at or not lines[at].startswith(b"index ") or not DECIMAL_RE.match(lines[at][6:]) \
            or int(lines[at][6:]) > INT63:
        raise ValueError("line %d: expected index <decimal>" % (at + 1))
    index = int(lines[at][6:])
    proof = []
    if len(lines) - at - 1 > 63:
        raise ValueError("more than 63 proof hashes")
    for n, line in enumerate(lines[at + 1:], at + 2):
        try:
            h = b64std(line.decode("ascii"))
            assert len(h) == 32
        except (ValueError, UnicodeDecodeError, binascii.Error, AssertionError):
            raise ValueError("line %d: not a base64 SHA-256 hash" % n)
        proof.append(h)
    try:
        note = data[blank + 2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("checkpoint: not UTF-8")
    note_lines(note)  # the note must at least parse
    return extra, index, proof, note


def note_lines(text):
    """(body, [(name, key hash, signature bytes)]) of a signed note; raises ValueError when malformed."""
    sep = text.rfind("\n\n")
    if sep < 0 or not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise ValueError("not a signed note")
    body, sigs = text[:sep + 1], []
    lines = text[sep + 2:-1].split("\n")
    if len(lines) > 100:
        raise ValueError("more than 100 signatures")
    for line in lines:
        if not line.startswith("\u2014 "):
            raise ValueError("bad signature line")
        name, _, b64 = line[2:].partition(" ")
        if not name or "+" in name or " " in b64:
            raise ValueError("bad signature line")
        raw = b64std(b64)
        if len(raw) < 5:
            raise ValueError("signature too short")
        sigs.append((name.encode("utf-8"), raw[:4], raw[4:]))
    return body, sigs


def ed25519_ok(public, signature, message):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def parse_vkey(text):
    """A note verifier key <name>+<8 hex key id>+<base64(type || key)>: (name bytes, key id, type, key)."""
    parts = text.split(b"+", 2)
    if len(parts) != 3 or not parts[0] or not re.fullmatch(rb"[0-9a-f]{8}", parts[1]):
        raise ValueError("not a vkey <name>+<key id>+<key>")
    try:
        key = b64std(parts[2].decode("ascii"))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValueError("vkey key is not base64")
    if len(key) < 2:
        raise ValueError("vkey key is empty")
    keyid = sha256(parts[0] + b"\n" + key)[:4]
    if keyid.hex().encode() != parts[1]:
        raise ValueError("vkey key id does not match the key")
    return parts[0], keyid, key[0], key[1:]


def parse_policy(data):
    """A tlog-policy file: {"logs": [(name, id, key)], "witnesses": [(name, vkey tuple)], "groups": {name: (k, [names])},
    "quorum": name}. Raises Usage naming the line."""
    if len(data) > MAX_POLICY:
        raise Usage("--policy: larger than %d bytes" % MAX_POLICY)
    for i, b in enumerate(data):
        if (b < 0x20 and b not in (0x09, 0x0A)) or b == 0x7F:
            raise Usage("--policy: line %d: control character" % (data[:i].count(b"\n") + 1))
    logs, witnesses, groups, quorum, members_used = [], [], {}, None, set()
    defined = lambda n: n in groups or any(w[0] == n for w in witnesses)  # noqa: E731
    for n, line in enumerate(data.split(b"\n"), 1):
        items = [i for i in re.split(rb"[ \t]+", line) if i]
        if not items or items[0].startswith(b"#"):
            continue
        kw, args = items[0], items[1:]

        def bad(why):
            return Usage("--policy: line %d: %s" % (n, why))
        if max(len(logs), len(witnesses), len(groups)) >= MAX_POLICY_ITEMS and kw in (b"log", b"witness", b"group"):
            if len({b"log": logs, b"witness": witnesses, b"group": groups}[kw]) >= MAX_POLICY_ITEMS:
                raise bad("more than %d %ss" % (MAX_POLICY_ITEMS, kw.decode()))
        if kw == b"log":
            if len(args) not in (1, 2):
                raise bad("expected: log <vkey> [<url>]")
            try:
                vk = parse_vkey(args[0])
            except ValueError as e:
                raise bad("log key: %s" % e)
            if vk[2] != 1 or len(vk[3]) != 32:
                raise bad("a log key is an Ed25519 vkey (type 0x01)")
            if any(l[2] == vk[3] for l in logs):
                raise bad("duplicate log key")
            logs.append((vk[0], vk[1], vk[3]))
        elif kw == b"witness":
            if len(args) not in (2, 3):
                raise bad("expected: witness <name> <vkey> [<url>]")
            if args[0] == b"none" or defined(args[0]):
                raise bad("name is reserved or defined twice")
            try:
                vk = parse_vkey(args[1])
            except ValueError as e:
                raise bad("witness key: %s" % e)
            if vk[2] == 4 and len(vk[3]) != 32:
                raise bad("an Ed25519 cosigner key must be 32 bytes")
            if any(w[1][3] == vk[3] for w in witnesses):
                raise bad("duplicate witness key")
            witnesses.append((args[0], vk))
        elif kw == b"group":
            if len(args) < 3:
                raise bad("expected: group <name> <k|all|any> <name>...")
            name, k, members = args[0], args[1], args[2:]
            if name == b"none" or defined(name):
                raise bad("name is reserved or defined twice")
            for m in members:
                if m == b"none" or not defined(m):
                    raise bad("group member is none or not defined above")
                if m in members_used:
                    raise bad("a name may be a group member only once")
            if len(set(members)) != len(members):
                raise bad("a group lists a member twice")
            members_used.update(members)
            if k == b"all":
                k = len(members)
            elif k == b"any":
                k = 1
            elif re.fullmatch(rb"[1-9][0-9]{0,3}", k) and 1 <= int(k) <= len(members):
                k = int(k)
            else:
                raise bad("threshold must be all, any or k with 1 <= k <= %d" % len(members))
            groups[name] = (k, members)
        elif kw == b"quorum":
            if quorum is not None or len(args) != 1 or not (args[0] == b"none" or defined(args[0])):
                raise bad("exactly one quorum line naming none or a name defined above")
            quorum = args[0]
        else:
            raise bad("unknown keyword")
    if quorum is None:
        raise Usage("--policy: no quorum line")
    return {"logs": logs, "witnesses": witnesses, "groups": groups, "quorum": quorum}


def quorum_met(policy, name, cosigned):
    """Whether `name` (a witness, a group or none) has witnessed, given the witnesses with valid cosignatures."""
    if name == b"none":
        return True
    if name in policy["groups"]:
        k, members = policy["groups"][name]
        return sum(1 for m in members if quorum_met(policy, m, cosigned)) >= k
    return name in cosigned


def policy_log_key(policy, note_text):
    """The policy's log for the note's origin as a (name, key id, key) verifier key, or None."""
    try:
        origin = note_lines(note_text)[0].split("\n", 1)[0].encode("utf-8")
    except ValueError:
        return None
    for log in policy["logs"]:
        if log[0] == origin:
            return (log[0].decode("utf-8"), log[1], log[2])
    return None


def evaluate_policy(note_text, policy):
    """(outcome dict, [(check, detail)]): the note signed by the policy's log for its origin, each cosignature line of a
    policy witness verified as cosignature/v1 (Ed25519 over "cosignature/v1\\ntime <t>\\n" + body), the quorum."""
    names = lambda l: [n.decode("utf-8", "replace") for n in l]  # noqa: E731
    outcome = {"quorum": policy["quorum"].decode("utf-8", "replace"), "quorumMet": False, "cosignedBy": [],
               "missing": [], "invalid": [], "unverifiable": []}
    try:
        body, sigs = note_lines(note_text)
    except ValueError as e:
        return outcome, [("policy", "the checkpoint is not a signed note: %s" % e)]
    log = policy_log_key(policy, note_text)
    own = [s for s in sigs if log is not None and s[0] == log[0].encode() and s[1] == log[1]]
    if log is None or not own or not all(ed25519_ok(log[2], s[2], body.encode()) for s in own):
        return outcome, [("policy", "the checkpoint is not signed by the policy's log for its origin")]
    cosigned, invalid, unverifiable = set(), [], []
    for name, keyid, sig in sigs:
        if (name, keyid) == (log[0].encode(), log[1]):
            continue
        witness = next((w for w in policy["witnesses"] if w[1][0] == name and w[1][1] == keyid), None)
        if witness is None:
            continue  # a key the policy does not know: ignored
        if witness[1][2] != 4:
            unverifiable.append(witness[0])  # e.g. ML-DSA-44: kept, never counted
            continue
        ts = int.from_bytes(sig[:8], "big") if len(sig) == 72 else None
        message = b"cosignature/v1\ntime %d\n" % ts + body.encode() if ts is not None and ts <= INT63 else None
        if message is not None and ed25519_ok(witness[1][3], sig[8:], message):
            cosigned.add(witness[0])
        else:
            invalid.append(witness[0])
    met = quorum_met(policy, policy["quorum"], cosigned)
    outcome.update(quorumMet=met, cosignedBy=sorted(names(cosigned)),
                   missing=names([w[0] for w in policy["witnesses"] if w[0] not in cosigned]),
                   invalid=names(invalid), unverifiable=names(unverifiable))
    problems = [("cosignature", "the cosignature by witness %s does not verify (cosignature/v1 over this checkpoint)"
                 % n) for n in outcome["invalid"]]
    if not met:
        problems.append(("policy", "the checkpoint's cosignatures do not meet the policy's quorum: %s"
                         % policy_summary(outcome)))
    return outcome, problems


def policy_summary(o):
    lst = lambda l: ", ".join(l) if l else "none"  # noqa: E731
    text = "quorum %s %s; cosigned by %s; missing %s" % (o["quorum"], "met" if o["quorumMet"] else "NOT met",
                                                         lst(o["cosignedBy"]), lst(o["missing"]))
    if o["invalid"]:
        text += "; invalid %s" % lst(o["invalid"])
    if o["unverifiable"]:
        text += "; not checkable (never counted) %s" % lst(o["unverifiable"])
    return text


def check_bundle_receipts(files, facts, size, root, r):
    """receipts/<seq>.tlog-proof: when present, one per entry; each strict, its index its entry's, its checkpoint
    checkpoint.txt byte for byte, its extra (if any) the entry's leaf, its proof from the entry's record hash (computed
    from entries.jsonl) to the checkpoint's root."""
    receipts = sorted((receipt_seq(n), n) for n in files if receipt_seq(n) is not None)
    if not receipts:
        return
    r.receipts = len(receipts)
    entries = {f["seq"]: f for f in facts if f["seq"] is not None}
    named = {seq for seq, _ in receipts}
    for f in facts:
        if f["seq"] is not None and f["seq"] not in named:
            r.fail("receipt", "receipts/%d.tlog-proof is missing: a bundle with receipts has one for every entry"
                   % f["seq"], f["seq"], f.get("line"))
    for seq, name in receipts:
        problem = check_bundle_receipt(files[name], seq, entries.get(seq), files["checkpoint.txt"], size, root)
        if problem:
            r.fail("receipt", "%s: %s" % (name, problem), seq)


def check_bundle_receipt(data, seq, entry, checkpoint, size, root):
    if entry is None:
        return "entries.jsonl has no entry %d" % seq
    try:
        extra, index, proof, note = parse_receipt(data)
    except ValueError as e:
        return "not a c2sp.org/tlog-proof@v1 receipt (%s)" % e
    if index != seq:
        return "its index is %d, not %d" % (index, seq)
    if note.encode("utf-8") != checkpoint:
        return "its checkpoint is not checkpoint.txt"
    if entry.get("record_hash") is None or root is None:
        return None  # reported with the entry or the checkpoint
    if extra is not None and record_hash(extra) != entry["record_hash"]:
        return "its extra data is not the entry's leaf"
    if seq >= size or not check_inclusion(proof, size, root, seq, entry["record_hash"]):
        return "its inclusion proof does not lead from the entry's leaf to the checkpoint's root"
    return None


def verify_receipt(data, pinned_key_text, policy, leaf):
    """A receipt checked alone: returns (report dict, [(check, detail)])."""
    out = {"index": None, "origin": "", "treeSize": 0, "root": "", "recordHash": "", "leafSource": ""}
    try:
        extra, index, proof, note = parse_receipt(data)
    except ValueError as e:
        return out, [("receipt", "not a c2sp.org/tlog-proof@v1 receipt: %s" % e)]
    out["index"] = index
    key = None
    if pinned_key_text is not None:
        try:
            key = parse_verifier_key(pinned_key_text)
        except ValueError as e:
            raise Usage("--verifier-key: not a verifier key (%s)" % e)
    if policy is not None:
        log = policy_log_key(policy, note)
        if key is not None and log is not None and (key[0], key[1], key[2]) != log:
            raise Usage("--policy: the policy's log key for the receipt's origin is not the --verifier-key")
        key = key or log
    if key is None:
        raise Usage("no verifier key, and the policy names no log for the receipt's origin")
    problems = []
    if leaf is not None:
        out["leafSource"] = "given"
        if extra is not None and extra != leaf:
            problems.append(("receipt", "the receipt's extra data is not the given leaf"))
    elif extra is None:
        return out, [("receipt", "the receipt carries no leaf (no extra line) and none was given")]
    else:
        out["leafSource"], leaf = "extra", extra
    out["recordHash"] = record_hash(leaf).hex()
    try:
        seq = parse_event_leaf(leaf)[1] if leaf[:1] == b"\x03" else parse_leaf(leaf)[0]
        out["leafVersion"] = leaf[0]
        if seq != index:
            problems.append(("entry-index", "the leaf names seq %d, the receipt index %d" % (seq, index)))
    except ValueError as e:
        problems.append(("leaf-malformed", "the leaf does not decode: %s" % e))
    try:
        origin, size, root, ok = open_note(note, key)
    except ValueError as e:
        return out, problems + [("checkpoint-signature", "the receipt's checkpoint is not a checkpoint: %s" % e)]
    out.update(origin=origin, treeSize=size, root=base64.b64encode(root).decode())
    if not ok or not note_signature_ok(note, key)[1]:
        problems.append(("checkpoint-signature", "the receipt's checkpoint does not verify with the firm's key"))
    if origin != key[0]:
        problems.append(("checkpoint-origin", "the checkpoint's origin is not the verifier key's name"))
    if index >= size or not check_inclusion(proof, size, root, index, record_hash(leaf)):
        problems.append(("inclusion-proof", "the inclusion proof does not lead from the leaf to the checkpoint's root"))
    if policy is not None:
        out["policy"], more = evaluate_policy(note, policy)
        problems += more
    return out, problems


def receipt_main(args):
    """`verify_bundle.py --receipt FILE (--verifier-key K | --policy P) [--leaf F]`: exit 0 valid, 1 violation."""
    data = read_bytes(args.receipt, MAX_RECEIPT_FILE)
    pinned = read_text(args.verifier_key) if args.verifier_key else None
    policy = parse_policy(read_bytes(args.policy, MAX_POLICY)) if args.policy else None
    leaf = None
    if args.leaf:
        try:
            leaf = b64std(read_text(args.leaf).strip())
        except (ValueError, binascii.Error):
            raise Usage("--leaf: the file does not hold a base64 leaf")
    if pinned is None and policy is None:
        raise Usage("give the firm's --verifier-key FILE or a --policy FILE naming its log key")
    out, problems = verify_receipt(data, pinned, policy, leaf)
    violations = [{"check": c, "detail": d, "entry": out["index"], "line": None} for c, d in problems]
    if args.json:
        print(json.dumps({"ok": not violations, **out, "violationCount": len(violations), "violations": violations}))
    else:
        print("index:      %s" % out["index"])
        print("checkpoint: %s size %d, root %s" % (out["origin"], out["treeSize"], out["root"]))
        print("leaf:       record hash %s (from %s)" % (out["recordHash"], out["leafSource"]))
        if "policy" in out:
            print("policy:     %s" % policy_summary(out["policy"]))
        print("result:     %s" % ("VALID" if not violations else "INVALID (%d violations)" % len(violations)))
        for v in violations:
            print("violation: entry %s: [%s] %s" % (v["entry"], v["check"], v["detail"]))
    return 0 if not violations else 1


def read_bytes(path, limit):
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        print("verify_bundle: error: %s: no such file" % path, file=sys.stderr)
        sys.exit(66)
    except OSError as e:
        print("verify_bundle: error: %s: %s" % (path, e), file=sys.stderr)
        sys.exit(74)
    if len(data) > limit:
        raise Usage("%s: over %d bytes" % (path, limit))
    return data



def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read((1 << 20) + 1)
    except FileNotFoundError:
        print("verify_bundle: error: %s: no such file" % path, file=sys.stderr)
        sys.exit(66)
    except OSError as e:
        print("verify_bundle: error: %s: %s" % (path, e), file=sys.stderr)
        sys.exit(74)
    return data.decode("utf-8", "replace")


class SealedFailure(Exception):
    """A sealed bundle that cannot be opened: (message, exit status)."""


def open_sealed(path, identity_path):
    """The zip inside an age-sealed bundle, decrypted in memory (tools/age_decrypt.py), as a file object."""
    import age_decrypt
    try:
        identities = age_decrypt.parse_identities(read_text(identity_path))
    except age_decrypt.AgeBadKey as e:
        raise SealedFailure("invalid age identity: %s" % e, 64)
    with open(path, "rb") as f:
        data = f.read(MAX_TOTAL + MAX_TOTAL // 4096 + (1 << 20) + 1)
    if len(data) > MAX_TOTAL + MAX_TOTAL // 4096 + (1 << 20):
        raise Malformed("the sealed file is over 512 MiB")
    try:
        return io.BytesIO(age_decrypt.decrypt(data, identities))
    except age_decrypt.AgeMalformed as e:
        raise SealedFailure("not a readable age file: %s" % e, 65)
    except age_decrypt.AgeIntegrity as e:
        raise SealedFailure("sealed bundle refused: %s" % e, 1)
    except age_decrypt.AgeNoMatch as e:
        raise SealedFailure(str(e), 77)


def main(argv):
    ap = argparse.ArgumentParser(description="Verify a client-ledger export bundle offline.")
    ap.add_argument("bundle", nargs="?")
    ap.add_argument("--receipt", help="check this c2sp.org/tlog-proof receipt alone instead of a bundle")
    ap.add_argument("--leaf", help="with --receipt: a file with the entry's base64 leaf (entries.jsonl's \"leaf\")")
    ap.add_argument("--policy", help="a c2sp.org/tlog-policy file: log key and witness quorum for the checkpoint")
    ap.add_argument("--verifier-key")
    ap.add_argument("--trusted")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--require-signed", action="store_true",
                    help="refuse a bundle whose manifest is not signed by the firm (format 1)")
    ap.add_argument("--identity", help="age identity file: the bundle is sealed (.zip.age); opened in memory")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 64 if e.code else 0
    if (args.bundle is None) == (args.receipt is None):
        print("verify_bundle: error: give a bundle or --receipt FILE (not both)", file=sys.stderr)
        return 64
    if args.receipt is not None:
        try:
            return receipt_main(args)
        except Usage as e:
            print("verify_bundle: error: %s" % e, file=sys.stderr)
            return 64
    pinned = read_text(args.verifier_key) if args.verifier_key else None
    trusted = read_text(args.trusted) if args.trusted else None
    try:
        policy = parse_policy(read_bytes(args.policy, MAX_POLICY)) if args.policy else None
        files = read_zip(open_sealed(args.bundle, args.identity) if args.identity else args.bundle)
        report = verify(files, pinned, trusted, args.require_signed, policy)
        if report.format_version == 1 and not args.require_signed:
            print("verify_bundle: warning: this bundle's metadata is not signed (format 1): a bundle handled by others "
                  "may have been downgraded from format 2 with its reasons, profile or report changed; pass "
                  "--require-signed to refuse it", file=sys.stderr)
    except FileNotFoundError:
        print("verify_bundle: error: %s: no such file" % args.bundle, file=sys.stderr)
        return 66
    except (PermissionError, IsADirectoryError) as e:
        print("verify_bundle: error: %s: %s" % (args.bundle, e), file=sys.stderr)
        return 74
    except Malformed as e:
        print("verify_bundle: error: not a readable export bundle: %s" % e, file=sys.stderr)
        return 65
    except Usage as e:
        print("verify_bundle: error: %s" % e, file=sys.stderr)
        return 64
    except SealedFailure as e:
        print("verify_bundle: error: %s" % e.args[0], file=sys.stderr)
        return e.args[1]
    if args.json:
        print(json.dumps({"ok": not report.violations, "formatVersion": report.format_version,
                          "notices": report.notices, "origin": report.origin, "treeSize": report.size,
                          "root": report.root, "entries": report.entries, "disclosures": report.disclosures,
                          "redactions": report.redactions, "warnings": report.warnings,
                          **({} if report.access_entries is None else {"accessEntries": report.access_entries}),
                          **({} if report.retention_events is None else {
                              "retentionEvents": report.retention_events,
                              "destroyedEntries": report.destroyed_entries}),
                          **({} if report.receipts is None else {"receipts": report.receipts}),
                          **({} if report.policy is None else {"policy": report.policy}),
                          "violationCount": len(report.violations), "violations": report.violations[:1000]}))
    else:
        for w in report.warnings:
            print("verify_bundle: warning: " + w, file=sys.stderr)
        print("format:     bundle v%d%s" % (report.format_version, " (manifest signed)" if report.format_version >= 2 else ""))
        print("origin:     %s" % report.origin)
        print("checkpoint: size %d, root %s" % (report.size, report.root))
        print("entries:    %d (%d fields disclosed, %d redacted)" % (report.entries, report.disclosures, report.redactions))
        if report.access_entries is not None:
            print("access log: %d access entries" % report.access_entries)
        if report.retention_events is not None:
            print("retention:  %d events, %d destroyed entries" % (report.retention_events, report.destroyed_entries))
        if report.receipts is not None:
            print("receipts:   %d (c2sp.org/tlog-proof, one per entry)" % report.receipts)
        if report.policy is not None:
            print("policy:     %s" % policy_summary(report.policy))
        print("result:     %s" % ("VALID" if not report.violations else "INVALID (%d violations)" % len(report.violations)))
        for n in report.notices:
            print("notice: " + n)
        for v in report.violations[:1000]:
            where = ("entry %d: " % v["entry"]) if v["entry"] is not None else (("line %d: " % v["line"]) if v["line"] else "")
            print("violation: %s[%s] %s" % (where, v["check"], v["detail"]))
    return 0 if not report.violations else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
