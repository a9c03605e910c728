import CSodium

extension Ristretto255 {
    /// A scalar modulo the group order L = 2^252 + 27742317777372353535851937790883648493, in
    /// 32-byte little-endian form. Its storage is zeroed when no copy is left, since scalars are
    /// mostly secret (private keys, blinds).
    public struct Scalar: Sendable {
        private let storage: SecretBytes

        /// Decodes a canonical scalar (below L). Zero is allowed here; protocol code refuses it where
        /// it matters.
        public init(bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == Ristretto255.scalarLength else {
                throw CryptoError.invalidLength(
                    "ristretto255 scalar",
                    expected: Ristretto255.scalarLength,
                    actual: bytes.count
                )
            }
            // Canonical means reducing the value changes nothing.
            var wide = bytes + [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            defer { Sodium.zeroize(&wide) }
            var reduced = Scalar.reduce(wide)
            defer { Sodium.zeroize(&reduced) }
            guard Sodium.constantTimeEqual(reduced, bytes) else {
                throw CryptoError(code: .invalidScalar, message: "the scalar is not below the group order")
            }
            self.storage = SecretBytes(bytes)
        }

        /// Wraps bytes known to be canonical.
        init(unchecked bytes: [UInt8]) {
            self.storage = SecretBytes(bytes)
        }

        /// A uniformly random non-zero scalar (`crypto_core_ristretto255_scalar_random`).
        public static func random() -> Scalar {
            Sodium.ensureInitialized()
            var out = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            out.withUnsafeMutableBufferPointer { crypto_core_ristretto255_scalar_random($0.baseAddress!) }
            return Scalar(unchecked: out)
        }

        /// The 64-byte little-endian integer `wide` reduced modulo L (`crypto_core_ristretto255_scalar_reduce`).
        public static func reducing(_ wide: [UInt8]) throws(CryptoError) -> Scalar {
            guard wide.count == Ristretto255.uniformBytesLength else {
                throw CryptoError.invalidLength(
                    "wide scalar",
                    expected: Ristretto255.uniformBytesLength,
                    actual: wide.count
                )
            }
            return Scalar(unchecked: reduce(wide))
        }

        private static func reduce(_ wide: [UInt8]) -> [UInt8] {
            Sodium.ensureInitialized()
            var out = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            wide.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer {
                    crypto_core_ristretto255_scalar_reduce($0.baseAddress!, w.baseAddress!)
                }
            }
            return out
        }

        /// HashToScalar for ristretto255-SHA512 (RFC 9497 section 4.1): expand_message_xmd with
        /// SHA-512 to 64 bytes, read little-endian, reduced modulo L.
        public static func hashToScalar(_ message: [UInt8], domainSeparationTag: [UInt8]) throws(CryptoError) -> Scalar
        {
            var uniform = try ExpandMessageXMDSHA512.expand(
                message,
                domainSeparationTag: domainSeparationTag,
                length: Ristretto255.uniformBytesLength
            )
            defer { Sodium.zeroize(&uniform) }
            return try reducing(uniform)
        }

        /// The canonical encoding (SerializeScalar). Secret for most scalars: handle with care.
        public var bytes: [UInt8] { storage.bytes }

        /// True for the zero scalar (constant time).
        public var isZero: Bool { withPointer { sodium_is_zero($0, Ristretto255.scalarLength) == 1 } }

        /// Lends the encoding to `body` without copying it.
        func withPointer<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
            storage.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        }

        /// The multiplicative inverse. Fails for zero.
        public func inverted() throws(CryptoError) -> Scalar {
            var out = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            let status = withPointer { s in
                out.withUnsafeMutableBufferPointer {
                    crypto_core_ristretto255_scalar_invert($0.baseAddress!, s)
                }
            }
            guard status == 0 else {
                throw CryptoError(code: .invalidScalar, message: "zero has no inverse")
            }
            return Scalar(unchecked: out)
        }

        /// -self mod L.
        public func negated() -> Scalar {
            var out = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            withPointer { s in
                out.withUnsafeMutableBufferPointer {
                    crypto_core_ristretto255_scalar_negate($0.baseAddress!, s)
                }
            }
            return Scalar(unchecked: out)
        }

        /// self + other mod L.
        public func adding(_ other: Scalar) -> Scalar {
            var out = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            withPointer { x in
                other.withPointer { y in
                    out.withUnsafeMutableBufferPointer {
                        crypto_core_ristretto255_scalar_add(
                            $0.baseAddress!,
                            x,
                            y
                        )
                    }
                }
            }
            return Scalar(unchecked: out)
        }

        /// self * other mod L.
        public func multiplied(by other: Scalar) -> Scalar {
            var out = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            withPointer { x in
                other.withPointer { y in
                    out.withUnsafeMutableBufferPointer {
                        crypto_core_ristretto255_scalar_mul(
                            $0.baseAddress!,
                            x,
                            y
                        )
                    }
                }
            }
            return Scalar(unchecked: out)
        }

        /// Compares with `other` in constant time.
        public func constantTimeEquals(_ other: Scalar) -> Bool {
            storage.constantTimeEquals(other.storage)
        }
    }
}

extension Ristretto255.Scalar: CustomStringConvertible {
    /// Never the value, so a private key cannot reach a log line by accident.
    public var description: String { "Ristretto255.Scalar(redacted)" }
}
