import BastionCrypto
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Synchronization
import Testing

@testable import BastionIdentity

/// Second factors through real clients over TLS against a real server (authentication and
/// second-factor services behind the policy engine) on a store with a manual clock: enrollment,
/// challenges, tokens bound to one request, every refusal, a brute-force race, and a lockout that
/// outlives a restart.
@Suite struct TwoFactorFlowTests {
    /// A server on a store in `folder`; the same folder, key and clock make the "same server"
    /// after a restart.
    struct Server {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("two-factor-\(UUID().uuidString)")
            .path
        let key = try! FactorKey.random()
        /// Starts at the real time, so that the registration's proof of work (stamped with the
        /// client's clock) is fresh; tests advance it to expire things.
        let clock = ManualStoreClock(
            start: StoreInstant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        )

        func run(_ body: @Sendable (Int, Store) async throws -> Void) async throws {
            let store = try Store(path: folder, clock: clock, logger: testLogger)
            let tokens = try SessionTokens(store: store)
            let auth = AuthService(
                store: store,
                tokens: tokens,
                authority: try CertificateAuthority(
                    certificatePath: TestCertificates.files.caCertificate,
                    privateKeyPath: TestCertificates.files.caPrivateKey
                ),
                passwords: try OpaquePasswordServer(setup: try OpaquePasswordServer.loadOrCreateSetup(in: store)),
                logger: testLogger
            )
            let twoFactor = TwoFactorService(store: store, key: key, logger: testLogger)
            let engine = try PolicyEngine(
                store: store,
                verifier: IdentityVerifier(store: store, tokens: tokens),
                secondFactor: twoFactor.verifier,
                logger: testLogger
            )
            do {
                try await withEchoServer(
                    configure: {
                        $0.security = .tls(try TestCertificates.serverContext(clientAuthentication: .optional))
                        $0.maxConnectionsPerAddress = 1000
                    },
                    router: { router in
                        router.intercept(with: engine)
                        auth.register(with: &router)
                        twoFactor.register(with: &router)
                    }
                ) { _, port, _ in
                    try await body(port, store)
                }
            } catch {
                try? await store.close()
                throw error
            }
            // What a graceful shutdown's last flush does.
            try await engine.flushCounters()
            try await store.close()
        }

        var unixSeconds: Int64 { clock.now().millisecondsSinceEpoch / 1000 }

        /// Moves the clock up to the real time if it fell behind: a registration's proof of work
        /// carries the client's real clock, which may run at most 30 s ahead of the server's, and
        /// on a loaded machine more than that can pass between starting the server and registering.
        func catchUpWithRealTime() {
            let real = StoreInstant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            if real > clock.now() { clock.set(to: real) }
        }
    }

    /// A registered, logged-in user with a confirmed TOTP authenticator, and a connection that
    /// presents the user's certificate.
    struct User: Sendable {
        var id: String
        var registration: IdentityClient.Registration
        var connection: BastionClientConnection
        var session: IdentityClient.Session
        var totp: TOTP
        var factorID: String
        var identity: IdentityClient {
            try! IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
        }
        var twoFactor: TwoFactorClient { TwoFactorClient(transport: connection) }
    }

    static func connect(port: Int, as registration: IdentityClient.Registration) async throws -> BastionClientConnection
    {
        var configuration = TLSConfiguration.client(trustRoots: .file(TestCertificates.files.caCertificate))
        configuration.certificateChain = .pem(
            Array(try AuthFlowTests.pem(certificate: registration.certificateDER).utf8)
        )
        configuration.privateKey = .pem(try registration.key.privateKeyPEM())
        return try await BastionClientConnection.connect(
            host: "127.0.0.1",
            port: port,
            security: .tls(try TLSContext(configuration: configuration), serverHostname: "localhost")
        )
    }

