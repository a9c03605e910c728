import BastionStore
import Testing

@Suite struct CounterTests {
    static let counters = CounterTable<String>("counters")

    @Test func incrementReturnsTheNewValue() async throws {
        try await withStore { store, _ in
            let values = try await store.withWriteTransaction { txn throws in
                [
                    try txn.increment(Self.counters, "logins"),
                    try txn.increment(Self.counters, "logins"),
                    try txn.increment(Self.counters, "logins", by: 10),
                    try txn.increment(Self.counters, "failures", by: -2),
                ]
            }
            #expect(values == [1, 2, 12, -2])
            try store.withReadTransaction { txn throws in
                #expect(try txn.value(Self.counters, "logins") == 12)
                #expect(try txn.value(Self.counters, "never") == 0)
            }
            try store.withWriteTransactionBlocking { txn throws in
                try txn.set(Self.counters, "logins", to: 100)
                #expect(try txn.reset(Self.counters, "failures"))
                #expect(try txn.value(Self.counters, "failures") == 0)
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.value(Self.counters, "logins") == 100)
            }
        }
    }

    @Test func overflowIsRefused() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.set(Self.counters, "big", to: .max)
                let error = try #require(throws: StoreError.self) { try txn.increment(Self.counters, "big") }
                #expect(error.code == .invalidArgument)
                #expect(try txn.value(Self.counters, "big") == .max)
            }
        }
    }

    @Test func concurrentIncrementsAreAtomic() async throws {
        try await withStore { store, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        for _ in 0..<25 {
                            try await store.withWriteTransaction { txn throws in
                                try txn.increment(Self.counters, "hits")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.value(Self.counters, "hits") == 200)
            }
        }
    }
}
