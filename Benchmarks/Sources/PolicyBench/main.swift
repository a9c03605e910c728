// The cost per call of the policy engine (issue 5: under 10 µs with every check on), measured on
// the engine alone: the same call — a fresh ServerContext, the request phase, a trivial handler —
// with no policy and with a policy that switches every per-call check on.
//
//     swift run -c release --package-path Benchmarks PolicyBench [--calls N] [--samples N]
//
// "every check" = operator switch, in-flight cap, rate limits keyed by address, principal and a
// request field, a client certificate, a size bound, a sealed envelope, ownership of a resource,
// a second factor (a verifier that accepts at once), proof of work (difficulty 1, solutions made
// beforehand; each is accepted once). The audit log is measured apart, because its cost is a
// durable LMDB commit shared by the calls that wait together (group commit): 1 caller and 64.
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import Foundation
import Logging

let (calls, samples) = {
    var calls = 200_000
    var samples = 5
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--calls": calls = Int(arguments.next() ?? "") ?? calls
        case "--samples": samples = Int(arguments.next() ?? "") ?? samples
        default:
            print("usage: PolicyBench [--calls N] [--samples N]")
            exit(2)
        }
    }
    return (calls, samples)
}()

struct AcceptingSecondFactor: PolicyEngine.SecondFactorVerifier {
    func challenge(for operation: PolicyEngine.BoundOperation, principal: RPCPrincipal?, context: ServerContext) async throws(RPCError) -> String { "c" }
    func redeem(token: String, for operation: PolicyEngine.BoundOperation, principal: RPCPrincipal?, context: ServerContext) async throws(RPCError) {}
}

func everyCheck(audit: Bool) -> Bastion_Policy_V1_MethodPolicy {
    var policy = Bastion_Policy_V1_MethodPolicy()
    policy.authentication = .init { $0.statement = "s"; $0.caller = .localClient; $0.secondFactor = true }
    policy.integrity = .init { $0.statement = "s"; $0.checks = [.init { $0.kind = .maxRequestBytes(4096) }] }
    policy.confidentiality = .init { $0.statement = "s"; $0.checks = [.init { $0.kind = .sealedEnvelopeField("envelope") }] }
    policy.availability = .init { $0.statement = "s"; $0.operatorCanDisable = true; $0.maxInFlight = 1_000 }
    policy.authorization = .init { $0.statement = "s"; $0.ownedResourceField = "owner" }
    policy.nonRepudiation = audit ? .init { $0.statement = "s"; $0.auditLog = true } : .init { $0.statement = "s"; $0.notARisk = true }
    policy.spamPrevention = .init {
        $0.statement = "s"
        $0.rateLimits = [
            .init { $0.key = .peerAddress; $0.limit = .max; $0.periodSeconds = 3600 },
            .init { $0.key = .principal; $0.limit = .max; $0.periodSeconds = 3600 },
            .init { $0.key = .requestField; $0.field = "owner"; $0.limit = .max; $0.periodSeconds = 3600 },
        ]
        $0.proofOfWork = .init { $0.defaultDifficulty = 1 }
    }
    return policy
}

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-bench-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: folder) }
let logger = Logger(label: "policy-bench")
let store = try Store(path: folder, logger: logger)
let engine = try PolicyEngine(store: store, secondFactor: AcceptingSecondFactor(), logger: logger)

let certificate = RPCPeer.Certificate(
    subject: "CN=alice", issuer: "CN=Bastion CA", commonName: "alice",
    fingerprint: String(repeating: "ab", count: 32), derBytes: []
)
let peer = RPCPeer(address: "ipv4:127.0.0.1:50000", ipAddress: "127.0.0.1", certificate: certificate)
var envelope = RPCSealedEnvelope()
envelope.version = 1
envelope.recipientKeyId = [1, 2, 3, 4]
envelope.ephemeralPublicKey = Array(repeating: 7, count: 32)
envelope.ciphertext = Array(repeating: 9, count: 64)
// A stand-in request: the fields the policy names, and bytes to hash.
let requestBytes = Array(repeating: UInt8(0x5A), count: 120)
let fields: [String: RequestFieldValue] = ["owner": .string("alice"), "envelope": .sealedEnvelope(envelope)]

