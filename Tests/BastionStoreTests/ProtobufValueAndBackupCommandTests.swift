import BastionCodeGen
import BastionProtobuf
public import BastionStore
import Foundation
import Testing

extension Google_Protobuf_Compiler_Version: StoreValue {}

@Suite struct ProtobufValueAndBackupCommandTests {
    static let versions = Table<String, Google_Protobuf_Compiler_Version>("versions")

    @Test func protobufMessagesAreStoredInTheirEncoding() async throws {
        try await withStore { store, _ in
            let version = Google_Protobuf_Compiler_Version {
                $0.major = 3
                $0.suffix = "rc1"
                $0.unknownFields = ProtobufUnknownFields(bytes: [0xC0, 0x3E, 0x01])
            }
            try await store.withWriteTransaction { txn in try txn.put(Self.versions, "protoc", version) }
            let read = try store.withReadTransaction { txn in try txn.get(Self.versions, "protoc") }
            #expect(read == version)
        }
    }

    @Test func backupCommandCopiesALiveStore() async throws {
        try await withStore { store, path in
            try await store.withWriteTransaction { txn in
                for index in 0..<50 {
                    try txn.put(Self.versions, "v\(index)", Google_Protobuf_Compiler_Version { $0.minor = Int32(index) })
                }
            }
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("bastion-backup-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: output) }

            let result = try Self.runBastion(["backup", "--store", path, "--output", output])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("1 tables, 50 rows") || result.output.contains("tables, 50 rows"), "\(result.output)")

            let copy = try Store(path: output, logger: testLogger)
            let count = try copy.withReadTransaction { txn in try txn.count(Self.versions) }
            #expect(count == 50)
            let second = try Self.runBastion(["backup", "--store", path, "--output", output])
            #expect(second.status != 0, "a second backup into a non-empty folder must be refused")
        }
    }

    @Test func backupCommandExplainsAMissingStore() throws {
        let result = try Self.runBastion(["backup", "--store", "/nonexistent/store", "--output", "/tmp/never"])
        #expect(result.status != 0)
        #expect(result.output.contains("no store at /nonexistent/store"), "\(result.output)")
    }

    static func runBastion(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("bastion")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
