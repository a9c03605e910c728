import Foundation
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A channel that runs an operator's command for every message: the address is its only
/// argument (no shell is involved, so nothing in the address is interpreted), the message comes
/// on its standard input, and exit status 0 means the message was accepted. A command that runs
/// longer than `timeout` is killed (SIGKILL). What it prints on stdout and stderr (at most 4 KiB)
/// goes into the error for the server's log.
public struct CommandChannel: CodeChannel {
    public var executable: String
    public var timeout: Duration
    /// Commands of this channel running at once; more sends are refused until one ends, so a
    /// flood of requests cannot fork without bound.
    public var maxConcurrent: Int
    private let running = Gate()

    /// Messages are short texts; a bound keeps the whole message inside one pipe buffer.
    static let maxMessageBytes = 4096
    static let maxOutputBytes = 4096

    public init(executable: String, timeout: Duration = .seconds(30), maxConcurrent: Int = 16) {
        self.executable = executable
        self.timeout = timeout
        self.maxConcurrent = maxConcurrent
    }

    public func send(address: String, message: String) async throws(ChannelError) {
        guard message.utf8.count <= Self.maxMessageBytes else {
            throw ChannelError("the message has more than \(Self.maxMessageBytes) bytes")
        }
        guard running.enter(limit: maxConcurrent) else {
            throw ChannelError("\(maxConcurrent) messages are being sent already; try again shortly")
        }
        defer { running.leave() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [address]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let (terminations, termination) = AsyncStream<Int32>.makeStream(bufferingPolicy: .unbounded)
        process.terminationHandler = { process in
            termination.yield(process.terminationStatus)
            termination.finish()
        }
        // The whole message fits the pipe's buffer, so writing it before the command starts
        // never blocks, and the command cannot have gone away yet (no SIGPIPE).
        do {
            try input.fileHandleForWriting.write(contentsOf: Data(message.utf8))
            try input.fileHandleForWriting.close()
        } catch {
            throw ChannelError("the message could not be handed to the command", output: "\(executable): \(error)")
        }
        let started: Result<Void, any Error>
        do {
            // posix_spawn and its file work off the event loop.
            started = try await NIOThreadPool.singleton.runIfActive {
                Result { try process.run() }
            }
        } catch {
            started = .failure(error)
        }
        if case .failure(let error) = started {
            throw ChannelError("the command could not be started", output: "\(executable): \(error)")
        }
        let timeout = self.timeout
        let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in terminations { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else {
            kill(process.processIdentifier, SIGKILL)
            throw ChannelError(
                "the command did not finish within \(timeout) and was killed",
                output: "\(executable): " + Self.drain(output)
            )
        }
        guard process.terminationReason == .exit, status == 0 else {
            let how =
                process.terminationReason == .exit
                ? "exited with status \(status)" : "was ended by signal \(status)"
            throw ChannelError("the command \(how)", output: "\(executable): " + Self.drain(output))
        }
    }

    /// What the command wrote, without waiting for writers that are still around.
    static func drain(_ pipe: Pipe) -> String {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var bytes = [UInt8](repeating: 0, count: maxOutputBytes)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if n <= 0 { break }
            count += n
        }
        return String(decoding: bytes.prefix(count), as: UTF8.self)
    }
}

/// A counter of commands in flight, shared by the copies of one ``CommandChannel``.
private final class Gate: Sendable {
    let count = Mutex(0)

    func enter(limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}
