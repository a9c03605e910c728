/// Renders one message: the struct declaration (with nested types inside) and, separately, the
/// extension that implements its codec.
struct MessageRenderer {
    let model: MessageModel
    let index: SchemaIndex
    let containment: ContainmentGraph
    let visibility: String
    /// Whether each message of the schema needs a required-field check, computed once per file.
    let needsInitializationCheck: (String) -> Bool

    private var access: String { visibility.isEmpty ? "" : visibility + " " }

    // MARK: Declaration

    func renderDeclaration(
        into printer: inout CodePrinter,
        nested: (inout CodePrinter) throws(GeneratorError) -> Void
    ) throws(GeneratorError) {
        let name = model.swiftName.split(separator: ".").last.map(String.init) ?? model.swiftName
        printer.documentation(index.comment(in: model.entry.file, path: model.entry.sourcePath))
        try printer.block("\(access)struct \(name): ProtobufMessage") { printer throws(GeneratorError) in
            for field in model.fields {
                renderStoredProperty(field, into: &printer)
            }
            for oneof in model.oneofs {
                printer.documentation(oneof.comment)
                printer.line("\(access)var \(SwiftNaming.escaped(oneof.swiftName)): \(oneof.typeName)? = nil")
            }
            printer.line("\(access)var unknownFields = ProtobufUnknownFields()")
            printer.line()
            printer.line("\(access)init() {}")
            for oneof in model.oneofs {
                printer.line()
                renderOneofEnum(oneof, into: &printer)
            }
            try nested(&printer)
        }
    }

    private func renderStoredProperty(_ field: MessageModel.Field, into printer: inout CodePrinter) {
        let name = SwiftNaming.escaped(field.swiftName)
        let type = field.kind.swiftType
        switch field.storage {
        case .implicit:
            printer.documentation(field.comment)
            printer.line("\(access)var \(name): \(type) = \(zeroValue(field.kind))")
        case .optional:
            printer.documentation(field.comment)
            printer.line("\(access)var \(name): \(type)? = nil")
        case .boxed:
            printer.documentation(field.comment)
            printer.block("\(access)var \(name): \(type)?") { printer in
                printer.line("get { self._\(field.swiftName)?.value }")
                printer.line("set { self._\(field.swiftName) = newValue.map(ProtobufIndirect.init) }")
            }
            printer.line("var _\(field.swiftName): ProtobufIndirect<\(type)>? = nil")
        case .repeated:
            printer.documentation(field.comment)
            printer.line("\(access)var \(name): [\(type)] = []")
        case .map(let key, let value):
            printer.documentation(field.comment)
            printer.line("\(access)var \(name): [\(key.swiftType): \(value.swiftType)] = [:]")
        case .oneofMember:
            return
        }
        if let explicitDefault = field.explicitDefault {
            printer.line("/// `\(field.swiftName)`, or its declared default `\(field.descriptor.defaultValue ?? "")` when unset.")
            printer.line("\(access)var \(field.swiftName)OrDefault: \(type) { self.\(name) ?? \(explicitDefault) }")
        }
    }

    private func zeroValue(_ kind: MessageModel.ValueKind) -> String {
        switch kind {
        case .scalar(let scalar): scalar.zeroLiteral
        case .enumeration: ".init()"
        case .message, .group: ".init()"
        }
    }

    private func renderOneofEnum(_ oneof: MessageModel.Oneof, into printer: inout CodePrinter) {
        printer.block("\(access)enum \(oneof.typeName): Hashable, Sendable") { printer in
            for member in oneof.members {
                let field = model.fields[member]
                printer.documentation(field.comment)
                var isIndirect = false
                if case .message(let target) = field.kind {
                    isIndirect = containment.reaches(from: target.fullName, to: model.entry.fullName)
                } else if case .group(let target) = field.kind {
                    isIndirect = containment.reaches(from: target.fullName, to: model.entry.fullName)
                }
                printer.line("\(isIndirect ? "indirect " : "")case \(SwiftNaming.escaped(field.swiftName))(\(field.kind.swiftType))")
            }
        }
    }

    // MARK: Codec

    func renderCodec(into printer: inout CodePrinter) {
        printer.block("extension \(model.swiftName)") { printer in
            printer.line("\(access)static let protobufMessageName = \(SwiftNaming.stringLiteral(model.fullName))")
            printer.line()
            renderIsInitialized(into: &printer)
            printer.line()
            renderSize(into: &printer)
            printer.line()
            renderEncode(into: &printer)
            printer.line()
            renderDecode(into: &printer)
        }
    }

