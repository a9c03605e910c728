/// The low three bits of a tag: how the field's value is laid out on the wire.
public enum ProtobufWireType: UInt8, Sendable, Hashable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A decoded tag: field number and wire type packed as on the wire (`number << 3 | wireType`).
///
/// Generated decoders switch on ``rawValue`` directly, so a known field number arriving with an
/// unexpected wire type falls through to the unknown-field path, as in the reference runtimes.
public struct ProtobufTag: Hashable, Sendable {
    public let rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(fieldNumber: Int, wireType: ProtobufWireType) {
        self.rawValue = UInt32(truncatingIfNeeded: fieldNumber) << 3 | UInt32(wireType.rawValue)
    }

    @inlinable
    public var fieldNumber: Int { Int(rawValue >> 3) }

    @inlinable
    public var wireType: ProtobufWireType? { ProtobufWireType(rawValue: UInt8(rawValue & 7)) }

    /// The largest field number protobuf allows.
    public static let maxFieldNumber = (1 << 29) - 1
}
