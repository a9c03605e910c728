/// Reads protobuf's wire format from a borrowed buffer.
///
/// The reader never reads outside `[start, end)`; nested messages narrow `end` for their length
/// and restore it afterwards. Every malformed input becomes a ``ProtobufError``.
///
/// The common cases (one-byte tags, one-byte varints, ASCII strings) take short inlined paths;
/// everything else, and the construction of every error, lives in out-of-line functions
/// (`ProtobufReader+Slow.swift`) so that the hot paths stay small enough to inline into generated
/// decoders.
public struct ProtobufReader {
    @usableFromInline
    let start: UnsafeRawPointer
    @usableFromInline
    var position: UnsafeRawPointer
    @usableFromInline
    var end: UnsafeRawPointer
    @usableFromInline
    var depthRemaining: Int
    /// The field number of the group being decoded, or 0 when inside a length-delimited message.
    @usableFromInline
    var openGroup: Int
    /// Where the tag most recently returned by ``nextTag()`` began, to copy unknown fields whole.
    @usableFromInline
    var tagStart: UnsafeRawPointer
    @usableFromInline
    let options: ProtobufDecodingOptions

    @inlinable
    public init(buffer: UnsafeRawBufferPointer, options: ProtobufDecodingOptions = .init()) {
        // An empty buffer may have no base address; any non-null pointer with zero length will do.
        let base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        self.start = base
        self.position = base
        self.end = base + buffer.count
        self.depthRemaining = options.maxDepth
        self.openGroup = 0
        self.tagStart = base
        self.options = options
    }

    @inlinable
    public var discardsUnknownFields: Bool { options.discardUnknownFields }

    @inlinable
    var offset: Int { position - start }

    @inlinable
    var remaining: Int { end - position }

    // MARK: Tags

    /// The next tag of the current message, or nil at its end.
    @inlinable @inline(__always)
    public mutating func nextTag() throws(ProtobufError) -> ProtobufTag? {
        if _fastPath(position < end) {
            let first = position.load(as: UInt8.self)
            // A one-byte tag with a field number (>= 1) and wire type 0, 1, 2, 3 or 5: bits
            // 0b101111 of 0x2F. Anything else (end of a group, longer tags, errors) goes the slow way.
            if _fastPath(first >= 8 && first < 0x80 && (0x2F &>> (first & 7)) & 1 != 0) {
                tagStart = position
                position += 1
                return ProtobufTag(rawValue: UInt32(truncatingIfNeeded: first))
            }
        } else if _fastPath(openGroup == 0) {
            // The end of a length-delimited message (the end of a group is an end tag).
            return nil
        }
        return try nextTagSlow()
    }

    // MARK: Raw values

    @inlinable @inline(__always)
    public mutating func readVarint() throws(ProtobufError) -> UInt64 {
        if _fastPath(position < end) {
            let first = position.load(as: UInt8.self)
            if _fastPath(first < 0x80) {
                position += 1
                return UInt64(truncatingIfNeeded: first)
            }
        }
        let (value, length) = ProtobufReader.decodeVarint(position, end: end)
        guard _fastPath(length != 0) else { throw varintError() }
        position += length
        return value
    }

    /// ``decodeVarint(_:end:)`` when at least eight bytes remain before `end`, inlined: varints of
    /// up to eight bytes are decoded from one word, branch-free apart from the one-byte case, so
    /// varints of mixed lengths in packed fields cost no mispredictions.
    @inlinable @inline(__always)
    static func decodeVarintInWord(_ start: UnsafeRawPointer, end: UnsafeRawPointer) -> (UInt64, Int) {
        let word = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
        if word & 0x80 == 0 { return (word & 0x7F, 1) }
        // Find the first byte without a continuation bit, keep the bytes up to it, and pack
        // their 7-bit groups together.
        let stops = ~word & 0x8080_8080_8080_8080
        guard stops != 0 else { return decodeVarint(start, end: end) }
        let length = stops.trailingZeroBitCount &>> 3 &+ 1
        var bits = word & 0x7F7F_7F7F_7F7F_7F7F
        if length < 8 { bits &= (1 &<< UInt64(length &<< 3)) &- 1 }
        bits = (bits & 0x7F00_7F00_7F00_7F00) &>> 1 | (bits & 0x007F_007F_007F_007F)
        bits = (bits & 0x3FFF_0000_3FFF_0000) &>> 2 | (bits & 0x0000_3FFF_0000_3FFF)
        bits = (bits & 0x0FFF_FFFF_0000_0000) &>> 4 | (bits & 0x0000_0000_0FFF_FFFF)
        return (bits, length)
    }

