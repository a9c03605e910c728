import BastionPolicy
import BastionProtobuf
public import BastionRPC
public import BastionStore
import Logging

/// Passkeys (WebAuthn) as a second factor: registration (BeginPasskeyRegistration /
/// FinishPasskeyRegistration) and assertions that solve InitiateTwoFactor's challenges
/// (BeginPasskeyAssertion / FinishPasskeyAssertion, answering SolveChallenge's one-use token).
///
/// Every WebAuthn challenge is 32 random bytes, stored only as its SHA-256, for one user,
/// single use (deleted by the first Finish call that names it, whatever its outcome), and
/// expires after ``PasskeyConfiguration/challengeLifetime`` (120 s). An assertion's challenge is
/// also bound to the client that asked and to the two-factor challenge it answers, and a refused
/// assertion counts against the same attempt and failure limits as a wrong code.
extension TwoFactorService {
    /// The relying party and the challenges' lifetime; `Configuration.passkeys`.
    public struct PasskeyConfiguration: Sendable {
        public var relyingParty: WebAuthnRelyingParty
        public var challengeLifetime: Duration = .seconds(120)

        public init(relyingParty: WebAuthnRelyingParty) {
            self.relyingParty = relyingParty
        }
    }

    static let passkeyChallenges = ExpiringTable<String, Bastion_Auth_V1_PasskeyChallengeRecord>(
        "identity.passkey_challenges"
    )
    static let passkeyCredentials = Table<String, Bastion_Auth_V1_PasskeyCredentialRecord>(
        "identity.passkey_credentials"
    )

    // MARK: Registration

