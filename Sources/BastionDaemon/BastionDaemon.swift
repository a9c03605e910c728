import ArgumentParser
import BastionBuiltinServices
import BastionMetrics
import BastionPolicy
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Logging
import Metrics
import NIOCore
import Prometheus
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
            calls, calls in flight finish within the grace period. docs/OPERATIONS.md \
            describes the metrics endpoint.
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

    @Option(help: "Serve Prometheus metrics at http://<metrics-host>:<port>/metrics; 0 picks a free port. (default: off)")
    var metricsPort: Int?

    @Option(help: "The address the metrics endpoint listens on. (default: 127.0.0.1)")
    var metricsHost: String?

    func run() async throws {
        let settings = try DaemonSettings.resolve(self)
        // Everything the server creates (store, sockets, backups, certificates) is its own.
        umask(umask(0) | 0o077)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "bastiond")

        var metrics: MetricsInterceptor?
        var metricsEndpoint: MetricsEndpoint?
        if let port = settings.metricsPort {
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = Self.latencyBuckets
            MetricsSystem.bootstrap(factory)
            metrics = MetricsInterceptor()
            metricsEndpoint = MetricsEndpoint(host: settings.metricsHost, port: port, logger: logger) { registry.emitToBuffer() }
        }

        try FileManager.default.createDirectory(atPath: settings.dataDir, withIntermediateDirectories: true)
        let storePath = settings.dataDir + "/store"
        let store = try Store(path: storePath, logger: logger)

        var configuration = BastionServer.Configuration(host: settings.host, port: settings.port, security: .plaintext)
        var reloader: CertificateReloader?
        if !settings.plaintext {
            let (context, certificate, key) = try settings.tlsContext(logger: logger)
            configuration.security = .tls(context)
            reloader = CertificateReloader(context: context, certificate: certificate, key: key, logger: logger)
        }
        configuration.connection.settings.maxConcurrentCalls = settings.maxConcurrentCalls
        configuration.gracePeriod = .seconds(settings.gracePeriod)

        // Every call passes its method's STRIDE policy before the handler runs; metrics see the
        // engine's denials because they come first.
        let engine = try PolicyEngine(store: store, logger: logger)
        func interceptors() -> RPCRouter {
            var router = RPCRouter()
            if let metrics { router.intercept(with: metrics) }
            router.intercept(with: engine)
            return router
        }
        var router = interceptors()
        let health = HealthService(version: Self.version)
        health.register(with: &router)
        EchoService().register(with: &router)

        let server = BastionServer(configuration: configuration, router: router, logger: logger)
        let reporter = StartupReporter(server: server, metricsEndpoint: metricsEndpoint, health: health, portFile: settings.portFile)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server),
            .init(service: reporter, successTerminationBehavior: .ignore),
        ]
        if let metricsEndpoint { services.append(.init(service: metricsEndpoint)) }
        if let reloader { services.append(.init(service: reloader, successTerminationBehavior: .ignore)) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        try await store.close()
        logger.info("stopped")
    }

    static let version = "bastiond 0.1"

    /// Calls take microseconds to seconds; Prometheus' default buckets start at 5 ms.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
}

/// Once every listener is bound, writes the port file (so scripts that wait for it find every
/// listener ready). Marks the health service as draining when shutdown begins.
struct StartupReporter: Service {
    let server: BastionServer
    let metricsEndpoint: MetricsEndpoint?
    let health: HealthService
    let portFile: String?

    func run() async throws {
        let address = try await server.localAddress
        _ = try await metricsEndpoint?.localAddress
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
