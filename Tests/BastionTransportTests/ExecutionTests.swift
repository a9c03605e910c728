import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTransport
import NIOCore
import Testing

/// Calls whose handlers run on their connection's event loop (the default) or on the global
/// concurrent executor, made from tasks on the client connection's event loop or elsewhere: each
/// pairing takes different paths through the transport (direct access or hops, waits).
@Suite struct ExecutionTests {
    static let pairings: [(handlersOnEventLoop: Bool, callerOnEventLoop: Bool)] = [
        (true, true), (true, false), (false, true), (false, false),
    ]

    @Test(arguments: pairings)
    func everyCallKind(handlersOnEventLoop: Bool, callerOnEventLoop: Bool) async throws {
        try await withEchoServer(configure: { $0.runsHandlersOnEventLoops = handlersOnEventLoop }) { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            try await Self.run(on: callerOnEventLoop ? connection.taskExecutor : nil) {
                let unary = try await echo.get(EchoRequest { $0.text = "hi" }, metadata: metadata([("echo-a", "b")]))
                #expect(unary.message.text == "hi")
                #expect(unary.metadata["echo-a"] == "b")
                #expect(unary.trailerMetadata["echo-a"] == "b")

                // Above the stream window both ways, so both sides wait for credit.
                let payload = (0..<(3 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
                #expect(try await echo.get(EchoRequest { $0.payload = payload }).message.payload == payload)

                let indexes = try await echo.expand(EchoRequest { $0.payload = [1, 2]; $0.repeat = 200 }) { responses in
                    var indexes: [UInt32] = []
                    for try await response in responses { indexes.append(response.index) }
                    return indexes
                }
                #expect(indexes == Array(0..<200))

                let collected = try await echo.collect { writer in
                    for word in ["a", "b", "c"] { try await writer.write(EchoRequest { $0.text = word }) }
                }
                #expect(collected.message.text == "a b c")

                let texts = try await echo.update(requests: { writer in
                    for index in 0..<10 { try await writer.write(EchoRequest { $0.text = "m\(index)" }) }
                }, responses: { responses in
                    var texts: [String] = []
                    for try await response in responses { texts.append(response.text) }
                    return texts
                })
                #expect(texts == (0..<10).map { "m\($0)" })

                let error = await #expect(throws: RPCError.self) {
                    _ = try await echo.get(EchoRequest { $0.delayMillis = 5_000 }, options: CallOptions(timeout: .milliseconds(50)))
                }
                #expect(error?.code == .deadlineExceeded)
            }
            await connection.close()
        }
    }

    @Test(arguments: pairings)
    func concurrentCallsOnOneConnection(handlersOnEventLoop: Bool, callerOnEventLoop: Bool) async throws {
        try await withEchoServer(configure: { $0.runsHandlersOnEventLoops = handlersOnEventLoop }) { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let executor = callerOnEventLoop ? connection.taskExecutor : nil
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<32 {
                    group.addTask(executorPreference: executor) {
                        for call in 0..<20 {
                            let text = "\(caller)/\(call)"
                            let response = try await echo.get(EchoRequest { $0.text = text; $0.payload = [UInt8](repeating: 1, count: 1024) })
                            #expect(response.message.text == text)
                        }
                    }
                }
                try await group.waitForAll()
            }
            await connection.close()
        }
    }

