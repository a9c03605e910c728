/// Reads protobuf's wire format from a borrowed buffer.
///
/// The reader never reads outside `[start, end)`; nested messages narrow `end` for their length
/// and restore it afterwards. Every malformed input becomes a ``ProtobufError``.
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

    @inlinable
    func error(_ code: ProtobufError.Code, _ message: String) -> ProtobufError {
        ProtobufError(code: code, message: message, offset: offset)
    }

    // MARK: Tags

    /// The next tag of the current message, or nil at its end.
    @inlinable
    public mutating func nextTag() throws(ProtobufError) -> ProtobufTag? {
        guard position < end else {
            if openGroup != 0 {
                throw error(.truncated, "group \(openGroup) has no end tag")
            }
            return nil
        }
        tagStart = position
        let first = position.load(as: UInt8.self)
        let raw: UInt64
        if first < 0x80 {
            position += 1
            raw = UInt64(first)
        } else {
            raw = try readVarint()
        }
        guard raw <= UInt64(UInt32.max) else {
            throw error(.invalidFieldNumber, "tag \(raw) is out of range")
        }
        let tag = ProtobufTag(rawValue: UInt32(raw))
        guard tag.fieldNumber != 0 else {
            throw error(.invalidFieldNumber, "field number 0 is not allowed")
        }
        switch raw & 7 {
        case 4:
            guard tag.fieldNumber == openGroup else {
                throw error(.unmatchedEndGroup, "end tag of group \(tag.fieldNumber) where none is open")
            }
            return nil
        case 6, 7:
            throw error(.invalidWireType, "wire type \(raw & 7) in field \(tag.fieldNumber)")
        default:
            return tag
        }
    }

    // MARK: Raw values

    @inlinable
    public mutating func readVarint() throws(ProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var pointer = position
        while pointer < end {
            let byte = pointer.load(as: UInt8.self)
            pointer += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                position = pointer
                return result
            }
            shift += 7
            if shift >= 70 {
                throw error(.malformedVarint, "varint longer than ten bytes")
            }
        }
        throw error(.truncated, "input ends inside a varint")
    }

    @inlinable
    public mutating func readFixed32() throws(ProtobufError) -> UInt32 {
        guard remaining >= 4 else { throw error(.truncated, "input ends inside a fixed32") }
        let value = position.loadUnaligned(as: UInt32.self)
        position += 4
        return UInt32(littleEndian: value)
    }

    @inlinable
    public mutating func readFixed64() throws(ProtobufError) -> UInt64 {
        guard remaining >= 8 else { throw error(.truncated, "input ends inside a fixed64") }
        let value = position.loadUnaligned(as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Reads a length prefix and checks that many bytes remain.
    @inlinable
    public mutating func readLength() throws(ProtobufError) -> Int {
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            throw error(.invalidLength, "length \(length) exceeds the \(remaining) bytes that remain")
        }
        return Int(length)
    }

    // MARK: Scalar field values

    @inlinable
    public mutating func readInt32() throws(ProtobufError) -> Int32 { Int32(truncatingIfNeeded: try readVarint()) }

    @inlinable
    public mutating func readInt64() throws(ProtobufError) -> Int64 { Int64(bitPattern: try readVarint()) }

    @inlinable
    public mutating func readUInt32() throws(ProtobufError) -> UInt32 { UInt32(truncatingIfNeeded: try readVarint()) }

    @inlinable
    public mutating func readUInt64() throws(ProtobufError) -> UInt64 { try readVarint() }

    @inlinable
    public mutating func readSInt32() throws(ProtobufError) -> Int32 {
        ZigZag.decode(UInt32(truncatingIfNeeded: try readVarint()))
    }

    @inlinable
    public mutating func readSInt64() throws(ProtobufError) -> Int64 { ZigZag.decode(try readVarint()) }

    @inlinable
    public mutating func readSFixed32() throws(ProtobufError) -> Int32 { Int32(bitPattern: try readFixed32()) }

    @inlinable
    public mutating func readSFixed64() throws(ProtobufError) -> Int64 { Int64(bitPattern: try readFixed64()) }

    @inlinable
    public mutating func readFloat() throws(ProtobufError) -> Float { Float(bitPattern: try readFixed32()) }

    @inlinable
    public mutating func readDouble() throws(ProtobufError) -> Double { Double(bitPattern: try readFixed64()) }

    @inlinable
    public mutating func readBool() throws(ProtobufError) -> Bool { try readVarint() != 0 }

    @inlinable
    public mutating func readString() throws(ProtobufError) -> String {
        let length = try readLength()
        let bytes = UnsafeRawBufferPointer(start: position, count: length)
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw error(.invalidUTF8, "string field holds invalid UTF-8")
        }
        position += length
        return string
    }

    @inlinable
    public mutating func readBytes() throws(ProtobufError) -> [UInt8] {
        let length = try readLength()
        let bytes = [UInt8](UnsafeRawBufferPointer(start: position, count: length))
        position += length
        return bytes
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
            guard length % elementSize == 0 else {
                throw error(.invalidLength, "packed payload of \(length) bytes is not a multiple of \(elementSize)")
            }
            array.reserveCapacity(array.count + length / elementSize)
        }
        while position < end {
            array.append(try readElement(&self))
        }
        end = outerEnd
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
        guard depthRemaining > 0 else {
            throw error(.depthLimitExceeded, "messages nest deeper than \(options.maxDepth)")
        }
        let outerEnd = end
        let outerGroup = openGroup
        end = position + length
        openGroup = 0
        depthRemaining -= 1
        try message.protobufDecode(from: &self)
        depthRemaining += 1
        openGroup = outerGroup
        end = outerEnd
    }

    /// Decodes a group's content up to its end tag.
    @inlinable
    public mutating func readGroup<Message: ProtobufMessage>(
        into message: inout Message,
        fieldNumber: Int
    ) throws(ProtobufError) {
        guard depthRemaining > 0 else {
            throw error(.depthLimitExceeded, "groups nest deeper than \(options.maxDepth)")
        }
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
        guard depthRemaining > 0 else {
            throw error(.depthLimitExceeded, "messages nest deeper than \(options.maxDepth)")
        }
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

    @inlinable
    mutating func skipValue(of tag: ProtobufTag) throws(ProtobufError) {
        switch tag.rawValue & 7 {
        case 0:
            _ = try readVarint()
        case 1:
            guard remaining >= 8 else { throw error(.truncated, "input ends inside a fixed64") }
            position += 8
        case 2:
            position += try readLength()
        case 3:
            try skipGroup(fieldNumber: tag.fieldNumber)
        case 5:
            guard remaining >= 4 else { throw error(.truncated, "input ends inside a fixed32") }
            position += 4
        default:
            throw error(.invalidWireType, "wire type \(tag.rawValue & 7) in field \(tag.fieldNumber)")
        }
    }

    @usableFromInline
    mutating func skipGroup(fieldNumber: Int) throws(ProtobufError) {
        guard depthRemaining > 0 else {
            throw error(.depthLimitExceeded, "groups nest deeper than \(options.maxDepth)")
        }
        let outerGroup = openGroup
        openGroup = fieldNumber
        depthRemaining -= 1
        while let tag = try nextTag() {
            try skipValue(of: tag)
        }
        depthRemaining += 1
        openGroup = outerGroup
    }

    /// Whether the whole input was consumed; decoding checks this at the top level.
    @inlinable
    var isAtEnd: Bool { position == end }
}
