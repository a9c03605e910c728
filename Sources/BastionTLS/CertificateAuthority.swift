import COpenSSL

/// Issues client certificates from certificate signing requests, with the server's client CA.
///
/// A registering client makes its own key pair and sends a PKCS #10 request; the authority checks
/// the request's self-signature (proof that the client holds the private key), accepts only
/// EC P-256 and Ed25519 keys, and issues a certificate whose subject is the request's common name
/// alone — nothing else the client wrote in its request is copied. The certificate is for TLS
/// client authentication only (`CA:FALSE`, `digitalSignature`, `clientAuth`).
public final class CertificateAuthority: @unchecked Sendable {
    // The CA's certificate and key are read-only after init; OpenSSL allows concurrent signing
    // with one key.
    private let certificate: OpaquePointer
    private let privateKey: OpaquePointer

    /// Loads the CA from PEM files (the client CA of the server's TLS configuration).
    public init(certificatePath: String, privateKeyPath: String) throws(TLSError) {
        let certificates = try PEMLoader.certificates(from: .file(certificatePath))
        for extra in certificates.dropFirst() { X509_free(extra) }
        let key: OpaquePointer
        do {
            key = try PEMLoader.privateKey(from: .file(privateKeyPath))
        } catch {
            X509_free(certificates[0])
            throw error
        }
        guard X509_check_private_key(certificates[0], key) == 1 else {
            X509_free(certificates[0])
            EVP_PKEY_free(key)
            throw TLSError(code: .configurationInvalid, message: "\(privateKeyPath) is not the key of \(certificatePath)")
        }
        self.certificate = certificates[0]
        self.privateKey = key
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(privateKey)
    }

    /// Issues a certificate for a checked request; returns it DER-encoded.
    public func issueClientCertificate(for request: SigningRequest, validityDays: Int = 365) throws(TLSError) -> IssuedCertificate {
        let x509 = try DevelopmentCertificates.makeCertificate(
            commonName: request.commonName,
            organization: nil,
            publicKey: request.publicKey,
            issuer: certificate,
            issuerKey: privateKey,
            validityDays: validityDays,
            extensions: DevelopmentCertificates.clientCertificateExtensions
        )
        defer { X509_free(x509) }
        let der = try DER.encode { i2d_X509(x509, $0) }
        return IssuedCertificate(der: der, pem: try DevelopmentCertificates.pem(certificate: x509))
    }
}

/// A certificate the authority issued.
public struct IssuedCertificate: Sendable, Hashable {
    public var der: [UInt8]
    public var pem: [UInt8]

    /// SHA-256 of the DER encoding in lower-case hex: what `RPCPeer.Certificate.fingerprint` says
    /// when the client presents it.
    public var fingerprint: String {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = der.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { SHA256(input.baseAddress, input.count, $0.baseAddress) }
        }
        return digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}

/// A PKCS #10 certificate signing request whose self-signature verified.
public final class SigningRequest: @unchecked Sendable {
    /// The subject's common name (the user id a registration asks for).
    public let commonName: String
    /// The request as received (DER), to keep until the certificate is issued.
    public let der: [UInt8]
    // Immutable after init.
    let publicKey: OpaquePointer

    /// Parses and checks a DER-encoded request: at most 8 KiB, a valid self-signature, an EC P-256
    /// or Ed25519 key, exactly one common name.
    public init(der: [UInt8]) throws(TLSError) {
        guard !der.isEmpty, der.count <= 8192 else {
            throw TLSError(code: .certificateInvalid, message: "a certificate signing request has 1 to 8192 bytes")
        }
        OpenSSLErrorQueue.clear()
        let request: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509_REQ(nil, &cursor, buffer.count)
        }
        guard let request else {
            throw TLSError(code: .certificateInvalid, message: "the certificate signing request is not DER-encoded PKCS #10")
        }
        defer { X509_REQ_free(request) }
        guard let key = X509_REQ_get_pubkey(request) else {
            throw TLSError(code: .certificateInvalid, message: "the certificate signing request has no usable public key")
        }
        var keep = false
        defer { if !keep { EVP_PKEY_free(key) } }
        let isP256 = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_is_a(key, "EC") == 1
            && EVP_PKEY_get_bits(key) == 256
        guard isP256 || EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 else {
            throw TLSError(code: .certificateInvalid, message: "client keys must be EC P-256 or Ed25519")
        }
        guard X509_REQ_verify(request, key) == 1 else {
            throw TLSError(code: .certificateInvalid, message: "the certificate signing request's signature does not verify")
        }
        guard let subject = X509_REQ_get_subject_name(request), X509_NAME_entry_count(subject) == 1 else {
            throw TLSError(code: .certificateInvalid, message: "the request's subject must be exactly one common name (CN=<user id>)")
        }
        let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(subject, index), let data = X509_NAME_ENTRY_get_data(entry) else {
            throw TLSError(code: .certificateInvalid, message: "the request's subject must be exactly one common name (CN=<user id>)")
        }
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else {
            throw TLSError(code: .certificateInvalid, message: "the request's common name is not text")
        }
        defer { CRYPTO_free(utf8, #fileID, #line) }
        self.commonName = String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
        self.der = der
        self.publicKey = key
        keep = true
    }

    deinit { EVP_PKEY_free(publicKey) }

    /// Whether `signature` is the request key's signature over `message` (ECDSA with SHA-256 in
    /// DER form for P-256, pure Ed25519): how a registration proves that its other keys come from
    /// the holder of this request's key.
    public func verify(signature: [UInt8], over message: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let digest = EVP_PKEY_get_base_id(publicKey) == EVP_PKEY_ED25519 ? nil : EVP_sha256()
        guard EVP_DigestVerifyInit(context, nil, digest, nil, publicKey) == 1 else { return false }
        return signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count) == 1
            }
        }
    }
}

enum DER {
    /// Runs an `i2d_…` function twice: once for the length, once to write.
    static func encode(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) throws(TLSError) -> [UInt8] {
        let length = body(nil)
        guard length > 0 else { throw OpenSSLErrorQueue.configurationError("cannot DER-encode") }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return body(&cursor)
        }
        guard written == length else { throw OpenSSLErrorQueue.configurationError("cannot DER-encode") }
        return bytes
    }
}
