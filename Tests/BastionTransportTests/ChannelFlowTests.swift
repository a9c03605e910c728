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

/// Code channels, security questions, access codes and the recovery-code notice through real
/// clients over TLS against a real server (policy engine, authentication and second-factor
/// services) on a store with a manual clock; channel commands are real scripts that record the
/// argument and the message they get.
@Suite struct ChannelFlowTests {
    /// A server like TwoFactorFlowTests.Server, with channels: `sms` runs a recording script
    /// (which fails while `<folder>/fail` exists), `email` writes to an outbox.
    struct Server {
        var folder = FileManager.default.temporaryDirectory.appendingPathComponent("channels-\(UUID().uuidString)")
        var key = try! FactorKey.random()
        var clock = ManualStoreClock(
            start: StoreInstant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        )
        let configure: @Sendable (inout TwoFactorService.Configuration) -> Void

        init(configure: @escaping @Sendable (inout TwoFactorService.Configuration) -> Void = { _ in }) {
            self.configure = configure
        }

        /// The same store, key and clock (a restart) with another configuration.
        func restarted(configure: @escaping @Sendable (inout TwoFactorService.Configuration) -> Void) -> Server {
            var server = Server(configure: configure)
            server.folder = folder
            server.key = key
            server.clock = clock
            return server
        }

        var outbox: URL { folder.appendingPathComponent("outbox") }
        var script: URL { folder.appendingPathComponent("send-sms") }

        func configuration() -> TwoFactorService.Configuration {
            var configuration = TwoFactorService.Configuration()
            configuration.channels.channels = [
                "sms": CommandChannel(executable: script.path, timeout: .seconds(60)),
                "email": OutboxChannel(folder: outbox.path, name: "email"),
            ]
            // Cheap Argon2id for tests; bastiond's default is checked in BastionIdentityTests.
            configuration.securityQuestions = .init(iterations: 1, memoryKiB: 8)
            configure(&configuration)
            return configuration
        }