    /// Fields in wire order; a oneof is visited once, at its lowest-numbered member.
    private enum Step {
        case field(MessageModel.Field)
        case oneof(MessageModel.Oneof)
    }

    private var steps: [Step] {
        var seenOneofs: Set<Int> = []
        var result: [Step] = []
        for field in model.fieldsByNumber {
            if case .oneofMember(let oneof) = field.storage {
                if seenOneofs.insert(oneof).inserted { result.append(.oneof(model.oneofs[oneof])) }
            } else {
                result.append(.field(field))
            }
        }
        return result
    }

    private func renderIsInitialized(into printer: inout CodePrinter) {
        guard needsInitializationCheck(model.entry.fullName) else {
            printer.line("\(access)var protobufIsInitialized: Bool { true }")
            return
        }
        printer.block("\(access)var protobufIsInitialized: Bool") { printer in
            for field in model.fieldsByNumber {
                let name = "self." + SwiftNaming.escaped(field.swiftName)
                if field.isRequired {
                    printer.line("if \(name) == nil { return false }")
                }
                guard let target = messageTarget(field.kind), needsInitializationCheck(target.fullName) else { continue }
                switch field.storage {
                case .optional, .boxed:
                    printer.line("if let value = \(name), !value.protobufIsInitialized { return false }")
                case .repeated:
                    printer.line("if \(name).contains(where: { !$0.protobufIsInitialized }) { return false }")
                case .oneofMember(let oneof):
                    let oneofName = "self." + SwiftNaming.escaped(model.oneofs[oneof].swiftName)
                    printer.line("if case .\(SwiftNaming.escaped(field.swiftName))(let value)? = \(oneofName), !value.protobufIsInitialized { return false }")
                case .implicit, .map:
                    break
                }
                if case .map(_, let value) = field.storage, let valueTarget = messageTarget(value),
                    needsInitializationCheck(valueTarget.fullName)
                {
                    printer.line("if \(name).values.contains(where: { !$0.protobufIsInitialized }) { return false }")
                }
            }
            printer.line("return true")
        }
    }

    private func messageTarget(_ kind: MessageModel.ValueKind) -> SchemaIndex.Message? {
        switch kind {
        case .message(let target), .group(let target): target
        default: nil
        }
    }

    // MARK: Size

    private func renderSize(into printer: inout CodePrinter) {
        let hasFields = !model.fields.isEmpty
        printer.block("\(access)func protobufSize(_ sizes: inout ProtobufSizeCache) -> Int") { printer in
            printer.line("\(hasFields ? "var" : "let") size = self.unknownFields.bytes.count")
            for step in steps {
                switch step {
                case .field(let field): renderFieldSize(field, into: &printer)
                case .oneof(let oneof):
                    printer.switchBlock("self.\(SwiftNaming.escaped(oneof.swiftName))") { printer in
                        for member in oneof.members {
                            let field = model.fields[member]
                            let size = valueSize(field.kind, "value", number: field.number)
                            let binding = size.contains("value") ? "(let value)" : ""
                            printer.line("case .\(SwiftNaming.escaped(field.swiftName))\(binding)?:")
                            printer.indent()
                            printer.line("size += \(tagSize(field.tag) + extraTagSize(field)) + \(size)")
                            printer.outdent()
                        }
                        printer.line("case nil: break")
                    }
                }
            }
            printer.line("return size")
        }
    }

    /// A group's end tag costs as much as its start tag.
    private func extraTagSize(_ field: MessageModel.Field) -> Int {
        if case .group = field.kind { return tagSize(field.tag) }
        return 0
    }

    private func tagSize(_ tag: UInt32) -> Int {
        var size = 1
        var value = tag >> 7
        while value != 0 {
            size += 1
            value >>= 7
        }
        return size
    }

    private func valueSize(_ kind: MessageModel.ValueKind, _ value: String, number: Int) -> String {
        switch kind {
        case .scalar(let scalar): scalar.size(of: value)
        case .enumeration: "ProtobufSize.int32(\(value).rawValue)"
        case .message: "sizes.message(\(value))"
        case .group: "sizes.group(\(value))"
        }
    }

