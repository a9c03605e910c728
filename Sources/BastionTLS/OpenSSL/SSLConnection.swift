import COpenSSL
import NIOCore

/// One OpenSSL `SSL` over two memory BIOs: ciphertext from the network is written into the read
/// BIO, ciphertext for the network is taken out of the write BIO. It never touches a socket;
/// the handler moves bytes between the BIOs and the channel.
///
/// Not thread-safe: a connection belongs to its channel's event loop.
final class SSLConnection {
    /// The `SSL *`.
    private let ssl: OpaquePointer
    /// Network → OpenSSL. Owned by `ssl`.
    private let readBIO: OpaquePointer
    /// OpenSSL → network. Owned by `ssl`.
    private let writeBIO: OpaquePointer
    /// Keeps the `SSL_CTX`'s callback data alive while this connection may call back into it.
    let context: SSLContextBox

    /// The largest amount handed to one `BIO_write`/`SSL_write`/`BIO_read` call (they take `int`).
    private static let maximumChunk = 1 << 30

    enum HandshakeStep {
        case complete
        case needsInput
        case failed(TLSError)
    }

    enum ReadEnd {
        /// Everything buffered was read; more ciphertext is needed.
        case needsInput
        /// The peer sent close_notify.
        case closeNotify
        case failed(TLSError)
    }

