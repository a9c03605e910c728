/// The store's one write transaction, valid only inside the closure that received it.
///
/// Hand it out with ``Store/withWriteTransaction(_:)`` (async, on the store's writer thread)
/// or ``Store/withWriteTransactionBlocking(_:)``. Every change commits together when the
/// closure returns, or none does if it throws. It has every read method of
/// ``ReadableTransaction`` and sees its own writes.
///
/// The closure may run more than once (after the store grows a full map), so it must have no
/// effect outside the transaction: compute, read and write here; act on the result afterwards.
public struct WriteTransaction: ReadableTransaction, ~Copyable {
    /// The engine-level write transaction underneath.
    public let writeStorage: any StorageWriteTransaction
    let instant: TransactionInstant

    public var now: StoreInstant { self.instant.value }

    public var storage: any StorageReadTransaction { self.writeStorage }

    init(storage: any StorageWriteTransaction, instant: TransactionInstant) {
        self.writeStorage = storage
        self.instant = instant
    }

    // MARK: Plain tables

    /// Stores `value` under `key`, replacing any row there, and updates the table's indexes.
    ///
    /// - Throws: ``StoreError/Code/alreadyExists`` if a unique index already has one of the
    ///   value's index keys for another row; nothing is written then.
    @inlinable
    public func put<Key, Value>(_ table: Table<Key, Value>, _ key: Key, _ value: Value) throws {
        guard table.indexes.isEmpty else {
            return try self.putIndexed(table, key, value)
        }
        // Key and value are lent to the engine, which copies them into its pages: no arrays for
        // keys and values that are their own bytes or fit on the stack.
        let storage = self.writeStorage
        try key.withStoreKeyBytes { key in
            try value.withStoreBytes { value in
                _ = try storage.put(table: table.name, keyBytes: key, valueBytes: value, overwrite: true)
            }
        }
    }

    @usableFromInline
    func putIndexed<Key, Value>(_ table: Table<Key, Value>, _ key: Key, _ value: Value) throws {
        let keyBytes = key.storeKeyBytes
        let old = try self.get(table, key)
        let changes = try self.indexChanges(table, primaryKey: keyBytes, old: old, new: value)
        try self.apply(changes, primaryKey: keyBytes)
        try self.writeStorage.put(table: table.name, key: keyBytes, value: value.storeBytes(), overwrite: true)
    }

    /// Stores `value` under `key` if no row is there yet.
    ///
    /// - Throws: ``StoreError/Code/alreadyExists`` if a row is stored under `key`, or if a unique
    ///   index already has one of the value's index keys.
    public func insert<Key, Value>(_ table: Table<Key, Value>, _ key: Key, _ value: Value) throws {
        guard try !self.contains(table, key) else {
            throw StoreError(code: .alreadyExists, message: "Table '\(table.name)' already has a row with this key")
        }
        try self.put(table, key, value)
    }

    /// Changes the value stored under `key` in place and stores it again.
    ///
    /// - Throws: ``StoreError/Code/notFound`` if no row is stored under `key`.
    @discardableResult
    public func update<Key, Value, Result>(
        _ table: Table<Key, Value>,
        _ key: Key,
        _ body: (inout Value) throws -> Result
    ) throws -> Result {
        guard var value = try self.get(table, key) else {
            throw StoreError(code: .notFound, message: "Table '\(table.name)' has no row with this key")
        }
        let result = try body(&value)
        try self.put(table, key, value)
        return result
    }

    /// Deletes the row under `key` and its index entries; returns whether there was one.
    @discardableResult
    public func delete<Key, Value>(_ table: Table<Key, Value>, _ key: Key) throws -> Bool {
        let keyBytes = key.storeKeyBytes
        if !table.indexes.isEmpty {
            guard let old = try self.get(table, key) else { return false }
            let changes = try self.indexChanges(table, primaryKey: keyBytes, old: old, new: nil)
            try self.apply(changes, primaryKey: keyBytes)
        }
        return try self.writeStorage.delete(table: table.name, key: keyBytes)
    }

