/// Runs around every call's handler, in registration order: it may refuse the call by throwing
/// an ``RPCError`` before calling `next`, or observe its outcome. The policy engine is one.
///
/// A call passes an interceptor in two phases. `intercept` wraps the whole call and runs before
/// any request message is decoded, so checks that need only the call's header (who is calling,
/// which method) refuse a call without paying for its payload. `inspect` then sees each request
/// message (see ``RequestView``) before the handler does: once, after decoding, for unary and
/// server-streaming calls; for streaming-request calls once before the handler starts (with no
/// bytes) and then for every message.
public protocol ServerInterceptor: Sendable {
    func intercept(context: ServerContext, next: () async throws -> Void) async throws

    /// Checks a request message before the handler reads it; throws to refuse the call.
    func inspect(_ request: RequestView, context: ServerContext) async throws(RPCError)
}

extension ServerInterceptor {
    public func inspect(_ request: RequestView, context: ServerContext) async throws(RPCError) {}
}
