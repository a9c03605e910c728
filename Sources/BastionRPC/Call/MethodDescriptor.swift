/// Names a method and says how it streams.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case unary, clientStreaming, serverStreaming, bidirectionalStreaming

        public var clientStreams: Bool { self == .clientStreaming || self == .bidirectionalStreaming }
        public var serverStreams: Bool { self == .serverStreaming || self == .bidirectionalStreaming }
    }

    /// The fully qualified service name: `bastion.echo.v1.Echo`.
    public var service: String
    /// The method's name: `Get`.
    public var method: String
    public var kind: Kind
    /// The method's threat model from its `.proto` annotations (nil for methods registered by
    /// hand without one).
    public var policy: Bastion_Policy_V1_MethodPolicy?

    public init(service: String, method: String, kind: Kind, policy: Bastion_Policy_V1_MethodPolicy? = nil) {
        self.service = service
        self.method = method
        self.kind = kind
        self.policy = policy
    }

    /// The longest a call may run whatever its client asks (the policy's
    /// `availability.max_deadline_millis`); nil when only the server's limit applies.
    public var maxDuration: Duration? {
        guard let millis = policy?.availability?.maxDeadlineMillis, millis > 0 else { return nil }
        return .milliseconds(Int64(millis))
    }

    /// `/bastion.echo.v1.Echo/Get`, as CallHeader.method carries it.
    public var path: String { "/\(service)/\(method)" }

    public var description: String { path }
}
