/// A transport's client side: opens calls on a connection. The NIO transport implements it.
public protocol ClientTransport: Sendable {
    /// Opens a call: the transport sends its header at once.
    nonisolated(nonsending) func openCall(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?
    ) async throws(RPCError) -> any ClientCallTransport

    /// A whole unary call: sends the header and the one request, half-closes, and returns the
    /// one response with the metadata around it once the call has ended OK; a non-OK end throws
    /// its ``RPCError``, as does a server that ends OK with no response or sends more than one.
    ///
    /// The default opens a call and drives it step by step; a transport that can do it in one
    /// step (one suspension instead of five) implements it.
    nonisolated(nonsending) func unary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        request: [UInt8]
    ) async throws(RPCError) -> ClientUnaryResponse

    /// ``unary(method:metadata:timeout:request:)`` with a request of `requestSize` bytes that
    /// `encodeRequest` writes (filling a buffer of exactly that size, once), so that a transport
    /// can encode it straight into its output instead of sending an array. The default encodes
    /// an array and calls `unary(method:metadata:timeout:request:)`.
    nonisolated(nonsending) func unary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encodeRequest: (UnsafeMutableRawBufferPointer) -> Void
    ) async throws(RPCError) -> ClientUnaryResponse

    /// Whether ``startUnary(method:metadata:timeout:requestSize:encodeRequest:continuation:)``
    /// may be called now (the NIO transport: when the caller runs on the connection's event
    /// loop). The default answers false.
    var startsUnaryCallsAtOnce: Bool { get }

    /// Starts a whole unary call at once and resumes `continuation` with its outcome (an
    /// ``RPCError`` when it fails): ``unary(method:metadata:timeout:requestSize:encodeRequest:)``
    /// with the caller's continuation instead of one of the transport's own, which spares the
    /// caller an async frame and the executor check after it. Called only while
    /// ``startsUnaryCallsAtOnce`` is true; the default resumes with an error.
    func startUnary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encodeRequest: (UnsafeMutableRawBufferPointer) -> Void,
        continuation: UnsafeContinuation<ClientUnaryResponse, any Error>
    )
}

/// A unary call's encoded response and the metadata around it.
public struct ClientUnaryResponse: Sendable {
    public var metadata: Metadata
    public var message: [UInt8]
    public var trailerMetadata: Metadata

    public init(metadata: Metadata, message: [UInt8], trailerMetadata: Metadata) {
        self.metadata = metadata
        self.message = message
        self.trailerMetadata = trailerMetadata
    }
}

extension ClientTransport {
    nonisolated(nonsending) public func unary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        request: [UInt8]
    ) async throws(RPCError) -> ClientUnaryResponse {
        let call = try await openCall(method: method, metadata: metadata, timeout: timeout)
        try await call.send(message: request, endStream: true)
        let responseMetadata = try await call.responseMetadata()
        guard let message = try await call.nextResponse() else {
            throw RPCError.noUnaryResponse
        }
        guard try await call.nextResponse() == nil else {
            call.cancel()
            throw RPCError.secondUnaryResponse
        }
        return ClientUnaryResponse(metadata: responseMetadata, message: message, trailerMetadata: await call.trailerMetadata())
    }

    nonisolated(nonsending) public func unary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encodeRequest: (UnsafeMutableRawBufferPointer) -> Void
    ) async throws(RPCError) -> ClientUnaryResponse {
        try await unary(method: method, metadata: metadata, timeout: timeout, request: encodedBytes(size: requestSize, encodeRequest))
    }

    public var startsUnaryCallsAtOnce: Bool { false }

    public func startUnary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encodeRequest: (UnsafeMutableRawBufferPointer) -> Void,
        continuation: UnsafeContinuation<ClientUnaryResponse, any Error>
    ) {
        continuation.resume(throwing: RPCError(code: .internal, message: "this transport does not start unary calls at once"))
    }
}

/// The bytes `encode` writes into a buffer of exactly `size` bytes.
package func encodedBytes(size: Int, _ encode: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        encode(UnsafeMutableRawBufferPointer(buffer))
        initialized = size
    }
}

extension RPCError {
    /// A unary or client-streaming call that the server ended OK without a response.
    package static var noUnaryResponse: RPCError {
        RPCError(code: .internal, message: "the server ended the call OK without a response message")
    }

    /// A unary or client-streaming call to which the server sent a second response.
    package static var secondUnaryResponse: RPCError {
        RPCError(code: .internal, message: "the server sent more than one response message")
    }
}

/// One open call, in encoded messages.
public protocol ClientCallTransport: Sendable {
    /// Sends a request message; `endStream` half-closes after it. Suspends under flow control.
    nonisolated(nonsending) func send(message: [UInt8]?, endStream: Bool) async throws(RPCError)

    /// The server's response header metadata (empty if it sent none before its trailer).
    nonisolated(nonsending) func responseMetadata() async throws(RPCError) -> Metadata

    /// The next response message, or nil when the call ended OK. A non-OK end throws its
    /// ``RPCError``.
    nonisolated(nonsending) func nextResponse() async throws(RPCError) -> [UInt8]?

    /// The trailer's metadata, once the call has ended.
    nonisolated(nonsending) func trailerMetadata() async -> Metadata

    /// Abandons the call (sends CANCEL).
    func cancel()
}

/// Per-call options.
public struct CallOptions: Sendable, Hashable {
    /// How long the client waits; sent to the server as the call's deadline.
    public var timeout: Duration?

    public init(timeout: Duration? = nil) {
        self.timeout = timeout
    }
}
