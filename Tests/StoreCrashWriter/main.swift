// A child process for the store's crash test.
//
// Usage: StoreCrashWriter <store folder>
//
// It writes to the store as fast as it can, one row per write transaction, and after each commit
// writes "<row number>\n" to standard output: the row is then acknowledged, and must survive
// whatever happens next. The test kills it with SIGKILL at a random moment, reopens the store
// and checks every acknowledged row. `CrashTestSchema` in Tests/BastionStoreTests/CrashTests.swift
// mirrors the tables and rules below; change both together.
import BastionStore
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The tables and the rules of what row `n` holds.
enum CrashTestSchema {
    static let rowsByTag = Index<String, UInt64, [UInt8]>("rows.by-tag", unique: true) { tag(of: $0) }
    static let rowsByBucket = Index<UInt8, UInt64, [UInt8]>("rows.by-bucket") { $0.first }
    static let rows = Table<UInt64, [UInt8]>("rows", indexes: [rowsByTag, rowsByBucket])
    static let counters = CounterTable<String>("counters")
    static let sessions = ExpiringTable<UInt64, String>("sessions")

    /// A small initial map, so the map also grows while the writer is being killed.
    static let configuration = LMDBConfiguration(initialMapSize: 256 << 10)
    static let schema = StoreSchema(migrations: [
        StoreMigration("create counters") { txn in
            try txn.set(counters, "inserted", to: 0)
            try txn.set(counters, "deleted", to: 0)
        }
    ])

    /// Row `n`'s value: 16 to 2 KiB of bytes derived from `n`, starting with the tag.
    static func value(of row: UInt64) -> [UInt8] {
        var bytes = Array("tag-\(row);".utf8)
        let size = 16 + Int((row &* 2_654_435_761) % 2048)
        var state = row &+ 1
        while bytes.count < size {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 56))
        }
        return bytes
    }

    static func tag(of value: [UInt8]) -> String? {
        guard let end = value.firstIndex(of: UInt8(ascii: ";")) else { return nil }
        return String(decoding: value[..<end], as: UTF8.self)
    }

    /// Every 7th write also deletes the row written 3 writes earlier.
    static func deletes(at row: UInt64) -> UInt64? {
        row >= 3 && row % 7 == 0 ? row - 3 : nil
    }

    /// Writes the next row; returns its number.
    static func writeNextRow(_ txn: borrowing WriteTransaction) throws -> UInt64 {
        let row = UInt64(try txn.value(counters, "inserted"))
        try txn.put(rows, row, value(of: row))
        try txn.put(sessions, row, "session \(row)", expiresAt: StoreInstant(millisecondsSinceEpoch: .max / 2))
        try txn.increment(counters, "inserted")
        if let victim = deletes(at: row), try txn.delete(rows, victim) {
            try txn.increment(counters, "deleted")
        }
        return row
    }
}

func printError(_ message: String) {
    var line = Array((message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

guard CommandLine.arguments.count == 2 else {
    printError("usage: StoreCrashWriter <store folder>")
    exit(2)
}

let logger = Logger(label: "StoreCrashWriter", factory: { _ in SwiftLogNoOpLogHandler() })
do {
    let store = try Store(
        path: CommandLine.arguments[1],
        configuration: CrashTestSchema.configuration,
        schema: CrashTestSchema.schema,
        logger: logger
    )
    while true {
        let row = try store.withWriteTransactionBlocking { txn in
            try CrashTestSchema.writeNextRow(txn)
        }
        var line = Array("\(row)\n".utf8)
        let written = line.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
        guard written == line.count else {
            exit(3)
        }
    }
} catch {
    printError("StoreCrashWriter: \(error)")
    exit(1)
}
