import BastionPolicy
import BastionProtobuf
public import BastionRPC
public import BastionStore
public import Logging

/// Second factors (proto/bastion/auth/v1/two_factor.proto): users enroll TOTP authenticators and
/// recovery codes; clients solve challenges bound to one operation and get one-use tokens, which
/// ``TwoFactorVerifier`` redeems for the policy engine.
///
/// Guessing is bounded three ways, all in the store and all decided inside one write
/// transaction per attempt (the store runs writes one at a time), so concurrent guessers get
/// exactly the allowed number of attempts evaluated and a restart forgets nothing: attempts per
/// challenge, failures per factor and failures per account within a window.
public struct TwoFactorService: Bastion_Auth_V1_TwoFactorService {
    public struct Configuration: Sendable {
        /// The issuer named in otpauth:// URIs.
        public var issuer = "Bastion"
        /// How long an enrollment waits for its first code.
        public var enrollmentLifetime: Duration = .seconds(600)
        /// Wrong first codes before an enrollment is dropped.
        public var maxConfirmFailures: UInt32 = 5
        public var challengeLifetime: Duration = .seconds(300)
        public var attemptsPerChallenge: UInt32 = 3
        /// Challenges one client may have open at once.
        public var maxOpenChallengesPerClient = 16
        public var tokenLifetime: Duration = .seconds(180)
        /// Failed attempts of one factor, and of one account, within `failureWindow` before it is
        /// locked until the window ends.
        public var maxFailuresPerFactor: UInt32 = 5
        public var maxFailuresPerAccount: UInt32 = 10
        public var failureWindow: Duration = .seconds(900)
        public var recoveryCodeCount = 10
        /// Code channels and how their codes look and live (TwoFactorService+Channels.swift).
        public var channels = CodeChannels()
        /// Argon2id's cost for security answers (SecurityQuestions.swift).
        public var securityQuestions = SecurityQuestions.Parameters()
        /// Who issues access codes, and their limits (AccessCodes.swift).
        public var accessCodes = AccessCodes.Configuration()
        /// Passkeys (TwoFactorService+Passkeys.swift); nil: they are off.
        public var passkeys: PasskeyConfiguration?

        public init() {}
    }

    /// The token a user without any second factor sends in `bastion-second-factor`: accepted
    /// only while the caller's user has no factor that could solve a challenge.
    public static let noFactorToken = "none"

    static let factors = Table<CompositeKey<String, String>, Bastion_Auth_V1_FactorRecord>("identity.factors")
    static let challenges = ExpiringTable<String, Bastion_Auth_V1_ChallengeRecord>("identity.two_factor_challenges")
    /// (client fingerprint, challenge id) → the challenge's expiry in Unix milliseconds: the open
    /// challenges of each client, pruned as it opens new ones.
    static let openChallenges = Table<CompositeKey<String, String>, Int64>("identity.two_factor_open_challenges")
    static let tokens = ExpiringTable<String, Bastion_Auth_V1_SecondFactorTokenRecord>("identity.two_factor_tokens")
    /// Failed attempts in the current window, keyed `user:<id>` or `factor:<id>:<factor id>`.
    static let failures = ExpiringTable<String, Bastion_Auth_V1_FailureCount>("identity.two_factor_failures")

    let store: Store
    let key: FactorKey
    let configuration: Configuration
    let logger: Logger

    public init(store: Store, key: FactorKey, configuration: Configuration = Configuration(), logger: Logger) {
        self.store = store
        self.key = key
        self.configuration = configuration
        self.logger = logger
    }

    /// The verifier that redeems this service's tokens for the policy engine.
    public var verifier: TwoFactorVerifier { TwoFactorVerifier(store: store) }

    // MARK: Enrollment