    /// Registers `id`, logs in and enrolls a TOTP authenticator (the first factor needs none),
    /// confirmed with the current step's code.
    static func enrolledUser(
        _ id: String,
        port: Int,
        server: Server,
        algorithm: Bastion_Auth_V1_TotpAlgorithm = .sha1,
        digits: UInt32 = 6
    ) async throws -> User {
        let anonymous = try await BastionTransportTests.connect(port: port)
        let registration: IdentityClient.Registration
        server.catchUpWithRealTime()
        do {
            registration = try await IdentityClient(transport: anonymous, configuration: AuthFlowTests.configuration)
                .register(userID: id, password: AuthFlowTests.password)
            await anonymous.close()
        } catch {
            await anonymous.close()
            throw error
        }
        let connection = try await connect(port: port, as: registration)
        let identity = try IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
        let session = try await identity.login(userID: id, password: AuthFlowTests.password)
        let twoFactor = TwoFactorClient(transport: connection)
        let enrollment = try await twoFactor.enrollTotp(session, label: "phone", algorithm: algorithm, digits: digits)
        #expect(enrollment.otpauthUri.hasPrefix("otpauth://totp/Bastion:\(id)?secret=\(enrollment.secretBase32)&"))
        #expect(Base32.decode(enrollment.secretBase32) == enrollment.secret)
        let totp = TOTP(
            secret: enrollment.secret,
            algorithm: try TwoFactorService.algorithm(algorithm),
            digits: Int(digits)
        )
        let factor = try await twoFactor.confirmTotp(
            session,
            factorID: enrollment.factorId,
            code: totp.code(at: server.unixSeconds)
        )
        #expect(factor.kind == .totp && factor.label == "phone" && factor.digits == digits)
        return User(
            id: id,
            registration: registration,
            connection: connection,
            session: session,
            totp: totp,
            factorID: enrollment.factorId
        )
    }

    /// A code for the next step not yet used: the clock moves one step on first.
    static func freshCode(_ user: User, server: Server) -> String {
        server.clock.advance(by: .seconds(30))
        return user.totp.code(at: server.unixSeconds)
    }

