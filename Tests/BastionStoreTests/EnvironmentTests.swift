import CLMDB
import Foundation
import Testing

@testable import BastionStore

@Suite struct EnvironmentTests {
    static let blobs = Table<UInt32, [UInt8]>("blobs")

    static func blob(_ seed: UInt32, size: Int = 4096) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: Int(seed) &* 7 &+ $0) }
    }

    @Test func theMapGrowsWhenItFills() async throws {
        let configuration = LMDBConfiguration(initialMapSize: 128 << 10)
        try await withStore(configuration: configuration) { store, _ in
            let before = try store.statistics().reservedBytes
            // Many small commits, then one transaction far larger than the map.
            for seed in UInt32(0)..<64 {
                try await store.withWriteTransaction { txn in try txn.put(Self.blobs, seed, Self.blob(seed)) }
            }
            try await store.withWriteTransaction { txn in
                for seed in UInt32(64)..<1024 {
                    try txn.put(Self.blobs, seed, Self.blob(seed))
                }
            }
            let after = try store.statistics()
            #expect(after.reservedBytes > before)
            #expect(after.reservedBytes >= after.usedBytes)
            #expect(after.rowCounts["blobs"] == 1024)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.blobs, 1000) == Self.blob(1000))
            }
        }
    }

    @Test func theMapGrowsEvenIfTheBodyCatchesMapFull() async throws {
        let configuration = LMDBConfiguration(initialMapSize: 128 << 10)
        try await withStore(configuration: configuration) { store, _ in
            var runs = 0
            var caught = 0
            try store.withWriteTransactionBlocking { txn in
                runs += 1
                for seed in UInt32(0)..<256 {
                    do {
                        try txn.put(Self.blobs, seed, Self.blob(seed))
                    } catch let error as StoreError where error.code == .mapFull {
                        caught += 1
                        return
                    }
                }
            }
            #expect(caught >= 1)
            #expect(runs == caught + 1)
            try store.withReadTransaction { txn throws in
                #expect(try txn.count(Self.blobs) == 256)
            }
        }
    }

    @Test func theMapStopsGrowingAtItsMaximum() async throws {
        let configuration = LMDBConfiguration(initialMapSize: 128 << 10, maximumMapSize: 512 << 10)
        try await withStore(configuration: configuration) { store, _ in
            let error = try await #require(throws: StoreError.self) {
                try await store.withWriteTransaction { txn in
                    for seed in UInt32(0)..<1024 {
                        try txn.put(Self.blobs, seed, Self.blob(seed))
                    }
                }
            }
            #expect(error.code == .mapFull)
            #expect(error.message.contains("maximum map size"))
            // The store still works, and the failed transaction left nothing behind.
            try await store.withWriteTransaction { txn in try txn.put(Self.blobs, 1, [1]) }
            try store.withReadTransaction { txn throws in
                #expect(try txn.count(Self.blobs) == 1)
            }
        }
    }

    @Test func commitsSurviveClosingAndReopening() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            var store = try Store(path: path, logger: testLogger)
            try await store.withWriteTransaction { txn in try txn.put(Self.blobs, 7, [7, 7, 7]) }
            try await store.close()
            store = try Store(path: path, logger: testLogger)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.blobs, 7) == [7, 7, 7])
            }
            try await store.close()
        }
    }

    @Test func aClosedStoreRefusesTransactions() async throws {
        try await withTemporaryFolder { folder in
            let store = try Store(path: folder + "/store", logger: testLogger)
            try await store.close()
            try await store.close()  // closing twice is harmless
            let error = try #require(throws: StoreError.self) {
                try store.withReadTransaction { txn in try txn.count(Self.blobs) }
            }
            #expect(error.code == .closed)
            let blocking = try #require(throws: StoreError.self) {
                try store.withWriteTransactionBlocking { txn in try txn.put(Self.blobs, 1, [1]) }
            }
            #expect(blocking.code == .closed)
            let async = try await #require(throws: StoreError.self) {
                try await store.withWriteTransaction { txn in try txn.put(Self.blobs, 1, [1]) }
            }
            #expect(async.code == .closed)
        }
    }

    @Test func backupsAreCompactedCopiesThatOpenAsStores() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            let store = try Store(
                path: path,
                configuration: LMDBConfiguration(initialMapSize: 1 << 20),
                logger: testLogger
            )
            try await store.withWriteTransaction { txn in
                for seed in UInt32(0)..<500 {
                    try txn.put(Self.blobs, seed, Self.blob(seed))
                }
            }
            // Free most of the pages, so that the compacted copy is much smaller.
            try await store.withWriteTransaction { txn throws in
                #expect(try txn.delete(Self.blobs, .between(10, and: 500)) == 490)
            }
            // A backup taken while a reader is open and writes go on.
            try await store.backup(to: folder + "/backup")
            try await store.withWriteTransaction { txn in try txn.put(Self.blobs, 9999, [9]) }
            let original = try FileManager.default.attributesOfItem(atPath: path + "/data.mdb")[.size] as! Int
            let copy = try FileManager.default.attributesOfItem(atPath: folder + "/backup/data.mdb")[.size] as! Int
            #expect(copy < original / 4)

            // Restore: the backup folder opens as a store with the rows as they were.
            let restored = try Store(path: folder + "/backup", logger: testLogger)
            try restored.withReadTransaction { txn throws in
                #expect(try txn.keys(Self.blobs) == Array(0..<10))
                #expect(try txn.get(Self.blobs, 3) == Self.blob(3))
            }
            try await restored.close()

            // A backup never overwrites anything.
            let error = try await #require(throws: StoreError.self) { try await store.backup(to: folder + "/backup") }
            #expect(error.code == .alreadyExists)
            try store.backupBlocking(to: folder + "/empty-but-existing")
            try FileManager.default.createDirectory(atPath: folder + "/new", withIntermediateDirectories: false)
            try store.backupBlocking(to: folder + "/new")
            try await store.close()
        }
    }

    @Test func aFileThatIsNotAStoreIsCorrupt() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            let garbage = Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 131) })
            try garbage.write(to: URL(fileURLWithPath: path + "/data.mdb"))
            let error = try #require(throws: StoreError.self) { try Store(path: path, logger: testLogger) }
            #expect(error.code == .corrupt)
            #expect(error.message.contains("MDB_INVALID"))
            #expect(error.engineCode == MDB_INVALID)
        }
    }

    @Test func tooManyReadersIsReported() async throws {
        try await withStore(configuration: LMDBConfiguration(maxReaders: 1)) { store, _ in
            let error = try #require(throws: StoreError.self) {
                try store.withReadTransaction { _ in
                    try store.withReadTransaction { txn in try txn.count(Self.blobs) }
                }
            }
            #expect(error.code == .tooManyReaders)
        }
    }

    @Test func tooManyTablesIsReported() async throws {
        try await withStore(configuration: LMDBConfiguration(maxTables: 2)) { store, _ in
            let error = try await #require(throws: StoreError.self) {
                try await store.withWriteTransaction { txn in
                    for index in 0..<4 {
                        try txn.put(Table<String, String>("t\(index)"), "k", "v")
                    }
                }
            }
            #expect(error.code == .tooManyTables)
        }
    }

    @Test(.enabled(if: getuid() != 0, "root ignores file permissions"))
    func anUnreadableFolderIsPermissionDenied() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/locked"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            chmod(path, 0o500)
            defer { chmod(path, 0o700) }
            let error = try #require(throws: StoreError.self) { try Store(path: path, logger: testLogger) }
            #expect(error.code == .permissionDenied)
        }
    }

    @Test(arguments: [
        (MDB_MAP_FULL, StoreError.Code.mapFull, "MDB_MAP_FULL"),
        (MDB_READERS_FULL, .tooManyReaders, "MDB_READERS_FULL"),
        (MDB_DBS_FULL, .tooManyTables, "MDB_DBS_FULL"),
        (MDB_CORRUPTED, .corrupt, "MDB_CORRUPTED"),
        (MDB_PAGE_NOTFOUND, .corrupt, "MDB_PAGE_NOTFOUND"),
        (MDB_VERSION_MISMATCH, .versionMismatch, "MDB_VERSION_MISMATCH"),
        (MDB_NOTFOUND, .notFound, "MDB_NOTFOUND"),
        (EACCES, .permissionDenied, "Permission denied"),
        (EROFS, .permissionDenied, "Read-only file system"),
        (ENOSPC, .ioError, "No space left on device"),
        (MDB_BAD_VALSIZE, .invalidArgument, "MDB_BAD_VALSIZE"),
    ])
    func engineCodesMapToStoreErrorCodes(rc: Int32, code: StoreError.Code, text: String) {
        let error = StoreError(lmdb: rc, "Doing something")
        #expect(error.code == code)
        #expect(error.engineCode == rc)
        #expect(error.message.hasPrefix("Doing something: "))
        #expect(error.message.contains(text))
        #expect(error.description.contains(code.description))
    }
}
