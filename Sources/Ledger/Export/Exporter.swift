import Foundation
import LMDB
import LedgerFormat
import LedgerReport
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import ZIPFoundation

/// What to export and how (docs/EXPORT.md).
public struct ExportOptions: Sendable {
    public var matters: [String]
    /// Inclusive bounds on occurredAt, microseconds since the epoch.
    public var from: Int64?
    public var to: Int64?
    public var profile: ExportProfile
    /// An older checkpoint (signed note text) the recipient holds: the bundle then carries a consistency proof from it.
    public var sinceCheckpoint: String?
    /// Written into the manifest, e.g. "ledger 0.1.0".
    public var tool: String
    /// Deflate entries.jsonl as well: a bundle about 3.5 times smaller, slower to write and to verify.
    public var compactEntries = false
    /// Add access-log.jsonl: the access entries (below the checkpoint's size) that read an exported matter.
    public var includeAccessLog = false
    /// SHA-256 (hex) of the X25519 public key the bundle is sealed to, for the export's entry; nil when in clear.
    public var recipientFingerprint: String?
    /// Seals the finished zip before it touches the disk (e.g. to an age recipient): called once with the zip's
    /// bytes, in memory, and a writer for the sealed output. Nil writes the zip in clear.
    public var seal: BundleSealer?
    /// Prove against the newest stored checkpoint (normally the one witnesses cosigned) instead of signing a fresh
    /// tree head; entries appended after it are left out.
    public var witnessed = false
    /// Add `receipts/<seq>.tlog-proof`, one c2sp.org/tlog-proof receipt per exported entry (implies `witnessed`).
    public var receipts = false

    /// Whether the bundle proves against the newest stored checkpoint rather than a freshly signed one.
    var provesAgainstStoredCheckpoint: Bool { witnessed || receipts }

    public init(matters: [String], from: Int64? = nil, to: Int64? = nil, profile: ExportProfile = .insurer,
                sinceCheckpoint: String? = nil, tool: String = "ledger") {
        self.matters = matters
        self.from = from
        self.to = to
        self.profile = profile
        self.sinceCheckpoint = sinceCheckpoint
        self.tool = tool
    }
}

/// What an export wrote.
public struct ExportSummary: Sendable {
    public let path: String
    public let entries: Int
    public let revealedFields: Int
    public let redactedFields: Int
    public let treeSize: UInt64
    public let root: String
    public let bytes: Int
    public let files: [String]
    /// Record entries of destroyed matters in retention.jsonl (leaf and proof only: their contents are gone).
    public var destroyedEntries = 0
}

/// One selected entry, reduced to what may leave the firm: never a redacted value.
struct BundleEntry {
    let seq: UInt64
    let leaf: [UInt8]
    var proof: [Hash]
    /// Revealed disclosures (leaf order): name, exact disclosure string, parsed value.
    var revealed: [(name: String, disclosure: String, value: JSONValue)]
    /// Withheld fields (leaf order): name, reason, disclosure digest.
    var redacted: [(name: String, reason: RedactionReason, digest: Hash)]

    func revealedValue(_ name: String) -> JSONValue? { revealed.first { $0.name == name }?.value }
    func isRedacted(_ name: String) -> Bool { redacted.contains { $0.name == name } }

    /// A metadata column for the privilege log and report: the revealed text, "[redacted]", or "" when absent.
    func column(_ name: String) -> String {
        if isRedacted(name) { return BundleFormat.redactedMarker }
        switch revealedValue(name) {
        case .string(let s)?: return s
        case .integer(let i)?: return String(i)
        case .bool(let b)?: return b ? "true" : "false"
        case let value?: return JSONWriter.string(value)
        case nil: return ""
        }
    }
}

