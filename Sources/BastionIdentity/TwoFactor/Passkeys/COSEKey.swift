import COpenSSL

/// A credential public key in COSE_Key form (RFC 9052 §7, RFC 9053): the two kinds this server
/// takes, ES256 (ECDSA on P-256 with SHA-256; WebAuthn sends its signatures DER-encoded) and
/// EdDSA (Ed25519). Verification runs through OpenSSL.
public struct COSEKey: Sendable, Hashable {
    public enum Algorithm: Int64, Sendable, Hashable, CaseIterable {
        case es256 = -7
        case edDSA = -8
    }

    public let algorithm: Algorithm
    /// ES256: the uncompressed point (0x04 ‖ x ‖ y); EdDSA: the 32-byte public key.
    public let publicKey: [UInt8]

    /// Parses a COSE_Key map. Only the labels the kind defines are read; a key that names another
    /// algorithm, curve or key type is refused as unsupported.
    public init(_ item: CBOR) throws(WebAuthnError) {
        guard item.mapEntries != nil else { throw WebAuthnError(.malformed, "a COSE_Key is a CBOR map") }
        guard let kty = item[1]?.integer else { throw WebAuthnError(.malformed, "the COSE_Key has no key type (1)") }
        guard let alg = item[3]?.integer else { throw WebAuthnError(.malformed, "the COSE_Key has no algorithm (3)") }
        guard let algorithm = Algorithm(rawValue: alg) else {
            throw WebAuthnError(.unsupported, "COSE algorithm \(alg) is not taken; ES256 (-7) or EdDSA (-8)")
        }
        switch algorithm {
        case .es256:
            guard kty == 2, item[-1]?.integer == 1 else {
                throw WebAuthnError(.unsupported, "ES256 needs an EC2 key (kty 2) on P-256 (crv 1)")
            }
            guard let x = item[-2]?.byteString, let y = item[-3]?.byteString, x.count == 32, y.count == 32 else {
                throw WebAuthnError(.malformed, "an ES256 key needs x (-2) and y (-3) of 32 bytes each")
            }
            self.publicKey = [0x04] + x + y
        case .edDSA:
            guard kty == 1, item[-1]?.integer == 6 else {
                throw WebAuthnError(.unsupported, "EdDSA needs an OKP key (kty 1) on Ed25519 (crv 6)")
            }
            guard let x = item[-2]?.byteString, x.count == 32 else {
                throw WebAuthnError(.malformed, "an Ed25519 key needs x (-2) of 32 bytes")
            }
            self.publicKey = x
        }
        self.algorithm = algorithm
        // A point off the curve fails here, not at the first assertion.
        _ = try PublicKeyHandle(self)
    }

    /// Parses the CBOR encoding of a COSE_Key (as stored).
    public init(encoded: [UInt8]) throws(WebAuthnError) {
        try self.init(CBOR.decode(encoded))
    }

    /// Whether `signature` is this key's signature over `message`.
    public func verify(signature: [UInt8], over message: [UInt8]) -> Bool {
        guard let handle = try? PublicKeyHandle(self), let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let digest = algorithm == .es256 ? EVP_sha256() : nil
        guard EVP_DigestVerifyInit(context, nil, digest, nil, handle.key) == 1 else { return false }
        let verified = signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
            }
        }
        ERR_clear_error()
        return verified == 1
    }
}

/// An OpenSSL key for a ``COSEKey``, freed with it.
private final class PublicKeyHandle {
    /// SubjectPublicKeyInfo for id-ecPublicKey on prime256v1, up to the BIT STRING's contents.
    private static let p256Prefix: [UInt8] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48,
        0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ]

    let key: OpaquePointer

    init(_ cose: COSEKey) throws(WebAuthnError) {
        let made: OpaquePointer?
        switch cose.algorithm {
        case .es256:
            let der = Self.p256Prefix + cose.publicKey
            made = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
                return d2i_PUBKEY(nil, &cursor, buffer.count)
            }
        case .edDSA:
            made = cose.publicKey.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            }
        }
        guard let made else {
            ERR_clear_error()
            throw WebAuthnError(.malformed, "the credential public key is not a valid \(cose.algorithm) key")
        }
        self.key = made
    }

    deinit { EVP_PKEY_free(key) }
}
