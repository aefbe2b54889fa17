// JSON Lines framing: one JSON value per line.

public enum JSONLines {
    /// Calls `body` with each line's 1-based number and bytes (without its LF, or
    /// CRLF). Input ending in a line break has no empty last line; other empty
    /// lines are passed on (the parser reports them as `emptyInput`).
    /// Error offsets from parsing a line are relative to the line's start.
    public static func forEachLine<E: Error>(
        in bytes: UnsafeRawBufferPointer, _ body: (_ line: Int, _ lineBytes: UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        guard let p = bytes.baseAddress else { return }
        let n = bytes.count
        var start = 0
        var line = 1
        while start < n {
            var end = start
            while end < n, p.load(fromByteOffset: end, as: UInt8.self) != 0x0A { end += 1 }
            var stop = end
            if end < n, stop > start, p.load(fromByteOffset: stop - 1, as: UInt8.self) == 0x0D { stop -= 1 }
            try body(line, UnsafeRawBufferPointer(start: p + start, count: stop - start))
            start = end + 1
            line += 1
        }
    }
}
