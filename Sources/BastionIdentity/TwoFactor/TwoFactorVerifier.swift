public import BastionPolicy
public import BastionRPC
public import BastionStore

/// Redeems the one-use tokens that ``TwoFactorService``'s SolveChallenge hands out, for the
/// policy engine's second-factor step: a token serves once, for the method and request digest
/// its challenge named, and for the user who solved it.
///
/// A user with no usable factor (no confirmed authenticator, no recovery code left) sends the
/// token `none`; it is accepted only while that is still so, checked at redemption.
public struct TwoFactorVerifier: PolicyEngine.SecondFactorVerifier {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func challenge(for operation: PolicyEngine.BoundOperation, principal: RPCPrincipal?, context: ServerContext)
        async throws(RPCError) -> String
    {
        try challengeText(for: operation, user: principal?.userID)
    }

    public func redeem(
        token: String,
        for operation: PolicyEngine.BoundOperation,
        principal: RPCPrincipal?,
        context: ServerContext
    ) async throws(RPCError) {
        guard let user = principal?.userID, !user.isEmpty else {
            throw RPCError(
                code: .permissionDenied,
                message: "a second factor needs a caller with a user id",
                policy: "authentication"
            )
        }
        if token == TwoFactorService.noFactorToken {
            let challenge = try challengeText(for: operation, user: user)
            guard SecondFactorChallenge(challenge)?.factors.isEmpty == true else {
                throw RPCError(
                    code: .failedPrecondition,
                    message: "\(user) has a second factor: solve a challenge for this request and send its token",
                    secondFactorChallenge: challenge,
                    policy: "authentication"
                )
            }
            return
        }
        enum Outcome { case redeemed, unknown, otherUser, otherOperation }
        let key = SHA256.hash(Array(token.utf8)).hexString
        let outcome: Outcome
        do {
            outcome = try await store.withWriteTransaction { txn -> Outcome in
                guard let record = try txn.get(TwoFactorService.tokens, key) else { return .unknown }
                guard record.userId == user else { return .otherUser }
                // A token for another operation stays good for its own.
                guard record.method == operation.method,
                    constantTimeEquals(record.requestSha256, operation.requestSHA256)
                else {
                    return .otherOperation
                }
                try txn.delete(TwoFactorService.tokens, key)
                return .redeemed
            }
        } catch {
            throw RPCError(code: .unavailable, message: "the store cannot be written", cause: error)
        }
        switch outcome {
        case .redeemed:
            return
        case .unknown:
            throw RPCError(
                code: .permissionDenied,
                message: "the second-factor token is unknown, used or expired",
                policy: "authentication"
            )
        case .otherUser:
            throw RPCError(
                code: .permissionDenied,
                message: "the second-factor token belongs to another user",
                policy: "authentication"
            )
        case .otherOperation:
            throw RPCError(
                code: .permissionDenied,
                message: "the second-factor token is bound to another request",
                policy: "authentication"
            )
        }
    }

    private func challengeText(for operation: PolicyEngine.BoundOperation, user: String?) throws(RPCError) -> String {
        var factors: [SecondFactorChallenge.Factor] = []
        if let user, !user.isEmpty {
            do {
                factors = try store.withReadTransaction { txn in try TwoFactorService.usableFactors(of: user, in: txn) }
                    .map {
                        SecondFactorChallenge.Factor(
                            id: $0.factorId,
                            kind: SecondFactorChallenge.kindName($0.kind)
                        )
                    }
            } catch {
                throw RPCError(code: .unavailable, message: "the store cannot be read", cause: error)
            }
        }
        return SecondFactorChallenge(method: operation.method, requestSHA256: operation.requestSHA256, factors: factors)
            .description
    }
}
