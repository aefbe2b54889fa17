import LMDB
import LedgerFormat
import LedgerReport
import MerkleLog

/// What a decrypting command is about to read: one entry, some matters, or everything the principal may read.
public struct ReadScope: Sendable {
    public var command: String
    public var matters: [String]
    public var seq: UInt64?
    public var reason: String?

    public init(command: String, matters: [String] = [], seq: UInt64? = nil, reason: String? = nil) {
        self.command = command
        self.matters = matters
        self.seq = seq
        self.reason = reason
    }
}

/// One access entry with its matters named where the reader of the log can name them.
public struct AccessLogEntry: Sendable {
    public let seq: UInt64
    public let recordedAt: Int64
    public let access: AccessEvent.Access
    /// Matter numbers of `access.matters` (the tag's hex where the matter has no key pair to name it).
    public let matterNames: [String]
}

/// Who could read a matter at a time.
public struct GrantHolder: Sendable {
    public let credential: String
    public let role: AccessRole
    public let matters: [String]
}

extension Ledger {
    /// Records, durably and in its own transaction, that the principal is about to read `scope` (docs/ACCESS.md):
    /// the caller prints nothing until this returns. A reader asking for a matter or entry outside its grant is
    /// refused here, with a message that reveals nothing of it. Returns the access entry's seq (nil when the read
    /// will fail without reading: the master key asking for an entry that does not exist, a matter without entries).
    @discardableResult
    public func recordAccess(_ scope: ReadScope) throws -> UInt64? {
        let principal = try requireReader()
        if let reason = scope.reason, reason.utf8.count > AccessEvent.maxReasonBytes || reason.isEmpty {
            throw LedgerError.invalidArgument("--reason must be 1 to \(AccessEvent.maxReasonBytes) bytes")
        }
        guard let (tags, range, all) = try readTarget(scope, principal: principal) else { return nil }
        let access = AccessEvent.Access(credential: principal.name, command: scope.command,
                                        matters: tags.sorted { $0.hex < $1.hex }, allMatters: all,
                                        seqRange: range, reason: scope.reason)
        return try commitEvents(operation: "record access") { _ in [.access(access)] }
    }

    /// The matter tags and seq range a read touches; nil when the read will fail without reading anything (an entry
    /// that does not exist, asked for with the master key; a named matter without entries).
    private func readTarget(_ scope: ReadScope,
                            principal: Principal) throws -> (Set<Hash>, ClosedRange<UInt64>?, Bool)? {
        try LedgerError.wrap("plan the read") {
            try store.environment.read { txn -> (Set<Hash>, ClosedRange<UInt64>?, Bool)? in
                if let seq = scope.seq {
                    guard let tag = try recordTag(seq, txn: txn), principal.mayRead(tag: tag) else {
                        if principal.isMaster { return nil }
                        throw LedgerError.notPermitted(Self.notReadable)
                    }
                    return ([tag], seq...seq, false)
                }
                if principal.isMaster && scope.matters.isEmpty {
                    let size = try txn.entryCount(store)
                    return ([], size == 0 ? nil : 0...(size - 1), true)
                }
                var tags = scope.matters.isEmpty ? principal.matters ?? [] : Set<Hash>()
                for matter in scope.matters {
                    guard let tag = principal.matterTag(matter), principal.mayRead(tag: tag) else {
                        throw LedgerError.notPermitted(Self.notReadable)
                    }
                    tags.insert(tag)
                }
                var touched = [UInt64]()
                for tag in tags {
                    let seqs = try self.seqs(tag: tag, txn: txn)
                    if seqs.isEmpty && !scope.matters.isEmpty { return nil }  // the read fails: nothing is read
                    touched += seqs
                }
                return (tags, touched.min().map { $0...touched.max()! }, false)
            }
        }
    }

