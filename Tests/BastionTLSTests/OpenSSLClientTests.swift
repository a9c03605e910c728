import BastionTLS
import Testing

/// The Swift server against OpenSSL's own client, `openssl s_client`.
@Suite(.enabled(if: OpenSSLCLI.isAvailable, "needs the openssl command-line tool"))
struct OpenSSLClientTests {
    let certificates: TestCertificates

    init() throws {
        self.certificates = try TestCertificates()
    }

    private func start(_ configuration: TLSConfiguration) async throws -> LoopbackServer {
        try await LoopbackServer.start(context: TLSContext(configuration: configuration))
    }

    private func sClient(
        _ server: LoopbackServer,
        _ arguments: [String],
        waitForServerClose: Bool = false
    ) async throws -> OpenSSLCLI.Result {
        try await OpenSSLCLI.sClient(
            port: server.port,
            caFile: self.certificates.files.caCertificate,
            extraArguments: arguments,
            waitForServerClose: waitForServerClose
        )
    }

    @Test func negotiatesTLS13AndBastionALPN() async throws {
        let server = try await self.start(self.certificates.serverConfiguration())
        let result = try await self.sClient(server, ["-alpn", "bastion/1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("New, TLSv1.3"), "\(result.output)")
        #expect(result.output.contains("ALPN protocol: bastion/1"), "\(result.output)")
        #expect(result.output.contains("Verify return code: 0 (ok)"), "\(result.output)")

        #expect(await eventually { server.record.snapshot.handshakes.count == 1 })
        #expect(server.record.snapshot.handshakes.first?.alpn == "bastion/1")
        try await server.stop()
    }

    @Test(arguments: [["-alpn", "h2"], ["-alpn", "http/1.1,bastion/2"], []])
    func refusesOtherOrMissingALPN(arguments: [String]) async throws {
        let server = try await self.start(self.certificates.serverConfiguration())
        let result = try await self.sClient(server, arguments)
        #expect(result.status != 0, "\(result.output)")
        #expect(result.output.contains("no application protocol"), "\(result.output)")

        #expect(await eventually { server.record.errorCodes() == [.noApplicationProtocol] })
        #expect(server.record.snapshot.handshakes.isEmpty)
        try await server.stop()
    }

    @Test func refusesTLS12ByDefault() async throws {
        let server = try await self.start(self.certificates.serverConfiguration())
        let result = try await self.sClient(server, ["-tls1_2", "-alpn", "bastion/1"])
        #expect(result.status != 0, "\(result.output)")
        #expect(await eventually { server.record.errorCodes() == [.handshakeFailed] })
        #expect(server.record.snapshot.errors.first?.message.contains("unsupported protocol") == true)
        try await server.stop()
    }

    @Test func acceptsTLS12WithECDHEAndAEADWhenEnabled() async throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.minimumProtocolVersion = .tls12
        let server = try await self.start(configuration)
        let result = try await self.sClient(server, ["-tls1_2", "-alpn", "bastion/1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-"), "\(result.output)")
        #expect(result.output.contains("ALPN protocol: bastion/1"), "\(result.output)")
        #expect(await eventually { server.record.snapshot.handshakes.count == 1 })
        let handshake = try #require(server.record.snapshot.handshakes.first)
        #expect(handshake.protocolVersion == "TLSv1.2")
        #expect(handshake.cipher.hasPrefix("ECDHE-ECDSA-") && handshake.cipher.contains(/GCM|CHACHA20/))
        try await server.stop()
    }

    @Test(arguments: ["ECDHE-ECDSA-AES128-SHA256", "AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-SHA"])
    func refusesTLS12SuitesWithoutECDHEOrAEAD(cipher: String) async throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.minimumProtocolVersion = .tls12
        let server = try await self.start(configuration)
        let result = try await self.sClient(server, ["-tls1_2", "-cipher", cipher, "-alpn", "bastion/1"])
        #expect(result.status != 0, "\(result.output)")
        #expect(await eventually { server.record.errorCodes() == [.handshakeFailed] })
        try await server.stop()
    }

