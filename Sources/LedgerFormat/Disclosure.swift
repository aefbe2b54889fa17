import CSHA256
import MerkleLog
import Sodium

/// One field's commitment, the RFC 9901 (SD-JWT) construction:
/// disclosure = base64url(JSON array [salt, name, value]); digest = SHA-256(ASCII(disclosure)).
///
/// The JSON array is produced by one fixed template from its three parts, so the stored parts
/// (salt, name, canonical value bytes) always give back the same disclosure byte for byte:
///     ["<base64url(salt)>","<name>",<canonical JSON value>]
/// Names are ASCII schema words (no escaping needed); values are canonical JSON (RecordFormats.JSONWriter).
public struct Disclosure: Sendable, Equatable {
    public static let saltByteCount = 16

    public let salt: [UInt8]
    public let name: String
    /// Canonical JSON bytes of the value.
    public let value: [UInt8]

    public init(salt: [UInt8], name: String, value: [UInt8]) {
        self.salt = salt
        self.name = name
        self.value = value
    }

    /// The JSON array bytes (before base64url).
    public var jsonBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(value.count + name.utf8.count + 32)
        out.append(contentsOf: Array(#"[""#.utf8))
        Base64.encodeURL(salt.withUnsafeBytes { $0 }, into: &out)
        out.append(contentsOf: Array(#"",""#.utf8))
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: Array(#"","#.utf8))
        out.append(contentsOf: value)
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The disclosure string exactly as exported: base64url without padding.
    public var encoded: String { Base64.encodeURL(jsonBytes) }

    /// SHA-256 over the ASCII of the disclosure string (RFC 9901 §4.2.3).
    public var digest: Hash {
        let digester = DisclosureDigester(capacity: value.count + name.utf8.count + 64)
        return salt.withUnsafeBytes { salt in
            value.withUnsafeBytes { digester.digest(salt: salt, name: name, value: $0) }
        }
    }

    /// The salt of field `index`, derived from the entry's seed (see `SaltDeriver`).
    package static func salt(seed: [UInt8], index: Int) -> [UInt8] {
        SaltDeriver.single(seed: seed, index: index)
    }
}

/// Derives field salts from an entry's 16-byte seed:
/// salt_i = BLAKE2b-128(key = seed, message = "client-ledger/salt/v1" || u16 BE i).
/// A keyed PRF, so revealing one field's salt reveals nothing about the seed or the other salts.
/// All of an entry's salts are derived at once: the seed's key block is compressed once (`ShortKeyedHash`),
/// then four salts per BLAKE2b compression time. They are zeroed when the deriver goes away.
package final class SaltDeriver {
    package static let label = Array(UnsafeBufferPointer(start: labelText.utf8Start, count: labelText.utf8CodeUnitCount))
    /// The label as static bytes: the per-entry paths read it without touching a global array (whose reference
    /// count both workers would change for every entry).
    private static let labelText: StaticString = "client-ledger/salt/v1"
    package static let messageLength = labelText.utf8CodeUnitCount + 2

    private let salts: UnsafeMutableRawBufferPointer
    package let count: Int

    package init(seed: [UInt8], count: Int) {
        let salts = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, count) * Disclosure.saltByteCount,
                                                           alignment: 16)
        (self.salts, self.count) = (salts, count)
        seed.withUnsafeBytes { Self.derive(seed: $0, count: count, into: salts) }
    }

    package init(seed: UnsafeRawBufferPointer, count: Int) {
        salts = .allocate(byteCount: max(1, count) * Disclosure.saltByteCount, alignment: 16)
        self.count = count
        Self.derive(seed: seed, count: count, into: salts)
    }

    /// Writes the salts of fields 0..<count, one after another, to `salts` (`count` × 16 bytes).
    package static func derive(seed: UnsafeRawBufferPointer, count: Int, into salts: UnsafeMutableRawBufferPointer) {
        let length = labelText.utf8CodeUnitCount + 2
        withUnsafeTemporaryAllocation(byteCount: max(1, count) * length, alignment: 1) { messages in
            for index in 0..<count {
                writeMessage(index: index, to: messages.baseAddress! + index * length)
            }
            ShortKeyedHash.hash(key: seed, outputLength: Disclosure.saltByteCount,
                                packed: UnsafeRawBufferPointer(messages), messageLength: length,
                                count: count, into: salts)
        }
    }

    deinit {
        zeroize(salts)
        salts.deallocate()
    }

    /// Calls `body` with the salt of field `index`.
    package func withSalt<R>(index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(index < count, "salt index out of range")
        let start = index * Disclosure.saltByteCount
        return try body(UnsafeRawBufferPointer(rebasing: salts[start..<(start + Disclosure.saltByteCount)]))
    }

    /// The salt of one field, derived on its own (one hash, no batching): the reference the batched path
    /// is tested against.
    package static func single(seed: [UInt8], index: Int) -> [UInt8] {
        var message = [UInt8](repeating: 0, count: messageLength)
        message.withUnsafeMutableBytes { writeMessage(index: index, to: $0.baseAddress!) }
        return message.withUnsafeBytes {
            KeyedHash.hash($0, key: SecretBytes(copying: seed), length: Disclosure.saltByteCount)
        }
    }

    /// "client-ledger/salt/v1" || u16 BE index.
    private static func writeMessage(index: Int, to out: UnsafeMutableRawPointer) {
        let count = labelText.utf8CodeUnitCount
        out.copyMemory(from: labelText.utf8Start, byteCount: count)
        out.storeBytes(of: UInt8(truncatingIfNeeded: index >> 8), toByteOffset: count, as: UInt8.self)
        out.storeBytes(of: UInt8(truncatingIfNeeded: index), toByteOffset: count + 1, as: UInt8.self)
    }
}

/// Computes disclosure digests one at a time in reusable scratch buffers (export's redactions and the reference
/// path the batched ones are tested against): no per-field allocation or reference counting. The import and deep
/// verify hash an entry's disclosures together (`DisclosureBatch`).
package final class DisclosureDigester {
    private var json: UnsafeMutablePointer<UInt8>
    private var jsonCapacity: Int
    private var ascii: UnsafeMutablePointer<UInt8>
    private var asciiCapacity: Int

    package init(capacity: Int = 2048) {
        jsonCapacity = capacity
        json = .allocate(capacity: capacity)
        asciiCapacity = Base64.encodedURLCount(capacity)
        ascii = .allocate(capacity: asciiCapacity)
    }

    deinit { release() }

    /// The buffers held plaintext values: zero them before giving the memory back.
    private func release() {
        zeroize(UnsafeMutableRawBufferPointer(start: json, count: jsonCapacity))
        zeroize(UnsafeMutableRawBufferPointer(start: ascii, count: asciiCapacity))
        json.deallocate()
        ascii.deallocate()
    }

    /// SHA-256(ASCII(base64url(["<b64url salt>","<name>",<value>]))).
    package func digest(salt: UnsafeRawBufferPointer, name: String, value: UnsafeRawBufferPointer) -> Hash {
        var name = name
        return name.withUTF8 { digest(salt: salt, name: UnsafeRawBufferPointer($0), value: value) }
    }

    /// The same, with the name as its ASCII bytes (deep verify reads names in place from the leaf).
    package func digest(salt: UnsafeRawBufferPointer, name nameBytes: UnsafeRawBufferPointer,
                        value: UnsafeRawBufferPointer) -> Hash {
        Hash.sha256(disclosureText(salt: salt, name: nameBytes, value: value))
    }

    /// The ASCII of the disclosure, base64url(["<b64url salt>","<name>",<value>]), in the digester's scratch
    /// (valid until its next use): what `digest` hashes.
    private func disclosureText(salt: UnsafeRawBufferPointer, name nameBytes: UnsafeRawBufferPointer,
                                value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        ensureCapacity(Base64.encodedURLCount(salt.count) + nameBytes.count + value.count + 8)
        var n = 0
        func put(_ byte: UInt8) { json[n] = byte; n += 1 }
        func put(_ bytes: UnsafeRawBufferPointer) {
            if let base = bytes.baseAddress {
                (json + n).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            }
            n += bytes.count
        }
        put(0x5b); put(0x22)                                   // ["
        n += Base64.encodeURL(salt, to: json + n)
        put(0x22); put(0x2c); put(0x22)                        // ","
        put(nameBytes)
        put(0x22); put(0x2c)                                   // ",
        put(value)
        put(0x5d)                                              // ]
        let length = Base64.encodeURL(UnsafeRawBufferPointer(start: json, count: n), to: ascii)
        return UnsafeRawBufferPointer(start: ascii, count: length)
    }

    private func ensureCapacity(_ jsonBytes: Int) {
        guard jsonBytes > jsonCapacity else { return }
        release()
        jsonCapacity = jsonBytes * 2
        json = .allocate(capacity: jsonCapacity)
        asciiCapacity = Base64.encodedURLCount(jsonCapacity)
        ascii = .allocate(capacity: asciiCapacity)
    }
}

/// Digests all of one entry's disclosures together (deep verify). Each disclosure is
/// base64url(`["<b64url salt>","` || `<name>",<value>]`), and its 27-byte opening is a whole number of base64 groups,
/// so the openings of all fields are encoded at once (and the salts inside them before that), and only the rest of
/// each disclosure on its own. The disclosures' ASCII is written one after another into one scratch buffer, each
/// followed by its SHA-256 padding, then `csha256_many_padded` hashes them in place in two interleaved SHA-256
/// lanes, each taking the next disclosure as soon as its own ends (the longest first), so a long disclosure does not
/// finish alone. The scratch holds salts and plaintext values: zeroed when released (like `DisclosureDigester`'s).
package final class DisclosureBatch {
    /// `["` + 22 base64url characters of the salt + `","`.
    private static let openingByteCount = 27
    private static let openingTextCount = 36
    /// A salt padded with two zero bytes to 18, whose 24-character base64 starts with the salt's 22 unpadded ones.
    private static let paddedSaltByteCount = 18

    // One worker uses a batch, never in overlapping accesses: no dynamic exclusivity checks (about ten per field).
    /// The entry's salts (16 bytes per field).
    @exclusivity(unchecked) private var salts: Scratch
    /// The padded salts, then the openings (27 bytes per field); their base64 (36 characters per field).
    @exclusivity(unchecked) private var openings: Scratch
    @exclusivity(unchecked) private var openingTexts: Scratch
    /// The rest of one disclosure's JSON: `<name>",<value>]`.
    @exclusivity(unchecked) private var rest = Scratch(byteCount: 2048)
    @exclusivity(unchecked) private var text: Scratch
    @exclusivity(unchecked) private var textCount = 0
    /// Per disclosure: where its text starts, its padded length in blocks, its message pointer (set when hashing),
    /// its digest.
    @exclusivity(unchecked) private var starts: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) private var blocks: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) private var messages: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    @exclusivity(unchecked) private var digests: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) package private(set) var count = 0

