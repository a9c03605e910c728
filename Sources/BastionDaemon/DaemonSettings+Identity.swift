import BastionIdentity
import BastionStore
import BastionTLS
import Logging

extension DaemonSettings {
    /// The authentication and second-factor services and their verifiers, or nil when no client
    /// CA key is at hand to issue client certificates with (then registration, login and second
    /// factors are not served).
    func identityService(store: Store, lifecycle: (any ClientLifecycle)? = nil, logger: Logger) throws -> IdentityServices? {
        let authority: CertificateAuthority
        if let clientCA, let clientCAKey {
            authority = try CertificateAuthority(certificatePath: clientCA, privateKeyPath: clientCAKey)
        } else if dev, cert == nil || key == nil, clientCA == nil, !plaintext {
            // tlsContext made the development CA already.
            let files = DevelopmentCertificates.Files(directory: dataDir + "/dev-certs")
            authority = try CertificateAuthority(
                certificatePath: files.caCertificate,
                privateKeyPath: files.caPrivateKey
            )
        } else {
            logger.notice("registration and login are off: no client CA key (--client-ca-key, or --dev)")
            return nil
        }
        let tokens = try SessionTokens(store: store)
        let passwords = try OpaquePasswordServer(setup: try OpaquePasswordServer.loadOrCreateSetup(in: store))
        let service = AuthService(
            store: store,
            tokens: tokens,
            authority: authority,
            passwords: passwords,
            lifecycle: lifecycle,
            logger: logger
        )
        // TOTP secrets are sealed under a key kept beside the store, not in it (docs/IDENTITY.md).
        let factorKey = try FactorKey.loadOrCreate(path: dataDir + "/factor.key")
        var twoFactorConfiguration = twoFactorConfiguration()
        twoFactorConfiguration.passkeys = webAuthn.configuration
        let twoFactor = TwoFactorService(
            store: store,
            key: factorKey,
            configuration: twoFactorConfiguration,
            logger: logger
        )
        return IdentityServices(
            service: service,
            verifier: IdentityVerifier(store: store, tokens: tokens),
            twoFactor: twoFactor,
            secondFactor: twoFactor.verifier
        )
    }
}

/// What `bastiond` serves for identity, and what its policy engine asks.
struct IdentityServices {
    var service: AuthService
    /// Who holds a session, a pending registration or a registered client.
    var verifier: IdentityVerifier
    var twoFactor: TwoFactorService
    /// Redeems second-factor tokens for methods whose policy asks for one.
    var secondFactor: TwoFactorVerifier
}
