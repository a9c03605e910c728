import CSodium

extension Ristretto255 {
    /// A ristretto255 group element other than the identity, kept in its canonical 32-byte encoding.
    public struct Element: Hashable, Sendable {
        /// The canonical encoding (SerializeElement).
        public let bytes: [UInt8]

        /// DeserializeElement (RFC 9497 section 2.1): decodes and validates `bytes`, refusing
        /// non-canonical encodings, bytes that are no element, and the identity.
        public init(bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == Ristretto255.elementLength else {
                throw CryptoError.invalidLength(
                    "ristretto255 element",
                    expected: Ristretto255.elementLength,
                    actual: bytes.count
                )
            }
            Sodium.ensureInitialized()
            // The identity's only canonical encoding is 32 zero bytes; libsodium accepts it as valid.
            guard !Sodium.isZero(bytes) else {
                throw CryptoError(code: .identityElement, message: "the identity element is not allowed here")
            }
            let valid = bytes.withUnsafeBufferPointer { crypto_core_ristretto255_is_valid_point($0.baseAddress!) == 1 }
            guard valid else {
                throw CryptoError(code: .invalidElement, message: "the bytes are not a canonical ristretto255 encoding")
            }
            self.bytes = bytes
        }

        /// Wraps bytes libsodium produced and checked.
        init(unchecked bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// The group's generator B.
        public static var generator: Element {
            var one = [UInt8](repeating: 0, count: Ristretto255.scalarLength)
            one[0] = 1
            // 1 * B cannot be the identity.
            return try! Element.generatorMultiple(Scalar(unchecked: one))
        }

        /// scalar * B. Fails only for the zero scalar (the identity).
        public static func generatorMultiple(_ scalar: Scalar) throws(CryptoError) -> Element {
            Sodium.ensureInitialized()
            var out = [UInt8](repeating: 0, count: Ristretto255.elementLength)
            let status = scalar.withPointer { s in
                out.withUnsafeMutableBufferPointer { crypto_scalarmult_ristretto255_base($0.baseAddress!, s) }
            }
            guard status == 0 else {
                throw CryptoError(
                    code: .identityElement,
                    message: "scalar multiplication of the generator gave the identity"
                )
            }
            return Element(unchecked: out)
        }

        /// scalar * self (ScalarMult). Fails when the result is the identity, which in a prime-order
        /// group means the scalar was zero.
        public func multiplied(by scalar: Scalar) throws(CryptoError) -> Element {
            var out = [UInt8](repeating: 0, count: Ristretto255.elementLength)
            let status = scalar.withPointer { s in
                bytes.withUnsafeBufferPointer { p in
                    out.withUnsafeMutableBufferPointer {
                        crypto_scalarmult_ristretto255($0.baseAddress!, s, p.baseAddress!)
                    }
                }
            }
            guard status == 0 else {
                throw CryptoError(code: .identityElement, message: "scalar multiplication gave the identity")
            }
            return Element(unchecked: out)
        }

        /// self + other. Fails when the sum is the identity.
        public func adding(_ other: Element) throws(CryptoError) -> Element {
            var out = [UInt8](repeating: 0, count: Ristretto255.elementLength)
            _ = bytes.withUnsafeBufferPointer { p in
                other.bytes.withUnsafeBufferPointer { q in
                    out.withUnsafeMutableBufferPointer {
                        crypto_core_ristretto255_add($0.baseAddress!, p.baseAddress!, q.baseAddress!)
                    }
                }
            }
            guard !Sodium.isZero(out) else {
                throw CryptoError(code: .identityElement, message: "the sum is the identity")
            }
            return Element(unchecked: out)
        }

        /// self - other. Fails when the difference is the identity (self == other).
        public func subtracting(_ other: Element) throws(CryptoError) -> Element {
            var out = [UInt8](repeating: 0, count: Ristretto255.elementLength)
            _ = bytes.withUnsafeBufferPointer { p in
                other.bytes.withUnsafeBufferPointer { q in
                    out.withUnsafeMutableBufferPointer {
                        crypto_core_ristretto255_sub($0.baseAddress!, p.baseAddress!, q.baseAddress!)
                    }
                }
            }
            guard !Sodium.isZero(out) else {
                throw CryptoError(code: .identityElement, message: "the difference is the identity")
            }
            return Element(unchecked: out)
        }

        /// The one-way map of RFC 9496 section 4.3.4 (`crypto_core_ristretto255_from_hash`) on 64
        /// uniform bytes. Fails in the (negligibly likely) case that the result is the identity.
        public static func fromUniformBytes(_ uniform: [UInt8]) throws(CryptoError) -> Element {
            guard uniform.count == Ristretto255.uniformBytesLength else {
                throw CryptoError.invalidLength(
                    "uniform bytes",
                    expected: Ristretto255.uniformBytesLength,
                    actual: uniform.count
                )
            }
            Sodium.ensureInitialized()
            var out = [UInt8](repeating: 0, count: Ristretto255.elementLength)
            _ = uniform.withUnsafeBufferPointer { u in
                out.withUnsafeMutableBufferPointer {
                    crypto_core_ristretto255_from_hash($0.baseAddress!, u.baseAddress!)
                }
            }
            guard !Sodium.isZero(out) else {
                throw CryptoError(code: .invalidInput, message: "the input maps to the identity element")
            }
            return Element(unchecked: out)
        }

        /// hash_to_ristretto255 (RFC 9380 appendix B): expand_message_xmd with SHA-512 to 64 bytes,
        /// then the one-way map.
        public static func hashToGroup(_ message: [UInt8], domainSeparationTag: [UInt8]) throws(CryptoError) -> Element
        {
            let uniform = try ExpandMessageXMDSHA512.expand(
                message,
                domainSeparationTag: domainSeparationTag,
                length: Ristretto255.uniformBytesLength
            )
            return try fromUniformBytes(uniform)
        }
    }
}

extension Ristretto255.Element: CustomStringConvertible {
    public var description: String {
        "Ristretto255.Element(\(bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()))"
    }
}
