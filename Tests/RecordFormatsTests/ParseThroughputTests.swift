import XCTest
import RecordFormats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of the calling thread, in seconds: robust when other processes share the cores.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// INFORMATIONAL ONLY: prints parse throughput, asserts nothing about speed.
/// Meaningful only in release builds: `swift test -c release --filter ParseThroughputTests`.
final class ParseThroughputTests: XCTestCase {
    func testInformationalJSONLinesParseThroughput() throws {
        var rng = SplitMix64(seed: 42)
        var data: [UInt8] = []
        var lines: [Range<Int>] = []
        while data.count < 20_000_000 {
            let start = data.count
            data.append(contentsOf: sampleRecordLine(lines.count, rng: &rng).utf8)
            lines.append(start..<data.count)
            data.append(0x0A)
        }
        var best = Double.infinity, bestCPU = Double.infinity
        var checksum = 0
        #if DEBUG
        let repetitions = 1  // debug numbers mean nothing; keep `swift test` quick
        print("[informational] debug build: run `swift test -c release --filter ParseThroughputTests` for real figures")
        #else
        let repetitions = 5
        #endif
        for _ in 0..<repetitions {
            let clock = ContinuousClock()
            let t0 = clock.now
            let c0 = threadCPUSeconds()
            try data.withUnsafeBytes { raw in
                for r in lines {
                    let v = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[r]))
                    checksum &+= v.objectValue?.count ?? 0
                }
            }
            bestCPU = min(bestCPU, threadCPUSeconds() - c0)
            let d = clock.now - t0
            best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
        let mb = Double(data.count) / 1e6
        print(String(format: "[informational] JSON parse: %d records, %.1f MB, avg %.0f B/record; best of %d: "
                         + "wall %.3f s = %.0f MB/s, %.0f records/s; "
                         + "thread CPU %.3f s = %.0f MB/s, %.0f records/s (checksum %d)",
                     lines.count, mb, Double(data.count) / Double(lines.count), repetitions,
                     best, mb / best, Double(lines.count) / best,
                     bestCPU, mb / bestCPU, Double(lines.count) / bestCPU, checksum))

        var out: [UInt8] = []
        out.reserveCapacity(data.count + 1024)
        let values = try data.withUnsafeBytes { raw in
            try lines.prefix(5000).map { try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[$0])) }
        }
        let clock = ContinuousClock()
        let t0 = clock.now
        for _ in 0..<4 { out.removeAll(keepingCapacity: true); for v in values { JSONWriter.write(v, into: &out) } }
        let d = clock.now - t0
        let secs = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        print(String(format: "[informational] JSON canonical write: %.0f MB/s, %.0f records/s",
                     Double(out.count * 4) / 1e6 / secs, Double(values.count * 4) / secs))
    }

    func testInformationalCSVParseThroughput() throws {
        var text = "matter,author,channel,direction,occurredAt,summary\n"
        var i = 0
        while text.utf8.count < 20_000_000 {
            text += "M-\(i),attorney\(i % 17),email,outbound,2024-05-01T10:00:00Z,"
            text += "\"Client advised, \"\"quoted\"\" text\nsecond line "
            text += String(repeating: "lorem ipsum dolor sit amet ", count: 33) + "\"\n"
            i += 1
        }
        let bytes = Array(text.utf8)
        let clock = ContinuousClock()
        let t0 = clock.now
        var reader = CSVReader(bytes: bytes)
        var n = 0
        while let row = try reader.readRow() { n += row.fields.count }
        let d = clock.now - t0
        let secs = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        print(String(format: "[informational] CSV parse: %d records, %.0f MB/s (fields %d)", i,
                     Double(bytes.count) / 1e6 / secs, n))
    }
}
