public import BastionProtobuf

/// Maps method paths to handlers. Generated service code registers its methods here.
public struct RPCRouter: Sendable {
    /// A method's handler over the raw call.
    public typealias Handler = nonisolated(nonsending) @Sendable (any ServerCallTransport, ServerContext) async throws -> Void

    /// Extracts the fields a method's policy names from its decoded request (generated code).
    public typealias RequestFields<Request> = @Sendable (Request) -> [String: RequestFieldValue]

    /// A handler as the router keeps it: it also gets the interceptors' request phase. Generated
    /// code writes these itself (see ``readRequest(_:_:_:requestFields:)``).
    public typealias RoutedHandler = nonisolated(nonsending) @Sendable (any ServerCallTransport, ServerContext, RequestPhase) async throws -> Void

    /// A registered method as a call's path resolves to it: the transport looks it up once when
    /// the call arrives (for the method's deadline cap and the handler's context) and hands it
    /// back to ``handle(route:path:transport:context:onUnexpectedError:)``.
    public final class Route: Sendable {
        public let method: MethodDescriptor
        @usableFromInline let handler: RoutedHandler

        @usableFromInline init(method: MethodDescriptor, handler: @escaping RoutedHandler) {
            self.method = method
            self.handler = handler
        }
    }

    private var routes: [String: Route] = [:]
    private var interceptors: [any ServerInterceptor] = []

    public init() {}

    /// The registered methods, sorted by path.
    public var methods: [MethodDescriptor] { routes.values.map(\.method).sorted { $0.path < $1.path } }

    /// Registers a raw handler; a second registration of the same path replaces the first. The
    /// interceptors' request phase sees the call once before the handler starts (no messages: a
    /// raw handler reads the bytes itself).
    public mutating func register(_ method: MethodDescriptor, handler: @escaping Handler) {
        routes[method.path] = Route(method: method) { transport, context, phase in
            try await phase.inspect(RequestView(phase: .callStart, bytes: nil), context)
            try await handler(transport, context)
        }
    }

    /// Registers a handler that runs the interceptors' request phase itself: what generated code
    /// registers, made of ``readRequest(_:_:_:requestFields:)`` and ``finishUnary(_:_:_:)``, or of
    /// ``serveServerStreaming(_:_:_:requestFields:handler:)``.
    public mutating func register(_ method: MethodDescriptor, routed handler: @escaping RoutedHandler) {
        routes[method.path] = Route(method: method, handler: handler)
    }

    /// Adds an interceptor that runs around every handler, after those added before it.
    public mutating func intercept(with interceptor: any ServerInterceptor) {
        interceptors.append(interceptor)
    }

    /// The method a path names, if one is registered.
    public func method(forPath path: String) -> MethodDescriptor? { routes[path]?.method }

    /// The route a path names, if a method is registered there.
    public func route(forPath path: String) -> Route? { routes[path] }

    /// Runs the call to completion: the interceptors, the handler, and the trailer. Never throws:
    /// every outcome becomes a trailer (handler errors that are not ``RPCError`` become
    /// `UNKNOWN` without their text, which may hold internals; `onUnexpectedError` sees them).
    nonisolated(nonsending) public func handle(
        path: String,
        transport: any ServerCallTransport,
        context: ServerContext,
        onUnexpectedError: @Sendable (any Error) -> Void = { _ in }
    ) async {
        await handle(route: routes[path], path: path, transport: transport, context: context, onUnexpectedError: onUnexpectedError)
    }

