public import BastionStore
import BastionProtobuf

/// The queue service's tables (docs/QUEUE.md, "Tables"), and the two changes the account
/// lifecycle makes to them: a queue for each new client, none for a deleted user. Those run in
/// the caller's write transaction, so a client never exists without its queue, nor a queue
/// without its client.
public enum QueueTables {
    static let byOwner = Index<String, String, Bastion_Queue_V1_QueueRecord>("queue.queues.by-owner", unique: true) {
        $0.ownerFingerprint
    }
    static let byUser = Index<String, String, Bastion_Queue_V1_QueueRecord>("queue.queues.by-user") { $0.userId }
    /// Queue id → the queue's owner, keys and counters.
    public static let queues = Table<String, Bastion_Queue_V1_QueueRecord>("queue.queues", indexes: [byOwner, byUser])
    /// (queue id, sequence number) → the message.
    public static let messages = Table<CompositeKey<String, UInt64>, Bastion_Queue_V1_QueuedMessage>("queue.messages")

    /// Who a new queue belongs to: the client's certificate fingerprint, its user and the public
    /// keys of its KeyPackage.
    public struct Owner: Sendable, Hashable {
        public var fingerprint: String
        public var userID: String
        public var initKey: [UInt8]
        public var signatureKey: [UInt8]

        public init(fingerprint: String, userID: String, initKey: [UInt8], signatureKey: [UInt8]) {
            self.fingerprint = fingerprint
            self.userID = userID
            self.initKey = initKey
            self.signatureKey = signatureKey
        }
    }

    /// Creates the queue of a new client in `txn` and returns its id (32 random hex digits).
    @discardableResult
    public static func createQueue(for owner: Owner, in txn: borrowing WriteTransaction) throws -> String {
        if let existing = try txn.lookup(byOwner, owner.fingerprint, in: queues) { return existing.key }
        let queueID = QueueID.random()
        try txn.insert(queues, queueID, .init {
            $0.queueId = queueID
            $0.ownerFingerprint = owner.fingerprint
            $0.userId = owner.userID
            $0.initKey = owner.initKey
            $0.signatureKey = owner.signatureKey
            $0.nextSequenceNumber = 1
            $0.createdUnixMillis = txn.now.millisecondsSinceEpoch
        })
        return queueID
    }

    /// Deletes every queue of `userID`, with its messages, in `txn`; returns their ids.
    @discardableResult
    public static func deleteQueues(ofUser userID: String, in txn: borrowing WriteTransaction) throws -> [String] {
        let ids = try txn.primaryKeys(byUser, userID)
        for id in ids { try deleteQueue(id, in: txn) }
        return ids
    }

    /// Deletes the queue of the client with this certificate fingerprint, if it has one.
    @discardableResult
    public static func deleteQueue(ofClient fingerprint: String, in txn: borrowing WriteTransaction) throws -> String? {
        guard let id = try txn.primaryKeys(byOwner, fingerprint).first else { return nil }
        try deleteQueue(id, in: txn)
        return id
    }

    static func deleteQueue(_ id: String, in txn: borrowing WriteTransaction) throws {
        _ = try txn.delete(messages, .prefix(KeyPrefix(id)))
        _ = try txn.delete(queues, id)
    }

    /// The queue owned by the client with this certificate fingerprint.
    public static func queue(ofClient fingerprint: String, in txn: borrowing ReadTransaction) throws -> Bastion_Queue_V1_QueueRecord? {
        try txn.lookup(byOwner, fingerprint, in: queues)?.value
    }
}

extension Bastion_Queue_V1_QueueRecord: StoreValue {}
extension Bastion_Queue_V1_QueuedMessage: StoreValue {}

/// Queue ids: 32 lower-case hex digits, from 16 random bytes.
enum QueueID {
    static func random() -> String {
        SealedBox.randomBytes(16).map { byte in
            let digits: [Character] = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }

    static func isWellFormed(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return bytes.count == 32 && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

