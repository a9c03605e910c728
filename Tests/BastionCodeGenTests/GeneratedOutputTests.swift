import BastionCodeGen
import BastionProtobuf
import Foundation
import Testing

/// Golden output: the committed copies must equal what the generator produces now. Set
/// BASTION_UPDATE_REFERENCES=1 to rewrite them after an intended change, then review the diff.
@Suite struct GeneratedOutputTests {
    static let update = ProcessInfo.processInfo.environment["BASTION_UPDATE_REFERENCES"] == "1"

    func compare(_ response: Google_Protobuf_Compiler_CodeGeneratorResponse, with directory: URL) throws {
        #expect(response.error == nil, "\(response.error ?? "")")
        try #require(!response.file.isEmpty)
        for file in response.file {
            let url = directory.appending(path: file.name ?? "")
            if Self.update {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try (file.content ?? "").write(to: url, atomically: true, encoding: .utf8)
            }
            let committed = try String(contentsOf: url, encoding: .utf8)
            #expect(committed == file.content, "\(url.path) is stale: run Tools/regenerate-descriptors.sh, Tools/generate-protos.sh, or set BASTION_UPDATE_REFERENCES=1")
        }
    }

    /// The generator reads protoc's request with types it generated itself; they must be current.
    @Test func bootstrapDescriptorsAreCurrent() throws {
        let request = try Protoc.request(
            files: ["google/protobuf/descriptor.proto", "google/protobuf/compiler/plugin.proto"],
            root: Protoc.includeDirectory,
            parameter: "FileNaming=DropPath"
        )
        try compare(
            CodeGenerator.generate(request),
            with: Protoc.repositoryRoot.appending(path: "Sources/BastionCodeGen/Generated")
        )
    }

    @Test func referenceOutputIsCurrent() throws {
        let root = Protoc.repositoryRoot.appending(path: "Tests/BastionGeneratedTests")
        let request = try Protoc.request(
            files: ["bastion/testing/v1/imported.proto", "bastion/testing/v1/everything.proto", "bastion/testing/v1/legacy.proto"],
            root: root
        )
        try compare(
            CodeGenerator.generate(request),
            with: Protoc.repositoryRoot.appending(path: "Tests/BastionCodeGenTests/Reference")
        )
    }

    /// The Swift of the project's own protocol files (proto/), committed beside the modules.
    @Test(arguments: [
        ("bastion/rpc/v1/rpc.proto", "BastionRPC"),
        ("bastion/rpc/v1/envelope.proto", "BastionRPC"),
        ("bastion/policy/v1/policy.proto", "BastionRPC"),
        ("bastion/policy/v1/audit.proto", "BastionRPC"),
        ("bastion/echo/v1/echo.proto", "BastionBuiltinServices"),
        ("bastion/health/v1/health.proto", "BastionBuiltinServices"),
        ("bastion/admin/v1/admin.proto", "BastionAdmin"),
        ("bastion/auth/v1/auth.proto", "BastionIdentity"),
        ("bastion/auth/v1/records.proto", "BastionIdentity"),
        ("bastion/auth/v1/two_factor.proto", "BastionIdentity"),
        ("bastion/auth/v1/two_factor_records.proto", "BastionIdentity"),
        ("bastion/auth/v1/second_factors.proto", "BastionIdentity"),
        ("bastion/auth/v1/second_factor_records.proto", "BastionIdentity"),
        ("bastion/queue/v1/queue.proto", "BastionQueue"),
    ])
    func projectProtosAreCurrent(proto: String, module: String) throws {
        let request = try Protoc.request(files: [proto], root: Protoc.repositoryRoot.appending(path: "proto"))
        try compare(
            CodeGenerator.generate(request),
            with: Protoc.repositoryRoot.appending(path: "Sources/\(module)/Generated")
        )
    }

    /// docs/threat-model.md is rendered from the services' policies and must be current.
    @Test func threatModelIsCurrent() throws {
        let request = try Protoc.request(
            files: [
                "bastion/health/v1/health.proto", "bastion/echo/v1/echo.proto", "bastion/admin/v1/admin.proto",
                "bastion/auth/v1/auth.proto", "bastion/auth/v1/two_factor.proto", "bastion/queue/v1/queue.proto",
            ],
            root: Protoc.repositoryRoot.appending(path: "proto"),
            parameter: "ThreatModel=threat-model.md"
        )
        let response = CodeGenerator.generate(request)
        #expect(response.error == nil, "\(response.error ?? "")")
        let rendered = try #require(response.file.first { $0.name == "threat-model.md" }?.content)
        let url = Protoc.repositoryRoot.appending(path: "docs/threat-model.md")
        if Self.update { try rendered.write(to: url, atomically: true, encoding: .utf8) }
        #expect(try String(contentsOf: url, encoding: .utf8) == rendered, "docs/threat-model.md is stale: run Tools/generate-protos.sh")
    }

    @Test func outputIsDeterministic() throws {
        let root = Protoc.repositoryRoot.appending(path: "Tests/BastionGeneratedTests")
        let request = try Protoc.request(files: ["bastion/testing/v1/everything.proto"], root: root)
        let first = CodeGenerator.generate(request)
        for _ in 0..<3 {
            #expect(CodeGenerator.generate(request) == first)
        }
    }
}
