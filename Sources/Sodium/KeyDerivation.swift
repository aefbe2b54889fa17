import CSodium

/// Argon2id password hashing (`crypto_pwhash` with `crypto_pwhash_ALG_ARGON2ID13`).
public enum Argon2id {
    public static let saltByteCount = 16
    /// `crypto_pwhash_argon2id_OPSLIMIT_MODERATE` (3).
    public static let moderateOpsLimit: UInt64 = UInt64(crypto_pwhash_argon2id_opslimit_moderate())
    /// `crypto_pwhash_argon2id_MEMLIMIT_MODERATE` (256 MiB).
    public static let moderateMemLimit: Int = crypto_pwhash_argon2id_memlimit_moderate()
    /// libsodium's minimum (1); for tests only.
    public static let minimumOpsLimit: UInt64 = UInt64(crypto_pwhash_argon2id_opslimit_min())
    /// libsodium's minimum (8 KiB); for tests only.
    public static let minimumMemLimit: Int = crypto_pwhash_argon2id_memlimit_min()

    /// Derives `length` bytes (16...) from `passphrase` and a 16-byte `salt`.
    /// Throws `SodiumError(operation: "pwhash.salt" / "pwhash.length", code: -1)` for bad sizes and
    /// `SodiumError(operation: "pwhash", code: rc)` when libsodium refuses (limits out of range,
    /// out of memory).
    public static func deriveKey(passphrase: SecretBytes, salt: [UInt8], opsLimit: UInt64, memLimit: Int,
                                 length: Int = 32) throws -> SecretBytes {
        Sodium.ensureInitialized()
        guard salt.count == saltByteCount else { throw SodiumError(operation: "pwhash.salt", code: -1) }
        guard length >= Int(crypto_pwhash_argon2id_bytes_min()) else {
            throw SodiumError(operation: "pwhash.length", code: -1)
        }
        guard memLimit >= 0 else { throw SodiumError(operation: "pwhash", code: -1) }
        let output = SecretBytes(count: length)
        let rc = passphrase.withUnsafeBytes { pw in
            salt.withUnsafeBytes { s in
                output.withUnsafeMutableBytes { out in
                    nonNullBase(pw).withMemoryRebound(to: CChar.self, capacity: Swift.max(pw.count, 1)) { pwChars in
                        crypto_pwhash(
                            nonNullBase(out), UInt64(out.count),
                            pwChars, UInt64(pw.count),
                            nonNullBase(s),
                            opsLimit, memLimit,
                            crypto_pwhash_argon2id_alg_argon2id13())
                    }
                }
            }
        }
        guard rc == 0 else { throw SodiumError(operation: "pwhash", code: rc) }
        return output
    }
}

/// Subkeys from a 32-byte master key (`crypto_kdf_derive_from_key`, BLAKE2b).
public enum KeyDerivation {
    public static let masterKeyByteCount = 32
    public static let contextByteCount = 8

    /// `context` must be exactly 8 ASCII bytes, `master` 32 bytes, `length` 16...64 (preconditions:
    /// these are compile-time constants of the caller, not input).
    public static func deriveSubkey(from master: SecretBytes, id: UInt64, context: String,
                                    length: Int = 32) -> SecretBytes {
        Sodium.ensureInitialized()
        let contextBytes = Array(context.utf8)
        precondition(contextBytes.count == contextByteCount && contextBytes.allSatisfy { $0 < 0x80 },
                     "KDF context must be exactly 8 ASCII bytes")
        precondition(master.count == masterKeyByteCount, "KDF master key must be 32 bytes")
        precondition(length >= Int(crypto_kdf_bytes_min()) && length <= Int(crypto_kdf_bytes_max()),
                     "KDF subkey length must be 16...64")
        let subkey = SecretBytes(count: length)
        let rc = master.withUnsafeBytes { m in
            subkey.withUnsafeMutableBytes { out in
                contextBytes.withUnsafeBytes { ctx in
                    nonNullBase(ctx).withMemoryRebound(to: CChar.self, capacity: contextByteCount) { ctxChars in
                        crypto_kdf_derive_from_key(nonNullBase(out), out.count, id, ctxChars, nonNullBase(m))
                    }
                }
            }
        }
        precondition(rc == 0, "crypto_kdf_derive_from_key failed (\(rc))")
        return subkey
    }
}
