import BastionProtobuf
import Foundation
import Testing

/// Round trips against the Python `protobuf` package (upb): thousands of random messages of
/// schemas that use every feature, in both directions.
@Suite struct InteroperabilityTests {
    static let count = 2000

    @Test(arguments: ["everything", "legacy"])
    func pythonEncodesSwiftReencodesPythonDecodes(schema: String) throws {
        let directory = try PythonReference.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fromPython = directory.appending(path: "python.bin")
        let fromSwift = directory.appending(path: "swift.bin")
        try PythonReference.run(["generate", "--message", schema, "--count", "\(Self.count)", "--seed", "7", fromPython.path])

        let frames = try Frames.read(fromPython)
        #expect(frames.count == Self.count)
        let reencoded = try frames.map { bytes in
            schema == "everything"
                ? try Self.reencode(Bastion_Testing_V1_Everything.self, bytes)
                : try Self.reencode(Bastion_Testing_V1_Legacy.self, bytes)
        }
        try Frames.write(reencoded, to: fromSwift)
        let verdict = try PythonReference.run(["compare", "--message", schema, fromPython.path, fromSwift.path])
        #expect(verdict.contains("\(Self.count) passed, 0 failed"), "\(verdict)")
    }

    @Test(arguments: ["everything", "legacy"])
    func swiftEncodesPythonReencodesSwiftDecodes(schema: String) throws {
        let directory = try PythonReference.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fromSwift = directory.appending(path: "swift.bin")
        let fromPython = directory.appending(path: "python.bin")
        var random = RandomValues(rng: SeededGenerator(seed: 11))
        let everything = (0..<Self.count).map { _ in random.everything() }
        let legacy = (0..<Self.count).map { _ in random.legacy() }
        let frames = schema == "everything" ? everything.map { $0.serializedBytes() } : legacy.map { $0.serializedBytes() }
        try Frames.write(frames, to: fromSwift)

        try PythonReference.run(["echo", "--message", schema, fromSwift.path, fromPython.path])
        let echoed = try Frames.read(fromPython)
        try #require(echoed.count == Self.count)
        for index in 0..<Self.count {
            if schema == "everything" {
                let same = try Bastion_Testing_V1_Everything(serializedBytes: echoed[index]) == everything[index]
                #expect(same, "message \(index) differs after Python")
            } else {
                let same = try Bastion_Testing_V1_Legacy(serializedBytes: echoed[index]) == legacy[index]
                #expect(same, "message \(index) differs after Python")
            }
        }
    }

    /// Decodes, checks the size prediction, re-encodes.
    static func reencode<Message: ProtobufMessage>(_: Message.Type, _ bytes: [UInt8]) throws -> [UInt8] {
        let message = try Message(serializedBytes: bytes)
        let encoded = message.serializedBytes()
        #expect(encoded.count == message.serializedSize())
        let same = try Message(serializedBytes: encoded) == message
        #expect(same, "\(Message.protobufMessageName) changed after a Swift round trip")
        return encoded
    }
}
