extension OPAQUE {
    /// The client side of OPAQUE: registration (request, then finalize) and login (KE1, then KE3).
    ///
    /// Stateless: each step returns a state value that the next step takes. Runs the key-stretching
    /// function, so ``finalizeRegistration(response:state:clientIdentity:)`` and
    /// ``generateKE3(ke2:state:clientIdentity:)`` take as long as Argon2id does (docs/CRYPTO.md).
    public struct Client: Sendable {
        /// The agreed configuration.
        public let configuration: Configuration

        public init(configuration: Configuration) {
            self.configuration = configuration
        }

        // MARK: Registration

        /// CreateRegistrationRequest(password): blinds the password.
        public func createRegistrationRequest(
            password: [UInt8]
        ) throws(CryptoError) -> (request: RegistrationRequest, state: ClientRegistrationState) {
            try createRegistrationRequest(password: password, blind: .random())
        }

        func createRegistrationRequest(
            password: [UInt8],
            blind: Ristretto255.Scalar
        ) throws(CryptoError) -> (request: RegistrationRequest, state: ClientRegistrationState) {
            let blinded = try OPRF.blind(password, with: blind)
            return (
                RegistrationRequest(blindedMessage: blinded.blindedElement),
                ClientRegistrationState(password: SecretBytes(password), blind: blind)
            )
        }

        /// FinalizeRegistrationRequest: unblinds the server's answer, stretches it, and seals the
        /// envelope. `clientIdentity` nil means the client's public key.
        public func finalizeRegistration(
            response: RegistrationResponse,
            state: ClientRegistrationState,
            clientIdentity: [UInt8]? = nil
        ) throws(CryptoError) -> RegistrationResult {
            try finalizeRegistration(
                response: response,
                state: state,
                clientIdentity: clientIdentity,
                envelopeNonce: Sodium.randomBytes(OPAQUE.nonceLength)
            )
        }

        func finalizeRegistration(
            response: RegistrationResponse,
            state: ClientRegistrationState,
            clientIdentity: [UInt8]?,
            envelopeNonce: [UInt8]
        ) throws(CryptoError) -> RegistrationResult {
            try OPAQUE.checkIdentity(clientIdentity, "client identity")
            var randomizedPassword = try randomizedPassword(
                password: state.password,
                blind: state.blind,
                evaluatedElement: response.evaluatedMessage
            )
            defer { Sodium.zeroize(&randomizedPassword) }
            let sealed = try store(
                randomizedPassword: randomizedPassword,
                serverPublicKey: response.serverPublicKey,
                clientIdentity: clientIdentity,
                envelopeNonce: envelopeNonce
            )
            return RegistrationResult(
                record: try RegistrationRecord(
                    clientPublicKey: sealed.clientPublicKey,
                    maskingKey: sealed.maskingKey.bytes,
                    envelope: sealed.envelope
                ),
                exportKey: sealed.exportKey
            )
        }

        // MARK: Login

        /// GenerateKE1(password): blinds the password and makes an ephemeral key share.
        public func generateKE1(password: [UInt8]) throws(CryptoError) -> (ke1: KE1, state: ClientLoginState) {
            try generateKE1(
                password: password,
                blind: .random(),
                clientNonce: Sodium.randomBytes(OPAQUE.nonceLength),
                clientKeyshareSeed: Sodium.randomBytes(OPAQUE.seedLength)
            )
        }

        func generateKE1(
            password: [UInt8],
            blind: Ristretto255.Scalar,
            clientNonce: [UInt8],
            clientKeyshareSeed: [UInt8]
        ) throws(CryptoError) -> (ke1: KE1, state: ClientLoginState) {
            let blinded = try OPRF.blind(password, with: blind)
            let keyshare = try ThreeDH.deriveKeyPair(seed: clientKeyshareSeed)
            let ke1 = try KE1(
                blindedMessage: blinded.blindedElement,
                clientNonce: clientNonce,
                clientPublicKeyshare: keyshare.publicKey
            )
            let state = ClientLoginState(
                password: SecretBytes(password),
                blind: blind,
                clientSecret: keyshare.privateKey,
                ke1: ke1
            )
            return (ke1, state)
        }

