import Testing

@testable import BastionCrypto

/// Every OPAQUE message parser refuses wrong lengths, invalid encodings and the identity element,
/// with an error that names the message and field.
@Suite struct MalformedMessageTests {
    static let generator = Ristretto255.Element.generator.bytes
    static let identity = [UInt8](repeating: 0, count: 32)
    static let nonCanonical = Hex.decode("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")

    /// (name, length, parser, offsets of its element fields)
    static let parsers: [(String, Int, @Sendable ([UInt8]) throws -> Void, [Int])] = [
        ("RegistrationRequest", 32, { _ = try OPAQUE.RegistrationRequest(serialized: $0) }, [0]),
        ("RegistrationResponse", 64, { _ = try OPAQUE.RegistrationResponse(serialized: $0) }, [0, 32]),
        ("RegistrationRecord", 192, { _ = try OPAQUE.RegistrationRecord(serialized: $0) }, [0]),
        ("KE1", 96, { _ = try OPAQUE.KE1(serialized: $0) }, [0, 64]),
        ("KE2", 320, { _ = try OPAQUE.KE2(serialized: $0) }, [0, 224]),
        ("KE3", 64, { _ = try OPAQUE.KE3(serialized: $0) }, []),
    ]

    /// A valid encoding: the generator wherever an element goes, 0x11 elsewhere.
    static func valid(length: Int, elements: [Int]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0x11, count: length)
        for offset in elements { bytes.replaceSubrange(offset..<offset + 32, with: generator) }
        return bytes
    }

    @Test(arguments: parsers.indices)
    func validEncodingsParseAndRoundTrip(index: Int) throws {
        let (_, length, parse, elements) = Self.parsers[index]
        try parse(Self.valid(length: length, elements: elements))
        let ke2 = Self.valid(length: 320, elements: [0, 224])
        #expect(try OPAQUE.KE2(serialized: ke2).serialized == ke2)
        let record = Self.valid(length: 192, elements: [0])
        #expect(try OPAQUE.RegistrationRecord(serialized: record).serialized == record)
    }

    @Test(arguments: parsers.indices)
    func wrongLengthsAreRefused(index: Int) {
        let (name, length, parse, elements) = Self.parsers[index]
        let valid = Self.valid(length: length, elements: elements)
        for wrong in [[], Array(valid.dropLast()), valid + [0], valid + valid] {
            #expect {
                try parse(wrong)
            } throws: { error in
                guard let error = error as? CryptoError else { return false }
                return error.code == .invalidLength && error.message.hasPrefix(name)
            }
        }
    }

    @Test(arguments: parsers.indices)
    func invalidAndIdentityElementsAreRefused(index: Int) {
        let (name, length, parse, elements) = Self.parsers[index]
        for offset in elements {
            for (bad, code) in [
                (Self.identity, CryptoError.Code.identityElement), (Self.nonCanonical, .invalidElement),
            ] {
                var bytes = Self.valid(length: length, elements: elements)
                bytes.replaceSubrange(offset..<offset + 32, with: bad)
                #expect {
                    try parse(bytes)
                } throws: { error in
                    guard let error = error as? CryptoError else { return false }
                    return error.code == code && error.message.hasPrefix(name + ".")
                }
            }
        }
    }

    @Test func errorsDescribeThemselves() {
        let error = CryptoError.invalidLength("KE1", expected: 96, actual: 3)
        #expect(error.description == "crypto error (invalid length): KE1 must be 96 bytes, got 3")
    }

    @Test func replayedFailCasesNeverTrap() throws {
        // Inputs the fuzz target found or was seeded with (FuzzTesting/{Corpus,FailCases}/FuzzOPAQUEMessages)
        // go through every parser here, without a sanitizer build.
        for input in try FuzzInputs.load() {
            for (_, _, parse, _) in Self.parsers { _ = try? parse(input) }
        }
    }
}
