/// A type that can be a table's key.
///
/// The store keeps rows sorted by their encoded key bytes (compared as unsigned bytes), so an
/// encoding must preserve the type's order: `a < b` exactly when `encode(a) < encode(b)`. That
/// makes range and prefix scans meaningful.
///
/// A key is encoded in one of two forms:
/// - *whole*: the key is the entire stored key (or its last part), so it may run to the end of
///   the bytes. `String` and `[UInt8]` are then stored as their plain bytes, which keeps prefix
///   scans over them simple and lets `mdb_dump` show them as they are.
/// - *delimited*: the key is one component of a composite key, so its encoding must tell where
///   it ends. Variable-length types escape their bytes and add a terminator.
///
/// Fixed-width types write the same bytes in both forms. To make your own composite key type,
/// encode each field in order with `delimited: true`.
public protocol StoreKey: Sendable {
    /// Appends this key's order-preserving encoding to `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: The buffer to append to.
    ///   - delimited: Whether the encoding must be self-delimiting (the key is a component of a
    ///     composite key).
    func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool)

    /// Reads a key written by ``encodeStoreKey(into:delimited:)``.
    ///
    /// - Parameters:
    ///   - reader: The bytes to read from. When `delimited` is false the key may consume
    ///     everything that is left.
    ///   - delimited: Whether the key was written in its self-delimiting form.
    init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws

    /// The key's bytes as stored (not delimited). A requirement, with a default that calls
    /// ``encodeStoreKey(into:delimited:)``, so that keys which are their own bytes skip the copy.
    var storeKeyBytes: [UInt8] { get }

    /// Calls `body` with the key's bytes as stored (not delimited), valid only inside `body`. A
    /// requirement, with a default that lends ``storeKeyBytes``, so that keys which are their own
    /// bytes, or fit on the stack, need no array: the store's reads and writes use it.
    func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension StoreKey {
    /// The key's whole encoding, as stored.
    public var storeKeyBytes: [UInt8] {
        var bytes: [UInt8] = []
        self.encodeStoreKey(into: &bytes, delimited: false)
        return bytes
    }

    /// Lends ``storeKeyBytes``.
    @inlinable
    public func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try self.storeKeyBytes.withUnsafeBytes(body)
    }

    /// Decodes a whole key; all of `bytes` must be consumed.
    public init(storeKeyBytes bytes: UnsafeRawBufferPointer) throws {
        var reader = StoreKeyReader(bytes)
        try self.init(decodingStoreKey: &reader, delimited: false)
        guard reader.isAtEnd else {
            throw StoreError(
                code: .invalidData,
                message: "A stored \(Self.self) key has \(reader.remaining) unexpected trailing bytes"
            )
        }
    }

    /// Decodes a whole key from an array.
    public init(storeKeyBytes bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try Self(storeKeyBytes: $0) }
    }
}

/// Reads encoded key bytes from the front.
///
/// The bytes it reads are only valid inside the call that handed out the reader; copy what you
/// need to keep.
public struct StoreKeyReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset: Int

    /// Makes a reader over `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { self.offset == self.bytes.count }

    /// How many bytes are left.
    public var remaining: Int { self.bytes.count - self.offset }

    /// The bytes that are left, without consuming them.
    public var rest: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self.bytes[self.offset...])
    }

    /// Reads the next `count` bytes.
    public mutating func read(count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= self.remaining else {
            throw StoreError(
                code: .invalidData,
                message: "A stored key ended early: needed \(count) more bytes, \(self.remaining) left"
            )
        }
        let slice = UnsafeRawBufferPointer(rebasing: self.bytes[self.offset..<(self.offset + count)])
        self.offset += count
        return slice
    }

    /// Reads every byte that is left.
    public mutating func readAll() -> UnsafeRawBufferPointer {
        let slice = self.rest
        self.offset = self.bytes.count
        return slice
    }

    /// Reads one byte.
    public mutating func readByte() throws -> UInt8 {
        try self.read(count: 1)[0]
    }
}
