import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTLS
import BastionTransport
import Testing

typealias EchoRequest = Bastion_Echo_V1_EchoRequest
typealias EchoResponse = Bastion_Echo_V1_EchoResponse

/// Every call kind end to end: Swift client, real TLS, real loopback sockets, the echo service.
@Suite struct CallTests {
    @Test func unaryWithMetadataBothWays() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let response = try await echo.get(
                EchoRequest { $0.text = "hello"; $0.payload = [1, 2, 3] },
                metadata: metadata([("echo-color", "blue"), ("other", "x")])
            )
            #expect(response.message.text == "hello")
            #expect(response.message.payload == [1, 2, 3])
            #expect(response.metadata["echo-color"] == "blue")
            #expect(response.metadata["other"] == nil)
            #expect(response.trailerMetadata["echo-color"] == "blue")
            await connection.close()
        }
    }

    @Test func clientStreaming() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let response = try await echo.collect { writer in
                for word in ["one", "two", "three"] {
                    try await writer.write(EchoRequest { $0.text = word; $0.payload = [UInt8(word.count)] })
                }
            }
            #expect(response.message.text == "one two three")
            #expect(response.message.payload == [3, 3, 5])
            await connection.close()
        }
    }

    @Test func serverStreaming() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let indexes = try await echo.expand(EchoRequest { $0.text = "x"; $0.repeat = 50 }) { responses in
                var indexes: [UInt32] = []
                for try await response in responses { indexes.append(response.index) }
                return indexes
            }
            #expect(indexes == Array(0..<50))
            await connection.close()
        }
    }

    @Test func bidirectionalStreaming() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let texts = try await echo.update(requests: { writer in
                for index in 0..<20 {
                    try await writer.write(EchoRequest { $0.text = "m\(index)"; $0.repeat = 2 })
                }
            }, responses: { responses in
                var texts: [String] = []
                for try await response in responses { texts.append(response.text) }
                return texts
            })
            #expect(texts.count == 40)
            #expect(texts.first == "m0")
            #expect(texts.last == "m19")
            await connection.close()
        }
    }

    @Test func messagesLargerThanAFrameAndTheWindows() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let payload = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let response = try await echo.get(EchoRequest { $0.payload = payload })
            #expect(response.message.payload == payload)
            await connection.close()
        }
    }

    /// A response that fills one frame (and the stream's window) exactly is encoded straight into
    /// the output; one byte more goes out as two frames, from an encoded array.
    @Test(arguments: [0, 1, (1 << 20) - 4, (1 << 20) - 3])
    func responsesAroundTheFrameSize(payloadSize: Int) async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let payload = (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            // Twice: the connection's window must have counted the first response right.
            for _ in 0..<2 {
                let response = try await echo.get(EchoRequest { $0.payload = payload })
                #expect(response.message.payload == payload)
            }
            await connection.close()
        }
    }

    @Test func manyConcurrentCallsOnOneConnection() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        let response = try await echo.get(EchoRequest { $0.text = "call \(index)" })
                        #expect(response.message.text == "call \(index)")
                    }
                }
                try await group.waitForAll()
            }
            await connection.close()
        }
    }

    @Test func slowReaderOfAManyMegabyteStream() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let count = try await echo.expand(EchoRequest { $0.payload = [UInt8](repeating: 7, count: 64 << 10); $0.repeat = 300 }) { responses in
                var count = 0
                for try await response in responses {
                    #expect(response.payload.count == 64 << 10)
                    count += 1
                    if count % 50 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
                return count
            }
            #expect(count == 300)
            await connection.close()
        }
    }

    @Test func mutualTLSPeerReachesTheHandler() async throws {
        let whoAmI = MethodDescriptor(service: "test.Identity", method: "WhoAmI", kind: .unary)
        try await withEchoServer(configure: {
            $0.security = .tls(try TestCertificates.serverContext(clientAuthentication: .required))
        }, router: { router in
            router.registerUnary(whoAmI) { (_: EchoRequest, context) in
                EchoResponse { $0.text = context.peer.certificate?.commonName ?? "anonymous" }
            }
        }) { _, port, _ in
            let connection = try await connect(port: port, withCertificate: true)
            let response: RPCResponse<EchoResponse> = try await RPCClient(transport: connection).unary(whoAmI, request: EchoRequest())
            #expect(response.message.text == "bastion-dev-client")
            await connection.close()
            // Without a certificate the server refuses (TLS 1.3 reports it at the first read).
            await #expect(throws: (any Error).self) {
                let anonymous = try await connect(port: port)
                let _: RPCResponse<EchoResponse> = try await RPCClient(transport: anonymous).unary(whoAmI, request: EchoRequest())
            }
        }
    }

    @Test func healthCheck() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let health = Bastion_Health_V1_HealthClient(transport: connection)
            let response = try await health.check(Bastion_Health_V1_CheckRequest())
            #expect(response.message.status == .serving)
            #expect(response.message.version == "test")
            await connection.close()
        }
    }
}
