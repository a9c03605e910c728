import ArgumentParser
import BastionQueue
import BastionRPC
import BastionTransport
import Foundation

/// `bastion queue`: sealed messages between users' clients (docs/QUEUE.md).
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Send sealed messages to other users' clients, and receive this client's.",
        discussion: """
            Messages are sealed on this machine to each recipient client's init key (libsodium's \
            crypto_box_seal); the server stores and forwards them without being able to read them. \
            The profile (<profiles>/<user>/) keeps this client's queue id and the next sequence \
            number to ask for in queue.json; a message is deleted from the server only when a later \
            receive asks past it, so nothing is lost if this command stops half-way.
            """,
        subcommands: [QueueSendCommand.self, QueueReceiveCommand.self, QueueListenCommand.self]
    )
}

/// What the CLI remembers about this client's queue.
struct QueueState: Codable {
    var queueID: String
    /// The first sequence number not yet shown.
    var next: UInt64
}

extension AccountOptions {
    var queueStatePath: String { folder.appendingPathComponent("queue.json").path }

    /// This client's init key pair, from the profile's `init.key`.
    func queueKeys() throws -> QueueClient.Keys {
        let path = folder.appendingPathComponent("init.key").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CleanFailure("no init key for \(user) in \(folder.path); register first")
        }
        guard let bytes = [UInt8](hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw CleanFailure("\(path) does not hold a 32-byte key in hex")
        }
        do {
            return try QueueClient.Keys(privateKey: bytes)
        } catch {
            throw CleanFailure("\(path): \(error.message)")
        }
    }

    /// The stored queue state, or a fresh one after asking the server for this client's queue id.
    func queueState(client: QueueClient, keys: QueueClient.Keys) async throws -> QueueState {
        if let data = FileManager.default.contents(atPath: queueStatePath),
            let state = try? JSONDecoder().decode(QueueState.self, from: data)
        {
            return state
        }
        let state = QueueState(queueID: try await client.ownQueueID(userID: user, keys: keys), next: 1)
        try saveQueueState(state)
        return state
    }

    func saveQueueState(_ state: QueueState) throws {
        try write(Array(try JSONEncoder().encode(state)), to: queueStatePath)
    }
}

/// `bastion queue send`: seal a message to every client of a user and enqueue it.
struct QueueSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Seal a message to each of a user's clients and put it into their queues.",
        discussion: "The message is the argument, or standard input when there is none. Looking up the recipient's keys needs this client's certificate; the enqueue itself is anonymous."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The user to send to.")
    var to: String

    @Argument(help: "The message. (default: standard input)")
    var message: String?

    func run() async throws {
        let text = message ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let transport = try await connection.withClientCertificate(of: account).connect()
        let client = QueueClient(transport: transport)
        let packages = try await client.keyPackages(of: to)
        for package in packages {
            let number = try await client.send(Array(text.utf8), to: package)
            print("sent to \(to) (queue \(package.queueId)) as #\(number)")
        }
        await transport.close()
    }
}

/// `bastion queue receive`: take this client's waiting messages.
struct QueueReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Show this client's waiting messages, one per line as '#<sequence number> <text>'.",
        discussion: "Messages shown by an earlier receive or listen are deleted on the server now."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The most messages to take. (default: all that wait)")
    var max: UInt32?

    func run() async throws {
        let keys = try account.queueKeys()
        let transport = try await connection.withClientCertificate(of: account).connect()
        let client = QueueClient(transport: transport)
        var state = try await account.queueState(client: client, keys: keys)
        var left = max
        while left != 0 {
            let batch = try await client.receive(queueID: state.queueID, from: state.next, maxMessages: min(left ?? 100, 100), keys: keys)
            for message in batch.messages {
                print("#\(message.sequenceNumber) \(String(decoding: message.plaintext, as: UTF8.self))")
                state.next = message.sequenceNumber + 1
            }
            try account.saveQueueState(state)
            if let count = left { left = count - Swift.min(count, UInt32(batch.messages.count)) }
            if batch.remaining == 0 || batch.messages.isEmpty { break }
        }
        // Acknowledge what was shown: the messages below `next` go now.
        _ = try await client.receive(queueID: state.queueID, from: state.next, maxMessages: 1, keys: keys)
        await transport.close()
    }
}

/// `bastion queue listen`: show messages as they arrive.
struct QueueListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Show this client's messages as they arrive, one per line as '#<sequence number> <text>'.",
        discussion: "Reconnects when the server ends the stream (a drain or the call's time limit) and resumes after the last message shown."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Stop after this many messages. (default: never)")
    var count: Int?

    func run() async throws {
        let keys = try account.queueKeys()
        var shown = 0
        var failures = 0
        while count.map({ shown < $0 }) ?? true {
            do {
                let transport = try await connection.withClientCertificate(of: account).connect()
                let client = QueueClient(transport: transport)
                var state = try await account.queueState(client: client, keys: keys)
                let limit = count
                _ = try await client.listen(queueID: state.queueID, from: state.next, keys: keys) { message in
                    // Unbuffered, so that a pipe sees each message as it arrives.
                    FileHandle.standardOutput.write(Data("#\(message.sequenceNumber) \(String(decoding: message.plaintext, as: UTF8.self))\n".utf8))
                    state.next = message.sequenceNumber + 1
                    try account.saveQueueState(state)
                    shown += 1
                    failures = 0
                    return limit.map { shown < $0 } ?? true
                }
                await transport.close()
            } catch let error as RPCError where [.unavailable, .deadlineExceeded].contains(error.code) && failures < 10 {
                failures += 1
                FileHandle.standardError.write(Data("listen: \(error.message); reconnecting\n".utf8))
            }
            if count.map({ shown < $0 }) ?? true { try await Task.sleep(for: .seconds(1)) }
        }
    }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        self = bytes
    }
}
