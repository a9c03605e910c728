import BastionStore
import Synchronization
import Testing

@Suite struct ExpiryTests {
    static let challenges = ExpiringTable<String, String>("challenges")
    static let raw = Table<[UInt8], [UInt8]>("challenges")
    static let rawExpiry = Table<[UInt8], [UInt8]>("challenges#expiry")

    @Test func anExpiredRowReadsAsAbsent() async throws {
        let clock = ManualStoreClock()
        try await withStore(clock: clock) { store, _ in
            let start = clock.now()
            try await store.withWriteTransaction { txn in
                try txn.put(Self.challenges, "short", "123456", expiresIn: .seconds(30))
                try txn.put(Self.challenges, "long", "654321", expiresAt: start.advanced(by: .seconds(300)))
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.challenges, "short") == "123456")
                let entry = try #require(try txn.entry(Self.challenges, "long"))
                #expect(entry.value == "654321")
                #expect(entry.expiresAt == start.advanced(by: .seconds(300)))
            }
            clock.advance(by: .seconds(30))
            try store.withReadTransaction { txn throws in
                // Expiry is exclusive: at the expiry time the row is gone.
                #expect(try txn.get(Self.challenges, "short") == nil)
                #expect(try txn.get(Self.challenges, "long") == "654321")
                // Until swept, the row is still stored.
                #expect(try txn.count(Self.raw) == 2)
            }
        }
    }

    /// A transaction reads the clock when it first needs the time, and only then: reads of
    /// plain tables don't pay for it, and rows are judged by one instant throughout.
    @Test func aTransactionReadsTheClockOnceWhenItFirstNeedsIt() async throws {
        let clock = CountingStoreClock()
        let plain = Table<String, String>("plain")
        try await withStore(clock: clock) { store, _ in
            try await store.withWriteTransaction { txn in
                try txn.put(plain, "a", "1")
                try txn.put(Self.challenges, "short", "123456", expiresIn: .seconds(30))
            }
            let beforeReads = clock.reads
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(plain, "a") == "1")
            }
            #expect(clock.reads == beforeReads)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.challenges, "short") == "123456")
                // The row expires now, but not for this transaction, which has read the time.
                clock.manual.advance(by: .seconds(30))
                #expect(try txn.get(Self.challenges, "short") == "123456")
                #expect(try txn.entry(Self.challenges, "short") != nil)
            }
            #expect(clock.reads == beforeReads + 1)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.challenges, "short") == nil)
            }
        }
    }

    @Test func storingAgainMovesTheExpiry() async throws {
        let clock = ManualStoreClock()
        try await withStore(clock: clock) { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.put(Self.challenges, "c", "first", expiresIn: .seconds(10))
                try txn.put(Self.challenges, "c", "second", expiresIn: .seconds(60))
                #expect(try txn.count(Self.rawExpiry) == 1)
            }
            clock.advance(by: .seconds(20))
            let removed = try await store.removeExpired(Self.challenges)
            #expect(removed == 0)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.challenges, "c") == "second")
            }
        }
    }

    @Test func deleteRemovesTheRowAndItsExpiryEntry() async throws {
        let clock = ManualStoreClock()
        try await withStore(clock: clock) { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.put(Self.challenges, "c", "x", expiresIn: .seconds(10))
                #expect(try txn.delete(Self.challenges, "c"))
                #expect(try !txn.delete(Self.challenges, "c"))
                #expect(try txn.count(Self.raw) == 0)
                #expect(try txn.count(Self.rawExpiry) == 0)
            }
        }
    }

    @Test func removeExpiredWorksInBoundedBatches() async throws {
        let clock = ManualStoreClock()
        try await withStore(clock: clock) { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                for index in 0..<25 {
                    try txn.put(Self.challenges, "old-\(index)", "x", expiresIn: .seconds(Int64(index + 1)))
                }
                for index in 0..<5 {
                    try txn.put(Self.challenges, "new-\(index)", "y", expiresIn: .seconds(3600))
                }
            }
            clock.advance(by: .seconds(60))
            let firstBatch = try store.withWriteTransactionBlocking { txn in
                try txn.removeExpired(Self.challenges, limit: 10)
            }
            #expect(firstBatch == 10)
            let rest = try await store.removeExpired(Self.challenges, batchSize: 4)
            #expect(rest == 15)
            try store.withReadTransaction { txn throws in
                #expect(try txn.count(Self.raw) == 5)
                #expect(try txn.count(Self.rawExpiry) == 5)
                #expect(try txn.get(Self.challenges, "new-0") == "y")
            }
        }
    }

    @Test func theSweeperRunsUntilCancelled() async throws {
        let clock = ManualStoreClock()
        try await withStore(clock: clock) { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                for index in 0..<50 {
                    try txn.put(Self.challenges, "c\(index)", "x", expiresIn: .seconds(5))
                }
            }
            let sweeper = ExpirySweeper(
                store: store,
                tables: [Self.challenges],
                interval: .milliseconds(10),
                batchSize: 7,
                logger: testLogger
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await sweeper.run() }
                // Nothing has expired yet: the sweeper must leave the rows alone.
                try await Task.sleep(for: .milliseconds(50))
                #expect(try store.withReadTransaction { try $0.count(Self.raw) } == 50)
                clock.advance(by: .seconds(10))
                var remaining = 50
                for _ in 0..<500 where remaining > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                    remaining = try store.withReadTransaction { try $0.count(Self.raw) }
                }
                #expect(remaining == 0)
                group.cancelAll()
                try await group.waitForAll()
            }
        }
    }
}

/// A manual clock that counts how often the store reads it.
final class CountingStoreClock: StoreClock {
    let manual = ManualStoreClock()
    private let count = Mutex(0)

    var reads: Int { self.count.withLock { $0 } }

    func now() -> StoreInstant {
        self.count.withLock { $0 += 1 }
        return self.manual.now()
    }
}
