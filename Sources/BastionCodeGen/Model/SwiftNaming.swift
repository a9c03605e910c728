/// How protobuf names become Swift names. The rules are documented in docs/CODEGEN.md.
enum SwiftNaming {
    /// Swift keywords: a field or case with one of these names is written in backticks.
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
        "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
        "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
        "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self",
        "super", "throws", "true", "try", "Type", "Protocol", "associativity", "convenience", "dynamic",
        "didSet", "final", "get", "indirect", "infix", "lazy", "left", "mutating", "none", "nonmutating",
        "optional", "override", "postfix", "precedence", "prefix", "required", "right", "set", "some",
        "unowned", "weak", "willSet", "package", "consume", "copy", "borrowing", "consuming", "actor",
        "async", "each", "any", "macro", "_",
    ]

    /// Type names that would collide with Swift's own meaning of a nested name (`Foo.Type`), or
    /// with standard-library types when a message has no package prefix.
    static let reservedTypeNames: Set<String> = [
        "Type", "Protocol", "Self", "Any", "String", "Int32", "Int64", "UInt32", "UInt64", "Bool", "Float",
        "Double", "UInt8", "Int", "Sendable", "Hashable", "Equatable", "CaseIterable",
    ]

    /// Member names the generated code itself uses on every message.
    static let reservedMemberNames: Set<String> = [
        "unknownFields", "protobufIsInitialized", "protobufMessageName", "hashValue", "init", "self",
        "protobufSize", "protobufEncode", "protobufDecode", "serializedBytes", "serializedSize",
    ]

    /// Words of a protobuf identifier, split at underscores.
    static func words(_ name: String) -> [String] {
        name.split(separator: "_").map(String.init)
    }

    /// `optional_nested_message` → `optionalNestedMessage`; `FIELD_NAME11` → `fieldName11`.
    static func lowerCamel(_ name: String) -> String {
        let parts = words(name)
        guard !parts.isEmpty else { return "_" }
        var result = ""
        for (index, word) in parts.enumerated() {
            let normalized = isAllUppercase(word) ? word.lowercased() : word
            if index == 0 {
                result += normalized.prefix(1).lowercased() + normalized.dropFirst()
            } else {
                result += normalized.prefix(1).uppercased() + normalized.dropFirst()
            }
        }
        return result
    }

    /// `oneof_field` → `OneofField`; `bastion.rpc.v1` component `rpc` → `Rpc`.
    static func upperCamel(_ name: String) -> String {
        let camel = lowerCamel(name)
        return camel.prefix(1).uppercased() + camel.dropFirst()
    }

    static func isAllUppercase(_ word: String) -> Bool {
        word.contains(where: \.isLetter) && !word.contains(where: \.isLowercase)
    }

    /// The prefix of top-level types: the file's `swift_prefix`, else its package in upper camel
    /// case joined with underscores (`bastion.rpc.v1` → `Bastion_Rpc_V1_`).
    static func typePrefix(package: String, swiftPrefix: String?) -> String {
        if let swiftPrefix { return swiftPrefix }
        guard !package.isEmpty else { return "" }
        return package.split(separator: ".").map { upperCamel(String($0)) }.joined(separator: "_") + "_"
    }

    /// A declared identifier, in backticks when Swift reserves it.
    static func escaped(_ identifier: String) -> String {
        keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// An enum case name from a value name, without the enum's own name as prefix
    /// (`TYPE_DOUBLE` in enum `Type` → `double`).
    static func enumCaseName(value: String, enumName: String) -> String {
        let prefix = words(enumName.uppercased() == enumName ? enumName : snakeCase(enumName))
            .map { $0.uppercased() }.joined(separator: "_") + "_"
        var stripped = value
        if value.uppercased().hasPrefix(prefix), value.count > prefix.count {
            let rest = String(value.dropFirst(prefix.count))
            if let first = rest.first, first.isLetter { stripped = rest }
        }
        return lowerCamel(stripped)
    }

    /// `ForeignEnum` → `FOREIGN_ENUM`, to recognise value prefixes.
    static func snakeCase(_ camel: String) -> String {
        var result = ""
        for character in camel {
            if character.isUppercase, !result.isEmpty, result.last != "_" { result += "_" }
            result += character.uppercased()
        }
        return result
    }

    /// Swift string literal for arbitrary text.
    static func stringLiteral(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
