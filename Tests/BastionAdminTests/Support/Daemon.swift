import BastionAdmin
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation
import NIOPosix

/// A `bastiond --dev` process in a folder of its own, as an operator runs it; it can be stopped
/// and started again on the same folder.
final class Daemon: Sendable {
    let folder: URL
    let process: Process
    let port: Int

    static var binaries: URL {
        get throws {
            URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                .deletingLastPathComponent()
        }
    }

    var dataFolder: URL { folder.appendingPathComponent("data") }
    var adminSocket: String { dataFolder.appendingPathComponent("admin.sock").path }
    var certificates: DevelopmentCertificates.Files {
        DevelopmentCertificates.Files(directory: dataFolder.appendingPathComponent("dev-certs").path)
    }

    private init(folder: URL, process: Process, port: Int) {
        self.folder = folder
        self.process = process
        self.port = port
    }

    /// A test that fails before `stop()` leaves no server behind.
    deinit {
        if process.isRunning { process.terminate() }
    }

    /// Starts `bastiond --dev` in `folder` and waits until every listener is ready.
    static func start(in folder: URL, _ arguments: [String] = []) async throws -> Daemon {
        let portFile = folder.appendingPathComponent("port")
        try? FileManager.default.removeItem(at: portFile)
        let process = Process()
        process.executableURL = try binaries.appendingPathComponent("bastiond")
        process.currentDirectoryURL = folder
        process.arguments = ["--dev", "--port", "0", "--port-file", "port", "--log-level", "warning"] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = folder.appendingPathComponent("bastiond.log")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        for _ in 0..<1200 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return Daemon(folder: folder, process: process, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { process.terminate() }
        let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        throw RPCError(code: .unavailable, message: "bastiond did not start: \(log)")
    }

    /// SIGTERM, then waits for the process to end.
    func stop() async throws {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.interrupt() }
    }

    /// An admin client on the admin socket; closes it after `body`.
    func withAdmin<Result: Sendable>(_ body: (Bastion_Admin_V1_AdminClient) async throws -> Result) async throws
        -> Result
    {
        let connection = try await BastionClientConnection.connect(unixDomainSocketPath: adminSocket)
        do {
            let result = try await body(Bastion_Admin_V1_AdminClient(transport: connection))
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A TLS connection to the server's port, with the development client certificate or none.
    func tlsConnection(withCertificate: Bool) async throws -> BastionClientConnection {
        var configuration = TLSConfiguration.client(trustRoots: .file(certificates.caCertificate))
        if withCertificate {
            configuration.certificateChain = .file(certificates.clientCertificate)
            configuration.privateKey = .file(certificates.clientPrivateKey)
        }
        return try await BastionClientConnection.connect(
            host: "127.0.0.1",
            port: port,
            security: .tls(try TLSContext(configuration: configuration), serverHostname: "localhost")
        )
    }

    /// Runs `bastion` with `arguments` in the daemon's folder; its exit status and output.
    func bastion(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try Self.binaries.appendingPathComponent("bastion")
        process.currentDirectoryURL = folder
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        async let outputText = Self.read(output)
        async let errorText = Self.read(errors)
        let (text, errorOutput) = try await (outputText, errorText)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, text, errorOutput)
    }

    /// Reads a pipe to its end on NIO's thread pool, so a blocking read holds no task thread.
    private static func read(_ pipe: Pipe) async throws -> String {
        let handle = pipe.fileHandleForReading
        let data = try await NIOThreadPool.singleton.runIfActive { handle.readDataToEndOfFile() }
        return String(decoding: data, as: UTF8.self)
    }
}
