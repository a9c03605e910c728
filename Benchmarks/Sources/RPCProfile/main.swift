import BastionBuiltinServices
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation
import Logging
import NIOCore
import NIOPosix

// A fixed number of echo calls through a real BastionServer and BastionClientConnection in one
// process (loopback, TLS or plaintext), for counting instructions per call with callgrind, which
// counts the same on a loaded machine as on a quiet one. The server and the client each get an
// event-loop group of one thread, so that `--separate-threads=yes` tells their costs apart.
//
//   RPCProfile [--calls N] [--callers K] [--connections M] [--size BYTES]
//              [--kind unary|server-streaming] [--repeat R] [--tls true|false] [--warmup CALLS]
//
// Per call: run twice with different --calls and divide the difference of the totals by the
// difference of the calls (start-up and the TLS handshakes cancel out), e.g.
//   valgrind --tool=callgrind --separate-threads=yes Benchmarks/.build/release/RPCProfile --calls 2000
//   valgrind --tool=callgrind --separate-threads=yes Benchmarks/.build/release/RPCProfile --calls 12000
// Benchmarks/rpc-instructions.sh does that.

/// What to run, from the command line.
struct Options: Sendable {
    var calls = 2000
    var callers = 1
    var connections = 1
    var size = 16
    var streaming = false
    var repeatCount: UInt32 = 1000
    var tls = true
    var warmup = 200

    static func parse(_ arguments: [String]) -> Options {
        var values: [String: String] = [:]
        var iterator = arguments.makeIterator()
        while let name = iterator.next() {
            guard name.hasPrefix("--"), let value = iterator.next() else {
                FileHandle.standardError.write(Data("""
                    usage: RPCProfile [--calls N] [--callers K] [--connections M] [--size BYTES]
                                      [--kind unary|server-streaming] [--repeat R] [--tls true|false] [--warmup CALLS]

                    """.utf8))
                exit(2)
            }
            values[String(name.dropFirst(2))] = value
        }
        var options = Options()
        options.calls = Int(values["calls"] ?? "") ?? options.calls
        options.callers = max(1, Int(values["callers"] ?? "") ?? 1)
        options.connections = max(1, min(options.callers, Int(values["connections"] ?? "") ?? 1))
        options.size = Int(values["size"] ?? "") ?? options.size
        options.streaming = values["kind"] == "server-streaming"
        options.repeatCount = UInt32(values["repeat"] ?? "") ?? options.repeatCount
        options.tls = values["tls"] != "false"
        options.warmup = Int(values["warmup"] ?? "") ?? options.warmup
        return options
    }
}

enum Profile {
    /// Starts the server, connects, warms up, makes the measured calls; ends the process.
    static func run(_ options: Options, serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup) async throws {
        let logger = Logger(label: "profile", factory: { _ in SwiftLogNoOpLogHandler() })
        var serverSecurity = BastionServer.Configuration.Security.plaintext
        var clientSecurity = BastionClientConnection.Security.plaintext
        if options.tls {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-profile-\(UUID().uuidString)").path
            let files = try DevelopmentCertificates.generate(directory: directory)
            serverSecurity = .tls(try TLSContext(configuration: .server(
                certificateChain: .file(files.serverCertificate),
                privateKey: .file(files.serverPrivateKey)
            )))
            clientSecurity = .tls(try TLSContext(configuration: .client(trustRoots: .file(files.caCertificate))), serverHostname: "localhost")
            try? FileManager.default.removeItem(atPath: directory)
        }
        var configuration = BastionServer.Configuration(host: "127.0.0.1", port: 0, security: serverSecurity)
        configuration.connection.settings.maxConcurrentCalls = 1000
        var router = RPCRouter()
        EchoService().register(with: &router)
        let server = BastionServer(configuration: configuration, router: router, logger: logger, group: serverGroup)
        let request = Bastion_Echo_V1_EchoRequest {
            $0.payload = [UInt8](repeating: 0x5A, count: options.size)
            if options.streaming { $0.repeat = options.repeatCount }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress.port ?? 0
            var connections: [BastionClientConnection] = []
            for _ in 0..<options.connections {
                connections.append(try await BastionClientConnection.connect(
                    host: "127.0.0.1", port: port, security: clientSecurity, group: clientGroup
                ))
            }
            _ = try await calls(options.warmup, request, options, on: connections)
            let messages = try await calls(options.calls, request, options, on: connections)
            print("RESULT calls=\(options.calls) messages=\(messages) callers=\(options.callers) connections=\(options.connections) size=\(options.size) kind=\(options.streaming ? "server-streaming" : "unary") tls=\(options.tls)")
            for connection in connections { await connection.close() }
            // The server runs until the process ends; nothing of it needs a graceful stop here.
            exit(0)
        }
    }

    /// Makes `count` calls spread over the callers, each on its connection's event loop; returns
    /// the messages received.
    static func calls(
        _ count: Int,
        _ request: Bastion_Echo_V1_EchoRequest,
        _ options: Options,
        on connections: [BastionClientConnection]
    ) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for caller in 0..<options.callers {
                let connection = connections[caller % connections.count]
                let share = count / options.callers + (caller < count % options.callers ? 1 : 0)
                let streaming = options.streaming
                group.addTask(executorPreference: connection.taskExecutor) {
                    let client = Bastion_Echo_V1_EchoClient(transport: connection)
                    var messages = 0
                    for _ in 0..<share {
                        if streaming {
                            try await client.expand(request) { responses in
                                for try await _ in responses { messages += 1 }
                            }
                        } else {
                            _ = try await client.get(request)
                            messages += 1
                        }
                    }
                    return messages
                }
            }
            return try await group.reduce(0, +)
        }
    }
}

// A synchronous main that waits for a future: valgrind 3.19 crashes when an async main parks
// the main thread in dispatch_main.
let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
try clientGroup.next().makeFutureWithTask {
    try await Profile.run(options, serverGroup: serverGroup, clientGroup: clientGroup)
}.wait()
