import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTLS
import BastionTransport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Hostile and broken input at the frame level: each gets a clear error (GOAWAY with a status)
/// or a clean close, and the server keeps serving other clients.
@Suite struct BadInputTests {
    /// Sends `bytes` on a raw plaintext connection and returns everything the server sends
    /// until it closes (or `timeout` passes).
    static func exchange(port: Int, _ bytes: [UInt8], timeout: Duration = .seconds(5)) async throws -> (received: [UInt8], closed: Bool) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            // The server may already have closed (an idle timeout, an early refusal): then the
            // write fails, and what it sent before closing is still there to read.
            if !bytes.isEmpty { try? await outbound.write(ByteBuffer(bytes: bytes)) }
            // Kept outside the reading task, so that a timeout still returns what arrived.
            let received = ReceivedBytes()
            let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        for try await buffer in inbound { received.bytes.withLock { $0 += Array(buffer.readableBytesView) } }
                    } catch {}
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            return (received.bytes.withLock { $0 }, closed)
        }
    }

    final class ReceivedBytes: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    static func frame(_ type: FrameType, flags: FrameFlags = [], stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        FrameHeader(payloadLength: UInt32(payload.count), type: type, flags: flags, streamID: stream).bytes + payload
    }

    static let settings = frame(.settings, stream: 0, RPCSettings().serializedBytes())

    static func callHeader(_ method: String) -> [UInt8] {
        RPCCallHeader { $0.method = method }.serializedBytes()
    }

    /// The GOAWAY among the frames the server sent, if any.
    static func goAway(in bytes: [UInt8]) throws -> RPCGoAway? {
        var offset = 0
        while offset + FrameHeader.size <= bytes.count {
            let header = bytes[offset...].withUnsafeBytes { FrameHeader(parsing: $0) }
            let end = offset + FrameHeader.size + Int(header.payloadLength)
            guard end <= bytes.count else { break }
            if header.type == .goAway {
                return try RPCGoAway(serializedBytes: bytes[(offset + FrameHeader.size)..<end])
            }
            offset = end
        }
        return nil
    }

    func withPlaintextServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        try await withEchoServer(configure: {
            $0.security = .plaintext
            $0.connection.settings.frameLimits = FrameLimits(maxFrameSize: 1024, maxMessageSize: 4096, maxHeaderSize: 512)
        }) { _, port, _ in
            try await body(port)
            // Whatever happened, a well-behaved client is still served.
            let connection = try await BastionClientConnection.connect(host: "127.0.0.1", port: port, security: .plaintext)
            let response = try await Bastion_Echo_V1_EchoClient(transport: connection).get(EchoRequest { $0.text = "still here" })
            #expect(response.message.text == "still here")
            await connection.close()
        }
    }

    @Test func garbageBytes() async throws {
        try await withPlaintextServer { port in
            let result = try await Self.exchange(port: port, Array("\u{1}\u{2}garbage that is no frame at all.....".utf8))
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .invalidArgument)
        }
    }

    @Test func plaintextHTTPToTheTLSPort() async throws {
        try await withEchoServer { _, port, _ in
            let result = try await Self.exchange(port: port, Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(result.closed)
            let connection = try await connect(port: port)
            #expect(try await Bastion_Echo_V1_EchoClient(transport: connection).get(EchoRequest { $0.text = "ok" }).message.text == "ok")
            await connection.close()
        }
    }

    @Test func oversizedFrame() async throws {
        try await withPlaintextServer { port in
            let header = FrameHeader(payloadLength: 1 << 30, type: .message, streamID: 1).bytes
            let result = try await Self.exchange(port: port, Self.settings + Self.frame(.headers, stream: 1, Self.callHeader("/bastion.echo.v1.Echo/Get")) + header)
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .resourceExhausted)
        }
    }

    @Test func oversizedHeader() async throws {
        try await withPlaintextServer { port in
            let result = try await Self.exchange(port: port, Self.settings + Self.frame(.headers, stream: 1, [UInt8](repeating: 0x0A, count: 600)))
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .resourceExhausted)
        }
    }

    @Test func truncatedFrameThenClose() async throws {
        try await withPlaintextServer { port in
            let partial = Array(Self.frame(.headers, stream: 1, Self.callHeader("/bastion.echo.v1.Echo/Get")).prefix(14))
            let result = try await Self.exchange(port: port, Self.settings + partial, timeout: .milliseconds(300))
            #expect(!result.closed)  // the server waits for the rest; the client's close ends it cleanly
        }
    }

    @Test func unknownFrameType() async throws {
        try await withPlaintextServer { port in
            let result = try await Self.exchange(port: port, Self.settings + Self.frame(FrameType(rawValue: 0x42), stream: 1, [1, 2]))
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .invalidArgument)
        }
    }

    @Test func reusedStreamID() async throws {
        try await withPlaintextServer { port in
            let call = Self.frame(.headers, stream: 5, Self.callHeader("/bastion.echo.v1.Echo/Get"))
            let result = try await Self.exchange(port: port, Self.settings + call + call)
            #expect(result.closed)
            let goAway = try #require(try Self.goAway(in: result.received))
            #expect(goAway.code == .invalidArgument)
            #expect(goAway.message.contains("stream 5"))
        }
    }

    @Test func messageOnAStreamNeverOpened() async throws {
        try await withPlaintextServer { port in
            let result = try await Self.exchange(port: port, Self.settings + Self.frame(.message, stream: 9, [1]))
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .invalidArgument)
        }
    }

    @Test func malformedCallHeader() async throws {
        try await withPlaintextServer { port in
            let result = try await Self.exchange(port: port, Self.settings + Self.frame(.headers, stream: 1, [0x0A, 0x09, 0x41]))
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .invalidArgument)
        }
    }

    @Test func pingIsAnsweredWithTheSameBytes() async throws {
        // The connection stays open (no idle timeout races the ping on a loaded machine); the
        // exchange ends after its bound and returns what arrived by then.
        try await withEchoServer(configure: { $0.security = .plaintext }) { _, port, _ in
            let payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
            let result = try await Self.exchange(port: port, Self.settings + Self.frame(.ping, stream: 0, payload), timeout: .seconds(5))
            let answer = Self.frame(.ping, flags: .ack, stream: 0, payload)
            #expect(result.received.indices.contains { index in result.received[index...].starts(with: answer) })
        }
    }

    @Test func idleConnectionIsClosed() async throws {
        try await withEchoServer(configure: { $0.security = .plaintext; $0.idleTimeout = .milliseconds(200) }) { _, port, _ in
            let result = try await Self.exchange(port: port, Self.settings, timeout: .seconds(5))
            #expect(result.closed)
            #expect(try Self.goAway(in: result.received)?.code == .unavailable)
        }
    }

    @Test func handshakeThatNeverFinishes() async throws {
        try await withEchoServer(configure: {
            var tls = TestCertificates.serverConfiguration()
            tls.handshakeTimeout = .milliseconds(200)
            $0.security = .tls(try TLSContext(configuration: tls))
        }) { _, port, _ in
            let result = try await Self.exchange(port: port, [], timeout: .seconds(5))
            #expect(result.closed)
        }
    }

    @Test func plaintextIsRefusedOffLoopback() async throws {
        let server = BastionServer(
            configuration: BastionServer.Configuration(host: "0.0.0.0", port: 0, security: .plaintext),
            router: RPCRouter(),
            logger: testLogger
        )
        await #expect(throws: RPCError.self) { try await server.run() }
    }
}
