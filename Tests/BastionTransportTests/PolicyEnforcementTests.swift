import BastionBuiltinServices
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Logging
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

    /// Serves `methods` (each answers after the request's delay) behind a policy engine on a
    /// store in a fresh folder.
    func withPolicyServer(
        _ methods: [MethodDescriptor],
        storePath: String? = nil,
        clientAuthentication: TLSClientAuthentication = .optional,
        _ body: @Sendable (Int, PolicyEngine) async throws -> Void
    ) async throws {
        let folder = storePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        let store = try Store(path: folder, logger: testLogger)
        let engine = try PolicyEngine(store: store, logger: testLogger)
        try await withEchoServer(configure: {
            $0.security = .tls(try TestCertificates.serverContext(clientAuthentication: clientAuthentication))
            $0.maxConnectionsPerAddress = 1000
        }, router: { router in
            router.intercept(with: engine)
            for method in methods {
                router.registerUnary(method) { (request: EchoRequest, _) in
                    if request.delayMillis > 0 { try await Task.sleep(for: .milliseconds(Int(request.delayMillis))) }
                    return EchoResponse { $0.text = request.text }
                }
            }
        }) { _, port, _ in
            try await body(port, engine)
        }
        try await store.close()
        if storePath == nil { try? FileManager.default.removeItem(atPath: folder) }
    }

    func call(_ method: MethodDescriptor, port: Int, withCertificate: Bool = false, delay: UInt32 = 0) async throws -> RPCError? {
        let connection = try await connect(port: port, withCertificate: withCertificate)
        var refusal: RPCError?
        do {
            let _: RPCResponse<EchoResponse> = try await RPCClient(transport: connection).unary(method, request: EchoRequest { $0.delayMillis = delay })
        } catch {
            refusal = error
        }
        await connection.close()
        return refusal
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
        try await withPolicyServer([limited]) { port, _ in
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
            let outcomes = try await withThrowingTaskGroup(of: RPCError?.self) { group in
                for _ in 0..<4 { group.addTask { try await call(capped, port: port, delay: 500) } }
                var outcomes: [RPCError?] = []
                for try await outcome in group { outcomes.append(outcome) }
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
