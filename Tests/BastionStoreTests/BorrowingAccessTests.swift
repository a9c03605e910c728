import BastionCodeGen
import BastionProtobuf
import BastionStore
import Testing

/// The borrowing paths the store's reads and writes take: keys lent by `withStoreKeyBytes`,
/// values lent by `withStoreBytes` and decoded from the map by `init(storeBytes:)` on a buffer,
/// and `withValueBytes`. Each must agree with the copying requirements every conformance has.
@Suite struct BorrowingAccessTests {
    static let rows = Table<String, [UInt8]>("rows")
    static let second = Table<Int64, String>("second")
    static let third = Table<UInt32, Bool>("third")
    static let versions = Table<Int, Google_Protobuf_Compiler_Version>("versions")

    static func lentKey(_ key: some StoreKey) -> [UInt8] {
        key.withStoreKeyBytes { Array($0) }
    }

    static func lentValue(_ value: some StoreValue) -> [UInt8] {
        value.withStoreBytes { Array($0) }
    }

    @Test func lentKeysAreTheStoredKeys() {
        for value: Int64 in [.min, -1, 0, 1, 255, 256, .max] {
            #expect(Self.lentKey(value) == value.storeKeyBytes)
            #expect(Self.lentKey(Int(value)) == Int(value).storeKeyBytes)
            #expect(Self.lentKey(Int32(truncatingIfNeeded: value)) == Int32(truncatingIfNeeded: value).storeKeyBytes)
            #expect(Self.lentKey(Int8(truncatingIfNeeded: value)) == Int8(truncatingIfNeeded: value).storeKeyBytes)
            #expect(Self.lentKey(UInt64(bitPattern: value)) == UInt64(bitPattern: value).storeKeyBytes)
            #expect(Self.lentKey(UInt(bitPattern: Int(value))) == UInt(bitPattern: Int(value)).storeKeyBytes)
            #expect(Self.lentKey(UInt16(truncatingIfNeeded: value)) == UInt16(truncatingIfNeeded: value).storeKeyBytes)
        }
        // Against the order-preserving encoding written out by hand.
        #expect(Self.lentKey(Int16(-2)) == [0x7F, 0xFE])
        #expect(Self.lentKey(UInt32(0x0102_0304)) == [1, 2, 3, 4])
        #expect(Self.lentKey(Int(1)) == [0x80, 0, 0, 0, 0, 0, 0, 1])
        for string in ["", "a", "naïve café", "日本語", String(repeating: "x", count: 100)] {
            #expect(Self.lentKey(string) == Array(string.utf8))
            #expect(Self.lentKey(string) == string.storeKeyBytes)
        }
        #expect(Self.lentKey([UInt8]([0, 1, 0xFF])) == [0, 1, 0xFF])
        #expect(Self.lentKey(true) == true.storeKeyBytes)
        let composite = CompositeKey("a\u{0}b", UInt64(7))
        #expect(Self.lentKey(composite) == composite.storeKeyBytes)
    }

    @Test func lentValuesAreTheStoredValues() {
        #expect(Self.lentValue(Int64(-5)) == Int64(-5).storeBytes())
        #expect(Self.lentValue(UInt16(0xBEEF)) == [0xBE, 0xEF])
        #expect(Self.lentValue(Int8(-1)) == [0xFF])
        #expect(Self.lentValue(true) == [1])
        #expect(Self.lentValue(false) == [0])
        #expect(Self.lentValue("héllo") == Array("héllo".utf8))
        #expect(Self.lentValue([UInt8]([9, 8, 7])) == [9, 8, 7])
        let version = Google_Protobuf_Compiler_Version { $0.major = 3 }
        #expect(Self.lentValue(version) == version.serializedBytes())
        let account = Account(email: "a@example.com", groups: ["x"])
        #expect(Self.lentValue(account) == account.storeBytes())
    }

