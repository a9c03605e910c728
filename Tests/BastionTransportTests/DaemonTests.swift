import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation
import Testing

/// The `bastiond` executable as a user runs it: development defaults, SIGTERM drains.
@Suite struct DaemonTests {
    static var binaries: URL {
        get throws {
            URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).deletingLastPathComponent()
        }
    }

    /// Starts `bastiond --dev` in a fresh folder; returns the process, its port and the folder.
    static func startDaemon(_ extra: [String] = []) async throws -> (Process, Int, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bastiond-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = try binaries.appendingPathComponent("bastiond")
        process.currentDirectoryURL = folder
        process.arguments = ["--dev", "--port", "0", "--port-file", "port", "--log-level", "warning"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let portFile = folder.appendingPathComponent("port")
        for _ in 0..<400 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return (process, port, folder)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw RPCError(code: .unavailable, message: "bastiond did not start")
    }

    static func client(port: Int, folder: URL) async throws -> BastionClientConnection {
        let configuration = TLSConfiguration.client(trustRoots: .file(folder.appendingPathComponent("data/dev-certs/ca.pem").path))
        return try await BastionClientConnection.connect(
            host: "127.0.0.1", port: port, security: .tls(try TLSContext(configuration: configuration), serverHostname: "localhost")
        )
    }

    @Test func sigtermDrainsCallsInFlightAndRefusesNewOnes() async throws {
        let (process, port, folder) = try await Self.startDaemon()
        defer { try? FileManager.default.removeItem(at: folder) }
        let connection = try await Self.client(port: port, folder: folder)
        let echo = Bastion_Echo_V1_EchoClient(transport: connection)
        #expect(try await echo.get(EchoRequest { $0.text = "up" }).message.text == "up")

        // A call the server has certainly accepted: its first answer has come back before SIGTERM.
        let texts = try await echo.update(requests: { writer in
            try await writer.write(EchoRequest { $0.text = "first" })
            try await Task.sleep(for: .milliseconds(300))  // the drain starts meanwhile
            try await writer.write(EchoRequest { $0.text = "second"; $0.delayMillis = 200 })
        }, responses: { responses in
            var texts: [String] = []
            for try await response in responses {
                texts.append(response.text)
                if texts.count == 1 {
                    kill(process.processIdentifier, SIGTERM)
                    let refusal = await firstRefusal(echo)
                    #expect(refusal?.code == .unavailable, "\(String(describing: refusal))")
                }
            }
            return texts
        })
        #expect(texts == ["first", "second"])
        await #expect(throws: (any Error).self) { _ = try await Self.client(port: port, folder: folder) }

        // Up to a minute: the grace period is 10 s, and a loaded machine adds to it.
        for _ in 0..<1200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        await connection.close()
    }

    @Test func sighupReloadsTheCertificate() async throws {
        let (process, port, folder) = try await Self.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let old = try await Self.client(port: port, folder: folder)
        // A new CA and server certificate replace the files; the server still presents the old
        // one until it is told to reload.
        try DevelopmentCertificates.generate(directory: folder.appendingPathComponent("data/dev-certs").path)
        await #expect(throws: (any Error).self) { _ = try await Self.client(port: port, folder: folder) }
        kill(process.processIdentifier, SIGHUP)
        var reloaded = false
        for _ in 0..<100 where !reloaded {
            if let connection = try? await Self.client(port: port, folder: folder) {
                reloaded = true
                await connection.close()
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(reloaded)
        // The connection made before the reload keeps working.
        #expect(try await Bastion_Echo_V1_EchoClient(transport: old).get(EchoRequest { $0.text = "old" }).message.text == "old")
        await old.close()
    }

    @Test func healthCommandReportsServing() async throws {
        let (process, port, folder) = try await Self.startDaemon()
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let cli = Process()
        cli.executableURL = try Self.binaries.appendingPathComponent("bastion")
        cli.currentDirectoryURL = folder
        cli.arguments = ["health", "--port", "\(port)"]
        let pipe = Pipe()
        cli.standardOutput = pipe
        try cli.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cli.waitUntilExit()
        #expect(cli.terminationStatus == 0, "\(output)")
        #expect(output.contains("serving"), "\(output)")
    }

    @Test func refusesTLSWithoutACertificate() async throws {
        let process = Process()
        process.executableURL = try Self.binaries.appendingPathComponent("bastiond")
        process.arguments = ["--port", "0"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(output.contains("TLS needs --cert and --key"), "\(output)")
    }
}
