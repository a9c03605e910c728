/// Recovery codes: 80 random bits each, written as 16 base32 characters in groups of four
/// (`ABCD-EFGH-IJKL-MNOP`). Case, dashes and spaces do not matter when one is typed back.
public enum RecoveryCodes {
    /// The factor id of a user's recovery codes.
    public static let factorID = "recovery-codes"
    static let randomBytes = 10

    static func make() throws -> String {
        let text = Array(Base32.encode(try Random.bytes(randomBytes)))
        return stride(from: 0, to: text.count, by: 4).map { String(text[$0..<min($0 + 4, text.count)]) }.joined(
            separator: "-"
        )
    }

    /// The code as stored (upper case, no separators), or nil when it cannot be a recovery code.
    public static func normalize(_ code: String) -> String? {
        let compact = code.uppercased().filter { $0 != "-" && $0 != " " }
        guard compact.utf8.count == 16, compact.utf8.allSatisfy({ Base32.alphabet.contains($0) }) else { return nil }
        return compact
    }
}
