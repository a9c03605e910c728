extension OPAQUE {
    /// The client's last login message: its MAC over the transcript (RFC 9807 section 6.1).
    public struct KE3: Hashable, Sendable {
        /// The length of the encoding.
        public static let length = OPAQUE.macLength

        /// client_mac.
        public let clientMAC: [UInt8]

        /// Parses the encoding, refusing a wrong length.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            var reader = try MessageReader(bytes, message: "KE3", length: Self.length)
            self.clientMAC = reader.read(OPAQUE.macLength)
        }

        /// The encoding: client_mac.
        public var serialized: [UInt8] { clientMAC }
    }
}
