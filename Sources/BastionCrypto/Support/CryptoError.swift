/// An error raised by BastionCrypto.
///
/// Every malformed input (a message of the wrong length, bytes that are not a group element, the
/// identity element where a public key belongs) and every failed check (a wrong password, a forged
/// MAC) surfaces as one of these. Messages name what was wrong, never a secret value.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem this is. A struct over a private enum, so codes can be added later
    /// without breaking exhaustive switches in users' code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Wrapped: Hashable, Sendable {
            case invalidLength
            case invalidElement
            case identityElement
            case invalidScalar
            case invalidInput
            case deriveKeyPairFailed
            case envelopeRecoveryFailed
            case serverAuthenticationFailed
            case clientAuthenticationFailed
            case keyStretchingFailed
            case unsupportedVersion
        }

        let wrapped: Wrapped

        init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A message, key or field had the wrong number of bytes.
        public static let invalidLength = Code(.invalidLength)
        /// Bytes that should encode a ristretto255 element do not (RFC 9496 decoding failed).
        public static let invalidElement = Code(.invalidElement)
        /// A ristretto255 element was the identity where a public key or evaluated element belongs,
        /// or a Diffie-Hellman result was the identity.
        public static let identityElement = Code(.identityElement)
        /// Bytes that should encode a scalar are not below the group order, or a scalar was zero
        /// where a non-zero one is required.
        public static let invalidScalar = Code(.invalidScalar)
        /// An input the protocol cannot use: an empty or oversized identity or context, an input
        /// that hashes to the identity element (negligible probability), an oversized
        /// expand_message_xmd request.
        public static let invalidInput = Code(.invalidInput)
        /// RFC 9497 DeriveKeyPair found no non-zero scalar in 256 tries (negligible probability).
        public static let deriveKeyPairFailed = Code(.deriveKeyPairFailed)
        /// The client could not open its envelope: a wrong password, or a fake response for an
        /// unknown user (RFC 9807 EnvelopeRecoveryError). The two are deliberately alike.
        public static let envelopeRecoveryFailed = Code(.envelopeRecoveryFailed)
        /// The server's MAC in KE2 did not verify (RFC 9807 ServerAuthenticationError).
        public static let serverAuthenticationFailed = Code(.serverAuthenticationFailed)
        /// The client's MAC in KE3 did not verify (RFC 9807 ClientAuthenticationError).
        public static let clientAuthenticationFailed = Code(.clientAuthenticationFailed)
        /// The key-stretching function failed (Argon2id could not allocate its memory, or its
        /// parameters are out of libsodium's range).
        public static let keyStretchingFailed = Code(.keyStretchingFailed)
        /// A serialized server setup or login state carries a version this code does not know.
        public static let unsupportedVersion = Code(.unsupportedVersion)

        public var description: String {
            switch wrapped {
            case .invalidLength: "invalid length"
            case .invalidElement: "invalid element"
            case .identityElement: "identity element"
            case .invalidScalar: "invalid scalar"
            case .invalidInput: "invalid input"
            case .deriveKeyPairFailed: "key pair derivation failed"
            case .envelopeRecoveryFailed: "envelope recovery failed"
            case .serverAuthenticationFailed: "server authentication failed"
            case .clientAuthenticationFailed: "client authentication failed"
            case .keyStretchingFailed: "key stretching failed"
            case .unsupportedVersion: "unsupported version"
            }
        }
    }

    /// What kind of problem this is.
    public var code: Code
    /// A sentence for people: what was wrong, and in which field. Never contains secret bytes.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "crypto error (\(code)): \(message)" }

    static func invalidLength(_ what: String, expected: Int, actual: Int) -> CryptoError {
        CryptoError(code: .invalidLength, message: "\(what) must be \(expected) bytes, got \(actual)")
    }
}
