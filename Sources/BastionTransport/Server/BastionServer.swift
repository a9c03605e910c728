public import BastionRPC
public import BastionTLS
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// Serves an ``RPCRouter`` over TLS (or plaintext on loopback and Unix sockets).
///
/// Run it as a swift-service-lifecycle `Service`: on graceful shutdown it stops accepting, sends
/// GOAWAY on every connection, lets calls in flight finish for `gracePeriod`, then closes.
public final class BastionServer: Service, Sendable {
    public struct Configuration: Sendable {
        public enum Security: Sendable {
            case tls(TLSContext)
            /// Only for loopback addresses and Unix sockets; refused elsewhere.
            case plaintext
        }

        public var host: String
        public var port: Int
        /// A Unix socket path, used instead of host and port when set.
        public var unixSocketPath: String?
        public var security: Security
        public var connection = ServerConnectionConfiguration()
        /// Connections from one IP address at once.
        public var maxConnectionsPerAddress = 100
        /// Connections from all addresses at once. Each costs memory and a file descriptor, so
        /// past this the server closes new connections at once rather than run out of either.
        public var maxConnections = 10_000
        /// A connection with no call and no frame for this long is closed.
        public var idleTimeout: Duration = .seconds(300)
        /// How long calls in flight may run on after shutdown begins.
        public var gracePeriod: Duration = .seconds(10)
        /// Whether handlers run on their connection's event loop (the default), which spares
        /// every request and response a hop between threads, or on the global concurrent
        /// executor. Choose the latter when handlers compute for long or block: on the event
        /// loop they would hold up every connection it serves.
        public var runsHandlersOnEventLoops = true

        public init(host: String = "127.0.0.1", port: Int = 7443, security: Security) {
            self.host = host
            self.port = port
            self.security = security
        }
    }

    private let configuration: Configuration
    private let router: RPCRouter
    private let logger: Logger
    private let group: any EventLoopGroup
    private let boundAddress: EventLoopPromise<SocketAddress>
    private let connectionCounts = ConnectionCounter()

    public init(configuration: Configuration, router: RPCRouter, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.group = group
        self.boundAddress = group.next().makePromise(of: SocketAddress.self)
    }

    /// The address the server listens on, once it does (port 0 picks a free port).
    public var localAddress: SocketAddress {
        get async throws { try await boundAddress.futureResult.get() }
    }

    public func run() async throws {
        do {
            try await serve()
        } catch {
            boundAddress.fail(error)
            throw error
        }
    }

    private func serve() async throws {
        let waitsForTLS: Bool
        switch configuration.security {
        case .tls: waitsForTLS = true
        case .plaintext:
            waitsForTLS = false
            guard configuration.unixSocketPath != nil || Loopback.contains(configuration.host) else {
                throw RPCError(code: .failedPrecondition, message: "plaintext is allowed only on loopback addresses and Unix sockets, not \(configuration.host)")
            }
        }
        let router = self.router
        let configuration = self.configuration
        let logger = self.logger
        let counts = connectionCounts
        let routeLookup: @Sendable (String) -> RPCRouter.Route? = { router.route(forPath: $0) }

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<ServerConnection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let operations = channel.pipeline.syncOperations
                if case .tls(let context) = configuration.security {
                    try operations.addHandler(try TLSServerHandler(context: context))
                }
                let idle = TimeAmount.nanoseconds(configuration.idleTimeout.clampedNanoseconds)
                try operations.addHandler(IdleStateHandler(readTimeout: idle))
                let handler = ServerConnectionHandler(
                    configuration: configuration.connection,
                    routeLookup: routeLookup,
                    waitsForTLS: waitsForTLS,
                    logger: logger
                )
                try operations.addHandler(handler)
                let calls = ServerCallSource(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                return ServerConnection(channel: channel, calls: calls)
            }
        }
        let server: NIOAsyncChannel<ServerConnection, Never>
        if let path = configuration.unixSocketPath {
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
        } else {
            server = try await bootstrap.bind(host: configuration.host, port: configuration.port, childChannelInitializer: initializer)
        }
        let address = server.channel.localAddress!
        boundAddress.succeed(address)
        logger.info("serving", metadata: ["address": "\(address)", "tls": "\(waitsForTLS)"])

        let connections = ConnectionRegistry()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        let ip = connection.channel.remoteAddress?.ipAddress ?? ""
                        if let refusal = counts.open(ip, perAddress: configuration.maxConnectionsPerAddress, total: configuration.maxConnections) {
                            logger.debug("refusing a connection", metadata: ["address": "\(ip)", "reason": "\(refusal)"])
                            try? await connection.channel.close()
                            continue
                        }
                        connections.add(connection.channel)
                        // The connection's loop and its handlers' tasks run where its frames are.
                        let executor = configuration.runsHandlersOnEventLoops ? EventLoopTaskExecutor(connection.channel.eventLoop) : nil
                        group.addTask(executorPreference: executor) {
                            defer {
                                counts.close(ip)
                                connections.remove(connection.channel)
                            }
                            await withDiscardingTaskGroup { callGroup in
                                while let stream = await connection.calls.next() {
                                    callGroup.addTask {
                                        await connection.calls.runCalls(first: stream, router: router, logger: logger)
                                    }
                                }
                            }
                            try? await connection.channel.close()
                        }
                    }
                }
                // Accepting stopped (shutdown closed the listening socket): drain what is open.
                let deadline = ContinuousClock.now + configuration.gracePeriod
                connections.drainAll()
                while connections.count > 0, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                connections.closeAll()
            }
        } onGracefulShutdown: {
            logger.info("shutting down: no new connections, draining calls in flight")
            server.channel.close(promise: nil)
        }
    }
}

import Synchronization

/// Open connections, in all and per IP address, to cap them.
final class ConnectionCounter: Sendable {
    enum Refusal: CustomStringConvertible {
        case addressLimit, totalLimit

        var description: String {
            switch self {
            case .addressLimit: "the address has as many connections as it may"
            case .totalLimit: "the server has as many connections as it may"
            }
        }
    }

    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())

    /// Counts a new connection, or says why it may not be opened.
    func open(_ address: String, perAddress limit: Int, total totalLimit: Int) -> Refusal? {
        counts.withLock { counts in
            guard counts.total < totalLimit else { return .totalLimit }
            let current = counts.perAddress[address, default: 0]
            guard current < limit else { return .addressLimit }
            counts.perAddress[address] = current + 1
            counts.total += 1
            return nil
        }
    }

    func close(_ address: String) {
        counts.withLock { counts in
            let remaining = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = remaining > 0 ? remaining : nil
            counts.total -= 1
        }
    }
}

/// The open connections, to drain them at shutdown.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    var count: Int { channels.withLock { $0.count } }

    func add(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }

    func remove(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = nil } }

    func drainAll() {
        for channel in channels.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainConnectionEvent())
        }
    }

    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}