    @inlinable @inline(__always)
    public mutating func readFixed32() throws(ProtobufError) -> UInt32 {
        guard _fastPath(end - position >= 4) else { throw truncatedError("a fixed32") }
        let value = position.loadUnaligned(as: UInt32.self)
        position += 4
        return UInt32(littleEndian: value)
    }

    @inlinable @inline(__always)
    public mutating func readFixed64() throws(ProtobufError) -> UInt64 {
        guard _fastPath(end - position >= 8) else { throw truncatedError("a fixed64") }
        let value = position.loadUnaligned(as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Reads a length prefix and checks that many bytes remain.
    @inlinable @inline(__always)
    public mutating func readLength() throws(ProtobufError) -> Int {
        let length = try readVarint()
        // `end - position` is never negative, so the unsigned comparison is exact.
        guard _fastPath(length <= UInt64(truncatingIfNeeded: end - position)) else {
            throw invalidLengthError(length)
        }
        return Int(truncatingIfNeeded: length)
    }

    // MARK: Scalar field values

    @inlinable @inline(__always)
    public mutating func readInt32() throws(ProtobufError) -> Int32 { Int32(truncatingIfNeeded: try readVarint()) }

    @inlinable @inline(__always)
    public mutating func readInt64() throws(ProtobufError) -> Int64 { Int64(bitPattern: try readVarint()) }

    @inlinable @inline(__always)
    public mutating func readUInt32() throws(ProtobufError) -> UInt32 { UInt32(truncatingIfNeeded: try readVarint()) }

    @inlinable @inline(__always)
    public mutating func readUInt64() throws(ProtobufError) -> UInt64 { try readVarint() }

    @inlinable @inline(__always)
    public mutating func readSInt32() throws(ProtobufError) -> Int32 {
        ZigZag.decode(UInt32(truncatingIfNeeded: try readVarint()))
    }

    @inlinable @inline(__always)
    public mutating func readSInt64() throws(ProtobufError) -> Int64 { ZigZag.decode(try readVarint()) }

    @inlinable @inline(__always)
    public mutating func readSFixed32() throws(ProtobufError) -> Int32 { Int32(bitPattern: try readFixed32()) }

    @inlinable @inline(__always)
    public mutating func readSFixed64() throws(ProtobufError) -> Int64 { Int64(bitPattern: try readFixed64()) }

    @inlinable @inline(__always)
    public mutating func readFloat() throws(ProtobufError) -> Float { Float(bitPattern: try readFixed32()) }

    @inlinable @inline(__always)
    public mutating func readDouble() throws(ProtobufError) -> Double { Double(bitPattern: try readFixed64()) }

    @inlinable @inline(__always)
    public mutating func readBool() throws(ProtobufError) -> Bool { try readVarint() != 0 }

    /// Reads a `string` value; invalid UTF-8 (overlong forms, surrogates, values above U+10FFFF,
    /// truncated sequences) is an error, as proto3 requires.
    @inlinable
    public mutating func readString() throws(ProtobufError) -> String {
        let length = try readLength()
        guard length != 0 else { return "" }
        guard let string = ProtobufUTF8.string(position, count: length) else { throw invalidUTF8Error() }
        position += length
        return string
    }

    /// Reads a length-delimited value without copying it: the bytes stay in the reader's buffer
    /// and are valid while it is. For callers that compare them with bytes they already hold.
    @inlinable
    public mutating func readBorrowedBytes() throws(ProtobufError) -> UnsafeRawBufferPointer {
        let length = try readLength()
        let bytes = UnsafeRawBufferPointer(start: position, count: length)
        position += length
        return bytes
    }

    @inlinable
    public mutating func readBytes() throws(ProtobufError) -> [UInt8] {
        let length = try readLength()
        guard length != 0 else { return [] }
        let bytes = ProtobufReader.copyBytes(position, count: length)
        position += length
        return bytes
    }

    // MARK: Repeated values

    /// Appends one element of a repeated field. The first append makes room for four elements,
    /// so that short repeated fields (a few tags, a few sub-messages) grow once instead of three
    /// times.
    @inlinable @inline(__always)
    public static func append<Element>(_ element: Element, to array: inout [Element]) {
        if _slowPath(array.capacity == 0) { array.reserveCapacity(4) }
        array.append(element)
    }

    /// Before the first element of a repeated field that is not packed (strings, bytes,
    /// messages, or scalars sent unpacked), counts the field's occurrences in the rest of the
    /// message and reserves room for all of them, so that the array is allocated once at its
    /// final size instead of doubling (10,000 strings would otherwise allocate and copy about
    /// twice their final array, and touch that much fresh memory). Call it right after the tag.
    ///
    /// In the last 512 bytes of a message the walk costs more than growing a short array, so
    /// there the first element reserves room for four (three tags or two attributes then grow
    /// once). The count only sizes the array: it never exceeds half the bytes left, and a count
    /// that turns out wrong (malformed input past this point) costs nothing but capacity.
    @inlinable @inline(__always)
    public func reserveRepeated<Element>(_ array: inout [Element], tag: UInt32) {
        if _slowPath(array.capacity == 0) {
            if end - tagStart < 512 {
                array.reserveCapacity(4)
            } else {
                array.reserveCapacity(ProtobufReader.countFields(tag, from: tagStart, end: end))
            }
        }
    }

    // MARK: Packed repeated values

    /// Calls `readElement` for each element of a packed field's payload.
    @inlinable
    public mutating func readPacked<Element>(
        into array: inout [Element],
        elementSize: Int? = nil,
        _ readElement: (inout ProtobufReader) throws(ProtobufError) -> Element
    ) throws(ProtobufError) {
        let length = try readLength()
        let outerEnd = end
        end = position + length
        if let elementSize {
            guard length % elementSize == 0 else { throw packedLengthError(length, elementSize: elementSize) }
            array.reserveCapacity(array.count + length / elementSize)
        }
        while position < end {
            array.append(try readElement(&self))
        }
        end = outerEnd
    }

    /// Reads a packed field of varints (`int32`, `int64`, `uint32`, `uint64`, `sint32`, `sint64`,
    /// `bool`, open enums), converting each raw varint with `convert`.
    ///
    /// The payload's element count is the number of bytes without a continuation bit, so the
    /// array grows once to its exact final size before any element is read.
    @inlinable
    public mutating func readPackedVarints<Element>(
        into array: inout [Element],
        _ convert: (UInt64) -> Element
    ) throws(ProtobufError) {
        let length = try readLength()
        guard length != 0 else { return }
        let count = ProtobufReader.countVarintEnds(position, count: length)
        let outerEnd = end
        end = position + length
        let first = array.count
        // Placeholders the loop overwrites; removed again if the payload turns out malformed.
        array.append(contentsOf: repeatElement(convert(0), count: count))
        let payloadEnd = end
        var pointer = position
        let complete = array.withUnsafeMutableBufferPointer { buffer -> Bool in
            var index = first
            while index < buffer.count {
                let value: UInt64
                let length: Int
                if payloadEnd - pointer >= 8 {
                    (value, length) = ProtobufReader.decodeVarintInWord(pointer, end: payloadEnd)
                } else {
                    (value, length) = ProtobufReader.decodeVarint(pointer, end: payloadEnd)
                }
                guard length != 0 else { return false }
                buffer[index] = convert(value)
                pointer += length
                index &+= 1
            }
            return true
        }
        position = pointer
        // Every varint ends in exactly one byte below 0x80, so `count` reads consume the payload
        // unless it ends inside a varint (or holds one longer than ten bytes).
        guard complete && position == payloadEnd else {
            array.removeSubrange(first...)
            throw complete ? truncatedError("a varint") : varintError()
        }
        end = outerEnd
    }

    /// Reads a packed field of 4-byte values (`fixed32`, `sfixed32`, `float`): one copy of the
    /// payload on little-endian hosts. `Element` must have the layout of `UInt32`.
    @inlinable
    public mutating func readPackedFixed32<Element>(
        into array: inout [Element],
        _ convert: (UInt32) -> Element
    ) throws(ProtobufError) {
        precondition(MemoryLayout<Element>.size == 4 && MemoryLayout<Element>.stride == 4)
        let length = try readLength()
        guard length % 4 == 0 else { throw packedLengthError(length, elementSize: 4) }
        guard length != 0 else { return }
        let first = array.count
        array.append(contentsOf: repeatElement(convert(0), count: length / 4))
        let source = position
        array.withUnsafeMutableBufferPointer { buffer in
            #if _endian(little)
            UnsafeMutableRawPointer(buffer.baseAddress! + first).copyMemory(from: source, byteCount: length)
            #else
            for index in 0..<(length / 4) {
                buffer[first + index] = convert(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
            #endif
        }
        position += length
    }

    /// Reads a packed field of 8-byte values (`fixed64`, `sfixed64`, `double`): one copy of the
    /// payload on little-endian hosts. `Element` must have the layout of `UInt64`.
    @inlinable
    public mutating func readPackedFixed64<Element>(
        into array: inout [Element],
        _ convert: (UInt64) -> Element
    ) throws(ProtobufError) {
        precondition(MemoryLayout<Element>.size == 8 && MemoryLayout<Element>.stride == 8)
        let length = try readLength()
        guard length % 8 == 0 else { throw packedLengthError(length, elementSize: 8) }
        guard length != 0 else { return }
        let first = array.count
        array.append(contentsOf: repeatElement(convert(0), count: length / 8))
        let source = position
        array.withUnsafeMutableBufferPointer { buffer in
            #if _endian(little)
            UnsafeMutableRawPointer(buffer.baseAddress! + first).copyMemory(from: source, byteCount: length)
            #else
            for index in 0..<(length / 8) {
                buffer[first + index] = convert(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
            }
            #endif
        }
        position += length
    }

    /// Reads a packed field of a closed (proto2) enum: unknown numbers go to `unknownFields`,
    /// one varint field each, as the reference runtimes keep them.
    @inlinable
    public mutating func readPackedClosedEnum<E: ProtobufEnum>(
        into array: inout [E],
        fieldNumber: Int,
        unknownFields: inout ProtobufUnknownFields
    ) throws(ProtobufError) {
        let length = try readLength()
        let outerEnd = end
        end = position + length
        while position < end {
            let raw = try readInt32()
            if let value = E(rawValue: raw) {
                array.append(value)
            } else {
                keepUnknownEnumValue(raw, fieldNumber: fieldNumber, in: &unknownFields)
            }
        }
        end = outerEnd
    }

    /// Keeps a closed enum's unknown number as an unknown varint field.
    @inlinable
    public func keepUnknownEnumValue(_ raw: Int32, fieldNumber: Int, in unknownFields: inout ProtobufUnknownFields) {
        if !options.discardUnknownFields {
            unknownFields.appendVarint(fieldNumber: fieldNumber, value: UInt64(bitPattern: Int64(raw)))
        }
    }

    // MARK: Nested messages

    /// Decodes a length-delimited sub-message, merging into `message` as protobuf requires when a
    /// singular message field appears more than once.
    @inlinable
    public mutating func readMessage<Message: ProtobufMessage>(into message: inout Message) throws(ProtobufError) {
        let length = try readLength()
        guard _fastPath(depthRemaining > 0) else { throw depthError("messages") }
        let outerEnd = end
        let outerGroup = openGroup
        end = position + length
        openGroup = 0
        depthRemaining &-= 1
        try message.protobufDecode(from: &self)
        depthRemaining &+= 1
        openGroup = outerGroup
        end = outerEnd
    }

    /// Decodes a group's content up to its end tag.
    @inlinable
    public mutating func readGroup<Message: ProtobufMessage>(
        into message: inout Message,
        fieldNumber: Int
    ) throws(ProtobufError) {
        guard depthRemaining > 0 else { throw depthError("groups") }
        let outerGroup = openGroup
        openGroup = fieldNumber
        depthRemaining -= 1
        try message.protobufDecode(from: &self)
        depthRemaining += 1
        openGroup = outerGroup
    }

    /// Reads a map entry's fields (key = 1, value = 2) through `readField`; the caller keeps
    /// defaults for absent parts, as protobuf requires.
    @inlinable
    public mutating func readMapEntry(
        _ readField: (inout ProtobufReader, ProtobufTag) throws(ProtobufError) -> Void
    ) throws(ProtobufError) {
        let length = try readLength()
        guard depthRemaining > 0 else { throw depthError("messages") }
        let outerEnd = end
        let outerGroup = openGroup
        end = position + length
        openGroup = 0
        depthRemaining -= 1
        while let tag = try nextTag() {
            try readField(&self, tag)
        }
        depthRemaining += 1
        openGroup = outerGroup
        end = outerEnd
    }

    /// Skips a field without keeping it (unknown fields inside map entries are dropped).
    @inlinable
    public mutating func skipField(_ tag: ProtobufTag) throws(ProtobufError) {
        try skipValue(of: tag)
    }

    /// Marks where the current field began, for ``captureField(since:into:)``.
    @inlinable
    public var fieldStart: UnsafeRawPointer { tagStart }

    /// Appends the bytes from `mark` to the current position to `unknownFields`: used for a map
    /// entry whose closed-enum value is unknown, which protobuf keeps whole as an unknown field.
    @inlinable
    public func captureField(since mark: UnsafeRawPointer, into unknownFields: inout ProtobufUnknownFields) {
        if !options.discardUnknownFields {
            unknownFields.append(UnsafeRawBufferPointer(start: mark, count: position - mark))
        }
    }

    // MARK: Unknown fields

    /// Skips the value of `tag` and, unless unknown fields are discarded, appends the whole field
    /// (tag included) to `unknownFields` so it is written back unchanged.
    @inlinable
    public mutating func skipField(_ tag: ProtobufTag, into unknownFields: inout ProtobufUnknownFields) throws(ProtobufError) {
        let fieldStart = tagStart
        try skipValue(of: tag)
        if !options.discardUnknownFields {
            unknownFields.append(UnsafeRawBufferPointer(start: fieldStart, count: position - fieldStart))
        }
    }

    /// Whether the whole input was consumed; decoding checks this at the top level.
    @inlinable
    var isAtEnd: Bool { position == end }
}
