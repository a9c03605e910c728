public import BastionRPC
import NIOCore
import Synchronization

/// One server call: the bridge between the connection handler (on the event loop) and the
/// handler's task. Fields marked "event loop" are touched only there.
public final class ServerStream: ServerCallTransport, @unchecked Sendable {
    public let id: UInt32
    let callPath: CallPath
    public var path: String { callPath.path }
    /// What the router resolved the path to when the call arrived (nil: no such method).
    public var route: RPCRouter.Route? { callPath.route }
    public let context: ServerContext
    let eventLoop: any EventLoop
    /// Strong: a handler task may outlive its connection and still call into it (which then
    /// answers that the call ended). The cycle through the connection's stream table ends with
    /// the call.
    let connection: ServerConnectionHandler

    // Event loop state. Only the event loop touches it, and never two accesses at once (no
    // mutating access calls out of the connection handler), so the run-time exclusivity checks,
    // about a dozen per call, are switched off for it (`@exclusivity(unchecked)`).
    /// Complete messages not yet read, with the flow-control credit to return when they are.
    @exclusivity(unchecked) var requests = StreamQueue<(message: [UInt8], credit: Int)>()
    /// The handler waiting for a request. Taken (set to nil) before it is resumed, so it is
    /// resumed once; an unsafe continuation spares the canary a checked one allocates per wait.
    @exclusivity(unchecked) var requestWaiter: UnsafeContinuation<[UInt8]?, any Error>?
    @exclusivity(unchecked) var halfClosed = false
    /// Why the call is over for the handler: set when the trailer went out or the call was
    /// cancelled; later operations fail with it.
    /// (In a box: an optional box is one pointer, which every operation checks cheaply, where an
    /// `RPCError?` goes through generic value witnesses.)
    @exclusivity(unchecked) var ended: EndedCall?
    @exclusivity(unchecked) var assembler: MessageAssembler
    @exclusivity(unchecked) var receiveWindow: ReceiveWindow
    @exclusivity(unchecked) var sendWindow: Int
    @exclusivity(unchecked) var pendingSends = StreamQueue<PendingSend>()
    /// When the server ends the call (the client's timeout, capped by the server's).
    @exclusivity(unchecked) var deadline = NIODeadline.distantFuture
    /// Response bytes sent without waiting since the handler last let others run.
    @exclusivity(unchecked) var bytesSinceYield = 0
    static let burstBytes = 32 << 10

    /// The handler's task, so a deadline or a peer's CANCEL can cancel it. Set only while the
    /// task runs (so cancelling it is safe). A `Mutex` lives inline in the stream (a `NIOLock`
    /// cost an allocation per call).
    private let task = Mutex<HandlerTask?>(nil)

    /// A task that runs handlers, handed between it and the event loop only under the mutex. A
    /// class, made once per task (``ServerCallSource/runCalls(first:router:logger:)`` runs many
    /// calls in one): storing and clearing an optional reference is a reference count, where an
    /// optional `UnsafeCurrentTask` went through generic value witnesses.
    final class HandlerTask: @unchecked Sendable {
        let task: UnsafeCurrentTask

        init(_ task: UnsafeCurrentTask) {
            self.task = task
        }

        /// The task running this code, if any.
        static var current: HandlerTask? { withUnsafeCurrentTask { $0.map(HandlerTask.init) } }
    }

    init(
        id: UInt32,
        callPath: CallPath,
        context: ServerContext,
        eventLoop: any EventLoop,
        connection: ServerConnectionHandler,
        maxMessageSize: Int,
        receiveWindow: Int,
        sendWindow: Int
    ) {
        self.id = id
        self.callPath = callPath
        self.context = context
        self.eventLoop = eventLoop
        self.connection = connection
        self.assembler = MessageAssembler(maxMessageSize: maxMessageSize)
        self.receiveWindow = ReceiveWindow(initial: receiveWindow)
        self.sendWindow = sendWindow
    }

    // MARK: The handler's side

    /// Runs `body` (the router's handling of this call) so that cancelling the call cancels it.
    nonisolated(nonsending) public func run(_ body: nonisolated(nonsending) () async -> Void) async {
        handlerStarts(in: HandlerTask.current)
        await body()
        handlerEnded()
    }

    /// What ``run(_:)`` does before its body: cancelling the call now cancels `current`, the task
    /// running it. Apart, so that a task running many calls looks its task up once and awaits the
    /// body alone (every return from an `await` costs an executor check).
    func handlerStarts(in current: HandlerTask?) {
        task.withLock { $0 = current }
    }

    /// What ``run(_:)`` does after its body: the connection learns that the handler is done.
    func handlerEnded() {
        task.withLock { $0 = nil }
        if eventLoop.inEventLoop {
            connection.handlerFinished(self)
        } else {
            eventLoop.execute { self.connection.handlerFinished(self) }
        }
    }

    func cancelHandler() {
        task.withLock { $0?.task.cancel() }
    }

