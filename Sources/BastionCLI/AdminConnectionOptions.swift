import ArgumentParser
import BastionAdmin
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation

/// How `bastion admin` and `bastion audit` reach a server's admin service: its local admin
/// socket (the default), or its TLS port with an operator certificate.
struct AdminConnectionOptions: ParsableArguments {
    @Option(help: "The server's admin socket. (default: data/admin.sock, unless --host or --port is given)")
    var socket: String?

    @Option(help: "Reach the admin service on the server's TLS port at this address instead (needs --cert and --key).")
    var host: String?

    @Option(help: "The server's TLS port. (default: 7443)")
    var port: Int?

    @Option(
        help: ArgumentHelp(
            "CA certificate(s) to verify the server with (PEM). "
                + "(default: data/dev-certs/ca.pem if present, else the system's)"
        )
    )
    var ca: String?

    @Option(help: "An operator certificate (PEM), for the TLS port.")
    var cert: String?

    @Option(help: "The operator certificate's private key (PEM).")
    var key: String?

    @Option(
        help: "The name to verify in the server's certificate. (default: localhost for loopback addresses, else --host)"
    )
    var serverName: String?

    @Option(help: "Seconds to wait for an answer.")
    var timeout = 30

    static let defaultSocket = "data/admin.sock"

    var usesTLS: Bool { socket == nil && (host != nil || port != nil) }

    /// Where the commands go, for messages.
    var target: String {
        usesTLS ? "\(host ?? "127.0.0.1"):\(port ?? 7443)" : (socket ?? Self.defaultSocket)
    }

    func validate() throws {
        if socket != nil, host != nil || port != nil {
            throw ValidationError("give either --socket or --host/--port, not both")
        }
        if (cert == nil) != (key == nil) {
            throw ValidationError("--cert and --key go together")
        }
    }

    var callOptions: CallOptions { CallOptions(timeout: .seconds(timeout)) }

    /// Connects, or exits with status 3 and says why.
    func connect() async throws -> BastionClientConnection {
        do {
            if !usesTLS {
                let path = socket ?? Self.defaultSocket
                guard FileManager.default.fileExists(atPath: path) else {
                    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
                    throw AdminCLIError(
                        "there is no admin socket at \(path): is bastiond running with --data-dir \(folder)? "
                            + "Pass --socket otherwise",
                        exitCode: 3
                    )
                }
                return try await BastionClientConnection.connect(unixDomainSocketPath: path)
            }
            return try await ConnectionOptions.connectOverTLS(
                host: host ?? "127.0.0.1", port: port ?? 7443, ca: ca, cert: cert, key: key, serverName: serverName
            )
        } catch let error as AdminCLIError {
            throw error
        } catch {
            var hint = ""
            if !usesTLS, "\(error)".contains("Permission denied") {
                hint = " (the socket is mode 0600: run this as the server's user)"
            }
            throw AdminCLIError("cannot reach the admin service at \(target): \(error)\(hint)", exitCode: 3)
        }
    }

    /// Connects, runs `body` with an admin client, closes; an RPC error exits with status 2.
    func withAdmin<Result: Sendable>(_ body: (Bastion_Admin_V1_AdminClient) async throws -> Result) async throws
        -> Result
    {
        let connection = try await connect()
        do {
            let result = try await body(Bastion_Admin_V1_AdminClient(transport: connection))
            await connection.close()
            return result
        } catch let error as RPCError {
            await connection.close()
            var message = "\(error.code): \(error.message)"
            if error.code == .unauthenticated, usesTLS {
                message +=
                    cert == nil
                    ? " (the TLS port admits operators only with an operator certificate: "
                        + "pass --cert and --key, or use the admin socket)"
                    : " (is this certificate's fingerprint in the server's --operator-cert-fingerprint list?)"
            }
            throw AdminCLIError(message, exitCode: 2)
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// A failure the admin commands report on one line, with their exit status.
struct AdminCLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }
}

extension AsyncParsableCommand {
    /// Runs an admin command body; its ``AdminCLIError`` is printed to standard error and becomes
    /// the exit status.
    func reportingAdminErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as AdminCLIError {
            FileHandle.standardError.write(Data("bastion: \(error.message)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }
}
