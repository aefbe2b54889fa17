import Foundation
import XCTest
import Sodium
import SignedNote

/// go-note-example.json from ../shared/testvectors (relative to the repository root).
struct GoNoteVector: Decodable {
    let verifierKey: String
    let signerKey: String
    let text: String
    let signedNote: String
    let badVerifierKeys: [String]

    static func load() throws -> GoNoteVector {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.deletingLastPathComponent()
            .appendingPathComponent("shared/testvectors/signed-note/go-note-example.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("test vector missing: \(url.path)")
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode(GoNoteVector.self, from: data)
    }
}

final class GoVectorTests: XCTestCase {
    func testSigningMatchesGoByteForByte() throws {
        let vector = try GoNoteVector.load()
        let signer = try NoteSigner(signerKeyText: vector.signerKey)
        XCTAssertEqual(signer.name, "PeterNeumann")
        XCTAssertEqual(signer.keyHash, 0xc74f20a3)
        let signed = try signer.sign(vector.text)
        XCTAssertEqual(Array(signed.utf8), Array(vector.signedNote.utf8))
        XCTAssertEqual(signer.verifierKey.text, vector.verifierKey)
    }

    func testVerifierKeyParsesRoundTripsAndVerifies() throws {
        let vector = try GoNoteVector.load()
        let key = try NoteVerifierKey(text: vector.verifierKey)
        XCTAssertEqual(key.name, "PeterNeumann")
        XCTAssertEqual(key.keyHash, 0xc74f20a3)
        XCTAssertEqual(key.publicKey.count, 32)
        XCTAssertEqual(key.text, vector.verifierKey)
        XCTAssertEqual(noteKeyHash(name: key.name, publicKey: key.publicKey), key.keyHash)
        XCTAssertEqual(NoteVerifierKey(name: key.name, publicKey: key.publicKey), key)
        XCTAssertEqual(try NoteVerifierKey(text: vector.verifierKey + "\n"), key, "one trailing newline is allowed")

        let note = try SignedNoteText(parsing: vector.signedNote)
        XCTAssertEqual(note.text, vector.text)
        XCTAssertEqual(note.signatures.count, 1)
        XCTAssertEqual(note.signatures[0].name, "PeterNeumann")
        XCTAssertEqual(note.signatures[0].keyHash, 0xc74f20a3)
        XCTAssertEqual(note.signatures[0].signature.count, 64)
        XCTAssertNoThrow(try note.verify(with: key))
    }

    func testBadVerifierKeysAreRefused() throws {
        let vector = try GoNoteVector.load()
        XCTAssertFalse(vector.badVerifierKeys.isEmpty)
        for bad in vector.badVerifierKeys {
            XCTAssertThrowsError(try NoteVerifierKey(text: bad), bad) { error in
                guard case .malformedVerifierKey = error as? NoteError else { return XCTFail("\(bad): \(error)") }
            }
        }
        let good = vector.verifierKey
        let more = [
            "", "+", "++", good + "\n\n", good + " ", " " + good, good.uppercased(),
            good.replacingOccurrences(of: "c74f20a3", with: "C74F20A3"),  // Go writes lowercase only
            good.replacingOccurrences(of: "c74f20a3", with: "c74f20a4"),  // hash mismatch
            good.replacingOccurrences(of: "c74f20a3", with: "c74f20a"),   // 7 digits
            good.replacingOccurrences(of: "PeterNeumann", with: "Peter Neumann"),
            good.replacingOccurrences(of: "PeterNeumann", with: "Peter\u{2003}Neumann"),
            good.replacingOccurrences(of: "PeterNeumann+", with: "+"),
            "PeterNeumann+c74f20a3+", "PeterNeumann+c74f20a3",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        ]
        for bad in more {
            XCTAssertThrowsError(try NoteVerifierKey(text: bad), bad.debugDescription)
        }
    }

