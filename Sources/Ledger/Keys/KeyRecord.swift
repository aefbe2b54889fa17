import LedgerFormat
import MerkleLog
import Sodium

/// A value of the `keys` database, by its first byte (docs/FORMAT.md, "Keys"):
///
///     1  matter key v1:   u8 1 || nonce (24) || XChaCha20-Poly1305(key, wrapping key)           (entries of leaf v1)
///     2  matter key pair: u8 2 || matter tag (32) || u32 previous key id (0: none) || public key (32)
///                         || sealed box to the master box key of (private key (32) || matter number)
///     3  batch key:       u8 3 || u32 key pair id || sealed box to that pair's public key of (data key (32))
///                                                                                              (entries of leaf v2)
enum KeyRecord: Equatable {
    case matterKey(sealed: [UInt8])
    case keyPair(KeyPairRecord)
    case batchKey(pairID: UInt32, sealed: [UInt8])

    struct KeyPairRecord: Equatable {
        let tag: Hash
        let previousID: UInt32
        let publicKey: [UInt8]
        let sealedSecret: [UInt8]
    }

    static let batchKeyByteCount = 1 + 4 + SealedBox.overhead + XChaCha20Poly1305.keyByteCount

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case .matterKey(let sealed):
            w.raw(sealed)  // already carries its version byte (1)
        case .keyPair(let pair):
            w.u8(2)
            pair.tag.withUnsafeBytes { w.raw($0) }
            w.u32(pair.previousID)
            w.raw(pair.publicKey)
            w.raw(pair.sealedSecret)
        case .batchKey(let pairID, let sealed):
            w.u8(3)
            w.u32(pairID)
            w.raw(sealed)
        }
        return w.bytes
    }

    static func decode(_ raw: UnsafeRawBufferPointer, id: UInt32) throws -> KeyRecord {
        var r = ByteReader(raw)
        do {
            switch try r.u8() {
            case 1:
                guard raw.count == KeyRing.sealedOverhead + XChaCha20Poly1305.keyByteCount else { break }
                return .matterKey(sealed: Array(raw))
            case 2:
                let tag = Hash(unsafeBytes: try r.take(Hash.byteCount))
                let previous = try r.u32()
                let publicKey = try r.bytes(BoxKeyPair.publicKeyByteCount)
                let sealed = Array(try r.take(r.remaining))
                guard sealed.count > SealedBox.overhead + BoxKeyPair.secretKeyByteCount + Hash.byteCount, previous < id else { break }
                return .keyPair(KeyPairRecord(tag: tag, previousID: previous, publicKey: publicKey, sealedSecret: sealed))
            case 3:
                let pairID = try r.u32()
                let sealed = Array(try r.take(r.remaining))
                guard raw.count == batchKeyByteCount, pairID < id else { break }
                return .batchKey(pairID: pairID, sealed: sealed)
            default:
                break
            }
        } catch {}
        throw LedgerError.corrupt("key \(id) in the keys database has an unknown or damaged format")
    }
}

/// The secret a key pair record or a reader's wrap seals: `secret key (32) || matter tag (32) || matter number
/// (UTF-8)`. The secret is a key pair's private key, or (reader wraps of leaf v1 matters) a v1 matter key.
struct MatterSecret {
    let secretKey: SecretBytes
    let tag: Hash
    let matter: String

    static func seal(secretKey: SecretBytes, tag: Hash, matter: String, to publicKey: [UInt8]) -> [UInt8] {
        var message = [UInt8]()
        message.reserveCapacity(secretKey.count + Hash.byteCount + matter.utf8.count)  // one buffer, zeroed after
        defer { zeroize(&message) }
        secretKey.withUnsafeBytes { message.append(contentsOf: $0) }
        message += tag.bytes
        message += matter.utf8
        return message.withUnsafeBytes { SealedBox.seal($0, to: publicKey) }
    }

    static func open(_ sealed: UnsafeRawBufferPointer, with pair: BoxKeyPair) throws -> MatterSecret {
        let message = try SealedBox.open(sealed, with: pair)
        return try message.withUnsafeBytes { raw in
            guard raw.count > 64, let matter = String(validating: raw[64...], as: UTF8.self) else {
                throw LedgerError.corrupt("a sealed matter secret does not decode")
            }
            return MatterSecret(secretKey: SecretBytes(copying: UnsafeRawBufferPointer(rebasing: raw[0..<32])),
                                tag: Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: raw[32..<64])), matter: matter)
        }
    }
}
