/// OPAQUE-3DH (RFC 9807) in the configuration ristretto255-SHA512: OPRF ristretto255-SHA512,
/// HKDF-SHA-512, HMAC-SHA-512, SHA-512, 3DH over ristretto255, and a pluggable
/// ``KeyStretchingFunction`` (Argon2id in production).
///
/// ``Client`` and ``Server`` run registration and login; the messages are byte structs with exact
/// lengths (``RegistrationRequest``, ``RegistrationResponse``, ``RegistrationRecord``, ``KE1``,
/// ``KE2``, ``KE3``); ``ServerSetup`` is the server's long-term secret. See docs/CRYPTO.md.
public enum OPAQUE {
    /// Nn: nonce length.
    public static let nonceLength = 32
    /// Nseed: seed length for key derivation.
    public static let seedLength = 32
    /// Nh: hash output length.
    public static let hashLength = 64
    /// Npk: public key length.
    public static let publicKeyLength = Ristretto255.elementLength
    /// Nsk: private key length.
    public static let privateKeyLength = Ristretto255.scalarLength
    /// Nm: MAC length.
    public static let macLength = 64
    /// Nx: KDF extract output length.
    public static let extractLength = 64
    /// Nok: OPRF private key length.
    public static let oprfKeyLength = Ristretto255.scalarLength
    /// Noe: OPRF element length.
    public static let elementLength = Ristretto255.elementLength
    /// An envelope: nonce and auth tag.
    public static let envelopeLength = nonceLength + macLength
    /// The largest identity or context (a two-byte length prefix).
    public static let maximumIdentityLength = 0xFFFF
}
