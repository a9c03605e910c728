import BastionTLS
import NIOCore
import Testing

/// What the server does with peers that don't speak TLS, or don't finish a handshake, and
/// that it keeps serving everybody else meanwhile.
@Suite struct BadInputTests {
    let certificates: TestCertificates

    init() throws {
        self.certificates = try TestCertificates()
    }

    private func expectServerStillServes(_ server: LoopbackServer) async throws {
        let client = try TLSContext(configuration: self.certificates.clientConfiguration())
        let (_, echoed) = try await LoopbackClient.echo(
            ByteBuffer(string: "still here"),
            port: server.port,
            context: client
        )
        #expect(String(buffer: echoed) == "still here")
    }

    static let badInputs: [(String, [UInt8])] = [
        ("garbage", (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 167 &+ 13) }),
        ("plaintext HTTP", Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
        ("a TLS record header announcing too much", [0x16, 0x03, 0x01, 0xff, 0xff] + [UInt8](repeating: 0, count: 64)),
        ("SSLv2-style hello", [0x80, 0x2e, 0x01, 0x00, 0x02] + [UInt8](repeating: 0, count: 45)),
    ]

    @Test(arguments: Self.badInputs)
    func badBytesGetACleanCloseAndTheServerKeepsServing(name: String, bytes: [UInt8]) async throws {
        // A handshake timeout far beyond any scheduling delay, so that only the bad bytes can
        // close the connection in time (on a loaded machine the client's write once came later
        // than a 10 s timeout).
        var configuration = self.certificates.serverConfiguration()
        configuration.handshakeTimeout = .seconds(120)
        let server = try await LoopbackServer.start(context: TLSContext(configuration: configuration))
        // The close comes from the bad bytes (handshakeFailed below), not the handshake timeout;
        // no wall-clock bound is asserted, since a loaded machine may be slow.
        _ = try await RawConnection.sendAndAwaitClose(bytes, port: server.port)
        #expect(await eventually { server.record.snapshot.closed == 1 })
        let snapshot = server.record.snapshot
        #expect(snapshot.errors.map(\.code) == [.handshakeFailed], "\(name): \(snapshot.errors)")
        #expect(snapshot.otherErrors.isEmpty)
        try await self.expectServerStillServes(server)
        try await server.stop()
    }

    @Test func plaintextHTTPIsNamedInTheError() async throws {
        // As above: only the bad bytes may end the handshake.
        var configuration = self.certificates.serverConfiguration()
        configuration.handshakeTimeout = .seconds(120)
        let server = try await LoopbackServer.start(context: TLSContext(configuration: configuration))
        _ = try await RawConnection.sendAndAwaitClose(Array("GET / HTTP/1.1\r\n\r\n".utf8), port: server.port)
        #expect(await eventually { !server.record.snapshot.errors.isEmpty })
        #expect(server.record.snapshot.errors.first?.message.contains("http request") == true)
        try await server.stop()
    }

    @Test func aClientThatNeverSendsAClientHelloIsClosedAfterTheHandshakeTimeout() async throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.handshakeTimeout = .milliseconds(300)
        let server = try await LoopbackServer.start(context: TLSContext(configuration: configuration))

        async let silent = RawConnection.sendAndAwaitClose([], port: server.port)
        // Half a ClientHello, then silence.
        async let stalled = RawConnection.sendAndAwaitClose([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01], port: server.port)
        // Meanwhile others are served.
        try await self.expectServerStillServes(server)

        for elapsed in try await [silent, stalled] {
            #expect(elapsed >= .milliseconds(250))  // not before the timeout
        }
        #expect(await eventually { server.record.errorCodes().filter { $0 == .handshakeTimeout }.count == 2 })
        try await server.stop()
    }

    @Test func reloadedCertificateIsSeenByNewConnectionsOnly() async throws {
        let context = try TLSContext(configuration: self.certificates.serverConfiguration())
        let server = try await LoopbackServer.start(context: context)

        // A second certificate set, from another development CA; the client trusts both.
        let replacement = try TestCertificates()
        let trustBoth = try [self.certificates.files.caCertificate, replacement.files.caCertificate]
            .flatMap { try PEMFile.read($0) }
        let client = try TLSContext(configuration: .client(trustRoots: .pem(trustBoth)))

        let oldFingerprint = try PeerCertificate(pemFile: self.certificates.files.serverCertificate).sha256Fingerprint
        let newFingerprint = try PeerCertificate(pemFile: replacement.files.serverCertificate).sha256Fingerprint
        #expect(oldFingerprint != newFingerprint)

        // A connection open across the reload keeps its certificate and keeps working.
        let longLived = try await LoopbackClient.connect(port: server.port, context: client, expecting: 6)
        #expect(try await longLived.handshake.get().peerCertificate?.sha256Fingerprint == oldFingerprint)

        try context.reload(
            certificateChain: .file(replacement.files.serverCertificate),
            privateKey: .file(replacement.files.serverPrivateKey)
        )

        let (handshake, _) = try await LoopbackClient.echo(
            ByteBuffer(string: "new"),
            port: server.port,
            context: client
        )
        #expect(handshake.peerCertificate?.sha256Fingerprint == newFingerprint)

        try await longLived.channel.writeAndFlush(ByteBuffer(string: "before"))
        #expect(String(buffer: try await longLived.received.get()) == "before")
        try await longLived.channel.close()

        // A broken reload changes nothing.
        #expect(throws: TLSError.self) {
            try context.reload(
                certificateChain: .file(replacement.files.serverCertificate),
                privateKey: .file(self.certificates.files.serverPrivateKey)
            )
        }
        let (afterFailedReload, _) = try await LoopbackClient.echo(
            ByteBuffer(string: "x"),
            port: server.port,
            context: client
        )
        #expect(afterFailedReload.peerCertificate?.sha256Fingerprint == newFingerprint)
        try await server.stop()
    }
}
