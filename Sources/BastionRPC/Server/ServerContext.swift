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

    /// The fields, in one shared box: every call's ``ServerContext`` holds its connection's
    /// peer, and a copy then costs one reference count rather than one per string.
    private final class Storage: Sendable {
        let address: String
        let ipAddress: String?
        let certificate: Certificate?

        init(address: String, ipAddress: String?, certificate: Certificate?) {
            self.address = address
            self.ipAddress = ipAddress
            self.certificate = certificate
        }
    }

    private var storage: Storage

    public init(address: String, ipAddress: String?, certificate: Certificate? = nil) {
        storage = Storage(address: address, ipAddress: ipAddress, certificate: certificate)
    }

    /// `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000` or `unix:/path`.
    public var address: String {
        get { storage.address }
        set { storage = Storage(address: newValue, ipAddress: ipAddress, certificate: certificate) }
    }

    /// The IP address alone (no port), for rate limits keyed by address; nil for Unix sockets.
    public var ipAddress: String? {
        get { storage.ipAddress }
        set { storage = Storage(address: address, ipAddress: newValue, certificate: certificate) }
    }

    public var certificate: Certificate? {
        get { storage.certificate }
        set { storage = Storage(address: address, ipAddress: ipAddress, certificate: newValue) }
    }

    public static func == (lhs: RPCPeer, rhs: RPCPeer) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.address == rhs.address && lhs.ipAddress == rhs.ipAddress && lhs.certificate == rhs.certificate)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(ipAddress)
        hasher.combine(certificate)
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

    /// What handlers and interceptors set during the call, under one lock. A struct, not tuples:
    /// a tuple in a `Mutex` is destroyed through the run time's generic tuple code, at every
    /// call's end.
    private struct CallState {
        var header = Metadata()
        var trailer = Metadata()
        var principal: RPCPrincipal?
        var attachments: [ObjectIdentifier: any Sendable] = [:]
    }

    private let state = Mutex(CallState())
    /// ``holdsOKTrailer`` and ``heldOKTrailer``: read on every call, so kept as flags rather than
    /// attachments (a dictionary lookup and a dynamic cast each); and whether response or trailer
    /// metadata was ever set, so that reading them, several times a call, takes no lock while
    /// they are empty.
    fileprivate let flags = Atomic<UInt8>(0)

    public init(method: MethodDescriptor, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: RPCPeer) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
    }

    /// Metadata sent in the response header (before the first response message).
    public var responseMetadata: Metadata {
        get { flag(Self.headerSetFlag) ? state.withLock { $0.header } : Metadata() }
        set {
            state.withLock { $0.header = newValue }
            setFlag(Self.headerSetFlag, true)
        }
    }

    /// Metadata sent in the trailer, when the call ends.
    public var trailerMetadata: Metadata {
        get { flag(Self.trailerSetFlag) ? state.withLock { $0.trailer } : Metadata() }
        set {
            state.withLock { $0.trailer = newValue }
            setFlag(Self.trailerSetFlag, true)
        }
    }

    /// Who the caller was established to be (by the policy engine's authentication step); nil for
    /// anonymous callers.
    public var principal: RPCPrincipal? {
        get { state.withLock { $0.principal } }
        set { state.withLock { $0.principal = newValue } }
    }

    /// Per-call values that interceptors pass to each other or to handlers, keyed by a type (its
    /// `Value` is what is stored), so that modules cannot collide.
    public subscript<Key: ServerContextKey>(_ key: Key.Type) -> Key.Value? {
        get { state.withLock { $0.attachments[ObjectIdentifier(key)] as? Key.Value } }
        set { state.withLock { $0.attachments[ObjectIdentifier(key)] = newValue } }
    }
}

extension ServerContext {
    /// Whether the client may hear that the call succeeded only after every interceptor returned.
    /// An interceptor that still has work to do after the handler (the policy engine appends the
    /// call to the audit log) sets it before calling `next`; the router then sends the handler's
    /// response without its OK trailer and sends the trailer once the interceptors are done, so an
    /// acknowledged call is never missing that work, even if the server dies right after.
    public var holdsOKTrailer: Bool {
        get { flag(Self.holdsFlag) }
        set { setFlag(Self.holdsFlag, newValue) }
    }

    /// Set by the router when it held back the OK trailer; ``RPCRouter/handle(path:transport:context:onUnexpectedError:)``
    /// sends it after the interceptors.
    @usableFromInline var heldOKTrailer: Bool {
        get { flag(Self.heldFlag) }
        set { setFlag(Self.heldFlag, newValue) }
    }

    private static let holdsFlag: UInt8 = 1
    private static let heldFlag: UInt8 = 2
    fileprivate static let headerSetFlag: UInt8 = 4
    fileprivate static let trailerSetFlag: UInt8 = 8

    fileprivate func flag(_ bit: UInt8) -> Bool {
        flags.load(ordering: .acquiring) & bit != 0
    }

    fileprivate func setFlag(_ bit: UInt8, _ value: Bool) {
        if value {
            flags.bitwiseOr(bit, ordering: .acquiringAndReleasing)
        } else {
            flags.bitwiseAnd(~bit, ordering: .acquiringAndReleasing)
        }
    }
}

/// Names a per-call value in ``ServerContext``.
public protocol ServerContextKey {
    associatedtype Value: Sendable
}

/// An authenticated caller.
public struct RPCPrincipal: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A client certificate issued by this server.
        case client
        /// A logged-in user (session token plus its context secret).
        case user
        /// The holder of a pending registration.
        case pendingRegistration = "pending_registration"
        /// An operator (local admin socket or operator certificate).
        case `operator`
    }

    public var kind: Kind
    /// Stable and unique within its kind: a certificate fingerprint, a user id, a registration
    /// handle. Per-principal rate limits are keyed by it.
    public var id: String
    /// The user the principal acts for, if any; what owned resources are compared with.
    public var userID: String?

    public init(kind: Kind, id: String, userID: String? = nil) {
        self.kind = kind
        self.id = id
        self.userID = userID
    }

    public var description: String { "\(kind.rawValue):\(id)" }
}