    func testSignerKeyTextIsStrict() throws {
        let vector = try GoNoteVector.load()
        for bad in [
            vector.signerKey.replacingOccurrences(of: "PRIVATE+KEY+", with: ""),
            vector.signerKey.replacingOccurrences(of: "c74f20a3", with: "c74f20a4"),
            vector.signerKey.replacingOccurrences(of: "+AYEK", with: "+AoEK"),
            vector.signerKey.replacingOccurrences(of: "PeterNeumann", with: "Peter+Neumann"),
            vector.signerKey + "==",
        ] {
            XCTAssertThrowsError(try NoteSigner(signerKeyText: bad)) { error in
                guard case .malformedSignerKey(let why) = error as? NoteError else { return XCTFail("\(error)") }
                XCTAssertFalse(why.contains("AYEKFALV"), "error must not echo the secret key")
            }
        }
    }

    func testTamperedNotesFail() throws {
        let vector = try GoNoteVector.load()
        let key = try NoteVerifierKey(text: vector.verifierKey)

        let tamperedText = vector.signedNote.replacingOccurrences(of: "don't know", with: "do know")
        XCTAssertThrowsError(try SignedNoteText(parsing: tamperedText).verify(with: key)) {
            XCTAssertEqual($0 as? NoteError, .invalidSignature)
        }
        // Flip one signature byte, keep the key hash.
        let note = try SignedNoteText(parsing: vector.signedNote)
        var raw = [UInt8](arrayLiteral: 0xc7, 0x4f, 0x20, 0xa3) + note.signatures[0].signature
        raw[20] ^= 0x01
        let tamperedSignature = note.text + "\n\u{2014} PeterNeumann " + Base64.encode(raw) + "\n"
        XCTAssertThrowsError(try SignedNoteText(parsing: tamperedSignature).verify(with: key)) {
            XCTAssertEqual($0 as? NoteError, .invalidSignature)
        }
        // A valid signature followed by an invalid one by the same key is rejected too.
        let doubled = vector.signedNote + "\u{2014} PeterNeumann " + Base64.encode(raw) + "\n"
        XCTAssertThrowsError(try SignedNoteText(parsing: doubled).verify(with: key)) {
            XCTAssertEqual($0 as? NoteError, .invalidSignature)
        }
        // Another key (same name, different key) does not verify it.
        let other = try NoteSigner(name: "PeterNeumann", seed: SecretBytes(randomCount: 32))
        XCTAssertThrowsError(try note.verify(with: other.verifierKey)) {
            XCTAssertEqual($0 as? NoteError, .unknownKey)
        }
    }

    func testUnknownSignaturesAreIgnored() throws {
        let vector = try GoNoteVector.load()
        let key = try NoteVerifierKey(text: vector.verifierKey)
        let note = try SignedNoteText(parsing: vector.signedNote)
        let ourLine = "\u{2014} PeterNeumann " + Base64.encode([0xc7, 0x4f, 0x20, 0xa3] + note.signatures[0].signature)
            + "\n"

        let enoch = try NoteSigner(name: "EnochRoot", seed: SecretBytes(randomCount: 32))
        let enochLine = String(try enoch.sign(vector.text).utf8.dropFirst(vector.text.utf8.count + 1))!
        // Same name, wrong hash; same hash, wrong name; a non-Ed25519-length signature.
        let sameName = "\u{2014} PeterNeumann " + Base64.encode([0, 0, 0, 1] + [UInt8](repeating: 7, count: 64)) + "\n"
        let otherSignature = [0xc7, 0x4f, 0x20, 0xa3] + [UInt8](repeating: 7, count: 64)
        let sameHash = "\u{2014} PaulNeumann " + Base64.encode(otherSignature) + "\n"
        let odd = "\u{2014} witness.example/w1 " + Base64.encode([1, 2, 3, 4, 0xff, 0xfe, 0xfd]) + "\n"

        let combined = vector.text + "\n" + enochLine + sameName + ourLine + sameHash + odd
        let parsed = try SignedNoteText(parsing: combined)
        XCTAssertEqual(parsed.signatures.count, 5)
        XCTAssertEqual(parsed.text, vector.text)
        XCTAssertNoThrow(try parsed.verify(with: key))
        XCTAssertNoThrow(try parsed.verify(with: enoch.verifierKey))

        let withoutOurs = try SignedNoteText(parsing: vector.text + "\n" + enochLine + sameName + sameHash + odd)
        XCTAssertThrowsError(try withoutOurs.verify(with: key)) { XCTAssertEqual($0 as? NoteError, .unknownKey) }
    }

