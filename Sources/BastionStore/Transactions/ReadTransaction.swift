/// A read-only snapshot of the store, valid only inside the closure that received it.
///
/// Hand it out with ``Store/withReadTransaction(_:)``. It is not copyable and not `Sendable`,
/// and the closure is synchronous, so it can't be kept, sent to another task, or held across an
/// `await`. The read methods live on ``ReadableTransaction``, shared with ``WriteTransaction``.
public struct ReadTransaction: ReadableTransaction, ~Copyable {
    public let storage: any StorageReadTransaction
    let instant: TransactionInstant

    public var now: StoreInstant { self.instant.value }

    init(storage: any StorageReadTransaction, instant: TransactionInstant) {
        self.storage = storage
        self.instant = instant
    }
}

/// The store clock's time for one transaction, read when the transaction first asks for it and
/// the same from then on.
///
/// Only expiring tables ask, and a clock read costs a tenth of a one-row read transaction, so
/// transactions that never ask don't pay for it. The time lives in the frame of the `Store`
/// method that runs the transaction (see ``Store/withTransactionInstant(_:_:)``), which outlives
/// the transaction: transactions are non-copyable and only borrowed by their closure. So does
/// the clock's box, which the store (or its migration) keeps: both are plain pointers here, so
/// making and dropping the instant costs no reference counting and no existential copy.
struct TransactionInstant {
    private unowned(unsafe) let clock: StoreClockBox
    private let slot: UnsafeMutablePointer<StoreInstant?>

    init(clock: StoreClockBox, slot: UnsafeMutablePointer<StoreInstant?>) {
        self.clock = clock
        self.slot = slot
    }

    var value: StoreInstant {
        if let instant = self.slot.pointee {
            return instant
        }
        let instant = self.clock.clock.now()
        self.slot.pointee = instant
        return instant
    }
}

/// A store's clock in a box of its own, which transactions point to (see TransactionInstant).
final class StoreClockBox: Sendable {
    let clock: any StoreClock

    init(_ clock: any StoreClock) {
        self.clock = clock
    }
}

@available(*, unavailable)
extension ReadTransaction: Sendable {}

/// The read operations, available in read and write transactions alike.
///
/// Write helpers that only read can take `borrowing some ReadableTransaction & ~Copyable`, so
/// they work in both kinds of transaction.
public protocol ReadableTransaction: ~Copyable {
    /// The engine-level transaction underneath; for storage engines and tests, not services.
    var storage: any StorageReadTransaction { get }

    /// The store clock's time, read when the transaction first asks for it and the same from
    /// then on. Expiring rows are judged against it, so a transaction sees a row consistently as
    /// live or expired.
    var now: StoreInstant { get }
}

/// Decodes a stored value, turning a decoding failure into ``StoreError/Code/invalidData``.
@inlinable
func decodeValue<Value: StoreValue>(_ type: Value.Type, from bytes: UnsafeRawBufferPointer, table: String) throws
    -> Value
{
    do {
        return try Value(storeBytes: bytes)
    } catch {
        throw valueDecodingError(error, type: Value.self, table: table)
    }
}

@usableFromInline
@inline(never)
func valueDecodingError(_ error: any Error, type: Any.Type, table: String) -> StoreError {
    if let error = error as? StoreError {
        return error
    }
    return StoreError(
        code: .invalidData,
        message: "A row in table '\(table)' could not be decoded as \(type)",
        cause: error
    )
}

/// Decodes a stored key, naming the table on failure.
func decodeKey<Key: StoreKey>(_ type: Key.Type, from bytes: UnsafeRawBufferPointer, table: String) throws -> Key {
    do {
        return try Key(storeKeyBytes: bytes)
    } catch var error as StoreError {
        error.message = "Table '\(table)': \(error.message)"
        throw error
    }
}

extension ReadableTransaction where Self: ~Copyable {
    // MARK: Plain tables

    /// The value stored under `key`, or `nil`.
    ///
    /// The value is decoded from the stored bytes into a new value (for `[UInt8]`, a copy). To
    /// read the bytes without copying them, use ``withValueBytes(_:_:_:)``.
    @inlinable
    public func get<Key, Value>(_ table: Table<Key, Value>, _ key: Key) throws -> Value? {
        let storage = self.storage
        return try key.withStoreKeyBytes { key in
            try storage.withValue(table: table.name, keyBytes: key) { bytes in
                guard let bytes else { return nil }
                return try decodeValue(Value.self, from: bytes, table: table.name)
            }
        }
    }

    /// Calls `body` with the bytes stored under `key`, or `nil`, without copying them: the
    /// borrowing form of ``get(_:_:)-(Table<Key,Value>,_)``, for hot paths that read a few bytes of a
    /// row or decode it themselves.
    ///
    /// The bytes point into the store's memory map and are valid only inside `body`; copy what
    /// you need to keep. Don't write to the store inside `body`.
    @inlinable
    public func withValueBytes<Key, Value, Result>(
        _ table: Table<Key, Value>,
        _ key: Key,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        let storage = self.storage
        return try key.withStoreKeyBytes { key in
            try storage.withValue(table: table.name, keyBytes: key, body)
        }
    }

