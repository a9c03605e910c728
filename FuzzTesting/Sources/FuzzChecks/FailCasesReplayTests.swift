// Compiled only by the root package's BastionFuzzReplayTests (FuzzTesting/Package.swift excludes
// this file from the fuzz targets' library).
import Foundation
import Testing

/// Replays every saved input of the fuzz targets whose checks live in this folder, the committed
/// seeds (`FuzzTesting/Corpus/<target>`) and the failures found (`FuzzTesting/FailCases/<target>`),
/// through the same check the fuzzer runs, without libFuzzer or a sanitizer build. A check that
/// throws is a finding come back; a trap crashes the test run, which fails it too.
@Suite struct FailCasesReplayTests {
    static let targets = ["FuzzFrames", "FuzzSessionTokens", "FuzzSigningRequests", "FuzzPolicyInputs"]

    /// The check a target runs on each input.
    static func check(_ target: some StringProtocol, _ input: [UInt8]) throws(FuzzFinding) {
        switch String(target) {
        case "FuzzFrames": try FrameChecks.run(input)
        case "FuzzSessionTokens": try TokenChecks.run(input)
        case "FuzzSigningRequests": try SigningRequestChecks.run(input)
        case "FuzzPolicyInputs": try PolicyInputChecks.run(input)
        default: throw FuzzFinding("no check for \(target)")
        }
    }

    static let fuzzTesting = URL(filePath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `target/folder/name` of every saved input; a FailCases folder may be absent.
    static func savedInputs() -> [String] {
        var paths: [String] = []
        for target in targets {
            for folder in ["Corpus", "FailCases"] {
                let directory = fuzzTesting.appending(path: "\(folder)/\(target)")
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
                paths += names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { "\(folder)/\(target)/\($0)" }
            }
        }
        return paths
    }

    @Test(arguments: targets)
    func everyTargetHasSeeds(target: String) {
        #expect(Self.savedInputs().contains { $0.hasPrefix("Corpus/\(target)/") }, "no seeds for \(target) under \(Self.fuzzTesting.path)")
    }

    @Test(arguments: savedInputs())
    func savedInputPassesItsCheck(path: String) throws {
        let target = path.split(separator: "/")[1]
        let bytes = try [UInt8](Data(contentsOf: Self.fuzzTesting.appending(path: path)))
        do {
            try Self.check(target, bytes)
        } catch {
            Issue.record("\(path): \(error)")
        }
    }
}