    // A handler running on the connection's event loop (the server's default) reaches the
    // connection's state directly and suspends only when it has to wait; one running elsewhere
    // hops to the event loop for every operation.

    nonisolated(nonsending) public func nextRequest() async throws(RPCError) -> [UInt8]? {
        if eventLoop.inEventLoop {
            switch connection.pollRequest(self) {
            case .message(let message): return message
            case .end: return nil
            case .failed(let error): throw error
            case .wait: break
            }
        }
        do {
            return try await withUnsafeThrowingContinuation { continuation in
                if eventLoop.inEventLoop {
                    connection.nextRequest(self, continuation)
                } else {
                    eventLoop.execute { self.connection.nextRequest(self, continuation) }
                }
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .cancelled, message: "the call was cancelled", cause: error)
        }
    }

    public func takeOnlyRequestIfReady() -> [UInt8]? {
        guard eventLoop.inEventLoop else { return nil }
        return connection.takeOnlyRequest(self)
    }

    public func sendIfReady(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) -> Bool {
        let bytes = message?.count ?? 0
        // A send that would end a burst goes through `send`, which lets others run after it.
        guard eventLoop.inEventLoop, trailer != nil || bytesSinceYield + bytes < Self.burstBytes,
            connection.sendsWithoutWaiting(self, bytes: bytes)
        else { return false }
        switch connection.send(self, header: header, message: message, trailer: trailer) {
        case .done:
            bytesSinceYield += bytes
            return true
        case .wait:
            // Cannot happen (checked above); the send is queued and goes out with credit.
            assertionFailure("a send that could go out at once was held back")
            return true
        case .failed:
            return false  // `send` reports it
        }
    }

    public func sendOKIfReady(header: Metadata?, message: [UInt8]?, trailerMetadata: Metadata) -> Bool {
        guard eventLoop.inEventLoop, connection.sendsWithoutWaiting(self, bytes: message?.count ?? 0) else { return false }
        connection.sendOK(self, header: header, message: message, trailerMetadata: trailerMetadata)
        return true
    }

    public func sendOKIfReady(
        header: Metadata?,
        messageSize: Int,
        encode: (UnsafeMutableRawBufferPointer) -> Void,
        trailerMetadata: Metadata
    ) -> Bool {
        guard eventLoop.inEventLoop, connection.sendsInOneFrameWithoutWaiting(self, bytes: messageSize) else { return false }
        connection.sendOK(self, header: header, messageSize: messageSize, encode: encode, trailerMetadata: trailerMetadata)
        return true
    }

    nonisolated(nonsending) public func send(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) async throws(RPCError) {
        let future: EventLoopFuture<Void>
        if eventLoop.inEventLoop {
            switch connection.send(self, header: header, message: message, trailer: trailer) {
            case .done:
                // A handler whose sends never wait would keep the event loop from every other
                // call and connection on it: after each burst, it lets them run.
                bytesSinceYield += message?.count ?? 0
                if bytesSinceYield >= Self.burstBytes, trailer == nil {
                    bytesSinceYield = 0
                    await Task.yield()
                }
                return
            case .failed(let error): throw error
            case .wait(let written): future = written
            }
        } else {
            let promise = eventLoop.makePromise(of: Void.self)
            eventLoop.execute {
                switch self.connection.send(self, header: header, message: message, trailer: trailer) {
                case .done: promise.succeed()
                case .failed(let error): promise.fail(error)
                case .wait(let written): written.cascade(to: promise)
                }
            }
            future = promise.futureResult
        }
        do {
            try await future.get()
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "the connection closed", cause: error)
        }
    }
}

/// A request read without waiting: a message, the client's half-close, the call's end, or nothing yet.
enum RequestPoll {
    case message([UInt8])
    case end
    case failed(RPCError)
    case wait
}

/// How a send went: written (or handed to the channel) at once, refused, or waiting for
/// flow-control credit or channel writability.
enum SendPoll {
    case done
    case failed(RPCError)
    case wait(EventLoopFuture<Void>)
}

/// Why a server call is over for its handler (see ``ServerStream/ended``).
final class EndedCall: Sendable {
    let error: RPCError

    init(_ error: RPCError) {
        self.error = error
    }
}

/// A method path as calls name it, with what the connection needs of it: the path as a
/// `String` and as UTF-8, what it names (the router's routes never change), and the method's
/// own cap on a call's duration (``MethodDescriptor/maxDuration``) in nanoseconds (`.max`
/// when it has none). A class: the connection keeps the last one, and every call's header and
/// stream hold it, at the cost of a reference count rather than a copy of each field.
final class CallPath: Sendable {
    let path: String
    let pathBytes: [UInt8]
    let route: RPCRouter.Route?
    let maxNanoseconds: Int64

    init(_ path: String, route: RPCRouter.Route?) {
        self.path = path
        self.pathBytes = Array(path.utf8)
        self.route = route
        self.maxNanoseconds = route?.method.maxDuration?.clampedNanoseconds ?? .max
    }
}
