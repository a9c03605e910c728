import BastionPolicy
import BastionProtobuf
public import BastionRPC

/// The client side of second factors over the generated `TwoFactor` stub: enrollment (with a
/// session) and solving the challenges that methods with `second_factor: true` ask for (with the
/// user's client certificate on the transport).
public struct TwoFactorClient: Sendable {
    /// A factor's id and a code from it, for a challenge; typically asks the user.
    public typealias Prover = @Sendable (SecondFactorChallenge) async throws -> (factorID: String, code: String)

    public let stub: Bastion_Auth_V1_TwoFactorClient

    public init(transport: any ClientTransport) {
        self.stub = Bastion_Auth_V1_TwoFactorClient(transport: transport)
    }

    /// Calls `call` as is; when the server asks for a second factor, calls again with the token
    /// `none` (the user has no factor) or with the token of a challenge solved with the code
    /// `prove` returns. Without a prover, the server's refusal is thrown.
    public func withSecondFactor<Response: Sendable>(
        metadata: Metadata = Metadata(),
        prove: Prover?,
        _ call: (Metadata) async throws -> Response
    ) async throws -> Response {
        let challenge: SecondFactorChallenge
        do {
            return try await call(metadata)
        } catch let error as RPCError where error.code == .failedPrecondition && error.secondFactorChallenge != nil {
            guard let parsed = SecondFactorChallenge(error.secondFactorChallenge ?? "") else { throw error }
            guard parsed.factors.isEmpty || prove != nil else { throw error }
            challenge = parsed
        }
        var withToken = metadata
        try withToken.add(PolicyEngine.secondFactorMetadataKey, try await token(for: challenge, prove: prove))
        return try await call(withToken)
    }

    /// The token for the operation `challenge` names: `none` when the user has no factor, else
    /// InitiateTwoFactor, the prover's code, SolveChallenge.
    public func token(for challenge: SecondFactorChallenge, prove: Prover?) async throws -> String {
        guard !challenge.factors.isEmpty else { return TwoFactorService.noFactorToken }
        guard let prove else {
            throw RPCError(
                code: .failedPrecondition,
                message: "\(challenge.method) needs a second factor and no code was given"
            )
        }
        let started = try await stub.initiateTwoFactor(
            .init {
                $0.method = challenge.method
                $0.requestSha256 = challenge.requestSHA256
            }
        ).message
        var challenge = challenge
        challenge.initiated = started
        let (factorID, code) = try await prove(challenge)
        return try await solve(challengeID: started.challengeId, factorID: factorID, code: code)
    }

    /// SolveChallenge: a one-use token for the challenge's operation.
    public func solve(challengeID: String, factorID: String, code: String) async throws -> String {
        try await stub.solveChallenge(
            .init {
                $0.challengeId = challengeID
                $0.factorId = factorID
                $0.code = code
            }
        ).message.token
    }

    // MARK: Enrollment (a logged-in session)

    /// Starts enrolling a TOTP authenticator; confirm with ``confirmTotp(_:factorID:code:)``.
    public func enrollTotp(
        _ session: IdentityClient.Session,
        label: String = "",
        algorithm: Bastion_Auth_V1_TotpAlgorithm = .sha1,
        digits: UInt32 = 6,
        prove: Prover? = nil
    ) async throws -> Bastion_Auth_V1_EnrollTotpResponse {
        let request = Bastion_Auth_V1_EnrollTotpRequest {
            $0.label = label
            $0.algorithm = algorithm
            $0.digits = digits
        }
        return try await withSecondFactor(metadata: session.metadata, prove: prove) { metadata in
            try await stub.enrollTotp(request, metadata: metadata).message
        }
    }

    public func confirmTotp(_ session: IdentityClient.Session, factorID: String, code: String) async throws
        -> Bastion_Auth_V1_Factor
    {
        let request = Bastion_Auth_V1_ConfirmTotpRequest {
            $0.factorId = factorID
            $0.code = code
        }
        return try await stub.confirmTotp(request, metadata: session.metadata).message.factor ?? .init()
    }

