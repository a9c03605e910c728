import Testing

@testable import BastionCrypto

/// Registration and login across implementations: the Swift server against Bastion's Python client
/// (`Tools/clients/python/bastion_client/opaque.py`) and against the Python `opaque-ke-py` package
/// (Rust opaque-ke 4.0 underneath), and the Swift client against opaque-ke-py's server.
///
/// Needs python3 with `opaque-ke-py==0.1.0` and the system libsodium (Tools/setup.sh).
@Suite struct OPAQUEInteropTests {
    /// What opaque-ke-py runs: Argon2id with the Rust crate's defaults, no context, no identities.
    static let opaqueKeConfiguration = try! OPAQUE.Configuration(
        context: [],
        keyStretching: Argon2idKeyStretching.opaqueKeDefault
    )

    /// Registers "correct horse" as "alice" with a Python client, then logs in with `loginPassword`;
    /// returns the peer, the server's login state, and the record.
    private func registerAndStartLogin(
        peer: Peer,
        server: OPAQUE.Server
    ) throws -> (OPAQUE.ServerLoginStart, OPAQUE.RegistrationRecord) {
        let request = try OPAQUE.RegistrationRequest(serialized: peer.receive())
        let response = try server.createRegistrationResponse(
            request: request,
            credentialIdentifier: Array("alice".utf8)
        )
        try peer.send(response.serialized)
        let record = try OPAQUE.RegistrationRecord(serialized: peer.receive())
        let ke1 = try OPAQUE.KE1(serialized: peer.receive())
        let start = try server.generateKE2(ke1: ke1, record: record, credentialIdentifier: Array("alice".utf8))
        try peer.send(start.ke2.serialized)
        return (start, record)
    }

    @Test func pythonClientRegistersAndLogsInWithBastionConfiguration() throws {
        let server = OPAQUE.Server(setup: .generate(), configuration: try .bastion())
        let peer = try Peer(["client", "bastion"])
        let (start, _) = try registerAndStartLogin(peer: peer, server: server)
        let ke3 = try OPAQUE.KE3(serialized: peer.receive())
        let clientSessionKey = try peer.receive()
        _ = try peer.receive()  // export key
        let sessionKey = try server.finish(ke3: ke3, state: start.state)
        #expect(sessionKey.bytes == clientSessionKey)
        #expect(peer.finish() == 0)
    }

    @Test func pythonClientWithAWrongPasswordCannotOpenItsEnvelope() throws {
        let server = OPAQUE.Server(setup: .generate(), configuration: try .bastion())
        let peer = try Peer(["client", "bastion", "--login-password", "battery staple"])
        _ = try registerAndStartLogin(peer: peer, server: server)
        #expect(try peer.receiveLine() == "error envelope-recovery-failed")
        #expect(peer.finish() == 0)
    }

    @Test func pythonClientGetsTheSameErrorForAnUnknownUser() throws {
        let server = OPAQUE.Server(setup: .generate(), configuration: try .bastion())
        let peer = try Peer(["client", "bastion"])
        let request = try OPAQUE.RegistrationRequest(serialized: peer.receive())
        // Registered as "alice", but the login asks for "mallory", who has no record.
        try peer.send(
            server.createRegistrationResponse(request: request, credentialIdentifier: Array("alice".utf8)).serialized
        )
        _ = try peer.receive()
        let ke1 = try OPAQUE.KE1(serialized: peer.receive())
        let start = try server.generateKE2(ke1: ke1, record: nil, credentialIdentifier: Array("mallory".utf8))
        try peer.send(start.ke2.serialized)
        #expect(try peer.receiveLine() == "error envelope-recovery-failed")
        #expect(peer.finish() == 0)
    }

    @Test func opaqueKePyClientRegistersAndLogsInAgainstTheSwiftServer() throws {
        let server = OPAQUE.Server(setup: .generate(), configuration: Self.opaqueKeConfiguration)
        let peer = try Peer(["client", "opaque-ke"])
        let (start, _) = try registerAndStartLogin(peer: peer, server: server)
        let ke3 = try OPAQUE.KE3(serialized: peer.receive())
        let clientSessionKey = try peer.receive()
        _ = try peer.receive()
        let sessionKey = try server.finish(ke3: ke3, state: start.state)
        #expect(sessionKey.bytes == clientSessionKey)
        #expect(peer.finish() == 0)
    }

    @Test func opaqueKePyClientWithAWrongPasswordIsRefused() throws {
        let server = OPAQUE.Server(setup: .generate(), configuration: Self.opaqueKeConfiguration)
        let peer = try Peer(["client", "opaque-ke", "--login-password", "battery staple"])
        _ = try registerAndStartLogin(peer: peer, server: server)
        #expect(try peer.receiveLine().hasPrefix("error"))
        #expect(peer.finish() == 0)
    }

    @Test func swiftClientRegistersAndLogsInAgainstOpaqueKePyServer() throws {
        let client = OPAQUE.Client(configuration: Self.opaqueKeConfiguration)
        let peer = try Peer(["server", "opaque-ke"])
        let password = Array("correct horse".utf8)
        let (request, registration) = try client.createRegistrationRequest(password: password)
        try peer.send(request.serialized)
        let response = try OPAQUE.RegistrationResponse(serialized: peer.receive())
        let result = try client.finalizeRegistration(response: response, state: registration)
        try peer.send(result.record.serialized)
        let (ke1, login) = try client.generateKE1(password: password)
        try peer.send(ke1.serialized)
        let finished = try client.generateKE3(ke2: OPAQUE.KE2(serialized: peer.receive()), state: login)
        #expect(finished.exportKey.bytes == result.exportKey.bytes)
        try peer.send(finished.ke3.serialized)
        #expect(try peer.receive() == finished.sessionKey.bytes)
        #expect(peer.finish() == 0)
    }
}
