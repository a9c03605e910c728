import BastionIdentity
import BastionStore
import BastionTLS
import Logging

extension DaemonSettings {
    /// The authentication service and its verifier, or nil when no client CA key is at hand to
    /// issue client certificates with (then registration and login are not served).
    func identityService(store: Store, logger: Logger) throws -> (service: AuthService, verifier: IdentityVerifier)? {
        let authority: CertificateAuthority
        if let clientCA, let clientCAKey {
            authority = try CertificateAuthority(certificatePath: clientCA, privateKeyPath: clientCAKey)
        } else if dev, cert == nil || key == nil, clientCA == nil, !plaintext {
            // tlsContext made the development CA already.
            let files = DevelopmentCertificates.Files(directory: dataDir + "/dev-certs")
            authority = try CertificateAuthority(certificatePath: files.caCertificate, privateKeyPath: files.caPrivateKey)
        } else {
            logger.notice("registration and login are off: no client CA key (--client-ca-key, or --dev)")
            return nil
        }
        let tokens = try SessionTokens(store: store)
        let passwords = try OpaquePasswordServer(setup: try OpaquePasswordServer.loadOrCreateSetup(in: store))
        let service = AuthService(store: store, tokens: tokens, authority: authority, passwords: passwords, logger: logger)
        return (service, IdentityVerifier(store: store, tokens: tokens))
    }
}
