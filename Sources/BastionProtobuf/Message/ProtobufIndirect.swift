/// Holds a message field on the heap, which lets a message contain itself (directly or through
/// other messages) while staying a value type.
///
/// The storage is immutable and replaced on every write, so copies never share mutable state and
/// the type is `Sendable` without locks.
public struct ProtobufIndirect<Value: Hashable & Sendable>: Hashable, Sendable {
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline
        let value: Value

        @inlinable
        init(_ value: Value) { self.value = value }
    }

    @usableFromInline
    var storage: Storage

    @inlinable
    public init(_ value: Value) { storage = Storage(value) }

    @inlinable
    public var value: Value {
        get { storage.value }
        set { storage = Storage(newValue) }
    }

    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
    }

    @inlinable
    public func hash(into hasher: inout Hasher) { storage.value.hash(into: &hasher) }
}
