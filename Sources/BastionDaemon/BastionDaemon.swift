import ArgumentParser
import BastionAdmin
import BastionBuiltinServices
import BastionIdentity
import BastionMetrics
import BastionPolicy
import BastionQueue
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
import Synchronization
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
            calls, calls in flight finish within the grace period. Operators reach the admin \
            service on <data-dir>/admin.sock (mode 0600) or with an operator certificate; \
            docs/OPERATIONS.md describes it and the metrics endpoint.
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

    @Option(
        help: ArgumentHelp(
            "The private key of --client-ca (PEM), to issue client certificates when users register. "
                + "(default: the development CA's with --dev; without either, registration is off)"
        )
    )
    var clientCAKey: String?

    @Option(
        help: ArgumentHelp(
            "Whether clients must present a certificate: none, optional or required. "
                + "(default: optional when --client-ca is set or with --dev)"
        )
    )
    var clientAuth: String?

    @Flag(help: "Make and use a development CA and certificates in <data-dir>/dev-certs when --cert is not given.")
    var dev = false

    @Flag(help: "Serve without TLS (loopback addresses only).")
    var plaintext = false

    @Option(help: "Most calls in flight per connection. (default: 100)")
    var maxConcurrentCalls: Int?

    @Option(help: "Largest message a client may send, in bytes (at least 1024). (default: 4194304)")
    var maxMessageSize: Int?

    @Option(help: "Flow-control credit of each call, in bytes (at least 65536). (default: 1048576)")
    var initialStreamWindow: Int?

    @Option(help: "Connections one IP address may hold open at once. (default: 100)")
    var maxConnectionsPerAddress: Int?

    @Option(
        help: ArgumentHelp(
            "Connections all clients together may hold open at once; bastiond raises its open-file limit to fit. "
                + "(default: 10000)"
        )
    )
    var maxConnections: Int?

    @Option(help: "Seconds a connection without calls or frames stays open. (default: 300)")
    var idleTimeout: Int?

    @Option(help: "Seconds calls in flight may run on after shutdown begins. (default: 10)")
    var gracePeriod: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical. (default: info)")
    var logLevel: String?

    @Option(help: "Write the bound port to this file once listening (for scripts and tests).")
    var portFile: String?

    @Option(help: "The admin service's Unix-domain socket (mode 0600), or none. (default: <data-dir>/admin.sock)")
    var adminSocket: String?

    @Option(
        help: "The SHA-256 fingerprint of a client certificate that may call the admin service over TLS (repeatable)."
    )
    var operatorCertFingerprint: [String] = []

    @Option(
        help: "Serve Prometheus metrics at http://<metrics-host>:<port>/metrics; 0 picks a free port. (default: off)"
    )
    var metricsPort: Int?

    @Option(help: "The address the metrics endpoint listens on. (default: 127.0.0.1)")
    var metricsHost: String?

    @Option(
        help: ArgumentHelp(
            "A channel for second-factor codes, <name>=<command> (repeatable), e.g. sms=/usr/local/bin/send-sms: "
                + "the command gets the address as its only argument and the message on stdin; exit 0 means sent. "
                + "(default with --dev: sms, email, post and video write to <data-dir>/outbox)"
        )
    )
    var channel: [String] = []

    @Option(help: "Seconds a channel command may run before it is killed. (default: 30)")
    var channelTimeout: Int?

    @Option(help: "A user who may issue access codes, as if their role were 'support' (repeatable).")
    var supportUser: [String] = []

    @Option(help: "The WebAuthn relying party id for passkeys, a domain such as example.com. (default: off; localhost with --dev)")
    var webauthnRpId: String?

    @Option(help: "An origin passkeys may be used from, e.g. https://example.com (repeatable). (default: https://<rp-id>)")
    var webauthnOrigin: [String] = []

    @Option(help: "The relying party name authenticators show. (default: Bastion)")
    var webauthnRpName: String?

    @Option(help: "Passkey user verification: required, preferred or discouraged. (default: preferred)")
    var webauthnUserVerification: String?

    @Option(help: "Seconds a passkey challenge stays valid, 1 to 600. (default: 120)")
    var webauthnChallengeLifetime: Int?

    @Option(help: "Messages one client's queue holds before Enqueue is refused. (default: 1000)")
    var queueMaxMessages: UInt64?

    @Option(help: "Bytes of sealed messages one client's queue holds. (default: 16 MiB)")
    var queueMaxBytes: UInt64?

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
        var registry: PrometheusCollectorRegistry?
        if settings.metricsPort != nil {
            let prometheus = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: prometheus)
            factory.defaultDurationHistogramBuckets = Self.latencyBuckets
            MetricsSystem.bootstrap(factory)
            metrics = MetricsInterceptor()
            registry = prometheus
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
        configuration.connection.settings.frameLimits.maxMessageSize = settings.maxMessageSize
        configuration.connection.settings.initialStreamWindow = settings.initialStreamWindow
        configuration.maxConnectionsPerAddress = settings.maxConnectionsPerAddress
        configuration.maxConnections = settings.maxConnections
        OpenFileLimit.raise(toFit: settings.maxConnections, logger: logger)
        configuration.idleTimeout = .seconds(settings.idleTimeout)
        configuration.gracePeriod = .seconds(settings.gracePeriod)

        // Every call passes its method's STRIDE policy before the handler runs; metrics see the
        // engine's denials because they come first.
        var policyConfiguration = PolicyEngine.Configuration()
        policyConfiguration.operatorCertificateFingerprints = settings.operatorCertificateFingerprints
        // The authentication service, when there is a CA to issue client certificates with; its
        // verifier tells the engine who holds a session, a pending registration or a client.
        // Each registered client gets a queue in the transaction that registers it (docs/QUEUE.md).
        let identity = try settings.identityService(store: store, lifecycle: QueueLifecycle(), logger: logger)
        let engine = try PolicyEngine(
            store: store,
            configuration: policyConfiguration,
            verifier: identity?.verifier,
            ownership: QueueOwnership(store: store),
            secondFactor: identity?.secondFactor,
            logger: logger
        )
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
        identity?.service.register(with: &router)
        identity?.twoFactor.register(with: &router)
        if identity != nil {
            QueueService(store: store, configuration: settings.queueConfiguration, logger: logger).register(with: &router)
        }

        // The admin service is on the TLS port too (its policy admits only operator
        // certificates there), and alone on the admin socket.
        let info = ServerInfoBox(settings: settings, version: Self.version, storePath: storePath)
        let admin = AdminService(
            engine: engine,
            store: store,
            methods: router.methods + Bastion_Admin_V1_Admin.Method.all,
            serverInfo: { info.current },
            logger: logger
        )
        admin.register(with: &router)
        var adminRouter = interceptors()
        admin.register(with: &adminRouter)

        if let path = settings.adminSocket { try await Self.refuseIfServed(path) }

        // Nothing may throw from here on: the listeners' address promises must be run.
        let server = BastionServer(configuration: configuration, router: router, logger: logger)
        var adminServer: BastionServer?
        if let path = settings.adminSocket {
            var adminConfiguration = BastionServer.Configuration(security: .plaintext)
            adminConfiguration.unixSocketPath = path
            adminConfiguration.gracePeriod = configuration.gracePeriod
            adminServer = BastionServer(configuration: adminConfiguration, router: adminRouter, logger: logger)
        }
        var metricsEndpoint: MetricsEndpoint?
        if let port = settings.metricsPort, let registry {
            metricsEndpoint = MetricsEndpoint(host: settings.metricsHost, port: port, logger: logger) {
                registry.emitToBuffer()
            }
        }
        let reporter = StartupReporter(
            server: server,
            adminServer: adminServer,
            adminSocket: settings.adminSocket,
            metricsEndpoint: metricsEndpoint,
            health: health,
            info: info,
            portFile: settings.portFile
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            // The engine writes rate-limit windows until shutdown, after the servers have drained
            // (services stop in reverse order).
            .init(service: engine),
            .init(service: server),
            .init(service: reporter, successTerminationBehavior: .ignore),
        ]
        if let adminServer { services.append(.init(service: adminServer)) }
        if let metricsEndpoint { services.append(.init(service: metricsEndpoint)) }
        // Expired registrations, logins, challenges and failure windows give their space back.
        if identity != nil { services.append(.init(service: ExpirySweeper(store: store, logger: logger))) }
        if let reloader { services.append(.init(service: reloader, successTerminationBehavior: .ignore)) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            if let path = settings.adminSocket { Self.removeSocket(path) }
            throw error
        }
        if let path = settings.adminSocket { Self.removeSocket(path) }
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

    /// Binding the admin socket replaces a socket file that is there; refuse when a live server
    /// answers on it (a second bastiond on the same data folder), so that one is not cut off.
    static func refuseIfServed(_ path: String) async throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let connection = try? await BastionClientConnection.connect(unixDomainSocketPath: path) else { return }
        await connection.close()
        throw ValidationError(
            "another server already answers on the admin socket \(path); stop it first or choose another --admin-socket"
        )
    }

    /// Removes the admin socket file at shutdown, if it is still a socket.
    static func removeSocket(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else { return }
        unlink(path)
    }
}

