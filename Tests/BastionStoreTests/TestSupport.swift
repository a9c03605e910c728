import BastionStore
import Foundation
import Logging

/// A fresh folder under the temporary directory, removed afterwards.
func withTemporaryFolder<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bastion-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url.path)
}

/// The tests' logger: silent unless BASTION_TEST_LOG is set.
let testLogger: Logger = {
    if ProcessInfo.processInfo.environment["BASTION_TEST_LOG"] != nil {
        var logger = Logger(label: "BastionStoreTests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .debug
        return logger
    }
    return Logger(label: "BastionStoreTests", factory: { _ in SwiftLogNoOpLogHandler() })
}()

/// Opens a store in a fresh folder, runs `body`, and closes it.
func withStore<Result>(
    configuration: LMDBConfiguration = LMDBConfiguration(initialMapSize: 1 << 20),
    schema: StoreSchema = StoreSchema(),
    clock: any StoreClock = SystemStoreClock(),
    _ body: (Store, String) async throws -> Result
) async throws -> Result {
    try await withTemporaryFolder { folder in
        let path = folder + "/store"
        let store = try Store(
            path: path,
            configuration: configuration,
            schema: schema,
            clock: clock,
            logger: testLogger
        )
        do {
            let result = try await body(store, path)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// A value type standing in for the services' protobuf messages.
struct Account: StoreValue, Equatable {
    var email: String
    var groups: [String]

    init(email: String, groups: [String] = []) {
        self.email = email
        self.groups = groups
    }

    init(storeBytes: [UInt8]) throws {
        let fields = String(decoding: storeBytes, as: UTF8.self).split(
            separator: "\n",
            omittingEmptySubsequences: false
        )
        guard fields.count == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an account"))
        }
        self.email = String(fields[0])
        self.groups = fields[1].isEmpty ? [] : fields[1].split(separator: ",").map(String.init)
    }

    func storeBytes() -> [UInt8] {
        Array((self.email + "\n" + self.groups.joined(separator: ",")).utf8)
    }
}
