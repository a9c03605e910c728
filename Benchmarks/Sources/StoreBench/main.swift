// Get and put of 16-byte keys and 100-byte values through BastionStore's typed tables and
// transactions, against the same loops in C over liblmdb (c/store_bench.c, built by c/build.sh).
//
//     swift run -c release --package-path Benchmarks StoreBench [--rows N] [--samples N]
//         [--durability full|nometasync|nosync] [--only CELL] [--c PATH | --no-c] [--dir DIR]
//         [--threads N]
//
// Cells: put and get, keys in sequential or random order, 1,000 operations per transaction
// (`batch`) or one per transaction (`single`: 2,000 puts, or 20,000 gets over 2,000 rows). Puts overwrite the rows the
// first pass stored. Each cell: a warm-up run, then `samples` runs; the median ns/op is reported.
// Both sides open the environment with BastionStore's flags; `--durability` picks its sync mode.
// Below the table: C's one-get loop with mdb_txn_reset/mdb_txn_renew instead of begin/abort, the
// leanest C can do and what BastionStore's engine does with the read transactions it keeps.
// `--threads N` runs each get cell on N threads at once (each its own loop over the same rows)
// and reports the CPU time and the wall-clock time per get over all of them; C is not run then.
import BastionStore
import Foundation
import Logging

// MARK: Options

var rows = 100_000
var samples = 5
var durabilityName = "nosync"
var threads = 1
var only: String?
var directory = NSTemporaryDirectory() + "bastion-store-bench-\(getpid())"
var cPath: String? = {
    // Benchmarks/Sources/StoreBench/main.swift -> Benchmarks/c/.build/store_bench
    let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let path = packageDirectory.appendingPathComponent("c/.build/store_bench").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--rows": rows = Int(arguments.next() ?? "") ?? rows
    case "--samples": samples = Int(arguments.next() ?? "") ?? samples
    case "--durability": durabilityName = arguments.next() ?? durabilityName
    case "--only": only = arguments.next()
    case "--dir": directory = arguments.next() ?? directory
    case "--c": cPath = arguments.next()
    case "--no-c": cPath = nil
    case "--threads": threads = max(1, Int(arguments.next() ?? "") ?? threads)
    default:
        print(
            "usage: StoreBench [--rows N] [--samples N] [--durability full|nometasync|nosync] [--only CELL]"
                + " [--c PATH | --no-c] [--dir DIR] [--threads N]"
        )
        exit(2)
    }
}
let durability: LMDBConfiguration.Durability
switch durabilityName {
case "full": durability = .full
case "nometasync": durability = .noMetaSync
case "nosync": durability = .noSync
default:
    print("unknown durability \(durabilityName)")
    exit(2)
}

// MARK: Rows (the same as c/store_bench.c)

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Key i: 8 zero bytes then i big-endian, so key order is row order. Like the C loop, each
/// operation makes its key on the stack (`withStoreKeyBytes`), so neither side reads a key from
/// memory. (Until 2026-11-22 12:30 the keys were 100,000 `[UInt8]`s made beforehand; a random
/// get then paid a cache miss for its key array that C did not.)
struct RowKey: StoreKey {
    var row: UInt64

    init(_ row: Int) {
        self.row = UInt64(row)
    }

    @inline(__always)
    func withStoreKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var bytes = (UInt64(0), self.row.bigEndian)
        return try withUnsafeBytes(of: &bytes, body)
    }

    func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        withStoreKeyBytes { bytes.append(contentsOf: $0) }
    }

    init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        let raw = try reader.read(count: 16)
        self.row = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }
}

func value(_ i: Int) -> [UInt8] {
    var rng = SplitMix64(state: UInt64(i))
    var bytes: [UInt8] = []
    bytes.reserveCapacity(104)
    while bytes.count < 100 {
        let word = rng.next()
        for k in 0..<8 where bytes.count < 100 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(k)))) }
    }
    return bytes
}

