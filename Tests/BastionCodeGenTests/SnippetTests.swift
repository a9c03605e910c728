import BastionCodeGen
import BastionProtobuf
import Testing

/// Small schemas rendered through real protoc, checked for the code that matters.
@Suite struct SnippetTests {
    func render(_ source: String, parameter: String? = nil) throws -> String {
        let response = try Protoc.generate(source, parameter: parameter)
        try #require(response.error == nil, "\(response.error ?? "")")
        return try #require(response.file.first?.content)
    }

    @Test func proto3MessageShape() throws {
        let code = try render(
            """
            syntax = "proto3";
            package demo.v1;
            // A greeting.
            message Hello {
              string name = 1;
              optional int32 count = 2;
              repeated sint64 values = 3;
              map<string, Hello> children = 4;
            }
            """
        )
        #expect(code.contains("public import BastionProtobuf"))
        #expect(code.contains("/// A greeting.\npublic struct Demo_V1_Hello: ProtobufMessage {"))
        #expect(code.contains("    public var name: String = \"\"\n"))
        #expect(code.contains("    public var count: Int32? = nil\n"))
        #expect(code.contains("    public var values: [Int64] = []\n"))
        #expect(code.contains("    public var children: [String: Demo_V1_Hello] = [:]\n"))
        #expect(code.contains("public static let protobufMessageName = \"demo.v1.Hello\""))
        // Packed by default in proto3, with the payload length taken from the size cache.
        #expect(code.contains("size += 1 + sizes.record(payload)"))
        #expect(code.contains("writer.writeTag(26)\n            writer.writeRecordedLength()"))
    }

    @Test func oneofBecomesAnEnumWithIndirectRecursion() throws {
        let code = try render(
            """
            syntax = "proto3";
            message Node {
              oneof kind {
                string leaf = 1;
                Node branch = 2;
              }
              Node parent = 3;
            }
            """
        )
        #expect(code.contains("public var kind: Kind? = nil"))
        #expect(code.contains("public enum Kind: Hashable, Sendable {"))
        #expect(code.contains("case leaf(String)"))
        #expect(code.contains("indirect case branch(Node)"))
        #expect(code.contains("var _parent: ProtobufIndirect<Node>? = nil"))
    }

    /// Found by reading the fuzz target's decoder: merging repeated occurrences of a singular
    /// message field copied the merged value each time (quadratic). The field must let go of
    /// its value before decoding into it.
    @Test func repeatedOccurrencesMergeWithoutCopying() throws {
        let code = try render(
            """
            syntax = "proto3";
            message Leaf { repeated int32 values = 1; }
            message Outer {
              Leaf leaf = 1;
              Outer again = 2;
              oneof pick { Leaf picked = 3; }
            }
            """
        )
        #expect(code.contains("var value = self.leaf ?? .init()\n                self.leaf = nil\n                try reader.readMessage(into: &value)"))
        #expect(code.contains("var value = self.again ?? .init()\n                self.again = nil\n"))
        #expect(code.contains("var value = Leaf()\n                if case .picked(let existing)? = self.pick { value = existing; self.pick = nil }\n"))
    }

    @Test func swiftPrefixOptionAndVisibility() throws {
        let code = try render(
            """
            syntax = "proto3";
            package a.b;
            option swift_prefix = "My";
            message Thing { int32 x = 1; }
            """,
            parameter: "Visibility=internal"
        )
        #expect(code.contains("\nimport BastionProtobuf"))
        #expect(code.contains("struct MyThing: ProtobufMessage {"))
        #expect(!code.contains("public "))
    }

    @Test func enumsOpenClosedAndAliases() throws {
        let open = try render(
            """
            syntax = "proto3";
            enum Shade {
              option allow_alias = true;
              SHADE_UNSPECIFIED = 0;
              SHADE_DARK = 1;
              SHADE_BLACK = 1;
            }
            """
        )
        #expect(open.contains("case unspecified // = 0"))
        #expect(open.contains("case dark // = 1"))
        #expect(open.contains("case unrecognized(Int32)"))
        #expect(open.contains("public static let black = Shade.dark"))
        #expect(open.contains("public init(rawValue: Int32) {"))

        let closed = try render(
            """
            syntax = "proto2";
            enum Type { TYPE_STRING = 1; TYPE_ENUM = 2; }
            """
        )
        #expect(closed.contains("public enum TypeEnum: ProtobufEnum, CaseIterable {"))
        #expect(closed.contains("case string // = 1"))
        #expect(closed.contains("case `enum` // = 2"))
        #expect(closed.contains("public init?(rawValue: Int32) {"))
        #expect(!closed.contains("unrecognized"))
    }

