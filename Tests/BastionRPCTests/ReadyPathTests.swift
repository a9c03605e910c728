import BastionProtobuf
import BastionRPC
import Synchronization
import Testing

/// The router's paths without `await` (a request that is already there, a send that can go out
/// at once) must do exactly what the waiting paths do: the same messages and trailers in the same
/// order, and no fast path where an interceptor must see the request or hold the trailer.
@Suite struct ReadyPathTests {
    /// A transport whose requests and sends are ready or not, as the test says, and which
    /// records which path each took.
    final class Transport: ServerCallTransport {
        struct State {
            var requests: [[UInt8]]
            var events: [String] = []
        }

        let state: Mutex<State>
        let requestsReady: Bool
        let sendsReady: Bool

        init(requests: [[UInt8]], requestsReady: Bool, sendsReady: Bool) {
            state = Mutex(State(requests: requests))
            self.requestsReady = requestsReady
            self.sendsReady = sendsReady
        }

        var events: [String] { state.withLock { $0.events } }

        func nextRequest() async throws(RPCError) -> [UInt8]? {
            state.withLock { state in
                state.events.append("await request")
                return state.requests.isEmpty ? nil : state.requests.removeFirst()
            }
        }

        func takeOnlyRequestIfReady() -> [UInt8]? {
            guard requestsReady else { return nil }
            return state.withLock { state in
                guard state.requests.count == 1 else { return nil }
                state.events.append("ready request")
                return state.requests.removeFirst()
            }
        }

        func send(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) async throws(RPCError) {
            record("await send", header, message, trailer)
        }

        func sendIfReady(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) -> Bool {
            guard sendsReady else { return false }
            record("ready send", header, message, trailer)
            return true
        }

        func record(_ path: String, _ header: Metadata?, _ message: [UInt8]?, _ trailer: RPCCallTrailer?) {
            var event = path
            if header != nil { event += " header" }
            if let message { event += " message \(message.count)" }
            if let trailer { event += " trailer \(trailer.code.rawValue)" }
            state.withLock { $0.events.append(event) }
        }
    }

    final class Inspecting: ServerInterceptor {
        let seen = Mutex(0)

        func intercept(context: ServerContext, next: () async throws -> Void) async throws {
            try await next()
        }

        func inspect(_ request: RequestView, context: ServerContext) async throws(RPCError) {
            seen.withLock { $0 += 1 }
        }
    }

    static let method = MethodDescriptor(service: "test.Ready", method: "Echo", kind: .unary)
    static let streaming = MethodDescriptor(service: "test.Ready", method: "Repeat", kind: .serverStreaming)
    static let request = RPCCancel { $0.message = "ping" }.serializedBytes()

    static func router(interceptor: (any ServerInterceptor)? = nil) -> RPCRouter {
        var router = RPCRouter()
        if let interceptor { router.intercept(with: interceptor) }
        router.registerUnary(method) { (request: RPCCancel, context: ServerContext) in
            var metadata = Metadata()
            try metadata.add("echo-a", "1")
            context.responseMetadata = metadata
            return request
        }
        router.registerServerStreaming(streaming) { (request: RPCCancel, responses: RPCResponseWriter<RPCCancel>, _: ServerContext) in
            for _ in 0..<3 { try await responses.write(request) }
        }
        return router
    }

    static func run(_ method: MethodDescriptor, _ transport: Transport, _ router: RPCRouter = router()) async {
        let context = ServerContext(method: method, requestMetadata: Metadata(), deadline: nil, peer: RPCPeer(address: "test", ipAddress: nil))
        await router.handle(path: method.path, transport: transport, context: context)
    }

    @Test(arguments: [false, true], [false, true])
    func unaryCallsSendTheSameWhicheverPath(requestsReady: Bool, sendsReady: Bool) async {
        let transport = Transport(requests: [Self.request], requestsReady: requestsReady, sendsReady: sendsReady)
        await Self.run(Self.method, transport)
        let size = Self.request.count
        let send = sendsReady ? "ready send" : "await send"
        let receive = requestsReady ? ["ready request"] : ["await request", "await request"]
        #expect(transport.events == receive + ["\(send) header message \(size) trailer 0"])
    }

    @Test(arguments: [false, true])
    func streamedResponsesSendTheSameWhicheverPath(sendsReady: Bool) async {
        let transport = Transport(requests: [Self.request], requestsReady: true, sendsReady: sendsReady)
        await Self.run(Self.streaming, transport)
        let size = Self.request.count
        let send = sendsReady ? "ready send" : "await send"
        #expect(
            transport.events == [
                "ready request",
                "\(send) header message \(size)", "\(send) message \(size)", "\(send) message \(size)",
                "\(send) trailer 0",
            ]
        )
    }

    /// A second request on a unary call is refused on either path.
    @Test(arguments: [false, true])
    func aSecondRequestIsRefused(requestsReady: Bool) async {
        let transport = Transport(requests: [Self.request, Self.request], requestsReady: requestsReady, sendsReady: true)
        await Self.run(Self.method, transport)
        // The refusal goes out through `send` (errors take the waiting path).
        #expect(transport.events.last == "await send trailer \(RPCError.Code.invalidArgument.rawValue)")
        #expect(!transport.events.contains("ready request"))
    }

    /// An interceptor's request phase must see the request, so the ready path is not taken.
    @Test func interceptorsSeeTheRequest() async {
        let interceptor = Inspecting()
        let transport = Transport(requests: [Self.request], requestsReady: true, sendsReady: true)
        await Self.run(Self.method, transport, Self.router(interceptor: interceptor))
        #expect(interceptor.seen.withLock { $0 } == 1)
        #expect(transport.events.first == "await request")
        #expect(transport.events.last == "ready send header message \(Self.request.count) trailer 0")
    }
}
