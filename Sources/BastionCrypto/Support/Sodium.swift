import CSodium

/// The few libsodium services every primitive needs: initialisation, randomness, constant-time
/// comparison and zeroing.
enum Sodium {
    /// `sodium_init` runs once, on first use; a `static let` is initialised exactly once, thread-safely.
    private static let initialized: Bool = sodium_init() >= 0

    /// Makes sure libsodium is initialised (it picks its fastest implementations and seeds its RNG).
    @inline(__always)
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }

    /// `count` bytes from the operating system's CSPRNG (`randombytes_buf`).
    static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
        return bytes
    }

    /// Compares two byte strings in time that depends only on their lengths (`sodium_memcmp`).
    /// Lengths are public here (MACs and tags of fixed size): unequal lengths compare unequal.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in sodium_memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
    }

    /// True when every byte is zero, in time that depends only on the length (`sodium_is_zero`).
    static func isZero(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return true }
            return sodium_is_zero(base, buffer.count) == 1
        }
    }

    /// Overwrites the array's storage with zeros (`sodium_memzero`, which the compiler cannot elide).
    static func zeroize(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }
}
