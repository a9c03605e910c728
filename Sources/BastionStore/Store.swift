public import Logging
import NIOPosix
import Synchronization

/// Bastion's store: typed tables in short transactions over a storage engine (LMDB by default).
///
/// - Reads run on the calling thread in a ``ReadTransaction`` snapshot; they never wait for the
///   writer.
/// - Writes run one at a time in a ``WriteTransaction``. ``withWriteTransaction(_:)`` runs them
///   on the store's own writer thread, so async code (and event loops) never block on disk
///   syncs; ``withWriteTransactionBlocking(_:)`` runs them on the calling thread, for startup
///   code, tools and tests.
/// - Transactions are synchronous closures: they can't be held across an `await`.
///
/// Close the store with ``close()`` when you are done with it.
public final class Store: Sendable {
    /// The storage engine underneath.
    public let engine: any StorageEngine
    /// The clock that expiring rows are judged by.
    public let clock: any StoreClock
    /// The schema version the store is at (after running migrations).
    public let schemaVersion: Int
    /// The engine, when it is LMDB's: reads call it directly (see withReadTransaction). Unmanaged:
    /// `engine` keeps it, and reading a counted reference costs a retain and a release.
    private let lmdb: Unmanaged<LMDBEngine>?
    /// `clock`, boxed for transactions to point to (see TransactionInstant).
    private let clockBox: StoreClockBox
    private let logger: Logger
    private let writer: NIOThreadPool
    private let isClosed: Atomic<Bool>

    /// Opens a store on `engine`, running the schema's pending migrations (blocking: call it
    /// at startup, not on an event loop).
    ///
    /// - Throws: ``StoreError/Code/versionMismatch`` if the store was written by a newer schema
    ///   version; any error a migration throws.
    public init(
        engine: any StorageEngine,
        schema: StoreSchema = StoreSchema(),
        clock: any StoreClock = SystemStoreClock(),
        logger: Logger
    ) throws {
        self.engine = engine
        self.lmdb = (engine as? LMDBEngine).map { Unmanaged.passUnretained($0) }
        self.clock = clock
        self.clockBox = StoreClockBox(clock)
        self.logger = logger
        self.schemaVersion = try Self.migrate(engine: engine, schema: schema, clock: clock, logger: logger)
        // One thread: the writes queue up in order instead of blocking several threads on the
        // engine's writer lock.
        self.writer = NIOThreadPool(numberOfThreads: 1)
        self.writer.start()
        self.isClosed = Atomic(false)
    }

    /// Opens (creating if needed) an LMDB store in the folder at `path`.
    ///
    /// - Parameters:
    ///   - path: The store's folder; created (mode 0700) if missing. It holds `data.mdb` and
    ///     `lock.mdb`.
    ///   - configuration: LMDB's settings.
    ///   - schema: The schema version and migrations.
    ///   - clock: The clock for expiring rows.
    ///   - logger: Where the store logs opening, migrations, map growth and sweeps.
    public convenience init(
        path: String,
        configuration: LMDBConfiguration = LMDBConfiguration(),
        schema: StoreSchema = StoreSchema(),
        clock: any StoreClock = SystemStoreClock(),
        logger: Logger
    ) throws {
        let engine = try LMDBEngine(path: path, configuration: configuration, logger: logger)
        do {
            try self.init(engine: engine, schema: schema, clock: clock, logger: logger)
        } catch {
            engine.close()
            throw error
        }
    }

    deinit {
        if !self.isClosed.load(ordering: .acquiring) {
            self.writer.shutdownGracefully { _ in }
        }
    }

    // MARK: Transactions

    /// Runs `body` in a read-only snapshot on the calling thread and returns its result.
    public func withReadTransaction<Result>(_ body: (borrowing ReadTransaction) throws -> Result) throws -> Result {
        guard let lmdb = self.lmdb else {
            return try self.engine.read { storage in
                // Bound to a local first: passing the temporary straight to a borrowing
                // parameter crashes Swift 6.3.1's optimizer ("Cannot initialize a nonCopyable
                // type with a guaranteed value") in release builds.
                try Self.withTransactionInstant(self.clockBox) { instant in
                    let transaction = ReadTransaction(storage: storage, instant: instant)
                    return try body(transaction)
                }
            }
        }
        // LMDB's reads begin and end with direct calls rather than through `read(_:)`'s
        // closure: a one-row read is short enough that each closure, generic call and
        // reference count on the way shows (docs/PERFORMANCE.md, "Store", fifth pass).
        return try lmdb._withUnsafeGuaranteedRef { lmdb in
            let reader = try lmdb.beginRead()
            defer { lmdb.endRead(reader) }
            var slot: StoreInstant? = nil
            return try withUnsafeMutablePointer(to: &slot) { slot in
                // Bound to a local first; see above.
                let transaction = ReadTransaction(
                    storage: reader.takeUnretainedValue(),
                    instant: TransactionInstant(clock: self.clockBox, slot: slot)
                )
                return try body(transaction)
            }
        }
    }

