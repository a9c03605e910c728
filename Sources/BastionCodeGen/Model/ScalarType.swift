/// The fifteen protobuf scalar types and how generated code reads, writes and sizes each.
enum ScalarType: Equatable {
    case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, bytes, uint32
    case sfixed32, sfixed64, sint32, sint64

    init?(_ type: Google_Protobuf_FieldDescriptorProto.TypeEnum) {
        switch type {
        case .double: self = .double
        case .float: self = .float
        case .int64: self = .int64
        case .uint64: self = .uint64
        case .int32: self = .int32
        case .fixed64: self = .fixed64
        case .fixed32: self = .fixed32
        case .bool: self = .bool
        case .string: self = .string
        case .bytes: self = .bytes
        case .uint32: self = .uint32
        case .sfixed32: self = .sfixed32
        case .sfixed64: self = .sfixed64
        case .sint32: self = .sint32
        case .sint64: self = .sint64
        default: return nil
        }
    }

    var swiftType: String {
        switch self {
        case .double: "Double"
        case .float: "Float"
        case .int64, .sint64, .sfixed64: "Int64"
        case .uint64, .fixed64: "UInt64"
        case .int32, .sint32, .sfixed32: "Int32"
        case .uint32, .fixed32: "UInt32"
        case .bool: "Bool"
        case .string: "String"
        case .bytes: "[UInt8]"
        }
    }

    var zeroLiteral: String {
        switch self {
        case .bool: "false"
        case .string: "\"\""
        case .bytes: "[]"
        default: "0"
        }
    }

    var wireType: UInt32 {
        switch self {
        case .double, .fixed64, .sfixed64: 1
        case .float, .fixed32, .sfixed32: 5
        case .string, .bytes: 2
        default: 0
        }
    }

    /// Bytes per value for fixed-width types.
    var fixedSize: Int? {
        switch self {
        case .double, .fixed64, .sfixed64: 8
        case .float, .fixed32, .sfixed32: 4
        case .bool: 1
        default: nil
        }
    }

    var isPackable: Bool { self != .string && self != .bytes }

    /// Whether values are reference-counted (`String`, `[UInt8]`): repeated fields of them are
    /// iterated in place so that no element is retained and released per value.
    var isReferenceCounted: Bool { self == .string || self == .bytes }

    /// For the 4- and 8-byte types: the width and a closure turning the raw little-endian bits
    /// into the Swift value and back. Packed fields of them are copied as one block.
    var packedFixed: (width: Int, fromBits: String, toBits: String)? {
        switch self {
        case .fixed32: (4, "{ $0 }", "{ $0 }")
        case .sfixed32: (4, "{ Int32(bitPattern: $0) }", "{ UInt32(bitPattern: $0) }")
        case .float: (4, "{ Float(bitPattern: $0) }", "{ $0.bitPattern }")
        case .fixed64: (8, "{ $0 }", "{ $0 }")
        case .sfixed64: (8, "{ Int64(bitPattern: $0) }", "{ UInt64(bitPattern: $0) }")
        case .double: (8, "{ Double(bitPattern: $0) }", "{ $0.bitPattern }")
        default: nil
        }
    }

    /// For varint types: a closure from the raw varint (`UInt64`) to the Swift value, as the
    /// `read…` methods convert it.
    var fromVarint: String? {
        switch self {
        case .int32: "{ Int32(truncatingIfNeeded: $0) }"
        case .int64: "{ Int64(bitPattern: $0) }"
        case .uint32: "{ UInt32(truncatingIfNeeded: $0) }"
        case .uint64: "{ $0 }"
        case .sint32: "{ ZigZag.decode(UInt32(truncatingIfNeeded: $0)) }"
        case .sint64: "{ ZigZag.decode($0) }"
        case .bool: "{ $0 != 0 }"
        default: nil
        }
    }

    var readMethod: String {
        switch self {
        case .double: "readDouble"
        case .float: "readFloat"
        case .int64: "readInt64"
        case .uint64: "readUInt64"
        case .int32: "readInt32"
        case .fixed64: "readFixed64"
        case .fixed32: "readFixed32"
        case .bool: "readBool"
        case .string: "readString"
        case .bytes: "readBytes"
        case .uint32: "readUInt32"
        case .sfixed32: "readSFixed32"
        case .sfixed64: "readSFixed64"
        case .sint32: "readSInt32"
        case .sint64: "readSInt64"
        }
    }

    var writeMethod: String {
        switch self {
        case .double: "writeDouble"
        case .float: "writeFloat"
        case .int64: "writeInt64"
        case .uint64: "writeUInt64"
        case .int32: "writeInt32"
        case .fixed64, .sfixed64: "writeFixed64"
        case .fixed32, .sfixed32: "writeFixed32"
        case .bool: "writeBool"
        case .string: "writeString"
        case .bytes: "writeBytes"
        case .uint32: "writeUInt32"
        case .sint32: "writeSInt32"
        case .sint64: "writeSInt64"
        }
    }

    /// Swift expression for the encoded size of `value` (tag excluded).
    func size(of value: String) -> String {
        if let fixedSize { return "\(fixedSize)" }
        switch self {
        case .int64: return "ProtobufSize.int64(\(value))"
        case .int32: return "ProtobufSize.int32(\(value))"
        case .sint32: return "ProtobufSize.sint32(\(value))"
        case .sint64: return "ProtobufSize.sint64(\(value))"
        case .string: return "ProtobufSize.string(\(value))"
        case .bytes: return "ProtobufSize.bytes(\(value))"
        default: return "ProtobufSize.varint(\(value))"
        }
    }

    /// Swift condition that is true when a proto3 field without presence must be written.
    /// Floating-point values compare bit patterns, so -0.0 is written as the reference runtimes do.
    func isNonDefault(_ value: String) -> String {
        switch self {
        case .double, .float: "\(value).bitPattern != 0"
        case .bool: value
        case .string, .bytes: "!\(value).isEmpty"
        default: "\(value) != 0"
        }
    }
}
