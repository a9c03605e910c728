import BastionStore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The crash writer's tables and rules (Tests/StoreCrashWriter/main.swift); change both
/// together.
enum CrashTestSchema {
    static let rowsByTag = Index<String, UInt64, [UInt8]>("rows.by-tag", unique: true) { tag(of: $0) }
    static let rowsByBucket = Index<UInt8, UInt64, [UInt8]>("rows.by-bucket") { $0.first }
    static let rows = Table<UInt64, [UInt8]>("rows", indexes: [rowsByTag, rowsByBucket])
    static let counters = CounterTable<String>("counters")
    static let sessions = ExpiringTable<UInt64, String>("sessions")
    static let configuration = LMDBConfiguration(initialMapSize: 256 << 10)
    static let schema = StoreSchema(migrations: [
        StoreMigration("create counters") { txn in
            try txn.set(counters, "inserted", to: 0)
            try txn.set(counters, "deleted", to: 0)
        }
    ])

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

    static func deletes(at row: UInt64) -> UInt64? {
        row >= 3 && row % 7 == 0 ? row - 3 : nil
    }
}

@Suite struct CrashTests {
    /// The crash writer, built beside the test binary.
    static var writerPath: String {
        get throws {
            let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            return URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent(
                "StoreCrashWriter"
            ).path
        }
    }

    /// Spawns the writer, kills it with SIGKILL after `acknowledgements` acknowledged commits (or
    /// after `delay` when that is zero), and returns every row number it acknowledged.
    static func runWriter(store path: String, acknowledgements: Int, delay: Duration) throws -> [UInt64] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.writerPath)
        process.arguments = [path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()

        let descriptor = output.fileHandleForReading.fileDescriptor
        var acknowledged: [UInt64] = []
        var pending: [UInt8] = []
        var killed = false
        if acknowledgements == 0 {
            // Kill at some point during start-up: opening, migrating, the first writes.
            let (seconds, attoseconds) = delay.components
            usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
            kill(process.processIdentifier, SIGKILL)
            killed = true
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }  // EOF: the writer is gone
            pending.append(contentsOf: buffer[..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                acknowledged.append(try #require(UInt64(line)))
            }
            if !killed && acknowledged.count >= acknowledgements {
                kill(process.processIdentifier, SIGKILL)
                killed = true
            }
        }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(
            process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
            "the writer should die of SIGKILL, not exit by itself: \(stderr)"
        )
        return acknowledged
    }

    /// Opens the store and checks it: every acknowledged row is there, at most one more commit
    /// than acknowledged, every row holds what the rules say, the counters match the row counts,
    /// and the indexes and the expiry order match the rows.
    static func verify(store path: String, lastAcknowledged: UInt64?) async throws -> UInt64 {
        let store = try Store(
            path: path,
            configuration: CrashTestSchema.configuration,
            schema: CrashTestSchema.schema,
            logger: testLogger
        )
        let inserted = try store.withReadTransaction { txn throws -> UInt64 in
            let inserted = UInt64(try txn.value(CrashTestSchema.counters, "inserted"))
            let deleted = UInt64(try txn.value(CrashTestSchema.counters, "deleted"))
            if let lastAcknowledged {
                #expect(inserted > lastAcknowledged, "acknowledged row \(lastAcknowledged) is missing")
                #expect(inserted <= lastAcknowledged + 2, "more commits than acknowledgements plus one")
            }
            let expectedDeleted = UInt64((0..<inserted).filter { CrashTestSchema.deletes(at: $0) != nil }.count)
            #expect(deleted == expectedDeleted)
            #expect(try txn.count(CrashTestSchema.rows) == Int(inserted - deleted))

            // Walk the table: exactly the rows that should be there, with their values.
            var expected = (0..<inserted).makeIterator()
            let deletedRows = Set((0..<inserted).compactMap { CrashTestSchema.deletes(at: $0) })
            var victims = deletedRows
            try txn.forEach(CrashTestSchema.rows) { key, value in
                var next = expected.next()
                while let candidate = next, victims.remove(candidate) != nil {
                    next = expected.next()
                }
                #expect(key == next)
                #expect(value == CrashTestSchema.value(of: key))
                return true
            }
            let tags = try txn.count(Table<[UInt8], [UInt8]>("rows.by-tag"))
            let buckets = try txn.count(Table<[UInt8], [UInt8]>("rows.by-bucket"))
            #expect(tags == Int(inserted - deleted))
            #expect(buckets == Int(inserted - deleted))
            for row in stride(from: UInt64(0), to: inserted, by: 13) where !deletedRows.contains(row) {
                #expect(try txn.lookup(CrashTestSchema.rowsByTag, "tag-\(row)", in: CrashTestSchema.rows)?.key == row)
            }
            #expect(try txn.count(Table<[UInt8], [UInt8]>("sessions")) == Int(inserted))
            #expect(try txn.count(Table<[UInt8], [UInt8]>("sessions#expiry")) == Int(inserted))
            if inserted > 0 {
                #expect(try txn.get(CrashTestSchema.sessions, inserted - 1) == "session \(inserted - 1)")
            }
            return inserted
        }
        // Every table decodes end to end, and LMDB's own counts agree.
        let statistics = try store.statistics()
        #expect(statistics.rowCounts["sessions"] == Int(inserted))
        #expect(statistics.usedBytes <= statistics.reservedBytes)
        try await store.close()
        return inserted
    }

    @Test(.timeLimit(.minutes(2)))
    func acknowledgedWritesSurviveSIGKILL() async throws {
        try await withTemporaryFolder { folder in
            let path = folder + "/store"
            let budget = ContinuousClock.now + .seconds(40)
            var generator = SystemRandomNumberGenerator()
            var rounds = 0
            var acknowledgedTotal = 0
            var lastAcknowledged: UInt64?
            var committed: UInt64 = 0
            while rounds < 40 && ContinuousClock.now < budget {
                let acknowledgements = rounds % 5 == 4 ? 0 : Int.random(in: 1...120, using: &generator)
                let delay = Duration.milliseconds(Int.random(in: 0...40, using: &generator))
                let acknowledged = try Self.runWriter(store: path, acknowledgements: acknowledgements, delay: delay)
                // Acknowledgements continue where the last round's commits ended.
                if let first = acknowledged.first {
                    #expect(first == committed)
                }
                #expect(acknowledged == Array(acknowledged.indices).map { UInt64($0) + (acknowledged.first ?? 0) })
                acknowledgedTotal += acknowledged.count
                lastAcknowledged = acknowledged.last ?? lastAcknowledged
                committed = try await Self.verify(store: path, lastAcknowledged: lastAcknowledged)
                rounds += 1
            }
            print(
                "Crash test: \(rounds) SIGKILL rounds, \(acknowledgedTotal) acknowledged writes, all present;",
                "\(committed) rows committed"
            )
            #expect(rounds >= 1)
            #expect(acknowledgedTotal > 0)
        }
    }
}