    /// Runs a call whose path was already resolved with ``route(forPath:)`` (nil: no such
    /// method, answered `UNIMPLEMENTED`), as ``handle(path:transport:context:onUnexpectedError:)``
    /// does, without looking the path up again.
    ///
    /// Inlinable, for the common case (a registered method, no interceptors): inlined into the
    /// transport's loop, it leaves one `await` between that loop and the handler, and each return
    /// from an `await` costs an executor check.
    @inlinable nonisolated(nonsending) public func handle(
        route: Route?,
        path: String,
        transport: any ServerCallTransport,
        context: ServerContext,
        onUnexpectedError: @Sendable (any Error) -> Void = { _ in }
    ) async {
        guard let route, hasNoInterceptors else {
            await handleWithInterceptors(route: route, path: path, transport: transport, context: context, onUnexpectedError: onUnexpectedError)
            return
        }
        do {
            try await route.handler(transport, context, RequestPhase.none)
        } catch {
            await fail(transport, context, error, onUnexpectedError: onUnexpectedError)
            return
        }
        // A handler may hold the OK trailer too (interceptors are who usually do).
        if context.heldOKTrailer { await sendHeldTrailer(transport, context, onUnexpectedError: onUnexpectedError) }
    }

    @usableFromInline var hasNoInterceptors: Bool { interceptors.isEmpty }

    /// ``handle(route:path:transport:context:onUnexpectedError:)`` for a call without a method,
    /// or under interceptors.
    @usableFromInline nonisolated(nonsending) func handleWithInterceptors(
        route: Route?,
        path: String,
        transport: any ServerCallTransport,
        context: ServerContext,
        onUnexpectedError: @Sendable (any Error) -> Void
    ) async {
        guard let route else {
            await finish(transport, RPCError(code: .unimplemented, message: "method \(path) is not implemented by this server"))
            return
        }
        let phase = RequestPhase(interceptors: interceptors)
        do {
            try await run(interceptorIndex: 0, context: context) {
                try await route.handler(transport, context, phase)
            }
        } catch {
            await fail(transport, context, error, onUnexpectedError: onUnexpectedError)
            return
        }
        if context.heldOKTrailer { await sendHeldTrailer(transport, context, onUnexpectedError: onUnexpectedError) }
    }

    /// Sends the OK trailer held back while the interceptors finished.
    @usableFromInline nonisolated(nonsending) func sendHeldTrailer(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        onUnexpectedError: @Sendable (any Error) -> Void
    ) async {
        do {
            try await transport.send(header: nil, message: nil, trailer: .ok(metadata: context.trailerMetadata))
        } catch {
            await fail(transport, context, error, onUnexpectedError: onUnexpectedError)
        }
    }

    /// Ends a call whose handler (or interceptor) threw: with its ``RPCError`` (and the trailer
    /// metadata set so far), or `CANCELLED`, or `UNKNOWN` for anything else.
    @usableFromInline nonisolated(nonsending) func fail(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        _ error: any Error,
        onUnexpectedError: @Sendable (any Error) -> Void
    ) async {
        switch error {
        case var error as RPCError:
            error.metadata = context.trailerMetadata.merging(error.metadata)
            await finish(transport, error)
        case is CancellationError:
            await finish(transport, RPCError(code: .cancelled, message: "the call was cancelled"))
        default:
            onUnexpectedError(error)
            await finish(transport, RPCError(code: .unknown, message: "the handler failed"))
        }
    }

    /// Runs the interceptors from `interceptorIndex` on around `body`. Their `next` closures are
    /// plain nonisolated (the protocol's), so the handler under interceptors starts with a hop;
    /// a call without interceptors skips this.
    private func run(interceptorIndex: Int, context: ServerContext, body: () async throws -> Void) async throws {
        guard interceptorIndex < interceptors.count else {
            try await body()
            return
        }
        try await interceptors[interceptorIndex].intercept(context: context) {
            try await run(interceptorIndex: interceptorIndex + 1, context: context, body: body)
        }
    }

    nonisolated(nonsending) private func finish(_ transport: any ServerCallTransport, _ error: RPCError) async {
        try? await transport.send(header: nil, message: nil, trailer: error.trailer)
    }
}

