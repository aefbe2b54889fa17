/// One recipient stanza: `-> type args…` and a body (base64 lines wrapped at 64 columns).
public struct AgeStanza: Sendable, Equatable {
    public var type: String
    public var arguments: [String]
    public var body: [UInt8]

    /// The stanza's lines, each ending in LF; the last body line is shorter than 64 columns (maybe empty).
    func rendered() -> String {
        var text = "-> " + ([type] + arguments).joined(separator: " ") + "\n"
        let encoded = Array(AgeBase64.encode(body).utf8)
        var start = 0
        while true {
            let end = min(start + 64, encoded.count)
            text += String(decoding: encoded[start..<end], as: UTF8.self) + "\n"
            if end - start < 64 { break }
            start = end
        }
        return text
    }
}

/// The parsed header: stanzas, the MAC, the bytes the MAC covers, and where the payload starts.
struct AgeHeader {
    static let versionLine = "age-encryption.org/v1"
    var stanzas: [AgeStanza]
    var mac: [UInt8]
    /// The header up to and including `---`.
    var macInput: [UInt8]
    var payloadOffset: Int

    /// Parses the header at the start of `file`. Strict: LF line ends, printable arguments, canonical base64,
    /// body lines of 64 columns but the last, at least one stanza, a 32-byte MAC.
    static func parse(_ file: UnsafeRawBufferPointer) throws -> AgeHeader {
        var reader = LineReader(bytes: file)
        guard let first = reader.next() else { throw AgeError.unsupportedVersion }
        guard first.elementsEqual(versionLine.utf8) else { throw AgeError.unsupportedVersion }
        var stanzas = [AgeStanza]()
        while true {
            guard let line = reader.next() else { throw AgeError.malformedHeader("the header ends before its MAC") }
            if line.starts(with: "--- ".utf8) {
                guard !stanzas.isEmpty else { throw AgeError.malformedHeader("no recipient stanza") }
                let macStart = reader.lineStart(of: line) + 3
                guard line.count == 4 + 43, let mac = AgeBase64.decode(line.dropFirst(4)) else {
                    throw AgeError.nonCanonicalBase64(field: "the header MAC")
                }
                return AgeHeader(stanzas: stanzas, mac: mac, macInput: Array(file[..<macStart]),
                                 payloadOffset: reader.offset)
            }
            guard line.starts(with: "-> ".utf8) else {
                throw AgeError.malformedHeader("line \(stanzas.count + 2) is neither a stanza nor the MAC line")
            }
            stanzas.append(try parseStanza(arguments: line.dropFirst(3), reader: &reader, index: stanzas.count))
        }
    }

    private static func parseStanza(arguments: Slice<UnsafeRawBufferPointer>, reader: inout LineReader,
                                    index: Int) throws -> AgeStanza {
        let parts = arguments.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 33 && $0 <= 126 } }) else {
            throw AgeError.malformedHeader("stanza \(index + 1) has an empty or non-printable argument")
        }
        var body = [UInt8]()
        while true {
            guard let line = reader.next() else {
                throw AgeError.malformedHeader("stanza \(index + 1)'s body is not terminated")
            }
            guard line.count <= 64, let decoded = AgeBase64.decode(line),
                  line.count == 64 ? decoded.count == 48 : true else {
                throw AgeError.nonCanonicalBase64(field: "the body of stanza \(index + 1)")
            }
            body += decoded
            if line.count < 64 { break }
        }
        let strings = parts.map { String(decoding: $0, as: UTF8.self) }
        return AgeStanza(type: strings[0], arguments: Array(strings.dropFirst()), body: body)
    }
}

/// LF-terminated lines of the header; a line without its LF is not returned.
struct LineReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    /// Headers are small: refuse to scan past this.
    static let maxHeaderBytes = 1 << 20

    mutating func next() -> Slice<UnsafeRawBufferPointer>? {
        let limit = min(bytes.count, Self.maxHeaderBytes)
        guard offset < limit, let end = bytes[offset..<limit].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = bytes[offset..<end]
        offset = end + 1
        return line
    }

    func lineStart(of line: Slice<UnsafeRawBufferPointer>) -> Int { line.startIndex }
}
