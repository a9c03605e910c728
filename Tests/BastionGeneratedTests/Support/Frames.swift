import Foundation

/// Files of messages as the Python helper writes them: a 4-byte little-endian length, then bytes.
enum Frames {
    static func read(_ url: URL) throws -> [[UInt8]] {
        let data = [UInt8](try Data(contentsOf: url))
        var frames: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= data.count {
            let length = Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16
                | Int(data[offset + 3]) << 24
            frames.append(Array(data[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        return frames
    }

    static func write(_ frames: [[UInt8]], to url: URL) throws {
        var data = Data()
        for frame in frames {
            let length = UInt32(frame.count)
            data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)])
            data.append(contentsOf: frame)
        }
        try data.write(to: url)
    }
}

/// Runs the Python reference helper next to these tests.
enum PythonReference {
    static let script = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "python/roundtrip.py")

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 roundtrip.py \(arguments.joined(separator: " ")) failed "
                + "(needs python3 with `pip install protobuf==4.21.12` and protoc):\n\(text)")
        }
        return text
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "bastion-roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
