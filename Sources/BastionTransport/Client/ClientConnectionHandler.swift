import BastionProtobuf
import BastionRPC
import BastionTLS
import Logging
import NIOCore

/// The client's side of one connection: opens calls as streams, turns frames into responses.
/// All state lives on the channel's event loop.
final class ClientConnectionHandler: ChannelDuplexHandler, FrameOutput {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let settings: ConnectionSettings
    private let logger: Logger
    private let waitsForTLS: Bool
    let ready: EventLoopPromise<Void>

    // The handler's state lives on the event loop, and no mutating access to it calls out of
    // this file, so the run-time exclusivity checks of the properties a call touches are
    // switched off (about 100 instructions each).
    /// Cleared when the handler leaves the pipeline: the context holds the handler, so keeping it
    /// would make a cycle, and every closed connection's handler and streams would leak.
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    /// The connection's event loop, which outlives the pipeline.
    @exclusivity(unchecked) private var eventLoop: (any EventLoop)!
    @exclusivity(unchecked) private var streams = StreamTable<ClientStream>()
    @exclusivity(unchecked) private var nextStreamID: UInt32 = 1
    @exclusivity(unchecked) var flow: ConnectionFlow
    /// Set when the server sent GOAWAY or the connection failed: no new calls.
    @exclusivity(unchecked) private var refusal: Refusal?
    @exclusivity(unchecked) private var settingsSent = false
    /// Splits the server's bytes into frames, checking each header before buffering its payload.
    @exclusivity(unchecked) private var decoder: FrameDecoder
    @exclusivity(unchecked) var flushScheduled = false
    /// The last call header that named no metadata and no deadline, encoded, and its path: a
    /// connection's calls mostly repeat one method, and such a header is then copied, not encoded.
    @exclusivity(unchecked) private var plainHeader: PlainHeader?
    var outputContext: ChannelHandlerContext? { context }

    init(settings: ConnectionSettings, waitsForTLS: Bool, ready: EventLoopPromise<Void>, logger: Logger) {
        self.settings = settings
        self.waitsForTLS = waitsForTLS
        self.ready = ready
        self.logger = logger
        self.flow = ConnectionFlow(localSettings: settings)
        self.decoder = FrameDecoder(limits: settings.frameLimits)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.eventLoop = context.eventLoop
        flow.outbound = context.channel.allocator.buffer(capacity: 4096)
        flow.channelWritable = context.channel.isWritable
        if context.channel.isActive, !waitsForTLS { sendSettings() }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !waitsForTLS { sendSettings() }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { sendSettings() }
        context.fireUserInboundEventTriggered(event)
    }

    private func sendSettings() {
        guard !settingsSent else { return }
        settingsSent = true
        flow.outbound.writeFrame(.settings, streamID: 0, message: settings.message)
        flushOutbound()
        ready.succeed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(unwrapInboundIn(data))
        do {
            try decoder.forEachFrame { frame in
                handle(frame)
                return true
            }
        } catch {
            errorCaught(context: context, error: error)
        }
    }

