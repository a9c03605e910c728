import BastionProtobuf
import BastionRPC

/// Renders a service: its method descriptors, the protocol a server implements (with its
/// registration on an `RPCRouter`), and a typed client stub.
struct ServiceRenderer {
    struct Method {
        let descriptor: Google_Protobuf_MethodDescriptorProto
        let name: String
        let swiftName: String
        let input: String
        let output: String
        let kind: String
        let comment: String?
        let policy: Bastion_Policy_V1_MethodPolicy?
        /// Statements that fill `fields` from `request` for the policy engine (see
        /// PolicyFieldReader); empty when the policy names no request field.
        let fieldReaders: [String]
        var kindDescription: String {
            switch kind {
            case "unary": "unary"
            case "clientStreaming": "client streaming"
            case "serverStreaming": "server streaming"
            default: "bidirectional streaming"
            }
        }
        var clientStreams: Bool { descriptor.clientStreamingOrDefault }
        var serverStreams: Bool { descriptor.serverStreamingOrDefault }
    }

    let service: Google_Protobuf_ServiceDescriptorProto
    let file: Google_Protobuf_FileDescriptorProto
    let index: SchemaIndex
    let serviceIndex: Int
    let visibility: String
    let policiesRequired: Bool

    private var access: String { visibility.isEmpty ? "" : visibility + " " }

    private var fullName: String {
        let package = file.package ?? ""
        return package.isEmpty ? (service.name ?? "") : package + "." + (service.name ?? "")
    }

    private var swiftName: String {
        SwiftNaming.typePrefix(package: file.package ?? "", swiftPrefix: file.options?.swiftPrefix) + (service.name ?? "")
    }

    func methods() throws(GeneratorError) -> [Method] {
        var used: Set<String> = ["all", "register", "client", "init"]
        var result: [Method] = []
        let policies = PolicyResolver(index: index, file: file, required: policiesRequired)
        let reader = PolicyFieldReader(index: index, file: file)
        for (methodIndex, method) in service.method.enumerated() {
            let element = "\(fullName).\(method.name ?? "?")"
            let input = try index.message(method.inputType, from: file, element: element)
            let output = try index.message(method.outputType, from: file, element: element)
            var swiftName = SwiftNaming.lowerCamel(method.name ?? "")
            if used.contains(swiftName) { swiftName += "_\(methodIndex)" }
            used.insert(swiftName)
            let kind = switch (method.clientStreamingOrDefault, method.serverStreamingOrDefault) {
            case (false, false): "unary"
            case (true, false): "clientStreaming"
            case (false, true): "serverStreaming"
            case (true, true): "bidirectionalStreaming"
            }
            let policy = try policies.policy(for: method, service: service, element: element)
            let policyFields = policy.map { PolicyFieldReader.fields(of: $0) } ?? []
            if method.clientStreamingOrDefault, let first = policyFields.first {
                throw GeneratorError(
                    file: file.name, element: element,
                    "policy names request field '\(first.path)', but the method streams its requests; only single-request methods can be checked by field"
                )
            }
            var fieldReaders: [String] = []
            for field in policyFields {
                let statement = try reader.statement(path: field.path, use: field.use, request: input, element: element)
                if !fieldReaders.contains(statement) { fieldReaders.append(statement) }
            }
            result.append(Method(
                descriptor: method, name: method.name ?? "", swiftName: swiftName, input: input.swiftName,
                output: output.swiftName, kind: kind,
                comment: index.comment(in: file, path: [6, Int32(serviceIndex), 2, Int32(methodIndex)]),
                policy: policy,
                fieldReaders: fieldReaders
            ))
        }
        return result
    }