        /// GenerateKE3: recovers the credentials from KE2, checks the server's MAC, and answers with
        /// the client's. A wrong password and an unknown user both fail with
        /// ``CryptoError/Code-swift.struct/envelopeRecoveryFailed``; a server that cannot prove its
        /// key fails with ``CryptoError/Code-swift.struct/serverAuthenticationFailed``.
        public func generateKE3(
            ke2: KE2,
            state: ClientLoginState,
            clientIdentity: [UInt8]? = nil
        ) throws(CryptoError) -> ClientLoginResult {
            try OPAQUE.checkIdentity(clientIdentity, "client identity")
            // RecoverCredentials
            var randomizedPassword = try randomizedPassword(
                password: state.password,
                blind: state.blind,
                evaluatedElement: ke2.evaluatedMessage
            )
            defer { Sodium.zeroize(&randomizedPassword) }
            var maskingKey = try HKDFSHA512.expand(
                pseudorandomKey: randomizedPassword,
                info: Bytes.ascii("MaskingKey"),
                length: OPAQUE.hashLength
            )
            defer { Sodium.zeroize(&maskingKey) }
            let pad = try ThreeDH.credentialResponsePad(maskingKey: maskingKey, maskingNonce: ke2.maskingNonce)
            let unmasked = Bytes.xor(pad, ke2.maskedResponse)
            // With a wrong password the "server public key" is noise; fail as the envelope would.
            guard let serverPublicKey = try? Ristretto255.Element(bytes: Array(unmasked[0..<OPAQUE.publicKeyLength]))
            else {
                throw Self.envelopeRecoveryError
            }
            let envelope = try Envelope(serialized: Array(unmasked[OPAQUE.publicKeyLength...]))
            let recovered = try recover(
                randomizedPassword: randomizedPassword,
                serverPublicKey: serverPublicKey,
                envelope: envelope,
                clientIdentity: clientIdentity
            )

            // AuthClientFinalize
            var ikm =
                try ThreeDH.diffieHellman(state.clientSecret, ke2.serverPublicKeyshare)
                + ThreeDH.diffieHellman(state.clientSecret, serverPublicKey)
                + ThreeDH.diffieHellman(recovered.clientPrivateKey, ke2.serverPublicKeyshare)
            defer { Sodium.zeroize(&ikm) }
            let preamble = ThreeDH.preamble(
                context: configuration.context,
                clientIdentity: recovered.clientIdentity,
                ke1: state.ke1,
                serverIdentity: recovered.serverIdentity,
                credentialResponse: ke2.credentialResponse,
                serverNonce: ke2.serverNonce,
                serverPublicKeyshare: ke2.serverPublicKeyshare
            )
            var keys = try ThreeDH.deriveKeys(ikm: ikm, preamble: preamble)
            defer { keys.zeroize() }
            let preambleHash = SHA512.hash(preamble)
            let expectedServerMAC = HMACSHA512.authenticate(preambleHash, key: keys.serverMACKey)
            guard Sodium.constantTimeEqual(expectedServerMAC, ke2.serverMAC) else {
                throw CryptoError(code: .serverAuthenticationFailed, message: "the server's MAC in KE2 does not verify")
            }
            let clientMAC = HMACSHA512.authenticate(SHA512.hash(preamble + expectedServerMAC), key: keys.clientMACKey)
            return ClientLoginResult(
                ke3: try KE3(serialized: clientMAC),
                sessionKey: SecretBytes(keys.sessionKey),
                exportKey: recovered.exportKey
            )
        }

        // MARK: Envelope

        static let envelopeRecoveryError = CryptoError(
            code: .envelopeRecoveryFailed,
            message: "the envelope does not open: wrong password, or no such credential"
        )

        /// Finalize, Stretch, then randomized_password = Extract("", oprf_output || stretched_oprf_output).
        private func randomizedPassword(
            password: SecretBytes,
            blind: Ristretto255.Scalar,
            evaluatedElement: Ristretto255.Element
        ) throws(CryptoError) -> [UInt8] {
            var oprfOutput = try OPRF.finalize(input: password.bytes, blind: blind, evaluatedElement: evaluatedElement)
            defer { Sodium.zeroize(&oprfOutput) }
            var stretched = try configuration.keyStretching.stretch(oprfOutput)
            defer { Sodium.zeroize(&stretched) }
            var input = oprfOutput + stretched
            defer { Sodium.zeroize(&input) }
            return HKDFSHA512.extract(salt: [], inputKeyMaterial: input)
        }

        private struct Sealed {
            let envelope: Envelope
            let clientPublicKey: Ristretto255.Element
            let maskingKey: SecretBytes
            let exportKey: SecretBytes
        }

