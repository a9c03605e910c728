/// The key-stretching function (KSF) OPAQUE applies to the OPRF output on the client (RFC 9807
/// section 2.3): slow and memory-hard, so a stolen registration record costs an attacker dearly
/// per password guess. Client and server must agree on it; changing it means re-registering.
public protocol KeyStretchingFunction: Sendable {
    /// Stretch(msg): returns as many bytes as it is given (Nh = 64 for this configuration).
    func stretch(_ input: [UInt8]) throws(CryptoError) -> [UInt8]
}

/// The identity KSF (Stretch(msg) = msg) of RFC 9807's test vectors. Offers no protection:
/// for tests only.
public struct IdentityKeyStretching: KeyStretchingFunction {
    public init() {}

    public func stretch(_ input: [UInt8]) throws(CryptoError) -> [UInt8] { input }
}
