import Testing

@testable import BastionCrypto

@Suite struct Ristretto255Tests {
    @Test func multiplesOfTheGeneratorMatchRFC9496() throws {
        #expect(Ristretto255.Element.generator.bytes == Hex.decode(Ristretto255Vectors.multiples[1]))
        for k in 1..<Ristretto255Vectors.multiples.count {
            var scalar = [UInt8](repeating: 0, count: 32)
            scalar[0] = UInt8(k)
            let element = try Ristretto255.Element.generatorMultiple(Ristretto255.Scalar(bytes: scalar))
            #expect(Hex.encode(element.bytes) == Ristretto255Vectors.multiples[k], "\(k)B")
            // Every listed encoding decodes, and decoding keeps the bytes.
            #expect(try Ristretto255.Element(bytes: Hex.decode(Ristretto255Vectors.multiples[k])) == element)
        }
    }

    @Test func additionAgreesWithMultiplication() throws {
        var p = Ristretto255.Element.generator
        for k in 2..<Ristretto255Vectors.multiples.count {
            p = try p.adding(.generator)
            #expect(Hex.encode(p.bytes) == Ristretto255Vectors.multiples[k])
        }
        #expect(try p.subtracting(.generator).bytes == Hex.decode(Ristretto255Vectors.multiples[14]))
        #expect(throws: CryptoError.self) { try Ristretto255.Element.generator.subtracting(.generator) }
    }

    @Test(arguments: Ristretto255Vectors.invalidEncodings)
    func invalidEncodingsAreRefused(hex: String) {
        #expect {
            try Ristretto255.Element(bytes: Hex.decode(hex))
        } throws: { error in
            (error as? CryptoError)?.code == .invalidElement
        }
    }

    @Test func theIdentityIsRefused() {
        #expect {
            try Ristretto255.Element(bytes: [UInt8](repeating: 0, count: 32))
        } throws: { error in
            (error as? CryptoError)?.code == .identityElement
        }
    }

    @Test(arguments: [0, 31, 33, 64])
    func wrongLengthsAreRefused(length: Int) {
        #expect {
            try Ristretto255.Element(bytes: [UInt8](repeating: 0x42, count: length))
        } throws: { error in
            (error as? CryptoError)?.code == .invalidLength
        }
        #expect {
            try Ristretto255.Scalar(bytes: [UInt8](repeating: 0x01, count: length))
        } throws: { error in
            (error as? CryptoError)?.code == .invalidLength
        }
    }

    @Test(arguments: Ristretto255Vectors.fromUniformBytes.indices)
    func oneWayMapMatchesRFC9496(index: Int) throws {
        let vector = Ristretto255Vectors.fromUniformBytes[index]
        let element = try Ristretto255.Element.fromUniformBytes(SHA512.hash(Array(vector.label.utf8)))
        #expect(Hex.encode(element.bytes) == vector.element)
    }

    @Test func scalarsMustBeCanonical() throws {
        // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let order = Hex.decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        #expect {
            try Ristretto255.Scalar(bytes: order)
        } throws: { error in
            (error as? CryptoError)?.code == .invalidScalar
        }
        var orderMinusOne = order
        orderMinusOne[0] -= 1
        let largest = try Ristretto255.Scalar(bytes: orderMinusOne)
        // (L - 1) is -1: adding one gives zero, negating gives one.
        var one = [UInt8](repeating: 0, count: 32)
        one[0] = 1
        let oneScalar = try Ristretto255.Scalar(bytes: one)
        #expect(largest.adding(oneScalar).isZero)
        #expect(largest.negated().constantTimeEquals(oneScalar))
        #expect(throws: CryptoError.self) { try Ristretto255.Scalar(bytes: [UInt8](repeating: 0xFF, count: 32)) }
    }

    @Test func scalarInverseAndMultiplication() throws {
        for _ in 0..<16 {
            let s = Ristretto255.Scalar.random()
            #expect(!s.isZero)
            let product = s.multiplied(by: try s.inverted())
            var one = [UInt8](repeating: 0, count: 32)
            one[0] = 1
            #expect(product.bytes == one)
            // (s * P) * s^-1 = P
            let p = try Ristretto255.Element.generatorMultiple(.random())
            #expect(try p.multiplied(by: s).multiplied(by: s.inverted()) == p)
        }
        #expect(throws: CryptoError.self) {
            try Ristretto255.Scalar(bytes: [UInt8](repeating: 0, count: 32)).inverted()
        }
    }

    @Test func multiplyingByZeroIsRefused() throws {
        let zero = try Ristretto255.Scalar(bytes: [UInt8](repeating: 0, count: 32))
        #expect {
            try Ristretto255.Element.generator.multiplied(by: zero)
        } throws: { error in
            (error as? CryptoError)?.code == .identityElement
        }
    }

    @Test func secretsStayOutOfDescriptions() {
        let scalar = Ristretto255.Scalar.random()
        #expect(!"\(scalar)".contains(Hex.encode(scalar.bytes)))
        let secret = SecretBytes([1, 2, 3])
        #expect("\(secret)" == "SecretBytes(3 bytes)")
    }
}
