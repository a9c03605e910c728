extension SecondFactorChallenge {
    /// The name a factor kind has in the challenge detail: `totp`, `recovery-codes`, `channel`,
    /// `question`.
    static func kindName(_ kind: Bastion_Auth_V1_FactorKind) -> String {
        switch kind {
        case .totp: "totp"
        case .recoveryCodes: "recovery-codes"
        case .codeChannel: "channel"
        case .securityQuestion: "question"
        case .passkey: "passkey"
        default: "other"
        }
    }
}
