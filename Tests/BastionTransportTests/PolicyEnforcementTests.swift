import BastionBuiltinServices
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import COpenSSL
import Foundation
import Logging
import Synchronization
import Testing

/// The policy engine through a real client over TLS: each requirement refuses a violating call
/// with its status and lets a conforming one through.
@Suite struct PolicyEnforcementTests {
    static func method(_ name: String, _ configure: (inout Bastion_Policy_V1_MethodPolicy) -> Void) -> MethodDescriptor {
        var policy = Bastion_Policy_V1_MethodPolicy()
        policy.authentication = .init { $0.statement = "anyone"; $0.caller = .anonymous }
        policy.availability = .init { $0.statement = "always" }
        configure(&policy)
        return MethodDescriptor(service: "test.Policy", method: name, kind: .unary, policy: policy)
    }

    /// Serves `methods` (each answers after the request's delay, with the caller's principal as
    /// its text) behind a policy engine on a store in a fresh folder. `requestFields` reads the
    /// fields the methods' policies name, as generated code would.
    func withPolicyServer(
        _ methods: [MethodDescriptor],
        storePath: String? = nil,
        clientAuthentication: TLSClientAuthentication = .optional,
        requestFields: RPCRouter.RequestFields<EchoRequest>? = nil,
        makeEngine: (Store) throws -> PolicyEngine = { try PolicyEngine(store: $0, logger: testLogger) },
        _ body: @Sendable (Int, PolicyEngine) async throws -> Void
    ) async throws {
        let folder = storePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        let store = try Store(path: folder, logger: testLogger)
        let engine = try makeEngine(store)
        try await withEchoServer(configure: {
            $0.security = .tls(try TestCertificates.serverContext(clientAuthentication: clientAuthentication))
            $0.maxConnectionsPerAddress = 1000
        }, router: { router in
            router.intercept(with: engine)
            for method in methods {
                router.registerUnary(method, requestFields: requestFields) { (request: EchoRequest, context) in
                    if request.text == CallGate.text { await CallGate.shared.wait() }
                    if request.delayMillis > 0 { try await Task.sleep(for: .milliseconds(Int(request.delayMillis))) }
                    if request.failWithCode > 0 {
                        throw RPCError(code: .init(rawValue: Int(request.failWithCode)), message: request.failWithMessage)
                    }
                    return EchoResponse { $0.text = context.principal?.description ?? "anonymous" }
                }
            }
        }) { _, port, _ in
            try await body(port, engine)
        }
        // What a graceful shutdown's last flush does.
        try await engine.flushCounters()
        try await store.close()
        if storePath == nil { try? FileManager.default.removeItem(atPath: folder) }
    }

    func call(
        _ method: MethodDescriptor,
        port: Int,
        withCertificate: Bool = false,
        delay: UInt32 = 0,
        request: EchoRequest = EchoRequest(),
        metadata: Metadata = Metadata()
    ) async throws -> RPCError? {
        try await answer(method, port: port, withCertificate: withCertificate, delay: delay, request: request, metadata: metadata).error
    }

    /// The call's answer text, or its refusal.
    func answer(
        _ method: MethodDescriptor,
        port: Int,
        withCertificate: Bool = false,
        delay: UInt32 = 0,
        request: EchoRequest = EchoRequest(),
        metadata: Metadata = Metadata()
    ) async throws -> (text: String?, error: RPCError?) {
        let connection = try await connect(port: port, withCertificate: withCertificate)
        var request = request
        if delay > 0 { request.delayMillis = delay }
        do {
            let response: RPCResponse<EchoResponse> = try await RPCClient(transport: connection).unary(method, request: request, metadata: metadata)
            await connection.close()
            return (response.message.text, nil)
        } catch {
            await connection.close()
            return (nil, error)
        }
    }