extension Ledger {
    /// Writes an export bundle (zip) to `path`: the selected entries with the profile's fields revealed, every other
    /// field redacted with its reason and disclosure digest, inclusion proofs against a freshly signed checkpoint,
    /// a privilege log, a report and a README. Refuses to overwrite `path`.
    public func export(_ options: ExportOptions, to path: String) throws -> ExportSummary {
        guard !options.matters.isEmpty else { throw ExportError.noMatter }
        guard !FileManager.default.fileExists(atPath: path) else { throw ExportError.outputExists(path) }
        var timer = PhaseTimer(logger: Self.logger)
        defer { Self.logger.debug("export", metadata: ["phases": "\(timer)"]) }
        let principal = try requireReader()
        // The access log says who read what: the master key's to give away, as `ledger access log` is.
        if options.includeAccessLog { _ = try requireKeys() }
        // Signed now and stored once the bundle is written (a failed export leaves no trace); a reader, who cannot
        // sign, proves against the newest stored checkpoint, and entries after it are left out.
        let signs = canSign
        let fresh = signs && !options.provesAgainstStoredCheckpoint
        let (note, size, root) = try fresh ? signTreeHead() : newestStoredHead()
        timer.lap("sign")
        let selection = try selectEntries(options, principal: principal, size: size, root: root)
        let entries = selection.entries
        // A destroyed matter's bundle may hold no readable entry: its record leaves are in retention.jsonl.
        guard !entries.isEmpty || selection.retention.contains(where: { !$0.isEvent }) else {
            throw ExportError.emptySelection
        }
        timer.lap("select")

        let context = BundleWriter.Context(origin: origin, size: size, root: root, options: options,
                                           createdAt: Clock.nowMicros(),
                                           entries: entries, accessLog: selection.accessLog,
                                           retention: selection.retention.isEmpty ? nil : selection.retention,
                                           destroyed: selection.destroyed)
        // Bundle v2: the manifest is signed with the checkpoint's key. A reader cannot sign: its bundle is v1.
        let members = try BundleWriter.members(context, note: note, verifierKey: storedVerifierKey,
                                               consistency: selection.consistency,
                                               signManifest: signs ? { try self.signManifest(json: $0) } : nil)
        timer.lap("render")
        // Recorded before the file exists: a crash in between leaves a recorded export without a bundle, never a
        // bundle without its record (the record names the bundle by its manifest, known before it is written).
        try recordExport(options, principal: principal, members: members,
                         entries: entries.count + selection.retention.filter { !$0.isEvent }.count, treeSize: size)
        let bytes: Int
        do { bytes = try BundleWriter.writeZip(members, to: path, seal: options.seal) } catch {
            throw LedgerError.io(path: path, detail: "the export was recorded in the ledger but its bundle could not "
                                 + "be written (\(error)); export again")
        }
        timer.lap("write")
        if fresh {
            do { try storeCheckpoint(note, size: size) } catch {
                Self.logger.warning("the bundle is written and recorded, but its checkpoint was not stored: \(error)")
            }
        }
        timer.lap("store")
        let redacted = entries.reduce(0) { $0 + $1.redacted.count }
        let revealed = entries.reduce(0) { $0 + $1.revealed.count }
        var summary = ExportSummary(path: path, entries: entries.count, revealedFields: revealed,
                                    redactedFields: redacted, treeSize: size, root: root.base64, bytes: bytes,
                                    files: members.map(\.name))
        summary.destroyedEntries = selection.retention.filter { !$0.isEvent }.count
        return summary
    }

    /// Throws what `export` would throw before reading anything for lack of a checkpoint: run before recording the
    /// access, so that a refused export leaves no access entry.
    public func checkCanExport(witnessed: Bool = false) throws {
        _ = try requireReader()
        if !canSign || witnessed { _ = try newestStoredHead() }
    }

    /// What an export selected (`selectEntries`).
    struct ExportSelection {
        var entries: [BundleEntry]
        var accessLog: [BundleAccessEntry]?
        /// retention.jsonl's lines; empty when the bundle has none.
        var retention: [BundleRetentionLine]
        /// The exported matters that were destroyed, in the order named.
        var destroyed: [BundleDestroyedMatter]
        var consistency: (note: String, proof: [Hash])?
    }