    private func renderFieldSize(_ field: MessageModel.Field, into printer: inout CodePrinter) {
        let name = "self." + SwiftNaming.escaped(field.swiftName)
        let tagBytes = tagSize(field.tag) + extraTagSize(field)
        switch field.storage {
        case .implicit:
            printer.line("if \(nonDefaultCondition(field.kind, name)) { size += \(tagBytes) + \(valueSize(field.kind, name, number: field.number)) }")
        case .optional, .boxed:
            let size = valueSize(field.kind, "value", number: field.number)
            if size.contains("value") {
                printer.line("if let value = \(name) { size += \(tagBytes) + \(size) }")
            } else {
                printer.line("if \(name) != nil { size += \(tagBytes) + \(size) }")
            }
        case .repeated(let packed):
            if packed {
                let packedTagBytes = tagSize(field.packedTag)
                if case .scalar(let scalar) = field.kind, let fixed = scalar.fixedSize {
                    printer.line("if !\(name).isEmpty { size += \(packedTagBytes) + ProtobufSize.lengthDelimited(\(name).count * \(fixed)) }")
                } else {
                    printer.block("if !\(name).isEmpty") { printer in
                        printer.line("var payload = 0")
                        printer.line("for value in \(name) { payload += \(valueSize(field.kind, "value", number: field.number)) }")
                        printer.line("size += \(packedTagBytes) + sizes.record(payload)")
                    }
                }
            } else if case .scalar(let scalar) = field.kind, let fixed = scalar.fixedSize {
                printer.line("size += \(name).count * \(tagBytes + fixed)")
            } else if isIteratedInPlace(field.kind) {
                printer.block("\(name).withUnsafeBufferPointer { values in") { printer in
                    printer.line("for index in values.indices { size += \(tagBytes) + \(valueSize(field.kind, "values[index]", number: field.number)) }")
                }
            } else {
                printer.line("for value in \(name) { size += \(tagBytes) + \(valueSize(field.kind, "value", number: field.number)) }")
            }
        case .map(let key, let value):
            let keySize = valueSize(key, "key", number: 1)
            let entryValueSize = valueSize(value, "value", number: 2)
            let usesKey = keySize.contains("key")
            let usesValue = entryValueSize.contains("value")
            let pattern = usesKey || usesValue ? "(\(usesKey ? "key" : "_"), \(usesValue ? "value" : "_"))" : "_"
            printer.block("for \(pattern) in \(name)") { printer in
                printer.line("let slot = sizes.reserveSlot()")
                printer.line("let entry = \(tagSize(8 | key.wireType)) + \(keySize) + \(tagSize(16 | value.wireType)) + \(entryValueSize)")
                printer.line("sizes.fill(slot: slot, with: entry)")
                printer.line("size += \(tagBytes) + ProtobufSize.lengthDelimited(entry)")
            }
        case .oneofMember:
            break
        }
    }

    private func nonDefaultCondition(_ kind: MessageModel.ValueKind, _ value: String) -> String {
        switch kind {
        case .scalar(let scalar): scalar.isNonDefault(value)
        case .enumeration: "\(value).rawValue != 0"
        case .message, .group: "true"
        }
    }

    // MARK: Encode

    private func renderEncode(into printer: inout CodePrinter) {
        printer.block("\(access)func protobufEncode(to writer: inout ProtobufWriter)") { printer in
            for step in steps {
                switch step {
                case .field(let field): renderFieldEncode(field, into: &printer)
                case .oneof(let oneof):
                    printer.switchBlock("self.\(SwiftNaming.escaped(oneof.swiftName))") { printer in
                        for member in oneof.members {
                            let field = model.fields[member]
                            printer.line("case .\(SwiftNaming.escaped(field.swiftName))(let value)?:")
                            printer.indent()
                            printer.line("writer.writeTag(\(field.tag))")
                            printer.line(writeValue(field.kind, "value", number: field.number))
                            printer.outdent()
                        }
                        printer.line("case nil: break")
                    }
                }
            }
            printer.line("writer.writeUnknownFields(self.unknownFields)")
        }
    }

    private func writeValue(_ kind: MessageModel.ValueKind, _ value: String, number: Int) -> String {
        switch kind {
        case .scalar(let scalar): "writer.\(scalar.writeMethod)(\(value))"
        case .enumeration: "writer.writeInt32(\(value).rawValue)"
        case .message: "writer.writeMessage(\(value))"
        case .group: "writer.writeGroup(\(value), fieldNumber: \(number))"
        }
    }