    static func refusal(_ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(code: .unknown, message: "\(error)")
        }
    }

    static func digest(_ message: some ProtobufMessage) -> [UInt8] { SHA256.hash(message.serializedBytes()) }

    static func withSecondFactor(_ token: String, _ metadata: Metadata = Metadata()) -> Metadata {
        var metadata = metadata
        try! metadata.add(PolicyEngine.secondFactorMetadataKey, token)
        return metadata
    }

    // MARK: The whole flow

    @Test func enrollProveAndRemove() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(atPath: server.folder) }
        try await server.run { port, _ in
            let alice = try await Self.enrolledUser("alice", port: port, server: server, algorithm: .sha256, digits: 8)
            let factors = try await alice.twoFactor.listFactors(alice.session)
            #expect(factors.map(\.factorId) == [alice.factorID])
            #expect(factors.first?.algorithm == .sha256)

            // Replacing the recovery codes needs the authenticator now: without a code the server
            // names the operation and the factors.
            let withoutCode = await Self.refusal {
                _ = try await alice.twoFactor.generateRecoveryCodes(alice.session, prove: nil)
            }
            #expect(withoutCode?.code == .failedPrecondition)
            let challenge = try #require(SecondFactorChallenge(withoutCode?.secondFactorChallenge ?? ""))
            #expect(challenge.method == Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes.path)
            #expect(challenge.requestSHA256 == Self.digest(Bastion_Auth_V1_GenerateRecoveryCodesRequest()))
            #expect(challenge.factors == [.init(id: alice.factorID, kind: "totp")])
            let code = Self.freshCode(alice, server: server)
            let codes = try await alice.twoFactor.generateRecoveryCodes(alice.session) { _ in (alice.factorID, code) }
            #expect(codes.count == 10)
            #expect(
                try await alice.twoFactor.listFactors(alice.session).first { $0.kind == .recoveryCodes }?
                    .recoveryCodesLeft == 10
            )

            // Removing the authenticator with a recovery code, through the client library.
            try await alice.twoFactor.removeFactor(alice.session, factorID: alice.factorID) { challenge in
                #expect(challenge.method == Bastion_Auth_V1_TwoFactor.Method.removeFactor.path)
                #expect(Set(challenge.factors.map(\.kind)) == ["totp", "recovery-codes"])
                return (RecoveryCodes.factorID, codes[3].lowercased())
            }
            let left = try await alice.twoFactor.listFactors(alice.session)
            #expect(left.map(\.kind) == [.recoveryCodes])
            #expect(left.first?.recoveryCodesLeft == 9)
            try await alice.identity.deleteAccount(userID: "alice", password: AuthFlowTests.password) { _ in
                (RecoveryCodes.factorID, codes[4])
            }
            let gone = await Self.refusal { _ = try await alice.identity.whoAmI(alice.session) }
            #expect(gone?.code == .unauthenticated)
            await alice.connection.close()
        }
    }

    /// `bastiond --dev` serves the service, hands its verifier to the policy engine and keeps the
    /// factor key beside the store, private.
    @Test func bastiondServesSecondFactors() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let anonymous = try await DaemonTests.client(port: port, folder: folder)
        let registration = try await IdentityClient(transport: anonymous, configuration: AuthFlowTests.configuration)
            .register(userID: "gina", password: AuthFlowTests.password)
        let connection = try await AuthFlowTests.connect(port: port, folder: folder, as: registration)
        let identity = try IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
        let twoFactor = TwoFactorClient(transport: connection)
        let session = try await identity.login(userID: "gina", password: AuthFlowTests.password)
        let enrollment = try await twoFactor.enrollTotp(session, label: "phone")
        let totp = TOTP(secret: enrollment.secret)
        let step = totp.step(at: Int64(Date().timeIntervalSince1970))
        _ = try await twoFactor.confirmTotp(session, factorID: enrollment.factorId, code: totp.code(forStep: step))

        let refused = await Self.refusal { _ = try await twoFactor.generateRecoveryCodes(session, prove: nil) }
        #expect(refused?.code == .failedPrecondition)
        #expect(SecondFactorChallenge(refused?.secondFactorChallenge ?? "")?.factors.map(\.id) == [enrollment.factorId])
        // The next step's code (the confirmation used this one's) is within the window.
        let codes = try await twoFactor.generateRecoveryCodes(session) { _ in
            (enrollment.factorId, totp.code(forStep: step + 1))
        }
        #expect(codes.count == 10)
        let key = try FileManager.default.attributesOfItem(
            atPath: folder.appendingPathComponent("data/factor.key").path
        )
        #expect((key[.posixPermissions] as? Int) == 0o600)
        #expect((key[.size] as? Int) == 32)
        for connection in [anonymous, connection] { await connection.close() }
    }

    /// A user without a factor passes with `none`, and only while that is so.
    @Test func usersWithoutAFactorSendNone() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(atPath: server.folder) }
        try await server.run { port, _ in
            let anonymous = try await BastionTransportTests.connect(port: port)
            server.catchUpWithRealTime()
            let registration = try await IdentityClient(
                transport: anonymous,
                configuration: AuthFlowTests.configuration
            )
            .register(userID: "erin", password: AuthFlowTests.password)
            let connection = try await Self.connect(port: port, as: registration)
            let twoFactor = TwoFactorClient(transport: connection)
            // Nothing to initiate.
            let nothing = await Self.refusal {
                _ = try await twoFactor.stub.initiateTwoFactor(
                    .init {
                        $0.method = Bastion_Auth_V1_Auth.Method.deleteAccount.path
                        $0.requestSha256 = Array(repeating: 1, count: 32)
                    }
                )
            }
            #expect(nothing?.code == .failedPrecondition)
            // Without a certificate, no challenges at all.
            let anonymousRefusal = await Self.refusal {
                _ = try await TwoFactorClient(transport: anonymous).stub.initiateTwoFactor(
                    .init {
                        $0.method = Bastion_Auth_V1_Auth.Method.deleteAccount.path
                        $0.requestSha256 = Array(repeating: 1, count: 32)
                    }
                )
            }
            #expect(anonymousRefusal?.code == .unauthenticated)
            // A factor change passes with "none" (the client sends it when the challenge lists no
            // factor)...
            let identity = try IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
            let session = try await identity.login(userID: "erin", password: AuthFlowTests.password)
            let codes = try await twoFactor.generateRecoveryCodes(session, prove: nil)
            #expect(codes.count == 10)
            // ...but not once there is one.
            let withCodes = await Self.refusal {
                _ = try await twoFactor.stub.generateRecoveryCodes(
                    .init(),
                    metadata: Self.withSecondFactor(TwoFactorService.noFactorToken, session.metadata)
                )
            }
            #expect(withCodes?.code == .failedPrecondition)
            #expect(
                SecondFactorChallenge(withCodes?.secondFactorChallenge ?? "")?.factors.map(\.kind) == ["recovery-codes"]
            )
            try await identity.deleteAccount(userID: "erin", password: AuthFlowTests.password) { _ in
                (RecoveryCodes.factorID, codes[0])
            }
            for connection in [anonymous, connection] { await connection.close() }
        }
    }

    // MARK: Refusals

    @Test func everyRefusalOverTLS() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(atPath: server.folder) }
        try await server.run { port, store in
            let alice = try await Self.enrolledUser("alice", port: port, server: server)
            let bob = try await Self.enrolledUser("bob", port: port, server: server)
            // The operation: alice removes her authenticator.
            let stub = alice.twoFactor.stub
            let removal = Bastion_Auth_V1_RemoveFactorRequest { $0.factorId = alice.factorID }
            func remove(_ request: Bastion_Auth_V1_RemoveFactorRequest, token: String?) async -> RPCError? {
                let metadata = token.map { Self.withSecondFactor($0, alice.session.metadata) } ?? alice.session.metadata
                return await Self.refusal { _ = try await stub.removeFactor(request, metadata: metadata) }
            }
            func initiate(_ request: some ProtobufMessage, method: MethodDescriptor, as user: User) async throws
                -> Bastion_Auth_V1_InitiateTwoFactorResponse
            {
                try await user.twoFactor.stub.initiateTwoFactor(
                    .init {
                        $0.method = method.path
                        $0.requestSha256 = Self.digest(request)
                    }
                ).message
            }
            func solve(
                _ challenge: Bastion_Auth_V1_InitiateTwoFactorResponse,
                _ code: String,
                factor: String,
                on client: TwoFactorClient
            ) async -> (String?, RPCError?) {
                do {
                    return (
                        try await client.solve(challengeID: challenge.challengeId, factorID: factor, code: code), nil
                    )
                } catch {
                    return (nil, error as? RPCError)
                }
            }

            // No token: the challenge names this request and alice's factor.
            let noToken = await remove(removal, token: nil)
            #expect(noToken?.code == .failedPrecondition)
            let named = SecondFactorChallenge(noToken?.secondFactorChallenge ?? "")
            #expect(named?.method == Bastion_Auth_V1_TwoFactor.Method.removeFactor.path)
            #expect(named?.requestSHA256 == Self.digest(removal))
            // "none" while a factor is enrolled.
            let none = await remove(removal, token: TwoFactorService.noFactorToken)
            #expect(none?.code == .failedPrecondition)
            #expect(none?.secondFactorChallenge != nil)
            // A token nobody issued.
            let forged = await remove(removal, token: "forged")
            #expect(forged?.code == .permissionDenied)

            // A wrong code costs one of the challenge's three attempts.
            let challenge = try await initiate(
                removal,
                method: Bastion_Auth_V1_TwoFactor.Method.removeFactor,
                as: alice
            )
            #expect(challenge.attemptsLeft == 3)
            #expect(challenge.factors.map(\.factorId) == [alice.factorID])
            let wrongCode = alice.totp.code(at: server.unixSeconds) == "000000" ? "000001" : "000000"
            let (_, wrong) = await solve(challenge, wrongCode, factor: alice.factorID, on: alice.twoFactor)
            #expect(wrong?.code == .permissionDenied)
            #expect(wrong?.message.contains("2 attempts left") == true, "\(String(describing: wrong))")
            // Bob's client cannot solve alice's challenge, even with her code.
            let (_, foreign) = await solve(
                challenge,
                alice.totp.code(at: server.unixSeconds),
                factor: alice.factorID,
                on: bob.twoFactor
            )
            #expect(foreign?.code == .permissionDenied)
            // A factor alice does not have.
            let (_, noFactor) = await solve(challenge, "123456", factor: bob.factorID, on: alice.twoFactor)
            #expect(noFactor?.code == .notFound)

            // The right code: a token for exactly this removal.
            let code = Self.freshCode(alice, server: server)
            let (solved, _) = await solve(challenge, code, factor: alice.factorID, on: alice.twoFactor)
            let token = try #require(solved)
            // The code that was just accepted is refused on a new challenge (replay).
            let again = try await initiate(removal, method: Bastion_Auth_V1_TwoFactor.Method.removeFactor, as: alice)
            let (_, replayed) = await solve(again, code, factor: alice.factorID, on: alice.twoFactor)
            #expect(replayed?.code == .permissionDenied)
            #expect(replayed?.message.contains("used already") == true, "\(String(describing: replayed))")

            // The token does not serve another request (another factor), another method, or
            // another user...
            let otherRequest = await remove(.init { $0.factorId = RecoveryCodes.factorID }, token: token)
            #expect(otherRequest?.code == .permissionDenied)
            #expect(otherRequest?.message.contains("another request") == true)
            let otherMethod = await Self.refusal {
                _ = try await stub.generateRecoveryCodes(
                    .init(),
                    metadata: Self.withSecondFactor(token, alice.session.metadata)
                )
            }
            #expect(otherMethod?.code == .permissionDenied)
            let bobsCall = await Self.refusal {
                _ = try await bob.twoFactor.stub.removeFactor(
                    removal,
                    metadata: Self.withSecondFactor(token, bob.session.metadata)
                )
            }
            #expect(bobsCall?.code == .permissionDenied)
            #expect(bobsCall?.message.contains("another user") == true)
            // ...and still serves its own, once.
            #expect(await remove(removal, token: token) == nil)
            #expect(try await alice.twoFactor.listFactors(alice.session).isEmpty)
            let reusedOwn = await Self.refusal {
                _ = try await stub.generateRecoveryCodes(
                    .init(),
                    metadata: Self.withSecondFactor(token, alice.session.metadata)
                )
            }
            #expect(reusedOwn?.code == .permissionDenied)

            // Deleting the account needs a factor again (a recovery code now), and takes the
            // user's factors with it.
            let aliceCodes = try await alice.twoFactor.generateRecoveryCodes(alice.session, prove: nil)
            try await alice.identity.deleteAccount(userID: "alice", password: AuthFlowTests.password) { challenge in
                #expect(challenge.method == Bastion_Auth_V1_Auth.Method.deleteAccount.path)
                #expect(challenge.factors.map(\.kind) == ["recovery-codes"])
                return (RecoveryCodes.factorID, aliceCodes[0])
            }
            #expect(try store.withReadTransaction { txn in try txn.get(AuthService.users, "alice") } == nil)
            #expect(
                try store.withReadTransaction { txn in
                    try txn.scan(TwoFactorService.factors, .prefix(KeyPrefix("alice")))
                }.isEmpty
            )

            // Bob: a token serves once. (Recovery codes: the request is empty.)
            let recovery = Bastion_Auth_V1_GenerateRecoveryCodesRequest()
            let bobs = bob.twoFactor.stub
            let recoveryChallenge = try await initiate(
                recovery,
                method: Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes,
                as: bob
            )
            let (recoveryToken, _) = await solve(
                recoveryChallenge,
                Self.freshCode(bob, server: server),
                factor: bob.factorID,
                on: bob.twoFactor
            )
            let codes = try await bobs.generateRecoveryCodes(
                recovery,
                metadata: Self.withSecondFactor(try #require(recoveryToken), bob.session.metadata)
            ).message.codes
            #expect(codes.count == 10)
            let reused = await Self.refusal {
                _ = try await bobs.generateRecoveryCodes(
                    recovery,
                    metadata: Self.withSecondFactor(recoveryToken!, bob.session.metadata)
                )
            }
            #expect(reused?.code == .permissionDenied)
            #expect(reused?.message.contains("unknown, used or expired") == true)

            // A recovery code serves once.
            let first = try await initiate(
                recovery,
                method: Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes,
                as: bob
            )
            let (recoveryCodeToken, _) = await solve(first, codes[0], factor: RecoveryCodes.factorID, on: bob.twoFactor)
            #expect(recoveryCodeToken != nil)
            let second = try await initiate(
                recovery,
                method: Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes,
                as: bob
            )
            let (_, usedCode) = await solve(second, codes[0], factor: RecoveryCodes.factorID, on: bob.twoFactor)
            #expect(usedCode?.code == .permissionDenied)
            #expect(
                try await bob.twoFactor.listFactors(bob.session).first { $0.kind == .recoveryCodes }?.recoveryCodesLeft
                    == 9
            )

            // An expired challenge, and an expired token.
            let expiring = try await initiate(
                recovery,
                method: Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes,
                as: bob
            )
            server.clock.advance(by: .seconds(301))
            let (_, expiredChallenge) = await solve(
                expiring,
                bob.totp.code(at: server.unixSeconds),
                factor: bob.factorID,
                on: bob.twoFactor
            )
            #expect(expiredChallenge?.code == .notFound)
            let expiringToken = try await initiate(
                recovery,
                method: Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes,
                as: bob
            )
            let (lateToken, _) = await solve(
                expiringToken,
                bob.totp.code(at: server.unixSeconds),
                factor: bob.factorID,
                on: bob.twoFactor
            )
            server.clock.advance(by: .seconds(181))
            let expiredToken = await Self.refusal {
                _ = try await bobs.generateRecoveryCodes(
                    recovery,
                    metadata: Self.withSecondFactor(try #require(lateToken), bob.session.metadata)
                )
            }
            #expect(expiredToken?.code == .permissionDenied)

            // Removing a factor needs one; with none left, bob is back to "none".
            try await bob.twoFactor.removeFactor(bob.session, factorID: bob.factorID) { _ in
                (bob.factorID, Self.freshCode(bob, server: server))
            }
            try await bob.twoFactor.removeFactor(bob.session, factorID: RecoveryCodes.factorID) { _ in
                (RecoveryCodes.factorID, codes[1])
            }
            #expect(try await bob.twoFactor.listFactors(bob.session).isEmpty)
            try await bob.identity.deleteAccount(userID: "bob", password: AuthFlowTests.password)
            for connection in [alice.connection, bob.connection] { await connection.close() }
        }
    }

    // MARK: Guessing

    /// 100 guessers on 20 connections race one challenge: the server evaluates exactly its three
    /// attempts. Then the factor and the account lock, and stay locked after a restart.
    @Test func bruteForceRaceAndLockoutAcrossRestart() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(atPath: server.folder) }
        let alice = Mutex<User?>(nil)
        let codes = Mutex<[String]>([])
        try await server.run { port, store in
            let user = try await Self.enrolledUser("alice", port: port, server: server)
            alice.withLock { $0 = user }
            let recoveryCodes = try await user.twoFactor.generateRecoveryCodes(user.session) { _ in
                (user.factorID, Self.freshCode(user, server: server))
            }
            codes.withLock { $0 = recoveryCodes }
            let request = Bastion_Auth_V1_GenerateRecoveryCodesRequest()
            let challenge = try await user.twoFactor.stub.initiateTwoFactor(
                .init {
                    $0.method = Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes.path
                    $0.requestSha256 = Self.digest(request)
                }
            ).message
            let valid = Set((-1...1).map { user.totp.code(at: server.unixSeconds + 30 * Int64($0)) })
            var guesses: [String] = []
            while guesses.count < 100 {
                let guess = String(format: "%06d", Int.random(in: 0..<1_000_000))
                if !valid.contains(guess) { guesses.append(guess) }
            }
            var connections: [BastionClientConnection] = []
            for _ in 0..<20 { connections.append(try await Self.connect(port: port, as: user.registration)) }
            let answers = await withTaskGroup(of: RPCError?.self) { group in
                for (index, guess) in guesses.enumerated() {
                    let client = TwoFactorClient(transport: connections[index % connections.count])
                    group.addTask {
                        await Self.refusal {
                            _ = try await client.solve(
                                challengeID: challenge.challengeId,
                                factorID: user.factorID,
                                code: guess
                            )
                        }
                    }
                }
                var answers: [RPCError?] = []
                for await answer in group { answers.append(answer) }
                return answers
            }
            let evaluated = answers.filter { $0?.code == .permissionDenied }
            let exhausted = answers.filter { $0?.code == .failedPrecondition }
            let limited = answers.filter { $0?.code == .resourceExhausted }
            #expect(evaluated.count == 3, "\(answers.map { $0.map { "\($0.code) \($0.message)" } ?? "passed" })")
            #expect(exhausted.count + limited.count == 97)
            let everyGuessRefused = answers.allSatisfy { $0 != nil }
            #expect(everyGuessRefused)
            let stored = try store.withReadTransaction { txn in
                try txn.get(TwoFactorService.challenges, challenge.challengeId)
            }
            #expect(stored?.attempts == 3)
            // A minute later (the per-client call limit has room again), even the right code is
            // not evaluated on the spent challenge.
            server.clock.advance(by: .seconds(61))
            let spent = await Self.refusal {
                _ = try await user.twoFactor.solve(
                    challengeID: challenge.challengeId,
                    factorID: user.factorID,
                    code: user.totp.code(at: server.unixSeconds)
                )
            }
            #expect(spent?.code == .failedPrecondition)
            for connection in connections { await connection.close() }

            // Two more wrong codes lock the authenticator: 5 failures within 15 minutes.
            let next = try await user.twoFactor.stub.initiateTwoFactor(
                .init {
                    $0.method = Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes.path
                    $0.requestSha256 = Self.digest(request)
                }
            ).message
            for guess in guesses.prefix(2) {
                let refusal = await Self.refusal {
                    _ = try await user.twoFactor.solve(
                        challengeID: next.challengeId,
                        factorID: user.factorID,
                        code: guess
                    )
                }
                #expect(refusal?.code == .permissionDenied)
            }
            let locked = await Self.refusal {
                _ = try await user.twoFactor.solve(
                    challengeID: next.challengeId,
                    factorID: user.factorID,
                    code: Self.freshCode(user, server: server)
                )
            }
            #expect(locked?.code == .resourceExhausted)
            #expect(locked?.message.contains("too many wrong codes") == true)
            #expect(locked?.retryAfter != nil)
        }

        // A new server and engine on the same store: still locked.
        let user = try #require(alice.withLock { $0 })
        let recoveryCodes = codes.withLock { $0 }
        try await server.run { port, _ in
            let connection = try await Self.connect(port: port, as: user.registration)
            let client = TwoFactorClient(transport: connection)
            func challenge() async throws -> String {
                try await client.stub.initiateTwoFactor(
                    .init {
                        $0.method = Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes.path
                        $0.requestSha256 = Self.digest(Bastion_Auth_V1_GenerateRecoveryCodesRequest())
                    }
                ).message.challengeId
            }
            let locked = await Self.refusal {
                _ = try await client.solve(
                    challengeID: try await challenge(),
                    factorID: user.factorID,
                    code: Self.freshCode(user, server: server)
                )
            }
            #expect(locked?.code == .resourceExhausted)
            #expect(locked?.message.contains("too many wrong codes") == true)

            // The recovery codes still work, until five wrong ones bring the account to ten
            // failures: then every factor is locked.
            let wrong = "AAAA-AAAA-AAAA-AAAA"
            for _ in 0..<2 {
                let id = try await challenge()
                for _ in 0..<3 {
                    _ = await Self.refusal {
                        _ = try await client.solve(challengeID: id, factorID: RecoveryCodes.factorID, code: wrong)
                    }
                }
            }
            let accountLocked = await Self.refusal {
                _ = try await client.solve(
                    challengeID: try await challenge(),
                    factorID: RecoveryCodes.factorID,
                    code: recoveryCodes[0]
                )
            }
            #expect(accountLocked?.code == .resourceExhausted)
            #expect(accountLocked?.message.contains("too many wrong codes") == true)

            // The window ends: the right code works again.
            server.clock.advance(by: .seconds(900))
            let token = try await client.solve(
                challengeID: try await challenge(),
                factorID: user.factorID,
                code: Self.freshCode(user, server: server)
            )
            #expect(!token.isEmpty)
            await connection.close()
        }
    }
}
