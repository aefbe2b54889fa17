/// A record that was refused, with where and why. Messages never quote field values: a value may be privileged.
public struct RecordError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line in the input file, when the record came from a file.
    public var line: Int?
    /// The field at fault (a JSON path for nested values), when one is to blame.
    public var field: String?
    public var reason: String

    public init(line: Int? = nil, field: String? = nil, reason: String) {
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var parts = [String]()
        if let line { parts.append("line \(line)") }
        if let field, !field.isEmpty { parts.append("field '\(field)'") }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }
}
