import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes a throwaway certificate authority with a server and a client certificate, for
/// development and tests: `bastion dev-cert` and the TLS tests use it.
///
/// Every key is EC P-256; certificates are X.509 v3 signed with ECDSA-SHA256. The server
/// certificate names `localhost`, `127.0.0.1` and `::1` (or the names given) in its subject
/// alternative names; the client certificate is for client authentication only. Nothing here
/// is fit for production: the CA's key is written next to its certificate.
public enum DevelopmentCertificates {
    /// Where ``generate(directory:serverNames:clientCommonName:validityDays:)`` wrote its files.
    public struct Files: Sendable, Hashable {
        public var directory: String
        /// `ca.pem`: the development CA's certificate; trust roots for both sides.
        public var caCertificate: String
        /// `ca-key.pem`: the CA's private key (mode 0600).
        public var caPrivateKey: String
        /// `server.pem`: the server's certificate, signed by the CA.
        public var serverCertificate: String
        /// `server-key.pem`: the server's private key (mode 0600).
        public var serverPrivateKey: String
        /// `client.pem`: a client certificate, signed by the CA.
        public var clientCertificate: String
        /// `client-key.pem`: the client's private key (mode 0600).
        public var clientPrivateKey: String

        public init(directory: String) {
            self.directory = directory
            let prefix = directory.hasSuffix("/") ? directory : directory + "/"
            self.caCertificate = prefix + "ca.pem"
            self.caPrivateKey = prefix + "ca-key.pem"
            self.serverCertificate = prefix + "server.pem"
            self.serverPrivateKey = prefix + "server-key.pem"
            self.clientCertificate = prefix + "client.pem"
            self.clientPrivateKey = prefix + "client-key.pem"
        }
    }

    /// Generates a CA, a server certificate and a client certificate, and writes them as PEM
    /// files into `directory` (created if missing; existing files of the same names are
    /// replaced).
    ///
    /// - Parameters:
    ///   - serverNames: DNS names and IP addresses for the server certificate's subject
    ///     alternative names; the first is also its common name.
    ///   - clientCommonName: The client certificate's common name.
    ///   - validityDays: How long the certificates are valid, from one hour ago.
    @discardableResult
    public static func generate(
        directory: String,
        serverNames: [String] = ["localhost", "127.0.0.1", "::1"],
        clientCommonName: String = "bastion-dev-client",
        validityDays: Int = 365
    ) throws(TLSError) -> Files {
        guard !serverNames.isEmpty else {
            throw TLSError(code: .configurationInvalid, message: "a server certificate needs at least one name")
        }
        guard validityDays > 0 else {
            throw TLSError(code: .configurationInvalid, message: "validityDays must be positive")
        }
        try FileOutput.createDirectory(directory)
        let files = Files(directory: directory)

        let caKey = try self.makeKey()
        defer { EVP_PKEY_free(caKey) }
        let ca = try self.makeCertificate(
            commonName: "Bastion Development CA",
            publicKey: caKey,
            issuer: nil,
            issuerKey: caKey,
            validityDays: validityDays,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ]
        )
        defer { X509_free(ca) }

