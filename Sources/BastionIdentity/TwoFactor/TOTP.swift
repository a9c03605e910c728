import COpenSSL

/// Time-based one-time passwords (RFC 6238): HOTP (RFC 4226) over the number of `period`-second
/// steps since the Unix epoch, with HMAC-SHA-1, -SHA-256 or -SHA-512 and 6 to 8 digits.
public struct TOTP: Sendable, Hashable {
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"

        /// The secret length RFC 6238's reference uses for each: the hash's block-size-friendly
        /// output length (RFC 4226 §4 asks for at least 128 bits, recommends 160).
        public var secretLength: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            case .sha512: 64
            }
        }
    }

    public var secret: [UInt8]
    public var algorithm: Algorithm
    public var digits: Int
    public var period: Int64

    public init(secret: [UInt8], algorithm: Algorithm = .sha1, digits: Int = 6, period: Int64 = 30) {
        precondition((6...8).contains(digits), "TOTP codes have 6 to 8 digits")
        precondition(period > 0, "a TOTP period is positive")
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }

    /// The time step that contains `unixSeconds` (T in RFC 6238 §4.2).
    public func step(at unixSeconds: Int64) -> Int64 {
        // Floor division, so that times before 1970 land in negative steps as the RFC's T does.
        unixSeconds >= 0 ? unixSeconds / period : -((-unixSeconds + period - 1) / period)
    }

    /// The code of one time step, zero-padded to `digits`.
    public func code(forStep step: Int64) -> String {
        var counter = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 {
            counter[index] = UInt8(truncatingIfNeeded: UInt64(bitPattern: step) >> UInt64(56 - 8 * index))
        }
        let mac = Self.hmac(algorithm, key: secret, message: counter)
        // Dynamic truncation (RFC 4226 §5.3).
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at unixSeconds: Int64) -> String {
        code(forStep: step(at: unixSeconds))
    }

    /// The step within `window` steps of `unixSeconds` whose code is `code`, or nil. Every
    /// candidate is compared in constant time, and all of them are computed, so the time taken
    /// does not say which one matched.
    public func matchingStep(of code: String, at unixSeconds: Int64, window: Int64 = 1) -> Int64? {
        let given = Array(code.utf8)
        let current = step(at: unixSeconds)
        var match: Int64?
        for candidate in (current - window)...(current + window) {
            if constantTimeEquals(Array(self.code(forStep: candidate).utf8), given), match == nil { match = candidate }
        }
        return match
    }

    /// `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=…&digits=…&period=…`, the
    /// key URI format authenticator apps read (from QR codes, usually).
    public func uri(issuer: String, account: String) -> String {
        let label = Self.percentEncoded(issuer) + ":" + Self.percentEncoded(account)
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(Self.percentEncoded(issuer))"
            + "&algorithm=\(algorithm.rawValue)&digits=\(digits)&period=\(period)"
    }

    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                encoded += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
            }
        }
        return encoded
    }

    static func hmac(_ algorithm: Algorithm, key: [UInt8], message: [UInt8]) -> [UInt8] {
        let digest: OpaquePointer? =
            switch algorithm {
            case .sha1: EVP_sha1()
            case .sha256: EVP_sha256()
            case .sha512: EVP_sha512()
            }
        var output = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                _ = COpenSSL.HMAC(
                    digest,
                    key.baseAddress,
                    Int32(key.count),
                    message.baseAddress,
                    message.count,
                    &output,
                    &length
                )
            }
        }
        precondition(length > 0, "HMAC failed")
        return Array(output.prefix(Int(length)))
    }
}

/// Base32 (RFC 4648 §6) without padding, as TOTP secrets and recovery codes are written.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                text.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { text.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes base32 in either case, ignoring `=` padding; nil for any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return bytes
    }
}
