import Testing

@testable import BastionCrypto

/// Registration and login in Swift on both sides, with every way a login can fail.
@Suite struct OPAQUETests {
    /// Argon2id small enough for many runs; production parameters run in OPAQUEInteropTests.
    static let configuration = try! OPAQUE.Configuration(
        context: Array("Bastion tests".utf8),
        serverIdentity: Array("bastion.test".utf8),
        keyStretching: try! Argon2idKeyStretching(iterations: 1, memoryKiB: 8 * 1024)
    )
    static let password = Array("correct horse battery staple".utf8)
    static let alice = Array("alice".utf8)

    let setup = OPAQUE.ServerSetup.generate()
    var server: OPAQUE.Server { OPAQUE.Server(setup: setup, configuration: Self.configuration) }
    let client = OPAQUE.Client(configuration: Self.configuration)

    func register(_ password: [UInt8] = password, identifier: [UInt8] = alice, clientIdentity: [UInt8]? = nil) throws
        -> OPAQUE.RegistrationResult
    {
        let (request, state) = try client.createRegistrationRequest(password: password)
        let response = try server.createRegistrationResponse(request: request, credentialIdentifier: identifier)
        return try client.finalizeRegistration(response: response, state: state, clientIdentity: clientIdentity)
    }

    @Test func registrationAndLoginAgree() throws {
        let registration = try register(clientIdentity: Self.alice)
        let (ke1, state) = try client.generateKE1(password: Self.password)
        let start = try server.generateKE2(
            ke1: ke1,
            record: registration.record,
            credentialIdentifier: Self.alice,
            clientIdentity: Self.alice
        )
        let login = try client.generateKE3(ke2: start.ke2, state: state, clientIdentity: Self.alice)
        let sessionKey = try server.finish(ke3: login.ke3, state: start.state)
        #expect(sessionKey.constantTimeEquals(login.sessionKey))
        #expect(login.exportKey.bytes == registration.exportKey.bytes)
        #expect(sessionKey.count == 64)
    }

