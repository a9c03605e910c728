/// Renders a protobuf enum as a Swift enum. Open (proto3) enums get an `unrecognized` case that
/// keeps numbers this program does not know; closed (proto2) enums have a failable initializer.
struct EnumRenderer {
    let entry: SchemaIndex.Enum
    let index: SchemaIndex
    let visibility: String

    private var access: String { visibility.isEmpty ? "" : visibility + " " }

    func render(into printer: inout CodePrinter) {
        let name = entry.swiftName.split(separator: ".").last.map(String.init) ?? entry.swiftName
        let values = entry.descriptor.value
        let canonical = values.indices.filter { entry.canonicalIndex[$0] == $0 }
        printer.documentation(index.comment(in: entry.file, path: entry.sourcePath))
        printer.block("\(access)enum \(name): ProtobufEnum, CaseIterable") { printer in
            for valueIndex in canonical {
                printer.documentation(index.comment(in: entry.file, path: entry.sourcePath + [2, Int32(valueIndex)]))
                printer.line("case \(SwiftNaming.escaped(entry.caseNames[valueIndex]!)) // = \(values[valueIndex].number ?? 0)")
            }
            if !entry.isClosed {
                printer.line("/// A number this program's schema does not name, kept so that it is written back.")
                printer.line("case unrecognized(Int32)")
            }
            printer.line()
            for valueIndex in values.indices where entry.canonicalIndex[valueIndex] != valueIndex {
                guard let alias = entry.caseNames[valueIndex], let target = entry.caseNames[entry.canonicalIndex[valueIndex]] else {
                    continue
                }
                printer.line("/// An alias of ``\(target)``.")
                printer.line("\(access)static let \(SwiftNaming.escaped(alias)) = \(name).\(SwiftNaming.escaped(target))")
            }
            printer.line("\(access)static let isClosed = \(entry.isClosed)")
            let allCases = canonical.map { "." + SwiftNaming.escaped(entry.caseNames[$0]!) }.joined(separator: ", ")
            printer.line("\(access)static let allCases: [\(name)] = [\(allCases)]")
            printer.line()
            printer.line("\(access)init() { self = .\(SwiftNaming.escaped(entry.defaultCaseName)) }")
            printer.line()
            printer.block("\(access)init\(entry.isClosed ? "?" : "")(rawValue: Int32)") { printer in
                printer.switchBlock("rawValue") { printer in
                    for valueIndex in canonical {
                        printer.line("case \(values[valueIndex].number ?? 0): self = .\(SwiftNaming.escaped(entry.caseNames[valueIndex]!))")
                    }
                    printer.line(entry.isClosed ? "default: return nil" : "default: self = .unrecognized(rawValue)")
                }
            }
            printer.line()
            printer.block("\(access)var rawValue: Int32") { printer in
                printer.switchBlock("self") { printer in
                    for valueIndex in canonical {
                        printer.line("case .\(SwiftNaming.escaped(entry.caseNames[valueIndex]!)): \(values[valueIndex].number ?? 0)")
                    }
                    if !entry.isClosed { printer.line("case .unrecognized(let value): value") }
                }
            }
        }
    }
}
