import CSodium
import Foundation
import NIOPosix

/// Security questions: the answer is normalised, keyed with HMAC-SHA256 under a subkey of the
/// factor key (so a copy of the store alone allows no offline guessing), then hashed with
/// Argon2id (libsodium `crypto_pwhash`, version 0x13, one lane) and a random 16-byte salt per
/// factor; the 32-byte output is stored and compared in constant time.
public enum SecurityQuestions {
    /// Argon2id's cost: passes over memory and memory in KiB. The default, t = 3 and
    /// m = 64 MiB, takes a few hundred milliseconds on one core of a server and bounds an
    /// attacker with the store and the factor key to a few guesses per second per core.
    public struct Parameters: Sendable, Hashable {
        public var iterations: UInt32
        public var memoryKiB: UInt32

        public init(iterations: UInt32 = 3, memoryKiB: UInt32 = 64 * 1024) {
            self.iterations = iterations
            self.memoryKiB = memoryKiB
        }
    }

    static let saltLength = 16
    static let hashLength = 32
    static let keyLabel = "bastion-security-answer-v1"
    static let maxQuestionCharacters = 256
    static let maxAnswerCharacters = 256

    /// The answer as compared: compatibility-normalised (NFKC), case-folded, white space at both
    /// ends removed and every inner run of white space made one space. "  Rex  the DOG " and
    /// "rex the dog" are the same answer.
    public static func normalize(_ answer: String) -> String {
        let folded = answer.precomposedStringWithCompatibilityMapping.folding(
            options: [.caseInsensitive],
            locale: nil
        )
        // White space is judged per Unicode scalar, not per Character: a combining mark after a
        // newline is a Character of its own, and splitting Characters then joining with a space
        // glued it to that space, leaving an answer that ends in (a Character led by) white space.
        var scalars = String.UnicodeScalarView()
        var spaceDue = false
        for scalar in folded.unicodeScalars {
            if scalar.properties.isWhitespace {
                spaceDue = !scalars.isEmpty
                continue
            }
            if spaceDue {
                scalars.append(" ")
                spaceDue = false
            }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// Argon2id of `password` with `salt` (16 bytes), 32 bytes out. Blocking: call it off the
    /// event loop (``hash(answer:salt:parameters:key:)`` does).
    static func argon2id(password: [UInt8], salt: [UInt8], parameters: Parameters) throws -> [UInt8] {
        guard salt.count == Int(crypto_pwhash_argon2id_SALTBYTES) else {
            throw IdentityError(.invalidInput, "an Argon2id salt has \(crypto_pwhash_argon2id_SALTBYTES) bytes")
        }
        guard sodium_init() >= 0 else { throw IdentityError(.internal, "libsodium cannot be initialised") }
        var output = [UInt8](repeating: 0, count: hashLength)
        let status = password.withUnsafeBytes { passwordBytes in
            crypto_pwhash(
                &output,
                UInt64(hashLength),
                passwordBytes.baseAddress!.assumingMemoryBound(to: CChar.self),
                UInt64(password.count),
                salt,
                UInt64(parameters.iterations),
                Int(parameters.memoryKiB) * 1024,
                crypto_pwhash_argon2id_ALG_ARGON2ID13
            )
        }
        guard status == 0 else {
            throw IdentityError(
                .internal,
                "Argon2id failed (t=\(parameters.iterations), m=\(parameters.memoryKiB) KiB): out of memory?"
            )
        }
        return output
    }

    /// The stored hash of an answer, computed on a thread pool.
    static func hash(answer: String, salt: [UInt8], parameters: Parameters, key: FactorKey) async throws -> [UInt8] {
        let keyed = HMAC.sha256(key: key.subkey(keyLabel), message: Array(normalize(answer).utf8))
        return try await NIOThreadPool.singleton.runIfActive {
            try argon2id(password: keyed, salt: salt, parameters: parameters)
        }
    }
}