    /// Runs `body` in the write transaction on the store's writer thread, commits, and returns
    /// its result.
    ///
    /// Writes queue up and run one at a time. The commit is durable when this returns. `body`
    /// may run more than once (after the store grows a full map): keep its effects inside the
    /// transaction. If the task is cancelled before `body` starts, it doesn't run and this
    /// throws `CancellationError`; once started, it runs to the end.
    @discardableResult
    public func withWriteTransaction<Result: Sendable>(
        _ body: @Sendable (borrowing WriteTransaction) throws -> Result
    ) async throws -> Result {
        guard !self.isClosed.load(ordering: .acquiring) else {
            throw StoreError(code: .closed, message: "The store is closed")
        }
        return try await withoutActuallyEscaping(body) { body in
            // The pool wants an escaping closure; the box hands it over and is emptied before
            // this scope ends, whether or not the pool ran it.
            let box = ClosureBox(body)
            defer { box.take() }
            do {
                return try await self.writer.runIfActive {
                    guard let body = box.take() else { throw CancellationError() }
                    return try self.withWriteTransactionBlocking(body)
                }
            } catch is CancellationError where !Task.isCancelled && self.isClosed.load(ordering: .acquiring) {
                // The writer thread stopped before it reached this write.
                throw StoreError(code: .closed, message: "The store is closed")
            } catch is NIOThreadPoolError.ThreadPoolInactive {
                throw StoreError(code: .closed, message: "The store is closed")
            }
        }
    }

    /// Runs `body` in the write transaction on the calling thread, commits, and returns its
    /// result; blocks while another write transaction is open. For startup code, tools and
    /// tests: async code uses ``withWriteTransaction(_:)``.
    @discardableResult
    public func withWriteTransactionBlocking<Result>(
        _ body: (borrowing WriteTransaction) throws -> Result
    ) throws -> Result {
        try self.engine.write { storage in
            // Bound to a local first; see withReadTransaction.
            try Self.withTransactionInstant(self.clockBox) { instant in
                let transaction = WriteTransaction(storage: storage, instant: instant)
                return try body(transaction)
            }
        }
    }

    // MARK: Expiry

    /// Deletes every row of `table` that has expired, in write transactions of at most
    /// `batchSize` rows each, so that other writes get their turn in between; returns how many
    /// rows it deleted.
    @discardableResult
    public func removeExpired(_ table: some SweepableTable, batchSize: Int = 1000) async throws -> Int {
        precondition(batchSize > 0, "batchSize must be positive")
        var total = 0
        while true {
            try Task.checkCancellation()
            let removed = try await self.withWriteTransaction { txn in
                try txn.removeExpired(table, limit: batchSize)
            }
            total += removed
            if removed < batchSize {
                return total
            }
        }
    }

    // MARK: Backup and statistics

    /// Writes a compacted copy of the store into a new folder at `path` while reads and writes
    /// go on; runs on NIO's shared blocking thread pool. See docs/STORE.md for restoring.
    ///
    /// - Throws: ``StoreError/Code/alreadyExists`` if `path` exists and is not an empty folder.
    public func backup(to path: String) async throws {
        try await NIOThreadPool.singleton.runIfActive { [engine] in
            try engine.backup(to: path)
        }
    }

    /// Writes a compacted copy of the store into a new folder at `path`, on the calling thread.
    public func backupBlocking(to path: String) throws {
        try self.engine.backup(to: path)
    }

    /// Sizes and row counts.
    public func statistics() throws -> StorageStatistics {
        try self.engine.statistics()
    }

    // MARK: Closing

    /// Stops the writer thread (after the writes already queued) and closes the engine.
    public func close() async throws {
        guard !self.isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try await self.writer.shutdownGracefully()
        self.engine.close()
    }
}

/// Hands a closure to another thread exactly once.
private final class ClosureBox<Closure: Sendable>: Sendable {
    private let closure: Mutex<Closure?>

    init(_ closure: Closure) {
        self.closure = Mutex(closure)
    }

    @discardableResult
    func take() -> Closure? {
        self.closure.withLock { closure in
            defer { closure = nil }
            return closure
        }
    }
}

extension Store {
    /// Calls `body` with a clock reading for one transaction, kept in this frame (see
    /// TransactionInstant).
    static func withTransactionInstant<Result>(
        _ clock: StoreClockBox,
        _ body: (TransactionInstant) throws -> Result
    ) rethrows -> Result {
        var slot: StoreInstant? = nil
        return try withUnsafeMutablePointer(to: &slot) { slot in
            try body(TransactionInstant(clock: clock, slot: slot))
        }
    }

    /// Runs the migrations the store hasn't run yet; returns the store's schema version.
    fileprivate static func migrate(
        engine: any StorageEngine,
        schema: StoreSchema,
        clock: any StoreClock,
        logger: Logger
    ) throws -> Int {
        let clock = StoreClockBox(clock)
        let stored = try engine.read { storage in
            try withTransactionInstant(clock) { instant in
                try ReadTransaction(storage: storage, instant: instant).get(MetaTable.table, MetaTable.schemaVersionKey)
            }
        }
        let current = Int(stored ?? 0)
        guard current <= schema.version else {
            throw StoreError(
                code: .versionMismatch,
                message: """
                    The store has schema version \(current), but this build knows versions up to \
                    \(schema.version); it was written by a newer Bastion. Run that version, or restore \
                    a backup taken before the upgrade.
                    """
            )
        }
        for version in current..<schema.version {
            let migration = schema.migrations[version]
            logger.notice(
                "Migrating the store",
                metadata: ["from": "\(version)", "to": "\(version + 1)", "migration": "\(migration.name)"]
            )
            try engine.write { storage in
                try withTransactionInstant(clock) { instant in
                    let txn = WriteTransaction(storage: storage, instant: instant)
                    try migration.body(txn)
                    try txn.put(MetaTable.table, MetaTable.schemaVersionKey, UInt64(version + 1))
                }
            }
        }
        return schema.version
    }
}
