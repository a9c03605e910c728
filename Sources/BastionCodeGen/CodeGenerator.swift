import BastionProtobuf

/// Turns protoc's CodeGeneratorRequest into Swift files: the logic behind `protoc-gen-bastion`.
public enum CodeGenerator {
    /// protoc's feature bit for proto3 `optional`, which this generator supports.
    static let featureProto3Optional: UInt64 = 1

    /// Decodes a serialized request and returns the serialized response; never throws, because
    /// protoc expects problems inside the response's `error` field.
    public static func run(requestBytes: [UInt8]) -> [UInt8] {
        let response: Google_Protobuf_Compiler_CodeGeneratorResponse
        do {
            let request = try Google_Protobuf_Compiler_CodeGeneratorRequest(serializedBytes: requestBytes)
            response = generate(request)
        } catch {
            var failure = Google_Protobuf_Compiler_CodeGeneratorResponse()
            failure.error = "protoc-gen-bastion could not read protoc's request: \(error)"
            response = failure
        }
        return response.serializedBytes()
    }

    /// Generates one Swift file per file to generate, or a response carrying the first error.
    public static func generate(
        _ request: Google_Protobuf_Compiler_CodeGeneratorRequest
    ) -> Google_Protobuf_Compiler_CodeGeneratorResponse {
        var response = Google_Protobuf_Compiler_CodeGeneratorResponse()
        response.supportedFeatures = featureProto3Optional
        do {
            response.file = try generateFiles(request)
        } catch {
            response.error = error.description
        }
        return response
    }

    static func generateFiles(
        _ request: Google_Protobuf_Compiler_CodeGeneratorRequest
    ) throws(GeneratorError) -> [Google_Protobuf_Compiler_CodeGeneratorResponse.File] {
        let options = try GeneratorOptions(parameter: request.parameter ?? "")
        for file in request.protoFile where file.syntax == "editions" {
            throw GeneratorError(file: file.name, "protobuf editions are not supported yet; use proto2 or proto3 syntax")
        }
        let index = try SchemaIndex(files: request.protoFile)
        let containment = ContainmentGraph(index: index, messages: Array(index.messages.values))
        let needsCheck = InitializationAnalysis(index: index)
        let filesToGenerate = Set(request.fileToGenerate)

        var output: [Google_Protobuf_Compiler_CodeGeneratorResponse.File] = []
        for name in request.fileToGenerate {
            guard let file = index.files[name] else {
                throw GeneratorError(file: name, "protoc asked for a file it did not describe")
            }
            let renderer = FileRenderer(
                file: file, index: index, containment: containment, options: options,
                filesToGenerate: filesToGenerate, needsInitializationCheck: needsCheck.needsCheck
            )
            var generated = Google_Protobuf_Compiler_CodeGeneratorResponse.File()
            generated.name = options.outputName(for: name)
            generated.content = try renderer.render()
            output.append(generated)
        }
        if let threatModelFile = options.threatModelFile {
            var entries: [ThreatModelRenderer.Entry] = []
            for name in request.fileToGenerate {
                guard let file = index.files[name] else { continue }
                for (serviceIndex, service) in file.service.enumerated() {
                    let renderer = ServiceRenderer(
                        service: service, file: file, index: index, serviceIndex: serviceIndex, visibility: "",
                        policiesRequired: true
                    )
                    let serviceName = [file.package, service.name].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ".")
                    for method in try renderer.methods() {
                        guard let policy = method.policy else { continue }
                        entries.append(ThreatModelRenderer.Entry(
                            service: serviceName, method: method.name, kind: method.kindDescription,
                            comment: method.comment, policy: policy
                        ))
                    }
                }
            }
            var document = Google_Protobuf_Compiler_CodeGeneratorResponse.File()
            document.name = threatModelFile
            document.content = ThreatModelRenderer(entries: entries).render()
            output.append(document)
        }
        return output
    }
}

/// Which messages must check proto2 `required` fields, themselves or in nested messages.
struct InitializationAnalysis: Sendable {
    private let needing: Set<String>

    init(index: SchemaIndex) {
        var needing = Set(index.messages.values.filter { message in
            message.descriptor.field.contains { $0.label == .required }
        }.map(\.fullName))
        // Propagate to every message that holds one of them, until nothing changes.
        var changed = true
        while changed {
            changed = false
            for message in index.messages.values where !needing.contains(message.fullName) {
                let holdsOne = message.descriptor.field.contains { field in
                    guard field.type == .message || field.type == .group, let typeName = field.typeName else { return false }
                    if needing.contains(typeName) { return true }
                    // Map fields reach their value type through the entry message.
                    if let entry = index.messages[typeName], entry.isMapEntry,
                        let value = entry.descriptor.field.first(where: { $0.number == 2 }),
                        let valueType = value.typeName
                    {
                        return needing.contains(valueType)
                    }
                    return false
                }
                if holdsOne {
                    needing.insert(message.fullName)
                    changed = true
                }
            }
        }
        self.needing = needing
    }

    func needsCheck(_ fullName: String) -> Bool { needing.contains(fullName) }
}
