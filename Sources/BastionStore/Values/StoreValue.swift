/// A type that can be a table's value.
///
/// Values are stored as opaque bytes. A protobuf message becomes a value with an empty
/// extension, `extension User: StoreValue {}` (see `ProtobufMessage+StoreValue.swift`).
public protocol StoreValue: Sendable {
    /// Decodes a value from the bytes ``storeBytes()`` wrote.
    init(storeBytes: [UInt8]) throws

    /// The bytes to store.
    func storeBytes() -> [UInt8]
}

extension Array: StoreValue where Element == UInt8 {
    public init(storeBytes: [UInt8]) throws {
        self = storeBytes
    }

    public func storeBytes() -> [UInt8] {
        self
    }
}

extension String: StoreValue {
    public init(storeBytes: [UInt8]) throws {
        guard let string = String(validating: storeBytes, as: UTF8.self) else {
            throw StoreError(code: .invalidData, message: "A stored String value is not valid UTF-8")
        }
        self = string
    }

    public func storeBytes() -> [UInt8] {
        Array(self.utf8)
    }
}

extension StoreValue where Self: FixedWidthInteger {
    /// Integers are stored as fixed-width big-endian bytes.
    public init(storeBytes: [UInt8]) throws {
        guard storeBytes.count == MemoryLayout<Self>.size else {
            throw StoreError(
                code: .invalidData,
                message:
                    "A stored \(Self.self) value has \(storeBytes.count) bytes, expected \(MemoryLayout<Self>.size)"
            )
        }
        self = storeBytes.reduce(Self.zero) { ($0 << 8) | Self(truncatingIfNeeded: $1) }
    }

    public func storeBytes() -> [UInt8] {
        withUnsafeBytes(of: self.bigEndian) { Array($0) }
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
        guard storeBytes.count == 1, storeBytes[0] <= 1 else {
            throw StoreError(code: .invalidData, message: "A stored Bool value is not one byte of 0 or 1")
        }
        self = storeBytes[0] == 1
    }

    public func storeBytes() -> [UInt8] {
        [self ? 1 : 0]
    }
}
