extension OPAQUE {
    /// The server's long-term secrets: the OPRF seed (one for all users, so unknown users cannot
    /// be told apart), the AKE key pair, and the fake record that answers logins for unknown users.
    ///
    /// Generate it once with ``generate()``, store ``serialized`` as a secret (193 bytes: a version
    /// byte, then oprf_seed, server_private_key, the fake record's client_public_key and
    /// masking_key), and load it with ``init(serialized:)``. Losing it invalidates every
    /// registration; leaking it exposes every record to offline guessing.
    public struct ServerSetup: Sendable {
        /// The version byte of ``serialized``.
        public static let version: UInt8 = 1
        /// The length of ``serialized``.
        public static let serializedLength =
            1 + OPAQUE.hashLength + OPAQUE.privateKeyLength + OPAQUE.publicKeyLength + OPAQUE.hashLength

        /// oprf_seed: Nh bytes from which each credential's OPRF key is derived.
        public let oprfSeed: SecretBytes
        /// server_private_key: the long-term AKE private key.
        public let privateKey: Ristretto255.Scalar
        /// server_public_key: what clients see in RegistrationResponse and inside KE2's masked part.
        public let publicKey: Ristretto255.Element
        /// The record used for credential identifiers that have none (RFC 9807 section 6.3.2.2):
        /// a random public key, a random masking key, an all-zero envelope.
        let fakeRecord: RegistrationRecord

        /// A setup from its parts; fails on wrong lengths or a zero private key.
        public init(
            oprfSeed: [UInt8],
            privateKey: Ristretto255.Scalar,
            fakeClientPublicKey: Ristretto255.Element,
            fakeMaskingKey: [UInt8]
        ) throws(CryptoError) {
            guard oprfSeed.count == OPAQUE.hashLength else {
                throw CryptoError.invalidLength("oprf_seed", expected: OPAQUE.hashLength, actual: oprfSeed.count)
            }
            guard !privateKey.isZero else {
                throw CryptoError(code: .invalidScalar, message: "the server private key must not be zero")
            }
            self.oprfSeed = SecretBytes(oprfSeed)
            self.privateKey = privateKey
            self.publicKey = try .generatorMultiple(privateKey)
            self.fakeRecord = try RegistrationRecord(
                clientPublicKey: fakeClientPublicKey,
                maskingKey: fakeMaskingKey,
                envelope: .zero
            )
        }

        /// A fresh setup from the system's CSPRNG: a random OPRF seed, an AKE key pair from
        /// DeriveDiffieHellmanKeyPair on a random seed, and a random fake record.
        public static func generate() -> ServerSetup {
            var seed = Sodium.randomBytes(OPAQUE.seedLength)
            defer { Sodium.zeroize(&seed) }
            var oprfSeed = Sodium.randomBytes(OPAQUE.hashLength)
            defer { Sodium.zeroize(&oprfSeed) }
            var fakeMaskingKey = Sodium.randomBytes(OPAQUE.hashLength)
            defer { Sodium.zeroize(&fakeMaskingKey) }
            // Failures here have negligible probability (a zero scalar from a hash); retrying is the RFC's advice.
            while true {
                do {
                    let keyPair = try ThreeDH.deriveKeyPair(seed: seed)
                    let fakeClientPublicKey = try Ristretto255.Element.generatorMultiple(.random())
                    return try ServerSetup(
                        oprfSeed: oprfSeed,
                        privateKey: keyPair.privateKey,
                        fakeClientPublicKey: fakeClientPublicKey,
                        fakeMaskingKey: fakeMaskingKey
                    )
                } catch {
                    seed = Sodium.randomBytes(OPAQUE.seedLength)
                }
            }
        }

        /// Loads a setup written by ``serialized``.
        public init(serialized bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == Self.serializedLength else {
                throw CryptoError.invalidLength(
                    "OPAQUE server setup",
                    expected: Self.serializedLength,
                    actual: bytes.count
                )
            }
            guard bytes[0] == Self.version else {
                throw CryptoError(
                    code: .unsupportedVersion,
                    message: "OPAQUE server setup version \(bytes[0]) is not \(Self.version)"
                )
            }
            var offset = 1
            func take(_ count: Int) -> [UInt8] {
                defer { offset += count }
                return Array(bytes[offset..<offset + count])
            }
            var seed = take(OPAQUE.hashLength)
            defer { Sodium.zeroize(&seed) }
            var privateKeyBytes = take(OPAQUE.privateKeyLength)
            defer { Sodium.zeroize(&privateKeyBytes) }
            let fakePublicKey = take(OPAQUE.publicKeyLength)
            var fakeMaskingKey = take(OPAQUE.hashLength)
            defer { Sodium.zeroize(&fakeMaskingKey) }
            try self.init(
                oprfSeed: seed,
                privateKey: try Ristretto255.Scalar(bytes: privateKeyBytes),
                fakeClientPublicKey: try Ristretto255.Element(bytes: fakePublicKey),
                fakeMaskingKey: fakeMaskingKey
            )
        }

        /// The storable form (see the type's documentation). Secret.
        public var serialized: SecretBytes {
            SecretBytes(
                [Self.version] + oprfSeed.bytes + privateKey.bytes + fakeRecord.clientPublicKey.bytes
                    + fakeRecord.maskingKey
            )
        }
    }
}

extension OPAQUE.ServerSetup: CustomStringConvertible {
    /// Only the public key, so the secrets cannot reach a log line by accident.
    public var description: String { "OPAQUE.ServerSetup(public key: \(publicKey))" }
}
