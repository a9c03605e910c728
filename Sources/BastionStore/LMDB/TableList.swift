import CLMDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every named table known to exist in an LMDB environment, and its handle (handles stay valid
/// until the environment closes).
///
/// Reads look tables up here, on several threads at once, so the list sits behind a
/// `pthread_rwlock_t` taken shared rather than behind a mutex: readers of an unchanging list never
/// wait for each other. (Synchronization's `Mutex`, which guarded it with the engine's other
/// state, hands a contended lock over through the kernel; with more reading threads than cores a
/// mutex taken per read made every read wait for descheduled ones, docs/PERFORMANCE.md, "Store",
/// fifth pass.) Writers change it rarely: when a write creates a table, and when a failed commit
/// withdraws the tables it created.
final class TableList: @unchecked Sendable {
    // @unchecked: `tables` is only touched under `lock`.
    private var tables: [String: MDB_dbi] = [:]
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        self.lock = .allocate(capacity: 1)
        self.lock.initialize(to: pthread_rwlock_t())
        let rc = pthread_rwlock_init(self.lock, nil)
        precondition(rc == 0, "pthread_rwlock_init failed: \(rc)")
    }

    deinit {
        pthread_rwlock_destroy(self.lock)
        self.lock.deinitialize(count: 1)
        self.lock.deallocate()
    }

    /// The handle of a table known to exist, or nil.
    func handle(_ name: String) -> MDB_dbi? {
        self.withShared { $0[name] }
    }

    /// The names of every table known to exist.
    var names: [String] {
        self.withShared { Array($0.keys) }
    }

    /// Adds tables (keeping the handle already listed for a name).
    func publish(_ tables: [String: MDB_dbi]) {
        self.withExclusive { $0.merge(tables) { old, _ in old } }
    }

    /// Removes tables whose creation did not commit.
    func withdraw(_ names: some Sequence<String>) {
        self.withExclusive { tables in
            for name in names {
                tables[name] = nil
            }
        }
    }

    private func withShared<Result>(_ body: ([String: MDB_dbi]) -> Result) -> Result {
        let rc = pthread_rwlock_rdlock(self.lock)
        precondition(rc == 0, "pthread_rwlock_rdlock failed: \(rc)")
        defer { pthread_rwlock_unlock(self.lock) }
        return body(self.tables)
    }

    private func withExclusive(_ body: (inout [String: MDB_dbi]) -> Void) {
        let rc = pthread_rwlock_wrlock(self.lock)
        precondition(rc == 0, "pthread_rwlock_wrlock failed: \(rc)")
        defer { pthread_rwlock_unlock(self.lock) }
        body(&self.tables)
    }
}
