public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// A small HTTP/1.1 server that answers `GET /metrics` with a text exposition (Prometheus'
/// format), for scrapers on the local machine.
///
/// It serves one request per connection (`Connection: close`), answers `HEAD` like `GET` without
/// the body, `404` for other paths and `405` for other methods. At most `maxConnections` are open
/// at once (more are closed at once), and a connection whose request has not been answered within
/// `requestTimeout` is closed. Run it as a swift-service-lifecycle `Service`: graceful shutdown
/// closes the listening socket and any connection still open.
///
/// The body comes from `render`, so the endpoint knows no metrics backend; `bastiond` renders its
/// swift-prometheus registry.
public final class MetricsEndpoint: Service, Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let host: String
    private let port: Int
    private let maxConnections: Int
    private let requestTimeout: Duration
    private let render: @Sendable () -> [UInt8]
    private let logger: Logger
    private let group: any EventLoopGroup
    private let boundAddress: EventLoopPromise<SocketAddress>

    /// Listens on `host`:`port` (port 0 picks a free one); `render` makes each response's body.
    public init(
        host: String,
        port: Int,
        maxConnections: Int = 16,
        requestTimeout: Duration = .seconds(10),
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        render: @escaping @Sendable () -> [UInt8]
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.render = render
        self.logger = logger
        self.group = group
        self.boundAddress = group.next().makePromise(of: SocketAddress.self)
    }

    /// The address the endpoint listens on, once it does.
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
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let address = server.channel.localAddress!
        boundAddress.succeed(address)
        logger.info("serving metrics", metadata: ["address": "\(address)"])

        let render = self.render
        let logger = self.logger
        let (maxConnections, requestTimeout) = (self.maxConnections, self.requestTimeout)
        let open = ConnectionSlots()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        guard open.take(limit: maxConnections) else {
                            logger.debug(
                                "refusing a metrics connection over the limit",
                                metadata: ["limit": "\(maxConnections)"]
                            )
                            try? await connection.channel.close()
                            continue
                        }
                        group.addTask {
                            defer { open.release() }
                            do {
                                try await withThrowingTaskGroup(of: Void.self) { race in
                                    race.addTask { try await Self.answer(connection, render: render) }
                                    race.addTask {
                                        try await Task.sleep(for: requestTimeout)
                                        throw RequestTimeout()
                                    }
                                    try await race.next()
                                    race.cancelAll()
                                }
                            } catch {
                                logger.debug("metrics connection failed", metadata: ["error": "\(error)"])
                                try? await connection.channel.close()
                            }
                        }
                    }
                }
                // The listener closed (shutdown): connections that never sent a request end too.
                group.cancelAll()
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    /// Answers the connection's first request, then closes it.
    private static func answer(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        render: @Sendable () -> [UInt8]
    ) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let head):
                    request = head
                case .body:
                    continue
                case .end:
                    guard let request else { return }
                    let (status, body) = response(to: request, render: render)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: status == .ok ? contentType : "text/plain; charset=utf-8")
                    headers.add(name: "Content-Length", value: "\(body.count)")
                    headers.add(name: "Connection", value: "close")
                    if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
                    try await outbound.write(
                        .head(HTTPResponseHead(version: request.version, status: status, headers: headers))
                    )
                    if request.method != .HEAD {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }

    private static func response(to request: HTTPRequestHead, render: @Sendable () -> [UInt8]) -> (
        HTTPResponseStatus, [UInt8]
    ) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else {
            return (.notFound, Array("Metrics are served at /metrics\n".utf8))
        }
        guard request.method == .GET || request.method == .HEAD else {
            return (.methodNotAllowed, Array("Only GET and HEAD are allowed\n".utf8))
        }
        return (.ok, render())
    }
}

/// A connection did not finish its request in time.
private struct RequestTimeout: Error {}

/// Connections open at once, to cap them.
private final class ConnectionSlots: Sendable {
    private let open = Mutex(0)

    func take(limit: Int) -> Bool {
        open.withLock { open in
            guard open < limit else { return false }
            open += 1
            return true
        }
    }

    func release() { open.withLock { $0 -= 1 } }
}