    private func renderFieldEncode(_ field: MessageModel.Field, into printer: inout CodePrinter) {
        let name = "self." + SwiftNaming.escaped(field.swiftName)
        switch field.storage {
        case .implicit:
            printer.block("if \(nonDefaultCondition(field.kind, name))") { printer in
                printer.line("writer.writeTag(\(field.tag))")
                printer.line(writeValue(field.kind, name, number: field.number))
            }
        case .optional, .boxed:
            printer.block("if let value = \(name)") { printer in
                printer.line("writer.writeTag(\(field.tag))")
                printer.line(writeValue(field.kind, "value", number: field.number))
            }
        case .repeated(let packed):
            if packed {
                printer.block("if !\(name).isEmpty") { printer in
                    printer.line("writer.writeTag(\(field.packedTag))")
                    if case .scalar(let scalar) = field.kind, let fixed = scalar.packedFixed {
                        printer.line("writer.writePackedFixed\(fixed.width * 8)(\(name), \(fixed.toBits))")
                        return
                    }
                    if case .scalar(let scalar) = field.kind, let fixed = scalar.fixedSize {
                        printer.line("writer.writeVarint(UInt64(\(name).count * \(fixed)))")
                    } else {
                        printer.line("writer.writeRecordedLength()")
                    }
                    printer.line("for value in \(name) { \(writeValue(field.kind, "value", number: field.number)) }")
                }
            } else if isIteratedInPlace(field.kind) {
                printer.block("\(name).withUnsafeBufferPointer { values in") { printer in
                    printer.block("for index in values.indices") { printer in
                        printer.line("writer.writeTag(\(field.tag))")
                        printer.line(writeValue(field.kind, "values[index]", number: field.number))
                    }
                }
            } else {
                printer.block("for value in \(name)") { printer in
                    printer.line("writer.writeTag(\(field.tag))")
                    printer.line(writeValue(field.kind, "value", number: field.number))
                }
            }
        case .map(let key, let value):
            printer.block("for (key, value) in \(name)") { printer in
                printer.line("writer.writeTag(\(field.tag))")
                printer.line("writer.writeRecordedLength()")
                printer.line("writer.writeTag(\(8 | key.wireType))")
                printer.line(writeValue(key, "key", number: 1))
                printer.line("writer.writeTag(\(16 | value.wireType))")
                printer.line(writeValue(value, "value", number: 2))
            }
        case .oneofMember:
            break
        }
    }

    // MARK: Decode

    private func renderDecode(into printer: inout CodePrinter) {
        printer.block("\(access)mutating func protobufDecode(from reader: inout ProtobufReader) throws(ProtobufError)") { printer in
            printer.block("while let tag = try reader.nextTag()") { printer in
                guard !model.fields.isEmpty else {
                    printer.line("try reader.skipField(tag, into: &self.unknownFields)")
                    return
                }
                printer.switchBlock("tag.rawValue") { printer in
                    for field in model.fieldsByNumber {
                        renderFieldDecode(field, into: &printer)
                    }
                    printer.line("default:")
                    printer.indent()
                    printer.line("try reader.skipField(tag, into: &self.unknownFields)")
                    printer.outdent()
                }
            }
        }
    }

    /// Reads one value into `target` (an assignment target expression); closed enums with an
    /// unknown number keep it among the unknown fields instead.
    private func readValue(
        _ kind: MessageModel.ValueKind,
        number: Int,
        assign: (String) -> String,
        into printer: inout CodePrinter,
        reader: String = "reader",
        existing: String? = nil,
        release: String? = nil
    ) {
        switch kind {
        case .scalar(let scalar):
            printer.line(assign("try \(reader).\(scalar.readMethod)()"))
        case .enumeration(let enumeration):
            if enumeration.isClosed {
                printer.line("let raw = try \(reader).readInt32()")
                printer.block("if let value = \(enumeration.swiftName)(rawValue: raw)") { printer in
                    printer.line(assign("value"))
                }
                printer.block("else") { printer in
                    printer.line("\(reader).keepUnknownEnumValue(raw, fieldNumber: \(number), in: &self.unknownFields)")
                }
            } else {
                printer.line(assign("\(enumeration.swiftName)(rawValue: try \(reader).readInt32())"))
            }
        case .message(let message):
            printer.line("var value = \(existing ?? "\(message.swiftName)()")")
            if let release { printer.line(release) }
            printer.line("try \(reader).readMessage(into: &value)")
            printer.line(assign("value"))
        case .group(let message):
            printer.line("var value = \(existing ?? "\(message.swiftName)()")")
            if let release { printer.line(release) }
            printer.line("try \(reader).readGroup(into: &value, fieldNumber: \(number))")
            printer.line(assign("value"))
        }
    }

