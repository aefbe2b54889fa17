import XCTest
import RecordFormats

/// SplitMix64: small, fast, seeded; reproducible across platforms.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Asserts that parsing `bytes` fails with `reason` (and `path`, `offset` when given).
func assertParseError(
    _ bytes: [UInt8], _ reason: JSONParseError.Reason, path: String = "", offset: Int? = nil,
    maxDepth: Int = 32, file: StaticString = #filePath, line: UInt = #line
) {
    do {
        let v = try JSONParser.parse(bytes, maxDepth: maxDepth)
        XCTFail("expected \(reason) but parsed \(v.typeName) from \(String(decoding: bytes, as: UTF8.self))",
                file: file, line: line)
    } catch {
        XCTAssertEqual(error.reason, reason, "input: \(String(decoding: bytes, as: UTF8.self))", file: file, line: line)
        XCTAssertEqual(error.path, path, "input: \(String(decoding: bytes, as: UTF8.self))", file: file, line: line)
        if let offset {
            XCTAssertEqual(error.offset, offset, "input: \(String(decoding: bytes, as: UTF8.self))", file: file,
                           line: line)
        }
    }
}

func assertParseError(
    _ text: String, _ reason: JSONParseError.Reason, path: String = "", offset: Int? = nil,
    maxDepth: Int = 32, file: StaticString = #filePath, line: UInt = #line
) {
    assertParseError(Array(text.utf8), reason, path: path, offset: offset, maxDepth: maxDepth, file: file, line: line)
}

/// Random JSON values for property tests.
struct RandomJSON {
    var rng: SplitMix64

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    mutating func scalar() -> Unicode.Scalar {
        switch int(0...9) {
        case 0: return Unicode.Scalar(UInt8(int(0...0x1F)))  // control characters
        case 1:
            let special: [Unicode.Scalar] = ["\"", "\\", "/", "\u{7F}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFF}"]
            return special.randomElement(using: &rng)!
        case 2: return Unicode.Scalar(UInt32(int(0x80...0x7FF)))!
        case 3:
            let v = UInt32(int(0x800...0xFFFD))
            return Unicode.Scalar(v) ?? "x"  // surrogates are not scalars
        case 4: return Unicode.Scalar(UInt32(int(0x10000...0x10FFFF)))!
        case 5: return ["é", "e", "\u{301}", "ß", "😀", "中", "ﬁ"].randomElement(using: &rng)!
        default: return Unicode.Scalar(UInt8(int(0x20...0x7E)))
        }
    }

    mutating func string(maxLength: Int = 24) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<int(0...maxLength) { s.append(scalar()) }
        return String(s)
    }

    mutating func integer() -> Int64 {
        switch int(0...5) {
        case 0: return [Int64.min, Int64.max, 0, -1, 1, Int64.min + 1, Int64.max - 1].randomElement(using: &rng)!
        case 1: return Int64(bitPattern: rng.next())
        default: return Int64(int(-100_000...100_000))
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let leafOnly = depth >= 5
        switch int(0...(leafOnly ? 4 : 7)) {
        case 0: return .null
        case 1: return .bool(int(0...1) == 1)
        case 2, 3: return .integer(integer())
        case 4: return .string(string())
        case 5: return .array((0..<int(0...5)).map { _ in value(depth: depth + 1) })
        default:
            var members: [(String, JSONValue)] = []
            var seen = Set<String>()
            for _ in 0..<int(0...(int(0...4) == 0 ? 20 : 5)) {  // sometimes beyond the linear-search limit
                let k = string(maxLength: 8)
                if seen.insert(k).inserted { members.append((k, value(depth: depth + 1))) }
            }
            return .object(JSONObject(members))
        }
    }
}

/// A realistic ~1 KiB record as the practice-management export would produce it.
func sampleRecordLine(_ i: Int, rng: inout SplitMix64) -> String {
    let channels = ["email", "phone", "portal", "secure-message", "sms", "video", "in-person", "letter"]
    let words = ["client", "was", "advised", "regarding", "the", "settlement", "offer", "deadline", "court",
                 "hearing", "Zustellung", "réponse", "documents", "\\\"quoted\\\"", "review", "discovery"]
    var summary = ""
    while summary.utf8.count < 560 {
        summary += words[Int(rng.next() % UInt64(words.count))] + " "
    }
    return """
    {"matter":"M-2024-\(1000 + i % 977)","client":"Client \(i % 313)","author":"attorney\(i % 17)@firm.example",\
    "channel":"\(channels[i % channels.count])","direction":"outbound","kind":"update","urgency":"routine",\
    "occurredAt":"2024-05-\(10 + i % 18)T09:\(10 + i % 50):00+02:00","subject":"Status update on matter \(i)",\
    "summary":"\(summary)\\nNext steps agreed.","decisions":"Client approved the filing.",\
    "recipients":["client\(i)@example.com","paralegal@firm.example"],"outcome":"sent","durationMinutes":\(i % 120),\
    "attachments":[{"name":"letter-\(i).pdf",\
    "sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],\
    "privileged":\(i % 3 == 0),"tags":["billing","q2"],"sourceSystem":"clio","sourceId":"src-\(i)"}
    """
}