    /// The access entries, filtered (master key only: the log says who read what).
    public func accessLog(matter: String? = nil, who: String? = nil, from: Int64? = nil,
                          to: Int64? = nil) throws -> [AccessLogEntry] {
        let ring = try requireKeys()
        let tag = matter.map(ring.matterTag)
        let names = try matterNames()
        return try events().compactMap { entry in
            guard case .access(let access) = entry.event else { return nil }
            if let who, access.credential != who { return nil }
            if let tag, !(access.allMatters || access.matters.contains(tag)) { return nil }
            if let from, entry.recordedAt < from { return nil }
            if let to, entry.recordedAt > to { return nil }
            return AccessLogEntry(seq: entry.seq, recordedAt: entry.recordedAt, access: access,
                                  matterNames: access.matters.map { names[$0] ?? $0.hex })
        }
    }

    /// Who could read (readers, and the master key) at time `at` (default now), optionally only matter `matter`.
    public func grantHolders(matter: String? = nil, at: Int64? = nil) throws -> [GrantHolder] {
        let ring = try requireKeys()
        var state = AccessState()
        for entry in try events() where at.map({ entry.recordedAt <= $0 }) ?? true { _ = state.apply(entry.event, seq: entry.seq) }
        let names = try matterNames()
        let tag = matter.map(ring.matterTag)
        return state.grants.values.sorted { $0.credential < $1.credential }.compactMap { grant in
            if let tag, !(grant.role == .reader && grant.matters.contains(tag)) { return nil }
            return GrantHolder(credential: grant.credential, role: grant.role,
                               matters: grant.matters.map { names[$0] ?? $0.hex }.sorted())
        }
    }

    /// The report's access section: reads per credential per matter (optionally one matter's), and every read the
    /// grants in force did not cover (master key only).
    public func accessReport(matter: String? = nil) throws -> AccessReport {
        let ring = try requireKeys()
        let tag = matter.map(ring.matterTag)
        let names = try matterNames()
        var state = AccessState()
        var reads = [String: [String: (count: Int, last: Int64)]]()
        var flagged = [AccessReport.Flagged]()
        for entry in try events() {
            let problem = state.apply(entry.event, seq: entry.seq)
            guard case .access(let access) = entry.event else { continue }
            if let tag, !(access.allMatters || access.matters.contains(tag)) { continue }
            if let problem {
                flagged.append(AccessReport.Flagged(seq: entry.seq, credential: access.credential, at: entry.recordedAt,
                                                    detail: problem))
            }
            let matters = access.allMatters ? ["(all)"] : access.matters.filter { tag == nil || $0 == tag }
                .map { names[$0] ?? $0.hex }
            for name in matters {
                let prior = reads[access.credential, default: [:]][name]
                reads[access.credential, default: [:]][name] = ((prior?.count ?? 0) + 1, entry.recordedAt)
            }
        }
        let rows = reads.flatMap { who, byMatter in
            byMatter.map { AccessReport.Reads(credential: who, matter: $0.key, count: $0.value.count, lastAt: $0.value.last) }
        }.sorted { ($0.credential, $0.matter) < ($1.credential, $1.matter) }
        return AccessReport(reads: rows, flagged: flagged)
    }

    /// Whether the master key unlocked this ledger (not a credential).
    public var isUnlockedWithMasterKey: Bool { session.withLock { $0.principal?.isMaster ?? false } }

    /// Matter numbers by tag, from the key pairs the master key opens (matters without one stay unnamed).
    func matterNames() throws -> [Hash: String] {
        let ring = try requireKeys()
        return try LedgerError.wrap("name matters") {
            try store.environment.read { txn in
                var names = [Hash: String]()
                let cursor = try txn.cursor(store.keys)
                defer { cursor.close() }
                var row = try cursor.first()
                while let current = row {
                    row = try cursor.next()
                    guard let id = UInt32(bigEndianBytes: current.key),
                          case .keyPair(let pair)? = try? KeyRecord.decode(current.value, id: id), names[pair.tag] == nil,
                          let secret = try? pair.sealedSecret.withUnsafeBytes({ try MatterSecret.open($0, with: ring.box) })
                    else { continue }
                    names[pair.tag] = secret.matter
                }
                return names
            }
        }
    }
}
