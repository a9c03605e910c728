@testable import BastionIdentity
import BastionStore
import Foundation
import Logging
import Testing

/// The sweeper on a real store with a clock the test moves: expired rows go, live ones stay.
@Suite struct ExpirySweeperTests {
    @Test func removesExpiredRowsOfEveryIdentityTable() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let clock = ManualStoreClock()
        let store = try Store(path: folder, clock: clock, logger: Logger(label: "test"))
        try await store.withWriteTransaction { txn in
            for index in 0..<5 {
                try txn.put(AuthService.pendingUserIDs, "gone-\(index)", "h", expiresIn: .seconds(60))
                try txn.put(SessionTokens.revokedTokens, "gone-\(index)", true, expiresIn: .seconds(60))
            }
            try txn.put(AuthService.pendingUserIDs, "stays", "h", expiresIn: .seconds(3600))
        }
        let sweeper = ExpirySweeper(store: store, logger: Logger(label: "test"))
        #expect(try await sweeper.sweep() == 0)
        clock.advance(by: .seconds(120))
        #expect(try await sweeper.sweep() == 10)
        // Reads hide expired rows anyway; the raw table shows that they are gone.
        let raw = Table<String, [UInt8]>(AuthService.pendingUserIDs.name)
        let left = try store.withReadTransaction { txn in
            (try txn.count(raw), try txn.get(AuthService.pendingUserIDs, "stays"))
        }
        #expect(left.0 == 1)
        #expect(left.1 == "h")
        try await store.close()
    }
}
