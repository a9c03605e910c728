import COpenSSL

/// One OpenSSL `SSL_CTX`, built from a configuration and never changed afterwards.
///
/// A ``TLSContext`` swaps in a new box on reload; connections keep the box they started with
/// (each handler holds a strong reference), so the ALPN list the callbacks read stays alive
/// as long as any `SSL` made from this context.
final class SSLContextBox: @unchecked Sendable {
    /// The `SSL_CTX *`.
    let pointer: OpaquePointer
    let configuration: TLSConfiguration
    /// The ALPN list in wire form (length-prefixed names), or empty when ALPN is off.
    let alpnWire: UnsafeMutableBufferPointer<UInt8>

    /// TLS 1.3 suites: all three are AEADs.
    static let tls13CipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    /// TLS 1.2 suites: ECDHE key exchange with an AEAD only (no CBC, no RSA key exchange, no DHE).
    static let tls12CipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// Key-exchange groups, in order of preference.
    static let groups = "X25519:P-256:P-384"
    /// Names the server's session cache, so sessions with verified client certificates resume.
    static let sessionIDContext: [UInt8] = Array("bastion".utf8)
    /// The size of OpenSSL 3's session-ticket keys (name, HMAC key, AES key).
    static let ticketKeyLength = 80

    init(configuration: TLSConfiguration, previous: SSLContextBox? = nil) throws(TLSError) {
        self.configuration = configuration
        self.alpnWire = try Self.encodeALPN(configuration.applicationProtocols)

        OpenSSLErrorQueue.clear()
        let method = configuration.role.isServer ? TLS_server_method() : TLS_client_method()
        guard let context = SSL_CTX_new(method) else {
            self.alpnWire.deallocate()
            throw OpenSSLErrorQueue.configurationError("SSL_CTX_new failed")
        }
        self.pointer = context
        // From here on, deinit frees both.

        try self.configureProtocol()
        try self.configureCertificate()
        try self.configureTrust()
        try self.configureALPN()
        self.configureSessions(previous: previous)
    }

    deinit {
        SSL_CTX_free(self.pointer)
        self.alpnWire.deallocate()
    }

    // MARK: Building

    private func configureProtocol() throws(TLSError) {
        let context = self.pointer
        guard copenssl_ctx_set_min_proto_version(context, self.configuration.minimumProtocolVersion.wireValue) == 1,
            copenssl_ctx_set_max_proto_version(context, TLS1_3_VERSION) == 1
        else {
            throw OpenSSLErrorQueue.configurationError("cannot set the protocol versions")
        }
        guard SSL_CTX_set_ciphersuites(context, Self.tls13CipherSuites) == 1 else {
            throw OpenSSLErrorQueue.configurationError("cannot set the TLS 1.3 cipher suites")
        }
        guard SSL_CTX_set_cipher_list(context, Self.tls12CipherList) == 1 else {
            throw OpenSSLErrorQueue.configurationError("cannot set the TLS 1.2 cipher suites")
        }
        guard copenssl_ctx_set1_groups_list(context, Self.groups) == 1 else {
            throw OpenSSLErrorQueue.configurationError("cannot set the key-exchange groups")
        }
        _ = SSL_CTX_set_options(
            context,
            copenssl_op_no_renegotiation() | copenssl_op_no_client_renegotiation() | copenssl_op_no_compression()
                | copenssl_op_cipher_server_preference()
        )
        // Plaintext buffers may move between an SSL_write that wants to be retried and its
        // retry (they can't with memory BIOs, but this keeps OpenSSL from caring). The chain
        // sent is exactly the configured one: OpenSSL does not complete it from the trust store.
        _ = copenssl_ctx_set_mode(
            context,
            copenssl_mode_accept_moving_write_buffer() | copenssl_mode_no_auto_chain()
        )
    }

