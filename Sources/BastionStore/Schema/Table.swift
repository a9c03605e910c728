/// A named table of rows with keys of type `Key` and values of type `Value`.
///
/// A table is a description, not an open handle: declare it once (a `static let` is typical) and
/// pass it to a transaction's methods. The storage engine creates the table the first time a
/// row is written to it; until then it reads as empty.
///
/// Secondary indexes listed in ``indexes`` are kept in step with the table by every write made
/// through a ``WriteTransaction``, in the same transaction.
public struct Table<Key: StoreKey, Value: StoreValue>: Sendable {
    /// The table's name in the store (what `mdb_stat -a` lists).
    public let name: String
    /// The secondary indexes kept in step with this table.
    public let indexes: [any SecondaryIndex<Key, Value>]

    /// Declares a table.
    ///
    /// - Parameters:
    ///   - name: The table's name; must be unique in the store and must not start with `_`,
    ///     which the store keeps for itself.
    ///   - indexes: Secondary indexes to keep in step with the table.
    public init(_ name: String, indexes: [any SecondaryIndex<Key, Value>] = []) {
        precondition(!name.isEmpty, "A table needs a name")
        self.name = name
        self.indexes = indexes
    }
}

/// A table of counters: each key maps to a signed 64-bit count, changed atomically by
/// ``WriteTransaction/increment(_:_:by:)``. A missing key counts as zero.
public struct CounterTable<Key: StoreKey>: Sendable {
    /// The table's name in the store.
    public let name: String

    /// Declares a counter table.
    public init(_ name: String) {
        precondition(!name.isEmpty, "A table needs a name")
        self.name = name
    }
}

/// A table whose rows expire: each row carries an expiry time, an expired row reads as absent,
/// and ``WriteTransaction/removeExpired(_:limit:)`` (or an ``ExpirySweeper``) deletes it.
///
/// It is stored as two tables: `name`, whose values are the expiry time (8 bytes, big-endian
/// milliseconds since the epoch) followed by the value's bytes, and `name#expiry`, whose keys are
/// the expiry time followed by the row's key, so expired rows are found in expiry order.
public struct ExpiringTable<Key: StoreKey, Value: StoreValue>: SweepableTable {
    /// The table's name in the store.
    public let name: String

    /// The name of the table that orders rows by expiry.
    public var expiryIndexName: String { self.name + "#expiry" }

    /// Declares an expiring table.
    public init(_ name: String) {
        precondition(!name.isEmpty, "A table needs a name")
        self.name = name
    }
}

/// A table that an ``ExpirySweeper`` can sweep, whatever its key and value types.
public protocol SweepableTable: Sendable {
    /// The table's name in the store.
    var name: String { get }
    /// The name of the table that orders rows by expiry.
    var expiryIndexName: String { get }
}
