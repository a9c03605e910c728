import BastionProtobuf
import BastionRPC

/// The queue service's parsers of untrusted bytes, run on one input with their invariants
/// checked: the requests a sender or listener sends (decoded, then the envelope's shape, the
/// queue id), and the messages a client receives (decoded and opened). The fuzz target
/// FuzzQueueRequests calls this with every input, and QueueInputsTests with its seeds. A broken
/// invariant traps.
@_spi(Fuzzing)
public enum QueueInputs {
    /// A fixed key pair to open envelopes with (RFC 7748 §6.1, Bob's).
    static let keys = try! QueueClient.Keys(privateKey: [
        0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
        0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb,
    ])

    public static func check(_ bytes: [UInt8]) {
        if let request = try? Bastion_Queue_V1_EnqueueRequest(serializedBytes: bytes) {
            roundTrips(request)
            checkQueueID(request.queueId)
            if let envelope = request.envelope { checkEnvelope(envelope) }
        }
        if let request = try? Bastion_Queue_V1_DequeueRequest(serializedBytes: bytes) {
            roundTrips(request)
            checkQueueID(request.queueId)
        }
        if let request = try? Bastion_Queue_V1_ListenRequest(serializedBytes: bytes) {
            roundTrips(request)
            checkQueueID(request.queueId)
        }
        if let request = try? Bastion_Queue_V1_GetKeyPackagesRequest(serializedBytes: bytes) {
            roundTrips(request)
        }
        if let envelope = try? RPCSealedEnvelope(serializedBytes: bytes) {
            checkEnvelope(envelope)
        }
        if let message = try? Bastion_Queue_V1_QueuedMessage(serializedBytes: bytes) {
            roundTrips(message)
            // What a client does with a message from the server: open it, or fail cleanly.
            if let opened = try? QueueClient.open(message, keys: keys) {
                precondition(opened.sequenceNumber == message.sequenceNumber)
                precondition(opened.plaintext.count + SealedBox.tagBytes == message.envelope?.ciphertext.count)
            }
        }
        if let response = try? Bastion_Queue_V1_DequeueResponse(serializedBytes: bytes) {
            roundTrips(response)
        }
    }

    private static func roundTrips<Message: ProtobufMessage & Equatable>(_ message: Message) {
        let encoded = message.serializedBytes()
        precondition(encoded.count == message.serializedSize())
        precondition((try? Message(serializedBytes: encoded)) == message)
    }

    private static func checkQueueID(_ id: String) {
        if QueueID.isWellFormed(id) {
            precondition(id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        }
    }

    private static func checkEnvelope(_ envelope: RPCSealedEnvelope) {
        guard EnvelopeShape.problem(with: envelope) == nil else { return }
        precondition(envelope.version == 1 && envelope.ephemeralPublicKey.count == 32)
        precondition((1...64).contains(envelope.recipientKeyId.count) && envelope.ciphertext.count >= 16)
        // A well-shaped envelope may still be forged: opening fails cleanly or yields the payload.
        if let plaintext = try? SealedBox.open(envelope, privateKey: keys.privateKey, publicKey: keys.publicKey) {
            precondition(plaintext.count + SealedBox.tagBytes == envelope.ciphertext.count)
        }
    }
}
