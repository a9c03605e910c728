import Foundation
import PackagePlugin

/// `swift package generate-protobuf-code --target NAME`: writes the Swift for a target's `.proto`
/// files beside them (`foo.proto` → `foo.pb.swift`), for projects that commit generated code.
/// Run with `--allow-writing-to-package-directory`. Remove the build plugin from a target that
/// uses this, or the types are defined twice.
@main
struct GenerateProtobufCode: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        let targetNames = extractor.extractOption(named: "target")
        let visibility = extractor.extractOption(named: "visibility").last ?? "public"
        let protocPath = extractor.extractOption(named: "protoc").last
        let targets = try context.package.targets(named: targetNames).compactMap { $0 as? SourceModuleTarget }
        guard !targets.isEmpty else {
            throw CommandError("name the targets to generate for: --target NAME (repeatable)")
        }
        let generator = try context.tool(named: "protoc-gen-bastion").url
        let protoc = try findProtoc(explicit: protocPath)

        for target in targets {
            // Walk the folder rather than the target's sources: a target that commits its
            // generated code usually excludes the .proto files from the build.
            let root = target.directoryURL
            let relative = protoFiles(under: root)
            guard !relative.isEmpty else {
                print("\(target.name): no .proto files")
                continue
            }
            var arguments = [
                "--plugin=protoc-gen-bastion=\(generator.path)",
                "--bastion_out=\(root.path)",
                "--bastion_opt=Visibility=\(visibility)",
                "--proto_path=\(root.path)",
            ]
            arguments += relative
            let process = Process()
            process.executableURL = protoc
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CommandError("protoc failed for target \(target.name) (exit \(process.terminationStatus))")
            }
            print("\(target.name): wrote \(relative.count) file(s)")
        }
    }

    private func protoFiles(under root: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".proto") }.sorted()
    }

    private func findProtoc(explicit: String?) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [explicit, environment["PROTOC_PATH"]].compactMap { $0 }.filter { !$0.isEmpty }
            + (environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/protoc" }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return URL(filePath: found)
        }
        throw CommandError("protoc was not found: install it with `apt-get install protobuf-compiler` (or set PROTOC_PATH)")
    }
}

struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
