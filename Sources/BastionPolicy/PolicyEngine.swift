public import BastionRPC
public import BastionStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Enforces each method's STRIDE policy before its handler runs, as a `ServerInterceptor`.
///
/// The order is fixed (docs/POLICY.md). Before the request is decoded: availability (operator
/// switch, in-flight cap) → per-address rate limits → authentication. Once the request is
/// decoded (``inspect(_:context:)``): the declared integrity and confidentiality checks →
/// authorization → per-principal and per-field rate limits → second factor → proof of work.
/// Then the handler, then the audit log. A denial ends the call with its status and is counted
/// by method and reason.
///
/// Operator switches and proof-of-work difficulties are written to the store before the call
/// that changes them returns. Rate-limit windows are written in the background by ``run()``
/// (every `counterFlushInterval`, and once more at shutdown), so that no call waits for a disk
/// flush of its own; docs/POLICY.md says what a crash can lose.
public final class PolicyEngine: ServerInterceptor, Service {
    public struct Configuration: Sendable {
        /// SHA-256 fingerprints (lower-case hex) of the client certificates that operators use;
        /// they pass `CALLER_OPERATOR` methods over TLS. Peers on a Unix-domain socket always do.
        public var operatorCertificateFingerprints: Set<String> = []
        /// How old a proof of work's timestamp may be.
        public var proofOfWorkMaxAge: Duration = .seconds(120)
        /// How often ``run()`` writes changed rate-limit windows to the store.
        public var counterFlushInterval: Duration = .milliseconds(250)

        public init() {}
    }

    /// Verifies callers the engine cannot judge alone (pending registrations, logged-in users);
    /// the services that issue those credentials provide it. Without one, such methods refuse.
    public protocol CallerVerifier: Sendable {
        func verify(_ caller: Bastion_Policy_V1_Authentication.Caller, context: ServerContext) async throws(RPCError) -> RPCPrincipal
    }

    /// Decides whether a principal owns a resource named by a request field. Without one, a
    /// principal owns exactly the resource named by its user id.
    public protocol ResourceOwnership: Sendable {
        func owns(_ principal: RPCPrincipal, resource: String, method: MethodDescriptor) async throws(RPCError) -> Bool
    }

    /// The second-factor service: hands out challenges and redeems the one-use tokens that a
    /// solved challenge yields, each bound to one exact operation.
    public protocol SecondFactorVerifier: Sendable {
        /// A challenge for a call that came without a token (sent in the error's details).
        func challenge(for operation: BoundOperation, principal: RPCPrincipal?, context: ServerContext) async throws(RPCError) -> String
        /// Consumes `token`; throws when it is unknown, used, expired or bound to another
        /// operation.
        func redeem(token: String, for operation: BoundOperation, principal: RPCPrincipal?, context: ServerContext) async throws(RPCError)
    }

    /// One exact operation: the method and the digest of its request.
    public struct BoundOperation: Sendable, Hashable {
        public var method: String
        public var requestSHA256: [UInt8]

        public init(method: String, requestSHA256: [UInt8]) {
            self.method = method
            self.requestSHA256 = requestSHA256
        }
    }

    /// What the engine has seen of one method since it started.
    public struct MethodCounters: Sendable, Hashable {
        /// Calls that passed every check and reached the handler.
        public var admitted = 0
        /// Calls of the method running now (counted only for methods with an in-flight cap).
        public var inFlight = 0
        /// Refusals by reason (`disabled`, `rate_limited`, `unauthenticated`, ...).
        public var denials: [String: Int] = [:]
    }

    /// Metadata keys the engine reads.
    public static let secondFactorMetadataKey = "bastion-second-factor"

    static let disabledMethods = Table<String, [UInt8]>("policy.disabled_methods")
    static let proofOfWorkDifficulties = Table<String, UInt32>("policy.proof_of_work")
    static let rateWindows = Table<String, [UInt8]>("policy.rate_windows")

    /// The SHA-256 of the call's request, for the audit log and bound checks.
    enum RequestDigestKey: ServerContextKey { typealias Value = [UInt8] }

    public let auditLog: AuditLog
    private let store: Store
    private let configuration: Configuration
    private let logger: Logger
    private let verifier: (any CallerVerifier)?
    private let ownership: (any ResourceOwnership)?
    private let secondFactor: (any SecondFactorVerifier)?
    private let disabled: Mutex<Set<String>>
    private let difficulties: Mutex<[String: UInt32]>
    private let counters = Mutex<[String: MethodCounters]>([:])
    private let limiter = RateLimiter()
    private let acceptedProofs = Mutex(AcceptedProofs())