    /// Deletes the rows in `range` (and their index entries); returns how many.
    @discardableResult
    public func delete<Key, Value>(_ table: Table<Key, Value>, _ range: KeyRange<Key>) throws -> Int {
        var count = 0
        for key in try self.keys(table, range) where try self.delete(table, key) {
            count += 1
        }
        return count
    }

    /// Deletes every row of `table` and every entry of its indexes.
    public func removeAll<Key, Value>(_ table: Table<Key, Value>) throws {
        try self.writeStorage.removeAll(table: table.name)
        for index in table.indexes {
            try self.writeStorage.removeAll(table: index.name)
        }
    }

    // MARK: Expiring tables

    /// Stores `value` under `key` until `expiresAt`, replacing any row there.
    public func put<Key, Value>(
        _ table: ExpiringTable<Key, Value>,
        _ key: Key,
        _ value: Value,
        expiresAt: StoreInstant
    ) throws {
        let keyBytes = key.storeKeyBytes
        try self.removeExpiryEntry(table, keyBytes: keyBytes)
        try self.writeStorage.put(
            table: table.name,
            key: keyBytes,
            value: ExpiryLayout.row(expiresAt: expiresAt, value: value.storeBytes()),
            overwrite: true
        )
        try self.writeStorage.put(
            table: table.expiryIndexName,
            key: ExpiryLayout.indexKey(expiresAt: expiresAt, key: keyBytes),
            value: [],
            overwrite: true
        )
    }

    /// Stores `value` under `key` for `lifetime` from the transaction's ``now``.
    public func put<Key, Value>(
        _ table: ExpiringTable<Key, Value>,
        _ key: Key,
        _ value: Value,
        expiresIn lifetime: Duration
    ) throws {
        try self.put(table, key, value, expiresAt: self.now.advanced(by: lifetime))
    }

    /// Deletes the row under `key`, expired or not; returns whether a live row was there.
    @discardableResult
    public func delete<Key, Value>(_ table: ExpiringTable<Key, Value>, _ key: Key) throws -> Bool {
        let keyBytes = key.storeKeyBytes
        let wasLive = try self.entry(table, key) != nil
        try self.removeExpiryEntry(table, keyBytes: keyBytes)
        try self.writeStorage.delete(table: table.name, key: keyBytes)
        return wasLive
    }

    /// Deletes up to `limit` rows of `table` that expired at or before ``now``, oldest first;
    /// returns how many it deleted. Keep `limit` small enough that the transaction stays short.
    @discardableResult
    public func removeExpired(_ table: some SweepableTable, limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        let now = self.now
        var expired: [(indexKey: [UInt8], expiresAt: StoreInstant, key: [UInt8])] = []
        try self.storage.forEachRow(table: table.expiryIndexName, lower: nil, upper: nil, reverse: false) {
            indexKey,
            _ in
            let (expiresAt, key) = try ExpiryLayout.splitIndexKey(indexKey, table: table.expiryIndexName)
            guard expiresAt <= now else { return false }
            expired.append((Array(indexKey), expiresAt, Array(key)))
            return expired.count < limit
        }
        var removed = 0
        for entry in expired {
            try self.writeStorage.delete(table: table.expiryIndexName, key: entry.indexKey)
            // Only delete the row if it still carries this expiry time; a row stored again with a
            // later expiry has its own index entry.
            let matches = try self.storage.withValue(table: table.name, key: entry.key) { bytes in
                guard let bytes else { return false }
                return try ExpiryLayout.split(bytes, table: table.name).expiresAt == entry.expiresAt
            }
            if matches {
                try self.writeStorage.delete(table: table.name, key: entry.key)
                removed += 1
            }
        }
        return removed
    }

