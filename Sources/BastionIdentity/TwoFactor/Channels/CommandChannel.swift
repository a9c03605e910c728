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
///
/// The command is started with `posix_spawn` rather than Foundation's `Process`, which keeps about
/// 1.3 KiB for every process it ever ran (swift-corelibs-foundation on Linux; found by the address
/// sanitizer's leak check), so a server sending codes for months would grow without bound.
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
        let command: ChildCommand
        do {
            // posix_spawn off the event loop.
            command = try await NIOThreadPool.singleton.runIfActive { [executable] in
                try ChildCommand.spawn(executable: executable, argument: address, input: Array(message.utf8))
            }
        } catch let error as ChannelError {
            throw error
        } catch {
            throw ChannelError("the command could not be started", output: "\(executable): \(error)")
        }
        defer { command.closeOutput() }
        // The command's exit is polled, backing off to 50 ms: sends are rare and short, and a
        // poll costs no thread while the command runs.
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.milliseconds(2)
        while true {
            command.collectOutput()
            if let ending = command.ending() {
                guard case .exited(0) = ending else {
                    throw ChannelError("the command \(ending)", output: "\(executable): " + command.output)
                }
                return
            }
            guard ContinuousClock.now < deadline, !Task.isCancelled else {
                command.kill()
                throw ChannelError(
                    "the command did not finish within \(timeout) and was killed",
                    output: "\(executable): " + command.output
                )
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
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
