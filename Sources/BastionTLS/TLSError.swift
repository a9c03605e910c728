/// The one error BastionTLS throws and fires down the channel pipeline.
///
/// Switch on ``code`` to react to a kind of failure; show ``message`` to people. When OpenSSL
/// reported the failure, the message ends with OpenSSL's own error text (its error queue, as
/// `ERR_error_string_n` renders it).
public struct TLSError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; don't switch on it exhaustively.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case handshakeFailed
            case handshakeTimeout
            case certificateInvalid
            case noApplicationProtocol
            case peerCertificateRequired
            case unexpectedEOF
            case protocolError
            case ioError
            case configurationInvalid
            case unsupportedOperation
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The handshake failed for a reason no more specific code names: the peer spoke
        /// something other than TLS (garbage, plaintext HTTP), offered no protocol version or
        /// cipher suite in common, or sent a malformed handshake message.
        public static let handshakeFailed = Self(.handshakeFailed)
        /// The handshake did not finish within the configured handshake timeout.
        public static let handshakeTimeout = Self(.handshakeTimeout)
        /// The peer's certificate did not verify against the trust roots (unknown issuer,
        /// expired, wrong host name, unusable for this purpose), or the peer refused ours.
        public static let certificateInvalid = Self(.certificateInvalid)
        /// Client and server have no ALPN protocol in common, or the client offered none.
        public static let noApplicationProtocol = Self(.noApplicationProtocol)
        /// The server requires a client certificate and the client sent none.
        public static let peerCertificateRequired = Self(.peerCertificateRequired)
        /// The connection closed without a TLS close_notify: the peer (or something between)
        /// cut it, so the data received may be truncated.
        public static let unexpectedEOF = Self(.unexpectedEOF)
        /// After the handshake, the peer sent something TLS forbids (a record that does not
        /// decrypt, a fatal alert, a renegotiation attempt).
        public static let protocolError = Self(.protocolError)
        /// Reading a file, or an operation of the operating system, failed.
        public static let ioError = Self(.ioError)
        /// A configuration could not be used: a certificate or key does not parse, the key does
        /// not match the certificate, a setting is out of range.
        public static let configurationInvalid = Self(.configurationInvalid)
        /// The handler was asked for something it does not do (writing a `FileRegion`).
        public static let unsupportedOperation = Self(.unsupportedOperation)

        public var description: String {
            switch self.wrapped {
            case .handshakeFailed: "handshake failed"
            case .handshakeTimeout: "handshake timeout"
            case .certificateInvalid: "certificate invalid"
            case .noApplicationProtocol: "no application protocol"
            case .peerCertificateRequired: "peer certificate required"
            case .unexpectedEOF: "unexpected EOF"
            case .protocolError: "protocol error"
            case .ioError: "I/O error"
            case .configurationInvalid: "configuration invalid"
            case .unsupportedOperation: "unsupported operation"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A description for people, including OpenSSL's error text where OpenSSL reported one.
    public var message: String
    /// The underlying error, if another error caused this one.
    public var cause: (any Error)?

    public init(code: Code, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause = self.cause {
            return "TLSError(\(self.code)): \(self.message) (cause: \(cause))"
        }
        return "TLSError(\(self.code)): \(self.message)"
    }
}
