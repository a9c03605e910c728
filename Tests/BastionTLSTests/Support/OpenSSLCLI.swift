import Foundation

/// Runs the `openssl` command-line tool with a time bound.
enum OpenSSLCLI {
    struct Result {
        var status: Int32
        var output: String
    }

    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
    }

    /// Runs `openssl arguments…` under `timeout(1)`, with `input` on standard input, which is
    /// closed right after it or, with `closeInputAfter`, that much later.
    static func run(
        _ arguments: [String],
        input: String = "",
        closeInputAfter delay: Duration? = nil,
        seconds: Int = 15
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "2", String(seconds), "/usr/bin/openssl"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        let (terminations, termination) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            termination.yield(process.terminationStatus)
            termination.finish()
        }
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        if let delay {
            try await Task.sleep(for: delay)
        }
        try? stdin.fileHandleForWriting.close()
        var status: Int32 = -1
        for await terminationStatus in terminations {
            status = terminationStatus
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        return Result(status: status, output: String(decoding: data, as: UTF8.self))
    }

    /// `openssl s_client` against 127.0.0.1:`port`, trusting `caFile`.
    static func sClient(
        port: Int,
        caFile: String,
        extraArguments: [String],
        waitForServerClose: Bool = false
    ) async throws -> Result {
        var arguments = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost",
            "-CAfile", caFile, "-verify_return_error",
        ]
        if waitForServerClose {
            // Keep reading after standard input ends, so an alert sent after the client's
            // Finished (TLS 1.3 client authentication) is seen; the server closes the connection.
            arguments.append("-ign_eof")
        }
        return try await self.run(arguments + extraArguments)
    }
}
