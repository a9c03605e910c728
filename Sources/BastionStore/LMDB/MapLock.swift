import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Guards the memory map: every transaction holds it shared, and growing the map (which unmaps
/// and remaps the file) or closing the environment holds it exclusively, so no reader ever touches
/// an unmapped page.
///
/// Shared holders announce themselves without a lock: a read takes one of a few **reader slots**
/// (an atomic flag each, 128 bytes apart) with one compare-and-swap, and gives it back with a
/// plain store; the engine keeps one reset LMDB read transaction per slot, so the slot a read
/// takes also hands it its transaction. Holders that find every slot taken (and write
/// transactions and backups) count themselves in a shared counter instead. An exclusive holder
/// raises a flag, and succeeds once every slot is free and the counter is zero; a shared holder
/// that sees the flag steps back and waits. (A `pthread_rwlock_t` and a mutex around the pool of
/// reset transactions cost a read six atomic operations and two calls into glibc's locks; this
/// costs one compare-and-swap.)
///
/// Readers go first, as with glibc's default `pthread_rwlock_t`: a thread that already holds the
/// lock shared (a read inside a write closure, or inside another read) must be able to take it
/// shared again while an exclusive holder waits, or neither could go on. So an exclusive holder
/// raises the flag only while it looks at the slots, up to a short while (``tryingRounds`` yields)
/// for the holders it saw to leave; if they stay, it lowers the flag, sleeps (10 µs, doubling up
/// to 1 ms) and tries again, so new shared holders wait at most those few yields per attempt. Any
/// holder that stays longer than an exclusive caller will wait makes ``withExclusive(timeout:_:)``
/// return `nil`, as before.
final class MapLock: @unchecked Sendable {
    // @unchecked: every field is an atomic, a pthread mutex, or immutable.

    /// How many reader slots there are.
    let slotCount: Int
    /// Cells of `cellStride` atomics, one cache line pair apart: cell 0 the exclusive flag, cell 1
    /// the shared counter, cells 2... the reader slots (0 free, 1 taken).
    private let cells: UnsafeMutablePointer<Atomic<Int>>
    /// Held by the exclusive holder from before it raises the flag until it lowers it, so that
    /// exclusive callers take turns and shared holders that find it held can sleep on it.
    private let gate: UnsafeMutablePointer<pthread_mutex_t>

    /// 16 words: 128 bytes, the pair of cache lines Intel's prefetcher fetches together.
    private static let cellStride = 16
    /// The exclusive flag's values.
    private static let free = 0
    private static let trying = 1
    private static let held = 2
    /// How many times an exclusive caller looks again, yielding in between, before it lowers the
    /// flag to let shared holders in (see the type's comment).
    static let tryingRounds = 16
    /// The index ``lockShared(preferring:)`` returns when no slot was free and the holder counted
    /// itself instead.
    static let counted = -1

    /// A lock with `slots` reader slots (none: every shared holder counts itself).
    init(slots: Int) {
        precondition(slots >= 0, "A negative number of reader slots")
        self.slotCount = slots
        let cellCount = (2 + slots) * Self.cellStride
        self.cells = .allocate(capacity: cellCount)
        for index in 0..<cellCount {
            (self.cells + index).initialize(to: Atomic(0))
        }
        self.gate = .allocate(capacity: 1)
        self.gate.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(self.gate, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(self.gate)
        self.gate.deinitialize(count: 1)
        self.gate.deallocate()
        self.cells.deinitialize(count: (2 + self.slotCount) * Self.cellStride)
        self.cells.deallocate()
    }

    @inline(__always)
    private var flag: UnsafeMutablePointer<Atomic<Int>> { self.cells }

    @inline(__always)
    private var counter: UnsafeMutablePointer<Atomic<Int>> { self.cells + Self.cellStride }

    @inline(__always)
    private func slot(_ index: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        self.cells + (2 + index) * Self.cellStride
    }

    // MARK: Shared

    /// The slot a thread tries first: threads spread over the slots, so that each tends to find
    /// its own free (and the transaction it left there). `thread` is any number that differs
    /// between threads, such as `pthread_self()`.
    @inline(__always)
    func preferredSlot(forThread thread: UInt) -> Int {
        // Fibonacci hashing, then the high half of a multiplication maps it onto the slots.
        let hash = UInt64(truncatingIfNeeded: thread) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(self.slotCount)).high)
    }

    /// Takes the lock shared through a free reader slot, trying slot `first` first; returns the
    /// slot's index, or ``counted`` if every slot was taken. Release with ``unlockShared(_:)``.
    @inline(__always)
    func lockShared(preferring first: Int) -> Int {
        while true {
            var taken = Self.counted
            var index = first
            for _ in 0..<self.slotCount {
                let slot = self.slot(index)
                // Look before the compare-and-swap, which would take the cache line for writing.
                if slot.pointee.load(ordering: .relaxed) == 0,
                    slot.pointee.compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged
                {
                    taken = index
                    break
                }
                index = index + 1 == self.slotCount ? 0 : index + 1
            }
            if taken == Self.counted {
                self.counter.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
            }
            // Sequentially consistent on both sides: either this load sees the flag, or the
            // exclusive caller's look at the slots (after raising it) sees this slot taken.
            if self.flag.pointee.load(ordering: .sequentiallyConsistent) == Self.free {
                return taken
            }
            self.unlockShared(taken)
            self.waitWhileExclusive()
        }
    }

    /// Gives back what ``lockShared(preferring:)`` took.
    @inline(__always)
    func unlockShared(_ index: Int) {
        if index == Self.counted {
            self.counter.pointee.wrappingSubtract(1, ordering: .releasing)
        } else {
            self.slot(index).pointee.store(0, ordering: .releasing)
        }
    }

    func withShared<Result>(_ body: () throws -> Result) rethrows -> Result {
        // Counted, not through a slot: slots are for reads, whose transactions they keep.
        while true {
            self.counter.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if self.flag.pointee.load(ordering: .sequentiallyConsistent) == Self.free {
                break
            }
            self.counter.pointee.wrappingSubtract(1, ordering: .releasing)
            self.waitWhileExclusive()
        }
        defer { self.unlockShared(Self.counted) }
        return try body()
    }

    /// Waits until no exclusive caller holds the flag. Called holding nothing of this lock
    /// through the current attempt; the thread may still hold it shared from an outer call, which
    /// is why it only sleeps on the gate once an exclusive caller holds the lock: an exclusive
    /// holder got in, so no shared holder was left, this thread included.
    @inline(never)
    private func waitWhileExclusive() {
        while true {
            switch self.flag.pointee.load(ordering: .acquiring) {
            case Self.free:
                return
            case Self.held:
                pthread_mutex_lock(self.gate)
                pthread_mutex_unlock(self.gate)
            default:
                sched_yield()
            }
        }
    }

    // MARK: Exclusive

    /// Whether an exclusive caller is trying to get in or holds the lock (for tests).
    var isExclusiveWanted: Bool {
        self.flag.pointee.load(ordering: .sequentiallyConsistent) != Self.free
    }

    func withExclusive<Result>(_ body: () throws -> Result) rethrows -> Result {
        let locked = self.lockExclusive(deadline: nil)
        precondition(locked, "An exclusive map lock without a deadline always succeeds")
        defer { self.unlockExclusive() }
        return try body()
    }

    /// Runs `body` exclusively, or returns `nil` if the lock wasn't free within `timeout`.
    func withExclusive<Result>(timeout: Duration, _ body: () throws -> Result) rethrows -> Result? {
        guard self.lockExclusive(deadline: ContinuousClock.now.advanced(by: timeout)) else {
            return nil
        }
        defer { self.unlockExclusive() }
        return try body()
    }

    private func lockExclusive(deadline: ContinuousClock.Instant?) -> Bool {
        guard self.lockGate(deadline: deadline) else { return false }
        var pause = Duration.microseconds(10)
        while true {
            self.flag.pointee.store(Self.trying, ordering: .sequentiallyConsistent)
            for round in 0..<Self.tryingRounds {
                if self.isUnused() {
                    self.flag.pointee.store(Self.held, ordering: .sequentiallyConsistent)
                    return true
                }
                if round < Self.tryingRounds - 1 {
                    sched_yield()
                }
            }
            // Someone stays: perhaps a thread that wants the lock shared once more before it
            // lets go. Let shared holders in for a while.
            self.flag.pointee.store(Self.free, ordering: .sequentiallyConsistent)
            if let deadline, ContinuousClock.now >= deadline {
                pthread_mutex_unlock(self.gate)
                return false
            }
            Self.sleep(pause)
            pause = min(pause * 2, .milliseconds(1))
        }
    }

    private func unlockExclusive() {
        self.flag.pointee.store(Self.free, ordering: .releasing)
        pthread_mutex_unlock(self.gate)
    }

    /// Whether no one holds the lock shared.
    private func isUnused() -> Bool {
        guard self.counter.pointee.load(ordering: .sequentiallyConsistent) == 0 else { return false }
        for index in 0..<self.slotCount where self.slot(index).pointee.load(ordering: .sequentiallyConsistent) != 0 {
            return false
        }
        return true
    }

    private func lockGate(deadline: ContinuousClock.Instant?) -> Bool {
        guard let deadline else {
            let rc = pthread_mutex_lock(self.gate)
            precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
            return true
        }
        // Exclusive callers are rare (map growth, closing) and brief, so a timed wait for the
        // gate polls rather than translate the deadline into a wall-clock time.
        var pause = Duration.microseconds(10)
        while true {
            let rc = pthread_mutex_trylock(self.gate)
            if rc == 0 { return true }
            precondition(rc == EBUSY, "pthread_mutex_trylock failed: \(rc)")
            if ContinuousClock.now >= deadline { return false }
            Self.sleep(pause)
            pause = min(pause * 2, .milliseconds(1))
        }
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
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
