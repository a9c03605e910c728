extension OPAQUE {
    /// What client and server must agree on beyond the fixed ciphersuite: the context string bound
    /// into every handshake, the server's identity, and the key-stretching function.
    public struct Configuration: Sendable {
        /// The application's context (RFC 9807 section 6): bound into the transcript, never sent.
        /// Bastion uses ``bastionContext``.
        public let context: [UInt8]
        /// The server's identity, or nil for its public key (RFC 9807 section 4).
        public let serverIdentity: [UInt8]?
        /// Stretch, run by the client on the OPRF output.
        public let keyStretching: any KeyStretchingFunction

        /// Bastion's context string.
        public static let bastionContext: [UInt8] = Array("Bastion OPAQUE-3DH ristretto255-SHA512 Argon2id v1".utf8)

        /// A configuration; fails when the context or identity is longer than 65535 bytes, or the
        /// identity is empty (RFC 9807 encodes identities as `<1..2^16-1>`).
        public init(
            context: [UInt8],
            serverIdentity: [UInt8]? = nil,
            keyStretching: any KeyStretchingFunction
        ) throws(CryptoError) {
            guard context.count <= OPAQUE.maximumIdentityLength else {
                throw CryptoError(code: .invalidInput, message: "the context is longer than 65535 bytes")
            }
            try OPAQUE.checkIdentity(serverIdentity, "server identity")
            self.context = context
            self.serverIdentity = serverIdentity
            self.keyStretching = keyStretching
        }

        /// Bastion's configuration: ``bastionContext``, Argon2id with ``Argon2idKeyStretching/bastion``.
        public static func bastion(serverIdentity: [UInt8]? = nil) throws(CryptoError) -> Configuration {
            try Configuration(
                context: bastionContext,
                serverIdentity: serverIdentity,
                keyStretching: Argon2idKeyStretching.bastion
            )
        }
    }

    static func checkIdentity(_ identity: [UInt8]?, _ what: String) throws(CryptoError) {
        guard let identity else { return }
        guard !identity.isEmpty, identity.count <= maximumIdentityLength else {
            throw CryptoError(code: .invalidInput, message: "the \(what) must be 1 to 65535 bytes, or absent")
        }
    }
}