    @Test func borrowedDecodingAgreesWithTheArrayInitializers() throws {
        func both<Value: StoreValue & Equatable>(_ type: Value.Type, _ bytes: [UInt8]) throws -> Value {
            let fromArray = try Value(storeBytes: bytes)
            let fromBuffer = try bytes.withUnsafeBytes { try Value(storeBytes: $0) }
            #expect(fromArray == fromBuffer)
            return fromBuffer
        }
        #expect(try both(Int64.self, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]) == -2)
        #expect(try both(UInt32.self, [0, 0, 1, 0]) == 256)
        #expect(try both(UInt8.self, [200]) == 200)
        #expect(try both(Bool.self, [1]) == true)
        #expect(try both(String.self, Array("日本".utf8)) == "日本")
        #expect(try both([UInt8].self, [1, 2, 3]) == [1, 2, 3])
        #expect(try both(Account.self, Array("a@b\nx,y".utf8)) == Account(email: "a@b", groups: ["x", "y"]))
        let version = Google_Protobuf_Compiler_Version { $0.minor = 9; $0.suffix = "rc" }
        #expect(try both(Google_Protobuf_Compiler_Version.self, version.serializedBytes()) == version)

        for (bytes, type) in [([UInt8]([1, 2, 3]), "Int32"), ([], "Int64")] {
            let error = #expect(throws: StoreError.self) {
                try bytes.withUnsafeBytes { type == "Int32" ? Int64(try Int32(storeBytes: $0)) : try Int64(storeBytes: $0) }
            }
            #expect(error?.code == .invalidData)
        }
        #expect(throws: StoreError.self) { try [UInt8]([2]).withUnsafeBytes { try Bool(storeBytes: $0) } }
        #expect(throws: StoreError.self) { try [UInt8]([0xC0, 0x80]).withUnsafeBytes { try String(storeBytes: $0) } }
    }

    @Test func withValueBytesLendsTheStoredBytes() async throws {
        try await withStore { store, _ in
            try store.withReadTransaction { txn throws in
                // A table that was never written.
                #expect(try txn.withValueBytes(Self.rows, "a") { $0 == nil })
            }
            try await store.withWriteTransaction { txn throws in
                try txn.put(Self.rows, "a", [1, 2, 3])
                try txn.put(Self.rows, "empty", [])
                #expect(try txn.withValueBytes(Self.rows, "a") { $0.map { Array($0) } } == [1, 2, 3])
            }
            try store.withReadTransaction { txn throws in
                #expect(try txn.withValueBytes(Self.rows, "a") { $0.map { Array($0) } } == [1, 2, 3])
                #expect(try txn.withValueBytes(Self.rows, "empty") { $0?.count } == 0)
                #expect(try txn.withValueBytes(Self.rows, "b") { $0 == nil })
                let error = #expect(throws: StoreError.self) {
                    try txn.withValueBytes(Self.rows, "") { _ in () }
                }
                #expect(error?.code == .invalidArgument)
            }
        }
    }

    /// `copyValueBytes(_:_:into:)` replaces the buffer's contents with each row's bytes, whatever
    /// their sizes, and leaves it alone when there is no row; it reuses the buffer's storage.
    @Test func copyValueBytesReusesTheBuffer() async throws {
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn throws in
                try txn.put(Self.rows, "a", [1, 2, 3])
                try txn.put(Self.rows, "b", [4, 5, 6])
                try txn.put(Self.rows, "long", Array(0..<200))
                try txn.put(Self.rows, "empty", [])
                try txn.put(Self.rows, "two", [7, 7])
                try txn.put(Self.versions, 1, Google_Protobuf_Compiler_Version { $0.major = 3 })
            }
            try store.withReadTransaction { txn throws in
                var buffer: [UInt8] = [9]
                #expect(try txn.copyValueBytes(Self.rows, "a", into: &buffer))
                #expect(buffer == [1, 2, 3])
                #expect(try txn.copyValueBytes(Self.rows, "long", into: &buffer))
                #expect(buffer == Array(0..<200))
                let storage = buffer.withUnsafeBytes { $0.baseAddress }
                #expect(try txn.copyValueBytes(Self.rows, "b", into: &buffer))
                #expect(buffer == [4, 5, 6])
                #expect(try txn.copyValueBytes(Self.rows, "a", into: &buffer))
                #expect(buffer == [1, 2, 3])
                #expect(buffer.withUnsafeBytes { $0.baseAddress } == storage, "the buffer's storage was replaced")
                #expect(try !txn.copyValueBytes(Self.rows, "missing", into: &buffer))
                #expect(buffer == [1, 2, 3])
                #expect(try txn.copyValueBytes(Self.rows, "empty", into: &buffer))
                #expect(buffer.isEmpty)
                // Any table: the stored bytes of a message.
                #expect(try txn.copyValueBytes(Self.versions, 1, into: &buffer))
                #expect(buffer == Google_Protobuf_Compiler_Version { $0.major = 3 }.serializedBytes())
                // A copy held elsewhere is not changed (copy on write), also when the row has the
                // same size and is copied in place.
                let kept = buffer
                #expect(kept.count == 2)
                #expect(try txn.copyValueBytes(Self.rows, "two", into: &buffer))
                #expect(buffer == [7, 7] && kept == [8, 3])
            }
        }
    }

    /// Transactions remember the two tables they used last; a third must not be confused with
    /// either, in read and write transactions, and in tables created by the same transaction.
    @Test func transactionsKeepSeveralTablesApart() async throws {
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn throws in
                for round in 0..<3 {
                    try txn.put(Self.rows, "k", [UInt8(round)])
                    try txn.put(Self.second, 1, "second \(round)")
                    try txn.put(Self.third, 1, round % 2 == 1)
                    try txn.put(Self.versions, 1, Google_Protobuf_Compiler_Version { $0.patch = Int32(round) })
                    #expect(try txn.get(Self.rows, "k") == [UInt8(round)])
                    #expect(try txn.get(Self.third, 1) == (round % 2 == 1))
                    #expect(try txn.get(Self.second, 1) == "second \(round)")
                    #expect(try txn.get(Self.versions, 1)?.patch == Int32(round))
                }
            }
            try store.withReadTransaction { txn throws in
                for _ in 0..<3 {
                    #expect(try txn.get(Self.second, 1) == "second 2")
                    #expect(try txn.get(Self.rows, "k") == [2])
                    #expect(try txn.get(Self.versions, 1)?.patch == 2)
                    #expect(try txn.get(Self.third, 1) == false)
                    #expect(try txn.count(Self.rows) == 1)
                }
            }
        }
    }

    /// A read that began before a writer created a table sees no table; one that begins after the
    /// commit sees it.
    @Test func aTableCreatedLaterAppearsOnlyInLaterSnapshots() async throws {
        try await withStore { store, _ in
            try await store.withWriteTransaction { txn in try txn.put(Self.rows, "x", [1]) }
            try store.withReadTransaction { txn throws in
                try store.withWriteTransactionBlocking { write in try write.put(Self.second, 5, "five") }
                #expect(try txn.get(Self.second, 5) == nil)
                #expect(try txn.get(Self.rows, "x") == [1])
            }
            #expect(try store.withReadTransaction { txn in try txn.get(Self.second, 5) } == "five")
        }
    }
}