let values = (0..<rows).map(value)
var randomOrder = Array(0..<rows)
var shuffle = SplitMix64(state: 42)
for i in stride(from: rows - 1, to: 0, by: -1) {
    let j = Int(shuffle.next() % UInt64(i + 1))
    randomOrder.swapAt(i, j)
}

// MARK: Cells

let batch = 1_000
/// One-per-transaction cells work on the first 2,000 rows of the random order, as in
/// c/store_bench.c: 2,000 puts, or 20,000 gets, ten rounds over them (one round, about 1 ms, moved
/// by 30% with any other load on the machine).
let singleRows = 2_000
let singlePuts = 2_000
let singleGets = 20_000
nonisolated(unsafe) var sink = 0
let table = Table<RowKey, [UInt8]>("bench")
/// Where borrowed gets copy each value, as the C loop copies it into a stack buffer.
let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)

var logger = Logger(label: "StoreBench")
logger.logLevel = .warning
try? FileManager.default.removeItem(atPath: directory)
let store = try Store(path: directory, configuration: LMDBConfiguration(durability: durability), logger: logger)

func threadCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

/// Runs `body`; the one function a profiler collects in (`--toggle-collect='*profiledRun*'`, see
/// docs/PERFORMANCE.md). Filling the table first is not collected.
@inline(never)
func profiledRun(_ body: () throws -> Void) rethrows {
    try body()
}

/// One run of `cell`: wall-clock and thread CPU time, in ns per operation.
@MainActor
func run(_ cell: String, collect: Bool = true) throws -> (wall: Double, cpu: Double) {
    let isGet = cell.hasPrefix("get")
    let isRandom = cell.contains("random")
    let isSingle = cell.contains("single")
    let isBorrowed = cell.hasSuffix("borrowed")
    let isReused = cell.hasSuffix("reused")
    let operations = isSingle ? (isGet ? singleGets : singlePuts) : rows
    let span = isSingle ? singleRows : rows
    let perTransaction = isSingle ? 1 : batch
    // Locals, as the C loop's arrays are plain memory: a global `var` costs a run-time
    // exclusivity check per access.
    let randomOrder = randomOrder
    func loop() throws {
        // The array `…/reused` gets copy each value into (`txn.copyValueBytes(_:_:into:)`).
        var reusedRow: [UInt8] = []
        var start = 0
        while start < operations {
            let end = min(start + perTransaction, operations)
            if isGet {
                try store.withReadTransaction { txn in
                    if isReused {
                        for n in start..<end {
                            let i = isRandom ? randomOrder[n % span] : n
                            _ = try txn.copyValueBytes(table, RowKey(i), into: &reusedRow)
                            sink &+= Int(reusedRow[i % 100]) &+ reusedRow.count
                        }
                    } else if isBorrowed {
                        for n in start..<end {
                            let i = isRandom ? randomOrder[n % span] : n
                            sink &+= try txn.withValueBytes(table, RowKey(i)) { stored in
                                let bytes = stored!
                                scratch.copyMemory(from: bytes)
                                return Int(scratch[i % 100]) &+ bytes.count
                            }
                        }
                    } else {
                        for n in start..<end {
                            let i = isRandom ? randomOrder[n % span] : n
                            let row = try txn.get(table, RowKey(i))!
                            sink &+= Int(row[i % 100]) &+ row.count
                        }
                    }
                }
            } else {
                try store.withWriteTransactionBlocking { txn in
                    for n in start..<end {
                        let i = isRandom ? randomOrder[n % span] : n
                        try txn.put(table, RowKey(i), values[i])
                    }
                }
            }
            start = end
        }
    }
    let clock = ContinuousClock()
    let cpuStart = threadCPUNanoseconds()
    let elapsed = try clock.measure {
        if collect { try profiledRun(loop) } else { try loop() }
    }
    let cpu = (threadCPUNanoseconds() - cpuStart) / Double(operations)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (seconds * 1e9 / Double(operations), cpu)
}

