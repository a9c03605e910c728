import BastionIdentity
import Foundation
import Testing

/// RFC 8949 Appendix A's examples for the types WebAuthn uses.
private let cborExamples: [(String, CBOR)] = [
    ("00", .unsigned(0)), ("17", .unsigned(23)), ("1818", .unsigned(24)), ("1864", .unsigned(100)),
    ("1903e8", .unsigned(1000)), ("1a000f4240", .unsigned(1_000_000)),
    ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)), ("1bffffffffffffffff", .unsigned(.max)),
    ("20", .negative(0)), ("29", .negative(9)), ("3863", .negative(99)), ("3903e7", .negative(999)),
    ("3bffffffffffffffff", .negative(.max)),
    ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null),
    ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])),
    ("60", .text("")), ("6161", .text("a")), ("6449455446", .text("IETF")), ("62c3bc", .text("\u{fc}")),
    ("80", .array([])), ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
    (
        "8301820203820405",
        .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
    ),
    ("a0", .map([])),
    (
        "a201020304",
        .map([.init(key: .unsigned(1), value: .unsigned(2)), .init(key: .unsigned(3), value: .unsigned(4))])
    ),
    (
        "a26161016162820203",
        .map([
            .init(key: .text("a"), value: .unsigned(1)),
            .init(key: .text("b"), value: .array([.unsigned(2), .unsigned(3)])),
        ])
    ),
    ("826161a161626163", .array([.text("a"), .map([.init(key: .text("b"), value: .text("c"))])])),
]

private let cborRefusals: [(String, String, WebAuthnError.Code)] = [
    ("a tag", "c11a514b67b0", .malformed),
    ("a half float", "f93c00", .malformed),
    ("a double", "fb3ff199999999999a", .malformed),
    ("undefined", "f7", .malformed),
    ("an indefinite byte string", "5f42010243030405ff", .malformed),
    ("an indefinite array", "9f0102ff", .malformed),
    ("an indefinite map", "bf6161f5ff", .malformed),
    ("a reserved additional information", "1c", .malformed),
    ("a duplicate map key", "a201020103", .malformed),
    ("a byte-string map key", "a14001", .malformed),
    ("an array map key", "a18001", .malformed),
    ("an integer cut short", "1a0000", .malformed),
    ("a string longer than the input", "4501020304", .malformed),
    ("a 2^64-1 byte string", "5bffffffffffffffff", .malformed),
    ("an array count larger than the input", "9a7fffffff00", .malformed),
    ("a map count larger than the input", "ba7fffffff0000", .malformed),
    ("text that is not UTF-8", "62c328", .malformed),
    ("trailing bytes", "0000", .malformed),
    ("nothing", "", .malformed),
    ("nesting deeper than 8", "818181818181818100", .limitExceeded),
]

/// The bounded CBOR decoder: RFC 8949 Appendix A's examples, and every refusal with its code.
@Suite struct PasskeyCBORTests {

    @Test(arguments: 0..<cborExamples.count) func rfc8949Examples(index: Int) throws {
        let (hex, expected) = cborExamples[index]
        let bytes = try PasskeyVectorTests.hex(hex)
        #expect(try CBOR.decode(bytes) == expected)
        #expect(Self.encode(expected) == bytes)
    }

    @Test func integersAndLookups() throws {
        #expect(CBOR.negative(0).integer == -1)
        #expect(CBOR.negative(6).integer == -7)
        #expect(CBOR.unsigned(.max).integer == nil)
        #expect(CBOR.negative(.max).integer == nil)
        let map = try CBOR.decode(try PasskeyVectorTests.hex("a3010203266161f5"))
        #expect(map[1] == .unsigned(2))
        #expect(map[3]?.integer == -7)
        #expect(map["a"] == .bool(true))
        #expect(map[2] == nil)
        #expect(CBOR.unsigned(1)[1] == nil)
    }


