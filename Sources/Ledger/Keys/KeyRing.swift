import LedgerFormat
import MerkleLog
import Sodium

/// How the master key is supplied. Neither form ever passes through argv.
public enum KeySource: Sendable {
    case keyFile(path: String)
    case passphrase(SecretBytes)
}

/// Argon2id parameters stored in a passphrase-mode ledger (docs/FORMAT.md, meta `kdf`).
public struct PassphraseParameters: Sendable, Equatable {
    public var salt: [UInt8]
    public var opsLimit: UInt64
    public var memLimit: UInt64

    public static func moderate() -> PassphraseParameters {
        PassphraseParameters(salt: SecureRandom.bytes(Argon2id.saltByteCount),
                             opsLimit: Argon2id.moderateOpsLimit, memLimit: UInt64(Argon2id.moderateMemLimit))
    }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(1)          // format version
        w.u8(2)          // algorithm: Argon2id v1.3 (libsodium crypto_pwhash_ALG_ARGON2ID13)
        w.u64(opsLimit)
        w.u64(memLimit)
        w.raw(salt)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> PassphraseParameters {
        var r = ByteReader(bytes)
        guard (try? r.u8()) == 1, (try? r.u8()) == 2, let ops = try? r.u64(), let mem = try? r.u64(),
              let salt = try? r.bytes(Argon2id.saltByteCount), r.isAtEnd else {
            throw LedgerError.corrupt("passphrase parameters (meta `kdf`) do not decode")
        }
        // Bounds keep a tampered file from trapping (memlimit beyond Int) or stalling unlock for hours.
        guard (Argon2id.minimumOpsLimit...64).contains(ops),
              (UInt64(Argon2id.minimumMemLimit)...(4 << 30)).contains(mem) else {
            throw LedgerError.corrupt("passphrase parameters (meta `kdf`) are out of range")
        }
        return PassphraseParameters(salt: salt, opsLimit: ops, memLimit: mem)
    }

    func deriveMasterKey(_ passphrase: SecretBytes) throws -> SecretBytes {
        do {
            return try Argon2id.deriveKey(passphrase: passphrase, salt: salt,
                                          opsLimit: opsLimit, memLimit: Int(memLimit))
        } catch {
            throw LedgerError.wrongKey("could not derive the key from the passphrase: \(error)")
        }
    }
}

/// The subkeys derived from the master key with libsodium's KDF (docs/FORMAT.md, "Keys").
/// Each has one job, so compromising the use of one does not expose the others.
final class KeyRing: Sendable {
    static let context = "CLLEDGER"

    enum Purpose: UInt64 {
        case wrapMatterKeys = 1
        case indexTags = 2
        case sealSigningKey = 3
        case masterBox = 4
        /// Seals the index key once the master key has been rotated (meta `indexKey`, docs/FORMAT.md "Key epochs").
        case sealIndexKey = 5
    }

    let wrappingKey: SecretBytes
    let sealingKey: SecretBytes
    /// Matter and source tags (shared with appender credentials, which must tag what they append).
    let tags: TagKey
    /// The master's X25519 key pair: matter key pairs' private keys are sealed to its public half.
    let box: BoxKeyPair

    /// The index-key seal of this master key (meta `indexKey`, written by a rotation to it).
    let indexSealingKey: SecretBytes

    /// The subkeys of `master`. `indexKey` is the ledger's index key when it is not this master key's own: after a
    /// rotation the index key stays the one the ledger was created with (every stored tag depends on it), sealed
    /// under the current master key.
    init(master: SecretBytes, indexKey: SecretBytes? = nil) {
        wrappingKey = KeyDerivation.deriveSubkey(from: master, id: Purpose.wrapMatterKeys.rawValue,
                                                 context: Self.context)
        tags = TagKey(indexKey ?? KeyDerivation.deriveSubkey(from: master, id: Purpose.indexTags.rawValue,
                                                             context: Self.context))
        indexSealingKey = KeyDerivation.deriveSubkey(from: master, id: Purpose.sealIndexKey.rawValue,
                                                     context: Self.context)
        sealingKey = KeyDerivation.deriveSubkey(from: master, id: Purpose.sealSigningKey.rawValue,
                                                context: Self.context)
        box = BoxKeyPair(seed: KeyDerivation.deriveSubkey(from: master, id: Purpose.masterBox.rawValue,
                                                          context: Self.context))
    }

    var indexKey: SecretBytes { tags.key }
    func matterTag(_ matter: String) -> Hash { tags.matterTag(matter) }
    func sourceTag(_ sourceKey: String) -> Hash { tags.sourceTag(sourceKey) }

    // MARK: Sealed secrets: u8 version (1) || nonce (24) || XChaCha20-Poly1305(secret, ad)

    static let matterKeyLabel = Array("client-ledger/matter-key/v1".utf8)
    static let signingKeyLabel = Array("client-ledger/signing-key/v1".utf8)
    static let indexKeyLabel = Array("client-ledger/index-key/v1".utf8)

    /// Opens a v1 matter key. Nothing writes v1 keys since entry v2; ledgers written before keep theirs forever.
    func unwrapMatterKey(_ sealed: UnsafeRawBufferPointer, ledgerID: [UInt8], keyID: UInt32) throws -> SecretBytes {
        try Self.open(sealed, with: wrappingKey, ad: Self.matterKeyLabel + ledgerID + keyID.bigEndianBytes)
    }

