import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import XCTest

/// Deep verify opens entries two at a time and hashes their fields digests together (DeepCheck.swift, DeepSlot):
/// a violation still names its own entry, never the other of its pair.
extension VerifyTamperTests {
    func testDeepViolationsNameTheirOwnEntryOfAPair() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in  // 22 is the first of its pair (22, 23), 25 the second of (24, 25)
            for seq: UInt64 in [22, 25] {
                let leaf = try txn.leaf(raw, seq)
                try txn.flipEntry(raw, seq, byte: 2 + LeafOffsets(leaf: leaf).fieldsDigest + 5, bit: 1)
            }
        }
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        XCTAssertEqual(deep.violations.filter { $0.kind == .disclosureDigest }.compactMap(\.seq), [22, 25],
                       "\(deep.violations)")
        let deepKinds: Set<Violation.Kind> = [.disclosureDigest, .decryption, .recordSchema, .tagMismatch, .matterKey]
        XCTAssertFalse(deep.violations.contains { deepKinds.contains($0.kind) && $0.seq != 22 && $0.seq != 25 },
                       "\(deep.violations)")
    }
}
