extension OPAQUE {
    /// What the client keeps between ``Client/createRegistrationRequest(password:)`` and
    /// ``Client/finalizeRegistration(response:state:clientIdentity:)``. Secret; use it once.
    public struct ClientRegistrationState: Sendable {
        let password: SecretBytes
        let blind: Ristretto255.Scalar
    }

    /// What the client keeps between ``Client/generateKE1(password:)`` and
    /// ``Client/generateKE3(ke2:state:clientIdentity:)``. Secret; use it once.
    public struct ClientLoginState: Sendable {
        let password: SecretBytes
        let blind: Ristretto255.Scalar
        let clientSecret: Ristretto255.Scalar
        let ke1: KE1
    }

    /// What the server keeps between ``Server/generateKE2(ke1:record:credentialIdentifier:clientIdentity:)``
    /// and ``Server/finish(ke3:state:)``: the MAC it expects in KE3 and the session key that MAC
    /// releases (RFC 9807 ServerAkeState).
    ///
    /// Secret. A server that spreads a login over two requests stores ``serialized`` (129 bytes,
    /// a version byte first) until KE3 arrives or the login expires, and deletes it after one use.
    public struct ServerLoginState: Sendable {
        /// The version byte of ``serialized``.
        public static let version: UInt8 = 1
        /// The length of ``serialized``.
        public static let serializedLength = 1 + OPAQUE.macLength + OPAQUE.extractLength

        let expectedClientMAC: SecretBytes
        let sessionKey: SecretBytes

        init(expectedClientMAC: [UInt8], sessionKey: [UInt8]) {
            self.expectedClientMAC = SecretBytes(expectedClientMAC)
            self.sessionKey = SecretBytes(sessionKey)
        }

        /// Loads a state written by ``serialized``.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == Self.serializedLength else {
                throw CryptoError.invalidLength(
                    "OPAQUE server login state",
                    expected: Self.serializedLength,
                    actual: bytes.count
                )
            }
            guard bytes[0] == Self.version else {
                throw CryptoError(
                    code: .unsupportedVersion,
                    message: "OPAQUE server login state version \(bytes[0]) is not \(Self.version)"
                )
            }
            self.expectedClientMAC = SecretBytes(Array(bytes[1..<1 + OPAQUE.macLength]))
            self.sessionKey = SecretBytes(Array(bytes[(1 + OPAQUE.macLength)...]))
        }

        /// The storable form. Secret.
        public var serialized: SecretBytes {
            SecretBytes([Self.version] + expectedClientMAC.bytes + sessionKey.bytes)
        }
    }

    /// The client's result of registration: the record to upload, and the export key.
    public struct RegistrationResult: Sendable {
        /// The record the server stores.
        public let record: RegistrationRecord
        /// export_key: an application key only the client can derive (RFC 9807 section 10.5).
        public let exportKey: SecretBytes
    }

    /// The client's result of a successful login.
    public struct ClientLoginResult: Sendable {
        /// The message that proves the client to the server.
        public let ke3: KE3
        /// session_key: equal to the server's after ``Server/finish(ke3:state:)``.
        public let sessionKey: SecretBytes
        /// export_key: the same as at registration.
        public let exportKey: SecretBytes
    }

    /// The server's result of ``Server/generateKE2(ke1:record:credentialIdentifier:clientIdentity:)``.
    public struct ServerLoginStart: Sendable {
        /// The message for the client.
        public let ke2: KE2
        /// What the server keeps until KE3.
        public let state: ServerLoginState
    }
}
