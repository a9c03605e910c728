import BastionCodeGen
import BastionProtobuf
import Foundation

/// Runs the real protoc to describe `.proto` files, as it does for a plugin.
enum Protoc {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let repositoryRoot = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// protoc's include folder (descriptor.proto and the well-known types).
    static var includeDirectory: URL {
        for candidate in ["/usr/include", "/usr/local/include"] {
            let url = URL(filePath: candidate)
            if FileManager.default.fileExists(atPath: url.appending(path: "google/protobuf/descriptor.proto").path) {
                return url
            }
        }
        return URL(filePath: "/usr/include")
    }

    /// Describes `files` (paths relative to `root`) and builds the request protoc would send.
    static func request(
        files: [String],
        root: URL,
        parameter: String? = nil
    ) throws -> Google_Protobuf_Compiler_CodeGeneratorRequest {
        let output = FileManager.default.temporaryDirectory.appending(path: "bastion-descriptors-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = ["protoc", "--descriptor_set_out=\(output.path)", "--include_imports", "--include_source_info",
                             "-I\(root.path)", "-I\(includeDirectory.path)"] + files
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "protoc failed: \(message)") }
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: [UInt8](try Data(contentsOf: output)))
        var request = Google_Protobuf_Compiler_CodeGeneratorRequest()
        request.fileToGenerate = files
        request.protoFile = set.file
        request.parameter = parameter
        return request
    }

    /// Writes `source` as `name` in a fresh folder and generates Swift for it.
    static func generate(_ source: String, name: String = "test.proto", parameter: String? = nil) throws
        -> Google_Protobuf_Compiler_CodeGeneratorResponse
    {
        let root = FileManager.default.temporaryDirectory.appending(path: "bastion-proto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try source.write(to: root.appending(path: name), atomically: true, encoding: .utf8)
        return CodeGenerator.generate(try request(files: [name], root: root, parameter: parameter))
    }
}
