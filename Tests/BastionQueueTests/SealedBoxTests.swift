import BastionQueue
import Foundation
import BastionRPC
import Testing

@Suite struct SealedBoxTests {
    static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test func keyIDIsSHA256() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        let digest = SealedBox.keyID(of: Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// RFC 7748 §6.1: Alice's private key and its public key.
    @Test func publicKeyOfPrivateKeyFollowsRFC7748() throws {
        let privateKey = try #require([UInt8](hexString: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        let publicKey = try SealedBox.publicKey(ofPrivateKey: privateKey)
        #expect(publicKey == [UInt8](hexString: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
    }

    @Test(arguments: [0, 1, 1000, 65536])
    func sealsAndOpens(size: Int) throws {
        let keys = try QueueClient.Keys(privateKey: Self.randomKey())
        let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let envelope = try SealedBox.seal(plaintext, to: keys.publicKey)
        #expect(envelope.version == 1)
        #expect(envelope.ephemeralPublicKey.count == 32)
        #expect(envelope.ciphertext.count == size + 16)
        #expect(envelope.recipientKeyId == SealedBox.keyID(of: keys.publicKey))
        #expect(try SealedBox.open(envelope, privateKey: keys.privateKey, publicKey: keys.publicKey) == plaintext)
    }

    @Test func refusesAlteredEnvelopesAndOtherKeys() throws {
        let keys = try QueueClient.Keys(privateKey: Self.randomKey())
        let other = try QueueClient.Keys(privateKey: Self.randomKey())
        let envelope = try SealedBox.seal(Array("hello".utf8), to: keys.publicKey)
        var altered = envelope
        altered.ciphertext[altered.ciphertext.count - 1] ^= 1
        #expect(throws: SealedBox.Failure.self) { try SealedBox.open(altered, privateKey: keys.privateKey, publicKey: keys.publicKey) }
        var swapped = envelope
        swapped.ephemeralPublicKey = other.publicKey
        #expect(throws: SealedBox.Failure.self) { try SealedBox.open(swapped, privateKey: keys.privateKey, publicKey: keys.publicKey) }
        #expect(throws: SealedBox.Failure.self) { try SealedBox.open(envelope, privateKey: other.privateKey, publicKey: other.publicKey) }
        var unnamed = envelope
        unnamed.recipientKeyId = []
        // The key id only names the key; the box itself still decides.
        #expect(throws: SealedBox.Failure.self) { try SealedBox.open(unnamed, privateKey: other.privateKey, publicKey: other.publicKey) }
        #expect(try SealedBox.open(unnamed, privateKey: keys.privateKey, publicKey: keys.publicKey) == Array("hello".utf8))
    }
}

extension Array where Element == UInt8 {
    init?(hexString: String) {
        let digits = Array(hexString.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        self = bytes
    }
}
