/// Fields a decoder did not recognise, kept as their original bytes and written back on encode,
/// so that a message passing through an older program loses nothing.
public struct ProtobufUnknownFields: Hashable, Sendable {
    /// The fields' wire bytes, tags included, in the order they arrived.
    public var bytes: [UInt8]

    @inlinable
    public init() { bytes = [] }

    @inlinable
    public init(bytes: [UInt8]) { self.bytes = bytes }

    @inlinable
    public var isEmpty: Bool { bytes.isEmpty }

    @inlinable
    public mutating func append(_ raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }

    /// Appends a varint field: how an unknown value of a closed (proto2) enum is kept.
    @inlinable
    public mutating func appendVarint(fieldNumber: Int, value: UInt64) {
        appendRawVarint(UInt64(ProtobufTag(fieldNumber: fieldNumber, wireType: .varint).rawValue))
        appendRawVarint(value)
    }

    @inlinable
    mutating func appendRawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
}