    private func configureCertificate() throws(TLSError) {
        let configuration = self.configuration
        switch (configuration.certificateChain, configuration.privateKey) {
        case (.none, .none):
            if configuration.role.isServer {
                throw TLSError(
                    code: .configurationInvalid,
                    message: "a server needs a certificate chain and a private key"
                )
            }
            return
        case (.some, .none), (.none, .some):
            throw TLSError(
                code: .configurationInvalid,
                message: "a certificate chain needs its private key, and a key its chain"
            )
        case (.some(let chainSource), .some(let keySource)):
            let chain = try PEMLoader.certificates(from: chainSource.pemSource)
            defer { chain.forEach { X509_free($0) } }
            let key = try PEMLoader.privateKey(from: keySource.pemSource)
            defer { EVP_PKEY_free(key) }

            OpenSSLErrorQueue.clear()
            guard SSL_CTX_use_certificate(self.pointer, chain[0]) == 1 else {
                throw OpenSSLErrorQueue.configurationError("the leaf certificate cannot be used")
            }
            for intermediate in chain.dropFirst() {
                guard copenssl_ctx_add1_chain_cert(self.pointer, intermediate) == 1 else {
                    throw OpenSSLErrorQueue.configurationError("an intermediate certificate cannot be used")
                }
            }
            guard SSL_CTX_use_PrivateKey(self.pointer, key) == 1 else {
                throw OpenSSLErrorQueue.configurationError("the private key cannot be used with the certificate")
            }
            guard SSL_CTX_check_private_key(self.pointer) == 1 else {
                throw OpenSSLErrorQueue.configurationError("the private key does not match the certificate")
            }
        }
    }

    private func configureTrust() throws(TLSError) {
        let configuration = self.configuration
        let context = self.pointer
        let verifiesPeer: Bool
        let mode: Int32
        if configuration.role.isServer {
            verifiesPeer = configuration.clientAuthentication.asksForCertificate
            mode =
                !verifiesPeer
                ? SSL_VERIFY_NONE
                : configuration.clientAuthentication.isRequired
                    ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER
        } else {
            verifiesPeer = configuration.certificateVerification.verifiesChain
            mode = verifiesPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE
        }
        SSL_CTX_set_verify(context, mode, nil)

        guard verifiesPeer else { return }
        guard let roots = configuration.trustRoots else {
            throw TLSError(
                code: .configurationInvalid,
                message:
                    "verifying the peer's certificate (client authentication \(configuration.clientAuthentication)) needs trust roots"
            )
        }
        OpenSSLErrorQueue.clear()
        let certificates: [OpaquePointer]
        switch roots {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw OpenSSLErrorQueue.configurationError("cannot load the system's trust roots")
            }
            return
        case .file(let path):
            certificates = try PEMLoader.certificates(from: .file(path))
        case .pem(let bytes):
            certificates = try PEMLoader.certificates(from: .pem(bytes))
        }
        defer { certificates.forEach { X509_free($0) } }
        let store = SSL_CTX_get_cert_store(context)
        for certificate in certificates {
            guard X509_STORE_add_cert(store, certificate) == 1 else {
                throw OpenSSLErrorQueue.configurationError("cannot add a trust root")
            }
            // Servers name the CAs they accept in their CertificateRequest.
            if configuration.role.isServer {
                guard SSL_CTX_add_client_CA(context, certificate) == 1 else {
                    throw OpenSSLErrorQueue.configurationError("cannot add a trust root's name")
                }
            }
        }
    }

    private func configureALPN() throws(TLSError) {
        guard !self.alpnWire.isEmpty else { return }
        let context = self.pointer
        if self.configuration.role.isServer {
            let argument = Unmanaged.passUnretained(self).toOpaque()
            SSL_CTX_set_client_hello_cb(context, requireALPNExtension, nil)
            SSL_CTX_set_alpn_select_cb(context, selectApplicationProtocol, argument)
        } else {
            // Inverted convention: 0 is success.
            guard SSL_CTX_set_alpn_protos(context, self.alpnWire.baseAddress, UInt32(self.alpnWire.count)) == 0 else {
                throw OpenSSLErrorQueue.configurationError("cannot set the ALPN protocols")
            }
        }
    }

    private func configureSessions(previous: SSLContextBox?) {
        let context = self.pointer
        guard self.configuration.role.isServer else {
            // Clients don't keep sessions (yet); OpenSSL still accepts the server's tickets.
            _ = copenssl_ctx_set_session_cache_mode(context, copenssl_sess_cache_off())
            return
        }
        _ = Self.sessionIDContext.withUnsafeBufferPointer {
            SSL_CTX_set_session_id_context(context, $0.baseAddress, UInt32($0.count))
        }
        if self.configuration.sessionTickets {
            _ = copenssl_ctx_set_session_cache_mode(context, copenssl_sess_cache_server())
            // Tickets issued before a reload stay valid after it.
            if let previous, previous.configuration.sessionTickets {
                var keys = [UInt8](repeating: 0, count: Self.ticketKeyLength)
                keys.withUnsafeMutableBufferPointer { buffer in
                    if copenssl_ctx_get_tlsext_ticket_keys(previous.pointer, buffer.baseAddress, buffer.count) == 1 {
                        _ = copenssl_ctx_set_tlsext_ticket_keys(context, buffer.baseAddress, buffer.count)
                    }
                }
            }
        } else {
            _ = copenssl_ctx_set_session_cache_mode(context, copenssl_sess_cache_off())
            _ = SSL_CTX_set_options(context, copenssl_op_no_ticket())
            _ = SSL_CTX_set_num_tickets(context, 0)
        }
    }

    /// Encodes ALPN names as TLS does: each name preceded by its length in one byte.
    private static func encodeALPN(_ protocols: [String]) throws(TLSError) -> UnsafeMutableBufferPointer<UInt8> {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSError(
                    code: .configurationInvalid,
                    message: "an ALPN protocol name must be 1 to 255 bytes long: '\(name)'"
                )
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: wire.count)
        _ = buffer.initialize(from: wire)
        return buffer
    }
}

