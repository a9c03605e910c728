import COpenSSL

/// An X.509 certificate as the peer presented it, with the fields authorization needs.
///
/// Values are plain bytes and strings: they stay valid after the connection closes and can be
/// sent across tasks.
public struct PeerCertificate: Sendable, Hashable, CustomStringConvertible {
    /// The certificate's DER encoding.
    public var derBytes: [UInt8]
    /// The subject's distinguished name in RFC 2253 form, e.g. `CN=alice,O=Example`.
    public var subject: String
    /// The issuer's distinguished name in RFC 2253 form.
    public var issuer: String
    /// The serial number in upper-case hexadecimal, without separators.
    public var serialNumber: String
    /// The SHA-256 digest of ``derBytes``.
    public var sha256Fingerprint: [UInt8]

    /// The subject's common name (the last CN attribute), if it has one.
    public var commonName: String?

    /// The SHA-256 fingerprint in lower-case hexadecimal, without separators.
    public var sha256FingerprintHex: String {
        Self.hex(self.sha256Fingerprint)
    }

    public var description: String {
        "PeerCertificate(subject: \(self.subject), issuer: \(self.issuer), serial: \(self.serialNumber), "
            + "sha256: \(self.sha256FingerprintHex))"
    }

    /// Parses a DER-encoded certificate.
    public init(derBytes: [UInt8]) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        let x509 = derBytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &pointer, buffer.count)
        }
        guard let x509 else {
            throw OpenSSLErrorQueue.configurationError("the certificate's DER does not parse")
        }
        defer { X509_free(x509) }
        try self.init(x509: x509)
    }

    /// Parses the first certificate of PEM text.
    public init(pemBytes: [UInt8]) throws(TLSError) {
        let certificates = try PEMLoader.certificates(from: .pem(pemBytes))
        defer { certificates.forEach { X509_free($0) } }
        try self.init(x509: certificates[0])
    }

    /// Reads the first certificate of a PEM file.
    public init(pemFile path: String) throws(TLSError) {
        let certificates = try PEMLoader.certificates(from: .file(path))
        defer { certificates.forEach { X509_free($0) } }
        try self.init(x509: certificates[0])
    }

    /// Reads the fields of an OpenSSL certificate; does not take ownership of it.
    init(x509: OpaquePointer) throws(TLSError) {
        let length = i2d_X509(x509, nil)
        guard length > 0 else {
            throw OpenSSLErrorQueue.configurationError("the certificate does not encode")
        }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(x509, &pointer)
        }
        self.derBytes = der

        self.subject = Self.distinguishedName(X509_get_subject_name(x509))
        self.issuer = Self.distinguishedName(X509_get_issuer_name(x509))
        self.commonName = Self.commonName(X509_get_subject_name(x509))
        self.serialNumber = Self.serial(X509_get_serialNumber(x509))

        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var digestLength: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { buffer in
            X509_digest(x509, EVP_sha256(), buffer.baseAddress, &digestLength)
        }
        guard ok == 1 else {
            throw OpenSSLErrorQueue.configurationError("the certificate's SHA-256 digest failed")
        }
        self.sha256Fingerprint = Array(digest.prefix(Int(digestLength)))
    }

    private static func distinguishedName(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, copenssl_xn_flag_rfc2253_utf8()) >= 0 else { return "" }
        return BIOText.string(of: bio)
    }

    private static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        var last: Int32 = -1
        var index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        while index >= 0 {
            last = index
            index = X509_NAME_get_index_by_NID(name, NID_commonName, index)
        }
        guard last >= 0, let entry = X509_NAME_get_entry(name, last),
            let data = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { CRYPTO_free(utf8, #fileID, #line) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    private static func serial(_ integer: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let integer, let bignum = ASN1_INTEGER_to_BN(integer, nil) else { return "" }
        defer { BN_free(bignum) }
        guard let hex = BN_bn2hex(bignum) else { return "" }
        defer { CRYPTO_free(hex, #fileID, #line) }
        return String(cString: hex)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
