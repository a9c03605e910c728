// Encode and decode the schemas of Protos/bench.proto with Bastion's generated types and with
// SwiftProtobuf's, and (when Benchmarks/cpp/build.sh has been run) with C++ libprotobuf.
//
//     swift run -c release --package-path Benchmarks CodecBench [--only SCHEMA/OP/LIB] [--samples N]
//         [--sample-ms MS] [--cpu] [--cpp PATH | --no-cpp] [--iterations N]
//
// Each measurement: a calibration run that doubles as warm-up, then `samples` timed runs of about
// `sample-ms` each; the median ns/op is reported.
//
// `--cpu` times with the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, on both the Swift and the C++
// side) instead of the wall clock, so that other load on a shared machine moves the figures less.
//
// `--iterations N` runs each selected cell exactly N times inside `profiledLoop` instead, for
// profilers that count instructions: divide what callgrind collects with
// `--toggle-collect='*profiledLoop*'` by N.
import BastionPeers
import BastionProtobuf
import BenchData
import Foundation
import SwiftProtobuf
import SwiftProtobufPeers

// MARK: Options

var only: String?
var samples = 7
var sampleMilliseconds = 100
var fixedIterations: Int?
var cpuTime = false
var cppPath: String? = {
    // Benchmarks/Sources/CodecBench/main.swift -> Benchmarks/cpp/.build/codec_bench
    let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let path = packageDirectory.appendingPathComponent("cpp/.build/codec_bench").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--only": only = arguments.next()
    case "--samples": samples = Int(arguments.next() ?? "") ?? samples
    case "--sample-ms": sampleMilliseconds = Int(arguments.next() ?? "") ?? sampleMilliseconds
    case "--cpp": cppPath = arguments.next()
    case "--no-cpp": cppPath = nil
    case "--iterations": fixedIterations = Int(arguments.next() ?? "")
    case "--cpu": cpuTime = true
    default:
        print(
            "usage: CodecBench [--only SCHEMA/OP/LIB] [--samples N] [--sample-ms MS] [--cpu] [--cpp PATH | --no-cpp]"
                + " [--iterations N]"
        )
        exit(2)
    }
}

// MARK: Measurement

nonisolated(unsafe) var sink = 0

@inline(never)
func consume(_ value: Int) { sink &+= value }

/// Runs `operation` `iterations` times; the one function a profiler collects in.
@inline(never)
func profiledLoop(_ iterations: Int, _ operation: () throws -> Int) rethrows {
    for _ in 0..<iterations { consume(try operation()) }
}