    @Test func reservedNamesAreEscapedOrRenamed() throws {
        let code = try render(
            """
            syntax = "proto3";
            message Holder {
              message Type { int32 x = 1; }
              Type type = 1;
              bool self = 2;
              int32 unknown_fields = 3;
            }
            """
        )
        #expect(code.contains("public struct TypeMessage: ProtobufMessage"))
        #expect(code.contains("public var type: Holder.TypeMessage? = nil"))
        #expect(code.contains("public var self_2: Bool = false"))
        #expect(code.contains("public var unknownFields_3: Int32 = 0"))
    }

    @Test func proto2RequiredAndDefaults() throws {
        let code = try render(
            """
            syntax = "proto2";
            message Old {
              required string id = 1;
              optional double ratio = 2 [default = nan];
              optional bytes raw = 3 [default = "\\x01\\377"];
            }
            """
        )
        #expect(code.contains("if self.id == nil { return false }"))
        #expect(code.contains("public var ratioOrDefault: Double { self.ratio ?? .nan }"))
        #expect(code.contains("public var rawOrDefault: [UInt8] { self.raw ?? [1, 255] }"))
    }

    @Test func fileNamingOptions() throws {
        let source = "syntax = \"proto3\"; message M {}"
        #expect(try Protoc.generate(source, name: "m.proto").file.first?.name == "m.pb.swift")
        #expect(try Protoc.generate(source, name: "m.proto", parameter: "FileNaming=PathToUnderscores").file.first?.name == "m.pb.swift")
    }

    @Test func moduleMappingsAddImports() throws {
        var request = try Protoc.request(files: ["google/protobuf/api.proto"], root: Protoc.includeDirectory,
                                         parameter: "Module=google/protobuf/type.proto=WellKnown")
        request.fileToGenerate = ["google/protobuf/api.proto"]
        let code = try #require(CodeGenerator.generate(request).file.first?.content)
        #expect(code.contains("public import WellKnown"))
    }

    @Test(arguments: [
        ("Visibility=open", "Visibility must be public, package or internal"),
        ("Bogus=1", "unknown option 'Bogus'"),
        ("Module=x.proto", "Module takes path/to/file.proto=ModuleName"),
        ("Visibility", "is not of the form Key=Value"),
    ])
    func badOptionsAreReported(parameter: String, expected: String) throws {
        let response = try Protoc.generate("syntax = \"proto3\"; message M {}", parameter: parameter)
        let error = try #require(response.error)
        #expect(error.contains(expected), "\(error)")
        #expect(response.file.isEmpty)
    }

    @Test func unresolvableTypesNameFileAndElement() throws {
        var request = Google_Protobuf_Compiler_CodeGeneratorRequest()
        var file = Google_Protobuf_FileDescriptorProto()
        file.name = "broken.proto"
        file.syntax = "proto3"
        var message = Google_Protobuf_DescriptorProto()
        message.name = "Holder"
        var field = Google_Protobuf_FieldDescriptorProto()
        field.name = "missing"
        field.number = 1
        field.label = .optional
        field.type = .message
        field.typeName = ".nowhere.Missing"
        message.field = [field]
        file.messageType = [message]
        request.protoFile = [file]
        request.fileToGenerate = ["broken.proto"]
        let error = try #require(CodeGenerator.generate(request).error)
        #expect(error == "broken.proto: Holder.missing: refers to message type .nowhere.Missing, which protoc did not describe")
    }

    @Test func unreadableRequestIsReportedInTheResponse() throws {
        let response = try Google_Protobuf_Compiler_CodeGeneratorResponse(
            serializedBytes: CodeGenerator.run(requestBytes: [0x0A, 0x05, 0x61])
        )
        #expect(response.error?.contains("could not read protoc's request") == true)
    }

    @Test func supportsProto3Optional() throws {
        let response = try Protoc.generate("syntax = \"proto3\"; message M { optional int32 x = 1; }")
        #expect(response.supportedFeatures == 1)
    }
}
