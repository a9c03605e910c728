import Foundation

/// A Python process on the other end of an OPAQUE exchange (`python/opaque_peer.py`): hex messages,
/// one a line, over its standard input and output.
final class Peer {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/opaque_peer.py")

    private let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    private let stderr = Pipe()
    private var buffer: [UInt8] = []

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path] + arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    func send(_ bytes: [UInt8]) throws {
        try stdin.fileHandleForWriting.write(contentsOf: Data((Hex.encode(bytes) + "\n").utf8))
    }

    /// The next line, without its newline.
    func receiveLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let chunk = stdout.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                process.waitUntilExit()
                let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw Failure(description: "the Python peer ended (\(process.terminationStatus)):\n\(errors)")
            }
            buffer += chunk
        }
    }

    /// The next line as hex bytes; throws if the peer reported an error instead.
    func receive() throws -> [UInt8] {
        let line = try receiveLine()
        guard !line.hasPrefix("error") else {
            throw Failure(description: "the Python peer reported: \(line)")
        }
        return Hex.decode(line)
    }

    /// Waits for the peer to exit and returns its status.
    func finish() -> Int32 {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
