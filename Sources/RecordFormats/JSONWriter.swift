// Canonical JSON output: the one byte sequence for a value.
//
// Object keys sorted by their UTF-8 bytes, no whitespace, integers in decimal
// (no `+`, no leading zeros, `0` not `-0`), strings with only the required
// escapes: `\"`, `\\`, and control characters as `\b \f \n \r \t` or `\u00xx`
// (lowercase hex). Everything else, including DEL, non-ASCII and U+2028/U+2029,
// is written as raw UTF-8.

public enum JSONWriter {
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null: appendASCII("null", to: &output)
        case .bool(let b): appendASCII(b ? "true" : "false", to: &output)
        case .integer(let i): writeInteger(i, into: &output)
        case .string(let s): writeString(s, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            var first = true
            for e in elements {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                write(e, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            writeObject(object, into: &output)
        }
    }

    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: serialize(value), as: UTF8.self)
    }

    /// Writes `s` quoted and escaped as above, for building JSON by hand.
    public static func writeString(_ s: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { buf in
            var runStart = 0
            var i = 0
            let n = buf.count
            while i < n {
                let c = buf[i]
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                    i += 1
                    continue
                }
                if i > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<i])) }
                output.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
                case 0x08: output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "f"))
                case 0x0A: output.append(UInt8(ascii: "n"))
                case 0x0D: output.append(UInt8(ascii: "r"))
                case 0x09: output.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    output.append(UInt8(ascii: "u"))
                    output.append(UInt8(ascii: "0"))
                    output.append(UInt8(ascii: "0"))
                    output.append(hex.utf8Start[Int(c >> 4)])
                    output.append(hex.utf8Start[Int(c & 0xF)])
                }
                i += 1
                runStart = i
            }
            if n > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<n])) }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Writes `i` in canonical decimal.
    public static func writeInteger(_ i: Int64, into output: inout [UInt8]) {
        if i < 0 { output.append(UInt8(ascii: "-")) }
        var m = i.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var k = 20
            repeat {
                k -= 1
                buf[k] = 0x30 + UInt8(truncatingIfNeeded: m % 10)
                m /= 10
            } while m != 0
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buf[k..<20]))
        }
    }

    /// Whether `a` sorts before `b` in canonical order (by UTF-8 bytes).
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let n = min(pa.count, pb.count)
                if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                    for k in 0..<n where x[k] != y[k] { return x[k] < y[k] }
                }
                return pa.count < pb.count
            }
        }
    }

    static func writeObject(_ object: JSONObject, into output: inout [UInt8]) {
        let members = object._members
        output.append(UInt8(ascii: "{"))
        var sorted = true
        if members.count > 1 {
            for k in 1..<members.count where !keyPrecedes(members[k - 1].key, members[k].key) {
                sorted = false
                break
            }
        }
        if sorted {
            for k in members.indices {
                if k > 0 { output.append(UInt8(ascii: ",")) }
                writeString(members[k].key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(members[k].value, into: &output)
            }
        } else {
            let order = members.indices.sorted { keyPrecedes(members[$0].key, members[$1].key) }
            var first = true
            for k in order {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                writeString(members[k].key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(members[k].value, into: &output)
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    @inline(__always)
    static func appendASCII(_ s: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
