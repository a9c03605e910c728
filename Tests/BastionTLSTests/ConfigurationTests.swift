import BastionTLS
import Foundation
import Testing

@Suite struct ConfigurationTests {
    let certificates: TestCertificates

    init() throws {
        self.certificates = try TestCertificates()
    }

    @Test func defaultsAreBastionsWireProtocol() {
        let server = self.certificates.serverConfiguration()
        #expect(server.role == .server)
        #expect(server.minimumProtocolVersion == .tls13)
        #expect(server.applicationProtocols == ["bastion/1"])
        #expect(server.clientAuthentication == .none)
        #expect(server.handshakeTimeout == .seconds(10))
        #expect(server.sessionTickets)
        let client = TLSConfiguration.client()
        #expect(client.role == .client)
        #expect(client.trustRoots == .system)
        #expect(client.certificateVerification == .full)
    }

    @Test func certificatesAndKeysLoadFromPEMBytes() throws {
        let files = self.certificates.files
        let server = TLSConfiguration.server(
            certificateChain: .pem(try PEMFile.read(files.serverCertificate)),
            privateKey: .pem(try PEMFile.read(files.serverPrivateKey))
        )
        let client = TLSConfiguration.client(trustRoots: .pem(try PEMFile.read(files.caCertificate)))
        let pair = try EmbeddedPair(client: client, server: server)
        try pair.handshake()
        #expect(pair.clientEvents.handshakes.count == 1)
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsRefused() throws {
        let other = try TestCertificates()
        let configuration = TLSConfiguration.server(
            certificateChain: .file(self.certificates.files.serverCertificate),
            privateKey: .file(other.files.serverPrivateKey)
        )
        let error = #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error?.code == .configurationInvalid)
        #expect(error?.message.contains("private key") == true)
        #expect(error?.message.contains("key values mismatch") == true, "OpenSSL's own text is included")
    }

    @Test func aMissingFileIsAnIOError() throws {
        let configuration = TLSConfiguration.server(
            certificateChain: .file("/nonexistent/server.pem"),
            privateKey: .file(self.certificates.files.serverPrivateKey)
        )
        let error = #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error?.code == .ioError)
    }

    @Test func bytesThatAreNotPEMAreRefused() throws {
        let configuration = TLSConfiguration.server(
            certificateChain: .pem(Array("not a certificate".utf8)),
            privateKey: .file(self.certificates.files.serverPrivateKey)
        )
        let error = #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error?.code == .configurationInvalid)
    }

    @Test func clientAuthenticationNeedsTrustRoots() throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.clientAuthentication = .required
        let error = #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error?.code == .configurationInvalid)
    }

    @Test func aServerNeedsACertificate() throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.certificateChain = nil
        configuration.privateKey = nil
        #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
    }

    @Test(arguments: ["", String(repeating: "x", count: 256)])
    func invalidALPNNamesAreRefused(name: String) throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.applicationProtocols = [name]
        let error = #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error?.code == .configurationInvalid)
    }

    @Test func handlersCheckTheContextsRole() throws {
        let client = try TLSContext(configuration: self.certificates.clientConfiguration())
        let server = try TLSContext(configuration: self.certificates.serverConfiguration())
        #expect(throws: TLSError.self) { _ = try TLSServerHandler(context: client) }
        #expect(throws: TLSError.self) { _ = try TLSClientHandler(context: server, serverHostname: nil) }
        #expect(throws: TLSError.self) { try server.reload(configuration: self.certificates.clientConfiguration()) }
    }

    @Test func developmentCertificatesAreWrittenWithPrivateKeysProtected() throws {
        let files = self.certificates.files
        for path in [files.caPrivateKey, files.serverPrivateKey, files.clientPrivateKey] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(path)")
        }
        let ca = try PeerCertificate(pemFile: files.caCertificate)
        #expect(ca.subject == ca.issuer)
        #expect(ca.commonName == "Bastion Development CA")
        let server = try PeerCertificate(pemFile: files.serverCertificate)
        #expect(server.issuer == ca.subject)
        #expect(server.serialNumber.count >= 30)
        #expect(server.sha256Fingerprint.count == 32)
        #expect(server.sha256FingerprintHex.count == 64)
        // DER round trip.
        #expect(try PeerCertificate(derBytes: server.derBytes) == server)
    }

    @Test(.enabled(if: OpenSSLCLI.isAvailable))
    func developmentCertificatesVerifyWithOpenSSL() async throws {
        let files = self.certificates.files
        let server = try await OpenSSLCLI.run([
            "verify", "-CAfile", files.caCertificate, "-purpose", "sslserver", "-verify_hostname", "localhost",
            files.serverCertificate,
        ])
        #expect(server.status == 0, "\(server.output)")
        let serverByIP = try await OpenSSLCLI.run([
            "verify", "-CAfile", files.caCertificate, "-verify_ip", "::1", files.serverCertificate,
        ])
        #expect(serverByIP.status == 0, "\(serverByIP.output)")
        let client = try await OpenSSLCLI.run([
            "verify", "-CAfile", files.caCertificate, "-purpose", "sslclient", files.clientCertificate,
        ])
        #expect(client.status == 0, "\(client.output)")
        let text = try await OpenSSLCLI.run(["x509", "-noout", "-text", "-in", files.serverCertificate])
        #expect(
            text.output.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            "\(text.output)"
        )
        #expect(text.output.contains("ASN1 OID: prime256v1"), "\(text.output)")
    }
}
