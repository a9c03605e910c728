import BastionBuiltinServices
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation
import Logging

// Bastion's echo service over TLS, with no interceptors: the transport alone, for
// Benchmarks/rpc-bench.sh (bastiond runs every call through the policy engine, whose rate limit
// for echo is far below what a load test sends).
//
//   BastionEchoServer --cert CERT --key KEY [--port 0] [--port-file FILE] [--max-concurrent-calls 1000]
//                     [--handlers-on-event-loops true|false]   (default: BastionServer's)

var values: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let name = arguments.next() {
    guard name.hasPrefix("--"), let value = arguments.next() else {
        FileHandle.standardError.write(Data("usage: BastionEchoServer --cert CERT --key KEY [--port P] [--port-file F]\n".utf8))
        exit(2)
    }
    values[String(name.dropFirst(2))] = value
}

let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let tls = try TLSContext(configuration: .server(
    certificateChain: .file(values["cert"] ?? "cert.pem"),
    privateKey: .file(values["key"] ?? "key.pem")
))
var configuration = BastionServer.Configuration(host: "127.0.0.1", port: Int(values["port"] ?? "0") ?? 0, security: .tls(tls))
configuration.connection.settings.maxConcurrentCalls = Int(values["max-concurrent-calls"] ?? "1000") ?? 1000
if let onEventLoops = values["handlers-on-event-loops"] { configuration.runsHandlersOnEventLoops = onEventLoops == "true" }
var router = RPCRouter()
EchoService().register(with: &router)
let server = BastionServer(configuration: configuration, router: router, logger: logger)
try await withThrowingDiscardingTaskGroup { group in
    group.addTask { try await server.run() }
    let port = try await server.localAddress.port ?? 0
    if let file = values["port-file"] {
        try "\(port)\n".write(toFile: file, atomically: true, encoding: .utf8)
    }
    print("listening on port \(port)")
}
