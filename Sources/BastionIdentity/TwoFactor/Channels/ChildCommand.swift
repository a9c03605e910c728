import CSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// One run of a channel's command: started with `posix_spawn`, its input written up front, its
/// output (standard output and error together) collected up to a bound, its end polled.
///
/// The child gets exactly three descriptors (the input pipe, the output pipe twice); everything
/// else the server holds open (sockets, the store) is closed in the child, and signals the server
/// ignores or blocks are back to their defaults.
final class ChildCommand: @unchecked Sendable {
    /// How a command ended.
    enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        /// Something else in the process reaped it first (a `waitpid(-1)`), so its status is lost.
        case reapedElsewhere

        var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signalled(let signal): "was ended by signal \(signal)"
            case .reapedElsewhere: "ended, but its exit status was taken by another part of the server"
            }
        }
    }

    let pid: pid_t
    /// The read end of the output pipe, non-blocking; -1 once closed.
    private var outputDescriptor: Int32
    private var collected: [UInt8] = []
    private var ended: Ending?

    private init(pid: pid_t, outputDescriptor: Int32) {
        self.pid = pid
        self.outputDescriptor = outputDescriptor
    }

    /// Starts `executable` with `argument` as its only argument and `input` on its standard input.
    /// The input must fit an empty pipe's buffer (64 KiB on Linux), so writing it never blocks.
    static func spawn(executable: String, argument: String, input: [UInt8]) throws(ChannelError) -> ChildCommand {
        precondition(input.count <= CommandChannel.maxMessageBytes)
        var inputPipe: [Int32] = [-1, -1]
        var outputPipe: [Int32] = [-1, -1]
        guard pipe2(&inputPipe, O_CLOEXEC) == 0 else { throw failure("pipe2") }
        guard pipe2(&outputPipe, O_CLOEXEC) == 0 else {
            close(inputPipe[0])
            close(inputPipe[1])
            throw failure("pipe2")
        }
        defer {
            close(inputPipe[0])
            close(outputPipe[1])
        }
        let written = input.withUnsafeBytes { write(inputPipe[1], $0.baseAddress, $0.count) }
        close(inputPipe[1])
        guard written == input.count else {
            close(outputPipe[0])
            throw failure("write to the command's input")
        }
        _ = fcntl(outputPipe[0], F_SETFL, fcntl(outputPipe[0], F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies; the originals close at exec.
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(executable), strdup(argument), nil]
        defer { for argument in arguments { free(argument) } }
        let spawned = arguments.withUnsafeBufferPointer { argv in
            posix_spawn(&pid, executable, &actions, &attributes, argv.baseAddress!, environ)
        }
        guard spawned == 0 else {
            close(outputPipe[0])
            throw ChannelError("the command could not be started", output: "\(executable): \(String(cString: strerror(spawned)))")
        }
        return ChildCommand(pid: pid, outputDescriptor: outputPipe[0])
    }

    private static func failure(_ what: String) -> ChannelError {
        ChannelError("the command could not be started", output: "\(what): \(String(cString: strerror(errno)))")
    }

    /// Reads what the command wrote so far without waiting; keeps the first
    /// ``CommandChannel/maxOutputBytes`` and drops the rest, so a chatty command never stalls on
    /// a full pipe.
    func collectOutput() {
        guard outputDescriptor >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(outputDescriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            let room = CommandChannel.maxOutputBytes - collected.count
            if room > 0 { collected += buffer.prefix(min(count, room)) }
        }
    }

    var output: String {
        collectOutput()
        return String(decoding: collected, as: UTF8.self)
    }

    /// How the command ended, or nil while it runs. Reaps it once it has.
    func ending() -> Ending? {
        if let ended { return ended }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else {
            // The child is gone without us having reaped it (someone else's waitpid(-1)).
            if result < 0, errno == ECHILD { ended = .reapedElsewhere }
            return ended
        }
        // The <sys/wait.h> macros, which Swift does not import.
        let signal = status & 0x7f
        ended = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
        return ended
    }

    /// Kills the command (SIGKILL) and reaps it.
    func kill() {
        guard ending() == nil else { return }
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        ended = .signalled(SIGKILL)
    }

    func closeOutput() {
        if outputDescriptor >= 0 {
            close(outputDescriptor)
            outputDescriptor = -1
        }
    }
}
