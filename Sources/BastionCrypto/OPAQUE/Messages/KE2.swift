extension OPAQUE {
    /// The server's login answer: CredentialResponse || AuthResponse (RFC 9807 section 6.1).
    public struct KE2: Hashable, Sendable {
        /// The length of the masked response: server public key and envelope.
        public static let maskedResponseLength = OPAQUE.publicKeyLength + OPAQUE.envelopeLength
        /// The length of the CredentialResponse part.
        public static let credentialResponseLength = OPAQUE.elementLength + OPAQUE.nonceLength + maskedResponseLength
        /// The length of the encoding.
        public static let length =
            credentialResponseLength + OPAQUE.nonceLength + OPAQUE.publicKeyLength + OPAQUE.macLength

        /// credential_response.evaluated_message.
        public let evaluatedMessage: Ristretto255.Element
        /// credential_response.masking_nonce.
        public let maskingNonce: [UInt8]
        /// credential_response.masked_response: server_public_key || envelope, xor a pad.
        public let maskedResponse: [UInt8]
        /// auth_response.server_nonce.
        public let serverNonce: [UInt8]
        /// auth_response.server_public_keyshare: the server's ephemeral public key.
        public let serverPublicKeyshare: Ristretto255.Element
        /// auth_response.server_mac.
        public let serverMAC: [UInt8]

        /// A KE2; fails when a byte field has the wrong length.
        public init(
            evaluatedMessage: Ristretto255.Element,
            maskingNonce: [UInt8],
            maskedResponse: [UInt8],
            serverNonce: [UInt8],
            serverPublicKeyshare: Ristretto255.Element,
            serverMAC: [UInt8]
        ) throws(CryptoError) {
            guard maskingNonce.count == OPAQUE.nonceLength else {
                throw CryptoError.invalidLength(
                    "KE2.masking_nonce",
                    expected: OPAQUE.nonceLength,
                    actual: maskingNonce.count
                )
            }
            guard maskedResponse.count == Self.maskedResponseLength else {
                throw CryptoError.invalidLength(
                    "KE2.masked_response",
                    expected: Self.maskedResponseLength,
                    actual: maskedResponse.count
                )
            }
            guard serverNonce.count == OPAQUE.nonceLength else {
                throw CryptoError.invalidLength(
                    "KE2.server_nonce",
                    expected: OPAQUE.nonceLength,
                    actual: serverNonce.count
                )
            }
            guard serverMAC.count == OPAQUE.macLength else {
                throw CryptoError.invalidLength("KE2.server_mac", expected: OPAQUE.macLength, actual: serverMAC.count)
            }
            self.evaluatedMessage = evaluatedMessage
            self.maskingNonce = maskingNonce
            self.maskedResponse = maskedResponse
            self.serverNonce = serverNonce
            self.serverPublicKeyshare = serverPublicKeyshare
            self.serverMAC = serverMAC
        }

        /// Parses the encoding, refusing a wrong length, invalid elements or the identity.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "KE2", length: Self.length)
            self.evaluatedMessage = try reader.readElement("evaluated_message")
            self.maskingNonce = reader.read(OPAQUE.nonceLength)
            self.maskedResponse = reader.read(Self.maskedResponseLength)
            self.serverNonce = reader.read(OPAQUE.nonceLength)
            self.serverPublicKeyshare = try reader.readElement("server_public_keyshare")
            self.serverMAC = reader.read(OPAQUE.macLength)
        }

        /// The CredentialResponse part, as the preamble needs it.
        var credentialResponse: [UInt8] { evaluatedMessage.bytes + maskingNonce + maskedResponse }

        /// The encoding.
        public var serialized: [UInt8] { credentialResponse + serverNonce + serverPublicKeyshare.bytes + serverMAC }
    }
}