    /// Copies the bytes stored under `key` into `buffer`, replacing what it held, and returns
    /// whether there was a row (if not, `buffer` is left as it was).
    ///
    /// The owned-copy form of ``withValueBytes(_:_:_:)`` for loops that read many rows: `buffer`
    /// keeps its storage from call to call, so once it has grown to the largest row, reads
    /// allocate nothing (``get(_:_:)-(Table<Key,Value>,_)`` allocates a new array per row).
    @inlinable
    public func copyValueBytes<Key, Value>(
        _ table: Table<Key, Value>,
        _ key: Key,
        into buffer: inout [UInt8]
    ) throws -> Bool {
        let storage = self.storage
        return try key.withStoreKeyBytes { key in
            try storage.withValue(table: table.name, keyBytes: key) { bytes in
                guard let bytes else { return false }
                if buffer.count == bytes.count {
                    // Rows of one size (the common case): overwrite in place.
                    buffer.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
                } else {
                    buffer.removeAll(keepingCapacity: true)
                    buffer.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
                }
                return true
            }
        }
    }

    /// Whether a row is stored under `key`.
    @inlinable
    public func contains<Key, Value>(_ table: Table<Key, Value>, _ key: Key) throws -> Bool {
        let storage = self.storage
        return try key.withStoreKeyBytes { key in
            try storage.withValue(table: table.name, keyBytes: key) { $0 != nil }
        }
    }

    /// The number of rows in `table`.
    public func count<Key, Value>(_ table: Table<Key, Value>) throws -> Int {
        try self.storage.count(table: table.name)
    }

    /// The rows in `range`, in key order (or reverse key order), at most `limit` of them.
    public func scan<Key, Value>(
        _ table: Table<Key, Value>,
        _ range: KeyRange<Key> = .all,
        reverse: Bool = false,
        limit: Int = .max
    ) throws -> [(key: Key, value: Value)] {
        var rows: [(key: Key, value: Value)] = []
        try self.forEach(table, range, reverse: reverse) { key, value in
            rows.append((key, value))
            return rows.count < limit
        }
        return rows
    }

    /// The keys in `range`, in key order (or reverse key order), at most `limit` of them.
    /// Cheaper than ``scan(_:_:reverse:limit:)`` when the values aren't needed.
    public func keys<Key, Value>(
        _ table: Table<Key, Value>,
        _ range: KeyRange<Key> = .all,
        reverse: Bool = false,
        limit: Int = .max
    ) throws -> [Key] {
        var keys: [Key] = []
        guard limit > 0 else { return keys }
        try self.storage.forEachRow(table: table.name, lower: range.lower, upper: range.upper, reverse: reverse) {
            key,
            _ in
            keys.append(try decodeKey(Key.self, from: key, table: table.name))
            return keys.count < limit
        }
        return keys
    }

    /// Calls `body` with each row in `range`, in key order (or reverse key order), until it
    /// returns `false`.
    public func forEach<Key, Value>(
        _ table: Table<Key, Value>,
        _ range: KeyRange<Key> = .all,
        reverse: Bool = false,
        _ body: (Key, Value) throws -> Bool
    ) throws {
        try self.storage.forEachRow(table: table.name, lower: range.lower, upper: range.upper, reverse: reverse) {
            key,
            value in
            try body(
                decodeKey(Key.self, from: key, table: table.name),
                decodeValue(Value.self, from: value, table: table.name)
            )
        }
    }

    /// Calls `body` with a cursor over `table`, for walks that scans don't cover.
    public func withCursor<Key, Value, Result>(
        _ table: Table<Key, Value>,
        _ body: (borrowing TableCursor<Key, Value>) throws -> Result
    ) throws -> Result {
        try self.storage.withCursor(table: table.name) { cursor in
            try body(TableCursor(cursor: cursor, table: table.name))
        }
    }

    // MARK: Secondary indexes

    /// The row whose index key is `indexKey`, or `nil`; for unique indexes. On a non-unique
    /// index, the first such row in primary-key order.
    public func lookup<IndexKey, Key, Value>(
        _ index: Index<IndexKey, Key, Value>,
        _ indexKey: IndexKey,
        in table: Table<Key, Value>
    ) throws -> (key: Key, value: Value)? {
        try self.lookupAll(index, indexKey, in: table, limit: 1).first
    }

