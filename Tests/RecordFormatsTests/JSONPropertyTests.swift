import XCTest
import RecordFormats

final class JSONPropertyTests: XCTestCase {
    /// serialize -> parse is the identity on random values, and serialisation is canonical
    /// (re-serialising the parsed value gives the same bytes).
    func testRandomValuesRoundTrip() throws {
        var gen = RandomJSON(rng: SplitMix64(seed: 0x5EED_2024))
        for i in 0..<3000 {
            let v = gen.value()
            let bytes = JSONWriter.serialize(v)
            let parsed: JSONValue
            do { parsed = try JSONParser.parse(bytes) } catch {
                XCTFail("case \(i): \(error) on \(String(decoding: bytes, as: UTF8.self))")
                continue
            }
            XCTAssertEqual(parsed, v, "case \(i)")
            XCTAssertEqual(JSONWriter.serialize(parsed), bytes, "case \(i)")
        }
    }

    /// Random byte mutations of valid JSON never crash: the parser either returns a value
    /// (which then round-trips) or throws an error whose offset lies within the input.
    func testMutatedInputNeverCrashes() {
        var rng = SplitMix64(seed: 0xF022)
        var gen = RandomJSON(rng: SplitMix64(seed: 77))
        var seeds: [[UInt8]] = (0..<40).map { _ in JSONWriter.serialize(gen.value()) }
        var r2 = SplitMix64(seed: 3)
        seeds += (0..<10).map { Array(sampleRecordLine($0, rng: &r2).utf8) }
        let interesting: [UInt8] = Array("{}[]\",:\\-0123456789.eEtrufalsn u".utf8)
            + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        var accepted = 0, rejected = 0
        for iteration in 0..<20_000 {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0...(rng.next() % 4) {
                let op = rng.next() % 5
                let pos = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                switch op {
                case 0 where !bytes.isEmpty: bytes[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1 where !bytes.isEmpty: bytes[pos] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 2 where !bytes.isEmpty: bytes.remove(at: pos)
                case 3: bytes.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: pos)
                default: bytes = Array(bytes.prefix(pos))  // truncate
                }
            }
            do {
                let v = try JSONParser.parse(bytes, maxDepth: 8)
                accepted += 1
                XCTAssertEqual(try JSONParser.parse(JSONWriter.serialize(v), maxDepth: 8), v, "iteration \(iteration)")
            } catch {
                rejected += 1
                XCTAssertTrue(error.offset >= 0 && error.offset <= bytes.count,
                              "iteration \(iteration): offset \(error.offset)")
                XCTAssertFalse(error.description.isEmpty)
            }
        }
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertGreaterThan(rejected, 1000)
    }

    /// Strings the parser accepts are exactly the strictly valid UTF-8 ones: compare with the
    /// standard library's validating decoder on random byte strings.
    func testStringUTF8ValidationAgreesWithStandardLibrary() {
        var rng = SplitMix64(seed: 0xC0DE)
        let pool: [UInt8] = [0x41, 0x7E, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
                             0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 7)
            let body = (0..<n).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
            let stdlibValid = String(validating: body, as: UTF8.self) != nil
            do {
                let v = try JSONParser.parse([0x22] + body + [0x22])
                XCTAssertTrue(stdlibValid, "accepted invalid \(body)")
                XCTAssertEqual(v, .string(String(decoding: body, as: UTF8.self)))
            } catch {
                XCTAssertFalse(stdlibValid, "rejected valid \(body): \(error)")
                XCTAssertEqual(error.reason, .invalidUTF8)
            }
        }
    }
}