    package init(textCapacity: Int = 4096, capacity: Int = 32) {
        self.capacity = capacity
        text = Scratch(byteCount: textCapacity)
        salts = Scratch(byteCount: capacity * Disclosure.saltByteCount)
        openings = Scratch(byteCount: capacity * Self.openingByteCount)
        openingTexts = Scratch(byteCount: capacity * Self.openingTextCount)
        (starts, blocks, messages, digests) = Self.allocateFields(capacity)
    }

    deinit {
        for scratch in [salts, openings, openingTexts, rest, text] { scratch.release() }
        deallocateFields()
    }

    /// Starts the disclosures of one entry: derives the salts of its `fields` fields from `seed` (`SaltDeriver`) and
    /// encodes all their openings.
    package func start(seed: UnsafeRawBufferPointer, fields: Int) {
        count = 0
        textCount = 0
        while capacity < fields { growFields() }
        let all = salts.pointer, padded = openings.pointer, paddedTexts = openingTexts.pointer
        SaltDeriver.derive(seed: seed, count: fields,
                           into: UnsafeMutableRawBufferPointer(start: all, count: fields * Disclosure.saltByteCount))
        for i in 0..<fields {
            (padded + Self.paddedSaltByteCount * i).update(from: all + Disclosure.saltByteCount * i,
                                                           count: Disclosure.saltByteCount)
            (padded + Self.paddedSaltByteCount * i + Disclosure.saltByteCount).update(repeating: 0, count: 2)
        }
        Base64.encodeURL(UnsafeRawBufferPointer(start: padded, count: Self.paddedSaltByteCount * fields), to: paddedTexts)
        for i in 0..<fields {
            let opening = padded + Self.openingByteCount * i
            opening[0] = 0x5b; opening[1] = 0x22                                          // ["
            (opening + 2).update(from: paddedTexts + 24 * i, count: 22)
            opening[24] = 0x22; opening[25] = 0x2c; opening[26] = 0x22                    // ","
        }
        Base64.encodeURL(UnsafeRawBufferPointer(start: padded, count: Self.openingByteCount * fields), to: paddedTexts)
    }

