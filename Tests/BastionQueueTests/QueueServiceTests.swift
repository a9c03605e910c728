import BastionProtobuf
import BastionQueue
import BastionRPC
import BastionStore
import BastionTransport
import Foundation
import ServiceLifecycle
import Testing

/// The queue service over real TLS on loopback and a real LMDB store.
@Suite struct QueueServiceTests {
    static func text(_ message: QueueClient.Received) -> String { String(decoding: message.plaintext, as: UTF8.self) }

    @Test func sequenceNumbersStayGapFreeAndOrderedUnder32ConcurrentEnqueuers() async throws {
        try await QueueHarness.run(policies: false) { harness in
            let (package, keys) = try await harness.makeQueue()
            let senders = 32
            let perSender = 8
            let acknowledged = try await withThrowingTaskGroup(of: [(UInt64, String)].self) { group in
                for sender in 0..<senders {
                    group.addTask {
                        let connection = try await harness.connect(withCertificate: false)
                        let client = QueueClient(transport: connection)
                        var acknowledged: [(UInt64, String)] = []
                        for index in 0..<perSender {
                            let text = "\(sender)-\(index)"
                            acknowledged.append((try await client.send(Array(text.utf8), to: package), text))
                        }
                        await connection.close()
                        return acknowledged
                    }
                }
                var all: [(UInt64, String)] = []
                for try await part in group {
                    // Each sender's messages got increasing numbers, in the order it sent them.
                    #expect(part.map(\.0) == part.map(\.0).sorted())
                    all += part
                }
                return all
            }
            let total = UInt64(senders * perSender)
            #expect(acknowledged.map(\.0).sorted() == Array(1...total))

            let owner = try await harness.connect(withCertificate: true)
            let received = try await QueueClient(transport: owner).receive(queueID: package.queueId, from: 1, maxMessages: 1000, keys: keys)
            #expect(received.messages.map(\.sequenceNumber) == Array(1...total))
            #expect(received.remaining == 0)
            let sent = Dictionary(uniqueKeysWithValues: acknowledged)
            for message in received.messages {
                #expect(Self.text(message) == sent[message.sequenceNumber])
            }
            await owner.close()
        }
    }

    @Test func dequeueDeletesEverythingBelowTheStartAndCountsWhatWaits() async throws {
        try await QueueHarness.run(policies: true) { harness in
            let (package, keys) = try await harness.makeQueue()
            let sender = try await harness.connect(withCertificate: false)
            for index in 1...5 { _ = try await QueueClient(transport: sender).send(Array("m\(index)".utf8), to: package) }
            let owner = QueueClient(transport: try await harness.connect(withCertificate: true))

            let first = try await owner.receive(queueID: package.queueId, from: 1, maxMessages: 2, keys: keys)
            #expect(first.messages.map(Self.text) == ["m1", "m2"])
            #expect(first.remaining == 3)
            // Asking again from 1 deletes nothing.
            #expect(try await owner.receive(queueID: package.queueId, from: 1, maxMessages: 1, keys: keys).remaining == 4)

            let second = try await owner.receive(queueID: package.queueId, from: 3, keys: keys)
            #expect(second.messages.map(\.sequenceNumber) == [3, 4, 5])
            #expect(second.remaining == 0)
            let afterSecond = try harness.store.withReadTransaction { txn in try txn.get(QueueTables.queues, package.queueId) }
            #expect(afterSecond?.messageCount == 3)

            let third = try await owner.receive(queueID: package.queueId, from: 6, keys: keys)
            #expect(third.messages.isEmpty)
            let record = try harness.store.withReadTransaction { txn in try txn.get(QueueTables.queues, package.queueId) }
            #expect(record?.messageCount == 0)
            #expect(record?.byteCount == 0)
            #expect(record?.nextSequenceNumber == 6)
            // Numbers keep counting after the queue emptied.
            #expect(try await QueueClient(transport: sender).send(Array("m6".utf8), to: package) == 6)
        }
    }