    @Test func operatorSwitchPersistsAcrossRestarts() async throws {
        let switchable = Self.method("Switchable") { $0.availability = .init { $0.statement = "may be off"; $0.operatorCanDisable = true } }
        let always = Self.method("Always") { _ in }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withPolicyServer([switchable, always], storePath: folder) { port, engine in
            #expect(try await call(switchable, port: port) == nil)
            try await engine.setEnabled(false, method: switchable)
            let refusal = try await call(switchable, port: port)
            #expect(refusal?.code == .unavailable)
            #expect(refusal?.policy == "availability")
            await #expect(throws: RPCError.self) { try await engine.setEnabled(false, method: always) }
            #expect(try await call(always, port: port) == nil)
        }
        // A new server on the same store still has the method switched off.
        try await withPolicyServer([switchable], storePath: folder) { port, engine in
            #expect(try await call(switchable, port: port)?.code == .unavailable)
            try await engine.setEnabled(true, method: switchable)
            #expect(try await call(switchable, port: port) == nil)
            #expect(engine.denialCounts["/test.Policy/Switchable disabled"] == 1)
        }
    }

    @Test func hundredConcurrentCallersAgainstALimitOfTen() async throws {
        let limited = Self.method("Limited") {
            $0.spamPrevention = .init {
                $0.statement = "ten a minute"
                $0.rateLimits = [.init { $0.key = .peerAddress; $0.limit = 10; $0.periodSeconds = 60 }]
            }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withPolicyServer([limited], storePath: folder) { port, _ in
            var connections: [BastionClientConnection] = []
            for _ in 0..<10 { connections.append(try await connect(port: port)) }
            let outcomes = await withTaskGroup(of: RPCError?.self) { group in
                for caller in 0..<100 {
                    let client = RPCClient(transport: connections[caller % 10])
                    group.addTask {
                        do {
                            let _: RPCResponse<EchoResponse> = try await client.unary(limited, request: EchoRequest())
                            return nil
                        } catch let error as RPCError {
                            return error
                        } catch {
                            return RPCError(code: .unknown, message: "\(error)")
                        }
                    }
                }
                var outcomes: [RPCError?] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.filter { $0 == nil }.count == 10)
            let refusals = outcomes.compactMap { $0 }
            #expect(refusals.count == 90)
            #expect(refusals.allSatisfy { $0.code == .resourceExhausted && $0.retryAfter != nil && $0.policy == "spam_prevention" })
            for connection in connections { await connection.close() }
        }
        // After a restart (a new server and engine on the same store) the window is still full.
        try await withPolicyServer([limited], storePath: folder) { port, _ in
            let refusal = try await call(limited, port: port)
            #expect(refusal?.code == .resourceExhausted)
            #expect((refusal?.retryAfter ?? .zero) > .seconds(30))
        }
    }

    @Test func localClientsNeedACertificateFromThisServer() async throws {
        let local = Self.method("Local") { $0.authentication = .init { $0.statement = "local clients"; $0.caller = .localClient } }
        try await withPolicyServer([local]) { port, _ in
            let refusal = try await call(local, port: port)
            #expect(refusal?.code == .unauthenticated)
            #expect(refusal?.policy == "authentication")
            #expect(try await call(local, port: port, withCertificate: true) == nil)
        }
    }

    @Test func callersTheEngineCannotJudgeAreRefusedWithoutAVerifier() async throws {
        let user = Self.method("User") { $0.authentication = .init { $0.statement = "users"; $0.caller = .loggedInUser } }
        try await withPolicyServer([user]) { port, _ in
            let refusal = try await call(user, port: port, withCertificate: true)
            #expect(refusal?.code == .unauthenticated)
        }
    }

    @Test func inFlightCap() async throws {
        let capped = Self.method("Capped") { $0.availability = .init { $0.statement = "two at once"; $0.maxInFlight = 2 } }
        try await withPolicyServer([capped]) { port, _ in
            // The admitted calls wait at the gate until both refusals are back, so the four calls
            // overlap however slowly they connect; the gate opens after 20 s regardless.
            let outcomes = try await withThrowingTaskGroup(of: RPCError?.self) { group in
                let gated = EchoRequest { $0.text = CallGate.text }
                for _ in 0..<4 { group.addTask { try await call(capped, port: port, request: gated) } }
                group.addTask {
                    try? await Task.sleep(for: .seconds(20))
                    CallGate.shared.open()
                    return RPCError(code: .aborted, message: "the gate's timeout")
                }
                var outcomes: [RPCError?] = []
                for try await outcome in group {
                    if outcome?.code == .aborted { continue }
                    outcomes.append(outcome)
                    if outcomes.filter({ $0 != nil }).count == 2 { CallGate.shared.open() }
                    if outcomes.count == 4 { group.cancelAll() }
                }
                return outcomes
            }
            #expect(outcomes.filter { $0 == nil }.count == 2)
            #expect(outcomes.compactMap { $0?.code } == [.resourceExhausted, .resourceExhausted])
        }
    }

    @Test func addressGroups() {
        #expect(AddressGroupProbe.key("192.0.2.7") == "192.0.2.7")
        #expect(AddressGroupProbe.key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64")
        #expect(AddressGroupProbe.key("2001:db8::1") == "2001:db8:0:0::/64")
        #expect(AddressGroupProbe.key("::1") == "0:0:0:0::/64")
    }
}

/// The request phase: checks that need the decoded request (authorization, per-principal and
/// per-field limits, declared checks, second factor, proof of work), the deadline cap and the
/// audit log, each through a real client over TLS.
@Suite struct PolicyRequestPhaseTests {
    let server = PolicyEnforcementTests()
    static let clientName = "bastion-dev-client"
    static let textField: RPCRouter.RequestFields<EchoRequest> = { request in
        ["text": .string(request.text), "payload": .bytes(request.payload)]
    }

