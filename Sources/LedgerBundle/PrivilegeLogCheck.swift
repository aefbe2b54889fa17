import Foundation
import LedgerFormat
import RecordFormats

/// privilege-log.csv: one row per redaction, in entries.jsonl order then leaf order, whose seq, field, reason and
/// metadata columns agree with the entries.
enum PrivilegeLogCheck {
    static func check(_ bytes: [UInt8], facts: [EntryFacts], into report: inout BundleReport) {
        if isCanonical(bytes, facts: facts) { return }
        guard let body = rows(bytes, into: &report) else { return }
        let expectedCount = facts.reduce(0) { $0 + ($1.seq == nil ? 0 : $1.redacted.count) }
        if body.count != expectedCount {
            report.fail(.privilegeLog, "\(body.count) rows for \(expectedCount) redacted fields",
                        expected: String(expectedCount), found: String(body.count))
        }
        // Rows pair with the redactions in entries.jsonl order, then leaf order (as zip() pairs them: up to the
        // shorter).
        var next = body.startIndex
        for fact in facts where next < body.endIndex {
            guard let seq = fact.seq else { continue }
            for item in fact.redacted where next < body.endIndex {
                checkRow(body[next], seq: seq, redaction: item, columns: fact.columns, into: &report)
                next += 1
            }
        }
    }

    /// The rows after the header; nil (with the violation) when the file is not CSV with the expected header.
    private static func rows(_ bytes: [UInt8], into report: inout BundleReport) -> ArraySlice<CSVRow>? {
        let rows: [CSVRow]
        do { rows = try CSVReader.readAll(bytes) } catch {
            report.fail(.privilegeLog, "privilege-log.csv is not valid CSV: \(error)")
            return nil
        }
        guard let header = rows.first, header.fields == BundleFormat.privilegeLogHeader else {
            report.fail(.privilegeLog, "the header must be \(BundleFormat.privilegeLogHeader.joined(separator: ","))")
            return nil
        }
        return rows.dropFirst()
    }

    /// One row against the redaction it pairs with and the entry's metadata columns.
    private static func checkRow(_ row: CSVRow, seq: UInt64, redaction item: (field: String, reason: String),
                                 columns: [String], into report: inout BundleReport) {
        let f = row.fields
        guard f.count == BundleFormat.privilegeLogHeader.count else {
            report.fail(.privilegeLog, "row has \(f.count) columns", line: row.line,
                        expected: String(BundleFormat.privilegeLogHeader.count), found: String(f.count))
            return
        }
        guard f[0] == String(seq), f[6] == item.field, f[7] == item.reason else {
            report.fail(.privilegeLog, "row names seq \(f[0]) field \(f[6]) (\(f[7])); "
                        + "the redactions say seq \(seq) field \(item.field) (\(item.reason))",
                        entry: seq, line: row.line, expected: "seq \(seq) field \(item.field) (\(item.reason))",
                        found: "seq \(f[0]) field \(f[6]) (\(f[7]))")
            return
        }
        for (i, column) in BundleFormat.privilegeLogMetadata.enumerated()
        where i >= columns.count || f[i + 1] != columns[i] {
            report.fail(.privilegeLog, "column \(column) does not match the entry's disclosure (or [redacted])",
                        entry: seq, line: row.line, expected: i < columns.count ? columns[i] : nil, found: f[i + 1])
        }
    }

    /// True when privilege-log.csv is, byte for byte, the exporter's rendering of the expected rows (header, then per
    /// redaction: seq, the five metadata cells, field, reason, any plain description, CRLF). Such a file is valid CSV
    /// that passes every row check, so the row-by-row parse is needed only when this says false.
    private static func isCanonical(_ bytes: [UInt8], facts: [EntryFacts]) -> Bool {
        bytes.withUnsafeBytes { text -> Bool in
            var cursor = Cursor(text: text)
            guard cursor.take(Array((BundleFormat.privilegeLogHeader.joined(separator: ",") + "\r\n").utf8)) else {
                return false
            }
            var tails = Tails()
            var head = [UInt8]()
            for fact in facts {
                guard let seq = fact.seq, !fact.redacted.isEmpty else { continue }
                guard takeRows(of: fact, seq: seq, cursor: &cursor, tails: &tails, head: &head) else { return false }
            }
            return cursor.atEnd
        }
    }

    /// The canonical rows of one entry's redactions: its row head (seq and metadata cells), then per redaction its
    /// tail. `head` is scratch reused across entries.
    private static func takeRows(of fact: EntryFacts, seq: UInt64, cursor: inout Cursor, tails: inout Tails,
                                 head: inout [UInt8]) -> Bool {
        guard fact.columns.count == BundleFormat.privilegeLogMetadata.count else { return false }
        head.removeAll(keepingCapacity: true)
        head.append(contentsOf: String(seq).utf8)
        for column in fact.columns {
            head.append(0x2c)
            head.append(contentsOf: CSVWriter.cell(column).utf8)
        }
        for item in fact.redacted {
            guard cursor.take(head), cursor.take(tails.bytes(field: item.field, reason: item.reason)),
                  cursor.plainCellAndLineEnd() else { return false }
        }
        return true
    }

    /// ",field,reason," of each (field, reason) pair seen, rendered once.
    private struct Tails {
        private var rendered = [(field: String, reason: String, bytes: [UInt8])]()

        mutating func bytes(field: String, reason: String) -> [UInt8] {
            if let known = rendered.first(where: { $0.field == field && $0.reason == reason }) { return known.bytes }
            let bytes = Array(("," + CSVWriter.cell(field) + "," + CSVWriter.cell(reason) + ",").utf8)
            rendered.append((field, reason, bytes))
            return bytes
        }
    }

    /// A read position in the file's bytes.
    private struct Cursor {
        let text: UnsafeRawBufferPointer
        var at = 0

        var atEnd: Bool { at == text.count }

        /// Advances over `expected` when the text continues with exactly those bytes.
        mutating func take(_ expected: [UInt8]) -> Bool {
            guard text.count - at >= expected.count,
                  expected.withUnsafeBytes({ memcmp($0.baseAddress!, text.baseAddress! + at, expected.count) == 0 })
            else { return false }
            at += expected.count
            return true
        }

        /// An unquoted cell of printable ASCII without comma or quote, then CRLF.
        mutating func plainCellAndLineEnd() -> Bool {
            while at < text.count, text[at] >= 0x20, text[at] < 0x7f, text[at] != 0x2c, text[at] != 0x22 { at += 1 }
            return take([0x0d, 0x0a])
        }
    }
}
