public import BastionRPC
public import BastionStore
public import Logging
import Synchronization

/// Enforces each method's STRIDE policy before its handler runs, as a `ServerInterceptor`.
///
/// The order is fixed (docs/POLICY.md): availability (operator switch, in-flight cap) →
/// per-address rate limits → authentication → per-principal rate limits → handler. A denial ends
/// the call with its status and is counted by method and reason. Operator switches persist in the
/// store.
public final class PolicyEngine: ServerInterceptor {
    /// Verifies callers the engine cannot judge alone (pending registrations, logged-in users);
    /// the services that issue those credentials provide it. Without one, such methods refuse.
    public protocol CallerVerifier: Sendable {
        func verify(_ caller: Bastion_Policy_V1_Authentication.Caller, context: ServerContext) async throws(RPCError)
    }

    static let disabledMethods = Table<String, [UInt8]>("policy.disabled_methods")

    private let store: Store
    private let logger: Logger
    private let verifier: (any CallerVerifier)?
    private let disabled: Mutex<Set<String>>
    private let inFlight = Mutex<[String: Int]>([:])
    private let denials = Mutex<[String: Int]>([:])
    private let limiter = RateLimiter()

    /// Loads the operator switches from `store`.
    public init(store: Store, verifier: (any CallerVerifier)? = nil, logger: Logger) throws {
        self.store = store
        self.logger = logger
        self.verifier = verifier
        let stored = try store.withReadTransaction { txn in try txn.keys(Self.disabledMethods) }
        self.disabled = Mutex(Set(stored))
    }

    // MARK: Operator switches

    /// Switches a method off or on; persisted, so it survives restarts. Only methods whose policy
    /// lets operators disable them can be switched off.
    public func setEnabled(_ enabled: Bool, method: MethodDescriptor) async throws {
        guard enabled || method.policy?.availability?.operatorCanDisable == true else {
            throw RPCError(code: .failedPrecondition, message: "\(method.path) is always available; its policy has no operator switch")
        }
        let path = method.path
        try await store.withWriteTransaction { txn in
            if enabled {
                try txn.delete(Self.disabledMethods, path)
            } else {
                try txn.put(Self.disabledMethods, path, [])
            }
        }
        disabled.withLock { methods in
            if enabled { methods.remove(path) } else { methods.insert(path) }
        }
        logger.notice("operator switch", metadata: ["method": "\(path)", "enabled": "\(enabled)"])
    }

    public func isEnabled(_ method: MethodDescriptor) -> Bool {
        !disabled.withLock { $0.contains(method.path) }
    }

    /// Denials so far, keyed `method reason`.
    public var denialCounts: [String: Int] { denials.withLock { $0 } }

    // MARK: Enforcement

    public func intercept(context: ServerContext, next: () async throws -> Void) async throws {
        guard let policy = context.method.policy else {
            try await next()
            return
        }
        let path = context.method.path
        let now = ContinuousClock.now

        // 1. Availability: the operator switch, then the in-flight cap.
        if policy.availability?.operatorCanDisable == true, !isEnabled(context.method) {
            throw deny(path, "disabled", RPCError(code: .unavailable, message: "\(path) is switched off by an operator", policy: "availability"))
        }
        let cap = Int(policy.availability?.maxInFlight ?? 0)
        if cap > 0 {
            let admitted = inFlight.withLock { counts in
                guard counts[path, default: 0] < cap else { return false }
                counts[path, default: 0] += 1
                return true
            }
            guard admitted else {
                throw deny(path, "in_flight", RPCError(code: .resourceExhausted, message: "\(path) has \(cap) calls in flight already", retryAfter: .seconds(1), policy: "availability"))
            }
        }
        defer { if cap > 0 { inFlight.withLock { $0[path, default: 1] -= 1 } } }

        let limits = policy.spamPrevention?.rateLimits ?? []
        // 2. Per-address limits, before any credential is examined.
        try checkLimits(limits, key: .peerAddress, value: AddressGroup.key(for: context.peer.ipAddress), path: path, now: now)

        // 3. Authentication.
        if let authentication = policy.authentication, !authentication.notARisk {
            switch authentication.caller {
            case .anonymous:
                break
            case .localClient:
                guard context.peer.certificate != nil else {
                    throw deny(path, "unauthenticated", RPCError(code: .unauthenticated, message: "\(path) needs a client certificate issued by this server", policy: "authentication"))
                }
            default:
                guard let verifier else {
                    throw deny(path, "unauthenticated", RPCError(code: .unauthenticated, message: "\(path) needs credentials this server cannot check", policy: "authentication"))
                }
                do {
                    try await verifier.verify(authentication.caller, context: context)
                } catch {
                    throw deny(path, "unauthenticated", error)
                }
            }
        }

        // 4. Per-principal limits.
        if let principal = context.peer.certificate?.fingerprint {
            try checkLimits(limits, key: .principal, value: principal, path: path, now: now)
        }

        try await next()
    }

    private func checkLimits(
        _ limits: [Bastion_Policy_V1_RateLimit],
        key: Bastion_Policy_V1_RateLimit.Key,
        value: String,
        path: String,
        now: ContinuousClock.Instant
    ) throws(RPCError) {
        for (rule, limit) in limits.enumerated() where limit.key == key {
            let period = Duration.seconds(Int64(limit.periodSeconds))
            if let wait = limiter.admit(.init(method: path, rule: rule, value: value), limit: Int(limit.limit), period: period, now: now) {
                throw deny(path, "rate_limited", RPCError(
                    code: .resourceExhausted,
                    message: "\(path) allows \(limit.limit) calls per \(limit.periodSeconds) s",
                    retryAfter: wait,
                    policy: "spam_prevention"
                ))
            }
        }
    }

    private func deny(_ path: String, _ reason: String, _ error: RPCError) -> RPCError {
        denials.withLock { $0["\(path) \(reason)", default: 0] += 1 }
        return error
    }
}
