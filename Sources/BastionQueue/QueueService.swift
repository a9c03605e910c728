public import BastionRPC
public import BastionStore
import BastionProtobuf
public import Logging
import ServiceLifecycle

/// The queue service (proto/bastion/queue/v1/queue.proto, docs/QUEUE.md): anyone enqueues a
/// sealed message into a client's queue, only that client dequeues or listens.
///
/// Every enqueue is answered once its message is durable; sequence numbers come from the queue's
/// row, read and advanced in the same write transaction as the message, so they are gap-free and
/// in commit order however many senders race. Listen reads the store in small batches and writes
/// them through the transport's flow control, so a slow reader holds at most one batch here.
public struct QueueService: Bastion_Queue_V1_QueueService {
    public struct Configuration: Sendable {
        /// Messages one queue holds before Enqueue answers RESOURCE_EXHAUSTED.
        public var maxMessagesPerQueue: UInt64 = 1000
        /// Bytes (encoded envelopes) one queue holds.
        public var maxBytesPerQueue: UInt64 = 16 << 20
        /// The largest sealed payload: the envelope's ciphertext less its 16-byte tag.
        public var maxPayloadBytes = 64 << 10
        /// Dequeue answers this many messages when the request names no count, and never more than
        /// `maxDequeueMessages`, nor more than `maxDequeueBytes` of envelopes (but always one).
        public var defaultDequeueMessages = 100
        public var maxDequeueMessages = 1000
        public var maxDequeueBytes = 2 << 20
        /// Listen reads at most this many messages, or this many bytes, from the store at once.
        public var listenBatchMessages = 16
        public var listenBatchBytes = 256 << 10
        /// How often an idle listener checks that its queue still exists.
        public var listenRecheckInterval: Duration = .seconds(30)
        /// Listen ends with OK this long before the call's deadline, so that clients resume
        /// instead of seeing DEADLINE_EXCEEDED.
        public var listenDeadlineMargin: Duration = .seconds(1)

        public init() {}
    }

    let store: Store
    let configuration: Configuration
    let logger: Logger
    let notifier = QueueNotifier()
    /// What listeners hold and have delivered (for tests and metrics).
    public let listenerGauge = ListenerGauge()

