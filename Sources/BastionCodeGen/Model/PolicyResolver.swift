import BastionProtobuf
import BastionRPC

/// Reads each method's STRIDE policy from its options (the `bastion.policy.v1.policy` extension,
/// filled in from the service's `default_policy`), and checks that all seven properties are
/// declared and make sense for the method's request type.
struct PolicyResolver {
    /// The extensions' field number on MethodOptions and ServiceOptions.
    static let extensionFieldNumber = 50001

    static let propertyNames = [
        "authentication", "integrity", "non_repudiation", "confidentiality", "availability", "authorization",
        "spam_prevention",
    ]

    let index: SchemaIndex
    let file: Google_Protobuf_FileDescriptorProto
    let required: Bool

    /// The effective policy of `method`, or nil when policies are optional and none is declared.
    func policy(
        for method: Google_Protobuf_MethodDescriptorProto,
        service: Google_Protobuf_ServiceDescriptorProto,
        element: String
    ) throws(GeneratorError) -> Bastion_Policy_V1_MethodPolicy? {
        let defaults = try decode(service.options?.unknownFields, element: element, option: "default_policy")
        let own = try decode(method.options?.unknownFields, element: element, option: "policy")
        guard own != nil || defaults != nil else {
            if required {
                throw GeneratorError(
                    file: file.name, element: element,
                    "declares no policy; every method needs option (bastion.policy.v1.policy) or its service's "
                        + "(bastion.policy.v1.default_policy) with all seven STRIDE properties"
                )
            }
            return nil
        }
        var policy = defaults ?? Bastion_Policy_V1_MethodPolicy()
        if let own {
            // A property the method declares replaces the service's default for it, whole.
            if let value = own.authentication { policy.authentication = value }
            if let value = own.integrity { policy.integrity = value }
            if let value = own.nonRepudiation { policy.nonRepudiation = value }
            if let value = own.confidentiality { policy.confidentiality = value }
            if let value = own.availability { policy.availability = value }
            if let value = own.authorization { policy.authorization = value }
            if let value = own.spamPrevention { policy.spamPrevention = value }
        }
        try validate(policy, method: method, element: element)
        return policy
    }

    private func decode(_ fields: ProtobufUnknownFields?, element: String, option: String) throws(GeneratorError) -> Bastion_Policy_V1_MethodPolicy? {
        guard let fields, !fields.isEmpty else { return nil }
        do {
            guard let bytes = try Self.lengthDelimitedPayloads(of: Self.extensionFieldNumber, in: fields) else { return nil }
            return try Bastion_Policy_V1_MethodPolicy(serializedBytes: bytes)
        } catch {
            throw GeneratorError(file: file.name, element: element, "option (bastion.policy.v1.\(option)) cannot be read: \(error)")
        }
    }

    /// The payloads of every length-delimited occurrence of `fieldNumber`, joined: protobuf merges
    /// repeated occurrences of a message field.
    static func lengthDelimitedPayloads(of fieldNumber: Int, in fields: ProtobufUnknownFields) throws(ProtobufError) -> [UInt8]? {
        var found: [UInt8]?
        let wanted = ProtobufTag(fieldNumber: fieldNumber, wireType: .lengthDelimited)
        let result: Result<[UInt8]?, ProtobufError> = fields.bytes.withUnsafeBytes { buffer in
            var reader = ProtobufReader(buffer: buffer)
            return Result { () throws(ProtobufError) in
                while let tag = try reader.nextTag() {
                    if tag == wanted {
                        found = (found ?? []) + (try reader.readBytes())
                    } else {
                        try reader.skipField(tag)
                    }
                }
                return found
            }
        }
        return try result.get()
    }

    // MARK: Checks

