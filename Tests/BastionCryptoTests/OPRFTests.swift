import Testing

@testable import BastionCrypto

@Suite struct OPRFTests {
    @Test func deriveKeyPairMatchesRFC9497() throws {
        let keyPair = try OPRF.deriveKeyPair(seed: Hex.decode(OPRFVectors.seed), info: Hex.decode(OPRFVectors.keyInfo))
        #expect(Hex.encode(keyPair.privateKey.bytes) == OPRFVectors.skSm)
    }

    @Test(arguments: OPRFVectors.all)
    func oprfModeMatchesRFC9497(vector: OPRFVector) throws {
        let privateKey = try Ristretto255.Scalar(bytes: Hex.decode(OPRFVectors.skSm))
        let input = Hex.decode(vector.input)
        let blinded = try OPRF.blind(input, with: Ristretto255.Scalar(bytes: Hex.decode(vector.blind)))
        #expect(Hex.encode(blinded.blindedElement.bytes) == vector.blindedElement)
        let evaluated = try OPRF.blindEvaluate(privateKey: privateKey, blindedElement: blinded.blindedElement)
        #expect(Hex.encode(evaluated.bytes) == vector.evaluationElement)
        let output = try OPRF.finalize(input: input, blind: blinded.blind, evaluatedElement: evaluated)
        #expect(Hex.encode(output) == vector.output)
        #expect(try OPRF.evaluate(privateKey: privateKey, input: input) == output)
    }

    @Test func randomBlindsGiveTheSameOutput() throws {
        let keyPair = try OPRF.deriveKeyPair(seed: [UInt8](repeating: 7, count: 32), info: Array("test".utf8))
        let input = Array("correct horse".utf8)
        let first = try OPRF.blind(input)
        let second = try OPRF.blind(input)
        #expect(first.blindedElement != second.blindedElement)
        let a = try OPRF.finalize(
            input: input,
            blind: first.blind,
            evaluatedElement: OPRF.blindEvaluate(privateKey: keyPair.privateKey, blindedElement: first.blindedElement)
        )
        let b = try OPRF.finalize(
            input: input,
            blind: second.blind,
            evaluatedElement: OPRF.blindEvaluate(privateKey: keyPair.privateKey, blindedElement: second.blindedElement)
        )
        #expect(a == b)
        #expect(a.count == OPRF.outputLength)
    }

    @Test func deriveKeyPairChecksTheSeedLength() {
        #expect(throws: CryptoError.self) { try OPRF.deriveKeyPair(seed: [1, 2, 3], info: []) }
    }
}
