import BastionRPC
import Testing

/// `RPCPeer` keeps its fields in a shared box, so that a copy costs one reference count; copies
/// and changes must still behave as values. `RPCError` is held to the same (it was boxed once, and
/// may be again: see docs/PERFORMANCE.md on why it is not).
@Suite struct BoxedValueTests {
    @Test func errorCopiesChangeApart() {
        let original = RPCError(code: .resourceExhausted, message: "slow down", retryAfter: .seconds(2))
        var copy = original
        copy.message = "later"
        copy.retryAfter = nil
        copy.policy = "spam_prevention"
        copy.proofOfWorkDifficulty = 20
        copy.secondFactorChallenge = "challenge"
        try! copy.metadata.add("k", "v")
        copy.code = .unavailable
        #expect(original.message == "slow down")
        #expect(original.retryAfter == .seconds(2))
        #expect(original.policy == nil)
        #expect(original.proofOfWorkDifficulty == nil)
        #expect(original.secondFactorChallenge == nil)
        #expect(original.metadata.isEmpty)
        #expect(original.code == .resourceExhausted)
        #expect(copy.message == "later")
        #expect(copy.retryAfter == nil)
        #expect(copy.policy == "spam_prevention")
        #expect(copy.proofOfWorkDifficulty == 20)
        #expect(copy.secondFactorChallenge == "challenge")
        #expect(copy.metadata["k"] == "v")
        #expect(copy.code == .unavailable)
    }

    @Test func errorTrailerRoundTripsItsFields() {
        var error = RPCError(code: .permissionDenied, message: "no", retryAfter: .milliseconds(1500), policy: "authorization")
        error.proofOfWorkDifficulty = 12
        try! error.metadata.add("reason", "role")
        let back = RPCError(trailer: error.trailer)
        #expect(back?.code == .permissionDenied)
        #expect(back?.message == "no")
        #expect(back?.retryAfter == .milliseconds(1500))
        #expect(back?.policy == "authorization")
        #expect(back?.proofOfWorkDifficulty == 12)
        #expect(back?.metadata["reason"] == "role")
    }

    @Test func peerCopiesChangeApartAndCompareByContent() {
        let certificate = RPCPeer.Certificate(subject: "CN=a", issuer: "CN=ca", commonName: "a", fingerprint: "ff", derBytes: [1, 2])
        let original = RPCPeer(address: "ipv4:127.0.0.1:5000", ipAddress: "127.0.0.1", certificate: certificate)
        var copy = original
        #expect(copy == original)
        copy.address = "ipv4:127.0.0.1:5001"
        copy.certificate = nil
        #expect(original.address == "ipv4:127.0.0.1:5000")
        #expect(original.certificate == certificate)
        #expect(copy != original)
        copy.address = original.address
        copy.certificate = certificate
        #expect(copy == original)  // equal contents in different boxes
        #expect(Set([original, copy]).count == 1)
        copy.ipAddress = nil
        #expect(copy != original)
        #expect(original.ipAddress == "127.0.0.1")
        #expect(original.description == "ipv4:127.0.0.1:5000")
    }
}
