import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTransport
import Synchronization
import Testing

/// Interceptors around handlers, and per-address connection limits.
@Suite struct RouterTests {
    struct DenyUnlessTokened: ServerInterceptor {
        let recorder: Recorder

        func intercept(context: ServerContext, next: () async throws -> Void) async throws {
            recorder.seen.withLock { $0.append(context.method.path) }
            guard context.requestMetadata["token"] == "let-me-in" else {
                throw RPCError(code: .unauthenticated, message: "no token", policy: "authentication")
            }
            try await next()
        }
    }

    final class Recorder: Sendable {
        let seen = Mutex<[String]>([])
    }

    @Test func interceptorsRunBeforeHandlersAndCanRefuse() async throws {
        let recorder = Recorder()
        try await withEchoServer(router: { router in
            router.intercept(with: DenyUnlessTokened(recorder: recorder))
        }) { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            do {
                _ = try await echo.get(EchoRequest { $0.text = "x" })
                Issue.record("expected UNAUTHENTICATED")
            } catch let error as RPCError {
                #expect(error.code == .unauthenticated)
                #expect(error.policy == "authentication")
            }
            let allowed = try await echo.get(EchoRequest { $0.text = "x" }, metadata: metadata([("token", "let-me-in")]))
            #expect(allowed.message.text == "x")
            #expect(recorder.seen.withLock { $0 } == ["/bastion.echo.v1.Echo/Get", "/bastion.echo.v1.Echo/Get"])
            await connection.close()
        }
    }

    /// Both caps count open connections and close the one past them at once; from one address the
    /// two look the same to a client.
    @Test(arguments: ["per address", "in all"])
    func connectionsAreCapped(cap: String) async throws {
        let configure: (inout BastionServer.Configuration) -> Void = {
            if cap == "per address" { $0.maxConnectionsPerAddress = 2 } else { $0.maxConnections = 2 }
        }
        try await withEchoServer(configure: configure) { _, port, _ in
            let first = try await connect(port: port)
            let second = try await connect(port: port)
            _ = try await Bastion_Echo_V1_EchoClient(transport: second).get(EchoRequest())
            // The third is closed at once by the server (during or right after the handshake).
            var refused = false
            do {
                let third = try await connect(port: port)
                _ = try await Bastion_Echo_V1_EchoClient(transport: third).get(EchoRequest())
                await third.close()
            } catch {
                refused = true
            }
            #expect(refused)
            await first.close()
            // Closing one makes room again, once the server has seen it close (on a loaded
            // machine that can take a while, so try again until it has).
            var servedAgain = false
            for _ in 0..<300 where !servedAgain {
                try await Task.sleep(for: .milliseconds(100))
                guard let again = try? await connect(port: port) else { continue }
                servedAgain = (try? await Bastion_Echo_V1_EchoClient(transport: again).get(EchoRequest())) != nil
                await again.close()
            }
            #expect(servedAgain)
            await second.close()
        }
    }
}
