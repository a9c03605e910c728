public import BastionStore

/// What another service keeps for each client (the queue service's queues): told inside the
/// write transaction that registers a client or deletes a user, so that its rows come and go
/// with the account, atomically. A throw rolls the registration or deletion back.
public protocol ClientLifecycle: Sendable {
    func clientRegistered(_ client: RegisteredClient, in txn: borrowing WriteTransaction) throws
    func userDeleted(_ userID: String, in txn: borrowing WriteTransaction) throws
}

/// A client whose registration is being committed: its certificate and KeyPackage keys.
public struct RegisteredClient: Sendable, Hashable {
    /// SHA-256 of the client certificate, lower-case hex (what `RPCPrincipal.id` is for it).
    public var fingerprint: String
    public var userID: String
    /// The KeyPackage's X25519 init key and Ed25519 signature key (public halves).
    public var initKey: [UInt8]
    public var signatureKey: [UInt8]
}
