public import BastionProtobuf
import Synchronization

/// One call as a handler sees it: typed request and response streams over the transport.
public struct RPCRequestStream<Message: ProtobufMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = RPCError

    let transport: any ServerCallTransport
    let context: ServerContext
    let phase: RequestPhase

    public struct AsyncIterator: AsyncIteratorProtocol {
        let transport: any ServerCallTransport
        let context: ServerContext
        let phase: RequestPhase
        var index = 0

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Message? {
            guard let bytes = try await transport.nextRequest() else { return nil }
            if !phase.isEmpty {
                try await phase.inspect(RequestView(phase: .streamMessage(index: index), bytes: bytes), context)
            }
            index += 1
            return try decodeRequest(bytes)
        }

        public mutating func next() async throws(RPCError) -> Message? {
            try await next(isolation: nil)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(transport: transport, context: context, phase: phase)
    }
}

/// Sends a server-streaming call's responses.
public struct RPCResponseWriter<Message: ProtobufMessage>: Sendable {
    let transport: any ServerCallTransport
    let context: ServerContext
    let headerSent: HeaderLatch

    @usableFromInline init(transport: any ServerCallTransport, context: ServerContext, headerSent: HeaderLatch) {
        self.transport = transport
        self.context = context
        self.headerSent = headerSent
    }

    /// Sends one response; suspends while the client is slow to read.
    nonisolated(nonsending) public func write(_ message: Message) async throws(RPCError) {
        let header = headerSent.take() ? context.responseMetadata : nil
        let bytes = message.serializedBytes()
        // Without an `await` when the transport can send at once (each costs an executor check).
        if !transport.sendIfReady(header: header, message: bytes, trailer: nil) {
            try await transport.send(header: header, message: bytes, trailer: nil)
        }
    }
}

/// Whether the response header still has to go out; the first writer takes it.
@usableFromInline final class HeaderLatch: Sendable {
    private let pending = Atomic<Bool>(true)

    @usableFromInline init() {}

    @usableFromInline func take() -> Bool { pending.exchange(false, ordering: .relaxed) }
}

@inlinable
func decodeRequest<Message: ProtobufMessage>(_ bytes: [UInt8]) throws(RPCError) -> Message {
    do {
        return try Message(serializedBytes: bytes)
    } catch {
        throw RPCError(code: .invalidArgument, message: "cannot decode \(Message.protobufMessageName): \(error.message)")
    }
}
