import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The server's key for second factors: it seals TOTP secrets (AES-256-GCM, the user and factor
/// as associated data) and keys the hashes of recovery codes (HMAC-SHA256). Each use has its own
/// subkey, derived with HMAC-SHA256 under a label.
///
/// `bastiond` keeps it in `<data-dir>/factor.key` (32 random bytes, mode 0600), outside the
/// store, so that a copy of the store or of a backup alone reveals no TOTP secret and allows no
/// offline guessing of recovery codes. Losing the file makes every enrolled factor useless.
public struct FactorKey: Sendable {
    let sealingKey: [UInt8]
    let recoveryCodeKey: [UInt8]
    /// The root of the keys of the later factors (``subkey(_:)``).
    let subkeyRoot: [UInt8]

    /// A key from 32 bytes of secret randomness.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else {
            throw IdentityError(.invalidInput, "a factor key has 32 bytes, not \(bytes.count)")
        }
        self.sealingKey = HMAC.sha256(key: bytes, message: Array("bastion-totp-secret-v1".utf8))
        self.recoveryCodeKey = HMAC.sha256(key: bytes, message: Array("bastion-recovery-code-v1".utf8))
        self.subkeyRoot = HMAC.sha256(key: bytes, message: Array("bastion-factor-subkeys-v1".utf8))
    }

    /// A fresh random key (tests, and the first start).
    public static func random() throws -> FactorKey {
        try FactorKey(bytes: try Random.bytes(32))
    }

    /// Reads the key file at `path`, or makes it (mode 0600, never replacing a file that
    /// appeared meanwhile) when there is none.
    public static func loadOrCreate(path: String) throws -> FactorKey {
        if let data = FileManager.default.contents(atPath: path) {
            return try FactorKey(bytes: Array(data))
        }
        let bytes = try Random.bytes(32)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST, let data = FileManager.default.contents(atPath: path) {
                return try FactorKey(bytes: Array(data))
            }
            throw IdentityError(.internal, "cannot create the factor key \(path) (errno \(errno))")
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw IdentityError(.internal, "cannot write the factor key \(path) (errno \(errno))")
        }
        return try FactorKey(bytes: bytes)
    }

    // MARK: Sealing

    static let nonceLength = 12
    static let tagLength = 16

    /// nonce ‖ ciphertext ‖ tag.
    func seal(_ plaintext: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        let nonce = try Random.bytes(Self.nonceLength)
        guard let context = EVP_CIPHER_CTX_new() else { throw IdentityError(.internal, "EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        var length: Int32 = 0
        var total: Int32 = 0
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, sealingKey, nonce) == 1,
            EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1,
            EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1
        else { throw IdentityError(.internal, "AES-256-GCM encryption failed") }
        total = length
        let finished = ciphertext.withUnsafeMutableBufferPointer { buffer in
            EVP_EncryptFinal_ex(context, buffer.baseAddress! + Int(total), &length)
        }
        guard finished == 1, EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagLength), &tag) == 1
        else {
            throw IdentityError(.internal, "AES-256-GCM encryption failed")
        }
        total += length
        return nonce + ciphertext.prefix(Int(total)) + tag
    }

    /// The plaintext, or nil when the box was not sealed with this key and associated data.
    func unseal(_ sealed: [UInt8], associatedData: [UInt8]) -> [UInt8]? {
        guard sealed.count >= Self.nonceLength + Self.tagLength, let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        let nonce = Array(sealed.prefix(Self.nonceLength))
        var tag = Array(sealed.suffix(Self.tagLength))
        let ciphertext = Array(sealed.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, sealingKey, nonce) == 1,
            EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1,
            EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagLength), &tag) == 1
        else { return nil }
        let total = length
        let finished = plaintext.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress! + Int(total), &length)
        }
        guard finished == 1 else { return nil }
        return Array(plaintext.prefix(Int(total + length)))
    }

    /// The stored form of a recovery code: HMAC-SHA256 under the recovery-code key, over the
    /// user id and the normalized code.
    func recoveryCodeHash(user: String, normalizedCode: String) -> [UInt8] {
        HMAC.sha256(key: recoveryCodeKey, message: Array(user.utf8) + [0] + Array(normalizedCode.utf8))
    }

    /// A key for one purpose, named by `label` (channel codes, security answers, access codes).
    func subkey(_ label: String) -> [UInt8] {
        HMAC.sha256(key: subkeyRoot, message: Array(label.utf8))
    }
}
