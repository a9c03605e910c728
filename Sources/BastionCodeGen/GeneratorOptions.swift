/// Options passed to the plugin as `--bastion_opt=Key=Value` (protoc joins several with commas).
public struct GeneratorOptions: Sendable, Equatable {
    /// How output files are named after their `.proto` path.
    public enum FileNaming: String, Sendable {
        /// `a/b/c.proto` → `a/b/c.pb.swift`
        case fullPath = "FullPath"
        /// `a/b/c.proto` → `a_b_c.pb.swift`, for build plugins that write one flat folder.
        case pathToUnderscores = "PathToUnderscores"
        /// `a/b/c.proto` → `c.pb.swift`
        case dropPath = "DropPath"
    }

    /// `public`, `package` or `internal`: the access level of generated declarations.
    public var visibility = "public"
    public var fileNaming = FileNaming.fullPath
    /// `.proto` paths whose Swift lives in another module, which generated files then import.
    public var moduleMappings: [String: String] = [:]
    /// Whether every method must declare its STRIDE policy (`Policies=required`, the default) or
    /// may go without (`Policies=optional`).
    public var policiesRequired = true
    /// When set, also write the threat model of the services generated to this file (Markdown).
    public var threatModelFile: String?

    public init() {}

    public init(parameter: String) throws(GeneratorError) {
        for item in parameter.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingTrailingWhitespace() }
            guard parts.count == 2 else {
                throw GeneratorError("option '\(item)' is not of the form Key=Value")
            }
            switch parts[0].trimmingLeadingSpaces() {
            case "Visibility":
                guard ["public", "package", "internal"].contains(parts[1]) else {
                    throw GeneratorError("Visibility must be public, package or internal, not '\(parts[1])'")
                }
                visibility = parts[1]
            case "FileNaming":
                guard let naming = FileNaming(rawValue: parts[1]) else {
                    throw GeneratorError("FileNaming must be FullPath, PathToUnderscores or DropPath, not '\(parts[1])'")
                }
                fileNaming = naming
            case "Module":
                let mapping = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
                guard mapping.count == 2, !mapping[1].isEmpty else {
                    throw GeneratorError("Module takes path/to/file.proto=ModuleName, not '\(parts[1])'")
                }
                moduleMappings[mapping[0]] = mapping[1]
            case "ThreatModel":
                guard parts[1].hasSuffix(".md") else {
                    throw GeneratorError("ThreatModel takes a Markdown file name ending in .md, not '\(parts[1])'")
                }
                threatModelFile = parts[1]
            case "Policies":
                guard ["required", "optional"].contains(parts[1]) else {
                    throw GeneratorError("Policies must be required or optional, not '\(parts[1])'")
                }
                policiesRequired = parts[1] == "required"
            default:
                throw GeneratorError("unknown option '\(parts[0])' (known: Visibility, FileNaming, Module, Policies, ThreatModel)")
            }
        }
    }

    func outputName(for protoPath: String) -> String {
        let stem = protoPath.hasSuffix(".proto") ? String(protoPath.dropLast(6)) : protoPath
        switch fileNaming {
        case .fullPath: return stem + ".pb.swift"
        case .pathToUnderscores: return stem.split(separator: "/").joined(separator: "_") + ".pb.swift"
        case .dropPath: return (stem.split(separator: "/").last.map(String.init) ?? stem) + ".pb.swift"
        }
    }
}

extension String {
    func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0 == " " }))
    }
}