    @Test(arguments: 0..<cborRefusals.count) func refusals(index: Int) throws {
        let (what, hex, code) = cborRefusals[index]
        let bytes = try PasskeyVectorTests.hex(hex)
        do {
            _ = try CBOR.decode(bytes)
            Issue.record("\(what) was accepted")
        } catch {
            #expect(error.code == code, "\(what): \(error)")
            #expect(error.offset != nil, "\(what): \(error)")
        }
    }

    @Test func limits() throws {
        // Depth 8 is allowed, 9 is not (above); here the other limits.
        #expect(throws: Never.self) { _ = try CBOR.decode(try PasskeyVectorTests.hex("8181818181818100")) }
        var limits = CBOR.Limits()
        limits.maxItems = 3
        #expect(throws: Never.self) { _ = try CBOR.decode([0x82, 0x01, 0x02], limits: limits) }
        #expect(throws: WebAuthnError.self) { _ = try CBOR.decode([0x83, 0x01, 0x02, 0x03], limits: limits) }
        limits = CBOR.Limits()
        limits.maxBytes = 4
        #expect(throws: Never.self) { _ = try CBOR.decode([0x43, 1, 2, 3], limits: limits) }
        do {
            _ = try CBOR.decode([0x44, 1, 2, 3, 4], limits: limits)
            Issue.record("5 bytes passed a 4-byte limit")
        } catch {
            #expect(error.code == .limitExceeded)
        }
        // 10,000 nested arrays: refused at the depth limit, without recursing through them all.
        let deep = [UInt8](repeating: 0x81, count: 10_000) + [0x00]
        #expect(throws: WebAuthnError.self) { _ = try CBOR.decode(deep, limits: CBOR.Limits()) }
    }

    /// The fuzz target's seeds and saved failures (FuzzTesting/Corpus/FuzzWebAuthn, FailCases/FuzzWebAuthn)
    /// through every parser: each fails with a WebAuthnError or parses, and each seed parses as
    /// what its name says.
    @Test func fuzzCorpusAndFailCasesReplay() throws {
        let fuzzing = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("FuzzTesting")
        var seen = 0
        for folder in ["Corpus/FuzzWebAuthn", "FailCases/FuzzWebAuthn"] {
            let directory = fuzzing.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() {
                let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
                seen += 1
                let cbor = Result { () throws(WebAuthnError) in try CBOR.decode(bytes) }
                let authData = Result { () throws(WebAuthnError) in try AuthenticatorData(bytes) }
                let clientData = Result { () throws(WebAuthnError) in try CollectedClientData(bytes) }
                guard folder.hasPrefix("Corpus") else { continue }
                if name.hasSuffix("attestation-object") { #expect(throws: Never.self) { try cbor.get() } }
                if name.contains("auth-data") { #expect(throws: Never.self, "\(name)") { try authData.get() } }
                if name.hasSuffix("client-data") { #expect(throws: Never.self, "\(name)") { try clientData.get() } }
            }
        }
        #expect(seen >= 11, "the committed seeds of FuzzWebAuthn are missing")
    }

    /// A minimal canonical encoder for the tests (the server never encodes CBOR).
    static func encode(_ item: CBOR) -> [UInt8] {
        func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
            switch value {
            case 0..<24: return [major << 5 | UInt8(value)]
            case 24...0xFF: return [major << 5 | 24, UInt8(value)]
            case 0x100...0xFFFF: return [major << 5 | 25] + (0..<2).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) }
            case 0x1_0000...0xFFFF_FFFF:
                return [major << 5 | 26] + (0..<4).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) }
            default: return [major << 5 | 27] + (0..<8).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) }
            }
        }
        switch item {
        case .unsigned(let value): return head(0, value)
        case .negative(let value): return head(1, value)
        case .bytes(let value): return head(2, UInt64(value.count)) + value
        case .text(let value): return head(3, UInt64(value.utf8.count)) + Array(value.utf8)
        case .array(let items): return head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let entries): return head(5, UInt64(entries.count)) + entries.flatMap { encode($0.key) + encode($0.value) }
        case .bool(let value): return [value ? 0xF5 : 0xF4]
        case .null: return [0xF6]
        }
    }
}