    public init(store: Store, configuration: Configuration = Configuration(), logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Key packages

    public func getKeyPackages(
        request: Bastion_Queue_V1_GetKeyPackagesRequest,
        context: ServerContext
    ) async throws -> Bastion_Queue_V1_GetKeyPackagesResponse {
        let userID = request.userId
        guard !userID.isEmpty, userID.utf8.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "user_id must have 1 to 64 characters")
        }
        let records = try read { txn in try txn.lookupAll(QueueTables.byUser, userID, in: QueueTables.queues).map(\.value) }
        guard !records.isEmpty else { throw RPCError(code: .notFound, message: "no client of \(userID) has a queue") }
        return .init {
            $0.userId = userID
            $0.keyPackages = records.map { record in
                .init {
                    $0.queueId = record.queueId
                    $0.initKey = record.initKey
                    $0.signatureKey = record.signatureKey
                    $0.keyId = SealedBox.keyID(of: record.initKey)
                }
            }
        }
    }

    // MARK: Enqueue

    public func enqueue(request: Bastion_Queue_V1_EnqueueRequest, context: ServerContext) async throws -> Bastion_Queue_V1_EnqueueResponse {
        let queueID = request.queueId
        guard QueueID.isWellFormed(queueID) else {
            throw RPCError(code: .invalidArgument, message: "queue_id must be 32 lower-case hex digits")
        }
        guard let envelope = request.envelope else {
            throw RPCError(code: .invalidArgument, message: "envelope must hold a sealed envelope: it is empty", policy: "confidentiality")
        }
        if let problem = EnvelopeShape.problem(with: envelope) {
            throw RPCError(code: .invalidArgument, message: "envelope must hold a sealed envelope: \(problem)", policy: "confidentiality")
        }
        let limit = configuration.maxPayloadBytes
        guard envelope.ciphertext.count - SealedBox.tagBytes <= limit else {
            throw RPCError(code: .resourceExhausted, message: "a sealed payload may have at most \(limit) bytes", policy: "availability")
        }
        let size = UInt64(envelope.serializedSize())
        let configuration = self.configuration
        let sequenceNumber = try await store.withWriteTransaction { txn -> UInt64 in
            guard var queue = try txn.get(QueueTables.queues, queueID) else {
                throw RPCError(code: .notFound, message: "no queue has this id")
            }
            guard envelope.recipientKeyId == SealedBox.keyID(of: queue.initKey) else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "the envelope is sealed to another key than this queue's init key (recipient_key_id must be SHA-256 of it)",
                    policy: "confidentiality"
                )
            }
            guard queue.messageCount < configuration.maxMessagesPerQueue,
                queue.byteCount + size <= configuration.maxBytesPerQueue
            else {
                throw RPCError(
                    code: .resourceExhausted,
                    message: "the queue is full (\(configuration.maxMessagesPerQueue) messages or \(configuration.maxBytesPerQueue) bytes); its owner has to dequeue first",
                    policy: "availability"
                )
            }
            let number = queue.nextSequenceNumber
            try txn.insert(QueueTables.messages, CompositeKey(queueID, number), .init {
                $0.sequenceNumber = number
                $0.envelope = envelope
                $0.enqueuedUnixMillis = txn.now.millisecondsSinceEpoch
            })
            queue.nextSequenceNumber = number + 1
            queue.messageCount += 1
            queue.byteCount += size
            try txn.put(QueueTables.queues, queueID, queue)
            return number
        }
        notifier.signal(queueID)
        return .init { $0.sequenceNumber = sequenceNumber }
    }

    // MARK: Dequeue

    public func dequeue(request: Bastion_Queue_V1_DequeueRequest, context: ServerContext) async throws -> Bastion_Queue_V1_DequeueResponse {
        let owner = try ownerFingerprint(context)
        let queueID = request.queueId
        let start = request.sequenceNumberStart
        let count = request.maxMessages == 0
            ? configuration.defaultDequeueMessages : min(Int(request.maxMessages), configuration.maxDequeueMessages)
        let maxBytes = configuration.maxDequeueBytes
        return try await store.withWriteTransaction { txn -> Bastion_Queue_V1_DequeueResponse in
            guard var queue = try txn.get(QueueTables.queues, queueID), queue.ownerFingerprint == owner else {
                throw Self.notYours
            }
            // Everything below the start goes, in this transaction.
            var removedBytes: UInt64 = 0
            var removed: UInt64 = 0
            let below = KeyRange<CompositeKey<String, UInt64>>.between(CompositeKey(queueID, 0), and: CompositeKey(queueID, start))
            try txn.forEach(QueueTables.messages, below) { _, message in
                removed += 1
                removedBytes += UInt64(message.envelope?.serializedSize() ?? 0)
                return true
            }
            if removed > 0 {
                _ = try txn.delete(QueueTables.messages, below)
                queue.messageCount -= min(removed, queue.messageCount)
                queue.byteCount -= min(removedBytes, queue.byteCount)
                try txn.put(QueueTables.queues, queueID, queue)
            }
            var messages: [Bastion_Queue_V1_QueuedMessage] = []
            var bytes = 0
            try txn.forEach(QueueTables.messages, Self.from(queueID, start)) { _, message in
                let size = message.envelope?.serializedSize() ?? 0
                if !messages.isEmpty, bytes + size > maxBytes { return false }
                messages.append(message)
                bytes += size
                return messages.count < count
            }
            // Every message left is at or past the start now.
            let waiting = queue.messageCount
            return .init {
                $0.messages = messages
                $0.remaining = waiting - min(waiting, UInt64(messages.count))
            }
        }
    }

    // MARK: Listen

    public func listen(
        request: Bastion_Queue_V1_ListenRequest,
        responses: RPCResponseWriter<Bastion_Queue_V1_QueuedMessage>,
        context: ServerContext
    ) async throws {
        let owner = try ownerFingerprint(context)
        let queueID = request.queueId
        guard let queue = try read({ txn in try txn.get(QueueTables.queues, queueID) }), queue.ownerFingerprint == owner else {
            throw Self.notYours
        }
        listenerGauge.opened()
        defer { listenerGauge.closed() }
        let deadline = context.deadline.map { $0 - configuration.listenDeadlineMargin }
        do {
            try await cancelWhenGracefulShutdown {
                try await withDeadline(deadline) {
                    try await deliver(queueID: queueID, owner: owner, from: request.sequenceNumberStart, to: responses)
                }
            }
        } catch {
            // The server drains or the deadline is near: end cleanly (the client resumes from the
            // next sequence number), even when a write was waiting for the reader.
            let ending = error is CancellationError || Task.isShuttingDownGracefully || notifier.isClosed
                || deadline.map { ContinuousClock.now >= $0 } == true
            if ending, !Task.isCancelled { return }
            throw error
        }
    }

    private func deliver(
        queueID: String,
        owner: String,
        from start: UInt64,
        to responses: RPCResponseWriter<Bastion_Queue_V1_QueuedMessage>
    ) async throws {
        var next = start
        let batchMessages = configuration.listenBatchMessages
        let batchBytes = configuration.listenBatchBytes
        while !Task.isCancelled, !notifier.isClosed {
            let generation = notifier.generation(of: queueID)
            let (exists, batch) = try read { txn -> (Bool, [Bastion_Queue_V1_QueuedMessage]) in
                guard let queue = try txn.get(QueueTables.queues, queueID), queue.ownerFingerprint == owner else { return (false, []) }
                var batch: [Bastion_Queue_V1_QueuedMessage] = []
                var bytes = 0
                try txn.forEach(QueueTables.messages, Self.from(queueID, next)) { _, message in
                    batch.append(message)
                    bytes += message.envelope?.serializedSize() ?? 0
                    return batch.count < batchMessages && bytes < batchBytes
                }
                return (true, batch)
            }
            guard exists else { throw RPCError(code: .notFound, message: "the queue was deleted") }
            if batch.isEmpty {
                try await waitForMessages(queueID, after: generation)
                continue
            }
            listenerGauge.loaded(batch.count)
            for (index, message) in batch.enumerated() {
                do {
                    try await responses.write(message)
                } catch {
                    listenerGauge.unloaded(batch.count - index)
                    throw error
                }
                listenerGauge.delivered()
                next = message.sequenceNumber + 1
            }
        }
        throw CancellationError()
    }

    /// Waits for a message, or at most `listenRecheckInterval` (then the loop checks that the
    /// queue still exists).
    private func waitForMessages(_ queueID: String, after generation: UInt64) async throws {
        let notifier = self.notifier
        let interval = configuration.listenRecheckInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await notifier.wait(queueID, after: generation) }
            group.addTask { try? await Task.sleep(for: interval) }
            await group.next()
            group.cancelAll()
        }
        try Task.checkCancellation()
    }

    /// Ends every Listen call (with OK): for programs that drain without swift-service-lifecycle.
    public func endListeners() {
        notifier.close()
    }

    // MARK: Helpers

    static let notYours = RPCError(code: .permissionDenied, message: "the caller does not own this queue", policy: "authorization")

    static func from(_ queueID: String, _ start: UInt64) -> KeyRange<CompositeKey<String, UInt64>> {
        .between(CompositeKey(queueID, start), and: CompositeKey(queueID, UInt64.max))
    }

    private func ownerFingerprint(_ context: ServerContext) throws(RPCError) -> String {
        if let principal = context.principal, principal.kind == .client { return principal.id }
        if let certificate = context.peer.certificate, context.principal == nil { return certificate.fingerprint }
        throw RPCError(code: .unauthenticated, message: "only a client presenting its certificate may read its queue", policy: "authentication")
    }

    private func read<Result>(_ body: (borrowing ReadTransaction) throws -> Result) throws(RPCError) -> Result {
        do {
            return try store.withReadTransaction(body)
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "the store cannot be read", cause: error)
        }
    }
}

/// Runs `body`, cancelled when `deadline` passes (nil: never).
func withDeadline(_ deadline: ContinuousClock.Instant?, _ body: @Sendable @escaping () async throws -> Void) async throws {
    guard let deadline else { return try await body() }
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try? await Task.sleep(until: deadline, clock: .continuous)
            return false
        }
        let finished = try await group.next() ?? false
        group.cancelAll()
        if !finished { throw CancellationError() }
    }
}