/// What `GetServerInfo` answers; the listeners' addresses are filled in once they are bound.
final class ServerInfoBox: Sendable {
    private let info: Mutex<Bastion_Admin_V1_ServerInfo>

    init(settings: DaemonSettings, version: String, storePath: String) {
        var info = Bastion_Admin_V1_ServerInfo()
        info.version = version
        info.startedAtMillis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        info.tls = !settings.plaintext
        info.adminSocket = settings.adminSocket.map(Self.absolute) ?? ""
        info.storePath = Self.absolute(storePath)
        info.operatorCertificates = UInt32(settings.operatorCertificateFingerprints.count)
        self.info = Mutex(info)
    }

    var current: Bastion_Admin_V1_ServerInfo { info.withLock { $0 } }

    private static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    func update(_ body: (inout Bastion_Admin_V1_ServerInfo) -> Void) { info.withLock { body(&$0) } }
}

/// Once every listener is bound: restricts the admin socket to the server's user, records the
/// addresses for `GetServerInfo`, and writes the port file (so scripts that wait for it find every
/// listener ready). Marks the health service as draining when shutdown begins.
struct StartupReporter: Service {
    let server: BastionServer
    let adminServer: BastionServer?
    let adminSocket: String?
    let metricsEndpoint: MetricsEndpoint?
    let health: HealthService
    let info: ServerInfoBox
    let portFile: String?

    func run() async throws {
        let address = try await server.localAddress
        if let adminServer, let adminSocket {
            _ = try await adminServer.localAddress
            guard chmod(adminSocket, 0o600) == 0 else {
                throw ValidationError("cannot restrict the admin socket \(adminSocket) to mode 0600 (errno \(errno))")
            }
        }
        let metricsAddress = try await metricsEndpoint?.localAddress
        info.update { info in
            info.address = Self.describe(address)
            if let metricsAddress { info.metricsAddress = "http://\(Self.describe(metricsAddress))/metrics" }
        }
        if let portFile {
            try "\(address.port ?? 0)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        }
        try? await gracefulShutdown()
        health.markDraining()
    }

    /// `127.0.0.1:7443`, `[::1]:7443` or a socket path.
    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket: address.pathname ?? "?"
        }
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