    func testMalformedNotesAreRejected() throws {
        let vector = try GoNoteVector.load()
        let signatureLine = String(vector.signedNote.utf8.dropFirst(vector.text.utf8.count + 1))!
        let cases: [(String, String)] = [
            ("missing blank line", vector.text + signatureLine),
            ("no signatures", vector.text + "\n"),
            ("empty", ""),
            ("only newlines", "\n\n"),
            ("signature block without final newline", String(vector.signedNote.dropLast())),
            ("bad base64", vector.text + "\n\u{2014} PeterNeumann x08go/ZJkuBS9UG!\n"),
            ("base64 with bad padding", vector.text + "\n\u{2014} PeterNeumann AAAAAAA\n"),
            ("empty base64", vector.text + "\n\u{2014} PeterNeumann \n"),
            ("no base64", vector.text + "\n\u{2014} PeterNeumann\n"),
            ("too short signature", vector.text + "\n\u{2014} PeterNeumann AAAAAA==\n"),
            ("hyphen instead of em dash", vector.text + "\n- " + signatureLine.dropFirst(2)),
            ("em dash without space", vector.text + "\n\u{2014}" + signatureLine.dropFirst(2)),
            ("blank line inside signatures", vector.signedNote + "\n"),
            ("text and signature without separating blank line", "no newline" + "\n\u{2014}x\n"),
            ("control character in text", "tab\there\n\n" + signatureLine),
            ("carriage return", vector.text.replacingOccurrences(of: "\n", with: "\r\n") + "\n" + signatureLine),
            ("NUL", "a\u{0}b\n\n" + signatureLine),
            ("name with plus", vector.text + "\n\u{2014} Peter+Neumann " + signatureLine.split(separator: " ").last!),
            ("extra field", vector.signedNote.dropLast() + " extra\n"),
            ("101 signatures", vector.text + "\n" + String(repeating: signatureLine, count: 101)),
            ("huge input", String(repeating: "A", count: 2 << 20) + "\n\n" + signatureLine),
        ]
        for (label, input) in cases {
            XCTAssertThrowsError(try SignedNoteText(parsing: input), label) { error in
                guard case .malformedNote = error as? NoteError else { return XCTFail("\(label): \(error)") }
            }
        }
        XCTAssertNoThrow(try SignedNoteText(parsing: vector.text + "\n" + String(repeating: signatureLine, count: 100)))
    }

    func testInvalidUTF8IsRejected() throws {
        let vector = try GoNoteVector.load()
        var bytes = Array(vector.signedNote.utf8)
        bytes[3] = 0xff
        XCTAssertThrowsError(try SignedNoteText(parsing: bytes)) { error in
            XCTAssertEqual(error as? NoteError, .malformedNote("invalid UTF-8"))
        }
        XCTAssertNoThrow(try SignedNoteText(parsing: Array(vector.signedNote.utf8)))
    }
}

final class NoteSignerTests: XCTestCase {
    func testSignAndVerifyWithGeneratedKey() throws {
        let signer = try NoteSigner(name: "ledger.example/firm-a", seed: SecretBytes(randomCount: 32))
        let key = try NoteVerifierKey(text: signer.verifierKey.text)
        XCTAssertEqual(key, signer.verifierKey)
        let text = "first line\n\nafter an empty line\n"
        let note = try signer.sign(text)
        let parsed = try SignedNoteText(parsing: note)
        XCTAssertEqual(parsed.text, text, "the last blank line separates text and signatures")
        XCTAssertNoThrow(try parsed.verify(with: key))
        XCTAssertNoThrow(try SignedNoteText(parsing: try signer.sign("\n")).verify(with: key))
    }

