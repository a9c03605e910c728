import BastionRPC
import Testing

/// A descriptor keeps its contents in a shared box; copies and changes must still behave as
/// values.
@Suite struct MethodDescriptorTests {
    @Test func pathFollowsChangesAndCopiesStayIndependent() {
        var policy = Bastion_Policy_V1_MethodPolicy()
        policy.availability = Bastion_Policy_V1_Availability()
        policy.availability?.maxDeadlineMillis = 1500
        let original = MethodDescriptor(service: "a.v1.S", method: "Get", kind: .unary, policy: policy)
        #expect(original.path == "/a.v1.S/Get")
        #expect(original.description == "/a.v1.S/Get")
        #expect(original.maxDuration == .milliseconds(1500))

        var copy = original
        copy.method = "Put"
        copy.kind = .serverStreaming
        #expect(copy.path == "/a.v1.S/Put")
        #expect(copy.kind == .serverStreaming)
        #expect(original.path == "/a.v1.S/Get")
        #expect(original.kind == .unary)
        copy.service = "b.v1.T"
        #expect(copy.path == "/b.v1.T/Put")
        copy.policy = nil
        #expect(copy.maxDuration == nil)
        #expect(original.maxDuration == .milliseconds(1500))
    }

    @Test func equalityAndHashingByContent() {
        let a = MethodDescriptor(service: "a.v1.S", method: "Get", kind: .unary)
        let b = MethodDescriptor(service: "a.v1.S", method: "Get", kind: .unary)
        var c = b
        c.method = "Other"
        c.method = "Get"
        #expect(a == b)
        #expect(a == c)
        #expect(Set([a, b, c]).count == 1)
        #expect(a != MethodDescriptor(service: "a.v1.S", method: "Get", kind: .clientStreaming))
        var withPolicy = a
        withPolicy.policy = Bastion_Policy_V1_MethodPolicy()
        #expect(a != withPolicy)
    }
}