    /// The rows whose index key is `indexKey`, in primary-key order, at most `limit` of them.
    public func lookupAll<IndexKey, Key, Value>(
        _ index: Index<IndexKey, Key, Value>,
        _ indexKey: IndexKey,
        in table: Table<Key, Value>,
        limit: Int = .max
    ) throws -> [(key: Key, value: Value)] {
        table.checkHasIndex(index)
        var rows: [(key: Key, value: Value)] = []
        for key in try self.primaryKeys(index, indexKey, limit: limit) {
            // The index and the table are written in the same transactions, so a missing row
            // means the files are damaged.
            guard let value = try self.get(table, key) else {
                throw StoreError(
                    code: .corrupt,
                    message: "Index '\(index.name)' names a row that table '\(table.name)' does not have"
                )
            }
            rows.append((key, value))
        }
        return rows
    }

    /// The primary keys of the rows whose index key is `indexKey`, in primary-key order.
    public func primaryKeys<IndexKey, Key, Value>(
        _ index: Index<IndexKey, Key, Value>,
        _ indexKey: IndexKey,
        limit: Int = .max
    ) throws -> [Key] {
        guard limit > 0 else { return [] }
        let encoded = indexKey.storeKeyBytes
        if index.isUnique {
            let key = try self.storage.withValue(table: index.name, key: encoded) { bytes in
                try bytes.map { try decodeKey(Key.self, from: $0, table: index.name) }
            }
            return key.map { [$0] } ?? []
        }
        let prefix = KeyPrefix(bytes: IndexLayout.entryPrefix(indexKey: encoded))
        var keys: [Key] = []
        try self.storage.forEachRow(table: index.name, lower: prefix.bytes, upper: prefix.upperBound, reverse: false) {
            entry,
            _ in
            let primary = UnsafeRawBufferPointer(rebasing: entry[prefix.bytes.count...])
            keys.append(try decodeKey(Key.self, from: primary, table: index.name))
            return keys.count < limit
        }
        return keys
    }

    // MARK: Expiring tables

    /// The value stored under `key`, or `nil` if there is none or it has expired.
    public func get<Key, Value>(_ table: ExpiringTable<Key, Value>, _ key: Key) throws -> Value? {
        try self.entry(table, key)?.value
    }

    /// The value stored under `key` and its expiry time, or `nil` if there is none or it has
    /// expired.
    public func entry<Key, Value>(_ table: ExpiringTable<Key, Value>, _ key: Key) throws -> ExpiringEntry<Value>? {
        let now = self.now
        let storage = self.storage
        return try key.withStoreKeyBytes { key in try storage.withValue(table: table.name, keyBytes: key) { bytes in
            guard let bytes else { return nil }
            let (expiresAt, payload) = try ExpiryLayout.split(bytes, table: table.name)
            guard expiresAt > now else { return nil }
            return ExpiringEntry(
                value: try decodeValue(Value.self, from: payload, table: table.name),
                expiresAt: expiresAt
            )
        } }
    }

    // MARK: Counters

    /// The counter's value; zero if it was never set.
    @inlinable
    public func value<Key>(_ counters: CounterTable<Key>, _ key: Key) throws -> Int64 {
        let storage = self.storage
        return try key.withStoreKeyBytes { key in
            try storage.withValue(table: counters.name, keyBytes: key) { bytes in
                guard let bytes else { return 0 }
                return try decodeValue(Int64.self, from: bytes, table: counters.name)
            }
        }
    }
}

/// A live row of an ``ExpiringTable`` and when it expires.
public struct ExpiringEntry<Value: StoreValue>: Sendable {
    /// The row's value.
    public var value: Value
    /// When the row stops being visible.
    public var expiresAt: StoreInstant
}

extension Table {
    func checkHasIndex<IndexKey>(_ index: Index<IndexKey, Key, Value>) {
        precondition(
            self.indexes.contains { $0.name == index.name },
            "Index '\(index.name)' is not listed in the indexes of table '\(self.name)', so it isn't kept up to date"
        )
    }
}

extension StorageReadTransaction {
    /// Walks the rows with `lower <= key < upper` (either bound optional), forwards or
    /// backwards, until `body` returns `false`.
    func forEachRow(
        table: String,
        lower: [UInt8]?,
        upper: [UInt8]?,
        reverse: Bool,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try self.withCursor(table: table) { cursor in
            if reverse {
                var found: Bool
                if let upper {
                    // The first key >= upper is just past the range: step back from it.
                    found = try cursor.move(.atOrAfter(upper)) ? cursor.move(.previous) : cursor.move(.last)
                } else {
                    found = try cursor.move(.last)
                }
                while found {
                    let goOn = try cursor.withCurrent { key, value in
                        if let lower, compare(key, lower) < 0 { return false }
                        return try body(key, value)
                    }
                    guard goOn else { return }
                    found = try cursor.move(.previous)
                }
            } else {
                var found = try lower.map { try cursor.move(.atOrAfter($0)) } ?? cursor.move(.first)
                while found {
                    let goOn = try cursor.withCurrent { key, value in
                        if let upper, compare(key, upper) >= 0 { return false }
                        return try body(key, value)
                    }
                    guard goOn else { return }
                    found = try cursor.move(.next)
                }
            }
        }
    }
}
