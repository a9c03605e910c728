import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
@testable import BastionTransport
import Testing

/// The server reads a call header in place when it names the method of the call before and
/// carries nothing but a timeout besides; any other header is decoded whole. Both must agree.
@Suite struct CallHeaderTests {
    private let path = "/bastion.echo.v1.Echo/Get"

    private func timeout(of header: RPCCallHeader, lastPath: String) -> UInt64? {
        timeout(ofBytes: header.serializedBytes(), lastPath: lastPath)
    }

    private func timeout(ofBytes bytes: [UInt8], lastPath: String) -> UInt64? {
        bytes.withUnsafeBytes { ServerConnectionHandler.timeoutOfRepeatedCall($0, path: Array(lastPath.utf8)) }
    }

    @Test func sameMethodWithOrWithoutATimeoutIsReadInPlace() {
        var header = RPCCallHeader()
        header.method = path
        #expect(timeout(of: header, lastPath: path) == 0)
        header.timeoutMillis = 1500
        #expect(timeout(of: header, lastPath: path) == 1500)
        header.timeoutMillis = .max
        #expect(timeout(of: header, lastPath: path) == .max)
    }

    @Test func anythingElseIsLeftToTheDecoder() {
        var header = RPCCallHeader()
        header.method = path
        #expect(timeout(of: header, lastPath: "/bastion.echo.v1.Echo/Expand") == nil)
        #expect(timeout(of: header, lastPath: path + "x") == nil)
        #expect(timeout(of: header, lastPath: String(path.dropLast())) == nil)
        #expect(timeout(of: RPCCallHeader(), lastPath: path) == nil)  // no method at all

        var withMetadata = header
        withMetadata.metadata = [RPCMetadataEntry { $0.key = "k"; $0.value = Array("v".utf8) }]
        #expect(timeout(of: withMetadata, lastPath: path) == nil)

        // An unknown field, as a newer client might send.
        var unknown = header.serializedBytes()
        unknown += [0x48, 0x01]  // field 9, varint 1
        #expect(timeout(ofBytes: unknown, lastPath: path) == nil)
    }

    @Test func repeatedFieldsCountAsTheLastOne() {
        var first = RPCCallHeader()
        first.method = "/other.v1.S/M"
        first.timeoutMillis = 10
        var second = RPCCallHeader()
        second.method = path
        second.timeoutMillis = 20
        // Concatenated messages merge: the last method and the last timeout win.
        let merged = first.serializedBytes() + second.serializedBytes()
        #expect(timeout(ofBytes: merged, lastPath: path) == nil)  // the first method differs: decoded whole
        let sameMethodTwice = second.serializedBytes() + second.serializedBytes().prefix(2 + path.utf8.count) + [0x10, 30]
        #expect(timeout(ofBytes: Array(sameMethodTwice), lastPath: path) == 30)
    }

    @Test func malformedHeadersAreLeftToTheDecoder() {
        var header = RPCCallHeader()
        header.method = path
        let bytes = header.serializedBytes()
        for cut in 1..<bytes.count {
            #expect(timeout(ofBytes: Array(bytes.prefix(cut)), lastPath: path) == nil, "cut at \(cut)")
        }
        #expect(timeout(ofBytes: [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], lastPath: path) == nil)  // length past the end
        #expect(timeout(ofBytes: [0x10], lastPath: path) == nil)  // a timeout without its varint
    }

    /// Calls on one connection that switch between the header's paths: the same method again,
    /// with metadata, with a deadline, a method that does not exist, and back.
    @Test func callsThatChangeWhatTheHeaderHolds() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            #expect(try await echo.get(EchoRequest { $0.text = "a" }).message.text == "a")
            #expect(try await echo.get(EchoRequest { $0.text = "b" }).message.text == "b")
            let withMetadata = try await echo.get(EchoRequest { $0.text = "c" }, metadata: metadata([("echo-x", "1")]))
            #expect(withMetadata.metadata["echo-x"] == "1")
            #expect(try await echo.get(EchoRequest { $0.text = "d" }).metadata["echo-x"] == nil)
            await expectError(.deadlineExceeded) {
                _ = try await echo.get(EchoRequest { $0.delayMillis = 2000 }, options: CallOptions(timeout: .milliseconds(100)))
            }
            let client = RPCClient(transport: connection)
            await expectError(.unimplemented) {
                let _: RPCResponse<EchoResponse> = try await client.unary(
                    MethodDescriptor(service: "bastion.echo.v1.Echo", method: "Nope", kind: .unary),
                    request: EchoRequest()
                )
            }
            await expectError(.unimplemented) {
                let _: RPCResponse<EchoResponse> = try await client.unary(
                    MethodDescriptor(service: "bastion.echo.v1.Echo", method: "Nope", kind: .unary),
                    request: EchoRequest()
                )
            }
            #expect(try await echo.get(EchoRequest { $0.text = "e" }, options: CallOptions(timeout: .seconds(5))).message.text == "e")
            await connection.close()
        }
    }
}
