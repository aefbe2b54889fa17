// RFC 4180 CSV reader: comma separated, CRLF or LF line ends, quoted fields
// with "" escapes and embedded line breaks, a UTF-8 BOM at the very start
// skipped, strict UTF-8. Column counts are not enforced (the caller checks
// rows against its header). Errors name the line and column, never contents.

/// A CSV syntax error. `line` is the 1-based physical line; `column` is the
/// 1-based CSV column (field number within the record) when one applies.
public struct CSVParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int?
    public let reason: String
    /// Byte offset in the input where the problem was found (the opening quote
    /// for an unterminated quoted field).
    public let offset: Int

    public init(line: Int, column: Int?, reason: String, offset: Int) {
        self.line = line
        self.column = column
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        if let column { return "CSV line \(line), column \(column): \(reason)" }
        return "CSV line \(line): \(reason)"
    }

    public static let invalidUTF8 = "invalid UTF-8"
    public static let quoteInUnquotedField = "quote inside an unquoted field"
    public static let textAfterClosingQuote = "unexpected text after the closing quote of a quoted field"
    public static let unterminatedQuote = "quoted field not terminated before end of input"
    public static let bareCarriageReturn = "carriage return not followed by a line feed"
}

public struct CSVRow: Sendable, Equatable {
    /// 1-based physical line where the record starts.
    public let line: Int
    public let fields: [String]

    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// Reads records one at a time.
///
///     var reader = CSVReader(bytes: data)
///     while let row = try reader.readRow() { ... }
///
/// or iterate: `for result in CSVReader(bytes: data)` yields
/// `Result<CSVRow, CSVParseError>`. After an error the reader is finished
/// (the input cannot be resynchronised reliably), so at most one failure is yielded.
public struct CSVReader: Sequence, IteratorProtocol {
    public typealias Element = Result<CSVRow, CSVParseError>

    private let bytes: [UInt8]
    private var pos: Int
    private var line = 1
    private var finished = false
    private var scratch: [UInt8] = []

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        self.pos = (bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) ? 3 : 0
    }

    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// Reads every record, or throws the first error.
    public static func readAll(_ bytes: [UInt8]) throws(CSVParseError) -> [CSVRow] {
        var reader = CSVReader(bytes: bytes)
        var rows: [CSVRow] = []
        while let row = try reader.readRow() { rows.append(row) }
        return rows
    }

    public mutating func next() -> Result<CSVRow, CSVParseError>? {
        do throws(CSVParseError) {
            guard let row = try readRow() else { return nil }
            return .success(row)
        } catch {
            return .failure(error)
        }
    }

    /// The next record, or nil at the end of input. An empty last line (input
    /// ending in a line break) is not a record; empty lines elsewhere are
    /// records with one empty field.
    public mutating func readRow() throws(CSVParseError) -> CSVRow? {
        if finished { return nil }
        if pos >= bytes.count {
            finished = true
            return nil
        }
        let input = bytes
        let result: Result<CSVRow, CSVParseError> = input.withUnsafeBytes { raw in
            Result { () throws(CSVParseError) -> CSVRow in try readRecord(raw.baseAddress!, raw.count) }
        }
        switch result {
        case .success(let row): return row
        case .failure(let e):
            finished = true
            throw e
        }
    }

    // The record reader runs once per imported row: its steps are inlined into it, work on the raw bytes, and
    // allocate only each field's String (and, for a quoted field with "" escapes, reuse `scratch`).

    private mutating func readRecord(_ p: UnsafeRawPointer, _ n: Int) throws(CSVParseError) -> CSVRow {
        let recordLine = line
        var fields: [String] = []
        var column = 1
        while true {
            if pos < n, Self.byte(p, pos) == UInt8(ascii: "\"") {
                fields.append(try readQuotedField(p, n, recordLine: recordLine, column: column))
            } else {
                fields.append(try readUnquotedField(p, n, column: column))
            }
            if try endOfRecord(p, n, column: column) { return CSVRow(line: recordLine, fields: fields) }
            column += 1
        }
    }

    @inline(__always) private static func byte(_ p: UnsafeRawPointer, _ i: Int) -> UInt8 {
        p.load(fromByteOffset: i, as: UInt8.self)
    }

