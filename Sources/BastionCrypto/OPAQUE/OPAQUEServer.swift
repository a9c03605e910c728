extension OPAQUE {
    /// The server side of OPAQUE: the registration response, KE2 (for known and unknown users
    /// alike), and the check of KE3.
    ///
    /// Stateless and cheap (no key stretching on the server): KE2 returns a ``ServerLoginState``
    /// that ``finish(ke3:state:)`` takes.
    public struct Server: Sendable {
        /// The long-term secrets.
        public let setup: ServerSetup
        /// The agreed configuration. Its key-stretching function is not used on the server.
        public let configuration: Configuration

        public init(setup: ServerSetup, configuration: Configuration) {
            self.setup = setup
            self.configuration = configuration
        }

        /// CreateRegistrationResponse: evaluates the blinded password under the OPRF key of
        /// `credentialIdentifier`, and sends the server's public key.
        ///
        /// The credential identifier must be unique per credential and stay the same for its whole
        /// life (the OPRF key derives from it); Bastion uses the user id.
        public func createRegistrationResponse(
            request: RegistrationRequest,
            credentialIdentifier: [UInt8]
        ) throws(CryptoError) -> RegistrationResponse {
            let oprfKey = try ThreeDH.oprfKey(oprfSeed: setup.oprfSeed, credentialIdentifier: credentialIdentifier)
            let evaluated = try OPRF.blindEvaluate(privateKey: oprfKey, blindedElement: request.blindedMessage)
            return RegistrationResponse(evaluatedMessage: evaluated, serverPublicKey: setup.publicKey)
        }

        /// GenerateKE2. Pass the stored `record`, or nil when the credential identifier has none:
        /// the server then answers from its fake record, through the same computation, so the
        /// answer looks like a real one to anyone who does not know the password (RFC 9807 section
        /// 10.9). `clientIdentity` must be what the client used at registration (nil for its
        /// public key).
        public func generateKE2(
            ke1: KE1,
            record: RegistrationRecord?,
            credentialIdentifier: [UInt8],
            clientIdentity: [UInt8]? = nil
        ) throws(CryptoError) -> ServerLoginStart {
            try generateKE2(
                ke1: ke1,
                record: record,
                credentialIdentifier: credentialIdentifier,
                clientIdentity: clientIdentity,
                maskingNonce: Sodium.randomBytes(OPAQUE.nonceLength),
                serverNonce: Sodium.randomBytes(OPAQUE.nonceLength),
                serverKeyshareSeed: Sodium.randomBytes(OPAQUE.seedLength)
            )
        }

        func generateKE2(
            ke1: KE1,
            record: RegistrationRecord?,
            credentialIdentifier: [UInt8],
            clientIdentity: [UInt8]?,
            maskingNonce: [UInt8],
            serverNonce: [UInt8],
            serverKeyshareSeed: [UInt8]
        ) throws(CryptoError) -> ServerLoginStart {
            try OPAQUE.checkIdentity(clientIdentity, "client identity")
            let record = record ?? setup.fakeRecord

            // CreateCredentialResponse
            let oprfKey = try ThreeDH.oprfKey(oprfSeed: setup.oprfSeed, credentialIdentifier: credentialIdentifier)
            let evaluated = try OPRF.blindEvaluate(privateKey: oprfKey, blindedElement: ke1.blindedMessage)
            let pad = try ThreeDH.credentialResponsePad(maskingKey: record.maskingKey, maskingNonce: maskingNonce)
            let maskedResponse = Bytes.xor(pad, setup.publicKey.bytes + record.envelope.serialized)

            // AuthServerRespond
            let keyshare = try ThreeDH.deriveKeyPair(seed: serverKeyshareSeed)
            let credentialResponse = evaluated.bytes + maskingNonce + maskedResponse
            let preamble = ThreeDH.preamble(
                context: configuration.context,
                clientIdentity: clientIdentity ?? record.clientPublicKey.bytes,
                ke1: ke1,
                serverIdentity: configuration.serverIdentity ?? setup.publicKey.bytes,
                credentialResponse: credentialResponse,
                serverNonce: serverNonce,
                serverPublicKeyshare: keyshare.publicKey
            )
            var ikm =
                try ThreeDH.diffieHellman(keyshare.privateKey, ke1.clientPublicKeyshare)
                + ThreeDH.diffieHellman(setup.privateKey, ke1.clientPublicKeyshare)
                + ThreeDH.diffieHellman(keyshare.privateKey, record.clientPublicKey)
            defer { Sodium.zeroize(&ikm) }
            var keys = try ThreeDH.deriveKeys(ikm: ikm, preamble: preamble)
            defer { keys.zeroize() }
            let serverMAC = HMACSHA512.authenticate(SHA512.hash(preamble), key: keys.serverMACKey)
            let expectedClientMAC = HMACSHA512.authenticate(SHA512.hash(preamble + serverMAC), key: keys.clientMACKey)

            let ke2 = try KE2(
                evaluatedMessage: evaluated,
                maskingNonce: maskingNonce,
                maskedResponse: maskedResponse,
                serverNonce: serverNonce,
                serverPublicKeyshare: keyshare.publicKey,
                serverMAC: serverMAC
            )
            return ServerLoginStart(
                ke2: ke2,
                state: ServerLoginState(expectedClientMAC: expectedClientMAC, sessionKey: keys.sessionKey)
            )
        }

        /// ServerFinish: checks the client's MAC in constant time and releases the session key.
        /// Fails with ``CryptoError/Code-swift.struct/clientAuthenticationFailed`` for a wrong
        /// password or an unknown user.
        public func finish(ke3: KE3, state: ServerLoginState) throws(CryptoError) -> SecretBytes {
            guard state.expectedClientMAC.constantTimeEquals(ke3.clientMAC) else {
                throw CryptoError(code: .clientAuthenticationFailed, message: "the client's MAC in KE3 does not verify")
            }
            return state.sessionKey
        }
    }
}
