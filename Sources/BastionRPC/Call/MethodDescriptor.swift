/// Names a method and says how it streams.
///
/// A descriptor travels with every call (the server's ``ServerContext`` holds one), so its
/// contents live in one shared, immutable box: a copy costs one reference count, not one per
/// string of the policy, and ``path`` is built once, not per call.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case unary, clientStreaming, serverStreaming, bidirectionalStreaming

        public var clientStreams: Bool { self == .clientStreaming || self == .bidirectionalStreaming }
        public var serverStreams: Bool { self == .serverStreaming || self == .bidirectionalStreaming }
    }

    private final class Storage: Sendable {
        let service: String
        let method: String
        let kind: Kind
        let policy: Bastion_Policy_V1_MethodPolicy?
        let path: String
        let maxDuration: Duration?

        init(service: String, method: String, kind: Kind, policy: Bastion_Policy_V1_MethodPolicy?) {
            self.service = service
            self.method = method
            self.kind = kind
            self.policy = policy
            self.path = "/\(service)/\(method)"
            if let millis = policy?.availability?.maxDeadlineMillis, millis > 0 {
                self.maxDuration = .milliseconds(Int64(millis))
            } else {
                self.maxDuration = nil
            }
        }
    }

    private var storage: Storage

    public init(service: String, method: String, kind: Kind, policy: Bastion_Policy_V1_MethodPolicy? = nil) {
        storage = Storage(service: service, method: method, kind: kind, policy: policy)
    }

    /// The fully qualified service name: `bastion.echo.v1.Echo`.
    public var service: String {
        get { storage.service }
        set { storage = Storage(service: newValue, method: method, kind: kind, policy: policy) }
    }

    /// The method's name: `Get`.
    public var method: String {
        get { storage.method }
        set { storage = Storage(service: service, method: newValue, kind: kind, policy: policy) }
    }

    public var kind: Kind {
        get { storage.kind }
        set { storage = Storage(service: service, method: method, kind: newValue, policy: policy) }
    }

    /// The method's threat model from its `.proto` annotations (nil for methods registered by
    /// hand without one).
    public var policy: Bastion_Policy_V1_MethodPolicy? {
        get { storage.policy }
        set { storage = Storage(service: service, method: method, kind: kind, policy: newValue) }
    }

    /// The longest a call may run whatever its client asks (the policy's
    /// `availability.max_deadline_millis`); nil when only the server's limit applies.
    public var maxDuration: Duration? { storage.maxDuration }

    /// `/bastion.echo.v1.Echo/Get`, as CallHeader.method carries it.
    public var path: String { storage.path }

    public var description: String { path }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.service == rhs.service && lhs.method == rhs.method && lhs.kind == rhs.kind && lhs.policy == rhs.policy)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(service)
        hasher.combine(method)
        hasher.combine(kind)
        hasher.combine(policy)
    }
}
