/// How a ``TLSContext`` sets up its connections: which side it plays, which certificate it
/// presents, whom it trusts, which protocol versions, cipher suites and ALPN protocols it allows.
///
/// Start from ``server(certificateChain:privateKey:)`` or ``client(trustRoots:)`` and change
/// the properties whose defaults don't fit. The defaults are Bastion's wire protocol: TLS 1.3
/// only, ALPN `bastion/1` required, no renegotiation, no compression.
public struct TLSConfiguration: Sendable {
    /// Which side of the handshake a context's connections play.
    public struct Role: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case server
            case client
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// Accepts connections: ``TLSServerHandler``.
        public static let server = Self(.server)
        /// Opens connections: ``TLSClientHandler``.
        public static let client = Self(.client)

        var isServer: Bool { self.wrapped == .server }

        public var description: String {
            switch self.wrapped {
            case .server: "server"
            case .client: "client"
            }
        }
    }

    /// Which side this configuration is for.
    public var role: Role

    /// The certificate chain this side presents: the leaf first, then its intermediates.
    /// Required for a server; for a client, set it (with ``privateKey``) to authenticate with a
    /// client certificate.
    public var certificateChain: TLSCertificateSource?

    /// The private key of the chain's leaf certificate.
    public var privateKey: TLSPrivateKeySource?

    /// The certificates this side trusts to issue the peer's certificate. A client verifies the
    /// server with them; a server verifies client certificates with them (required when
    /// ``clientAuthentication`` is not `.none`).
    public var trustRoots: TLSTrustRoots?

    /// The oldest protocol version allowed. TLS 1.3 by default; `.tls12` also allows TLS 1.2,
    /// with ECDHE key exchange and AEAD cipher suites only.
    public var minimumProtocolVersion: TLSProtocolVersion

    /// ALPN protocols in order of preference; `["bastion/1"]` by default.
    ///
    /// A server refuses, with a `no_application_protocol` alert, a client that offers none of
    /// them or no ALPN at all. A client offers them and fails the handshake when the server
    /// selects none. An empty list turns ALPN off on this side.
    public var applicationProtocols: [String]

    /// Whether a server asks for a client certificate (mutual TLS). Ignored by clients.
    public var clientAuthentication: TLSClientAuthentication

    /// How a client verifies the server's certificate. Ignored by servers.
    public var certificateVerification: TLSCertificateVerification

    /// How long a handshake may take, from the moment the connection is active. On expiry the
    /// handler fires ``TLSError/Code/handshakeTimeout`` and closes the connection.
    public var handshakeTimeout: Duration

    /// Whether a server issues TLS session tickets, so returning clients can resume without a
    /// full handshake. On by default. Ignored by clients.
    public var sessionTickets: Bool

    private init(role: Role) {
        self.role = role
        self.certificateChain = nil
        self.privateKey = nil
        self.trustRoots = nil
        self.minimumProtocolVersion = .tls13
        self.applicationProtocols = [Self.bastionApplicationProtocol]
        self.clientAuthentication = .none
        self.certificateVerification = .full
        self.handshakeTimeout = .seconds(10)
        self.sessionTickets = true
    }

    /// The ALPN protocol of Bastion's wire protocol, version 1.
    public static let bastionApplicationProtocol = "bastion/1"

    /// A server presenting this certificate chain and key, with the defaults above.
    public static func server(
        certificateChain: TLSCertificateSource,
        privateKey: TLSPrivateKeySource
    ) -> Self {
        var configuration = Self(role: .server)
        configuration.certificateChain = certificateChain
        configuration.privateKey = privateKey
        return configuration
    }

    /// A client that verifies servers against these trust roots, with the defaults above.
    public static func client(trustRoots: TLSTrustRoots = .system) -> Self {
        var configuration = Self(role: .client)
        configuration.trustRoots = trustRoots
        return configuration
    }
}

/// The oldest TLS version a context accepts.
public struct TLSProtocolVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    let wireValue: Int32

    private init(wireValue: Int32) {
        self.wireValue = wireValue
    }

    /// TLS 1.2 (RFC 5246), restricted to ECDHE key exchange with AEAD cipher suites.
    public static let tls12 = Self(wireValue: 0x0303)
    /// TLS 1.3 (RFC 8446).
    public static let tls13 = Self(wireValue: 0x0304)

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.wireValue < rhs.wireValue
    }

    public var description: String {
        self == .tls12 ? "TLSv1.2" : "TLSv1.3"
    }
}

/// Where a certificate chain comes from: PEM, the leaf first, then its intermediates.
public enum TLSCertificateSource: Sendable, Hashable {
    /// A PEM file.
    case file(String)
    /// PEM text.
    case pem([UInt8])
}

/// Where a private key comes from: an unencrypted PEM private key (PKCS #8, or the traditional
/// EC or RSA forms).
public enum TLSPrivateKeySource: Sendable, Hashable {
    /// A PEM file.
    case file(String)
    /// PEM text.
    case pem([UInt8])
}

/// The certificate authorities a side trusts to issue its peer's certificate.
public enum TLSTrustRoots: Sendable, Hashable {
    /// The operating system's trust store (Debian: `/etc/ssl/certs`).
    case system
    /// A PEM file with one or more CA certificates.
    case file(String)
    /// PEM text with one or more CA certificates.
    case pem([UInt8])
}

/// Whether a server asks clients for a certificate.
public struct TLSClientAuthentication: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
        case none
        case optional
        case required
    }

    private let wrapped: Wrapped

    private init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
    }

    /// No client certificate is asked for.
    public static let none = Self(.none)
    /// A client certificate is asked for; a client without one is let in, a client whose
    /// certificate does not verify against the trust roots is refused.
    public static let optional = Self(.optional)
    /// A client without a certificate that verifies against the trust roots is refused.
    public static let required = Self(.required)

    var asksForCertificate: Bool { self.wrapped != .none }
    var isRequired: Bool { self.wrapped == .required }

    public var description: String {
        switch self.wrapped {
        case .none: "none"
        case .optional: "optional"
        case .required: "required"
        }
    }
}

/// How a client checks the server's certificate.
public struct TLSCertificateVerification: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
        case full
        case noHostnameVerification
        case none
    }

    private let wrapped: Wrapped

    private init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
    }

    /// The chain must verify against the trust roots and name the host the client connects to
    /// (a DNS name or an IP address in its subject alternative names).
    public static let full = Self(.full)
    /// The chain must verify against the trust roots; any name is accepted.
    public static let noHostnameVerification = Self(.noHostnameVerification)
    /// Nothing is verified. For tests and diagnostics only.
    public static let none = Self(.none)

    var verifiesChain: Bool { self.wrapped != .none }
    var verifiesHostname: Bool { self.wrapped == .full }

    public var description: String {
        switch self.wrapped {
        case .full: "full"
        case .noHostnameVerification: "no hostname verification"
        case .none: "none"
        }
    }
}
