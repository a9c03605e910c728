import COpenSSL

/// A client's own key pair (EC P-256): it makes the certificate signing request a registration
/// sends, signs the registration's KeyPackage, and is the key of the client certificate the
/// server then issues.
public final class ClientKey: @unchecked Sendable {
    // Immutable after init; OpenSSL signs concurrently with one key.
    let key: OpaquePointer

    /// A fresh key.
    public init() throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let key = copenssl_ec_p256_generate() else {
            throw OpenSSLErrorQueue.configurationError("cannot generate an EC P-256 key")
        }
        self.key = key
    }

    /// A key from PEM (PKCS #8), as ``privateKeyPEM()`` writes it.
    public init(pem: [UInt8]) throws(TLSError) {
        self.key = try PEMLoader.privateKey(from: .pem(pem))
    }

    deinit { EVP_PKEY_free(key) }

    /// The private key as unencrypted PKCS #8 PEM; store it with mode 0600.
    public func privateKeyPEM() throws(TLSError) -> [UInt8] {
        try DevelopmentCertificates.pem(privateKey: key)
    }

    /// A DER-encoded PKCS #10 request whose subject is `CN=<commonName>`, signed with this key.
    public func signingRequest(commonName: String) throws(TLSError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let request = X509_REQ_new() else { throw OpenSSLErrorQueue.configurationError("X509_REQ_new failed") }
        defer { X509_REQ_free(request) }
        guard let name = X509_NAME_new() else { throw OpenSSLErrorQueue.configurationError("X509_NAME_new failed") }
        defer { X509_NAME_free(name) }
        guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1,
            X509_REQ_set_subject_name(request, name) == 1,
            X509_REQ_set_pubkey(request, key) == 1,
            X509_REQ_sign(request, key, EVP_sha256()) > 0
        else {
            throw OpenSSLErrorQueue.configurationError("cannot make the certificate signing request")
        }
        return try DER.encode { i2d_X509_REQ(request, $0) }
    }

    /// An ECDSA-SHA256 signature (DER) over `message`.
    public func sign(_ message: [UInt8]) throws(TLSError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.configurationError("EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1,
            EVP_DigestSign(context, nil, &length, message, message.count) == 1
        else { throw OpenSSLErrorQueue.configurationError("cannot sign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw OpenSSLErrorQueue.configurationError("cannot sign")
        }
        return Array(signature.prefix(length))
    }
}

/// A raw X25519 or Ed25519 key pair (a registration's KeyPackage keys).
public struct RawKeyPair: Sendable, Hashable {
    public enum Kind: Sendable { case x25519, ed25519 }

    public var publicKey: [UInt8]
    public var privateKey: [UInt8]

    /// A fresh key pair from OpenSSL.
    public init(_ kind: Kind) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new_id(kind == .x25519 ? EVP_PKEY_X25519 : EVP_PKEY_ED25519, nil) else {
            throw OpenSSLErrorQueue.configurationError("cannot make a key context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw OpenSSLErrorQueue.configurationError("cannot generate a key")
        }
        defer { EVP_PKEY_free(key) }
        var publicKey = [UInt8](repeating: 0, count: 32)
        var privateKey = [UInt8](repeating: 0, count: 32)
        var publicLength = 32
        var privateLength = 32
        guard EVP_PKEY_get_raw_public_key(key, &publicKey, &publicLength) == 1,
            EVP_PKEY_get_raw_private_key(key, &privateKey, &privateLength) == 1,
            publicLength == 32, privateLength == 32
        else { throw OpenSSLErrorQueue.configurationError("cannot read the raw key") }
        self.publicKey = publicKey
        self.privateKey = privateKey
    }
}