    func render(into printer: inout CodePrinter) throws(GeneratorError) {
        let methods = try methods()
        let comment = index.comment(in: file, path: [6, Int32(serviceIndex)])

        printer.documentation(comment)
        printer.block("\(access)enum \(swiftName)") { printer in
            printer.line("\(access)static let serviceName = \(SwiftNaming.stringLiteral(fullName))")
            printer.line()
            printer.block("\(access)enum Method") { printer in
                for method in methods {
                    printer.documentation(method.comment)
                    let policy = method.policy.map { policy in
                        // The validated policy travels as its encoding, decoded once at start-up.
                        ", policy: Bastion_Policy_V1_MethodPolicy(generated: [" + policy.serializedBytes().map(String.init).joined(separator: ", ") + "])"
                    } ?? ""
                    printer.line("\(access)static let \(SwiftNaming.escaped(method.swiftName)) = MethodDescriptor(service: serviceName, method: \(SwiftNaming.stringLiteral(method.name)), kind: .\(method.kind)\(policy))")
                }
                let all = methods.map { SwiftNaming.escaped($0.swiftName) }.joined(separator: ", ")
                printer.line("\(access)static let all: [MethodDescriptor] = [\(all)]")
            }
        }

        printer.line()
        printer.line("/// Implement this to serve `\(fullName)`; register it with ``register(with:)``.")
        printer.line("///")
        printer.line("/// The methods run on their caller's executor (`nonisolated(nonsending)`); an implementation")
        printer.line("/// marked the same way saves the executor check around each call.")
        printer.block("\(access)protocol \(swiftName)Service: Sendable") { printer in
            for method in methods {
                printer.documentation(method.comment)
                printer.line("nonisolated(nonsending) func \(signature(method, server: true))")
            }
        }

        printer.line()
        printer.block("extension \(swiftName)Service") { printer in
            printer.line("/// Routes every method of `\(fullName)` to this service.")
            printer.block("\(access)func register(with router: inout RPCRouter)") { printer in
                for method in methods {
                    let descriptor = "\(swiftName).Method.\(SwiftNaming.escaped(method.swiftName))"
                    let call = "self.\(SwiftNaming.escaped(method.swiftName))"
                    switch method.kind {
                    case "unary":
                        // The handler the router keeps, written here with the service's method in it:
                        // no closure (and no executor check after one) between router and service.
                        let fields = requestFieldsArgument(renderFieldReader(method, into: &printer))
                        printer.block("router.register(\(descriptor)) { transport, context, phase in") { printer in
                            printer.line("let request: \(method.input) = try await RPCRouter.readRequest(transport, context, phase, \(fields))")
                            printer.line("try await RPCRouter.finishUnary(transport, context, try await \(call)(request: request, context: context))")
                        }
                    case "clientStreaming":
                        printer.block("router.registerClientStreaming(\(descriptor)) { (requests: RPCRequestStream<\(method.input)>, context) in") { printer in
                            printer.line("try await \(call)(requests: requests, context: context)")
                        }
                    case "serverStreaming":
                        let fields = requestFieldsArgument(renderFieldReader(method, into: &printer))
                        renderRouted(
                            descriptor, serve: "serveServerStreaming", fields: fields,
                            parameters: "request: \(method.input), responses: RPCResponseWriter<\(method.output)>, context",
                            call: "\(call)(request: request, responses: responses, context: context)", into: &printer
                        )
                    default:
                        printer.block("router.registerBidirectionalStreaming(\(descriptor)) { (requests: RPCRequestStream<\(method.input)>, responses: RPCResponseWriter<\(method.output)>, context) in") { printer in
                            printer.line("try await \(call)(requests: requests, responses: responses, context: context)")
                        }
                    }
                }
            }
        }

        printer.line()
        printer.line("/// Calls `\(fullName)`.")
        printer.block("\(access)struct \(swiftName)Client: Sendable") { printer in
            printer.line("\(access)let client: RPCClient")
            printer.line()
            printer.line("\(access)init(transport: any ClientTransport) { self.client = RPCClient(transport: transport) }")
            for method in methods {
                printer.line()
                printer.documentation(method.comment)
                renderClientMethod(method, into: &printer)
            }
        }
    }

    private func signature(_ method: Method, server: Bool) -> String {
        let name = SwiftNaming.escaped(method.swiftName)
        switch method.kind {
        case "unary":
            return "\(name)(request: \(method.input), context: ServerContext) async throws -> \(method.output)"
        case "clientStreaming":
            return "\(name)(requests: RPCRequestStream<\(method.input)>, context: ServerContext) async throws -> \(method.output)"
        case "serverStreaming":
            return "\(name)(request: \(method.input), responses: RPCResponseWriter<\(method.output)>, context: ServerContext) async throws"
        default:
            return "\(name)(requests: RPCRequestStream<\(method.input)>, responses: RPCResponseWriter<\(method.output)>, context: ServerContext) async throws"
        }
    }

