import BastionProtobuf
import Testing

@Suite struct WireFormatTests {
    @Test(arguments: [
        (UInt64(0), 1), (127, 1), (128, 2), (16383, 2), (16384, 3), (UInt64(UInt32.max), 5), (UInt64.max, 10),
    ])
    func varintSizes(value: UInt64, size: Int) {
        #expect(ProtobufSize.varint(value) == size)
    }

    @Test func int32SizeSignExtendsNegatives() {
        #expect(ProtobufSize.int32(-1) == 10)
        #expect(ProtobufSize.int32(1) == 1)
    }

    @Test(arguments: [(Int32(0), UInt32(0)), (-1, 1), (1, 2), (-2, 3), (Int32.max, UInt32.max - 1), (Int32.min, UInt32.max)])
    func zigZag32(value: Int32, encoded: UInt32) {
        #expect(ZigZag.encode(value) == encoded)
        #expect(ZigZag.decode(encoded) == value)
    }

    @Test func zigZag64Extremes() {
        #expect(ZigZag.encode(Int64.min) == UInt64.max)
        #expect(ZigZag.decode(UInt64.max) == Int64.min)
        #expect(ZigZag.encode(Int64.max) == UInt64.max - 1)
    }

    @Test func writerAndReaderAgreeOnVarints() {
        let values: [UInt64] = [0, 1, 127, 128, 300, 1 << 35, UInt64.max]
        let size = values.map { ProtobufSize.varint($0) }.reduce(0, +)
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { buffer in
            var writer = ProtobufWriter(buffer: buffer, sizeCache: ProtobufSizeCache())
            for value in values { writer.writeVarint(value) }
            #expect(writer.bytesWritten == size)
        }
        let decoded = bytes.withUnsafeBytes { buffer in
            var reader = ProtobufReader(buffer: buffer)
            return values.map { _ in try? reader.readVarint() }
        }
        #expect(decoded == values)
    }

    /// Strings and bytes of up to 16 bytes are copied without memcpy (overlapping word copies);
    /// every length on both sides of those paths must come out byte for byte, also when the
    /// value ends exactly at the end of the buffer.
    @Test(arguments: 0...40)
    func shortAndLongRawCopies(length: Int) {
        let text = String((0..<length).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
        let payload = Array(text.utf8)
        // Both a small (inline) string and, for the same bytes, a native heap string.
        for value in [text, String(decoding: payload + [0x21], as: UTF8.self).dropLast().description] {
            var bytes = [UInt8](repeating: 0xEE, count: 1 + ProtobufSize.string(value))
            bytes.withUnsafeMutableBytes { buffer in
                var writer = ProtobufWriter(buffer: buffer, sizeCache: ProtobufSizeCache())
                writer.writeTag(10)
                writer.writeString(value)
                #expect(writer.bytesWritten == buffer.count)
            }
            #expect(bytes == [10, UInt8(length)] + payload)
        }
        var bytes = [UInt8](repeating: 0xEE, count: 1 + ProtobufSize.bytes(payload))
        bytes.withUnsafeMutableBytes { buffer in
            var writer = ProtobufWriter(buffer: buffer, sizeCache: ProtobufSizeCache())
            writer.writeTag(18)
            writer.writeBytes(payload)
            #expect(writer.bytesWritten == buffer.count)
        }
        #expect(bytes == [18, UInt8(length)] + payload)
    }

    @Test func readerReportsTruncationAtItsOffset() {
        [UInt8]([0x96]).withUnsafeBytes { buffer in
            var reader = ProtobufReader(buffer: buffer)
            #expect(throws: ProtobufError.self) { try reader.readVarint() }
        }
    }

    @Test func tagParts() {
        let tag = ProtobufTag(fieldNumber: 5, wireType: .lengthDelimited)
        #expect(tag.rawValue == 42)
        #expect(tag.fieldNumber == 5)
        #expect(tag.wireType == .lengthDelimited)
    }

    @Test func errorDescriptionsNameTheProblem() {
        let error = ProtobufError(code: .invalidUTF8, message: "string field holds invalid UTF-8", offset: 3)
        #expect(error.description == "protobuf decoding failed (invalid UTF-8) at byte 3: string field holds invalid UTF-8")
    }
}
