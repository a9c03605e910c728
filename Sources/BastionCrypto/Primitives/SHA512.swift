import CSodium

/// SHA-512 (FIPS 180-4), from libsodium.
public enum SHA512 {
    /// The digest length in bytes.
    public static let outputLength = 64
    /// The block length in bytes (for HMAC and expand_message_xmd).
    public static let blockLength = 128

    /// SHA-512 of `message`.
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(message)
        return hasher.finalize()
    }

    /// SHA-512 of the concatenation of `parts`, without building the concatenation.
    public static func hash(parts: [[UInt8]]) -> [UInt8] {
        var hasher = Hasher()
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }

    /// Incremental SHA-512.
    public struct Hasher {
        private var state = crypto_hash_sha512_state()

        public init() {
            Sodium.ensureInitialized()
            crypto_hash_sha512_init(&state)
        }

        /// Absorbs `bytes`.
        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { buffer in
                _ = crypto_hash_sha512_update(&state, buffer.baseAddress, UInt64(buffer.count))
            }
        }

        /// The digest of everything absorbed. The hasher must not be used afterwards.
        public mutating func finalize() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: SHA512.outputLength)
            digest.withUnsafeMutableBufferPointer { buffer in
                _ = crypto_hash_sha512_final(&state, buffer.baseAddress!)
            }
            withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress, $0.count) }
            return digest
        }
    }
}
