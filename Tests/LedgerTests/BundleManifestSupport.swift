import Foundation
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import SignedNote

extension Ledger {
    /// A manifest signer with this ledger's key (the firm's), for `BundleManifestSupport.rewrite`.
    var manifestSigner: ([UInt8]) throws -> String { { try self.signManifest(json: $0) } }
}

extension NoteSigner {
    /// A manifest signer with this key (an attacker's, or another log's).
    var manifestSigner: ([UInt8]) throws -> String { { try self.sign(BundleFormat.manifestText(json: $0)) } }
}

/// Test helpers for a bundle's manifest: manifest.note (v2) or manifest.json (v1).
enum BundleManifestSupport {
    enum SupportError: Error { case noManifest, notAnObject }

    /// The manifest's JSON object, from manifest.note's second line or manifest.json.
    static func object(_ files: [String: [UInt8]]) throws -> JSONObject {
        let json: [UInt8]
        if let note = files[BundleFormat.manifestNote] {
            let lines = note.split(separator: 0x0a, omittingEmptySubsequences: false)
            json = Array(lines[1])
        } else if let manifest = files[BundleFormat.manifest] {
            json = manifest
        } else {
            throw SupportError.noManifest
        }
        guard case .object(let object) = try JSONParser.parse(json) else { throw SupportError.notAnObject }
        return object
    }

    /// Rewrites the manifest: `edit` applied after the other files' digests are recomputed. A v2 manifest is signed
    /// again by `sign` (e.g. the firm's key, to isolate one check) or, without it, keeps its old signature block (an
    /// attacker's re-hash, which the signature check rejects).
    static func rewrite(_ files: inout [String: [UInt8]], sign: (([UInt8]) throws -> String)? = nil,
                        _ edit: (inout JSONObject) throws -> Void = { _ in }) throws {
        var object = try object(files)
        let own = files[BundleFormat.manifestNote] != nil ? BundleFormat.manifestNote : BundleFormat.manifest
        let digests = files.keys.sorted().filter { $0 != own }
            .map { ($0, JSONValue.string(Hash.sha256(files[$0]!).hex)) }
        _ = object.updateValue(.object(JSONObject(digests)), forKey: "files")
        try edit(&object)
        let json = JSONWriter.serialize(.object(object))
        guard let note = files[BundleFormat.manifestNote] else {
            files[BundleFormat.manifest] = json + [0x0a]
            return
        }
        if let sign {
            files[BundleFormat.manifestNote] = Array(try sign(json).utf8)
        } else {
            let text = String(decoding: note, as: UTF8.self)
            let block = text[text.range(of: "\n\n", options: .backwards)!.upperBound...]
            files[BundleFormat.manifestNote] = Array((BundleFormat.manifestText(json: json) + "\n" + block).utf8)
        }
    }
}
