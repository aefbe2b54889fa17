import Foundation
import LedgerFormat
import LedgerSupport
import MerkleLog
import ZIPFoundation

/// Reads a bundle zip defensively: only the known file names, no duplicates, size caps, CRC checked.
package enum BundleReader {
    /// One file of the bundle and the SHA-256 of its bytes.
    package typealias DigestedFile = (bytes: [UInt8], sha256: Hash)

    package static func read(_ path: String) throws -> [String: [UInt8]] {
        try readDigested(path).mapValues(\.bytes)
    }

    /// The files of the bundle with the SHA-256 of each (computed while the CRC-32 is checked).
    package static func readDigested(_ path: String) throws -> [String: DigestedFile] {
        try checkFile(at: path)
        return try readDigested(try openArchive(path))
    }

    /// The files of a bundle held in memory, checked as `readDigested(_:)` checks a file's (the same size cap).
    package static func readDigested(data: Data) throws -> [String: DigestedFile] {
        guard UInt64(data.count) <= BundleFormat.maxTotalBytes else {
            throw BundleError.malformed("the file is over \(BundleFormat.maxTotalBytes >> 20) MiB")
        }
        return try readDigested(try openArchive(spooling: data))
    }

    /// The bytes as an archive read by the file reader. Not ZIPFoundation's in-memory archive
    /// (`Archive(data:accessMode:)`, 0.9.20): a hostile archive whose offsets point past the end of the data traps in
    /// `MemoryFile.readData`, and one without an end of central directory record leaks the data. The bytes are
    /// spooled to a file in /dev/shm (memory; the temporary directory where there is none), removed once open.
    private static func openArchive(spooling data: Data) throws -> Archive {
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = (directory as NSString).appendingPathComponent("ledger-bundle-\(UUID().uuidString).zip")
        guard FileManager.default.createFile(atPath: path, contents: data,
                                             attributes: [.posixPermissions: 0o600]) else {
            throw BundleError.unreadable(path: path, detail: "cannot hold the bundle's bytes there")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try openArchive(path)
    }

    /// The checked, digested members of an open archive: the one reader behind both entry points.
    private static func readDigested(_ archive: Archive) throws -> [String: DigestedFile] {
        let members = try listMembers(of: archive)
        let extracted = try members.map { (member: $0, bytes: try extract($0, from: archive)) }
        return try digest(extracted)
    }

    /// The path names a readable regular file within the total size cap.
    private static func checkFile(at path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw BundleError.notFound(path: path)
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BundleError.unreadable(path: path, detail: "cannot read")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? UInt64, size > BundleFormat.maxTotalBytes {
            throw BundleError.malformed("the file is over \(BundleFormat.maxTotalBytes >> 20) MiB")
        }
    }

    private static func openArchive(_ path: String) throws -> Archive {
        do {
            return try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw BundleError.malformed("not a zip archive (\(error))")
        }
    }

    /// The archive's members, each a known name once, a regular file, within the size caps; all required names there.
    private static func listMembers(of archive: Archive) throws -> [Entry] {
        var members = [Entry]()
        var names = Set<String>()
        var declaredTotal: UInt64 = 0
        var receipts = 0
        for member in archive {
            guard members.count - receipts < 32 else { throw BundleError.malformed("too many files in the archive") }
            if BundleFormat.receiptSeq(name: member.path) != nil {
                receipts += 1
                try checkReceiptMember(member, count: receipts)
            }
            try checkName(member.path, seen: &names)
            guard member.type == .file else { throw BundleError.malformed("'\(member.path)' is not a regular file") }
            guard member.uncompressedSize <= BundleFormat.maxFileBytes else {
                throw BundleError.malformed("'\(member.path)' declares \(member.uncompressedSize) bytes, over the "
                                            + "\(BundleFormat.maxFileBytes >> 20) MiB limit per file")
            }
            declaredTotal += member.uncompressedSize
            guard declaredTotal <= BundleFormat.maxTotalBytes else {
                throw BundleError.malformed("the files declare over \(BundleFormat.maxTotalBytes >> 20) MiB in total")
            }
            members.append(member)
        }
        for name in BundleFormat.required where !names.contains(name) {
            throw BundleError.malformed("missing file '\(name)'")
        }
        return members
    }

    /// A receipt member (`receipts/<seq>.tlog-proof`) within its count and size caps.
    private static func checkReceiptMember(_ member: Entry, count: Int) throws {
        guard count <= BundleFormat.maxReceipts else {
            throw BundleError.malformed("more than \(BundleFormat.maxReceipts) receipts in the archive")
        }
        guard member.uncompressedSize <= BundleFormat.maxReceiptBytes else {
            throw BundleError.malformed("'\(member.path)' declares \(member.uncompressedSize) bytes, over the "
                                        + "\(BundleFormat.maxReceiptBytes >> 10) KiB limit per receipt")
        }
    }

    /// A member name is a bundle file name, plain (no directory, drive or traversal), not seen before; or a receipt,
    /// `receipts/<canonical decimal>.tlog-proof` (the one directory a bundle may have).
    private static func checkName(_ name: String, seen names: inout Set<String>) throws {
        if BundleFormat.receiptSeq(name: name) != nil {
            guard names.insert(name).inserted else { throw BundleError.malformed("duplicate file '\(name)'") }
            return
        }
        if name.hasPrefix("/") || name.hasPrefix("\\") || name.contains("..") || name.contains("/")
            || name.contains("\\") || name.contains(":") {
            throw BundleError.malformed("unsafe file name '\(printable(name))' (absolute path, directory or traversal)")
        }
        guard BundleFormat.allowed.contains(name) else {
            throw BundleError.malformed("unexpected file '\(printable(name))'")
        }
        guard names.insert(name).inserted else { throw BundleError.malformed("duplicate file '\(name)'") }
    }

    /// The member's bytes, exactly as many as it declares.
    private static func extract(_ member: Entry, from archive: Archive) throws -> [UInt8] {
        let declared = member.uncompressedSize
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(declared))
        do {
            // CRC-32 is checked in `digest` with a faster implementation than ZIPFoundation's Linux fallback.
            _ = try archive.extract(member, bufferSize: 1 << 20, skipCRC32: true) { chunk in
                guard UInt64(bytes.count + chunk.count) <= declared else {
                    throw BundleError.malformed("'\(member.path)' holds more bytes than it declares")
                }
                bytes.append(contentsOf: chunk)
            }
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError.malformed("'\(member.path)' cannot be read (\(error))")
        }
        guard UInt64(bytes.count) == declared else {
            throw BundleError.malformed("'\(member.path)' is shorter than it declares")
        }
        return bytes
    }

    /// Checks the CRC-32 of every member and computes its SHA-256. The CRC and the SHA-256 of each file are separate
    /// jobs, largest file first, so both cores stay busy.
    private static func digest(_ extracted: [(member: Entry, bytes: [UInt8])]) throws -> [String: DigestedFile] {
        let extracted = extracted.sorted { $0.bytes.count > $1.bytes.count }
        var jobs = [() -> (crc: UInt32?, sha256: Hash?)]()
        for item in extracted {
            jobs.append { (CRC32.checksum(item.bytes), nil) }
            jobs.append { (nil, Hash.sha256(item.bytes)) }
        }
        let sums = try runConcurrently(jobs)
        var files = [String: DigestedFile]()
        for (i, item) in extracted.enumerated() {
            guard sums[2 * i].crc == item.member.checksum else {
                throw BundleError.malformed("'\(item.member.path)' fails its CRC-32 check")
            }
            files[item.member.path] = (item.bytes, sums[2 * i + 1].sha256!)
        }
        return files
    }

    /// At most 80 characters of `s`, control characters as "?": safe to print from a hostile archive.
    package static func printable(_ s: String) -> String {
        String(s.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }
}
