import CSodium

/// HMAC-SHA-512 (RFC 2104), from libsodium's `crypto_auth_hmacsha512_*`, which takes keys of any
/// length (longer than a block, they are hashed first, as RFC 2104 says).
public enum HMACSHA512 {
    /// The tag length in bytes.
    public static let outputLength = 64

    /// HMAC-SHA-512 of `message` under `key`.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        authenticate(parts: [message], key: key)
    }

    /// HMAC-SHA-512 of the concatenation of `parts` under `key`.
    public static func authenticate(parts: [[UInt8]], key: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha512_state()
        defer { withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress, $0.count) } }
        // An empty key still needs a valid pointer; libsodium reads `key.count` bytes of it.
        let keyLength = key.count
        (key.isEmpty ? [0] : key).withUnsafeBufferPointer { buffer in
            _ = crypto_auth_hmacsha512_init(&state, buffer.baseAddress!, keyLength)
        }
        for part in parts {
            part.withUnsafeBufferPointer { buffer in
                _ = crypto_auth_hmacsha512_update(&state, buffer.baseAddress, UInt64(buffer.count))
            }
        }
        var tag = [UInt8](repeating: 0, count: outputLength)
        tag.withUnsafeMutableBufferPointer { buffer in
            _ = crypto_auth_hmacsha512_final(&state, buffer.baseAddress!)
        }
        return tag
    }

    /// Checks `tag` against HMAC-SHA-512 of `message` in constant time.
    public static func verify(_ tag: [UInt8], for message: [UInt8], key: [UInt8]) -> Bool {
        var expected = authenticate(message, key: key)
        defer { Sodium.zeroize(&expected) }
        return Sodium.constantTimeEqual(expected, tag)
    }
}
