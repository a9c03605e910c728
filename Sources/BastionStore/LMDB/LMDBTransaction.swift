import CLMDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One LMDB transaction, read-only or read-write. It belongs to the thread that began it and
/// ends when the engine's closure returns; using it after that is a programming error and traps.
///
/// A read transaction's object outlives its transaction: the engine ends it with `mdb_txn_reset`,
/// keeps the object (with the table handles it looked up) and renews it for a later read, which
/// spares each read an allocation. A reference kept past its closure traps while the object
/// waits in the pool, but would reach the read that renews it. `Store` lends it only inside a
/// non-copyable transaction that its closure borrows; `ReadableTransaction.storage` is for
/// engines and tests, which must not keep it either.
final class LMDBTransaction: StorageWriteTransaction {
    /// The transaction, while it runs.
    private var handle: OpaquePointer?
    /// The transaction while it is reset and kept for renewal (read transactions only).
    private var resetHandle: OpaquePointer?
    let isWrite: Bool
    /// Tables this transaction created; published to the engine when it commits.
    private(set) var createdTables: [String: MDB_dbi] = [:]
    /// Whether a write failed with MDB_MAP_FULL (the transaction is then unusable).
    private(set) var hitMapFull = false
    // unowned(unsafe): the engine outlives every transaction it runs (they end inside its
    // `read` and `write`, or in its `close`), and a counted reference cost an atomic increment
    // and decrement per transaction.
    private unowned(unsafe) let engine: LMDBEngine
    /// The engine's longest key, copied: reading it through the unowned reference on every key
    /// check costs a strong retain and release.
    private let maxKeySize: Int

    /// The map lock's reader slot this read transaction is kept in, or `MapLock.counted` for a
    /// write or a read that found every slot taken (aborted when it ends).
    let readerSlot: Int

    init(handle: OpaquePointer, isWrite: Bool, engine: LMDBEngine, maxKeySize: Int, readerSlot: Int, withdrawals: Int) {
        self.handle = handle
        self.isWrite = isWrite
        self.engine = engine
        self.maxKeySize = maxKeySize
        self.readerSlot = readerSlot
        self.withdrawals = withdrawals
    }

    /// The engine's count of withdrawn tables when this transaction's table handles were
    /// looked up (see `LMDBEngine.withdrawals`).
    private(set) var withdrawals: Int

    /// Forgets the table handles looked up so far, after the engine withdrew some.
    func forgetTables(withdrawals: Int) {
        self.lastTable = nil
        self.previousTable = nil
        self.withdrawals = withdrawals
    }

    /// Ends a read transaction with `mdb_txn_reset`, to be renewed later; false if it had
    /// already ended.
    @discardableResult
    func reset() -> Bool {
        precondition(!self.isWrite, "Only read transactions are reused")
        guard let handle = self.handle else { return false }
        mdb_txn_reset(handle)
        self.handle = nil
        self.resetHandle = handle
        return true
    }

    /// Starts a reset read transaction again on a new snapshot: LMDB's result code (on failure
    /// the transaction is aborted and the object is of no further use).
    func renew() -> Int32 {
        guard let handle = self.resetHandle else { preconditionFailure("Only a reset transaction renews") }
        self.resetHandle = nil
        let rc = mdb_txn_renew(handle)
        if rc == 0 {
            self.handle = handle
        } else {
            mdb_txn_abort(handle)
        }
        return rc
    }

    /// Aborts a reset read transaction, which frees its reader slot.
    func abortReset() {
        if let handle = self.resetHandle {
            mdb_txn_abort(handle)
            self.resetHandle = nil
        }
    }

    private var live: OpaquePointer {
        guard let handle = self.handle else {
            preconditionFailure("A store transaction was used after its closure returned")
        }
        return handle
    }

    func abort() {
        if let handle = self.handle {
            mdb_txn_abort(handle)
            self.handle = nil
        }
    }

    func commit() -> Int32 {
        let rc = mdb_txn_commit(self.live)
        self.handle = nil
        return rc
    }

    // MARK: Tables

    /// The two tables most recently looked up: transactions mostly work on one or two tables at a
    /// time (a table and its index), and comparing the name with the last ones (usually the same
    /// string, so its bits are equal) is cheaper than hashing it.
    private var lastTable: (name: String, dbi: MDB_dbi)?
    private var previousTable: (name: String, dbi: MDB_dbi)?