    /// A quoted field from its opening quote at `pos`; `pos` ends after the closing quote.
    @inline(__always)
    private mutating func readQuotedField(_ p: UnsafeRawPointer, _ n: Int, recordLine: Int,
                                          column: Int) throws(CSVParseError) -> String {
        let (runStart, usedScratch) = try scanQuotedField(p, n, recordLine: recordLine, column: column)
        // pos at the closing quote
        let run = UnsafeRawBufferPointer(start: p + runStart, count: pos - runStart)
        let field: String
        if usedScratch {
            scratch.append(contentsOf: run)
            field = String(decoding: scratch, as: UTF8.self)
        } else {
            field = String(decoding: run, as: UTF8.self)
        }
        pos += 1
        if pos < n {
            let c = Self.byte(p, pos)
            if c != UInt8(ascii: ","), c != 0x0A, c != 0x0D {
                throw CSVParseError(line: line, column: column, reason: CSVParseError.textAfterClosingQuote,
                                    offset: pos)
            }
        }
        return field
    }

    /// Moves `pos` from the opening quote to the closing one. The field's text is `scratch` (when `usedScratch`:
    /// it had "" escapes) followed by the bytes from `runStart` to `pos`.
    @inline(__always)
    private mutating func scanQuotedField(_ p: UnsafeRawPointer, _ n: Int, recordLine: Int,
                                          column: Int) throws(CSVParseError) -> (runStart: Int, usedScratch: Bool) {
        let quoteOffset = pos
        pos += 1
        var runStart = pos
        var usedScratch = false
        while true {
            guard pos < n else {
                throw CSVParseError(line: recordLine, column: column, reason: CSVParseError.unterminatedQuote,
                                    offset: quoteOffset)
            }
            let c = Self.byte(p, pos)
            if c == UInt8(ascii: "\"") {
                guard pos + 1 < n, Self.byte(p, pos + 1) == UInt8(ascii: "\"") else { return (runStart, usedScratch) }
                // "" stands for one quote: keep the run up to and including the first.
                if !usedScratch { scratch.removeAll(keepingCapacity: true); usedScratch = true }
                scratch.append(contentsOf: UnsafeRawBufferPointer(start: p + runStart, count: pos + 1 - runStart))
                pos += 2
                runStart = pos
                continue
            }
            if c == 0x0A { line += 1 }
            try skipCharacter(p, n, c, column: column)
        }
    }

    /// An unquoted field: up to a comma, line break or end.
    @inline(__always)
    private mutating func readUnquotedField(_ p: UnsafeRawPointer, _ n: Int,
                                            column: Int) throws(CSVParseError) -> String {
        let start = pos
        while pos < n {
            let c = Self.byte(p, pos)
            if c == UInt8(ascii: ",") || c == 0x0A || c == 0x0D { break }
            if c == UInt8(ascii: "\"") {
                throw CSVParseError(line: line, column: column, reason: CSVParseError.quoteInUnquotedField, offset: pos)
            }
            try skipCharacter(p, n, c, column: column)
        }
        return String(decoding: UnsafeRawBufferPointer(start: p + start, count: pos - start), as: UTF8.self)
    }

    /// Steps over the character starting with byte `c` at `pos`, checking that it is valid UTF-8.
    @inline(__always)
    private mutating func skipCharacter(_ p: UnsafeRawPointer, _ n: Int, _ c: UInt8,
                                        column: Int) throws(CSVParseError) {
        if c < 0x80 {
            pos += 1
            return
        }
        let len = utf8MultibyteLength(p, pos, n)
        if len == 0 { throw CSVParseError(line: line, column: column, reason: CSVParseError.invalidUTF8, offset: pos) }
        pos += len
    }

    /// After a field: a comma (false: another field follows), a line end or the end of input (true: the record
    /// ends; `pos` after the line end).
    @inline(__always)
    private mutating func endOfRecord(_ p: UnsafeRawPointer, _ n: Int, column: Int) throws(CSVParseError) -> Bool {
        if pos >= n { return true }
        let c = Self.byte(p, pos)
        if c == UInt8(ascii: ",") {
            pos += 1
            return false
        }
        if c == 0x0A {
            pos += 1
            line += 1
            return true
        }
        // c == CR
        if pos + 1 < n, Self.byte(p, pos + 1) == 0x0A {
            pos += 2
            line += 1
            return true
        }
        throw CSVParseError(line: line, column: column, reason: CSVParseError.bareCarriageReturn, offset: pos)
    }
}
