import BastionProtobuf
import Testing

/// The generated codec's behaviour on hand-checked bytes, as the protobuf encoding guide gives them.
@Suite struct GeneratedCodecTests {
    typealias Everything = Bastion_Testing_V1_Everything
    typealias Legacy = Bastion_Testing_V1_Legacy

    @Test func encodingGuideExample() throws {
        // "08 96 01": field 1, varint 150.
        let message = Everything { $0.fInt32 = 150 }
        #expect(message.serializedBytes() == [0x08, 0x96, 0x01])
        #expect(try Everything(serializedBytes: [0x08, 0x96, 0x01]).fInt32 == 150)
    }

    /// `withSerializedBytes` lends exactly the bytes `serializedBytes()` returns, for messages
    /// small enough for the stack and for ones of hundreds of kilobytes (on the heap).
    @Test(arguments: [0, 1, 100, 2_000, 300_000])
    func lentEncodingIsTheEncoding(length: Int) {
        let message = Everything {
            $0.fInt32 = 150
            $0.fBytes = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            $0.rString = ["a", String(repeating: "b", count: length / 10)]
        }
        let expected = message.serializedBytes()
        #expect(message.withSerializedBytes { Array($0) } == expected)
        #expect(message.withSerializedBytes { $0.count } == message.serializedSize())
    }

    @Test func negativeInt32TakesTenBytes() {
        let bytes = Everything { $0.fInt32 = -1 }.serializedBytes()
        #expect(bytes == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func zigZag() {
        #expect(Everything { $0.fSint32 = -1 }.serializedBytes() == [0x28, 0x01])
        #expect(Everything { $0.fSint64 = 1 }.serializedBytes() == [0x30, 0x02])
        #expect(Everything { $0.fSint64 = Int64.min }.serializedBytes() == [0x30] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func proto3DefaultsAreNotWrittenButNegativeZeroIs() {
        #expect(Everything().serializedBytes().isEmpty)
        #expect(Everything { $0.fDouble = -0.0 }.serializedBytes() == [0x61, 0, 0, 0, 0, 0, 0, 0, 0x80])
    }

    @Test func proto3OptionalWritesZero() {
        #expect(Everything { $0.oInt32 = 0 }.serializedBytes() == [0xA0, 0x01, 0x00])
    }

    @Test func repeatedScalarsArePackedByDefaultAndReadEitherWay() throws {
        let packed = Everything { $0.rInt32 = [1, 2, 3] }.serializedBytes()
        #expect(packed == [0xF2, 0x01, 0x03, 0x01, 0x02, 0x03])
        let unpacked: [UInt8] = [0xF0, 0x01, 0x01, 0xF0, 0x01, 0x02, 0xF0, 0x01, 0x03]
        #expect(try Everything(serializedBytes: unpacked).rInt32 == [1, 2, 3])
        #expect(Everything { $0.rUint64Unpacked = [5, 6] }.serializedBytes() == [0xB8, 0x02, 0x05, 0xB8, 0x02, 0x06])
    }

    @Test func openEnumsKeepUnknownValues() throws {
        let message = try Everything(serializedBytes: [0x80, 0x01, 0x07])
        #expect(message.fColor == .unrecognized(7))
        #expect(message.serializedBytes() == [0x80, 0x01, 0x07])
        #expect(Bastion_Testing_V1_Color(rawValue: -3) == .blue)
    }

    @Test func closedEnumsSendUnknownValuesToUnknownFields() throws {
        // id = 1; level = 9 (not a Level); levels = [2, 9] unpacked.
        let bytes: [UInt8] = [0x08, 0x01, 0x18, 0x09, 0x38, 0x02, 0x38, 0x09]
        let message = try Legacy(serializedBytes: bytes)
        #expect(message.level == nil)
        #expect(message.levels == [.mid])
        #expect(message.unknownFields.bytes == [0x18, 0x09, 0x38, 0x09])
    }

    @Test func closedEnumMapValueKeepsTheWholeEntry() throws {
        // id = 1; mode_map {1: 7} where 7 is not a Mode.
        let entry: [UInt8] = [0x8A, 0x01, 0x04, 0x08, 0x01, 0x10, 0x07]
        let message = try Legacy(serializedBytes: [0x08, 0x01] + entry)
        #expect(message.modeMap.isEmpty)
        #expect(message.unknownFields.bytes == entry)
    }

