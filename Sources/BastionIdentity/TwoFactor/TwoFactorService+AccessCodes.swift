import BastionPolicy
import BastionProtobuf
public import BastionRPC
public import BastionStore
import Logging

/// Access codes (``AccessCodes``): issued by support staff, redeemed once for a scoped token.
extension TwoFactorService {
    /// Keyed by the code's HMAC (hex).
    static let accessCodes = ExpiringTable<String, Bastion_Auth_V1_AccessCodeRecord>("identity.access_codes")
    /// Keyed by the token's SHA-256 (hex).
    static let accessTokens = ExpiringTable<String, Bastion_Auth_V1_AccessTokenRecord>("identity.access_tokens")

    public func issueAccessCode(request: Bastion_Auth_V1_IssueAccessCodeRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_IssueAccessCodeResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let settings = configuration.accessCodes
        let role = try store.withReadTransaction { txn in try txn.get(AuthService.users, user)?.role }
        guard role == AccessCodes.supportRole || settings.supportUsers.contains(user) else {
            throw RPCError(
                code: .permissionDenied,
                message: "issuing access codes needs the \(AccessCodes.supportRole) role",
                policy: "authorization"
            )
        }
        guard AccessCodes.isValidScope(request.scope) else {
            throw RPCError(code: .invalidArgument, message: "scope: 1 to 64 of a-z, 0-9, '.', '_', ':', '-'")
        }
        guard request.subject.count <= 128 else {
            throw RPCError(code: .invalidArgument, message: "subject: at most 128 characters")
        }
        let digits = request.digits == 0 ? settings.defaultDigits : Int(request.digits)
        guard (6...10).contains(digits) else {
            throw RPCError(code: .invalidArgument, message: "digits: 6 to 10")
        }
        let lifetime = request.lifetimeSeconds == 0 ? settings.defaultLifetime : .seconds(request.lifetimeSeconds)
        guard (Duration.seconds(60)...Duration.seconds(3600)).contains(lifetime) else {
            throw RPCError(code: .invalidArgument, message: "lifetime_seconds: 60 to 3600")
        }
        let hashKey = key.subkey(AccessCodes.keyLabel)
        let (code, expiresAt) = try await store.withWriteTransaction { txn -> (String, StoreInstant) in
            // A clash with an open code is rare; a fresh code then.
            while true {
                let code = try AccessCodes.make(digits: digits)
                let rowKey = HMAC.sha256(key: hashKey, message: Array(code.utf8)).hexString
                guard try txn.get(Self.accessCodes, rowKey) == nil else { continue }
                let expiresAt = txn.now.advanced(by: lifetime)
                try txn.put(
                    Self.accessCodes,
                    rowKey,
                    .init {
                        $0.scope = request.scope
                        $0.subject = request.subject
                        $0.issuedBy = user
                        $0.issuedUnixMillis = txn.now.millisecondsSinceEpoch
                    },
                    expiresAt: expiresAt
                )
                return (code, expiresAt)
            }
        }
        logger.notice("access code issued", metadata: ["issuer": "\(user)", "scope": "\(request.scope)"])
        return .init {
            $0.code = code
            $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
        }
    }

    public func redeemAccessCode(request: Bastion_Auth_V1_RedeemAccessCodeRequest, context: ServerContext)
        async throws -> Bastion_Auth_V1_RedeemAccessCodeResponse
    {
        guard let code = AccessCodes.normalize(request.code) else {
            throw RPCError(code: .invalidArgument, message: "code: 6 to 10 digits")
        }
        let settings = configuration.accessCodes
        let rowKey = HMAC.sha256(key: key.subkey(AccessCodes.keyLabel), message: Array(code.utf8)).hexString
        let token = (try Random.bytes(32)).base64URL
        let tokenKey = SHA256.hash(Array(token.utf8)).hexString
        let outcome = try await store.withWriteTransaction {
            txn -> Result<(Bastion_Auth_V1_AccessCodeRecord, StoreInstant), RPCError> in
            let failureKey = AccessCodes.failureKey
            let failures = try txn.get(Self.failures, failureKey)
            if let failures, failures.count >= settings.maxFailures {
                let windowEnd = StoreInstant(millisecondsSinceEpoch: failures.windowStartUnixMillis).advanced(
                    by: settings.failureWindow
                )
                return .failure(
                    RPCError(
                        code: .resourceExhausted,
                        message: "too many wrong access codes; try again later",
                        retryAfter: max(.seconds(1), windowEnd.duration(since: txn.now)),
                        policy: "spam_prevention"
                    )
                )
            }
            guard let record = try txn.get(Self.accessCodes, rowKey) else {
                var count = failures ?? .init { $0.windowStartUnixMillis = txn.now.millisecondsSinceEpoch }
                count.count += 1
                try txn.put(
                    Self.failures,
                    failureKey,
                    count,
                    expiresAt: StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(
                        by: settings.failureWindow
                    )
                )
                return .failure(
                    RPCError(
                        code: .permissionDenied,
                        message: "the access code is unknown, used or expired",
                        policy: "authentication"
                    )
                )
            }
            try txn.delete(Self.accessCodes, rowKey)
            let expiresAt = txn.now.advanced(by: settings.tokenLifetime)
            try txn.put(
                Self.accessTokens,
                tokenKey,
                .init {
                    $0.scope = record.scope
                    $0.subject = record.subject
                    $0.issuedBy = record.issuedBy
                },
                expiresAt: expiresAt
            )
            return .success((record, expiresAt))
        }
        let (record, expiresAt) = try outcome.get()
        logger.notice("access code redeemed", metadata: ["issuer": "\(record.issuedBy)", "scope": "\(record.scope)"])
        return .init {
            $0.token = token
            $0.scope = record.scope
            $0.subject = record.subject
            $0.issuedBy = record.issuedBy
            $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
        }
    }

    /// What a redeemed access code's token allows, for services that accept such tokens: the
    /// record when the token is known, not expired and for `scope`; else an error to pass on.
    public func checkAccessToken(_ token: String, scope: String) throws -> Bastion_Auth_V1_AccessTokenRecord {
        let tokenKey = SHA256.hash(Array(token.utf8)).hexString
        guard let record = try store.withReadTransaction({ txn in try txn.get(Self.accessTokens, tokenKey) }) else {
            throw RPCError(code: .unauthenticated, message: "the access token is unknown or expired")
        }
        guard record.scope == scope else {
            throw RPCError(
                code: .permissionDenied,
                message: "the access token is for \(record.scope), not \(scope)",
                policy: "authorization"
            )
        }
        return record
    }
}

extension Bastion_Auth_V1_AccessCodeRecord: StoreValue {}
extension Bastion_Auth_V1_AccessTokenRecord: StoreValue {}