    private func table(_ name: String, create: Bool) throws -> MDB_dbi? {
        if let lastTable, lastTable.name == name {
            return lastTable.dbi
        }
        if let previousTable, previousTable.name == name {
            swap(&self.lastTable, &self.previousTable)
            return previousTable.dbi
        }
        // The engine's list is consulted only after the snapshot began (that is, lazily here):
        // writers publish a new table's handle before they commit, so every table this snapshot
        // can see is listed, and a table committed later reads as absent (see
        // isUncommittedTable).
        if let dbi = (self.createdTables.isEmpty ? nil : self.createdTables[name]) ?? self.engine.tableHandle(name) {
            self.previousTable = self.lastTable
            self.lastTable = (name, dbi)
            return dbi
        }
        guard create else {
            return nil
        }
        precondition(self.isWrite, "Tables are created in write transactions only")
        guard !name.isEmpty, !name.utf8.contains(0) else {
            throw StoreError(code: .invalidArgument, message: "A table name must be non-empty and contain no NUL")
        }
        var dbi: MDB_dbi = 0
        try self.check(clmdb_open(self.live, name, clmdb_flag_create(), &dbi), "Could not create table '\(name)'")
        self.createdTables[name] = dbi
        return dbi
    }

    /// Opens every named table in the file (the keys of LMDB's main database).
    func openAllNamedTables() throws -> [String: MDB_dbi] {
        var names: [String] = []
        var main: MDB_dbi = 0
        try self.check(clmdb_open(self.live, nil, 0, &main), "Could not open the main database")
        var cursor: OpaquePointer?
        try self.check(mdb_cursor_open(self.live, main, &cursor), "Could not open a cursor")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
        while rc == 0 {
            let bytes = UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)
            if let name = String(validating: bytes, as: UTF8.self) {
                names.append(name)
            }
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        guard rc == MDB_NOTFOUND else {
            throw StoreError(lmdb: rc, "Could not list the store's tables")
        }
        var opened: [String: MDB_dbi] = [:]
        for name in names {
            var dbi: MDB_dbi = 0
            let rc = clmdb_open(self.live, name, 0, &dbi)
            // A key of the main database that isn't a table (nothing of ours writes one) is
            // skipped rather than refused.
            if rc == MDB_INCOMPATIBLE { continue }
            try self.check(rc, "Could not open table '\(name)'")
            opened[name] = dbi
        }
        return opened
    }

    // MARK: StorageReadTransaction

    func withValue<Result>(
        table: String,
        key: [UInt8],
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        try key.withUnsafeBytes { key in
            try body(self.value(table: table, key: key))
        }
    }

    func withValue<Result>(
        table: String,
        keyBytes key: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        try body(self.value(table: table, key: key))
    }

    /// The bytes stored under `key`, in the map: valid until the transaction ends or writes.
    private func value(table: String, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        try self.checkKey(count: key.count, table: table)
        guard let dbi = try self.table(table, create: false) else {
            return nil
        }
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var value = MDB_val()
        let rc = mdb_get(self.live, dbi, &keyValue, &value)
        if rc == MDB_NOTFOUND || self.isUncommittedTable(rc) {
            return nil
        }
        try self.check(rc, "Could not read from table '\(table)'")
        return UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }

    func withCursor<Result>(table: String, _ body: (any StorageCursor) throws -> Result) throws -> Result {
        guard let dbi = try self.table(table, create: false) else {
            return try body(EmptyCursor())
        }
        var handle: OpaquePointer?
        let rc = mdb_cursor_open(self.live, dbi, &handle)
        if self.isUncommittedTable(rc) {
            return try body(EmptyCursor())
        }
        try self.check(rc, "Could not open a cursor on table '\(table)'")
        let cursor = LMDBCursor(handle: handle!, transaction: self, table: table)
        defer { cursor.close() }
        return try body(cursor)
    }

    func count(table: String) throws -> Int {
        guard let dbi = try self.table(table, create: false) else {
            return 0
        }
        var stat = MDB_stat()
        let rc = mdb_stat(self.live, dbi, &stat)
        if self.isUncommittedTable(rc) {
            return 0
        }
        try self.check(rc, "Could not count table '\(table)'")
        return Int(stat.ms_entries)
    }

    // MARK: StorageWriteTransaction

