import BastionTestSupport
import BastionCrypto
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
    /// Real Argon2id, but light: the suite registers and logs in a dozen times on two cores.
    /// (The key-stretching function runs on the client alone; the server never sees it.)
    static let configuration = try! OPAQUE.Configuration(
        context: OPAQUE.Configuration.bastionContext,
        keyStretching: try! Argon2idKeyStretching(iterations: 1, memoryKiB: 8 * 1024)
    )

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
        let identity = try IdentityClient(transport: anonymous, configuration: Self.configuration)

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
        let asBob = try IdentityClient(transport: bobConnection, configuration: Self.configuration)
        let notBobs = await #expect(throws: RPCError.self) { try await asBob.deleteAccount(userID: "alice", password: Self.password) }
        #expect(notBobs?.code == .permissionDenied)

        let aliceConnection = try await Self.connect(port: port, folder: folder, as: registration)
        let asAlice = try IdentityClient(transport: aliceConnection, configuration: Self.configuration)
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

    /// DeleteAccount with a TOTP authenticator enrolled: the certificate, the password and a code
    /// bound to this very request (InitiateTwoFactor, SolveChallenge, then the call with the token
    /// in bastion-second-factor), against `bastiond --dev` and its real clock.
    @Test func deleteAccountWithASecondFactor() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let anonymous = try await DaemonTests.client(port: port, folder: folder)
        let registration = try await IdentityClient(transport: anonymous, configuration: Self.configuration)
            .register(userID: "carol", password: Self.password)
        let connection = try await Self.connect(port: port, folder: folder, as: registration)
        let identity = try IdentityClient(transport: connection, configuration: Self.configuration)
        let twoFactor = TwoFactorClient(transport: connection)
        let session = try await identity.login(userID: "carol", password: Self.password)
        let enrollment = try await twoFactor.enrollTotp(session, label: "phone")
        let totp = TOTP(secret: enrollment.secret)
        let confirmedStep = totp.step(at: Int64(Date().timeIntervalSince1970))
        _ = try await twoFactor.confirmTotp(session, factorID: enrollment.factorId, code: totp.code(forStep: confirmedStep))

        // Without a code: refused, with the operation and the factor named.
        let refused = await #expect(throws: RPCError.self) { try await identity.deleteAccount(userID: "carol", password: Self.password) }
        #expect(refused?.code == .failedPrecondition)
        let challenge = try #require(SecondFactorChallenge(refused?.secondFactorChallenge ?? ""))
        #expect(challenge.method == Bastion_Auth_V1_Auth.Method.deleteAccount.path)
        #expect(challenge.factors == [.init(id: enrollment.factorId, kind: "totp")])
        // A wrong code, then the code of the next step (the confirmation used this one's).
        let wrongCode = totp.code(forStep: confirmedStep + 1) == "000000" ? "000001" : "000000"
        let wrong = await #expect(throws: RPCError.self) {
            try await identity.deleteAccount(userID: "carol", password: Self.password) { _ in (enrollment.factorId, wrongCode) }
        }
        #expect(wrong?.code == .permissionDenied)
        try await identity.deleteAccount(userID: "carol", password: Self.password) { challenge in
            (challenge.factor(forCode: "123456")?.id ?? "", totp.code(forStep: confirmedStep + 1))
        }
        await #expect(throws: RPCError.self) { try await identity.whoAmI(session) }
        await #expect(throws: (any Error).self) { try await identity.login(userID: "carol", password: Self.password) }
        for connection in [anonymous, connection] { await connection.close() }
    }
}

/// The same life cycle through the `bastion` command a user types.
@Suite struct AccountCommandTests {
    /// Runs `bastion arguments…` with the password in BASTION_PASSWORD; returns status and output.
    func bastion(_ arguments: [String], password: String, folder: URL) async throws -> (status: Int32, output: String) {
        try await runProgram(
            try DaemonTests.binaries.appendingPathComponent("bastion"),
            arguments,
            environment: ["BASTION_PASSWORD": password, "HOME": folder.path],
            in: folder
        )
    }

    @Test func registerLoginWhoAmILogoutDelete() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let common = ["--user", "dave", "--port", String(port)]
        let registered = try await bastion(["register"] + common, password: "pa55word-dave", folder: folder)
        #expect(registered.status == 0, "\(registered.output)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".bastion/profiles/dave/client.pem").path))
        let wrong = try await bastion(["login"] + common, password: "not-it", folder: folder)
        #expect(wrong.status != 0)
        #expect(wrong.output.contains("login failed"))
        #expect(try await bastion(["login"] + common, password: "pa55word-dave", folder: folder).status == 0)
        let me = try await bastion(["whoami"] + common, password: "", folder: folder)
        #expect(me.output.contains("dave (role user)"), "\(me.output)")
        #expect(try await bastion(["logout"] + common, password: "", folder: folder).status == 0)
        #expect(try await bastion(["whoami"] + common, password: "", folder: folder).status != 0)
        let deleted = try await bastion(["delete-account", "--yes"] + common, password: "pa55word-dave", folder: folder)
        #expect(deleted.status == 0, "\(deleted.output)")
        #expect(try await bastion(["login"] + common, password: "pa55word-dave", folder: folder).status != 0)
    }

    /// `bastion delete-account --second-factor-code` for a user with a TOTP authenticator
    /// (enrolled here through the library, with the profile's certificate and session).
    @Test func deleteAccountWithASecondFactorCode() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let common = ["--user", "frank", "--port", String(port)]
        #expect(try await bastion(["register"] + common, password: "pa55word-frank", folder: folder).status == 0)
        #expect(try await bastion(["login"] + common, password: "pa55word-frank", folder: folder).status == 0)
        let profile = folder.appendingPathComponent(".bastion/profiles/frank")
        let session = try JSONDecoder().decode(IdentityClient.Session.self, from: Data(contentsOf: profile.appendingPathComponent("session.json")))
        var configuration = TLSConfiguration.client(trustRoots: .file(folder.appendingPathComponent("data/dev-certs/ca.pem").path))
        configuration.certificateChain = .file(profile.appendingPathComponent("client.pem").path)
        configuration.privateKey = .file(profile.appendingPathComponent("client.key").path)
        let connection = try await BastionClientConnection.connect(
            host: "127.0.0.1", port: port, security: .tls(try TLSContext(configuration: configuration), serverHostname: "localhost")
        )
        let twoFactor = TwoFactorClient(transport: connection)
        let enrollment = try await twoFactor.enrollTotp(session)
        let totp = TOTP(secret: enrollment.secret)
        let step = totp.step(at: Int64(Date().timeIntervalSince1970))
        _ = try await twoFactor.confirmTotp(session, factorID: enrollment.factorId, code: totp.code(forStep: step))
        await connection.close()

        let wrongCode = totp.code(forStep: step + 1) == "000000" ? "000001" : "000000"
        let wrong = try await bastion(["delete-account", "--yes", "--second-factor-code", wrongCode] + common, password: "pa55word-frank", folder: folder)
        #expect(wrong.status != 0)
        #expect(wrong.output.contains("wrong code"), "\(wrong.output)")
        let deleted = try await bastion(
            ["delete-account", "--yes", "--second-factor-code", totp.code(forStep: step + 1)] + common, password: "pa55word-frank", folder: folder
        )
        #expect(deleted.status == 0, "\(deleted.output)")
        #expect(try await bastion(["login"] + common, password: "pa55word-frank", folder: folder).status != 0)
    }
}
