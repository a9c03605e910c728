import BastionBuiltinServices
import BastionProtobuf
import BastionRPC
import BastionTransport
import ServiceLifecycle
import Testing

@Suite struct ErrorTests {
    @Test func deadlineExceeded() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            await expectError(.deadlineExceeded) {
                _ = try await echo.get(EchoRequest { $0.delayMillis = 2000 }, options: CallOptions(timeout: .milliseconds(100)))
            }
            // The connection is still good afterwards.
            #expect(try await echo.get(EchoRequest { $0.text = "after" }).message.text == "after")
            await connection.close()
        }
    }

    @Test func requestedFailureCarriesRetryAfter() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            do {
                _ = try await echo.get(EchoRequest { $0.failWithCode = 8; $0.failWithMessage = "slow down"; $0.retryAfterMillis = 1500 })
                Issue.record("expected an error")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
                #expect(error.message == "slow down")
                #expect(error.retryAfter == .milliseconds(1500))
            }
            await connection.close()
        }
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let client = RPCClient(transport: connection)
            await expectError(.unimplemented) {
                let _: RPCResponse<EchoResponse> = try await client.unary(
                    MethodDescriptor(service: "bastion.echo.v1.Echo", method: "Nope", kind: .unary),
                    request: EchoRequest()
                )
            }
            await connection.close()
        }
    }

    @Test func tooManyConcurrentCalls() async throws {
        try await withEchoServer(configure: { $0.connection.settings.maxConcurrentCalls = 2 }) { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let codes = await withTaskGroup(of: RPCError.Code?.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        do {
                            _ = try await echo.get(EchoRequest { $0.delayMillis = 300 })
                            return nil
                        } catch let error as RPCError {
                            return error.code
                        } catch {
                            return .unknown
                        }
                    }
                }
                var codes: [RPCError.Code?] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(codes.filter { $0 == nil }.count == 2)
            #expect(codes.contains(.resourceExhausted))
            await connection.close()
        }
    }

    @Test func clientCancellation() async throws {
        try await withEchoServer { _, port, _ in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            let task = Task {
                try await echo.expand(EchoRequest { $0.delayMillis = 5000; $0.repeat = 1 }) { responses in
                    for try await _ in responses {}
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            // Cancelling the caller's task doesn't reach into the transport by itself; the call
            // ends at the client's cancel or deadline. Closing the connection ends it too.
            await connection.close()
            await expectError(.unavailable) { try await task.value }
        }
    }

    @Test func gracefulDrainLetsCallsInFlightFinish() async throws {
        try await withEchoServer { _, port, group in
            let connection = try await connect(port: port)
            let echo = Bastion_Echo_V1_EchoClient(transport: connection)
            // A call the server has certainly accepted: its first answer came back before the drain.
            let texts = try await echo.update(requests: { writer in
                try await writer.write(EchoRequest { $0.text = "first" })
                try await Task.sleep(for: .milliseconds(300))
                try await writer.write(EchoRequest { $0.text = "second"; $0.delayMillis = 200 })
            }, responses: { responses in
                var texts: [String] = []
                for try await response in responses {
                    texts.append(response.text)
                    if texts.count == 1 {
                        await group.triggerGracefulShutdown()
                        let refusal = await firstRefusal(echo)
                        #expect(refusal?.code == .unavailable, "\(String(describing: refusal))")
                    }
                }
                return texts
            })
            #expect(texts == ["first", "second"])
            await connection.close()
        }
    }
}
