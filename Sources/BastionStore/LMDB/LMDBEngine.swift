import CLMDB
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The LMDB storage engine: one environment in a folder, one named LMDB database per table.
///
/// The environment is opened with `MDB_NOTLS`, so read transactions are not tied to a thread's
/// reader slot and any thread may run one. Writes are serialised by LMDB's writer lock. When a
/// write finds the map full, the engine aborts it, waits until no transaction is open in this
/// process, doubles the map (up to ``LMDBConfiguration/maximumMapSize``) and runs the write again.
public final class LMDBEngine: StorageEngine, @unchecked Sendable {
    // @unchecked: `environment` is only used under `mapLock`, and LMDB's environment is safe to
    // share between threads; `cachedReaders[i]` belongs to the read holding the map lock's reader
    // slot i, or to an exclusive holder of the map lock; everything else is immutable, atomic or
    // behind a lock.

    /// The store's folder.
    public let path: String
    /// The settings the store was opened with.
    public let configuration: LMDBConfiguration
    private let environment: OpaquePointer
    private let mapLock: MapLock
    private let writerGate = WriterGate()
    private let state: Mutex<State>
    /// Every named table known to exist, and its handle.
    private let tables = TableList()
    /// One reset read transaction per reader slot of `mapLock`, ready for `mdb_txn_renew`: the
    /// read that takes slot i renews `cachedReaders[i]` (or begins one and leaves it there).
    /// Each entry holds a retain of its transaction (released in `close`), so that handing one
    /// out costs no reference counting.
    private let cachedReaders: UnsafeMutablePointer<Unmanaged<LMDBTransaction>?>
    /// Set (under the exclusive map lock) when the environment closes.
    private let isClosed = Atomic<Bool>(false)
    /// How many times a failed commit withdrew the handles of tables it had created; a cached
    /// reader remembered from before forgets the tables it had looked up.
    private let withdrawals = Atomic<Int>(0)
    private let logger: Logger
    /// LMDB's longest key, in bytes (511 for Debian's build).
    let maxKeySize: Int

    private struct State {
        var mapSize: Int
        /// How many times `adoptResizedMap` ran.
        var adoptedResizes = 0
    }

    /// How many reset read transactions the engine keeps for reuse (the map lock's reader
    /// slots): one per processor, at least 4 and at most 16, and at most half of `maxReaders`,
    /// since each keeps an LMDB reader slot, which other processes (a backup, `mdb_stat`) need
    /// too. Reads beyond them begin and abort a transaction of their own.
    static func cachedReaderCount(maxReaders: Int) -> Int {
        let processors = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return min(min(max(processors, 4), 16), maxReaders / 2)
    }

    /// Opens (creating if needed) the environment in the folder at `path`.
    public init(path: String, configuration: LMDBConfiguration = LMDBConfiguration(), logger: Logger) throws {
        self.path = path
        self.configuration = configuration
        self.logger = logger

        try Self.makeFolder(path)
        var environment: OpaquePointer?
        try check(mdb_env_create(&environment), "Could not create an LMDB environment")
        guard let environment else {
            throw StoreError(code: .internalError, message: "mdb_env_create returned no environment")
        }
        do {
            try check(mdb_env_set_maxreaders(environment, UInt32(configuration.maxReaders)), "Could not set maxReaders")
            // +1 for the store's own `_meta` table.
            try check(mdb_env_set_maxdbs(environment, MDB_dbi(configuration.maxTables + 1)), "Could not set maxTables")
            try check(mdb_env_set_mapsize(environment, configuration.initialMapSize), "Could not set the map size")
            var flags = clmdb_flag_notls()
            switch configuration.durability.wrapped {
            case .full: break
            case .noMetaSync: flags |= clmdb_flag_nometasync()
            case .noSync: flags |= clmdb_flag_nosync()
            }
            if !configuration.readAhead {
                flags |= clmdb_flag_nordahead()
            }
            try check(
                mdb_env_open(environment, path, flags, mode_t(configuration.fileMode)),
                "Could not open the store at \(path)"
            )
            // A process that died inside a read transaction leaves its reader slot taken; free
            // those before they pile up.
            var staleReaders: Int32 = 0
            try check(mdb_reader_check(environment, &staleReaders), "Could not check for stale readers")
            if staleReaders > 0 {
                logger.notice("Cleared stale LMDB reader slots", metadata: ["count": "\(staleReaders)"])
            }
        } catch {
            mdb_env_close(environment)
            throw error
        }
        self.environment = environment
        let cachedReaderCount = Self.cachedReaderCount(maxReaders: configuration.maxReaders)
        self.mapLock = MapLock(slots: cachedReaderCount)
        self.cachedReaders = .allocate(capacity: cachedReaderCount)
        self.cachedReaders.initialize(repeating: nil, count: cachedReaderCount)
        self.maxKeySize = Int(mdb_env_get_maxkeysize(environment))
        var info = MDB_envinfo()
        mdb_env_info(environment, &info)
        self.state = Mutex(State(mapSize: Int(info.me_mapsize)))
        do {
            try self.openExistingTables()
        } catch {
            self.close()
            throw error
        }
        logger.info(
            "Opened the store",
            metadata: [
                "path": "\(path)",
                "lmdb": "\(String(cString: clmdb_version_string()))",
                "mapSize": "\(info.me_mapsize)",
                "durability": "\(configuration.durability)",
            ]
        )
    }

