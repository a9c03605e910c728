import BastionStore
import Synchronization
import Testing

/// Records which migrations ran.
final class MigrationLog: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ entry: String) {
        self.storage.withLock { $0.append(entry) }
    }

    var entries: [String] { self.storage.withLock { $0 } }
}

@Suite struct SchemaTests {
    static let settings = Table<String, String>("settings")

    static func schema(upTo version: Int, log: MigrationLog) -> StoreSchema {
        let all = [
            StoreMigration("seed defaults") { txn in
                log.append("1")
                try txn.put(settings, "registration", "open")
            },
            StoreMigration("rename registration") { txn in
                log.append("2")
                if let value = try txn.get(settings, "registration") {
                    try txn.delete(settings, "registration")
                    try txn.put(settings, "registration.mode", value)
                }
            },
            StoreMigration("add limit") { txn in
                log.append("3")
                try txn.put(settings, "registration.limit", "100")
            },
        ]
        return StoreSchema(migrations: Array(all.prefix(version)))
    }

    @Test func migrationsRunInOrderOnceEach() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            let log = MigrationLog()
            var store = try Store(path: path, schema: Self.schema(upTo: 1, log: log), logger: testLogger)
            #expect(store.schemaVersion == 1)
            try await store.close()

            store = try Store(path: path, schema: Self.schema(upTo: 3, log: log), logger: testLogger)
            #expect(store.schemaVersion == 3)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.settings, "registration") == nil)
                #expect(try txn.get(Self.settings, "registration.mode") == "open")
                #expect(try txn.get(Self.settings, "registration.limit") == "100")
            }
            try await store.close()

            // Opening again at the same version runs nothing.
            store = try Store(path: path, schema: Self.schema(upTo: 3, log: log), logger: testLogger)
            try await store.close()
            #expect(log.entries == ["1", "2", "3"])
        }
    }

    @Test func aFailedMigrationLeavesTheOlderVersion() async throws {
        struct Broken: Error {}
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            let log = MigrationLog()
            var schema = Self.schema(upTo: 1, log: log)
            schema.migrations.append(
                StoreMigration("broken") { txn in
                    try txn.put(Self.settings, "half", "done")
                    throw Broken()
                }
            )
            #expect(throws: Broken.self) { try Store(path: path, schema: schema, logger: testLogger) }
            let store = try Store(path: path, schema: Self.schema(upTo: 1, log: log), logger: testLogger)
            #expect(store.schemaVersion == 1)
            try store.withReadTransaction { txn throws in
                #expect(try txn.get(Self.settings, "half") == nil)
            }
            try await store.close()
        }
    }

    @Test func aStoreFromANewerVersionIsRefused() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            let log = MigrationLog()
            let store = try Store(path: path, schema: Self.schema(upTo: 3, log: log), logger: testLogger)
            try await store.close()
            let error = try #require(throws: StoreError.self) {
                try Store(path: path, schema: Self.schema(upTo: 2, log: log), logger: testLogger)
            }
            #expect(error.code == .versionMismatch)
            #expect(error.message.contains("schema version 3"))
            #expect(error.message.contains("up to 2"))
        }
    }
}
