import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTransport
import Testing

/// A unary call's outcomes through both client paths: the connection's one-step
/// `ClientTransport.unary` and the protocol's default, which drives an opened call step by step
/// (what any other transport gets). Misbehaving servers are raw handlers on the real server.
@Suite struct UnaryPathTests {
    /// Forwards only `openCall`, so `unary` takes the protocol's default.
    struct StepwiseTransport: ClientTransport {
        let connection: BastionClientConnection

        func openCall(method: MethodDescriptor, metadata: Metadata, timeout: Duration?) async throws(RPCError) -> any ClientCallTransport {
            try await connection.openCall(method: method, metadata: metadata, timeout: timeout)
        }
    }

    /// Forwards the connection's async one-step calls but not its caller-continuation start, so
    /// that `RPCClient` awaits the transport's own `unary`, which on the event loop encodes the
    /// request in place.
    struct AwaitingTransport: ClientTransport {
        let connection: BastionClientConnection

        func openCall(method: MethodDescriptor, metadata: Metadata, timeout: Duration?) async throws(RPCError) -> any ClientCallTransport {
            try await connection.openCall(method: method, metadata: metadata, timeout: timeout)
        }

        func unary(method: MethodDescriptor, metadata: Metadata, timeout: Duration?, request: [UInt8]) async throws(RPCError) -> ClientUnaryResponse {
            try await connection.unary(method: method, metadata: metadata, timeout: timeout, request: request)
        }

        func unary(
            method: MethodDescriptor,
            metadata: Metadata,
            timeout: Duration?,
            requestSize: Int,
            encodeRequest: (UnsafeMutableRawBufferPointer) -> Void
        ) async throws(RPCError) -> ClientUnaryResponse {
            try await connection.unary(method: method, metadata: metadata, timeout: timeout, requestSize: requestSize, encodeRequest: encodeRequest)
        }
    }

    /// The client paths: the connection's one-step call from another thread and from its event
    /// loop (where the caller's continuation is resumed), its awaited one-step call on the loop,
    /// and the protocol's stepwise default.
    enum Path: String, CaseIterable, CustomTestStringConvertible {
        case oneStep, oneStepOnLoop, awaitedOnLoop, stepwise

        var testDescription: String { rawValue }

        func client(_ connection: BastionClientConnection) -> RPCClient {
            switch self {
            case .oneStep, .oneStepOnLoop: RPCClient(transport: connection)
            case .awaitedOnLoop: RPCClient(transport: AwaitingTransport(connection: connection))
            case .stepwise: RPCClient(transport: StepwiseTransport(connection: connection))
            }
        }

        /// Runs `body` where this path's calls are made from.
        func run(on connection: BastionClientConnection, _ body: () async throws -> Void) async throws {
            switch self {
            case .oneStep, .stepwise: try await body()
            case .oneStepOnLoop, .awaitedOnLoop: try await withTaskExecutorPreference(connection.taskExecutor) { try await body() }
            }
        }
    }

    static let twoResponses = MethodDescriptor(service: "test.Raw", method: "TwoResponses", kind: .unary)
    static let noResponse = MethodDescriptor(service: "test.Raw", method: "NoResponse", kind: .unary)
    static let failsWithMetadata = MethodDescriptor(service: "test.Raw", method: "FailsWithMetadata", kind: .unary)

    /// Handlers that break the unary contract, or fail after sending a response header.
    static func rawMethods(_ router: inout RPCRouter) {
        router.register(twoResponses) { transport, _ in
            _ = try await transport.nextRequest()
            let response = EchoResponse { $0.text = "one" }.serializedBytes()
            try await transport.send(header: nil, message: response, trailer: nil)
            try await transport.send(header: nil, message: response, trailer: RPCCallTrailer())
        }
        router.register(noResponse) { transport, _ in
            _ = try await transport.nextRequest()
            try await transport.send(header: nil, message: nil, trailer: RPCCallTrailer())
        }
        router.register(failsWithMetadata) { transport, _ in
            _ = try await transport.nextRequest()
            var error = RPCError(code: .permissionDenied, message: "not yours")
            error.metadata = metadata([("why", "owner")])
            try await transport.send(header: metadata([("seen", "yes")]), message: nil, trailer: error.trailer)
        }
    }

    func expectError(_ code: RPCError.Code, containing text: String, _ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as RPCError {
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains(text), "\(error)")
            return error
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    @Test(arguments: Path.allCases)
    func misbehavingServersAndErrorsReachTheCaller(path: Path) async throws {
        try await withEchoServer(router: Self.rawMethods) { _, port, _ in
            let connection = try await connect(port: port)
            let client = path.client(connection)
            let request = EchoRequest { $0.text = "x" }
            try await path.run(on: connection) {
                _ = await expectError(.internal, containing: "more than one response") {
                    let _: RPCResponse<EchoResponse> = try await client.unary(Self.twoResponses, request: request)
                }
                _ = await expectError(.internal, containing: "without a response message") {
                    let _: RPCResponse<EchoResponse> = try await client.unary(Self.noResponse, request: request)
                }
                let error = await expectError(.permissionDenied, containing: "not yours") {
                    let _: RPCResponse<EchoResponse> = try await client.unary(Self.failsWithMetadata, request: request)
                }
                #expect(error?.metadata["why"] == "owner")
                _ = await expectError(.unimplemented, containing: "not implemented") {
                    let _: RPCResponse<EchoResponse> = try await client.unary(
                        MethodDescriptor(service: "test.Raw", method: "Missing", kind: .unary),
                        request: request
                    )
                }
                // The connection still carries calls, with metadata both ways.
                let response: RPCResponse<EchoResponse> = try await client.unary(
                    Bastion_Echo_V1_Echo.Method.get,
                    request: EchoRequest { $0.text = "after" },
                    metadata: metadata([("echo-k", "v")])
                )
                #expect(response.message.text == "after")
                #expect(response.metadata["echo-k"] == "v")
                #expect(response.trailerMetadata["echo-k"] == "v")
            }
            await connection.close()
        }
    }

    @Test(arguments: Path.allCases)
    func deadlineAndClosedConnection(path: Path) async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let client = path.client(connection)
            try await path.run(on: connection) {
                _ = await expectError(.deadlineExceeded, containing: "deadline") {
                    let _: RPCResponse<EchoResponse> = try await client.unary(
                        Bastion_Echo_V1_Echo.Method.get,
                        request: EchoRequest { $0.delayMillis = 2000 },
                        options: CallOptions(timeout: .milliseconds(100))
                    )
                }
                await connection.close()
                _ = await expectError(.unavailable, containing: "closed") {
                    let _: RPCResponse<EchoResponse> = try await client.unary(Bastion_Echo_V1_Echo.Method.get, request: EchoRequest())
                }
            }
        }
    }

    @Test func manyUnaryCallsAtOnceFromOtherThreadsAndTheEventLoop() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let texts = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<64 {
                    group.addTask(executorPreference: index.isMultiple(of: 2) ? connection.taskExecutor : nil) {
                        try await echo.get(EchoRequest { $0.text = "\(index)" }).message.text
                    }
                }
                var texts: Set<String> = []
                for try await text in group { texts.insert(text) }
                return texts
            }
            #expect(texts == Set((0..<64).map { "\($0)" }))
            await connection.close()
        }
    }
}