// MARK: Callbacks (C function pointers: no captures)

/// Refuses a ClientHello without the ALPN extension: the ALPN select callback is not called
/// then, and the handshake would otherwise go on without an application protocol.
private let requireALPNExtension: SSL_client_hello_cb_fn = { ssl, alert, _ in
    var data: UnsafePointer<UInt8>? = nil
    var length = 0
    if SSL_client_hello_get0_ext(ssl, copenssl_tlsext_type_alpn(), &data, &length) == 1 {
        return SSL_CLIENT_HELLO_SUCCESS
    }
    copenssl_raise_no_application_protocol()
    alert?.pointee = copenssl_ad_no_application_protocol()
    return SSL_CLIENT_HELLO_ERROR
}

/// Picks the first of the server's protocols that the client offers; with none in common, the
/// handshake fails with a `no_application_protocol` alert.
private let selectApplicationProtocol:
    @convention(c) (
        OpaquePointer?,
        UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
        UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?,
        UInt32,
        UnsafeMutableRawPointer?
    ) -> Int32 = { _, out, outLength, offered, offeredLength, argument in
        guard let argument, let out, let outLength, let offered else {
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        let box = Unmanaged<SSLContextBox>.fromOpaque(argument).takeUnretainedValue()
        var selected: UnsafeMutablePointer<UInt8>? = nil
        var selectedLength: UInt8 = 0
        let result = SSL_select_next_proto(
            &selected,
            &selectedLength,
            box.alpnWire.baseAddress,
            UInt32(box.alpnWire.count),
            offered,
            offeredLength
        )
        guard result == OPENSSL_NPN_NEGOTIATED, let selected else {
            copenssl_raise_no_application_protocol()
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        out.pointee = UnsafePointer(selected)
        outLength.pointee = selectedLength
        return SSL_TLSEXT_ERR_OK
    }