    @Test func aWrongPasswordFailsTheEnvelopeAndTheServerRefusesAGuessedKE3() throws {
        let registration = try register()
        let (ke1, state) = try client.generateKE1(password: Array("Tr0ub4dor&3".utf8))
        let start = try server.generateKE2(ke1: ke1, record: registration.record, credentialIdentifier: Self.alice)
        #expect {
            try client.generateKE3(ke2: start.ke2, state: state)
        } throws: { error in
            (error as? CryptoError)?.code == .envelopeRecoveryFailed
        }
        #expect {
            try server.finish(ke3: OPAQUE.KE3(serialized: [UInt8](repeating: 0, count: 64)), state: start.state)
        } throws: { error in
            (error as? CryptoError)?.code == .clientAuthenticationFailed
        }
    }

    @Test func anUnknownUserGetsAFakeResponseThatFailsTheSameWay() throws {
        let (ke1, state) = try client.generateKE1(password: Self.password)
        let start = try server.generateKE2(ke1: ke1, record: nil, credentialIdentifier: Array("mallory".utf8))
        #expect(start.ke2.serialized.count == OPAQUE.KE2.length)
        #expect {
            try client.generateKE3(ke2: start.ke2, state: state)
        } throws: { error in
            (error as? CryptoError)?.code == .envelopeRecoveryFailed
        }
    }

    @Test func theSameUserAnsweredTwiceGetsFreshMasks() throws {
        let registration = try register()
        let (ke1, _) = try client.generateKE1(password: Self.password)
        let first = try server.generateKE2(ke1: ke1, record: registration.record, credentialIdentifier: Self.alice)
        let second = try server.generateKE2(ke1: ke1, record: registration.record, credentialIdentifier: Self.alice)
        // The OPRF evaluation is deterministic per credential; everything else is fresh.
        #expect(first.ke2.evaluatedMessage == second.ke2.evaluatedMessage)
        #expect(first.ke2.maskedResponse != second.ke2.maskedResponse)
        #expect(first.ke2.serverPublicKeyshare != second.ke2.serverPublicKeyshare)
        // A fake answer for an unknown user is deterministic in the same places only.
        let fake1 = try server.generateKE2(ke1: ke1, record: nil, credentialIdentifier: Array("bob".utf8))
        let fake2 = try server.generateKE2(ke1: ke1, record: nil, credentialIdentifier: Array("bob".utf8))
        #expect(fake1.ke2.evaluatedMessage == fake2.ke2.evaluatedMessage)
        #expect(fake1.ke2.maskedResponse != fake2.ke2.maskedResponse)
        #expect(fake1.ke2.evaluatedMessage != first.ke2.evaluatedMessage)
    }

    @Test func aTamperedKE2FailsServerAuthentication() throws {
        let registration = try register()
        let (ke1, state) = try client.generateKE1(password: Self.password)
        let start = try server.generateKE2(ke1: ke1, record: registration.record, credentialIdentifier: Self.alice)
        var bytes = start.ke2.serialized
        bytes[bytes.count - 1] ^= 0x80
        #expect {
            try client.generateKE3(ke2: OPAQUE.KE2(serialized: bytes), state: state)
        } throws: { error in
            (error as? CryptoError)?.code == .serverAuthenticationFailed
        }
    }

    @Test func mismatchedIdentitiesOrContextFail() throws {
        let registration = try register(clientIdentity: Self.alice)
        // The server thinks the client identity is "eve".
        let (ke1, state) = try client.generateKE1(password: Self.password)
        let start = try server.generateKE2(
            ke1: ke1,
            record: registration.record,
            credentialIdentifier: Self.alice,
            clientIdentity: Array("eve".utf8)
        )
        #expect(throws: CryptoError.self) {
            try client.generateKE3(ke2: start.ke2, state: state, clientIdentity: Self.alice)
        }
        // A server with another context.
        let other = OPAQUE.Server(
            setup: setup,
            configuration: try OPAQUE.Configuration(
                context: Array("other".utf8),
                serverIdentity: Self.configuration.serverIdentity,
                keyStretching: Self.configuration.keyStretching
            )
        )
        let (ke1b, stateb) = try client.generateKE1(password: Self.password)
        let startb = try other.generateKE2(
            ke1: ke1b,
            record: registration.record,
            credentialIdentifier: Self.alice,
            clientIdentity: Self.alice
        )
        #expect {
            try client.generateKE3(ke2: startb.ke2, state: stateb, clientIdentity: Self.alice)
        } throws: { error in
            (error as? CryptoError)?.code == .serverAuthenticationFailed
        }
    }

    @Test func theServerSetupSurvivesSerialization() throws {
        let registration = try register()
        let stored = setup.serialized.bytes
        #expect(stored.count == OPAQUE.ServerSetup.serializedLength)
        let reloaded = OPAQUE.Server(
            setup: try OPAQUE.ServerSetup(serialized: stored),
            configuration: Self.configuration
        )
        #expect(reloaded.setup.publicKey == setup.publicKey)
        let (ke1, state) = try client.generateKE1(password: Self.password)
        let start = try reloaded.generateKE2(ke1: ke1, record: registration.record, credentialIdentifier: Self.alice)
        let login = try client.generateKE3(ke2: start.ke2, state: state)
        #expect(
            try reloaded.finish(
                ke3: login.ke3,
                state: OPAQUE.ServerLoginState(serialized: start.state.serialized.bytes)
            ).bytes == login.sessionKey.bytes
        )
        #expect(!"\(setup)".contains(Hex.encode(setup.oprfSeed.bytes)))
    }

    @Test func storedSetupsAndStatesAreChecked() throws {
        var stored = setup.serialized.bytes
        #expect(throws: CryptoError.self) { try OPAQUE.ServerSetup(serialized: Array(stored.dropLast())) }
        stored[0] = 2
        #expect {
            try OPAQUE.ServerSetup(serialized: stored)
        } throws: { error in
            (error as? CryptoError)?.code == .unsupportedVersion
        }
        var zeroKey = setup.serialized.bytes
        for i in 65..<97 { zeroKey[i] = 0 }
        #expect {
            try OPAQUE.ServerSetup(serialized: zeroKey)
        } throws: { error in
            (error as? CryptoError)?.code == .invalidScalar
        }
        #expect(throws: CryptoError.self) { try OPAQUE.ServerLoginState(serialized: [1, 2, 3]) }
        #expect(throws: CryptoError.self) {
            try OPAQUE.ServerLoginState(serialized: [9] + [UInt8](repeating: 0, count: 128))
        }
    }

    @Test func identitiesAndContextsAreBounded() {
        #expect(throws: CryptoError.self) {
            try OPAQUE.Configuration(context: [], serverIdentity: [], keyStretching: IdentityKeyStretching())
        }
        #expect(throws: CryptoError.self) {
            try OPAQUE.Configuration(
                context: [UInt8](repeating: 1, count: 65536),
                keyStretching: IdentityKeyStretching()
            )
        }
        #expect(throws: CryptoError.self) {
            try server.generateKE2(
                ke1: client.generateKE1(password: Self.password).ke1,
                record: nil,
                credentialIdentifier: Self.alice,
                clientIdentity: []
            )
        }
    }

    @Test func argon2idParametersAreChecked() throws {
        #expect(throws: CryptoError.self) { try Argon2idKeyStretching(iterations: 0, memoryKiB: 1024) }
        #expect(throws: CryptoError.self) { try Argon2idKeyStretching(iterations: 1, memoryKiB: 1) }
        #expect(throws: CryptoError.self) { try Argon2idKeyStretching(iterations: 1, memoryKiB: Int.max) }
        let ksf = try Argon2idKeyStretching(iterations: 1, memoryKiB: 8 * 1024)
        let a = try ksf.stretch([UInt8](repeating: 1, count: 64))
        #expect(a.count == 64)
        #expect(a == (try ksf.stretch([UInt8](repeating: 1, count: 64))))
        #expect(Argon2idKeyStretching.bastion.iterations == 3)
        #expect(Argon2idKeyStretching.bastion.memoryKiB == 256 * 1024)
    }

    /// Agrees with Python's libsodium binding through ctypes: the same Argon2id, independently called.
    @Test func argon2idAgreesWithLibsodiumFromPython() throws {
        let input = (0..<64).map { UInt8($0) }
        let ours = try Argon2idKeyStretching.opaqueKeDefault.stretch(input)
        let script = """
            import ctypes, ctypes.util
            lib = ctypes.CDLL(ctypes.util.find_library("sodium")); lib.sodium_init()
            out = ctypes.create_string_buffer(64)
            data = bytes(range(64))
            assert lib.crypto_pwhash(out, ctypes.c_ulonglong(64), data, ctypes.c_ulonglong(64), bytes(16),
                ctypes.c_ulonglong(2), ctypes.c_size_t(19 * 1024 * 1024), ctypes.c_int(2)) == 0
            print(out.raw.hex())
            """
        #expect(try Python.run(script: script, input: "") == Hex.encode(ours))
    }
}
