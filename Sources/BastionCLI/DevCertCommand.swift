import ArgumentParser
import BastionTLS

/// `bastion dev-cert`: a development CA with server and client certificates.
struct DevCertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cert",
        abstract: "Make a development CA, a server certificate and a client certificate (PEM files).",
        discussion: "For development and tests only: the CA's private key is written beside the certificates."
    )

    @Option(name: .shortAndLong, help: "The folder to write into (created if missing; files there are replaced).")
    var output = "data/dev-certs"

    @Option(name: .customLong("name"), help: "A DNS name or IP address for the server certificate (repeatable).")
    var names: [String] = ["localhost", "127.0.0.1", "::1"]

    @Option(help: "The client certificate's common name.")
    var clientName = "bastion-dev-client"

    @Option(help: "Days the certificates are valid.")
    var days = 365

    func run() throws {
        let files = try DevelopmentCertificates.generate(directory: output, serverNames: names, clientCommonName: clientName, validityDays: days)
        print("""
            wrote to \(files.directory):
              CA:     \(files.caCertificate)
              server: \(files.serverCertificate), \(files.serverPrivateKey)
              client: \(files.clientCertificate), \(files.clientPrivateKey)
            """)
    }
}