    @Test func callersMustOwnTheResourceARequestFieldNames() async throws {
        let owned = PolicyEnforcementTests.method("Owned") {
            $0.authorization = .init { $0.statement = "own only"; $0.ownedResourceField = "text" }
        }
        try await server.withPolicyServer([owned], requestFields: Self.textField) { port, engine in
            let mine = EchoRequest { $0.text = Self.clientName }
            #expect(try await server.call(owned, port: port, withCertificate: true, request: mine) == nil)
            let theirs = try await server.call(owned, port: port, withCertificate: true, request: EchoRequest { $0.text = "someone-else" })
            #expect(theirs?.code == .permissionDenied)
            #expect(theirs?.policy == "authorization")
            // Anonymous callers own nothing.
            #expect(try await server.call(owned, port: port, request: mine)?.code == .permissionDenied)
            #expect(engine.counters(for: owned.path).denials["permission_denied"] == 2)
            #expect(engine.counters(for: owned.path).admitted == 1)
        }
    }

    @Test func rateLimitsKeyedByARequestFieldAndByPrincipal() async throws {
        let byField = PolicyEnforcementTests.method("ByField") {
            $0.spamPrevention = .init {
                $0.statement = "two per account"
                $0.rateLimits = [.init { $0.key = .requestField; $0.field = "text"; $0.limit = 2; $0.periodSeconds = 60 }]
            }
        }
        let byPrincipal = PolicyEnforcementTests.method("ByPrincipal") {
            $0.spamPrevention = .init {
                $0.statement = "one per client"
                $0.rateLimits = [.init { $0.key = .principal; $0.limit = 1; $0.periodSeconds = 60 }]
            }
        }
        try await server.withPolicyServer([byField, byPrincipal], requestFields: Self.textField) { port, _ in
            let alice = EchoRequest { $0.text = "alice" }
            #expect(try await server.call(byField, port: port, request: alice) == nil)
            #expect(try await server.call(byField, port: port, request: alice) == nil)
            let third = try await server.call(byField, port: port, request: alice)
            #expect(third?.code == .resourceExhausted)
            #expect(third?.retryAfter != nil)
            #expect(try await server.call(byField, port: port, request: EchoRequest { $0.text = "bob" }) == nil)

            #expect(try await server.call(byPrincipal, port: port, withCertificate: true) == nil)
            #expect(try await server.call(byPrincipal, port: port, withCertificate: true)?.code == .resourceExhausted)
            // Anonymous callers have no principal to count.
            #expect(try await server.call(byPrincipal, port: port) == nil)
        }
    }