    func testSignRejectsBadText() throws {
        let signer = try NoteSigner(name: "ledger.example", seed: SecretBytes(randomCount: 32))
        for (text, label) in [("", "empty"), ("no newline", "no final newline"), ("tab\t\n", "control character"),
                              ("cr\r\n", "carriage return"),
                              (String(repeating: "x", count: 1 << 20) + "\n", "too large")] {
            XCTAssertThrowsError(try signer.sign(text), label) { error in
                guard case .malformedNote = error as? NoteError else { return XCTFail("\(label): \(error)") }
            }
        }
    }

    func testSignerRejectsBadNameAndSeed() {
        for name in ["", "a b", "a+b", "tab\tname", "nbsp\u{a0}name"] {
            XCTAssertThrowsError(try NoteSigner(name: name, seed: SecretBytes(randomCount: 32)), name.debugDescription)
            XCTAssertFalse(NoteVerifierKey.isValidName(name))
        }
        XCTAssertTrue(NoteVerifierKey.isValidName("example.com/log-42"))
        XCTAssertThrowsError(try NoteSigner(name: "ok", seed: SecretBytes(randomCount: 31))) {
            XCTAssertEqual($0 as? NoteError, .malformedSignerKey("Ed25519 seed must be 32 bytes"))
        }
    }

    func testNamesCompareByBytesNotUnicodeEquivalence() throws {
        // "é" precomposed vs. decomposed: equal as Swift Strings, different bytes and key hashes.
        let signer = try NoteSigner(name: "caf\u{e9}", seed: SecretBytes(randomCount: 32))
        let note = try SignedNoteText(parsing: try signer.sign("x\n"))
        let decomposed = NoteVerifierKey(name: "cafe\u{301}", publicKey: signer.verifierKey.publicKey)
        XCTAssertNotEqual(decomposed, signer.verifierKey)
        XCTAssertThrowsError(try note.verify(with: decomposed)) { XCTAssertEqual($0 as? NoteError, .unknownKey) }
        XCTAssertNoThrow(try note.verify(with: signer.verifierKey))
    }

    func testErrorDescriptions() {
        XCTAssertEqual(NoteError.unknownKey.description, "note has no signature by the given key")
        XCTAssertTrue(NoteError.malformedNote("no signatures").description.contains("no signatures"))
    }
}

final class CheckpointTests: XCTestCase {
    let root = [UInt8](repeating: 0xab, count: 32)

    func testRoundTrip() throws {
        let checkpoint = Checkpoint(origin: "ledger.example/firm-a", size: 20852163, rootHash: root)
        XCTAssertEqual(checkpoint.body, "ledger.example/firm-a\n20852163\n" + Base64.encode(root) + "\n")
        XCTAssertEqual(try Checkpoint(body: checkpoint.body), checkpoint)

        let withExtensions = Checkpoint(origin: "o", size: 0, rootHash: root, extensionLines: ["ext one", "ext two"])
        XCTAssertEqual(withExtensions.body, "o\n0\n" + Base64.encode(root) + "\next one\next two\n")
        let parsed = try Checkpoint(body: withExtensions.body)
        XCTAssertEqual(parsed, withExtensions)
        XCTAssertEqual(parsed.extensionLines, ["ext one", "ext two"])

        // Sizes are RFC 6962 int64 tree sizes: 2^63 - 1 is the largest, 2^63 and above are refused.
        let max = Checkpoint(origin: "o", size: UInt64(Int64.max), rootHash: root)
        XCTAssertEqual(try Checkpoint(body: "o\n9223372036854775807\n" + Base64.encode(root) + "\n"), max)
        for tooLarge in ["9223372036854775808", "18446744073709551615"] {
            XCTAssertThrowsError(try Checkpoint(body: "o\n\(tooLarge)\n" + Base64.encode(root) + "\n"), tooLarge)
        }
    }

    func testSpecExample() throws {
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let checkpoint = try Checkpoint(body: body)
        XCTAssertEqual(checkpoint.origin, "example.com/behind-the-sofa")
        XCTAssertEqual(checkpoint.size, 20852163)
        XCTAssertEqual(checkpoint.rootHash.count, 32)
        XCTAssertEqual(checkpoint.body, body)
    }