/// Read transactions are reset and renewed rather than begun anew (LMDBEngine keeps a few idle
/// ones); each renewed one must see a fresh snapshot, and closing must end the idle ones.
@Suite struct ReaderReuseTests {
    static let values = Table<UInt64, UInt64>("values")

    @Test func renewedReadsSeeEveryCommit() async throws {
        try await withStore { store, _ in
            for round: UInt64 in 1...20 {
                try await store.withWriteTransaction { txn in try txn.put(Self.values, 1, round) }
                // Several reads per commit, so that the same idle transaction is renewed.
                for _ in 0..<3 {
                    #expect(try store.withReadTransaction { txn in try txn.get(Self.values, 1) } == round)
                }
            }
        }
    }

    @Test func concurrentReadsBeyondThePoolAndClose() async throws {
        try await withTemporaryFolder { folder in
            let store = try Store(path: folder + "/store", logger: testLogger)
            try await store.withWriteTransaction { txn in try txn.put(Self.values, 7, 49) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        for _ in 0..<200 {
                            let value = try store.withReadTransaction { txn in
                                // Nested reads hold two transactions at once on one thread.
                                try store.withReadTransaction { inner in try inner.get(Self.values, 7) }
                                    .flatMap { outer in try txn.get(Self.values, 7).map { $0 + outer } }
                            }
                            #expect(value == 98)
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await store.close()
            let error = #expect(throws: StoreError.self) {
                try store.withReadTransaction { txn in try txn.get(Self.values, 7) }
            }
            #expect(error?.code == .closed)
        }
    }
}
