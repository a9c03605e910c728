import Foundation
import Testing

@testable import BastionCrypto

@Suite struct PrimitiveTests {
    @Test func sha512KnownAnswers() {
        // FIPS 180-2 appendix C.1 and the empty string.
        #expect(
            Hex.encode(SHA512.hash(Array("abc".utf8)))
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        #expect(
            Hex.encode(SHA512.hash([]))
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        )
        #expect(SHA512.hash(parts: [Array("a".utf8), Array("bc".utf8)]) == SHA512.hash(Array("abc".utf8)))
    }

    @Test(arguments: HMACVectors.all.indices)
    func hmacSHA512MatchesRFC4231(index: Int) {
        let vector = HMACVectors.all[index]
        let tag = HMACSHA512.authenticate(Hex.decode(vector.data), key: Hex.decode(vector.key))
        let expected = Hex.decode(vector.tag)
        #expect(Array(tag.prefix(expected.count)) == expected, "RFC 4231 test case \(index + 1)")
        if expected.count == HMACSHA512.outputLength {
            #expect(HMACSHA512.verify(expected, for: Hex.decode(vector.data), key: Hex.decode(vector.key)))
        }
    }

    @Test func hmacVerifyRefusesATamperedTag() {
        var tag = HMACSHA512.authenticate([1, 2, 3], key: [4, 5, 6])
        tag[17] ^= 1
        #expect(!HMACSHA512.verify(tag, for: [1, 2, 3], key: [4, 5, 6]))
        #expect(!HMACSHA512.verify(Array(tag.prefix(32)), for: [1, 2, 3], key: [4, 5, 6]))
    }

    /// RFC 5869 has no SHA-512 vectors; Python's `cryptography` HKDF-SHA512 is the reference, on
    /// random salts, key material, infos and lengths.
    @Test func hkdfSHA512AgreesWithPythonCryptography() throws {
        var generator = SystemRandomNumberGenerator()
        var cases: [(salt: [UInt8], ikm: [UInt8], info: [UInt8], length: Int)] = []
        for index in 0..<64 {
            let salt = (0..<Int.random(in: 0...150, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let ikm = (0..<Int.random(in: 1...200, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let info = (0..<Int.random(in: 0...100, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let length = index == 0 ? 255 * 64 : Int.random(in: 1...600, using: &generator)
            cases.append((salt, ikm, info, length))
        }
        let input = cases.map { "\(Hex.encode($0.salt)) \(Hex.encode($0.ikm)) \(Hex.encode($0.info)) \($0.length)" }
            .joined(separator: "\n")
        let script = """
            import sys
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF
            for line in sys.stdin.read().split("\\n"):
                salt, ikm, info, length = line.split(" ")
                kdf = HKDF(algorithm=hashes.SHA512(), length=int(length), salt=bytes.fromhex(salt) or None, info=bytes.fromhex(info))
                print(kdf.derive(bytes.fromhex(ikm)).hex())
            """
        let output = try Python.run(script: script, input: input)
        let expected = output.split(separator: "\n").map(String.init)
        try #require(expected.count == cases.count, "python3 printed \(expected.count) lines")
        for (index, item) in cases.enumerated() {
            let derived = try HKDFSHA512.deriveKey(
                salt: item.salt,
                inputKeyMaterial: item.ikm,
                info: item.info,
                length: item.length
            )
            #expect(Hex.encode(derived) == expected[index], "case \(index)")
        }
    }

    @Test func hkdfRefusesOversizedOutput() {
        #expect(throws: CryptoError.self) {
            try HKDFSHA512.expand(pseudorandomKey: [UInt8](repeating: 1, count: 64), info: [], length: 255 * 64 + 1)
        }
    }

    @Test(arguments: ExpandMessageVectors.all)
    func expandMessageXMDMatchesRFC9380(vector: ExpandMessageVector) throws {
        let output = try ExpandMessageXMDSHA512.expand(
            Array(vector.message.utf8),
            domainSeparationTag: Array(ExpandMessageVectors.domainSeparationTag.utf8),
            length: vector.length
        )
        #expect(Hex.encode(output) == vector.uniformBytes)
    }

    @Test func expandMessageXMDRefusesImpossibleLengths() {
        #expect(throws: CryptoError.self) { try ExpandMessageXMDSHA512.expand([], domainSeparationTag: [1], length: 0) }
        #expect(throws: CryptoError.self) {
            try ExpandMessageXMDSHA512.expand([], domainSeparationTag: [1], length: 255 * 64 + 1)
        }
    }
}
