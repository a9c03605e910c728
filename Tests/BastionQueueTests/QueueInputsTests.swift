import Foundation
import Testing

@_spi(Fuzzing) import BastionQueue

/// What FuzzQueueRequests checks, on its seeds, its saved failures, mutations of the seeds and
/// random bytes, in every `swift test`.
@Suite struct QueueInputsTests {
    static let fuzzing = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting")

    @Test func fuzzTargetInvariantsHoldOnSeedsMutationsAndRandomBytes() throws {
        var seeds: [[UInt8]] = []
        for folder in ["Corpus/FuzzQueueRequests", "FailCases/FuzzQueueRequests"] {
            let url = Self.fuzzing.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] {
                seeds.append(Array(try Data(contentsOf: url.appendingPathComponent(name))))
            }
        }
        #expect(seeds.count >= 8)
        var generator = SystemRandomNumberGenerator()
        var inputs = seeds
        for seed in seeds where !seed.isEmpty {
            for _ in 0..<200 {
                var mutated = seed
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: mutated[Int.random(in: 0..<mutated.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                case 1: mutated.removeLast(Int.random(in: 1...mutated.count, using: &generator))
                case 2: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...mutated.count, using: &generator))
                default: mutated += seed
                }
                inputs.append(mutated)
            }
        }
        for _ in 0..<500 { inputs.append((0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        for input in inputs { QueueInputs.check(input) }
    }
}