    func sealSigningSeed(_ seed: SecretBytes, ledgerID: [UInt8]) -> [UInt8] {
        Self.seal(seed, with: sealingKey, ad: Self.signingKeyLabel + ledgerID)
    }

    func openSigningSeed(_ sealed: UnsafeRawBufferPointer, ledgerID: [UInt8]) throws -> SecretBytes {
        try Self.open(sealed, with: sealingKey, ad: Self.signingKeyLabel + ledgerID)
    }

    /// Re-wraps a v1 matter key (same format and associated data) under this master key's wrapping key.
    func wrapMatterKeyV1(_ key: SecretBytes, ledgerID: [UInt8], keyID: UInt32) -> [UInt8] {
        Self.seal(key, with: wrappingKey, ad: Self.matterKeyLabel + ledgerID + keyID.bigEndianBytes)
    }

    func sealIndexKey(_ indexKey: SecretBytes, ledgerID: [UInt8]) -> [UInt8] {
        Self.seal(indexKey, with: indexSealingKey, ad: Self.indexKeyLabel + ledgerID)
    }

    func openIndexKey(_ sealed: UnsafeRawBufferPointer, ledgerID: [UInt8]) throws -> SecretBytes {
        try Self.open(sealed, with: indexSealingKey, ad: Self.indexKeyLabel + ledgerID)
    }

    static let sealedOverhead = 1 + XChaCha20Poly1305.nonceByteCount + XChaCha20Poly1305.tagByteCount

    private static func seal(_ secret: SecretBytes, with key: SecretBytes, ad: [UInt8]) -> [UInt8] {
        let nonce = SecureRandom.bytes(XChaCha20Poly1305.nonceByteCount)
        var out = [UInt8](repeating: 0, count: 1 + nonce.count + secret.count + XChaCha20Poly1305.tagByteCount)
        out[0] = 1
        out.replaceSubrange(1..<1 + nonce.count, with: nonce)
        out.withUnsafeMutableBytes { buffer in
            secret.withUnsafeBytes { plaintext in
                ad.withUnsafeBytes { adBytes in
                    nonce.withUnsafeBytes { nonceBytes in
                        XChaCha20Poly1305.seal(plaintext, associatedData: adBytes, nonce: nonceBytes, key: key,
                            into: UnsafeMutableRawBufferPointer(rebasing: buffer[(1 + nonce.count)...]))
                    }
                }
            }
        }
        return out
    }

    private static func open(_ sealed: UnsafeRawBufferPointer, with key: SecretBytes,
                             ad: [UInt8]) throws -> SecretBytes {
        let nonceEnd = 1 + XChaCha20Poly1305.nonceByteCount
        guard sealed.count > sealedOverhead, sealed[0] == 1 else {
            throw LedgerError.corrupt("a sealed key has an unknown format")
        }
        return try ad.withUnsafeBytes { adBytes in
            try XChaCha20Poly1305.open(UnsafeRawBufferPointer(rebasing: sealed[nonceEnd...]), associatedData: adBytes,
                                       nonce: UnsafeRawBufferPointer(rebasing: sealed[1..<nonceEnd]), key: key)
        }
    }
}

/// The index key: keyed BLAKE2b tags of matter numbers and source keys.
final class TagKey: Sendable {
    let key: SecretBytes
    /// The index key's BLAKE2b midstate: a tag of a message up to 128 bytes is then one compression.
    private let hasher: ShortKeyedHash

    init(_ key: SecretBytes) {
        self.key = key
        hasher = key.withUnsafeBytes { ShortKeyedHash(key: $0, outputLength: Hash.byteCount) }
    }

    /// Keyed BLAKE2b of the matter number: equal matters give equal tags, nobody without the key can test a guess.
    func matterTag(_ matter: String) -> Hash {
        tag(domain: "matter", matter)
    }

    /// Keyed BLAKE2b of (sourceSystem, sourceId), the idempotency key of imports.
    func sourceTag(_ sourceKey: String) -> Hash {
        tag(domain: "source", sourceKey)
    }

    /// BLAKE2b-256(key = index key, message = domain || 0x00 || value). Messages up to 128 bytes (nearly all)
    /// are hashed from the key's midstate on the stack; longer ones by libsodium. Same bytes either way.
    private func tag(domain: String, _ value: String) -> Hash {
        var value = value
        return value.withUTF8 { valueBytes in
            let length = domain.utf8.count + 1 + valueBytes.count
            guard length <= ShortKeyedHash.maxMessageLength else {
                var message = Array(domain.utf8) + [0] + Array(valueBytes)
                defer { zeroize(&message) }
                return Hash(bytes: KeyedHash.hash(message, key: key, length: Hash.byteCount))!
            }
            return withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { message in
                defer { zeroize(message) }
                var n = 0
                for byte in domain.utf8 { message[n] = byte; n += 1 }
                message[n] = 0
                UnsafeMutableRawBufferPointer(rebasing: message[(n + 1)...])
                    .copyMemory(from: UnsafeRawBufferPointer(valueBytes))
                return withUnsafeTemporaryAllocation(byteCount: Hash.byteCount, alignment: 8) { out in
                    hasher.hash(UnsafeRawBufferPointer(message), into: out)
                    return Hash(unsafeBytes: UnsafeRawBufferPointer(out))
                }
            }
        }
    }
}