let plain = MethodDescriptor(service: "bench.v1.Bench", method: "Plain", kind: .unary)
let checked = MethodDescriptor(service: "bench.v1.Bench", method: "Checked", kind: .unary, policy: everyCheck(audit: false))
let audited = MethodDescriptor(service: "bench.v1.Bench", method: "Audited", kind: .unary, policy: everyCheck(audit: true))

/// Metadata for each call: a second-factor token and a proof of work of its own.
func metadataForCalls(_ count: Int, method: MethodDescriptor, sample: Int) throws -> [Metadata] {
    let now = Int64(Date().timeIntervalSince1970)
    var result: [Metadata] = []
    result.reserveCapacity(count)
    for index in 0..<count {
        var metadata = Metadata()
        try metadata.add(PolicyEngine.secondFactorMetadataKey, "token")
        // Nonces far apart, so that every call gets a solution of its own.
        let firstNonce = UInt64(sample) << 40 | UInt64(index) << 8
        let proof = ProofOfWork.solve(difficulty: 1, method: method.path, request: requestBytes, timestamp: now, firstNonce: firstNonce)
        try metadata.add(ProofOfWork.metadataKey, proof.metadataValue)
        result.append(metadata)
    }
    return result
}

/// One call as the router runs it: intercept around (inspect, then the handler).
@inline(__always)
func call(_ method: MethodDescriptor, metadata: Metadata) async throws {
    let context = ServerContext(method: method, requestMetadata: metadata, deadline: nil, peer: peer)
    try await engine.intercept(context: context) {
        try await engine.inspect(RequestView(phase: .onlyRequest, bytes: requestBytes, fields: fields), context: context)
    }
}

/// CPU time of the whole process, in nanoseconds: unlike wall time, it does not grow when other
/// programs share the cores (this machine is shared), though caches still suffer.
func processCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

/// Median wall-clock and CPU nanoseconds per call.
func measure(_ name: String, method: MethodDescriptor, count: Int, concurrency: Int = 1) async throws -> (wall: Double, cpu: Double) {
    var results: [Double] = []
    var cpuResults: [Double] = []
    for sample in 0..<samples {
        // Each sample needs fresh proofs: an accepted solution is refused the second time.
        let metadata = method.policy == nil
            ? Array(repeating: Metadata(), count: count)
            : try metadataForCalls(count, method: method, sample: sample)
        let start = ContinuousClock.now
        let cpuStart = processCPUNanoseconds()
        if concurrency == 1 {
            for index in 0..<count { try await call(method, metadata: metadata[index]) }
        } else {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var index = worker
                        while index < count {
                            try await call(method, metadata: metadata[index])
                            index += concurrency
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let elapsed = ContinuousClock.now - start
        cpuResults.append(processCPUNanoseconds() - cpuStart)
        results.append(Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
    }
    let wall = results.sorted()[results.count / 2] / Double(count)
    let cpu = cpuResults.sorted()[cpuResults.count / 2] / Double(count)
    let label = name.padding(toLength: 40, withPad: " ", startingAt: 0)
    print("| \(label) | \(String(format: "%10.0f", wall)) | \(String(format: "%10.0f", cpu)) |")
    return (wall, cpu)
}

print("PolicyBench: \(samples) samples of \(calls) calls, medians (\(ProcessInfo.processInfo.activeProcessorCount) cores)\n")
print("| call | wall ns/call | CPU ns/call |")
print("|---|---:|---:|")
let none = try await measure("no policy", method: plain, count: calls)
let all = try await measure("every per-call check", method: checked, count: calls)
let auditCalls = max(calls / 100, 200)
let auditedOne = try await measure("every check + audit log, 1 caller", method: audited, count: auditCalls)
let auditedMany = try await measure("every check + audit log, 64 callers", method: audited, count: auditCalls * 4, concurrency: 64)
print(String(format: "\npipeline cost: %.2f µs per call wall, %.2f µs CPU", (all.wall - none.wall) / 1000, (all.cpu - none.cpu) / 1000))
print(String(format: "with the audit log: %.0f µs per call for 1 caller, %.0f µs with 64 callers (wall; durable commits)", (auditedOne.wall - none.wall) / 1000, (auditedMany.wall - none.wall) / 1000))
try await store.close()
