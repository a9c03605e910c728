extension OPAQUE {
    /// The client's envelope (RFC 9807 section 3.3.1): a nonce and a MAC over the server's public
    /// key and both identities. The client's private key is not inside; it is re-derived from the
    /// randomized password and the nonce.
    public struct Envelope: Hashable, Sendable {
        /// The length of the encoding.
        public static let length = OPAQUE.envelopeLength

        /// envelope_nonce.
        public let nonce: [UInt8]
        /// auth_tag.
        public let authTag: [UInt8]

        /// An envelope; fails unless the nonce is 32 bytes and the tag 64.
        public init(nonce: [UInt8], authTag: [UInt8]) throws(CryptoError) {
            guard nonce.count == OPAQUE.nonceLength else {
                throw CryptoError.invalidLength(
                    "Envelope.envelope_nonce",
                    expected: OPAQUE.nonceLength,
                    actual: nonce.count
                )
            }
            guard authTag.count == OPAQUE.macLength else {
                throw CryptoError.invalidLength("Envelope.auth_tag", expected: OPAQUE.macLength, actual: authTag.count)
            }
            self.nonce = nonce
            self.authTag = authTag
        }

        /// Parses the encoding.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "Envelope", length: Self.length)
            self.nonce = reader.read(OPAQUE.nonceLength)
            self.authTag = reader.read(OPAQUE.macLength)
        }

        /// The all-zero envelope of a fake record (RFC 9807 section 6.3.2.2).
        static let zero = try! Envelope(
            nonce: [UInt8](repeating: 0, count: OPAQUE.nonceLength),
            authTag: [UInt8](repeating: 0, count: OPAQUE.macLength)
        )

        /// The encoding: envelope_nonce || auth_tag.
        public var serialized: [UInt8] { nonce + authTag }
    }
}
