import ArgumentParser
import BastionStore
import Foundation
import Logging

/// `bastion backup`: a compacted, consistent copy of a store, taken while the server runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a store into a new folder, compacted, while the server keeps running.",
        discussion: """
            The copy is the store as it was when the backup began; reads and writes go on \
            meanwhile. To restore, stop bastiond and put the copy's data.mdb in place of the \
            store's (docs/STORE.md, "Backup and restore").
            """
    )

    @Option(name: .long, help: "The store's folder (it holds data.mdb).")
    var store: String = "data/store"

    @Option(name: .shortAndLong, help: "A new folder for the copy; it must not exist or must be empty.")
    var output: String

    func run() async throws {
        guard FileManager.default.fileExists(atPath: store + "/data.mdb") else {
            throw ValidationError("no store at \(store) (no data.mdb there); pass --store")
        }
        // Open the engine, not a Store: a Store would run (or refuse) schema migrations, which
        // are the server's business, not a backup's.
        var logger = Logger(label: "bastion.backup")
        logger.logLevel = .warning
        let engine = try LMDBEngine(path: store, logger: logger)
        let clock = ContinuousClock()
        let started = clock.now
        print("backing up \(store) to \(output) …")
        try engine.backup(to: output)
        let elapsed = clock.now - started

        let copy = try LMDBEngine(path: output, logger: logger)
        let statistics = try copy.statistics()
        let rows = statistics.rowCounts.values.reduce(0, +)
        print("done in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))): "
            + "\(statistics.rowCounts.count) tables, \(rows) rows, \(statistics.usedBytes) bytes used")
    }
}
