/// Writes protobuf's wire format into a buffer whose size was computed beforehand.
///
/// The buffer is allocated once at its exact final size, so writes never grow or copy it. Every
/// write is still bounds-checked: a size computation bug must trap rather than corrupt memory.
///
/// Nothing a writer does releases a Swift object, and every path of it is visible to the
/// optimizer (inlinable, if not always inlined): that lets generated encoders lend the elements of
/// repeated fields to nested encoders instead of copying them.
public struct ProtobufWriter {
    @usableFromInline
    let base: UnsafeMutableRawPointer
    @usableFromInline
    let capacity: Int
    @usableFromInline
    var position: Int
    @usableFromInline
    let sizes: UnsafePointer<Int>?
    @usableFromInline
    let sizeCount: Int
    @usableFromInline
    var sizeIndex: Int

    /// Creates a writer over `buffer`, consuming sizes recorded in `sizeCache` for the same value.
    /// The writer reads the cache's memory: it must not be used after `sizeCache` is gone.
    @inlinable
    public init(buffer: UnsafeMutableRawBufferPointer, sizeCache: borrowing ProtobufSizeCache) {
        self.base = buffer.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
        self.capacity = buffer.count
        self.position = 0
        self.sizes = UnsafePointer(sizeCache.storage)
        self.sizeCount = sizeCache.count
        self.sizeIndex = 0
    }

    /// Bytes written so far.
    @inlinable
    public var bytesWritten: Int { position }

