/// Runs around every call's handler, in registration order: it may refuse the call by throwing
/// an ``RPCError`` before calling `next`, or observe its outcome. The policy engine is one.
public protocol ServerInterceptor: Sendable {
    func intercept(context: ServerContext, next: () async throws -> Void) async throws
}