    /// The server keeps one deadline timer per connection, at the earliest deadline: a later
    /// call with a shorter timeout must still end at its own deadline, and so must calls after
    /// the timer fired.
    /// Calls that arrive together are run by one task in turn; when the first one's handler
    /// waits, the calls behind it go to another task instead of waiting for it.
    @Test(arguments: pairings)
    func callsBehindAWaitingHandlerDoNotWaitForIt(handlersOnEventLoop: Bool, callerOnEventLoop: Bool) async throws {
        try await withEchoServer(configure: { $0.runsHandlersOnEventLoops = handlersOnEventLoop }) { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            // Calls running at once leave their tasks idle on the server, waiting for the next.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<5 { group.addTask { _ = try await echo.get(EchoRequest { $0.delayMillis = 50 }) } }
                try await group.waitForAll()
            }
            let finished = try await withThrowingTaskGroup(of: String.self) { group in
                // Started in one turn of the client's loop (when the callers run there), the
                // calls go out in one write and arrive in one read.
                for name in ["slow", "a", "b", "c", "d"] {
                    group.addTask(executorPreference: callerOnEventLoop ? connection.taskExecutor : nil) {
                        let request = EchoRequest { $0.text = name; $0.delayMillis = name == "slow" ? 1_000 : 0 }
                        return try await echo.get(request).message.text
                    }
                }
                var order: [String] = []
                for try await name in group { order.append(name) }
                return order
            }
            #expect(finished.last == "slow")
            #expect(Set(finished) == ["slow", "a", "b", "c", "d"])
            await connection.close()
        }
    }

    @Test func deadlinesOfCallsSharingAConnection() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let slow = EchoRequest { $0.delayMillis = 60_000 }
            try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    let error = await #expect(throws: RPCError.self) {
                        // Long enough that the short calls end first even on a loaded machine.
                        _ = try await echo.get(slow, options: CallOptions(timeout: .seconds(10)))
                    }
                    #expect(error?.code == .deadlineExceeded)
                    return "long"
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(100))  // after the long call opened, usually
                    for _ in 0..<2 {
                        let error = await #expect(throws: RPCError.self) {
                            _ = try await echo.get(slow, options: CallOptions(timeout: .milliseconds(100)))
                        }
                        #expect(error?.code == .deadlineExceeded)
                    }
                    return "short"
                }
                let first = try await group.next()
                let second = try await group.next()
                #expect([first, second] == ["short", "long"])
            }
            await connection.close()
        }
    }

    /// A task that ran a call runs the next calls of its connection (rather than a task per call):
    /// a call cancelled by its deadline must not leave the next ones cancelled, and more callers
    /// than tasks may wait idle must all be served.
    @Test(arguments: [true, false])
    func callsAfterACancelledCallOnTheSameConnection(handlersOnEventLoop: Bool) async throws {
        let probe = MethodDescriptor(service: "test.Probe", method: "Check", kind: .unary)
        try await withEchoServer(configure: { $0.runsHandlersOnEventLoops = handlersOnEventLoop }, router: { router in
            router.registerUnary(probe) { (request: EchoRequest, _: ServerContext) in
                // Throws CancellationError in a cancelled task.
                try await Task.sleep(for: .milliseconds(1))
                return EchoResponse { $0.text = Task.isCancelled ? "cancelled" : request.text }
            }
        }) { _, port, _ in
            let connection = try await connect(port: port)
            let client = RPCClient(transport: connection)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            for round in 0..<4 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for caller in 0..<(round == 3 ? 80 : 8) {
                        group.addTask(executorPreference: connection.taskExecutor) {
                            if caller % 4 == 0 {
                                let error = await #expect(throws: RPCError.self) {
                                    _ = try await echo.get(EchoRequest { $0.delayMillis = 10_000 }, options: CallOptions(timeout: .milliseconds(30)))
                                }
                                #expect(error?.code == .deadlineExceeded)
                            }
                            for call in 0..<3 {
                                let text = "\(round)/\(caller)/\(call)"
                                let response: RPCResponse<EchoResponse> = try await client.unary(probe, request: EchoRequest { $0.text = text })
                                #expect(response.message.text == text)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            await connection.close()
        }
    }

    private static func run(on executor: EventLoopTaskExecutor?, _ body: () async throws -> Void) async throws {
        if let executor {
            try await withTaskExecutorPreference(executor) {
                #expect(executor.eventLoop.inEventLoop)
                try await body()
            }
        } else {
            try await body()
        }
    }
}
