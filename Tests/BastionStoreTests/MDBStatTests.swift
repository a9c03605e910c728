import BastionStore
import Foundation
import Testing

/// LMDB's own tools (Debian `lmdb-utils`) read the store's files.
@Suite struct MDBStatTests {
    static let mdbStat = "/usr/bin/mdb_stat"
    static let accounts = Table<String, Account>("accounts", indexes: [IndexTests.byEmail])
    static let sessions = ExpiringTable<String, String>("sessions")
    static let counters = CounterTable<String>("counters")

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: mdbStat), "needs mdb_stat from Debian's lmdb-utils")
    )
    func mdbStatListsEveryTable() async throws {
        try await withStore(schema: StoreSchema(migrations: [StoreMigration("v1") { _ in }])) { store, path in
            try await store.withWriteTransaction { txn in
                try txn.put(Self.accounts, "alice", Account(email: "alice@example.com"))
                try txn.put(Self.accounts, "bob", Account(email: "bob@example.com"))
                try txn.put(Self.sessions, "s1", "x", expiresIn: .seconds(60))
                try txn.increment(Self.counters, "logins")
            }
            // While the store is open: LMDB's lock file lets other processes read alongside.
            let (status, output) = try Self.run(Self.mdbStat, ["-a", path])
            #expect(status == 0, "mdb_stat failed: \(output)")
            for table in ["_meta", "accounts", "accounts.by-email", "sessions", "sessions#expiry", "counters"] {
                #expect(output.contains("Status of \(table)\n"), "mdb_stat should list \(table): \(output)")
            }
            let accountsStatus = """
                Status of accounts
                  Tree depth: 1
                  Branch pages: 0
                  Leaf pages: 1
                  Overflow pages: 0
                  Entries: 2

                """
            #expect(output.contains(accountsStatus))

            // The environment info is LMDB's usual.
            let (envStatus, envOutput) = try Self.run(Self.mdbStat, ["-e", path])
            #expect(envStatus == 0)
            #expect(envOutput.contains("Map size:"))
            #expect(envOutput.contains("Max readers: 126"))

            // And a backup reads the same way.
            try await store.backup(to: path + "-backup")
            let (backupStatus, backupOutput) = try Self.run(Self.mdbStat, ["-a", path + "-backup"])
            #expect(backupStatus == 0, "mdb_stat failed on the backup: \(backupOutput)")
            #expect(backupOutput.contains("Status of accounts.by-email\n"))
        }
    }
}
