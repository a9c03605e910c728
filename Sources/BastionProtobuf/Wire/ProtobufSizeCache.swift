/// Sizes of length-delimited parts, computed once before encoding.
///
/// A length prefix comes before the bytes it counts, so an encoder must know every nested
/// message's size before writing it. Computing sizes on demand at every level would cost
/// O(depth × size); instead one pass walks the message in encoding order and records each nested
/// size in a slot, and the write pass consumes the slots in the same order.
public struct ProtobufSizeCache: Sendable {
    @usableFromInline
    var sizes: [Int]

    @inlinable
    public init() { sizes = [] }

    /// Reserves a slot whose value is filled in after the part's children were sized.
    @inlinable
    public mutating func reserveSlot() -> Int {
        sizes.append(0)
        return sizes.count &- 1
    }

    @inlinable
    public mutating func fill(slot: Int, with size: Int) {
        sizes[slot] = size
    }

    /// Sizes a length-delimited sub-message, records its size, and returns the bytes it takes
    /// after its tag (length prefix included).
    @inlinable
    public mutating func message<Message: ProtobufMessage>(_ message: Message) -> Int {
        let slot = reserveSlot()
        let size = message.protobufSize(&self)
        sizes[slot] = size
        return ProtobufSize.varint(UInt64(size)) &+ size
    }

    /// Sizes a group's content (its end tag excluded). Groups carry no length, so no slot.
    @inlinable
    public mutating func group<Message: ProtobufMessage>(_ message: Message) -> Int {
        message.protobufSize(&self)
    }

    /// Records a computed length (a packed field's payload, a map entry) for the write pass.
    @inlinable
    public mutating func record(_ size: Int) -> Int {
        sizes.append(size)
        return ProtobufSize.varint(UInt64(size)) &+ size
    }
}