    private func validate(
        _ policy: Bastion_Policy_V1_MethodPolicy,
        method: Google_Protobuf_MethodDescriptorProto,
        element: String
    ) throws(GeneratorError) {
        let declared: [(String, (statement: String, notARisk: Bool)?)] = [
            ("authentication", policy.authentication.map { ($0.statement, $0.notARisk) }),
            ("integrity", policy.integrity.map { ($0.statement, $0.notARisk) }),
            ("non_repudiation", policy.nonRepudiation.map { ($0.statement, $0.notARisk) }),
            ("confidentiality", policy.confidentiality.map { ($0.statement, $0.notARisk) }),
            ("availability", policy.availability.map { ($0.statement, $0.notARisk) }),
            ("authorization", policy.authorization.map { ($0.statement, $0.notARisk) }),
            ("spam_prevention", policy.spamPrevention.map { ($0.statement, $0.notARisk) }),
        ]
        for (name, property) in declared {
            guard let property else {
                throw GeneratorError(
                    file: file.name, element: element,
                    "policy property '\(name)' is not declared (declare it on the method or in the service's default_policy)"
                )
            }
            guard !property.statement.isEmpty else {
                throw GeneratorError(file: file.name, element: element, "policy property '\(name)' needs a statement")
            }
        }
        let request = try index.message(method.inputType, from: file, element: element)

        if let authentication = policy.authentication {
            if authentication.notARisk {
                guard authentication.caller == .unspecified || authentication.caller == .anonymous, !authentication.secondFactor else {
                    throw problem(element, "authentication", "is 'not a risk' but also requires a caller or a second factor")
                }
            } else if authentication.caller == .unspecified {
                throw problem(element, "authentication", "names no caller (anonymous, local client, pending registration, logged-in user or operator)")
            }
        }
        if let authorization = policy.authorization, !authorization.ownedResourceField.isEmpty {
            try requireField(authorization.ownedResourceField, in: request, element: element, property: "authorization")
        }
        if let spam = policy.spamPrevention {
            for limit in spam.rateLimits {
                guard limit.key != .unspecified, limit.limit > 0, limit.periodSeconds > 0 else {
                    throw problem(element, "spam_prevention", "has a rate limit without a key, a limit or a period")
                }
                if limit.key == .requestField {
                    try requireField(limit.field, in: request, element: element, property: "spam_prevention")
                }
            }
        }
        for check in (policy.integrity?.checks ?? []) + (policy.confidentiality?.checks ?? []) {
            if case .sealedEnvelopeField(let field)? = check.kind {
                try requireField(field, in: request, element: element, property: "integrity/confidentiality")
            }
        }
        for (name, notARisk, hasRequirements) in [
            ("non_repudiation", policy.nonRepudiation?.notARisk == true, policy.nonRepudiation?.auditLog == true),
            ("spam_prevention", policy.spamPrevention?.notARisk == true,
             !(policy.spamPrevention?.rateLimits.isEmpty ?? true) || policy.spamPrevention?.proofOfWork != nil),
            ("authorization", policy.authorization?.notARisk == true, !(policy.authorization?.ownedResourceField.isEmpty ?? true)),
        ] where notARisk && hasRequirements {
            throw problem(element, name, "is 'not a risk' but also declares requirements")
        }
    }

    /// A dotted path of field names must lead through the request message.
    private func requireField(_ path: String, in message: SchemaIndex.Message, element: String, property: String) throws(GeneratorError) {
        var current = message
        let parts = path.split(separator: ".").map(String.init)
        guard !parts.isEmpty else { throw problem(element, property, "names an empty request field") }
        for (position, part) in parts.enumerated() {
            guard let field = current.descriptor.field.first(where: { $0.name == part }) else {
                throw problem(element, property, "names request field '\(path)', but \(current.fullName.dropFirst()) has no field '\(part)'")
            }
            if position < parts.count - 1 {
                guard field.type == .message, let next = index.messages[field.typeName ?? ""] else {
                    throw problem(element, property, "names request field '\(path)', but '\(part)' is not a message")
                }
                current = next
            }
        }
    }

    private func problem(_ element: String, _ property: String, _ message: String) -> GeneratorError {
        GeneratorError(file: file.name, element: element, "policy property '\(property)' \(message)")
    }
}