    public func beginPasskeyRegistration(
        request: Bastion_Auth_V1_BeginPasskeyRegistrationRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_BeginPasskeyRegistrationResponse {
        let user = try Self.user(of: context, kind: .user)
        let passkeys = try passkeyConfiguration()
        guard request.label.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "label: at most 64 characters")
        }
        let challenge = try Random.bytes(32)
        let label = request.label.isEmpty ? "passkey" : request.label
        let (expiresAt, existing) = try await store.withWriteTransaction { txn -> (StoreInstant, [[UInt8]]) in
            let expiresAt = txn.now.advanced(by: passkeys.challengeLifetime)
            try txn.put(
                Self.passkeyChallenges,
                SHA256.hash(challenge).hexString,
                Bastion_Auth_V1_PasskeyChallengeRecord {
                    $0.userId = user
                    $0.registration = true
                    $0.label = label
                },
                expiresAt: expiresAt
            )
            let existing = try Self.confirmedFactors(of: user, in: txn).filter { $0.kind == .passkey }
                .map(\.passkeyCredentialId)
            return (expiresAt, existing)
        }
        let party = passkeys.relyingParty
        return Bastion_Auth_V1_BeginPasskeyRegistrationResponse {
            $0.challenge = challenge
            $0.rpId = party.id
            $0.rpName = party.name
            $0.userHandle = Self.passkeyUserHandle(user: user, key: key)
            $0.userName = user
            $0.algorithms = party.algorithms.map { Int32($0.rawValue) }
            $0.excludeCredentialIds = existing
            $0.userVerification = party.userVerification.rawValue
            $0.timeoutMillis = UInt32(passkeys.challengeLifetime.components.seconds * 1000)
            $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
        }
    }

    public func finishPasskeyRegistration(
        request: Bastion_Auth_V1_FinishPasskeyRegistrationRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_FinishPasskeyRegistrationResponse {
        let user = try Self.user(of: context, kind: .user)
        let passkeys = try passkeyConfiguration()
        let clientData = try Self.clientData(request.clientDataJson)
        let factorID = "passkey-" + (try Random.bytes(6)).hexString
        let outcome = try await store.withWriteTransaction { txn -> Result<Bastion_Auth_V1_FactorRecord, RPCError> in
            let challengeKey = SHA256.hash(clientData.challenge).hexString
            guard let record = try txn.get(Self.passkeyChallenges, challengeKey), record.registration,
                record.userId == user
            else {
                return .failure(
                    RPCError(
                        code: .permissionDenied,
                        message:
                            "the registration challenge is unknown, used or expired; call BeginPasskeyRegistration again",
                        policy: "integrity"
                    )
                )
            }
            // Single use, whatever follows.
            try txn.delete(Self.passkeyChallenges, challengeKey)
            let credential: WebAuthnRelyingParty.NewCredential
            do throws(WebAuthnError) {
                credential = try passkeys.relyingParty.verifyRegistration(
                    clientData: clientData,
                    attestationObject: request.attestationObject,
                    challenge: clientData.challenge
                )
            } catch {
                return .failure(Self.refusal(error, ceremony: "registration"))
            }
            let credentialKey = SHA256.hash(credential.credentialID).hexString
            if let holder = try txn.get(Self.passkeyCredentials, credentialKey),
                try txn.get(Self.factors, CompositeKey(holder.userId, holder.factorId)) != nil
            {
                return .failure(
                    RPCError(code: .alreadyExists, message: "this passkey (credential id) is registered already")
                )
            }
            let factor = Bastion_Auth_V1_FactorRecord {
                $0.userId = user
                $0.factorId = factorID
                $0.kind = .passkey
                $0.label = record.label
                $0.createdUnixSeconds = txn.now.millisecondsSinceEpoch / 1000
                $0.confirmed = true
                $0.passkeyCredentialId = credential.credentialID
                $0.passkeyPublicKey = credential.publicKeyBytes
                $0.passkeyAlgorithm = Int32(credential.publicKey.algorithm.rawValue)
                $0.passkeySignCount = credential.signCount
                $0.passkeyAaguid = credential.aaguid
                $0.passkeyUserVerified = credential.userVerified
                $0.passkeyBackupEligible = credential.backupEligible
            }
            try txn.insert(Self.factors, CompositeKey(user, factorID), factor)
            try txn.put(
                Self.passkeyCredentials,
                credentialKey,
                Bastion_Auth_V1_PasskeyCredentialRecord {
                    $0.userId = user
                    $0.factorId = factorID
                }
            )
            return .success(factor)
        }
        let factor = try outcome.get()
        logger.notice("passkey registered", metadata: ["user": "\(user)", "factor": "\(factorID)"])
        return Bastion_Auth_V1_FinishPasskeyRegistrationResponse { $0.factor = Self.publicFactor(factor) }
    }

    // MARK: Assertion

    public func beginPasskeyAssertion(
        request: Bastion_Auth_V1_BeginPasskeyAssertionRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_BeginPasskeyAssertionResponse {
        let user = try Self.user(of: context, kind: .client)
        let client = context.principal?.id ?? ""
        let passkeys = try passkeyConfiguration()
        let challenge = try Random.bytes(32)
        let outcome = try await store.withWriteTransaction {
            txn -> Result<(StoreInstant, [[UInt8]]), RPCError> in
            if case .failure(let refusal) = try Self.openChallenge(request.challengeId, user: user, client: client, in: txn) {
                return .failure(refusal)
            }
            let credentials = try Self.usableFactors(of: user, in: txn).filter { $0.kind == .passkey }
                .map(\.passkeyCredentialId)
            guard !credentials.isEmpty else {
                return .failure(RPCError(code: .failedPrecondition, message: "\(user) has no usable passkey"))
            }
            let expiresAt = txn.now.advanced(by: passkeys.challengeLifetime)
            try txn.put(
                Self.passkeyChallenges,
                SHA256.hash(challenge).hexString,
                Bastion_Auth_V1_PasskeyChallengeRecord {
                    $0.userId = user
                    $0.registration = false
                    $0.clientFingerprint = client
                    $0.twoFactorChallengeId = request.challengeId
                },
                expiresAt: expiresAt
            )
            return .success((expiresAt, credentials))
        }
        let (expiresAt, credentials) = try outcome.get()
        return Bastion_Auth_V1_BeginPasskeyAssertionResponse {
            $0.challenge = challenge
            $0.rpId = passkeys.relyingParty.id
            $0.allowCredentialIds = credentials
            $0.userVerification = passkeys.relyingParty.userVerification.rawValue
            $0.timeoutMillis = UInt32(passkeys.challengeLifetime.components.seconds * 1000)
            $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
        }
    }

    public func finishPasskeyAssertion(
        request: Bastion_Auth_V1_FinishPasskeyAssertionRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_SolveChallengeResponse {
        let user = try Self.user(of: context, kind: .client)
        let client = context.principal?.id ?? ""
        let passkeys = try passkeyConfiguration()
        let clientData = try Self.clientData(request.clientDataJson)
        let token = (try Random.bytes(32)).base64URL
        let tokenKey = SHA256.hash(Array(token.utf8)).hexString
        let userHandle = Self.passkeyUserHandle(user: user, key: key)
        let configuration = self.configuration
        let (factorID, outcome) = try await store.withWriteTransaction {
            txn -> (String, Result<StoreInstant, RPCError>) in
            // 1. The WebAuthn challenge: issued to this client for this user and this two-factor
            //    challenge; consumed now, whatever follows.
            let passkeyChallengeKey = SHA256.hash(clientData.challenge).hexString
            guard let issued = try txn.get(Self.passkeyChallenges, passkeyChallengeKey), !issued.registration else {
                return ("", .failure(
                    RPCError(
                        code: .permissionDenied,
                        message: "the passkey challenge is unknown, used or expired; call BeginPasskeyAssertion again",
                        policy: "integrity"
                    )
                ))
            }
            try txn.delete(Self.passkeyChallenges, passkeyChallengeKey)
            guard issued.userId == user, issued.clientFingerprint == client,
                issued.twoFactorChallengeId == request.challengeId
            else {
                return ("", .failure(
                    RPCError(
                        code: .permissionDenied,
                        message: "the passkey challenge was issued for another client or challenge",
                        policy: "authorization"
                    )
                ))
            }
            // 2. The two-factor challenge, and the lockouts, as SolveChallenge.
            var challenge: ExpiringEntry<Bastion_Auth_V1_ChallengeRecord>
            switch try Self.openChallenge(request.challengeId, user: user, client: client, in: txn) {
            case .success(let entry): challenge = entry
            case .failure(let refusal): return ("", .failure(refusal))
            }
            // 3. The passkey that signed.
            let holder = try txn.get(Self.passkeyCredentials, SHA256.hash(request.credentialId).hexString)
            let factorID = holder?.userId == user ? holder?.factorId ?? "" : ""
            if let refusal = try Self.lockout(user: user, factor: factorID, configuration: configuration, in: txn) {
                return (factorID, .failure(refusal))
            }
            challenge.value.attempts += 1
            var factor: Bastion_Auth_V1_FactorRecord?
            if let holder, holder.userId == user,
                let record = try txn.get(Self.factors, CompositeKey(user, holder.factorId)), record.kind == .passkey,
                record.confirmed
            {
                factor = record
            }
            // 4. The assertion.
            var problem: RPCError?
            var newCount: UInt32 = 0
            if var record = factor {
                if record.passkeyCounterRegressed {
                    problem = RPCError(
                        code: .permissionDenied,
                        message: "this passkey's signature counter went backwards once (it may be cloned); remove it",
                        policy: "authentication"
                    )
                } else {
                    do throws(WebAuthnError) {
                        let key = try COSEKey(encoded: record.passkeyPublicKey)
                        newCount =
                            try passkeys.relyingParty.verifyAssertion(
                                clientData: clientData,
                                authenticatorData: request.authenticatorData,
                                signature: request.signature,
                                challenge: clientData.challenge,
                                publicKey: key,
                                storedSignCount: record.passkeySignCount,
                                userHandle: request.userHandle,
                                expectedUserHandle: userHandle
                            ).signCount
                    } catch {
                        if error.code == .counterRegressed {
                            record.passkeyCounterRegressed = true
                            try txn.put(Self.factors, CompositeKey(user, record.factorId), record)
                        }
                        problem = Self.refusal(error, ceremony: "assertion")
                    }
                }
            } else {
                problem = RPCError(
                    code: .permissionDenied,
                    message: "no passkey of \(user) has this credential id",
                    policy: "authentication"
                )
            }
            if let problem {
                try txn.put(Self.challenges, request.challengeId, challenge.value, expiresAt: challenge.expiresAt)
                try Self.countFailure(user: user, factor: factorID, configuration: configuration, in: txn)
                let left = challenge.value.maxAttempts - challenge.value.attempts
                return (factorID, .failure(
                    RPCError(
                        code: problem.code,
                        message: "\(problem.message); \(left) attempt\(left == 1 ? "" : "s") left on this challenge",
                        policy: problem.policy
                    )
                ))
            }
            guard var record = factor else { preconditionFailure("a passkey was verified without a factor") }
            record.passkeySignCount = newCount
            try txn.put(Self.factors, CompositeKey(user, record.factorId), record)
            try txn.delete(Self.challenges, request.challengeId)
            try txn.delete(Self.openChallenges, CompositeKey(client, request.challengeId))
            let expiresAt = txn.now.advanced(by: configuration.tokenLifetime)
            try txn.put(
                Self.tokens,
                tokenKey,
                Bastion_Auth_V1_SecondFactorTokenRecord {
                    $0.userId = user
                    $0.method = challenge.value.method
                    $0.requestSha256 = challenge.value.requestSha256
                    $0.factorId = record.factorId
                },
                expiresAt: expiresAt
            )
            return (factorID, .success(expiresAt))
        }
        switch outcome {
        case .success(let expiresAt):
            logger.info("second factor proved", metadata: ["user": "\(user)", "factor": "\(factorID)"])
            return Bastion_Auth_V1_SolveChallengeResponse {
                $0.token = token
                $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
            }
        case .failure(let error):
            if error.message.contains("signature counter went") {
                logger.warning(
                    "passkey signature counter went backwards; the passkey is disabled",
                    metadata: ["user": "\(user)", "factor": "\(factorID)"]
                )
            } else if error.code == .permissionDenied {
                logger.info("passkey assertion refused", metadata: ["user": "\(user)", "factor": "\(factorID)"])
            }
            throw error
        }
    }

    // MARK: Helpers

    func passkeyConfiguration() throws(RPCError) -> PasskeyConfiguration {
        guard let passkeys = configuration.passkeys else {
            throw RPCError(
                code: .unimplemented,
                message: "passkeys are off on this server (bastiond --webauthn-rp-id and --webauthn-origin)"
            )
        }
        return passkeys
    }

    /// WebAuthn's user.id for `user`: an HMAC under the factor key, so that authenticators and
    /// whoever reads them learn no user id, and it stays the same across registrations.
    static func passkeyUserHandle(user: String, key: FactorKey) -> [UInt8] {
        // 0xFF never occurs in UTF-8, so this input is never a recovery code's.
        HMAC.sha256(
            key: key.recoveryCodeKey,
            message: [0xFF] + Array("bastion-passkey-user-handle-v1".utf8) + [0] + Array(user.utf8)
        )
    }

    static func clientData(_ bytes: [UInt8]) throws(RPCError) -> CollectedClientData {
        do {
            return try CollectedClientData(bytes)
        } catch {
            throw RPCError(code: .invalidArgument, message: "client_data_json: \(error.message)")
        }
    }

    static func refusal(_ error: WebAuthnError, ceremony: String) -> RPCError {
        switch error.code {
        case .malformed, .limitExceeded, .unsupported:
            RPCError(code: .invalidArgument, message: "passkey \(ceremony) refused: \(error.message)")
        default:
            RPCError(
                code: .permissionDenied,
                message: "passkey \(ceremony) refused: \(error.message)",
                policy: error.code == .counterRegressed || error.code == .badSignature ? "authentication" : "integrity"
            )
        }
    }

    /// The lockout of the account or of the factor, when one holds.
    static func lockout(
        user: String,
        factor: String,
        configuration: Configuration,
        in txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> RPCError? {
        for (failureKey, limit) in [
            (accountFailureKey(user: user), configuration.maxFailuresPerAccount),
            (factorFailureKey(user: user, factor: factor), configuration.maxFailuresPerFactor),
        ] {
            guard let count = try txn.get(Self.failures, failureKey), count.count >= limit else { continue }
            let windowEnd = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(
                by: configuration.failureWindow
            )
            return RPCError(
                code: .resourceExhausted,
                message: "too many failed attempts; try again later",
                retryAfter: max(.seconds(1), windowEnd.duration(since: txn.now)),
                policy: "spam_prevention"
            )
        }
        return nil
    }

    static func countFailure(
        user: String,
        factor: String,
        configuration: Configuration,
        in txn: borrowing WriteTransaction
    ) throws {
        for failureKey in [accountFailureKey(user: user), factorFailureKey(user: user, factor: factor)] {
            var count =
                try txn.get(Self.failures, failureKey)
                ?? Bastion_Auth_V1_FailureCount { $0.windowStartUnixMillis = txn.now.millisecondsSinceEpoch }
            count.count += 1
            let expiresAt = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(
                by: configuration.failureWindow
            )
            try txn.put(Self.failures, failureKey, count, expiresAt: expiresAt)
        }
    }

    /// Forgets which user holds a passkey's credential id, before its factor row goes.
    static func forgetPasskeyCredential(user: String, factor: String, in txn: borrowing WriteTransaction) throws {
        guard let record = try txn.get(Self.factors, CompositeKey(user, factor)), record.kind == .passkey else {
            return
        }
        _ = try txn.delete(Self.passkeyCredentials, SHA256.hash(record.passkeyCredentialId).hexString)
    }
}

extension Bastion_Auth_V1_PasskeyChallengeRecord: StoreValue {}
extension Bastion_Auth_V1_PasskeyCredentialRecord: StoreValue {}
