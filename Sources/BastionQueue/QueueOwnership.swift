public import BastionPolicy
public import BastionRPC
public import BastionStore

/// Tells the policy engine who owns a resource: for the queue service's methods, the client whose
/// certificate fingerprint the queue row names; for every other method, the rule the engine uses
/// without an ownership provider (the principal's user id names the resource).
public struct QueueOwnership: PolicyEngine.ResourceOwnership {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func owns(_ principal: RPCPrincipal, resource: String, method: MethodDescriptor) async throws(RPCError) -> Bool {
        guard method.service == Bastion_Queue_V1_Queue.serviceName else { return principal.userID == resource }
        guard principal.kind == .client, QueueID.isWellFormed(resource) else { return false }
        do {
            let queue = try store.withReadTransaction { txn in try txn.get(QueueTables.queues, resource) }
            return queue?.ownerFingerprint == principal.id
        } catch {
            throw RPCError(code: .unavailable, message: "the store cannot be read", cause: error)
        }
    }
}
