import BastionTLS
import NIOCore
import NIOEmbedded
import Testing

/// Records the user events and errors that reach the end of an embedded pipeline.
final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    var handshakes: [TLSHandshakeCompleted] = []
    var errors: [TLSError] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            self.handshakes.append(completed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            self.errors.append(error)
        }
    }
}

/// A client and a server handler in two embedded channels, with the bytes moved by hand.
struct EmbeddedPair {
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientEvents = EventRecorder()
    let serverEvents = EventRecorder()

    init(client clientConfiguration: TLSConfiguration, server serverConfiguration: TLSConfiguration) throws {
        self.client = EmbeddedChannel()
        self.server = EmbeddedChannel()
        let clientHandler = try TLSClientHandler(
            context: TLSContext(configuration: clientConfiguration),
            serverHostname: "localhost"
        )
        let serverHandler = try TLSServerHandler(context: TLSContext(configuration: serverConfiguration))
        try self.client.pipeline.syncOperations.addHandlers([clientHandler, self.clientEvents])
        try self.server.pipeline.syncOperations.addHandlers([serverHandler, self.serverEvents])
    }

    /// Makes both channels active; the client sends its ClientHello.
    func activate() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4433)
        try self.server.connect(to: address).wait()
        try self.client.connect(to: address).wait()
    }

    /// Moves ciphertext both ways until neither side has anything more to send.
    /// Returns how many buffers went client → server.
    @discardableResult
    func interact() throws -> Int {
        var clientBuffers = 0
        var moved = true
        while moved {
            moved = false
            while let buffer = try self.client.readOutbound(as: ByteBuffer.self) {
                clientBuffers += 1
                moved = true
                if self.server.isActive { try self.server.writeInbound(buffer) }
            }
            while let buffer = try self.server.readOutbound(as: ByteBuffer.self) {
                moved = true
                if self.client.isActive { try self.client.writeInbound(buffer) }
            }
        }
        return clientBuffers
    }

    func handshake() throws {
        try self.activate()
        try self.interact()
    }
}

@Suite struct EmbeddedHandlerTests {
    let certificates: TestCertificates

    init() throws {
        self.certificates = try TestCertificates()
    }

    private func makePair(
        client: TLSConfiguration? = nil,
        server: TLSConfiguration? = nil
    ) throws -> EmbeddedPair {
        try EmbeddedPair(
            client: client ?? self.certificates.clientConfiguration(),
            server: server ?? self.certificates.serverConfiguration()
        )
    }

    @Test func handshakeFiresTheNegotiatedParametersOnBothSides() throws {
        let pair = try self.makePair()
        try pair.handshake()

        let client = try #require(pair.clientEvents.handshakes.first)
        let server = try #require(pair.serverEvents.handshakes.first)
        #expect(client.alpn == "bastion/1" && server.alpn == "bastion/1")
        #expect(client.protocolVersion == "TLSv1.3" && server.protocolVersion == "TLSv1.3")
        #expect(client.cipher == server.cipher)
        #expect(client.peerCertificate?.commonName == "localhost")
        #expect(server.peerCertificate == nil)
        let handler = try pair.client.pipeline.syncOperations.handler(type: TLSClientHandler.self)
        #expect(handler.handshakeResult == client)
    }

    @Test func writesBeforeTheHandshakeWaitAndArriveInOrder() throws {
        let pair = try self.makePair()
        try pair.activate()
        let first = pair.client.write(ByteBuffer(string: "hello, "))
        let second = pair.client.writeAndFlush(ByteBuffer(string: "world"))
        try pair.interact()
        try first.wait()
        try second.wait()

        var received = ByteBuffer()
        while var part = try pair.server.readInbound(as: ByteBuffer.self) {
            received.writeBuffer(&part)
        }
        #expect(String(buffer: received) == "hello, world")
    }

    @Test func writesAreEncryptedOnWriteAndSentAsOneBufferPerFlush() throws {
        let pair = try self.makePair()
        try pair.handshake()

        var promises: [EventLoopFuture<Void>] = []
        for index in 0..<10 {
            promises.append(pair.client.write(ByteBuffer(string: "message \(index);")))
        }
        // Nothing leaves before the flush.
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        pair.client.flush()
        let ciphertext = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        for promise in promises {
            try promise.wait()
        }

        // The server decrypts the ten records of that one buffer into one plaintext buffer.
        try pair.server.writeInbound(ciphertext)
        let plaintext = try #require(try pair.server.readInbound(as: ByteBuffer.self))
        #expect(try pair.server.readInbound(as: ByteBuffer.self) == nil)
        #expect(String(buffer: plaintext) == (0..<10).map { "message \($0);" }.joined())
    }

