/// Big-endian, length-checked byte encoding used by every stored format (see docs/FORMAT.md).

/// Appends big-endian integers and raw bytes to a growing buffer.
package struct ByteWriter {
    package var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func u16(_ v: UInt16) { bigEndian(v) }
    package mutating func u32(_ v: UInt32) { bigEndian(v) }
    package mutating func u64(_ v: UInt64) { bigEndian(v) }

    package mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    package mutating func raw(_ v: UnsafeRawBufferPointer) { bytes.append(contentsOf: v) }

    /// Unsigned LEB128, as used for value lengths inside the encrypted payload.
    package mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        bytes.append(UInt8(x))
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what ByteWriter wrote, refusing to read past the end.
package struct ByteReader {
    package enum Failure: Error, Equatable {
        case truncated(at: Int, needed: Int)
        case badVarint(at: Int)
    }

    private let base: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    package init(_ base: UnsafeRawBufferPointer) { self.base = base }

    package var remaining: Int { base.count - offset }
    package var isAtEnd: Bool { offset == base.count }

    package mutating func u8() throws -> UInt8 { try take(1).load(as: UInt8.self) }
    package mutating func u16() throws -> UInt16 { try bigEndian(UInt16.self) }
    package mutating func u32() throws -> UInt32 { try bigEndian(UInt32.self) }
    package mutating func u64() throws -> UInt64 { try bigEndian(UInt64.self) }

    /// Returns a view of the next `count` bytes (valid as long as the underlying buffer is).
    package mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw Failure.truncated(at: offset, needed: count) }
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<offset + count])
        offset += count
        return slice
    }

    package mutating func bytes(_ count: Int) throws -> [UInt8] { Array(try take(count)) }

    package mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            let byte = try u8()
            // Canonical LEB128 only: at most 10 bytes, no redundant trailing zero group.
            guard shift < 64, !(byte == 0 && shift > 0) else { throw Failure.badVarint(at: start) }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let raw = try take(MemoryLayout<T>.size)
        var v: T = 0
        for b in raw { v = (v << 8) | T(b) }
        return v
    }
}

extension UInt64 {
    /// The 8-byte big-endian key used for sequence numbers and stored-hash indexes,
    /// so LMDB's byte order is numeric order.
    package var bigEndianBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian) { Array($0) } }

    package init?(bigEndianBytes raw: UnsafeRawBufferPointer) {
        guard raw.count == 8 else { return nil }
        self = UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))  // one load: read per row by verify's scan
    }
}

extension UInt32 {
    package var bigEndianBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian) { Array($0) } }

    package init?(bigEndianBytes raw: UnsafeRawBufferPointer) {
        guard raw.count == 4 else { return nil }
        var v: UInt32 = 0
        for b in raw { v = (v << 8) | UInt32(b) }
        self = v
    }
}

package enum Hex {
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// Writes big-endian integers and bytes into a buffer of known size, advancing `offset` (bounds-checked).
package struct RawWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    package private(set) var offset = 0

    package init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    package mutating func u8(_ v: UInt8) {
        precondition(offset < buffer.count, "RawWriter overflow")
        buffer[offset] = v
        offset += 1
    }

    package mutating func u16(_ v: UInt16) { bigEndian(v) }
    package mutating func u32(_ v: UInt32) { bigEndian(v) }
    package mutating func u64(_ v: UInt64) { bigEndian(v) }

    package mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        precondition(offset + bytes.count <= buffer.count, "RawWriter overflow")
        if let base = bytes.baseAddress { (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count) }
        offset += bytes.count
    }

    /// Unsigned LEB128 (shortest form), as ByteWriter.varint.
    package mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            u8(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        u8(UInt8(x))
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { raw($0) }
    }
}
