/// A transport's client side: opens calls on a connection. The NIO transport implements it.
public protocol ClientTransport: Sendable {
    /// Opens a call: the transport sends its header at once.
    func openCall(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?
    ) async throws(RPCError) -> any ClientCallTransport
}

/// One open call, in encoded messages.
public protocol ClientCallTransport: Sendable {
    /// Sends a request message; `endStream` half-closes after it. Suspends under flow control.
    func send(message: [UInt8]?, endStream: Bool) async throws(RPCError)

    /// The server's response header metadata (empty if it sent none before its trailer).
    func responseMetadata() async throws(RPCError) -> Metadata

    /// The next response message, or nil when the call ended OK. A non-OK end throws its
    /// ``RPCError``.
    func nextResponse() async throws(RPCError) -> [UInt8]?

    /// The trailer's metadata, once the call has ended.
    func trailerMetadata() async -> Metadata

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