    init(context: SSLContextBox, serverHostname: String?) throws(TLSError) {
        self.context = context
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.pointer) else {
            throw OpenSSLErrorQueue.configurationError("SSL_new failed")
        }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw OpenSSLErrorQueue.configurationError("cannot allocate memory BIOs")
        }
        // An empty read BIO means "wait for more", not end of file.
        _ = copenssl_bio_set_mem_eof_return(readBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO

        if context.configuration.role.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverHostname {
                try self.setServerHostname(serverHostname)
            }
        }
    }

    deinit {
        SSL_free(self.ssl)
    }

    /// Sends SNI for a DNS name and checks the server's certificate against the name.
    private func setServerHostname(_ hostname: String) throws(TLSError) {
        let verification = self.context.configuration.certificateVerification
        let isIPAddress = IPAddressText.isIPAddress(hostname)
        if !isIPAddress {
            // RFC 6066: SNI carries DNS names only, never IP literals.
            guard copenssl_set_tlsext_host_name(self.ssl, hostname) == 1 else {
                throw OpenSSLErrorQueue.configurationError("invalid server name '\(hostname)'")
            }
        }
        guard verification.verifiesHostname else { return }
        let param = SSL_get0_param(self.ssl)
        let ok =
            isIPAddress
            ? X509_VERIFY_PARAM_set1_ip_asc(param, hostname)
            : SSL_set1_host(self.ssl, hostname)
        guard ok == 1 else {
            throw OpenSSLErrorQueue.configurationError("cannot verify against the name '\(hostname)'")
        }
    }

    // MARK: Ciphertext in and out

    /// Moves ciphertext from the network into the read BIO.
    func receive(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = min(bytes.count - offset, Self.maximumChunk)
                let written = BIO_write(self.readBIO, bytes.baseAddress! + offset, Int32(count))
                // A memory BIO only refuses on allocation failure; the handshake then fails.
                guard written > 0 else { return }
                offset += Int(written)
            }
        }
    }

    /// Bytes of ciphertext waiting in the write BIO.
    var pendingCiphertext: Int {
        Int(copenssl_bio_pending(self.writeBIO))
    }

    /// Bytes of ciphertext waiting in the read BIO (not yet taken by OpenSSL).
    var bufferedCiphertext: Int {
        Int(copenssl_bio_pending(self.readBIO))
    }

    /// Appends everything in the write BIO to `buffer`.
    func drainCiphertext(into buffer: inout ByteBuffer) {
        var pending = self.pendingCiphertext
        while pending > 0 {
            let count = min(pending, Self.maximumChunk)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
                Int(max(0, BIO_read(self.writeBIO, bytes.baseAddress, Int32(count))))
            }
            guard read > 0 else { return }
            pending -= read
        }
    }

    // MARK: Handshake

    func handshake() -> HandshakeStep {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(self.ssl)
        if result == 1 {
            return .complete
        }
        let error = SSL_get_error(self.ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsInput
        default:
            return .failed(self.error(for: error, duringHandshake: true))
        }
    }

    /// The negotiated parameters; call once the handshake is complete.
    func handshakeResult() -> TLSHandshakeCompleted {
        var alpnData: UnsafePointer<UInt8>? = nil
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &alpnData, &alpnLength)
        let alpn = alpnData.map {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self)
        }
        let version = String(cString: SSL_get_version(self.ssl))
        let cipher =
            SSL_get_current_cipher(self.ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""

        var peerCertificate: PeerCertificate? = nil
        let verified =
            self.context.configuration.role.isServer
            ? self.context.configuration.clientAuthentication.asksForCertificate
            : self.context.configuration.certificateVerification.verifiesChain
        if verified, SSL_get_verify_result(self.ssl) == X509_V_OK, let x509 = copenssl_get_peer_certificate(self.ssl) {
            defer { X509_free(x509) }
            peerCertificate = try? PeerCertificate(x509: x509)
        }
        return TLSHandshakeCompleted(
            alpn: alpn,
            protocolVersion: version,
            cipher: cipher,
            peerCertificate: peerCertificate,
            sessionReused: SSL_session_reused(self.ssl) == 1
        )
    }

    // MARK: Application data

    /// Decrypts everything the read BIO holds, appending plaintext to `buffer`.
    func read(into buffer: inout ByteBuffer) -> ReadEnd {
        // Plaintext is never longer than the ciphertext it came from, plus at most one record
        // OpenSSL already took out of the BIO; one reservation usually covers the whole read.
        buffer.reserveCapacity(minimumWritableBytes: min(self.bufferedCiphertext, 1 << 20) + 1024)
        OpenSSLErrorQueue.clear()
        while true {
            var result: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1024) { bytes in
                result = SSL_read(self.ssl, bytes.baseAddress, Int32(min(bytes.count, Self.maximumChunk)))
                return Int(max(0, result))
            }
            if result > 0 { continue }
            let error = SSL_get_error(self.ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return .needsInput
            case SSL_ERROR_ZERO_RETURN:
                return .closeNotify
            default:
                return .failed(self.error(for: error, duringHandshake: false))
            }
        }
    }

    /// Encrypts `buffer`'s readable bytes into the write BIO.
    func write(_ buffer: ByteBuffer) -> TLSError? {
        buffer.withUnsafeReadableBytes { bytes -> TLSError? in
            var offset = 0
            while offset < bytes.count {
                let count = min(bytes.count - offset, Self.maximumChunk)
                OpenSSLErrorQueue.clear()
                let written = SSL_write(self.ssl, bytes.baseAddress! + offset, Int32(count))
                guard written > 0 else {
                    return self.error(for: SSL_get_error(self.ssl, written), duringHandshake: false)
                }
                offset += Int(written)
            }
            return nil
        }
    }

    /// Queues close_notify in the write BIO.
    func shutdown() {
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(self.ssl)
        // SSL_shutdown reports 0 (ours sent, theirs not yet received) or an error we don't act
        // on: the connection closes next either way.
        OpenSSLErrorQueue.clear()
    }

    // MARK: Errors

    /// Turns a failed call's `SSL_get_error` result and the error queue into a ``TLSError``.
    private func error(for sslError: Int32, duringHandshake: Bool) -> TLSError {
        let queue = OpenSSLErrorQueue.drain()
        let phase = duringHandshake ? "TLS handshake failed" : "TLS connection failed"
        if sslError == SSL_ERROR_SYSCALL && queue.entries.isEmpty {
            return TLSError(code: .unexpectedEOF, message: "\(phase): the peer closed the connection")
        }
        if queue.contains(sslReasons: SSL_R_NO_APPLICATION_PROTOCOL, SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
            return TLSError(
                code: .noApplicationProtocol,
                message: queue.message("\(phase): no application protocol (ALPN) in common")
            )
        }
        if queue.contains(
            sslReasons: SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
            SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED
        ) {
            return TLSError(
                code: .peerCertificateRequired,
                message: queue.message("\(phase): a client certificate is required")
            )
        }
        if queue.contains(sslReasons: SSL_R_CERTIFICATE_VERIFY_FAILED) {
            let result = SSL_get_verify_result(self.ssl)
            let reason = String(cString: X509_verify_cert_error_string(result))
            return TLSError(
                code: .certificateInvalid,
                message: queue.message("\(phase): the peer's certificate does not verify (\(reason))")
            )
        }
        if queue.contains(
            sslReasons: SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
            SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE,
            SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED,
            SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
            SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
            SSL_R_TLSV1_ALERT_UNKNOWN_CA
        ) {
            return TLSError(
                code: .certificateInvalid,
                message: queue.message("\(phase): the peer refused our certificate")
            )
        }
        return TLSError(
            code: duringHandshake ? .handshakeFailed : .protocolError,
            message: queue.message(phase)
        )
    }
}

/// Recognises textual IPv4 and IPv6 addresses (for SNI and certificate name checks).
enum IPAddressText {
    static func isIPAddress(_ text: String) -> Bool {
        // Parsed by OpenSSL itself, the same parser X509_VERIFY_PARAM_set1_ip_asc uses.
        guard let octets = a2i_IPADDRESS(text) else { return false }
        ASN1_OCTET_STRING_free(octets)
        return true
    }
}