    deinit {
        self.close()
        self.cachedReaders.deinitialize(count: self.mapLock.slotCount)
        self.cachedReaders.deallocate()
    }

    /// Opens a handle for every named table in the file. Reads of a table never open handles
    /// (LMDB allows one `mdb_dbi_open` at a time, and only write transactions are serialised), so
    /// every table that exists must be known before any read.
    private func openExistingTables() throws {
        let tables = try self.write { storage -> [String: MDB_dbi] in
            let txn = storage as! LMDBTransaction
            return try txn.openAllNamedTables()
        }
        self.tables.publish(tables)
    }

    private static func makeFolder(_ path: String) throws {
        if mkdir(path, 0o700) != 0 {
            let error = errno
            guard error == EEXIST else {
                throw StoreError(errno: error, "Could not create the store's folder \(path)")
            }
        }
    }

    // MARK: StorageEngine

    public func read<Result>(_ body: (any StorageReadTransaction) throws -> Result) throws -> Result {
        let txn = try self.beginRead()
        defer { self.endRead(txn) }
        return try body(txn.takeUnretainedValue())
    }

    /// Begins a read transaction: takes the map lock shared through a reader slot and renews the
    /// reset transaction kept there, or begins one. Every `beginRead` is paired with an
    /// ``endRead(_:)`` on the same thread. `Store` calls the two directly, so that a one-row read
    /// passes through no closures and no generic code. The transaction is kept alive by the
    /// engine (in its reader slot) or, if it has none, by a retain that `endRead` releases.
    func beginRead() throws -> Unmanaged<LMDBTransaction> {
        while true {
            let slot = self.mapLock.lockShared(preferring: self.mapLock.preferredSlot(forThread: currentThreadID()))
            let txn: Unmanaged<LMDBTransaction>?
            do {
                txn = try self.startRead(slot: slot)
            } catch {
                self.mapLock.unlockShared(slot)
                throw error
            }
            if let txn {
                return txn
            }
            // Another process grew the map: adopt its size (exclusively) and begin again.
            self.mapLock.unlockShared(slot)
            try self.adoptResizedMap()
        }
    }

    /// The read transaction for a read holding the map lock through `slot`, or nil if the map
    /// was resized by another process.
    private func startRead(slot: Int) throws -> Unmanaged<LMDBTransaction>? {
        guard !self.isClosed.load(ordering: .relaxed) else {
            throw StoreError(code: .closed, message: "The store at \(self.path) is closed")
        }
        // Read before the snapshot begins: a withdrawal after it is seen by the next read.
        let withdrawals = self.withdrawals.load(ordering: .acquiring)
        if slot != MapLock.counted, let reader = self.cachedReaders[slot] {
            // Renewing a reset transaction spares LMDB the search for a free reader slot (under
            // a process-shared mutex) and the allocation of the transaction (LMDB's and this
            // engine's object for it), and it keeps the table handles it looked up.
            let rc = reader._withUnsafeGuaranteedRef { cached in
                if cached.withdrawals != withdrawals {
                    cached.forgetTables(withdrawals: withdrawals)
                }
                return cached.renew()
            }
            if rc == 0 {
                return reader
            }
            // renew() aborted it.
            reader.release()
            self.cachedReaders[slot] = nil
            if rc == MDB_MAP_RESIZED {
                return nil
            }
        }
        var handle: OpaquePointer?
        let rc = mdb_txn_begin(self.environment, nil, clmdb_flag_rdonly(), &handle)
        if rc == MDB_MAP_RESIZED {
            return nil
        }
        try check(rc, "Could not begin a read transaction")
        // The transaction looks its tables up in `tables` when it first uses them, after
        // the snapshot began: see LMDBTransaction.table(_:create:).
        let txn = LMDBTransaction(
            handle: handle!,
            isWrite: false,
            engine: self,
            maxKeySize: self.maxKeySize,
            readerSlot: slot,
            withdrawals: withdrawals
        )
        let reader = Unmanaged.passRetained(txn)
        if slot != MapLock.counted {
            self.cachedReaders[slot] = reader
        }
        return reader
    }