    @Test func declaredSizeBoundsAndSealedEnvelopes() async throws {
        let bounded = PolicyEnforcementTests.method("Bounded") {
            $0.integrity = .init { $0.statement = "small"; $0.checks = [.init { $0.kind = .maxRequestBytes(64) }] }
        }
        let sealed = PolicyEnforcementTests.method("Sealed") {
            $0.confidentiality = .init { $0.statement = "server cannot read"; $0.checks = [.init { $0.kind = .sealedEnvelopeField("payload") }] }
        }
        try await server.withPolicyServer([bounded, sealed], requestFields: Self.textField) { port, _ in
            #expect(try await server.call(bounded, port: port, request: EchoRequest { $0.payload = Array(repeating: 1, count: 32) }) == nil)
            var largeRequest = EchoRequest()
            largeRequest.payload = [UInt8](repeating: 1, count: 100)
            let large = try await server.call(bounded, port: port, request: largeRequest)
            #expect(large?.code == .resourceExhausted)
            #expect(large?.policy == "integrity")

            let plaintext = try await server.call(sealed, port: port, request: EchoRequest { $0.payload = Array("hello".utf8) })
            #expect(plaintext?.code == .invalidArgument)
            #expect(plaintext?.policy == "confidentiality")
            var envelope = RPCSealedEnvelope()
            envelope.version = 1
            envelope.recipientKeyId = [1, 2, 3]
            envelope.ephemeralPublicKey = Array(repeating: 7, count: 32)
            envelope.ciphertext = Array(repeating: 9, count: 40)
            let valid = envelope.serializedBytes()
            #expect(try await server.call(sealed, port: port, request: EchoRequest { $0.payload = valid }) == nil)
            envelope.ephemeralPublicKey = Array(repeating: 7, count: 31)
            let shortKey = envelope.serializedBytes()
            #expect(try await server.call(sealed, port: port, request: EchoRequest { $0.payload = shortKey })?.code == .invalidArgument)
        }
    }

    /// Tokens bound to one operation, each good once: the shape of the challenge service's.
    final class OneUseTokens: PolicyEngine.SecondFactorVerifier {
        let used = Mutex<Set<String>>([])

        static func token(for operation: PolicyEngine.BoundOperation) -> String {
            "solved:" + operation.method + ":" + operation.requestSHA256.map { String(format: "%02x", $0) }.joined()
        }

        func challenge(for operation: PolicyEngine.BoundOperation, principal: RPCPrincipal?, context: ServerContext) async throws(RPCError) -> String {
            "challenge-for:" + operation.method
        }

        func redeem(token: String, for operation: PolicyEngine.BoundOperation, principal: RPCPrincipal?, context: ServerContext) async throws(RPCError) {
            guard token == Self.token(for: operation) else {
                throw RPCError(code: .permissionDenied, message: "the token is for another operation", policy: "authentication")
            }
            guard used.withLock({ $0.insert(token).inserted }) else {
                throw RPCError(code: .permissionDenied, message: "the token was used", policy: "authentication")
            }
        }
    }

    @Test func secondFactorBoundToTheExactRequest() async throws {
        let guarded = PolicyEnforcementTests.method("Guarded") {
            $0.authentication = .init { $0.statement = "with a second factor"; $0.caller = .anonymous; $0.secondFactor = true }
        }
        let request = EchoRequest { $0.text = "delete everything" }
        let operation = PolicyEngine.BoundOperation(method: guarded.path, requestSHA256: sha256(request.serializedBytes()))
        let token = OneUseTokens.token(for: operation)
        try await server.withPolicyServer([guarded], makeEngine: { try PolicyEngine(store: $0, secondFactor: OneUseTokens(), logger: testLogger) }) { port, _ in
            let missing = try await server.call(guarded, port: port, request: request)
            #expect(missing?.code == .failedPrecondition)
            #expect(missing?.secondFactorChallenge == "challenge-for:" + guarded.path)
            // A token for this request does not serve another one.
            let other = try await server.call(guarded, port: port, request: EchoRequest { $0.text = "something else" }, metadata: metadata([("bastion-second-factor", token)]))
            #expect(other?.code == .permissionDenied)
            #expect(try await server.call(guarded, port: port, request: request, metadata: metadata([("bastion-second-factor", token)])) == nil)
            // Once only.
            #expect(try await server.call(guarded, port: port, request: request, metadata: metadata([("bastion-second-factor", token)]))?.code == .permissionDenied)
        }
        // Without a second-factor service the method cannot be called at all.
        try await server.withPolicyServer([guarded]) { port, _ in
            let refusal = try await server.call(guarded, port: port, request: request, metadata: metadata([("bastion-second-factor", token)]))
            #expect(refusal?.code == .failedPrecondition)
        }
    }