    @Test func renegotiationIsRefused() async throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.minimumProtocolVersion = .tls12
        let server = try await self.start(configuration)
        // "R" on s_client's standard input asks for a TLS 1.2 renegotiation.
        let result = try await OpenSSLCLI.run(
            [
                "s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2", "-alpn", "bastion/1",
                "-CAfile", self.certificates.files.caCertificate,
            ],
            input: "R\n"
        )
        #expect(result.output.contains("RENEGOTIATING"), "\(result.output)")
        #expect(result.output.contains("no renegotiation"), "\(result.output)")
        #expect(await eventually { server.record.snapshot.closed == 1 })
        #expect(server.record.snapshot.handshakes.count == 1)
        #expect(server.record.errorCodes() == [.protocolError])
        try await server.stop()
    }

    @Test func sessionTicketsResumeAcrossACertificateReload() async throws {
        let context = try TLSContext(configuration: self.certificates.serverConfiguration())
        let server = try await LoopbackServer.start(context: context)
        let session = try TemporaryDirectory.make() + "/session.pem"
        let base = [
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "localhost", "-alpn", "bastion/1",
            "-CAfile", self.certificates.files.caCertificate,
        ]
        // TLS 1.3 tickets come after the handshake: keep the connection open a while for them
        // (long enough for a loaded machine; the test waits no longer than that).
        let first = try await OpenSSLCLI.run(base + ["-sess_out", session], closeInputAfter: .seconds(2))
        #expect(first.output.contains("New, TLSv1.3"), "\(first.output)")
        #expect(first.output.contains("New Session Ticket"), "\(first.output)")

        let resumed = try await OpenSSLCLI.run(base + ["-sess_in", session])
        #expect(resumed.output.contains("Reused, TLSv1.3"), "\(resumed.output)")

        // Same certificate files, new SSL_CTX: the ticket keys are carried over.
        try context.reload(configuration: self.certificates.serverConfiguration())
        let afterReload = try await OpenSSLCLI.run(base + ["-sess_in", session])
        #expect(afterReload.output.contains("Reused, TLSv1.3"), "\(afterReload.output)")

        #expect(await eventually { server.record.snapshot.handshakes.count == 3 })
        #expect(server.record.snapshot.handshakes.map(\.sessionReused) == [false, true, true])
        try await server.stop()
    }

    @Test func sessionTicketsCanBeTurnedOff() async throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.sessionTickets = false
        let server = try await self.start(configuration)
        let result = try await OpenSSLCLI.run(
            [
                "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "localhost", "-alpn", "bastion/1",
                "-CAfile", self.certificates.files.caCertificate,
            ],
            closeInputAfter: .seconds(2)
        )
        #expect(result.output.contains("New, TLSv1.3"), "\(result.output)")
        #expect(!result.output.contains("New Session Ticket"), "\(result.output)")
        try await server.stop()
    }

    @Test func mutualTLSRefusesAClientWithoutCertificate() async throws {
        let server = try await self.start(self.certificates.mutualServerConfiguration())
        let result = try await self.sClient(server, ["-alpn", "bastion/1"], waitForServerClose: true)
        #expect(result.output.contains("certificate required"), "\(result.output)")
        #expect(await eventually { server.record.errorCodes() == [.peerCertificateRequired] })
        #expect(server.record.snapshot.handshakes.isEmpty)
        try await server.stop()
    }

    @Test func mutualTLSAcceptsTheClientCertificateAndHandsItToTheServer() async throws {
        let server = try await self.start(self.certificates.mutualServerConfiguration())
        let files = self.certificates.files
        let result = try await self.sClient(
            server,
            ["-alpn", "bastion/1", "-cert", files.clientCertificate, "-key", files.clientPrivateKey]
        )
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("New, TLSv1.3"), "\(result.output)")

        #expect(await eventually { server.record.snapshot.handshakes.count == 1 })
        let expected = try PeerCertificate(pemFile: files.clientCertificate)
        let snapshot = server.record.snapshot
        #expect(snapshot.handshakes.first?.peerCertificate?.sha256Fingerprint == expected.sha256Fingerprint)
        #expect(snapshot.handlerPeerCertificates.first??.sha256Fingerprint == expected.sha256Fingerprint)
        #expect(snapshot.errors.isEmpty)
        try await server.stop()
    }

    @Test func mutualTLSRefusesACertificateFromAnotherAuthority() async throws {
        let server = try await self.start(self.certificates.mutualServerConfiguration())
        let stranger = try TestCertificates().files
        let result = try await self.sClient(
            server,
            ["-alpn", "bastion/1", "-cert", stranger.clientCertificate, "-key", stranger.clientPrivateKey],
            waitForServerClose: true
        )
        #expect(result.output.contains("alert unknown ca") || result.output.contains("alert"), "\(result.output)")
        #expect(await eventually { server.record.errorCodes() == [.certificateInvalid] })
        try await server.stop()
    }
}
