import BastionPolicy
import COpenSSL

/// Random bytes from OpenSSL's CSPRNG.
enum Random {
    static func bytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw IdentityError(.internal, "the random number generator failed") }
        return bytes
    }
}

enum HMAC {
    static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                _ = COpenSSL.HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress, message.count, &output, &length)
            }
        }
        precondition(length == 32, "HMAC-SHA256 failed")
        return output
    }
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    return lhs.withUnsafeBytes { left in
        rhs.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
    }
}

extension Array where Element == UInt8 {
    /// base64url without padding (RFC 7515 §2).
    var base64URL: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var text: [UInt8] = []
        text.reserveCapacity((count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= count {
            let value = UInt32(self[index]) << 16 | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2])
            for shift in [18, 12, 6, 0] { text.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
            index += 3
        }
        let rest = count - index
        if rest > 0 {
            var value = UInt32(self[index]) << 16
            if rest == 2 { value |= UInt32(self[index + 1]) << 8 }
            text.append(alphabet[Int(value >> 18 & 63)])
            text.append(alphabet[Int(value >> 12 & 63)])
            if rest == 2 { text.append(alphabet[Int(value >> 6 & 63)]) }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes base64url without padding; nil for any other character, padding or a bad length.
    init?(base64URL text: some StringProtocol) {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        for character in text.utf8 {
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(character - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(character - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index + 4 <= values.count {
            let value = UInt32(values[index]) << 18 | UInt32(values[index + 1]) << 12 | UInt32(values[index + 2]) << 6 | UInt32(values[index + 3])
            bytes += [UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            index += 4
        }
        let rest = values.count - index
        if rest >= 2 {
            let value = UInt32(values[index]) << 18 | UInt32(values[index + 1]) << 12 | (rest == 3 ? UInt32(values[index + 2]) << 6 : 0)
            // Unused low bits must be zero, so that each byte string has one encoding.
            guard rest == 3 ? value & 0xFF == 0 : value & 0xFFFF == 0 else { return nil }
            bytes.append(UInt8(value >> 16 & 0xFF))
            if rest == 3 { bytes.append(UInt8(value >> 8 & 0xFF)) }
        }
        self = bytes
    }
}