    @Test func proofOfWorkWithAnOperatorSetDifficulty() async throws {
        let costly = PolicyEnforcementTests.method("Costly") {
            $0.spamPrevention = .init { $0.statement = "work first"; $0.proofOfWork = .init { $0.defaultDifficulty = 8 } }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let request = EchoRequest { $0.text = "register me" }
        let now = Int64(Date().timeIntervalSince1970)
        try await server.withPolicyServer([costly], storePath: folder) { port, engine in
            let missing = try await server.call(costly, port: port, request: request)
            #expect(missing?.code == .failedPrecondition)
            #expect(missing?.proofOfWorkDifficulty == 8)
            #expect(missing?.policy == "spam_prevention")

            let proof = ProofOfWork.solve(difficulty: 8, method: costly.path, request: request.serializedBytes(), timestamp: now)
            let header = metadata([(ProofOfWork.metadataKey, proof.metadataValue)])
            #expect(try await server.call(costly, port: port, request: request, metadata: header) == nil)
            // The same solution is good once, and only for its request.
            #expect(try await server.call(costly, port: port, request: request, metadata: header)?.code == .failedPrecondition)
            // A solution of 8 bits that does not happen to reach 16 too (one in 256 would), so
            // that the raised difficulty below must refuse it.
            var fresh = ProofOfWork.solve(difficulty: 8, method: costly.path, request: request.serializedBytes(), timestamp: now + 1)
            while zeroBits(fresh.digest(method: costly.path, requestSHA256: sha256(request.serializedBytes()))) >= 16 {
                let next = fresh.nonce.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } + 1
                fresh = ProofOfWork.solve(difficulty: 8, method: costly.path, request: request.serializedBytes(), timestamp: now + 1, firstNonce: next)
            }
            let otherRequest = EchoRequest { $0.text = "someone else" }
            #expect(try await server.call(costly, port: port, request: otherRequest, metadata: metadata([(ProofOfWork.metadataKey, fresh.metadataValue)]))?.code == .failedPrecondition)
            // A stale timestamp is refused.
            let stale = ProofOfWork.solve(difficulty: 8, method: costly.path, request: request.serializedBytes(), timestamp: now - 3600)
            #expect(try await server.call(costly, port: port, request: request, metadata: metadata([(ProofOfWork.metadataKey, stale.metadataValue)]))?.code == .failedPrecondition)

            try await engine.setProofOfWorkDifficulty(16, method: costly)
            #expect(try await server.call(costly, port: port, request: request, metadata: metadata([(ProofOfWork.metadataKey, fresh.metadataValue)]))?.proofOfWorkDifficulty == 16)
        }
        // The operator's difficulty survives a restart; zero switches the check off.
        try await server.withPolicyServer([costly], storePath: folder) { port, engine in
            #expect(engine.proofOfWorkDifficulty(for: costly) == 16)
            try await engine.setProofOfWorkDifficulty(0, method: costly)
            #expect(try await server.call(costly, port: port, request: request) == nil)
        }
    }

