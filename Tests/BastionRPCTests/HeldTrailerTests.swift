import BastionProtobuf
import BastionRPC
import Synchronization
import Testing

/// An interceptor that still works after the handler (the policy engine's audit log) holds the OK
/// trailer: the client must not hear that a call succeeded before that work is done. The load and
/// fault run (Tools/measure/load-and-faults.py) found audited admin calls acknowledged and then
/// missing from the audit log after a SIGKILL, because the trailer went out inside `next()`.
@Suite struct HeldTrailerTests {
    /// Records what the router sends and what the interceptor does, in order.
    final class Recorder: ServerCallTransport {
        let events = Mutex<[String]>([])
        let request: [UInt8]
        init(request: [UInt8]) { self.request = request }
        private let delivered = Mutex(false)

        func nextRequest() async throws(RPCError) -> [UInt8]? {
            delivered.withLock { delivered in
                defer { delivered = true }
                return delivered ? nil : request
            }
        }

        func send(header: Metadata?, message: [UInt8]?, trailer: RPCCallTrailer?) async throws(RPCError) {
            var event = message == nil ? "" : "message"
            if let trailer { event += event.isEmpty ? "" : "+"; event += "trailer \(trailer.code.rawValue)" }
            record(event)
        }

        func record(_ event: String) { events.withLock { $0.append(event) } }
    }

    struct FinishingInterceptor: ServerInterceptor {
        let recorder: Recorder
        let holds: Bool
        let failsAfterwards: Bool

        func intercept(context: ServerContext, next: () async throws -> Void) async throws {
            context.holdsOKTrailer = holds
            try await next()
            recorder.record("interceptor done")
            if failsAfterwards { throw RPCError(code: .internal, message: "the call could not be recorded") }
        }
    }

    static func run(holds: Bool, failsAfterwards: Bool = false) async -> [String] {
        let recorder = Recorder(request: RPCCancel { $0.message = "ping" }.serializedBytes())
        var router = RPCRouter()
        router.intercept(with: FinishingInterceptor(recorder: recorder, holds: holds, failsAfterwards: failsAfterwards))
        let method = MethodDescriptor(service: "test.Held", method: "Echo", kind: .unary)
        router.registerUnary(method) { (request: RPCCancel, _) in request }
        let context = ServerContext(method: method, requestMetadata: Metadata(), deadline: nil, peer: RPCPeer(address: "test", ipAddress: nil))
        await router.handle(path: method.path, transport: recorder, context: context)
        return recorder.events.withLock { $0 }
    }

    @Test func aHeldTrailerFollowsTheInterceptor() async {
        #expect(await Self.run(holds: true) == ["message", "interceptor done", "trailer 0"])
    }

    @Test func aFailureAfterTheHandlerIsTheOnlyStatusTheClientHears() async {
        #expect(await Self.run(holds: true, failsAfterwards: true) == ["message", "interceptor done", "trailer 13"])
    }

    @Test func withoutAHoldTheResponseAndTrailerGoTogether() async {
        #expect(await Self.run(holds: false) == ["message+trailer 0", "interceptor done"])
    }
}
