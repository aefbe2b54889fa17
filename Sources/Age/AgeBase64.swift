/// The base64 of age headers: standard alphabet, no padding, canonical only (unused bits zero).
/// Header fields are public (shares, wrapped keys, the MAC), so a plain table is fine here.
enum AgeBase64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var group = 0
            for j in 0..<3 { group = group << 8 | (j < n ? Int(bytes[i + j]) : 0) }
            for j in 0..<(n + 1) { out.append(alphabet[(group >> (18 - 6 * j)) & 63]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil for any character outside the alphabet, padding, a length of 1 mod 4, or nonzero unused bits.
    static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        let chars = Array(text)
        guard chars.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        var acc = 0, bits = 0
        for c in chars {
            let v = reverse[Int(c)]
            guard v >= 0 else { return nil }
            acc = (acc << 6 | Int(v)) & 0xffff
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> bits) & 0xff))
            }
        }
        guard acc & ((1 << bits) - 1) == 0 else { return nil }
        return out
    }
}
