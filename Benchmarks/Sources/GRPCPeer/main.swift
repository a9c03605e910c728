import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCPeerEcho
import Histogram

// grpc-swift-2 2.4.3 over grpc-swift-nio-transport 2.9.2 (HTTP/2, TLS through NIOSSL): the echo
// server and the load generator Benchmarks/rpc-bench.sh runs beside Bastion's and the C baseline.
//
//   GRPCPeer serve --cert CERT --key KEY [--port 0] [--port-file FILE]
//   GRPCPeer bench --port PORT [--kind unary|stream] [--concurrency N] [--connections M]
//                  [--size BYTES] [--repeat N] [--duration S] [--warmup S]
// bench prints the same RESULT line as Benchmarks/c/loadgen.

struct EchoService: Grpcpeer_Echo_V1_Echo.SimpleServiceProtocol {
    func get(request: Grpcpeer_Echo_V1_EchoRequest, context: ServerContext) async throws -> Grpcpeer_Echo_V1_EchoResponse {
        .with {
            $0.text = request.text
            $0.payload = request.payload
        }
    }

    func expand(
        request: Grpcpeer_Echo_V1_EchoRequest,
        response: RPCWriter<Grpcpeer_Echo_V1_EchoResponse>,
        context: ServerContext
    ) async throws {
        for index in 0..<request.repeat {
            try await response.write(.with {
                $0.text = request.text
                $0.payload = request.payload
                $0.index = index
            })
        }
    }
}

struct Options {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let name = iterator.next() {
            guard name.hasPrefix("--"), let value = iterator.next() else {
                FileHandle.standardError.write(Data("bad argument \(name)\n".utf8))
                exit(2)
            }
            values[String(name.dropFirst(2))] = value
        }
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap(Int.init) ?? fallback }
}

func serve(_ options: Options) async throws {
    let server = GRPCServer(
        transport: .http2NIOPosix(
            address: .ipv4(host: "127.0.0.1", port: options.int("port", 0)),
            transportSecurity: .tls(
                certificateChain: [.file(path: options.string("cert", "cert.pem"), format: .pem)],
                privateKey: .file(path: options.string("key", "key.pem"), format: .pem)
            )
        ),
        services: [EchoService()]
    )
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        if let address = try await server.listeningAddress?.ipv4 {
            if let file = options.values["port-file"] {
                try "\(address.port)\n".write(toFile: file, atomically: true, encoding: .utf8)
            }
            print("listening on port \(address.port)")
        }
    }
}

/// Latencies of one caller, in nanoseconds.
struct Recorder {
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    var calls = 0
    var messages = 0
    var errors = 0
}

func bench(_ options: Options) async throws {
    let port = options.int("port", 0)
    let concurrency = options.int("concurrency", 1)
    let connections = min(options.int("connections", 1), concurrency)
    let size = options.int("size", 16)
    let repeatCount = options.int("repeat", 1000)
    let streaming = options.string("kind", "unary") == "stream"
    let duration = options.int("duration", 5)
    let warmup = options.int("warmup", 1)
    let request = Grpcpeer_Echo_V1_EchoRequest.with {
        $0.payload = Data(repeating: 0x5A, count: size)
        if streaming { $0.repeat = UInt32(repeatCount) }
    }
    var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
    for _ in 0..<connections {
        clients.append(GRPCClient(transport: try .http2NIOPosix(
            target: .ipv4(address: "127.0.0.1", port: port),
            transportSecurity: .tls { $0.serverCertificateVerification = .noVerification }
        )))
    }
    let clock = ContinuousClock()
    let start = clock.now
    let measureFrom = start + .seconds(warmup)
    let end = measureFrom + .seconds(duration)
    var total = Recorder()
    try await withThrowingTaskGroup(of: Recorder?.self) { group in
        for client in clients {
            group.addTask {
                try await client.runConnections()
                return nil
            }
        }
        for caller in 0..<concurrency {
            let echo = Grpcpeer_Echo_V1_Echo.Client(wrapping: clients[caller % connections])
            group.addTask {
                var recorder = Recorder()
                while clock.now < end {
                    let callStart = clock.now
                    var messages = 0
                    do {
                        if streaming {
                            messages = try await echo.expand(request) { response in
                                var count = 0
                                for try await _ in response.messages { count += 1 }
                                return count
                            }
                        } else {
                            _ = try await echo.get(request)
                            messages = 1
                        }
                    } catch {
                        recorder.errors += 1
                        continue
                    }
                    let callEnd = clock.now
                    if callStart >= measureFrom, callEnd <= end {
                        let elapsed = callEnd - callStart
                        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
                        _ = recorder.histogram.record(UInt64(nanoseconds))
                        recorder.calls += 1
                        recorder.messages += messages
                    }
                }
                return recorder
            }
        }
        var finishedCallers = 0
        while let result = try await group.next() {
            guard let recorder = result else { continue }
            total.histogram.add(recorder.histogram)
            total.calls += recorder.calls
            total.messages += recorder.messages
            total.errors += recorder.errors
            finishedCallers += 1
            if finishedCallers == concurrency {
                for client in clients { client.beginGracefulShutdown() }
            }
        }
    }
    let p50 = Double(total.histogram.valueAtPercentile(50)) / 1000
    let p99 = Double(total.histogram.valueAtPercentile(99)) / 1000
    print(String(
        format: "RESULT calls=%d calls_per_s=%.0f p50_us=%.1f p99_us=%.1f msgs_per_s=%.0f errors=%d",
        total.calls, Double(total.calls) / Double(duration), p50, p99,
        Double(total.messages) / Double(duration), total.errors
    ))
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "serve": try await serve(Options(arguments.dropFirst(2)))
case "bench": try await bench(Options(arguments.dropFirst(2)))
default:
    FileHandle.standardError.write(Data("usage: GRPCPeer serve|bench [--option value]…\n".utf8))
    exit(2)
}
