import BastionTestSupport
import BastionTLS
import BastionTransport
import Foundation
import Testing

/// The Python client package's own test suite, its real-server tests included, against this
/// server over TLS: the Python `protobuf` package and Python's `ssl` on one side, our transport
/// on the other.
@Suite struct PythonClientTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tools/clients/python")

    @Test func pythonClientSuiteAgainstTheServer() async throws {
        try await withEchoServer { _, port, _ in
            var environment = ProcessInfo.processInfo.environment
            environment["BASTION_SERVER"] = "127.0.0.1:\(port)"
            environment["BASTION_CA_FILE"] = TestCertificates.files.caCertificate
            environment["PYTHONPATH"] = Self.package.path
            // The auth and second-factor flows need bastiond with the auth service: PythonAuthTests and
            // PasskeyFlowTests run them.
            let (status, output) = try await runProgram(
                URL(fileURLWithPath: "/usr/bin/env"),
                [
                    "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", Self.package.appendingPathComponent("tests").path,
                    "--ignore", Self.package.appendingPathComponent("tests/test_auth_server.py").path,
                    "--ignore", Self.package.appendingPathComponent("tests/test_two_factor_server.py").path,
                    "--ignore", Self.package.appendingPathComponent("tests/test_passkeys_server.py").path,
                    "--ignore", Self.package.appendingPathComponent("tests/test_queue_server.py").path,
                ],
                environment: environment
            )
            #expect(status == 0, "pytest failed (needs python3 with pytest and protobuf==4.21.12):\n\(output)")
            #expect(output.contains(" passed"), "\(output)")
            #expect(!output.contains("skipped"), "the real-server tests must run, not skip:\n\(output)")
        }
    }
}
