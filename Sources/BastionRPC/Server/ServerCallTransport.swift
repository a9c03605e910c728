/// A transport's side of one server call, in encoded messages. The router and the generated
/// service code drive it; the NIO transport implements it.
///
/// The requirements are `nonisolated(nonsending)`: they run on the caller's executor, so a
/// handler running on its connection's event loop reaches the transport without the executor
/// check (`swift_task_switch`) that a plain `nonisolated` async function makes on entry. A
/// conformer written without the attribute still satisfies them.
public protocol ServerCallTransport: Sendable {
    /// The next request message's bytes, or nil once the client has half-closed.
    nonisolated(nonsending) func nextRequest() async throws(RPCError) -> [UInt8]?

    /// Sends any of: the response header (once, before the first message), a response message,
    /// and the trailer (which ends the call). Suspends while flow control holds the message back.
    nonisolated(nonsending) func send(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) async throws(RPCError)

    /// The call's one request, taken without waiting when it has arrived whole and the client
    /// has half-closed after it; nil (taking nothing) otherwise, and the caller reads it with
    /// ``nextRequest()``.
    ///
    /// Every `await` costs an executor check on return even when nothing suspends, so the router
    /// tries this first for unary and server-streaming calls. The default answers nil.
    func takeOnlyRequestIfReady() -> [UInt8]?

    /// Sends what ``send(header:message:trailer:)`` would when it can go out without waiting, and
    /// returns true; returns false, having sent nothing, when the caller must await `send` (flow
    /// control, a full socket, the call's end, or a transport that cannot tell). The default
    /// answers false.
    func sendIfReady(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) -> Bool

    /// ``sendIfReady(header:message:trailer:)`` with the OK trailer that carries
    /// `trailerMetadata`: how nearly every successful call ends. A transport can write that
    /// trailer without building the message (with no metadata it is an empty frame), and the
    /// caller passes one reference instead of a trailer; the default builds the trailer and calls
    /// `sendIfReady`.
    func sendOKIfReady(header: Metadata?, message: [UInt8]?, trailerMetadata: Metadata) -> Bool

    /// ``sendOKIfReady(header:message:trailerMetadata:)`` with a message of `messageSize` bytes
    /// that `encode` writes straight into the transport's output (it fills a buffer of exactly
    /// that size, at once or not at all): a unary call's response then needs no array of its
    /// own. The default answers false, and the router sends the encoded bytes instead.
    func sendOKIfReady(
        header: Metadata?,
        messageSize: Int,
        encode: (UnsafeMutableRawBufferPointer) -> Void,
        trailerMetadata: Metadata
    ) -> Bool
}

extension ServerCallTransport {
    public func takeOnlyRequestIfReady() -> [UInt8]? { nil }

    public func sendIfReady(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) -> Bool { false }

    public func sendOKIfReady(header: Metadata?, message: [UInt8]?, trailerMetadata: Metadata) -> Bool {
        sendIfReady(header: header, message: message, trailer: .ok(metadata: trailerMetadata))
    }

    public func sendOKIfReady(
        header: Metadata?,
        messageSize: Int,
        encode: (UnsafeMutableRawBufferPointer) -> Void,
        trailerMetadata: Metadata
    ) -> Bool {
        false
    }
}
