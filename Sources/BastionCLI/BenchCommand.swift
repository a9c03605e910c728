import ArgumentParser
import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTransport
import Foundation
import Histogram
import Synchronization

/// `bastion bench`: echo load against a server, with latency percentiles from HDR histograms.
struct BenchCommand: AsyncParsableCommand {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        /// `Echo/Get`: one request, one response.
        case unary
        /// `Echo/Expand`: one request, `--repeat` responses.
        case serverStreaming = "server-streaming"
    }

    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Send echo calls as fast as the server answers; report calls/s and latency.",
        discussion: """
            Each caller makes one call at a time. Calls that start after the warm-up and end before \
            the duration is over are measured. The last line is machine-readable, as printed by \
            Benchmarks/c/loadgen: RESULT calls=… calls_per_s=… p50_us=… p99_us=… msgs_per_s=… errors=…
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "unary (Echo/Get) or server-streaming (Echo/Expand).")
    var kind: Kind = .unary

    @Option(help: "Callers running at once, spread over --connections.")
    var concurrency = 1

    @Option(help: "Connections to spread the callers over.")
    var connections = 1

    @Option(help: "Seconds to measure (after the warm-up).")
    var duration = 5

    @Option(help: "Seconds of warm-up, not measured.")
    var warmup = 1

    @Option(help: "Payload bytes per request (echoed back in each response).")
    var size = 16

    @Option(name: .customLong("repeat"), help: "Responses per server-streaming call.")
    var repeatCount = 1000

    @Flag(
        inversion: .prefixedNo,
        help: "Run each caller on its connection's event loop, which spares every call thread hops."
    )
    var callersOnEventLoop = true

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard concurrency > 0, connections > 0, connections <= concurrency, duration > 0, warmup >= 0, size >= 0,
            repeatCount > 0
        else {
            throw ValidationError("need concurrency >= connections >= 1, duration >= 1, warmup >= 0, size >= 0, repeat >= 1")
        }
    }

    func run() async throws {
        let kind = self.kind
        var connections: [BastionClientConnection] = []
        for _ in 0..<self.connections { connections.append(try await connection.connect()) }
        let request = Bastion_Echo_V1_EchoRequest {
            $0.payload = [UInt8](repeating: 0x5A, count: size)
            if kind == .serverStreaming { $0.repeat = UInt32(repeatCount) }
        }
        let clock = ContinuousClock()
        let measureFrom = clock.now + .seconds(warmup)
        let end = measureFrom + .seconds(duration)
        let progress = Progress()
        let quiet = self.quiet
        let callersOnEventLoop = self.callersOnEventLoop
        var total = CallerResult()
        await withTaskGroup(of: CallerResult?.self) { group in
            if !quiet {
                group.addTask {
                    var last = 0
                    while clock.now < end {
                        try? await Task.sleep(for: .seconds(1))
                        let calls = progress.calls
                        let phase = clock.now < measureFrom ? "warm-up" : "measuring"
                        FileHandle.standardError.write(Data("\r\(phase): \(calls) calls, \(calls - last) in the last second   ".utf8))
                        last = calls
                    }
                    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
                    return nil
                }
            }
            for caller in 0..<concurrency {
                let connection = connections[caller % connections.count]
                let client = Bastion_Echo_V1_EchoClient(transport: connection)
                group.addTask(executorPreference: callersOnEventLoop ? connection.taskExecutor : nil) {
                    var result = CallerResult()
                    // One clock reading per call (a call's end is the next one's start), and the
                    // shared progress counter moved in batches: the C load generator's loop does
                    // no more, and each of these cost about as much as a tenth of a call.
                    var now = clock.now
                    var unreported = 0
                    defer { progress.add(unreported) }
                    while now < end {
                        let start = now
                        var messages = 0
                        do {
                            switch kind {
                            case .unary:
                                _ = try await client.get(request)
                                messages = 1
                            case .serverStreaming:
                                try await client.expand(request) { responses in
                                    for try await _ in responses { messages += 1 }
                                }
                            }
                        } catch {
                            result.errors += 1
                            now = clock.now
                            continue
                        }
                        let finish = clock.now
                        now = finish
                        unreported += 1
                        if unreported == 64 {
                            progress.add(unreported)
                            unreported = 0
                        }
                        if start >= measureFrom, finish <= end { result.record(finish - start, messages: messages) }
                    }
                    return result
                }
            }
            for await result in group {
                if let result { total.merge(result) }
            }
        }
        for connection in connections { await connection.close() }
        guard total.calls > 0 else { throw ValidationError("no call succeeded") }
        let seconds = Double(duration)
        let p50 = Double(total.latencies.valueAtPercentile(50)) / 1000
        let p99 = Double(total.latencies.valueAtPercentile(99)) / 1000
        let max = Double(total.latencies.maxRecorded) / 1000
        let what = kind == .unary ? "unary echo, \(size) B" : "server-streaming echo, \(repeatCount) x \(size) B per call"
        print("""
            \(what), \(concurrency) callers on \(connections.count) connection(s), \(duration) s:
              \(Int(Double(total.calls) / seconds)) calls/s, \(Int(Double(total.messages) / seconds)) responses/s, \
            p50 \(String(format: "%.1f", p50)) µs, p99 \(String(format: "%.1f", p99)) µs, max \(String(format: "%.1f", max)) µs, \
            errors \(total.errors)
            """)
        print(String(
            format: "RESULT calls=%d calls_per_s=%.0f p50_us=%.1f p99_us=%.1f msgs_per_s=%.0f errors=%d",
            total.calls, Double(total.calls) / seconds, p50, p99, Double(total.messages) / seconds, total.errors
        ))
    }
}

/// One caller's measurements: latencies in nanoseconds, counts.
///
/// Latencies wait in a small buffer and go into the histogram a batch at a time. Each caller's
/// histogram covers up to a minute at three significant digits (about 220 KiB of counts), and
/// 64 of them do not stay in the cache: recorded one per call, the histogram's cache misses were
/// about 6% of the client's time with 64 callers of 16 B (perf, cpu-clock samples). A batch
/// touches the same few lines of counts over and over.
struct CallerResult: Sendable {
    private(set) var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var unrecorded: [UInt64] = []
    var calls = 0
    var messages = 0
    var errors = 0

    static let batch = 256

    mutating func record(_ latency: Duration, messages: Int) {
        let (seconds, attoseconds) = latency.components
        if unrecorded.capacity == 0 { unrecorded.reserveCapacity(Self.batch) }
        unrecorded.append(UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
        if unrecorded.count == Self.batch { recordBuffered() }
        calls += 1
        self.messages += messages
    }

    /// Moves the buffered latencies into the histogram.
    mutating func recordBuffered() {
        for latency in unrecorded { _ = latencies.record(latency) }
        unrecorded.removeAll(keepingCapacity: true)
    }

    mutating func merge(_ other: CallerResult) {
        var other = other
        other.recordBuffered()
        recordBuffered()
        latencies.add(other.latencies)
        calls += other.calls
        messages += other.messages
        errors += other.errors
    }
}

/// Calls completed so far (warm-up included), for the progress line.
final class Progress: Sendable {
    private let count = Atomic<Int>(0)

    var calls: Int { count.load(ordering: .relaxed) }

    func add(_ calls: Int) { count.add(calls, ordering: .relaxed) }
}
