import BastionPolicy
import COpenSSL
import Testing

@Suite struct ProofOfWorkTests {
    @Test(arguments: ["", "v1", "v2:1:00", "v1:x:00", "v1:1:0", "v1:1:zz", "v1:1:", "v1:1234567890123:00", "v1:1:" + String(repeating: "00", count: 33)])
    func malformedMetadataIsRefused(_ value: String) {
        #expect(ProofOfWork(metadataValue: value) == nil)
    }

    @Test func metadataRoundTrip() throws {
        let proof = ProofOfWork(timestamp: 1_700_000_000, nonce: [0, 1, 0xAB])
        #expect(proof.metadataValue == "v1:1700000000:0001ab")
        #expect(ProofOfWork(metadataValue: proof.metadataValue) == proof)
    }

    /// The digest, recomputed here with OpenSSL's one-shot SHA256 from the documented layout,
    /// starts with the difficulty's zero bits.
    @Test(arguments: [0, 4, 12])
    func solutionsReachTheirDifficulty(_ difficulty: UInt32) {
        let request: [UInt8] = Array("a request".utf8)
        let proof = ProofOfWork.solve(difficulty: difficulty, method: "/p.S/M", request: request, timestamp: 42)
        let input = Array("bastion-pow-v1\0/p.S/M\042\0".utf8) + sha256Reference(request) + proof.nonce
        let digest = sha256Reference(input)
        #expect(digest == proof.digest(method: "/p.S/M", requestSHA256: sha256Reference(request)))
        let zeroBits = digest.prefix { $0 == 0 }.count * 8 + Int(digest.first { $0 != 0 }?.leadingZeroBitCount ?? 0)
        #expect(zeroBits >= Int(difficulty))
    }
}

func sha256Reference(_ bytes: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: 32)
    _ = bytes.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { SHA256(input.baseAddress, input.count, $0.baseAddress) }
    }
    return output
}