        func run(_ body: @Sendable (Int, Store, TwoFactorService) async throws -> Void) async throws {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let script = """
                #!/bin/sh
                [ -e "\(folder.path)/fail" ] && { echo "gateway down" >&2; exit 3; }
                n=$(ls "\(folder.path)" | grep -c '^stdin-')
                printf '%s\\0' "$@" > "\(folder.path)/argv-$n"
                cat > "\(folder.path)/stdin-$n"
                exit 0

                """
            try script.write(to: self.script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: self.script.path)
            let store = try Store(path: folder.appendingPathComponent("store").path, clock: clock, logger: testLogger)
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
            let twoFactor = TwoFactorService(store: store, key: key, configuration: configuration(), logger: testLogger)
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
                    try await body(port, store, twoFactor)
                }
            } catch {
                try? await store.close()
                throw error
            }
            try await engine.flushCounters()
            try await store.close()
        }

        /// What the sms script got on its last run: the arguments and the message.
        func lastSMS() throws -> (arguments: [String], message: String) {
            let runs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("stdin-") }
            let last = runs.count - 1
            let argv = try Data(contentsOf: folder.appendingPathComponent("argv-\(last)"))
            let arguments = argv.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
                String(decoding: $0, as: UTF8.self)
            }
            let message = try String(contentsOf: folder.appendingPathComponent("stdin-\(last)"), encoding: .utf8)
            return (arguments, message)
        }

        var smsCount: Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("stdin-") }
                .count
        }

        /// The newest outbox message.
        func lastEmail() throws -> String {
            let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path).sorted()
            return try String(contentsOf: outbox.appendingPathComponent(files.last!), encoding: .utf8)
        }

        func failing(_ fail: Bool) {
            let flag = folder.appendingPathComponent("fail").path
            if fail {
                _ = FileManager.default.createFile(atPath: flag, contents: Data())
            } else {
                try? FileManager.default.removeItem(atPath: flag)
            }
        }

        func advance(_ seconds: Int64) { clock.advance(by: .seconds(seconds)) }

        /// Moves the clock up to the real time if it fell behind, as TwoFactorFlowTests does: a
        /// registration's proof of work carries the client's real clock.
        func catchUpWithRealTime() {
            let real = StoreInstant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            if real > clock.now() { clock.set(to: real) }
        }
    }

    struct User: Sendable {
        var id: String
        var registration: IdentityClient.Registration
        var connection: BastionClientConnection
        var session: IdentityClient.Session
        var twoFactor: TwoFactorClient { TwoFactorClient(transport: connection) }
        var identity: IdentityClient {
            try! IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
        }
    }

    /// A registered, logged-in user without factors, on a connection with its certificate.
    static func user(_ id: String, port: Int, server: Server) async throws -> User {
        let anonymous = try await BastionTransportTests.connect(port: port)
        server.catchUpWithRealTime()
        let registration: IdentityClient.Registration
        do {
            registration = try await IdentityClient(transport: anonymous, configuration: AuthFlowTests.configuration)
                .register(userID: id, password: AuthFlowTests.password)
            await anonymous.close()
        } catch {
            await anonymous.close()
            throw error
        }
        let connection = try await TwoFactorFlowTests.connect(port: port, as: registration)
        let identity = try IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
        let session = try await identity.login(userID: id, password: AuthFlowTests.password)
        return User(id: id, registration: registration, connection: connection, session: session)
    }

    /// The code in a channel message ("Bastion code: B-12345678").
    static func code(in message: String) -> String? {
        guard let range = message.range(of: "code: B-") else { return nil }
        return String(message[range.upperBound...].prefix(8))
    }

    static func initiate(_ request: some ProtobufMessage, method: MethodDescriptor, as user: User) async throws
        -> Bastion_Auth_V1_InitiateTwoFactorResponse
    {
        try await user.twoFactor.stub.initiateTwoFactor(
            .init {
                $0.method = method.path
                $0.requestSha256 = TwoFactorFlowTests.digest(request)
            }
        ).message
    }

    static let recoveryRequest = Bastion_Auth_V1_GenerateRecoveryCodesRequest()
    static let recoveryMethod = Bastion_Auth_V1_TwoFactor.Method.generateRecoveryCodes

    // MARK: Channels

    @Test func enrollAChannelResendRotateAndConfirm() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(at: server.folder) }
        try await server.run { port, _, _ in
            let carol = try await Self.user("carol", port: port, server: server)
            // Exactly the address, as one argument, and the message on stdin.
            let address = "+49 170 1234567; $(id)"
            let enrollment = try await carol.twoFactor.enrollChannel(carol.session, channel: "sms", address: address)
            #expect(enrollment.codePrefix == "B-")
            #expect(enrollment.addressHint == "+49***d)")
            let first = try server.lastSMS()
            #expect(first.arguments == [address])
            let code = try #require(Self.code(in: first.message))
            #expect(first.message.hasPrefix("Bastion code: B-\(code)\nFor: confirming this address for carol\n"))

            // Refusals: a wrong code (and the count), an unknown enrollment, unknown channels and
            // bad addresses.
            let wrong = await TwoFactorFlowTests.refusal {
                _ = try await carol.twoFactor.confirmChannel(
                    carol.session,
                    factorID: enrollment.factorId,
                    code: code == "00000000" ? "00000001" : "00000000"
                )
            }
            #expect(wrong?.code == .permissionDenied)
            #expect(wrong?.message == "wrong code; 4 attempts left")
            let unknown = await TwoFactorFlowTests.refusal {
                _ = try await carol.twoFactor.confirmChannel(carol.session, factorID: "channel-00", code: code)
            }
            #expect(unknown?.code == .notFound)
            let unknownResend = await TwoFactorFlowTests.refusal {
                _ = try await carol.twoFactor.resendEnrollmentCode(carol.session, factorID: "channel-00")
            }
            #expect(unknownResend?.code == .notFound)
            let noChannel = await TwoFactorFlowTests.refusal {
                _ = try await carol.twoFactor.enrollChannel(carol.session, channel: "pigeon", address: "x")
            }
            #expect(noChannel?.code == .invalidArgument)
            #expect(noChannel?.message.contains("one of email, sms") == true, "\(String(describing: noChannel))")
            for bad in ["", "-x", "a\u{7}b", String(repeating: "1", count: 300)] {
                let refused = await TwoFactorFlowTests.refusal {
                    _ = try await carol.twoFactor.enrollChannel(carol.session, channel: "sms", address: bad)
                }
                #expect(refused?.code == .invalidArgument, "\(bad)")
            }

            // Re-sending within the period: the same code; afterwards a new one, and the old one
            // no longer confirms.
            let again = try await carol.twoFactor.resendEnrollmentCode(carol.session, factorID: enrollment.factorId)
            #expect(!again.newCode)
            #expect(Self.code(in: try server.lastSMS().message) == code)
            server.advance(121)
            let rotated = try await carol.twoFactor.resendEnrollmentCode(carol.session, factorID: enrollment.factorId)
            #expect(rotated.newCode)
            let newCode = try #require(Self.code(in: try server.lastSMS().message))
            if newCode != code {
                let old = await TwoFactorFlowTests.refusal {
                    _ = try await carol.twoFactor.confirmChannel(carol.session, factorID: enrollment.factorId, code: code)
                }
                #expect(old?.code == .permissionDenied)
                #expect(old?.message == "wrong code; 3 attempts left")
            }
            // Without the prefix, with spaces: confirmed.
            let factor = try await carol.twoFactor.confirmChannel(
                carol.session,
                factorID: enrollment.factorId,
                code: String(newCode.prefix(4)) + " " + String(newCode.suffix(4))
            )
            #expect(factor.kind == .codeChannel && factor.channel == "sms" && factor.addressHint == "+49***d)")
            let again2 = await TwoFactorFlowTests.refusal {
                _ = try await carol.twoFactor.confirmChannel(carol.session, factorID: enrollment.factorId, code: newCode)
            }
            #expect(again2?.code == .failedPrecondition)
            #expect(try await carol.twoFactor.listFactors(carol.session).map(\.factorId) == [enrollment.factorId])

            // A second channel (e-mail, the outbox) needs a code from the first one now: the
            // prover sends it through sms and reads it.
            let email = try await carol.twoFactor.enrollChannel(
                carol.session,
                channel: "email",
                address: "carol@example.com"
            ) { challenge in
                #expect(challenge.factors == [.init(id: enrollment.factorId, kind: "channel")])
                let started = try #require(challenge.initiated)
                let sent = try await carol.twoFactor.sendChallengeCode(
                    challengeID: started.challengeId,
                    factorID: enrollment.factorId
                )
                #expect(sent.newCode && sent.attemptsLeft == 3)
                return (enrollment.factorId, "b-" + (Self.code(in: try server.lastSMS().message) ?? ""))
            }
            let mail = try server.lastEmail()
            #expect(mail.hasPrefix("To: carol@example.com\nChannel: email\n\nBastion code: B-"))
            let confirmed = try await carol.twoFactor.confirmChannel(
                carol.session,
                factorID: email.factorId,
                code: try #require(Self.code(in: mail))
            )
            #expect(confirmed.addressHint == "c***@example.com")
            #expect(try await carol.twoFactor.listFactors(carol.session).count == 2)
            await carol.connection.close()
        }
    }

    /// A user with a confirmed sms factor.
    static func userWithSMS(_ id: String, port: Int, server: Server) async throws -> (User, String) {
        let user = try await Self.user(id, port: port, server: server)
        let enrollment = try await user.twoFactor.enrollChannel(user.session, channel: "sms", address: "+1 555 \(id)")
        _ = try await user.twoFactor.confirmChannel(
            user.session,
            factorID: enrollment.factorId,
            code: try #require(Self.code(in: try server.lastSMS().message))
        )
        return (user, enrollment.factorId)
    }

    @Test func challengeCodesResendRotateExpireAndFail() async throws {
        let server = Server(configure: {
            $0.channels.codeLifetime = .seconds(200)
            // Room for this test's wrong codes before the factor locks.
            $0.maxFailuresPerFactor = 20
            $0.maxFailuresPerAccount = 40
        })
        defer { try? FileManager.default.removeItem(at: server.folder) }
        try await server.run { port, store, _ in
            let (dave, sms) = try await Self.userWithSMS("dave", port: port, server: server)
            let (erin, erinSMS) = try await Self.userWithSMS("erin", port: port, server: server)
            let challenge = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: dave)
            #expect(challenge.factors.map(\.kind) == [.codeChannel])
            #expect(challenge.factors.first?.addressHint == "+1***ve")
            func solve(_ code: String, challenge id: String = challenge.challengeId, factor: String = sms) async
                -> RPCError?
            {
                await TwoFactorFlowTests.refusal { _ = try await dave.twoFactor.solve(challengeID: id, factorID: factor, code: code) }
            }

            // Solving before a code was sent costs an attempt and says what to do.
            let notSent = await solve("12345678")
            #expect(notSent?.code == .permissionDenied)
            #expect(notSent?.message.contains("no code was sent") == true, "\(String(describing: notSent))")
            // Refusals of SendChallengeCode: unknown challenge, another client's, another
            // user's factor, a factor that is not a channel.
            let unknown = await TwoFactorFlowTests.refusal {
                _ = try await dave.twoFactor.sendChallengeCode(challengeID: "00", factorID: sms)
            }
            #expect(unknown?.code == .notFound)
            let foreign = await TwoFactorFlowTests.refusal {
                _ = try await erin.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: erinSMS)
            }
            #expect(foreign?.code == .permissionDenied)
            let erinsFactor = await TwoFactorFlowTests.refusal {
                _ = try await dave.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: erinSMS)
            }
            #expect(erinsFactor?.code == .notFound)
            let recovery = await TwoFactorFlowTests.refusal {
                _ = try await dave.twoFactor.sendChallengeCode(
                    challengeID: challenge.challengeId,
                    factorID: RecoveryCodes.factorID
                )
            }
            #expect(recovery?.code == .notFound)

            // A failing command: a clear error, nothing used up, and the challenge can be sent
            // again once the channel works.
            server.failing(true)
            let failed = await TwoFactorFlowTests.refusal {
                _ = try await dave.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: sms)
            }
            #expect(failed?.code == .unavailable)
            #expect(
                failed?.message
                    == "the sms channel could not send the code (the command exited with status 3); the challenge is unchanged; call SendChallengeCode again"
            )
            server.failing(false)
            let sent = try await dave.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: sms)
            #expect(sent.attemptsLeft == 2)
            let message = try server.lastSMS()
            #expect(message.arguments == ["+1 555 dave"])
            #expect(message.message.contains("For: \(Self.recoveryMethod.path)\n"))
            let code = try #require(Self.code(in: message.message))

            // A wrong code; a re-send inside the period sends the same code and grants nothing.
            let wrong = await solve(code == "00000000" ? "00000001" : "00000000")
            #expect(wrong?.message == "wrong code; 1 attempt left on this challenge")
            let resent = try await dave.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: sms)
            #expect(!resent.newCode && resent.attemptsLeft == 1)
            #expect(Self.code(in: try server.lastSMS().message) == code)
            // The right code, lower-case prefix: a token for the operation.
            let token = try await dave.twoFactor.solve(
                challengeID: challenge.challengeId,
                factorID: sms,
                code: "b-\(code)"
            )
            let codes = try await dave.twoFactor.stub.generateRecoveryCodes(
                Self.recoveryRequest,
                metadata: TwoFactorFlowTests.withSecondFactor(token, dave.session.metadata)
            ).message.codes
            #expect(codes.count == 10)

            // After the retransmission period the code rotates; the old one is refused (and
            // costs an attempt), the new one works.
            let second = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: dave)
            _ = try await dave.twoFactor.sendChallengeCode(challengeID: second.challengeId, factorID: sms)
            let oldCode = try #require(Self.code(in: try server.lastSMS().message))
            server.advance(121)
            let rotated = try await dave.twoFactor.sendChallengeCode(challengeID: second.challengeId, factorID: sms)
            #expect(rotated.newCode && rotated.attemptsLeft == 3)
            let newCode = try #require(Self.code(in: try server.lastSMS().message))
            if newCode != oldCode {
                #expect(await solve(oldCode, challenge: second.challengeId)?.code == .permissionDenied)
            }
            #expect(await solve(newCode, challenge: second.challengeId) == nil)

            // A code expires (200 s here), within its challenge's 300 s.
            let third = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: dave)
            _ = try await dave.twoFactor.sendChallengeCode(challengeID: third.challengeId, factorID: sms)
            let late = try #require(Self.code(in: try server.lastSMS().message))
            server.advance(201)
            let expired = await solve(late, challenge: third.challengeId)
            #expect(expired?.code == .permissionDenied)
            #expect(expired?.message.contains("the code has expired") == true, "\(String(describing: expired))")
            #expect(
                try store.withReadTransaction { txn in
                    try txn.get(TwoFactorService.challenges, third.challengeId)?.attempts
                } == 1
            )
            // A challenge without attempts left sends nothing.
            for _ in 0..<2 { _ = await solve("00000000", challenge: third.challengeId) }
            let spent = await TwoFactorFlowTests.refusal {
                _ = try await dave.twoFactor.sendChallengeCode(challengeID: third.challengeId, factorID: sms)
            }
            #expect(spent?.code == .failedPrecondition)
            for connection in [dave.connection, erin.connection] { await connection.close() }
        }
    }

    /// Sends through one factor are capped per window (persisted), whatever the challenge.
    @Test func sendsPerFactorAreCapped() async throws {
        let server = Server(configure: { $0.channels.maxSendsPerFactor = 4 })
        defer { try? FileManager.default.removeItem(at: server.folder) }
        try await server.run { port, _, _ in
            // Enrollment's send is the first of four.
            let (frank, sms) = try await Self.userWithSMS("frank", port: port, server: server)
            let challenge = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: frank)
            for _ in 0..<3 {
                _ = try await frank.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: sms)
            }
            let before = server.smsCount
            let capped = await TwoFactorFlowTests.refusal {
                _ = try await frank.twoFactor.sendChallengeCode(challengeID: challenge.challengeId, factorID: sms)
            }
            #expect(capped?.code == .resourceExhausted)
            #expect(capped?.retryAfter != nil)
            #expect(server.smsCount == before)
            await frank.connection.close()
        }
    }

    // MARK: Security questions

    @Test func securityQuestionsAndLimitsThatSurviveARestart() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(at: server.folder) }
        let state = Mutex<(User, String)?>(nil)
        try await server.run { port, store, _ in
            let gina = try await Self.user("gina", port: port, server: server)
            let question = "Name of your first pet?"
            let factor = try await gina.twoFactor.addSecurityQuestion(
                gina.session,
                question: question,
                answer: "  Rex the DOG "
            )
            #expect(factor.kind == .securityQuestion && factor.question == question)
            // Stored: salt, Argon2id hash, the question sealed; neither text in the clear.
            let record = try #require(
                try store.withReadTransaction { txn in
                    try txn.get(TwoFactorService.factors, CompositeKey("gina", factor.factorId))
                }
            )
            #expect(record.answerSalt.count == 16 && record.answerHash.count == 32)
            #expect(record.answerIterations == 1 && record.answerMemoryKib == 8)
            let stored = record.serializedBytes()
            for text in [question, "rex the dog", "Rex the DOG"] {
                #expect(!stored.contains(Array(text.utf8)), "\(text) is stored in the clear")
            }
            #expect(try await gina.twoFactor.listFactors(gina.session).first?.question == question)

            // Refusals: empty or long question or answer.
            for (q, a) in [("", "x"), ("q?", "   "), (String(repeating: "q", count: 257), "x")] {
                let refused = await TwoFactorFlowTests.refusal {
                    _ = try await gina.twoFactor.addSecurityQuestion(gina.session, question: q, answer: a) { _ in
                        (factor.factorId, "rex the dog")
                    }
                }
                #expect(refused?.code == .invalidArgument, "\(q) \(a)")
            }

            // The challenge shows the question to the user's client; the normalised answer works.
            let challenge = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: gina)
            #expect(challenge.factors.first?.question == question)
            let wrong = await TwoFactorFlowTests.refusal {
                _ = try await gina.twoFactor.solve(challengeID: challenge.challengeId, factorID: factor.factorId, code: "Rex")
            }
            #expect(wrong?.code == .permissionDenied)
            #expect(wrong?.message == "wrong answer; 2 attempts left on this challenge")
            let token = try await gina.twoFactor.solve(
                challengeID: challenge.challengeId,
                factorID: factor.factorId,
                code: "rex   the dog"
            )
            #expect(!token.isEmpty)

            // Three wrong answers spend a challenge; two more lock the factor (5 per 15 minutes).
            let spent = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: gina)
            for _ in 0..<3 {
                _ = await TwoFactorFlowTests.refusal {
                    _ = try await gina.twoFactor.solve(challengeID: spent.challengeId, factorID: factor.factorId, code: "no")
                }
            }
            let noAttempts = await TwoFactorFlowTests.refusal {
                _ = try await gina.twoFactor.solve(challengeID: spent.challengeId, factorID: factor.factorId, code: "rex the dog")
            }
            #expect(noAttempts?.code == .failedPrecondition)
            let next = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: gina)
            for _ in 0..<2 {
                _ = await TwoFactorFlowTests.refusal {
                    _ = try await gina.twoFactor.solve(challengeID: next.challengeId, factorID: factor.factorId, code: "no")
                }
            }
            let locked = await TwoFactorFlowTests.refusal {
                _ = try await gina.twoFactor.solve(challengeID: next.challengeId, factorID: factor.factorId, code: "rex the dog")
            }
            #expect(locked?.code == .resourceExhausted)
            #expect(locked?.retryAfter != nil)
            state.withLock { $0 = (gina, factor.factorId) }
        }
        // The same store after a restart: still locked, until the window ends.
        let (gina, factorID) = try #require(state.withLock { $0 })
        try await server.run { port, _, _ in
            let connection = try await TwoFactorFlowTests.connect(port: port, as: gina.registration)
            let client = TwoFactorClient(transport: connection)
            func attempt() async throws -> RPCError? {
                let challenge = try await client.stub.initiateTwoFactor(
                    .init {
                        $0.method = Self.recoveryMethod.path
                        $0.requestSha256 = TwoFactorFlowTests.digest(Self.recoveryRequest)
                    }
                ).message
                return await TwoFactorFlowTests.refusal {
                    _ = try await client.solve(challengeID: challenge.challengeId, factorID: factorID, code: "Rex the dog")
                }
            }
            #expect(try await attempt()?.code == .resourceExhausted)
            server.advance(901)
            #expect(try await attempt() == nil)
            await connection.close()
        }
    }

    // MARK: Recovery codes

    @Test func aUsedRecoveryCodeIsAnnouncedThroughTheChannels() async throws {
        let server = Server()
        defer { try? FileManager.default.removeItem(at: server.folder) }
        try await server.run { port, _, _ in
            let (hank, sms) = try await Self.userWithSMS("hank", port: port, server: server)
            let codes = try await hank.twoFactor.generateRecoveryCodes(hank.session) { challenge in
                _ = try await hank.twoFactor.sendChallengeCode(
                    challengeID: try #require(challenge.initiated).challengeId,
                    factorID: sms
                )
                return (sms, Self.code(in: try server.lastSMS().message) ?? "")
            }
            let challenge = try await Self.initiate(Self.recoveryRequest, method: Self.recoveryMethod, as: hank)
            let before = server.smsCount
            _ = try await hank.twoFactor.solve(
                challengeID: challenge.challengeId,
                factorID: RecoveryCodes.factorID,
                code: codes[0]
            )
            #expect(server.smsCount == before + 1)
            let notice = try server.lastSMS()
            #expect(notice.arguments == ["+1 555 hank"])
            #expect(notice.message.contains("a recovery code of your account hank was used; 9 left"))
            let listed = try await hank.twoFactor.listFactors(hank.session).first { $0.kind == .recoveryCodes }
            #expect(listed?.recoveryCodeLastUsedUnixSeconds == server.clock.now().millisecondsSinceEpoch / 1000)
            await hank.connection.close()
        }
    }

    // MARK: Access codes

    @Test func accessCodesForSupportOnlyOnceAndRateLimited() async throws {
        let server = Server(configure: {
            $0.accessCodes.supportUsers = ["sam"]
            $0.accessCodes.maxFailures = 4
        })
        defer { try? FileManager.default.removeItem(at: server.folder) }
        try await server.run { port, _, twoFactor in
            let sam = try await Self.user("sam", port: port, server: server)
            let ivan = try await Self.user("ivan", port: port, server: server)
            let anonymous = try await BastionTransportTests.connect(port: port)
            let publicClient = TwoFactorClient(transport: anonymous)

            let notSupport = await TwoFactorFlowTests.refusal {
                _ = try await ivan.twoFactor.issueAccessCode(ivan.session, scope: "consent-upload")
            }
            #expect(notSupport?.code == .permissionDenied)
            #expect(notSupport?.message == "issuing access codes needs the support role")
            for (scope, digits, lifetime) in [("Bad Scope", 0, 0), ("ok", 5, 0), ("ok", 11, 0), ("ok", 0, 30), ("ok", 0, 7200)]
                as [(String, UInt32, UInt32)]
            {
                let refused = await TwoFactorFlowTests.refusal {
                    _ = try await sam.twoFactor.issueAccessCode(
                        sam.session,
                        scope: scope,
                        digits: digits,
                        lifetimeSeconds: lifetime
                    )
                }
                #expect(refused?.code == .invalidArgument, "\(scope) \(digits) \(lifetime)")
            }

            let issued = try await sam.twoFactor.issueAccessCode(sam.session, scope: "consent-upload", subject: "case 42")
            #expect(issued.code.count == 8 && issued.code.allSatisfy(\.isNumber))
            let six = try await sam.twoFactor.issueAccessCode(sam.session, scope: "other", digits: 6, lifetimeSeconds: 60)
            #expect(six.code.count == 6)

            // Redeemed by anyone who was told it, once, with spaces as read out.
            let spaced = String(issued.code.prefix(4)) + " " + String(issued.code.suffix(4))
            let redeemed = try await publicClient.redeemAccessCode(spaced)
            #expect(redeemed.scope == "consent-upload" && redeemed.subject == "case 42" && redeemed.issuedBy == "sam")
            #expect(try twoFactor.checkAccessToken(redeemed.token, scope: "consent-upload").subject == "case 42")
            #expect(throws: RPCError.self) { try twoFactor.checkAccessToken(redeemed.token, scope: "other") }
            #expect(throws: RPCError.self) { try twoFactor.checkAccessToken("forged", scope: "consent-upload") }
            let twice = await TwoFactorFlowTests.refusal { _ = try await publicClient.redeemAccessCode(issued.code) }
            #expect(twice?.code == .permissionDenied)
            #expect(twice?.message == "the access code is unknown, used or expired")
            let malformed = await TwoFactorFlowTests.refusal { _ = try await publicClient.redeemAccessCode("12ab") }
            #expect(malformed?.code == .invalidArgument)

            // Expired after its lifetime.
            server.advance(61)
            let expired = await TwoFactorFlowTests.refusal { _ = try await publicClient.redeemAccessCode(six.code) }
            #expect(expired?.code == .permissionDenied)

            // Four wrong codes (twice above, the expired one, two more) stop every redemption,
            // even of a good code, until the window ends.
            let good = try await sam.twoFactor.issueAccessCode(sam.session, scope: "consent-upload")
            for guess in ["00000000", "00000001"] where guess != good.code {
                _ = await TwoFactorFlowTests.refusal { _ = try await publicClient.redeemAccessCode(guess) }
            }
            let stopped = await TwoFactorFlowTests.refusal { _ = try await publicClient.redeemAccessCode(good.code) }
            #expect(stopped?.code == .resourceExhausted)
            #expect(stopped?.retryAfter != nil)
            // The policy's limit per address: 10 calls a minute (the clock moved on, so count
            // afresh).
            server.advance(901)
            var limited: RPCError?
            for _ in 0..<11 {
                limited = await TwoFactorFlowTests.refusal { _ = try await publicClient.redeemAccessCode("1234 5678") }
                if limited?.code == .resourceExhausted { break }
            }
            #expect(limited?.code == .resourceExhausted)
            for connection in [sam.connection, ivan.connection, anonymous] { await connection.close() }
        }
    }

    // MARK: bastiond

    /// `bastiond --dev` sends codes to its outbox, and runs a configured command.
    @Test func bastiondSendsThroughTheOutboxAndCommands() async throws {
        let scripts = FileManager.default.temporaryDirectory.appendingPathComponent("channel-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scripts) }
        let script = scripts.appendingPathComponent("send")
        try "#!/bin/sh\nprintf '%s' \"$1\" > \"\(scripts.path)/argv\"\ncat > \"\(scripts.path)/stdin\"\n"
            .write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script.path)
        let (process, port, folder) = try await DaemonTests.startDaemon(["--channel", "sms=\(script.path)"])
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let anonymous = try await DaemonTests.client(port: port, folder: folder)
        let registration = try await IdentityClient(transport: anonymous, configuration: AuthFlowTests.configuration)
            .register(userID: "jill", password: AuthFlowTests.password)
        let connection = try await AuthFlowTests.connect(port: port, folder: folder, as: registration)
        let identity = try IdentityClient(transport: connection, configuration: AuthFlowTests.configuration)
        let twoFactor = TwoFactorClient(transport: connection)
        let session = try await identity.login(userID: "jill", password: AuthFlowTests.password)

        let mail = try await twoFactor.enrollChannel(session, channel: "email", address: "jill@example.com")
        let outbox = folder.appendingPathComponent("data/outbox")
        let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
        #expect(files.count == 1)
        let text = try String(contentsOf: outbox.appendingPathComponent(files[0]), encoding: .utf8)
        _ = try await twoFactor.confirmChannel(session, factorID: mail.factorId, code: try #require(Self.code(in: text)))

        let sms = try await twoFactor.enrollChannel(session, channel: "sms", address: "+1 555 0100") { challenge in
            let started = try #require(challenge.initiated)
            _ = try await twoFactor.sendChallengeCode(challengeID: started.challengeId, factorID: mail.factorId)
            let newest = try FileManager.default.contentsOfDirectory(atPath: outbox.path).sorted().last!
            let text = try String(contentsOf: outbox.appendingPathComponent(newest), encoding: .utf8)
            return (mail.factorId, Self.code(in: text) ?? "")
        }
        #expect(try String(contentsOf: scripts.appendingPathComponent("argv"), encoding: .utf8) == "+1 555 0100")
        let message = try String(contentsOf: scripts.appendingPathComponent("stdin"), encoding: .utf8)
        _ = try await twoFactor.confirmChannel(session, factorID: sms.factorId, code: try #require(Self.code(in: message)))
        #expect(Set(try await twoFactor.listFactors(session).map(\.channel)) == ["email", "sms"])
        for connection in [anonymous, connection] { await connection.close() }
    }

    /// The refusals the other tests do not reach: labels, the channel limit, a failing first send,
    /// an expired enrollment code, an enrollment dropped after five wrong codes, the send cap on
    /// re-sends, and a channel the server no longer has.
    @Test func remainingRefusals() async throws {
        let server = Server(configure: {
            $0.channels.maxFactorsPerUser = 2
            $0.channels.maxSendsPerFactor = 3
            $0.channels.codeLifetime = .seconds(60)
        })
        defer { try? FileManager.default.removeItem(at: server.folder) }
        let state = Mutex<(User, String)?>(nil)
        try await server.run { port, _, _ in
            let kate = try await Self.user("kate", port: port, server: server)
            let client = kate.twoFactor
            let label = await TwoFactorFlowTests.refusal {
                _ = try await client.enrollChannel(kate.session, channel: "sms", address: "+1", label: String(repeating: "l", count: 65))
            }
            #expect(label?.code == .invalidArgument)

            // The first send fails: a clear error, and the pending enrollment can be sent again.
            server.failing(true)
            let failed = await TwoFactorFlowTests.refusal {
                _ = try await client.enrollChannel(kate.session, channel: "sms", address: "+1 555 0101")
            }
            #expect(failed?.code == .unavailable)
            let message = try #require(failed?.message)
            #expect(message.hasPrefix("the sms channel could not send the code (the command exited with status 3); call ResendEnrollmentCode for channel-"))
            let pending = try #require(message.split(separator: " ").first { $0.hasPrefix("channel-") }.map(String.init))
            server.failing(false)
            let resent = try await client.resendEnrollmentCode(kate.session, factorID: pending)
            #expect(!resent.newCode)
            let code = try #require(Self.code(in: try server.lastSMS().message))
            // The send cap counts re-sends too (3 here: the failed one, this one, one more).
            _ = try await client.resendEnrollmentCode(kate.session, factorID: pending)
            let capped = await TwoFactorFlowTests.refusal {
                _ = try await client.resendEnrollmentCode(kate.session, factorID: pending)
            }
            #expect(capped?.code == .resourceExhausted)
            // The code expires after 60 s (the enrollment after 10 minutes).
            server.advance(61)
            let expired = await TwoFactorFlowTests.refusal {
                _ = try await client.confirmChannel(kate.session, factorID: pending, code: code)
            }
            #expect(expired?.code == .failedPrecondition)
            #expect(expired?.message.contains("expired") == true)

            // Five wrong codes drop an enrollment.
            let second = try await client.enrollChannel(kate.session, channel: "email", address: "kate@example.com")
            var last: RPCError?
            for _ in 0..<5 {
                last = await TwoFactorFlowTests.refusal {
                    _ = try await client.confirmChannel(kate.session, factorID: second.factorId, code: "B-00000000")
                }
            }
            #expect(last?.message.contains("the enrollment is dropped") == true, "\(String(describing: last))")
            let gone = await TwoFactorFlowTests.refusal {
                _ = try await client.confirmChannel(kate.session, factorID: second.factorId, code: "B-00000000")
            }
            #expect(gone?.code == .notFound)

            // Two channel factors at most here (the expired-code enrollment still counts).
            let third = try await client.enrollChannel(kate.session, channel: "email", address: "kate@example.com")
            _ = try await client.confirmChannel(
                kate.session,
                factorID: third.factorId,
                code: try #require(Self.code(in: try server.lastEmail()))
            )
            let tooMany = await TwoFactorFlowTests.refusal {
                _ = try await client.enrollChannel(kate.session, channel: "sms", address: "+1 555 0102") { challenge in
                    _ = try await client.sendChallengeCode(
                        challengeID: try #require(challenge.initiated).challengeId,
                        factorID: third.factorId
                    )
                    return (third.factorId, Self.code(in: try server.lastEmail()) ?? "")
                }
            }
            #expect(tooMany?.code == .failedPrecondition)
            #expect(tooMany?.message.contains("channel factors already") == true, "\(String(describing: tooMany))")
            state.withLock { $0 = (kate, third.factorId) }
            await kate.connection.close()
        }
        // The same store on a server without the email channel: its factor cannot send.
        let (kate, email) = try #require(state.withLock { $0 })
        try await server.restarted(configure: { $0.channels.channels["email"] = nil }).run { port, _, _ in
            let connection = try await TwoFactorFlowTests.connect(port: port, as: kate.registration)
            let client = TwoFactorClient(transport: connection)
            let challenge = try await client.stub.initiateTwoFactor(
                .init {
                    $0.method = Self.recoveryMethod.path
                    $0.requestSha256 = TwoFactorFlowTests.digest(Self.recoveryRequest)
                }
            ).message
            let unconfigured = await TwoFactorFlowTests.refusal {
                _ = try await client.sendChallengeCode(challengeID: challenge.challengeId, factorID: email)
            }
            #expect(unconfigured?.code == .failedPrecondition)
            #expect(unconfigured?.message.contains("no longer configured") == true)
            await connection.close()
        }
    }
}