    private func removeExpiryEntry<Key, Value>(_ table: ExpiringTable<Key, Value>, keyBytes: [UInt8]) throws {
        let oldExpiry = try self.storage.withValue(table: table.name, key: keyBytes) { bytes in
            try bytes.map { try ExpiryLayout.split($0, table: table.name).expiresAt }
        }
        if let oldExpiry {
            try self.writeStorage.delete(
                table: table.expiryIndexName,
                key: ExpiryLayout.indexKey(expiresAt: oldExpiry, key: keyBytes)
            )
        }
    }

    // MARK: Counters

    /// Adds `delta` to the counter and returns its new value. A counter that was never set
    /// starts at zero.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` if the sum overflows `Int64`.
    @discardableResult
    @inlinable
    public func increment<Key>(_ counters: CounterTable<Key>, _ key: Key, by delta: Int64 = 1) throws -> Int64 {
        let current = try self.value(counters, key)
        let (sum, overflow) = current.addingReportingOverflow(delta)
        guard !overflow else {
            throw StoreError.counterOverflow(counters.name, current, delta)
        }
        try self.set(counters, key, to: sum)
        return sum
    }

    /// Sets the counter to `value`.
    @inlinable
    public func set<Key>(_ counters: CounterTable<Key>, _ key: Key, to value: Int64) throws {
        let storage = self.writeStorage
        try key.withStoreKeyBytes { key in
            try value.withStoreBytes { value in
                _ = try storage.put(table: counters.name, keyBytes: key, valueBytes: value, overwrite: true)
            }
        }
    }

    /// Deletes the counter, so that it reads as zero; returns whether it was set.
    @discardableResult
    public func reset<Key>(_ counters: CounterTable<Key>, _ key: Key) throws -> Bool {
        try self.writeStorage.delete(table: counters.name, key: key.storeKeyBytes)
    }

    // MARK: Index maintenance

    private struct IndexChange {
        var index: String
        var isUnique: Bool
        var removed: [[UInt8]]
        var added: [[UInt8]]
    }

    /// Works out each index's entries to remove and add, and checks unique indexes before
    /// anything is written, so a conflict leaves the transaction unchanged.
    private func indexChanges<Key, Value>(
        _ table: Table<Key, Value>,
        primaryKey: [UInt8],
        old: Value?,
        new: Value?
    ) throws -> [IndexChange] {
        var changes: [IndexChange] = []
        for index in table.indexes {
            let oldKeys = old.map { index.encodedIndexKeys(for: $0) } ?? []
            let newKeys = new.map { index.encodedIndexKeys(for: $0) } ?? []
            let removed = oldKeys.filter { !newKeys.contains($0) }
            let added = newKeys.filter { !oldKeys.contains($0) }
            if index.isUnique {
                for indexKey in added {
                    let owner = try self.storage.withValue(table: index.name, key: indexKey) { $0.map { Array($0) } }
                    if let owner, owner != primaryKey {
                        throw StoreError(
                            code: .alreadyExists,
                            message:
                                "Unique index '\(index.name)' already has this key for another row of '\(table.name)'"
                        )
                    }
                }
            }
            changes.append(IndexChange(index: index.name, isUnique: index.isUnique, removed: removed, added: added))
        }
        return changes
    }

    private func apply(_ changes: [IndexChange], primaryKey: [UInt8]) throws {
        for change in changes {
            for indexKey in change.removed {
                try self.writeStorage.delete(
                    table: change.index,
                    key: IndexLayout.entryKey(indexKey: indexKey, primaryKey: primaryKey, unique: change.isUnique)
                )
            }
            for indexKey in change.added {
                try self.writeStorage.put(
                    table: change.index,
                    key: IndexLayout.entryKey(indexKey: indexKey, primaryKey: primaryKey, unique: change.isUnique),
                    value: change.isUnique ? primaryKey : [],
                    overwrite: true
                )
            }
        }
    }
}

@available(*, unavailable)
extension WriteTransaction: Sendable {}

extension StoreError {
    @usableFromInline
    static func counterOverflow(_ table: String, _ current: Int64, _ delta: Int64) -> StoreError {
        StoreError(
            code: .invalidArgument,
            message: "Counter in table '\(table)' would overflow: \(current) + \(delta)"
        )
    }
}
