import BastionIdentity
import BastionQueue
import BastionStore

extension DaemonSettings {
    /// The queue service's limits: its defaults, with the quotas the flags or file set.
    var queueConfiguration: QueueService.Configuration {
        var configuration = QueueService.Configuration()
        if let queueMaxMessages { configuration.maxMessagesPerQueue = queueMaxMessages }
        if let queueMaxBytes { configuration.maxBytesPerQueue = queueMaxBytes }
        return configuration
    }
}

/// Creates a client's queue when its registration commits and removes a user's queues when the
/// account is deleted, inside the identity service's transactions.
struct QueueLifecycle: ClientLifecycle {
    func clientRegistered(_ client: RegisteredClient, in txn: borrowing WriteTransaction) throws {
        let owner = QueueTables.Owner(
            fingerprint: client.fingerprint, userID: client.userID, initKey: client.initKey, signatureKey: client.signatureKey
        )
        try QueueTables.createQueue(for: owner, in: txn)
    }

    func userDeleted(_ userID: String, in txn: borrowing WriteTransaction) throws {
        try QueueTables.deleteQueues(ofUser: userID, in: txn)
    }
}
