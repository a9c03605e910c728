import ArgumentParser
import BastionBuiltinServices
import BastionPolicy
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `bastiond`: the Bastion server.
@main
struct BastionDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bastiond",
        abstract: "The Bastion server.",
        discussion: """
            Serves Bastion's wire protocol (docs/PROTOCOL.md) over TLS. For a first run, \
            `bastiond --dev` makes a development CA and certificates in <data-dir>/dev-certs, keeps \
            its store in <data-dir>/store and listens on 127.0.0.1:7443. Options can also come from \
            a JSON file (--config); flags win over the file. SIGTERM or SIGINT drains: no new \
            calls, calls in flight finish within the grace period.
            """
    )

    @Option(help: "A JSON configuration file; its keys are these options' names in camel case.")
    var config: String?

    @Option(help: "The address to listen on. (default: 127.0.0.1)")
    var host: String?

    @Option(help: "The port to listen on; 0 picks a free one. (default: 7443)")
    var port: Int?

    @Option(help: "Where the store and development certificates live. (default: ./data)")
    var dataDir: String?

    @Option(help: "The server's certificate chain (PEM).")
    var cert: String?

    @Option(help: "The server's private key (PEM).")
    var key: String?

    @Option(help: "CA certificates that client certificates must chain to (PEM), for mutual TLS.")
    var clientCA: String?

    @Option(help: "Whether clients must present a certificate: none, optional or required. (default: optional when --client-ca is set)")
    var clientAuth: String?

    @Flag(help: "Make and use a development CA and certificates in <data-dir>/dev-certs when --cert is not given.")
    var dev = false

    @Flag(help: "Serve without TLS (loopback addresses only).")
    var plaintext = false

    @Option(help: "Most calls in flight per connection. (default: 100)")
    var maxConcurrentCalls: Int?

    @Option(help: "Seconds calls in flight may run on after shutdown begins. (default: 10)")
    var gracePeriod: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical. (default: info)")
    var logLevel: String?

    @Option(help: "Write the bound port to this file once listening (for scripts and tests).")
    var portFile: String?

    func run() async throws {
        let settings = try DaemonSettings.resolve(self)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "bastiond")

        try FileManager.default.createDirectory(atPath: settings.dataDir, withIntermediateDirectories: true)
        let store = try Store(path: settings.dataDir + "/store", logger: logger)

        var configuration = BastionServer.Configuration(host: settings.host, port: settings.port, security: .plaintext)
        var reloader: CertificateReloader?
        if !settings.plaintext {
            let (context, certificate, key) = try settings.tlsContext(logger: logger)
            configuration.security = .tls(context)
            reloader = CertificateReloader(context: context, certificate: certificate, key: key, logger: logger)
        }
        configuration.connection.settings.maxConcurrentCalls = settings.maxConcurrentCalls
        configuration.gracePeriod = .seconds(settings.gracePeriod)

        var router = RPCRouter()
        // Every call passes its method's STRIDE policy before the handler runs.
        router.intercept(with: try PolicyEngine(store: store, logger: logger))
        let health = HealthService(version: "bastiond 0.1")
        health.register(with: &router)
        EchoService().register(with: &router)

        let server = BastionServer(configuration: configuration, router: router, logger: logger)
        let reporter = StartupReporter(server: server, health: health, portFile: settings.portFile)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: server),
                    .init(service: reporter, successTerminationBehavior: .ignore),
                ] + (reloader.map { [.init(service: $0, successTerminationBehavior: .ignore)] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        try await store.close()
        logger.info("stopped")
    }
}

/// Writes the bound port for scripts once the server listens, and marks the health service as
/// draining when shutdown begins.
struct StartupReporter: Service {
    let server: BastionServer
    let health: HealthService
    let portFile: String?

    func run() async throws {
        let address = try await server.localAddress
        if let portFile {
            try "\(address.port ?? 0)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        }
        try? await gracefulShutdown()
        health.markDraining()
    }
}

/// Reloads the certificate and key from their files on SIGHUP: new connections get the new
/// certificate, open ones keep theirs.
struct CertificateReloader: Service {
    let context: TLSContext
    let certificate: String
    let key: String
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try context.reload(certificateChain: .file(certificate), privateKey: .file(key))
                logger.notice("reloaded the certificate", metadata: ["certificate": "\(certificate)"])
            } catch {
                logger.error("could not reload the certificate; keeping the old one", metadata: ["error": "\(error)"])
            }
        }
    }
}
