import BastionStore
import Testing

@Suite struct TableTests {
    static let accounts = Table<String, Account>("accounts")
    static let numbers = Table<Int64, String>("numbers")
    static let messages = Table<CompositeKey<String, UInt64>, String>("messages")

    @Test func putGetContainsAndDelete() async throws {
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn throws in
                try txn.put(Self.accounts, "alice", Account(email: "alice@example.com"))
                try txn.put(Self.accounts, "bob", Account(email: "bob@example.com"))
                // A transaction sees its own writes.
                #expect(try txn.get(Self.accounts, "alice")?.email == "alice@example.com")
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.accounts, "alice") == Account(email: "alice@example.com"))
                #expect(try txn.get(Self.accounts, "carol") == nil)
                #expect(try txn.contains(Self.accounts, "bob"))
                #expect(try txn.count(Self.accounts) == 2)
            }
            let deleted = try await store.withWriteTransaction { txn throws in
                (try txn.delete(Self.accounts, "alice"), try txn.delete(Self.accounts, "alice"))
            }
            #expect(deleted == (true, false))
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.accounts, "alice") == nil)
                #expect(try txn.count(Self.accounts) == 1)
            }
        }
    }

    @Test func aTableThatWasNeverWrittenReadsAsEmpty() async throws {
        try await withStore { store, _ in
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.numbers, 1) == nil)
                #expect(try txn.count(Self.numbers) == 0)
                #expect(try txn.scan(Self.numbers).isEmpty)
            }
            let deleted = try store.withWriteTransactionBlocking { txn in try txn.delete(Self.numbers, 1) }
            #expect(!deleted)
        }
    }

    @Test func insertRefusesAnExistingKeyAndUpdateNeedsOne() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.insert(Self.numbers, 1, "one")
                let duplicate = try #require(throws: StoreError.self) { try txn.insert(Self.numbers, 1, "uno") }
                #expect(duplicate.code == .alreadyExists)
                let length = try txn.update(Self.numbers, 1) { value -> Int in
                    value += "!"
                    return value.count
                }
                #expect(length == 4)
                let missing = try #require(throws: StoreError.self) {
                    try txn.update(Self.numbers, 2) { $0 += "?" }
                }
                #expect(missing.code == .notFound)
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.numbers, 1) == "one!")
            }
        }
    }

    @Test func aThrowingWriteCommitsNothing() async throws {
        struct Abandon: Error {}
        try await withStore { store, _ in
            await #expect(throws: Abandon.self) {
                try await store.withWriteTransaction { txn throws in
                    try txn.put(Self.numbers, 1, "one")
                    throw Abandon()
                }
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.numbers, 1) == nil)
            }
        }
    }

    @Test func readersKeepTheirSnapshot() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn in try txn.put(Self.numbers, 1, "one") }
            try store.withReadTransaction { txn throws in
                // A write committed during the read is not seen by it.
                try store.withWriteTransactionBlocking { txn in try txn.put(Self.numbers, 1, "uno") }
                #expect(try txn.get(Self.numbers, 1) == "one")
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.numbers, 1) == "uno")
            }
        }
    }

    @Test func rangeScansForwardAndReverse() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                for number in Int64(-5)...5 {
                    try txn.put(Self.numbers, number, "n\(number)")
                }
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.keys(Self.numbers) == Array(-5...5))
                #expect(try txn.keys(Self.numbers, reverse: true) == Array((-5...5).reversed()))
                #expect(try txn.keys(Self.numbers, .from(3)) == [3, 4, 5])
                #expect(try txn.keys(Self.numbers, .upTo(-3)) == [-5, -4])
                #expect(try txn.keys(Self.numbers, .between(-1, and: 2)) == [-1, 0, 1])
                #expect(try txn.keys(Self.numbers, .between(-1, and: 2), reverse: true) == [1, 0, -1])
                #expect(try txn.keys(Self.numbers, .from(3), reverse: true) == [5, 4, 3])
                #expect(try txn.keys(Self.numbers, .upTo(-3), reverse: true) == [-4, -5])
                #expect(try txn.keys(Self.numbers, .from(100)).isEmpty)
                #expect(try txn.keys(Self.numbers, .upTo(100), reverse: true, limit: 2) == [5, 4])
                let rows = try txn.scan(Self.numbers, .from(4))
                #expect(rows.map(\.value) == ["n4", "n5"])
                var visited: [Int64] = []
                try txn.forEach(Self.numbers) { key, _ in
                    visited.append(key)
                    return key < 0
                }
                #expect(visited == [-5, -4, -3, -2, -1, 0])
            }
        }
    }

    @Test func prefixScansOverCompositeAndStringKeys() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                for client in ["a", "a\u{0}", "ab", "b"] {
                    for sequence in UInt64(1)...3 {
                        try txn.put(Self.messages, CompositeKey(client, sequence), "\(client)#\(sequence)")
                    }
                }
                for name in ["app", "apple", "apply", "banana", "ap"] {
                    try txn.put(Self.accounts, name, Account(email: name))
                }
            }
            try store.withReadTransaction { txn throws in
                let forA = try txn.scan(Self.messages, .prefix(KeyPrefix("a")))
                #expect(forA.map(\.value) == ["a#1", "a#2", "a#3"])
                let reversed = try txn.scan(Self.messages, .prefix(KeyPrefix("ab")), reverse: true)
                #expect(reversed.map(\.value) == ["ab#3", "ab#2", "ab#1"])
                let fromTwo = try txn.scan(Self.messages, .between(CompositeKey("a", 2), and: CompositeKey("a", 100)))
                #expect(fromTwo.map(\.value) == ["a#2", "a#3"])
                let exact = try txn.scan(Self.messages, .prefix(KeyPrefix("b", UInt64(2))))
                #expect(exact.map(\.value) == ["b#2"])

                #expect(try txn.keys(Self.accounts, .startingWith("app")) == ["app", "apple", "apply"])
                #expect(
                    try txn.keys(Self.accounts, .prefix(KeyPrefix(string: "appl")), reverse: true) == [
                        "apply", "apple",
                    ]
                )
                #expect(try txn.keys(Self.accounts, .startingWith("c")).isEmpty)
            }
        }
    }

    @Test func prefixOfAllFFBytesRunsToTheEnd() async throws {
        let blobs = Table<[UInt8], String>("blobs")
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                try txn.put(blobs, [0xFF], "ff")
                try txn.put(blobs, [0xFF, 0xFF, 0x01], "ffff01")
                try txn.put(blobs, [0xFE], "fe")
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.scan(blobs, .startingWith([0xFF])).map(\.value) == ["ff", "ffff01"])
                #expect(try txn.scan(blobs, .startingWith([0xFF]), reverse: true).map(\.value) == ["ffff01", "ff"])
            }
        }
    }

    @Test func cursorsWalkBothWays() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                for number in Int64(1)...4 {
                    try txn.put(Self.numbers, number * 10, "n\(number * 10)")
                }
            }
            try store.withReadTransaction { txn throws in
                try txn.withCursor(Self.numbers) { cursor throws in
                    #expect(try cursor.first()?.key == 10)
                    #expect(try cursor.next()?.key == 20)
                    #expect(try cursor.previous()?.key == 10)
                    #expect(try cursor.previous() == nil)
                    #expect(try cursor.last()?.value == "n40")
                    #expect(try cursor.next() == nil)
                    #expect(try cursor.seek(atOrAfter: 25)?.key == 30)
                    #expect(try cursor.seek(atOrAfter: 30)?.key == 30)
                    #expect(try cursor.seek(atOrAfter: 41) == nil)
                }
            }
        }
    }

    @Test func deleteRangeAndRemoveAll() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                for number in Int64(0)..<10 {
                    try txn.put(Self.numbers, number, "\(number)")
                }
                #expect(try txn.delete(Self.numbers, .between(2, and: 5)) == 3)
                #expect(try txn.keys(Self.numbers) == [0, 1, 5, 6, 7, 8, 9])
                try txn.removeAll(Self.numbers)
                #expect(try txn.count(Self.numbers) == 0)
            }
        }
    }

    @Test func keysMustFitLMDBsLimit() async throws {
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn throws in
                let long = String(repeating: "k", count: 512)
                let tooLong = try #require(throws: StoreError.self) {
                    try txn.put(Self.accounts, long, Account(email: ""))
                }
                #expect(tooLong.code == .invalidArgument)
                #expect(tooLong.message.contains("511"))
                let empty = try #require(throws: StoreError.self) { try txn.put(Self.accounts, "", Account(email: "")) }
                #expect(empty.code == .invalidArgument)
                // The largest key is fine.
                try txn.put(Self.accounts, String(repeating: "k", count: 511), Account(email: "long"))
            }
        }
    }

    @Test func undecodableValuesThrowInvalidData() async throws {
        let raw = Table<String, [UInt8]>("accounts")
        try await withStore { store, _ in
            try store.withWriteTransactionBlocking { txn in try txn.put(raw, "x", [1, 2, 3]) }
            let error = try #require(throws: StoreError.self) {
                try store.withReadTransaction { txn in try txn.get(Self.accounts, "x") }
            }
            #expect(error.code == .invalidData)
            #expect(error.message.contains("accounts"))
            #expect(error.cause != nil)
        }
    }

    @Test func largeValuesRoundTrip() async throws {
        let blobs = Table<UInt32, [UInt8]>("blobs")
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn in try txn.put(blobs, 1, big) }
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(blobs, 1) == big)
            }
        }
    }
}
