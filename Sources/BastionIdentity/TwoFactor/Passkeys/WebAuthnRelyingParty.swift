import BastionPolicy

/// The relying party's checks of WebAuthn Level 3 §7.1 (registering a new credential) and §7.2
/// (verifying an authentication assertion), without the storage: the caller finds the challenge
/// and the stored credential, and keeps the new signature counter.
///
/// Accepted attestation: format `none` (an empty statement) and `packed` self-attestation (no
/// certificate; the credential key signs). Other formats, and `packed` with a certificate chain,
/// are refused: the server asks for `attestation: "none"`, which makes browsers send `none`.
public struct WebAuthnRelyingParty: Sendable, Hashable {
    public enum UserVerification: String, Sendable, Hashable, CaseIterable {
        /// UV must be set in every registration and assertion.
        case required
        /// Asked for, not demanded; UP alone suffices.
        case preferred
        case discouraged
    }

    /// The RP ID: a domain (e.g. `example.com`) the origins belong to.
    public var id: String
    /// The name authenticators show.
    public var name: String
    /// The exact origins (`https://example.com`, `https://login.example.com:8443`) client data may
    /// name; anything else is refused.
    public var origins: [String]
    public var userVerification: UserVerification
    /// The algorithms offered, in order of preference.
    public var algorithms: [COSEKey.Algorithm] = [.es256, .edDSA]

    public init(id: String, name: String, origins: [String], userVerification: UserVerification = .preferred) {
        self.id = id
        self.name = name
        self.origins = origins
        self.userVerification = userVerification
    }

    public var idHash: [UInt8] { SHA256.hash(Array(id.utf8)) }

    /// A credential that passed registration.
    public struct NewCredential: Sendable, Hashable {
        public var credentialID: [UInt8]
        /// The COSE_Key as the authenticator encoded it.
        public var publicKeyBytes: [UInt8]
        public var publicKey: COSEKey
        public var signCount: UInt32
        public var aaguid: [UInt8]
        public var userVerified: Bool
        public var backupEligible: Bool
        public var attestationFormat: String
    }

    /// §7.1: checks a registration's client data (already parsed, so the caller could find the
    /// challenge it names) and attestation object against the challenge that was issued.
    public func verifyRegistration(
        clientData: CollectedClientData,
        attestationObject: [UInt8],
        challenge: [UInt8]
    ) throws(WebAuthnError) -> NewCredential {
        try check(clientData, type: "webauthn.create", challenge: challenge)
        let object = try CBOR.decode(attestationObject)
        guard object.mapEntries != nil, let format = object["fmt"]?.textString,
            let statement = object["attStmt"], let statementEntries = statement.mapEntries,
            let authDataBytes = object["authData"]?.byteString
        else {
            throw WebAuthnError(.malformed, "an attestation object is a CBOR map of fmt, attStmt and authData")
        }
        let authData = try AuthenticatorData(authDataBytes)
        try check(authData)
        guard let credential = authData.attestedCredential else {
            throw WebAuthnError(.malformed, "the registration's authenticator data has no attested credential (AT)")
        }
        guard algorithms.contains(credential.publicKey.algorithm) else {
            throw WebAuthnError(.unsupported, "the credential's algorithm was not offered")
        }
        switch format {
        case "none":
            guard statementEntries.isEmpty else {
                throw WebAuthnError(.badAttestation, "attestation format none has an empty statement")
            }
        case "packed":
            guard statement["x5c"] == nil else {
                throw WebAuthnError(
                    .unsupported,
                    "packed attestation with a certificate is not taken; register with attestation \"none\""
                )
            }
            guard let alg = statement["alg"]?.integer, let signature = statement["sig"]?.byteString else {
                throw WebAuthnError(.badAttestation, "packed self-attestation needs alg and sig")
            }
            guard alg == credential.publicKey.algorithm.rawValue else {
                throw WebAuthnError(.badAttestation, "packed self-attestation's alg is not the credential's")
            }
            guard
                credential.publicKey.verify(
                    signature: signature,
                    over: authDataBytes + SHA256.hash(clientData.bytes)
                )
            else {
                throw WebAuthnError(.badAttestation, "packed self-attestation's signature does not verify")
            }
        default:
            throw WebAuthnError(
                .unsupported,
                "attestation format \(format.prefix(32)) is not taken; register with attestation \"none\""
            )
        }
        return NewCredential(
            credentialID: credential.credentialID,
            publicKeyBytes: credential.publicKeyBytes,
            publicKey: credential.publicKey,
            signCount: authData.signCount,
            aaguid: credential.aaguid,
            userVerified: authData.flags.contains(.userVerified),
            backupEligible: authData.flags.contains(.backupEligible),
            attestationFormat: format
        )
    }

    /// §7.2: checks an assertion against the issued challenge and the stored credential; returns
    /// the authenticator data, whose `signCount` the caller stores. The counter rule: when the
    /// stored or the new counter is not zero, the new one must be greater (else
    /// ``WebAuthnError/Code/counterRegressed``, checked after the signature, so only the
    /// credential's holder can trigger it).
    public func verifyAssertion(
        clientData: CollectedClientData,
        authenticatorData: [UInt8],
        signature: [UInt8],
        challenge: [UInt8],
        publicKey: COSEKey,
        storedSignCount: UInt32,
        userHandle: [UInt8],
        expectedUserHandle: [UInt8]
    ) throws(WebAuthnError) -> AuthenticatorData {
        try check(clientData, type: "webauthn.get", challenge: challenge)
        let authData = try AuthenticatorData(authenticatorData)
        try check(authData)
        if !userHandle.isEmpty, !constantTimeEquals(userHandle, expectedUserHandle) {
            throw WebAuthnError(.wrongUser, "the assertion's user handle is not this user's")
        }
        guard publicKey.verify(signature: signature, over: authenticatorData + SHA256.hash(clientData.bytes)) else {
            throw WebAuthnError(.badSignature, "the assertion's signature does not verify with the passkey's key")
        }
        if storedSignCount != 0 || authData.signCount != 0, authData.signCount <= storedSignCount {
            throw WebAuthnError(
                .counterRegressed,
                "the signature counter went from \(storedSignCount) to \(authData.signCount); the passkey may be cloned"
            )
        }
        return authData
    }

    func check(_ clientData: CollectedClientData, type: String, challenge: [UInt8]) throws(WebAuthnError) {
        guard clientData.type == type else {
            throw WebAuthnError(.wrongType, "the client data's type is \(clientData.type.prefix(32)), not \(type)")
        }
        guard constantTimeEquals(clientData.challenge, challenge) else {
            throw WebAuthnError(.wrongChallenge, "the client data names another challenge")
        }
        guard origins.contains(clientData.origin) else {
            throw WebAuthnError(
                .wrongOrigin,
                "origin \(clientData.origin.prefix(256)) is not allowed for RP ID \(id)"
            )
        }
        guard !clientData.crossOrigin else {
            throw WebAuthnError(.crossOrigin, "cross-origin calls (crossOrigin: true) are not allowed")
        }
    }

    func check(_ authData: AuthenticatorData) throws(WebAuthnError) {
        guard constantTimeEquals(authData.rpIDHash, idHash) else {
            throw WebAuthnError(.wrongRelyingParty, "the authenticator data is for another RP ID than \(id)")
        }
        guard authData.flags.contains(.userPresent) else {
            throw WebAuthnError(.userNotPresent, "the authenticator did not see the user (UP flag missing)")
        }
        if userVerification == .required, !authData.flags.contains(.userVerified) {
            throw WebAuthnError(.userNotVerified, "this server requires user verification (UV flag missing)")
        }
    }
}
