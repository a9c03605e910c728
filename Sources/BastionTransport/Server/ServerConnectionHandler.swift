import BastionProtobuf
import BastionRPC
import BastionTLS
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a server connection behaves; see docs/PROTOCOL.md for the limits.
public struct ServerConnectionConfiguration: Sendable {
    public var settings = ConnectionSettings()
    /// The longest any call may run, whatever the client asks for.
    public var maxCallDuration: Duration = .seconds(300)
    /// How long `retry_after` tells clients to wait when the server drains.
    public var drainRetryAfter: Duration = .seconds(1)

    public init() {}
}

/// The server's side of one connection: frames in, calls out (as ``ServerStream``s that the
/// connection's task takes through ``ServerCallSource``), responses back as frames. All state
/// lives on the channel's event loop.
final class ServerConnectionHandler: ChannelDuplexHandler, FrameOutput {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let configuration: ServerConnectionConfiguration
    private let routeLookup: @Sendable (String) -> RPCRouter.Route?
    /// The path of the last call, with the route it named.
    @exclusivity(unchecked) private var lastPath: CallPath?
    /// ``ServerConnectionConfiguration/maxCallDuration``, in nanoseconds.
    private let maxCallNanoseconds: Int64
    private let logger: Logger
    private let waitsForTLS: Bool

    // The handler's state lives on the event loop, and no mutating access to it calls out of
    // this file (NIO's writes go through `flushOutbound`, after `flow` is let go), so the run-time
    // exclusivity checks of the properties a call touches are switched off
    // (`@exclusivity(unchecked)`): each cost about 100 instructions.
    /// Cleared when the handler leaves the pipeline: the context holds the handler, so keeping it
    /// would make a cycle, and every closed connection's handler and streams would leak.
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    /// The connection's event loop, which outlives the pipeline.
    @exclusivity(unchecked) private var eventLoop: (any EventLoop)!
    @exclusivity(unchecked) private var streams = StreamTable<ServerStream>()
    /// The stream opened last while it is open: the MESSAGE and HALF_CLOSE frames that follow a
    /// call's HEADERS find it without a lookup in ``streams``. A stream is in the table exactly
    /// while its `ended` is nil.
    @exclusivity(unchecked) private var lastOpened: ServerStream?
    @exclusivity(unchecked) private var lastStreamID: UInt32 = 0
    @exclusivity(unchecked) var flow: ConnectionFlow
    @exclusivity(unchecked) private var peer = RPCPeer(address: "unknown", ipAddress: nil)
    /// Splits the client's bytes into frames, checking each header before buffering its payload.
    @exclusivity(unchecked) private var decoder: FrameDecoder
    @exclusivity(unchecked) private var settingsSent = false
    @exclusivity(unchecked) private var draining = false
    @exclusivity(unchecked) private var closing = false
    @exclusivity(unchecked) var flushScheduled = false
    var outputContext: ChannelHandlerContext? { context }
    @exclusivity(unchecked) private var deadlineTimer: Scheduled<Void>?
    @exclusivity(unchecked) private var deadlineTimerAt: NIODeadline?
    /// When the current read arrived, on both clocks a call's deadline is kept on (read once
    /// per read, at its first call: the calls of one read arrived together, and each clock
    /// read cost about 100 instructions).
    @exclusivity(unchecked) private var readTimeKnown = false
    @exclusivity(unchecked) private var readInstant = ContinuousClock.Instant.now
    @exclusivity(unchecked) private var readUptime = NIODeadline.now()
    /// Calls that arrived and the connection's task has not taken yet, the task waiting for the
    /// next one, and whether no more will come (the connection closed).
    @exclusivity(unchecked) private var arrivedCalls = StreamQueue<ServerStream>()
    @exclusivity(unchecked) private var callWaiter: UnsafeContinuation<ServerStream?, Never>?
    @exclusivity(unchecked) private var callsEnded = false
    /// Whether ``handOverCalls()`` runs again once the event loop has run what is queued.
    @exclusivity(unchecked) private var handOverScheduled = false
    /// Handler tasks that finished their call and wait for another (``ServerCallSource/runCalls``),
    /// most recent last, and how many may wait at once.
    @exclusivity(unchecked) private var idleCallTasks: [UnsafeContinuation<ServerStream?, Never>] = []
    static let maxIdleCallTasks = 32

