import BastionTestSupport
import Foundation
import Testing

/// Passkeys end to end (Tools/clients/python/tests/test_passkeys_server.py): the Python client
/// with a software authenticator built on `fido2` registers passkeys with a real `bastiond --dev`
/// over TLS, proves second factors with them, and is refused for a wrong origin, a wrong RP ID, a
/// reused challenge, an expired challenge, a lowered counter and a missing UP flag. A second
/// daemon with `--webauthn-challenge-lifetime 3` serves the expiry test.
@Suite struct PasskeyFlowTests {
    @Test func pythonPasskeysAgainstBastiond() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let (short, shortPort, shortFolder) = try await DaemonTests.startDaemon(["--webauthn-challenge-lifetime", "3"])
        defer {
            short.terminate()
            try? FileManager.default.removeItem(at: shortFolder)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["BASTION_AUTH_SERVER"] = "127.0.0.1:\(port)"
        environment["BASTION_AUTH_CA_FILE"] = folder.appendingPathComponent("data/dev-certs/ca.pem").path
        environment["BASTION_PASSKEY_SHORT_SERVER"] = "127.0.0.1:\(shortPort)"
        environment["BASTION_PASSKEY_SHORT_CA_FILE"] = shortFolder.appendingPathComponent("data/dev-certs/ca.pem").path
        environment["BASTION_AUTH_SERVER_HOSTNAME"] = "localhost"
        environment["PYTHONPATH"] = PythonClientTests.package.path
        let (status, output) = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                PythonAuthTests.tests.appendingPathComponent("test_passkeys_server.py").path,
            ],
            environment: environment
        )
        #expect(
            status == 0,
            "pytest failed (needs python3 with pytest, protobuf==4.21.12, cryptography and fido2==2.2.1; Tools/setup.sh):\n\(output)"
        )
        #expect(output.contains(" passed"), "\(output)")
        #expect(!output.contains("skipped"), "the passkey tests must run, not skip:\n\(output)")
    }
}