        let serverKey = try self.makeKey()
        defer { EVP_PKEY_free(serverKey) }
        let alternativeNames = serverNames.map { IPAddressText.isIPAddress($0) ? "IP:\($0)" : "DNS:\($0)" }
        let server = try self.makeCertificate(
            commonName: serverNames[0],
            publicKey: serverKey,
            issuer: ca,
            issuerKey: caKey,
            validityDays: validityDays,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth"),
                (NID_subject_alt_name, alternativeNames.joined(separator: ",")),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ]
        )
        defer { X509_free(server) }

        let clientKey = try self.makeKey()
        defer { EVP_PKEY_free(clientKey) }
        let client = try self.makeCertificate(
            commonName: clientCommonName,
            publicKey: clientKey,
            issuer: ca,
            issuerKey: caKey,
            validityDays: validityDays,
            extensions: Self.clientCertificateExtensions
        )
        defer { X509_free(client) }

        try FileOutput.writeFile(try self.pem(certificate: ca), to: files.caCertificate, mode: 0o644)
        try FileOutput.writeFile(try self.pem(privateKey: caKey), to: files.caPrivateKey, mode: 0o600)
        try FileOutput.writeFile(try self.pem(certificate: server), to: files.serverCertificate, mode: 0o644)
        try FileOutput.writeFile(try self.pem(privateKey: serverKey), to: files.serverPrivateKey, mode: 0o600)
        try FileOutput.writeFile(try self.pem(certificate: client), to: files.clientCertificate, mode: 0o644)
        try FileOutput.writeFile(try self.pem(privateKey: clientKey), to: files.clientPrivateKey, mode: 0o600)
        return files
    }

    // MARK: Keys and certificates

    private static func makeKey() throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let key = copenssl_ec_p256_generate() else {
            throw OpenSSLErrorQueue.configurationError("cannot generate an EC P-256 key")
        }
        return key
    }

    /// What makes a certificate a TLS client's and nothing else.
    static let clientCertificateExtensions: [(Int32, String)] = [
        (NID_basic_constraints, "critical,CA:FALSE"),
        (NID_key_usage, "critical,digitalSignature"),
        (NID_ext_key_usage, "clientAuth"),
        (NID_subject_key_identifier, "hash"),
        (NID_authority_key_identifier, "keyid:always"),
    ]

    /// A signed certificate; self-signed when `issuer` is nil. The caller frees it.
    static func makeCertificate(
        commonName: String,
        organization: String? = "Bastion development",
        publicKey: OpaquePointer,
        issuer: OpaquePointer?,
        issuerKey: OpaquePointer,
        validityDays: Int,
        extensions: [(Int32, String)]
    ) throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let x509 = X509_new() else {
            throw OpenSSLErrorQueue.configurationError("X509_new failed")
        }
        var succeeded = false
        defer { if !succeeded { X509_free(x509) } }

        guard copenssl_x509_set_version_3(x509) == 1 else {
            throw OpenSSLErrorQueue.configurationError("cannot set the certificate version")
        }
        // A random, positive 127-bit serial number.
        guard let serial = BN_new() else {
            throw OpenSSLErrorQueue.configurationError("BN_new failed")
        }
        defer { BN_free(serial) }
        guard BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1,
            BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x509)) != nil
        else {
            throw OpenSSLErrorQueue.configurationError("cannot set a serial number")
        }
        guard X509_gmtime_adj(X509_getm_notBefore(x509), -3600) != nil,
            X509_time_adj_ex(X509_getm_notAfter(x509), Int32(validityDays), 0, nil) != nil
        else {
            throw OpenSSLErrorQueue.configurationError("cannot set the validity period")
        }

        guard let name = X509_NAME_new() else {
            throw OpenSSLErrorQueue.configurationError("X509_NAME_new failed")
        }
        defer { X509_NAME_free(name) }
        guard organization.map({ X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, $0, -1, -1, 0) == 1 }) ?? true,
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1,
            X509_set_subject_name(x509, name) == 1,
            X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0) } ?? name) == 1,
            X509_set_pubkey(x509, publicKey) == 1
        else {
            throw OpenSSLErrorQueue.configurationError("cannot set the names or the public key")
        }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer ?? x509, x509, nil, nil, 0)
        for (nid, value) in extensions {
            guard let `extension` = X509V3_EXT_nconf_nid(nil, &context, nid, value) else {
                throw OpenSSLErrorQueue.configurationError("cannot make the extension '\(value)'")
            }
            defer { X509_EXTENSION_free(`extension`) }
            guard X509_add_ext(x509, `extension`, -1) == 1 else {
                throw OpenSSLErrorQueue.configurationError("cannot add the extension '\(value)'")
            }
        }

        // Ed25519 keys sign without a separate digest.
        let digest = EVP_PKEY_get_base_id(issuerKey) == EVP_PKEY_ED25519 ? nil : EVP_sha256()
        guard X509_sign(x509, issuerKey, digest) > 0 else {
            throw OpenSSLErrorQueue.configurationError("cannot sign the certificate")
        }
        succeeded = true
        return x509
    }

    static func pem(certificate: OpaquePointer) throws(TLSError) -> [UInt8] {
        try self.withMemoryBIO { bio in PEM_write_bio_X509(bio, certificate) == 1 }
    }

    /// PKCS #8, unencrypted.
    static func pem(privateKey: OpaquePointer) throws(TLSError) -> [UInt8] {
        try self.withMemoryBIO { bio in
            PEM_write_bio_PrivateKey(bio, privateKey, nil, nil, 0, nil, nil) == 1
        }
    }

    private static func withMemoryBIO(_ body: (OpaquePointer) -> Bool) throws(TLSError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw OpenSSLErrorQueue.configurationError("cannot allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        guard body(bio) else {
            throw OpenSSLErrorQueue.configurationError("cannot write PEM")
        }
        return BIOText.bytes(of: bio)
    }
}

/// Writes files with POSIX calls, so key files get their mode from the start.
enum FileOutput {
    static func createDirectory(_ path: String) throws(TLSError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw TLSError(
                    code: .ioError,
                    message: "cannot create '\(prefix)': \(String(cString: strerror(errno)))"
                )
            }
            prefix += "/"
        }
    }

    static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws(TLSError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw TLSError(code: .ioError, message: "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // An existing file keeps its mode through O_TRUNC; set it explicitly.
        guard fchmod(descriptor, mode) == 0 else {
            throw TLSError(code: .ioError, message: "cannot chmod '\(path)': \(String(cString: strerror(errno)))")
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw TLSError(code: .ioError, message: "cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