    /// The selected entries (seq order, with inclusion proofs against `size`), the retention lines, the access entries
    /// when asked for and, with --since-checkpoint, the consistency proof. Entries are copied out of the transaction,
    /// then decrypted and split on every core. A destroyed matter is never decrypted: its entries' leaves go to
    /// retention.jsonl instead.
    private func selectEntries(_ options: ExportOptions, principal: Principal, size: UInt64,
                               root: Hash) throws -> ExportSelection {
        let filter = EntryFilter(matter: nil, from: options.from, to: options.to)
        let wanted = Set(options.matters)
        let eventsIndex = try LedgerError.wrap("export") { try store.events() }  // opened outside the transaction
        return try LedgerError.wrap("export") {
            try store.environment.read { txn in
                let events = try exportedEvents(below: size, index: eventsIndex, txn: txn)
                let destroyed = destroyedMatters(options.matters, principal: principal, events: events)
                let live = options.matters.filter { matter in !destroyed.values.contains { $0.matter == matter } }
                let seqs = try selectedSeqs(live, principal: principal, size: size, txn: txn)
                let sealed = try seqs.compactMap { try sealedEntry($0, principal: principal, txn: txn) }
                let opened = try parallelMap(sealed, minimumChunk: 64) {
                    try self.openForExport($0, profile: options.profile, wanted: wanted, filter: filter)
                }
                var entries = [BundleEntry]()
                entries.reserveCapacity(opened.count)
                let reader = CachingHashReader(TreeHashReader(transaction: txn, store: store))
                for case var entry? in opened {
                    entry.proof = try proveRecord(treeSize: Int64(size), index: Int64(entry.seq), reader: reader)
                    entries.append(entry)
                }
                let entryTags = try exportedMatterTags(entries)
                let retention = try selectRetentionLines(events: events, destroyed: destroyed, entryTags: entryTags,
                                                         size: size, reader: reader, txn: txn)
                let accessLog = options.includeAccessLog
                    ? try selectAccessEntries(for: entryTags.union(destroyed.keys), size: size, reader: reader,
                                              txn: txn) : nil
                let consistency = try options.sinceCheckpoint.map {
                    try consistencyProof(from: $0, to: size, root: root, reader: reader)
                }
                let named = options.matters.compactMap { m in destroyed.values.first { $0.matter == m } }
                return ExportSelection(entries: entries, accessLog: accessLog, retention: retention,
                                       destroyed: named, consistency: consistency)
            }
        }
    }

    /// The seqs below `size` of the named (live) matters, ascending, each matter's permission checked first.
    private func selectedSeqs(_ matters: [String], principal: Principal, size: UInt64,
                              txn: ReadTransaction) throws -> [UInt64] {
        var seqs = Set<UInt64>()
        for matter in matters {
            do {
                for seq in try self.seqs(matter: matter, principal: principal, txn: txn) where seq < size {
                    seqs.insert(seq)
                }
            } catch LedgerError.unknownMatter {
                throw ExportError.unknownMatter(matter)
            }
        }
        return seqs.sorted()
    }

    /// Decrypts one entry, checks it against its leaf (as `decryptEntry` does) and splits its fields by the profile:
    /// revealed fields keep their disclosure and value, withheld ones only their digest. nil when the time range
    /// excludes it. The proof is filled in by the caller.
    func openForExport(_ sealed: SealedEntry, profile: ExportProfile, wanted: Set<String>,
                       filter: EntryFilter) throws -> BundleEntry? {
        let seq = sealed.seq, names = sealed.leaf.fieldNames
        let payload = try sealed.ciphertext.withUnsafeBytes {
            try openPayload(seq: seq, leaf: sealed.leaf, ciphertext: $0, key: sealed.key)
        }
        let values = try parsedValues(payload, names: names, seq: seq)
        func value(_ field: String) -> JSONValue? { names.firstIndex(of: field).map { values[$0] } }
        var entry = BundleEntry(seq: seq, leaf: sealed.rawLeaf, proof: [], revealed: [], redacted: [])
        var fields = Leaf.FieldsHasher()
        let salts = SaltDeriver(seed: payload.seed, count: names.count)
        let digester = DisclosureDigester()
        let privileged = value("privileged")?.boolValue == true
        for (index, name) in names.enumerated() {
            let raw = payload.values[index]
            switch profile.decide(name, privileged: privileged) {
            case .reveal:
                var disclosure = Disclosure(salt: salts.withSalt(index: index) { Array($0) },
                                            name: name, value: raw).encoded
                // RFC 9901 §4.2.3
                fields.add(name: name, digest: disclosure.withUTF8 { Hash.sha256(UnsafeRawBufferPointer($0)) })
                entry.revealed.append((name, disclosure, values[index]))
            case .redact(let reason):
                let digest = salts.withSalt(index: index) { salt in
                    raw.withUnsafeBytes { digester.digest(salt: salt, name: name, value: $0) }
                }
                fields.add(name: name, digest: digest)
                entry.redacted.append((name, reason, digest))
            }
        }
        guard fields.finalize() == sealed.leaf.fieldsDigest else {
            throw LedgerError.corrupt("entry \(seq): the decrypted fields do not match the leaf's fields digest")
        }
        guard case .string(let matter)? = value("matter"), wanted.contains(matter) else {
            throw LedgerError.corrupt("the matter index lists entry \(seq) under a matter it does not belong to")
        }
        return filter.admits(occurredAt: value("occurredAt")) ? entry : nil
    }

