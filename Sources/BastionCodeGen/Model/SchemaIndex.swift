/// Every message and enum of a CodeGeneratorRequest, indexed by full protobuf name, with the
/// Swift names the generator gives them.
struct SchemaIndex {
    struct Message {
        let descriptor: Google_Protobuf_DescriptorProto
        let file: Google_Protobuf_FileDescriptorProto
        /// `.package.Outer.Inner`, as field `type_name`s spell it.
        let fullName: String
        /// The Swift type path: `Package_Outer.Inner`.
        let swiftName: String
        /// Its path in the file's SourceCodeInfo, for comments.
        let sourcePath: [Int32]

        var isMapEntry: Bool { descriptor.options?.mapEntry == true }
    }

    struct Enum {
        let descriptor: Google_Protobuf_EnumDescriptorProto
        let file: Google_Protobuf_FileDescriptorProto
        let fullName: String
        let swiftName: String
        let sourcePath: [Int32]
        /// Proto2 enums are closed: unknown values go to unknown fields.
        let isClosed: Bool
        /// Swift case names by value index; aliases (repeated numbers) are nil.
        let caseNames: [String?]
        /// For every value index, the case it denotes (the first value with the same number).
        let canonicalIndex: [Int]

        var defaultCaseName: String { caseNames[0]! }
    }

    private(set) var messages: [String: Message] = [:]
    private(set) var enums: [String: Enum] = [:]
    private(set) var files: [String: Google_Protobuf_FileDescriptorProto] = [:]

    init(files: [Google_Protobuf_FileDescriptorProto]) throws(GeneratorError) {
        for file in files {
            let fileName = file.name ?? ""
            self.files[fileName] = file
            let prefix = SwiftNaming.typePrefix(package: file.package ?? "", swiftPrefix: file.options?.swiftPrefix)
            let scope = (file.package ?? "").isEmpty ? "" : "." + (file.package ?? "")
            for (index, message) in file.messageType.enumerated() {
                try addMessage(
                    message, file: file, scope: scope, swiftName: Self.topLevelName(message.name ?? "", prefix: prefix, isEnum: false),
                    sourcePath: [4, Int32(index)]
                )
            }
            for (index, enumeration) in file.enumType.enumerated() {
                try addEnum(
                    enumeration, file: file, scope: scope,
                    swiftName: Self.topLevelName(enumeration.name ?? "", prefix: prefix, isEnum: true),
                    sourcePath: [5, Int32(index)]
                )
            }
        }
    }

    private static func topLevelName(_ name: String, prefix: String, isEnum: Bool) -> String {
        let candidate = prefix + name
        return SwiftNaming.reservedTypeNames.contains(candidate) ? candidate + (isEnum ? "Enum" : "Message") : candidate
    }

    /// Nested type names: Swift gives `Type`, `Protocol` and `Self` their own meaning after a dot.
    static func nestedName(_ name: String, isEnum: Bool) -> String {
        SwiftNaming.reservedTypeNames.contains(name) ? name + (isEnum ? "Enum" : "Message") : name
    }

    private mutating func addMessage(
        _ message: Google_Protobuf_DescriptorProto,
        file: Google_Protobuf_FileDescriptorProto,
        scope: String,
        swiftName: String,
        sourcePath: [Int32]
    ) throws(GeneratorError) {
        let fullName = scope + "." + (message.name ?? "")
        messages[fullName] = Message(
            descriptor: message, file: file, fullName: fullName, swiftName: swiftName, sourcePath: sourcePath
        )
        for (index, nested) in message.nestedType.enumerated() {
            try addMessage(
                nested, file: file, scope: fullName,
                swiftName: swiftName + "." + Self.nestedName(nested.name ?? "", isEnum: false),
                sourcePath: sourcePath + [3, Int32(index)]
            )
        }
        for (index, nested) in message.enumType.enumerated() {
            try addEnum(
                nested, file: file, scope: fullName,
                swiftName: swiftName + "." + Self.nestedName(nested.name ?? "", isEnum: true),
                sourcePath: sourcePath + [4, Int32(index)]
            )
        }
    }

    private mutating func addEnum(
        _ enumeration: Google_Protobuf_EnumDescriptorProto,
        file: Google_Protobuf_FileDescriptorProto,
        scope: String,
        swiftName: String,
        sourcePath: [Int32]
    ) throws(GeneratorError) {
        let fullName = scope + "." + (enumeration.name ?? "")
        guard !enumeration.value.isEmpty else {
            throw GeneratorError(file: file.name, element: fullName, "an enum needs at least one value")
        }
        var caseNames: [String?] = []
        var canonicalIndex: [Int] = []
        var used: Set<String> = ["unrecognized", "allCases", "rawValue"]
        var firstIndexByNumber: [Int32: Int] = [:]
        for (index, value) in enumeration.value.enumerated() {
            let number = value.number ?? 0
            var name = SwiftNaming.enumCaseName(value: value.name ?? "", enumName: enumeration.name ?? "")
            if used.contains(name) { name += "_\(number < 0 ? "neg\(-Int(number))" : "\(number)")" }
            if let first = firstIndexByNumber[number] {
                // An alias: a static constant naming the first case with this number, when the
                // name is free; otherwise it is simply not given a Swift name.
                canonicalIndex.append(first)
                caseNames.append(used.contains(name) ? nil : name)
            } else {
                firstIndexByNumber[number] = index
                canonicalIndex.append(index)
                caseNames.append(name)
            }
            if let last = caseNames.last, let last { used.insert(last) }
        }
        enums[fullName] = Enum(
            descriptor: enumeration, file: file, fullName: fullName, swiftName: swiftName, sourcePath: sourcePath,
            isClosed: file.syntax != "proto3", caseNames: caseNames, canonicalIndex: canonicalIndex
        )
    }

    /// The message named by a field's `type_name`; `element` names the field for error messages.
    func message(
        _ typeName: String?,
        from file: Google_Protobuf_FileDescriptorProto,
        element: String? = nil
    ) throws(GeneratorError) -> Message {
        guard let typeName, let message = messages[typeName] else {
            throw GeneratorError(
                file: file.name, element: element ?? typeName,
                "refers to message type \(typeName ?? "?"), which protoc did not describe"
            )
        }
        return message
    }

    func enumeration(
        _ typeName: String?,
        from file: Google_Protobuf_FileDescriptorProto,
        element: String? = nil
    ) throws(GeneratorError) -> Enum {
        guard let typeName, let enumeration = enums[typeName] else {
            throw GeneratorError(
                file: file.name, element: element ?? typeName,
                "refers to enum type \(typeName ?? "?"), which protoc did not describe"
            )
        }
        return enumeration
    }

    /// The leading comment of the element at `path` in `file`, if the file kept source info.
    func comment(in file: Google_Protobuf_FileDescriptorProto, path: [Int32]) -> String? {
        file.sourceCodeInfo?.location.first(where: { $0.path == path })?.leadingComments
    }
}
