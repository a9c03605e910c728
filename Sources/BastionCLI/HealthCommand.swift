import ArgumentParser
import BastionBuiltinServices
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation

/// `bastion health`: asks a server whether it serves.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a server whether it is serving."
    )

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let transport = try await connection.connect()
        defer { Task { await transport.close() } }
        do {
            let response = try await Bastion_Health_V1_HealthClient(transport: transport)
                .check(Bastion_Health_V1_CheckRequest(), options: CallOptions(timeout: .seconds(connection.timeout)))
            print("\(connection.host):\(connection.port): \(response.message.status) (\(response.message.version))")
            if response.message.status != .serving { throw ExitCode(1) }
        } catch let error as RPCError {
            print("\(connection.host):\(connection.port): \(error)")
            throw ExitCode(2)
        }
    }
}

/// How the CLI reaches a server; shared by the commands that call one.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The server's address.")
    var host = "127.0.0.1"

    @Option(help: "The server's port.")
    var port = 7443

    @Option(help: "CA certificate(s) to verify the server with (PEM). (default: data/dev-certs/ca.pem if present, else the system's)")
    var ca: String?

    @Option(help: "A client certificate (PEM), for servers that require mutual TLS.")
    var cert: String?

    @Option(help: "The client certificate's private key (PEM).")
    var key: String?

    @Option(help: "The name to verify in the server's certificate. (default: localhost for loopback addresses, else --host)")
    var serverName: String?

    @Flag(help: "Connect without TLS (loopback only).")
    var plaintext = false

    @Option(help: "Seconds to wait for an answer.")
    var timeout = 5

    func connect() async throws -> BastionClientConnection {
        if plaintext {
            return try await BastionClientConnection.connect(host: host, port: port, security: .plaintext)
        }
        return try await Self.connectOverTLS(host: host, port: port, ca: ca, cert: cert, key: key, serverName: serverName)
    }
}

extension ConnectionOptions {
    /// A TLS connection as every command makes it: the server verified against `ca` (default
    /// ./data/dev-certs/ca.pem if present, else the system's roots) under `serverName` (default
    /// localhost for loopback addresses), with a client certificate when one is given.
    static func connectOverTLS(
        host: String,
        port: Int,
        ca: String?,
        cert: String?,
        key: String?,
        serverName: String?
    ) async throws -> BastionClientConnection {
        let defaultCA = "data/dev-certs/ca.pem"
        let trust: TLSTrustRoots
        if let ca {
            trust = .file(ca)
        } else if FileManager.default.fileExists(atPath: defaultCA) {
            trust = .file(defaultCA)
        } else {
            trust = .system
        }
        var configuration = TLSConfiguration.client(trustRoots: trust)
        if let cert, let key {
            configuration.certificateChain = .file(cert)
            configuration.privateKey = .file(key)
        }
        let name = serverName ?? (Loopback.contains(host) ? "localhost" : host)
        return try await BastionClientConnection.connect(
            host: host, port: port, security: .tls(try TLSContext(configuration: configuration), serverHostname: name)
        )
    }
}
