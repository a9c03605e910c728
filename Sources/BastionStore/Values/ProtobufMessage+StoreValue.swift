public import BastionProtobuf

/// Protobuf messages are stored in their binary encoding: declare `extension MyMessage: StoreValue {}`.
/// Unknown fields are kept, so a row written by a newer server survives an older one's update.
extension StoreValue where Self: ProtobufMessage {
    public init(storeBytes: [UInt8]) throws {
        try self.init(serializedBytes: storeBytes)
    }

    public func storeBytes() -> [UInt8] {
        serializedBytes()
    }
}
