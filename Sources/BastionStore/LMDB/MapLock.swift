#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Guards the memory map: every transaction holds it shared, and growing the map (which unmaps
/// and remaps the file) holds it exclusively, so no reader ever touches an unmapped page.
///
/// It is a `pthread_rwlock_t` with glibc's default reader preference, so a thread that already
/// holds it shared (a read inside a write closure) can take it shared again.
final class MapLock: @unchecked Sendable {
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

    func withShared<Result>(_ body: () throws -> Result) rethrows -> Result {
        let rc = pthread_rwlock_rdlock(self.lock)
        precondition(rc == 0, "pthread_rwlock_rdlock failed: \(rc)")
        defer { pthread_rwlock_unlock(self.lock) }
        return try body()
    }

    func withExclusive<Result>(_ body: () throws -> Result) rethrows -> Result {
        let rc = pthread_rwlock_wrlock(self.lock)
        precondition(rc == 0, "pthread_rwlock_wrlock failed: \(rc)")
        defer { pthread_rwlock_unlock(self.lock) }
        return try body()
    }

    /// Runs `body` exclusively, or returns `nil` if the lock wasn't free within `timeout`.
    func withExclusive<Result>(timeout: Duration, _ body: () throws -> Result) rethrows -> Result? {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        let rc = pthread_rwlock_timedwrlock(self.lock, &deadline)
        if rc == ETIMEDOUT {
            return nil
        }
        precondition(rc == 0, "pthread_rwlock_timedwrlock failed: \(rc)")
        defer { pthread_rwlock_unlock(self.lock) }
        return try body()
    }
}

/// A plain mutex that the engine's writers hold for a whole write transaction. A
/// `pthread_mutex_t` rather than `Mutex`, because the closure's result need not be `Sendable`.
final class WriterGate: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        self.mutex = .allocate(capacity: 1)
        self.mutex.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(self.mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(self.mutex)
        self.mutex.deinitialize(count: 1)
        self.mutex.deallocate()
    }

    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        let rc = pthread_mutex_lock(self.mutex)
        precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
        defer { pthread_mutex_unlock(self.mutex) }
        return try body()
    }
}
