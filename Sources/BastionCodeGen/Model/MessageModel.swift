/// A message as the renderer needs it: its fields with Swift names, storage and wire details.
struct MessageModel {
    enum ValueKind {
        case scalar(ScalarType)
        case enumeration(SchemaIndex.Enum)
        case message(SchemaIndex.Message)
        case group(SchemaIndex.Message)

        var swiftType: String {
            switch self {
            case .scalar(let scalar): scalar.swiftType
            case .enumeration(let enumeration): enumeration.swiftName
            case .message(let message), .group(let message): message.swiftName
            }
        }

        var wireType: UInt32 {
            switch self {
            case .scalar(let scalar): scalar.wireType
            case .enumeration: 0
            case .message: 2
            case .group: 3
            }
        }
    }

    enum Storage {
        /// proto3 singular without presence: a plain value, written when not the default.
        case implicit
        /// A field with presence: `T?`.
        case optional
        /// A message field that (indirectly) contains its own message: `T?` kept on the heap.
        case boxed
        case repeated(packed: Bool)
        case map(key: ValueKind, value: ValueKind)
        /// A member of a real oneof: the index into ``MessageModel/oneofs``.
        case oneofMember(Int)
    }

    struct Field {
        let descriptor: Google_Protobuf_FieldDescriptorProto
        let number: Int
        /// The Swift property (or oneof case) name, unescaped.
        let swiftName: String
        let kind: ValueKind
        let storage: Storage
        let isRequired: Bool
        /// A proto2 `[default = …]` as a Swift literal.
        let explicitDefault: String?
        let comment: String?

        var tag: UInt32 { UInt32(number) << 3 | kind.wireType }
        var packedTag: UInt32 { UInt32(number) << 3 | 2 }
    }

    struct Oneof {
        let swiftName: String
        let typeName: String
        var members: [Int] = []
        let comment: String?
    }

    let entry: SchemaIndex.Message
    /// Fields in declaration order.
    var fields: [Field] = []
    var oneofs: [Oneof] = []
    /// Swift names of nested types (messages, enums, oneof enums), to avoid collisions.
    var nestedTypeNames: Set<String> = []

    var swiftName: String { entry.swiftName }
    var fullName: String { String(entry.fullName.dropFirst()) }
    var fieldsByNumber: [Field] { fields.sorted { $0.number < $1.number } }

    init(_ entry: SchemaIndex.Message, index: SchemaIndex, containment: ContainmentGraph) throws(GeneratorError) {
        self.entry = entry
        let descriptor = entry.descriptor
        let file = entry.file
        let isProto3 = file.syntax == "proto3"

        for nested in descriptor.nestedType where nested.options?.mapEntry != true {
            nestedTypeNames.insert(SchemaIndex.nestedName(nested.name ?? "", isEnum: false))
        }
        for nested in descriptor.enumType {
            nestedTypeNames.insert(SchemaIndex.nestedName(nested.name ?? "", isEnum: true))
        }

        var usedMemberNames = SwiftNaming.reservedMemberNames
        func memberName(_ protoName: String, number: Int) -> String {
            var name = SwiftNaming.lowerCamel(protoName)
            if usedMemberNames.contains(name) || name.hasSuffix("OrDefault") { name += "_\(number)" }
            usedMemberNames.insert(name)
            return name
        }

        // Real oneofs (proto3 `optional` makes synthetic ones, which are plain optionals here).
        var oneofIndexMap: [Int: Int] = [:]
        for (oneofIndex, oneof) in descriptor.oneofDecl.enumerated() {
            let members = descriptor.field.filter { $0.oneofIndex == Int32(oneofIndex) && $0.proto3Optional != true }
            guard !members.isEmpty else { continue }
            var typeName = SwiftNaming.upperCamel(oneof.name ?? "")
            if nestedTypeNames.contains(typeName) || SwiftNaming.reservedTypeNames.contains(typeName) {
                typeName += "Oneof"
            }
            nestedTypeNames.insert(typeName)
            oneofIndexMap[oneofIndex] = oneofs.count
            oneofs.append(Oneof(
                swiftName: memberName(oneof.name ?? "", number: oneofIndex),
                typeName: typeName,
                comment: index.comment(in: file, path: entry.sourcePath + [8, Int32(oneofIndex)])
            ))
        }

        for (fieldIndex, field) in descriptor.field.enumerated() {
            let number = Int(field.number ?? 0)
            let element = "\(fullName).\(field.name ?? "?")"
            guard let type = field.type else {
                throw GeneratorError(file: file.name, element: element, "field has no type")
            }
            let kind: ValueKind
            switch type {
            case .message:
                kind = .message(try index.message(field.typeName, from: file, element: element))
            case .group:
                kind = .group(try index.message(field.typeName, from: file, element: element))
            case .enum:
                kind = .enumeration(try index.enumeration(field.typeName, from: file, element: element))
            default:
                guard let scalar = ScalarType(type) else {
                    throw GeneratorError(file: file.name, element: element, "field has an unknown type")
                }
                kind = .scalar(scalar)
            }

            let storage: Storage
            var explicitDefault: String?
            if field.label == .repeated {
                if case .message(let entryType) = kind, entryType.isMapEntry {
                    let keyField = entryType.descriptor.field.first { $0.number == 1 }
                    let valueField = entryType.descriptor.field.first { $0.number == 2 }
                    guard let keyField, let valueField, let keyType = keyField.type.flatMap(ScalarType.init) else {
                        throw GeneratorError(file: file.name, element: element, "map entry lacks a scalar key or a value")
                    }
                    let valueKind: ValueKind
                    switch valueField.type {
                    case .message?: valueKind = .message(try index.message(valueField.typeName, from: file, element: element))
                    case .enum?: valueKind = .enumeration(try index.enumeration(valueField.typeName, from: file, element: element))
                    case let type?:
                        guard let scalar = ScalarType(type) else {
                            throw GeneratorError(file: file.name, element: element, "map value has an unknown type")
                        }
                        valueKind = .scalar(scalar)
                    case nil:
                        throw GeneratorError(file: file.name, element: element, "map value has no type")
                    }
                    storage = .map(key: .scalar(keyType), value: valueKind)
                } else {
                    let packable: Bool
                    switch kind {
                    case .scalar(let scalar): packable = scalar.isPackable
                    case .enumeration: packable = true
                    case .message, .group: packable = false
                    }
                    let packed = packable && (field.options?.packed ?? isProto3)
                    storage = .repeated(packed: packed)
                }
            } else if let oneofIndex = field.oneofIndex, let modelIndex = oneofIndexMap[Int(oneofIndex)] {
                storage = .oneofMember(modelIndex)
            } else {
                switch kind {
                case .message(let target), .group(let target):
                    storage = containment.reaches(from: target.fullName, to: entry.fullName) ? .boxed : .optional
                case .scalar, .enumeration:
                    storage = (isProto3 && field.proto3Optional != true) ? .implicit : .optional
                }
                if let text = field.defaultValue {
                    explicitDefault = try Self.defaultLiteral(text, kind: kind, file: file, element: element)
                }
            }

            let model = Field(
                descriptor: field,
                number: number,
                swiftName: memberName(field.name ?? "", number: number),
                kind: kind,
                storage: storage,
                isRequired: field.label == .required,
                explicitDefault: explicitDefault,
                comment: index.comment(in: file, path: entry.sourcePath + [2, Int32(fieldIndex)])
            )
            if case .oneofMember(let oneof) = storage { oneofs[oneof].members.append(fields.count) }
            fields.append(model)
        }
    }

