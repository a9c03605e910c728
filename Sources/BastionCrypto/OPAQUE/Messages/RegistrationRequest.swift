extension OPAQUE {
    /// The client's first registration message: its blinded password (RFC 9807 section 5.1).
    public struct RegistrationRequest: Hashable, Sendable {
        /// The length of the encoding.
        public static let length = OPAQUE.elementLength

        /// blinded_message: the blinded OPRF input.
        public let blindedMessage: Ristretto255.Element

        public init(blindedMessage: Ristretto255.Element) {
            self.blindedMessage = blindedMessage
        }

        /// Parses the encoding, refusing a wrong length, an invalid element or the identity.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "RegistrationRequest", length: Self.length)
            self.blindedMessage = try reader.readElement("blinded_message")
        }

        /// The encoding: blinded_message.
        public var serialized: [UInt8] { blindedMessage.bytes }
    }
}