/// One run of get `cell` on `threads` threads at once, each reading the cell's rows in its own
/// loop: the threads' CPU time and the wall-clock time, in ns per get over all threads.
@MainActor
func runConcurrently(_ cell: String) throws -> (wall: Double, cpu: Double) {
    let isRandom = cell.contains("random")
    let isSingle = cell.contains("single")
    let isBorrowed = cell.hasSuffix("borrowed")
    let isReused = cell.hasSuffix("reused")
    let operations = isSingle ? singleGets : rows
    let span = isSingle ? singleRows : rows
    let perTransaction = isSingle ? 1 : batch
    let randomOrder = randomOrder
    let threads = threads
    let store = store
    let table = table
    let started = DispatchGroup()
    let finished = DispatchGroup()
    let go = DispatchSemaphore(value: 0)
    let totals = NSLock()
    nonisolated(unsafe) var cpuTotal = 0.0
    nonisolated(unsafe) var failure: (any Error)?
    for _ in 0..<threads {
        started.enter()
        finished.enter()
        Thread.detachNewThread {
            defer { finished.leave() }
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
            defer { scratch.deallocate() }
            var reusedRow: [UInt8] = []
            var local = 0
            started.leave()
            go.wait()
            let cpuStart = threadCPUNanoseconds()
            do {
                var start = 0
                while start < operations {
                    let end = min(start + perTransaction, operations)
                    try store.withReadTransaction { txn in
                        for n in start..<end {
                            let i = isRandom ? randomOrder[n % span] : n
                            if isReused {
                                _ = try txn.copyValueBytes(table, RowKey(i), into: &reusedRow)
                                local &+= Int(reusedRow[i % 100]) &+ reusedRow.count
                            } else if isBorrowed {
                                local &+= try txn.withValueBytes(table, RowKey(i)) { stored in
                                    let bytes = stored!
                                    scratch.copyMemory(from: bytes)
                                    return Int(scratch[i % 100]) &+ bytes.count
                                }
                            } else {
                                let row = try txn.get(table, RowKey(i))!
                                local &+= Int(row[i % 100]) &+ row.count
                            }
                        }
                    }
                    start = end
                }
            } catch {
                totals.withLock { failure = error }
            }
            let cpu = threadCPUNanoseconds() - cpuStart
            totals.withLock {
                cpuTotal += cpu
                sink &+= local
            }
        }
    }
    started.wait()
    let clock = ContinuousClock()
    let begin = clock.now
    for _ in 0..<threads { go.signal() }
    finished.wait()
    let elapsed = clock.now - begin
    if let failure { throw failure }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let gets = Double(operations * threads)
    return (seconds * 1e9 / gets, cpuTotal / gets)
}

// `get` returns an owned copy of the value (`txn.get`, a new [UInt8]), compared with the C loop
// that copies each value into a new malloc'd buffer and frees it (`…/owned` in C); `…/borrowed`
// reads the value in place (`txn.withValueBytes`) and copies it to a scratch buffer, and
// `…/reused` copies it into one array kept across reads (`txn.copyValueBytes(_:_:into:)`):
// both are compared with the C loop that copies each value into a stack buffer.
let cells = [
    "put/sequential/batch", "put/random/batch", "put/random/single",
    "get/sequential/batch", "get/random/batch", "get/random/single",
    "get/sequential/batch/borrowed", "get/random/batch/borrowed", "get/random/single/borrowed",
    "get/sequential/batch/reused", "get/random/batch/reused", "get/random/single/reused",
]
_ = try run("put/sequential/batch", collect: false)  // fills the table
struct Result {
    var swift: (wall: Double, cpu: Double)?
    var c: (wall: Double, cpu: Double)?
}
var results: [String: Result] = [:]
/// C's one-get loop that resets and renews its read transaction, as the engine does, instead of
/// beginning and aborting one (`get/random/single/renew` in c/store_bench.c).
var cRenew: (wall: Double, cpu: Double)?
for cell in cells where only == nil || only == cell {
    if threads > 1 && !cell.hasPrefix("get") { continue }
    let measure = { threads > 1 ? try runConcurrently(cell) : try run(cell) }
    _ = try measure()  // warm-up
    let times = try (0..<samples).map { _ in try measure() }
    let wall = times.map(\.wall).sorted()
    let cpu = times.map(\.cpu).sorted()
    results[cell, default: Result()].swift = (wall[wall.count / 2], cpu[cpu.count / 2])
}
try await store.close()
try? FileManager.default.removeItem(atPath: directory)