    /// A proto2 default as a Swift literal of the field's type.
    static func defaultLiteral(
        _ text: String,
        kind: ValueKind,
        file: Google_Protobuf_FileDescriptorProto,
        element: String
    ) throws(GeneratorError) -> String {
        switch kind {
        case .scalar(let scalar):
            switch scalar {
            case .string: return SwiftNaming.stringLiteral(text)
            case .bytes:
                guard let bytes = CEscapes.unescape(text) else {
                    throw GeneratorError(file: file.name, element: element, "default bytes value is not valid C escaping")
                }
                return "[" + bytes.map(String.init).joined(separator: ", ") + "]"
            case .bool: return text == "true" ? "true" : "false"
            case .float, .double:
                switch text {
                case "inf": return ".infinity"
                case "-inf": return "-.infinity"
                case "nan": return ".nan"
                default: return text
                }
            default: return text
            }
        case .enumeration(let enumeration):
            guard let index = enumeration.descriptor.value.firstIndex(where: { $0.name == text }),
                let name = enumeration.caseNames[enumeration.canonicalIndex[index]]
            else {
                throw GeneratorError(file: file.name, element: element, "default names no value of \(enumeration.fullName)")
            }
            return "." + SwiftNaming.escaped(name)
        case .message, .group:
            throw GeneratorError(file: file.name, element: element, "message fields cannot have defaults")
        }
    }
}

/// Which messages contain which by value (singular message fields and oneof cases), to find the
/// fields that must live on the heap so that a message can contain itself.
struct ContainmentGraph {
    private var edges: [String: [String]] = [:]
    private var cache: [String: Set<String>] = [:]

    init(index: SchemaIndex, messages: [SchemaIndex.Message]) {
        for message in messages {
            edges[message.fullName] = message.descriptor.field.compactMap { field in
                guard field.label != .repeated, field.type == .message || field.type == .group else { return nil }
                return field.typeName
            }
        }
        for name in edges.keys { cache[name] = reachable(from: name) }
    }

    private func reachable(from start: String) -> Set<String> {
        var seen: Set<String> = []
        var stack = [start]
        while let next = stack.popLast() {
            for target in edges[next] ?? [] where !seen.contains(target) {
                seen.insert(target)
                stack.append(target)
            }
        }
        return seen
    }

    /// Whether `from` contains `to` by value, directly or through other messages (or is it).
    func reaches(from: String, to: String) -> Bool {
        from == to || cache[from]?.contains(to) == true
    }
}

/// Decodes the C escapes protoc uses for `bytes` defaults (`\n`, `\\`, `\'`, `\"`, `\ooo`, `\xhh`).
enum CEscapes {
    static func unescape(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < input.count {
            let byte = input[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            guard index < input.count else { return nil }
            let escape = input[index]
            index += 1
            switch escape {
            case UInt8(ascii: "n"): output.append(10)
            case UInt8(ascii: "r"): output.append(13)
            case UInt8(ascii: "t"): output.append(9)
            case UInt8(ascii: "a"): output.append(7)
            case UInt8(ascii: "b"): output.append(8)
            case UInt8(ascii: "f"): output.append(12)
            case UInt8(ascii: "v"): output.append(11)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): output.append(escape)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(escape - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(input[index]) {
                    value = value * 8 + Int(input[index] - UInt8(ascii: "0"))
                    index += 1
                    digits += 1
                }
                output.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                var value = 0
                var digits = 0
                while digits < 2, index < input.count, let digit = hexValue(input[index]) {
                    value = value * 16 + digit
                    index += 1
                    digits += 1
                }
                guard digits > 0 else { return nil }
                output.append(UInt8(value))
            default:
                return nil
            }
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }
}
