import BastionProtobuf
import Foundation
import Testing

/// Replays the protobuf decoding fuzzer's saved inputs, its seed corpus and the failures it found
/// (`FuzzTesting/Corpus/FuzzProtobufDecode`, `FuzzTesting/FailCases/FuzzProtobufDecode`), through
/// this target's generated messages: each input must either fail with a ``ProtobufError`` or decode
/// to a message that predicts its own size and survives a round trip. The fuzzer itself needs a
/// sanitizer build (`FuzzTesting/fuzz.sh`); this keeps its findings fixed in every `swift test`.
@Suite struct FailCasesReplayTests {
    static let repositoryRoot = URL(filePath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static let folders = [
        "FuzzTesting/Corpus/FuzzProtobufDecode",
        "FuzzTesting/FailCases/FuzzProtobufDecode",
    ]

    /// The fuzzer's default limits, and tight ones as a service facing untrusted peers might set.
    static let options = [
        ProtobufDecodingOptions(),
        ProtobufDecodingOptions(allowPartial: true),
        ProtobufDecodingOptions(maxDepth: 3, maxMessageSize: 1024),
        ProtobufDecodingOptions(maxDepth: 0, allowPartial: true, discardUnknownFields: true),
    ]

    /// Paths of the saved inputs, relative to the repository root; a folder may be absent.
    static func savedInputs() -> [String] {
        var paths: [String] = []
        for folder in folders {
            let directory = repositoryRoot.appending(path: folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            paths += names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { "\(folder)/\($0)" }
        }
        return paths
    }

    @Test func seedCorpusIsFound() {
        #expect(
            Self.savedInputs().contains { $0.hasPrefix(Self.folders[0]) },
            "no seeds under \(Self.repositoryRoot.path)"
        )
    }

    @Test(arguments: savedInputs())
    func savedInputDecodesOrFails(path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.repositoryRoot.appending(path: path)))
        for options in Self.options {
            Self.expectRoundTripOrError(Bastion_Testing_V1_Everything.self, bytes, options, hasNaN: \.hasNaN)
            Self.expectRoundTripOrError(Bastion_Testing_V1_Legacy.self, bytes, options, hasNaN: \.hasNaN)
        }
    }

    static func expectRoundTripOrError<Message: ProtobufMessage>(
        _: Message.Type,
        _ bytes: [UInt8],
        _ options: ProtobufDecodingOptions,
        hasNaN: (Message) -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let first: Message
        do {
            first = try Message(serializedBytes: bytes, options: options)
        } catch {
            return  // a ProtobufError (the initializer throws no other type): malformed input, rejected
        }
        if !options.allowPartial {
            #expect(first.protobufIsInitialized, sourceLocation: sourceLocation)
        }
        let encoded = first.serializedBytes()
        #expect(encoded.count == first.serializedSize(), sourceLocation: sourceLocation)

        // The encoding may be longer than the input, and a level deeper: a map entry without its
        // message value decodes to an empty message, which is written out and costs a level to read.
        var again = options
        again.maxMessageSize = .max
        again.maxDepth = options.maxDepth + 1
        let second: Message
        do {
            second = try Message(serializedBytes: encoded, options: again)
        } catch {
            Issue.record(
                "\(Message.protobufMessageName) does not decode its own encoding: \(error)",
                sourceLocation: sourceLocation
            )
            return
        }
        if hasNaN(first) {
            // NaN is unequal to itself, so equal messages holding one compare unequal.
            #expect(second.serializedSize() == encoded.count, sourceLocation: sourceLocation)
        } else {
            #expect(
                second == first,
                "\(Message.protobufMessageName) changed in a round trip",
                sourceLocation: sourceLocation
            )
        }
    }
}

extension Bastion_Testing_V1_Everything {
    /// Whether a float or double anywhere in the message is a NaN (`Nested`, `Keywords` and
    /// `Imported` hold none).
    fileprivate var hasNaN: Bool {
        if fFloat.isNaN || fDouble.isNaN || oDouble?.isNaN == true { return true }
        if rDouble.contains(where: \.isNaN) || mFixed64Double.values.contains(where: \.isNaN) { return true }
        if recursive?.hasNaN == true { return true }
        if case .cSelf(let value)? = choice, value.hasNaN { return true }
        return false
    }
}

extension Bastion_Testing_V1_Legacy {
    /// Whether a float or double anywhere in the message is a NaN (`Extra` and `Item` hold none).
    fileprivate var hasNaN: Bool {
        ratio?.isNaN == true || scale?.isNaN == true || child?.hasNaN == true
    }
}
