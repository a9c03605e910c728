/// A type that can be a table's value.
///
/// Values are stored as opaque bytes. A protobuf message becomes a value with an empty
/// extension, `extension User: StoreValue {}` (see `ProtobufMessage+StoreValue.swift`).
///
/// Only ``init(storeBytes:)-([UInt8])`` and ``storeBytes()`` must be written. The store reads and
/// writes through the two borrowing requirements, whose defaults copy into and out of an array;
/// the conformances below (and protobuf messages) implement them to skip that copy.
public protocol StoreValue: Sendable {
    /// Decodes a value from the bytes ``storeBytes()`` wrote.
    init(storeBytes: [UInt8]) throws

    /// The bytes to store.
    func storeBytes() -> [UInt8]

    /// Decodes a value from stored bytes that are valid only during the call. The default copies
    /// them into an array for ``init(storeBytes:)-([UInt8])``.
    init(storeBytes: UnsafeRawBufferPointer) throws

    /// Calls `body` with the bytes to store, valid only inside `body`. The default lends the
    /// array ``storeBytes()`` returns.
    func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension StoreValue {
    /// Copies the bytes into an array for ``init(storeBytes:)-([UInt8])``.
    @inlinable
    public init(storeBytes bytes: UnsafeRawBufferPointer) throws {
        // Through a typed buffer: `Array(UnsafeRawBufferPointer)` takes the generic sequence path.
        try self.init(storeBytes: Array(bytes.assumingMemoryBound(to: UInt8.self)))
    }

    /// Lends the array ``storeBytes()`` returns.
    @inlinable
    public func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try self.storeBytes().withUnsafeBytes(body)
    }
}

extension Array: StoreValue where Element == UInt8 {
    public init(storeBytes: [UInt8]) throws {
        self = storeBytes
    }

    /// One copy of the stored bytes, made where the caller's `get` is specialised (the default
    /// goes through ``init(storeBytes:)-([UInt8])``, a call the optimizer can't see into).
    @inlinable
    public init(storeBytes bytes: UnsafeRawBufferPointer) throws {
        self = Array(bytes.assumingMemoryBound(to: UInt8.self))
    }

    public func storeBytes() -> [UInt8] {
        self
    }

    /// The bytes themselves: no copy.
    @inlinable
    public func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try self.withUnsafeBytes(body)
    }
}

extension String: StoreValue {
    public init(storeBytes: [UInt8]) throws {
        guard let string = String(validating: storeBytes, as: UTF8.self) else {
            throw StoreError(code: .invalidData, message: "A stored String value is not valid UTF-8")
        }
        self = string
    }

    public init(storeBytes bytes: UnsafeRawBufferPointer) throws {
        guard let string = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw StoreError(code: .invalidData, message: "A stored String value is not valid UTF-8")
        }
        self = string
    }

    public func storeBytes() -> [UInt8] {
        Array(self.utf8)
    }

    /// The string's own UTF-8 bytes when it stores them contiguously (native strings do).
    @inlinable
    public func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try self.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self.utf8).withUnsafeBytes(body)
    }
}

extension StoreValue where Self: FixedWidthInteger {
    /// Integers are stored as fixed-width big-endian bytes.
    public init(storeBytes: [UInt8]) throws {
        self = try storeBytes.withUnsafeBytes { try Self(storeBytes: $0) }
    }

    /// Integers are stored as fixed-width big-endian bytes.
    @inlinable
    public init(storeBytes bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count == MemoryLayout<Self>.size else {
            throw StoreError.integerValueSize(bytes.count, expected: MemoryLayout<Self>.size, type: "\(Self.self)")
        }
        self = Self(bigEndian: bytes.loadUnaligned(as: Self.self))
    }

    public func storeBytes() -> [UInt8] {
        withUnsafeBytes(of: self.bigEndian) { Array($0) }
    }

    /// The big-endian bytes on the stack.
    @inlinable
    public func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var bigEndian = self.bigEndian
        return try withUnsafeBytes(of: &bigEndian, body)
    }
}

extension StoreError {
    @usableFromInline
    static func integerValueSize(_ count: Int, expected: Int, type: String) -> StoreError {
        StoreError(
            code: .invalidData,
            message: "A stored \(type) value has \(count) bytes, expected \(expected)"
        )
    }
}

extension UInt8: StoreValue {}
extension UInt16: StoreValue {}
extension UInt32: StoreValue {}
extension UInt64: StoreValue {}
extension Int8: StoreValue {}
extension Int16: StoreValue {}
extension Int32: StoreValue {}
extension Int64: StoreValue {}

extension Bool: StoreValue {
    public init(storeBytes: [UInt8]) throws {
        self = try storeBytes.withUnsafeBytes { try Bool(storeBytes: $0) }
    }

    public init(storeBytes bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count == 1, bytes[0] <= 1 else {
            throw StoreError(code: .invalidData, message: "A stored Bool value is not one byte of 0 or 1")
        }
        self = bytes[0] == 1
    }

    public func storeBytes() -> [UInt8] {
        [self ? 1 : 0]
    }

    public func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var byte: UInt8 = self ? 1 : 0
        return try withUnsafeBytes(of: &byte, body)
    }
}
