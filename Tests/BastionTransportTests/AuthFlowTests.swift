import BastionIdentity
import BastionProtobuf
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation
import Testing

/// The authentication service end to end, against the real `bastiond --dev`: register (CSR,
/// proof of work, OPAQUE, KeyPackage), connect with the issued certificate, log in, call a
/// user-only method, log out, delete the account — and the refusals on the way.
@Suite struct AuthFlowTests {
    static let password = Array("correct horse battery staple".utf8)

    /// A connection presenting the client's issued certificate (mutual TLS).
    static func connect(port: Int, folder: URL, as registration: IdentityClient.Registration) async throws -> BastionClientConnection {
        var configuration = TLSConfiguration.client(trustRoots: .file(folder.appendingPathComponent("data/dev-certs/ca.pem").path))
        configuration.certificateChain = .pem(Array(try pem(certificate: registration.certificateDER).utf8))
        configuration.privateKey = .pem(try registration.key.privateKeyPEM())
        return try await BastionClientConnection.connect(
            host: "127.0.0.1", port: port, security: .tls(try TLSContext(configuration: configuration), serverHostname: "localhost")
        )
    }

    static func pem(certificate der: [UInt8]) throws -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }

    @Test func registerLoginUseLogoutAndDelete() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let anonymous = try await DaemonTests.client(port: port, folder: folder)
        let identity = try IdentityClient(transport: anonymous)

        let registration = try await identity.register(userID: "alice", password: Self.password)
        #expect(registration.userID == "alice")
        // The user id is taken now.
        await #expect(throws: RPCError.self) { try await identity.register(userID: "alice", password: Self.password) }

        // A wrong password fails on the client (the envelope does not open); an unknown user looks
        // the same from here.
        await #expect(throws: (any Error).self) { try await identity.login(userID: "alice", password: Array("wrong".utf8)) }
        await #expect(throws: (any Error).self) { try await identity.login(userID: "nobody", password: Self.password) }

        let session = try await identity.login(userID: "alice", password: Self.password)
        let me = try await identity.whoAmI(session)
        #expect(me.userId == "alice")
        #expect(me.role == "user")

        // The token alone, or with another context secret, opens nothing.
        var stolen = session
        stolen.contextSecret = "guessed"
        await #expect(throws: RPCError.self) { try await identity.whoAmI(stolen) }

        try await identity.logout(session)
        let afterLogout = await #expect(throws: RPCError.self) { try await identity.whoAmI(session) }
        #expect(afterLogout?.code == .unauthenticated)

        // Deletion needs the user's own certificate: without one it is refused...
        let withoutCertificate = await #expect(throws: RPCError.self) {
            try await identity.deleteAccount(userID: "alice", password: Self.password)
        }
        #expect(withoutCertificate?.code == .unauthenticated)
        // ...and another user's certificate cannot delete alice.
        let bob = try await identity.register(userID: "bob", password: Self.password)
        let bobConnection = try await Self.connect(port: port, folder: folder, as: bob)
        let asBob = try IdentityClient(transport: bobConnection)
        let notBobs = await #expect(throws: RPCError.self) { try await asBob.deleteAccount(userID: "alice", password: Self.password) }
        #expect(notBobs?.code == .permissionDenied)

        let aliceConnection = try await Self.connect(port: port, folder: folder, as: registration)
        let asAlice = try IdentityClient(transport: aliceConnection)
        let secondSession = try await asAlice.login(userID: "alice", password: Self.password)
        try await asAlice.deleteAccount(userID: "alice", password: Self.password)

        // Gone: her sessions, her certificate, her login.
        await #expect(throws: RPCError.self) { try await asAlice.whoAmI(secondSession) }
        // Her certificate still chains to the CA, but the server no longer knows the client.
        let request = Bastion_Auth_V1_DeleteAccountRequest {
            $0.userId = "alice"
            $0.loginHandle = "none"
        }
        let deletedClient = await #expect(throws: RPCError.self) {
            try await Bastion_Auth_V1_AuthClient(transport: aliceConnection).deleteAccount(request)
        }
        #expect(deletedClient?.code == .unauthenticated)
        await #expect(throws: (any Error).self) { try await identity.login(userID: "alice", password: Self.password) }
        // Bob is untouched.
        #expect(try await asBob.whoAmI(try await asBob.login(userID: "bob", password: Self.password)).userId == "bob")
        for connection in [anonymous, bobConnection, aliceConnection] { await connection.close() }
    }
}