    func testStrictParseRejections() {
        let r = Base64.encode(root)
        let cases: [(String, String)] = [
            ("leading zeros", "o\n007\n\(r)\n"),
            ("double zero", "o\n00\n\(r)\n"),
            ("negative", "o\n-1\n\(r)\n"),
            ("plus sign", "o\n+5\n\(r)\n"),
            ("space in size", "o\n 5\n\(r)\n"),
            ("hex size", "o\n0x10\n\(r)\n"),
            ("empty size", "o\n\n\(r)\n"),
            ("overflow", "o\n18446744073709551616\n\(r)\n"),
            ("31-byte root", "o\n5\n\(Base64.encode(Array(root.prefix(31))))\n"),
            ("33-byte root", "o\n5\n\(Base64.encode(root + [0]))\n"),
            ("URL-safe root", "o\n5\n\(Base64.encodeURL(root))\n"),
            ("missing final newline", "o\n5\n\(r)"),
            ("missing root", "o\n5\n"),
            ("empty origin", "\n5\n\(r)\n"),
            ("empty extension line", "o\n5\n\(r)\n\n"),
            ("empty line between extensions", "o\n5\n\(r)\na\n\nb\n"),
            ("carriage return", "o\r\n5\n\(r)\n"),
            ("empty", ""),
        ]
        for (label, body) in cases {
            XCTAssertThrowsError(try Checkpoint(body: body), label) { error in
                guard case .malformedCheckpoint = error as? NoteError else { return XCTFail("\(label): \(error)") }
            }
        }
    }

    func testSignedCheckpointEndToEnd() throws {
        let signer = try NoteSigner(name: "ledger.example/firm-a", seed: SecretBytes(randomCount: 32))
        let checkpoint = Checkpoint(origin: signer.name, size: 42, rootHash: SHA256Sodium.hash(Array("root".utf8)))
        let note = try signer.sign(checkpoint.body)
        let parsed = try SignedNoteText(parsing: note)
        try parsed.verify(with: try NoteVerifierKey(text: signer.verifierKey.text))
        XCTAssertEqual(try Checkpoint(body: parsed.text), checkpoint)
    }

    func testOpenReturnsOnlyAVerifiedCheckpointOfTheKeysOrigin() throws {
        let signer = try NoteSigner(name: "ledger.example/firm-a", seed: SecretBytes(randomCount: 32))
        let key = try NoteVerifierKey(text: signer.verifierKey.text)
        let checkpoint = Checkpoint(origin: signer.name, size: 7, rootHash: SHA256Sodium.hash(Array("r".utf8)))
        let note = try signer.sign(checkpoint.body)
        XCTAssertEqual(try Checkpoint.open(note: note, verifier: key), checkpoint)

        // A signature by another key, a flipped byte of the body, a body that is not a checkpoint, another origin.
        let other = try NoteSigner(name: "ledger.example/firm-b", seed: SecretBytes(randomCount: 32))
        XCTAssertThrowsError(try Checkpoint.open(note: try other.sign(checkpoint.body), verifier: key)) {
            XCTAssertEqual($0 as? NoteError, .unknownKey)
        }
        let tampered = note.replacingOccurrences(of: "\n7\n", with: "\n8\n")
        XCTAssertThrowsError(try Checkpoint.open(note: tampered, verifier: key)) {
            XCTAssertEqual($0 as? NoteError, .invalidSignature)
        }
        XCTAssertThrowsError(try Checkpoint.open(note: try signer.sign("not a checkpoint\n"), verifier: key)) {
            guard case .malformedCheckpoint? = $0 as? NoteError else { return XCTFail("\($0)") }
        }
        let foreign = Checkpoint(origin: "ledger.example/firm-b", size: 7, rootHash: checkpoint.rootHash)
        XCTAssertThrowsError(try Checkpoint.open(note: try signer.sign(foreign.body), verifier: key)) {
            XCTAssertEqual($0 as? NoteError, .originMismatch(origin: "ledger.example/firm-b", keyName: signer.name))
        }
    }
}
