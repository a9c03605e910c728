import CSodium
public import BastionRPC

/// Sealing to a client's init key, the format `bastion.rpc.v1.SealedEnvelope` version 1 names:
/// libsodium's `crypto_box_seal` (X25519 with a one-time key, XSalsa20-Poly1305), split into the
/// ephemeral public key and the rest. docs/QUEUE.md spells the format out for other languages.
public enum SealedBox {
    public static let publicKeyBytes = 32
    public static let tagBytes = 16

    /// The error of a seal or open that failed; `message` says why.
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The recipient key id envelopes carry: SHA-256 of the X25519 public key.
    public static func keyID(of publicKey: [UInt8]) -> [UInt8] {
        initialize()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = crypto_hash_sha256(&digest, publicKey, UInt64(publicKey.count))
        return digest
    }

    /// Seals `plaintext` to `recipientPublicKey` (an X25519 public key, 32 bytes).
    public static func seal(_ plaintext: [UInt8], to recipientPublicKey: [UInt8]) throws(Failure) -> RPCSealedEnvelope {
        initialize()
        guard recipientPublicKey.count == publicKeyBytes else {
            throw Failure(message: "the recipient key must have \(publicKeyBytes) bytes, not \(recipientPublicKey.count)")
        }
        var sealed = [UInt8](repeating: 0, count: plaintext.count + publicKeyBytes + tagBytes)
        guard crypto_box_seal(&sealed, plaintext, UInt64(plaintext.count), recipientPublicKey) == 0 else {
            throw Failure(message: "libsodium refused to seal (is the recipient key a valid X25519 key?)")
        }
        var envelope = RPCSealedEnvelope()
        envelope.version = 1
        envelope.recipientKeyId = keyID(of: recipientPublicKey)
        envelope.ephemeralPublicKey = Array(sealed[..<publicKeyBytes])
        envelope.ciphertext = Array(sealed[publicKeyBytes...])
        return envelope
    }

    /// Opens an envelope sealed to the key pair (`privateKey`, `publicKey`).
    public static func open(_ envelope: RPCSealedEnvelope, privateKey: [UInt8], publicKey: [UInt8]) throws(Failure) -> [UInt8] {
        initialize()
        guard envelope.version == 1 else { throw Failure(message: "envelope version \(envelope.version) is unknown") }
        guard privateKey.count == 32, publicKey.count == publicKeyBytes else {
            throw Failure(message: "the key pair must have 32-byte keys")
        }
        guard envelope.ephemeralPublicKey.count == publicKeyBytes, envelope.ciphertext.count >= tagBytes else {
            throw Failure(message: "the envelope is not version 1's shape")
        }
        if !envelope.recipientKeyId.isEmpty, envelope.recipientKeyId != keyID(of: publicKey) {
            throw Failure(message: "the envelope is sealed to another key")
        }
        let sealed = envelope.ephemeralPublicKey + envelope.ciphertext
        var plaintext = [UInt8](repeating: 0, count: envelope.ciphertext.count - tagBytes)
        guard crypto_box_seal_open(&plaintext, sealed, UInt64(sealed.count), publicKey, privateKey) == 0 else {
            throw Failure(message: "the envelope does not open with this key (altered, or sealed to another key)")
        }
        return plaintext
    }

    /// The X25519 public key of a private key.
    public static func publicKey(ofPrivateKey privateKey: [UInt8]) throws(Failure) -> [UInt8] {
        initialize()
        guard privateKey.count == 32 else { throw Failure(message: "an X25519 private key has 32 bytes") }
        var publicKey = [UInt8](repeating: 0, count: publicKeyBytes)
        guard crypto_scalarmult_base(&publicKey, privateKey) == 0 else {
            throw Failure(message: "not a usable X25519 private key")
        }
        return publicKey
    }

    static func initialize() {
        // Idempotent and thread-safe; needed once before libsodium picks its implementations.
        _ = sodium_init()
    }
}

extension SealedBox {
    /// `count` bytes from libsodium's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        initialize()
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }
}