    /// Ends a read transaction from ``beginRead()``: reset and left in its reader slot for the
    /// next read there, or aborted if it had none; then releases the map lock.
    func endRead(_ reader: Unmanaged<LMDBTransaction>) {
        let slot = reader._withUnsafeGuaranteedRef { txn in
            let slot = txn.readerSlot
            if slot == MapLock.counted {
                txn.abort()
            } else {
                txn.reset()
            }
            return slot
        }
        if slot == MapLock.counted {
            reader.release()
        }
        self.mapLock.unlockShared(slot)
    }

    public func write<Result>(_ body: (any StorageWriteTransaction) throws -> Result) throws -> Result {
        while true {
            var mapSizeSeen = 0
            // The gate makes the in-process writers take turns before LMDB's writer lock does, so
            // that publishing and withdrawing new tables' handles happens while no other writer
            // can open one.
            let outcome = try self.writerGate.withLock {
                try self.mapLock.withShared { () throws -> WriteOutcome<Result> in
                    _ = try self.openMapSize()
                    var handle: OpaquePointer?
                    let rc = mdb_txn_begin(self.environment, nil, 0, &handle)
                    if rc == MDB_MAP_RESIZED {
                        return .mapResized
                    }
                    try check(rc, "Could not begin a write transaction")
                    mapSizeSeen = try self.openMapSize()
                    let txn = LMDBTransaction(
                        handle: handle!,
                        isWrite: true,
                        engine: self,
                        maxKeySize: self.maxKeySize,
                        readerSlot: MapLock.counted,
                        withdrawals: 0
                    )
                    let result: Result
                    do {
                        result = try body(txn)
                    } catch {
                        txn.abort()
                        // The body may have caught the map-full error itself; grow all the same.
                        if txn.hitMapFull { return .mapFull }
                        throw error
                    }
                    if txn.hitMapFull {
                        txn.abort()
                        return .mapFull
                    }
                    let created = txn.createdTables
                    if !created.isEmpty {
                        // Published before the commit, so that a reader whose snapshot includes
                        // the commit finds the tables.
                        self.tables.publish(created)
                    }
                    let commit = txn.commit()
                    if commit != 0 && !created.isEmpty {
                        self.tables.withdraw(created.keys)
                        // Cached readers may have looked these handles up; LMDB may reuse them.
                        self.withdrawals.add(1, ordering: .releasing)
                    }
                    if commit == MDB_MAP_FULL {
                        return .mapFull
                    }
                    try check(commit, "Could not commit a write transaction")
                    return .committed(result)
                }
            }
            switch outcome {
            case .committed(let result):
                return result
            case .mapResized:
                try self.adoptResizedMap()
            case .mapFull:
                try self.growMap(from: mapSizeSeen)
            }
        }
    }

    private enum WriteOutcome<Result> {
        case committed(Result)
        case mapFull
        case mapResized
    }

    public func backup(to path: String) throws {
        if mkdir(path, 0o700) != 0 {
            let error = errno
            guard error == EEXIST else {
                throw StoreError(errno: error, "Could not create the backup folder \(path)")
            }
            guard try Self.isEmptyFolder(path) else {
                throw StoreError(
                    code: .alreadyExists,
                    message: "The backup folder \(path) is not empty; back up into a new folder"
                )
            }
        }
        try self.mapLock.withShared {
            _ = try self.openMapSize()
            try check(
                mdb_env_copy2(self.environment, path, clmdb_flag_cp_compact()),
                "Could not back up the store to \(path)"
            )
        }
        self.logger.info("Backed up the store", metadata: ["to": "\(path)"])
    }

    public func statistics() throws -> StorageStatistics {
        try self.read { storage in
            let txn = storage as! LMDBTransaction
            var counts: [String: Int] = [:]
            // Listed after the snapshot began, like every table lookup.
            let names = self.tables.names
            for name in names {
                counts[name] = try txn.count(table: name)
            }
            var info = MDB_envinfo()
            var stat = MDB_stat()
            mdb_env_info(self.environment, &info)
            mdb_env_stat(self.environment, &stat)
            return StorageStatistics(
                rowCounts: counts,
                reservedBytes: Int(info.me_mapsize),
                usedBytes: (Int(info.me_last_pgno) + 1) * Int(stat.ms_psize),
                readersInUse: Int(info.me_numreaders),
                maxReaders: Int(info.me_maxreaders)
            )
        }
    }

    public func close() {
        // Exclusive: no read is running, so every reader slot is free and its cached
        // transaction, whichever thread left it there, can be aborted here.
        self.mapLock.withExclusive {
            guard !self.isClosed.load(ordering: .relaxed) else { return }
            self.isClosed.store(true, ordering: .relaxed)
            for slot in 0..<self.mapLock.slotCount {
                if let reader = self.cachedReaders[slot] {
                    reader.takeRetainedValue().abortReset()
                    self.cachedReaders[slot] = nil
                }
            }
            mdb_env_close(self.environment)
        }
    }

