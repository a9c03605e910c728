/// A position in a table, moved by hand; valid only inside the closure that received it.
///
/// Each move returns the row it lands on, or `nil` when there is none; after a `nil`, start
/// again with ``first()``, ``last()`` or a seek.
public struct TableCursor<Key: StoreKey, Value: StoreValue>: ~Copyable {
    private let cursor: any StorageCursor
    private let table: String

    init(cursor: any StorageCursor, table: String) {
        self.cursor = cursor
        self.table = table
    }

    /// Moves to the first row.
    public func first() throws -> (key: Key, value: Value)? {
        try self.move(.first)
    }

    /// Moves to the last row.
    public func last() throws -> (key: Key, value: Value)? {
        try self.move(.last)
    }

    /// Moves to the next row.
    public func next() throws -> (key: Key, value: Value)? {
        try self.move(.next)
    }

    /// Moves to the previous row.
    public func previous() throws -> (key: Key, value: Value)? {
        try self.move(.previous)
    }

    /// Moves to the first row whose key is `key` or comes after it.
    public func seek(atOrAfter key: Key) throws -> (key: Key, value: Value)? {
        try self.move(.atOrAfter(key.storeKeyBytes))
    }

    /// Moves to the first row whose encoded key is `prefix` or comes after it (the first row
    /// with that prefix, if there is one).
    public func seek(atOrAfter prefix: KeyPrefix) throws -> (key: Key, value: Value)? {
        try self.move(.atOrAfter(prefix.bytes))
    }

    private func move(_ move: StorageCursorMove) throws -> (key: Key, value: Value)? {
        guard try self.cursor.move(move) else { return nil }
        return try self.cursor.withCurrent { key, value in
            (
                try decodeKey(Key.self, from: key, table: self.table),
                try decodeValue(Value.self, from: value, table: self.table)
            )
        }
    }
}

@available(*, unavailable)
extension TableCursor: Sendable {}
