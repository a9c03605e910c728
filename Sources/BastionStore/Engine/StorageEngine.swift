/// The byte-level storage a ``Store`` runs on.
///
/// Services never see these protocols: they use ``Store``, ``ReadTransaction``,
/// ``WriteTransaction`` and the table types, which are written once on top of them. LMDB
/// (``LMDBEngine``) is the embedded default; another engine (PostgreSQL, for several server
/// replicas) implements these protocols and the services stay as they are. The contract:
///
/// - Tables are named sets of rows, sorted by key bytes (unsigned, shorter first on a tie). A
///   table that was never written reads as empty; writing to it creates it.
/// - A read transaction sees one consistent snapshot. A write transaction sees its own writes;
///   there is one writer at a time; it commits entirely or not at all, and once
///   ``write(_:)`` returns the commit is durable (as the engine's settings define it).
/// - Transactions are used by one thread, inside the call that handed them out.
public protocol StorageEngine: AnyObject, Sendable {
    /// Runs `body` in a read-only snapshot on the calling thread.
    func read<Result>(_ body: (any StorageReadTransaction) throws -> Result) throws -> Result

    /// Runs `body` in a write transaction on the calling thread and commits it if `body`
    /// returns; blocks while another write transaction is open. The engine may run `body` more
    /// than once (LMDB does after growing a full map), so `body` must have no effect outside the
    /// transaction.
    func write<Result>(_ body: (any StorageWriteTransaction) throws -> Result) throws -> Result

    /// Writes a consistent, compacted copy of the store to a new folder at `path`, while reads
    /// and writes go on.
    func backup(to path: String) throws

    /// Sizes and row counts.
    func statistics() throws -> StorageStatistics

    /// Closes the engine; waits for open transactions to end. Later calls throw
    /// ``StoreError/Code/closed``.
    func close()
}

/// One read-only transaction of a ``StorageEngine``.
public protocol StorageReadTransaction: AnyObject {
    /// Calls `body` with the value stored under `key`, or `nil`. The bytes are valid only
    /// inside `body`.
    func withValue<Result>(
        table: String,
        key: [UInt8],
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result

    /// Calls `body` with the value stored under `key`, or `nil`; the key is borrowed, so typed
    /// keys encoded on the stack need no array. The bytes are valid only inside `body`.
    ///
    /// The default implementation copies `key` into an array and calls
    /// ``withValue(table:key:_:)-(_,[UInt8],_)``; engines implement it directly.
    func withValue<Result>(
        table: String,
        keyBytes key: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result

    /// Calls `body` with a cursor over `table`, valid only inside `body`.
    func withCursor<Result>(table: String, _ body: (any StorageCursor) throws -> Result) throws -> Result

    /// The number of rows in `table`.
    func count(table: String) throws -> Int
}

/// One write transaction of a ``StorageEngine``.
public protocol StorageWriteTransaction: StorageReadTransaction {
    /// Stores `value` under `key`. With `overwrite: false`, leaves an existing row alone and
    /// returns `false`.
    @discardableResult
    func put(table: String, key: [UInt8], value: [UInt8], overwrite: Bool) throws -> Bool

    /// Stores `value` under `key`, both borrowed for the call. With `overwrite: false`, leaves an
    /// existing row alone and returns `false`. The default implementation copies both into arrays
    /// and calls ``put(table:key:value:overwrite:)-(_,[UInt8],[UInt8],_)``.
    @discardableResult
    func put(table: String, keyBytes key: UnsafeRawBufferPointer, valueBytes value: UnsafeRawBufferPointer, overwrite: Bool)
        throws -> Bool

    /// Deletes the row under `key`; returns whether there was one.
    @discardableResult
    func delete(table: String, key: [UInt8]) throws -> Bool

    /// Deletes every row of `table` (the table stays).
    func removeAll(table: String) throws
}

extension StorageReadTransaction {
    public func withValue<Result>(
        table: String,
        keyBytes key: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        try self.withValue(table: table, key: Array(key), body)
    }
}

extension StorageWriteTransaction {
    @discardableResult
    public func put(
        table: String,
        keyBytes key: UnsafeRawBufferPointer,
        valueBytes value: UnsafeRawBufferPointer,
        overwrite: Bool
    ) throws -> Bool {
        try self.put(table: table, key: Array(key), value: Array(value), overwrite: overwrite)
    }
}

/// Where to move a ``StorageCursor``.
public enum StorageCursorMove: Sendable {
    /// The first row.
    case first
    /// The last row.
    case last
    /// The row after the current one.
    case next
    /// The row before the current one.
    case previous
    /// The first row whose key is equal to or greater than the given key.
    case atOrAfter([UInt8])
}

/// A position in a table, in key order.
public protocol StorageCursor: AnyObject {
    /// Moves the cursor; returns `false`, leaving the cursor without a row, when there is no
    /// such row.
    func move(_ move: StorageCursorMove) throws -> Bool

    /// Calls `body` with the current row's key and value, valid only inside `body`.
    func withCurrent<Result>(
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result
}

/// Sizes and row counts of a store.
public struct StorageStatistics: Sendable, Hashable {
    /// The number of rows in each table, by name.
    public var rowCounts: [String: Int]
    /// Bytes reserved for the store (LMDB's map size).
    public var reservedBytes: Int
    /// Bytes in use.
    public var usedBytes: Int
    /// Read transactions open now, in every process.
    public var readersInUse: Int
    /// The most read transactions that may be open at once.
    public var maxReaders: Int

    /// Makes statistics.
    public init(rowCounts: [String: Int], reservedBytes: Int, usedBytes: Int, readersInUse: Int, maxReaders: Int) {
        self.rowCounts = rowCounts
        self.reservedBytes = reservedBytes
        self.usedBytes = usedBytes
        self.readersInUse = readersInUse
        self.maxReaders = maxReaders
    }
}