// MARK: C over liblmdb

if let cPath, threads == 1 {
    let cDirectory = directory + "-c"
    try? FileManager.default.removeItem(atPath: cDirectory)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cPath)
    // The Swift cells' C twins: a get's owned copy against C's malloc'd copy, borrowed and reused
    // reads against C's stack copy.
    let cOnly = only.map { cell -> String in
        if cell.hasPrefix("get"), !cell.hasSuffix("/borrowed"), !cell.hasSuffix("/reused") { return cell + "/owned" }
        return cell.replacingOccurrences(of: "/borrowed", with: "").replacingOccurrences(of: "/reused", with: "")
    }
    process.arguments = [cDirectory, String(rows), String(samples), durabilityName] + (cOnly.map { [$0] } ?? [])
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try? FileManager.default.removeItem(atPath: cDirectory)
    for line in output.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count == 4, let wall = Double(fields[1]), let cpu = Double(fields[2]) else { continue }
        let cell = String(fields[0])
        if cell.hasSuffix("/renew") {
            cRenew = (wall, cpu)
        } else if cell.hasSuffix("/owned") {
            results[String(cell.dropLast("/owned".count)), default: Result()].c = (wall, cpu)
        } else if cell.hasPrefix("put") {
            results[cell, default: Result()].c = (wall, cpu)
        } else {
            results[cell + "/borrowed", default: Result()].c = (wall, cpu)
            results[cell + "/reused", default: Result()].c = (wall, cpu)
        }
    }
}

// MARK: Report

func format(_ value: Double?, digits: Int = 0) -> String {
    guard let value else { return "-" }
    return String(format: "%.\(digits)f", value)
}

print(
    "\(rows) rows, 16-byte keys, 100-byte values, durability \(durabilityName), median of \(samples)"
        + (threads > 1 ? ", gets on \(threads) threads at once (ns per get over all of them)" : "")
)
print("")
print("| op | keys | per transaction | value | Bastion ns/op | C ns/op | Bastion/C | Bastion CPU ns/op | C CPU ns/op | Bastion/C CPU |")
print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
for cell in cells {
    guard let result = results[cell], result.swift != nil else { continue }
    let parts = cell.split(separator: "/")
    let ratio = result.swift.flatMap { s in result.c.map { s.wall / $0.wall } }
    let cpuRatio = result.swift.flatMap { s in result.c.map { s.cpu / $0.cpu } }
    let per = parts[2] == "batch" ? "1,000" : "1"
    let kind = parts[0] == "put" ? "" : parts.count > 3 ? (parts[3] == "reused" ? "reused array" : "borrowed") : "owned copy"
    print(
        "| \(parts[0]) | \(parts[1]) | \(per) | \(kind) | \(format(result.swift?.wall)) | \(format(result.c?.wall)) | "
            + "\(format(ratio, digits: 2))x | \(format(result.swift?.cpu)) | \(format(result.c?.cpu)) | "
            + "\(format(cpuRatio, digits: 2))x |"
    )
}
if let cRenew {
    let borrowed = results["get/random/single/borrowed"]?.swift?.cpu
    print("")
    print(
        "C's one-get loop with mdb_txn_reset/mdb_txn_renew instead of begin/abort (as the engine does): "
            + "\(format(cRenew.wall)) ns/op, \(format(cRenew.cpu)) CPU ns/op; "
            + "Bastion borrowed one-get / that: \(format(borrowed.map { $0 / cRenew.cpu }, digits: 2))x CPU"
    )
}
if sink == 42 { print("") }
