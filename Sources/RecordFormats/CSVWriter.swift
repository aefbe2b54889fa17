/// Writes RFC 4180 CSV that is safe to open in a spreadsheet. Every CSV the tool writes (privilege logs, report
/// breaches) goes through `cell`, so there is one quoting rule and one formula-injection rule.
public enum CSVWriter {
    /// The first characters that make a spreadsheet evaluate a cell (OWASP "CSV Injection"): = + - @ tab CR.
    public static let formulaTriggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// Cell text a spreadsheet will not run: a value starting with a formula trigger gets a leading single quote.
    /// Idempotent: a guarded value starts with `'` and is left as it is.
    public static func formulaSafe(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, formulaTriggers.contains(first) else { return value }
        return "'" + value
    }

    /// RFC 4180 §2: a cell holding a comma, quote, CR or LF is quoted, with quotes doubled.
    public static func quoted(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x2c || $0 == 0x22 || $0 == 0x0a || $0 == 0x0d }) else { return value }
        var out = "\""
        for character in value {
            if character == "\"" { out.append("\"") }
            out.append(character)
        }
        out.append("\"")
        return out
    }

    /// One cell as written: formula-safe, then quoted when needed.
    public static func cell(_ value: String) -> String { quoted(formulaSafe(value)) }

    /// One row: cells joined by commas, ended by CRLF (RFC 4180 §2).
    public static func row(_ values: [String]) -> String {
        values.map(cell).joined(separator: ",") + "\r\n"
    }
}
