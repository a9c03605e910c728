/// Sizes of length-delimited parts, computed once before encoding.
///
/// A length prefix comes before the bytes it counts, so an encoder must know every nested
/// message's size before writing it. Computing sizes on demand at every level would cost
/// O(depth × size); instead one pass walks the message in encoding order and records each nested
/// size in a slot, and the write pass consumes the slots in the same order.
///
/// The slots live in memory the cache manages itself rather than in an array: growing it then
/// never releases a Swift object, so the optimizer can prove that sizing (and encoding) a message
/// releases nothing and lend repeated message fields' elements to them without copying (retaining
/// and releasing) each one. The cache is noncopyable and frees its memory when it goes away.
public struct ProtobufSizeCache: ~Copyable {
    @usableFromInline
    var storage: UnsafeMutablePointer<Int>?
    @usableFromInline
    var count: Int
    @usableFromInline
    var capacity: Int

    @inlinable
    public init() {
        storage = nil
        count = 0
        capacity = 0
    }

    @inlinable
    deinit {
        storage?.deallocate()
    }

    /// Reserves a slot whose value is filled in after the part's children were sized.
    @inlinable @inline(__always)
    public mutating func reserveSlot() -> Int {
        if _slowPath(count == capacity) { grow() }
        storage.unsafelyUnwrapped[count] = 0
        count &+= 1
        return count &- 1
    }

    @inlinable @inline(__always)
    public mutating func fill(slot: Int, with size: Int) {
        precondition(slot >= 0 && slot < count, "size cache slot out of range")
        storage.unsafelyUnwrapped[slot] = size
    }

    /// Sizes a length-delimited sub-message, records its size, and returns the bytes it takes
    /// after its tag (length prefix included).
    @inlinable @inline(__always)
    public mutating func message<Message: ProtobufMessage>(_ message: Message) -> Int {
        let slot = reserveSlot()
        let size = message.protobufSize(&self)
        fill(slot: slot, with: size)
        return ProtobufSize.varint(UInt64(size)) &+ size
    }

    /// Sizes a group's content (its end tag excluded). Groups carry no length, so no slot.
    @inlinable
    public mutating func group<Message: ProtobufMessage>(_ message: Message) -> Int {
        message.protobufSize(&self)
    }

    /// Records a computed length (a packed field's payload, a map entry) for the write pass.
    @inlinable @inline(__always)
    public mutating func record(_ size: Int) -> Int {
        let slot = reserveSlot()
        storage.unsafelyUnwrapped[slot] = size
        return ProtobufSize.varint(UInt64(size)) &+ size
    }

    /// The size recorded in `slot`.
    @inlinable @inline(__always)
    func size(at slot: Int) -> Int {
        precondition(slot >= 0 && slot < count, "protobuf size computation disagreed with encoding")
        return storage.unsafelyUnwrapped[slot]
    }

    // Declared not to release anything (it frees raw memory, never a Swift object), so that the
    // optimizer knows that sizing a message releases nothing and lends elements of repeated fields
    // to nested size computations instead of copying them. (Making it inlinable instead, so that
    // the optimizer could see the body, was not enough: a deallocation may release, as far as it
    // can tell.)
    @usableFromInline @inline(never) @_effects(releasenone)
    mutating func grow() {
        let newCapacity = Swift.max(16, capacity &* 2)
        let newStorage = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        if let storage {
            newStorage.moveInitialize(from: storage, count: count)
            storage.deallocate()
        }
        storage = newStorage
        capacity = newCapacity
    }
}
