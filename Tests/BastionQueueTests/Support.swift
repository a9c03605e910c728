import BastionPolicy
import BastionProtobuf
import BastionQueue
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

let testLogger = Logger(label: "BastionQueueTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Development certificates made once per test run, never committed.
enum TestCertificates {
    static let files: DevelopmentCertificates.Files = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bastion-queue-certs-\(UUID().uuidString)").path
        return try! DevelopmentCertificates.generate(directory: directory)
    }()

    /// SHA-256 of the development client certificate's DER, as the server names its principal.
    static let clientFingerprint: String = {
        let pem = try! String(contentsOfFile: files.clientCertificate, encoding: .utf8)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = [UInt8](Data(base64Encoded: base64)!)
        return SealedBox.keyID(of: der).map { String(format: "%02x", $0) }.joined()
    }()
}

/// A real TLS server on a free loopback port with the queue service over a fresh LMDB store;
/// with `policies`, the policy engine (queue ownership, no identity service) in front of it.
struct QueueHarness: Sendable {
    let port: Int
    let store: Store
    let service: QueueService
    let group: ServiceGroup
    let folder: URL

    static func run<Result: Sendable>(
        policies: Bool,
        configuration: QueueService.Configuration = QueueService.Configuration(),
        _ body: @Sendable (QueueHarness) async throws -> Result
    ) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bastion-queue-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Store(path: folder.path, logger: testLogger)
        var tls = TLSConfiguration.server(
            certificateChain: .file(TestCertificates.files.serverCertificate),
            privateKey: .file(TestCertificates.files.serverPrivateKey)
        )
        tls.trustRoots = .file(TestCertificates.files.caCertificate)
        tls.clientAuthentication = .optional
        let serverConfiguration = BastionServer.Configuration(host: "127.0.0.1", port: 0, security: .tls(try TLSContext(configuration: tls)))
        var router = RPCRouter()
        if policies {
            router.intercept(with: try PolicyEngine(store: store, ownership: QueueOwnership(store: store), logger: testLogger))
        }
        let service = QueueService(store: store, configuration: configuration, logger: testLogger)
        service.register(with: &router)
        let server = BastionServer(configuration: serverConfiguration, router: router, logger: testLogger)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: testLogger)
        let result = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.localAddress.port!
            let harness = QueueHarness(port: port, store: store, service: service, group: group, folder: folder)
            do {
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
        try await store.close()
        return result
    }

    func connect(withCertificate: Bool) async throws -> BastionClientConnection {
        var configuration = TLSConfiguration.client(trustRoots: .file(TestCertificates.files.caCertificate))
        if withCertificate {
            configuration.certificateChain = .file(TestCertificates.files.clientCertificate)
            configuration.privateKey = .file(TestCertificates.files.clientPrivateKey)
        }
        return try await BastionClientConnection.connect(
            host: "127.0.0.1", port: port, security: .tls(try TLSContext(configuration: configuration), serverHostname: "localhost")
        )
    }

    /// Makes a queue for `fingerprint` (default: the development client's) with a fresh init
    /// key pair; returns the key package a sender would get and the owner's keys.
    func makeQueue(owner fingerprint: String = TestCertificates.clientFingerprint, user: String = "alice") async throws
        -> (package: Bastion_Queue_V1_ClientKeyPackage, keys: QueueClient.Keys)
    {
        let keys = try QueueClient.Keys(privateKey: SealedBoxTests.randomKey())
        let owner = QueueTables.Owner(fingerprint: fingerprint, userID: user, initKey: keys.publicKey, signatureKey: [UInt8](repeating: 7, count: 32))
        let queueID = try await store.withWriteTransaction { txn in try QueueTables.createQueue(for: owner, in: txn) }
        let package = Bastion_Queue_V1_ClientKeyPackage {
            $0.queueId = queueID
            $0.initKey = keys.publicKey
            $0.keyId = SealedBox.keyID(of: keys.publicKey)
        }
        return (package, keys)
    }
}