/// The thread's own CPU time, for `--cpu`.
struct ThreadCPUClock: Clock {
    typealias Duration = Swift.Duration
    struct Instant: InstantProtocol {
        var nanoseconds: Int64
        func advanced(by duration: Duration) -> Instant {
            let (seconds, attoseconds) = duration.components
            return Instant(nanoseconds: nanoseconds + seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        func duration(to other: Instant) -> Duration { .nanoseconds(other.nanoseconds - nanoseconds) }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    }
    var now: Instant {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Instant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }
    var minimumResolution: Duration { .nanoseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws { fatalError("not a sleeping clock") }
}

/// Median nanoseconds per call of `operation`, by the wall clock or (`--cpu`) the thread's CPU clock.
@MainActor @inline(__always)
func measure(_ operation: () throws -> Int) rethrows -> Double {
    if cpuTime {
        return try measure(operation, clock: ThreadCPUClock())
    }
    return try measure(operation, clock: ContinuousClock())
}

@MainActor @inline(__always)
func measure<C: Clock>(_ operation: () throws -> Int, clock: C) rethrows -> Double where C.Duration == Duration {
    if let fixedIterations {
        let elapsed = try clock.measure { try profiledLoop(fixedIterations, operation) }
        return (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
            / Double(fixedIterations)
    }
    // Calibrate (and warm up): double the iteration count until one run takes 1/10 of a sample.
    var iterations = 1
    while true {
        let elapsed = try clock.measure { for _ in 0..<iterations { consume(try operation()) } }
        if elapsed >= .milliseconds(sampleMilliseconds) / 10 {
            let perCall = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
            iterations = max(1, Int(Double(sampleMilliseconds) / 1000 / (perCall / Double(iterations))))
            break
        }
        iterations *= 2
    }
    var results = [Double]()
    for _ in 0..<samples {
        let elapsed = try clock.measure { for _ in 0..<iterations { consume(try operation()) } }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        results.append(seconds * 1e9 / Double(iterations))
    }
    results.sort()
    return results[results.count / 2]
}

@MainActor
func selected(_ schema: String, _ op: String, _ lib: String) -> Bool {
    guard let only else { return true }
    let parts = only.split(separator: "/").map(String.init)
    let wanted = [schema, op, lib]
    for (index, part) in parts.enumerated() where index < 3 && part != "*" && part != wanted[index] {
        return false
    }
    return true
}

struct Row {
    var schema: String
    var op: String
    var bastion: Double?
    var swiftProtobuf: Double?
    var cpp: Double?
}

var rows = [Row]()
var checksums = [String: (size: Int, bastion: UInt64, swiftProtobuf: UInt64)]()

@MainActor
func bench<B: BastionProtobuf.ProtobufMessage, S: SwiftProtobuf.Message & Equatable>(
    _ schema: String,
    bastion: B,
    swiftProtobuf: S
) throws {
    let bastionBytes = bastion.serializedBytes()
    let swiftProtobufBytes: [UInt8] = try swiftProtobuf.serializedBytes()
    // Same content: the encodings must be byte-identical, and each side must read the other's.
    precondition(bastionBytes == swiftProtobufBytes, "\(schema): the two encodings differ")
    let bastionDecoded = try B(serializedBytes: swiftProtobufBytes)
    let swiftProtobufDecoded = try S(serializedBytes: bastionBytes)
    precondition(bastionDecoded == bastion, "\(schema): Bastion round trip")
    precondition(swiftProtobufDecoded == swiftProtobuf, "\(schema): SwiftProtobuf round trip")
    checksums[schema] = (bastionBytes.count, fnv1a(bastionBytes), fnv1a(swiftProtobufBytes))

    var encode = Row(schema: schema, op: "encode")
    if selected(schema, "encode", "bastion") {
        encode.bastion = measure { bastion.serializedBytes().count }
    }
    if selected(schema, "encode", "swiftprotobuf") {
        encode.swiftProtobuf = try measure { try (swiftProtobuf.serializedBytes() as [UInt8]).count }
    }
    var decode = Row(schema: schema, op: "decode")
    if selected(schema, "decode", "bastion") {
        decode.bastion = try measure { try B(serializedBytes: bastionBytes).unknownFields.bytes.count &+ 1 }
    }
    if selected(schema, "decode", "swiftprotobuf") {
        decode.swiftProtobuf = try measure { try S(serializedBytes: bastionBytes).unknownFields.data.count &+ 1 }
    }
    rows.append(encode)
    rows.append(decode)
}

// MARK: Messages (same content on both sides)

typealias BSmall = BastionPeers.Bastion_Bench_V1_Small
typealias SSmall = SwiftProtobufPeers.Bastion_Bench_V1_Small

func bastionSmall(_ data: SmallData) -> BSmall {
    var message = BSmall()
    message.id = data.id
    message.timestamp = data.timestamp
    message.active = data.active
    message.score = data.score
    message.name = data.name
    message.flags = data.flags
    return message
}

func swiftProtobufSmall(_ data: SmallData) -> SSmall {
    var message = SSmall()
    message.id = data.id
    message.timestamp = data.timestamp
    message.active = data.active
    message.score = data.score
    message.name = data.name
    message.flags = data.flags
    return message
}

func bastionNested(_ data: NestedData) -> BastionPeers.Bastion_Bench_V1_Nested {
    var message = BastionPeers.Bastion_Bench_V1_Nested()
    message.id = data.id
    message.kind = .user
    var address = BastionPeers.Bastion_Bench_V1_Address()
    address.street = data.street
    address.city = data.city
    address.country = data.country
    address.postalCode = data.postalCode
    message.address = address
    message.items = data.items.map { item in
        var out = BastionPeers.Bastion_Bench_V1_Item()
        out.id = item.id
        out.title = item.title
        out.tags = item.tags
        out.price = item.price
        out.quantity = item.quantity
        out.attributes = item.attributes.map { attribute in
            var out = BastionPeers.Bastion_Bench_V1_Attribute()
            out.key = attribute.key
            out.value = attribute.value
            return out
        }
        return out
    }
    message.scores = data.scores
    message.checksum = data.checksum
    message.header = bastionSmall(data.header)
    return message
}

func swiftProtobufNested(_ data: NestedData) -> SwiftProtobufPeers.Bastion_Bench_V1_Nested {
    var message = SwiftProtobufPeers.Bastion_Bench_V1_Nested()
    message.id = data.id
    message.kind = .user
    var address = SwiftProtobufPeers.Bastion_Bench_V1_Address()
    address.street = data.street
    address.city = data.city
    address.country = data.country
    address.postalCode = data.postalCode
    message.address = address
    message.items = data.items.map { item in
        var out = SwiftProtobufPeers.Bastion_Bench_V1_Item()
        out.id = item.id
        out.title = item.title
        out.tags = item.tags
        out.price = item.price
        out.quantity = item.quantity
        out.attributes = item.attributes.map { attribute in
            var out = SwiftProtobufPeers.Bastion_Bench_V1_Attribute()
            out.key = attribute.key
            out.value = attribute.value
            return out
        }
        return out
    }
    message.scores = data.scores
    message.checksum = Data(data.checksum)
    message.header = swiftProtobufSmall(data.header)
    return message
}

func bastionLarge(_ data: LargeData) -> BastionPeers.Bastion_Bench_V1_Large {
    var message = BastionPeers.Bastion_Bench_V1_Large()
    message.ids = data.ids
    message.deltas = data.deltas
    message.values = data.values
    message.counters = data.counters
    message.labels = data.labels
    message.records = data.records.map(bastionSmall)
    return message
}

func swiftProtobufLarge(_ data: LargeData) -> SwiftProtobufPeers.Bastion_Bench_V1_Large {
    var message = SwiftProtobufPeers.Bastion_Bench_V1_Large()
    message.ids = data.ids
    message.deltas = data.deltas
    message.values = data.values
    message.counters = data.counters
    message.labels = data.labels
    message.records = data.records.map(swiftProtobufSmall)
    return message
}

// MARK: Run

var smallRNG = SplitMix64(seed: 1)
let small = SmallData.make(&smallRNG)
let nested = NestedData.make()
let large = LargeData.make()

try bench("small", bastion: bastionSmall(small), swiftProtobuf: swiftProtobufSmall(small))
try bench("nested", bastion: bastionNested(nested), swiftProtobuf: swiftProtobufNested(nested))
try bench("large", bastion: bastionLarge(large), swiftProtobuf: swiftProtobufLarge(large))

// C++ libprotobuf: its program prints `schema op ns/op size checksum` lines for the same content.
// With `--only`, C++ runs the same schema or cell unless a library other than C++ was named.
let cppOnly: String? = {
    guard let only else { return "" }
    let parts = only.split(separator: "/").map(String.init)
    guard parts.count < 3 || parts[2] == "cpp" || parts[2] == "*" else { return nil }
    guard !parts.prefix(2).contains("*") else { return parts.first == "*" ? "" : parts[0] }
    return parts.prefix(2).joined(separator: "/")
}()
if let cppPath, let cppOnly, fixedIterations == nil {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cppPath)
    process.arguments = [String(samples), String(sampleMilliseconds), cppOnly, cpuTime ? "cpu" : "wall"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    for line in output.split(separator: "\n") {
        let fields = line.split(separator: " ").map(String.init)
        guard fields.count == 5, let ns = Double(fields[2]), let checksum = UInt64(fields[4], radix: 16) else {
            continue
        }
        if let expected = checksums[fields[0]], expected.bastion != checksum || expected.size != Int(fields[3]) {
            print("warning: C++ \(fields[0]) encodes \(fields[3]) bytes, checksum \(fields[4]): not the same content")
        }
        if let index = rows.firstIndex(where: { $0.schema == fields[0] && $0.op == fields[1] }) {
            rows[index].cpp = ns
        }
    }
}

// MARK: Report

func format(_ value: Double?, digits: Int = 0) -> String {
    guard let value else { return "-" }
    return String(format: "%.\(digits)f", value)
}

for (schema, checksum) in checksums.sorted(by: { $0.value.size < $1.value.size }) {
    print("\(schema): \(checksum.size) bytes encoded, fnv1a \(String(checksum.bastion, radix: 16))")
}
print("")
print(cpuTime ? "Thread CPU time per operation (--cpu)" : "Wall-clock time per operation")
print("")
print("| schema | op | Bastion ns/op | SwiftProtobuf ns/op | SwiftProtobuf/Bastion | C++ ns/op | Bastion/C++ |")
print("|---|---|---:|---:|---:|---:|---:|")
for row in rows {
    let ratio = row.bastion.flatMap { b in row.swiftProtobuf.map { $0 / b } }
    let cppRatio = row.bastion.flatMap { b in row.cpp.map { b / $0 } }
    print(
        "| \(row.schema) | \(row.op) | \(format(row.bastion)) | \(format(row.swiftProtobuf)) | "
            + "\(format(ratio, digits: 2))x | \(format(row.cpp)) | \(format(cppRatio, digits: 2))x |"
    )
}
if sink == 42 { print("") }  // keeps the results observable
