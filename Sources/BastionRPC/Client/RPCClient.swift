public import BastionProtobuf

/// A unary or client-streaming call's result: the response and the metadata around it.
public struct RPCResponse<Message: ProtobufMessage>: Sendable {
    public var message: Message
    public var metadata: Metadata
    public var trailerMetadata: Metadata

    @usableFromInline
    init(message: Message, metadata: Metadata, trailerMetadata: Metadata) {
        self.message = message
        self.metadata = metadata
        self.trailerMetadata = trailerMetadata
    }
}

/// Sends a client-streaming call's requests.
public struct RPCRequestWriter<Message: ProtobufMessage>: Sendable {
    let call: any ClientCallTransport

    nonisolated(nonsending) public func write(_ message: Message) async throws(RPCError) {
        try await call.send(message: message.serializedBytes(), endStream: false)
    }
}

/// A streaming call's responses; ends normally at an OK trailer, throws at any other.
public struct RPCResponseStream<Message: ProtobufMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = RPCError

    let call: any ClientCallTransport

    /// The server's response header metadata.
    nonisolated(nonsending) public func metadata() async throws(RPCError) -> Metadata { try await call.responseMetadata() }

    /// The trailer's metadata; call after the stream ended.
    nonisolated(nonsending) public func trailerMetadata() async -> Metadata { await call.trailerMetadata() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: any ClientCallTransport

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Message? {
            guard let bytes = try await call.nextResponse() else { return nil }
            return try decodeResponse(bytes)
        }

        public mutating func next() async throws(RPCError) -> Message? { try await next(isolation: nil) }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(call: call) }
}

/// Typed calls over any ``ClientTransport``; generated client stubs are thin wrappers of this.
public struct RPCClient: Sendable {
    public let transport: any ClientTransport

    public init(transport: any ClientTransport) {
        self.transport = transport
    }

    // Inlinable, so that a generated stub specialises it for its messages: unspecialised, each
    // call looked up the metadata of RPCResponse<Response> (about 300 instructions).
    @inlinable
    nonisolated(nonsending) public func unary<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ method: MethodDescriptor,
        request: Request,
        metadata: Metadata = Metadata(),
        options: CallOptions = CallOptions()
    ) async throws(RPCError) -> RPCResponse<Response> {
        // The transport encodes the request straight into its output when it can, and resumes
        // this function's own continuation when it can start the call at once.
        let response: ClientUnaryResponse
        if transport.startsUnaryCallsAtOnce {
            do {
                response = try await withUnsafeThrowingContinuation { continuation in
                    transport.startUnary(
                        method: method,
                        metadata: metadata,
                        timeout: options.timeout,
                        requestSize: request.serializedSize(),
                        encodeRequest: { request.serialize(into: $0) },
                        continuation: continuation
                    )
                }
            } catch {
                throw Self.rpcError(error)
            }
        } else {
            response = try await transport.unary(
                method: method,
                metadata: metadata,
                timeout: options.timeout,
                requestSize: request.serializedSize(),
                encodeRequest: { request.serialize(into: $0) }
            )
        }
        return RPCResponse(
            message: try decodeResponse(response.message),
            metadata: response.metadata,
            trailerMetadata: response.trailerMetadata
        )
    }

    nonisolated(nonsending) public func clientStreaming<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ method: MethodDescriptor,
        metadata: Metadata = Metadata(),
        options: CallOptions = CallOptions(),
        requests: (RPCRequestWriter<Request>) async throws -> Void
    ) async throws(RPCError) -> RPCResponse<Response> {
        let call = try await transport.openCall(method: method, metadata: metadata, timeout: options.timeout)
        do {
            try await requests(RPCRequestWriter(call: call))
        } catch {
            call.cancel()
            throw Self.rpcError(error)
        }
        try await call.send(message: nil, endStream: true)
        return try await Self.singleResponse(call)
    }

    nonisolated(nonsending) public func serverStreaming<Request: ProtobufMessage, Response: ProtobufMessage, Result>(
        _ method: MethodDescriptor,
        request: Request,
        metadata: Metadata = Metadata(),
        options: CallOptions = CallOptions(),
        responses: (RPCResponseStream<Response>) async throws -> Result
    ) async throws(RPCError) -> Result {
        let call = try await transport.openCall(method: method, metadata: metadata, timeout: options.timeout)
        try await call.send(message: request.serializedBytes(), endStream: true)
        do {
            let result = try await responses(RPCResponseStream(call: call))
            call.cancel()  // no-op once the call ended; stops it if the caller stopped reading early
            return result
        } catch {
            call.cancel()
            throw Self.rpcError(error)
        }
    }

    /// A bidirectional call: `requests` runs beside `responses`; the request side half-closes
    /// when `requests` returns.
    public func bidirectionalStreaming<Request: ProtobufMessage, Response: ProtobufMessage, Result: Sendable>(
        _ method: MethodDescriptor,
        metadata: Metadata = Metadata(),
        options: CallOptions = CallOptions(),
        requests: @escaping @Sendable (RPCRequestWriter<Request>) async throws -> Void,
        responses: (RPCResponseStream<Response>) async throws -> Result
    ) async throws(RPCError) -> Result {
        let call = try await transport.openCall(method: method, metadata: metadata, timeout: options.timeout)
        do {
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await requests(RPCRequestWriter(call: call))
                    try await call.send(message: nil, endStream: true)
                }
                let result = try await responses(RPCResponseStream(call: call))
                try await group.waitForAll()
                call.cancel()
                return result
            }
        } catch {
            call.cancel()
            throw Self.rpcError(error)
        }
    }

    nonisolated(nonsending) static func singleResponse<Response: ProtobufMessage>(_ call: any ClientCallTransport) async throws(RPCError) -> RPCResponse<Response> {
        let metadata = try await call.responseMetadata()
        guard let bytes = try await call.nextResponse() else {
            throw RPCError.noUnaryResponse
        }
        let response: Response = try decodeResponse(bytes)
        guard try await call.nextResponse() == nil else {
            call.cancel()
            throw RPCError.secondUnaryResponse
        }
        return RPCResponse(message: response, metadata: metadata, trailerMetadata: await call.trailerMetadata())
    }

    @usableFromInline
    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        if error is CancellationError { return RPCError(code: .cancelled, message: "the call was cancelled") }
        return RPCError(code: .unknown, message: "the call failed: \(error)", cause: error)
    }
}

@inlinable
func decodeResponse<Message: ProtobufMessage>(_ bytes: [UInt8]) throws(RPCError) -> Message {
    do {
        return try Message(serializedBytes: bytes)
    } catch {
        throw responseDecodingError(Message.protobufMessageName, error)
    }
}

@usableFromInline
func responseDecodingError(_ messageName: String, _ error: ProtobufError) -> RPCError {
    RPCError(code: .internal, message: "cannot decode \(messageName): \(error.message)")
}
