/// The OPAQUE-3DH pieces shared by client and server: key derivation, the preamble and the key
/// schedule (RFC 9807 sections 3.3, 6.4).
enum ThreeDH {
    static let deriveDiffieHellmanKeyPairInfo = Bytes.ascii("OPAQUE-DeriveDiffieHellmanKeyPair")
    static let deriveKeyPairInfo = Bytes.ascii("OPAQUE-DeriveKeyPair")

    /// DeriveDiffieHellmanKeyPair(seed) for ristretto255.
    static func deriveKeyPair(seed: [UInt8]) throws(CryptoError) -> OPRF.KeyPair {
        try OPRF.deriveKeyPair(seed: seed, info: deriveDiffieHellmanKeyPairInfo)
    }

    /// DiffieHellman(k, B) = SerializeElement(k * B); the identity is refused.
    static func diffieHellman(_ privateKey: Ristretto255.Scalar, _ publicKey: Ristretto255.Element) throws(CryptoError)
        -> [UInt8]
    {
        try publicKey.multiplied(by: privateKey).bytes
    }

    /// The per-credential OPRF key: DeriveKeyPair(Expand(oprf_seed, credential_identifier || "OprfKey", Nok), "OPAQUE-DeriveKeyPair").
    static func oprfKey(oprfSeed: SecretBytes, credentialIdentifier: [UInt8]) throws(CryptoError) -> Ristretto255.Scalar
    {
        var seed = try HKDFSHA512.expand(
            pseudorandomKey: oprfSeed.bytes,
            info: credentialIdentifier + Bytes.ascii("OprfKey"),
            length: OPAQUE.oprfKeyLength
        )
        defer { Sodium.zeroize(&seed) }
        return try OPRF.deriveKeyPair(seed: seed, info: deriveKeyPairInfo).privateKey
    }

    /// The credential response pad: Expand(masking_key, masking_nonce || "CredentialResponsePad", Npk + Nn + Nm).
    static func credentialResponsePad(maskingKey: [UInt8], maskingNonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        try HKDFSHA512.expand(
            pseudorandomKey: maskingKey,
            info: maskingNonce + Bytes.ascii("CredentialResponsePad"),
            length: OPAQUE.KE2.maskedResponseLength
        )
    }

    /// CleartextCredentials serialised as the envelope's MAC covers it:
    /// server_public_key || I2OSP(len(server_identity), 2) || server_identity || I2OSP(len(client_identity), 2) || client_identity.
    static func cleartextCredentials(
        serverPublicKey: [UInt8],
        serverIdentity: [UInt8],
        clientIdentity: [UInt8]
    ) -> [UInt8] {
        serverPublicKey + Bytes.i2osp2(serverIdentity.count) + serverIdentity + Bytes.i2osp2(clientIdentity.count)
            + clientIdentity
    }

    /// Preamble(client_identity, ke1, server_identity, credential_response, server_nonce, server_public_keyshare).
    static func preamble(
        context: [UInt8],
        clientIdentity: [UInt8],
        ke1: OPAQUE.KE1,
        serverIdentity: [UInt8],
        credentialResponse: [UInt8],
        serverNonce: [UInt8],
        serverPublicKeyshare: Ristretto255.Element
    ) -> [UInt8] {
        Bytes.ascii("OPAQUEv1-") + Bytes.i2osp2(context.count) + context
            + Bytes.i2osp2(clientIdentity.count) + clientIdentity
            + ke1.serialized
            + Bytes.i2osp2(serverIdentity.count) + serverIdentity
            + credentialResponse + serverNonce + serverPublicKeyshare.bytes
    }

    /// Expand-Label(Secret, Label, Context, Length) with the TLS 1.3-style CustomLabel and the "OPAQUE-" prefix.
    static func expandLabel(_ secret: [UInt8], _ label: StaticString, _ context: [UInt8], _ length: Int)
        throws(CryptoError) -> [UInt8]
    {
        let fullLabel = Bytes.ascii("OPAQUE-") + Bytes.ascii(label)
        let info =
            Bytes.i2osp2(length) + Bytes.i2osp1(fullLabel.count) + fullLabel + Bytes.i2osp1(context.count) + context
        return try HKDFSHA512.expand(pseudorandomKey: secret, info: info, length: length)
    }

    /// The keys of one handshake: both MAC keys and the session key.
    struct Keys {
        var serverMACKey: [UInt8]
        var clientMACKey: [UInt8]
        var sessionKey: [UInt8]

        mutating func zeroize() {
            Sodium.zeroize(&serverMACKey)
            Sodium.zeroize(&clientMACKey)
            Sodium.zeroize(&sessionKey)
        }
    }

    /// DeriveKeys(ikm, preamble).
    static func deriveKeys(ikm: [UInt8], preamble: [UInt8]) throws(CryptoError) -> Keys {
        var prk = HKDFSHA512.extract(salt: [], inputKeyMaterial: ikm)
        defer { Sodium.zeroize(&prk) }
        let transcriptHash = SHA512.hash(preamble)
        var handshakeSecret = try expandLabel(prk, "HandshakeSecret", transcriptHash, OPAQUE.extractLength)
        defer { Sodium.zeroize(&handshakeSecret) }
        let sessionKey = try expandLabel(prk, "SessionKey", transcriptHash, OPAQUE.extractLength)
        let serverMACKey = try expandLabel(handshakeSecret, "ServerMAC", [], OPAQUE.extractLength)
        let clientMACKey = try expandLabel(handshakeSecret, "ClientMAC", [], OPAQUE.extractLength)
        return Keys(serverMACKey: serverMACKey, clientMACKey: clientMACKey, sessionKey: sessionKey)
    }
}