    /// Every value of a decrypted payload, parsed (leaf order). A value that is not JSON is corruption.
    private func parsedValues(_ payload: EntryPayload, names: [String], seq: UInt64) throws -> [JSONValue] {
        var values = [JSONValue]()
        values.reserveCapacity(names.count)
        for (name, value) in zip(names, payload.values) {
            do { values.append(try JSONParser.parse(value)) } catch {
                throw LedgerError.corrupt("entry \(seq): field '\(name)' is not valid JSON")
            }
        }
        return values
    }

    /// Checks an older checkpoint against this ledger and proves the current tree extends it.
    private func consistencyProof(from note: String, to size: UInt64, root: Hash,
                                  reader: any HashReader) throws -> (note: String, proof: [Hash]) {
        let old: (size: UInt64, root: Hash)
        do {
            old = try openCheckpoint(note, key: try NoteVerifierKey(text: storedVerifierKey))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw ExportError.olderCheckpointInvalid("\(error)")
        }
        guard old.size <= size else {
            throw LedgerError.corrupt("the older checkpoint names \(old.size) entries but the ledger has \(size): "
                                      + "it was truncated or rolled back")
        }
        let ours = try treeHash(size: Int64(old.size), reader: reader)
        guard ours == old.root else {
            throw LedgerError.corrupt("the ledger's tree at size \(old.size) differs from the older checkpoint's root: "
                                      + "history was rewritten")
        }
        let proof = old.size >= 1 && old.size < size
            ? try proveTree(newSize: Int64(size), oldSize: Int64(old.size), reader: reader) : []
        _ = root
        return (note, proof)
    }
}

extension Ledger {
    /// A profile name as an export entry records it: 1 to 64 bytes without control characters ("custom" otherwise).
    static func recordedProfileName(_ name: String) -> String {
        (1...64).contains(name.utf8.count) && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
            ? name : "custom"
    }

    /// Appends the export's entry (docs/EXPORT.md, "Every export is recorded"): who, which matters, the manifest's
    /// digest, the recipient's key fingerprint, the size of the bundle and of the tree its proofs are against.
    func recordExport(_ options: ExportOptions, principal: Principal, members: [ZipMember], entries: Int,
                      treeSize: UInt64) throws {
        // v2: the signed manifest.note; a reader's export (no signing key) is v1 with manifest.json.
        guard let manifest = members.first(where: { $0.name == BundleFormat.manifestNote })
                ?? members.first(where: { $0.name == BundleFormat.manifest }) else {
            throw LedgerError.corrupt("the bundle has no manifest to record")
        }
        let tags = Set(options.matters.compactMap { principal.matterTag($0) }).sorted { $0.hex < $1.hex }
        let export = AccessEvent.Export(credential: principal.name, matters: tags, manifest: manifest.sha256.hex,
                                        recipient: options.recipientFingerprint, entries: UInt64(entries),
                                        treeSize: treeSize, profile: Self.recordedProfileName(options.profile.name))
        try commitEvents(operation: "record the export") { _ in [.export(export)] }
    }
}
