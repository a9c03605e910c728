import BastionTLS
import NIOCore
import Testing

/// Swift client handler ↔ Swift server handler over real loopback sockets.
@Suite struct LoopbackTests {
    let certificates: TestCertificates

    init() throws {
        self.certificates = try TestCertificates()
    }

    @Test(arguments: [5, 1 << 20])
    func echoNegotiatesTLS13AndALPN(payloadSize: Int) async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.serverConfiguration())
        )
        let client = try TLSContext(configuration: self.certificates.clientConfiguration())

        let payload = ByteBuffer(bytes: (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let (handshake, echoed) = try await LoopbackClient.echo(payload, port: server.port, context: client)

        #expect(echoed == payload)
        #expect(handshake.protocolVersion == "TLSv1.3")
        #expect(handshake.alpn == "bastion/1")
        #expect(handshake.cipher.hasPrefix("TLS_"))
        let serverCertificate = try PeerCertificate(pemFile: self.certificates.files.serverCertificate)
        #expect(handshake.peerCertificate == serverCertificate)

        #expect(await eventually { server.record.snapshot.handshakes.count == 1 })
        let serverSide = try #require(server.record.snapshot.handshakes.first)
        #expect(serverSide.alpn == "bastion/1")
        #expect(serverSide.protocolVersion == "TLSv1.3")
        #expect(serverSide.peerCertificate == nil)
        #expect(await eventually { server.record.snapshot.closed == 1 })
        // The client closed with close_notify: no error on the server.
        #expect(server.record.snapshot.errors.isEmpty)
        try await server.stop()
    }

    @Test func mutualTLSHandsTheClientCertificateToTheServer() async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.mutualServerConfiguration())
        )
        let client = try TLSContext(configuration: self.certificates.clientConfigurationWithCertificate())
        let (_, echoed) = try await LoopbackClient.echo(
            ByteBuffer(string: "who am I"),
            port: server.port,
            context: client
        )
        #expect(String(buffer: echoed) == "who am I")

        #expect(await eventually { server.record.snapshot.handshakes.count == 1 })
        let expected = try PeerCertificate(pemFile: self.certificates.files.clientCertificate)
        let snapshot = server.record.snapshot
        let peer = try #require(snapshot.handshakes.first?.peerCertificate)
        #expect(peer.sha256Fingerprint == expected.sha256Fingerprint)
        #expect(peer.commonName == "bastion-dev-client")
        #expect(peer.subject.contains("CN=bastion-dev-client"))
        #expect(peer.issuer.contains("CN=Bastion Development CA"))
        #expect(snapshot.handlerPeerCertificates.first == peer)
        try await server.stop()
    }

    @Test func clientWithoutCertificateIsRefusedWhenRequired() async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.mutualServerConfiguration())
        )
        let context = try TLSContext(configuration: self.certificates.clientConfiguration())
        let client = try await LoopbackClient.connect(port: server.port, context: context, expecting: 2)
        // In TLS 1.3 the client's handshake is done before the server checks its certificate;
        // the server's certificate_required alert arrives after it, in place of data.
        try? await client.channel.writeAndFlush(ByteBuffer(string: "hi"))
        let error = await #expect(throws: TLSError.self) {
            _ = try await client.received.get()
        }
        #expect(error?.code == .peerCertificateRequired)
        #expect(await eventually { server.record.errorCodes().contains(.peerCertificateRequired) })
        #expect(server.record.snapshot.handshakes.isEmpty)
        try await server.stop()
    }

    @Test func optionalClientAuthenticationLetsClientsWithoutCertificateIn() async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.mutualServerConfiguration(.optional))
        )
        let anonymous = try TLSContext(configuration: self.certificates.clientConfiguration())
        _ = try await LoopbackClient.echo(ByteBuffer(string: "a"), port: server.port, context: anonymous)
        let identified = try TLSContext(configuration: self.certificates.clientConfigurationWithCertificate())
        _ = try await LoopbackClient.echo(ByteBuffer(string: "b"), port: server.port, context: identified)

        #expect(await eventually { server.record.snapshot.handshakes.count == 2 })
        let peers = server.record.snapshot.handshakes.map { $0.peerCertificate?.commonName }
        #expect(Set(peers) == [nil, "bastion-dev-client"])
        try await server.stop()
    }

    @Test func clientRefusesAServerItDoesNotTrust() async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.serverConfiguration())
        )
        let otherAuthority = try TestCertificates()
        let client = try TLSContext(configuration: otherAuthority.clientConfiguration())
        let error = await #expect(throws: TLSError.self) {
            _ = try await LoopbackClient.echo(ByteBuffer(string: "hi"), port: server.port, context: client)
        }
        #expect(error?.code == .certificateInvalid)
        try await server.stop()
    }

    @Test func clientChecksTheServerName() async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.serverConfiguration())
        )
        let client = try TLSContext(configuration: self.certificates.clientConfiguration())
        // The certificate names localhost, 127.0.0.1 and ::1.
        _ = try await LoopbackClient.echo(
            ByteBuffer(string: "ip"),
            port: server.port,
            context: client,
            serverHostname: "127.0.0.1"
        )
        let error = await #expect(throws: TLSError.self) {
            _ = try await LoopbackClient.echo(
                ByteBuffer(string: "x"),
                port: server.port,
                context: client,
                serverHostname: "example.com"
            )
        }
        #expect(error?.code == .certificateInvalid)

        var relaxed = self.certificates.clientConfiguration()
        relaxed.certificateVerification = .noHostnameVerification
        _ = try await LoopbackClient.echo(
            ByteBuffer(string: "y"),
            port: server.port,
            context: TLSContext(configuration: relaxed),
            serverHostname: "example.com"
        )
        try await server.stop()
    }

    @Test func tls12WorksWhenBothSidesAllowIt() async throws {
        var serverConfiguration = self.certificates.serverConfiguration()
        serverConfiguration.minimumProtocolVersion = .tls12
        let server = try await LoopbackServer.start(context: TLSContext(configuration: serverConfiguration))
        // A TLS 1.3 client still gets TLS 1.3.
        let (handshake, _) = try await LoopbackClient.echo(
            ByteBuffer(string: "x"),
            port: server.port,
            context: TLSContext(configuration: self.certificates.clientConfiguration())
        )
        #expect(handshake.protocolVersion == "TLSv1.3")
        try await server.stop()
    }

    @Test func manyWritesBeforeTheHandshakeArriveInOrder() async throws {
        let server = try await LoopbackServer.start(
            context: TLSContext(configuration: self.certificates.serverConfiguration())
        )
        let context = try TLSContext(configuration: self.certificates.clientConfiguration())
        let client = try await LoopbackClient.connect(port: server.port, context: context, expecting: 3 * 1000)
        var expected = ByteBuffer()
        for index in 0..<1000 {
            let digits = String(index)
            let chunk = ByteBuffer(string: String(repeating: "0", count: 3 - digits.count) + digits)
            expected.writeImmutableBuffer(chunk)
            client.channel.write(chunk, promise: nil)
            if index % 100 == 99 {
                client.channel.flush()
            }
        }
        let echoed = try await client.received.get()
        #expect(echoed == expected)
        try await client.channel.close()
        try await server.stop()
    }
}
