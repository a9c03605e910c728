public import NIOCore

/// A channel handler that speaks TLS over OpenSSL 3: ciphertext comes in and goes out on the
/// channel side, plaintext on the application side.
///
/// Use ``TLSServerHandler`` or ``TLSClientHandler``; this class holds what they share. Put the
/// handler first in the pipeline. Inbound, ciphertext `ByteBuffer`s go into OpenSSL's read BIO
/// and all the plaintext a read makes available is fired as one `ByteBuffer`. Outbound, `write`
/// only encrypts (into the write BIO) and `flush` sends everything encrypted since the last
/// flush as one `ByteBuffer`, so many small writes cost one socket write.
///
/// Writes made before the handshake has finished wait for it. When it finishes, the handler
/// fires a ``TLSHandshakeCompleted`` user event and keeps the same value in
/// ``handshakeResult``. Failures are fired as ``TLSError``s, after which the channel closes.
/// Closing the channel sends close_notify first; a close_notify from the peer closes the
/// channel cleanly, while a connection that ends without one fires
/// ``TLSError/Code/unexpectedEOF``.
public class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        /// Added, the channel not active yet.
        case idle
        case handshaking
        case active
        /// close_notify queued or sent; the channel closes once it is written.
        case closing
        case closed
    }

    private enum BufferedAction {
        case write(ByteBuffer, EventLoopPromise<Void>?)
        case flush
    }

    private let connection: SSLConnection
    private let handshakeTimeout: TimeAmount
    private let requiresApplicationProtocol: Bool
    private var state: State = .idle
    private var handshakeTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// Writes and flushes issued before the handshake finished, in order.
    private var bufferedActions: CircularBuffer<BufferedAction> = []
    /// Promises of writes encrypted into the write BIO but not yet flushed.
    private var unflushedPromises: [EventLoopPromise<Void>] = []
    /// The plaintext buffer, reused from read to read while the application lets go of it.
    private var plaintextBuffer: ByteBuffer?
    /// The ciphertext buffer, reused from flush to flush while the channel lets go of it.
    private var ciphertextBuffer: ByteBuffer?
    /// Reads produced ciphertext (a post-handshake message) that must go out at read complete.
    private var ciphertextNeedsFlush = false
    private var closePromise: EventLoopPromise<Void>?

    /// Buffers above this capacity are not kept for reuse.
    private static let maximumRetainedBufferCapacity = 256 * 1024
    private static let initialPlaintextCapacity = 16 * 1024
    private static let initialCiphertextCapacity = 4 * 1024
    /// How long a close waits for close_notify to be written before closing regardless.
    private static let closeGracePeriod = TimeAmount.seconds(3)

    /// The negotiated parameters, once the handshake has finished; nil before.
    public private(set) var handshakeResult: TLSHandshakeCompleted?

    /// The peer's verified certificate, once the handshake has finished (see
    /// ``TLSHandshakeCompleted/peerCertificate``).
    public var peerCertificate: PeerCertificate? {
        self.handshakeResult?.peerCertificate
    }

    init(context: TLSContext, role: TLSConfiguration.Role, serverHostname: String?) throws(TLSError) {
        let box = context.box
        guard box.configuration.role == role else {
            throw TLSError(
                code: .configurationInvalid,
                message: "a \(role) handler needs a \(role) context, not a \(box.configuration.role) one"
            )
        }
        self.connection = try SSLConnection(context: box, serverHostname: serverHostname)
        self.handshakeTimeout = TimeAmount(box.configuration.handshakeTimeout)
        self.requiresApplicationProtocol = !box.configuration.applicationProtocols.isEmpty
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.beginHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimers()
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        self.beginHandshake(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        self.cancelTimers()
        let previous = self.state
        self.state = .closed
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        if let promise = self.closePromise {
            self.closePromise = nil
            promise.succeed(())
        }
        switch previous {
        case .handshaking:
            context.fireErrorCaught(
                TLSError(code: .unexpectedEOF, message: "the connection closed during the TLS handshake")
            )
        case .active:
            context.fireErrorCaught(
                TLSError(code: .unexpectedEOF, message: "the connection closed without a TLS close_notify")
            )
        case .idle, .closing, .closed:
            break
        }
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            switch self.state {
            case .handshaking, .active:
                // The peer half-closed TCP without close_notify: a truncation.
                self.fail(
                    context: context,
                    TLSError(code: .unexpectedEOF, message: "the peer ended its side without a TLS close_notify")
                )
            case .idle, .closing, .closed:
                break
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = self.unwrapInboundIn(data)
        switch self.state {
        case .idle:
            self.beginHandshake(context: context)
            self.connection.receive(ciphertext)
            self.runHandshake(context: context)
        case .handshaking:
            self.connection.receive(ciphertext)
            self.runHandshake(context: context)
        case .active:
            self.connection.receive(ciphertext)
            self.readPlaintext(context: context)
        case .closing, .closed:
            // Closing: whatever else the peer sends is dropped.
            break
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        switch self.state {
        case .handshaking:
            // Keep the handshake moving even when the application reads on demand.
            context.read()
        case .active:
            if self.ciphertextNeedsFlush {
                self.writeCiphertext(context: context)
                context.flush()
            }
        case .idle, .closing, .closed:
            break
        }
        context.fireChannelReadComplete()
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = self.unwrapOutboundIn(data)
        switch self.state {
        case .idle, .handshaking:
            self.bufferedActions.append(.write(plaintext, promise))
        case .active:
            self.encrypt(context: context, plaintext, promise: promise)
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .handshaking:
            self.bufferedActions.append(.flush)
        case .active:
            self.writeCiphertext(context: context)
            context.flush()
        case .closing, .closed:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .all:
            break
        case .input:
            context.close(mode: mode, promise: promise)
            return
        case .output:
            promise?.fail(
                TLSError(code: .unsupportedOperation, message: "a TLS channel closes its output only by closing fully")
            )
            return
        }

        switch self.state {
        case .idle, .handshaking:
            self.state = .closed
            self.cancelTimers()
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(promise: promise)
        case .active:
            self.sendCloseNotifyAndClose(context: context, promise: promise)
        case .closing:
            if let promise {
                if let existing = self.closePromise {
                    existing.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
        case .closed:
            context.close(mode: mode, promise: promise)
        }
    }

    // MARK: Handshake

    private func beginHandshake(context: ChannelHandlerContext) {
        guard case .idle = self.state else { return }
        self.state = .handshaking
        if self.handshakeTimeout > .zero {
            self.handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.handshakeTimeout) {
                self.handshakeTimedOut(context: context)
            }
        }
        if !self.connection.context.configuration.role.isServer {
            self.runHandshake(context: context)
        }
        context.read()
    }

    private func runHandshake(context: ChannelHandlerContext) {
        switch self.connection.handshake() {
        case .needsInput:
            self.writeCiphertext(context: context)
            context.flush()

        case .failed(let error):
            self.fail(context: context, error)

        case .complete:
            self.handshakeTimer?.cancel()
            self.handshakeTimer = nil
            let result = self.connection.handshakeResult()
            if self.requiresApplicationProtocol && result.alpn == nil {
                self.fail(
                    context: context,
                    TLSError(
                        code: .noApplicationProtocol,
                        message: "the peer negotiated no application protocol (ALPN); expected one of "
                            + self.connection.context.configuration.applicationProtocols.joined(separator: ", ")
                    )
                )
                return
            }
            self.state = .active
            self.handshakeResult = result
            // The last handshake flight (and a server's session tickets).
            self.writeCiphertext(context: context)
            context.flush()
            context.fireUserInboundEventTriggered(result)
            self.replayBufferedActions(context: context)
            // Application data may have come with the peer's last handshake flight.
            if case .active = self.state, self.connection.bufferedCiphertext > 0 {
                self.readPlaintext(context: context)
            }
        }
    }

    private func handshakeTimedOut(context: ChannelHandlerContext) {
        guard case .handshaking = self.state else { return }
        self.handshakeTimer = nil
        self.fail(
            context: context,
            TLSError(
                code: .handshakeTimeout,
                message: "the TLS handshake did not finish within \(self.handshakeTimeout)"
            )
        )
    }

    private func replayBufferedActions(context: ChannelHandlerContext) {
        while case .active = self.state, let action = self.bufferedActions.popFirst() {
            switch action {
            case .write(let plaintext, let promise):
                self.encrypt(context: context, plaintext, promise: promise)
            case .flush:
                self.writeCiphertext(context: context)
                context.flush()
            }
        }
    }

    // MARK: Application data

    private func readPlaintext(context: ChannelHandlerContext) {
        var buffer: ByteBuffer
        if var reused = self.plaintextBuffer {
            // Dropping our reference first lets `clear` keep the storage when the application
            // has let go of what it was given last time.
            self.plaintextBuffer = nil
            reused.clear()
            buffer = reused
        } else {
            buffer = context.channel.allocator.buffer(capacity: Self.initialPlaintextCapacity)
        }

        let end = self.connection.read(into: &buffer)
        if self.connection.pendingCiphertext > 0 {
            // A key update answer or similar: it goes out at read complete.
            self.ciphertextNeedsFlush = true
        }
        if buffer.readableBytes > 0 {
            context.fireChannelRead(self.wrapInboundOut(buffer))
        }
        if buffer.capacity <= Self.maximumRetainedBufferCapacity {
            self.plaintextBuffer = buffer
        }

        guard case .active = self.state else { return }
        switch end {
        case .needsInput:
            break
        case .closeNotify:
            self.sendCloseNotifyAndClose(context: context, promise: nil)
        case .failed(let error):
            self.fail(context: context, error)
        }
    }

    private func encrypt(context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        if plaintext.readableBytes > 0, let error = self.connection.write(plaintext) {
            promise?.fail(error)
            self.fail(context: context, error)
            return
        }
        if let promise {
            self.unflushedPromises.append(promise)
        }
    }

    /// Writes everything in the write BIO to the channel as one buffer, carrying the promises
    /// of the plaintext writes it holds; does not flush.
    private func writeCiphertext(context: ChannelHandlerContext, extraPromise: EventLoopPromise<Void>? = nil) {
        self.ciphertextNeedsFlush = false
        if let extraPromise {
            self.unflushedPromises.append(extraPromise)
        }
        let pending = self.connection.pendingCiphertext
        guard pending > 0 else {
            // Only empty writes: nothing to wait for.
            for promise in self.unflushedPromises {
                promise.succeed(())
            }
            self.unflushedPromises.removeAll(keepingCapacity: true)
            return
        }
        var ciphertext: ByteBuffer
        if var reused = self.ciphertextBuffer {
            // The channel usually wrote (and let go of) the last one during its flush.
            self.ciphertextBuffer = nil
            reused.clear(minimumCapacity: pending)
            ciphertext = reused
        } else {
            ciphertext = context.channel.allocator.buffer(capacity: max(pending, Self.initialCiphertextCapacity))
        }
        self.connection.drainCiphertext(into: &ciphertext)
        if ciphertext.capacity <= Self.maximumRetainedBufferCapacity {
            self.ciphertextBuffer = ciphertext
        }

        var promise: EventLoopPromise<Void>? = nil
        if let first = self.unflushedPromises.first {
            for other in self.unflushedPromises.dropFirst() {
                first.futureResult.cascade(to: other)
            }
            promise = first
            self.unflushedPromises.removeAll(keepingCapacity: true)
        }
        context.write(self.wrapOutboundOut(ciphertext), promise: promise)
    }

    // MARK: Closing and failing

    private func sendCloseNotifyAndClose(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        self.state = .closing
        self.closePromise = promise
        self.connection.shutdown()
        let written = context.eventLoop.makePromise(of: Void.self)
        self.writeCiphertext(context: context, extraPromise: written)
        context.flush()
        // Close once close_notify is on the wire, or after a grace period if the peer doesn't
        // read and it never gets there.
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeGracePeriod) {
            self.finishClose(context: context)
        }
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.finishClose(context: context)
        }
    }

    private func finishClose(context: ChannelHandlerContext) {
        guard case .closing = self.state else { return }
        self.state = .closed
        self.cancelTimers()
        let promise = self.closePromise
        self.closePromise = nil
        context.close(promise: promise)
    }

    /// Sends any alert OpenSSL queued, fires `error` and closes.
    private func fail(context: ChannelHandlerContext, _ error: TLSError) {
        switch self.state {
        case .closed:
            return
        case .idle, .handshaking, .active, .closing:
            break
        }
        self.state = .closed
        self.cancelTimers()
        if self.connection.pendingCiphertext > 0 {
            self.failPendingWrites(error)
            self.writeCiphertext(context: context)
            context.flush()
        } else {
            self.failPendingWrites(error)
        }
        context.fireErrorCaught(error)
        let promise = self.closePromise
        self.closePromise = nil
        context.close(promise: promise)
    }

    private func failPendingWrites(_ error: any Error) {
        while let action = self.bufferedActions.popFirst() {
            if case .write(_, let promise) = action {
                promise?.fail(error)
            }
        }
        for promise in self.unflushedPromises {
            promise.fail(error)
        }
        self.unflushedPromises.removeAll()
    }

    private func cancelTimers() {
        self.handshakeTimer?.cancel()
        self.handshakeTimer = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}

/// The server side of a TLS connection: put one in each accepted child channel's pipeline.
///
/// ```swift
/// let tls = try TLSContext(configuration: .server(certificateChain: .file("server.pem"),
///                                                 privateKey: .file("server-key.pem")))
/// ServerBootstrap(group: group).childChannelInitializer { channel in
///     channel.eventLoop.makeCompletedFuture {
///         try channel.pipeline.syncOperations.addHandler(TLSServerHandler(context: tls))
///     }
/// }
/// ```
public final class TLSServerHandler: TLSHandler {
    /// A handler for one accepted connection, using the context's current certificate.
    public init(context: TLSContext) throws(TLSError) {
        try super.init(context: context, role: .server, serverHostname: nil)
    }
}

/// The client side of a TLS connection.
public final class TLSClientHandler: TLSHandler {
    /// A handler for one outgoing connection.
    ///
    /// - Parameter serverHostname: The name (or IP address) the server's certificate must
    ///   carry, unless the context's ``TLSConfiguration/certificateVerification`` says
    ///   otherwise. A DNS name is also sent as SNI.
    public init(context: TLSContext, serverHostname: String?) throws(TLSError) {
        try super.init(context: context, role: .client, serverHostname: serverHostname)
    }
}
