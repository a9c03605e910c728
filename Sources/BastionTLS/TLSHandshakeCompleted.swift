/// The user event a TLS handler fires down the pipeline once its handshake has finished.
///
/// Handlers further down read the negotiated parameters from it, or later from the handler's
/// ``TLSHandler/handshakeResult``. On a server with mutual TLS, ``peerCertificate`` is the
/// client's verified certificate: the identity the RPC layer authorizes.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The ALPN protocol both sides agreed on, or nil when ALPN was off.
    public var alpn: String?
    /// The protocol version, as OpenSSL names it: `TLSv1.3` or `TLSv1.2`.
    public var protocolVersion: String
    /// The cipher suite's name, as OpenSSL names it, e.g. `TLS_AES_128_GCM_SHA256`.
    public var cipher: String
    /// The peer's leaf certificate, verified against the trust roots; nil when the peer sent none
    /// (a client of a server without mutual TLS) or was not verified (a client configured with
    /// `certificateVerification: .none`).
    public var peerCertificate: PeerCertificate?
    /// Whether the handshake resumed an earlier session (a session ticket).
    public var sessionReused: Bool

    public init(
        alpn: String?,
        protocolVersion: String,
        cipher: String,
        peerCertificate: PeerCertificate?,
        sessionReused: Bool = false
    ) {
        self.alpn = alpn
        self.protocolVersion = protocolVersion
        self.cipher = cipher
        self.peerCertificate = peerCertificate
        self.sessionReused = sessionReused
    }
}