    @Test func refusalsCarryTheRightStatus() async throws {
        let configuration = {
            var configuration = QueueService.Configuration()
            configuration.maxMessagesPerQueue = 3
            return configuration
        }()
        try await QueueHarness.run(policies: true, configuration: configuration) { harness in
            let (package, keys) = try await harness.makeQueue()
            let (othersPackage, _) = try await harness.makeQueue(owner: String(repeating: "ab", count: 32), user: "bob")
            let anonymous = Bastion_Queue_V1_QueueClient(transport: try await harness.connect(withCertificate: false))
            let owner = Bastion_Queue_V1_QueueClient(transport: try await harness.connect(withCertificate: true))
            var enqueueCalls = 0
            func enqueue(_ request: Bastion_Queue_V1_EnqueueRequest) async -> RPCError? {
                enqueueCalls += 1
                do {
                    _ = try await anonymous.enqueue(request)
                    return nil
                } catch {
                    return error
                }
            }
            func dequeue(_ client: Bastion_Queue_V1_QueueClient, _ queueID: String) async -> RPCError? {
                do {
                    _ = try await client.dequeue(.init { $0.queueId = queueID })
                    return nil
                } catch {
                    return error
                }
            }
            func request(_ payload: [UInt8], _ edit: (inout RPCSealedEnvelope) -> Void = { _ in }) throws -> Bastion_Queue_V1_EnqueueRequest {
                var envelope = try SealedBox.seal(payload, to: keys.publicKey)
                edit(&envelope)
                return .init {
                    $0.queueId = package.queueId
                    $0.envelope = envelope
                }
            }

            // Dequeue: without a certificate, and someone else's queue (or one that does not exist).
            #expect(await dequeue(anonymous, package.queueId)?.code == .unauthenticated)
            #expect(await dequeue(owner, othersPackage.queueId)?.code == .permissionDenied)
            #expect(await dequeue(owner, String(repeating: "0", count: 32))?.code == .permissionDenied)
            #expect(await dequeue(owner, package.queueId) == nil)

            // Enqueue: envelopes that are not sealed, or sealed to another key.
            let shortKey = await enqueue(try request(Array("x".utf8)) { $0.ephemeralPublicKey.removeLast() })
            #expect(shortKey?.code == .invalidArgument)
            #expect(shortKey?.policy == "confidentiality")
            #expect(await enqueue(try request(Array("x".utf8)) { $0.version = 2 })?.code == .invalidArgument)
            #expect(await enqueue(try request(Array("x".utf8)) { $0.ciphertext = Array($0.ciphertext.prefix(15)) })?.code == .invalidArgument)
            #expect(await enqueue(.init { $0.queueId = package.queueId })?.code == .invalidArgument)
            let otherKey = await enqueue(try request(Array("x".utf8)) { $0.recipientKeyId = othersPackage.keyId })
            #expect(otherKey?.code == .invalidArgument)
            #expect(await enqueue(.init { $0.queueId = String(repeating: "0", count: 32); $0.envelope = try! request([]).envelope })?.code == .notFound)

            // Oversize: past the policy's request bound, and past the payload limit within it.
            #expect(await enqueue(try request([UInt8](repeating: 1, count: 70_000)))?.code == .resourceExhausted)
            let payloadLimit = await enqueue(try request([UInt8](repeating: 1, count: configuration.maxPayloadBytes + 1)))
            #expect(payloadLimit?.code == .resourceExhausted)
            #expect(payloadLimit?.retryAfter == nil)

            // A full queue.
            for index in 0..<3 { #expect(await enqueue(try request(Array("\(index)".utf8))) == nil) }
            let full = await enqueue(try request(Array("one too many".utf8)))
            #expect(full?.code == .resourceExhausted)
            #expect(full?.message.contains("full") == true)

            // A flood from one address: refused once the per-address limit (60 a minute) is used up,
            // whatever the calls were refused for before.
            var flood: RPCError?
            while enqueueCalls < 100, flood == nil {
                let error = await enqueue(try request(Array("spam".utf8)))
                if error?.policy == "spam_prevention" { flood = error }
            }
            #expect(enqueueCalls == 61)
            #expect(flood?.code == .resourceExhausted)
            #expect(flood?.retryAfter != nil)
            // Dequeuing stays available to the owner.
            #expect(await dequeue(owner, package.queueId) == nil)
        }
    }

    @Test func listenHoldsAtMostOneBatchForASlowReader() async throws {
        let configuration = {
            var configuration = QueueService.Configuration()
            configuration.maxMessagesPerQueue = 10_000
            configuration.maxBytesPerQueue = 64 << 20
            return configuration
        }()
        let batch = configuration.listenBatchMessages
        try await QueueHarness.run(policies: false, configuration: configuration) { harness in
            let (package, keys) = try await harness.makeQueue()
            let size = 8 << 10
            let total = 400
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        let connection = try await harness.connect(withCertificate: false)
                        let client = QueueClient(transport: connection)
                        for index in stride(from: lane, to: total, by: 8) {
                            _ = try await client.send([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size), to: package)
                        }
                        await connection.close()
                    }
                }
                try await group.waitForAll()
            }
            let owner = try await harness.connect(withCertificate: true)
            let stub = Bastion_Queue_V1_QueueClient(transport: owner)
            let numbers = try await stub.listen(.init { $0.queueId = package.queueId; $0.sequenceNumberStart = 1 }) { responses in
                var iterator = responses.makeAsyncIterator()
                var numbers: [UInt64] = []
                if let first = try await iterator.next() { numbers.append(first.sequenceNumber) }
                // The reader stalls: wait until the server stops handing messages to the transport.
                var last = -1
                var unchanged = 0
                for _ in 0..<1200 where unchanged < 20 {
                    let delivered = harness.service.listenerGauge.reading.delivered
                    unchanged = delivered == last ? unchanged + 1 : 0
                    last = delivered
                    try await Task.sleep(for: .milliseconds(50))
                }
                let reading = harness.service.listenerGauge.reading
                // One flow-control window (the client's 1 MiB stream window) of messages, plus what
                // the reader took, plus at most one batch read from the store.
                let bound = (1 << 20) / size + 1 + batch
                #expect(reading.delivered < total)
                #expect(reading.delivered <= bound, "delivered \(reading.delivered) to a stalled reader; bound \(bound)")
                #expect(reading.maxHeld <= batch)
                while numbers.count < total, let message = try await iterator.next() {
                    let opened = try SealedBox.open(message.envelope ?? .init(), privateKey: keys.privateKey, publicKey: keys.publicKey)
                    // Numbers follow commit order, not the senders' indexes: check the shape only.
                    #expect(opened.count == size && opened.allSatisfy { $0 == opened.first })
                    numbers.append(message.sequenceNumber)
                }
                return numbers
            }
            #expect(numbers == Array(1...UInt64(total)))
            await owner.close()
        }
    }

    @Test func listenWakesOnEnqueueAndEndsCleanlyWhenTheServerDrains() async throws {
        try await QueueHarness.run(policies: true) { harness in
            let (package, keys) = try await harness.makeQueue()
            let sender = QueueClient(transport: try await harness.connect(withCertificate: false))
            _ = try await sender.send(Array("waiting".utf8), to: package)
            let listener = QueueClient(transport: try await harness.connect(withCertificate: true))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var received: [String] = []
                    let next = try await listener.listen(queueID: package.queueId, from: 1, keys: keys) { message in
                        received.append(Self.text(message))
                        if received.count == 3 { await harness.group.triggerGracefulShutdown() }
                        return true
                    }
                    // The stream ended with OK when the server drained, and says where to resume.
                    #expect(received == ["waiting", "first", "second"])
                    #expect(next == 4)
                }
                for _ in 0..<400 where harness.service.listenerGauge.reading.delivered == 0 {
                    try await Task.sleep(for: .milliseconds(25))
                }
                _ = try await sender.send(Array("first".utf8), to: package)
                _ = try await sender.send(Array("second".utf8), to: package)
                try await group.waitForAll()
            }
            #expect(harness.service.listenerGauge.reading.listeners == 0)
        }
    }

    @Test func queuesComeAndGoWithTheirOwners() async throws {
        try await QueueHarness.run(policies: false) { harness in
            let (package, _) = try await harness.makeQueue(owner: String(repeating: "cd", count: 32), user: "carol")
            let again = try await harness.store.withWriteTransaction { txn in
                try QueueTables.createQueue(for: .init(fingerprint: String(repeating: "cd", count: 32), userID: "carol", initKey: package.initKey, signatureKey: []), in: txn)
            }
            #expect(again == package.queueId)
            _ = try await QueueClient(transport: try await harness.connect(withCertificate: false)).send(Array("hi".utf8), to: package)
            let removed = try await harness.store.withWriteTransaction { txn in try QueueTables.deleteQueues(ofUser: "carol", in: txn) }
            #expect(removed == [package.queueId])
            let left = try harness.store.withReadTransaction { txn in
                (try txn.get(QueueTables.queues, package.queueId), try txn.count(QueueTables.messages))
            }
            #expect(left.0 == nil)
            #expect(left.1 == 0)
        }
    }
}
