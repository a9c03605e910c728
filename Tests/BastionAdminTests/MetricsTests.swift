import BastionBuiltinServices
import BastionMetrics
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import BastionTransport
import Foundation
import Metrics
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// The metrics interceptor in front of a real policy engine, over a real server and LMDB store;
/// the `/metrics` endpoint over real HTTP.
@Suite struct MetricsTests {
    static let get = Bastion_Echo_V1_Echo.Method.get.path

    @Test func interceptorCountsCallsDenialsLatencyAndCallsInFlight() async throws {
        let metrics = TestMetrics()
        let folder = try temporaryFolder("metrics")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Store(path: folder.appendingPathComponent("store").path, logger: testLogger)
        let engine = try PolicyEngine(store: store, logger: testLogger)
        var router = RPCRouter()
        router.intercept(with: MetricsInterceptor(factory: metrics))
        router.intercept(with: engine)
        EchoService().register(with: &router)
        let server = BastionServer(
            configuration: .init(host: "127.0.0.1", port: 0, security: .plaintext),
            router: router,
            logger: testLogger
        )

        try await withRunningServices([server]) {
            let connection = try await BastionClientConnection.connect(
                host: "127.0.0.1",
                port: try await server.localAddress.port!,
                security: .plaintext
            )
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            for _ in 0..<3 { _ = try await echo.get(.init { $0.text = "hello" }) }
            // A handler's own error is counted by its code, and is no denial.
            await #expect(throws: RPCError.self) { _ = try await echo.get(.init { $0.failWithCode = 5 }) }
            // The operator switch is a denial by the availability property.
            try await engine.setEnabled(false, method: Bastion_Echo_V1_Echo.Method.get)
            let refusal = await #expect(throws: RPCError.self) { _ = try await echo.get(.init()) }
            #expect(refusal?.code == .unavailable)
            await connection.close()
        }
        try await store.close()

        func calls(_ code: String) -> Int64 {
            (try? metrics.expectCounter(MetricsInterceptor.callsLabel, [("method", Self.get), ("code", code)])
                .totalValue) ?? 0
        }
        #expect(calls("OK") == 3)
        #expect(calls("NOT_FOUND") == 1)
        #expect(calls("UNAVAILABLE") == 1)
        let denials = metrics.counters(label: MetricsInterceptor.denialsLabel)
        #expect(denials.count == 1)
        let denial = try metrics.expectCounter(
            MetricsInterceptor.denialsLabel,
            [("method", Self.get), ("policy", "availability"), ("code", "UNAVAILABLE")]
        )
        #expect(denial.totalValue == 1)
        #expect(try metrics.expectTimer(MetricsInterceptor.durationLabel, [("method", Self.get)]).values.count == 5)
        let inFlight = try metrics.expectMeter(MetricsInterceptor.inFlightLabel, [("method", Self.get)])
        #expect(inFlight.values.max() == 1)
        #expect(inFlight.lastValue == 0)
    }

    @Test func endpointServesTheRenderedTextAndNothingElse() async throws {
        let scrapes = Atomic<Int>(0)
        let endpoint = MetricsEndpoint(host: "127.0.0.1", port: 0, logger: testLogger) {
            let count = scrapes.add(1, ordering: .relaxed).newValue
            return Array("# TYPE scrapes counter\nscrapes \(count)\n".utf8)
        }
        try await withRunningServices([endpoint]) {
            let port = try await endpoint.localAddress.port!
            let first = try await HTTPTestClient.request(port: port, path: "/metrics")
            #expect(first.status == 200)
            #expect(first.headers["content-type"] == MetricsEndpoint.contentType)
            #expect(first.headers["connection"] == "close")
            #expect(MetricsText(first.body).value("scrapes") == 1)
            #expect(
                MetricsText(try await HTTPTestClient.request(port: port, path: "/metrics?x=1").body).value("scrapes")
                    == 2
            )

            let head = try await HTTPTestClient.request(port: port, path: "/metrics", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(try await HTTPTestClient.request(port: port, path: "/").status == 404)
            let post = try await HTTPTestClient.request(port: port, path: "/metrics", method: "POST")
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET, HEAD")
        }
    }

    @Test func endpointClosesSilentConnectionsAndCapsOpenOnes() async throws {
        let endpoint = MetricsEndpoint(
            host: "127.0.0.1",
            port: 0,
            maxConnections: 2,
            requestTimeout: .milliseconds(200),
            logger: testLogger
        ) {
            Array("up 1\n".utf8)
        }
        try await withRunningServices([endpoint]) {
            let port = try await endpoint.localAddress.port!
            // A connection that never sends a request is closed after the request timeout.
            let silent = try await HTTPTestClient.connectIdle(port: port)
            defer { close(silent) }
            #expect(try await HTTPTestClient.readToEnd(silent).isEmpty)
        }

        let capped = MetricsEndpoint(
            host: "127.0.0.1",
            port: 0,
            maxConnections: 2,
            requestTimeout: .seconds(60),
            logger: testLogger
        ) {
            Array("up 1\n".utf8)
        }
        try await withRunningServices([capped]) {
            let port = try await capped.localAddress.port!
            // Three silent connections against two slots: one of them is closed without an
            // answer. Which one depends on the event loops that take them, not on connect order.
            let connections = [
                try await HTTPTestClient.connectIdle(port: port),
                try await HTTPTestClient.connectIdle(port: port),
                try await HTTPTestClient.connectIdle(port: port),
            ]
            defer { for connection in connections { close(connection) } }
            let closed = try await HTTPTestClient.closedWithoutAnswer(connections, atLeast: 1, seconds: 30)
            #expect(closed.count == 1)
            // The other two keep their slots (their request timeout is a minute away).
            let alsoClosed = try await HTTPTestClient.closedWithoutAnswer(connections.filter { !closed.contains($0) }, atLeast: 1, seconds: 1)
            #expect(alsoClosed.isEmpty)
        }
    }
}

/// Runs `services` in a service group around `body`, then shuts them down gracefully.
func withRunningServices(_ services: [any Service], _ body: @Sendable () async throws -> Void) async throws {
    let group = ServiceGroup(
        services: services,
        gracefulShutdownSignals: [],
        cancellationSignals: [],
        logger: testLogger
    )
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