    @Test func operatorsComeWithAListedCertificate() async throws {
        let admin = PolicyEnforcementTests.method("Admin") { $0.authentication = .init { $0.statement = "operators"; $0.caller = .operator } }
        let whoAmI = PolicyEnforcementTests.method("WhoAmI") { $0.authentication = .init { $0.statement = "clients"; $0.caller = .localClient } }
        try await server.withPolicyServer([admin, whoAmI]) { port, _ in
            let withClientCertificate = try await server.call(admin, port: port, withCertificate: true)
            #expect(withClientCertificate?.code == .unauthenticated)
            let anonymous = try await server.call(admin, port: port)
            #expect(anonymous?.code == .unauthenticated)
        }
        let collected = Mutex("")
        try await server.withPolicyServer([whoAmI]) { port, _ in
            let text = try await server.answer(whoAmI, port: port, withCertificate: true).text ?? ""
            collected.withLock { $0 = String(text.dropFirst("client:".count)) }
        }
        let fingerprint = collected.withLock { $0 }
        #expect(fingerprint.count == 64)
        var configuration = PolicyEngine.Configuration()
        configuration.operatorCertificateFingerprints = [fingerprint]
        try await server.withPolicyServer([admin], makeEngine: { try PolicyEngine(store: $0, configuration: configuration, logger: testLogger) }) { port, _ in
            let answer = try await server.answer(admin, port: port, withCertificate: true)
            #expect(answer.text == "operator:" + fingerprint)
            #expect(try await server.call(admin, port: port)?.code == .unauthenticated)
        }
    }

    @Test func thePolicyCapsTheDeadline() async throws {
        let quick = PolicyEnforcementTests.method("Quick") { $0.availability = .init { $0.statement = "short calls"; $0.maxDeadlineMillis = 5000 } }
        try await server.withPolicyServer([quick]) { port, _ in
            let short = try await server.call(quick, port: port)
            #expect(short == nil)
            let long = try await server.call(quick, port: port, delay: 60_000)
            #expect(long?.code == .deadlineExceeded)
        }
    }

    @Test func auditedCallsAreChainedInTheStore() async throws {
        let audited = PolicyEnforcementTests.method("Audited") {
            $0.nonRepudiation = .init { $0.statement = "recorded"; $0.auditLog = true }
            $0.authorization = .init { $0.statement = "own only"; $0.ownedResourceField = "text" }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await server.withPolicyServer([audited], storePath: folder, requestFields: Self.textField) { port, engine in
            let mine = EchoRequest { $0.text = Self.clientName }
            #expect(try await server.call(audited, port: port, withCertificate: true, request: mine) == nil)
            #expect(try await server.call(audited, port: port, withCertificate: true, request: EchoRequest { $0.text = "x" })?.code == .permissionDenied)
            let failing = EchoRequest { $0.text = Self.clientName; $0.failWithCode = 5 }
            #expect(try await server.call(audited, port: port, withCertificate: true, request: failing)?.code == .notFound)

            let entries = try engine.auditLog.entries()
            #expect(entries.map(\.sequence) == [1, 2, 3])
            #expect(entries.map(\.statusCode) == [0, 7, 5])
            #expect(entries.allSatisfy { $0.method == audited.path && $0.principal.hasPrefix("client:") })
            #expect(entries[0].requestSha256 == sha256(mine.serializedBytes()))
            #expect(try engine.auditLog.verify() == AuditLog.Verification(entries: 3, firstBrokenSequence: nil, problem: nil))
        }
        // Someone with write access to the store edits entry 2: the chain names it.
        let store = try Store(path: folder, logger: testLogger)
        let table = Table<UInt64, Bastion_Policy_V1_AuditEntry>("audit.log")
        try await store.withWriteTransaction { txn in
            guard var entry = try txn.get(table, 2) else { throw StoreError(code: .notFound, message: "entry 2") }
            entry.statusCode = 0
            try txn.put(table, 2, entry)
        }
        let verification = try AuditLog(store: store).verify()
        #expect(verification.firstBrokenSequence == 2)
        #expect(verification.problem?.contains("changed") == true)
        try await store.close()
    }
}

func zeroBits(_ digest: [UInt8]) -> Int {
    let zeroBytes = digest.prefix { $0 == 0 }.count
    return zeroBytes * 8 + (zeroBytes < digest.count ? digest[zeroBytes].leadingZeroBitCount : 0)
}

func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: 32)
    // OpenSSL's one-shot digest, as an independent check of the engine's.
    _ = bytes.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { SHA256(input.baseAddress, input.count, $0.baseAddress) }
    }
    return output
}

/// Holds the handlers of calls whose request text is ``text`` until the test opens it (for
/// inFlightCap, the only test that sends that text).
final class CallGate: Sendable {
    static let text = "wait-at-the-gate"
    static let shared = CallGate()

    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