    func put(table: String, key: [UInt8], value: [UInt8], overwrite: Bool) throws -> Bool {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in
                try self.put(table: table, keyBytes: key, valueBytes: value, overwrite: overwrite)
            }
        }
    }

    func put(
        table: String,
        keyBytes key: UnsafeRawBufferPointer,
        valueBytes value: UnsafeRawBufferPointer,
        overwrite: Bool
    ) throws -> Bool {
        precondition(self.isWrite, "Writes need a write transaction")
        try self.checkKey(count: key.count, table: table)
        let dbi = try self.table(table, create: true)!
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        // An empty value may have no base address; LMDB reads no bytes of it.
        var dataValue = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_put(self.live, dbi, &keyValue, &dataValue, overwrite ? 0 : clmdb_flag_nooverwrite())
        if rc == MDB_KEYEXIST {
            return false
        }
        try self.check(rc, "Could not write to table '\(table)'")
        return true
    }

    func delete(table: String, key: [UInt8]) throws -> Bool {
        precondition(self.isWrite, "Writes need a write transaction")
        try self.checkKey(count: key.count, table: table)
        guard let dbi = try self.table(table, create: false) else {
            return false
        }
        let rc = key.withUnsafeBytes { keyBytes in
            var keyValue = MDB_val(
                mv_size: keyBytes.count,
                mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
            )
            return mdb_del(self.live, dbi, &keyValue, nil)
        }
        if rc == MDB_NOTFOUND {
            return false
        }
        try self.check(rc, "Could not delete from table '\(table)'")
        return true
    }

    func removeAll(table: String) throws {
        precondition(self.isWrite, "Writes need a write transaction")
        guard let dbi = try self.table(table, create: false) else {
            return
        }
        try self.check(mdb_drop(self.live, dbi, 0), "Could not empty table '\(table)'")
    }

    // MARK: Errors

    /// Throws for a non-zero return code, remembering MDB_MAP_FULL so the engine can grow the
    /// map even if the caller catches the error.
    func check(_ rc: Int32, _ context: @autoclosure () -> String) throws {
        guard rc != 0 else { return }
        if rc == MDB_MAP_FULL {
            self.hitMapFull = true
        }
        throw StoreError(lmdb: rc, context())
    }

    /// Writers list a new table's handle just before they commit, so a read transaction may find
    /// a handle whose table its snapshot doesn't have yet; LMDB answers EINVAL for it, and the
    /// table reads as absent, as it is in that snapshot. Keys are checked before they reach LMDB,
    /// so EINVAL has no other cause here.
    private func isUncommittedTable(_ rc: Int32) -> Bool {
        !self.isWrite && rc == EINVAL
    }

    @inline(__always)
    private func checkKey(count: Int, table: String) throws {
        guard count > 0, count <= self.maxKeySize else {
            throw self.keySizeError(count: count, table: table)
        }
    }

    @inline(never)
    private func keySizeError(count: Int, table: String) -> StoreError {
        StoreError(
            code: .invalidArgument,
            message: """
                A key for table '\(table)' is \(count) bytes; keys must be 1 to \(self.maxKeySize) \
                bytes
                """
        )
    }
}

/// A cursor over an LMDB database.
final class LMDBCursor: StorageCursor {
    private var handle: OpaquePointer?
    private let transaction: LMDBTransaction
    private let table: String
    private var key = MDB_val()
    private var value = MDB_val()
    private var hasRow = false

    init(handle: OpaquePointer, transaction: LMDBTransaction, table: String) {
        self.handle = handle
        self.transaction = transaction
        self.table = table
    }

    func close() {
        if let handle = self.handle {
            mdb_cursor_close(handle)
            self.handle = nil
        }
    }

    func move(_ move: StorageCursorMove) throws -> Bool {
        guard let handle = self.handle else {
            preconditionFailure("A cursor was used after its closure returned")
        }
        let rc: Int32
        switch move {
        case .first: rc = mdb_cursor_get(handle, &self.key, &self.value, MDB_FIRST)
        case .last: rc = mdb_cursor_get(handle, &self.key, &self.value, MDB_LAST)
        case .next: rc = mdb_cursor_get(handle, &self.key, &self.value, MDB_NEXT)
        case .previous: rc = mdb_cursor_get(handle, &self.key, &self.value, MDB_PREV)
        case .atOrAfter(let target):
            guard !target.isEmpty else {
                return try self.move(.first)
            }
            rc = target.withUnsafeBytes { bytes in
                // MDB_SET_RANGE reads the key only during the call; afterwards `key` points into
                // the map.
                self.key = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                return mdb_cursor_get(handle, &self.key, &self.value, MDB_SET_RANGE)
            }
        }
        if rc == MDB_NOTFOUND {
            self.hasRow = false
            return false
        }
        try self.transaction.check(rc, "Could not move a cursor on table '\(self.table)'")
        self.hasRow = true
        return true
    }

    func withCurrent<Result>(
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        precondition(self.hasRow, "The cursor is not on a row")
        return try body(
            UnsafeRawBufferPointer(start: self.key.mv_data, count: self.key.mv_size),
            UnsafeRawBufferPointer(start: self.value.mv_data, count: self.value.mv_size)
        )
    }
}

/// The cursor over a table that doesn't exist yet.
final class EmptyCursor: StorageCursor {
    func move(_ move: StorageCursorMove) throws -> Bool { false }

    func withCurrent<Result>(
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        preconditionFailure("The cursor is not on a row")
    }
}