    /// `let <method>RequestFields = { request in ... }` for a method whose policy reads request
    /// fields; returns the registration's extra argument (empty when there is none).
    /// A server-streaming method's registration: the handler the router keeps, written here,
    /// hands the service's method to `RPCRouter.serveServerStreaming` as a closure literal.
    private func renderRouted(
        _ descriptor: String, serve: String, fields: String, parameters: String, call: String, into printer: inout CodePrinter
    ) {
        printer.block("router.register(\(descriptor)) { transport, context, phase in") { printer in
            printer.block("try await RPCRouter.\(serve)(transport, context, phase, \(fields)) { (\(parameters)) in") { printer in
                printer.line("try await \(call)")
            }
        }
    }

    /// `requestFields: …` for `RPCRouter.readRequest`: the reader `renderFieldReader` printed, or nil.
    private func requestFieldsArgument(_ rendered: String) -> String {
        rendered.isEmpty ? "requestFields: nil" : String(rendered.dropFirst(2))
    }

    private func renderFieldReader(_ method: Method, into printer: inout CodePrinter) -> String {
        guard !method.fieldReaders.isEmpty else { return "" }
        let name = method.swiftName + "RequestFields"
        printer.line("// The request fields that \(method.name)'s policy checks.")
        printer.block("let \(name): RPCRouter.RequestFields<\(method.input)> = { request in") { printer in
            printer.line("var fields: [String: RequestFieldValue] = [:]")
            for reader in method.fieldReaders { printer.line(reader) }
            printer.line("return fields")
        }
        return ", requestFields: \(name)"
    }

    /// Whether client stubs are `@inlinable`: those the module exports are. A stub only forwards
    /// to `RPCClient`, and inlined into its caller it saves an async frame and the executor check
    /// after its `await` (about 350 instructions a call). Internal stubs are visible to the
    /// optimiser anyway.
    private var stubsAreInlinable: Bool { visibility == "public" || visibility == "package" }

    private func renderClientMethod(_ method: Method, into printer: inout CodePrinter) {
        if stubsAreInlinable { printer.line("@inlinable") }
        let name = SwiftNaming.escaped(method.swiftName)
        let descriptor = "\(swiftName).Method.\(name)"
        let common = "metadata: Metadata = Metadata(),\n        options: CallOptions = CallOptions()"
        switch method.kind {
        case "unary":
            printer.block("nonisolated(nonsending) \(access)func \(name)(\n        _ request: \(method.input),\n        \(common)\n    ) async throws(RPCError) -> RPCResponse<\(method.output)>") { printer in
                printer.line("try await client.unary(\(descriptor), request: request, metadata: metadata, options: options)")
            }
        case "clientStreaming":
            printer.block("nonisolated(nonsending) \(access)func \(name)(\n        \(common),\n        requests: (RPCRequestWriter<\(method.input)>) async throws -> Void\n    ) async throws(RPCError) -> RPCResponse<\(method.output)>") { printer in
                printer.line("try await client.clientStreaming(\(descriptor), metadata: metadata, options: options, requests: requests)")
            }
        case "serverStreaming":
            printer.block("nonisolated(nonsending) \(access)func \(name)<Result>(\n        _ request: \(method.input),\n        \(common),\n        responses: (RPCResponseStream<\(method.output)>) async throws -> Result\n    ) async throws(RPCError) -> Result") { printer in
                printer.line("try await client.serverStreaming(\(descriptor), request: request, metadata: metadata, options: options, responses: responses)")
            }
        default:
            printer.block("\(access)func \(name)<Result: Sendable>(\n        \(common),\n        requests: @escaping @Sendable (RPCRequestWriter<\(method.input)>) async throws -> Void,\n        responses: (RPCResponseStream<\(method.output)>) async throws -> Result\n    ) async throws(RPCError) -> Result") { printer in
                printer.line("try await client.bidirectionalStreaming(\(descriptor), metadata: metadata, options: options, requests: requests, responses: responses)")
            }
        }
    }
}
