import BastionPolicy
import BastionProtobuf
public import BastionRPC
import BastionStore
import Logging

/// Code channels (SMS, e-mail, postal mail, a video call): enrollment with a code sent to the
/// address, and codes for challenges, with re-sending and rotation (``ChannelCodes``).
extension TwoFactorService {
    /// Sends through one factor within the send window, keyed `sends:<user>:<factor id>`.
    static let sends = ExpiringTable<String, Bastion_Auth_V1_FailureCount>("identity.two_factor_sends")

    static let enrollmentPurpose = "enroll"

    // MARK: Enrollment

    public func enrollChannel(request: Bastion_Auth_V1_EnrollChannelRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_EnrollChannelResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let settings = configuration.channels
        guard let channel = settings.channels[request.channel] else {
            let names = settings.names
            throw RPCError(
                code: .invalidArgument,
                message: names.isEmpty
                    ? "this server has no code channels configured"
                    : "channel: \(request.channel.isEmpty ? "missing" : "'\(request.channel.prefix(32))' is not configured"); one of \(names.joined(separator: ", "))"
            )
        }
        if let problem = ChannelCodes.problem(with: request.address) {
            throw RPCError(code: .invalidArgument, message: problem)
        }
        guard request.label.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "label: at most 64 characters")
        }
        let factorID = "channel-" + (try Random.bytes(6)).hexString
        let sealed = try key.seal(
            Array(request.address.utf8),
            associatedData: Self.channelAssociatedData(user: user, factor: factorID)
        )
        let key = self.key
        let lifetime = configuration.enrollmentLifetime
        let hint = ChannelCodes.hint(for: request.address)
        let label = request.label.isEmpty ? request.channel : request.label
        let outcome = try await store.withWriteTransaction {
            txn -> Result<(Bastion_Auth_V1_ChannelCodeRecord, String, StoreInstant), RPCError> in
            let now = txn.now
            var channels = 0
            for (rowKey, factor) in try txn.scan(Self.factors, .prefix(KeyPrefix(user))) {
                if !factor.confirmed, factor.confirmBeforeUnixMillis <= now.millisecondsSinceEpoch {
                    try txn.delete(Self.factors, rowKey)
                } else if factor.kind == .codeChannel {
                    channels += 1
                }
            }
            guard channels < settings.maxFactorsPerUser else {
                return .failure(
                    RPCError(
                        code: .failedPrecondition,
                        message: "\(user) has \(channels) channel factors already (at most \(settings.maxFactorsPerUser)); remove one first"
                    )
                )
            }
            let confirmBefore = now.advanced(by: lifetime)
            let (code, digits, _) = try ChannelCodes.next(
                after: nil,
                factor: factorID,
                purpose: Self.enrollmentPurpose,
                now: now.millisecondsSinceEpoch,
                cap: confirmBefore.millisecondsSinceEpoch,
                settings: settings,
                key: key
            )
            try Self.countSend(user: user, factor: factorID, in: txn, settings: settings).get()
            try txn.insert(
                Self.factors,
                CompositeKey(user, factorID),
                .init {
                    $0.userId = user
                    $0.factorId = factorID
                    $0.kind = .codeChannel
                    $0.label = label
                    $0.createdUnixSeconds = now.millisecondsSinceEpoch / 1000
                    $0.confirmed = false
                    $0.confirmBeforeUnixMillis = confirmBefore.millisecondsSinceEpoch
                    $0.channel = request.channel
                    $0.sealedAddress = sealed
                    $0.addressHint = hint
                    $0.pendingCode = code
                }
            )
            return .success((code, digits, confirmBefore))
        }
        let (code, digits, confirmBefore) = try outcome.get()
        try await deliver(
            digits,
            record: code,
            through: channel,
            named: request.channel,
            address: request.address,
            purpose: "confirming this address for \(user)",
            retry: "call ResendEnrollmentCode for \(factorID) to send it again"
        )
        logger.info(
            "channel enrollment started",
            metadata: ["user": "\(user)", "factor": "\(factorID)", "channel": "\(request.channel)"]
        )
        return .init {
            $0.factorId = factorID
            $0.codePrefix = settings.codePrefix
            $0.confirmBeforeUnixSeconds = confirmBefore.millisecondsSinceEpoch / 1000
            $0.sameCodeUntilUnixSeconds = code.sameCodeUntilUnixMillis / 1000
            $0.addressHint = hint
        }
    }

    public func resendEnrollmentCode(
        request: Bastion_Auth_V1_ResendEnrollmentCodeRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_ResendEnrollmentCodeResponse {
        let user = try Self.user(of: context, kind: .user)
        let settings = configuration.channels
        let key = self.key
        let outcome = try await store.withWriteTransaction {
            txn -> Result<(Bastion_Auth_V1_FactorRecord, Bastion_Auth_V1_ChannelCodeRecord, String, Bool), RPCError> in
            let now = txn.now.millisecondsSinceEpoch
            let rowKey = CompositeKey(user, request.factorId)
            guard var factor = try txn.get(Self.factors, rowKey), factor.kind == .codeChannel, !factor.confirmed,
                factor.confirmBeforeUnixMillis > now
            else {
                return .failure(
                    RPCError(
                        code: .notFound,
                        message: "no pending channel enrollment \(request.factorId) (it may have expired; enroll again)"
                    )
                )
            }
            try Self.countSend(user: user, factor: factor.factorId, in: txn, settings: settings).get()
            let (code, digits, isNew) = try ChannelCodes.next(
                after: factor.pendingCode,
                factor: factor.factorId,
                purpose: Self.enrollmentPurpose,
                now: now,
                cap: factor.confirmBeforeUnixMillis,
                settings: settings,
                key: key
            )
            factor.pendingCode = code
            try txn.put(Self.factors, rowKey, factor)
            return .success((factor, code, digits, isNew))
        }
        let (factor, code, digits, isNew) = try outcome.get()
        try await deliver(
            digits,
            record: code,
            factor: factor,
            purpose: "confirming this address for \(user)",
            retry: "call ResendEnrollmentCode for \(factor.factorId) to send it again"
        )
        return .init {
            $0.newCode = isNew
            $0.sameCodeUntilUnixSeconds = code.sameCodeUntilUnixMillis / 1000
            $0.codeExpiresUnixSeconds = code.expiresUnixMillis / 1000
        }
    }

    public func confirmChannel(request: Bastion_Auth_V1_ConfirmChannelRequest, context: ServerContext) async throws
        -> Bastion_Auth_V1_FactorResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let settings = configuration.channels
        let key = self.key
        let maxFailures = configuration.maxConfirmFailures
        let outcome = try await store.withWriteTransaction { txn -> Result<Bastion_Auth_V1_FactorRecord, RPCError> in
            let now = txn.now.millisecondsSinceEpoch
            let rowKey = CompositeKey(user, request.factorId)
            guard var factor = try txn.get(Self.factors, rowKey), factor.kind == .codeChannel,
                factor.confirmed || factor.confirmBeforeUnixMillis > now
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
            switch ChannelCodes.check(
                request.code,
                against: factor.pendingCode,
                purpose: Self.enrollmentPurpose,
                now: now,
                settings: settings,
                key: key
            ) {
            case .accepted:
                factor.confirmed = true
                factor.confirmBeforeUnixMillis = 0
                factor.pendingCode = nil
                try txn.put(Self.factors, rowKey, factor)
                return .success(factor)
            case .expired, .notSent:
                return .failure(
                    RPCError(
                        code: .failedPrecondition,
                        message: "the code has expired; call ResendEnrollmentCode for a new one"
                    )
                )
            case .wrong:
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
                let left = maxFailures - factor.confirmFailures
                return .failure(
                    RPCError(
                        code: .permissionDenied,
                        message: "wrong code; \(left) attempt\(left == 1 ? "" : "s") left",
                        policy: "integrity"
                    )
                )
            }
        }
        let factor = try outcome.get()
        logger.notice("channel factor confirmed", metadata: ["user": "\(user)", "factor": "\(factor.factorId)"])
        return .init { $0.factor = publicFactor(factor) }
    }

    // MARK: Challenges

    public func sendChallengeCode(request: Bastion_Auth_V1_SendChallengeCodeRequest, context: ServerContext)
        async throws -> Bastion_Auth_V1_SendChallengeCodeResponse
    {
        let user = try Self.user(of: context, kind: .client)
        let client = context.principal?.id ?? ""
        let settings = configuration.channels
        let key = self.key
        let outcome = try await store.withWriteTransaction {
            txn -> Result<
                (Bastion_Auth_V1_FactorRecord, Bastion_Auth_V1_ChannelCodeRecord, String, Bool, String, UInt32),
                RPCError
            > in
            let entry: ExpiringEntry<Bastion_Auth_V1_ChallengeRecord>
            switch try Self.openChallenge(request.challengeId, user: user, client: client, in: txn) {
            case .success(let open): entry = open
            case .failure(let refusal): return .failure(refusal)
            }
            var challenge = entry.value
            guard let factor = try txn.get(Self.factors, CompositeKey(user, request.factorId)), factor.confirmed,
                factor.kind == .codeChannel
            else {
                return .failure(RPCError(code: .notFound, message: "no channel factor \(request.factorId)"))
            }
            try Self.countSend(user: user, factor: factor.factorId, in: txn, settings: settings).get()
            let index = challenge.channelCodes.firstIndex { $0.factorId == factor.factorId }
            let (code, digits, isNew) = try ChannelCodes.next(
                after: index.map { challenge.channelCodes[$0] },
                factor: factor.factorId,
                purpose: request.challengeId,
                now: txn.now.millisecondsSinceEpoch,
                cap: entry.expiresAt.millisecondsSinceEpoch,
                settings: settings,
                key: key
            )
            if let index { challenge.channelCodes[index] = code } else { challenge.channelCodes.append(code) }
            try txn.put(Self.challenges, request.challengeId, challenge, expiresAt: entry.expiresAt)
            return .success(
                (factor, code, digits, isNew, challenge.method, challenge.maxAttempts - challenge.attempts)
            )
        }
        let (factor, code, digits, isNew, method, attemptsLeft) = try outcome.get()
        try await deliver(
            digits,
            record: code,
            factor: factor,
            purpose: method,
            retry: "the challenge is unchanged; call SendChallengeCode again"
        )
        logger.info(
            isNew ? "challenge code sent" : "challenge code sent again",
            metadata: ["user": "\(user)", "factor": "\(factor.factorId)", "generation": "\(code.generation)"]
        )
        return .init {
            $0.newCode = isNew
            $0.codePrefix = settings.codePrefix
            $0.sameCodeUntilUnixSeconds = code.sameCodeUntilUnixMillis / 1000
            $0.codeExpiresUnixSeconds = code.expiresUnixMillis / 1000
            $0.attemptsLeft = attemptsLeft
        }
    }

    /// SolveChallenge's check of a channel code: the code sent for this challenge through this
    /// factor, not expired. Returns the outcome and, for a refusal, what to tell the caller.
    static func checkChannelCode(
        _ typed: String,
        challenge: Bastion_Auth_V1_ChallengeRecord,
        challengeID: String,
        factor: String,
        now: Int64,
        settings: CodeChannels,
        key: FactorKey
    ) -> (accepted: Bool, problem: String?) {
        switch ChannelCodes.check(
            typed,
            against: challenge.channelCodes.first { $0.factorId == factor },
            purpose: challengeID,
            now: now,
            settings: settings,
            key: key
        ) {
        case .accepted: (true, nil)
        case .wrong: (false, nil)
        case .expired: (false, "the code has expired; call SendChallengeCode for a new one")
        case .notSent: (false, "no code was sent through \(factor) for this challenge; call SendChallengeCode")
        }
    }

    // MARK: Notices

    /// Tells the user through each confirmed channel that a recovery code was used; failures
    /// are logged, not thrown (the code did its work already).
    func notifyRecoveryCodeUsed(user: String) async {
        let all: [Bastion_Auth_V1_FactorRecord]
        do {
            all = try store.withReadTransaction { txn in try Self.confirmedFactors(of: user, in: txn) }
        } catch {
            logger.error("cannot read the factors to notify", metadata: ["user": "\(user)", "error": "\(error)"])
            return
        }
        let factors = all.filter { $0.kind == .codeChannel }
        let left = all.first { $0.kind == .recoveryCodes }?.recoveryCodeHashes.count ?? 0
        let message = """
            \(configuration.channels.serviceName): a recovery code of your account \(user) was used; \(left) left.
            If it was not you, secure your account now.

            """
        for factor in factors {
            guard let channel = configuration.channels.channels[factor.channel],
                let address = openAddress(of: factor)
            else { continue }
            do {
                try await channel.send(address: address, message: message)
            } catch {
                logger.error(
                    "cannot notify of a used recovery code",
                    metadata: [
                        "user": "\(user)", "factor": "\(factor.factorId)", "reason": "\(error.reason)",
                        "output": "\(error.output)",
                    ]
                )
            }
        }
    }

    // MARK: Helpers

    static func channelAssociatedData(user: String, factor: String) -> [UInt8] {
        Array("bastion-channel-address-v1".utf8) + [0] + Array(user.utf8) + [0] + Array(factor.utf8)
    }

    func openAddress(of factor: Bastion_Auth_V1_FactorRecord) -> String? {
        key.unseal(
            factor.sealedAddress,
            associatedData: Self.channelAssociatedData(user: factor.userId, factor: factor.factorId)
        ).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Counts a send through `factor`, or refuses when the window's sends are used up.
    static func countSend(
        user: String,
        factor: String,
        in txn: borrowing WriteTransaction,
        settings: CodeChannels
    ) throws -> Result<Void, RPCError> {
        let rowKey = "sends:\(user):\(factor)"
        var count =
            try txn.get(sends, rowKey) ?? .init { $0.windowStartUnixMillis = txn.now.millisecondsSinceEpoch }
        let windowEnd = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(
            by: settings.sendWindow
        )
        guard count.count < settings.maxSendsPerFactor else {
            return .failure(
                RPCError(
                    code: .resourceExhausted,
                    message: "\(settings.maxSendsPerFactor) codes were sent through \(factor) recently; try again later",
                    retryAfter: max(.seconds(1), windowEnd.duration(since: txn.now)),
                    policy: "spam_prevention"
                )
            )
        }
        count.count += 1
        try txn.put(sends, rowKey, count, expiresAt: windowEnd)
        return .success(())
    }

    /// Sends a code through a stored factor's channel.
    func deliver(
        _ code: String,
        record: Bastion_Auth_V1_ChannelCodeRecord,
        factor: Bastion_Auth_V1_FactorRecord,
        purpose: String,
        retry: String
    ) async throws {
        guard let channel = configuration.channels.channels[factor.channel] else {
            throw RPCError(
                code: .failedPrecondition,
                message: "the channel '\(factor.channel)' of \(factor.factorId) is no longer configured on this server"
            )
        }
        guard let address = openAddress(of: factor) else {
            throw RPCError(
                code: .internal,
                message: "the factor's address cannot be opened with this server's factor key"
            )
        }
        try await deliver(
            code,
            record: record,
            through: channel,
            named: factor.channel,
            address: address,
            purpose: purpose,
            retry: retry
        )
    }

    func deliver(
        _ code: String,
        record: Bastion_Auth_V1_ChannelCodeRecord,
        through channel: any CodeChannel,
        named name: String,
        address: String,
        purpose: String,
        retry: String
    ) async throws {
        let lifetime = Duration.milliseconds(record.expiresUnixMillis - record.createdUnixMillis)
        let message = ChannelCodes.message(
            code: code,
            for: purpose,
            settings: configuration.channels,
            lifetime: lifetime
        )
        do {
            try await channel.send(address: address, message: message)
        } catch {
            logger.error(
                "a channel did not take a code",
                metadata: [
                    "channel": "\(name)", "factor": "\(record.factorId)", "reason": "\(error.reason)",
                    "output": "\(error.output)",
                ]
            )
            throw RPCError(
                code: .unavailable,
                message: "the \(name) channel could not send the code (\(error.reason)); \(retry)",
                cause: error
            )
        }
    }
}
