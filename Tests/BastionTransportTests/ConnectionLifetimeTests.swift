import BastionRPC
@testable import BastionTransport
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// A closed connection must free its handler, or a server leaks memory with every connection it
/// ever had. The channel context holds the handler, so a handler that kept its context made a
/// cycle; the load script saw memory grow by about 23 KiB per closed connection.
@Suite struct ConnectionLifetimeTests {
    static func serverHandler() -> ServerConnectionHandler {
        var router = RPCRouter()
        router.register(MethodDescriptor(service: "test.Lifetime", method: "Unary", kind: .unary)) { _, _ in }
        let routes = router
        return ServerConnectionHandler(
            configuration: ServerConnectionConfiguration(),
            routeLookup: { routes.route(forPath: $0) },
            waitsForTLS: false,
            logger: Logger(label: "lifetime")
        )
    }

    /// Opens a connection on an embedded channel, starts a call, closes the connection; returns
    /// the handler weakly and the call as the connection's task would hold it.
    static func closedConnectionWithACall() throws -> (handler: () -> ServerConnectionHandler?, call: ServerStream?) {
        let handler = serverHandler()
        weak let weakHandler = handler
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 4433), promise: nil)
        let call = BadInputTests.frame(.headers, stream: 1, BadInputTests.callHeader("/test.Lifetime/Unary"))
        try channel.writeInbound(ByteBuffer(bytes: BadInputTests.settings + call))
        let stream = handler.pollCall()
        _ = try channel.finish(acceptAlreadyClosed: true)
        return ({ weakHandler }, stream)
    }

    @Test func aClosedConnectionFreesItsHandler() throws {
        let (handler, call) = try Self.closedConnectionWithACall()
        #expect(call != nil)
        // A handler task still holding its call keeps the connection alive (no dangling
        // reference), and what it sends now fails because the call ended.
        #expect(handler() != nil)
        if let call {
            let poll = call.connection.send(call, header: nil, message: [1, 2, 3], trailer: nil)
            guard case .failed(let error) = poll else {
                Issue.record("a send after the connection closed did not fail: \(poll)")
                return
            }
            #expect(error.code == .unavailable)
        }
    }

    @Test func theHandlerGoesOnceItsLastCallIsDropped() throws {
        var (handler, call) = try Self.closedConnectionWithACall()
        #expect(call != nil)
        call = nil
        #expect(handler() == nil, "the closed connection's handler is still alive")
    }

    /// Whether a server handler outlives its connection when the client sent `bytes` and then
    /// the connection closed, with no connection task taking calls.
    static func handlerOutlivesItsConnection(afterReceiving bytes: [UInt8]) throws -> Bool {
        let handler = serverHandler()
        weak let weakHandler = handler
        do {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(handler)
            channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 4433), promise: nil)
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            _ = try channel.finish(acceptAlreadyClosed: true)
        }
        _ = consume handler
        return weakHandler != nil
    }

    /// A call that arrived but that no connection task took before the connection closed
    /// (the fuzz target's pipeline has no task; LeakSanitizer found the cycle there).
    @Test func aCallNeverTakenDoesNotKeepItsHandler() throws {
        let call = BadInputTests.frame(.headers, stream: 1, BadInputTests.callHeader("/test.Lifetime/Unary"))
        #expect(try !Self.handlerOutlivesItsConnection(afterReceiving: BadInputTests.settings + call))
    }

    @Test func aConnectionClosedWithoutCallsFreesItsHandler() throws {
        #expect(try !Self.handlerOutlivesItsConnection(afterReceiving: BadInputTests.settings))
    }

    @Test func aClosedClientConnectionFreesItsHandler() throws {
        let channel = EmbeddedChannel()
        let ready = channel.eventLoop.makePromise(of: Void.self)
        ready.futureResult.whenFailure { _ in }
        let handler = ClientConnectionHandler(
            settings: ConnectionSettings(),
            waitsForTLS: false,
            ready: ready,
            logger: Logger(label: "lifetime")
        )
        weak let weakHandler = handler
        try channel.pipeline.syncOperations.addHandler(handler)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 4433), promise: nil)
        var call: ClientStream? = try handler.openCall(path: "/test.Lifetime/Unary", metadata: Metadata(), timeout: nil)
        _ = try channel.finish(acceptAlreadyClosed: true)
        _ = consume handler
        #expect(call != nil && weakHandler != nil, "a caller's call keeps its connection")
        call = nil
        #expect(weakHandler == nil, "the closed connection's handler is still alive")
    }
}
