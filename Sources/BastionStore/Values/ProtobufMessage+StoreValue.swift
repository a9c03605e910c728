public import BastionProtobuf

/// Protobuf messages are stored in their binary encoding: declare `extension MyMessage: StoreValue {}`.
/// Unknown fields are kept, so a row written by a newer server survives an older one's update.
extension StoreValue where Self: ProtobufMessage {
    public init(storeBytes: [UInt8]) throws {
        try self.init(serializedBytes: storeBytes)
    }

    /// Decodes straight from the stored bytes, without copying them into an array first.
    @inlinable
    public init(storeBytes bytes: UnsafeRawBufferPointer) throws {
        try self.init(unsafeBytes: bytes)
    }

    public func storeBytes() -> [UInt8] {
        serializedBytes()
    }

    /// Lends the encoding from temporary memory (the stack, for small messages) instead of a new
    /// array per write.
    @inlinable
    public func withStoreBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withSerializedBytes(body)
    }
}
