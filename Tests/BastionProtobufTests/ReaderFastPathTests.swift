import BastionProtobuf
import Testing

/// The reader's fast paths (one-byte tags and varints, word-at-a-time varints, ASCII strings,
/// packed fields decoded in place) must agree with the straightforward definitions and reject
/// every malformed input the slow paths reject.
@Suite struct ReaderFastPathTests {
    /// Runs `body` with a reader over `bytes`.
    func withReader<R>(
        _ bytes: [UInt8],
        _ body: (inout ProtobufReader) throws(ProtobufError) -> R
    ) throws(ProtobufError) -> R {
        let result = bytes.withUnsafeBytes { buffer in
            var reader = ProtobufReader(buffer: buffer)
            return Result { () throws(ProtobufError) in try body(&reader) }
        }
        return try result.get()
    }

    /// `bytes` as a length-delimited string value, read with `readString()`.
    func readString(_ bytes: [UInt8]) throws(ProtobufError) -> String {
        try withReader(lengthPrefix(bytes.count) + bytes) { reader throws(ProtobufError) in try reader.readString() }
    }

    func isAccepted(_ bytes: [UInt8]) -> Bool {
        (try? readString(bytes)) != nil
    }

    @Test(arguments: [
        [UInt8](), Array("a".utf8), Array("hello world!".utf8), Array("fifteen bytes!!".utf8),
        Array("sixteen bytes!!!".utf8), Array(String(repeating: "ascii ", count: 20).utf8),
        Array("é".utf8), Array("naïve café".utf8), Array("日本語のテキスト".utf8), Array("emoji 🎉 and 𝄞".utf8),
        [0xEF, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
        [0xE0, 0xA0, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xC2, 0x80],
    ])
    func wellFormedUTF8IsAccepted(bytes: [UInt8]) throws {
        #expect(try readString(bytes) == String(decoding: bytes, as: UTF8.self))
    }

    @Test(arguments: [
        // Lone continuation bytes and invalid leads.
        [0x80], [0xBF], [0x61, 0x80], [0xFF], [0xFE], [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
        // Overlong forms of '/', NUL and U+07FF, U+FFFF.
        [0xC0, 0xAF], [0xC1, 0xBF], [0xC0, 0x80], [0xE0, 0x80, 0xAF], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0xAF],
        [0xF0, 0x8F, 0xBF, 0xBF],
        // UTF-16 surrogates, alone and paired.
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80],
        // Above U+10FFFF.
        [0xF4, 0x90, 0x80, 0x80], [0xF7, 0xBF, 0xBF, 0xBF],
        // Truncated sequences, at the end and before ASCII.
        [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x8E], [0xE2, 0x82, 0x61], [0xF0, 0x9F, 0x8E, 0x61],
        // Invalid bytes after a long ASCII prefix (the word-at-a-time path) and in the last word.
        Array("0123456789abcdef".utf8) + [0xC3, 0x28], Array("0123456789abc".utf8) + [0xED, 0xA0, 0x80],
        Array("0123456".utf8) + [0x80],
    ])
    func malformedUTF8IsRejected(bytes: [UInt8]) {
        do throws(ProtobufError) {
            _ = try readString(bytes)
            Issue.record("\(bytes) accepted")
        } catch {
            #expect(error.code == .invalidUTF8)
        }
    }

    /// Strings of up to 15 bytes are built in the standard library's inline form by hand: they must
    /// be exactly (bit for bit) the strings the standard library makes, for every short length,
    /// ASCII or not, and behave as such (compare, hash, grow into a heap string).
    @Test func shortStringsAreTheStandardLibrarysOwn() throws {
        let scalars = ["a", "Z", "0", "é", "€", "日", "🎉"]
        var generator = SplitMix(seed: 0x51_5A11)
        for length in 1...15 {
            for _ in 0..<40 {
                var text = ""
                while text.utf8.count < length {
                    let next = scalars[Int(generator.next() % UInt64(scalars.count))]
                    text += text.utf8.count + next.utf8.count <= length ? next : "a"
                }
                let bytes = Array(text.utf8)
                let reference = String(decoding: bytes, as: UTF8.self)
                let decoded = try readString(bytes)
                #expect(unsafeBitCast(decoded, to: (UInt64, UInt64).self) == unsafeBitCast(reference, to: (UInt64, UInt64).self))
                #expect(decoded == reference && decoded.hashValue == reference.hashValue)
                #expect(Array(decoded.utf8) == bytes && decoded.count == reference.count)
                #expect(decoded + "-" + decoded == reference + "-" + reference)
            }
        }
    }

