import Testing

@testable import BastionCrypto

/// RFC 9807 appendix C: every real and fake vector for ristretto255-SHA512 with the identity KSF.
@Suite struct OPAQUEVectorTests {
    static let real = OPAQUEVectors.all.filter { !$0.fake }
    static let fake = OPAQUEVectors.all.filter { $0.fake }

    static func configuration(_ vector: OPAQUEVector) throws -> OPAQUE.Configuration {
        try OPAQUE.Configuration(
            context: Hex.decode(vector.context),
            serverIdentity: vector.optional("server_identity"),
            keyStretching: IdentityKeyStretching()
        )
    }

    /// A setup from the vector's keys; real vectors never reach the fake record, so it is random.
    static func setup(_ vector: OPAQUEVector) throws -> OPAQUE.ServerSetup {
        try OPAQUE.ServerSetup(
            oprfSeed: vector["oprf_seed"],
            privateKey: Ristretto255.Scalar(bytes: vector["server_private_key"]),
            fakeClientPublicKey: vector.optional("client_public_key").map { try Ristretto255.Element(bytes: $0) }
                ?? .generatorMultiple(.random()),
            fakeMaskingKey: vector.optional("masking_key") ?? [UInt8](repeating: 0x5A, count: 64)
        )
    }

    @Test func theVectorsAreAllHere() {
        #expect(Self.real.count == 2)
        #expect(Self.fake.count == 1)
    }

    @Test(arguments: real)
    func realVector(vector: OPAQUEVector) throws {
        let configuration = try Self.configuration(vector)
        let setup = try Self.setup(vector)
        #expect(setup.publicKey.bytes == vector["server_public_key"])
        let client = OPAQUE.Client(configuration: configuration)
        let server = OPAQUE.Server(setup: setup, configuration: configuration)
        let password = vector["password"]
        let credentialIdentifier = vector["credential_identifier"]
        let clientIdentity = vector.optional("client_identity")

        #expect(
            try ThreeDH.oprfKey(oprfSeed: setup.oprfSeed, credentialIdentifier: credentialIdentifier).bytes
                == vector["oprf_key"]
        )

        // Registration
        let (request, registrationState) = try client.createRegistrationRequest(
            password: password,
            blind: Ristretto255.Scalar(bytes: vector["blind_registration"])
        )
        #expect(request.serialized == vector["registration_request"])
        let response = try server.createRegistrationResponse(
            request: OPAQUE.RegistrationRequest(serialized: request.serialized),
            credentialIdentifier: credentialIdentifier
        )
        #expect(response.serialized == vector["registration_response"])
        let registration = try client.finalizeRegistration(
            response: OPAQUE.RegistrationResponse(serialized: response.serialized),
            state: registrationState,
            clientIdentity: clientIdentity,
            envelopeNonce: vector["envelope_nonce"]
        )
        #expect(registration.record.serialized == vector["registration_upload"])
        #expect(registration.record.clientPublicKey.bytes == vector["client_public_key"])
        #expect(registration.record.envelope.serialized == vector["envelope"])
        #expect(registration.exportKey.bytes == vector["export_key"])
        let record = try OPAQUE.RegistrationRecord(serialized: registration.record.serialized)

        // Login
        let (ke1, loginState) = try client.generateKE1(
            password: password,
            blind: Ristretto255.Scalar(bytes: vector["blind_login"]),
            clientNonce: vector["client_nonce"],
            clientKeyshareSeed: vector["client_keyshare_seed"]
        )
        #expect(ke1.serialized == vector["KE1"])
        let start = try server.generateKE2(
            ke1: OPAQUE.KE1(serialized: ke1.serialized),
            record: record,
            credentialIdentifier: credentialIdentifier,
            clientIdentity: clientIdentity,
            maskingNonce: vector["masking_nonce"],
            serverNonce: vector["server_nonce"],
            serverKeyshareSeed: vector["server_keyshare_seed"]
        )
        #expect(start.ke2.serialized == vector["KE2"])
        let login = try client.generateKE3(
            ke2: OPAQUE.KE2(serialized: start.ke2.serialized),
            state: loginState,
            clientIdentity: clientIdentity
        )
        #expect(login.ke3.serialized == vector["KE3"])
        #expect(login.sessionKey.bytes == vector["session_key"])
        #expect(login.exportKey.bytes == vector["export_key"])

        // The server's state survives storage, and releases the same session key.
        let state = try OPAQUE.ServerLoginState(serialized: start.state.serialized.bytes)
        let sessionKey = try server.finish(ke3: OPAQUE.KE3(serialized: login.ke3.serialized), state: state)
        #expect(sessionKey.bytes == vector["session_key"])
    }

    @Test(arguments: fake)
    func fakeVector(vector: OPAQUEVector) throws {
        let configuration = try Self.configuration(vector)
        let setup = try Self.setup(vector)
        #expect(setup.publicKey.bytes == vector["server_public_key"])
        let server = OPAQUE.Server(setup: setup, configuration: configuration)
        let start = try server.generateKE2(
            ke1: OPAQUE.KE1(serialized: vector["KE1"]),
            record: nil,
            credentialIdentifier: vector["credential_identifier"],
            clientIdentity: vector.optional("client_identity"),
            maskingNonce: vector["masking_nonce"],
            serverNonce: vector["server_nonce"],
            serverKeyshareSeed: vector["server_keyshare_seed"]
        )
        #expect(start.ke2.serialized == vector["KE2"])
    }
}
