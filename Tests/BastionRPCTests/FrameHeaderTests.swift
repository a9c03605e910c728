import BastionProtobuf
import BastionRPC
import Testing

@Suite struct FrameHeaderTests {
    @Test func layoutMatchesTheProtocolDocument() {
        // docs/PROTOCOL.md, section 7: HEADERS of 6 bytes on stream 1.
        let header = FrameHeader(payloadLength: 6, type: .headers, streamID: 1)
        #expect(header.bytes == [0, 0, 0, 6, 0x01, 0x00, 0, 0, 0, 1])
        let message = FrameHeader(payloadLength: 0x0102_0304, type: .message, flags: [.endStream, .more], streamID: 0xA0B0_C0D0)
        #expect(message.bytes == [1, 2, 3, 4, 0x02, 0x03, 0xA0, 0xB0, 0xC0, 0xD0])
    }

    @Test(arguments: [
        FrameHeader(payloadLength: 0, type: .settings, flags: .ack, streamID: 0),
        FrameHeader(payloadLength: 8, type: .ping, streamID: 0),
        FrameHeader(payloadLength: 1 << 20, type: .message, flags: .more, streamID: 7),
        FrameHeader(payloadLength: UInt32.max, type: FrameType(rawValue: 0xFF), flags: FrameFlags(rawValue: 0xFF), streamID: UInt32.max),
    ])
    func parsesWhatItWrites(header: FrameHeader) {
        let parsed = header.bytes.withUnsafeBytes { FrameHeader(parsing: $0) }
        #expect(parsed == header)
    }

    func expectRejected(_ header: FrameHeader, _ code: FramingError.Code, limits: FrameLimits = FrameLimits()) {
        #expect {
            try FrameHeaderValidator(limits: limits).validate(header)
        } throws: { error in
            (error as? FramingError)?.code == code
        }
    }

    @Test func unknownTypesAreRefused() {
        expectRejected(FrameHeader(payloadLength: 0, type: FrameType(rawValue: 0x9), streamID: 1), .unknownFrameType)
    }

    @Test func framesMustBeOnTheirStream() {
        expectRejected(FrameHeader(payloadLength: 8, type: .ping, streamID: 3), .wrongStream)
        expectRejected(FrameHeader(payloadLength: 2, type: .goAway, streamID: 1), .wrongStream)
        expectRejected(FrameHeader(payloadLength: 2, type: .headers, streamID: 0), .wrongStream)
        expectRejected(FrameHeader(payloadLength: 2, type: .message, streamID: 0), .wrongStream)
        #expect(throws: Never.self) {
            try FrameHeaderValidator().validate(FrameHeader(payloadLength: 4, type: .windowUpdate, streamID: 0))
        }
    }

    @Test func oversizeLengthsAreRefusedBeforeAnyPayloadIsRead() {
        let limits = FrameLimits(maxFrameSize: 1024, maxMessageSize: 4096, maxHeaderSize: 128)
        expectRejected(FrameHeader(payloadLength: 1025, type: .message, streamID: 1), .frameTooLarge, limits: limits)
        expectRejected(FrameHeader(payloadLength: 129, type: .headers, streamID: 1), .frameTooLarge, limits: limits)
        expectRejected(FrameHeader(payloadLength: UInt32.max, type: .message, streamID: 1), .frameTooLarge)
        #expect(throws: Never.self) {
            try FrameHeaderValidator(limits: limits).validate(FrameHeader(payloadLength: 1024, type: .message, streamID: 1))
        }
    }

    @Test func fixedSizePayloadsAreChecked() {
        expectRejected(FrameHeader(payloadLength: 7, type: .ping, streamID: 0), .malformedPayload)
        expectRejected(FrameHeader(payloadLength: 5, type: .windowUpdate, streamID: 1), .malformedPayload)
        expectRejected(FrameHeader(payloadLength: 1, type: .halfClose, streamID: 1), .malformedPayload)
    }

    @Test func statusCodesKeepGRPCNumbers() {
        #expect(RPCStatusCode.ok.rawValue == 0)
        #expect(RPCStatusCode.unimplemented.rawValue == 12)
        #expect(RPCStatusCode.unauthenticated.rawValue == 16)
        #expect(RPCStatusCode.allCases.count == 17)
        let trailer = RPCCallTrailer {
            $0.code = .resourceExhausted
            $0.details = RPCErrorDetails { $0.retryAfterMillis = 1500 }
        }
        #expect(trailer.serializedBytes() == [0x08, 0x08, 0x1A, 0x03, 0x08, 0xDC, 0x0B])
    }
}
