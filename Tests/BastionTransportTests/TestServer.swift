import BastionBuiltinServices
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// Development certificates made once per test run, never committed.
enum TestCertificates {
    static let files: DevelopmentCertificates.Files = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bastion-transport-certs-\(UUID().uuidString)").path
        return try! DevelopmentCertificates.generate(directory: directory)
    }()

    static func serverConfiguration(clientAuthentication: TLSClientAuthentication = .none) -> TLSConfiguration {
        var configuration = TLSConfiguration.server(
            certificateChain: .file(files.serverCertificate),
            privateKey: .file(files.serverPrivateKey)
        )
        configuration.trustRoots = .file(files.caCertificate)
        configuration.clientAuthentication = clientAuthentication
        return configuration
    }

    static func serverContext(clientAuthentication: TLSClientAuthentication = .none) throws -> TLSContext {
        try TLSContext(configuration: serverConfiguration(clientAuthentication: clientAuthentication))
    }

    static func clientContext(withCertificate: Bool = false) throws -> TLSContext {
        var configuration = TLSConfiguration.client(trustRoots: .file(files.caCertificate))
        if withCertificate {
            configuration.certificateChain = .file(files.clientCertificate)
            configuration.privateKey = .file(files.clientPrivateKey)
        }
        return try TLSContext(configuration: configuration)
    }
}

let testLogger = Logger(label: "BastionTransportTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs a TLS server with the echo and health services on a free loopback port for `body`.
func withEchoServer<Result: Sendable>(
    configure: (inout BastionServer.Configuration) throws -> Void = { _ in },
    router extra: (inout RPCRouter) -> Void = { _ in },
    _ body: @Sendable (BastionServer, Int, ServiceGroup) async throws -> Result
) async throws -> Result {
    var configuration = BastionServer.Configuration(host: "127.0.0.1", port: 0, security: .tls(try TestCertificates.serverContext()))
    try configure(&configuration)
    var router = RPCRouter()
    EchoService().register(with: &router)
    HealthService(version: "test").register(with: &router)
    extra(&router)
    let server = BastionServer(configuration: configuration, router: router, logger: testLogger)
    let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = try await server.localAddress.port!
        do {
            let result = try await body(server, port, group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}

func connect(port: Int, withCertificate: Bool = false) async throws -> BastionClientConnection {
    try await BastionClientConnection.connect(
        host: "127.0.0.1",
        port: port,
        security: .tls(try TestCertificates.clientContext(withCertificate: withCertificate), serverHostname: "localhost")
    )
}

/// Runs `body` and checks that it fails with an ``RPCError`` of `code`.
func expectError(_ code: RPCError.Code, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code)")
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)")
    } catch {
        Issue.record("unexpected \(error)")
    }
}

func metadata(_ pairs: [(String, String)]) -> Metadata {
    var metadata = Metadata()
    for (key, value) in pairs { try! metadata.add(key, value) }
    return metadata
}

/// Calls the echo service until a call is refused, as new calls are once a drain's GOAWAY
/// arrives (calls racing it may still pass); nil if none is refused within about two seconds.
func firstRefusal(_ echo: Bastion_Echo_V1_EchoClient) async -> RPCError? {
    for _ in 0..<200 {
        do {
            _ = try await echo.get(Bastion_Echo_V1_EchoRequest())
            try? await Task.sleep(for: .milliseconds(10))
        } catch {
            return error
        }
    }
    return nil
}

