import ArgumentParser
import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTransport
import Foundation
import Synchronization

/// `bastion bench`: unary echo load against a server, with latency percentiles.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Send unary echo calls as fast as the server answers; report calls/s and latency."
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Callers running at once, spread over --connections.")
    var concurrency = 1

    @Option(help: "Connections to spread the callers over.")
    var connections = 1

    @Option(help: "Seconds to run (after a one-second warm-up).")
    var duration = 5

    @Option(help: "Payload bytes per request (echoed back).")
    var size = 16

    func validate() throws {
        guard concurrency > 0, connections > 0, connections <= concurrency, duration > 0, size >= 0 else {
            throw ValidationError("need concurrency >= connections >= 1, duration >= 1, size >= 0")
        }
    }

    func run() async throws {
        var clients: [Bastion_Echo_V1_EchoClient] = []
        for _ in 0..<connections { clients.append(Bastion_Echo_V1_EchoClient(transport: try await connection.connect())) }
        let request = Bastion_Echo_V1_EchoRequest { $0.payload = [UInt8](repeating: 0x5A, count: size) }
        let clock = ContinuousClock()
        let warmUpEnd = clock.now + .seconds(1)
        let end = warmUpEnd + .seconds(duration)
        let completed = CallCounter()
        var all: [Duration] = []
        var errors = 0
        await withTaskGroup(of: (latencies: [Duration], errors: Int).self) { group in
            // A progress line while it runs.
            group.addTask {
                while clock.now < end {
                    try? await Task.sleep(for: .seconds(1))
                    FileHandle.standardError.write(Data("\r\(completed.value) calls…".utf8))
                }
                return ([], 0)
            }
            for caller in 0..<concurrency {
                let client = clients[caller % connections]
                group.addTask {
                    var latencies: [Duration] = []
                    var errors = 0
                    latencies.reserveCapacity(100_000)
                    while clock.now < end {
                        let start = clock.now
                        do {
                            _ = try await client.get(request)
                            if start >= warmUpEnd { latencies.append(clock.now - start) }
                            completed.increment()
                        } catch {
                            errors += 1
                        }
                    }
                    return (latencies, errors)
                }
            }
            for await result in group {
                all += result.latencies
                errors += result.errors
            }
        }
        let latencies = all.sorted()
        guard !latencies.isEmpty else { throw ValidationError("no call succeeded") }
        func percentile(_ p: Double) -> Duration { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        func ms(_ d: Duration) -> String { String(format: "%.3f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
        FileHandle.standardError.write(Data("\r".utf8))
        print("""
            unary echo, \(size) B, \(concurrency) callers on \(connections) connection(s), \(duration) s:
              \(latencies.count / duration) calls/s, p50 \(ms(percentile(0.5))), p99 \(ms(percentile(0.99))), \
            max \(ms(latencies.last!)), errors \(errors)
            """)
        for client in clients { await (client.client.transport as? BastionClientConnection)?.close() }
    }
}

/// Calls completed so far, for the progress line.
final class CallCounter: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func increment() { count.add(1, ordering: .relaxed) }
}
