extension OPAQUE {
    /// What the client uploads at the end of registration and the server stores per credential
    /// (RFC 9807 section 5.1). Its masking key is confidential: store the record as a secret.
    public struct RegistrationRecord: Hashable, Sendable {
        /// The length of the encoding.
        public static let length = OPAQUE.publicKeyLength + OPAQUE.hashLength + OPAQUE.envelopeLength

        /// client_public_key: the client's long-term AKE public key.
        public let clientPublicKey: Ristretto255.Element
        /// masking_key: the key that masks the server's credential response.
        public let maskingKey: [UInt8]
        /// envelope.
        public let envelope: Envelope

        /// A record; fails unless the masking key is 64 bytes.
        public init(clientPublicKey: Ristretto255.Element, maskingKey: [UInt8], envelope: Envelope) throws(CryptoError)
        {
            guard maskingKey.count == OPAQUE.hashLength else {
                throw CryptoError.invalidLength(
                    "RegistrationRecord.masking_key",
                    expected: OPAQUE.hashLength,
                    actual: maskingKey.count
                )
            }
            self.clientPublicKey = clientPublicKey
            self.maskingKey = maskingKey
            self.envelope = envelope
        }

        /// Parses the encoding, refusing a wrong length, an invalid public key or the identity.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "RegistrationRecord", length: Self.length)
            self.clientPublicKey = try reader.readElement("client_public_key")
            self.maskingKey = reader.read(OPAQUE.hashLength)
            self.envelope = try Envelope(serialized: reader.read(OPAQUE.envelopeLength))
        }

        /// The encoding: client_public_key || masking_key || envelope.
        public var serialized: [UInt8] { clientPublicKey.bytes + maskingKey + envelope.serialized }
    }
}

extension OPAQUE.RegistrationRecord: CustomStringConvertible {
    /// Leaves out the masking key.
    public var description: String {
        "RegistrationRecord(client_public_key: \(clientPublicKey.bytes.count) bytes, masking_key: redacted)"
    }
}