    @inlinable @inline(__always)
    mutating func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        precondition(count <= capacity &- position, "protobuf size computation disagreed with encoding")
        let pointer = base + position
        position &+= count
        return pointer
    }

    @inlinable @inline(__always)
    mutating func nextCachedSize() -> Int {
        precondition(sizeIndex < sizeCount, "protobuf size computation disagreed with encoding")
        let size = sizes.unsafelyUnwrapped[sizeIndex]
        sizeIndex &+= 1
        return size
    }

    // MARK: Raw values

    @inlinable @inline(__always)
    public mutating func writeVarint(_ value: UInt64) {
        // With ten bytes of room (a varint's most) the bytes are stored without a check each;
        // near the end of the buffer the exact size is reserved (and checked) first.
        guard _fastPath(capacity &- position >= 10) else { return writeVarintNearEnd(value) }
        var value = value
        var pointer = base + position
        while value >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, as: UInt8.self)
            value &>>= 7
            pointer += 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        position = pointer - base &+ 1
    }

    @inlinable @inline(__always)
    public mutating func writeVarint(_ value: UInt32) {
        if _fastPath(value < 0x80 && position < capacity) {
            base.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: position, as: UInt8.self)
            position &+= 1
        } else {
            writeVarint(UInt64(value))
        }
    }

    @inlinable @inline(never)
    mutating func writeVarintNearEnd(_ value: UInt64) {
        var value = value
        let pointer = reserve(ProtobufSize.varint(value))
        var index = 0
        while value >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: index, as: UInt8.self)
            value >>= 7
            index &+= 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: index, as: UInt8.self)
    }

    /// Writes a precomputed tag (`fieldNumber << 3 | wireType`).
    @inlinable @inline(__always)
    public mutating func writeTag(_ tag: UInt32) { writeVarint(tag) }

    @inlinable @inline(__always)
    public mutating func writeFixed32(_ value: UInt32) {
        reserve(4).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    @inlinable @inline(__always)
    public mutating func writeFixed64(_ value: UInt64) {
        reserve(8).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    @inlinable @inline(__always)
    public mutating func writeRawBytes(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0 else { return }
        let target = reserve(count)
        let source = bytes.baseAddress!
        // Up to 16 bytes (short strings, most fields' bytes) are copied with two overlapping
        // loads and stores instead of a call to memcpy, which costs more than the copy.
        if count >= 8 && count <= 16 {
            let head = source.loadUnaligned(as: UInt64.self)
            let tail = source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 4 && count < 8 {
            let head = source.loadUnaligned(as: UInt32.self)
            let tail = source.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: tail, toByteOffset: count &- 4, as: UInt32.self)
        } else {
            target.copyMemory(from: source, byteCount: count)
        }
    }

    // MARK: Scalar field values (tag already written)

    @inlinable @inline(__always)
    public mutating func writeInt32(_ value: Int32) {
        // Negative int32 values are sign-extended to 64 bits, as every runtime does.
        writeVarint(UInt64(bitPattern: Int64(value)))
    }

    @inlinable @inline(__always)
    public mutating func writeInt64(_ value: Int64) { writeVarint(UInt64(bitPattern: value)) }

    @inlinable @inline(__always)
    public mutating func writeUInt32(_ value: UInt32) { writeVarint(value) }

    @inlinable @inline(__always)
    public mutating func writeUInt64(_ value: UInt64) { writeVarint(value) }

    @inlinable @inline(__always)
    public mutating func writeSInt32(_ value: Int32) { writeVarint(ZigZag.encode(value)) }

    @inlinable @inline(__always)
    public mutating func writeSInt64(_ value: Int64) { writeVarint(ZigZag.encode(value)) }

    @inlinable @inline(__always)
    public mutating func writeFixed32(_ value: Int32) { writeFixed32(UInt32(bitPattern: value)) }

    @inlinable @inline(__always)
    public mutating func writeFixed64(_ value: Int64) { writeFixed64(UInt64(bitPattern: value)) }

    @inlinable @inline(__always)
    public mutating func writeFloat(_ value: Float) { writeFixed32(value.bitPattern) }

    @inlinable @inline(__always)
    public mutating func writeDouble(_ value: Double) { writeFixed64(value.bitPattern) }

    @inlinable @inline(__always)
    public mutating func writeBool(_ value: Bool) {
        reserve(1).storeBytes(of: value ? 1 : 0, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public mutating func writeEnum<E: ProtobufEnum>(_ value: E) { writeInt32(value.rawValue) }

    @inlinable @inline(__always)
    public mutating func writeString(_ value: String) {
        // Native strings (all of them without Objective-C bridging) lend their UTF-8 in place.
        let written: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            writeVarint(UInt64(utf8.count))
            writeRawBytes(UnsafeRawBufferPointer(utf8))
        }
        if _slowPath(written == nil) { writeNoncontiguousString(value) }
    }

    // Not inlinable, and declared not to release anything: the optimizer then knows that writing a
    // string never releases a Swift object (iterating a foreign string's UTF-8 view is opaque to
    // it), which is what lets generated encoders lend elements of repeated fields to nested
    // encoders instead of copying them. It retains and releases nothing the caller holds.
    @usableFromInline @inline(never) @_effects(releasenone)
    mutating func writeNoncontiguousString(_ value: String) {
        writeVarint(UInt64(value.utf8.count))
        for byte in value.utf8 {
            reserve(1).storeBytes(of: byte, as: UInt8.self)
        }
    }

    @inlinable @inline(__always)
    public mutating func writeBytes(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        value.withUnsafeBytes { writeRawBytes($0) }
    }

    // MARK: Packed repeated values

    /// Writes a packed field of 4-byte values (`fixed32`, `sfixed32`, `float`) after its tag: the
    /// length, then the payload in one copy on little-endian hosts. `Element` must have the layout
    /// of `UInt32`; `bits` gives an element's bits for big-endian hosts.
    @inlinable
    public mutating func writePackedFixed32<Element>(_ values: [Element], _ bits: (Element) -> UInt32) {
        precondition(MemoryLayout<Element>.size == 4 && MemoryLayout<Element>.stride == 4)
        writeVarint(UInt64(values.count &* 4))
        values.withUnsafeBytes { payload in
            #if _endian(little)
            writeRawBytes(payload)
            #else
            for value in values { writeFixed32(bits(value)) }
            #endif
        }
    }

    /// Writes a packed field of 8-byte values (`fixed64`, `sfixed64`, `double`) after its tag; see
    /// ``writePackedFixed32(_:_:)``.
    @inlinable
    public mutating func writePackedFixed64<Element>(_ values: [Element], _ bits: (Element) -> UInt64) {
        precondition(MemoryLayout<Element>.size == 8 && MemoryLayout<Element>.stride == 8)
        writeVarint(UInt64(values.count &* 8))
        values.withUnsafeBytes { payload in
            #if _endian(little)
            writeRawBytes(payload)
            #else
            for value in values { writeFixed64(bits(value)) }
            #endif
        }
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
    @inlinable @inline(__always)
    public mutating func writeRecordedLength() {
        writeVarint(UInt64(nextCachedSize()))
    }

    @inlinable @inline(__always)
    public mutating func writeUnknownFields(_ fields: ProtobufUnknownFields) {
        fields.bytes.withUnsafeBytes { writeRawBytes($0) }
    }
}
