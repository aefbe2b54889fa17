import CSodium

/// Keyed BLAKE2b (`crypto_generichash` with a key).
public enum KeyedHash {
    /// Preconditions: key 16...64 bytes, length 16...64.
    public static func hash(_ message: UnsafeRawBufferPointer, key: SecretBytes,
                            into output: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialized()
        precondition(key.count >= Int(crypto_generichash_keybytes_min())
                        && key.count <= Int(crypto_generichash_keybytes_max()),
                     "KeyedHash key must be 16...64 bytes")
        precondition(output.count >= Int(crypto_generichash_bytes_min())
                        && output.count <= Int(crypto_generichash_bytes_max()),
                     "KeyedHash length must be 16...64")
        let rc = key.withUnsafeBytes { k in
            crypto_generichash(nonNullBase(output), output.count, nonNullBase(message), UInt64(message.count),
                               nonNullBase(k), k.count)
        }
        precondition(rc == 0, "crypto_generichash failed (\(rc))")
    }

    public static func hash(_ message: UnsafeRawBufferPointer, key: SecretBytes, length: Int = 32) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        output.withUnsafeMutableBytes { hash(message, key: key, into: $0) }
        return output
    }

    public static func hash(_ message: [UInt8], key: SecretBytes, length: Int = 32) -> [UInt8] {
        message.withUnsafeBytes { hash($0, key: key, length: length) }
    }
}

/// libsodium's portable SHA-256 (`crypto_hash_sha256`). For cold paths (key ids); hot paths
/// should use a hardware-accelerated implementation.
public enum SHA256Sodium {
    public static let byteCount = 32

    public static func hash(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        Sodium.ensureInitialized()
        var output = [UInt8](repeating: 0, count: byteCount)
        let rc = output.withUnsafeMutableBytes { out in
            crypto_hash_sha256(nonNullBase(out), nonNullBase(message), UInt64(message.count))
        }
        precondition(rc == 0, "crypto_hash_sha256 failed (\(rc))")
        return output
    }

    public static func hash(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { hash($0) }
    }
}