    @Test func largeWritesRoundTrip() throws {
        let pair = try self.makePair()
        try pair.handshake()
        let payload = ByteBuffer(bytes: (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 8)) })
        try pair.client.writeAndFlush(payload).wait()
        try pair.interact()
        var received = ByteBuffer()
        while var part = try pair.server.readInbound(as: ByteBuffer.self) {
            received.writeBuffer(&part)
        }
        #expect(received == payload)
    }

    @Test func closeSendsCloseNotifyAndThePeerClosesCleanly() throws {
        let pair = try self.makePair()
        try pair.handshake()

        let closed = pair.client.close()
        // close_notify went out before the channel closed.
        let closeNotify = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        try closed.wait()
        #expect(!pair.client.isActive)

        try pair.server.writeInbound(closeNotify)
        // The server answers with its own close_notify and closes, without an error.
        #expect(!pair.server.isActive)
        #expect(try pair.server.readOutbound(as: ByteBuffer.self) != nil)
        #expect(pair.serverEvents.errors.isEmpty)
        #expect(pair.clientEvents.errors.isEmpty)
    }

    @Test func aConnectionEndingWithoutCloseNotifyIsAnUnexpectedEOF() throws {
        let pair = try self.makePair()
        try pair.handshake()
        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverEvents.errors.map(\.code) == [.unexpectedEOF])
    }

    @Test func handshakeTimeoutClosesTheChannelAndFiresAnError() throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.handshakeTimeout = .seconds(2)
        let pair = try self.makePair(server: configuration)
        try pair.activate()
        // The ClientHello never reaches the server.
        _ = try pair.client.readOutbound(as: ByteBuffer.self)

        pair.server.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(pair.server.isActive)
        pair.server.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!pair.server.isActive)
        #expect(pair.serverEvents.errors.map(\.code) == [.handshakeTimeout])
    }

    @Test func aFinishedHandshakeCancelsTheTimeout() throws {
        var configuration = self.certificates.serverConfiguration()
        configuration.handshakeTimeout = .seconds(2)
        let pair = try self.makePair(server: configuration)
        try pair.handshake()
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(pair.server.isActive)
        #expect(pair.serverEvents.errors.isEmpty)
    }

    @Test func garbageFailsTheHandshakeAndCloses() throws {
        let pair = try self.makePair()
        try pair.activate()
        try pair.server.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(!pair.server.isActive)
        let error = try #require(pair.serverEvents.errors.first)
        #expect(error.code == .handshakeFailed)
        #expect(error.message.contains("http request"))
    }

    @Test func alpnMismatchIsRefusedOnBothSides() throws {
        var client = self.certificates.clientConfiguration()
        client.applicationProtocols = ["h2"]
        let pair = try self.makePair(client: client)
        try pair.handshake()
        #expect(pair.serverEvents.errors.map(\.code) == [.noApplicationProtocol])
        #expect(pair.clientEvents.errors.map(\.code) == [.noApplicationProtocol])
        #expect(!pair.server.isActive && !pair.client.isActive)
    }

    @Test func aClientWithoutALPNIsRefused() throws {
        var client = self.certificates.clientConfiguration()
        client.applicationProtocols = []
        let pair = try self.makePair(client: client)
        try pair.handshake()
        #expect(pair.serverEvents.errors.map(\.code) == [.noApplicationProtocol])
        #expect(pair.clientEvents.errors.map(\.code) == [.noApplicationProtocol])
    }

    @Test func aClientRefusesAServerThatSelectsNoALPN() throws {
        var server = self.certificates.serverConfiguration()
        server.applicationProtocols = []
        let pair = try self.makePair(server: server)
        try pair.handshake()
        #expect(pair.clientEvents.errors.map(\.code) == [.noApplicationProtocol])
        #expect(pair.clientEvents.handshakes.isEmpty)
    }

    @Test func otherALPNListsNegotiateByServerPreference() throws {
        var server = self.certificates.serverConfiguration()
        server.applicationProtocols = ["bastion/2", "bastion/1"]
        var client = self.certificates.clientConfiguration()
        client.applicationProtocols = ["bastion/1", "bastion/2"]
        let pair = try self.makePair(client: client, server: server)
        try pair.handshake()
        #expect(pair.serverEvents.handshakes.first?.alpn == "bastion/2")
        #expect(pair.clientEvents.handshakes.first?.alpn == "bastion/2")
    }

    @Test func mutualTLSCarriesTheClientCertificate() throws {
        let pair = try self.makePair(
            client: self.certificates.clientConfigurationWithCertificate(),
            server: self.certificates.mutualServerConfiguration()
        )
        try pair.handshake()
        let expected = try PeerCertificate(pemFile: self.certificates.files.clientCertificate)
        let handler = try pair.server.pipeline.syncOperations.handler(type: TLSServerHandler.self)
        #expect(handler.peerCertificate == expected)
        #expect(pair.serverEvents.handshakes.first?.peerCertificate == expected)
    }

    @Test func writesAfterCloseFail() throws {
        let pair = try self.makePair()
        try pair.handshake()
        try pair.client.close().wait()
        #expect(throws: ChannelError.self) {
            try pair.client.writeAndFlush(ByteBuffer(string: "late")).wait()
        }
    }
}
