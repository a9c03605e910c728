public import BastionRPC
import BastionProtobuf

/// The echo service: every call kind, for testing transports, clients and the conformance suite.
///
/// Its methods are `nonisolated(nonsending)`, as the generated protocol's requirements are: they
/// run on the handler's executor without an executor check around each call and each `prepare`.
public struct EchoService: Bastion_Echo_V1_EchoService {
    public init() {}

    nonisolated(nonsending) public func `get`(request: Bastion_Echo_V1_EchoRequest, context: ServerContext) async throws -> Bastion_Echo_V1_EchoResponse {
        try await prepare(request, context)
        return Bastion_Echo_V1_EchoResponse {
            $0.text = request.text
            $0.payload = request.payload
        }
    }

    nonisolated(nonsending) public func collect(
        requests: RPCRequestStream<Bastion_Echo_V1_EchoRequest>,
        context: ServerContext
    ) async throws -> Bastion_Echo_V1_EchoResponse {
        echoMetadata(context)
        var texts: [String] = []
        var payload: [UInt8] = []
        for try await request in requests {
            try await prepare(request, context)
            texts.append(request.text)
            payload += request.payload
        }
        return Bastion_Echo_V1_EchoResponse {
            $0.text = texts.joined(separator: " ")
            $0.payload = payload
        }
    }

    nonisolated(nonsending) public func expand(
        request: Bastion_Echo_V1_EchoRequest,
        responses: RPCResponseWriter<Bastion_Echo_V1_EchoResponse>,
        context: ServerContext
    ) async throws {
        try await prepare(request, context)
        for index in 0..<request.repeat {
            try await responses.write(Bastion_Echo_V1_EchoResponse {
                $0.text = request.text
                $0.payload = request.payload
                $0.index = index
            })
        }
    }

    nonisolated(nonsending) public func update(
        requests: RPCRequestStream<Bastion_Echo_V1_EchoRequest>,
        responses: RPCResponseWriter<Bastion_Echo_V1_EchoResponse>,
        context: ServerContext
    ) async throws {
        echoMetadata(context)
        var index: UInt32 = 0
        for try await request in requests {
            try await prepare(request, context)
            for _ in 0..<max(1, request.repeat) {
                try await responses.write(Bastion_Echo_V1_EchoResponse {
                    $0.text = request.text
                    $0.payload = request.payload
                    $0.index = index
                })
                index += 1
            }
        }
    }

    /// Returns `echo-` metadata, waits `delay_millis`, and fails when asked to. Only a request
    /// that asks to wait or fail awaits anything: every other call (a benchmark's) passes without
    /// an async frame or an executor check for it.
    @inline(__always)
    nonisolated(nonsending) private func prepare(_ request: Bastion_Echo_V1_EchoRequest, _ context: ServerContext) async throws {
        echoMetadata(context)
        if request.delayMillis > 0 || request.failWithCode != 0 {
            try await delayOrFail(request)
        }
    }

    nonisolated(nonsending) private func delayOrFail(_ request: Bastion_Echo_V1_EchoRequest) async throws {
        if request.delayMillis > 0 {
            try await Task.sleep(for: .milliseconds(Int(request.delayMillis)))
        }
        if request.failWithCode != 0 {
            throw RPCError(
                code: RPCError.Code(rawValue: Int(request.failWithCode)),
                message: request.failWithMessage,
                retryAfter: request.retryAfterMillis > 0 ? .milliseconds(Int64(clamping: request.retryAfterMillis)) : nil
            )
        }
    }

    private func echoMetadata(_ context: ServerContext) {
        guard context.responseMetadata.isEmpty else { return }
        var echoed = Metadata()
        for entry in context.requestMetadata.entries where entry.key.hasPrefix("echo-") {
            try? echoed.add(entry.key, entry.value)
        }
        if !echoed.isEmpty {
            context.responseMetadata = echoed
            context.trailerMetadata = echoed
        }
    }
}