    /// Adds the disclosure of the next field (in the order of the salts): its opening's base64, then that of
    /// `<name>",<value>]`.
    package func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let index = count, offset = textCount
        precondition(index < capacity, "more disclosures than salts")
        let restCount = name.count + value.count + 3
        rest.reserve(restCount)
        let restBytes = UnsafeMutableRawPointer(rest.pointer)
        if let base = name.baseAddress { restBytes.copyMemory(from: base, byteCount: name.count) }
        restBytes.storeBytes(of: 0x22, toByteOffset: name.count, as: UInt8.self)         // "
        restBytes.storeBytes(of: 0x2c, toByteOffset: name.count + 1, as: UInt8.self)     // ,
        if let base = value.baseAddress { (restBytes + name.count + 2).copyMemory(from: base, byteCount: value.count) }
        restBytes.storeBytes(of: 0x5d, toByteOffset: restCount - 1, as: UInt8.self)      // ]
        let most = Self.paddedCount(Self.openingTextCount + Base64.encodedURLCount(restCount))
        text.reserve(offset + most, keeping: offset)
        let start = text.pointer + offset
        start.update(from: openingTexts.pointer + Self.openingTextCount * index, count: Self.openingTextCount)
        let length = Self.openingTextCount
            + Base64.encodeURL(UnsafeRawBufferPointer(start: restBytes, count: restCount),
                               to: start + Self.openingTextCount)
        let padded = Self.paddedCount(length)
        Self.pad(start, length: length, to: padded)
        starts[index] = offset
        blocks[index] = padded / 64
        textCount = offset + padded
        count = index + 1
    }

    /// Writes the frames the fields digest hashes (for each field, in leaf order: u8 name length || name || disclosure
    /// digest) to `w`: starts the entry's disclosures from `seed`, adds every field's, hashes them all together,
    /// then frames them. `forEachField` calls its body with each field's index, name and value; it runs twice.
    /// The import's sealer and deep verify both build the fields digest through this.
    package func writeFieldFrames(seed: UnsafeRawBufferPointer, fieldCount: Int,
                                  forEachField: ((Int, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> Void,
                                  to w: inout RawWriter) {
        start(seed: seed, fields: fieldCount)
        forEachField { _, name, value in append(name: name, value: value) }
        let digests = digestAll()
        forEachField { index, name, _ in
            let digest = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: digests[(32 * index)..<(32 * index + 32)]))
            Leaf.writeFieldFrame(name: name, digest: digest, to: &w)
        }
    }

    /// The length of a message of `length` bytes padded for SHA-256: room for 0x80 and the 8-byte length, in blocks.
    private static func paddedCount(_ length: Int) -> Int { (length + 9 + 63) / 64 * 64 }

    /// FIPS 180-4 §5.1.1: 0x80, zeros, the message length in bits as a 64-bit big-endian integer.
    private static func pad(_ message: UnsafeMutablePointer<UInt8>, length: Int, to padded: Int) {
        (message + length).update(repeating: 0, count: padded - length)
        message[length] = 0x80
        UnsafeMutableRawPointer(message + padded - 8).storeBytes(of: UInt64(8 * length).bigEndian, as: UInt64.self)
    }

    /// SHA-256 of each disclosure's ASCII, in the order added: `count` digests of 32 bytes (valid until the next
    /// `start`).
    package func digestAll() -> UnsafeRawBufferPointer {
        for i in 0..<count { messages[i] = UnsafePointer(text.pointer + starts[i]) }
        csha256_many_padded(messages, blocks, count, digests.assumingMemoryBound(to: UInt8.self))
        return UnsafeRawBufferPointer(start: digests, count: 32 * count)
    }

    private func growFields() {
        deallocateFields()
        capacity *= 2
        (starts, blocks, messages, digests) = Self.allocateFields(capacity)
        salts.reserve(capacity * Disclosure.saltByteCount)
        openings.reserve(capacity * Self.openingByteCount)
        openingTexts.reserve(capacity * Self.openingTextCount)
    }

    private static func allocateFields(_ capacity: Int) -> (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>,
                                                            UnsafeMutablePointer<UnsafePointer<UInt8>?>,
                                                            UnsafeMutableRawPointer) {
        (.allocate(capacity: capacity), .allocate(capacity: capacity), .allocate(capacity: capacity),
         .allocate(byteCount: 32 * capacity, alignment: 16))
    }

    private func deallocateFields() {
        starts.deallocate()
        blocks.deallocate()
        messages.deallocate()
        digests.deallocate()
    }
}

/// A growable byte buffer for secrets: zeroed before its memory is given back.
private struct Scratch {
    private(set) var pointer: UnsafeMutablePointer<UInt8>
    private var byteCount: Int

    init(byteCount: Int) {
        self.byteCount = max(1, byteCount)
        pointer = .allocate(capacity: self.byteCount)
    }

    /// Room for `needed` bytes, keeping the first `keeping`.
    mutating func reserve(_ needed: Int, keeping: Int = 0) {
        guard needed > byteCount else { return }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(needed, 2 * byteCount))
        grown.update(from: pointer, count: keeping)
        release()
        pointer = grown
        byteCount = max(needed, 2 * byteCount)
    }

    func release() {
        zeroize(UnsafeMutableRawBufferPointer(start: pointer, count: byteCount))
        pointer.deallocate()
    }
}