    /// How many reset read transactions the engine may keep (for tests).
    var cachedReaderLimit: Int { self.mapLock.slotCount }

    /// How many reset read transactions the engine keeps now (for tests).
    var cachedReaderCount: Int {
        self.mapLock.withExclusive {
            (0..<self.mapLock.slotCount).count(where: { self.cachedReaders[$0] != nil })
        }
    }

    /// How many entries of LMDB's reader table this process holds, running or reset (for tests;
    /// `mdb_reader_list`).
    func readerTableEntries() throws -> Int {
        try self.mapLock.withShared {
            _ = try self.openMapSize()
            var lines: [String] = []
            let rc = withUnsafeMutablePointer(to: &lines) { lines in
                mdb_reader_list(
                    self.environment,
                    { message, context in
                        guard let message, let context else { return 0 }
                        context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: message))
                        return 0
                    },
                    lines
                )
            }
            guard rc >= 0 else {
                throw StoreError(lmdb: rc, "Could not list the store's readers")
            }
            // A header line, then one line per entry: process id, thread, snapshot ("-" if reset).
            let pid = "\(getpid())"
            return lines.count(where: { $0.split(separator: " ").first.map(String.init) == pid })
        }
    }

    // MARK: Growing the map

    /// The map size, or `.closed`. Copying the table list here for every transaction (as an
    /// earlier version did) cost two dictionary copies per transaction; transactions now look
    /// each table up once, when they first use it (``tableHandle(_:)``).
    private func openMapSize() throws -> Int {
        guard !self.isClosed.load(ordering: .relaxed) else {
            throw StoreError(code: .closed, message: "The store at \(self.path) is closed")
        }
        return self.withState { $0.mapSize }
    }

    /// The handle of a table known to exist, or nil.
    func tableHandle(_ name: String) -> MDB_dbi? {
        self.tables.handle(name)
    }

    /// `state.withLock`, with ThreadSanitizer told about the lock: writers and the map's
    /// exclusive callers on several threads may contend for it (ThreadSanitizerHooks says why it
    /// needs telling).
    private func withState<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try self.state.withLock { state in
            ThreadSanitizerHooks.acquired(self)
            defer { ThreadSanitizerHooks.releasing(self) }
            return try body(&state)
        }
    }

    /// Doubles the map, unless another write already grew it past `seen`.
    private func growMap(from seen: Int) throws {
        let limit = self.configuration.maximumMapSize
        let grown = try self.mapLock.withExclusive(timeout: self.configuration.growthTimeout) { () throws -> Bool in
            let current = try self.openMapSize()
            guard current <= seen else { return true }
            guard current < limit else { return false }
            let target = min(max(current * 2, current + (1 << 20)), limit)
            try check(mdb_env_set_mapsize(self.environment, target), "Could not grow the map to \(target) bytes")
            var info = MDB_envinfo()
            mdb_env_info(self.environment, &info)
            self.withState { $0.mapSize = Int(info.me_mapsize) }
            self.logger.notice(
                "Grew the store's map",
                metadata: ["from": "\(current)", "to": "\(info.me_mapsize)", "path": "\(self.path)"]
            )
            return true
        }
        guard let grown else {
            throw StoreError(
                code: .mapFull,
                message: """
                    The store's map is full and could not grow: read transactions stayed open \
                    longer than \(self.configuration.growthTimeout)
                    """,
                engineCode: MDB_MAP_FULL
            )
        }
        guard grown else {
            throw StoreError(
                code: .mapFull,
                message: """
                    The store reached its maximum map size of \(limit) bytes; raise \
                    LMDBConfiguration.maximumMapSize or free space
                    """,
                engineCode: MDB_MAP_FULL
            )
        }
    }

    /// Another process grew the map: adopt its size.
    private func adoptResizedMap() throws {
        try self.mapLock.withExclusive {
            _ = try self.openMapSize()
            try check(mdb_env_set_mapsize(self.environment, 0), "Could not adopt the map's new size")
            var info = MDB_envinfo()
            mdb_env_info(self.environment, &info)
            self.withState { state in
                state.mapSize = Int(info.me_mapsize)
                state.adoptedResizes += 1
            }
        }
    }

    /// How many times the engine adopted a map size another process set (for tests).
    var adoptedResizes: Int {
        self.withState { $0.adoptedResizes }
    }

    private static func isEmptyFolder(_ path: String) throws -> Bool {
        guard let directory = opendir(path) else {
            throw StoreError(errno: errno, "Could not read the folder \(path)")
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." {
                return false
            }
        }
        return true
    }
}

/// A number that differs between the threads alive at one time.
@inline(__always)
private func currentThreadID() -> UInt {
    #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
    #else
        UInt(pthread_self())
    #endif
}
