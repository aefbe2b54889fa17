import Foundation
import Synchronization
import Ledger
import LedgerFormat
import RecordFormats

extension FuzzTargets {
    /// verify's structure check and scan over a damaged LMDB file: a small valid ledger's data.mdb with a few bytes
    /// overwritten at offsets and values the input gives (5 bytes each: a big-endian UInt32 offset, taken modulo the
    /// file size, and the new byte), opened read only and verified without keys. Any report or `LedgerError` is an
    /// answer; a crash or hang is a bug.
    static let ledgerFile = FuzzTarget("ledger-file") { bytes in
        let seed = DamageSeed.shared
        var damaged = seed.clean
        var at = 0
        while at + 5 <= bytes.count {
            let offset = bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } % damaged.count
            damaged[offset] = bytes[at + 4]
            at += 5
        }
        let file = seed.scratch + "/data.mdb"
        guard FileManager.default.createFile(atPath: file, contents: Data(damaged)) else {
            preconditionFailure("cannot write \(file)")
        }
        do {
            let ledger = try Ledger.open(at: seed.scratch, readOnly: true)
            defer { ledger.close() }
            _ = try ledger.verify(VerifyOptions())
        } catch is LedgerError {
        } catch {
            preconditionFailure("verify threw something other than a LedgerError: \(type(of: error)) \(error)")
        }
    }
}

/// The clean data.mdb of a 30-entry ledger with a signed checkpoint (a compacted copy: no free pages), made once
/// per process, and the scratch directory each damaged copy is written to (in /dev/shm when there is one).
private struct DamageSeed: Sendable {
    let clean: [UInt8]
    let scratch: String

    static let shared: DamageSeed = {
        do { return try make() } catch { preconditionFailure("cannot build the seed ledger: \(error)") }
    }()

    private static func make() throws -> DamageSeed {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let root = (base as NSString).appendingPathComponent("ledger-fuzz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        atexit { DamageSeed.cleanUp() }
        rootForCleanUp.withLock { $0 = root }
        let ledger = try Ledger.create(at: root + "/ledger", origin: "fuzz.invalid/damaged-ledger",
                                       masterKey: .keyFile(path: root + "/master.key", allowInsideLedger: false))
        try ledger.unlock(with: .keyFile(path: root + "/master.key"))
        let records = try (0..<30).map { i in
            try RecordSchema.validate(try JSONParser.parse(Array(record(i).utf8)))
        }
        _ = try ledger.append(records)
        _ = try ledger.signCheckpoint()
        let copy = try ledger.backup(to: root + "/compacted").directory
        ledger.close()
        let clean = try [UInt8](Data(contentsOf: URL(fileURLWithPath: copy + "/data.mdb")))
        let scratch = root + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        return DamageSeed(clean: clean, scratch: scratch)
    }

    private static func record(_ i: Int) -> String {
        #"{"matter":"2026-0\#(140 + i % 3)","author":"a.okafor","channel":"email","direction":"outbound","#
            + #""kind":"update","occurredAt":"2026-01-\#(10 + i % 18)T10:00:00+00:00","subject":"Lease \#(i)","#
            + #""summary":"Update \#(i) on the lease dispute.","sourceSystem":"pms","sourceId":"fuzz-\#(i)"}"#
    }

    private static let rootForCleanUp = Mutex<String?>(nil)

    private static func cleanUp() {
        if let root = rootForCleanUp.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: root) }
    }
}
