import Foundation
import PackagePlugin

/// Generates Swift for every `.proto` file of a target at build time with `protoc-gen-bastion`.
///
/// The target's folder is the import root, so a file at `<target>/bastion/echo/v1/echo.proto` is
/// imported as `bastion/echo/v1/echo.proto`. `.proto` files of the target's dependencies are
/// importable too, and their types are referred to through those modules.
@main
struct BastionProtobufPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let protoFiles = target.sourceFiles(withSuffix: "proto").map(\.url)
        guard !protoFiles.isEmpty else { return [] }

        let configuration = try PluginConfiguration.load(from: target.directoryURL)
        let protoc = try ProtocLocator.find(configuration: configuration, environment: ProcessInfo.processInfo.environment)
        let generator = try context.tool(named: "protoc-gen-bastion").url
        let outputDirectory = context.pluginWorkDirectoryURL.appending(path: "generated")

        var importRoots = [target.directoryURL]
        var moduleMappings: [String] = []
        for case let dependency as SourceModuleTarget in target.recursiveTargetDependencies {
            let protos = dependency.sourceFiles(withSuffix: "proto").map(\.url)
            guard !protos.isEmpty else { continue }
            importRoots.append(dependency.directoryURL)
            for proto in protos {
                moduleMappings.append("Module=\(proto.relativePath(from: dependency.directoryURL))=\(dependency.moduleName)")
            }
        }
        importRoots += configuration.importPaths.map { target.directoryURL.appending(path: $0) }

        let relativeProtos = protoFiles.map { $0.relativePath(from: target.directoryURL) }
        let outputs = relativeProtos.map { outputDirectory.appending(path: GeneratedFileNaming.underscored($0)) }
        let options = ["FileNaming=PathToUnderscores", "Visibility=\(configuration.visibility)"] + moduleMappings

        var arguments = ["--plugin=protoc-gen-bastion=\(generator.path)", "--bastion_out=\(outputDirectory.path)"]
        arguments += options.map { "--bastion_opt=\($0)" }
        arguments += importRoots.map { "--proto_path=\($0.path)" }
        arguments += relativeProtos

        return [
            .buildCommand(
                displayName: "Generating Swift for \(protoFiles.count) .proto file(s) of \(target.name)",
                executable: protoc,
                arguments: arguments,
                inputFiles: protoFiles + [generator],
                outputFiles: outputs
            )
        ]
    }
}

/// Settings read from `bastion-protobuf.json` in the target's folder, all optional:
/// `{"protocPath": "/usr/bin/protoc", "importPaths": ["../shared/proto"], "visibility": "internal"}`.
struct PluginConfiguration: Decodable {
    var protocPath: String?
    var importPaths: [String] = []
    var visibility: String = "public"

    static let fileName = "bastion-protobuf.json"

    static func load(from directory: URL) throws -> PluginConfiguration {
        let url = directory.appending(path: fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return PluginConfiguration() }
        do {
            return try JSONDecoder().decode(PluginConfiguration.self, from: Data(contentsOf: url))
        } catch {
            throw PluginError("\(url.path) is not valid: \(error)")
        }
    }

    enum CodingKeys: String, CodingKey { case protocPath, importPaths, visibility }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        protocPath = try container.decodeIfPresent(String.self, forKey: .protocPath)
        importPaths = try container.decodeIfPresent([String].self, forKey: .importPaths) ?? []
        visibility = try container.decodeIfPresent(String.self, forKey: .visibility) ?? "public"
    }
}

/// Finds protoc: the configuration file first, then `PROTOC_PATH`, then the `PATH`.
enum ProtocLocator {
    static func find(configuration: PluginConfiguration, environment: [String: String]) throws -> URL {
        if let path = configuration.protocPath { return try executable(at: path, source: PluginConfiguration.fileName) }
        if let path = environment["PROTOC_PATH"], !path.isEmpty { return try executable(at: path, source: "PROTOC_PATH") }
        for directory in (environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":") {
            let candidate = "\(directory)/protoc"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(filePath: candidate) }
        }
        throw PluginError("protoc was not found: install it with `apt-get install protobuf-compiler` (or set PROTOC_PATH)")
    }

    private static func executable(at path: String, source: String) throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw PluginError("protoc named by \(source) is not an executable file: \(path)")
        }
        return URL(filePath: path)
    }
}

enum GeneratedFileNaming {
    /// `bastion/echo/v1/echo.proto` becomes `bastion_echo_v1_echo.pb.swift`: one flat folder, no clashes.
    static func underscored(_ protoPath: String) -> String {
        let stem = protoPath.hasSuffix(".proto") ? String(protoPath.dropLast(6)) : protoPath
        return stem.replacingOccurrences(of: "/", with: "_") + ".pb.swift"
    }
}

struct PluginError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension URL {
    func relativePath(from base: URL) -> String {
        let basePath = base.standardizedFileURL.path
        let path = standardizedFileURL.path
        let prefix = basePath.hasSuffix("/") ? basePath : basePath + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