    init(
        configuration: ServerConnectionConfiguration,
        routeLookup: @escaping @Sendable (String) -> RPCRouter.Route?,
        waitsForTLS: Bool,
        logger: Logger
    ) {
        self.configuration = configuration
        self.maxCallNanoseconds = configuration.maxCallDuration.clampedNanoseconds
        self.routeLookup = routeLookup
        self.waitsForTLS = waitsForTLS
        self.logger = logger
        self.flow = ConnectionFlow(localSettings: configuration.settings)
        self.decoder = FrameDecoder(limits: configuration.settings.frameLimits)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.eventLoop = context.eventLoop
        flow.outbound = context.channel.allocator.buffer(capacity: 4096)
        flow.channelWritable = context.channel.isWritable
        if let address = context.channel.remoteAddress {
            peer = RPCPeer(address: Self.describe(address), ipAddress: address.ipAddress)
        }
        if context.channel.isActive, !waitsForTLS { sendSettings() }
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress {
            peer = RPCPeer(address: Self.describe(address), ipAddress: address.ipAddress)
        }
        if !waitsForTLS { sendSettings() }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let handshake = event as? TLSHandshakeCompleted {
            if let certificate = handshake.peerCertificate {
                peer.certificate = RPCPeer.Certificate(
                    subject: certificate.subject,
                    issuer: certificate.issuer,
                    commonName: certificate.commonName,
                    fingerprint: certificate.sha256FingerprintHex,
                    derBytes: certificate.derBytes
                )
            }
            sendSettings()
        } else if event is IdleStateHandler.IdleStateEvent {
            if streams.isEmpty {
                logger.debug("closing idle connection", metadata: ["peer": "\(peer)"])
                connectionError(RPCError(code: .unavailable, message: "the connection was idle"))
            }
            return
        } else if event is DrainConnectionEvent {
            drain()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        readTimeKnown = false
        decoder.append(unwrapInboundIn(data))
        do {
            try decoder.forEachFrame { frame in
                handle(frame)
                return !closing
            }
        } catch {
            framingError(error)
        }
    }

    private func handle(_ frame: InboundFrame) {
        switch frame.header.type {
        case .settings: handleSettings(frame)
        case .ping: handlePing(frame)
        case .headers: handleHeaders(frame)
        case .message: handleMessage(frame)
        case .halfClose: handleHalfClose(frame)
        case .cancel: handleCancel(frame)
        case .windowUpdate: handleWindowUpdate(frame)
        case .goAway: break  // the client opens no new calls; nothing to do
        default:
            connectionError(RPCError(code: .invalidArgument, message: "a client may not send \(frame.header.type)"))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        handOverCalls()
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
        closing = true
        flow.channelWritable = false
        deadlineTimer?.cancel()
        deadlineTimer = nil
        for stream in Array(streams.values) {
            end(stream, RPCError(code: .unavailable, message: "the connection closed"), sendTrailer: false)
        }
        callsEnded = true
        handOverCalls()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closing = true
        flow.channelWritable = false
        self.context = nil
        // Calls that arrived but were never taken hold this handler (a stream holds its
        // connection), and the handler holds them: with no connection task left to take them,
        // that cycle would outlive the connection. They ended when the channel went inactive.
        streams.removeAll()
        while arrivedCalls.popFirst() != nil {}
        callsEnded = true
        handOverCalls()
    }

    /// A frame broke the protocol's rules or the limits: the connection ends with a GOAWAY.
    private func framingError(_ error: FramingError) {
        let code: RPCError.Code = error.code == .frameTooLarge ? .resourceExhausted : .invalidArgument
        connectionError(RPCError(code: code, message: error.message))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? FramingError {
            framingError(error)
        } else if let error = error as? TLSError {
            logger.debug("TLS error", metadata: ["peer": "\(peer)", "error": "\(error)"])
            context.close(promise: nil)
        } else {
            logger.debug("connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
            connectionError(RPCError(code: .internal, message: "connection failed"))
        }
    }

    // MARK: Frames

    private func sendSettings() {
        guard !settingsSent else { return }
        settingsSent = true
        flow.outbound.writeFrame(.settings, streamID: 0, message: configuration.settings.message)
        flushOutbound()
    }

    private func handleSettings(_ frame: InboundFrame) {
        guard !frame.header.flags.contains(.ack) else { return }
        guard let settings = decode(RPCSettings.self, frame) else { return }
        flow.applyPeerSettings(settings)
    }

    private func handlePing(_ frame: InboundFrame) {
        flow.answerPing(frame)
    }

    private func handleHeaders(_ frame: InboundFrame) {
        let id = frame.header.streamID
        guard id > lastStreamID else {
            connectionError(RPCError(code: .invalidArgument, message: "stream \(id) is not above the last stream \(lastStreamID)"))
            return
        }
        lastStreamID = id
        var timeoutMillis: UInt64 = 0
        var metadataEntries: [RPCMetadataEntry] = []
        guard let callPath = readCallHeader(frame, timeoutMillis: &timeoutMillis, metadata: &metadataEntries) else { return }
        if draining {
            let error = RPCError(code: .unavailable, message: "the server is shutting down", retryAfter: configuration.drainRetryAfter)
            writeTrailer(id, error.trailer)
            return
        }
        guard streams.count < configuration.settings.maxConcurrentCalls else {
            let error = RPCError(
                code: .resourceExhausted,
                message: "more than \(configuration.settings.maxConcurrentCalls) concurrent calls on one connection"
            )
            writeTrailer(id, error.trailer)
            return
        }
        let metadata: Metadata
        if metadataEntries.isEmpty {
            metadata = Metadata()
        } else {
            do {
                metadata = try Metadata(validating: metadataEntries)
            } catch {
                writeTrailer(id, error.trailer)
                return
            }
        }
        // In nanoseconds: `Duration`'s arithmetic and comparisons go through its 128-bit
        // components, which cost more than the rest of the deadline's bookkeeping.
        var timeout = min(maxCallNanoseconds, callPath.maxNanoseconds)
        if timeoutMillis > 0 {
            let (nanoseconds, overflow) = Int64(clamping: timeoutMillis).multipliedReportingOverflow(by: 1_000_000)
            timeout = min(timeout, overflow ? .max : nanoseconds)
        }
        if !readTimeKnown {
            readInstant = .now
            readUptime = .now()
            readTimeKnown = true
        }
        let route = callPath.route
        let method = route?.method ?? MethodDescriptor(service: "", method: callPath.path, kind: .unary)
        let context = ServerContext(
            method: method,
            requestMetadata: metadata,
            deadline: readInstant.advanced(by: .nanoseconds(timeout)),
            peer: peer
        )
        let stream = ServerStream(
            id: id,
            callPath: callPath,
            context: context,
            eventLoop: eventLoop,
            connection: self,
            maxMessageSize: configuration.settings.frameLimits.maxMessageSize,
            receiveWindow: configuration.settings.initialStreamWindow,
            sendWindow: flow.peerSettings.initialStreamWindow
        )
        stream.halfClosed = frame.header.flags.contains(.endStream)
        streams[id] = stream
        lastOpened = stream
        stream.deadline = readUptime + .nanoseconds(timeout)
        armDeadlineTimer(stream.deadline)
        // Handed to the connection's task when this read is complete, with the calls that
        // arrived beside it.
        arrivedCalls.append(stream)
    }

    /// Reads a call's header: its path, and into `timeoutMillis` and `metadata` the rest; nil
    /// (the connection failed) when it is malformed. A connection's calls mostly name the method
    /// of the call before and carry no metadata: such a header is read in place, its path
    /// compared with that call's bytes, so no `String` is made and no hash taken; any other is
    /// decoded whole.
    private func readCallHeader(_ frame: InboundFrame, timeoutMillis: inout UInt64, metadata: inout [RPCMetadataEntry]) -> CallPath? {
        if let lastPath,
           let timeout = frame.payload.withUnsafeReadableBytes({ Self.timeoutOfRepeatedCall($0, path: lastPath.pathBytes) }) {
            timeoutMillis = timeout
            return lastPath
        }
        guard let header = decode(RPCCallHeader.self, frame) else { return nil }
        let path = CallPath(header.method, route: routeLookup(header.method))
        lastPath = path
        timeoutMillis = header.timeoutMillis
        metadata = header.metadata
        return path
    }

    /// The timeout of an encoded `CallHeader` that holds the method `path` (UTF-8) and at most a
    /// timeout besides; nil when it holds anything else or is malformed (then it is decoded whole,
    /// which tells which). A field given twice counts as proto3 says: the last one.
    static func timeoutOfRepeatedCall(_ payload: UnsafeRawBufferPointer, path: [UInt8]) -> UInt64? {
        var reader = ProtobufReader(buffer: payload)
        var namesPath = false
        var timeout: UInt64 = 0
        do {
            while let tag = try reader.nextTag() {
                switch tag.rawValue {
                case 1 << 3 | 2:
                    let method = try reader.readBorrowedBytes()
                    namesPath = method.count == path.count && (path.isEmpty || path.withUnsafeBytes { memcmp($0.baseAddress!, method.baseAddress!, path.count) == 0 })
                    if !namesPath { return nil }
                case 2 << 3 | 0:
                    timeout = try reader.readVarint()
                default:
                    return nil
                }
            }
        } catch {
            return nil
        }
        return namesPath ? timeout : nil
    }

    /// The open stream with this id, if any.
    private func openStream(_ id: UInt32) -> ServerStream? {
        if let lastOpened, lastOpened.id == id { return lastOpened }
        return streams[id]
    }

    // MARK: Calls to the connection's task

    /// The next call that arrived, if any, without waiting.
    func pollCall() -> ServerStream? {
        arrivedCalls.popFirst()
    }

    /// The next call, or nil once the connection closed; waits for one if none is there.
    func awaitCall(_ continuation: UnsafeContinuation<ServerStream?, Never>) {
        if let stream = arrivedCalls.popFirst() {
            continuation.resume(returning: stream)
        } else if callsEnded {
            continuation.resume(returning: nil)
        } else {
            callWaiter = continuation
        }
    }

    /// A task that finished its call waits for the next one here; answered nil (the task ends)
    /// when enough tasks wait already or the connection closed.
    func awaitCallWhileIdle(_ continuation: UnsafeContinuation<ServerStream?, Never>) {
        if let stream = arrivedCalls.popFirst() {
            continuation.resume(returning: stream)
        } else if callsEnded || idleCallTasks.count >= Self.maxIdleCallTasks {
            continuation.resume(returning: nil)
        } else {
            idleCallTasks.append(continuation)
        }
    }

    /// Hands arrived calls to the tasks that run them: wakes one idle handler task with the
    /// first call or, with none idle, the connection's task (which starts a task for each call it
    /// takes); once the connection closed, tells every waiting task.
    ///
    /// One task, not one per call: a task that finished its call takes the next one waiting
    /// itself (``ServerCallSource/runCalls(first:router:logger:)``), so a read that brings sixteen
    /// calls costs one wake-up instead of sixteen (each a resumption, an executor check and a
    /// suspension, about 1,000 instructions). Should that task's handler suspend instead, the
    /// calls still waiting when the event loop next gets here go to another task: the check
    /// runs behind the woken task's job, in the loop's order.
    private func handOverCalls() {
        if !arrivedCalls.isEmpty {
            let woke: Bool
            if let idle = idleCallTasks.popLast() {
                idle.resume(returning: arrivedCalls.popFirst())
                woke = true
            } else if let waiter = callWaiter {
                callWaiter = nil
                waiter.resume(returning: arrivedCalls.popFirst())
                woke = true
            } else {
                // Every task is busy, the connection's task included: it takes the calls
                // itself when it next asks for one, as do tasks that finish theirs.
                woke = false
            }
            if woke, !arrivedCalls.isEmpty, !handOverScheduled, let eventLoop {
                handOverScheduled = true
                eventLoop.assumeIsolated().execute {
                    self.handOverScheduled = false
                    self.handOverCalls()
                }
            }
        }
        if callsEnded {
            let idle = idleCallTasks
            idleCallTasks = []
            for task in idle { task.resume(returning: nil) }
            if arrivedCalls.isEmpty, let waiter = callWaiter {
                callWaiter = nil
                waiter.resume(returning: nil)
            }
        }
    }

    private func handleMessage(_ frame: InboundFrame) {
        let length = frame.payload.readableBytes
        guard flow.receive(length) else {
            connectionError(RPCError(code: .resourceExhausted, message: "the client exceeded the connection's flow-control window"))
            return
        }
        guard let stream = openStream(frame.header.streamID) else {
            guard frame.header.streamID <= lastStreamID else {
                connectionError(RPCError(code: .invalidArgument, message: "MESSAGE on stream \(frame.header.streamID), which was never opened"))
                return
            }
            // A call that already ended: drop the bytes, give the credit back.
            flow.returnCredit(length)
            return
        }
        guard !stream.halfClosed, stream.receiveWindow.receive(length) else {
            if stream.halfClosed {
                flow.returnCredit(length)
                end(stream, RPCError(code: .invalidArgument, message: "MESSAGE after the client half-closed"), sendTrailer: true)
            } else {
                connectionError(RPCError(code: .resourceExhausted, message: "the client exceeded stream \(stream.id)'s flow-control window"))
            }
            return
        }
        do {
            if let message = try stream.assembler.append(frame.payload, more: frame.header.flags.contains(.more)) {
                deliver(message, credit: length, to: stream)
            } else {
                // A part of a larger message: its bytes are buffered (bounded by max_message_size),
                // so their credit goes back now, or a message above the window could never finish.
                consumed(length, on: stream)
            }
        } catch {
            flow.returnCredit(length)
            end(stream, error, sendTrailer: true)
            return
        }
        if frame.header.flags.contains(.endStream) { halfClose(stream) }
    }

    private func handleHalfClose(_ frame: InboundFrame) {
        if let stream = openStream(frame.header.streamID) { halfClose(stream) }
    }

    private func handleCancel(_ frame: InboundFrame) {
        guard let stream = streams[frame.header.streamID] else { return }
        end(stream, RPCError(code: .cancelled, message: "the client cancelled the call"), sendTrailer: false)
    }

    private func handleWindowUpdate(_ frame: InboundFrame) {
        let increment = Int(frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt32.self) ?? 0)
        guard increment > 0, increment <= Int(Int32.max) else {
            connectionError(RPCError(code: .invalidArgument, message: "WINDOW_UPDATE increment must be 1 to 2^31-1"))
            return
        }
        if frame.header.streamID == 0 {
            guard let grown = ConnectionFlow.grow(flow.sendWindow, by: increment) else {
                connectionError(RPCError(code: .invalidArgument, message: "WINDOW_UPDATE raises the connection's credit above 2^31-1"))
                return
            }
            flow.sendWindow = grown
            for stream in streams.values where !stream.pendingSends.isEmpty { drainSends(stream) }
        } else if let stream = streams[frame.header.streamID] {
            guard let grown = ConnectionFlow.grow(stream.sendWindow, by: increment) else {
                connectionError(RPCError(code: .invalidArgument, message: "WINDOW_UPDATE raises stream \(stream.id)'s credit above 2^31-1"))
                return
            }
            stream.sendWindow = grown
            drainSends(stream)
        }
    }

    // MARK: Requests to the handler

    private func deliver(_ message: [UInt8], credit: Int, to stream: ServerStream) {
        if let waiter = stream.requestWaiter {
            stream.requestWaiter = nil
            consumed(credit, on: stream)
            waiter.resume(returning: message)
        } else {
            stream.requests.append((message, credit))
        }
    }

    private func halfClose(_ stream: ServerStream) {
        stream.halfClosed = true
        if stream.requests.isEmpty, let waiter = stream.requestWaiter {
            stream.requestWaiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// The next request if there is one, without waiting.
    func pollRequest(_ stream: ServerStream) -> RequestPoll {
        if let (message, credit) = stream.requests.popFirst() {
            consumed(credit, on: stream)
            return .message(message)
        } else if let ended = stream.ended {
            return .failed(ended.error)
        } else if stream.halfClosed {
            return .end
        }
        return .wait
    }

    /// The call's one request if it has arrived and the client half-closed after it; taken.
    func takeOnlyRequest(_ stream: ServerStream) -> [UInt8]? {
        guard stream.halfClosed, stream.ended == nil, stream.requests.hasOneElement,
            let (message, credit) = stream.requests.popFirst()
        else { return nil }
        consumed(credit, on: stream)
        return message
    }

    func nextRequest(_ stream: ServerStream, _ continuation: UnsafeContinuation<[UInt8]?, any Error>) {
        switch pollRequest(stream) {
        case .message(let message): continuation.resume(returning: message)
        case .end: continuation.resume(returning: nil)
        case .failed(let error): continuation.resume(throwing: error)
        case .wait: stream.requestWaiter = continuation
        }
    }

    /// The handler took `bytes`: return credit to the client when enough has accumulated.
    private func consumed(_ bytes: Int, on stream: ServerStream) {
        flow.consumed(bytes, streamID: stream.id, streamWindow: &stream.receiveWindow, streamOpen: stream.ended == nil)
        scheduleFlush()
    }

    // MARK: Responses from the handler

    /// Queues a response (any of header, message, trailer) and writes what flow control allows;
    /// the frames go out with the next flush, which gathers every response of this event-loop turn.
    func send(_ stream: ServerStream, header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) -> SendPoll {
        if let ended = stream.ended { return .failed(ended.error) }
        let response = header.map(Self.responseHeader)
        if stream.pendingSends.isEmpty {
            // Nothing waits before it (the usual case): written at once, without a queue entry.
            if let response {
                flow.outbound.writeFrame(.headers, streamID: stream.id, message: response)
            }
            var sent = 0
            if let message, !writeMessage(message, sent: &sent, on: stream) {
                stream.pendingSends.append(PendingSend(message: message, sent: sent, endStream: trailer != nil, trailer: trailer))
                scheduleFlush()
                return .wait(heldBack(stream))
            }
            if let trailer {
                flow.outbound.writeFrame(.trailers, streamID: stream.id, message: trailer)
                finished(stream)
            }
            scheduleFlush()
            return .done
        }
        stream.pendingSends.append(PendingSend(header: response, message: message, endStream: trailer != nil, trailer: trailer))
        drainSends(stream)
        scheduleFlush()
        if stream.pendingSends.isEmpty { return .done }
        return .wait(heldBack(stream))
    }

    /// Ends a call with its last response and the OK trailer, once ``sendsWithoutWaiting(_:bytes:)``
    /// said they go out at once: ``send(_:header:message:trailer:)`` without a trailer message to
    /// build, copy and encode. With no trailer metadata, the OK trailer is a frame header alone.
    func sendOK(_ stream: ServerStream, header: Metadata?, message: [UInt8]?, trailerMetadata: Metadata) {
        writeResponseHeader(header, on: stream)
        var sent = 0
        if let message, !writeMessage(message, sent: &sent, on: stream) {
            assertionFailure("a send that could go out at once was held back")
            // The rest goes out with credit, the trailer behind it.
            stream.pendingSends.append(
                PendingSend(message: message, sent: sent, endStream: true, trailer: .ok(metadata: trailerMetadata))
            )
            scheduleFlush()
            return
        }
        writeOKTrailer(trailerMetadata, on: stream)
    }

    /// ``sendOK(_:header:message:trailerMetadata:)`` with the message encoded in place, once
    /// ``sendsInOneFrameWithoutWaiting(_:bytes:)`` said it goes out at once in one frame.
    func sendOK(
        _ stream: ServerStream,
        header: Metadata?,
        messageSize: Int,
        encode: (UnsafeMutableRawBufferPointer) -> Void,
        trailerMetadata: Metadata
    ) {
        writeResponseHeader(header, on: stream)
        guard trailerMetadata.isEmpty else {
            flow.writeMessage(size: messageSize, streamID: stream.id, streamWindow: &stream.sendWindow, encode: encode)
            writeOKTrailer(trailerMetadata, on: stream)
            return
        }
        // The OK trailer, a frame header alone, goes into the same room as the message.
        flow.writeMessage(
            size: messageSize, streamID: stream.id, streamWindow: &stream.sendWindow,
            then: FrameHeader(payloadLength: 0, type: .trailers, streamID: stream.id), encode: encode
        )
        finished(stream)
        scheduleFlush()
    }

    private func writeResponseHeader(_ header: Metadata?, on stream: ServerStream) {
        guard let header else { return }
        flow.outbound.writeFrame(.headers, streamID: stream.id, message: Self.responseHeader(header))
    }

    private static func responseHeader(_ metadata: Metadata) -> RPCResponseHeader {
        var response = RPCResponseHeader()
        response.metadata = metadata.entries
        return response
    }

    /// Ends the call with the OK trailer. With no trailer metadata it is a frame header alone.
    private func writeOKTrailer(_ trailerMetadata: Metadata, on stream: ServerStream) {
        if trailerMetadata.isEmpty {
            flow.outbound.writeFrameHeader(FrameHeader(payloadLength: 0, type: .trailers, flags: [], streamID: stream.id))
        } else {
            flow.outbound.writeFrame(.trailers, streamID: stream.id, message: RPCCallTrailer.ok(metadata: trailerMetadata))
        }
        finished(stream)
        scheduleFlush()
    }

    /// A promise for the send that flow control or the socket held back, the last in the queue.
    private func heldBack(_ stream: ServerStream) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        stream.pendingSends.last?.promise = promise
        return promise.futureResult
    }

    /// Writes what credit and the socket allow of `message`, from `sent` on; true once all of it is.
    private func writeMessage(_ message: [UInt8], sent: inout Int, on stream: ServerStream) -> Bool {
        flow.writeMessage(
            message, sent: &sent, streamID: stream.id, streamWindow: &stream.sendWindow,
            endStream: false
        )
    }

    /// Whether a send of `bytes` message bytes on `stream` would go out at once: the call is on,
    /// nothing waits before it, the socket takes more, and both windows hold the whole message.
    func sendsWithoutWaiting(_ stream: ServerStream, bytes: Int) -> Bool {
        guard stream.ended == nil, stream.pendingSends.isEmpty else { return false }
        guard bytes > 0 else { return true }
        return bytes <= stream.sendWindow && bytes <= flow.sendWindow && flow.channelWritable
    }

    /// Whether a message of `bytes` bytes on `stream` goes out at once in one frame (see
    /// ``sendsWithoutWaiting(_:bytes:)``).
    func sendsInOneFrameWithoutWaiting(_ stream: ServerStream, bytes: Int) -> Bool {
        stream.ended == nil && stream.pendingSends.isEmpty && flow.sendsInOneFrame(bytes, streamWindow: stream.sendWindow)
    }

    /// Writes what flow control and the socket allow of the stream's pending sends.
    private func drainSends(_ stream: ServerStream) {
        while let pending = stream.pendingSends.first {
            if let header = pending.header {
                flow.outbound.writeFrame(.headers, streamID: stream.id, message: header)
                pending.header = nil
            }
            if let message = pending.message {
                var sent = pending.sent
                defer { pending.sent = sent }
                guard writeMessage(message, sent: &sent, on: stream) else { return }
            }
            stream.pendingSends.removeFirst()
            if let trailer = pending.trailer {
                flow.outbound.writeFrame(.trailers, streamID: stream.id, message: trailer)
                finished(stream)
            }
            pending.promise?.succeed()
        }
    }

    /// What operations on a call that ended normally fail with (one value: no box per call).
    private static let callEnded = EndedCall(RPCError(code: .failedPrecondition, message: "the call has already ended"))

    /// The trailer went out: the call is over.
    private func finished(_ stream: ServerStream) {
        stream.ended = Self.callEnded
        streams[stream.id] = nil
        if lastOpened === stream { lastOpened = nil }
        if let waiter = stream.requestWaiter {
            stream.requestWaiter = nil
            waiter.resume(returning: nil)
        }
        closeIfDrained()
    }

    /// Ends a call early (deadline, cancellation, bad input): optionally tells the client, fails
    /// whatever the handler waits for, and cancels the handler's task.
    private func end(_ stream: ServerStream, _ error: RPCError, sendTrailer: Bool) {
        guard stream.ended == nil else { return }
        stream.ended = EndedCall(error)
        streams[stream.id] = nil
        if lastOpened === stream { lastOpened = nil }
        if sendTrailer { writeTrailer(stream.id, error.trailer) }
        if let waiter = stream.requestWaiter {
            stream.requestWaiter = nil
            waiter.resume(throwing: error)
        }
        while let pending = stream.pendingSends.popFirst() { pending.promise?.fail(error) }
        stream.cancelHandler()
        closeIfDrained()
    }

    /// The handler's task returned.
    func handlerFinished(_ stream: ServerStream) {
        if stream.ended == nil {  // still in the stream table
            end(stream, RPCError(code: .internal, message: "the handler ended without a trailer"), sendTrailer: true)
            flushOutbound()
        }
    }

    // MARK: Deadlines

    // One timer per connection, at the earliest deadline that may still be open, rather than one
    // per call: a call's timer cost an allocation, a heap insertion and a removal, and most calls
    // end long before their deadline. Calls that ended stay counted until the timer fires; it
    // then ends the expired calls and moves to the earliest deadline of those still open.

    private func armDeadlineTimer(_ deadline: NIODeadline) {
        if let deadlineTimerAt, deadlineTimerAt <= deadline { return }
        deadlineTimer?.cancel()
        deadlineTimerAt = deadline
        deadlineTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.deadlineTimerFired()
        }
    }

    private func deadlineTimerFired() {
        deadlineTimer = nil
        deadlineTimerAt = nil
        let now = NIODeadline.now()
        var next: NIODeadline?
        for stream in Array(streams.values) {
            if stream.deadline <= now {
                end(stream, RPCError(code: .deadlineExceeded, message: "the call's deadline passed"), sendTrailer: true)
            } else if next.map({ stream.deadline < $0 }) ?? true {
                next = stream.deadline
            }
        }
        if let next { armDeadlineTimer(next) }
        flushOutbound()
    }

    // MARK: Connection

    /// Stops taking new calls; closes once the calls in flight are done.
    func drain() {
        guard !draining, !closing else { return }
        draining = true
        var goAway = RPCGoAway()
        goAway.lastStreamId = lastStreamID
        goAway.code = .unavailable
        goAway.message = "the server is shutting down"
        flow.outbound.writeFrame(.goAway, streamID: 0, message: goAway)
        flushOutbound()
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard draining, streams.isEmpty, !closing else { return }
        closing = true
        flushOutbound()
        context?.close(promise: nil)
    }

    private func connectionError(_ error: RPCError) {
        guard !closing else { return }
        logger.debug("connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        var goAway = RPCGoAway()
        goAway.lastStreamId = lastStreamID
        goAway.code = RPCStatusCode(rawValue: Int32(error.code.rawValue))
        goAway.message = error.message
        flow.outbound.writeFrame(.goAway, streamID: 0, message: goAway)
        flushOutbound()
        closing = true
        for stream in Array(streams.values) { end(stream, error, sendTrailer: false) }
        context?.close(promise: nil)
    }

    private func writeTrailer(_ streamID: UInt32, _ trailer: RPCCallTrailer) {
        flow.outbound.writeFrame(.trailers, streamID: streamID, message: trailer)
    }

    private func decode<Message: ProtobufMessage>(_: Message.Type, _ frame: InboundFrame) -> Message? {
        do {
            return try frame.payload.withUnsafeReadableBytes { try Message(unsafeBytes: $0) }
        } catch {
            connectionError(RPCError(code: .invalidArgument, message: "malformed \(frame.header.type) payload: \(error)"))
            return nil
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4: "ipv4:\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6: "ipv6:[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket: "unix:\(address.pathname ?? "?")"
        }
    }
}

/// Sent down a connection's pipeline to start a graceful drain.
public struct DrainConnectionEvent: Sendable {
    public init() {}
}
