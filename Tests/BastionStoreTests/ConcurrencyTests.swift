import BastionStore
import Synchronization
import Testing

/// Flags the test's tasks share.
final class SharedState: Sendable {
    let writersDone = Atomic<Bool>(false)
    let writersInside = Atomic<Int>(0)
    let mostWritersInside = Atomic<Int>(0)
    let committedIDs = Mutex<[UInt64]>([])
}

@Suite struct ConcurrencyTests {
    static let rows = Table<UInt64, [UInt8]>("rows")
    static let counters = CounterTable<String>("counters")

    /// Many reader tasks check a snapshot invariant (the counter equals the row count, every row
    /// decodes) while writer tasks, async and blocking, add rows; the map starts tiny so it grows
    /// under the readers' feet. Run under `swift test --sanitize=thread` too.
    @Test func manyReadersAndOneWriterAtATime() async throws {
        let configuration = LMDBConfiguration(initialMapSize: 128 << 10)
        try await withStore(configuration: configuration) { store, _ in
            let state = SharedState()
            let writerTasks = 4
            let writesPerTask = 40

            @Sendable func writeRow(_ txn: borrowing WriteTransaction) throws -> UInt64 {
                let inside = state.writersInside.add(1, ordering: .sequentiallyConsistent).newValue
                defer { state.writersInside.subtract(1, ordering: .sequentiallyConsistent) }
                state.mostWritersInside.max(inside, ordering: .sequentiallyConsistent)
                let id = UInt64(try txn.increment(Self.counters, "rows"))
                try txn.put(
                    Self.rows,
                    id,
                    Array(repeating: UInt8(truncatingIfNeeded: id), count: 512 + Int(id % 7) * 300)
                )
                return id
            }

            let readCounts = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<writerTasks {
                    group.addTask {
                        for write in 0..<writesPerTask {
                            let id: UInt64
                            if (task + write) % 5 == 0 {
                                id = try store.withWriteTransactionBlocking { txn in try writeRow(txn) }
                            } else {
                                id = try await store.withWriteTransaction { txn in try writeRow(txn) }
                            }
                            state.committedIDs.withLock { $0.append(id) }
                        }
                        return 0
                    }
                }
                for _ in 0..<12 {
                    group.addTask {
                        var reads = 0
                        var lastSeen = 0
                        repeat {
                            let seen = try store.withReadTransaction { txn throws -> Int in
                                let counted = try txn.count(Self.rows)
                                #expect(Int(try txn.value(Self.counters, "rows")) == counted)
                                for (key, value) in try txn.scan(Self.rows, reverse: true, limit: 3) {
                                    #expect(value.allSatisfy { $0 == UInt8(truncatingIfNeeded: key) })
                                }
                                return counted
                            }
                            #expect(seen >= lastSeen, "a later snapshot never has fewer rows")
                            lastSeen = seen
                            reads += 1
                            await Task.yield()
                        } while !state.writersDone.load(ordering: .acquiring)
                        return reads
                    }
                }
                // Wait for the writers (they return 0), then stop the readers.
                var finishedWriters = 0
                var reads: [Int] = []
                while let result = try await group.next() {
                    if finishedWriters < writerTasks && result == 0 {
                        finishedWriters += 1
                        if finishedWriters == writerTasks {
                            state.writersDone.store(true, ordering: .releasing)
                        }
                    } else {
                        reads.append(result)
                    }
                }
                return reads
            }
            #expect(readCounts.count == 12)
            #expect(readCounts.allSatisfy { $0 > 0 })
            #expect(state.mostWritersInside.load(ordering: .sequentiallyConsistent) == 1)
            let (rowCount, counter) = try store.withReadTransaction { txn in
                (try txn.count(Self.rows), try txn.value(Self.counters, "rows"))
            }
            #expect(rowCount == writerTasks * writesPerTask)
            // Each write saw every earlier commit: no two took the same number.
            #expect(state.committedIDs.withLock { $0.sorted() } == Array(1...UInt64(writerTasks * writesPerTask)))
            #expect(counter == Int64(writerTasks * writesPerTask))
            #expect(try store.statistics().reservedBytes > 128 << 10)
        }
    }
}