    private func renderFieldDecode(_ field: MessageModel.Field, into printer: inout CodePrinter) {
        let name = "self." + SwiftNaming.escaped(field.swiftName)
        printer.line("case \(field.tag):")
        printer.indent()
        defer { printer.outdent() }
        switch field.storage {
        case .implicit, .optional, .boxed:
            // A repeated occurrence merges into the value so far. The field lets go of it while
            // it is decoded, so the value's storage is unique and merging does not copy it:
            // otherwise N occurrences cost O(N^2).
            readValue(field.kind, number: field.number, assign: { "\(name) = \($0)" }, into: &printer,
                      existing: "\(name) ?? .init()", release: "\(name) = nil")
        case .repeated:
            printer.line("reader.reserveRepeated(&\(name), tag: \(field.tag))")
            readValue(field.kind, number: field.number, assign: { "\(name).append(\($0))" }, into: &printer)
            if isPackable(field.kind) {
                printer.outdent()
                printer.line("case \(field.packedTag):")
                printer.indent()
                switch field.kind {
                case .scalar(let scalar):
                    if let fixed = scalar.packedFixed {
                        printer.line("try reader.readPackedFixed\(fixed.width * 8)(into: &\(name)) \(fixed.fromBits)")
                    } else if let convert = scalar.fromVarint {
                        printer.line("try reader.readPackedVarints(into: &\(name)) \(convert)")
                    }
                case .enumeration(let enumeration) where enumeration.isClosed:
                    printer.line("try reader.readPackedClosedEnum(into: &\(name), fieldNumber: \(field.number), unknownFields: &self.unknownFields)")
                case .enumeration(let enumeration):
                    printer.line("try reader.readPackedVarints(into: &\(name)) { \(enumeration.swiftName)(rawValue: Int32(truncatingIfNeeded: $0)) }")
                default:
                    break
                }
            }
        case .map(let key, let value):
            let closedValue: Bool
            if case .enumeration(let enumeration) = value, enumeration.isClosed { closedValue = true } else { closedValue = false }
            if closedValue {
                printer.line("let entryStart = reader.fieldStart")
                printer.line("var isKnown = true")
            }
            printer.line("var key: \(key.swiftType) = \(zeroValue(key))")
            printer.line("var value: \(value.swiftType) = \(zeroValue(value))")
            printer.block("try reader.readMapEntry { reader, tag throws(ProtobufError) in") { printer in
                printer.switchBlock("tag.rawValue") { printer in
                    printer.line("case \(8 | key.wireType):")
                    printer.indent()
                    readValue(key, number: 1, assign: { "key = \($0)" }, into: &printer)
                    printer.outdent()
                    printer.line("case \(16 | value.wireType):")
                    printer.indent()
                    switch value {
                    case .message:
                        printer.line("try reader.readMessage(into: &value)")
                    case .enumeration(let enumeration) where enumeration.isClosed:
                        printer.line("let raw = try reader.readInt32()")
                        printer.line("if let known = \(enumeration.swiftName)(rawValue: raw) { value = known } else { isKnown = false }")
                    default:
                        readValue(value, number: 2, assign: { "value = \($0)" }, into: &printer)
                    }
                    printer.outdent()
                    printer.line("default:")
                    printer.indent()
                    printer.line("try reader.skipField(tag)")
                    printer.outdent()
                }
            }
            if closedValue {
                printer.line("if isKnown { \(name)[key] = value } else { reader.captureField(since: entryStart, into: &self.unknownFields) }")
            } else {
                printer.line("\(name)[key] = value")
            }
        case .oneofMember(let oneofIndex):
            let oneof = "self." + SwiftNaming.escaped(model.oneofs[oneofIndex].swiftName)
            let caseName = SwiftNaming.escaped(field.swiftName)
            var existing: String?
            var release: String?
            if messageTarget(field.kind) != nil {
                // As for singular fields: take the value out of the oneof before merging into it.
                existing = "\(field.kind.swiftType)()"
                release = "if case .\(caseName)(let existing)? = \(oneof) { value = existing; \(oneof) = nil }"
            }
            readValue(field.kind, number: field.number, assign: { "\(oneof) = .\(caseName)(\($0))" }, into: &printer,
                      existing: existing, release: release)
        }
    }

    /// Repeated fields whose elements hold references are iterated through their buffer, so that
    /// each element is lent to the size and write calls rather than copied (retained and released).
    private func isIteratedInPlace(_ kind: MessageModel.ValueKind) -> Bool {
        switch kind {
        case .scalar(let scalar): scalar.isReferenceCounted
        case .enumeration: false
        case .message, .group: true
        }
    }

    private func isPackable(_ kind: MessageModel.ValueKind) -> Bool {
        switch kind {
        case .scalar(let scalar): scalar.isPackable
        case .enumeration: true
        case .message, .group: false
        }
    }
}
