import BastionRPC

/// Renders the code that reads the request fields a method's policy names (owned resources,
/// rate-limit keys, sealed envelopes) into the `RequestView` the policy engine checks, so that
/// the engine never needs reflection over messages.
struct PolicyFieldReader {
    static let sealedEnvelopeType = ".bastion.rpc.v1.SealedEnvelope"

    enum Use {
        case key
        case sealedEnvelope
    }

    let index: SchemaIndex
    let file: Google_Protobuf_FileDescriptorProto
    /// Which fields are boxed; built once per reader, since models are made per field path.
    let containment: ContainmentGraph

    init(index: SchemaIndex, file: Google_Protobuf_FileDescriptorProto) {
        self.index = index
        self.file = file
        self.containment = ContainmentGraph(index: index, messages: Array(index.messages.values))
    }

    /// The fields `policy` names, each with how it is used, in a stable order.
    static func fields(of policy: Bastion_Policy_V1_MethodPolicy) -> [(path: String, use: Use)] {
        var fields: [(String, Use)] = []
        func add(_ path: String, _ use: Use) {
            if !path.isEmpty, !fields.contains(where: { $0.0 == path && $0.1 == use }) { fields.append((path, use)) }
        }
        if policy.authorization?.notARisk != true { add(policy.authorization?.ownedResourceField ?? "", .key) }
        for limit in policy.spamPrevention?.rateLimits ?? [] where limit.key == .requestField {
            add(limit.field, .key)
        }
        for check in (policy.integrity?.checks ?? []) + (policy.confidentiality?.checks ?? []) {
            if case .sealedEnvelopeField(let field)? = check.kind { add(field, .sealedEnvelope) }
        }
        return fields
    }

    /// One Swift statement that stores the field's value in `fields` when it is set.
    func statement(path: String, use: Use, request: SchemaIndex.Message, element: String) throws(GeneratorError) -> String {
        var current = request
        var expression = "request"
        var optionalChain = false
        let parts = path.split(separator: ".").map(String.init)
        for (position, part) in parts.enumerated() {
            let model = try MessageModel(current, index: index, containment: containment)
            guard let field = model.fields.first(where: { $0.descriptor.name == part }) else {
                throw problem(element, "names request field '\(path)', but \(model.fullName) has no field '\(part)'")
            }
            let isLast = position == parts.count - 1
            switch field.storage {
            case .repeated, .map:
                throw problem(element, "names request field '\(path)', but '\(part)' is repeated; a policy reads one value")
            case .oneofMember:
                throw problem(element, "names request field '\(path)', but '\(part)' is in a oneof; move it out of the oneof")
            case .implicit, .optional, .boxed:
                break
            }
            expression += (optionalChain ? "?." : ".") + SwiftNaming.escaped(field.swiftName)
            let fieldIsOptional: Bool
            if case .implicit = field.storage { fieldIsOptional = false } else { fieldIsOptional = true }
            if !isLast {
                guard case .message(let next) = field.kind else {
                    throw problem(element, "names request field '\(path)', but '\(part)' is not a message")
                }
                current = next
                optionalChain = optionalChain || fieldIsOptional
                continue
            }
            optionalChain = optionalChain || fieldIsOptional
            let wrapped = try wrap(field, use: use, path: path, element: element)
            let key = SwiftNaming.stringLiteral(path)
            if optionalChain {
                return "if let value = \(expression) { fields[\(key)] = \(wrapped("value")) }"
            }
            return "fields[\(key)] = \(wrapped(expression))"
        }
        throw problem(element, "names an empty request field")
    }

    /// How a field's Swift value becomes a `RequestFieldValue`.
    private func wrap(_ field: MessageModel.Field, use: Use, path: String, element: String) throws(GeneratorError) -> (String) -> String {
        switch (field.kind, use) {
        case (.message(let message), .sealedEnvelope) where message.fullName == Self.sealedEnvelopeType:
            return { ".sealedEnvelope(\($0))" }
        case (.scalar(.bytes), _):
            return { ".bytes(\($0))" }
        case (.scalar(.string), .key):
            return { ".string(\($0))" }
        case (.scalar(let scalar), .key) where scalar.isInteger:
            return { ".string(String(\($0)))" }
        case (_, .sealedEnvelope):
            throw problem(element, "names request field '\(path)' as a sealed envelope, but it is neither bytes nor bastion.rpc.v1.SealedEnvelope")
        default:
            throw problem(element, "names request field '\(path)', but policies read only string, bytes and integer fields")
        }
    }

    private func problem(_ element: String, _ message: String) -> GeneratorError {
        GeneratorError(file: file.name, element: element, "policy \(message)")
    }
}

extension ScalarType {
    var isInteger: Bool {
        switch self {
        case .int32, .int64, .uint32, .uint64, .sint32, .sint64, .fixed32, .fixed64, .sfixed32, .sfixed64: true
        case .double, .float, .bool, .string, .bytes: false
        }
    }
}
