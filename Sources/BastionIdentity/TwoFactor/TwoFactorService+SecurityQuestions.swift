import BastionPolicy
import BastionProtobuf
public import BastionRPC
import BastionStore
import Logging

/// Security questions (``SecurityQuestions``): added by their owner, answered in challenges.
extension TwoFactorService {
    /// Questions one user may have.
    static let maxQuestionsPerUser = 5

    public func addSecurityQuestion(request: Bastion_Auth_V1_AddSecurityQuestionRequest, context: ServerContext)
        async throws -> Bastion_Auth_V1_FactorResponse
    {
        let user = try Self.user(of: context, kind: .user)
        let question = String(request.question.trimmingWhitespace)
        guard !question.isEmpty, question.count <= SecurityQuestions.maxQuestionCharacters else {
            throw RPCError(
                code: .invalidArgument,
                message: "question: 1 to \(SecurityQuestions.maxQuestionCharacters) characters"
            )
        }
        let normalized = SecurityQuestions.normalize(request.answer)
        guard !normalized.isEmpty, normalized.count <= SecurityQuestions.maxAnswerCharacters else {
            throw RPCError(
                code: .invalidArgument,
                message: "answer: 1 to \(SecurityQuestions.maxAnswerCharacters) characters (after trimming)"
            )
        }
        guard request.label.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "label: at most 64 characters")
        }
        let existing = try store.withReadTransaction { txn in
            try Self.confirmedFactors(of: user, in: txn).filter { $0.kind == .securityQuestion }.count
        }
        guard existing < Self.maxQuestionsPerUser else {
            throw RPCError(
                code: .failedPrecondition,
                message: "\(user) has \(existing) security questions already (at most \(Self.maxQuestionsPerUser))"
            )
        }
        let factorID = "question-" + (try Random.bytes(6)).hexString
        let salt = try Random.bytes(SecurityQuestions.saltLength)
        let parameters = configuration.securityQuestions
        let hash = try await SecurityQuestions.hash(answer: request.answer, salt: salt, parameters: parameters, key: key)
        let sealed = try key.seal(
            Array(question.utf8),
            associatedData: Self.questionAssociatedData(user: user, factor: factorID)
        )
        let label = request.label.isEmpty ? "security question" : request.label
        let record = try await store.withWriteTransaction { txn -> Bastion_Auth_V1_FactorRecord in
            let record = Bastion_Auth_V1_FactorRecord {
                $0.userId = user
                $0.factorId = factorID
                $0.kind = .securityQuestion
                $0.label = label
                $0.createdUnixSeconds = txn.now.millisecondsSinceEpoch / 1000
                $0.confirmed = true
                $0.sealedQuestion = sealed
                $0.answerSalt = salt
                $0.answerHash = hash
                $0.answerIterations = parameters.iterations
                $0.answerMemoryKib = parameters.memoryKiB
            }
            try txn.insert(Self.factors, CompositeKey(user, factorID), record)
            return record
        }
        logger.notice("security question added", metadata: ["user": "\(user)", "factor": "\(factorID)"])
        return .init { $0.factor = publicFactor(record) }
    }

    /// For SolveChallenge with a security question: the answer's hash under the factor's salt
    /// and parameters, computed before the write transaction (Argon2id takes long, and the store
    /// runs one write at a time). Nil when the request is not for a security question, or when
    /// the attempt will be refused anyway (no such challenge, no attempts left, a lockout): then
    /// no hash is computed.
    func answerHash(for request: Bastion_Auth_V1_SolveChallengeRequest, user: String) async throws -> [UInt8]? {
        let configuration = self.configuration
        let factor = try store.withReadTransaction { txn -> Bastion_Auth_V1_FactorRecord? in
            guard let challenge = try txn.get(Self.challenges, request.challengeId), challenge.userId == user,
                challenge.attempts < challenge.maxAttempts,
                let factor = try txn.get(Self.factors, CompositeKey(user, request.factorId)),
                factor.kind == .securityQuestion, factor.confirmed
            else { return nil }
            for (failureKey, limit) in [
                (Self.accountFailureKey(user: user), configuration.maxFailuresPerAccount),
                (Self.factorFailureKey(user: user, factor: request.factorId), configuration.maxFailuresPerFactor),
            ] {
                if let count = try txn.get(Self.failures, failureKey), count.count >= limit { return nil }
            }
            return factor
        }
        guard let factor, request.code.count <= SecurityQuestions.maxAnswerCharacters * 4 else { return nil }
        return try await SecurityQuestions.hash(
            answer: request.code,
            salt: factor.answerSalt,
            parameters: .init(iterations: factor.answerIterations, memoryKiB: factor.answerMemoryKib),
            key: key
        )
    }

    static func questionAssociatedData(user: String, factor: String) -> [UInt8] {
        Array("bastion-security-question-v1".utf8) + [0] + Array(user.utf8) + [0] + Array(factor.utf8)
    }

    /// A factor as its owner sees it: ``publicFactor(_:)-swift.type.method`` plus the question.
    func publicFactor(_ record: Bastion_Auth_V1_FactorRecord) -> Bastion_Auth_V1_Factor {
        var factor = Self.publicFactor(record)
        if record.kind == .securityQuestion,
            let question = key.unseal(
                record.sealedQuestion,
                associatedData: Self.questionAssociatedData(user: record.userId, factor: record.factorId)
            )
        {
            factor.question = String(decoding: question, as: UTF8.self)
        }
        return factor
    }
}