extension RPCRouter {
    /// Registers a unary method: one request in, one response out.
    @inlinable public mutating func registerUnary<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ method: MethodDescriptor,
        requestFields: RequestFields<Request>? = nil,
        handler: nonisolated(nonsending) @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        register(method) { transport, context, phase in
            let request: Request = try await Self.readRequest(transport, context, phase, requestFields: requestFields)
            try await Self.finishUnary(transport, context, try await handler(request, context))
        }
    }

    /// Registers a client-streaming method: many requests in, one response out.
    public mutating func registerClientStreaming<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ method: MethodDescriptor,
        handler: nonisolated(nonsending) @escaping @Sendable (RPCRequestStream<Request>, ServerContext) async throws -> Response
    ) {
        register(method) { transport, context, phase in
            try await phase.inspect(RequestView(phase: .callStart, bytes: nil), context)
            let response = try await handler(RPCRequestStream(transport: transport, context: context, phase: phase), context)
            let message = response.serializedBytes()
            try await Self.finishOK(transport, context, header: context.responseMetadata.nilIfEmpty, message: message)
        }
    }

    /// Registers a server-streaming method: one request in, many responses out.
    @inlinable public mutating func registerServerStreaming<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ method: MethodDescriptor,
        requestFields: RequestFields<Request>? = nil,
        handler: nonisolated(nonsending) @escaping @Sendable (Request, RPCResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        register(method) { transport, context, phase in
            try await Self.serveServerStreaming(transport, context, phase, requestFields: requestFields, handler: handler)
        }
    }

    /// Registers a bidirectional-streaming method.
    public mutating func registerBidirectionalStreaming<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ method: MethodDescriptor,
        handler: nonisolated(nonsending) @escaping @Sendable (RPCRequestStream<Request>, RPCResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        register(method) { transport, context, phase in
            try await phase.inspect(RequestView(phase: .callStart, bytes: nil), context)
            let latch = HeaderLatch()
            try await handler(
                RPCRequestStream(transport: transport, context: context, phase: phase),
                RPCResponseWriter(transport: transport, context: context, headerSent: latch),
                context
            )
            let header = latch.take() ? context.responseMetadata.nilIfEmpty : nil
            try await Self.finishOK(transport, context, header: header, message: nil)
        }
    }

    /// The one request of a unary or server-streaming call. With ``finishUnary(_:_:_:)``, what a
    /// generated unary handler is made of: it calls the service's method between the two itself,
    /// so no closure (and no executor check after one: each return from an `await` costs one)
    /// stands between the router and the service. Both are inlined there, and their `await`s
    /// suspend only when the request or the socket is not ready.
    @inlinable public nonisolated(nonsending) static func readRequest<Request: ProtobufMessage>(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        _ phase: RequestPhase,
        requestFields: RequestFields<Request>?
    ) async throws -> Request {
        if let bytes = readySingleRequest(transport, phase) { return try decodeRequest(bytes) }
        return try await singleRequest(transport, context, phase, requestFields)
    }

    /// Sends a unary call's response with the response header and the OK trailer (see
    /// ``readRequest(_:_:_:requestFields:)``).
    @inlinable public nonisolated(nonsending) static func finishUnary<Response: ProtobufMessage>(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        _ response: Response
    ) async throws {
        let header = context.responseMetadata.nilIfEmpty
        // Encoded straight into the transport's output when it can send at once.
        if !context.holdsOKTrailer,
           transport.sendOKIfReady(
               header: header,
               messageSize: response.serializedSize(),
               encode: { response.serialize(into: $0) },
               trailerMetadata: context.trailerMetadata
           ) {
            return
        }
        let message = response.serializedBytes()
        if !finishOKIfReady(transport, context, header: header, message: message) {
            try await finishOK(transport, context, header: header, message: message)
        }
    }

    /// Runs a server-streaming call: reads the one request, lets `handler` write the responses,
    /// sends the OK trailer. Generated code calls it inside the handler it registers, with the
    /// service's method as `handler`.
    @inlinable public nonisolated(nonsending) static func serveServerStreaming<Request: ProtobufMessage, Response: ProtobufMessage>(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        _ phase: RequestPhase,
        requestFields: RequestFields<Request>?,
        handler: nonisolated(nonsending) (Request, RPCResponseWriter<Response>, ServerContext) async throws -> Void
    ) async throws {
        let request: Request = try await readRequest(transport, context, phase, requestFields: requestFields)
        let latch = HeaderLatch()
        try await handler(request, RPCResponseWriter(transport: transport, context: context, headerSent: latch), context)
        let header = latch.take() ? context.responseMetadata.nilIfEmpty : nil
        if !finishOKIfReady(transport, context, header: header, message: nil) {
            try await finishOK(transport, context, header: header, message: nil)
        }
    }

    /// The bytes of a unary or server-streaming call's one request when the transport has it
    /// whole, with the client's half-close behind it, and no interceptor needs to see it: then no
    /// `await` is needed (each costs an executor check). nil when ``singleRequest(_:_:_:_:)`` must
    /// run. Bytes rather than the decoded request: the handlers are generic and unspecialized, and
    /// an `Optional<Request>` would look its metadata up at run time on every call.
    @usableFromInline static func readySingleRequest(_ transport: any ServerCallTransport, _ phase: RequestPhase) -> [UInt8]? {
        guard phase.isEmpty else { return nil }
        return transport.takeOnlyRequestIfReady()
    }

    /// The one request of a unary or server-streaming call, after the interceptors' request
    /// phase has seen it.
    @usableFromInline nonisolated(nonsending) static func singleRequest<Request: ProtobufMessage>(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        _ phase: RequestPhase,
        _ requestFields: RequestFields<Request>?
    ) async throws(RPCError) -> Request {
        guard let bytes = try await transport.nextRequest() else {
            throw RPCError(code: .invalidArgument, message: "the call ended without a request message")
        }
        let request: Request = try decodeRequest(bytes)
        guard try await transport.nextRequest() == nil else {
            throw RPCError(code: .invalidArgument, message: "a second request message on a single-request call")
        }
        if !phase.isEmpty {
            let view = RequestView(phase: .onlyRequest, bytes: bytes, fields: requestFields?(request) ?? [:])
            try await phase.inspect(view, context)
        }
        return request
    }

    /// Ends a successful call: the last response (if any) with the OK trailer, or, while an
    /// interceptor holds the trailer (``ServerContext/holdsOKTrailer``), the response alone; then
    /// ``handle(path:transport:context:onUnexpectedError:)`` sends the trailer after the interceptors.
    @usableFromInline nonisolated(nonsending) static func finishOK(
        _ transport: any ServerCallTransport,
        _ context: ServerContext,
        header: Metadata?,
        message: [UInt8]?
    ) async throws(RPCError) {
        guard context.holdsOKTrailer else {
            try await transport.send(header: header, message: message, trailer: .ok(metadata: context.trailerMetadata))
            return
        }
        context.heldOKTrailer = true
        if header != nil || message != nil {
            try await transport.send(header: header, message: message, trailer: nil)
        }
    }

    /// ``finishOK(_:_:header:message:)`` without waiting, when no interceptor holds the trailer
    /// and the transport can send at once; false (nothing sent) otherwise.
    @usableFromInline static func finishOKIfReady(_ transport: any ServerCallTransport, _ context: ServerContext, header: Metadata?, message: [UInt8]?) -> Bool {
        guard !context.holdsOKTrailer else { return false }
        return transport.sendOKIfReady(header: header, message: message, trailerMetadata: context.trailerMetadata)
    }
}

/// The interceptors' `inspect` step, which the router's handlers run once they have a request.
/// Generated code only passes it on.
public struct RequestPhase: Sendable {
    let interceptors: [any ServerInterceptor]

    init(interceptors: [any ServerInterceptor]) {
        self.interceptors = interceptors
    }

    /// The phase of a router without interceptors.
    @usableFromInline static let none = RequestPhase(interceptors: [])

    @usableFromInline var isEmpty: Bool { interceptors.isEmpty }

    @usableFromInline nonisolated(nonsending) func inspect(_ request: RequestView, _ context: ServerContext) async throws(RPCError) {
        for interceptor in interceptors {
            try await interceptor.inspect(request, context: context)
        }
    }
}

extension Metadata {
    @usableFromInline var nilIfEmpty: Metadata? { isEmpty ? nil : self }

    func merging(_ other: Metadata) -> Metadata {
        Metadata(unchecked: entries + other.entries)
    }
}