    @Test func proto2DefaultsAndPresence() throws {
        let message = try Legacy(serializedBytes: [0x08, 0x05])
        #expect(message.id == 5)
        #expect(message.name == nil)
        #expect(message.nameOrDefault == "anonymous")
        #expect(message.levelOrDefault == .mid)
        #expect(message.blobOrDefault == [1, 2, UInt8(ascii: "x"), UInt8(ascii: "\""), UInt8(ascii: "\\")])
        #expect(message.ratioOrDefault == -.infinity)
        #expect(message.bigOrDefault == UInt64.max)
        #expect(Legacy().levelOrDefault == .mid)
        #expect(Bastion_Testing_V1_Level() == .low)
    }

    @Test func groupsRoundTrip() throws {
        var message = Legacy()
        message.id = 1
        message.extra = Legacy.Extra { $0.x = 3 }
        message.item = [Legacy.Item { $0.key = "k" }]
        let bytes = message.serializedBytes()
        #expect(bytes == [0x08, 0x01, 0x53, 0x58, 0x03, 0x54, 0x6B, 0x72, 0x01, 0x6B, 0x6C])
        #expect(try Legacy(serializedBytes: bytes) == message)
    }

    @Test func repeatedSingularMessagesMerge() throws {
        // f_nested {a: 1} then f_nested {b: "x"} merge into {a: 1, b: "x"}.
        let bytes: [UInt8] = [0x8A, 0x01, 0x02, 0x08, 0x01, 0x8A, 0x01, 0x03, 0x12, 0x01, 0x78]
        let message = try Everything(serializedBytes: bytes)
        #expect(message.fNested?.a == 1)
        #expect(message.fNested?.b == "x")
    }

    @Test func oneofMessageOccurrencesMerge() throws {
        // c_nested {a: 1} then c_nested {b: "x"}.
        let bytes: [UInt8] = [0x9A, 0x03, 0x02, 0x08, 0x01, 0x9A, 0x03, 0x03, 0x12, 0x01, 0x78]
        let message = try Everything(serializedBytes: bytes)
        #expect(message.choice == .cNested(.init { $0.a = 1; $0.b = "x" }))
    }

    @Test func oneofLastMemberWins() throws {
        let bytes: [UInt8] = [0x92, 0x03, 0x01, 0x61, 0xA0, 0x03, 0x05]
        #expect(try Everything(serializedBytes: bytes).choice == .cInt64(5))
    }

    @Test func unknownFieldsAreKeptInOrder() throws {
        let unknown: [UInt8] = [0xC0, 0x3E, 0x01, 0xCD, 0x3E, 1, 2, 3, 4, 0xBB, 0x3E, 0x08, 0x01, 0xBC, 0x3E]
        let message = try Everything(serializedBytes: [0x08, 0x01] + unknown)
        #expect(message.unknownFields.bytes == unknown)
        #expect(message.serializedBytes() == [0x08, 0x01] + unknown)
        let discarded = try Everything(serializedBytes: unknown, options: ProtobufDecodingOptions(discardUnknownFields: true))
        #expect(discarded.unknownFields.isEmpty)
    }

    @Test func selfContainingMessagesAreValues() throws {
        var outer = Everything()
        outer.recursive = Everything { $0.fString = "inner" }
        var copy = outer
        copy.recursive?.fString = "changed"
        #expect(outer.recursive?.fString == "inner")
        #expect(copy.recursive?.fString == "changed")
        #expect(try Everything(serializedBytes: outer.serializedBytes()) == outer)
    }

    @Test func largestFieldNumber() throws {
        let message = Everything { $0.fMaxFieldNumber = 1 }
        #expect(message.serializedBytes() == [0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0x01])
        #expect(try Everything(serializedBytes: message.serializedBytes()) == message)
    }

    @Test func serializeIntoCallerMemory() throws {
        let message = Everything { $0.fString = "hello"; $0.rNested = [.init { $0.a = 1 }] }
        var buffer = [UInt8](repeating: 0, count: message.serializedSize())
        buffer.withUnsafeMutableBytes { message.serialize(into: $0) }
        #expect(buffer == message.serializedBytes())
    }
}
