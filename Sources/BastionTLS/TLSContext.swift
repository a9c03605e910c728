import Synchronization

/// The shared, reloadable state of one side's TLS connections: an OpenSSL `SSL_CTX` built from
/// a ``TLSConfiguration``.
///
/// Make one per listening server (or per client configuration) and hand it to every
/// ``TLSServerHandler`` or ``TLSClientHandler``; it is safe to use from every event loop.
/// ``reload(certificateChain:privateKey:)`` swaps in a new certificate without a restart: each
/// connection takes the context current when its handler is made, so new connections present
/// the new certificate and existing ones keep theirs.
public final class TLSContext: Sendable {
    private let current: Mutex<SSLContextBox>

    /// Builds the context; throws ``TLSError`` when a file can't be read or the configuration
    /// is unusable (a key that doesn't match its certificate, no trust roots for mutual TLS…).
    public init(configuration: TLSConfiguration) throws(TLSError) {
        self.current = Mutex(try SSLContextBox(configuration: configuration))
    }

    /// The configuration connections made now use.
    public var configuration: TLSConfiguration {
        self.current.withLock { $0.configuration }
    }

    /// Replaces the certificate chain and key for new connections; everything else stays.
    ///
    /// The new chain and key are read and checked before anything changes: on error the old
    /// ones stay in use. Session tickets issued before the reload stay valid.
    public func reload(certificateChain: TLSCertificateSource, privateKey: TLSPrivateKeySource) throws(TLSError) {
        var configuration = self.configuration
        configuration.certificateChain = certificateChain
        configuration.privateKey = privateKey
        try self.reload(configuration: configuration)
    }

    /// Replaces the whole configuration for new connections (the role must stay the same).
    public func reload(configuration: TLSConfiguration) throws(TLSError) {
        let previous = self.box
        guard previous.configuration.role == configuration.role else {
            throw TLSError(
                code: .configurationInvalid,
                message:
                    "a \(previous.configuration.role) context cannot be reloaded as a \(configuration.role) context"
            )
        }
        // Built outside the lock: parsing PEM and building an SSL_CTX takes a while, and new
        // connections keep being accepted meanwhile.
        let replacement = try SSLContextBox(configuration: configuration, previous: previous)
        self.current.withLock { $0 = replacement }
    }

    /// The context current now; a handler keeps it for its connection's lifetime.
    var box: SSLContextBox {
        self.current.withLock { $0 }
    }
}
