extension OPAQUE {
    /// The client's first login message: CredentialRequest || AuthRequest (RFC 9807 section 6.1).
    public struct KE1: Hashable, Sendable {
        /// The length of the encoding.
        public static let length = OPAQUE.elementLength + OPAQUE.nonceLength + OPAQUE.publicKeyLength

        /// credential_request.blinded_message: the blinded password.
        public let blindedMessage: Ristretto255.Element
        /// auth_request.client_nonce.
        public let clientNonce: [UInt8]
        /// auth_request.client_public_keyshare: the client's ephemeral public key.
        public let clientPublicKeyshare: Ristretto255.Element

        /// A KE1; fails unless the nonce is 32 bytes.
        public init(
            blindedMessage: Ristretto255.Element,
            clientNonce: [UInt8],
            clientPublicKeyshare: Ristretto255.Element
        ) throws(CryptoError) {
            guard clientNonce.count == OPAQUE.nonceLength else {
                throw CryptoError.invalidLength(
                    "KE1.client_nonce",
                    expected: OPAQUE.nonceLength,
                    actual: clientNonce.count
                )
            }
            self.blindedMessage = blindedMessage
            self.clientNonce = clientNonce
            self.clientPublicKeyshare = clientPublicKeyshare
        }

        /// Parses the encoding, refusing a wrong length, invalid elements or the identity.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "KE1", length: Self.length)
            self.blindedMessage = try reader.readElement("blinded_message")
            self.clientNonce = reader.read(OPAQUE.nonceLength)
            self.clientPublicKeyshare = try reader.readElement("client_public_keyshare")
        }

        /// The encoding: blinded_message || client_nonce || client_public_keyshare.
        public var serialized: [UInt8] { blindedMessage.bytes + clientNonce + clientPublicKeyshare.bytes }
    }
}
