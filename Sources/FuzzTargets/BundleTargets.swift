import Foundation
import LedgerBundle
import RecordFormats

extension FuzzTargets {
    /// The verifier key of the ledger the seed bundles (Fuzz/corpus/bundle) were exported from, pinned so their
    /// checkpoint and consistency signatures verify and the checks behind them run.
    static let seedVerifierKey = "fuzz.invalid/seed-ledger+061f4591+AblR1u9jvtroAr7i8iBT2QUJISTN2UC+gKFmt3T1br0w"

    /// The whole offline bundle verifier on a bundle's bytes: zip container, manifest, checkpoint, entries.jsonl,
    /// proofs, privilege log, consistency.json. Any report or `BundleError` is an answer.
    static let bundle = FuzzTarget("bundle") { bytes in
        let options = BundleVerifyOptions(pinnedVerifierKey: seedVerifierKey)
        _ = try? BundleVerifier.verify(data: Data(bytes), options: options)
    }

    /// A receipt (c2sp.org/tlog-proof@v1) checked alone with the seed ledger's key: parsing, leaf decoding, the
    /// checkpoint's signature and the inclusion proof. Any report or `BundleError` is an answer.
    static let receipt = FuzzTarget("receipt") { bytes in
        _ = try? ReceiptVerifier.verify(receipt: Array(bytes), verifierKey: seedVerifierKey, policy: nil, leaf: nil)
    }

    /// An entries.jsonl line: whatever the canonical scanner accepts, the strict reader (the JSON parser) accepts,
    /// with no violation and the same parts; and a disclosure the canonical scanner takes apart is the JSON array
    /// of three strings the parser reads, with the same name and value.
    static let entryLine = FuzzTarget("entry-line") { bytes in
        if let fast = CanonicalEntryScanner.scan(bytes) {
            guard let strict = StrictEntryReader.read(bytes) else {
                agree(false, "the canonical scanner accepts a line the strict reader refuses")
                return
            }
            agree(strict.clean, "the strict reader finds a violation in a line the canonical scanner accepts")
            strict.arena.withUnsafeBytes { arena in
                agree(sameParts(fast, in: bytes, strict.parts, in: arena), "the scanner and the reader read different parts")
            }
        } else {
            _ = StrictEntryReader.read(bytes)
        }
        if let parts = CanonicalEntryScanner.scanDisclosure(bytes) {
            guard case .array(let items)? = try? JSONParser.parse(bytes), items.count == 3,
                  case .string = items[0], case .string(let name) = items[1], case .string(let value) = items[2] else {
                agree(false, "the canonical scanner accepts a disclosure the JSON parser does not read as 3 strings")
                return
            }
            agree(Array(name.utf8) == text(parts.name, in: bytes) && Array(value.utf8) == text(parts.value, in: bytes),
                  "the scanner and the JSON parser read a different disclosure name or value")
        }
    }

    private static func text(_ range: Range<Int>, in buffer: UnsafeRawBufferPointer) -> [UInt8] {
        Array(buffer[range])
    }

    private static func sameParts(_ a: BundleVerifier.EntryParts, in ta: UnsafeRawBufferPointer,
                                  _ b: BundleVerifier.EntryParts, in tb: UnsafeRawBufferPointer) -> Bool {
        func same(_ x: Range<Int>?, _ y: Range<Int>?) -> Bool {
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return text(x, in: ta) == text(y, in: tb)
            default: return false
            }
        }
        func same<T>(_ x: [T]?, _ y: [T]?, _ each: (T, T) -> Bool) -> Bool {
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return x.count == y.count && zip(x, y).allSatisfy(each)
            default: return false
            }
        }
        guard a.index == b.index, same(a.leaf, b.leaf) else { return false }
        guard same(a.proof, b.proof, { same($0, $1) }) else { return false }
        guard same(a.disclosures, b.disclosures, { same($0, $1) }) else { return false }
        return same(a.redacted, b.redacted) { x, y in
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return same(x.field, y.field) && same(x.reason, y.reason) && same(x.digest, y.digest)
            default: return false
            }
        }
    }
}
