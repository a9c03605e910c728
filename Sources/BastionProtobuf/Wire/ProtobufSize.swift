/// Byte counts of encoded values, used by generated size computations.
public enum ProtobufSize {
    @inlinable @inline(__always)
    public static func varint(_ value: UInt64) -> Int {
        // Each byte carries 7 bits; the `| 1` makes zero take one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inlinable @inline(__always)
    public static func varint(_ value: UInt32) -> Int {
        let bits = 32 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inlinable @inline(__always)
    public static func varint(_ value: Int) -> Int { varint(UInt64(bitPattern: Int64(value))) }

    /// `int32` and enums: negative values are sign-extended to ten bytes.
    @inlinable @inline(__always)
    public static func int32(_ value: Int32) -> Int {
        value < 0 ? 10 : varint(UInt32(bitPattern: value))
    }

    @inlinable @inline(__always)
    public static func int64(_ value: Int64) -> Int { varint(UInt64(bitPattern: value)) }

    @inlinable @inline(__always)
    public static func sint32(_ value: Int32) -> Int { varint(ZigZag.encode(value)) }

    @inlinable @inline(__always)
    public static func sint64(_ value: Int64) -> Int { varint(ZigZag.encode(value)) }

    /// A length prefix plus the bytes it counts.
    @inlinable @inline(__always)
    public static func lengthDelimited(_ count: Int) -> Int { varint(UInt64(count)) + count }

    @inlinable @inline(__always)
    public static func string(_ value: String) -> Int { lengthDelimited(value.utf8.count) }

    @inlinable @inline(__always)
    public static func bytes(_ value: [UInt8]) -> Int { lengthDelimited(value.count) }
}

/// ZigZag maps signed integers to unsigned so that small magnitudes encode in few bytes.
public enum ZigZag {
    @inlinable @inline(__always)
    public static func encode(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value << 1) ^ (value >> 31))
    }

    @inlinable @inline(__always)
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable @inline(__always)
    public static func decode(_ value: UInt32) -> Int32 {
        Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inlinable @inline(__always)
    public static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
