import Foundation
import LedgerFormat
import LedgerSupport
import RecordFormats

/// What every practice-management adapter shares: read the export's records (`SourceReading`), map each one on its
/// own, keep its line. A record that cannot be mapped becomes a `.failure` naming the source field.
protocol PracticeAdapter: RecordAdapter {
    /// The keys of an envelope object that holds the records (`{"data":[...]}`).
    var envelopes: [String] { get }
    /// One source record as a record of our schema.
    func map(_ fields: SourceFields) throws(RecordError) -> JSONValue
}

extension PracticeAdapter {
    public func adapt(_ bytes: [UInt8]) throws(RecordError) -> [AdaptedRecord] {
        switch try SourceReading.read(bytes, envelopes: envelopes) {
        case .elements(let ranges):
            // Each element is parsed and mapped on its own, on every core.
            return inParallel(Array(ranges.enumerated())) { index, range in
                adapted(SourceReading.element(bytes, range, line: index + 1))
            }
        case .records(let records): return inParallel(records, adapted)
        }
    }

    /// One source record mapped, or its refusal, at its line.
    func adapted(_ record: SourceRecord) -> AdaptedRecord {
        let result = record.fields.flatMap { fields in
            Result { () throws(RecordError) -> JSONValue in try map(fields) }
        }
        return AdaptedRecord(line: record.line, result: result)
    }

    /// The record's `key` as an RFC 3339 occurredAt, refused naming `key` when it is no time value.
    func occurredAt(_ fields: SourceFields, _ key: String, time: SourceTime) throws(RecordError) -> String {
        let text = try fields.requiredString(key)
        guard let stamp = time.rfc3339(text) else {
            throw fields.error(key, "is not a date (YYYY-MM-DD) or a date and time (e.g. 2026-03-01T14:30:00+01:00)")
        }
        return stamp
    }
}

/// A list field as the systems give it: a JSON array of strings, or one string of items separated by `;` (CSV cells).
func stringList(_ fields: SourceFields, _ key: String) throws(RecordError) -> [String] {
    switch fields.value(key) {
    case nil: return []
    case .string(let text): return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    case .array(let items):
        var out = [String]()
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else {
                throw fields.error("\(key)[\(index)]", "must be a string, not \(item.typeName)")
            }
            out.append(text)
        }
        return out
    case let other?: throw fields.error(key, "must be a list of strings, not \(other.typeName)")
    }
}

/// `transform` over `items` on every core (LedgerSupport's `parallelMap`), results in input order.
func inParallel<T>(_ items: [T], _ transform: (T) -> AdaptedRecord) -> [AdaptedRecord] {
    (try? parallelMap(items, minimumChunk: 256, transform)) ?? items.map(transform)
}
