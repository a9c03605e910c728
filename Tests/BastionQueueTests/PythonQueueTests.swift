import Foundation
import Testing
import BastionTestSupport

/// The Python client's queue flows (Tools/clients/python/tests/test_queue_server.py) against real
/// `bastiond --dev` processes, with the `bastion` CLI as the Swift client: messages exchanged over
/// TLS, every refusal, and acknowledged messages surviving a SIGKILL of the server.
@Suite struct PythonQueueTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tools/clients/python")

    static var binaries: URL {
        get throws {
            URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).deletingLastPathComponent()
        }
    }

    @Test func pythonAndCLIQueueFlowsAgainstBastiond() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["BASTION_QUEUE_BASTIOND"] = try Self.binaries.appendingPathComponent("bastiond").path
        environment["BASTION_QUEUE_CLI"] = try Self.binaries.appendingPathComponent("bastion").path
        environment["PYTHONPATH"] = Self.package.path
        let (status, output) = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                Self.package.appendingPathComponent("tests/test_queue_server.py").path,
            ],
            environment: environment
        )
        #expect(
            status == 0,
            "pytest failed (needs python3 with pytest, protobuf==4.21.12, cryptography and PyNaCl; Tools/setup.sh):\n\(output)"
        )
        #expect(output.contains("3 passed"), "\(output)")
        #expect(!output.contains("skipped"), "the queue tests must run, not skip:\n\(output)")
    }
}

