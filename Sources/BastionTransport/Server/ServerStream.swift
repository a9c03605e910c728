public import BastionRPC
import NIOConcurrencyHelpers
import NIOCore

/// One server call: the bridge between the connection handler (on the event loop) and the
/// handler's task. Fields marked "event loop" are touched only there.
public final class ServerStream: ServerCallTransport, @unchecked Sendable {
    public let id: UInt32
    public let path: String
    public let context: ServerContext
    let eventLoop: any EventLoop
    unowned(unsafe) let connection: ServerConnectionHandler

    // Event loop state.
    /// Complete messages not yet read, with the flow-control credit to return when they are.
    var requests = CircularBuffer<(message: [UInt8], credit: Int)>()
    var requestWaiter: CheckedContinuation<[UInt8]?, any Error>?
    var halfClosed = false
    /// Why the call is over for the handler: set when the trailer went out or the call was
    /// cancelled; later operations fail with it.
    var ended: RPCError?
    var assembler: MessageAssembler
    var receiveWindow: ReceiveWindow
    var sendWindow: Int
    var pendingSends = CircularBuffer<PendingSend>()
    var deadlineTimer: Scheduled<Void>?

    /// The handler's task, so a deadline or a peer's CANCEL can cancel it. Set only while the
    /// task runs (so cancelling it is safe), under `taskLock`.
    nonisolated(unsafe) private var task: UnsafeCurrentTask?
    private let taskLock = NIOLock()

    init(
        id: UInt32,
        path: String,
        context: ServerContext,
        eventLoop: any EventLoop,
        connection: ServerConnectionHandler,
        maxMessageSize: Int,
        receiveWindow: Int,
        sendWindow: Int
    ) {
        self.id = id
        self.path = path
        self.context = context
        self.eventLoop = eventLoop
        self.connection = connection
        self.assembler = MessageAssembler(maxMessageSize: maxMessageSize)
        self.receiveWindow = ReceiveWindow(initial: receiveWindow)
        self.sendWindow = sendWindow
    }

    // MARK: The handler's side

    /// Runs `body` (the router's handling of this call) so that cancelling the call cancels it.
    public func run(_ body: () async -> Void) async {
        withUnsafeCurrentTask { current in taskLock.withLock { task = current } }
        await body()
        taskLock.withLock { task = nil }
        eventLoop.execute { self.connection.handlerFinished(self) }
    }

    func cancelHandler() {
        taskLock.withLock { task?.cancel() }
    }

    public func nextRequest() async throws(RPCError) -> [UInt8]? {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                eventLoop.execute { self.connection.nextRequest(self, continuation) }
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .cancelled, message: "the call was cancelled", cause: error)
        }
    }

    public func send(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) async throws(RPCError) {
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute {
            self.connection.send(self, header: header, message: message, trailer: trailer, promise: promise)
        }
        do {
            try await promise.futureResult.get()
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "the connection closed", cause: error)
        }
    }
}
