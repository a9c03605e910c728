public import BastionPolicy
public import BastionRPC
public import BastionStore

/// Tells the policy engine who a caller is, for the credentials this service issues: a pending
/// registration's handle, a session token with its context secret, and — for callers that
/// present a client certificate — whether that client is still registered.
public struct IdentityVerifier: PolicyEngine.CallerVerifier {
    let store: Store
    let tokens: SessionTokens

    public init(store: Store, tokens: SessionTokens) {
        self.store = store
        self.tokens = tokens
    }

    public func verify(_ caller: Bastion_Policy_V1_Authentication.Caller, context: ServerContext) async throws(RPCError) -> RPCPrincipal {
        switch caller {
        case .pendingRegistration:
            guard let handle = context.requestMetadata[AuthService.registrationMetadataKey], !handle.isEmpty else {
                throw RPCError(code: .unauthenticated, message: "send the registration handle in \(AuthService.registrationMetadataKey)", policy: "authentication")
            }
            let pending = try read { txn in try txn.get(AuthService.pendingRegistrations, handle) }
            guard let pending else {
                throw RPCError(code: .unauthenticated, message: "no pending registration has this handle (it may have expired)", policy: "authentication")
            }
            return RPCPrincipal(kind: .pendingRegistration, id: handle, userID: pending.userId)
        case .loggedInUser:
            guard let header = context.requestMetadata[SessionTokens.tokenMetadataKey] else {
                throw RPCError(code: .unauthenticated, message: "send the session token as '\(SessionTokens.tokenMetadataKey): Bearer <token>'", policy: "authentication")
            }
            let token = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : header
            let claims: SessionTokens.Claims
            do {
                claims = try tokens.verify(token: token, contextSecret: context.requestMetadata[SessionTokens.contextMetadataKey])
            } catch {
                throw RPCError(code: .unauthenticated, message: "session token refused: \(error.message)", policy: "authentication")
            }
            context[SessionClaimsKey.self] = claims
            return RPCPrincipal(kind: .user, id: claims.sub, userID: claims.sub)
        case .localClient:
            guard let certificate = context.peer.certificate else {
                throw RPCError(code: .unauthenticated, message: "a client certificate is needed", policy: "authentication")
            }
            let client = try read { txn in try txn.get(AuthService.clients, certificate.fingerprint) }
            guard let client else {
                throw RPCError(code: .unauthenticated, message: "this client certificate is not registered (or its account was deleted)", policy: "authentication")
            }
            return RPCPrincipal(kind: .client, id: certificate.fingerprint, userID: client.userId)
        default:
            throw RPCError(code: .unauthenticated, message: "this server cannot check \(caller) callers", policy: "authentication")
        }
    }

    private func read<Result>(_ body: (borrowing ReadTransaction) throws -> Result) throws(RPCError) -> Result {
        do {
            return try store.withReadTransaction(body)
        } catch {
            throw RPCError(code: .unavailable, message: "the store cannot be read", cause: error)
        }
    }
}
