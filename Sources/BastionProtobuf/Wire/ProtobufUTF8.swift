/// UTF-8 validation and `String` creation for decoded `string` fields.
///
/// Every public way of making a `String` from bytes validates them again inside the standard
/// library, and `String(decoding:as:)` repairs invalid input instead of rejecting it. This checks
/// eight bytes at a time for ASCII and validates anything else against Unicode's table of
/// well-formed byte sequences (Table 3-7: no overlong forms, no surrogates, nothing above
/// U+10FFFF, no truncated sequences). Then:
///
/// - 15 bytes and fewer (stored inline in the `String`, no allocation): the string's two words
///   are built directly (``ProtobufUTF8/smallString(_:count:isASCII:)``), after a check, once per
///   process, that this standard library lays small strings out as expected; otherwise
///   `String(unsafeUninitializedCapacity:initializingUTF8With:)`.
/// - longer strings: the bytes go to the standard library as an already validated `UTF8Span`
///   (`UTF8Span(unchecked:isKnownASCII:)`), which `String(copying:)` copies without validating
///   them a second time; ASCII strings keep the standard library's ASCII flag.
@usableFromInline
enum ProtobufUTF8 {
    /// The string `bytes` hold, or nil if they are not well-formed UTF-8.
    @usableFromInline
    static func string(_ bytes: UnsafeRawPointer, count: Int) -> String? {
        let isASCII = isASCII(bytes, count: count)
        guard isASCII || isValidMultibyte(bytes, count: count) else { return nil }
        if count <= 15 {
            if count > 0 && layoutIsKnown {
                return smallString(bytes, count: count, isASCII: isASCII)
            }
            return String(unsafeUninitializedCapacity: count) { buffer in
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: bytes, byteCount: count)
                return count
            }
        }
        return largeString(bytes, count: count, isASCII: isASCII)
    }

    // MARK: Small strings

    /// Makes a string of 1 to 15 bytes, known to be well-formed UTF-8, in the standard library's
    /// inline ("small") form directly: its two words hold the bytes, and the top byte of the second
    /// holds the form's flags and the count. The standard library's own ways of making one cost
    /// about 100 instructions (a closure, a second check of the bytes); this costs about 15, which
    /// is most of what decoding a short string field costs.
    ///
    /// It relies on the layout of `String` on 64-bit little-endian platforms, which is part of
    /// Swift's stable ABI; ``layoutIsKnown`` checks it against strings the standard library made,
    /// once per process, and the caller takes the standard library's way if it differs.
    @inline(__always)
    static func smallString(_ bytes: UnsafeRawPointer, count: Int, isASCII: Bool) -> String {
        unsafeBitCast(smallStringBits(bytes, count: count, isASCII: isASCII), to: String.self)
    }

    /// The two words of the small string that holds `bytes`.
    @inline(__always)
    static func smallStringBits(_ bytes: UnsafeRawPointer, count: Int, isASCII: Bool) -> (UInt64, UInt64) {
        var leading: UInt64
        var trailing: UInt64 = 0
        if count >= 8 {
            // Bytes 0-7, and the last eight bytes shifted so that bytes 8... come first.
            leading = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
            let last = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
            trailing = last >> UInt64((16 &- count) &* 8)
        } else if count >= 4 {
            // Two overlapping four-byte loads; the overlap holds the same bytes in both.
            let first = UInt64(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
            let last = UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)))
            leading = first | last &<< UInt64((count &- 4) &* 8)
        } else {
            // One to three bytes: the first, the middle and the last (some of them the same byte).
            let first = UInt64(bytes.load(as: UInt8.self))
            let middle = UInt64(bytes.load(fromByteOffset: count &>> 1, as: UInt8.self))
            let last = UInt64(bytes.load(fromByteOffset: count &- 1, as: UInt8.self))
            leading = first | middle &<< UInt64((count &>> 1) &* 8) | last &<< UInt64((count &- 1) &* 8)
        }
        // Flags: immortal (bit 63), ASCII (62), small (61); then the count (56-59).
        let flags: UInt64 = isASCII ? 0xE0 : 0xA0
        trailing |= (flags | UInt64(count)) &<< 56
        return (leading, trailing)
    }

    /// Whether ``smallString(_:count:isASCII:)`` makes exactly the strings the standard library
    /// makes: checked once, on ASCII and non-ASCII strings of every small length.
    static let layoutIsKnown: Bool = {
        #if _endian(little) && (arch(x86_64) || arch(arm64))
        guard MemoryLayout<String>.size == 16 else { return false }
        let samples = ["a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghijklmno", "é", "aé", "€uro", "naïve café"]
        for sample in samples {
            let utf8 = Array(sample.utf8)
            // The standard library's own small string and ours must have the same bits (compared
            // before ours is ever used as a string).
            let reference = String(decoding: utf8, as: UTF8.self)
            let bits = utf8.withUnsafeBytes { buffer in
                smallStringBits(buffer.baseAddress!, count: buffer.count, isASCII: utf8.allSatisfy { $0 < 0x80 })
            }
            guard utf8.count <= 15, unsafeBitCast(reference, to: (UInt64, UInt64).self) == bits else { return false }
            let ours = unsafeBitCast(bits, to: String.self)
            guard ours == sample, ours.utf8.count == utf8.count, Array(ours.utf8) == utf8 else { return false }
        }
        return true
        #else
        return false
        #endif
    }()

    /// Makes a string of more than 15 bytes known to be well-formed UTF-8 (and known to be ASCII
    /// when `isASCII` is true), without validating them again.
    @inline(__always)
    static func largeString(_ bytes: UnsafeRawPointer, count: Int, isASCII: Bool) -> String {
        let buffer = UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: UInt8.self), count: count)
        if #available(macOS 26, iOS 26, watchOS 26, tvOS 26, visionOS 26, *) {
            return String(copying: UTF8Span(unchecked: Span(_unsafeElements: buffer), isKnownASCII: isASCII))
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Whether `bytes` are well-formed UTF-8.
    @usableFromInline
    static func isValid(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
        if isASCII(bytes, count: count) { return true }
        return isValidMultibyte(bytes, count: count)
    }

    /// Whether all bytes are below 0x80, checked a word at a time; the last partial word is
    /// checked by loading the eight bytes that end the input (overlapping bytes already checked).
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
        let high: UInt64 = 0x8080_8080_8080_8080
        if count >= 8 {
            var index = 0
            while count &- index > 8 {
                if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & high != 0 { return false }
                index &+= 8
            }
            return bytes.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) & high == 0
        }
        if count >= 4 {
            let first = bytes.loadUnaligned(as: UInt32.self)
            let last = bytes.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            return (first | last) & 0x8080_8080 == 0
        }
        var bits: UInt8 = 0
        for index in 0..<count { bits |= bytes.load(fromByteOffset: index, as: UInt8.self) }
        return bits < 0x80
    }

    /// Validates byte by byte against Table 3-7.
    static func isValidMultibyte(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
        var index = 0
        while index < count {
            let lead = bytes.load(fromByteOffset: index, as: UInt8.self)
            if lead < 0x80 {
                index &+= 1
                continue
            }
            // The sequence's length and the range its second byte must fall in (Table 3-7).
            let length: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF:
                length = 2
            case 0xE0:
                length = 3
                secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF:
                length = 3
            case 0xED:
                length = 3
                secondHigh = 0x9F
            case 0xF0:
                length = 4
                secondLow = 0x90
            case 0xF1...0xF3:
                length = 4
            case 0xF4:
                length = 4
                secondHigh = 0x8F
            default:
                // 0x80-0xC1 (continuation bytes, overlong two-byte leads) and 0xF5-0xFF.
                return false
            }
            guard count &- index >= length else { return false }
            let second = bytes.load(fromByteOffset: index &+ 1, as: UInt8.self)
            guard second >= secondLow && second <= secondHigh else { return false }
            var next = index &+ 2
            while next < index &+ length {
                guard bytes.load(fromByteOffset: next, as: UInt8.self) & 0xC0 == 0x80 else { return false }
                next &+= 1
            }
            index = next
        }
        return true
    }
}
