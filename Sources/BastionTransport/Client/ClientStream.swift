import BastionProtobuf
import BastionRPC
import NIOCore

/// One client call: the bridge between the caller's task and the connection handler (on the
/// event loop). Fields marked "event loop" are touched only there.
final class ClientStream: ClientCallTransport, @unchecked Sendable {
    let id: UInt32
    let eventLoop: any EventLoop
    /// Strong: a caller may hold its call after the connection is gone and still call into it
    /// (which then answers that the call ended). The cycle through the connection's stream table
    /// ends with the call.
    let connection: ClientConnectionHandler

    // Event loop state. Only the event loop touches it, and never two accesses at once, so the
    // run-time exclusivity checks are switched off for it (`@exclusivity(unchecked)`). Waiters
    // are taken (set to nil or emptied) before they are resumed, so each is resumed once: unsafe
    // continuations spare the canary a checked one allocates per wait.
    /// Complete messages not yet read, with the flow-control credit to return when they are.
    @exclusivity(unchecked) var responses = StreamQueue<(message: [UInt8], credit: Int)>()
    @exclusivity(unchecked) var responseWaiter: UnsafeContinuation<[UInt8]?, any Error>?
    @exclusivity(unchecked) var header: Metadata?
    @exclusivity(unchecked) var headerWaiters: [UnsafeContinuation<Metadata, any Error>] = []
    /// How the call ended: nil while it runs.
    @exclusivity(unchecked) var outcome: CallOutcome?
    @exclusivity(unchecked) var trailerWaiters: [UnsafeContinuation<Metadata, Never>] = []
    /// A whole unary call's caller, waiting for its end (``ClientTransport/unary``), and the one
    /// response it keeps until then.
    @exclusivity(unchecked) var unaryWaiter: UnsafeContinuation<ClientUnaryResponse, any Error>?
    @exclusivity(unchecked) var unaryResponse: [UInt8]?
    @exclusivity(unchecked) var assembler: MessageAssembler
    @exclusivity(unchecked) var receiveWindow: ReceiveWindow
    @exclusivity(unchecked) var sendWindow: Int
    @exclusivity(unchecked) var pendingSends = StreamQueue<PendingSend>()
    @exclusivity(unchecked) var deadlineTimer: Scheduled<Void>?
    @exclusivity(unchecked) var halfClosed = false

    init(id: UInt32, eventLoop: any EventLoop, connection: ClientConnectionHandler, maxMessageSize: Int, receiveWindow: Int, sendWindow: Int) {
        self.id = id
        self.eventLoop = eventLoop
        self.connection = connection
        self.assembler = MessageAssembler(maxMessageSize: maxMessageSize)
        self.receiveWindow = ReceiveWindow(initial: receiveWindow)
        self.sendWindow = sendWindow
    }

    // A caller running on the connection's event loop (see
    // `BastionClientConnection.taskExecutor`) reaches the connection's state directly and
    // suspends only when it has to wait; one running elsewhere hops to the event loop for every
    // operation.

    nonisolated(nonsending) func send(message: [UInt8]?, endStream: Bool) async throws(RPCError) {
        let future: EventLoopFuture<Void>
        if eventLoop.inEventLoop {
            switch connection.send(self, message: message, endStream: endStream) {
            case .done: return
            case .failed(let error): throw error
            case .wait(let written): future = written
            }
        } else {
            let promise = eventLoop.makePromise(of: Void.self)
            eventLoop.execute {
                switch self.connection.send(self, message: message, endStream: endStream) {
                case .done: promise.succeed()
                case .failed(let error): promise.fail(error)
                case .wait(let written): written.cascade(to: promise)
                }
            }
            future = promise.futureResult
        }
        do {
            try await future.get()
        } catch {
            throw Self.rpcError(error)
        }
    }

    nonisolated(nonsending) func responseMetadata() async throws(RPCError) -> Metadata {
        if eventLoop.inEventLoop, let header = connection.pollHeader(self) { return try header.get() }
        do {
            return try await withUnsafeThrowingContinuation { continuation in
                onEventLoop { self.connection.awaitHeader(self, continuation) }
            }
        } catch {
            throw Self.rpcError(error)
        }
    }

    nonisolated(nonsending) func nextResponse() async throws(RPCError) -> [UInt8]? {
        if eventLoop.inEventLoop, let response = connection.pollResponse(self) { return try response.get() }
        do {
            return try await withUnsafeThrowingContinuation { continuation in
                onEventLoop { self.connection.nextResponse(self, continuation) }
            }
        } catch {
            throw Self.rpcError(error)
        }
    }

    nonisolated(nonsending) func trailerMetadata() async -> Metadata {
        if eventLoop.inEventLoop, let metadata = connection.pollTrailer(self) { return metadata }
        return await withUnsafeContinuation { continuation in
            onEventLoop { self.connection.awaitTrailer(self, continuation) }
        }
    }

    func cancel() {
        onEventLoop { self.connection.cancel(self) }
    }

    private func onEventLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop {
            body()
        } else {
            eventLoop.execute(body)
        }
    }

    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        return RPCError(code: .unavailable, message: "the connection failed: \(error)", cause: error)
    }
}

/// How a call ended: OK with the trailer's metadata, or an error. A class, so that a stream's
/// optional record of it (checked by every operation) is one pointer: an optional `Result` with
/// an ``RPCError`` (a dozen fields) is copied and destroyed through generic value witnesses. Calls
/// that end OK without trailer metadata share one instance.
final class CallOutcome: Sendable {
    let trailerMetadata: Metadata
    let error: RPCError?

    private init(trailerMetadata: Metadata) {
        self.trailerMetadata = trailerMetadata
        self.error = nil
    }

    init(_ error: RPCError) {
        self.trailerMetadata = error.metadata
        self.error = error
    }

    private static let okWithoutMetadata = CallOutcome(trailerMetadata: Metadata())

    static func ok(_ trailerMetadata: Metadata) -> CallOutcome {
        trailerMetadata.isEmpty ? okWithoutMetadata : CallOutcome(trailerMetadata: trailerMetadata)
    }
}
