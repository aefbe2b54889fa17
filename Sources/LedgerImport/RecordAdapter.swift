import LedgerFormat
import RecordFormats

/// One record of another system's export, mapped onto the record schema (docs/SCHEMA.md) or refused: `line` is the
/// 1-based line (JSON lines, CSV rows counting the header as line 1) or the 1-based position in a JSON array, so a
/// refusal names where the record was; the error names the *source* field at fault.
public struct AdaptedRecord: Sendable {
    public var line: Int
    public var result: Result<JSONValue, RecordError>

    public init(line: Int, result: Result<JSONValue, RecordError>) {
        self.line = line
        self.result = result
    }
}

/// Maps an export of another system onto the record schema (docs/IMPORT.md). Pure: bytes in, records out; the engine
/// validates each mapped record against the schema and imports it like a native one (idempotent on
/// sourceSystem/sourceId).
public protocol RecordAdapter: Sendable {
    /// The `sourceSystem` value the adapter gives every record (e.g. "clio").
    var sourceSystem: String { get }
    /// Every record of `bytes`, in input order. Throws only when the input as a whole cannot be read (not JSON or
    /// CSV at all, a missing header): a record that cannot be mapped is a `.failure` with its line and source field.
    func adapt(_ bytes: [UInt8]) throws(RecordError) -> [AdaptedRecord]
}

/// The practice-management systems `ledger import --from` reads (docs/IMPORT.md).
public enum PracticeSystem: String, Sendable, CaseIterable {
    case clio
    case practicepanther
    case mycase
    case actionstep
}