    private func handle(_ frame: InboundFrame) {
        switch frame.header.type {
        case .settings:
            guard !frame.header.flags.contains(.ack), let peer = decode(RPCSettings.self, frame) else { return }
            flow.applyPeerSettings(peer)
        case .ping:
            flow.answerPing(frame)
        case .goAway:
            guard let goAway = decode(RPCGoAway.self, frame) else { return }
            let error = RPCError(code: .unavailable, message: "the server is going away: \(goAway.message)")
            refusal = Refusal(error)
            for stream in streams.values where stream.id > goAway.lastStreamId { end(stream, CallOutcome(error)) }
            closeIfIdleAfterGoAway()
        case .headers:
            guard let stream = streams[frame.header.streamID], let header = decode(RPCResponseHeader.self, frame) else { return }
            let metadata = Metadata(unchecked: header.metadata)
            stream.header = metadata
            for waiter in stream.headerWaiters { waiter.resume(returning: metadata) }
            stream.headerWaiters = []
        case .message:
            handleMessage(frame)
        case .trailers:
            guard let stream = streams[frame.header.streamID] else { return }
            // An empty trailer is OK with no metadata: nearly every call's, read without decoding.
            if frame.payload.readableBytes == 0 {
                end(stream, .ok(Metadata()))
                return
            }
            guard let trailer = decode(RPCCallTrailer.self, frame) else { return }
            if let error = RPCError(trailer: trailer) {
                end(stream, CallOutcome(error))
            } else {
                end(stream, .ok(Metadata(unchecked: trailer.metadata)))
            }
        case .cancel:
            guard let stream = streams[frame.header.streamID] else { return }
            let cancel = decode(RPCCancel.self, frame) ?? RPCCancel()
            let code = cancel.code.rawValue == 0 ? RPCError.Code.cancelled : RPCError.Code(rawValue: Int(cancel.code.rawValue))
            end(stream, CallOutcome(RPCError(code: code, message: cancel.message.isEmpty ? "the server cancelled the call" : cancel.message)))
        case .windowUpdate:
            let increment = Int(frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt32.self) ?? 0)
            guard increment > 0 else { return }
            if frame.header.streamID == 0 {
                guard let grown = ConnectionFlow.grow(flow.sendWindow, by: increment) else {
                    failConnection(RPCError(code: .internal, message: "the server raised the connection's credit above 2^31-1"))
                    return
                }
                flow.sendWindow = grown
                for stream in streams.values where !stream.pendingSends.isEmpty { drainSends(stream) }
            } else if let stream = streams[frame.header.streamID] {
                guard let grown = ConnectionFlow.grow(stream.sendWindow, by: increment) else {
                    failConnection(RPCError(code: .internal, message: "the server raised stream \(stream.id)'s credit above 2^31-1"))
                    return
                }
                stream.sendWindow = grown
                drainSends(stream)
            }
        default:
            failConnection(RPCError(code: .internal, message: "the server sent \(frame.header.type), which servers do not send"))
        }
    }

    private func handleMessage(_ frame: InboundFrame) {
        let length = frame.payload.readableBytes
        guard flow.receive(length) else {
            failConnection(RPCError(code: .internal, message: "the server exceeded the connection's flow-control window"))
            return
        }
        guard let stream = streams[frame.header.streamID] else {
            flow.returnCredit(length)
            return
        }
        guard stream.receiveWindow.receive(length) else {
            failConnection(RPCError(code: .internal, message: "the server exceeded a stream's flow-control window"))
            return
        }
        do {
            guard let message = try stream.assembler.append(frame.payload, more: frame.header.flags.contains(.more)) else {
                consumed(length, on: stream)  // a buffered part: its credit goes back now
                return
            }
            if stream.unaryWaiter != nil {
                // A whole unary call: it keeps its one response until the trailer.
                consumed(length, on: stream)
                guard stream.unaryResponse == nil else {
                    flow.outbound.writeFrame(.cancel, streamID: stream.id, payload: EmptyCollection())
                    end(stream, CallOutcome(.secondUnaryResponse))
                    return
                }
                stream.unaryResponse = message
            } else if let waiter = stream.responseWaiter {
                stream.responseWaiter = nil
                consumed(length, on: stream)
                waiter.resume(returning: message)
            } else {
                stream.responses.append((message, length))
            }
        } catch {
            flow.returnCredit(length)
            flow.outbound.writeFrame(.cancel, streamID: stream.id, payload: EmptyCollection())
            end(stream, CallOutcome(error))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutbound()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        flow.channelWritable = context.channel.isWritable
        if flow.channelWritable {
            for stream in streams.values where !stream.pendingSends.isEmpty { drainSends(stream) }
            flushOutbound()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        flow.channelWritable = false
        let error = refusal?.error ?? RPCError(code: .unavailable, message: "the connection closed")
        refusal = Refusal(error)
        for stream in Array(streams.values) { end(stream, CallOutcome(error)) }
        ready.fail(error)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        flow.channelWritable = false
        let error = refusal?.error ?? RPCError(code: .unavailable, message: "the connection closed")
        refusal = Refusal(error)
        // A connection torn down before it became active never saw channelInactive; a promise
        // freed unanswered is a bug NIO traps on (completing one twice is a no-op).
        ready.fail(error)
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        failConnection(RPCError(code: .unavailable, message: "the connection failed: \(error)", cause: error))
    }

    // MARK: Calls

    func openCall(path: String, metadata: Metadata, timeout: Duration?) throws(RPCError) -> ClientStream {
        if let refusal { throw refusal.error }
        let id = nextStreamID
        nextStreamID += 1
        let stream = ClientStream(
            id: id,
            eventLoop: eventLoop,
            connection: self,
            maxMessageSize: settings.frameLimits.maxMessageSize,
            receiveWindow: settings.initialStreamWindow,
            sendWindow: flow.peerSettings.initialStreamWindow
        )
        streams[id] = stream
        if metadata.isEmpty, timeout == nil {
            let plain: PlainHeader
            if let last = plainHeader, last.path == path {
                plain = last
            } else {
                plain = PlainHeader(path: path)
                plainHeader = plain
            }
            plain.bytes.withUnsafeBytes { flow.outbound.writeFrame(.headers, streamID: id, bytes: $0) }
        } else {
            var header = RPCCallHeader()
            header.method = path
            header.metadata = metadata.entries
            if let timeout {
                header.timeoutMillis = UInt64(max(1, (timeout / .milliseconds(1)).rounded(.up)))
                // The server ends the call at its deadline; this is the client's own guard.
                stream.deadlineTimer = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.clampedNanoseconds)) { [weak self] in
                    guard let self, self.streams[id] === stream else { return }
                    self.flow.outbound.writeFrame(.cancel, streamID: id, payload: EmptyCollection())
                    self.end(stream, CallOutcome(RPCError(code: .deadlineExceeded, message: "the call's deadline passed")))
                    self.flushOutbound()
                }
            }
            flow.outbound.writeFrame(.headers, streamID: id, message: header)
        }
        // The request usually follows at once; its send flushes both frames together.
        return stream
    }

    /// Opens a unary call and queues its request with the half-close; the caller then waits
    /// with ``awaitUnary(_:_:)``.
    func startUnary(path: String, metadata: Metadata, timeout: Duration?, request: [UInt8]) throws(RPCError) -> ClientStream {
        let stream = try openCall(path: path, metadata: metadata, timeout: timeout)
        stream.halfClosed = true
        // A new stream has nothing queued: the request is written at once if credit allows.
        var sent = 0
        let written = flow.writeMessage(
            request, sent: &sent, streamID: stream.id, streamWindow: &stream.sendWindow,
            endStream: true
        )
        if !written {
            stream.pendingSends.append(PendingSend(message: request, sent: sent, endStream: true))
        }
        scheduleFlush()
        return stream
    }

    /// ``startUnary(path:metadata:timeout:request:)`` with a request of `requestSize` bytes that
    /// `encode` writes: straight into the output when it goes out at once in one frame (a new
    /// stream has nothing queued), into an array otherwise.
    func startUnary(
        path: String,
        metadata: Metadata,
        timeout: Duration?,
        requestSize: Int,
        encode: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(RPCError) -> ClientStream {
        guard flow.sendsInOneFrame(requestSize, streamWindow: flow.peerSettings.initialStreamWindow) else {
            return try startUnary(path: path, metadata: metadata, timeout: timeout, request: encodedBytes(size: requestSize, encode))
        }
        let stream = try openCall(path: path, metadata: metadata, timeout: timeout)
        stream.halfClosed = true
        flow.writeMessage(size: requestSize, streamID: stream.id, streamWindow: &stream.sendWindow, endStream: true, encode: encode)
        scheduleFlush()
        return stream
    }

    /// Waits for a unary call's end (see ``startUnary(path:metadata:timeout:request:)``).
    func awaitUnary(_ stream: ClientStream, _ continuation: UnsafeContinuation<ClientUnaryResponse, any Error>) {
        if let outcome = stream.outcome {
            Self.resumeUnary(continuation, stream, outcome)
        } else {
            stream.unaryWaiter = continuation
        }
    }

    private static func resumeUnary(_ continuation: UnsafeContinuation<ClientUnaryResponse, any Error>, _ stream: ClientStream, _ outcome: CallOutcome) {
        if let error = outcome.error {
            continuation.resume(throwing: error)
        } else if let message = stream.unaryResponse {
            continuation.resume(returning: ClientUnaryResponse(metadata: stream.header ?? Metadata(), message: message, trailerMetadata: outcome.trailerMetadata))
        } else {
            continuation.resume(throwing: RPCError.noUnaryResponse)
        }
    }

    /// Queues a request message (or the half-close) and writes what flow control allows; the
    /// frames go out with the next flush, which gathers every call's frames of this turn.
    func send(_ stream: ClientStream, message: [UInt8]?, endStream: Bool) -> SendPoll {
        if let error = stream.outcome?.error { return .failed(error) }
        // The call already ended OK or half-closed: nothing more to send.
        guard stream.outcome == nil, !stream.halfClosed else { return .done }
        stream.halfClosed = endStream
        stream.pendingSends.append(PendingSend(message: message, endStream: endStream))
        drainSends(stream)
        scheduleFlush()
        if stream.pendingSends.isEmpty { return .done }
        // Held back by flow control or the socket: this send is the last in the queue.
        let promise = eventLoop.makePromise(of: Void.self)
        stream.pendingSends.last?.promise = promise
        return .wait(promise.futureResult)
    }

    private func drainSends(_ stream: ClientStream) {
        while let pending = stream.pendingSends.first {
            if let message = pending.message {
                var sent = pending.sent
                let written = flow.writeMessage(
                    message, sent: &sent, streamID: stream.id, streamWindow: &stream.sendWindow,
                    endStream: pending.endStream
                )
                pending.sent = sent
                guard written else { return }
            } else if pending.endStream {
                flow.outbound.writeFrame(.halfClose, streamID: stream.id, payload: EmptyCollection())
            }
            stream.pendingSends.removeFirst()
            pending.promise?.succeed()
        }
    }

    /// The response header if it is known, without waiting (nil: not yet).
    func pollHeader(_ stream: ClientStream) -> Result<Metadata, RPCError>? {
        if let header = stream.header { return .success(header) }
        guard let outcome = stream.outcome else { return nil }
        if let error = outcome.error { return .failure(error) }
        return .success(Metadata())
    }

    func awaitHeader(_ stream: ClientStream, _ continuation: UnsafeContinuation<Metadata, any Error>) {
        if let header = pollHeader(stream) {
            continuation.resume(with: header)
        } else {
            stream.headerWaiters.append(continuation)
        }
    }

    /// The next response, or the call's end, if known without waiting (nil: not yet).
    func pollResponse(_ stream: ClientStream) -> Result<[UInt8]?, RPCError>? {
        if let (message, credit) = stream.responses.popFirst() {
            consumed(credit, on: stream)
            return .success(message)
        }
        guard let outcome = stream.outcome else { return nil }
        if let error = outcome.error { return .failure(error) }
        return .success(nil)
    }

    func nextResponse(_ stream: ClientStream, _ continuation: UnsafeContinuation<[UInt8]?, any Error>) {
        if let response = pollResponse(stream) {
            continuation.resume(with: response)
        } else {
            stream.responseWaiter = continuation
        }
    }

    /// The trailer's metadata once the call has ended (nil: not yet).
    func pollTrailer(_ stream: ClientStream) -> Metadata? {
        stream.outcome?.trailerMetadata
    }

    func awaitTrailer(_ stream: ClientStream, _ continuation: UnsafeContinuation<Metadata, Never>) {
        if let metadata = pollTrailer(stream) {
            continuation.resume(returning: metadata)
        } else {
            stream.trailerWaiters.append(continuation)
        }
    }

    func cancel(_ stream: ClientStream) {
        guard stream.outcome == nil, streams[stream.id] === stream else { return }
        flow.outbound.writeFrame(.cancel, streamID: stream.id, payload: EmptyCollection())
        end(stream, CallOutcome(RPCError(code: .cancelled, message: "the call was cancelled")))
        flushOutbound()
    }

    /// The call is over: wake everything that waits on it.
    private func end(_ stream: ClientStream, _ outcome: CallOutcome) {
        guard stream.outcome == nil else { return }
        stream.outcome = outcome
        streams[stream.id] = nil
        stream.deadlineTimer?.cancel()
        let error = outcome.error
        for waiter in stream.headerWaiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: stream.header ?? Metadata()) }
        }
        stream.headerWaiters = []
        if let waiter = stream.responseWaiter, stream.responses.isEmpty || error != nil {
            stream.responseWaiter = nil
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
        for waiter in stream.trailerWaiters { waiter.resume(returning: outcome.trailerMetadata) }
        stream.trailerWaiters = []
        if let waiter = stream.unaryWaiter {
            stream.unaryWaiter = nil
            Self.resumeUnary(waiter, stream, outcome)
        }
        while let pending = stream.pendingSends.popFirst() {
            if let error { pending.promise?.fail(error) } else { pending.promise?.succeed() }
        }
        closeIfIdleAfterGoAway()
    }

    private func consumed(_ bytes: Int, on stream: ClientStream) {
        flow.consumed(bytes, streamID: stream.id, streamWindow: &stream.receiveWindow, streamOpen: streams[stream.id] != nil)
        scheduleFlush()
    }

    private func closeIfIdleAfterGoAway() {
        if refusal != nil, streams.isEmpty, let context, context.channel.isActive { context.close(promise: nil) }
    }

    private func failConnection(_ error: RPCError) {
        refusal = Refusal(error)
        for stream in Array(streams.values) { end(stream, CallOutcome(error)) }
        context?.close(promise: nil)
    }

    private func decode<Message: ProtobufMessage>(_: Message.Type, _ frame: InboundFrame) -> Message? {
        do {
            return try frame.payload.withUnsafeReadableBytes { try Message(unsafeBytes: $0) }
        } catch {
            failConnection(RPCError(code: .internal, message: "malformed \(frame.header.type) payload from the server: \(error)"))
            return nil
        }
    }
}

extension ClientConnectionHandler {
    /// Why the connection takes no new calls. A class: every call checks for it, and an optional
    /// reference is one pointer, where an `RPCError?` is copied and destroyed through generic
    /// value witnesses.
    fileprivate final class Refusal {
        let error: RPCError

        init(_ error: RPCError) {
            self.error = error
        }
    }

    /// An encoded call header that names a path and nothing else.
    fileprivate final class PlainHeader {
        let path: String
        let bytes: [UInt8]

        init(path: String) {
            var header = RPCCallHeader()
            header.method = path
            self.path = path
            self.bytes = header.serializedBytes()
        }
    }
}
