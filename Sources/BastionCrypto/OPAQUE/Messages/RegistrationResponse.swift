extension OPAQUE {
    /// The server's registration answer: the evaluated element and its AKE public key (RFC 9807
    /// section 5.1).
    public struct RegistrationResponse: Hashable, Sendable {
        /// The length of the encoding.
        public static let length = OPAQUE.elementLength + OPAQUE.publicKeyLength

        /// evaluated_message: the OPRF evaluation of the blinded input.
        public let evaluatedMessage: Ristretto255.Element
        /// server_public_key: the server's long-term AKE public key.
        public let serverPublicKey: Ristretto255.Element

        public init(evaluatedMessage: Ristretto255.Element, serverPublicKey: Ristretto255.Element) {
            self.evaluatedMessage = evaluatedMessage
            self.serverPublicKey = serverPublicKey
        }

        /// Parses the encoding, refusing a wrong length, invalid elements or the identity.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "RegistrationResponse", length: Self.length)
            self.evaluatedMessage = try reader.readElement("evaluated_message")
            self.serverPublicKey = try reader.readElement("server_public_key")
        }

        /// The encoding: evaluated_message || server_public_key.
        public var serialized: [UInt8] { evaluatedMessage.bytes + serverPublicKey.bytes }
    }
}
