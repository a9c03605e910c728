import BastionProtobuf
public import BastionRPC

/// The client side of the queue service over the generated `Queue` stub: look up a user's key
/// packages, seal and send, receive and open, listen. What the `bastion queue` commands and
/// Swift programs call.
public struct QueueClient: Sendable {
    /// A message taken from the caller's queue, opened.
    public struct Received: Sendable, Hashable {
        public var sequenceNumber: UInt64
        public var plaintext: [UInt8]
        public var enqueuedUnixMillis: Int64
    }

    /// The caller's X25519 init key pair, which its messages are sealed to.
    public struct Keys: Sendable {
        public var privateKey: [UInt8]
        public var publicKey: [UInt8]

        public init(privateKey: [UInt8]) throws(SealedBox.Failure) {
            self.privateKey = privateKey
            self.publicKey = try SealedBox.publicKey(ofPrivateKey: privateKey)
        }
    }

    public let stub: Bastion_Queue_V1_QueueClient

    public init(transport: any ClientTransport) {
        self.stub = Bastion_Queue_V1_QueueClient(transport: transport)
    }

    /// The key packages (queue id and keys) of `userID`'s clients; needs a client certificate.
    public func keyPackages(of userID: String) async throws(RPCError) -> [Bastion_Queue_V1_ClientKeyPackage] {
        try await stub.getKeyPackages(.init { $0.userId = userID }).message.keyPackages
    }

    /// Seals `plaintext` to the package's init key and enqueues it; returns its sequence number.
    public func send(_ plaintext: [UInt8], to package: Bastion_Queue_V1_ClientKeyPackage) async throws -> UInt64 {
        let envelope = try SealedBox.seal(plaintext, to: package.initKey)
        return try await stub.enqueue(.init {
            $0.queueId = package.queueId
            $0.envelope = envelope
        }).message.sequenceNumber
    }

    /// Deletes the messages below `start` and answers (opened) those from it on.
    public func receive(
        queueID: String,
        from start: UInt64,
        maxMessages: UInt32 = 0,
        keys: Keys
    ) async throws -> (messages: [Received], remaining: UInt64) {
        let response = try await stub.dequeue(.init {
            $0.queueId = queueID
            $0.sequenceNumberStart = start
            $0.maxMessages = maxMessages
        }).message
        let messages = try response.messages.map { message in try Self.open(message, keys: keys) }
        return (messages, response.remaining)
    }

    /// Streams the caller's messages from `start` on, opened, to `body` until it returns false,
    /// the server ends the call (drain: resume from the next number), or the call fails.
    /// Returns the next sequence number to ask for.
    public func listen(
        queueID: String,
        from start: UInt64,
        keys: Keys,
        options: CallOptions = CallOptions(),
        _ body: (Received) async throws -> Bool
    ) async throws -> UInt64 {
        try await stub.listen(.init {
            $0.queueId = queueID
            $0.sequenceNumberStart = start
        }, options: options) { responses in
            var next = start
            for try await message in responses {
                let received = try Self.open(message, keys: keys)
                next = received.sequenceNumber + 1
                guard try await body(received) else { break }
            }
            return next
        }
    }

    static func open(_ message: Bastion_Queue_V1_QueuedMessage, keys: Keys) throws -> Received {
        let plaintext = try SealedBox.open(message.envelope ?? .init(), privateKey: keys.privateKey, publicKey: keys.publicKey)
        return Received(sequenceNumber: message.sequenceNumber, plaintext: plaintext, enqueuedUnixMillis: message.enqueuedUnixMillis)
    }
}

extension QueueClient {
    /// The id of the caller's own queue: the key package of `userID` whose init key is `keys`'.
    public func ownQueueID(userID: String, keys: Keys) async throws -> String {
        let packages = try await keyPackages(of: userID)
        guard let own = packages.first(where: { $0.initKey == keys.publicKey }) else {
            throw RPCError(code: .notFound, message: "no queue of \(userID) is sealed to this client's init key")
        }
        return own.queueId
    }
}