        /// The keys an envelope nonce and randomized password determine.
        private struct EnvelopeKeys {
            var authKey: [UInt8]
            let exportKey: SecretBytes
            let keyPair: OPRF.KeyPair
        }

        private func envelopeKeys(randomizedPassword: [UInt8], nonce: [UInt8]) throws(CryptoError) -> EnvelopeKeys {
            let authKey = try HKDFSHA512.expand(
                pseudorandomKey: randomizedPassword,
                info: nonce + Bytes.ascii("AuthKey"),
                length: OPAQUE.hashLength
            )
            let exportKey = try HKDFSHA512.expand(
                pseudorandomKey: randomizedPassword,
                info: nonce + Bytes.ascii("ExportKey"),
                length: OPAQUE.hashLength
            )
            var seed = try HKDFSHA512.expand(
                pseudorandomKey: randomizedPassword,
                info: nonce + Bytes.ascii("PrivateKey"),
                length: OPAQUE.seedLength
            )
            defer { Sodium.zeroize(&seed) }
            let keyPair = try ThreeDH.deriveKeyPair(seed: seed)
            return EnvelopeKeys(authKey: authKey, exportKey: SecretBytes(exportKey), keyPair: keyPair)
        }

        /// Store (RFC 9807 section 3.3.1.1).
        private func store(
            randomizedPassword: [UInt8],
            serverPublicKey: Ristretto255.Element,
            clientIdentity: [UInt8]?,
            envelopeNonce: [UInt8]
        ) throws(CryptoError) -> Sealed {
            guard envelopeNonce.count == OPAQUE.nonceLength else {
                throw CryptoError.invalidLength(
                    "envelope_nonce",
                    expected: OPAQUE.nonceLength,
                    actual: envelopeNonce.count
                )
            }
            let maskingKey = try HKDFSHA512.expand(
                pseudorandomKey: randomizedPassword,
                info: Bytes.ascii("MaskingKey"),
                length: OPAQUE.hashLength
            )
            var keys = try envelopeKeys(randomizedPassword: randomizedPassword, nonce: envelopeNonce)
            defer { Sodium.zeroize(&keys.authKey) }
            let credentials = ThreeDH.cleartextCredentials(
                serverPublicKey: serverPublicKey.bytes,
                serverIdentity: configuration.serverIdentity ?? serverPublicKey.bytes,
                clientIdentity: clientIdentity ?? keys.keyPair.publicKey.bytes
            )
            let authTag = HMACSHA512.authenticate(parts: [envelopeNonce, credentials], key: keys.authKey)
            return Sealed(
                envelope: try Envelope(nonce: envelopeNonce, authTag: authTag),
                clientPublicKey: keys.keyPair.publicKey,
                maskingKey: SecretBytes(maskingKey),
                exportKey: keys.exportKey
            )
        }

        private struct Recovered {
            let clientPrivateKey: Ristretto255.Scalar
            let clientIdentity: [UInt8]
            let serverIdentity: [UInt8]
            let exportKey: SecretBytes
        }

        /// Recover (RFC 9807 section 3.3.1.2).
        private func recover(
            randomizedPassword: [UInt8],
            serverPublicKey: Ristretto255.Element,
            envelope: Envelope,
            clientIdentity: [UInt8]?
        ) throws(CryptoError) -> Recovered {
            var keys = try envelopeKeys(randomizedPassword: randomizedPassword, nonce: envelope.nonce)
            defer { Sodium.zeroize(&keys.authKey) }
            let serverIdentity = configuration.serverIdentity ?? serverPublicKey.bytes
            let clientIdentity = clientIdentity ?? keys.keyPair.publicKey.bytes
            let credentials = ThreeDH.cleartextCredentials(
                serverPublicKey: serverPublicKey.bytes,
                serverIdentity: serverIdentity,
                clientIdentity: clientIdentity
            )
            let expectedTag = HMACSHA512.authenticate(parts: [envelope.nonce, credentials], key: keys.authKey)
            guard Sodium.constantTimeEqual(expectedTag, envelope.authTag) else {
                throw Self.envelopeRecoveryError
            }
            return Recovered(
                clientPrivateKey: keys.keyPair.privateKey,
                clientIdentity: clientIdentity,
                serverIdentity: serverIdentity,
                exportKey: keys.exportKey
            )
        }
    }
}
