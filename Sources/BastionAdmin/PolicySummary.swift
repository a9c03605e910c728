public import BastionRPC

/// Renders a method's policy as one line for operators' tables: who may call, what the operator
/// switch and caps are, rate limits, proof of work and audit. The full policy is in
/// `MethodStatus.policy`, and docs/threat-model.md has it with its statements and remarks.
public enum PolicySummary {
    public static func render(_ policy: Bastion_Policy_V1_MethodPolicy) -> String {
        var parts: [String] = []
        if let authentication = policy.authentication {
            var caller = authentication.notARisk ? "anyone" : callerName(authentication.caller)
            if authentication.secondFactor { caller += " + second factor" }
            parts.append(caller)
        }
        if let field = policy.authorization?.ownedResourceField, !field.isEmpty {
            parts.append("owns \(field)")
        }
        if let availability = policy.availability {
            parts.append(availability.operatorCanDisable ? "switchable" : "always on")
            if availability.maxInFlight > 0 { parts.append("≤\(availability.maxInFlight) in flight") }
            if availability.maxDeadlineMillis > 0 {
                parts.append("deadline ≤\(seconds(availability.maxDeadlineMillis))")
            }
        }
        for limit in policy.spamPrevention?.rateLimits ?? [] {
            parts.append("\(limit.limit)/\(limit.periodSeconds)s per \(keyName(limit))")
        }
        if let proofOfWork = policy.spamPrevention?.proofOfWork {
            parts.append("proof of work (default \(proofOfWork.defaultDifficulty) bits)")
        }
        if policy.nonRepudiation?.auditLog == true { parts.append("audited") }
        return parts.joined(separator: ", ")
    }

    static func callerName(_ caller: Bastion_Policy_V1_Authentication.Caller) -> String {
        switch caller {
        case .anonymous: "anyone"
        case .localClient: "client certificate"
        case .pendingRegistration: "pending registration"
        case .loggedInUser: "logged-in user"
        case .operator: "operator"
        case .unspecified: "unspecified caller"
        case .unrecognized(let number): "caller \(number)"
        }
    }

    static func keyName(_ limit: Bastion_Policy_V1_RateLimit) -> String {
        switch limit.key {
        case .peerAddress: "address"
        case .principal: "principal"
        case .requestField: limit.field
        case .unspecified, .unrecognized: "?"
        }
    }

    private static func seconds(_ milliseconds: UInt32) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