    public func enrollTotp(request: Bastion_Auth_V1_EnrollTotpRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_EnrollTotpResponse
    {
        let user = try Self.user(of: context, kind: .user)
        guard request.label.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "label: at most 64 characters")
        }
        let algorithm = try Self.algorithm(request.algorithm)
        let digits = request.digits == 0 ? 6 : Int(request.digits)
        guard (6...8).contains(digits) else { throw RPCError(code: .invalidArgument, message: "digits: 6, 7 or 8") }
        let secret = try Random.bytes(algorithm.secretLength)
        let factorID = "totp-" + (try Random.bytes(6)).hexString
        let sealed = try key.seal(secret, associatedData: Self.associatedData(user: user, factor: factorID))
        let lifetime = configuration.enrollmentLifetime
        let label = request.label.isEmpty ? "authenticator" : request.label
        let confirmBefore = try await store.withWriteTransaction { txn -> StoreInstant in
            let now = txn.now
            // Enrollments that were never confirmed go when the user starts another.
            for (key, factor) in try txn.scan(Self.factors, .prefix(KeyPrefix(user)))
            where !factor.confirmed && factor.confirmBeforeUnixMillis <= now.millisecondsSinceEpoch {
                try txn.delete(Self.factors, key)
            }
            let confirmBefore = now.advanced(by: lifetime)
            try txn.insert(
                Self.factors,
                CompositeKey(user, factorID),
                .init {
                    $0.userId = user
                    $0.factorId = factorID
                    $0.kind = .totp
                    $0.label = label
                    $0.createdUnixSeconds = now.millisecondsSinceEpoch / 1000
                    $0.confirmed = false
                    $0.confirmBeforeUnixMillis = confirmBefore.millisecondsSinceEpoch
                    $0.sealedSecret = sealed
                    $0.algorithm = request.algorithm == .unspecified ? .sha1 : request.algorithm
                    $0.digits = UInt32(digits)
                }
            )
            return confirmBefore
        }
        let totp = TOTP(secret: secret, algorithm: algorithm, digits: digits)
        logger.info("TOTP enrollment started", metadata: ["user": "\(user)", "factor": "\(factorID)"])
        return .init {
            $0.factorId = factorID
            $0.secret = secret
            $0.secretBase32 = Base32.encode(secret)
            $0.otpauthUri = totp.uri(issuer: configuration.issuer, account: user)
            $0.confirmBeforeUnixSeconds = confirmBefore.millisecondsSinceEpoch / 1000
        }
    }

    public func confirmTotp(request: Bastion_Auth_V1_ConfirmTotpRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_ConfirmTotpResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let key = self.key
        let maxFailures = configuration.maxConfirmFailures
        let outcome = try await store.withWriteTransaction { txn -> Result<Bastion_Auth_V1_FactorRecord, RPCError> in
            let rowKey = CompositeKey(user, request.factorId)
            guard var factor = try txn.get(Self.factors, rowKey), factor.kind == .totp,
                factor.confirmed || factor.confirmBeforeUnixMillis > txn.now.millisecondsSinceEpoch
            else {
                return .failure(
                    RPCError(
                        code: .notFound,
                        message: "no enrollment \(request.factorId) (it may have expired; enroll again)"
                    )
                )
            }
            guard !factor.confirmed else {
                return .failure(
                    RPCError(code: .failedPrecondition, message: "\(request.factorId) is confirmed already")
                )
            }
            let unixSeconds = txn.now.millisecondsSinceEpoch / 1000
            switch Self.checkTotp(&factor, code: request.code, key: key, unixSeconds: unixSeconds) {
            case .accepted:
                factor.confirmed = true
                factor.confirmBeforeUnixMillis = 0
                try txn.put(Self.factors, rowKey, factor)
                return .success(factor)
            case .wrong, .replayed:
                factor.confirmFailures += 1
                if factor.confirmFailures >= maxFailures {
                    try txn.delete(Self.factors, rowKey)
                    return .failure(
                        RPCError(
                            code: .permissionDenied,
                            message:
                                "wrong code; the enrollment is dropped after \(maxFailures) wrong codes, enroll again",
                            policy: "integrity"
                        )
                    )
                }
                try txn.put(Self.factors, rowKey, factor)
                return .failure(RPCError(code: .permissionDenied, message: "wrong code", policy: "integrity"))
            case .unreadable:
                return .failure(
                    RPCError(
                        code: .internal,
                        message: "the factor's secret cannot be opened with this server's factor key"
                    )
                )
            }
        }
        let factor = try outcome.get()
        logger.notice("TOTP factor confirmed", metadata: ["user": "\(user)", "factor": "\(factor.factorId)"])
        return .init { $0.factor = Self.publicFactor(factor) }
    }

    public func listFactors(request: Bastion_Auth_V1_ListFactorsRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_ListFactorsResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let factors = try store.withReadTransaction { txn in try Self.confirmedFactors(of: user, in: txn) }
        return .init { $0.factors = factors.map(publicFactor) }
    }

    public func removeFactor(request: Bastion_Auth_V1_RemoveFactorRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_RemoveFactorResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let removed = try await store.withWriteTransaction { txn -> Bool in
            try Self.forgetPasskeyCredential(user: user, factor: request.factorId, in: txn)
            guard try txn.delete(Self.factors, CompositeKey(user, request.factorId)) else { return false }
            _ = try txn.delete(Self.failures, Self.factorFailureKey(user: user, factor: request.factorId))
            return true
        }
        guard removed else { throw RPCError(code: .notFound, message: "no factor \(request.factorId)") }
        logger.notice("second factor removed", metadata: ["user": "\(user)", "factor": "\(request.factorId)"])
        return .init()
    }

    public func generateRecoveryCodes(
        request: Bastion_Auth_V1_GenerateRecoveryCodesRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_GenerateRecoveryCodesResponse {
        let user = try Self.user(of: context, kind: .user)
        let codes = try (0..<configuration.recoveryCodeCount).map { _ in try RecoveryCodes.make() }
        let hashes = codes.map { key.recoveryCodeHash(user: user, normalizedCode: RecoveryCodes.normalize($0)!) }
        try await store.withWriteTransaction { txn in
            // Replaces the old codes, used or not.
            try txn.put(
                Self.factors,
                CompositeKey(user, RecoveryCodes.factorID),
                .init {
                    $0.userId = user
                    $0.factorId = RecoveryCodes.factorID
                    $0.kind = .recoveryCodes
                    $0.label = "recovery codes"
                    $0.createdUnixSeconds = txn.now.millisecondsSinceEpoch / 1000
                    $0.confirmed = true
                    $0.recoveryCodeHashes = hashes
                }
            )
        }
        logger.notice("recovery codes generated", metadata: ["user": "\(user)"])
        return .init { $0.codes = codes }
    }

    // MARK: Challenges

    public func initiateTwoFactor(
        request: Bastion_Auth_V1_InitiateTwoFactorRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_InitiateTwoFactorResponse {
        let user = try Self.user(of: context, kind: .client)
        let client = context.principal?.id ?? ""
        let parts = request.method.split(separator: "/", omittingEmptySubsequences: false)
        guard request.method.utf8.count <= 256, parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty
        else {
            throw RPCError(code: .invalidArgument, message: "method: a method's path, /<package>.<service>/<method>")
        }
        guard request.requestSha256.count == 32 else {
            throw RPCError(
                code: .invalidArgument,
                message: "request_sha256: the SHA-256 of the request's bytes (32 bytes)"
            )
        }
        let challengeID = (try Random.bytes(16)).hexString
        let configuration = self.configuration
        let outcome = try await store.withWriteTransaction {
            txn -> Result<(StoreInstant, [Bastion_Auth_V1_FactorRecord]), RPCError> in
            let factors = try Self.usableFactors(of: user, in: txn)
            guard !factors.isEmpty else {
                return .failure(
                    RPCError(
                        code: .failedPrecondition,
                        message:
                            "\(user) has no second factor; send '\(Self.noFactorToken)' in the bastion-second-factor metadata"
                    )
                )
            }
            let now = txn.now.millisecondsSinceEpoch
            var open: [Int64] = []
            for (key, expiry) in try txn.scan(Self.openChallenges, .prefix(KeyPrefix(client))) {
                if expiry <= now { try txn.delete(Self.openChallenges, key) } else { open.append(expiry) }
            }
            if open.count >= configuration.maxOpenChallengesPerClient, let first = open.min() {
                return .failure(
                    RPCError(
                        code: .resourceExhausted,
                        message: "this client has \(open.count) open challenges; solve one or wait",
                        retryAfter: .milliseconds(max(1000, first - now)),
                        policy: "spam_prevention"
                    )
                )
            }
            let expiresAt = txn.now.advanced(by: configuration.challengeLifetime)
            try txn.put(
                Self.challenges,
                challengeID,
                .init {
                    $0.userId = user
                    $0.clientFingerprint = client
                    $0.method = request.method
                    $0.requestSha256 = request.requestSha256
                    $0.attempts = 0
                    $0.maxAttempts = configuration.attemptsPerChallenge
                },
                expiresAt: expiresAt
            )
            try txn.put(Self.openChallenges, CompositeKey(client, challengeID), expiresAt.millisecondsSinceEpoch)
            return .success((expiresAt, factors))
        }
        let (expiresAt, factors) = try outcome.get()
        return .init {
            $0.challengeId = challengeID
            $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
            $0.attemptsLeft = configuration.attemptsPerChallenge
            $0.factors = factors.map(publicFactor)
        }
    }

    public func solveChallenge(request: Bastion_Auth_V1_SolveChallengeRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_SolveChallengeResponse
    {
        let user = try Self.user(of: context, kind: .client)
        let client = context.principal?.id ?? ""
        let token = (try Random.bytes(32)).base64URL
        let tokenKey = SHA256.hash(Array(token.utf8)).hexString
        let key = self.key
        let configuration = self.configuration
        // Security answers are hashed (Argon2id) before the transaction.
        let answerHash = try await answerHash(for: request, user: user)
        let outcome = try await store.withWriteTransaction { txn -> Result<StoreInstant, RPCError> in
            // 1. The challenge: there, this client's, with attempts left.
            let entry: ExpiringEntry<Bastion_Auth_V1_ChallengeRecord>
            switch try Self.openChallenge(request.challengeId, user: user, client: client, in: txn) {
            case .success(let open): entry = open
            case .failure(let refusal): return .failure(refusal)
            }
            var challenge = entry.value
            // 2. Lockouts of the account and of the factor.
            let accountKey = Self.accountFailureKey(user: user)
            let factorKey = Self.factorFailureKey(user: user, factor: request.factorId)
            for (failureKey, limit) in [
                (accountKey, configuration.maxFailuresPerAccount), (factorKey, configuration.maxFailuresPerFactor),
            ] {
                guard let count = try txn.get(Self.failures, failureKey), count.count >= limit else { continue }
                let windowEnd = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(
                    by: configuration.failureWindow
                )
                return .failure(
                    RPCError(
                        code: .resourceExhausted,
                        message: "too many wrong codes; try again later",
                        retryAfter: max(.seconds(1), windowEnd.duration(since: txn.now)),
                        policy: "spam_prevention"
                    )
                )
            }
            // 3. The factor.
            let factorRowKey = CompositeKey(user, request.factorId)
            guard var factor = try txn.get(Self.factors, factorRowKey), factor.confirmed else {
                return .failure(RPCError(code: .notFound, message: "no factor \(request.factorId)"))
            }
            // 4. The attempt: it counts whatever its outcome.
            challenge.attempts += 1
            let accepted: Bool
            var problem = "wrong code"
            switch factor.kind {
            case .totp:
                switch Self.checkTotp(
                    &factor,
                    code: request.code,
                    key: key,
                    unixSeconds: txn.now.millisecondsSinceEpoch / 1000
                ) {
                case .accepted: accepted = true
                case .wrong: accepted = false
                case .replayed:
                    accepted = false
                    problem = "this code was used already; wait for the next one"
                case .unreadable:
                    return .failure(
                        RPCError(
                            code: .internal,
                            message: "the factor's secret cannot be opened with this server's factor key"
                        )
                    )
                }
            case .recoveryCodes:
                let hash = RecoveryCodes.normalize(request.code).map {
                    key.recoveryCodeHash(user: user, normalizedCode: $0)
                }
                let index = hash.flatMap { hash in factor.recoveryCodeHashes.firstIndex { constantTimeEquals($0, hash) }
                }
                accepted = index != nil
                if let index {
                    factor.recoveryCodeHashes.remove(at: index)
                    factor.recoveryCodeLastUsedUnixMillis = txn.now.millisecondsSinceEpoch
                }
            case .codeChannel:
                let check = Self.checkChannelCode(
                    request.code,
                    challenge: challenge,
                    challengeID: request.challengeId,
                    factor: request.factorId,
                    now: txn.now.millisecondsSinceEpoch,
                    settings: configuration.channels,
                    key: key
                )
                accepted = check.accepted
                if let text = check.problem { problem = text }
            case .securityQuestion:
                accepted = answerHash.map { constantTimeEquals($0, factor.answerHash) } ?? false
                if !accepted { problem = "wrong answer" }
            default:
                return .failure(RPCError(code: .notFound, message: "no factor \(request.factorId)"))
            }
            guard accepted else {
                try txn.put(Self.challenges, request.challengeId, challenge, expiresAt: entry.expiresAt)
                for failureKey in [accountKey, factorKey] {
                    var count =
                        try txn.get(Self.failures, failureKey)
                        ?? .init { $0.windowStartUnixMillis = txn.now.millisecondsSinceEpoch }
                    count.count += 1
                    let expiresAt = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(
                        by: configuration.failureWindow
                    )
                    try txn.put(Self.failures, failureKey, count, expiresAt: expiresAt)
                }
                let left = challenge.maxAttempts - challenge.attempts
                return .failure(
                    RPCError(
                        code: .permissionDenied,
                        message: "\(problem); \(left) attempt\(left == 1 ? "" : "s") left on this challenge",
                        policy: "authentication"
                    )
                )
            }
            try txn.put(Self.factors, factorRowKey, factor)
            try txn.delete(Self.challenges, request.challengeId)
            try txn.delete(Self.openChallenges, CompositeKey(client, request.challengeId))
            let expiresAt = txn.now.advanced(by: configuration.tokenLifetime)
            try txn.put(
                Self.tokens,
                tokenKey,
                .init {
                    $0.userId = user
                    $0.method = challenge.method
                    $0.requestSha256 = challenge.requestSha256
                    $0.factorId = request.factorId
                },
                expiresAt: expiresAt
            )
            return .success(expiresAt)
        }
        switch outcome {
        case .success(let expiresAt):
            logger.info("second factor proved", metadata: ["user": "\(user)", "factor": "\(request.factorId)"])
            if request.factorId == RecoveryCodes.factorID {
                logger.notice("recovery code used", metadata: ["user": "\(user)"])
                await notifyRecoveryCodeUsed(user: user)
            }
            return .init {
                $0.token = token
                $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
            }
        case .failure(let error):
            if error.code == .permissionDenied {
                logger.info("wrong second-factor code", metadata: ["user": "\(user)", "factor": "\(request.factorId)"])
            }
            throw error
        }
    }

    // MARK: Account deletion

    /// Removes everything this service keeps about `user` (inside `txn`, so that account deletion
    /// does it in the same transaction as the rest). Open challenges and tokens expire within
    /// minutes and name the user, whose principal no longer authenticates.
    public static func removeAll(for user: String, in txn: borrowing WriteTransaction) throws {
        for (key, factor) in try txn.scan(factors, .prefix(KeyPrefix(user))) {
            _ = try txn.delete(failures, factorFailureKey(user: user, factor: factor.factorId))
            try forgetPasskeyCredential(user: user, factor: factor.factorId, in: txn)
            try txn.delete(factors, key)
        }
        _ = try txn.delete(failures, accountFailureKey(user: user))
    }

    // MARK: Helpers

    enum TotpCheck { case accepted, wrong, replayed, unreadable }

    /// Checks a TOTP code at `unixSeconds` (±1 step) and, when it is accepted, records its step,
    /// so that neither it nor an earlier step's code is accepted again (RFC 6238 §5.2).
    static func checkTotp(
        _ factor: inout Bastion_Auth_V1_FactorRecord,
        code: String,
        key: FactorKey,
        unixSeconds: Int64
    ) -> TotpCheck {
        guard
            let secret = key.unseal(
                factor.sealedSecret,
                associatedData: associatedData(user: factor.userId, factor: factor.factorId)
            ),
            let algorithm = try? algorithm(factor.algorithm), (6...8).contains(Int(factor.digits))
        else { return .unreadable }
        let totp = TOTP(secret: secret, algorithm: algorithm, digits: Int(factor.digits))
        let typed = code.filter { $0 != " " }
        guard let step = totp.matchingStep(of: typed, at: unixSeconds) else { return .wrong }
        guard step > factor.lastAcceptedStep else { return .replayed }
        factor.lastAcceptedStep = step
        return .accepted
    }

    static func algorithm(_ algorithm: Bastion_Auth_V1_TotpAlgorithm) throws(RPCError) -> TOTP.Algorithm {
        switch algorithm {
        case .unspecified, .sha1: .sha1
        case .sha256: .sha256
        case .sha512: .sha512
        case .unrecognized(let value):
            throw RPCError(code: .invalidArgument, message: "algorithm: \(value) is none of SHA1, SHA256, SHA512")
        }
    }

    static func associatedData(user: String, factor: String) -> [UInt8] {
        Array("bastion-totp-v1".utf8) + [0] + Array(user.utf8) + [0] + Array(factor.utf8)
    }

    static func accountFailureKey(user: String) -> String { "user:\(user)" }
    static func factorFailureKey(user: String, factor: String) -> String { "factor:\(user):\(factor)" }

    /// The caller's user id, for a principal of `kind`.
    static func user(of context: ServerContext, kind: RPCPrincipal.Kind) throws(RPCError) -> String {
        guard let principal = context.principal, principal.kind == kind, let user = principal.userID, !user.isEmpty
        else {
            throw RPCError(
                code: .unauthenticated,
                message: kind == .user ? "not logged in" : "a registered client certificate is needed"
            )
        }
        return user
    }

    static func confirmedFactors(of user: String, in txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> [Bastion_Auth_V1_FactorRecord]
    {
        try txn.scan(factors, .prefix(KeyPrefix(user))).map(\.value).filter(\.confirmed)
    }

    /// The factors that can solve a challenge now: confirmed authenticators, and the recovery
    /// codes while some are left.
    static func usableFactors(of user: String, in txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> [Bastion_Auth_V1_FactorRecord]
    {
        try confirmedFactors(of: user, in: txn).filter {
            $0.kind == .totp || $0.kind == .codeChannel || $0.kind == .securityQuestion
                || ($0.kind == .recoveryCodes && !$0.recoveryCodeHashes.isEmpty)
                || ($0.kind == .passkey && !$0.passkeyCounterRegressed)
        }
    }

    static func publicFactor(_ record: Bastion_Auth_V1_FactorRecord) -> Bastion_Auth_V1_Factor {
        .init {
            $0.factorId = record.factorId
            $0.kind = record.kind
            $0.label = record.label
            $0.createdUnixSeconds = record.createdUnixSeconds
            if record.kind == .totp {
                $0.algorithm = record.algorithm
                $0.digits = record.digits
            }
            $0.recoveryCodesLeft = UInt32(record.recoveryCodeHashes.count)
            $0.recoveryCodeLastUsedUnixSeconds = record.recoveryCodeLastUsedUnixMillis / 1000
            $0.channel = record.channel
            $0.addressHint = record.addressHint
            if record.kind == .passkey {
                $0.passkeyCredentialId = record.passkeyCredentialId
                $0.passkeyAlgorithm = record.passkeyAlgorithm
                $0.passkeySignCount = record.passkeySignCount
                $0.passkeyCounterRegressed = record.passkeyCounterRegressed
            }
        }
    }
}

extension Bastion_Auth_V1_FactorRecord: StoreValue {}
extension Bastion_Auth_V1_ChallengeRecord: StoreValue {}
extension Bastion_Auth_V1_SecondFactorTokenRecord: StoreValue {}

extension TwoFactorService {
    /// The two-factor challenge when it is there, the client's and the user's, with attempts
    /// left; else the refusal every way of solving it gives (a code, a passkey, a channel code).
    static func openChallenge(
        _ challengeID: String,
        user: String,
        client: String,
        in txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> Result<ExpiringEntry<Bastion_Auth_V1_ChallengeRecord>, RPCError> {
        guard let entry = try txn.entry(Self.challenges, challengeID) else {
            return .failure(
                RPCError(code: .notFound, message: "no challenge \(challengeID) (it may have expired; initiate a new one)")
            )
        }
        guard entry.value.clientFingerprint == client, entry.value.userId == user else {
            return .failure(
                RPCError(code: .permissionDenied, message: "the challenge belongs to another client", policy: "authorization")
            )
        }
        guard entry.value.attempts < entry.value.maxAttempts else {
            return .failure(
                RPCError(
                    code: .failedPrecondition,
                    message: "the challenge has no attempts left; initiate a new one",
                    policy: "spam_prevention"
                )
            )
        }
        return .success(entry)
    }
}
