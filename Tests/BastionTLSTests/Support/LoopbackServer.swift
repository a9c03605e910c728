import BastionTLS
import NIOCore
import NIOPosix
import Synchronization

/// What a test server saw, across all its connections.
final class ServerRecord: Sendable {
    struct Snapshot {
        var handshakes: [TLSHandshakeCompleted] = []
        /// `TLSServerHandler.peerCertificate`, as read by the next handler at handshake time.
        var handlerPeerCertificates: [PeerCertificate?] = []
        var errors: [TLSError] = []
        var otherErrors: [String] = []
        var accepted = 0
        var closed = 0
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { self.state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) {
        self.state.withLock { body(&$0) }
    }

    func errorCodes() -> [TLSError.Code] {
        self.snapshot.errors.map(\.code)
    }
}

/// Echoes every byte back, one flush per read burst.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }
}

/// Records handshakes, errors and closes into a `ServerRecord`.
final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let record: ServerRecord

    init(record: ServerRecord) {
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        self.record.update { $0.accepted += 1 }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.record.update { $0.closed += 1 }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            let fromHandler = try? context.pipeline.syncOperations.handler(type: TLSServerHandler.self).peerCertificate
            self.record.update {
                $0.handshakes.append(completed)
                $0.handlerPeerCertificates.append(fromHandler)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            self.record.update { $0.errors.append(error) }
        } else {
            self.record.update { $0.otherErrors.append(String(describing: error)) }
        }
        context.close(promise: nil)
    }
}

/// A TLS echo server on 127.0.0.1, on a port the system picks.
struct LoopbackServer {
    let channel: any Channel
    let context: TLSContext
    let record: ServerRecord

    var port: Int { self.channel.localAddress!.port! }

    static func start(context: TLSContext) async throws -> LoopbackServer {
        let record = ServerRecord()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSServerHandler(context: context))
                    try sync.addHandler(RecordingHandler(record: record))
                    try sync.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return LoopbackServer(channel: channel, context: context, record: record)
    }

    func stop() async throws {
        try await self.channel.close()
    }
}

/// Collects what a client receives until an expected number of bytes arrived.
final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var received: ByteBuffer
    private let expected: Int
    private let done: EventLoopPromise<ByteBuffer>
    private let handshake: EventLoopPromise<TLSHandshakeCompleted>
    private var finished = false
    private var handshakeFinished = false

    init(expected: Int, done: EventLoopPromise<ByteBuffer>, handshake: EventLoopPromise<TLSHandshakeCompleted>) {
        self.received = ByteBuffer()
        self.expected = expected
        self.done = done
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.received.writeBuffer(&buffer)
        if !self.finished && self.received.readableBytes >= self.expected {
            self.finished = true
            self.done.succeed(self.received)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted, !self.handshakeFinished {
            self.handshakeFinished = true
            self.handshake.succeed(completed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(ChannelError.eof)
        context.fireChannelInactive()
    }

    private func finish(_ error: any Error) {
        if !self.finished {
            self.finished = true
            self.done.fail(error)
        }
        if !self.handshakeFinished {
            self.handshakeFinished = true
            self.handshake.fail(error)
        }
    }
}

/// One TLS client connection to a loopback server.
struct LoopbackClient {
    let channel: any Channel
    let handshake: EventLoopFuture<TLSHandshakeCompleted>
    let received: EventLoopFuture<ByteBuffer>

    static func connect(
        port: Int,
        context: TLSContext,
        serverHostname: String? = "localhost",
        expecting expected: Int = 0
    ) async throws -> LoopbackClient {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: ByteBuffer.self)
        let handshake = loop.makePromise(of: TLSHandshakeCompleted.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSClientHandler(context: context, serverHostname: serverHostname))
                    try sync.addHandler(CollectingHandler(expected: expected, done: done, handshake: handshake))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return LoopbackClient(channel: channel, handshake: handshake.futureResult, received: done.futureResult)
    }

    /// Connects, sends `payload`, and returns the echo.
    static func echo(
        _ payload: ByteBuffer,
        port: Int,
        context: TLSContext,
        serverHostname: String? = "localhost"
    ) async throws -> (TLSHandshakeCompleted, ByteBuffer) {
        let client = try await Self.connect(
            port: port,
            context: context,
            serverHostname: serverHostname,
            expecting: payload.readableBytes
        )
        let handshake = try await client.handshake.get()
        try await client.channel.writeAndFlush(payload)
        let echoed = try await client.received.get()
        try await client.channel.close()
        return (handshake, echoed)
    }
}

/// A plain TCP connection that sends raw bytes and waits for the server to close it.
enum RawConnection {
    /// Sends `bytes` (if any) and returns how long the server took to close the connection.
    static func sendAndAwaitClose(_ bytes: [UInt8], port: Int) async throws -> Duration {
        let start = ContinuousClock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port)
            .get()
        if !bytes.isEmpty {
            // Under load the server may already have closed (its handshake timeout); the close
            // is what the caller waits for either way.
            try? await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        }
        try await channel.closeFuture.get()
        return ContinuousClock.now - start
    }
}
