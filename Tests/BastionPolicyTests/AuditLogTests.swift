import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import Foundation
import Logging
import Testing

/// The audit log on a real LMDB store: group-committed appends form one gapless chain, and
/// every kind of tampering is found and named.
@Suite struct AuditLogTests {
    static let table = Table<UInt64, Bastion_Policy_V1_AuditEntry>("audit.log")

    func withStore(_ body: (Store) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: folder, logger: Logger(label: "test"))
        try await body(store)
        try await store.close()
    }

    func record(_ index: Int) -> AuditLog.Record {
        AuditLog.Record(unixNanos: Int64(index), method: "/t.S/M", principal: "user:\(index)", peer: "ipv4:127.0.0.1:1", statusCode: 0, requestSHA256: [])
    }

    @Test func concurrentAppendsFormOneChain() async throws {
        try await withStore { store in
            let log = AuditLog(store: store)
            let sequences = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<200 { group.addTask { try await log.append(record(index)) } }
                var sequences: [UInt64] = []
                for try await sequence in group { sequences.append(sequence) }
                return sequences
            }
            #expect(sequences.sorted() == Array(1...200))
            #expect(try log.verify() == AuditLog.Verification(entries: 200, firstBrokenSequence: nil, problem: nil))
            // Every record made it in exactly once.
            let principals = Set(try log.entries(limit: 1000).map(\.principal))
            #expect(principals == Set((0..<200).map { "user:\($0)" }))
        }
    }

    @Test func aRemovedEntryIsNamed() async throws {
        try await withStore { store in
            let log = AuditLog(store: store)
            for index in 0..<5 { try await log.append(record(index)) }
            try await store.withWriteTransaction { txn in try txn.delete(Self.table, 3) }
            let verification = try log.verify()
            #expect(verification.firstBrokenSequence == 3)
            #expect(verification.problem?.contains("missing") == true)
        }
    }

    @Test func aCutOffTailIsNamed() async throws {
        try await withStore { store in
            let log = AuditLog(store: store)
            for index in 0..<5 { try await log.append(record(index)) }
            try await store.withWriteTransaction { txn in
                try txn.delete(Self.table, 5)
                try txn.delete(Self.table, 4)
            }
            let verification = try log.verify()
            #expect(verification.firstBrokenSequence == 4)
            #expect(verification.entries == 3)
        }
    }

    @Test func aRewrittenEntryWithARecomputedHashBreaksTheNextLink() async throws {
        try await withStore { store in
            let log = AuditLog(store: store)
            for index in 0..<4 { try await log.append(record(index)) }
            // A forger who recomputes entry 2's own hash still breaks entry 3's link to it.
            try await store.withWriteTransaction { txn in
                guard var entry = try txn.get(Self.table, 2) else { throw StoreError(code: .notFound, message: "2") }
                entry.principal = "user:forged"
                entry.hash = []
                entry.hash = sha256Reference(entry.serializedBytes())
                try txn.put(Self.table, 2, entry)
            }
            let verification = try log.verify()
            #expect(verification.firstBrokenSequence == 3)
            #expect(verification.problem?.contains("hash of the entry before") == true)
        }
    }

    @Test func appendsContinueTheChainAfterARestart() async throws {
        try await withStore { store in
            try await AuditLog(store: store).append(record(1))
            let second = try await AuditLog(store: store).append(record(2))
            #expect(second == 2)
            #expect(try AuditLog(store: store).verify().isIntact)
        }
    }
}
