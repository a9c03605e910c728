/// Access codes (design document 001): numeric codes that a user with the `support` role issues
/// for someone who will be told them over the phone, exchanged once for a token scoped to what
/// the code was issued for.
///
/// Digits come from OpenSSL's CSPRNG by rejection sampling (no modulo bias). 8 digits (26.6
/// bits) by default; 6 to 10 allowed. The store keeps HMAC-SHA256 of each code under a subkey
/// of the factor key (a short code's plain SHA-256 could be inverted by trying all of them) and
/// the SHA-256 of each token.
public enum AccessCodes {
    public struct Configuration: Sendable {
        /// Users who may issue codes besides those whose stored role is ``supportRole``
        /// (`bastiond --support-user`).
        public var supportUsers: Set<String> = []
        public var defaultDigits = 8
        public var defaultLifetime: Duration = .seconds(900)
        /// How long a redeemed code's token is good.
        public var tokenLifetime: Duration = .seconds(3600)
        /// Wrong codes, from anyone, within `failureWindow` before every redemption is refused
        /// until the window ends: bounds guessing from many addresses at once.
        public var maxFailures: UInt32 = 1000
        public var failureWindow: Duration = .seconds(900)

        public init() {}
    }

    /// The role that may issue codes.
    public static let supportRole = "support"
    static let keyLabel = "bastion-access-code-v1"
    static let failureKey = "access-codes"

    /// `digits` uniformly random decimal digits.
    static func make(digits: Int) throws -> String {
        var code = ""
        while code.count < digits {
            for byte in try Random.bytes(digits * 2) where byte < 250 && code.count < digits {
                code.append(Character(String(byte % 10)))
            }
        }
        return code
    }

    /// The digits of a typed code (spaces and dashes removed); nil when it is not 6 to 10 digits.
    static func normalize(_ typed: String) -> String? {
        guard typed.utf8.count <= 64 else { return nil }
        let digits = typed.filter { !$0.isWhitespace && $0 != "-" }
        guard (6...10).contains(digits.count),
            digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return digits
    }

    static func isValidScope(_ scope: String) -> Bool {
        (1...64).contains(scope.utf8.count)
            && scope.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-")].contains(byte)
            }
    }
}
