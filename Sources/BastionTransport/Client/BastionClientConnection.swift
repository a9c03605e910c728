public import BastionRPC
public import BastionTLS
public import Logging
public import NIOCore
public import NIOPosix

/// One connection to a Bastion server, on which calls are multiplexed. Use it as the transport
/// of an ``RPCClient`` (or of a generated client stub).
public final class BastionClientConnection: ClientTransport, Sendable {
    public enum Security: Sendable {
        /// TLS with this context; `serverHostname` is checked against the certificate and sent as SNI.
        case tls(TLSContext, serverHostname: String?)
        /// Only towards loopback addresses and Unix sockets.
        case plaintext
    }

    private let channel: any Channel
    /// Touched only on the channel's event loop.
    private let handler: NIOLoopBound<ClientConnectionHandler>

    /// Runs tasks on this connection's event loop. Calls made from a task that prefers it
    /// (`withTaskExecutorPreference(connection.taskExecutor) { … }`) reach the connection
    /// without thread hops, which roughly halves the latency of a small call; keep work that
    /// computes for long or blocks off it.
    public let taskExecutor: EventLoopTaskExecutor

    private init(channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>) {
        self.channel = channel
        self.handler = handler
        self.taskExecutor = EventLoopTaskExecutor(channel.eventLoop)
    }

    /// Connects, completes the TLS handshake and sends SETTINGS.
    public static func connect(
        host: String,
        port: Int,
        security: Security,
        settings: ConnectionSettings = ConnectionSettings(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "bastion.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> BastionClientConnection {
        if case .plaintext = security, !Loopback.contains(host) {
            throw RPCError(code: .failedPrecondition, message: "plaintext is allowed only to loopback addresses, not \(host)")
        }
        let eventLoop = group.next()
        let ready = eventLoop.makePromise(of: Void.self)
        let (channel, handler) = try await failing(ready) {
            try await ClientBootstrap(group: eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    initialize(channel, security: security, settings: settings, ready: ready, logger: logger)
                }
        }
        try await ready.futureResult.get()
        return BastionClientConnection(channel: channel, handler: handler)
    }

    /// Connects to a server's Unix-domain socket (such as `bastiond`'s admin socket), in plaintext:
    /// the socket file's permissions decide who may connect.
    public static func connect(
        unixDomainSocketPath path: String,
        settings: ConnectionSettings = ConnectionSettings(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "bastion.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> BastionClientConnection {
        let eventLoop = group.next()
        let ready = eventLoop.makePromise(of: Void.self)
        let (channel, handler) = try await failing(ready) {
            try await ClientBootstrap(group: eventLoop)
                .connect(unixDomainSocketPath: path) { channel in
                    initialize(channel, security: .plaintext, settings: settings, ready: ready, logger: logger)
                }
        }
        try await ready.futureResult.get()
        return BastionClientConnection(channel: channel, handler: handler)
    }

    /// Runs `connect`, failing `ready` when it throws: the handler that would have answered the
    /// promise may never have been made, and NIO traps on a promise freed unanswered.
    private static func failing<Result>(
        _ ready: EventLoopPromise<Void>,
        _ connect: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await connect()
        } catch {
            ready.fail(error)
            throw error
        }
    }

    private static func initialize(
        _ channel: any Channel,
        security: Security,
        settings: ConnectionSettings,
        ready: EventLoopPromise<Void>,
        logger: Logger
    ) -> EventLoopFuture<(any Channel, NIOLoopBound<ClientConnectionHandler>)> {
        channel.eventLoop.makeCompletedFuture {
            let operations = channel.pipeline.syncOperations
            var waitsForTLS = false
            if case .tls(let context, let serverHostname) = security {
                try operations.addHandler(try TLSClientHandler(context: context, serverHostname: serverHostname))
                waitsForTLS = true
            }
            let handler = ClientConnectionHandler(settings: settings, waitsForTLS: waitsForTLS, ready: ready, logger: logger)
            try operations.addHandler(handler)
            return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
        }
    }

    nonisolated(nonsending) public func openCall(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?
    ) async throws(RPCError) -> any ClientCallTransport {
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            return try handler.value.openCall(path: method.path, metadata: metadata, timeout: timeout)
        }
        let promise = channel.eventLoop.makePromise(of: ClientStream.self)
        channel.eventLoop.execute {
            do {
                promise.succeed(try handler.value.openCall(path: method.path, metadata: metadata, timeout: timeout))
            } catch {
                promise.fail(error)
            }
        }
        do {
            return try await promise.futureResult.get()
        } catch {
            throw ClientStream.rpcError(error)
        }
    }

    /// A whole unary call with one suspension: the header, the request and the half-close go out
    /// together, and the caller wakes once, at the trailer.
    nonisolated(nonsending) public func unary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        request: [UInt8]
    ) async throws(RPCError) -> ClientUnaryResponse {
        let handler = self.handler
        let path = method.path
        do {
            if channel.eventLoop.inEventLoop {
                let stream = try handler.value.startUnary(path: path, metadata: metadata, timeout: timeout, request: request)
                return try await withUnsafeThrowingContinuation { continuation in
                    handler.value.awaitUnary(stream, continuation)
                }
            }
            let eventLoop = channel.eventLoop
            return try await withUnsafeThrowingContinuation { continuation in
                eventLoop.execute {
                    do {
                        let stream = try handler.value.startUnary(path: path, metadata: metadata, timeout: timeout, request: request)
                        handler.value.awaitUnary(stream, continuation)
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        } catch {
            throw ClientStream.rpcError(error)
        }
    }

    /// ``unary(method:metadata:timeout:request:)`` with the request encoded straight into the
    /// connection's output when the caller runs on its event loop and the request fits one frame.
    nonisolated(nonsending) public func unary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encodeRequest: (UnsafeMutableRawBufferPointer) -> Void
    ) async throws(RPCError) -> ClientUnaryResponse {
        guard startsUnaryCallsAtOnce else {
            return try await unary(method: method, metadata: metadata, timeout: timeout, request: encodedBytes(size: requestSize, encodeRequest))
        }
        do {
            return try await withUnsafeThrowingContinuation { continuation in
                startUnary(
                    method: method, metadata: metadata, timeout: timeout, requestSize: requestSize,
                    encodeRequest: encodeRequest, continuation: continuation
                )
            }
        } catch {
            throw ClientStream.rpcError(error)
        }
    }

    public var startsUnaryCallsAtOnce: Bool { channel.eventLoop.inEventLoop }

    public func startUnary(
        method: MethodDescriptor,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encodeRequest: (UnsafeMutableRawBufferPointer) -> Void,
        continuation: UnsafeContinuation<ClientUnaryResponse, any Error>
    ) {
        let handler = self.handler.value  // on the event loop, as startsUnaryCallsAtOnce said
        do {
            let stream = try handler.startUnary(
                path: method.path, metadata: metadata, timeout: timeout, requestSize: requestSize, encode: encodeRequest
            )
            handler.awaitUnary(stream, continuation)
        } catch {
            continuation.resume(throwing: error)
        }
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE.
    public func close() async {
        try? await channel.close()
    }
}
