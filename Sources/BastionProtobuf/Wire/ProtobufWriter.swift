/// Writes protobuf's wire format into a buffer whose size was computed beforehand.
///
/// The buffer is allocated once at its exact final size, so writes never grow or copy it. Every
/// write is still bounds-checked: a size computation bug must trap rather than corrupt memory.
public struct ProtobufWriter {
    @usableFromInline
    let base: UnsafeMutableRawPointer
    @usableFromInline
    let capacity: Int
    @usableFromInline
    var position: Int
    @usableFromInline
    let sizes: [Int]
    @usableFromInline
    var sizeIndex: Int

    /// Creates a writer over `buffer`, consuming sizes recorded in `sizeCache` for the same value.
    @inlinable
    public init(buffer: UnsafeMutableRawBufferPointer, sizeCache: ProtobufSizeCache) {
        self.base = buffer.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
        self.capacity = buffer.count
        self.position = 0
        self.sizes = sizeCache.sizes
        self.sizeIndex = 0
    }

    /// Bytes written so far.
    @inlinable
    public var bytesWritten: Int { position }

    @inlinable
    mutating func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        precondition(count <= capacity &- position, "protobuf size computation disagreed with encoding")
        let pointer = base + position
        position &+= count
        return pointer
    }

    @inlinable
    mutating func nextCachedSize() -> Int {
        let size = sizes[sizeIndex]
        sizeIndex &+= 1
        return size
    }

    // MARK: Raw values

    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        var value = value
        let count = ProtobufSize.varint(value)
        let pointer = reserve(count)
        var index = 0
        while value >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: index, as: UInt8.self)
            value >>= 7
            index &+= 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: index, as: UInt8.self)
    }

    @inlinable
    public mutating func writeVarint(_ value: UInt32) {
        if value < 0x80 {
            reserve(1).storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        } else {
            writeVarint(UInt64(value))
        }
    }

    /// Writes a precomputed tag (`fieldNumber << 3 | wireType`).
    @inlinable
    public mutating func writeTag(_ tag: UInt32) { writeVarint(tag) }

    @inlinable
    public mutating func writeFixed32(_ value: UInt32) {
        reserve(4).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    @inlinable
    public mutating func writeFixed64(_ value: UInt64) {
        reserve(8).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    @inlinable
    public mutating func writeRawBytes(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    }

    // MARK: Scalar field values (tag already written)

    @inlinable
    public mutating func writeInt32(_ value: Int32) {
        // Negative int32 values are sign-extended to 64 bits, as every runtime does.
        writeVarint(UInt64(bitPattern: Int64(value)))
    }

    @inlinable
    public mutating func writeInt64(_ value: Int64) { writeVarint(UInt64(bitPattern: value)) }

    @inlinable
    public mutating func writeUInt32(_ value: UInt32) { writeVarint(value) }

    @inlinable
    public mutating func writeUInt64(_ value: UInt64) { writeVarint(value) }

    @inlinable
    public mutating func writeSInt32(_ value: Int32) { writeVarint(ZigZag.encode(value)) }

    @inlinable
    public mutating func writeSInt64(_ value: Int64) { writeVarint(ZigZag.encode(value)) }

    @inlinable
    public mutating func writeFixed32(_ value: Int32) { writeFixed32(UInt32(bitPattern: value)) }

    @inlinable
    public mutating func writeFixed64(_ value: Int64) { writeFixed64(UInt64(bitPattern: value)) }

    @inlinable
    public mutating func writeFloat(_ value: Float) { writeFixed32(value.bitPattern) }

    @inlinable
    public mutating func writeDouble(_ value: Double) { writeFixed64(value.bitPattern) }

    @inlinable
    public mutating func writeBool(_ value: Bool) {
        reserve(1).storeBytes(of: value ? 1 : 0, as: UInt8.self)
    }

    @inlinable
    public mutating func writeEnum<E: ProtobufEnum>(_ value: E) { writeInt32(value.rawValue) }

    @inlinable
    public mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            writeRawBytes(UnsafeRawBufferPointer(utf8))
        }
    }

    @inlinable
    public mutating func writeBytes(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        value.withUnsafeBytes { writeRawBytes($0) }
    }

    // MARK: Nested values

    /// Writes a sub-message's length and content; its size comes from the size cache.
    @inlinable
    public mutating func writeMessage<Message: ProtobufMessage>(_ message: Message) {
        writeVarint(UInt64(nextCachedSize()))
        message.protobufEncode(to: &self)
    }

    /// Writes a group's content and its end tag (the start tag is written by the caller).
    @inlinable
    public mutating func writeGroup<Message: ProtobufMessage>(_ message: Message, fieldNumber: Int) {
        message.protobufEncode(to: &self)
        writeVarint(ProtobufTag(fieldNumber: fieldNumber, wireType: .endGroup).rawValue)
    }

    /// Writes a length recorded with ``ProtobufSizeCache/record(_:)``: a packed payload or map entry.
    @inlinable
    public mutating func writeRecordedLength() {
        writeVarint(UInt64(nextCachedSize()))
    }

    @inlinable
    public mutating func writeUnknownFields(_ fields: ProtobufUnknownFields) {
        fields.bytes.withUnsafeBytes { writeRawBytes($0) }
    }
}
