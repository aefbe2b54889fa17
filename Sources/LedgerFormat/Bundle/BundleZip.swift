import Dispatch
import Foundation
import MerkleLog
import ZIPFoundation

/// CRC-32 as zip uses it (ISO-HDLC: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF),
/// slicing-by-8: eight table lookups per eight input bytes. ZIPFoundation's Linux fallback reads one byte per
/// lookup, which made the CRC a tenth of `verify-bundle`.
package enum CRC32 {
    /// tables[k][b]: the CRC contribution of byte b followed by k zero bytes.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xff)]
            }
        }
        return t
    }()

    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        guard let base = bytes.baseAddress else { return crc }
        let count = bytes.count
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= count {
                let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
                let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                c = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int(lo >> 8 & 0xff)]
                    ^ t[5 * 256 + Int(lo >> 16 & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int(hi >> 8 & 0xff)]
                    ^ t[1 * 256 + Int(hi >> 16 & 0xff)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < count {
                c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xff)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }

    package static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}

/// One member of a bundle zip, ready to write: compressed (or stored) bytes, CRC-32 and SHA-256 of the content.
package struct ZipMember {
    package let name: String
    package let method: CompressionMethod
    package let crc: UInt32
    package let size: Int
    package let stored: [UInt8]
    /// SHA-256 of the uncompressed bytes (the manifest's digest).
    package let sha256: Hash

    /// Stored members are copied as they are; deflated ones use zlib's default level (ZIPFoundation).
    package static func make(_ name: String, _ bytes: [UInt8], method: CompressionMethod) throws -> ZipMember {
        let sha = Hash.sha256(bytes)
        guard method == .deflate, !bytes.isEmpty else {
            return ZipMember(name: name, method: .none, crc: CRC32.checksum(bytes),
                             size: bytes.count, stored: bytes, sha256: sha)
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count / 4 + 64)
        let data = Data(bytes)
        let chunk = 1 << 20
        // ZIPFoundation computes the CRC-32 while it deflates.
        let crc = try Data.compress(size: Int64(data.count), bufferSize: chunk, provider: { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }, consumer: { out.append(contentsOf: $0) })
        return ZipMember(name: name, method: .deflate, crc: crc, size: bytes.count, stored: out, sha256: sha)
    }
}

/// Writes a zip archive (APPNOTE 6.3: local headers and data, central directory, end record). No ZIP64: a bundle
/// is at most 512 MiB by its format. Names are ASCII; Unix mode 0644 regular files.
package enum ZipWriter {
    /// Hands the archive to `sink` in pieces: each header, each member's bytes as they are, the directory.
    package static func write(_ members: [ZipMember], date: Date, to sink: ([UInt8]) throws -> Void) throws {
        let (dosTime, dosDate) = dosDateTime(date)
        var offset = 0
        var offsets = [Int]()
        for m in members {
            offsets.append(offset)
            var header = [UInt8]()
            header.u32(0x0403_4b50)                    // local file header
            header.u16(20); header.u16(0); header.u16(m.method.rawValue); header.u16(dosTime); header.u16(dosDate)
            header.u32(m.crc); header.u32(UInt32(m.stored.count)); header.u32(UInt32(m.size))
            header.u16(UInt16(m.name.utf8.count)); header.u16(0)
            header.append(contentsOf: m.name.utf8)
            try sink(header)
            try sink(m.stored)
            offset += header.count + m.stored.count
        }
        var out = [UInt8]()
        for (m, memberOffset) in zip(members, offsets) {
            out.u32(0x0201_4b50)                       // central directory header
            out.u16(3 << 8 | 20); out.u16(20); out.u16(0); out.u16(m.method.rawValue)
            out.u16(dosTime); out.u16(dosDate)
            out.u32(m.crc); out.u32(UInt32(m.stored.count)); out.u32(UInt32(m.size))
            out.u16(UInt16(m.name.utf8.count)); out.u16(0); out.u16(0); out.u16(0); out.u16(0)
            out.u32(UInt32(0o100644) << 16); out.u32(UInt32(memberOffset))
            out.append(contentsOf: m.name.utf8)
        }
        let directorySize = out.count
        out.u32(0x0605_4b50)                           // end of central directory
        out.u16(0); out.u16(0); out.u16(UInt16(members.count)); out.u16(UInt16(members.count))
        out.u32(UInt32(directorySize)); out.u32(UInt32(offset)); out.u16(0)
        try sink(out)
    }

    /// MS-DOS time and date fields (2-second resolution, local time as zip tools expect).
    package static func dosDateTime(_ date: Date) -> (time: UInt16, date: UInt16) {
        let c = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = min(max((c.year ?? 1980) - 1980, 0), 127)
        let time = (c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2
        return (UInt16(time), UInt16(year << 9 | (c.month ?? 1) << 5 | (c.day ?? 1)))
    }
}

private extension Array where Element == UInt8 {
    mutating func u16(_ v: UInt16) { append(UInt8(v & 0xff)); append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { u16(UInt16(v & 0xffff)); u16(UInt16(v >> 16)) }
}