    @Test func utf8ValidationAgreesWithTheStandardLibrary() {
        // Random short sequences biased towards the interesting bytes, at every alignment.
        var generator = SplitMix(seed: 0x5EED)
        let interesting: [UInt8] = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
            0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ]
        for _ in 0..<20_000 {
            let prefix = Int(generator.next() % 20)
            let length = Int(generator.next() % 8)
            var bytes = [UInt8](repeating: 0x61, count: prefix)
            for _ in 0..<length { bytes.append(interesting[Int(generator.next() % UInt64(interesting.count))]) }
            let expected = String(validating: bytes, as: UTF8.self)
            let accepted = try? readString(bytes)
            #expect(accepted == expected, "\(bytes)")
        }
    }

    @Test func varintsOfEveryLengthAtEveryDistanceFromTheEnd() throws {
        for bits in 0...64 {
            let value: UInt64 = bits == 0 ? 0 : (bits == 64 ? .max : (1 << UInt64(bits)) - 1)
            var encoded: [UInt8] = []
            var rest = value
            while rest >= 0x80 {
                encoded.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            encoded.append(UInt8(rest))
            for padding in 0..<12 {
                let input = encoded + [UInt8](repeating: 0x01, count: padding)
                let decoded = try withReader(input) { reader throws(ProtobufError) in
                    let first = try reader.readVarint()
                    var rest: [UInt64] = []
                    for _ in 0..<padding { rest.append(try reader.readVarint()) }
                    return (first, rest)
                }
                #expect(decoded.0 == value)
                #expect(decoded.1 == [UInt64](repeating: 1, count: padding))
            }
        }
    }

    @Test func truncatedAndOverlongVarintsAtEveryDistanceFromTheEnd() {
        for length in 1...12 {
            let continued = [UInt8](repeating: 0xFF, count: length)
            do throws(ProtobufError) {
                _ = try withReader(continued) { reader throws(ProtobufError) in try reader.readVarint() }
                Issue.record("\(length) continuation bytes decoded")
            } catch {
                #expect(error.code == (length >= 10 ? .malformedVarint : .truncated))
                #expect(error.offset == 0)
            }
        }
    }

    @Test func packedVarintsOfMixedLengths() throws {
        var generator = SplitMix(seed: 7)
        let values = (0..<500).map { _ in generator.next() >> (generator.next() % 64) }
        var payload: [UInt8] = []
        for value in values {
            var rest = value
            while rest >= 0x80 {
                payload.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            payload.append(UInt8(rest))
        }
        var input = lengthPrefix(payload.count) + payload
        input.append(0x2A)  // a byte after the payload, which must not be consumed
        var decoded: [UInt64] = [1, 2]  // packed fields append to what is there
        let after = try withReader(input) { reader throws(ProtobufError) in
            try reader.readPackedVarints(into: &decoded) { $0 }
            return try reader.readVarint()
        }
        #expect(after == 0x2A)
        #expect(decoded == [1, 2] + values)
    }

    @Test(arguments: [
        // A payload ending inside a varint, one with an eleven-byte varint, one whose length
        // runs past the input.
        [0x03, 0x01, 0x02, 0x80] as [UInt8], [0x0B] + [UInt8](repeating: 0x80, count: 10) + [0x01],
        [0x0C] + [UInt8](repeating: 0x80, count: 10) + [0x01, 0x01], [0x05, 0x01],
        [0x09, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x80],
    ])
    func malformedPackedVarintsAreRejectedAndLeaveTheArray(input: [UInt8]) {
        var decoded: [Int32] = [7]
        #expect(throws: ProtobufError.self) {
            try withReader(input) { reader throws(ProtobufError) in
                try reader.readPackedVarints(into: &decoded) { Int32(truncatingIfNeeded: $0) }
            }
        }
        #expect(decoded == [7])
    }

    @Test func packedFixedValuesAreCopiedInOneBlock() throws {
        let doubles: [Double] = [0, -0.0, 1.5, .pi, -.infinity, .greatestFiniteMagnitude]
        let floats: [Float] = [0, 2.5, -.infinity]
        var input: [UInt8] = lengthPrefix(doubles.count * 8)
        for value in doubles { input += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        input += lengthPrefix(floats.count * 4)
        for value in floats { input += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        var decodedDoubles: [Double] = [9]
        var decodedFloats: [Float] = []
        try withReader(input) { reader throws(ProtobufError) in
            try reader.readPackedFixed64(into: &decodedDoubles) { Double(bitPattern: $0) }
            try reader.readPackedFixed32(into: &decodedFloats) { Float(bitPattern: $0) }
        }
        #expect(decodedDoubles.map(\.bitPattern) == ([9] + doubles).map(\.bitPattern))
        #expect(decodedFloats == floats)
    }

    @Test func writerSlackAndExactBuffersGiveTheSameBytes() {
        // serializedBytes() encodes with room to spare; serialize(into:) into the exact size.
        let values: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 35, 1 << 56, .max]
        let size = values.map { ProtobufSize.varint($0) }.reduce(0, +)
        var exact = [UInt8](repeating: 0, count: size)
        exact.withUnsafeMutableBytes { buffer in
            var writer = ProtobufWriter(buffer: buffer, sizeCache: ProtobufSizeCache())
            for value in values { writer.writeVarint(value) }
            #expect(writer.bytesWritten == size)
        }
        var roomy = [UInt8](repeating: 0, count: size + 16)
        roomy.withUnsafeMutableBytes { buffer in
            var writer = ProtobufWriter(buffer: buffer, sizeCache: ProtobufSizeCache())
            for value in values { writer.writeVarint(value) }
            #expect(writer.bytesWritten == size)
        }
        #expect(Array(roomy[..<size]) == exact)
    }

    private func lengthPrefix(_ count: Int) -> [UInt8] {
        var value = UInt64(count)
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }
}

/// A small deterministic generator for the tests above.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
