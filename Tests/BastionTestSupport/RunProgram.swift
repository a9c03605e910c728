public import Foundation

/// Runs a program to its end without blocking a thread of the shared concurrency pool (the
/// suites run on two cores; a blocked pool thread starves every other test's tasks). Output is
/// read on threads of their own, so a full pipe cannot stall the program; `input` is written on
/// one too. Returns the exit status and what it wrote to stdout and stderr together.
public func runProgram(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String]? = nil,
    in folder: URL? = nil,
    input: Data? = nil
) async throws -> (status: Int32, output: String) {
    let result = try await runProgramSeparately(
        executable, arguments, environment: environment, in: folder, input: input, mergingErrors: true
    )
    return (result.status, result.output)
}

/// ``runProgram(_:_:environment:in:input:)`` with stderr kept apart (for programs whose stdout is
/// parsed), unless `mergingErrors`.
public func runProgramSeparately(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String]? = nil,
    in folder: URL? = nil,
    input: Data? = nil,
    mergingErrors: Bool = false
) async throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let folder { process.currentDirectoryURL = folder }
    let output = Pipe()
    let errors = mergingErrors ? output : Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    let (terminations, termination) = AsyncStream<Int32>.makeStream()
    process.terminationHandler = { process in
        termination.yield(process.terminationStatus)
        termination.finish()
    }
    let outputData = readToEnd(output)
    let errorData = mergingErrors ? nil : readToEnd(errors)
    try process.run()
    if let input {
        let writer = stdin.fileHandleForWriting
        Thread.detachNewThread {
            try? writer.write(contentsOf: input)
            try? writer.close()
        }
    }
    var status: Int32 = -1
    for await terminationStatus in terminations { status = terminationStatus }
    let errorText = await errorData?.value ?? Data()
    return (
        status,
        String(decoding: await outputData.value, as: UTF8.self),
        String(decoding: errorText, as: UTF8.self)
    )
}

/// Everything written to the pipe, read on a thread of its own.
private func readToEnd(_ pipe: Pipe) -> Task<Data, Never> {
    let handle = pipe.fileHandleForReading
    return Task.detached {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
    }
}
