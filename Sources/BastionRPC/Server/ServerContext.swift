import Synchronization

/// Who is calling: the peer's address and, under mutual TLS, its verified certificate.
public struct RPCPeer: Sendable, Hashable, CustomStringConvertible {
    public struct Certificate: Sendable, Hashable {
        public var subject: String
        public var issuer: String
        public var commonName: String?
        /// SHA-256 of the DER encoding, in lower-case hex.
        public var fingerprint: String
        public var derBytes: [UInt8]

        public init(subject: String, issuer: String, commonName: String?, fingerprint: String, derBytes: [UInt8]) {
            self.subject = subject
            self.issuer = issuer
            self.commonName = commonName
            self.fingerprint = fingerprint
            self.derBytes = derBytes
        }
    }

    /// `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000` or `unix:/path`.
    public var address: String
    /// The IP address alone (no port), for rate limits keyed by address; nil for Unix sockets.
    public var ipAddress: String?
    public var certificate: Certificate?

    public init(address: String, ipAddress: String?, certificate: Certificate? = nil) {
        self.address = address
        self.ipAddress = ipAddress
        self.certificate = certificate
    }

    public var description: String { address }
}

/// What a handler knows about its call, and where it puts response metadata.
public final class ServerContext: Sendable {
    public let method: MethodDescriptor
    public let requestMetadata: Metadata
    /// When the client stops waiting (its timeout, capped by the server's).
    public let deadline: ContinuousClock.Instant?
    public let peer: RPCPeer

    private let responseState = Mutex<(header: Metadata, trailer: Metadata)>((Metadata(), Metadata()))

    public init(method: MethodDescriptor, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: RPCPeer) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
    }

    /// Metadata sent in the response header (before the first response message).
    public var responseMetadata: Metadata {
        get { responseState.withLock { $0.header } }
        set { responseState.withLock { $0.header = newValue } }
    }

    /// Metadata sent in the trailer, when the call ends.
    public var trailerMetadata: Metadata {
        get { responseState.withLock { $0.trailer } }
        set { responseState.withLock { $0.trailer = newValue } }
    }
}
