import COpenSSL

/// Reads certificates and keys from PEM files or PEM bytes, through one BIO code path.
enum PEMLoader {
    enum Source {
        case file(String)
        case pem([UInt8])

        var what: String {
            switch self {
            case .file(let path): "'\(path)'"
            case .pem: "PEM bytes"
            }
        }
    }

    /// Every certificate in the source, in order; at least one. The caller frees them.
    static func certificates(from source: Source) throws(TLSError) -> [OpaquePointer] {
        let certificates = try self.withBIO(source) { bio -> [OpaquePointer] in
            var certificates: [OpaquePointer] = []
            while let x509 = PEM_read_bio_X509(bio, nil, { _, _, _, _ in 0 }, nil) {
                certificates.append(x509)
            }
            return certificates
        }
        // The loop ends on a "no start line" error; only a source without any certificate is one.
        let queue = OpenSSLErrorQueue.drain()
        guard !certificates.isEmpty else {
            throw TLSError(
                code: .configurationInvalid,
                message: queue.message("\(source.what) holds no PEM certificate")
            )
        }
        return certificates
    }

    /// The private key in the source. The caller frees it.
    static func privateKey(from source: Source) throws(TLSError) -> OpaquePointer {
        let key = try self.withBIO(source) { bio in
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key else {
            throw OpenSSLErrorQueue.configurationError("\(source.what) holds no unencrypted PEM private key")
        }
        return key
    }

    /// Runs `body` with a BIO reading the source. The password callbacks passed to the PEM
    /// readers supply none, so OpenSSL never prompts on a terminal for an encrypted key; such a
    /// key fails to load instead.
    private static func withBIO<Result>(
        _ source: Source,
        _ body: (OpaquePointer) -> Result
    ) throws(TLSError) -> Result {
        OpenSSLErrorQueue.clear()
        switch source {
        case .file(let path):
            guard let bio = BIO_new_file(path, "r") else {
                throw TLSError(code: .ioError, message: OpenSSLErrorQueue.drain().message("cannot read \(source.what)"))
            }
            defer { BIO_free(bio) }
            return body(bio)
        case .pem(let bytes):
            let result = bytes.withUnsafeBytes { buffer -> Result? in
                guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(clamping: buffer.count)) else {
                    return nil
                }
                defer { BIO_free(bio) }
                return body(bio)
            }
            guard let result else {
                throw OpenSSLErrorQueue.configurationError("cannot allocate a memory BIO")
            }
            return result
        }
    }
}

/// Text and bytes out of memory BIOs.
enum BIOText {
    /// The bytes a memory BIO holds, as UTF-8 text.
    static func string(of bio: OpaquePointer) -> String {
        String(decoding: self.bytes(of: bio), as: UTF8.self)
    }

    /// The bytes a memory BIO holds.
    static func bytes(of bio: OpaquePointer) -> [UInt8] {
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = copenssl_bio_get_mem_data(bio, &data)
        guard length > 0, let data else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

extension TLSCertificateSource {
    var pemSource: PEMLoader.Source {
        switch self {
        case .file(let path): .file(path)
        case .pem(let bytes): .pem(bytes)
        }
    }
}

extension TLSPrivateKeySource {
    var pemSource: PEMLoader.Source {
        switch self {
        case .file(let path): .file(path)
        case .pem(let bytes): .pem(bytes)
        }
    }
}
