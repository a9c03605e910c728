import BastionTLS
import Foundation

/// Certificates made at test time, in a fresh temporary directory (none are committed).
struct TestCertificates {
    let files: DevelopmentCertificates.Files

    init() throws {
        let directory = try TemporaryDirectory.make()
        self.files = try DevelopmentCertificates.generate(directory: directory)
    }

    func serverConfiguration() -> TLSConfiguration {
        .server(certificateChain: .file(self.files.serverCertificate), privateKey: .file(self.files.serverPrivateKey))
    }

    func clientConfiguration() -> TLSConfiguration {
        .client(trustRoots: .file(self.files.caCertificate))
    }

    func clientConfigurationWithCertificate() -> TLSConfiguration {
        var configuration = self.clientConfiguration()
        configuration.certificateChain = .file(self.files.clientCertificate)
        configuration.privateKey = .file(self.files.clientPrivateKey)
        return configuration
    }

    func mutualServerConfiguration(_ authentication: TLSClientAuthentication = .required) -> TLSConfiguration {
        var configuration = self.serverConfiguration()
        configuration.clientAuthentication = authentication
        configuration.trustRoots = .file(self.files.caCertificate)
        return configuration
    }
}

enum TemporaryDirectory {
    static func make() throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("bastion-tls-tests")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let directory = base.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.path
    }
}

/// Waits until `condition` holds, checking every 10 ms, for at most `seconds`.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

enum PEMFile {
    static func read(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