    /// Loads operator switches, difficulties and rate-limit windows from `store`.
    public init(
        store: Store,
        configuration: Configuration = Configuration(),
        verifier: (any CallerVerifier)? = nil,
        ownership: (any ResourceOwnership)? = nil,
        secondFactor: (any SecondFactorVerifier)? = nil,
        logger: Logger
    ) throws {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.verifier = verifier
        self.ownership = ownership
        self.secondFactor = secondFactor
        self.auditLog = AuditLog(store: store)
        let (disabled, difficulties, windows) = try store.withReadTransaction { txn in
            (
                try txn.keys(Self.disabledMethods),
                try txn.scan(Self.proofOfWorkDifficulties),
                try txn.scan(Self.rateWindows).compactMap { RateWindowRecord(bytes: $0.value) }
            )
        }
        self.disabled = Mutex(Set(disabled))
        self.difficulties = Mutex(Dictionary(difficulties.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        limiter.restore(windows.map { ($0.key, $0.window) }, now: store.clock.now())
    }

    // MARK: Operator controls

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

    /// Sets the proof-of-work difficulty (leading zero bits, at most 64) for a method whose
    /// policy asks for proof of work; persisted.
    public func setProofOfWorkDifficulty(_ bits: UInt32, method: MethodDescriptor) async throws {
        guard method.policy?.spamPrevention?.proofOfWork != nil else {
            throw RPCError(code: .failedPrecondition, message: "\(method.path) takes no proof of work; its policy does not ask for it")
        }
        guard bits <= 64 else {
            throw RPCError(code: .invalidArgument, message: "a difficulty of \(bits) bits cannot be solved; use at most 64")
        }
        let path = method.path
        try await store.withWriteTransaction { txn in try txn.put(Self.proofOfWorkDifficulties, path, bits) }
        difficulties.withLock { $0[path] = bits }
        logger.notice("proof-of-work difficulty", metadata: ["method": "\(path)", "bits": "\(bits)"])
    }

    /// The difficulty in force for a method that asks for proof of work; nil for other methods.
    public func proofOfWorkDifficulty(for method: MethodDescriptor) -> UInt32? {
        guard let proofOfWork = method.policy?.spamPrevention?.proofOfWork else { return nil }
        return difficulties.withLock { $0[method.path] } ?? proofOfWork.defaultDifficulty
    }

    /// Denials so far, keyed `method reason`.
    public var denialCounts: [String: Int] {
        counters.withLock { counters in
            var flat: [String: Int] = [:]
            for (path, counts) in counters {
                for (reason, count) in counts.denials { flat["\(path) \(reason)"] = count }
            }
            return flat
        }
    }

    /// The live counters of the method at `path`.
    public func counters(for path: String) -> MethodCounters {
        counters.withLock { $0[path] } ?? MethodCounters()
    }

    // MARK: Background work

    /// Writes changed rate-limit windows to the store every `counterFlushInterval` until a
    /// graceful shutdown, then once more.
    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: self.configuration.counterFlushInterval)
                }
            } catch is CancellationError {
                break
            }
            try await flushCounters()
        }
        try await flushCounters()
    }

    /// Writes the rate-limit windows that changed since the last flush.
    public func flushCounters() async throws {
        let changes = limiter.takeChanges(now: store.clock.now())
        guard !changes.isEmpty else { return }
        try await store.withWriteTransaction { txn in
            for (key, window) in changes {
                let record = RateWindowRecord(key: key, window: window ?? .init(start: .init(millisecondsSinceEpoch: 0), count: 0, period: .zero))
                if window == nil {
                    try txn.delete(Self.rateWindows, record.storeKey)
                } else {
                    try txn.put(Self.rateWindows, record.storeKey, record.bytes)
                }
            }
        }
    }

    // MARK: Enforcement, before the request is decoded

    public func intercept(context: ServerContext, next: () async throws -> Void) async throws {
        guard let policy = context.method.policy else {
            try await next()
            return
        }
        let path = context.method.path

        // 1. Availability: the operator switch, then the in-flight cap.
        if policy.availability?.operatorCanDisable == true, !isEnabled(context.method) {
            throw deny(path, "disabled", RPCError(code: .unavailable, message: "\(path) is switched off by an operator", policy: "availability"))
        }
        let cap = Int(policy.availability?.maxInFlight ?? 0)
        if cap > 0 {
            let admitted = counters.withLock { counters in
                guard counters[path, default: MethodCounters()].inFlight < cap else { return false }
                counters[path, default: MethodCounters()].inFlight += 1
                return true
            }
            guard admitted else {
                throw deny(path, "in_flight", RPCError(code: .resourceExhausted, message: "\(path) has \(cap) calls in flight already", retryAfter: .seconds(1), policy: "availability"))
            }
        }
        defer { if cap > 0 { counters.withLock { $0[path, default: MethodCounters()].inFlight -= 1 } } }

        // 2. Per-address limits, before any credential is examined.
        let limits = policy.spamPrevention?.rateLimits ?? []
        try checkLimits(limits, key: .peerAddress, value: AddressGroup.key(for: context.peer.ipAddress), path: path)

        // 3. Authentication.
        try await authenticate(policy.authentication, context: context, path: path)

        // 4-7 run in `inspect`, which the router calls from inside `next`.
        guard policy.nonRepudiation?.auditLog == true else {
            try await next()
            return
        }
        // The client hears OK only once the audit entry is committed (a crash in between would
        // otherwise lose the entry of an acknowledged call).
        context.holdsOKTrailer = true
        do {
            try await next()
        } catch {
            try await audit(context, status: (error as? RPCError)?.code.rawValue ?? RPCError.Code.unknown.rawValue)
            throw error
        }
        try await audit(context, status: 0)
    }

    private func authenticate(_ authentication: Bastion_Policy_V1_Authentication?, context: ServerContext, path: String) async throws(RPCError) {
        let certificate = context.peer.certificate
        let clientPrincipal = certificate.map { RPCPrincipal(kind: .client, id: $0.fingerprint, userID: $0.commonName) }
        guard let authentication, !authentication.notARisk else {
            context.principal = clientPrincipal
            return
        }
        switch authentication.caller {
        case .anonymous:
            context.principal = clientPrincipal
        case .localClient:
            guard let clientPrincipal else {
                throw deny(path, "unauthenticated", RPCError(code: .unauthenticated, message: "\(path) needs a client certificate issued by this server", policy: "authentication"))
            }
            context.principal = clientPrincipal
            // The certificate verified against the client CA; the service that issued it may
            // know better (a deleted account, a revoked client) and names the client's user.
            if let verifier {
                do {
                    context.principal = try await verifier.verify(.localClient, context: context)
                } catch {
                    throw deny(path, "unauthenticated", error)
                }
            }
        case .operator:
            if context.peer.ipAddress == nil, context.peer.address.hasPrefix("unix:") {
                context.principal = RPCPrincipal(kind: .operator, id: context.peer.address)
            } else if let certificate, configuration.operatorCertificateFingerprints.contains(certificate.fingerprint) {
                context.principal = RPCPrincipal(kind: .operator, id: certificate.fingerprint, userID: certificate.commonName)
            } else {
                throw deny(path, "unauthenticated", RPCError(code: .unauthenticated, message: "\(path) is for operators: the local admin socket or an operator certificate", policy: "authentication"))
            }
        default:
            guard let verifier else {
                throw deny(path, "unauthenticated", RPCError(code: .unauthenticated, message: "\(path) needs credentials this server cannot check", policy: "authentication"))
            }
            do {
                context.principal = try await verifier.verify(authentication.caller, context: context)
            } catch {
                throw deny(path, "unauthenticated", error)
            }
        }
    }

    // MARK: Enforcement, once the request is decoded

    public func inspect(_ request: RequestView, context: ServerContext) async throws(RPCError) {
        guard let policy = context.method.policy else { return }
        let path = context.method.path

        // 4. The declared integrity and confidentiality checks, on every message.
        try checkDeclared(policy.integrity?.checks ?? [], property: "integrity", request: request, path: path)
        try checkDeclared(policy.confidentiality?.checks ?? [], property: "confidentiality", request: request, path: path)
        guard request.phase.startsCall else { return }

        let needsDigest = policy.nonRepudiation?.auditLog == true || policy.authentication?.secondFactor == true
            || policy.spamPrevention?.proofOfWork != nil
        let digest = needsDigest ? SHA256.hash(request.bytes ?? []) : []
        if needsDigest { context[RequestDigestKey.self] = digest }

        // 5. Authorization: the caller owns the resource a request field names.
        if let field = policy.authorization?.ownedResourceField, !field.isEmpty, policy.authorization?.notARisk != true {
            try await authorize(field: field, request: request, context: context, path: path)
        }

        // 6. Per-principal and per-field limits.
        let limits = policy.spamPrevention?.rateLimits ?? []
        if let principal = context.principal {
            try checkLimits(limits, key: .principal, value: principal.description, path: path)
        }
        for limit in limits where limit.key == .requestField {
            try checkLimits([limit], key: .requestField, value: request.fields[limit.field]?.key ?? "", path: path)
        }

        // 7. Second factor, bound to this exact request.
        let operation = BoundOperation(method: path, requestSHA256: digest)
        if policy.authentication?.secondFactor == true {
            try await checkSecondFactor(operation, context: context, path: path)
        }

        // 8. Proof of work.
        if let difficulty = proofOfWorkDifficulty(for: context.method), difficulty > 0 {
            try checkProofOfWork(operation, difficulty: difficulty, context: context, path: path)
        }

        counters.withLock { $0[path, default: MethodCounters()].admitted += 1 }
    }

    private func checkDeclared(_ checks: [Bastion_Policy_V1_Check], property: String, request: RequestView, path: String) throws(RPCError) {
        for check in checks {
            switch check.kind {
            case .maxRequestBytes(let limit):
                if let bytes = request.bytes, bytes.count > Int(limit) {
                    throw deny(path, "too_large", RPCError(code: .resourceExhausted, message: "\(path) takes requests of at most \(limit) bytes", policy: property))
                }
            case .sealedEnvelopeField(let field):
                guard request.phase == .onlyRequest else { continue }
                if let problem = SealedEnvelopeCheck.problem(with: request.fields[field]) {
                    throw deny(path, "not_sealed", RPCError(code: .invalidArgument, message: "\(field) must hold a sealed envelope: \(problem)", policy: property))
                }
            case .uniformErrors, nil:
                // A property of the handler's answers, checked by tests and the measurement
                // scripts, not per call.
                continue
            }
        }
    }

    private func authorize(field: String, request: RequestView, context: ServerContext, path: String) async throws(RPCError) {
        guard let principal = context.principal else {
            throw deny(path, "permission_denied", RPCError(code: .permissionDenied, message: "\(path) acts on a resource the caller must own; the caller is anonymous", policy: "authorization"))
        }
        guard let resource = request.fields[field]?.key, !resource.isEmpty else {
            throw deny(path, "permission_denied", RPCError(code: .permissionDenied, message: "\(path) names no resource in \(field)", policy: "authorization"))
        }
        let owns: Bool
        if let ownership {
            owns = try await ownership.owns(principal, resource: resource, method: context.method)
        } else {
            owns = principal.userID == resource
        }
        guard owns else {
            throw deny(path, "permission_denied", RPCError(code: .permissionDenied, message: "the caller does not own the resource named by \(field)", policy: "authorization"))
        }
    }

    private func checkSecondFactor(_ operation: BoundOperation, context: ServerContext, path: String) async throws(RPCError) {
        guard let secondFactor else {
            throw deny(path, "second_factor", RPCError(code: .failedPrecondition, message: "\(path) needs a second factor and this server has no second-factor service", policy: "authentication"))
        }
        guard let token = context.requestMetadata[Self.secondFactorMetadataKey] else {
            let challenge = try await secondFactor.challenge(for: operation, principal: context.principal, context: context)
            throw deny(path, "second_factor", RPCError(
                code: .failedPrecondition,
                message: "\(path) needs a second factor bound to this request: solve the challenge and send its token in \(Self.secondFactorMetadataKey)",
                secondFactorChallenge: challenge,
                policy: "authentication"
            ))
        }
        do {
            try await secondFactor.redeem(token: token, for: operation, principal: context.principal, context: context)
        } catch {
            throw deny(path, "second_factor", error)
        }
    }

    private func checkProofOfWork(_ operation: BoundOperation, difficulty: UInt32, context: ServerContext, path: String) throws(RPCError) {
        func refuse(_ problem: String) -> RPCError {
            deny(path, "proof_of_work", RPCError(
                code: .failedPrecondition,
                message: "\(path) needs proof of work of \(difficulty) bits in \(ProofOfWork.metadataKey): \(problem)",
                policy: "spam_prevention",
                proofOfWorkDifficulty: difficulty
            ))
        }
        guard let value = context.requestMetadata[ProofOfWork.metadataKey] else { throw refuse("none was sent") }
        guard let proof = ProofOfWork(metadataValue: value) else { throw refuse("it is not v1:<unix seconds>:<hex nonce>") }
        let now = store.clock.now()
        let age = now.duration(since: StoreInstant(millisecondsSinceEpoch: proof.timestamp &* 1000))
        guard age <= configuration.proofOfWorkMaxAge, age >= .seconds(-30) else {
            throw refuse("its timestamp is more than \(configuration.proofOfWorkMaxAge) away from the server's clock")
        }
        let digest = proof.digest(method: operation.method, requestSHA256: operation.requestSHA256)
        guard ProofOfWork.leadingZeroBits(digest) >= difficulty else { throw refuse("the solution does not reach the difficulty") }
        let expiry = now.advanced(by: configuration.proofOfWorkMaxAge + .seconds(30))
        let fresh = acceptedProofs.withLock { accepted in accepted.insert(digest, until: expiry, now: now) }
        guard fresh else { throw refuse("this solution was used already") }
    }

    private func checkLimits(_ limits: [Bastion_Policy_V1_RateLimit], key: Bastion_Policy_V1_RateLimit.Key, value: String, path: String) throws(RPCError) {
        for limit in limits where limit.key == key && limit.limit > 0 && limit.periodSeconds > 0 {
            let period = Duration.seconds(Int64(limit.periodSeconds))
            let rule = "\(key.rawValue)/\(limit.field)/\(limit.limit)/\(limit.periodSeconds)"
            if let wait = limiter.admit(.init(method: path, rule: rule, value: value), limit: Int(limit.limit), period: period, now: store.clock.now()) {
                throw deny(path, "rate_limited", RPCError(
                    code: .resourceExhausted,
                    message: "\(path) allows \(limit.limit) calls per \(limit.periodSeconds) s",
                    retryAfter: wait,
                    policy: "spam_prevention"
                ))
            }
        }
    }

    // MARK: Audit

    private func audit(_ context: ServerContext, status: Int) async throws {
        let now = store.clock.now()
        let record = AuditLog.Record(
            unixNanos: now.millisecondsSinceEpoch &* 1_000_000,
            method: context.method.path,
            principal: context.principal?.description ?? "",
            peer: context.peer.address,
            statusCode: UInt32(status),
            requestSHA256: context[RequestDigestKey.self] ?? []
        )
        do {
            try await auditLog.append(record)
        } catch {
            logger.error("cannot append to the audit log", metadata: ["method": "\(context.method.path)", "error": "\(error)"])
            throw RPCError(code: .internal, message: "the call could not be recorded", cause: error)
        }
    }

    private func deny(_ path: String, _ reason: String, _ error: RPCError) -> RPCError {
        counters.withLock { $0[path, default: MethodCounters()].denials[reason, default: 0] += 1 }
        return error
    }
}

extension Bastion_Policy_V1_AuditEntry: StoreValue {}

/// The proof-of-work solutions accepted and not yet too old to be accepted again.
struct AcceptedProofs {
    /// The first 32 bytes of a digest as four words: hashes in four steps, not thirty-two.
    struct Key: Hashable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        init(_ digest: [UInt8]) {
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &words) { target in
                digest.withUnsafeBytes { source in target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(32))) }
            }
            self.words = words
        }

        static func == (lhs: Key, rhs: Key) -> Bool { lhs.words == rhs.words }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    private var expiries: [Key: StoreInstant] = [:]
    /// Expired entries are swept when the table grows past this; after a sweep it becomes twice
    /// what is left, so sweeping costs O(1) per call.
    private var sweepAt = 100_000

    /// Records `digest`; false when it was accepted already.
    mutating func insert(_ digest: [UInt8], until expiry: StoreInstant, now: StoreInstant) -> Bool {
        let digest = Key(digest)
        if let until = expiries[digest], until > now { return false }
        if expiries.count >= sweepAt {
            expiries = expiries.filter { $0.value > now }
            sweepAt = max(100_000, 2 * expiries.count)
        }
        expiries[digest] = expiry
        return true
    }
}
