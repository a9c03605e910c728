import CSodium

/// Argon2id (RFC 9106) as OPAQUE's KSF, from libsodium's `crypto_pwhash` with one lane (p = 1,
/// which is all libsodium runs), version 0x13, a salt of 16 zero bytes (the salt's work is done by
/// the OPRF, whose key is per user), and an output as long as the input (Nh = 64).
///
/// See docs/CRYPTO.md for why ``bastion`` has the parameters it has.
public struct Argon2idKeyStretching: KeyStretchingFunction, Hashable {
    /// Passes over memory (Argon2's t; libsodium's opslimit).
    public let iterations: Int
    /// Memory in KiB (Argon2's m; libsodium's memlimit is this times 1024).
    public let memoryKiB: Int

    /// The salt length libsodium requires; the salt is all zeros.
    public static let saltLength = 16

    /// Bastion's production parameters: t = 3, m = 256 MiB, p = 1.
    public static let bastion = Argon2idKeyStretching(uncheckedIterations: 3, memoryKiB: 256 * 1024)

    /// The defaults of the Rust `argon2` crate (0.5) that opaque-ke uses, and so the Python
    /// `opaque-ke-py` package: t = 2, m = 19 MiB, p = 1. Used by the interoperability test.
    public static let opaqueKeDefault = Argon2idKeyStretching(uncheckedIterations: 2, memoryKiB: 19 * 1024)

    /// Argon2id with `iterations` passes over `memoryKiB` KiB, checked against libsodium's limits.
    public init(iterations: Int, memoryKiB: Int) throws(CryptoError) {
        let memoryBytes = memoryKiB.multipliedReportingOverflow(by: 1024)
        guard iterations >= Int(crypto_pwhash_argon2id_OPSLIMIT_MIN),
            !memoryBytes.overflow,
            memoryBytes.partialValue >= Int(crypto_pwhash_argon2id_MEMLIMIT_MIN),
            memoryBytes.partialValue <= csodium_pwhash_argon2id_memlimit_max()
        else {
            throw CryptoError(
                code: .keyStretchingFailed,
                message: "Argon2id parameters t=\(iterations), m=\(memoryKiB) KiB are out of range"
            )
        }
        self.iterations = iterations
        self.memoryKiB = memoryKiB
    }

    private init(uncheckedIterations: Int, memoryKiB: Int) {
        self.iterations = uncheckedIterations
        self.memoryKiB = memoryKiB
    }

    public func stretch(_ input: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ensureInitialized()
        guard input.count >= Int(crypto_pwhash_argon2id_BYTES_MIN), input.count <= csodium_pwhash_argon2id_bytes_max()
        else {
            throw CryptoError(code: .keyStretchingFailed, message: "Argon2id cannot produce \(input.count) bytes")
        }
        var output = [UInt8](repeating: 0, count: input.count)
        let salt = [UInt8](repeating: 0, count: Self.saltLength)
        let status = input.withUnsafeBytes { password in
            salt.withUnsafeBufferPointer { saltBuffer in
                output.withUnsafeMutableBufferPointer { out in
                    crypto_pwhash(
                        out.baseAddress!,
                        UInt64(out.count),
                        password.baseAddress!.assumingMemoryBound(to: CChar.self),
                        UInt64(password.count),
                        saltBuffer.baseAddress!,
                        UInt64(iterations),
                        memoryKiB * 1024,
                        crypto_pwhash_argon2id_ALG_ARGON2ID13
                    )
                }
            }
        }
        guard status == 0 else {
            throw CryptoError(
                code: .keyStretchingFailed,
                message: "Argon2id failed (t=\(iterations), m=\(memoryKiB) KiB): out of memory?"
            )
        }
        return output
    }
}
