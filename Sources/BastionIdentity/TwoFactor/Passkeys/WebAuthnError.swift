/// Why WebAuthn input was refused: a code that callers can switch on and a message for people.
/// Parsers throw it for malformed bytes (with the offset where they stopped); the relying party
/// throws it for well-formed input that fails a check.
public struct WebAuthnError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case malformed, limitExceeded, unsupported, wrongType, wrongChallenge, wrongOrigin, crossOrigin
            case wrongRelyingParty, userNotPresent, userNotVerified, badSignature, counterRegressed, wrongUser
            case badAttestation
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The bytes are not what the format says (CBOR, authenticator data, COSE_Key, JSON).
        public static let malformed = Code(.malformed)
        /// The input is larger or deeper than the parser's limits allow.
        public static let limitExceeded = Code(.limitExceeded)
        /// Well-formed, but an algorithm, key type or attestation format this server does not take.
        public static let unsupported = Code(.unsupported)
        /// The client data's type is not the ceremony's (`webauthn.create` / `webauthn.get`).
        public static let wrongType = Code(.wrongType)
        public static let wrongChallenge = Code(.wrongChallenge)
        /// The client data's origin is not one the operator allowed.
        public static let wrongOrigin = Code(.wrongOrigin)
        /// The client data says the call came from a cross-origin frame.
        public static let crossOrigin = Code(.crossOrigin)
        /// The authenticator data's RP ID hash is not the SHA-256 of this server's RP ID.
        public static let wrongRelyingParty = Code(.wrongRelyingParty)
        public static let userNotPresent = Code(.userNotPresent)
        public static let userNotVerified = Code(.userNotVerified)
        public static let badSignature = Code(.badSignature)
        /// A non-zero signature counter did not grow: the authenticator may have been cloned.
        public static let counterRegressed = Code(.counterRegressed)
        /// The assertion's user handle is not the user's.
        public static let wrongUser = Code(.wrongUser)
        public static let badAttestation = Code(.badAttestation)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    /// Where in the input the parser stopped, when it was a parser.
    public var offset: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(code): \(message) (at byte \(offset))" }
        return "\(code): \(message)"
    }
}
