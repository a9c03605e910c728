import BastionProtobuf
import Testing

/// Hostile and broken input must give a clear ProtobufError, never a crash.
@Suite struct MalformedInputTests {
    typealias Everything = Bastion_Testing_V1_Everything
    typealias Legacy = Bastion_Testing_V1_Legacy

    func expectError<M: ProtobufMessage>(
        _ code: ProtobufError.Code,
        _ bytes: [UInt8],
        as _: M.Type = Everything.self,
        options: ProtobufDecodingOptions = .init(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try M(serializedBytes: bytes, options: options)
            Issue.record("decoding \(bytes) succeeded, expected \(code)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyTruncationOfValidMessagesFailsCleanlyOrDecodes() throws {
        var random = RandomValues(rng: SeededGenerator(seed: 3))
        for _ in 0..<40 {
            let bytes = random.everything().serializedBytes()
            for length in 0..<bytes.count {
                // A prefix may be a valid shorter message; it must never crash or misreport.
                do {
                    let message = try Everything(serializedBytes: bytes[0..<length])
                    #expect(message.serializedBytes().count <= bytes.count)
                } catch {
                    #expect([.truncated, .invalidLength, .invalidUTF8].contains(error.code), "\(error)")
                }
            }
        }
    }

    @Test func truncatedVarint() { expectError(.truncated, [0x08, 0x96]) }

    @Test func truncatedFixed64() { expectError(.truncated, [0x41, 1, 2, 3]) }

    @Test func truncatedFixed32() { expectError(.truncated, [0x3D, 1]) }

    @Test func varintLongerThanTenBytes() {
        expectError(.malformedVarint, [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01])
    }

    @Test func lengthBeyondTheInput() { expectError(.invalidLength, [0x72, 0x05, 0x61]) }

    @Test func oversizeLengthPrefix() {
        // A length of 2^62 must not be allocated or trusted.
        expectError(.invalidLength, [0x72, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40])
    }

    @Test func wireTypesSixAndSeven() {
        expectError(.invalidWireType, [0x0E, 0x00])
        expectError(.invalidWireType, [0x0F, 0x00])
    }

    @Test func fieldNumberZero() { expectError(.invalidFieldNumber, [0x00, 0x01]) }

    @Test func invalidUTF8InString() { expectError(.invalidUTF8, [0x72, 0x02, 0xC3, 0x28]) }

    @Test func endGroupWithoutStart() { expectError(.unmatchedEndGroup, [0x0C]) }

    @Test func groupWithoutEnd() {
        // Field 10 (group Extra) starts and the input ends.
        expectError(.truncated, [0x08, 0x01, 0x53, 0x58, 0x01], as: Legacy.self)
    }

    @Test func mismatchedEndGroup() {
        expectError(.unmatchedEndGroup, [0x08, 0x01, 0x53, 0x5C], as: Legacy.self)
    }

    @Test func unknownGroupWithoutEnd() { expectError(.truncated, [0xBB, 0x3E, 0x08, 0x01]) }

    @Test func nestingDeeperThanTheLimit() {
        // `recursive` (field 60) nested 150 levels; the default limit is 100.
        var bytes: [UInt8] = []
        for _ in 0..<150 {
            bytes = [0xE2, 0x03] + varint(bytes.count) + bytes
        }
        expectError(.depthLimitExceeded, bytes)
        #expect(throws: Never.self) {
            _ = try Everything(serializedBytes: bytes, options: ProtobufDecodingOptions(maxDepth: 200))
        }
    }

    @Test func unknownGroupsNestingDeeperThanTheLimit() {
        let start: [UInt8] = [0xBB, 0x3E]  // field 1000, start group
        let end: [UInt8] = [0xBC, 0x3E]
        let bytes = Array([[UInt8]](repeating: start, count: 120).joined()) + Array([[UInt8]](repeating: end, count: 120).joined())
        expectError(.depthLimitExceeded, bytes)
    }

    @Test func messageLargerThanTheLimit() {
        let message = Everything { $0.fBytes = [UInt8](repeating: 7, count: 1000) }
        expectError(.messageTooLarge, message.serializedBytes(), options: ProtobufDecodingOptions(maxMessageSize: 512))
    }

    @Test func missingRequiredField() {
        expectError(.missingRequiredField, [0x12, 0x01, 0x61], as: Legacy.self)
        #expect(throws: Never.self) {
            _ = try Legacy(serializedBytes: [0x12, 0x01, 0x61], options: ProtobufDecodingOptions(allowPartial: true))
        }
    }

    @Test func missingRequiredFieldInNestedGroup() {
        // id = 1, then a repeated group Item without its required key.
        expectError(.missingRequiredField, [0x08, 0x01, 0x6B, 0x78, 0x05, 0x6C], as: Legacy.self)
    }

    @Test func packedFixedPayloadOfWrongLength() {
        // r_fixed32 (field 32) packed with 5 bytes.
        expectError(.invalidLength, [0x82, 0x02, 0x05, 1, 2, 3, 4, 5])
    }

    @Test func errorsNameTheirOffset() throws {
        do {
            _ = try Everything(serializedBytes: [0x08, 0x01, 0x72, 0x09, 0x61])
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 4)
            #expect(error.description.contains("byte 4"))
        }
    }

    private func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }
}
