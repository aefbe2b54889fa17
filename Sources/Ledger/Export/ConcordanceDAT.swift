/// The Concordance DAT load-file encoding (docs/PRODUCE.md): pure, no I/O.
///
/// A file is UTF-8 with a byte-order mark (EF BB BF), as review platforms expect; one header row, then one row per
/// record; every field wrapped in the text qualifier þ (U+00FE), fields separated by ASCII 20 (0x14, DC4), rows ended
/// by CRLF. A value never contains the qualifier, the delimiter or a line break (see `escape`).
public enum ConcordanceDAT {
    /// UTF-8 byte-order mark.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
    /// Field delimiter: ASCII 20 (DC4).
    public static let delimiter: Unicode.Scalar = "\u{14}"
    /// Text qualifier around every field: þ (U+00FE, C3 BE in UTF-8).
    public static let qualifier: Unicode.Scalar = "\u{FE}"
    /// What a line break inside a value becomes: ® (U+00AE, C2 AE in UTF-8), the Concordance convention.
    public static let newline: Unicode.Scalar = "\u{AE}"
    /// Row terminator.
    public static let lineEnd = "\r\n"

    /// A value made safe for one DAT cell:
    /// - CRLF, a lone CR and a lone LF each become one ® (U+00AE), and so do the Unicode line breaks NEL (U+0085),
    ///   LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029), which some loaders split lines on;
    /// - the qualifier þ and the delimiter (0x14) become a space;
    /// - any other C0 control character but TAB, DEL, and the C1 controls (U+0080–U+009F) become a space.
    /// Everything else is kept as it is. The exact value is in the bundle (and the record's text file).
    public static func escape(_ value: String) -> String {
        var out = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in value.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\n" where previousWasCR: continue  // the CR already wrote ®
            case "\r", "\n", "\u{85}", "\u{2028}", "\u{2029}": out.append(newline)
            case qualifier, delimiter: out.append(" ")
            case "\t": out.append(scalar)
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value): out.append(" ")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// One row: each value escaped and wrapped in þ, joined by 0x14, ended by CRLF.
    public static func row(_ values: [String]) -> String {
        let q = String(qualifier), d = String(delimiter)
        return values.map { q + escape($0) + q }.joined(separator: d) + lineEnd
    }

    /// A whole load file: BOM, the header row, then the rows. Every row must have as many cells as the header.
    public static func file(header: [String], rows: [[String]]) -> [UInt8] {
        var out = byteOrderMark
        out.append(contentsOf: row(header).utf8)
        for values in rows {
            precondition(values.count == header.count, "a DAT row has \(values.count) cells, the header \(header.count)")
            out.append(contentsOf: row(values).utf8)
        }
        return out
    }
}
