import BastionProtobuf
public import BastionRPC
import NIOCore

/// One client call: the bridge between the caller's task and the connection handler (on the
/// event loop). Fields marked "event loop" are touched only there.
final class ClientStream: ClientCallTransport, @unchecked Sendable {
    let id: UInt32
    let eventLoop: any EventLoop
    unowned(unsafe) let connection: ClientConnectionHandler

    // Event loop state.
    /// Complete messages not yet read, with the flow-control credit to return when they are.
    var responses = CircularBuffer<(message: [UInt8], credit: Int)>()
    var responseWaiter: CheckedContinuation<[UInt8]?, any Error>?
    var header: Metadata?
    var headerWaiters: [CheckedContinuation<Metadata, any Error>] = []
    /// How the call ended: nil while it runs; `.success` carries the OK trailer's metadata.
    var outcome: Result<Metadata, RPCError>?
    var trailerWaiters: [CheckedContinuation<Metadata, Never>] = []
    var assembler: MessageAssembler
    var receiveWindow: ReceiveWindow
    var sendWindow: Int
    var pendingSends = CircularBuffer<PendingSend>()
    var deadlineTimer: Scheduled<Void>?
    var halfClosed = false

    init(id: UInt32, eventLoop: any EventLoop, connection: ClientConnectionHandler, maxMessageSize: Int, receiveWindow: Int, sendWindow: Int) {
        self.id = id
        self.eventLoop = eventLoop
        self.connection = connection
        self.assembler = MessageAssembler(maxMessageSize: maxMessageSize)
        self.receiveWindow = ReceiveWindow(initial: receiveWindow)
        self.sendWindow = sendWindow
    }

    func send(message: [UInt8]?, endStream: Bool) async throws(RPCError) {
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.connection.send(self, message: message, endStream: endStream, promise: promise) }
        do {
            try await promise.futureResult.get()
        } catch {
            throw Self.rpcError(error)
        }
    }

    func responseMetadata() async throws(RPCError) -> Metadata {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                eventLoop.execute { self.connection.awaitHeader(self, continuation) }
            }
        } catch {
            throw Self.rpcError(error)
        }
    }

    func nextResponse() async throws(RPCError) -> [UInt8]? {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                eventLoop.execute { self.connection.nextResponse(self, continuation) }
            }
        } catch {
            throw Self.rpcError(error)
        }
    }

    func trailerMetadata() async -> Metadata {
        await withCheckedContinuation { continuation in
            eventLoop.execute { self.connection.awaitTrailer(self, continuation) }
        }
    }

    func cancel() {
        eventLoop.execute { self.connection.cancel(self) }
    }

    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        return RPCError(code: .unavailable, message: "the connection failed: \(error)", cause: error)
    }
}
