import BastionPolicy

/// What a call without a second-factor token gets back in `ErrorDetails.second_factor_challenge`:
/// the operation the token must be bound to and the factors the caller's user can prove. One
/// line of space-separated fields:
///
///     v1 method=/bastion.auth.v1.Auth/DeleteAccount request-sha256=<64 hex> factors=totp-1a2b3c4d5e6f:totp,recovery-codes:recovery-codes
///
/// `factors=` is empty when the user has no second factor; the call then passes with the token
/// `none` (``TwoFactorService/noFactorToken``). Otherwise the client calls InitiateTwoFactor with
/// the method and digest, SolveChallenge with a code of one of the factors, and repeats the call
/// with the token in `bastion-second-factor`. Unknown fields are ignored, so fields can be added.
public struct SecondFactorChallenge: Sendable, Hashable, CustomStringConvertible {
    public struct Factor: Sendable, Hashable {
        public var id: String
        /// `totp` or `recovery-codes`.
        public var kind: String

        public init(id: String, kind: String) {
            self.id = id
            self.kind = kind
        }
    }

    public var method: String
    public var requestSHA256: [UInt8]
    public var factors: [Factor]
    /// The started challenge (its id and factors, with security questions), once
    /// ``TwoFactorClient`` has called InitiateTwoFactor: a prover sends channel codes with it.
    public var initiated: Bastion_Auth_V1_InitiateTwoFactorResponse?

    public init(method: String, requestSHA256: [UInt8], factors: [Factor]) {
        self.method = method
        self.requestSHA256 = requestSHA256
        self.factors = factors
    }

    public var description: String {
        let factors = factors.map { "\($0.id):\($0.kind)" }.joined(separator: ",")
        return "v1 method=\(method) request-sha256=\(requestSHA256.hexString) factors=\(factors)"
    }

    /// Parses the detail; nil when it is not a version 1 challenge.
    public init?(_ text: String) {
        let fields = text.split(separator: " ")
        guard fields.first == "v1" else { return nil }
        var method: String?
        var digest: [UInt8]?
        var factors: [Factor]?
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { continue }
            let value = field[field.index(after: equals)...]
            switch field[..<equals] {
            case "method": method = String(value)
            case "request-sha256": digest = [UInt8](hex: value)
            case "factors":
                factors = value.split(separator: ",").compactMap { entry in
                    let parts = entry.split(separator: ":", maxSplits: 1)
                    return parts.count == 2 ? Factor(id: String(parts[0]), kind: String(parts[1])) : nil
                }
            default: continue
            }
        }
        guard let method, let digest, digest.count == 32, let factors else { return nil }
        self.init(method: method, requestSHA256: digest, factors: factors)
    }

    /// The factor a typed code most likely belongs to: the recovery codes when it has their
    /// shape, else the first TOTP authenticator.
    public func factor(forCode code: String) -> Factor? {
        if RecoveryCodes.normalize(code) != nil, let recovery = factors.first(where: { $0.kind == "recovery-codes" }) {
            return recovery
        }
        return factors.first { $0.kind == "totp" }
    }
}

extension Array where Element == UInt8 {
    /// Decodes lower- or upper-case hex; nil for an odd length or another character.
    init?(hex text: some StringProtocol) {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}
