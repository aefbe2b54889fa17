/// Several consecutive stored entries in one value of the `entries` database (storage format 3, docs/FORMAT.md,
/// "Storage format 3: entry groups"), keyed by the seq of its first entry:
///
///     u8        group version (1)
///     u16 BE    count n (at least 1)
///     u32 BE    × n: the length of each stored entry, in seq order
///     bytes     the n stored entries (each exactly "Stored entry v1"), concatenated: nothing before, between or after
///
/// The stored entries themselves, their leaves, ciphertexts and hashes are those of every format. A group only
/// changes how LMDB packs them: one value of tens of KiB fills whole overflow pages, where values of ~1.2 KiB each
/// left about an eighth of every 4 KiB leaf page empty.
package enum EntryGroup {
    package static let version: UInt8 = 1
    /// Version byte and count.
    package static let fixedHeaderByteCount = 3
    package static let lengthByteCount = 4
    /// The most entries a header can count.
    package static let maxCount = Int(UInt16.max)

    /// Why a value is not a well-formed group: every way its header and its length can disagree.
    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unknownVersion(UInt8)
        case empty
        case truncatedHeader(count: Int, bytes: Int)
        case truncatedEntries(expected: Int, found: Int)
        case trailingBytes(expected: Int, found: Int)

        package var description: String {
            switch self {
            case .unknownVersion(let v): return "the group version is \(v), not \(EntryGroup.version)"
            case .empty: return "the group counts 0 entries"
            case .truncatedHeader(let count, let bytes):
                return "the group counts \(count) entries but its \(bytes) bytes cannot hold their lengths"
            case .truncatedEntries(let expected, let found):
                return "the group's lengths add up to \(expected) bytes of entries but it holds \(found)"
            case .trailingBytes(let expected, let found):
                return "the group's lengths add up to \(expected) bytes of entries but it holds \(found) "
                    + "(\(found - expected) trailing)"
            }
        }
    }

    package static func headerByteCount(count: Int) -> Int { fixedHeaderByteCount + lengthByteCount * count }

    /// The group's entries, as views into `value` (valid as long as it is), after checking the header strictly:
    /// known version, at least one entry, the lengths inside the value and adding up to exactly the rest of it.
    package static func split(_ value: UnsafeRawBufferPointer) throws(Failure) -> [UnsafeRawBufferPointer] {
        let count = try entryCount(value)
        var entries = [UnsafeRawBufferPointer]()
        entries.reserveCapacity(count)
        var offset = headerByteCount(count: count)
        for index in 0..<count {
            let length = self.length(value, index)
            entries.append(UnsafeRawBufferPointer(rebasing: value[offset..<(offset + length)]))
            offset += length
        }
        return entries
    }

    /// The number of entries, after checking the header as `split` does (without making views).
    package static func entryCount(_ value: UnsafeRawBufferPointer) throws(Failure) -> Int {
        guard value.count >= fixedHeaderByteCount else {
            if value.isEmpty { throw .truncatedHeader(count: 0, bytes: 0) }
            guard value[0] == version else { throw .unknownVersion(value[0]) }
            throw .truncatedHeader(count: 0, bytes: value.count)
        }
        guard value[0] == version else { throw .unknownVersion(value[0]) }
        let count = Int(value[1]) << 8 | Int(value[2])
        guard count > 0 else { throw .empty }
        let header = headerByteCount(count: count)
        guard value.count >= header else { throw .truncatedHeader(count: count, bytes: value.count) }
        var total = 0  // at most 65,535 × (2^32 − 1): no overflow in Int
        for index in 0..<count { total += length(value, index) }
        let available = value.count - header
        if total > available { throw .truncatedEntries(expected: total, found: available) }
        if total < available { throw .trailingBytes(expected: total, found: available) }
        return count
    }

    /// Entry `index` of the group, after checking the header as `split` does; nil when the group has fewer entries.
    package static func entry(_ index: Int, of value: UnsafeRawBufferPointer) throws(Failure) -> UnsafeRawBufferPointer? {
        let count = try entryCount(value)
        guard index >= 0, index < count else { return nil }
        var offset = headerByteCount(count: count)
        for earlier in 0..<index { offset += length(value, earlier) }
        return UnsafeRawBufferPointer(rebasing: value[offset..<(offset + length(value, index))])
    }

    /// Writes the header of a group of entries with `lengths` into the first `headerByteCount` bytes of `out`.
    package static func writeHeader(lengths: [UInt32], into out: UnsafeMutableRawBufferPointer) {
        precondition(!lengths.isEmpty && lengths.count <= maxCount && out.count >= headerByteCount(count: lengths.count))
        out[0] = version
        out[1] = UInt8(lengths.count >> 8)
        out[2] = UInt8(lengths.count & 0xff)
        for (index, length) in lengths.enumerated() {
            let at = fixedHeaderByteCount + lengthByteCount * index
            out[at] = UInt8(length >> 24)
            out[at + 1] = UInt8(length >> 16 & 0xff)
            out[at + 2] = UInt8(length >> 8 & 0xff)
            out[at + 3] = UInt8(length & 0xff)
        }
    }

    /// A whole group of `entries` (tests, tools; the engine writes groups in place).
    package static func encode(_ entries: [[UInt8]]) -> [UInt8] {
        let lengths = entries.map { UInt32($0.count) }
        let header = headerByteCount(count: entries.count)
        var bytes = [UInt8](repeating: 0, count: header)
        bytes.withUnsafeMutableBytes { writeHeader(lengths: lengths, into: $0) }
        for entry in entries { bytes += entry }
        return bytes
    }

    /// Entry `index`'s length from the header (the caller checked that the header holds it).
    @inline(__always)
    private static func length(_ value: UnsafeRawBufferPointer, _ index: Int) -> Int {
        let at = fixedHeaderByteCount + lengthByteCount * index
        return Int(value[at]) << 24 | Int(value[at + 1]) << 16 | Int(value[at + 2]) << 8 | Int(value[at + 3])
    }
}