    public func listFactors(_ session: IdentityClient.Session) async throws -> [Bastion_Auth_V1_Factor] {
        try await stub.listFactors(.init(), metadata: session.metadata).message.factors
    }

    public func removeFactor(_ session: IdentityClient.Session, factorID: String, prove: Prover?) async throws {
        let request = Bastion_Auth_V1_RemoveFactorRequest { $0.factorId = factorID }
        _ = try await withSecondFactor(metadata: session.metadata, prove: prove) { metadata in
            try await stub.removeFactor(request, metadata: metadata).message
        }
    }

    /// Ten new recovery codes; the old ones stop working.
    public func generateRecoveryCodes(_ session: IdentityClient.Session, prove: Prover?) async throws -> [String] {
        try await withSecondFactor(metadata: session.metadata, prove: prove) { metadata in
            try await stub.generateRecoveryCodes(.init(), metadata: metadata).message.codes
        }
    }

    // MARK: Code channels, security questions, access codes

    /// Starts enrolling a channel address; the server sends a code there. Confirm with
    /// ``confirmChannel(_:factorID:code:)``.
    public func enrollChannel(
        _ session: IdentityClient.Session,
        channel: String,
        address: String,
        label: String = "",
        prove: Prover? = nil
    ) async throws -> Bastion_Auth_V1_EnrollChannelResponse {
        let request = Bastion_Auth_V1_EnrollChannelRequest {
            $0.channel = channel
            $0.address = address
            $0.label = label
        }
        return try await withSecondFactor(metadata: session.metadata, prove: prove) { metadata in
            try await stub.enrollChannel(request, metadata: metadata).message
        }
    }

    public func resendEnrollmentCode(_ session: IdentityClient.Session, factorID: String) async throws
        -> Bastion_Auth_V1_ResendEnrollmentCodeResponse
    {
        try await stub.resendEnrollmentCode(.init { $0.factorId = factorID }, metadata: session.metadata).message
    }

    public func confirmChannel(_ session: IdentityClient.Session, factorID: String, code: String) async throws
        -> Bastion_Auth_V1_Factor
    {
        let request = Bastion_Auth_V1_ConfirmChannelRequest {
            $0.factorId = factorID
            $0.code = code
        }
        return try await stub.confirmChannel(request, metadata: session.metadata).message.factor ?? .init()
    }

    /// Sends (or sends again) a challenge's code through a channel factor.
    public func sendChallengeCode(challengeID: String, factorID: String) async throws
        -> Bastion_Auth_V1_SendChallengeCodeResponse
    {
        try await stub.sendChallengeCode(
            .init {
                $0.challengeId = challengeID
                $0.factorId = factorID
            }
        ).message
    }

    public func addSecurityQuestion(
        _ session: IdentityClient.Session,
        question: String,
        answer: String,
        label: String = "",
        prove: Prover? = nil
    ) async throws -> Bastion_Auth_V1_Factor {
        let request = Bastion_Auth_V1_AddSecurityQuestionRequest {
            $0.question = question
            $0.answer = answer
            $0.label = label
        }
        return try await withSecondFactor(metadata: session.metadata, prove: prove) { metadata in
            try await stub.addSecurityQuestion(request, metadata: metadata).message.factor ?? .init()
        }
    }

    /// An access code for `scope` (users with the support role).
    public func issueAccessCode(
        _ session: IdentityClient.Session,
        scope: String,
        subject: String = "",
        digits: UInt32 = 0,
        lifetimeSeconds: UInt32 = 0
    ) async throws -> Bastion_Auth_V1_IssueAccessCodeResponse {
        let request = Bastion_Auth_V1_IssueAccessCodeRequest {
            $0.scope = scope
            $0.subject = subject
            $0.digits = digits
            $0.lifetimeSeconds = lifetimeSeconds
        }
        return try await stub.issueAccessCode(request, metadata: session.metadata).message
    }

    /// Exchanges an access code for its scoped token (no credentials needed).
    public func redeemAccessCode(_ code: String) async throws -> Bastion_Auth_V1_RedeemAccessCodeResponse {
        try await stub.redeemAccessCode(.init { $0.code = code }).message
    }
}
