/// A transport's side of one server call, in encoded messages. The router and the generated
/// service code drive it; the NIO transport implements it.
public protocol ServerCallTransport: Sendable {
    /// The next request message's bytes, or nil once the client has half-closed.
    func nextRequest() async throws(RPCError) -> [UInt8]?

    /// Sends any of: the response header (once, before the first message), a response message,
    /// and the trailer (which ends the call). Suspends while flow control holds the message back.
    func send(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) async throws(RPCError)
}
