import Foundation
import Synchronization
import Testing

@testable import BastionStore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` on a thread of its own: these tests block threads on purpose (holding a lock,
/// waiting for each other), which must not happen on the concurrency pool's few threads.
func onNewThread<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Swift.Result { try body() })
        }
    }
}

/// Runs `body(index)` on `count` threads of their own at once and returns their results in order.
func onNewThreads<Result: Sendable>(
    _ count: Int,
    _ body: @escaping @Sendable (Int) throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        for index in 0..<count {
            group.addTask { (index, try await onNewThread { try body(index) }) }
        }
        var results: [(Int, Result)] = []
        for try await result in group {
            results.append(result)
        }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// Lets `count` threads wait until all of them have arrived (they spin, yielding: the threads are
/// the tests' own).
final class SpinBarrier: Sendable {
    private let count: Int
    private let arrived = Atomic<Int>(0)

    init(count: Int) {
        self.count = count
    }

    func arriveAndWait() {
        self.arrived.add(1, ordering: .sequentiallyConsistent)
        while self.arrived.load(ordering: .sequentiallyConsistent) < self.count {
            sched_yield()
        }
    }
}

/// Runs `read` in a read transaction on `threads` new threads, all of them inside their
/// transactions at once, so that each read holds a reader slot of its own (or, once every slot is
/// taken, is counted instead). Returns the reads' results in thread order.
func readingTogether<Result: Sendable>(
    _ store: Store,
    threads: Int,
    _ read: @escaping @Sendable (borrowing ReadTransaction) throws -> Result
) async throws -> [Result] {
    let barrier = SpinBarrier(count: threads)
    return try await onNewThreads(threads) { _ in
        try store.withReadTransaction { txn in
            barrier.arriveAndWait()
            return try read(txn)
        }
    }
}

/// Spins (yielding) until `condition` holds.
func spin(until condition: () -> Bool) {
    while !condition() {
        sched_yield()
    }
}

/// What the lock tests' threads record.
final class LockProbe: Sendable {
    let sharedInside = Atomic<Int>(0)
    let exclusiveInside = Atomic<Bool>(false)
    let violations = Atomic<Int>(0)
    let exclusiveRuns = Atomic<Int>(0)
    let step = Atomic<Int>(0)
}

/// The map lock on its own: a shared holder and an exclusive holder never overlap, a thread that
/// holds it shared takes it shared again while an exclusive caller waits, and a timed exclusive
/// caller gives up.
@Suite struct MapLockTests {
    @Test(.timeLimit(.minutes(1)))
    func sharedAndExclusiveHoldersNeverOverlap() async throws {
        let lock = MapLock(slots: 2)
        let probe = LockProbe()
        let readers = 4
        let rounds = 3000
        let exclusiveRounds = 60
        _ = try await onNewThreads(readers + 1) { thread in
            if thread == readers {
                for _ in 0..<exclusiveRounds {
                    lock.withExclusive {
                        probe.exclusiveInside.store(true, ordering: .sequentiallyConsistent)
                        if probe.sharedInside.load(ordering: .sequentiallyConsistent) != 0 {
                            probe.violations.add(1, ordering: .relaxed)
                        }
                        sched_yield()
                        probe.exclusiveInside.store(false, ordering: .sequentiallyConsistent)
                    }
                    probe.exclusiveRuns.add(1, ordering: .relaxed)
                }
                return
            }
            func inside() {
                probe.sharedInside.add(1, ordering: .sequentiallyConsistent)
                if probe.exclusiveInside.load(ordering: .sequentiallyConsistent) {
                    probe.violations.add(1, ordering: .relaxed)
                }
                probe.sharedInside.subtract(1, ordering: .sequentiallyConsistent)
            }
            for round in 0..<rounds {
                switch round % 3 {
                case 0:
                    // Through a slot (more readers than slots: some are counted).
                    let slot = lock.lockShared(preferring: thread % lock.slotCount)
                    inside()
                    lock.unlockShared(slot)
                case 1:
                    // Counted, as writes and backups are.
                    lock.withShared { inside() }
                default:
                    // Nested: a read inside a write.
                    lock.withShared {
                        let slot = lock.lockShared(preferring: 0)
                        inside()
                        lock.unlockShared(slot)
                    }
                }
            }
        }
        let violations = probe.violations.load(ordering: .relaxed)
        let exclusiveRuns = probe.exclusiveRuns.load(ordering: .relaxed)
        #expect(violations == 0)
        #expect(exclusiveRuns == exclusiveRounds)
    }

    /// glibc's `pthread_rwlock_t`, which the lock replaced, prefers readers; so must the lock, or
    /// a read inside a write closure would wait for an exclusive caller that waits for the write.
    @Test(.timeLimit(.minutes(1)))
    func aSharedHolderTakesItAgainWhileAnExclusiveCallerWaits() async throws {
        let lock = MapLock(slots: 4)
        let probe = LockProbe()
        _ = try await onNewThreads(2) { thread in
            if thread == 0 {
                let outer = lock.lockShared(preferring: 1)
                probe.step.store(1, ordering: .sequentiallyConsistent)
                // Wait until the exclusive caller is trying to get in.
                spin { lock.isExclusiveWanted }
                let inner = lock.lockShared(preferring: 1)
                #expect(inner != outer)
                let inWhileNested = probe.exclusiveInside.load(ordering: .sequentiallyConsistent)
                lock.unlockShared(inner)
                let inWhileHeld = probe.exclusiveInside.load(ordering: .sequentiallyConsistent)
                lock.unlockShared(outer)
                #expect(!inWhileNested && !inWhileHeld)
            } else {
                spin { probe.step.load(ordering: .sequentiallyConsistent) == 1 }
                lock.withExclusive {
                    probe.exclusiveInside.store(true, ordering: .sequentiallyConsistent)
                }
            }
        }
        let exclusiveRan = probe.exclusiveInside.load(ordering: .sequentiallyConsistent)
        #expect(exclusiveRan)
    }

    @Test(.timeLimit(.minutes(1)))
    func aTimedExclusiveCallerGivesUpWhileTheLockIsHeld() async throws {
        let lock = MapLock(slots: 1)
        let probe = LockProbe()
        let outcomes = try await onNewThreads(2) { thread -> [Bool] in
            if thread == 0 {
                // Hold it shared through the slot, then counted, then exclusively.
                let slot = lock.lockShared(preferring: 0)
                probe.step.store(1, ordering: .sequentiallyConsistent)
                spin { probe.step.load(ordering: .sequentiallyConsistent) == 2 }
                lock.unlockShared(slot)
                lock.withShared {
                    probe.step.store(3, ordering: .sequentiallyConsistent)
                    spin { probe.step.load(ordering: .sequentiallyConsistent) == 4 }
                }
                lock.withExclusive {
                    probe.step.store(5, ordering: .sequentiallyConsistent)
                    spin { probe.step.load(ordering: .sequentiallyConsistent) == 6 }
                }
                return []
            }
            var outcomes: [Bool] = []
            for held in [1, 3, 5] {
                spin { probe.step.load(ordering: .sequentiallyConsistent) == held }
                outcomes.append(lock.withExclusive(timeout: .milliseconds(20)) { true } ?? false)
                probe.step.store(held + 1, ordering: .sequentiallyConsistent)
            }
            // Free again: a generous timeout succeeds.
            outcomes.append(lock.withExclusive(timeout: .seconds(30)) { true } ?? false)
            return outcomes
        }
        #expect(outcomes[1] == [false, false, false, true])
    }
}

/// The engine's reset read transactions, one per reader slot, cached by whichever thread read
/// last: closing ends them all, map growth (here or in another process) leaves them usable, and
/// threads that come and go never hold more LMDB reader slots than there are reader slots.
@Suite struct ReaderSlotTests {
    static let values = Table<UInt64, UInt64>("values")
    static let blobs = Table<UInt32, [UInt8]>("blobs")

    static func engine(of store: Store) throws -> LMDBEngine {
        try #require(store.engine as? LMDBEngine)
    }

    /// Reads on more threads at once than there are slots: each slot ends up with a reset
    /// transaction (left by some thread), the others' transactions are aborted, and closing on
    /// another thread aborts the cached ones.
    @Test(.timeLimit(.minutes(1)))
    func closeEndsTheTransactionsThatOtherThreadsLeft() async throws {
        try await withTemporaryFolder { folder in
            let store = try Store(
                path: folder + "/store",
                configuration: LMDBConfiguration(durability: .noSync),
                logger: testLogger
            )
            let engine = try Self.engine(of: store)
            try store.withWriteTransactionBlocking { txn in try txn.put(Self.values, 1, 11) }
            let limit = engine.cachedReaderLimit
            #expect(limit >= 1)
            let threads = limit + 2
            // Everyone inside a read at once: every slot is taken, two reads are counted.
            let seen = try await readingTogether(store, threads: threads) { txn in try txn.get(Self.values, 1) }
            #expect(seen == Array(repeating: 11, count: threads))
            #expect(engine.cachedReaderCount == limit)
            #expect(try engine.readerTableEntries() == limit)

            try await store.close()
            #expect(engine.cachedReaderCount == 0)
            let errors = try await onNewThreads(threads) { _ in
                do {
                    _ = try store.withReadTransaction { txn in try txn.get(Self.values, 1) }
                    return StoreError.Code.internalError
                } catch let error as StoreError {
                    return error.code
                }
            }
            #expect(errors == Array(repeating: .closed, count: threads))
        }
    }

    /// Growing the map (exclusive) waits for no reset transaction, and the cached ones see the
    /// rows written after it.
    @Test(.timeLimit(.minutes(1)))
    func cachedTransactionsSurviveMapGrowth() async throws {
        let configuration = LMDBConfiguration(initialMapSize: 128 << 10, durability: .noSync)
        try await withStore(configuration: configuration) { store, _ in
            let engine = try Self.engine(of: store)
            let threads = engine.cachedReaderLimit
            let before = try await readingTogether(store, threads: threads) { txn in try txn.count(Self.blobs) }
            #expect(before == Array(repeating: 0, count: threads))
            #expect(engine.cachedReaderCount == threads)
            let reserved = try store.statistics().reservedBytes
            try store.withWriteTransactionBlocking { txn in
                for seed in UInt32(0)..<512 {
                    try txn.put(Self.blobs, seed, EnvironmentTests.blob(seed))
                }
            }
            #expect(try store.statistics().reservedBytes > reserved)
            let after = try await onNewThreads(threads) { _ in
                try store.withReadTransaction { txn in
                    (try txn.count(Self.blobs), try txn.get(Self.blobs, 511) == EnvironmentTests.blob(511))
                }
            }
            #expect(after.allSatisfy { $0 == (512, true) })
            #expect(try engine.readerTableEntries() <= engine.cachedReaderLimit)
        }
    }

    /// Another process grows the map while this one keeps reset transactions: renewing one fails
    /// with MDB_MAP_RESIZED, and the engine adopts the new size and reads on.
    @Test(.timeLimit(.minutes(2)))
    func cachedTransactionsAdoptAMapGrownByAnotherProcess() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            let store = try Store(
                path: path,
                configuration: CrashTestSchema.configuration,
                schema: CrashTestSchema.schema,
                logger: testLogger
            )
            let engine = try Self.engine(of: store)
            let threads = engine.cachedReaderLimit
            let inserted = try await readingTogether(store, threads: threads) { txn in
                try txn.value(CrashTestSchema.counters, "inserted")
            }
            #expect(inserted == Array(repeating: 0, count: threads))
            let reserved = try store.statistics().reservedBytes

            // The crash test's writer, stopped after enough rows to outgrow the initial map.
            let writerPath = try CrashTests.writerPath
            let acknowledged = try await onNewThread { try Self.runWriter(writerPath, store: path, rows: 400) }
            #expect(acknowledged >= 400)

            // (The counters table is the one this process knew before: a table another process
            // creates stays unknown to an open engine, and reads as empty, until it is reopened.)
            let counts = try await onNewThreads(threads) { _ in
                try store.withReadTransaction { txn in try txn.value(CrashTestSchema.counters, "inserted") }
            }
            #expect(counts.allSatisfy { $0 >= Int64(acknowledged) }, "\(counts) after \(acknowledged)")
            #expect(try store.statistics().reservedBytes > reserved)
            #expect(engine.adoptedResizes >= 1)
            try await store.close()
        }
    }

    /// Runs the crash writer on the store until it acknowledged `rows` commits, then kills it;
    /// returns how many it acknowledged. Blocks: call it on a thread of its own.
    static func runWriter(_ writer: String, store path: String, rows: Int) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: writer)
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.waitUntilExit() }
        let descriptor = output.fileHandleForReading.fileDescriptor
        var newlines = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while newlines < rows {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }  // the writer died
            newlines += buffer[..<count].count(where: { $0 == UInt8(ascii: "\n") })
        }
        kill(process.processIdentifier, SIGKILL)
        return newlines
    }

    /// Threads come and go (as the concurrency pool's, NIO's and Dispatch's do): the reset
    /// transactions stay bounded by the slots, so a small `maxReaders` never runs out.
    @Test(.timeLimit(.minutes(1)))
    func threadsComingAndGoingDoNotExhaustReaderSlots() async throws {
        let configuration = LMDBConfiguration(initialMapSize: 1 << 20, maxReaders: 16, durability: .noSync)
        try await withStore(configuration: configuration) { store, _ in
            let engine = try Self.engine(of: store)
            #expect(engine.cachedReaderLimit <= 8)
            try store.withWriteTransactionBlocking { txn in try txn.put(Self.values, 3, 9) }
            for _ in 0..<25 {
                // Four new threads at a time, each with two reads open at once: at most eight
                // running, beside at most `cachedReaderLimit` (half of `maxReaders`) kept: within
                // 16 reader slots, as long as nothing is kept per thread.
                let sums = try await onNewThreads(4) { _ in
                    var sum: UInt64 = 0
                    for _ in 0..<20 {
                        sum += try store.withReadTransaction { txn in
                            try store.withReadTransaction { inner in try inner.get(Self.values, 3) ?? 0 }
                                + (try txn.get(Self.values, 3) ?? 0)
                        }
                    }
                    return sum
                }
                #expect(sums == Array(repeating: 360, count: 4))
            }
            #expect(try engine.readerTableEntries() <= engine.cachedReaderLimit)
            #expect(engine.cachedReaderCount <= engine.cachedReaderLimit)
        }
    }
}
