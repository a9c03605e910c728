/// The reader's uncommon paths: multi-byte tags and varints, skipping unknown values, and the
/// construction of every error. None of these is inlined, which keeps the inlined fast paths in
/// `ProtobufReader.swift` small.
extension ProtobufReader {
    // MARK: Tags and varints

    /// ``nextTag()`` for everything but a valid one-byte tag: the end of the message, the end of a
    /// group, multi-byte tags, and malformed tags.
    @usableFromInline @inline(never)
    mutating func nextTagSlow() throws(ProtobufError) -> ProtobufTag? {
        guard position < end else {
            if openGroup != 0 {
                throw error(.truncated, "group \(openGroup) has no end tag")
            }
            return nil
        }
        tagStart = position
        let raw = try readVarint()
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

    /// The number of fields with tag `tag` in `[start, end)`, which begins at a tag; for
    /// ``reserveRepeated(_:tag:)``. Walks the fields without decoding them, and stops early (with
    /// the count so far) at the end of a group, at a nested group, and at anything malformed,
    /// which the decoder will report when it gets there.
    @usableFromInline @inline(never)
    static func countFields(_ tag: UInt32, from start: UnsafeRawPointer, end: UnsafeRawPointer) -> Int {
        var count = 0
        var position = start
        while position < end {
            var (raw, length) = (UInt64(position.load(as: UInt8.self)), 1)
            if raw >= 0x80 {
                (raw, length) = decodeVarint(position, end: end)
                guard length != 0 else { break }
            }
            position += length
            if raw == UInt64(tag) { count &+= 1 }
            switch raw & 7 {
            case 0:
                // A varint: its last byte is the first one below 0x80.
                while position < end && position.load(as: UInt8.self) >= 0x80 { position += 1 }
                position += 1
            case 1:
                position += 8
            case 2:
                var (size, sizeLength) = (UInt64(position < end ? position.load(as: UInt8.self) : 0x80), 1)
                if size >= 0x80 {
                    (size, sizeLength) = decodeVarint(position, end: end)
                    guard sizeLength != 0 else { return count }
                }
                guard size <= UInt64(end - position - sizeLength) else { return count }
                position += sizeLength + Int(size)
            case 5:
                position += 4
            default:
                // A group's start or end, or an invalid wire type.
                return count
            }
        }
        return count
    }

    /// Decodes the varint at `start` (which may be a single byte), reading nothing at or after
    /// `end`: its value and its length in bytes, or a length of 0 if it is truncated or longer
    /// than ten bytes. It throws nothing and touches no reader, so calling it costs little.
    @usableFromInline @inline(never)
    static func decodeVarint(_ start: UnsafeRawPointer, end: UnsafeRawPointer) -> (UInt64, Int) {
        let available = end - start
        if available >= 8 {
            // Up to eight bytes at once: find the first byte without a continuation bit, keep the
            // bytes up to it, and pack their 7-bit groups together.
            let word = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
            let stops = ~word & 0x8080_8080_8080_8080
            if stops != 0 {
                let length = stops.trailingZeroBitCount &>> 3 &+ 1
                var bits = word & 0x7F7F_7F7F_7F7F_7F7F
                if length < 8 { bits &= (1 &<< UInt64(length &<< 3)) &- 1 }
                bits = (bits & 0x7F00_7F00_7F00_7F00) &>> 1 | (bits & 0x007F_007F_007F_007F)
                bits = (bits & 0x3FFF_0000_3FFF_0000) &>> 2 | (bits & 0x0000_3FFF_0000_3FFF)
                bits = (bits & 0x0FFF_FFFF_0000_0000) &>> 4 | (bits & 0x0000_0000_0FFF_FFFF)
                return (bits, length)
            }
        }
        // Nine or ten bytes, or near the end of the input: one byte at a time.
        var result: UInt64 = 0
        var index = 0
        while index < available && index < 10 {
            let byte = start.load(fromByteOffset: index, as: UInt8.self)
            result |= UInt64(byte & 0x7F) &<< UInt64(7 &* index)
            index &+= 1
            if byte < 0x80 { return (result, index) }
        }
        return (0, 0)
    }

    /// The error for a varint ``decodeVarint(_:end:)`` refused at the current position.
    @usableFromInline @inline(never)
    func varintError() -> ProtobufError {
        if remaining >= 10 {
            return error(.malformedVarint, "varint longer than ten bytes")
        }
        return truncatedError("a varint")
    }

    // MARK: Skipping

    @usableFromInline
    mutating func skipValue(of tag: ProtobufTag) throws(ProtobufError) {
        switch tag.rawValue & 7 {
        case 0:
            _ = try readVarint()
        case 1:
            guard remaining >= 8 else { throw truncatedError("a fixed64") }
            position += 8
        case 2:
            position += try readLength()
        case 3:
            try skipGroup(fieldNumber: tag.fieldNumber)
        case 5:
            guard remaining >= 4 else { throw truncatedError("a fixed32") }
            position += 4
        default:
            throw error(.invalidWireType, "wire type \(tag.rawValue & 7) in field \(tag.fieldNumber)")
        }
    }

    @usableFromInline
    mutating func skipGroup(fieldNumber: Int) throws(ProtobufError) {
        guard depthRemaining > 0 else { throw depthError("groups") }
        let outerGroup = openGroup
        openGroup = fieldNumber
        depthRemaining -= 1
        while let tag = try nextTag() {
            try skipValue(of: tag)
        }
        depthRemaining += 1
        openGroup = outerGroup
    }

    // MARK: Copies

    /// The number of varints in a packed payload: bytes without a continuation bit.
    @usableFromInline
    static func countVarintEnds(_ bytes: UnsafeRawPointer, count: Int) -> Int {
        var ends = 0
        var index = 0
        while count &- index >= 8 {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            ends &+= (~word & 0x8080_8080_8080_8080).nonzeroBitCount
            index &+= 8
        }
        while index < count {
            if bytes.load(fromByteOffset: index, as: UInt8.self) < 0x80 { ends &+= 1 }
            index &+= 1
        }
        return ends
    }

    @usableFromInline
    static func copyBytes(_ bytes: UnsafeRawPointer, count: Int) -> [UInt8] {
        [UInt8](UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: UInt8.self), count: count))
    }

    // MARK: Errors

    @usableFromInline @inline(never)
    func error(_ code: ProtobufError.Code, _ message: String) -> ProtobufError {
        ProtobufError(code: code, message: message, offset: offset)
    }

    @usableFromInline @inline(never)
    func truncatedError(_ what: StaticString) -> ProtobufError {
        error(.truncated, "input ends inside \(what)")
    }

    @usableFromInline @inline(never)
    func invalidLengthError(_ length: UInt64) -> ProtobufError {
        error(.invalidLength, "length \(length) exceeds the \(remaining) bytes that remain")
    }

    @usableFromInline @inline(never)
    func packedLengthError(_ length: Int, elementSize: Int) -> ProtobufError {
        error(.invalidLength, "packed payload of \(length) bytes is not a multiple of \(elementSize)")
    }

    @usableFromInline @inline(never)
    func invalidUTF8Error() -> ProtobufError {
        error(.invalidUTF8, "string field holds invalid UTF-8")
    }

    @usableFromInline @inline(never)
    func depthError(_ what: StaticString) -> ProtobufError {
        error(.depthLimitExceeded, "\(what) nest deeper than \(options.maxDepth)")
    }
}
