import BastionRPC
import BastionTransport
import Testing

/// Regressions found while hardening the transport (issue 11): each test sends what broke it, over
/// a real connection, and checks for the protocol's answer; `BadInputTests` then checks that a
/// well-behaved client is still served.
@Suite struct HardeningRegressionTests {
    static func windowUpdate(stream: UInt32, _ increment: UInt32) -> [UInt8] {
        BadInputTests.frame(.windowUpdate, stream: stream, withUnsafeBytes(of: increment.bigEndian) { Array($0) })
    }

    /// Credit granted by WINDOW_UPDATE was added without bound: about 2^32 grants of 2^31-1 (some
    /// 60 GB of frames, a minute on a fast link) overflowed the window and trapped, killing the
    /// whole server. Now credit above 2^31-1 is a connection error, as in HTTP/2.
    @Test(arguments: [UInt32(0), 1])
    func creditAboveTwoToTheThirtyOneIsAConnectionError(stream: UInt32) async throws {
        try await BadInputTests().withPlaintextServer { port in
            // A client-streaming call keeps stream 1 open while the grants arrive.
            let call = BadInputTests.frame(.headers, stream: 1, BadInputTests.callHeader("/bastion.echo.v1.Echo/Collect"))
            let grants = Self.windowUpdate(stream: stream, UInt32(Int32.max)) + Self.windowUpdate(stream: stream, UInt32(Int32.max))
            // The close comes right after the GOAWAY; the wait for it is long only because a loaded
            // machine (the whole suite at once, two cores) once took longer than the default 5 s.
            let result = try await BadInputTests.exchange(port: port, BadInputTests.settings + call + grants, timeout: .seconds(30))
            #expect(result.closed)
            let goAway = try #require(try BadInputTests.goAway(in: result.received))
            #expect(goAway.code == .invalidArgument)
            #expect(goAway.message.contains("2^31-1"))
        }
    }

    /// Grants that keep the credit at 2^31-1 or below stay legal.
    @Test func creditUpToTwoToTheThirtyOneIsAccepted() async throws {
        try await BadInputTests().withPlaintextServer { port in
            let call = BadInputTests.frame(.headers, stream: 1, BadInputTests.callHeader("/bastion.echo.v1.Echo/Collect"))
            // The stream starts with 1 MiB of credit (the client's default SETTINGS).
            let grant = Self.windowUpdate(stream: 1, UInt32(Int32.max) - (1 << 20))
            let ping = BadInputTests.frame(.ping, stream: 0, [1, 2, 3, 4, 5, 6, 7, 8])
            let result = try await BadInputTests.exchange(port: port, BadInputTests.settings + call + grant + ping, timeout: .seconds(3))
            #expect(try BadInputTests.goAway(in: result.received) == nil)
            let answer = BadInputTests.frame(.ping, flags: .ack, stream: 0, [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(result.received.indices.contains { result.received[$0...].starts(with: answer) })
        }
    }
}
