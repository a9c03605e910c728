// Order-preserving encodings for the standard library's key types.
//
// Integers: big-endian, with the sign bit flipped for signed types so that negative numbers sort
// first. Strings and byte arrays: their bytes as they are when whole; when delimited, every 0x00
// becomes 0x00 0xFF and the value ends with 0x00 0x01, which keeps the order (a shorter string
// sorts before any longer string it prefixes, because 0x01 < 0xFF and 0x01 < every escaped byte).

extension FixedWidthInteger {
    @inlinable
    func appendBigEndianKey(into bytes: inout [UInt8]) {
        // Flipping the sign bit maps Self.min...Self.max onto 0...UInt.max in order.
        var value = self
        if Self.isSigned {
            value ^= Self(truncatingIfNeeded: 1) << (Self.bitWidth - 1)
        }
        var bigEndian = value.bigEndian
        withUnsafeBytes(of: &bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    static func readBigEndianKey(from reader: inout StoreKeyReader) throws -> Self {
        let raw = try reader.read(count: MemoryLayout<Self>.size)
        var value = Self.zero
        for byte in raw {
            value = (value << 8) | Self(truncatingIfNeeded: byte)
        }
        if Self.isSigned {
            value ^= Self(truncatingIfNeeded: 1) << (Self.bitWidth - 1)
        }
        return value
    }
}

/// The fixed-width integers are keys in their order-preserving big-endian form.
extension StoreKey where Self: FixedWidthInteger {
    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        self.appendBigEndianKey(into: &bytes)
    }

    /// The big-endian key on the stack.
    @inlinable
    public func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var value = self
        if Self.isSigned {
            value ^= Self(truncatingIfNeeded: 1) << (Self.bitWidth - 1)
        }
        var bigEndian = value.bigEndian
        return try withUnsafeBytes(of: &bigEndian, body)
    }
    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        self = try Self.readBigEndianKey(from: &reader)
    }
}

extension UInt8: StoreKey {}
extension UInt16: StoreKey {}
extension UInt32: StoreKey {}
extension UInt64: StoreKey {}
extension Int8: StoreKey {}
extension Int16: StoreKey {}
extension Int32: StoreKey {}
extension Int64: StoreKey {}

extension UInt: StoreKey {
    // Always 8 bytes, so files move between platforms.
    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        UInt64(self).appendBigEndianKey(into: &bytes)
    }
    @inlinable
    public func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try UInt64(self).withStoreKeyBytes(body)
    }
    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        let wide = try UInt64.readBigEndianKey(from: &reader)
        guard let value = UInt(exactly: wide) else {
            throw StoreError(code: .invalidData, message: "A stored UInt key \(wide) does not fit this platform's UInt")
        }
        self = value
    }
}

extension Int: StoreKey {
    // Always 8 bytes, so files move between platforms.
    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        Int64(self).appendBigEndianKey(into: &bytes)
    }
    @inlinable
    public func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Int64(self).withStoreKeyBytes(body)
    }
    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        let wide = try Int64.readBigEndianKey(from: &reader)
        guard let value = Int(exactly: wide) else {
            throw StoreError(code: .invalidData, message: "A stored Int key \(wide) does not fit this platform's Int")
        }
        self = value
    }
}

extension Bool: StoreKey {
    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        bytes.append(self ? 1 : 0)
    }
    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        switch try reader.readByte() {
        case 0: self = false
        case 1: self = true
        case let other: throw StoreError(code: .invalidData, message: "A stored Bool key has the byte \(other)")
        }
    }
}

/// The delimited form of a byte string: 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01.
enum DelimitedBytes {
    static func append<Bytes: Sequence<UInt8>>(_ source: Bytes, to bytes: inout [UInt8]) {
        for byte in source {
            bytes.append(byte)
            if byte == 0x00 {
                bytes.append(0xFF)
            }
        }
        bytes.append(0x00)
        bytes.append(0x01)
    }

    static func read(from reader: inout StoreKeyReader) throws -> [UInt8] {
        var result: [UInt8] = []
        while true {
            let byte = try reader.readByte()
            guard byte == 0x00 else {
                result.append(byte)
                continue
            }
            switch try reader.readByte() {
            case 0xFF: result.append(0x00)
            case 0x01: return result
            case let other:
                throw StoreError(
                    code: .invalidData,
                    message: "A stored key component has the invalid escape 0x00 0x\(String(other, radix: 16))"
                )
            }
        }
    }
}

extension Array: StoreKey where Element == UInt8 {
    /// The bytes themselves: no copy.
    public var storeKeyBytes: [UInt8] { self }

    /// The bytes themselves: no copy.
    @inlinable
    public func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try self.withUnsafeBytes(body)
    }

    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        if delimited {
            DelimitedBytes.append(self, to: &bytes)
        } else {
            bytes.append(contentsOf: self)
        }
    }

    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        if delimited {
            self = try DelimitedBytes.read(from: &reader)
        } else {
            self = Array(reader.readAll())
        }
    }
}

extension String: StoreKey {
    /// The string's own UTF-8 bytes when it stores them contiguously (native strings do).
    @inlinable
    public func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try self.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self.utf8).withUnsafeBytes(body)
    }

    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        if delimited {
            DelimitedBytes.append(self.utf8, to: &bytes)
        } else {
            bytes.append(contentsOf: self.utf8)
        }
    }

    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        let raw: [UInt8]
        if delimited {
            raw = try DelimitedBytes.read(from: &reader)
        } else {
            raw = Array(reader.readAll())
        }
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw StoreError(code: .invalidData, message: "A stored String key is not valid UTF-8")
        }
        self = string
    }
}
